//! The import's mapping from HUD HMIS CSV rows to Hearth's typed rows, pure: a row in, typed
//! values out, with every value that Hearth cannot keep as sent (a code outside its list) named
//! in `invalid` and replaced by what HUD uses for "not collected" (99, or nothing where the
//! column may be empty). The mapping table is in `docs/hmis-csv-import.md`.

use chrono::{NaiveDate, NaiveDateTime};

use super::read::Row;
use crate::domain::hud::HudList;
use crate::domain::identity::{Identity, Race};
use crate::domain::stay_data::{
    AssessmentFields, AssessmentKind, CeEventFields, CurrentLivingSituationFields, ServiceFields,
    StayFields,
};

/// Values that were not kept as sent: (HUD column, the value, or a placeholder for PII).
pub type Invalid = Vec<(&'static str, String)>;

/// What is recorded for an invalid value of a PII column: never the value itself.
pub const PII_WITHHELD: &str = "(personal identifying information: not kept)";

/// Organization.csv: kept as the source id of the importing agency.
#[derive(Debug, Clone, PartialEq)]
pub struct OrganizationIn {
    pub organization_id: String,
}

/// Project.csv.
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectIn {
    pub project_id: String,
    pub name: String,
    pub project_type: i16,
    pub date_created: Option<NaiveDateTime>,
    pub date_updated: Option<NaiveDateTime>,
}

/// Client.csv, both versions: the record's identity as Hearth declares it
/// (`domain::identity::Identity`), and the source's own times and user.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientIn {
    pub personal_id: String,
    pub identity: Identity,
    pub date_created: Option<NaiveDateTime>,
    pub date_updated: Option<NaiveDateTime>,
    pub user_id: Option<String>,
    /// Values read but not kept because the API refuses them (`domain::ssn`, `domain::dob`,
    /// `domain::quality`): (HUD column, the API's error code). Never the value.
    pub not_kept: Vec<(&'static str, &'static str)>,
}

/// Enrollment.csv: the columns Hearth keeps on its stay (the whole row is kept beside it).
#[derive(Debug, Clone, PartialEq)]
pub struct EnrollmentIn {
    pub enrollment_id: String,
    pub personal_id: String,
    pub project_id: String,
    pub household_id: String,
    pub entry_date: NaiveDate,
    pub relationship_to_hoh: i16,
    pub enrollment_coc: Option<String>,
    pub living_situation: Option<i16>,
    pub length_of_stay: Option<i16>,
    pub los_under_threshold: Option<i16>,
    pub previous_street_essh: Option<i16>,
    pub date_to_street_essh: Option<NaiveDate>,
    pub times_homeless_past_three_years: Option<i16>,
    pub months_homeless_past_three_years: Option<i16>,
    pub date_created: Option<NaiveDateTime>,
    pub date_updated: Option<NaiveDateTime>,
    pub user_id: Option<String>,
}

/// Exit.csv: closes its enrollment.
#[derive(Debug, Clone, PartialEq)]
pub struct ExitIn {
    pub exit_id: String,
    pub enrollment_id: String,
    pub exit_date: NaiveDate,
    pub destination: i16,
    pub destination_subsidy_type: Option<i16>,
}

/// Why a row cannot be kept at all (a required value missing or unreadable).
#[derive(Debug, Clone, PartialEq)]
pub struct Unusable {
    pub column: &'static str,
    pub message: &'static str,
}

fn text(row: &Row, col: &str) -> Option<String> {
    row.get(col)
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}

fn required(row: &Row, col: &'static str) -> Result<String, Unusable> {
    text(row, col).ok_or(Unusable {
        column: col,
        message: "a required value is missing",
    })
}

fn int(row: &Row, col: &str) -> Option<Result<i16, ()>> {
    row.get(col)
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(|v| v.parse::<i16>().map_err(|_| ()))
}

/// A coded value Hearth keeps only inside `allowed`; outside it, `fallback` and a note.
fn code(
    row: &Row,
    col: &'static str,
    allowed: &[i32],
    fallback: Option<i16>,
    invalid: &mut Invalid,
) -> Option<i16> {
    match int(row, col) {
        None => fallback,
        Some(Ok(v)) if allowed.contains(&(v as i32)) => Some(v),
        Some(_) => {
            invalid.push((col, row.get(col).unwrap_or_default().to_string()));
            fallback
        }
    }
}

fn list_code(row: &Row, col: &'static str, list: HudList, invalid: &mut Invalid) -> Option<i16> {
    match int(row, col) {
        None => None,
        Some(Ok(v)) if list.contains(v as i32) => Some(v),
        Some(_) => {
            invalid.push((col, row.get(col).unwrap_or_default().to_string()));
            None
        }
    }
}

/// A `YYYY-MM-DD` value of the row, if it is one.
pub fn date_of(row: &Row, col: &str) -> Option<NaiveDate> {
    date(row, col)
}

fn date(row: &Row, col: &str) -> Option<NaiveDate> {
    row.get(col).and_then(|v| super::parse_date(v.trim()))
}

/// A `YYYY-MM-DD HH:MM:SS` value of the row, if it is one.
/// The day a row's data was collected: its information, service, assessment, event, exit or
/// entry date, else the day of its `DateCreated` (what the datum rule decides on).
pub fn collected_on(row: &Row) -> Option<NaiveDate> {
    const DAYS: &[&str] = &[
        "InformationDate",
        "DateProvided",
        "AssessmentDate",
        "EventDate",
        "ExitDate",
        "EntryDate",
    ];
    DAYS.iter()
        .filter(|c| row.file.columns.iter().any(|k| k.name == **c))
        .find_map(|c| date(row, c))
        .or_else(|| timestamp_of(row, "DateCreated").map(|t| t.date()))
}

pub fn timestamp_of(row: &Row, col: &str) -> Option<NaiveDateTime> {
    timestamp(row, col)
}

fn timestamp(row: &Row, col: &str) -> Option<NaiveDateTime> {
    row.get(col).and_then(|v| super::parse_timestamp(v.trim()))
}

const QUALITY: &[i32] = &[1, 2, 8, 9, 99];
const NONE_REASONS: &[i32] = &[8, 9, 99];
const NO_YES: &[i32] = &[0, 1, 8, 9, 99];

pub fn organization(row: &Row) -> Result<OrganizationIn, Unusable> {
    Ok(OrganizationIn {
        organization_id: required(row, "OrganizationID")?,
    })
}

pub fn project(row: &Row) -> Result<ProjectIn, Unusable> {
    let project_id = required(row, "ProjectID")?;
    let name: String = required(row, "ProjectName")?.chars().take(200).collect();
    let project_type = match int(row, "ProjectType") {
        Some(Ok(v)) if HudList::ProjectType.contains(v as i32) => v,
        _ => {
            return Err(Unusable {
                column: "ProjectType",
                message: "a project needs a project type of HUD's list",
            })
        }
    };
    Ok(ProjectIn {
        project_id,
        name,
        project_type,
        date_created: timestamp(row, "DateCreated"),
        date_updated: timestamp(row, "DateUpdated"),
    })
}

/// The quality code of a value that is not kept: the code sent when it says why there is none
/// (8, 9, 99), else 99 ("Data not collected"), as for a value never sent.
fn quality_without_value(sent: i16) -> i16 {
    if matches!(sent, 8 | 9 | 99) {
        sent
    } else {
        99
    }
}

/// Client.csv, both versions. The SSN and DOB are held to the API's own rules
/// (`domain::ssn::Ssn::parse`, `domain::dob::validate_dob` on `today`, `domain::quality`): a
/// value the API would refuse is not kept (named in `not_kept` by column and code, its data
/// quality then 99 unless the source sent 8 or 9), so an imported record can be edited like
/// any other.
pub fn client(row: &Row, invalid: &mut Invalid, today: NaiveDate) -> Result<ClientIn, Unusable> {
    use crate::domain::dob::validate_dob;
    use crate::domain::quality::{check_quality, QualityField};
    use crate::domain::ssn::Ssn;
    let personal_id = required(row, "PersonalID")?;
    let mut not_kept: Vec<(&'static str, &'static str)> = Vec::new();
    let ssn = match text(row, "SSN") {
        None => None,
        Some(s) => {
            let digits: String = s.chars().filter(char::is_ascii_digit).collect();
            let readable = if s.len() == 9 && digits.len() == 9 {
                Some(digits)
            } else if digits.len() == 4 && s.ends_with(&digits) {
                // HUD's partial SSN: unknown digits written as `x`, the last four known.
                Some(digits)
            } else {
                invalid.push(("SSN", PII_WITHHELD.to_string()));
                None
            };
            match readable.map(|d| Ssn::parse(&d)) {
                Some(Ok(v)) => Some(v),
                Some(Err(e)) => {
                    not_kept.push(("SSN", e.code));
                    None
                }
                None => None,
            }
        }
    };
    let dob = match text(row, "DOB") {
        None => None,
        Some(_) => match date(row, "DOB") {
            Some(d) => match validate_dob(d, today) {
                Ok(()) => Some(d),
                Err(e) => {
                    not_kept.push(("DOB", e.code));
                    None
                }
            },
            None => {
                invalid.push(("DOB", PII_WITHHELD.to_string()));
                None
            }
        },
    };
    let ssn_sent = text(row, "SSN").is_some();
    let dob_sent = text(row, "DOB").is_some();
    let mut ssn_quality = code(row, "SSNDataQuality", QUALITY, Some(99), invalid).unwrap_or(99);
    match &ssn {
        // Nine digits are a full SSN (1), four the last four (2): the API holds the code to it.
        Some(v) if v.quality() != ssn_quality => {
            not_kept.push(("SSNDataQuality", "quality_mismatch"));
            ssn_quality = v.quality();
        }
        Some(_) => {}
        None if ssn_sent => ssn_quality = quality_without_value(ssn_quality),
        None if check_quality(QualityField::Ssn, false, ssn_quality).is_err() => {
            not_kept.push(("SSNDataQuality", "quality_mismatch"));
            ssn_quality = 99;
        }
        None => {}
    }
    let mut dob_quality = code(row, "DOBDataQuality", QUALITY, Some(99), invalid).unwrap_or(99);
    if dob.is_none() && dob_sent {
        dob_quality = quality_without_value(dob_quality);
    } else if check_quality(QualityField::Dob, dob.is_some(), dob_quality).is_err() {
        not_kept.push(("DOBDataQuality", "quality_mismatch"));
        // A DOB the source sent with a code for none: HUD's "approximate or partial" (2)
        // claims the least; no DOB with a code for one: not collected.
        dob_quality = if dob.is_some() { 2 } else { 99 };
    }
    let mut race = Vec::new();
    for (col, r) in [
        ("AmIndAKNative", Race::AmIndAkNative),
        ("Asian", Race::Asian),
        ("BlackAfAmerican", Race::BlackAfAmerican),
        ("HispanicLatinaeo", Race::HispanicLatinao),
        ("HispanicLatinao", Race::HispanicLatinao),
        ("MidEastNAfrican", Race::MidEastNAfrican),
        ("NativeHIPacific", Race::NativeHiPacific),
        ("White", Race::White),
    ] {
        if int(row, col) == Some(Ok(1)) && !race.contains(&r) {
            race.push(r);
        }
    }
    let mut gender = Vec::new();
    for (col, c) in [
        ("Woman", 0),
        ("Man", 1),
        ("CulturallySpecific", 2),
        ("DifferentIdentity", 3),
        ("NonBinary", 4),
        ("Transgender", 5),
        ("Questioning", 6),
    ] {
        if int(row, col) == Some(Ok(1)) {
            gender.push(c);
        }
    }
    let race_none = code(row, "RaceNone", NONE_REASONS, None, invalid);
    let gender_none = code(row, "GenderNone", NONE_REASONS, None, invalid);
    let identity = Identity {
        first_name: text(row, "FirstName"),
        middle_name: text(row, "MiddleName"),
        last_name: text(row, "LastName"),
        name_suffix: text(row, "NameSuffix"),
        alias: None,
        name_quality: code(row, "NameDataQuality", QUALITY, Some(99), invalid).unwrap_or(99),
        ssn: ssn.map(|v| v.digits().to_string()),
        ssn_quality,
        dob,
        dob_quality,
        race_none: if race.is_empty() {
            race_none.or(Some(99))
        } else {
            None
        },
        race,
        additional_race_ethnicity: text(row, "AdditionalRaceEthnicity"),
        gender_none: if gender.is_empty() { gender_none } else { None },
        gender,
        different_identity_text: text(row, "DifferentIdentityText"),
        sex: code(row, "Sex", NO_YES, None, invalid),
        veteran_status: code(row, "VeteranStatus", NO_YES, Some(99), invalid).unwrap_or(99),
    };
    Ok(ClientIn {
        personal_id,
        identity,
        date_created: timestamp(row, "DateCreated"),
        date_updated: timestamp(row, "DateUpdated"),
        user_id: text(row, "UserID"),
        not_kept,
    })
}

pub fn enrollment(row: &Row, invalid: &mut Invalid) -> Result<EnrollmentIn, Unusable> {
    let entry_date = date(row, "EntryDate").ok_or(Unusable {
        column: "EntryDate",
        message: "an enrollment needs an entry date",
    })?;
    Ok(EnrollmentIn {
        enrollment_id: required(row, "EnrollmentID")?,
        personal_id: required(row, "PersonalID")?,
        project_id: required(row, "ProjectID")?,
        household_id: required(row, "HouseholdID")?,
        entry_date,
        relationship_to_hoh: list_code(
            row,
            "RelationshipToHoH",
            HudList::RelationshipToHoH,
            invalid,
        )
        .unwrap_or(99),
        enrollment_coc: text(row, "EnrollmentCoC"),
        living_situation: list_code(row, "LivingSituation", HudList::LivingSituation, invalid),
        length_of_stay: list_code(row, "LengthOfStay", HudList::LengthOfStay, invalid),
        los_under_threshold: list_code(row, "LOSUnderThreshold", HudList::NoYesMissing, invalid),
        previous_street_essh: list_code(row, "PreviousStreetESSH", HudList::NoYesMissing, invalid),
        date_to_street_essh: date(row, "DateToStreetESSH"),
        times_homeless_past_three_years: list_code(
            row,
            "TimesHomelessPastThreeYears",
            HudList::TimesHomelessPastThreeYears,
            invalid,
        ),
        months_homeless_past_three_years: list_code(
            row,
            "MonthsHomelessPastThreeYears",
            HudList::MonthsHomelessPastThreeYears,
            invalid,
        ),
        date_created: timestamp(row, "DateCreated"),
        date_updated: timestamp(row, "DateUpdated"),
        user_id: text(row, "UserID"),
    })
}

pub fn exit(row: &Row, invalid: &mut Invalid) -> Result<ExitIn, Unusable> {
    let exit_date = date(row, "ExitDate").ok_or(Unusable {
        column: "ExitDate",
        message: "an exit needs an exit date",
    })?;
    Ok(ExitIn {
        exit_id: required(row, "ExitID")?,
        enrollment_id: required(row, "EnrollmentID")?,
        exit_date,
        destination: list_code(row, "Destination", HudList::Destination, invalid).unwrap_or(99),
        destination_subsidy_type: list_code(
            row,
            "DestinationSubsidyType",
            HudList::RentalSubsidyType,
            invalid,
        ),
    })
}

/// A hash of a row's values (the source's own `DateUpdated` included, the `ExportID` left out),
/// to tell a changed row from one imported before.
pub fn row_hash(row: &Row) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for (c, v) in row.file.columns.iter().zip(&row.values) {
        if c.name == "ExportID" {
            continue;
        }
        match v {
            Some(v) => {
                h.update([1u8]);
                h.update((v.len() as u64).to_le_bytes());
                h.update(v.as_bytes());
            }
            None => h.update([0u8]),
        }
    }
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(64);
    for b in h.finalize() {
        out.push(HEX[(b >> 4) as usize] as char);
        out.push(HEX[(b & 15) as usize] as char);
    }
    out
}

/// A row of Services, CurrentLivingSituation, Assessment or Event as the stay datum Hearth keeps
/// for it (the kind's typed fields, the day it happened), when Hearth has a kind for it: a bed
/// night (RecordType 200, TypeProvided 200) among services, every current living situation,
/// Coordinated Entry assessment and event whose required codes are in their lists. Other rows
/// are kept whole only.
pub fn stay_datum(row: &Row, invalid: &mut Invalid) -> Option<(NaiveDate, StayFields)> {
    let required_code = |col: &'static str, list: HudList| -> Option<i16> {
        match int(row, col) {
            Some(Ok(v)) if list.contains(v as i32) => Some(v),
            _ => None,
        }
    };
    match row.file.name {
        "Services" => {
            let bed_night = int(row, "RecordType") == Some(Ok(200))
                && int(row, "TypeProvided") == Some(Ok(200));
            let day = date(row, "DateProvided")?;
            bed_night.then(|| {
                (
                    day,
                    StayFields::Service(ServiceFields {
                        service_type: "bed_night".into(),
                        quantity: None,
                    }),
                )
            })
        }
        "CurrentLivingSituation" => Some((
            date(row, "InformationDate")?,
            StayFields::CurrentLivingSituation(CurrentLivingSituationFields {
                current_living_situation: required_code(
                    "CurrentLivingSituation",
                    HudList::CurrentLivingSituation,
                )?,
                verified_by: text(row, "VerifiedBy"),
            }),
        )),
        "Assessment" => Some((
            date(row, "AssessmentDate")?,
            StayFields::Assessment(AssessmentFields {
                assessment_kind: AssessmentKind::CoordinatedEntry,
                assessment_type: required_code("AssessmentType", HudList::AssessmentType)?,
                assessment_level: required_code("AssessmentLevel", HudList::AssessmentLevel)?,
                prioritization_status: list_code(
                    row,
                    "PrioritizationStatus",
                    HudList::PrioritizationStatus,
                    invalid,
                ),
                priority_score: None,
                assessment_location: text(row, "AssessmentLocation"),
            }),
        )),
        "Event" => Some((
            date(row, "EventDate")?,
            StayFields::CeEvent(CeEventFields {
                event: required_code("Event", HudList::CeEvent)?,
                prob_sol_div_rr_result: code(row, "ProbSolDivRRResult", &[0, 1], None, invalid),
                referral_case_manage_after: code(
                    row,
                    "ReferralCaseManageAfter",
                    &[0, 1],
                    None,
                    invalid,
                ),
                location_crisis_or_ph_housing: text(row, "LocationCrisisOrPHHousing"),
                referral_result: list_code(row, "ReferralResult", HudList::ReferralResult, invalid),
                result_date: date(row, "ResultDate"),
            }),
        )),
        _ => None,
    }
}
