//! Least privilege (issue 11, item 1): the permission table of `consent::permissions`, tested
//! through the API for every role and every operation the contract lists, so an endpoint added
//! without an entry fails here.

use hearth::api::guard::action_for;
use hearth::consent::permissions::permits;
use hearth::consent::Role;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::fixtures::days_ago;
use crate::harness::*;

const PUBLIC: &[&str] = &["/healthz", "/readyz", "/metrics"];
const GUARD_403: &str = "This token's roles do not allow";

/// A token with the given role words (known to Hearth or not) for `agency`.
fn raw_token(sub: &str, roles: &[&str], agency: Option<Uuid>) -> String {
    let now = chrono::Utc::now().timestamp();
    let mut claims = json!({"sub": sub, "roles": roles, "iss": ISSUER, "aud": AUDIENCE,
                             "iat": now, "exp": now + 3600});
    if let Some(a) = agency {
        claims["agency_id"] = json!(a);
    }
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap()
}

fn operations() -> Vec<(String, String)> {
    let spec: Value =
        serde_json::from_str(&std::fs::read_to_string("openapi/openapi.json").unwrap()).unwrap();
    let mut ops = vec![];
    for (path, item) in spec["paths"].as_object().unwrap() {
        for m in ["get", "post", "put", "patch", "delete"] {
            if item.get(m).is_some() && !PUBLIC.contains(&path.as_str()) {
                ops.push((m.to_uppercase(), path.clone()));
            }
        }
    }
    assert!(
        ops.len() > 40,
        "the contract lists {} operations",
        ops.len()
    );
    ops
}

fn concrete(path: &str, coc: &str) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let end = rest[start..].find('}').unwrap() + start;
        let name = &rest[start + 1..end];
        if name == "code" {
            out.push_str(coc);
        } else {
            out.push_str(&Uuid::new_v4().to_string());
        }
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

fn guard_refused(r: &Reply) -> bool {
    r.status.as_u16() == 403
        && r.body["detail"]
            .as_str()
            .is_some_and(|d| d.starts_with(GUARD_403))
}

#[actix_web::test]
async fn every_operation_has_an_entry_and_every_role_is_held_to_it() {
    let app = spawn().await;
    let coc = app.coc(json!({})).await;
    let agency = app.agency(&coc, true).await;
    let mut callers: Vec<(String, Vec<Role>, String)> = Role::ALL
        .iter()
        .map(|r| {
            let ag = (*r != Role::SystemAdmin).then_some(agency);
            (
                r.as_str().to_string(),
                vec![*r],
                app.token("perm-user", &[*r], ag),
            )
        })
        .collect();
    // No Hearth role at all, and only roles meant for other systems: nothing is permitted.
    callers.push(("no roles".into(), vec![], raw_token("u", &[], Some(agency))));
    callers.push((
        "foreign roles".into(),
        vec![],
        raw_token("u", &["billing_viewer", "ADMIN"], Some(agency)),
    ));
    let mut checked = 0;
    for (method, path) in operations() {
        let action = action_for(&method, &path)
            .unwrap_or_else(|| panic!("{method} {path} has no entry in api::guard::ROUTES"));
        let uri = concrete(&path, &coc);
        for (name, roles, token) in &callers {
            let allowed = roles.iter().any(|r| permits(*r, action));
            let body = (method != "GET" && method != "DELETE").then(|| json!({}));
            let r = app
                .send(Call {
                    method: &method,
                    path: &uri,
                    token: Some(token),
                    body,
                    headers: vec![("X-Access-Reason", "ticket 42".into())],
                })
                .await;
            assert_eq!(
                guard_refused(&r),
                !allowed,
                "{name} on {method} {path} ({action:?}): {} {}",
                r.status,
                r.body
            );
            if !allowed {
                r.problem(403);
            }
            checked += 1;
        }
    }
    assert!(checked > 300, "{checked} role-operation pairs");
}

#[actix_web::test]
async fn public_operations_need_no_role() {
    let app = spawn().await;
    let t = raw_token("u", &[], Some(Uuid::new_v4()));
    for path in ["/healthz", "/readyz", "/openapi.json"] {
        let r = app.get(path, &t).await;
        assert_eq!(r.status.as_u16(), 200, "{path}");
    }
}

/// The attack the issue describes: a token of the creating agency with no Hearth role, or with a
/// reader's or assessor's role, against a private record that agency created.
#[actix_web::test]
async fn tokens_without_a_writing_role_cannot_read_or_change_the_agencys_private_record() {
    let app = spawn().await;
    let coc = app.coc(json!({})).await;
    let agency = app.agency(&coc, true).await;
    let worker = app.token("cw", &[Role::CaseWorker], Some(agency));
    let r = app
        .post(
            "/v1/clients",
            &worker,
            json!({"identity_mode": "identified", "first_name": "Philippa", "last_name": "Quennell",
                   "ssn": "524-71-9932", "dob": "1981-06-14", "visibility": "private"}),
        )
        .await;
    let id = r.ok(201)["client"]["id"].as_str().unwrap().to_string();
    let etag = r.header("etag");
    let contact = app
        .post(
            &format!("/v1/clients/{id}/contacts"),
            &worker,
            json!({"kind": "phone", "value": "312-555-0100"}),
        )
        .await;
    let contact_id = contact.ok(201)["id"].as_str().unwrap().to_string();

    let no_role = raw_token("idp-user", &[], Some(agency));
    let foreign = raw_token("idp-user", &["reports_viewer"], Some(agency));
    for t in [&no_role, &foreign] {
        for path in [
            format!("/v1/clients/{id}"),
            format!("/v1/clients/{id}/contacts"),
            format!("/v1/clients/{id}/documents"),
        ] {
            let r = app.get(&path, t).await;
            r.problem(403);
            assert!(!String::from_utf8_lossy(&r.raw).contains("Quennell"));
        }
        app.post("/v1/clients/search", t, json!({"ssn": "524-71-9932"}))
            .await
            .problem(403);
    }
    let reader = app.token("plr", &[Role::PriorityListReader], Some(agency));
    let assessor = app.token("cea", &[Role::CeAssessor], Some(agency));
    for t in [&no_role, &foreign, &reader, &assessor] {
        app.patch(
            &format!("/v1/clients/{id}"),
            t,
            etag.as_deref(),
            json!({"first_name": "Changed"}),
        )
        .await
        .problem(403);
        app.put(
            &format!("/v1/clients/{id}/visibility"),
            t,
            json!({"visibility": "open"}),
        )
        .await
        .problem(403);
        app.post(
            &format!("/v1/clients/{id}/consents"),
            t,
            json!({"effective_from": "2026-01-01", "kind": "signed"}),
        )
        .await
        .problem(403);
        app.send(Call {
            method: "DELETE",
            path: &format!("/v1/clients/{id}/contacts/{contact_id}"),
            token: Some(t),
            body: None,
            headers: vec![],
        })
        .await
        .problem(403);
    }
    // The record is unchanged: the creating agency's worker still reads its name and contact.
    let r = app.get(&format!("/v1/clients/{id}"), &worker).await;
    assert_eq!(r.ok(200)["last_name"], "Quennell");
    assert_eq!(r.body["visibility"], "private");
    let r = app
        .get(&format!("/v1/clients/{id}/contacts"), &worker)
        .await;
    assert_eq!(r.ok(200)["items"].as_array().unwrap().len(), 1);
}

/// Least privilege for `priority_list_reader` (README: "read the priority list and the records
/// on it"; consent.md record rule row 8): a token whose only role it is reads a record only as
/// it is on its CoC's list, at `limited` with basis `priority_list`, and nothing else, not even
/// what its own agency created; with another role beside it, it keeps what that role gives.
#[actix_web::test]
async fn a_priority_list_reader_alone_reads_only_the_records_on_its_list() {
    let app = spawn().await;
    let coc = app.coc(json!({})).await;
    let agency = app.agency(&coc, true).await;
    let ce = app.project(agency, 14).await;
    let shelter = app.project(agency, 1).await;
    let worker = app.token("cw", &[Role::CaseWorker], Some(agency));
    let create = |body: Value| {
        let (app, worker) = (&app, &worker);
        async move {
            let r = app.post("/v1/clients", worker, body).await;
            r.ok(201)["client"]["id"].as_str().unwrap().to_string()
        }
    };
    let enroll = |client: String, project: Uuid| {
        let (app, worker) = (&app, &worker);
        async move {
            let r = app
                .post(
                    &format!("/v1/clients/{client}/enrollments"),
                    worker,
                    json!({"project_id": project, "entry_date": days_ago(3), "relationship_to_hoh": 1}),
                )
                .await;
            r.ok(201)["enrollment"]["id"].as_str().unwrap().to_string()
        }
    };
    // A closed record of the agency, with a stay and a contact; and an open one on the list.
    let closed = create(
        json!({"identity_mode": "identified", "first_name": "Thaddeus",
                               "last_name": "Vellacott", "ssn": "524-71-8841"}),
    )
    .await;
    let closed_stay = enroll(closed.clone(), shelter).await;
    app.post(
        &format!("/v1/clients/{closed}/contacts"),
        &worker,
        json!({"kind": "phone", "value": "312-555-0142"}),
    )
    .await
    .ok(201);
    let listed = create(
        json!({"identity_mode": "identified", "first_name": "Wilhelmina",
                               "last_name": "Ashdown",
                               "roi": {"method": "signed", "effective_from": days_ago(30)}}),
    )
    .await;
    enroll(listed.clone(), ce).await;
    app.post(
        &format!("/v1/clients/{listed}/contacts"),
        &worker,
        json!({"kind": "phone", "value": "312-555-0143"}),
    )
    .await
    .ok(201);

    let reader = app.token("plr", &[Role::PriorityListReader], Some(agency));
    let reads = |client: &str| {
        [
            format!("/v1/clients/{client}"),
            format!("/v1/clients/{client}/access"),
            format!("/v1/clients/{client}/contacts"),
            format!("/v1/clients/{client}/documents"),
            format!("/v1/clients/{client}/consents"),
            format!("/v1/clients/{client}/enrollments"),
            format!("/v1/clients/{client}/hmis-records"),
        ]
    };
    // The closed record its own agency created: not found, anywhere.
    for path in reads(&closed)
        .into_iter()
        .chain([format!("/v1/enrollments/{closed_stay}")])
    {
        let r = app.get(&path, &reader).await;
        r.problem(404);
        assert!(
            !String::from_utf8_lossy(&r.raw).contains("Vellacott"),
            "{path}"
        );
    }
    // The record on the list: limited, basis priority_list, no PII, no contact.
    for path in reads(&listed) {
        let r = app.get(&path, &reader).await;
        assert_eq!(r.status.as_u16(), 200, "{path}: {}", r.body);
        let body = String::from_utf8_lossy(&r.raw).into_owned();
        assert!(
            !body.contains("Ashdown") && !body.contains("555-0143"),
            "{path}: {body}"
        );
    }
    let r = app.get(&format!("/v1/clients/{listed}"), &reader).await;
    assert_eq!(
        r.ok(200)["access"],
        json!({"level": "limited", "basis": "priority_list"})
    );
    let r = app
        .get(&format!("/v1/clients/{listed}/contacts"), &reader)
        .await;
    assert_eq!(r.ok(200)["items"], json!([]));
    // Search, export and the de-identification requests are not the reader's.
    for r in [
        app.post("/v1/clients/search", &reader, json!({"ssn": "524-71-8841"}))
            .await,
        app.get(
            &format!(
                "/v1/exports/hmis-csv?coc={coc}&start={}&end={}",
                days_ago(30),
                days_ago(0)
            ),
            &reader,
        )
        .await,
        app.get("/v1/deidentification-requests", &reader).await,
    ] {
        assert!(guard_refused(&r), "{} {}", r.status, r.body);
    }
    // With a case worker's role beside it, the token reads what a case worker of the agency does.
    let both = app.token(
        "plr-cw",
        &[Role::PriorityListReader, Role::CaseWorker],
        Some(agency),
    );
    let r = app.get(&format!("/v1/clients/{closed}"), &both).await;
    assert_eq!(r.ok(200)["last_name"], "Vellacott");
    assert_eq!(r.body["access"]["basis"], "creating_agency");
    app.get("/v1/deidentification-requests", &both)
        .await
        .ok(200);
}
