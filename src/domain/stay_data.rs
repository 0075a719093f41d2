//! The structured part of each kind of stay datum, typed: one struct per kind with its HUD fields
//! and codes. The same types build what is stored (`enrollment_data.fields`, jsonb), read it back
//! (a stored value that does not parse is an error, never a silent default), and are what the
//! HMIS CSV mapping reads. Free text (`text`) is kept beside them, not in them.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

// The kind of assessment (4.19 is the CE assessment; `observational` is Chicago's local type).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AssessmentKind {
    CoordinatedEntry,
    /// Chicago's local type for clients who refuse assessment.
    Observational,
}

/// Why a client declined (optional; no free text, so nothing identifying).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RefusalReason {
    DeclinedToEngage,
    DeclinedAssessment,
    PrivacyConcerns,
    UnableToParticipate,
    Other,
}

/// A service provided during the stay.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceFields {
    pub service_type: String,
    pub quantity: Option<f64>,
}

/// HUD 4.19 Coordinated Entry Assessment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssessmentFields {
    pub assessment_kind: AssessmentKind,
    /// 4.19.3
    pub assessment_type: i16,
    /// 4.19.4
    pub assessment_level: i16,
    /// 4.19.7
    pub prioritization_status: Option<i16>,
    pub priority_score: Option<f64>,
    /// 4.19.2 Assessment Location (typed text: dropped below full access).
    pub assessment_location: Option<String>,
}

/// HUD 4.20 Coordinated Entry Event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CeEventFields {
    /// 4.20.2
    pub event: i16,
    pub prob_sol_div_rr_result: Option<i16>,
    pub referral_case_manage_after: Option<i16>,
    /// Typed text: dropped below full access.
    pub location_crisis_or_ph_housing: Option<String>,
    /// 4.20.D
    pub referral_result: Option<i16>,
    pub result_date: Option<NaiveDate>,
}

/// HUD 4.12 Current Living Situation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CurrentLivingSituationFields {
    pub current_living_situation: i16,
    /// Typed text: dropped below full access.
    pub verified_by: Option<String>,
}

/// A refusal to engage in or be assessed by Coordinated Entry (Chicago).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefusalFields {
    pub reason_code: Option<RefusalReason>,
}

/// A case note: all of it is free text, kept beside the fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseNoteFields {}

/// The structured part of one stay datum.
#[derive(Debug, Clone, PartialEq)]
pub enum StayFields {
    Service(ServiceFields),
    Assessment(AssessmentFields),
    CeEvent(CeEventFields),
    CurrentLivingSituation(CurrentLivingSituationFields),
    CaseNote(CaseNoteFields),
    Refusal(RefusalFields),
}

/// A stored value that does not parse as its kind.
#[derive(Debug, thiserror::Error)]
#[error("stored {kind} fields do not parse: {reason}")]
pub struct StoredFieldsError {
    pub kind: &'static str,
    pub reason: String,
}

impl StayFields {
    /// The word stored in `enrollment_data.kind`.
    pub fn kind_str(&self) -> &'static str {
        match self {
            Self::Service(_) => "service",
            Self::Assessment(_) => "assessment",
            Self::CeEvent(_) => "ce_event",
            Self::CurrentLivingSituation(_) => "current_living_situation",
            Self::CaseNote(_) => "case_note",
            Self::Refusal(_) => "refusal",
        }
    }

    /// What is stored.
    pub fn to_json(&self) -> serde_json::Value {
        let v = match self {
            Self::Service(f) => serde_json::to_value(f),
            Self::Assessment(f) => serde_json::to_value(f),
            Self::CeEvent(f) => serde_json::to_value(f),
            Self::CurrentLivingSituation(f) => serde_json::to_value(f),
            Self::CaseNote(f) => serde_json::to_value(f),
            Self::Refusal(f) => serde_json::to_value(f),
        };
        v.expect("plain structs serialize")
    }

    /// Reads a stored value of kind `kind`.
    pub fn from_stored(kind: &str, v: &serde_json::Value) -> Result<StayFields, StoredFieldsError> {
        fn parse<T: serde::de::DeserializeOwned>(
            kind: &'static str,
            v: &serde_json::Value,
        ) -> Result<T, StoredFieldsError> {
            T::deserialize(v).map_err(|e| StoredFieldsError {
                kind,
                reason: e.to_string(),
            })
        }
        Ok(match kind {
            "service" => Self::Service(parse("service", v)?),
            "assessment" => Self::Assessment(parse("assessment", v)?),
            "ce_event" => Self::CeEvent(parse("ce_event", v)?),
            "current_living_situation" => {
                Self::CurrentLivingSituation(parse("current_living_situation", v)?)
            }
            "case_note" => Self::CaseNote(parse("case_note", v)?),
            "refusal" => Self::Refusal(parse("refusal", v)?),
            _ => {
                return Err(StoredFieldsError {
                    kind: "unknown",
                    reason: "unknown kind".into(),
                })
            }
        })
    }

    /// The names of the typed-text fields, dropped with the free text below full access.
    pub fn text_field_names(&self) -> &'static [&'static str] {
        match self {
            Self::Assessment(_) => &["assessment_location"],
            Self::CeEvent(_) => &["location_crisis_or_ph_housing"],
            Self::CurrentLivingSituation(_) => &["verified_by"],
            _ => &[],
        }
    }

    /// The structured part as shown below full access: the typed-text keys left out.
    pub fn without_text(&self) -> serde_json::Value {
        let mut v = self.to_json();
        if let Some(o) = v.as_object_mut() {
            for f in self.text_field_names() {
                o.remove(*f);
            }
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_round_trips_through_storage() {
        let all = vec![
            StayFields::Service(ServiceFields {
                service_type: "meal".into(),
                quantity: Some(2.0),
            }),
            StayFields::Assessment(AssessmentFields {
                assessment_kind: AssessmentKind::Observational,
                assessment_type: 3,
                assessment_level: 2,
                prioritization_status: Some(1),
                priority_score: Some(14.5),
                assessment_location: Some("Drop-in".into()),
            }),
            StayFields::CeEvent(CeEventFields {
                event: 14,
                prob_sol_div_rr_result: None,
                referral_case_manage_after: None,
                location_crisis_or_ph_housing: None,
                referral_result: Some(1),
                result_date: NaiveDate::from_ymd_opt(2026, 1, 2),
            }),
            StayFields::CurrentLivingSituation(CurrentLivingSituationFields {
                current_living_situation: 116,
                verified_by: Some("outreach".into()),
            }),
            StayFields::CaseNote(CaseNoteFields {}),
            StayFields::Refusal(RefusalFields {
                reason_code: Some(RefusalReason::PrivacyConcerns),
            }),
        ];
        for f in all {
            let back = StayFields::from_stored(f.kind_str(), &f.to_json()).unwrap();
            assert_eq!(back, f);
        }
    }

    #[test]
    fn a_stored_value_that_does_not_parse_is_an_error_not_a_default() {
        let v = serde_json::json!({"service_type": 7});
        assert!(StayFields::from_stored("service", &v).is_err());
        let v = serde_json::json!({"assessment_kind": "phone_screen", "assessment_type": 1, "assessment_level": 1});
        assert!(StayFields::from_stored("assessment", &v).is_err());
        assert!(StayFields::from_stored("nonsense", &serde_json::json!({})).is_err());
    }

    #[test]
    fn below_full_access_the_typed_text_is_left_out() {
        let f = StayFields::CurrentLivingSituation(CurrentLivingSituationFields {
            current_living_situation: 116,
            verified_by: Some("outreach".into()),
        });
        assert_eq!(
            f.without_text(),
            serde_json::json!({"current_living_situation": 116})
        );
    }
}
