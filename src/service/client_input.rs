//! What a client record may hold in each identity mode (consent.md, "Identity modes" and
//! "Validation that holds in every mode"). Every problem is collected, named by field, and
//! described without the submitted value.

use chrono::NaiveDate;

use crate::consent::IdentityMode;
use crate::domain::{
    anonymous_dob, check_code, check_quality, check_ssn_quality, normalize_name, scan_pii,
    validate_dob, HudList, QualityField, Ssn,
};
use crate::error::FieldError;
use crate::service::tenants::{AnonymousNameFormat, CocPolicy};

pub use crate::domain::identity::Race;

/// Declares a request body that carries the identity and demographic fields (create,
/// designate-sharing), so the field list is written once.
#[macro_export]
macro_rules! identity_body {
    ($(#[$meta:meta])* $name:ident { $($(#[$fmeta:meta])* pub $field:ident : $ty:ty,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            $($(#[$fmeta])* pub $field: $ty,)*
            pub first_name: Option<String>,
            pub middle_name: Option<String>,
            pub last_name: Option<String>,
            pub name_suffix: Option<String>,
            pub alias: Option<String>,
            /// HUD 3.01.5: 1 full, 2 partial/street/code name, 8, 9, 99.
            pub name_data_quality: Option<i16>,
            /// Nine digits (`123-45-6789` or `123456789`) or the last four.
            pub ssn: Option<String>,
            /// HUD 3.02.2: 1 full, 2 approximate or partial (last four), 8, 9, 99.
            pub ssn_data_quality: Option<i16>,
            pub dob: Option<chrono::NaiveDate>,
            /// HUD 3.03.2: 1 full, 2 approximate or partial, 8, 9, 99.
            pub dob_data_quality: Option<i16>,
            /// Anonymous and code-name records: the birth year only; the DOB is computed by the CoC policy.
            pub birth_year: Option<i32>,
            #[serde(default)]
            pub race: Vec<$crate::service::client_input::Race>,
            /// 8, 9 or 99 when no race is given.
            pub race_none: Option<i16>,
            pub additional_race_ethnicity: Option<String>,
            /// HUD 3.06.1 (FY2024) codes 0 to 6.
            #[serde(default)]
            pub gender: Vec<i16>,
            pub gender_none: Option<i16>,
            pub different_identity_text: Option<String>,
            /// HUD 4.21 (FY2026): 0 female, 1 male, 8, 9, 99.
            pub sex: Option<i16>,
            /// HUD 3.07: 0, 1, 8, 9, 99 (default 99).
            pub veteran_status: Option<i16>,
        }

        impl $name {
            pub fn identity_fields(&self) -> $crate::service::client_input::IdentityFields {
                $crate::service::client_input::IdentityFields {
                    first_name: self.first_name.clone(),
                    middle_name: self.middle_name.clone(),
                    last_name: self.last_name.clone(),
                    name_suffix: self.name_suffix.clone(),
                    alias: self.alias.clone(),
                    name_data_quality: self.name_data_quality,
                    ssn: self.ssn.clone(),
                    ssn_data_quality: self.ssn_data_quality,
                    dob: self.dob,
                    dob_data_quality: self.dob_data_quality,
                    birth_year: self.birth_year,
                    race: self.race.clone(),
                    race_none: self.race_none,
                    additional_race_ethnicity: self.additional_race_ethnicity.clone(),
                    gender: self.gender.clone(),
                    gender_none: self.gender_none,
                    different_identity_text: self.different_identity_text.clone(),
                    sex: self.sex,
                    veteran_status: self.veteran_status,
                }
            }
        }
    };
}

/// The identity and demographic fields of a record, as sent.
#[derive(Debug, Clone, Default)]
pub struct IdentityFields {
    pub first_name: Option<String>,
    pub middle_name: Option<String>,
    pub last_name: Option<String>,
    pub name_suffix: Option<String>,
    pub alias: Option<String>,
    pub name_data_quality: Option<i16>,
    pub ssn: Option<String>,
    pub ssn_data_quality: Option<i16>,
    pub dob: Option<NaiveDate>,
    pub dob_data_quality: Option<i16>,
    pub birth_year: Option<i32>,
    pub race: Vec<Race>,
    pub race_none: Option<i16>,
    pub additional_race_ethnicity: Option<String>,
    pub gender: Vec<i16>,
    pub gender_none: Option<i16>,
    pub different_identity_text: Option<String>,
    pub sex: Option<i16>,
    pub veteran_status: Option<i16>,
}

/// The validated identity a record will hold.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Identity {
    pub first_name: Option<String>,
    pub middle_name: Option<String>,
    pub last_name: Option<String>,
    pub name_suffix: Option<String>,
    pub alias: Option<String>,
    pub name_quality: i16,
    pub ssn: Option<String>,
    pub ssn_quality: i16,
    pub dob: Option<NaiveDate>,
    pub dob_quality: i16,
    pub race: Vec<Race>,
    pub race_none: Option<i16>,
    pub additional_race_ethnicity: Option<String>,
    pub gender: Vec<i16>,
    pub gender_none: Option<i16>,
    pub different_identity_text: Option<String>,
    pub sex: Option<i16>,
    pub veteran_status: i16,
}

fn forbidden(field: &str, mode: IdentityMode) -> FieldError {
    FieldError::new(
        field,
        "forbidden_for_identity_mode",
        format!(
            "A record in identity mode {} does not accept {field}.",
            mode.as_str()
        ),
    )
}

/// Checks `f` for `mode` and computes what the server sets (anonymous names, DOB by policy).
/// `short_uid` names anonymous records under the `uid_anonymous` format.
pub fn validate_identity(
    f: &IdentityFields,
    mode: IdentityMode,
    policy: &CocPolicy,
    short_uid: &str,
    today: NaiveDate,
) -> Result<Identity, Vec<FieldError>> {
    use IdentityMode as M;
    let mut errs: Vec<FieldError> = Vec::new();
    let mut id = Identity::default();

    // Which identity fields the mode refuses outright.
    let refused: &[&str] = match mode {
        M::Identified => &["birth_year"],
        M::ConsentRefused => &[
            "first_name",
            "middle_name",
            "last_name",
            "name_suffix",
            "alias",
            "ssn",
            "birth_year",
        ],
        M::CodeName => &["ssn", "alias", "name_suffix"],
        M::Anonymous => &[
            "first_name",
            "middle_name",
            "last_name",
            "name_suffix",
            "alias",
            "ssn",
            "dob",
        ],
    };
    let sent = |name: &str| match name {
        "first_name" => f.first_name.is_some(),
        "middle_name" => f.middle_name.is_some(),
        "last_name" => f.last_name.is_some(),
        "name_suffix" => f.name_suffix.is_some(),
        "alias" => f.alias.is_some(),
        "ssn" => f.ssn.is_some(),
        "dob" => f.dob.is_some(),
        "birth_year" => f.birth_year.is_some(),
        _ => false,
    };
    for name in refused {
        if sent(name) {
            errs.push(forbidden(name, mode));
        }
    }

    // Names.
    let mut name = |field: &'static str, v: &Option<String>| -> Option<String> {
        if refused.contains(&field) {
            return None;
        }
        v.as_deref().and_then(|s| match normalize_name(field, s) {
            Ok(n) => n,
            Err(e) => {
                errs.push(FieldError::new(field, e.code, e.message));
                None
            }
        })
    };
    id.first_name = name("first_name", &f.first_name);
    id.middle_name = name("middle_name", &f.middle_name);
    id.last_name = name("last_name", &f.last_name);
    id.name_suffix = name("name_suffix", &f.name_suffix);
    id.alias = name("alias", &f.alias);
    let has_name = id.first_name.is_some() || id.last_name.is_some();
    let server_quality =
        |field: &str, sent: Option<i16>, value: i16, errs: &mut Vec<FieldError>| {
            if sent.is_some_and(|q| q != value) {
                errs.push(FieldError::new(
                    field,
                    "quality_set_by_identity_mode",
                    format!(
                        "In identity mode {} this data quality code is {value}.",
                        mode.as_str()
                    ),
                ));
            }
            value
        };
    match mode {
        M::Identified => {
            if !has_name {
                errs.push(FieldError::new(
                    "first_name",
                    "required",
                    "An identified record needs a first or last name.",
                ));
            }
            id.name_quality = f.name_data_quality.unwrap_or(1);
            if !matches!(id.name_quality, 1 | 2) {
                errs.push(FieldError::new(
                    "name_data_quality",
                    "quality_mismatch",
                    "An identified record's name data quality is 1 (full) or 2 (partial).",
                ));
            }
        }
        M::CodeName => {
            if !has_name {
                errs.push(FieldError::new(
                    "first_name",
                    "required",
                    "A code-name record needs its street or code name.",
                ));
            }
            id.name_quality =
                server_quality("name_data_quality", f.name_data_quality, 2, &mut errs);
        }
        M::ConsentRefused => {
            id.name_quality =
                server_quality("name_data_quality", f.name_data_quality, 9, &mut errs);
        }
        M::Anonymous => {
            id.name_quality =
                server_quality("name_data_quality", f.name_data_quality, 9, &mut errs);
            match policy.anonymous_name_format {
                AnonymousNameFormat::UidAnonymous => id.first_name = Some(short_uid.to_string()),
                AnonymousNameFormat::AnonymousAnonymous => id.first_name = Some("Anonymous".into()),
            }
            id.last_name = Some("Anonymous".into());
        }
    }

    // SSN.
    match mode {
        M::Identified => {
            let ssn = f.ssn.as_deref().and_then(|s| match Ssn::parse(s) {
                Ok(v) => Some(v),
                Err(e) => {
                    errs.push(FieldError::new("ssn", e.code, e.message));
                    None
                }
            });
            let default_q = ssn.as_ref().map_or(99, Ssn::quality);
            id.ssn_quality = f.ssn_data_quality.unwrap_or(default_q);
            if f.ssn.is_none() || ssn.is_some() {
                if let Err(e) = check_ssn_quality(ssn.as_ref(), id.ssn_quality) {
                    errs.push(FieldError::new("ssn_data_quality", e.code, e.message));
                }
            }
            id.ssn = ssn.map(|s| s.digits().to_string());
        }
        M::ConsentRefused => {
            id.ssn_quality = server_quality("ssn_data_quality", f.ssn_data_quality, 9, &mut errs)
        }
        M::CodeName => {
            id.ssn_quality = server_quality("ssn_data_quality", f.ssn_data_quality, 99, &mut errs)
        }
        M::Anonymous => {
            id.ssn_quality = server_quality(
                "ssn_data_quality",
                f.ssn_data_quality,
                policy.anonymous_ssn_quality,
                &mut errs,
            )
        }
    }

    // DOB.
    match mode {
        M::Anonymous => match anonymous_dob(policy.anonymous_dob_rule, f.birth_year, today) {
            Ok((dob, q)) => {
                id.dob = dob;
                id.dob_quality =
                    server_quality("dob_data_quality", f.dob_data_quality, q, &mut errs);
            }
            Err(e) => errs.push(FieldError::new("birth_year", e.code, e.message)),
        },
        M::CodeName if f.birth_year.is_some() => {
            match anonymous_dob(
                crate::domain::AnonymousDobRule::Jan1OfBirthYear,
                f.birth_year,
                today,
            ) {
                Ok((dob, q)) => {
                    id.dob = dob;
                    id.dob_quality =
                        server_quality("dob_data_quality", f.dob_data_quality, q, &mut errs);
                }
                Err(e) => errs.push(FieldError::new("birth_year", e.code, e.message)),
            }
            if f.dob.is_some() {
                errs.push(FieldError::new(
                    "dob",
                    "conflicting_fields",
                    "Send either dob or birth_year, not both.",
                ));
            }
        }
        _ => {
            if let Some(d) = f.dob {
                if let Err(e) = validate_dob(d, today) {
                    errs.push(FieldError::new("dob", e.code, e.message));
                }
            }
            let default_q = match (mode, f.dob.is_some()) {
                (M::CodeName, true) => 2,
                (_, true) => 1,
                (M::ConsentRefused, false) => 9,
                (_, false) => 99,
            };
            id.dob = f.dob;
            id.dob_quality = f.dob_data_quality.unwrap_or(default_q);
            if mode == M::CodeName && f.dob.is_some() && id.dob_quality != 2 {
                errs.push(FieldError::new(
                    "dob_data_quality",
                    "quality_mismatch",
                    "A code-name record holds only an approximate DOB (quality 2).",
                ));
            } else if let Err(e) = check_quality(QualityField::Dob, f.dob.is_some(), id.dob_quality)
            {
                errs.push(FieldError::new("dob_data_quality", e.code, e.message));
            }
        }
    }

    // Demographics: collected in every mode (race, gender and veteran status are not PII).
    id.race = f.race.clone();
    id.race.sort();
    id.race.dedup();
    id.race_none = missing_code("race_none", id.race.is_empty(), f.race_none, &mut errs);
    id.gender = f.gender.clone();
    id.gender.sort();
    id.gender.dedup();
    for g in &id.gender {
        if let Err(e) = check_code(HudList::Gender, "gender", *g as i32) {
            errs.push(FieldError::new("gender", e.code, e.message));
        }
    }
    id.gender_none = missing_code(
        "gender_none",
        id.gender.is_empty(),
        f.gender_none,
        &mut errs,
    );
    if let Some(s) = f.sex {
        if let Err(e) = check_code(HudList::Sex, "sex", s as i32) {
            errs.push(FieldError::new("sex", e.code, e.message));
        }
    }
    id.sex = f.sex;
    id.veteran_status = f.veteran_status.unwrap_or(99);
    if let Err(e) = check_code(
        HudList::NoYesReasonsForMissingData,
        "veteran_status",
        id.veteran_status as i32,
    ) {
        errs.push(FieldError::new("veteran_status", e.code, e.message));
    }
    id.additional_race_ethnicity = free_text(
        "additional_race_ethnicity",
        &f.additional_race_ethnicity,
        mode,
        &mut errs,
    );
    id.different_identity_text = free_text(
        "different_identity_text",
        &f.different_identity_text,
        mode,
        &mut errs,
    );
    if id.different_identity_text.is_some() && !id.gender.contains(&3) {
        errs.push(FieldError::new(
            "different_identity_text",
            "requires_gender_3",
            "different_identity_text goes with gender 3 (Different Identity).",
        ));
    }

    if errs.is_empty() {
        Ok(id)
    } else {
        Err(errs)
    }
}

/// A "none" code (8, 9, 99) goes with an empty multi-select and only then; 99 by default.
fn missing_code(
    field: &str,
    empty: bool,
    sent: Option<i16>,
    errs: &mut Vec<FieldError>,
) -> Option<i16> {
    match (empty, sent) {
        (true, None) => Some(99),
        (true, Some(c @ (8 | 9 | 99))) => Some(c),
        (true, Some(_)) => {
            errs.push(FieldError::new(
                field,
                "code_not_in_list",
                format!("{field} is 8, 9 or 99."),
            ));
            None
        }
        (false, None) => None,
        (false, Some(_)) => {
            errs.push(FieldError::new(
                field,
                "quality_mismatch",
                format!("{field} is only for an empty selection."),
            ));
            None
        }
    }
}

/// Text described as holding no client PII (an ROI's documentation note): bounded, and refused
/// in every identity mode when it matches a PII pattern.
pub fn no_pii_text(field: &str, v: &Option<String>, errs: &mut Vec<FieldError>) -> Option<String> {
    free_text(field, v, IdentityMode::Anonymous, errs)
}

/// Free text: bounded, and for anonymous and code-name records refused when it matches a PII
/// pattern (the kind is named, never the match).
pub fn free_text(
    field: &str,
    v: &Option<String>,
    mode: IdentityMode,
    errs: &mut Vec<FieldError>,
) -> Option<String> {
    let text = v.as_deref().map(str::trim).filter(|s| !s.is_empty())?;
    if text.chars().count() > 10_000 {
        errs.push(FieldError::new(
            field,
            "too_long",
            format!("{field} is at most 10000 characters."),
        ));
        return None;
    }
    if matches!(mode, IdentityMode::Anonymous | IdentityMode::CodeName) {
        if let Some(kind) = scan_pii(text).first() {
            errs.push(FieldError::new(
                field,
                "pii_in_free_text",
                format!(
                    "{field} looks like it holds personal identifying information ({}); it is refused here.",
                    kind.as_str()
                ),
            ));
            return None;
        }
    }
    Some(text.to_string())
}
