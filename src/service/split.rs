//! The ROI job aid's split procedure, for CoCs whose policy `roi_grant_mode` is `split`: what
//! staff did by hand (a "DO NOT USE" record, exits, a new "SHARED" record, new stays), done in
//! one transaction.

use chrono::{NaiveDate, Utc};
use diesel::PgConnection;
use uuid::Uuid;

use crate::consent::{Lifecycle, Visibility};
use crate::domain::destination_for_project_type;
use crate::error::{AppError, AppResult};
use crate::repo::clients::{self as repo, ClientRow};
use crate::repo::stays::{self as stays_repo, EnrollmentRow};
use crate::repo::tenants as tenants_repo;
use crate::service::context::Caller;

/// A new record for `agency`, copying `old`'s identity; `old` becomes superseded by it.
/// The aliases a split writes (the ROI job aid's words): the record a grant leaves behind, the
/// record a revocation leaves behind, the new closed record of a revocation, and (with the ROI
/// date after it) the new open record of a grant.
pub const ALIAS_DO_NOT_USE: &str = "DO NOT USE";
pub const ALIAS_REVOKED: &str = "DO NOT USE - CLIENT REVOKED CONSENT";
pub const ALIAS_CLOSED: &str = "CLOSED - USE THIS FILE";
pub const ALIAS_SHARED_PREFIX: &str = "SHARED - ROI ";

/// Whether an alias is one a split wrote: Hearth's words, not the client's.
pub fn is_split_alias(alias: &str) -> bool {
    let a = alias.trim();
    [ALIAS_DO_NOT_USE, ALIAS_REVOKED, ALIAS_CLOSED].contains(&a)
        || a.strip_prefix(ALIAS_SHARED_PREFIX)
            .is_some_and(|d| crate::domain::dates::parse_date(d).is_some())
}

pub fn split_record(
    conn: &mut PgConnection,
    caller: &Caller,
    old: &ClientRow,
    agency: Uuid,
    new_visibility: Visibility,
    new_alias: String,
    old_alias: &str,
) -> AppResult<ClientRow> {
    let now = Utc::now();
    let mut new = old.clone();
    new.id = Uuid::now_v7();
    new.short_uid = crate::service::clients::new_short_uid(conn)?;
    // Anonymous records are named after their own UID.
    if old.identity.first_name.as_deref() == Some(old.short_uid.as_str()) {
        new.identity.first_name = Some(new.short_uid.clone());
    }
    new.created_by_agency = agency;
    new.created_by_user = caller.principal.sub.clone();
    new.visibility = new_visibility;
    new.lifecycle = Lifecycle::Active;
    new.superseded_by = None;
    new.merged_into = None;
    new.identity.alias = Some(new_alias);
    new.version = 1;
    new.created_at = now;
    new.updated_at = now;
    let new = repo::insert(conn, &new)?;
    repo::add_contributor(conn, new.id, agency)?;
    let mut old_row = old.clone();
    old_row.identity.alias = Some(old_alias.into());
    if old_row.visibility == Visibility::Open {
        old_row.visibility = Visibility::Closed;
    }
    old_row.lifecycle = Lifecycle::Superseded;
    old_row.superseded_by = Some(new.id);
    repo::update(conn, &old_row)?;
    caller.audit(
        conn,
        Some(old.id),
        "split_superseded",
        None,
        Some(serde_json::json!({"superseded_by": new.id})),
    )?;
    caller.audit(
        conn,
        Some(new.id),
        "split_created",
        None,
        Some(serde_json::json!({"split_from": old.id})),
    )?;
    Ok(new)
}

/// Exits `agency`'s open stays in `old` on `on` (or on the stay's entry date, for a stay that
/// began after `on`), with the destination that matches each project's type, and opens the
/// same stays in `new` from that day, flagged for a new entry assessment. Answers the day
/// written for each stay moved.
pub fn move_open_stays(
    conn: &mut PgConnection,
    caller: &Caller,
    old: Uuid,
    new: Uuid,
    agency: Uuid,
    on: NaiveDate,
) -> AppResult<Vec<NaiveDate>> {
    let open = stays_repo::lock_open_stays_of_agency(conn, old, agency)?;
    let mut days = Vec::with_capacity(open.len());
    for stay in &open {
        let (project, _) =
            tenants_repo::find_project(conn, stay.project_id)?.ok_or(AppError::NotFound)?;
        let day = on.max(stay.entry_date);
        let mut exited = stay.clone();
        exited.exit_date = Some(day);
        let (destination, subsidy) = destination_for_project_type(project.project_type as i32);
        exited.destination = Some(destination as i16);
        exited.destination_subsidy_type = subsidy.map(|s| s as i16);
        stays_repo::update_enrollment(conn, &exited)?;
        // A household of this person alone starts anew with the new record: its id would tie
        // the new record to the superseded one for whoever sees both stays (the ROI job aid: a
        // new record and a new entry). A household with others' open stays keeps them together.
        let with_others = stays_repo::household(conn, stay.household_id)?
            .iter()
            .any(|m| m.client_id != old && m.exit_date.is_none());
        let (household_id, relationship_to_hoh) = if with_others {
            (stay.household_id, stay.relationship_to_hoh)
        } else {
            (Uuid::now_v7(), 1)
        };
        let now = Utc::now();
        let reopened = EnrollmentRow {
            id: Uuid::now_v7(),
            client_id: new,
            household_id,
            relationship_to_hoh,
            entry_date: day,
            exit_date: None,
            destination: None,
            destination_subsidy_type: None,
            entry_assessment_required: true,
            // Nothing of the old entry assessment: it was collected before the ROI (the ROI job
            // aid: "no data entered on [the old record]'s assessments will be visible within
            // this new client record"; complete the project's entry assessment again).
            living_situation: None,
            length_of_stay: None,
            los_under_threshold: None,
            previous_street_essh: None,
            date_to_street_essh: None,
            times_homeless_past_three_years: None,
            months_homeless_past_three_years: None,
            entered_by_user: caller.principal.sub.clone(),
            collected_on: day,
            version: 1,
            created_at: now,
            updated_at: now,
            ..stay.clone()
        };
        stays_repo::insert_enrollment(conn, &reopened)?;
        days.push(day);
    }
    Ok(days)
}

/// The days a split wrote, in words: "on 2026-11-01" or "on 2026-11-01 (2), 2026-11-20 (1)".
pub fn moved_on(days: &[NaiveDate]) -> String {
    let mut distinct = days.to_vec();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() == 1 {
        return format!("on {}", distinct[0]);
    }
    let parts: Vec<String> = distinct
        .iter()
        .map(|d| format!("{d} ({})", days.iter().filter(|x| *x == d).count()))
        .collect();
    format!("on {}", parts.join(", "))
}

#[cfg(test)]
mod alias_tests {
    use super::is_split_alias;

    #[test]
    fn the_aliases_a_split_writes_are_known_and_others_are_not() {
        for a in [
            "DO NOT USE",
            "CLOSED - USE THIS FILE",
            "DO NOT USE - CLIENT REVOKED CONSENT",
            "SHARED - ROI 2026-11-01",
        ] {
            assert!(is_split_alias(a), "{a}");
        }
        for a in ["Shorty", "SHARED - ROI soon", "DO NOT USE ME", "Do Not Use"] {
            assert!(!is_split_alias(a), "{a}");
        }
    }
}
