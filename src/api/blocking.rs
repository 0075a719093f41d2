//! Blocking database work off the async workers, and idempotent creates (one transaction).

use actix_web::http::StatusCode;
use actix_web::web;
use diesel::PgConnection;
use uuid::Uuid;

use super::extract::IdempotencyKey;
use super::reply::JsonReply;
use crate::error::{AppError, AppResult};
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

/// A creating POST: runs `create` under the caller's `Idempotency-Key` (if any) in one transaction.
/// For answers that are not about a client record (CoCs, agencies, projects).
pub async fn create_idempotent<F>(
    state: &AppState,
    principal: &crate::auth::Principal,
    key: IdempotencyKey,
    route: &'static str,
    digest: String,
    create: F,
) -> AppResult<JsonReply>
where
    F: FnOnce(&mut PgConnection) -> AppResult<JsonReply> + Send + 'static,
{
    run_keyed(state, principal.clone(), None, key, route, digest, create).await
}

/// As `create_idempotent`, for answers about a client record (`JsonReply::about_client`): a
/// replay is decided by the consent engine again, for the caller as it asks now.
pub async fn create_idempotent_about_client<F>(
    state: &AppState,
    caller: &crate::service::context::Caller,
    key: IdempotencyKey,
    route: &'static str,
    digest: String,
    create: F,
) -> AppResult<JsonReply>
where
    F: FnOnce(&mut PgConnection) -> AppResult<JsonReply> + Send + 'static,
{
    run_keyed(
        state,
        caller.principal.clone(),
        Some(caller.clone()),
        key,
        route,
        digest,
        create,
    )
    .await
}

async fn run_keyed<F>(
    state: &AppState,
    principal: crate::auth::Principal,
    replayer: Option<crate::service::context::Caller>,
    key: IdempotencyKey,
    route: &'static str,
    digest: String,
    create: F,
) -> AppResult<JsonReply>
where
    F: FnOnce(&mut PgConnection) -> AppResult<JsonReply> + Send + 'static,
{
    use crate::service::idempotency::{run_idempotent, Outcome, StoredReply};
    let fingerprint = format!("{route} {digest}");
    let outcome = run_db(state, move |conn| {
        let access_to = |conn: &mut PgConnection, client: Uuid| match &replayer {
            Some(c) => crate::service::access::access_level_now(conn, c, client),
            None => Err(AppError::Internal(
                "an answer about a client needs create_idempotent_about_client".into(),
            )),
        };
        run_idempotent(
            conn,
            &principal,
            key.0.as_deref(),
            &fingerprint,
            access_to,
            |conn| {
                let r = create(conn)?;
                Ok(StoredReply {
                    status: r.status.as_u16(),
                    body: r.body,
                    etag: r.etag,
                    location: r.location,
                    client: r.client,
                })
            },
        )
    })
    .await?;
    let (stored, replayed) = match outcome {
        Outcome::Fresh(s) => (s, false),
        Outcome::Replayed(s) => (s, true),
    };
    Ok(JsonReply {
        status: StatusCode::from_u16(stored.status).unwrap_or(StatusCode::CREATED),
        body: stored.body,
        etag: stored.etag,
        location: stored.location,
        client: stored.client,
        replayed,
    })
}
