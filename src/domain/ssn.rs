//! HUD 3.02 Social Security Number: a full SSN, or only its last four digits (what HUD CoC,
//! ESG and PATH projects need).

use std::fmt;

use super::DomainError;

/// A validated SSN, digits only. `Debug` is redacted on purpose: an SSN must never reach a log
/// line through `{:?}` on a struct that happens to hold one.
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum Ssn {
    /// Nine digits, no dashes.
    Full(String),
    /// Four digits.
    LastFour(String),
}

fn format_error() -> DomainError {
    DomainError::new(
        "ssn_format",
        "ssn must be 9 digits (123-45-6789 or 123456789) or the last 4 digits",
    )
}

fn placeholder_error() -> DomainError {
    DomainError::new(
        "ssn_placeholder",
        "ssn is a placeholder or was never issued; send no ssn and a data quality code instead",
    )
}

impl Ssn {
    pub fn parse(s: &str) -> Result<Ssn, DomainError> {
        let t = s.trim();
        let b = t.as_bytes();
        let all_digits = |x: &[u8]| x.iter().all(u8::is_ascii_digit);
        let digits: String = match b.len() {
            4 if all_digits(b) => {
                // A serial of 0000 is never issued, so "0000" cannot be anyone's last four.
                if t == "0000" {
                    return Err(placeholder_error());
                }
                return Ok(Ssn::LastFour(t.to_string()));
            }
            9 if all_digits(b) => t.to_string(),
            11 if b[3] == b'-'
                && b[6] == b'-'
                && all_digits(&b[..3])
                && all_digits(&b[4..6])
                && all_digits(&b[7..]) =>
            {
                [&t[..3], &t[4..6], &t[7..]].concat()
            }
            _ => return Err(format_error()),
        };
        if is_placeholder(&digits) {
            return Err(placeholder_error());
        }
        Ok(Ssn::Full(digits))
    }

    /// The stored digits: nine for `Full`, four for `LastFour`.
    pub fn digits(&self) -> &str {
        match self {
            Ssn::Full(d) | Ssn::LastFour(d) => d,
        }
    }

    pub fn last_four(&self) -> &str {
        let d = self.digits();
        &d[d.len() - 4..]
    }

    pub fn is_full(&self) -> bool {
        matches!(self, Ssn::Full(_))
    }

    /// HUD 3.02.2 quality the value implies: 1 full SSN reported, 2 partial.
    pub fn quality(&self) -> i16 {
        if self.is_full() {
            1
        } else {
            2
        }
    }

    /// `123-45-6789` for a full SSN, the four digits otherwise: for display at level `full`.
    pub fn formatted(&self) -> String {
        match self {
            Ssn::Full(d) => format!("{}-{}-{}", &d[..3], &d[3..5], &d[5..]),
            Ssn::LastFour(d) => d.clone(),
        }
    }

    /// `***-**-6789`: what a screen shows when it only needs to tell records apart.
    pub fn masked(&self) -> String {
        format!("***-**-{}", self.last_four())
    }
}

/// Values SSA never issues, and the ones people type when they have no SSN. HUD wants those
/// sent as "no SSN" plus a quality code so reports count them as missing, not as data.
fn is_placeholder(d: &str) -> bool {
    let b = d.as_bytes();
    let area = &d[..3];
    b.iter().all(|&c| c == b[0])
        || d == "123456789"
        || area == "000"
        || area == "666"
        || b[0] == b'9'
        || &d[3..5] == "00"
        || &d[5..] == "0000"
}

impl fmt::Debug for Ssn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ssn::Full(_) => f.write_str("Ssn::Full(<redacted>)"),
            Ssn::LastFour(_) => f.write_str("Ssn::LastFour(<redacted>)"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn code(s: &str) -> &'static str {
        Ssn::parse(s).unwrap_err().code
    }

    #[test]
    fn accepts_the_three_shapes() {
        let a = Ssn::parse("234-56-7890").unwrap();
        assert_eq!(a, Ssn::Full("234567890".into()));
        assert_eq!(Ssn::parse("234567890").unwrap(), a);
        assert_eq!(Ssn::parse(" 234-56-7890 ").unwrap(), a);
        assert_eq!(a.digits(), "234567890");
        assert_eq!(a.last_four(), "7890");
        assert!(a.is_full());
        assert_eq!(a.quality(), 1);
        assert_eq!(a.formatted(), "234-56-7890");
        assert_eq!(a.masked(), "***-**-7890");

        let l = Ssn::parse("6789").unwrap();
        assert_eq!(l, Ssn::LastFour("6789".into()));
        assert_eq!(l.digits(), "6789");
        assert_eq!(l.last_four(), "6789");
        assert!(!l.is_full());
        assert_eq!(l.quality(), 2);
        assert_eq!(l.formatted(), "6789");
    }

    #[test]
    fn refuses_wrong_shapes() {
        for s in [
            "",
            "12345678",
            "1234567890",
            "234-567-890",
            "234 56 7890",
            "234-56-789O",
            "234--567890",
            "23-456-7890",
            "678",
            "67890",
            "6 789",
            "２３４５６７８９０",
            "xxx-xx-6789",
            "+34567890",
        ] {
            assert_eq!(code(s), "ssn_format", "{s:?}");
        }
    }

    #[test]
    fn refuses_placeholders_and_never_issued_numbers() {
        for s in [
            "000-00-0000",
            "111-11-1111",
            "222222222",
            "999-99-9999",
            "123-45-6789",
            "123456789",
            "000-12-3456",
            "666-12-3456",
            "900-12-3456",
            "987-65-4321",
            "234-00-5678",
            "234-56-0000",
            "0000",
        ] {
            assert_eq!(code(s), "ssn_placeholder", "{s:?}");
        }
    }

    #[test]
    fn edges_of_the_issued_ranges_are_accepted() {
        for s in ["001-01-0001", "665-99-9999", "667-01-0001", "899-99-9998"] {
            assert!(Ssn::parse(s).is_ok(), "{s}");
        }
        assert!(Ssn::parse("0001").is_ok());
        // Last four alone cannot be checked for placeholders beyond 0000.
        assert!(Ssn::parse("1111").is_ok());
    }

    #[test]
    fn errors_and_debug_never_show_the_digits() {
        for s in ["123-45-6789", "98765", "666-12-3456"] {
            let e = Ssn::parse(s).unwrap_err();
            assert!(!e.message.contains(s) && !e.message.contains(&s[..3]));
        }
        let d = format!("{:?}", Ssn::parse("234-56-7890").unwrap());
        assert!(!d.contains("7890") && !d.contains("234"), "{d}");
        assert!(!format!("{:?}", Ssn::parse("6789").unwrap()).contains("6789"));
    }

    proptest! {
        #[test]
        fn dashed_and_plain_forms_agree(a in 1u32..900, g in 1u32..100, s in 1u32..10000) {
            let dashed = format!("{a:03}-{g:02}-{s:04}");
            let plain = format!("{a:03}{g:02}{s:04}");
            prop_assert_eq!(Ssn::parse(&dashed), Ssn::parse(&plain));
            if let Ok(ssn) = Ssn::parse(&dashed) {
                prop_assert_eq!(ssn.formatted(), dashed);
                prop_assert_eq!(ssn.digits(), plain.as_str());
            }
        }

        #[test]
        fn issued_ranges_parse(a in 1u32..900, g in 1u32..100, s in 1u32..10000) {
            prop_assume!(a != 666);
            let d = format!("{a:03}{g:02}{s:04}");
            prop_assume!(d != "123456789" && !d.bytes().all(|c| c == d.as_bytes()[0]));
            prop_assert!(Ssn::parse(&d).unwrap().is_full());
        }

        #[test]
        fn area_9xx_is_refused(a in 900u32..1000, g in 0u32..100, s in 0u32..10000) {
            prop_assert_eq!(code(&format!("{a}-{g:02}-{s:04}")), "ssn_placeholder");
        }

        #[test]
        fn never_panics(s in "\\PC{0,14}") {
            let _ = Ssn::parse(&s);
        }
    }
}
