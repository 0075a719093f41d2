//! The rows of an HMIS CSV export, as the consent filter of `consent::sql` lets them through to
//! the viewer: the stays of the CoC's projects in the export window, their clients, and their
//! data of one kind.
//!
//! One pass reads keyset pages of candidate clients (`client_id > cursor ORDER BY client_id
//! LIMIT n`, never OFFSET, on the index of stays by client: the clients with a stay in the CoC's
//! projects), then applies the consent filter to that page's candidates (`= ANY(...)`): the
//! clients, their exported stays, and those stays' data. The cursor moves by candidates, not by
//! rows kept, so every page costs the same however many rows the filter drops.
//!
//! A stay is exported when the viewer reaches it (its entry is released, or data of it is:
//! datum rule 6) and it overlaps the window `[start, end]`. A continuation (entry withheld) is
//! dated by the first day of the data released in it. Every value is a bind parameter (`scoped`),
//! so each statement's text is fixed per viewer kind and prepared once per connection.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::prelude::*;
use diesel::sql_types::{Array, Date, Int2, Jsonb, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel::PgConnection;
use uuid::Uuid;

use crate::consent::sql::{
    basis_sql, datum_access_sql, exit_may_be_withheld_sql, full_bases_sql, kept_row_access_sql,
    stay_entry_access_sql, stay_exit_access_sql, Slots, KEPT_ROW_FACTS_SQL,
};
use crate::consent::{DatumKind, Viewer};
use crate::db::cached_sql::{padded_ids, CachedSql, Value};
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
/// `entry_access`, `exit_access`, `entry_on` (the date exported as `EntryDate`) and
/// `project_coc`; `join` is more tables joined after `c`, `basis` the record's basis as decided
/// already (an expression over them or the outer query: decided once per record, not once per
/// stay), `extra` more conditions on `e` (ANDed).
///
/// The exit is a datum of its own: a withheld exit is not exported (`exit_date`, `destination`
/// and `destination_subsidy_type` come out null) and the stay is judged against the window as
/// the caller sees it, without an exit; a released exit releases a stay whose entry is withheld
/// (a continuation, datum rule 6), dated by its exit when nothing released in it is earlier.
fn stays_sql(s: &Scope, slots: Slots, join: &str, basis: &str, extra: &str) -> String {
    let entry = stay_entry_access_sql(&s.viewer, slots, "b.basis");
    let exit = stay_exit_access_sql(&s.viewer, slots, "b.basis");
    let structured = datum_access_sql(&s.viewer, slots, "b.basis", DatumKind::Structured);
    let free = datum_access_sql(&s.viewer, slots, "b.basis", DatumKind::FreeText);
    let kept = kept_row_access_sql(&s.viewer, slots, "b.basis");
    format!(
        "SELECT x.* FROM (SELECT e.id, e.client_id, e.project_id, e.household_id, \
            e.relationship_to_hoh, e.entry_date, e.enrollment_coc, e.living_situation, \
            e.length_of_stay, e.los_under_threshold, e.previous_street_essh, \
            e.date_to_street_essh, e.times_homeless_past_three_years, \
            e.months_homeless_past_three_years, e.entered_by_user, e.created_at, e.updated_at, \
            CASE WHEN xa.exit_access IS NOT NULL THEN e.exit_date END AS exit_date, \
            CASE WHEN xa.exit_access IS NOT NULL THEN e.destination END AS destination, \
            CASE WHEN xa.exit_access IS NOT NULL THEN e.destination_subsidy_type END \
              AS destination_subsidy_type, \
            a.coc_code AS project_coc, b.basis, ea.entry_access, xa.exit_access, \
            CASE WHEN ea.entry_access IS NOT NULL THEN e.entry_date \
                 ELSE r.first_released END AS entry_on, r.first_released \
           FROM enrollments e \
           JOIN projects p ON p.id = e.project_id JOIN agencies a ON a.id = p.agency_id \
           JOIN clients c ON c.id = e.client_id {join} \
           CROSS JOIN LATERAL (SELECT {basis} AS basis OFFSET 0) b \
           CROSS JOIN LATERAL (SELECT {entry} AS entry_access OFFSET 0) ea \
           CROSS JOIN LATERAL (SELECT {exit} AS exit_access OFFSET 0) xa \
           CROSS JOIN LATERAL (SELECT CASE WHEN ea.entry_access IS NULL THEN LEAST( \
               (SELECT min(d.occurred_on) FROM enrollment_data d WHERE d.enrollment_id = e.id \
                AND (CASE WHEN d.kind = 'case_note' THEN {free} ELSE {structured} END) IS NOT NULL), \
               (SELECT min(d.collected_on) FROM hmis_rows h CROSS JOIN LATERAL ({KEPT_ROW_FACTS_SQL}) d \
                WHERE h.enrollment_id = e.id AND h.target_id IS NULL AND {kept} IS NOT NULL), \
               CASE WHEN xa.exit_access IS NOT NULL THEN e.exit_date END) \
             END AS first_released OFFSET 0) r \
           WHERE a.coc_code = $1 AND c.lifecycle <> 'merged' AND b.basis IS NOT NULL {extra}) x \
         WHERE (x.entry_access IS NOT NULL OR x.first_released IS NOT NULL) \
           AND x.entry_on <= $3 AND (x.exit_date IS NULL OR x.exit_date >= $2)",
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
    /// The exit's datum access: `None` when the stay has no exit or the exit is withheld (the
    /// exit's columns below are then null).
    #[diesel(sql_type = Nullable<Text>)]
    pub exit_access: Option<String>,
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

/// Over `COC_STAYS`: the CoC's, not exited before the window as far as the viewer may know (a
/// stay whose exit the datum rule may withhold is a candidate whatever its exit: the viewer sees
/// it without one). The candidates of every file.
fn coc_stays_where(s: &Scope, slots: Slots) -> String {
    format!(
        "a.coc_code = $1 AND (e.exit_date IS NULL OR e.exit_date >= $2 OR {})",
        exit_may_be_withheld_sql(&s.viewer, slots)
    )
}

/// Every statement here binds the scope first (`$1` the CoC code, `$2` the window's start, `$3`
/// its end), then `page` (`$4`: a cursor or a page of ids), then the viewer's values (`Slots` at
/// `$5`): a fixed text per viewer kind, prepared once per connection.
fn scoped(s: &Scope, page: Value) -> (Slots, Vec<Value>) {
    crate::repo::visible::with_viewer(
        &s.viewer,
        s.today,
        vec![s.coc.as_str().into(), s.start.into(), s.end.into(), page],
    )
}

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
}

fn ids(conn: &mut PgConnection, s: &Scope, sql: String, after: Uuid) -> QueryResult<Vec<Uuid>> {
    let (_, values) = scoped(s, after.into());
    let rows: Vec<Id> = CachedSql::new(sql).bind_all(values).load(conn)?;
    Ok(rows.into_iter().map(|r| r.id).collect())
}

/// The exported stays of `clients` (found in this snapshot, with their basis), by client and id.
pub fn stays_of_clients(
    conn: &mut PgConnection,
    s: &Scope,
    clients: &[ClientRow],
) -> QueryResult<Vec<StayRow>> {
    let ids: Vec<Uuid> = clients.iter().map(|c| c.id).collect();
    let bases: Vec<String> = clients.iter().map(|c| c.basis.clone()).collect();
    let (slots, mut values) = scoped(s, ids.into());
    let b = values.len() + 1;
    values.push(bases.into());
    let sql = format!(
        "{} ORDER BY x.client_id, x.id",
        stays_sql(
            s,
            slots,
            &format!("JOIN unnest($4::uuid[], ${b}::text[]) AS kb(id, basis) ON kb.id = c.id"),
            "kb.basis",
            ""
        )
    );
    CachedSql::new(sql).bind_all(values).load(conn)
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

/// The clients `k` with at least one exported stay, with their basis `kb.basis`. The stays are
/// probed per client (correlated on `k.id`, by index): a semi-join against the whole set of
/// exported stays would build that set again for every page.
fn clients_sql(s: &Scope, slots: Slots) -> String {
    format!(
        "FROM clients k \
         CROSS JOIN LATERAL (SELECT {basis} AS basis FROM clients c WHERE c.id = k.id OFFSET 0) kb \
         WHERE k.lifecycle <> 'merged' AND kb.basis IS NOT NULL \
           AND EXISTS ({stays})",
        basis = basis_sql(&s.viewer, slots),
        stays = stays_sql(s, slots, "", "kb.basis", "AND e.client_id = k.id"),
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
    let (slots, _) = scoped(s, after.into());
    let sql = format!(
        "SELECT DISTINCT e.client_id AS id FROM {COC_STAYS} WHERE {} \
         AND e.client_id > $4 ORDER BY e.client_id LIMIT {limit}",
        coc_stays_where(s, slots)
    );
    ids(conn, s, sql, after)
}

/// Of the candidate clients `ids`, those the viewer sees (not merged), by id; the export keeps
/// those with an exported stay.
pub fn clients_among(
    conn: &mut PgConnection,
    s: &Scope,
    ids: &[Uuid],
) -> QueryResult<Vec<ClientRow>> {
    let (slots, values) = scoped(s, padded_ids(ids).into());
    let sql = format!(
        "SELECT k.id, b.basis, k.first_name, k.middle_name, k.last_name, k.name_suffix, \
           k.name_quality, k.ssn, k.ssn_quality, k.dob, k.dob_quality, k.race, k.race_none, \
           k.additional_race_ethnicity, k.gender, k.gender_none, k.different_identity_text, \
           k.sex, k.veteran_status, k.created_by_user, k.created_at, k.updated_at \
         FROM clients k \
         CROSS JOIN LATERAL (SELECT {} AS basis FROM clients c WHERE c.id = k.id OFFSET 0) b \
         WHERE k.id = ANY($4) AND k.lifecycle <> 'merged' AND b.basis IS NOT NULL ORDER BY k.id",
        basis_sql(&s.viewer, slots)
    );
    CachedSql::new(sql).bind_all(values).load(conn)
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

/// The data the viewer sees of `stays` (found exported in this snapshot), of the kinds the
/// export carries, by id. The basis is decided once per stay, the datum rule per row.
pub fn data_of_stays(
    conn: &mut PgConnection,
    s: &Scope,
    stays: &[StayRow],
) -> QueryResult<Vec<DatumRow>> {
    let (slots, values) = stays_with_basis(s, stays);
    let sql = format!(
        "SELECT dd.* FROM (SELECT d.id, d.kind, d.enrollment_id, d.client_id, d.occurred_on, \
             d.fields, d.entered_by_user, d.created_at, {access} AS datum_access \
           FROM unnest($4::uuid[], ${b}::text[]) AS b(id, basis) \
           JOIN enrollment_data d ON d.enrollment_id = b.id \
           WHERE d.kind IN {EXPORTED_KINDS} OFFSET 0) dd \
         WHERE dd.datum_access IS NOT NULL ORDER BY dd.id",
        access = datum_access_sql(&s.viewer, slots, "b.basis", DatumKind::Structured),
        b = values.len(),
    );
    CachedSql::new(sql).bind_all(values).load(conn)
}

/// The scope's values with `stays`' ids as `$4` and their records' bases last: the data of a
/// stay found exported in this snapshot take the basis decided for its record then.
fn stays_with_basis(s: &Scope, stays: &[StayRow]) -> (Slots, Vec<Value>) {
    let ids: Vec<Uuid> = stays.iter().map(|st| st.id).collect();
    let bases: Vec<String> = stays.iter().map(|st| st.basis.clone()).collect();
    let (slots, mut values) = scoped(s, ids.into());
    values.push(bases.into());
    (slots, values)
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
    let (_, mut values) = scoped(s, Value::Uuid(None));
    let first = values.len() + 1;
    let slots = Slots::at(5);
    values.extend([
        actor.sub.into(),
        actor.agency.into(),
        action.into(),
        actor.request_id.into(),
        actor.access_reason.into(),
    ]);
    let p = |i: usize| format!("${}", first + i);
    let sql = format!(
        "INSERT INTO audit_events (actor, actor_agency_id, client_id, action, basis, request_id, \
           access_reason, detail) \
         SELECT {sub}, {agency}, k.id, {action}, kb.basis, {request}, \
           CASE WHEN kb.basis = 'helpdesk' THEN {reason} END, NULL \
         {clients} AND kb.basis IN {full}",
        sub = p(0),
        agency = p(1),
        action = p(2),
        request = p(3),
        reason = p(4),
        clients = clients_sql(s, slots),
        full = full_bases_sql(),
    );
    CachedSql::new(sql).bind_all(values).execute(conn)
}

/// A source row an import kept whole (`hmis_rows`), with the viewer's datum access when the
/// statement decided it.
#[derive(Debug, Clone, QueryableByName)]
pub struct KeptRow {
    #[diesel(sql_type = Uuid_)]
    pub agency_id: Uuid,
    #[diesel(sql_type = Text)]
    pub file: String,
    #[diesel(sql_type = Text)]
    pub source_id: String,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub client_id: Option<Uuid>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub enrollment_id: Option<Uuid>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub target_id: Option<Uuid>,
    /// The row's HUD columns to values, as the JSON text kept (parsed only when the row is
    /// written: a page of kept rows stays small).
    #[diesel(sql_type = Text)]
    pub fields: String,
    #[diesel(sql_type = diesel::sql_types::Int8)]
    pub seq: i64,
    #[diesel(sql_type = Nullable<Text>)]
    pub datum_access: Option<String>,
}

type Uuid_ = SqlUuid;

/// `('A', 'B')` of HUD file names (constants of the code: letters only).
fn file_list(files: &[&'static str]) -> String {
    assert!(files
        .iter()
        .all(|f| !f.is_empty() && f.chars().all(|c| c.is_ascii_alphabetic())));
    let quoted: Vec<String> = files.iter().map(|f| format!("'{f}'")).collect();
    format!("({})", quoted.join(", "))
}

const KEPT_COLUMNS: &str =
    "h.agency_id, h.file, h.source_id, h.client_id, h.enrollment_id, h.target_id, \
     h.fields::text AS fields, h.seq";

/// The kept rows of the Hearth rows `targets` of `files` (each exported already, under its own
/// access: a kept row is shown as its typed row is), by `seq`.
pub fn kept_of_targets(
    conn: &mut PgConnection,
    files: &[&'static str],
    targets: &[Uuid],
) -> QueryResult<Vec<KeptRow>> {
    if targets.is_empty() {
        return Ok(Vec::new());
    }
    CachedSql::new(format!(
        "SELECT {KEPT_COLUMNS}, NULL::text AS datum_access FROM hmis_rows h \
         WHERE h.target_id = ANY($1) AND h.file IN {} ORDER BY h.seq",
        file_list(files)
    ))
    .bind_all(vec![padded_ids(targets).into()])
    .load(conn)
}

/// The rows kept only whole (no typed home) that hang from the exported `stays`, with the datum
/// access the viewer has to each (the datum rule over the row's agency and collection day; the
/// stay's record decides the basis); those withheld are left out. By `seq`.
pub fn kept_of_stays(
    conn: &mut PgConnection,
    s: &Scope,
    stays: &[StayRow],
) -> QueryResult<Vec<KeptRow>> {
    let (slots, values) = stays_with_basis(s, stays);
    let sql = format!(
        "SELECT hh.* FROM (SELECT {KEPT_COLUMNS}, {access} AS datum_access \
           FROM unnest($4::uuid[], ${b}::text[]) AS b(id, basis) \
           JOIN enrollments e ON e.id = b.id \
           JOIN hmis_rows h ON h.enrollment_id = e.id \
           CROSS JOIN LATERAL ({KEPT_ROW_FACTS_SQL}) d \
           WHERE h.target_id IS NULL OFFSET 0) hh \
         WHERE hh.datum_access IS NOT NULL ORDER BY hh.seq",
        access = kept_row_access_sql(&s.viewer, slots, "b.basis"),
        b = values.len(),
    );
    CachedSql::new(sql).bind_all(values).load(conn)
}

/// The kept rows of the CoC's agencies that describe them rather than a client (Organization,
/// Project, Funder, ProjectCoC, Inventory, Affiliation, HMISParticipation, CEParticipation,
/// User), by `seq`.
pub fn kept_descriptors(conn: &mut PgConnection, coc: &CocCode) -> QueryResult<Vec<KeptRow>> {
    CachedSql::new(format!(
        "SELECT {KEPT_COLUMNS}, NULL::text AS datum_access FROM hmis_rows h \
         JOIN agencies a ON a.id = h.agency_id \
         WHERE a.coc_code = $1 AND h.client_id IS NULL AND h.enrollment_id IS NULL \
         ORDER BY h.seq"
    ))
    .bind_all(vec![coc.as_str().into()])
    .load(conn)
}

/// Whether an import ever kept rows or source ids for one of the CoC's agencies (else an export
/// need not look for kept rows or source ids at all).
pub fn coc_has_imports(conn: &mut PgConnection, coc: &CocCode) -> QueryResult<bool> {
    #[derive(QueryableByName)]
    struct Any {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        any: bool,
    }
    let r: Any = CachedSql::new(
        "SELECT EXISTS (SELECT 1 FROM agencies a JOIN hmis_rows h ON h.agency_id = a.id \
         WHERE a.coc_code = $1) OR EXISTS (SELECT 1 FROM agencies a \
         JOIN import_sources i ON i.agency_id = a.id WHERE a.coc_code = $1) AS any"
            .to_string(),
    )
    .bind_all(vec![coc.as_str().into()])
    .get_result(conn)?;
    Ok(r.any)
}

/// A source id an import mapped to a Hearth row.
#[derive(Debug, Clone, QueryableByName)]
pub struct SourceId {
    #[diesel(sql_type = Text)]
    pub file: String,
    #[diesel(sql_type = SqlUuid)]
    pub target_id: Uuid,
    #[diesel(sql_type = Text)]
    pub source_id: String,
}

/// The source ids of `files` that became the Hearth rows `targets`.
pub fn source_ids(
    conn: &mut PgConnection,
    files: &[&'static str],
    targets: &[Uuid],
) -> QueryResult<Vec<SourceId>> {
    if targets.is_empty() {
        return Ok(Vec::new());
    }
    CachedSql::new(format!(
        "SELECT file, target_id, source_id FROM hmis_rows \
         WHERE target_id = ANY($1) AND file IN {files} \
         UNION ALL SELECT file, target_id, source_id FROM import_sources \
         WHERE target_id = ANY($1) AND file IN {files} ORDER BY source_id",
        files = file_list(files)
    ))
    .bind_all(vec![padded_ids(targets).into()])
    .load(conn)
}
