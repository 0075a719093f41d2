//! The guards on a record's sharing state (consent.md, "Record rule" and "Identity modes"):
//! which visibility a record may start in, and which it may be given later. Pure: services ask,
//! and map a refusal to their answer (422 at creation, 409 on a change).

use chrono::NaiveDate;

use super::{roi_active_for, IdentityMode, RecordFacts, Visibility};

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

/// The visibilities an identity mode allows at creation. `has_roi`: an ROI comes in the same
/// request.
pub fn initial_visibility(mode: IdentityMode, v: Visibility, has_roi: bool) -> Result<(), Refusal> {
    use IdentityMode as M;
    use Visibility as V;
    match (mode, v) {
        (M::Identified, V::Open) if !has_roi => refuse(
            "visibility_not_allowed",
            "An identified record is open only with an ROI in the same request.",
        ),
        (M::Identified, _) => Ok(()),
        // The job aid's default, required for Coordinated Entry; private while not in CE.
        (M::ConsentRefused, V::Open | V::Closed | V::Private) => Ok(()),
        (M::ConsentRefused, _) => refuse(
            "visibility_not_allowed",
            "A consent-refused record is open, closed or private (ROI permission: No).",
        ),
        (M::CodeName, V::Locked) => Ok(()),
        (M::CodeName, _) => refuse(
            "visibility_not_allowed",
            "A code-name record starts locked; designate sharing once consent is received.",
        ),
        (M::Anonymous, _) => Ok(()),
    }
}

/// Whether the record may be given visibility `target` now.
pub fn visibility_change(
    facts: &RecordFacts,
    target: Visibility,
    today: NaiveDate,
) -> Result<(), Refusal> {
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
            if !is_deidentified(facts.identity)
                && !roi_active_for(facts, &facts.coc_code, today) =>
        {
            refuse(
                "open-needs-roi",
                "An open record needs an active ROI covering its CoC; record one with POST /v1/clients/{id}/consents.",
            )
        }
        _ => Ok(()),
    }
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

    #[test]
    fn initial_visibility_by_mode() {
        use IdentityMode as M;
        use Visibility as V;
        let table = [
            (M::Identified, V::Open, false, false),
            (M::Identified, V::Open, true, true),
            (M::Identified, V::Private, false, true),
            (M::ConsentRefused, V::Open, false, true),
            (M::ConsentRefused, V::Private, false, true),
            (M::ConsentRefused, V::Locked, false, false),
            (M::CodeName, V::Locked, false, true),
            (M::CodeName, V::Closed, false, false),
            (M::Anonymous, V::Open, false, true),
            (M::Anonymous, V::Locked, false, true),
        ];
        for (mode, v, roi, ok) in table {
            assert_eq!(
                initial_visibility(mode, v, roi).is_ok(),
                ok,
                "{mode:?} {v:?} roi={roi}"
            );
        }
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
