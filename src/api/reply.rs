//! Replies: a JSON body with its ETag and Location.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpRequest, HttpResponse};
use serde::Serialize;
use uuid::Uuid;

use crate::error::{AppError, AppResult};

/// An entity tag from a row version.
pub fn etag(version: i32) -> String {
    format!("\"v{version}\"")
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
