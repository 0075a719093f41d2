//! Enrollments (project stays) and the data attached to them and to clients.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::PgConnection;
use uuid::Uuid;

use crate::db::schema::{contacts, documents, enrollment_data, enrollments, hmis_rows};

#[derive(Debug, Clone, Queryable, Selectable, Insertable, QueryableByName, AsChangeset)]
#[diesel(table_name = enrollments, treat_none_as_null = true)]
pub struct EnrollmentRow {
    pub id: Uuid,
    pub client_id: Uuid,
    pub project_id: Uuid,
    pub household_id: Uuid,
    pub relationship_to_hoh: i16,
    pub entry_date: NaiveDate,
    pub exit_date: Option<NaiveDate>,
    pub destination: Option<i16>,
    pub destination_subsidy_type: Option<i16>,
    pub enrollment_coc: Option<String>,
    pub living_situation: Option<i16>,
    pub length_of_stay: Option<i16>,
    pub los_under_threshold: Option<i16>,
    pub previous_street_essh: Option<i16>,
    pub date_to_street_essh: Option<NaiveDate>,
    pub times_homeless_past_three_years: Option<i16>,
    pub months_homeless_past_three_years: Option<i16>,
    pub entry_assessment_required: bool,
    pub entered_by_agency: Uuid,
    pub entered_by_user: String,
    pub collected_on: NaiveDate,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, QueryableByName)]
#[diesel(table_name = enrollment_data)]
pub struct DatumRow {
    pub id: Uuid,
    pub kind: String,
    pub enrollment_id: Uuid,
    pub client_id: Uuid,
    pub occurred_on: NaiveDate,
    pub fields: serde_json::Value,
    pub text: Option<String>,
    pub entered_by_agency: Uuid,
    pub entered_by_user: String,
    pub collected_on: NaiveDate,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, QueryableByName)]
#[diesel(table_name = contacts)]
pub struct ContactRow {
    pub id: Uuid,
    pub client_id: Uuid,
    pub kind: String,
    pub value: String,
    pub entered_by_agency: Uuid,
    pub entered_by_user: String,
    pub collected_on: NaiveDate,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = documents)]
pub struct NewDocumentRow {
    pub id: Uuid,
    pub client_id: Uuid,
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: i32,
    pub sha256: String,
    pub content: Vec<u8>,
    pub description: Option<String>,
    pub entered_by_agency: Uuid,
    pub entered_by_user: String,
    pub collected_on: NaiveDate,
    pub created_at: DateTime<Utc>,
}

/// A document without its content.
#[derive(Debug, Clone, Queryable, Selectable, QueryableByName)]
#[diesel(table_name = documents)]
pub struct DocumentMeta {
    pub id: Uuid,
    pub client_id: Uuid,
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: i32,
    pub sha256: String,
    pub description: Option<String>,
    pub entered_by_agency: Uuid,
    pub entered_by_user: String,
    pub collected_on: NaiveDate,
    pub created_at: DateTime<Utc>,
}

pub fn insert_enrollment(
    conn: &mut PgConnection,
    row: &EnrollmentRow,
) -> QueryResult<EnrollmentRow> {
    diesel::insert_into(enrollments::table)
        .values(row)
        .returning(EnrollmentRow::as_returning())
        .get_result(conn)
}

pub fn find_enrollment(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<EnrollmentRow>> {
    enrollments::table
        .find(id)
        .select(EnrollmentRow::as_select())
        .first(conn)
        .optional()
}

pub fn lock_enrollment(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<EnrollmentRow>> {
    enrollments::table
        .find(id)
        .select(EnrollmentRow::as_select())
        .for_update()
        .first(conn)
        .optional()
}

pub fn update_enrollment(
    conn: &mut PgConnection,
    row: &EnrollmentRow,
) -> QueryResult<EnrollmentRow> {
    let mut next = row.clone();
    next.version = row.version + 1;
    next.updated_at = Utc::now();
    diesel::update(enrollments::table.find(row.id))
        .set(&next)
        .returning(EnrollmentRow::as_returning())
        .get_result(conn)
}

/// As [`update_enrollment`], with the row's own `updated_at` (an import's source `DateUpdated`)
/// rather than the time of the write.
pub fn update_enrollment_stamped(
    conn: &mut PgConnection,
    row: &EnrollmentRow,
) -> QueryResult<EnrollmentRow> {
    let mut next = row.clone();
    next.version = row.version + 1;
    diesel::update(enrollments::table.find(row.id))
        .set(&next)
        .returning(EnrollmentRow::as_returning())
        .get_result(conn)
}

/// Every enrollment of a household, open or not, locked for a membership change.
pub fn household(conn: &mut PgConnection, household: Uuid) -> QueryResult<Vec<EnrollmentRow>> {
    enrollments::table
        .filter(enrollments::household_id.eq(household))
        .order(enrollments::created_at.asc())
        .select(EnrollmentRow::as_select())
        .for_update()
        .load(conn)
}

/// The datum-rule facts of a stay's data: who entered each, when collected, its kind.
pub fn stay_data_facts(
    conn: &mut PgConnection,
    enrollment: Uuid,
) -> QueryResult<Vec<(Uuid, NaiveDate, String)>> {
    enrollment_data::table
        .filter(enrollment_data::enrollment_id.eq(enrollment))
        .select((
            enrollment_data::entered_by_agency,
            enrollment_data::collected_on,
            enrollment_data::kind,
        ))
        .load(conn)
}

/// A source row an HMIS CSV import kept whole, hanging from a stay: a datum (its agency entered
/// it, on its collection day).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = hmis_rows)]
pub struct KeptRow {
    pub file: String,
    pub source_id: String,
    #[diesel(column_name = agency_id)]
    pub entered_by_agency: Uuid,
    pub collected_on: Option<NaiveDate>,
    pub fields: serde_json::Value,
    /// The values sent outside their code list: `{"Column": "value"}`.
    pub invalid: Option<serde_json::Value>,
}

/// The kept rows of a stay, in the order they came.
pub fn kept_rows_of(conn: &mut PgConnection, enrollment: Uuid) -> QueryResult<Vec<KeptRow>> {
    hmis_rows::table
        .filter(hmis_rows::enrollment_id.eq(enrollment))
        .order(hmis_rows::seq)
        .select(KeptRow::as_select())
        .load(conn)
}

/// A kept row's agency, collection day, file and `DisabilityType`.
pub type KeptFacts = (Uuid, Option<NaiveDate>, String, Option<String>);

/// The datum facts of a stay's rows kept only whole (no typed row of their own, and not a part
/// of an Assessment, `consent::kept_rows::ASSESSMENT_PARTS`): agency,
/// collection day, file and `DisabilityType` (what `consent::kept_rows::kept_row_kind` reads).
pub fn kept_facts_of(conn: &mut PgConnection, enrollment: Uuid) -> QueryResult<Vec<KeptFacts>> {
    use diesel::dsl::sql;
    use diesel::sql_types::{Nullable, Text};
    hmis_rows::table
        .filter(hmis_rows::enrollment_id.eq(enrollment))
        .filter(hmis_rows::target_id.is_null())
        // The parts of an Assessment release nothing on their own: their Assessment does.
        .filter(hmis_rows::file.ne_all(crate::consent::kept_rows::ASSESSMENT_PARTS))
        .select((
            hmis_rows::agency_id,
            hmis_rows::collected_on,
            hmis_rows::file,
            sql::<Nullable<Text>>(&format!(
                "CASE WHEN file = 'Disabilities' THEN fields->>{} END",
                crate::consent::kept_rows::DISABILITY_TYPE_AT
            )),
        ))
        .load(conn)
}

/// The kept rows of a record itself (its Client rows), in the order they came.
pub fn kept_rows_of_client(conn: &mut PgConnection, client: Uuid) -> QueryResult<Vec<KeptRow>> {
    hmis_rows::table
        .filter(hmis_rows::client_id.eq(client))
        .filter(hmis_rows::enrollment_id.is_null())
        .order(hmis_rows::seq)
        .select(KeptRow::as_select())
        .load(conn)
}

pub fn insert_datum(conn: &mut PgConnection, row: &DatumRow) -> QueryResult<DatumRow> {
    diesel::insert_into(enrollment_data::table)
        .values(row)
        .returning(DatumRow::as_returning())
        .get_result(conn)
}

/// The days on which a client refused, on Coordinated Entry stays of a CoC's projects: one
/// entry per occasion (two refusals recorded for one day are one occasion), oldest first.
pub fn ce_refusal_days(
    conn: &mut PgConnection,
    client: Uuid,
    coc: &str,
) -> QueryResult<Vec<NaiveDate>> {
    use crate::db::schema::{agencies, projects};
    enrollment_data::table
        .inner_join(enrollments::table.inner_join(projects::table.inner_join(agencies::table)))
        .filter(enrollment_data::client_id.eq(client))
        .filter(enrollment_data::kind.eq("refusal"))
        .filter(projects::project_type.eq(14))
        .filter(agencies::coc_code.eq(coc))
        .select(enrollment_data::occurred_on)
        .distinct()
        .order(enrollment_data::occurred_on)
        .load(conn)
}

pub fn insert_contact(conn: &mut PgConnection, row: &ContactRow) -> QueryResult<ContactRow> {
    diesel::insert_into(contacts::table)
        .values(row)
        .returning(ContactRow::as_returning())
        .get_result(conn)
}

pub fn find_contact(
    conn: &mut PgConnection,
    client: Uuid,
    id: Uuid,
) -> QueryResult<Option<ContactRow>> {
    contacts::table
        .filter(contacts::id.eq(id).and(contacts::client_id.eq(client)))
        .select(ContactRow::as_select())
        .first(conn)
        .optional()
}

pub fn delete_contact(conn: &mut PgConnection, id: Uuid) -> QueryResult<usize> {
    diesel::delete(contacts::table.find(id)).execute(conn)
}

pub fn insert_document(conn: &mut PgConnection, row: &NewDocumentRow) -> QueryResult<DocumentMeta> {
    diesel::insert_into(documents::table)
        .values(row)
        .returning(DocumentMeta::as_returning())
        .get_result(conn)
}

pub fn find_document(
    conn: &mut PgConnection,
    client: Uuid,
    id: Uuid,
) -> QueryResult<Option<DocumentMeta>> {
    documents::table
        .filter(documents::id.eq(id).and(documents::client_id.eq(client)))
        .select(DocumentMeta::as_select())
        .first(conn)
        .optional()
}

pub fn document_content(conn: &mut PgConnection, id: Uuid) -> QueryResult<Vec<u8>> {
    documents::table
        .find(id)
        .select(documents::content)
        .first(conn)
}

pub fn delete_document(conn: &mut PgConnection, id: Uuid) -> QueryResult<usize> {
    diesel::delete(documents::table.find(id)).execute(conn)
}

/// The open stays `agency` entered in record `client`, locked for update.
pub fn lock_open_stays_of_agency(
    conn: &mut PgConnection,
    client: Uuid,
    agency: Uuid,
) -> QueryResult<Vec<EnrollmentRow>> {
    enrollments::table
        .filter(
            enrollments::client_id
                .eq(client)
                .and(enrollments::exit_date.is_null())
                .and(enrollments::entered_by_agency.eq(agency)),
        )
        .select(EnrollmentRow::as_select())
        .for_update()
        .load(conn)
}
