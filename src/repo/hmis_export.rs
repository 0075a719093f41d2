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

use crate::consent::listing::TenantScope;
use crate::consent::sql::{
    basis_sql, datum_access_sql, exit_may_be_withheld_sql, full_bases_sql, kept_row_access_sql,
    stay_datum_access_sql, stay_entry_access_sql, stay_exit_access_sql, Slots, KEPT_ROW_FACTS_SQL,
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
    /// The agencies (and their projects) the caller may see through the API: what the
    /// descriptor files describe (`consent::listing::TenantScope::export_description`).
    pub tenants: TenantScope,
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
    let stay_datum = stay_datum_access_sql(&s.viewer, slots, "b.basis");
    let kept = kept_row_access_sql(&s.viewer, slots, "b.basis");
    format!(
        "SELECT x.* FROM (SELECT e.id, e.client_id, e.project_id, e.household_id, \
            e.relationship_to_hoh, e.entry_date, e.enrollment_coc, e.living_situation, \
            e.length_of_stay, e.los_under_threshold, e.previous_street_essh, \
            e.date_to_street_essh, e.times_homeless_past_three_years, \
            e.months_homeless_past_three_years, e.entered_by_agency, e.entered_by_user, \
            e.created_at, e.updated_at, \
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
                AND {stay_datum} IS NOT NULL), \
               (SELECT min(d.collected_on) FROM hmis_rows h CROSS JOIN LATERAL ({KEPT_ROW_FACTS_SQL}) d \
                WHERE h.enrollment_id = e.id AND h.target_id IS NULL AND {not_part} \
                AND {kept} IS NOT NULL), \
               CASE WHEN xa.exit_access IS NOT NULL THEN e.exit_date END) \
             END AS first_released OFFSET 0) r \
           WHERE a.coc_code = $1 AND c.lifecycle <> 'merged' AND b.basis IS NOT NULL {extra}) x \
         WHERE (x.entry_access IS NOT NULL OR x.first_released IS NOT NULL) \
           AND x.entry_on <= $3 AND (x.exit_date IS NULL OR x.exit_date >= $2)",
        not_part = crate::consent::kept_rows::NOT_ASSESSMENT_PART_SQL,
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
    #[diesel(sql_type = SqlUuid)]
    pub entered_by_agency: Uuid,
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

/// The exported stays of `clients` (found in this snapshot, with their basis), by id: the order
/// of Enrollment.csv within a page, and of the stays' data.
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
        "{} ORDER BY x.id",
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
    #[diesel(sql_type = SqlUuid)]
    pub created_by_agency: Uuid,
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
           k.sex, k.veteran_status, k.created_by_agency, k.created_by_user, k.created_at, \
           k.updated_at \
         FROM clients k \
         CROSS JOIN LATERAL (SELECT {} AS basis FROM clients c WHERE c.id = k.id OFFSET 0) b \
         WHERE k.id = ANY($4) AND k.lifecycle <> 'merged' AND b.basis IS NOT NULL ORDER BY k.id",
        basis_sql(&s.viewer, slots)
    );
    CachedSql::new(sql).bind_all(values).load(conn)
}

/// A stay datum Hearth holds, as exported, with its datum access (`full` or `non_pii`; `None`
/// when withheld, or when an import made it: [`imported_page`] gives those with their source
/// row). Its `fields` are read only when it is exported.
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
    #[diesel(sql_type = Nullable<Jsonb>)]
    pub fields: Option<serde_json::Value>,
    #[diesel(sql_type = SqlUuid)]
    pub entered_by_agency: Uuid,
    #[diesel(sql_type = Text)]
    pub entered_by_user: String,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
    #[diesel(sql_type = Nullable<Text>)]
    pub datum_access: Option<String>,
}

/// The kinds of stay data an export carries (each has a HUD file).
pub const EXPORTED_KINDS: &str =
    "('service', 'current_living_situation', 'assessment', 'ce_event')";

/// Rows per statement of a stay-data page: a page of clients' data is read in pages of rows, so
/// no statement reads more than this many rows whatever a stay holds (millions of bed nights).
pub const ROWS: i64 = 5000;

/// Where [`hearth_data`] stands within the first stay it is given: the last datum read of it, by
/// (kind, day, id).
#[derive(Debug, Clone, PartialEq)]
pub struct DatumKey {
    pub kind: String,
    pub occurred_on: NaiveDate,
    pub id: Uuid,
}

impl DatumKey {
    /// Before every datum of a stay.
    pub fn start() -> DatumKey {
        DatumKey {
            kind: String::new(),
            // PostgreSQL's first day (4714 BC): before every datum's.
            occurred_on: NaiveDate::from_ymd_opt(-4713, 11, 24).expect("a date"),
            id: Uuid::nil(),
        }
    }

    pub fn of(d: &DatumRow) -> DatumKey {
        DatumKey {
            kind: d.kind.clone(),
            occurred_on: d.occurred_on,
            id: d.id,
        }
    }
}

/// The next [`ROWS`] data of `stays` (found exported in this snapshot, by id), of the kinds the
/// export carries, by (stay, kind, day, id), each stay's after `after` (given one stay: where a
/// page of it ended; given several, [`DatumKey::start`]): on the index of stay data by stay, kind
/// and day, one range per stay, so a page reads its rows and no others however many the stays
/// hold. A datum an import made, or one the viewer may not see, comes without its fields or its
/// access (it only moves the cursor). The basis is decided once per stay, the datum rule per row.
pub fn hearth_data(
    conn: &mut PgConnection,
    s: &Scope,
    stays: &[StayRow],
    after: &DatumKey,
) -> QueryResult<Vec<DatumRow>> {
    let (slots, mut values) = stays_with_basis(s, stays);
    let b = values.len();
    let c = values.len() + 1;
    values.extend([
        after.kind.as_str().into(),
        after.occurred_on.into(),
        after.id.into(),
    ]);
    let sql = format!(
        "SELECT dd.id, dd.kind, dd.enrollment_id, dd.client_id, dd.occurred_on, \
           CASE WHEN a.datum_access IS NOT NULL THEN dd.fields END AS fields, \
           dd.entered_by_agency, dd.entered_by_user, dd.created_at, a.datum_access \
         FROM (SELECT d.id, d.kind, d.enrollment_id, d.client_id, d.occurred_on, d.fields, \
             d.entered_by_agency, d.entered_by_user, d.collected_on, d.created_at \
           FROM enrollment_data d WHERE d.enrollment_id = ANY($4) AND d.kind IN {EXPORTED_KINDS} \
             AND (d.kind, d.occurred_on, d.id) > (${c}, ${c1}, ${c2}) \
           ORDER BY d.enrollment_id, d.kind, d.occurred_on, d.id LIMIT {ROWS}) dd \
         JOIN unnest($4::uuid[], ${b}::text[]) AS b(id, basis) ON b.id = dd.enrollment_id \
         CROSS JOIN LATERAL (SELECT CASE WHEN EXISTS (SELECT 1 FROM hmis_rows h \
             WHERE h.target_id = dd.id) THEN NULL ELSE \
             (SELECT {access} FROM (SELECT dd.client_id, dd.entered_by_agency, dd.collected_on) d) \
             END AS datum_access OFFSET 0) a \
         ORDER BY dd.enrollment_id, dd.kind, dd.occurred_on, dd.id",
        access = datum_access_sql(&s.viewer, slots, "b.basis", DatumKind::Structured),
        c1 = c + 1,
        c2 = c + 2,
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
    /// The values sent that were outside their code list (`{"Column": "value"}`), as JSON text.
    #[diesel(sql_type = Nullable<Text>)]
    pub invalid: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub datum_access: Option<String>,
    /// Its key is written unique per agency (`hmis_csv::export_ids`; decided in memory for the
    /// rows that describe the CoC).
    #[diesel(sql_type = diesel::sql_types::Bool)]
    pub rewrite: bool,
    /// The `AssessmentID` it names (AssessmentQuestions, AssessmentResults) is.
    #[diesel(sql_type = diesel::sql_types::Bool)]
    pub ref_rewrite: bool,
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
     h.fields::text AS fields, h.seq, h.invalid::text AS invalid";

/// The kept rows of the Hearth rows `targets` of `files` (each exported already, under its own
/// access: a kept row is shown as its typed row is), by `seq`, with whether their keys are
/// written unique per agency.
pub fn kept_of_targets(
    conn: &mut PgConnection,
    coc: &CocCode,
    files: &[&'static str],
    targets: &[Uuid],
    importers: &Importers,
) -> QueryResult<Vec<KeptRow>> {
    if targets.is_empty() {
        return Ok(Vec::new());
    }
    CachedSql::new(format!(
        "SELECT {KEPT_COLUMNS}, NULL::text AS datum_access, {rewrite} AS rewrite, \
           false AS ref_rewrite FROM hmis_rows h \
         WHERE h.target_id = ANY($1) AND h.file IN {files} ORDER BY h.seq",
        files = file_list(files),
        rewrite = importers.rewrite_sql("h.file", "h.agency_id", "h.source_id", "$2", "$3"),
    ))
    .bind_all(vec![
        padded_ids(targets).into(),
        importers.agencies.clone().into(),
        coc.as_str().into(),
    ])
    .load(conn)
}

/// A source row an import kept of a stay's data, with the typed datum it became (when Hearth
/// holds one: bed-night Services, CurrentLivingSituation, Assessment, Event).
#[derive(Debug, Clone, QueryableByName)]
pub struct KeptDataRow {
    #[diesel(embed)]
    pub kept: KeptRow,
    #[diesel(sql_type = Nullable<Text>)]
    pub d_kind: Option<String>,
    #[diesel(sql_type = Nullable<Date>)]
    pub d_occurred_on: Option<NaiveDate>,
    #[diesel(sql_type = Nullable<Jsonb>)]
    pub d_fields: Option<serde_json::Value>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub d_client_id: Option<Uuid>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub d_entered_by_agency: Option<Uuid>,
    #[diesel(sql_type = Nullable<Text>)]
    pub d_entered_by_user: Option<String>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub d_created_at: Option<DateTime<Utc>>,
}

/// The next [`ROWS`] source rows an import kept of the data of `stays` (found exported in this
/// snapshot, by id; not their Enrollment and Exit rows), by (stay, seq), each stay's after
/// `after_seq` (given one stay: where a page of it ended; given several, 0): on the index of kept
/// rows by stay and order, one range per stay, so a statement reads at most [`ROWS`] rows
/// however many a stay holds. Each comes with the
/// typed datum it became, if any, and the viewer's datum access to it (the datum rule over the
/// datum, or over the row's agency and collection day for a row kept only whole; a part of an
/// Assessment, `consent::kept_rows::ASSESSMENT_PARTS`, only when the viewer also sees the
/// Assessment it names, kept of the same stay); a row the viewer may not see comes without its
/// values (the cursor passes it).
pub fn imported_page(
    conn: &mut PgConnection,
    s: &Scope,
    stays: &[StayRow],
    after_seq: i64,
    importers: &Importers,
) -> QueryResult<Vec<KeptDataRow>> {
    let (slots, mut values) = stays_with_basis(s, stays);
    let b = values.len();
    let c = values.len() + 1;
    let k = values.len() + 2;
    values.extend([Value::BigInt(after_seq), importers.agencies.clone().into()]);
    let k = format!("${k}");
    let assessment_ref = |file: &str| {
        crate::hmis_csv::kept::position(file, "AssessmentID")
            .map(|at| format!("WHEN '{file}' THEN h.fields->>{at}"))
            .unwrap_or_default()
    };
    let ref_id = format!(
        "CASE h.file {} {} END",
        assessment_ref("AssessmentQuestions"),
        assessment_ref("AssessmentResults")
    );
    let sql = format!(
        "SELECT h.agency_id, h.file, h.source_id, h.client_id, h.enrollment_id, h.target_id, \
           CASE WHEN x.access IS NOT NULL THEN h.fields::text ELSE '[]' END AS fields, h.seq, \
           h.invalid::text AS invalid, x.access AS datum_access, \
           {rewrite} AS rewrite, \
           CASE WHEN ({ref_id}) IS NULL THEN false ELSE {ref_rewrite} END AS ref_rewrite, \
           dt.kind AS d_kind, dt.occurred_on AS d_occurred_on, \
           CASE WHEN x.access IS NOT NULL THEN dt.fields END AS d_fields, \
           dt.client_id AS d_client_id, dt.entered_by_agency AS d_entered_by_agency, \
           dt.entered_by_user AS d_entered_by_user, dt.created_at AS d_created_at \
         FROM (SELECT h0.* FROM hmis_rows h0 WHERE h0.enrollment_id = ANY($4) \
             AND h0.seq > ${c} \
             AND h0.file NOT IN ('Enrollment', 'Exit') \
           ORDER BY h0.enrollment_id, h0.seq LIMIT {ROWS}) h \
         JOIN unnest($4::uuid[], ${b}::text[]) AS b(id, basis) ON b.id = h.enrollment_id \
         JOIN enrollments e ON e.id = h.enrollment_id \
         LEFT JOIN enrollment_data dt ON h.target_id IS NOT NULL AND dt.id = h.target_id \
           AND dt.kind IN {EXPORTED_KINDS} \
         CROSS JOIN LATERAL (SELECT CASE \
             WHEN h.target_id IS NULL AND ({ref_id}) IS NOT NULL THEN CASE WHEN \
               (SELECT {kept} FROM hmis_rows a CROSS JOIN LATERAL (SELECT e.client_id, \
                   a.agency_id AS entered_by_agency, \
                   COALESCE(a.collected_on, e.entry_date) AS collected_on) d \
                 WHERE a.agency_id = h.agency_id AND a.file = 'Assessment' \
                   AND a.source_id = btrim({ref_id}) COLLATE \"C\" \
                   AND a.enrollment_id = h.enrollment_id) IS NOT NULL \
               THEN (SELECT {kept} FROM ({KEPT_ROW_FACTS_SQL}) d) END \
             WHEN h.target_id IS NULL THEN (SELECT {kept} FROM ({KEPT_ROW_FACTS_SQL}) d) \
             WHEN dt.id IS NOT NULL THEN (SELECT {datum} FROM \
               (SELECT dt.client_id, dt.entered_by_agency, dt.collected_on) d) \
           END AS access OFFSET 0) x \
         ORDER BY h.enrollment_id, h.seq",
        kept = kept_row_access_sql(&s.viewer, slots, "b.basis"),
        datum = datum_access_sql(&s.viewer, slots, "b.basis", DatumKind::Structured),
        rewrite = importers.rewrite_sql("h.file", "h.agency_id", "h.source_id", &k, "$1"),
        ref_rewrite = importers.rewrite_sql("'Assessment'", "h.agency_id", &ref_id, &k, "$1"),
    );
    CachedSql::new(sql).bind_all(values).load(conn)
}

/// The kept rows of the CoC's agencies that describe them rather than a client (Organization,
/// Project, Funder, ProjectCoC, Inventory, Affiliation, HMISParticipation, CEParticipation,
/// User), by `seq`.
pub fn kept_descriptors(conn: &mut PgConnection, coc: &CocCode) -> QueryResult<Vec<KeptRow>> {
    CachedSql::new(format!(
        "SELECT {KEPT_COLUMNS}, NULL::text AS datum_access, false AS rewrite, \
           false AS ref_rewrite FROM hmis_rows h \
         JOIN agencies a ON a.id = h.agency_id \
         WHERE a.coc_code = $1 AND h.client_id IS NULL AND h.enrollment_id IS NULL \
         ORDER BY h.seq"
    ))
    .bind_all(vec![coc.as_str().into()])
    .load(conn)
}

/// The CoC's agencies that imported (an import kept rows or source ids for them), by id: the
/// owners of the source ids an export of the CoC writes (`hmis_csv::export_ids`).
#[derive(Debug, Clone, Default)]
pub struct Importers {
    pub agencies: Vec<Uuid>,
}

impl Importers {
    pub fn of(conn: &mut PgConnection, coc: &CocCode) -> QueryResult<Importers> {
        let agencies: Vec<Id> = CachedSql::new(
            // Probes of the primary keys (an `EXISTS` was planned as a scan of every kept row:
            // 1.4 s for an agency with none beside one with 3.7 million).
            "SELECT a.id FROM agencies a WHERE a.coc_code = $1 \
               AND ((SELECT h.agency_id FROM hmis_rows h WHERE h.agency_id = a.id \
                      ORDER BY h.agency_id, h.file, h.source_id LIMIT 1) IS NOT NULL \
                 OR (SELECT i.agency_id FROM import_sources i WHERE i.agency_id = a.id \
                      ORDER BY i.agency_id, i.file, i.source_id LIMIT 1) IS NOT NULL) \
             ORDER BY a.id"
                .to_string(),
        )
        .bind_all(vec![coc.as_str().into()])
        .load(conn)?;
        Ok(Importers {
            agencies: agencies.into_iter().map(|a| a.id).collect(),
        })
    }

    /// Whether anything was imported into the CoC (else no kept rows nor source ids to look for).
    pub fn any(&self) -> bool {
        !self.agencies.is_empty()
    }

    /// SQL: whether the source id `id` (text) of `file` that `agency` imported is written unique
    /// per agency (`hmis_csv::export_ids`): its agency is not one of the CoC's importers
    /// (`param`, this list as a `uuid[]` parameter), another of them imported the same id in the
    /// same file, or Hearth made a row of the file in the CoC (`coc`, the CoC code's parameter)
    /// whose id (32 hex digits) it is. One probe of the index by file and source id
    /// (`hmis_rows_source_idx`), however many agencies imported.
    pub fn rewrite_sql(
        &self,
        file: &str,
        agency: &str,
        id: &str,
        param: &str,
        coc: &str,
    ) -> String {
        // Every probe is a scalar subquery, not `EXISTS`: PostgreSQL may turn an `EXISTS` whose
        // correlation is an equality into a hash of its whole inner set (every stay of the CoC,
        // every kept row of the other agencies), built once per statement even when no row asks
        // (0.5 s for a page of 5,000 rows).
        let probe = |from_where: String| {
            format!("COALESCE((SELECT true FROM {from_where} LIMIT 1), false)")
        };
        let others = if self.agencies.len() > 1 {
            format!(
                "OR {} OR ({file} = 'Household' AND {})",
                probe(format!(
                    "hmis_rows o WHERE o.file = {file} AND o.source_id = ({id}) COLLATE \"C\" \
                     AND o.agency_id <> {agency} AND o.agency_id = ANY({param}::uuid[])"
                )),
                probe(format!(
                    "import_sources o WHERE o.file = 'Household' \
                     AND o.source_id = ({id}) COLLATE \"default\" \
                     AND o.agency_id <> {agency} AND o.agency_id = ANY({param}::uuid[])"
                )),
            )
        } else {
            String::new()
        };
        // A stay `x` of the CoC's projects matching `cond`.
        let stay = |cond: &str| {
            probe(format!(
                "enrollments x JOIN projects xp ON xp.id = x.project_id \
                 JOIN agencies xa ON xa.id = xp.agency_id WHERE {cond} AND xa.coc_code = {coc}"
            ))
        };
        let datum = probe(format!(
            "enrollment_data y JOIN enrollments x ON x.id = y.enrollment_id \
             JOIN projects xp ON xp.id = x.project_id JOIN agencies xa ON xa.id = xp.agency_id \
             WHERE y.id = ({id})::uuid AND xa.coc_code = {coc}"
        ));
        format!(
            "(NOT ({agency} = ANY({param}::uuid[])) {others} \
              OR CASE WHEN ({id}) COLLATE \"C\" ~ '^[0-9a-f]{{32}}$' THEN CASE {file} \
                WHEN 'Client' THEN {client} \
                WHEN 'Enrollment' THEN {enrollment} \
                WHEN 'Exit' THEN {enrollment} \
                WHEN 'Household' THEN {household} \
                WHEN 'Services' THEN {datum} \
                WHEN 'CurrentLivingSituation' THEN {datum} \
                WHEN 'Assessment' THEN {datum} \
                WHEN 'Event' THEN {datum} \
                ELSE false END ELSE false END)",
            client = stay(&format!("x.client_id = ({id})::uuid")),
            enrollment = stay(&format!("x.id = ({id})::uuid")),
            household = stay(&format!("x.household_id = ({id})::uuid")),
        )
    }
}

/// A source id an import mapped to a Hearth row, with the agency that imported it and whether
/// it is written unique per agency.
#[derive(Debug, Clone, QueryableByName)]
pub struct SourceId {
    #[diesel(sql_type = Text)]
    pub file: String,
    #[diesel(sql_type = SqlUuid)]
    pub target_id: Uuid,
    #[diesel(sql_type = Text)]
    pub source_id: String,
    #[diesel(sql_type = SqlUuid)]
    pub agency_id: Uuid,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    pub rewrite: bool,
}

/// The source ids of `files` that became the Hearth rows `targets`. Those of a record
/// de-identified in Hearth are left out: its rows are exported under Hearth's own ids, so a
/// vendor's `PersonalID` or `EnrollmentID` cannot tie the anonymous record back to its source.
pub fn source_ids(
    conn: &mut PgConnection,
    coc: &CocCode,
    files: &[&'static str],
    targets: &[Uuid],
    importers: &Importers,
) -> QueryResult<Vec<SourceId>> {
    if targets.is_empty() {
        return Ok(Vec::new());
    }
    CachedSql::new(format!(
        "SELECT s.file, s.target_id, s.source_id, s.agency_id, {rewrite} AS rewrite FROM ( \
           SELECT file, target_id, source_id, agency_id FROM hmis_rows \
           WHERE target_id = ANY($1) AND file IN {files} \
           UNION ALL SELECT file, target_id, source_id COLLATE \"C\", agency_id FROM import_sources \
           WHERE target_id = ANY($1) AND file IN {files} AND row_hash <> '{deidentified}') s \
         ORDER BY s.source_id",
        files = file_list(files),
        deidentified = crate::repo::hmis_import::DEIDENTIFIED,
        rewrite = importers.rewrite_sql("s.file", "s.agency_id", "s.source_id", "$2", "$3"),
    ))
    .bind_all(vec![
        padded_ids(targets).into(),
        importers.agencies.clone().into(),
        coc.as_str().into(),
    ])
    .load(conn)
}
