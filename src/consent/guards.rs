//! The guards on a record's sharing state (consent.md, "Record rule" and "Identity modes"):
//! which visibility a record may start in, and which it may be given later. Pure: services ask,
//! and map a refusal to their answer (422 at creation, 409 on a change).

use chrono::NaiveDate;

use super::{roi_active_for, IdentityMode, RecordFacts, RoiFacts, RoiScope, Visibility};

/// Why a visibility is refused: a stable code and words for people (no values).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: &'static str,
    pub message: String,
}

fn refuse(code: &'static str, message: impl Into<String>) -> Result<(), Refusal> {
    Err(Refusal {
        code,
        message: message.into(),
    })
}

/// De-identified records (consent-refused, anonymous) hold no name, SSN or exact DOB by
/// construction, so `open` needs no ROI for them (record rule, row 4).
pub fn is_deidentified(mode: IdentityMode) -> bool {
    matches!(mode, IdentityMode::ConsentRefused | IdentityMode::Anonymous)
}

/// An ROI that has not ended: active today or taking effect later, neither revoked nor
/// expired. Only such an ROI can make an `open` record effectively open, now or later.
pub fn roi_not_ended(roi: &RoiFacts, today: NaiveDate) -> bool {
    let w = roi.window();
    !w.is_empty() && w.until.is_none_or(|u| today < u)
}

/// Whether the record holds an ROI that has not ended (any scope).
pub fn has_roi_not_ended(facts: &RecordFacts, today: NaiveDate) -> bool {
    facts.rois.iter().any(|r| roi_not_ended(r, today))
}

const CONSENT_REFUSED_VISIBILITIES: &str =
    "A consent-refused record is open, closed or private (ROI permission: No).";

/// The visibilities an identity mode allows (consent.md, "Identity modes"), at creation and on
/// a change alike. An identified record's `open` needs an ROI as well (checked apart).
fn mode_allows(mode: IdentityMode, v: Visibility) -> Result<(), Refusal> {
    use IdentityMode as M;
    use Visibility as V;
    match (mode, v) {
        (M::Identified | M::Anonymous, _) => Ok(()),
        // The job aid's default, required for Coordinated Entry; private while not in CE.
        (M::ConsentRefused, V::Open | V::Closed | V::Private) => Ok(()),
        (M::ConsentRefused, _) => refuse("visibility_not_allowed", CONSENT_REFUSED_VISIBILITIES),
        (M::CodeName, V::Locked) => Ok(()),
        (M::CodeName, _) => refuse(
            "designate-sharing-needed",
            "A code-name record stays locked until the client designates sharing (POST /v1/clients/{id}/designate-sharing).",
        ),
    }
}

/// The visibilities an identity mode allows at creation. `roi`: the ROI that comes in the same
/// request, if any.
pub fn initial_visibility(
    mode: IdentityMode,
    v: Visibility,
    roi: Option<&RoiFacts>,
    today: NaiveDate,
) -> Result<(), Refusal> {
    match (mode, v, roi) {
        (IdentityMode::Identified, Visibility::Open, None) => refuse(
            "visibility_not_allowed",
            "An identified record is open only with an ROI in the same request.",
        ),
        (IdentityMode::Identified, Visibility::Open, Some(r)) if !roi_not_ended(r, today) => {
            refuse(
                "visibility_not_allowed",
                "The ROI in this request has already ended, so the record cannot start open; leave visibility out (the record starts closed) or record the client's current ROI.",
            )
        }
        (IdentityMode::CodeName, v, _) if v != Visibility::Locked => refuse(
            "visibility_not_allowed",
            "A code-name record starts locked; designate sharing once consent is received.",
        ),
        (IdentityMode::ConsentRefused, Visibility::Locked, _) => {
            refuse("visibility_not_allowed", CONSENT_REFUSED_VISIBILITIES)
        }
        (mode, v, _) => mode_allows(mode, v),
    }
}

/// The refusal of `open` for an identified record without an ROI that has not ended.
pub const OPEN_NEEDS_ROI: &str = "An open record needs an ROI that is active or takes effect later (not revoked, not expired); record one with POST /v1/clients/{id}/consents.";

/// The same refusal for designate sharing, whose body takes the ROI itself.
pub const OPEN_NEEDS_ROI_DESIGNATE: &str = "An open record needs an ROI that is active or takes effect later (not revoked, not expired); send it in this request's `roi` field, or record one first with POST /v1/clients/{id}/consents.";

/// Whether the record may be given visibility `target` now.
///
/// `open` means "shared as far as the record's ROIs allow": an identified record needs an ROI
/// that has not ended (it may take effect later, and its scope may leave out the record's own
/// CoC: [`open_warnings`] says what that means); a de-identified record needs none (row 4).
pub fn visibility_change(
    facts: &RecordFacts,
    target: Visibility,
    today: NaiveDate,
) -> Result<(), Refusal> {
    mode_allows(facts.identity, target)?;
    let others = facts
        .contributors
        .iter()
        .any(|a| *a != facts.creating_agency);
    match target {
        Visibility::Private | Visibility::Locked if others => refuse(
            "other-agencies-contributed",
            format!(
                "Other agencies have entered data into this record, so it cannot be made {}; make it closed instead.",
                target.as_str()
            ),
        ),
        Visibility::Private if facts.active_ce_enrollment => refuse(
            "active-ce-enrollment",
            "The client has an active Coordinated Entry enrollment: CE needs the agencies in the process to see the record, so it cannot be private.",
        ),
        Visibility::Open
            if !is_deidentified(facts.identity) && !has_roi_not_ended(facts, today) =>
        {
            refuse("open-needs-roi", OPEN_NEEDS_ROI)
        }
        _ => Ok(()),
    }
}

/// What an `open` record's ROIs mean for it today, in words for the case worker, when it is not
/// effectively open for its own CoC: an ROI that takes effect later, or ROIs whose scope leaves
/// out the record's CoC. Empty when an ROI covers the record's CoC today, and for a
/// de-identified record with no ROI that has not ended (row 4 shares it at `limited` as it is).
pub fn open_warnings(facts: &RecordFacts, today: NaiveDate) -> Vec<String> {
    let own = facts.coc_code.as_str();
    if roi_active_for(facts, own, today) {
        return vec![];
    }
    let live: Vec<&RoiFacts> = facts
        .rois
        .iter()
        .filter(|r| roi_not_ended(r, today))
        .collect();
    if live.is_empty() {
        return vec![];
    }
    // Who sees the record meanwhile: nobody but the creating agency and contributors, or,
    // for a de-identified record, sharing agencies without PII.
    let meanwhile = if is_deidentified(facts.identity) {
        "sharing agencies see it only de-identified (limited, rule 4)"
    } else {
        "the record is treated as closed"
    };
    let pending = live
        .iter()
        .filter(|r| r.scope.covers(own))
        .map(|r| r.effective_from)
        .min();
    let mut out = Vec::new();
    match pending {
        Some(from) => out.push(format!(
            "The ROI takes effect on {from}; until then {meanwhile}."
        )),
        None => {
            let mut named: Vec<&str> = live
                .iter()
                .flat_map(|r| match &r.scope {
                    RoiScope::Cocs(c) => c.iter().map(String::as_str).collect(),
                    RoiScope::Statewide => vec![],
                })
                .collect();
            named.sort_unstable();
            named.dedup();
            out.push(format!(
                "No ROI covers the record's own CoC ({own}): for viewers there, and in every CoC the ROI does not name, {meanwhile}; it is shared in {}.",
                named.join(", ")
            ));
            // The named CoCs may themselves wait for a later date.
            if let Some(from) = live
                .iter()
                .filter(|r| !r.is_active(today))
                .map(|r| r.effective_from)
                .min()
            {
                out.push(format!("The ROI takes effect on {from}."));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consent::{Lifecycle, RoiFacts, RoiScope};
    use uuid::Uuid;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 6, d).unwrap()
    }

    fn facts(identity: IdentityMode, contributors: Vec<Uuid>, ce: bool, roi: bool) -> RecordFacts {
        let creator = Uuid::from_u128(1);
        RecordFacts {
            creating_agency: creator,
            coc_code: "IL-510".into(),
            visibility: Visibility::Closed,
            identity,
            lifecycle: Lifecycle::Active,
            rois: if roi {
                vec![RoiFacts {
                    effective_from: day(1),
                    expires_on: None,
                    revoked_on: None,
                    scope: RoiScope::Statewide,
                }]
            } else {
                vec![]
            },
            contributors,
            active_ce_enrollment: ce,
            locked_visible_to_ce_assessors: false,
        }
    }

    fn roi(
        from: NaiveDate,
        expires: Option<NaiveDate>,
        revoked: Option<NaiveDate>,
        scope: RoiScope,
    ) -> RoiFacts {
        RoiFacts {
            effective_from: from,
            expires_on: expires,
            revoked_on: revoked,
            scope,
        }
    }

    #[test]
    fn initial_visibility_by_mode() {
        use IdentityMode as M;
        use Visibility as V;
        let today = day(10);
        let live = roi(day(1), None, None, RoiScope::Statewide);
        let later = roi(day(20), None, None, RoiScope::Statewide);
        let elsewhere = roi(day(1), None, None, RoiScope::Cocs(vec!["WA-502".into()]));
        let expired = roi(day(1), Some(day(5)), None, RoiScope::Statewide);
        let table = [
            (M::Identified, V::Open, None, false),
            (M::Identified, V::Open, Some(&live), true),
            (M::Identified, V::Open, Some(&later), true),
            (M::Identified, V::Open, Some(&elsewhere), true),
            (M::Identified, V::Open, Some(&expired), false),
            (M::Identified, V::Closed, Some(&expired), true),
            (M::Identified, V::Private, None, true),
            (M::ConsentRefused, V::Open, None, true),
            (M::ConsentRefused, V::Private, None, true),
            (M::ConsentRefused, V::Locked, None, false),
            (M::CodeName, V::Locked, None, true),
            (M::CodeName, V::Closed, None, false),
            (M::CodeName, V::Private, None, false),
            (M::Anonymous, V::Open, None, true),
            (M::Anonymous, V::Open, Some(&expired), true),
            (M::Anonymous, V::Locked, None, true),
        ];
        for (mode, v, roi, ok) in table {
            assert_eq!(
                initial_visibility(mode, v, roi, today).is_ok(),
                ok,
                "{mode:?} {v:?} roi={roi:?}"
            );
        }
    }

    #[test]
    fn a_change_keeps_to_the_identity_modes_visibilities() {
        use IdentityMode as M;
        use Visibility as V;
        let today = day(10);
        let creator = Uuid::from_u128(1);
        for (mode, v, ok) in [
            (M::ConsentRefused, V::Locked, false),
            (M::ConsentRefused, V::Private, true),
            (M::ConsentRefused, V::Closed, true),
            (M::ConsentRefused, V::Open, true),
            (M::CodeName, V::Locked, true),
            (M::CodeName, V::Private, false),
            (M::CodeName, V::Closed, false),
            (M::CodeName, V::Open, false),
            (M::Anonymous, V::Locked, true),
            (M::Anonymous, V::Private, true),
            (M::Anonymous, V::Open, true),
            (M::Identified, V::Locked, true),
        ] {
            let f = facts(mode, vec![creator], false, false);
            assert_eq!(
                visibility_change(&f, v, today).is_ok(),
                ok,
                "{mode:?} {v:?}"
            );
            // The same answer as at creation (an identified open record aside: its ROI).
            assert_eq!(
                initial_visibility(mode, v, None, today).is_ok(),
                ok,
                "{mode:?} {v:?}"
            );
        }
        let f = facts(M::ConsentRefused, vec![creator], false, false);
        let r = visibility_change(&f, V::Locked, today).unwrap_err();
        assert_eq!(
            r.message,
            initial_visibility(M::ConsentRefused, V::Locked, None, today)
                .unwrap_err()
                .message
        );
    }

    #[test]
    fn open_needs_an_roi_that_has_not_ended_of_any_scope() {
        let today = day(10);
        let creator = Uuid::from_u128(1);
        let with = |r: RoiFacts| {
            let mut f = facts(IdentityMode::Identified, vec![creator], false, false);
            f.rois = vec![r];
            f
        };
        let cases = [
            (roi(day(1), None, None, RoiScope::Statewide), true, 0),
            (roi(day(20), None, None, RoiScope::Statewide), true, 1),
            (
                roi(day(1), None, None, RoiScope::Cocs(vec!["WA-502".into()])),
                true,
                1,
            ),
            (
                roi(day(1), Some(day(10)), None, RoiScope::Statewide),
                false,
                0,
            ),
            (
                roi(day(1), None, Some(day(9)), RoiScope::Statewide),
                false,
                0,
            ),
            // Withdrawn before it took effect: an empty window.
            (
                roi(day(20), None, Some(day(20)), RoiScope::Statewide),
                false,
                0,
            ),
            (
                roi(day(1), Some(day(11)), None, RoiScope::Statewide),
                true,
                0,
            ),
        ];
        for (r, ok, warnings) in cases {
            let mut f = with(r.clone());
            assert_eq!(
                visibility_change(&f, Visibility::Open, today).is_ok(),
                ok,
                "{r:?}"
            );
            f.visibility = Visibility::Open;
            assert_eq!(open_warnings(&f, today).len(), warnings, "{r:?}");
        }
        let mut f = with(roi(day(20), None, None, RoiScope::Statewide));
        f.visibility = Visibility::Open;
        assert_eq!(
            open_warnings(&f, today),
            vec![format!(
                "The ROI takes effect on {}; until then the record is treated as closed.",
                day(20)
            )]
        );
        let mut f = with(roi(
            day(20),
            None,
            None,
            RoiScope::Cocs(vec!["WA-502".into()]),
        ));
        let w = open_warnings(&f, today).join(" ");
        assert!(
            w.contains("IL-510") && w.contains("WA-502") && w.contains(&day(20).to_string()),
            "{w}"
        );
        // A de-identified record is not treated as closed meanwhile: rule 4 shows it.
        f.identity = IdentityMode::Anonymous;
        let w = open_warnings(&f, today).join(" ");
        assert!(
            w.contains("de-identified") && !w.contains("treated as closed"),
            "{w}"
        );
        f.rois.clear();
        assert!(open_warnings(&f, today).is_empty());
    }

    #[test]
    fn changes_follow_contribution_ce_and_roi() {
        let today = day(10);
        let other = Uuid::from_u128(2);
        let creator = Uuid::from_u128(1);
        let f = facts(IdentityMode::Identified, vec![creator], false, false);
        assert!(visibility_change(&f, Visibility::Private, today).is_ok());
        assert_eq!(
            visibility_change(&f, Visibility::Open, today)
                .unwrap_err()
                .code,
            "open-needs-roi"
        );
        let f = facts(IdentityMode::Identified, vec![creator, other], false, true);
        assert_eq!(
            visibility_change(&f, Visibility::Locked, today)
                .unwrap_err()
                .code,
            "other-agencies-contributed"
        );
        assert!(visibility_change(&f, Visibility::Closed, today).is_ok());
        assert!(visibility_change(&f, Visibility::Open, today).is_ok());
        let f = facts(IdentityMode::Identified, vec![creator], true, false);
        assert_eq!(
            visibility_change(&f, Visibility::Private, today)
                .unwrap_err()
                .code,
            "active-ce-enrollment"
        );
        // De-identified records open without an ROI (row 4).
        for mode in [IdentityMode::ConsentRefused, IdentityMode::Anonymous] {
            let f = facts(mode, vec![creator], false, false);
            assert!(
                visibility_change(&f, Visibility::Open, today).is_ok(),
                "{mode:?}"
            );
        }
        let f = facts(IdentityMode::CodeName, vec![creator], false, false);
        assert!(visibility_change(&f, Visibility::Open, today).is_err());
    }
}
