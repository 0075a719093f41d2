//! CoCs, agencies, projects; the conventions of api.md on them.

use hearth::consent::Role;
use serde_json::json;

use crate::harness::*;

#[actix_web::test]
async fn create_and_read_a_coc_with_its_default_policy() {
    let app = spawn().await;
    let code = random_coc_code();
    let r = app
        .post(
            "/v1/cocs",
            &app.admin,
            json!({"code": code, "name": "Chicago CoC"}),
        )
        .await;
    let body = r.ok(201);
    assert_eq!(body["policy"]["anonymous_name_format"], "uid_anonymous");
    assert_eq!(body["policy"]["anonymous_dob_rule"], "jan1_of_birth_year");
    assert_eq!(body["policy"]["anonymous_ssn_quality"], 99);
    assert_eq!(body["policy"]["roi_grant_mode"], "window");
    assert_eq!(
        body["policy"]["roi_default_term_months"],
        serde_json::Value::Null
    );
    assert_eq!(body["policy"]["observational_assessment_after_refusals"], 2);
    assert_eq!(body["policy"]["locked_visible_to_ce_assessors"], false);
    assert_eq!(r.header("location"), Some(format!("/v1/cocs/{code}")));
    assert!(r.header("etag").is_some());

    let r = app.get(&format!("/v1/cocs/{code}"), &app.admin).await;
    assert_eq!(r.ok(200)["name"], "Chicago CoC");
    let r = app
        .post(
            "/v1/cocs",
            &app.admin,
            json!({"code": code, "name": "Again"}),
        )
        .await;
    r.problem(409);
    app.get("/v1/cocs/ZZ-999x", &app.admin).await.problem(404);
}

#[actix_web::test]
async fn bad_coc_input_is_a_problem_naming_the_field() {
    let app = spawn().await;
    for (body, field) in [
        (json!({"code": "il-510", "name": "x"}), "code"),
        (json!({"code": "IL510", "name": "x"}), "code"),
        (json!({"code": "IL-510", "name": ""}), "name"),
        (json!({"code": 510, "name": "x"}), "code"),
        (json!({"name": "x"}), "code"),
        (
            json!({"code": "IL-510", "name": "x", "colour": "red"}),
            "colour",
        ),
        (
            json!({"code": "IL-510", "name": "x", "policy": {"roi_grant_mode": "sometimes"}}),
            "policy.roi_grant_mode",
        ),
        (
            json!({"code": "IL-510", "name": "x", "policy": {"anonymous_ssn_quality": 8}}),
            "policy.anonymous_ssn_quality",
        ),
    ] {
        let r = app.post("/v1/cocs", &app.admin, body.clone()).await;
        r.problem(422);
        assert_eq!(r.error_fields(), vec![field.to_string()], "{body}");
    }
    // A body that does not parse.
    let r = app
        .raw(
            actix_web::test::TestRequest::post()
                .uri("/v1/cocs")
                .insert_header(("Authorization", format!("Bearer {}", app.admin)))
                .insert_header(("Content-Type", "application/json"))
                .set_payload("{\"code\": ")
                .to_request(),
        )
        .await;
    r.problem(400);
    // Not JSON at all.
    let r = app
        .raw(
            actix_web::test::TestRequest::post()
                .uri("/v1/cocs")
                .insert_header(("Authorization", format!("Bearer {}", app.admin)))
                .insert_header(("Content-Type", "text/plain"))
                .set_payload("hello")
                .to_request(),
        )
        .await;
    r.problem(415);
    // Oversize.
    let big = "x".repeat(100 * 1024);
    let r = app
        .post(
            "/v1/cocs",
            &app.admin,
            json!({"code": "IL-510", "name": big}),
        )
        .await;
    r.problem(413);
}

#[actix_web::test]
async fn validation_messages_never_echo_the_value() {
    let app = spawn().await;
    let secret = "123-45-6789-SECRET";
    let r = app
        .post("/v1/cocs", &app.admin, json!({"code": secret, "name": "x"}))
        .await;
    r.problem(422);
    assert!(!String::from_utf8_lossy(&r.raw).contains(secret));
    let r = app
        .post(
            "/v1/cocs",
            &app.admin,
            json!({"code": "IL-510", "name": "x", "policy": {"roi_grant_mode": secret}}),
        )
        .await;
    r.problem(422);
    assert!(!String::from_utf8_lossy(&r.raw).contains(secret));
}

/// A policy patch is an object (`[]` is a 422), its fields are named as the body holds them (not
/// under `policy.`), and one that changes nothing (`{}`, or the values it holds) keeps the ETag.
#[actix_web::test]
async fn a_policy_patch_that_is_not_an_object_or_changes_nothing_writes_nothing() {
    let app = spawn().await;
    let code = app.coc(json!({})).await;
    let path = format!("/v1/cocs/{code}/policy");
    let read = app.get(&format!("/v1/cocs/{code}"), &app.admin).await;
    let etag = read.header("etag").unwrap();
    let policy = read.body["policy"].clone();
    for body in [json!([]), json!(["split"]), json!(7)] {
        let r = app
            .patch(&path, &app.admin, Some(&etag), body.clone())
            .await;
        assert_eq!(r.problem(422)["errors"][0]["field"], "", "{body}");
    }
    for (body, field) in [
        (json!({"inactivity_days": 0}), "inactivity_days"),
        (json!({"anonymous_ssn_quality": 8}), "anonymous_ssn_quality"),
        (
            json!({"roi_default_term_months": 1201}),
            "roi_default_term_months",
        ),
        (
            json!({"observational_assessment_after_refusals": 101}),
            "observational_assessment_after_refusals",
        ),
    ] {
        let r = app
            .patch(&path, &app.admin, Some(&etag), body.clone())
            .await;
        assert_eq!(r.problem(422)["errors"][0]["field"], field, "{body}");
    }
    for body in [json!({}), policy.clone()] {
        let r = app
            .patch(&path, &app.admin, Some(&etag), body.clone())
            .await;
        assert_eq!(r.ok(200)["policy"], policy, "{body}");
        assert_eq!(r.header("etag").as_deref(), Some(etag.as_str()), "{body}");
    }
    let again = app.get(&format!("/v1/cocs/{code}"), &app.admin).await;
    assert_eq!(again.header("etag").as_deref(), Some(etag.as_str()));
    app.patch(&path, &app.admin, Some("\"v999\""), json!({}))
        .await
        .problem(412);
    let r = app
        .patch(
            &path,
            &app.admin,
            Some(&etag),
            json!({"inactivity_days": 30}),
        )
        .await;
    r.ok(200);
    assert_ne!(r.header("etag").as_deref(), Some(etag.as_str()));
}

#[actix_web::test]
async fn policy_patch_needs_a_fresh_if_match_and_the_right_admin() {
    let app = spawn().await;
    let code = app.coc(json!({})).await;
    let lead = app.agency(&code, true).await;
    let other_coc = app.coc(json!({})).await;
    let other_lead = app.agency(&other_coc, true).await;
    let coc_admin = app.token("lead-1", &[Role::CocAdmin], Some(lead));
    let other_admin = app.token("lead-2", &[Role::CocAdmin], Some(other_lead));
    let worker = app.token("w-1", &[Role::CaseWorker], Some(lead));
    let path = format!("/v1/cocs/{code}/policy");
    let etag = app
        .get(&format!("/v1/cocs/{code}"), &coc_admin)
        .await
        .header("etag")
        .unwrap();

    app.patch(&path, &coc_admin, None, json!({"roi_grant_mode": "split"}))
        .await
        .problem(428);
    app.patch(
        &path,
        &coc_admin,
        Some("\"v999\""),
        json!({"roi_grant_mode": "split"}),
    )
    .await
    .problem(412);
    app.patch(
        &path,
        &worker,
        Some(&etag),
        json!({"roi_grant_mode": "split"}),
    )
    .await
    .problem(403);
    app.patch(
        &path,
        &other_admin,
        Some(&etag),
        json!({"roi_grant_mode": "split"}),
    )
    .await
    .problem(403);
    app.patch(
        &path,
        &coc_admin,
        Some(&etag),
        json!({"roi_grant_mode": "never"}),
    )
    .await
    .problem(422);

    let r = app
        .patch(&path, &coc_admin, Some(&etag), json!({"roi_grant_mode": "split", "roi_default_term_months": 12, "locked_visible_to_ce_assessors": true}))
        .await;
    let body = r.ok(200);
    assert_eq!(body["policy"]["roi_grant_mode"], "split");
    assert_eq!(body["policy"]["roi_default_term_months"], 12);
    assert_eq!(body["policy"]["locked_visible_to_ce_assessors"], true);
    let new_etag = r.header("etag").unwrap();
    assert_ne!(new_etag, etag);
    // The old ETag is now stale.
    app.patch(
        &path,
        &coc_admin,
        Some(&etag),
        json!({"roi_default_term_months": null}),
    )
    .await
    .problem(412);
    let r = app
        .patch(
            &path,
            &coc_admin,
            Some(&new_etag),
            json!({"roi_default_term_months": null}),
        )
        .await;
    assert_eq!(
        r.ok(200)["policy"]["roi_default_term_months"],
        serde_json::Value::Null
    );
    assert_eq!(r.body["policy"]["roi_grant_mode"], "split");
}

#[actix_web::test]
async fn agencies_and_projects() {
    let app = spawn().await;
    let coc = app.coc(json!({})).await;
    let agency = app.agency(&coc, false).await;
    let project = app.project(agency, 0).await;
    let worker = app.token("w", &[Role::CaseWorker], Some(agency));
    let r = app.get(&format!("/v1/projects/{project}"), &worker).await;
    assert_eq!(r.ok(200)["coc_code"], coc.as_str());
    assert_eq!(r.body["project_type"], 0);
    let r = app.get(&format!("/v1/agencies/{agency}"), &worker).await;
    assert_eq!(r.ok(200)["shares_data"], false);

    // Bad input.
    let r = app
        .post(
            "/v1/projects",
            &app.admin,
            json!({"agency_id": agency, "name": "x", "project_type": 5}),
        )
        .await;
    assert_eq!(r.problem(422)["errors"][0]["field"], "project_type");
    let r = app
        .post(
            "/v1/projects",
            &app.admin,
            json!({"agency_id": uuid::Uuid::new_v4(), "name": "x", "project_type": 1}),
        )
        .await;
    assert_eq!(r.problem(422)["errors"][0]["field"], "agency_id");
    let r = app
        .post(
            "/v1/agencies",
            &app.admin,
            json!({"coc_code": "QQ-000", "name": "x"}),
        )
        .await;
    assert_eq!(r.problem(422)["errors"][0]["field"], "coc_code");
    let r = app
        .post(
            "/v1/agencies",
            &app.admin,
            json!({"coc_code": coc, "name": "x", "shares_data": "yes"}),
        )
        .await;
    assert_eq!(r.problem(422)["errors"][0]["field"], "shares_data");

    // An agency of another CoC that does not share data is not listed for this worker.
    let other_coc = app.coc(json!({})).await;
    let hidden = app.agency(&other_coc, false).await;
    let shared = app.agency(&other_coc, true).await;
    app.get(&format!("/v1/agencies/{hidden}"), &worker)
        .await
        .problem(404);
    app.get(&format!("/v1/agencies/{shared}"), &worker)
        .await
        .ok(200);
}

#[actix_web::test]
async fn lists_paginate_with_cursors_in_a_stable_order() {
    let app = spawn().await;
    let coc = app.coc(json!({})).await;
    let mut created = Vec::new();
    for _ in 0..5 {
        created.push(app.agency(&coc, false).await);
    }
    let admin_agency = app.agency(&coc, false).await;
    created.push(admin_agency);
    let worker = app.token("w", &[Role::CaseWorker], Some(admin_agency));
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            None => "/v1/agencies?limit=2".to_string(),
            Some(c) => format!("/v1/agencies?limit=2&cursor={c}"),
        };
        let r = app.get(&path, &worker).await;
        let body = r.ok(200).clone();
        for item in body["items"].as_array().unwrap() {
            if item["coc_code"] == coc.as_str() {
                seen.push(item["id"].as_str().unwrap().parse::<uuid::Uuid>().unwrap());
            }
        }
        match body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(seen, created, "every agency once, in creation order");
}

/// A list's cursor names its list: another list's cursor (or one this service never issued) is
/// a 422 naming `cursor`, and a record's list (its audit trail) takes only that record's.
#[actix_web::test]
async fn a_cursor_is_read_only_by_the_list_that_issued_it() {
    let app = spawn().await;
    let coc = app.coc(json!({})).await;
    for _ in 0..2 {
        app.agency(&coc, false).await;
    }
    let agency = app.agency(&coc, true).await;
    app.project(agency, 1).await;
    let r = app.get("/v1/agencies?limit=1", &app.admin).await;
    let cursor = r.ok(200)["next_cursor"].as_str().unwrap().to_string();
    app.get(&format!("/v1/agencies?limit=1&cursor={cursor}"), &app.admin)
        .await
        .ok(200);
    let invalid = |r: Reply, what: &str| {
        let p = r.problem(422);
        assert_eq!(p["errors"][0]["field"], "cursor", "{what}: {p}");
        assert_eq!(p["errors"][0]["code"], "invalid_cursor", "{what}: {p}");
    };
    for list in [
        "/v1/projects",
        "/v1/cocs",
        "/v1/deidentification-requests",
        "/v1/helpdesk-notices",
    ] {
        let r = app
            .send(Call {
                method: "GET",
                path: &format!("{list}?cursor={cursor}"),
                token: Some(&app.admin),
                body: None,
                headers: vec![("X-Access-Reason", "cursor test".to_string())],
            })
            .await;
        invalid(r, list);
    }
    // Two records' audit trails: one's cursor is not the other's.
    let w = app.token("w", &[Role::AgencyAdmin], Some(agency));
    let mut clients = vec![];
    for name in ["Ada", "Bo"] {
        let r = app
            .post(
                "/v1/clients",
                &w,
                json!({"identity_mode": "identified", "first_name": name, "last_name": "Paged"}),
            )
            .await;
        let id = r.ok(201)["client"]["id"].as_str().unwrap().to_string();
        app.get(&format!("/v1/clients/{id}"), &w).await.ok(200);
        clients.push(id);
    }
    let r = app
        .get(&format!("/v1/clients/{}/audit?limit=1", clients[0]), &w)
        .await;
    let audit_cursor = r.ok(200)["next_cursor"].as_str().unwrap().to_string();
    app.get(
        &format!("/v1/clients/{}/audit?cursor={audit_cursor}", clients[0]),
        &w,
    )
    .await
    .ok(200);
    let r = app
        .get(
            &format!("/v1/clients/{}/audit?cursor={audit_cursor}", clients[1]),
            &w,
        )
        .await;
    invalid(r, "another record's audit");
}

#[actix_web::test]
async fn idempotency_key_replays_the_first_result() {
    let app = spawn().await;
    let code = random_coc_code();
    let body = json!({"code": code, "name": "Idem"});
    let call = |b: serde_json::Value, key: &str| Call {
        method: "POST",
        path: "/v1/cocs",
        token: Some(&app.admin),
        body: Some(b),
        headers: vec![("Idempotency-Key", key.to_string())],
    };
    let first = app.send(call(body.clone(), "key-1")).await;
    first.ok(201);
    let again = app.send(call(body.clone(), "key-1")).await;
    assert_eq!(again.status, 201);
    assert_eq!(again.body, first.body);
    assert_eq!(again.header("idempotent-replayed").as_deref(), Some("true"));
    assert_eq!(again.header("etag"), first.header("etag"));
    // The same key for another request is refused.
    let other = app
        .send(call(
            json!({"code": random_coc_code(), "name": "Other"}),
            "key-1",
        ))
        .await;
    other.problem(422);
    // Without a key, a second create is a conflict.
    app.post("/v1/cocs", &app.admin, body).await.problem(409);
    let bad = app
        .send(call(json!({"code": random_coc_code(), "name": "x"}), ""))
        .await;
    assert!(bad.status.is_client_error());
}

/// Two concurrent replays of one key create once: the key is taken in the creating transaction.
#[actix_web::test]
async fn concurrent_replays_create_once() {
    let pool = committing_pool(4);
    let app = spawn_with(pool.clone()).await;
    let code = random_coc_code();
    let key = format!("race-{}", uuid::Uuid::new_v4());
    let body = json!({"code": code, "name": "Race"});
    let call = || Call {
        method: "POST",
        path: "/v1/cocs",
        token: Some(&app.admin),
        body: Some(body.clone()),
        headers: vec![("Idempotency-Key", key.clone())],
    };
    let (a, b) = futures_util::future::join(app.send(call()), app.send(call())).await;
    assert_eq!(
        (a.status.as_u16(), b.status.as_u16()),
        (201, 201),
        "{} / {}",
        a.body,
        b.body
    );
    assert_eq!(a.body, b.body);
    // Clean up what this test committed.
    use diesel::RunQueryDsl;
    let mut conn = pool.get().unwrap();
    diesel::sql_query("DELETE FROM idempotency_keys WHERE key = $1")
        .bind::<diesel::sql_types::Text, _>(&key)
        .execute(&mut conn)
        .unwrap();
    diesel::sql_query("DELETE FROM cocs WHERE code = $1")
        .bind::<diesel::sql_types::Text, _>(&code)
        .execute(&mut conn)
        .unwrap();
}
