//! A client record's identity: the HUD identity and demographic fields, declared once.

use serde::{Deserialize, Serialize};

use super::words::text_enum;

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
