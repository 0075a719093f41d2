//! The rows of an HMIS CSV export, as the consent filter of `consent::sql` lets them through to
//! the viewer: the stays of the CoC's projects in the export window, their clients, and their
//! data of one kind.
//!
//! One pass reads keyset pages of candidate clients (`client_id > cursor ORDER BY client_id
//! LIMIT n`, never OFFSET, on the index of stays by client: the clients with a stay in the CoC's
//! projects), then applies the consent filter to that page's candidates (`= ANY($1)`): the
//! clients, their exported stays, and those stays' data. The cursor moves by candidates, not by
//! rows kept, so every page costs the same however many rows the filter drops.
//!
//! A stay is exported when the viewer reaches it (its entry is released, or data of it is:
//! datum rule 6) and it overlaps the window `[start, end]`. A continuation (entry withheld) is
//! dated by the first day of the data released in it. Dates and the CoC code are written as
//! literals (digits and dashes, a re-parsed code), the cursor is bound.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::prelude::*;
use diesel::sql_types::{Array, Date, Int2, Jsonb, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel::PgConnection;
use uuid::Uuid;

use crate::consent::sql::{
    basis_sql, datum_access_sql, full_bases_sql, stay_entry_access_sql, Slots, ViewerArgs,
};
use crate::consent::{DatumKind, Viewer};
use crate::db::schema::{agencies, projects};
use crate::domain::CocCode;
use crate::error::AppResult;
use crate::repo::tenants::{AgencyRow, ProjectRow};

/// What an export selects: whose view, which CoC, which window.
#[derive(Debug, Clone)]
pub struct Scope {
    pub viewer: Viewer,
    pub today: NaiveDate,
    pub coc: CocCode,
    pub start: NaiveDate,
    pub end: NaiveDate,
}

/// Runs `f` in one snapshot (REPEATABLE READ, read only), so every page and file of an export
/// sees the same data; inside a transaction already open (tests), in a savepoint of it.
pub fn in_snapshot<T>(
    conn: &mut PgConnection,
    f: impl FnOnce(&mut PgConnection) -> AppResult<T>,
) -> AppResult<T> {
    let open = AnsiTransactionManager::transaction_manager_status_mut(conn)
        .transaction_depth()
        .map_or(true, |d| d.is_some());
    if open {
        conn.transaction(f)
    } else {
        conn.build_transaction()
            .repeatable_read()
            .read_only()
            .run(f)
    }
}

pub fn agencies_of(conn: &mut PgConnection, coc: &CocCode) -> QueryResult<Vec<AgencyRow>> {
    agencies::table
        .filter(agencies::coc_code.eq(coc.as_str()))
        .order(agencies::id)
        .select(AgencyRow::as_select())
        .load(conn)
}

pub fn projects_of(conn: &mut PgConnection, coc: &CocCode) -> QueryResult<Vec<ProjectRow>> {
    projects::table
        .inner_join(agencies::table)
        .filter(agencies::coc_code.eq(coc.as_str()))
        .order(projects::id)
        .select(ProjectRow::as_select())
        .load(conn)
}

/// The exported stays of the scope, over `enrollments e`, `clients c` and the basis `b`, with
/// `entry_access`, `entry_on` (the date exported as `EntryDate`) and `project_coc`; `extra` is
/// more conditions on `e` (ANDed).
fn stays_sql(s: &Scope, slots: Slots, extra: &str) -> String {
    let basis = basis_sql(&s.viewer, slots);
    let entry = stay_entry_access_sql(&s.viewer, slots, "b.basis");
    let structured = datum_access_sql(&s.viewer, slots, "b.basis", DatumKind::Structured);
    let free = datum_access_sql(&s.viewer, slots, "b.basis", DatumKind::FreeText);
    format!(
        "SELECT x.* FROM (SELECT e.*, a.coc_code AS project_coc, b.basis, ea.entry_access, \
            CASE WHEN ea.entry_access IS NOT NULL THEN e.entry_date \
                 ELSE LEAST(r.first_released, e.exit_date) END AS entry_on, r.first_released \
           FROM enrollments e \
           JOIN projects p ON p.id = e.project_id JOIN agencies a ON a.id = p.agency_id \
           JOIN clients c ON c.id = e.client_id \
           CROSS JOIN LATERAL (SELECT {basis} AS basis OFFSET 0) b \
           CROSS JOIN LATERAL (SELECT {entry} AS entry_access OFFSET 0) ea \
           CROSS JOIN LATERAL (SELECT CASE WHEN ea.entry_access IS NULL THEN \
               (SELECT min(d.occurred_on) FROM enrollment_data d WHERE d.enrollment_id = e.id \
                AND (CASE WHEN d.kind = 'case_note' THEN {free} ELSE {structured} END) IS NOT NULL) \
             END AS first_released OFFSET 0) r \
           WHERE a.coc_code = '{coc}' AND c.lifecycle <> 'merged' AND b.basis IS NOT NULL {extra}) x \
         WHERE (x.entry_access IS NOT NULL OR x.first_released IS NOT NULL) \
           AND x.entry_on <= DATE '{end}' AND (x.exit_date IS NULL OR x.exit_date >= DATE '{start}')",
        coc = s.coc.as_str(),
        start = s.start,
        end = s.end,
    )
}

/// A stay as exported.
#[derive(Debug, Clone, QueryableByName)]
pub struct StayRow {
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    pub client_id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    pub project_id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    pub household_id: Uuid,
    #[diesel(sql_type = Int2)]
    pub relationship_to_hoh: i16,
    /// `entry_date`, or for a continuation the first day of its released data.
    #[diesel(sql_type = Date)]
    pub entry_on: NaiveDate,
    /// The viewer's basis on the stay's record.
    #[diesel(sql_type = Text)]
    pub basis: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub entry_access: Option<String>,
    #[diesel(sql_type = Nullable<Date>)]
    pub exit_date: Option<NaiveDate>,
    #[diesel(sql_type = Nullable<Int2>)]
    pub destination: Option<i16>,
    #[diesel(sql_type = Nullable<Int2>)]
    pub destination_subsidy_type: Option<i16>,
    #[diesel(sql_type = Nullable<Text>)]
    pub enrollment_coc: Option<String>,
    #[diesel(sql_type = Text)]
    pub project_coc: String,
    #[diesel(sql_type = Nullable<Int2>)]
    pub living_situation: Option<i16>,
    #[diesel(sql_type = Nullable<Int2>)]
    pub length_of_stay: Option<i16>,
    #[diesel(sql_type = Nullable<Int2>)]
    pub los_under_threshold: Option<i16>,
    #[diesel(sql_type = Nullable<Int2>)]
    pub previous_street_essh: Option<i16>,
    #[diesel(sql_type = Nullable<Date>)]
    pub date_to_street_essh: Option<NaiveDate>,
    #[diesel(sql_type = Nullable<Int2>)]
    pub times_homeless_past_three_years: Option<i16>,
    #[diesel(sql_type = Nullable<Int2>)]
    pub months_homeless_past_three_years: Option<i16>,
    #[diesel(sql_type = Text)]
    pub entered_by_user: String,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
    #[diesel(sql_type = Timestamptz)]
    pub updated_at: DateTime<Utc>,
}

/// The stays `e` of the CoC's projects (joined through `p` and `a`).
const COC_STAYS: &str = "enrollments e JOIN projects p ON p.id = e.project_id \
     JOIN agencies a ON a.id = p.agency_id";

/// Over `COC_STAYS`: the CoC's, not exited before the window. The candidates of every file.
fn coc_stays_where(s: &Scope) -> String {
    format!(
        "a.coc_code = '{coc}' AND (e.exit_date IS NULL OR e.exit_date >= DATE '{start}')",
        coc = s.coc.as_str(),
        start = s.start,
    )
}

/// A statement whose own parameters are bound; the viewer's follow them (`Slots`).
type Boxed<'a> =
    diesel::query_builder::BoxedSqlQuery<'a, diesel::pg::Pg, diesel::query_builder::SqlQuery>;

/// Binds the viewer's values at the slots after the statement's own parameters.
fn bind_viewer<'a>(q: Boxed<'a>, s: &Scope) -> Boxed<'a> {
    let args = ViewerArgs::of(&s.viewer, s.today);
    q.bind::<Nullable<SqlUuid>, _>(args.agency)
        .bind::<Nullable<Text>, _>(args.coc)
        .bind::<Date, _>(args.today)
}

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
}

fn ids(conn: &mut PgConnection, sql: String, after: Uuid) -> QueryResult<Vec<Uuid>> {
    let rows: Vec<Id> = diesel::sql_query(sql)
        .bind::<SqlUuid, _>(after)
        .load(conn)?;
    Ok(rows.into_iter().map(|r| r.id).collect())
}

/// The exported stays of the clients `ids`, by client and id.
pub fn stays_of_clients(
    conn: &mut PgConnection,
    s: &Scope,
    ids: &[Uuid],
) -> QueryResult<Vec<StayRow>> {
    let sql = format!(
        "{} ORDER BY x.client_id, x.id",
        stays_sql(s, Slots::at(2), "AND e.client_id = ANY($1)")
    );
    let q = diesel::sql_query(sql)
        .into_boxed()
        .bind::<Array<SqlUuid>, _>(ids);
    bind_viewer(q, s).load(conn)
}

/// A client as exported, with the viewer's basis (its level decides the PII columns).
#[derive(Debug, Clone, QueryableByName)]
pub struct ClientRow {
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    #[diesel(sql_type = Text)]
    pub basis: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub first_name: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub middle_name: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub last_name: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub name_suffix: Option<String>,
    #[diesel(sql_type = Int2)]
    pub name_quality: i16,
    #[diesel(sql_type = Nullable<Text>)]
    pub ssn: Option<String>,
    #[diesel(sql_type = Int2)]
    pub ssn_quality: i16,
    #[diesel(sql_type = Nullable<Date>)]
    pub dob: Option<NaiveDate>,
    #[diesel(sql_type = Int2)]
    pub dob_quality: i16,
    #[diesel(sql_type = Array<Text>)]
    pub race: Vec<String>,
    #[diesel(sql_type = Nullable<Int2>)]
    pub race_none: Option<i16>,
    #[diesel(sql_type = Nullable<Text>)]
    pub additional_race_ethnicity: Option<String>,
    #[diesel(sql_type = Array<Int2>)]
    pub gender: Vec<i16>,
    #[diesel(sql_type = Nullable<Int2>)]
    pub gender_none: Option<i16>,
    #[diesel(sql_type = Nullable<Text>)]
    pub different_identity_text: Option<String>,
    #[diesel(sql_type = Nullable<Int2>)]
    pub sex: Option<i16>,
    #[diesel(sql_type = Int2)]
    pub veteran_status: i16,
    #[diesel(sql_type = Text)]
    pub created_by_user: String,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
    #[diesel(sql_type = Timestamptz)]
    pub updated_at: DateTime<Utc>,
}

/// The clients `k` with at least one exported stay, with their basis `b.basis`. The stays are
/// probed per client (correlated on `k.id`, by index): a semi-join against the whole set of
/// exported stays would build that set again for every page.
fn clients_sql(s: &Scope, slots: Slots) -> String {
    format!(
        "FROM clients k \
         CROSS JOIN LATERAL (SELECT {basis} AS basis FROM clients c WHERE c.id = k.id OFFSET 0) b \
         WHERE k.lifecycle <> 'merged' AND b.basis IS NOT NULL \
           AND EXISTS ({stays})",
        basis = basis_sql(&s.viewer, slots),
        stays = stays_sql(s, slots, "AND e.client_id = k.id"),
    )
}

/// The next `limit` candidate clients after `after`, by id: those with a stay in the CoC's
/// projects (on the index of stays by client).
pub fn client_candidates(
    conn: &mut PgConnection,
    s: &Scope,
    after: Uuid,
    limit: i64,
) -> QueryResult<Vec<Uuid>> {
    let sql = format!(
        "SELECT DISTINCT e.client_id AS id FROM {COC_STAYS} WHERE {} AND e.client_id > $1 \
         ORDER BY e.client_id LIMIT {limit}",
        coc_stays_where(s)
    );
    ids(conn, sql, after)
}

/// Of the candidate clients `ids`, those the viewer sees (not merged), by id; the export keeps
/// those with an exported stay.
pub fn clients_among(
    conn: &mut PgConnection,
    s: &Scope,
    ids: &[Uuid],
) -> QueryResult<Vec<ClientRow>> {
    let sql = format!(
        "SELECT k.id, b.basis, k.first_name, k.middle_name, k.last_name, k.name_suffix, \
           k.name_quality, k.ssn, k.ssn_quality, k.dob, k.dob_quality, k.race, k.race_none, \
           k.additional_race_ethnicity, k.gender, k.gender_none, k.different_identity_text, \
           k.sex, k.veteran_status, k.created_by_user, k.created_at, k.updated_at \
         FROM clients k \
         CROSS JOIN LATERAL (SELECT {} AS basis FROM clients c WHERE c.id = k.id OFFSET 0) b \
         WHERE k.id = ANY($1) AND k.lifecycle <> 'merged' AND b.basis IS NOT NULL ORDER BY k.id",
        basis_sql(&s.viewer, Slots::at(2))
    );
    let q = diesel::sql_query(sql)
        .into_boxed()
        .bind::<Array<SqlUuid>, _>(ids);
    bind_viewer(q, s).load(conn)
}

/// A stay datum as exported, with its datum access (`full` or `non_pii`).
#[derive(Debug, Clone, QueryableByName)]
pub struct DatumRow {
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    #[diesel(sql_type = Text)]
    pub kind: String,
    #[diesel(sql_type = SqlUuid)]
    pub enrollment_id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    pub client_id: Uuid,
    #[diesel(sql_type = Date)]
    pub occurred_on: NaiveDate,
    #[diesel(sql_type = Jsonb)]
    pub fields: serde_json::Value,
    #[diesel(sql_type = Text)]
    pub entered_by_user: String,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
    #[diesel(sql_type = Text)]
    pub datum_access: String,
}

/// The kinds of stay data an export carries (each has a HUD file).
pub const EXPORTED_KINDS: &str =
    "('service', 'current_living_situation', 'assessment', 'ce_event')";

/// The data the viewer sees of `stays` (found exported in this snapshot, with the basis on
/// their record, so the datum rule is the only decision left per row), of the kinds the export
/// carries, by id.
pub fn data_of_stays(
    conn: &mut PgConnection,
    s: &Scope,
    stays: &[StayRow],
) -> QueryResult<Vec<DatumRow>> {
    let ids: Vec<Uuid> = stays.iter().map(|st| st.id).collect();
    let bases: Vec<&str> = stays.iter().map(|st| st.basis.as_str()).collect();
    let sql = format!(
        "SELECT dd.* FROM (SELECT d.id, d.kind, d.enrollment_id, d.client_id, d.occurred_on, \
             d.fields, d.entered_by_user, d.created_at, {access} AS datum_access \
           FROM unnest($1::uuid[], $2::text[]) AS sb(stay_id, basis) \
           JOIN enrollment_data d ON d.enrollment_id = sb.stay_id \
           WHERE d.kind IN {EXPORTED_KINDS} OFFSET 0) dd \
         WHERE dd.datum_access IS NOT NULL ORDER BY dd.id",
        access = datum_access_sql(&s.viewer, Slots::at(3), "sb.basis", DatumKind::Structured),
    );
    let q = diesel::sql_query(sql)
        .into_boxed()
        .bind::<Array<SqlUuid>, _>(ids)
        .bind::<Array<Text>, _>(bases);
    bind_viewer(q, s).load(conn)
}

/// Who exports, for the audit rows of the records it reads in full.
pub struct Actor<'a> {
    pub sub: &'a str,
    pub agency: Option<Uuid>,
    pub request_id: Option<&'a str>,
    /// Written on helpdesk (break-glass) rows only.
    pub access_reason: Option<&'a str>,
}

/// Appends one audit row (`action`) per client the export holds at level `full`, with its
/// basis: every read at level full is in the client's accounting of disclosures. Set-based.
pub fn audit_full_reads(
    conn: &mut PgConnection,
    s: &Scope,
    actor: &Actor<'_>,
    action: &str,
) -> QueryResult<usize> {
    let sql = format!(
        "INSERT INTO audit_events (actor, actor_agency_id, client_id, action, basis, request_id, \
           access_reason, detail) \
         SELECT $1, $2, k.id, $3, b.basis, $4, \
           CASE WHEN b.basis = 'helpdesk' THEN $5 END, NULL \
         {} AND b.basis IN {}",
        clients_sql(s, Slots::at(6)),
        full_bases_sql(),
    );
    let q = diesel::sql_query(sql)
        .into_boxed()
        .bind::<Text, _>(actor.sub)
        .bind::<Nullable<SqlUuid>, _>(actor.agency)
        .bind::<Text, _>(action)
        .bind::<Nullable<Text>, _>(actor.request_id)
        .bind::<Nullable<Text>, _>(actor.access_reason);
    bind_viewer(q, s).execute(conn)
}
