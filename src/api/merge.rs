//! `POST /v1/clients/{id}/merge`: a duplicate record merged into this one.

use actix_web::{post, web, HttpResponse};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::api::support::{
    ApiJson, ApiQuery, DryRunQuery, IdempotencyKeyHeader, Idempotent, JsonReply,
};
use crate::error::AppResult;
use crate::service::context::Caller;
use crate::service::merge::{self, MergeClients, MergeOutcome};
use crate::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(merge_client);
}

/// Merge `duplicate_id` into this record (system_admin, or the agency_admin of the agency that
/// created both), with `confirm_same_person: true`. In one transaction every stay, datum,
/// contact, document, ROI and contribution moves here; the duplicate becomes a tombstone naming
/// this record; this record takes the more restrictive visibility; both share one person_id.
/// Warnings say what the caller should know: the visibility it could not keep, different
/// identity modes, a client the merge takes off the Coordinated Entry priority list, and, for
/// each record, the agencies that gain its data (the duplicate's contributors gaining this
/// record; this record's creator and contributors gaining the duplicate's). A private or locked
/// record is never merged where an agency that could not see it would see the merged record.
#[utoipa::path(
    tag = "clients",
    request_body = MergeClients,
    params(("id" = Uuid, Path), DryRunQuery, IdempotencyKeyHeader),
    responses(
        (status = 200, body = MergeOutcome, headers(
            ("Hearth-Dry-Run" = String, description = "`true` on a dry run: the answer of the change, none of it committed"),
        )),
        (status = 403, description = "Not a system_admin, or an agency_admin merging a record its agency did not create"),
        (status = 404, description = "No such record, or the caller may not see it"),
        (status = 409, description = "A tombstone (use_record names the survivor to those who may see it), or records that cannot be merged: `different-coc`; `identity-modes-differ` (a de-identified record, anonymous or consent_refused, merges only with a record of its own identity mode, either way); `restricted-record-would-be-shared` (either record is private or locked, and the merged record would be seen by an agency that could not see it: another agency created or contributed to the other record, or the other record is open with an ROI); `deidentification-pending` (a pending de-identification request names either record, as its client, a member or a listed duplicate: it is completed or rejected first; only a duplicate it lists may meanwhile be merged into a record it de-identifies)"),
        (status = 422, description = "No confirmation, or a record merged into itself"),
    )
)]
#[post("/clients/{id}/merge")]
async fn merge_client(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    q: ApiQuery<DryRunQuery>,
    body: Idempotent<ApiJson<MergeClients>>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let dry = q.is_dry();
    let reply = body
        .unless_dry(dry)
        .run(&state, caller, move |conn, caller, body| {
            let o = merge::merge(conn, caller, id, body.value, dry)?;
            Ok(JsonReply::ok(&o)?.about_client(id))
        })
        .await?;
    Ok(q.mark(reply))
}
