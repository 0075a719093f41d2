//! Request bodies that change part of a resource.

use serde::{Deserialize, Deserializer};

/// For PATCH-style bodies: tells "absent" (`None`) from "null" (`Some(None)`). Use with
/// `#[serde(default, deserialize_with = "crate::domain::patch::double_option")]`.
pub fn double_option<'de, T, D>(de: D) -> Result<Option<Option<T>>, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    Option::<T>::deserialize(de).map(Some)
}
