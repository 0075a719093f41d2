//! `/v1/agencies` and `/v1/projects`.

use actix_web::{get, post, web};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::api::support::ApiQuery;
use crate::api::support::{
    paginate, run_db, ApiJson, IdempotencyKeyHeader, Idempotent, JsonReply, PageQuery,
};
use crate::auth::Principal;
use crate::error::AppResult;
use crate::service::tenants::{self, Agency, NewAgency, NewProject, Project};
use crate::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create_agency)
        .service(list_agencies)
        .service(get_agency)
        .service(create_project)
        .service(list_projects)
        .service(get_project);
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct AgencyPage {
    pub items: Vec<Agency>,
    pub next_cursor: Option<String>,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ProjectPage {
    pub items: Vec<Project>,
    pub next_cursor: Option<String>,
}

/// Create an agency (system_admin).
#[utoipa::path(
    tag = "tenants",
    request_body = NewAgency,
    params(IdempotencyKeyHeader),
    responses(
        (status = 201, body = Agency, headers(
            ("ETag" = String, description = "The version of the record; send it as If-Match to change it"), ("Location" = String, description = "The created resource"), ("Idempotent-Replayed" = String, description = "`true` when this answer replays the first request sent with this Idempotency-Key"),
        )),
        (status = 422, description = "Invalid fields or unknown CoC"),
    )
)]
#[post("/agencies")]
async fn create_agency(
    state: web::Data<AppState>,
    p: Principal,
    body: Idempotent<ApiJson<NewAgency>>,
) -> AppResult<JsonReply> {
    body.run_as(&state, p, |conn, p, body| {
        let a = tenants::create_agency(conn, p, body.value)?;
        Ok(JsonReply::created(&a, format!("/v1/agencies/{}", a.id))?.with_etag(a.version))
    })
    .await
}

/// List the agencies the caller may see: its own CoC's and those taking part in sharing
/// (all, for a system_admin).
#[utoipa::path(tag = "tenants", params(PageQuery), responses((status = 200, body = AgencyPage)))]
#[get("/agencies")]
async fn list_agencies(
    state: web::Data<AppState>,
    p: Principal,
    q: ApiQuery<PageQuery>,
) -> AppResult<JsonReply> {
    let limit = q.limit()?;
    let after: Option<Uuid> = q.after("agencies")?;
    let rows = run_db(&state, move |conn| {
        tenants::list_agencies(conn, &p, after, limit + 1)
    })
    .await?;
    let (items, next_cursor) = paginate(rows, limit, "agencies", |a| a.id);
    JsonReply::ok(&AgencyPage { items, next_cursor })
}

/// Read an agency.
#[utoipa::path(
    tag = "tenants",
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = Agency, headers(
            ("ETag" = String, description = "The version of the record; send it as If-Match to change it"),
        )),
        (status = 404, description = "Unknown or not visible"),
    )
)]
#[get("/agencies/{id}")]
async fn get_agency(
    state: web::Data<AppState>,
    p: Principal,
    id: web::Path<Uuid>,
) -> AppResult<JsonReply> {
    let id = id.into_inner();
    let a = run_db(&state, move |conn| tenants::get_agency(conn, &p, id)).await?;
    Ok(JsonReply::ok(&a)?.with_etag(a.version))
}

/// Create a project (system_admin).
#[utoipa::path(
    tag = "tenants",
    request_body = NewProject,
    params(IdempotencyKeyHeader),
    responses(
        (status = 201, body = Project, headers(
            ("ETag" = String, description = "The version of the record; send it as If-Match to change it"), ("Location" = String, description = "The created resource"), ("Idempotent-Replayed" = String, description = "`true` when this answer replays the first request sent with this Idempotency-Key"),
        )),
        (status = 422, description = "Invalid fields, unknown agency or project type"),
    )
)]
#[post("/projects")]
async fn create_project(
    state: web::Data<AppState>,
    p: Principal,
    body: Idempotent<ApiJson<NewProject>>,
) -> AppResult<JsonReply> {
    body.run_as(&state, p, |conn, p, body| {
        let pr = tenants::create_project(conn, p, body.value)?;
        Ok(JsonReply::created(&pr, format!("/v1/projects/{}", pr.id))?.with_etag(pr.version))
    })
    .await
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProjectFilter {
    /// Only this agency's projects.
    pub agency_id: Option<Uuid>,
}

/// List the projects of the agencies the caller may see.
#[utoipa::path(tag = "tenants", params(PageQuery, ProjectFilter), responses((status = 200, body = ProjectPage)))]
#[get("/projects")]
async fn list_projects(
    state: web::Data<AppState>,
    p: Principal,
    q: ApiQuery<PageQuery>,
    f: ApiQuery<ProjectFilter>,
) -> AppResult<JsonReply> {
    let limit = q.limit()?;
    let after: Option<Uuid> = q.after("projects")?;
    let agency = f.agency_id;
    let rows = run_db(&state, move |conn| {
        tenants::list_projects(conn, &p, agency, after, limit + 1)
    })
    .await?;
    let (items, next_cursor) = paginate(rows, limit, "projects", |p| p.id);
    JsonReply::ok(&ProjectPage { items, next_cursor })
}

/// Read a project.
#[utoipa::path(
    tag = "tenants",
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = Project, headers(
            ("ETag" = String, description = "The version of the record; send it as If-Match to change it"),
        )),
        (status = 404, description = "Unknown or not visible"),
    )
)]
#[get("/projects/{id}")]
async fn get_project(
    state: web::Data<AppState>,
    p: Principal,
    id: web::Path<Uuid>,
) -> AppResult<JsonReply> {
    let id = id.into_inner();
    let pr = run_db(&state, move |conn| tenants::get_project(conn, &p, id)).await?;
    Ok(JsonReply::ok(&pr)?.with_etag(pr.version))
}
