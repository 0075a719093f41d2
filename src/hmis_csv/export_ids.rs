//! The ids an export writes for source ids (docs/hmis-csv.md, "Ids"). Pure.
//!
//! A source id is unique only within the agency that imported it: two agencies of a CoC that
//! import their vendors' exports may both have an `ORG1`, a `Client-1` (two different people) or
//! an `Enrollment-7`. An export of the CoC must still give every row of a file its own key. The
//! rule:
//!
//! - a source id is written as it came when no other agency of the exported CoC imported the same
//!   id in the same file (nor did Hearth make a row of that file whose id it is), so an import
//!   exported again comes back byte for byte;
//! - otherwise, and when the agency that imported it is not one of the CoC's, it is written made
//!   unique per agency ([`unique_id`]): deterministic (the same agency and source id always give
//!   the same id, whoever exports), at most 32 characters, and every reference to it (`PersonalID`,
//!   `EnrollmentID`, `HouseholdID`, `ProjectID`, `OrganizationID`, `UserID`, `AssessmentID`) is
//!   rewritten the same way.

use std::collections::{HashMap, HashSet};

use sha2::{Digest, Sha256};
use uuid::Uuid;

/// The longest id HUD allows (`S32`).
pub const MAX_ID: usize = 32;

/// An agency's tag: the first 8 hex digits of SHA-256 of its id.
pub fn agency_tag(agency: Uuid) -> String {
    let d = Sha256::digest(agency.as_bytes());
    d.iter().take(4).map(|b| format!("{b:02x}")).collect()
}

/// `source` of `agency`, made unique per agency: `{tag}:{source}` when that fits in 32
/// characters, else the first 32 hex digits of SHA-256 of the agency's id and the source id.
/// Neither form is a 32-hex-digit id of Hearth's own with the colon; the hashed form could
/// equal another id only by a collision of SHA-256.
pub fn unique_id(agency: Uuid, source: &str) -> String {
    let tag = agency_tag(agency);
    if tag.len() + 1 + source.chars().count() <= MAX_ID {
        return format!("{tag}:{source}");
    }
    let mut h = Sha256::new();
    h.update(agency.as_bytes());
    h.update([0u8]);
    h.update(source.as_bytes());
    h.finalize()
        .iter()
        .take(MAX_ID / 2)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The id written for `source` of `agency`: as it came, or unique per agency when `rewrite`.
pub fn exported_id(agency: Uuid, source: &str, rewrite: bool) -> String {
    if rewrite {
        unique_id(agency, source)
    } else {
        source.to_string()
    }
}

/// Who holds which source id of the files that describe a CoC (Organization, Project, User,
/// ProjectCoC, Funder, ...), all of which an export reads at once: the rule above, in memory.
#[derive(Debug, Default)]
pub struct Owners {
    /// (file, source id) to the agencies that imported it.
    held: HashMap<(String, String), Vec<Uuid>>,
    /// The CoC's agencies.
    coc: HashSet<Uuid>,
    /// Ids Hearth writes of its own rows, per file (`Organization`, `Project`).
    hearth: HashSet<(String, String)>,
}

impl Owners {
    pub fn new(coc_agencies: impl IntoIterator<Item = Uuid>) -> Owners {
        Owners {
            coc: coc_agencies.into_iter().collect(),
            ..Owners::default()
        }
    }

    /// `agency` imported `source` in `file`.
    pub fn hold(&mut self, file: &str, source: &str, agency: Uuid) {
        let v = self
            .held
            .entry((file.to_string(), source.to_string()))
            .or_default();
        if !v.contains(&agency) {
            v.push(agency);
        }
    }

    /// Hearth writes `id` for a row of its own in `file`.
    pub fn hearth(&mut self, file: &str, id: String) {
        self.hearth.insert((file.to_string(), id));
    }

    /// Whether `source` of `file`, imported by `agency`, is written unique per agency.
    pub fn rewrite(&self, file: &str, agency: Uuid, source: &str) -> bool {
        let key = (file.to_string(), source.to_string());
        !self.coc.contains(&agency)
            || self.hearth.contains(&key)
            || self
                .held
                .get(&key)
                .is_some_and(|v| v.iter().any(|a| *a != agency))
    }

    /// The id written for `source` of `file`, imported by `agency`.
    pub fn id(&self, file: &str, agency: Uuid, source: &str) -> String {
        exported_id(agency, source, self.rewrite(file, agency, source))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_ids_are_deterministic_distinct_and_fit_s32() {
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        assert_eq!(unique_id(a, "Client-1"), unique_id(a, "Client-1"));
        assert_ne!(unique_id(a, "Client-1"), unique_id(b, "Client-1"));
        assert_ne!(unique_id(a, "Client-1"), unique_id(a, "Client-2"));
        assert_eq!(
            unique_id(a, "Client-1"),
            format!("{}:Client-1", agency_tag(a))
        );
        let long = "x".repeat(32);
        for s in ["1", "Client-1", &"y".repeat(23), &"y".repeat(24), &long] {
            let u = unique_id(a, s);
            assert!(u.chars().count() <= MAX_ID, "{u}");
            assert_ne!(u, s);
        }
        assert_ne!(unique_id(a, &long), unique_id(b, &long));
        assert_eq!(exported_id(a, "P-1", false), "P-1");
    }

    #[test]
    fn an_id_is_kept_unless_another_agency_or_hearth_has_it() {
        let (a, b, far) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let mut o = Owners::new([a, b]);
        o.hold("Organization", "ORG1", a);
        o.hold("Organization", "ORG1", b);
        o.hold("User", "U1", a);
        o.hold("User", "U2", b);
        o.hearth("Project", "0123".into());
        o.hold("Project", "0123", a);
        assert_eq!(o.id("User", a, "U1"), "U1");
        assert_eq!(o.id("User", b, "U2"), "U2");
        // A user an agency names without a User row of its own, another agency's id.
        assert_ne!(o.id("User", a, "U2"), "U2");
        assert_ne!(
            o.id("Organization", a, "ORG1"),
            o.id("Organization", b, "ORG1")
        );
        assert_ne!(o.id("Project", a, "0123"), "0123");
        // An agency of another CoC.
        assert_ne!(o.id("User", far, "U9"), "U9");
    }
}
