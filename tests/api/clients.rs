//! Client records through the API (identity modes, access levels, PATCH, visibility, search, audit).
//!
//! Written from design/consent.md and design/api.md; each test names the rule it rests on.

use actix_http::Request;
use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use chrono::Datelike;
use hearth::consent::Role;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::harness::*;

/// The app type `spawn()` answers, nameable in helpers.
pub trait Svc: Service<Request, Response = ServiceResponse<Self::Out>, Error = actix_web::Error> {
    type Out: MessageBody;
}
impl<S, B: MessageBody> Svc for S
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
{
    type Out = B;
}

const FIRST: &str = "Rosalind";
const LAST: &str = "Featherstonehaugh";
const SSN: &str = "524-71-9932";
const DOB: &str = "1981-06-14";
/// Keys that carry PII (consent.md, "Access levels"): absent, not null, below level full.
const PII_KEYS: &[&str] = &[
    "first_name",
    "middle_name",
    "last_name",
    "name_suffix",
    "alias",
    "ssn",
    "dob",
    "additional_race_ethnicity",
    "different_identity_text",
];

fn identified() -> Value {
    json!({"identity_mode": "identified", "first_name": FIRST, "last_name": LAST,
           "ssn": SSN, "dob": DOB, "veteran_status": 0})
}

fn text(r: &Reply) -> String {
    String::from_utf8_lossy(&r.raw).into_owned()
}

/// A 4xx problem that names `field` and does not repeat `secret`.
fn assert_refused(r: &Reply, field: &str, secret: &str, what: &str) {
    assert!(
        r.status.is_client_error(),
        "{what}: {} {}",
        r.status,
        r.body
    );
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("application/problem+json"),
        "{what}"
    );
    assert!(
        r.error_fields().iter().any(|f| f == field),
        "{what}: expected field {field}, got {:?}",
        r.error_fields()
    );
    if !secret.is_empty() {
        assert!(!text(r).contains(secret), "{what}: echoed: {}", text(r));
    }
}

fn assert_no_pii(client: &Value) {
    for k in PII_KEYS {
        assert!(client.get(k).is_none(), "key {k} present: {client}");
    }
    let s = client.to_string();
    for v in [FIRST, LAST, SSN, "5247", "9932", DOB] {
        assert!(!s.contains(v), "value {v} present: {s}");
    }
}

fn today() -> chrono::NaiveDate {
    chrono::Utc::now().date_naive()
}

struct Tenant {
    coc: String,
    agency: Uuid,
    worker: String,
}

async fn tenant<S, B>(app: &TestApp<S>, policy: Value, shares: bool) -> Tenant
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let coc = app.coc(policy).await;
    let agency = app.agency(&coc, shares).await;
    let worker = app.token(&format!("w-{agency}"), &[Role::CaseWorker], Some(agency));
    Tenant {
        coc,
        agency,
        worker,
    }
}

/// Another agency in `coc`, answered with a case worker's token.
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

/// Creates `body` and answers (id, ETag).
async fn create_with<S, B>(app: &TestApp<S>, token: &str, body: Value) -> (String, String)
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let r = app.post("/v1/clients", token, body).await;
    let id = r.ok(201)["client"]["id"].as_str().unwrap().to_string();
    (id, r.header("etag").expect("ETag on create"))
}

async fn create_identified<S, B>(app: &TestApp<S>, token: &str) -> (String, String)
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    create_with(app, token, identified()).await
}

/// An identified record, open under a statewide ROI given at intake.
async fn create_open<S, B>(app: &TestApp<S>, token: &str) -> (String, String)
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let mut body = identified();
    body["visibility"] = json!("open");
    body["roi"] = json!({"method": "signed", "scope": {"type": "statewide"}});
    create_with(app, token, body).await
}

async fn etag_of<S, B>(app: &TestApp<S>, id: &str, token: &str) -> String
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let r = app.get(&format!("/v1/clients/{id}"), token).await;
    r.ok(200);
    r.header("etag").expect("ETag on GET")
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

// ---------------------------------------------------------------- identity modes

#[actix_web::test]
async fn anonymous_record_is_named_and_dated_by_the_default_policy() {
    let app = spawn().await;
    let t = tenant(&app, json!({}), true).await;
    let r = app
        .post(
            "/v1/clients",
            &t.worker,
            json!({"identity_mode": "anonymous", "birth_year": 1979, "veteran_status": 0}),
        )
        .await;
    let c = r.ok(201)["client"].clone();
    assert_eq!(c["first_name"], c["short_uid"], "uid_anonymous: {c}");
    assert_eq!(c["last_name"], "Anonymous");
    assert_eq!(c["name_data_quality"], 9);
    assert_eq!(c["dob"], "1979-01-01");
    assert_eq!(c["dob_data_quality"], 2);
    assert_eq!(c["ssn"], Value::Null);
    assert_eq!(c["ssn_data_quality"], 99);
    assert_eq!(c["identity_mode"], "anonymous");
    assert_eq!(access(&c), pair("full", "creating_agency"));
    let id = c["id"].as_str().unwrap();
    assert_eq!(r.header("location"), Some(format!("/v1/clients/{id}")));
    assert!(r.header("etag").is_some());
}

#[actix_web::test]
async fn anonymous_record_follows_a_non_default_policy() {
    let app = spawn().await;
    let policy = json!({"anonymous_name_format": "anonymous_anonymous",
        "anonymous_dob_rule": "jan1_of_next_year_unless_young_or_old", "anonymous_ssn_quality": 9});
    let t = tenant(&app, policy, true).await;
    let year = today().year();
    // Age 47: Jan 1 of the next year. Age 20 and age 70: the true year (Spokane).
    for (born, shown) in [
        (year - 47, year - 46),
        (year - 20, year - 20),
        (year - 70, year - 70),
    ] {
        let r = app
            .post(
                "/v1/clients",
                &t.worker,
                json!({"identity_mode": "anonymous", "birth_year": born}),
            )
            .await;
        let c = &r.ok(201)["client"];
        assert_eq!(c["first_name"], "Anonymous");
        assert_eq!(c["last_name"], "Anonymous");
        assert_eq!(c["dob"], format!("{shown}-01-01"), "born {born}");
        assert_eq!(c["dob_data_quality"], 2);
        assert_eq!(c["ssn_data_quality"], 9);
    }
}

#[actix_web::test]
async fn anonymous_record_refuses_every_pii_field_without_echoing_it() {
    let app = spawn().await;
    let t = tenant(&app, json!({}), true).await;
    for (field, value) in [
        ("first_name", json!("Zebulon")),
        ("last_name", json!("Quartermaine")),
        ("middle_name", json!("Ignatius")),
        ("alias", json!("Zebbie")),
        ("name_suffix", json!("Jr")),
        ("ssn", json!("524-71-9932")),
        ("dob", json!("1979-03-13")),
        (
            "additional_race_ethnicity",
            json!("call me at 509-555-0147"),
        ),
    ] {
        let body = json!({"identity_mode": "anonymous", "birth_year": 1979, field: value});
        let r = app.post("/v1/clients", &t.worker, body).await;
        r.problem(422);
        assert_refused(&r, field, value.as_str().unwrap(), field);
    }
    // Quality codes the policy sets cannot be overridden.
    let r = app
        .post(
            "/v1/clients",
            &t.worker,
            json!({"identity_mode": "anonymous", "name_data_quality": 1}),
        )
        .await;
    r.problem(422);
    assert_refused(&r, "name_data_quality", "", "anonymous name quality 1");
}

#[actix_web::test]
async fn consent_refused_record_holds_no_name_or_ssn_and_is_never_open() {
    let app = spawn().await;
    let t = tenant(&app, json!({}), true).await;
    let r = app
        .post(
            "/v1/clients",
            &t.worker,
            json!({"identity_mode": "consent_refused", "gender": [1]}),
        )
        .await;
    let c = &r.ok(201)["client"];
    assert_eq!(c["identity_mode"], "consent_refused");
    assert_eq!(c["visibility"], "closed");
    assert_eq!(c["name_data_quality"], 9);
    assert_eq!(c["ssn_data_quality"], 9);
    assert_eq!(c["first_name"], Value::Null);
    assert_eq!(c["ssn"], Value::Null);
    let r = app
        .post(
            "/v1/clients",
            &t.worker,
            json!({"identity_mode": "consent_refused", "visibility": "private", "dob": DOB}),
        )
        .await;
    assert_eq!(r.ok(201)["client"]["visibility"], "private");
    assert_eq!(r.body["client"]["dob"], DOB);
    for (field, value) in [
        ("first_name", "Zebulon"),
        ("last_name", "Quartermaine"),
        ("ssn", "524-71-9932"),
    ] {
        let r = app
            .post(
                "/v1/clients",
                &t.worker,
                json!({"identity_mode": "consent_refused", field: value}),
            )
            .await;
        r.problem(422);
        assert_refused(&r, field, value, field);
    }
    for v in ["open", "locked"] {
        let r = app
            .post(
                "/v1/clients",
                &t.worker,
                json!({"identity_mode": "consent_refused", "visibility": v}),
            )
            .await;
        r.problem(422);
        assert_refused(&r, "visibility", "", v);
    }
}

#[actix_web::test]
async fn code_name_record_starts_locked() {
    let app = spawn().await;
    let t = tenant(&app, json!({}), true).await;
    let r = app
        .post(
            "/v1/clients",
            &t.worker,
            json!({"identity_mode": "code_name", "first_name": "Shorty"}),
        )
        .await;
    let c = &r.ok(201)["client"];
    assert_eq!(c["visibility"], "locked");
    assert_eq!(c["name_data_quality"], 2);
    assert_eq!(c["ssn_data_quality"], 99);
    assert_eq!(c["first_name"], "Shorty");
    for (body, field) in [
        (
            json!({"identity_mode": "code_name", "first_name": "Shorty", "visibility": "open"}),
            "visibility",
        ),
        (
            json!({"identity_mode": "code_name", "first_name": "Shorty", "ssn": SSN}),
            "ssn",
        ),
    ] {
        let r = app.post("/v1/clients", &t.worker, body.clone()).await;
        r.problem(422);
        assert_refused(&r, field, SSN, &body.to_string());
    }
}

#[actix_web::test]
async fn identified_record_is_open_only_with_an_roi_in_the_same_request() {
    let app = spawn().await;
    let t = tenant(&app, json!({}), true).await;
    let mut body = identified();
    body["visibility"] = json!("open");
    let r = app.post("/v1/clients", &t.worker, body).await;
    r.problem(422);
    assert_refused(&r, "visibility", FIRST, "open without roi");
    assert!(!text(&r).contains(SSN));

    let r = app.post("/v1/clients", &t.worker, identified()).await;
    let c = &r.ok(201)["client"];
    assert_eq!(c["visibility"], "closed");
    assert_eq!(c["first_name"], FIRST);
    assert_eq!(c["ssn"], SSN);
    assert_eq!(c["ssn_data_quality"], 1);
    assert_eq!(c["name_data_quality"], 1);
    assert_eq!(c["created_by_your_agency"], true);

    let (id, _) = create_open(&app, &t.worker).await;
    let r = app.get(&format!("/v1/clients/{id}"), &t.worker).await;
    assert_eq!(r.ok(200)["visibility"], "open");
}

// ---------------------------------------------------------------- validation

#[actix_web::test]
async fn validation_names_the_field_never_the_value_and_never_5xx() {
    let app = spawn().await;
    let t = tenant(&app, json!({}), true).await;
    let future = (today() + chrono::Duration::days(30)).to_string();
    let with = |extra: Value| {
        let mut b = identified();
        for (k, v) in extra.as_object().unwrap() {
            if v.is_null() {
                b.as_object_mut().unwrap().remove(k);
            } else {
                b[k] = v.clone();
            }
        }
        b
    };
    let cases: Vec<(Value, &str, String)> = vec![
        (
            with(json!({"name_data_quality": 9})),
            "name_data_quality",
            FIRST.into(),
        ),
        (
            with(json!({"ssn_data_quality": 99})),
            "ssn_data_quality",
            SSN.into(),
        ),
        (
            with(json!({"ssn": null, "ssn_data_quality": 1})),
            "ssn_data_quality",
            String::new(),
        ),
        (
            with(json!({"dob_data_quality": 99})),
            "dob_data_quality",
            DOB.into(),
        ),
        (
            with(json!({"dob": null, "dob_data_quality": 1})),
            "dob_data_quality",
            String::new(),
        ),
        (
            with(json!({"ssn": "000-00-0000"})),
            "ssn",
            "000-00-0000".into(),
        ),
        (
            with(json!({"ssn": "111-11-1111"})),
            "ssn",
            "111-11-1111".into(),
        ),
        (
            with(json!({"ssn": "123-45-6789"})),
            "ssn",
            "123-45-6789".into(),
        ),
        (
            with(json!({"ssn": "666-12-3456"})),
            "ssn",
            "666-12-3456".into(),
        ),
        (
            with(json!({"ssn": "900-12-3456"})),
            "ssn",
            "900-12-3456".into(),
        ),
        (
            with(json!({"ssn": "52-471-99321"})),
            "ssn",
            "52-471-99321".into(),
        ),
        (with(json!({"ssn": "5247199x2"})), "ssn", "5247199x2".into()),
        (with(json!({"dob": future})), "dob", future.clone()),
        (
            with(json!({"dob": "1899-12-31"})),
            "dob",
            "1899-12-31".into(),
        ),
        (
            with(json!({"dob": "1981-02-30"})),
            "dob",
            "1981-02-30".into(),
        ),
        (
            with(json!({"identity_mode": "famous"})),
            "identity_mode",
            "famous".into(),
        ),
        (
            with(json!({"visibility": "public"})),
            "visibility",
            "public".into(),
        ),
        (
            with(json!({"first_name": 4242424})),
            "first_name",
            "4242424".into(),
        ),
        (
            with(json!({"name_data_quality": "one"})),
            "name_data_quality",
            String::new(),
        ),
        (
            with(json!({"veteran_status": 7})),
            "veteran_status",
            String::new(),
        ),
        (
            with(json!({"favourite_colour": "teal"})),
            "favourite_colour",
            "teal".into(),
        ),
        (
            json!({"identity_mode": "consent_refused", "name_data_quality": 1}),
            "name_data_quality",
            String::new(),
        ),
        (
            json!({"identity_mode": "consent_refused", "dob_data_quality": 1}),
            "dob_data_quality",
            String::new(),
        ),
        (
            json!({"identity_mode": "code_name", "first_name": "Shorty", "name_data_quality": 9}),
            "name_data_quality",
            "Shorty".into(),
        ),
        (
            json!({"identity_mode": "anonymous", "birth_year": 1850}),
            "birth_year",
            "1850".into(),
        ),
        (
            json!({"identity_mode": "anonymous", "birth_year": "nineteen-seventy"}),
            "birth_year",
            "nineteen-seventy".into(),
        ),
    ];
    for (body, field, secret) in cases {
        let r = app.post("/v1/clients", &t.worker, body.clone()).await;
        assert_refused(&r, field, &secret, &body.to_string());
        assert_eq!(r.body["status"], r.status.as_u16(), "{body}");
    }
    // Nothing was created by any of them.
    let r = app
        .post("/v1/clients/search", &t.worker, json!({"last_name": LAST}))
        .await;
    assert_eq!(r.ok(200)["items"].as_array().unwrap().len(), 0);
}

// ---------------------------------------------------------------- reading

#[actix_web::test]
async fn read_levels_and_a_hidden_record_answers_like_an_unknown_one() {
    let app = spawn().await;
    let t = tenant(&app, json!({}), true).await;
    let (id, _) = create_identified(&app, &t.worker).await;
    let path = format!("/v1/clients/{id}");

    let r = app.get(&path, &t.worker).await;
    assert_eq!(access(r.ok(200)), pair("full", "creating_agency"));
    assert_eq!(r.body["first_name"], FIRST);
    assert!(r.header("etag").is_some());

    // Another CoC's sharing agency: 404, the same bytes as an id that does not exist.
    let other = tenant(&app, json!({}), true).await;
    let hidden = app.get(&path, &other.worker).await;
    hidden.problem(404);
    let unknown = app
        .get(&format!("/v1/clients/{}", Uuid::now_v7()), &other.worker)
        .await;
    unknown.problem(404);
    assert_eq!(text(&hidden), text(&unknown));
    // A non-sharing agency of the same CoC does not see a closed record either.
    let (_, neighbour) = member(&app, &t.coc, true, &[Role::CaseWorker]).await;
    let r = app.get(&path, &neighbour).await;
    r.problem(404);
    assert_eq!(r.raw, unknown.raw);

    // The CoC lead: limited, coc_aggregate, no PII keys at all.
    let (_, lead) = member(&app, &t.coc, false, &[Role::CocAdmin]).await;
    let r = app.get(&path, &lead).await;
    let c = r.ok(200);
    assert_eq!(access(c), pair("limited", "coc_aggregate"));
    assert_eq!(c["veteran_status"], 0);
    assert_no_pii(c);
    // Another CoC's lead: none.
    let (_, far_lead) = member(&app, &other.coc, false, &[Role::CocAdmin]).await;
    assert_eq!(app.get(&path, &far_lead).await.problem(404), &unknown.body);
}

#[actix_web::test]
async fn a_sharing_agency_sees_an_open_record_until_its_roi_is_revoked() {
    let app = spawn().await;
    let t = tenant(&app, json!({}), true).await;
    let (id, _) = create_open(&app, &t.worker).await;
    let path = format!("/v1/clients/{id}");
    let other = tenant(&app, json!({}), true).await;
    let r = app.get(&path, &other.worker).await;
    assert_eq!(access(r.ok(200)), pair("full", "statewide_roi"));
    assert_eq!(r.body["first_name"], FIRST);
    assert_eq!(r.body["created_by_your_agency"], false);
    // Not sharing data: none, even though the record is open.
    let (_, loner) = member(&app, &other.coc, false, &[Role::CaseWorker]).await;
    app.get(&path, &loner).await.problem(404);

    let roi = app.get(&format!("{path}/consents"), &t.worker).await;
    let cid = roi.ok(200)["items"][0]["id"].as_str().unwrap().to_string();
    app.post(
        &format!("{path}/consents/{cid}/revoke"),
        &t.worker,
        json!({}),
    )
    .await
    .ok(200);
    app.get(&path, &other.worker).await.problem(404);
}

#[actix_web::test]
async fn break_glass_read_needs_a_reason_and_is_audited() {
    let app = spawn().await;
    let t = tenant(&app, json!({}), true).await;
    let (id, _) = create_identified(&app, &t.worker).await;
    let path = format!("/v1/clients/{id}");
    app.get(&path, &app.admin).await.problem(403);
    let r = app
        .send(Call {
            method: "GET",
            path: &path,
            token: Some(&app.admin),
            body: None,
            headers: vec![("X-Access-Reason", "ticket HD-4411".into())],
        })
        .await;
    assert_eq!(access(r.ok(200)), pair("full", "helpdesk"));
    assert_eq!(r.body["first_name"], FIRST);

    let r = app.get(&format!("{path}/audit"), &app.admin).await;
    let items = r.ok(200)["items"].as_array().unwrap().clone();
    let glass: Vec<&Value> = items
        .iter()
        .filter(|e| e["basis"] == "helpdesk" && e["action"] == "read")
        .collect();
    assert_eq!(glass.len(), 1, "{items:?}");
    assert_eq!(glass[0]["access_reason"], "ticket HD-4411");
    assert_eq!(glass[0]["actor"], "admin-1");
}

// ---------------------------------------------------------------- PATCH

#[actix_web::test]
async fn patch_needs_a_current_if_match() {
    let app = spawn().await;
    let t = tenant(&app, json!({}), true).await;
    let (id, _) = create_identified(&app, &t.worker).await;
    let path = format!("/v1/clients/{id}");
    let etag = etag_of(&app, &id, &t.worker).await;
    let change = json!({"first_name": "Rosalyn"});
    app.patch(&path, &t.worker, None, change.clone())
        .await
        .problem(428);
    app.patch(&path, &t.worker, Some("\"v999\""), change.clone())
        .await
        .problem(412);
    let r = app
        .patch(&path, &t.worker, Some(&etag), change.clone())
        .await;
    assert_eq!(r.ok(200)["client"]["first_name"], "Rosalyn");
    let new_etag = r.header("etag").unwrap();
    assert_ne!(new_etag, etag);
    assert_eq!(etag_of(&app, &id, &t.worker).await, new_etag);
    app.patch(&path, &t.worker, Some(&etag), json!({"first_name": "Ros"}))
        .await
        .problem(412);
    // A validation failure in a patch names the field.
    let r = app
        .patch(
            &path,
            &t.worker,
            Some(&new_etag),
            json!({"ssn": "123-45-6789"}),
        )
        .await;
    r.problem(422);
    assert_refused(&r, "ssn", "123-45-6789", "patch placeholder");
    // The CoC lead sees the record without PII and cannot change it.
    let (_, lead) = member(&app, &t.coc, false, &[Role::CocAdmin]).await;
    app.patch(&path, &lead, Some(&new_etag), json!({"veteran_status": 1}))
        .await
        .problem(403);
}

#[actix_web::test]
async fn anonymous_record_patch_refuses_names() {
    let app = spawn().await;
    let t = tenant(&app, json!({}), true).await;
    let (id, etag) = create_with(
        &app,
        &t.worker,
        json!({"identity_mode": "anonymous", "birth_year": 1990}),
    )
    .await;
    let path = format!("/v1/clients/{id}");
    let r = app
        .patch(
            &path,
            &t.worker,
            Some(&etag),
            json!({"first_name": "Zebulon"}),
        )
        .await;
    r.problem(422);
    assert_refused(&r, "first_name", "Zebulon", "anonymous patch");
    let r = app
        .patch(&path, &t.worker, Some(&etag), json!({"veteran_status": 1}))
        .await;
    assert_eq!(r.ok(200)["client"]["veteran_status"], 1);
    assert_eq!(r.body["client"]["last_name"], "Anonymous");
}

// ---------------------------------------------------------------- explanation

#[actix_web::test]
async fn access_is_explained_and_an_admin_can_ask_for_another_agency() {
    let app = spawn().await;
    let t = tenant(&app, json!({}), true).await;
    let (id, _) = create_identified(&app, &t.worker).await;
    let path = format!("/v1/clients/{id}/access");
    let r = app.get(&path, &t.worker).await;
    let e = r.ok(200);
    assert_eq!(
        (&e["level"], &e["basis"], &e["rule"]),
        (&json!("full"), &json!("creating_agency"), &json!(2))
    );
    assert!(!e["explanation"].as_str().unwrap().is_empty());
    let (_, lead) = member(&app, &t.coc, false, &[Role::CocAdmin]).await;
    let e = app.get(&path, &lead).await.ok(200).clone();
    assert_eq!(
        (&e["level"], &e["basis"], &e["rule"]),
        (&json!("limited"), &json!("coc_aggregate"), &json!(6))
    );
    assert!(!e.to_string().contains(FIRST));

    let other = tenant(&app, json!({}), true).await;
    let e = app
        .get(&format!("{path}?agency_id={}", other.agency), &app.admin)
        .await
        .ok(200)
        .clone();
    assert_eq!(
        (&e["level"], &e["basis"], &e["rule"]),
        (&json!("none"), &Value::Null, &json!(8))
    );
    assert_eq!(e["viewer"]["agency_id"], other.agency.to_string());
    assert!(!e["explanation"].as_str().unwrap().is_empty());
    let e = app
        .get(&format!("{path}?agency_id={}", t.agency), &app.admin)
        .await
        .ok(200)
        .clone();
    assert_eq!(e["basis"], "creating_agency");
    // Only an admin may ask for someone else; a hidden record is a 404 here too.
    app.get(&format!("{path}?agency_id={}", other.agency), &t.worker)
        .await
        .problem(403);
    app.get(&path, &other.worker).await.problem(404);
}

// ---------------------------------------------------------------- visibility

#[actix_web::test]
async fn visibility_rules() {
    let app = spawn().await;
    let t = tenant(&app, json!({}), true).await;
    let (id, _) = create_identified(&app, &t.worker).await;
    let vis = format!("/v1/clients/{id}/visibility");
    let r = app
        .put(&vis, &t.worker, json!({"visibility": "public"}))
        .await;
    r.problem(422);
    assert_eq!(r.error_fields(), vec!["visibility".to_string()]);
    // Open needs an active ROI.
    app.put(&vis, &t.worker, json!({"visibility": "open"}))
        .await
        .problem(409);
    let r = app
        .put(&vis, &t.worker, json!({"visibility": "private"}))
        .await;
    assert_eq!(r.ok(200)["client"]["visibility"], "private");
    let r = app
        .put(&vis, &t.worker, json!({"visibility": "closed"}))
        .await;
    assert_eq!(r.ok(200)["client"]["visibility"], "closed");

    // An open record: a sharing agency of the CoC sees it in full and contributes.
    let (id, _) = create_open(&app, &t.worker).await;
    let vis = format!("/v1/clients/{id}/visibility");
    let (_, partner) = member(&app, &t.coc, true, &[Role::CaseWorker]).await;
    let etag = etag_of(&app, &id, &partner).await;
    let r = app
        .patch(
            &format!("/v1/clients/{id}"),
            &partner,
            Some(&etag),
            json!({"veteran_status": 1}),
        )
        .await;
    assert_eq!(access(&r.ok(200)["client"]), pair("full", "statewide_roi"));
    // Only the creating agency decides how its record is shared.
    app.put(&vis, &partner, json!({"visibility": "closed"}))
        .await
        .problem(403);
    // Another agency contributed: private and locked are refused; closed is the way.
    for v in ["private", "locked"] {
        let r = app.put(&vis, &t.worker, json!({"visibility": v})).await;
        assert!(
            r.problem(409)["detail"]
                .as_str()
                .unwrap()
                .contains("closed"),
            "{}",
            r.body
        );
    }
    let r = app
        .put(&vis, &t.worker, json!({"visibility": "closed"}))
        .await;
    assert_eq!(r.ok(200)["client"]["visibility"], "closed");
    let r = app.get(&format!("/v1/clients/{id}"), &partner).await;
    assert_eq!(access(r.ok(200)), pair("full", "contributor"));
}

#[actix_web::test]
async fn designate_sharing_turns_a_code_name_record_identified() {
    let app = spawn().await;
    let t = tenant(&app, json!({}), true).await;
    let code = json!({"identity_mode": "code_name", "first_name": "Shorty"});
    let named = json!({"first_name": FIRST, "last_name": LAST, "ssn": SSN});
    let (id, _) = create_with(&app, &t.worker, code.clone()).await;
    let mut body = named.clone();
    body["visibility"] = json!("closed");
    let r = app
        .post(
            &format!("/v1/clients/{id}/designate-sharing"),
            &t.worker,
            body,
        )
        .await;
    let c = &r.ok(200)["client"];
    assert_eq!(
        (&c["identity_mode"], &c["visibility"]),
        (&json!("identified"), &json!("closed"))
    );
    assert_eq!(
        (&c["first_name"], &c["name_data_quality"]),
        (&json!(FIRST), &json!(1))
    );
    assert_eq!(c["ssn"], SSN);
    // A second time: the record is no longer code-name or locked.
    let mut again = named.clone();
    again["visibility"] = json!("private");
    app.post(
        &format!("/v1/clients/{id}/designate-sharing"),
        &t.worker,
        again,
    )
    .await
    .problem(409);

    // Open with an ROI given in the same request.
    let (id, _) = create_with(&app, &t.worker, code.clone()).await;
    let mut open = named.clone();
    open["visibility"] = json!("open");
    let r = app
        .post(
            &format!("/v1/clients/{id}/designate-sharing"),
            &t.worker,
            open.clone(),
        )
        .await;
    r.problem(409);
    open["roi"] = json!({"method": "verbal"});
    let r = app
        .post(
            &format!("/v1/clients/{id}/designate-sharing"),
            &t.worker,
            open,
        )
        .await;
    assert_eq!(r.ok(200)["client"]["visibility"], "open");
    let other = tenant(&app, json!({}), true).await;
    let r = app.get(&format!("/v1/clients/{id}"), &other.worker).await;
    assert_eq!(access(r.ok(200)), pair("full", "statewide_roi"));
}

// ---------------------------------------------------------------- search

fn hit_for<'a>(r: &'a Reply, id: &str) -> Option<&'a Value> {
    r.body["items"]
        .as_array()
        .and_then(|a| a.iter().find(|h| h["client"]["id"] == id))
}

#[actix_web::test]
async fn search_finds_what_the_caller_may_see_and_nothing_else() {
    let app = spawn().await;
    let t = tenant(&app, json!({}), true).await;
    let (id, _) = create_identified(&app, &t.worker).await;
    let uid = app.get(&format!("/v1/clients/{id}"), &t.worker).await.body["short_uid"]
        .as_str()
        .unwrap()
        .to_string();
    let search = "/v1/clients/search";
    for criteria in [
        json!({"client_id": id}),
        json!({"short_uid": uid}),
        json!({"short_uid": uid.to_lowercase()}),
        json!({"ssn": SSN}),
        json!({"ssn": "524719932"}),
        json!({"ssn": "9932", "dob": DOB}),
        json!({"first_name": "Rosalynd", "last_name": "Featherstonhaugh"}),
        json!({"last_name": "Featherstone", "dob": DOB}),
    ] {
        let r = app.post(search, &t.worker, criteria.clone()).await;
        r.ok(200);
        let hit = hit_for(&r, &id).unwrap_or_else(|| panic!("{criteria}: {}", r.body));
        assert_eq!(hit["client"]["created_by_your_agency"], true, "{criteria}");
        assert_eq!(access(&hit["client"]), pair("full", "creating_agency"));
        let score = hit["score"].as_f64().unwrap();
        assert!(score > 0.0 && score <= 1.0, "{criteria}: {score}");
        assert!(!hit["matched_on"].as_array().unwrap().is_empty());
    }
    let r = app
        .post(
            search,
            &t.worker,
            json!({"first_name": "Rosalynd", "last_name": "Featherstonhaugh"}),
        )
        .await;
    assert!(hit_for(&r, &id).unwrap()["score"].as_f64().unwrap() < 1.0);
    // Last four without DOB; no criteria at all.
    let r = app.post(search, &t.worker, json!({"ssn": "9932"})).await;
    r.problem(422);
    assert!(!r.error_fields().is_empty());
    app.post(search, &t.worker, json!({})).await.problem(422);
    let r = app
        .post(search, &t.worker, json!({"ssn": "123-45-6789"}))
        .await;
    assert_refused(&r, "ssn", "123-45-6789", "placeholder search");

    // An agency that may not see the record never finds it.
    let other = tenant(&app, json!({}), true).await;
    let (_, neighbour) = member(&app, &t.coc, true, &[Role::CaseWorker]).await;
    for token in [&other.worker, &neighbour] {
        for criteria in [
            json!({"ssn": SSN}),
            json!({"ssn": "9932", "dob": DOB}),
            json!({"first_name": FIRST, "last_name": LAST}),
            json!({"client_id": id}),
            json!({"short_uid": uid}),
        ] {
            let r = app.post(search, token, criteria.clone()).await;
            assert!(hit_for(&r, &id).is_none(), "{criteria}: {}", r.body);
            assert!(!text(&r).contains(FIRST), "{criteria}");
        }
    }
    // Once the record is open, a sharing agency finds it (not as its own).
    let (open_id, _) = create_open(&app, &t.worker).await;
    let r = app.post(search, &other.worker, json!({"ssn": SSN})).await;
    let hit = hit_for(&r, &open_id).unwrap_or_else(|| panic!("{}", r.body));
    assert_eq!(hit["client"]["created_by_your_agency"], false);
    assert_eq!(access(&hit["client"]), pair("full", "statewide_roi"));
}

// ---------------------------------------------------------------- audit

#[actix_web::test]
async fn audit_trail_for_the_creating_agency_admin_holds_no_pii() {
    let app = spawn().await;
    let t = tenant(&app, json!({}), true).await;
    let (id, _) = create_identified(&app, &t.worker).await;
    let path = format!("/v1/clients/{id}");
    app.get(&path, &t.worker).await.ok(200);
    let admin = app.token("aa-1", &[Role::AgencyAdmin], Some(t.agency));
    let r = app.get(&format!("{path}/audit"), &admin).await;
    let items = r.ok(200)["items"].as_array().unwrap().clone();
    let find = |action: &str| items.iter().find(|e| e["action"] == action).cloned();
    let create = find("create").unwrap_or_else(|| panic!("{items:?}"));
    assert_eq!(create["basis"], "creating_agency");
    assert_eq!(create["actor_agency_id"], t.agency.to_string());
    let read = find("read").unwrap_or_else(|| panic!("{items:?}"));
    assert_eq!(read["basis"], "creating_agency");
    assert!(read["request_id"].is_string());
    let raw = text(&r);
    for v in [FIRST, LAST, SSN, "524719932", "9932", DOB] {
        assert!(!raw.contains(v), "audit holds {v}: {raw}");
    }
    app.get(&format!("{path}/audit"), &t.worker)
        .await
        .problem(403);
    let (_, lead) = member(&app, &t.coc, false, &[Role::CocAdmin]).await;
    app.get(&format!("{path}/audit"), &lead).await.ok(200);
    let other = tenant(&app, json!({}), true).await;
    let other_admin = app.token("aa-2", &[Role::AgencyAdmin], Some(other.agency));
    app.get(&format!("{path}/audit"), &other_admin)
        .await
        .problem(404);
}
