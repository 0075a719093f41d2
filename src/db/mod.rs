//! Connection pool, embedded migrations, and the schema.

pub mod embedded;
pub mod schema;

use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool, PooledConnection};
use diesel::{Connection, RunQueryDsl};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

pub type DbPool = Pool<ConnectionManager<PgConnection>>;
pub type DbConn = PooledConnection<ConnectionManager<PgConnection>>;

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// Runs on every connection the pool opens.
#[derive(Debug, Clone, Copy)]
pub struct SessionSettings {
    pub statement_timeout: Duration,
    /// Tests: every connection lives in a transaction that is never committed.
    pub test_transaction: bool,
}

impl CustomizeConnection<PgConnection, diesel::r2d2::Error> for SessionSettings {
    fn on_acquire(&self, conn: &mut PgConnection) -> Result<(), diesel::r2d2::Error> {
        conn.batch_execute(&format!(
            "SET statement_timeout = {}; SET TIME ZONE 'UTC'; SET jit = off",
            self.statement_timeout.as_millis()
        ))
        .map_err(diesel::r2d2::Error::QueryError)?;
        if self.test_transaction {
            conn.begin_test_transaction()
                .map_err(diesel::r2d2::Error::QueryError)?;
        }
        Ok(())
    }
}

pub fn build_pool(
    url: &str,
    size: u32,
    checkout_timeout: Duration,
    settings: SessionSettings,
) -> Result<DbPool, String> {
    Pool::builder()
        .max_size(size)
        .min_idle(Some(size.min(2)))
        .connection_timeout(checkout_timeout)
        // A broken connection fails its query and is then discarded; a `SELECT 1` on every
        // checkout would cost a round trip per request.
        .test_on_check_out(false)
        .connection_customizer(Box::new(settings))
        .build(ConnectionManager::<PgConnection>::new(url))
        .map_err(|e| format!("cannot connect to the database: {e}"))
}

/// Applies pending migrations under an advisory lock, so that two processes starting at once do
/// not race.
pub fn run_migrations(conn: &mut PgConnection) -> Result<usize, String> {
    const LOCK: i64 = 0x4845_4152_5448; // "HEARTH"
    diesel::sql_query(format!("SELECT pg_advisory_lock({LOCK})"))
        .execute(conn)
        .map_err(|e| e.to_string())?;
    let result = conn
        .run_pending_migrations(MIGRATIONS)
        .map(|v| v.len())
        .map_err(|e| format!("migrations failed: {e}"));
    let _ = diesel::sql_query(format!("SELECT pg_advisory_unlock({LOCK})")).execute(conn);
    result
}

/// True when every embedded migration has been applied.
pub fn migrations_applied(conn: &mut PgConnection) -> Result<bool, String> {
    conn.has_pending_migration(MIGRATIONS)
        .map(|p| !p)
        .map_err(|e| e.to_string())
}
