//! The CoC's aggregate reports (consent.md, "Active homeless count"; Chicago): counts only, no
//! PII and no client ids, for its coc_admins and system administrators.

use chrono::NaiveDate;
use diesel::PgConnection;
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{AppError, AppResult};
use crate::repo::reports as repo;
use crate::repo::tenants as tenants_repo;
use crate::service::context::Caller;
use crate::service::priority_list::parse_coc;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProjectTypeCount {
    pub project_type: i16,
    pub people: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ValueCount {
    pub value: String,
    pub people: i64,
}

/// By-name list statuses, in people.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ByNameListCounts {
    /// An active stay and a contact within the policy's `inactivity_days`.
    pub active: i64,
    /// An active stay, but no contact within `inactivity_days`.
    pub inactive: i64,
    /// No active stay; the latest exit was to permanent housing (HUD 400-series destination).
    pub housed: i64,
    /// An active stay entered on or after an exit to permanent housing.
    pub returned_from_housing: i64,
    /// An active stay, first seen in the CoC in the 30 days up to `as_of`.
    pub newly_identified: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ActiveHomelessReport {
    pub coc_code: String,
    pub as_of: NaiveDate,
    /// People (by HUD 5.08 Personal ID: a person split into two records counts once) with a
    /// stay in the CoC's projects active on `as_of`, whatever their records' visibility.
    pub people: i64,
    /// A person with stays in several project types counts once in each.
    pub by_project_type: Vec<ProjectTypeCount>,
    /// A person whose records differ counts once in each.
    pub by_visibility: Vec<ValueCount>,
    pub by_identity_mode: Vec<ValueCount>,
    pub inactivity_days: i32,
    pub by_name_list: ByNameListCounts,
}

pub fn active_homeless(
    conn: &mut PgConnection,
    caller: &Caller,
    code: &str,
    as_of: Option<NaiveDate>,
) -> AppResult<ActiveHomelessReport> {
    let coc = parse_coc(code)?;
    let row = tenants_repo::find_coc(conn, coc.as_str())?.ok_or(AppError::NotFound)?;
    let viewer = caller.viewer(conn)?;
    crate::consent::ce::may_read_coc_reports(&viewer, coc.as_str())
        .map_err(|m| AppError::Forbidden(m.into()))?;
    let as_of = as_of.unwrap_or(caller.today);
    if as_of > caller.today {
        return Err(AppError::validation(
            "as_of",
            "in_future",
            "as_of cannot be in the future.",
        ));
    }
    let groups = repo::active_groups(conn, coc.as_str(), as_of)?;
    let bnl = repo::by_name_list(conn, coc.as_str(), as_of, row.inactivity_days)?;
    let mut report = ActiveHomelessReport {
        coc_code: coc.as_str().into(),
        as_of,
        people: bnl.active_people,
        by_project_type: vec![],
        by_visibility: vec![],
        by_identity_mode: vec![],
        inactivity_days: row.inactivity_days,
        by_name_list: ByNameListCounts {
            active: bnl.active,
            inactive: bnl.inactive,
            housed: bnl.housed,
            returned_from_housing: bnl.returned_from_housing,
            newly_identified: bnl.newly_identified,
        },
    };
    for g in groups {
        match (g.dimension.as_str(), g.project_type, g.value) {
            ("project_type", Some(t), _) => report.by_project_type.push(ProjectTypeCount {
                project_type: t,
                people: g.people,
            }),
            ("visibility", _, Some(v)) => report.by_visibility.push(ValueCount {
                value: v,
                people: g.people,
            }),
            ("identity_mode", _, Some(v)) => report.by_identity_mode.push(ValueCount {
                value: v,
                people: g.people,
            }),
            _ => {}
        }
    }
    caller.audit(
        conn,
        None,
        "report_active_homeless",
        None,
        Some(serde_json::json!({"coc": coc.as_str(), "as_of": as_of})),
    )?;
    Ok(report)
}
