//! Workflows. Each public function owns its transaction, asks the consent engine, calls
//! repositories and writes audit events.

pub mod idempotency;
pub mod tenants;
pub mod viewer;
