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

#[cfg(test)]
mod tests {
    use super::*;

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
