//! An exported row from what Hearth holds of it: its typed row (`export_map`), the source row an
//! import kept whole (`hmis_rows`), or both. Pure.
//!
//! - A row Hearth made has only its typed row.
//! - A row kept only whole (a file Hearth has no typed home for) is given back as it came.
//! - A row with both is the source row with the columns Hearth holds typed ([`modeled`]) taken
//!   from Hearth, so a change made in Hearth shows and everything else comes back as it came.
//!
//! In every case the ids are the exported ids of what the row hangs from (`ids`: an imported
//! record keeps its source `PersonalID`, a record made in Hearth has its own), the `ExportID` is
//! this export's, and below `full` the consent rules for kept rows
//! (`consent::kept_rows`) leave out what they withhold.

use serde_json::{Map, Value};

use super::{Spec, Ty, Version};
use crate::consent::kept_rows::{kept_column_shown, kept_row_shown};

/// The columns of `file` Hearth holds typed (the rest of a kept row comes back as it came).
pub fn modeled(file: &str) -> &'static [&'static str] {
    match file {
        "Client" => &[
            "FirstName",
            "MiddleName",
            "LastName",
            "NameSuffix",
            "NameDataQuality",
            "SSN",
            "SSNDataQuality",
            "DOB",
            "DOBDataQuality",
            "AmIndAKNative",
            "Asian",
            "BlackAfAmerican",
            "HispanicLatinaeo",
            "HispanicLatinao",
            "MidEastNAfrican",
            "NativeHIPacific",
            "White",
            "RaceNone",
            "AdditionalRaceEthnicity",
            "Woman",
            "Man",
            "CulturallySpecific",
            "DifferentIdentity",
            "NonBinary",
            "Transgender",
            "Questioning",
            "GenderNone",
            "DifferentIdentityText",
            "Sex",
            "VeteranStatus",
            "DateCreated",
            "DateUpdated",
        ],
        "Enrollment" => &[
            "EntryDate",
            "RelationshipToHoH",
            "EnrollmentCoC",
            "LivingSituation",
            "LengthOfStay",
            "LOSUnderThreshold",
            "PreviousStreetESSH",
            "DateToStreetESSH",
            "TimesHomelessPastThreeYears",
            "MonthsHomelessPastThreeYears",
            "DateCreated",
            "DateUpdated",
        ],
        "Exit" => &["ExitDate", "Destination", "DestinationSubsidyType"],
        "Project" => &["ProjectName", "ProjectType"],
        "Services" => &["DateProvided", "RecordType", "TypeProvided", "DateCreated"],
        "CurrentLivingSituation" => &[
            "InformationDate",
            "CurrentLivingSituation",
            "VerifiedBy",
            "DateCreated",
        ],
        "Assessment" => &[
            "AssessmentDate",
            "AssessmentLocation",
            "AssessmentType",
            "AssessmentLevel",
            "PrioritizationStatus",
            "DateCreated",
        ],
        "Event" => &[
            "EventDate",
            "Event",
            "ProbSolDivRRResult",
            "ReferralCaseManageAfter",
            "ReferralResult",
            "ResultDate",
            "LocationCrisisOrPHHousing",
            "DateCreated",
        ],
        _ => &[],
    }
}

/// What a withheld required text column says (it may not be blank).
pub const WITHHELD: &str = "Withheld";

/// One row to export.
pub struct Merge<'a> {
    pub version: Version,
    pub file: &'a str,
    pub export_id: &'a str,
    /// Hearth's row, in the file's column order (`export_map`); `None` for a row kept only.
    pub typed: Option<Vec<String>>,
    /// The source row kept whole: HUD column to value (blank cells absent).
    pub kept: Option<&'a Map<String, Value>>,
    /// The kept row's values that were outside their code list (`hmis_rows.invalid`): written as
    /// [`stand_in`] says, not as sent.
    pub invalid: Option<&'a Map<String, Value>>,
    /// The viewer sees the row in full (else the kept row's withheld parts are left out).
    pub full: bool,
    /// Columns whose exported value is decided by the caller: the row's key and its links.
    pub ids: &'a [(&'a str, &'a str)],
}

/// The row's cells in HUD's order, or `None` when the viewer may not see the row at all.
pub fn merge(m: Merge<'_>) -> Option<Vec<String>> {
    let fs = Spec::get(m.version).file(m.file)?;
    if let Some(k) = m.kept {
        let disability = k.get("DisabilityType").and_then(Value::as_str);
        if !kept_row_shown(m.file, disability, m.full) {
            return None;
        }
    }
    let Some(kept) = m.kept else {
        // Hearth's row alone: its cells as they are, the ids set in place.
        let mut cells = m
            .typed
            .unwrap_or_else(|| vec![String::new(); fs.columns.len()]);
        for (i, c) in fs.columns.iter().enumerate() {
            if let Some(v) = decided(m.export_id, m.ids, c.name) {
                cells[i] = v;
            }
        }
        return Some(cells);
    };
    let modeled = modeled(m.file);
    // A value sent outside its list that has no stand-in and no value of Hearth's to take its
    // place: the row cannot be written within HUD's lists and is left out.
    let mut unwritable = false;
    let cells = fs
        .columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            if let Some(v) = decided(m.export_id, m.ids, c.name) {
                return v;
            }
            let typed = m.typed.as_ref().map(|t| t[i].clone());
            let invalid = m.invalid.is_some_and(|inv| inv.contains_key(c.name));
            let stand_in = if invalid {
                stand_in(m.version, m.file, c.name)
            } else {
                None
            };
            if typed.is_some() && modeled.contains(&c.name) {
                let t = typed.unwrap_or_default();
                // Hearth's value, unless it is what the import left for the value sent (99 or
                // nothing): then the stand-in.
                return match stand_in {
                    Some(s) if t.is_empty() || t == "99" => s.to_string(),
                    None if invalid && t.is_empty() => {
                        unwritable = true;
                        t
                    }
                    _ => t,
                };
            }
            let text = matches!(c.ty, Ty::Str(_));
            if !kept_column_shown(m.file, c.name, text, m.full) {
                return if text && !c.nullable {
                    WITHHELD.to_string()
                } else {
                    String::new()
                };
            }
            if invalid {
                return match (stand_in, typed) {
                    (Some(s), _) => s.to_string(),
                    // Hearth's own value for the column (`ContinuumProject` 1, the agency's
                    // `VictimServiceProvider`).
                    (None, Some(t)) if !t.is_empty() => t,
                    (None, _) => {
                        unwritable = true;
                        String::new()
                    }
                };
            }
            match kept.get(c.name).and_then(Value::as_str) {
                Some(v) => v.to_string(),
                // A required column the source left out: Hearth's value, if it has one.
                None if !c.nullable => typed.unwrap_or_default(),
                None => String::new(),
            }
        })
        .collect();
    (!unwritable).then_some(cells)
}

/// The value decided by the caller for `column`: this export's `ExportID`, or one of `ids`.
fn decided(export_id: &str, ids: &[(&str, &str)], column: &str) -> Option<String> {
    if column == "ExportID" {
        return Some(export_id.to_string());
    }
    ids.iter()
        .find(|(n, _)| *n == column)
        .map(|(_, v)| v.to_string())
}

/// The type of `column` of `file` in HUD's sheets (FY2026's, else FY2024's); `None` for a name of
/// neither.
pub fn column_ty(file: &str, column: &str) -> Option<Ty> {
    [Version::Fy2026, Version::Fy2024].iter().find_map(|v| {
        Spec::get(*v)
            .file(file)?
            .columns
            .iter()
            .find(|c| c.name == column)
            .map(|c| c.ty)
    })
}

/// Whether `column` of `file` is a text column (`S`) in either version; a name of neither is
/// taken as text (so it is withheld below full access).
pub fn column_is_text(file: &str, column: &str) -> bool {
    column_ty(file, column).is_none_or(|t| matches!(t, Ty::Str(_)))
}

/// A kept value as its column's type: integers and money as JSON numbers, dates, timestamps and
/// text as strings (a value that does not parse stays the string it came as).
pub fn typed_value(file: &str, column: &str, value: &str) -> Value {
    let number = match column_ty(file, column) {
        Some(Ty::Int) => value.trim().parse::<i64>().ok().map(Value::from),
        Some(Ty::Money { .. }) => value
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .map(Value::from),
        _ => None,
    };
    number.unwrap_or_else(|| Value::String(value.to_string()))
}

/// The position of `column` in `file` of `version`.
pub fn column_index(version: Version, file: &str, column: &str) -> Option<usize> {
    Spec::get(version)
        .file(file)?
        .columns
        .iter()
        .position(|c| c.name == column)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kept(pairs: &[(&str, &str)]) -> Map<String, Value> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
            .collect()
    }

    fn cell(v: Version, file: &str, row: &[String], col: &str) -> String {
        row[column_index(v, file, col).unwrap()].clone()
    }

    #[test]
    fn a_kept_row_comes_back_as_it_came_with_hearths_ids() {
        let v = Version::Fy2026;
        let k = kept(&[
            ("IncomeBenefitsID", "IB-1"),
            ("EnrollmentID", "E-1"),
            ("PersonalID", "P-1"),
            ("InformationDate", "2024-01-31"),
            ("IncomeFromAnySource", "1"),
            ("OtherIncomeSourceIdentify", "tips"),
            ("ExportID", "OLD"),
        ]);
        let ids = [("EnrollmentID", "E-9"), ("PersonalID", "P-9")];
        let m = |full| Merge {
            version: v,
            file: "IncomeBenefits",
            export_id: "NEW",
            typed: None,
            kept: Some(&k),
            invalid: None,
            full,
            ids: &ids,
        };
        let row = merge(m(true)).unwrap();
        assert_eq!(cell(v, "IncomeBenefits", &row, "IncomeBenefitsID"), "IB-1");
        assert_eq!(cell(v, "IncomeBenefits", &row, "EnrollmentID"), "E-9");
        assert_eq!(cell(v, "IncomeBenefits", &row, "PersonalID"), "P-9");
        assert_eq!(cell(v, "IncomeBenefits", &row, "ExportID"), "NEW");
        assert_eq!(
            cell(v, "IncomeBenefits", &row, "OtherIncomeSourceIdentify"),
            "tips"
        );
        let row = merge(m(false)).unwrap();
        assert_eq!(
            cell(v, "IncomeBenefits", &row, "OtherIncomeSourceIdentify"),
            ""
        );
        assert_eq!(cell(v, "IncomeBenefits", &row, "IncomeFromAnySource"), "1");
    }

    #[test]
    fn hearths_typed_columns_win_and_its_fillers_do_not() {
        let v = Version::Fy2024;
        let k = kept(&[
            ("EnrollmentID", "E-1"),
            ("EntryDate", "2024-01-01"),
            ("DisablingCondition", "1"),
        ]);
        let mut typed = vec![String::new(); Spec::get(v).file("Enrollment").unwrap().columns.len()];
        typed[column_index(v, "Enrollment", "EntryDate").unwrap()] = "2024-02-02".into();
        typed[column_index(v, "Enrollment", "DisablingCondition").unwrap()] = "99".into();
        let row = merge(Merge {
            version: v,
            file: "Enrollment",
            export_id: "X",
            typed: Some(typed),
            kept: Some(&k),
            invalid: None,
            full: true,
            ids: &[("EnrollmentID", "E-1")],
        })
        .unwrap();
        assert_eq!(cell(v, "Enrollment", &row, "EntryDate"), "2024-02-02");
        assert_eq!(cell(v, "Enrollment", &row, "DisablingCondition"), "1");
    }

    #[test]
    fn below_full_domestic_violence_and_hiv_rows_stay_out() {
        let v = Version::Fy2026;
        let dv = kept(&[("HealthAndDVID", "H-1"), ("CurrentlyFleeing", "1")]);
        let m = |k, file, full| Merge {
            version: v,
            file,
            export_id: "X",
            typed: None,
            kept: Some(k),
            invalid: None,
            full,
            ids: &[],
        };
        let row = merge(m(&dv, "HealthAndDV", false)).unwrap();
        assert_eq!(cell(v, "HealthAndDV", &row, "CurrentlyFleeing"), "");
        let row = merge(m(&dv, "HealthAndDV", true)).unwrap();
        assert_eq!(cell(v, "HealthAndDV", &row, "CurrentlyFleeing"), "1");
        let hiv = kept(&[("DisabilitiesID", "D-1"), ("DisabilityType", "8")]);
        assert!(merge(m(&hiv, "Disabilities", false)).is_none());
        assert!(merge(m(&hiv, "Disabilities", true)).is_some());
    }
}

/// What an export writes for a value an import recorded as outside its code list
/// (`hmis_rows.invalid`; docs/hmis-csv.md, "Codes outside their list"): HUD's 99 ("Data not
/// collected") where every list the column may take has it and does not exclude it, else a
/// blank where the column may be blank. `None` for a required column whose lists have no 99
/// (`DataCollectionStage`, `DisabilityType`, `RecordType`, the yes/no columns...): [`merge`]
/// then takes Hearth's own value for the column, where it writes one, or leaves the row out.
pub fn stand_in(version: Version, file: &str, column: &str) -> Option<&'static str> {
    let spec = Spec::get(version);
    let c = spec.file(file)?.columns.iter().find(|c| c.name == column)?;
    let lists: Vec<&str> = c
        .list
        .into_iter()
        .chain(c.cond_lists.iter().map(|cl| cl.list))
        .collect();
    let has_99 = !lists.is_empty()
        && !c.excluded.contains(&"99")
        && lists
            .iter()
            .all(|l| spec.list(l).is_some_and(|vals| vals.contains(&"99")));
    if has_99 {
        Some("99")
    } else if c.nullable {
        Some("")
    } else {
        None
    }
}

#[cfg(test)]
mod stand_in_tests {
    use super::*;

    #[test]
    fn a_value_outside_its_list_stands_as_99_or_blank_where_the_column_allows_it() {
        for v in [Version::Fy2024, Version::Fy2026] {
            let spec = Spec::get(v);
            for f in spec.files {
                for c in f.columns {
                    match stand_in(v, f.name, c.name) {
                        Some("99") => assert!(
                            c.list
                                .is_some_and(|l| spec.list(l).unwrap().contains(&"99"))
                                || !c.cond_lists.is_empty()
                        ),
                        Some("") => assert!(c.nullable),
                        Some(other) => panic!("{other}"),
                        None => assert!(!c.nullable, "{}.{}", f.name, c.name),
                    }
                }
            }
        }
        let v = Version::Fy2026;
        assert_eq!(stand_in(v, "Client", "NameDataQuality"), Some("99"));
        assert_eq!(stand_in(v, "Client", "VeteranStatus"), Some("99"));
        assert_eq!(stand_in(v, "Enrollment", "LivingSituation"), Some("99"));
        assert_eq!(
            stand_in(v, "Disabilities", "DisabilityResponse"),
            Some("99")
        );
        assert_eq!(stand_in(v, "Disabilities", "DisabilityType"), None);
        assert_eq!(stand_in(v, "Enrollment", "MoveInDate"), Some(""));
    }

    fn kept(pairs: &[(&str, &str)]) -> Map<String, Value> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
            .collect()
    }

    #[test]
    fn a_row_with_a_value_outside_its_list_is_written_within_the_lists() {
        let v = Version::Fy2026;
        let at = |row: &[String], col| row[column_index(v, "Disabilities", col).unwrap()].clone();
        let k = kept(&[
            ("DisabilitiesID", "D-1"),
            ("DisabilityType", "5"),
            ("DisabilityResponse", "4"),
        ]);
        let bad = kept(&[("DisabilityResponse", "4")]);
        let m = |k, invalid| Merge {
            version: v,
            file: "Disabilities",
            export_id: "X",
            typed: None,
            kept: Some(k),
            invalid,
            full: true,
            ids: &[],
        };
        let row = merge(m(&k, Some(&bad))).unwrap();
        assert_eq!(at(&row, "DisabilityResponse"), "99");
        assert_eq!(at(&row, "DisabilityType"), "5");
        // A required code with no stand-in: the row is left out.
        let k = kept(&[("DisabilitiesID", "D-1"), ("DisabilityType", "77")]);
        let bad = kept(&[("DisabilityType", "77")]);
        assert!(merge(m(&k, Some(&bad))).is_none());
        // Hearth's typed value, set since the import, wins over the stand-in.
        let v = Version::Fy2026;
        let mut typed = vec![String::new(); Spec::get(v).file("Client").unwrap().columns.len()];
        typed[column_index(v, "Client", "VeteranStatus").unwrap()] = "1".into();
        typed[column_index(v, "Client", "NameDataQuality").unwrap()] = "99".into();
        let k = kept(&[("VeteranStatus", "5"), ("NameDataQuality", "7")]);
        let row = merge(Merge {
            version: v,
            file: "Client",
            export_id: "X",
            typed: Some(typed),
            kept: Some(&k),
            invalid: Some(&k),
            full: true,
            ids: &[],
        })
        .unwrap();
        let at = |col| row[column_index(v, "Client", col).unwrap()].clone();
        assert_eq!(at("VeteranStatus"), "1");
        assert_eq!(at("NameDataQuality"), "99");
    }
}
