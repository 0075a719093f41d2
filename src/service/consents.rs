//! ROI consents: grant (window mode), history, revocation with the ROI job aid's two scenarios.

use chrono::{DateTime, Months, NaiveDate, Utc};
use diesel::{Connection, PgConnection};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::consent::guards::{has_roi_not_ended, open_warnings, roi_not_ended};
use crate::consent::{AccessLevel, IdentityMode, Visibility};
use crate::domain::CocCode;
use crate::error::{AppError, AppResult, FieldError};
use crate::repo::audit::{self as audit_repo, NoticeRow};
use crate::repo::clients::{self as repo, RoiRow};
use crate::repo::tenants as tenants_repo;
use crate::service::access::{decide, Decided};
use crate::service::client_input::no_pii_text;
use crate::service::client_view::{redecide, redecide_changed, ClientView};
use crate::service::context::Caller;
use crate::service::split::{self, move_open_stays, moved_on, split_record};
use crate::service::tenants::{CocPolicy, RoiGrantMode};

pub use crate::domain::words::RoiMethod;

/// Whom the client consents to share with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum RoiScopeBody {
    /// Every sharing agency of the installation. A struct variant with no fields, so that a
    /// stray field (`coc_codes` on a statewide scope) is refused like any unknown field; a unit
    /// variant would ignore it.
    Statewide {},
    /// Only the listed CoCs.
    Cocs { coc_codes: Vec<String> },
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRoi {
    /// The day the ROI takes effect (default today). Data collected from this day on is shared.
    pub effective_from: Option<NaiveDate>,
    /// The first day it no longer holds. Left out: the CoC's `roi_default_term_months` sets it
    /// (none where the CoC sets no term). `null`: the ROI is indefinite, whatever the CoC's
    /// default term.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<NaiveDate>, required = false)]
    pub expires_on: Option<Option<NaiveDate>>,
    /// Default statewide.
    pub scope: Option<RoiScopeBody>,
    pub method: RoiMethod,
    /// Where the signed form is kept, or who witnessed verbal consent. No client PII.
    pub documentation_note: Option<String>,
}

/// A field that may be left out or sent as `null`, apart: `None` when left out (with
/// `#[serde(default)]`), `Some(None)` for `null`.
fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RoiView {
    pub id: Uuid,
    pub client_id: Uuid,
    pub recording_agency_id: Uuid,
    pub effective_from: NaiveDate,
    pub expires_on: Option<NaiveDate>,
    pub revoked_on: Option<NaiveDate>,
    pub scope: RoiScopeBody,
    pub method: RoiMethod,
    /// Active today (in its window, not revoked, not expired).
    pub active: bool,
    /// Free text: shown at level full only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub documentation_note: Option<String>,
    pub created_at: DateTime<Utc>,
}

pub fn roi_view(r: &RoiRow, today: NaiveDate, full: bool) -> RoiView {
    RoiView {
        id: r.id,
        client_id: r.client_id,
        recording_agency_id: r.recording_agency_id,
        effective_from: r.effective_from,
        expires_on: r.expires_on,
        revoked_on: r.revoked_on,
        scope: if r.scope_statewide {
            RoiScopeBody::Statewide {}
        } else {
            RoiScopeBody::Cocs {
                coc_codes: r.scope_cocs.clone(),
            }
        },
        method: r.method,
        active: crate::service::access::roi_facts(r).is_active(today),
        documentation_note: if full {
            r.documentation_note.clone()
        } else {
            None
        },
        created_at: r.created_at,
    }
}

/// Validates an ROI for `client` and builds its row. `prefix` names the body path (`roi.`).
pub fn build_roi(
    conn: &mut PgConnection,
    caller: &Caller,
    client: Uuid,
    mode: IdentityMode,
    policy: &CocPolicy,
    input: &NewRoi,
    prefix: &str,
) -> AppResult<RoiRow> {
    let agency = caller.principal.agency_id.ok_or_else(|| {
        AppError::Forbidden("Recording an ROI needs a token for an agency.".into())
    })?;
    let mut errs = Vec::new();
    let from = input.effective_from.unwrap_or(caller.today);
    let expires = match input.expires_on {
        // Sent: a date, or null for an indefinite ROI.
        Some(sent) => sent,
        None => policy
            .roi_default_term_months
            .and_then(|m| from.checked_add_months(Months::new(m as u32))),
    };
    if expires.is_some_and(|e| e <= from) {
        errs.push(FieldError::new(
            format!("{prefix}expires_on"),
            "roi_ends_before_it_starts",
            "expires_on must be after effective_from.",
        ));
    }
    if from < NaiveDate::from_ymd_opt(1990, 1, 1).unwrap_or(from) {
        errs.push(FieldError::new(
            format!("{prefix}effective_from"),
            "out_of_range",
            "effective_from is too early.",
        ));
    }
    let (statewide, cocs) = match input.scope.clone().unwrap_or(RoiScopeBody::Statewide {}) {
        RoiScopeBody::Statewide {} => (true, vec![]),
        RoiScopeBody::Cocs { coc_codes } => {
            if coc_codes.is_empty() {
                errs.push(FieldError::new(
                    format!("{prefix}scope.coc_codes"),
                    "required",
                    "Name at least one CoC.",
                ));
            }
            let mut out = Vec::new();
            for (i, c) in coc_codes.iter().enumerate() {
                let field = format!("{prefix}scope.coc_codes[{i}]");
                match CocCode::parse(c) {
                    Err(e) => errs.push(FieldError::new(field, e.code, e.message)),
                    Ok(code) => {
                        if tenants_repo::find_coc(conn, code.as_str())?.is_none() {
                            errs.push(FieldError::new(
                                field,
                                "unknown_coc",
                                "No CoC has this code.",
                            ));
                        } else if out.contains(&code.as_str().to_string()) {
                            // Listed twice: a typo for another CoC, most likely.
                            errs.push(FieldError::new(
                                field,
                                "duplicate",
                                "This CoC is already listed in coc_codes.",
                            ));
                        } else {
                            out.push(code.as_str().to_string());
                        }
                    }
                }
            }
            (false, out)
        }
    };
    // Described as holding no client PII, so scanned whatever the record's identity mode.
    let _ = mode;
    let note = no_pii_text(
        &format!("{prefix}documentation_note"),
        &input.documentation_note,
        &mut errs,
    );
    if !errs.is_empty() {
        return Err(AppError::Validation(errs));
    }
    Ok(RoiRow {
        id: Uuid::now_v7(),
        client_id: client,
        recording_agency_id: agency,
        recorded_by_user: caller.principal.sub.clone(),
        effective_from: from,
        expires_on: expires,
        revoked_on: None,
        scope_statewide: statewide,
        scope_cocs: cocs,
        method: input.method,
        documentation_note: note,
        revoked_by_user: None,
        revoked_by_agency_id: None,
        created_at: Utc::now(),
    })
}

pub fn load_policy(conn: &mut PgConnection, coc: &str) -> AppResult<CocPolicy> {
    let row = tenants_repo::find_coc(conn, coc)?
        .ok_or_else(|| AppError::Internal("record's CoC missing".into()))?;
    Ok(CocPolicy::from_row(&row))
}

/// What a workflow changed, in words, and what the caller should know.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ConsentOutcome {
    pub consent: RoiView,
    /// The record as the caller sees it now (null if the change ended the caller's access).
    pub client: Option<ClientView>,
    pub changes: Vec<String>,
    pub warnings: Vec<String>,
    /// For a revocation: `creating_agency_only` (scenario 1: the record closed) or
    /// `other_agencies_have_data` (scenario 2: the record closed, other agencies keep their data
    /// as contributors), or `another_roi_active` (another ROI of the record has not ended, so the
    /// record stays open for that ROI's scope).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<crate::domain::contract_words::RevocationScenario>)]
    pub scenario: Option<String>,
    /// The helpdesk notice the server recorded for the CoC admins, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub helpdesk_notice_id: Option<Uuid>,
    /// Split mode: the old record, now superseded ("DO NOT USE"); `client` is the new one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub superseded_client_id: Option<Uuid>,
}

/// Split mode (ROI job aid): the old record keeps its data, stays closed and becomes "DO NOT
/// USE"; a new open record ("SHARED", with the ROI date) takes the ROI, and the granting
/// agency's open stays move to it on the ROI date.
fn grant_split(
    conn: &mut PgConnection,
    caller: &Caller,
    d: &Decided,
    policy: &CocPolicy,
    input: &NewRoi,
) -> AppResult<ConsentOutcome> {
    let agency = caller.principal.agency_id.ok_or_else(|| {
        AppError::Forbidden("Recording an ROI needs a token for an agency.".into())
    })?;
    let mut roi = build_roi(
        conn,
        caller,
        Uuid::nil(),
        d.facts.identity,
        policy,
        input,
        "",
    )?;
    // The split exits the client and re-enters it on the ROI date: a day that has not come
    // would write an exit and an entry the API itself refuses (entry_date in_future).
    if roi.effective_from > caller.today {
        return Err(AppError::validation(
            "effective_from",
            "in_future",
            "This CoC grants ROIs in split mode, which exits the client's stays and re-enters it in a new record on the ROI date; that date must have come. Record the ROI on or after its effective_from.",
        ));
    }
    let new = split_record(
        conn,
        caller,
        &d.row,
        agency,
        Visibility::Open,
        format!("{}{}", split::ALIAS_SHARED_PREFIX, roi.effective_from),
        split::ALIAS_DO_NOT_USE,
    )?;
    roi.client_id = new.id;
    let roi = repo::insert_roi(conn, &roi)?;
    let moved = move_open_stays(conn, caller, d.row.id, new.id, agency, roi.effective_from)?;
    let days = moved;
    let moved = days.len();
    let mut changes = vec![
        format!("This record is kept closed with alias DO NOT USE; it keeps its data and is superseded by {}.", new.id),
        format!("New open record {} (alias SHARED - ROI {}) holds the ROI.", new.id, roi.effective_from),
        format!("ROI recorded, effective {}.", roi.effective_from),
    ];
    let mut warnings = vec![
        "Lengths of stay restart in funder reports: the new record's stays begin on the ROI date."
            .to_string(),
    ];
    if moved > 0 {
        // The days written: a stay that began after the ROI date exits and re-enters on its
        // own entry date.
        let on = moved_on(&days);
        changes.push(format!(
            "{moved} open stay(s) of your agency exited {on} with the destination matching the project type, and re-entered in the new record {on}."
        ));
        warnings.push(
            "Complete the project's entry assessment for the new record: assessments in the old record are not visible there."
                .into(),
        );
    }
    if let Some((_, _, facts)) = crate::service::access::load_facts(conn, new.id)? {
        warnings.extend(open_warnings(&facts, caller.today));
    }
    caller.audit(
        conn,
        Some(new.id),
        "roi_granted",
        Some(crate::consent::AccessBasis::CreatingAgency),
        Some(serde_json::json!({"consent_id": roi.id, "effective_from": roi.effective_from, "split_from": d.row.id})),
    )?;
    Ok(ConsentOutcome {
        consent: roi_view(&roi, caller.today, true),
        client: redecide(conn, caller, d, new.id)?,
        changes,
        warnings,
        scenario: None,
        helpdesk_notice_id: None,
        superseded_client_id: Some(d.row.id),
    })
}

/// Records an ROI. One that has not ended opens the record: in `window` mode the record itself
/// (with a warning when the ROI takes effect later or leaves out the record's CoC), in `split`
/// mode a new record. One that has already expired is kept as history and changes nothing else.
pub fn grant(
    conn: &mut PgConnection,
    caller: &Caller,
    client: Uuid,
    input: NewRoi,
) -> AppResult<ConsentOutcome> {
    conn.transaction(|conn| {
        repo::lock(conn, client)?;
        let d = decide(conn, caller, client)?;
        d.require_writable()?;
        let policy = load_policy(conn, &d.row.coc_code)?;
        let roi = build_roi(conn, caller, client, d.facts.identity, &policy, &input, "")?;
        let opens = roi_not_ended(&crate::service::access::roi_facts(&roi), caller.today);
        if opens && policy.roi_grant_mode == RoiGrantMode::Split {
            return grant_split(conn, caller, &d, &policy, &input);
        }
        let roi = repo::insert_roi(conn, &roi)?;
        let mut changes = vec![format!("ROI recorded, effective {}.", roi.effective_from)];
        let mut warnings = Vec::new();
        let mut row = d.row.clone();
        if !opens {
            warnings.push(crate::service::clients::ended_roi_warning(
                &roi,
                row.visibility,
                matches!(
                    d.facts.identity,
                    IdentityMode::ConsentRefused | IdentityMode::Anonymous
                ),
                crate::consent::guards::has_roi_not_ended(&d.facts, caller.today),
            ));
        } else if row.visibility != Visibility::Open {
            changes.push(format!(
                "Visibility changed from {} to open.",
                row.visibility
            ));
            row.visibility = Visibility::Open;
            row = repo::update(conn, &row)?;
        }
        caller.audit(
            conn,
            Some(client),
            "roi_granted",
            d.decision.basis,
            Some(serde_json::json!({"consent_id": roi.id, "effective_from": roi.effective_from})),
        )?;
        // The facts loaded under the lock, with this grant's change: nothing is loaded again.
        let mut facts = d.facts.clone();
        facts.visibility = row.visibility;
        facts.rois.push(crate::service::access::roi_facts(&roi));
        if facts.visibility == Visibility::Open {
            warnings.extend(open_warnings(&facts, caller.today));
        }
        Ok(ConsentOutcome {
            consent: roi_view(&roi, caller.today, true),
            client: redecide_changed(caller, &d, &row, &facts)?,
            changes,
            warnings,
            scenario: None,
            helpdesk_notice_id: None,
            superseded_client_id: None,
        })
    })
}

pub fn list(conn: &mut PgConnection, caller: &Caller, client: Uuid) -> AppResult<Vec<RoiView>> {
    conn.transaction(|conn| {
        let d = decide(conn, caller, client)?;
        let full = d.decision.level == AccessLevel::Full;
        // At full the list carries each ROI's documentation note (free text): a read of the
        // record at full, audited as the other lists are.
        if full && !d.rois.is_empty() {
            caller.audit(conn, Some(client), "consents_read", d.decision.basis, None)?;
        }
        Ok(d.rois
            .iter()
            .map(|r| roi_view(r, caller.today, full))
            .collect())
    })
}

/// One ROI of the record, decided as the history is (`list`); 404 when the record has none of
/// this id.
pub fn get(
    conn: &mut PgConnection,
    caller: &Caller,
    client: Uuid,
    consent: Uuid,
) -> AppResult<RoiView> {
    let d = decide(conn, caller, client)?;
    let full = d.decision.level == AccessLevel::Full;
    d.rois
        .iter()
        .find(|r| r.id == consent)
        .map(|r| roi_view(r, caller.today, full))
        .ok_or(AppError::NotFound)
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevokeRoi {
    /// The day consent ended (default today; not in the future).
    pub revoked_on: Option<NaiveDate>,
}

/// Revokes an ROI. With no other ROI active, the record closes; where other agencies have data
/// (scenario 2) they keep it as contributors, and the server records the helpdesk notice the
/// job aid asked staff to email.
pub fn revoke(
    conn: &mut PgConnection,
    caller: &Caller,
    client: Uuid,
    consent: Uuid,
    input: RevokeRoi,
) -> AppResult<ConsentOutcome> {
    conn.transaction(|conn| {
        repo::lock(conn, client)?;
        let d: Decided = decide(conn, caller, client)?;
        d.require_writable()?;
        let roi = repo::lock_roi(conn, client, consent)?.ok_or(AppError::NotFound)?;
        let on = match input.revoked_on {
            // Consent withdrawn before a future ROI took effect: its window is empty.
            None => caller.today.max(roi.effective_from),
            Some(d) if d < roi.effective_from => {
                return Err(AppError::validation(
                    "revoked_on",
                    "before_effective_from",
                    "revoked_on cannot be before the ROI's effective_from.",
                ))
            }
            Some(d) => d,
        };
        if input.revoked_on.is_some_and(|d| d > caller.today) {
            return Err(AppError::validation("revoked_on", "in_future", "revoked_on cannot be in the future."));
        }
        if roi.revoked_on.is_some() {
            return Err(AppError::conflict("already-revoked", "This ROI was already revoked."));
        }
        if roi.expires_on.is_some_and(|e| e <= on) {
            return Err(AppError::conflict("already-expired", "This ROI had already expired on that date."));
        }
        let agency = caller.principal.agency_id;
        let roi = repo::revoke_roi(conn, roi.id, on, &caller.principal.sub, agency)?;
        let mut changes = vec![format!("ROI revoked on {on}.")];
        let mut warnings = Vec::new();
        let (_, _, facts) =
            crate::service::access::load_facts(conn, client)?.ok_or_else(|| AppError::Internal("record vanished".into()))?;
        let others: Vec<Uuid> = facts.contributors.iter().copied().filter(|a| *a != facts.creating_agency).collect();
        // consent.md: the record closes "unless another ROI of the record remains active"; one
        // that takes effect later keeps it open too, or revoking one ROI would cancel another.
        let still_open = has_roi_not_ended(&facts, caller.today);
        let scenario = if still_open {
            "another_roi_active"
        } else if others.is_empty() {
            "creating_agency_only"
        } else {
            "other_agencies_have_data"
        };
        let mut row = d.row.clone();
        let mut after = facts.clone();
        if still_open {
            changes.push("Another ROI of the record has not ended: the record stays open under it, for that ROI's scope.".into());
            if row.visibility == Visibility::Open {
                warnings.extend(open_warnings(&facts, caller.today));
            }
        } else if row.visibility == Visibility::Open {
            row.visibility = Visibility::Closed;
            row = repo::update(conn, &row)?;
            after.visibility = Visibility::Closed;
            changes.push("Visibility changed from open to closed.".into());
        }
        warnings.extend(
            crate::consent::ce::leaves_priority_list(&[&d.facts], &after, caller.today)
                .map(String::from),
        );
        let agencies = |n: usize| format!("{n} other agenc{}", if n == 1 { "y" } else { "ies" });
        let message = if still_open {
            "ROI revoked; another ROI of the record has not ended, so the record stays open for that ROI's scope. Nothing needs closing.".to_string()
        } else if others.is_empty() {
            "ROI revoked; the record is closed and only the creating agency has access to it.".to_string()
        } else {
            changes.push(format!(
                "{} keep access to the data they entered, as contributors; data entered from now on stays with whoever enters it.",
                agencies(others.len())
            ));
            warnings.push(
                "Other agencies have data in this record and keep access to it as contributors; the client should be told."
                    .into(),
            );
            format!(
                "ROI revoked on a record with data from {}; the record was closed to statewide sharing.",
                agencies(others.len())
            )
        };
        // Split mode, scenario 2: the revoking agency goes on in a new closed record, and the old
        // one is marked for everyone (ROI job aid).
        let policy = load_policy(conn, &row.coc_code)?;
        let split = if !others.is_empty() && !still_open && policy.roi_grant_mode == RoiGrantMode::Split {
            let agency = agency.ok_or_else(|| AppError::Forbidden("A split needs a token for an agency.".into()))?;
            let new = split_record(
                conn,
                caller,
                &row,
                agency,
                Visibility::Closed,
                split::ALIAS_CLOSED.into(),
                split::ALIAS_REVOKED,
            )?;
            // A revocation of an ROI that had not taken effect yet is dated on its
            // effective_from; the stays move today, not on a day still to come.
            let days = move_open_stays(conn, caller, client, new.id, agency, on.min(caller.today))?;
            changes.push(format!(
                "Split: this record is marked DO NOT USE - CLIENT REVOKED CONSENT; your agency goes on in the new closed record {} (CLOSED - USE THIS FILE).",
                new.id
            ));
            if !days.is_empty() {
                let on = moved_on(&days);
                changes.push(format!("{} open stay(s) of your agency exited {on} and re-entered in the new record {on}.", days.len()));
            }
            Some(new.id)
        } else {
            None
        };
        let notice = NoticeRow {
            id: Uuid::now_v7(),
            coc_code: row.coc_code.to_string(),
            client_id: Some(client),
            kind: format!("roi_revoked_{scenario}"),
            message,
            created_by_agency: agency,
            created_at: Utc::now(),
        };
        audit_repo::add_notice(conn, &notice)?;
        caller.audit(
            conn,
            Some(client),
            "roi_revoked",
            d.decision.basis,
            Some(serde_json::json!({"consent_id": roi.id, "revoked_on": on, "scenario": scenario})),
        )?;
        Ok(ConsentOutcome {
            consent: roi_view(&roi, caller.today, true),
            client: redecide(conn, caller, &d, split.unwrap_or(client))?,
            changes,
            warnings,
            scenario: Some(scenario.into()),
            helpdesk_notice_id: Some(notice.id),
            superseded_client_id: split.map(|_| client),
        })
    })
}

#[cfg(test)]
mod scope_tests {
    use super::RoiScopeBody;

    #[test]
    fn a_statewide_scope_takes_no_coc_codes() {
        let read = |s: &str| serde_json::from_str::<RoiScopeBody>(s);
        assert_eq!(
            read(r#"{"type": "statewide"}"#).unwrap(),
            RoiScopeBody::Statewide {}
        );
        assert!(read(r#"{"type": "statewide", "coc_codes": ["IL-510"]}"#).is_err());
        assert!(read(r#"{"type": "cocs", "coc_codes": ["IL-510"], "x": 1}"#).is_err());
        assert_eq!(
            serde_json::to_value(RoiScopeBody::Statewide {}).unwrap(),
            serde_json::json!({"type": "statewide"})
        );
    }
}
