//! `POST /v1/imports/hmis-csv`: a HUD HMIS CSV export imports as a job, strict or lenient, into
//! one agency; importing it again changes nothing; bad uploads end in problems, never a 5xx and
//! never half an import. The jobs commit, so these tests use a committing pool and CoCs and
//! agencies of their own.

use std::time::{Duration, Instant};

use actix_web::test as web_test;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Uuid as SqlUuid};
use hearth::consent::Role;
use hearth::hmis_csv::sample;
use hearth::hmis_csv::{Spec, Version};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::harness::*;
use std::collections::BTreeSet;

async fn upload<S, B>(app: &TestApp<S>, token: &str, query: &str, bytes: Vec<u8>) -> Reply
where
    S: actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse<B>,
        Error = actix_web::Error,
    >,
    B: actix_web::body::MessageBody,
{
    let req = web_test::TestRequest::post()
        .uri(&format!("/v1/imports/hmis-csv?{query}"))
        .insert_header(("Authorization", format!("Bearer {token}")))
        .insert_header(("Content-Type", "application/zip"))
        .set_payload(bytes)
        .to_request();
    app.raw(req).await
}

/// Submits and waits for the job to finish; answers the finished job.
pub async fn import<S, B>(app: &TestApp<S>, token: &str, query: &str, bytes: Vec<u8>) -> Value
where
    S: actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse<B>,
        Error = actix_web::Error,
    >,
    B: actix_web::body::MessageBody,
{
    let r = upload(app, token, query, bytes).await;
    let job = r.ok(202).clone();
    let location = r.header("location").expect("a Location");
    assert_eq!(
        location,
        format!("/v1/imports/{}", job["id"].as_str().unwrap())
    );
    finished(app, token, &location).await
}

/// Imports `files` into `agency` in strict mode; checks the job succeeded and answers it.
pub async fn imported<S: crate::clients::Svc>(
    app: &TestApp<S>,
    token: &str,
    agency: Uuid,
    files: &[(String, Vec<u8>)],
) -> Value {
    let query = format!("agency={agency}&mode=strict");
    let job = import(app, token, &query, sample::zip(files)).await;
    assert_eq!(job["status"], "succeeded", "{job:#}");
    job
}

/// Polls a job until it has finished; answers it.
async fn finished<S, B>(app: &TestApp<S>, token: &str, location: &str) -> Value
where
    S: actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse<B>,
        Error = actix_web::Error,
    >,
    B: actix_web::body::MessageBody,
{
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let now = app.get(location, token).await.ok(200).clone();
        if now["status"] == "succeeded" || now["status"] == "failed" {
            return now;
        }
        assert!(Instant::now() < deadline, "job still {}", now["status"]);
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A committing pool of `size`, the app on it, and a CoC and an agency of the test's own.
pub async fn world(
    size: u32,
) -> (
    hearth::db::DbPool,
    TestApp<
        impl actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>,
            Error = actix_web::Error,
        >,
    >,
    String,
    Uuid,
) {
    let pool = committing_pool(size);
    let app = spawn_with(pool.clone()).await;
    let coc = app.coc(json!({})).await;
    let agency = app.agency(&coc, true).await;
    (pool, app, coc, agency)
}

fn count(pool: &hearth::db::DbPool, sql: &str, agency: Uuid) -> i64 {
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let mut c = pool.get().unwrap();
    diesel::sql_query(sql)
        .bind::<SqlUuid, _>(agency)
        .get_result::<N>(&mut c)
        .unwrap()
        .n
}

fn file_progress(job: &Value, file: &str, what: &str) -> u64 {
    job["progress"][file][what].as_u64().unwrap_or(0)
}

/// Edits one cell of one file of a generated set (the data row `row`, 1-based).
pub fn set_cell(
    files: &mut [(String, Vec<u8>)],
    file: &str,
    row: usize,
    column: &str,
    value: &str,
) {
    let (_, bytes) = files.iter_mut().find(|(n, _)| n == file).unwrap();
    let mut rd = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(bytes.as_slice());
    let mut rows: Vec<Vec<String>> = rd
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect();
    let i = rows[0].iter().position(|c| c == column).unwrap();
    rows[row][i] = value.to_string();
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    for r in &rows {
        w.write_record(r).unwrap();
    }
    *bytes = w.into_inner().unwrap();
}

/// A vendor's habits: files in one folder, a BOM on one file, a header in other letter case.
fn vendor_zip(files: &[(String, Vec<u8>)]) -> Vec<u8> {
    let quirky: Vec<(String, Vec<u8>)> = files
        .iter()
        .map(|(n, b)| {
            let mut b = b.clone();
            if n == "Client.csv" {
                let mut with_bom = b"\xEF\xBB\xBF".to_vec();
                with_bom.extend_from_slice(&b);
                b = with_bom;
            }
            if n == "Export.csv" {
                // Dates in the exporter's own form.
                let text = String::from_utf8(b).unwrap();
                b = text
                    .replace("2024-01-31 13:45:00", "1/31/2024 1:45 PM")
                    .replace("2024-01-31", "1/31/2024")
                    .into_bytes();
            }
            if n == "Enrollment.csv" {
                let text = String::from_utf8(b).unwrap();
                b = text
                    .replacen("HOHLeaseholder", "HoHLeaseholder", 1)
                    .into_bytes();
            }
            (format!("vendor-export/{n}"), b)
        })
        .collect();
    sample::zip(&quirky)
}

#[actix_web::test]
async fn a_vendor_export_imports_closed_and_importing_it_again_changes_nothing() {
    let (pool, app, coc, agency) = world(4).await;
    let admin = app.token("import-admin", &[Role::AgencyAdmin], Some(agency));
    let mut files = sample::generate(Version::Fy2026, 20, &coc);

    let job = import(
        &app,
        &admin,
        &format!("agency={agency}"),
        vendor_zip(&files),
    )
    .await;
    assert_eq!(job["status"], "succeeded", "{job:#}");
    assert_eq!(job["version"], "2026");
    assert_eq!(file_progress(&job, "Project", "created"), 3);
    assert_eq!(file_progress(&job, "Client", "created"), 20);
    assert_eq!(file_progress(&job, "Enrollment", "created"), 20);
    assert_eq!(file_progress(&job, "Exit", "created"), 10);
    for f in [
        "IncomeBenefits",
        "HealthAndDV",
        "Disabilities",
        "Services",
        "Event",
    ] {
        assert_eq!(file_progress(&job, f, "created"), 20, "{f}: {job:#}");
    }
    let clients = "SELECT count(*) AS n FROM clients WHERE created_by_agency = $1";
    assert_eq!(count(&pool, clients, agency), 20);
    // Closed to sharing (an HMIS CSV carries no ROI), the agency a contributor.
    let closed = "SELECT count(*) AS n FROM clients c JOIN client_contributors k
                  ON k.client_id = c.id AND k.agency_id = c.created_by_agency
                  WHERE c.created_by_agency = $1 AND c.visibility = 'closed'";
    assert_eq!(count(&pool, closed, agency), 20);
    let exited = "SELECT count(*) AS n FROM enrollments e JOIN projects p ON p.id = e.project_id
                  WHERE p.agency_id = $1 AND e.exit_date IS NOT NULL";
    assert_eq!(count(&pool, exited, agency), 10);
    // Current living situations, CE assessments and CE events are the stays' typed data.
    for kind in ["current_living_situation", "assessment", "ce_event"] {
        let sql = format!(
            "SELECT count(*) AS n FROM enrollment_data
              WHERE entered_by_agency = $1 AND kind = '{kind}'"
        );
        assert_eq!(count(&pool, &sql, agency), 20, "{kind}");
    }
    // The source's DateCreated is kept, not the import's time.
    let kept_dates = "SELECT count(*) AS n FROM clients
                      WHERE created_by_agency = $1 AND created_at = '2024-01-31 13:45:00+00'";
    assert_eq!(count(&pool, kept_dates, agency), 20);
    // So are a project's (its DateCreated and DateUpdated).
    let project_dates = "SELECT count(*) AS n FROM projects
                         WHERE agency_id = $1 AND created_at = '2024-01-31 13:45:00+00'
                           AND updated_at = '2024-01-31 13:45:00+00'";
    assert_eq!(count(&pool, project_dates, agency), 3);

    // The agency's case worker reads an imported record in full.
    let worker = app.token("import-worker", &[Role::CaseWorker], Some(agency));
    let id = {
        #[derive(QueryableByName)]
        struct Id {
            #[diesel(sql_type = SqlUuid)]
            id: Uuid,
        }
        let mut c = pool.get().unwrap();
        diesel::sql_query(
            "SELECT id FROM clients WHERE created_by_agency = $1 ORDER BY created_at, id LIMIT 1",
        )
        .bind::<SqlUuid, _>(agency)
        .get_result::<Id>(&mut c)
        .unwrap()
        .id
    };
    let r = app.get(&format!("/v1/clients/{id}"), &worker).await;
    let body = r.ok(200);
    assert_eq!(body["access"]["level"], "full", "{body:#}");
    let stays = app
        .get(&format!("/v1/clients/{id}/enrollments"), &worker)
        .await;
    let stay = stays.ok(200)["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let a = app
        .get(&format!("/v1/enrollments/{stay}/assessments"), &worker)
        .await;
    assert_eq!(
        a.ok(200)["items"].as_array().unwrap().len(),
        1,
        "{}",
        a.body
    );

    // The same export again: nothing changes.
    let again = import(
        &app,
        &admin,
        &format!("agency={agency}&mode=lenient"),
        vendor_zip(&files),
    )
    .await;
    assert_eq!(again["status"], "succeeded", "{again:#}");
    assert_eq!(file_progress(&again, "Client", "unchanged"), 20);
    assert_eq!(file_progress(&again, "Client", "created"), 0);
    assert_eq!(file_progress(&again, "Enrollment", "unchanged"), 20);
    assert_eq!(file_progress(&again, "Assessment", "unchanged"), 20);
    assert_eq!(count(&pool, clients, agency), 20);

    // A changed row updates its record, and only it.
    set_cell(&mut files, "Client.csv", 4, "LastName", "Okonkwo");
    set_cell(&mut files, "Assessment.csv", 2, "AssessmentLevel", "2");
    let changed = import(
        &app,
        &admin,
        &format!("agency={agency}"),
        sample::zip(&files),
    )
    .await;
    assert_eq!(changed["status"], "succeeded", "{changed:#}");
    assert_eq!(file_progress(&changed, "Client", "updated"), 1);
    assert_eq!(file_progress(&changed, "Client", "unchanged"), 19);
    let renamed =
        "SELECT count(*) AS n FROM clients WHERE created_by_agency = $1 AND last_name = 'Okonkwo'";
    assert_eq!(count(&pool, renamed, agency), 1);
    assert_eq!(file_progress(&changed, "Assessment", "updated"), 1);
    let relevelled = "SELECT count(*) AS n FROM enrollment_data WHERE entered_by_agency = $1
                      AND kind = 'assessment' AND fields ->> 'assessment_level' = '2'";
    assert_eq!(count(&pool, relevelled, agency), 1);

    // Another agency's administrator sees neither the job nor may import into this agency.
    let other = app.agency(&coc, true).await;
    let stranger = app.token("import-stranger", &[Role::AgencyAdmin], Some(other));
    let path = format!("/v1/imports/{}", job["id"].as_str().unwrap());
    app.get(&path, &stranger).await.problem(404);
    upload(
        &app,
        &stranger,
        &format!("agency={agency}"),
        sample::zip(&files),
    )
    .await
    .problem(403);
}

#[actix_web::test]
async fn strict_refuses_a_set_with_errors_and_lenient_keeps_the_good_rows() {
    let (pool, app, coc, agency) = world(4).await;
    let mut files = sample::generate(Version::Fy2024, 6, &coc);
    // A code outside its list (kept as invalid in lenient mode) and a date in the wrong form
    // (its enrollment skipped, and the exit hanging from it).
    set_cell(&mut files, "Client.csv", 3, "NameDataQuality", "7");
    set_cell(&mut files, "Enrollment.csv", 2, "EntryDate", "01/02/2024");
    set_cell(
        &mut files,
        "HealthAndDV.csv",
        1,
        "DomesticViolenceSurvivor",
        "7",
    );
    let bytes = sample::zip(&files);
    let admin = app.admin.clone();
    let clients = "SELECT count(*) AS n FROM clients WHERE created_by_agency = $1";

    let strict = import(&app, &admin, &format!("agency={agency}"), bytes.clone()).await;
    assert_eq!(strict["status"], "failed", "{strict:#}");
    assert!(strict["outcome"].as_str().unwrap().contains("strict"));
    let codes: Vec<&str> = strict["problems"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["severity"] == "error")
        .map(|p| p["code"].as_str().unwrap())
        .collect();
    assert!(
        codes.contains(&"not_in_list") && codes.contains(&"bad_date"),
        "{codes:?}"
    );
    assert_eq!(count(&pool, clients, agency), 0, "strict keeps nothing");

    let lenient = import(
        &app,
        &admin,
        &format!("agency={agency}&mode=lenient"),
        bytes,
    )
    .await;
    assert_eq!(lenient["status"], "succeeded", "{lenient:#}");
    assert_eq!(file_progress(&lenient, "Client", "created"), 6);
    assert_eq!(file_progress(&lenient, "Enrollment", "created"), 5);
    assert_eq!(file_progress(&lenient, "Enrollment", "skipped"), 1);
    assert_eq!(file_progress(&lenient, "Exit", "skipped"), 1, "{lenient:#}");
    assert_eq!(count(&pool, clients, agency), 6);
    let problems = lenient["problems"].as_array().unwrap();
    assert!(problems
        .iter()
        .any(|p| p["file"] == "Enrollment.csv" && p["line"] == 3 && p["code"] == "bad_date"));
    assert!(problems.iter().any(|p| p["file"] == "Client.csv"
        && p["line"] == 4
        && p["column"] == "NameDataQuality"
        && p["code"] == "kept_as_invalid"));
    // The invalid value is recorded as sent, and the record says "not collected".
    let recorded = "SELECT count(*) AS n FROM hmis_rows s JOIN clients c ON c.id = s.target_id
                    WHERE s.agency_id = $1 AND s.file = 'Client'
                      AND s.invalid ->> 'NameDataQuality' = '7' AND c.name_quality = 99";
    assert_eq!(count(&pool, recorded, agency), 1);
    // A row kept whole keeps the value as sent, and records it as invalid too.
    let at = hearth::hmis_csv::kept::position("HealthAndDV", "DomesticViolenceSurvivor").unwrap();
    let whole = format!(
        "SELECT count(*) AS n FROM hmis_rows h
          WHERE h.agency_id = $1 AND h.file = 'HealthAndDV'
            AND h.invalid ->> 'DomesticViolenceSurvivor' = '7' AND h.fields ->> {at} = '7'"
    );
    assert_eq!(count(&pool, &whole, agency), 1);
    // No problem echoes a value.
    let text = lenient.to_string();
    assert!(!text.contains("01/02/2024"));
}

/// A row the validator passes but the import cannot take (an exit before its stay's entry)
/// ends a strict import with nothing written; lenient mode skips it alone.
#[actix_web::test]
async fn a_row_that_cannot_be_imported_ends_a_strict_import() {
    let (pool, app, coc, agency) = world(4).await;
    let mut files = sample::generate(Version::Fy2026, 6, &coc);
    set_cell(&mut files, "Exit.csv", 1, "ExitDate", "2000-01-01");
    let bytes = sample::zip(&files);
    let admin = app.admin.clone();
    let clients = "SELECT count(*) AS n FROM clients WHERE created_by_agency = $1";

    let strict = import(&app, &admin, &format!("agency={agency}"), bytes.clone()).await;
    assert_eq!(strict["status"], "failed", "{strict:#}");
    assert!(
        strict["outcome"].as_str().unwrap().contains("strict"),
        "{strict:#}"
    );
    assert!(strict["problems"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["code"] == "not_imported" && p["file"] == "Exit.csv" && p["line"] == 2));
    assert_eq!(count(&pool, clients, agency), 0, "strict keeps nothing");
    for (file, p) in strict["progress"].as_object().unwrap() {
        assert_eq!(p["created"], 0, "{file}: nothing counts as created");
    }

    let lenient = import(
        &app,
        &admin,
        &format!("agency={agency}&mode=lenient"),
        bytes,
    )
    .await;
    assert_eq!(lenient["status"], "succeeded", "{lenient:#}");
    assert_eq!(count(&pool, clients, agency), 6);
    assert_eq!(file_progress(&lenient, "Exit", "skipped"), 1);
}

#[actix_web::test]
async fn bad_uploads_are_problems_never_a_5xx_nor_half_an_import() {
    let (pool, app, coc, agency) = world(4).await;
    let admin = app.admin.clone();
    let q = format!("agency={agency}");
    let clients = "SELECT count(*) AS n FROM clients WHERE created_by_agency = $1";

    // An empty body: refused up front, no job.
    let jobs = "SELECT count(*) AS n FROM import_jobs WHERE agency_id = $1";
    let r = upload(&app, &admin, &q, Vec::new()).await;
    let p = r.problem(422);
    assert!(p.to_string().contains("\"body\""), "{p}");
    assert_eq!(count(&pool, jobs, agency), 0);

    // Not a zip.
    let job = import(&app, &admin, &q, b"PK? no, plain text".to_vec()).await;
    assert_eq!(job["status"], "failed");
    assert_eq!(job["problems"][0]["code"], "not_a_zip", "{job:#}");

    // An entry that climbs out of its folder.
    let files = sample::generate(Version::Fy2026, 2, &coc);
    let mut evil = files.clone();
    evil[1].0 = "../Organization.csv".into();
    let job = import(&app, &admin, &q, sample::zip(&evil)).await;
    assert_eq!(job["status"], "failed");
    assert!(
        job["problems"].to_string().contains("zip_unsafe_name"),
        "{job:#}"
    );

    // No Export.csv.
    let no_export: Vec<_> = files
        .iter()
        .filter(|(n, _)| n != "Export.csv")
        .cloned()
        .collect();
    let job = import(&app, &admin, &q, sample::zip(&no_export)).await;
    assert_eq!(job["status"], "failed");
    assert!(
        job["problems"].to_string().contains("missing_file"),
        "{job:#}"
    );

    // A duplicated primary key, in lenient mode: the first row stays, the second is reported.
    let mut dup = files.clone();
    set_cell(&mut dup, "Client.csv", 2, "PersonalID", "Client-1");
    let job = import(
        &app,
        &admin,
        &format!("{q}&mode=lenient"),
        sample::zip(&dup),
    )
    .await;
    assert_eq!(job["status"], "succeeded", "{job:#}");
    assert!(job["problems"].to_string().contains("duplicate_key"));
    assert_eq!(count(&pool, clients, agency), 1);

    // Refused before any job: the wrong media type, an unknown agency, an upload over the limit.
    let req = web_test::TestRequest::post()
        .uri(&format!("/v1/imports/hmis-csv?{q}"))
        .insert_header(("Authorization", format!("Bearer {admin}")))
        .insert_header(("Content-Type", "text/csv"))
        .set_payload(b"a,b\r\n".to_vec())
        .to_request();
    app.raw(req).await.problem(415);
    let r = upload(
        &app,
        &admin,
        &format!("agency={}", Uuid::now_v7()),
        sample::zip(&files),
    )
    .await;
    assert_eq!(r.problem(422)["errors"][0]["field"], "agency");
    let big = vec![0u8; 9 * 1024 * 1024];
    upload(&app, &admin, &q, big).await.problem(413);
    let r = upload(&app, &admin, "agency=not-a-uuid", sample::zip(&files)).await;
    assert_eq!(r.problem(422)["errors"][0]["field"], "agency");
    let r = upload(&app, &admin, "mode=strict", sample::zip(&files)).await;
    assert_eq!(r.problem(422)["errors"][0]["field"], "agency");
    assert_eq!(r.body["errors"][0]["code"], "required");
    for q in [format!("{q}&mode=yolo"), format!("{q}&mode=")] {
        let r = upload(&app, &admin, &q, sample::zip(&files)).await;
        assert_eq!(r.problem(422)["errors"][0]["field"], "mode", "{q}");
    }
    let worker = app.token("import-worker-2", &[Role::CaseWorker], Some(agency));
    upload(&app, &worker, &q, sample::zip(&files))
        .await
        .problem(403);
}

/// `hearth import-csv` runs the same import from the command line, with the same report.
#[actix_web::test]
async fn the_command_line_imports_with_the_same_report() {
    let (_pool, _app, coc, agency) = world(2).await;
    let path = std::env::temp_dir().join(format!("hearth-cli-import-{agency}.zip"));
    std::fs::write(
        &path,
        sample::zip(&sample::generate(Version::Fy2024, 3, &coc)),
    )
    .unwrap();
    let run = |mode: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_hearth"))
            .args(["import-csv", path.to_str().unwrap(), "--mode", mode])
            .args(["--agency", &agency.to_string()])
            .env("DATABASE_URL", test_database_url())
            .env("RUST_LOG", "warn")
            .output()
            .expect("run hearth import-csv")
    };
    let out = run("strict");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("Client: 3 read, 3 created"), "{stdout}");
    let again = run("lenient");
    let stdout = String::from_utf8_lossy(&again.stdout);
    assert!(
        stdout.contains("Client: 3 read, 0 created, 0 updated, 3 unchanged"),
        "{stdout}"
    );
    assert!(!run("careless").status.success());
    std::fs::remove_file(&path).unwrap();
}

/// Two imports of one export into one agency at once take each source row once (they run one
/// after the other: an advisory lock per agency, and the source ids' unique key behind it).
#[actix_web::test]
async fn two_imports_at_once_take_each_row_once() {
    let (pool, app, coc, agency) = world(6).await;
    let bytes = sample::zip(&sample::generate(Version::Fy2026, 100, &coc));
    let q = format!("agency={agency}");
    let a = upload(&app, &app.admin, &q, bytes.clone())
        .await
        .ok(202)
        .clone();
    let b = upload(&app, &app.admin, &q, bytes).await.ok(202).clone();
    for job in [a, b] {
        let path = format!("/v1/imports/{}", job["id"].as_str().unwrap());
        let done = finished(&app, &app.admin, &path).await;
        assert_eq!(done["status"], "succeeded", "{done:#}");
    }
    let clients = "SELECT count(*) AS n FROM clients WHERE created_by_agency = $1";
    assert_eq!(count(&pool, clients, agency), 100);
    let projects = "SELECT count(*) AS n FROM projects WHERE agency_id = $1";
    assert_eq!(count(&pool, projects, agency), 3);
}

/// The first line where two files differ, for a readable failure.
pub fn first_difference(expected: &str, got: &str) -> String {
    let (e, g): (Vec<&str>, Vec<&str>) = (
        expected.split("\r\n").collect(),
        got.split("\r\n").collect(),
    );
    for i in 0..e.len().max(g.len()) {
        let (a, b) = (e.get(i).copied(), g.get(i).copied());
        if a != b {
            return format!(
                "line {}:\n header   {:?}\n expected {a:?}\n got      {b:?}",
                i + 1,
                e.first()
            );
        }
    }
    "no line differs".into()
}

/// Issue 10 item 5: a generated export that fills every file, imported into an empty CoC and
/// exported again by the importing agency, comes back byte for byte in both versions, apart
/// from the `ExportID` and Export.csv (which says who exported, when, for which window).
#[actix_web::test]
async fn an_export_imported_and_exported_again_comes_back_byte_for_byte() {
    for (version, word) in [(Version::Fy2026, "2026"), (Version::Fy2024, "2024")] {
        let (_pool, app, coc, agency) = world(4).await;
        let admin = app.token("round-trip-admin", &[Role::AgencyAdmin], Some(agency));
        let files = sample::generate(version, 12, &coc);
        imported(&app, &admin, agency, &files).await;
        let r = app
            .get(
                &format!(
                    "/v1/exports/hmis-csv?coc={coc}&start=2024-01-01&end=2024-12-31&version={word}"
                ),
                &admin,
            )
            .await;
        assert_eq!(
            r.status.as_u16(),
            200,
            "{}",
            String::from_utf8_lossy(&r.raw)
        );
        let out = crate::hmis_export::unzip(&r.raw);
        let export_id = crate::hmis_export::rows(&out, "Export")[0]["ExportID"].clone();
        assert_eq!(export_id.len(), 32);
        let ours = crate::hmis_export::rows(&out, "Export");
        let theirs = {
            let mut m = std::collections::BTreeMap::new();
            let text = String::from_utf8(files[0].1.clone()).unwrap();
            m.insert("Export.csv".to_string(), text);
            crate::hmis_export::rows(&m, "Export")
        };
        assert_eq!(files[0].0, "Export.csv");
        assert_eq!(ours[0]["CSVVersion"], theirs[0]["CSVVersion"]);
        let mut differ = Vec::new();
        for (name, bytes) in &files[1..] {
            let expected = String::from_utf8(bytes.clone()).unwrap();
            let got = out
                .get(name)
                .unwrap_or_else(|| panic!("{name} is in the export"))
                .replace(&export_id, "EXP1");
            if got != expected {
                differ.push(format!(
                    "{word} {name}: {}",
                    first_difference(&expected, &got)
                ));
            }
        }
        assert!(differ.is_empty(), "{}", differ.join("\n"));
    }
}

/// The priority list of a CoC, one line per listed client (all but the time of the refresh).
fn priority_list(c: &mut PgConnection, coc: &str) -> String {
    #[derive(QueryableByName)]
    struct T {
        #[diesel(sql_type = diesel::sql_types::Text)]
        t: String,
    }
    diesel::sql_query(
        "SELECT coalesce(string_agg(concat_ws('|', client_id, enrollment_id, household_id,
                entry_date, entry_agency, entry_collected_on, rank_key, priority_score,
                assessed_on, assessment_agency, assessment_collected_on, prioritization_status,
                refusal_count), E'\\n' ORDER BY client_id), '') AS t
           FROM ce_priority WHERE coc_code = $1",
    )
    .bind::<diesel::sql_types::Text, _>(coc)
    .get_result::<T>(c)
    .unwrap()
    .t
}

/// The list as the per-row triggers would leave it: every record of the agency refreshed again
/// (in a transaction rolled back).
fn priority_list_refreshed(pool: &hearth::db::DbPool, coc: &str, agency: Uuid) -> String {
    let mut c = pool.get().unwrap();
    let mut list = String::new();
    let _ = c.transaction::<(), diesel::result::Error, _>(|c| {
        diesel::sql_query(
            "SELECT ce_refresh(id, $1) FROM clients WHERE created_by_agency = $2 ORDER BY id",
        )
        .bind::<diesel::sql_types::Text, _>(coc)
        .bind::<SqlUuid, _>(agency)
        .execute(c)?;
        list = priority_list(c, coc);
        Err(diesel::result::Error::RollbackTransaction)
    });
    list
}

/// The import defers the Coordinated Entry triggers and refreshes the priority list once at the
/// end: the list it leaves is the one the per-row triggers would have left, and every listed
/// record's last logged facts say so.
#[actix_web::test]
async fn an_import_into_a_ce_project_lists_its_clients_as_the_triggers_would() {
    let (pool, app, coc, agency) = world(4).await;
    let admin = app.token("import-ce-admin", &[Role::AgencyAdmin], Some(agency));
    let mut files = sample::generate(Version::Fy2026, 30, &coc);
    set_cell(&mut files, "Project.csv", 1, "ProjectType", "14");
    let q = format!("agency={agency}");
    let job = import(&app, &admin, &q, sample::zip(&files)).await;
    assert_eq!(job["status"], "succeeded", "{job:#}");

    let listed = priority_list(&mut pool.get().unwrap(), &coc);
    assert!(
        !listed.is_empty(),
        "open stays in the CE project are listed"
    );
    assert_eq!(listed, priority_list_refreshed(&pool, &coc, agency));
    let logged = "SELECT count(*) AS n FROM ce_priority p WHERE p.client_id IN (
                    SELECT id FROM clients WHERE created_by_agency = $1)
                    AND (SELECT l.active_ce FROM ce_list_log l
                          WHERE l.client_id = p.client_id AND l.coc_code = p.coc_code
                          ORDER BY l.at DESC, l.id DESC LIMIT 1)";
    let on_list = "SELECT count(*) AS n FROM ce_priority WHERE client_id IN (
                    SELECT id FROM clients WHERE created_by_agency = $1)";
    assert_eq!(count(&pool, logged, agency), count(&pool, on_list, agency));

    // Changed rows (a stay moved out of the CE project, an assessment's status, an exit) are
    // refreshed too.
    set_cell(&mut files, "Enrollment.csv", 1, "ProjectID", "Project-2");
    for row in 1..=6 {
        set_cell(
            &mut files,
            "Assessment.csv",
            row,
            "PrioritizationStatus",
            "2",
        );
    }
    let again = import(&app, &admin, &q, sample::zip(&files)).await;
    assert_eq!(again["status"], "succeeded", "{again:#}");
    assert_eq!(
        file_progress(&again, "Enrollment", "updated"),
        1,
        "{again:#}"
    );
    let relisted = priority_list(&mut pool.get().unwrap(), &coc);
    assert_ne!(relisted, listed);
    assert_eq!(relisted, priority_list_refreshed(&pool, &coc, agency));
}

/// A write that fails on the import's writer thread (here a trigger refuses the agency's Event
/// rows) fails the job and rolls the whole import back: nothing of it is kept.
#[actix_web::test]
async fn a_write_that_fails_mid_import_leaves_nothing() {
    let (pool, app, coc, agency) = world(2).await;
    let admin = app.token("imp-admin-boom", &[Role::AgencyAdmin], Some(agency));
    let files = sample::generate(Version::Fy2026, 30, &coc);
    let name = format!("boom_{}", agency.simple());
    {
        let mut c = pool.get().unwrap();
        diesel::connection::SimpleConnection::batch_execute(
            &mut *c,
            &format!(
                "CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN RAISE EXCEPTION 'refused by the test'; END $$;
             CREATE TRIGGER {name} BEFORE INSERT ON hmis_rows FOR EACH ROW
             WHEN (NEW.agency_id = '{agency}' AND NEW.file = 'Event')
             EXECUTE FUNCTION {name}();"
            ),
        )
        .unwrap();
    }
    let job = import(
        &app,
        &admin,
        &format!("agency={agency}&mode=strict"),
        sample::zip(&files),
    )
    .await;
    {
        let mut c = pool.get().unwrap();
        diesel::connection::SimpleConnection::batch_execute(
            &mut *c,
            &format!("DROP TRIGGER {name} ON hmis_rows; DROP FUNCTION {name}();"),
        )
        .unwrap();
    }
    assert_eq!(job["status"], "failed", "{job:#}");
    assert!(
        job["outcome"].as_str().unwrap().contains("rolled back"),
        "{job:#}"
    );
    let clients = "SELECT count(*) AS n FROM clients WHERE created_by_agency = $1";
    assert_eq!(count(&pool, clients, agency), 0);
    let kept = "SELECT count(*) AS n FROM hmis_rows WHERE agency_id = $1";
    assert_eq!(count(&pool, kept, agency), 0);

    // Without the trigger the same set imports whole.
    imported(&app, &admin, agency, &files).await;
    assert_eq!(count(&pool, clients, agency), 30);
}

/// A large import brings the planner's statistics of what it wrote up to date, so that the next
/// statements (an export's) are not planned for the tables as they were before it.
#[actix_web::test]
async fn a_large_import_analyzes_the_tables_it_wrote() {
    #[derive(QueryableByName)]
    struct Fresh {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        fresh: bool,
    }
    let (pool, app, coc, agency) = world(2).await;
    let admin = app.token("imp-admin-analyze", &[Role::AgencyAdmin], Some(agency));
    let before = chrono::Utc::now();
    let job = import(
        &app,
        &admin,
        &format!("agency={agency}&mode=strict"),
        sample::zip(&sample::generate(Version::Fy2026, 100, &coc)),
    )
    .await;
    assert_eq!(job["status"], "succeeded", "{job:#}");
    let mut c = pool.get().unwrap();
    for table in ["hmis_rows", "enrollments", "clients", "enrollment_data"] {
        let r: Fresh = diesel::sql_query(
            "SELECT COALESCE(GREATEST(last_analyze, last_autoanalyze) >= $1, false) AS fresh
               FROM pg_stat_user_tables WHERE relname = $2",
        )
        .bind::<diesel::sql_types::Timestamptz, _>(before)
        .bind::<diesel::sql_types::Text, _>(table)
        .get_result(&mut c)
        .unwrap();
        assert!(r.fresh, "{table} was not analyzed after the import");
    }
}

/// Exports the test's CoC (2024-01-01 to 2024-12-31) as `token`, FY2026; answers the files.
pub async fn exported<S: crate::clients::Svc>(
    app: &TestApp<S>,
    token: &str,
    coc: &str,
) -> std::collections::BTreeMap<String, String> {
    let r = app
        .get(
            &format!("/v1/exports/hmis-csv?coc={coc}&start=2024-01-01&end=2024-12-31&version=2026"),
            token,
        )
        .await;
    assert_eq!(
        r.status.as_u16(),
        200,
        "{}",
        String::from_utf8_lossy(&r.raw)
    );
    crate::hmis_export::unzip(&r.raw)
}

/// A changed row imported again keeps its source `DateCreated` and `DateUpdated` in every file
/// Hearth holds typed: the export gives them back as the source sent them, not the time of the
/// import (the tester's `rt26_mod`: an Enrollment row came back stamped with the import's time).
#[actix_web::test]
async fn a_changed_row_keeps_its_source_stamps_in_every_typed_file() {
    let (_pool, app, coc, agency) = world(4).await;
    let admin = app.token("stamps-admin", &[Role::AgencyAdmin], Some(agency));
    let mut files = sample::generate(Version::Fy2026, 4, &coc);
    // Bed nights are the Services Hearth holds typed.
    for row in 1..=4 {
        set_cell(&mut files, "Services.csv", row, "RecordType", "200");
        set_cell(&mut files, "Services.csv", row, "TypeProvided", "200");
    }
    imported(&app, &admin, agency, &files).await;
    let typed = [
        "Organization",
        "Project",
        "Client",
        "Enrollment",
        "Exit",
        "Services",
        "CurrentLivingSituation",
        "Assessment",
        "Event",
    ];
    for f in typed {
        let name = format!("{f}.csv");
        set_cell(&mut files, &name, 1, "DateCreated", "2023-05-06 07:08:09");
        set_cell(&mut files, &name, 1, "DateUpdated", "2024-03-01 10:00:00");
    }
    set_cell(&mut files, "Enrollment.csv", 1, "RelationshipToHoH", "2");
    set_cell(&mut files, "Client.csv", 1, "LastName", "Okonkwo");
    let job = imported(&app, &admin, agency, &files).await;
    for f in typed {
        assert_eq!(file_progress(&job, f, "updated"), 1, "{f}: {job:#}");
    }
    let out = exported(&app, &admin, &coc).await;
    for f in typed {
        let key = Spec::get(Version::Fy2026).file(f).unwrap().key;
        let source = {
            let mut m = std::collections::BTreeMap::new();
            let (_, b) = files
                .iter()
                .find(|(n, _)| *n == format!("{f}.csv"))
                .unwrap();
            m.insert(format!("{f}.csv"), String::from_utf8(b.clone()).unwrap());
            crate::hmis_export::rows(&m, f)[0][key].clone()
        };
        let rows = crate::hmis_export::rows(&out, f);
        let row = rows
            .iter()
            .find(|r| r[key] == source)
            .unwrap_or_else(|| panic!("{f} {source} is exported"));
        assert_eq!(row["DateCreated"], "2023-05-06 07:08:09", "{f}");
        assert_eq!(row["DateUpdated"], "2024-03-01 10:00:00", "{f}");
    }
    let stay = crate::hmis_export::rows(&out, "Enrollment")
        .into_iter()
        .find(|r| r["EnrollmentID"] == "Enrollment-1")
        .unwrap();
    assert_eq!(stay["RelationshipToHoH"], "2");
}

/// Exports the CoC as the system administrator (with a reason), FY2026: the zip's bytes.
async fn exported_by_admin<S: crate::clients::Svc>(app: &TestApp<S>, coc: &str) -> Vec<u8> {
    let r = app
        .send(Call {
            method: "GET",
            path: &format!("/v1/exports/hmis-csv?coc={coc}&start=2024-01-01&end=2024-12-31"),
            token: Some(&app.admin),
            body: None,
            headers: vec![("X-Access-Reason", "CoC submission".into())],
        })
        .await;
    assert_eq!(
        r.status.as_u16(),
        200,
        "{}",
        String::from_utf8_lossy(&r.raw)
    );
    r.raw.to_vec()
}

/// Two agencies of one CoC import exports whose source ids collide (ORG1, Project-1, U1,
/// Client-1 for two different people, Enrollment-1, H-1...): the CoC's export gives every row
/// of every file its own key and passes the validator. An id no other agency imported stays as
/// it came; a shared one is made unique per agency, the same in every export, and every
/// reference to it follows.
#[actix_web::test]
async fn two_agencies_with_colliding_source_ids_export_unique_keys() {
    let (_pool, app, coc, a) = world(4).await;
    let b = app.agency(&coc, true).await;
    let files_a = sample::generate(Version::Fy2026, 6, &coc);
    let mut files_b = sample::generate(Version::Fy2026, 4, &coc);
    // B's Services are bed nights (Hearth holds them typed), A's are kept whole.
    for row in 1..=4 {
        set_cell(&mut files_b, "Services.csv", row, "RecordType", "200");
        set_cell(&mut files_b, "Services.csv", row, "TypeProvided", "200");
    }
    imported(&app, &app.admin, a, &files_a).await;
    imported(&app, &app.admin, b, &files_b).await;

    let zip = exported_by_admin(&app, &coc).await;
    let (errors, _) = crate::hmis_export::validation_errors(&zip);
    assert!(errors.is_empty(), "{errors:#?}");
    let out = crate::hmis_export::unzip(&zip);
    let rows = |f: &str| crate::hmis_export::rows(&out, f);
    let keys = |f: &str, k: &str| -> Vec<String> { rows(f).iter().map(|r| r[k].clone()).collect() };
    // Client-5 and Client-6 are A's alone: as they came. Client-1..4 are both agencies'.
    let clients = keys("Client", "PersonalID");
    assert_eq!(clients.len(), 10, "{clients:?}");
    for only_a in ["Client-5", "Client-6"] {
        assert!(clients.contains(&only_a.to_string()), "{clients:?}");
    }
    assert!(!clients.contains(&"Client-1".to_string()), "{clients:?}");
    let ones: Vec<&String> = clients
        .iter()
        .filter(|c| c.ends_with(":Client-1"))
        .collect();
    assert_eq!(ones.len(), 2, "{clients:?}");
    for (file, key) in [
        ("Organization", "OrganizationID"),
        ("User", "UserID"),
        ("Project", "ProjectID"),
        ("Enrollment", "EnrollmentID"),
        ("Services", "ServicesID"),
        ("Assessment", "AssessmentID"),
    ] {
        let k = keys(file, key);
        let distinct: BTreeSet<&String> = k.iter().collect();
        assert_eq!(distinct.len(), k.len(), "{file}: {k:?}");
        assert!(k.iter().all(|x| x.chars().count() <= 32), "{file}: {k:?}");
    }
    // Each agency's rows name its own records, stays, households, projects and users.
    let stays = rows("Enrollment");
    let stay = |id: &str| {
        stays
            .iter()
            .find(|r| r["EnrollmentID"] == id)
            .unwrap()
            .clone()
    };
    let (e5, e1s): (_, Vec<_>) = (
        stay("Enrollment-5"),
        stays
            .iter()
            .filter(|r| r["EnrollmentID"].ends_with(":Enrollment-1"))
            .cloned()
            .collect(),
    );
    assert_eq!(e5["PersonalID"], "Client-5");
    assert_eq!(e1s.len(), 2);
    assert_ne!(e1s[0]["HouseholdID"], e1s[1]["HouseholdID"]);
    for e in &e1s {
        let tag = e["EnrollmentID"].split(':').next().unwrap().to_string();
        for column in ["PersonalID", "ProjectID", "HouseholdID", "UserID"] {
            assert!(e[column].starts_with(&format!("{tag}:")), "{column}: {e:?}");
        }
    }
    // The same export again gives the same ids.
    let again = crate::hmis_export::unzip(&exported_by_admin(&app, &coc).await);
    let id = |m: &std::collections::BTreeMap<String, String>| {
        crate::hmis_export::rows(m, "Export")[0]["ExportID"].clone()
    };
    for f in [
        "Client.csv",
        "Enrollment.csv",
        "Services.csv",
        "User.csv",
        "Organization.csv",
    ] {
        assert_eq!(
            out[f].replace(&id(&out), "X"),
            again[f].replace(&id(&again), "X"),
            "{f}"
        );
    }
}

/// A Client row's SSN and DOB are held to the API's own rules: a value the API refuses is not
/// kept (a warning names the column and the API's code, never the value; its data quality is
/// 99), so the record can be edited like any other; and a patch does not fail on a stored value
/// it does not touch (a record imported before those rules applied).
#[actix_web::test]
async fn an_ssn_or_dob_the_api_refuses_is_not_imported_and_the_record_stays_editable() {
    let (pool, app, coc, agency) = world(4).await;
    let admin = app.token("import-admin-ssn", &[Role::AgencyAdmin], Some(agency));
    let mut files = sample::generate(Version::Fy2026, 6, &coc);
    let refused = [
        (1, "SSN", "000000000", "ssn_placeholder"),
        (2, "SSN", "123456789", "ssn_placeholder"),
        (3, "SSN", "100000005", "ssn_placeholder"),
        (4, "DOB", "2030-01-01", "dob_in_future"),
    ];
    for (row, column, value, _) in refused {
        set_cell(&mut files, "Client.csv", row, column, value);
    }
    // Unreadable: not kept either, and the warning says so.
    set_cell(&mut files, "Client.csv", 5, "SSN", "12345");
    let job = import(
        &app,
        &admin,
        &format!("agency={agency}&mode=lenient"),
        sample::zip(&files),
    )
    .await;
    assert_eq!(job["status"], "succeeded", "{job:#}");
    assert_eq!(file_progress(&job, "Client", "created"), 6);
    let problems = job["problems"].as_array().unwrap();
    let text = serde_json::to_string(problems).unwrap();
    for (row, column, value, code) in refused {
        assert!(!text.contains(value), "never the value: {text}");
        let p = problems
            .iter()
            .find(|p| p["file"] == "Client.csv" && p["column"] == column && p["code"] == code)
            .unwrap_or_else(|| panic!("row {row}: {problems:#?}"));
        assert_eq!(p["severity"], "warning");
        assert!(p["message"].as_str().unwrap().contains("not kept"), "{p}");
    }
    let unreadable = problems
        .iter()
        .find(|p| p["column"] == "SSN" && p["code"] == "kept_as_invalid")
        .unwrap_or_else(|| panic!("{problems:#?}"));
    let message = unreadable["message"].as_str().unwrap();
    assert!(message.contains("not kept"), "{message}");
    assert!(!message.contains("the value recorded"), "{message}");
    assert!(!text.contains("12345\""), "{text}");

    #[derive(QueryableByName)]
    struct Kept {
        #[diesel(sql_type = diesel::sql_types::Text)]
        source: String,
        #[diesel(sql_type = SqlUuid)]
        id: Uuid,
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
        ssn: Option<String>,
        #[diesel(sql_type = diesel::sql_types::SmallInt)]
        ssn_quality: i16,
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Date>)]
        dob: Option<chrono::NaiveDate>,
        #[diesel(sql_type = diesel::sql_types::SmallInt)]
        dob_quality: i16,
    }
    let kept: Vec<Kept> = diesel::sql_query(
        "SELECT h.source_id AS source, c.id, c.ssn, c.ssn_quality, c.dob, c.dob_quality
           FROM hmis_rows h JOIN clients c ON c.id = h.target_id
          WHERE h.agency_id = $1 AND h.file = 'Client' ORDER BY h.seq",
    )
    .bind::<SqlUuid, _>(agency)
    .load(&mut pool.get().unwrap())
    .unwrap();
    for k in &kept[..3] {
        assert_eq!(
            (k.ssn.as_deref(), k.ssn_quality),
            (None, 99),
            "{}",
            k.source
        );
        assert!(k.dob.is_some());
    }
    assert_eq!((kept[3].dob, kept[3].dob_quality), (None, 99));
    assert!(kept[3].ssn.is_some());
    assert_eq!((kept[4].ssn.as_deref(), kept[4].ssn_quality), (None, 99));
    assert_eq!(kept[5].ssn_quality, 1);

    // Every imported record takes a patch of a field it does not hold wrongly.
    let worker = app.token("import-worker-ssn", &[Role::CaseWorker], Some(agency));
    let patch = |id: Uuid| {
        let app = &app;
        let worker = &worker;
        async move {
            let path = format!("/v1/clients/{id}");
            let etag = app.get(&path, worker).await.header("etag").unwrap();
            let r = app
                .patch(&path, worker, Some(&etag), json!({"middle_name": "Q"}))
                .await;
            assert_eq!(r.ok(200)["client"]["middle_name"], "Q");
        }
    };
    for k in &kept {
        patch(k.id).await;
    }
    // A record that holds such values already (imported before): a patch that does not touch
    // them succeeds and leaves them as they are; one that sends them is refused as ever.
    let id = kept[5].id;
    diesel::sql_query(
        "UPDATE clients SET ssn = '123456789', ssn_quality = 1, dob = '2030-01-01',
                name_quality = 99 WHERE id = $1",
    )
    .bind::<SqlUuid, _>(id)
    .execute(&mut pool.get().unwrap())
    .unwrap();
    patch(id).await;
    let held: Kept = diesel::sql_query(
        "SELECT '' AS source, id, ssn, ssn_quality, dob, dob_quality FROM clients WHERE id = $1",
    )
    .bind::<SqlUuid, _>(id)
    .get_result(&mut pool.get().unwrap())
    .unwrap();
    assert_eq!(held.ssn.as_deref(), Some("123456789"));
    assert_eq!(held.dob, chrono::NaiveDate::from_ymd_opt(2030, 1, 1));
    let path = format!("/v1/clients/{id}");
    let etag = app.get(&path, &worker).await.header("etag").unwrap();
    app.patch(&path, &worker, Some(&etag), json!({"ssn": "000000000"}))
        .await
        .problem(422);
}
