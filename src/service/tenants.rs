//! CoCs with their consent policy, agencies and projects.

use chrono::{DateTime, Utc};
use diesel::{Connection, PgConnection};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::Principal;
use crate::consent::listing::TenantScope;
use crate::consent::Role;
use crate::domain::dob::AnonymousDobRule;
use crate::domain::hud::{check_code, HudList};
use crate::domain::CocCode;
use crate::error::{AppError, AppResult, FieldError};
use crate::repo::tenants::{self as repo, AgencyRow, CocRow, ProjectRow};
use crate::service::viewer::caller_coc;

pub use crate::domain::identity::AnonymousNameFormat;
pub use crate::domain::words::RoiGrantMode;

/// A CoC's consent policy (consent.md, "CoC policy").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CocPolicy {
    pub anonymous_name_format: AnonymousNameFormat,
    pub anonymous_dob_rule: AnonymousDobRule,
    /// 99 (data not collected) or 9 (client prefers not to answer).
    pub anonymous_ssn_quality: i16,
    pub roi_grant_mode: RoiGrantMode,
    /// The default ROI term in months; `null` for none.
    pub roi_default_term_months: Option<i32>,
    pub observational_assessment_after_refusals: i32,
    pub locked_visible_to_ce_assessors: bool,
    /// By-name list: days without contact after which an active client counts as inactive.
    pub inactivity_days: i32,
}

impl CocPolicy {
    /// The part of the policy that shapes anonymous records.
    pub fn anonymous(&self) -> crate::domain::identity::AnonymousPolicy {
        crate::domain::identity::AnonymousPolicy {
            name_format: self.anonymous_name_format,
            dob_rule: self.anonymous_dob_rule,
            ssn_quality: self.anonymous_ssn_quality,
        }
    }

    pub fn from_row(r: &CocRow) -> CocPolicy {
        CocPolicy {
            anonymous_name_format: r.anonymous_name_format,
            anonymous_dob_rule: r.anonymous_dob_rule,
            anonymous_ssn_quality: r.anonymous_ssn_quality,
            roi_grant_mode: r.roi_grant_mode,
            roi_default_term_months: r.roi_default_term_months,
            observational_assessment_after_refusals: r.observational_assessment_after_refusals,
            locked_visible_to_ce_assessors: r.locked_visible_to_ce_assessors,
            inactivity_days: r.inactivity_days,
        }
    }
}

/// Changes to a CoC's policy; absent fields stay as they are.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyPatch {
    pub anonymous_name_format: Option<AnonymousNameFormat>,
    pub anonymous_dob_rule: Option<AnonymousDobRule>,
    /// 99 (data not collected) or 9 (client prefers not to answer).
    #[schema(minimum = 9, maximum = 99)]
    pub anonymous_ssn_quality: Option<i16>,
    pub roi_grant_mode: Option<RoiGrantMode>,
    /// 1 to 1200 months; `null` removes the default term.
    #[serde(default, deserialize_with = "crate::domain::patch::double_option")]
    #[schema(value_type = Option<i32>, nullable, minimum = 1, maximum = 1200)]
    pub roi_default_term_months: Option<Option<i32>>,
    /// 0 to 100 refusals.
    #[schema(minimum = 0, maximum = 100)]
    pub observational_assessment_after_refusals: Option<i32>,
    pub locked_visible_to_ce_assessors: Option<bool>,
    /// 1 to 3650 days.
    #[schema(minimum = 1, maximum = 3650)]
    pub inactivity_days: Option<i32>,
}

impl PolicyPatch {
    /// Applies the patch; `at` is where the policy sits in the body (`policy.` in a new CoC,
    /// nothing in a policy patch), for the field names of errors.
    fn apply(&self, row: &mut CocRow, at: &str) -> AppResult<()> {
        let mut errors = Vec::new();
        let field = |name: &str| format!("{at}{name}");
        if let Some(v) = self.anonymous_name_format {
            row.anonymous_name_format = v;
        }
        if let Some(v) = self.anonymous_dob_rule {
            row.anonymous_dob_rule = v;
        }
        if let Some(v) = self.anonymous_ssn_quality {
            if v != 9 && v != 99 {
                errors.push(FieldError::new(
                    field("anonymous_ssn_quality"),
                    "out_of_range",
                    "Must be 9 or 99.",
                ));
            }
            row.anonymous_ssn_quality = v;
        }
        if let Some(v) = self.roi_grant_mode {
            row.roi_grant_mode = v;
        }
        if let Some(v) = self.roi_default_term_months {
            if v.is_some_and(|m| !(1..=1200).contains(&m)) {
                errors.push(FieldError::new(
                    field("roi_default_term_months"),
                    "out_of_range",
                    "Must be between 1 and 1200 months, or null.",
                ));
            }
            row.roi_default_term_months = v;
        }
        if let Some(v) = self.observational_assessment_after_refusals {
            if !(0..=100).contains(&v) {
                errors.push(FieldError::new(
                    field("observational_assessment_after_refusals"),
                    "out_of_range",
                    "Must be between 0 and 100.",
                ));
            }
            row.observational_assessment_after_refusals = v;
        }
        if let Some(v) = self.locked_visible_to_ce_assessors {
            row.locked_visible_to_ce_assessors = v;
        }
        if let Some(v) = self.inactivity_days {
            if !(1..=3650).contains(&v) {
                errors.push(FieldError::new(
                    field("inactivity_days"),
                    "out_of_range",
                    "Must be between 1 and 3650 days.",
                ));
            }
            row.inactivity_days = v;
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(AppError::Validation(errors))
        }
    }
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCoc {
    /// HUD CoC code, `^[A-Z]{2}-\d{3}$`.
    #[schema(example = "IL-510")]
    pub code: String,
    pub name: String,
    /// Policy settings that differ from the defaults.
    #[serde(default)]
    pub policy: PolicyPatch,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Coc {
    pub code: String,
    pub name: String,
    pub policy: CocPolicy,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[serde(skip)]
    pub version: i32,
}

impl From<CocRow> for Coc {
    fn from(r: CocRow) -> Coc {
        Coc {
            policy: CocPolicy::from_row(&r),
            code: r.code.into(),
            name: r.name,
            created_at: r.created_at,
            updated_at: r.updated_at,
            version: r.version,
        }
    }
}

fn require_system_admin(p: &Principal, action: &str) -> AppResult<()> {
    p.require_any(&[Role::SystemAdmin], action)
}

fn check_display_name(field: &str, name: &str) -> AppResult<String> {
    let n = name.trim();
    if n.is_empty()
        || n.chars().count() > 200
        || n.chars().any(char::is_control)
        || crate::domain::has_hidden_characters(n)
        || !crate::domain::has_visible_word(n)
    {
        return Err(AppError::validation(
            field,
            "invalid_name",
            "Must be 1 to 200 printable characters with a letter or digit, and no invisible or direction-changing characters.",
        ));
    }
    Ok(n.to_string())
}

pub fn create_coc(conn: &mut PgConnection, p: &Principal, input: NewCoc) -> AppResult<Coc> {
    require_system_admin(p, "Creating a CoC")?;
    let code =
        CocCode::parse(&input.code).map_err(|e| AppError::validation("code", e.code, e.message))?;
    let now = Utc::now();
    let mut row = CocRow {
        code: code.clone(),
        name: check_display_name("name", &input.name)?,
        anonymous_name_format: AnonymousNameFormat::UidAnonymous,
        anonymous_dob_rule: AnonymousDobRule::Jan1OfBirthYear,
        anonymous_ssn_quality: 99,
        roi_grant_mode: RoiGrantMode::Window,
        roi_default_term_months: None,
        observational_assessment_after_refusals: 2,
        locked_visible_to_ce_assessors: false,
        inactivity_days: 90,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    input.policy.apply(&mut row, "policy.")?;
    conn.transaction(|conn| {
        if repo::find_coc(conn, &row.code)?.is_some() {
            return Err(AppError::conflict(
                "duplicate",
                "A CoC with this code already exists.",
            ));
        }
        Ok(repo::insert_coc(conn, &row)?.into())
    })
}

pub fn get_coc(conn: &mut PgConnection, code: &str) -> AppResult<Coc> {
    repo::find_coc(conn, code)?
        .map(Coc::from)
        .ok_or(AppError::NotFound)
}

pub fn list_cocs(
    conn: &mut PgConnection,
    after: Option<String>,
    limit: i64,
) -> AppResult<Vec<Coc>> {
    Ok(repo::list_cocs(conn, after.as_deref(), limit)?
        .into_iter()
        .map(Coc::from)
        .collect())
}

/// A `coc_admin` edits its own CoC's policy; a `system_admin` any.
pub fn update_policy(
    conn: &mut PgConnection,
    p: &Principal,
    code: &str,
    if_match: impl FnOnce(i32) -> AppResult<()>,
    patch: PolicyPatch,
) -> AppResult<Coc> {
    conn.transaction(|conn| {
        let mut row = repo::lock_coc(conn, code)?.ok_or(AppError::NotFound)?;
        if !p.is_system_admin() {
            p.require_any(&[Role::CocAdmin], "Editing a CoC's policy")?;
            if caller_coc(conn, p)?.as_deref() != Some(code) {
                return Err(AppError::Forbidden(
                    "A coc_admin may edit only its own CoC's policy.".into(),
                ));
            }
        }
        if_match(row.version)?;
        let before = CocPolicy::from_row(&row);
        patch.apply(&mut row, "")?;
        if CocPolicy::from_row(&row) == before {
            // A patch that changes nothing (`{}` included) writes nothing: same version and ETag.
            return Ok(row.into());
        }
        Ok(repo::update_coc(conn, &row)?.into())
    })
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAgency {
    #[schema(example = "IL-510")]
    pub coc_code: String,
    pub name: String,
    /// Whether the agency takes part in statewide data sharing.
    #[serde(default)]
    pub shares_data: bool,
    #[serde(default)]
    pub victim_service_provider: bool,
    /// Whether the agency takes part in Coordinated Entry (enrolls clients into the CoC's CE
    /// entry points).
    #[serde(default)]
    pub participates_in_ce: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Agency {
    pub id: Uuid,
    pub coc_code: String,
    pub name: String,
    pub shares_data: bool,
    pub victim_service_provider: bool,
    pub participates_in_ce: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[serde(skip)]
    pub version: i32,
}

impl From<AgencyRow> for Agency {
    fn from(r: AgencyRow) -> Agency {
        Agency {
            id: r.id,
            coc_code: r.coc_code.into(),
            name: r.name,
            shares_data: r.shares_data,
            victim_service_provider: r.victim_service_provider,
            participates_in_ce: r.participates_in_ce,
            created_at: r.created_at,
            updated_at: r.updated_at,
            version: r.version,
        }
    }
}

pub fn create_agency(
    conn: &mut PgConnection,
    p: &Principal,
    input: NewAgency,
) -> AppResult<Agency> {
    require_system_admin(p, "Creating an agency")?;
    let name = check_display_name("name", &input.name)?;
    conn.transaction(|conn| {
        let unknown = || AppError::validation("coc_code", "unknown_coc", "No CoC has this code.");
        // A code that does not parse names no CoC.
        let coc_code = CocCode::parse(&input.coc_code).map_err(|_| unknown())?;
        if repo::find_coc(conn, &input.coc_code)?.is_none() {
            return Err(unknown());
        }
        if input.victim_service_provider && input.shares_data {
            // VAWA: victim service providers keep identifying data out of shared HMIS.
            return Err(AppError::validation(
                "shares_data",
                "victim_service_provider_cannot_share",
                "A victim service provider cannot take part in statewide sharing.",
            ));
        }
        let now = Utc::now();
        let row = AgencyRow {
            id: Uuid::now_v7(),
            coc_code,
            name,
            shares_data: input.shares_data,
            victim_service_provider: input.victim_service_provider,
            participates_in_ce: input.participates_in_ce,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        Ok(repo::insert_agency(conn, &row)?.into())
    })
}

/// Everyone sees the agencies of its own CoC and those taking part in sharing; admins see all.
pub fn get_agency(conn: &mut PgConnection, p: &Principal, id: Uuid) -> AppResult<Agency> {
    let row = repo::find_agency(conn, id)?.ok_or(AppError::NotFound)?;
    if !visibility_coc(conn, p)?.includes(&row.coc_code, row.shares_data) {
        return Err(AppError::NotFound);
    }
    Ok(row.into())
}

pub fn list_agencies(
    conn: &mut PgConnection,
    p: &Principal,
    after: Option<Uuid>,
    limit: i64,
) -> AppResult<Vec<Agency>> {
    let coc = visibility_coc(conn, p)?;
    Ok(repo::list_agencies(conn, &coc, after, limit)?
        .into_iter()
        .map(Agency::from)
        .collect())
}

/// The agencies and projects the caller may see (consent::listing): the API's lists and reads,
/// and the descriptor files of an HMIS CSV export (`service::hmis_export`).
pub(crate) fn visibility_coc(conn: &mut PgConnection, p: &Principal) -> AppResult<TenantScope> {
    let coc = if p.is_system_admin() {
        None
    } else {
        caller_coc(conn, p)?
    };
    TenantScope::of(p.is_system_admin(), coc)
        .ok_or_else(|| AppError::Forbidden("The token's agency is not known to Hearth.".into()))
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewProject {
    pub agency_id: Uuid,
    pub name: String,
    /// HUD 2.02.6 project type (0 ES entry/exit, 1 ES night-by-night, 2 TH, 3 PSH, 4 SO, 6 SSO,
    /// 7 Other, 8 SH, 9 PH housing only, 10 PH with services, 11 Day Shelter, 12 HP, 13 RRH, 14 CE).
    pub project_type: i32,
    /// Whether this project is a CoC-wide Coordinated Entry entry point, enrolling clients from
    /// every agency of the CoC that takes part in CE. Only for type 14; default true for it.
    pub coc_wide_ce_entry_point: Option<bool>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Project {
    pub id: Uuid,
    pub agency_id: Uuid,
    pub coc_code: String,
    pub name: String,
    pub project_type: i32,
    /// A CoC-wide Coordinated Entry entry point: every agency of the CoC that takes part in CE
    /// enrolls clients into it.
    pub coc_wide_ce_entry_point: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[serde(skip)]
    pub version: i32,
}

fn project_view(r: ProjectRow, coc_code: String) -> Project {
    Project {
        id: r.id,
        agency_id: r.agency_id,
        coc_code,
        name: r.name,
        project_type: r.project_type as i32,
        coc_wide_ce_entry_point: r.ce_entry_point,
        created_at: r.created_at,
        updated_at: r.updated_at,
        version: r.version,
    }
}

pub fn create_project(
    conn: &mut PgConnection,
    p: &Principal,
    input: NewProject,
) -> AppResult<Project> {
    require_system_admin(p, "Creating a project")?;
    let name = check_display_name("name", &input.name)?;
    check_code(HudList::ProjectType, "project_type", input.project_type)
        .map_err(|e| AppError::validation("project_type", e.code, e.message))?;
    let is_ce = input.project_type == 14;
    let ce_entry_point = input.coc_wide_ce_entry_point.unwrap_or(is_ce);
    if ce_entry_point && !is_ce {
        return Err(AppError::validation(
            "coc_wide_ce_entry_point",
            "not_a_ce_project",
            "Only a Coordinated Entry project (type 14) is a CoC-wide entry point.",
        ));
    }
    conn.transaction(|conn| {
        let agency = repo::find_agency(conn, input.agency_id)?.ok_or_else(|| {
            AppError::validation("agency_id", "unknown_agency", "No agency has this id.")
        })?;
        let now = Utc::now();
        let row = ProjectRow {
            id: Uuid::now_v7(),
            agency_id: agency.id,
            name,
            project_type: input.project_type as i16,
            ce_entry_point,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        Ok(project_view(
            repo::insert_project(conn, &row)?,
            agency.coc_code.into(),
        ))
    })
}

pub fn get_project(conn: &mut PgConnection, p: &Principal, id: Uuid) -> AppResult<Project> {
    let (row, agency) = repo::find_project(conn, id)?.ok_or(AppError::NotFound)?;
    if !visibility_coc(conn, p)?.includes(&agency.coc_code, agency.shares_data) {
        return Err(AppError::NotFound);
    }
    Ok(project_view(row, agency.coc_code.into()))
}

pub fn list_projects(
    conn: &mut PgConnection,
    p: &Principal,
    agency: Option<Uuid>,
    after: Option<Uuid>,
    limit: i64,
) -> AppResult<Vec<Project>> {
    let coc = visibility_coc(conn, p)?;
    let rows = repo::list_projects(conn, &coc, agency, after, limit)?;
    Ok(rows
        .into_iter()
        .map(|(r, coc_code)| project_view(r, coc_code))
        .collect())
}
