//! The consent engine: who may see what. Pure rules (no I/O, no clock) and, beside them, the SQL
//! filter that applies the same rules to lists.

pub mod ce;
pub mod engine;
pub mod guards;
pub mod imports;
pub mod kept_rows;
pub mod listing;
pub mod merge;
pub mod model;
pub mod permissions;
pub mod sql;
pub mod window;

pub use engine::*;
pub use model::*;
pub use window::*;
