//! `/v1/cocs`: Continuums of Care and their consent policy.

use actix_web::{get, patch, post, web};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::api::support::ApiQuery;
use crate::api::support::{
    paginate, run_db, ApiJson, IdempotencyKeyHeader, Idempotent, IfMatch, JsonReply, PageQuery,
};
use crate::auth::Principal;
use crate::error::AppResult;
use crate::service::tenants::{self, Coc, NewCoc, PolicyPatch};
use crate::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create_coc)
        .service(list_cocs)
        .service(get_coc)
        .service(patch_policy);
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct CocPage {
    pub items: Vec<Coc>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// Create a CoC (system_admin).
#[utoipa::path(
    tag = "tenants",
    request_body = NewCoc,
    params(IdempotencyKeyHeader),
    responses(
        (status = 201, description = "Created", body = Coc, headers(
            ("ETag" = String, description = "The version of the record; send it as If-Match to change it"),
            ("Location" = String, description = "The created resource"),
            ("Idempotent-Replayed" = String, description = "`true` when this answer replays the first request sent with this Idempotency-Key"),
        )),
        (status = 409, description = "A CoC with this code exists"),
        (status = 422, description = "Invalid fields"),
    )
)]
#[post("/cocs")]
async fn create_coc(
    state: web::Data<AppState>,
    p: Principal,
    body: Idempotent<ApiJson<NewCoc>>,
) -> AppResult<JsonReply> {
    body.run_as(&state, p, |conn, p, body| {
        let coc = tenants::create_coc(conn, p, body.value)?;
        Ok(JsonReply::created(&coc, format!("/v1/cocs/{}", coc.code))?.with_etag(coc.version))
    })
    .await
}

/// List CoCs, ordered by code.
#[utoipa::path(tag = "tenants", params(PageQuery), responses((status = 200, body = CocPage)))]
#[get("/cocs")]
async fn list_cocs(
    state: web::Data<AppState>,
    _p: Principal,
    q: ApiQuery<PageQuery>,
) -> AppResult<JsonReply> {
    let limit = q.limit()?;
    let after: Option<String> = q.after("cocs")?;
    let rows = run_db(&state, move |conn| {
        tenants::list_cocs(conn, after, limit + 1)
    })
    .await?;
    let (items, next_cursor) = paginate(rows, limit, "cocs", |c| c.code.clone());
    JsonReply::ok(&CocPage { items, next_cursor })
}

/// Read a CoC and its policy.
#[utoipa::path(
    tag = "tenants",
    params(("code" = String, Path, description = "HUD CoC code", example = "IL-510")),
    responses(
        (status = 200, body = Coc, headers(
            ("ETag" = String, description = "The version of the record; send it as If-Match to change it"),
        )),
        (status = 404, description = "No such CoC"),
    )
)]
#[get("/cocs/{code}")]
async fn get_coc(
    state: web::Data<AppState>,
    _p: Principal,
    code: web::Path<String>,
) -> AppResult<JsonReply> {
    let code = code.into_inner();
    let coc = run_db(&state, move |conn| tenants::get_coc(conn, &code)).await?;
    Ok(JsonReply::ok(&coc)?.with_etag(coc.version))
}

/// Change a CoC's consent policy (its coc_admin, or a system_admin). Needs `If-Match`.
#[utoipa::path(
    tag = "tenants",
    request_body = PolicyPatch,
    params(
        ("code" = String, Path, description = "HUD CoC code"),
        ("If-Match" = String, Header, description = "The CoC's current ETag"),
    ),
    responses(
        (status = 200, body = Coc, headers(
            ("ETag" = String, description = "The version of the record; send it as If-Match to change it"),
        )),
        (status = 404, description = "No such CoC"),
        (status = 412, description = "Stale If-Match"),
        (status = 428, description = "If-Match missing"),
        (status = 422, description = "Invalid fields"),
    )
)]
#[patch("/cocs/{code}/policy")]
async fn patch_policy(
    state: web::Data<AppState>,
    p: Principal,
    code: web::Path<String>,
    if_match: IfMatch,
    body: ApiJson<PolicyPatch>,
) -> AppResult<JsonReply> {
    let code = code.into_inner();
    let coc = run_db(&state, move |conn| {
        tenants::update_policy(conn, &p, &code, |v| if_match.check(v), body.value)
    })
    .await?;
    Ok(JsonReply::ok(&coc)?.with_etag(coc.version))
}
