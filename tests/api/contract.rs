//! The committed contract (`openapi/openapi.json`) is what the service generates and serves.
//! Regenerate it with `cargo run -- openapi > openapi/openapi.json` (or run this test with
//! HEARTH_UPDATE_OPENAPI=1).

use serde_json::Value;

use crate::harness::*;

fn generated() -> Value {
    serde_json::to_value(hearth::api::openapi()).unwrap()
}

#[actix_web::test]
async fn committed_contract_matches_the_generated_one() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json");
    let generated = generated();
    if std::env::var("HEARTH_UPDATE_OPENAPI").is_ok_and(|v| v == "1") {
        std::fs::write(
            path,
            serde_json::to_string_pretty(&generated).unwrap() + "\n",
        )
        .unwrap();
    }
    let committed: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("openapi/openapi.json exists"))
            .expect("openapi/openapi.json is JSON");
    let mut diffs = vec![];
    json_diff("", &committed, &generated, &mut diffs);
    assert!(
        diffs.is_empty(),
        "openapi/openapi.json differs from what the service generates ({} differences; \
         the first below, `-` committed, `+` generated); regenerate it with \
         `cargo run -- openapi > openapi/openapi.json` and review the diff:\n{}",
        diffs.len(),
        diffs
            .iter()
            .take(40)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// The differences between two JSON documents, one line per JSON pointer.
fn json_diff(at: &str, a: &Value, b: &Value, out: &mut Vec<String>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                let p = format!("{at}/{}", k.replace('~', "~0").replace('/', "~1"));
                match (x.get(k), y.get(k)) {
                    (Some(l), Some(r)) => json_diff(&p, l, r, out),
                    (Some(l), None) => out.push(format!("- {p}: {l}")),
                    (None, Some(r)) => out.push(format!("+ {p}: {r}")),
                    (None, None) => {}
                }
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (l, r)) in x.iter().zip(y).enumerate() {
                json_diff(&format!("{at}/{i}"), l, r, out);
            }
        }
        _ if a != b => {
            out.push(format!("- {at}: {a}"));
            out.push(format!("+ {at}: {b}"));
        }
        _ => {}
    }
}

#[test]
fn the_contract_diff_names_what_changed() {
    let a = serde_json::json!({"paths": {"/x": {"get": {"summary": "a"}}}, "tags": [1, 2]});
    let b =
        serde_json::json!({"paths": {"/x": {"get": {"summary": "b"}, "post": {}}}, "tags": [1, 2]});
    let mut d = vec![];
    json_diff("", &a, &b, &mut d);
    assert_eq!(
        d,
        vec![
            "- /paths/~1x/get/summary: \"a\"",
            "+ /paths/~1x/get/summary: \"b\"",
            "+ /paths/~1x/post: {}"
        ]
    );
}

#[actix_web::test]
async fn served_contract_is_the_generated_one() {
    let app = spawn().await;
    let r = app
        .send(Call {
            method: "GET",
            path: "/openapi.json",
            token: None,
            body: None,
            headers: vec![],
        })
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, generated());
}

#[actix_web::test]
async fn contract_shape() {
    let doc = generated();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    assert_eq!(doc["info"]["title"], "Hearth");
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    assert!(doc["components"]["schemas"]["Problem"].is_object());
    let mut operations = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            operations += 1;
            let responses = op["responses"]
                .as_object()
                .unwrap_or_else(|| panic!("{method} {path} has responses"));
            for (code, resp) in responses {
                if code.starts_with('4') || code.starts_with('5') {
                    let schema = &resp["content"]["application/problem+json"]["schema"]["$ref"];
                    assert_eq!(
                        schema, "#/components/schemas/Problem",
                        "{method} {path} {code}"
                    );
                }
            }
        }
    }
    assert!(operations >= 12);
}
