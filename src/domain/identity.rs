//! A client record's identity (consent.md, "Identity modes" and "Validation that holds in every
//! mode"): the HUD identity and demographic fields, declared once in [`with_identity_fields!`],
//! with their quality codes, the validation per identity mode and the CoC policy that shapes
//! anonymous records.
//!
//! Everything that lists the fields is generated from that one declaration: what a caller sends
//! ([`IdentityFields`], the request bodies of [`identity_body!`]), what a record holds
//! ([`Identity`], embedded in `repo::clients::ClientRow` and mapped to the `clients` columns),
//! the merge patch ([`ClientPatch`]) and the view (`service::client_view`, [`identity_view!`]).
//! Adding a HUD field is one line there plus its migration (and `db/schema.rs`); a test checks
//! the `clients` columns against the declaration. Every problem is collected, named by field,
//! and described without the submitted value.

use chrono::{Datelike, NaiveDate};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use super::dob::{anonymous_dob, validate_dob, AnonymousDobRule};
use super::hud::{check_code, HudList};
use super::names::normalize_name;
use super::pii::scan_pii;
use super::quality::{check_quality, check_ssn_quality, QualityField};
use super::ssn::Ssn;
use super::words::{text_enum, IdentityMode};
use crate::error::FieldError;

text_enum! {
    /// HUD 3.04 Race and Ethnicity (FY2024 multi-select; CSV column in the description).
    Race {
        /// AmIndAKNative
        AmIndAkNative => "am_ind_ak_native",
        /// Asian
        Asian => "asian",
        /// BlackAfAmerican
        BlackAfAmerican => "black_af_american",
        /// HispanicLatinaeo (FY2024) / HispanicLatinao (FY2026)
        HispanicLatinao => "hispanic_latinao",
        /// MidEastNAfrican
        MidEastNAfrican => "mid_east_n_african",
        /// NativeHIPacific
        NativeHiPacific => "native_hi_pacific",
        /// White
        White => "white",
    }
}

text_enum! {
    /// CoC policy `anonymous_name_format`: the names an anonymous record holds.
    AnonymousNameFormat {
        /// First name = the record's short UID, last name = "Anonymous".
        UidAnonymous => "uid_anonymous",
        /// First and last name "Anonymous".
        AnonymousAnonymous => "anonymous_anonymous",
    }
}

/// The CoC policy that shapes anonymous records (consent.md, "CoC policy"): their names, their
/// DOB and their SSN data quality.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnonymousPolicy {
    pub name_format: AnonymousNameFormat,
    pub dob_rule: AnonymousDobRule,
    /// 99 (data not collected) or 9 (client prefers not to answer).
    pub ssn_quality: i16,
}

impl AnonymousPolicy {
    /// The first and last name of an anonymous record with `short_uid`.
    pub fn names(&self, short_uid: &str) -> (String, String) {
        let first = match self.name_format {
            AnonymousNameFormat::UidAnonymous => short_uid.to_string(),
            AnonymousNameFormat::AnonymousAnonymous => "Anonymous".to_string(),
        };
        (first, "Anonymous".to_string())
    }

    /// The first and last name a de-identified record (an existing client made anonymous)
    /// takes. The Spokane job aid promises that after de-identification "the client's last name
    /// will now include their client ID", so staff tell the records apart and find them by it:
    /// under `anonymous_anonymous` the last name is "Anonymous <short UID>"; under
    /// `uid_anonymous` the first name is already the short UID, so the names are those of
    /// [`AnonymousPolicy::names`].
    pub fn deidentified_names(&self, short_uid: &str) -> (String, String) {
        match self.name_format {
            AnonymousNameFormat::UidAnonymous => self.names(short_uid),
            AnonymousNameFormat::AnonymousAnonymous => {
                ("Anonymous".to_string(), format!("Anonymous {short_uid}"))
            }
        }
    }
}

impl Identity {
    /// The identity in the anonymous form `policy` gives (de-identification): the names the
    /// policy gives, no SSN, alias, middle name or suffix, the DOB the policy computes from the
    /// birth year. Free text is the caller's to scrub.
    pub fn anonymize(&mut self, policy: &AnonymousPolicy, short_uid: &str, today: NaiveDate) {
        let birth_year = self.dob.map(|d| d.year());
        let (dob, dob_quality) =
            anonymous_dob(policy.dob_rule, birth_year, today).unwrap_or((None, 99));
        let (first, last) = policy.deidentified_names(short_uid);
        self.first_name = Some(first);
        self.middle_name = None;
        self.last_name = Some(last);
        self.name_suffix = None;
        self.alias = None;
        self.name_quality = 9;
        self.ssn = None;
        self.ssn_quality = policy.ssn_quality;
        self.dob = dob;
        self.dob_quality = dob_quality;
    }

    /// Designate sharing: the demographic answers a code-name or locked record already holds
    /// (race with its additional text, gender with its different-identity text, sex, veteran
    /// status) stay when the identity sent does not answer them again (a field sent as `null`
    /// is not an answer). Names, SSN and DOB are the new identity's own.
    pub fn keep_unsent_demographics(&self, f: &mut IdentityFields) {
        let current = self.as_sent();
        if f.race.is_empty() && f.race_none.is_none() && f.additional_race_ethnicity.is_none() {
            f.race = current.race;
            f.race_none = current.race_none;
            f.additional_race_ethnicity = current.additional_race_ethnicity;
        }
        if f.gender.is_empty() && f.gender_none.is_none() && f.different_identity_text.is_none() {
            f.gender = current.gender;
            f.gender_none = current.gender_none;
            f.different_identity_text = current.different_identity_text;
        }
        if f.sex.is_none() {
            f.sex = current.sex;
        }
        if f.veteran_status.is_none() {
            f.veteran_status = current.veteran_status;
        }
    }

    /// The record's fields as a caller would send them, so a patch is validated like a create.
    /// Fields the server sets in `mode` (anonymous names, DOB by policy) are left out.
    fn sent_in(&self, mode: IdentityMode) -> IdentityFields {
        let mut f = self.as_sent();
        if mode == IdentityMode::Anonymous {
            f.first_name = None;
            f.last_name = None;
            f.dob = None;
            f.dob_data_quality = None;
        }
        f
    }
}

impl ClientPatch {
    /// The identity `current` holds after this patch, validated for `mode` like a create.
    pub fn patched(
        self,
        current: &Identity,
        mode: IdentityMode,
        policy: &AnonymousPolicy,
        short_uid: &str,
        today: NaiveDate,
    ) -> Result<Identity, Vec<FieldError>> {
        let sent = |v: &Option<Option<i16>>| matches!(v, Some(Some(_)));
        // A new selection drops the old "none" code unless one is sent with it.
        let new_race = matches!(self.race, Some(Some(_))) && self.race_none.is_none();
        let new_gender = matches!(self.gender, Some(Some(_))) && self.gender_none.is_none();
        let new_birth_year = matches!(self.birth_year, Some(Some(_)));
        let qualities_sent = [
            (sent(&self.name_data_quality), "name_data_quality"),
            (sent(&self.ssn_data_quality), "ssn_data_quality"),
            (sent(&self.dob_data_quality), "dob_data_quality"),
        ];
        // A stored value the patch does not touch is not judged again: a record may hold one
        // today's rules refuse (an HMIS CSV import before they applied to it). It stays as it
        // is; the rest of the patch is validated as usual.
        use IdentityMode as M;
        let name_quality_kept = self.name_data_quality.is_none()
            && mode == M::Identified
            && !matches!(current.name_quality, 1 | 2);
        let ssn_kept = self.ssn.is_none()
            && self.ssn_data_quality.is_none()
            && mode == M::Identified
            && match current.ssn.as_deref().map(Ssn::parse) {
                Some(Ok(v)) => check_ssn_quality(Some(&v), current.ssn_quality).is_err(),
                Some(Err(_)) => true,
                None => check_ssn_quality(None, current.ssn_quality).is_err(),
            };
        let dob_kept = self.dob.is_none()
            && self.dob_data_quality.is_none()
            && self.birth_year.is_none()
            && matches!(mode, M::Identified | M::ConsentRefused)
            && (current.dob.is_some_and(|d| validate_dob(d, today).is_err())
                || check_quality(
                    QualityField::Dob,
                    current.dob.is_some(),
                    current.dob_quality,
                )
                .is_err());
        // The alias, likewise: a split writes its job-aid marker ("SHARED - ROI <date>", "DO NOT
        // USE") as the alias of a record whose mode refuses a client-given alias (anonymous,
        // consent-refused, code name). A patch that does not send `alias` keeps it unjudged; one
        // that sends it is validated as at creation.
        let alias_kept = self.alias.is_none();
        let mut f = current.sent_in(mode);
        self.apply(&mut f);
        if alias_kept {
            f.alias = None;
        }
        if name_quality_kept {
            f.name_data_quality = None;
        }
        if ssn_kept {
            f.ssn = None;
            f.ssn_data_quality = None;
        }
        if dob_kept {
            f.dob = None;
            f.dob_data_quality = None;
        }
        if new_race {
            f.race_none = None;
        }
        if new_gender {
            f.gender_none = None;
        }
        if mode == IdentityMode::Anonymous {
            // The server set these from the policy: a patch may not send them.
            if let Some((_, name)) = qualities_sent.iter().find(|(s, _)| *s) {
                return Err(vec![FieldError::new(
                    *name,
                    "quality_set_by_identity_mode",
                    "An anonymous record's data quality codes are set by the CoC policy.",
                )]);
            }
            f.name_data_quality = None;
            f.ssn_data_quality = None;
        }
        let mut identity = validate_identity(&f, mode, policy, short_uid, today)?;
        if name_quality_kept {
            identity.name_quality = current.name_quality;
        }
        if ssn_kept {
            identity.ssn = current.ssn.clone();
            identity.ssn_quality = current.ssn_quality;
        }
        if dob_kept {
            identity.dob = current.dob;
            identity.dob_quality = current.dob_quality;
        }
        if alias_kept {
            identity.alias = current.alias.clone();
        }
        if mode == IdentityMode::Anonymous {
            // A de-identified record keeps the names de-identification gave it (its last name
            // holds its client id under `anonymous_anonymous`): a patch sends no names.
            let (first, last) = policy.deidentified_names(short_uid);
            if current.first_name.as_deref() == Some(first.as_str())
                && current.last_name.as_deref() == Some(last.as_str())
            {
                identity.first_name = Some(first);
                identity.last_name = Some(last);
            }
        }
        if mode == IdentityMode::Anonymous {
            // Names were generated at creation; the DOB changes only with a new birth year.
            identity.first_name = current.first_name.clone();
            identity.last_name = current.last_name.clone();
            if !new_birth_year {
                identity.dob = current.dob;
                identity.dob_quality = current.dob_quality;
            }
        }
        Ok(identity)
    }
}

/// The identity fields, declared once: calls back `$crate::$then!` with them (see the module
/// comment for what is generated). Each line is the field's description in the contract, its
/// name in the contract (`as column` when its column is named otherwise), where it shows, and
/// its shape:
///
/// - `pii`: shown at access level `full` only; `shown`: at every level (codes, not PII);
///   `sent`: sent by the caller, never stored (it instructs the server).
/// - `opt T`: may be absent, stored nullable; a patch's `null` clears it.
/// - `req T = d`: always stored, `d` when not sent; a patch's `null` leaves it as it is.
/// - `many T`: a multi-select stored as an array, empty when not sent; a patch's `null` leaves it.
///
/// What each field must hold in each identity mode is [`validate_identity`]'s.
#[macro_export]
#[doc(hidden)]
macro_rules! with_identity_fields {
    ($then:ident { $($args:tt)* }) => {
        $crate::__identity_norm! { @next $then { $($args)* } [] [] []
            first_name: pii opt String,
            middle_name: pii opt String,
            last_name: pii opt String,
            name_suffix: pii opt String,
            alias: pii opt String,
            /// HUD 3.01.5: 1 full, 2 partial/street/code name, 8, 9, 99.
            name_data_quality as name_quality: shown req i16 = 99,
            /// Nine digits or the last four: sent as `123-45-6789` or `123456789`, shown as
            /// `123-45-6789`.
            ssn: pii opt String,
            /// HUD 3.02.2: 1 full, 2 approximate or partial (last four), 8, 9, 99.
            ssn_data_quality as ssn_quality: shown req i16 = 99,
            dob: pii opt chrono::NaiveDate,
            /// HUD 3.03.2: 1 full, 2 approximate or partial, 8, 9, 99.
            dob_data_quality as dob_quality: shown req i16 = 99,
            /// Anonymous and code-name records: the birth year only (1900 to the current year); the DOB is
            /// computed by the CoC policy.
            birth_year: sent opt i32,
            race: shown many $crate::domain::identity::Race,
            /// 8, 9 or 99 when no race is given.
            race_none: shown opt i16,
            additional_race_ethnicity: pii opt String,
            /// HUD 3.06.1 (FY2024) codes 0 to 6.
            gender: shown many i16,
            gender_none: shown opt i16,
            different_identity_text: pii opt String,
            /// HUD 4.21 (FY2026): 0 female, 1 male, 8, 9, 99.
            sex: shown opt i16,
            /// HUD 3.07: 0, 1, 8, 9, 99 (default 99).
            veteran_status: shown req i16 = 99,
        }
    };
}

/// Reads the declaration one line at a time into three lists (`pii`, `shown`, `sent`) of
/// `{ name column shape (sent type) (stored type) (patch value type) (default) [docs] }`, then
/// calls back `$crate::$then! { args pii [..] shown [..] sent [..] }`.
#[macro_export]
#[doc(hidden)]
macro_rules! __identity_norm {
    (@next $then:ident { $($args:tt)* } $pii:tt $shown:tt $sent:tt) => {
        $crate::$then! { $($args)* pii $pii shown $shown sent $sent }
    };
    (@next $then:ident $args:tt $pii:tt $shown:tt $sent:tt
        $(#[$doc:meta])* $api:ident as $col:ident : $place:ident $($rest:tt)*) => {
        $crate::__identity_norm! {
            @shape $then $args $pii $shown $sent [$(#[$doc])*] $api $col $place $($rest)*
        }
    };
    (@next $then:ident $args:tt $pii:tt $shown:tt $sent:tt
        $(#[$doc:meta])* $api:ident : $place:ident $($rest:tt)*) => {
        $crate::__identity_norm! {
            @shape $then $args $pii $shown $sent [$(#[$doc])*] $api $api $place $($rest)*
        }
    };
    (@shape $then:ident $args:tt $pii:tt $shown:tt $sent:tt $docs:tt $api:ident $col:ident
        $place:ident opt $ty:ty, $($rest:tt)*) => {
        $crate::__identity_norm! { @place $then $args $pii $shown $sent $place
            { $api $col opt (Option<$ty>) (Option<$ty>) ($ty) (None) $docs } $($rest)* }
    };
    (@shape $then:ident $args:tt $pii:tt $shown:tt $sent:tt $docs:tt $api:ident $col:ident
        $place:ident req $ty:ty = $def:expr, $($rest:tt)*) => {
        $crate::__identity_norm! { @place $then $args $pii $shown $sent $place
            { $api $col req (Option<$ty>) ($ty) ($ty) ($def) $docs } $($rest)* }
    };
    (@shape $then:ident $args:tt $pii:tt $shown:tt $sent:tt $docs:tt $api:ident $col:ident
        $place:ident many $ty:ty, $($rest:tt)*) => {
        $crate::__identity_norm! { @place $then $args $pii $shown $sent $place
            { $api $col many (Vec<$ty>) (Vec<$ty>) (Vec<$ty>) (Vec::new()) $docs } $($rest)* }
    };
    (@place $then:ident $args:tt [$($pii:tt)*] $shown:tt $sent:tt pii $e:tt $($rest:tt)*) => {
        $crate::__identity_norm! { @next $then $args [$($pii)* $e] $shown $sent $($rest)* }
    };
    (@place $then:ident $args:tt $pii:tt [$($shown:tt)*] $sent:tt shown $e:tt $($rest:tt)*) => {
        $crate::__identity_norm! { @next $then $args $pii [$($shown)* $e] $sent $($rest)* }
    };
    (@place $then:ident $args:tt $pii:tt $shown:tt [$($sent:tt)*] sent $e:tt $($rest:tt)*) => {
        $crate::__identity_norm! { @next $then $args $pii $shown [$($sent)* $e] $($rest)* }
    };
}

/// What a shape means for one field: its value as stored from what was sent, as sent from what
/// is stored, and a patch applied to what was sent.
#[macro_export]
#[doc(hidden)]
macro_rules! __identity_shape {
    (from_sent opt $v:expr, $def:expr) => {
        $v.clone()
    };
    (from_sent req $v:expr, $def:expr) => {
        $v.unwrap_or($def)
    };
    (from_sent many $v:expr, $def:expr) => {
        $v.clone()
    };
    (as_sent opt $v:expr) => {
        $v.clone()
    };
    (as_sent req $v:expr) => {
        Some($v.clone())
    };
    (as_sent many $v:expr) => {
        $v.clone()
    };
    (patch opt $dst:expr, $src:expr) => {
        if let Some(v) = $src {
            $dst = v;
        }
    };
    (patch req $dst:expr, $src:expr) => {
        if let Some(Some(v)) = $src {
            $dst = Some(v);
        }
    };
    (patch many $dst:expr, $src:expr) => {
        if let Some(Some(v)) = $src {
            $dst = v;
        }
    };
}

/// Generates [`IdentityFields`], [`Identity`] and [`ClientPatch`] (invoked once, below).
#[macro_export]
#[doc(hidden)]
macro_rules! __identity_types {
    (pii [$($p:tt)*] shown [$($s:tt)*] sent [$($i:tt)*]) => {
        $crate::__identity_types! { @emit [$($p)* $($s)*] [$($i)*] }
    };
    (@emit
        [$({ $api:ident $col:ident $shape:ident ($sent:ty) ($stored:ty) ($val:ty) ($def:expr)
            [$($doc:tt)*] })*]
        [$({ $iapi:ident $icol:ident $ishape:ident ($isent:ty) ($istored:ty) ($ival:ty)
            ($idef:expr) [$($idoc:tt)*] })*]
    ) => {
        /// The identity fields of a record as a caller sends them (a request body, or a record
        /// with a patch applied), before validation.
        #[derive(Debug, Clone, Default)]
        pub struct IdentityFields {
            $($($doc)* pub $api: $sent,)*
            $($($idoc)* pub $iapi: $isent,)*
        }

        /// The validated identity a record holds, in its `clients` columns (embedded in
        /// `repo::clients::ClientRow`).
        #[derive(
            Debug,
            Clone,
            PartialEq,
            Queryable,
            QueryableByName,
            Selectable,
            Insertable,
            AsChangeset,
            Deserialize,
        )]
        #[diesel(table_name = $crate::db::schema::clients, treat_none_as_null = true)]
        pub struct Identity {
            $($($doc)* pub $col: $stored,)*
        }

        impl Identity {
            /// The identity columns of `clients`, in declaration order.
            pub const COLUMNS: &'static [&'static str] = &[$(stringify!($col)),*];

            /// Each field as sent (a `req` field not sent takes its default), unchecked.
            fn from_sent(f: &IdentityFields) -> Identity {
                Identity {
                    $($col: $crate::__identity_shape!(from_sent $shape f.$api, $def),)*
                }
            }

            /// The record's fields as a caller would send them.
            fn as_sent(&self) -> IdentityFields {
                IdentityFields {
                    $($api: $crate::__identity_shape!(as_sent $shape self.$col),)*
                    $($iapi: Default::default(),)*
                }
            }
        }

        impl IdentityFields {
            /// The names of the fields in the contract, in declaration order.
            pub const NAMES: &'static [&'static str] = &[$(stringify!($api),)* $(stringify!($iapi)),*];
        }

        /// A JSON merge patch of the identity fields; `null` clears a field.
        #[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
        #[serde(deny_unknown_fields)]
        pub struct ClientPatch {
            $(
                $($doc)*
                #[serde(default, deserialize_with = "crate::domain::patch::double_option")]
                #[schema(value_type = Option<$val>, nullable)]
                pub $api: Option<Option<$val>>,
            )*
            $(
                $($idoc)*
                #[serde(default, deserialize_with = "crate::domain::patch::double_option")]
                #[schema(value_type = Option<$ival>, nullable)]
                pub $iapi: Option<Option<$ival>>,
            )*
        }

        impl ClientPatch {
            /// Whether the patch sends no field at all (`{}`).
            pub fn is_empty(&self) -> bool {
                true $(&& self.$api.is_none())* $(&& self.$iapi.is_none())*
            }

            /// The patch applied to what was sent (or stored): `null` clears an `opt` field and
            /// leaves the others.
            fn apply(self, f: &mut IdentityFields) {
                $($crate::__identity_shape!(patch $shape f.$api, self.$api);)*
                $($crate::__identity_shape!(patch $ishape f.$iapi, self.$iapi);)*
            }
        }
    };
}

with_identity_fields!(__identity_types {});

/// Declares a request body that carries the identity fields (create, designate-sharing) beside
/// its own, with `identity_fields()` to read them.
#[macro_export]
macro_rules! identity_body {
    ($(#[$meta:meta])* $name:ident { $($body:tt)* }) => {
        $crate::with_identity_fields! { __identity_body { [$(#[$meta])* $name { $($body)* }] } }
    };
}

#[macro_export]
#[doc(hidden)]
macro_rules! __identity_body {
    ([$($head:tt)*] pii [$($p:tt)*] shown [$($s:tt)*] sent [$($i:tt)*]) => {
        $crate::__identity_body! { @emit [$($head)*] [$($p)* $($s)* $($i)*] }
    };
    (@emit
        [$(#[$meta:meta])* $name:ident { $($(#[$fmeta:meta])* pub $field:ident : $ty:ty,)* }]
        [$({ $api:ident $col:ident $shape:ident ($sent:ty) ($stored:ty) ($val:ty) ($def:expr)
            [$($doc:tt)*] })*]
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            $($(#[$fmeta])* pub $field: $ty,)*
            $($($doc)* #[serde(default)] pub $api: $sent,)*
        }

        impl $name {
            pub fn identity_fields(&self) -> $crate::domain::identity::IdentityFields {
                $crate::domain::identity::IdentityFields {
                    $($api: self.$api.clone(),)*
                }
            }
        }
    };
}

/// Declares a view of a record: its own fields, then the identity fields shown at every level,
/// then the PII (a flattened `Option` of the `pii` struct it also declares, present at level
/// full only), then its trailing fields. `$pii::of(&identity)` builds the PII part and
/// [`identity_view_value!`] the view.
#[macro_export]
macro_rules! identity_view {
    ($(#[$meta:meta])* pub struct $name:ident { $($head:tt)* }
     $(#[$pmeta:meta])* pii $pii:ident,
     then { $($tail:tt)* }) => {
        $crate::with_identity_fields! { __identity_view {
            [$(#[$meta])* $name { $($head)* } $(#[$pmeta])* $pii { $($tail)* }]
        } }
    };
}

#[macro_export]
#[doc(hidden)]
macro_rules! __identity_view {
    ([$($head:tt)*] pii [$($p:tt)*] shown [$($s:tt)*] sent [$($i:tt)*]) => {
        $crate::__identity_view! { @emit [$($head)*] [$($s)*] [$($p)*] }
    };
    (@emit
        [$(#[$meta:meta])* $name:ident { $($(#[$hmeta:meta])* pub $hf:ident : $hty:ty,)* }
         $(#[$pmeta:meta])* $pii:ident { $($(#[$tmeta:meta])* pub $tf:ident : $tty:ty,)* }]
        [$({ $sapi:ident $scol:ident $sshape:ident ($ssent:ty) ($sstored:ty) ($sval:ty)
            ($sdef:expr) [$($sdoc:tt)*] })*]
        [$({ $papi:ident $pcol:ident $pshape:ident ($psent:ty) ($pstored:ty) ($pval:ty)
            ($pdef:expr) [$($pdoc:tt)*] })*]
    ) => {
        $(#[$meta])*
        pub struct $name {
            $($(#[$hmeta])* pub $hf: $hty,)*
            $($($sdoc)* pub $sapi: $sstored,)*
            #[serde(flatten)]
            pub pii: Option<$pii>,
            $($(#[$tmeta])* pub $tf: $tty,)*
        }

        $(#[$pmeta])*
        #[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
        pub struct $pii {
            $($($pdoc)* pub $papi: $pstored,)*
        }

        impl $pii {
            /// The PII of `id`, as stored.
            pub fn of(id: &$crate::domain::identity::Identity) -> $pii {
                $pii { $($papi: id.$pcol.clone(),)* }
            }
        }
    };
}

/// A view declared by [`identity_view!`]: `View { own fields } identity: &Identity, pii: Option<Pii>`.
#[macro_export]
macro_rules! identity_view_value {
    ($name:ident { $($f:ident : $e:expr),* $(,)? } identity: $id:expr, pii: $pii:expr $(,)?) => {
        $crate::with_identity_fields! { __identity_view_value { [$name { $($f : $e),* } $id, $pii] } }
    };
}

#[macro_export]
#[doc(hidden)]
macro_rules! __identity_view_value {
    ([$name:ident { $($f:ident : $e:expr),* } $id:expr, $pii:expr]
     pii $p:tt shown [$({ $sapi:ident $scol:ident $($x:tt)* })*] sent $i:tt) => {{
        let identity: &$crate::domain::identity::Identity = $id;
        $name {
            $($sapi: identity.$scol.clone(),)*
            pii: $pii,
            $($f: $e,)*
        }
    }};
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
    policy: &AnonymousPolicy,
    short_uid: &str,
    today: NaiveDate,
) -> Result<Identity, Vec<FieldError>> {
    use IdentityMode as M;
    let mut errs: Vec<FieldError> = Vec::new();
    // Each field as sent; what follows checks it and sets what the mode decides.
    let mut id = Identity::from_sent(f);

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
            let (first, last) = policy.names(short_uid);
            id.first_name = Some(first);
            id.last_name = Some(last);
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
                policy.ssn_quality,
                &mut errs,
            )
        }
    }

    // DOB.
    match mode {
        M::Anonymous => match anonymous_dob(policy.dob_rule, f.birth_year, today) {
            Ok((dob, q)) => {
                id.dob = dob;
                id.dob_quality =
                    server_quality("dob_data_quality", f.dob_data_quality, q, &mut errs);
            }
            Err(e) => errs.push(FieldError::new("birth_year", e.code, e.message)),
        },
        M::CodeName if f.birth_year.is_some() => {
            match anonymous_dob(AnonymousDobRule::Jan1OfBirthYear, f.birth_year, today) {
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
    id.race.sort();
    id.race.dedup();
    id.race_none = missing_code("race_none", id.race.is_empty(), f.race_none, &mut errs);
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The `clients` columns of `db/schema.rs` are the record's own columns plus the identity
    /// columns of the one declaration: a column added by a migration without its line in
    /// `with_identity_fields!` (or a line without its column) fails here.
    #[test]
    fn the_clients_table_holds_the_declared_identity_columns() {
        const RECORD: &[&str] = &[
            "id",
            "short_uid",
            "person_id",
            "coc_code",
            "created_by_agency",
            "created_by_user",
            "identity_mode",
            "visibility",
            "lifecycle",
            "superseded_by",
            "merged_into",
            "version",
            "created_at",
            "updated_at",
        ];
        let schema = include_str!("../db/schema.rs");
        let start = schema
            .find("    clients (id) {")
            .expect("clients in schema.rs");
        let block = &schema[start..];
        let block = &block[..block.find("\n    }").unwrap()];
        let columns: Vec<&str> = block
            .lines()
            .skip(1)
            .filter_map(|l| l.trim().split(" -> ").next())
            .filter(|c| !c.is_empty())
            .collect();
        let mut identity: Vec<&str> = columns
            .iter()
            .copied()
            .filter(|c| !RECORD.contains(c))
            .collect();
        let mut declared = Identity::COLUMNS.to_vec();
        identity.sort();
        declared.sort();
        assert_eq!(identity, declared, "schema.rs vs with_identity_fields!");
        for c in RECORD {
            assert!(columns.contains(c), "{c} left the clients table");
        }
        // Every stored field has its name in the contract, and the contract names are unique.
        let mut names = IdentityFields::NAMES.to_vec();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), IdentityFields::NAMES.len());
        assert_eq!(
            IdentityFields::NAMES.len(),
            Identity::COLUMNS.len() + 1,
            "one field (birth_year) is sent and never stored"
        );
    }

    fn policy() -> AnonymousPolicy {
        AnonymousPolicy {
            name_format: AnonymousNameFormat::UidAnonymous,
            dob_rule: AnonymousDobRule::Jan1OfBirthYear,
            ssn_quality: 99,
        }
    }

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn an_identified_record_round_trips_through_a_patch() {
        let sent = IdentityFields {
            first_name: Some("  Ada ".into()),
            last_name: Some("Lovelace".into()),
            ssn: Some("219-45-6780".into()),
            dob: Some(day(1990, 5, 1)),
            race: vec![Race::White, Race::Asian, Race::White],
            gender: vec![1],
            ..IdentityFields::default()
        };
        let today = day(2026, 1, 1);
        let id =
            validate_identity(&sent, IdentityMode::Identified, &policy(), "U1", today).unwrap();
        assert_eq!(id.first_name.as_deref(), Some("Ada"));
        assert_eq!(id.ssn.as_deref(), Some("219456780"));
        assert_eq!((id.name_quality, id.ssn_quality, id.dob_quality), (1, 1, 1));
        assert_eq!(id.race, vec![Race::Asian, Race::White]);
        assert_eq!(id.race_none, None);
        assert_eq!(id.gender_none, None);
        assert_eq!(id.veteran_status, 99);
        // An empty patch changes nothing; a null clears an `opt` field and leaves a `req` one.
        let same = ClientPatch::default()
            .patched(&id, IdentityMode::Identified, &policy(), "U1", today)
            .unwrap();
        assert_eq!(same, id);
        let patch: ClientPatch = serde_json::from_value(serde_json::json!({
            "middle_name": "Byron", "alias": null, "veteran_status": null, "race": []
        }))
        .unwrap();
        let after = patch
            .patched(&id, IdentityMode::Identified, &policy(), "U1", today)
            .unwrap();
        assert_eq!(after.middle_name.as_deref(), Some("Byron"));
        assert_eq!(after.veteran_status, 99);
        assert_eq!((after.race.clone(), after.race_none), (vec![], Some(99)));
    }

    #[test]
    fn an_anonymous_record_takes_its_shape_from_the_policy() {
        let today = day(2026, 1, 1);
        let sent = IdentityFields {
            birth_year: Some(1980),
            ..IdentityFields::default()
        };
        let id = validate_identity(&sent, IdentityMode::Anonymous, &policy(), "U1", today).unwrap();
        assert_eq!(id.first_name.as_deref(), Some("U1"));
        assert_eq!(id.last_name.as_deref(), Some("Anonymous"));
        assert_eq!((id.dob, id.dob_quality), (Some(day(1980, 1, 1)), 2));
        assert_eq!((id.name_quality, id.ssn_quality), (9, 99));
        let refused = ClientPatch {
            ssn_data_quality: Some(Some(9)),
            ..ClientPatch::default()
        }
        .patched(&id, IdentityMode::Anonymous, &policy(), "U1", today)
        .unwrap_err();
        assert_eq!(refused[0].field, "ssn_data_quality");
        let mut identified = validate_identity(
            &IdentityFields {
                first_name: Some("Ada".into()),
                ssn: Some("219456780".into()),
                dob: Some(day(1990, 5, 1)),
                ..IdentityFields::default()
            },
            IdentityMode::Identified,
            &policy(),
            "U2",
            today,
        )
        .unwrap();
        let spokane = AnonymousPolicy {
            name_format: AnonymousNameFormat::AnonymousAnonymous,
            dob_rule: AnonymousDobRule::Jan1OfNextYearUnlessYoungOrOld,
            ssn_quality: 9,
        };
        identified.anonymize(&spokane, "U2", today);
        assert_eq!(identified.first_name.as_deref(), Some("Anonymous"));
        // The job aid: "the client's last name will now include their client ID".
        assert_eq!(identified.last_name.as_deref(), Some("Anonymous U2"));
        // A later patch keeps those names.
        let patch: ClientPatch =
            serde_json::from_value(serde_json::json!({"veteran_status": 1})).unwrap();
        let after = patch
            .patched(&identified, IdentityMode::Anonymous, &spokane, "U2", today)
            .unwrap();
        assert_eq!(after.last_name.as_deref(), Some("Anonymous U2"));
        assert_eq!(after.veteran_status, 1);
        assert_eq!((identified.ssn.clone(), identified.ssn_quality), (None, 9));
        assert_eq!(identified.dob, Some(day(1991, 1, 1)));
    }
}
