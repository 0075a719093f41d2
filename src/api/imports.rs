//! `POST /v1/imports/hmis-csv` and `GET /v1/imports/{id}`: HUD HMIS CSV import as a job.

use std::io::Write;

use actix_web::http::header;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::api::support::{
    hex, parse_query, request_fingerprint, run_db, run_once, IdempotencyKey, IdempotencyKeyHeader,
    JsonReply,
};
use crate::error::{AppError, AppResult};
use crate::service::context::Caller;
use crate::service::hmis_import::{self, ImportJob, ImportMode};
use crate::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(submit_import).service(get_import);
}

/// A zip archive's bytes (a body of `application/zip`).
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct ZipArchive(pub Vec<u8>);

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// The agency the records, projects and stays are imported into (an agency administrator:
    /// its own).
    pub agency: Uuid,
    /// `strict` (default): all or nothing. `lenient`: the good rows, and a report of the others.
    pub mode: Option<ImportMode>,
}

/// Import a HUD HMIS CSV export (a zip of the CSV files, FY2024 or FY2026) into an agency. The
/// upload is checked and imported by a job: the answer is `202` with the job, whose `Location`
/// reports progress (rows per file, problems so far) and, when done, the outcome. Records are
/// created closed to sharing (an HMIS CSV carries no ROI) by the agency; importing the same
/// export again changes nothing. With an `Idempotency-Key`, a replay (the same zip, byte for byte,
/// and query) answers the first job instead of queueing another.
#[utoipa::path(
    tag = "hmis csv",
    params(ImportQuery, IdempotencyKeyHeader),
    request_body(content = ZipArchive, content_type = "application/zip", description = "A zip of HMIS CSV files"),
    responses(
        (status = 202, body = ImportJob, description = "The job, queued",
            headers(("Location" = String, description = "The job resource"))),
        (status = 403, description = "Not a system administrator, nor an agency administrator of this agency"),
        (status = 413, description = "The upload is over HEARTH_IMPORT_MAX_BYTES"),
        (status = 415, description = "The body is not sent as application/zip"),
        (status = 422, description = "No agency has this id, or the body is empty"),
    )
)]
#[post("/imports/hmis-csv")]
async fn submit_import(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    mut body: web::Payload,
) -> AppResult<HttpResponse> {
    let zip = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            let v = v.split(';').next().unwrap_or_default().trim();
            v.eq_ignore_ascii_case("application/zip")
                || v.eq_ignore_ascii_case("application/x-zip-compressed")
        });
    if !zip {
        return Err(AppError::UnsupportedMediaType(
            "Send the HMIS CSV files as one zip, with Content-Type: application/zip.".into(),
        ));
    }
    // The query is read after the media type, so a body that is not a zip says so first.
    let q: ImportQuery = parse_query(req.query_string())?;
    let mode = q.mode.unwrap_or(ImportMode::Strict);
    hmis_import::authorize(&caller, q.agency)?;
    // The key is checked before the upload; the zip is compared by its bytes.
    let key = <IdempotencyKey as actix_web::FromRequest>::extract(&req).await?;
    let mut digest = Sha256::new();
    let path = hmis_import::upload_path(Uuid::now_v7());
    let mut file = std::fs::File::create(&path)
        .map_err(|e| AppError::Internal(format!("import upload file: {e}")))?;
    let mut size: u64 = 0;
    let upload = async {
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|_| {
                AppError::BadRequest("The upload was cut off before its end.".into())
            })?;
            size += chunk.len() as u64;
            digest.update(&chunk);
            if size > state.import_max_bytes {
                return Err(AppError::PayloadTooLarge(format!(
                    "The upload is over {} bytes.",
                    state.import_max_bytes
                )));
            }
            file.write_all(&chunk)
                .map_err(|e| AppError::Internal(format!("import upload file: {e}")))?;
        }
        file.flush()
            .map_err(|e| AppError::Internal(format!("import upload file: {e}")))
    }
    .await;
    // An empty body is refused now, not by the job later (`not_a_zip`).
    let upload = upload.and_then(|()| {
        if size == 0 {
            Err(AppError::Validation(vec![crate::error::FieldError::new(
                "body",
                "empty",
                "The body is empty: send the HMIS CSV files as one zip.",
            )]))
        } else {
            Ok(())
        }
    });
    if let Err(e) = upload {
        let _ = std::fs::remove_file(&path);
        return Err(e);
    }
    let agency = q.agency;
    let c = caller.clone();
    let fingerprint = format!(
        "{} bytes {}",
        request_fingerprint(&req),
        hex(&digest.finalize())
    );
    let submitted = run_once(
        &state,
        caller.principal.clone(),
        None,
        key,
        fingerprint,
        move |conn| {
            let job = hmis_import::submit(conn, &c, agency, mode)?;
            let mut reply = JsonReply::created(&job, format!("/v1/imports/{}", job.id))?;
            reply.status = actix_web::http::StatusCode::ACCEPTED;
            Ok(reply)
        },
    )
    .await;
    let reply = match submitted {
        Ok(reply) if !reply.replayed => reply,
        // A replay answers the first job; this upload is not imported again.
        other => {
            let _ = std::fs::remove_file(&path);
            return other.map(JsonReply::into_response);
        }
    };
    let id = reply.body["id"]
        .as_str()
        .and_then(|s| s.parse::<Uuid>().ok())
        .ok_or_else(|| AppError::Internal("the submitted job has no id".into()))?;
    let pool = state.pool.clone();
    std::thread::Builder::new()
        .name(format!("import-{id}"))
        .spawn(move || hmis_import::run(&pool, &caller, id, &path, true))
        .map_err(|e| AppError::Internal(format!("import thread: {e}")))?;
    Ok(reply.into_response())
}

/// An import job: its progress while it runs, its outcome and problems when done (the system
/// administrator, or an administrator of the importing agency).
#[utoipa::path(
    tag = "hmis csv",
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = ImportJob),
        (status = 404, description = "No such job, or not the caller's agency's"),
    )
)]
#[get("/imports/{id}")]
async fn get_import(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> AppResult<JsonReply> {
    let id = id.into_inner();
    let job = run_db(&state, move |conn| hmis_import::get(conn, &caller, id)).await?;
    JsonReply::ok(&job)
}
