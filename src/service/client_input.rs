//! What a client record may hold in each identity mode is declared once, in
//! `domain::identity` (the fields, their quality codes, the validation per mode and the CoC
//! policy that shapes anonymous records); the services reach it under this name.

pub use crate::domain::identity::{
    free_text, no_pii_text, validate_identity, Identity, IdentityFields, Race,
};
