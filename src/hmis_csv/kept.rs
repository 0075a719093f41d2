//! How a source row kept whole (`hmis_rows.fields`) is written: a JSON array of its values in a
//! fixed column order per file, not an object naming every column. HUD's column names made up
//! three quarters of a kept row's bytes; an array holds the same values in about a third of the
//! space, and an import writes one kept row per source row (docs/benchmarks.md). Pure.
//!
//! The order of a file's columns ([`columns`]) is FY2026's, then FY2024's columns FY2026 dropped,
//! so a row of either version is kept the same way. Stored rows depend on it: a later version
//! appends its new columns at the end, never reorders (a test holds the migration that converted
//! the earlier objects to this order). A blank cell, and a column left out (the names, SSN and DOB
//! a record holds typed), is `null`; trailing `null`s are not written.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde_json::{Map, Value};

use super::read::Row;
use super::{FileSpec, Spec, Version};

struct Orders {
    /// File name to its columns in kept order.
    columns: HashMap<&'static str, Vec<&'static str>>,
    /// A version's file (by address) to the kept position of each of its columns.
    positions: HashMap<usize, Vec<usize>>,
}

fn orders() -> &'static Orders {
    static ORDERS: OnceLock<Orders> = OnceLock::new();
    ORDERS.get_or_init(|| {
        let mut columns: HashMap<&'static str, Vec<&'static str>> = HashMap::new();
        for version in [Version::Fy2026, Version::Fy2024] {
            for f in Spec::get(version).files {
                let order = columns.entry(f.name).or_default();
                for c in f.columns {
                    if !order.contains(&c.name) {
                        order.push(c.name);
                    }
                }
            }
        }
        let mut positions = HashMap::new();
        for version in [Version::Fy2026, Version::Fy2024] {
            for f in Spec::get(version).files {
                let order = &columns[f.name];
                let at = f
                    .columns
                    .iter()
                    .map(|c| order.iter().position(|o| *o == c.name).expect("listed"))
                    .collect();
                positions.insert(address(f), at);
            }
        }
        Orders { columns, positions }
    })
}

fn address(f: &'static FileSpec) -> usize {
    f as *const FileSpec as usize
}

/// The columns of `file` in the order its kept rows hold their values.
pub fn columns(file: &str) -> Option<&'static [&'static str]> {
    orders().columns.get(file).map(Vec::as_slice)
}

/// Where `column` of `file` sits in a kept row's array.
pub fn position(file: &str, column: &str) -> Option<usize> {
    columns(file)?.iter().position(|c| *c == column)
}

/// A row's values as kept: a JSON array in the file's kept order, leaving out (`null`) what
/// `skip` names (PII a record holds typed).
pub fn encode(row: &Row, skip: &[&str]) -> String {
    let at = &orders().positions[&address(row.file)];
    let mut slots: Vec<Option<&str>> = Vec::new();
    for ((c, v), &i) in row.file.columns.iter().zip(&row.values).zip(at) {
        if let Some(v) = v {
            if !skip.contains(&c.name) {
                if slots.len() <= i {
                    slots.resize(i + 1, None);
                }
                slots[i] = Some(v.as_str());
            }
        }
    }
    let mut out = Vec::with_capacity(16 + row.values.len() * 8);
    out.push(b'[');
    for (n, v) in slots.iter().enumerate() {
        if n > 0 {
            out.push(b',');
        }
        match v {
            // Writing a string to a Vec cannot fail.
            Some(v) => {
                let _ = serde_json::to_writer(&mut out, v);
            }
            None => out.extend_from_slice(b"null"),
        }
    }
    out.push(b']');
    String::from_utf8(out).expect("serde_json writes UTF-8")
}

/// A kept row's values by HUD column name (blank cells absent), from its array; `None` when
/// `fields` is not one (or `file` is not HUD's).
pub fn decode(file: &str, fields: Value) -> Option<Map<String, Value>> {
    let (Value::Array(values), Some(names)) = (fields, columns(file)) else {
        return None;
    };
    Some(
        names
            .iter()
            .zip(values)
            .filter(|(_, v)| !v.is_null())
            .map(|(n, v)| (n.to_string(), v))
            .collect(),
    )
}

/// [`decode`] of the JSON text a kept row is read as.
pub fn decode_text(file: &str, fields: &str) -> Option<Map<String, Value>> {
    decode(file, serde_json::from_str(fields).ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(version: Version, file: &str, pairs: &[(&str, &str)]) -> Row {
        let file = Spec::get(version).file(file).unwrap();
        let values = file
            .columns
            .iter()
            .map(|c| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == c.name)
                    .map(|(_, v)| v.to_string())
            })
            .collect();
        Row {
            line: 2,
            values,
            file,
        }
    }

    #[test]
    fn every_column_of_both_versions_has_one_place_fy2026_first() {
        for version in [Version::Fy2024, Version::Fy2026] {
            for f in Spec::get(version).files {
                let order = columns(f.name).unwrap();
                for c in f.columns {
                    assert_eq!(order.iter().filter(|o| **o == c.name).count(), 1);
                }
            }
        }
        for f in Spec::get(Version::Fy2026).files {
            let names: Vec<&str> = f.columns.iter().map(|c| c.name).collect();
            assert_eq!(&columns(f.name).unwrap()[..names.len()], &names[..]);
        }
    }

    #[test]
    fn a_row_of_either_version_comes_back_by_name_without_what_was_skipped() {
        for version in [Version::Fy2024, Version::Fy2026] {
            let r = row(
                version,
                "Client",
                &[
                    ("PersonalID", "C-1"),
                    ("FirstName", "Ann"),
                    ("VeteranStatus", "0"),
                    ("DateCreated", "2024-01-01 10:00:00"),
                    ("ExportID", "E\"1"),
                ],
            );
            let text = encode(&r, &["FirstName"]);
            assert!(
                text.starts_with("[\"C-1\"") && !text.contains("Ann"),
                "{text}"
            );
            assert!(!text.ends_with("null]"), "{text}");
            let back = decode_text("Client", &text).unwrap();
            let value: Value = serde_json::from_str(&text).unwrap();
            assert_eq!(decode("Client", value).unwrap(), back);
            let pairs: Vec<(&str, &str)> = back
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str().unwrap()))
                .collect();
            assert_eq!(
                pairs,
                [
                    ("DateCreated", "2024-01-01 10:00:00"),
                    ("ExportID", "E\"1"),
                    ("PersonalID", "C-1"),
                    ("VeteranStatus", "0"),
                ]
            );
        }
    }

    #[test]
    fn the_consent_rules_read_disability_type_where_it_is_kept() {
        use crate::consent::kept_rows::{DISABILITY_TYPE_AT, KEPT_ROW_WHOLLY_PII_SQL};
        assert_eq!(
            position("Disabilities", "DisabilityType"),
            Some(DISABILITY_TYPE_AT)
        );
        assert!(KEPT_ROW_WHOLLY_PII_SQL.contains(&format!("h.fields->>{DISABILITY_TYPE_AT})")));
    }

    #[test]
    fn the_migration_dating_assessment_parts_reads_assessment_id_where_it_is_kept() {
        let sql = include_str!("../../migrations/2026-12-06-000000_assessment_parts_dated/up.sql");
        for f in crate::consent::kept_rows::ASSESSMENT_PARTS {
            let at = position(f, "AssessmentID").unwrap();
            assert!(sql.contains(&format!("q.fields->>{at})")), "{f}");
        }
    }

    /// The migration that rewrote earlier kept objects as arrays lists each file's order as it
    /// was then: a prefix of today's (a later version only appends).
    #[test]
    fn the_migration_to_arrays_used_this_order() {
        let sql = include_str!("../../migrations/2026-12-02-000000_kept_rows_arrays/up.sql");
        let listed: HashMap<&str, Vec<&str>> = sql
            .lines()
            .filter_map(|l| l.trim().strip_prefix("('"))
            .map(|l| {
                let mut parts = l.split('\'').step_by(2);
                let file = parts.next().unwrap();
                (file, parts.filter(|p| !p.is_empty()).collect())
            })
            .collect();
        let mut expected: Vec<&str> = orders().columns.keys().copied().collect();
        expected.sort_unstable();
        let body: Vec<String> = expected
            .iter()
            .map(|f| {
                let names: Vec<String> = columns(f)
                    .unwrap()
                    .iter()
                    .map(|c| format!("'{c}'"))
                    .collect();
                format!("    ('{f}', ARRAY[{}])", names.join(", "))
            })
            .collect();
        assert_eq!(
            listed.len(),
            expected.len(),
            "expected:\n{}",
            body.join(",\n")
        );
        for f in expected {
            let then = &listed[f];
            assert_eq!(&columns(f).unwrap()[..then.len()], &then[..], "{f}");
            assert!(!then.is_empty(), "{f}");
        }
    }

    #[test]
    fn what_is_not_an_array_of_a_hud_file_reads_as_nothing() {
        assert_eq!(
            decode("Client", serde_json::json!({"PersonalID": "1"})),
            None
        );
        assert_eq!(decode("Nope", serde_json::json!(["1"])), None);
        assert_eq!(decode_text("Client", "{\"PersonalID\": \"1\"}"), None);
    }
}
