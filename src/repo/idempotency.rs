//! The idempotency ledger: stored answers to creating POSTs, keyed by (principal scope, key).

use diesel::prelude::*;
use diesel::PgConnection;
use uuid::Uuid;

use crate::db::schema::idempotency_keys as ik;

/// A stored answer.
#[derive(Debug, Clone, Queryable)]
pub struct StoredRow {
    pub request_fingerprint: String,
    pub response_status: i16,
    pub response_body: serde_json::Value,
    pub response_etag: Option<String>,
    pub response_location: Option<String>,
    pub client_id: Option<Uuid>,
    pub access_level: Option<String>,
    /// Set when a record the answer named was de-identified: the answer was dropped.
    pub deidentified_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// Serializes requests with the same (scope, key) until the transaction ends.
pub fn lock_key(conn: &mut PgConnection, scope: &str, key: &str) -> QueryResult<()> {
    diesel::sql_query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
        .bind::<diesel::sql_types::Text, _>(format!("{scope}\u{1f}{key}"))
        .execute(conn)
        .map(|_| ())
}

/// The stored answer for (scope, key), if one younger than `ttl_seconds` exists.
pub fn find(
    conn: &mut PgConnection,
    scope: &str,
    key: &str,
    ttl_seconds: i64,
) -> QueryResult<Option<StoredRow>> {
    let oldest = chrono::Utc::now() - chrono::Duration::seconds(ttl_seconds);
    ik::table
        .filter(ik::principal.eq(scope).and(ik::key.eq(key)))
        .filter(ik::created_at.ge(oldest))
        .select((
            ik::request_fingerprint,
            ik::response_status,
            ik::response_body,
            ik::response_etag,
            ik::response_location,
            ik::client_id,
            ik::access_level,
            ik::deidentified_at,
        ))
        .first(conn)
        .optional()
}

pub struct NewStored<'a> {
    pub scope: &'a str,
    pub key: &'a str,
    pub fingerprint: &'a str,
    pub status: i16,
    pub body: &'a serde_json::Value,
    pub etag: Option<&'a str>,
    pub location: Option<&'a str>,
    pub client_id: Option<Uuid>,
    pub access_level: Option<&'a str>,
}

/// Stores an answer, replacing an expired one under the same key.
pub fn store(conn: &mut PgConnection, s: NewStored<'_>) -> QueryResult<()> {
    diesel::delete(ik::table.filter(ik::principal.eq(s.scope).and(ik::key.eq(s.key))))
        .execute(conn)?;
    diesel::insert_into(ik::table)
        .values((
            ik::principal.eq(s.scope),
            ik::key.eq(s.key),
            ik::request_fingerprint.eq(s.fingerprint),
            ik::response_status.eq(s.status),
            ik::response_body.eq(s.body),
            ik::response_etag.eq(s.etag),
            ik::response_location.eq(s.location),
            ik::client_id.eq(s.client_id),
            ik::access_level.eq(s.access_level),
            ik::client_ids.eq(subject_ids(s.body)),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Deletes stored answers older than `ttl_seconds`; answers how many.
pub fn purge_expired(conn: &mut PgConnection, ttl_seconds: i64) -> QueryResult<usize> {
    let oldest = chrono::Utc::now() - chrono::Duration::seconds(ttl_seconds);
    diesel::delete(ik::table.filter(ik::created_at.lt(oldest))).execute(conn)
}

/// Drops every stored answer that names one of `clients` (as the record it is about, or
/// anywhere in its body): the body, location, ETag and request fingerprint are cleared and
/// `deidentified_at` is set, the key stays taken (a replay must not create again). Answers
/// how many.
pub fn drop_answers_naming(
    conn: &mut PgConnection,
    clients: &[Uuid],
    at: chrono::DateTime<chrono::Utc>,
) -> QueryResult<usize> {
    if clients.is_empty() {
        return Ok(0);
    }
    diesel::update(
        ik::table.filter(
            ik::client_ids
                .overlaps_with(clients)
                .or(ik::client_id.eq_any(clients)),
        ),
    )
    .set((
        ik::request_fingerprint.eq(""),
        ik::response_body.eq(serde_json::json!({})),
        ik::response_location.eq(None::<String>),
        ik::response_etag.eq(None::<String>),
        ik::deidentified_at.eq(at),
    ))
    .execute(conn)
}

/// The client records a stored response is about (`client_id` anywhere, the `id` of a `client`
/// object, `superseded_client_id`), so de-identification can find every stored body that may
/// hold their PII, not only the one record a replay is authorized against.
pub fn subject_ids(body: &serde_json::Value) -> Vec<Uuid> {
    use serde_json::Value;
    fn walk(v: &Value, out: &mut Vec<Uuid>) {
        match v {
            Value::Object(o) => {
                for (k, x) in o {
                    let id = match (k.as_str(), x) {
                        (
                            "client_id" | "superseded_client_id" | "merged_client_id",
                            Value::String(s),
                        ) => s.parse().ok(),
                        ("client", Value::Object(c)) => c
                            .get("id")
                            .and_then(Value::as_str)
                            .and_then(|s| s.parse().ok()),
                        _ => None,
                    };
                    if let Some(id) = id {
                        if !out.contains(&id) {
                            out.push(id);
                        }
                    }
                    walk(x, out);
                }
            }
            Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(body, &mut out);
    out
}
