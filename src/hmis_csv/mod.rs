//! HUD HMIS CSV (FY2024 and FY2026): the file specification and a validator. Pure: no database,
//! no HTTP. The spec tables in `spec_data.rs` are generated from HUD's sheets in
//! `../shared/hmis-csv-spec/` by `generate.rs` (a test checks they have not drifted).

#[rustfmt::skip]
mod spec_data;
pub mod export_ids;
pub mod export_kept;
pub mod export_map;
pub mod export_zip;
pub mod import_map;
pub mod kept;
pub mod read;
pub mod sample;
pub mod validate;

#[cfg(test)]
mod generate;
#[cfg(test)]
mod tests;

pub use validate::{validate_path, Limits, Problem, Report, Severity};

/// A format version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Version {
    Fy2024,
    Fy2026,
}

/// A column's type in HUD's notation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ty {
    /// `I`
    Int,
    /// `S<n>` (`S` alone: no stated length)
    Str(Option<u32>),
    /// `D`: `YYYY-MM-DD`
    Date,
    /// `T`: `YYYY-MM-DD HH:MM:SS`
    Timestamp,
    /// `M` (`M+`: not negative)
    Money { non_negative: bool },
}

/// A code list chosen by the values of other columns in the same row (HUD's "CheckOtherElement").
/// A condition value starting with `!` means "not equal".
#[derive(Debug)]
pub struct CondList {
    pub when: &'static [(&'static str, &'static str)],
    pub list: &'static str,
}

#[derive(Debug)]
pub struct Column {
    pub name: &'static str,
    pub ty: Ty,
    pub list: Option<&'static str>,
    pub nullable: bool,
    /// Values of the list this column may not take (HUD's "NotInList").
    pub excluded: &'static [&'static str],
    pub cond_lists: &'static [CondList],
}

/// A column whose non-null values must be keys of another file.
#[derive(Debug)]
pub struct Parent {
    pub column: &'static str,
    pub file: &'static str,
    /// Reported as a warning (vendors' `UserID`s often point to users not exported).
    pub warn_only: bool,
}

#[derive(Debug)]
pub struct FileSpec {
    /// Without `.csv`.
    pub name: &'static str,
    pub columns: &'static [Column],
    /// The primary key column (the first).
    pub key: &'static str,
    pub parents: &'static [Parent],
}

#[derive(Debug)]
pub struct Spec {
    pub version: Version,
    pub files: &'static [FileSpec],
    pub lists: &'static [(&'static str, &'static [&'static str])],
}

/// A HUD `D` value, `YYYY-MM-DD` exactly, as a date: the API's one date shape
/// (`domain::dates`, years 0001 to 9999, as PostgreSQL's `date` holds them). Read by hand:
/// chrono's format parser was a seventh of the validator's time.
pub use crate::domain::dates::parse_date;

/// A HUD `T` value, `YYYY-MM-DD HH:MM:SS` exactly, as a date and time.
pub fn parse_timestamp(v: &str) -> Option<chrono::NaiveDateTime> {
    let b = v.as_bytes();
    if b.len() != 19 || b[10] != b' ' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    parse_date(&v[..10])?.and_hms_opt(
        digits(&b[11..13])?,
        digits(&b[14..16])?,
        digits(&b[17..19])?,
    )
}

fn digits(b: &[u8]) -> Option<u32> {
    b.iter().try_fold(0u32, |n, &c| {
        c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
    })
}

impl Spec {
    /// The values of code list `id` as a set (built once per version).
    pub fn list_set(&self, id: &str) -> Option<&'static std::collections::HashSet<&'static str>> {
        use std::collections::{HashMap, HashSet};
        use std::sync::OnceLock;
        type Sets = HashMap<&'static str, HashSet<&'static str>>;
        static SETS: [OnceLock<Sets>; 2] = [OnceLock::new(), OnceLock::new()];
        let lists = self.lists;
        let i = match self.version {
            Version::Fy2024 => 0,
            Version::Fy2026 => 1,
        };
        SETS[i]
            .get_or_init(|| {
                lists
                    .iter()
                    .map(|(l, v)| (*l, v.iter().copied().collect()))
                    .collect()
            })
            .get(id)
    }

    pub fn get(version: Version) -> &'static Spec {
        match version {
            Version::Fy2024 => &spec_data::FY2024,
            Version::Fy2026 => &spec_data::FY2026,
        }
    }

    pub fn file(&self, name: &str) -> Option<&'static FileSpec> {
        self.files
            .iter()
            .find(|f| f.name.eq_ignore_ascii_case(name))
    }

    pub fn list(&self, id: &str) -> Option<&'static [&'static str]> {
        self.lists.iter().find(|(l, _)| *l == id).map(|(_, v)| *v)
    }
}
