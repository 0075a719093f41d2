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

/// The app type `spawn()` answers, nameable in helpers.
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

/// `identified()` with `extra`'s keys set (a null removes the key).
fn with(extra: Value) -> Value {
    let mut b = identified();
    for (k, v) in extra.as_object().unwrap() {
        match v {
            Value::Null => b.as_object_mut().unwrap().remove(k),
            _ => b.as_object_mut().unwrap().insert(k.clone(), v.clone()),
        };
    }
    b
}

fn text(r: &Reply) -> String {
    String::from_utf8_lossy(&r.raw).into_owned()
}

fn today() -> chrono::NaiveDate {
    chrono::Utc::now().date_naive()
}

/// A 4xx problem naming `field`, repeating neither `secret` nor the PII of `identified()`.
fn assert_refused(r: &Reply, field: &str, secret: &str, what: &str) {
    assert!(
        r.status.is_client_error(),
        "{what}: {} {}",
        r.status,
        r.body
    );
    let ct = r.header("content-type");
    assert_eq!(ct.as_deref(), Some("application/problem+json"), "{what}");
    let fields = r.error_fields();
    assert!(
        fields.iter().any(|f| f == field),
        "{what}: want {field}, got {fields:?}"
    );
    for v in [secret, FIRST, LAST, SSN, DOB] {
        assert!(
            v.is_empty() || !text(r).contains(v),
            "{what}: echoes {v}: {}",
            text(r)
        );
    }
}

fn assert_no_pii(client: &Value) {
    for k in PII_KEYS {
        assert!(client.get(k).is_none(), "key {k} present: {client}");
    }
    let s = client.to_string();
    for v in [FIRST, LAST, SSN, "524719932", "9932", DOB] {
        assert!(!s.contains(v), "value {v} present: {s}");
    }
}

fn access(v: &Value) -> (String, String) {
    let s = |x: &Value| x.as_str().unwrap_or("null").to_string();
    (s(&v["access"]["level"]), s(&v["access"]["basis"]))
}

fn pair(level: &str, basis: &str) -> (String, String) {
    (level.to_string(), basis.to_string())
}

struct Tenant {
    coc: String,
    agency: Uuid,
    worker: String,
}

/// A CoC with `policy`, an agency in it and a case worker of that agency.
async fn tenant<S: Svc>(app: &TestApp<S>, policy: Value) -> Tenant {
    let coc = app.coc(policy).await;
    let (agency, worker) = member(app, &coc, true, &[Role::CaseWorker]).await;
    Tenant {
        coc,
        agency,
        worker,
    }
}

/// Another agency in `coc`, with a token holding `roles`.
async fn member<S: Svc>(
    app: &TestApp<S>,
    coc: &str,
    shares: bool,
    roles: &[Role],
) -> (Uuid, String) {
    let agency = app.agency(coc, shares).await;
    (
        agency,
        app.token(&format!("u-{agency}"), roles, Some(agency)),
    )
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

async fn get_with_reason<S: Svc>(app: &TestApp<S>, path: &str, reason: &str) -> Reply {
    let headers = vec![("X-Access-Reason", reason.to_string())];
    let token = Some(app.admin.as_str());
    app.send(Call {
        method: "GET",
        path,
        token,
        body: None,
        headers,
    })
    .await
}

/// Asserts that `v` holds every key of `want` with the same value.
fn has(v: &Value, want: Value) {
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

// ---------------------------------------------------------------- identity modes

#[actix_web::test]
async fn anonymous_record_is_named_and_dated_by_the_default_policy() {
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
    assert!(r.header("etag").is_some());
}

#[actix_web::test]
async fn anonymous_record_follows_a_non_default_policy() {
    let app = spawn().await;
    let policy = json!({"anonymous_name_format": "anonymous_anonymous",
        "anonymous_dob_rule": "jan1_of_next_year_unless_young_or_old", "anonymous_ssn_quality": 9});
    let t = tenant(&app, policy).await;
    let y = today().year();
    // Spokane: Jan 1 of the next year, the true year when age <= 24 or > 60.
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
        ("first_name", "Zebulon"),
        ("last_name", "Quartermaine"),
        ("middle_name", "Ignatius"),
        ("alias", "Zebbie"),
        ("name_suffix", "Jr"),
        ("ssn", "524-71-9932"),
        ("dob", "1979-03-13"),
        ("additional_race_ethnicity", "call me at 509-555-0147"),
        ("additional_race_ethnicity", "write zeb.q@example.org"),
    ] {
        let body = json!({"identity_mode": "anonymous", "birth_year": 1979, field: value});
        let r = new_client(&app, &t.worker, body).await;
        r.problem(422);
        assert_refused(&r, field, value, field);
    }
    // The quality codes the mode and policy set cannot be overridden.
    let body = json!({"identity_mode": "anonymous", "name_data_quality": 1});
    let r = new_client(&app, &t.worker, body).await;
    r.problem(422);
    assert_refused(&r, "name_data_quality", "", "anonymous name quality 1");
}

#[actix_web::test]
async fn consent_refused_record_holds_no_name_or_ssn_and_is_never_open() {
    let app = spawn().await;
    let t = tenant(&app, json!({})).await;
    let body = json!({"identity_mode": "consent_refused"});
    let r = new_client(&app, &t.worker, body).await;
    has!(r.ok(201)["client"], {"identity_mode": "consent_refused", "visibility": "closed",
        "name_data_quality": 9, "ssn_data_quality": 9, "first_name": null, "ssn": null});
    let body = json!({"identity_mode": "consent_refused", "visibility": "private", "dob": DOB});
    let r = new_client(&app, &t.worker, body).await;
    has!(r.ok(201)["client"], {"visibility": "private", "dob": DOB});
    for (field, value) in [
        ("first_name", "Zebulon"),
        ("last_name", "Zed"),
        ("ssn", SSN),
    ] {
        let body = json!({"identity_mode": "consent_refused", field: value});
        let r = new_client(&app, &t.worker, body).await;
        r.problem(422);
        assert_refused(&r, field, value, field);
    }
    for v in ["open", "locked"] {
        let body = json!({"identity_mode": "consent_refused", "visibility": v});
        let r = new_client(&app, &t.worker, body).await;
        r.problem(422);
        assert_refused(&r, "visibility", "", v);
    }
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

// ---------------------------------------------------------------- validation

#[actix_web::test]
async fn validation_names_the_field_never_the_value_and_never_5xx() {
    let app = spawn().await;
    let t = tenant(&app, json!({})).await;
    let future = (today() + chrono::Duration::days(30)).to_string();
    // [field, changes to identified()]; a body naming another identity mode is sent as is.
    let cases = json!([
        ["name_data_quality", {"name_data_quality": 9}],
        ["ssn_data_quality", {"ssn_data_quality": 99}],
        ["ssn_data_quality", {"ssn": null, "ssn_data_quality": 1}],
        ["dob_data_quality", {"dob_data_quality": 99}],
        ["dob_data_quality", {"dob": null, "dob_data_quality": 1}],
        ["ssn", {"ssn": "000-00-0000"}], ["ssn", {"ssn": "111-11-1111"}],
        ["ssn", {"ssn": "123-45-6789"}], ["ssn", {"ssn": "666-12-3456"}],
        ["ssn", {"ssn": "900-12-3456"}], ["ssn", {"ssn": "52-471-99321"}],
        ["ssn", {"ssn": "5247199x2"}], ["ssn", {"ssn": 524719932}],
        ["dob", {"dob": future}], ["dob", {"dob": "1899-12-31"}], ["dob", {"dob": "1981-02-30"}],
        ["identity_mode", {"identity_mode": "famous"}],
        ["identity_mode", {"identity_mode": null}],
        ["visibility", {"visibility": "public"}],
        ["first_name", {"first_name": 4242424}],
        ["first_name", {"first_name": "Ros\u{0}alind"}],
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
        let other_mode = extra["identity_mode"]
            .as_str()
            .is_some_and(|m| m != "famous");
        let body = if other_mode {
            extra.clone()
        } else {
            with(extra.clone())
        };
        let r = new_client(&app, &t.worker, body.clone()).await;
        // The value sent, when it is long enough to tell apart from the problem's own words.
        let sent = extra[field].to_string().trim_matches('"').to_string();
        let secret = if sent.len() >= 5 { sent } else { String::new() };
        assert_refused(&r, field, &secret, &body.to_string());
        assert_eq!(r.body["status"], r.status.as_u16(), "{body}");
    }
    // None of them created anything.
    let by_name = json!({"last_name": LAST});
    let r = app.post("/v1/clients/search", &t.worker, by_name).await;
    assert_eq!(r.ok(200)["items"], json!([]));
}

// ---------------------------------------------------------------- reading

#[actix_web::test]
async fn read_levels_and_a_hidden_record_answers_like_an_unknown_one() {
    let app = spawn().await;
    let t = tenant(&app, json!({})).await;
    let (id, _) = create_identified(&app, &t.worker).await;
    let path = format!("/v1/clients/{id}");
    let r = app.get(&path, &t.worker).await;
    assert_eq!(access(r.ok(200)), pair("full", "creating_agency"));
    assert_eq!(r.body["first_name"], FIRST);
    assert!(r.header("etag").is_some());

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
    let r = app.get(&path, &neighbour).await;
    assert_eq!(text(&r), text(&unknown));

    // The CoC lead (rule 6): limited, coc_aggregate, no PII keys at all.
    let (_, lead) = member(&app, &t.coc, false, &[Role::CocAdmin]).await;
    let r = app.get(&path, &lead).await;
    let c = r.ok(200);
    assert_eq!(access(c), pair("limited", "coc_aggregate"));
    assert_eq!(c["veteran_status"], 0);
    assert_no_pii(c);
    // Another CoC's lead: none.
    let (_, far_lead) = member(&app, &other.coc, false, &[Role::CocAdmin]).await;
    assert_eq!(text(&app.get(&path, &far_lead).await), text(&unknown));
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
async fn break_glass_read_needs_a_reason_and_is_audited() {
    let app = spawn().await;
    let t = tenant(&app, json!({})).await;
    let (id, _) = create_identified(&app, &t.worker).await;
    let path = format!("/v1/clients/{id}");
    app.get(&path, &app.admin).await.problem(403);
    let r = get_with_reason(&app, &path, "ticket HD-4411").await;
    has!(r.ok(200), {"first_name": FIRST, "access": {"level": "full", "basis": "helpdesk"}});

    let r = app.get(&format!("{path}/audit"), &app.admin).await;
    let items = r.ok(200)["items"].as_array().unwrap().clone();
    let glass = |e: &&Value| e["basis"] == "helpdesk" && e["action"] == "read";
    let glass: Vec<&Value> = items.iter().filter(glass).collect();
    assert_eq!(glass.len(), 1, "{items:?}");
    has!(glass[0], {"access_reason": "ticket HD-4411", "actor": "admin-1"});
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
    app.patch(&path, w, stale, change.clone())
        .await
        .problem(412);
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
    app.patch(&path, &lead, Some(&new_etag), vet)
        .await
        .problem(403);
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
    has!(e, {"level": "limited", "basis": "coc_aggregate", "rule": 6});
    assert!(!e.to_string().contains(FIRST));

    let other = tenant(&app, json!({})).await;
    let for_other = format!("{path}?agency_id={}", other.agency);
    let e = app.get(&for_other, &app.admin).await.ok(200).clone();
    has!(e, {"level": "none", "basis": null, "rule": 8});
    assert_eq!(e["viewer"]["agency_id"], other.agency.to_string());
    assert!(!e["explanation"].as_str().unwrap().is_empty());
    let for_creator = format!("{path}?agency_id={}", t.agency);
    let e = app.get(&for_creator, &app.admin).await;
    assert_eq!(e.ok(200)["basis"], "creating_agency");
    // Only an admin may ask for someone else; a hidden record is a 404 here too.
    app.get(&for_other, &t.worker).await.problem(403);
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
    assert_eq!(access(&r.ok(200)["client"]), pair("full", "statewide_roi"));
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
    assert_eq!(access(r.ok(200)), pair("full", "contributor"));
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
    app.post(&designate, w, named("open")).await.problem(409);
    let mut open = named("open");
    open["roi"] = json!({"method": "verbal"});
    let r = app.post(&designate, w, open).await;
    assert_eq!(r.ok(200)["client"]["visibility"], "open");
    let other = tenant(&app, json!({})).await;
    let r = app.get(&format!("/v1/clients/{id}"), &other.worker).await;
    assert_eq!(access(r.ok(200)), pair("full", "statewide_roi"));
    // Someone who cannot see a code-name record cannot designate it either.
    let (id, _) = create_with(&app, w, code).await;
    let designate = format!("/v1/clients/{id}/designate-sharing");
    let r = app.post(&designate, &other.worker, named("closed")).await;
    r.problem(404);
}

// ---------------------------------------------------------------- search

fn hit_for<'a>(r: &'a Reply, id: &str) -> Option<&'a Value> {
    let items = r.body["items"].as_array()?;
    items.iter().find(|h| h["client"]["id"] == id)
}

#[actix_web::test]
async fn search_finds_what_the_caller_may_see_and_nothing_else() {
    let app = spawn().await;
    let t = tenant(&app, json!({})).await;
    let (id, _) = create_identified(&app, &t.worker).await;
    let r = app.get(&format!("/v1/clients/{id}"), &t.worker).await;
    let uid = r.body["short_uid"].as_str().unwrap().to_string();
    let search = "/v1/clients/search";
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
        let r = app.post(search, &t.worker, criteria.clone()).await;
        r.ok(200);
        let hit = hit_for(&r, &id).unwrap_or_else(|| panic!("{criteria}: {}", r.body));
        has!(hit["client"], {"created_by_your_agency": true,
            "access": {"level": "full", "basis": "creating_agency"}});
        let score = hit["score"].as_f64().unwrap();
        assert!(score > 0.0 && score <= 1.0, "{criteria}: {score}");
        assert!(!hit["matched_on"].as_array().unwrap().is_empty());
    }
    let r = app.post(search, &t.worker, fuzzy).await;
    assert!(hit_for(&r, &id).unwrap()["score"].as_f64().unwrap() < 1.0);
    // Last four without DOB; no criteria at all; a placeholder.
    let r = app.post(search, &t.worker, json!({"ssn": "9932"})).await;
    r.problem(422);
    assert!(!r.error_fields().is_empty());
    app.post(search, &t.worker, json!({})).await.problem(422);
    let placeholder = json!({"ssn": "123-45-6789"});
    let r = app.post(search, &t.worker, placeholder).await;
    assert_refused(&r, "ssn", "123-45-6789", "placeholder search");

    // An agency that may not see the record never finds it.
    let other = tenant(&app, json!({})).await;
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
            r.ok(200);
            assert!(hit_for(&r, &id).is_none(), "{criteria}: {}", r.body);
            assert!(!text(&r).contains(FIRST), "{criteria}");
        }
    }
    // Once a record is open, a sharing agency finds it (not as its own).
    let (open_id, _) = create_open(&app, &t.worker).await;
    let r = app.post(search, &other.worker, json!({"ssn": SSN})).await;
    let hit = hit_for(&r, &open_id).unwrap_or_else(|| panic!("{}", r.body));
    has!(hit["client"], {"created_by_your_agency": false,
        "access": {"level": "full", "basis": "statewide_roi"}});
}

// ---------------------------------------------------------------- audit

#[actix_web::test]
async fn audit_trail_for_the_creating_agency_admin_holds_no_pii() {
    let app = spawn().await;
    let t = tenant(&app, json!({})).await;
    let (id, _) = create_identified(&app, &t.worker).await;
    let path = format!("/v1/clients/{id}");
    let audit = format!("{path}/audit");
    app.get(&path, &t.worker).await.ok(200);
    let admin = app.token("aa-1", &[Role::AgencyAdmin], Some(t.agency));
    let r = app.get(&audit, &admin).await;
    let items = r.ok(200)["items"].as_array().unwrap().clone();
    let find = |action: &str| items.iter().find(|e| e["action"] == action).cloned();
    let create = find("create").unwrap_or_else(|| panic!("{items:?}"));
    has!(create, {"basis": "creating_agency", "actor_agency_id": t.agency});
    let read = find("read").unwrap_or_else(|| panic!("{items:?}"));
    assert_eq!(read["basis"], "creating_agency");
    assert!(read["request_id"].is_string());
    for v in [FIRST, LAST, SSN, "524719932", "9932", DOB] {
        assert!(!text(&r).contains(v), "audit holds {v}: {}", text(&r));
    }
    app.get(&audit, &t.worker).await.problem(403);
    let (_, lead) = member(&app, &t.coc, false, &[Role::CocAdmin]).await;
    app.get(&audit, &lead).await.ok(200);
    let other = tenant(&app, json!({})).await;
    let other_admin = app.token("aa-2", &[Role::AgencyAdmin], Some(other.agency));
    app.get(&audit, &other_admin).await.problem(404);
}
