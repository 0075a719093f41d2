//! Request plumbing shared by every resource, along its seams: extractors (`extract`), replies
//! (`reply`), cursor pages (`pages`), blocking database work (`blocking`) and the
//! `Idempotency-Key` of every POST that writes (`idempotent`). Handlers import from here.

pub use super::blocking::*;
pub use super::extract::*;
pub use super::idempotent::*;
pub use super::pages::*;
pub use super::reply::*;
