//! Diesel queries on `&mut PgConnection`. Repositories never decide access.

pub mod audit;
pub mod clients;
pub mod deidentify;
pub mod hmis_export;
pub mod hmis_import;
pub mod idempotency;
pub mod merge;
pub mod priority_list;
pub mod reports;
pub mod search;
pub mod stays;
pub mod tenants;
pub mod tx;
pub mod visible;
