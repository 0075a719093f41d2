//! The source rows an HMIS CSV import kept whole of a stay (`GET /v1/enrollments/{id}/hmis-records`):
//! its Enrollment and Exit rows in full and the rows of the enrollment-level files (IncomeBenefits,
//! HealthAndDV, Disabilities, ...), each a datum under the datum rule (the importing agency entered
//! it, on its collection day). Below `full`, `consent::kept_rows` leaves out free text, the
//! domestic-violence columns and HIV/AIDS rows.

use chrono::NaiveDate;
use diesel::PgConnection;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use std::collections::HashSet;

use crate::consent::kept_rows::{
    is_assessment_part, kept_column_shown, kept_row_kind, kept_row_shown, stay_part, StayPart,
};
use crate::consent::{decide_datum, AccessLevel, DatumAccess, DatumFacts};
use crate::error::AppResult;
use crate::hmis_csv::export_kept::{column_is_text, typed_value};
use crate::repo::stays as repo;
use crate::service::access::decide;
use crate::service::context::Caller;
use crate::service::stays::load_stay;

/// One kept source row, as the caller may see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HmisRecord {
    /// HUD's file name without `.csv` (`IncomeBenefits`, `HealthAndDV`, ...).
    pub file: String,
    /// The row's key in the source export (its `IncomeBenefitsID`, ...).
    pub source_id: String,
    /// HUD column to value, typed by HUD's sheets: integers and money as numbers, dates,
    /// timestamps and text as strings (blank cells and withheld columns absent).
    #[schema(value_type = Object)]
    pub fields: serde_json::Map<String, serde_json::Value>,
    /// The values the source sent outside their HUD code list (an import in lenient mode keeps
    /// such a row): HUD column to the value as sent, which `fields` also holds. An export writes
    /// HUD's 99 or a blank in their place (docs/hmis-csv.md); this is where the value sent stays
    /// visible. Empty when every value was in its list; a column withheld from `fields` is
    /// withheld here too.
    #[schema(value_type = Object)]
    pub invalid: serde_json::Map<String, serde_json::Value>,
    /// `full`, or `non_pii` (free text, domestic-violence columns left out).
    #[schema(value_type = crate::domain::contract_words::DatumAccessWord)]
    pub access: String,
    pub entered_by_agency_id: Uuid,
    pub entered_by_your_agency: bool,
    pub collected_on: NaiveDate,
}

/// A kept row's `DisabilityType` (what `kept_row_kind` reads), from its array.
fn disability_type(k: &repo::KeptRow) -> Option<&str> {
    let at = crate::hmis_csv::kept::position(&k.file, "DisabilityType")?;
    k.fields.get(at).and_then(|v| v.as_str())
}

/// A kept row as shown at this access, or `None` when it is not shown at all.
fn shown(
    caller: &Caller,
    mut k: repo::KeptRow,
    collected_on: NaiveDate,
    full: bool,
) -> Option<HmisRecord> {
    let all = crate::hmis_csv::kept::decode(&k.file, std::mem::take(&mut k.fields))?;
    let disability = all.get("DisabilityType").and_then(|v| v.as_str());
    if !kept_row_shown(&k.file, disability, full) {
        return None;
    }
    let shown_column = |c: &str| kept_column_shown(&k.file, c, column_is_text(&k.file, c), full);
    let invalid = match &k.invalid {
        Some(serde_json::Value::Object(m)) => m
            .iter()
            .filter(|(c, _)| shown_column(c))
            .map(|(c, v)| (c.clone(), v.clone()))
            .collect(),
        _ => serde_json::Map::new(),
    };
    let fields = all
        .into_iter()
        .filter(|(c, _)| shown_column(c))
        .map(|(c, v)| {
            let typed = v.as_str().map(|s| typed_value(&k.file, &c, s)).unwrap_or(v);
            (c, typed)
        })
        .collect();
    Some(HmisRecord {
        file: k.file,
        source_id: k.source_id,
        fields,
        invalid,
        access: crate::domain::contract_words::DatumAccessWord::of(full).into(),
        entered_by_agency_id: k.entered_by_agency,
        entered_by_your_agency: caller.principal.agency_id == Some(k.entered_by_agency),
        collected_on,
    })
}

/// The record's own kept rows (its source Client rows, less the names, SSN and DOB, which live in
/// the record), as the caller may see the record: in full at level `full`, else without free text.
pub fn list_for_client(
    conn: &mut PgConnection,
    caller: &Caller,
    client: Uuid,
) -> AppResult<Vec<HmisRecord>> {
    let d = decide(conn, caller, client)?;
    let full = d.decision.level == AccessLevel::Full;
    let out: Vec<HmisRecord> = repo::kept_rows_of_client(conn, client)?
        .into_iter()
        .filter_map(|k| {
            let day = k.collected_on.unwrap_or(d.row.created_at.date_naive());
            shown(caller, k, day, full)
        })
        .collect();
    if full && !out.is_empty() {
        caller.audit(
            conn,
            Some(client),
            "read",
            d.decision.basis,
            Some(serde_json::json!({"kind": "hmis_records"})),
        )?;
    }
    Ok(out)
}

/// The stay's kept rows the caller may see, in the order they came.
pub fn list(
    conn: &mut PgConnection,
    caller: &Caller,
    enrollment: Uuid,
) -> AppResult<Vec<HmisRecord>> {
    let stay = load_stay(conn, caller, enrollment, false)?;
    let mut decided = Vec::new();
    for k in repo::kept_rows_of(conn, enrollment)? {
        let collected_on = k.collected_on.unwrap_or(stay.row.entry_date);
        // The stay's own rows are shown as its entry (none for a continuation) and its exit
        // are.
        let access = match stay_part(&k.file) {
            Some(StayPart::Entry) => stay.access,
            Some(StayPart::Exit) => stay.exit,
            None => decide_datum(
                &stay.record.viewer,
                &stay.record.decision,
                &stay.record.facts,
                &DatumFacts {
                    entered_by_agency: k.entered_by_agency,
                    collected_on,
                    kind: kept_row_kind(&k.file, disability_type(&k)),
                },
            ),
        };
        let full = match access {
            DatumAccess::Hidden => continue,
            DatumAccess::Full => true,
            DatumAccess::NonPiiOnly => false,
        };
        decided.push((k, collected_on, full));
    }
    // The questions and results of an Assessment the caller does not see (or that is not kept
    // of this stay) are left out with it, as the export leaves them out.
    let assessments: HashSet<(Uuid, String)> = decided
        .iter()
        .filter(|(k, _, _)| k.file == "Assessment")
        .map(|(k, _, _)| (k.entered_by_agency, k.source_id.clone()))
        .collect();
    let mut out = Vec::new();
    for (k, collected_on, full) in decided {
        if is_assessment_part(&k.file) {
            let named = crate::hmis_csv::kept::position(&k.file, "AssessmentID")
                .and_then(|at| k.fields.get(at))
                .and_then(|v| v.as_str())
                .map(|a| (k.entered_by_agency, a.trim().to_string()));
            if !named.is_some_and(|a| assessments.contains(&a)) {
                continue;
            }
        }
        out.extend(shown(caller, k, collected_on, full));
    }
    // consent.md, Audit: every read at level full is audited, once per request and client.
    if out.iter().any(|r| r.access == "full") {
        caller.audit(
            conn,
            Some(stay.row.client_id),
            "stay_data_read",
            stay.record.decision.basis,
            Some(serde_json::json!({"enrollment_id": enrollment, "kind": "hmis_records"})),
        )?;
    }
    Ok(out)
}
