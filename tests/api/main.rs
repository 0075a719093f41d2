//! One integration-test binary: the real actix-web app against a real PostgreSQL.
//!
//! The database is `DATABASE_URL` when set, otherwise a throwaway cluster this binary starts
//! (and stops at exit) from the system's PostgreSQL binaries. Each test runs in its own
//! transaction that is never committed, so tests are isolated and leave nothing behind.

mod fixtures;
mod harness;

mod auth;
mod ce;
mod clients;
mod columns;
mod consent_sql;
mod consents;
mod contract;
mod deidentify;
mod dry_run;
mod edge;
mod faults;
mod hmis_export;
mod hmis_import;
mod hmis_kept;
mod idempotency;
mod layering;
mod merge;
mod ops;
mod outside_tester;
mod permissions;
mod pii_scan;
mod priority_list;
mod reports;
mod search;
mod setup;
mod split;
mod stays;
mod tenants;
