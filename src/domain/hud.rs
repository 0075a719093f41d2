//! HUD FY2024 code lists as validating functions. Values come from HUD's machine-readable
//! CSV spec (`hmis-csv-spec/CSV_Lists_FY2024.csv`, list id in each comment) with the per-column
//! exclusions of `CSV_Lists_Validation_FY2024.csv`; lists the CSV lacks come from domain.md.

use super::DomainError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HudList {
    NoYesReasonsForMissingData,
    NoYesMissing,
    NameDataQuality,
    SsnDataQuality,
    DobDataQuality,
    RaceNone,
    Gender,
    Sex,
    ProjectType,
    Destination,
    RentalSubsidyType,
    RelationshipToHoH,
    LivingSituation,
    CurrentLivingSituation,
    LengthOfStay,
    TimesHomelessPastThreeYears,
    MonthsHomelessPastThreeYears,
    AssessmentType,
    AssessmentLevel,
    PrioritizationStatus,
    CeEvent,
    ReferralResult,
    DataCollectionStage,
}

/// CSV 1.8.
const NO_YES_REASONS: &[i32] = &[0, 1, 8, 9, 99];
/// CSV 1.7.
const NO_YES_MISSING: &[i32] = &[0, 1, 99];
/// CSV 3.01.5, 3.02.2 and 3.03.2 hold the same five codes.
const DATA_QUALITY: &[i32] = &[1, 2, 8, 9, 99];
/// CSV 1.6.
const RACE_NONE: &[i32] = &[8, 9, 99];
/// 3.6.1, not in the CSV (there each gender is its own 1.10 column): domain.md. The missing
/// reasons live in GenderNone (list 1.6), so they are not gender codes.
const GENDER: &[i32] = &[0, 1, 2, 3, 4, 5, 6];
/// 4.21 is FY2026, not in the FY2024 CSV: domain.md.
const SEX: &[i32] = &[0, 1, 8, 9, 99];
/// CSV 2.02.6: no code 5; FY2024 split ES into 0 (entry/exit) and 1 (night-by-night).
const PROJECT_TYPE: &[i32] = &[0, 1, 2, 3, 4, 6, 7, 8, 9, 10, 11, 12, 13, 14];
/// CSV 3.12.1 less 335, 336, 37 (Validation: Exit.Destination NotInList).
const DESTINATION: &[i32] = &[
    8, 9, 17, 24, 30, 99, 101, 116, 118, 204, 205, 206, 207, 215, 225, 302, 312, 313, 314, 327,
    329, 332, 410, 411, 421, 422, 423, 426, 435,
];
/// CSV 3.12.A.
const RENTAL_SUBSIDY: &[i32] = &[419, 420, 428, 431, 433, 434, 436, 437, 438, 439, 440];
/// CSV 3.15.1.
const RELATIONSHIP: &[i32] = &[1, 2, 3, 4, 5, 99];
/// CSV 3.12.1 less 312, 313, 327, 422, 423, 426, 30, 17, 24, 37 (Validation:
/// Enrollment.LivingSituation NotInList).
const LIVING_SITUATION: &[i32] = &[
    8, 9, 99, 101, 116, 118, 204, 205, 206, 207, 215, 225, 302, 314, 329, 332, 335, 336, 410, 411,
    421, 435,
];
/// CSV 3.12.1 less 312, 313, 327, 422, 423, 426, 30, 24 (Validation:
/// CurrentLivingSituation NotInList): the prior-living list plus 17 Other and 37 Worker
/// unable to determine.
const CURRENT_LIVING_SITUATION: &[i32] = &[
    8, 9, 17, 37, 99, 101, 116, 118, 204, 205, 206, 207, 215, 225, 302, 314, 329, 332, 335, 336,
    410, 411, 421, 435,
];
/// CSV 3.917.2.
const LENGTH_OF_STAY: &[i32] = &[2, 3, 4, 5, 8, 9, 10, 11, 99];
/// CSV 3.917.4.
const TIMES_HOMELESS: &[i32] = &[1, 2, 3, 4, 8, 9, 99];
/// CSV 3.917.5: 101..=112 months, 113 more than 12.
const MONTHS_HOMELESS: &[i32] = &[
    8, 9, 99, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111, 112, 113,
];
/// CSV 4.19.3.
const ASSESSMENT_TYPE: &[i32] = &[1, 2, 3];
/// CSV 4.19.4 and 4.19.7 (both 1, 2).
const ONE_TWO: &[i32] = &[1, 2];
/// CSV 4.20.2.
const CE_EVENT: &[i32] = &[
    1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18,
];
/// CSV 4.20.D.
const REFERRAL_RESULT: &[i32] = &[1, 2, 3];
/// CSV 5.03.1 (no code 4).
const DATA_COLLECTION_STAGE: &[i32] = &[1, 2, 3, 5, 6];

impl HudList {
    pub const ALL: [HudList; 23] = [
        HudList::NoYesReasonsForMissingData,
        HudList::NoYesMissing,
        HudList::NameDataQuality,
        HudList::SsnDataQuality,
        HudList::DobDataQuality,
        HudList::RaceNone,
        HudList::Gender,
        HudList::Sex,
        HudList::ProjectType,
        HudList::Destination,
        HudList::RentalSubsidyType,
        HudList::RelationshipToHoH,
        HudList::LivingSituation,
        HudList::CurrentLivingSituation,
        HudList::LengthOfStay,
        HudList::TimesHomelessPastThreeYears,
        HudList::MonthsHomelessPastThreeYears,
        HudList::AssessmentType,
        HudList::AssessmentLevel,
        HudList::PrioritizationStatus,
        HudList::CeEvent,
        HudList::ReferralResult,
        HudList::DataCollectionStage,
    ];

    /// The list's codes, ascending.
    pub fn codes(&self) -> &'static [i32] {
        match self {
            HudList::NoYesReasonsForMissingData => NO_YES_REASONS,
            HudList::NoYesMissing => NO_YES_MISSING,
            HudList::NameDataQuality | HudList::SsnDataQuality | HudList::DobDataQuality => {
                DATA_QUALITY
            }
            HudList::RaceNone => RACE_NONE,
            HudList::Gender => GENDER,
            HudList::Sex => SEX,
            HudList::ProjectType => PROJECT_TYPE,
            HudList::Destination => DESTINATION,
            HudList::RentalSubsidyType => RENTAL_SUBSIDY,
            HudList::RelationshipToHoH => RELATIONSHIP,
            HudList::LivingSituation => LIVING_SITUATION,
            HudList::CurrentLivingSituation => CURRENT_LIVING_SITUATION,
            HudList::LengthOfStay => LENGTH_OF_STAY,
            HudList::TimesHomelessPastThreeYears => TIMES_HOMELESS,
            HudList::MonthsHomelessPastThreeYears => MONTHS_HOMELESS,
            HudList::AssessmentType => ASSESSMENT_TYPE,
            HudList::AssessmentLevel | HudList::PrioritizationStatus => ONE_TWO,
            HudList::CeEvent => CE_EVENT,
            HudList::ReferralResult => REFERRAL_RESULT,
            HudList::DataCollectionStage => DATA_COLLECTION_STAGE,
        }
    }

    pub fn contains(&self, code: i32) -> bool {
        self.codes().binary_search(&code).is_ok()
    }

    /// The HUD data element or list number people look up. Destination, LivingSituation and
    /// CurrentLivingSituation share CSV list 3.12.1; their element numbers tell them apart.
    pub fn id(&self) -> &'static str {
        match self {
            HudList::NoYesReasonsForMissingData => "1.8",
            HudList::NoYesMissing => "1.7",
            HudList::NameDataQuality => "3.01.5",
            HudList::SsnDataQuality => "3.02.2",
            HudList::DobDataQuality => "3.03.2",
            HudList::RaceNone => "1.6",
            HudList::Gender => "3.6.1",
            HudList::Sex => "4.21",
            HudList::ProjectType => "2.02.6",
            HudList::Destination => "3.12",
            HudList::RentalSubsidyType => "3.12.A",
            HudList::RelationshipToHoH => "3.15.1",
            HudList::LivingSituation => "3.917",
            HudList::CurrentLivingSituation => "4.12",
            HudList::LengthOfStay => "3.917.2",
            HudList::TimesHomelessPastThreeYears => "3.917.4",
            HudList::MonthsHomelessPastThreeYears => "3.917.5",
            HudList::AssessmentType => "4.19.3",
            HudList::AssessmentLevel => "4.19.4",
            HudList::PrioritizationStatus => "4.19.7",
            HudList::CeEvent => "4.20.2",
            HudList::ReferralResult => "4.20.D",
            HudList::DataCollectionStage => "5.03",
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            HudList::NoYesReasonsForMissingData => "NoYesReasonsForMissingData",
            HudList::NoYesMissing => "NoYesMissing",
            HudList::NameDataQuality => "NameDataQuality",
            HudList::SsnDataQuality => "SSNDataQuality",
            HudList::DobDataQuality => "DOBDataQuality",
            HudList::RaceNone => "RaceNone",
            HudList::Gender => "Gender",
            HudList::Sex => "Sex",
            HudList::ProjectType => "ProjectType",
            HudList::Destination => "Destination",
            HudList::RentalSubsidyType => "RentalSubsidyType",
            HudList::RelationshipToHoH => "RelationshipToHoH",
            HudList::LivingSituation => "LivingSituation",
            HudList::CurrentLivingSituation => "CurrentLivingSituation",
            HudList::LengthOfStay => "LengthOfStay",
            HudList::TimesHomelessPastThreeYears => "TimesHomelessPastThreeYears",
            HudList::MonthsHomelessPastThreeYears => "MonthsHomelessPastThreeYears",
            HudList::AssessmentType => "AssessmentType",
            HudList::AssessmentLevel => "AssessmentLevel",
            HudList::PrioritizationStatus => "PrioritizationStatus",
            HudList::CeEvent => "Event",
            HudList::ReferralResult => "ReferralResult",
            HudList::DataCollectionStage => "DataCollectionStage",
        }
    }
}

pub fn check_code(list: HudList, field: &'static str, code: i32) -> Result<(), DomainError> {
    if list.contains(code) {
        return Ok(());
    }
    Err(DomainError::new(
        "code_not_in_list",
        format!(
            "{field} is not a code of HUD list {} ({})",
            list.id(),
            list.name()
        ),
    ))
}

/// HUD's 400-series destinations (3.12.1) are permanent housing: an exit to one houses the
/// client on a by-name list.
pub const PERMANENT_DESTINATIONS: std::ops::RangeInclusive<i32> = 400..=499;

/// 435 "Rental by client, with ongoing housing subsidy" is followed by 3.12.A.
pub fn destination_needs_subsidy(dest: i32) -> bool {
    dest == 435
}

/// The ROI job aid's "exit with destination the same as your project type", used when a split
/// exits a stay the client has not really left (docs/workflows.md has the table): the
/// destination (3.12.1) and, for 435, its rental subsidy type (3.12.A).
///
/// A project that is itself where the client lives gives that place: shelter 101, transitional
/// housing 302, safe haven 118, the street for outreach 116, and for permanent housing 435
/// "rental by client, with ongoing housing subsidy" with the subsidy the project is: 439 PSH,
/// 431 RRH, 440 other permanent housing dedicated for formerly homeless persons (PH housing
/// only, PH housing with services). A project that houses no one (services only, other, day
/// shelter, homelessness prevention, coordinated entry) names no place, so no destination
/// matches it: 30 "No exit interview completed", which is literally true of an administrative
/// exit.
pub fn destination_for_project_type(project_type: i32) -> (i32, Option<i32>) {
    match project_type {
        0 | 1 => (101, None),
        2 => (302, None),
        3 => (435, Some(439)),
        4 => (116, None),
        8 => (118, None),
        9 | 10 => (435, Some(440)),
        13 => (435, Some(431)),
        _ => (30, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Copied from CSV_Lists_FY2024.csv (list id: values, in the file's order), so this test
    /// checks the constants against HUD's file without reading it at run time.
    const CSV: &str = "\
1.6: 8 9 99
1.7: 0 1 99
1.8: 0 1 8 9 99
3.01.5: 1 2 8 9 99
3.02.2: 1 2 8 9 99
3.03.2: 1 2 8 9 99
2.02.6: 0 1 10 11 12 13 14 2 3 4 6 7 8 9
3.12.1: 116 302 329 314 332 312 313 327 336 335 422 101 423 426 410 435 421 411 30 17 24 37 118 8 9 99 215 206 207 225 204 205
3.12.A: 419 420 428 431 433 434 436 437 438 439 440
3.15.1: 1 2 3 4 5 99
3.917.2: 10 11 2 3 4 5 8 9 99
3.917.4: 1 2 3 4 8 9 99
3.917.5: 101 102 103 104 105 106 107 108 109 110 8 9 99 111 112 113
4.19.3: 1 2 3
4.19.4: 1 2
4.19.7: 1 2
4.20.2: 1 10 11 12 13 14 15 16 17 18 2 3 4 5 6 7 8 9
4.20.D: 1 2 3
5.03.1: 1 2 3 5 6";

    /// CSV_Lists_Validation_FY2024.csv, NotInList rows for list 3.12.1.
    const NOT_DESTINATION: &[i32] = &[336, 335, 37];
    const NOT_LIVING: &[i32] = &[312, 313, 327, 422, 423, 426, 30, 17, 24, 37];
    const NOT_CURRENT_LIVING: &[i32] = &[312, 313, 327, 422, 423, 426, 30, 24];

    fn csv(id: &str) -> Vec<i32> {
        let line = CSV
            .lines()
            .find(|l| l.split(':').next() == Some(id))
            .unwrap();
        let mut v: Vec<i32> = line
            .split(':')
            .nth(1)
            .unwrap()
            .split_whitespace()
            .map(|x| x.parse().unwrap())
            .collect();
        v.sort_unstable();
        v
    }

    fn csv_less(id: &str, not: &[i32]) -> Vec<i32> {
        csv(id).into_iter().filter(|c| !not.contains(c)).collect()
    }

    #[test]
    fn lists_match_hud_csv() {
        use HudList::*;
        let cases = [
            (NoYesReasonsForMissingData, csv("1.8")),
            (NoYesMissing, csv("1.7")),
            (NameDataQuality, csv("3.01.5")),
            (SsnDataQuality, csv("3.02.2")),
            (DobDataQuality, csv("3.03.2")),
            (RaceNone, csv("1.6")),
            (ProjectType, csv("2.02.6")),
            (Destination, csv_less("3.12.1", NOT_DESTINATION)),
            (RentalSubsidyType, csv("3.12.A")),
            (RelationshipToHoH, csv("3.15.1")),
            (LivingSituation, csv_less("3.12.1", NOT_LIVING)),
            (
                CurrentLivingSituation,
                csv_less("3.12.1", NOT_CURRENT_LIVING),
            ),
            (LengthOfStay, csv("3.917.2")),
            (TimesHomelessPastThreeYears, csv("3.917.4")),
            (MonthsHomelessPastThreeYears, csv("3.917.5")),
            (AssessmentType, csv("4.19.3")),
            (AssessmentLevel, csv("4.19.4")),
            (PrioritizationStatus, csv("4.19.7")),
            (CeEvent, csv("4.20.2")),
            (ReferralResult, csv("4.20.D")),
            (DataCollectionStage, csv("5.03.1")),
        ];
        for (list, expected) in cases {
            assert_eq!(list.codes(), expected.as_slice(), "{list:?}");
        }
    }

    #[test]
    fn lists_from_domain_md() {
        assert_eq!(HudList::Gender.codes(), &[0, 1, 2, 3, 4, 5, 6]);
        assert_eq!(HudList::Sex.codes(), &[0, 1, 8, 9, 99]);
    }

    #[test]
    fn every_list_is_sorted_named_and_distinct() {
        for l in HudList::ALL {
            assert!(l.codes().windows(2).all(|w| w[0] < w[1]), "{l:?}");
            assert!(!l.id().is_empty() && !l.name().is_empty());
        }
        let mut names: Vec<_> = HudList::ALL.iter().map(|l| l.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), HudList::ALL.len());
    }

    #[test]
    fn spot_checks() {
        assert!(!HudList::ProjectType.contains(5));
        assert!(HudList::ProjectType.contains(14));
        assert!(HudList::Destination.contains(435) && !HudList::Destination.contains(37));
        assert!(HudList::LivingSituation.contains(335) && !HudList::LivingSituation.contains(17));
        assert!(HudList::CurrentLivingSituation.contains(37));
        assert!(!HudList::RaceNone.contains(0));
        assert!(!HudList::Gender.contains(99));
        assert_eq!(HudList::Destination.id(), "3.12");
    }

    #[test]
    fn check_code_names_field_and_list() {
        assert!(check_code(HudList::Destination, "destination", 101).is_ok());
        let e = check_code(HudList::Destination, "destination", 336).unwrap_err();
        assert_eq!(e.code, "code_not_in_list");
        assert!(e.message.contains("destination") && e.message.contains("3.12"));
        assert!(!e.message.contains("336"));
    }

    #[test]
    fn subsidy_only_for_435() {
        for &d in HudList::Destination.codes() {
            assert_eq!(destination_needs_subsidy(d), d == 435);
        }
    }

    #[test]
    fn destination_matching_project_type() {
        let expect = [
            (0, 101, None),
            (1, 101, None),
            (2, 302, None),
            (3, 435, Some(439)),
            (4, 116, None),
            (6, 30, None),
            (7, 30, None),
            (8, 118, None),
            (9, 435, Some(440)),
            (10, 435, Some(440)),
            (11, 30, None),
            (12, 30, None),
            (13, 435, Some(431)),
            (14, 30, None),
        ];
        // Every HUD project type has its row.
        assert_eq!(
            expect.iter().map(|e| e.0).collect::<Vec<_>>(),
            HudList::ProjectType.codes().to_vec()
        );
        for (pt, dest, subsidy) in expect {
            let got = destination_for_project_type(pt);
            assert_eq!(got, (dest, subsidy), "project type {pt}");
            assert!(HudList::Destination.contains(dest));
            // 3.12.A follows 435 exactly.
            assert_eq!(destination_needs_subsidy(dest), subsidy.is_some());
            assert!(subsidy.is_none_or(|s| HudList::RentalSubsidyType.contains(s)));
        }
        assert_eq!(destination_for_project_type(5), (30, None));
        assert_eq!(destination_for_project_type(-1), (30, None));
    }

    proptest! {
        #[test]
        fn contains_agrees_with_a_linear_search(i in 0usize..23, code in -5i32..500) {
            let l = HudList::ALL[i];
            prop_assert_eq!(l.contains(code), l.codes().contains(&code));
            prop_assert_eq!(check_code(l, "f", code).is_ok(), l.contains(code));
        }

        #[test]
        fn every_project_type_gets_a_valid_destination(pt in any::<i32>()) {
            let (dest, subsidy) = destination_for_project_type(pt);
            prop_assert!(HudList::Destination.contains(dest));
            prop_assert_eq!(destination_needs_subsidy(dest), subsidy.is_some());
        }
    }
}
