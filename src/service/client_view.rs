//! What a client payload shows at each access level. At `limited` the PII keys are absent.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::consent::{
    AccessBasis, AccessDecision, AccessLevel, IdentityMode, Lifecycle, Viewer, Visibility,
};
use crate::repo::clients::ClientRow;
use crate::service::client_input::Race;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AccessView {
    pub level: AccessLevel,
    /// Why the caller has this level (null for level none).
    pub basis: Option<AccessBasis>,
}

impl From<&AccessDecision> for AccessView {
    fn from(d: &AccessDecision) -> Self {
        AccessView {
            level: d.level,
            basis: d.basis,
        }
    }
}

/// Personal identifying information: present only at level `full`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ClientPii {
    pub first_name: Option<String>,
    pub middle_name: Option<String>,
    pub last_name: Option<String>,
    pub name_suffix: Option<String>,
    pub alias: Option<String>,
    /// `123-45-6789`, or the last four digits.
    pub ssn: Option<String>,
    pub dob: Option<NaiveDate>,
    pub additional_race_ethnicity: Option<String>,
    pub different_identity_text: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ClientView {
    pub id: Uuid,
    /// The short HMIS UID (anonymous records are named after it).
    pub short_uid: String,
    pub identity_mode: IdentityMode,
    pub visibility: Visibility,
    pub lifecycle: Lifecycle,
    pub coc_code: String,
    pub created_by_agency_id: Uuid,
    /// The job aid's house icon: the caller's agency created this record.
    pub created_by_your_agency: bool,
    pub access: AccessView,
    /// HUD 5.08 Personal ID, shared by records split from one another (system admins only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub person_id: Option<Uuid>,
    /// For a superseded record: the record to use (seen by the creating agency and admins).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub superseded_by: Option<Uuid>,
    /// For a merged record: the survivor.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merged_into: Option<Uuid>,
    pub name_data_quality: i16,
    pub ssn_data_quality: i16,
    pub dob_data_quality: i16,
    pub race: Vec<Race>,
    pub race_none: Option<i16>,
    pub gender: Vec<i16>,
    pub gender_none: Option<i16>,
    pub sex: Option<i16>,
    pub veteran_status: i16,
    #[serde(flatten)]
    pub pii: Option<ClientPii>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[serde(skip)]
    pub version: i32,
}

fn format_ssn(s: &str) -> String {
    if s.len() == 9 {
        format!("{}-{}-{}", &s[0..3], &s[3..5], &s[5..9])
    } else {
        s.to_string()
    }
}

/// `successor`: the record to use instead, when the viewer may know it (see `access::Decided`).
pub fn client_view(
    row: &ClientRow,
    viewer: &Viewer,
    decision: &AccessDecision,
    successor: Option<Uuid>,
) -> crate::error::AppResult<ClientView> {
    let creator = viewer.agency_id == Some(row.created_by_agency);
    let full = decision.level == AccessLevel::Full;
    Ok(ClientView {
        id: row.id,
        short_uid: row.short_uid.clone(),
        identity_mode: row.identity_mode,
        visibility: row.visibility,
        lifecycle: row.lifecycle,
        coc_code: row.coc_code.to_string(),
        created_by_agency_id: row.created_by_agency,
        created_by_your_agency: creator,
        access: decision.into(),
        person_id: crate::consent::listing::sees_person_id(viewer).then_some(row.person_id),
        superseded_by: row.superseded_by.filter(|s| successor == Some(*s)),
        merged_into: row.merged_into.filter(|s| successor == Some(*s)),
        name_data_quality: row.name_quality,
        ssn_data_quality: row.ssn_quality,
        dob_data_quality: row.dob_quality,
        race: row.race.clone(),
        race_none: row.race_none,
        gender: row.gender.clone(),
        gender_none: row.gender_none,
        sex: row.sex,
        veteran_status: row.veteran_status,
        pii: full.then(|| ClientPii {
            first_name: row.first_name.clone(),
            middle_name: row.middle_name.clone(),
            last_name: row.last_name.clone(),
            name_suffix: row.name_suffix.clone(),
            alias: row.alias.clone(),
            ssn: row.ssn.as_deref().map(format_ssn),
            dob: row.dob,
            additional_race_ethnicity: row.additional_race_ethnicity.clone(),
            different_identity_text: row.different_identity_text.clone(),
        }),
        created_at: row.created_at,
        updated_at: row.updated_at,
        version: row.version,
    })
}

/// The record as the caller sees it after a change (`None` when the change ended its access).
/// The record as `before`'s viewer sees it after a change the workflow made itself: `row` and
/// `facts` are the changed record, so nothing is loaded again.
pub fn redecide_changed(
    caller: &crate::service::context::Caller,
    before: &crate::service::access::Decided,
    row: &ClientRow,
    facts: &crate::consent::RecordFacts,
) -> crate::error::AppResult<Option<ClientView>> {
    let decision = crate::consent::decide_record(&before.viewer, facts, caller.today);
    if decision.level == AccessLevel::None {
        return Ok(None);
    }
    client_view(row, &before.viewer, &decision, None).map(Some)
}

pub fn redecide(
    conn: &mut diesel::PgConnection,
    caller: &crate::service::context::Caller,
    before: &crate::service::access::Decided,
    id: Uuid,
) -> crate::error::AppResult<Option<ClientView>> {
    let (row, _, facts) =
        crate::service::access::load_facts(conn, id)?.ok_or(crate::error::AppError::NotFound)?;
    let decision = crate::consent::decide_record(&before.viewer, &facts, caller.today);
    if decision.level == AccessLevel::None {
        return Ok(None);
    }
    client_view(&row, &before.viewer, &decision, None).map(Some)
}
