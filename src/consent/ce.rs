//! Coordinated Entry rules (consent.md, "Refusals and observational assessment"; Chicago job
//! aid): who enrolls clients into which project, and when an observational assessment is allowed.

use uuid::Uuid;

/// The project a client is being enrolled into, and the enrolling agency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrollmentScene {
    pub agency: Uuid,
    pub agency_coc: String,
    pub agency_participates_in_ce: bool,
    pub project_agency: Uuid,
    pub project_coc: String,
    pub project_is_ce: bool,
    /// A CoC-wide CE entry point.
    pub ce_entry_point: bool,
}

/// An agency enrolls clients into its own projects, and into its CoC's CE entry points when
/// it takes part in CE: every engagement is recorded in Coordinated Entry.
pub fn may_enroll(s: &EnrollmentScene) -> Result<(), &'static str> {
    if s.agency == s.project_agency {
        return Ok(());
    }
    if !(s.project_is_ce && s.ce_entry_point) {
        return Err("An agency enrolls clients only into its own projects and its CoC's Coordinated Entry entry points.");
    }
    if s.agency_coc != s.project_coc {
        return Err(
            "A Coordinated Entry entry point takes enrollments only from agencies of its own CoC.",
        );
    }
    if !s.agency_participates_in_ce {
        return Err("Your agency does not take part in Coordinated Entry.");
    }
    Ok(())
}

/// How many more refusals the CoC policy needs before an observational assessment; zero when
/// it is allowed.
pub fn refusals_still_needed(recorded: i64, policy_threshold: i32) -> i64 {
    (i64::from(policy_threshold) - recorded).max(0)
}

/// The occasions on which the client refused (Chicago: "refused ... on two occasions"), from
/// the days of its recorded refusals: one per distinct day, so a refusal recorded twice for one
/// day (a double submit) counts once. `up_to`: only the occasions on or before that day.
pub fn refusal_occasions(days: &[chrono::NaiveDate], up_to: Option<chrono::NaiveDate>) -> i64 {
    let mut days: Vec<_> = days
        .iter()
        .filter(|d| up_to.is_none_or(|u| **d <= u))
        .collect();
    days.sort_unstable();
    days.dedup();
    days.len() as i64
}

/// Why an observational assessment dated `on` is not allowed yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ObservationalRefused {
    /// Fewer refusal occasions on record than the policy's number: `needed` more.
    RefusalsNeeded { needed: i64 },
    /// Enough occasions are on record, but not on or before the assessment's date: the
    /// assessment follows the refusals (Chicago: "Once an individual has refused ... on two
    /// occasions"). `from`: the first day an observational assessment is allowed.
    BeforeRefusals { from: chrono::NaiveDate },
}

/// Whether an observational assessment dated `on` is allowed, from the days of the client's
/// refusals in the CoC and the CoC policy's number of refusals.
pub fn observational_allowed(
    refusal_days: &[chrono::NaiveDate],
    on: chrono::NaiveDate,
    policy_threshold: i32,
) -> Result<(), ObservationalRefused> {
    if refusals_still_needed(refusal_occasions(refusal_days, Some(on)), policy_threshold) == 0 {
        return Ok(());
    }
    let needed = refusals_still_needed(refusal_occasions(refusal_days, None), policy_threshold);
    if needed > 0 {
        return Err(ObservationalRefused::RefusalsNeeded { needed });
    }
    // Enough occasions overall: the day the policy's number was reached.
    let mut days = refusal_days.to_vec();
    days.sort_unstable();
    days.dedup();
    let nth = usize::try_from(policy_threshold.max(1)).unwrap_or(1) - 1;
    match days.get(nth) {
        Some(from) => Err(ObservationalRefused::BeforeRefusals { from: *from }),
        None => Ok(()),
    }
}

/// Who reads a CoC's priority list: its priority list readers, CE assessors, CoC admins and
/// the users of its agencies (the permission table has already limited the roles); a system
/// administrator as helpdesk. The CoC view (every record with an active CE stay) is the
/// coc_admin's.
pub fn may_read_priority_list(
    viewer: &super::Viewer,
    list_coc: &str,
    coc_view: bool,
) -> Result<(), &'static str> {
    use super::Role;
    if viewer.has_role(Role::SystemAdmin) {
        return Ok(());
    }
    if viewer.agency_id.is_none() || viewer.coc_code.as_deref() != Some(list_coc) {
        return Err("The priority list of a CoC is read by its own agencies and staff; yours belongs to another CoC.");
    }
    if coc_view && !viewer.has_role(Role::CocAdmin) {
        return Err("The CoC view of the priority list is for the CoC's admins (coc_admin).");
    }
    Ok(())
}

/// Which listed records a viewer of its own CoC's priority list may have seen while they were
/// listed: the over-estimate, from the record's facts while it was listed, of the records on
/// which the record rule gave it more than `none`. An incremental pull names a client no longer
/// listed only to a viewer that may have seen it (`may_have_seen_listed`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListReach {
    /// A system administrator, a sharing agency, a coc_admin: every listed record (rows 1, 3,
    /// 4, 7 reach every record on the list of the viewer's CoC).
    Every,
    /// `own_agency`: the records its agency created or contributed to (rows 2, 4, 5);
    /// `in_coc`: which records of its CoC.
    Some { own_agency: bool, in_coc: InCoc },
}

/// Which listed records of its CoC a viewer that is neither an admin nor a sharing agency
/// reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InCoc {
    /// None of them (beyond its own agency's).
    No,
    /// Every one: a priority list reader (row 8 reaches every listed record of its CoC).
    Listed,
    /// The de-identified ones: a CE assessor (row 4; row 6's locked records are never on the
    /// list's own view). An identified record listed on its ROI is row 3's, for sharing
    /// agencies only.
    Deidentified,
}

pub fn list_reach(viewer: &super::Viewer) -> ListReach {
    use super::Role;
    let member = viewer.acts_for_agency();
    if viewer.has_role(Role::SystemAdmin)
        || viewer.has_role(Role::CocAdmin)
        || (member && viewer.agency_shares_data)
    {
        return ListReach::Every;
    }
    let in_coc = if viewer.has_role(Role::PriorityListReader) {
        InCoc::Listed
    } else if viewer.has_role(Role::CeAssessor) {
        InCoc::Deidentified
    } else {
        InCoc::No
    };
    ListReach::Some {
        own_agency: member && viewer.agency_id.is_some(),
        in_coc,
    }
}

/// Whether `viewer` may have seen `record` (its facts while it was listed) on the priority list
/// of its own CoC. Never false where the record rule gives a listed record more than `none` to
/// a viewer of the list's CoC (a table test holds it to `decide_record`); true in a few cases
/// where it gave `none` (a de-identified record of another CoC to a coc_admin), which costs
/// only the naming of a client id to the CoC's own admin.
pub fn may_have_seen_listed(viewer: &super::Viewer, record: &super::RecordFacts) -> bool {
    match list_reach(viewer) {
        ListReach::Every => true,
        ListReach::Some { own_agency, in_coc } => {
            let agency = viewer.agency_id;
            // The list judges a record by its own CoC, the viewer's (`RecordFacts::on_list`).
            let of_coc = viewer.coc_code.is_some();
            (own_agency
                && agency.is_some_and(|a| {
                    a == record.creating_agency || record.contributors.contains(&a)
                }))
                || (of_coc
                    && match in_coc {
                        InCoc::No => false,
                        InCoc::Listed => true,
                        InCoc::Deidentified => record.identity.is_deidentified(),
                    })
        }
    }
}

/// Whether a record pulls onto its own CoC's priority list (consent.md "Priority list"; ROI job
/// aid: closed clients do not pull onto it): an active Coordinated Entry enrollment, and the
/// record effectively open for its CoC or de-identified open.
pub fn pulls_onto_priority_list(record: &super::RecordFacts, today: chrono::NaiveDate) -> bool {
    record.active_ce_enrollment
        && (record.deidentified_open()
            || super::effectively_open_for(record, &record.coc_code, today))
}

/// An active CE stay of a listed client in the list's CoC: its id, entry date and entry datum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CeStay {
    pub id: Uuid,
    pub entry_date: chrono::NaiveDate,
    pub entry: super::DatumFacts,
}

/// Which active CE stay a priority list entry shows the viewer (datum rules 1, 3 and 6: what
/// the rule releases is reachable, and an agency always sees its own): the earliest (by entry
/// date, then id, the CoC's own rule for its CE stay) among those whose entry the datum rule
/// releases to the viewer; so the list's own stay whenever it is released. `None`: the entry
/// is withheld. The list's order stays the CoC's (its earliest CE stay) whatever is shown.
pub fn shown_ce_stay<'a>(
    viewer: &super::Viewer,
    decision: &super::AccessDecision,
    record: &super::RecordFacts,
    stays: &'a [CeStay],
) -> Option<&'a CeStay> {
    stays
        .iter()
        .filter(|s| {
            super::decide_datum(viewer, decision, record, &s.entry) != super::DatumAccess::Hidden
        })
        .min_by_key(|s| (s.entry_date, s.id))
}

/// Whether an open stay of a household counts in a priority list entry's household size for
/// the viewer: the viewer may read the member's record (`decision`, the record rule's on it)
/// and the datum rule releases the stay's entry to it. A member whose record the viewer may
/// not read is not counted: the count would confirm that a record hidden from it exists.
pub fn counts_in_household(
    viewer: &super::Viewer,
    decision: &super::AccessDecision,
    record: &super::RecordFacts,
    entry: &super::DatumFacts,
) -> bool {
    decision.level != super::AccessLevel::None
        && super::decide_datum(viewer, decision, record, entry) != super::DatumAccess::Hidden
}

/// The warning a workflow answers when it takes a client off the priority list.
pub const LEAVES_PRIORITY_LIST: &str =
    "The client has an active Coordinated Entry enrollment and no longer pulls onto the priority list.";

/// The warning of a workflow that turned the records `before` into `after` (one record, or the
/// two of a merge into its survivor): the client was on the priority list and is no longer.
pub fn leaves_priority_list(
    before: &[&super::RecordFacts],
    after: &super::RecordFacts,
    today: chrono::NaiveDate,
) -> Option<&'static str> {
    (before.iter().any(|r| pulls_onto_priority_list(r, today))
        && !pulls_onto_priority_list(after, today))
    .then_some(LEAVES_PRIORITY_LIST)
}

/// Who reads a CoC's aggregate reports: its coc_admins and system administrators.
pub fn may_read_coc_reports(viewer: &super::Viewer, coc: &str) -> Result<(), &'static str> {
    use super::Role;
    if viewer.has_role(Role::SystemAdmin)
        || (viewer.has_role(Role::CocAdmin) && viewer.coc_code.as_deref() == Some(coc))
    {
        return Ok(());
    }
    Err("A CoC's reports are read by its coc_admins and system administrators.")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consent::{Role, Viewer};

    fn at(coc: &str, roles: &[Role]) -> Viewer {
        Viewer {
            agency_id: Some(Uuid::from_u128(9)),
            coc_code: Some(coc.into()),
            agency_shares_data: false,
            roles: roles.to_vec(),
        }
    }

    #[test]
    fn who_reads_the_priority_list_and_reports() {
        let plr = at("IL-510", &[Role::PriorityListReader]);
        assert!(may_read_priority_list(&plr, "IL-510", false).is_ok());
        assert!(may_read_priority_list(&plr, "WA-502", false).is_err());
        assert!(may_read_priority_list(&plr, "IL-510", true).is_err());
        let admin = at("IL-510", &[Role::CocAdmin]);
        assert!(may_read_priority_list(&admin, "IL-510", true).is_ok());
        assert!(may_read_priority_list(&admin, "WA-502", true).is_err());
        let sys = Viewer {
            roles: vec![Role::SystemAdmin],
            ..Default::default()
        };
        assert!(may_read_priority_list(&sys, "WA-502", true).is_ok());
        assert!(may_read_coc_reports(&admin, "IL-510").is_ok());
        assert!(may_read_coc_reports(&admin, "WA-502").is_err());
        assert!(may_read_coc_reports(&plr, "IL-510").is_err());
        assert!(may_read_coc_reports(&sys, "WA-502").is_ok());
    }

    /// Every record the record rule shows a viewer while it is on the viewer's CoC's list
    /// (effectively open for that CoC or de-identified open, with an active CE enrollment) is
    /// one it may have seen; and a viewer that reaches only its own agency's records reaches
    /// no other.
    #[test]
    fn may_have_seen_listed_covers_every_listed_record_the_engine_shows() {
        use crate::consent::{
            decide_record, AccessLevel, IdentityMode, Lifecycle, RecordFacts, RoiFacts, RoiScope,
            Visibility,
        };
        let day = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let today = day("2024-06-01");
        let agencies = [1u128, 2, 3].map(Uuid::from_u128);
        let roles: &[&[Role]] = &[
            &[Role::CaseWorker],
            &[Role::AgencyAdmin],
            &[Role::CeAssessor],
            &[Role::CocAdmin],
            &[Role::PriorityListReader],
            &[Role::PriorityListReader, Role::CaseWorker],
            &[Role::SystemAdmin],
        ];
        let mut shown = 0;
        for creator in agencies {
            for coc in ["IL-510", "WA-502"] {
                for identity in IdentityMode::ALL {
                    for rois in [
                        vec![],
                        vec![RoiFacts {
                            effective_from: day("2024-01-01"),
                            expires_on: None,
                            revoked_on: None,
                            scope: RoiScope::Cocs(vec!["IL-510".into()]),
                        }],
                    ] {
                        for contributors in [vec![creator], vec![creator, agencies[1]]] {
                            let record = RecordFacts {
                                creating_agency: creator,
                                coc_code: coc.into(),
                                visibility: Visibility::Open,
                                identity: *identity,
                                lifecycle: Lifecycle::Active,
                                rois: rois.clone(),
                                contributors,
                                active_ce_enrollment: true,
                                locked_visible_to_ce_assessors: false,
                            };
                            // On the list of IL-510 (the viewers' CoC).
                            let listed = !record.rois.is_empty() || record.deidentified_open();
                            if !listed {
                                continue;
                            }
                            for agency in agencies {
                                for shares in [false, true] {
                                    for r in roles {
                                        let v = super::super::Viewer {
                                            agency_id: Some(agency),
                                            coc_code: Some("IL-510".into()),
                                            agency_shares_data: shares,
                                            roles: r.to_vec(),
                                        };
                                        let level = decide_record(&v, &record, today).level;
                                        if level != AccessLevel::None {
                                            shown += 1;
                                            assert!(
                                                may_have_seen_listed(&v, &record),
                                                "{v:?} {record:?}"
                                            );
                                        }
                                        if matches!(
                                            list_reach(&v),
                                            ListReach::Some {
                                                in_coc: InCoc::No,
                                                ..
                                            }
                                        ) && !record.contributors.contains(&agency)
                                        {
                                            assert!(!may_have_seen_listed(&v, &record));
                                        }
                                        // A CE assessor of a non-sharing agency never saw an
                                        // identified record listed on its ROI (row 3 is for
                                        // sharing agencies): the pull must not name it.
                                        if list_reach(&v)
                                            == (ListReach::Some {
                                                own_agency: true,
                                                in_coc: InCoc::Deidentified,
                                            })
                                            && !record.contributors.contains(&agency)
                                            && !record.identity.is_deidentified()
                                        {
                                            assert_eq!(level, AccessLevel::None);
                                            assert!(!may_have_seen_listed(&v, &record));
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        assert!(shown > 100, "{shown}");
    }

    #[test]
    fn a_workflow_warns_when_it_takes_a_client_off_the_priority_list() {
        use crate::consent::{
            IdentityMode, Lifecycle, RecordFacts, RoiFacts, RoiScope, Visibility,
        };
        let day = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let today = day("2024-06-01");
        let rec = |visibility, identity, ce: bool| RecordFacts {
            creating_agency: Uuid::from_u128(1),
            coc_code: "IL-510".into(),
            visibility,
            identity,
            lifecycle: Lifecycle::Active,
            rois: vec![RoiFacts {
                effective_from: day("2024-01-01"),
                expires_on: None,
                revoked_on: None,
                scope: RoiScope::Statewide,
            }],
            contributors: vec![],
            active_ce_enrollment: ce,
            locked_visible_to_ce_assessors: false,
        };
        use IdentityMode::{Anonymous, Identified};
        use Visibility::{Closed, Open};
        let listed = rec(Open, Identified, true);
        let closed = rec(Closed, Identified, true);
        assert!(pulls_onto_priority_list(&listed, today));
        assert!(!pulls_onto_priority_list(&closed, today));
        assert!(!pulls_onto_priority_list(
            &rec(Open, Identified, false),
            today
        ));
        assert!(pulls_onto_priority_list(&rec(Open, Anonymous, true), today));
        // An open listed duplicate merged into a closed survivor: the survivor is closed.
        assert_eq!(
            leaves_priority_list(&[&rec(Closed, Identified, false), &listed], &closed, today),
            Some(LEAVES_PRIORITY_LIST)
        );
        assert_eq!(leaves_priority_list(&[&listed], &listed, today), None);
        assert_eq!(leaves_priority_list(&[&closed], &closed, today), None);
        // An ROI that lapsed before the workflow: it was not on the list, so nothing to say.
        let mut lapsed = listed.clone();
        lapsed.rois[0].expires_on = Some(day("2024-05-01"));
        assert_eq!(leaves_priority_list(&[&lapsed], &closed, today), None);
    }

    #[test]
    fn refusals_count_by_occasion_and_precede_the_observational_assessment() {
        let day = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        // A double submit: one occasion.
        let twice = [day("2026-11-25"), day("2026-11-25")];
        assert_eq!(refusal_occasions(&twice, None), 1);
        assert_eq!(
            observational_allowed(&twice, day("2026-11-26"), 2),
            Err(ObservationalRefused::RefusalsNeeded { needed: 1 })
        );
        let two = [day("2026-11-25"), day("2026-11-20"), day("2026-11-25")];
        assert_eq!(refusal_occasions(&two, None), 2);
        assert_eq!(refusal_occasions(&two, Some(day("2026-11-24"))), 1);
        assert_eq!(observational_allowed(&two, day("2026-11-25"), 2), Ok(()));
        assert_eq!(observational_allowed(&two, day("2026-11-30"), 2), Ok(()));
        // Dated before the refusals: not allowed, and the answer names the first day it is.
        assert_eq!(
            observational_allowed(&two, day("2026-11-02"), 2),
            Err(ObservationalRefused::BeforeRefusals {
                from: day("2026-11-25")
            })
        );
        assert_eq!(
            observational_allowed(&two, day("2026-11-21"), 2),
            Err(ObservationalRefused::BeforeRefusals {
                from: day("2026-11-25")
            })
        );
        // A policy of zero refusals allows it at once.
        assert_eq!(observational_allowed(&[], day("2026-11-02"), 0), Ok(()));
    }

    fn scene() -> EnrollmentScene {
        EnrollmentScene {
            agency: Uuid::from_u128(1),
            agency_coc: "IL-510".into(),
            agency_participates_in_ce: true,
            project_agency: Uuid::from_u128(2),
            project_coc: "IL-510".into(),
            project_is_ce: true,
            ce_entry_point: true,
        }
    }

    #[test]
    fn who_enrolls_where() {
        assert_eq!(may_enroll(&scene()), Ok(()));
        let own = EnrollmentScene {
            project_agency: Uuid::from_u128(1),
            project_is_ce: false,
            ce_entry_point: false,
            agency_participates_in_ce: false,
            ..scene()
        };
        assert_eq!(may_enroll(&own), Ok(()));
        let not_entry = EnrollmentScene {
            ce_entry_point: false,
            ..scene()
        };
        assert!(may_enroll(&not_entry).unwrap_err().contains("own projects"));
        let other_coc = EnrollmentScene {
            agency_coc: "WA-502".into(),
            ..scene()
        };
        assert!(may_enroll(&other_coc).unwrap_err().contains("own CoC"));
        let outside = EnrollmentScene {
            agency_participates_in_ce: false,
            ..scene()
        };
        assert!(may_enroll(&outside)
            .unwrap_err()
            .contains("does not take part"));
        let shelter = EnrollmentScene {
            project_is_ce: false,
            ..scene()
        };
        assert!(may_enroll(&shelter).is_err());
    }

    #[test]
    fn refusal_threshold() {
        assert_eq!(refusals_still_needed(0, 2), 2);
        assert_eq!(refusals_still_needed(1, 2), 1);
        assert_eq!(refusals_still_needed(2, 2), 0);
        assert_eq!(refusals_still_needed(5, 2), 0);
        assert_eq!(refusals_still_needed(0, 0), 0);
    }
}
