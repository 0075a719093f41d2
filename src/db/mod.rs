//! Connection pool, embedded migrations, and the schema.

pub mod cached_sql;
pub mod embedded;
pub mod schema;

use std::ops::Deref;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::connection::{Instrumentation, InstrumentationEvent, SimpleConnection};
use diesel::pg::PgConnection;
use diesel::r2d2::{
    event::AcquireEvent, ConnectionManager, CustomizeConnection, HandleError, HandleEvent,
    ManageConnection, Pool, PooledConnection,
};
use diesel::{Connection, RunQueryDsl};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

pub type DbConn = PooledConnection<Manager>;

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
    pool: Pool<Manager>,
    health: Arc<Health>,
}

impl Deref for DbPool {
    type Target = Pool<Manager>;

    fn deref(&self) -> &Self::Target {
        &self.pool
    }
}

impl DbPool {
    /// A connection that is alive as far as the pool knows (`Manager::is_valid`), waiting at
    /// most the checkout timeout.
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
/// acquire events. Logs once per change rather than once per retry. Also when a statement last
/// found its session gone (`Watch`).
#[derive(Debug)]
struct Health {
    connect_failing: AtomicBool,
    /// The pool's clock: `lost_at` counts milliseconds from here.
    epoch: Instant,
    /// When a statement last found its connection's session gone (ms since `epoch`, 0: never).
    lost_at: AtomicU64,
}

impl Default for Health {
    fn default() -> Self {
        Health {
            connect_failing: AtomicBool::new(false),
            epoch: Instant::now(),
            lost_at: AtomicU64::new(0),
        }
    }
}

impl Health {
    fn now_ms(&self) -> u64 {
        // +1: 0 means never.
        self.epoch.elapsed().as_millis() as u64 + 1
    }

    fn connection_lost(&self) {
        self.lost_at.store(self.now_ms(), Ordering::Relaxed);
    }

    /// True while the database looks unsettled: a connection could not be opened, or a
    /// statement found its session gone within `FAULT_WINDOW`.
    fn unsettled(&self) -> bool {
        if self.connect_failing.load(Ordering::Relaxed) {
            return true;
        }
        let lost = self.lost_at.load(Ordering::Relaxed);
        lost != 0 && self.now_ms().saturating_sub(lost) < FAULT_WINDOW.as_millis() as u64
    }
}

/// A connection whose last statement finished longer ago than this is pinged before it is
/// handed out. A restart of PostgreSQL (stop, then start) takes longer, so a connection that
/// outlived one is always tested; one in steady use is not, which saves a round trip per request.
pub const IDLE_BEFORE_TEST: Duration = Duration::from_millis(50);

/// After a statement found its session gone, every checkout is pinged for this long (the other
/// pooled connections are likely dead too).
pub const FAULT_WINDOW: Duration = Duration::from_secs(5);

/// Per connection (diesel's instrumentation hook, which sees every statement): when its last
/// statement finished, and whether one found the session gone.
struct Watch {
    last_used: Instant,
    lost: bool,
    health: Arc<Health>,
}

impl Instrumentation for Watch {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        if let InstrumentationEvent::FinishQuery { error, .. } = event {
            self.last_used = Instant::now();
            if error.is_some_and(crate::error::is_connection_lost) {
                self.lost = true;
                self.health.connection_lost();
            }
        }
    }
}

fn watch(conn: &mut PgConnection) -> Option<&mut Watch> {
    conn.instrumentation().downcast_mut::<Watch>()
}

/// diesel's r2d2 manager, with a cheaper checkout test: instead of a `SELECT 1` before every
/// checkout (one round trip per request), a connection is pinged only when it has been idle for
/// `IDLE_BEFORE_TEST`, or while the database looks unsettled (`Health::unsettled`). A connection
/// on which a statement found the session gone is discarded when it is returned, and the pings
/// it turns on find the other dead ones (docs/faults.md).
#[derive(Debug)]
pub struct Manager {
    inner: ConnectionManager<PgConnection>,
    health: Arc<Health>,
}

impl ManageConnection for Manager {
    type Connection = PgConnection;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<PgConnection, Self::Error> {
        let mut conn = self.inner.connect()?;
        conn.set_instrumentation(Watch {
            last_used: Instant::now(),
            lost: false,
            health: self.health.clone(),
        });
        Ok(conn)
    }

    fn is_valid(&self, conn: &mut PgConnection) -> Result<(), Self::Error> {
        let fresh =
            watch(conn).is_some_and(|w| !w.lost && w.last_used.elapsed() < IDLE_BEFORE_TEST);
        if fresh && !self.health.unsettled() {
            return Ok(());
        }
        self.inner.is_valid(conn)
    }

    fn has_broken(&self, conn: &mut PgConnection) -> bool {
        watch(conn).is_some_and(|w| w.lost) || self.inner.has_broken(conn)
    }
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
    build_pool_keeping(url, size, size.min(2), checkout_timeout, settings)
}

/// [`build_pool`] keeping `min_idle` connections open in the background. A command that runs
/// and exits keeps none: a connection being opened on the pool's thread while the process
/// exits can crash it (libpq and its TLS library are torn down under it: `hearth migrate`
/// ended in SIGSEGV about once in twelve runs).
pub fn build_pool_keeping(
    url: &str,
    size: u32,
    min_idle: u32,
    checkout_timeout: Duration,
    settings: SessionSettings,
) -> Result<DbPool, String> {
    let health = Arc::new(Health::default());
    let pool = Pool::builder()
        .max_size(size)
        .min_idle(Some(min_idle.min(size)))
        .connection_timeout(checkout_timeout)
        // After PostgreSQL restarts, every pooled connection is dead; the checkout test
        // (`Manager::is_valid`: a `SELECT 1` when the connection was idle or the database looks
        // unsettled) finds and discards them, so no request gets one (docs/faults.md).
        .test_on_check_out(true)
        .connection_customizer(Box::new(settings))
        .error_handler(Box::new(HealthHandler(health.clone())))
        .event_handler(Box::new(HealthHandler(health.clone())))
        .build(Manager {
            inner: ConnectionManager::<PgConnection>::new(url),
            health: health.clone(),
        })
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
