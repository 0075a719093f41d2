//! `Idempotency-Key` on creating POSTs: the first result is stored in the same transaction as
//! the creation and answered again to a replay of the same request.

use diesel::prelude::*;
use diesel::PgConnection;

use crate::db::schema::idempotency_keys as ik;
use crate::error::{AppError, AppResult};

/// A created resource's response, as stored for replays.
#[derive(Debug, Clone)]
pub struct StoredReply {
    pub status: u16,
    pub body: serde_json::Value,
    pub etag: Option<String>,
    pub location: Option<String>,
}

pub enum Outcome {
    Fresh(StoredReply),
    Replayed(StoredReply),
}

/// Runs `create` once per (caller, key). Requests with the same key wait for each other (an
/// advisory lock for the transaction), so two concurrent replays cannot both create.
pub fn run_idempotent(
    conn: &mut PgConnection,
    principal: &str,
    key: Option<&str>,
    fingerprint: &str,
    create: impl FnOnce(&mut PgConnection) -> AppResult<StoredReply>,
) -> AppResult<Outcome> {
    let Some(key) = key else {
        return create(conn).map(Outcome::Fresh);
    };
    conn.transaction(|conn| {
        diesel::sql_query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
            .bind::<diesel::sql_types::Text, _>(format!("{principal}\u{1f}{key}"))
            .execute(conn)?;
        let existing = ik::table
            .filter(ik::principal.eq(principal).and(ik::key.eq(key)))
            .select((
                ik::request_fingerprint,
                ik::response_status,
                ik::response_body,
                ik::response_etag,
                ik::response_location,
            ))
            .first::<(
                String,
                i16,
                serde_json::Value,
                Option<String>,
                Option<String>,
            )>(conn)
            .optional()?;
        if let Some((fp, status, body, etag, location)) = existing {
            if fp != fingerprint {
                return Err(AppError::validation(
                    "Idempotency-Key",
                    "idempotency_key_reused",
                    "This Idempotency-Key was already used for a different request.",
                ));
            }
            return Ok(Outcome::Replayed(StoredReply {
                status: status as u16,
                body,
                etag,
                location,
            }));
        }
        let reply = create(conn)?;
        diesel::insert_into(ik::table)
            .values((
                ik::principal.eq(principal),
                ik::key.eq(key),
                ik::request_fingerprint.eq(fingerprint),
                ik::response_status.eq(reply.status as i16),
                ik::response_body.eq(&reply.body),
                ik::response_etag.eq(&reply.etag),
                ik::response_location.eq(&reply.location),
                ik::client_ids.eq(subject_ids(&reply.body)),
            ))
            .execute(conn)?;
        Ok(Outcome::Fresh(reply))
    })
}

/// The client records a stored response is about (`client_id` anywhere, the `id` of a `client`
/// object, `superseded_client_id`), so de-identification can find the stored bodies that may
/// hold their PII.
pub fn subject_ids(body: &serde_json::Value) -> Vec<uuid::Uuid> {
    use serde_json::Value;
    fn walk(v: &Value, out: &mut Vec<uuid::Uuid>) {
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
