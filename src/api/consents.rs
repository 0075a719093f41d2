//! `/v1/clients/{id}/consents`: ROI grant, history, revocation.

use actix_web::{get, post, web, HttpResponse};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::api::pages::{page_of, PageQuery};
use crate::api::support::ApiQuery;
use crate::api::support::{
    run_db, ApiJson, DryRunQuery, IdempotencyKeyHeader, Idempotent, JsonReply, OptionalApiJson,
};
use crate::error::AppResult;
use crate::service::consents::{self, ConsentOutcome, NewRoi, RevokeRoi, RoiView};
use crate::service::context::Caller;
use crate::service::dry_run;
use crate::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(grant)
        .service(list)
        .service(get_one)
        .service(revoke);
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ConsentList {
    pub items: Vec<RoiView>,
    pub next_cursor: Option<String>,
}

/// Record an ROI. One that has not ended (active, or taking effect later) opens the record: in
/// the CoC's `window` mode the record itself (warning when the ROI takes effect later or its
/// scope leaves out the record's CoC), in `split` mode a new record. Data collected from
/// `effective_from` on is shared, earlier data stays with whoever entered it. An ROI that has
/// already expired is kept as history and opens nothing.
#[utoipa::path(
    tag = "consents",
    request_body = NewRoi,
    params(("id" = Uuid, Path), DryRunQuery, IdempotencyKeyHeader),
    responses(
        (status = 201, body = ConsentOutcome, headers(
            ("Location" = String, description = "The created resource (absent on a dry run: nothing was stored)"),
            ("Idempotent-Replayed" = String, description = "`true` when this answer replays the first request sent with this Idempotency-Key"),
            ("Hearth-Dry-Run" = String, description = "`true` on a dry run: the answer of the change, none of it committed"),
        )),
        (status = 404, description = "No such record, or the caller may not see it"),
        (status = 409, description = "Superseded or merged record"),
        (status = 422, description = "Invalid ROI (ends before it starts, unknown CoC in scope)"),
    )
)]
#[post("/clients/{id}/consents")]
async fn grant(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    q: ApiQuery<DryRunQuery>,
    body: Idempotent<ApiJson<NewRoi>>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let dry = q.is_dry();
    let reply = body
        .unless_dry(dry)
        .run(&state, caller, move |conn, caller, body| {
            let o = dry_run::run_about(conn, dry, caller, id, |conn| {
                consents::grant(conn, caller, id, body.value)
            })?;
            let cid = o.consent.id;
            Ok(
                JsonReply::created(&o, format!("/v1/clients/{id}/consents/{cid}"))?
                    .about_client(id),
            )
        })
        .await?;
    Ok(q.mark(reply))
}

/// The record's ROI history, oldest first.
#[utoipa::path(
    tag = "consents",
    params(("id" = Uuid, Path), PageQuery),
    responses((status = 200, body = ConsentList), (status = 404, description = "No such record, or the caller may not see it"))
)]
#[get("/clients/{id}/consents")]
async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    q: ApiQuery<PageQuery>,
) -> AppResult<JsonReply> {
    let id = id.into_inner();
    let list = format!("consents:{id}");
    q.check(&list)?;
    let items = run_db(&state, move |conn| consents::list(conn, &caller, id)).await?;
    let (items, next_cursor) = page_of(items, &q, &list, |c| c.id)?;
    JsonReply::ok(&ConsentList { items, next_cursor })
}

/// One ROI of the record (where a grant's `Location` points), decided as the history is.
#[utoipa::path(
    tag = "consents",
    params(("id" = Uuid, Path), ("consent_id" = Uuid, Path)),
    responses((status = 200, body = RoiView), (status = 404, description = "No such record or consent, or the caller may not see it"))
)]
#[get("/clients/{id}/consents/{consent_id}")]
async fn get_one(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
) -> AppResult<JsonReply> {
    let (id, consent_id) = path.into_inner();
    let roi = run_db(&state, move |conn| {
        consents::get(conn, &caller, id, consent_id)
    })
    .await?;
    JsonReply::ok(&roi)
}

/// Revoke an ROI. While another ROI of the record has not ended the record stays open
/// (scenario `another_roi_active`); otherwise it closes, and where other agencies have data
/// they keep it as contributors (scenario 2). A helpdesk notice is recorded.
#[utoipa::path(
    tag = "consents",
    request_body(content = Option<RevokeRoi>, description = "Optional: send no body to revoke as of today"),
    params(("id" = Uuid, Path), ("consent_id" = Uuid, Path), DryRunQuery, IdempotencyKeyHeader),
    responses(
        (status = 200, body = ConsentOutcome, headers(
            ("Hearth-Dry-Run" = String, description = "`true` on a dry run: the answer of the change, none of it committed"),
        )),
        (status = 404, description = "No such record or consent"),
        (status = 409, description = "Already revoked or expired"),
        (status = 422, description = "revoked_on in the future"),
    )
)]
#[post("/clients/{id}/consents/{consent_id}/revoke")]
async fn revoke(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
    q: ApiQuery<DryRunQuery>,
    body: Idempotent<OptionalApiJson<RevokeRoi>>,
) -> AppResult<HttpResponse> {
    let (id, consent_id) = path.into_inner();
    // The body is optional (revoked_on defaults to today), but when sent it is parsed strictly.
    let dry = q.is_dry();
    let reply = body
        .unless_dry(dry)
        .run(&state, caller, move |conn, caller, body| {
            let o = dry_run::run_about(conn, dry, caller, id, |conn| {
                consents::revoke(conn, caller, id, consent_id, body.0)
            })?;
            Ok(JsonReply::ok(&o)?.about_client(id))
        })
        .await?;
    Ok(q.mark(reply))
}
