//! Loads a record's consent facts and asks the engine. The one place a single read is decided.

use diesel::PgConnection;
use uuid::Uuid;

use crate::consent::{
    decide_record, AccessBasis, AccessDecision, AccessLevel, Lifecycle, RecordFacts, RoiFacts,
    RoiScope, Viewer,
};
use crate::domain::scrub::Needles;
use crate::error::{AppError, AppResult, FieldError};
use crate::repo::clients::{self as repo, ClientRow, RoiRow};
use crate::service::context::Caller;

/// A record as the engine sees it, with the decision for one viewer.
#[derive(Clone)]
pub struct Decided {
    pub row: ClientRow,
    pub rois: Vec<RoiRow>,
    pub facts: RecordFacts,
    pub viewer: Viewer,
    pub decision: AccessDecision,
    /// The superseding or surviving record, if this viewer may know it.
    pub successor: Option<Uuid>,
    /// For a superseded record: whether the agency that split it is the one that created it
    /// (the wording of the 409 on a write).
    pub split_by_creator: bool,
}

pub fn roi_facts(r: &RoiRow) -> RoiFacts {
    RoiFacts {
        effective_from: r.effective_from,
        expires_on: r.expires_on,
        revoked_on: r.revoked_on,
        scope: if r.scope_statewide {
            RoiScope::Statewide
        } else {
            RoiScope::Cocs(r.scope_cocs.clone())
        },
    }
}

/// The record's facts, or `None` when no record has this id.
pub fn load_facts(
    conn: &mut PgConnection,
    id: Uuid,
) -> AppResult<Option<(ClientRow, Vec<RoiRow>, RecordFacts)>> {
    let Some(f) = repo::record_facts_of(conn, id)? else {
        return Ok(None);
    };
    let row = f.client;
    let rois: Vec<RoiRow> = f.rois;
    let (contributors, active_ce, locked_visible) = (
        f.contributors,
        f.active_ce_enrollment,
        f.locked_visible_to_ce_assessors,
    );
    let facts = RecordFacts {
        creating_agency: row.created_by_agency,
        coc_code: row.coc_code.to_string(),
        visibility: row.visibility,
        identity: row.identity_mode,
        lifecycle: row.lifecycle,
        rois: rois.iter().map(roi_facts).collect(),
        contributors,
        active_ce_enrollment: active_ce,
        locked_visible_to_ce_assessors: locked_visible,
    };
    Ok(Some((row, rois, facts)))
}

/// A break-glass reason is stored with every audit row of the access: it must not name the
/// client (names, alias, SSN, DOB, as the de-identification scrubber finds them in text).
/// Checked only at basis `helpdesk`, where the caller sees the record's PII anyway, so the answer
/// tells nobody else anything about the record.
pub fn require_reason_not_naming(
    caller: &Caller,
    basis: Option<AccessBasis>,
    row: &ClientRow,
) -> AppResult<()> {
    if basis != Some(AccessBasis::Helpdesk) || caller.access_reason.is_none() {
        return Ok(());
    }
    caller.require_reason_free_of(&identity_needles([row]))
}

/// The identifying values of records (names, alias, SSN, DOB; an anonymous record's generated
/// names are none of them), as the de-identification scrubber finds them in text.
pub fn identity_needles<'a>(rows: impl IntoIterator<Item = &'a ClientRow>) -> Needles {
    let mut n = Needles::default();
    for row in rows {
        let mut identity = row.identity.clone();
        // The aliases a split writes are Hearth's words ("DO NOT USE", "CLOSED - USE THIS
        // FILE"), not the client's: a reason may say "client", "use" or "file".
        if identity
            .alias
            .as_deref()
            .is_some_and(crate::service::split::is_split_alias)
        {
            identity.alias = None;
        }
        n.add_identity(
            &identity,
            row.identity_mode == crate::consent::IdentityMode::Anonymous,
        );
    }
    n
}

/// A break-glass reason is stored in the audit rows of every record the access reaches, and
/// audit rows hold no PII: besides the names of the record it is given on, it must not name
/// any other client (a first and last name of a record, as written in the reason: "Maria Lopez
/// called", "Lopez, Maria", "Maria-Lopez", "Maria_Lopez"; `domain::scrub::name_pairs`). Checked for a system administrator, who may see every record, so
/// the 400 tells nobody anything new. The answer never echoes the value.
pub fn require_reason_names_no_client(conn: &mut PgConnection, caller: &Caller) -> AppResult<()> {
    let Some(reason) = caller.access_reason.as_deref() else {
        return Ok(());
    };
    if !caller.principal.is_system_admin() {
        return Ok(());
    }
    if names_any_client(conn, reason)? {
        return Err(AppError::BadRequest(
            "X-Access-Reason holds the name of a client; give a ticket number or a plain reason, and refer to clients by id.".into(),
        ));
    }
    Ok(())
}

/// Free text about the records of a request (a de-identification request's description, a
/// rejection's reason) must not name them, as a break-glass reason must not
/// (`require_reason_not_naming`): their names, alias, SSN or date of birth. `rows` are the
/// records the caller sees in full, so the answer tells it nothing it does not know. The error
/// names the field, never the value.
pub fn require_text_not_naming(field: &str, text: &str, rows: &[&ClientRow]) -> Option<FieldError> {
    identity_needles(rows.iter().copied())
        .found_in(text)
        .then(|| {
            FieldError::new(
                field,
                "names_the_client",
                format!("{field} holds personal identifying information of a client in the request (a name, alias, SSN or date of birth); refer to clients by id."),
            )
        })
}

/// Whether `text` holds a first and last name of some client of the installation, as two words
/// in a row in either order (`domain::scrub::name_pairs`, then `repo::clients::any_client_named`).
/// Asked only of a writer who may see every record (a system administrator), since the answer
/// tells whether anyone bears a name.
fn names_any_client(conn: &mut PgConnection, text: &str) -> AppResult<bool> {
    let pairs = crate::domain::scrub::name_pairs(text);
    Ok(!pairs.is_empty() && repo::any_client_named(conn, &pairs)?)
}

/// A rejection's reason, written by a system administrator and read by the filing agency and
/// the CoC's admins (who see the records without PII), must not name any client by first and
/// last name: the break-glass reason's test (`names_any_client`). The refusal names the field,
/// never the value nor a record.
pub fn require_text_names_no_client(
    conn: &mut PgConnection,
    field: &str,
    text: &str,
) -> AppResult<Option<FieldError>> {
    if !names_any_client(conn, text)? {
        return Ok(None);
    }
    Ok(Some(FieldError::new(
        field,
        "names_a_client",
        format!("{field} holds the name of a client; refer to clients by id, and give a ticket number or a plain reason."),
    )))
}

/// Decides the caller's access to record `id`. Level none answers 404, exactly as an unknown id.
/// A system administrator's (break-glass) access to a record needs `X-Access-Reason`, whatever
/// the endpoint: every answer about a record may carry PII.
pub fn decide(conn: &mut PgConnection, caller: &Caller, id: Uuid) -> AppResult<Decided> {
    let d = decide_unaudited_reason(conn, caller, id)?;
    caller.require_reason_for(&d.decision)?;
    require_reason_names_no_client(conn, caller)?;
    Ok(d)
}

/// As `decide`, for a write: first takes the record's row lock (`FOR UPDATE`, as a merge, a
/// split or a de-identification takes it), so the lifecycle and facts decided on hold until the
/// write commits. A write that waited for a merge of the record sees it merged (409
/// `record-merged`) instead of attaching its row to the tombstone.
pub fn decide_locked(conn: &mut PgConnection, caller: &Caller, id: Uuid) -> AppResult<Decided> {
    repo::lock(conn, id)?;
    decide(conn, caller, id)
}

/// The caller's access level to record `id` now, for authorizing an idempotent replay again:
/// 404 when it has none, 403 for a break-glass read without a reason.
pub fn access_level_now(
    conn: &mut PgConnection,
    caller: &Caller,
    id: Uuid,
) -> AppResult<crate::consent::AccessLevel> {
    Ok(decide(conn, caller, id)?.decision.level)
}

/// The caller's access level to record `id` for an answer that shows the record again (an
/// idempotent replay, `replay`; a dry run, `dry_run`): at level full it is a read of the
/// record's PII, audited as `action` (consent.md: every read at full is audited).
pub fn audit_full_read(
    conn: &mut PgConnection,
    caller: &Caller,
    id: Uuid,
    action: &str,
) -> AppResult<crate::consent::AccessLevel> {
    let d = decide(conn, caller, id)?;
    if d.decision.level == AccessLevel::Full {
        caller.audit(conn, Some(id), action, d.decision.basis, None)?;
    }
    Ok(d.decision.level)
}

/// As `decide`, without the break-glass reason: only for answers that hold no PII (the access
/// explanation, the audit trail).
pub fn decide_unaudited_reason(
    conn: &mut PgConnection,
    caller: &Caller,
    id: Uuid,
) -> AppResult<Decided> {
    let viewer = caller.viewer(conn)?;
    decide_for(conn, caller, viewer, id)
}

pub fn decide_for(
    conn: &mut PgConnection,
    caller: &Caller,
    viewer: Viewer,
    id: Uuid,
) -> AppResult<Decided> {
    let (row, rois, facts) = load_facts(conn, id)?.ok_or(AppError::NotFound)?;
    let decision = decide_record(&viewer, &facts, caller.today);
    if decision.level == AccessLevel::None {
        return Err(AppError::NotFound);
    }
    require_reason_not_naming(caller, decision.basis, &row)?;
    let (successor, split_by_creator) = successor_for(conn, &viewer, &row, caller.today)?;
    Ok(Decided {
        row,
        rois,
        facts,
        viewer,
        decision,
        successor,
        split_by_creator,
    })
}

/// The record to use instead of a superseded or merged one, as far as this viewer may know it
/// (a split names its new record as `consent::knows_split_successor` says; a merge names the
/// survivor to whoever may see the survivor), and whether a split was made by the record's
/// creating agency. Every answer that shows a record's `superseded_by` or `merged_into` asks
/// here (a single read, a search hit).
pub fn successor_for(
    conn: &mut PgConnection,
    viewer: &Viewer,
    row: &ClientRow,
    today: chrono::NaiveDate,
) -> AppResult<(Option<Uuid>, bool)> {
    if row.merged_into.is_some() {
        return Ok((merged_survivor_for(conn, viewer, row.id, today)?, false));
    }
    let Some(next) = row.superseded_by else {
        return Ok((None, false));
    };
    let Some((next_row, _, next_facts)) = load_facts(conn, next)? else {
        return Ok((None, false));
    };
    let level = decide_record(viewer, &next_facts, today).level;
    let known = crate::consent::knows_split_successor(
        viewer,
        row.created_by_agency,
        next_row.created_by_agency,
        level,
    );
    Ok((
        known.then_some(next),
        next_row.created_by_agency == row.created_by_agency,
    ))
}

/// The record to use instead of merged tombstone `id`: the final survivor of its `merged_into`
/// chain (b merged into a, then a into c: c, the live record, not a), when this viewer may see
/// it (consent.md: a merged record names the survivor to whoever may see the survivor); `None`
/// otherwise, so nothing confirms the tombstone to anyone else.
pub fn merged_survivor_for(
    conn: &mut PgConnection,
    viewer: &Viewer,
    id: Uuid,
    today: chrono::NaiveDate,
) -> AppResult<Option<Uuid>> {
    let Some(last) = repo::final_survivor(conn, id)? else {
        return Ok(None);
    };
    let Some((_, _, facts)) = load_facts(conn, last)? else {
        return Ok(None);
    };
    Ok((decide_record(viewer, &facts, today).level != AccessLevel::None).then_some(last))
}

/// The answer a read of record `id` gives a viewer at level `none` on it, when `id` is a merged
/// tombstone and the viewer may see the final survivor of its chain (`merged_survivor_for`):
/// its id, lifecycle and `merged_into`. `None` otherwise (the read answers 404, as for an
/// unknown id).
pub fn merged_tombstone_for(
    conn: &mut PgConnection,
    caller: &Caller,
    id: Uuid,
) -> AppResult<Option<crate::service::client_view::MergedTombstoneView>> {
    // Only a tombstone has a final survivor: any other record the caller may not see costs
    // this one lookup on its way to the 404, not a second read of its facts.
    let viewer = caller.viewer(conn)?;
    if merged_survivor_for(conn, &viewer, id, caller.today)?.is_none() {
        return Ok(None);
    }
    let Some((row, _, _)) = load_facts(conn, id)? else {
        return Ok(None);
    };
    let Some(into) = row
        .merged_into
        .filter(|_| row.lifecycle == Lifecycle::Merged)
    else {
        return Ok(None);
    };
    Ok(Some(crate::service::client_view::MergedTombstoneView {
        id,
        lifecycle: Lifecycle::Merged,
        merged_into: into,
        access: crate::service::client_view::NoAccessView {
            level: crate::service::client_view::NoneLevel::None,
            basis: None,
        },
    }))
}

impl Decided {
    /// Writes need full access and an active record (superseded and merged records name the
    /// record to use).
    pub fn require_writable(&self) -> AppResult<()> {
        if self.decision.level != AccessLevel::Full {
            return Err(AppError::Forbidden(
                "Your access to this record is limited (no personal identifying information); you cannot change it.".into(),
            ));
        }
        self.require_active()
    }

    /// Adding stays and data needs full access, or limited access with basis `deidentified`
    /// (consent.md: such a viewer may add stays and data, and so becomes a contributor).
    pub fn require_contributable(&self) -> AppResult<()> {
        if self.decision.level != AccessLevel::Full
            && self.decision.basis != Some(AccessBasis::Deidentified)
        {
            return Err(AppError::Forbidden(
                "Your access to this record is limited (no personal identifying information); you cannot add to it.".into(),
            ));
        }
        self.require_active()
    }

    fn require_active(&self) -> AppResult<()> {
        match self.facts.lifecycle {
            Lifecycle::Active => Ok(()),
            // The detail points to use_record only where this viewer is told it.
            Lifecycle::Superseded => Err(AppError::Conflict {
                code: "record-superseded",
                detail: self.superseded_detail().into(),
                use_record: self.successor,
            }),
            Lifecycle::Merged => Err(AppError::Conflict {
                code: "record-merged",
                detail: match self.successor {
                    Some(_) => "This record was merged; write to the record named in use_record.",
                    None => "This record was merged into another record and takes no more writes; ask the agency that created it or a system administrator which record to use.",
                }
                .into(),
                use_record: self.successor,
            }),
        }
    }

    /// The 409 on a write to a superseded record, in words for this viewer.
    fn superseded_detail(&self) -> &'static str {
        let creator = crate::consent::acts_for(&self.viewer, self.facts.creating_agency);
        match (self.successor, creator, self.split_by_creator) {
            (Some(_), _, _) => "This record is superseded (DO NOT USE); write to the record named in use_record. Your agency may still exit its own open stays here.",
            (None, true, _) => "This record was superseded (DO NOT USE) when another agency split it (an ROI granted or revoked there, ROI job aid); the record that agency goes on in is not shared with your agency. It takes no more writes, except that your agency may exit its own open stays here.",
            (None, false, true) => "This record was superseded (DO NOT USE) and takes no more writes, except that your agency may exit its own open stays here; ask the agency that created it which record to use.",
            (None, false, false) => "This record was superseded (DO NOT USE) and takes no more writes, except that your agency may exit its own open stays here; ask the agency that split it (the one that recorded the client's ROI change) which record to use.",
        }
    }

    /// Exiting a stay the viewer's agency entered: allowed on a superseded record too
    /// (`consent::inactive_record_takes_exit_of_own_stay`), with the access a write needs.
    pub fn require_exit_of_own_stay(&self) -> AppResult<()> {
        if crate::consent::inactive_record_takes_exit_of_own_stay(self.facts.lifecycle) {
            if self.decision.level != AccessLevel::Full
                && self.decision.basis != Some(AccessBasis::Deidentified)
            {
                return Err(AppError::Forbidden(
                    "Your access to this record is limited (no personal identifying information); you cannot add to it.".into(),
                ));
            }
            return Ok(());
        }
        self.require_contributable()
    }

    /// The record as this viewer sees it.
    pub fn view(&self) -> AppResult<crate::service::client_view::ClientView> {
        crate::service::client_view::client_view(
            &self.row,
            &self.viewer,
            &self.decision,
            self.successor,
        )
    }
}
