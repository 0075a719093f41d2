//! `GET /v1/exports/hmis-csv`: HUD HMIS CSV as a zip, streamed. The request is checked and the
//! export audited first (problems answer as problem documents); then a blocking task writes the
//! zip from the database into a bounded channel that feeds the response body, so memory stays
//! flat (a few chunks in flight) however large the export.

use std::io::{self, Write};
use std::pin::Pin;
use std::task::{Context, Poll};

use actix_web::http::header::{ContentDisposition, DispositionParam, DispositionType};
use actix_web::web::Bytes;
use actix_web::{get, web, HttpResponse};
use serde::Deserialize;
use tokio::sync::mpsc;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::api::support::run_db;
use crate::api::support::ApiQuery;
use crate::error::AppResult;
use crate::service::context::Caller;
use crate::service::hmis_export;
use crate::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(export_hmis_csv);
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// HUD CoC code: the projects of this CoC's agencies, and their stays.
    #[param(example = "IL-510", required = true)]
    pub coc: Option<String>,
    /// First day of the window (YYYY-MM-DD): stays that overlap `[start, end]` are exported.
    #[param(required = true, example = "2024-10-01")]
    pub start: Option<String>,
    /// Last day of the window (YYYY-MM-DD), on or after `start`.
    #[param(required = true, example = "2025-09-30")]
    pub end: Option<String>,
    /// `2026` (FY2026, "2026 v1.0", the default) or `2024` (FY2024).
    #[param(value_type = Option<crate::domain::contract_words::CsvVersionWord>)]
    pub version: Option<String>,
}

/// How many chunks may wait between the writer and the response.
const CHUNKS_IN_FLIGHT: usize = 8;
/// Bytes gathered before a chunk is sent.
const CHUNK_BYTES: usize = 64 * 1024;

/// A `Write` that sends what it is given, in chunks, down a bounded channel (blocking when the
/// client reads slowly: back-pressure instead of memory).
struct ChannelWriter {
    tx: mpsc::Sender<io::Result<Bytes>>,
    buf: Vec<u8>,
}

impl ChannelWriter {
    fn send(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(
            &mut self.buf,
            Vec::with_capacity(CHUNK_BYTES),
        ));
        self.tx
            .blocking_send(Ok(chunk))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the client went away"))
    }
}

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK_BYTES {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.buf.len() >= CHUNK_BYTES / 4 {
            self.send()?;
        }
        Ok(())
    }
}

struct Body(mpsc::Receiver<io::Result<Bytes>>);

impl futures_util::Stream for Body {
    type Item = io::Result<Bytes>;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.0.poll_recv(cx)
    }
}

/// The CoC's HMIS data as HUD HMIS CSV (a zip of the version's 24 files, header-only files
/// included), as the consent engine lets the caller see it: records it may not see are absent,
/// records it sees at level `limited` have their PII columns blank (names, SSN, DOB; their data
/// quality codes as recorded), data the datum rule withholds is absent. The agencies and
/// projects the caller may see (`GET /v1/agencies`, `GET /v1/projects`) are described whole; of
/// another agency, only the project of a stay the caller is shown, and its organization, by
/// their ids alone. Every client exported at level `full` gets an audit row. A system
/// administrator needs `X-Access-Reason`.
#[utoipa::path(
    tag = "hmis csv",
    params(ExportQuery),
    responses(
        (status = 200, description = "A zip of the 24 CSV files (CRLF, RFC 4180, UTF-8 without BOM), streamed",
            content_type = "application/zip", body = crate::api::imports::ZipArchive),
        (status = 403, description = "Not allowed to export; a system administrator without X-Access-Reason"),
        (status = 404, description = "No such CoC"),
        (status = 422, description = "coc, start, end or version missing or malformed; end before start"),
    )
)]
#[get("/exports/hmis-csv")]
async fn export_hmis_csv(
    state: web::Data<AppState>,
    caller: Caller,
    q: ApiQuery<ExportQuery>,
    http: actix_web::HttpRequest,
) -> AppResult<HttpResponse> {
    use actix_web::HttpMessage;
    let head = http
        .extensions()
        .get::<crate::api::extract::HeadRequest>()
        .is_some();
    let request = hmis_export::parse_request(
        q.coc.as_deref(),
        q.start.as_deref(),
        q.end.as_deref(),
        q.version.as_deref(),
    )?;
    let plan = run_db(&state, move |conn| {
        if head {
            hmis_export::check(conn, &caller, request)
        } else {
            hmis_export::prepare(conn, &caller, request)
        }
    })
    .await?;
    let file_name = plan.file_name();
    if head {
        // The request was checked as a GET is; nothing is read or disclosed, so nothing was
        // audited.
        return Ok(HttpResponse::Ok()
            .content_type("application/zip")
            .insert_header(ContentDisposition {
                disposition: DispositionType::Attachment,
                parameters: vec![DispositionParam::Filename(file_name)],
            })
            .finish());
    }
    let (tx, rx) = mpsc::channel(CHUNKS_IN_FLIGHT);
    let pool = state.pool.clone();
    let span = tracing::Span::current();
    actix_web::rt::task::spawn_blocking(move || {
        let _guard = span.enter();
        let failed = tx.clone();
        let sink = ChannelWriter {
            tx,
            buf: Vec::with_capacity(CHUNK_BYTES),
        };
        let result = pool
            .get()
            .map_err(crate::error::AppError::from)
            .and_then(|mut conn| hmis_export::write(&mut conn, &plan, sink, &mut ()))
            .and_then(|(summary, mut sink)| {
                sink.send().map_err(|e| {
                    crate::error::AppError::Internal(format!("writing the export: {e}"))
                })?;
                Ok(summary)
            });
        match result {
            Ok(s) => tracing::info!(
                export_id = %s.export_id,
                rows = s.files.iter().map(|(_, n)| n).sum::<u64>(),
                "HMIS CSV export written"
            ),
            Err(e) => {
                tracing::warn!(export_id = %plan.export_id, error = %e, "HMIS CSV export cut short");
                // The body ends in an error: the client sees a truncated transfer, never a zip
                // that looks complete.
                let _ = failed.blocking_send(Err(io::Error::other("the export failed")));
            }
        }
    });
    Ok(HttpResponse::Ok()
        .content_type("application/zip")
        .insert_header(ContentDisposition {
            disposition: DispositionType::Attachment,
            parameters: vec![DispositionParam::Filename(file_name)],
        })
        .streaming(Body(rx)))
}
