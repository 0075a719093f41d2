//! Input at the edge, driven by the contract: every string a request body, path or query may
//! carry (as `openapi/openapi.json` lists them) is sent a NUL, an over-long text and a lone
//! surrogate, and every date a year past 9999; each answers a 4xx problem document naming the
//! field, never a 5xx. A new field or parameter is covered without editing this test.

use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use hearth::consent::Role;
use serde_json::{json, Map, Value};
use uuid::Uuid;

use crate::harness::*;

/// Longer than any text field accepts (the edge bound is 10,000 characters).
const TOO_LONG: usize = 10_001;
/// Longer than any path segment or query value accepts.
const TOO_LONG_PARAM: usize = 2_000;
const SURROGATE_MARK: &str = "__lone_surrogate__";

fn contract() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Follows `$ref`s into `components`.
fn resolve<'a>(doc: &'a Value, s: &'a Value) -> &'a Value {
    match s.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let ptr = r.trim_start_matches('#');
            resolve(
                doc,
                doc.pointer(ptr).unwrap_or_else(|| panic!("{r} resolves")),
            )
        }
        None => s,
    }
}

/// The schema's types (`type` may be a string or a list); empty when it has none.
fn types(s: &Value) -> Vec<&str> {
    match &s["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    }
}

/// The alternatives of a schema that is a `oneOf`/`anyOf`/`allOf`, else itself.
fn alternatives<'a>(doc: &'a Value, s: &'a Value) -> Vec<&'a Value> {
    let s = resolve(doc, s);
    for k in ["oneOf", "anyOf", "allOf"] {
        if let Some(alts) = s[k].as_array() {
            return alts
                .iter()
                .flat_map(|a| alternatives(doc, a))
                .filter(|a| types(a) != ["null"])
                .collect();
        }
    }
    vec![s]
}

/// Ids of a small world the generated bodies and paths refer to.
struct World {
    coc: String,
    agency: Uuid,
    project: Uuid,
    client: Uuid,
    enrollment: Uuid,
}

impl World {
    fn uuid_for(&self, field: &str) -> Uuid {
        match field {
            "agency_id" => self.agency,
            "project_id" => self.project,
            "client_id" => self.client,
            "enrollment_id" => self.enrollment,
            _ => self.agency,
        }
    }
}

/// A minimal valid value for a schema: required properties, the first enum value, formats.
fn minimal(doc: &Value, s: &Value, field: &str, world: &World) -> Value {
    let alts = alternatives(doc, s);
    let s = alts[0];
    if let Some(first) = s["enum"].as_array().and_then(|e| e.first()) {
        return first.clone();
    }
    let ts = types(s);
    let t = ts
        .iter()
        .copied()
        .find(|t| *t != "null")
        .unwrap_or(if s["properties"].is_object() {
            "object"
        } else {
            "string"
        });
    match t {
        "object" => {
            let mut out = Map::new();
            let required: Vec<&str> = s["required"]
                .as_array()
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            if let Some(props) = s["properties"].as_object() {
                for (k, p) in props {
                    if required.contains(&k.as_str()) {
                        out.insert(k.clone(), minimal(doc, p, k, world));
                    }
                }
            }
            Value::Object(out)
        }
        "array" => {
            let min = s["minItems"].as_u64().unwrap_or(0);
            Value::Array(
                (0..min)
                    .map(|_| minimal(doc, &s["items"], field, world))
                    .collect(),
            )
        }
        "integer" | "number" => json!(s["minimum"].as_i64().unwrap_or(1)),
        "boolean" => json!(false),
        _ => match s["format"].as_str() {
            Some("uuid") => json!(world.uuid_for(field)),
            Some("date") => json!("2024-06-01"),
            Some("date-time") => json!("2024-06-01T12:00:00Z"),
            _ if field == "coc_code" || field.ends_with("coc_codes") => json!(world.coc),
            _ if field == "code" => json!(random_coc_code()),
            _ => json!("Test"),
        },
    }
}

/// One place in a body where text goes: its path (for `errors[].field`) and whether it is a date.
#[derive(Clone, Debug)]
struct Slot {
    steps: Vec<Step>,
    date: bool,
    max_length: Option<usize>,
}

#[derive(Clone, Debug)]
enum Step {
    Key(String),
    Index,
}

impl Slot {
    fn field(&self) -> String {
        let mut out = String::new();
        for s in &self.steps {
            match s {
                Step::Key(k) => {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    out.push_str(k);
                }
                Step::Index => out.push_str("[0]"),
            }
        }
        out
    }
}

/// Every place in a body schema where a string goes, through objects, arrays and alternatives.
fn slots(doc: &Value, s: &Value, steps: &mut Vec<Step>, out: &mut Vec<Slot>, depth: usize) {
    assert!(depth < 12, "schema nests too deeply at {steps:?}");
    for alt in alternatives(doc, s) {
        let ts = types(alt);
        if ts.contains(&"string") {
            out.push(Slot {
                steps: steps.clone(),
                date: alt["format"] == "date",
                max_length: alt["maxLength"].as_u64().map(|m| m as usize),
            });
        }
        if let Some(props) = alt["properties"].as_object() {
            for (k, p) in props {
                steps.push(Step::Key(k.clone()));
                slots(doc, p, steps, out, depth + 1);
                steps.pop();
            }
        }
        if ts.contains(&"array") {
            steps.push(Step::Index);
            slots(doc, &alt["items"], steps, out, depth + 1);
            steps.pop();
        }
    }
}

/// The body with `value` at the slot, creating the objects and arrays on the way.
fn with_value(mut body: Value, steps: &[Step], value: Value) -> Value {
    fn put(at: &mut Value, steps: &[Step], value: Value) {
        match steps.split_first() {
            None => *at = value,
            Some((Step::Key(k), rest)) => {
                if !at.is_object() {
                    *at = json!({});
                }
                let next = at
                    .as_object_mut()
                    .unwrap()
                    .entry(k.clone())
                    .or_insert(Value::Null);
                put(next, rest, value);
            }
            Some((Step::Index, rest)) => {
                let mut item = Value::Null;
                put(&mut item, rest, value);
                *at = Value::Array(vec![item]);
            }
        }
    }
    put(&mut body, steps, value);
    body
}

fn path_for(template: &str, world: &World, bad: Option<(&str, &str)>) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let end = rest[start..].find('}').unwrap() + start;
        let name = &rest[start + 1..end];
        let value = match bad {
            Some((n, v)) if n == name => v.to_string(),
            _ => match name {
                "code" => world.coc.clone(),
                "id" if template.starts_with("/v1/enrollments") => world.enrollment.to_string(),
                "id" if template.starts_with("/v1/agencies") => world.agency.to_string(),
                "id" if template.starts_with("/v1/projects") => world.project.to_string(),
                "id" => world.client.to_string(),
                _ => Uuid::new_v4().to_string(),
            },
        };
        out.push_str(&value);
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

#[actix_web::test]
async fn every_string_in_the_contract_refuses_nul_overlong_text_and_lone_surrogates() {
    let app = spawn().await;
    let coc = app.coc(json!({})).await;
    let agency = app.agency(&coc, true).await;
    let project = app.project(agency, 1).await;
    let w = app.token("w", &[Role::CaseWorker], Some(agency));
    let client: Uuid = app
        .post(
            "/v1/clients",
            &w,
            json!({"identity_mode": "identified", "first_name": "Ana", "last_name": "Rivera"}),
        )
        .await
        .ok(201)["client"]["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let enrollment: Uuid = app
        .post(
            &format!("/v1/clients/{client}/enrollments"),
            &w,
            json!({"project_id": project, "entry_date": "2024-06-01", "relationship_to_hoh": 1}),
        )
        .await
        .ok(201)["enrollment"]["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let world = World {
        coc,
        agency,
        project,
        client,
        enrollment,
    };
    let doc = contract();
    let send = |method: &str, path: &str, body: Option<String>| {
        let req = TestRequest::default()
            .method(method.parse().unwrap())
            .uri(path)
            .insert_header(("Authorization", format!("Bearer {}", app.admin)))
            .insert_header(("X-Access-Reason", "edge test"))
            .insert_header(("If-Match", "*"));
        match body {
            Some(b) => req
                .insert_header(("Content-Type", "application/json"))
                .set_payload(b)
                .to_request(),
            None => req.to_request(),
        }
    };
    let (mut bodies, mut params, mut sent) = (0, 0, 0);
    for (template, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let method = method.to_uppercase();
            let what = format!("{method} {template}");
            // Body fields.
            if let Some(schema) = op.pointer("/requestBody/content/application~1json/schema") {
                bodies += 1;
                let base = minimal(&doc, schema, "", &world);
                let mut found = Vec::new();
                slots(&doc, schema, &mut Vec::new(), &mut found, 0);
                assert!(!found.is_empty(), "{what}: a body with no text field");
                let path = path_for(template, &world, None);
                for slot in found {
                    let field = slot.field();
                    let long = slot.max_length.map_or(TOO_LONG, |m| m + 1);
                    let mut cases = vec![
                        ("NUL", Value::String("a\u{0}b".into())),
                        ("long", Value::String("x".repeat(long))),
                        ("surrogate", Value::String(SURROGATE_MARK.into())),
                    ];
                    if slot.date {
                        cases.push(("far date", Value::String("+10000-01-01".into())));
                        // Shapes chrono reads and the contract's `format: date` does not.
                        for d in ["0000-01-01", "-2026-01-01", "+2026-01-01", "2026-1-1"] {
                            cases.push(("misshapen date", Value::String(d.into())));
                        }
                    }
                    for (case, value) in cases {
                        let body = with_value(base.clone(), &slot.steps, value).to_string();
                        let body = body.replace(&format!("\"{SURROGATE_MARK}\""), "\"\\ud800\"");
                        let r = app.raw(send(&method, &path, Some(body))).await;
                        sent += 1;
                        let why = format!("{what} {case} in {field}");
                        assert!(r.status.is_client_error(), "{why}: {}", r.status);
                        assert!(
                            listed(op, r.status),
                            "{why}: {} is not in the contract",
                            r.status
                        );
                        assert_eq!(
                            r.header("content-type").as_deref(),
                            Some("application/problem+json"),
                            "{why}"
                        );
                        if r.status == StatusCode::PAYLOAD_TOO_LARGE {
                            continue;
                        }
                        assert_eq!(r.status, 422, "{why}: {}", r.body);
                        assert!(
                            r.error_fields().contains(&field),
                            "{why}: errors name {:?}",
                            r.error_fields()
                        );
                        assert!(
                            !r.body.to_string().contains("xxxxxxxxxx"),
                            "{why}: the value is echoed"
                        );
                    }
                }
            }
            // Path and query parameters that are strings (ids included).
            for p in op["parameters"].as_array().into_iter().flatten() {
                let place = p["in"].as_str().unwrap();
                if !matches!(place, "path" | "query")
                    || !types(resolve(&doc, &p["schema"])).contains(&"string")
                {
                    continue;
                }
                params += 1;
                let name = p["name"].as_str().unwrap();
                let long = "a".repeat(TOO_LONG_PARAM);
                for (case, bad) in [
                    ("NUL", "a%00b"),
                    ("long", long.as_str()),
                    ("surrogate", "%ED%A0%80"),
                    ("control byte", "a%01b"),
                ] {
                    let path = if place == "path" {
                        path_for(template, &world, Some((name, bad)))
                    } else {
                        format!("{}?{name}={bad}", path_for(template, &world, None))
                    };
                    let body = op.get("requestBody").map(|_| "{}".to_string());
                    let r = app.raw(send(&method, &path, body)).await;
                    sent += 1;
                    let why = format!("{what} {case} in {place} parameter {name}");
                    r.problem(400);
                    assert!(listed(op, r.status), "{why}: 400 is not in the contract");
                    assert!(
                        !r.raw.windows(20).any(|w| w == &long.as_bytes()[..20]),
                        "{why}"
                    );
                }
            }
        }
    }
    assert!(
        bodies >= 15 && params >= 30,
        "{bodies} bodies, {params} parameters"
    );
    eprintln!("edge: {bodies} bodies, {params} parameters, {sent} requests");
}

/// Whether the operation's responses list this status.
fn listed(op: &Value, status: StatusCode) -> bool {
    op["responses"].get(status.as_str()).is_some()
}

/// What every operation answers to a body that is not JSON, a `limit` of 0 and a cursor this
/// service did not issue is what its contract lists.
#[actix_web::test]
async fn the_contract_lists_what_the_edge_answers() {
    let app = spawn().await;
    let doc = contract();
    let (mut bodies, mut lists) = (0, 0);
    for (template, item) in doc["paths"].as_object().unwrap() {
        let path = template
            .replace("{code}", "XX-000")
            .split('/')
            .map(|seg| {
                if seg.starts_with('{') {
                    Uuid::nil().to_string()
                } else {
                    seg.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join("/");
        for (method, op) in item.as_object().unwrap() {
            let method = method.to_uppercase();
            let req = || {
                TestRequest::default()
                    .method(method.parse().unwrap())
                    .insert_header(("Authorization", format!("Bearer {}", app.admin)))
                    .insert_header(("X-Access-Reason", "edge test"))
                    .insert_header(("If-Match", "*"))
            };
            if op.get("requestBody").is_some() {
                bodies += 1;
                let r = app
                    .raw(
                        req()
                            .uri(&path)
                            .insert_header(("Content-Type", "text/plain"))
                            .set_payload("{}")
                            .to_request(),
                    )
                    .await;
                r.problem(415);
                assert!(
                    listed(op, r.status),
                    "{method} {template}: 415 is not listed"
                );
            }
            let params = op["parameters"].as_array().cloned().unwrap_or_default();
            if params
                .iter()
                .any(|p| p["name"] == "limit" && p["in"] == "query")
            {
                lists += 1;
                let limit = params.iter().find(|p| p["name"] == "limit").unwrap();
                let over = format!("limit={}", limit["schema"]["maximum"].as_u64().unwrap() + 1);
                // Every list, the priority list's signed cursors included: a 422 naming the
                // parameter.
                for q in ["limit=0", over.as_str(), "cursor=not-a-cursor"] {
                    let r = app
                        .raw(req().uri(&format!("{path}?{q}")).to_request())
                        .await;
                    r.problem(422);
                    let name = q.split('=').next().unwrap().to_string();
                    assert_eq!(r.error_fields(), vec![name], "{method} {template}?{q}");
                    assert!(
                        listed(op, r.status),
                        "{method} {template}?{q}: 422 is not listed"
                    );
                    let limit = params.iter().find(|p| p["name"] == "limit").unwrap();
                    assert_eq!(limit["schema"]["minimum"], 1, "{method} {template}");
                }
            }
        }
    }
    assert!(bodies >= 15 && lists >= 4, "{bodies} bodies, {lists} lists");
    let search = &doc["components"]["schemas"]["ClientSearch"]["properties"]["limit"];
    assert_eq!(search["minimum"], 1);
    let r = app
        .post(
            "/v1/clients/search",
            &app.admin,
            json!({"last_name": "Rivera", "limit": 0}),
        )
        .await;
    r.problem(422);
}

#[actix_web::test]
async fn document_downloads_say_nosniff() {
    let app = spawn().await;
    let coc = app.coc(json!({})).await;
    let agency = app.agency(&coc, true).await;
    let w = app.token("w", &[Role::CaseWorker], Some(agency));
    let client = app
        .post(
            "/v1/clients",
            &w,
            json!({"identity_mode": "identified", "first_name": "Ana", "last_name": "Rivera"}),
        )
        .await
        .ok(201)["client"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = app
        .post(
            &format!("/v1/clients/{client}/documents"),
            &w,
            json!({"file_name": "note.txt", "content_type": "text/plain", "content_base64": "aGVsbG8="}),
        )
        .await;
    let location = r.ok(201);
    let url = r.header("location").unwrap_or_else(|| panic!("{location}"));
    let r = app.get(&url, &w).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.raw, b"hello");
    assert_eq!(
        r.header("x-content-type-options").as_deref(),
        Some("nosniff")
    );
    // The contract lists the content type the download answers.
    let doc = contract();
    let listed = &doc["paths"]["/v1/clients/{id}/documents/{document_id}/content"]["get"]
        ["responses"]["200"]["content"];
    let answered = r.header("content-type").unwrap();
    assert!(
        listed.get(&answered).is_some(),
        "{answered} is not in {listed}"
    );
}

#[actix_web::test]
async fn trailing_bytes_after_the_json_value_are_refused() {
    let app = spawn().await;
    let coc = random_coc_code();
    for trailing in ["x", "{}", "\u{0}", "]"] {
        let body = format!(r#"{{"code": "{coc}", "name": "Trailing CoC"}}{trailing}"#);
        let r = app
            .raw(
                TestRequest::post()
                    .uri("/v1/cocs")
                    .insert_header(("Authorization", format!("Bearer {}", app.admin)))
                    .insert_header(("Content-Type", "application/json"))
                    .set_payload(body)
                    .to_request(),
            )
            .await;
        r.problem(400);
    }
    // Nothing was created.
    app.get(&format!("/v1/cocs/{coc}"), &app.admin)
        .await
        .problem(404);
    // Whitespace after the value is fine.
    let body = format!("{{\"code\": \"{coc}\", \"name\": \"Trailing CoC\"}}\n\t ");
    let r = app
        .raw(
            TestRequest::post()
                .uri("/v1/cocs")
                .insert_header(("Authorization", format!("Bearer {}", app.admin)))
                .insert_header(("Content-Type", "application/json"))
                .set_payload(body)
                .to_request(),
        )
        .await;
    r.ok(201);
}

#[actix_web::test]
async fn unknown_keys_are_named_only_when_plain() {
    let app = spawn().await;
    for (key, expected) in [
        ("nickname", "nickname"),
        ("123-45-6789", "*"),
        ("Ana Rivera", "*"),
        (&"k".repeat(65) as &str, "*"),
    ] {
        let mut body = json!({"code": random_coc_code(), "name": "A CoC"});
        body[key] = json!(1);
        let r = app.post("/v1/cocs", &app.admin, body).await;
        r.problem(422);
        assert_eq!(r.error_fields(), vec![expected.to_string()], "{key}");
        assert!(!r.body.to_string().contains(key) || key == "nickname");
    }
}

#[actix_web::test]
async fn head_answers_as_get_without_a_body_and_every_response_says_nosniff() {
    let app = spawn().await;
    let head = |path: &str, token: Option<&str>| {
        let mut req = TestRequest::default()
            .method(actix_web::http::Method::HEAD)
            .uri(path);
        if let Some(t) = token {
            req = req.insert_header(("Authorization", format!("Bearer {t}")));
        }
        req.to_request()
    };
    for (path, token, status) in [
        ("/healthz", None, 200),
        ("/openapi.json", None, 200),
        ("/v1/cocs", Some(app.admin.as_str()), 200),
        ("/v1/cocs", None, 401),
        (
            "/v1/clients/00000000-0000-4000-8000-000000000000",
            Some(app.admin.as_str()),
            404,
        ),
    ] {
        let r = app.raw(head(path, token)).await;
        assert_eq!(r.status, status, "HEAD {path}");
        assert!(r.raw.is_empty(), "HEAD {path} has no body");
        assert_eq!(
            r.header("x-content-type-options").as_deref(),
            Some("nosniff")
        );
        let get = app
            .send(Call {
                method: "GET",
                path,
                token,
                body: None,
                headers: vec![],
            })
            .await;
        assert_eq!(get.status, status, "GET {path}");
        assert_eq!(
            r.header("content-type"),
            get.header("content-type"),
            "{path}"
        );
        assert_eq!(
            get.header("x-content-type-options").as_deref(),
            Some("nosniff")
        );
    }
    // POSTs say nosniff too.
    let r = app.post("/v1/cocs", &app.admin, json!({})).await;
    assert_eq!(
        r.header("x-content-type-options").as_deref(),
        Some("nosniff")
    );
}

#[actix_web::test]
async fn request_ids_are_opaque_bounded_tokens_or_replaced() {
    let app = spawn().await;
    for (sent, kept) in [
        ("a1-2b_3.c", false),
        ("tenant:42", false),
        ("123 45 6789", false),
        ("a/b", false),
        (&"a1".repeat(33) as &str, false),
        (&"a1".repeat(32) as &str, false),
        (&"a1".repeat(16) as &str, true),
        // A name or an SSN spelled out between separators.
        ("M.a.r.i.a_L.o.p.e.z", false),
        ("2x1x9x0x9x1x2x3x4", false),
        (
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            true,
        ),
        ("4bf92f3577b34da6a3ce929d0e0e4736", true),
        // Tester: a client's name was echoed, kept in the audit row and logged. A run of
        // letters could be a word or a name: replaced.
        ("Bartholomew-Kettering", false),
        ("abc-123_x.y", false),
        ("r".repeat(10).as_str(), false),
        // Where an SSN, a date of birth or a phone number could hide: replaced, never logged
        // or kept in an audit row.
        ("618-23-4471", false),
        ("1983-07-22", false),
        ("ssn618234471x", false),
        ("0190c1b2-9932-7000-8000-000000009932", true),
    ] {
        let r = app
            .send(Call {
                method: "GET",
                path: "/healthz",
                token: None,
                body: None,
                headers: vec![("X-Request-Id", sent.to_string())],
            })
            .await;
        let echoed = r.header("x-request-id").unwrap();
        assert_eq!(echoed == sent, kept, "{sent}");
        if !kept {
            assert!(echoed.parse::<Uuid>().is_ok(), "{echoed}");
        }
    }
}

/// One typed place in a body: its path, the JSON types it takes, and its declared range.
#[derive(Clone, Debug)]
struct Leaf {
    steps: Vec<Step>,
    /// The nearest enclosing `oneOf` (a tagged enum): serde names it for errors inside it.
    tagged: Option<String>,
    types: Vec<String>,
    minimum: Option<f64>,
    maximum: Option<f64>,
}

impl Leaf {
    fn field(&self) -> String {
        Slot {
            steps: self.steps.clone(),
            date: false,
            max_length: None,
        }
        .field()
    }

    fn takes(&self, t: &str) -> bool {
        self.types.iter().any(|x| x == t) || (t == "number" && self.takes_integer())
    }

    fn takes_integer(&self) -> bool {
        self.types.iter().any(|x| x == "integer")
    }
}

/// Every place in a body schema with a type, through objects, arrays and alternatives (one leaf
/// per path, its types the union of its alternatives').
fn leaves(
    doc: &Value,
    s: &Value,
    steps: &mut Vec<Step>,
    tagged: Option<String>,
    out: &mut Vec<Leaf>,
    depth: usize,
) {
    assert!(depth < 12, "schema nests too deeply at {steps:?}");
    let alts = alternatives(doc, s);
    let here = Slot {
        steps: steps.clone(),
        date: false,
        max_length: None,
    }
    .field();
    let inner = if resolve(doc, s)["oneOf"].is_array() {
        Some(here)
    } else {
        tagged.clone()
    };
    let mut leaf = Leaf {
        steps: steps.clone(),
        tagged,
        types: vec![],
        minimum: None,
        maximum: None,
    };
    for alt in &alts {
        let mut ts: Vec<String> = types(alt).into_iter().map(str::to_string).collect();
        if ts.is_empty() && alt["enum"].is_array() {
            ts.push("string".into());
        }
        if ts.is_empty() && alt["properties"].is_object() {
            ts.push("object".into());
        }
        leaf.types.extend(ts);
        leaf.minimum = leaf.minimum.or(alt["minimum"].as_f64());
        leaf.maximum = leaf.maximum.or(alt["maximum"].as_f64());
    }
    leaf.types.retain(|t| t != "null");
    leaf.types.sort();
    leaf.types.dedup();
    if !steps.is_empty() && !leaf.types.is_empty() {
        out.push(leaf);
    }
    for alt in alts {
        if let Some(props) = alt["properties"].as_object() {
            for (k, p) in props {
                steps.push(Step::Key(k.clone()));
                leaves(doc, p, steps, inner.clone(), out, depth + 1);
                steps.pop();
            }
        }
        if types(alt).contains(&"array") {
            steps.push(Step::Index);
            leaves(doc, &alt["items"], steps, inner.clone(), out, depth + 1);
            steps.pop();
        }
    }
}

/// Every number of every request body in the contract is bounded: a huge, a negative huge and an
/// unrepresentable number, a fraction where an integer goes, and the declared range's neighbours
/// answer 422 naming the field; the range's ends themselves never answer a 5xx and, written,
/// read back. Every field refuses a value of another JSON type with 422 naming it (an enum word
/// sent as a number included), and a non-object body is a 422 too. Every typed query parameter
/// (integer, boolean, UUID, date, enumeration) refuses a malformed value with 422 naming it.
#[actix_web::test]
async fn every_number_is_bounded_and_every_wrong_type_is_named() {
    let app = spawn().await;
    let coc = app.coc(json!({})).await;
    let agency = app.agency(&coc, true).await;
    let project = app.project(agency, 1).await;
    let w = app.token("w", &[Role::CaseWorker], Some(agency));
    // Every role, with an agency: what a role may not do never hides what a field refuses.
    let all = app.token("all-roles", Role::ALL, Some(agency));
    let client: Uuid = app
        .post(
            "/v1/clients",
            &w,
            json!({"identity_mode": "identified", "first_name": "Ana", "last_name": "Rivera"}),
        )
        .await
        .ok(201)["client"]["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let enrollment: Uuid = app
        .post(
            &format!("/v1/clients/{client}/enrollments"),
            &w,
            json!({"project_id": project, "entry_date": "2024-06-01", "relationship_to_hoh": 1}),
        )
        .await
        .ok(201)["enrollment"]["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let world = World {
        coc,
        agency,
        project,
        client,
        enrollment,
    };
    let doc = contract();
    let send = |method: &str, path: &str, body: Option<String>, content_type: &str| {
        let req = TestRequest::default()
            .method(method.parse().unwrap())
            .uri(path)
            .insert_header(("Authorization", format!("Bearer {all}")))
            .insert_header(("X-Access-Reason", "edge test"))
            .insert_header(("If-Match", "*"))
            .insert_header(("Content-Type", content_type.to_string()));
        match body {
            Some(b) => req.set_payload(b).to_request(),
            None => req.to_request(),
        }
    };
    let (mut numbers, mut fields, mut queries, mut sent) = (0, 0, 0, 0);
    for (template, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let method = method.to_uppercase();
            let what = format!("{method} {template}");
            let path = path_for(template, &world, None);
            if let Some(schema) = op.pointer("/requestBody/content/application~1json/schema") {
                let base = minimal(&doc, schema, "", &world);
                // A body that is not an object.
                for body in ["[]", "5", "\"x\"", "null", "true"] {
                    let r = app
                        .raw(send(&method, &path, Some(body.into()), "application/json"))
                        .await;
                    sent += 1;
                    // Bodies that may be left out take `null` as "no body".
                    if body == "null" && op["requestBody"]["required"] != true {
                        continue;
                    }
                    assert_eq!(r.status, 422, "{what} body {body}: {}", r.body);
                    assert_eq!(r.error_fields(), vec![String::new()], "{what} body {body}");
                }
                let mut found = Vec::new();
                leaves(&doc, schema, &mut Vec::new(), None, &mut found, 0);
                for leaf in found {
                    let field = leaf.field();
                    fields += 1;
                    // Values of a type the field does not take.
                    let mut wrong: Vec<(&str, &str)> = vec![];
                    if !leaf.takes("string") {
                        wrong.push(("a string", "\"7\""));
                    }
                    if !leaf.takes("number") {
                        wrong.push(("a number", "5"));
                    }
                    if !leaf.takes("boolean") {
                        wrong.push(("a boolean", "true"));
                    }
                    if !leaf.takes("object") {
                        wrong.push(("an object", "{}"));
                    }
                    if !leaf.takes("array") {
                        wrong.push(("an array", "[]"));
                    }
                    // Numbers out of every range.
                    let mut out_of_range: Vec<String> = vec![];
                    if leaf.takes("number") {
                        numbers += 1;
                        out_of_range.extend(
                            [
                                "1.7976931348623157e308",
                                "-1.7976931348623157e308",
                                "1e300",
                                "1e400",
                                "-1e400",
                                "1e16",
                                "123456789012345678901234567890",
                            ]
                            .map(String::from),
                        );
                        if leaf.takes_integer() {
                            out_of_range.extend(["2147483648", "-2147483649"].map(String::from));
                            wrong.push(("a fraction", "1.5"));
                        } else {
                            assert!(
                                leaf.minimum.is_some() && leaf.maximum.is_some(),
                                "{what} {field}: a number without a documented range"
                            );
                        }
                        if let Some(max) = leaf.maximum {
                            out_of_range.push(format!("{}", max + 1.0));
                        }
                        if let Some(min) = leaf.minimum {
                            out_of_range.push(format!("{}", min - 1.0));
                        }
                    }
                    let cases = wrong
                        .iter()
                        .map(|(c, v)| (c.to_string(), v.to_string(), "invalid_type"))
                        .chain(
                            out_of_range
                                .iter()
                                .map(|v| (format!("out of range {v}"), v.clone(), "")),
                        );
                    for (case, raw, code) in cases {
                        let mark = json!("__raw_value__");
                        let body = put_at(&doc, schema, base.clone(), &leaf.steps, mark, &world)
                            .to_string()
                            .replace("\"__raw_value__\"", &raw);
                        let r = app
                            .raw(send(&method, &path, Some(body), "application/json"))
                            .await;
                        sent += 1;
                        let why = format!("{what} {case} in {field}");
                        assert_eq!(r.status, 422, "{why}: {}", r.body);
                        assert!(listed(op, r.status), "{why}: 422 is not listed");
                        // The field, a member of it (a tagged alternative missing its tag), or
                        // the tagged alternative it is in (serde reads those whole).
                        assert!(
                            r.error_fields().iter().any(|f| f == &field
                                || f.starts_with(&format!("{field}."))
                                || Some(f) == leaf.tagged.as_ref()),
                            "{why}: errors name {:?}",
                            r.error_fields()
                        );
                        if !code.is_empty() && r.error_fields().contains(&field) {
                            let codes: Vec<&str> = r.body["errors"]
                                .as_array()
                                .unwrap()
                                .iter()
                                .filter(|e| e["field"] == field.as_str())
                                .filter_map(|e| e["code"].as_str())
                                .collect();
                            assert!(
                                codes.contains(&"invalid_type") || codes.contains(&"invalid_value"),
                                "{why}: {codes:?}"
                            );
                        }
                    }
                    // The range's ends: never a 5xx, and what is written reads back.
                    for end in [leaf.minimum, leaf.maximum].into_iter().flatten() {
                        let raw = if leaf.takes_integer() {
                            format!("{}", end as i64)
                        } else {
                            format!("{end:?}")
                        };
                        let mark = json!("__raw_value__");
                        let body = put_at(&doc, schema, base.clone(), &leaf.steps, mark, &world)
                            .to_string()
                            .replace("\"__raw_value__\"", &raw);
                        let r = app
                            .raw(send(&method, &path, Some(body), "application/json"))
                            .await;
                        sent += 1;
                        let why = format!("{what} {raw} in {field}");
                        assert!(r.status.as_u16() < 500, "{why}");
                        if r.status.is_success() && item.get("get").is_some() {
                            let back = app.raw(send("GET", &path, None, "application/json")).await;
                            assert!(back.status.is_success(), "{why}, read back: {}", back.body);
                        }
                    }
                }
            }
            // Typed query parameters.
            let params = op["parameters"].as_array().cloned().unwrap_or_default();
            for p in params.iter().filter(|p| p["in"] == "query") {
                let name = p["name"].as_str().unwrap();
                let s = resolve(&doc, &p["schema"]);
                let ts = types(s);
                let bad: &[&str] = if ts.contains(&"integer") {
                    &["abc", "1.5", "99999999999", ""]
                } else if ts.contains(&"boolean") {
                    &["maybe", "1", ""]
                } else if s["format"] == "uuid" {
                    &["bad", "", "00000000-0000-0000-0000-00000000000g"]
                } else if s["format"] == "date" {
                    &[
                        "2026-02-30",
                        "tomorrow",
                        "2026-13-01",
                        "-2026-01-01",
                        "%2B2026-01-01",
                        "+2026-01-01",
                        "2026-1-1",
                        "0000-01-01",
                    ]
                } else if s["enum"].is_array() {
                    &["yolo", ""]
                } else {
                    continue;
                };
                queries += 1;
                // The other required parameters, well formed.
                let required: Vec<String> = params
                    .iter()
                    .filter(|o| o["in"] == "query" && o["required"] == true && o["name"] != name)
                    .map(|o| {
                        let n = o["name"].as_str().unwrap();
                        match o["example"].as_str() {
                            Some(example) => format!("{n}={example}"),
                            None => format!("{n}={}", world.uuid_for(n)),
                        }
                    })
                    .collect();
                for v in bad {
                    let mut q = required.clone();
                    q.push(format!("{name}={v}"));
                    let uri = format!("{path}?{}", q.join("&"));
                    let (body, ct) = if template == "/v1/imports/hmis-csv" {
                        (Some(String::new()), "application/zip")
                    } else if op.get("requestBody").is_some() {
                        (Some(base_body(&doc, op, &world)), "application/json")
                    } else {
                        (None, "application/json")
                    };
                    let r = app.raw(send(&method, &uri, body, ct)).await;
                    sent += 1;
                    let why = format!("{what} ?{name}={v}");
                    assert_eq!(r.status, 422, "{why}: {}", r.body);
                    assert!(listed(op, r.status), "{why}: 422 is not listed");
                    assert_eq!(r.error_fields(), vec![name.to_string()], "{why}");
                }
            }
        }
    }
    assert!(
        numbers >= 40 && fields >= 100 && queries >= 15,
        "{numbers} numbers, {fields} fields, {queries} query parameters"
    );
    eprintln!(
        "edge: {numbers} numbers, {fields} fields, {queries} query parameters, {sent} requests"
    );
}

fn base_body(doc: &Value, op: &Value, world: &World) -> String {
    let schema = op
        .pointer("/requestBody/content/application~1json/schema")
        .unwrap();
    minimal(doc, schema, "", world).to_string()
}

/// The body with `value` at `steps`, creating what is missing on the way as the schema's minimal
/// value (the alternative that has the next key: a tagged alternative gets its tag).
fn put_at(
    doc: &Value,
    schema: &Value,
    mut body: Value,
    steps: &[Step],
    value: Value,
    world: &World,
) -> Value {
    fn put(doc: &Value, s: &Value, at: &mut Value, steps: &[Step], value: Value, world: &World) {
        match steps.split_first() {
            None => *at = value,
            Some((Step::Key(k), rest)) => {
                let alts = alternatives(doc, s);
                let alt = alts
                    .iter()
                    .find(|a| a["properties"].get(k).is_some())
                    .unwrap_or_else(|| panic!("a schema with {k}"));
                if !at.is_object() {
                    *at = minimal(doc, alt, k, world);
                }
                let next = at
                    .as_object_mut()
                    .unwrap()
                    .entry(k.clone())
                    .or_insert(Value::Null);
                put(doc, &alt["properties"][k], next, rest, value, world);
            }
            Some((Step::Index, rest)) => {
                let alts = alternatives(doc, s);
                let alt = alts
                    .iter()
                    .find(|a| types(a).contains(&"array"))
                    .expect("an array schema");
                let mut item = minimal(doc, &alt["items"], "", world);
                put(doc, &alt["items"], &mut item, rest, value, world);
                *at = Value::Array(vec![item]);
            }
        }
    }
    put(doc, schema, &mut body, steps, value, world);
    body
}

/// A method a known path does not take is a 405 problem with `Allow` listing the methods it
/// does take (HEAD with GET); a path no route has stays a 404. Every operation of the contract
/// is in what `Allow` lists for its path.
#[actix_web::test]
async fn a_wrong_method_on_a_known_path_is_405_with_allow() {
    let app = spawn().await;
    let id = Uuid::new_v4();
    let call = |method: &str, path: &str| {
        TestRequest::default()
            .method(method.parse().unwrap())
            .uri(path)
            .insert_header(("Authorization", format!("Bearer {}", app.admin)))
            .to_request()
    };
    for (method, path, allow) in [
        ("DELETE", format!("/v1/clients/{id}"), "GET, HEAD, PATCH"),
        ("PUT", "/v1/cocs/IL-510".to_string(), "GET, HEAD"),
        ("OPTIONS", "/v1/cocs".to_string(), "GET, HEAD, POST"),
        ("GET", "/v1/clients/search".to_string(), "POST"),
        (
            "PUT",
            format!("/v1/clients/{id}/contacts/{id}"),
            "GET, HEAD, DELETE",
        ),
        ("POST", "/healthz".to_string(), "GET, HEAD"),
        ("POST", "/openapi.json".to_string(), "GET, HEAD"),
        ("DELETE", "/docs".to_string(), "GET, HEAD"),
        ("HEAD", "/v1/imports/hmis-csv".to_string(), "POST"),
    ] {
        let r = app.raw(call(method, &path)).await;
        let what = format!("{method} {path}");
        assert_eq!(r.status, 405, "{what}: {}", r.body);
        assert_eq!(
            r.header("content-type").as_deref(),
            Some("application/problem+json"),
            "{what}"
        );
        assert_eq!(r.header("allow").as_deref(), Some(allow), "{what}");
        if method != "HEAD" {
            assert_eq!(r.body["status"], 405, "{what}");
            assert_eq!(r.body["type"], "urn:hearth:problem:method-not-allowed");
        }
        assert!(r.header("x-request-id").is_some(), "{what}");
    }
    for (method, path) in [
        ("DELETE", "/v1/nothing-here"),
        ("GET", "/v1/cocs/IL-510/nothing"),
        ("OPTIONS", "/nowhere"),
        ("GET", "/v1/clients/"),
    ] {
        app.raw(call(method, path)).await.problem(404);
    }
    let doc = contract();
    for (template, item) in doc["paths"].as_object().unwrap() {
        let allow = hearth::api::allowed_methods(template).expect(template);
        for method in item.as_object().unwrap().keys() {
            assert!(
                allow.contains(&method.to_uppercase().as_str()),
                "{method} {template}: {allow:?}"
            );
        }
    }
}
