//! Pure domain rules: HUD codes and the validation that holds in every identity mode.
//!
//! Nothing here does I/O or reads the clock: callers pass `today`, so every rule is testable
//! without a database and gives the same answer wherever it is applied.

pub mod coc_code;
pub mod contract_words;
pub mod dates;
pub mod dob;
pub mod hud;
pub mod identity;
pub mod names;
pub mod nicknames;
pub mod patch;
pub mod pii;
pub mod quality;
pub mod scrub;
pub mod ssn;
pub mod stay_data;
pub mod words;

pub use coc_code::CocCode;
pub use dob::{anonymous_dob, validate_dob, AnonymousDobRule};
pub use hud::{check_code, destination_for_project_type, destination_needs_subsidy, HudList};
pub use names::{has_hidden_characters, has_visible_word, normalize_name, NAME_MAX_CHARS};
pub use pii::{contains_pii, pii_spans, scan_pii, PiiKind, PiiSpan};
pub use quality::{check_quality, check_ssn_quality, QualityField};
pub use ssn::Ssn;

/// A refused value. `code` is a stable snake_case word clients can branch on; `message` is for
/// people and never holds the submitted value, because the values refused here are often PII
/// and messages end up in logs, audit rows and 422 bodies.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct DomainError {
    pub code: &'static str,
    pub message: String,
}

impl DomainError {
    pub fn new(code: &'static str, message: impl Into<String>) -> DomainError {
        DomainError {
            code,
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_the_message_only() {
        let e = DomainError::new("ssn_format", "ssn must be 9 digits");
        assert_eq!(e.to_string(), "ssn must be 9 digits");
        assert_eq!(e.code, "ssn_format");
    }
}
