//! The PII scanner at the edge (issue 11 item 8, issue 9 item 5): ROI documentation notes are
//! scanned in every identity mode, and anonymous records refuse addresses, HIV/AIDS wording and
//! SSNs written with dots, spaces or full-width digits.

use hearth::consent::Role;
use serde_json::json;

use crate::clients::{member, text};
use crate::harness::*;

#[actix_web::test]
async fn roi_notes_are_scanned_whatever_the_identity_mode() {
    let app = spawn().await;
    let coc = app.coc(json!({})).await;
    let (_, worker) = member(&app, &coc, true, &[Role::CaseWorker]).await;
    let r = app
        .post(
            "/v1/clients",
            &worker,
            json!({"identity_mode": "identified", "first_name": "Ana", "last_name": "Roe"}),
        )
        .await;
    let id = r.ok(201)["client"]["id"].as_str().unwrap().to_string();
    for note in [
        "witness: call 509-555-0147",
        "copy kept at 808 W Spokane Falls Blvd",
        "ssn ５２４.７１.９９３２",
    ] {
        let r = app
            .post(
                &format!("/v1/clients/{id}/consents"),
                &worker,
                json!({"method": "verbal", "documentation_note": note}),
            )
            .await;
        r.problem(422);
        assert_eq!(r.error_fields(), vec!["documentation_note"], "{note}");
        assert!(!text(&r).contains(note));
    }
    let r = app
        .post(
            &format!("/v1/clients/{id}/consents"),
            &worker,
            json!({"method": "signed", "documentation_note": "form in binder 3"}),
        )
        .await;
    r.ok(201);
}

#[actix_web::test]
async fn anonymous_case_notes_refuse_every_kind_the_scanner_knows() {
    let app = spawn().await;
    let coc = app.coc(json!({})).await;
    let (agency, worker) = member(&app, &coc, true, &[Role::CaseWorker]).await;
    let project = app.project(agency, 1).await;
    let r = app
        .post(
            "/v1/clients",
            &worker,
            json!({"identity_mode": "anonymous"}),
        )
        .await;
    let id = r.ok(201)["client"]["id"].as_str().unwrap().to_string();
    let r = app
        .post(
            &format!("/v1/clients/{id}/enrollments"),
            &worker,
            json!({"project_id": project, "entry_date": "2024-01-10", "relationship_to_hoh": 1}),
        )
        .await;
    let stay = r.ok(201)["enrollment"]["id"].as_str().unwrap().to_string();
    for (note, kind) in [
        ("gave ssn 524.71.9932", "ssn"),
        ("gave ssn １２３ ４５ ６７８９", "ssn"),
        ("stays at 12 Main St Apt 4", "address"),
        ("disclosed HIV status today", "hiv_aids"),
    ] {
        let r = app
            .post(
                &format!("/v1/enrollments/{stay}/notes"),
                &worker,
                json!({"note_date": "2024-01-11", "text": note}),
            )
            .await;
        let p = r.problem(422);
        assert_eq!(p["errors"][0]["field"], "text");
        assert!(
            p["errors"][0]["message"].as_str().unwrap().contains(kind),
            "{note}: {p}"
        );
    }
    let r = app
        .post(&format!("/v1/enrollments/{stay}/notes"), &worker, json!({"note_date": "2024-01-11", "text": "Gave 2 bus passes; client walked 3 blocks to the day center."}))
        .await;
    r.ok(201);
}
