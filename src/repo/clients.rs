//! Client records, their ROI consents and contributors.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::PgConnection;
use uuid::Uuid;

use crate::consent::{IdentityMode, Lifecycle, Visibility};
use crate::db::schema::{client_contributors, clients, roi_consents};
use crate::domain::identity::Identity;
use crate::domain::words::RoiMethod;
use crate::domain::CocCode;

#[derive(
    Debug,
    Clone,
    Queryable,
    QueryableByName,
    Selectable,
    Insertable,
    AsChangeset,
    serde::Deserialize,
)]
#[diesel(table_name = clients, treat_none_as_null = true)]
pub struct ClientRow {
    pub id: Uuid,
    pub short_uid: String,
    pub person_id: Uuid,
    pub coc_code: CocCode,
    pub created_by_agency: Uuid,
    pub created_by_user: String,
    pub identity_mode: IdentityMode,
    pub visibility: Visibility,
    pub lifecycle: Lifecycle,
    pub superseded_by: Option<Uuid>,
    pub merged_into: Option<Uuid>,
    /// The identity fields, declared once in `domain::identity`.
    #[diesel(embed)]
    #[serde(flatten)]
    pub identity: Identity,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, serde::Deserialize)]
#[diesel(table_name = roi_consents)]
pub struct RoiRow {
    pub id: Uuid,
    pub client_id: Uuid,
    pub recording_agency_id: Uuid,
    pub recorded_by_user: String,
    pub effective_from: NaiveDate,
    pub expires_on: Option<NaiveDate>,
    pub revoked_on: Option<NaiveDate>,
    pub scope_statewide: bool,
    pub scope_cocs: Vec<String>,
    pub method: RoiMethod,
    pub documentation_note: Option<String>,
    pub revoked_by_user: Option<String>,
    pub revoked_by_agency_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

pub fn insert(conn: &mut PgConnection, row: &ClientRow) -> QueryResult<ClientRow> {
    diesel::insert_into(clients::table)
        .values(row)
        .returning(ClientRow::as_returning())
        .get_result(conn)
}

/// Everything the consent engine needs about a record, in one round trip: the row, its CoC's
/// CE-assessor policy, its ROIs, its contributors and whether it has an active CE stay (the
/// `record_facts` function of migration 4, whose plan PostgreSQL caches).
#[derive(Debug, serde::Deserialize)]
pub struct RecordFactsRow {
    pub client: ClientRow,
    pub locked_visible_to_ce_assessors: bool,
    pub rois: Vec<RoiRow>,
    pub contributors: Vec<Uuid>,
    pub active_ce_enrollment: bool,
}

diesel::define_sql_function! {
    fn record_facts(id: diesel::sql_types::Uuid) -> diesel::sql_types::Nullable<diesel::sql_types::Jsonb>;
}

pub fn record_facts_of(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<RecordFactsRow>> {
    let json: Option<serde_json::Value> = diesel::select(record_facts(id)).get_result(conn)?;
    json.map(|j| {
        serde_json::from_value(j)
            .map_err(|e| diesel::result::Error::DeserializationError(Box::new(e)))
    })
    .transpose()
}

/// Locks the row for a write workflow.
pub fn lock(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<ClientRow>> {
    clients::table
        .find(id)
        .select(ClientRow::as_select())
        .for_update()
        .first(conn)
        .optional()
}

/// SQL: the record a client found by `found` (a condition on `t`) names, a merged tombstone
/// followed through its `merged_into` chain (b into a, then a into c gives c) to the live
/// record; NULL when the chain does not end within 32 steps. Search and the tombstone's
/// `use_record` both follow it here.
pub(crate) fn survivor_sql(found: &str) -> String {
    format!(
        "(WITH RECURSIVE m(id, next, depth) AS (\
           SELECT t.id, t.merged_into, 0 FROM clients t WHERE {found} \
           UNION ALL SELECT t.id, t.merged_into, m.depth + 1 FROM clients t \
           JOIN m ON t.id = m.next WHERE m.depth < 32) \
         SELECT m.id FROM m WHERE m.next IS NULL LIMIT 1)"
    )
}

/// The record a merged tombstone's `merged_into` chain ends at (the final survivor,
/// [`survivor_sql`]); `None` for a record that was not merged, or a chain that does not end
/// within 32 steps.
pub fn final_survivor(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<Uuid>> {
    use diesel::sql_types::{Nullable, Uuid as SqlUuid};
    #[derive(QueryableByName)]
    struct Found {
        #[diesel(sql_type = Nullable<SqlUuid>)]
        id: Option<Uuid>,
    }
    let r: Found = diesel::sql_query(format!("SELECT {} AS id", survivor_sql("t.id = $1")))
        .bind::<SqlUuid, _>(id)
        .get_result(conn)?;
    Ok(r.id.filter(|last| *last != id))
}

/// Writes every column and bumps the version.
pub fn update(conn: &mut PgConnection, row: &ClientRow) -> QueryResult<ClientRow> {
    let mut next = row.clone();
    next.version = row.version + 1;
    next.updated_at = Utc::now();
    diesel::update(clients::table.find(row.id))
        .set(&next)
        .returning(ClientRow::as_returning())
        .get_result(conn)
}

pub fn short_uid_taken(conn: &mut PgConnection, uid: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        clients::table.filter(clients::short_uid.eq(uid)),
    ))
    .get_result(conn)
}

pub fn insert_roi(conn: &mut PgConnection, row: &RoiRow) -> QueryResult<RoiRow> {
    diesel::insert_into(roi_consents::table)
        .values(row)
        .returning(RoiRow::as_returning())
        .get_result(conn)
}

pub fn lock_roi(conn: &mut PgConnection, client: Uuid, id: Uuid) -> QueryResult<Option<RoiRow>> {
    roi_consents::table
        .filter(
            roi_consents::id
                .eq(id)
                .and(roi_consents::client_id.eq(client)),
        )
        .select(RoiRow::as_select())
        .for_update()
        .first(conn)
        .optional()
}

pub fn revoke_roi(
    conn: &mut PgConnection,
    id: Uuid,
    on: NaiveDate,
    by_user: &str,
    by_agency: Option<Uuid>,
) -> QueryResult<RoiRow> {
    diesel::update(roi_consents::table.find(id))
        .set((
            roi_consents::revoked_on.eq(on),
            roi_consents::revoked_by_user.eq(by_user),
            roi_consents::revoked_by_agency_id.eq(by_agency),
        ))
        .returning(RoiRow::as_returning())
        .get_result(conn)
}

/// Records that `agency` entered a datum; answers true when it is new as a contributor.
pub fn add_contributor(conn: &mut PgConnection, client: Uuid, agency: Uuid) -> QueryResult<bool> {
    let n = diesel::insert_into(client_contributors::table)
        .values((
            client_contributors::client_id.eq(client),
            client_contributors::agency_id.eq(agency),
        ))
        .on_conflict_do_nothing()
        .execute(conn)?;
    Ok(n == 1)
}

/// The identity modes of the records `ids`.
pub fn identity_modes_of(conn: &mut PgConnection, ids: &[Uuid]) -> QueryResult<Vec<IdentityMode>> {
    clients::table
        .filter(clients::id.eq_any(ids))
        .select(clients::identity_mode)
        .load(conn)
}

/// Whether some record has one of the (first, last) names, compared lowercased (a break-glass
/// reason must name no client). The pairs' last names and first initials reach the phonetic
/// name index (`clients_last_key_idx`).
pub fn any_client_named(conn: &mut PgConnection, pairs: &[(String, String)]) -> QueryResult<bool> {
    use diesel::sql_types::{Array, Bool, Text};
    #[derive(QueryableByName)]
    struct Found {
        #[diesel(sql_type = Bool)]
        found: bool,
    }
    let (first, last): (Vec<String>, Vec<String>) = pairs.iter().cloned().unzip();
    let r: Found = diesel::sql_query(
        "SELECT EXISTS (SELECT 1 FROM unnest($1::text[], $2::text[]) AS p(f, l) \
           JOIN clients c ON dmetaphone(c.last_name) = dmetaphone(p.l) \
            AND lower(left(c.first_name, 1)) = left(p.f, 1) \
          WHERE lower(c.first_name) = p.f AND lower(c.last_name) = p.l) AS found",
    )
    .bind::<Array<Text>, _>(first)
    .bind::<Array<Text>, _>(last)
    .get_result(conn)?;
    Ok(r.found)
}
