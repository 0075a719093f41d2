//! De-identification requests, and the queries that find and rewrite every place a client's
//! former values can live (free text, notices, audit rows, the idempotency store).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::PgConnection;
use uuid::Uuid;

pub use crate::consent::listing::RequestScope;
use crate::db::schema::{
    audit_events, clients, contacts, deidentification_requests as dr, documents, enrollment_data,
    enrollments, helpdesk_notices, roi_consents,
};
use crate::domain::words::RequestStatus;
use crate::domain::CocCode;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = dr, treat_none_as_null = true)]
pub struct RequestRow {
    pub id: Uuid,
    pub coc_code: CocCode,
    pub client_id: Uuid,
    pub member_ids: Vec<Uuid>,
    pub dv_member_ids: Vec<Uuid>,
    pub duplicate_ids: Vec<Uuid>,
    pub description: Option<String>,
    pub status: RequestStatus,
    pub rejection_reason: Option<String>,
    pub requested_by_agency: Uuid,
    pub requested_by_user: String,
    pub decided_by_user: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl RequestRow {
    /// The records the request de-identifies: the client, its members and its members fleeing
    /// domestic violence, each once.
    pub fn targets(&self) -> Vec<Uuid> {
        let mut out = vec![self.client_id];
        for id in self.member_ids.iter().chain(&self.dv_member_ids) {
            if !out.contains(id) {
                out.push(*id);
            }
        }
        out
    }
}

pub fn insert_request(conn: &mut PgConnection, row: &RequestRow) -> QueryResult<RequestRow> {
    diesel::insert_into(dr::table)
        .values(row)
        .returning(RequestRow::as_returning())
        .get_result(conn)
}

pub fn lock_request(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<RequestRow>> {
    dr::table
        .find(id)
        .select(RequestRow::as_select())
        .for_update()
        .first(conn)
        .optional()
}

pub fn update_request(conn: &mut PgConnection, row: &RequestRow) -> QueryResult<RequestRow> {
    diesel::update(dr::table.find(row.id))
        .set(row)
        .returning(RequestRow::as_returning())
        .get_result(conn)
}

pub fn pending_for_client(conn: &mut PgConnection, client: Uuid) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        dr::table.filter(
            dr::client_id
                .eq(client)
                .and(dr::status.eq(RequestStatus::Pending)),
        ),
    ))
    .get_result(conn)
}

/// The pending requests that name any of `ids`: as a record to de-identify (the client or a
/// member) or as a suspected duplicate (`duplicate_ids`).
pub fn pending_naming(conn: &mut PgConnection, ids: &[Uuid]) -> QueryResult<Vec<RequestRow>> {
    dr::table
        .filter(
            dr::status.eq(RequestStatus::Pending).and(
                dr::client_id
                    .eq_any(ids)
                    .or(dr::member_ids.overlaps_with(ids))
                    .or(dr::dv_member_ids.overlaps_with(ids))
                    .or(dr::duplicate_ids.overlaps_with(ids)),
            ),
        )
        .select(RequestRow::as_select())
        .load(conn)
}

/// Those of `ids` that are records.
pub fn existing(conn: &mut PgConnection, ids: &[Uuid]) -> QueryResult<Vec<Uuid>> {
    clients::table
        .filter(clients::id.eq_any(ids))
        .select(clients::id)
        .load(conn)
}

pub fn list_requests(
    conn: &mut PgConnection,
    scope: &RequestScope,
    after: Option<Uuid>,
    limit: i64,
) -> QueryResult<Vec<RequestRow>> {
    let mut q = dr::table
        .order(dr::id.asc())
        .limit(limit)
        .select(RequestRow::as_select())
        .into_boxed();
    match scope {
        RequestScope::All => {}
        RequestScope::Coc(c) => q = q.filter(dr::coc_code.eq(c.clone())),
        RequestScope::Agency(a) => q = q.filter(dr::requested_by_agency.eq(*a)),
    }
    if let Some(a) = after {
        q = q.filter(dr::id.gt(a));
    }
    q.load(conn)
}

/// One request, when it is within `scope` (the list's scope: an agency's own, a CoC's, all).
pub fn find_request_in(
    conn: &mut PgConnection,
    scope: &RequestScope,
    id: Uuid,
) -> QueryResult<Option<RequestRow>> {
    let mut q = dr::table
        .filter(dr::id.eq(id))
        .select(RequestRow::as_select())
        .into_boxed();
    match scope {
        RequestScope::All => {}
        RequestScope::Coc(c) => q = q.filter(dr::coc_code.eq(c.clone())),
        RequestScope::Agency(a) => q = q.filter(dr::requested_by_agency.eq(*a)),
    }
    q.first(conn).optional()
}

/// Requests that name any of `ids` (as the client, a member or a listed duplicate), whatever
/// their status: another agency's request may have listed the record as a suspected duplicate.
pub fn requests_naming(conn: &mut PgConnection, ids: &[Uuid]) -> QueryResult<Vec<RequestRow>> {
    dr::table
        .filter(
            dr::client_id
                .eq_any(ids)
                .or(dr::member_ids.overlaps_with(ids))
                .or(dr::dv_member_ids.overlaps_with(ids))
                .or(dr::duplicate_ids.overlaps_with(ids)),
        )
        .select(RequestRow::as_select())
        .for_update()
        .load(conn)
}

/// The other records of the same person as any of `ids`: those sharing a `person_id` with one
/// (the records an ROI split made of one person, and those a merge joined), and every record
/// merged into any of these, directly or through other tombstones (a `merged_into` chain).
pub fn other_records_of_same_person(
    conn: &mut PgConnection,
    ids: &[Uuid],
) -> QueryResult<Vec<Uuid>> {
    #[derive(QueryableByName)]
    struct Id {
        #[diesel(sql_type = diesel::sql_types::Uuid)]
        id: Uuid,
    }
    let rows: Vec<Id> = diesel::sql_query(
        "WITH RECURSIVE t(id) AS ( \
           SELECT c.id FROM clients c \
            WHERE c.id = ANY($1) \
               OR c.person_id IN (SELECT l.person_id FROM clients l WHERE l.id = ANY($1)) \
           UNION \
           SELECT c.id FROM clients c JOIN t ON c.merged_into = t.id) \
         SELECT id FROM t WHERE NOT id = ANY($1) ORDER BY id",
    )
    .bind::<diesel::sql_types::Array<diesel::sql_types::Uuid>, _>(ids)
    .load(conn)?;
    Ok(rows.into_iter().map(|r| r.id).collect())
}

/// The clients with a stay in any household where `client` has one.
pub fn household_members(conn: &mut PgConnection, client: Uuid) -> QueryResult<Vec<Uuid>> {
    let households: Vec<Uuid> = enrollments::table
        .filter(enrollments::client_id.eq(client))
        .select(enrollments::household_id)
        .load(conn)?;
    enrollments::table
        .filter(enrollments::household_id.eq_any(households))
        .select(enrollments::client_id)
        .distinct()
        .load(conn)
}

/// The clients with an open stay in a household where `client` has an open stay.
pub fn open_household_members(conn: &mut PgConnection, client: Uuid) -> QueryResult<Vec<Uuid>> {
    let households = enrollments::table
        .filter(
            enrollments::client_id
                .eq(client)
                .and(enrollments::exit_date.is_null()),
        )
        .select(enrollments::household_id)
        .load::<Uuid>(conn)?;
    enrollments::table
        .filter(
            enrollments::household_id
                .eq_any(households)
                .and(enrollments::exit_date.is_null()),
        )
        .select(enrollments::client_id)
        .distinct()
        .load(conn)
}

/// Moves `member`'s stays that share a household with `head` into a new household of their
/// own (one per old household), headed by the member. Answers how many stays moved.
pub fn split_from_household(
    conn: &mut PgConnection,
    head: Uuid,
    member: Uuid,
) -> QueryResult<usize> {
    let households: Vec<Uuid> = enrollments::table
        .filter(enrollments::client_id.eq(head))
        .select(enrollments::household_id)
        .distinct()
        .load(conn)?;
    let mut moved = 0;
    for h in households {
        moved += diesel::update(
            enrollments::table.filter(
                enrollments::client_id
                    .eq(member)
                    .and(enrollments::household_id.eq(h)),
            ),
        )
        .set((
            enrollments::household_id.eq(Uuid::now_v7()),
            enrollments::relationship_to_hoh.eq(1i16),
            enrollments::version.eq(enrollments::version + 1),
            enrollments::updated_at.eq(Utc::now()),
        ))
        .execute(conn)?;
    }
    Ok(moved)
}

pub fn contact_values(conn: &mut PgConnection, ids: &[Uuid]) -> QueryResult<Vec<String>> {
    contacts::table
        .filter(contacts::client_id.eq_any(ids))
        .select(contacts::value)
        .load(conn)
}

/// Deletes the clients' contacts and documents: (contacts, documents). The HMIS CSV rows an
/// import kept whole for them (health, domestic violence, disabilities...) go too.
pub fn delete_contacts_and_documents(
    conn: &mut PgConnection,
    ids: &[Uuid],
) -> QueryResult<(usize, usize)> {
    // The record's own kept rows, and its stays' (they reach the record through the stay), go;
    // their source ids stay behind (`import_sources`, marked de-identified), so that importing
    // the same export again neither brings the person back as a new record nor rewrites them.
    diesel::sql_query(format!(
        "WITH gone AS (DELETE FROM hmis_rows h WHERE h.client_id = ANY($1) \
            OR h.enrollment_id IN (SELECT e.id FROM enrollments e WHERE e.client_id = ANY($1)) \
          RETURNING h.agency_id, h.file, h.source_id, \
            COALESCE(h.target_id, h.enrollment_id, h.client_id, h.agency_id) AS target_id) \
         INSERT INTO import_sources (agency_id, file, source_id, target_id, row_hash) \
         SELECT agency_id, file, source_id, target_id, '{}' FROM gone \
         ON CONFLICT (agency_id, file, source_id) DO UPDATE SET \
           target_id = excluded.target_id, row_hash = excluded.row_hash, invalid = NULL",
        crate::repo::hmis_import::DEIDENTIFIED
    ))
    .bind::<diesel::sql_types::Array<diesel::sql_types::Uuid>, _>(ids)
    .execute(conn)?;
    // The source HouseholdIDs of their stays' households are marked the same way: an export then
    // writes those households under Hearth's ids (a vendor's household id of one person leads
    // back to the person as surely as the PersonalID), and an import still finds them.
    diesel::sql_query(format!(
        "UPDATE import_sources SET row_hash = '{}', invalid = NULL \
          WHERE file = '{}' AND target_id IN \
            (SELECT e.household_id FROM enrollments e WHERE e.client_id = ANY($1))",
        crate::repo::hmis_import::DEIDENTIFIED,
        crate::repo::hmis_import::HOUSEHOLD
    ))
    .bind::<diesel::sql_types::Array<diesel::sql_types::Uuid>, _>(ids)
    .execute(conn)?;
    let c =
        diesel::delete(contacts::table.filter(contacts::client_id.eq_any(ids))).execute(conn)?;
    let d =
        diesel::delete(documents::table.filter(documents::client_id.eq_any(ids))).execute(conn)?;
    Ok((c, d))
}

/// (id, free text, structured fields) of every datum of the clients.
pub fn data_texts(
    conn: &mut PgConnection,
    ids: &[Uuid],
) -> QueryResult<Vec<(Uuid, Option<String>, serde_json::Value)>> {
    enrollment_data::table
        .filter(enrollment_data::client_id.eq_any(ids))
        .select((
            enrollment_data::id,
            enrollment_data::text,
            enrollment_data::fields,
        ))
        .load(conn)
}

/// A datum's free text alone (its structured fields untouched).
pub fn set_datum_text_only(conn: &mut PgConnection, id: Uuid, text: &str) -> QueryResult<usize> {
    diesel::update(enrollment_data::table.find(id))
        .set(enrollment_data::text.eq(text))
        .execute(conn)
}

pub fn set_datum_text(
    conn: &mut PgConnection,
    id: Uuid,
    text: Option<&str>,
    fields: &serde_json::Value,
) -> QueryResult<usize> {
    diesel::update(enrollment_data::table.find(id))
        .set((
            enrollment_data::text.eq(text),
            enrollment_data::fields.eq(fields),
        ))
        .execute(conn)
}

pub fn roi_notes(
    conn: &mut PgConnection,
    ids: &[Uuid],
) -> QueryResult<Vec<(Uuid, Option<String>)>> {
    roi_consents::table
        .filter(
            roi_consents::client_id
                .eq_any(ids)
                .and(roi_consents::documentation_note.is_not_null()),
        )
        .select((roi_consents::id, roi_consents::documentation_note))
        .load(conn)
}

pub fn set_roi_note(conn: &mut PgConnection, id: Uuid, note: &str) -> QueryResult<usize> {
    diesel::update(roi_consents::table.find(id))
        .set(roi_consents::documentation_note.eq(note))
        .execute(conn)
}

pub fn notice_messages(conn: &mut PgConnection, ids: &[Uuid]) -> QueryResult<Vec<(Uuid, String)>> {
    helpdesk_notices::table
        .filter(helpdesk_notices::client_id.eq_any(ids))
        .select((helpdesk_notices::id, helpdesk_notices::message))
        .load(conn)
}

pub fn set_notice_message(conn: &mut PgConnection, id: Uuid, message: &str) -> QueryResult<usize> {
    diesel::update(helpdesk_notices::table.find(id))
        .set(helpdesk_notices::message.eq(message))
        .execute(conn)
}

/// The free parts of the clients' audit rows: (id, request id, access reason, detail).
pub type AuditFree = (
    i64,
    Option<String>,
    Option<String>,
    Option<serde_json::Value>,
);

pub fn audit_free_parts(conn: &mut PgConnection, ids: &[Uuid]) -> QueryResult<Vec<AuditFree>> {
    audit_events::table
        .filter(audit_events::client_id.eq_any(ids))
        .select((
            audit_events::id,
            audit_events::request_id,
            audit_events::access_reason,
            audit_events::detail,
        ))
        .load(conn)
}

/// Texts anywhere in the database that may name a record in another record's text: those whose
/// NFKC form (full-width letters and digits read as ASCII), zero-width chars dropped, holds one
/// of `last_names` (words from `domain::scrub::mention_key`, in any case) or whose digits hold
/// one of `ssns` (nine digits). A superset, for `domain::scrub::scrub_mentions` to decide; one
/// scan of each table.
#[derive(Default)]
pub struct Mentions {
    pub data: Vec<(Uuid, String)>,
    pub roi_notes: Vec<(Uuid, String)>,
    pub notices: Vec<(Uuid, String)>,
    pub requests: Vec<RequestRow>,
    pub audit: Vec<AuditFree>,
}

fn mentioning_sql(col: &str) -> String {
    // The scrubber reads text the same way (`domain::scrub::compat_folded`): zero-width chars
    // dropped, compatibility forms folded.
    let folded = format!(
        "regexp_replace(normalize({col}, NFKC), '[\\u200B-\\u200D\\u2060\\uFEFF\\u00AD]', '', 'g')"
    );
    format!(
        "({col} IS NOT NULL AND ({folded} ILIKE ANY($1) \
         OR regexp_replace({folded}, '[^0-9]', '', 'g') LIKE ANY($2)))"
    )
}

pub fn texts_mentioning(
    conn: &mut PgConnection,
    last_names: &[String],
    ssns: &[String],
) -> QueryResult<Mentions> {
    let contains = |v: &String| {
        let e = v
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        format!("%{e}%")
    };
    let like: Vec<String> = last_names.iter().map(contains).collect();
    let digits: Vec<String> = ssns.iter().map(contains).collect();
    let (like, digits) = (&like, &digits);
    use diesel::sql_types::{Array, Text};
    #[derive(QueryableByName)]
    struct IdText {
        #[diesel(sql_type = diesel::sql_types::Uuid)]
        id: Uuid,
        #[diesel(sql_type = Text)]
        text: String,
    }
    #[derive(QueryableByName)]
    struct IdOnly {
        #[diesel(sql_type = diesel::sql_types::Uuid)]
        id: Uuid,
    }
    #[derive(QueryableByName)]
    struct AuditId {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        id: i64,
    }
    if like.is_empty() && digits.is_empty() {
        return Ok(Mentions::default());
    }
    let mut texts = |table: &str, col: &str| -> QueryResult<Vec<(Uuid, String)>> {
        let rows: Vec<IdText> = diesel::sql_query(format!(
            "SELECT id, {col} AS text FROM {table} WHERE {} FOR UPDATE",
            mentioning_sql(col)
        ))
        .bind::<Array<Text>, _>(like)
        .bind::<Array<Text>, _>(digits)
        .load(conn)?;
        Ok(rows.into_iter().map(|r| (r.id, r.text)).collect())
    };
    let data = texts("enrollment_data", "text")?;
    let roi_notes = texts("roi_consents", "documentation_note")?;
    let notices = texts("helpdesk_notices", "message")?;
    let request_ids: Vec<IdOnly> = diesel::sql_query(format!(
        "SELECT id FROM deidentification_requests WHERE {} OR {}",
        mentioning_sql("description"),
        mentioning_sql("rejection_reason")
    ))
    .bind::<Array<Text>, _>(like)
    .bind::<Array<Text>, _>(digits)
    .load(conn)?;
    let request_ids: Vec<Uuid> = request_ids.into_iter().map(|r| r.id).collect();
    let requests = dr::table
        .filter(dr::id.eq_any(&request_ids))
        .select(RequestRow::as_select())
        .for_update()
        .load(conn)?;
    let audit_ids: Vec<AuditId> = diesel::sql_query(format!(
        "SELECT id FROM audit_events WHERE {}",
        mentioning_sql("access_reason")
    ))
    .bind::<Array<Text>, _>(like)
    .bind::<Array<Text>, _>(digits)
    .load(conn)?;
    let audit = audit_events::table
        .filter(audit_events::id.eq_any(audit_ids.into_iter().map(|r| r.id).collect::<Vec<_>>()))
        .select((
            audit_events::id,
            audit_events::request_id,
            audit_events::access_reason,
            audit_events::detail,
        ))
        .load(conn)?;
    Ok(Mentions {
        data,
        roi_notes,
        notices,
        requests,
        audit,
    })
}

/// The one sanctioned change to audit rows (migration `deidentification_merge`): the free
/// parts, inside this transaction only.
pub fn scrub_audit_rows(conn: &mut PgConnection, rows: &[AuditFree]) -> QueryResult<usize> {
    if rows.is_empty() {
        return Ok(0);
    }
    diesel::sql_query("SET LOCAL hearth.audit_scrub = 'on'").execute(conn)?;
    let mut n = 0;
    for (id, rid, reason, detail) in rows {
        n += diesel::update(audit_events::table.find(*id))
            .set((
                audit_events::request_id.eq(rid),
                audit_events::access_reason.eq(reason),
                audit_events::detail.eq(detail),
            ))
            .execute(conn)?;
    }
    diesel::sql_query("SET LOCAL hearth.audit_scrub = 'off'").execute(conn)?;
    Ok(n)
}

/// The tables a de-identification rewrites: VACUUM drops the dead row versions that still hold
/// the old values and their index entries; ANALYZE drops the old values from the planner's
/// statistics samples.
pub const TOUCHED_TABLES: [&str; 10] = [
    "clients",
    "contacts",
    "documents",
    "enrollment_data",
    "enrollments",
    "roi_consents",
    "helpdesk_notices",
    "deidentification_requests",
    "audit_events",
    "idempotency_keys",
];

pub fn vacuum(conn: &mut PgConnection, tables: &[&str]) -> QueryResult<()> {
    for t in tables {
        // INDEX_CLEANUP ON: PostgreSQL may otherwise skip the indexes when few rows died, and
        // their entries would keep the old keys (SSN, DOB, trigrams of names).
        diesel::sql_query(format!("VACUUM (INDEX_CLEANUP ON) {t}")).execute(conn)?;
    }
    // The planner's statistics sample column values (pg_statistic); re-sample the identities.
    diesel::sql_query("ANALYZE clients").execute(conn)?;
    Ok(())
}
