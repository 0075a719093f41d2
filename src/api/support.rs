//! Request plumbing shared by every resource, along its seams: extractors (`extract`), replies
//! (`reply`), cursor pages (`pages`) and blocking database work with idempotent creates
//! (`blocking`). Handlers import from here.

pub use super::blocking::*;
pub use super::extract::*;
pub use super::pages::*;
pub use super::reply::*;
