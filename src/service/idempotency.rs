//! `Idempotency-Key` on creating POSTs: the first result is stored in the same transaction as
//! the creation and answered again to a replay of the same request by the same principal, after
//! the replay is authorized again.

use std::sync::atomic::{AtomicI64, Ordering};

use diesel::{Connection, PgConnection};
use uuid::Uuid;

use crate::auth::Principal;
use crate::consent::AccessLevel;
use crate::error::{AppError, AppResult};
use crate::repo::idempotency as repo;

/// A created resource's response, as stored for replays.
#[derive(Debug, Clone)]
pub struct StoredReply {
    pub status: u16,
    pub body: serde_json::Value,
    pub etag: Option<String>,
    pub location: Option<String>,
    /// The client record the answer is about, if any: a replay is authorized against it again.
    pub client: Option<Uuid>,
}

pub enum Outcome {
    Fresh(StoredReply),
    Replayed(StoredReply),
}

/// Keys belong to the whole principal: the same `sub` under another agency or other roles is
/// another caller and never replays this one's answers.
pub fn scope_of(p: &Principal) -> String {
    let mut roles: Vec<&str> = p.roles.iter().map(|r| r.as_str()).collect();
    roles.sort_unstable();
    format!(
        "{}\u{1f}{}\u{1f}{}",
        p.sub,
        p.agency_id.map(|a| a.to_string()).unwrap_or_default(),
        roles.join(",")
    )
}

fn ttl_seconds() -> AppResult<i64> {
    crate::config::idempotency_ttl()
        .map(|d| d.as_secs() as i64)
        .map_err(|e| AppError::Internal(e.to_string()))
}

/// Purges expired answers at most once a minute per process, from the requests that use keys.
fn purge_now_and_then(conn: &mut PgConnection, ttl: i64) -> AppResult<()> {
    static LAST: AtomicI64 = AtomicI64::new(0);
    let now = chrono::Utc::now().timestamp();
    let last = LAST.load(Ordering::Relaxed);
    if now - last >= 60
        && LAST
            .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
    {
        repo::purge_expired(conn, ttl)?;
    }
    Ok(())
}

/// Deletes every stored answer older than the configured time to live; answers how many.
pub fn purge_expired(conn: &mut PgConnection) -> AppResult<usize> {
    Ok(repo::purge_expired(conn, ttl_seconds()?)?)
}

/// Runs `create` once per (principal, key). Requests with the same key wait for each other (an
/// advisory lock for the transaction), so two concurrent replays cannot both create.
/// `access_to(conn, client)` answers the caller's access level to a client record now (404 or
/// 403 when it has none or lacks a break-glass reason): a replay about a record is answered only
/// while the caller still has at least the access the first answer was given at.
pub fn run_idempotent(
    conn: &mut PgConnection,
    principal: &Principal,
    key: Option<&str>,
    fingerprint: &str,
    access_to: impl Fn(&mut PgConnection, Uuid, bool) -> AppResult<AccessLevel>,
    create: impl FnOnce(&mut PgConnection) -> AppResult<StoredReply>,
) -> AppResult<Outcome> {
    let Some(key) = key else {
        return create(conn).map(Outcome::Fresh);
    };
    let scope = scope_of(principal);
    let ttl = ttl_seconds()?;
    conn.transaction(|conn| {
        purge_now_and_then(conn, ttl)?;
        repo::lock_key(conn, &scope, key)?;
        if let Some(row) = repo::find(conn, &scope, key, ttl)? {
            return replay(conn, row, fingerprint, &access_to).map(Outcome::Replayed);
        }
        let reply = create(conn)?;
        // The level the answer was given at. A caller who wrote but may not read the record now
        // (a break-glass read needs a reason) stores none: a replay then needs full access.
        let level = match reply.client {
            Some(c) => match access_to(conn, c, false) {
                Ok(l) => Some(l),
                Err(AppError::NotFound | AppError::Forbidden(_)) => None,
                Err(e) => return Err(e),
            },
            None => None,
        };
        repo::store(
            conn,
            repo::NewStored {
                scope: &scope,
                key,
                fingerprint,
                status: reply.status as i16,
                body: &reply.body,
                etag: reply.etag.as_deref(),
                location: reply.location.as_deref(),
                client_id: reply.client,
                access_level: level.map(|l| l.as_str()),
            },
        )?;
        Ok(Outcome::Fresh(reply))
    })
}

/// The answer to a replay of a stored key: decided again, never the body of a dropped answer.
fn replay(
    conn: &mut PgConnection,
    row: repo::StoredRow,
    fingerprint: &str,
    access_to: &impl Fn(&mut PgConnection, Uuid, bool) -> AppResult<AccessLevel>,
) -> AppResult<StoredReply> {
    if row.deidentified_at.is_some() {
        // Whoever may no longer see the record learns nothing more than before (404).
        if let Some(client) = row.client_id {
            access_to(conn, client, false)?;
        }
        return Err(AppError::Conflict {
            code: "idempotent-replay-record-deidentified",
            detail: "A record this Idempotency-Key's first request concerned was de-identified since, so its first answer is no longer given; read the record for what it holds now, and send a new request with a new Idempotency-Key.".into(),
            use_record: None,
        });
    }
    if row.request_fingerprint != fingerprint {
        return Err(AppError::validation(
            "Idempotency-Key",
            "idempotency_key_reused",
            "This Idempotency-Key was already used for a different request.",
        ));
    }
    if let Some(client) = row.client_id {
        // A replay answers again what the first answer disclosed: audited as a read.
        let now = access_to(conn, client, true)?;
        let then = row
            .access_level
            .as_deref()
            .and_then(AccessLevel::parse)
            .unwrap_or(AccessLevel::Full);
        if rank(now) < rank(then) {
            return Err(AppError::Conflict {
                code: "idempotent-replay-access-changed",
                detail: "Your access to this record changed since the first request; send the request again with a new Idempotency-Key.".into(),
                use_record: None,
            });
        }
    }
    Ok(StoredReply {
        status: row.response_status as u16,
        body: row.response_body,
        etag: row.response_etag,
        location: row.response_location,
        client: row.client_id,
    })
}

fn rank(l: AccessLevel) -> u8 {
    match l {
        AccessLevel::None => 0,
        AccessLevel::Limited => 1,
        AccessLevel::Full => 2,
    }
}
