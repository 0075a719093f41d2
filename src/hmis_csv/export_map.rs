//! Hearth rows to HMIS CSV rows: pure. Each function takes what Hearth keeps (already filtered
//! by the consent engine: `full` says whether the caller sees the record's PII, `text` whether it
//! sees a datum's typed text) and answers the row's cells in HUD's column order for the chosen
//! version, with the `ExportID` filled in. The mapping table is in `docs/hmis-csv.md`.
//!
//! Cells are written by column name against the spec (`Cells::set`), so the order and spelling
//! come from `spec_data.rs` alone; a column the version lacks (`Woman` in FY2026, `Sex` in FY2024)
//! is skipped, and a string longer than the column's `S<n>` is cut to `n` characters.

use chrono::{DateTime, NaiveDate, Utc};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{FileSpec, Spec, Ty, Version};
use crate::domain::stay_data::{
    AssessmentFields, CeEventFields, CurrentLivingSituationFields, ServiceFields,
};

/// `CSVVersion` of Export.csv.
pub fn csv_version(v: Version) -> &'static str {
    match v {
        Version::Fy2024 => "2024 v1.3",
        Version::Fy2026 => "2026 v1.0",
    }
}

/// HUD ids are `S32`: a UUID without its dashes is exactly 32 characters.
pub fn id(u: Uuid) -> String {
    u.simple().to_string()
}

/// The `UserID` of a token subject: the first 32 hex digits of its SHA-256. A subject may be an
/// e-mail address (a person's), and may be longer than 32 characters; the digest is neither,
/// and the same subject always gives the same id. A user an import named (`hmis-csv:<UserID>`)
/// keeps its source `UserID`.
pub fn user_id(sub: &str) -> String {
    if let Some(source) = sub.strip_prefix(IMPORTED_USER) {
        return source.chars().take(32).collect();
    }
    let d = Sha256::digest(sub.as_bytes());
    d.iter().take(16).map(|b| format!("{b:02x}")).collect()
}

/// How Hearth records the user of an imported row: this prefix and the source `UserID`.
pub const IMPORTED_USER: &str = "hmis-csv:";

/// The `UserID` of rows Hearth records no user for (organizations, projects).
pub const SYSTEM_USER: &str = "hearth";

pub fn timestamp(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}

/// One row of one file, in the spec's column order.
pub struct Cells {
    file: &'static FileSpec,
    other: Option<&'static FileSpec>,
    values: Vec<String>,
}

impl Cells {
    pub fn new(version: Version, file: &str, export_id: &str) -> Cells {
        let spec = Spec::get(version);
        let fs = spec
            .file(file)
            .unwrap_or_else(|| panic!("{file} is not a file of the spec"));
        let other_version = match version {
            Version::Fy2024 => Version::Fy2026,
            Version::Fy2026 => Version::Fy2024,
        };
        let mut c = Cells {
            file: fs,
            other: Spec::get(other_version).file(file),
            values: vec![String::new(); fs.columns.len()],
        };
        c.set("ExportID", export_id);
        c
    }

    /// Sets a column; a column of the other version only is skipped (a name of neither is a bug).
    pub fn set(&mut self, column: &str, value: impl ToString) -> &mut Self {
        match self.file.columns.iter().position(|c| c.name == column) {
            Some(i) => {
                let mut v = value.to_string();
                if let Ty::Str(Some(n)) = self.file.columns[i].ty {
                    if v.chars().count() > n as usize {
                        v = v.chars().take(n as usize).collect();
                    }
                }
                self.values[i] = v;
            }
            None => debug_assert!(
                self.other
                    .is_some_and(|o| o.columns.iter().any(|c| c.name == column)),
                "{column} is not a column of {}",
                self.file.name
            ),
        }
        self
    }

    pub fn opt(&mut self, column: &str, value: Option<impl ToString>) -> &mut Self {
        if let Some(v) = value {
            self.set(column, v);
        }
        self
    }

    /// `DateCreated`, `DateUpdated` and `UserID`.
    pub fn stamps(&mut self, created: DateTime<Utc>, updated: DateTime<Utc>, user: &str) {
        self.set("DateCreated", timestamp(created));
        self.set("DateUpdated", timestamp(updated));
        self.set("UserID", user);
    }

    pub fn into_values(self) -> Vec<String> {
        self.values
    }
}

/// The header of a file, HUD's spelling and order.
pub fn header(version: Version, file: &str) -> Vec<&'static str> {
    Spec::get(version)
        .file(file)
        .map(|f| f.columns.iter().map(|c| c.name).collect())
        .unwrap_or_default()
}

pub struct ExportInfo<'a> {
    pub version: Version,
    pub export_id: &'a str,
    pub coc: &'a str,
    pub start: NaiveDate,
    pub end: NaiveDate,
    pub exported_at: DateTime<Utc>,
    /// Names the installation (`ImplementationID`).
    pub implementation: &'a str,
}

pub fn export_row(e: &ExportInfo<'_>) -> Vec<String> {
    let mut c = Cells::new(e.version, "Export", e.export_id);
    c.set("SourceType", 1) // a continuum-operated HMIS
        .set("SourceID", e.coc)
        .set("SourceName", "Hearth")
        .set("ExportDate", timestamp(e.exported_at))
        .set("ExportStartDate", e.start)
        .set("ExportEndDate", e.end)
        .set("SoftwareName", "Hearth")
        .set("SoftwareVersion", env!("CARGO_PKG_VERSION"))
        .set("CSVVersion", csv_version(e.version))
        .set("ExportPeriodType", 3) // reporting period
        .set("ExportDirective", 2) // full refresh
        .set("HashStatus", 1) // unhashed
        .set("ImplementationID", e.implementation);
    c.into_values()
}

pub struct OrganizationIn<'a> {
    pub id: Uuid,
    pub name: &'a str,
    pub victim_service_provider: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub fn organization_row(v: Version, export_id: &str, o: &OrganizationIn<'_>) -> Vec<String> {
    let mut c = Cells::new(v, "Organization", export_id);
    c.set("OrganizationID", id(o.id))
        .set("OrganizationName", o.name)
        .set(
            "VictimServiceProvider",
            i32::from(o.victim_service_provider),
        );
    c.stamps(o.created_at, o.updated_at, SYSTEM_USER);
    c.into_values()
}

pub struct ProjectIn<'a> {
    pub id: Uuid,
    pub agency_id: Uuid,
    pub name: &'a str,
    pub project_type: i16,
    pub coc: &'a str,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub fn project_row(v: Version, export_id: &str, p: &ProjectIn<'_>) -> Vec<String> {
    let mut c = Cells::new(v, "Project", export_id);
    c.set("ProjectID", id(p.id))
        .set("OrganizationID", id(p.agency_id))
        .set("ProjectName", p.name)
        // Hearth keeps no operating dates: the day the project was registered.
        .set("OperatingStartDate", p.created_at.date_naive())
        // Every project of a CoC's agencies takes part in its HMIS.
        .set("ContinuumProject", 1)
        .set("ProjectType", p.project_type);
    c.stamps(p.created_at, p.updated_at, SYSTEM_USER);
    c.into_values()
}

/// The name written for an agency or a project an export names by its ids alone (one the caller
/// may not see through the API, whose stay it is shown: `consent::listing::ExportDescription`).
pub const NOT_SHOWN: &str = "(not shown)";

/// Organization.csv's row of an agency named by its ids alone: a fixed name, and
/// `VictimServiceProvider` 1 whatever the agency is (the flag is not shown; 1 asks a reader for
/// the care a victim service provider's data needs).
pub fn organization_ids_row(
    v: Version,
    export_id: &str,
    organization_id: &str,
    at: DateTime<Utc>,
) -> Vec<String> {
    let mut c = Cells::new(v, "Organization", export_id);
    c.set("OrganizationID", organization_id)
        .set("OrganizationName", NOT_SHOWN)
        .set("VictimServiceProvider", 1);
    c.stamps(at, at, SYSTEM_USER);
    c.into_values()
}

/// Project.csv's row of a project named by its ids alone: a fixed name, no type, operating since
/// `created` (the day its id tells already).
pub fn project_ids_row(
    v: Version,
    export_id: &str,
    project_id: &str,
    organization_id: &str,
    created: DateTime<Utc>,
) -> Vec<String> {
    let mut c = Cells::new(v, "Project", export_id);
    c.set("ProjectID", project_id)
        .set("OrganizationID", organization_id)
        .set("ProjectName", NOT_SHOWN)
        .set("OperatingStartDate", created.date_naive())
        .set("ContinuumProject", 1);
    c.stamps(created, created, SYSTEM_USER);
    c.into_values()
}

/// ProjectCoC.csv's row of a project named by its ids alone: the exported CoC, no geography.
pub fn project_coc_ids_row(
    v: Version,
    export_id: &str,
    project_id: &str,
    coc: &str,
    created: DateTime<Utc>,
) -> Vec<String> {
    let mut c = Cells::new(v, "ProjectCoC", export_id);
    c.set("ProjectCoCID", project_id)
        .set("ProjectID", project_id)
        .set("CoCCode", coc)
        .set("Geocode", UNKNOWN_GEOCODE);
    c.stamps(created, created, SYSTEM_USER);
    c.into_values()
}

/// HUD has no "unknown" geocode; Hearth keeps none (docs/hmis-csv.md).
pub const UNKNOWN_GEOCODE: &str = "000000";

pub fn project_coc_row(v: Version, export_id: &str, p: &ProjectIn<'_>) -> Vec<String> {
    let mut c = Cells::new(v, "ProjectCoC", export_id);
    c.set("ProjectCoCID", id(p.id))
        .set("ProjectID", id(p.id))
        .set("CoCCode", p.coc)
        .set("Geocode", UNKNOWN_GEOCODE);
    c.stamps(p.created_at, p.updated_at, SYSTEM_USER);
    c.into_values()
}

pub struct ClientIn<'a> {
    pub id: Uuid,
    /// The caller sees the record at level `full`; otherwise its PII columns are blank.
    pub full: bool,
    pub first_name: Option<&'a str>,
    pub middle_name: Option<&'a str>,
    pub last_name: Option<&'a str>,
    pub name_suffix: Option<&'a str>,
    pub name_quality: i16,
    /// Nine digits, or the last four.
    pub ssn: Option<&'a str>,
    pub ssn_quality: i16,
    pub dob: Option<NaiveDate>,
    pub dob_quality: i16,
    /// `service::client_input::Race` words.
    pub race: &'a [String],
    pub race_none: Option<i16>,
    pub additional_race_ethnicity: Option<&'a str>,
    /// 3.6.1 codes.
    pub gender: &'a [i16],
    pub gender_none: Option<i16>,
    pub different_identity_text: Option<&'a str>,
    pub sex: Option<i16>,
    pub veteran_status: i16,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub user: &'a str,
}

/// Race words and their FY2024 columns (FY2026 renames one, below).
const RACE_COLUMNS: &[(&str, &str)] = &[
    ("am_ind_ak_native", "AmIndAKNative"),
    ("asian", "Asian"),
    ("black_af_american", "BlackAfAmerican"),
    ("hispanic_latinao", "HispanicLatinaeo"),
    ("mid_east_n_african", "MidEastNAfrican"),
    ("native_hi_pacific", "NativeHIPacific"),
    ("white", "White"),
];

/// 3.6.1 codes and their FY2024 columns (domain.md).
const GENDER_COLUMNS: &[(i16, &str)] = &[
    (0, "Woman"),
    (1, "Man"),
    (2, "CulturallySpecific"),
    (3, "DifferentIdentity"),
    (4, "NonBinary"),
    (5, "Transgender"),
    (6, "Questioning"),
];

/// `123456789`, or the last four digits padded as HUD's partial SSN (`xxxxx6789`).
fn ssn_cell(s: &str) -> String {
    if s.len() < 9 {
        format!("{}{s}", "x".repeat(9 - s.len()))
    } else {
        s.to_string()
    }
}

pub fn client_row(v: Version, export_id: &str, k: &ClientIn<'_>) -> Vec<String> {
    let mut c = Cells::new(v, "Client", export_id);
    c.set("PersonalID", id(k.id));
    if k.full {
        c.opt("FirstName", k.first_name)
            .opt("MiddleName", k.middle_name)
            .opt("LastName", k.last_name)
            .opt("NameSuffix", k.name_suffix)
            .opt("SSN", k.ssn.map(ssn_cell))
            .opt("DOB", k.dob)
            .opt("AdditionalRaceEthnicity", k.additional_race_ethnicity)
            .opt("DifferentIdentityText", k.different_identity_text);
    }
    // The data quality codes are exported as recorded at every level, as the API answers them
    // (docs/hmis-csv.md: why not 99).
    c.set("NameDataQuality", k.name_quality)
        .set("SSNDataQuality", k.ssn_quality)
        .set("DOBDataQuality", k.dob_quality);
    for (word, column) in RACE_COLUMNS {
        let yes = i32::from(k.race.iter().any(|r| r == word));
        let column = match (v, *column) {
            (Version::Fy2026, "HispanicLatinaeo") => "HispanicLatinao",
            (_, c) => c,
        };
        c.set(column, yes);
    }
    c.opt("RaceNone", k.race_none);
    for (code, column) in GENDER_COLUMNS {
        c.set(column, i32::from(k.gender.contains(code)));
    }
    // GenderNone (list 1.6) is set exactly when no gender column is 1: a record with neither a
    // gender nor a reason (an FY2026 import, which collects no gender, written as FY2024) was
    // not asked, 99 "data not collected", its gender columns 0 (FY2024 spec, 3.6.1).
    let gender_none = if k.gender.is_empty() {
        k.gender_none.or(Some(99))
    } else {
        None
    };
    c.opt("GenderNone", gender_none)
        .opt("Sex", k.sex)
        .set("VeteranStatus", k.veteran_status);
    c.stamps(k.created_at, k.updated_at, k.user);
    c.into_values()
}

pub struct StayIn<'a> {
    pub id: Uuid,
    pub client_id: Uuid,
    pub project_id: Uuid,
    pub household_id: Uuid,
    pub relationship_to_hoh: i16,
    /// The entry date, or for a continuation (`entry_withheld`) the first day of the data
    /// released in it.
    pub entry_date: NaiveDate,
    /// Datum rule 6: the entry's own fields are withheld from the caller.
    pub entry_withheld: bool,
    pub enrollment_coc: Option<&'a str>,
    /// The project's CoC: `EnrollmentCoC` when none is recorded or the entry is withheld.
    pub project_coc: &'a str,
    pub living_situation: Option<i16>,
    pub length_of_stay: Option<i16>,
    pub los_under_threshold: Option<i16>,
    pub previous_street_essh: Option<i16>,
    pub date_to_street_essh: Option<NaiveDate>,
    pub times_homeless_past_three_years: Option<i16>,
    pub months_homeless_past_three_years: Option<i16>,
    pub exit_date: Option<NaiveDate>,
    pub destination: Option<i16>,
    pub destination_subsidy_type: Option<i16>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub user: &'a str,
}

pub fn enrollment_row(v: Version, export_id: &str, s: &StayIn<'_>) -> Vec<String> {
    let mut c = Cells::new(v, "Enrollment", export_id);
    c.set("EnrollmentID", id(s.id))
        .set("PersonalID", id(s.client_id))
        .set("ProjectID", id(s.project_id))
        .set("EntryDate", s.entry_date)
        .set("HouseholdID", id(s.household_id))
        .set("RelationshipToHoH", s.relationship_to_hoh)
        // Hearth records no disabling condition (4.05): "data not collected".
        .set("DisablingCondition", 99);
    if s.entry_withheld {
        c.set("EnrollmentCoC", s.project_coc);
    } else {
        c.set("EnrollmentCoC", s.enrollment_coc.unwrap_or(s.project_coc))
            .opt("LivingSituation", s.living_situation)
            .opt("LengthOfStay", s.length_of_stay)
            .opt("LOSUnderThreshold", s.los_under_threshold)
            .opt("PreviousStreetESSH", s.previous_street_essh)
            .opt("DateToStreetESSH", s.date_to_street_essh)
            .opt(
                "TimesHomelessPastThreeYears",
                s.times_homeless_past_three_years,
            )
            .opt(
                "MonthsHomelessPastThreeYears",
                s.months_homeless_past_three_years,
            );
    }
    c.stamps(s.created_at, s.updated_at, s.user);
    c.into_values()
}

/// The Exit row of an exited stay (`None` while it is open).
pub fn exit_row(v: Version, export_id: &str, s: &StayIn<'_>) -> Option<Vec<String>> {
    let (date, destination) = (s.exit_date?, s.destination?);
    let mut c = Cells::new(v, "Exit", export_id);
    c.set("ExitID", id(s.id))
        .set("EnrollmentID", id(s.id))
        .set("PersonalID", id(s.client_id))
        .set("ExitDate", date)
        .set("Destination", destination)
        .opt("DestinationSubsidyType", s.destination_subsidy_type);
    c.stamps(s.updated_at, s.updated_at, s.user);
    Some(c.into_values())
}

/// One datum of a stay, with what the mapping needs of its row.
pub struct DatumIn<'a> {
    pub id: Uuid,
    pub enrollment_id: Uuid,
    pub client_id: Uuid,
    pub date: NaiveDate,
    /// The caller sees the datum in full (its typed text included).
    pub text: bool,
    pub created_at: DateTime<Utc>,
    pub user: &'a str,
}

fn datum_cells(
    v: Version,
    file: &str,
    key: &str,
    date_col: &str,
    export_id: &str,
    d: &DatumIn<'_>,
) -> Cells {
    let mut c = Cells::new(v, file, export_id);
    c.set(key, id(d.id))
        .set("EnrollmentID", id(d.enrollment_id))
        .set("PersonalID", id(d.client_id))
        .set(date_col, d.date);
    c.stamps(d.created_at, d.created_at, d.user);
    c
}

/// The `service_type` exported to Services.csv: a bed night (RecordType 200, TypeProvided 200).
/// Hearth's other service types are local codes with no HUD record type; they stay out.
pub const BED_NIGHT: &str = "bed_night";

pub fn service_row(
    v: Version,
    export_id: &str,
    d: &DatumIn<'_>,
    f: &ServiceFields,
) -> Option<Vec<String>> {
    if f.service_type != BED_NIGHT {
        return None;
    }
    let mut c = datum_cells(v, "Services", "ServicesID", "DateProvided", export_id, d);
    c.set("RecordType", 200).set("TypeProvided", 200);
    Some(c.into_values())
}

pub fn current_living_situation_row(
    v: Version,
    export_id: &str,
    d: &DatumIn<'_>,
    f: &CurrentLivingSituationFields,
) -> Vec<String> {
    let mut c = datum_cells(
        v,
        "CurrentLivingSituation",
        "CurrentLivingSitID",
        "InformationDate",
        export_id,
        d,
    );
    c.set("CurrentLivingSituation", f.current_living_situation);
    if d.text {
        c.opt("VerifiedBy", f.verified_by.as_deref());
    }
    c.into_values()
}

/// `AssessmentLocation` is required by HUD: these words stand in when Hearth has none or the
/// datum rule withholds it (typed text, shown at `full` only).
pub const LOCATION_NOT_RECORDED: &str = "Not recorded";
pub const LOCATION_WITHHELD: &str = "Withheld";

pub fn assessment_row(
    v: Version,
    export_id: &str,
    d: &DatumIn<'_>,
    f: &AssessmentFields,
) -> Vec<String> {
    let mut c = datum_cells(
        v,
        "Assessment",
        "AssessmentID",
        "AssessmentDate",
        export_id,
        d,
    );
    let location = match (d.text, f.assessment_location.as_deref()) {
        (false, _) => LOCATION_WITHHELD,
        (true, Some(l)) if !l.trim().is_empty() => l,
        (true, _) => LOCATION_NOT_RECORDED,
    };
    c.set("AssessmentLocation", location)
        .set("AssessmentType", f.assessment_type)
        .set("AssessmentLevel", f.assessment_level)
        // HUD requires 4.19.7; an assessment recorded without it was not placed on the list.
        .set("PrioritizationStatus", f.prioritization_status.unwrap_or(2));
    c.into_values()
}

pub fn event_row(v: Version, export_id: &str, d: &DatumIn<'_>, f: &CeEventFields) -> Vec<String> {
    let mut c = datum_cells(v, "Event", "EventID", "EventDate", export_id, d);
    c.set("Event", f.event)
        .opt("ProbSolDivRRResult", f.prob_sol_div_rr_result)
        .opt("ReferralCaseManageAfter", f.referral_case_manage_after)
        .opt("ReferralResult", f.referral_result)
        .opt("ResultDate", f.result_date);
    if d.text {
        c.opt(
            "LocationCrisisOrPHHousing",
            f.location_crisis_or_ph_housing.as_deref(),
        );
    }
    c.into_values()
}

/// A User.csv row for a `UserID` this export used (Hearth keeps no user names).
pub fn user_row(v: Version, export_id: &str, user: &str, at: DateTime<Utc>) -> Vec<String> {
    let mut c = Cells::new(v, "User", export_id);
    c.set("UserID", user)
        .set("DateCreated", timestamp(at))
        .set("DateUpdated", timestamp(at));
    c.into_values()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-03-04T05:06:07Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    fn client<'a>(full: bool, race: &'a [String], gender: &'a [i16]) -> ClientIn<'a> {
        ClientIn {
            id: Uuid::nil(),
            full,
            first_name: Some("Ada"),
            middle_name: None,
            last_name: Some("Lovelace"),
            name_suffix: None,
            name_quality: 1,
            ssn: Some("6789"),
            ssn_quality: 2,
            dob: NaiveDate::from_ymd_opt(1990, 1, 2),
            dob_quality: 1,
            race,
            race_none: None,
            additional_race_ethnicity: Some("text"),
            gender,
            gender_none: None,
            different_identity_text: None,
            sex: Some(0),
            veteran_status: 0,
            created_at: at(),
            updated_at: at(),
            user: "u",
        }
    }

    fn cell<'a>(v: Version, file: &str, row: &'a [String], col: &str) -> &'a str {
        let i = header(v, file).iter().position(|c| *c == col).unwrap();
        &row[i]
    }

    #[test]
    fn client_pii_is_blank_below_full_and_quality_codes_stay() {
        let race = vec!["asian".to_string(), "hispanic_latinao".to_string()];
        for v in [Version::Fy2024, Version::Fy2026] {
            let full = client_row(v, "E", &client(true, &race, &[0, 3]));
            assert_eq!(full.len(), header(v, "Client").len());
            assert_eq!(cell(v, "Client", &full, "FirstName"), "Ada");
            assert_eq!(cell(v, "Client", &full, "SSN"), "xxxxx6789");
            assert_eq!(cell(v, "Client", &full, "DOB"), "1990-01-02");
            assert_eq!(cell(v, "Client", &full, "Asian"), "1");
            assert_eq!(cell(v, "Client", &full, "White"), "0");
            assert_eq!(cell(v, "Client", &full, "ExportID"), "E");
            assert_eq!(
                cell(v, "Client", &full, "DateCreated"),
                "2026-03-04 05:06:07"
            );
            let limited = client_row(v, "E", &client(false, &race, &[0, 3]));
            for col in [
                "FirstName",
                "LastName",
                "SSN",
                "DOB",
                "AdditionalRaceEthnicity",
            ] {
                assert_eq!(cell(v, "Client", &limited, col), "", "{col}");
            }
            assert_eq!(cell(v, "Client", &limited, "NameDataQuality"), "1");
            assert_eq!(cell(v, "Client", &limited, "SSNDataQuality"), "2");
        }
        let full = client_row(Version::Fy2024, "E", &client(true, &race, &[0, 3]));
        assert_eq!(
            cell(Version::Fy2024, "Client", &full, "HispanicLatinaeo"),
            "1"
        );
        assert_eq!(cell(Version::Fy2024, "Client", &full, "Woman"), "1");
        assert_eq!(
            cell(Version::Fy2024, "Client", &full, "DifferentIdentity"),
            "1"
        );
        assert_eq!(cell(Version::Fy2024, "Client", &full, "Man"), "0");
        let full = client_row(Version::Fy2026, "E", &client(true, &race, &[0, 3]));
        assert_eq!(
            cell(Version::Fy2026, "Client", &full, "HispanicLatinao"),
            "1"
        );
        assert_eq!(cell(Version::Fy2026, "Client", &full, "Sex"), "0");
    }

    #[test]
    fn a_gender_never_collected_is_99_in_fy2024() {
        let v = Version::Fy2024;
        // An FY2026 import: no gender, no reason.
        let row = client_row(v, "E", &client(true, &[], &[]));
        assert_eq!(cell(v, "Client", &row, "GenderNone"), "99");
        for (_, column) in GENDER_COLUMNS {
            assert_eq!(cell(v, "Client", &row, column), "0", "{column}");
        }
        // A reason recorded stands; a gender recorded leaves GenderNone blank.
        let mut refused = client(true, &[], &[]);
        refused.gender_none = Some(9);
        assert_eq!(
            cell(v, "Client", &client_row(v, "E", &refused), "GenderNone"),
            "9"
        );
        let row = client_row(v, "E", &client(true, &[], &[1]));
        assert_eq!(cell(v, "Client", &row, "GenderNone"), "");
        assert_eq!(cell(v, "Client", &row, "Man"), "1");
    }

    #[test]
    fn strings_are_cut_to_the_column_length() {
        let mut c = Cells::new(Version::Fy2026, "Client", "E");
        c.set("FirstName", "x".repeat(80));
        let row = c.into_values();
        assert_eq!(cell(Version::Fy2026, "Client", &row, "FirstName").len(), 50);
    }

    #[test]
    fn user_ids_are_32_hex_digits() {
        let u = user_id("someone@example.org");
        assert_eq!(u.len(), 32);
        assert!(u.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(u, user_id("someone@example.org"));
        assert_eq!(id(Uuid::nil()).len(), 32);
    }
}
