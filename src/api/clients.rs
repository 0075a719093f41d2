//! `/v1/clients`: records, their access decision, visibility, designate sharing, search, audit.

use actix_web::{get, patch, post, put, web};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::api::support::ApiQuery;
use crate::api::support::{
    paginate, run_db, ApiJson, DryRunQuery, IdempotencyKeyHeader, Idempotent, IfMatch, JsonReply,
    PageQuery,
};
use crate::consent::Role;
use crate::error::{AppError, AppResult};
use crate::service::client_view::ClientAnswer;
use crate::service::clients::{self, ClientPatch, ClientWrite, NewClient};
use crate::service::context::Caller;
use crate::service::dry_run;
use crate::service::search::{self, ClientSearch, SearchResult};
use crate::service::sharing::{
    self, AccessExplanation, AskFor, AuditEvent, DesignateSharing, HelpdeskNotice, VisibilityChange,
};
use crate::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create_client)
        .service(search_clients)
        .service(get_client)
        .service(patch_client)
        .service(get_access)
        .service(put_visibility)
        .service(designate_sharing)
        .service(get_audit)
        .service(list_helpdesk_notices);
}

/// Create a client record in one identity mode (`identified`, `consent_refused`, `code_name`,
/// `anonymous`). Fields a mode refuses answer 422 naming the field, never the value.
#[utoipa::path(
    tag = "clients",
    request_body = NewClient,
    params(IdempotencyKeyHeader),
    responses(
        (status = 201, description = "Created; the record at full access, with what the server did", body = ClientWrite, headers(
            ("ETag" = String, description = "The version of the record; send it as If-Match to change it"),
            ("Location" = String, description = "The created resource"),
            ("Idempotent-Replayed" = String, description = "`true` when this answer replays the first request sent with this Idempotency-Key"),
        )),
        (status = 404, description = "A replay (same Idempotency-Key) about a record the caller may no longer see"),
        (status = 409, description = "A replay (same Idempotency-Key) after the caller's access to the record changed"),
        (status = 422, description = "A field the identity mode refuses, or an invalid value"),
    )
)]
#[post("/clients")]
async fn create_client(
    state: web::Data<AppState>,
    caller: Caller,
    body: Idempotent<ApiJson<NewClient>>,
) -> AppResult<JsonReply> {
    body.run(&state, caller, |conn, caller, body| {
        let w = clients::create(conn, caller, body.value)?;
        let (id, version) = (w.client.id, w.client.version);
        Ok(JsonReply::created(&w, format!("/v1/clients/{id}"))?
            .with_etag(version)
            .about_client(id))
    })
    .await
}

/// Read a record, decided by the consent engine. Level `none` answers 404 exactly like an
/// unknown id; level `limited` carries no PII keys. A system_admin needs `X-Access-Reason`.
/// One exception: a merged tombstone at level `none` whose survivor the caller may see answers
/// 200 with its id, `lifecycle: merged`, `merged_into` and `access: {level: none}` and nothing
/// else (`MergedTombstoneView`, no ETag); to anyone else it stays a 404.
#[utoipa::path(
    tag = "clients",
    params(
        ("id" = Uuid, Path),
        ("X-Access-Reason" = Option<String>, Header, description = "system_admin only: why this break-glass read (audited; no PII)"),
    ),
    responses(
        (status = 200, body = ClientAnswer, headers(
            ("ETag" = String, description = "The version of the record; send it as If-Match to change it (absent on a merged tombstone's pointer)"),
        )),
        (status = 404, description = "No such record, or the caller may not see it (nor, for a merged record, its survivor)"),
    )
)]
#[get("/clients/{id}")]
async fn get_client(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> AppResult<JsonReply> {
    let id = id.into_inner();
    let v = run_db(&state, move |conn| clients::get(conn, &caller, id)).await?;
    match &v {
        ClientAnswer::Record(r) => Ok(JsonReply::ok(&v)?.with_etag(r.version)),
        // Not the caller's to change: no ETag.
        ClientAnswer::Merged(_) => JsonReply::ok(&v),
    }
}

/// Update a record's identity and demographic fields (a JSON merge patch). Needs `If-Match`.
#[utoipa::path(
    tag = "clients",
    request_body = ClientPatch,
    params(("id" = Uuid, Path), ("If-Match" = String, Header, description = "The record's current ETag")),
    responses(
        (status = 200, body = ClientWrite, headers(
            ("ETag" = String, description = "The version of the record; send it as If-Match to change it"),
        )),
        (status = 404, description = "No such record, or the caller may not see it"),
        (status = 409, description = "Superseded or merged record (use_record names the one to use)"),
        (status = 412, description = "Stale If-Match"),
        (status = 428, description = "If-Match missing"),
        (status = 422, description = "Invalid fields"),
    )
)]
#[patch("/clients/{id}")]
async fn patch_client(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: ApiJson<ClientPatch>,
) -> AppResult<JsonReply> {
    let id = id.into_inner();
    let w = run_db(&state, move |conn| {
        clients::patch(conn, &caller, id, |v| if_match.check(v), body.value)
    })
    .await?;
    let version = w.client.version;
    Ok(JsonReply::ok(&w)?.with_etag(version))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AccessQuery {
    /// An admin explains the decision for this agency instead: a system_admin for any agency, a
    /// coc_admin for an agency of its CoC, an agency_admin for its own (e.g. with other `roles`);
    /// 403 for other callers, 422 `unknown_agency` for an agency the admin does not administer.
    pub agency_id: Option<Uuid>,
    /// With `agency_id`: the roles to assume, comma-separated (default `case_worker`).
    #[param(value_type = Option<Vec<crate::consent::Role>>, style = Form, explode = false)]
    pub roles: Option<String>,
}

/// The caller's access decision, explained in words by the same code that decides.
#[utoipa::path(
    tag = "clients",
    params(("id" = Uuid, Path), AccessQuery),
    responses((status = 200, body = AccessExplanation), (status = 404, description = "No such record, or the caller may not see it"))
)]
#[get("/clients/{id}/access")]
async fn get_access(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    q: ApiQuery<AccessQuery>,
) -> AppResult<JsonReply> {
    let id = id.into_inner();
    // Every role named must be a Hearth role, and roles are asked for an agency only.
    let roles = match q.roles.as_deref() {
        None => None,
        Some(list) => Some(
            list.split(',')
                .map(|r| {
                    Role::parse(r.trim()).ok_or_else(|| {
                        AppError::validation(
                            "roles",
                            "unknown_value",
                            format!(
                                "Unknown role; roles are comma-separated words of {}.",
                                Role::ALL
                                    .iter()
                                    .map(|r| r.as_str())
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ),
                        )
                    })
                })
                .collect::<AppResult<Vec<_>>>()?,
        ),
    };
    let ask_for = match (q.agency_id, roles) {
        (None, None) => None,
        (None, Some(_)) => {
            return Err(AppError::validation(
                "roles",
                "needs_agency_id",
                "roles are the roles to assume for agency_id; send agency_id with them.",
            ))
        }
        (Some(agency_id), roles) => Some(AskFor {
            agency_id,
            roles: roles.unwrap_or_else(|| vec![Role::CaseWorker]),
        }),
    };
    let e = run_db(&state, move |conn| {
        sharing::explain(conn, &caller, id, ask_for)
    })
    .await?;
    JsonReply::ok(&e)
}

/// Make a record open, closed, private or locked (creating agency or system_admin), as its
/// identity mode allows at creation (consent-refused: never locked; code-name: locked until
/// designate sharing). Private and locked need that no other agency has contributed; private,
/// no active CE enrollment; open (identified records), an ROI that has not ended: active, or
/// taking effect later; the answer warns when it is not active for the record's CoC today.
#[utoipa::path(
    tag = "clients",
    request_body = VisibilityChange,
    params(("id" = Uuid, Path), DryRunQuery, ("If-Match" = Option<String>, Header, description = "Optional: the record's current ETag")),
    responses(
        (status = 200, body = ClientWrite, headers(
            ("ETag" = String, description = "The version of the record after the change; send it as If-Match to change it. Absent on a dry run: the record keeps its version and its ETag"),
            ("Hearth-Dry-Run" = String, description = "`true` on a dry run: the answer of the change, none of it committed"),
        )),
        (status = 404, description = "No such record, or the caller may not see it"),
        (status = 409, description = "The change is not allowed now; detail says why"),
        (status = 412, description = "Stale If-Match"),
        (status = 422, description = "Unknown visibility"),
    )
)]
#[put("/clients/{id}/visibility")]
async fn put_visibility(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    req: actix_web::HttpRequest,
    q: ApiQuery<DryRunQuery>,
    body: ApiJson<VisibilityChange>,
) -> AppResult<actix_web::HttpResponse> {
    let id = id.into_inner();
    let if_match = match req.headers().get(actix_web::http::header::IF_MATCH) {
        None => None,
        Some(_) => {
            let m = <IfMatch as actix_web::FromRequest>::extract(&req).await?;
            Some(Box::new(move |v| m.check(v)) as Box<dyn FnOnce(i32) -> AppResult<()> + Send>)
        }
    };
    let dry = q.is_dry();
    let w = run_db(&state, move |conn| {
        dry_run::run_about(conn, dry, &caller, id, |conn| {
            sharing::set_visibility(conn, &caller, id, if_match, body.value)
        })
    })
    .await?;
    let version = w.client.version;
    Ok(q.mark(JsonReply::ok(&w)?.with_etag(version)))
}

/// Chicago: once consent is received, a code-name or locked record becomes identified with the
/// visibility the client chooses.
#[utoipa::path(
    tag = "clients",
    request_body = DesignateSharing,
    params(("id" = Uuid, Path), DryRunQuery, IdempotencyKeyHeader),
    responses(
        (status = 200, body = ClientWrite, headers(
            ("ETag" = String, description = "The version of the record after the change; send it as If-Match to change it. Absent on a dry run: the record keeps its version and its ETag"),
            ("Hearth-Dry-Run" = String, description = "`true` on a dry run: the answer of the change, none of it committed"),
        )),
        (status = 404, description = "No such record, or the caller may not see it"),
        (status = 409, description = "Not a code-name or locked record, or the visibility is not allowed now"),
        (status = 422, description = "Invalid fields"),
    )
)]
#[post("/clients/{id}/designate-sharing")]
async fn designate_sharing(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    q: ApiQuery<DryRunQuery>,
    body: Idempotent<ApiJson<DesignateSharing>>,
) -> AppResult<actix_web::HttpResponse> {
    let id = id.into_inner();
    let dry = q.is_dry();
    let reply = body
        .unless_dry(dry)
        .run(&state, caller, move |conn, caller, body| {
            let w = dry_run::run_about(conn, dry, caller, id, |conn| {
                sharing::designate_sharing(conn, caller, id, body.value)
            })?;
            let version = w.client.version;
            Ok(JsonReply::ok(&w)?.with_etag(version).about_client(id))
        })
        .await?;
    Ok(q.mark(reply))
}

/// Duplicate search, answering only what the caller may see. PII travels in the body, never the URL.
#[utoipa::path(
    tag = "clients",
    request_body = ClientSearch,
    params(("X-Access-Reason" = Option<String>, Header, description = "system_admin only: why (audited; no PII)")),
    responses((status = 200, body = SearchResult), (status = 422, description = "No criteria, or invalid ones"))
)]
#[post("/clients/search")]
async fn search_clients(
    state: web::Data<AppState>,
    caller: Caller,
    body: ApiJson<ClientSearch>,
) -> AppResult<JsonReply> {
    let r = run_db(&state, move |conn| {
        search::search(conn, &caller, body.value)
    })
    .await?;
    JsonReply::ok(&r)
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct AuditPage {
    pub items: Vec<AuditEvent>,
    pub next_cursor: Option<String>,
}

/// The record's accounting of disclosures (creating agency's agency_admin, the CoC's
/// coc_admin, system_admin). Oldest first.
#[utoipa::path(
    tag = "clients",
    params(("id" = Uuid, Path), PageQuery),
    responses((status = 200, body = AuditPage), (status = 404, description = "No such record, or the caller may not see it"))
)]
#[get("/clients/{id}/audit")]
async fn get_audit(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    q: ApiQuery<PageQuery>,
) -> AppResult<JsonReply> {
    let id = id.into_inner();
    let limit = q.limit()?;
    let list = format!("audit/{id}");
    let after: Option<i64> = q.after(&list)?;
    let rows = run_db(&state, move |conn| {
        sharing::audit_trail(conn, &caller, id, after, limit + 1)
    })
    .await?;
    let (items, next_cursor) = paginate(rows, limit, &list, |e| e.id);
    JsonReply::ok(&AuditPage { items, next_cursor })
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct NoticePage {
    pub items: Vec<HelpdeskNotice>,
    pub next_cursor: Option<String>,
}

/// What the server did that a helpdesk used to do by hand (coc_admin: its CoC's; system_admin: all).
#[utoipa::path(tag = "clients", params(PageQuery), responses((status = 200, body = NoticePage)))]
#[get("/helpdesk-notices")]
async fn list_helpdesk_notices(
    state: web::Data<AppState>,
    caller: Caller,
    q: ApiQuery<PageQuery>,
) -> AppResult<JsonReply> {
    let limit = q.limit()?;
    let after: Option<Uuid> = q.after("helpdesk-notices")?;
    let rows = run_db(&state, move |conn| {
        sharing::helpdesk_notices(conn, &caller, after, limit + 1)
    })
    .await?;
    let (items, next_cursor) = paginate(rows, limit, "helpdesk-notices", |n| n.id);
    JsonReply::ok(&NoticePage { items, next_cursor })
}
