//! Idempotency keys belong to the whole principal, a replay is authorized again, and stored
//! answers (which may hold PII) expire (issue 11, item 2).

use diesel::RunQueryDsl;
use hearth::consent::Role;
use serde_json::{json, Value};
use uuid::Uuid;

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
