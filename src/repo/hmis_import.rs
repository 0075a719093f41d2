//! Queries of the HMIS CSV import: its jobs, the source ids it maps, and the rows it writes.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::PgConnection;
use uuid::Uuid;

use crate::db::schema::{clients, enrollments, hmis_rows, import_jobs, import_sources, projects};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = import_jobs)]
pub struct JobRow {
    pub id: Uuid,
    pub agency_id: Uuid,
    pub mode: String,
    pub status: String,
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
            import_jobs::status.eq("running"),
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
    status: &str,
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
    diesel::update(import_jobs::table.filter(import_jobs::status.eq_any(["queued", "running"])))
        .set((
            import_jobs::status.eq("failed"),
            import_jobs::summary.eq(Some(serde_json::json!({
                "outcome": "interrupted: the server stopped before the import finished; nothing was kept"
            }))),
            import_jobs::finished_at.eq(Utc::now()),
        ))
        .execute(conn)
}

/// A source row taken before: the Hearth row it became and the hash of its values.
#[derive(Debug, Clone, PartialEq)]
pub struct Source {
    pub target: Uuid,
    pub hash: String,
}

/// Every source id of `file` the agency imported before.
pub fn sources_of(
    conn: &mut PgConnection,
    agency: Uuid,
    file: &str,
) -> QueryResult<HashMap<String, Source>> {
    let rows: Vec<(String, Uuid, String)> = import_sources::table
        .filter(import_sources::agency_id.eq(agency))
        .filter(import_sources::file.eq(file))
        .select((
            import_sources::source_id,
            import_sources::target_id,
            import_sources::row_hash,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(s, target, hash)| (s, Source { target, hash }))
        .collect())
}

pub fn put_source(
    conn: &mut PgConnection,
    agency: Uuid,
    file: &str,
    source_id: &str,
    target: Uuid,
    hash: &str,
    invalid: Option<&serde_json::Value>,
) -> QueryResult<usize> {
    diesel::insert_into(import_sources::table)
        .values((
            import_sources::agency_id.eq(agency),
            import_sources::file.eq(file),
            import_sources::source_id.eq(source_id),
            import_sources::target_id.eq(target),
            import_sources::row_hash.eq(hash),
            import_sources::invalid.eq(invalid),
        ))
        .on_conflict((
            import_sources::agency_id,
            import_sources::file,
            import_sources::source_id,
        ))
        .do_update()
        .set((
            import_sources::target_id.eq(target),
            import_sources::row_hash.eq(hash),
            import_sources::invalid.eq(invalid),
        ))
        .execute(conn)
}

pub fn insert_project(
    conn: &mut PgConnection,
    id: Uuid,
    agency: Uuid,
    name: &str,
    project_type: i16,
) -> QueryResult<usize> {
    diesel::insert_into(projects::table)
        .values((
            projects::id.eq(id),
            projects::agency_id.eq(agency),
            projects::name.eq(name),
            projects::project_type.eq(project_type),
            projects::ce_entry_point.eq(false),
        ))
        .execute(conn)
}

pub fn update_project(
    conn: &mut PgConnection,
    id: Uuid,
    name: &str,
    project_type: i16,
) -> QueryResult<usize> {
    diesel::update(projects::table.find(id))
        .set((
            projects::name.eq(name),
            projects::project_type.eq(project_type),
            projects::version.eq(projects::version + 1),
            projects::updated_at.eq(Utc::now()),
        ))
        .execute(conn)
}

/// The identity and demographics of an imported record, as Hearth stores them.
#[derive(Debug, Clone, AsChangeset, Insertable)]
#[diesel(table_name = clients, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct ImportedIdentity {
    pub identity_mode: String,
    pub first_name: Option<String>,
    pub middle_name: Option<String>,
    pub last_name: Option<String>,
    pub name_suffix: Option<String>,
    pub name_quality: i16,
    pub ssn: Option<String>,
    pub ssn_quality: i16,
    pub dob: Option<NaiveDate>,
    pub dob_quality: i16,
    pub race: Vec<String>,
    pub race_none: Option<i16>,
    pub additional_race_ethnicity: Option<String>,
    pub gender: Vec<i16>,
    pub gender_none: Option<i16>,
    pub different_identity_text: Option<String>,
    pub sex: Option<i16>,
    pub veteran_status: i16,
    pub updated_at: DateTime<Utc>,
}

/// Who and where an imported record belongs.
#[derive(Debug, Clone)]
pub struct ImportedRecord {
    pub id: Uuid,
    pub short_uid: String,
    pub coc_code: String,
    pub agency: Uuid,
    pub user: String,
    pub created_at: DateTime<Utc>,
}

pub fn insert_client(
    conn: &mut PgConnection,
    rec: &ImportedRecord,
    identity: &ImportedIdentity,
) -> QueryResult<usize> {
    diesel::insert_into(clients::table)
        .values((
            identity,
            clients::id.eq(rec.id),
            clients::short_uid.eq(&rec.short_uid),
            clients::person_id.eq(Uuid::now_v7()),
            clients::coc_code.eq(&rec.coc_code),
            clients::created_by_agency.eq(rec.agency),
            clients::created_by_user.eq(&rec.user),
            clients::visibility.eq("closed"),
            clients::lifecycle.eq("active"),
            clients::created_at.eq(rec.created_at),
        ))
        .execute(conn)
}

pub fn update_client(
    conn: &mut PgConnection,
    id: Uuid,
    identity: &ImportedIdentity,
) -> QueryResult<usize> {
    diesel::update(clients::table.find(id))
        .set(identity)
        .execute(conn)
}

/// A stay as an import writes it (the exit is set by [`set_exit`]).
#[derive(Debug, Clone, AsChangeset, Insertable)]
#[diesel(table_name = enrollments, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct ImportedStay {
    pub client_id: Uuid,
    pub project_id: Uuid,
    pub household_id: Uuid,
    pub relationship_to_hoh: i16,
    pub entry_date: NaiveDate,
    pub enrollment_coc: Option<String>,
    pub living_situation: Option<i16>,
    pub length_of_stay: Option<i16>,
    pub los_under_threshold: Option<i16>,
    pub previous_street_essh: Option<i16>,
    pub date_to_street_essh: Option<NaiveDate>,
    pub times_homeless_past_three_years: Option<i16>,
    pub months_homeless_past_three_years: Option<i16>,
    pub entered_by_agency: Uuid,
    pub entered_by_user: String,
    pub collected_on: NaiveDate,
    pub updated_at: DateTime<Utc>,
}

pub fn insert_stay(
    conn: &mut PgConnection,
    id: Uuid,
    stay: &ImportedStay,
    created_at: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::insert_into(enrollments::table)
        .values((
            stay,
            enrollments::id.eq(id),
            enrollments::entry_assessment_required.eq(false),
            enrollments::created_at.eq(created_at),
        ))
        .execute(conn)
}

pub fn update_stay(conn: &mut PgConnection, id: Uuid, stay: &ImportedStay) -> QueryResult<usize> {
    diesel::update(enrollments::table.find(id))
        .set(stay)
        .execute(conn)
}

pub fn set_exit(
    conn: &mut PgConnection,
    id: Uuid,
    exit_date: NaiveDate,
    destination: i16,
    subsidy: Option<i16>,
) -> QueryResult<usize> {
    diesel::update(enrollments::table.find(id))
        .set((
            enrollments::exit_date.eq(Some(exit_date)),
            enrollments::destination.eq(Some(destination)),
            enrollments::destination_subsidy_type.eq(subsidy),
            enrollments::updated_at.eq(Utc::now()),
        ))
        .execute(conn)
}

/// The entry date of a stay (an exit before it cannot be kept).
pub fn entry_date_of(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<NaiveDate>> {
    enrollments::table
        .find(id)
        .select(enrollments::entry_date)
        .first(conn)
        .optional()
}

pub fn put_whole_row(
    conn: &mut PgConnection,
    agency: Uuid,
    file: &str,
    source_id: &str,
    client: Option<Uuid>,
    enrollment: Option<Uuid>,
    fields: &serde_json::Value,
) -> QueryResult<usize> {
    diesel::insert_into(hmis_rows::table)
        .values((
            hmis_rows::agency_id.eq(agency),
            hmis_rows::file.eq(file),
            hmis_rows::source_id.eq(source_id),
            hmis_rows::client_id.eq(client),
            hmis_rows::enrollment_id.eq(enrollment),
            hmis_rows::fields.eq(fields),
        ))
        .on_conflict((hmis_rows::agency_id, hmis_rows::file, hmis_rows::source_id))
        .do_update()
        .set((
            hmis_rows::client_id.eq(client),
            hmis_rows::enrollment_id.eq(enrollment),
            hmis_rows::fields.eq(fields),
        ))
        .execute(conn)
}

/// How many rows of `file` the agency's imports keep whole.
pub fn whole_rows_count(conn: &mut PgConnection, agency: Uuid, file: &str) -> QueryResult<i64> {
    hmis_rows::table
        .filter(hmis_rows::agency_id.eq(agency))
        .filter(hmis_rows::file.eq(file))
        .count()
        .get_result(conn)
}
