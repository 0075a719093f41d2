//! `/v1/clients/{id}/contacts` and `/v1/clients/{id}/documents`.

use actix_web::{delete, get, post, web, HttpResponse};
use utoipa_actix_web::{scope, service_config::ServiceConfig};
use uuid::Uuid;

use crate::api::pages::{page_of, PageQuery};
use crate::api::support::{run_db, ApiJson, ApiQuery, IdempotencyKeyHeader, Idempotent, JsonReply};
use crate::error::AppResult;
use crate::service::client_data::{self, Contact, Document, NewContact, NewDocument};
use crate::service::context::Caller;
use crate::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(add_contact)
        .service(list_contacts)
        .service(get_contact)
        .service(delete_contact)
        .service(
            // Documents travel base64-encoded in JSON: 5 MiB of file needs a larger body limit.
            scope::scope("/clients/{id}/documents")
                .app_data(web::PayloadConfig::new(8 * 1024 * 1024))
                .service(add_document)
                .service(list_documents)
                .service(document_content)
                .service(delete_document),
        );
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ContactList {
    pub items: Vec<Contact>,
    pub next_cursor: Option<String>,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct DocumentList {
    pub items: Vec<Document>,
    pub next_cursor: Option<String>,
}

/// Add a contact detail (refused for anonymous and code-name records).
#[utoipa::path(
    tag = "client data",
    request_body = NewContact,
    params(("id" = Uuid, Path), IdempotencyKeyHeader),
    responses(
        (status = 201, body = Contact, headers(("Location" = String, description = "The contact"))),
        (status = 404, description = "No such record, or the caller may not see it"),
        (status = 409, description = "A superseded or merged record (use_record names the one to use)"),
        (status = 422, description = "Invalid contact, or an anonymous or code-name record"),
    )
)]
#[post("/clients/{id}/contacts")]
async fn add_contact(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: Idempotent<ApiJson<NewContact>>,
) -> AppResult<JsonReply> {
    let id = id.into_inner();
    body.run(&state, caller, move |conn, caller, body| {
        let c = client_data::add_contact(conn, caller, id, body.value)?;
        let cid = c.id;
        Ok(JsonReply::created(&c, format!("/v1/clients/{id}/contacts/{cid}"))?.about_client(id))
    })
    .await
}

/// The contact details the caller may see (full access to the datum only).
#[utoipa::path(
    tag = "client data",
    params(("id" = Uuid, Path), PageQuery),
    responses((status = 200, body = ContactList), (status = 404, description = "No such record, or the caller may not see it"))
)]
#[get("/clients/{id}/contacts")]
async fn list_contacts(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    q: ApiQuery<PageQuery>,
) -> AppResult<JsonReply> {
    let id = id.into_inner();
    let list = format!("contacts:{id}");
    q.check(&list)?;
    let items = run_db(&state, move |conn| {
        client_data::list_contacts(conn, &caller, id)
    })
    .await?;
    let (items, next_cursor) = page_of(items, &q, &list, |c| c.id)?;
    JsonReply::ok(&ContactList { items, next_cursor })
}

/// One contact detail (where an add's `Location` points), read as the list reads them.
#[utoipa::path(
    tag = "client data",
    params(("id" = Uuid, Path), ("contact_id" = Uuid, Path)),
    responses((status = 200, body = Contact), (status = 404, description = "No such contact, or the caller may not see it"))
)]
#[get("/clients/{id}/contacts/{contact_id}")]
async fn get_contact(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
) -> AppResult<JsonReply> {
    let (id, cid) = path.into_inner();
    let c = run_db(&state, move |conn| {
        client_data::get_contact(conn, &caller, id, cid)
    })
    .await?;
    JsonReply::ok(&c)
}

/// Delete a contact detail (the agency that entered it).
#[utoipa::path(
    tag = "client data",
    params(("id" = Uuid, Path), ("contact_id" = Uuid, Path)),
    responses((status = 204, description = "Deleted"), (status = 404, description = "No such contact, or not visible"))
)]
#[delete("/clients/{id}/contacts/{contact_id}")]
async fn delete_contact(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
) -> AppResult<HttpResponse> {
    let (id, cid) = path.into_inner();
    run_db(&state, move |conn| {
        client_data::delete_contact(conn, &caller, id, cid)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Upload a document (base64 in JSON; at most 5 MiB; PDF, JPEG, PNG, TIFF or text, checked
/// against the bytes). Refused for anonymous and code-name records.
#[utoipa::path(
    tag = "client data",
    request_body = NewDocument,
    params(("id" = Uuid, Path), IdempotencyKeyHeader),
    responses(
        (status = 201, body = Document, headers(
            ("Location" = String, description = "The document's content"),
        )),
        (status = 404, description = "No such record, or the caller may not see it"),
        (status = 409, description = "A superseded or merged record (use_record names the one to use)"),
        (status = 413, description = "Over the size limit"),
        (status = 422, description = "Refused type, bytes that do not match it, or an anonymous record"),
    )
)]
#[post("")]
async fn add_document(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: Idempotent<ApiJson<NewDocument>>,
) -> AppResult<JsonReply> {
    let id = id.into_inner();
    body.run(&state, caller, move |conn, caller, body| {
        let d = client_data::add_document(conn, caller, id, body.value)?;
        let did = d.id;
        Ok(
            JsonReply::created(&d, format!("/v1/clients/{id}/documents/{did}/content"))?
                .about_client(id),
        )
    })
    .await
}

/// The documents the caller may see (metadata).
#[utoipa::path(
    tag = "client data",
    params(("id" = Uuid, Path), PageQuery),
    responses((status = 200, body = DocumentList), (status = 404, description = "No such record, or the caller may not see it"))
)]
#[get("")]
async fn list_documents(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    q: ApiQuery<PageQuery>,
) -> AppResult<JsonReply> {
    let id = id.into_inner();
    let list = format!("documents:{id}");
    q.check(&list)?;
    let items = run_db(&state, move |conn| {
        client_data::list_documents(conn, &caller, id)
    })
    .await?;
    let (items, next_cursor) = page_of(items, &q, &list, |d| d.id)?;
    JsonReply::ok(&DocumentList { items, next_cursor })
}

/// The document's bytes, with its content type (audited).
#[utoipa::path(
    tag = "client data",
    params(("id" = Uuid, Path), ("document_id" = Uuid, Path)),
    responses(
        (status = 200, description = "The file, as the content type it was stored with", content(
            ("application/pdf"), ("image/jpeg"), ("image/png"), ("image/tiff"), ("text/plain"),
        )),
        (status = 404, description = "No such document, or not visible"),
    )
)]
#[get("/{document_id}/content")]
async fn document_content(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
) -> AppResult<HttpResponse> {
    let (id, did) = path.into_inner();
    let (content_type, bytes) = run_db(&state, move |conn| {
        client_data::document_content(conn, &caller, id, did)
    })
    .await?;
    Ok(HttpResponse::Ok()
        .content_type(content_type)
        .insert_header(("Content-Disposition", "attachment"))
        .insert_header(("Cache-Control", "no-store"))
        .body(bytes))
}

/// Delete a document (the agency that entered it).
#[utoipa::path(
    tag = "client data",
    params(("id" = Uuid, Path), ("document_id" = Uuid, Path)),
    responses((status = 204, description = "Deleted"), (status = 404, description = "No such document, or not visible"))
)]
#[delete("/{document_id}")]
async fn delete_document(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
) -> AppResult<HttpResponse> {
    let (id, did) = path.into_inner();
    run_db(&state, move |conn| {
        client_data::delete_document(conn, &caller, id, did)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
