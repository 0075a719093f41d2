//! Workflows. Each public function owns its transaction, asks the consent engine, calls
//! repositories and writes audit events.

pub mod access;
pub mod client_data;
pub mod client_input;
pub mod client_view;
pub mod clients;
pub mod consents;
pub mod context;
pub mod deidentify;
pub mod dry_run;
pub mod hmis_export;
pub mod hmis_import;
pub mod hmis_records;
pub mod idempotency;
pub mod merge;
pub mod priority_list;
pub mod reports;
pub mod search;
pub mod sharing;
pub mod split;
pub mod stay_data;
pub mod stays;
pub mod tenants;
pub mod viewer;
