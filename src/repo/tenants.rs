//! CoCs, agencies and projects.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::PgConnection;

use crate::consent::listing::TenantScope;
use uuid::Uuid;

use crate::db::schema::{agencies, cocs, projects};
use crate::domain::dob::AnonymousDobRule;
use crate::domain::identity::AnonymousNameFormat;
use crate::domain::words::RoiGrantMode;
use crate::domain::CocCode;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = cocs)]
pub struct CocRow {
    pub code: CocCode,
    pub name: String,
    pub anonymous_name_format: AnonymousNameFormat,
    pub anonymous_dob_rule: AnonymousDobRule,
    pub anonymous_ssn_quality: i16,
    pub roi_grant_mode: RoiGrantMode,
    pub roi_default_term_months: Option<i32>,
    pub observational_assessment_after_refusals: i32,
    pub locked_visible_to_ce_assessors: bool,
    /// Days without contact after which the by-name list counts a client inactive.
    pub inactivity_days: i32,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = agencies)]
pub struct AgencyRow {
    pub id: Uuid,
    pub coc_code: CocCode,
    pub name: String,
    pub shares_data: bool,
    pub victim_service_provider: bool,
    /// Takes part in Coordinated Entry: enrolls clients into the CoC's CE entry points.
    pub participates_in_ce: bool,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = projects)]
pub struct ProjectRow {
    pub id: Uuid,
    pub agency_id: Uuid,
    pub name: String,
    pub project_type: i16,
    /// A CoC-wide Coordinated Entry entry point (type 14 only).
    pub ce_entry_point: bool,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub fn insert_coc(conn: &mut PgConnection, row: &CocRow) -> QueryResult<CocRow> {
    diesel::insert_into(cocs::table)
        .values(row)
        .returning(CocRow::as_returning())
        .get_result(conn)
}

pub fn find_coc(conn: &mut PgConnection, code: &str) -> QueryResult<Option<CocRow>> {
    cocs::table
        .find(code)
        .select(CocRow::as_select())
        .first(conn)
        .optional()
}

pub fn lock_coc(conn: &mut PgConnection, code: &str) -> QueryResult<Option<CocRow>> {
    cocs::table
        .find(code)
        .select(CocRow::as_select())
        .for_update()
        .first(conn)
        .optional()
}

pub fn list_cocs(
    conn: &mut PgConnection,
    after: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<CocRow>> {
    let mut q = cocs::table
        .select(CocRow::as_select())
        .order(cocs::code.asc())
        .limit(limit)
        .into_boxed();
    if let Some(a) = after {
        q = q.filter(cocs::code.gt(a.to_string()));
    }
    q.load(conn)
}

pub fn update_coc(conn: &mut PgConnection, row: &CocRow) -> QueryResult<CocRow> {
    diesel::update(cocs::table.find(&row.code))
        .set((
            cocs::anonymous_name_format.eq(&row.anonymous_name_format),
            cocs::anonymous_dob_rule.eq(&row.anonymous_dob_rule),
            cocs::anonymous_ssn_quality.eq(row.anonymous_ssn_quality),
            cocs::roi_grant_mode.eq(&row.roi_grant_mode),
            cocs::roi_default_term_months.eq(row.roi_default_term_months),
            cocs::observational_assessment_after_refusals
                .eq(row.observational_assessment_after_refusals),
            cocs::locked_visible_to_ce_assessors.eq(row.locked_visible_to_ce_assessors),
            cocs::inactivity_days.eq(row.inactivity_days),
            cocs::version.eq(cocs::version + 1),
            cocs::updated_at.eq(diesel::dsl::now),
        ))
        .returning(CocRow::as_returning())
        .get_result(conn)
}

pub fn insert_agency(conn: &mut PgConnection, row: &AgencyRow) -> QueryResult<AgencyRow> {
    diesel::insert_into(agencies::table)
        .values(row)
        .returning(AgencyRow::as_returning())
        .get_result(conn)
}

pub fn find_agency(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<AgencyRow>> {
    agencies::table
        .find(id)
        .select(AgencyRow::as_select())
        .first(conn)
        .optional()
}

/// The agencies in `scope` (consent::listing).
/// The names of the agencies `ids`, in the order of the ids (an unknown id is left out).
pub fn agency_names(conn: &mut PgConnection, ids: &[Uuid]) -> QueryResult<Vec<String>> {
    let rows: Vec<(Uuid, String)> = agencies::table
        .filter(agencies::id.eq_any(ids))
        .select((agencies::id, agencies::name))
        .load(conn)?;
    Ok(ids
        .iter()
        .filter_map(|id| rows.iter().find(|(a, _)| a == id).map(|(_, n)| n.clone()))
        .collect())
}

pub fn list_agencies(
    conn: &mut PgConnection,
    scope: &TenantScope,
    after: Option<Uuid>,
    limit: i64,
) -> QueryResult<Vec<AgencyRow>> {
    let mut q = agencies::table
        .select(AgencyRow::as_select())
        .order(agencies::id.asc())
        .limit(limit)
        .into_boxed();
    if let TenantScope::CocAndSharing(coc) = scope {
        q = q.filter(
            agencies::coc_code
                .eq(coc.to_string())
                .or(agencies::shares_data.eq(true)),
        );
    }
    if let Some(a) = after {
        q = q.filter(agencies::id.gt(a));
    }
    q.load(conn)
}

pub fn insert_project(conn: &mut PgConnection, row: &ProjectRow) -> QueryResult<ProjectRow> {
    diesel::insert_into(projects::table)
        .values(row)
        .returning(ProjectRow::as_returning())
        .get_result(conn)
}

pub fn find_project(
    conn: &mut PgConnection,
    id: Uuid,
) -> QueryResult<Option<(ProjectRow, AgencyRow)>> {
    projects::table
        .inner_join(agencies::table)
        .filter(projects::id.eq(id))
        .select((ProjectRow::as_select(), AgencyRow::as_select()))
        .first(conn)
        .optional()
}

/// The projects of the agencies in `scope` (consent::listing).
pub fn list_projects(
    conn: &mut PgConnection,
    scope: &TenantScope,
    agency: Option<Uuid>,
    after: Option<Uuid>,
    limit: i64,
) -> QueryResult<Vec<(ProjectRow, String)>> {
    let mut q = projects::table
        .inner_join(agencies::table)
        .select((ProjectRow::as_select(), agencies::coc_code))
        .order(projects::id.asc())
        .limit(limit)
        .into_boxed();
    if let TenantScope::CocAndSharing(coc) = scope {
        q = q.filter(
            agencies::coc_code
                .eq(coc.to_string())
                .or(agencies::shares_data.eq(true)),
        );
    }
    if let Some(a) = agency {
        q = q.filter(projects::agency_id.eq(a));
    }
    if let Some(a) = after {
        q = q.filter(projects::id.gt(a));
    }
    q.load(conn)
}
