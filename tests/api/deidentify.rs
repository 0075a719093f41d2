//! De-identification requests (Spokane job aid; consent.md "De-identify an existing client").
//!
//! The residue test plants unique canaries in every place a client's PII can reach, checks
//! that a scan of every text, varchar, json, jsonb and bytea column of every table (listed from
//! information_schema, so a table added later is covered) finds each one, completes the
//! request, and scans again: none may remain.

use base64::Engine;
use diesel::prelude::*;
use diesel::sql_types::{Array, Text};
use hearth::consent::Role;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::clients::{member, send, Svc};
use crate::fixtures::days_ago;
use crate::harness::*;

const REQUESTS: &str = "/v1/deidentification-requests";

fn letters(n: usize) -> String {
    (0..n)
        .map(|_| (b'a' + rand::random::<u8>() % 26) as char)
        .collect()
}

/// A name no other test run holds.
fn canary_name() -> String {
    format!("Qz{}", letters(9))
}

/// A valid, random nine-digit SSN.
fn canary_ssn() -> String {
    let area = 100 + rand::random::<u32>() % 565;
    let group = 10 + rand::random::<u32>() % 89;
    let serial = 1000 + rand::random::<u32>() % 8999;
    format!("{area:03}{group:02}{serial:04}")
}

pub(crate) struct Household {
    pub coc: String,
    pub worker: String,
    pub agency: Uuid,
    pub head: String,
    pub member: String,
    pub dv: String,
    pub head_stay: String,
    pub dv_stay: String,
}

/// An identified client: its id.
async fn person<S: Svc>(app: &TestApp<S>, token: &str, body: Value, key: Option<&str>) -> String {
    let headers = key
        .map(|k| vec![("Idempotency-Key", k.to_string())])
        .unwrap_or_default();
    let r = app
        .send(Call {
            method: "POST",
            path: "/v1/clients",
            token: Some(token),
            body: Some(body),
            headers,
        })
        .await;
    r.ok(201)["client"]["id"].as_str().unwrap().to_string()
}

async fn enroll<S: Svc>(
    app: &TestApp<S>,
    token: &str,
    client: &str,
    project: Uuid,
    household: Option<&str>,
    rel: i16,
) -> Value {
    let mut body =
        json!({"project_id": project, "entry_date": "2024-01-10", "relationship_to_hoh": rel});
    if let Some(h) = household {
        body["household_id"] = json!(h);
    }
    let r = app
        .post(&format!("/v1/clients/{client}/enrollments"), token, body)
        .await;
    r.ok(201)["enrollment"].clone()
}

/// A household of three identified clients (head, member, a member fleeing DV) in one stay.
pub(crate) async fn household<S: Svc>(app: &TestApp<S>, policy: Value) -> Household {
    let coc = app.coc(policy).await;
    let (agency, worker) = member(app, &coc, true, &[Role::CaseWorker]).await;
    let project = app.project(agency, 1).await;
    let mk = |first: &str| json!({"identity_mode": "identified", "first_name": first, "last_name": "Kettleby", "dob": "1980-05-06"});
    let head = person(app, &worker, mk("Headperson"), None).await;
    let member_id = person(app, &worker, mk("Memberperson"), None).await;
    let dv = person(app, &worker, mk("Fleeingperson"), None).await;
    let head_stay = enroll(app, &worker, &head, project, None, 1).await;
    let h = head_stay["household_id"].as_str().unwrap().to_string();
    enroll(app, &worker, &member_id, project, Some(&h), 2).await;
    let dv_stay = enroll(app, &worker, &dv, project, Some(&h), 3).await;
    Household {
        coc,
        worker,
        agency,
        head,
        member: member_id,
        dv,
        head_stay: head_stay["id"].as_str().unwrap().to_string(),
        dv_stay: dv_stay["id"].as_str().unwrap().to_string(),
    }
}

pub(crate) fn request_body(h: &Household) -> Value {
    json!({"client_id": h.head, "member_ids": [h.member], "dv_member_ids": [h.dv],
           "description": "Please make this household anonymous; one member is fleeing DV."})
}

#[derive(QueryableByName)]
struct Col {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    data_type: String,
}

#[derive(QueryableByName)]
struct Hit {
    #[diesel(sql_type = Text)]
    p: String,
}

/// Which canaries appear anywhere: every text, varchar, json, jsonb and bytea column (and text
/// arrays) of every table in the schema, as information_schema lists them now.
pub(crate) fn canaries_found(
    conn: &mut PgConnection,
    canaries: &[String],
) -> Vec<(String, String)> {
    let cols: Vec<Col> = diesel::sql_query(
        "SELECT c.table_name::text AS table_name, c.column_name::text AS column_name, c.data_type::text AS data_type \
           FROM information_schema.columns c JOIN information_schema.tables t \
             ON t.table_schema = c.table_schema AND t.table_name = c.table_name \
          WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE' \
            AND (c.data_type IN ('text', 'character varying', 'character', 'json', 'jsonb', 'bytea') \
                 OR (c.data_type = 'ARRAY' AND c.udt_name IN ('_text', '_varchar')))",
    )
    .load(conn)
    .unwrap();
    assert!(
        cols.len() > 20,
        "the scan covers every text column: {}",
        cols.len()
    );
    let mut found = Vec::new();
    for c in cols {
        let matches = if c.data_type == "bytea" {
            format!(
                "position(convert_to(p, 'UTF8') in t.\"{}\") > 0",
                c.column_name
            )
        } else {
            format!("t.\"{}\"::text ILIKE '%' || p || '%'", c.column_name)
        };
        let sql = format!(
            "SELECT DISTINCT p FROM \"{}\" t, unnest($1::text[]) p WHERE {matches}",
            c.table_name
        );
        let hits: Vec<Hit> = diesel::sql_query(sql)
            .bind::<Array<Text>, _>(canaries)
            .load(conn)
            .unwrap();
        for h in hits {
            found.push((h.p, format!("{}.{}", c.table_name, c.column_name)));
        }
    }
    found
}

#[actix_web::test]
async fn completion_leaves_no_canary_in_any_table() {
    let pool = committing_pool(2);
    let app = spawn_with(pool.clone()).await;
    let coc = app.coc(json!({})).await;
    let (agency, worker) = member(&app, &coc, true, &[Role::CaseWorker]).await;
    let project = app.project(agency, 1).await;

    let (head_first, head_last, alias) = (canary_name(), canary_name(), canary_name());
    let (mem_first, mem_last, dv_first) = (canary_name(), canary_name(), canary_name());
    let head_ssn = canary_ssn();
    let mem_ssn = canary_ssn();
    let dob = chrono::NaiveDate::from_ymd_opt(
        1950 + (rand::random::<u32>() % 40) as i32,
        1 + rand::random::<u32>() % 12,
        1 + rand::random::<u32>() % 28,
    )
    .unwrap();
    let street = format!(
        "{} W {} Blvd",
        100 + rand::random::<u32>() % 800,
        canary_name()
    );
    let email = format!("{}@example.org", letters(12));
    let phone = format!("(509) 555-{:04}", rand::random::<u32>() % 10_000);
    let doc_word = canary_name();
    let key = format!("idem-{}", letters(10));

    // The head, through the idempotency store (its stored response holds name, SSN and DOB).
    let head = person(
        &app,
        &worker,
        json!({"identity_mode": "identified", "first_name": head_first, "last_name": head_last,
               "alias": alias, "ssn": head_ssn, "dob": dob, "veteran_status": 0}),
        Some(&key),
    )
    .await;
    let mem = person(
        &app,
        &worker,
        json!({"identity_mode": "identified", "first_name": mem_first, "last_name": mem_last, "ssn": mem_ssn}),
        None,
    )
    .await;
    let dv = person(
        &app,
        &worker,
        json!({"identity_mode": "identified", "first_name": dv_first, "last_name": "Household"}),
        None,
    )
    .await;
    let stay = enroll(&app, &worker, &head, project, None, 1).await;
    let hh = stay["household_id"].as_str().unwrap().to_string();
    let stay = stay["id"].as_str().unwrap().to_string();
    let mem_stay = enroll(&app, &worker, &mem, project, Some(&hh), 2).await;
    let dv_stay = enroll(&app, &worker, &dv, project, Some(&hh), 3).await;

    for (client, kind, value) in [
        (&head, "address", street.as_str()),
        (&head, "email", email.as_str()),
        (&mem, "phone", phone.as_str()),
    ] {
        let r = app
            .post(
                &format!("/v1/clients/{client}/contacts"),
                &worker,
                json!({"kind": kind, "value": value}),
            )
            .await;
        r.ok(201);
    }
    let content = base64::engine::general_purpose::STANDARD
        .encode(format!("ID card of {head_first} {doc_word}"));
    let r = app
        .post(
            &format!("/v1/clients/{head}/documents"),
            &worker,
            json!({"file_name": format!("{doc_word}.txt"), "content_type": "text/plain",
                   "content_base64": content, "description": format!("{head_last} license")}),
        )
        .await;
    r.ok(201);
    let d = |f: &str| dob.format(f).to_string();
    let (a, b, c) = (&head_ssn[..3], &head_ssn[3..5], &head_ssn[5..]);
    let note = format!(
        "Met {head_first} {head_last} (goes by {alias}) with {mem_first}. SSN {a}-{b}-{c}, \
         also written {a} {b} {c}; card ending {c}. DOB {} / {} / {}. Lives at {street}, \
         call {phone} or {email}. {dv_first} is fleeing DV.",
        d("%m/%d/%Y"),
        d("%B %-d, %Y"),
        d("%Y-%m-%d"),
    );
    let r = app
        .post(
            &format!("/v1/enrollments/{stay}/notes"),
            &worker,
            json!({"note_date": "2024-02-01", "text": note}),
        )
        .await;
    r.ok(201);
    let r = app
        .post(
            &format!(
                "/v1/enrollments/{}/assessments",
                mem_stay["id"].as_str().unwrap()
            ),
            &worker,
            json!({"assessment_date": "2024-02-02", "assessment_type": 3, "assessment_level": 2,
                   "assessment_location": format!("{mem_last} kitchen"),
                   "text": format!("{mem_first} {mem_last}, SSN {mem_ssn}")}),
        )
        .await;
    r.ok(201);
    let r = app
        .post(
            &format!("/v1/clients/{head}/consents"),
            &worker,
            json!({"method": "signed", "documentation_note": format!("Signed by {head_last} in binder 3")}),
        )
        .await;
    r.ok(201);
    // A break-glass read whose stated reason names the client is refused (the server knows the
    // record's names); one naming another member of the household lands in the audit trail.
    let r = send(
        &app,
        "GET",
        &format!("/v1/clients/{head}"),
        &app.admin,
        None,
        ("X-Access-Reason", &format!("Ticket about {head_last}")),
    )
    .await;
    r.problem(400);
    let reason = format!("Ticket about {mem_last}");
    let r = send(
        &app,
        "GET",
        &format!("/v1/clients/{head}"),
        &app.admin,
        None,
        ("X-Access-Reason", &reason),
    )
    .await;
    r.ok(200);
    // A description naming the client is refused (the CoC's admins read it without PII) ...
    let body = |description: String| {
        json!({"client_id": head, "member_ids": [mem], "dv_member_ids": [dv],
               "description": description})
    };
    let r = app
        .post(
            REQUESTS,
            &worker,
            body(format!("Please make {head_first} and family anonymous")),
        )
        .await;
    assert_eq!(r.problem(422)["errors"][0]["code"], "names_the_client");
    let r = app
        .post(
            REQUESTS,
            &worker,
            body("Please make this family anonymous".into()),
        )
        .await;
    let request = r.ok(201)["request"]["id"].as_str().unwrap().to_string();
    // ... but one filed before that check existed may hold a name: the completion scrubs it.
    diesel::sql_query("UPDATE deidentification_requests SET description = $1 WHERE id = $2")
        .bind::<Text, _>(format!("Please make {head_first} and family anonymous"))
        .bind::<diesel::sql_types::Uuid, _>(request.parse::<Uuid>().unwrap())
        .execute(&mut pool.get().unwrap())
        .unwrap();

    let canaries: Vec<String> = vec![
        head_first.clone(),
        head_last.clone(),
        alias,
        mem_first,
        mem_last,
        dv_first,
        head_ssn.clone(),
        format!("{a}-{b}-{c}"),
        format!("{a} {b} {c}"),
        format!("ending {c}"),
        mem_ssn,
        d("%Y-%m-%d"),
        d("%m/%d/%Y"),
        d("%B %-d, %Y"),
        street,
        email,
        phone,
        doc_word,
    ];
    let mut conn = pool.get().unwrap();
    let before = canaries_found(&mut conn, &canaries);
    for c in &canaries {
        assert!(
            before.iter().any(|(p, _)| p == c),
            "positive control: {c} planted but not found; found {before:?}"
        );
    }
    let places: std::collections::BTreeSet<&str> = before.iter().map(|(_, w)| w.as_str()).collect();
    for want in [
        "clients.first_name",
        "clients.ssn",
        "contacts.value",
        "documents.content",
        "documents.file_name",
        "enrollment_data.text",
        "enrollment_data.fields",
        "roi_consents.documentation_note",
        "audit_events.access_reason",
        "idempotency_keys.response_body",
        "deidentification_requests.description",
    ] {
        assert!(places.contains(want), "canaries reached {want}: {places:?}");
    }

    let r = app
        .post(
            &format!("{REQUESTS}/{request}/complete"),
            &app.admin,
            json!({}),
        )
        .await;
    let out = r.ok(200);
    assert_eq!(out["request"]["status"], "completed", "{out}");
    let after = canaries_found(&mut conn, &canaries);
    assert!(
        after.is_empty(),
        "residue after de-identification: {after:?}"
    );

    // The records stay, found by id, anonymous in the CoC policy's form (uid_anonymous, Jan 1).
    let r = send(
        &app,
        "GET",
        &format!("/v1/clients/{head}"),
        &app.admin,
        None,
        ("X-Access-Reason", "ticket 12"),
    )
    .await;
    let v = r.ok(200);
    assert_eq!(v["identity_mode"], "anonymous", "{v}");
    assert_eq!(v["last_name"], "Anonymous", "{v}");
    assert_eq!(v["first_name"], v["short_uid"], "{v}");
    assert_eq!(v["dob"], format!("{}-01-01", dob.format("%Y")), "{v}");
    assert!(v["ssn"].is_null(), "{v}");
    let r = app
        .get(&format!("/v1/clients/{head}/contacts"), &worker)
        .await;
    assert_eq!(r.ok(200)["items"], json!([]));
    // The member fleeing DV heads a household of its own.
    let r = app
        .get(
            &format!("/v1/enrollments/{}", dv_stay["id"].as_str().unwrap()),
            &worker,
        )
        .await;
    let moved = r.ok(200);
    assert_ne!(moved["household_id"].as_str().unwrap(), hh);
    assert_eq!(moved["relationship_to_hoh"], 1);
    // A replay of the first request answers a problem: not the old values, not a scrubbed copy.
    let r = app
        .send(Call {
            method: "POST",
            path: "/v1/clients",
            token: Some(&worker),
            body: Some(json!({"identity_mode": "identified", "first_name": head_first, "last_name": head_last,
                              "alias": canaries[2], "ssn": head_ssn, "dob": dob, "veteran_status": 0})),
            headers: vec![("Idempotency-Key", key)],
        })
        .await;
    assert_eq!(
        r.problem(409)["type"],
        "urn:hearth:problem:idempotent-replay-record-deidentified"
    );
    assert!(
        !String::from_utf8_lossy(&r.raw).contains(&head_first),
        "replay leaks: {}",
        r.body
    );
}

/// Records merged into the client (Z into Y, then Y into X) held the same person's identity:
/// completing X's de-identification scrubs their tombstones the same way (consent.md: "nothing
/// of the old values left anywhere in the database"), and the moved note and contact with them.
/// A scan of every text column of every table finds none of their values afterwards.
#[actix_web::test]
async fn completion_scrubs_the_records_merged_into_the_client() {
    let pool = test_pool();
    let app = spawn_with(pool.clone()).await;
    let coc = app.coc(json!({})).await;
    let (agency, worker) = member(&app, &coc, true, &[Role::CaseWorker]).await;
    let admin = app.token(&format!("aa-{agency}"), &[Role::AgencyAdmin], Some(agency));
    let project = app.project(agency, 1).await;
    let (x_first, x_last) = (canary_name(), canary_name());
    let (y_first, y_last, y_alias, z_first) =
        (canary_name(), canary_name(), canary_name(), canary_name());
    let (y_ssn, z_ssn) = (canary_ssn(), canary_ssn());
    let phone = format!("(509) 555-{:04}", rand::random::<u32>() % 10_000);
    let x = person(
        &app,
        &worker,
        json!({"identity_mode": "identified", "first_name": x_first, "last_name": x_last}),
        None,
    )
    .await;
    let y = person(
        &app,
        &worker,
        json!({"identity_mode": "identified", "first_name": y_first, "last_name": y_last,
               "alias": y_alias, "ssn": y_ssn, "dob": "1971-03-17"}),
        None,
    )
    .await;
    let z = person(
        &app,
        &worker,
        json!({"identity_mode": "identified", "first_name": z_first, "last_name": y_last,
               "ssn": z_ssn, "dob": "1971-03-17"}),
        None,
    )
    .await;
    let stay = enroll(&app, &worker, &y, project, None, 1).await;
    let r = app
        .post(
            &format!("/v1/enrollments/{}/notes", stay["id"].as_str().unwrap()),
            &worker,
            json!({"note_date": "2024-02-01", "text": format!("{y_first} goes by {y_alias}; sister {z_first}")}),
        )
        .await;
    r.ok(201);
    app.post(
        &format!("/v1/clients/{y}/contacts"),
        &worker,
        json!({"kind": "phone", "value": phone}),
    )
    .await
    .ok(201);
    for (survivor, duplicate) in [(&y, &z), (&x, &y)] {
        let r = app
            .post(
                &format!("/v1/clients/{survivor}/merge"),
                &admin,
                json!({"duplicate_id": duplicate, "confirm_same_person": true}),
            )
            .await;
        r.ok(200);
    }
    // A suspected duplicate listed but left unmerged keeps its identity: the answer says so.
    let w = person(
        &app,
        &worker,
        json!({"identity_mode": "identified", "first_name": "Walda", "last_name": "Twin"}),
        None,
    )
    .await;
    let r = app
        .post(
            REQUESTS,
            &worker,
            json!({"client_id": x, "duplicate_ids": [w]}),
        )
        .await;
    let request = r.ok(201)["request"]["id"].as_str().unwrap().to_string();

    let canaries: Vec<String> = vec![
        x_first, x_last, y_first, y_last, y_alias, z_first, y_ssn, z_ssn, phone,
    ];
    let before = canaries_found(&mut pool.get().unwrap(), &canaries);
    for c in &canaries {
        assert!(
            before.iter().any(|(p, _)| p == c),
            "positive control: {c} planted but not found; found {before:?}"
        );
    }
    let r = app
        .post(
            &format!("{REQUESTS}/{request}/complete"),
            &app.admin,
            json!({}),
        )
        .await;
    let out = r.ok(200).clone();
    let after = canaries_found(&mut pool.get().unwrap(), &canaries);
    assert!(
        after.is_empty(),
        "residue after de-identification: {after:?}"
    );
    assert!(
        out["changes"]
            .to_string()
            .contains("2 other record(s) of the same person"),
        "{out}"
    );
    assert!(
        out["warnings"]
            .to_string()
            .contains("1 listed suspected duplicate(s) were not merged"),
        "{out}"
    );
    // The same at the level of the columns: the tombstones are anonymous, with no SSN, alias
    // or exact DOB, and still name their survivor.
    #[derive(QueryableByName)]
    struct Tomb {
        #[diesel(sql_type = Text)]
        identity_mode: String,
        #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
        last_name: Option<String>,
        #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
        ssn: Option<String>,
        #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
        alias: Option<String>,
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Date>)]
        dob: Option<chrono::NaiveDate>,
    }
    for id in [&y, &z] {
        let t: Tomb = diesel::sql_query(
            "SELECT identity_mode, last_name, ssn, alias, dob FROM clients WHERE id = $1",
        )
        .bind::<diesel::sql_types::Uuid, _>(id.parse::<Uuid>().unwrap())
        .get_result(&mut pool.get().unwrap())
        .unwrap();
        assert_eq!(t.identity_mode, "anonymous");
        assert_eq!(t.last_name.as_deref(), Some("Anonymous"));
        assert!(t.ssn.is_none() && t.alias.is_none());
        assert_ne!(t.dob, chrono::NaiveDate::from_ymd_opt(1971, 3, 17));
    }
    let r = app.get(&format!("/v1/clients/{y}"), &worker).await;
    let v = r.ok(200);
    assert_eq!(v["identity_mode"], "anonymous", "{v}");
    assert_eq!(v["merged_into"], json!(x), "{v}");
}

/// The answer a replay would give after de-identification: the case worker created the record
/// (and added a contact) under keys; once the record is de-identified, a replay of either key
/// answers 409 `idempotent-replay-record-deidentified` (no former value, no `[removed]` where
/// the schema wants a date, no Idempotent-Replayed) and writes nothing, with the same body or
/// another; the stored answers hold nothing but ids.
#[actix_web::test]
async fn a_replay_after_deidentification_answers_a_problem_and_writes_nothing() {
    let pool = test_pool();
    let app = spawn_with(pool.clone()).await;
    let coc = app.coc(json!({})).await;
    let (agency, worker) = member(&app, &coc, true, &[Role::CaseWorker]).await;
    let first = canary_name();
    let body = json!({"identity_mode": "identified", "first_name": first, "last_name": "Replayed",
                      "dob": "1984-07-19", "ssn": canary_ssn()});
    let client = person(&app, &worker, body.clone(), Some("intake-1")).await;
    let contacts = format!("/v1/clients/{client}/contacts");
    let contact = json!({"kind": "email", "value": format!("{}@example.org", letters(10))});
    let keyed = |path: &str, body: Value, key: &str| Call {
        method: "POST",
        path: if path == "clients" {
            "/v1/clients"
        } else {
            &contacts
        },
        token: Some(&worker),
        body: Some(body),
        headers: vec![("Idempotency-Key", key.to_string())],
    };
    app.send(keyed("contacts", contact.clone(), "contact-1"))
        .await
        .ok(201);
    // Before: a replay answers the first result.
    let r = app.send(keyed("clients", body.clone(), "intake-1")).await;
    assert_eq!(r.header("idempotent-replayed").as_deref(), Some("true"));
    assert_eq!(r.ok(201)["client"]["first_name"], first);

    let r = app
        .post(REQUESTS, &worker, json!({"client_id": client}))
        .await;
    let request = r.ok(201)["request"]["id"].as_str().unwrap().to_string();
    let r = app
        .post(
            &format!("{REQUESTS}/{request}/complete"),
            &app.admin,
            json!({}),
        )
        .await;
    let out = r.ok(200);
    assert!(
        out["changes"]
            .to_string()
            .contains("2 stored idempotent answer(s) dropped"),
        "{out}"
    );

    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let records = |pool: &hearth::db::DbPool| {
        diesel::sql_query("SELECT count(*) AS n FROM clients WHERE created_by_agency = $1")
            .bind::<diesel::sql_types::Uuid, _>(agency)
            .get_result::<N>(&mut pool.get().unwrap())
            .unwrap()
            .n
    };
    assert_eq!(records(&pool), 1);
    let mut other = body.clone();
    other["first_name"] = json!("Someoneelse");
    for (what, body, key) in [
        ("clients", body.clone(), "intake-1"),
        ("clients", other, "intake-1"),
        ("contacts", contact, "contact-1"),
    ] {
        let r = app.send(keyed(what, body, key)).await;
        assert_eq!(
            r.problem(409)["type"],
            "urn:hearth:problem:idempotent-replay-record-deidentified",
            "{what}"
        );
        assert!(r.header("idempotent-replayed").is_none());
        let raw = String::from_utf8_lossy(&r.raw).to_string();
        assert!(
            !raw.contains(&first) && !raw.contains("1984") && !raw.contains("[removed]"),
            "{raw}"
        );
    }
    assert_eq!(records(&pool), 1, "a replay created nothing");
    let r = app.get(&contacts, &worker).await;
    assert_eq!(r.ok(200)["items"], json!([]), "a replay wrote no contact");
    // The stored answers keep the keys taken and nothing else of the requests.
    #[derive(QueryableByName)]
    struct Stored {
        #[diesel(sql_type = Text)]
        fingerprint: String,
        #[diesel(sql_type = Text)]
        body: String,
    }
    let stored: Vec<Stored> = diesel::sql_query(
        "SELECT request_fingerprint AS fingerprint, response_body::text AS body FROM idempotency_keys \
          WHERE client_id = $1 AND deidentified_at IS NOT NULL AND response_location IS NULL",
    )
    .bind::<diesel::sql_types::Uuid, _>(client.parse::<Uuid>().unwrap())
    .load(&mut pool.get().unwrap())
    .unwrap();
    assert_eq!(stored.len(), 2);
    assert!(stored
        .iter()
        .all(|s| s.fingerprint.is_empty() && s.body == "{}"));
    // A new key is a new request.
    let r = app.send(keyed("clients", body, "intake-2")).await;
    assert!(r.ok(201)["client"]["id"] != json!(client));
}

#[actix_web::test]
async fn requests_are_filed_listed_and_decided_once() {
    let app = spawn().await;
    let h = household(&app, json!({})).await;
    let notices = |v: &Value| v["helpdesk_notice_id"].as_str().unwrap().to_string();
    let r = app.post(REQUESTS, &h.worker, request_body(&h)).await;
    let filed = r.ok(201).clone();
    assert_eq!(filed["request"]["status"], "pending");
    let id = filed["request"]["id"].as_str().unwrap().to_string();
    // A second pending request for the same client is refused.
    app.post(REQUESTS, &h.worker, request_body(&h))
        .await
        .problem(409);

    // Lists: the agency its own, the CoC admin its CoC's, a system admin all; others none.
    let (_, other) = member(&app, &h.coc, true, &[Role::CaseWorker]).await;
    let ids = |r: &Reply| -> Vec<String> {
        r.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(ids(&app.get(REQUESTS, &h.worker).await), vec![id.clone()]);
    assert!(ids(&app.get(REQUESTS, &other).await).is_empty());
    let (_, coc_admin) = member(&app, &h.coc, true, &[Role::CocAdmin]).await;
    assert_eq!(ids(&app.get(REQUESTS, &coc_admin).await), vec![id.clone()]);
    let other_coc = app.coc(json!({})).await;
    let (_, far_admin) = member(&app, &other_coc, true, &[Role::CocAdmin]).await;
    assert!(ids(&app.get(REQUESTS, &far_admin).await).is_empty());
    assert!(ids(&app.get(&format!("{REQUESTS}?limit=200"), &app.admin).await).contains(&id));

    // Only a system admin decides.
    app.post(&format!("{REQUESTS}/{id}/complete"), &h.worker, json!({}))
        .await
        .problem(403);
    app.post(
        &format!("{REQUESTS}/{id}/reject"),
        &coc_admin,
        json!({"reason": "no"}),
    )
    .await
    .problem(403);
    let r = app
        .post(&format!("{REQUESTS}/{id}/complete"), &app.admin, json!({}))
        .await;
    let done = r.ok(200).clone();
    assert_eq!(done["request"]["status"], "completed");
    assert_ne!(notices(&done), notices(&filed));
    let r = app.get("/v1/helpdesk-notices?limit=200", &coc_admin).await;
    let kinds: Vec<&str> = r.ok(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"deidentification_requested")
            && kinds.contains(&"deidentification_completed"),
        "{kinds:?}"
    );

    // Completing or rejecting a completed request: 409.
    app.post(&format!("{REQUESTS}/{id}/complete"), &app.admin, json!({}))
        .await
        .problem(409);
    app.post(
        &format!("{REQUESTS}/{id}/reject"),
        &app.admin,
        json!({"reason": "late"}),
    )
    .await
    .problem(409);
    app.post(
        &format!("{REQUESTS}/{}/complete", Uuid::now_v7()),
        &app.admin,
        json!({}),
    )
    .await
    .problem(404);
}

#[actix_web::test]
async fn a_rejected_request_changes_nothing_and_cannot_be_completed() {
    let app = spawn().await;
    let h = household(&app, json!({})).await;
    let r = app.post(REQUESTS, &h.worker, request_body(&h)).await;
    let id = r.ok(201)["request"]["id"].as_str().unwrap().to_string();
    let path = format!("{REQUESTS}/{id}/reject");
    let r = app
        .post(&path, &app.admin, json!({"reason": "call 509-555-0142"}))
        .await;
    assert_eq!(r.problem(422)["errors"][0]["code"], "pii_in_free_text");
    // The requesting agency and the CoC's admins read the reason: it may not name a record of
    // the request (the client, a member, a member fleeing DV), in any case.
    for reason in [
        "Headperson is not eligible",
        "memberperson has a pending case",
        "Ask FLEEINGPERSON first",
        "The Kettleby family moved",
    ] {
        let r = app.post(&path, &app.admin, json!({"reason": reason})).await;
        let p = r.problem(422);
        assert_eq!(p["errors"][0]["field"], "reason", "{reason}: {p}");
        assert_eq!(p["errors"][0]["code"], "names_the_client", "{reason}: {p}");
        let raw = String::from_utf8_lossy(&r.raw).to_lowercase();
        for name in ["headperson", "memberperson", "fleeingperson", "kettleby"] {
            assert!(!raw.contains(name), "{raw}");
        }
    }
    app.post(&path, &app.admin, json!({"reason": "  "}))
        .await
        .problem(422);
    app.post(&path, &app.admin, json!({})).await.problem(422);
    let r = app
        .post(
            &path,
            &app.admin,
            json!({"reason": "Duplicate of an earlier ticket"}),
        )
        .await;
    assert_eq!(r.ok(200)["request"]["status"], "rejected");
    app.post(&format!("{REQUESTS}/{id}/complete"), &app.admin, json!({}))
        .await
        .problem(409);
    app.post(&path, &app.admin, json!({"reason": "again"}))
        .await
        .problem(409);
    let r = send(
        &app,
        "GET",
        &format!("/v1/clients/{}", h.head),
        &app.admin,
        None,
        ("X-Access-Reason", "check"),
    )
    .await;
    assert_eq!(r.ok(200)["identity_mode"], "identified");
}

#[actix_web::test]
async fn bad_requests_are_refused_with_a_problem_naming_the_field() {
    let app = spawn().await;
    let h = household(&app, json!({})).await;
    // A record the agency cannot see answers exactly like an unknown id.
    let (_, stranger) = member(&app, &h.coc, false, &[Role::CaseWorker]).await;
    let hidden = app.post(REQUESTS, &stranger, request_body(&h)).await;
    let unknown = app
        .post(
            REQUESTS,
            &stranger,
            json!({"client_id": Uuid::now_v7(), "member_ids": [], "dv_member_ids": []}),
        )
        .await;
    hidden.problem(404);
    assert_eq!(hidden.raw, unknown.raw);

    // A member who is not in the household (another record, or an unknown id): 422, the same.
    let lone = person(
        &app,
        &h.worker,
        json!({"identity_mode": "identified", "first_name": "Lone", "last_name": "Person"}),
        None,
    )
    .await;
    for id in [lone.clone(), Uuid::now_v7().to_string()] {
        let mut body = request_body(&h);
        body["member_ids"] = json!([h.member, id]);
        let r = app.post(REQUESTS, &h.worker, body).await;
        r.problem(422);
        assert_eq!(r.error_fields(), vec!["member_ids[1]"]);
    }
    // Every open household member must be listed (an anonymous household is all anonymous).
    let mut body = request_body(&h);
    body["member_ids"] = json!([]);
    let r = app.post(REQUESTS, &h.worker, body).await;
    assert_eq!(
        r.problem(422)["errors"][0]["code"],
        "household_member_not_listed"
    );
    // PII in the description: the kind is named, never the value.
    for (text, kind) in [
        ("SSN 524-71-9932", "ssn"),
        ("she lives at 808 W Spokane Falls Blvd", "address"),
        ("client is HIV positive", "hiv_aids"),
        ("born 6/14/1981", "date"),
    ] {
        let mut body = request_body(&h);
        body["description"] = json!(text);
        let r = app.post(REQUESTS, &h.worker, body).await;
        let p = r.problem(422);
        assert_eq!(p["errors"][0]["field"], "description");
        assert!(
            p["errors"][0]["message"].as_str().unwrap().contains(kind),
            "{p}"
        );
        assert!(!String::from_utf8_lossy(&r.raw).contains(text));
    }
    // The names of the request's records (the client, a member, a member fleeing DV), which
    // the CoC's admins may not read: 422 naming the field, never the value.
    for text in [
        "Headperson asked for this",
        "memberperson too",
        "and FLEEINGPERSON is fleeing",
        "the Kettleby family",
    ] {
        let mut body = request_body(&h);
        body["description"] = json!(text);
        let r = app.post(REQUESTS, &h.worker, body).await;
        let p = r.problem(422);
        assert_eq!(p["errors"][0]["field"], "description", "{text}: {p}");
        assert_eq!(p["errors"][0]["code"], "names_the_client", "{text}: {p}");
        let raw = String::from_utf8_lossy(&r.raw).to_lowercase();
        for name in ["headperson", "memberperson", "fleeingperson", "kettleby"] {
            assert!(!raw.contains(name), "{raw}");
        }
    }
    let mut body = request_body(&h);
    body["description"] = json!("x".repeat(2001));
    assert_eq!(
        app.post(REQUESTS, &h.worker, body).await.error_fields(),
        vec!["description"]
    );
    let mut body = request_body(&h);
    body["duplicate_ids"] = json!(["not-a-uuid"]);
    app.post(REQUESTS, &h.worker, body).await.problem(422);
    // A priority-list reader files nothing.
    let (_, reader) = member(&app, &h.coc, true, &[Role::PriorityListReader]).await;
    app.post(REQUESTS, &reader, request_body(&h))
        .await
        .problem(403);
    // Nothing was filed by any of these.
    let r = app.get(REQUESTS, &h.worker).await;
    assert_eq!(r.ok(200)["items"], json!([]));
    let _ = (&h.head_stay, &h.dv_stay, h.agency);
}

#[test]
fn audit_rows_stay_append_only_outside_the_sanctioned_scrub() {
    let pool = test_pool();
    let mut conn = pool.get().unwrap();
    let insert = "INSERT INTO audit_events (actor, action, access_reason) VALUES ('t', 'read', 'why') RETURNING id";
    #[derive(QueryableByName)]
    struct Id {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        id: i64,
    }
    let id: Id = diesel::sql_query(insert).get_result(&mut conn).unwrap();
    let try_sql = |conn: &mut PgConnection, sql: String| {
        conn.transaction(|c| diesel::sql_query(sql).execute(c).map(|_| ()))
    };
    let update = format!(
        "UPDATE audit_events SET access_reason = 'x' WHERE id = {}",
        id.id
    );
    assert!(
        try_sql(&mut conn, update.clone()).is_err(),
        "an update without the scrub setting"
    );
    assert!(try_sql(
        &mut conn,
        format!("DELETE FROM audit_events WHERE id = {}", id.id)
    )
    .is_err());
    let scrub = |sql: &str| format!("SET LOCAL hearth.audit_scrub = 'on'; {sql}");
    use diesel::connection::SimpleConnection;
    let batch = |conn: &mut PgConnection, sql: String| conn.transaction(|c| c.batch_execute(&sql));
    assert!(
        batch(&mut conn, scrub(&update)).is_ok(),
        "the sanctioned scrub of a free part"
    );
    for change in [
        "actor = 'someone'",
        "action = 'update'",
        "client_id = gen_random_uuid()",
        "occurred_at = now() - interval '1 day'",
    ] {
        let sql = scrub(&format!(
            "UPDATE audit_events SET {change} WHERE id = {}",
            id.id
        ));
        assert!(batch(&mut conn, sql).is_err(), "{change} may never change");
    }
    assert!(batch(
        &mut conn,
        scrub(&format!("DELETE FROM audit_events WHERE id = {}", id.id))
    )
    .is_err());
}

#[test]
fn demo_data_holds_a_deidentified_household_and_a_merged_pair() {
    let pool = test_pool();
    let mut conn = pool.get().unwrap();
    hearth::demo::load(&mut conn).unwrap();
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let count = |conn: &mut PgConnection, sql: &str| {
        diesel::sql_query(sql).get_result::<N>(conn).unwrap().n
    };
    let q = "SELECT count(*) AS n FROM clients WHERE created_by_user = 'demo-loader-deid'";
    assert_eq!(count(&mut conn, q), 6);
    let anonymous = "SELECT count(*) AS n FROM clients WHERE created_by_user = 'demo-loader-deid' \
                     AND identity_mode = 'anonymous' AND ssn IS NULL \
                     AND last_name IN ('Anonymous', 'Anonymous ' || short_uid)";
    assert_eq!(count(&mut conn, anonymous), 4);
    let completed = "SELECT count(*) AS n FROM deidentification_requests r JOIN clients c ON c.id = r.client_id \
                     WHERE c.created_by_user = 'demo-loader-deid' AND r.status = 'completed' \
                     AND cardinality(r.dv_member_ids) = 1";
    assert_eq!(count(&mut conn, completed), 1);
    let households = "SELECT count(DISTINCT e.household_id) AS n FROM enrollments e JOIN clients c ON c.id = e.client_id \
                      WHERE c.created_by_user = 'demo-loader-deid'";
    assert_eq!(
        count(&mut conn, households),
        2,
        "the member fleeing DV heads her own household"
    );
    let leftovers = "SELECT count(*) AS n FROM enrollment_data d JOIN clients c ON c.id = d.client_id \
                     WHERE c.created_by_user = 'demo-loader-deid' AND (d.text ILIKE '%Morrow%' OR d.text LIKE '%555-0134%')";
    assert_eq!(count(&mut conn, leftovers), 0);
    let merged = "SELECT count(*) AS n FROM clients WHERE created_by_user = 'demo-loader-deid' \
                  AND lifecycle = 'merged' AND merged_into IS NOT NULL";
    assert_eq!(count(&mut conn, merged), 1);
    // Loading again adds nothing.
    hearth::demo::load(&mut conn).unwrap();
    assert_eq!(count(&mut conn, q), 6);
}

/// An ROI split leaves the person's former records ("DO NOT USE", superseded, sharing the
/// person id) with the identity: completing a de-identification of the record in use scrubs
/// them too, or another agency that contributed to one could still read the person in full.
#[actix_web::test]
async fn completion_scrubs_the_records_an_roi_split_left_behind() {
    let pool = test_pool();
    let app = spawn_with(pool.clone()).await;
    let coc = app.coc(json!({"roi_grant_mode": "split"})).await;
    let a = app.agency(&coc, true).await;
    let b = app.agency(&coc, true).await;
    let shelter = app.project(a, 1).await;
    let ta = app.token("split-a", &[Role::CaseWorker], Some(a));
    let tb = app.token("split-b", &[Role::CaseWorker], Some(b));
    let (first, last) = (canary_name(), canary_name());
    let ssn = canary_ssn();
    let dashed = format!("{}-{}-{}", &ssn[..3], &ssn[3..5], &ssn[5..]);
    let (first, last, ssn) = (first.as_str(), last.as_str(), ssn.as_str());
    let r = app
        .post(
            "/v1/clients",
            &ta,
            json!({"identity_mode": "identified", "first_name": first, "last_name": last,
                   "ssn": ssn, "dob": "1975-02-03"}),
        )
        .await;
    let old = r.ok(201)["client"]["id"].as_str().unwrap().to_string();
    app.post(
        &format!("/v1/clients/{old}/enrollments"),
        &ta,
        json!({"project_id": shelter, "entry_date": days_ago(30), "relationship_to_hoh": 1}),
    )
    .await
    .ok(201);
    let r = app
        .post(
            &format!("/v1/clients/{old}/consents"),
            &ta,
            json!({"method": "signed"}),
        )
        .await;
    let body = r.ok(201).clone();
    let shared = body["client"]["id"].as_str().unwrap().to_string();
    let consent = body["consent"]["id"].as_str().unwrap().to_string();
    // Another agency contributes to the shared record, then the client revokes: split again.
    app.post(
        &format!("/v1/clients/{shared}/enrollments"),
        &tb,
        json!({"project_id": app.project(b, 1).await, "entry_date": days_ago(0), "relationship_to_hoh": 1}),
    )
    .await
    .ok(201);
    let r = app
        .post(
            &format!("/v1/clients/{shared}/consents/{consent}/revoke"),
            &ta,
            json!({}),
        )
        .await;
    let body = r.ok(200).clone();
    let current = body["client"]["id"].as_str().unwrap().to_string();
    assert_ne!(current, shared, "{body}");
    let r = app.post(REQUESTS, &ta, json!({"client_id": current})).await;
    let request = r.ok(201)["request"]["id"].as_str().unwrap().to_string();
    let canaries = vec![first.to_string(), last.to_string(), ssn.to_string()];
    assert!(!canaries_found(&mut pool.get().unwrap(), &canaries).is_empty());
    let r = app
        .post(
            &format!("{REQUESTS}/{request}/complete"),
            &app.admin,
            json!({}),
        )
        .await;
    let out = r.ok(200).clone();
    let after = canaries_found(&mut pool.get().unwrap(), &canaries);
    assert!(
        after.is_empty(),
        "residue after de-identification: {after:?}"
    );
    assert!(
        out["changes"]
            .to_string()
            .contains("2 other record(s) of the same person"),
        "{out}"
    );
    // The contributing agency reads the former shared record without the person's identity.
    let r = app.get(&format!("/v1/clients/{shared}"), &tb).await;
    if r.status == actix_web::http::StatusCode::OK {
        let text = r.body.to_string();
        assert!(!text.contains(first) && !text.contains(&dashed), "{text}");
    }
}

/// A listed suspected duplicate is the same person: a request's description and a rejection's
/// reason may not name it either.
#[actix_web::test]
async fn texts_may_not_name_a_listed_duplicate() {
    let app = spawn().await;
    let coc = app.coc(json!({})).await;
    let (_, worker) = member(&app, &coc, true, &[Role::CaseWorker]).await;
    let (c_first, d_first, d_last, d_alias) =
        (canary_name(), canary_name(), canary_name(), canary_name());
    let r = app
        .post(
            "/v1/clients",
            &worker,
            json!({"identity_mode": "identified", "first_name": c_first, "last_name": canary_name()}),
        )
        .await;
    let c = r.ok(201)["client"]["id"].as_str().unwrap().to_string();
    let r = app
        .post(
            "/v1/clients",
            &worker,
            json!({"identity_mode": "identified", "first_name": d_first, "last_name": d_last,
                   "alias": d_alias}),
        )
        .await;
    let d = r.ok(201)["client"]["id"].as_str().unwrap().to_string();
    let body = |text: String| json!({"client_id": c, "duplicate_ids": [d], "description": text});
    for text in [
        format!("dup is {d_first}"),
        format!("dup alias {d_alias}"),
        format!("{d_last} dup"),
    ] {
        let r = app.post(REQUESTS, &worker, body(text.clone())).await;
        let p = r.problem(422);
        assert_eq!(p["errors"][0]["field"], "description", "{text}: {p}");
        assert_eq!(p["errors"][0]["code"], "names_the_client", "{text}: {p}");
    }
    let r = app
        .post(REQUESTS, &worker, body("the client asked for this".into()))
        .await;
    let id = r.ok(201)["request"]["id"].as_str().unwrap().to_string();
    let path = format!("{REQUESTS}/{id}/reject");
    let r = app
        .post(
            &path,
            &app.admin,
            json!({"reason": format!("{d_alias} is not eligible")}),
        )
        .await;
    let p = r.problem(422);
    assert_eq!(p["errors"][0]["field"], "reason", "{p}");
    assert_eq!(p["errors"][0]["code"], "names_the_client", "{p}");
    app.post(&path, &app.admin, json!({"reason": "not eligible"}))
        .await
        .ok(200);
}

#[actix_web::test]
async fn completion_scrubs_the_full_name_and_ssn_from_other_records_texts() {
    // Tester: another agency's request listed the record as a suspected duplicate ("her other
    // record is under <last name>"), and a case note of another client named it in full; both
    // survived its de-identification. consent.md: nothing of the old values left anywhere.
    let pool = committing_pool(2);
    let app = spawn_with(pool.clone()).await;
    let coc = app.coc(json!({})).await;
    let (a, worker_a) = member(&app, &coc, true, &[Role::CaseWorker]).await;
    let (b, worker_b) = member(&app, &coc, false, &[Role::CaseWorker]).await;
    let (first, last, ssn) = (canary_name(), canary_name(), canary_ssn());
    // P: agency B's closed record, which agency A does not see.
    let p = person(
        &app,
        &worker_b,
        json!({"identity_mode": "identified", "first_name": first, "middle_name": "Jo",
               "last_name": last, "ssn": ssn, "veteran_status": 0}),
        None,
    )
    .await;
    let c = person(
        &app,
        &worker_a,
        json!({"identity_mode": "identified", "first_name": canary_name(), "last_name": canary_name()}),
        None,
    )
    .await;
    let w = person(
        &app,
        &worker_a,
        json!({"identity_mode": "identified", "first_name": canary_name(), "last_name": canary_name()}),
        None,
    )
    .await;
    let stay = enroll(&app, &worker_a, &w, app.project(a, 1).await, None, 1).await;
    let note = format!(
        "came in with friend {first} {last}; ssn {}-{}-{}",
        &ssn[..3],
        &ssn[3..5],
        &ssn[5..]
    );
    app.post(
        &format!("/v1/enrollments/{}/notes", stay["id"].as_str().unwrap()),
        &worker_a,
        json!({"note_date": "2024-02-01", "text": note}),
    )
    .await
    .ok(201);
    // Tester: the full name written with other spacing, an initial, other separators, other
    // case or full-width letters stayed (workflows.md: "with or without the middle name, in
    // either order").
    let wide = |s: &str| -> String {
        s.chars()
            .map(|c| char::from_u32(c as u32 + 0xFEE0).unwrap())
            .collect()
    };
    let variants = [
        format!("{first}  {last}"),
        format!("{first}\n{last}"),
        format!("{first}\t\r\n{last}"),
        format!("{first} J. {last}"),
        format!("{first} J {last}"),
        format!("{first} Jo {last}"),
        format!("{last}, {first}"),
        format!("{last},{first} Jo"),
        format!("{first}-{last}"),
        format!("{first}_{last}"),
        format!("{} {}", first.to_uppercase(), last.to_lowercase()),
        format!("{} {}", wide(&first), wide(&last)),
        format!("{}\u{3000}J. {}", wide(&first), wide(&last)),
    ];
    for v in &variants {
        app.post(
            &format!("/v1/enrollments/{}/notes", stay["id"].as_str().unwrap()),
            &worker_a,
            json!({"note_date": "2024-02-02", "text": format!("came in with friend {v} today")}),
        )
        .await
        .ok(201);
    }
    let r = app
        .post(
            REQUESTS,
            &worker_a,
            json!({"client_id": c, "duplicate_ids": [p],
                   "description": format!("her other record is under {last} at another agency")}),
        )
        .await;
    let first_request = r.ok(201)["request"]["id"].as_str().unwrap().to_string();
    let complete = |id: String| format!("{REQUESTS}/{id}/complete");
    app.post(&complete(first_request), &app.admin, json!({}))
        .await
        .ok(200);
    let r = app
        .post(
            REQUESTS,
            &worker_b,
            json!({"client_id": p, "description": "client asked"}),
        )
        .await;
    let second = r.ok(201)["request"]["id"].as_str().unwrap().to_string();
    let canaries = vec![first.clone(), last.clone(), ssn.clone()];
    let mut conn = pool.get().unwrap();
    let before = canaries_found(&mut conn, &canaries);
    for want in [
        "enrollment_data.text",
        "deidentification_requests.description",
    ] {
        assert!(
            before.iter().any(|(_, w)| w == want),
            "planted in {want}: {before:?}"
        );
    }
    app.post(&complete(second), &app.admin, json!({}))
        .await
        .ok(200);
    let after = canaries_found(&mut conn, &canaries);
    assert!(after.is_empty(), "residue: {after:?}");
    // The other client's note keeps its own words.
    let r = app
        .get(
            &format!("/v1/enrollments/{}/notes", stay["id"].as_str().unwrap()),
            &worker_a,
        )
        .await;
    assert!(
        r.body.to_string().contains("came in with friend [removed]"),
        "{}",
        r.body
    );
    #[derive(QueryableByName)]
    struct T {
        #[diesel(sql_type = Text)]
        text: String,
    }
    let texts: Vec<T> = diesel::sql_query(
        "SELECT d.text FROM enrollment_data d WHERE d.enrollment_id = $1 \
           AND d.text LIKE 'came in with friend % today' ORDER BY d.text",
    )
    .bind::<diesel::sql_types::Uuid, _>(Uuid::parse_str(stay["id"].as_str().unwrap()).unwrap())
    .load(&mut conn)
    .unwrap();
    assert_eq!(texts.len(), variants.len());
    for t in &texts {
        assert_eq!(t.text, "came in with friend [removed] today");
    }
    let _ = b;
}

/// Testers' findings: A2 filed a request listing A1's record (which A2 cannot see) as a
/// duplicate, with the description "dup of <that client's first and last name>", and the CoC
/// admin read the name; refusing any client's name instead told the filer whether a guessed
/// name was anyone's. The description is the filing agency's free text: it and the system
/// administrators read it, the CoC's admins (without PII on the records) do not, and it is
/// never checked against clients the filer may not see. A rejection's reason, written by a
/// system administrator, may name no client of the installation.
#[actix_web::test]
async fn a_requests_text_reaches_no_one_without_pii_access_and_confirms_no_name() {
    let app = spawn().await;
    let coc = app.coc(json!({})).await;
    let (_, w1) = member(&app, &coc, true, &[Role::CaseWorker]).await;
    let (_, w2) = member(&app, &coc, true, &[Role::CaseWorker]).await;
    let (first, last) = (canary_name(), canary_name());
    let r = app
        .post(
            "/v1/clients",
            &w1,
            json!({"identity_mode": "identified", "first_name": first, "last_name": last}),
        )
        .await;
    let p = r.ok(201)["client"]["id"].as_str().unwrap().to_string();
    let r = app
        .post(
            "/v1/clients",
            &w2,
            json!({"identity_mode": "identified", "first_name": canary_name(), "last_name": canary_name()}),
        )
        .await;
    let q = r.ok(201)["client"]["id"].as_str().unwrap().to_string();
    app.get(&format!("/v1/clients/{p}"), &w2).await.problem(404);
    // A name the filer may not see is not checked against the installation's clients: a
    // refusal would confirm that someone bears it (record rule row 9). The same answer as for a
    // name no one bears; the text is the filing agency's, and the CoC's admins do not read it.
    let (_, coc_admin) = member(&app, &coc, true, &[Role::CocAdmin]).await;
    for text in [
        format!("same person as {first} {last}?"),
        format!("same person as {}?", canary_name()),
    ] {
        let r = app
            .post(
                &format!("{REQUESTS}?dry_run=true"),
                &w2,
                json!({"client_id": q, "description": text}),
            )
            .await;
        r.ok(201);
        assert_eq!(r.body["request"]["description"], text.as_str());
    }
    let text = format!("dup of {first} {last}");
    let r = app
        .post(
            REQUESTS,
            &w2,
            json!({"client_id": q, "duplicate_ids": [p], "description": text}),
        )
        .await;
    let id = r.ok(201)["request"]["id"].as_str().unwrap().to_string();
    let one = format!("{REQUESTS}/{id}");
    assert_eq!(
        app.get(&one, &w2).await.ok(200)["description"],
        text.as_str()
    );
    let seen = app.get(&one, &coc_admin).await.ok(200).clone();
    assert_eq!(seen["description"], Value::Null, "{seen}");
    let listed = app.get(REQUESTS, &coc_admin).await.ok(200).clone();
    let raw = listed.to_string();
    assert!(!raw.contains(&first) && !raw.contains(&last), "{listed}");
    let r = app.get(&one, &app.admin).await;
    assert_eq!(r.ok(200)["description"], text.as_str());
    // A rejection's reason, read by the filing agency and the CoC's admins: no client of the
    // request, nor any other.
    let (other_first, other_last) = (canary_name(), canary_name());
    app.post(
        "/v1/clients",
        &w1,
        json!({"identity_mode": "identified", "first_name": other_first, "last_name": other_last}),
    )
    .await
    .ok(201);
    let path = format!("{REQUESTS}/{id}/reject");
    let r = app
        .post(
            &path,
            &app.admin,
            json!({"reason": format!("that is {other_first} {other_last}, not a duplicate")}),
        )
        .await;
    let pr = r.problem(422);
    assert_eq!(pr["errors"][0]["field"], "reason", "{pr}");
    assert_eq!(pr["errors"][0]["code"], "names_a_client", "{pr}");
    app.post(&path, &app.admin, json!({"reason": "not a duplicate"}))
        .await
        .ok(200);
}

/// Spokane job aid, "PLEASE REMEMBER": after de-identification "the client's last name will now
/// include their client ID". In a CoC whose policy is `anonymous_anonymous`, completion left
/// "Anonymous Anonymous"; the de-identified record's last name is "Anonymous <short UID>" now
/// (and stays so through a later patch), and the record is still found by its client id and
/// short UID. Under `uid_anonymous` the first name is the short UID already.
#[actix_web::test]
async fn a_deidentified_records_last_name_holds_its_client_id() {
    let app = spawn().await;
    let h = household(
        &app,
        json!({"anonymous_name_format": "anonymous_anonymous"}),
    )
    .await;
    let r = app.post(REQUESTS, &h.worker, request_body(&h)).await;
    let request = r.ok(201)["request"]["id"].as_str().unwrap().to_string();
    app.post(
        &format!("{REQUESTS}/{request}/complete"),
        &app.admin,
        json!({}),
    )
    .await
    .ok(200);
    for id in [&h.head, &h.member, &h.dv] {
        let r = app.get(&format!("/v1/clients/{id}"), &h.worker).await;
        let v = r.ok(200).clone();
        let uid = v["short_uid"].as_str().unwrap().to_string();
        assert_eq!(v["identity_mode"], "anonymous", "{v}");
        assert_eq!(v["first_name"], "Anonymous", "{v}");
        assert_eq!(v["last_name"], format!("Anonymous {uid}"), "{v}");
        for criteria in [json!({"client_id": id}), json!({"short_uid": uid})] {
            let r = app
                .post("/v1/clients/search", &h.worker, criteria.clone())
                .await;
            let found = r.ok(200)["items"].as_array().unwrap().clone();
            assert_eq!(found.len(), 1, "{criteria}: {found:?}");
            assert_eq!(found[0]["client"]["id"], json!(id), "{criteria}");
            assert_eq!(
                found[0]["client"]["last_name"],
                format!("Anonymous {uid}"),
                "{criteria}"
            );
        }
    }
    // A later patch keeps the name.
    let r = app.get(&format!("/v1/clients/{}", h.head), &h.worker).await;
    let etag = r.header("etag").unwrap();
    let uid = r.body["short_uid"].as_str().unwrap().to_string();
    let r = app
        .patch(
            &format!("/v1/clients/{}", h.head),
            &h.worker,
            Some(&etag),
            json!({"veteran_status": 1}),
        )
        .await;
    assert_eq!(
        r.ok(200)["client"]["last_name"],
        format!("Anonymous {uid}"),
        "{}",
        r.body
    );
}
