//! Duplicate search (issue 13): candidates narrowed by the DOB and its plausible variants and by
//! phonetic name keys, ranked by similarity; `truncated` when a name is too common to narrow;
//! bad input is a 4xx naming the field.

use diesel::prelude::*;
use diesel::sql_types::{Text, Uuid as SqlUuid};
use hearth::consent::Role;
use serde_json::{json, Value};

use crate::clients::{member, today, Svc};
use crate::harness::*;

const SEARCH: &str = "/v1/clients/search";

async fn create<S: Svc>(
    app: &TestApp<S>,
    token: &str,
    first: &str,
    last: &str,
    dob: &str,
) -> String {
    let body = json!({"identity_mode": "identified", "first_name": first, "last_name": last,
                      "dob": dob, "veteran_status": 0});
    let r = app.post("/v1/clients", token, body).await;
    r.ok(201)["client"]["id"].as_str().unwrap().to_string()
}

/// The hits of a search, as (id, score, matched_on), asserting a 200 with `truncated` false.
async fn hits<S: Svc>(
    app: &TestApp<S>,
    token: &str,
    criteria: Value,
) -> Vec<(String, f64, Vec<String>)> {
    let r = app.post(SEARCH, token, criteria.clone()).await;
    let body = r.ok(200);
    assert_eq!(body["truncated"], false, "{criteria}: {body}");
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            let on = h["matched_on"].as_array().unwrap();
            (
                h["client"]["id"].as_str().unwrap().to_string(),
                h["score"].as_f64().unwrap(),
                on.iter().map(|s| s.as_str().unwrap().to_string()).collect(),
            )
        })
        .collect()
}

fn rank_of(hits: &[(String, f64, Vec<String>)], id: &str) -> Option<usize> {
    hits.iter().position(|h| h.0 == id)
}

#[actix_web::test]
async fn a_typo_or_a_plausible_dob_error_still_finds_the_record() {
    let app = spawn().await;
    let coc = app.coc(json!({})).await;
    let (_, w) = member(&app, &coc, true, &[Role::CaseWorker]).await;
    let id = create(&app, &w, "Margarethe", "Vandersloot", "1975-03-08").await;
    let namesake = create(&app, &w, "Margarethe", "Vandersloot", "1990-10-10").await;
    let same_day = create(&app, &w, "Xavier", "Quincy", "1975-03-08").await;
    let name = |first: &str, last: &str, dob: &str| json!({"first_name": first, "last_name": last, "dob": dob});
    // The exact DOB and name: first, with the DOB among what matched; the namesake after it.
    let exact = hits(&app, &w, name("Margarethe", "Vandersloot", "1975-03-08")).await;
    assert_eq!(rank_of(&exact, &id), Some(0), "{exact:?}");
    assert_eq!(exact[0].2, vec!["name", "dob"]);
    assert!(exact[0].1 > 0.99, "{exact:?}");
    assert_eq!(
        rank_of(&exact, &same_day),
        None,
        "a shared DOB alone is no match"
    );
    // Without a DOB, both namesakes.
    let by_name = hits(
        &app,
        &w,
        json!({"first_name": "Margarethe", "last_name": "Vandersloot"}),
    )
    .await;
    assert!(rank_of(&by_name, &id).is_some() && rank_of(&by_name, &namesake).is_some());
    assert_eq!(by_name[0].2, vec!["name"]);
    // Each error kind the intake desk makes, one at a time.
    for (criteria, what) in [
        (
            name("Margarethe", "Vandresloot", "1975-03-08"),
            "last name transposed",
        ),
        (
            name("Margarete", "Vandersloot", "1975-03-08"),
            "first name letter dropped",
        ),
        (
            name("Margarethe", "Wandersloot", "1975-03-08"),
            "first letter of the last name wrong",
        ),
        (
            name("Margarethe", "Vandersloot", "1975-08-03"),
            "day and month swapped",
        ),
        (
            name("Margarethe", "Vandersloot", "1976-03-08"),
            "year off by one",
        ),
        (
            name("Margarethe", "Vandersloot", "1975-01-01"),
            "January 1 of the birth year",
        ),
        (
            name("Margarethe", "Vandersloot", "1976-01-01"),
            "January 1 of the next year",
        ),
        (
            name("Margaretha", "Vandersloot", "1974-03-08"),
            "a typo and a year off",
        ),
        (
            json!({"first_name": "Margarethe", "last_name": "Vandersloat"}),
            "no DOB, a typo",
        ),
        (
            json!({"last_name": "Vandersloot", "dob": "1975-03-08"}),
            "last name and DOB",
        ),
        (
            json!({"first_name": "Margarethe", "dob": "1975-03-08"}),
            "first name and DOB",
        ),
        (json!({"last_name": "Vandersloot"}), "last name alone"),
    ] {
        let found = hits(&app, &w, criteria.clone()).await;
        let at = rank_of(&found, &id).unwrap_or_else(|| panic!("{what}: {found:?}"));
        let (_, score, on) = &found[at];
        assert!(*score > 0.0 && *score <= 1.0, "{what}: {score}");
        if what != "last name and DOB" && what != "first name and DOB" {
            assert!(*score < exact[0].1, "{what}: {score}");
        }
        assert!(on.contains(&"name".to_string()), "{what}: {on:?}");
        assert_eq!(
            on.contains(&"dob".to_string()),
            criteria["dob"] == "1975-03-08",
            "{what}: {on:?}"
        );
    }
    // A variant ranks below the exact DOB: the namesake with the swapped DOB's record wins.
    let swapped = create(&app, &w, "Margarethe", "Vandersloot", "1975-08-03").await;
    let found = hits(&app, &w, name("Margarethe", "Vandersloot", "1975-08-03")).await;
    assert_eq!(rank_of(&found, &swapped), Some(0));
    assert_eq!(rank_of(&found, &id), Some(1), "{found:?}");
    // Another agency that may not see the records finds none of them.
    let (_, stranger) = member(&app, &coc, true, &[Role::CaseWorker]).await;
    assert!(hits(
        &app,
        &stranger,
        name("Margarethe", "Vandersloot", "1975-03-08")
    )
    .await
    .is_empty());
}

#[actix_web::test]
async fn a_name_too_common_to_narrow_answers_truncated() {
    let pool = test_pool();
    let app = spawn_with(pool.clone()).await;
    let coc = app.coc(json!({})).await;
    let (agency, w) = member(&app, &coc, true, &[Role::CaseWorker]).await;
    let id = create(&app, &w, "Ottoline", "Brackenridge", "1961-05-20").await;
    {
        // 1,001 more Brackenridges (the cap of candidates per kind is 1,000), in one statement.
        let mut conn = pool.get().unwrap();
        diesel::sql_query(
            "INSERT INTO clients (id, short_uid, person_id, coc_code, created_by_agency, created_by_user, \
               identity_mode, visibility, first_name, last_name, name_quality, ssn_quality, dob, dob_quality) \
             SELECT gen_random_uuid(), upper(substr(md5(random()::text), 1, 12)), gen_random_uuid(), $1, $2, \
               'loader', 'identified', 'closed', 'Ann', 'Brackenridge', 1, 99, DATE '1950-01-01' + i * 7, 1 \
             FROM generate_series(1, 1001) i",
        )
        .bind::<Text, _>(&coc)
        .bind::<SqlUuid, _>(agency)
        .execute(&mut conn)
        .unwrap();
    }
    let r = app
        .post(SEARCH, &w, json!({"last_name": "Brackenridge"}))
        .await;
    let body = r.ok(200);
    assert_eq!(body["truncated"], true, "{body}");
    assert_eq!(body["items"].as_array().unwrap().len(), 20);
    // With the DOB (or the first name) it narrows again, and the record comes first.
    for criteria in [
        json!({"last_name": "Brackenridge", "dob": "1961-05-20"}),
        json!({"first_name": "Ottoline", "last_name": "Brackenridge"}),
    ] {
        let found = hits(&app, &w, criteria.clone()).await;
        assert_eq!(rank_of(&found, &id), Some(0), "{criteria}: {found:?}");
    }
}

#[actix_web::test]
async fn bad_search_input_is_a_4xx_naming_the_field_without_echoing_it() {
    let app = spawn().await;
    let coc = app.coc(json!({})).await;
    let (_, w) = member(&app, &coc, true, &[Role::CaseWorker]).await;
    let tomorrow = (today() + chrono::Duration::days(1)).to_string();
    let long_uid = "U".repeat(33);
    for (criteria, field, secret) in [
        (
            json!({"first_name": "J", "last_name": "Smith"}),
            "first_name",
            "J",
        ),
        (json!({"last_name": "Q."}), "last_name", "Q."),
        (json!({"first_name": "Ann\u{0}e"}), "first_name", "Ann"),
        (
            json!({"last_name": "Smith", "dob": tomorrow}),
            "dob",
            tomorrow.as_str(),
        ),
        (
            json!({"last_name": "Smith", "dob": "1850-02-03"}),
            "dob",
            "1850-02-03",
        ),
        (json!({"ssn": "98765"}), "ssn", "98765"),
        (json!({"ssn": "5247199321"}), "ssn", "5247199321"),
        (json!({"dob": "1975-03-08"}), "dob", "1975-03-08"),
        (json!({}), "client_id", "\u{1}"),
        (json!({"last_name": "Smith", "limit": 0}), "limit", "\u{1}"),
        (json!({"last_name": "Smith", "limit": 51}), "limit", "\u{1}"),
        (
            json!({"short_uid": long_uid}),
            "short_uid",
            long_uid.as_str(),
        ),
    ] {
        let r = app.post(SEARCH, &w, criteria.clone()).await;
        r.problem(422);
        assert!(
            r.error_fields().contains(&field.to_string()),
            "{criteria}: {}",
            r.body
        );
        if secret.len() > 1 {
            assert!(
                !r.body.to_string().contains(secret),
                "{criteria} echoed: {}",
                r.body
            );
        }
    }
    // Not a number in range at all: still a 4xx.
    let r = app
        .post(SEARCH, &w, json!({"last_name": "Smith", "limit": -1}))
        .await;
    assert!(r.status.is_client_error(), "{}", r.body);
}

/// Tester's finding: 2,000 closed "Hollowell" records of a non-sharing agency crowded out the
/// three open ones the caller created (items [], truncated true), and `truncated` told how many
/// hidden records share the name. The consent filter now comes before the cap.
#[actix_web::test]
async fn hidden_records_neither_crowd_out_visible_ones_nor_set_truncated() {
    let pool = test_pool();
    let app = spawn_with(pool.clone()).await;
    let coc = app.coc(json!({})).await;
    let (_, m1) = member(&app, &coc, true, &[Role::CaseWorker]).await;
    let (m3, _) = member(&app, &coc, false, &[Role::CaseWorker]).await;
    let mut mine = Vec::new();
    for (first, last) in [
        ("Visibella", "Hollowell"),
        ("Laterina", "Hollowell"),
        ("Zyxwvuts", "Hollowel"),
    ] {
        let body = json!({"identity_mode": "identified", "first_name": first, "last_name": last,
                          "roi": {"method": "signed"}});
        let r = app.post("/v1/clients", &m1, body).await;
        mine.push(r.ok(201)["client"]["id"].as_str().unwrap().to_string());
    }
    let search = json!({"last_name": "Hollowell", "limit": 50});
    let before = hits(&app, &m1, search.clone()).await;
    for hidden in [400, 1600] {
        let mut conn = pool.get().unwrap();
        diesel::sql_query(
            "INSERT INTO clients (id, short_uid, person_id, coc_code, created_by_agency, created_by_user, \
               identity_mode, visibility, first_name, last_name, name_quality, ssn_quality, dob, dob_quality) \
             SELECT gen_random_uuid(), upper(substr(md5(random()::text), 1, 12)), gen_random_uuid(), $1, $2, \
               'loader', 'identified', 'closed', 'Hidden', 'Hollowell', 1, 99, DATE '1950-01-01' + i * 7, 1 \
             FROM generate_series(1, $3) i",
        )
        .bind::<Text, _>(&coc)
        .bind::<SqlUuid, _>(m3)
        .bind::<diesel::sql_types::Integer, _>(hidden)
        .execute(&mut conn)
        .unwrap();
        drop(conn);
        // `hits` asserts truncated false; the answer is the one without hidden records.
        let found = hits(&app, &m1, search.clone()).await;
        assert_eq!(found, before, "{hidden} hidden");
        for id in &mine {
            assert!(rank_of(&found, id).is_some(), "{hidden} hidden: {found:?}");
        }
    }
}

/// Tester's findings: swapped first and last names found nothing, even with the exact DOB; a
/// DOB removed an exact-name match whose DOB differed or was not collected; Bill, Liz and Bob
/// did not find William, Elizabeth and Robert. A DOB now scores, never filters.
#[actix_web::test]
async fn swapped_names_nicknames_and_a_differing_dob_still_find_the_record() {
    let app = spawn().await;
    let coc = app.coc(json!({})).await;
    let (_, w) = member(&app, &coc, true, &[Role::CaseWorker]).await;
    let winifred = create(&app, &w, "Winifred", "Blackstock", "1975-03-14").await;
    let r = app
        .post(
            "/v1/clients",
            &w,
            json!({"identity_mode": "identified", "first_name": "Ignatius",
                   "last_name": "Pennywhistle", "veteran_status": 0}),
        )
        .await;
    let ignatius = r.ok(201)["client"]["id"].as_str().unwrap().to_string();
    let cornelius = create(&app, &w, "Cornelius", "Quillfeather", "1950-06-06").await;
    let score_of = |found: &[(String, f64, Vec<String>)], id: &str| {
        found.iter().find(|h| h.0 == id).map(|h| h.1)
    };
    // Swapped, with and without the DOB.
    for criteria in [
        json!({"first_name": "Blackstock", "last_name": "Winifred", "dob": "1975-03-14"}),
        json!({"first_name": "Blackstock", "last_name": "Winifred"}),
    ] {
        let found = hits(&app, &w, criteria.clone()).await;
        assert!(
            rank_of(&found, &winifred).is_some(),
            "{criteria}: {found:?}"
        );
    }
    // No DOB recorded: a DOB neither finds nor drops it.
    let alone = hits(
        &app,
        &w,
        json!({"first_name": "Ignatius", "last_name": "Pennywhistle"}),
    )
    .await;
    let with_dob = hits(
        &app,
        &w,
        json!({"first_name": "Ignatius", "last_name": "Pennywhistle", "dob": "1990-01-01"}),
    )
    .await;
    assert_eq!(score_of(&alone, &ignatius), Some(0.75), "{alone:?}");
    assert_eq!(score_of(&with_dob, &ignatius), Some(0.75), "{with_dob:?}");
    // A DOB far from the record's lowers the score; the same DOB raises it.
    let name = |dob: Option<&str>| {
        let mut c = json!({"first_name": "Cornelius", "last_name": "Quillfeather"});
        if let Some(d) = dob {
            c["dob"] = json!(d);
        }
        c
    };
    let none = score_of(&hits(&app, &w, name(None)).await, &cornelius).unwrap();
    let far = score_of(&hits(&app, &w, name(Some("1990-02-02"))).await, &cornelius).unwrap();
    let same = score_of(&hits(&app, &w, name(Some("1950-06-06"))).await, &cornelius).unwrap();
    assert!(far < none && none < same, "{far} {none} {same}");
    // Nicknames, both ways, without a DOB.
    for (stored, searched) in [
        ("William", "Bill"),
        ("Elizabeth", "Liz"),
        ("Robert", "Bob"),
        ("Bill", "William"),
    ] {
        let id = create(&app, &w, stored, "Fairweatherly", "1966-07-08").await;
        let found = hits(
            &app,
            &w,
            json!({"first_name": searched, "last_name": "Fairweatherly"}),
        )
        .await;
        assert!(
            rank_of(&found, &id).is_some(),
            "{searched} -> {stored}: {found:?}"
        );
    }
}

/// Tester's finding: after a merge, a search by the tombstone's client id or short UID answered
/// [] though GET on it works and names the survivor. It answers the survivor now, to whoever may
/// see the survivor.
#[actix_web::test]
async fn a_search_by_a_merged_records_id_or_uid_answers_the_survivor() {
    let app = spawn().await;
    let coc = app.coc(json!({})).await;
    let (agency, w) = member(&app, &coc, true, &[Role::CaseWorker]).await;
    let (_, stranger) = member(&app, &coc, true, &[Role::CaseWorker]).await;
    let admin = app.token(&format!("aa-{agency}"), &[Role::AgencyAdmin], Some(agency));
    let survivor = create(&app, &w, "Odalys", "Merriweather", "1971-01-02").await;
    let duplicate = create(&app, &w, "Odalis", "Merriweather", "1971-01-02").await;
    let uid = app.get(&format!("/v1/clients/{duplicate}"), &w).await.body["short_uid"].clone();
    app.post(
        &format!("/v1/clients/{survivor}/merge"),
        &admin,
        json!({"duplicate_id": duplicate, "confirm_same_person": true}),
    )
    .await
    .ok(200);
    for criteria in [json!({"client_id": duplicate}), json!({"short_uid": uid})] {
        let found = hits(&app, &w, criteria.clone()).await;
        assert_eq!(found.len(), 1, "{criteria}: {found:?}");
        assert_eq!(found[0].0, survivor, "{criteria}");
        // Through the name path too (a name with the key).
        let mut with_name = criteria.clone();
        with_name["last_name"] = json!("Zzyzxqwv");
        let found = hits(&app, &w, with_name).await;
        assert_eq!(rank_of(&found, &survivor), Some(0), "{criteria}");
        // Not to a caller who may not see the survivor (closed, no ROI).
        assert!(hits(&app, &stranger, criteria.clone()).await.is_empty());
    }
}

/// Tester's finding: a split's "DO NOT USE" record answered its `superseded_by` on GET to the
/// agency that split it (and admins) but not in a search hit. A hit carries it under the same
/// rule (consent.md, Grant ROI: seen only by the agency that split it and admins).
#[actix_web::test]
async fn a_search_hit_of_a_split_record_names_its_new_record_as_get_does() {
    let app = spawn().await;
    let coc = app.coc(json!({"roi_grant_mode": "split"})).await;
    let (_, w) = member(&app, &coc, true, &[Role::CaseWorker]).await;
    let (_, other) = member(&app, &coc, true, &[Role::CaseWorker]).await;
    let old = create(&app, &w, "Perpetua", "Vandersloot", "1966-03-04").await;
    let r = app
        .post(
            &format!("/v1/clients/{old}/consents"),
            &w,
            json!({"method": "signed"}),
        )
        .await;
    let new = r.ok(201)["client"]["id"].as_str().unwrap().to_string();
    let r = app.get(&format!("/v1/clients/{old}"), &w).await;
    assert_eq!(r.ok(200)["superseded_by"], json!(new));
    let hit_of = |body: &Value, id: &str| {
        body["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["client"]["id"] == json!(id))
            .map(|h| h["client"].clone())
    };
    for criteria in [
        json!({"client_id": old}),
        json!({"first_name": "Perpetua", "last_name": "Vandersloot", "dob": "1966-03-04"}),
    ] {
        let r = app.post(SEARCH, &w, criteria.clone()).await;
        let hit = hit_of(r.ok(200), &old).unwrap_or_else(|| panic!("{criteria}: {}", r.body));
        assert_eq!(hit["superseded_by"], json!(new), "{criteria}: {hit}");
        assert_eq!(hit["lifecycle"], "superseded");
        // A system administrator too.
        let r = crate::clients::send(
            &app,
            "POST",
            SEARCH,
            &app.admin,
            Some(criteria.clone()),
            ("X-Access-Reason", "duplicate review ticket 9"),
        )
        .await;
        let hit = hit_of(r.ok(200), &old).unwrap_or_else(|| panic!("{criteria}: {}", r.body));
        assert_eq!(hit["superseded_by"], json!(new), "admin {criteria}: {hit}");
    }
    // Another agency does not see the old (closed) record at all.
    let r = app.post(SEARCH, &other, json!({"client_id": old})).await;
    assert!(hit_of(r.ok(200), &old).is_none());
}
