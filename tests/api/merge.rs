//! Merging two records of one person (consent.md "Merge"; Spokane job aid: both ids and a
//! confirmation that they are the same person).

use hearth::consent::Role;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::clients::{send, Svc};
use crate::harness::*;

fn merge_path(survivor: &str) -> String {
    format!("/v1/clients/{survivor}/merge")
}

fn confirm(dup: &str) -> Value {
    json!({"duplicate_id": dup, "confirm_same_person": true})
}

async fn record<S: Svc>(app: &TestApp<S>, token: &str, first: &str) -> String {
    let r = app
        .post(
            "/v1/clients",
            token,
            json!({"identity_mode": "identified", "first_name": first, "last_name": "Twin"}),
        )
        .await;
    r.ok(201)["client"]["id"].as_str().unwrap().to_string()
}

async fn as_admin<S: Svc>(
    app: &TestApp<S>,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> Reply {
    send(
        app,
        method,
        path,
        &app.admin,
        body,
        ("X-Access-Reason", "merge ticket 7"),
    )
    .await
}

pub(crate) struct Pair {
    pub coc: String,
    pub agency: Uuid,
    pub admin: String,
    pub worker: String,
    pub survivor: String,
    pub duplicate: String,
}

/// Two records of one agency; the duplicate has a stay, a note and a contact, and is private.
pub(crate) async fn pair<S: Svc>(app: &TestApp<S>) -> Pair {
    let coc = app.coc(json!({})).await;
    let agency = app.agency(&coc, true).await;
    let admin = app.token(&format!("aa-{agency}"), &[Role::AgencyAdmin], Some(agency));
    let worker = app.token(&format!("cw-{agency}"), &[Role::CaseWorker], Some(agency));
    let project = app.project(agency, 1).await;
    let survivor = record(app, &worker, "Ada").await;
    let duplicate = record(app, &worker, "Addie").await;
    let r = app
        .put(
            &format!("/v1/clients/{duplicate}/visibility"),
            &worker,
            json!({"visibility": "private"}),
        )
        .await;
    r.ok(200);
    let r = app
        .post(
            &format!("/v1/clients/{duplicate}/enrollments"),
            &worker,
            json!({"project_id": project, "entry_date": "2024-01-10", "relationship_to_hoh": 1}),
        )
        .await;
    let stay = r.ok(201)["enrollment"]["id"].as_str().unwrap().to_string();
    app.post(
        &format!("/v1/enrollments/{stay}/notes"),
        &worker,
        json!({"note_date": "2024-01-11", "text": "first night"}),
    )
    .await
    .ok(201);
    app.post(
        &format!("/v1/clients/{duplicate}/contacts"),
        &worker,
        json!({"kind": "phone", "value": "(509) 555-0100"}),
    )
    .await
    .ok(201);
    Pair {
        coc,
        agency,
        admin,
        worker,
        survivor,
        duplicate,
    }
}

#[actix_web::test]
async fn a_merge_moves_everything_and_leaves_a_tombstone() {
    let app = spawn().await;
    let p = pair(&app).await;
    let r = app
        .post(&merge_path(&p.survivor), &p.admin, confirm(&p.duplicate))
        .await;
    let out = r.ok(200).clone();
    assert_eq!(out["merged_client_id"], json!(p.duplicate));
    // The more restrictive visibility: the duplicate was private, the survivor closed.
    assert_eq!(out["client"]["visibility"], "private", "{out}");

    let r = app
        .get(
            &format!("/v1/clients/{}/enrollments", p.survivor),
            &p.worker,
        )
        .await;
    assert_eq!(r.ok(200)["items"].as_array().unwrap().len(), 1);
    let r = app
        .get(&format!("/v1/clients/{}/contacts", p.survivor), &p.worker)
        .await;
    assert_eq!(r.ok(200)["items"].as_array().unwrap().len(), 1);
    let r = app
        .get(
            &format!("/v1/clients/{}/enrollments", p.duplicate),
            &p.worker,
        )
        .await;
    assert_eq!(r.ok(200)["items"], json!([]));

    // The tombstone names the survivor; writes to it answer 409 naming the survivor.
    let r = app
        .get(&format!("/v1/clients/{}", p.duplicate), &p.worker)
        .await;
    let tomb = r.ok(200);
    assert_eq!(tomb["lifecycle"], "merged");
    assert_eq!(tomb["merged_into"], json!(p.survivor));
    let r = app
        .post(
            &format!("/v1/clients/{}/consents", p.duplicate),
            &p.worker,
            json!({"method": "signed"}),
        )
        .await;
    assert_eq!(r.problem(409)["use_record"], json!(p.survivor));
    let r = app
        .get(&format!("/v1/clients/{}", p.duplicate), &p.worker)
        .await;
    let etag = r.header("etag").unwrap();
    let r = app
        .patch(
            &format!("/v1/clients/{}", p.duplicate),
            &p.worker,
            Some(&etag),
            json!({"alias": "x"}),
        )
        .await;
    assert_eq!(r.problem(409)["use_record"], json!(p.survivor));

    // One person_id (seen by system admins), and the merge is audited on both ids.
    let s = as_admin(&app, "GET", &format!("/v1/clients/{}", p.survivor), None).await;
    let d = as_admin(&app, "GET", &format!("/v1/clients/{}", p.duplicate), None).await;
    assert_eq!(s.ok(200)["person_id"], d.ok(200)["person_id"]);
    for (id, action) in [(&p.survivor, "merged_from"), (&p.duplicate, "merged_into")] {
        let r = app
            .get(&format!("/v1/clients/{id}/audit?limit=200"), &p.admin)
            .await;
        let actions: Vec<&str> = r.ok(200)["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect();
        assert!(actions.contains(&action), "{id}: {actions:?}");
    }

    // Merging into a tombstone, or a tombstone into a record: 409 naming the survivor.
    let third = record(&app, &p.worker, "Ida").await;
    let r = app
        .post(&merge_path(&p.duplicate), &p.admin, confirm(&third))
        .await;
    assert_eq!(r.problem(409)["use_record"], json!(p.survivor));
    let r = app
        .post(&merge_path(&third), &p.admin, confirm(&p.duplicate))
        .await;
    assert_eq!(r.problem(409)["use_record"], json!(p.survivor));
}

#[actix_web::test]
async fn bad_merges_are_refused_and_change_nothing() {
    let app = spawn().await;
    let p = pair(&app).await;
    let path = merge_path(&p.survivor);
    // No confirmation, or a false one: 422 naming the field.
    for body in [
        json!({"duplicate_id": p.duplicate}),
        json!({"duplicate_id": p.duplicate, "confirm_same_person": false}),
    ] {
        let r = app.post(&path, &p.admin, body).await;
        r.problem(422);
        assert_eq!(r.error_fields(), vec!["confirm_same_person"]);
    }
    // Into itself.
    let r = app.post(&path, &p.admin, confirm(&p.survivor)).await;
    assert_eq!(r.error_fields(), vec!["duplicate_id"]);
    // A case worker may not merge at all; an unknown duplicate is a 404.
    app.post(&path, &p.worker, confirm(&p.duplicate))
        .await
        .problem(403);
    app.post(&path, &p.admin, confirm(&Uuid::now_v7().to_string()))
        .await
        .problem(404);
    // An agency_admin may not merge a record its agency did not create, even one it sees.
    let other = app.agency(&p.coc, true).await;
    let other_worker = app.token(&format!("cw-{other}"), &[Role::CaseWorker], Some(other));
    let foreign = app
        .post(
            "/v1/clients",
            &other_worker,
            json!({"identity_mode": "identified", "first_name": "Open", "last_name": "Twin", "roi": {"method": "signed"}}),
        )
        .await;
    let foreign = foreign.ok(201)["client"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = app.get(&format!("/v1/clients/{foreign}"), &p.admin).await;
    r.ok(200);
    app.post(&path, &p.admin, confirm(&foreign))
        .await
        .problem(403);
    // A record the agency cannot see answers like an unknown one.
    let hidden = record(&app, &other_worker, "Hidden").await;
    let a = app.post(&path, &p.admin, confirm(&hidden)).await;
    let b = app
        .post(&path, &p.admin, confirm(&Uuid::now_v7().to_string()))
        .await;
    a.problem(404);
    assert_eq!(a.raw, b.raw);
    // A system admin may merge across agencies (with a reason for the break-glass access).
    let r = as_admin(&app, "POST", &path, Some(confirm(&foreign))).await;
    assert_eq!(r.ok(200)["merged_client_id"], json!(foreign));
    // Nothing moved by the refused attempts: the duplicate still holds its stay.
    let r = app
        .get(
            &format!("/v1/clients/{}/enrollments", p.duplicate),
            &p.worker,
        )
        .await;
    assert_eq!(r.ok(200)["items"].as_array().unwrap().len(), 1);
    let _ = p.agency;
}

/// The tester's case: A1 holds an identified, closed record X (SSN, no ROI) and a consent-refused
/// open record Y; A2 reads Y at limited (row 4) and enrolls it. Merging Y into X would make A2 a
/// contributor of an identified record (row 5: full, name and SSN). A de-identified record
/// merges only with one of its own mode, either way: 409 `identity-modes-differ`, nothing moves.
#[actix_web::test]
async fn a_consent_refused_record_and_an_identified_one_are_never_merged() {
    let app = spawn().await;
    let coc = app.coc(json!({})).await;
    let a1 = app.agency(&coc, true).await;
    let a2 = app.agency(&coc, true).await;
    let admin = app.token(&format!("aa-{a1}"), &[Role::AgencyAdmin], Some(a1));
    let w1 = app.token(&format!("cw-{a1}"), &[Role::CaseWorker], Some(a1));
    let w2 = app.token(&format!("cw-{a2}"), &[Role::CaseWorker], Some(a2));
    let project = app.project(a2, 1).await;
    let r = app
        .post(
            "/v1/clients",
            &w1,
            json!({"identity_mode": "identified", "first_name": "Xavia", "last_name": "Known",
                   "ssn": "524719932", "visibility": "closed"}),
        )
        .await;
    let x = r.ok(201)["client"]["id"].as_str().unwrap().to_string();
    let r = app
        .post(
            "/v1/clients",
            &w1,
            json!({"identity_mode": "consent_refused", "visibility": "open"}),
        )
        .await;
    let y = r.ok(201)["client"]["id"].as_str().unwrap().to_string();
    let r = app.get(&format!("/v1/clients/{y}"), &w2).await;
    assert_eq!(r.ok(200)["access"]["basis"], "deidentified");
    app.post(
        &format!("/v1/clients/{y}/enrollments"),
        &w2,
        json!({"project_id": project, "entry_date": "2024-01-10", "relationship_to_hoh": 1}),
    )
    .await
    .ok(201);
    app.get(&format!("/v1/clients/{x}"), &w2).await.problem(404);

    for (survivor, duplicate) in [(&x, &y), (&y, &x)] {
        let r = app
            .post(&merge_path(survivor), &admin, confirm(duplicate))
            .await;
        assert_eq!(
            r.problem(409)["type"],
            "urn:hearth:problem:identity-modes-differ",
            "{survivor} <- {duplicate}"
        );
        // Nor by a system administrator.
        let r = as_admin(
            &app,
            "POST",
            &merge_path(survivor),
            Some(confirm(duplicate)),
        )
        .await;
        r.problem(409);
    }
    // Nothing moved: A2 still reads Y at limited, and X not at all.
    let r = app.get(&format!("/v1/clients/{y}"), &w2).await;
    assert_eq!(r.ok(200)["access"]["level"], "limited");
    assert_eq!(r.body["lifecycle"], "active");
    app.get(&format!("/v1/clients/{x}"), &w2).await.problem(404);
    // Two consent-refused records of one person still merge.
    let r = app
        .post(
            "/v1/clients",
            &w1,
            json!({"identity_mode": "consent_refused", "visibility": "open"}),
        )
        .await;
    let y2 = r.ok(201)["client"]["id"].as_str().unwrap().to_string();
    app.post(&merge_path(&y), &admin, confirm(&y2))
        .await
        .ok(200);
}

/// While a de-identification request names a record (as the client or a member), no merge
/// involves it, either side: completing the request would anonymise one record and leave the
/// identity on the other. The one merge allowed is the one the request asks for: a duplicate it
/// lists, merged into a record it de-identifies (the completion scrubs the tombstone too). Once
/// the request is decided, merges go through.
#[actix_web::test]
async fn a_merge_waits_while_a_deidentification_request_is_pending() {
    let app = spawn().await;
    let h = crate::deidentify::household(&app, json!({})).await;
    let admin = app.token(
        &format!("aa-{}", h.agency),
        &[Role::AgencyAdmin],
        Some(h.agency),
    );
    let other = record(&app, &h.worker, "Olga").await;
    let listed = record(&app, &h.worker, "Lister").await;
    let mut body = crate::deidentify::request_body(&h);
    body["duplicate_ids"] = json!([listed]);
    let r = app
        .post("/v1/deidentification-requests", &h.worker, body)
        .await;
    let request = r.ok(201)["request"]["id"].as_str().unwrap().to_string();
    let refused = |r: &Reply, what: &str| {
        assert_eq!(
            r.problem(409)["type"],
            "urn:hearth:problem:deidentification-pending",
            "{what}"
        );
    };
    // The client, a member, a member fleeing DV: as survivor or as duplicate.
    for named in [&h.head, &h.member, &h.dv] {
        for (survivor, duplicate) in [(&other, named), (named, &other), (&listed, named)] {
            let r = app
                .post(&merge_path(survivor), &admin, confirm(duplicate))
                .await;
            refused(&r, &format!("{survivor} <- {duplicate}"));
        }
    }
    // Nor a record of the request into another (one would be left a tombstone).
    let r = app
        .post(&merge_path(&h.head), &admin, confirm(&h.member))
        .await;
    refused(&r, "head <- member");
    // Tester's finding: the listed duplicate merged into a record the request does not name, or
    // such a record into it, answered 200. The request names its duplicates too.
    for (survivor, duplicate) in [(&other, &listed), (&listed, &other)] {
        for dry in ["?dry_run=true", ""] {
            let r = app
                .post(
                    &format!("{}{dry}", merge_path(survivor)),
                    &admin,
                    confirm(duplicate),
                )
                .await;
            refused(&r, &format!("{survivor} <- {duplicate} {dry}"));
        }
    }
    let r = app.get(&format!("/v1/clients/{other}"), &h.worker).await;
    assert_eq!(r.ok(200)["lifecycle"], "active");
    // The listed duplicate into the client: what the request asks the administrator to do.
    app.post(&merge_path(&h.head), &admin, confirm(&listed))
        .await
        .ok(200);
    let r = app
        .post(
            &format!("/v1/deidentification-requests/{request}/complete"),
            &app.admin,
            json!({}),
        )
        .await;
    let out = r.ok(200);
    assert!(!out["warnings"].to_string().contains("duplicate"), "{out}");
    let r = app.get(&format!("/v1/clients/{listed}"), &h.worker).await;
    let tomb = r.ok(200);
    assert_eq!(tomb["identity_mode"], "anonymous", "{tomb}");
    assert_eq!(tomb["merged_into"], json!(h.head), "{tomb}");

    // A request that is rejected no longer holds a merge back.
    let lone = record(&app, &h.worker, "Lone").await;
    let r = app
        .post(
            "/v1/deidentification-requests",
            &h.worker,
            json!({"client_id": lone}),
        )
        .await;
    let request = r.ok(201)["request"]["id"].as_str().unwrap().to_string();
    let r = app.post(&merge_path(&lone), &admin, confirm(&other)).await;
    refused(&r, "lone <- other");
    app.post(
        &format!("/v1/deidentification-requests/{request}/reject"),
        &app.admin,
        json!({"reason": "Filed by mistake"}),
    )
    .await
    .ok(200);
    app.post(&merge_path(&lone), &admin, confirm(&other))
        .await
        .ok(200);
}

/// consent.md: each workflow answers with any warnings; ROI revocation warns when the client
/// leaves the priority list, and so does a merge that does it (an open, listed duplicate merged
/// into a closed survivor makes one closed record).
#[actix_web::test]
async fn a_merge_that_takes_a_client_off_the_priority_list_says_so() {
    let app = spawn().await;
    let coc = app.coc(json!({})).await;
    let agency = crate::ce::ce_agency(&app, &coc, true).await;
    let admin = app.token(&format!("aa-{agency}"), &[Role::AgencyAdmin], Some(agency));
    let worker = app.token(&format!("cw-{agency}"), &[Role::CaseWorker], Some(agency));
    let ce = app.project(agency, 14).await;
    let survivor = record(&app, &worker, "Closed").await;
    let r = app
        .post(
            "/v1/clients",
            &worker,
            json!({"identity_mode": "identified", "first_name": "Listed", "last_name": "Twin",
                   "roi": {"method": "signed"}}),
        )
        .await;
    let listed = r.ok(201)["client"]["id"].as_str().unwrap().to_string();
    app.post(
        &format!("/v1/clients/{listed}/enrollments"),
        &worker,
        json!({"project_id": ce, "entry_date": "2024-01-10", "relationship_to_hoh": 1}),
    )
    .await
    .ok(201);
    let list = format!("/v1/cocs/{coc}/priority-list");
    let on_list = |v: &Value, id: &str| {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["client_id"] == json!(id))
    };
    let r = app.get(&list, &worker).await;
    assert!(on_list(r.ok(200), &listed), "{}", r.body);

    let r = app
        .post(&merge_path(&survivor), &admin, confirm(&listed))
        .await;
    let out = r.ok(200);
    assert_eq!(out["client"]["visibility"], "closed", "{out}");
    assert_eq!(
        out["warnings"],
        json!([hearth::consent::ce::LEAVES_PRIORITY_LIST]),
        "{out}"
    );
    let r = app.get(&list, &worker).await;
    let v = r.ok(200);
    assert!(!on_list(v, &listed) && !on_list(v, &survivor), "{v}");

    // A merge that keeps the client on the list says nothing of it.
    let open = app
        .post(
            "/v1/clients",
            &worker,
            json!({"identity_mode": "identified", "first_name": "Open", "last_name": "Twin",
                   "roi": {"method": "signed"}}),
        )
        .await;
    let open = open.ok(201)["client"]["id"].as_str().unwrap().to_string();
    let r = app
        .post(
            "/v1/clients",
            &worker,
            json!({"identity_mode": "identified", "first_name": "Listedtoo", "last_name": "Twin",
                   "roi": {"method": "signed"}}),
        )
        .await;
    let listed2 = r.ok(201)["client"]["id"].as_str().unwrap().to_string();
    app.post(
        &format!("/v1/clients/{listed2}/enrollments"),
        &worker,
        json!({"project_id": ce, "entry_date": "2024-01-10", "relationship_to_hoh": 1}),
    )
    .await
    .ok(201);
    let r = app
        .post(&merge_path(&open), &admin, confirm(&listed2))
        .await;
    assert_eq!(r.ok(200)["warnings"], json!([]), "{}", r.body);
    let r = app.get(&list, &worker).await;
    assert!(on_list(r.ok(200), &open), "{}", r.body);
}

/// A merge in progress, as another connection holds it: both records locked `FOR UPDATE` (as
/// `service::merge` locks them), until a request waits on the lock; then the duplicate's
/// contacts, documents, stays and data move, the duplicate becomes a tombstone, and it commits.
fn hold_merge(survivor: Uuid, duplicate: Uuid) -> std::thread::JoinHandle<()> {
    use diesel::prelude::*;
    use diesel::sql_types::{BigInt, Integer, Uuid as SqlUuid};
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    #[derive(diesel::QueryableByName)]
    struct Pid {
        #[diesel(sql_type = Integer)]
        pid: i32,
    }
    let url = test_database_url();
    let (locked, is_locked) = std::sync::mpsc::channel();
    let handle = std::thread::spawn(move || {
        let mut holder = PgConnection::establish(&url).unwrap();
        let mut watcher = PgConnection::establish(&url).unwrap();
        holder
            .transaction::<_, diesel::result::Error, _>(|c| {
                let pid = diesel::sql_query("SELECT pg_backend_pid() AS pid")
                    .get_result::<Pid>(c)?
                    .pid;
                diesel::sql_query(
                    "SELECT id FROM clients WHERE id IN ($1, $2) ORDER BY id FOR UPDATE",
                )
                .bind::<SqlUuid, _>(survivor)
                .bind::<SqlUuid, _>(duplicate)
                .execute(c)?;
                locked.send(()).unwrap();
                // Until a request waits for this transaction (at most 20 s).
                for _ in 0..400 {
                    let waiting = diesel::sql_query(
                        "SELECT count(*) AS n FROM pg_stat_activity \
                         WHERE $1 = ANY (pg_blocking_pids(pid))",
                    )
                    .bind::<Integer, _>(pid)
                    .get_result::<N>(&mut watcher)?
                    .n;
                    if waiting > 0 {
                        break;
                    }
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
                for table in ["contacts", "documents", "enrollments", "enrollment_data"] {
                    diesel::sql_query(format!(
                        "UPDATE {table} SET client_id = $1 WHERE client_id = $2"
                    ))
                    .bind::<SqlUuid, _>(survivor)
                    .bind::<SqlUuid, _>(duplicate)
                    .execute(c)?;
                }
                diesel::sql_query(
                    "UPDATE clients SET lifecycle = 'merged', merged_into = $1 WHERE id = $2",
                )
                .bind::<SqlUuid, _>(survivor)
                .bind::<SqlUuid, _>(duplicate)
                .execute(c)?;
                Ok(())
            })
            .unwrap();
    });
    is_locked.recv().unwrap();
    handle
}

/// Tester's finding: a contact, document or stay datum added while a merge of its record ran
/// answered 201 and landed on the tombstone. Each such write takes the record's row lock and
/// decides under it: it waits for the merge, then answers 409 `record-merged` naming the
/// survivor, and nothing is attached to the tombstone.
#[actix_web::test]
async fn a_write_that_waits_for_a_merge_of_its_record_is_refused_not_left_on_the_tombstone() {
    let app = spawn_with(committing_pool(4)).await;
    let coc = app.coc(json!({})).await;
    let agency = app.agency(&coc, true).await;
    let worker = app.token(&format!("cw-{agency}"), &[Role::CaseWorker], Some(agency));
    let project = app.project(agency, 1).await;
    let doc = json!({"file_name": "id.txt", "content_type": "text/plain",
                     "content_base64": "aWQgY2FyZA=="});
    for what in ["contacts", "documents", "notes"] {
        let survivor: Uuid = record(&app, &worker, "Keep").await.parse().unwrap();
        let duplicate: Uuid = record(&app, &worker, "Gone").await.parse().unwrap();
        let stay = app
            .post(
                &format!("/v1/clients/{duplicate}/enrollments"),
                &worker,
                json!({"project_id": project, "entry_date": "2024-01-10", "relationship_to_hoh": 1}),
            )
            .await
            .ok(201)["enrollment"]["id"]
            .as_str()
            .unwrap()
            .to_string();
        let (path, body) = match what {
            "contacts" => (
                format!("/v1/clients/{duplicate}/contacts"),
                json!({"kind": "phone", "value": "(509) 555-0100"}),
            ),
            "documents" => (format!("/v1/clients/{duplicate}/documents"), doc.clone()),
            _ => (
                format!("/v1/enrollments/{stay}/notes"),
                json!({"note_date": "2024-01-11", "text": "came by"}),
            ),
        };
        let merge = hold_merge(survivor, duplicate);
        let r = app.post(&path, &worker, body).await;
        merge.join().unwrap();
        let p = r.problem(409);
        assert_eq!(p["type"], "urn:hearth:problem:record-merged", "{what}: {p}");
        assert_eq!(p["use_record"], json!(survivor), "{what}: {p}");
        // Nothing was attached to either record.
        let list = match what {
            "notes" => format!("/v1/enrollments/{stay}/notes"),
            _ => format!("/v1/clients/{survivor}/{what}"),
        };
        let r = app.get(&list, &worker).await;
        assert_eq!(r.ok(200)["items"], json!([]), "{what}");
        #[derive(diesel::QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        use diesel::RunQueryDsl;
        let mut conn = committing_pool(2).get().unwrap();
        let left = diesel::sql_query(
            "SELECT (SELECT count(*) FROM contacts WHERE client_id = $1) \
                  + (SELECT count(*) FROM documents WHERE client_id = $1) \
                  + (SELECT count(*) FROM enrollment_data WHERE client_id = $1) AS n",
        )
        .bind::<diesel::sql_types::Uuid, _>(duplicate)
        .get_result::<N>(&mut conn)
        .unwrap()
        .n;
        assert_eq!(left, 0, "{what} left on the tombstone");
    }
}

/// Tester's findings: a merge of a duplicate holding an SSN and DOB into a survivor without
/// them kept neither and said nothing; and it gave the duplicate's contributors the survivor's
/// identity in full (row 5) without a word. Both are warnings now (field and agency names, no
/// values); the visibility change says why it changed.
#[actix_web::test]
async fn a_merge_warns_of_identity_the_survivor_lacks_and_of_who_gains_full_access() {
    let app = spawn().await;
    let coc = app.coc(json!({})).await;
    let m1 = app.agency(&coc, true).await;
    let r = app
        .post(
            "/v1/agencies",
            &app.admin,
            json!({"coc_code": coc, "name": "Northside Outreach", "shares_data": true}),
        )
        .await;
    let m2: Uuid = r.ok(201)["id"].as_str().unwrap().parse().unwrap();
    let admin = app.token(&format!("aa-{m1}"), &[Role::AgencyAdmin], Some(m1));
    let w1 = app.token(&format!("cw-{m1}"), &[Role::CaseWorker], Some(m1));
    let w2 = app.token(&format!("cw-{m2}"), &[Role::CaseWorker], Some(m2));
    let p2 = app.project(m2, 1).await;
    // S: closed, without SSN and DOB. D: open with an ROI, with them.
    let s = record(&app, &w1, "Sol").await;
    let r = app
        .post(
            "/v1/clients",
            &w1,
            json!({"identity_mode": "identified", "first_name": "Sol", "last_name": "Twin",
                   "ssn": "531829467", "dob": "1980-04-05", "roi": {"method": "signed"}}),
        )
        .await;
    let d = r.ok(201)["client"]["id"].as_str().unwrap().to_string();
    app.post(
        &format!("/v1/clients/{d}/enrollments"),
        &w2,
        json!({"project_id": p2, "entry_date": "2024-01-10", "relationship_to_hoh": 1}),
    )
    .await
    .ok(201);
    let r = app.get(&format!("/v1/clients/{d}/consents"), &w1).await;
    let roi = r.ok(200)["items"][0]["id"].as_str().unwrap().to_string();
    app.post(
        &format!("/v1/clients/{d}/consents/{roi}/revoke"),
        &w1,
        json!({}),
    )
    .await
    .ok(200);
    assert_eq!(app.get(&format!("/v1/clients/{s}"), &w2).await.status, 404);
    let r = app.post(&merge_path(&s), &admin, confirm(&d)).await;
    let out = r.ok(200).clone();
    let warnings = out["warnings"].to_string();
    assert!(warnings.contains("ssn and dob"), "{out}");
    assert!(warnings.contains("Northside Outreach"), "{out}");
    assert!(
        !warnings.contains("531829467") && !warnings.contains("1980"),
        "{out}"
    );
    let changes = out["changes"].to_string();
    assert!(
        !changes.contains("(the more restrictive of the two)"),
        "{out}"
    );
    // The decision of docs/workflows.md: the merge goes ahead; M2 contributes to the survivor.
    let r = app.get(&format!("/v1/clients/{s}"), &w2).await;
    assert_eq!(r.ok(200)["access"]["basis"], "contributor");
}

async fn named_agency<S: Svc>(app: &TestApp<S>, coc: &str, name: &str) -> Uuid {
    let r = app
        .post(
            "/v1/agencies",
            &app.admin,
            json!({"coc_code": coc, "name": name, "shares_data": true}),
        )
        .await;
    r.ok(201)["id"].as_str().unwrap().parse().unwrap()
}

/// Tester's findings: (a) a system administrator merged agency A2's closed record (A1 got 404
/// on it) into A1's record, and A1 then read A2's note and address, the only warning naming A2
/// gaining A1's data; (b) A1's private record merged into A1's open record (ROI, A2 a
/// contributor) gave A2 the private record's note. Now a merge that would show a private (or
/// locked) record to an agency that could not see it is refused (409
/// `restricted-record-would-be-shared`, the dry run too), and a merge of closed records names
/// the agencies gaining each side's data.
#[actix_web::test]
async fn a_merge_never_shows_a_private_record_and_warns_who_gains_a_closed_ones_data() {
    let app = spawn().await;
    let coc = app.coc(json!({})).await;
    let a1 = named_agency(&app, &coc, "Eastside Shelter").await;
    let a2 = named_agency(&app, &coc, "Westside Outreach").await;
    let admin1 = app.token(&format!("aa-{a1}"), &[Role::AgencyAdmin], Some(a1));
    let w1 = app.token(&format!("cw-{a1}"), &[Role::CaseWorker], Some(a1));
    let w2 = app.token(&format!("cw-{a2}"), &[Role::CaseWorker], Some(a2));
    let p1 = app.project(a1, 1).await;
    let p2 = app.project(a2, 1).await;
    let stay_with_note = |client: String, token: String, project: Uuid, text: &'static str| {
        let app = &app;
        async move {
            let r = app
                .post(
                    &format!("/v1/clients/{client}/enrollments"),
                    &token,
                    json!({"project_id": project, "entry_date": "2026-01-10", "relationship_to_hoh": 1}),
                )
                .await;
            let stay = r.ok(201)["enrollment"]["id"].as_str().unwrap().to_string();
            app.post(
                &format!("/v1/enrollments/{stay}/notes"),
                &token,
                json!({"note_date": "2026-01-11", "text": text}),
            )
            .await
            .ok(201);
            stay
        }
    };

    // (b) A1's private record into A1's open record that A2 contributed to.
    let r = app
        .post(
            "/v1/clients",
            &w1,
            json!({"identity_mode": "identified", "first_name": "Teo", "last_name": "Twin",
                   "roi": {"method": "signed", "effective_from": "2026-01-01"}}),
        )
        .await;
    let open = r.ok(201)["client"]["id"].as_str().unwrap().to_string();
    stay_with_note(open.clone(), w2.clone(), p2, "outreach contact").await;
    let private = record(&app, &w1, "Teo").await;
    app.put(
        &format!("/v1/clients/{private}/visibility"),
        &w1,
        json!({"visibility": "private"}),
    )
    .await
    .ok(200);
    let private_stay = stay_with_note(private.clone(), w1.clone(), p1, "private-record note").await;
    let refused = |r: &Reply, what: &str| {
        assert_eq!(
            r.problem(409)["type"],
            "urn:hearth:problem:restricted-record-would-be-shared",
            "{what}: {}",
            r.body
        );
    };
    for (survivor, duplicate) in [(&open, &private), (&private, &open)] {
        for dry in ["", "?dry_run=true"] {
            let r = app
                .post(
                    &format!("{}{dry}", merge_path(survivor)),
                    &admin1,
                    confirm(duplicate),
                )
                .await;
            refused(&r, &format!("{survivor} <- {duplicate} {dry}"));
        }
    }
    // Nothing moved: A2 still cannot read the private record's note.
    app.get(&format!("/v1/enrollments/{private_stay}/notes"), &w2)
        .await
        .problem(404);
    let r = app.get(&format!("/v1/clients/{private}"), &w1).await;
    assert_eq!(r.ok(200)["lifecycle"], "active");

    // A system administrator merging A2's closed record into A1's private one: refused too.
    let a2_closed = record(&app, &w2, "Rina").await;
    stay_with_note(a2_closed.clone(), w2.clone(), p2, "A2-only note").await;
    let r = as_admin(
        &app,
        "POST",
        &merge_path(&private),
        Some(confirm(&a2_closed)),
    )
    .await;
    refused(&r, "private <- a2 closed (system admin)");

    // (a) A2's closed record into A1's closed record, by a system administrator: it goes ahead,
    // and both directions are named, in the dry run as in the merge.
    let a1_closed = record(&app, &w1, "Rina").await;
    app.get(&format!("/v1/clients/{a2_closed}"), &w1)
        .await
        .problem(404);
    for dry in ["?dry_run=true", ""] {
        let r = as_admin(
            &app,
            "POST",
            &format!("{}{dry}", merge_path(&a1_closed)),
            Some(confirm(&a2_closed)),
        )
        .await;
        let out = r.ok(200).clone();
        let warnings: Vec<String> = out["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w.as_str().unwrap().to_string())
            .collect();
        let gains_duplicate = warnings
            .iter()
            .find(|w| w.contains("see the duplicate's data"))
            .unwrap_or_else(|| panic!("{dry}: {out}"));
        assert!(gains_duplicate.contains("Eastside Shelter"), "{out}");
        assert!(!gains_duplicate.contains("Westside Outreach"), "{out}");
        let gains_survivor = warnings
            .iter()
            .find(|w| w.contains("contributed to the duplicate and not to this record"))
            .unwrap_or_else(|| panic!("{dry}: {out}"));
        assert!(gains_survivor.contains("Westside Outreach"), "{out}");
    }
}

/// Tester's finding: b merged into a, then a into c; a write to b answered 409 with use_record
/// a, itself a tombstone. use_record names the final, live survivor (as search follows the
/// chain); GET of b still names its direct survivor in merged_into.
#[actix_web::test]
async fn use_record_follows_a_chain_of_merges_to_the_live_record() {
    let app = spawn().await;
    let coc = app.coc(json!({})).await;
    let agency = app.agency(&coc, true).await;
    let admin = app.token(&format!("aa-{agency}"), &[Role::AgencyAdmin], Some(agency));
    let worker = app.token(&format!("cw-{agency}"), &[Role::CaseWorker], Some(agency));
    let project = app.project(agency, 1).await;
    let a = record(&app, &worker, "Bea").await;
    let b = record(&app, &worker, "Bea").await;
    let c = record(&app, &worker, "Bea").await;
    app.post(&merge_path(&a), &admin, confirm(&b)).await.ok(200);
    app.post(&merge_path(&c), &admin, confirm(&a)).await.ok(200);
    for tomb in [&b, &a] {
        let r = app
            .post(
                &format!("/v1/clients/{tomb}/enrollments"),
                &worker,
                json!({"project_id": project, "entry_date": "2024-01-10", "relationship_to_hoh": 1}),
            )
            .await;
        let p = r.problem(409);
        assert_eq!(p["type"], "urn:hearth:problem:record-merged", "{p}");
        assert_eq!(p["use_record"], json!(c), "{tomb}: {p}");
        // Merging into a tombstone names the live record too.
        let r = app.post(&merge_path(tomb), &admin, confirm(&c)).await;
        assert_eq!(r.problem(409)["use_record"], json!(c), "{tomb}");
    }
    let r = app.get(&format!("/v1/clients/{b}"), &worker).await;
    assert_eq!(r.ok(200)["merged_into"], json!(a));
    app.post(
        &format!("/v1/clients/{c}/enrollments"),
        &worker,
        json!({"project_id": project, "entry_date": "2024-01-10", "relationship_to_hoh": 1}),
    )
    .await
    .ok(201);
}

/// Tester's finding: two open anonymous records that agency B3 read (row 4) were merged; the
/// tombstone is closed, so B3 got 404 on it, though consent.md says a merged record names the
/// survivor to whoever may see the survivor. B3 now gets the tombstone's pointer (its id,
/// lifecycle and merged_into, access level none, nothing else of it); an agency that cannot see
/// the survivor still gets a 404 exactly like an unknown id's.
#[actix_web::test]
async fn a_merged_tombstone_names_the_survivor_to_whoever_may_see_the_survivor() {
    let app = spawn().await;
    let coc = app.coc(json!({})).await;
    let creator = app.agency(&coc, true).await;
    let b3 = app.agency(&coc, true).await;
    let outsider = app.agency(&coc, false).await;
    let admin = app.token(
        &format!("aa-{creator}"),
        &[Role::AgencyAdmin],
        Some(creator),
    );
    let worker = app.token(&format!("cw-{creator}"), &[Role::CaseWorker], Some(creator));
    let w3 = app.token(&format!("cw-{b3}"), &[Role::CaseWorker], Some(b3));
    let wo = app.token(
        &format!("cw-{outsider}"),
        &[Role::CaseWorker],
        Some(outsider),
    );
    let anon = || json!({"identity_mode": "anonymous", "visibility": "open", "birth_year": 1980});
    let r = app.post("/v1/clients", &worker, anon()).await;
    let survivor = r.ok(201)["client"]["id"].as_str().unwrap().to_string();
    let r = app.post("/v1/clients", &worker, anon()).await;
    let duplicate = r.ok(201)["client"]["id"].as_str().unwrap().to_string();
    for id in [&survivor, &duplicate] {
        let r = app.get(&format!("/v1/clients/{id}"), &w3).await;
        assert_eq!(r.ok(200)["access"]["basis"], "deidentified");
        app.get(&format!("/v1/clients/{id}"), &wo)
            .await
            .problem(404);
    }
    app.post(&merge_path(&survivor), &admin, confirm(&duplicate))
        .await
        .ok(200);

    let r = app.get(&format!("/v1/clients/{duplicate}"), &w3).await;
    assert_eq!(
        r.ok(200).clone(),
        json!({"id": duplicate, "lifecycle": "merged", "merged_into": survivor,
               "access": {"level": "none", "basis": null}}),
    );
    assert!(r.header("etag").is_none());
    let r = app.get(&format!("/v1/clients/{survivor}"), &w3).await;
    r.ok(200);
    // The creator still reads the tombstone itself.
    let r = app.get(&format!("/v1/clients/{duplicate}"), &worker).await;
    assert_eq!(r.ok(200)["merged_into"], json!(survivor));
    assert_eq!(r.body["access"]["level"], "full");
    // Whoever cannot see the survivor learns nothing.
    let a = app.get(&format!("/v1/clients/{duplicate}"), &wo).await;
    let b = app
        .get(&format!("/v1/clients/{}", Uuid::now_v7()), &wo)
        .await;
    a.problem(404);
    assert_eq!(a.raw, b.raw);
}
