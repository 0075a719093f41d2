//! Diesel queries on `&mut PgConnection`. Repositories never decide access.

pub mod tenants;
