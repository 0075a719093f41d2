//! Queries of the HMIS CSV import: its jobs, the source ids it maps, and the rows it writes.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::PgConnection;
use uuid::Uuid;

use diesel::upsert::excluded;

use crate::db::schema::{
    client_contributors, clients, enrollment_data, enrollments, hmis_rows, import_jobs,
    import_sources, projects,
};
use crate::domain::identity::Identity;
use crate::domain::words::{IdentityMode, ImportMode, ImportStatus, Lifecycle, Visibility};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = import_jobs)]
pub struct JobRow {
    pub id: Uuid,
    pub agency_id: Uuid,
    pub mode: ImportMode,
    pub status: ImportStatus,
    pub submitted_by: String,
    pub version: Option<String>,
    pub progress: serde_json::Value,
    pub problems: serde_json::Value,
    pub problem_count: i32,
    pub summary: Option<serde_json::Value>,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
}

pub fn insert_job(conn: &mut PgConnection, row: &JobRow) -> QueryResult<JobRow> {
    diesel::insert_into(import_jobs::table)
        .values(row)
        .returning(JobRow::as_returning())
        .get_result(conn)
}

pub fn find_job(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<JobRow>> {
    import_jobs::table
        .find(id)
        .select(JobRow::as_select())
        .first(conn)
        .optional()
}

pub fn start_job(conn: &mut PgConnection, id: Uuid, version: Option<&str>) -> QueryResult<usize> {
    diesel::update(import_jobs::table.find(id))
        .set((
            import_jobs::status.eq(ImportStatus::Running),
            import_jobs::version.eq(version),
            import_jobs::started_at.eq(Utc::now()),
        ))
        .execute(conn)
}

pub fn set_progress(
    conn: &mut PgConnection,
    id: Uuid,
    progress: &serde_json::Value,
    problems: &serde_json::Value,
    problem_count: i32,
) -> QueryResult<usize> {
    diesel::update(import_jobs::table.find(id))
        .set((
            import_jobs::progress.eq(progress),
            import_jobs::problems.eq(problems),
            import_jobs::problem_count.eq(problem_count),
        ))
        .execute(conn)
}

pub fn finish_job(
    conn: &mut PgConnection,
    id: Uuid,
    status: ImportStatus,
    summary: &serde_json::Value,
) -> QueryResult<usize> {
    diesel::update(import_jobs::table.find(id))
        .set((
            import_jobs::status.eq(status),
            import_jobs::summary.eq(Some(summary)),
            import_jobs::finished_at.eq(Utc::now()),
        ))
        .execute(conn)
}

/// Jobs left running by a server that stopped: marked failed at start-up.
pub fn fail_interrupted_jobs(conn: &mut PgConnection) -> QueryResult<usize> {
    diesel::update(import_jobs::table.filter(import_jobs::status.eq_any([ImportStatus::Queued, ImportStatus::Running])))
        .set((
            import_jobs::status.eq(ImportStatus::Failed),
            import_jobs::summary.eq(Some(serde_json::json!({
                "outcome": "interrupted: the server stopped before the import finished; nothing was kept"
            }))),
            import_jobs::finished_at.eq(Utc::now()),
        ))
        .execute(conn)
}

/// Imports into one agency run one at a time: the lock is held until the transaction ends.
pub fn lock_agency_imports(conn: &mut PgConnection, agency: Uuid) -> QueryResult<()> {
    diesel::sql_query("SELECT pg_advisory_xact_lock(hashtextextended('hmis-import:' || $1, 0))")
        .bind::<diesel::sql_types::Text, _>(agency.to_string())
        .execute(conn)?;
    Ok(())
}

/// The files whose rows are parts of an Assessment (its `AssessmentID`): dated by it.
pub const ASSESSMENT_PARTS: &[&str] = crate::consent::kept_rows::ASSESSMENT_PARTS;

/// The collection day of the Assessment rows `ids` the agency imported (the day of the datum a
/// row became, else of the kept row): the day their questions and results are dated by.
pub fn assessment_days(
    conn: &mut PgConnection,
    agency: Uuid,
    ids: &[String],
) -> QueryResult<HashMap<String, NaiveDate>> {
    use diesel::sql_types::{Array, Date, Nullable, Text, Uuid as SqlUuid};
    #[derive(QueryableByName)]
    struct Day {
        #[diesel(sql_type = Text)]
        source_id: String,
        #[diesel(sql_type = Nullable<Date>)]
        day: Option<NaiveDate>,
    }
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<Day> = diesel::sql_query(
        "SELECT a.source_id, COALESCE(d.collected_on, a.collected_on) AS day FROM hmis_rows a \
         LEFT JOIN enrollment_data d ON a.target_id IS NOT NULL AND d.id = a.target_id \
         WHERE a.agency_id = $1 AND a.file = 'Assessment' AND a.source_id = ANY($2)",
    )
    .bind::<SqlUuid, _>(agency)
    .bind::<Array<Text>, _>(ids)
    .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|r| Some((r.source_id, r.day?)))
        .collect())
}

/// Dates the AssessmentQuestions and AssessmentResults rows the agency kept of the Assessment
/// rows `ids` by their Assessment's day again (an Assessment row changed by a later import).
pub fn redate_assessment_parts(
    conn: &mut PgConnection,
    agency: Uuid,
    ids: &[String],
) -> QueryResult<usize> {
    use diesel::sql_types::{Array, Text, Uuid as SqlUuid};
    if ids.is_empty() {
        return Ok(0);
    }
    let named = ASSESSMENT_PARTS
        .iter()
        .filter_map(|f| {
            let at = crate::hmis_csv::kept::position(f, "AssessmentID")?;
            Some(format!(
                "(q.file = '{f}' AND q.fields->>{at} = a.source_id)"
            ))
        })
        .collect::<Vec<_>>()
        .join(" OR ");
    diesel::sql_query(format!(
        "UPDATE hmis_rows q SET collected_on = a.day FROM ( \
           SELECT a.source_id, COALESCE(d.collected_on, a.collected_on) AS day FROM hmis_rows a \
           LEFT JOIN enrollment_data d ON a.target_id IS NOT NULL AND d.id = a.target_id \
           WHERE a.agency_id = $1 AND a.file = 'Assessment' AND a.source_id = ANY($2)) a \
         WHERE q.agency_id = $1 AND q.file IN ('AssessmentQuestions', 'AssessmentResults') \
           AND ({named}) AND a.day IS NOT NULL AND q.collected_on IS DISTINCT FROM a.day"
    ))
    .bind::<SqlUuid, _>(agency)
    .bind::<Array<Text>, _>(ids)
    .execute(conn)
}

/// A source row taken before: the Hearth row it became and the hash of its values.
#[derive(Debug, Clone, PartialEq)]
pub struct Source {
    pub target: Uuid,
    pub hash: String,
}

/// Every source id of `file` the agency imported before: the kept rows of the file (their target,
/// or what they hang from when kept only whole), and what `import_sources` holds of the file (the
/// households an import took; rows of de-identified records, `DEIDENTIFIED`; and source ids of
/// imports older than kept rows). A kept row wins over an `import_sources` row of its key.
pub fn sources_of(
    conn: &mut PgConnection,
    agency: Uuid,
    file: &str,
) -> QueryResult<HashMap<String, Source>> {
    sources_among(conn, agency, file, None)
}

/// [`sources_of`] for the source ids `keys` only (a chunk of a file's rows).
pub fn sources_of_keys(
    conn: &mut PgConnection,
    agency: Uuid,
    file: &str,
    keys: &[String],
) -> QueryResult<HashMap<String, Source>> {
    sources_among(conn, agency, file, Some(keys))
}

fn sources_among(
    conn: &mut PgConnection,
    agency: Uuid,
    file: &str,
    keys: Option<&[String]>,
) -> QueryResult<HashMap<String, Source>> {
    let mut older = import_sources::table
        .filter(import_sources::agency_id.eq(agency))
        .filter(import_sources::file.eq(file))
        .select((
            import_sources::source_id,
            import_sources::target_id,
            import_sources::row_hash,
        ))
        .into_boxed();
    if let Some(keys) = keys {
        older = older.filter(import_sources::source_id.eq_any(keys));
    }
    let older: Vec<(String, Uuid, String)> = older.load(conn)?;
    let mut out: HashMap<String, Source> = older
        .into_iter()
        .map(|(s, target, hash)| (s, Source { target, hash }))
        .collect();
    if file == HOUSEHOLD {
        return Ok(out);
    }
    type Kept = (String, Option<Uuid>, Option<Uuid>, Option<Uuid>, String);
    let mut kept = hmis_rows::table
        .filter(hmis_rows::agency_id.eq(agency))
        .filter(hmis_rows::file.eq(file))
        .select((
            hmis_rows::source_id,
            hmis_rows::target_id,
            hmis_rows::enrollment_id,
            hmis_rows::client_id,
            hmis_rows::row_hash,
        ))
        .into_boxed();
    if let Some(keys) = keys {
        kept = kept.filter(hmis_rows::source_id.eq_any(keys));
    }
    let rows: Vec<Kept> = kept.load(conn)?;
    out.extend(rows.into_iter().map(|(s, target, stay, client, hash)| {
        let target = target.or(stay).or(client).unwrap_or(agency);
        (s, Source { target, hash })
    }));
    Ok(out)
}

/// Whether the agency imported any row of `file` before (kept, or only its source id).
pub fn has_sources(conn: &mut PgConnection, agency: Uuid, file: &str) -> QueryResult<bool> {
    use diesel::dsl::exists;
    let kept = diesel::select(exists(
        hmis_rows::table
            .filter(hmis_rows::agency_id.eq(agency))
            .filter(hmis_rows::file.eq(file)),
    ))
    .get_result(conn)?;
    if kept {
        return Ok(true);
    }
    diesel::select(exists(
        import_sources::table
            .filter(import_sources::agency_id.eq(agency))
            .filter(import_sources::file.eq(file)),
    ))
    .get_result(conn)
}

/// The `file` of the source HouseholdIDs an import took (`import_sources`).
pub const HOUSEHOLD: &str = "Household";

/// The `row_hash` of a source row whose record was de-identified: its kept row is gone, its
/// source id and target stay in `import_sources` so that an import neither takes it as new nor
/// writes it again.
pub const DEIDENTIFIED: &str = "deidentified";

/// A project an import made: the source's `DateCreated` and `DateUpdated` as its times when the
/// row gives them, else the import's.
pub fn insert_project(
    conn: &mut PgConnection,
    id: Uuid,
    agency: Uuid,
    name: &str,
    project_type: i16,
    created: Option<DateTime<Utc>>,
    updated: Option<DateTime<Utc>>,
) -> QueryResult<usize> {
    let now = Utc::now();
    diesel::insert_into(projects::table)
        .values((
            projects::id.eq(id),
            projects::agency_id.eq(agency),
            projects::name.eq(name),
            projects::project_type.eq(project_type),
            projects::ce_entry_point.eq(false),
            projects::created_at.eq(created.unwrap_or(now)),
            projects::updated_at.eq(updated.or(created).unwrap_or(now)),
        ))
        .execute(conn)
}

pub fn update_project(
    conn: &mut PgConnection,
    id: Uuid,
    name: &str,
    project_type: i16,
    created: Option<DateTime<Utc>>,
    updated: Option<DateTime<Utc>>,
) -> QueryResult<usize> {
    diesel::update(projects::table.find(id))
        .set((
            projects::name.eq(name),
            projects::project_type.eq(project_type),
            projects::version.eq(projects::version + 1),
            projects::created_at.eq(diesel::dsl::sql::<diesel::sql_types::Timestamptz>(
                "COALESCE(",
            )
            .bind::<diesel::sql_types::Nullable<diesel::sql_types::Timestamptz>, _>(created)
            .sql(", created_at)")),
            projects::updated_at.eq(updated.unwrap_or_else(Utc::now)),
        ))
        .execute(conn)
}

/// The identity of an imported record, as Hearth declares it (`domain::identity::Identity`),
/// with its mode and the source's update time.
#[derive(Debug, Clone, AsChangeset, Insertable)]
#[diesel(table_name = clients, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct ImportedIdentity {
    pub identity_mode: IdentityMode,
    pub updated_at: DateTime<Utc>,
    #[diesel(embed)]
    pub identity: Identity,
}

/// Rewrites an imported record's identity, with the source's `DateCreated` when the row has one.
pub fn update_client(
    conn: &mut PgConnection,
    id: Uuid,
    identity: &ImportedIdentity,
    created_at: Option<DateTime<Utc>>,
) -> QueryResult<usize> {
    match created_at {
        Some(t) => diesel::update(clients::table.find(id))
            .set((identity, clients::created_at.eq(t)))
            .execute(conn),
        None => diesel::update(clients::table.find(id))
            .set(identity)
            .execute(conn),
    }
}

/// The entry date of a stay (an exit before it cannot be kept).
pub fn entry_date_of(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<NaiveDate>> {
    enrollments::table
        .find(id)
        .select(enrollments::entry_date)
        .first(conn)
        .optional()
}

/// Rows are written in batches of this many (PostgreSQL takes at most 65,535 parameters).
pub const BATCH: usize = 1_000;

/// Rows new to Hearth go in with `COPY FROM STDIN` (binary), this many at a time at most.
pub const COPY_BATCH: usize = 5_000;

/// A source HouseholdID an import took.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = import_sources, treat_none_as_default_value = false)]
pub struct SourceRow {
    pub agency_id: Uuid,
    pub file: String,
    pub source_id: String,
    pub target_id: Uuid,
    pub row_hash: String,
    pub invalid: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = hmis_rows, treat_none_as_default_value = false)]
pub struct WholeRow {
    pub agency_id: Uuid,
    pub file: String,
    pub source_id: String,
    pub client_id: Option<Uuid>,
    pub enrollment_id: Option<Uuid>,
    pub fields: JsonText,
    pub target_id: Option<Uuid>,
    pub collected_on: Option<chrono::NaiveDate>,
    /// The hash of the row's values: importing it again unchanged changes nothing.
    pub row_hash: String,
    /// Values outside their code list, kept as sent: {"Column": "value"} (lenient mode).
    pub invalid: Option<serde_json::Value>,
}

/// A kept row's values already written out (`hmis_csv::kept::encode`), stored as `json`
/// as it is: no `serde_json::Value` is built to be written out again.
#[derive(Debug, Clone, diesel::expression::AsExpression)]
#[diesel(sql_type = diesel::sql_types::Json)]
pub struct JsonText(pub String);

impl diesel::serialize::ToSql<diesel::sql_types::Json, diesel::pg::Pg> for JsonText {
    fn to_sql<'b>(
        &'b self,
        out: &mut diesel::serialize::Output<'b, '_, diesel::pg::Pg>,
    ) -> diesel::serialize::Result {
        use std::io::Write;
        // json's binary form is its text.
        out.write_all(self.0.as_bytes())?;
        Ok(diesel::serialize::IsNull::No)
    }
}

pub fn put_whole_rows(conn: &mut PgConnection, rows: &[WholeRow]) -> QueryResult<usize> {
    if rows.is_empty() {
        return Ok(0);
    }
    diesel::insert_into(hmis_rows::table)
        .values(rows)
        .on_conflict((hmis_rows::agency_id, hmis_rows::file, hmis_rows::source_id))
        .do_update()
        .set((
            hmis_rows::client_id.eq(excluded(hmis_rows::client_id)),
            hmis_rows::enrollment_id.eq(excluded(hmis_rows::enrollment_id)),
            hmis_rows::fields.eq(excluded(hmis_rows::fields)),
            hmis_rows::target_id.eq(excluded(hmis_rows::target_id)),
            hmis_rows::collected_on.eq(excluded(hmis_rows::collected_on)),
            hmis_rows::row_hash.eq(excluded(hmis_rows::row_hash)),
            hmis_rows::invalid.eq(excluded(hmis_rows::invalid)),
        ))
        .execute(conn)
}

/// A new record, whole.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = clients, treat_none_as_default_value = false)]
pub struct NewImportedClient {
    pub id: Uuid,
    pub short_uid: String,
    pub person_id: Uuid,
    pub coc_code: String,
    pub created_by_agency: Uuid,
    pub created_by_user: String,
    pub visibility: Visibility,
    pub lifecycle: Lifecycle,
    pub created_at: DateTime<Utc>,
    #[diesel(embed)]
    pub identity: ImportedIdentity,
}

/// Inserts new records (in statements of [`BATCH`]) and makes their agency a contributor of
/// each (one `COPY`: the records are new).
pub fn insert_clients(conn: &mut PgConnection, rows: &[NewImportedClient]) -> QueryResult<usize> {
    if rows.is_empty() {
        return Ok(0);
    }
    let mut n = 0;
    for chunk in rows.chunks(BATCH) {
        n += diesel::insert_into(clients::table)
            .values(chunk)
            .execute(conn)?;
    }
    let contributors: Vec<ContributorCopy> = rows
        .iter()
        .map(|r| ContributorCopy {
            client_id: r.id,
            agency_id: r.created_by_agency,
        })
        .collect();
    diesel::copy_from(client_contributors::table)
        .from_insertable(&contributors)
        .execute(conn)?;
    Ok(n)
}

/// Which of `uids` are taken already.
pub fn short_uids_taken(conn: &mut PgConnection, uids: &[String]) -> QueryResult<Vec<String>> {
    clients::table
        .filter(clients::short_uid.eq_any(uids))
        .select(clients::short_uid)
        .load(conn)
}

/// An exit to write: (stay, exit date, destination, subsidy type).
pub type ExitRow = (Uuid, NaiveDate, i16, Option<i16>);

/// Closes stays, one statement per batch.
pub fn set_exits(conn: &mut PgConnection, rows: &[ExitRow]) -> QueryResult<usize> {
    use diesel::sql_types::{Array, Date, Int2, Nullable, Uuid as SqlUuid};
    if rows.is_empty() {
        return Ok(0);
    }
    let ids: Vec<Uuid> = rows.iter().map(|r| r.0).collect();
    let dates: Vec<NaiveDate> = rows.iter().map(|r| r.1).collect();
    let dest: Vec<i16> = rows.iter().map(|r| r.2).collect();
    let sub: Vec<Option<i16>> = rows.iter().map(|r| r.3).collect();
    // The stay's `updated_at` stays the source Enrollment's `DateUpdated`: an Exit row has its
    // own (kept with it), and an export gives both back as they came.
    diesel::sql_query(
        "UPDATE enrollments e SET exit_date = x.d, destination = x.dest,
                destination_subsidy_type = x.sub
           FROM unnest($1::uuid[], $2::date[], $3::int2[], $4::int2[]) AS x(id, d, dest, sub)
          WHERE e.id = x.id",
    )
    .bind::<Array<SqlUuid>, _>(ids)
    .bind::<Array<Date>, _>(dates)
    .bind::<Array<Int2>, _>(dest)
    .bind::<Array<Nullable<Int2>>, _>(sub)
    .execute(conn)
}

/// Removes the row an import kept of `source_id` in `file` (its source now marks it deleted):
/// answers what it became and the stay it hangs from, when there was one.
pub fn remove_kept(
    conn: &mut PgConnection,
    agency: Uuid,
    file: &str,
    source_id: &str,
) -> QueryResult<Option<(Option<Uuid>, Option<Uuid>)>> {
    diesel::delete(
        hmis_rows::table
            .filter(hmis_rows::agency_id.eq(agency))
            .filter(hmis_rows::file.eq(file))
            .filter(hmis_rows::source_id.eq(source_id)),
    )
    .returning((hmis_rows::target_id, hmis_rows::enrollment_id))
    .get_result(conn)
    .optional()
}

/// Removes an imported datum (its source row is deleted); `0` when `id` is no datum.
pub fn remove_datum(conn: &mut PgConnection, id: Uuid) -> QueryResult<usize> {
    use crate::db::schema::enrollment_data as d;
    diesel::delete(d::table.find(id)).execute(conn)
}

/// Whether an import keeps an Exit row of the stay.
pub fn has_kept_exit(conn: &mut PgConnection, stay: Uuid) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        hmis_rows::table
            .filter(hmis_rows::file.eq("Exit"))
            .filter(hmis_rows::enrollment_id.eq(stay)),
    ))
    .get_result(conn)
}

/// Clears a stay's exit (its source Exit row is deleted): the stay is open again, in a new
/// version (a write made against the old one is refused).
pub fn clear_exit(conn: &mut PgConnection, stay: Uuid) -> QueryResult<usize> {
    diesel::update(enrollments::table.find(stay))
        .set((
            enrollments::exit_date.eq(None::<NaiveDate>),
            enrollments::destination.eq(None::<i16>),
            enrollments::destination_subsidy_type.eq(None::<i16>),
            enrollments::version.eq(enrollments::version + 1),
        ))
        .execute(conn)
}

/// Rewrites an imported datum's stay (and record), day, fields and creation time (the source's
/// `DateCreated`, or as it was): a changed row may move its datum to another stay. Answers the
/// stay it belonged to before, when there was a datum with this id.
pub fn update_datum(
    conn: &mut PgConnection,
    id: Uuid,
    stay: Uuid,
    client: Uuid,
    occurred_on: NaiveDate,
    fields: &serde_json::Value,
    created_at: Option<DateTime<Utc>>,
) -> QueryResult<Option<Uuid>> {
    #[derive(QueryableByName)]
    struct Before {
        #[diesel(sql_type = diesel::sql_types::Uuid)]
        enrollment_id: Uuid,
    }
    // `o` is the row as it was: one statement rewrites it and answers its former stay.
    diesel::sql_query(
        "UPDATE enrollment_data d SET enrollment_id = $2, client_id = $3, occurred_on = $4, \
           collected_on = $4, fields = $5, created_at = COALESCE($6, d.created_at) \
          FROM enrollment_data o WHERE d.id = $1 AND o.id = $1 RETURNING o.enrollment_id",
    )
    .bind::<diesel::sql_types::Uuid, _>(id)
    .bind::<diesel::sql_types::Uuid, _>(stay)
    .bind::<diesel::sql_types::Uuid, _>(client)
    .bind::<diesel::sql_types::Date, _>(occurred_on)
    .bind::<diesel::sql_types::Jsonb, _>(fields)
    .bind::<diesel::sql_types::Nullable<diesel::sql_types::Timestamptz>, _>(created_at)
    .get_result::<Before>(conn)
    .optional()
    .map(|b| b.map(|b| b.enrollment_id))
}

/// Source HouseholdIDs taken for the first time, in one `COPY`.
pub fn copy_sources(conn: &mut PgConnection, rows: &[SourceRow]) -> QueryResult<usize> {
    if rows.is_empty() {
        return Ok(0);
    }
    diesel::copy_from(import_sources::table)
        .from_insertable(rows)
        .execute(conn)
}

/// Rows kept whole for the first time, in one `COPY` (`seq` follows their order).
pub fn copy_whole_rows(conn: &mut PgConnection, rows: &[WholeRow]) -> QueryResult<usize> {
    if rows.is_empty() {
        return Ok(0);
    }
    diesel::copy_from(hmis_rows::table)
        .from_insertable(rows)
        .execute(conn)
}

/// A new stay as `COPY` writes it: every column given (NULL for `None`).
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = enrollments, treat_none_as_default_value = false)]
struct StayCopy {
    id: Uuid,
    client_id: Uuid,
    project_id: Uuid,
    household_id: Uuid,
    relationship_to_hoh: i16,
    entry_date: NaiveDate,
    exit_date: Option<NaiveDate>,
    destination: Option<i16>,
    destination_subsidy_type: Option<i16>,
    enrollment_coc: Option<String>,
    living_situation: Option<i16>,
    length_of_stay: Option<i16>,
    los_under_threshold: Option<i16>,
    previous_street_essh: Option<i16>,
    date_to_street_essh: Option<NaiveDate>,
    times_homeless_past_three_years: Option<i16>,
    months_homeless_past_three_years: Option<i16>,
    entry_assessment_required: bool,
    entered_by_agency: Uuid,
    entered_by_user: String,
    collected_on: NaiveDate,
    version: i32,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

/// New stays, in one `COPY`.
pub fn copy_stays(
    conn: &mut PgConnection,
    rows: &[crate::repo::stays::EnrollmentRow],
) -> QueryResult<usize> {
    if rows.is_empty() {
        return Ok(0);
    }
    let rows: Vec<StayCopy> = rows
        .iter()
        .cloned()
        .map(|r| StayCopy {
            id: r.id,
            client_id: r.client_id,
            project_id: r.project_id,
            household_id: r.household_id,
            relationship_to_hoh: r.relationship_to_hoh,
            entry_date: r.entry_date,
            exit_date: r.exit_date,
            destination: r.destination,
            destination_subsidy_type: r.destination_subsidy_type,
            enrollment_coc: r.enrollment_coc,
            living_situation: r.living_situation,
            length_of_stay: r.length_of_stay,
            los_under_threshold: r.los_under_threshold,
            previous_street_essh: r.previous_street_essh,
            date_to_street_essh: r.date_to_street_essh,
            times_homeless_past_three_years: r.times_homeless_past_three_years,
            months_homeless_past_three_years: r.months_homeless_past_three_years,
            entry_assessment_required: r.entry_assessment_required,
            entered_by_agency: r.entered_by_agency,
            entered_by_user: r.entered_by_user,
            collected_on: r.collected_on,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
        .collect();
    diesel::copy_from(enrollments::table)
        .from_insertable(&rows)
        .execute(conn)
}

/// A new datum as `COPY` writes it.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = enrollment_data, treat_none_as_default_value = false)]
struct DatumCopy {
    id: Uuid,
    kind: String,
    enrollment_id: Uuid,
    client_id: Uuid,
    occurred_on: NaiveDate,
    fields: serde_json::Value,
    text: Option<String>,
    entered_by_agency: Uuid,
    entered_by_user: String,
    collected_on: NaiveDate,
    created_at: DateTime<Utc>,
}

/// New stay data, in one `COPY`.
pub fn copy_data(
    conn: &mut PgConnection,
    rows: &mut Vec<crate::repo::stays::DatumRow>,
) -> QueryResult<usize> {
    if rows.is_empty() {
        return Ok(0);
    }
    let rows: Vec<DatumCopy> = rows
        .drain(..)
        .map(|r| DatumCopy {
            id: r.id,
            kind: r.kind,
            enrollment_id: r.enrollment_id,
            client_id: r.client_id,
            occurred_on: r.occurred_on,
            fields: r.fields,
            text: r.text,
            entered_by_agency: r.entered_by_agency,
            entered_by_user: r.entered_by_user,
            collected_on: r.collected_on,
            created_at: r.created_at,
        })
        .collect();
    diesel::copy_from(enrollment_data::table)
        .from_insertable(&rows)
        .execute(conn)
}

/// Brings the planner's statistics of the tables an import writes up to date (after it
/// committed): a large import would otherwise leave them describing the tables before it, and
/// the next statements over them (an export's, a search's) planned for empty tables.
pub fn analyze_written(conn: &mut PgConnection) -> QueryResult<()> {
    diesel::sql_query(
        "ANALYZE clients, client_contributors, enrollments, enrollment_data, hmis_rows, \
         import_sources",
    )
    .execute(conn)?;
    Ok(())
}

/// Defers the Coordinated Entry triggers on enrollments and stay data to the end of this
/// transaction (`migrations/2026-12-01-100000_ce_deferred_refresh`); [`refresh_ce_priority`]
/// does their work once.
pub fn defer_ce_triggers(conn: &mut PgConnection) -> QueryResult<()> {
    diesel::sql_query("SET LOCAL hearth.ce_deferred = 'on'").execute(conn)?;
    Ok(())
}

/// What the deferred CE triggers would have done, once per (client, CoC): the priority list
/// rows (and their log) of the clients of `stays` in a CE project, and of the (client, project)
/// pairs `before` names (what changed stays were before) when that project is a CE project.
/// Ends the deferral.
pub fn refresh_ce_priority(
    conn: &mut PgConnection,
    stays: &[Uuid],
    before: &[(Uuid, Uuid)],
) -> QueryResult<usize> {
    use diesel::sql_types::{Array, Uuid as SqlUuid};
    diesel::sql_query("SET LOCAL hearth.ce_deferred = 'off'").execute(conn)?;
    let clients: Vec<Uuid> = before.iter().map(|b| b.0).collect();
    let projects: Vec<Uuid> = before.iter().map(|b| b.1).collect();
    diesel::sql_query(
        "SELECT ce_refresh(t.client_id, t.coc_code) FROM (
            SELECT e.client_id, g.coc_code
              FROM enrollments e JOIN projects p ON p.id = e.project_id
              JOIN agencies g ON g.id = p.agency_id
             WHERE e.id = ANY($1) AND p.project_type = 14
            UNION
            SELECT x.client_id, g.coc_code
              FROM unnest($2::uuid[], $3::uuid[]) AS x(client_id, project_id)
              JOIN projects p ON p.id = x.project_id JOIN agencies g ON g.id = p.agency_id
             WHERE p.project_type = 14
         ) t ORDER BY t.coc_code, t.client_id",
    )
    .bind::<Array<SqlUuid>, _>(stays)
    .bind::<Array<SqlUuid>, _>(clients)
    .bind::<Array<SqlUuid>, _>(projects)
    .execute(conn)
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = client_contributors, treat_none_as_default_value = false)]
struct ContributorCopy {
    client_id: Uuid,
    agency_id: Uuid,
}
