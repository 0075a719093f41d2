//! `/v1/deidentification-requests`: the Spokane de-identification workflow.

use actix_web::{get, post, web, HttpResponse};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::api::support::ApiQuery;
use crate::api::support::{
    paginate, run_db, ApiJson, DryRunQuery, IdempotencyKeyHeader, Idempotent, JsonReply, NoBody,
    PageQuery,
};
use crate::error::AppResult;
use crate::service::context::Caller;
use crate::service::deidentify::{
    self, DeidentificationOutcome, DeidentificationRequest, NewDeidentificationRequest,
    RejectDeidentification,
};
use crate::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(file_request)
        .service(list_requests)
        .service(get_request)
        .service(complete_request)
        .service(reject_request);
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct DeidentificationPage {
    pub items: Vec<DeidentificationRequest>,
    pub next_cursor: Option<String>,
}

/// File a request to make a client (the head of household) and listed household members
/// anonymous; members fleeing domestic violence are also removed from the household. The
/// description is refused when it holds PII, the names of the request's records included, or
/// the first and last name of any client (the CoC's admins read it without PII). While the request is pending, neither record of a merge
/// may be one it names (its client, members and listed duplicates), but for the merge it asks
/// for: a listed duplicate merged into a record it de-identifies. Records a helpdesk notice.
#[utoipa::path(
    tag = "deidentification",
    request_body = NewDeidentificationRequest,
    params(DryRunQuery, IdempotencyKeyHeader),
    responses(
        (status = 201, body = DeidentificationOutcome, headers(
            ("Location" = String, description = "The created resource (absent on a dry run: nothing was stored)"),
            ("Idempotent-Replayed" = String, description = "`true` when this answer replays the first request sent with this Idempotency-Key"),
            ("Hearth-Dry-Run" = String, description = "`true` on a dry run: the answer of the change, none of it committed (no request filed, no helpdesk notice)"),
        )),
        (status = 404, description = "No such client, or the caller may not see it"),
        (status = 409, description = "A request for this client is pending, or the record is superseded or merged"),
        (status = 422, description = "A member not in the household, an unlisted household member, PII in the description (a PII pattern, or a name, alias, SSN or date of birth of a record of the request the filer sees in full: `names_the_client`). The description is read by the filing agency and system administrators only; a CoC admin reads it as null"),
    )
)]
#[post("/deidentification-requests")]
async fn file_request(
    state: web::Data<AppState>,
    caller: Caller,
    q: ApiQuery<DryRunQuery>,
    body: Idempotent<ApiJson<NewDeidentificationRequest>>,
) -> AppResult<HttpResponse> {
    let dry = q.is_dry();
    // The answer holds ids and words, no PII: a replay is not decided again.
    let reply = body
        .unless_dry(dry)
        .run(&state, caller, move |conn, caller, body| {
            let o = deidentify::file(conn, caller, body.value, dry)?;
            let id = o.request.id;
            JsonReply::created(&o, format!("/v1/deidentification-requests/{id}"))
        })
        .await?;
    Ok(q.mark(reply))
}

/// Requests, oldest first: an agency's own, a coc_admin's CoC's, all for a system_admin. For
/// case workers, agency admins, CE assessors, coc_admins and system admins (a priority list
/// reader is refused: 403).
#[utoipa::path(
    tag = "deidentification",
    params(PageQuery),
    responses((status = 200, body = DeidentificationPage))
)]
#[get("/deidentification-requests")]
async fn list_requests(
    state: web::Data<AppState>,
    caller: Caller,
    q: ApiQuery<PageQuery>,
) -> AppResult<JsonReply> {
    let limit = q.limit()?;
    let after: Option<Uuid> = q.after("deidentification-requests")?;
    let rows = run_db(&state, move |conn| {
        deidentify::list(conn, &caller, after, limit + 1)
    })
    .await?;
    let (items, next_cursor) = paginate(rows, limit, "deidentification-requests", |r| r.id);
    JsonReply::ok(&DeidentificationPage { items, next_cursor })
}

/// One request (where filing's `Location` points), to whoever lists it: an agency's own, a
/// coc_admin's CoC's, any for a system_admin; 404 outside that.
#[utoipa::path(
    tag = "deidentification",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = DeidentificationRequest), (status = 404, description = "No such request, or not one the caller lists"))
)]
#[get("/deidentification-requests/{id}")]
async fn get_request(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> AppResult<JsonReply> {
    let id = id.into_inner();
    let r = run_db(&state, move |conn| deidentify::get(conn, &caller, id)).await?;
    JsonReply::ok(&r)
}

/// Complete a pending request (system_admin), in one transaction: each record becomes
/// anonymous in the CoC policy's form (its id stays), and so does every record merged into it
/// (a tombstone whose `merged_into` chain leads to it); contacts and documents are deleted, and
/// the former values are scrubbed from every table. After the answer, the touched tables are
/// vacuumed so dead row versions and index entries do not keep the old values.
#[utoipa::path(
    tag = "deidentification",
    params(("id" = Uuid, Path), DryRunQuery, IdempotencyKeyHeader),
    responses(
        (status = 200, body = DeidentificationOutcome, headers(
            ("Hearth-Dry-Run" = String, description = "`true` on a dry run: the answer of the change, none of it committed"),
        )),
        (status = 404, description = "No such request"),
        (status = 409, description = "The request is already completed or rejected"),
    )
)]
#[post("/deidentification-requests/{id}/complete")]
async fn complete_request(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    q: ApiQuery<DryRunQuery>,
    body: Idempotent<NoBody>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let dry = q.is_dry();
    let reply = body
        .unless_dry(dry)
        .run(&state, caller, move |conn, caller, NoBody| {
            JsonReply::ok(&deidentify::complete(conn, caller, id, dry)?)
        })
        .await?;
    if !dry && !reply.replayed {
        // After the answer, on a connection of its own: its cost grows with the tables.
        let state = state.clone();
        actix_web::rt::spawn(async move {
            if let Err(e) = run_db(&state, deidentify::vacuum_after).await {
                tracing::warn!(error = %e, "vacuum after de-identification failed; autovacuum will reclaim the dead rows");
            }
        });
    }
    Ok(q.mark(reply))
}

/// Reject a pending request with a reason (system_admin); nothing changes.
#[utoipa::path(
    tag = "deidentification",
    request_body = RejectDeidentification,
    params(("id" = Uuid, Path), IdempotencyKeyHeader),
    responses(
        (status = 200, body = DeidentificationOutcome),
        (status = 404, description = "No such request"),
        (status = 409, description = "The request is already completed or rejected"),
        (status = 422, description = "No reason, or PII in it: a PII pattern, or a name, alias, SSN or date of birth of a record of the request (`names_the_client`), or any client's first and last name (`names_a_client`)"),
    )
)]
#[post("/deidentification-requests/{id}/reject")]
async fn reject_request(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: Idempotent<ApiJson<RejectDeidentification>>,
) -> AppResult<JsonReply> {
    let id = id.into_inner();
    body.run(&state, caller, move |conn, caller, body| {
        JsonReply::ok(&deidentify::reject(conn, caller, id, body.value)?)
    })
    .await
}
