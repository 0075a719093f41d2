//! Operations endpoints and cross-cutting conventions.

use serde_json::json;

use crate::harness::*;

#[actix_web::test]
async fn health_readiness_and_metrics() {
    let app = spawn().await;
    let r = app
        .send(Call {
            method: "GET",
            path: "/healthz",
            token: None,
            body: None,
            headers: vec![],
        })
        .await;
    assert_eq!(r.ok(200)["status"], "ok");
    let r = app
        .send(Call {
            method: "GET",
            path: "/readyz",
            token: None,
            body: None,
            headers: vec![],
        })
        .await;
    assert_eq!(r.ok(200)["migrations"], "applied");
    let _ = app.get("/v1/cocs", &app.admin).await;
    let r = app
        .send(Call {
            method: "GET",
            path: "/metrics",
            token: None,
            body: None,
            headers: vec![],
        })
        .await;
    let text = String::from_utf8(r.raw.clone()).unwrap();
    assert_eq!(r.status, 200);
    assert!(
        text.contains(
            "hearth_http_requests_total{endpoint=\"/v1/cocs\",method=\"GET\",status=\"200\"}"
        ),
        "{text}"
    );
    assert!(text.contains("hearth_http_requests_duration_seconds_bucket"));
    assert!(text.contains("hearth_db_pool_max_connections 1"));
}

#[actix_web::test]
async fn request_ids_are_echoed_or_generated() {
    let app = spawn().await;
    let r = app
        .send(Call {
            method: "GET",
            path: "/healthz",
            token: None,
            body: None,
            headers: vec![(
                "X-Request-Id",
                "0190c1b2-9932-7000-8000-0000000000c3".into(),
            )],
        })
        .await;
    assert_eq!(
        r.header("x-request-id").as_deref(),
        Some("0190c1b2-9932-7000-8000-0000000000c3")
    );
    let r = app
        .send(Call {
            method: "GET",
            path: "/healthz",
            token: None,
            body: None,
            headers: vec![],
        })
        .await;
    assert_eq!(r.header("x-request-id").map(|v| v.len()), Some(36));
    // Unsafe ids are replaced, not echoed into logs.
    let r = app
        .send(Call {
            method: "GET",
            path: "/healthz",
            token: None,
            body: None,
            headers: vec![("X-Request-Id", "a b<script>".into())],
        })
        .await;
    assert_ne!(r.header("x-request-id").as_deref(), Some("a b<script>"));
    // Errors carry it too.
    let r = app
        .send(Call {
            method: "GET",
            path: "/v1/cocs",
            token: None,
            body: None,
            headers: vec![],
        })
        .await;
    assert!(r.header("x-request-id").is_some());
}

#[actix_web::test]
async fn framework_errors_are_problems() {
    let app = spawn().await;
    let r = app.get("/no/such/route", &app.admin).await;
    r.problem(404);
    let r = app
        .send(Call {
            method: "DELETE",
            path: "/v1/cocs",
            token: Some(&app.admin),
            body: None,
            headers: vec![],
        })
        .await;
    r.problem(405);
    assert_eq!(r.header("allow").as_deref(), Some("GET, HEAD, POST"));
    let r = app.get("/v1/agencies/not-a-uuid", &app.admin).await;
    r.problem(400);
    // A malformed query value is named, like one out of range.
    let r = app.get("/v1/cocs?limit=abc", &app.admin).await;
    assert_eq!(r.problem(422)["errors"][0]["field"], "limit");
    let r = app.get("/v1/cocs?limit=0", &app.admin).await;
    assert_eq!(r.problem(422)["errors"][0]["field"], "limit");
    let r = app.get("/v1/cocs?cursor=%%%", &app.admin).await;
    assert!(r.status.is_client_error());
    let r = app
        .get("/v1/cocs?cursor=bm90LWEtY3Vyc29y", &app.admin)
        .await;
    r.problem(422);
}

#[actix_web::test]
async fn docs_are_served_offline() {
    let app = spawn().await;
    let r = app
        .send(Call {
            method: "GET",
            path: "/docs/",
            token: None,
            body: None,
            headers: vec![],
        })
        .await;
    assert_eq!(r.status, 200);
    assert!(String::from_utf8_lossy(&r.raw).contains("swagger"));
    let r = app
        .send(Call {
            method: "GET",
            path: "/docs",
            token: None,
            body: None,
            headers: vec![],
        })
        .await;
    assert!(r.status.is_redirection());
    let _ = json!({});
}

/// Every migration goes down and up again cleanly, on a database of its own.
#[test]
fn migrations_go_down_and_up() {
    use diesel::{Connection, PgConnection, RunQueryDsl};
    use diesel_migrations::MigrationHarness;
    let base = test_database_url();
    let name = format!("hearth_migrations_{}", std::process::id());
    let mut admin = PgConnection::establish(&base).unwrap();
    diesel::sql_query(format!("DROP DATABASE IF EXISTS {name}"))
        .execute(&mut admin)
        .unwrap();
    diesel::sql_query(format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .unwrap();
    let url = match base.rsplit_once('/') {
        Some((server, _)) => format!("{server}/{name}"),
        None => panic!("DATABASE_URL has no database name"),
    };
    {
        let mut conn = PgConnection::establish(&url).unwrap();
        let up = conn
            .run_pending_migrations(hearth::db::MIGRATIONS)
            .unwrap()
            .len();
        assert!(up >= 2);
        conn.revert_all_migrations(hearth::db::MIGRATIONS).unwrap();
        assert_eq!(
            conn.run_pending_migrations(hearth::db::MIGRATIONS)
                .unwrap()
                .len(),
            up
        );
        assert!(hearth::db::migrations_applied(&mut conn).unwrap());
    }
    diesel::sql_query(format!("DROP DATABASE {name}"))
        .execute(&mut admin)
        .unwrap();
}

/// The audit trail is append-only for every database role, the application's included.
#[actix_web::test]
async fn audit_events_are_append_only() {
    use diesel::{Connection, RunQueryDsl};
    let pool = test_pool();
    let app = spawn_with(pool.clone()).await;
    let coc = app.coc(json!({})).await;
    let agency = app.agency(&coc, false).await;
    let w = app.token("w", &[hearth::consent::Role::CaseWorker], Some(agency));
    app.post(
        "/v1/clients",
        &w,
        json!({"identity_mode": "anonymous", "birth_year": 1990}),
    )
    .await
    .ok(201);
    let mut conn = pool.get().unwrap();
    for sql in [
        "UPDATE audit_events SET action = 'tampered'",
        "DELETE FROM audit_events",
        "TRUNCATE audit_events",
    ] {
        let r = conn.transaction(|c| diesel::sql_query(sql).execute(c));
        let e = r.expect_err(sql).to_string();
        assert!(e.contains("append-only"), "{sql}: {e}");
    }
    let n: i64 = diesel::dsl::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
        "count(*) FROM audit_events",
    ))
    .get_result(&mut conn)
    .unwrap();
    assert!(n >= 1);
}
