//! ROI grant, history and revocation through the API.
//!
//! Written from design/consent.md ("Workflows", "Record rule", "Datum rule") and the ROI job aid.

use hearth::consent::Role;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::clients::{access, has, member, send, text, today, Svc};
use crate::harness::*;

/// `has!(value, {json})`.
macro_rules! has {
    ($v:expr, $($want:tt)+) => {
        has(&$v, json!($($want)+))
    };
}

const NOTICES: &str = "/v1/helpdesk-notices";

fn identified() -> Value {
    json!({"identity_mode": "identified", "first_name": "Octavia", "last_name": "Brackenridge",
           "dob": "1975-09-02"})
}

/// Today plus `days`, as the API writes dates.
fn day(days: i64) -> String {
    (today() + chrono::Duration::days(days)).to_string()
}

fn id_of(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

/// A CoC, a sharing agency in it and a case worker of that agency.
struct Tenant {
    coc: String,
    worker: String,
}

async fn tenant<S: Svc>(app: &TestApp<S>, policy: Value) -> Tenant {
    let coc = app.coc(policy).await;
    let (_, worker) = member(app, &coc, true, &[Role::CaseWorker]).await;
    Tenant { coc, worker }
}

/// A record created from `body`: its path.
async fn record<S: Svc>(app: &TestApp<S>, token: &str, body: Value) -> String {
    let r = app.post("/v1/clients", token, body).await;
    format!("/v1/clients/{}", id_of(&r.ok(201)["client"]))
}

/// A closed identified record: its path.
async fn closed_record<S: Svc>(app: &TestApp<S>, token: &str) -> String {
    record(app, token, identified()).await
}

async fn grant<S: Svc>(app: &TestApp<S>, path: &str, token: &str, roi: Value) -> Reply {
    app.post(&format!("{path}/consents"), token, roi).await
}

async fn revoke<S: Svc>(app: &TestApp<S>, path: &str, cid: &str, token: &str) -> Reply {
    revoke_on(app, path, cid, token, json!({})).await
}

async fn revoke_on<S: Svc>(
    app: &TestApp<S>,
    path: &str,
    cid: &str,
    token: &str,
    body: Value,
) -> Reply {
    app.post(&format!("{path}/consents/{cid}/revoke"), token, body)
        .await
}

/// A closed record opened by a statewide ROI: (record path, consent id).
async fn opened_record<S: Svc>(app: &TestApp<S>, token: &str) -> (String, String) {
    let path = closed_record(app, token).await;
    let r = grant(app, &path, token, json!({"method": "signed"})).await;
    let cid = id_of(&r.ok(201)["consent"]);
    (path, cid)
}

/// `token`'s agency enters data into the record (a PATCH while it sees it in full).
async fn contribute<S: Svc>(app: &TestApp<S>, path: &str, token: &str) {
    let r = app.get(path, token).await;
    let etag = r.header("etag").expect("an ETag");
    let vet = json!({"veteran_status": 1});
    app.patch(path, token, Some(&etag), vet).await.ok(200);
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
    let roi = json!({"method": "signed", "documentation_note": "form in binder 3"});
    let r = grant(&app, &path, &t.worker, roi).await;
    let o = r.ok(201);
    has!(o["consent"], {"active": true, "effective_from": day(0), "revoked_on": null,
        "scope": {"type": "statewide"}});
    assert_eq!(o["client"]["visibility"], "open");
    assert!(changes(o).contains("open"), "{o}");
    assert!(r.header("location").is_some());
    // Record rule row 3: a sharing agency anywhere in the installation, full; the datum
    // rule's window opens from the ROI's date.
    let r = app.get(&path, &other.worker).await;
    assert_eq!(access(r.ok(200)), "full/statewide_roi");
    assert_eq!(r.body["first_name"], "Octavia");
    // The CoC lead of the record's CoC too, now in full.
    let (_, lead) = member(&app, &t.coc, false, &[Role::CocAdmin]).await;
    assert_eq!(
        access(app.get(&path, &lead).await.ok(200)),
        "full/statewide_roi"
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
    let r = grant(
        &app,
        &path,
        &t.worker,
        json!({"method": "verbal", "effective_from": day(10)}),
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
    let explanation = e.body["explanation"].as_str().unwrap();
    assert!(explanation.contains(&day(10)), "{explanation}");
}

#[actix_web::test]
async fn an_roi_scoped_to_cocs_opens_the_record_to_those_cocs_only() {
    let app = spawn().await;
    let t = tenant(&app, json!({})).await;
    let near = tenant(&app, json!({})).await;
    let far = tenant(&app, json!({})).await;
    let path = closed_record(&app, &t.worker).await;
    let scope = json!({"type": "cocs", "coc_codes": [t.coc, near.coc]});
    let r = grant(
        &app,
        &path,
        &t.worker,
        json!({"method": "signed", "scope": scope}),
    )
    .await;
    assert_eq!(r.ok(201)["consent"]["scope"], scope);
    assert_eq!(
        access(app.get(&path, &near.worker).await.ok(200)),
        "full/statewide_roi"
    );
    app.get(&path, &far.worker).await.problem(404);
}

#[actix_web::test]
async fn history_lists_every_roi_oldest_first() {
    let app = spawn().await;
    let t = tenant(&app, json!({})).await;
    let (path, first) = opened_record(&app, &t.worker).await;
    revoke(&app, &path, &first, &t.worker).await.ok(200);
    let r = grant(&app, &path, &t.worker, json!({"method": "verbal"})).await;
    let second = id_of(&r.ok(201)["consent"]);
    assert_eq!(r.body["client"]["visibility"], "open");
    let r = app.get(&format!("{path}/consents"), &t.worker).await;
    let items = r.ok(200)["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 2, "{items:?}");
    has!(items[0], {"id": first, "revoked_on": day(0), "active": false});
    has!(items[1], {"id": second, "method": "verbal", "active": true});
    // At full the list carries documentation notes: the read is audited (consent.md, Audit).
    let trail = app.get(&format!("{path}/audit"), &app.admin).await;
    let reads = trail.ok(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "consents_read")
        .count();
    assert_eq!(reads, 1, "{}", trail.body);
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
    let r = revoke(&app, &path, &cid, &t.worker).await;
    let o = r.ok(200);
    has!(o, {"scenario": "creating_agency_only"});
    has!(o["consent"], {"revoked_on": day(0), "active": false});
    assert_eq!(o["client"]["visibility"], "closed");
    assert!(changes(o).contains("closed"), "{o}");
    // The job aid emails the helpdesk in both scenarios; the server records a notice instead.
    assert!(o["helpdesk_notice_id"].is_string(), "{o}");
    app.get(&path, &other.worker).await.problem(404);
    assert_eq!(
        access(app.get(&path, &t.worker).await.ok(200)),
        "full/creating_agency"
    );
    // Revoking it again is a conflict.
    revoke(&app, &path, &cid, &t.worker).await.problem(409);
    // A sharing agency may record the revocation too; the answer then holds no record.
    let (path, cid) = opened_record(&app, &t.worker).await;
    let r = revoke(&app, &path, &cid, &other.worker).await;
    has!(r.ok(200), {"client": null, "scenario": "creating_agency_only"});
    app.get(&path, &other.worker).await.problem(404);
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
    let r = revoke_on(&app, &path, &cid, &t.worker, json!({"revoked_on": day(0)})).await;
    let o = r.ok(200).clone();
    has!(o, {"scenario": "other_agencies_have_data"});
    assert_eq!(o["client"]["visibility"], "closed");
    assert!(!o["warnings"].as_array().unwrap().is_empty(), "{o}");
    let notice_id = o["helpdesk_notice_id"]
        .as_str()
        .expect("a notice")
        .to_string();
    // Record rule row 4: the contributor keeps full access; the onlooker loses it.
    let r = app.get(&path, &contributor.worker).await;
    assert_eq!(access(r.ok(200)), "full/contributor");
    app.get(&path, &onlooker.worker).await.problem(404);
    // The CoC's admins see the notice; another CoC's do not; a case worker may not list them.
    let (_, lead) = member(&app, &t.coc, false, &[Role::CocAdmin]).await;
    let r = app.get(NOTICES, &lead).await;
    let items = r.ok(200)["items"].as_array().unwrap().clone();
    let n = items
        .iter()
        .find(|n| n["id"] == notice_id.as_str())
        .expect("the notice");
    has!(n, {"client_id": client_id, "coc_code": t.coc});
    assert!(n["kind"].as_str().unwrap().contains("revoked"), "{n}");
    assert!(!n.to_string().contains("Octavia"));
    let (_, far_lead) = member(&app, &onlooker.coc, false, &[Role::CocAdmin]).await;
    let r = app.get(NOTICES, &far_lead).await;
    assert!(!text(&r).contains(&notice_id), "{}", r.body);
    app.get(NOTICES, &t.worker).await.problem(403);
    assert!(text(&app.get(NOTICES, &app.admin).await).contains(&notice_id));
    revoke(&app, &path, &cid, &t.worker).await.problem(409);
}

#[actix_web::test]
async fn invalid_rois_are_refused() {
    let app = spawn().await;
    let t = tenant(&app, json!({})).await;
    let path = closed_record(&app, &t.worker).await;
    for (field, roi) in [
        (
            "expires_on",
            json!({"method": "signed", "effective_from": day(0), "expires_on": day(-5)}),
        ),
        (
            "expires_on",
            json!({"method": "signed", "effective_from": day(3), "expires_on": day(3)}),
        ),
        (
            "scope.coc_codes[0]",
            json!({"method": "signed", "scope": {"type": "cocs", "coc_codes": ["ZQ-999"]}}),
        ),
        (
            "scope.coc_codes[0]",
            json!({"method": "signed", "scope": {"type": "cocs", "coc_codes": ["nowhere"]}}),
        ),
        ("method", json!({"effective_from": day(0)})),
        ("method", json!({"method": "telepathic"})),
        (
            "expires_on",
            json!({"method": "signed", "expires_on": "someday"}),
        ),
    ] {
        let r = grant(&app, &path, &t.worker, roi.clone()).await;
        r.problem(422);
        assert!(
            r.error_fields().iter().any(|f| f == field),
            "{roi}: {:?}",
            r.error_fields()
        );
    }
    // Nothing was recorded, and the record is still closed.
    let r = app.get(&format!("{path}/consents"), &t.worker).await;
    assert_eq!(r.ok(200)["items"], json!([]));
    assert_eq!(app.get(&path, &t.worker).await.body["visibility"], "closed");
    // A revocation dated in the future; a consent that does not exist.
    let (path, cid) = opened_record(&app, &t.worker).await;
    let r = revoke_on(&app, &path, &cid, &t.worker, json!({"revoked_on": day(7)})).await;
    assert_eq!(r.problem(422)["errors"][0]["field"], "revoked_on");
    let unknown = Uuid::now_v7().to_string();
    revoke(&app, &path, &unknown, &t.worker).await.problem(404);
    // A record the caller cannot see: 404, not 403.
    let other = tenant(&app, json!({})).await;
    let hidden = closed_record(&app, &t.worker).await;
    grant(&app, &hidden, &other.worker, json!({"method": "signed"}))
        .await
        .problem(404);
}

#[actix_web::test]
async fn grant_and_revoke_are_audited() {
    let app = spawn().await;
    let t = tenant(&app, json!({})).await;
    let (path, cid) = opened_record(&app, &t.worker).await;
    revoke(&app, &path, &cid, &t.worker).await.ok(200);
    let r = app.get(&format!("{path}/audit"), &app.admin).await;
    let items = r.ok(200)["items"].as_array().unwrap();
    let actions: Vec<&str> = items
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for a in ["create", "roi_granted", "roi_revoked"] {
        assert!(actions.contains(&a), "{a} in {actions:?}");
    }
}

// ---------------------------------------------------------------- date windows and edges

#[actix_web::test]
async fn a_revocation_dated_before_the_roi_started_is_refused() {
    // consent.md: a window is effective_from <= d < revoked_on; one that ends before it
    // starts is refused, as for expires_on.
    let app = spawn().await;
    let t = tenant(&app, json!({})).await;
    let path = closed_record(&app, &t.worker).await;
    let r = grant(
        &app,
        &path,
        &t.worker,
        json!({"method": "signed", "effective_from": day(-3)}),
    )
    .await;
    let cid = id_of(&r.ok(201)["consent"]);
    let r = revoke_on(
        &app,
        &path,
        &cid,
        &t.worker,
        json!({"revoked_on": day(-10)}),
    )
    .await;
    r.problem(422);
    assert_eq!(r.error_fields(), vec!["revoked_on".to_string()]);
    // A revocation on the day it took effect is a window of no days, and allowed.
    let r = revoke_on(&app, &path, &cid, &t.worker, json!({"revoked_on": day(-3)})).await;
    assert_eq!(r.ok(200)["consent"]["revoked_on"], day(-3));
}

#[actix_web::test]
async fn an_expired_roi_opens_nothing_and_cannot_be_revoked() {
    let app = spawn().await;
    let t = tenant(&app, json!({})).await;
    let path = closed_record(&app, &t.worker).await;
    let roi =
        json!({"method": "signed", "effective_from": "2024-01-01", "expires_on": "2024-07-01"});
    let r = grant(&app, &path, &t.worker, roi).await;
    let cid = id_of(&r.ok(201)["consent"]);
    assert_eq!(r.body["consent"]["active"], false);
    // "Effectively open" needs an active ROI: the open record is treated as closed.
    let other = tenant(&app, json!({})).await;
    app.get(&path, &other.worker).await.problem(404);
    let (_, lead) = member(&app, &t.coc, false, &[Role::CocAdmin]).await;
    assert_eq!(
        access(app.get(&path, &lead).await.ok(200)),
        "limited/coc_aggregate"
    );
    revoke(&app, &path, &cid, &t.worker).await.problem(409);
    // expires_on is the first day it no longer holds.
    for (expires, active) in [(day(0), false), (day(1), true)] {
        let path = closed_record(&app, &t.worker).await;
        let roi = json!({"method": "signed", "effective_from": day(-30), "expires_on": expires});
        let r = grant(&app, &path, &t.worker, roi).await;
        assert_eq!(r.ok(201)["consent"]["active"], active, "{expires}");
        let seen = app.get(&path, &other.worker).await.status == 200;
        assert_eq!(seen, active, "expires {expires}");
    }
}

#[actix_web::test]
async fn the_policy_term_sets_a_default_expiry() {
    let app = spawn().await;
    let t = tenant(&app, json!({"roi_default_term_months": 12})).await;
    let path = closed_record(&app, &t.worker).await;
    let roi = json!({"method": "verbal", "effective_from": "2026-03-31"});
    let r = grant(&app, &path, &t.worker, roi).await;
    assert_eq!(r.ok(201)["consent"]["expires_on"], "2027-03-31");
    let roi = json!({"method": "verbal", "expires_on": day(30)});
    let r = grant(&app, &path, &t.worker, roi).await;
    assert_eq!(r.ok(201)["consent"]["expires_on"], day(30));
}

#[actix_web::test]
async fn a_grant_opens_private_locked_and_consent_refused_records() {
    let app = spawn().await;
    let t = tenant(&app, json!({})).await;
    let other = tenant(&app, json!({})).await;
    for body in [
        json!({"identity_mode": "identified", "first_name": "Octavia", "visibility": "private"}),
        json!({"identity_mode": "code_name", "first_name": "Shorty"}),
        json!({"identity_mode": "consent_refused"}),
        json!({"identity_mode": "anonymous", "birth_year": 1980}),
    ] {
        let path = record(&app, &t.worker, body.clone()).await;
        let r = grant(&app, &path, &t.worker, json!({"method": "signed"})).await;
        assert_eq!(r.ok(201)["client"]["visibility"], "open", "{body}");
        let r = app.get(&path, &other.worker).await;
        assert_eq!(access(r.ok(200)), "full/statewide_roi", "{body}");
    }
}

#[actix_web::test]
async fn roi_notes_are_free_text_and_follow_the_record() {
    let app = spawn().await;
    let t = tenant(&app, json!({})).await;
    // An anonymous record refuses free text that looks like PII.
    let path = record(&app, &t.worker, json!({"identity_mode": "anonymous"})).await;
    let roi = json!({"method": "verbal", "documentation_note": "witness: call 509-555-0147"});
    let r = grant(&app, &path, &t.worker, roi).await;
    r.problem(422);
    assert_eq!(r.error_fields(), vec!["documentation_note".to_string()]);
    assert!(!text(&r).contains("509-555-0147"));
    // The note is PII: a limited viewer does not get it.
    let path = closed_record(&app, &t.worker).await;
    let roi = json!({"method": "signed", "documentation_note": "binder 3, Octavia's folder"});
    let cid = id_of(&grant(&app, &path, &t.worker, roi).await.ok(201)["consent"]);
    let r = app.get(&format!("{path}/consents"), &t.worker).await;
    assert!(r.ok(200)["items"][0]["documentation_note"].is_string());
    revoke(&app, &path, &cid, &t.worker).await.ok(200);
    let (_, lead) = member(&app, &t.coc, false, &[Role::CocAdmin]).await;
    let r = app.get(&format!("{path}/consents"), &lead).await;
    let item = &r.ok(200)["items"][0];
    assert!(item.get("documentation_note").is_none(), "{item}");
}

#[actix_web::test]
async fn break_glass_covers_consent_answers() {
    // consent.md rule 1: a system admin's read of PII needs X-Access-Reason (403 without).
    let app = spawn().await;
    let t = tenant(&app, json!({})).await;
    let path = closed_record(&app, &t.worker).await;
    let roi = json!({"method": "signed", "documentation_note": "form in binder 3"});
    let cid = id_of(&grant(&app, &path, &t.worker, roi).await.ok(201)["consent"]);
    let mut leaks = Vec::new();
    let r = app.get(&format!("{path}/consents"), &app.admin).await;
    if text(&r).contains("binder 3") {
        leaks.push(format!("GET consents: {}", r.body));
    }
    let r = revoke(&app, &path, &cid, &app.admin).await;
    if text(&r).contains("Octavia") {
        leaks.push(format!("revoke: {} {}", r.status, r.body));
    }
    assert!(leaks.is_empty(), "{leaks:#?}");
}

#[actix_web::test]
async fn a_grant_with_an_idempotency_key_replays_the_first_result() {
    let app = spawn().await;
    let t = tenant(&app, json!({})).await;
    let path = closed_record(&app, &t.worker).await;
    let consents = format!("{path}/consents");
    let (roi, key) = (
        Some(json!({"method": "signed"})),
        ("Idempotency-Key", "roi-form-9"),
    );
    let first = send(&app, "POST", &consents, &t.worker, roi.clone(), key).await;
    let again = send(&app, "POST", &consents, &t.worker, roi, key).await;
    assert_eq!(
        again.ok(201)["consent"]["id"],
        first.ok(201)["consent"]["id"]
    );
    let r = app.get(&consents, &t.worker).await;
    assert_eq!(r.ok(200)["items"].as_array().unwrap().len(), 1);
}

/// An exit is a datum of its own (consent.md, vocabulary; datum rule 3): an agency that
/// contributed while an ROI covered its CoC keeps the stay's entry, collected inside that
/// window, but not an exit collected after the window closed, even once another ROI (not
/// covering its CoC) has opened the record again.
#[actix_web::test]
async fn an_exit_collected_after_a_revocation_is_withheld_from_a_contributor() {
    let app = spawn().await;
    let (a_coc, b_coc) = (app.coc(json!({})).await, app.coc(json!({})).await);
    let (a_agency, a1) = member(&app, &a_coc, true, &[Role::CaseWorker]).await;
    let (b_agency, b1) = member(&app, &b_coc, true, &[Role::CaseWorker]).await;
    let (a_project, b_project) = (
        app.project(a_agency, 1).await,
        app.project(b_agency, 1).await,
    );
    let mut body = identified();
    body["roi"] = json!({"method": "signed", "effective_from": "2026-10-01",
                         "scope": {"type": "cocs", "coc_codes": [a_coc, b_coc]}});
    let path = record(&app, &a1, body).await;
    let enroll = |project: Uuid, entry: &str| json!({"project_id": project, "entry_date": entry, "relationship_to_hoh": 1});
    let r = app
        .post(
            &format!("{path}/enrollments"),
            &a1,
            enroll(a_project, "2026-10-05"),
        )
        .await;
    let stay = id_of(&r.ok(201)["enrollment"]);
    // B1 enrolls the client too, and so becomes a contributor.
    let r = app
        .post(
            &format!("{path}/enrollments"),
            &b1,
            enroll(b_project, "2026-10-06"),
        )
        .await;
    assert!(changes(r.ok(201)).contains("contributor"), "{}", r.body);
    let r = app.get(&format!("{path}/consents"), &a1).await;
    let cid = id_of(&r.ok(200)["items"][0]);
    revoke_on(&app, &path, &cid, &a1, json!({"revoked_on": "2026-10-10"}))
        .await
        .ok(200);
    let roi = json!({"method": "signed", "effective_from": "2026-11-01",
                     "scope": {"type": "cocs", "coc_codes": [a_coc]}});
    grant(&app, &path, &a1, roi).await.ok(201);
    let exit = json!({"exit_date": "2026-11-20", "destination": 410});
    app.post(&format!("/v1/enrollments/{stay}/exit"), &a1, exit)
        .await
        .ok(200);

    // B1 sees the stay, its entry (collected inside [10-01, 10-10)), and not its exit.
    let single = app.get(&format!("/v1/enrollments/{stay}"), &b1).await;
    let single = single.ok(200).clone();
    has!(single, {"entry_date": "2026-10-05", "entry_withheld": false, "exit_date": null,
                  "destination": null, "destination_subsidy_type": null, "exit_withheld": true});
    let r = app.get(&format!("{path}/enrollments"), &b1).await;
    let items = r.ok(200)["items"].as_array().unwrap().clone();
    let listed = items.iter().find(|s| s["id"] == stay.as_str()).unwrap();
    assert_eq!(listed, &single);
    assert!(!text(&r).contains("2026-11-20"), "{}", r.body);
    // A stay the caller does not see whole is not its to add to.
    let service = json!({"date_provided": "2026-10-07", "service_type": "meal"});
    app.post(&format!("/v1/enrollments/{stay}/services"), &b1, service)
        .await
        .problem(403);
    // The agency that exited the client sees its exit.
    let r = app.get(&format!("/v1/enrollments/{stay}"), &a1).await;
    has!(r.ok(200), {"exit_date": "2026-11-20", "destination": 410, "exit_withheld": false});
}

fn warnings(v: &Value) -> String {
    v["warnings"].to_string()
}

#[actix_web::test]
async fn revoking_one_roi_while_another_is_active_keeps_the_record_open_and_says_so() {
    // consent.md, Revoke ROI: scenario 1 closes the record "unless another ROI of the record
    // remains active"; the scenario, the notice and the changes say what happened.
    let app = spawn().await;
    let t = tenant(&app, json!({})).await;
    let (_, lead) = member(&app, &t.coc, false, &[Role::CocAdmin]).await;
    let (_, partner) = member(&app, &t.coc, true, &[Role::CaseWorker]).await;
    let mut body = identified();
    body["roi"] = json!({"method": "signed", "effective_from": day(-60)});
    let path = record(&app, &t.worker, body).await;
    let first = id_of(
        &app.get(&format!("{path}/consents"), &t.worker)
            .await
            .ok(200)["items"][0],
    );
    let second = json!({"method": "verbal", "effective_from": day(-45),
        "scope": {"type": "cocs", "coc_codes": [t.coc]}});
    grant(&app, &path, &t.worker, second).await.ok(201);
    let r = revoke_on(
        &app,
        &path,
        &first,
        &t.worker,
        json!({"revoked_on": day(-30)}),
    )
    .await;
    let o = r.ok(200).clone();
    has!(o, {"scenario": "another_roi_active"});
    assert_eq!(o["client"]["visibility"], "open");
    assert!(changes(&o).contains("stays open"), "{o}");
    assert!(!changes(&o).contains("closed"), "{o}");
    // The sharing agency of the CoC keeps its access under the second ROI.
    assert_eq!(
        access(app.get(&path, &partner).await.ok(200)),
        "full/statewide_roi"
    );
    let notice_id = o["helpdesk_notice_id"]
        .as_str()
        .expect("a notice")
        .to_string();
    let r = app.get(NOTICES, &lead).await;
    let items = r.ok(200)["items"].as_array().unwrap().clone();
    let n = items
        .iter()
        .find(|n| n["id"] == notice_id.as_str())
        .expect("the notice");
    assert_eq!(n["kind"], "roi_revoked_another_roi_active", "{n}");
    let message = n["message"].as_str().unwrap();
    assert!(
        message.contains("stays open") && !message.contains("is closed"),
        "{message}"
    );
    // Revoking the last one closes the record: scenario 1.
    let cid = id_of(
        &app.get(&format!("{path}/consents"), &t.worker)
            .await
            .ok(200)["items"][1],
    );
    let r = revoke(&app, &path, &cid, &t.worker).await;
    has!(r.ok(200), {"scenario": "creating_agency_only"});
    assert_eq!(r.body["client"]["visibility"], "closed");
    app.get(&path, &partner).await.problem(404);

    // An ROI that takes effect later keeps the record open too, with the date said.
    let (path, first) = opened_record(&app, &t.worker).await;
    let later = json!({"method": "verbal", "effective_from": day(20)});
    grant(&app, &path, &t.worker, later).await.ok(201);
    let r = revoke(&app, &path, &first, &t.worker).await;
    let o = r.ok(200);
    has!(o, {"scenario": "another_roi_active"});
    assert_eq!(o["client"]["visibility"], "open");
    assert!(warnings(o).contains(&day(20)), "{o}");
    app.get(&path, &partner).await.problem(404);
}

#[actix_web::test]
async fn an_roi_not_active_today_opens_alike_by_grant_by_visibility_and_at_creation() {
    // One rule (docs/workflows.md): an ROI that has not ended opens the record, with a warning
    // when it takes effect later or leaves out the record's CoC; an expired one opens nothing.
    let app = spawn().await;
    let t = tenant(&app, json!({})).await;
    let elsewhere = tenant(&app, json!({})).await;
    let (_, partner) = member(&app, &t.coc, true, &[Role::CaseWorker]).await;
    let to = |v: &str| json!({ "visibility": v });
    let only_elsewhere = json!({"type": "cocs", "coc_codes": [elsewhere.coc]});
    for (roi, says) in [
        (
            json!({"method": "signed", "effective_from": day(15)}),
            day(15),
        ),
        (
            json!({"method": "signed", "scope": only_elsewhere}),
            t.coc.clone(),
        ),
    ] {
        let path = closed_record(&app, &t.worker).await;
        let r = grant(&app, &path, &t.worker, roi.clone()).await;
        let o = r.ok(201);
        assert_eq!(o["client"]["visibility"], "open", "{roi}");
        assert!(
            warnings(o).contains(&says) && warnings(o).contains("treated as closed"),
            "{o}"
        );
        app.get(&path, &partner).await.problem(404);
        // PUT visibility accepts what the grant accepted, with the same warning.
        let vis = format!("{path}/visibility");
        app.put(&vis, &t.worker, to("closed")).await.ok(200);
        let r = app.put(&vis, &t.worker, to("open")).await;
        assert_eq!(r.ok(200)["client"]["visibility"], "open", "{roi}");
        assert_eq!(r.body["warnings"], o["warnings"], "{roi}");
        // At creation too.
        let mut body = identified();
        body["roi"] = roi.clone();
        let r = app.post("/v1/clients", &t.worker, body).await;
        let c = r.ok(201);
        assert_eq!(c["client"]["visibility"], "open", "{roi}");
        assert!(warnings(c).contains(&says), "{c}");
    }
    // The ROI's own CoC sees the record scoped to it.
    let path = closed_record(&app, &t.worker).await;
    let scope = json!({"type": "cocs", "coc_codes": [elsewhere.coc]});
    grant(
        &app,
        &path,
        &t.worker,
        json!({"method": "signed", "scope": scope}),
    )
    .await
    .ok(201);
    assert_eq!(
        access(app.get(&path, &elsewhere.worker).await.ok(200)),
        "full/statewide_roi"
    );

    // An expired ROI is kept as history and opens nothing, by grant, PUT or at creation.
    let expired = json!({"method": "signed", "effective_from": day(-300), "expires_on": day(-100)});
    let path = closed_record(&app, &t.worker).await;
    let r = grant(&app, &path, &t.worker, expired.clone()).await;
    let o = r.ok(201);
    assert_eq!(o["consent"]["active"], false);
    assert_eq!(o["client"]["visibility"], "closed");
    assert!(!changes(o).contains("visibility"), "{o}");
    assert!(
        warnings(o).contains("expired") && warnings(o).contains(&day(-100)),
        "{o}"
    );
    let r = app
        .put(&format!("{path}/visibility"), &t.worker, to("open"))
        .await;
    assert_eq!(r.problem(409)["type"], "urn:hearth:problem:open-needs-roi");
    let mut body = identified();
    body["roi"] = expired.clone();
    let r = app.post("/v1/clients", &t.worker, body.clone()).await;
    let c = r.ok(201);
    assert_eq!(c["client"]["visibility"], "closed");
    assert!(warnings(c).contains("expired"), "{c}");
    body["visibility"] = json!("open");
    let r = app.post("/v1/clients", &t.worker, body).await;
    r.problem(422);
    assert_eq!(r.error_fields(), vec!["visibility".to_string()]);
    // A revoked ROI does not let PUT open the record either.
    let (path, cid) = opened_record(&app, &t.worker).await;
    revoke(&app, &path, &cid, &t.worker).await.ok(200);
    let r = app
        .put(&format!("{path}/visibility"), &t.worker, to("open"))
        .await;
    r.problem(409);
}

#[actix_web::test]
async fn an_explicit_null_expiry_is_indefinite_whatever_the_policy_term() {
    let app = spawn().await;
    let t = tenant(&app, json!({"roi_default_term_months": 12})).await;
    let path = closed_record(&app, &t.worker).await;
    let roi = json!({"method": "signed", "effective_from": "2026-03-31", "expires_on": null});
    let r = grant(&app, &path, &t.worker, roi).await;
    assert_eq!(
        r.ok(201)["consent"]["expires_on"],
        Value::Null,
        "{}",
        r.body
    );
    // Left out, the CoC's term applies.
    let roi = json!({"method": "signed", "effective_from": "2026-03-31"});
    let r = grant(&app, &path, &t.worker, roi).await;
    assert_eq!(r.ok(201)["consent"]["expires_on"], "2027-03-31");
    // The same in an ROI given at intake.
    for (roi, want) in [
        (json!({"method": "verbal", "expires_on": null}), Value::Null),
        (
            json!({"method": "verbal"}),
            json!((today() + chrono::Months::new(12)).to_string()),
        ),
    ] {
        let mut body = identified();
        body["roi"] = roi;
        let path = record(&app, &t.worker, body).await;
        let r = app.get(&format!("{path}/consents"), &t.worker).await;
        assert_eq!(r.ok(200)["items"][0]["expires_on"], want);
    }
}

#[actix_web::test]
async fn an_expired_roi_recorded_beside_a_current_one_says_the_current_one_still_decides() {
    // An expired ROI changes nothing; on an identified record with a current ROI the answer must
    // not say the record is seen de-identified (it is not: rule 3 gives sharing agencies full).
    let app = spawn().await;
    let t = tenant(&app, json!({})).await;
    let (_, partner) = member(&app, &t.coc, true, &[Role::CaseWorker]).await;
    let mut body = identified();
    body["roi"] = json!({"method": "signed", "effective_from": day(-60)});
    let path = record(&app, &t.worker, body).await;
    let expired = json!({"method": "signed", "effective_from": day(-400), "expires_on": day(-300)});
    let r = grant(&app, &path, &t.worker, expired).await;
    let o = r.ok(201);
    assert_eq!(o["client"]["visibility"], "open");
    assert!(warnings(o).contains("still decides"), "{o}");
    assert!(!warnings(o).contains("de-identified"), "{o}");
    let r = app.get(&format!("{path}/access"), &partner).await;
    assert_eq!(r.ok(200)["level"], "full", "{}", r.body);
}
