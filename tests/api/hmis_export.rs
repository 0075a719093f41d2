//! `GET /v1/exports/hmis-csv`: the zip passes the HMIS CSV validator in both versions, and holds
//! exactly what the API answers the same caller (a random world).

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;

use hearth::consent::Role;
use hearth::hmis_csv::{validate_path, Limits, Severity, Spec, Version};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::fixtures::*;
use crate::harness::*;

/// The files of a zip, by name, as text.
pub fn unzip(bytes: &[u8]) -> BTreeMap<String, String> {
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).expect("a zip");
    let mut out = BTreeMap::new();
    for i in 0..z.len() {
        let mut e = z.by_index(i).unwrap();
        let mut s = String::new();
        e.read_to_string(&mut s).unwrap();
        out.insert(e.name().unwrap().to_string(), s);
    }
    out
}

/// A file's rows as maps from HUD column to value.
pub fn rows(files: &BTreeMap<String, String>, file: &str) -> Vec<BTreeMap<String, String>> {
    let text = &files[&format!("{file}.csv")];
    let mut rd = csv::ReaderBuilder::new().from_reader(text.as_bytes());
    let header: Vec<String> = rd.headers().unwrap().iter().map(str::to_string).collect();
    rd.records()
        .map(|r| {
            let r = r.unwrap();
            header
                .iter()
                .cloned()
                .zip(r.iter().map(str::to_string))
                .collect()
        })
        .collect()
}

/// The validator's errors on a zip.
pub fn validation_errors(bytes: &[u8]) -> (Vec<String>, Vec<String>) {
    let dir = std::env::temp_dir().join(format!("hearth-export-{}", Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("export.zip");
    std::fs::write(&path, bytes).unwrap();
    let report = validate_path(&path, &Limits::default());
    std::fs::remove_dir_all(&dir).unwrap();
    let show = |sev: Severity| {
        report
            .problems
            .iter()
            .filter(|p| p.severity == sev)
            .map(|p| {
                format!(
                    "{} {:?} {:?} {}: {}",
                    p.file, p.line, p.column, p.code, p.message
                )
            })
            .collect::<Vec<_>>()
    };
    (show(Severity::Error), show(Severity::Warning))
}

fn hex(id: &str) -> String {
    id.replace('-', "")
}

#[actix_web::test]
async fn every_file_of_both_versions_passes_the_validator() {
    let app = spawn().await;
    let coc = app.coc(json!({})).await;
    let agency = app.agency(&coc, true).await;
    let shelter = app.project(agency, 1).await;
    let ce = app.project(agency, 14).await;
    let w = app.token("case.worker@example.org", &[Role::CaseWorker], Some(agency));
    let mut clients = vec![];
    for body in [
        json!({"identity_mode": "identified", "first_name": "Ana, \"Annie\"", "last_name": "Rivera",
               "ssn": "524-71-9932", "dob": "1981-06-14", "veteran_status": 0,
               "race": ["asian", "hispanic_latinao"], "gender": [0, 3], "sex": 0,
               "different_identity_text": "two\nlines"}),
        json!({"identity_mode": "identified", "first_name": "Leo", "last_name": "Rivera",
               "ssn": "6789", "ssn_data_quality": 2, "dob_data_quality": 99, "race_none": 9,
               "gender_none": 99}),
        json!({"identity_mode": "anonymous", "birth_year": 1990}),
        json!({"identity_mode": "consent_refused", "visibility": "closed"}),
    ] {
        let r = app.post("/v1/clients", &w, body).await;
        clients.push(id_of(r.ok(201), "client"));
    }
    for (i, c) in clients.iter().enumerate() {
        let project = if i % 2 == 0 { shelter } else { ce };
        let r = app
            .post(
                &format!("/v1/clients/{c}/enrollments"),
                &w,
                json!({"project_id": project, "entry_date": days_ago(40), "relationship_to_hoh": 1,
                       "living_situation": 116, "length_of_stay": 2, "previous_street_essh": 1,
                       "date_to_street_essh": days_ago(400), "times_homeless_past_three_years": 4,
                       "months_homeless_past_three_years": 113}),
            )
            .await;
        let stay = r.ok(201)["enrollment"]["id"].as_str().unwrap().to_string();
        let base = format!("/v1/enrollments/{stay}");
        for kind in ["bed_night", "meal"] {
            app.post(
                &format!("{base}/services"),
                &w,
                json!({"date_provided": days_ago(39), "service_type": kind}),
            )
            .await
            .ok(201);
        }
        app.post(&format!("{base}/current-living-situations"), &w,
            json!({"information_date": days_ago(38), "current_living_situation": 116, "verified_by": "Outreach, north"}))
            .await.ok(201);
        if project == ce {
            app.post(
                &format!("{base}/assessments"),
                &w,
                json!({"assessment_date": days_ago(37), "assessment_type": 3, "assessment_level": 2,
                       "priority_score": 12.0, "assessment_location": "Drop-in \"center\""}),
            )
            .await
            .ok(201);
            app.post(&format!("{base}/ce-events"), &w,
                json!({"event_date": days_ago(36), "event": 14, "referral_result": 1, "result_date": days_ago(35)}))
                .await.ok(201);
        }
        if i == 1 {
            app.post(&format!("{base}/exit"), &w, json!({"exit_date": days_ago(2), "destination": 435, "destination_subsidy_type": 419}))
                .await.ok(200);
        }
    }
    let admin = app.token("lead", &[Role::CocAdmin], Some(agency));
    for version in ["2026", "2024"] {
        let r = app
            .get(
                &format!(
                    "/v1/exports/hmis-csv?coc={coc}&start={}&end={}&version={version}",
                    days_ago(60),
                    days_ago(0)
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
        assert_eq!(r.header("content-type").as_deref(), Some("application/zip"));
        assert!(r.header("content-disposition").unwrap().contains(&coc));
        let (errors, warnings) = validation_errors(&r.raw);
        assert!(errors.is_empty(), "FY{version}: {errors:#?}");
        assert!(warnings.is_empty(), "FY{version}: {warnings:#?}");
        let files = unzip(&r.raw);
        let v = if version == "2026" {
            Version::Fy2026
        } else {
            Version::Fy2024
        };
        let spec = Spec::get(v);
        assert_eq!(files.len(), 24);
        let export = rows(&files, "Export");
        assert_eq!(export.len(), 1);
        let export_id = export[0]["ExportID"].clone();
        assert_eq!(
            export[0]["CSVVersion"],
            if version == "2026" {
                "2026 v1.0"
            } else {
                "2024 v1.3"
            }
        );
        for f in spec.files {
            let text = &files[&format!("{}.csv", f.name)];
            assert!(!text.starts_with('\u{feff}'), "{} has a BOM", f.name);
            assert!(text.ends_with("\r\n"));
            // Records end in CRLF; the one LF left is inside a quoted field (the data's own).
            let outside = text.replace("\"two\nlines\"", "");
            assert_eq!(
                outside.matches('\n').count(),
                outside.matches("\r\n").count(),
                "{}: bare LF",
                f.name
            );
            let header: Vec<&str> = f.columns.iter().map(|c| c.name).collect();
            assert!(
                text.starts_with(&format!("{}\r\n", header.join(","))),
                "{} header",
                f.name
            );
            for row in rows(&files, f.name) {
                assert_eq!(row["ExportID"], export_id, "{}", f.name);
            }
        }
        // What the world holds, as the CoC lead (an admin of the creating agency) sees it.
        let client_rows = rows(&files, "Client");
        assert_eq!(client_rows.len(), 4);
        let ana = client_rows
            .iter()
            .find(|r| r["PersonalID"] == hex(&clients[0].to_string()))
            .unwrap();
        assert_eq!(ana["NameDataQuality"], "1");
        assert_eq!(rows(&files, "Enrollment").len(), 4);
        assert_eq!(rows(&files, "Exit").len(), 1);
        assert_eq!(rows(&files, "Exit")[0]["DestinationSubsidyType"], "419");
        // Bed nights only: meals have no HUD record type.
        assert_eq!(rows(&files, "Services").len(), 4);
        assert!(rows(&files, "Services")
            .iter()
            .all(|r| r["RecordType"] == "200"));
        assert_eq!(rows(&files, "CurrentLivingSituation").len(), 4);
        assert_eq!(rows(&files, "Assessment").len(), 2);
        assert_eq!(rows(&files, "Event").len(), 2);
        assert_eq!(rows(&files, "Organization").len(), 1);
        assert_eq!(rows(&files, "Project").len(), 2);
        assert_eq!(rows(&files, "ProjectCoC").len(), 2);
        assert!(rows(&files, "Funder").is_empty());
        let users: BTreeSet<String> = rows(&files, "User")
            .iter()
            .map(|r| r["UserID"].clone())
            .collect();
        assert!(users.contains(&hearth::hmis_csv::export_map::user_id(
            "case.worker@example.org"
        )));
        assert!(!files
            .values()
            .any(|t| t.contains("case.worker@example.org")));
    }
    // The creating agency's admin sees everything in full: names and quoted fields survive.
    let agency_admin = app.token("admin", &[Role::AgencyAdmin], Some(agency));
    let r = app
        .get(
            &format!(
                "/v1/exports/hmis-csv?coc={coc}&start={}&end={}&version=2024",
                days_ago(60),
                days_ago(0)
            ),
            &agency_admin,
        )
        .await;
    assert_eq!(r.status.as_u16(), 200);
    let (errors, _) = validation_errors(&r.raw);
    assert!(errors.is_empty(), "{errors:#?}");
    let files = unzip(&r.raw);
    let ana = rows(&files, "Client")
        .into_iter()
        .find(|r| r["PersonalID"] == hex(&clients[0].to_string()))
        .unwrap();
    assert_eq!(ana["FirstName"], "Ana, \"Annie\"");
    assert_eq!(ana["SSN"], "524719932");
    assert_eq!(ana["DOB"], "1981-06-14");
    assert_eq!(ana["DifferentIdentityText"], "two\nlines");
    assert_eq!(
        (
            ana["Woman"].as_str(),
            ana["DifferentIdentity"].as_str(),
            ana["Man"].as_str()
        ),
        ("1", "1", "0")
    );
    let leo = rows(&files, "Client")
        .into_iter()
        .find(|r| r["PersonalID"] == hex(&clients[1].to_string()))
        .unwrap();
    assert_eq!(leo["SSN"], "xxxxx6789");
    // Every client exported in full is in its accounting of disclosures.
    let trail = app
        .get(&format!("/v1/clients/{}/audit", clients[0]), &agency_admin)
        .await;
    let actions: Vec<&str> = trail.ok(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert!(actions.contains(&"hmis_csv_exported"), "{actions:?}");
    let loc: Vec<String> = rows(&files, "Assessment")
        .iter()
        .map(|r| r["AssessmentLocation"].clone())
        .collect();
    assert!(loc.iter().all(|l| l == "Drop-in \"center\""), "{loc:?}");
}

#[actix_web::test]
async fn bad_parameters_answer_problems_naming_the_field() {
    let app = spawn().await;
    let coc = app.coc(json!({})).await;
    let agency = app.agency(&coc, true).await;
    let admin = app.token("lead", &[Role::CocAdmin], Some(agency));
    let base = "/v1/exports/hmis-csv";
    let cases: Vec<(String, u16, Option<&str>)> = vec![
        (
            format!("{base}?start=2026-01-01&end=2026-02-01"),
            422,
            Some("coc"),
        ),
        (
            format!("{base}?coc=nope&start=2026-01-01&end=2026-02-01"),
            422,
            Some("coc"),
        ),
        (
            format!("{base}?coc={coc}&start=2026-13-01&end=2026-02-01"),
            422,
            Some("start"),
        ),
        (
            format!("{base}?coc={coc}&start=2026-01-01&end=20260201"),
            422,
            Some("end"),
        ),
        (
            format!("{base}?coc={coc}&start=0000-01-01&end=2026-02-01"),
            422,
            Some("start"),
        ),
        (
            format!("{base}?coc={coc}&start=2026-01-01&end=2026-2-1"),
            422,
            Some("end"),
        ),
        (
            format!("{base}?coc={coc}&start=-2026-01-01&end=2026-02-01"),
            422,
            Some("start"),
        ),
        (
            format!("{base}?coc={coc}&start=2026-03-01&end=2026-02-01"),
            422,
            Some("end"),
        ),
        (
            format!("{base}?coc={coc}&start=2026-01-01&end=2026-02-01&version=2025"),
            422,
            Some("version"),
        ),
        (
            format!("{base}?coc=ZZ-999&start=2026-01-01&end=2026-02-01"),
            404,
            None,
        ),
        (
            format!("{base}?coc={coc}&start=%00&end=2026-02-01"),
            400,
            None,
        ),
    ];
    for (path, status, field) in cases {
        let r = app.get(&path, &admin).await;
        if status == 400 && r.status.as_u16() == 422 {
            // A NUL is caught by the edge as 400, or as a malformed date (422): both are problems.
            assert!(r.error_fields().contains(&"start".to_string()));
            continue;
        }
        r.problem(status);
        if let Some(f) = field {
            assert!(
                r.error_fields().contains(&f.to_string()),
                "{path}: {}",
                r.body
            );
        }
        assert!(!String::from_utf8_lossy(&r.raw).contains("nope"));
    }
    // Roles without export_data: 403; a system administrator without a reason: 403.
    let worker = app.token("w", &[Role::CaseWorker], Some(agency));
    let path = format!("{base}?coc={coc}&start=2026-01-01&end=2026-02-01");
    app.get(&path, &worker).await.problem(403);
    app.get(&path, &app.admin).await.problem(403);
    let r = app
        .send(Call {
            method: "GET",
            path: &path,
            token: Some(&app.admin),
            body: None,
            headers: vec![("X-Access-Reason", "HUD submission".into())],
        })
        .await;
    assert_eq!(r.status.as_u16(), 200);
    let _: Value = json!(unzip(&r.raw).len());
}

// ---------------------------------------------------------------------------------------------
// A random world: the export equals what the API answers the same caller.

mod world {
    use chrono::{Duration, NaiveDate};

    /// The exit's cases: an open record of the first agency, with statewide ROIs over
    /// `[-200, -150)`, `[-100, -50)` and `[-20, ..)` days, a second agency contributing, and
    /// stays in the first agency's project that a sharing or contributing viewer sees
    /// - with its entry (-90) and without its exit (-30, between windows);
    /// - as a continuation released by its exit alone (entry -40, exit -10);
    /// - with its entry (-190) and without its exit (-130, before the export's window): as the
    ///   caller sees it, open, so in the window.
    pub fn exits_case(
        conn: &mut PgConnection,
        agencies: &[Agency],
        projects: &[(Uuid, Uuid, String)],
        today: NaiveDate,
    ) -> Uuid {
        let day = |n: i64| today - Duration::days(n);
        let (creator, project) = (agencies[0].id, projects[0].0);
        let id = Uuid::now_v7();
        diesel::sql_query(
            "INSERT INTO clients (id, short_uid, person_id, coc_code, created_by_agency, \
             created_by_user, identity_mode, visibility, first_name, last_name, name_quality, \
             ssn_quality, dob_quality, race, gender, sex, veteran_status) \
             VALUES ($1, $4, $1, $2, $3, 'world', 'identified', 'open', 'Exit', 'Case', 1, 99, 99, \
             ARRAY['white'], ARRAY[1::int2], 1, 0)",
        )
        .bind::<SqlUuid, _>(id)
        .bind::<Text, _>(&agencies[0].coc)
        .bind::<SqlUuid, _>(creator)
        .bind::<Text, _>(format!("X{}", &id.simple().to_string()[24..]))
        .execute(conn)
        .unwrap();
        for a in [creator, agencies[1].id] {
            diesel::sql_query(
                "INSERT INTO client_contributors (client_id, agency_id) VALUES ($1, $2)",
            )
            .bind::<SqlUuid, _>(id)
            .bind::<SqlUuid, _>(a)
            .execute(conn)
            .unwrap();
        }
        for (from, revoked) in [(200, Some(150)), (100, Some(50)), (20, None)] {
            diesel::sql_query(
                "INSERT INTO roi_consents (id, client_id, recording_agency_id, recorded_by_user, \
                 effective_from, revoked_on, scope_statewide, method) \
                 VALUES ($1, $2, $3, 'world', $4, $5, true, 'signed')",
            )
            .bind::<SqlUuid, _>(Uuid::now_v7())
            .bind::<SqlUuid, _>(id)
            .bind::<SqlUuid, _>(creator)
            .bind::<Date, _>(day(from))
            .bind::<Nullable<Date>, _>(revoked.map(day))
            .execute(conn)
            .unwrap();
        }
        for (entry, exit) in [(90, 30), (40, 10), (190, 130)] {
            let stay = Uuid::now_v7();
            diesel::sql_query(
                "INSERT INTO enrollments (id, client_id, project_id, household_id, relationship_to_hoh, \
                 entry_date, exit_date, destination, entered_by_agency, entered_by_user, collected_on) \
                 VALUES ($1, $2, $3, $1, 1, $4, $5, 410, $6, 'staff-7', $4)",
            )
            .bind::<SqlUuid, _>(stay)
            .bind::<SqlUuid, _>(id)
            .bind::<SqlUuid, _>(project)
            .bind::<Date, _>(day(entry))
            .bind::<Date, _>(day(exit))
            .bind::<SqlUuid, _>(creator)
            .execute(conn)
            .unwrap();
        }
        id
    }
    use diesel::prelude::*;
    use diesel::sql_types::{Date, Int2, Nullable, Text, Uuid as SqlUuid};
    use rand::rngs::StdRng;
    use rand::Rng;
    use uuid::Uuid;

    pub struct Agency {
        pub id: Uuid,
        pub coc: String,
    }

    pub struct World {
        pub cocs: Vec<String>,
        pub agencies: Vec<Agency>,
        /// (client, merged)
        pub clients: Vec<(Uuid, bool)>,
        /// Projects of the exported CoC (the first).
        pub exported_projects: Vec<Uuid>,
    }

    fn pick<'a, T>(rng: &mut StdRng, xs: &'a [T]) -> &'a T {
        &xs[rng.random_range(0..xs.len())]
    }

    fn exec(conn: &mut PgConnection, sql: &str) {
        diesel::sql_query(sql).execute(conn).unwrap();
    }

    pub fn build(conn: &mut PgConnection, rng: &mut StdRng, today: NaiveDate) -> World {
        let mut cocs = vec![];
        while cocs.len() < 2 {
            let code = crate::harness::random_coc_code();
            let n = diesel::sql_query(
                "INSERT INTO cocs (code, name) VALUES ($1, 'World') ON CONFLICT DO NOTHING",
            )
            .bind::<Text, _>(&code)
            .execute(conn)
            .unwrap();
            if n == 1 {
                cocs.push(code);
            }
        }
        exec(
            conn,
            &format!(
                "UPDATE cocs SET locked_visible_to_ce_assessors = {} WHERE code = '{}'",
                rng.random_bool(0.5),
                cocs[0]
            ),
        );
        let mut agencies = vec![];
        let mut projects: Vec<(Uuid, Uuid, String)> = vec![];
        for i in 0..6 {
            let id = Uuid::now_v7();
            let coc = cocs[if i < 4 { 0 } else { 1 }].clone();
            diesel::sql_query(
                "INSERT INTO agencies (id, coc_code, name, shares_data) VALUES ($1, $2, $3, $4)",
            )
            .bind::<SqlUuid, _>(id)
            .bind::<Text, _>(&coc)
            .bind::<Text, _>(format!("Agency {i}, \"World\""))
            .bind::<diesel::sql_types::Bool, _>(rng.random_bool(0.6))
            .execute(conn)
            .unwrap();
            for ptype in [1i16, 14] {
                let p = Uuid::now_v7();
                diesel::sql_query(
                    "INSERT INTO projects (id, agency_id, name, project_type, ce_entry_point) \
                     VALUES ($1, $2, 'P', $3, $4)",
                )
                .bind::<SqlUuid, _>(p)
                .bind::<SqlUuid, _>(id)
                .bind::<Int2, _>(ptype)
                .bind::<diesel::sql_types::Bool, _>(ptype == 14)
                .execute(conn)
                .unwrap();
                projects.push((p, id, coc.clone()));
            }
            agencies.push(Agency { id, coc });
        }
        let exported_projects = projects
            .iter()
            .filter(|p| p.2 == cocs[0])
            .map(|p| p.0)
            .collect();
        let mut clients = vec![];
        clients.push((exits_case(conn, &agencies, &projects, today), false));
        for n in 0..24 {
            let creator = pick(rng, &agencies);
            let (creator_id, creator_coc) = (creator.id, creator.coc.clone());
            let deid = rng.random_bool(0.25);
            let identity = if deid {
                *pick(rng, &["consent_refused", "anonymous"])
            } else {
                *pick(rng, &["identified", "identified", "code_name"])
            };
            let visibility = if deid {
                "open"
            } else {
                *pick(rng, &["open", "closed", "private", "locked"])
            };
            let lifecycle = *pick(rng, &["active", "active", "active", "superseded", "merged"]);
            let id = Uuid::now_v7();
            let named = identity == "identified";
            diesel::sql_query(
                "INSERT INTO clients (id, short_uid, person_id, coc_code, created_by_agency, \
                 created_by_user, identity_mode, visibility, lifecycle, first_name, last_name, \
                 name_quality, ssn, ssn_quality, dob, dob_quality, race, gender, sex, veteran_status) \
                 VALUES ($1, $2, $1, $3, $4, 'world@example.org', $5, $6, $7, $8, $9, $10, $11, $12, \
                 $13, $14, ARRAY['white'], ARRAY[1::int2], 1, 0)",
            )
            .bind::<SqlUuid, _>(id)
            .bind::<Text, _>(format!("W{:08X}", rng.random_range(0..u32::MAX)))
            .bind::<Text, _>(&creator_coc)
            .bind::<SqlUuid, _>(creator_id)
            .bind::<Text, _>(identity)
            .bind::<Text, _>(visibility)
            .bind::<Text, _>(lifecycle)
            .bind::<Nullable<Text>, _>(named.then(|| format!("First{n}")))
            .bind::<Nullable<Text>, _>(named.then_some("O'Brien, Jr"))
            .bind::<Int2, _>(if named { 1 } else { 9 })
            .bind::<Nullable<Text>, _>(named.then(|| format!("52471{:04}", 1000 + n)))
            .bind::<Int2, _>(if named { 1 } else { 99 })
            .bind::<Nullable<Date>, _>(named.then(|| NaiveDate::from_ymd_opt(1980, 1, 1 + n).unwrap()))
            .bind::<Int2, _>(if named { 1 } else { 99 })
            .execute(conn)
            .unwrap();
            let mut contributors = vec![creator_id];
            for a in &agencies {
                if a.id != creator_id && rng.random_bool(0.2) {
                    contributors.push(a.id);
                }
            }
            for a in &contributors {
                diesel::sql_query(
                    "INSERT INTO client_contributors (client_id, agency_id) VALUES ($1, $2)",
                )
                .bind::<SqlUuid, _>(id)
                .bind::<SqlUuid, _>(*a)
                .execute(conn)
                .unwrap();
            }
            let mut starts = vec![];
            for _ in 0..rng.random_range(0..3) {
                let from = today - Duration::days(rng.random_range(-10..200));
                starts.push(from);
                let expires = rng
                    .random_bool(0.3)
                    .then(|| from + Duration::days(rng.random_range(1..300)));
                let revoked = rng
                    .random_bool(0.2)
                    .then(|| from + Duration::days(rng.random_range(0..300)));
                let statewide = rng.random_bool(0.5);
                let scope: Vec<String> = if statewide {
                    vec![]
                } else {
                    vec![pick(rng, &cocs).clone()]
                };
                diesel::sql_query(
                    "INSERT INTO roi_consents (id, client_id, recording_agency_id, recorded_by_user, \
                     effective_from, expires_on, revoked_on, scope_statewide, scope_cocs, method) \
                     VALUES ($1, $2, $3, 'world', $4, $5, $6, $7, $8, 'signed')",
                )
                .bind::<SqlUuid, _>(Uuid::now_v7())
                .bind::<SqlUuid, _>(id)
                .bind::<SqlUuid, _>(creator_id)
                .bind::<Date, _>(from)
                .bind::<Nullable<Date>, _>(expires)
                .bind::<Nullable<Date>, _>(revoked)
                .bind::<diesel::sql_types::Bool, _>(statewide)
                .bind::<diesel::sql_types::Array<Text>, _>(scope)
                .execute(conn)
                .unwrap();
            }
            for _ in 0..rng.random_range(0..4) {
                let (project, agency, _) = pick(rng, &projects).clone();
                let entry = today - Duration::days(rng.random_range(1..300));
                let exit = rng.random_bool(0.4).then(|| {
                    entry + Duration::days(rng.random_range(0..=(today - entry).num_days()))
                });
                let stay = Uuid::now_v7();
                diesel::sql_query(
                    "INSERT INTO enrollments (id, client_id, project_id, household_id, relationship_to_hoh, \
                     entry_date, exit_date, destination, living_situation, length_of_stay, \
                     entered_by_agency, entered_by_user, collected_on) \
                     VALUES ($1, $2, $3, $1, 1, $4, $5, $6, 116, 2, $7, 'staff-7', $4)",
                )
                .bind::<SqlUuid, _>(stay)
                .bind::<SqlUuid, _>(id)
                .bind::<SqlUuid, _>(project)
                .bind::<Date, _>(entry)
                .bind::<Nullable<Date>, _>(exit)
                .bind::<Nullable<Int2>, _>(exit.map(|_| 101i16))
                .bind::<SqlUuid, _>(agency)
                .execute(conn)
                .unwrap();
                for _ in 0..rng.random_range(0..5) {
                    let on = match starts
                        .iter()
                        .filter(|d| **d >= entry && **d <= today)
                        .collect::<Vec<_>>()
                    {
                        s if !s.is_empty() && rng.random_bool(0.5) => **pick(rng, &s),
                        _ => {
                            entry + Duration::days(rng.random_range(0..=(today - entry).num_days()))
                        }
                    };
                    let by = if rng.random_bool(0.6) {
                        agency
                    } else {
                        *pick(rng, &contributors)
                    };
                    let (kind, fields, text) = match rng.random_range(0..6) {
                        0 => (
                            "service",
                            r#"{"service_type": "bed_night", "quantity": null}"#,
                            None,
                        ),
                        1 => (
                            "service",
                            r#"{"service_type": "meal", "quantity": 1}"#,
                            Some("ate"),
                        ),
                        2 => (
                            "current_living_situation",
                            r#"{"current_living_situation": 116, "verified_by": "Outreach, east"}"#,
                            None,
                        ),
                        3 => (
                            "assessment",
                            r#"{"assessment_kind": "coordinated_entry", "assessment_type": 3, "assessment_level": 2, "prioritization_status": null, "priority_score": 4.5, "assessment_location": "Drop-in"}"#,
                            None,
                        ),
                        4 => (
                            "ce_event",
                            r#"{"event": 14, "location_crisis_or_ph_housing": "Shelter", "referral_result": 1, "result_date": null}"#,
                            None,
                        ),
                        _ => ("case_note", "{}", Some("a note")),
                    };
                    diesel::sql_query(
                        "INSERT INTO enrollment_data (id, kind, enrollment_id, client_id, occurred_on, \
                         fields, text, entered_by_agency, entered_by_user, collected_on) \
                         VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, 'staff-8', $5)",
                    )
                    .bind::<SqlUuid, _>(Uuid::now_v7())
                    .bind::<Text, _>(kind)
                    .bind::<SqlUuid, _>(stay)
                    .bind::<SqlUuid, _>(id)
                    .bind::<Date, _>(on)
                    .bind::<Text, _>(fields)
                    .bind::<Nullable<Text>, _>(text)
                    .bind::<SqlUuid, _>(by)
                    .execute(conn)
                    .unwrap();
                }
            }
            clients.push((id, lifecycle == "merged"));
        }
        World {
            cocs,
            agencies,
            clients,
            exported_projects,
        }
    }
}

#[actix_web::test]
async fn the_export_equals_what_the_api_answers_on_random_worlds() {
    use rand::SeedableRng;
    let seed: u64 = std::env::var("HEARTH_WORLD_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random);
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let pool = test_pool();
    let today = today();
    let (start, end) = (today - chrono::Duration::days(120), today);
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for world_no in 0..2 {
        let world = {
            let mut conn = pool.get().unwrap();
            world::build(&mut conn, &mut rng, today)
        };
        let app = spawn_with(pool.clone()).await;
        let mut viewers: Vec<(String, bool)> = vec![(app.admin.clone(), true)];
        for (i, a) in world.agencies.iter().enumerate() {
            viewers.push((
                app.token(&format!("aa{i}"), &[Role::AgencyAdmin], Some(a.id)),
                false,
            ));
            if i % 2 == 0 {
                viewers.push((
                    app.token(&format!("ca{i}"), &[Role::CocAdmin], Some(a.id)),
                    false,
                ));
            }
        }
        let coc = &world.cocs[0];
        for (token, admin) in &viewers {
            let get = |path: String| {
                let headers = if *admin {
                    vec![("X-Access-Reason", "export test".to_string())]
                } else {
                    vec![]
                };
                let token = token.clone();
                let app = &app;
                async move {
                    app.send(Call {
                        method: "GET",
                        path: &path,
                        token: Some(&token),
                        body: None,
                        headers,
                    })
                    .await
                }
            };
            let r = get(format!(
                "/v1/exports/hmis-csv?coc={coc}&start={start}&end={end}&version=2026"
            ))
            .await;
            assert_eq!(r.status.as_u16(), 200, "{}", r.body);
            let (errors, _) = validation_errors(&r.raw);
            assert!(errors.is_empty(), "seed {seed}: {errors:#?}");
            let files = unzip(&r.raw);
            let by_id = |file: &str, key: &str| -> BTreeMap<String, BTreeMap<String, String>> {
                rows(&files, file)
                    .into_iter()
                    .map(|r| (r[key].clone(), r))
                    .collect()
            };
            let (got_clients, got_stays, got_exits) = (
                by_id("Client", "PersonalID"),
                by_id("Enrollment", "EnrollmentID"),
                by_id("Exit", "ExitID"),
            );
            let got_data: BTreeMap<&str, BTreeMap<String, BTreeMap<String, String>>> = [
                ("services", by_id("Services", "ServicesID")),
                (
                    "current-living-situations",
                    by_id("CurrentLivingSituation", "CurrentLivingSitID"),
                ),
                ("assessments", by_id("Assessment", "AssessmentID")),
                ("ce-events", by_id("Event", "EventID")),
            ]
            .into_iter()
            .collect();
            let mut want_clients = BTreeSet::new();
            let mut want_stays = BTreeSet::new();
            let mut want_data: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
            for (client, merged) in &world.clients {
                let cid = hex(&client.to_string());
                if *merged {
                    assert!(
                        !got_clients.contains_key(&cid),
                        "a merged record was exported (seed {seed})"
                    );
                    continue;
                }
                let c = get(format!("/v1/clients/{client}")).await;
                if c.status.as_u16() == 404 {
                    assert!(
                        !got_clients.contains_key(&cid),
                        "a hidden record was exported (seed {seed})"
                    );
                    *seen.entry("hidden record").or_default() += 1;
                    continue;
                }
                let view = c.ok(200).clone();
                let stays = get(format!("/v1/clients/{client}/enrollments"))
                    .await
                    .ok(200)["items"]
                    .clone();
                let mut any = false;
                for s in stays.as_array().unwrap() {
                    let project: Uuid = s["project_id"].as_str().unwrap().parse().unwrap();
                    if !world.exported_projects.contains(&project) {
                        continue;
                    }
                    let sid = s["id"].as_str().unwrap().to_string();
                    let mut lists: BTreeMap<&str, Vec<Value>> = BTreeMap::new();
                    for kind in [
                        "services",
                        "current-living-situations",
                        "assessments",
                        "ce-events",
                        "notes",
                    ] {
                        let l = get(format!("/v1/enrollments/{sid}/{kind}")).await.ok(200)["items"]
                            .clone();
                        lists.insert(kind, l.as_array().unwrap().clone());
                    }
                    let withheld = s["entry_withheld"].as_bool().unwrap();
                    // The exit is a datum of its own: withheld, the API answers no exit (and the
                    // export has no Exit row, the stay judged as the caller sees it); released,
                    // it dates a continuation when nothing released in it is earlier.
                    if s["exit_withheld"].as_bool().unwrap() {
                        assert_eq!(s["exit_date"], Value::Null);
                        *seen.entry("exit withheld").or_default() += 1;
                    }
                    let entry: String = if withheld {
                        let data_days = lists
                            .values()
                            .flatten()
                            .map(|d| d["date"].as_str().unwrap().to_string());
                        let exit_day = s["exit_date"].as_str().map(str::to_string);
                        if lists.values().all(|l| l.is_empty()) {
                            *seen.entry("continuation by its exit").or_default() += 1;
                        }
                        data_days.chain(exit_day).min().unwrap()
                    } else {
                        s["entry_date"].as_str().unwrap().to_string()
                    };
                    let overlaps = entry.as_str() <= end.to_string().as_str()
                        && s["exit_date"]
                            .as_str()
                            .is_none_or(|x| x >= start.to_string().as_str());
                    let shex = hex(&sid);
                    if !overlaps {
                        assert!(
                            !got_stays.contains_key(&shex),
                            "a stay outside the window (seed {seed})"
                        );
                        continue;
                    }
                    any = true;
                    want_stays.insert(shex.clone());
                    *seen
                        .entry(if withheld {
                            "continuation"
                        } else {
                            "stay with entry"
                        })
                        .or_default() += 1;
                    let e = got_stays
                        .get(&shex)
                        .unwrap_or_else(|| panic!("stay {sid} missing (seed {seed})"));
                    assert_eq!(e["PersonalID"], cid);
                    assert_eq!(e["EntryDate"], entry, "seed {seed}");
                    let ls = s["living_situation"]
                        .as_i64()
                        .map(|v| v.to_string())
                        .unwrap_or_default();
                    assert_eq!(e["LivingSituation"], ls, "seed {seed}");
                    match s["exit_date"].as_str() {
                        Some(x) => assert_eq!(got_exits[&shex]["ExitDate"], x),
                        None => assert!(!got_exits.contains_key(&shex)),
                    }
                    for (kind, items) in &lists {
                        let Some(got) = got_data.get(kind) else {
                            continue;
                        };
                        for d in items {
                            if *kind == "services" && d["fields"]["service_type"] != "bed_night" {
                                continue;
                            }
                            let did = hex(d["id"].as_str().unwrap());
                            let row = got
                                .get(&did)
                                .unwrap_or_else(|| panic!("{kind} {did} missing (seed {seed})"));
                            want_data.entry(kind).or_default().insert(did);
                            let text = |k: &str| d["fields"][k].as_str().unwrap_or("").to_string();
                            match *kind {
                                "current-living-situations" => {
                                    assert_eq!(row["VerifiedBy"], text("verified_by"))
                                }
                                "ce-events" => assert_eq!(
                                    row["LocationCrisisOrPHHousing"],
                                    text("location_crisis_or_ph_housing")
                                ),
                                "assessments" => assert_eq!(
                                    row["AssessmentLocation"],
                                    if d["access"] == "full" {
                                        text("assessment_location")
                                    } else {
                                        "Withheld".into()
                                    }
                                ),
                                _ => {}
                            }
                            *seen
                                .entry(if d["access"] == "full" {
                                    "datum full"
                                } else {
                                    "datum non_pii"
                                })
                                .or_default() += 1;
                        }
                    }
                }
                if !any {
                    assert!(
                        !got_clients.contains_key(&cid),
                        "a client without exported stays (seed {seed})"
                    );
                    continue;
                }
                want_clients.insert(cid.clone());
                let row = got_clients
                    .get(&cid)
                    .unwrap_or_else(|| panic!("client {client} missing (seed {seed})"));
                let s = |k: &str| view[k].as_str().unwrap_or("").to_string();
                assert_eq!(row["FirstName"], s("first_name"), "seed {seed}");
                assert_eq!(row["LastName"], s("last_name"), "seed {seed}");
                assert_eq!(row["SSN"], s("ssn").replace('-', ""), "seed {seed}");
                assert_eq!(row["DOB"], s("dob"), "seed {seed}");
                assert_eq!(
                    row["NameDataQuality"],
                    view["name_data_quality"].to_string()
                );
                assert_eq!(row["SSNDataQuality"], view["ssn_data_quality"].to_string());
                assert_eq!(row["DOBDataQuality"], view["dob_data_quality"].to_string());
                assert_eq!(row["VeteranStatus"], view["veteran_status"].to_string());
                let level = view["access"]["level"].as_str().unwrap();
                assert_eq!(
                    row["FirstName"].is_empty(),
                    level != "full" || s("first_name").is_empty()
                );
                *seen
                    .entry(if level == "full" {
                        "client full"
                    } else {
                        "client limited"
                    })
                    .or_default() += 1;
            }
            let keys = |m: &BTreeMap<String, BTreeMap<String, String>>| {
                m.keys().cloned().collect::<BTreeSet<_>>()
            };
            assert_eq!(
                keys(&got_clients),
                want_clients,
                "clients (world {world_no}, seed {seed})"
            );
            assert_eq!(
                keys(&got_stays),
                want_stays,
                "stays (world {world_no}, seed {seed})"
            );
            for (kind, got) in &got_data {
                assert_eq!(
                    keys(got),
                    want_data.remove(kind).unwrap_or_default(),
                    "{kind} (seed {seed})"
                );
            }
        }
    }
    eprintln!("export = API (seed {seed}): {seen:?}");
    for what in [
        "hidden record",
        "client full",
        "client limited",
        "stay with entry",
        "datum full",
        "exit withheld",
        "continuation by its exit",
    ] {
        assert!(
            seen.get(what).copied().unwrap_or(0) > 0,
            "no {what}: {seen:?} (seed {seed})"
        );
    }
}

/// A stay may hold far more rows than a page of the export reads at once (the tester's 3.7
/// million bed nights of 300 clients): its data are read in pages of rows, one range of an index
/// per stay, and come out whole and in order. Stay 1 holds more than two pages of imported bed
/// nights (in an order that is not their dates'), interleaved in the file with stay 2's, and
/// bed nights Hearth recorded itself; every row is exported once, each stay's rows together,
/// the imported ones in the order they came, then Hearth's.
#[actix_web::test]
async fn a_stay_with_more_rows_than_a_page_exports_whole_and_in_order() {
    let (pool, app, coc, agency) = crate::hmis_import::world(4).await;
    let admin = app.token("many-rows-admin", &[Role::AgencyAdmin], Some(agency));
    let mut files = hearth::hmis_csv::sample::generate(Version::Fy2026, 3, &coc);
    let rows_of_stay_1 = 2 * hearth::repo::hmis_export::ROWS as usize + 7;
    let services = {
        let (_, bytes) = files.iter().find(|(n, _)| n == "Services.csv").unwrap();
        let mut rd = csv::ReaderBuilder::new().from_reader(bytes.as_slice());
        let header: Vec<String> = rd.headers().unwrap().iter().map(str::to_string).collect();
        let template: Vec<String> = rd
            .records()
            .next()
            .unwrap()
            .unwrap()
            .iter()
            .map(str::to_string)
            .collect();
        let at = |c: &str| header.iter().position(|h| h == c).unwrap();
        let mut w = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .from_writer(Vec::new());
        w.write_record(&header).unwrap();
        let mut expected: Vec<(String, String)> = Vec::new();
        for i in 0..rows_of_stay_1 + 40 {
            // Every 100th row is stay 2's.
            let stay = if i % 100 == 50 { 2 } else { 1 };
            let mut r = template.clone();
            let id = format!("S-{i}");
            r[at("ServicesID")] = id.clone();
            r[at("EnrollmentID")] = format!("Enrollment-{stay}");
            r[at("PersonalID")] = format!("Client-{stay}");
            r[at("DateProvided")] =
                format!("2024-{:02}-{:02}", 1 + (i * 7) % 12, 1 + (i * 13) % 28);
            r[at("RecordType")] = "200".into();
            r[at("TypeProvided")] = "200".into();
            w.write_record(&r).unwrap();
            expected.push((format!("Enrollment-{stay}"), id));
        }
        (w.into_inner().unwrap(), expected)
    };
    let (bytes, imported_rows) = services;
    files
        .iter_mut()
        .find(|(n, _)| n == "Services.csv")
        .unwrap()
        .1 = bytes;
    crate::hmis_import::imported(&app, &admin, agency, &files).await;

    // Bed nights Hearth records itself on stays 1 and 3.
    let worker = app.token("many-rows-worker", &[Role::CaseWorker], Some(agency));
    let stay_of = |source: &str| {
        let mut c = pool.get().unwrap();
        #[derive(diesel::QueryableByName)]
        struct Id {
            #[diesel(sql_type = diesel::sql_types::Uuid)]
            id: Uuid,
        }
        use diesel::RunQueryDsl;
        diesel::sql_query(
            "SELECT target_id AS id FROM hmis_rows WHERE agency_id = $1 AND file = 'Enrollment'
               AND source_id = $2",
        )
        .bind::<diesel::sql_types::Uuid, _>(agency)
        .bind::<diesel::sql_types::Text, _>(source)
        .get_result::<Id>(&mut c)
        .unwrap()
        .id
    };
    let mut ours: Vec<(String, String)> = Vec::new();
    for (source, day) in [
        ("Enrollment-1", "2024-07-02"),
        ("Enrollment-1", "2024-07-01"),
        ("Enrollment-3", "2024-07-03"),
    ] {
        let r = app
            .post(
                &format!("/v1/enrollments/{}/services", stay_of(source)),
                &worker,
                json!({"date_provided": day, "service_type": "bed_night"}),
            )
            .await;
        ours.push((
            source.to_string(),
            hex(r.ok(201)["datum"]["id"].as_str().unwrap()),
        ));
    }

    let r = app
        .get(
            &format!("/v1/exports/hmis-csv?coc={coc}&start=2024-01-01&end=2024-12-31"),
            &admin,
        )
        .await;
    assert_eq!(r.status.as_u16(), 200);
    let (errors, _) = validation_errors(&r.raw);
    assert!(errors.is_empty(), "{errors:#?}");
    let out = unzip(&r.raw);
    let got: Vec<(String, String)> = rows(&out, "Services")
        .into_iter()
        .map(|r| (r["EnrollmentID"].clone(), r["ServicesID"].clone()))
        .collect();
    // Stays in the order of Enrollment.csv; in each, the imported rows as they came, then
    // Hearth's by day.
    let stays: Vec<String> = rows(&out, "Enrollment")
        .into_iter()
        .map(|r| r["EnrollmentID"].clone())
        .collect();
    let mut expected = Vec::new();
    for stay in &stays {
        expected.extend(imported_rows.iter().filter(|(s, _)| s == stay).cloned());
        let mut mine: Vec<&(String, String)> = ours.iter().filter(|(s, _)| s == stay).collect();
        // 2024-07-01 before 2024-07-02.
        mine.reverse();
        expected.extend(mine.into_iter().cloned());
    }
    assert_eq!(got.len(), rows_of_stay_1 + 40 + 3);
    assert!(
        got == expected,
        "first difference at {:?}",
        got.iter().zip(&expected).position(|(a, b)| a != b)
    );
}

/// A `HEAD` of the export is checked as a `GET` is (the same status and headers) but reads and
/// discloses nothing, so nothing is audited; the `GET` is.
#[actix_web::test]
async fn a_head_of_the_export_discloses_nothing_and_is_not_audited() {
    let app = spawn().await;
    let coc = app.coc(json!({})).await;
    let agency = app.agency(&coc, true).await;
    let project = app.project(agency, 1).await;
    let w = app.token("head-w", &[Role::CaseWorker], Some(agency));
    let admin = app.token("head-admin", &[Role::AgencyAdmin], Some(agency));
    let r = app
        .post(
            "/v1/clients",
            &w,
            json!({"identity_mode": "identified", "first_name": "Hed", "last_name": "Request"}),
        )
        .await;
    let client = r.ok(201)["client"]["id"].as_str().unwrap().to_string();
    app.post(
        &format!("/v1/clients/{client}/enrollments"),
        &w,
        json!({"project_id": project, "entry_date": days_ago(10), "relationship_to_hoh": 1}),
    )
    .await
    .ok(201);
    let query = format!(
        "/v1/exports/hmis-csv?coc={coc}&start={}&end={}",
        days_ago(30),
        days_ago(0)
    );
    let trail = |v: &Value| -> Vec<String> {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|e| e["action"].as_str().map(str::to_string))
            .collect()
    };
    let audit = format!("/v1/clients/{client}/audit");
    let r = crate::clients::send(&app, "HEAD", &query, &admin, None, ("X-Unused", "x")).await;
    assert_eq!(r.status.as_u16(), 200);
    assert!(r.raw.is_empty());
    let actions = trail(app.get(&audit, &admin).await.ok(200));
    assert!(
        !actions.iter().any(|a| a == "hmis_csv_exported"),
        "{actions:?}"
    );
    // A HEAD the GET would refuse is refused the same way.
    let bad = format!("/v1/exports/hmis-csv?coc={coc}&start=2024-13-01&end=2024-12-31");
    let r = crate::clients::send(&app, "HEAD", &bad, &admin, None, ("X-Unused", "x")).await;
    assert_eq!(r.status.as_u16(), 422);
    let r = app.get(&query, &admin).await;
    assert_eq!(r.status.as_u16(), 200);
    let actions = trail(app.get(&audit, &admin).await.ok(200));
    assert!(
        actions.iter().any(|a| a == "hmis_csv_exported"),
        "{actions:?}"
    );
}

/// Tester: an agency admin of one CoC exported another CoC and read, in Organization.csv and
/// Project.csv, a victim service provider and its project that `GET /v1/agencies/{id}` and
/// `GET /v1/projects/{id}` answer 404 to the same caller. The descriptor files (Organization,
/// Project, ProjectCoC, Funder, Inventory, Affiliation, HMISParticipation, CEParticipation,
/// User, as Hearth writes them or an import kept them) describe the agencies and projects the
/// API shows the caller (consent::listing::TenantScope); of the others, only a project whose
/// stay the caller is shown (the API answers it with its project's and agency's ids) is named,
/// by its ids alone, with its organization and the users the rows name. Every stay the API
/// shows stays in the export, and the zip validates.
#[actix_web::test]
async fn an_export_describes_only_the_agencies_and_projects_the_api_shows_the_caller() {
    use crate::hmis_import::{imported, set_cell, world};
    use hearth::hmis_csv::sample;
    let (_pool, app, coc, shown) = world(4).await;
    let hidden = app.agency(&coc, false).await;
    // A second agency that does not share, whose projects hold no stay the caller is shown.
    let absent = app.agency(&coc, false).await;
    let absent_project = app.project(absent, 1).await;
    let files_shown = sample::generate(Version::Fy2026, 2, &coc);
    let mut files_hidden = sample::generate(Version::Fy2026, 2, &coc);
    set_cell(
        &mut files_hidden,
        "Organization.csv",
        1,
        "OrganizationName",
        "Hiddenhaven",
    );
    for row in 1..=3 {
        set_cell(
            &mut files_hidden,
            "Project.csv",
            row,
            "ProjectName",
            "Hiddenhaven",
        );
    }
    set_cell(
        &mut files_hidden,
        "User.csv",
        1,
        "UserLastName",
        "Hiddenhaven",
    );
    imported(&app, &app.admin, shown, &files_shown).await;
    imported(&app, &app.admin, hidden, &files_hidden).await;
    let hidden_project = app.project(hidden, 1).await;
    let shown_project = app.project(shown, 1).await;
    // An open record of each agency under a statewide ROI, with a stay at its own project.
    let mut stays = BTreeMap::new();
    for (agency, project) in [(hidden, hidden_project), (shown, shown_project)] {
        let w = app.token(&format!("w-{agency}"), &[Role::CaseWorker], Some(agency));
        let roi = json!({"method": "signed", "scope": {"type": "statewide"}});
        let r = app
            .post(
                "/v1/clients",
                &w,
                json!({"identity_mode": "identified", "first_name": "Ana", "last_name": "Rivera",
                       "veteran_status": 0, "visibility": "open", "roi": roi}),
            )
            .await;
        let c = id_of(r.ok(201), "client");
        let r = app
            .post(
                &format!("/v1/clients/{c}/enrollments"),
                &w,
                json!({"project_id": project, "entry_date": days_ago(0), "relationship_to_hoh": 1,
                       "living_situation": 116, "length_of_stay": 2, "previous_street_essh": 1,
                       "date_to_street_essh": days_ago(400), "times_homeless_past_three_years": 4,
                       "months_homeless_past_three_years": 113}),
            )
            .await;
        stays.insert(agency, id_of(r.ok(201), "enrollment"));
    }
    // The caller: an agency admin of a sharing agency of another CoC.
    let other = app.coc(json!({})).await;
    let own = app.agency(&other, true).await;
    let caller = app.token("aa-other", &[Role::AgencyAdmin], Some(own));
    for a in [hidden, absent] {
        app.get(&format!("/v1/agencies/{a}"), &caller)
            .await
            .problem(404);
    }
    for p in [hidden_project, absent_project] {
        app.get(&format!("/v1/projects/{p}"), &caller)
            .await
            .problem(404);
    }
    app.get(&format!("/v1/agencies/{shown}"), &caller)
        .await
        .ok(200);
    app.get(&format!("/v1/projects/{shown_project}"), &caller)
        .await
        .ok(200);
    // The API shows the caller the stay at the hidden agency's project, with its ids.
    let seen = app
        .get(&format!("/v1/enrollments/{}", stays[&hidden]), &caller)
        .await
        .ok(200)
        .clone();
    assert_eq!(seen["project_id"], json!(hidden_project.to_string()));
    assert_eq!(seen["entered_by_agency_id"], json!(hidden.to_string()));
    let export = |token: String, reason: bool| {
        let app = &app;
        let path = format!("/v1/exports/hmis-csv?coc={coc}&start=2000-01-01&end=2030-01-31");
        async move {
            let headers = if reason {
                vec![("X-Access-Reason", "CoC submission".to_string())]
            } else {
                vec![]
            };
            let r = app
                .send(Call {
                    method: "GET",
                    path: &path,
                    token: Some(&token),
                    body: None,
                    headers,
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
    };
    // A system administrator sees every agency: the hidden ones are there, whole.
    let all = unzip(&export(app.admin.clone(), true).await);
    assert!(all["Organization.csv"].contains("Hiddenhaven"));
    assert!(all["Project.csv"].contains(&hex(&absent_project.to_string())));

    let zip = export(caller.clone(), false).await;
    let (errors, warnings) = validation_errors(&zip);
    assert!(errors.is_empty(), "{errors:#?}");
    assert!(
        !warnings
            .iter()
            .any(|w| w.contains("orphan_key") || w.contains("coc_not_in_project")),
        "{warnings:#?}"
    );
    let out = unzip(&zip);
    for (file, text) in &out {
        // Nothing of the agency without a stay shown, nor of what the hidden one imported.
        assert!(!text.contains("Hiddenhaven"), "{file}: {text}");
        assert!(!text.contains(&hex(&absent.to_string())), "{file}: {text}");
        assert!(
            !text.contains(&hex(&absent_project.to_string())),
            "{file}: {text}"
        );
    }
    // Every stay the API shows: the hidden project's too.
    let enrollments = rows(&out, "Enrollment");
    let stay_projects: BTreeSet<String> =
        enrollments.iter().map(|r| r["ProjectID"].clone()).collect();
    assert_eq!(
        stay_projects,
        BTreeSet::from([
            hex(&shown_project.to_string()),
            hex(&hidden_project.to_string())
        ])
    );
    assert_eq!(rows(&out, "Client").len(), 2);
    let projects = rows(&out, "Project");
    let ids: BTreeSet<String> = projects.iter().map(|r| r["ProjectID"].clone()).collect();
    // The shown agency's four (the three it imported and the one Hearth made), and the hidden
    // project of the stay shown, by its ids alone.
    assert_eq!(ids.len(), 5, "{ids:?}");
    assert!(ids.contains(&hex(&shown_project.to_string())));
    let named = projects
        .iter()
        .find(|r| r["ProjectID"] == hex(&hidden_project.to_string()))
        .unwrap();
    assert_eq!(named["OrganizationID"], hex(&hidden.to_string()));
    assert_eq!(named["ProjectName"], "(not shown)");
    assert_eq!(named["ProjectType"], "");
    let orgs = rows(&out, "Organization");
    // The shown agency's (its imported organization and itself), and the hidden one's ids.
    assert_eq!(orgs.len(), 3, "{orgs:?}");
    let org = orgs
        .iter()
        .find(|r| r["OrganizationID"] == hex(&hidden.to_string()))
        .unwrap();
    assert_eq!(org["OrganizationName"], "(not shown)");
    let coc_rows = rows(&out, "ProjectCoC");
    let of_hidden: Vec<_> = coc_rows
        .iter()
        .filter(|r| r["ProjectID"] == hex(&hidden_project.to_string()))
        .collect();
    assert_eq!(of_hidden.len(), 1);
    assert_eq!(of_hidden[0]["Geocode"], "000000");
    let shown_ids: BTreeSet<String> = ids
        .iter()
        .filter(|p| **p != hex(&hidden_project.to_string()))
        .cloned()
        .collect();
    for file in [
        "Funder",
        "Inventory",
        "Affiliation",
        "HMISParticipation",
        "CEParticipation",
    ] {
        let r = rows(&out, file);
        assert!(!r.is_empty(), "{file}");
        for row in r {
            assert!(shown_ids.contains(&row["ProjectID"]), "{file}: {row:?}");
        }
    }
    // The hidden agency's staff: the one who entered the stay, by its id alone.
    let user = enrollments
        .iter()
        .find(|r| r["ProjectID"] == hex(&hidden_project.to_string()))
        .unwrap()["UserID"]
        .clone();
    let users = rows(&out, "User");
    let u = users.iter().find(|r| r["UserID"] == user).unwrap();
    assert_eq!(u["UserLastName"], "");
}
