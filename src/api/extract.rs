//! Extractors: the request id, the JSON body (refusing what the edge refuses, naming the field
//! and never the value), `If-Match`, `Idempotency-Key`, and the `Caller` of a workflow.

use std::future::Future;
use std::pin::Pin;

use actix_web::http::{header, StatusCode};
use actix_web::{dev::Payload, web, FromRequest, HttpMessage, HttpRequest};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use utoipa::IntoParams;

use super::reply::etag;
use crate::error::{AppError, AppResult, FieldError};

/// The id of the request, from `X-Request-Id` or generated.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// Marks a request that came as `HEAD` (the edge answers it as a `GET` without the body): a
/// handler whose `GET` discloses records as it streams may answer a `HEAD` without running it.
#[derive(Debug, Clone, Copy)]
pub struct HeadRequest;

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

/// Accepts a caller's request id only when it is opaque, so it is safe to echo, log and keep in
/// audit rows (which hold no PII): a name ("Bartholomew-Kettering"), a word, an SSN, a date of
/// birth or a phone number sent as one is replaced by a fresh id, and the request goes on.
/// Opaque is, in ASCII:
/// - a UUID (`8-4-4-4-12` hex digits) or 32 hex digits (a W3C trace id);
/// - 16 hex digits (a W3C span id);
/// - a W3C `traceparent` (`2-32-16-2` hex digits).
///
/// Nothing else: a free-form token can spell a name or an SSN with separators between its
/// letters or digits ("M.a.r.i.a_L.o.p.e.z", "2x1x9x0x9x1x2x3x4"), whatever rule reads it.
pub fn sanitize_request_id(v: &str) -> Option<String> {
    opaque_request_id(v).then(|| v.to_string())
}

/// The most chars a caller's request id may have (a traceparent is 55).
pub const REQUEST_ID_MAX: usize = 64;

fn opaque_request_id(v: &str) -> bool {
    let hex = |s: &str, n: usize| s.len() == n && s.bytes().all(|c| c.is_ascii_hexdigit());
    let groups: Vec<&str> = v.split('-').collect();
    let shaped = |lens: &[usize]| {
        groups.len() == lens.len() && groups.iter().zip(lens).all(|(g, n)| hex(g, *n))
    };
    v.len() <= REQUEST_ID_MAX
        && (shaped(&[8, 4, 4, 4, 12]) || hex(v, 32) || hex(v, 16) || shaped(&[2, 32, 16, 2]))
}

#[cfg(test)]
mod request_id_tests {
    use super::sanitize_request_id;

    #[test]
    fn a_request_id_that_could_hold_pii_is_not_taken() {
        for ok in [
            "0190c1b2-9932-7000-8000-000000009932",
            "0190C1B2-9932-7000-8000-00000000BEEF",
            "4bf92f3577b34da6a3ce929d0e0e4736",
            "00f067aa0ba902b7",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        ] {
            assert_eq!(sanitize_request_id(ok).as_deref(), Some(ok), "{ok}");
        }
        for pii in [
            "618-23-4471",
            "618234471",
            "1983-07-22",
            "19830722",
            "ssn618234471x",
            "312.555.0199",
            "ref4471",
            "deadbeef618234471",
            "fade19830722beef0",
            "a b",
            "",
            // A name, or a word: it could be one.
            "Bartholomew-Kettering",
            "Bartholomew_Kettering",
            "Jo-Li",
            "req-abc-42",
            "batch.7.of.9",
            "deadbeef",
            // Spelled out between separators.
            "M.a.r.i.a_L.o.p.e.z_1x9x8x0x0x5x0x5",
            "J-o-h-n-S-m-i-t-h",
            "2x1x9x0x9x1x2x3x4",
            "a1-b2-c3",
            "42",
            // Not a UUID's shape, and too long otherwise.
            "0190c1b2-9932-7000-8000-000000009932-1",
            &"a1".repeat(33),
        ] {
            assert_eq!(sanitize_request_id(pii), None, "{pii}");
        }
    }
}

/// A JSON body. Unlike `web::Json`, its errors are problem documents that name the field and
/// never repeat the submitted value. With an `Idempotency-Key`, it keeps the digest of the
/// body's canonical form for the request's fingerprint (`api::idempotent`).
pub struct ApiJson<T> {
    pub value: T,
    digest: String,
}

impl<T> ApiJson<T> {
    /// The canonical body's digest when the request carries an `Idempotency-Key`, else empty.
    pub fn digest(&self) -> &str {
        &self.digest
    }
}

/// The canonical digest of a body, only when a key needs it (parsing twice costs).
fn digest_if_keyed(req: &HttpRequest) -> impl FnOnce(&[u8]) -> String {
    let keyed = req.headers().contains_key("idempotency-key");
    move |body| {
        if keyed {
            super::idempotent::body_digest(body)
        } else {
            String::new()
        }
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for ApiJson<T> {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let content_type_ok = is_json(req);
        let digest = digest_if_keyed(req);
        let bytes = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            if !content_type_ok {
                return Err(not_json());
            }
            let body = read_body(bytes).await?;
            let value = parse_json::<T>(&body)?;
            let digest = digest(&body);
            Ok(ApiJson { value, digest })
        })
    }
}

/// A JSON body that may be left out (an empty body, or `null`, is `T::default()`); when sent,
/// it is held to the same rules as [`ApiJson`], its content type included.
pub struct OptionalApiJson<T>(pub T, String);

impl<T> OptionalApiJson<T> {
    /// As [`ApiJson::digest`]; an empty body digests as nothing was sent.
    pub fn digest(&self) -> &str {
        &self.1
    }
}

impl<T: DeserializeOwned + Default + 'static> FromRequest for OptionalApiJson<T> {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let content_type_ok = is_json(req);
        let digest = digest_if_keyed(req);
        let bytes = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            let body = read_body(bytes).await?;
            if body.iter().all(u8::is_ascii_whitespace) {
                return Ok(OptionalApiJson(T::default(), String::new()));
            }
            if !content_type_ok {
                return Err(not_json());
            }
            if body.trim_ascii() == b"null" {
                return Ok(OptionalApiJson(T::default(), digest(&body)));
            }
            let value = parse_json::<T>(&body)?;
            Ok(OptionalApiJson(value, digest(&body)))
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
///
/// The body is read once as JSON ([`crate::api::edge::check_json_body`]: what does not parse is a
/// 400, what the edge refuses a 422); from then on every error is about a field (a wrong type, an
/// unknown enum word, a missing field) and answers 422 naming it. Every request body is a JSON
/// object: an array or a scalar in its place is a 422 for the body as a whole (field `""`).
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> AppResult<T> {
    // NUL, over-long text, lone surrogates, far dates, huge numbers and trailing bytes, once for
    // every body.
    let value = crate::api::edge::check_json_body(body)?;
    if !value.is_object() {
        return Err(AppError::validation(
            "",
            "invalid_type",
            "The body must be a JSON object.",
        ));
    }
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = crate::api::edge::field_path(e.path());
        let msg = e.into_inner().to_string();
        let (field, code, message) = describe_data_error(&path, &msg);
        AppError::Validation(vec![FieldError::new(field, code, message)])
    })
}

/// Query parameters, deserialized like a body: a value of the wrong type or out of its list
/// answers 422 naming the parameter (`errors[].field`), never repeating the value.
pub struct ApiQuery<T>(pub T);

impl<T> std::ops::Deref for ApiQuery<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned> FromRequest for ApiQuery<T> {
    type Error = AppError;
    type Future = std::future::Ready<Result<Self, AppError>>;
    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(parse_query(req.query_string()).map(ApiQuery))
    }
}

/// Deserializes a query string (`a=1&b=x`) into `T`, naming the parameter on failure.
pub fn parse_query<T: DeserializeOwned>(query: &str) -> AppResult<T> {
    // A date is read in one shape only, as in a body (chrono alone reads `2026-1-1` and
    // `-2026-01-01`); checked on every value, so a parameter the handler reads by hand is too.
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        if let Err((code, message)) = crate::api::edge::check_date_shape(&value) {
            let field = crate::api::edge::sanitize_key(&name);
            return Err(AppError::Validation(vec![FieldError::new(
                field, code, message,
            )]));
        }
    }
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = crate::api::edge::field_path(e.path());
        let msg = e.into_inner().to_string();
        let (field, code, message) = describe_data_error(&path, &msg);
        AppError::Validation(vec![FieldError::new(field, code, message)])
    })
}

fn describe_data_error(path: &str, msg: &str) -> (String, &'static str, String) {
    let field = path.to_string();
    // What was expected, without what was found (`found `x` at 1`) or where.
    let expected = msg.split_once("expected ").map(|(_, e)| {
        let e = e.split(" at line").next().unwrap_or(e);
        e.split(", found").next().unwrap_or(e).trim().to_string()
    });
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
        // The path usually ends at the unknown key already; inside an internally tagged enum
        // (an ROI's `scope`) it ends at the enum, and the key is added.
        let full = if field.is_empty() {
            name
        } else if field == name || field.ends_with(&format!(".{name}")) {
            field.clone()
        } else {
            format!("{field}.{name}")
        };
        return (
            full,
            "unknown_field",
            "This field is not part of the request schema.".into(),
        );
    }
    if let Some(rest) = msg.strip_prefix("duplicate field `") {
        let name = crate::api::edge::sanitize_key(rest.split('`').next().unwrap_or(""));
        return (
            name,
            "duplicate",
            "This field is sent more than once.".into(),
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
        // An enum word sent as something else than a string.
        let expected = match expected.as_deref() {
            Some("string or map") => "a string".to_string(),
            Some(e) => e.to_string(),
            None => String::new(),
        };
        return (
            field,
            "invalid_type",
            format!("Wrong type; expected {expected}."),
        );
    }
    // Messages of the parsers behind a field's type that carry no "expected".
    let known: &[(&[&str], &str)] = &[
        (&["UUID parsing failed"], "Expected a UUID."),
        (
            &[
                "input is out of range",
                "input contains invalid characters",
                "premature end of input",
                "trailing input",
                "input is not enough",
                "no possible date and time",
                "bad or unsupported format",
            ],
            "Expected a date that exists, as YYYY-MM-DD (a time as RFC 3339).",
        ),
        (
            &[
                "invalid digit found in string",
                "cannot parse integer from empty string",
                "number too large to fit in target type",
                "number too small to fit in target type",
            ],
            "Expected an integer in range.",
        ),
        (&["invalid float literal"], "Expected a number."),
        (
            &["provided string was not `true` or `false`"],
            "Expected true or false.",
        ),
    ];
    for (starts, message) in known {
        if starts.iter().any(|s| msg.starts_with(s)) {
            return (field, "invalid_value", (*message).to_string());
        }
    }
    let message = match expected {
        Some(e) => format!("Invalid value; expected {e}."),
        None => "Invalid value.".to_string(),
    };
    (field, "invalid_value", message)
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
                    let s = v.to_str().map_err(|_| {
                        AppError::BadRequest("X-Access-Reason must be plain text.".into())
                    })?;
                    Some(crate::service::context::access_reason(s)?)
                }
            };
            Ok(crate::service::context::Caller::new(
                principal, request_id, reason,
            ))
        })();
        std::future::ready(caller)
    }
}

/// `?dry_run=true` on a consent workflow: the same answer, nothing committed.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DryRunQuery {
    /// Answer what the workflow would change and warn, in the same shape, without committing
    /// anything (the response carries `Hearth-Dry-Run: true`).
    pub dry_run: Option<bool>,
}

impl DryRunQuery {
    pub fn is_dry(&self) -> bool {
        self.dry_run == Some(true)
    }

    /// Marks a dry run's answer, and drops its `Location` and `ETag`: what the one names was
    /// never stored, and the version the other names does not exist (the record kept its
    /// version, whose `ETag` the caller already holds).
    pub fn mark(&self, reply: super::reply::JsonReply) -> actix_web::HttpResponse {
        let dry = self.is_dry();
        let mut r = reply.into_response();
        if dry {
            // Nothing was stored: no Location to point at it, no new version to name.
            r.headers_mut().remove(header::LOCATION);
            r.headers_mut().remove(header::ETAG);
            r.headers_mut().insert(
                header::HeaderName::from_static("hearth-dry-run"),
                header::HeaderValue::from_static("true"),
            );
        }
        r
    }
}
