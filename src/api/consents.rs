//! `/v1/clients/{id}/consents`: ROI grant, history, revocation.

use actix_web::{get, post, web, HttpResponse};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::api::support::ApiQuery;
use crate::api::support::{
    create_idempotent_about_client, run_db, ApiJson, DryRunQuery, IdempotencyKey, JsonReply,
    OptionalApiJson,
};
use crate::error::AppResult;
use crate::service::consents::{self, ConsentOutcome, NewRoi, RevokeRoi, RoiView};
use crate::service::context::Caller;
use crate::service::dry_run;
use crate::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(grant).service(list).service(revoke);
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ConsentList {
    pub items: Vec<RoiView>,
}

/// Record an ROI. In the CoC's `window` mode the record becomes open; data collected from
/// `effective_from` on is shared, earlier data stays with whoever entered it.
#[utoipa::path(
    tag = "consents",
    request_body = NewRoi,
    params(("id" = Uuid, Path), DryRunQuery, ("Idempotency-Key" = Option<String>, Header, description = "Replays answer the first result.")),
    responses(
        (status = 201, body = ConsentOutcome, headers(
            ("Location" = String, description = "The created resource"),
            ("Idempotent-Replayed" = String, description = "`true` when this answer replays the first request sent with this Idempotency-Key"),
            ("Hearth-Dry-Run" = String, description = "`true` on a dry run: the answer of the change, none of it committed"),
        )),
        (status = 404, description = "No such record, or the caller may not see it"),
        (status = 409, description = "Superseded/merged record, or the CoC uses split mode"),
        (status = 422, description = "Invalid ROI (ends before it starts, unknown CoC in scope)"),
    )
)]
#[post("/clients/{id}/consents")]
async fn grant(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    key: IdempotencyKey,
    q: ApiQuery<DryRunQuery>,
    body: ApiJson<NewRoi>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    if q.is_dry() {
        // Nothing is committed, so nothing is stored under the key either.
        let o = run_db(&state, move |conn| {
            dry_run::run(conn, true, |conn| {
                consents::grant(conn, &caller, id, body.value)
            })
        })
        .await?;
        let cid = o.consent.id;
        return Ok(q.mark(JsonReply::created(
            &o,
            format!("/v1/clients/{id}/consents/{cid}"),
        )?));
    }
    let replayer = caller.clone();
    create_idempotent_about_client(
        &state,
        &replayer,
        key,
        "POST /v1/clients/{id}/consents",
        format!("{id} {}", body.digest),
        move |conn| {
            let o = consents::grant(conn, &caller, id, body.value)?;
            let cid = o.consent.id;
            Ok(
                JsonReply::created(&o, format!("/v1/clients/{id}/consents/{cid}"))?
                    .about_client(id),
            )
        },
    )
    .await
    .map(JsonReply::into_response)
}

/// The record's ROI history, oldest first.
#[utoipa::path(
    tag = "consents",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = ConsentList), (status = 404, description = "No such record, or the caller may not see it"))
)]
#[get("/clients/{id}/consents")]
async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> AppResult<JsonReply> {
    let id = id.into_inner();
    let items = run_db(&state, move |conn| consents::list(conn, &caller, id)).await?;
    JsonReply::ok(&ConsentList { items })
}

/// Revoke an ROI. With no other ROI active the record closes; where other agencies have data
/// they keep it as contributors (scenario 2), and a helpdesk notice is recorded.
#[utoipa::path(
    tag = "consents",
    request_body(content = Option<RevokeRoi>, description = "Optional: send no body to revoke as of today"),
    params(("id" = Uuid, Path), ("consent_id" = Uuid, Path), DryRunQuery),
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
    body: OptionalApiJson<RevokeRoi>,
) -> AppResult<HttpResponse> {
    let (id, consent_id) = path.into_inner();
    // The body is optional (revoked_on defaults to today), but when sent it is parsed strictly.
    let input = body.0;
    let dry = q.is_dry();
    let o = run_db(&state, move |conn| {
        dry_run::run(conn, dry, |conn| {
            consents::revoke(conn, &caller, id, consent_id, input)
        })
    })
    .await?;
    Ok(q.mark(JsonReply::ok(&o)?))
}
