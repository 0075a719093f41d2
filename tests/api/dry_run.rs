//! `?dry_run=true` on every consent workflow (grant, revoke, visibility, designate sharing,
//! split, merge, de-identification completion): the same answer as the real run, and every
//! table unchanged. The test runs on a database of its own, so that no other test's commits
//! change a table between two snapshots.

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::Text;
use hearth::consent::Role;
use hearth::db::{build_pool, run_migrations, DbPool, SessionSettings};
use serde_json::{json, Value};

use crate::clients::{member, send, Svc};
use crate::deidentify::{household, request_body};
use crate::harness::*;
use crate::merge::pair;

const PREFIX: &str = "hearth_dry_";

/// A fresh, migrated database on the test cluster, and a committing pool on it.
fn private_database() -> (String, DbPool, String) {
    let base = test_database_url();
    let (root, _) = base.rsplit_once('/').unwrap();
    let admin_url = format!("{root}/postgres");
    let mut admin = PgConnection::establish(&admin_url).unwrap();
    // Leftovers of an interrupted run of this (single) test.
    #[derive(QueryableByName)]
    struct Name {
        #[diesel(sql_type = Text)]
        datname: String,
    }
    let old: Vec<Name> = diesel::sql_query(format!(
        "SELECT datname::text AS datname FROM pg_database WHERE datname LIKE '{PREFIX}%'"
    ))
    .load(&mut admin)
    .unwrap();
    for n in old {
        let _ = admin.batch_execute(&format!(
            "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
            n.datname
        ));
    }
    let name = format!("{PREFIX}{}", uuid::Uuid::new_v4().simple());
    admin
        .batch_execute(&format!("CREATE DATABASE \"{name}\""))
        .unwrap();
    let url = format!("{root}/{name}");
    let settings = SessionSettings {
        statement_timeout: std::time::Duration::from_secs(30),
        test_transaction: false,
    };
    let pool = build_pool(&url, 2, std::time::Duration::from_secs(10), settings).unwrap();
    run_migrations(&mut pool.get().unwrap()).unwrap();
    (name, pool, admin_url)
}

#[derive(QueryableByName)]
struct TableHash {
    #[diesel(sql_type = Text)]
    h: String,
}

/// One hash per table (every base table information_schema lists), over every row.
fn snapshot(pool: &DbPool) -> Vec<(String, String)> {
    let mut conn = pool.get().unwrap();
    #[derive(QueryableByName)]
    struct T {
        #[diesel(sql_type = Text)]
        table_name: String,
    }
    let tables: Vec<T> = diesel::sql_query(
        "SELECT table_name::text AS table_name FROM information_schema.tables \
          WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY 1",
    )
    .load(&mut conn)
    .unwrap();
    assert!(tables.len() >= 10);
    tables
        .into_iter()
        .map(|t| {
            // A dry run's answer is a read of the record, audited (`dry_run`): the one row it
            // leaves behind.
            let only = if t.table_name == "audit_events" {
                " WHERE x.action <> 'dry_run'"
            } else {
                ""
            };
            let h: TableHash = diesel::sql_query(format!(
                "SELECT md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) AS h FROM \"{}\" x{only}",
                t.table_name
            ))
            .get_result(&mut conn)
            .unwrap();
            (t.table_name, h.h)
        })
        .collect()
}

/// `s` with every UUID replaced, so answers that name records created in the run compare.
fn mask_ids(s: &str) -> String {
    let c: Vec<char> = s.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < c.len() {
        let is_uuid = i + 36 <= c.len()
            && (0..36).all(|k| match k {
                8 | 13 | 18 | 23 => c[i + k] == '-',
                _ => c[i + k].is_ascii_hexdigit(),
            });
        if is_uuid {
            out.push_str("<id>");
            i += 36;
        } else {
            out.push(c[i]);
            i += 1;
        }
    }
    out
}

/// What a workflow answers it changed and warned, with ids masked.
fn gist(v: &Value) -> Value {
    let texts = |k: &str| -> Vec<String> {
        v[k].as_array()
            .map(|a| {
                a.iter()
                    .map(|x| mask_ids(x.as_str().unwrap_or("")))
                    .collect()
            })
            .unwrap_or_default()
    };
    json!({
        "changes": texts("changes"),
        "warnings": texts("warnings"),
        "scenario": v["scenario"],
        "visibility": v["client"]["visibility"],
        "identity_mode": v["client"]["identity_mode"],
        "status": v["request"]["status"],
    })
}

/// Runs `dry` (which must leave every table unchanged) and then `real`; both answer the same.
async fn same<F, G>(pool: &DbPool, what: &str, dry: F, real: G) -> (Reply, Reply)
where
    F: std::future::Future<Output = Reply>,
    G: std::future::Future<Output = Reply>,
{
    let before = snapshot(pool);
    let d = dry.await;
    let after = snapshot(pool);
    let changed: Vec<&String> = before
        .iter()
        .zip(&after)
        .filter(|(a, b)| a != b)
        .map(|(a, _)| &a.0)
        .collect();
    assert!(
        changed.is_empty(),
        "{what}: the dry run changed {changed:?}"
    );
    assert_eq!(
        d.header("hearth-dry-run").as_deref(),
        Some("true"),
        "{what}"
    );
    let r = real.await;
    assert_eq!(d.status, r.status, "{what}: {} vs {}", d.body, r.body);
    assert!(r.header("hearth-dry-run").is_none(), "{what}");
    assert_eq!(gist(&d.body), gist(&r.body), "{what}");
    (d, r)
}

async fn post_dry<S: Svc>(
    app: &TestApp<S>,
    path: &str,
    token: &str,
    body: Value,
    dry: bool,
) -> Reply {
    let path = if dry {
        format!("{path}?dry_run=true")
    } else {
        path.to_string()
    };
    app.post(&path, token, body).await
}

#[actix_web::test]
async fn dry_runs_answer_like_the_real_run_and_change_no_table() {
    let (name, pool, admin_url) = private_database();
    let app = spawn_with(pool.clone()).await;
    let coc = app.coc(json!({})).await;
    let (_, worker) = member(&app, &coc, true, &[Role::CaseWorker]).await;
    let new = |first: &str| json!({"identity_mode": "identified", "first_name": first, "last_name": "Dry"});
    let r = app.post("/v1/clients", &worker, new("Grant")).await;
    let client = format!(
        "/v1/clients/{}",
        r.ok(201)["client"]["id"].as_str().unwrap()
    );

    // Grant (window mode).
    let roi = json!({"method": "signed"});
    let path = format!("{client}/consents");
    let (_, granted) = same(
        &pool,
        "grant",
        post_dry(&app, &path, &worker, roi.clone(), true),
        post_dry(&app, &path, &worker, roi.clone(), false),
    )
    .await;
    assert_eq!(granted.body["client"]["visibility"], "open");
    let cid = granted.body["consent"]["id"].as_str().unwrap().to_string();

    // Revoke.
    let path = format!("{client}/consents/{cid}/revoke");
    let (d, _) = same(
        &pool,
        "revoke",
        post_dry(&app, &path, &worker, json!({}), true),
        post_dry(&app, &path, &worker, json!({}), false),
    )
    .await;
    assert_eq!(d.body["client"]["visibility"], "closed");

    // Visibility.
    let path = format!("{client}/visibility");
    let body = json!({"visibility": "private"});
    let (d, _) = same(
        &pool,
        "visibility",
        app.put(&format!("{path}?dry_run=true"), &worker, body.clone()),
        app.put(&path, &worker, body.clone()),
    )
    .await;
    assert_eq!(d.body["client"]["visibility"], "private");

    // Designate sharing.
    let r = app
        .post(
            "/v1/clients",
            &worker,
            json!({"identity_mode": "code_name", "first_name": "Sparrow"}),
        )
        .await;
    let code = format!(
        "/v1/clients/{}/designate-sharing",
        r.ok(201)["client"]["id"].as_str().unwrap()
    );
    let body = json!({"visibility": "closed", "first_name": "Sam", "last_name": "Dry"});
    let (d, _) = same(
        &pool,
        "designate sharing",
        post_dry(&app, &code, &worker, body.clone(), true),
        post_dry(&app, &code, &worker, body.clone(), false),
    )
    .await;
    assert_eq!(d.body["client"]["identity_mode"], "identified");

    // Split (a CoC whose policy is split mode).
    let split_coc = app.coc(json!({"roi_grant_mode": "split"})).await;
    let (_, split_worker) = member(&app, &split_coc, true, &[Role::CaseWorker]).await;
    let r = app.post("/v1/clients", &split_worker, new("Split")).await;
    let path = format!(
        "/v1/clients/{}/consents",
        r.ok(201)["client"]["id"].as_str().unwrap()
    );
    let (d, _) = same(
        &pool,
        "split",
        post_dry(&app, &path, &split_worker, roi.clone(), true),
        post_dry(&app, &path, &split_worker, roi.clone(), false),
    )
    .await;
    assert!(d.body["superseded_client_id"].is_string(), "{}", d.body);

    // Merge.
    let p = pair(&app).await;
    let path = format!("/v1/clients/{}/merge", p.survivor);
    let body = json!({"duplicate_id": p.duplicate, "confirm_same_person": true});
    same(
        &pool,
        "merge",
        post_dry(&app, &path, &p.admin, body.clone(), true),
        post_dry(&app, &path, &p.admin, body.clone(), false),
    )
    .await;
    // The preview showed the survivor in full: its accounting of disclosures says so.
    let r = app
        .get(&format!("/v1/clients/{}/audit", p.survivor), &p.admin)
        .await;
    let items = r.ok(200)["items"].as_array().unwrap().clone();
    assert!(
        items.iter().any(|e| e["action"] == "dry_run"),
        "the dry run is audited: {items:?}"
    );

    // De-identification completion.
    let h = household(&app, json!({})).await;
    let r = app
        .post("/v1/deidentification-requests", &h.worker, request_body(&h))
        .await;
    let path = format!(
        "/v1/deidentification-requests/{}/complete",
        r.ok(201)["request"]["id"].as_str().unwrap()
    );
    let (d, _) = same(
        &pool,
        "de-identification",
        post_dry(&app, &path, &app.admin, json!({}), true),
        post_dry(&app, &path, &app.admin, json!({}), false),
    )
    .await;
    assert_eq!(d.body["request"]["status"], "completed");

    // A body that fails answers the same 4xx dry as real, and changes nothing.
    let r = app.post("/v1/clients", &worker, new("Fail")).await;
    let failing = r.ok(201)["client"]["id"].as_str().unwrap().to_string();
    let bad_roi =
        json!({"method": "signed", "effective_from": "2024-05-01", "expires_on": "2024-04-01"});
    let cases: Vec<(String, Value, &str)> = vec![
        (format!("/v1/clients/{failing}/consents"), bad_roi, "grant"),
        (
            format!("/v1/clients/{}/merge", p.survivor),
            json!({"duplicate_id": failing}),
            "merge",
        ),
        (path.clone(), json!({}), "completing a completed request"),
        (
            format!("/v1/clients/{failing}/designate-sharing"),
            json!({"visibility": "closed"}),
            "designate",
        ),
    ];
    for (path, body, what) in cases {
        let before = snapshot(&pool);
        let d = post_dry(
            &app,
            &path,
            &worker_or_admin(&app, &worker, what),
            body.clone(),
            true,
        )
        .await;
        assert_eq!(before, snapshot(&pool), "{what}");
        let r = post_dry(
            &app,
            &path,
            &worker_or_admin(&app, &worker, what),
            body,
            false,
        )
        .await;
        assert!(d.status.is_client_error(), "{what}: {}", d.body);
        assert_eq!((d.status, &d.body), (r.status, &r.body), "{what}");
    }
    let r = send(
        &app,
        "PUT",
        &format!("/v1/clients/{failing}/visibility?dry_run=true"),
        &worker,
        Some(json!({"visibility": "sideways"})),
        ("X-Request-Id", "dry-1"),
    )
    .await;
    r.problem(422);
    let r = app
        .post(
            &format!("/v1/clients/{failing}/consents?dry_run=maybe"),
            &worker,
            json!({"method": "signed"}),
        )
        .await;
    assert_eq!(r.problem(422)["errors"][0]["field"], "dry_run");

    drop(app);
    drop(pool);
    let mut admin = PgConnection::establish(&admin_url).unwrap();
    let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"));
}

fn worker_or_admin<S: Svc>(app: &TestApp<S>, worker: &str, what: &str) -> String {
    match what {
        "completing a completed request" | "merge" => app.admin.clone(),
        _ => worker.to_string(),
    }
}
