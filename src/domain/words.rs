//! The words Hearth stores in text columns and speaks in its contract: one spelling for serde,
//! the OpenAPI schema and the database, written once per enum by [`text_enum!`].
//!
//! A stored word maps to its column with diesel's `FromSql`/`ToSql`, so rows hold the enum, not a
//! string a service compares by hand; a stored value that is not one of the words is a
//! deserialization error (a fault), never a default.

use serde::{Deserialize, Serialize};

/// Generates an enum stored as a snake_case text column: serde, the OpenAPI schema and the
/// database all use the words given here; `as_str`/`parse`/`ALL` and the column mapping are
/// derived from them. Variants order as declared.
macro_rules! text_enum {
    (
        $(#[$meta:meta])* $name:ident {
            $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
            utoipa::ToSchema, diesel::AsExpression, diesel::FromSqlRow,
        )]
        #[diesel(sql_type = diesel::sql_types::Text)]
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

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        $crate::domain::words::text_column!($name, |s| Self::parse(s));
    };
}
pub(crate) use text_enum;

/// Maps a type with `as_str` to a text column (the type derives `diesel::AsExpression` and
/// `diesel::FromSqlRow` with `sql_type = Text`); `$parse` answers `None` for a word that is not
/// one of the type's, which reading the column turns into an error.
macro_rules! text_column {
    ($name:ty, $parse:expr) => {
        impl diesel::serialize::ToSql<diesel::sql_types::Text, diesel::pg::Pg> for $name {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, diesel::pg::Pg>,
            ) -> diesel::serialize::Result {
                <str as diesel::serialize::ToSql<diesel::sql_types::Text, diesel::pg::Pg>>::to_sql(
                    self.as_str(),
                    out,
                )
            }
        }

        impl diesel::deserialize::FromSql<diesel::sql_types::Text, diesel::pg::Pg> for $name {
            fn from_sql(v: diesel::pg::PgValue<'_>) -> diesel::deserialize::Result<Self> {
                let s = <String as diesel::deserialize::FromSql<
                    diesel::sql_types::Text,
                    diesel::pg::Pg,
                >>::from_sql(v)?;
                let parse: fn(&str) -> Option<Self> = $parse;
                // No silent fallback; the message names the type, never the stored value.
                parse(&s).ok_or_else(|| {
                    concat!("a stored ", stringify!($name), " does not parse").into()
                })
            }
        }
    };
}
pub(crate) use text_column;

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

text_enum! {
    /// How a CoC grants an ROI on a record that already holds data (consent.md, "CoC policy").
    RoiGrantMode {
        /// The record opens; earlier data stays with whoever entered it.
        Window => "window",
        /// The ROI job aid's split: a new shared record, the old one superseded.
        Split => "split",
    }
}

text_enum! {
    /// How an ROI was given.
    RoiMethod {
        Signed => "signed",
        Verbal => "verbal",
    }
}

text_enum! {
    /// Where a de-identification request stands.
    RequestStatus {
        Pending => "pending",
        Completed => "completed",
        Rejected => "rejected",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_columns_round_trip_and_match_serde() {
        use serde::de::{value::Error, value::StrDeserializer, IntoDeserializer};
        fn check<T: Copy + PartialEq + std::fmt::Debug + for<'de> Deserialize<'de> + Serialize>(
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
                assert_eq!(serde_json::to_value(v).unwrap(), s);
            }
            assert_eq!(parse("no_such_word"), None);
        }
        check(Role::ALL, Role::as_str, Role::parse);
        check(Visibility::ALL, Visibility::as_str, Visibility::parse);
        check(IdentityMode::ALL, IdentityMode::as_str, IdentityMode::parse);
        check(Lifecycle::ALL, Lifecycle::as_str, Lifecycle::parse);
        check(AccessLevel::ALL, AccessLevel::as_str, AccessLevel::parse);
        check(AccessBasis::ALL, AccessBasis::as_str, AccessBasis::parse);
        check(RoiGrantMode::ALL, RoiGrantMode::as_str, RoiGrantMode::parse);
        check(RoiMethod::ALL, RoiMethod::as_str, RoiMethod::parse);
        check(
            RequestStatus::ALL,
            RequestStatus::as_str,
            RequestStatus::parse,
        );
        check(
            crate::domain::identity::Race::ALL,
            crate::domain::identity::Race::as_str,
            crate::domain::identity::Race::parse,
        );
        check(
            crate::domain::identity::AnonymousNameFormat::ALL,
            crate::domain::identity::AnonymousNameFormat::as_str,
            crate::domain::identity::AnonymousNameFormat::parse,
        );
        assert_eq!(Role::PriorityListReader.as_str(), "priority_list_reader");
        assert_eq!(AccessBasis::StatewideRoi.as_str(), "statewide_roi");
    }
}

text_enum! {
    /// How an HMIS CSV import treats problems.
    ImportMode {
        /// All or nothing: any error refuses the whole set.
        Strict => "strict",
        /// The good rows, and a report of the others.
        Lenient => "lenient",
    }
}

text_enum! {
    /// Where an HMIS CSV import job stands.
    ImportStatus {
        Queued => "queued",
        Running => "running",
        Succeeded => "succeeded",
        Failed => "failed",
    }
}
