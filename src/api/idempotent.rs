//! `Idempotency-Key` on every POST that writes, one mechanism for all of them.
//!
//! A handler takes [`Idempotent<B>`] instead of its body `B` ([`ApiJson`], [`OptionalApiJson`]
//! or [`NoBody`]): the extractor reads the key and fingerprints the request (method, route, path
//! values, query, and the body in canonical form), and [`Idempotent::run`] runs the write once per
//! (principal, key), in one transaction with its stored answer (`service::idempotency`). A replay
//! answers the first result with `Idempotent-Replayed: true`, decided again for the caller when
//! the answer is about a client record (`JsonReply::about_client`). In the contract an operation
//! lists [`IdempotencyKeyHeader`] in its `params`; `api::finalize` then declares
//! `Idempotent-Replayed` on its successful answers.

use std::future::Future;
use std::pin::Pin;

use actix_web::http::StatusCode;
use actix_web::{dev::Payload, FromRequest, HttpRequest};
use diesel::PgConnection;
use serde_json::Value;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::blocking::run_db;
use super::extract::{ApiJson, IdempotencyKey, OptionalApiJson};
use super::reply::JsonReply;
use crate::auth::Principal;
use crate::error::{AppError, AppResult};
use crate::service::context::Caller;
use crate::AppState;

/// The `Idempotency-Key` request header, as the contract declares it (`params(IdempotencyKeyHeader)`).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
pub struct IdempotencyKeyHeader {
    /// 1 to 255 visible ASCII characters, chosen by the caller per request. A replay of the same
    /// request (same route, path, query and JSON body, whatever its key order or whitespace) by
    /// the same principal answers the first result with `Idempotent-Replayed: true`; the same
    /// key with another request answers 422. Kept for `HEARTH_IDEMPOTENCY_TTL_HOURS`.
    #[param(rename = "Idempotency-Key")]
    pub idempotency_key: Option<String>,
}

/// The body of a request that takes no body (any body sent is ignored).
pub struct NoBody;

impl FromRequest for NoBody {
    type Error = AppError;
    type Future = std::future::Ready<Result<Self, AppError>>;
    fn from_request(_: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(Ok(NoBody))
    }
}

/// What of a request body an idempotent request's fingerprint covers.
pub trait BodyDigest {
    fn body_digest(&self) -> &str;
}

impl<T> BodyDigest for ApiJson<T> {
    fn body_digest(&self) -> &str {
        self.digest()
    }
}

impl<T> BodyDigest for OptionalApiJson<T> {
    fn body_digest(&self) -> &str {
        self.digest()
    }
}

impl BodyDigest for NoBody {
    fn body_digest(&self) -> &str {
        ""
    }
}

/// SHA-256 (hex) of a body as an idempotent request compares it: a JSON body in canonical form
/// (parsed, object keys sorted, no whitespace), so the same JSON with its keys in another order
/// or pretty-printed is the same request; any other body by its bytes.
pub fn body_digest(body: &[u8]) -> String {
    let mut h = Sha256::new();
    match serde_json::from_slice::<Value>(body) {
        Ok(v) => {
            h.update(b"json ");
            canonical(&v, &mut h);
        }
        Err(_) => {
            h.update(b"bytes ");
            h.update(body);
        }
    }
    hex(&h.finalize())
}

/// SHA-256 (hex) of bytes.
pub fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Writes `v` as canonical JSON into the hash: keys sorted by their UTF-8 bytes, no whitespace,
/// strings and numbers as serde_json writes them.
fn canonical(v: &Value, h: &mut Sha256) {
    let scalar = |v: &Value, h: &mut Sha256| {
        h.update(serde_json::to_vec(v).unwrap_or_default());
    };
    match v {
        Value::Object(m) => {
            let mut entries: Vec<(&String, &Value)> = m.iter().collect();
            entries.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            h.update(b"{");
            for (i, (k, x)) in entries.into_iter().enumerate() {
                if i > 0 {
                    h.update(b",");
                }
                h.update(serde_json::to_vec(k).unwrap_or_default());
                h.update(b":");
                canonical(x, h);
            }
            h.update(b"}");
        }
        Value::Array(a) => {
            h.update(b"[");
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    h.update(b",");
                }
                canonical(x, h);
            }
            h.update(b"]");
        }
        other => scalar(other, h),
    }
}

/// The request without its body, as a replay must repeat it: method, route pattern, path
/// values (ids in canonical form) and the query's pairs in sorted order.
pub fn request_fingerprint(req: &HttpRequest) -> String {
    let mut s = format!(
        "{} {}",
        req.method(),
        req.match_pattern()
            .unwrap_or_else(|| req.path().to_string())
    );
    for (name, value) in req.match_info().iter() {
        let value = value
            .parse::<Uuid>()
            .map(|u| u.to_string())
            .unwrap_or_else(|_| value.to_string());
        s.push_str(&format!(" {name}={value}"));
    }
    let mut query: Vec<&str> = req
        .query_string()
        .split('&')
        .filter(|p| !p.is_empty())
        .collect();
    query.sort_unstable();
    if !query.is_empty() {
        s.push_str(" ?");
        s.push_str(&query.join("&"));
    }
    s
}

/// A POST that writes, with its `Idempotency-Key` (if sent) and body `B`.
pub struct Idempotent<B> {
    pub body: B,
    key: IdempotencyKey,
    fingerprint: String,
}

impl<B> FromRequest for Idempotent<B>
where
    B: FromRequest<Error = AppError> + BodyDigest + 'static,
{
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let key = IdempotencyKey::from_request(req, payload).into_inner();
        let request = request_fingerprint(req);
        let body = B::from_request(req, payload);
        Box::pin(async move {
            let key = key?;
            let body = body.await?;
            let fingerprint = format!("{request} {}", body.body_digest());
            Ok(Idempotent {
                body,
                key,
                fingerprint,
            })
        })
    }
}

impl<B: Send + 'static> Idempotent<B> {
    /// A dry run commits nothing, so it neither stores an answer under the key nor replays one.
    pub fn unless_dry(mut self, dry: bool) -> Self {
        if dry {
            self.key = IdempotencyKey(None);
        }
        self
    }

    /// Runs `write` once per (caller's principal, key). An answer about a client record
    /// (`JsonReply::about_client`) is replayed only after the caller's access to the record is
    /// decided again.
    pub async fn run<F>(self, state: &AppState, caller: Caller, write: F) -> AppResult<JsonReply>
    where
        F: FnOnce(&mut PgConnection, &Caller, B) -> AppResult<JsonReply> + Send + 'static,
    {
        let Idempotent {
            body,
            key,
            fingerprint,
        } = self;
        let principal = caller.principal.clone();
        run_once(
            state,
            principal,
            Some(caller.clone()),
            key,
            fingerprint,
            move |conn| write(conn, &caller, body),
        )
        .await
    }

    /// As [`run`](Self::run), for answers that are not about a client record (CoCs, agencies,
    /// projects), with the principal alone.
    pub async fn run_as<F>(
        self,
        state: &AppState,
        principal: Principal,
        write: F,
    ) -> AppResult<JsonReply>
    where
        F: FnOnce(&mut PgConnection, &Principal, B) -> AppResult<JsonReply> + Send + 'static,
    {
        let Idempotent {
            body,
            key,
            fingerprint,
        } = self;
        run_once(
            state,
            principal.clone(),
            None,
            key,
            fingerprint,
            move |conn| write(conn, &principal, body),
        )
        .await
    }
}

/// Runs `write` under `key` (if any) in one transaction with its stored answer; a replay of
/// `fingerprint` answers the stored one. `replayer` decides a replay about a client record again;
/// without it, an answer about a client record is refused (a bug). For requests whose body the
/// [`Idempotent`] extractor cannot read (the HMIS CSV upload streams to a file).
pub async fn run_once<F>(
    state: &AppState,
    principal: Principal,
    replayer: Option<Caller>,
    key: IdempotencyKey,
    fingerprint: String,
    write: F,
) -> AppResult<JsonReply>
where
    F: FnOnce(&mut PgConnection) -> AppResult<JsonReply> + Send + 'static,
{
    use crate::service::idempotency::{run_idempotent, Outcome, StoredReply};
    let outcome = run_db(state, move |conn| {
        let access_to = |conn: &mut PgConnection, client: Uuid, replay: bool| match &replayer {
            Some(c) if replay => crate::service::access::audit_full_read(conn, c, client, "replay"),
            Some(c) => crate::service::access::access_level_now(conn, c, client),
            None => Err(AppError::Internal(
                "an answer about a client needs Idempotent::run with the caller".into(),
            )),
        };
        run_idempotent(
            conn,
            &principal,
            key.0.as_deref(),
            &fingerprint,
            access_to,
            |conn| {
                let r = write(conn)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_json_in_another_form_has_the_same_digest() {
        let a = body_digest(br#"{"b":1,"a":{"y":[1,{"d":2,"c":"x"}],"x":null}}"#);
        let b = body_digest(
            b"{\n  \"a\": {\"x\": null, \"y\": [1, {\"c\": \"\\u0078\", \"d\": 2}]},\n  \"b\": 1\n}",
        );
        assert_eq!(a, b);
        // Another value, another array order, or bytes that are not JSON differ.
        assert_ne!(
            a,
            body_digest(br#"{"b":2,"a":{"y":[1,{"d":2,"c":"x"}],"x":null}}"#)
        );
        assert_ne!(
            a,
            body_digest(br#"{"b":1,"a":{"y":[{"d":2,"c":"x"},1],"x":null}}"#)
        );
        assert_ne!(body_digest(b"PK\x03\x04"), body_digest(b"PK\x03\x05"));
        assert_eq!(body_digest(b"PK\x03\x04"), body_digest(b"PK\x03\x04"));
        // A JSON string is not the same body as its bytes.
        assert_ne!(body_digest(br#""x""#), body_digest(b"x"));
    }
}
