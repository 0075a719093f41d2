//! What a client payload shows at each access level. At `limited` the PII keys are absent.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::consent::{
    AccessBasis, AccessDecision, AccessLevel, IdentityMode, Lifecycle, Viewer, Visibility,
};
use crate::repo::clients::ClientRow;

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

crate::identity_view! {
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
        /// For a merged record: the record it was merged into (which may itself have been
        /// merged since; a write's 409 `use_record` names the final, live survivor).
        #[serde(skip_serializing_if = "Option::is_none")]
        pub merged_into: Option<Uuid>,
    }
    /// Personal identifying information: present only at level `full`.
    pii ClientPii,
    then {
        pub created_at: DateTime<Utc>,
        pub updated_at: DateTime<Utc>,
        #[serde(skip)]
        pub version: i32,
    }
}

/// A merged tombstone as answered to a viewer whose level on it is `none` but who may see the
/// survivor (consent.md: a merged record "names the survivor to whoever may see the survivor"):
/// its id, that it was merged, and the record it was merged into; nothing else of it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MergedTombstoneView {
    pub id: Uuid,
    /// Always `merged`.
    pub lifecycle: Lifecycle,
    /// The record it was merged into (which may itself have been merged since; a write's 409
    /// `use_record` names the final, live survivor).
    pub merged_into: Uuid,
    /// Level `none`, basis null: the tombstone itself is not shared with the caller.
    pub access: NoAccessView,
}

/// The level of a caller who is not shown the record: always `none` (which also tells this
/// answer from a `ClientView`, whose level is `full` or `limited`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NoneLevel {
    None,
}

/// `access` of an answer that shows nothing of the record: level `none`, basis null.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NoAccessView {
    pub level: NoneLevel,
    /// Always null.
    pub basis: Option<AccessBasis>,
}

/// `GET /v1/clients/{id}`: the record as the caller sees it, or (to a viewer who may not see a
/// merged tombstone but may see its survivor) the tombstone's pointer to the survivor.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(untagged)]
pub enum ClientAnswer {
    Record(Box<ClientView>),
    Merged(MergedTombstoneView),
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
    let pii = full.then(|| {
        let mut pii = ClientPii::of(&row.identity);
        pii.ssn = pii.ssn.as_deref().map(format_ssn);
        pii
    });
    Ok(crate::identity_view_value!(ClientView {
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
        // The direct survivor, to a viewer told the record to use (`successor`: the final
        // survivor of the chain, which this one leads to).
        merged_into: row.merged_into.filter(|_| successor.is_some()),
        created_at: row.created_at,
        updated_at: row.updated_at,
        version: row.version,
    } identity: &row.identity, pii: pii))
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
