//! ROI grant, history and revocation through the API.
//!
//! Written from design/consent.md ("Workflows", "Record rule", "Datum rule") and the ROI job aid.

use actix_http::Request;
use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use hearth::consent::Role;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::harness::*;

fn identified() -> Value {
    json!({"identity_mode": "identified", "first_name": "Octavia", "last_name": "Brackenridge",
           "dob": "1975-09-02"})
}

fn today() -> chrono::NaiveDate {
    chrono::Utc::now().date_naive()
}

fn access(v: &Value) -> (String, String) {
    (
        v["access"]["level"].as_str().unwrap_or("?").to_string(),
        v["access"]["basis"].as_str().unwrap_or("null").to_string(),
    )
}

fn pair(level: &str, basis: &str) -> (String, String) {
    (level.to_string(), basis.to_string())
}

/// A CoC, one agency in it and a case worker of that agency.
struct Tenant {
    coc: String,
    worker: String,
}

async fn tenant<S, B>(app: &TestApp<S>, policy: Value) -> Tenant
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let coc = app.coc(policy).await;
    let (_, worker) = member(app, &coc, true, &[Role::CaseWorker]).await;
    Tenant { coc, worker }
}

async fn member<S, B>(app: &TestApp<S>, coc: &str, shares: bool, roles: &[Role]) -> (Uuid, String)
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let agency = app.agency(coc, shares).await;
    (
        agency,
        app.token(&format!("u-{agency}"), roles, Some(agency)),
    )
}

/// A closed identified record: its path.
async fn closed_record<S, B>(app: &TestApp<S>, token: &str) -> String
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let r = app.post("/v1/clients", token, identified()).await;
    assert_eq!(r.ok(201)["client"]["visibility"], "closed");
    format!("/v1/clients/{}", r.body["client"]["id"].as_str().unwrap())
}

/// A closed record opened by a statewide ROI: (record path, consent id).
async fn opened_record<S, B>(app: &TestApp<S>, token: &str) -> (String, String)
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let path = closed_record(app, token).await;
    let r = app
        .post(
            &format!("{path}/consents"),
            token,
            json!({"method": "signed"}),
        )
        .await;
    let cid = r.ok(201)["consent"]["id"].as_str().unwrap().to_string();
    (path, cid)
}

/// `agency_token` enters data into the record (a PATCH while it sees it in full).
async fn contribute<S, B>(app: &TestApp<S>, path: &str, agency_token: &str)
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let r = app.get(path, agency_token).await;
    r.ok(200);
    let etag = r.header("etag").unwrap();
    app.patch(
        path,
        agency_token,
        Some(&etag),
        json!({"veteran_status": 1}),
    )
    .await
    .ok(200);
}

fn changes(v: &Value) -> String {
    v["changes"].to_string().to_lowercase()
}

#[actix_web::test]
async fn grant_in_window_mode_opens_a_closed_record_to_sharing_agencies() {
    let app = spawn().await;
    let t = tenant(&app, json!({})).await;
    let path = closed_record(&app, &t.worker).await;
    let other = tenant(&app, json!({})).await;
    app.get(&path, &other.worker).await.problem(404);

    let r = app
        .post(
            &format!("{path}/consents"),
            &t.worker,
            json!({"method": "signed", "documentation_note": "form in binder 3"}),
        )
        .await;
    let o = r.ok(201);
    assert_eq!(o["consent"]["active"], true);
    assert_eq!(o["consent"]["effective_from"], today().to_string());
    assert_eq!(o["consent"]["scope"]["type"], "statewide");
    assert_eq!(o["consent"]["revoked_on"], Value::Null);
    assert_eq!(o["client"]["visibility"], "open");
    assert!(changes(o).contains("open"), "{o}");
    assert!(r.header("location").is_some());

    // Record rule row 3: a sharing agency anywhere in the installation, full.
    let r = app.get(&path, &other.worker).await;
    assert_eq!(access(r.ok(200)), pair("full", "statewide_roi"));
    assert_eq!(r.body["first_name"], "Octavia");
    // The CoC lead of the record's CoC too, now in full.
    let (_, lead) = member(&app, &t.coc, false, &[Role::CocAdmin]).await;
    assert_eq!(
        access(app.get(&path, &lead).await.ok(200)),
        pair("full", "statewide_roi")
    );
    // Not a sharing agency: still none.
    let (_, loner) = member(&app, &other.coc, false, &[Role::CaseWorker]).await;
    app.get(&path, &loner).await.problem(404);
}

#[actix_web::test]
async fn a_future_roi_opens_nothing_until_it_takes_effect() {
    let app = spawn().await;
    let t = tenant(&app, json!({})).await;
    let path = closed_record(&app, &t.worker).await;
    let from = today() + chrono::Duration::days(10);
    let r = app
        .post(
            &format!("{path}/consents"),
            &t.worker,
            json!({"method": "verbal", "effective_from": from}),
        )
        .await;
    let o = r.ok(201);
    assert_eq!(o["consent"]["active"], false);
    assert!(!o["warnings"].as_array().unwrap().is_empty(), "{o}");
    let other = tenant(&app, json!({})).await;
    app.get(&path, &other.worker).await.problem(404);
    // The explanation for that agency, asked by an admin, says why.
    let other_agency = app.agency(&other.coc, true).await;
    let e = app
        .get(
            &format!("{path}/access?agency_id={other_agency}"),
            &app.admin,
        )
        .await;
    assert_eq!(e.ok(200)["level"], "none");
    assert!(
        e.body["explanation"]
            .as_str()
            .unwrap()
            .contains(&from.to_string()),
        "{}",
        e.body
    );
}

#[actix_web::test]
async fn an_roi_scoped_to_cocs_opens_the_record_to_those_cocs_only() {
    let app = spawn().await;
    let t = tenant(&app, json!({})).await;
    let near = tenant(&app, json!({})).await;
    let far = tenant(&app, json!({})).await;
    let path = closed_record(&app, &t.worker).await;
    let r = app
        .post(
            &format!("{path}/consents"),
            &t.worker,
            json!({"method": "signed", "scope": {"type": "cocs", "coc_codes": [t.coc, near.coc]}}),
        )
        .await;
    assert_eq!(
        r.ok(201)["consent"]["scope"]["coc_codes"],
        json!([t.coc, near.coc])
    );
    assert_eq!(
        access(app.get(&path, &near.worker).await.ok(200)),
        pair("full", "statewide_roi")
    );
    app.get(&path, &far.worker).await.problem(404);
}

#[actix_web::test]
async fn history_lists_every_roi_oldest_first() {
    let app = spawn().await;
    let t = tenant(&app, json!({})).await;
    let (path, first) = opened_record(&app, &t.worker).await;
    app.post(
        &format!("{path}/consents/{first}/revoke"),
        &t.worker,
        json!({}),
    )
    .await
    .ok(200);
    let r = app
        .post(
            &format!("{path}/consents"),
            &t.worker,
            json!({"method": "verbal"}),
        )
        .await;
    let second = r.ok(201)["consent"]["id"].as_str().unwrap().to_string();
    assert_eq!(r.body["client"]["visibility"], "open");

    let r = app.get(&format!("{path}/consents"), &t.worker).await;
    let items = r.ok(200)["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 2, "{items:?}");
    assert_eq!(items[0]["id"], first.as_str());
    assert_eq!(items[0]["revoked_on"], today().to_string());
    assert_eq!(items[0]["active"], false);
    assert_eq!(items[1]["id"], second.as_str());
    assert_eq!(items[1]["method"], "verbal");
    assert_eq!(items[1]["active"], true);
    // Someone who cannot see the record cannot see its consents.
    let other = tenant(&app, json!({})).await;
    let (_, loner) = member(&app, &other.coc, false, &[Role::CaseWorker]).await;
    app.get(&format!("{path}/consents"), &loner)
        .await
        .problem(404);
}

#[actix_web::test]
async fn revoke_scenario_1_closes_a_record_only_its_creator_has_data_in() {
    let app = spawn().await;
    let t = tenant(&app, json!({})).await;
    let (path, cid) = opened_record(&app, &t.worker).await;
    let other = tenant(&app, json!({})).await;
    app.get(&path, &other.worker).await.ok(200);

    let r = app
        .post(
            &format!("{path}/consents/{cid}/revoke"),
            &t.worker,
            json!({}),
        )
        .await;
    let o = r.ok(200);
    assert_eq!(o["scenario"], "creating_agency_only");
    assert_eq!(o["client"]["visibility"], "closed");
    assert_eq!(o["consent"]["revoked_on"], today().to_string());
    assert_eq!(o["consent"]["active"], false);
    assert!(changes(o).contains("closed"), "{o}");
    // The job aid emails the helpdesk in both scenarios; the server records a notice instead.
    assert!(o["helpdesk_notice_id"].is_string(), "{o}");
    app.get(&path, &other.worker).await.problem(404);
    assert_eq!(
        access(app.get(&path, &t.worker).await.ok(200)),
        pair("full", "creating_agency")
    );
    // Revoking it again is a conflict.
    app.post(
        &format!("{path}/consents/{cid}/revoke"),
        &t.worker,
        json!({}),
    )
    .await
    .problem(409);
}

#[actix_web::test]
async fn revoke_scenario_2_leaves_contributors_their_access_and_tells_the_helpdesk() {
    let app = spawn().await;
    let t = tenant(&app, json!({})).await;
    let (path, cid) = opened_record(&app, &t.worker).await;
    let client_id = path.rsplit('/').next().unwrap().to_string();
    // A sharing agency of another CoC enters data; another only looks.
    let contributor = tenant(&app, json!({})).await;
    let onlooker = tenant(&app, json!({})).await;
    contribute(&app, &path, &contributor.worker).await;
    app.get(&path, &onlooker.worker).await.ok(200);

    let r = app
        .post(
            &format!("{path}/consents/{cid}/revoke"),
            &t.worker,
            json!({"revoked_on": today()}),
        )
        .await;
    let o = r.ok(200).clone();
    assert_eq!(o["scenario"], "other_agencies_have_data");
    assert_eq!(o["client"]["visibility"], "closed");
    assert!(!o["warnings"].as_array().unwrap().is_empty(), "{o}");
    let notice_id = o["helpdesk_notice_id"]
        .as_str()
        .expect("a notice")
        .to_string();

    // Record rule row 4: the contributor keeps full access; the onlooker loses it.
    let r = app.get(&path, &contributor.worker).await;
    assert_eq!(access(r.ok(200)), pair("full", "contributor"));
    app.get(&path, &onlooker.worker).await.problem(404);

    // The CoC's admins see the notice; another CoC's do not; a case worker may not list them.
    let (_, lead) = member(&app, &t.coc, false, &[Role::CocAdmin]).await;
    let r = app.get("/v1/helpdesk-notices", &lead).await;
    let items = r.ok(200)["items"].as_array().unwrap().clone();
    let n = items
        .iter()
        .find(|n| n["id"] == notice_id.as_str())
        .unwrap_or_else(|| panic!("{items:?}"));
    assert_eq!(n["client_id"], client_id.as_str());
    assert_eq!(n["coc_code"], t.coc.as_str());
    assert!(n["kind"].as_str().unwrap().contains("revoked"), "{n}");
    assert!(!n.to_string().contains("Octavia"));
    let (_, far_lead) = member(&app, &onlooker.coc, false, &[Role::CocAdmin]).await;
    let r = app.get("/v1/helpdesk-notices", &far_lead).await;
    assert!(!r.ok(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|n| n["id"] == notice_id.as_str()));
    app.get("/v1/helpdesk-notices", &t.worker)
        .await
        .problem(403);

    app.post(
        &format!("{path}/consents/{cid}/revoke"),
        &t.worker,
        json!({}),
    )
    .await
    .problem(409);
}

#[actix_web::test]
async fn invalid_rois_are_refused() {
    let app = spawn().await;
    let t = tenant(&app, json!({})).await;
    let path = closed_record(&app, &t.worker).await;
    let consents = format!("{path}/consents");
    let d = |days: i64| (today() + chrono::Duration::days(days)).to_string();
    for (body, field) in [
        (
            json!({"method": "signed", "effective_from": d(0), "expires_on": d(-5)}),
            "expires_on",
        ),
        (
            json!({"method": "signed", "effective_from": d(3), "expires_on": d(3)}),
            "expires_on",
        ),
        (
            json!({"method": "signed", "scope": {"type": "cocs", "coc_codes": ["ZQ-999"]}}),
            "scope.coc_codes[0]",
        ),
        (json!({"effective_from": d(0)}), "method"),
        (json!({"method": "telepathic"}), "method"),
        (
            json!({"method": "signed", "expires_on": "someday"}),
            "expires_on",
        ),
    ] {
        let r = app.post(&consents, &t.worker, body.clone()).await;
        r.problem(422);
        assert!(
            r.error_fields().iter().any(|f| f == field),
            "{body}: {:?}",
            r.error_fields()
        );
    }
    // Nothing was recorded, and the record is still closed.
    let r = app.get(&consents, &t.worker).await;
    assert_eq!(r.ok(200)["items"], json!([]));
    assert_eq!(app.get(&path, &t.worker).await.body["visibility"], "closed");

    // A revocation dated in the future; a consent that does not exist.
    let (path, cid) = opened_record(&app, &t.worker).await;
    let r = app
        .post(
            &format!("{path}/consents/{cid}/revoke"),
            &t.worker,
            json!({"revoked_on": d(7)}),
        )
        .await;
    assert_eq!(r.problem(422)["errors"][0]["field"], "revoked_on");
    app.post(
        &format!("{path}/consents/{}/revoke", Uuid::now_v7()),
        &t.worker,
        json!({}),
    )
    .await
    .problem(404);
    // A record the caller cannot see: 404, not 403.
    let other = tenant(&app, json!({})).await;
    let hidden = closed_record(&app, &t.worker).await;
    app.post(
        &format!("{hidden}/consents"),
        &other.worker,
        json!({"method": "signed"}),
    )
    .await
    .problem(404);
}

#[actix_web::test]
async fn split_mode_is_not_supported_yet() {
    let app = spawn().await;
    let t = tenant(&app, json!({"roi_grant_mode": "split"})).await;
    let path = closed_record(&app, &t.worker).await;
    let r = app
        .post(
            &format!("{path}/consents"),
            &t.worker,
            json!({"method": "signed"}),
        )
        .await;
    r.problem(409);
    let r = app.get(&format!("{path}/consents"), &t.worker).await;
    assert_eq!(r.ok(200)["items"], json!([]));
    assert_eq!(app.get(&path, &t.worker).await.body["visibility"], "closed");
}

#[actix_web::test]
async fn grant_and_revoke_are_audited() {
    let app = spawn().await;
    let t = tenant(&app, json!({})).await;
    let (path, cid) = opened_record(&app, &t.worker).await;
    app.post(
        &format!("{path}/consents/{cid}/revoke"),
        &t.worker,
        json!({}),
    )
    .await
    .ok(200);
    let r = app.get(&format!("{path}/audit"), &app.admin).await;
    let actions: Vec<String> = r.ok(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect();
    for a in ["create", "roi_granted", "roi_revoked"] {
        assert!(actions.iter().any(|x| x == a), "{a} in {actions:?}");
    }
}
