//! The facts the consent engine decides on. They are plain values, loaded by
//! the service, so every rule can be tested without a database.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::window::DateWindow;

/// Generates an enum stored as a snake_case text column: serde, the OpenAPI
/// schema and the database must all use one spelling, so the words are
/// written once here and `as_str`/`parse` are derived from them.
macro_rules! text_enum {
    (
        $(#[$meta:meta])* $name:ident {
            $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema,
        )]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            pub fn as_str(&self) -> &'static str {
                match self {
                    $(Self::$variant => $text),+
                }
            }

            pub fn parse(s: &str) -> Option<Self> {
                match s {
                    $($text => Some(Self::$variant),)+
                    _ => None,
                }
            }
        }
    };
}

text_enum! {
    /// A viewer's role, from its token. Roles are cumulative.
    Role {
        CaseWorker => "case_worker",
        AgencyAdmin => "agency_admin",
        CocAdmin => "coc_admin",
        CeAssessor => "ce_assessor",
        SystemAdmin => "system_admin",
        PriorityListReader => "priority_list_reader",
    }
}

text_enum! {
    /// The record's sharing state. `Open` shares only while an ROI is active.
    Visibility {
        Open => "open",
        Closed => "closed",
        Private => "private",
        Locked => "locked",
    }
}

text_enum! {
    /// How much identity the record holds.
    IdentityMode {
        Identified => "identified",
        ConsentRefused => "consent_refused",
        CodeName => "code_name",
        Anonymous => "anonymous",
    }
}

text_enum! {
    /// Superseded and merged records stay readable; the service refuses writes.
    Lifecycle {
        Active => "active",
        Superseded => "superseded",
        Merged => "merged",
    }
}

text_enum! {
    /// What the record rule grants: everything, the record without PII, or 404.
    AccessLevel {
        Full => "full",
        Limited => "limited",
        None => "none",
    }
}

text_enum! {
    /// Which row of the record rule granted access.
    AccessBasis {
        Helpdesk => "helpdesk",
        CreatingAgency => "creating_agency",
        StatewideRoi => "statewide_roi",
        Deidentified => "deidentified",
        Contributor => "contributor",
        CeAssessor => "ce_assessor",
        CocAggregate => "coc_aggregate",
        PriorityList => "priority_list",
    }
}

/// Which CoCs an ROI releases the record to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoiScope {
    /// Every CoC of the installation.
    Statewide,
    /// Only these CoCs, by HUD code.
    Cocs(Vec<String>),
}

impl RoiScope {
    /// HUD codes are canonical upper-case text, so the match is exact.
    pub fn covers(&self, coc_code: &str) -> bool {
        match self {
            RoiScope::Statewide => true,
            RoiScope::Cocs(codes) => codes.iter().any(|c| c == coc_code),
        }
    }
}

/// One Release of Information on a record, past or present.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RoiFacts {
    pub effective_from: NaiveDate,
    pub expires_on: Option<NaiveDate>,
    pub revoked_on: Option<NaiveDate>,
    pub scope: RoiScope,
}

impl RoiFacts {
    /// `[effective_from, min(revoked_on, expires_on))`: whichever end comes
    /// first closes the consent.
    pub fn window(&self) -> DateWindow {
        let until = match (self.revoked_on, self.expires_on) {
            (Some(r), Some(e)) => Some(r.min(e)),
            (r, e) => r.or(e),
        };
        DateWindow::new(self.effective_from, until)
    }

    pub fn is_active(&self, today: NaiveDate) -> bool {
        self.window().contains(today)
    }
}

/// The caller, as its token describes it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Viewer {
    pub agency_id: Option<Uuid>,
    /// The CoC of the viewer's agency.
    pub coc_code: Option<String>,
    pub agency_shares_data: bool,
    pub roles: Vec<Role>,
}

impl Viewer {
    pub fn has_role(&self, r: Role) -> bool {
        self.roles.contains(&r)
    }
}

/// Everything about a client record that the record rule looks at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordFacts {
    pub creating_agency: Uuid,
    pub coc_code: String,
    pub visibility: Visibility,
    pub identity: IdentityMode,
    pub lifecycle: Lifecycle,
    pub rois: Vec<RoiFacts>,
    /// Agencies with at least one datum in the record (may include the creator).
    pub contributors: Vec<Uuid>,
    pub active_ce_enrollment: bool,
    /// From the record's CoC policy (Chicago's consent option B).
    pub locked_visible_to_ce_assessors: bool,
}

impl IdentityMode {
    /// Consent-refused and anonymous records hold no name, SSN or exact date of birth by
    /// construction (consent.md, record rule row 4).
    pub fn is_deidentified(&self) -> bool {
        matches!(self, IdentityMode::ConsentRefused | IdentityMode::Anonymous)
    }
}

impl RecordFacts {
    /// De-identified and `open`: shared at `limited` without an ROI (record rule row 4).
    pub fn deidentified_open(&self) -> bool {
        self.identity.is_deidentified() && self.visibility == Visibility::Open
    }
}

/// A kind of datum. Every kind but `Structured` is wholly PII.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DatumKind {
    /// Coded fields (enrollments, exits, services, assessment answers) whose
    /// free-text parts are dropped at level `limited`.
    Structured,
    FreeText,
    Document,
    Contact,
}

/// Anything attached to a record, reduced to what the datum rule looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DatumFacts {
    pub entered_by_agency: Uuid,
    pub collected_on: NaiveDate,
    pub kind: DatumKind,
}

/// How much of one datum a viewer sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DatumAccess {
    Full,
    /// The structured part only, free text dropped. Never returned for a
    /// kind that is wholly PII (those are `Hidden` instead).
    NonPiiOnly,
    Hidden,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_columns_round_trip_and_match_serde() {
        use serde::de::{value::Error, value::StrDeserializer, Deserialize, IntoDeserializer};
        fn check<T: Copy + PartialEq + std::fmt::Debug + for<'de> Deserialize<'de>>(
            all: &[T],
            as_str: fn(&T) -> &'static str,
            parse: fn(&str) -> Option<T>,
        ) {
            for v in all {
                let s = as_str(v);
                assert_eq!(parse(s), Some(*v));
                let de: StrDeserializer<Error> = s.into_deserializer();
                assert_eq!(
                    T::deserialize(de).unwrap(),
                    *v,
                    "serde spells {s} differently"
                );
            }
            assert_eq!(parse("no_such_word"), None);
        }
        check(Role::ALL, Role::as_str, Role::parse);
        check(Visibility::ALL, Visibility::as_str, Visibility::parse);
        check(IdentityMode::ALL, IdentityMode::as_str, IdentityMode::parse);
        check(Lifecycle::ALL, Lifecycle::as_str, Lifecycle::parse);
        check(AccessLevel::ALL, AccessLevel::as_str, AccessLevel::parse);
        check(AccessBasis::ALL, AccessBasis::as_str, AccessBasis::parse);
        assert_eq!(Role::PriorityListReader.as_str(), "priority_list_reader");
        assert_eq!(AccessBasis::StatewideRoi.as_str(), "statewide_roi");
    }
}
