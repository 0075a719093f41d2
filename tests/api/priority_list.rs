//! The Coordinated Entry priority list: order, access per row, keyset cursors, the CoC view,
//! incremental pulls (time alone included), revocations racing pulls, and bad input.

use diesel::prelude::*;
use hearth::api::priority_list::sign_cursor;
use hearth::consent::Role;
use hearth::service::priority_list::PageState;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::ce::ce_agency;
use crate::fixtures::*;
use crate::harness::*;

fn ids(v: &Value, key: &str) -> Vec<String> {
    v[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["client_id"].as_str().unwrap().to_string())
        .collect()
}

macro_rules! world {
    ($app:ident, $coc:ident, $lead:ident, $outreach:ident, $ce:ident, $w:ident) => {
        let $coc = $app.coc(json!({})).await;
        let $lead = ce_agency(&$app, &$coc, true).await;
        let $outreach = ce_agency(&$app, &$coc, true).await;
        let $ce = $app.project($lead, 14).await;
        let $w = $app.token("w", &[Role::CaseWorker], Some($outreach));
    };
}

/// Creates a client as `token` and enrolls it into `ce` `days` ago, with an assessment of
/// `score` when given; answers (client id, CE stay id).
async fn on_list<S, B>(
    app: &TestApp<S>,
    token: &str,
    body: Value,
    ce: Uuid,
    days: i64,
    score: Option<f64>,
) -> (String, String)
where
    S: actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse<B>,
        Error = actix_web::Error,
    >,
    B: actix_web::body::MessageBody,
{
    let r = app.post("/v1/clients", token, body).await;
    let client = r.ok(201)["client"]["id"].as_str().unwrap().to_string();
    let r = app
        .post(
            &format!("/v1/clients/{client}/enrollments"),
            token,
            json!({"project_id": ce, "entry_date": days_ago(days), "relationship_to_hoh": 1,
                   "times_homeless_past_three_years": 4, "months_homeless_past_three_years": 113}),
        )
        .await;
    let stay = r.ok(201)["enrollment"]["id"].as_str().unwrap().to_string();
    if let Some(score) = score {
        app.post(
            &format!("/v1/enrollments/{stay}/assessments"),
            token,
            json!({"assessment_date": days_ago(0), "assessment_type": 3, "assessment_level": 2,
                   "prioritization_status": 1, "priority_score": score}),
        )
        .await
        .ok(201);
    }
    (client, stay)
}

fn identified_open(name: &str) -> Value {
    json!({"identity_mode": "identified", "first_name": name, "last_name": "Listed",
           "roi": {"method": "signed", "effective_from": days_ago(30)}})
}

#[actix_web::test]
async fn the_list_ranks_by_score_then_wait_and_pages_with_signed_cursors() {
    let app = spawn().await;
    world!(app, coc, lead, outreach, ce, w);
    let (a, _) = on_list(&app, &w, identified_open("Ada"), ce, 3, Some(30.0)).await;
    let anon = json!({"identity_mode": "anonymous", "visibility": "open", "birth_year": 1970});
    let (b, _) = on_list(&app, &w, anon, ce, 2, Some(50.0)).await;
    let refused = json!({"identity_mode": "consent_refused"});
    let (c, _) = on_list(&app, &w, refused.clone(), ce, 10, None).await;
    let (d, _) = on_list(&app, &w, refused, ce, 5, None).await;
    let closed = json!({"identity_mode": "identified", "first_name": "Cy", "last_name": "Closed"});
    let (e, _) = on_list(&app, &w, closed, ce, 4, Some(90.0)).await;
    let code = json!({"identity_mode": "code_name", "first_name": "Shorty"});
    let (g, _) = on_list(&app, &w, code, ce, 1, None).await;
    // Exited: off the list.
    let (_, stay) = on_list(&app, &w, identified_open("Flo"), ce, 6, Some(99.0)).await;
    app.post(
        &format!("/v1/enrollments/{stay}/exit"),
        &w,
        json!({"exit_date": days_ago(0), "destination": 101}),
    )
    .await
    .ok(200);

    let path = format!("/v1/cocs/{coc}/priority-list");
    // An integration partner: an agency of the CoC that does not take part in sharing.
    let partner = app.agency(&coc, false).await;
    let plr = app.token("p", &[Role::PriorityListReader], Some(partner));
    let r = app.get(&path, &plr).await;
    let body = r.ok(200).clone();
    assert_eq!(
        ids(&body, "items"),
        vec![b.clone(), a.clone(), c.clone(), d.clone()]
    );
    let first = &body["items"][0];
    assert_eq!(first["access"]["basis"], "priority_list");
    assert_eq!(first["priority_score"], 50.0);
    assert_eq!(first["chronic_status"], "yes");
    assert_eq!(first["household_size"], 1);
    assert!(first.get("first_name").is_none());
    assert!(!body.to_string().contains("Ada"), "{body}");
    assert_eq!(body["items"][2]["priority_score"], Value::Null);
    // The sharing agency that created them sees names at full.
    let r = app.get(&path, &w).await;
    let row = &r.ok(200)["items"][1];
    assert_eq!(row["first_name"], "Ada");
    assert_eq!(row["access"]["level"], "full");

    // Pages of one, under signed cursors, give the same order and one as_of.
    let mut seen = vec![];
    let mut url = format!("{path}?limit=1");
    let mut as_of = None;
    loop {
        let r = app.get(&url, &plr).await;
        let page = r.ok(200).clone();
        seen.extend(ids(&page, "items"));
        let this = page["as_of"].clone();
        assert!(as_of.get_or_insert(this.clone()) == &this);
        match page["next_cursor"].as_str() {
            Some(c) => url = format!("{path}?limit=1&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen, vec![b.clone(), a.clone(), c.clone(), d.clone()]);

    // The CoC view adds closed and locked records at limited.
    let admin = app.token("a", &[Role::CocAdmin], Some(lead));
    let r = app.get(&format!("{path}?view=coc"), &admin).await;
    let body = r.ok(200).clone();
    assert_eq!(ids(&body, "items"), vec![e.clone(), b, a, c, d, g]);
    assert_eq!(body["items"][0]["access"]["basis"], "coc_aggregate");
    assert!(!body.to_string().contains("Cy"));
    app.get(&format!("{path}?view=coc"), &plr)
        .await
        .problem(403);
}

/// Each entry carries the caller's own decision, the one `GET /v1/clients/{id}` gives it (the
/// decision is identical wherever it is applied: consent.md); a listed record the caller may not
/// read is left out, as from every list. Basis `priority_list` is the priority_list_reader's.
#[actix_web::test]
async fn each_entry_carries_the_callers_own_decision_and_unreadable_records_are_left_out() {
    let app = spawn().await;
    world!(app, coc, lead, outreach, ce, w);
    let (a, _) = on_list(&app, &w, identified_open("Ada"), ce, 3, Some(30.0)).await;
    let anon = json!({"identity_mode": "anonymous", "visibility": "open", "birth_year": 1970});
    let (b, _) = on_list(&app, &w, anon, ce, 2, Some(50.0)).await;
    // An agency of the CoC that takes part in CE but not in data sharing, and its staff.
    let r = app
        .post(
            "/v1/agencies",
            &app.admin,
            json!({"coc_code": coc, "name": "Quiet", "shares_data": false, "participates_in_ce": true}),
        )
        .await;
    let quiet: Uuid = r.ok(201)["id"].as_str().unwrap().parse().unwrap();
    let worker = app.token("q-cw", &[Role::CaseWorker], Some(quiet));
    let assessor = app.token("q-cea", &[Role::CeAssessor], Some(quiet));
    let reader = app.token("q-plr", &[Role::PriorityListReader], Some(quiet));
    let (q, _) = on_list(&app, &worker, identified_open("Quinn"), ce, 1, None).await;
    let path = format!("/v1/cocs/{coc}/priority-list");
    let access_of = |v: &Value| {
        format!(
            "{}/{}",
            v["access"]["level"].as_str().unwrap(),
            v["access"]["basis"].as_str().unwrap()
        )
    };
    for (token, want) in [
        (&worker, vec![(q.clone(), "full/creating_agency")]),
        (
            &assessor,
            vec![
                (b.clone(), "limited/deidentified"),
                (q.clone(), "full/creating_agency"),
            ],
        ),
        (
            &reader,
            vec![
                (b.clone(), "limited/priority_list"),
                (a.clone(), "limited/priority_list"),
                (q.clone(), "limited/priority_list"),
            ],
        ),
    ] {
        let r = app.get(&path, token).await;
        let body = r.ok(200).clone();
        let got: Vec<(String, String)> = body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["client_id"].as_str().unwrap().to_string(), access_of(e)))
            .collect();
        let want: Vec<(String, String)> =
            want.into_iter().map(|(c, a)| (c, a.to_string())).collect();
        assert_eq!(got, want, "{body}");
        // The same decision as a single read, entry by entry; the others are not found.
        for client in [&a, &b, &q] {
            let single = app.get(&format!("/v1/clients/{client}"), token).await;
            match got.iter().find(|(c, _)| c == client) {
                Some((_, access)) => assert_eq!(&access_of(single.ok(200)), access),
                None => {
                    single.problem(404);
                }
            }
        }
    }
}

#[actix_web::test]
async fn bad_priority_list_requests_are_problems() {
    let app = spawn().await;
    world!(app, coc, lead, outreach, ce, w);
    on_list(&app, &w, identified_open("Ada"), ce, 3, Some(1.0)).await;
    on_list(&app, &w, identified_open("Bo"), ce, 3, Some(2.0)).await;
    let other = app.coc(json!({})).await;
    let other_agency = ce_agency(&app, &other, true).await;
    let path = format!("/v1/cocs/{coc}/priority-list");
    let plr = app.token("p", &[Role::PriorityListReader], Some(lead));
    app.get("/v1/cocs/ZZ-999/priority-list", &plr)
        .await
        .problem(404);
    app.get("/v1/cocs/il510/priority-list", &plr)
        .await
        .problem(400);
    let far = app.token("p", &[Role::PriorityListReader], Some(other_agency));
    app.get(&path, &far).await.problem(403);
    for limit in ["0", "1001", "x"] {
        let r = app.get(&format!("{path}?limit={limit}"), &plr).await;
        assert!(r.status.is_client_error(), "{limit}: {}", r.body);
        r.problem(r.status.as_u16());
    }
    app.get(&format!("{path}?view=all"), &plr)
        .await
        .problem(422);
    // A malformed or out-of-range parameter is a 422 naming it, as on every list.
    let future = (chrono::Utc::now() + chrono::Duration::hours(1))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    for since in ["x", "yesterday", "2026-13-01T00:00:00Z", future.as_str()] {
        let r = app
            .get(&format!("{path}?changed_since={since}"), &plr)
            .await;
        assert_eq!(
            r.problem(422)["errors"][0]["field"],
            "changed_since",
            "{since}"
        );
    }
    let bad_cursor = |r: Reply| {
        let p = r.problem(422).clone();
        assert_eq!(p["errors"][0]["field"], "cursor", "{p}");
        assert_eq!(p["errors"][0]["code"], "invalid_cursor", "{p}");
        p["errors"][0]["message"].as_str().unwrap().to_string()
    };
    // A real cursor, then tampered, expired, and used on another CoC's list.
    let r = app.get(&format!("{path}?limit=1"), &plr).await;
    let cursor = r.ok(200)["next_cursor"].as_str().unwrap().to_string();
    app.get(&format!("{path}?limit=1&cursor={cursor}"), &plr)
        .await
        .ok(200);
    let mut tampered = cursor.clone().into_bytes();
    tampered[5] = if tampered[5] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    bad_cursor(app.get(&format!("{path}?cursor={tampered}"), &plr).await);
    bad_cursor(app.get(&format!("{path}?cursor=garbage"), &plr).await);
    let state = PageState {
        coc: coc.clone(),
        coc_view: false,
        as_of: chrono::Utc::now(),
        since: None,
        rank: None,
        entry_date: Some(chrono::Utc::now().date_naive()),
        client_id: Uuid::nil(),
    };
    let expired = sign_cursor(&state, chrono::Utc::now().timestamp() - 1);
    let r = app.get(&format!("{path}?cursor={expired}"), &plr).await;
    assert!(bad_cursor(r).contains("expired"));
    let other_admin = app.token("a", &[Role::CocAdmin], Some(other_agency));
    let r = app
        .get(
            &format!("/v1/cocs/{other}/priority-list?cursor={cursor}"),
            &other_admin,
        )
        .await;
    assert!(bad_cursor(r).contains("another list"));
}

/// A committing pool on a database of its own: these tests commit revocations (each records a
/// helpdesk notice) and backdate history, which other tests listing everything must not see.
fn isolated_committing_pool(size: u32) -> hearth::db::DbPool {
    use std::sync::OnceLock;
    static URL: OnceLock<String> = OnceLock::new();
    let url = URL.get_or_init(|| {
        let base = test_database_url();
        let (server, db) = base.rsplit_once('/').unwrap();
        // Named after the test database, so test runs on one server against databases of
        // their own do not share it.
        let db = db.split('?').next().unwrap();
        let name = if db == "hearth_test" {
            "hearth_ce_feed".to_string()
        } else {
            format!("{db}_ce_feed")
        };
        assert!(name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
        let mut conn = PgConnection::establish(&base).unwrap();
        let exists: i64 = diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(&format!(
            "(SELECT count(*) FROM pg_database WHERE datname = '{name}')"
        )))
        .get_result(&mut conn)
        .unwrap();
        if exists == 0 {
            diesel::sql_query(format!("CREATE DATABASE {name}"))
                .execute(&mut conn)
                .unwrap();
        }
        let url = format!("{server}/{name}");
        let mut conn = PgConnection::establish(&url).unwrap();
        hearth::db::run_migrations(&mut conn).unwrap();
        url
    });
    let settings = hearth::db::SessionSettings {
        statement_timeout: std::time::Duration::from_secs(30),
        test_transaction: false,
    };
    hearth::db::build_pool(url, size, std::time::Duration::from_secs(10), settings).unwrap()
}

/// Backdates a client's list history and ROIs by `days`, as if written then.
fn backdate(pool: &hearth::db::DbPool, client: &str, days: i32) {
    let mut conn = pool.get().unwrap();
    let id: Uuid = client.parse().unwrap();
    diesel::sql_query(format!(
        "UPDATE ce_list_log SET at = at - interval '{days} days' WHERE client_id = $1"
    ))
    .bind::<diesel::sql_types::Uuid, _>(id)
    .execute(&mut conn)
    .unwrap();
    diesel::sql_query(format!(
        "UPDATE roi_consents SET recorded_at = recorded_at - interval '{days} days' WHERE client_id = $1"
    ))
    .bind::<diesel::sql_types::Uuid, _>(id)
    .execute(&mut conn)
    .unwrap();
}

#[actix_web::test]
async fn incremental_pulls_answer_what_changed_and_removals_by_time_alone() {
    let pool = isolated_committing_pool(4);
    let app = spawn_with(pool.clone()).await;
    world!(app, coc, lead, outreach, ce, w);
    let path = format!("/v1/cocs/{coc}/priority-list");
    let plr = app.token("p", &[Role::PriorityListReader], Some(lead));
    let (a, a_stay) = on_list(&app, &w, identified_open("Ada"), ce, 3, Some(10.0)).await;
    let (b, _) = on_list(&app, &w, identified_open("Bo"), ce, 3, Some(20.0)).await;
    // An ROI that expires today: listed yesterday, not today, with no write in between. (An ROI
    // that has already ended opens nothing at creation, so it is recorded expiring tomorrow and
    // its end moved to today, as time alone would.)
    let expiring = json!({"identity_mode": "identified", "first_name": "Ed", "last_name": "Expiring",
        "roi": {"method": "signed", "effective_from": days_ago(30), "expires_on": days_ago(-1)}});
    let r = app.post("/v1/clients", &w, expiring).await;
    let x = r.ok(201)["client"]["id"].as_str().unwrap().to_string();
    app.post(
        &format!("/v1/clients/{x}/enrollments"),
        &w,
        json!({"project_id": ce, "entry_date": days_ago(20), "relationship_to_hoh": 1}),
    )
    .await
    .ok(201);
    {
        let mut conn = pool.get().unwrap();
        diesel::sql_query("UPDATE roi_consents SET expires_on = $2 WHERE client_id = $1")
            .bind::<diesel::sql_types::Uuid, _>(x.parse::<Uuid>().unwrap())
            .bind::<diesel::sql_types::Date, _>(today())
            .execute(&mut conn)
            .unwrap();
    }
    backdate(&pool, &x, 2);

    let r = app.get(&path, &plr).await;
    let full = r.ok(200).clone();
    assert_eq!(ids(&full, "items"), vec![b.clone(), a.clone()]);
    let since_day_ago = (chrono::Utc::now() - chrono::Duration::days(1))
        .to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let r = app
        .get(&format!("{path}?changed_since={since_day_ago}"), &plr)
        .await;
    let body = r.ok(200).clone();
    assert!(ids(&body, "removed").contains(&x), "{body}");
    assert_eq!(body["removed"][0]["change"], "no_longer_listed");
    assert_eq!(body["removed"][0].as_object().unwrap().len(), 2);

    // Changes after the full pull: a new score, a new client, a revocation.
    let as_of = full["as_of"].as_str().unwrap().to_string();
    app.post(
        &format!("/v1/enrollments/{a_stay}/assessments"),
        &w,
        json!({"assessment_date": days_ago(0), "assessment_type": 3, "assessment_level": 2, "priority_score": 40.0}),
    )
    .await
    .ok(201);
    let (h, _) = on_list(&app, &w, identified_open("Hal"), ce, 1, None).await;
    let r = app.get(&format!("/v1/clients/{b}/consents"), &w).await;
    let roi = r.ok(200)["items"][0]["id"].as_str().unwrap().to_string();
    app.post(
        &format!("/v1/clients/{b}/consents/{roi}/revoke"),
        &w,
        json!({}),
    )
    .await
    .ok(200);
    let since = urlencode(&as_of);
    let r = app
        .get(&format!("{path}?changed_since={since}"), &plr)
        .await;
    let body = r.ok(200).clone();
    let changed: Vec<(String, String)> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["client_id"].as_str().unwrap().to_string(),
                e["change"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let mut want = vec![
        (a.clone(), "changed".to_string()),
        (h.clone(), "added".to_string()),
    ];
    want.sort();
    assert_eq!(changed, want, "{body}");
    assert_eq!(ids(&body, "removed"), vec![b.clone()]);
    assert_eq!(body["items"][0]["priority_score"], 40.0);
    // A case worker of an agency that does not share data reads none of these records: its
    // pull names none of them, neither as changed nor as no longer listed.
    let r = app
        .post(
            "/v1/agencies",
            &app.admin,
            json!({"coc_code": coc, "name": "Quiet", "shares_data": false}),
        )
        .await;
    let quiet: Uuid = r.ok(201)["id"].as_str().unwrap().parse().unwrap();
    let quiet = app.token("q", &[Role::CaseWorker], Some(quiet));
    let r = app
        .get(&format!("{path}?changed_since={since}"), &quiet)
        .await;
    let quiet_body = r.ok(200).clone();
    assert_eq!(quiet_body["items"], json!([]), "{quiet_body}");
    assert_eq!(quiet_body["removed"], json!([]), "{quiet_body}");
    // Nothing since the last answer's as_of.
    let next = urlencode(body["as_of"].as_str().unwrap());
    let r = app.get(&format!("{path}?changed_since={next}"), &plr).await;
    let body = r.ok(200);
    assert_eq!(body["items"], json!([]), "{body}");
    assert_eq!(body["removed"], json!([]));
}

/// A merged duplicate leaves the list: an incremental pull names it as no longer listed to
/// whoever saw it listed (its ROIs moved to the survivor, and what was listed at `since` is
/// judged by the ROIs the duplicate held then), and the survivor as added.
#[actix_web::test]
async fn a_merged_duplicate_is_no_longer_listed_in_incremental_pulls() {
    let pool = isolated_committing_pool(4);
    let app = spawn_with(pool.clone()).await;
    world!(app, coc, lead, outreach, ce, w);
    let path = format!("/v1/cocs/{coc}/priority-list");
    let plr = app.token("p", &[Role::PriorityListReader], Some(lead));
    let third = ce_agency(&app, &coc, false).await;
    let a3 = app.token("c3", &[Role::CaseWorker], Some(third));
    let (y, _) = on_list(&app, &w, identified_open("Yul"), ce, 3, Some(10.0)).await;
    let r = app.post("/v1/clients", &w, identified_open("Xan")).await;
    let x = r.ok(201)["client"]["id"].as_str().unwrap().to_string();
    let mut since = vec![];
    for token in [&a3, &plr] {
        let r = app.get(&path, token).await;
        let body = r.ok(200).clone();
        assert_eq!(ids(&body, "items"), vec![y.clone()], "{body}");
        since.push(urlencode(body["as_of"].as_str().unwrap()));
    }
    let admin = app.token("aa", &[Role::AgencyAdmin], Some(outreach));
    app.post(
        &format!("/v1/clients/{x}/merge"),
        &admin,
        json!({"duplicate_id": y, "confirm_same_person": true}),
    )
    .await
    .ok(200);
    for (token, since) in [&a3, &plr].into_iter().zip(&since) {
        let r = app
            .get(&format!("{path}?changed_since={since}"), token)
            .await;
        let body = r.ok(200).clone();
        assert_eq!(ids(&body, "items"), vec![x.clone()], "{body}");
        assert_eq!(body["items"][0]["change"], "added", "{body}");
        assert_eq!(ids(&body, "removed"), vec![y.clone()], "{body}");
        assert_eq!(body["removed"][0]["change"], "no_longer_listed", "{body}");
        // A full pull lists the survivor alone.
        let r = app.get(&path, token).await;
        assert_eq!(ids(r.ok(200), "items"), vec![x.clone()]);
    }
}

fn urlencode(s: &str) -> String {
    s.replace('+', "%2B").replace(':', "%3A")
}

#[actix_web::test]
async fn a_revocation_takes_effect_at_once_for_every_pull_that_starts_after_it() {
    let pool = isolated_committing_pool(8);
    let app = spawn_with(pool.clone()).await;
    world!(app, coc, lead, outreach, ce, w);
    // 40 listed clients, each with one ROI (set up in SQL; the revocations go through the API),
    // revoked and re-granted over five rounds: 200 races, on a list short enough to pull fast.
    const N: usize = 40;
    const ROUNDS: usize = 5;
    let mut conn = pool.get().unwrap();
    #[derive(QueryableByName)]
    struct Made {
        #[diesel(sql_type = diesel::sql_types::Uuid)]
        client: Uuid,
        #[diesel(sql_type = diesel::sql_types::Uuid)]
        roi: Uuid,
    }
    let made: Vec<Made> = diesel::sql_query(
        "WITH c AS ( \
           INSERT INTO clients (id, short_uid, person_id, coc_code, created_by_agency, created_by_user, \
             identity_mode, visibility, first_name, last_name, name_quality, ssn_quality, dob_quality) \
           SELECT gen_random_uuid(), 'R' || substr(md5(random()::text), 1, 10), gen_random_uuid(), $1, $2, 'race', \
             'identified', 'open', 'Race', 'Client', 1, 99, 99 FROM generate_series(1, $4) RETURNING id), \
         r AS (INSERT INTO roi_consents (id, client_id, recording_agency_id, recorded_by_user, effective_from, \
             scope_statewide, method) SELECT gen_random_uuid(), c.id, $2, 'race', current_date - 10, true, 'signed' \
             FROM c RETURNING id, client_id), \
         cc AS (INSERT INTO client_contributors (client_id, agency_id) SELECT id, $2 FROM c), \
         e AS (INSERT INTO enrollments (id, client_id, project_id, household_id, relationship_to_hoh, entry_date, \
             entered_by_agency, entered_by_user, collected_on) \
             SELECT gen_random_uuid(), c.id, $3, gen_random_uuid(), 1, current_date - 5, $2, 'race', current_date - 5 FROM c) \
         SELECT r.client_id AS client, r.id AS roi FROM r",
    )
    .bind::<diesel::sql_types::Text, _>(&coc)
    .bind::<diesel::sql_types::Uuid, _>(outreach)
    .bind::<diesel::sql_types::Uuid, _>(ce)
    .bind::<diesel::sql_types::Integer, _>(N as i32)
    .load(&mut conn)
    .unwrap();
    drop(conn);
    let path = format!("/v1/cocs/{coc}/priority-list?limit=1000");
    let plr = app.token("p", &[Role::PriorityListReader], Some(lead));
    let r = app.get(&path, &plr).await;
    assert_eq!(r.ok(200)["items"].as_array().unwrap().len(), N);

    let mut violations = 0;
    let mut checked = 0;
    let mut made = made;
    for round in 0..ROUNDS {
        if round > 0 {
            // Re-grant: open again under a new ROI.
            let mut conn = pool.get().unwrap();
            let clients: Vec<Uuid> = made.iter().map(|m| m.client).collect();
            made = diesel::sql_query(
                "WITH o AS (UPDATE clients SET visibility = 'open' WHERE id = ANY($1) RETURNING id) \
                 INSERT INTO roi_consents (id, client_id, recording_agency_id, recorded_by_user, \
                   effective_from, scope_statewide, method) \
                 SELECT gen_random_uuid(), o.id, $2, 'race', current_date, true, 'signed' FROM o \
                 RETURNING client_id AS client, id AS roi",
            )
            .bind::<diesel::sql_types::Array<diesel::sql_types::Uuid>, _>(&clients)
            .bind::<diesel::sql_types::Uuid, _>(outreach)
            .load(&mut conn)
            .unwrap();
            let r = app.get(&path, &plr).await;
            assert_eq!(r.ok(200)["items"].as_array().unwrap().len(), N);
        }
        for batch in made.chunks(8) {
            let races = batch.iter().map(|m| {
                let (app, w, plr, path) = (&app, &w, &plr, &path);
                async move {
                    let revoke = async {
                        let r = app
                            .post(
                                &format!("/v1/clients/{}/consents/{}/revoke", m.client, m.roi),
                                w,
                                json!({}),
                            )
                            .await;
                        r.ok(200);
                        std::time::Instant::now()
                    };
                    let pull = || async {
                        let started = std::time::Instant::now();
                        let r = app.get(path, plr).await;
                        (started, ids(r.ok(200), "items"))
                    };
                    let (done, p1, p2) = futures_util::future::join3(revoke, pull(), pull()).await;
                    let after = {
                        let r = app.get(path, plr).await;
                        ids(r.ok(200), "items")
                    };
                    let mut bad = 0;
                    let mut n = 1;
                    for (started, listed) in [p1, p2] {
                        if started > done {
                            n += 1;
                            bad += listed.contains(&m.client.to_string()) as usize;
                        }
                    }
                    bad += after.contains(&m.client.to_string()) as usize;
                    (bad, n)
                }
            });
            for (bad, n) in futures_util::future::join_all(races).await {
                violations += bad;
                checked += n;
            }
        }
    }
    assert_eq!(
        violations, 0,
        "{violations} pulls after a revoke showed the client"
    );
    assert!(checked >= N * ROUNDS, "{checked}");
    let r = app.get(&path, &plr).await;
    assert_eq!(r.ok(200)["items"], json!([]));
}

/// A cursor carries its view: `?cursor=` alone continues the CoC view a coc_admin started, and a
/// contradicting `view` is another list's cursor. A cursor is opaque: decoded, it shows neither
/// the last entry's score nor its CE entry date (withheld from many viewers by the datum rule).
#[actix_web::test]
async fn a_cursor_alone_continues_its_view_and_reveals_no_score_or_date() {
    let app = spawn().await;
    world!(app, coc, lead, outreach, ce, w);
    let _ = outreach;
    let closed = json!({"identity_mode": "identified", "first_name": "Cy", "last_name": "Closed"});
    let (top, _) = on_list(&app, &w, closed, ce, 47, Some(777.25)).await;
    let (a, _) = on_list(&app, &w, identified_open("Ada"), ce, 3, Some(30.0)).await;
    let refused = json!({"identity_mode": "consent_refused"});
    let (c, _) = on_list(&app, &w, refused, ce, 10, None).await;
    let path = format!("/v1/cocs/{coc}/priority-list");
    let admin = app.token("a", &[Role::CocAdmin], Some(lead));
    let r = app
        .get(&format!("{path}?view=coc&limit=1000"), &admin)
        .await;
    let whole = ids(r.ok(200), "items");
    assert_eq!(whole, vec![top.clone(), a, c]);

    let r = app.get(&format!("{path}?view=coc&limit=1"), &admin).await;
    let first = r.ok(200).clone();
    assert_eq!(ids(&first, "items"), vec![top]);
    let cursor = first["next_cursor"].as_str().unwrap().to_string();
    // Opaque: nothing readable of the page state.
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    for part in cursor.split('.') {
        let bytes = base64::Engine::decode(&b64, part).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        for needle in [
            "777",
            "rank",
            "entry_date",
            &days_ago(47),
            "coc_view",
            "IL-",
        ] {
            assert!(!text.contains(needle), "{needle} in {text}");
        }
    }
    // Without `view`: the cursor's view, page after page; every entry once.
    let mut seen = ids(&first, "items");
    let mut next = Some(cursor.clone());
    while let Some(c) = next {
        let r = app.get(&format!("{path}?limit=1&cursor={c}"), &admin).await;
        let page = r.ok(200).clone();
        assert_eq!(page["view"], "coc", "{page}");
        seen.extend(ids(&page, "items"));
        next = page["next_cursor"].as_str().map(str::to_string);
    }
    assert_eq!(seen, whole);
    // The same view said again is fine; a contradicting one is another list's cursor.
    app.get(&format!("{path}?view=coc&limit=1&cursor={cursor}"), &admin)
        .await
        .ok(200);
    let r = app
        .get(&format!("{path}?view=list&limit=1&cursor={cursor}"), &admin)
        .await;
    let p = r.problem(422);
    assert_eq!(p["errors"][0]["code"], "invalid_cursor", "{p}");
    // A full pull's cursor with a changed_since beside it is another pull's (a tester's
    // finding: the changed_since was dropped without a word).
    let r = app
        .get(
            &format!("{path}?limit=1&cursor={cursor}&changed_since=2026-01-01T00:00:00Z"),
            &admin,
        )
        .await;
    let p = r.problem(422);
    assert_eq!(p["errors"][0]["code"], "invalid_cursor", "{p}");
    // A CoC view's cursor gives no one else the CoC view.
    let plr = app.token("p", &[Role::PriorityListReader], Some(lead));
    app.get(&format!("{path}?cursor={cursor}"), &plr)
        .await
        .problem(403);
}

/// Datum rules 1 and 6: agency A enrolled the client in CE before the ROI, agency B in its own
/// CE project after it. B's entry shows B's own stay (not withheld); A's shows A's; the order
/// is the CoC's (A's earlier stay) for both. The household size counts only the members the
/// caller may see: a closed record of another agency in the household is not counted.
#[actix_web::test]
async fn an_entry_shows_the_ce_stay_the_caller_may_see_and_counts_only_visible_members() {
    let app = spawn().await;
    world!(app, coc, lead, outreach, ce, w);
    let b_ce = app.project(outreach, 14).await;
    let wa = app.token("wa", &[Role::CaseWorker], Some(lead));
    let body = json!({"identity_mode": "identified", "first_name": "Xan", "last_name": "Listed",
                      "roi": {"method": "signed", "effective_from": days_ago(10)}});
    // A's stay: 40 days ago, before the ROI (collected then).
    let (x, _) = on_list(&app, &wa, body, ce, 40, None).await;
    // Someone waiting less long than A's stay, longer than B's.
    let (y, _) = on_list(&app, &wa, identified_open("Yul"), ce, 20, None).await;
    // B's own CE stay, after the ROI.
    let r = app
        .post(
            &format!("/v1/clients/{x}/enrollments"),
            &w,
            json!({"project_id": b_ce, "entry_date": days_ago(2), "relationship_to_hoh": 1}),
        )
        .await;
    r.ok(201);
    let path = format!("/v1/cocs/{coc}/priority-list");
    let entry_of = |body: &Value, id: &str| {
        body["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["client_id"] == id)
            .cloned()
            .unwrap()
    };
    for (token, date) in [(&w, days_ago(2)), (&wa, days_ago(40))] {
        let r = app.get(&path, token).await;
        let body = r.ok(200).clone();
        assert_eq!(ids(&body, "items"), vec![x.clone(), y.clone()], "{body}");
        let e = entry_of(&body, &x);
        assert_eq!(e["entry_withheld"], false, "{e}");
        assert_eq!(e["ce_entry_date"], date, "{e}");
        assert_eq!(e["household_size"], 1, "{e}");
    }
    // B sees its own stay in the client's stays, as the list now says.
    let r = app.get(&format!("/v1/clients/{x}/enrollments"), &w).await;
    assert!(r.ok(200).to_string().contains(&days_ago(2)));

    // A household of Y's CE stay holds a closed record of A: hidden from a reader of another
    // agency, who must not learn it exists from the count.
    let r = app.get(&format!("/v1/clients/{y}/enrollments"), &wa).await;
    let household = r.ok(200)["items"][0]["household_id"]
        .as_str()
        .unwrap()
        .to_string();
    let closed = json!({"identity_mode": "identified", "first_name": "Mo", "last_name": "Member"});
    let r = app.post("/v1/clients", &wa, closed).await;
    let m = r.ok(201)["client"]["id"].as_str().unwrap().to_string();
    app.post(
        &format!("/v1/clients/{m}/enrollments"),
        &wa,
        json!({"project_id": ce, "entry_date": days_ago(1), "relationship_to_hoh": 2,
               "household_id": household}),
    )
    .await
    .ok(201);
    let partner = app.agency(&coc, false).await;
    let plr = app.token("p", &[Role::PriorityListReader], Some(partner));
    app.get(&format!("/v1/clients/{m}"), &plr)
        .await
        .problem(404);
    for (token, size) in [(&plr, 1), (&wa, 2)] {
        let r = app.get(&path, token).await;
        let e = entry_of(r.ok(200), &y);
        assert_eq!(e["household_size"], size, "{e}");
    }
}

/// An incremental pull names a client as no longer listed only to a caller that may have seen
/// it listed: a CE assessor of an agency that does not share data never saw an identified
/// record listed on its ROI (row 3 is for sharing agencies), so neither its exit from CE nor a
/// change to its entry hands the assessor its id; a de-identified open record (row 4) it did
/// see is named when it leaves. The CoC's priority list reader sees both leave (row 8).
#[actix_web::test]
async fn removals_name_only_records_the_caller_may_have_seen_listed() {
    let pool = isolated_committing_pool(4);
    let app = spawn_with(pool.clone()).await;
    world!(app, coc, lead, outreach, ce, w);
    let path = format!("/v1/cocs/{coc}/priority-list");
    let r = app
        .post(
            "/v1/agencies",
            &app.admin,
            json!({"coc_code": coc, "name": "Quiet", "shares_data": false, "participates_in_ce": true}),
        )
        .await;
    let quiet: Uuid = r.ok(201)["id"].as_str().unwrap().parse().unwrap();
    let assessor = app.token("q-cea", &[Role::CeAssessor], Some(quiet));
    let reader = app.token("q-plr", &[Role::PriorityListReader], Some(quiet));
    let (ada, ada_stay) = on_list(&app, &w, identified_open("Ada"), ce, 3, Some(30.0)).await;
    let (kim, kim_stay) = on_list(&app, &w, identified_open("Kim"), ce, 3, Some(20.0)).await;
    let anon = json!({"identity_mode": "anonymous", "visibility": "open", "birth_year": 1970});
    let (b, b_stay) = on_list(&app, &w, anon, ce, 2, Some(50.0)).await;
    for c in [&ada, &kim, &b] {
        backdate(&pool, c, 1);
    }
    let r = app.get(&path, &assessor).await;
    let full = r.ok(200).clone();
    assert_eq!(ids(&full, "items"), vec![b.clone()], "{full}");
    let as_of = full["as_of"].as_str().unwrap().to_string();
    let as_of_reader = app.get(&path, &reader).await.ok(200)["as_of"]
        .as_str()
        .unwrap()
        .to_string();
    // Ada and the anonymous client leave CE; Kim stays, with a new assessment.
    for stay in [&ada_stay, &b_stay] {
        app.post(
            &format!("/v1/enrollments/{stay}/exit"),
            &w,
            json!({"exit_date": days_ago(0), "destination": 435, "destination_subsidy_type": 419}),
        )
        .await
        .ok(200);
    }
    app.post(
        &format!("/v1/enrollments/{kim_stay}/assessments"),
        &w,
        json!({"assessment_date": days_ago(0), "assessment_type": 3, "assessment_level": 2,
               "prioritization_status": 1, "priority_score": 25.0}),
    )
    .await
    .ok(201);
    let since = |t: &str| format!("{path}?changed_since={}", t.replace('+', "%2B"));
    let r = app.get(&since(&as_of), &assessor).await;
    let body = r.ok(200).clone();
    assert_eq!(ids(&body, "removed"), vec![b.clone()], "{body}");
    assert!(ids(&body, "items").is_empty(), "{body}");
    let r = app.get(&since(&as_of_reader), &reader).await;
    let body = r.ok(200).clone();
    let mut removed = ids(&body, "removed");
    removed.sort();
    let mut want = vec![ada.clone(), b.clone()];
    want.sort();
    assert_eq!(removed, want, "{body}");
    assert_eq!(ids(&body, "items"), vec![kim.clone()], "{body}");
}

/// A full pull names each client at most once while the list changes under it: pages after
/// the first leave out entries written since the pull's `as_of` (one that moved behind the
/// cursor would come twice, one that moved ahead of it never), and the next incremental pull
/// from that `as_of` answers them.
#[actix_web::test]
async fn a_paged_full_pull_names_each_client_once_while_scores_change() {
    let pool = isolated_committing_pool(4);
    let app = spawn_with(pool.clone()).await;
    world!(app, coc, lead, outreach, ce, w);
    let path = format!("/v1/cocs/{coc}/priority-list");
    let plr = app.token("p", &[Role::PriorityListReader], Some(lead));
    let mut clients = Vec::new();
    for (i, score) in [60.0, 50.0, 40.0, 30.0, 20.0, 10.0].into_iter().enumerate() {
        let name = format!("P{i}");
        clients.push(on_list(&app, &w, identified_open(&name), ce, 3, Some(score)).await);
    }
    let order: Vec<String> = clients.iter().map(|c| c.0.clone()).collect();
    let r = app.get(&format!("{path}?limit=2"), &plr).await;
    let first = r.ok(200).clone();
    assert_eq!(ids(&first, "items"), order[..2].to_vec(), "{first}");
    let as_of = first["as_of"].as_str().unwrap().to_string();
    // The first listed falls to the end; the fifth rises ahead of the cursor.
    for (stay, score) in [(&clients[0].1, 5.0), (&clients[4].1, 55.0)] {
        app.post(
            &format!("/v1/enrollments/{stay}/assessments"),
            &w,
            json!({"assessment_date": days_ago(0), "assessment_type": 3, "assessment_level": 2,
                   "prioritization_status": 1, "priority_score": score}),
        )
        .await
        .ok(201);
    }
    let mut seen = ids(&first, "items");
    let mut cursor = first["next_cursor"].as_str().map(str::to_string);
    while let Some(c) = cursor {
        let r = app.get(&format!("{path}?limit=2&cursor={c}"), &plr).await;
        let page = r.ok(200).clone();
        assert_eq!(page["as_of"].as_str().unwrap(), as_of, "{page}");
        seen.extend(ids(&page, "items"));
        cursor = page["next_cursor"].as_str().map(str::to_string);
    }
    assert_eq!(
        seen,
        vec![
            order[0].clone(),
            order[1].clone(),
            order[2].clone(),
            order[3].clone(),
            order[5].clone()
        ],
        "each client once, the moved ones only where the pull met them before they moved"
    );
    let r = app
        .get(
            &format!("{path}?changed_since={}", as_of.replace('+', "%2B")),
            &plr,
        )
        .await;
    let body = r.ok(200).clone();
    let mut changed = ids(&body, "items");
    changed.sort();
    let mut want = vec![order[0].clone(), order[4].clone()];
    want.sort();
    assert_eq!(changed, want, "{body}");
}

/// The priority list judges a record by the list's CoC (consent.md, record rule): a record
/// created in another CoC, open with a statewide ROI and enrolled in this CoC's Coordinated
/// Entry, is on this CoC's list for its priority list reader (row 8) as any other entry, in
/// full pulls and in incremental ones. A single read still judges the record by its own CoC.
#[actix_web::test]
async fn a_record_of_another_coc_listed_here_is_judged_by_the_lists_coc() {
    let pool = isolated_committing_pool(4);
    let app = spawn_with(pool.clone()).await;
    world!(app, coc, lead, outreach, ce, w);
    let _ = outreach;
    let path = format!("/v1/cocs/{coc}/priority-list");
    let elsewhere = app.coc(json!({})).await;
    let far = ce_agency(&app, &elsewhere, false).await;
    let far_worker = app.token("far", &[Role::CaseWorker], Some(far));
    let r = app
        .post("/v1/clients", &far_worker, identified_open("Wren"))
        .await;
    let wren = r.ok(201)["client"]["id"].as_str().unwrap().to_string();
    let reader = app.token("plr", &[Role::PriorityListReader], Some(lead));
    let as_of = app.get(&path, &reader).await.ok(200)["as_of"]
        .as_str()
        .unwrap()
        .to_string();
    let r = app
        .post(
            &format!("/v1/clients/{wren}/enrollments"),
            &w,
            json!({"project_id": ce, "entry_date": days_ago(2), "relationship_to_hoh": 1}),
        )
        .await;
    let stay = r.ok(201)["enrollment"]["id"].as_str().unwrap().to_string();
    app.post(
        &format!("/v1/enrollments/{stay}/assessments"),
        &w,
        json!({"assessment_date": days_ago(0), "assessment_type": 3, "assessment_level": 2,
               "prioritization_status": 1, "priority_score": 70.0}),
    )
    .await
    .ok(201);
    let r = app.get(&path, &reader).await;
    let body = r.ok(200).clone();
    assert_eq!(ids(&body, "items"), vec![wren.clone()], "{body}");
    assert_eq!(body["items"][0]["access"]["level"], "limited", "{body}");
    assert_eq!(
        body["items"][0]["access"]["basis"], "priority_list",
        "{body}"
    );
    assert_eq!(body["items"][0]["first_name"], Value::Null, "{body}");
    let r = app
        .get(
            &format!("{path}?changed_since={}", as_of.replace('+', "%2B")),
            &reader,
        )
        .await;
    let body = r.ok(200).clone();
    assert_eq!(ids(&body, "items"), vec![wren.clone()], "{body}");
    app.get(&format!("/v1/clients/{wren}"), &reader)
        .await
        .problem(404);
    // Exited from this CoC's CE, it leaves the list, and the reader is told.
    app.post(
        &format!("/v1/enrollments/{stay}/exit"),
        &w,
        json!({"exit_date": days_ago(0), "destination": 435, "destination_subsidy_type": 419}),
    )
    .await
    .ok(200);
    let r = app
        .get(
            &format!("{path}?changed_since={}", as_of.replace('+', "%2B")),
            &reader,
        )
        .await;
    let body = r.ok(200).clone();
    assert!(ids(&body, "items").is_empty(), "{body}");
}

/// A tester's finding: a household member leaving (an exit, or its record closed) changes the
/// head's `household_size`, but nothing of the head's own was written, so an incremental pull
/// never sent the head again and a partner's copy kept the old size. Now a member's change
/// refreshes the household's listed clients: the next pull answers the head, changed.
#[actix_web::test]
async fn a_household_members_change_reaches_the_heads_entry_in_incremental_pulls() {
    let pool = isolated_committing_pool(4);
    let app = spawn_with(pool.clone()).await;
    world!(app, coc, lead, outreach, ce, w);
    let _ = outreach;
    let path = format!("/v1/cocs/{coc}/priority-list");
    let plr = app.token("p", &[Role::PriorityListReader], Some(lead));
    let refused = json!({"identity_mode": "consent_refused", "visibility": "open"});
    let (head, head_stay) = on_list(&app, &w, refused.clone(), ce, 3, Some(20.0)).await;
    let household = app
        .get(&format!("/v1/enrollments/{head_stay}"), &w)
        .await
        .ok(200)["household_id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut members = Vec::new();
    for _ in 0..2 {
        let r = app.post("/v1/clients", &w, refused.clone()).await;
        let m = r.ok(201)["client"]["id"].as_str().unwrap().to_string();
        let r = app
            .post(
                &format!("/v1/clients/{m}/enrollments"),
                &w,
                json!({"project_id": ce, "entry_date": days_ago(3), "relationship_to_hoh": 2,
                       "household_id": household}),
            )
            .await;
        members.push((
            m,
            r.ok(201)["enrollment"]["id"].as_str().unwrap().to_string(),
        ));
    }
    for c in std::iter::once(&head).chain(members.iter().map(|m| &m.0)) {
        backdate(&pool, c, 1);
    }
    let r = app.get(&path, &plr).await;
    let full = r.ok(200).clone();
    let as_of = full["as_of"].as_str().unwrap().to_string();
    let head_entry = full["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["client_id"] == head.as_str())
        .cloned()
        .unwrap();
    assert_eq!(head_entry["household_size"], 3, "{full}");
    // One member leaves the household's stay.
    app.post(
        &format!("/v1/enrollments/{}/exit", members[0].1),
        &w,
        json!({"exit_date": days_ago(0), "destination": 435, "destination_subsidy_type": 419}),
    )
    .await
    .ok(200);
    let r = app
        .get(
            &format!("{path}?changed_since={}", as_of.replace('+', "%2B")),
            &plr,
        )
        .await;
    let body = r.ok(200).clone();
    let head_now = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["client_id"] == head.as_str())
        .cloned()
        .unwrap_or_else(|| panic!("the head is not answered again: {body}"));
    assert_eq!(head_now["household_size"], 2, "{body}");
    assert_eq!(head_now["change"], "changed", "{body}");
}
