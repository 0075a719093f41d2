//! The ROI job aid's split procedure, for a CoC whose policy is `roi_grant_mode: split`.

use hearth::consent::Role;
use serde_json::{json, Value};

use crate::fixtures::*;
use crate::harness::*;

fn s(v: &Value) -> String {
    v.as_str()
        .unwrap_or_else(|| panic!("string in {v}"))
        .to_string()
}

#[actix_web::test]
async fn granting_an_roi_splits_the_record_as_the_job_aid_does() {
    let app = spawn().await;
    let coc = app.coc(json!({"roi_grant_mode": "split"})).await;
    let a = app.agency(&coc, true).await;
    let b = app.agency(&coc, true).await;
    let shelter = app.project(a, 0).await;
    let ta = app.token("a", &[Role::CaseWorker], Some(a));
    let tb = app.token("b", &[Role::CaseWorker], Some(b));
    let r = app
        .post("/v1/clients", &ta, json!({"identity_mode": "identified", "first_name": "John", "last_name": "Smith", "dob": "1980-02-03"}))
        .await;
    let old = s(&r.ok(201)["client"]["id"]);
    let r = app
        .post(
            &format!("/v1/clients/{old}/enrollments"),
            &ta,
            json!({"project_id": shelter, "entry_date": days_ago(20), "relationship_to_hoh": 1,
                   "living_situation": 215, "length_of_stay": 4, "los_under_threshold": 1,
                   "previous_street_essh": 1, "date_to_street_essh": days_ago(200),
                   "times_homeless_past_three_years": 3, "months_homeless_past_three_years": 105}),
        )
        .await;
    let old_stay = s(&r.ok(201)["enrollment"]["id"]);

    let r = app
        .post(
            &format!("/v1/clients/{old}/consents"),
            &ta,
            json!({"method": "signed"}),
        )
        .await;
    let body = r.ok(201).clone();
    let new = s(&body["client"]["id"]);
    assert_ne!(new, old);
    assert_eq!(body["superseded_client_id"], old.as_str());
    assert_eq!(body["client"]["visibility"], "open");
    assert!(
        s(&body["client"]["alias"]).starts_with("SHARED - ROI "),
        "{body}"
    );
    assert_eq!(body["client"]["last_name"], "Smith");
    assert_eq!(body["consent"]["client_id"], new.as_str());
    assert!(
        body["warnings"]
            .to_string()
            .contains("Lengths of stay restart"),
        "{body}"
    );

    // The old record: closed, DO NOT USE, superseded by the new one (named to A).
    let r = app.get(&format!("/v1/clients/{old}"), &ta).await;
    let o = r.ok(200);
    assert_eq!(o["alias"], "DO NOT USE");
    assert_eq!(o["visibility"], "closed");
    assert_eq!(o["lifecycle"], "superseded");
    assert_eq!(o["superseded_by"], new.as_str());
    // A's open stay was exited on the ROI date with the shelter's destination (101), and
    // re-entered in the new record, flagged for a new entry assessment.
    let r = app.get(&format!("/v1/enrollments/{old_stay}"), &ta).await;
    assert_eq!(r.ok(200)["destination"], 101);
    assert_eq!(
        r.body["exit_date"],
        chrono::Utc::now().date_naive().to_string()
    );
    let r = app
        .get(&format!("/v1/clients/{new}/enrollments"), &ta)
        .await;
    let stays = r.ok(200)["items"].as_array().unwrap().clone();
    assert_eq!(stays.len(), 1);
    assert_eq!(stays[0]["entry_assessment_required"], true);
    assert_eq!(stays[0]["exit_date"], Value::Null);
    // Nothing of the entry assessment collected before the ROI comes along (the ROI job aid:
    // complete the entry assessment again), not even for the agency that made it.
    for field in [
        "living_situation",
        "length_of_stay",
        "los_under_threshold",
        "previous_street_essh",
        "date_to_street_essh",
        "times_homeless_past_three_years",
        "months_homeless_past_three_years",
    ] {
        assert_eq!(stays[0][field], Value::Null, "{field}: {}", stays[0]);
    }
    let r = app
        .get(&format!("/v1/clients/{new}/enrollments"), &tb)
        .await;
    let seen = r.ok(200)["items"].as_array().unwrap().clone();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0]["living_situation"], Value::Null, "{}", seen[0]);
    // Alone in its household, the stay starts a new one: the old household id would tie the
    // new record to the superseded one for whoever sees both stays.
    let old_household = app
        .get(&format!("/v1/enrollments/{old_stay}"), &ta)
        .await
        .ok(200)["household_id"]
        .clone();
    assert_ne!(stays[0]["household_id"], old_household);
    assert_eq!(stays[0]["relationship_to_hoh"], 1);
    // Writes to the old record are refused, naming the record to use.
    let r = app
        .post(
            &format!("/v1/clients/{old}/contacts"),
            &ta,
            json!({"kind": "phone", "value": "312-555-0100"}),
        )
        .await;
    assert_eq!(r.problem(409)["use_record"], new.as_str());
    // A sharing agency sees the new record only; the old stays with A.
    assert_eq!(
        app.get(&format!("/v1/clients/{new}"), &tb).await.ok(200)["access"]["basis"],
        "statewide_roi"
    );
    app.get(&format!("/v1/clients/{old}"), &tb)
        .await
        .problem(404);
    // One person, two records: the same HUD Personal ID, seen by a system admin.
    let mut person = Vec::new();
    for id in [&old, &new] {
        let path = format!("/v1/clients/{id}");
        let headers = vec![("X-Access-Reason", "ticket 7".to_string())];
        let r = app
            .send(Call {
                method: "GET",
                path: &path,
                token: Some(&app.admin),
                body: None,
                headers,
            })
            .await;
        person.push(r.ok(200)["person_id"].clone());
    }
    let (p_old, p_new) = (&person[0], &person[1]);
    assert!(p_old.is_string());
    assert_eq!(p_old, p_new);
}

#[actix_web::test]
async fn revoking_with_other_agencies_data_splits_off_a_closed_record() {
    let app = spawn().await;
    let coc = app.coc(json!({"roi_grant_mode": "split"})).await;
    let a = app.agency(&coc, true).await;
    let b = app.agency(&coc, true).await;
    let pb = app.project(b, 4).await;
    let ta = app.token("a", &[Role::CaseWorker], Some(a));
    let tb = app.token("b", &[Role::CaseWorker], Some(b));
    let coc_admin = app.token(
        "lead",
        &[Role::CocAdmin],
        Some(app.agency(&coc, true).await),
    );
    // Created open with an ROI at intake: no split needed.
    let r = app
        .post("/v1/clients", &ta, json!({"identity_mode": "identified", "first_name": "Ana", "last_name": "Diaz", "roi": {"method": "verbal"}}))
        .await;
    let old = s(&r.ok(201)["client"]["id"]);
    let consents = app.get(&format!("/v1/clients/{old}/consents"), &ta).await;
    let cid = s(&consents.ok(200)["items"][0]["id"]);
    // B enters data: a contributor.
    let r = app
        .post(
            &format!("/v1/clients/{old}/enrollments"),
            &tb,
            json!({"project_id": pb, "entry_date": days_ago(2), "relationship_to_hoh": 1}),
        )
        .await;
    let b_stay = s(&r.ok(201)["enrollment"]["id"]);

    let r = app
        .post(
            &format!("/v1/clients/{old}/consents/{cid}/revoke"),
            &ta,
            json!({}),
        )
        .await;
    let body = r.ok(200).clone();
    assert_eq!(body["scenario"], "other_agencies_have_data");
    assert_eq!(body["superseded_client_id"], old.as_str());
    let new = s(&body["client"]["id"]);
    assert_eq!(body["client"]["alias"], "CLOSED - USE THIS FILE");
    assert_eq!(body["client"]["visibility"], "closed");
    let o = app.get(&format!("/v1/clients/{old}"), &ta).await;
    assert_eq!(o.ok(200)["alias"], "DO NOT USE - CLIENT REVOKED CONSENT");
    assert_eq!(o.body["superseded_by"], new.as_str());
    // B keeps the old record as a contributor but is not told where A went, and cannot write.
    let r = app.get(&format!("/v1/clients/{old}"), &tb).await;
    assert_eq!(r.ok(200)["access"]["basis"], "contributor");
    assert!(r.body.get("superseded_by").is_none());
    let w = app
        .post(
            &format!("/v1/clients/{old}/contacts"),
            &tb,
            json!({"kind": "phone", "value": "312-555-0100"}),
        )
        .await;
    assert!(w.problem(409).get("use_record").is_none());
    // The answer points to no record B cannot be shown.
    let p = w.problem(409);
    let detail = s(&p["detail"]);
    assert!(
        !detail.contains("use_record") && detail.contains("superseded"),
        "{detail}"
    );
    assert!(
        detail.contains("ask the agency that created it"),
        "{detail}"
    );
    // B may still close out its own stay there: an exit is no new data.
    app.post(
        &format!("/v1/enrollments/{b_stay}/exit"),
        &tb,
        json!({"exit_date": days_ago(0), "destination": 116}),
    )
    .await
    .ok(200);
    app.get(&format!("/v1/clients/{new}"), &tb)
        .await
        .problem(404);
    // The helpdesk notice the job aid asked staff to email.
    let n = app.get("/v1/helpdesk-notices", &coc_admin).await;
    assert!(n.ok(200)["items"]
        .to_string()
        .contains("roi_revoked_other_agencies_have_data"));
}

#[actix_web::test]
async fn a_split_exits_each_stay_with_the_destination_of_its_project_type() {
    // consent.md, Grant ROI in split mode: every open enrollment of the granting agency is
    // exited on the ROI date "with the destination that matches its project type"
    // (docs/workflows.md has the table).
    let app = spawn().await;
    let coc = app.coc(json!({"roi_grant_mode": "split"})).await;
    let a = app.agency(&coc, true).await;
    let ta = app.token("a", &[Role::CaseWorker], Some(a));
    let cases = [
        (0, 101, None),
        (2, 302, None),
        (3, 435, Some(439)),
        (4, 116, None),
        (6, 30, None),
        (8, 118, None),
        (10, 435, Some(440)),
        (12, 30, None),
        (13, 435, Some(431)),
    ];
    let r = app
        .post(
            "/v1/clients",
            &ta,
            json!({"identity_mode": "identified", "first_name": "Lou", "last_name": "Reyes"}),
        )
        .await;
    let old = s(&r.ok(201)["client"]["id"]);
    let mut stays = Vec::new();
    for (project_type, _, _) in cases {
        let project = app.project(a, project_type).await;
        let r = app
            .post(
                &format!("/v1/clients/{old}/enrollments"),
                &ta,
                json!({"project_id": project, "entry_date": days_ago(30), "relationship_to_hoh": 1}),
            )
            .await;
        stays.push(s(&r.ok(201)["enrollment"]["id"]));
    }
    let r = app
        .post(
            &format!("/v1/clients/{old}/consents"),
            &ta,
            json!({"method": "signed"}),
        )
        .await;
    r.ok(201);
    for ((project_type, destination, subsidy), stay) in cases.iter().zip(&stays) {
        let r = app.get(&format!("/v1/enrollments/{stay}"), &ta).await;
        let e = r.ok(200);
        assert_eq!(e["exit_date"], days_ago(0), "type {project_type}");
        assert_eq!(e["destination"], *destination, "type {project_type}");
        assert_eq!(
            e["destination_subsidy_type"],
            json!(subsidy),
            "type {project_type}"
        );
    }
}

/// A split's administrative exit from permanent housing, re-entered the same day in the new
/// record, is no return from housing in the active homeless count: the client never left.
#[actix_web::test]
async fn a_split_exit_from_housing_is_no_return_from_housing() {
    let app = spawn().await;
    let coc = app.coc(json!({"roi_grant_mode": "split"})).await;
    let a = app.agency(&coc, true).await;
    let psh = app.project(a, 3).await;
    let ta = app.token("a", &[Role::CaseWorker], Some(a));
    let r = app
        .post(
            "/v1/clients",
            &ta,
            json!({"identity_mode": "identified", "first_name": "Pat", "last_name": "Housed"}),
        )
        .await;
    let old = s(&r.ok(201)["client"]["id"]);
    app.post(
        &format!("/v1/clients/{old}/enrollments"),
        &ta,
        json!({"project_id": psh, "entry_date": days_ago(200), "relationship_to_hoh": 1}),
    )
    .await
    .ok(201);
    let r = app
        .post(
            &format!("/v1/clients/{old}/consents"),
            &ta,
            json!({"method": "signed"}),
        )
        .await;
    let new = s(&r.ok(201)["client"]["id"]);
    let r = app
        .get(&format!("/v1/clients/{old}/enrollments"), &ta)
        .await;
    let exited = r.ok(200)["items"][0].clone();
    let dest = exited["destination"].as_i64().unwrap();
    assert!((400..500).contains(&dest), "{exited}");
    let admin = app.token("a-admin", &[Role::CocAdmin], Some(a));
    let r = app
        .get(&format!("/v1/cocs/{coc}/reports/active-homeless"), &admin)
        .await;
    let report = r.ok(200).clone();
    assert_eq!(
        report["by_name_list"]["returned_from_housing"], 0,
        "{report}"
    );
    assert_eq!(report["people"], 1, "{report}");
    assert_eq!(report["by_name_list"]["newly_identified"], 0, "{report}");
    assert!(!report.to_string().contains(new.as_str()));
}

/// Split mode re-enters the client on the ROI date: a date still to come is refused.
#[actix_web::test]
async fn a_split_grant_refuses_a_future_roi_date() {
    let app = spawn().await;
    let coc = app.coc(json!({"roi_grant_mode": "split"})).await;
    let a = app.agency(&coc, true).await;
    let shelter = app.project(a, 0).await;
    let ta = app.token("a", &[Role::CaseWorker], Some(a));
    let r = app
        .post(
            "/v1/clients",
            &ta,
            json!({"identity_mode": "identified", "first_name": "Fay", "last_name": "Later"}),
        )
        .await;
    let old = s(&r.ok(201)["client"]["id"]);
    app.post(
        &format!("/v1/clients/{old}/enrollments"),
        &ta,
        json!({"project_id": shelter, "entry_date": days_ago(20), "relationship_to_hoh": 1}),
    )
    .await
    .ok(201);
    let future = (today() + chrono::Duration::days(19)).to_string();
    let r = app
        .post(
            &format!("/v1/clients/{old}/consents"),
            &ta,
            json!({"method": "signed", "effective_from": future}),
        )
        .await;
    let p = r.problem(422);
    assert_eq!(p["errors"][0]["field"], "effective_from", "{p}");
    assert!(p.to_string().contains("split"), "{p}");
    // Nothing was split.
    let r = app.get(&format!("/v1/clients/{old}"), &ta).await;
    assert_eq!(r.ok(200)["lifecycle"], "active");
    let r = app
        .get(&format!("/v1/clients/{old}/enrollments"), &ta)
        .await;
    assert_eq!(r.ok(200)["items"][0]["exit_date"], Value::Null);
}

/// An ROI dated before the open stay began: the stay exits and re-enters on its own entry
/// date, and the answer says so.
#[actix_web::test]
async fn a_split_answer_states_the_dates_it_wrote() {
    let app = spawn().await;
    let coc = app.coc(json!({"roi_grant_mode": "split"})).await;
    let a = app.agency(&coc, true).await;
    let shelter = app.project(a, 0).await;
    let ta = app.token("a", &[Role::CaseWorker], Some(a));
    let r = app
        .post(
            "/v1/clients",
            &ta,
            json!({"identity_mode": "identified", "first_name": "Ida", "last_name": "Early"}),
        )
        .await;
    let old = s(&r.ok(201)["client"]["id"]);
    app.post(
        &format!("/v1/clients/{old}/enrollments"),
        &ta,
        json!({"project_id": shelter, "entry_date": days_ago(30), "relationship_to_hoh": 1}),
    )
    .await
    .ok(201);
    let r = app
        .post(
            &format!("/v1/clients/{old}/consents"),
            &ta,
            json!({"method": "signed", "effective_from": days_ago(60)}),
        )
        .await;
    let body = r.ok(201).clone();
    let new = s(&body["client"]["id"]);
    let changes = body["changes"].to_string();
    assert!(
        changes.contains(&format!("exited on {}", days_ago(30))),
        "{changes}"
    );
    assert!(
        !changes.contains(&format!("exited on {}", days_ago(60))),
        "{changes}"
    );
    let r = app
        .get(&format!("/v1/clients/{old}/enrollments"), &ta)
        .await;
    assert_eq!(r.ok(200)["items"][0]["exit_date"], days_ago(30));
    let r = app
        .get(&format!("/v1/clients/{new}/enrollments"), &ta)
        .await;
    assert_eq!(r.ok(200)["items"][0]["entry_date"], days_ago(30));
}

/// A split by an agency that did not create the record: the creator is told which record to
/// use when it may see it, may close out its own stays on the old record, and the 409 on its
/// other writes is worded for it.
#[actix_web::test]
async fn a_split_by_another_agency_leaves_the_creator_its_way_out() {
    let app = spawn().await;
    let coc = app.coc(json!({"roi_grant_mode": "split"})).await;
    let s1 = app.agency(&coc, true).await;
    let s2 = app.agency(&coc, true).await;
    let ce = app.project(s1, 14).await;
    let shelter = app.project(s1, 0).await;
    let s2_project = app.project(s2, 4).await;
    let t1 = app.token("one", &[Role::CaseWorker], Some(s1));
    let t2 = app.token("two", &[Role::CaseWorker], Some(s2));
    // S1 creates the record shared, S2 contributes, S1 closes it.
    let r = app
        .post(
            "/v1/clients",
            &t1,
            json!({"identity_mode": "identified", "first_name": "Sam", "last_name": "Split",
            "roi": {"method": "verbal", "effective_from": days_ago(25)}}),
        )
        .await;
    let old = s(&r.ok(201)["client"]["id"]);
    let mut s1_stays = Vec::new();
    for project in [ce, shelter] {
        let r = app
            .post(
                &format!("/v1/clients/{old}/enrollments"),
                &t1,
                json!({"project_id": project, "entry_date": days_ago(20), "relationship_to_hoh": 1}),
            )
            .await;
        s1_stays.push(s(&r.ok(201)["enrollment"]["id"]));
    }
    app.post(
        &format!("/v1/clients/{old}/enrollments"),
        &t2,
        json!({"project_id": s2_project, "entry_date": days_ago(10), "relationship_to_hoh": 1}),
    )
    .await
    .ok(201);
    let path = format!("/v1/clients/{old}");
    let etag = app.get(&path, &t1).await.header("etag").unwrap();
    app.send(Call {
        method: "PUT",
        path: &format!("{path}/visibility"),
        token: Some(&t1),
        body: Some(json!({"visibility": "closed"})),
        headers: vec![("If-Match", etag)],
    })
    .await
    .ok(200);
    // S2 grants an ROI: the split makes S2's new open record.
    let r = app
        .post(
            &format!("/v1/clients/{old}/consents"),
            &t2,
            json!({"method": "signed"}),
        )
        .await;
    let body = r.ok(201).clone();
    let new = s(&body["client"]["id"]);
    assert_eq!(body["superseded_client_id"], old.as_str());
    // S1 is told which record to use (it sees the new one, open under the ROI).
    let r = app.get(&path, &t1).await;
    assert_eq!(r.ok(200)["lifecycle"], "superseded");
    assert_eq!(r.body["superseded_by"], new.as_str(), "{}", r.body);
    assert_eq!(
        app.get(&format!("/v1/clients/{new}"), &t1).await.ok(200)["access"]["basis"],
        "statewide_roi"
    );
    // Its other writes name the record to use.
    let w = app
        .post(
            &format!("{path}/contacts"),
            &t1,
            json!({"kind": "phone", "value": "312-555-0100"}),
        )
        .await;
    assert_eq!(w.problem(409)["use_record"], new.as_str());
    // It closes out its own open stays on the old record, the CE stay included.
    for stay in &s1_stays {
        app.post(
            &format!("/v1/enrollments/{stay}/exit"),
            &t1,
            json!({"exit_date": days_ago(0), "destination": 116}),
        )
        .await
        .ok(200);
    }
}

/// A split-mode revocation by a contributor: the creator is not shown the revoker's closed
/// record, and the 409 says why in words for the creator.
#[actix_web::test]
async fn a_revocation_split_by_another_agency_tells_the_creator_what_happened() {
    let app = spawn().await;
    let coc = app.coc(json!({"roi_grant_mode": "split"})).await;
    let s1 = app.agency(&coc, true).await;
    let s2 = app.agency(&coc, true).await;
    let shelter = app.project(s1, 0).await;
    let s2_project = app.project(s2, 4).await;
    let t1 = app.token("one", &[Role::CaseWorker], Some(s1));
    let t2 = app.token("two", &[Role::CaseWorker], Some(s2));
    let r = app
        .post(
            "/v1/clients",
            &t1,
            json!({"identity_mode": "identified", "first_name": "Rae", "last_name": "Voke",
            "roi": {"method": "verbal", "effective_from": days_ago(25)}}),
        )
        .await;
    let old = s(&r.ok(201)["client"]["id"]);
    let r = app
        .post(
            &format!("/v1/clients/{old}/enrollments"),
            &t1,
            json!({"project_id": shelter, "entry_date": days_ago(20), "relationship_to_hoh": 1}),
        )
        .await;
    let s1_stay = s(&r.ok(201)["enrollment"]["id"]);
    app.post(
        &format!("/v1/clients/{old}/enrollments"),
        &t2,
        json!({"project_id": s2_project, "entry_date": days_ago(10), "relationship_to_hoh": 1}),
    )
    .await
    .ok(201);
    let consents = app.get(&format!("/v1/clients/{old}/consents"), &t2).await;
    let cid = s(&consents.ok(200)["items"][0]["id"]);
    let r = app
        .post(
            &format!("/v1/clients/{old}/consents/{cid}/revoke"),
            &t2,
            json!({}),
        )
        .await;
    let new = s(&r.ok(200)["client"]["id"]);
    let r = app.get(&format!("/v1/clients/{old}"), &t1).await;
    assert_eq!(r.ok(200)["lifecycle"], "superseded");
    assert!(r.body.get("superseded_by").is_none(), "{}", r.body);
    app.get(&format!("/v1/clients/{new}"), &t1)
        .await
        .problem(404);
    let w = app
        .post(
            &format!("/v1/clients/{old}/contacts"),
            &t1,
            json!({"kind": "phone", "value": "312-555-0100"}),
        )
        .await;
    let p = w.problem(409);
    assert!(p.get("use_record").is_none(), "{p}");
    let detail = s(&p["detail"]);
    assert!(detail.contains("another agency split it"), "{detail}");
    assert!(
        !detail.contains("ask the agency that created it"),
        "{detail}"
    );
    app.post(
        &format!("/v1/enrollments/{s1_stay}/exit"),
        &t1,
        json!({"exit_date": days_ago(0), "destination": 101}),
    )
    .await
    .ok(200);
}

/// A split of an anonymous or consent-refused record writes the job aid's alias on records whose
/// mode refuses a client-given alias: a later patch of other fields keeps it unjudged and
/// succeeds, a patch that sends an alias is still refused, and the old "DO NOT USE" record is
/// refused as superseded, not for its alias.
#[actix_web::test]
async fn a_split_alias_does_not_block_a_patch_of_other_fields() {
    let app = spawn().await;
    let coc = app.coc(json!({"roi_grant_mode": "split"})).await;
    let a = app.agency(&coc, true).await;
    let ta = app.token("a", &[Role::CaseWorker], Some(a));
    for mode in ["consent_refused", "anonymous"] {
        let r = app
            .post(
                "/v1/clients",
                &ta,
                match mode {
                    "anonymous" => {
                        json!({"identity_mode": mode, "visibility": "closed", "birth_year": 1980})
                    }
                    _ => {
                        json!({"identity_mode": mode, "visibility": "closed", "dob": "1980-02-03"})
                    }
                },
            )
            .await;
        let old = s(&r.ok(201)["client"]["id"]);
        let r = app
            .post(
                &format!("/v1/clients/{old}/consents"),
                &ta,
                json!({"method": "signed"}),
            )
            .await;
        let body = r.ok(201).clone();
        let new = s(&body["client"]["id"]);
        assert_ne!(new, old, "{mode}: {body}");
        let alias = s(&body["client"]["alias"]);
        assert!(alias.starts_with("SHARED - ROI "), "{mode}: {body}");

        let path = format!("/v1/clients/{new}");
        let etag = app.get(&path, &ta).await.header("etag").unwrap();
        let r = app
            .patch(&path, &ta, Some(&etag), json!({"veteran_status": 1}))
            .await;
        assert_eq!(r.status, 200, "{mode}: {}", r.body);
        assert_eq!(r.body["client"]["veteran_status"], 1, "{mode}");
        assert_eq!(r.body["client"]["alias"], alias.as_str(), "{mode}: kept");
        let etag = r.header("etag").unwrap();
        let r = app
            .patch(&path, &ta, Some(&etag), json!({"alias": "Sunny"}))
            .await;
        r.problem(422);
        assert_eq!(r.error_fields(), vec!["alias".to_string()], "{mode}");

        let old_path = format!("/v1/clients/{old}");
        let o = app.get(&old_path, &ta).await;
        assert_eq!(o.ok(200)["alias"], "DO NOT USE", "{mode}");
        let etag = o.header("etag").unwrap();
        let r = app
            .patch(&old_path, &ta, Some(&etag), json!({"veteran_status": 1}))
            .await;
        assert_eq!(r.status, 409, "{mode}: superseded, not 422: {}", r.body);
    }
}
