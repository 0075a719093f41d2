//! HUD data quality codes (3.01.5, 3.02.2, 3.03.2) must agree with the value they describe:
//! a value present is "full" (1) or "partial/approximate" (2), a value absent is one of the
//! missing-data reasons (8, 9, 99). HUD reports count a disagreement as a data quality error.

use super::ssn::Ssn;
use super::DomainError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QualityField {
    Name,
    Ssn,
    Dob,
}

impl QualityField {
    /// The payload field the code travels in, used in messages.
    pub fn as_str(&self) -> &'static str {
        match self {
            QualityField::Name => "name_data_quality",
            QualityField::Ssn => "ssn_data_quality",
            QualityField::Dob => "dob_data_quality",
        }
    }

    fn value_name(&self) -> &'static str {
        match self {
            QualityField::Name => "name",
            QualityField::Ssn => "ssn",
            QualityField::Dob => "dob",
        }
    }
}

const PRESENT: [i16; 2] = [1, 2];
const ABSENT: [i16; 3] = [8, 9, 99];

pub fn check_quality(
    field: QualityField,
    value_present: bool,
    quality: i16,
) -> Result<(), DomainError> {
    let f = field.as_str();
    if !PRESENT.contains(&quality) && !ABSENT.contains(&quality) {
        return Err(DomainError::new(
            "quality_code_unknown",
            format!("{f} must be one of 1, 2, 8, 9, 99"),
        ));
    }
    let v = field.value_name();
    if value_present && !PRESENT.contains(&quality) {
        return Err(DomainError::new(
            "quality_mismatch",
            format!("{f} must be 1 or 2 when a {v} is given"),
        ));
    }
    if !value_present && !ABSENT.contains(&quality) {
        return Err(DomainError::new(
            "quality_mismatch",
            format!("{f} must be 8, 9 or 99 when no {v} is given"),
        ));
    }
    Ok(())
}

/// Stricter than [`check_quality`] for SSNs because the shape tells the truth: nine digits are
/// a full SSN (1), four digits are partial (2). Accepting "partial" for nine digits would let a
/// full SSN be reported as if only the last four were held.
pub fn check_ssn_quality(ssn: Option<&Ssn>, quality: i16) -> Result<(), DomainError> {
    check_quality(QualityField::Ssn, ssn.is_some(), quality)?;
    match ssn {
        Some(s) if s.quality() != quality => Err(DomainError::new(
            "quality_mismatch",
            if s.is_full() {
                "ssn_data_quality must be 1 when a full ssn is given"
            } else {
                "ssn_data_quality must be 2 when only the last four digits are given"
            },
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const FIELDS: [QualityField; 3] = [QualityField::Name, QualityField::Ssn, QualityField::Dob];

    #[test]
    fn present_values_take_1_or_2() {
        for f in FIELDS {
            assert!(check_quality(f, true, 1).is_ok());
            assert!(check_quality(f, true, 2).is_ok());
            for q in ABSENT {
                let e = check_quality(f, true, q).unwrap_err();
                assert_eq!(e.code, "quality_mismatch");
                assert!(e.message.contains(f.as_str()));
            }
        }
    }

    #[test]
    fn absent_values_take_8_9_or_99() {
        for f in FIELDS {
            for q in ABSENT {
                assert!(check_quality(f, false, q).is_ok());
            }
            for q in PRESENT {
                assert_eq!(
                    check_quality(f, false, q).unwrap_err().code,
                    "quality_mismatch"
                );
            }
        }
    }

    #[test]
    fn unknown_codes_are_refused_either_way() {
        for f in FIELDS {
            for q in [0, 3, 7, 10, 98, 100, -1, i16::MAX] {
                for present in [true, false] {
                    let e = check_quality(f, present, q).unwrap_err();
                    assert_eq!(e.code, "quality_code_unknown", "{f:?} {q}");
                }
            }
        }
    }

    #[test]
    fn ssn_quality_follows_the_shape() {
        let full = Ssn::parse("234-56-7890").unwrap();
        let four = Ssn::parse("7890").unwrap();
        assert!(check_ssn_quality(Some(&full), 1).is_ok());
        assert!(check_ssn_quality(Some(&four), 2).is_ok());
        assert_eq!(
            check_ssn_quality(Some(&full), 2).unwrap_err().code,
            "quality_mismatch"
        );
        assert_eq!(
            check_ssn_quality(Some(&four), 1).unwrap_err().code,
            "quality_mismatch"
        );
        assert_eq!(
            check_ssn_quality(Some(&four), 9).unwrap_err().code,
            "quality_mismatch"
        );
        assert!(check_ssn_quality(None, 99).is_ok());
        assert!(check_ssn_quality(None, 9).is_ok());
        assert_eq!(
            check_ssn_quality(None, 1).unwrap_err().code,
            "quality_mismatch"
        );
        assert_eq!(
            check_ssn_quality(None, 5).unwrap_err().code,
            "quality_code_unknown"
        );
    }

    proptest! {
        #[test]
        fn exactly_one_presence_fits_each_known_code(q in prop_oneof![Just(1i16), Just(2), Just(8), Just(9), Just(99)], i in 0usize..3) {
            let f = FIELDS[i];
            prop_assert!(check_quality(f, true, q).is_ok() != check_quality(f, false, q).is_ok());
        }

        #[test]
        fn anything_else_is_unknown(q in any::<i16>(), present in any::<bool>(), i in 0usize..3) {
            prop_assume!(![1, 2, 8, 9, 99].contains(&q));
            prop_assert_eq!(check_quality(FIELDS[i], present, q).unwrap_err().code, "quality_code_unknown");
        }
    }
}
