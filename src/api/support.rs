//! Request plumbing shared by every resource: the JSON body extractor, request ids, ETags,
//! `If-Match`, `Idempotency-Key`, cursor pages and the blocking database runner.

use std::future::Future;
use std::pin::Pin;

use actix_web::http::{header, StatusCode};
use actix_web::{dev::Payload, web, FromRequest, HttpMessage, HttpRequest, HttpResponse};
use base64::Engine;
use diesel::PgConnection;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};
use sha2::{Digest, Sha256};
use utoipa::IntoParams;
use uuid::Uuid;

use crate::error::{AppError, AppResult, FieldError};
use crate::AppState;

/// The id of the request, from `X-Request-Id` or generated.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

impl FromRequest for RequestId {
    type Error = AppError;
    type Future = std::future::Ready<Result<Self, AppError>>;
    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let id = req
            .extensions()
            .get::<RequestId>()
            .cloned()
            .unwrap_or(RequestId(String::new()));
        std::future::ready(Ok(id))
    }
}

/// Accepts a caller's request id only if it is short and plain, so it is safe to log and echo.
pub fn sanitize_request_id(v: &str) -> Option<String> {
    let ok = !v.is_empty()
        && v.len() <= 128
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    ok.then(|| v.to_string())
}

/// A JSON body. Unlike `web::Json`, its errors are problem documents that name the field and
/// never repeat the submitted value, and it keeps a digest of the raw body for idempotency.
pub struct ApiJson<T> {
    pub value: T,
    pub digest: String,
}

impl<T: DeserializeOwned + 'static> FromRequest for ApiJson<T> {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let content_type_ok = is_json(req);
        let bytes = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            if !content_type_ok {
                return Err(not_json());
            }
            let body = read_body(bytes).await?;
            let digest = hex(&Sha256::digest(&body));
            let value = parse_json::<T>(&body)?;
            Ok(ApiJson { value, digest })
        })
    }
}

/// A JSON body that may be left out (an empty body, or `null`, is `T::default()`); when sent,
/// it is held to the same rules as [`ApiJson`], its content type included.
pub struct OptionalApiJson<T>(pub T);

impl<T: DeserializeOwned + Default + 'static> FromRequest for OptionalApiJson<T> {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let content_type_ok = is_json(req);
        let bytes = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            let body = read_body(bytes).await?;
            if body.iter().all(u8::is_ascii_whitespace) {
                return Ok(OptionalApiJson(T::default()));
            }
            if !content_type_ok {
                return Err(not_json());
            }
            if body.trim_ascii() == b"null" {
                return Ok(OptionalApiJson(T::default()));
            }
            parse_json::<T>(&body).map(OptionalApiJson)
        })
    }
}

fn is_json(req: &HttpRequest) -> bool {
    req.mime_type()
        .ok()
        .flatten()
        .map(|m| m.subtype() == mime_json() || m.suffix().is_some_and(|s| s == mime_json()))
        .unwrap_or(false)
}

fn not_json() -> AppError {
    AppError::UnsupportedMediaType("Send the body as application/json.".into())
}

async fn read_body(
    bytes: impl Future<Output = Result<web::Bytes, actix_web::Error>>,
) -> AppResult<web::Bytes> {
    bytes
        .await
        .map_err(|e| match e.as_response_error().status_code() {
            StatusCode::PAYLOAD_TOO_LARGE => AppError::PayloadTooLarge(
                "The request body is larger than this endpoint accepts.".into(),
            ),
            _ => AppError::BadRequest("The request body could not be read.".into()),
        })
}

fn mime_json() -> &'static str {
    "json"
}

/// Deserializes with the failing field's path, and turns serde's message (which may quote the
/// value) into one that only says what was expected.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> AppResult<T> {
    // NUL, over-long text, lone surrogates, far dates and trailing bytes, once for every body.
    crate::api::edge::check_json_body(body)?;
    let de = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = crate::api::edge::field_path(e.path());
        let inner = e.into_inner();
        use serde_json::error::Category;
        match inner.classify() {
            Category::Syntax | Category::Eof | Category::Io => AppError::BadRequest(format!(
                "The body is not valid JSON (line {}, column {}).",
                inner.line(),
                inner.column()
            )),
            Category::Data => {
                let msg = inner.to_string();
                let (field, code, message) = describe_data_error(&path, &msg);
                AppError::Validation(vec![FieldError::new(field, code, message)])
            }
        }
    })
}

fn describe_data_error(path: &str, msg: &str) -> (String, &'static str, String) {
    let field = path.to_string();
    let expected = msg
        .split_once("expected ")
        .map(|(_, e)| e.split(" at line").next().unwrap_or(e).trim().to_string());
    if let Some(rest) = msg.strip_prefix("missing field `") {
        let name = crate::api::edge::sanitize_key(rest.split('`').next().unwrap_or(""));
        let full = if field.is_empty() {
            name
        } else {
            format!("{field}.{name}")
        };
        return (full, "required", "This field is required.".into());
    }
    if let Some(rest) = msg.strip_prefix("unknown field `") {
        let name = crate::api::edge::sanitize_key(rest.split('`').next().unwrap_or(""));
        // The path already ends at the unknown key.
        let full = if field.is_empty() {
            name
        } else {
            field.clone()
        };
        return (
            full,
            "unknown_field",
            "This field is not part of the request schema.".into(),
        );
    }
    if msg.starts_with("unknown variant") {
        return (
            field,
            "unknown_value",
            format!("Unknown value; expected {}.", expected.unwrap_or_default()),
        );
    }
    if msg.starts_with("invalid type") {
        return (
            field,
            "invalid_type",
            format!("Wrong type; expected {}.", expected.unwrap_or_default()),
        );
    }
    let message = match expected {
        Some(e) => format!("Invalid value; expected {e}."),
        None => "Invalid value.".to_string(),
    };
    (field, "invalid_value", message)
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// For PATCH-style bodies: tells "absent" (`None`) from "null" (`Some(None)`).
pub fn double_option<'de, T, D>(de: D) -> Result<Option<Option<T>>, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    Option::<T>::deserialize(de).map(Some)
}

/// An entity tag from a row version.
pub fn etag(version: i32) -> String {
    format!("\"v{version}\"")
}

/// The `If-Match` header, required on updates.
pub struct IfMatch(pub String);

impl FromRequest for IfMatch {
    type Error = AppError;
    type Future = std::future::Ready<Result<Self, AppError>>;
    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let v = match req.headers().get(header::IF_MATCH) {
            None => Err(AppError::PreconditionRequired),
            Some(v) => v
                .to_str()
                .map(|s| IfMatch(s.trim().to_string()))
                .map_err(|_| AppError::BadRequest("The If-Match header is malformed.".into())),
        };
        std::future::ready(v)
    }
}

impl IfMatch {
    /// 412 unless the header names the current version (or is `*`).
    pub fn check(&self, version: i32) -> AppResult<()> {
        let current = etag(version);
        let matches = self
            .0
            .split(',')
            .map(str::trim)
            .any(|t| t == "*" || t == current);
        if matches {
            Ok(())
        } else {
            Err(AppError::PreconditionFailed)
        }
    }
}

/// The optional `Idempotency-Key` header of a creating POST.
pub struct IdempotencyKey(pub Option<String>);

impl FromRequest for IdempotencyKey {
    type Error = AppError;
    type Future = std::future::Ready<Result<Self, AppError>>;
    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let v = match req.headers().get("idempotency-key") {
            None => Ok(IdempotencyKey(None)),
            Some(v) => match v.to_str() {
                Ok(s)
                    if !s.trim().is_empty()
                        && s.len() <= 255
                        && s.chars().all(|c| c.is_ascii_graphic()) =>
                {
                    Ok(IdempotencyKey(Some(s.trim().to_string())))
                }
                _ => Err(AppError::BadRequest(
                    "The Idempotency-Key header must be 1 to 255 visible ASCII characters.".into(),
                )),
            },
        };
        std::future::ready(v)
    }
}

/// Cursor pagination parameters shared by every list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// How many items to return, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl PageQuery {
    pub fn limit(&self) -> AppResult<i64> {
        match self.limit {
            None => Ok(50),
            Some(n @ 1..=200) => Ok(n as i64),
            Some(_) => Err(AppError::validation(
                "limit",
                "out_of_range",
                "limit must be between 1 and 200.",
            )),
        }
    }

    pub fn after<T: DeserializeOwned>(&self) -> AppResult<Option<T>> {
        self.cursor.as_deref().map(decode_cursor).transpose()
    }
}

pub fn encode_cursor<T: Serialize>(key: &T) -> String {
    let json = serde_json::to_vec(key).unwrap_or_default();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
}

fn decode_cursor<T: DeserializeOwned>(s: &str) -> AppResult<T> {
    let bad = || {
        AppError::validation(
            "cursor",
            "invalid_cursor",
            "The cursor is not one this service issued.",
        )
    };
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s)
        .map_err(|_| bad())?;
    serde_json::from_slice(&bytes).map_err(|_| bad())
}

/// Cuts a list fetched with `limit + 1` rows into a page and the cursor of the next one.
pub fn paginate<T, K: Serialize>(
    mut rows: Vec<T>,
    limit: i64,
    key: impl Fn(&T) -> K,
) -> (Vec<T>, Option<String>) {
    if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        let next = rows.last().map(|r| encode_cursor(&key(r)));
        (rows, next)
    } else {
        (rows, None)
    }
}

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

/// A response with a JSON body, an optional ETag and Location.
pub struct JsonReply {
    pub status: StatusCode,
    pub body: serde_json::Value,
    pub etag: Option<String>,
    pub location: Option<String>,
    /// The client record this answer is about, for authorizing an idempotent replay again.
    pub client: Option<Uuid>,
    pub replayed: bool,
}

impl JsonReply {
    pub fn ok<T: Serialize>(body: &T) -> AppResult<JsonReply> {
        Ok(JsonReply {
            status: StatusCode::OK,
            body: serde_json::to_value(body).map_err(|e| AppError::Internal(e.to_string()))?,
            etag: None,
            location: None,
            client: None,
            replayed: false,
        })
    }

    pub fn created<T: Serialize>(body: &T, location: String) -> AppResult<JsonReply> {
        let mut r = Self::ok(body)?;
        r.status = StatusCode::CREATED;
        r.location = Some(location);
        Ok(r)
    }

    pub fn about_client(mut self, client: Uuid) -> Self {
        self.client = Some(client);
        self
    }

    pub fn with_etag(mut self, version: i32) -> Self {
        self.etag = Some(etag(version));
        self
    }

    pub fn into_response(self) -> HttpResponse {
        let mut b = HttpResponse::build(self.status);
        if let Some(e) = &self.etag {
            b.insert_header((header::ETAG, e.as_str()));
        }
        if let Some(l) = &self.location {
            b.insert_header((header::LOCATION, l.as_str()));
        }
        if self.replayed {
            b.insert_header(("Idempotent-Replayed", "true"));
        }
        b.json(self.body)
    }
}

impl actix_web::Responder for JsonReply {
    type Body = actix_web::body::BoxBody;
    fn respond_to(self, _: &HttpRequest) -> HttpResponse {
        self.into_response()
    }
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

impl FromRequest for crate::service::context::Caller {
    type Error = AppError;
    type Future = std::future::Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let caller = (|| {
            let principal = crate::auth::Principal::from_request(req, payload).into_inner()?;
            let request_id = req
                .extensions()
                .get::<RequestId>()
                .map(|r| r.0.clone())
                .unwrap_or_default();
            let reason = match req.headers().get("x-access-reason") {
                None => None,
                Some(v) => {
                    let s = v
                        .to_str()
                        .map_err(|_| {
                            AppError::BadRequest("X-Access-Reason must be plain text.".into())
                        })?
                        .trim()
                        .to_string();
                    if s.is_empty() || s.chars().count() > 500 {
                        return Err(AppError::BadRequest(
                            "X-Access-Reason must be 1 to 500 characters.".into(),
                        ));
                    }
                    // The reason is stored in the audit trail, which never holds PII.
                    if crate::domain::contains_pii(&s) {
                        return Err(AppError::BadRequest(
                            "X-Access-Reason looks like it holds personal identifying information; give a ticket number or a plain reason.".into(),
                        ));
                    }
                    Some(s)
                }
            };
            Ok(crate::service::context::Caller::new(
                principal, request_id, reason,
            ))
        })();
        std::future::ready(caller)
    }
}
