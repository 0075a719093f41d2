//! The source rows an HMIS CSV import kept whole (`hmis_rows`) are data under the datum rule:
//! `GET /v1/enrollments/{id}/hmis-records` and the export show them as the consent engine lets
//! the caller see them (free text, domestic-violence columns and HIV/AIDS rows only at `full`),
//! and a change made in Hearth shows in the export over what the import kept.

use diesel::prelude::*;
use diesel::sql_types::{Text, Uuid as SqlUuid};
use hearth::consent::Role;
use hearth::hmis_csv::{sample, Version};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::hmis_export::{rows, unzip};
use crate::hmis_import::{import, imported, set_cell, world};

/// The Hearth stay an import made of source enrollment `source`.
fn stay_of(pool: &hearth::db::DbPool, agency: Uuid, source: &str) -> Uuid {
    target_of(pool, agency, "Enrollment", source)
}

/// The Hearth row an import made of `source` in `file`.
fn target_of(pool: &hearth::db::DbPool, agency: Uuid, file: &str, source: &str) -> Uuid {
    #[derive(QueryableByName)]
    struct Id {
        #[diesel(sql_type = SqlUuid)]
        id: Uuid,
    }
    let mut c = pool.get().unwrap();
    diesel::sql_query(
        "SELECT COALESCE(target_id, enrollment_id, client_id, agency_id) AS id FROM hmis_rows
          WHERE agency_id = $1 AND file = $2 AND source_id = $3",
    )
    .bind::<SqlUuid, _>(agency)
    .bind::<Text, _>(file)
    .bind::<Text, _>(source)
    .get_result::<Id>(&mut c)
    .unwrap()
    .id
}

fn record<'a>(items: &'a [Value], file: &str) -> Option<&'a Value> {
    items.iter().find(|r| r["file"] == file)
}

#[actix_web::test]
async fn kept_rows_follow_the_datum_rule_in_the_api_and_the_export() {
    let (pool, app, coc, agency) = world(4).await;
    let admin = app.token("kept-admin", &[Role::AgencyAdmin], Some(agency));
    let mut files = sample::generate(Version::Fy2026, 6, &coc);
    // Row 1 of each file belongs to Client-1 and Enrollment-1.
    set_cell(&mut files, "Disabilities.csv", 1, "DisabilityType", "8");
    set_cell(
        &mut files,
        "HealthAndDV.csv",
        1,
        "DomesticViolenceSurvivor",
        "1",
    );
    set_cell(&mut files, "HealthAndDV.csv", 1, "CurrentlyFleeing", "1");
    set_cell(
        &mut files,
        "IncomeBenefits.csv",
        1,
        "OtherIncomeSourceIdentify",
        "tips",
    );
    imported(&app, &admin, agency, &files).await;
    let stay = stay_of(&pool, agency, "Enrollment-1");
    let path = format!("/v1/enrollments/{stay}/hmis-records");

    // The importing agency's case worker: everything, in full.
    let worker = app.token("kept-worker", &[Role::CaseWorker], Some(agency));
    let r = app.get(&path, &worker).await;
    let items = r.ok(200)["items"].as_array().unwrap().clone();
    for file in [
        "Enrollment",
        "IncomeBenefits",
        "HealthAndDV",
        "EmploymentEducation",
        "Disabilities",
        "Services",
        "CurrentLivingSituation",
        "Assessment",
        "AssessmentQuestions",
        "AssessmentResults",
        "Event",
        "YouthEducationStatus",
    ] {
        let rec = record(&items, file).unwrap_or_else(|| panic!("{file}: {items:#?}"));
        assert_eq!(rec["access"], "full", "{file}");
        assert_eq!(rec["entered_by_your_agency"], true);
    }
    let dv = &record(&items, "HealthAndDV").unwrap()["fields"];
    assert_eq!(dv["CurrentlyFleeing"], 1);
    assert_eq!(dv["DomesticViolenceSurvivor"], 1);
    assert_eq!(dv["InformationDate"], "2024-01-31");
    assert_eq!(
        record(&items, "Disabilities").unwrap()["fields"]["DisabilityType"],
        8
    );
    assert_eq!(
        record(&items, "IncomeBenefits").unwrap()["fields"]["OtherIncomeSourceIdentify"],
        "tips"
    );

    // The CoC's administrator, of another agency (aggregate basis): the structured part only.
    let other = app.agency(&coc, true).await;
    let lead = app.token("kept-lead", &[Role::CocAdmin], Some(other));
    let r = app.get(&path, &lead).await;
    let items = r.ok(200)["items"].as_array().unwrap().clone();
    assert!(!items.is_empty());
    assert!(items.iter().all(|r| r["access"] == "non_pii"), "{items:#?}");
    assert!(
        record(&items, "Disabilities").is_none(),
        "HIV/AIDS row shown: {items:#?}"
    );
    let dv = &record(&items, "HealthAndDV").unwrap()["fields"];
    assert!(dv.get("CurrentlyFleeing").is_none() && dv.get("DomesticViolenceSurvivor").is_none());
    assert!(dv.get("GeneralHealthStatus").is_some());
    let income = &record(&items, "IncomeBenefits").unwrap()["fields"];
    assert!(income.get("OtherIncomeSourceIdentify").is_none());
    assert!(income.get("IncomeFromAnySource").is_some());
    // A CoC's own question wording is text an agency typed: withheld like any other.
    let question = &record(&items, "AssessmentQuestions").unwrap()["fields"];
    assert!(question.get("AssessmentQuestion").is_none(), "{question}");
    assert!(question.get("AssessmentAnswer").is_none(), "{question}");
    let result = &record(&items, "AssessmentResults").unwrap()["fields"];
    assert!(result.get("AssessmentResultType").is_none(), "{result}");

    // The record's own source row: the columns Hearth has no field for, never the names.
    let client = target_of(&pool, agency, "Client", "Client-1");
    let client_path = format!("/v1/clients/{client}/hmis-records");
    let r = app.get(&client_path, &worker).await;
    let items = r.ok(200)["items"].as_array().unwrap().clone();
    let row = &record(&items, "Client").unwrap()["fields"];
    assert_eq!(row["PersonalID"], "Client-1");
    assert!(row.get("VeteranStatus").is_some());
    for pii in ["FirstName", "LastName", "SSN", "DOB"] {
        assert!(row.get(pii).is_none(), "{pii}");
    }
    let r = app.get(&client_path, &lead).await;
    let items = r.ok(200)["items"].as_array().unwrap().clone();
    assert_eq!(record(&items, "Client").unwrap()["access"], "non_pii");

    // Another agency's case worker: the record is closed to it.
    let stranger = app.token("kept-stranger", &[Role::CaseWorker], Some(other));
    assert_eq!(app.get(&path, &stranger).await.status.as_u16(), 404);
    assert_eq!(app.get(&client_path, &stranger).await.status.as_u16(), 404);

    // The export answers the same to each.
    let query =
        format!("/v1/exports/hmis-csv?coc={coc}&start=2024-01-01&end=2024-12-31&version=2026");
    let (full_zip, limited_zip) = (
        app.get(&query, &admin).await.raw,
        app.get(&query, &lead).await.raw,
    );
    for bytes in [&full_zip, &limited_zip] {
        let (errors, _) = crate::hmis_export::validation_errors(bytes);
        assert!(errors.is_empty(), "{errors:#?}");
    }
    let (full, limited) = (unzip(&full_zip), unzip(&limited_zip));
    let first = |files: &_, file: &str| {
        rows(files, file)
            .into_iter()
            .find(|r| r["EnrollmentID"] == "Enrollment-1")
    };
    assert_eq!(
        first(&full, "HealthAndDV").unwrap()["CurrentlyFleeing"],
        "1"
    );
    assert_eq!(
        first(&limited, "HealthAndDV").unwrap()["CurrentlyFleeing"],
        ""
    );
    assert_eq!(
        first(&limited, "HealthAndDV").unwrap()["DomesticViolenceSurvivor"],
        ""
    );
    assert!(first(&full, "Disabilities").is_some());
    assert!(first(&limited, "Disabilities").is_none());
    assert_eq!(
        first(&limited, "AssessmentQuestions").unwrap()["AssessmentQuestion"],
        "Withheld"
    );
    assert_ne!(
        first(&full, "AssessmentQuestions").unwrap()["AssessmentQuestion"],
        "Withheld"
    );
    assert_eq!(rows(&limited, "Disabilities").len(), 5);
    assert_eq!(
        first(&full, "IncomeBenefits").unwrap()["OtherIncomeSourceIdentify"],
        "tips"
    );
    assert_eq!(
        first(&limited, "IncomeBenefits").unwrap()["OtherIncomeSourceIdentify"],
        ""
    );
    let client = |files: &_| {
        rows(files, "Client")
            .into_iter()
            .find(|r| r["PersonalID"] == "Client-1")
            .unwrap()
    };
    assert!(!client(&full)["FirstName"].is_empty());
    assert_eq!(client(&limited)["FirstName"], "");
}

#[actix_web::test]
async fn a_change_made_in_hearth_shows_in_the_export_over_the_kept_row() {
    let (pool, app, coc, agency) = world(4).await;
    let admin = app.token("kept-admin-2", &[Role::AgencyAdmin], Some(agency));
    let files = sample::generate(Version::Fy2024, 4, &coc);
    imported(&app, &admin, agency, &files).await;
    // Enrollment-1 came open; a case worker of the agency exits it, and records a current
    // living situation on it.
    let stay = stay_of(&pool, agency, "Enrollment-1");
    let worker = app.token("kept-worker-2", &[Role::CaseWorker], Some(agency));
    app.post(
        &format!("/v1/enrollments/{stay}/exit"),
        &worker,
        json!({"exit_date": "2024-07-01", "destination": 435, "destination_subsidy_type": 419}),
    )
    .await
    .ok(200);
    app.post(
        &format!("/v1/enrollments/{stay}/current-living-situations"),
        &worker,
        json!({"information_date": "2024-06-30", "current_living_situation": 116}),
    )
    .await
    .ok(201);
    let first_zip = app
        .get(
            &format!("/v1/exports/hmis-csv?coc={coc}&start=2024-01-01&end=2024-12-31&version=2024"),
            &admin,
        )
        .await
        .raw;
    let out = unzip(&first_zip);
    let exits: Vec<_> = rows(&out, "Exit")
        .into_iter()
        .filter(|r| r["EnrollmentID"] == "Enrollment-1")
        .collect();
    assert_eq!(exits.len(), 1, "{exits:#?}");
    assert_eq!(exits[0]["PersonalID"], "Client-1");
    assert_eq!(exits[0]["ExitDate"], "2024-07-01");
    assert_eq!(exits[0]["Destination"], "435");
    let cls: Vec<_> = rows(&out, "CurrentLivingSituation")
        .into_iter()
        .filter(|r| r["EnrollmentID"] == "Enrollment-1")
        .collect();
    assert_eq!(cls.len(), 2, "the imported row and the new one: {cls:#?}");
    assert!(cls.iter().any(|r| r["InformationDate"] == "2024-06-30"
        && r["PersonalID"] == "Client-1"
        && r["CurrentLivingSituation"] == "116"));
    // The rest came back as it was.
    let enrollment = rows(&out, "Enrollment")
        .into_iter()
        .find(|r| r["EnrollmentID"] == "Enrollment-1")
        .unwrap();
    assert_eq!(enrollment["ProjectID"], "Project-1");
    assert_eq!(enrollment["HouseholdID"], "H-1");

    // That export, rows made in Hearth included, imported into an empty CoC and exported again,
    // comes back byte for byte (its ExportID and Export.csv apart).
    let (_, app2, coc2, agency2) = world(2).await;
    let admin2 = app2.token("kept-admin-3", &[Role::AgencyAdmin], Some(agency2));
    let job = import(
        &app2,
        &admin2,
        &format!("agency={agency2}&mode=strict"),
        first_zip.clone(),
    )
    .await;
    assert_eq!(job["status"], "succeeded", "{job:#}");
    let again = unzip(
        &app2
            .get(
                &format!(
                    "/v1/exports/hmis-csv?coc={coc2}&start=2024-01-01&end=2024-12-31&version=2024"
                ),
                &admin2,
            )
            .await
            .raw,
    );
    let (id1, id2) = (
        rows(&out, "Export")[0]["ExportID"].clone(),
        rows(&again, "Export")[0]["ExportID"].clone(),
    );
    for (name, text) in &out {
        if name == "Export.csv" {
            continue;
        }
        let expected = text.replace(&id1, "EXPORT");
        let got = again[name].replace(&id2, "EXPORT");
        assert!(
            got == expected,
            "{name}: {}",
            crate::hmis_import::first_difference(&expected, &got)
        );
    }
}

/// A row its source marks deleted (`DateDeleted`) is not imported, with a warning naming it.
#[actix_web::test]
async fn a_row_deleted_in_the_source_is_not_imported() {
    let (pool, app, coc, agency) = world(2).await;
    let admin = app.token("kept-admin-4", &[Role::AgencyAdmin], Some(agency));
    let mut files = sample::generate(Version::Fy2026, 3, &coc);
    set_cell(
        &mut files,
        "IncomeBenefits.csv",
        2,
        "DateDeleted",
        "2024-02-01 10:00:00",
    );
    let job = imported(&app, &admin, agency, &files).await;
    assert_eq!(job["progress"]["IncomeBenefits"]["created"], 2, "{job:#}");
    assert_eq!(job["progress"]["IncomeBenefits"]["skipped"], 1, "{job:#}");
    let warning = job["problems"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["code"] == "deleted_in_source")
        .unwrap_or_else(|| panic!("{job:#}"));
    assert_eq!(warning["severity"], "warning");
    assert_eq!(warning["line"], 3);
    let stay = stay_of(&pool, agency, "Enrollment-2");
    let worker = app.token("kept-worker-4", &[Role::CaseWorker], Some(agency));
    let items = app
        .get(&format!("/v1/enrollments/{stay}/hmis-records"), &worker)
        .await
        .ok(200)["items"]
        .clone();
    assert!(record(items.as_array().unwrap(), "IncomeBenefits").is_none());
}

/// Datum rule 6 with kept rows: a stay whose entry an ROI's window withholds, and whose typed
/// data all came before the window, is reached through the rows an import kept of it inside the
/// window: a continuation, in the API and in the export alike.
#[actix_web::test]
async fn a_kept_row_inside_the_roi_window_makes_its_stay_reachable() {
    let (pool, app, coc, agency) = world(2).await;
    let admin = app.token("kept-admin-5", &[Role::AgencyAdmin], Some(agency));
    let mut files = sample::generate(Version::Fy2026, 2, &coc);
    // Enrollment-1 began 2024-01-02; its typed data is moved to 2024-01-05; its kept rows stay
    // on the generator's day, 2024-01-31.
    set_cell(
        &mut files,
        "CurrentLivingSituation.csv",
        1,
        "InformationDate",
        "2024-01-05",
    );
    set_cell(
        &mut files,
        "Assessment.csv",
        1,
        "AssessmentDate",
        "2024-01-05",
    );
    set_cell(&mut files, "Event.csv", 1, "EventDate", "2024-01-05");
    imported(&app, &admin, agency, &files).await;
    let client = target_of(&pool, agency, "Client", "Client-1");
    let stay = stay_of(&pool, agency, "Enrollment-1");
    // The record opens from 2024-01-20 (window mode).
    let worker = app.token("kept-worker-5", &[Role::CaseWorker], Some(agency));
    app.post(
        &format!("/v1/clients/{client}/consents"),
        &worker,
        json!({"method": "signed", "effective_from": "2024-01-20"}),
    )
    .await
    .ok(201);
    let sharer = app.agency(&coc, true).await;
    let other = app.token("kept-sharer-5", &[Role::CaseWorker], Some(sharer));
    let r = app
        .get(&format!("/v1/clients/{client}/enrollments"), &other)
        .await;
    let items = r.ok(200)["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 1, "{items:#?}");
    assert_eq!(items[0]["entry_withheld"], true);
    let r = app
        .get(&format!("/v1/enrollments/{stay}/hmis-records"), &other)
        .await;
    let records = r.ok(200)["items"].as_array().unwrap().clone();
    assert!(record(&records, "IncomeBenefits").is_some(), "{records:#?}");
    assert!(
        record(&records, "Enrollment").is_none(),
        "the entry is withheld"
    );
    assert!(records.iter().all(|r| r["access"] == "full"));

    let lead = app.token("kept-sharer-admin-5", &[Role::AgencyAdmin], Some(sharer));
    let out = unzip(
        &app.get(
            &format!("/v1/exports/hmis-csv?coc={coc}&start=2024-01-01&end=2024-12-31&version=2026"),
            &lead,
        )
        .await
        .raw,
    );
    let enrollment = rows(&out, "Enrollment")
        .into_iter()
        .find(|r| r["EnrollmentID"] == "Enrollment-1")
        .expect("the continuation is exported");
    assert_eq!(
        enrollment["EntryDate"], "2024-01-31",
        "dated by its first released row"
    );
    assert_eq!(enrollment["LivingSituation"], "");
    assert!(rows(&out, "IncomeBenefits")
        .iter()
        .any(|r| r["EnrollmentID"] == "Enrollment-1"));
    assert!(!rows(&out, "CurrentLivingSituation")
        .iter()
        .any(|r| r["EnrollmentID"] == "Enrollment-1"));
}

fn kept_count(pool: &hearth::db::DbPool, agency: Uuid, file: &str, source: &str) -> i64 {
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let mut c = pool.get().unwrap();
    diesel::sql_query(
        "SELECT count(*) AS n FROM hmis_rows WHERE agency_id = $1 AND file = $2 AND source_id = $3",
    )
    .bind::<SqlUuid, _>(agency)
    .bind::<Text, _>(file)
    .bind::<Text, _>(source)
    .get_result::<N>(&mut c)
    .unwrap()
    .n
}

/// A row an earlier import took that the source later marks deleted is removed with what it
/// became (a datum, an exit); a record or stay marked deleted is kept, with a warning.
#[actix_web::test]
async fn a_row_deleted_in_the_source_after_an_import_is_removed() {
    let (pool, app, coc, agency) = world(2).await;
    let admin = app.token("kept-admin-del", &[Role::AgencyAdmin], Some(agency));
    let files = sample::generate(Version::Fy2026, 3, &coc);
    imported(&app, &admin, agency, &files).await;
    let stay = stay_of(&pool, agency, "Enrollment-2");
    let worker = app.token("kept-worker-del", &[Role::CaseWorker], Some(agency));
    let stay_path = format!("/v1/enrollments/{stay}");
    assert!(app.get(&stay_path, &worker).await.ok(200)["exit_date"].is_string());
    let services = target_of(&pool, agency, "Services", "Services-2");

    let mut again = files.clone();
    let deleted = "2024-03-01 10:00:00";
    set_cell(&mut again, "IncomeBenefits.csv", 2, "DateDeleted", deleted);
    set_cell(&mut again, "Services.csv", 2, "DateDeleted", deleted);
    set_cell(&mut again, "Exit.csv", 1, "DateDeleted", deleted);
    set_cell(&mut again, "Client.csv", 3, "DateDeleted", deleted);
    // A stay the source deletes is kept, and so are its rows the source deletes with it.
    set_cell(&mut again, "Enrollment.csv", 1, "DateDeleted", deleted);
    set_cell(&mut again, "HealthAndDV.csv", 1, "DateDeleted", deleted);
    let job = imported(&app, &admin, agency, &again).await;
    for file in ["IncomeBenefits", "Services", "Exit"] {
        assert_eq!(job["progress"][file]["deleted"], 1, "{file}: {job:#}");
    }
    assert_eq!(job["progress"]["Client"]["deleted"], 0, "{job:#}");
    let codes: Vec<(String, String)> = job["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["file"].as_str().unwrap().to_string(),
                p["code"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(codes.contains(&("Client.csv".into(), "deleted_in_source_kept".into())));
    assert!(codes.contains(&("Services.csv".into(), "deleted_in_source_removed".into())));

    // The kept rows are gone; the datum and the exit with them; the record stays.
    assert_eq!(
        kept_count(&pool, agency, "IncomeBenefits", "IncomeBenefits-2"),
        0
    );
    assert_eq!(kept_count(&pool, agency, "Services", "Services-2"), 0);
    assert_eq!(kept_count(&pool, agency, "Exit", "Exit-2"), 0);
    assert_eq!(kept_count(&pool, agency, "Client", "Client-3"), 1);
    assert_eq!(
        kept_count(&pool, agency, "IncomeBenefits", "IncomeBenefits-1"),
        1
    );
    assert_eq!(kept_count(&pool, agency, "Enrollment", "Enrollment-1"), 1);
    assert_eq!(kept_count(&pool, agency, "HealthAndDV", "HealthAndDV-1"), 1);
    assert_eq!(job["progress"]["HealthAndDV"]["deleted"], 0, "{job:#}");
    assert!(codes.contains(&("HealthAndDV.csv".into(), "deleted_in_source_kept".into())));
    let s = app.get(&stay_path, &worker).await.ok(200).clone();
    assert!(s["exit_date"].is_null(), "{s:#}");
    let data = app
        .get(&format!("{stay_path}/services"), &worker)
        .await
        .ok(200)
        .clone();
    assert!(
        !data.to_string().contains(&services.to_string()),
        "{data:#}"
    );
    let items = app
        .get(&format!("{stay_path}/hmis-records"), &worker)
        .await
        .ok(200)["items"]
        .clone();
    let files_left: Vec<&str> = items
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["file"].as_str().unwrap())
        .collect();
    assert!(!files_left.contains(&"IncomeBenefits"), "{files_left:?}");
    assert!(!files_left.contains(&"Exit"), "{files_left:?}");
    assert!(files_left.contains(&"HealthAndDV"), "{files_left:?}");

    // Importing the same set once more changes nothing further.
    let job = imported(&app, &admin, agency, &again).await;
    assert_eq!(job["progress"]["Services"]["deleted"], 0, "{job:#}");
    assert_eq!(job["progress"]["Services"]["created"], 0, "{job:#}");
}

/// A merge moves a duplicate's imported stays to the surviving record, and their kept rows
/// with them: de-identifying the survivor removes them too.
#[actix_web::test]
async fn a_merged_records_kept_rows_follow_its_stays_into_de_identification() {
    let (pool, app, coc, agency) = world(2).await;
    let admin = app.token("kept-admin-merge", &[Role::AgencyAdmin], Some(agency));
    let files = sample::generate(Version::Fy2026, 2, &coc);
    imported(&app, &admin, agency, &files).await;
    let survivor = target_of(&pool, agency, "Client", "Client-1");
    let duplicate = target_of(&pool, agency, "Client", "Client-2");
    let r = crate::clients::send(
        &app,
        "POST",
        &format!("/v1/clients/{survivor}/merge"),
        &app.admin,
        Some(json!({"duplicate_id": duplicate, "confirm_same_person": true})),
        ("X-Access-Reason", "merge ticket 8"),
    )
    .await;
    r.ok(200);
    assert!(kept_count(&pool, agency, "HealthAndDV", "HealthAndDV-2") == 1);

    let worker = app.token("kept-worker-merge", &[Role::CaseWorker], Some(agency));
    let r = app
        .post(
            "/v1/deidentification-requests",
            &worker,
            json!({"client_id": survivor, "description": "Please make this record anonymous."}),
        )
        .await;
    let id = r.ok(201)["request"]["id"].as_str().unwrap().to_string();
    app.post(
        &format!("/v1/deidentification-requests/{id}/complete"),
        &app.admin,
        json!({}),
    )
    .await
    .ok(200);
    for (file, source) in [
        ("HealthAndDV", "HealthAndDV-1"),
        ("HealthAndDV", "HealthAndDV-2"),
        ("Disabilities", "Disabilities-2"),
        ("Enrollment", "Enrollment-2"),
    ] {
        assert_eq!(
            kept_count(&pool, agency, file, source),
            0,
            "{file} {source}"
        );
    }

    // Importing the same export again brings nobody back: the de-identified record's rows are
    // known by their source ids, and left as they are.
    let job = imported(&app, &admin, agency, &files).await;
    for file in ["Client", "Enrollment", "HealthAndDV", "Services"] {
        assert_eq!(job["progress"][file]["created"], 0, "{file}: {job:#}");
        assert_eq!(job["progress"][file]["updated"], 0, "{file}: {job:#}");
    }
    assert_eq!(kept_count(&pool, agency, "HealthAndDV", "HealthAndDV-1"), 0);
    assert!(job["problems"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["code"] == "deidentified_in_hearth"));
    let r = app.get(&format!("/v1/clients/{survivor}"), &worker).await;
    let body = r.ok(200).to_string();
    for name in ["Maria", "James", "Garcia", "Smith"] {
        assert!(!body.contains(name), "{name} came back: {body}");
    }
    // The export writes the anonymous record and its stays under Hearth's own ids: the vendor's
    // PersonalID and EnrollmentIDs would tie it back to the source.
    let query =
        format!("/v1/exports/hmis-csv?coc={coc}&start=2024-01-01&end=2024-12-31&version=2026");
    let out = unzip(&app.get(&query, &admin).await.raw);
    let survivor_hex = survivor.simple().to_string();
    let client_ids: Vec<String> = rows(&out, "Client")
        .into_iter()
        .map(|r| r["PersonalID"].clone())
        .collect();
    assert!(
        !client_ids
            .iter()
            .any(|p| p == "Client-1" || p == "Client-2"),
        "{client_ids:?}"
    );
    assert!(client_ids.contains(&survivor_hex), "{client_ids:?}");
    let stays: Vec<String> = rows(&out, "Enrollment")
        .into_iter()
        .filter(|r| r["PersonalID"] == survivor_hex)
        .map(|r| r["EnrollmentID"].clone())
        .collect();
    assert_eq!(stays.len(), 2, "{stays:?}");
    assert!(
        stays.iter().all(|e| !e.starts_with("Enrollment-")),
        "{stays:?}"
    );
    let households: Vec<String> = rows(&out, "Enrollment")
        .into_iter()
        .filter(|r| r["PersonalID"] == survivor_hex)
        .map(|r| r["HouseholdID"].clone())
        .collect();
    assert!(
        households.iter().all(|h| !h.starts_with("H-")),
        "{households:?}"
    );

    // A later export that hangs a new row, or moves an old one, onto the de-identified stay
    // writes neither: nothing new hangs from the anonymous record under the source's ids.
    let mut more = files.clone();
    set_cell(
        &mut more,
        "CurrentLivingSituation.csv",
        2,
        "EnrollmentID",
        "Enrollment-1",
    );
    set_cell(
        &mut more,
        "CurrentLivingSituation.csv",
        2,
        "PersonalID",
        "Client-1",
    );
    let (_, bytes) = more.iter_mut().find(|(n, _)| n == "Services.csv").unwrap();
    let text = String::from_utf8(bytes.clone()).unwrap();
    let first_row = text.split("\r\n").nth(1).unwrap().to_string();
    let added = first_row.replacen("Services-1,", "Services-NEW,", 1);
    assert!(added.contains("Enrollment-1"), "{added}");
    *bytes = format!("{text}{added}\r\n").into_bytes();
    let job = imported(&app, &admin, agency, &more).await;
    assert_eq!(job["progress"]["Services"]["created"], 0, "{job:#}");
    assert_eq!(
        job["progress"]["CurrentLivingSituation"]["updated"], 0,
        "{job:#}"
    );
    assert_eq!(kept_count(&pool, agency, "Services", "Services-NEW"), 0);
    assert!(
        job["problems"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| { p["code"] == "deidentified_in_hearth" && p["file"] == "Services.csv" }),
        "{job:#}"
    );
}

/// A kept row names an agency that exists: checked once per statement (no row-level key).
#[actix_web::test]
async fn a_kept_row_of_no_agency_is_refused() {
    let (pool, _app, _coc, agency) = world(1).await;
    let mut c = pool.get().unwrap();
    let insert =
        "INSERT INTO hmis_rows (agency_id, file, source_id, fields) VALUES ($1, 'User', $2, '{}')";
    let bad = diesel::sql_query(insert)
        .bind::<SqlUuid, _>(Uuid::now_v7())
        .bind::<Text, _>("U-none")
        .execute(&mut c);
    let err = bad.expect_err("a row of no agency was kept").to_string();
    assert!(err.contains("names no agency"), "{err}");
    diesel::sql_query(insert)
        .bind::<SqlUuid, _>(agency)
        .bind::<Text, _>(format!("U-{}", Uuid::now_v7()))
        .execute(&mut c)
        .unwrap();
    let moved = diesel::sql_query("UPDATE hmis_rows SET agency_id = $1 WHERE agency_id = $2")
        .bind::<SqlUuid, _>(Uuid::now_v7())
        .bind::<SqlUuid, _>(agency)
        .execute(&mut c);
    assert!(moved.is_err());
    // Nor a stay that does not exist.
    let err = diesel::sql_query(
        "INSERT INTO hmis_rows (agency_id, file, source_id, enrollment_id, fields)
         VALUES ($1, 'Services', $2, $3, '{}')",
    )
    .bind::<SqlUuid, _>(agency)
    .bind::<Text, _>(format!("S-{}", Uuid::now_v7()))
    .bind::<SqlUuid, _>(Uuid::now_v7())
    .execute(&mut c)
    .expect_err("a row of no stay was kept")
    .to_string();
    assert!(err.contains("names no stay"), "{err}");
}

/// Deleting a stay deletes the rows an import kept of it (as the foreign key's cascade did).
#[actix_web::test]
async fn deleting_a_stay_deletes_its_kept_rows() {
    let (pool, app, coc, agency) = world(1).await;
    let admin = app.token("kept-admin-cascade", &[Role::AgencyAdmin], Some(agency));
    let files = sample::generate(Version::Fy2026, 2, &coc);
    imported(&app, &admin, agency, &files).await;
    let stay = stay_of(&pool, agency, "Enrollment-1");
    assert!(kept_count(&pool, agency, "HealthAndDV", "HealthAndDV-1") == 1);
    let mut c = pool.get().unwrap();
    diesel::sql_query("DELETE FROM enrollment_data WHERE enrollment_id = $1")
        .bind::<SqlUuid, _>(stay)
        .execute(&mut c)
        .unwrap();
    diesel::sql_query("DELETE FROM enrollments WHERE id = $1")
        .bind::<SqlUuid, _>(stay)
        .execute(&mut c)
        .unwrap();
    for (file, source) in [
        ("HealthAndDV", "HealthAndDV-1"),
        ("Enrollment", "Enrollment-1"),
        ("Disabilities", "Disabilities-1"),
    ] {
        assert_eq!(kept_count(&pool, agency, file, source), 0, "{file}");
    }
    assert_eq!(kept_count(&pool, agency, "HealthAndDV", "HealthAndDV-2"), 1);
}

/// An HIV/AIDS row is wholly PII however its code is written: the validator reads `08` and
/// `008` as 8, and so does the datum rule, in the API and in the export.
#[actix_web::test]
async fn an_hiv_aids_row_written_with_leading_zeros_is_still_withheld() {
    let (pool, app, coc, agency) = world(4).await;
    let admin = app.token("kept-admin-zeros", &[Role::AgencyAdmin], Some(agency));
    let mut files = sample::generate(Version::Fy2026, 6, &coc);
    for (row, code) in [(1, "08"), (2, "8"), (3, "008")] {
        set_cell(&mut files, "Disabilities.csv", row, "DisabilityType", code);
    }
    imported(&app, &admin, agency, &files).await;
    let other = app.agency(&coc, true).await;
    let lead = app.token("kept-lead-zeros", &[Role::CocAdmin], Some(other));
    let disabilities =
        |items: &[Value]| items.iter().filter(|r| r["file"] == "Disabilities").count();
    let mut shown_to_lead = 0;
    for n in 1..=6 {
        let stay = stay_of(&pool, agency, &format!("Enrollment-{n}"));
        let path = format!("/v1/enrollments/{stay}/hmis-records");
        let r = app.get(&path, &lead).await;
        shown_to_lead += disabilities(r.ok(200)["items"].as_array().unwrap());
    }
    assert_eq!(
        shown_to_lead, 3,
        "only the three rows that are not HIV/AIDS"
    );
    let query =
        format!("/v1/exports/hmis-csv?coc={coc}&start=2024-01-01&end=2024-12-31&version=2026");
    let limited = unzip(&app.get(&query, &lead).await.raw);
    let types: Vec<String> = rows(&limited, "Disabilities")
        .into_iter()
        .map(|r| r["DisabilityType"].clone())
        .collect();
    assert_eq!(types.len(), 3, "{types:?}");
    assert!(
        types.iter().all(|t| t.trim_start_matches('0') != "8"),
        "{types:?}"
    );
    let full = unzip(&app.get(&query, &admin).await.raw);
    assert_eq!(rows(&full, "Disabilities").len(), 6);
}

/// A changed row may move its datum to another stay (and record): the typed datum moves with
/// its kept row, so the API and the export place it on the same stay.
#[actix_web::test]
async fn a_changed_row_moves_its_datum_to_its_new_stay() {
    let (pool, app, coc, agency) = world(1).await;
    let admin = app.token("kept-admin-move", &[Role::AgencyAdmin], Some(agency));
    let worker = app.token("kept-worker-move", &[Role::CaseWorker], Some(agency));
    let files = sample::generate(Version::Fy2026, 2, &coc);
    imported(&app, &admin, agency, &files).await;
    let (one, two) = (
        stay_of(&pool, agency, "Enrollment-1"),
        stay_of(&pool, agency, "Enrollment-2"),
    );
    let count = |v: &Value| v["items"].as_array().unwrap().len();
    let cls = |s: Uuid| format!("/v1/enrollments/{s}/current-living-situations");
    let assessments = |s: Uuid| format!("/v1/enrollments/{s}/assessments");
    let before = (
        count(app.get(&cls(one), &worker).await.ok(200)),
        count(app.get(&cls(two), &worker).await.ok(200)),
        count(app.get(&assessments(one), &worker).await.ok(200)),
        count(app.get(&assessments(two), &worker).await.ok(200)),
    );
    assert!(before.0 >= 1 && before.2 >= 1, "{before:?}");
    let mut moved = files.clone();
    for file in ["CurrentLivingSituation.csv", "Assessment.csv"] {
        set_cell(&mut moved, file, 1, "EnrollmentID", "Enrollment-2");
        set_cell(&mut moved, file, 1, "PersonalID", "Client-2");
    }
    let job = imported(&app, &admin, agency, &moved).await;
    assert_eq!(
        job["progress"]["CurrentLivingSituation"]["updated"], 1,
        "{job:#}"
    );
    let after = (
        count(app.get(&cls(one), &worker).await.ok(200)),
        count(app.get(&cls(two), &worker).await.ok(200)),
        count(app.get(&assessments(one), &worker).await.ok(200)),
        count(app.get(&assessments(two), &worker).await.ok(200)),
    );
    assert_eq!(
        after,
        (before.0 - 1, before.1 + 1, before.2 - 1, before.3 + 1),
        "{before:?} -> {after:?}"
    );
    // The export places the row where the API does.
    let query =
        format!("/v1/exports/hmis-csv?coc={coc}&start=2024-01-01&end=2024-12-31&version=2026");
    let out = unzip(&app.get(&query, &admin).await.raw);
    let row = rows(&out, "CurrentLivingSituation")
        .into_iter()
        .find(|r| r["CurrentLivingSitID"] == "CurrentLivingSituation-1")
        .expect("the moved row is exported");
    assert_eq!(row["EnrollmentID"], "Enrollment-2");
    assert_eq!(row["PersonalID"], "Client-2");
}

/// Stay data's references are checked per statement, as the foreign keys did per row: a datum
/// naming no stay, record or agency is refused, and so is deleting a stay or record that data names.
#[actix_web::test]
async fn stay_data_references_hold_without_row_level_keys() {
    let (pool, app, coc, agency) = world(1).await;
    let admin = app.token("kept-admin-refs", &[Role::AgencyAdmin], Some(agency));
    let files = sample::generate(Version::Fy2026, 2, &coc);
    imported(&app, &admin, agency, &files).await;
    let stay = stay_of(&pool, agency, "Enrollment-1");
    let mut c = pool.get().unwrap();
    let insert = |c: &mut diesel::PgConnection, stay: Uuid, client: Option<Uuid>, agency: Uuid| {
        diesel::sql_query(
            "INSERT INTO enrollment_data (id, kind, enrollment_id, client_id, occurred_on, \
             entered_by_agency, entered_by_user, collected_on) \
             SELECT $1, 'assessment', $2, COALESCE($3, e.client_id), DATE '2024-05-01', $4, 'u', \
             DATE '2024-05-01' FROM (SELECT $2 AS id) s LEFT JOIN enrollments e ON e.id = s.id",
        )
        .bind::<SqlUuid, _>(Uuid::now_v7())
        .bind::<SqlUuid, _>(stay)
        .bind::<diesel::sql_types::Nullable<SqlUuid>, _>(client)
        .bind::<SqlUuid, _>(agency)
        .execute(c)
        .map_err(|e| e.to_string())
    };
    insert(&mut c, stay, None, agency).expect("a datum of a real stay");
    let err = insert(&mut c, Uuid::now_v7(), Some(Uuid::now_v7()), agency).unwrap_err();
    assert!(err.contains("names no stay"), "{err}");
    let err = insert(&mut c, stay, Some(Uuid::now_v7()), agency).unwrap_err();
    assert!(err.contains("names no record"), "{err}");
    let err = insert(&mut c, stay, None, Uuid::now_v7()).unwrap_err();
    assert!(err.contains("names no agency"), "{err}");
    // An update is checked too (a merge moves data to another record).
    let err =
        diesel::sql_query("UPDATE enrollment_data SET client_id = $1 WHERE enrollment_id = $2")
            .bind::<SqlUuid, _>(Uuid::now_v7())
            .bind::<SqlUuid, _>(stay)
            .execute(&mut c)
            .unwrap_err()
            .to_string();
    assert!(err.contains("names no record"), "{err}");
    // What data names cannot be deleted under it.
    let err = diesel::sql_query("DELETE FROM enrollments WHERE id = $1")
        .bind::<SqlUuid, _>(stay)
        .execute(&mut c)
        .unwrap_err()
        .to_string();
    assert!(err.contains("cannot be removed"), "{err}");
    let err = diesel::sql_query(
        "DELETE FROM clients WHERE id = (SELECT client_id FROM enrollments WHERE id = $1)",
    )
    .bind::<SqlUuid, _>(stay)
    .execute(&mut c)
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("cannot be removed") || err.contains("foreign key"),
        "{err}"
    );
    let err = diesel::sql_query("DELETE FROM agencies WHERE id = $1")
        .bind::<SqlUuid, _>(agency)
        .execute(&mut c)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("cannot be removed") || err.contains("foreign key"),
        "{err}"
    );
}

/// The source replaced a stay's Exit row by a new one (the old one marked deleted): the stay
/// keeps the new exit, whichever order the two rows come in.
#[actix_web::test]
async fn a_replaced_exit_row_leaves_the_stay_exited() {
    let (pool, app, coc, agency) = world(1).await;
    let admin = app.token("kept-admin-exit", &[Role::AgencyAdmin], Some(agency));
    let worker = app.token("kept-worker-exit", &[Role::CaseWorker], Some(agency));
    let files = sample::generate(Version::Fy2026, 2, &coc);
    imported(&app, &admin, agency, &files).await;
    let stay = stay_of(&pool, agency, "Enrollment-2");
    let path = format!("/v1/enrollments/{stay}");
    let exit_before = app.get(&path, &worker).await.ok(200)["exit_date"].clone();
    assert!(exit_before.is_string());

    // Exit.csv: the new row Exit-2b first, then Exit-2 marked deleted.
    let mut again = files.clone();
    set_cell(
        &mut again,
        "Exit.csv",
        1,
        "DateDeleted",
        "2024-07-01 09:00:00",
    );
    let (_, bytes) = again.iter_mut().find(|(n, _)| n == "Exit.csv").unwrap();
    let text = String::from_utf8(bytes.clone()).unwrap();
    let mut lines: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
    let replaced =
        lines[1]
            .replacen("Exit-2,", "Exit-2b,", 1)
            .replacen("2024-07-01 09:00:00", "", 1);
    lines.insert(1, &replaced);
    *bytes = format!("{}\r\n", lines.join("\r\n")).into_bytes();
    let job = imported(&app, &admin, agency, &again).await;
    assert_eq!(job["progress"]["Exit"]["created"], 1, "{job:#}");
    assert_eq!(job["progress"]["Exit"]["deleted"], 1, "{job:#}");
    let s = app.get(&path, &worker).await.ok(200).clone();
    assert_eq!(s["exit_date"], exit_before, "{s:#}");
    assert_eq!(kept_count(&pool, agency, "Exit", "Exit-2b"), 1);
    assert_eq!(kept_count(&pool, agency, "Exit", "Exit-2"), 0);

    // Then the new row is deleted too: the stay is open again.
    let mut last = again.clone();
    set_cell(
        &mut last,
        "Exit.csv",
        1,
        "DateDeleted",
        "2024-08-01 09:00:00",
    );
    let job = imported(&app, &admin, agency, &last).await;
    assert_eq!(job["progress"]["Exit"]["deleted"], 1, "{job:#}");
    let s = app.get(&path, &worker).await.ok(200).clone();
    assert!(s["exit_date"].is_null(), "{s:#}");
}

/// A code outside its list, kept in lenient mode, is written by one rule in the export (HUD's
/// 99 where the column's list has it, a blank where the column may be blank, else Hearth's own
/// value or the row left out), so every file passes the validator, and the value as sent stays
/// recorded and visible: the hmis-records answers name it under `invalid`.
#[actix_web::test]
async fn a_code_outside_its_list_exports_as_99_and_stays_visible_as_sent() {
    let (pool, app, coc, agency) = world(4).await;
    let admin = app.token("kept-admin-invalid", &[Role::AgencyAdmin], Some(agency));
    let mut files = sample::generate(Version::Fy2026, 4, &coc);
    // Row 1 of each file belongs to Client-1 and Enrollment-1, row 2 to Client-2.
    set_cell(&mut files, "Client.csv", 1, "NameDataQuality", "7");
    set_cell(&mut files, "Client.csv", 1, "VeteranStatus", "5");
    set_cell(&mut files, "Enrollment.csv", 1, "LivingSituation", "999");
    set_cell(&mut files, "Disabilities.csv", 1, "DisabilityResponse", "4");
    // No 99 in the list of a required column: the row cannot be written; nor can the questions
    // and results of an assessment that cannot be.
    set_cell(&mut files, "Disabilities.csv", 2, "DisabilityType", "77");
    set_cell(&mut files, "Assessment.csv", 2, "AssessmentType", "9");
    let job = import(
        &app,
        &admin,
        &format!("agency={agency}&mode=lenient"),
        sample::zip(&files),
    )
    .await;
    assert_eq!(job["status"], "succeeded", "{job:#}");
    assert!(
        job["problems"].to_string().contains("kept_as_invalid"),
        "{job:#}"
    );

    let zip = app
        .get(
            &format!("/v1/exports/hmis-csv?coc={coc}&start=2024-01-01&end=2024-12-31"),
            &admin,
        )
        .await
        .raw;
    let (errors, _) = crate::hmis_export::validation_errors(&zip);
    assert!(errors.is_empty(), "{errors:#?}");
    let out = unzip(&zip);
    let find =
        |file: &str, key: &str, id: &str| rows(&out, file).into_iter().find(|r| r[key] == id);
    let client = find("Client", "PersonalID", "Client-1").unwrap();
    assert_eq!(client["NameDataQuality"], "99");
    assert_eq!(client["VeteranStatus"], "99");
    let stay = find("Enrollment", "EnrollmentID", "Enrollment-1").unwrap();
    assert_eq!(stay["LivingSituation"], "99");
    let disability = find("Disabilities", "DisabilitiesID", "Disabilities-1").unwrap();
    assert_eq!(disability["DisabilityResponse"], "99");
    assert!(find("Disabilities", "DisabilitiesID", "Disabilities-2").is_none());
    assert!(find("Assessment", "AssessmentID", "Assessment-2").is_none());
    assert!(find("AssessmentQuestions", "AssessmentID", "Assessment-2").is_none());
    assert!(find("AssessmentResults", "AssessmentID", "Assessment-2").is_none());
    assert!(find("Assessment", "AssessmentID", "Assessment-3").is_some());

    // The values as sent, where the API answers the source rows.
    let worker = app.token("kept-worker-invalid", &[Role::CaseWorker], Some(agency));
    let person = target_of(&pool, agency, "Client", "Client-1");
    let r = app
        .get(&format!("/v1/clients/{person}/hmis-records"), &worker)
        .await;
    let items = r.ok(200)["items"].as_array().unwrap().clone();
    let row = record(&items, "Client").unwrap();
    assert_eq!(
        row["invalid"],
        json!({"NameDataQuality": "7", "VeteranStatus": "5"}),
        "{row:#}"
    );
    let r = app
        .get(
            &format!(
                "/v1/enrollments/{}/hmis-records",
                stay_of(&pool, agency, "Enrollment-1")
            ),
            &worker,
        )
        .await;
    let items = r.ok(200)["items"].as_array().unwrap().clone();
    assert_eq!(
        record(&items, "Enrollment").unwrap()["invalid"],
        json!({"LivingSituation": "999"})
    );
    assert_eq!(
        record(&items, "Disabilities").unwrap()["invalid"],
        json!({"DisabilityResponse": "4"})
    );
    assert_eq!(
        record(&items, "IncomeBenefits").unwrap()["invalid"],
        json!({})
    );
    let r = app
        .get(
            &format!(
                "/v1/enrollments/{}/hmis-records",
                stay_of(&pool, agency, "Enrollment-2")
            ),
            &worker,
        )
        .await;
    let items = r.ok(200)["items"].as_array().unwrap().clone();
    assert_eq!(
        record(&items, "Disabilities").unwrap()["invalid"],
        json!({"DisabilityType": "77"})
    );
}

/// The source ids of `file` among a stay's hmis-records as `token` sees them.
async fn listed<S: crate::clients::Svc>(
    app: &crate::harness::TestApp<S>,
    token: &str,
    stay: Uuid,
    file: &str,
) -> Vec<String> {
    let r = app
        .get(&format!("/v1/enrollments/{stay}/hmis-records"), token)
        .await;
    r.ok(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["file"] == file)
        .map(|r| r["source_id"].as_str().unwrap().to_string())
        .collect()
}

/// The keys of `file`'s rows in an export.
fn exported_keys(
    out: &std::collections::BTreeMap<String, String>,
    file: &str,
    key: &str,
) -> Vec<String> {
    let mut keys: Vec<String> = rows(out, file)
        .into_iter()
        .map(|r| r[key].clone())
        .collect();
    keys.sort();
    keys
}

#[actix_web::test]
async fn assessment_questions_and_results_go_with_their_assessment() {
    let (pool, app, coc, agency) = world(2).await;
    let admin = app.token("kept-admin-aq", &[Role::AgencyAdmin], Some(agency));
    let mut files = sample::generate(Version::Fy2026, 2, &coc);
    // Client-1: the assessment was done before the ROI window opens (2024-01-20), its
    // questions and results entered after it. Client-2: the other way round.
    set_cell(
        &mut files,
        "Assessment.csv",
        1,
        "AssessmentDate",
        "2024-01-05",
    );
    for file in ["AssessmentQuestions.csv", "AssessmentResults.csv"] {
        set_cell(&mut files, file, 2, "DateCreated", "2024-01-05 09:00:00");
    }
    imported(&app, &admin, agency, &files).await;
    let stays = [
        stay_of(&pool, agency, "Enrollment-1"),
        stay_of(&pool, agency, "Enrollment-2"),
    ];
    let worker = app.token("kept-worker-aq", &[Role::CaseWorker], Some(agency));
    for source in ["Client-1", "Client-2"] {
        let client = target_of(&pool, agency, "Client", source);
        app.post(
            &format!("/v1/clients/{client}/consents"),
            &worker,
            json!({"method": "signed", "effective_from": "2024-01-20"}),
        )
        .await
        .ok(201);
    }
    let sharer = app.agency(&coc, true).await;
    let other = app.token("kept-sharer-aq", &[Role::CaseWorker], Some(sharer));
    let lead = app.token("kept-sharer-admin-aq", &[Role::AgencyAdmin], Some(sharer));

    let want = |w: [&[&str]; 3]| -> Vec<Vec<String>> {
        w.iter()
            .map(|k| k.iter().map(|s| s.to_string()).collect())
            .collect()
    };
    let (api, export) = assessment_views(&app, &other, &lead, &coc, &stays).await;
    let expected = want([
        &["Assessment-2"],
        &["AssessmentQuestions-2"],
        &["AssessmentResults-2"],
    ]);
    assert_eq!(api, expected, "the API");
    assert_eq!(export, expected, "the export");

    // The source moves Assessment-1 into the window: its questions and results, unchanged
    // rows, follow it.
    set_cell(
        &mut files,
        "Assessment.csv",
        1,
        "AssessmentDate",
        "2024-01-25",
    );
    imported(&app, &admin, agency, &files).await;
    let (api, export) = assessment_views(&app, &other, &lead, &coc, &stays).await;
    let expected = want([
        &["Assessment-1", "Assessment-2"],
        &["AssessmentQuestions-1", "AssessmentQuestions-2"],
        &["AssessmentResults-1", "AssessmentResults-2"],
    ]);
    assert_eq!(api, expected, "the API");
    assert_eq!(export, expected, "the export");
}

/// The Assessment, AssessmentQuestions and AssessmentResults keys of `stays` that the API shows
/// `worker`, and those the export gives `admin` (checked against the validator first).
async fn assessment_views<S: crate::clients::Svc>(
    app: &crate::harness::TestApp<S>,
    worker: &str,
    admin: &str,
    coc: &str,
    stays: &[Uuid],
) -> (Vec<Vec<String>>, Vec<Vec<String>>) {
    let mut api = Vec::new();
    for file in ["Assessment", "AssessmentQuestions", "AssessmentResults"] {
        let mut keys = Vec::new();
        for stay in stays {
            keys.extend(listed(app, worker, *stay, file).await);
        }
        keys.sort();
        api.push(keys);
    }
    let bytes = app
        .get(
            &format!("/v1/exports/hmis-csv?coc={coc}&start=2024-01-01&end=2024-12-31&version=2026"),
            admin,
        )
        .await
        .raw
        .clone();
    let (errors, _) = crate::hmis_export::validation_errors(&bytes);
    assert!(errors.is_empty(), "the export validates: {errors:#?}");
    let out = unzip(&bytes);
    let export = vec![
        exported_keys(&out, "Assessment", "AssessmentID"),
        exported_keys(&out, "AssessmentQuestions", "AssessmentQuestionID"),
        exported_keys(&out, "AssessmentResults", "AssessmentResultID"),
    ];
    (api, export)
}
