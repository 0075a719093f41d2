//! `/v1/clients/{id}/enrollments` and `/v1/enrollments/{id}/...`: stays, households, and the
//! data attached to a stay.

use actix_web::{get, post, web};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::api::pages::{page_of, PageQuery};
use crate::api::support::{
    run_db, ApiJson, ApiQuery, IdempotencyKeyHeader, Idempotent, JsonReply, NoBody,
};
use crate::error::AppResult;
use crate::service::context::Caller;
use crate::service::hmis_records::{self, HmisRecord};
use crate::service::stay_data::{
    self, NewAssessment, NewCaseNote, NewCeEvent, NewCurrentLivingSituation, NewRefusal,
    NewService, NewStayDatum, StayDatum, StayDatumKind, StayDatumWrite,
};
use crate::service::stays::{self, EnrollmentView, EnrollmentWrite, ExitStay, NewEnrollment};
use crate::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create_enrollment)
        .service(list_enrollments)
        .service(get_enrollment)
        .service(exit_enrollment)
        .service(remove_from_household)
        .service(add_service)
        .service(list_services)
        .service(add_assessment)
        .service(list_assessments)
        .service(add_ce_event)
        .service(list_ce_events)
        .service(add_current_living_situation)
        .service(list_current_living_situations)
        .service(add_note)
        .service(list_notes)
        .service(add_refusal)
        .service(list_refusals)
        .service(list_hmis_records)
        .service(list_client_hmis_records);
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct HmisRecordList {
    pub items: Vec<HmisRecord>,
    pub next_cursor: Option<String>,
}

/// The source rows an HMIS CSV import kept of the stay (its Enrollment and Exit rows, and the
/// rows of the enrollment-level files: IncomeBenefits, HealthAndDV, Disabilities, ...) that the
/// caller may see (datum rule), in the order they came. Below full access, free text, the
/// domestic-violence columns and HIV/AIDS rows are left out.
#[utoipa::path(
    tag = "stays",
    params(("id" = Uuid, Path), PageQuery),
    responses((status = 200, body = HmisRecordList), (status = 404, description = "No such stay, or the caller may not see it"))
)]
#[get("/enrollments/{id}/hmis-records")]
async fn list_hmis_records(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    q: ApiQuery<PageQuery>,
) -> AppResult<JsonReply> {
    let id = id.into_inner();
    let list = format!("hmis-records:{id}");
    q.check(&list)?;
    let items = run_db(&state, move |conn| hmis_records::list(conn, &caller, id)).await?;
    let (items, next_cursor) =
        page_of(items, &q, &list, |r| (r.file.clone(), r.source_id.clone()))?;
    JsonReply::ok(&HmisRecordList { items, next_cursor })
}

/// The source Client rows an HMIS CSV import kept of the record (the columns Hearth has no field
/// for, such as the veteran details; never the names, SSN or DOB, which live in the record), as
/// the caller may see the record: in full at level `full`, else without free text.
#[utoipa::path(
    tag = "stays",
    params(("id" = Uuid, Path), PageQuery),
    responses((status = 200, body = HmisRecordList), (status = 404, description = "No such record, or the caller may not see it"))
)]
#[get("/clients/{id}/hmis-records")]
async fn list_client_hmis_records(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    q: ApiQuery<PageQuery>,
) -> AppResult<JsonReply> {
    let id = id.into_inner();
    let list = format!("client-hmis-records:{id}");
    q.check(&list)?;
    let items = run_db(&state, move |conn| {
        hmis_records::list_for_client(conn, &caller, id)
    })
    .await?;
    let (items, next_cursor) =
        page_of(items, &q, &list, |r| (r.file.clone(), r.source_id.clone()))?;
    JsonReply::ok(&HmisRecordList { items, next_cursor })
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct EnrollmentList {
    pub items: Vec<EnrollmentView>,
    pub next_cursor: Option<String>,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct StayDatumList {
    pub items: Vec<StayDatum>,
    pub next_cursor: Option<String>,
}

/// Enroll the client in one of the caller's agency's projects; start a household (head,
/// relationship 1) or join one with `household_id`.
#[utoipa::path(
    tag = "stays",
    request_body = NewEnrollment,
    params(("id" = Uuid, Path), IdempotencyKeyHeader),
    responses(
        (status = 201, body = EnrollmentWrite, headers(
            ("ETag" = String, description = "The version of the record; send it as If-Match to change it"),
            ("Location" = String, description = "The created resource"),
            ("Idempotent-Replayed" = String, description = "`true` when this answer replays the first request sent with this Idempotency-Key"),
        )),
        (status = 404, description = "No such record, or the caller may not see it"),
        (status = 409, description = "Superseded or merged record; client already in the household"),
        (status = 422, description = "Invalid codes or dates, a second head of household, a mixed anonymous household"),
    )
)]
#[post("/clients/{id}/enrollments")]
async fn create_enrollment(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: Idempotent<ApiJson<NewEnrollment>>,
) -> AppResult<JsonReply> {
    let id = id.into_inner();
    body.run(&state, caller, move |conn, caller, body| {
        let w = stays::create(conn, caller, id, body.value)?;
        let (eid, version) = (w.enrollment.id, w.enrollment.version);
        Ok(JsonReply::created(&w, format!("/v1/enrollments/{eid}"))?
            .with_etag(version)
            .about_client(id))
    })
    .await
}

/// The client's stays the caller may see (datum rule), newest first.
#[utoipa::path(
    tag = "stays",
    params(("id" = Uuid, Path), PageQuery),
    responses((status = 200, body = EnrollmentList), (status = 404, description = "No such record, or the caller may not see it"))
)]
#[get("/clients/{id}/enrollments")]
async fn list_enrollments(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    q: ApiQuery<PageQuery>,
) -> AppResult<JsonReply> {
    let id = id.into_inner();
    let list = format!("enrollments:{id}");
    q.check(&list)?;
    let items = run_db(&state, move |conn| stays::list(conn, &caller, id)).await?;
    let (items, next_cursor) = page_of(items, &q, &list, |e| e.id)?;
    JsonReply::ok(&EnrollmentList { items, next_cursor })
}

/// Read a stay.
#[utoipa::path(
    tag = "stays",
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = EnrollmentView, headers(
            ("ETag" = String, description = "The version of the record; send it as If-Match to change it"),
        )),
        (status = 404, description = "No such stay, or the caller may not see it"),
    )
)]
#[get("/enrollments/{id}")]
async fn get_enrollment(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> AppResult<JsonReply> {
    let id = id.into_inner();
    let e = run_db(&state, move |conn| stays::get(conn, &caller, id)).await?;
    Ok(JsonReply::ok(&e)?.with_etag(e.version))
}

/// Exit a stay (3.11, 3.12; 3.12.A with destination 435).
#[utoipa::path(
    tag = "stays",
    request_body = ExitStay,
    params(("id" = Uuid, Path), IdempotencyKeyHeader),
    responses(
        (status = 200, body = EnrollmentWrite, headers(
            ("ETag" = String, description = "The version of the record; send it as If-Match to change it"),
        )),
        (status = 404, description = "No such stay, or the caller may not see it"),
        (status = 409, description = "Already exited"),
        (status = 422, description = "Exit before entry, a code outside HUD's list, 435 without a subsidy type"),
    )
)]
#[post("/enrollments/{id}/exit")]
async fn exit_enrollment(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: Idempotent<ApiJson<ExitStay>>,
) -> AppResult<JsonReply> {
    let id = id.into_inner();
    body.run(&state, caller, move |conn, caller, body| {
        let w = stays::exit(conn, caller, id, body.value)?;
        let (client, version) = (w.enrollment.client_id, w.enrollment.version);
        Ok(JsonReply::ok(&w)?.with_etag(version).about_client(client))
    })
    .await
}

/// Take a member out of its household (e.g. fleeing domestic violence): the stay heads a
/// household of its own.
#[utoipa::path(
    tag = "stays",
    params(("id" = Uuid, Path), IdempotencyKeyHeader),
    responses(
        (status = 200, body = EnrollmentWrite),
        (status = 404, description = "No such stay, or the caller may not see it"),
        (status = 409, description = "The head of household, or the only member"),
    )
)]
#[post("/enrollments/{id}/remove-from-household")]
async fn remove_from_household(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: Idempotent<NoBody>,
) -> AppResult<JsonReply> {
    let id = id.into_inner();
    body.run(&state, caller, move |conn, caller, NoBody| {
        let w = stays::remove_from_household(conn, caller, id)?;
        let client = w.enrollment.client_id;
        Ok(JsonReply::ok(&w)?.about_client(client))
    })
    .await
}

async fn add<B: Send + 'static>(
    state: web::Data<AppState>,
    caller: Caller,
    id: Uuid,
    body: Idempotent<ApiJson<B>>,
    datum: fn(B) -> NewStayDatum,
) -> AppResult<JsonReply> {
    body.run(&state, caller, move |conn, caller, body| {
        let w = stay_data::add(conn, caller, id, datum(body.value))?;
        let client = w.datum.client_id;
        JsonReply::created(&w, format!("/v1/enrollments/{id}")).map(|r| r.about_client(client))
    })
    .await
}

async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    id: Uuid,
    kind: StayDatumKind,
    q: ApiQuery<PageQuery>,
) -> AppResult<JsonReply> {
    let list = format!("{}:{id}", kind.as_str());
    q.check(&list)?;
    let items = run_db(&state, move |conn| stay_data::list(conn, &caller, id, kind)).await?;
    let (items, next_cursor) = page_of(items, &q, &list, |d| d.id)?;
    JsonReply::ok(&StayDatumList { items, next_cursor })
}

macro_rules! stay_datum_routes {
    ($add:ident, $list:ident, $path:literal, $body:ty, $variant:ident, $what:literal) => {
        #[doc = concat!("Record ", $what, " for the stay.")]
        #[utoipa::path(
            tag = "stays",
            request_body = $body,
            params(("id" = Uuid, Path), IdempotencyKeyHeader),
            responses(
                (status = 201, body = StayDatumWrite, headers(
                    ("Location" = String, description = "Not the created datum: the stay it belongs to (`/v1/enrollments/{id}`, this path's stay). A datum has no URL of its own; it is in the body (`datum`, with its `id`), and this path's GET lists it"),
                )),
                (status = 404, description = "No such stay, or the caller may not see it"),
                (status = 409, description = "Superseded or merged record"),
                (status = 422, description = "Invalid codes or dates, or PII in an anonymous record's text"),
            )
        )]
        #[post($path)]
        async fn $add(state: web::Data<AppState>, caller: Caller, id: web::Path<Uuid>, body: Idempotent<ApiJson<$body>>) -> AppResult<JsonReply> {
            add(state, caller, id.into_inner(), body, NewStayDatum::$variant).await
        }

        #[doc = concat!("The stay's ", $what, " the caller may see (datum rule), oldest first.")]
        #[utoipa::path(
            tag = "stays",
            params(("id" = Uuid, Path), PageQuery),
            responses((status = 200, body = StayDatumList), (status = 404, description = "No such stay, or the caller may not see it"))
        )]
        #[get($path)]
        async fn $list(state: web::Data<AppState>, caller: Caller, id: web::Path<Uuid>, q: ApiQuery<PageQuery>) -> AppResult<JsonReply> {
            list(state, caller, id.into_inner(), StayDatumKind::$variant, q).await
        }
    };
}

stay_datum_routes!(
    add_service,
    list_services,
    "/enrollments/{id}/services",
    NewService,
    Service,
    "services"
);
stay_datum_routes!(
    add_assessment,
    list_assessments,
    "/enrollments/{id}/assessments",
    NewAssessment,
    Assessment,
    "assessments"
);
stay_datum_routes!(
    add_ce_event,
    list_ce_events,
    "/enrollments/{id}/ce-events",
    NewCeEvent,
    CeEvent,
    "Coordinated Entry events"
);
stay_datum_routes!(
    add_current_living_situation,
    list_current_living_situations,
    "/enrollments/{id}/current-living-situations",
    NewCurrentLivingSituation,
    CurrentLivingSituation,
    "current living situations"
);
stay_datum_routes!(
    add_note,
    list_notes,
    "/enrollments/{id}/notes",
    NewCaseNote,
    CaseNote,
    "case notes"
);
stay_datum_routes!(
    add_refusal,
    list_refusals,
    "/enrollments/{id}/refusals",
    NewRefusal,
    Refusal,
    "refusals to engage or be assessed (Coordinated Entry stays only; 409 on another stay)"
);
