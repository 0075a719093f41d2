//! Connection pool, embedded migrations, and the schema.

pub mod cached_sql;
pub mod embedded;
pub mod schema;

use std::ops::Deref;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::r2d2::{
    event::AcquireEvent, ConnectionManager, CustomizeConnection, HandleError, HandleEvent, Pool,
    PooledConnection,
};
use diesel::{Connection, RunQueryDsl};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

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

/// Why no connection could be checked out.
#[derive(Debug, thiserror::Error)]
pub enum CheckoutError {
    /// The pool's latest attempt to open a connection failed: the database is down, restarting,
    /// or refuses connections. The cause is for logs, not for callers.
    #[error("the database cannot be reached: {0}")]
    Unreachable(String),
    /// The database answers, but every connection stayed busy for the whole checkout timeout.
    #[error("no database connection became free within the checkout timeout")]
    Exhausted,
}

/// The r2d2 pool plus what it learnt about the database while opening connections, so that a
/// failed checkout can say whether the database is unreachable or the pool is merely full.
///
/// Derefs to the r2d2 pool (`state()`, `max_size()`); `get` is this type's own.
#[derive(Clone)]
pub struct DbPool {
    pool: Pool<ConnectionManager<PgConnection>>,
    health: Arc<Health>,
}

impl Deref for DbPool {
    type Target = Pool<ConnectionManager<PgConnection>>;

    fn deref(&self) -> &Self::Target {
        &self.pool
    }
}

impl DbPool {
    /// A connection, tested with a round trip before it is handed out, waiting at most the
    /// checkout timeout.
    pub fn get(&self) -> Result<DbConn, CheckoutError> {
        self.pool.get().map_err(|e| self.classify(e))
    }

    /// As `get`, waiting at most `timeout`.
    pub fn get_timeout(&self, timeout: Duration) -> Result<DbConn, CheckoutError> {
        self.pool.get_timeout(timeout).map_err(|e| self.classify(e))
    }

    /// True while the pool's latest attempt to open a connection failed.
    pub fn database_unreachable(&self) -> bool {
        self.health.connect_failing.load(Ordering::Relaxed)
    }

    fn classify(&self, e: diesel::r2d2::PoolError) -> CheckoutError {
        if self.database_unreachable() {
            CheckoutError::Unreachable(e.to_string())
        } else {
            CheckoutError::Exhausted
        }
    }
}

/// Connection outcomes as r2d2 reports them: failures to its error handler, successes as
/// acquire events. Logs once per change rather than once per retry.
#[derive(Debug, Default)]
struct Health {
    connect_failing: AtomicBool,
}

#[derive(Debug, Clone)]
struct HealthHandler(Arc<Health>);

impl HandleError<diesel::r2d2::Error> for HealthHandler {
    fn handle_error(&self, error: diesel::r2d2::Error) {
        match error {
            // Opening a connection failed: the database is down or refuses us.
            diesel::r2d2::Error::ConnectionError(e) => {
                if !self.0.connect_failing.swap(true, Ordering::Relaxed) {
                    tracing::warn!(error = %e, "cannot open a database connection");
                } else {
                    tracing::debug!(error = %e, "cannot open a database connection");
                }
            }
            // A pooled connection failed its checkout test (it is discarded), or a new one
            // failed its session settings.
            diesel::r2d2::Error::QueryError(e) => {
                tracing::info!(error = %e, "discarding a database connection")
            }
        }
    }
}

impl HandleEvent for HealthHandler {
    fn handle_acquire(&self, _: AcquireEvent) {
        if self.0.connect_failing.swap(false, Ordering::Relaxed) {
            tracing::info!("database connections open again");
        }
    }
}

pub fn build_pool(
    url: &str,
    size: u32,
    checkout_timeout: Duration,
    settings: SessionSettings,
) -> Result<DbPool, String> {
    let health = Arc::new(Health::default());
    let pool = Pool::builder()
        .max_size(size)
        .min_idle(Some(size.min(2)))
        .connection_timeout(checkout_timeout)
        // After PostgreSQL restarts, every pooled connection is dead; a `SELECT 1` before each
        // checkout finds and discards them, so no request gets one (docs/faults.md).
        .test_on_check_out(true)
        .connection_customizer(Box::new(settings))
        .error_handler(Box::new(HealthHandler(health.clone())))
        .event_handler(Box::new(HealthHandler(health.clone())))
        .build(ConnectionManager::<PgConnection>::new(url))
        .map_err(|e| format!("cannot connect to the database: {e}"))?;
    Ok(DbPool { pool, health })
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
