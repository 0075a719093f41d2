//! What a viewer sees of a kept HMIS CSV row: a source row Hearth holds whole (`hmis_rows`), a
//! datum under the datum rule like any other (its agency entered it, on its collection day). The
//! datum rule decides the row's access (`full` or the structured part only); these rules decide,
//! given that access, which of the row's columns and rows are shown:
//!
//! - at `full`, everything;
//! - below `full`, free text is left out (a text column that is neither an id nor one of HUD's
//!   code words), anything tied to fleeing domestic violence (HealthAndDV's `DomesticViolence*`,
//!   `WhenOccurred`, `CurrentlyFleeing`) is left out, and a Disabilities row of HIV/AIDS
//!   (`DisabilityType` 8) is not shown at all: both are PII (consent.md, Spokane job aid).

/// Text columns that hold a code or HUD's wording, not what someone typed about the client.
const CODE_WORDS: &[&str] = &["EnrollmentCoC", "CoCCode", "VAMCStation"];

/// Columns tied to fleeing domestic violence.
const DOMESTIC_VIOLENCE: &[(&str, &str)] = &[
    ("HealthAndDV", "DomesticViolenceSurvivor"),
    ("HealthAndDV", "DomesticViolenceVictim"),
    ("HealthAndDV", "WhenOccurred"),
    ("HealthAndDV", "CurrentlyFleeing"),
];

/// HUD 1.3 `DisabilityType` 8: HIV/AIDS.
const HIV_AIDS: &str = "8";

/// The kind of datum a kept row is for the datum rule: a Disabilities row of HIV/AIDS is wholly
/// PII (shown only at `full`, like free text); every other row is structured data. The code is
/// read as the validator reads an integer: `08` and `008` are 8 too (a kept row keeps the value
/// as it was sent).
pub fn kept_row_kind(file: &str, disability_type: Option<&str>) -> crate::consent::DatumKind {
    let code = disability_type.map(|v| v.trim().trim_start_matches('0'));
    if file == "Disabilities" && code == Some(HIV_AIDS) {
        crate::consent::DatumKind::FreeText
    } else {
        crate::consent::DatumKind::Structured
    }
}

/// The files whose rows are parts of an Assessment, naming it by `AssessmentID`: a row of
/// them is collected with its Assessment (dated by its `AssessmentDate` at import) and shown
/// only when its Assessment, of the same stay, is shown too ("the questions and results of an
/// Assessment left out go with it").
pub const ASSESSMENT_PARTS: &[&str] = &["AssessmentQuestions", "AssessmentResults"];

/// Whether a kept `file` row is a part of an Assessment ([`ASSESSMENT_PARTS`]).
pub fn is_assessment_part(file: &str) -> bool {
    ASSESSMENT_PARTS.contains(&file)
}

/// SQL over a kept row `h`: true when it is not a part of an Assessment. Such a part never
/// releases a stay on its own: its Assessment, collected the same day, does.
pub const NOT_ASSESSMENT_PART_SQL: &str =
    "h.file NOT IN ('AssessmentQuestions', 'AssessmentResults')";

/// Where a kept Disabilities row holds its `DisabilityType` (`hmis_csv::kept` keeps a row's
/// values as an array in a fixed column order; a test there holds this to it).
pub const DISABILITY_TYPE_AT: usize = 4;

/// SQL twin of [`kept_row_kind`] over a kept row `h`: true when the row is wholly PII.
pub const KEPT_ROW_WHOLLY_PII_SQL: &str =
    "(h.file = 'Disabilities' AND ltrim(btrim(h.fields->>4), '0') = '8')";

/// Whether column `column` of a kept `file` row is shown at this access (`full`: the viewer sees
/// the datum in full); `text` says the column is a text column (`S` in HUD's sheets).
pub fn kept_column_shown(file: &str, column: &str, text: bool, full: bool) -> bool {
    if full {
        return true;
    }
    if DOMESTIC_VIOLENCE.contains(&(file, column)) {
        return false;
    }
    !text || column.ends_with("ID") || CODE_WORDS.contains(&column)
}

/// Whether a kept `file` row is shown at all; `disability_type` is its `DisabilityType`. A row
/// that is wholly PII ([`kept_row_kind`]) is shown only at `full`.
pub fn kept_row_shown(file: &str, disability_type: Option<&str>, full: bool) -> bool {
    full || kept_row_kind(file, disability_type) == crate::consent::DatumKind::Structured
}

/// A part of the stay that a kept row is the source of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StayPart {
    /// The Enrollment row: shown as the stay's entry is.
    Entry,
    /// The Exit row: shown as the stay's exit is (a datum of its own, collected on its exit
    /// date: `DatumFacts::exit_of`).
    Exit,
}

/// Which part of the stay a kept `file` row is (its Enrollment or Exit row), if any: such a row
/// is shown as that part of the stay is, not as a datum of its own.
pub fn stay_part(file: &str) -> Option<StayPart> {
    match file {
        "Enrollment" => Some(StayPart::Entry),
        "Exit" => Some(StayPart::Exit),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_hiv_aids_row_is_wholly_pii_however_its_code_is_written() {
        use crate::consent::DatumKind;
        for code in ["8", "08", "008", " 8 "] {
            assert_eq!(
                kept_row_kind("Disabilities", Some(code)),
                DatumKind::FreeText,
                "{code:?}"
            );
        }
        for code in ["5", "18", "80", "-08", "0", ""] {
            assert_eq!(
                kept_row_kind("Disabilities", Some(code)),
                DatumKind::Structured,
                "{code:?}"
            );
        }
        assert_eq!(kept_row_kind("Services", Some("8")), DatumKind::Structured);
        assert_eq!(kept_row_kind("Disabilities", None), DatumKind::Structured);
    }

    #[test]
    fn at_full_everything_is_shown() {
        for (file, col, text) in [
            ("HealthAndDV", "CurrentlyFleeing", false),
            ("IncomeBenefits", "OtherIncomeSourceIdentify", true),
            ("Enrollment", "SexualOrientationOther", true),
        ] {
            assert!(kept_column_shown(file, col, text, true));
        }
        assert!(kept_row_shown("Disabilities", Some("8"), true));
    }

    #[test]
    fn below_full_free_text_and_domestic_violence_are_left_out() {
        let table = [
            ("HealthAndDV", "DomesticViolenceSurvivor", false, false),
            ("HealthAndDV", "WhenOccurred", false, false),
            ("HealthAndDV", "CurrentlyFleeing", false, false),
            ("HealthAndDV", "GeneralHealthStatus", false, true),
            ("HealthAndDV", "InformationDate", false, true),
            ("IncomeBenefits", "OtherIncomeSourceIdentify", true, false),
            ("Enrollment", "SexualOrientationOther", true, false),
            ("CurrentLivingSituation", "LocationDetails", true, false),
            ("AssessmentQuestions", "AssessmentAnswer", true, false),
            // A CoC's own wording, typed by an agency: text like any other, whatever it names.
            ("AssessmentQuestions", "AssessmentQuestion", true, false),
            (
                "AssessmentQuestions",
                "AssessmentQuestionGroup",
                true,
                false,
            ),
            ("AssessmentResults", "AssessmentResultType", true, false),
            ("Enrollment", "EnrollmentCoC", true, true),
            ("Enrollment", "PersonalID", true, true),
            ("IncomeBenefits", "IncomeBenefitsID", true, true),
            ("IncomeBenefits", "TotalMonthlyIncome", false, true),
        ];
        for (file, col, text, shown) in table {
            assert_eq!(
                kept_column_shown(file, col, text, false),
                shown,
                "{file}.{col}"
            );
        }
    }

    #[test]
    fn an_hiv_aids_disability_row_is_wholly_pii() {
        use crate::consent::DatumKind;
        assert_eq!(
            kept_row_kind("Disabilities", Some("8")),
            DatumKind::FreeText
        );
        assert_eq!(
            kept_row_kind("Disabilities", Some("5")),
            DatumKind::Structured
        );
        assert_eq!(kept_row_kind("IncomeBenefits", None), DatumKind::Structured);
    }

    #[test]
    fn below_full_an_hiv_aids_disability_row_is_not_shown() {
        assert!(!kept_row_shown("Disabilities", Some("8"), false));
        assert!(!kept_row_shown("Disabilities", Some(" 8 "), false));
        assert!(kept_row_shown("Disabilities", Some("5"), false));
        assert!(kept_row_shown("Disabilities", None, false));
        assert!(kept_row_shown("HealthAndDV", Some("8"), false));
    }

    #[test]
    fn a_stays_own_rows_follow_its_entry() {
        assert_eq!(stay_part("Enrollment"), Some(StayPart::Entry));
        assert_eq!(stay_part("Exit"), Some(StayPart::Exit));
        assert_eq!(stay_part("IncomeBenefits"), None);
    }
}
