//! Blocking database work off the async workers.

use actix_web::web;
use diesel::PgConnection;

use crate::error::AppResult;
use crate::AppState;

/// Runs blocking database work on the blocking pool, taking the connection inside the closure,
/// and keeps the request's tracing span.
pub async fn run_db<T, F>(state: &AppState, f: F) -> AppResult<T>
where
    T: Send + 'static,
    F: FnOnce(&mut PgConnection) -> AppResult<T> + Send + 'static,
{
    let pool = state.pool.clone();
    let span = tracing::Span::current();
    web::block(move || {
        let _guard = span.enter();
        let mut conn = pool.get()?;
        f(&mut conn)
    })
    .await?
}
