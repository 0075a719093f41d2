//! Coordinated Entry: de-identified open records (record rule row 4), CoC-wide CE entry points,
//! refusals and observational assessments.

use hearth::consent::Role;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::harness::*;

fn days_ago(n: i64) -> String {
    (chrono::Utc::now().date_naive() - chrono::Duration::days(n)).to_string()
}

fn id_of(v: &Value, key: &str) -> Uuid {
    v[key]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{key}.id in {v}"))
        .parse()
        .unwrap()
}

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
