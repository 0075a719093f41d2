//! The consent filter in SQL: the record rule of `engine::decide_record`, row for row, as one
//! `CASE` over a `clients` row aliased `c`. Lists and searches select it as the access basis and
//! keep the rows where it is not null. A test (`tests/api/consent_sql.rs`) builds random worlds
//! and checks that this answer equals the engine's for every viewer and record.
//!
//! Values are written as literals, never user text: UUIDs and dates print only hex digits,
//! dashes and digits, and a CoC code is re-parsed against `^[A-Z]{2}-\d{3}$` first.

use chrono::NaiveDate;

use super::model::{AccessBasis, AccessLevel, DatumAccess, DatumKind, Role, Viewer};
use crate::domain::CocCode;

/// SQL that is true when the client `c` has an active Coordinated Entry enrollment (the function
/// is defined once, in migration 4).
pub const ACTIVE_CE_ENROLLMENT: &str = "client_has_active_ce(c.id)";

/// SQL that is true when `c` is de-identified (consent-refused or anonymous) and `open`.
pub const DEIDENTIFIED_OPEN: &str =
    "(c.identity_mode IN ('consent_refused', 'anonymous') AND c.visibility = 'open')";

/// SQL that is true when an ROI of `c` is active on `today` and its scope covers `coc`.
fn roi_active(coc: &str, today: NaiveDate) -> String {
    format!(
        "EXISTS (SELECT 1 FROM roi_consents r WHERE r.client_id = c.id \
         AND r.effective_from <= DATE '{today}' \
         AND (r.revoked_on IS NULL OR DATE '{today}' < r.revoked_on) \
         AND (r.expires_on IS NULL OR DATE '{today}' < r.expires_on) \
         AND (r.scope_statewide OR '{coc}' = ANY (r.scope_cocs)))"
    )
}

/// SQL that is true when `c` pulls onto the priority list of `coc` (judged by the list's CoC,
/// consent.md): effectively open for that CoC, or de-identified open. `any_visibility` is the
/// coc_admin's CoC view, which lists every record with an active CE stay (Chicago: prioritize
/// without an assessment).
pub fn priority_listed_sql(coc: &CocCode, today: NaiveDate, any_visibility: bool) -> String {
    if any_visibility {
        return "TRUE".into();
    }
    format!(
        "(c.visibility = 'open' AND ({} OR {DEIDENTIFIED_OPEN}))",
        roi_active(coc.as_str(), today)
    )
}

/// The access basis of `viewer` on `c` as a SQL text expression (`NULL` for level none).
pub fn basis_sql(viewer: &Viewer, today: NaiveDate) -> String {
    if viewer.has_role(Role::SystemAdmin) {
        return format!("'{}'::text", AccessBasis::Helpdesk.as_str());
    }
    let Some(agency) = viewer.agency_id else {
        return "NULL::text".into();
    };
    let coc = viewer
        .coc_code
        .as_deref()
        .and_then(|c| CocCode::parse(c).ok());
    let mut arms: Vec<(String, AccessBasis)> = vec![(
        format!("c.created_by_agency = '{agency}'"),
        AccessBasis::CreatingAgency,
    )];
    let coc_admin = viewer.has_role(Role::CocAdmin);
    let open_here = coc.as_ref().map(|c| {
        format!(
            "(c.visibility = 'open' AND {})",
            roi_active(c.as_str(), today)
        )
    });
    if let (true, Some(open)) = (viewer.agency_shares_data || coc_admin, &open_here) {
        arms.push((open.clone(), AccessBasis::StatewideRoi));
    }
    // A scalar probe of the primary key (at most one row), not `EXISTS`: PostgreSQL turns an
    // `EXISTS` in a `CASE` into a hash of every contribution of the agency, built once per use,
    // a fixed cost that dominated a page of the priority list (docs/benchmarks.md).
    let contributor = format!(
        "COALESCE((SELECT true FROM client_contributors cc WHERE cc.client_id = c.id \
         AND cc.agency_id = '{agency}'), false)"
    );
    // Row 4: who sees a de-identified open record without an ROI.
    let mut deid_viewers = vec![contributor.clone()];
    if viewer.agency_shares_data {
        deid_viewers.push("TRUE".into());
    }
    if let Some(coc) = coc
        .as_ref()
        .filter(|_| coc_admin || viewer.has_role(Role::CeAssessor))
    {
        deid_viewers.push(format!("c.coc_code = '{}'", coc.as_str()));
    }
    arms.push((
        format!("({DEIDENTIFIED_OPEN} AND ({}))", deid_viewers.join(" OR ")),
        AccessBasis::Deidentified,
    ));
    arms.push((
        format!("(c.visibility IN ('closed', 'open') AND {contributor})"),
        AccessBasis::Contributor,
    ));
    if let Some(coc) = &coc {
        let coc = coc.as_str();
        let in_coc = format!("c.coc_code = '{coc}'");
        if viewer.has_role(Role::CeAssessor) {
            arms.push((
                format!(
                    "({in_coc} AND c.visibility = 'locked' AND \
                     (SELECT k.locked_visible_to_ce_assessors FROM cocs k WHERE k.code = c.coc_code))"
                ),
                AccessBasis::CeAssessor,
            ));
        }
        // In the record's CoC, the viewer's CoC is the record's: "open here" is the same test.
        let open = open_here.clone().unwrap_or_else(|| "FALSE".into());
        if coc_admin {
            arms.push((
                format!("({in_coc} AND NOT {open})"),
                AccessBasis::CocAggregate,
            ));
        }
        if viewer.has_role(Role::PriorityListReader) {
            arms.push((
                format!(
                    "({in_coc} AND ({open} OR {DEIDENTIFIED_OPEN}) AND {ACTIVE_CE_ENROLLMENT})"
                ),
                AccessBasis::PriorityList,
            ));
        }
    }
    let mut sql = String::from("(CASE");
    for (cond, basis) in arms {
        sql.push_str(&format!(" WHEN {cond} THEN '{}'", basis.as_str()));
    }
    sql.push_str(" ELSE NULL END)");
    sql
}

/// The datum rule of `engine::decide_datum` in SQL: `'full'`, `'non_pii'` or `NULL` for a datum
/// row aliased `d` (with `entered_by_agency`, `collected_on`, `client_id`), given the record's
/// basis expression (usually `basis_sql` over the joined `clients c`).
pub fn datum_access_sql(viewer: &Viewer, basis: &str, kind: DatumKind) -> String {
    let at_limited = if kind == DatumKind::Structured {
        "'non_pii'"
    } else {
        "NULL"
    };
    let own = match viewer.agency_id {
        Some(a) => format!(" WHEN d.entered_by_agency = '{a}' THEN 'full'"),
        None => String::new(),
    };
    let in_window = match viewer
        .coc_code
        .as_deref()
        .and_then(|c| CocCode::parse(c).ok())
    {
        None => "FALSE".to_string(),
        Some(coc) => format!(
            "EXISTS (SELECT 1 FROM roi_consents w WHERE w.client_id = d.client_id \
             AND (w.scope_statewide OR '{coc}' = ANY (w.scope_cocs)) \
             AND w.effective_from <= d.collected_on \
             AND (w.revoked_on IS NULL OR d.collected_on < w.revoked_on) \
             AND (w.expires_on IS NULL OR d.collected_on < w.expires_on))",
            coc = coc.as_str()
        ),
    };
    // The datum's record, by id: callers need not have joined `clients`.
    let deidentified = "EXISTS (SELECT 1 FROM clients dc WHERE dc.id = d.client_id \
         AND dc.identity_mode IN ('consent_refused', 'anonymous'))";
    format!(
        "(CASE WHEN ({basis}) IS NULL THEN NULL{own} \
         WHEN ({basis}) IN ('helpdesk', 'creating_agency', 'ce_assessor') THEN 'full' \
         WHEN ({basis}) IN ('statewide_roi', 'contributor') AND {in_window} THEN 'full' \
         WHEN ({basis}) = 'priority_list' AND ({in_window} OR {deidentified}) THEN {at_limited} \
         WHEN ({basis}) IN ('coc_aggregate', 'deidentified') THEN {at_limited} \
         ELSE NULL END)"
    )
}

/// The datum access of a stay's entry, over an `enrollments e` row, given the record's basis.
pub fn stay_entry_access_sql(viewer: &Viewer, basis: &str) -> String {
    format!(
        "(SELECT {} FROM (SELECT e.client_id, e.entered_by_agency, e.collected_on) d)",
        datum_access_sql(viewer, basis, DatumKind::Structured)
    )
}

/// True when data of the stay `e` is released to the viewer (datum rule 6: the stay is then
/// reachable as a continuation even where its entry is not). Case notes are free text.
pub fn stay_has_released_data_sql(viewer: &Viewer, basis: &str) -> String {
    format!(
        "EXISTS (SELECT 1 FROM enrollment_data d WHERE d.enrollment_id = e.id AND \
         (CASE WHEN d.kind = 'case_note' THEN {} ELSE {} END) IS NOT NULL)",
        datum_access_sql(viewer, basis, DatumKind::FreeText),
        datum_access_sql(viewer, basis, DatumKind::Structured)
    )
}

/// The level that goes with a basis (the record rule's table).
pub fn level_of(basis: AccessBasis) -> AccessLevel {
    match basis {
        AccessBasis::CocAggregate | AccessBasis::PriorityList | AccessBasis::Deidentified => {
            AccessLevel::Limited
        }
        _ => AccessLevel::Full,
    }
}

/// Reads the word `datum_access_sql` answers.
pub fn parse_datum_access(s: Option<&str>) -> DatumAccess {
    match s {
        Some("full") => DatumAccess::Full,
        Some("non_pii") => DatumAccess::NonPiiOnly,
        _ => DatumAccess::Hidden,
    }
}

/// The bases that carry level `full`, as a SQL list, for searches that match on PII.
pub fn full_bases_sql() -> String {
    let full: Vec<String> = AccessBasis::ALL
        .iter()
        .filter(|b| level_of(**b) == AccessLevel::Full)
        .map(|b| format!("'{}'", b.as_str()))
        .collect();
    format!("({})", full.join(", "))
}

/// The viewer whose rules the priority list's SQL applies to rows already on the list: row 8
/// (priority list reader) is the list's own fallback for every listed row, so its arm (an
/// active-CE lookup per row) is left out of the CASE; the answer is the same.
pub fn viewer_for_listed_rows(viewer: &Viewer) -> Viewer {
    let mut v = viewer.clone();
    v.roles.retain(|r| *r != Role::PriorityListReader);
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    #[test]
    fn system_admin_and_agencyless_viewers() {
        let today = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        let admin = Viewer {
            roles: vec![Role::SystemAdmin],
            ..Default::default()
        };
        assert_eq!(basis_sql(&admin, today), "'helpdesk'::text");
        let nobody = Viewer {
            roles: vec![Role::CaseWorker],
            ..Default::default()
        };
        assert_eq!(basis_sql(&nobody, today), "NULL::text");
    }

    #[test]
    fn a_malformed_coc_never_reaches_the_sql() {
        let today = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        let v = Viewer {
            agency_id: Some(Uuid::nil()),
            coc_code: Some("x' OR 1=1 --".into()),
            agency_shares_data: true,
            roles: vec![Role::CocAdmin, Role::PriorityListReader],
        };
        let sql = basis_sql(&v, today);
        assert!(!sql.contains("OR 1=1"));
        assert!(!sql.contains("statewide_roi"));
    }

    #[test]
    fn full_bases() {
        assert_eq!(
            full_bases_sql(),
            "('helpdesk', 'creating_agency', 'statewide_roi', 'contributor', 'ce_assessor')"
        );
    }
}
