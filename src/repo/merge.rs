//! Moving a duplicate record's data to the record that survives a merge.

use diesel::prelude::*;
use diesel::PgConnection;
use uuid::Uuid;

use crate::db::schema::{
    client_contributors, clients, contacts, documents, enrollment_data, enrollments, roi_consents,
};

/// How many rows of each kind moved.
#[derive(Debug, Default, Clone, Copy)]
pub struct Moved {
    pub stays: usize,
    pub data: usize,
    pub contacts: usize,
    pub documents: usize,
    pub rois: usize,
    pub contributors: usize,
}

/// Every stay, datum, contact, document and ROI of `from` moves to `to`; `from`'s
/// contributors become `to`'s too (they keep theirs on the tombstone).
pub fn move_everything(conn: &mut PgConnection, from: Uuid, to: Uuid) -> QueryResult<Moved> {
    let stays = diesel::update(enrollments::table.filter(enrollments::client_id.eq(from)))
        .set(enrollments::client_id.eq(to))
        .execute(conn)?;
    let data = diesel::update(enrollment_data::table.filter(enrollment_data::client_id.eq(from)))
        .set(enrollment_data::client_id.eq(to))
        .execute(conn)?;
    let contacts = diesel::update(contacts::table.filter(contacts::client_id.eq(from)))
        .set(contacts::client_id.eq(to))
        .execute(conn)?;
    let documents = diesel::update(documents::table.filter(documents::client_id.eq(from)))
        .set(documents::client_id.eq(to))
        .execute(conn)?;
    let rois = diesel::update(roi_consents::table.filter(roi_consents::client_id.eq(from)))
        .set(roi_consents::client_id.eq(to))
        .execute(conn)?;
    let contributors = diesel::sql_query(
        "INSERT INTO client_contributors (client_id, agency_id, first_contributed_at) \
         SELECT $2, agency_id, first_contributed_at FROM client_contributors WHERE client_id = $1 \
         ON CONFLICT DO NOTHING",
    )
    .bind::<diesel::sql_types::Uuid, _>(from)
    .bind::<diesel::sql_types::Uuid, _>(to)
    .execute(conn)?;
    Ok(Moved {
        stays,
        data,
        contacts,
        documents,
        rois,
        contributors,
    })
}

/// The agencies that contributed to `client`.
pub fn contributors(conn: &mut PgConnection, client: Uuid) -> QueryResult<Vec<Uuid>> {
    client_contributors::table
        .filter(client_contributors::client_id.eq(client))
        .select(client_contributors::agency_id)
        .load(conn)
}

/// Every record of person `from` becomes a record of person `to` (HUD 5.08: one Personal ID
/// per individual).
pub fn join_person(conn: &mut PgConnection, from: Uuid, to: Uuid) -> QueryResult<usize> {
    diesel::update(clients::table.filter(clients::person_id.eq(from)))
        .set(clients::person_id.eq(to))
        .execute(conn)
}
