//! Merging two records of one person (Spokane job aid; consent.md "Merge"): in one transaction
//! every stay, datum, contact, document, ROI and contribution of the duplicate moves to the
//! survivor, the duplicate becomes a tombstone naming the survivor, the survivor takes the more
//! restrictive visibility, and both records share one `person_id`.

use diesel::{Connection, PgConnection};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::consent::ce::leaves_priority_list;
use crate::consent::merge::{
    agencies_gaining_data_of, contributors_gaining_full, identities_may_merge, may_merge,
    may_merge_while_pending, merged_visibility, restricted_records_stay_unshared,
    visibility_change_reason, PendingDeidentification,
};
use crate::consent::{Lifecycle, Visibility};
use crate::error::{AppError, AppResult};
use crate::repo::clients as clients_repo;
use crate::repo::deidentify as deidentify_repo;
use crate::repo::merge as repo;
use crate::service::access::decide;
use crate::service::client_view::{redecide, ClientView};
use crate::service::context::Caller;

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeClients {
    /// The record to merge into this one; it becomes a tombstone naming this record.
    pub duplicate_id: Uuid,
    /// Must be `true`: the caller confirms both records are the same person.
    pub confirm_same_person: Option<bool>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MergeOutcome {
    /// The survivor as the caller sees it now.
    pub client: Option<ClientView>,
    /// The duplicate, now a tombstone (`lifecycle: merged`).
    pub merged_client_id: Uuid,
    pub changes: Vec<String>,
    pub warnings: Vec<String>,
}

pub fn merge(
    conn: &mut PgConnection,
    caller: &Caller,
    survivor: Uuid,
    input: MergeClients,
    dry_run: bool,
) -> AppResult<MergeOutcome> {
    if input.confirm_same_person != Some(true) {
        return Err(AppError::validation(
            "confirm_same_person",
            "confirmation_required",
            "Confirm that both records are the same person with confirm_same_person: true.",
        ));
    }
    if input.duplicate_id == survivor {
        return Err(AppError::validation(
            "duplicate_id",
            "same_record",
            "A record cannot be merged into itself.",
        ));
    }
    crate::service::dry_run::run_about(conn, dry_run, caller, survivor, |conn| {
        conn.transaction(|conn| merge_in(conn, caller, survivor, input.duplicate_id))
    })
}

fn merge_in(
    conn: &mut PgConnection,
    caller: &Caller,
    survivor: Uuid,
    duplicate: Uuid,
) -> AppResult<MergeOutcome> {
    // Lock in id order so two merges of the same pair cannot deadlock.
    let (first, second) = if survivor < duplicate {
        (survivor, duplicate)
    } else {
        (duplicate, survivor)
    };
    clients_repo::lock(conn, first)?;
    clients_repo::lock(conn, second)?;
    let s = decide(conn, caller, survivor)?;
    let d = decide(conn, caller, duplicate)?;
    s.require_writable()?;
    d.require_writable()?;
    if !may_merge(&s.viewer, s.facts.creating_agency, d.facts.creating_agency) {
        return Err(AppError::Forbidden(
            "An agency_admin merges only records its own agency created; ask a system administrator."
                .into(),
        ));
    }
    if s.row.coc_code != d.row.coc_code {
        return Err(AppError::conflict(
            "different-coc",
            "The records belong to different CoCs; a merge keeps a record in its CoC.",
        ));
    }
    identities_may_merge(s.facts.identity, d.facts.identity)
        .map_err(|r| AppError::conflict(r.code, r.message))?;
    // A pending de-identification of either record is completed or rejected first, but for
    // the merge it asks for (consent::merge::may_merge_while_pending).
    let pending: Vec<PendingDeidentification> =
        deidentify_repo::pending_naming(conn, &[survivor, duplicate])?
            .into_iter()
            .map(|r| PendingDeidentification {
                targets: r.targets(),
                duplicates: r.duplicate_ids,
            })
            .collect();
    may_merge_while_pending(survivor, duplicate, &pending)
        .map_err(|r| AppError::conflict(r.code, r.message))?;
    // A private or locked record is never shown to an agency that could not see it.
    restricted_records_stay_unshared(&s.facts, &d.facts, caller.today)
        .map_err(|r| AppError::conflict(r.code, r.message))?;
    let gaining = contributors_gaining_full(
        s.facts.creating_agency,
        &s.facts.contributors,
        &d.facts.contributors,
    );
    // The other direction: the survivor's creator and contributors see what moves here.
    let gaining_duplicate = agencies_gaining_data_of(&d.facts, &s.facts);
    let moved = repo::move_everything(conn, duplicate, survivor)?;
    let others = repo::contributors(conn, survivor)?
        .into_iter()
        .any(|a| a != s.facts.creating_agency);
    // The survivor's facts with everything moved (stays, ROIs, contributors).
    let mut after = crate::service::access::load_facts(conn, survivor)?
        .map(|(_, _, f)| f)
        .ok_or(AppError::NotFound)?;
    let (visibility, warning) = merged_visibility(
        s.facts.visibility,
        d.facts.visibility,
        others,
        after.active_ce_enrollment,
    );
    after.visibility = visibility;
    let mut changes = vec![format!(
        "Moved to this record: {} stay(s), {} datum(s), {} contact(s), {} document(s), {} ROI(s); {} contributing agenc(ies) added.",
        moved.stays, moved.data, moved.contacts, moved.documents, moved.rois, moved.contributors
    )];
    let mut warnings: Vec<String> = warning.into_iter().map(String::from).collect();
    let mut row = s.row.clone();
    if visibility != s.facts.visibility {
        changes.push(format!(
            "Visibility changed from {} to {}: {}.",
            s.facts.visibility.as_str(),
            visibility.as_str(),
            visibility_change_reason(s.facts.visibility, visibility, warning)
        ));
        row.visibility = visibility;
    }
    clients_repo::update(conn, &row)?;
    if d.row.person_id != s.row.person_id {
        repo::join_person(conn, d.row.person_id, s.row.person_id)?;
        changes.push("Both records now share one person_id.".into());
    }
    let mut tomb = clients_repo::lock(conn, duplicate)?.ok_or(AppError::NotFound)?;
    tomb.lifecycle = Lifecycle::Merged;
    tomb.merged_into = Some(survivor);
    if tomb.visibility == Visibility::Open {
        // Its ROIs moved with it: an open tombstone would be open with none.
        tomb.visibility = Visibility::Closed;
    }
    clients_repo::update(conn, &tomb)?;
    changes.push(format!(
        "Record {duplicate} is now a tombstone (merged) naming this record to whoever may see it."
    ));
    warnings.extend(
        leaves_priority_list(&[&s.facts, &d.facts], &after, caller.today).map(String::from),
    );
    // What the duplicate held of the identity and the survivor does not: the survivor keeps its
    // own identity, so the administrator copies these over (PATCH) if they belong. Field names
    // only, never values.
    let lacking: Vec<&str> = [
        (
            "ssn",
            s.row.identity.ssn.is_none() && d.row.identity.ssn.is_some(),
        ),
        (
            "dob",
            s.row.identity.dob.is_none() && d.row.identity.dob.is_some(),
        ),
    ]
    .into_iter()
    .filter_map(|(f, lacks)| lacks.then_some(f))
    .collect();
    if !lacking.is_empty() {
        warnings.push(format!(
            "The duplicate had {} and this record has none; the merge keeps this record's identity, so copy them over with PATCH /v1/clients/{survivor} if they belong.",
            lacking.join(" and ")
        ));
    }
    if !gaining.is_empty() {
        let names = crate::repo::tenants::agency_names(conn, &gaining)?;
        warnings.push(format!(
            "Agencies that contributed to the duplicate and not to this record now contribute to this record and see it in full, its identity included (consent.md row 5): {}.",
            names.join(", ")
        ));
    }
    if !gaining_duplicate.is_empty() {
        let names = crate::repo::tenants::agency_names(conn, &gaining_duplicate)?;
        warnings.push(format!(
            "Agencies that created or contributed to this record and not to the duplicate now see the duplicate's data moved here (its stays, data, contacts and documents) as this record's creator or contributors (consent.md rows 2 and 5), where only an ROI could have shared it with them before: {}.",
            names.join(", ")
        ));
    }
    if s.facts.identity != d.facts.identity {
        warnings.push(format!(
            "The records had different identity modes ({} and {}); this record keeps its own.",
            s.facts.identity.as_str(),
            d.facts.identity.as_str()
        ));
    }
    caller.audit(
        conn,
        Some(duplicate),
        "merged_into",
        d.decision.basis,
        Some(serde_json::json!({"survivor_id": survivor})),
    )?;
    caller.audit(
        conn,
        Some(survivor),
        "merged_from",
        s.decision.basis,
        Some(serde_json::json!({"merged_client_id": duplicate})),
    )?;
    Ok(MergeOutcome {
        client: redecide(conn, caller, &s, survivor)?,
        merged_client_id: duplicate,
        changes,
        warnings,
    })
}
