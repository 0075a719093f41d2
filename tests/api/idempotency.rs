//! Idempotency keys belong to the whole principal, a replay is authorized again, and stored
//! answers (which may hold PII) expire (issue 11, item 2). Every POST that writes takes a key
//! (one mechanism, `api::idempotent`), and a replay is the same request whatever the form of its
//! JSON (keys in another order, whitespace).

use std::collections::BTreeSet;

use base64::Engine;
use diesel::RunQueryDsl;
use hearth::consent::Role;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::ce::ce_agency;
use crate::clients::Svc;
use crate::fixtures::{days_ago, id_of};
use crate::harness::*;

const LAST: &str = "Oyelaran-Brisbois";

async fn post_keyed<S, B>(
    app: &TestApp<S>,
    path: &str,
    token: &str,
    body: Value,
    key: &str,
    reason: bool,
) -> Reply
where
    S: actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse<B>,
        Error = actix_web::Error,
    >,
    B: actix_web::body::MessageBody,
{
    let mut headers = vec![("Idempotency-Key", key.to_string())];
    if reason {
        headers.push(("X-Access-Reason", "ticket 1234".into()));
    }
    app.send(Call {
        method: "POST",
        path,
        token: Some(token),
        body: Some(body),
        headers,
    })
    .await
}

fn private_client() -> Value {
    json!({"identity_mode": "identified", "first_name": "Marisol", "last_name": LAST,
           "ssn": "524-71-9932", "dob": "1979-02-11", "visibility": "closed"})
}

#[actix_web::test]
async fn the_same_sub_under_another_agency_never_replays_the_answer() {
    let app = spawn().await;
    let coc = app.coc(json!({})).await;
    // B takes no part in sharing: the record answers it 404 even once open.
    let (a, b) = (app.agency(&coc, true).await, app.agency(&coc, false).await);
    let ta = app.token("shared-sub", &[Role::CaseWorker], Some(a));
    let tb = app.token("shared-sub", &[Role::CaseWorker], Some(b));
    let r = app.post("/v1/clients", &ta, private_client()).await;
    let id = r.ok(201)["client"]["id"].as_str().unwrap().to_string();
    let path = format!("/v1/clients/{id}/consents");
    let roi = json!({"method": "signed"});
    let first = post_keyed(&app, &path, &ta, roi.clone(), "k-1", false).await;
    assert!(String::from_utf8_lossy(&first.ok(201).to_string().into_bytes()).contains(LAST));
    // Agency B cannot see the closed record: its "replay" is a new request, answered 404.
    let other = post_keyed(&app, &path, &tb, roi.clone(), "k-1", false).await;
    other.problem(404);
    assert!(!String::from_utf8_lossy(&other.raw).contains(LAST));
    assert!(other.header("idempotent-replayed").is_none());
    // Other roles are another principal too.
    let ta_admin = app.token("shared-sub", &[Role::AgencyAdmin], Some(a));
    let again = post_keyed(&app, &path, &ta_admin, roi.clone(), "k-1", false).await;
    assert!(again.header("idempotent-replayed").is_none());
    // The same principal replays.
    let replay = post_keyed(&app, &path, &ta, roi, "k-1", false).await;
    assert_eq!(
        replay.header("idempotent-replayed").as_deref(),
        Some("true")
    );
    assert_eq!(replay.ok(201)["consent"]["id"], first.body["consent"]["id"]);
}

#[actix_web::test]
async fn a_system_admin_token_with_the_same_sub_gets_no_replay() {
    let app = spawn().await;
    let coc = app.coc(json!({})).await;
    let a = app.agency(&coc, true).await;
    let ta = app.token("same-sub", &[Role::CaseWorker], Some(a));
    let r = app.post("/v1/clients", &ta, private_client()).await;
    let id = r.ok(201)["client"]["id"].as_str().unwrap().to_string();
    let path = format!("/v1/clients/{id}/consents");
    let roi = json!({"method": "signed"});
    post_keyed(&app, &path, &ta, roi.clone(), "k-2", false)
        .await
        .ok(201);
    let admin = app.token("same-sub", &[Role::SystemAdmin], None);
    let r = post_keyed(&app, &path, &admin, roi, "k-2", false).await;
    r.problem(403);
    assert!(r.header("idempotent-replayed").is_none());
    assert!(!String::from_utf8_lossy(&r.raw).contains(LAST));
}

#[actix_web::test]
async fn stored_answers_expire_and_are_purged() {
    let pool = test_pool();
    let app = spawn_with(pool.clone()).await;
    let coc = app.coc(json!({})).await;
    let a = app.agency(&coc, true).await;
    let ta = app.token("cw", &[Role::CaseWorker], Some(a));
    let first = post_keyed(&app, "/v1/clients", &ta, private_client(), "k-3", false).await;
    let first_id = first.ok(201)["client"]["id"].clone();
    let client: Uuid = serde_json::from_value(first_id.clone()).unwrap();
    let stored = |pool: &hearth::db::DbPool| -> i64 {
        #[derive(diesel::QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        diesel::sql_query("SELECT count(*) AS n FROM idempotency_keys WHERE client_id = $1")
            .bind::<diesel::sql_types::Uuid, _>(client)
            .get_result::<N>(&mut pool.get().unwrap())
            .unwrap()
            .n
    };
    assert_eq!(
        stored(&pool),
        1,
        "the answer is stored with the client it is about"
    );
    // A day and an hour later the key is forgotten: the same request creates again.
    diesel::sql_query(
        "UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE client_id = $1",
    )
    .bind::<diesel::sql_types::Uuid, _>(client)
    .execute(&mut pool.get().unwrap())
    .unwrap();
    let later = post_keyed(&app, "/v1/clients", &ta, private_client(), "k-3", false).await;
    assert!(later.header("idempotent-replayed").is_none());
    assert_ne!(later.ok(201)["client"]["id"], first_id);
    assert_eq!(stored(&pool), 0, "the expired answer was replaced");
    // The purge removes what has expired, nothing else.
    diesel::sql_query("UPDATE idempotency_keys SET created_at = now() - interval '25 hours'")
        .execute(&mut pool.get().unwrap())
        .unwrap();
    let purged = hearth::service::idempotency::purge_expired(&mut pool.get().unwrap()).unwrap();
    assert!(purged >= 1);
}

#[actix_web::test]
async fn a_replay_is_decided_again_after_consent_is_revoked() {
    let app = spawn().await;
    let coc = app.coc(json!({})).await;
    let (a, b) = (app.agency(&coc, true).await, app.agency(&coc, true).await);
    let ta = app.token("cw-a", &[Role::CaseWorker], Some(a));
    let tb = app.token("cw-b", &[Role::CaseWorker], Some(b));
    let r = app.post("/v1/clients", &ta, private_client()).await;
    let id = r.ok(201)["client"]["id"].as_str().unwrap().to_string();
    let path = format!("/v1/clients/{id}/consents");
    let first = app.post(&path, &ta, json!({"method": "signed"})).await;
    let roi_a = first.ok(201)["consent"]["id"].as_str().unwrap().to_string();
    // B sees the open record in full and records a second ROI under a key.
    let mine = post_keyed(&app, &path, &tb, json!({"method": "verbal"}), "k-4", false).await;
    let roi_b = mine.ok(201)["consent"]["id"].as_str().unwrap().to_string();
    for roi in [roi_a, roi_b] {
        app.post(&format!("{path}/{roi}/revoke"), &ta, json!({}))
            .await
            .ok(200);
    }
    // Closed again, and B never contributed: B's replay is decided again and answers 404.
    let r = post_keyed(&app, &path, &tb, json!({"method": "verbal"}), "k-4", false).await;
    r.problem(404);
    assert!(!String::from_utf8_lossy(&r.raw).contains(LAST));
}

// ------------------------------------------------------------- every POST that writes

/// The POSTs of the contract that take no key: they write nothing (a search is a read).
const UNKEYED: [&str; 1] = ["/v1/clients/search"];

/// The contract's POST operations that declare `Idempotency-Key` (and, on every successful
/// answer, `Idempotent-Replayed`).
fn keyed_posts() -> BTreeSet<String> {
    let api = serde_json::to_value(hearth::api::openapi()).unwrap();
    let mut keyed = BTreeSet::new();
    for (path, item) in api["paths"].as_object().unwrap() {
        let Some(op) = item.get("post") else { continue };
        let takes_key = op["parameters"].as_array().is_some_and(|ps| {
            ps.iter()
                .any(|p| p["in"] == "header" && p["name"] == "Idempotency-Key")
        });
        if UNKEYED.contains(&path.as_str()) {
            assert!(!takes_key, "{path} writes nothing and takes no key");
            continue;
        }
        assert!(
            takes_key,
            "POST {path} writes and must declare Idempotency-Key"
        );
        let responses = op["responses"].as_object().unwrap();
        let ok: Vec<_> = responses.keys().filter(|c| c.starts_with('2')).collect();
        assert!(!ok.is_empty(), "{path}");
        for code in ok {
            assert!(
                responses[code]["headers"]["Idempotent-Replayed"].is_object(),
                "POST {path} {code} must declare Idempotent-Replayed"
            );
        }
        for code in ["409", "422"] {
            let d = responses[code]["description"].as_str().unwrap_or_default();
            assert!(d.contains("Idempotency-Key"), "POST {path} {code}: {d}");
        }
        keyed.insert(path.clone());
    }
    keyed
}

#[test]
fn every_post_that_writes_declares_the_key_and_the_replayed_header() {
    let keyed = keyed_posts();
    assert!(keyed.len() >= 23, "{keyed:?}");
}

async fn client<S: Svc>(app: &TestApp<S>, token: &str, body: Value) -> Uuid {
    id_of(app.post("/v1/clients", token, body).await.ok(201), "client")
}

fn identified(first: &str) -> Value {
    json!({"identity_mode": "identified", "first_name": first, "last_name": LAST, "dob": "1981-03-04"})
}

async fn stay<S: Svc>(
    app: &TestApp<S>,
    token: &str,
    client: Uuid,
    project: Uuid,
    household: Option<&str>,
) -> Value {
    let mut body = json!({"project_id": project, "entry_date": days_ago(20),
                          "relationship_to_hoh": if household.is_some() { 2 } else { 1 }});
    if let Some(h) = household {
        body["household_id"] = json!(h);
    }
    let r = app
        .post(&format!("/v1/clients/{client}/enrollments"), token, body)
        .await;
    r.ok(201)["enrollment"].clone()
}

/// Sends a POST with a key (and an optional body) and answers the reply.
async fn keyed<S: Svc>(
    app: &TestApp<S>,
    path: &str,
    token: &str,
    body: Option<Value>,
    key: &str,
) -> Reply {
    app.send(Call {
        method: "POST",
        path,
        token: Some(token),
        body,
        headers: vec![("Idempotency-Key", key.to_string())],
    })
    .await
}

/// Every POST of the contract that takes a key (the HMIS CSV upload is
/// `an_import_replayed_with_its_key_answers_the_first_job`) answers a retry with its first
/// answer: the same status and body, `Idempotent-Replayed: true`, nothing written twice.
#[actix_web::test]
async fn every_post_that_writes_replays_its_first_answer() {
    let app = spawn().await;
    let coc = app.coc(json!({})).await;
    let agency = ce_agency(&app, &coc, true).await;
    let w = app.token("idem-worker", &[Role::CaseWorker], Some(agency));
    let aa = app.token("idem-agency-admin", &[Role::AgencyAdmin], Some(agency));
    let admin = app.admin.clone();
    let (shelter, ce) = (app.project(agency, 1).await, app.project(agency, 14).await);

    let c = client(&app, &w, identified("Keyed")).await;
    let shelter_stay = stay(&app, &w, c, shelter, None).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let ce_stay = stay(&app, &w, c, ce, None).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let leaving = client(&app, &w, identified("Leaving")).await;
    let leaving_stay = stay(&app, &w, leaving, shelter, None).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let head = client(&app, &w, identified("Head")).await;
    let head_stay = stay(&app, &w, head, shelter, None).await;
    let member = client(&app, &w, identified("Member")).await;
    let household = head_stay["household_id"].as_str().unwrap();
    let member_stay = stay(&app, &w, member, shelter, Some(household)).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let code = client(
        &app,
        &w,
        json!({"identity_mode": "code_name", "first_name": "Sparrow"}),
    )
    .await;
    let (survivor, duplicate) = (
        client(&app, &w, identified("Twin")).await,
        client(&app, &w, identified("Twin")).await,
    );
    let revoking = client(&app, &w, identified("Revoking")).await;
    let r = app
        .post(
            &format!("/v1/clients/{revoking}/consents"),
            &w,
            json!({"method": "signed"}),
        )
        .await;
    let roi = r.ok(201)["consent"]["id"].as_str().unwrap().to_string();
    let mut requests = vec![];
    for first in ["Filed", "Completed", "Rejected"] {
        requests.push(client(&app, &w, identified(first)).await);
    }
    let file =
        |c: Uuid| json!({"client_id": c, "description": "The client asked to be anonymous."});
    let mut filed = vec![];
    for c in &requests[1..] {
        let r = app
            .post("/v1/deidentification-requests", &w, file(*c))
            .await;
        filed.push(r.ok(201)["request"]["id"].as_str().unwrap().to_string());
    }
    let text = base64::engine::general_purpose::STANDARD.encode("Intake form, page 1");

    let at = |pattern: &str, path: String, token: &str, body: Option<Value>| {
        (pattern.to_string(), path, token.to_string(), body)
    };
    let cases = vec![
        at(
            "/v1/cocs",
            "/v1/cocs".into(),
            &admin,
            Some(json!({"code": random_coc_code(), "name": "Keyed CoC"})),
        ),
        at(
            "/v1/agencies",
            "/v1/agencies".into(),
            &admin,
            Some(json!({"coc_code": coc, "name": "Keyed Agency", "shares_data": true})),
        ),
        at(
            "/v1/projects",
            "/v1/projects".into(),
            &admin,
            Some(json!({"agency_id": agency, "name": "Keyed Project", "project_type": 1})),
        ),
        at(
            "/v1/clients",
            "/v1/clients".into(),
            &w,
            Some(identified("Created")),
        ),
        at(
            "/v1/clients/{id}/consents",
            format!("/v1/clients/{c}/consents"),
            &w,
            Some(json!({"method": "verbal"})),
        ),
        at(
            "/v1/clients/{id}/consents/{consent_id}/revoke",
            format!("/v1/clients/{revoking}/consents/{roi}/revoke"),
            &w,
            None,
        ),
        at(
            "/v1/clients/{id}/contacts",
            format!("/v1/clients/{c}/contacts"),
            &w,
            Some(json!({"kind": "email", "value": "keyed@example.org"})),
        ),
        at(
            "/v1/clients/{id}/documents",
            format!("/v1/clients/{c}/documents"),
            &w,
            Some(
                json!({"file_name": "intake.txt", "content_type": "text/plain", "content_base64": text}),
            ),
        ),
        at(
            "/v1/clients/{id}/enrollments",
            format!("/v1/clients/{c}/enrollments"),
            &w,
            Some(
                json!({"project_id": shelter, "entry_date": days_ago(2), "relationship_to_hoh": 1}),
            ),
        ),
        at(
            "/v1/enrollments/{id}/services",
            format!("/v1/enrollments/{shelter_stay}/services"),
            &w,
            Some(json!({"date_provided": days_ago(5), "service_type": "meal"})),
        ),
        at(
            "/v1/enrollments/{id}/assessments",
            format!("/v1/enrollments/{ce_stay}/assessments"),
            &w,
            Some(
                json!({"assessment_date": days_ago(5), "assessment_type": 3, "assessment_level": 2, "priority_score": 12.0}),
            ),
        ),
        at(
            "/v1/enrollments/{id}/ce-events",
            format!("/v1/enrollments/{ce_stay}/ce-events"),
            &w,
            Some(
                json!({"event_date": days_ago(5), "event": 14, "referral_result": 1, "result_date": days_ago(4)}),
            ),
        ),
        at(
            "/v1/enrollments/{id}/current-living-situations",
            format!("/v1/enrollments/{shelter_stay}/current-living-situations"),
            &w,
            Some(json!({"information_date": days_ago(5), "current_living_situation": 116})),
        ),
        at(
            "/v1/enrollments/{id}/notes",
            format!("/v1/enrollments/{shelter_stay}/notes"),
            &w,
            Some(json!({"note_date": days_ago(5), "text": "Met at the drop-in."})),
        ),
        at(
            "/v1/enrollments/{id}/refusals",
            format!("/v1/enrollments/{ce_stay}/refusals"),
            &w,
            Some(json!({"refused_on": days_ago(5)})),
        ),
        at(
            "/v1/enrollments/{id}/exit",
            format!("/v1/enrollments/{leaving_stay}/exit"),
            &w,
            Some(json!({"exit_date": days_ago(1), "destination": 101})),
        ),
        at(
            "/v1/enrollments/{id}/remove-from-household",
            format!("/v1/enrollments/{member_stay}/remove-from-household"),
            &w,
            None,
        ),
        at(
            "/v1/clients/{id}/designate-sharing",
            format!("/v1/clients/{code}/designate-sharing"),
            &w,
            Some(json!({"first_name": "Ada", "last_name": LAST, "visibility": "closed"})),
        ),
        at(
            "/v1/clients/{id}/merge",
            format!("/v1/clients/{survivor}/merge"),
            &aa,
            Some(json!({"duplicate_id": duplicate, "confirm_same_person": true})),
        ),
        at(
            "/v1/deidentification-requests",
            "/v1/deidentification-requests".into(),
            &w,
            Some(file(requests[0])),
        ),
        at(
            "/v1/deidentification-requests/{id}/complete",
            format!("/v1/deidentification-requests/{}/complete", filed[0]),
            &admin,
            None,
        ),
        at(
            "/v1/deidentification-requests/{id}/reject",
            format!("/v1/deidentification-requests/{}/reject", filed[1]),
            &admin,
            Some(json!({"reason": "Not the client's request."})),
        ),
    ];
    let mut covered: BTreeSet<String> = cases.iter().map(|c| c.0.clone()).collect();
    covered.insert("/v1/imports/hmis-csv".into());
    assert_eq!(covered, keyed_posts(), "a keyed POST without a case here");

    for (i, (pattern, path, token, body)) in cases.into_iter().enumerate() {
        let key = format!("retry-{i}");
        let first = keyed(&app, &path, &token, body.clone(), &key).await;
        assert!(
            first.status.is_success(),
            "{pattern}: {} {}",
            first.status,
            first.body
        );
        assert!(first.header("idempotent-replayed").is_none(), "{pattern}");
        let again = keyed(&app, &path, &token, body, &key).await;
        assert_eq!(again.status, first.status, "{pattern}: {}", again.body);
        assert_eq!(
            again.header("idempotent-replayed").as_deref(),
            Some("true"),
            "{pattern}"
        );
        assert_eq!(again.body, first.body, "{pattern}");
        assert_eq!(
            again.header("location"),
            first.header("location"),
            "{pattern}"
        );
        assert_eq!(again.header("etag"), first.header("etag"), "{pattern}");
    }
    // Nothing was written twice: one service, one contact, one document on the record.
    for list in [
        format!("/v1/enrollments/{shelter_stay}/services"),
        format!("/v1/clients/{c}/contacts"),
        format!("/v1/clients/{c}/documents"),
    ] {
        let r = app.get(&list, &w).await;
        assert_eq!(r.ok(200)["items"].as_array().unwrap().len(), 1, "{list}");
    }
}

/// Raw JSON bytes with a key, so the form of the JSON is the test's.
async fn raw_keyed<S: Svc>(
    app: &TestApp<S>,
    path: &str,
    token: &str,
    body: &str,
    key: &str,
) -> Reply {
    let req = actix_web::test::TestRequest::post()
        .uri(path)
        .insert_header(("Authorization", format!("Bearer {token}")))
        .insert_header(("Content-Type", "application/json"))
        .insert_header(("Idempotency-Key", key))
        .set_payload(body.to_string())
        .to_request();
    app.raw(req).await
}

#[actix_web::test]
async fn a_replay_is_the_same_json_whatever_its_key_order_or_whitespace() {
    let app = spawn().await;
    let coc = app.coc(json!({})).await;
    let agency = app.agency(&coc, true).await;
    let w = app.token("cw-canonical", &[Role::CaseWorker], Some(agency));
    let project = app.project(agency, 1).await;
    // A record created under a key; the retry is pretty-printed, its keys in another order.
    let compact = r#"{"identity_mode":"identified","first_name":"Canonical","last_name":"Oyelaran-Brisbois","dob":"1981-03-04"}"#;
    let pretty = "{\n  \"dob\" : \"1981-03-04\",\n  \"last_name\": \"Oyelaran-Brisbois\",\r\n\t\"first_name\": \"Canonical\",\n  \"identity_mode\": \"identified\"\n}";
    let first = raw_keyed(&app, "/v1/clients", &w, compact, "intake-c").await;
    let first = first.ok(201).clone();
    let again = raw_keyed(&app, "/v1/clients", &w, pretty, "intake-c").await;
    assert_eq!(
        again.header("idempotent-replayed").as_deref(),
        Some("true"),
        "{}",
        again.body
    );
    assert_eq!(again.ok(201), &first);
    let c: Uuid = first["client"]["id"].as_str().unwrap().parse().unwrap();
    let s = stay(&app, &w, c, project, None).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!("/v1/enrollments/{s}/services");
    let compact = format!(
        r#"{{"date_provided":"{}","service_type":"meal","quantity":2}}"#,
        days_ago(3)
    );
    let first = raw_keyed(&app, &path, &w, &compact, "meal-1").await;
    let first = first.ok(201).clone();
    let reordered = format!(
        "{{\n  \"quantity\": 2,\n  \"service_type\" : \"meal\",\n\t\"date_provided\": \"{}\"\n}}\n",
        days_ago(3)
    );
    let again = raw_keyed(&app, &path, &w, &reordered, "meal-1").await;
    assert_eq!(
        again.header("idempotent-replayed").as_deref(),
        Some("true"),
        "{}",
        again.body
    );
    assert_eq!(again.ok(201), &first);
    // Another value under the same key is another request.
    let other = compact.replace("\"quantity\":2", "\"quantity\":3");
    let r = raw_keyed(&app, &path, &w, &other, "meal-1").await;
    assert_eq!(
        r.problem(422)["errors"][0]["code"],
        "idempotency_key_reused"
    );
    // So is the same body on another stay.
    let s2 = stay(&app, &w, c, project, None).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = raw_keyed(
        &app,
        &format!("/v1/enrollments/{s2}/services"),
        &w,
        &compact,
        "meal-1",
    )
    .await;
    assert_eq!(r.problem(422)["errors"][0]["field"], "Idempotency-Key");
    let r = app.get(&path, &w).await;
    assert_eq!(r.ok(200)["items"].as_array().unwrap().len(), 1);
}

/// Two concurrent requests with one key on a stay datum write it once.
#[actix_web::test]
async fn concurrent_duplicates_of_a_stay_datum_write_it_once() {
    let pool = committing_pool(4);
    let app = spawn_with(pool).await;
    let coc = app.coc(json!({})).await;
    let agency = app.agency(&coc, true).await;
    let w = app.token("cw-race", &[Role::CaseWorker], Some(agency));
    let project = app.project(agency, 1).await;
    let c = client(&app, &w, identified("Race")).await;
    let s = stay(&app, &w, c, project, None).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!("/v1/enrollments/{s}/notes");
    let body = json!({"note_date": days_ago(1), "text": "Called back."});
    let key = format!("race-{}", Uuid::new_v4());
    let (a, b) = futures_util::future::join(
        keyed(&app, &path, &w, Some(body.clone()), &key),
        keyed(&app, &path, &w, Some(body), &key),
    )
    .await;
    assert_eq!(
        (a.status.as_u16(), b.status.as_u16()),
        (201, 201),
        "{} / {}",
        a.body,
        b.body
    );
    assert_eq!(a.body, b.body);
    let replayed = [&a, &b]
        .iter()
        .filter(|r| r.header("idempotent-replayed").is_some())
        .count();
    assert_eq!(replayed, 1);
    let r = app.get(&path, &w).await;
    assert_eq!(r.ok(200)["items"].as_array().unwrap().len(), 1);
}

/// The HMIS CSV upload is compared by its bytes (a zip), with its query; a replay answers the
/// first job and queues no other.
#[actix_web::test]
async fn an_import_replayed_with_its_key_answers_the_first_job() {
    use hearth::hmis_csv::{sample, Version};
    let (pool, app, coc, agency) = crate::hmis_import::world(4).await;
    let admin = app.token("import-keyed", &[Role::AgencyAdmin], Some(agency));
    let files = sample::generate(Version::Fy2026, 3, &coc);
    let zip = sample::zip(&files);
    let upload = |bytes: Vec<u8>, query: String| {
        let req = actix_web::test::TestRequest::post()
            .uri(&format!("/v1/imports/hmis-csv?{query}"))
            .insert_header(("Authorization", format!("Bearer {admin}")))
            .insert_header(("Content-Type", "application/zip"))
            .insert_header(("Idempotency-Key", "nightly-export-1"))
            .set_payload(bytes)
            .to_request();
        app.raw(req)
    };
    let first = upload(zip.clone(), format!("agency={agency}")).await;
    let job = first.ok(202).clone();
    assert!(first.header("idempotent-replayed").is_none());
    let again = upload(zip.clone(), format!("agency={agency}")).await;
    assert_eq!(again.header("idempotent-replayed").as_deref(), Some("true"));
    assert_eq!(again.ok(202)["id"], job["id"]);
    assert_eq!(again.header("location"), first.header("location"));
    // Other bytes, or another mode, under the same key: another request.
    let mut other = zip.clone();
    other.extend_from_slice(b" ");
    let r = upload(other, format!("agency={agency}")).await;
    assert_eq!(
        r.problem(422)["errors"][0]["code"],
        "idempotency_key_reused"
    );
    let r = upload(zip, format!("agency={agency}&mode=lenient")).await;
    r.problem(422);
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let jobs = diesel::sql_query("SELECT count(*) AS n FROM import_jobs WHERE agency_id = $1")
        .bind::<diesel::sql_types::Uuid, _>(agency)
        .get_result::<N>(&mut pool.get().unwrap())
        .unwrap()
        .n;
    assert_eq!(jobs, 1, "the replay queued no second job");
    // Let the one job finish before the pool goes.
    let location = first.header("location").unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    loop {
        let now = app.get(&location, &admin).await.ok(200).clone();
        if now["status"] == "succeeded" || now["status"] == "failed" {
            assert_eq!(now["status"], "succeeded", "{now}");
            break;
        }
        assert!(std::time::Instant::now() < deadline);
        actix_web::rt::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[actix_web::test]
async fn a_replay_that_answers_a_record_in_full_is_audited() {
    // consent.md, Audit: every read at level full appends an audit event; a replay answers the
    // stored answer (with the record's PII) again.
    let app = spawn().await;
    let coc = app.coc(json!({})).await;
    let a = app.agency(&coc, true).await;
    let worker = app.token("cw-replay", &[Role::CaseWorker], Some(a));
    let admin = app.token("aa-replay", &[Role::AgencyAdmin], Some(a));
    let first = post_keyed(
        &app,
        "/v1/clients",
        &worker,
        private_client(),
        "k-audit",
        false,
    )
    .await;
    let id = first.ok(201)["client"]["id"].as_str().unwrap().to_string();
    let replays = |r: &Reply| {
        r.ok(200)["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["action"] == "replay")
            .count()
    };
    let audit = format!("/v1/clients/{id}/audit");
    assert_eq!(replays(&app.get(&audit, &admin).await), 0);
    let again = post_keyed(
        &app,
        "/v1/clients",
        &worker,
        private_client(),
        "k-audit",
        false,
    )
    .await;
    assert_eq!(again.header("idempotent-replayed").as_deref(), Some("true"));
    assert_eq!(replays(&app.get(&audit, &admin).await), 1);
}
