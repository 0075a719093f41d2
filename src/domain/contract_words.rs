//! Fixed word sets that the service writes as plain strings, declared as enums for the contract
//! only (`#[schema(value_type = ...)]`): the JSON keeps its field names and values, and the
//! schema lists the values a caller can meet. A unit test ties each list to the code that
//! writes the words.

use serde::Serialize;
use utoipa::ToSchema;

/// How much of a datum the caller sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DatumAccessWord {
    /// All of it, free text included.
    Full,
    /// The structured part only.
    NonPii,
}

impl DatumAccessWord {
    pub fn of(full: bool) -> &'static str {
        if full {
            "full"
        } else {
            "non_pii"
        }
    }
}

/// Which priority list a page belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PriorityListView {
    /// The records the caller's agency may rank (default).
    List,
    /// coc_admin only: the CoC's whole list.
    Coc,
}

/// What a revocation did (the ROI job aid's scenarios).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RevocationScenario {
    /// Scenario 1: only the creating agency had data; the record closed.
    CreatingAgencyOnly,
    /// Scenario 2: the record closed; other agencies keep their data as contributors.
    OtherAgenciesHaveData,
    /// Another ROI of the record has not ended: the record stays open for its scope.
    AnotherRoiActive,
}

/// What a helpdesk notice is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum HelpdeskNoticeKind {
    RoiRevokedCreatingAgencyOnly,
    RoiRevokedOtherAgenciesHaveData,
    RoiRevokedAnotherRoiActive,
    DeidentificationRequested,
    DeidentificationRejected,
    DeidentificationCompleted,
}

/// How bad an import problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProblemSeverity {
    /// The file (or the row) is not imported.
    Error,
    /// Imported; worth a look.
    Warning,
}

/// The HUD HMIS CSV format version of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub enum CsvVersionWord {
    /// FY2024.
    #[serde(rename = "2024")]
    Fy2024,
    /// FY2026 ("2026 v1.0").
    #[serde(rename = "2026")]
    Fy2026,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words<T: Serialize>(all: &[T]) -> Vec<String> {
        all.iter()
            .map(|w| {
                serde_json::to_value(w)
                    .unwrap()
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect()
    }

    #[test]
    fn the_lists_are_the_words_the_code_writes() {
        assert_eq!(
            words(&[DatumAccessWord::Full, DatumAccessWord::NonPii]),
            [DatumAccessWord::of(true), DatumAccessWord::of(false)]
        );
        let scenarios = words(&[
            RevocationScenario::CreatingAgencyOnly,
            RevocationScenario::OtherAgenciesHaveData,
            RevocationScenario::AnotherRoiActive,
        ]);
        let kinds = words(&[
            HelpdeskNoticeKind::RoiRevokedCreatingAgencyOnly,
            HelpdeskNoticeKind::RoiRevokedOtherAgenciesHaveData,
            HelpdeskNoticeKind::RoiRevokedAnotherRoiActive,
        ]);
        // A revocation's notice kind is `roi_revoked_` and its scenario.
        for (s, k) in scenarios.iter().zip(&kinds) {
            assert_eq!(format!("roi_revoked_{s}"), *k);
        }
        assert_eq!(
            words(&[ProblemSeverity::Error, ProblemSeverity::Warning]),
            words(&[
                crate::hmis_csv::Severity::Error,
                crate::hmis_csv::Severity::Warning
            ])
        );
        assert_eq!(
            words(&[CsvVersionWord::Fy2024, CsvVersionWord::Fy2026]),
            ["2024", "2026"]
        );
    }
}
