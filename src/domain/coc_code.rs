//! HUD Continuum of Care code (list 2.03.1): two capital letters, a dash, three digits.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::DomainError;

/// A valid CoC code such as `IL-510`. Serde goes through [`CocCode::parse`], so a payload can
/// never smuggle in an invalid one.
/// Stored in text columns: a stored code that does not parse is an error, not a default.
#[derive(
    Debug,
    Clone,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    diesel::AsExpression,
    diesel::FromSqlRow,
)]
#[diesel(sql_type = diesel::sql_types::Text)]
#[serde(try_from = "String", into = "String")]
pub struct CocCode(String);

super::words::text_column!(CocCode, |s| CocCode::parse(s).ok());

impl CocCode {
    /// Trims surrounding whitespace; refuses lowercase rather than upcasing it, because HUD's
    /// list is upper case and silently fixing input would hide a caller's bug.
    pub fn parse(s: &str) -> Result<CocCode, DomainError> {
        let t = s.trim();
        let b = t.as_bytes();
        let ok = b.len() == 6
            && b[..2].iter().all(u8::is_ascii_uppercase)
            && b[2] == b'-'
            && b[3..].iter().all(u8::is_ascii_digit);
        if ok {
            Ok(CocCode(t.to_string()))
        } else {
            Err(DomainError::new(
                "coc_code_format",
                "CoC code must be two capital letters, a dash and three digits (like IL-510)",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CocCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for CocCode {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CocCode::parse(s)
    }
}

impl TryFrom<String> for CocCode {
    type Error = DomainError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        CocCode::parse(&s)
    }
}

impl From<CocCode> for String {
    fn from(c: CocCode) -> String {
        c.0
    }
}

impl std::ops::Deref for CocCode {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for CocCode {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<String> for CocCode {
    fn eq(&self, other: &String) -> bool {
        &self.0 == other
    }
}

impl AsRef<str> for CocCode {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_real_codes() {
        for c in ["IL-510", "WA-502", "MN-500", "CA-602"] {
            assert_eq!(CocCode::parse(c).unwrap().as_str(), c);
        }
    }

    #[test]
    fn trims() {
        assert_eq!(CocCode::parse("  IL-510\n").unwrap().as_str(), "IL-510");
    }

    #[test]
    fn refuses_wrong_shapes() {
        for c in [
            "", "il-510", "Il-510", "IL510", "IL-51", "IL-5100", "ILL-510", "I-510", "IL_510",
            "IL-51O", "IL -510", "ÎL-510", "IL-５10", "1L-510",
        ] {
            let e = CocCode::parse(c).unwrap_err();
            assert_eq!(e.code, "coc_code_format", "{c:?}");
        }
    }

    #[test]
    fn message_does_not_echo_value() {
        let e = CocCode::parse("zz-999x").unwrap_err();
        assert!(!e.message.contains("zz-999x"));
    }

    #[test]
    fn serde_round_trip_validates() {
        let c: CocCode = serde_json::from_str("\"WA-502\"").unwrap();
        assert_eq!(serde_json::to_string(&c).unwrap(), "\"WA-502\"");
        assert!(serde_json::from_str::<CocCode>("\"wa-502\"").is_err());
        assert_eq!("IL-510".parse::<CocCode>().unwrap().to_string(), "IL-510");
    }

    proptest! {
        #[test]
        fn every_well_formed_code_parses(s in "[A-Z]{2}-[0-9]{3}") {
            let c = CocCode::parse(&s).unwrap();
            prop_assert_eq!(c.as_str(), s.as_str());
        }

        #[test]
        fn surrounding_whitespace_is_ignored(s in "[A-Z]{2}-[0-9]{3}", l in "[ \t\n]{0,3}", r in "[ \t\n]{0,3}") {
            let padded = format!("{l}{s}{r}");
            let c = CocCode::parse(&padded).unwrap();
            prop_assert_eq!(c.as_str(), s.as_str());
        }

        #[test]
        fn any_lowercase_letter_is_refused(a in "[a-zA-Z]", b in "[a-z]", d in "[0-9]{3}") {
            let one = format!("{}{}-{}", a, b, d);
            let two = format!("{}{}-{}", b, a, d);
            prop_assert!(CocCode::parse(&one).is_err());
            prop_assert!(CocCode::parse(&two).is_err());
        }
    }
}
