//! Findings of an outside tester who coded against `openapi/openapi.json`: a body with a key
//! sent twice, scopes that say more than they mean, `Location` headers that must resolve (and
//! none on a dry run), and short name-like texts that could display as something else.

use actix_web::test::TestRequest;
use hearth::consent::Role;
use serde_json::{json, Value};

use crate::clients::{member, Svc};
use crate::deidentify::{household, request_body};
use crate::fixtures::days_ago;
use crate::harness::*;

/// A POST whose body is sent exactly as written (a `json!` value cannot hold a key twice).
async fn post_raw<S: Svc>(app: &TestApp<S>, path: &str, token: &str, body: &str) -> Reply {
    let req = TestRequest::post()
        .uri(path)
        .insert_header(("Authorization", format!("Bearer {token}")))
        .insert_header(("Content-Type", "application/json"))
        .set_payload(body.to_string())
        .to_request();
    app.raw(req).await
}

fn codes(r: &Reply) -> Vec<(String, String)> {
    r.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["field"].as_str().unwrap().to_string(),
                e["code"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[actix_web::test]
async fn a_key_sent_twice_is_refused_at_any_depth_naming_it() {
    let app = spawn().await;
    let coc = app.coc(json!({})).await;
    let (_, w) = member(&app, &coc, true, &[Role::CaseWorker]).await;
    let r = post_raw(
        &app,
        "/v1/clients",
        &w,
        r#"{"identity_mode":"consent_refused","visibility":"private","visibility":"closed"}"#,
    )
    .await;
    r.problem(422);
    assert_eq!(
        codes(&r),
        vec![("visibility".into(), "duplicate_key".into())]
    );
    let r = post_raw(
        &app,
        "/v1/clients",
        &w,
        &format!(
            r#"{{"identity_mode":"identified","first_name":"Ana","last_name":"Rivera",
                "roi":{{"method":"verbal","scope":{{"type":"cocs","coc_codes":["{coc}"],"coc_codes":["{coc}"]}}}}}}"#
        ),
    )
    .await;
    r.problem(422);
    assert_eq!(
        codes(&r),
        vec![("roi.scope.coc_codes".into(), "duplicate_key".into())]
    );
    // Nothing was created by either.
    let r = app
        .post("/v1/clients/search", &w, json!({"last_name": "Rivera"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
}

#[actix_web::test]
async fn an_roi_scope_says_exactly_what_it_means() {
    let app = spawn().await;
    let coc = app.coc(json!({})).await;
    let (_, w) = member(&app, &coc, true, &[Role::CaseWorker]).await;
    let client = |scope: Value| {
        json!({"identity_mode": "identified", "first_name": "Ana", "last_name": "Rivera",
               "roi": {"method": "verbal", "scope": scope}})
    };
    let r = app
        .post(
            "/v1/clients",
            &w,
            client(json!({"type": "statewide", "coc_codes": [coc]})),
        )
        .await;
    r.problem(422);
    assert_eq!(
        r.error_fields(),
        vec!["roi.scope.coc_codes".to_string()],
        "{}",
        r.body
    );
    let r = app
        .post(
            "/v1/clients",
            &w,
            client(json!({"type": "cocs", "coc_codes": [coc, coc]})),
        )
        .await;
    r.problem(422);
    assert_eq!(
        codes(&r),
        vec![("roi.scope.coc_codes[1]".into(), "duplicate".into())]
    );
    // Each alone is fine.
    for scope in [
        json!({"type": "statewide"}),
        json!({"type": "cocs", "coc_codes": [coc]}),
    ] {
        app.post("/v1/clients", &w, client(scope)).await.ok(201);
    }
}

#[actix_web::test]
async fn every_location_resolves_and_a_dry_run_has_none() {
    let app = spawn().await;
    let coc = app.coc(json!({})).await;
    let (_, w) = member(&app, &coc, true, &[Role::CaseWorker]).await;
    // Another CoC's worker sees the closed record at no level: 404 on the list and the item.
    let far = app.coc(json!({})).await;
    let (_, stranger) = member(&app, &far, true, &[Role::CaseWorker]).await;
    let r = app
        .post(
            "/v1/clients",
            &w,
            json!({"identity_mode": "identified", "first_name": "Ana", "last_name": "Rivera"}),
        )
        .await;
    let id = r.ok(201)["client"]["id"].as_str().unwrap().to_string();

    // A consent.
    let path = format!("/v1/clients/{id}/consents");
    let dry = app
        .post(
            &format!("{path}?dry_run=true"),
            &w,
            json!({"method": "signed", "scope": {"type": "cocs", "coc_codes": [coc]}}),
        )
        .await;
    dry.ok(201);
    assert_eq!(dry.header("hearth-dry-run").as_deref(), Some("true"));
    assert_eq!(dry.header("location"), None, "a dry run stores nothing");
    let r = app
        .post(
            &path,
            &w,
            json!({"method": "signed", "scope": {"type": "cocs", "coc_codes": [coc]}}),
        )
        .await;
    let granted = r.ok(201).clone();
    let location = r.header("location").unwrap();
    let got = app.get(&location, &w).await;
    assert_eq!(got.ok(200), &granted["consent"]);
    app.get(&location, &stranger).await.problem(404);
    app.get(&path, &stranger).await.problem(404);
    app.get(&format!("{path}/{}", uuid::Uuid::now_v7()), &w)
        .await
        .problem(404);

    // A contact, read as the list reads it: the same audit row.
    let actions = |r: &Reply| -> usize {
        r.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["action"] == "contacts_read")
            .count()
    };
    let audit = format!("/v1/clients/{id}/audit?limit=200");
    let r = app
        .post(
            &format!("/v1/clients/{id}/contacts"),
            &w,
            json!({"kind": "phone", "value": "555 0100 123"}),
        )
        .await;
    let added = r.ok(201).clone();
    let location = r.header("location").unwrap();
    let before = actions(&app.get(&audit, &app.admin).await);
    let got = app.get(&location, &w).await;
    assert_eq!(got.ok(200)["id"], added["id"]);
    assert_eq!(got.body["value"], "555 0100 123");
    let after = actions(&app.get(&audit, &app.admin).await);
    assert_eq!(after, before + 1, "the item read is audited like the list");
    app.get(&location, &stranger).await.problem(404);
    app.get(
        &format!("/v1/clients/{id}/contacts/{}", uuid::Uuid::now_v7()),
        &w,
    )
    .await
    .problem(404);

    // A de-identification request: to whoever lists it.
    let h = household(&app, json!({})).await;
    let dry = app
        .post(
            "/v1/deidentification-requests?dry_run=true",
            &h.worker,
            request_body(&h),
        )
        .await;
    dry.ok(201);
    assert_eq!(dry.header("location"), None, "a dry run stores nothing");
    let r = app
        .post("/v1/deidentification-requests", &h.worker, request_body(&h))
        .await;
    let filed = r.ok(201).clone();
    let location = r.header("location").unwrap();
    assert_eq!(
        app.get(&location, &h.worker).await.ok(200),
        &filed["request"]
    );
    let (_, coc_admin) = member(&app, &h.coc, true, &[Role::CocAdmin]).await;
    app.get(&location, &coc_admin).await.ok(200);
    app.get(&location, &app.admin).await.ok(200);
    let (_, other) = member(&app, &h.coc, true, &[Role::CaseWorker]).await;
    app.get(&location, &other).await.problem(404);
    let (_, reader) = member(&app, &h.coc, true, &[Role::PriorityListReader]).await;
    app.get(&location, &reader).await.problem(403);
    app.get("/v1/deidentification-requests", &reader)
        .await
        .problem(403);
}

#[actix_web::test]
async fn short_names_refuse_direction_overrides_and_invisible_text() {
    let app = spawn().await;
    let coc = app.coc(json!({})).await;
    let (agency, w) = member(&app, &coc, true, &[Role::CaseWorker]).await;
    let spoofs = [
        "inv\u{202e}gpj.exe",
        "\u{200b}\u{200b}\u{200b}",
        "Hope\u{feff}House",
    ];
    for bad in spoofs {
        let r = app
            .post(
                "/v1/cocs",
                &app.admin,
                json!({"code": random_coc_code(), "name": bad}),
            )
            .await;
        r.problem(422);
        assert_eq!(r.error_fields(), vec!["name".to_string()], "{bad:?}");
        let r = app
            .post(
                "/v1/agencies",
                &app.admin,
                json!({"coc_code": coc, "name": bad}),
            )
            .await;
        r.problem(422);
        assert_eq!(r.error_fields(), vec!["name".to_string()], "{bad:?}");
        let r = app
            .post(
                "/v1/projects",
                &app.admin,
                json!({"agency_id": agency, "name": bad, "project_type": 1}),
            )
            .await;
        r.problem(422);
        assert_eq!(r.error_fields(), vec!["name".to_string()], "{bad:?}");
    }
    let r = app
        .post(
            "/v1/clients",
            &w,
            json!({"identity_mode": "identified", "first_name": "Ana", "last_name": "Rivera"}),
        )
        .await;
    let id = r.ok(201)["client"]["id"].as_str().unwrap().to_string();
    for bad in spoofs {
        let r = app
            .post(
                &format!("/v1/clients/{id}/documents"),
                &w,
                json!({"file_name": bad, "content_type": "text/plain", "content_base64": "aGVsbG8="}),
            )
            .await;
        r.problem(422);
        assert_eq!(r.error_fields(), vec!["file_name".to_string()], "{bad:?}");
    }
    let project = app.project(agency, 4).await;
    let r = app
        .post(
            &format!("/v1/clients/{id}/enrollments"),
            &w,
            json!({"project_id": project, "entry_date": "2024-01-10", "relationship_to_hoh": 1}),
        )
        .await;
    let stay = r.ok(201)["enrollment"]["id"].as_str().unwrap().to_string();
    let cls = format!("/v1/enrollments/{stay}/current-living-situations");
    for bad in ["Out\u{202e}reach", "\u{200b}"] {
        let r = app
            .post(
                &cls,
                &w,
                json!({"information_date": "2024-02-01", "current_living_situation": 116, "verified_by": bad}),
            )
            .await;
        r.problem(422);
        assert_eq!(r.error_fields(), vec!["verified_by".to_string()], "{bad:?}");
    }
    // Plain names still pass, accents and joiners included.
    app.post(
        "/v1/agencies",
        &app.admin,
        json!({"coc_code": coc, "name": "Zoë's Place 211"}),
    )
    .await
    .ok(201);
    app.post(
        &format!("/v1/clients/{id}/documents"),
        &w,
        json!({"file_name": "intake 2024.txt", "content_type": "text/plain", "content_base64": "aGVsbG8="}),
    )
    .await
    .ok(201);
    app.post(
        &cls,
        &w,
        json!({"information_date": "2024-02-01", "current_living_situation": 116, "verified_by": "Outreach, north"}),
    )
    .await
    .ok(201);
}

/// `?dry_run` where an operation has no dry run is refused (422 naming `dry_run`) and nothing is
/// written; where it has one, a malformed value is a 422; any other parameter an operation does
/// not take is refused the same way (README Conventions).
#[actix_web::test]
async fn a_dry_run_where_there_is_none_is_refused_and_writes_nothing() {
    let app = spawn().await;
    let coc = app.coc(json!({})).await;
    let (agency, w) = member(&app, &coc, true, &[Role::CaseWorker]).await;
    let project = app.project(agency, 0).await;
    let names = |r: &Reply| codes(r);
    let refused = |r: &Reply, field: &str, what: &str| {
        assert_eq!(r.status, 422, "{what}: {}", r.body);
        assert_eq!(
            r.header("content-type").as_deref(),
            Some("application/problem+json"),
            "{what}"
        );
        assert_eq!(
            names(r),
            vec![(field.to_string(), "unknown_parameter".to_string())],
            "{what}"
        );
    };
    let search = |last: &'static str| {
        let app = &app;
        let w = &w;
        async move {
            app.post("/v1/clients/search", w, json!({"last_name": last}))
                .await
                .ok(200)["items"]
                .as_array()
                .unwrap()
                .len()
        }
    };
    let body =
        json!({"identity_mode": "identified", "first_name": "Dara", "last_name": "Quillfeather"});
    for q in [
        "dry_run=true",
        "dry_run=false",
        "dry_run=maybe",
        "x=1&dry_run=true",
    ] {
        let r = app
            .post(&format!("/v1/clients?{q}"), &w, body.clone())
            .await;
        let field = if q.starts_with('x') { "x" } else { "dry_run" };
        refused(&r, field, q);
    }
    assert_eq!(search("Quillfeather").await, 0, "no record was written");

    let r = app.post("/v1/clients", &w, body.clone()).await;
    let id = r.ok(201)["client"]["id"].as_str().unwrap().to_string();
    let etag = r.header("etag").unwrap();
    let r = app
        .patch(
            &format!("/v1/clients/{id}?dry_run=true"),
            &w,
            Some(&etag),
            json!({"veteran_status": 1}),
        )
        .await;
    refused(&r, "dry_run", "PATCH");
    let got = app.get(&format!("/v1/clients/{id}"), &w).await;
    assert_eq!(got.header("etag").as_deref(), Some(etag.as_str()));
    assert_ne!(got.body["veteran_status"], 1);

    let r = app
        .post(
            &format!("/v1/clients/{id}/contacts?dry_run=true"),
            &w,
            json!({"kind": "phone", "value": "312-555-0188"}),
        )
        .await;
    refused(&r, "dry_run", "contacts");
    let contacts = app.get(&format!("/v1/clients/{id}/contacts"), &w).await;
    assert_eq!(contacts.ok(200)["items"], json!([]));

    let enroll = format!("/v1/clients/{id}/enrollments");
    let stay_body =
        json!({"project_id": project, "entry_date": days_ago(5), "relationship_to_hoh": 1});
    refused(
        &app.post(&format!("{enroll}?dry_run=true"), &w, stay_body.clone())
            .await,
        "dry_run",
        "enrollments",
    );
    assert_eq!(app.get(&enroll, &w).await.ok(200)["items"], json!([]));
    let r = app.post(&enroll, &w, stay_body).await;
    let stay = r.ok(201)["enrollment"]["id"].as_str().unwrap().to_string();

    let services = format!("/v1/enrollments/{stay}/services");
    refused(
        &app.post(
            &format!("{services}?dry_run=true"),
            &w,
            json!({"date_provided": days_ago(1), "service_type": "meal"}),
        )
        .await,
        "dry_run",
        "services",
    );
    assert_eq!(app.get(&services, &w).await.ok(200)["items"], json!([]));
    refused(
        &app.post(
            &format!("/v1/enrollments/{stay}/exit?dry_run=true"),
            &w,
            json!({"exit_date": days_ago(1), "destination": 101}),
        )
        .await,
        "dry_run",
        "exit",
    );
    let e = app.get(&format!("/v1/enrollments/{stay}"), &w).await;
    assert!(e.ok(200)["exit_date"].is_null(), "{}", e.body);

    // A read refuses an unknown parameter too; a parameter it takes is fine.
    refused(
        &app.get(&format!("/v1/clients/{id}?dry_run=true"), &w).await,
        "dry_run",
        "GET",
    );
    refused(&app.get("/v1/cocs?page=2", &w).await, "page", "list");
    app.get("/v1/cocs?limit=1", &w).await.ok(200);

    // Where there is a dry run, it runs, and a malformed value is named.
    let vis = format!("/v1/clients/{id}/visibility");
    let r = app
        .put(
            &format!("{vis}?dry_run=maybe"),
            &w,
            json!({"visibility": "open"}),
        )
        .await;
    r.problem(422);
    assert_eq!(r.error_fields(), vec!["dry_run".to_string()]);
    let r = app
        .put(
            &format!("{vis}?dry_run=true"),
            &w,
            json!({"visibility": "private"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.header("hearth-dry-run").as_deref(), Some("true"));
}

/// A dry run names no version that does not exist: no `ETag` (the record keeps its own, which
/// still works as `If-Match`), and no `Location` on a 201.
#[actix_web::test]
async fn a_dry_run_sends_no_etag_of_a_version_that_does_not_exist() {
    let app = spawn().await;
    let coc = app.coc(json!({})).await;
    let (_, w) = member(&app, &coc, true, &[Role::CaseWorker]).await;
    let r = app
        .post(
            "/v1/clients",
            &w,
            json!({"identity_mode": "identified", "first_name": "Ana", "last_name": "Rivera"}),
        )
        .await;
    let id = r.ok(201)["client"]["id"].as_str().unwrap().to_string();
    let etag = r.header("etag").unwrap();
    let vis = format!("/v1/clients/{id}/visibility");
    let dry = app
        .put(
            &format!("{vis}?dry_run=true"),
            &w,
            json!({"visibility": "private"}),
        )
        .await;
    assert_eq!(dry.status, 200, "{}", dry.body);
    assert_eq!(dry.header("hearth-dry-run").as_deref(), Some("true"));
    assert_eq!(dry.header("etag"), None, "a dry run made no new version");
    let got = app.get(&format!("/v1/clients/{id}"), &w).await;
    assert_eq!(got.header("etag").as_deref(), Some(etag.as_str()));
    let r = app
        .patch(
            &format!("/v1/clients/{id}"),
            &w,
            Some(&etag),
            json!({"veteran_status": 1}),
        )
        .await;
    assert_eq!(
        r.status, 200,
        "the ETag held before the dry run still works: {}",
        r.body
    );
    let real = app.put(&vis, &w, json!({"visibility": "private"})).await;
    assert_eq!(real.status, 200, "{}", real.body);
    assert!(real.header("etag").is_some());

    let r = app
        .post(
            "/v1/clients",
            &w,
            json!({"identity_mode": "code_name", "first_name": "Sparrow"}),
        )
        .await;
    let code = r.ok(201)["client"]["id"].as_str().unwrap().to_string();
    let dry = app
        .post(
            &format!("/v1/clients/{code}/designate-sharing?dry_run=true"),
            &w,
            json!({"visibility": "closed", "first_name": "Sam", "last_name": "Dry"}),
        )
        .await;
    assert_eq!(dry.status, 200, "{}", dry.body);
    assert_eq!(dry.header("etag"), None);
    assert_eq!(dry.header("location"), None);
}

/// A stay datum has no URL of its own: its 201's `Location` is the stay it belongs to, and the
/// contract says exactly that (not "the created resource").
#[actix_web::test]
async fn a_stay_datums_location_is_its_stay_and_the_contract_says_so() {
    let api = serde_json::to_value(hearth::api::openapi()).unwrap();
    for kind in [
        "services",
        "assessments",
        "ce-events",
        "current-living-situations",
        "notes",
        "refusals",
    ] {
        let path = format!("/v1/enrollments/{{id}}/{kind}");
        let d = api["paths"][&path]["post"]["responses"]["201"]["headers"]["Location"]
            ["description"]
            .as_str()
            .unwrap_or_else(|| panic!("{path}: no Location"));
        assert!(
            d.contains("Not the created datum") && d.contains("/v1/enrollments/{id}"),
            "{path}: {d}"
        );
    }
    let app = spawn().await;
    let coc = app.coc(json!({})).await;
    let (agency, w) = member(&app, &coc, true, &[Role::CaseWorker]).await;
    let project = app.project(agency, 0).await;
    let r = app
        .post(
            "/v1/clients",
            &w,
            json!({"identity_mode": "identified", "first_name": "Ana", "last_name": "Rivera"}),
        )
        .await;
    let id = r.ok(201)["client"]["id"].as_str().unwrap().to_string();
    let r = app
        .post(
            &format!("/v1/clients/{id}/enrollments"),
            &w,
            json!({"project_id": project, "entry_date": days_ago(5), "relationship_to_hoh": 1}),
        )
        .await;
    let stay = r.ok(201)["enrollment"]["id"].as_str().unwrap().to_string();
    let notes = format!("/v1/enrollments/{stay}/notes");
    let r = app
        .post(
            &notes,
            &w,
            json!({"note_date": days_ago(1), "text": "called back"}),
        )
        .await;
    let datum = r.ok(201)["datum"]["id"].clone();
    assert!(datum.is_string(), "{}", r.body);
    let location = r.header("location").unwrap();
    assert_eq!(location, format!("/v1/enrollments/{stay}"));
    assert_eq!(app.get(&location, &w).await.ok(200)["id"], stay.as_str());
    let listed = app.get(&notes, &w).await;
    assert!(listed.ok(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|n| n["id"] == datum));
}

/// README's role table says what a system administrator may do: everything but data entry,
/// which needs a token for an agency (403). The table and the behaviour agree.
#[actix_web::test]
async fn a_system_admin_changes_records_but_enters_no_data() {
    let readme = include_str!("../../README.md");
    let row = readme
        .lines()
        .find(|l| l.starts_with("| `system_admin` |"))
        .expect("README role table row for system_admin");
    for words in [
        "needs a token for an agency",
        "creating a record",
        "contact details and documents",
        "recording an ROI",
        "enrolling",
        "adding data to a stay",
        "filing a de-identification request",
    ] {
        assert!(
            row.contains(words),
            "README system_admin row lacks {words:?}: {row}"
        );
    }
    let app = spawn().await;
    let coc = app.coc(json!({})).await;
    let (agency, w) = member(&app, &coc, true, &[Role::CaseWorker]).await;
    let project = app.project(agency, 0).await;
    let agency_needed = |r: &Reply, what: &str| {
        let p = r.problem(403);
        assert!(
            p["detail"]
                .as_str()
                .unwrap()
                .contains("needs a token for an agency"),
            "{what}: {p}"
        );
    };
    let ident = json!({"identity_mode": "identified", "first_name": "Ana", "last_name": "Rivera"});
    agency_needed(
        &admin_call(&app, "POST", "/v1/clients", ident.clone()).await,
        "create",
    );
    let r = app.post("/v1/clients", &w, ident).await;
    let id = r.ok(201)["client"]["id"].as_str().unwrap().to_string();
    let etag = r.header("etag").unwrap();
    let base = format!("/v1/clients/{id}");
    agency_needed(
        &admin_call(
            &app,
            "POST",
            &format!("{base}/contacts"),
            json!({"kind": "phone", "value": "312-555-0188"}),
        )
        .await,
        "contact",
    );
    agency_needed(
        &admin_call(&app, "POST", &format!("{base}/documents"), json!({"file_name": "n.txt", "content_type": "text/plain", "content_base64": "aGVsbG8="}),
        )
        .await,
        "document",
    );
    agency_needed(
        &admin_call(
            &app,
            "POST",
            &format!("{base}/consents"),
            json!({"method": "signed", "scope": {"type": "cocs", "coc_codes": [coc]}}),
        )
        .await,
        "consent",
    );
    let stay_body =
        json!({"project_id": project, "entry_date": days_ago(5), "relationship_to_hoh": 1});
    agency_needed(
        &admin_call(
            &app,
            "POST",
            &format!("{base}/enrollments"),
            stay_body.clone(),
        )
        .await,
        "enroll",
    );
    let r = app
        .post(&format!("{base}/enrollments"), &w, stay_body)
        .await;
    let stay = r.ok(201)["enrollment"]["id"].as_str().unwrap().to_string();
    agency_needed(
        &admin_call(
            &app,
            "POST",
            &format!("/v1/enrollments/{stay}/notes"),
            json!({"note_date": days_ago(1), "text": "called"}),
        )
        .await,
        "note",
    );
    agency_needed(
        &admin_call(
            &app,
            "POST",
            &format!("/v1/enrollments/{stay}/services"),
            json!({"date_provided": days_ago(1), "service_type": "meal"}),
        )
        .await,
        "service",
    );
    // What it may change: the record, its visibility, a stay's exit.
    let r = app
        .send(Call {
            method: "PATCH",
            path: &base,
            token: Some(&app.admin),
            body: Some(json!({"veteran_status": 1})),
            headers: vec![
                ("If-Match", etag),
                ("X-Access-Reason", "helpdesk ticket".into()),
            ],
        })
        .await;
    assert_eq!(r.status, 200, "patch: {}", r.body);
    let r = app
        .send(Call {
            method: "PUT",
            path: &format!("{base}/visibility"),
            token: Some(&app.admin),
            body: Some(json!({"visibility": "private"})),
            headers: vec![("X-Access-Reason", "helpdesk ticket".into())],
        })
        .await;
    assert_eq!(r.status, 200, "visibility: {}", r.body);
    let r = app
        .send(Call {
            method: "POST",
            path: &format!("/v1/enrollments/{stay}/exit"),
            token: Some(&app.admin),
            body: Some(json!({"exit_date": days_ago(1), "destination": 101})),
            headers: vec![("X-Access-Reason", "helpdesk ticket".into())],
        })
        .await;
    assert_eq!(r.status, 200, "exit: {}", r.body);
    let h = household(&app, json!({})).await;
    agency_needed(
        &admin_call(
            &app,
            "POST",
            "/v1/deidentification-requests",
            request_body(&h),
        )
        .await,
        "de-identification request",
    );
}

/// A system administrator's call, with the reason its reads of PII need.
async fn admin_call<S: Svc>(app: &TestApp<S>, method: &str, path: &str, body: Value) -> Reply {
    app.send(Call {
        method,
        path,
        token: Some(&app.admin),
        body: Some(body),
        headers: vec![("X-Access-Reason", "helpdesk ticket".into())],
    })
    .await
}
