//! The active homeless count: every record whatever its visibility, people once by person id,
//! by-name list statuses, counts only.

use diesel::prelude::*;
use hearth::consent::Role;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::fixtures::*;
use crate::harness::*;

fn count(v: &Value, key: &str, value: &str) -> i64 {
    v[key]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["value"] == value)
        .map(|g| g["people"].as_i64().unwrap())
        .unwrap_or(0)
}

#[actix_web::test]
async fn the_active_homeless_count_counts_people_once_and_every_record() {
    let pool = test_pool();
    let app = spawn_with(pool.clone()).await;
    let coc = app.coc(json!({})).await;
    let agency = app.agency(&coc, false).await;
    let shelter = app.project(agency, 0).await;
    let ce = app.project(agency, 14).await;
    let w = app.token("w", &[Role::CaseWorker], Some(agency));
    let mut made = vec![];
    let stay = |project: Uuid, days: i64| json!({"project_id": project, "entry_date": days_ago(days), "relationship_to_hoh": 1});
    for (body, project, days) in [
        (
            json!({"identity_mode": "identified", "first_name": "Cora", "last_name": "Closed"}),
            shelter,
            10,
        ),
        (
            json!({"identity_mode": "anonymous", "visibility": "open", "birth_year": 1960}),
            shelter,
            10,
        ),
        (
            json!({"identity_mode": "code_name", "first_name": "Shorty"}),
            ce,
            5,
        ),
        (
            json!({"identity_mode": "consent_refused", "visibility": "private"}),
            shelter,
            3,
        ),
        (
            json!({"identity_mode": "identified", "first_name": "Sam", "last_name": "Split"}),
            shelter,
            20,
        ),
        (
            json!({"identity_mode": "identified", "first_name": "Sam", "last_name": "Split"}),
            ce,
            15,
        ),
        (
            json!({"identity_mode": "identified", "first_name": "Ina", "last_name": "Inactive"}),
            shelter,
            200,
        ),
    ] {
        let r = app.post("/v1/clients", &w, body).await;
        let id = r.ok(201)["client"]["id"].as_str().unwrap().to_string();
        let r = app
            .post(
                &format!("/v1/clients/{id}/enrollments"),
                &w,
                stay(project, days),
            )
            .await;
        made.push((
            id,
            r.ok(201)["enrollment"]["id"].as_str().unwrap().to_string(),
        ));
    }
    // One person split into two records (the fifth and sixth) counts once.
    {
        let mut conn = pool.get().unwrap();
        diesel::sql_query(
            "UPDATE clients SET person_id = (SELECT person_id FROM clients WHERE id = $1) WHERE id = $2",
        )
        .bind::<diesel::sql_types::Uuid, _>(made[4].0.parse::<Uuid>().unwrap())
        .bind::<diesel::sql_types::Uuid, _>(made[5].0.parse::<Uuid>().unwrap())
        .execute(&mut conn)
        .unwrap();
    }
    // Housed: exited to rental (410) last week. Returned: housed, then back in shelter.
    let exit = |days: i64| json!({"exit_date": days_ago(days), "destination": 410});
    for (n, back) in [("Hal", false), ("Ray", true)] {
        let r = app
            .post(
                "/v1/clients",
                &w,
                json!({"identity_mode": "identified", "first_name": n, "last_name": "Housed"}),
            )
            .await;
        let id = r.ok(201)["client"]["id"].as_str().unwrap().to_string();
        let r = app
            .post(
                &format!("/v1/clients/{id}/enrollments"),
                &w,
                stay(shelter, 90),
            )
            .await;
        let s = r.ok(201)["enrollment"]["id"].as_str().unwrap().to_string();
        app.post(&format!("/v1/enrollments/{s}/exit"), &w, exit(60))
            .await
            .ok(200);
        if back {
            app.post(
                &format!("/v1/clients/{id}/enrollments"),
                &w,
                stay(shelter, 2),
            )
            .await
            .ok(201);
        }
    }

    let admin = app.token("a", &[Role::CocAdmin], Some(agency));
    let path = format!("/v1/cocs/{coc}/reports/active-homeless");
    let r = app.get(&path, &admin).await;
    let report = r.ok(200).clone();
    // Seven records with active stays, one person twice: six people; plus the returned client.
    assert_eq!(report["people"], 7, "{report}");
    assert_eq!(count(&report, "by_visibility", "closed"), 4, "{report}");
    assert_eq!(count(&report, "by_visibility", "locked"), 1);
    assert_eq!(count(&report, "by_visibility", "private"), 1);
    assert_eq!(count(&report, "by_visibility", "open"), 1);
    assert_eq!(count(&report, "by_identity_mode", "anonymous"), 1);
    assert_eq!(count(&report, "by_identity_mode", "code_name"), 1);
    let bnl = &report["by_name_list"];
    assert_eq!(bnl["inactive"], 1, "{report}");
    assert_eq!(bnl["active"], 6);
    assert_eq!(bnl["housed"], 1);
    assert_eq!(bnl["returned_from_housing"], 1);
    assert_eq!(bnl["newly_identified"], 5);
    assert_eq!(report["inactivity_days"], 90);
    let text = report.to_string();
    for (id, _) in &made {
        assert!(!text.contains(id.as_str()), "a client id in {text}");
    }
    for name in ["Cora", "Shorty", "Sam", "Split"] {
        assert!(!text.contains(name));
    }
    // Before any stay: nobody.
    let r = app
        .get(&format!("{path}?as_of={}", days_ago(400)), &admin)
        .await;
    assert_eq!(r.ok(200)["people"], 0);

    // Bad input and the wrong readers.
    let future = days_ago(-2);
    // Dates are YYYY-MM-DD with a four-digit year (chrono alone reads the others).
    for bad in [
        future.as_str(),
        "soon",
        "2026-02-30",
        "-2026-01-01",
        "%2B2026-01-01",
        "2026-1-1",
        "0000-01-01",
    ] {
        let r = app.get(&format!("{path}?as_of={bad}"), &admin).await;
        assert_eq!(r.problem(422)["errors"][0]["field"], "as_of", "{bad}");
    }
    app.get("/v1/cocs/ZZ-998/reports/active-homeless", &admin)
        .await
        .problem(404);
    app.get("/v1/cocs/zz998/reports/active-homeless", &admin)
        .await
        .problem(400);
    let plr = app.token("p", &[Role::PriorityListReader], Some(agency));
    app.get(&path, &plr).await.problem(403);
    app.get(&path, &w).await.problem(403);
    let other = app.coc(json!({})).await;
    let other_agency = app.agency(&other, false).await;
    let far_admin = app.token("a", &[Role::CocAdmin], Some(other_agency));
    app.get(&path, &far_admin).await.problem(403);
}
