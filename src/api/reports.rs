//! `GET /v1/cocs/{code}/reports/...`: the CoC's aggregate reports (counts, no PII, no ids).

use actix_web::{get, web};
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::api::support::ApiQuery;
use crate::api::support::{run_db, JsonReply};
use crate::error::AppResult;
use crate::service::context::Caller;
use crate::service::reports::{self, ActiveHomelessReport};
use crate::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(active_homeless);
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AsOfQuery {
    /// The day counted (default today; not in the future).
    pub as_of: Option<NaiveDate>,
}

/// The active homeless count of a CoC on a day (Chicago): people with an active stay in its
/// projects, by project type, visibility and identity mode (anonymous, code-name, locked,
/// closed and private records included), and by-name list statuses. Counts only.
#[utoipa::path(
    tag = "coordinated entry",
    params(("code" = String, Path, description = "HUD CoC code", example = "IL-510"), AsOfQuery),
    responses(
        (status = 200, body = ActiveHomelessReport),
        (status = 400, description = "Malformed CoC code"),
        (status = 403, description = "Not a coc_admin of this CoC"),
        (status = 404, description = "No such CoC"),
        (status = 422, description = "as_of is not a date that exists, or is in the future (named in errors)"),
    )
)]
#[get("/cocs/{code}/reports/active-homeless")]
async fn active_homeless(
    state: web::Data<AppState>,
    caller: Caller,
    code: web::Path<String>,
    q: ApiQuery<AsOfQuery>,
) -> AppResult<JsonReply> {
    let code = code.into_inner();
    let as_of = q.as_of;
    let report = run_db(&state, move |conn| {
        reports::active_homeless(conn, &caller, &code, as_of)
    })
    .await?;
    JsonReply::ok(&report)
}
