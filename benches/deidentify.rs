//! De-identifying a household of 4 with 200 case notes each, with 10,000 and then 100,000 other
//! clients in the database (same run, same cluster): the time of the completion's transaction
//! (what the caller waits for) must not grow with the rest of the database; the VACUUM after it
//! (run after the answer) is reported beside it.
//!
//! `cargo bench --bench deidentify` (release build). Uses `DATABASE_URL`'s cluster when set
//! (a database `hearth_bench_deid` is created and dropped on it), otherwise a throwaway cluster
//! under the system temp dir. Knobs: `BENCH_ROUNDS` (households per size, default 3).

use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use hearth::auth::Principal;
use hearth::consent::Role;
use hearth::db::embedded::{EmbeddedOptions, EmbeddedPostgres};
use hearth::db::{build_pool, run_migrations, SessionSettings};
use hearth::service::context::Caller;
use hearth::service::{clients, deidentify, stays};
use serde_json::json;
use uuid::Uuid;

const AGENCY: Uuid = Uuid::from_u128(0x0000_0000_0000_4000_8000_0000_0000_0b01);
const PROJECT: Uuid = Uuid::from_u128(0x0000_0000_0000_4000_8000_0000_0000_0b21);

fn parse<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> T {
    serde_json::from_value(v).expect("body")
}

fn caller(role: Role, agency: Option<Uuid>) -> Caller {
    Caller::new(
        Principal {
            sub: "bench".into(),
            agency_id: agency,
            roles: vec![role],
        },
        "bench".into(),
        Some("bench".into()),
    )
}

/// Other clients `from..to`, each with a stay and two notes.
fn load_others(conn: &mut PgConnection, from: i64, to: i64) {
    conn.batch_execute(&format!(
        "INSERT INTO clients (id, short_uid, person_id, coc_code, created_by_agency, created_by_user,
             identity_mode, visibility, first_name, last_name, name_quality, ssn, ssn_quality, dob, dob_quality)
         SELECT md5('c' || g)::uuid, 'B' || lpad(g::text, 8, '0'), md5('p' || g)::uuid, 'WA-502', '{AGENCY}',
                'bench', 'identified', 'closed', 'First' || g, 'Last' || g, 1,
                (200000000 + g)::text, 1, date '1950-01-01' + (g % 20000)::int, 1
           FROM generate_series({from}, {to} - 1) g;
         INSERT INTO client_contributors (client_id, agency_id)
         SELECT md5('c' || g)::uuid, '{AGENCY}' FROM generate_series({from}, {to} - 1) g;
         INSERT INTO enrollments (id, client_id, project_id, household_id, relationship_to_hoh, entry_date,
             entered_by_agency, entered_by_user, collected_on)
         SELECT md5('e' || g)::uuid, md5('c' || g)::uuid, '{PROJECT}', md5('h' || g)::uuid, 1, date '2024-01-01',
                '{AGENCY}', 'bench', date '2024-01-01'
           FROM generate_series({from}, {to} - 1) g;
         INSERT INTO enrollment_data (id, kind, enrollment_id, client_id, occurred_on, text, entered_by_agency,
             entered_by_user, collected_on)
         SELECT gen_random_uuid(), 'case_note', md5('e' || g)::uuid, md5('c' || g)::uuid, date '2024-01-02',
                'First' || g || ' came in; call 509-555-' || lpad((g % 10000)::text, 4, '0'),
                '{AGENCY}', 'bench', date '2024-01-02'
           FROM generate_series({from}, {to} - 1) g, generate_series(1, 2) n;"
    ))
    .expect("load other clients");
    conn.batch_execute("VACUUM ANALYZE").expect("vacuum");
}

/// A household of 4 with 200 notes each, and a filed request: its id.
fn household(conn: &mut PgConnection, round: usize) -> Uuid {
    let worker = caller(Role::CaseWorker, Some(AGENCY));
    let mut ids = Vec::new();
    let mut hh = None;
    for i in 0..4 {
        let body = json!({"identity_mode": "identified", "first_name": format!("Bench{round}x{i}"),
                          "last_name": "Household", "ssn": format!("5247{round:01}{i:01}993"), "dob": "1981-06-14"});
        let c = clients::create(conn, &worker, parse(body))
            .expect("client")
            .client
            .id;
        let mut stay = json!({"project_id": PROJECT, "entry_date": "2024-01-10", "relationship_to_hoh": if i == 0 { 1 } else { 2 }});
        if let Some(h) = hh {
            stay["household_id"] = json!(h);
        }
        let e = stays::create(conn, &worker, c, parse(stay))
            .expect("stay")
            .enrollment;
        hh.get_or_insert(e.household_id);
        conn.batch_execute(&format!(
            "INSERT INTO enrollment_data (id, kind, enrollment_id, client_id, occurred_on, text, entered_by_agency,
                 entered_by_user, collected_on)
             SELECT gen_random_uuid(), 'case_note', '{}', '{c}', date '2024-01-11',
                    'Note ' || n || ': Bench{round}x{i} Household (DOB 6/14/1981, SSN 524-{round}{i}-9930) called from (509) 555-0142.',
                    '{AGENCY}', 'bench', date '2024-01-11'
               FROM generate_series(1, 200) n",
            e.id
        ))
        .expect("notes");
        ids.push(c);
    }
    let request =
        json!({"client_id": ids[0], "member_ids": [ids[1], ids[2]], "dv_member_ids": [ids[3]]});
    deidentify::file(conn, &worker, parse(request), false)
        .expect("file")
        .request
        .id
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn measure(conn: &mut PgConnection, rounds: usize, offset: usize) -> (Duration, Duration) {
    let admin = caller(Role::SystemAdmin, None);
    let (mut total, mut vacuum) = (Vec::new(), Vec::new());
    for r in 0..rounds {
        let id = household(conn, offset + r);
        let t = Instant::now();
        let out = deidentify::complete(conn, &admin, id, false).expect("complete");
        total.push(t.elapsed());
        assert!(
            out.changes.iter().any(|c| c.contains("800 datum")),
            "{:?}",
            out.changes
        );
        let t = Instant::now();
        deidentify::vacuum_after(conn).expect("vacuum");
        vacuum.push(t.elapsed());
    }
    (median(total), median(vacuum))
}

fn main() {
    let rounds: usize = std::env::var("BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let mut embedded = None;
    let base = match std::env::var("DATABASE_URL").ok().filter(|u| !u.is_empty()) {
        Some(u) => u,
        None => {
            let opts = EmbeddedOptions {
                data_dir: std::env::temp_dir()
                    .join(format!("hearth-bench-deid-{}", std::process::id())),
                fast_unsafe: false,
                port: None,
            };
            let pg = EmbeddedPostgres::start_or_reuse(&opts).expect("start PostgreSQL");
            pg.ensure_database("postgres").ok();
            let url = pg.database_url("postgres");
            embedded = Some(pg);
            url
        }
    };
    let (root, _) = base.rsplit_once('/').expect("a database URL");
    let mut admin = PgConnection::establish(&format!("{root}/postgres")).expect("connect");
    for sql in [
        "DROP DATABASE IF EXISTS hearth_bench_deid WITH (FORCE)",
        "CREATE DATABASE hearth_bench_deid",
    ] {
        admin.batch_execute(sql).expect("create database");
    }
    let settings = SessionSettings {
        statement_timeout: Duration::from_secs(600),
        test_transaction: false,
    };
    let pool = build_pool(
        &format!("{root}/hearth_bench_deid"),
        2,
        Duration::from_secs(10),
        settings,
    )
    .expect("pool");
    let mut conn = pool.get().expect("connection");
    run_migrations(&mut conn).expect("migrate");
    conn.batch_execute(&format!(
        "INSERT INTO cocs (code, name, anonymous_dob_rule) VALUES ('WA-502', 'Spokane', 'jan1_of_next_year_unless_young_or_old');
         INSERT INTO agencies (id, coc_code, name, shares_data) VALUES ('{AGENCY}', 'WA-502', 'Bench agency', true);
         INSERT INTO projects (id, agency_id, name, project_type) VALUES ('{PROJECT}', '{AGENCY}', 'Bench shelter', 1);"
    ))
    .expect("tenants");

    let t = Instant::now();
    load_others(&mut conn, 0, 10_000);
    eprintln!("loaded 10,000 other clients in {:.1?}", t.elapsed());
    let small = measure(&mut conn, rounds, 0);
    let t = Instant::now();
    load_others(&mut conn, 10_000, 100_000);
    eprintln!("loaded 90,000 more in {:.1?}", t.elapsed());
    let large = measure(&mut conn, rounds, rounds);

    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!("De-identification of a household of 4 with 200 notes each (median of {rounds}):");
    println!(
        "| other clients | completion (the transaction, answered) | VACUUM + ANALYZE after it |"
    );
    println!("|---|---|---|");
    println!("| 10,000 | {:.0} ms | {:.0} ms |", ms(small.0), ms(small.1));
    println!(
        "| 100,000 | {:.0} ms | {:.0} ms |",
        ms(large.0),
        ms(large.1)
    );
    println!(
        "ratio 100k / 10k: completion {:.2}, vacuum {:.2}",
        ms(large.0) / ms(small.0),
        ms(large.1) / ms(small.1)
    );
    drop(conn);
    drop(pool);
    let _ = admin.batch_execute("DROP DATABASE IF EXISTS hearth_bench_deid WITH (FORCE)");
    if let Some(pg) = embedded {
        let _ = pg.stop();
    }
}
