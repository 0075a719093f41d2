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
fn validation_errors(bytes: &[u8]) -> (Vec<String>, Vec<String>) {
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
