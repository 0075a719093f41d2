//! Stays, households, the data attached to them, contacts and documents: every datum under
//! the datum rule, through the API.

use base64::Engine;
use hearth::consent::Role;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::fixtures::*;
use crate::harness::*;

#[actix_web::test]
async fn enroll_exit_and_household_rules() {
    let app = spawn().await;
    let coc = app.coc(json!({})).await;
    let agency = app.agency(&coc, true).await;
    let shelter = app.project(agency, 0).await;
    let other_project = app.project(agency, 2).await;
    let w = app.token("w", &[Role::CaseWorker], Some(agency));
    let mk = |first: &str| json!({"identity_mode": "identified", "first_name": first, "last_name": "Rivera"});
    let head = id_of(
        app.post("/v1/clients", &w, mk("Ana")).await.ok(201),
        "client",
    );
    let child = id_of(
        app.post("/v1/clients", &w, mk("Leo")).await.ok(201),
        "client",
    );
    let spouse = id_of(
        app.post("/v1/clients", &w, mk("Raul")).await.ok(201),
        "client",
    );

    let r = app
        .post(
            &format!("/v1/clients/{head}/enrollments"),
            &w,
            json!({"project_id": shelter, "entry_date": days_ago(30), "relationship_to_hoh": 1,
                   "living_situation": 116, "length_of_stay": 2, "times_homeless_past_three_years": 1,
                   "months_homeless_past_three_years": 102}),
        )
        .await;
    let e = r.ok(201)["enrollment"].clone();
    assert_eq!(e["enrollment_coc"], coc.as_str());
    assert_eq!(e["entered_by_your_agency"], true);
    let household = e["household_id"].as_str().unwrap().to_string();
    let head_stay = e["id"].as_str().unwrap().to_string();

    // A second head is refused; a child joins.
    let join = |client: Uuid, rel: i32| {
        (
            format!("/v1/clients/{client}/enrollments"),
            json!({"project_id": shelter, "entry_date": days_ago(30), "relationship_to_hoh": rel, "household_id": household}),
        )
    };
    let (p, b) = join(spouse, 1);
    assert_eq!(
        app.post(&p, &w, b).await.problem(422)["errors"][0]["code"],
        "household_has_head"
    );
    let (p, b) = join(child, 2);
    let child_stay = app.post(&p, &w, b).await.ok(201)["enrollment"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (p, b) = join(child, 2);
    app.post(&p, &w, b).await.problem(409);
    // A household in another project, an unknown household, a new household without a head.
    let r = app
        .post(&format!("/v1/clients/{spouse}/enrollments"), &w, json!({"project_id": other_project, "entry_date": days_ago(3), "relationship_to_hoh": 3, "household_id": household}))
        .await;
    assert_eq!(r.problem(422)["errors"][0]["field"], "household_id");
    // ... answers exactly as a household id that does not exist (ids confirm nothing).
    let unknown = app
        .post(&format!("/v1/clients/{spouse}/enrollments"), &w, json!({"project_id": other_project, "entry_date": days_ago(3), "relationship_to_hoh": 3, "household_id": Uuid::now_v7()}))
        .await;
    assert_eq!(unknown.raw, r.raw);
    let r = app
        .post(
            &format!("/v1/clients/{spouse}/enrollments"),
            &w,
            json!({"project_id": shelter, "entry_date": days_ago(3), "relationship_to_hoh": 3}),
        )
        .await;
    assert_eq!(r.problem(422)["errors"][0]["code"], "household_needs_head");
    // Codes outside HUD's lists and dates in the future.
    for (body, field) in [
        (
            json!({"project_id": shelter, "entry_date": days_ago(3), "relationship_to_hoh": 7}),
            "relationship_to_hoh",
        ),
        (
            json!({"project_id": shelter, "entry_date": days_ago(3), "relationship_to_hoh": 1, "living_situation": 999}),
            "living_situation",
        ),
        (
            json!({"project_id": shelter, "entry_date": (today() + chrono::Duration::days(3)).to_string(), "relationship_to_hoh": 1}),
            "entry_date",
        ),
        (
            json!({"project_id": shelter, "entry_date": days_ago(3), "relationship_to_hoh": 1, "enrollment_coc": "chicago"}),
            "enrollment_coc",
        ),
        // A well-formed code of no CoC.
        (
            json!({"project_id": shelter, "entry_date": days_ago(3), "relationship_to_hoh": 1, "enrollment_coc": no_such_coc(&app).await}),
            "enrollment_coc",
        ),
    ] {
        let r = app
            .post(
                &format!("/v1/clients/{spouse}/enrollments"),
                &w,
                body.clone(),
            )
            .await;
        assert_eq!(r.problem(422)["errors"][0]["field"], field, "{body}");
    }

    // Exit: before entry, 435 without a subsidy, a subsidy without 435, a code outside the list.
    let exit = format!("/v1/enrollments/{head_stay}/exit");
    for (body, field) in [
        (
            json!({"exit_date": days_ago(40), "destination": 101}),
            "exit_date",
        ),
        (
            json!({"exit_date": days_ago(1), "destination": 435}),
            "destination_subsidy_type",
        ),
        (
            json!({"exit_date": days_ago(1), "destination": 410, "destination_subsidy_type": 419}),
            "destination_subsidy_type",
        ),
        (
            json!({"exit_date": days_ago(1), "destination": 5}),
            "destination",
        ),
    ] {
        let r = app.post(&exit, &w, body.clone()).await;
        assert_eq!(r.problem(422)["errors"][0]["field"], field, "{body}");
    }
    // The child leaves the household (e.g. fleeing DV), then the head exits.
    let r = app
        .post(
            &format!("/v1/enrollments/{child_stay}/remove-from-household"),
            &w,
            json!({}),
        )
        .await;
    let moved = r.ok(200)["enrollment"].clone();
    assert_ne!(moved["household_id"].as_str().unwrap(), household);
    assert_eq!(moved["relationship_to_hoh"], 1);
    let r = app
        .post(
            &exit,
            &w,
            json!({"exit_date": days_ago(1), "destination": 435, "destination_subsidy_type": 419}),
        )
        .await;
    assert_eq!(r.ok(200)["enrollment"]["destination"], 435);
    app.post(
        &exit,
        &w,
        json!({"exit_date": days_ago(1), "destination": 101}),
    )
    .await
    .problem(409);
    let list = app
        .get(&format!("/v1/clients/{head}/enrollments"), &w)
        .await;
    assert_eq!(list.ok(200)["items"].as_array().unwrap().len(), 1);
}

#[actix_web::test]
async fn anonymous_households_hold_only_anonymous_members() {
    let app = spawn().await;
    let coc = app.coc(json!({})).await;
    let agency = app.agency(&coc, false).await;
    let project = app.project(agency, 1).await;
    let w = app.token("w", &[Role::CaseWorker], Some(agency));
    let anon = id_of(
        app.post(
            "/v1/clients",
            &w,
            json!({"identity_mode": "anonymous", "birth_year": 1980}),
        )
        .await
        .ok(201),
        "client",
    );
    let anon2 = id_of(
        app.post(
            "/v1/clients",
            &w,
            json!({"identity_mode": "anonymous", "birth_year": 2012}),
        )
        .await
        .ok(201),
        "client",
    );
    let named = id_of(
        app.post(
            "/v1/clients",
            &w,
            json!({"identity_mode": "identified", "first_name": "Kim", "last_name": "Park"}),
        )
        .await
        .ok(201),
        "client",
    );
    let r = app
        .post(
            &format!("/v1/clients/{anon}/enrollments"),
            &w,
            json!({"project_id": project, "entry_date": days_ago(5), "relationship_to_hoh": 1}),
        )
        .await;
    let household = r.ok(201)["enrollment"]["household_id"].clone();
    let body = json!({"project_id": project, "entry_date": days_ago(5), "relationship_to_hoh": 2, "household_id": household});
    let r = app
        .post(
            &format!("/v1/clients/{named}/enrollments"),
            &w,
            body.clone(),
        )
        .await;
    assert_eq!(r.problem(422)["errors"][0]["code"], "anonymous_household");
    app.post(&format!("/v1/clients/{anon2}/enrollments"), &w, body)
        .await
        .ok(201);
}

/// A stay with one datum of every kind, as the creating agency.
async fn stay_with_data<S, B>(
    app: &TestApp<S>,
    token: &str,
    client: Uuid,
    project: Uuid,
    entry: &str,
) -> String
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
            &format!("/v1/clients/{client}/enrollments"),
            token,
            json!({"project_id": project, "entry_date": entry, "relationship_to_hoh": 1}),
        )
        .await;
    let stay = r.ok(201)["enrollment"]["id"].as_str().unwrap().to_string();
    let base = format!("/v1/enrollments/{stay}");
    app.post(&format!("{base}/services"), token, json!({"date_provided": entry, "service_type": "meal", "quantity": 2, "note": "Breakfast and lunch"})).await.ok(201);
    app.post(&format!("{base}/assessments"), token, json!({"assessment_date": entry, "assessment_type": 3, "assessment_level": 2, "prioritization_status": 1, "priority_score": 14.5, "assessment_location": "Drop-in center", "text": "Sleeps outside most nights"})).await.ok(201);
    app.post(
        &format!("{base}/ce-events"),
        token,
        json!({"event_date": entry, "event": 14, "referral_result": 1, "result_date": entry}),
    )
    .await
    .ok(201);
    app.post(
        &format!("{base}/current-living-situations"),
        token,
        json!({"information_date": entry, "current_living_situation": 116}),
    )
    .await
    .ok(201);
    app.post(
        &format!("{base}/notes"),
        token,
        json!({"note_date": entry, "text": "Met at the drop-in center."}),
    )
    .await
    .ok(201);
    stay
}

#[actix_web::test]
async fn stay_data_is_validated_and_listed() {
    let app = spawn().await;
    let coc = app.coc(json!({})).await;
    let agency = app.agency(&coc, false).await;
    let project = app.project(agency, 14).await;
    let w = app.token("w", &[Role::CaseWorker], Some(agency));
    let client = id_of(
        app.post(
            "/v1/clients",
            &w,
            json!({"identity_mode": "identified", "first_name": "Sam", "last_name": "Cole"}),
        )
        .await
        .ok(201),
        "client",
    );
    let stay = stay_with_data(&app, &w, client, project, &days_ago(10)).await;
    let base = format!("/v1/enrollments/{stay}");
    for (kind, n) in [
        ("services", 1),
        ("assessments", 1),
        ("ce-events", 1),
        ("current-living-situations", 1),
        ("notes", 1),
    ] {
        let r = app.get(&format!("{base}/{kind}"), &w).await;
        let items = r.ok(200)["items"].as_array().unwrap().clone();
        assert_eq!(items.len(), n, "{kind}");
        assert_eq!(items[0]["access"], "full");
    }
    let a = app.get(&format!("{base}/assessments"), &w).await;
    assert_eq!(a.body["items"][0]["fields"]["priority_score"], 14.5);
    assert_eq!(a.body["items"][0]["text"], "Sleeps outside most nights");
    for (kind, body, field) in [
        (
            "assessments",
            json!({"assessment_date": days_ago(1), "assessment_type": 9, "assessment_level": 2}),
            "assessment_type",
        ),
        (
            "ce-events",
            json!({"event_date": days_ago(1), "event": 19}),
            "event",
        ),
        (
            "ce-events",
            json!({"event_date": days_ago(1), "event": 14, "referral_result": 4}),
            "referral_result",
        ),
        (
            "current-living-situations",
            json!({"information_date": days_ago(1), "current_living_situation": 3}),
            "current_living_situation",
        ),
        (
            "services",
            json!({"date_provided": days_ago(1), "service_type": "Hot Meal!"}),
            "service_type",
        ),
        (
            "services",
            json!({"date_provided": days_ago(40), "service_type": "meal"}),
            "date_provided",
        ),
        (
            "notes",
            json!({"note_date": days_ago(1), "text": "   "}),
            "text",
        ),
    ] {
        let r = app.post(&format!("{base}/{kind}"), &w, body.clone()).await;
        assert_eq!(r.problem(422)["errors"][0]["field"], field, "{kind} {body}");
    }
}

/// A quantity or a priority score is bounded: the largest double (which PostgreSQL stored and
/// then could not read back), 1e300 and anything past the range answer 422 naming the field; the
/// range's ends are written and read back.
#[actix_web::test]
async fn quantities_and_priority_scores_are_bounded() {
    let app = spawn().await;
    let coc = app.coc(json!({})).await;
    let agency = app.agency(&coc, false).await;
    let project = app.project(agency, 14).await;
    let w = app.token("w", &[Role::CaseWorker], Some(agency));
    let client = id_of(
        app.post(
            "/v1/clients",
            &w,
            json!({"identity_mode": "identified", "first_name": "Sam", "last_name": "Cole"}),
        )
        .await
        .ok(201),
        "client",
    );
    let r = app
        .post(
            &format!("/v1/clients/{client}/enrollments"),
            &w,
            json!({"project_id": project, "entry_date": days_ago(5), "relationship_to_hoh": 1}),
        )
        .await;
    let stay = r.ok(201)["enrollment"]["id"].as_str().unwrap().to_string();
    let base = format!("/v1/enrollments/{stay}");
    let service = |q: serde_json::Value| json!({"date_provided": days_ago(1), "service_type": "meal", "quantity": q});
    let assessment = |s: serde_json::Value| json!({"assessment_date": days_ago(1), "assessment_type": 3, "assessment_level": 2, "priority_score": s});
    for bad in [
        json!(1.7976931348623157e308),
        json!(1e300),
        json!(1_000_000.5),
        json!(-0.5),
    ] {
        let r = app
            .post(&format!("{base}/services"), &w, service(bad.clone()))
            .await;
        assert_eq!(r.problem(422)["errors"][0]["field"], "quantity", "{bad}");
    }
    for bad in [
        json!(1.7976931348623157e308),
        json!(-1e300),
        json!(1_000_000.5),
        json!(-1_000_000.5),
    ] {
        let r = app
            .post(&format!("{base}/assessments"), &w, assessment(bad.clone()))
            .await;
        assert_eq!(
            r.problem(422)["errors"][0]["field"],
            "priority_score",
            "{bad}"
        );
    }
    for q in [0.0, 1_000_000.0, 2.5] {
        app.post(&format!("{base}/services"), &w, service(json!(q)))
            .await
            .ok(201);
    }
    for s in [-1_000_000.0, 1_000_000.0, 14.5] {
        app.post(&format!("{base}/assessments"), &w, assessment(json!(s)))
            .await
            .ok(201);
    }
    let services = app.get(&format!("{base}/services"), &w).await;
    let quantities: Vec<f64> = services.ok(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["fields"]["quantity"].as_f64().unwrap())
        .collect();
    assert_eq!(quantities, vec![0.0, 1_000_000.0, 2.5]);
    let assessments = app.get(&format!("{base}/assessments"), &w).await;
    assert_eq!(assessments.ok(200)["items"].as_array().unwrap().len(), 3);
}

#[actix_web::test]
async fn anonymous_records_refuse_contacts_documents_and_pii_in_text() {
    let app = spawn().await;
    let coc = app.coc(json!({})).await;
    let agency = app.agency(&coc, false).await;
    let project = app.project(agency, 0).await;
    let w = app.token("w", &[Role::CaseWorker], Some(agency));
    for mode in [
        json!({"identity_mode": "anonymous", "birth_year": 1975}),
        json!({"identity_mode": "code_name", "first_name": "Blue"}),
    ] {
        let client = id_of(app.post("/v1/clients", &w, mode).await.ok(201), "client");
        let r = app
            .post(
                &format!("/v1/clients/{client}/contacts"),
                &w,
                json!({"kind": "phone", "value": "312-555-0188"}),
            )
            .await;
        let body = String::from_utf8_lossy(&r.raw).to_string();
        assert_eq!(
            r.problem(422)["errors"][0]["code"],
            "forbidden_for_identity_mode"
        );
        assert!(!body.contains("555-0188"));
        let doc = base64::engine::general_purpose::STANDARD.encode(b"%PDF-1.4 test");
        let r = app
            .post(&format!("/v1/clients/{client}/documents"), &w, json!({"file_name": "id.pdf", "content_type": "application/pdf", "content_base64": doc}))
            .await;
        r.problem(422);
        let r = app
            .post(
                &format!("/v1/clients/{client}/enrollments"),
                &w,
                json!({"project_id": project, "entry_date": days_ago(2), "relationship_to_hoh": 1}),
            )
            .await;
        let stay = r.ok(201)["enrollment"]["id"].as_str().unwrap().to_string();
        for (text, kind) in [
            ("Her SSN is 234-56-7890", "ssn"),
            ("Call her at (312) 555-0142", "phone"),
            ("Email sam.cole@example.org", "email"),
            ("Born on 3/13/2001", "date"),
        ] {
            let r = app
                .post(
                    &format!("/v1/enrollments/{stay}/notes"),
                    &w,
                    json!({"note_date": days_ago(1), "text": text}),
                )
                .await;
            let raw = String::from_utf8_lossy(&r.raw).to_string();
            let e = &r.problem(422)["errors"][0];
            assert_eq!(e["code"], "pii_in_free_text");
            assert!(e["message"].as_str().unwrap().contains(kind), "{e}");
            assert!(!raw.contains(&text[text.len() - 8..]), "echoed: {raw}");
        }
        app.post(
            &format!("/v1/enrollments/{stay}/notes"),
            &w,
            json!({"note_date": days_ago(1), "text": "Client asked about shelter beds."}),
        )
        .await
        .ok(201);
    }
}

#[actix_web::test]
async fn documents_are_checked_stored_and_read_back() {
    let app = spawn().await;
    let coc = app.coc(json!({})).await;
    let agency = app.agency(&coc, false).await;
    let other = app.agency(&coc, false).await;
    let w = app.token("w", &[Role::CaseWorker], Some(agency));
    let stranger = app.token("s", &[Role::CaseWorker], Some(other));
    let client = id_of(
        app.post(
            "/v1/clients",
            &w,
            json!({"identity_mode": "identified", "first_name": "Dee", "last_name": "Ng"}),
        )
        .await
        .ok(201),
        "client",
    );
    let path = format!("/v1/clients/{client}/documents");
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let png = [
        &[0x89u8, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A][..],
        b"rest of image",
    ]
    .concat();
    for (body, field) in [
        (
            json!({"file_name": "a.exe", "content_type": "application/x-msdownload", "content_base64": b64(b"MZ")}),
            "content_type",
        ),
        (
            json!({"file_name": "a.png", "content_type": "image/png", "content_base64": b64(b"%PDF-1.4")}),
            "content_type",
        ),
        (
            json!({"file_name": "a.pdf", "content_type": "application/pdf", "content_base64": "not base64!"}),
            "content_base64",
        ),
        (
            json!({"file_name": "../a.pdf", "content_type": "application/pdf", "content_base64": b64(b"%PDF-1.4")}),
            "file_name",
        ),
    ] {
        let r = app.post(&path, &w, body.clone()).await;
        assert_eq!(r.problem(422)["errors"][0]["field"], field, "{body}");
    }
    // Over the 5 MiB limit: refused before or after decoding, never a 5xx.
    let big = b64(&[b'%'; 6 * 1024 * 1024]);
    let r = app.post(&path, &w, json!({"file_name": "big.pdf", "content_type": "application/pdf", "content_base64": big})).await;
    assert!(r.status == 413 || r.status == 422, "{}", r.status);
    r.problem(r.status.as_u16());

    let r = app.post(&path, &w, json!({"file_name": "card.png", "content_type": "image/png", "content_base64": b64(&png)})).await;
    let doc = r.ok(201)["id"].as_str().unwrap().to_string();
    assert_eq!(r.body["size_bytes"], png.len());
    let list = app.get(&path, &w).await;
    assert_eq!(list.ok(200)["items"][0]["file_name"], "card.png");
    assert!(list.body["items"][0].get("content_base64").is_none());
    let r = app.get(&format!("{path}/{doc}/content"), &w).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.raw, png);
    assert_eq!(r.header("content-type").as_deref(), Some("image/png"));
    // An agency that cannot see the record gets the same 404 as for a missing one.
    app.get(&format!("{path}/{doc}/content"), &stranger)
        .await
        .problem(404);
    app.get(&path, &stranger).await.problem(404);
    let r = app
        .send(Call {
            method: "DELETE",
            path: &format!("{path}/{doc}"),
            token: Some(&w),
            body: None,
            headers: vec![],
        })
        .await;
    assert_eq!(r.status, 204);
    assert_eq!(
        app.get(&path, &w).await.ok(200)["items"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
}

/// The whole contributor sequence: an ROI opens the record to a sharing agency from its date on;
/// that agency's first datum makes it a contributor; after revocation it keeps what it may see
/// as a contributor, and new data from others stays with them.
#[actix_web::test]
async fn first_datum_makes_a_contributor_and_the_roi_window_decides_what_it_sees() {
    let app = spawn().await;
    let coc = app.coc(json!({})).await;
    let a = app.agency(&coc, true).await;
    let b = app.agency(&coc, true).await;
    let pa = app.project(a, 0).await;
    let pb = app.project(b, 4).await;
    let ta = app.token("a", &[Role::CaseWorker], Some(a));
    let tb = app.token("b", &[Role::CaseWorker], Some(b));
    let admin_a = app.token("aa", &[Role::AgencyAdmin], Some(a));
    let client = id_of(
        app.post("/v1/clients", &ta, json!({"identity_mode": "identified", "first_name": "Joe", "last_name": "Vance", "ssn": "234-56-7891"})).await.ok(201),
        "client",
    );
    // Before any ROI: A's stay, collected 20 days ago. B sees nothing.
    let old_stay = stay_with_data(&app, &ta, client, pa, &days_ago(20)).await;
    app.get(&format!("/v1/clients/{client}"), &tb)
        .await
        .problem(404);
    app.get(&format!("/v1/enrollments/{old_stay}"), &tb)
        .await
        .problem(404);

    // ROI from 10 days ago: B sees the record in full, but not A's data from before it.
    let r = app
        .post(
            &format!("/v1/clients/{client}/consents"),
            &ta,
            json!({"method": "signed", "effective_from": days_ago(10)}),
        )
        .await;
    let consent = r.ok(201)["consent"]["id"].as_str().unwrap().to_string();
    let r = app.get(&format!("/v1/clients/{client}"), &tb).await;
    assert_eq!(r.ok(200)["access"]["basis"], "statewide_roi");
    assert_eq!(r.body["last_name"], "Vance");
    app.get(&format!("/v1/enrollments/{old_stay}"), &tb)
        .await
        .problem(404);
    assert_eq!(
        app.get(&format!("/v1/clients/{client}/enrollments"), &tb)
            .await
            .ok(200)["items"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    // A's stay inside the window is visible to B, with its notes.
    let new_stay = stay_with_data(&app, &ta, client, pa, &days_ago(5)).await;
    assert_eq!(
        app.get(&format!("/v1/clients/{client}/enrollments"), &tb)
            .await
            .ok(200)["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let notes = app
        .get(&format!("/v1/enrollments/{new_stay}/notes"), &tb)
        .await;
    assert_eq!(
        notes.ok(200)["items"][0]["text"],
        "Met at the drop-in center."
    );

    // B's first datum makes it a contributor.
    let r = app
        .post(
            &format!("/v1/clients/{client}/enrollments"),
            &tb,
            json!({"project_id": pb, "entry_date": days_ago(2), "relationship_to_hoh": 1}),
        )
        .await;
    let b_stay = r.ok(201)["enrollment"]["id"].as_str().unwrap().to_string();
    assert!(
        r.body["changes"].to_string().contains("contributor"),
        "{}",
        r.body
    );

    // Revocation (scenario 2): B keeps the record as a contributor, its own stay, and A's data
    // collected inside the window; A's data from now on stays with A.
    let r = app
        .post(
            &format!("/v1/clients/{client}/consents/{consent}/revoke"),
            &ta,
            json!({}),
        )
        .await;
    assert_eq!(r.ok(200)["scenario"], "other_agencies_have_data");
    let r = app.get(&format!("/v1/clients/{client}"), &tb).await;
    assert_eq!(r.ok(200)["access"]["basis"], "contributor");
    app.get(&format!("/v1/enrollments/{b_stay}"), &tb)
        .await
        .ok(200);
    app.get(&format!("/v1/enrollments/{new_stay}"), &tb)
        .await
        .ok(200);
    app.get(&format!("/v1/enrollments/{old_stay}"), &tb)
        .await
        .problem(404);
    let later = app
        .post(
            &format!("/v1/enrollments/{new_stay}/services"),
            &ta,
            json!({"date_provided": today().to_string(), "service_type": "shower"}),
        )
        .await;
    later.ok(201);
    let services = app
        .get(&format!("/v1/enrollments/{new_stay}/services"), &tb)
        .await;
    let seen: Vec<&str> = services.ok(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["fields"]["service_type"].as_str().unwrap())
        .collect();
    assert_eq!(
        seen,
        vec!["meal"],
        "the service after revocation stays with A"
    );
    assert_eq!(
        app.get(&format!("/v1/enrollments/{new_stay}/services"), &ta)
            .await
            .ok(200)["items"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    // Another agency contributed, so the record cannot be made private.
    let r = app
        .put(
            &format!("/v1/clients/{client}/visibility"),
            &ta,
            json!({"visibility": "private"}),
        )
        .await;
    r.problem(409);
    let audit = app
        .get(&format!("/v1/clients/{client}/audit"), &admin_a)
        .await;
    let actions: Vec<String> = audit.ok(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect();
    assert!(
        actions.contains(&"enrollment_created".to_string())
            && actions.contains(&"roi_revoked".to_string()),
        "{actions:?}"
    );
}

#[actix_web::test]
async fn a_coc_admin_sees_structured_data_without_free_text() {
    let app = spawn().await;
    let coc = app.coc(json!({})).await;
    let a = app.agency(&coc, false).await;
    let lead = app.agency(&coc, false).await;
    let pa = app.project(a, 14).await;
    let ta = app.token("a", &[Role::CaseWorker], Some(a));
    let coc_admin = app.token("lead", &[Role::CocAdmin], Some(lead));
    let client = id_of(
        app.post(
            "/v1/clients",
            &ta,
            json!({"identity_mode": "code_name", "first_name": "Shadow"}),
        )
        .await
        .ok(201),
        "client",
    );
    let stay = stay_with_data(&app, &ta, client, pa, &days_ago(3)).await;
    let r = app.get(&format!("/v1/clients/{client}"), &coc_admin).await;
    assert_eq!(r.ok(200)["access"]["level"], "limited");
    let a = app
        .get(&format!("/v1/enrollments/{stay}/assessments"), &coc_admin)
        .await;
    let item = &a.ok(200)["items"][0];
    assert_eq!(item["access"], "non_pii");
    assert_eq!(item["fields"]["priority_score"], 14.5);
    assert!(item.get("text").is_none());
    assert!(item["fields"].get("assessment_location").is_none());
    // A case note is a datum like the others (datum rule 4): its date and agency, not its text.
    let notes = app
        .get(&format!("/v1/enrollments/{stay}/notes"), &coc_admin)
        .await;
    let items = notes.ok(200)["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{}", notes.body);
    let note = &items[0];
    assert_eq!(note["access"], "non_pii");
    assert_eq!(note["kind"], "case_note");
    assert_eq!(note["date"], days_ago(3).as_str());
    assert!(note["entered_by_agency_id"].is_string());
    assert!(note.get("text").is_none_or(|t| t.is_null()), "{note}");
    assert!(
        !notes.body.to_string().contains("drop-in"),
        "{}",
        notes.body
    );
    // Limited access writes nothing.
    app.post(
        &format!("/v1/enrollments/{stay}/notes"),
        &coc_admin,
        json!({"note_date": days_ago(1), "text": "x"}),
    )
    .await
    .problem(403);
}

#[actix_web::test]
async fn superseded_records_refuse_writes_and_merged_ones_name_the_survivor() {
    use diesel::RunQueryDsl;
    let pool = test_pool();
    let app = spawn_with(pool.clone()).await;
    let coc = app.coc(json!({})).await;
    let a = app.agency(&coc, false).await;
    let b = app.agency(&coc, false).await;
    let pa = app.project(a, 0).await;
    let ta = app.token("a", &[Role::CaseWorker], Some(a));
    let tb = app.token("b", &[Role::CaseWorker], Some(b));
    let mk = || json!({"identity_mode": "identified", "first_name": "Lee", "last_name": "Moss"});
    let old = id_of(app.post("/v1/clients", &ta, mk()).await.ok(201), "client");
    let new = id_of(app.post("/v1/clients", &ta, mk()).await.ok(201), "client");
    let survivor_b = id_of(app.post("/v1/clients", &tb, mk()).await.ok(201), "client");
    let merged = id_of(app.post("/v1/clients", &ta, mk()).await.ok(201), "client");
    {
        let mut conn = pool.get().unwrap();
        diesel::sql_query(
            "UPDATE clients SET lifecycle = 'superseded', superseded_by = $2 WHERE id = $1",
        )
        .bind::<diesel::sql_types::Uuid, _>(old)
        .bind::<diesel::sql_types::Uuid, _>(new)
        .execute(&mut conn)
        .unwrap();
        diesel::sql_query(
            "UPDATE clients SET lifecycle = 'merged', merged_into = $2 WHERE id = $1",
        )
        .bind::<diesel::sql_types::Uuid, _>(merged)
        .bind::<diesel::sql_types::Uuid, _>(survivor_b)
        .execute(&mut conn)
        .unwrap();
    }
    let r = app.get(&format!("/v1/clients/{old}"), &ta).await;
    assert_eq!(r.ok(200)["superseded_by"], new.to_string());
    let etag = r.header("etag").unwrap();
    let contract: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json"))
            .unwrap(),
    )
    .unwrap();
    for (op, r) in [
        (
            "post /v1/clients/{id}/enrollments",
            app.post(
                &format!("/v1/clients/{old}/enrollments"),
                &ta,
                json!({"project_id": pa, "entry_date": days_ago(1), "relationship_to_hoh": 1}),
            )
            .await,
        ),
        (
            "patch /v1/clients/{id}",
            app.patch(
                &format!("/v1/clients/{old}"),
                &ta,
                Some(&etag),
                json!({"alias": "x"}),
            )
            .await,
        ),
        (
            "post /v1/clients/{id}/consents",
            app.post(
                &format!("/v1/clients/{old}/consents"),
                &ta,
                json!({"method": "signed"}),
            )
            .await,
        ),
        (
            "post /v1/clients/{id}/contacts",
            app.post(
                &format!("/v1/clients/{old}/contacts"),
                &ta,
                json!({"kind": "email", "value": "lee@example.org"}),
            )
            .await,
        ),
        (
            "post /v1/clients/{id}/documents",
            app.post(
                &format!("/v1/clients/{old}/documents"),
                &ta,
                json!({"file_name": "n.txt", "content_type": "text/plain", "content_base64": "aGVsbG8="}),
            )
            .await,
        ),
        (
            "put /v1/clients/{id}/visibility",
            app.put(
                &format!("/v1/clients/{old}/visibility"),
                &ta,
                json!({"visibility": "closed"}),
            )
            .await,
        ),
    ] {
        assert_eq!(r.problem(409)["use_record"], new.to_string(), "{op}");
        // The contract says so: the operation lists 409, and the problem has use_record.
        let (method, path) = op.split_once(' ').unwrap();
        let listed = &contract["paths"][path][method]["responses"]["409"];
        assert!(listed.is_object(), "{op}: 409 is not in the contract");
    }
    assert!(contract["components"]["schemas"]["Problem"]["properties"]["use_record"].is_object());
    // The survivor belongs to B, whom A cannot see: A is not told where the data went.
    let r = app.get(&format!("/v1/clients/{merged}"), &ta).await;
    assert_eq!(r.ok(200)["lifecycle"], "merged");
    assert!(r.body.get("merged_into").is_none(), "{}", r.body);
    // A system_admin (with a reason) is told the survivor.
    let r = app
        .send(Call {
            method: "GET",
            path: &format!("/v1/clients/{merged}"),
            token: Some(&app.admin),
            body: None,
            headers: vec![("X-Access-Reason", "ticket 42".into())],
        })
        .await;
    assert_eq!(r.ok(200)["merged_into"], survivor_b.to_string());
}

#[actix_web::test]
async fn data_of_a_record_the_caller_cannot_see_is_not_found() {
    let app = spawn().await;
    let coc = app.coc(json!({})).await;
    let a = app.agency(&coc, false).await;
    let b = app.agency(&coc, true).await;
    let pa = app.project(a, 0).await;
    let pb = app.project(b, 0).await;
    let ta = app.token("a", &[Role::CaseWorker], Some(a));
    let tb = app.token("b", &[Role::CaseWorker], Some(b));
    let client = id_of(
        app.post(
            "/v1/clients",
            &ta,
            json!({"identity_mode": "identified", "first_name": "Ray", "last_name": "Oz"}),
        )
        .await
        .ok(201),
        "client",
    );
    let stay = stay_with_data(&app, &ta, client, pa, &days_ago(2)).await;
    let unknown = Uuid::new_v4();
    for path in [
        format!("/v1/clients/{client}/enrollments"),
        format!("/v1/enrollments/{stay}"),
        format!("/v1/enrollments/{stay}/notes"),
        format!("/v1/clients/{client}/contacts"),
    ] {
        let hidden = app.get(&path, &tb).await;
        hidden.problem(404);
        let missing = app
            .get(
                &path
                    .replace(&client.to_string(), &unknown.to_string())
                    .replace(&stay, &unknown.to_string()),
                &tb,
            )
            .await;
        assert_eq!(hidden.raw, missing.raw, "{path}");
    }
    let r = app
        .post(
            &format!("/v1/clients/{client}/enrollments"),
            &tb,
            json!({"project_id": pb, "entry_date": days_ago(1), "relationship_to_hoh": 1}),
        )
        .await;
    r.problem(404);
    app.post(
        &format!("/v1/enrollments/{stay}/services"),
        &tb,
        json!({"date_provided": days_ago(1), "service_type": "meal"}),
    )
    .await
    .problem(404);
}

/// consent.md, Audit: every read at level full is audited, once per request and client; a read
/// at level limited is not a disclosure of PII and writes none (issue 11, item 13).
#[actix_web::test]
async fn listing_stays_and_their_data_at_full_is_audited_once_per_request() {
    let app = spawn().await;
    let coc = app.coc(json!({})).await;
    let a = app.agency(&coc, false).await;
    let lead = app.agency(&coc, false).await;
    let project = app.project(a, 1).await;
    let ta = app.token("a", &[Role::CaseWorker], Some(a));
    let admin_a = app.token("aa", &[Role::AgencyAdmin], Some(a));
    let coc_admin = app.token("lead", &[Role::CocAdmin], Some(lead));
    let client = id_of(
        app.post(
            "/v1/clients",
            &ta,
            json!({"identity_mode": "code_name", "first_name": "Heron"}),
        )
        .await
        .ok(201),
        "client",
    );
    let stay = stay_with_data(&app, &ta, client, project, &days_ago(2)).await;
    let audit_actions = || async {
        app.get(&format!("/v1/clients/{client}/audit"), &admin_a)
            .await
            .ok(200)["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    let before = audit_actions().await;
    let reads = [
        (
            format!("/v1/clients/{client}/enrollments"),
            "enrollments_read",
        ),
        (format!("/v1/enrollments/{stay}"), "enrollment_read"),
        (format!("/v1/enrollments/{stay}/notes"), "stay_data_read"),
        (format!("/v1/enrollments/{stay}/services"), "stay_data_read"),
        (
            format!("/v1/enrollments/{stay}/assessments"),
            "stay_data_read",
        ),
        (
            format!("/v1/enrollments/{stay}/ce-events"),
            "stay_data_read",
        ),
        (
            format!("/v1/enrollments/{stay}/current-living-situations"),
            "stay_data_read",
        ),
    ];
    let mut expected = before.len();
    for (path, action) in &reads {
        app.get(path, &ta).await.ok(200);
        expected += 1;
        let now = audit_actions().await;
        assert_eq!(now.len(), expected, "{path}: {now:?}");
        assert!(now.iter().filter(|a| a == action).count() >= 1, "{path}");
        // The CoC admin sees the code-name record at limited: no PII disclosed, no event.
        app.get(path, &coc_admin).await.ok(200);
        assert_eq!(audit_actions().await.len(), expected, "{path} at limited");
    }
}

/// An exit is a datum of its own (consent.md, datum rules 3 and 6): a stay that began before the
/// ROI and ended inside its window is answered to a sharing agency as a continuation, entry
/// withheld and exit released, in the list and the single read alike; a stay that ended before
/// the ROI is not answered at all.
#[actix_web::test]
async fn an_exit_inside_the_window_releases_the_stay_as_a_continuation() {
    let app = spawn().await;
    let coc = app.coc(json!({})).await;
    let a1 = app.agency(&coc, true).await;
    let a2 = app.agency(&coc, true).await;
    let project = app.project(a1, 1).await;
    let w1 = app.token("w1", &[Role::CaseWorker], Some(a1));
    let w2 = app.token("w2", &[Role::CaseWorker], Some(a2));
    let body =
        json!({"identity_mode": "identified", "first_name": "Odile", "last_name": "Marchetti"});
    let client = id_of(app.post("/v1/clients", &w1, body).await.ok(201), "client");
    let mut stays = vec![];
    for (entry, exit) in [("2026-10-01", "2026-11-20"), ("2026-09-01", "2026-10-15")] {
        let r = app
            .post(
                &format!("/v1/clients/{client}/enrollments"),
                &w1,
                json!({"project_id": project, "entry_date": entry, "relationship_to_hoh": 1,
                       "living_situation": 116}),
            )
            .await;
        let stay = id_of(r.ok(201), "enrollment");
        stays.push((stay, exit));
    }
    app.post(
        &format!("/v1/clients/{client}/consents"),
        &w1,
        json!({"method": "signed", "effective_from": "2026-11-01"}),
    )
    .await
    .ok(201);
    for (stay, exit) in &stays {
        app.post(
            &format!("/v1/enrollments/{stay}/exit"),
            &w1,
            json!({"exit_date": exit, "destination": 410}),
        )
        .await
        .ok(200);
    }
    let (inside, before) = (stays[0].0, stays[1].0);

    let r = app
        .get(&format!("/v1/clients/{client}/enrollments"), &w2)
        .await;
    let items = r.ok(200)["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 1, "{}", r.body);
    let listed = items[0].clone();
    assert_eq!(listed["id"], inside.to_string());
    for v in [
        &listed,
        app.get(&format!("/v1/enrollments/{inside}"), &w2)
            .await
            .ok(200),
    ] {
        assert_eq!(v["entry_withheld"], true, "{v}");
        assert_eq!(v["entry_date"], Value::Null);
        assert_eq!(v["living_situation"], Value::Null);
        assert_eq!(v["exit_date"], "2026-11-20");
        assert_eq!(v["destination"], 410);
        assert_eq!(v["exit_withheld"], false);
    }
    // Nothing else of the stay is released, and the stay before the ROI is not found.
    let r = app
        .get(&format!("/v1/enrollments/{inside}/services"), &w2)
        .await;
    assert_eq!(r.ok(200)["items"], json!([]));
    app.get(&format!("/v1/enrollments/{before}"), &w2)
        .await
        .problem(404);
    // The agency that entered them sees both whole.
    let r = app.get(&format!("/v1/enrollments/{before}"), &w1).await;
    assert_eq!(r.ok(200)["exit_date"], "2026-10-15");
    assert_eq!(r.body["entry_date"], "2026-09-01");
}

/// A CoC code no CoC has.
async fn no_such_coc<S, B>(app: &TestApp<S>) -> String
where
    S: actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse<B>,
        Error = actix_web::Error,
    >,
    B: actix_web::body::MessageBody,
{
    loop {
        let code = random_coc_code();
        if app
            .get(&format!("/v1/cocs/{code}"), &app.admin)
            .await
            .status
            == 404
        {
            return code;
        }
    }
}

/// A record's and a stay's own lists page as every list does (README: `limit` 1 to 200,
/// default 50, `cursor`, `{items, next_cursor}`): five services in pages of two, each once and
/// in the list's order; a cursor of another stay's list, or a limit out of range, is a 422.
#[actix_web::test]
async fn a_stays_data_and_a_records_lists_page_with_limit_and_cursor() {
    let app = spawn().await;
    let coc = app.coc(json!({})).await;
    let agency = app.agency(&coc, true).await;
    let shelter = app.project(agency, 0).await;
    let w = app.token("w", &[Role::CaseWorker], Some(agency));
    let client = id_of(
        app.post(
            "/v1/clients",
            &w,
            json!({"identity_mode": "identified", "first_name": "Pia", "last_name": "Paged"}),
        )
        .await
        .ok(201),
        "client",
    );
    let mut stays = Vec::new();
    for days in [30, 20] {
        let r = app
            .post(
                &format!("/v1/clients/{client}/enrollments"),
                &w,
                json!({"project_id": shelter, "entry_date": days_ago(days), "relationship_to_hoh": 1}),
            )
            .await;
        stays.push(id_of(r.ok(201), "enrollment"));
        if days == 30 {
            app.post(
                &format!("/v1/enrollments/{}/exit", stays[0]),
                &w,
                json!({"exit_date": days_ago(25), "destination": 435, "destination_subsidy_type": 419}),
            )
            .await
            .ok(200);
        }
    }
    let stay = &stays[1];
    for d in 1..=5 {
        app.post(
            &format!("/v1/enrollments/{stay}/services"),
            &w,
            json!({"date_provided": days_ago(d), "service_type": "meal"}),
        )
        .await
        .ok(201);
    }
    let path = format!("/v1/enrollments/{stay}/services");
    let all = app.get(&path, &w).await.ok(200).clone();
    let want: Vec<Value> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].clone())
        .collect();
    assert_eq!(want.len(), 5);
    assert_eq!(all["next_cursor"], Value::Null);
    let mut got = Vec::new();
    let mut url = format!("{path}?limit=2");
    let mut first_cursor = None;
    loop {
        let page = app.get(&url, &w).await.ok(200).clone();
        assert!(page["items"].as_array().unwrap().len() <= 2, "{page}");
        got.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["id"].clone()),
        );
        match page["next_cursor"].as_str() {
            Some(c) => {
                first_cursor.get_or_insert(c.to_string());
                url = format!("{path}?limit=2&cursor={c}");
            }
            None => break,
        }
    }
    assert_eq!(got, want);
    let cursor = first_cursor.unwrap();
    let other = format!("/v1/enrollments/{}/services?cursor={cursor}", stays[0]);
    let p = app.get(&other, &w).await.problem(422).clone();
    assert!(p.to_string().contains("invalid_cursor"), "{p}");
    for bad in ["limit=0", "limit=201", "limit=x"] {
        app.get(&format!("{path}?{bad}"), &w).await.problem(422);
    }
    // The record's stays, one at a time.
    let path = format!("/v1/clients/{client}/enrollments");
    let page = app
        .get(&format!("{path}?limit=1"), &w)
        .await
        .ok(200)
        .clone();
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    let c = page["next_cursor"].as_str().unwrap().to_string();
    let page2 = app
        .get(&format!("{path}?limit=1&cursor={c}"), &w)
        .await
        .ok(200)
        .clone();
    assert_eq!(page2["items"].as_array().unwrap().len(), 1);
    assert_ne!(page["items"][0]["id"], page2["items"][0]["id"]);
    assert_eq!(page2["next_cursor"], Value::Null);
}
