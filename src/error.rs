//! One error type for every layer, written to the wire as RFC 9457 `application/problem+json`.
//!
//! Messages never carry a submitted value: callers pass field names and fixed sentences only.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

/// One invalid input field.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub struct FieldError {
    /// The field, as a JSON path into the request body (`ssn`, `scope.cocs[1]`).
    pub field: String,
    /// A stable snake_case code (`required`, `forbidden_for_identity_mode`, `ssn_placeholder`).
    pub code: String,
    /// A human sentence. It never repeats the submitted value.
    pub message: String,
}

impl FieldError {
    pub fn new(
        field: impl Into<String>,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            field: field.into(),
            code: code.into(),
            message: message.into(),
        }
    }
}

/// The problem document every error response carries (RFC 9457).
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI reference naming the kind of problem (`urn:hearth:problem:validation`).
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Present on validation problems.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldError>>,
    /// The record to use instead, on a 409 for a superseded or merged record.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub use_record: Option<uuid::Uuid>,
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("the request is malformed: {0}")]
    BadRequest(String),
    #[error("authentication failed: {0}")]
    Unauthorized(String),
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// Deliberately carries no detail: a hidden record and a missing one answer the same bytes.
    #[error("not found")]
    NotFound,
    #[error("conflict: {detail}")]
    Conflict {
        code: &'static str,
        detail: String,
        use_record: Option<uuid::Uuid>,
    },
    #[error("precondition failed: the If-Match header does not match the current ETag")]
    PreconditionFailed,
    #[error("precondition required: send If-Match with the record's ETag")]
    PreconditionRequired,
    #[error("payload too large: {0}")]
    PayloadTooLarge(String),
    #[error("unsupported media type: {0}")]
    UnsupportedMediaType(String),
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    #[error("service unavailable: {0}")]
    Unavailable(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl AppError {
    pub fn validation(field: &str, code: &str, message: impl Into<String>) -> Self {
        AppError::Validation(vec![FieldError::new(field, code, message)])
    }

    pub fn conflict(code: &'static str, detail: impl Into<String>) -> Self {
        AppError::Conflict {
            code,
            detail: detail.into(),
            use_record: None,
        }
    }

    fn slug(&self) -> &'static str {
        match self {
            AppError::BadRequest(_) => "bad-request",
            AppError::Unauthorized(_) => "unauthorized",
            AppError::Forbidden(_) => "forbidden",
            AppError::NotFound => "not-found",
            AppError::Conflict { code, .. } => code,
            AppError::PreconditionFailed => "precondition-failed",
            AppError::PreconditionRequired => "precondition-required",
            AppError::PayloadTooLarge(_) => "payload-too-large",
            AppError::UnsupportedMediaType(_) => "unsupported-media-type",
            AppError::Validation(_) => "validation",
            AppError::Unavailable(_) => "unavailable",
            AppError::Internal(_) => "internal",
        }
    }

    pub fn to_problem(&self) -> Problem {
        let status = self.status_code();
        let title = status.canonical_reason().unwrap_or("Error").to_string();
        let (detail, errors, use_record) = match self {
            AppError::BadRequest(d)
            | AppError::Unauthorized(d)
            | AppError::Forbidden(d)
            | AppError::PayloadTooLarge(d)
            | AppError::UnsupportedMediaType(d)
            | AppError::Unavailable(d) => (d.clone(), None, None),
            AppError::NotFound => ("No such resource.".to_string(), None, None),
            AppError::Conflict {
                detail, use_record, ..
            } => (detail.clone(), None, *use_record),
            AppError::PreconditionFailed => (
                "The If-Match header does not match the record's current ETag; read it again."
                    .to_string(),
                None,
                None,
            ),
            AppError::PreconditionRequired => (
                "This update needs an If-Match header with the record's ETag.".to_string(),
                None,
                None,
            ),
            AppError::Validation(errs) => (
                "The request has invalid fields; see errors.".to_string(),
                Some(errs.clone()),
                None,
            ),
            // The cause is logged, never sent.
            AppError::Internal(_) => ("An unexpected error occurred.".to_string(), None, None),
        };
        Problem {
            kind: format!("urn:hearth:problem:{}", self.slug()),
            title,
            status: status.as_u16(),
            detail,
            errors,
            use_record,
        }
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Conflict { .. } => StatusCode::CONFLICT,
            AppError::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            AppError::PreconditionRequired => StatusCode::PRECONDITION_REQUIRED,
            AppError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let AppError::Internal(cause) = self {
            tracing::error!(cause = %cause, "internal error");
        }
        let mut resp = HttpResponse::build(self.status_code());
        resp.content_type("application/problem+json");
        if matches!(self, AppError::Unauthorized(_)) {
            resp.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
        }
        if matches!(self, AppError::Unavailable(_)) {
            resp.insert_header((header::RETRY_AFTER, RETRY_AFTER_SECS.to_string()));
        }
        resp.json(self.to_problem())
    }
}

/// Seconds a client should wait before retrying a 503 (the `Retry-After` header).
pub const RETRY_AFTER_SECS: u32 = 2;

/// The detail of a 503 for a connection lost mid-request.
const CONNECTION_LOST: &str = "The database connection was lost; try again shortly.";

/// Diesel errors: a missing row is a 404, a lost connection a 503, a constraint the input broke a
/// 409, anything else a 500 whose cause is logged and not sent.
impl From<diesel::result::Error> for AppError {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind as K, Error as E};
        match e {
            E::NotFound => AppError::NotFound,
            E::DatabaseError(K::UniqueViolation, info) => AppError::conflict(
                "duplicate",
                format!(
                    "A record with the same key already exists ({}).",
                    info.constraint_name().unwrap_or("unique key")
                ),
            ),
            E::DatabaseError(K::ForeignKeyViolation, info) => AppError::conflict(
                "reference",
                format!(
                    "The change refers to a record that does not exist or is still referred to ({}).",
                    info.constraint_name().unwrap_or("foreign key")
                ),
            ),
            // libpq found the connection closed, or could not even send the query on it ("no
            // connection to the server"); the pool tests and replaces it before its next use.
            E::DatabaseError(K::ClosedConnection | K::UnableToSendCommand, _) => {
                AppError::Unavailable(CONNECTION_LOST.into())
            }
            E::DatabaseError(_, ref info) if is_connection_loss(info.message()) => {
                AppError::Unavailable(CONNECTION_LOST.into())
            }
            // A transaction whose rollback failed, which happens when the connection died in it.
            E::BrokenTransactionManager => AppError::Unavailable(CONNECTION_LOST.into()),
            E::RollbackErrorOnCommit { commit_error, .. } => AppError::from(*commit_error),
            E::DatabaseError(K::SerializationFailure, _) => AppError::conflict(
                "concurrent-update",
                "Another change to the same record happened at the same time; try again.",
            ),
            // SQLSTATE 40P01, which diesel does not name: two workflows (a merge and a
            // de-identification, say) waited on each other's records; PostgreSQL rolled this
            // one back, and it may simply be tried again.
            E::DatabaseError(_, ref info) if info.message().contains("deadlock detected") => {
                AppError::conflict(
                    "concurrent-update",
                    "Another change to the same records happened at the same time; try again.",
                )
            }
            E::DatabaseError(_, ref info) if info.message().contains("statement timeout") => {
                AppError::Unavailable("The database took too long to answer; try again.".into())
            }
            other => AppError::Internal(other.to_string()),
        }
    }
}

/// True when `e` means the connection's session is gone (it answers 503 above; the pool
/// discards the connection, `db::Manager`).
pub(crate) fn is_connection_lost(e: &diesel::result::Error) -> bool {
    use diesel::result::{DatabaseErrorKind as K, Error as E};
    match e {
        E::DatabaseError(K::ClosedConnection | K::UnableToSendCommand, _) => true,
        E::DatabaseError(_, info) => is_connection_loss(info.message()),
        E::BrokenTransactionManager => true,
        _ => false,
    }
}

/// Server and libpq messages that mean the session is gone or the server is going away or not
/// yet back (SQLSTATE class 57P and 08, which diesel does not name).
fn is_connection_loss(message: &str) -> bool {
    const SIGNS: [&str; 9] = [
        "terminating connection",
        "the database system is shutting down",
        "the database system is starting up",
        "the database system is in recovery mode",
        "the database system is not yet accepting connections",
        "server closed the connection",
        "no connection to the server",
        "could not receive data from server",
        "could not send data to server",
    ];
    SIGNS.iter().any(|s| message.contains(s))
}

impl From<crate::db::CheckoutError> for AppError {
    fn from(e: crate::db::CheckoutError) -> Self {
        match e {
            crate::db::CheckoutError::Unreachable(_) => {
                AppError::Unavailable("The database cannot be reached; try again shortly.".into())
            }
            crate::db::CheckoutError::Exhausted => {
                AppError::Unavailable("No database connection is free; try again shortly.".into())
            }
        }
    }
}

impl From<diesel::r2d2::PoolError> for AppError {
    fn from(_: diesel::r2d2::PoolError) -> Self {
        AppError::Unavailable("No database connection is free; try again shortly.".into())
    }
}

impl From<actix_web::error::BlockingError> for AppError {
    fn from(_: actix_web::error::BlockingError) -> Self {
        AppError::Unavailable("The server is shutting down or overloaded; try again.".into())
    }
}

pub type AppResult<T> = Result<T, AppError>;
