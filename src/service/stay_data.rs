//! Data attached to a stay: services, assessments (4.19, with a priority score), CE events
//! (4.20), current living situation (4.12), case notes. Each is a datum under the datum rule:
//! its structured part is shown at `non_pii`, its free text only at `full`.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::{Connection, PgConnection};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::consent::{DatumAccess, IdentityMode};
use crate::domain::stay_data::{
    AssessmentFields, CaseNoteFields, CeEventFields, CurrentLivingSituationFields, RefusalFields,
    ServiceFields, StayFields,
};
pub use crate::domain::stay_data::{AssessmentKind, RefusalReason};
use crate::domain::{check_code, HudList};
use crate::error::{AppError, AppResult, FieldError};
use crate::repo::stays::{self as repo, DatumRow};
use crate::repo::tenants as tenants_repo;
use crate::repo::visible;
use crate::service::client_input::free_text;
use crate::service::context::Caller;
use crate::service::stays::{check_date, load_stay, note_contribution};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StayDatumKind {
    Service,
    Assessment,
    CeEvent,
    CurrentLivingSituation,
    CaseNote,
    /// A refusal to engage or be assessed, on a Coordinated Entry stay (Chicago).
    Refusal,
}

impl StayDatumKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Service => "service",
            Self::Assessment => "assessment",
            Self::CeEvent => "ce_event",
            Self::CurrentLivingSituation => "current_living_situation",
            Self::CaseNote => "case_note",
            Self::Refusal => "refusal",
        }
    }
}

/// A service provided during the stay.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewService {
    pub date_provided: NaiveDate,
    /// A short code for the service (`meal`, `bed_night`, `case_management`): lowercase letters,
    /// digits, `_` and `-`.
    pub service_type: String,
    /// How much was provided (meals, nights, dollars...): 0 to 1,000,000.
    #[schema(minimum = 0, maximum = 1_000_000)]
    pub quantity: Option<f64>,
    /// Free text.
    pub note: Option<String>,
    /// When the data was collected (default: the datum's own date). Other agencies see it only
    /// if this day falls in an ROI window. Not before the datum's date nor the stay's entry.
    pub collected_on: Option<NaiveDate>,
}

/// HUD 4.19 Coordinated Entry Assessment.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAssessment {
    pub assessment_date: NaiveDate,
    #[serde(default = "default_assessment_kind")]
    pub assessment_kind: AssessmentKind,
    /// 4.19.3: 1 phone, 2 virtual, 3 in person.
    pub assessment_type: i16,
    /// 4.19.4: 1 crisis needs, 2 housing needs.
    pub assessment_level: i16,
    /// 4.19.7: 1 placed on the prioritization list, 2 not placed.
    pub prioritization_status: Option<i16>,
    /// The local prioritization score (higher is more urgent): -1,000,000 to 1,000,000.
    #[schema(minimum = -1_000_000, maximum = 1_000_000)]
    pub priority_score: Option<f64>,
    pub assessment_location: Option<String>,
    /// Free text (assessment notes).
    pub text: Option<String>,
    /// When the data was collected (default: the datum's own date). Other agencies see it only
    /// if this day falls in an ROI window. Not before the datum's date nor the stay's entry.
    pub collected_on: Option<NaiveDate>,
}

fn default_assessment_kind() -> AssessmentKind {
    AssessmentKind::CoordinatedEntry
}

/// HUD 4.20 Coordinated Entry Event.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCeEvent {
    pub event_date: NaiveDate,
    /// 4.20.2: 1 to 18.
    pub event: i16,
    /// 0 no, 1 yes (events 2).
    pub prob_sol_div_rr_result: Option<i16>,
    /// 0 no, 1 yes (event 2).
    pub referral_case_manage_after: Option<i16>,
    pub location_crisis_or_ph_housing: Option<String>,
    /// 4.20.D: 1 accepted, 2 client rejected, 3 provider rejected.
    pub referral_result: Option<i16>,
    pub result_date: Option<NaiveDate>,
    /// Free text.
    pub note: Option<String>,
    /// When the data was collected (default: the datum's own date). Other agencies see it only
    /// if this day falls in an ROI window. Not before the datum's date nor the stay's entry.
    pub collected_on: Option<NaiveDate>,
}

/// HUD 4.12 Current Living Situation.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCurrentLivingSituation {
    pub information_date: NaiveDate,
    /// 4.12 codes (37: worker unable to determine).
    pub current_living_situation: i16,
    pub verified_by: Option<String>,
    /// Free text.
    pub note: Option<String>,
    /// When the data was collected (default: the datum's own date). Other agencies see it only
    /// if this day falls in an ROI window. Not before the datum's date nor the stay's entry.
    pub collected_on: Option<NaiveDate>,
}

/// A refusal to engage in or be assessed by Coordinated Entry, recorded on the CE stay with the
/// date, the agency and the user (Chicago: "a section towards the top of the assessment to
/// record refusals").
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRefusal {
    pub refused_on: NaiveDate,
    pub reason_code: Option<RefusalReason>,
    /// When the data was collected (default: the datum's own date). Other agencies see it only
    /// if this day falls in an ROI window. Not before the datum's date nor the stay's entry.
    pub collected_on: Option<NaiveDate>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCaseNote {
    pub note_date: NaiveDate,
    /// Free text; refused for anonymous and code-name records when it matches a PII pattern.
    pub text: String,
    /// When the data was collected (default: the datum's own date). Other agencies see it only
    /// if this day falls in an ROI window. Not before the datum's date nor the stay's entry.
    pub collected_on: Option<NaiveDate>,
}

/// One datum attached to a stay, as the caller may see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StayDatum {
    pub id: Uuid,
    pub kind: StayDatumKind,
    pub enrollment_id: Uuid,
    pub client_id: Uuid,
    /// The service, assessment, event, information or note date.
    pub date: NaiveDate,
    /// The kind's structured fields (see the New* request schemas).
    #[schema(value_type = Object)]
    pub fields: serde_json::Value,
    /// Free text: present at access `full` only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// `full`, or `non_pii` (the structured part only).
    #[schema(value_type = crate::domain::contract_words::DatumAccessWord)]
    pub access: String,
    pub entered_by_agency_id: Uuid,
    pub entered_by_your_agency: bool,
    pub collected_on: NaiveDate,
    pub created_at: DateTime<Utc>,
}

fn view(
    r: &DatumRow,
    kind: StayDatumKind,
    access: DatumAccess,
    caller: &Caller,
) -> AppResult<StayDatum> {
    let full = access == DatumAccess::Full;
    // No silent fallback: a stored value that does not parse as its kind is a fault.
    let typed = StayFields::from_stored(kind.as_str(), &r.fields)
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let fields = if full {
        typed.to_json()
    } else {
        typed.without_text()
    };
    Ok(StayDatum {
        id: r.id,
        kind,
        enrollment_id: r.enrollment_id,
        client_id: r.client_id,
        date: r.occurred_on,
        fields,
        text: if full { r.text.clone() } else { None },
        access: crate::domain::contract_words::DatumAccessWord::of(full).into(),
        entered_by_agency_id: r.entered_by_agency,
        entered_by_your_agency: caller.principal.agency_id == Some(r.entered_by_agency),
        collected_on: r.collected_on,
        created_at: r.created_at,
    })
}

/// A validated datum: its date, structured part, free text and collection date.
pub struct Datum {
    pub date: NaiveDate,
    pub fields: StayFields,
    pub text: Option<String>,
    /// When the data was collected (default: the datum's own date). Other agencies see it only
    /// if this day falls in an ROI window. Not before the datum's date nor the stay's entry.
    pub collected_on: Option<NaiveDate>,
}

/// The largest service quantity (the contract's `maximum`; NaN is not in range either).
const MAX_QUANTITY: f64 = 1_000_000.0;
/// The largest priority score in magnitude.
const MAX_PRIORITY_SCORE: f64 = 1_000_000.0;

fn hud(list: HudList, field: &'static str, v: Option<i16>, errs: &mut Vec<FieldError>) {
    if let Some(v) = v {
        if let Err(e) = check_code(list, field, v as i32) {
            errs.push(FieldError::new(field, e.code, e.message));
        }
    }
}

fn yes_no(field: &str, v: Option<i16>, errs: &mut Vec<FieldError>) {
    if v.is_some_and(|v| !(0..=1).contains(&v)) {
        errs.push(FieldError::new(
            field,
            "code_not_in_list",
            format!("{field} is 0 (no) or 1 (yes)."),
        ));
    }
}

pub enum NewStayDatum {
    Service(NewService),
    Assessment(NewAssessment),
    CeEvent(NewCeEvent),
    CurrentLivingSituation(NewCurrentLivingSituation),
    CaseNote(NewCaseNote),
    Refusal(NewRefusal),
}

impl NewStayDatum {
    pub fn kind(&self) -> StayDatumKind {
        match self {
            Self::Service(_) => StayDatumKind::Service,
            Self::Assessment(_) => StayDatumKind::Assessment,
            Self::CeEvent(_) => StayDatumKind::CeEvent,
            Self::CurrentLivingSituation(_) => StayDatumKind::CurrentLivingSituation,
            Self::CaseNote(_) => StayDatumKind::CaseNote,
            Self::Refusal(_) => StayDatumKind::Refusal,
        }
    }

    /// Checks codes and dates, and (for anonymous and code-name records) every text for PII.
    fn validate(self, mode: IdentityMode, errs: &mut Vec<FieldError>) -> Datum {
        let text = |field: &str, v: &Option<String>, errs: &mut Vec<FieldError>| {
            free_text(field, v, mode, errs)
        };
        // A short name-like text (who verified, where): the rule client names follow too.
        let short = |field: &str, v: &Option<String>, errs: &mut Vec<FieldError>| {
            if v.as_deref()
                .is_some_and(crate::domain::has_hidden_characters)
            {
                errs.push(FieldError::new(
                    field,
                    "invalid_characters",
                    format!("{field} must not contain control, invisible or direction-changing characters."),
                ));
                return None;
            }
            free_text(field, v, mode, errs)
        };
        match self {
            Self::Service(s) => {
                let slug_ok = !s.service_type.is_empty()
                    && s.service_type.len() <= 60
                    && s.service_type.chars().all(|c| {
                        c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-'
                    });
                if !slug_ok {
                    errs.push(FieldError::new(
                        "service_type",
                        "invalid_code",
                        "service_type is 1 to 60 lowercase letters, digits, `_` or `-`.",
                    ));
                }
                if s.quantity
                    .is_some_and(|q| !(0.0..=MAX_QUANTITY).contains(&q))
                {
                    errs.push(FieldError::new(
                        "quantity",
                        "out_of_range",
                        "quantity is a number from 0 to 1,000,000.",
                    ));
                }
                Datum {
                    date: s.date_provided,
                    fields: StayFields::Service(ServiceFields {
                        service_type: s.service_type,
                        quantity: s.quantity,
                    }),
                    text: text("note", &s.note, errs),
                    collected_on: s.collected_on,
                }
            }
            Self::Assessment(a) => {
                hud(
                    HudList::AssessmentType,
                    "assessment_type",
                    Some(a.assessment_type),
                    errs,
                );
                hud(
                    HudList::AssessmentLevel,
                    "assessment_level",
                    Some(a.assessment_level),
                    errs,
                );
                hud(
                    HudList::PrioritizationStatus,
                    "prioritization_status",
                    a.prioritization_status,
                    errs,
                );
                if a.priority_score
                    .is_some_and(|s| !(-MAX_PRIORITY_SCORE..=MAX_PRIORITY_SCORE).contains(&s))
                {
                    errs.push(FieldError::new(
                        "priority_score",
                        "out_of_range",
                        "priority_score is a number from -1,000,000 to 1,000,000.",
                    ));
                }
                let location = short("assessment_location", &a.assessment_location, errs);
                Datum {
                    date: a.assessment_date,
                    fields: StayFields::Assessment(AssessmentFields {
                        assessment_kind: a.assessment_kind,
                        assessment_type: a.assessment_type,
                        assessment_level: a.assessment_level,
                        prioritization_status: a.prioritization_status,
                        priority_score: a.priority_score,
                        assessment_location: location,
                    }),
                    text: text("text", &a.text, errs),
                    collected_on: a.collected_on,
                }
            }
            Self::CeEvent(e) => {
                hud(HudList::CeEvent, "event", Some(e.event), errs);
                hud(
                    HudList::ReferralResult,
                    "referral_result",
                    e.referral_result,
                    errs,
                );
                yes_no("prob_sol_div_rr_result", e.prob_sol_div_rr_result, errs);
                yes_no(
                    "referral_case_manage_after",
                    e.referral_case_manage_after,
                    errs,
                );
                if e.result_date.is_some_and(|d| d < e.event_date) {
                    errs.push(FieldError::new(
                        "result_date",
                        "before_event",
                        "result_date is on or after event_date.",
                    ));
                }
                let location = short(
                    "location_crisis_or_ph_housing",
                    &e.location_crisis_or_ph_housing,
                    errs,
                );
                Datum {
                    date: e.event_date,
                    fields: StayFields::CeEvent(CeEventFields {
                        event: e.event,
                        prob_sol_div_rr_result: e.prob_sol_div_rr_result,
                        referral_case_manage_after: e.referral_case_manage_after,
                        location_crisis_or_ph_housing: location,
                        referral_result: e.referral_result,
                        result_date: e.result_date,
                    }),
                    text: text("note", &e.note, errs),
                    collected_on: e.collected_on,
                }
            }
            Self::CurrentLivingSituation(c) => {
                hud(
                    HudList::CurrentLivingSituation,
                    "current_living_situation",
                    Some(c.current_living_situation),
                    errs,
                );
                let verified_by = short("verified_by", &c.verified_by, errs);
                Datum {
                    date: c.information_date,
                    fields: StayFields::CurrentLivingSituation(CurrentLivingSituationFields {
                        current_living_situation: c.current_living_situation,
                        verified_by,
                    }),
                    text: text("note", &c.note, errs),
                    collected_on: c.collected_on,
                }
            }
            Self::Refusal(r) => Datum {
                date: r.refused_on,
                fields: StayFields::Refusal(RefusalFields {
                    reason_code: r.reason_code,
                }),
                text: None,
                collected_on: r.collected_on,
            },
            Self::CaseNote(n) => {
                let t = text("text", &Some(n.text), errs);
                if t.is_none() && errs.is_empty() {
                    errs.push(FieldError::new(
                        "text",
                        "required",
                        "A case note needs text.",
                    ));
                }
                Datum {
                    date: n.note_date,
                    fields: StayFields::CaseNote(CaseNoteFields {}),
                    text: t,
                    collected_on: n.collected_on,
                }
            }
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StayDatumWrite {
    pub datum: StayDatum,
    pub changes: Vec<String>,
}

pub fn add(
    conn: &mut PgConnection,
    caller: &Caller,
    enrollment: Uuid,
    input: NewStayDatum,
) -> AppResult<StayDatumWrite> {
    let agency = crate::service::clients::require_agency(caller, "Adding data to a stay")?;
    conn.transaction(|conn| {
        // Locked: a merge moving the stay's data waits for this datum, or this sees it merged.
        let stay = load_stay(conn, caller, enrollment, true)?;
        stay.require_writable()?;
        let kind = input.kind();
        let observational = matches!(
            &input,
            NewStayDatum::Assessment(a) if a.assessment_kind == AssessmentKind::Observational
        );
        let mut errs = Vec::new();
        let d = input.validate(stay.record.facts.identity, &mut errs);
        let date_field = match kind {
            StayDatumKind::Service => "date_provided",
            StayDatumKind::Assessment => "assessment_date",
            StayDatumKind::CeEvent => "event_date",
            StayDatumKind::CurrentLivingSituation => "information_date",
            StayDatumKind::CaseNote => "note_date",
            StayDatumKind::Refusal => "refused_on",
        };
        check_date(date_field, d.date, caller.today, &mut errs);
        if d.date < stay.row.entry_date || stay.row.exit_date.is_some_and(|x| d.date > x) {
            errs.push(FieldError::new(
                date_field,
                "outside_stay",
                format!("{date_field} falls within the stay (entry to exit)."),
            ));
        }
        if let Some(c) = d.collected_on {
            check_date("collected_on", c, caller.today, &mut errs);
            // collected_on places the datum in the datum rule's ROI windows: data is not
            // collected before the day it records, nor before the stay began.
            if c < d.date || c < stay.row.entry_date {
                errs.push(FieldError::new(
                    "collected_on",
                    "before_event",
                    format!(
                        "collected_on is on or after {date_field} and the stay's entry_date: data is collected on or after the day it records."
                    ),
                ));
            }
        }
        if !errs.is_empty() {
            return Err(AppError::Validation(errs));
        }
        let mut changes = Vec::new();
        if kind == StayDatumKind::Refusal || observational {
            let (project, project_agency) = tenants_repo::find_project(conn, stay.row.project_id)?
                .ok_or(AppError::NotFound)?;
            if project.project_type != 14 {
                return Err(AppError::conflict(
                    "not-a-ce-stay",
                    "Refusals and observational assessments are recorded on a Coordinated Entry stay (project type 14).",
                ));
            }
            let coc = project_agency.coc_code;
            let days = repo::ce_refusal_days(conn, stay.row.client_id, &coc)?;
            if kind == StayDatumKind::Refusal {
                // Occasions, not records: a second refusal for the same day is the same one.
                let mut after = days.clone();
                after.push(d.date);
                changes.push(format!(
                    "The client has {} refusal(s) on record in Coordinated Entry (counted by day).",
                    crate::consent::ce::refusal_occasions(&after, None)
                ));
            } else {
                let policy = tenants_repo::find_coc(conn, &coc)?.ok_or(AppError::NotFound)?;
                let threshold = policy.observational_assessment_after_refusals;
                use crate::consent::ce::{observational_allowed, ObservationalRefused};
                match observational_allowed(&days, d.date, threshold) {
                    Ok(()) => {}
                    Err(ObservationalRefused::RefusalsNeeded { needed }) => {
                        return Err(AppError::validation(
                            "assessment_kind",
                            "refusals_needed",
                            format!(
                                "An observational assessment needs {threshold} refusal(s) on record, on different days (CoC policy); {needed} more needed."
                            ),
                        ));
                    }
                    Err(ObservationalRefused::BeforeRefusals { from }) => {
                        return Err(AppError::validation(
                            "assessment_date",
                            "before_refusals",
                            format!(
                                "An observational assessment follows the client's refusals: {threshold} refusal(s) on or before assessment_date are needed (CoC policy); the first day that holds is {from}."
                            ),
                        ));
                    }
                }
            }
        }
        let row = DatumRow {
            id: Uuid::now_v7(),
            kind: kind.as_str().into(),
            enrollment_id: enrollment,
            client_id: stay.row.client_id,
            occurred_on: d.date,
            fields: d.fields.to_json(),
            text: d.text,
            entered_by_agency: agency,
            entered_by_user: caller.principal.sub.clone(),
            collected_on: d.collected_on.unwrap_or(d.date),
            created_at: Utc::now(),
        };
        let row = repo::insert_datum(conn, &row)?;
        changes.insert(0, format!("{} recorded.", kind.as_str()));
        note_contribution(conn, row.client_id, agency, &mut changes)?;
        caller.audit(
            conn,
            Some(row.client_id),
            &format!("{}_added", kind.as_str()),
            stay.record.decision.basis,
            Some(serde_json::json!({"enrollment_id": enrollment, "datum_id": row.id})),
        )?;
        Ok(StayDatumWrite {
            datum: view(&row, kind, DatumAccess::Full, caller)?,
            changes,
        })
    })
}

/// The stay's data of one kind that the caller may see, oldest first.
pub fn list(
    conn: &mut PgConnection,
    caller: &Caller,
    enrollment: Uuid,
    kind: StayDatumKind,
) -> AppResult<Vec<StayDatum>> {
    let stay = load_stay(conn, caller, enrollment, false)?;
    let datum_kind = crate::consent::STAY_DATUM_KIND;
    let rows = visible::stay_data_of(
        conn,
        &stay.record.viewer,
        caller.today,
        enrollment,
        kind.as_str(),
        datum_kind,
    )?;
    // consent.md, Audit: every read at level full is audited, once per request and client.
    if stay.record.decision.level == crate::consent::AccessLevel::Full && !rows.is_empty() {
        caller.audit(
            conn,
            Some(stay.row.client_id),
            "stay_data_read",
            stay.record.decision.basis,
            Some(serde_json::json!({"enrollment_id": enrollment, "kind": kind.as_str()})),
        )?;
    }
    rows.iter()
        .map(|v| view(&v.row, kind, v.access, caller))
        .collect()
}
