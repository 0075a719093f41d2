//! Client records through the API (identity modes, access levels, PATCH, visibility, search, audit).
//!
//! Written from design/consent.md and design/api.md; comments name the rule a check rests on.

use actix_http::Request;
use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use chrono::Datelike;
use hearth::consent::Role;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::harness::*;

/// The app type `spawn()` answers, nameable in helpers (consents.rs uses these helpers too).
pub trait Svc:
    Service<Request, Response = ServiceResponse<Self::Out>, Error = actix_web::Error>
{
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
const SEARCH: &str = "/v1/clients/search";
/// Keys that carry PII (consent.md, "Access levels"): absent, not null, below level full.
const PII_KEYS: &str = "first_name middle_name last_name name_suffix alias ssn dob \
    additional_race_ethnicity different_identity_text";

fn identified() -> Value {
    json!({"identity_mode": "identified", "first_name": FIRST, "last_name": LAST,
           "ssn": SSN, "dob": DOB, "veteran_status": 0})
}

/// `base` with `extra`'s keys set (a null removes the key).
fn merge(mut base: Value, extra: &Value) -> Value {
    for (k, v) in extra.as_object().unwrap() {
        match v {
            Value::Null => base.as_object_mut().unwrap().remove(k),
            _ => base.as_object_mut().unwrap().insert(k.clone(), v.clone()),
        };
    }
    base
}

fn with(extra: Value) -> Value {
    merge(identified(), &extra)
}

pub(crate) fn text(r: &Reply) -> String {
    String::from_utf8_lossy(&r.raw).into_owned()
}

pub(crate) use crate::fixtures::today;

/// A 4xx problem naming `field`, repeating neither `secret` nor the PII of `identified()`.
fn assert_refused(r: &Reply, field: &str, secret: &str, what: &str) {
    assert!(r.status.is_client_error(), "{what}: {}", r.body);
    let ct = r.header("content-type");
    assert_eq!(ct.as_deref(), Some("application/problem+json"), "{what}");
    let fields = r.error_fields();
    assert!(fields.iter().any(|f| f == field), "{what}: {fields:?}");
    for v in [secret, FIRST, LAST, SSN, DOB] {
        let echoed = !v.is_empty() && text(r).contains(v);
        assert!(!echoed, "{what}: echoes {v}: {}", text(r));
    }
}

fn assert_no_pii(client: &Value) {
    for k in PII_KEYS.split_whitespace() {
        assert!(client.get(k).is_none(), "key {k} present: {client}");
    }
    let s = client.to_string();
    for v in [FIRST, LAST, SSN, "524719932", "9932", DOB] {
        assert!(!s.contains(v), "value {v} present: {s}");
    }
}

/// `level/basis` of a client payload.
pub(crate) fn access(v: &Value) -> String {
    let s = |x: &Value| x.as_str().unwrap_or("null").to_string();
    format!("{}/{}", s(&v["access"]["level"]), s(&v["access"]["basis"]))
}

/// Asserts that `v` holds every key of `want` with the same value.
pub(crate) fn has(v: &Value, want: Value) {
    for (k, w) in want.as_object().unwrap() {
        assert_eq!(&v[k], w, "{k} in {v}");
    }
}

/// `has!(value, {json})`.
macro_rules! has {
    ($v:expr, $($want:tt)+) => {
        has(&$v, json!($($want)+))
    };
}

struct Tenant {
    coc: String,
    agency: Uuid,
    worker: String,
}

/// A CoC with `policy`, a sharing agency in it and a case worker of that agency.
async fn tenant<S: Svc>(app: &TestApp<S>, policy: Value) -> Tenant {
    let coc = app.coc(policy).await;
    let (agency, worker) = member(app, &coc, true, &[Role::CaseWorker]).await;
    let t = (coc, agency, worker);
    Tenant {
        coc: t.0,
        agency: t.1,
        worker: t.2,
    }
}

/// Another agency in `coc`, with a token holding `roles`.
pub(crate) async fn member<S: Svc>(
    app: &TestApp<S>,
    coc: &str,
    shares: bool,
    roles: &[Role],
) -> (Uuid, String) {
    let agency = app.agency(coc, shares).await;
    let token = app.token(&format!("u-{agency}"), roles, Some(agency));
    (agency, token)
}

/// A request with one extra header.
pub(crate) async fn send<S: Svc>(
    app: &TestApp<S>,
    method: &str,
    path: &str,
    token: &str,
    body: Option<Value>,
    header: (&str, &str),
) -> Reply {
    let headers = vec![(header.0, header.1.to_string())];
    let token = Some(token);
    app.send(Call {
        method,
        path,
        token,
        body,
        headers,
    })
    .await
}

async fn new_client<S: Svc>(app: &TestApp<S>, token: &str, body: Value) -> Reply {
    app.post("/v1/clients", token, body).await
}

/// Creates `body` and answers (id, ETag).
async fn create_with<S: Svc>(app: &TestApp<S>, token: &str, body: Value) -> (String, String) {
    let r = new_client(app, token, body).await;
    let id = r.ok(201)["client"]["id"].as_str().unwrap().to_string();
    (id, r.header("etag").expect("ETag on create"))
}

async fn create_identified<S: Svc>(app: &TestApp<S>, token: &str) -> (String, String) {
    create_with(app, token, identified()).await
}

/// An identified record, open under a statewide ROI given at intake.
async fn create_open<S: Svc>(app: &TestApp<S>, token: &str) -> (String, String) {
    let roi = json!({"method": "signed", "scope": {"type": "statewide"}});
    create_with(app, token, with(json!({"visibility": "open", "roi": roi}))).await
}

async fn etag_of<S: Svc>(app: &TestApp<S>, id: &str, token: &str) -> String {
    let r = app.get(&format!("/v1/clients/{id}"), token).await;
    r.ok(200);
    r.header("etag").expect("ETag on GET")
}

/// The ids a search finds (asserting a 200).
async fn find<S: Svc>(app: &TestApp<S>, token: &str, criteria: Value) -> Vec<String> {
    let r = app.post(SEARCH, token, criteria).await;
    let items = r.ok(200)["items"].as_array().unwrap();
    items
        .iter()
        .map(|h| h["client"]["id"].as_str().unwrap().to_string())
        .collect()
}

fn hit_for<'a>(r: &'a Reply, id: &str) -> Option<&'a Value> {
    let items = r.body["items"].as_array()?;
    items.iter().find(|h| h["client"]["id"] == id)
}

// ---------------------------------------------------------------- identity modes

#[actix_web::test]
async fn anonymous_record_is_named_and_dated_by_the_coc_policy() {
    let app = spawn().await;
    let t = tenant(&app, json!({})).await;
    let body = json!({"identity_mode": "anonymous", "birth_year": 1979, "veteran_status": 0});
    let r = new_client(&app, &t.worker, body).await;
    let c = r.ok(201)["client"].clone();
    assert_eq!(c["first_name"], c["short_uid"], "uid_anonymous: {c}");
    has!(c, {"last_name": "Anonymous", "name_data_quality": 9, "identity_mode": "anonymous",
        "dob": "1979-01-01", "dob_data_quality": 2, "ssn": null, "ssn_data_quality": 99,
        "access": {"level": "full", "basis": "creating_agency"}});
    let id = c["id"].as_str().unwrap();
    assert_eq!(r.header("location"), Some(format!("/v1/clients/{id}")));
    assert_eq!(r.header("etag"), Some(etag_of(&app, id, &t.worker).await));
    // Another CoC's policy: "Anonymous Anonymous", SSN quality 9, and Spokane's DOB rule
    // (Jan 1 of the next year, the true year when age <= 24 or > 60).
    let policy = json!({"anonymous_name_format": "anonymous_anonymous",
        "anonymous_dob_rule": "jan1_of_next_year_unless_young_or_old", "anonymous_ssn_quality": 9});
    let t = tenant(&app, policy).await;
    let y = today().year();
    for (born, shown) in [(y - 47, y - 46), (y - 20, y - 20), (y - 70, y - 70)] {
        let body = json!({"identity_mode": "anonymous", "birth_year": born});
        let r = new_client(&app, &t.worker, body).await;
        has!(r.ok(201)["client"], {"first_name": "Anonymous", "last_name": "Anonymous",
            "dob": format!("{shown}-01-01"), "dob_data_quality": 2, "ssn_data_quality": 9});
    }
}

#[actix_web::test]
async fn anonymous_record_refuses_every_pii_field_without_echoing_it() {
    let app = spawn().await;
    let t = tenant(&app, json!({})).await;
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
        (
            "additional_race_ethnicity",
            json!("write zeb.q@example.org"),
        ),
        ("name_data_quality", json!(1)),
    ] {
        let body = json!({"identity_mode": "anonymous", "birth_year": 1979, field: value});
        let r = new_client(&app, &t.worker, body).await;
        r.problem(422);
        assert_refused(&r, field, value.as_str().unwrap_or(""), field);
    }
}

#[actix_web::test]
async fn consent_refused_record_holds_no_name_or_ssn_and_is_open_by_default() {
    let app = spawn().await;
    let t = tenant(&app, json!({})).await;
    let body = json!({"identity_mode": "consent_refused"});
    let r = new_client(&app, &t.worker, body).await;
    has!(r.ok(201)["client"], {"identity_mode": "consent_refused", "visibility": "open",
        "name_data_quality": 9, "ssn_data_quality": 9, "first_name": null, "ssn": null});
    let body = json!({"identity_mode": "consent_refused", "visibility": "private", "dob": DOB});
    let r = new_client(&app, &t.worker, body).await;
    has!(r.ok(201)["client"], {"visibility": "private", "dob": DOB});
    let body = json!({"identity_mode": "consent_refused", "visibility": "closed"});
    let r = new_client(&app, &t.worker, body).await;
    has!(r.ok(201)["client"], {"visibility": "closed"});
    // Open needs no ROI: the record holds no identity (consent.md, record rule row 4).
    let body = json!({"identity_mode": "consent_refused", "visibility": "open"});
    let r = new_client(&app, &t.worker, body).await;
    has!(r.ok(201)["client"], {"visibility": "open", "first_name": null});
    let refused = json!({"first_name": "Zebulon", "last_name": "Zed", "ssn": SSN,
        "roi": {"method": "signed"}});
    for (field, value) in refused.as_object().unwrap() {
        let body = json!({"identity_mode": "consent_refused", field: value});
        let r = new_client(&app, &t.worker, body).await;
        r.problem(422);
        assert_refused(&r, field, value.as_str().unwrap_or(""), field);
    }
    let body = json!({"identity_mode": "consent_refused", "visibility": "locked"});
    let r = new_client(&app, &t.worker, body).await;
    assert_refused(&r, "visibility", "", "locked");
}

#[actix_web::test]
async fn code_name_record_starts_locked() {
    let app = spawn().await;
    let t = tenant(&app, json!({})).await;
    let code = json!({"identity_mode": "code_name", "first_name": "Shorty"});
    let r = new_client(&app, &t.worker, code).await;
    has!(r.ok(201)["client"], {"visibility": "locked", "first_name": "Shorty",
        "name_data_quality": 2, "ssn_data_quality": 99});
    for (field, value) in [("visibility", json!("open")), ("ssn", json!(SSN))] {
        let body = json!({"identity_mode": "code_name", "first_name": "Shorty", field: value});
        let r = new_client(&app, &t.worker, body).await;
        r.problem(422);
        assert_refused(&r, field, "", field);
    }
}

#[actix_web::test]
async fn identified_record_is_open_only_with_an_roi_in_the_same_request() {
    let app = spawn().await;
    let t = tenant(&app, json!({})).await;
    let r = new_client(&app, &t.worker, with(json!({"visibility": "open"}))).await;
    r.problem(422);
    assert_refused(&r, "visibility", "", "open without roi");
    let r = new_client(&app, &t.worker, identified()).await;
    has!(r.ok(201)["client"], {"visibility": "closed", "first_name": FIRST, "ssn": SSN,
        "name_data_quality": 1, "ssn_data_quality": 1, "created_by_your_agency": true});
    let (id, _) = create_open(&app, &t.worker).await;
    let r = app.get(&format!("/v1/clients/{id}"), &t.worker).await;
    assert_eq!(r.ok(200)["visibility"], "open");
}

#[actix_web::test]
async fn quality_codes_default_by_mode_and_last_four_is_partial() {
    let app = spawn().await;
    let t = tenant(&app, json!({"anonymous_dob_rule": "not_collected"})).await;
    let al = json!({"identity_mode": "identified", "first_name": "Al"});
    let cases = json!([
        [{"identity_mode": "consent_refused", "first_name": null}, {"dob": null, "dob_data_quality": 9}],
        [{}, {"ssn": null, "ssn_data_quality": 99, "dob_data_quality": 99}],
        [{"ssn": "9932"}, {"ssn": "9932", "ssn_data_quality": 2}],
        [{"dob": DOB, "dob_data_quality": 2}, {"dob_data_quality": 2}],
        [{"identity_mode": "code_name", "birth_year": 1970}, {"dob": "1970-01-01", "dob_data_quality": 2}],
        [{"identity_mode": "anonymous", "first_name": null, "birth_year": 1970}, {"dob": null, "dob_data_quality": 99}]
    ]);
    for case in cases.as_array().unwrap() {
        let r = new_client(&app, &t.worker, merge(al.clone(), &case[0])).await;
        has(&r.ok(201)["client"], case[1].clone());
    }
}

// ---------------------------------------------------------------- validation

#[actix_web::test]
async fn validation_names_the_field_never_the_value_and_never_5xx() {
    let app = spawn().await;
    let t = tenant(&app, json!({})).await;
    let future = (today() + chrono::Duration::days(30)).to_string();
    // [field, changes to identified()]; a body naming another identity mode is sent as is.
    let cases = json!([
        ["name_data_quality", {"name_data_quality": 9}], ["name_data_quality", {"name_data_quality": 8}],
        ["ssn_data_quality", {"ssn_data_quality": 99}],
        ["ssn_data_quality", {"ssn": null, "ssn_data_quality": 1}],
        ["ssn_data_quality", {"ssn": "9932", "ssn_data_quality": 1}],
        ["dob_data_quality", {"dob_data_quality": 99}],
        ["dob_data_quality", {"dob": null, "dob_data_quality": 1}],
        ["ssn", {"ssn": "000-00-0000"}], ["ssn", {"ssn": "111-11-1111"}],
        ["ssn", {"ssn": "123-45-6789"}], ["ssn", {"ssn": "666-12-3456"}],
        ["ssn", {"ssn": "900-12-3456"}], ["ssn", {"ssn": "52-471-99321"}],
        ["ssn", {"ssn": "5247199x2"}], ["ssn", {"ssn": 524719932}],
        ["dob", {"dob": future}], ["dob", {"dob": "1899-12-31"}], ["dob", {"dob": "1981-02-30"}],
        ["identity_mode", {"identity_mode": "famous"}], ["identity_mode", {"identity_mode": null}],
        ["visibility", {"visibility": "public"}],
        ["first_name", {"first_name": 4242424}], ["first_name", {"first_name": "Ros\u{0}alind"}],
        ["name_data_quality", {"name_data_quality": "one"}],
        ["veteran_status", {"veteran_status": 7}],
        ["favourite_colour", {"favourite_colour": "teal"}],
        ["birth_year", {"birth_year": 1981}],
        ["name_data_quality", {"identity_mode": "consent_refused", "name_data_quality": 1}],
        ["dob_data_quality", {"identity_mode": "consent_refused", "dob_data_quality": 1}],
        ["name_data_quality", {"identity_mode": "code_name", "first_name": "Shorty", "name_data_quality": 9}],
        ["birth_year", {"identity_mode": "anonymous", "birth_year": 1850}],
        ["birth_year", {"identity_mode": "anonymous", "birth_year": "nineteen-seventy"}]
    ]);
    for case in cases.as_array().unwrap() {
        let (field, extra) = (case[0].as_str().unwrap(), &case[1]);
        let body = match extra["identity_mode"].as_str().unwrap_or("famous") {
            "famous" => with(extra.clone()),
            _ => extra.clone(),
        };
        let r = new_client(&app, &t.worker, body.clone()).await;
        // The value sent, when it is long enough to tell apart from the problem's own words.
        let sent = extra[field].to_string().trim_matches('"').to_string();
        let secret = if sent.len() >= 5 { sent } else { String::new() };
        assert_refused(&r, field, &secret, &body.to_string());
        assert_eq!(r.body["status"], r.status.as_u16(), "{body}");
    }
    // None of them created anything.
    assert!(find(&app, &t.worker, json!({ "last_name": LAST }))
        .await
        .is_empty());
}

// ---------------------------------------------------------------- reading

#[actix_web::test]
async fn read_levels_and_a_hidden_record_answers_like_an_unknown_one() {
    let app = spawn().await;
    let t = tenant(&app, json!({})).await;
    let (id, _) = create_identified(&app, &t.worker).await;
    let path = format!("/v1/clients/{id}");
    let r = app.get(&path, &t.worker).await;
    assert_eq!(access(r.ok(200)), "full/creating_agency");
    assert_eq!(r.body["first_name"], FIRST);
    // Another CoC's sharing agency: 404, the same bytes as an id that does not exist.
    let other = tenant(&app, json!({})).await;
    let hidden = app.get(&path, &other.worker).await;
    hidden.problem(404);
    let unknown_path = format!("/v1/clients/{}", Uuid::now_v7());
    let unknown = app.get(&unknown_path, &other.worker).await;
    unknown.problem(404);
    assert_eq!(text(&hidden), text(&unknown));
    // A sharing agency of the same CoC does not see a closed record either.
    let (_, neighbour) = member(&app, &t.coc, true, &[Role::CaseWorker]).await;
    assert_eq!(text(&app.get(&path, &neighbour).await), text(&unknown));
    // The CoC lead (rule 7): limited, coc_aggregate, no PII keys at all.
    let (_, lead) = member(&app, &t.coc, false, &[Role::CocAdmin]).await;
    let r = app.get(&path, &lead).await;
    let c = r.ok(200);
    assert_eq!(access(c), "limited/coc_aggregate");
    assert_eq!(c["veteran_status"], 0);
    assert_no_pii(c);
    // Another CoC's lead: none.
    let (_, far_lead) = member(&app, &other.coc, false, &[Role::CocAdmin]).await;
    assert_eq!(text(&app.get(&path, &far_lead).await), text(&unknown));
}

#[actix_web::test]
async fn no_endpoint_confirms_that_a_hidden_record_exists() {
    let app = spawn().await;
    let t = tenant(&app, json!({})).await;
    let (id, etag) = create_identified(&app, &t.worker).await;
    let other = tenant(&app, json!({})).await;
    let w = &other.worker;
    // The audit trail is for agency admins (the permission table): ask as one.
    let admin = app.token("aa", &[Role::AgencyAdmin], Some(other.agency));
    let unknown = Uuid::now_v7().to_string();
    // The problem body carries the status, so equal bytes mean equal answers.
    for suffix in ["", "/access", "/consents", "/audit"] {
        let w = if suffix == "/audit" { &admin } else { w };
        let hidden = app.get(&format!("/v1/clients/{id}{suffix}"), w).await;
        let none = app.get(&format!("/v1/clients/{unknown}{suffix}"), w).await;
        assert_eq!(text(&hidden), text(&none), "GET {suffix}");
        none.problem(404);
    }
    let revoke = format!("/consents/{}/revoke", Uuid::now_v7());
    for (method, suffix, body) in [
        ("PATCH", "", json!({"veteran_status": 1})),
        ("PUT", "/visibility", json!({"visibility": "closed"})),
        ("POST", "/consents", json!({"method": "signed"})),
        ("POST", revoke.as_str(), json!({})),
        (
            "POST",
            "/designate-sharing",
            json!({"visibility": "closed"}),
        ),
    ] {
        let mut answers = Vec::new();
        for target in [&id, &unknown] {
            let (path, ifm) = (
                format!("/v1/clients/{target}{suffix}"),
                ("If-Match", &*etag),
            );
            let r = send(&app, method, &path, w, Some(body.clone()), ifm).await;
            answers.push(text(&r));
        }
        assert_eq!(answers[0], answers[1], "{method} {suffix}");
        assert!(
            answers[0].contains("\"status\":404"),
            "{method} {suffix}: {}",
            answers[0]
        );
    }
}

#[actix_web::test]
async fn a_sharing_agency_sees_an_open_record_until_its_roi_is_revoked() {
    let app = spawn().await;
    let t = tenant(&app, json!({})).await;
    let (id, _) = create_open(&app, &t.worker).await;
    let path = format!("/v1/clients/{id}");
    let other = tenant(&app, json!({})).await;
    let r = app.get(&path, &other.worker).await;
    has!(r.ok(200), {"first_name": FIRST, "created_by_your_agency": false,
        "access": {"level": "full", "basis": "statewide_roi"}});
    // Not a sharing agency: none, although the record is open.
    let (_, loner) = member(&app, &other.coc, false, &[Role::CaseWorker]).await;
    app.get(&path, &loner).await.problem(404);
    let roi = app.get(&format!("{path}/consents"), &t.worker).await;
    let cid = roi.ok(200)["items"][0]["id"].as_str().unwrap().to_string();
    let revoke = format!("{path}/consents/{cid}/revoke");
    app.post(&revoke, &t.worker, json!({})).await.ok(200);
    app.get(&path, &other.worker).await.problem(404);
}

#[actix_web::test]
async fn ce_assessors_see_locked_records_only_where_the_policy_says_so() {
    let app = spawn().await;
    let code = json!({"identity_mode": "code_name", "first_name": "Shorty"});
    for (policy, want) in [(true, Some("full/ce_assessor")), (false, None)] {
        let t = tenant(&app, json!({ "locked_visible_to_ce_assessors": policy })).await;
        let (id, _) = create_with(&app, &t.worker, code.clone()).await;
        let path = format!("/v1/clients/{id}");
        let (_, assessor) = member(&app, &t.coc, false, &[Role::CeAssessor]).await;
        let r = app.get(&path, &assessor).await;
        match want {
            Some(w) => assert_eq!(access(r.ok(200)), w),
            None => assert_eq!(r.problem(404)["status"], 404),
        }
        // Chicago: the CoC lead keeps the locked record for aggregate reporting, without PII.
        let (_, lead) = member(&app, &t.coc, false, &[Role::CocAdmin]).await;
        let r = app.get(&path, &lead).await;
        assert_eq!(access(r.ok(200)), "limited/coc_aggregate");
        assert!(r.body.get("first_name").is_none() && !text(&r).contains("Shorty"));
        // An assessor of another CoC never sees it.
        let far = app.coc(json!({})).await;
        let (_, far_assessor) = member(&app, &far, true, &[Role::CeAssessor]).await;
        app.get(&path, &far_assessor).await.problem(404);
    }
}

#[actix_web::test]
async fn a_break_glass_reason_names_no_client_whatever_record_it_is_given_on() {
    // consent.md, Audit: audit rows never hold PII. A reason is stored with the audit rows of
    // what it reaches, so it may not name another client either (tester: "checking whether
    // Octavian Fernsworth is related" on another record; "Maria Lopez called" on an export).
    let app = spawn().await;
    let t = tenant(&app, json!({})).await;
    let (w, _) = create_identified(&app, &t.worker).await;
    let n = Uuid::new_v4().simple().to_string();
    let (first, last) = (
        format!("Octavian{}", &n[..6]),
        format!("Fernsworth{}", &n[6..12]),
    );
    let other = json!({"identity_mode": "identified", "first_name": first, "last_name": last,
                       "veteran_status": 0});
    create_with(&app, &t.worker, other).await;
    let path = format!("/v1/clients/{w}");
    let admin = app.admin.clone();
    let export = format!(
        "/v1/exports/hmis-csv?coc={}&start=2026-01-01&end=2026-12-31",
        t.coc
    );
    for reason in [
        format!("checking whether {first} {last} is related"),
        format!(
            "re {}, {} (ticket 7)",
            last.to_uppercase(),
            first.to_lowercase()
        ),
        // Tester: a hyphen got past ("call from Maria-Lopez"); so would other separators.
        format!("call from {first}-{last}"),
        format!("call from {first}_{last}"),
        format!("call from {first} {last}-{}", &n[12..16]),
    ] {
        for p in [&path, &export, &format!("/v1/cocs/{}/priority-list", t.coc)] {
            let r = send(&app, "GET", p, &admin, None, ("X-Access-Reason", &reason)).await;
            r.problem(400);
            assert!(
                !text(&r).to_lowercase().contains(&last.to_lowercase()),
                "{p}"
            );
        }
        let r = send(
            &app,
            "POST",
            SEARCH,
            &admin,
            Some(json!({"client_id": w})),
            ("X-Access-Reason", &reason),
        )
        .await;
        r.problem(400);
    }
    // A first or last name alone, and plain words, are not refused.
    for reason in [
        format!("caller {first}"),
        "ticket 4711 client called".to_string(),
    ] {
        let r = send(
            &app,
            "GET",
            &path,
            &admin,
            None,
            ("X-Access-Reason", &reason),
        )
        .await;
        r.ok(200);
    }
    let trail = app.get(&format!("{path}/audit"), &admin).await;
    assert!(!text(&trail).contains(&last), "{}", trail.body);
}

#[actix_web::test]
async fn break_glass_needs_a_reason_for_every_answer_that_carries_pii() {
    // consent.md rule 1: a system admin's read of PII needs X-Access-Reason, 403 without.
    let app = spawn().await;
    let t = tenant(&app, json!({})).await;
    let (id, _) = create_identified(&app, &t.worker).await;
    let (path, admin) = (format!("/v1/clients/{id}"), app.admin.clone());
    app.get(&path, &admin).await.problem(403);
    let reason = ("X-Access-Reason", "ticket HD-4411");
    let r = send(&app, "GET", &path, &admin, None, reason).await;
    has!(r.ok(200), {"first_name": FIRST, "access": {"level": "full", "basis": "helpdesk"}});
    let by_id = json!({ "client_id": id });
    let r = send(&app, "POST", SEARCH, &admin, Some(by_id.clone()), reason).await;
    let hit = hit_for(&r, &id).expect("a hit");
    assert_eq!(hit["client"]["first_name"], FIRST);
    // The audit trail shows the reason with each break-glass read.
    let r = app.get(&format!("{path}/audit"), &admin).await;
    let items = r.ok(200)["items"].as_array().unwrap().clone();
    let glass: Vec<&Value> = items.iter().filter(|e| e["basis"] == "helpdesk").collect();
    assert_eq!(glass.len(), 2, "{items:?}");
    for e in glass {
        has!(e, {"access_reason": "ticket HD-4411", "actor": "admin-1"});
    }
    let by_ssn = json!({ "ssn": SSN });
    app.post(SEARCH, &admin, by_ssn).await.problem(403);
    // A reason holding PII is refused and never stored.
    let pii_reason = ("X-Access-Reason", "client 524-71-9932");
    let r = send(&app, "GET", &path, &admin, None, pii_reason).await;
    assert!(r.status.is_client_error(), "{}", r.body);
    assert!(!text(&r).contains(SSN));
    assert!(!text(&app.get(&format!("{path}/audit"), &admin).await).contains(SSN));
    // Without a reason, no other answer carries the record's PII either.
    let short = app.get(&path, &t.worker).await.body["short_uid"].clone();
    let vis = format!("{path}/visibility");
    let mut leaks = Vec::new();
    let (by_uid, private) = (
        json!({ "short_uid": short }),
        json!({"visibility": "private"}),
    );
    for (what, r) in [
        ("search by client_id", app.post(SEARCH, &admin, by_id).await),
        (
            "search by short_uid",
            app.post(SEARCH, &admin, by_uid).await,
        ),
        ("PUT visibility", app.put(&vis, &admin, private).await),
    ] {
        if text(&r).contains(FIRST) || text(&r).contains(SSN) {
            leaks.push(format!("{what}: {} {}", r.status, text(&r)));
        }
    }
    assert!(leaks.is_empty(), "{leaks:#?}");
}

// ---------------------------------------------------------------- PATCH

#[actix_web::test]
async fn patch_needs_a_current_if_match() {
    let app = spawn().await;
    let t = tenant(&app, json!({})).await;
    let (id, _) = create_identified(&app, &t.worker).await;
    let (path, w) = (format!("/v1/clients/{id}"), &t.worker);
    let etag = etag_of(&app, &id, w).await;
    let change = json!({"first_name": "Rosalyn"});
    app.patch(&path, w, None, change.clone()).await.problem(428);
    let stale = Some("\"v999\"");
    let r = app.patch(&path, w, stale, change.clone()).await;
    r.problem(412);
    let r = app.patch(&path, w, Some(&etag), change.clone()).await;
    assert_eq!(r.ok(200)["client"]["first_name"], "Rosalyn");
    let new_etag = r.header("etag").unwrap();
    assert_ne!(new_etag, etag);
    assert_eq!(etag_of(&app, &id, w).await, new_etag);
    app.patch(&path, w, Some(&etag), change).await.problem(412);
    // A patch is validated like a create.
    let bad = json!({"ssn": "123-45-6789"});
    let r = app.patch(&path, w, Some(&new_etag), bad).await;
    r.problem(422);
    assert_refused(&r, "ssn", "123-45-6789", "patch placeholder");
    // The CoC lead sees the record without PII and may not change it.
    let (_, lead) = member(&app, &t.coc, false, &[Role::CocAdmin]).await;
    let vet = json!({"veteran_status": 1});
    let r = app.patch(&path, &lead, Some(&new_etag), vet).await;
    r.problem(403);
}

/// A merge patch is an object: `[]`, a number or a string is a 422 and changes nothing. `{}`, or
/// a patch that sets every field to what it holds, changes nothing either: 200 with the record,
/// the same ETag, no `update` in the audit trail, and the stale-ETag and If-Match rules still hold.
#[actix_web::test]
async fn a_patch_that_is_not_an_object_or_changes_nothing_writes_nothing() {
    let app = spawn().await;
    let t = tenant(&app, json!({})).await;
    let (id, etag) = create_identified(&app, &t.worker).await;
    let (path, w) = (format!("/v1/clients/{id}"), &t.worker);
    for body in [
        json!([]),
        json!([{"first_name": "Rosalyn"}]),
        json!(5),
        json!("x"),
    ] {
        let r = app.patch(&path, w, Some(&etag), body.clone()).await;
        assert_eq!(r.problem(422)["errors"][0]["field"], "", "{body}");
    }
    let before = app.get(&path, w).await.ok(200).clone();
    for body in [json!({}), json!({"first_name": before["first_name"]})] {
        let r = app.patch(&path, w, Some(&etag), body.clone()).await;
        assert_eq!(
            r.ok(200)["client"]["first_name"],
            before["first_name"],
            "{body}"
        );
        assert_eq!(r.header("etag").as_deref(), Some(etag.as_str()), "{body}");
        assert!(r.body["changes"].as_array().unwrap().is_empty(), "{body}");
    }
    assert_eq!(etag_of(&app, &id, w).await, etag);
    app.patch(&path, w, None, json!({})).await.problem(428);
    app.patch(&path, w, Some("\"v999\""), json!({}))
        .await
        .problem(412);
    // The audit trail holds the create and reads, no update.
    let audit = app
        .send(Call {
            method: "GET",
            path: &format!("{path}/audit"),
            token: Some(&app.admin),
            body: None,
            headers: vec![("X-Access-Reason", "audit check".into())],
        })
        .await;
    let actions: Vec<String> = audit.ok(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap_or_default().to_string())
        .collect();
    assert!(!actions.iter().any(|a| a == "update"), "{actions:?}");
    // A real change still makes a new version.
    let r = app
        .patch(&path, w, Some(&etag), json!({"first_name": "Rosalyn"}))
        .await;
    r.ok(200);
    assert_ne!(r.header("etag").as_deref(), Some(etag.as_str()));
}

/// An enum word sent as another JSON type is a 422 naming the field, as any wrong type is; only a
/// body that does not parse is a 400.
#[actix_web::test]
async fn a_wrong_type_for_the_identity_mode_is_named() {
    let app = spawn().await;
    let t = tenant(&app, json!({})).await;
    for (body, field) in [
        (json!({"identity_mode": 5}), "identity_mode"),
        (json!({"identity_mode": ["identified"]}), "identity_mode"),
        (json!({"identity_mode": {"x": 1}}), "identity_mode"),
        (json!({"identity_mode": "pseudonymous"}), "identity_mode"),
        (
            json!({"identity_mode": "identified", "first_name": 5}),
            "first_name",
        ),
        (
            json!({"identity_mode": "identified", "race": [7]}),
            "race[0]",
        ),
        (
            json!({"identity_mode": "identified", "roi": {"method": 1}}),
            "roi.method",
        ),
    ] {
        let r = new_client(&app, &t.worker, body.clone()).await;
        assert_eq!(r.problem(422)["errors"][0]["field"], field, "{body}");
    }
}

#[actix_web::test]
async fn anonymous_record_patch_refuses_names() {
    let app = spawn().await;
    let t = tenant(&app, json!({})).await;
    let body = json!({"identity_mode": "anonymous", "birth_year": 1990});
    let (id, etag) = create_with(&app, &t.worker, body).await;
    let (path, w) = (format!("/v1/clients/{id}"), &t.worker);
    let name = json!({"first_name": "Zebulon"});
    let r = app.patch(&path, w, Some(&etag), name).await;
    r.problem(422);
    assert_refused(&r, "first_name", "Zebulon", "anonymous patch");
    let vet = json!({"veteran_status": 1});
    let r = app.patch(&path, w, Some(&etag), vet).await;
    has!(r.ok(200)["client"], {"veteran_status": 1, "last_name": "Anonymous"});
}

// ---------------------------------------------------------------- explanation

#[actix_web::test]
async fn access_is_explained_and_an_admin_can_ask_for_another_agency() {
    let app = spawn().await;
    let t = tenant(&app, json!({})).await;
    let (id, _) = create_identified(&app, &t.worker).await;
    let path = format!("/v1/clients/{id}/access");
    let e = app.get(&path, &t.worker).await.ok(200).clone();
    has!(e, {"level": "full", "basis": "creating_agency", "rule": 2});
    assert!(!e["explanation"].as_str().unwrap().is_empty());
    let (_, lead) = member(&app, &t.coc, false, &[Role::CocAdmin]).await;
    let e = app.get(&path, &lead).await.ok(200).clone();
    has!(e, {"level": "limited", "basis": "coc_aggregate", "rule": 7});
    assert!(!e.to_string().contains(FIRST));
    let other = tenant(&app, json!({})).await;
    let for_other = format!("{path}?agency_id={}", other.agency);
    let e = app.get(&for_other, &app.admin).await.ok(200).clone();
    has!(e, {"level": "none", "basis": null, "rule": 9});
    assert_eq!(e["viewer"]["agency_id"], other.agency.to_string());
    assert!(!e["explanation"].as_str().unwrap().is_empty());
    let for_creator = format!("{path}?agency_id={}", t.agency);
    let e = app.get(&for_creator, &app.admin).await;
    assert_eq!(e.ok(200)["basis"], "creating_agency");
    // Roles must be Hearth's, and are asked for an agency only.
    for q in [
        format!("agency_id={}&roles=janitor", t.agency),
        format!("agency_id={}&roles=case_worker,janitor", t.agency),
        "roles=janitor".to_string(),
        "roles=case_worker".to_string(),
    ] {
        let r = app.get(&format!("{path}?{q}"), &app.admin).await;
        assert_eq!(r.problem(422)["errors"][0]["field"], "roles", "{q}");
        assert!(!r.body.to_string().contains("janitor"), "{q}");
    }
    let r = app
        .get(
            &format!(
                "{path}?agency_id={}&roles=agency_admin,case_worker",
                t.agency
            ),
            &app.admin,
        )
        .await;
    assert_eq!(r.ok(200)["basis"], "creating_agency");
    // Only an admin may ask for someone else: a CoC admin for an agency of its CoC, an agency
    // admin for its own agency; a hidden record is a 404 here too.
    app.get(&for_other, &t.worker).await.problem(403);
    let (_, coc_admin) = member(&app, &t.coc, false, &[Role::CocAdmin]).await;
    let e = app.get(&for_creator, &coc_admin).await;
    assert_eq!(e.ok(200)["basis"], "creating_agency", "{}", e.body);
    let r = app.get(&for_other, &coc_admin).await;
    assert_eq!(r.problem(422)["errors"][0]["field"], "agency_id");
    let own_admin = app.token("aa-own", &[Role::AgencyAdmin], Some(t.agency));
    let as_worker = format!("{for_creator}&roles=case_worker");
    assert_eq!(
        app.get(&as_worker, &own_admin).await.ok(200)["basis"],
        "creating_agency"
    );
    app.get(&for_other, &own_admin).await.problem(422);
    app.get(&path, &other.worker).await.problem(404);
}

// ---------------------------------------------------------------- visibility

#[actix_web::test]
async fn visibility_changes_follow_the_rules() {
    let app = spawn().await;
    let t = tenant(&app, json!({})).await;
    let w = &t.worker;
    let to = |v: &str| json!({ "visibility": v });
    let (id, _) = create_identified(&app, w).await;
    let vis = format!("/v1/clients/{id}/visibility");
    let r = app.put(&vis, w, to("public")).await;
    r.problem(422);
    assert_eq!(r.error_fields(), vec!["visibility".to_string()]);
    // Open needs an active ROI.
    app.put(&vis, w, to("open")).await.problem(409);
    let r = app.put(&vis, w, to("private")).await;
    assert_eq!(r.ok(200)["client"]["visibility"], "private");
    let r = app.put(&vis, w, to("closed")).await;
    assert_eq!(r.ok(200)["client"]["visibility"], "closed");
    // An open record: a sharing agency of the CoC sees it in full and enters data.
    let (id, _) = create_open(&app, w).await;
    let path = format!("/v1/clients/{id}");
    let vis = format!("{path}/visibility");
    let (_, partner) = member(&app, &t.coc, true, &[Role::CaseWorker]).await;
    let etag = etag_of(&app, &id, &partner).await;
    let vet = json!({"veteran_status": 1});
    let r = app.patch(&path, &partner, Some(&etag), vet).await;
    assert_eq!(access(&r.ok(200)["client"]), "full/statewide_roi");
    // Only the creating agency decides how its record is shared.
    app.put(&vis, &partner, to("closed")).await.problem(403);
    // Another agency contributed: private and locked are refused; closed is the way.
    for v in ["private", "locked"] {
        let r = app.put(&vis, w, to(v)).await;
        let detail = r.problem(409)["detail"].as_str().unwrap().to_string();
        assert!(detail.contains("closed"), "{detail}");
    }
    let r = app.put(&vis, w, to("closed")).await;
    assert_eq!(r.ok(200)["client"]["visibility"], "closed");
    let r = app.get(&path, &partner).await;
    assert_eq!(access(r.ok(200)), "full/contributor");
}

#[actix_web::test]
async fn designate_sharing_turns_a_code_name_record_identified() {
    let app = spawn().await;
    let t = tenant(&app, json!({})).await;
    let w = &t.worker;
    let code = json!({"identity_mode": "code_name", "first_name": "Shorty"});
    let named = |v: &str| json!({"first_name": FIRST, "last_name": LAST, "visibility": v});
    let (id, _) = create_with(&app, w, code.clone()).await;
    let designate = format!("/v1/clients/{id}/designate-sharing");
    let r = app.post(&designate, w, named("closed")).await;
    has!(r.ok(200)["client"], {"identity_mode": "identified", "visibility": "closed",
        "first_name": FIRST, "name_data_quality": 1});
    // A second time: the record is no longer code-name or locked.
    app.post(&designate, w, named("private")).await.problem(409);
    // Open needs an ROI, which may come in the same request.
    let (id, _) = create_with(&app, w, code.clone()).await;
    let designate = format!("/v1/clients/{id}/designate-sharing");
    let r = app.post(&designate, w, named("open")).await;
    let p = r.problem(409);
    // This body takes the ROI itself: the refusal says so.
    assert_eq!(p["type"], "urn:hearth:problem:open-needs-roi", "{p}");
    assert!(p["detail"].as_str().unwrap().contains("`roi` field"), "{p}");
    let mut open = named("open");
    open["roi"] = json!({"method": "verbal"});
    let r = app.post(&designate, w, open).await;
    assert_eq!(r.ok(200)["client"]["visibility"], "open");
    let other = tenant(&app, json!({})).await;
    let r = app.get(&format!("/v1/clients/{id}"), &other.worker).await;
    assert_eq!(access(r.ok(200)), "full/statewide_roi");
    // The demographic answers a code-name record holds stay unless answered again.
    let mut coded = code.clone();
    coded["gender"] = json!([3]);
    coded["different_identity_text"] = json!("genderfluid");
    coded["race"] = json!(["asian"]);
    coded["additional_race_ethnicity"] = json!("Hmong");
    coded["veteran_status"] = json!(1);
    coded["sex"] = json!(1);
    let (id, _) = create_with(&app, w, coded).await;
    let designate = format!("/v1/clients/{id}/designate-sharing");
    let r = app.post(&designate, w, named("closed")).await;
    has!(r.ok(200)["client"], {"gender": [3], "different_identity_text": "genderfluid",
        "race": ["asian"], "additional_race_ethnicity": "Hmong", "veteran_status": 1, "sex": 1});
    let (id, _) = create_with(
        &app,
        w,
        json!({"identity_mode": "code_name",
        "first_name": "Shorty", "gender": [1], "veteran_status": 1}),
    )
    .await;
    let designate = format!("/v1/clients/{id}/designate-sharing");
    let mut answered = named("closed");
    answered["gender"] = json!([0]);
    answered["veteran_status"] = json!(0);
    let r = app.post(&designate, w, answered).await;
    has!(r.ok(200)["client"], {"gender": [0], "veteran_status": 0});
    // Someone who cannot see a code-name record cannot designate it either.
    let (id, _) = create_with(&app, w, code).await;
    let designate = format!("/v1/clients/{id}/designate-sharing");
    let r = app.post(&designate, &other.worker, named("closed")).await;
    r.problem(404);
}

// ---------------------------------------------------------------- search

#[actix_web::test]
async fn search_finds_what_the_caller_may_see_and_nothing_else() {
    let app = spawn().await;
    let t = tenant(&app, json!({})).await;
    let (id, _) = create_identified(&app, &t.worker).await;
    let r = app.get(&format!("/v1/clients/{id}"), &t.worker).await;
    let uid = r.body["short_uid"].as_str().unwrap().to_string();
    let fuzzy = json!({"first_name": "Rosalynd", "last_name": "Featherstonhaugh"});
    for criteria in [
        json!({"client_id": id}),
        json!({"short_uid": uid}),
        json!({"short_uid": uid.to_lowercase()}),
        json!({"ssn": SSN}),
        json!({"ssn": "524719932"}),
        json!({"ssn": "9932", "dob": DOB}),
        fuzzy.clone(),
        json!({"last_name": "Featherstone", "dob": DOB}),
    ] {
        let r = app.post(SEARCH, &t.worker, criteria.clone()).await;
        r.ok(200);
        let hit = hit_for(&r, &id).unwrap_or_else(|| panic!("{criteria}: {}", r.body));
        has!(hit["client"], {"created_by_your_agency": true,
            "access": {"level": "full", "basis": "creating_agency"}});
        let score = hit["score"].as_f64().unwrap();
        assert!(score > 0.0 && score <= 1.0, "{criteria}: {score}");
        assert!(!hit["matched_on"].as_array().unwrap().is_empty());
    }
    let r = app.post(SEARCH, &t.worker, fuzzy).await;
    assert!(hit_for(&r, &id).unwrap()["score"].as_f64().unwrap() < 1.0);
    // Last four without DOB; no criteria at all; a placeholder.
    let r = app.post(SEARCH, &t.worker, json!({"ssn": "9932"})).await;
    r.problem(422);
    assert!(!r.error_fields().is_empty());
    app.post(SEARCH, &t.worker, json!({})).await.problem(422);
    let placeholder = json!({"ssn": "123-45-6789"});
    let r = app.post(SEARCH, &t.worker, placeholder).await;
    assert_refused(&r, "ssn", "123-45-6789", "placeholder search");
    // An agency that may not see the record never finds it.
    let other = tenant(&app, json!({})).await;
    let (_, neighbour) = member(&app, &t.coc, true, &[Role::CaseWorker]).await;
    let (_, lead) = member(&app, &t.coc, false, &[Role::CocAdmin]).await;
    for token in [&other.worker, &neighbour, &lead] {
        for criteria in [
            json!({"ssn": SSN}),
            json!({"ssn": "9932", "dob": DOB}),
            json!({"first_name": FIRST, "last_name": LAST}),
            json!({"client_id": id}),
            json!({"short_uid": uid}),
        ] {
            let r = app.post(SEARCH, token, criteria.clone()).await;
            r.ok(200);
            let by_pii = criteria.get("ssn").or(criteria.get("first_name")).is_some();
            match hit_for(&r, &id) {
                None => assert!(
                    by_pii || token != &lead,
                    "{criteria}: the lead finds it by id"
                ),
                // The CoC lead reaches it by id, at level limited, without PII.
                Some(hit) if !by_pii && token == &lead => {
                    assert_eq!(access(&hit["client"]), "limited/coc_aggregate");
                    assert_no_pii(&hit["client"]);
                }
                Some(_) => panic!("{criteria} found it: {}", r.body),
            }
        }
    }
    // The short UID on an agency's tracking sheet finds an anonymous record; a record holding
    // only the last four is found by them and the DOB, or by a full SSN and the DOB.
    let anon = json!({"identity_mode": "anonymous", "birth_year": 1979});
    let r = new_client(&app, &t.worker, anon).await;
    let c = r.ok(201)["client"].clone();
    let found = find(&app, &t.worker, json!({ "short_uid": c["short_uid"] })).await;
    assert!(found.contains(&c["id"].as_str().unwrap().to_string()));
    let four =
        json!({"identity_mode": "identified", "first_name": "Al", "ssn": "4321", "dob": DOB});
    let (four_id, _) = create_with(&app, &t.worker, four).await;
    for ssn in ["4321", "524-71-4321"] {
        let found = find(&app, &t.worker, json!({"ssn": ssn, "dob": DOB})).await;
        assert!(found.contains(&four_id), "{ssn}");
    }
    // Once a record is open, a sharing agency finds it (not as its own).
    let (open_id, _) = create_open(&app, &t.worker).await;
    let r = app.post(SEARCH, &other.worker, json!({"ssn": SSN})).await;
    let hit = hit_for(&r, &open_id).unwrap_or_else(|| panic!("{}", r.body));
    has!(hit["client"], {"created_by_your_agency": false,
        "access": {"level": "full", "basis": "statewide_roi"}});
}

// ---------------------------------------------------------------- audit

#[actix_web::test]
async fn audit_trail_lists_reads_and_writes_without_pii_for_its_audience() {
    let app = spawn().await;
    let t = tenant(&app, json!({})).await;
    let (id, etag) = create_open(&app, &t.worker).await;
    let path = format!("/v1/clients/{id}");
    let audit = format!("{path}/audit");
    app.get(&path, &t.worker).await.ok(200);
    let other = tenant(&app, json!({})).await;
    let rid = ("X-Request-Id", "0190c1b2-1111-7000-8000-0000000000a9");
    let r = send(&app, "GET", &path, &other.worker, None, rid).await;
    assert_eq!(
        r.header("x-request-id").as_deref(),
        Some("0190c1b2-1111-7000-8000-0000000000a9")
    );
    // Tester: a client's name sent as the request id was echoed and kept in the audit row.
    let named = ("X-Request-Id", "Bartholomew-Kettering");
    let r = send(&app, "GET", &path, &other.worker, None, named).await;
    r.ok(200);
    let echoed = r.header("x-request-id").unwrap();
    assert!(echoed.parse::<Uuid>().is_ok(), "{echoed}");
    assert_eq!(
        find(&app, &other.worker, json!({ "ssn": SSN })).await,
        vec![id.clone()]
    );
    let vet = json!({"veteran_status": 1});
    app.patch(&path, &t.worker, Some(&etag), vet).await.ok(200);
    let admin = app.token("aa-1", &[Role::AgencyAdmin], Some(t.agency));
    let r = app.get(&audit, &admin).await;
    let items = r.ok(200)["items"].as_array().unwrap().clone();
    let pick = |f: &dyn Fn(&Value) -> bool| items.iter().find(|e| f(e)).cloned();
    let create = pick(&|e| e["action"] == "create").expect("create");
    has!(create, {"basis": "creating_agency", "actor_agency_id": t.agency});
    let own_read = pick(&|e| e["action"] == "read").expect("read");
    assert!(own_read["basis"] == "creating_agency" && own_read["request_id"].is_string());
    let shared = pick(&|e| e["request_id"] == "0190c1b2-1111-7000-8000-0000000000a9")
        .expect("the sharing read");
    assert!(
        pick(&|e| e["request_id"] == echoed.as_str()).is_some(),
        "{items:?}"
    );
    assert!(!Value::Array(items.clone())
        .to_string()
        .contains("Kettering"));
    has!(shared, {"action": "read", "basis": "statewide_roi", "actor_agency_id": other.agency});
    assert!(pick(&|e| e["action"] == "update").is_some(), "{items:?}");
    // A search answering the record in full is a disclosure too.
    let hit = pick(&|e| e["actor_agency_id"] == json!(other.agency) && e["action"] != "read");
    assert_eq!(
        hit.expect("the search")["basis"],
        "statewide_roi",
        "{items:?}"
    );
    for v in [FIRST, LAST, SSN, "524719932", "9932", DOB] {
        assert!(!text(&r).contains(v), "audit holds {v}: {}", text(&r));
    }
    // Cursor pages, oldest first, every event once.
    let (mut seen, mut cursor) = (Vec::new(), String::new());
    loop {
        let page = app.get(&format!("{audit}?limit=1{cursor}"), &admin).await;
        let body = page.ok(200).clone();
        let ids = body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["id"].clone());
        seen.extend(ids);
        match body["next_cursor"].as_str() {
            Some(c) => cursor = format!("&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(
        seen,
        items.iter().map(|e| e["id"].clone()).collect::<Vec<_>>()
    );
    // Its audience: not a case worker, and not another agency's admin.
    app.get(&audit, &t.worker).await.problem(403);
    let (_, lead) = member(&app, &t.coc, false, &[Role::CocAdmin]).await;
    app.get(&audit, &lead).await.ok(200);
    let other_admin = app.token("aa-2", &[Role::AgencyAdmin], Some(other.agency));
    app.get(&audit, &other_admin).await.problem(403);
}

#[actix_web::test]
async fn create_with_an_idempotency_key_replays_the_first_result() {
    let app = spawn().await;
    let t = tenant(&app, json!({})).await;
    let (key, p, w) = (("Idempotency-Key", "intake-77"), "/v1/clients", &t.worker);
    let first = send(&app, "POST", p, w, Some(identified()), key).await;
    let again = send(&app, "POST", p, w, Some(identified()), key).await;
    assert_eq!(again.ok(201)["client"]["id"], first.ok(201)["client"]["id"]);
    assert_eq!(again.header("etag"), first.header("etag"));
    let changed = Some(with(json!({"first_name": "Other"})));
    send(&app, "POST", p, w, changed, key).await.problem(422);
    assert_eq!(find(&app, w, json!({ "ssn": SSN })).await.len(), 1);
}

// ---------------------------------------------------------------- workflow answers

#[actix_web::test]
async fn an_open_deidentified_record_is_shared_at_once_without_an_roi_warning() {
    // consent.md, record rule row 4: a de-identified open record needs no ROI; no answer may
    // say it is treated as closed.
    let app = spawn().await;
    let t = tenant(&app, json!({})).await;
    let other = tenant(&app, json!({})).await;
    let false_warning = |r: &Reply| {
        let w = r.body["warnings"].to_string().to_lowercase();
        w.contains("treated as closed") || w.contains("without an roi")
    };
    for body in [
        json!({"identity_mode": "consent_refused"}),
        json!({"identity_mode": "anonymous", "birth_year": 1980, "visibility": "open"}),
    ] {
        let r = new_client(&app, &t.worker, body.clone()).await;
        assert_eq!(r.ok(201)["client"]["visibility"], "open", "{body}");
        assert!(!false_warning(&r), "{body}: {}", r.body);
        let id = r.body["client"]["id"].as_str().unwrap().to_string();
        let r = app.get(&format!("/v1/clients/{id}"), &other.worker).await;
        assert_eq!(access(r.ok(200)), "limited/deidentified", "{body}");
    }
    // Opened later by PUT visibility: the same.
    let body = json!({"identity_mode": "anonymous", "birth_year": 1980});
    let (id, _) = create_with(&app, &t.worker, body).await;
    let vis = format!("/v1/clients/{id}/visibility");
    let r = app
        .put(&vis, &t.worker, json!({"visibility": "open"}))
        .await;
    assert_eq!(r.ok(200)["client"]["visibility"], "open");
    assert!(!false_warning(&r), "{}", r.body);
}

#[actix_web::test]
async fn put_visibility_keeps_to_the_identity_modes_visibilities() {
    // consent.md, "Identity modes": what a mode refuses at creation it refuses on a change.
    let app = spawn().await;
    let t = tenant(&app, json!({})).await;
    let w = &t.worker;
    let to = |v: &str| json!({ "visibility": v });
    // Consent-refused: open, closed or private, never locked; the reason as at creation.
    let at_creation = new_client(
        &app,
        w,
        json!({"identity_mode": "consent_refused", "visibility": "locked"}),
    )
    .await;
    let reason = at_creation.problem(422)["errors"][0]["message"].clone();
    let (id, _) = create_with(&app, w, json!({"identity_mode": "consent_refused"})).await;
    let vis = format!("/v1/clients/{id}/visibility");
    let r = app.put(&vis, w, to("locked")).await;
    assert_eq!(r.problem(409)["detail"], reason);
    for v in ["private", "closed", "open"] {
        let r = app.put(&vis, w, to(v)).await;
        assert_eq!(r.ok(200)["client"]["visibility"], v);
    }
    // Code-name: locked until the client designates sharing.
    let code = json!({"identity_mode": "code_name", "first_name": "Shorty"});
    let (id, _) = create_with(&app, w, code).await;
    let vis = format!("/v1/clients/{id}/visibility");
    for v in ["private", "closed", "open"] {
        let r = app.put(&vis, w, to(v)).await;
        let p = r.problem(409);
        assert_eq!(
            p["type"], "urn:hearth:problem:designate-sharing-needed",
            "{v}"
        );
    }
    assert_eq!(
        app.put(&vis, w, to("locked")).await.ok(200)["client"]["visibility"],
        "locked"
    );
    // Anonymous: any.
    let anon = json!({"identity_mode": "anonymous", "birth_year": 1980});
    let (id, _) = create_with(&app, w, anon).await;
    let vis = format!("/v1/clients/{id}/visibility");
    for v in ["locked", "private", "closed", "open"] {
        let r = app.put(&vis, w, to(v)).await;
        assert_eq!(r.ok(200)["client"]["visibility"], v);
    }
}

#[actix_web::test]
async fn a_break_glass_reason_naming_the_client_is_refused_and_never_stored() {
    // consent.md, Audit: audit rows never hold PII values. The server knows the record's
    // names, SSN and DOB, and refuses a reason that holds them, without echoing it.
    let app = spawn().await;
    let t = tenant(&app, json!({})).await;
    let (id, _) = create_identified(&app, &t.worker).await;
    let path = format!("/v1/clients/{id}");
    let admin = app.admin.clone();
    let named = [
        "client Rosalind Featherstonehaugh called",
        "re: FEATHERSTONEHAUGH",
        "rosalind asked for her file",
        "caller gave ssn ending 9932",
    ];
    let by_id = json!({ "client_id": id });
    for reason in named {
        let header = ("X-Access-Reason", reason);
        for (what, r) in [
            ("GET", send(&app, "GET", &path, &admin, None, header).await),
            (
                "consents",
                send(
                    &app,
                    "GET",
                    &format!("{path}/consents"),
                    &admin,
                    None,
                    header,
                )
                .await,
            ),
            (
                "search hit",
                send(&app, "POST", SEARCH, &admin, Some(by_id.clone()), header).await,
            ),
        ] {
            let p = r.problem(400);
            assert!(
                p["detail"].as_str().unwrap().contains("X-Access-Reason"),
                "{what}: {p}"
            );
            for v in [FIRST, LAST, "9932", reason] {
                assert!(
                    !text(&r).to_lowercase().contains(&v.to_lowercase()),
                    "{what} echoes {v}"
                );
            }
        }
    }
    // A search's own criteria are known too.
    let by_name = json!({"first_name": FIRST, "last_name": LAST});
    let header = ("X-Access-Reason", "looking for featherstonehaugh");
    send(&app, "POST", SEARCH, &admin, Some(by_name.clone()), header)
        .await
        .problem(400);
    // A plain reason goes through; the trail holds no name.
    let plain = ("X-Access-Reason", "ticket HD-4411");
    send(&app, "GET", &path, &admin, None, plain).await.ok(200);
    send(&app, "POST", SEARCH, &admin, Some(by_name), plain)
        .await
        .ok(200);
    let r = app.get(&format!("{path}/audit"), &admin).await;
    r.ok(200);
    for v in [FIRST, LAST, "9932"] {
        assert!(
            !text(&r).to_lowercase().contains(&v.to_lowercase()),
            "audit holds {v}"
        );
    }
    // Only where the caller sees the PII anyway: nobody else learns anything from the check.
    let header = ("X-Access-Reason", named[0]);
    let (_, lead) = member(&app, &t.coc, false, &[Role::CocAdmin]).await;
    let r = send(&app, "GET", &path, &lead, None, header).await;
    assert_eq!(access(r.ok(200)), "limited/coc_aggregate");
    let other = tenant(&app, json!({})).await;
    send(&app, "GET", &path, &other.worker, None, header)
        .await
        .problem(404);
}
