//! How this API writes a date, and the one way it reads one: `YYYY-MM-DD`, a year of four
//! digits from 0001 to 9999 (what PostgreSQL's `date` and the contract's `format: date` hold).
//!
//! chrono reads more than that (`-2026-01-01`, `+2026-01-01`, `2026-1-1`, `0000-01-01`, spaces
//! between the parts): every date a request carries (a body field or a query parameter) is held
//! to this rule before chrono reads it (`api::edge`), and a date read by hand uses
//! [`parse_date`].

use chrono::{Datelike, NaiveDate};

/// The years a date may have.
pub const YEARS: std::ops::RangeInclusive<i32> = 1..=9999;

/// What a refused date is told.
pub const DATE_RULE: &str = "Dates are YYYY-MM-DD with a year from 0001 to 9999.";

/// `s` as a date written `YYYY-MM-DD` with a year in [`YEARS`], on a day that exists.
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    let shaped = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shaped {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s[r].parse::<u32>().ok();
    let d = NaiveDate::from_ymd_opt(num(0..4)? as i32, num(5..7)?, num(8..10)?)?;
    YEARS.contains(&d.year()).then_some(d)
}

/// True when chrono reads `s` as a date (`NaiveDate`'s `FromStr`, which serde uses) although it
/// is not one [`parse_date`] takes: a sign, a year of other than four digits or out of
/// [`YEARS`], a one-digit month or day, spaces. A string that is no date at all is not one.
pub fn is_misshapen_date(s: &str) -> bool {
    // Only digits, signs, dashes and spaces can make a date: anything else (most text, and
    // every long base64 value) is left at its first other character.
    let candidate = s.contains('-')
        && s.chars()
            .all(|c| c.is_ascii_digit() || c == '-' || c == '+' || c.is_whitespace());
    candidate && s.parse::<NaiveDate>().is_ok() && parse_date(s).is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_four_digit_years_in_range_are_dates() {
        assert_eq!(
            parse_date("2026-01-31"),
            NaiveDate::from_ymd_opt(2026, 1, 31)
        );
        assert_eq!(parse_date("0001-01-01"), NaiveDate::from_ymd_opt(1, 1, 1));
        assert_eq!(
            parse_date("9999-12-31"),
            NaiveDate::from_ymd_opt(9999, 12, 31)
        );
        for bad in [
            "-2026-01-01",
            "+2026-01-01",
            "2026-1-1",
            "2026-01-1",
            "0000-01-01",
            "12026-01-01",
            " 2026-01-01",
            "2026-01-01 ",
            "2026 -01-01",
            "2026-02-30",
            "2026-13-01",
            "2026/01/01",
            "２０２６-01-01",
            "",
        ] {
            assert_eq!(parse_date(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn what_chrono_reads_and_this_api_does_not_is_misshapen() {
        for bad in [
            "-2026-01-01",
            "+2026-01-01",
            "2026-1-1",
            "0000-01-01",
            "2026-01-01 ",
            "2026 - 01 - 01",
            "+10000-01-01",
        ] {
            assert!(s_parses(bad), "chrono reads {bad:?}");
            assert!(is_misshapen_date(bad), "{bad:?}");
        }
        // Dates, and what is no date at all (chrono refuses it too), are not.
        for fine in [
            "2026-01-01",
            "0001-01-01",
            "2026-02-30",
            "312-555-0100",
            "+1 555 0100",
            "123-45-6789",
            "Ann-Marie",
            "2026",
            "-",
        ] {
            assert!(!is_misshapen_date(fine), "{fine:?}");
        }
    }

    fn s_parses(s: &str) -> bool {
        s.parse::<NaiveDate>().is_ok()
    }
}
