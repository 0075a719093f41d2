//! Coordinated Entry: de-identified open records (record rule row 4), CoC-wide CE entry points,
//! refusals and observational assessments.

use hearth::consent::Role;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::fixtures::*;
use crate::harness::*;

#[actix_web::test]
async fn a_consent_refused_record_is_open_without_roi_and_takes_stays_from_sharing_agencies() {
    let app = spawn().await;
    let coc = app.coc(json!({})).await;
    let elsewhere = app.coc(json!({})).await;
    let creator = app.agency(&coc, false).await;
    let sharer = app.agency(&coc, true).await;
    let loner = app.agency(&coc, false).await;
    let far_sharer = app.agency(&elsewhere, true).await;
    let shelter = app.project(sharer, 0).await;
    let w = |a| app.token("w", &[Role::CaseWorker], Some(a));
    let (w_creator, w_sharer, w_loner, w_far) = (w(creator), w(sharer), w(loner), w(far_sharer));

    let r = app
        .post(
            "/v1/clients",
            &w_creator,
            json!({"identity_mode": "consent_refused", "veteran_status": 1}),
        )
        .await;
    let client = id_of(r.ok(201), "client");
    assert_eq!(r.body["client"]["visibility"], "open");
    let path = format!("/v1/clients/{client}");

    // Sharing agencies of any CoC see it at limited, basis deidentified; others get 404.
    for t in [&w_sharer, &w_far] {
        let r = app.get(&path, t).await;
        let c = r.ok(200);
        assert_eq!(c["access"]["level"], "limited", "{c}");
        assert_eq!(c["access"]["basis"], "deidentified");
        assert_eq!(c["veteran_status"], 1);
    }
    app.get(&path, &w_loner).await.problem(404);

    // The sharing agency adds a stay and a service, and becomes a contributor.
    let r = app
        .post(
            &format!("{path}/enrollments"),
            &w_sharer,
            json!({"project_id": shelter, "entry_date": days_ago(3), "relationship_to_hoh": 1}),
        )
        .await;
    let stay = id_of(r.ok(201), "enrollment");
    assert!(r.body["changes"].to_string().contains("contributor"));
    app.post(
        &format!("/v1/enrollments/{stay}/services"),
        &w_sharer,
        json!({"date_provided": days_ago(1), "service_type": "meal", "note": "ate well"}),
    )
    .await
    .ok(201);
    // Row 4 still governs the contributor: limited, and no changes to the record itself.
    let r = app.get(&path, &w_sharer).await;
    assert_eq!(r.ok(200)["access"]["basis"], "deidentified");
    app.patch(
        &path,
        &w_sharer,
        Some("\"1\""),
        json!({"veteran_status": 0}),
    )
    .await
    .problem(403);
    // The creator sees the stay and the service with its note; the far sharer sees the service
    // without its free text.
    let r = app
        .get(&format!("/v1/enrollments/{stay}/services"), &w_creator)
        .await;
    assert_eq!(r.ok(200)["items"][0]["text"], "ate well");
    let r = app
        .get(&format!("/v1/enrollments/{stay}/services"), &w_far)
        .await;
    let item = &r.ok(200)["items"][0];
    assert_eq!(item["access"], "non_pii");
    assert!(item.get("text").is_none(), "{item}");

    // Closing the record takes it from everyone but its creator and contributors.
    let r = app.get(&path, &w_creator).await;
    let etag = r.header("etag").unwrap();
    app.send(Call {
        method: "PUT",
        path: &format!("{path}/visibility"),
        token: Some(&w_creator),
        body: Some(json!({"visibility": "closed"})),
        headers: vec![("If-Match", etag)],
    })
    .await
    .ok(200);
    app.get(&path, &w_far).await.problem(404);
    assert_eq!(
        app.get(&path, &w_sharer).await.ok(200)["access"]["basis"],
        "contributor"
    );
}

/// An agency of `coc` taking part in sharing and, if `ce`, in Coordinated Entry.
pub(crate) async fn ce_agency<S, B>(app: &TestApp<S>, coc: &str, ce: bool) -> Uuid
where
    S: actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse<B>,
        Error = actix_web::Error,
    >,
    B: actix_web::body::MessageBody,
{
    let r = app
        .post(
            "/v1/agencies",
            &app.admin,
            json!({"coc_code": coc, "name": "CE Agency", "shares_data": true, "participates_in_ce": ce}),
        )
        .await;
    assert_eq!(r.ok(201)["participates_in_ce"], ce);
    r.body["id"].as_str().unwrap().parse().unwrap()
}

#[actix_web::test]
async fn ce_entry_points_take_enrollments_from_every_ce_agency_of_their_coc() {
    let app = spawn().await;
    let coc = app.coc(json!({})).await;
    let elsewhere = app.coc(json!({})).await;
    let lead = ce_agency(&app, &coc, true).await;
    let outreach = ce_agency(&app, &coc, true).await;
    let outsider = ce_agency(&app, &coc, false).await;
    let far = ce_agency(&app, &elsewhere, true).await;
    let r = app
        .post(
            "/v1/projects",
            &app.admin,
            json!({"agency_id": lead, "name": "CE", "project_type": 14}),
        )
        .await;
    assert_eq!(r.ok(201)["coc_wide_ce_entry_point"], true);
    let ce: Uuid = r.body["id"].as_str().unwrap().parse().unwrap();
    let r = app
        .post(
            "/v1/projects",
            &app.admin,
            json!({"agency_id": lead, "name": "CE, lead only", "project_type": 14, "coc_wide_ce_entry_point": false}),
        )
        .await;
    let ce_private: Uuid = r.ok(201)["id"].as_str().unwrap().parse().unwrap();
    let r = app
        .post(
            "/v1/projects",
            &app.admin,
            json!({"agency_id": lead, "name": "Shelter", "project_type": 0, "coc_wide_ce_entry_point": true}),
        )
        .await;
    assert_eq!(
        r.problem(422)["errors"][0]["field"],
        "coc_wide_ce_entry_point"
    );
    let r = app.get(&format!("/v1/projects/{ce}"), &app.admin).await;
    assert_eq!(r.ok(200)["coc_wide_ce_entry_point"], true);

    let w = |a| app.token("w", &[Role::CaseWorker], Some(a));
    // Anonymous clients, open: every sharing agency sees them.
    let mut clients = Vec::new();
    for _ in 0..4 {
        let r = app
            .post(
                "/v1/clients",
                &w(outreach),
                json!({"identity_mode": "anonymous", "visibility": "open", "birth_year": 1980}),
            )
            .await;
        clients.push(id_of(r.ok(201), "client"));
    }
    let enroll = |project: Uuid| json!({"project_id": project, "entry_date": days_ago(2), "relationship_to_hoh": 1});
    let path = |c: Uuid| format!("/v1/clients/{c}/enrollments");
    let r = app.post(&path(clients[0]), &w(outreach), enroll(ce)).await;
    assert_eq!(r.ok(201)["enrollment"]["project_id"], ce.to_string());
    // The CE lead's own enrollment of a client another agency created (row 4 lets it add stays).
    app.post(&path(clients[1]), &w(lead), enroll(ce))
        .await
        .ok(201);
    for (token, project) in [(w(outsider), ce), (w(far), ce), (w(outreach), ce_private)] {
        let r = app.post(&path(clients[2]), &token, enroll(project)).await;
        r.problem(403);
    }
    // A private record cannot enter Coordinated Entry.
    let r = app
        .post(
            "/v1/clients",
            &w(lead),
            json!({"identity_mode": "consent_refused", "visibility": "private"}),
        )
        .await;
    let private = id_of(r.ok(201), "client");
    app.post(&path(private), &w(lead), enroll(ce))
        .await
        .problem(409);
}

#[actix_web::test]
async fn refusals_open_the_way_to_an_observational_assessment() {
    let app = spawn().await;
    let coc = app.coc(json!({})).await;
    let lead = ce_agency(&app, &coc, true).await;
    let outreach = ce_agency(&app, &coc, true).await;
    let ce = app.project(lead, 14).await;
    let shelter = app.project(outreach, 1).await;
    let w = |a| app.token("w", &[Role::CaseWorker], Some(a));
    let r = app
        .post(
            "/v1/clients",
            &w(outreach),
            json!({"identity_mode": "consent_refused"}),
        )
        .await;
    let client = id_of(r.ok(201), "client");
    let stay_in = |project: Uuid| json!({"project_id": project, "entry_date": days_ago(20), "relationship_to_hoh": 1});
    let enrollments = format!("/v1/clients/{client}/enrollments");
    let r = app.post(&enrollments, &w(outreach), stay_in(ce)).await;
    let ce_stay = id_of(r.ok(201), "enrollment");
    let r = app.post(&enrollments, &w(outreach), stay_in(shelter)).await;
    let shelter_stay = id_of(r.ok(201), "enrollment");

    let observational = json!({"assessment_date": days_ago(1), "assessment_kind": "observational",
        "assessment_type": 3, "assessment_level": 2, "priority_score": 12.5});
    let assess = format!("/v1/enrollments/{ce_stay}/assessments");
    let refuse = format!("/v1/enrollments/{ce_stay}/refusals");
    let r = app.post(&assess, &w(outreach), observational.clone()).await;
    let p = r.problem(422);
    assert!(p.to_string().contains("2 more needed"), "{p}");
    // A refusal belongs on a CE stay only.
    let r = app
        .post(
            &format!("/v1/enrollments/{shelter_stay}/refusals"),
            &w(outreach),
            json!({"refused_on": days_ago(5)}),
        )
        .await;
    r.problem(409);
    let r = app
        .post(
            &refuse,
            &w(outreach),
            json!({"refused_on": days_ago(10), "reason_code": "privacy_concerns"}),
        )
        .await;
    assert!(r.ok(201)["changes"].to_string().contains("1 refusal(s)"));
    let r = app.post(&assess, &w(outreach), observational.clone()).await;
    assert!(r.problem(422).to_string().contains("1 more needed"));
    // The second refusal, by another agency of the CoC (the CE lead sees the record at limited).
    let r = app
        .post(&refuse, &w(lead), json!({"refused_on": days_ago(3)}))
        .await;
    assert!(r.ok(201)["changes"].to_string().contains("2 refusal(s)"));
    let r = app
        .post(&refuse, &w(lead), json!({"refused_on": "someday"}))
        .await;
    assert_eq!(r.problem(422)["errors"][0]["field"], "refused_on");
    app.post(&assess, &w(outreach), observational).await.ok(201);
    // Refusals are listed with the stay: date, agency, reason.
    let r = app.get(&refuse, &w(outreach)).await;
    let items = r.ok(200)["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["fields"]["reason_code"], "privacy_concerns");
    assert_eq!(items[0]["date"], days_ago(10));
    assert_eq!(items[1]["entered_by_agency_id"], lead.to_string());
    assert_eq!(items[1]["fields"]["reason_code"], Value::Null);
}

#[actix_web::test]
async fn a_stay_across_the_roi_date_answers_as_a_continuation() {
    let app = spawn().await;
    let coc = app.coc(json!({})).await;
    let creator = app.agency(&coc, true).await;
    let sharer = app.agency(&coc, true).await;
    let shelter = app.project(creator, 1).await;
    let w = |a| app.token("w", &[Role::CaseWorker], Some(a));
    let r = app
        .post(
            "/v1/clients",
            &w(creator),
            json!({"identity_mode": "identified", "first_name": "Win", "last_name": "Dow"}),
        )
        .await;
    let client = id_of(r.ok(201), "client");
    let r = app
        .post(
            &format!("/v1/clients/{client}/enrollments"),
            &w(creator),
            json!({"project_id": shelter, "entry_date": days_ago(20), "relationship_to_hoh": 1, "living_situation": 116}),
        )
        .await;
    let stay = id_of(r.ok(201), "enrollment");
    for (day, kind) in [(15, "before"), (5, "after")] {
        app.post(
            &format!("/v1/enrollments/{stay}/services"),
            &w(creator),
            json!({"date_provided": days_ago(day), "service_type": kind}),
        )
        .await
        .ok(201);
    }
    // The record opens (window mode) ten days ago: the stay began before, one service after.
    app.post(
        &format!("/v1/clients/{client}/consents"),
        &w(creator),
        json!({"method": "signed", "effective_from": days_ago(10)}),
    )
    .await
    .ok(201);
    let r = app
        .get(&format!("/v1/clients/{client}/enrollments"), &w(sharer))
        .await;
    let items = r.ok(200)["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 1, "{items:?}");
    let s = &items[0];
    assert_eq!(s["entry_withheld"], true);
    assert_eq!(s["entry_date"], Value::Null);
    assert_eq!(s["living_situation"], Value::Null);
    assert!(s["household_id"].as_str().is_some());
    let r = app
        .get(&format!("/v1/enrollments/{stay}"), &w(sharer))
        .await;
    assert_eq!(r.ok(200)["entry_withheld"], true);
    let r = app
        .get(&format!("/v1/enrollments/{stay}/services"), &w(sharer))
        .await;
    let services = r.ok(200)["items"].as_array().unwrap().clone();
    assert_eq!(services.len(), 1);
    assert_eq!(services[0]["fields"]["service_type"], "after");
    // The creator sees it whole; the sharer cannot add to a continuation.
    let r = app
        .get(&format!("/v1/enrollments/{stay}"), &w(creator))
        .await;
    assert_eq!(r.ok(200)["entry_withheld"], false);
    assert_eq!(r.body["entry_date"], days_ago(20));
    app.post(
        &format!("/v1/enrollments/{stay}/services"),
        &w(sharer),
        json!({"date_provided": days_ago(1), "service_type": "meal"}),
    )
    .await
    .problem(403);
}

/// The priority list counts the refusals the datum rule releases to the caller, the ones a read
/// of the stay's refusals shows it: refusals recorded before the ROI window are not another
/// agency's to count.
#[actix_web::test]
async fn the_priority_list_counts_only_the_refusals_the_caller_may_see() {
    let app = spawn().await;
    let coc = app.coc(json!({})).await;
    let creator = ce_agency(&app, &coc, true).await;
    let other = ce_agency(&app, &coc, true).await;
    let ce = app.project(creator, 14).await;
    let w = |a| app.token("w", &[Role::CaseWorker], Some(a));
    let reader = app.token("r", &[Role::PriorityListReader], Some(other));
    let r = app
        .post(
            "/v1/clients",
            &w(creator),
            json!({"identity_mode": "identified", "first_name": "Ref", "last_name": "Usal"}),
        )
        .await;
    let client = id_of(r.ok(201), "client");
    let r = app
        .post(
            &format!("/v1/clients/{client}/enrollments"),
            &w(creator),
            json!({"project_id": ce, "entry_date": days_ago(20), "relationship_to_hoh": 1}),
        )
        .await;
    let stay = id_of(r.ok(201), "enrollment");
    let refuse = format!("/v1/enrollments/{stay}/refusals");
    for day in [10, 8] {
        app.post(&refuse, &w(creator), json!({"refused_on": days_ago(day)}))
            .await
            .ok(201);
    }
    app.post(
        &format!("/v1/clients/{client}/consents"),
        &w(creator),
        json!({"method": "signed", "effective_from": days_ago(2)}),
    )
    .await
    .ok(201);
    app.post(
        &format!("/v1/enrollments/{stay}/assessments"),
        &w(creator),
        json!({"assessment_date": days_ago(0), "assessment_type": 3, "assessment_level": 2,
               "priority_score": 3.0}),
    )
    .await
    .ok(201);
    let list = format!("/v1/cocs/{coc}/priority-list");
    let entry = |v: &Value| {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["client_id"] == client.to_string().as_str())
            .cloned()
            .unwrap_or_else(|| panic!("{client} not listed: {v}"))
    };
    let r = app.get(&list, &w(creator)).await;
    assert_eq!(entry(r.ok(200))["refusal_count"], 2);
    for viewer in [w(other), reader] {
        let r = app.get(&list, &viewer).await;
        let e = entry(r.ok(200));
        assert_eq!(e["refusal_count"], 0, "{e}");
        let r = app.get(&refuse, &viewer).await;
        if r.status == actix_web::http::StatusCode::OK {
            assert_eq!(r.body["items"].as_array().unwrap().len(), 0, "{}", r.body);
        }
    }
}

/// Chicago: "Once an individual has refused ... on two occasions": refusals count by day (a
/// double submit is one occasion), and only those on or before the observational assessment's
/// date count for it.
#[actix_web::test]
async fn refusals_count_by_day_and_come_before_the_observational_assessment() {
    let app = spawn().await;
    let coc = app.coc(json!({})).await;
    let outreach = ce_agency(&app, &coc, true).await;
    let ce = app.project(outreach, 14).await;
    let w = app.token("w", &[Role::CaseWorker], Some(outreach));
    let r = app
        .post(
            "/v1/clients",
            &w,
            json!({"identity_mode": "consent_refused"}),
        )
        .await;
    let client = id_of(r.ok(201), "client");
    let r = app
        .post(
            &format!("/v1/clients/{client}/enrollments"),
            &w,
            json!({"project_id": ce, "entry_date": days_ago(30), "relationship_to_hoh": 1}),
        )
        .await;
    let stay = id_of(r.ok(201), "enrollment");
    let refuse = format!("/v1/enrollments/{stay}/refusals");
    let assess = format!("/v1/enrollments/{stay}/assessments");
    let observational = |on: String| {
        json!({"assessment_date": on, "assessment_kind": "observational",
            "assessment_type": 3, "assessment_level": 2, "priority_score": 4.0})
    };
    // The same refusal posted twice: one occasion.
    for _ in 0..2 {
        let r = app
            .post(&refuse, &w, json!({"refused_on": days_ago(6)}))
            .await;
        let changes = r.ok(201)["changes"].to_string();
        assert!(changes.contains("1 refusal(s)"), "{changes}");
    }
    let r = app.post(&assess, &w, observational(days_ago(1))).await;
    let p = r.problem(422);
    assert_eq!(p["errors"][0]["field"], "assessment_kind", "{p}");
    assert!(p.to_string().contains("1 more needed"), "{p}");
    let r = app
        .post(&refuse, &w, json!({"refused_on": days_ago(5)}))
        .await;
    assert!(r.ok(201)["changes"].to_string().contains("2 refusal(s)"));
    // Dated before the refusals: refused, naming the date.
    for before in [days_ago(20), days_ago(6)] {
        let r = app.post(&assess, &w, observational(before)).await;
        let p = r.problem(422);
        assert_eq!(p["errors"][0]["field"], "assessment_date", "{p}");
        assert_eq!(p["errors"][0]["code"], "before_refusals", "{p}");
        assert!(p.to_string().contains(&days_ago(5)), "{p}");
    }
    app.post(&assess, &w, observational(days_ago(5)))
        .await
        .ok(201);
    // The priority list shows occasions too.
    let r = app.get(&format!("/v1/cocs/{coc}/priority-list"), &w).await;
    let items = r.ok(200)["items"].as_array().unwrap().clone();
    let entry = items
        .iter()
        .find(|i| i["client_id"] == client.to_string().as_str())
        .unwrap_or_else(|| panic!("not listed: {items:?}"));
    assert_eq!(entry["refusal_count"], 2, "{entry}");
}

/// collected_on places a datum in the datum rule's ROI windows: it is not before the day the
/// datum records, nor before the stay began.
#[actix_web::test]
async fn stay_data_is_not_collected_before_it_happened() {
    let app = spawn().await;
    let coc = app.coc(json!({})).await;
    let outreach = ce_agency(&app, &coc, true).await;
    let ce = app.project(outreach, 14).await;
    let w = app.token("w", &[Role::CaseWorker], Some(outreach));
    let r = app
        .post(
            "/v1/clients",
            &w,
            json!({"identity_mode": "consent_refused"}),
        )
        .await;
    let client = id_of(r.ok(201), "client");
    let r = app
        .post(
            &format!("/v1/clients/{client}/enrollments"),
            &w,
            json!({"project_id": ce, "entry_date": days_ago(30), "relationship_to_hoh": 1}),
        )
        .await;
    let stay = id_of(r.ok(201), "enrollment");
    let refuse = format!("/v1/enrollments/{stay}/refusals");
    for collected in [days_ago(7), days_ago(45)] {
        let r = app
            .post(
                &refuse,
                &w,
                json!({"refused_on": days_ago(4), "collected_on": collected}),
            )
            .await;
        let p = r.problem(422);
        assert_eq!(p["errors"][0]["field"], "collected_on", "{p}");
    }
    let r = app
        .post(
            &format!("/v1/enrollments/{stay}/services"),
            &w,
            json!({"date_provided": days_ago(3), "service_type": "meal", "collected_on": days_ago(4)}),
        )
        .await;
    assert_eq!(r.problem(422)["errors"][0]["field"], "collected_on");
    let r = app
        .post(
            &refuse,
            &w,
            json!({"refused_on": days_ago(4), "collected_on": days_ago(2)}),
        )
        .await;
    assert_eq!(r.ok(201)["datum"]["collected_on"], days_ago(2));
}

/// Closing a record with an active CE enrollment takes the client off the priority list: the
/// answer says so, as a revocation's does.
#[actix_web::test]
async fn closing_a_listed_record_warns_that_it_leaves_the_priority_list() {
    let app = spawn().await;
    let coc = app.coc(json!({})).await;
    let outreach = ce_agency(&app, &coc, true).await;
    let ce = app.project(outreach, 14).await;
    let w = app.token("w", &[Role::CaseWorker], Some(outreach));
    let r = app
        .post(
            "/v1/clients",
            &w,
            json!({"identity_mode": "consent_refused"}),
        )
        .await;
    let client = id_of(r.ok(201), "client");
    app.post(
        &format!("/v1/clients/{client}/enrollments"),
        &w,
        json!({"project_id": ce, "entry_date": days_ago(3), "relationship_to_hoh": 1}),
    )
    .await
    .ok(201);
    let path = format!("/v1/clients/{client}");
    let vis = format!("{path}/visibility");
    let put = |v: &str, etag: String| Call {
        method: "PUT",
        path: &vis,
        token: Some(&w),
        body: Some(json!({"visibility": v})),
        headers: vec![("If-Match", etag)],
    };
    // Private is refused (CE needs the record seen); closed is allowed, with the warning.
    let etag = app.get(&path, &w).await.header("etag").unwrap();
    app.send(put("private", etag.clone())).await.problem(409);
    let r = app.send(put("closed", etag)).await;
    let warnings = r.ok(200)["warnings"].to_string();
    assert!(warnings.contains("priority list"), "{warnings}");
    // Closed again: nothing leaves.
    let etag = app.get(&path, &w).await.header("etag").unwrap();
    let r = app.send(put("closed", etag)).await;
    assert_eq!(r.ok(200)["warnings"], json!([]));
}

/// A tester's finding: a CE assessor's agency that enrolled a locked record was told "Your agency
/// is now a contributor to this record" and then got 404 on the record (record rule row 5 shares
/// a record with its contributors while it is closed or open). The write now says what the
/// contribution does while the record is locked; the assessor still sees it (row 6).
#[actix_web::test]
async fn contributing_to_a_locked_record_says_it_gives_no_access_yet() {
    let app = spawn().await;
    let coc = app
        .coc(json!({"locked_visible_to_ce_assessors": true}))
        .await;
    let lead = ce_agency(&app, &coc, true).await;
    let other = ce_agency(&app, &coc, true).await;
    let ce = app.project(lead, 14).await;
    let creator = app.token("c", &[Role::CaseWorker], Some(lead));
    let assessor = app.token("a", &[Role::CeAssessor], Some(other));
    let worker = app.token("w", &[Role::CaseWorker], Some(other));
    let r = app
        .post(
            "/v1/clients",
            &creator,
            json!({"identity_mode": "code_name", "first_name": "Shorty"}),
        )
        .await;
    let client = id_of(r.ok(201), "client");
    assert_eq!(r.body["client"]["visibility"], "locked");
    let r = app
        .post(
            &format!("/v1/clients/{client}/enrollments"),
            &assessor,
            json!({"project_id": ce, "entry_date": days_ago(2), "relationship_to_hoh": 1}),
        )
        .await;
    let changes = r.ok(201)["changes"].to_string();
    assert!(
        changes.contains("recorded as a contributor") && changes.contains("locked"),
        "{changes}"
    );
    assert!(!changes.contains("is now a contributor"), "{changes}");
    app.get(&format!("/v1/clients/{client}"), &assessor)
        .await
        .ok(200);
    app.get(&format!("/v1/clients/{client}"), &worker)
        .await
        .problem(404);
}
