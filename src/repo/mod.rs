//! Diesel queries on `&mut PgConnection`. Repositories never decide access.

pub mod audit;
pub mod clients;
pub mod idempotency;
pub mod search;
pub mod stays;
pub mod tenants;
pub mod visible;
