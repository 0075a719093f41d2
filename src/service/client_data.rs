//! Contact details and documents: wholly PII, shown only where the datum rule gives full
//! access, and refused for anonymous and code-name records.

use base64::Engine;
use chrono::{DateTime, NaiveDate, Utc};
use diesel::{Connection, PgConnection};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::consent::{decide_datum, DatumAccess, DatumFacts, DatumKind, IdentityMode};
use crate::error::{AppError, AppResult, FieldError};
use crate::repo::stays::{self as repo, ContactRow, DocumentMeta, NewDocumentRow};
use crate::repo::visible;
use crate::service::access::{decide, decide_locked, Decided};
use crate::service::context::Caller;
use crate::service::stays::{check_date, note_contribution};

/// The largest document accepted, decoded.
pub const MAX_DOCUMENT_BYTES: usize = 5 * 1024 * 1024;

/// The document types accepted, each with the bytes its files start with.
const DOCUMENT_TYPES: &[(&str, &[u8])] = &[
    ("application/pdf", b"%PDF-"),
    ("image/jpeg", &[0xFF, 0xD8, 0xFF]),
    (
        "image/png",
        &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A],
    ),
    ("image/tiff", b"II*\0"),
    ("text/plain", b""),
];

fn refuse_for_mode(d: &Decided, what: &str) -> AppResult<()> {
    if matches!(
        d.facts.identity,
        IdentityMode::Anonymous | IdentityMode::CodeName
    ) {
        return Err(AppError::validation(
            what,
            "forbidden_for_identity_mode",
            format!(
                "A record in identity mode {} holds no {what}: they would identify the client.",
                d.facts.identity.as_str()
            ),
        ));
    }
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ContactKind {
    Address,
    Phone,
    Email,
}

impl ContactKind {
    fn as_str(&self) -> &'static str {
        match self {
            Self::Address => "address",
            Self::Phone => "phone",
            Self::Email => "email",
        }
    }
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewContact {
    pub kind: ContactKind,
    pub value: String,
    pub collected_on: Option<NaiveDate>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Contact {
    pub id: Uuid,
    pub client_id: Uuid,
    pub kind: ContactKind,
    pub value: String,
    pub entered_by_agency_id: Uuid,
    pub entered_by_your_agency: bool,
    pub collected_on: NaiveDate,
    pub created_at: DateTime<Utc>,
}

fn contact_view(r: &ContactRow, caller: &Caller) -> Contact {
    Contact {
        id: r.id,
        client_id: r.client_id,
        kind: match r.kind.as_str() {
            "phone" => ContactKind::Phone,
            "email" => ContactKind::Email,
            _ => ContactKind::Address,
        },
        value: r.value.clone(),
        entered_by_agency_id: r.entered_by_agency,
        entered_by_your_agency: caller.principal.agency_id == Some(r.entered_by_agency),
        collected_on: r.collected_on,
        created_at: r.created_at,
    }
}

fn check_contact(kind: ContactKind, value: &str) -> Result<String, FieldError> {
    let v = value.trim();
    let bad = |m: &str| FieldError::new("value", "invalid_contact", m);
    if v.is_empty()
        || v.chars().count() > 300
        || v.chars().any(char::is_control)
        || crate::domain::has_hidden_characters(v)
    {
        return Err(bad(
            "value is 1 to 300 printable characters, with no invisible or direction-changing characters.",
        ));
    }
    match kind {
        ContactKind::Email
            if !(v.contains('@') && v.rsplit('@').next().is_some_and(|d| d.contains('.'))) =>
        {
            Err(bad("value is not an email address."))
        }
        ContactKind::Phone
            if !(7..=15).contains(&v.chars().filter(char::is_ascii_digit).count()) =>
        {
            Err(bad("value is not a phone number (7 to 15 digits)."))
        }
        _ => Ok(v.to_string()),
    }
}

/// Who may write a client's contacts and documents: full access to an active record.
fn writable(
    conn: &mut PgConnection,
    caller: &Caller,
    client: Uuid,
    what: &str,
) -> AppResult<(Decided, Uuid)> {
    let agency =
        crate::service::clients::require_agency(caller, "Adding contact details or documents")?;
    // Under the record's row lock: a merge moving this record's contacts and documents either
    // finished (409 record-merged) or waits for this write (and moves its row too).
    let d = decide_locked(conn, caller, client)?;
    d.require_writable()?;
    refuse_for_mode(&d, what)?;
    Ok((d, agency))
}

pub fn add_contact(
    conn: &mut PgConnection,
    caller: &Caller,
    client: Uuid,
    input: NewContact,
) -> AppResult<Contact> {
    conn.transaction(|conn| {
        let (d, agency) = writable(conn, caller, client, "contacts")?;
        let value =
            check_contact(input.kind, &input.value).map_err(|e| AppError::Validation(vec![e]))?;
        let mut errs = Vec::new();
        let collected_on = input.collected_on.unwrap_or(caller.today);
        check_date("collected_on", collected_on, caller.today, &mut errs);
        if !errs.is_empty() {
            return Err(AppError::Validation(errs));
        }
        let row = repo::insert_contact(
            conn,
            &ContactRow {
                id: Uuid::now_v7(),
                client_id: client,
                kind: input.kind.as_str().into(),
                value,
                entered_by_agency: agency,
                entered_by_user: caller.principal.sub.clone(),
                collected_on,
                created_at: Utc::now(),
            },
        )?;
        note_contribution(conn, client, agency, &mut vec![])?;
        caller.audit(
            conn,
            Some(client),
            "contact_added",
            d.decision.basis,
            Some(serde_json::json!({"contact_id": row.id})),
        )?;
        Ok(contact_view(&row, caller))
    })
}

pub fn list_contacts(
    conn: &mut PgConnection,
    caller: &Caller,
    client: Uuid,
) -> AppResult<Vec<Contact>> {
    conn.transaction(|conn| {
        let d = decide(conn, caller, client)?;
        let rows = visible::contacts_of(conn, &d.viewer, caller.today, client)?;
        if !rows.is_empty() {
            caller.audit(conn, Some(client), "contacts_read", d.decision.basis, None)?;
        }
        Ok(rows.iter().map(|v| contact_view(&v.row, caller)).collect())
    })
}

/// One contact detail, read as the list reads them (the same decision and audit row); 404 when
/// the caller may not see it or the record has none of this id.
pub fn get_contact(
    conn: &mut PgConnection,
    caller: &Caller,
    client: Uuid,
    contact: Uuid,
) -> AppResult<Contact> {
    conn.transaction(|conn| {
        let d = decide(conn, caller, client)?;
        let rows = visible::contacts_of(conn, &d.viewer, caller.today, client)?;
        let row = rows
            .iter()
            .find(|v| v.row.id == contact)
            .ok_or(AppError::NotFound)?;
        caller.audit(conn, Some(client), "contacts_read", d.decision.basis, None)?;
        Ok(contact_view(&row.row, caller))
    })
}

/// The entering agency (or a system administrator) deletes what it entered.
fn require_enterer(d: &Decided, entered_by: Uuid) -> AppResult<()> {
    if crate::consent::acts_for(&d.viewer, entered_by) {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "Only the agency that entered it can delete it.".into(),
        ))
    }
}

fn visible_datum(
    d: &Decided,
    entered_by: Uuid,
    collected_on: NaiveDate,
    kind: DatumKind,
) -> AppResult<()> {
    let facts = DatumFacts {
        entered_by_agency: entered_by,
        collected_on,
        kind,
    };
    if decide_datum(&d.viewer, &d.decision, &d.facts, &facts) == DatumAccess::Hidden {
        return Err(AppError::NotFound);
    }
    Ok(())
}

pub fn delete_contact(
    conn: &mut PgConnection,
    caller: &Caller,
    client: Uuid,
    id: Uuid,
) -> AppResult<()> {
    delete_datum(
        conn,
        caller,
        client,
        ("contact", DatumKind::Contact, id),
        |conn| {
            Ok(
                repo::find_contact(conn, client, id)?
                    .map(|r| (r.entered_by_agency, r.collected_on)),
            )
        },
        |conn| repo::delete_contact(conn, id),
    )
}

/// Deletes a datum the caller sees, if its agency entered it; audited.
fn delete_datum(
    conn: &mut PgConnection,
    caller: &Caller,
    client: Uuid,
    (what, kind, id): (&str, DatumKind, Uuid),
    find: impl FnOnce(&mut PgConnection) -> AppResult<Option<(Uuid, NaiveDate)>>,
    delete: impl FnOnce(&mut PgConnection) -> diesel::QueryResult<usize>,
) -> AppResult<()> {
    conn.transaction(|conn| {
        let d = decide_locked(conn, caller, client)?;
        let (entered_by, collected_on) = find(conn)?.ok_or(AppError::NotFound)?;
        visible_datum(&d, entered_by, collected_on, kind)?;
        require_enterer(&d, entered_by)?;
        delete(conn)?;
        caller.audit(
            conn,
            Some(client),
            &format!("{what}_deleted"),
            d.decision.basis,
            Some(serde_json::json!({ format!("{what}_id"): id })),
        )?;
        Ok(())
    })
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDocument {
    pub file_name: String,
    /// application/pdf, image/jpeg, image/png, image/tiff or text/plain; checked against the bytes.
    pub content_type: String,
    /// The file, base64-encoded (at most 5 MiB decoded).
    #[schema(max_length = 6_990_508)]
    pub content_base64: String,
    pub description: Option<String>,
    pub collected_on: Option<NaiveDate>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Document {
    pub id: Uuid,
    pub client_id: Uuid,
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: i32,
    pub sha256: String,
    pub description: Option<String>,
    pub entered_by_agency_id: Uuid,
    pub entered_by_your_agency: bool,
    pub collected_on: NaiveDate,
    pub created_at: DateTime<Utc>,
}

fn document_view(r: &DocumentMeta, caller: &Caller) -> Document {
    Document {
        id: r.id,
        client_id: r.client_id,
        file_name: r.file_name.clone(),
        content_type: r.content_type.clone(),
        size_bytes: r.size_bytes,
        sha256: r.sha256.clone(),
        description: r.description.clone(),
        entered_by_agency_id: r.entered_by_agency,
        entered_by_your_agency: caller.principal.agency_id == Some(r.entered_by_agency),
        collected_on: r.collected_on,
        created_at: r.created_at,
    }
}

fn check_document(input: &NewDocument) -> Result<Vec<u8>, Vec<FieldError>> {
    let mut errs = Vec::new();
    let name = input.file_name.trim();
    if name.is_empty()
        || name.chars().count() > 200
        || name
            .chars()
            .any(|c| c.is_control() || c == '/' || c == '\\')
        || crate::domain::has_hidden_characters(name)
        || !crate::domain::has_visible_word(name)
    {
        errs.push(FieldError::new(
            "file_name",
            "invalid_file_name",
            "file_name is 1 to 200 characters with a letter or digit, without slashes or invisible or direction-changing characters.",
        ));
    }
    let content_type = input.content_type.trim().to_ascii_lowercase();
    let magic = DOCUMENT_TYPES
        .iter()
        .find(|(t, _)| *t == content_type)
        .map(|(_, m)| *m);
    let bytes = match base64::engine::general_purpose::STANDARD.decode(input.content_base64.trim())
    {
        Ok(b) => b,
        Err(_) => {
            errs.push(FieldError::new(
                "content_base64",
                "invalid_base64",
                "content_base64 is not base64.",
            ));
            return Err(errs);
        }
    };
    if bytes.is_empty() {
        errs.push(FieldError::new(
            "content_base64",
            "empty",
            "The document is empty.",
        ));
    } else if bytes.len() > MAX_DOCUMENT_BYTES {
        errs.push(FieldError::new(
            "content_base64",
            "too_large",
            "The document is larger than 5 MiB.",
        ));
    }
    match magic {
        None => errs.push(FieldError::new(
            "content_type",
            "unsupported_content_type",
            "Accepted types: application/pdf, image/jpeg, image/png, image/tiff, text/plain.",
        )),
        Some(m) if !bytes.starts_with(m) => errs.push(FieldError::new(
            "content_type",
            "content_type_mismatch",
            "The file's bytes do not match its content_type.",
        )),
        Some(_) if content_type == "text/plain" && std::str::from_utf8(&bytes).is_err() => errs
            .push(FieldError::new(
                "content_type",
                "content_type_mismatch",
                "A text/plain document must be UTF-8 text.",
            )),
        Some(_) => {}
    }
    if errs.is_empty() {
        Ok(bytes)
    } else {
        Err(errs)
    }
}

pub fn add_document(
    conn: &mut PgConnection,
    caller: &Caller,
    client: Uuid,
    input: NewDocument,
) -> AppResult<Document> {
    conn.transaction(|conn| {
        let (d, agency) = writable(conn, caller, client, "documents")?;
        let bytes = check_document(&input).map_err(AppError::Validation)?;
        let mut errs = Vec::new();
        let collected_on = input.collected_on.unwrap_or(caller.today);
        check_date("collected_on", collected_on, caller.today, &mut errs);
        let description = crate::service::client_input::free_text(
            "description",
            &input.description,
            d.facts.identity,
            &mut errs,
        );
        if !errs.is_empty() {
            return Err(AppError::Validation(errs));
        }
        let row = repo::insert_document(
            conn,
            &NewDocumentRow {
                id: Uuid::now_v7(),
                client_id: client,
                file_name: input.file_name.trim().to_string(),
                content_type: input.content_type.trim().to_ascii_lowercase(),
                size_bytes: bytes.len() as i32,
                sha256: Sha256::digest(&bytes)
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect(),
                content: bytes,
                description,
                entered_by_agency: agency,
                entered_by_user: caller.principal.sub.clone(),
                collected_on,
                created_at: Utc::now(),
            },
        )?;
        note_contribution(conn, client, agency, &mut vec![])?;
        caller.audit(
            conn,
            Some(client),
            "document_added",
            d.decision.basis,
            Some(serde_json::json!({"document_id": row.id})),
        )?;
        Ok(document_view(&row, caller))
    })
}

pub fn list_documents(
    conn: &mut PgConnection,
    caller: &Caller,
    client: Uuid,
) -> AppResult<Vec<Document>> {
    conn.transaction(|conn| {
        let d = decide(conn, caller, client)?;
        let rows = visible::documents_of(conn, &d.viewer, caller.today, client)?;
        if !rows.is_empty() {
            caller.audit(
                conn,
                Some(client),
                "documents_listed",
                d.decision.basis,
                None,
            )?;
        }
        Ok(rows.iter().map(|v| document_view(&v.row, caller)).collect())
    })
}

/// The file itself (content type and bytes), audited.
pub fn document_content(
    conn: &mut PgConnection,
    caller: &Caller,
    client: Uuid,
    id: Uuid,
) -> AppResult<(String, Vec<u8>)> {
    conn.transaction(|conn| {
        let d = decide(conn, caller, client)?;
        let meta = repo::find_document(conn, client, id)?.ok_or(AppError::NotFound)?;
        visible_datum(
            &d,
            meta.entered_by_agency,
            meta.collected_on,
            DatumKind::Document,
        )?;
        let bytes = repo::document_content(conn, id)?;
        caller.audit(
            conn,
            Some(client),
            "document_read",
            d.decision.basis,
            Some(serde_json::json!({"document_id": id})),
        )?;
        Ok((meta.content_type, bytes))
    })
}

pub fn delete_document(
    conn: &mut PgConnection,
    caller: &Caller,
    client: Uuid,
    id: Uuid,
) -> AppResult<()> {
    delete_datum(
        conn,
        caller,
        client,
        ("document", DatumKind::Document, id),
        |conn| {
            Ok(repo::find_document(conn, client, id)?
                .map(|r| (r.entered_by_agency, r.collected_on)))
        },
        |conn| repo::delete_document(conn, id),
    )
}
