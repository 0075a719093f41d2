//! Hearth: HMIS client records with a consent engine that decides who may see what.
//!
//! Layers (dependencies point down): `api` (actix handlers) → `service` (workflows, one
//! transaction each) → `consent` (pure rules) and `repo` (diesel) → `db`.

pub mod api;
pub mod auth;
pub mod config;
pub mod consent;
pub mod db;
pub mod demo;
pub mod domain;
pub mod error;
pub mod hmis_csv;
pub mod repo;
pub mod service;
pub mod telemetry;

use std::sync::Arc;

pub use api::app;

/// What every request handler shares.
#[derive(Clone)]
pub struct AppState {
    pub pool: db::DbPool,
    pub auth: Arc<auth::AuthConfig>,
    pub metrics: Arc<api::ops::Metrics>,
    pub max_body_bytes: usize,
    /// The largest HMIS CSV zip an import accepts (`HEARTH_IMPORT_MAX_BYTES`).
    pub import_max_bytes: u64,
}

/// The database a command works on: the configured URL, or the embedded cluster (started or
/// reused) when there is none.
pub struct Database {
    pub url: String,
    pub embedded: Option<db::embedded::EmbeddedPostgres>,
}

impl Database {
    pub fn open(config: &config::Config) -> Result<Database, String> {
        if let Some(url) = &config.database_url {
            return Ok(Database {
                url: url.clone(),
                embedded: None,
            });
        }
        let opts = db::embedded::EmbeddedOptions {
            data_dir: config.data_dir.join("pg"),
            fast_unsafe: false,
            port: None,
        };
        let pg =
            db::embedded::EmbeddedPostgres::start_or_reuse(&opts).map_err(|e| e.to_string())?;
        pg.ensure_database("hearth").map_err(|e| e.to_string())?;
        Ok(Database {
            url: pg.database_url("hearth"),
            embedded: Some(pg),
        })
    }

    /// Stops the embedded cluster if this process started it.
    pub fn close(&self) {
        if let Some(pg) = &self.embedded {
            if let Err(e) = pg.stop() {
                tracing::warn!(error = %e, "could not stop the embedded PostgreSQL");
            }
        }
    }
}
