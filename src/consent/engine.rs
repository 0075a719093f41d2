//! The record rule and the datum rule of `design/consent.md`.
//!
//! Each row of the record rule is evaluated once; the same evaluation yields
//! both the decision and its reasons, so an explanation can never drift from
//! what was decided. Rows that nearly applied (the viewer qualified, the record
//! did not) leave a sentence that is reported when nothing matches.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::model::{
    AccessBasis, AccessLevel, Lifecycle, RecordFacts, RoiFacts, Role, Viewer, Visibility,
};
// The datum types live with the other facts; they are named here too because
// the datum rule is this module's API.
pub use super::model::{DatumAccess, DatumFacts, DatumKind};
use super::window::DateWindow;

/// The outcome of the record rule for one viewer, record and day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessDecision {
    pub level: AccessLevel,
    /// `None` exactly when `level` is `None`.
    pub basis: Option<AccessBasis>,
    /// The row of the record rule that matched (1-9).
    pub rule: u8,
    /// Plain sentences, free of PII, saying why.
    pub reasons: Vec<String>,
}

impl AccessDecision {
    pub fn explanation(&self) -> String {
        let head = match (self.level, self.basis) {
            (AccessLevel::Full, Some(b)) => {
                format!("Full access (rule {}, basis {}).", self.rule, b.as_str())
            }
            (AccessLevel::Limited, Some(b)) => format!(
                "Limited access, without personal identifying information (rule {}, basis {}).",
                self.rule,
                b.as_str()
            ),
            _ => format!(
                "No access (rule {}): the record is answered as not found.",
                self.rule
            ),
        };
        std::iter::once(head)
            .chain(self.reasons.iter().cloned())
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn grant(
        level: AccessLevel,
        basis: AccessBasis,
        rule: u8,
        record: &RecordFacts,
        mut reasons: Vec<String>,
    ) -> Self {
        // Lifecycle never changes the level; the service refuses the writes.
        let note = match record.lifecycle {
            Lifecycle::Active => None,
            Lifecycle::Superseded => Some(
                "The record is superseded: it stays readable, but writes go to the record that \
                 replaced it.",
            ),
            Lifecycle::Merged => {
                Some("The record was merged into another record and stays readable as a tombstone.")
            }
        };
        reasons.extend(note.map(String::from));
        Self {
            level,
            basis: Some(basis),
            rule,
            reasons,
        }
    }
}

/// Whether an ROI active today covers `coc_code`.
pub fn roi_active_for(record: &RecordFacts, coc_code: &str, today: NaiveDate) -> bool {
    active_roi_for(record, coc_code, today).is_some()
}

/// Visibility `open` and an ROI active today for `coc_code`; an open record
/// whose ROI lapsed is treated as closed without any job flipping it.
pub fn effectively_open_for(record: &RecordFacts, coc_code: &str, today: NaiveDate) -> bool {
    record.visibility == Visibility::Open && roi_active_for(record, coc_code, today)
}

/// Windows of every ROI of the record, revoked and expired ones included,
/// whose scope covers `coc_code`: the datum rule releases data collected
/// inside any of them.
pub fn roi_windows_for(record: &RecordFacts, coc_code: &str) -> Vec<DateWindow> {
    record
        .rois
        .iter()
        .filter(|r| r.scope.covers(coc_code))
        .map(RoiFacts::window)
        .collect()
}

/// The earliest active covering ROI, so the reason names a stable date.
fn active_roi_for<'a>(
    record: &'a RecordFacts,
    coc: &str,
    today: NaiveDate,
) -> Option<&'a RoiFacts> {
    record
        .rois
        .iter()
        .filter(|r| r.is_active(today) && r.scope.covers(coc))
        .min_by_key(|r| r.effective_from)
}

const DATUM_NOTE: &str = "Data entered by other agencies is shown only if it was collected inside \
the window of an ROI that covers your CoC.";

fn visibility_sentence(record: &RecordFacts) -> String {
    match record.visibility {
        Visibility::Open => "The record is open.".into(),
        Visibility::Closed => "The record is closed to statewide data sharing.".into(),
        Visibility::Private => "The record is private: only the creating agency sees it.".into(),
        Visibility::Locked if record.locked_visible_to_ce_assessors => {
            "The record is locked: only the creating agency, the CoC's CE assessors and the CoC \
             lead (without PII) see it."
                .into()
        }
        Visibility::Locked => {
            "The record is locked: only the creating agency and the CoC lead (without PII) see it."
                .into()
        }
    }
}

/// Why no ROI is active for `coc`, judged from the most recent covering ROI.
fn roi_gap_sentence(record: &RecordFacts, coc: &str, today: NaiveDate) -> String {
    if record.rois.is_empty() {
        return "The record has no ROI on file, so the open record is treated as closed.".into();
    }
    let latest = record
        .rois
        .iter()
        .filter(|r| r.scope.covers(coc))
        .max_by_key(|r| r.effective_from);
    let Some(roi) = latest else {
        return format!("No ROI on the record covers your CoC ({coc}).");
    };
    let why = match (roi.revoked_on, roi.expires_on) {
        (Some(r), _) if r <= today => format!("The ROI was revoked on {r}"),
        (_, Some(e)) if e <= today => format!("The ROI expired on {e}"),
        _ if roi.effective_from > today => {
            format!("The ROI takes effect only on {}", roi.effective_from)
        }
        _ => "No ROI covering your CoC is active today".into(),
    };
    format!("{why}, so the open record is treated as closed.")
}

/// Why the record is not effectively open for `coc` (assumes it is not).
fn not_open_sentence(record: &RecordFacts, coc: Option<&str>, today: NaiveDate) -> String {
    match (record.visibility, coc) {
        (Visibility::Open, Some(c)) => roi_gap_sentence(record, c, today),
        (Visibility::Open, None) => {
            "Your agency has no CoC on file, so no ROI can cover it.".into()
        }
        _ => visibility_sentence(record),
    }
}

fn push_unique(out: &mut Vec<String>, s: String) {
    if !out.contains(&s) {
        out.push(s);
    }
}

/// Row 4's viewers of a de-identified open record: the agencies that take part in sharing, its
/// contributors, and its CoC's admins and CE assessors.
fn shares_deidentified_open(viewer: &Viewer, record: &RecordFacts) -> bool {
    let member = viewer.acts_for_agency();
    let shares = member && viewer.agency_shares_data;
    let contributor = member
        && viewer
            .agency_id
            .is_some_and(|a| record.contributors.contains(&a));
    let in_record_coc = viewer.coc_code.as_deref() == Some(record.coc_code.as_str());
    let ce_staff =
        in_record_coc && (viewer.has_role(Role::CocAdmin) || viewer.has_role(Role::CeAssessor));
    shares || contributor || ce_staff
}

/// Row 7's viewers: the admins of the record's CoC.
fn coc_admin_of_record_coc(viewer: &Viewer, record: &RecordFacts) -> bool {
    viewer.has_role(Role::CocAdmin) && viewer.coc_code.as_deref() == Some(record.coc_code.as_str())
}

pub fn decide_record(viewer: &Viewer, record: &RecordFacts, today: NaiveDate) -> AccessDecision {
    use AccessBasis as B;
    use AccessLevel as L;

    // Row 1.
    if viewer.has_role(Role::SystemAdmin) {
        let reasons = vec![
            "You are a system administrator: this is break-glass helpdesk access.".into(),
            "Reading personal identifying information needs an X-Access-Reason header, and every \
             read is audited."
                .into(),
        ];
        return AccessDecision::grant(L::Full, B::Helpdesk, 1, record, reasons);
    }
    let Some(agency) = viewer.agency_id else {
        return none(vec![
            "You are not acting for an agency, and only a system administrator can read a record \
             without one."
                .into(),
        ]);
    };

    // A token whose only role is priority_list_reader reads records through row 8 alone: rows
    // 2 to 5 match on the viewer's agency, and such a token does not act for its agency.
    let member = viewer.acts_for_agency();
    let mut misses: Vec<String> = Vec::new();
    if !member && (agency == record.creating_agency || record.contributors.contains(&agency)) {
        misses.push(
            "As a priority list reader you read records only as they are on your CoC's priority \
             list, not as your agency."
                .into(),
        );
    }

    // Row 2.
    if member && agency == record.creating_agency {
        let reasons = vec!["Your agency created this record.".into()];
        return AccessDecision::grant(L::Full, B::CreatingAgency, 2, record, reasons);
    }

    let coc = viewer.coc_code.as_deref();
    let in_record_coc = coc == Some(record.coc_code.as_str());
    // The ROI that makes the record effectively open for the viewer's CoC.
    let opened_by = coc
        .filter(|_| record.visibility == Visibility::Open)
        .and_then(|c| active_roi_for(record, c, today).map(|roi| (c, roi.effective_from)));
    let open_here = opened_by.is_some();

    // Row 3.
    let coc_admin = viewer.has_role(Role::CocAdmin);
    let shares = member && viewer.agency_shares_data;
    let sharer = shares || coc_admin;
    if let (true, Some((c, since))) = (sharer, opened_by) {
        let who = if shares {
            "your agency takes part in data sharing"
        } else {
            "you are an admin of your CoC"
        };
        let reasons = vec![
            format!(
                "The record is open and an ROI effective {since} covers your CoC ({c}), and {who}."
            ),
            DATUM_NOTE.into(),
        ];
        return AccessDecision::grant(L::Full, B::StatewideRoi, 3, record, reasons);
    }
    if sharer {
        push_unique(&mut misses, not_open_sentence(record, coc, today));
    } else if open_here && member {
        push_unique(
            &mut misses,
            "The record is open to your CoC, but your agency does not take part in data sharing."
                .into(),
        );
    }

    // Row 4: a de-identified open record needs no ROI; it is shared without PII with the
    // agencies that take part in sharing, its contributors, and its CoC's CE staff.
    let contributor = member && record.contributors.contains(&agency);
    if record.deidentified_open() && shares_deidentified_open(viewer, record) {
        let who = if shares {
            "your agency takes part in data sharing".to_string()
        } else if contributor {
            "your agency has entered data into it".to_string()
        } else {
            format!(
                "you are a CoC admin or CE assessor of its CoC ({})",
                record.coc_code
            )
        };
        let reasons = vec![format!(
            "The record is de-identified ({}) and open, and {who}: you see it without personal \
             identifying information, and may add stays and data to it.",
            record.identity.as_str()
        )];
        return AccessDecision::grant(L::Limited, B::Deidentified, 4, record, reasons);
    }

    // Row 5: revoking consent leaves a record shared with those who contributed.
    if contributor && contribution_shares(record.visibility) {
        let mut reasons = vec![format!(
            "The record is {}, and your agency has entered data into it.",
            record.visibility.as_str()
        )];
        if record.visibility == Visibility::Open && !open_here {
            reasons.push(not_open_sentence(record, coc, today));
        }
        reasons.push(DATUM_NOTE.into());
        return AccessDecision::grant(L::Full, B::Contributor, 5, record, reasons);
    }
    if contributor {
        push_unique(&mut misses, visibility_sentence(record));
    }

    // Row 6.
    let policy = record.locked_visible_to_ce_assessors;
    let locked = record.visibility == Visibility::Locked;
    if viewer.has_role(Role::CeAssessor) {
        if in_record_coc && policy && locked {
            let reasons = vec![format!(
                "The record is locked, and the policy of your CoC ({}) lets its CE assessors see \
                 locked records; you are a CE assessor there.",
                record.coc_code
            )];
            return AccessDecision::grant(L::Full, B::CeAssessor, 6, record, reasons);
        }
        let why = if !in_record_coc {
            "You are a CE assessor, but the record belongs to another CoC."
        } else if !locked {
            "You are a CE assessor, but that role reaches only locked records of your CoC."
        } else {
            "The record is locked, and your CoC's policy does not let CE assessors see locked \
             records."
        };
        push_unique(&mut misses, why.into());
    }

    // Row 7: row 3 already took every coc_admin of the record's CoC while it is
    // effectively open, so this is the complement.
    if coc_admin {
        if in_record_coc && !effectively_open_for(record, &record.coc_code, today) {
            let state = match record.visibility {
                Visibility::Open => "open without an active ROI covering the CoC",
                v => v.as_str(),
            };
            let reasons = vec![format!(
                "You are a CoC admin of the record's CoC ({}), and the record is {state}: you see \
                 it without personal identifying information, for aggregate reporting.",
                record.coc_code
            )];
            return AccessDecision::grant(L::Limited, B::CocAggregate, 7, record, reasons);
        }
        if !in_record_coc {
            push_unique(
                &mut misses,
                "You are a CoC admin, but the record belongs to another CoC.".into(),
            );
        }
    }

    // Row 8: closed clients do not pull onto the priority list; de-identified open ones do, by
    // client id.
    if viewer.has_role(Role::PriorityListReader) {
        // In the record's CoC, the viewer's CoC is the record's.
        let listed = in_record_coc && record.active_ce_enrollment;
        if let (Some((_, since)), true) = (opened_by, listed) {
            let reasons = vec![
                format!(
                    "The record is open, an ROI effective {since} covers your CoC ({}), and the \
                     client has an active Coordinated Entry enrollment: as a priority list reader \
                     you see it without personal identifying information.",
                    record.coc_code
                ),
                DATUM_NOTE.into(),
            ];
            return AccessDecision::grant(L::Limited, B::PriorityList, 8, record, reasons);
        }
        if listed && record.deidentified_open() {
            let reasons = vec![format!(
                "The record is de-identified ({}) and open, and the client has an active \
                 Coordinated Entry enrollment in your CoC ({}): as a priority list reader you see \
                 it by client id, without personal identifying information.",
                record.identity.as_str(),
                record.coc_code
            )];
            return AccessDecision::grant(L::Limited, B::PriorityList, 8, record, reasons);
        }
        let why = if !in_record_coc {
            "You read the priority list, but the record belongs to another CoC.".into()
        } else if !(open_here || record.deidentified_open()) {
            not_open_sentence(record, Some(&record.coc_code), today)
        } else {
            "The client has no active Coordinated Entry enrollment, so the record is not on the \
             priority list."
                .into()
        };
        push_unique(&mut misses, why);
    }

    // Row 9.
    let mut reasons = Vec::new();
    if member && !contributor {
        reasons.push(
            "Your agency did not create this record and has not entered data into it.".into(),
        );
    }
    reasons.extend(misses);
    none(reasons)
}

fn none(mut reasons: Vec<String>) -> AccessDecision {
    reasons.push("No rule gives you access to this record.".into());
    AccessDecision {
        level: AccessLevel::None,
        basis: None,
        rule: 9,
        reasons,
    }
}

/// What the level alone allows of a datum the basis lets through.
fn at_level(level: AccessLevel, kind: DatumKind) -> DatumAccess {
    match (level, kind) {
        (AccessLevel::Full, _) => DatumAccess::Full,
        (AccessLevel::Limited, DatumKind::Structured) => DatumAccess::NonPiiOnly,
        _ => DatumAccess::Hidden,
    }
}

pub fn decide_datum(
    viewer: &Viewer,
    decision: &AccessDecision,
    record: &RecordFacts,
    datum: &DatumFacts,
) -> DatumAccess {
    if decision.level == AccessLevel::None {
        return DatumAccess::Hidden;
    }
    // Row 1: an agency always sees what it entered itself (a priority list reader alone does
    // not act for its agency).
    if viewer.acts_for_agency() && viewer.agency_id == Some(datum.entered_by_agency) {
        return DatumAccess::Full;
    }
    match decision.basis {
        None => DatumAccess::Hidden,
        // Row 2.
        Some(AccessBasis::Helpdesk | AccessBasis::CreatingAgency | AccessBasis::CeAssessor) => {
            at_level(decision.level, datum.kind)
        }
        // Row 4: a de-identified record holds no PII in its structured data; a priority list
        // reader reads it as its CoC's CE staff do.
        Some(AccessBasis::PriorityList) if record.identity.is_deidentified() => {
            at_level(AccessLevel::Limited, datum.kind)
        }
        // Row 3: an ROI releases data only from its date forward.
        Some(AccessBasis::StatewideRoi | AccessBasis::Contributor | AccessBasis::PriorityList) => {
            let released = viewer.coc_code.as_deref().is_some_and(|c| {
                roi_windows_for(record, c)
                    .iter()
                    .any(|w| w.contains(datum.collected_on))
            });
            if released {
                at_level(decision.level, datum.kind)
            } else if decision.basis == Some(AccessBasis::StatewideRoi)
                && ((record.deidentified_open() && shares_deidentified_open(viewer, record))
                    || coc_admin_of_record_coc(viewer, record))
            {
                // An ROI adds to what row 4 (a de-identified open record) or row 7 (its CoC's
                // admins) already shows without one, never less: data outside its windows
                // keep their non-PII part.
                at_level(AccessLevel::Limited, datum.kind)
            } else {
                DatumAccess::Hidden
            }
        }
        // Row 4.
        Some(AccessBasis::CocAggregate | AccessBasis::Deidentified) => {
            at_level(AccessLevel::Limited, datum.kind)
        }
    }
}

/// How a stay answers a viewer (datum rule 6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StayAnswer {
    /// The stay with its entry, at this access.
    Entry(DatumAccess),
    /// The entry was collected outside every window that releases it, but data of the stay is
    /// released: the stay is answered as a continuation, its entry's own fields withheld.
    Continuation,
    /// Not found.
    Hidden,
}

/// How a stay answers a viewer: with its entry, as a continuation or not at all, and whether
/// its exit is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StayDecision {
    pub answer: StayAnswer,
    /// The exit's access: `Hidden` when the stay has no exit, when the stay is hidden, or when
    /// the datum rule withholds the exit (its fields are then left out and marked withheld).
    pub exit: DatumAccess,
}

/// Datum rule 6: what the rule releases is reachable. `entry` is the stay's entry datum, `exit`
/// its exit (`DatumFacts::exit_of`) once exited, `data` the other data attached to the stay. The
/// exit is a datum of its own: a released exit makes a stay whose entry is withheld reachable as
/// a continuation, and a withheld exit leaves a stay whose entry is released without its exit.
pub fn decide_stay(
    viewer: &Viewer,
    decision: &AccessDecision,
    record: &RecordFacts,
    entry: &DatumFacts,
    exit: Option<&DatumFacts>,
    data: &[DatumFacts],
) -> StayDecision {
    let released =
        |d: &DatumFacts| decide_datum(viewer, decision, record, d) != DatumAccess::Hidden;
    let answer = match decide_datum(viewer, decision, record, entry) {
        DatumAccess::Hidden => {
            if exit.is_some_and(released) || data.iter().any(released) {
                StayAnswer::Continuation
            } else {
                StayAnswer::Hidden
            }
        }
        a => StayAnswer::Entry(a),
    };
    let exit = match (answer, exit) {
        (StayAnswer::Hidden, _) | (_, None) => DatumAccess::Hidden,
        (_, Some(x)) => decide_datum(viewer, decision, record, x),
    };
    StayDecision { answer, exit }
}

#[cfg(test)]
#[path = "engine_tests.rs"]
mod tests;

/// Whether the viewer acts for `agency`, or is a system administrator: who manages what an
/// agency created or entered (a record's sharing, a stay, a datum), and who is told which record
/// supersedes one it split (consent.md, "Grant ROI", split mode).
pub fn acts_for(viewer: &Viewer, agency: uuid::Uuid) -> bool {
    viewer.has_role(Role::SystemAdmin)
        || (viewer.acts_for_agency() && viewer.agency_id == Some(agency))
}

/// Who is told which record supersedes a split one (consent.md, "Grant ROI", split mode): the
/// agency that split it (which created the new record) and system administrators; and the
/// agency that created the split record when another agency split it, as far as it may see the
/// new record (`level_on_new`: the record rule's level for it there). An agency the new record
/// is not shared with is not told its id: the engine never confirms a record it does not show.
pub fn knows_split_successor(
    viewer: &Viewer,
    old_creator: uuid::Uuid,
    splitter: uuid::Uuid,
    level_on_new: AccessLevel,
) -> bool {
    acts_for(viewer, splitter)
        || (acts_for(viewer, old_creator) && level_on_new != AccessLevel::None)
}

/// A write to a record that is not active: a superseded record ("DO NOT USE") takes none but
/// the closing out of what an agency began there before the split (exiting its own open stay,
/// which is no new data: the ROI job aid exits stays on the old record itself); a merged record
/// takes none (its data moved to the survivor).
pub fn inactive_record_takes_exit_of_own_stay(lifecycle: Lifecycle) -> bool {
    matches!(lifecycle, Lifecycle::Active | Lifecycle::Superseded)
}

/// Who reads a record's accounting of disclosures: the creating agency's agency_admin, the
/// record's CoC admins, system administrators.
pub fn may_read_audit(viewer: &Viewer, record: &RecordFacts) -> bool {
    viewer.has_role(Role::SystemAdmin)
        || (viewer.has_role(Role::AgencyAdmin) && viewer.agency_id == Some(record.creating_agency))
        || (viewer.has_role(Role::CocAdmin)
            && viewer.coc_code.as_deref() == Some(record.coc_code.as_str()))
}

/// Who may ask for another agency's access decision on a record ("Explaining a decision": an
/// admin can ask the same for another agency): a system administrator for any agency, a CoC
/// admin for an agency of its CoC, an agency admin for its own agency (with other roles).
pub fn may_ask_for_agency(viewer: &Viewer, agency: uuid::Uuid, agency_coc: &str) -> bool {
    viewer.has_role(Role::SystemAdmin)
        || (viewer.has_role(Role::CocAdmin) && viewer.coc_code.as_deref() == Some(agency_coc))
        || (viewer.has_role(Role::AgencyAdmin) && viewer.agency_id == Some(agency))
}

/// Whether contributing to a record gives the contributor's agency access to it (record rule
/// row 5): while it is `closed` or `open`. A locked or private record keeps its own rules (a
/// CE assessor's agency that enrolls a locked record is recorded as contributing, and gains
/// access once the client chooses `closed` or `open`).
pub fn contribution_shares(visibility: Visibility) -> bool {
    matches!(visibility, Visibility::Closed | Visibility::Open)
}
