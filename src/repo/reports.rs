//! Aggregate reports of a CoC: counts only, over every record whatever its visibility (the
//! consent engine gives the CoC lead these without PII: record rule row 7), people counted once
//! by `person_id`.

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Integer, Nullable, SmallInt, Text};
use diesel::PgConnection;

#[derive(Debug, Clone, QueryableByName)]
pub struct GroupCount {
    /// `project_type`, `visibility` or `identity_mode`.
    #[diesel(sql_type = Text)]
    pub dimension: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub value: Option<String>,
    #[diesel(sql_type = Nullable<SmallInt>)]
    pub project_type: Option<i16>,
    #[diesel(sql_type = BigInt)]
    pub people: i64,
}

#[derive(Debug, Clone, QueryableByName)]
pub struct ByNameList {
    #[diesel(sql_type = BigInt)]
    pub active_people: i64,
    #[diesel(sql_type = BigInt)]
    pub active: i64,
    #[diesel(sql_type = BigInt)]
    pub inactive: i64,
    #[diesel(sql_type = BigInt)]
    pub housed: i64,
    #[diesel(sql_type = BigInt)]
    pub returned_from_housing: i64,
    #[diesel(sql_type = BigInt)]
    pub newly_identified: i64,
}

/// Every stay in the CoC's projects that began by `$2`, with its person and record.
const STAYS: &str = "SELECT c.person_id, c.visibility, c.identity_mode, p.project_type, \
       e.project_id, e.id AS enrollment_id, e.entry_date, e.exit_date, e.destination, \
       (e.exit_date IS NULL OR e.exit_date > $2) AS active \
     FROM enrollments e JOIN clients c ON c.id = e.client_id \
     JOIN projects p ON p.id = e.project_id JOIN agencies g ON g.id = p.agency_id \
     WHERE g.coc_code = $1 AND e.entry_date <= $2";

pub fn active_groups(
    conn: &mut PgConnection,
    coc: &str,
    as_of: NaiveDate,
) -> QueryResult<Vec<GroupCount>> {
    diesel::sql_query(format!(
        "WITH st AS ({STAYS}) \
         SELECT 'project_type' AS dimension, NULL::text AS value, project_type, \
                count(DISTINCT person_id) AS people FROM st WHERE active GROUP BY project_type \
         UNION ALL \
         SELECT 'visibility', visibility, NULL, count(DISTINCT person_id) FROM st WHERE active \
          GROUP BY visibility \
         UNION ALL \
         SELECT 'identity_mode', identity_mode, NULL, count(DISTINCT person_id) FROM st \
          WHERE active GROUP BY identity_mode \
         ORDER BY 1, 2, 3"
    ))
    .bind::<Text, _>(coc)
    .bind::<Date, _>(as_of)
    .load(conn)
}

/// By-name list statuses on `as_of`, per person: active or inactive (an active stay, with or
/// without a contact in the last `inactivity_days`), housed (no active stay, the latest exit to
/// permanent housing), returned from housing (an active stay entered on or after an exit to
/// permanent housing), newly identified (an active stay, first seen in the CoC in the 30 days
/// up to `as_of`). An exit continued the same day by a stay of the same person in the same
/// project (an ROI split's administrative exit and re-entry) is no exit here: the person never
/// left.
pub fn by_name_list(
    conn: &mut PgConnection,
    coc: &str,
    as_of: NaiveDate,
    inactivity_days: i32,
) -> QueryResult<ByNameList> {
    let (lo, hi) = (
        crate::domain::hud::PERMANENT_DESTINATIONS.start(),
        crate::domain::hud::PERMANENT_DESTINATIONS.end(),
    );
    diesel::sql_query(format!(
        "WITH st0 AS ({STAYS}), \
         st AS ( \
           SELECT st0.*, EXISTS (SELECT 1 FROM st0 n WHERE n.person_id = st0.person_id \
                    AND n.project_id = st0.project_id AND n.entry_date = st0.exit_date \
                    AND n.enrollment_id <> st0.enrollment_id) AS continued FROM st0), \
         contact AS ( \
           SELECT st.person_id, max(d.occurred_on) AS last_datum FROM st \
             JOIN enrollment_data d ON d.enrollment_id = st.enrollment_id \
            WHERE d.occurred_on <= $2 GROUP BY st.person_id), \
         person AS ( \
           SELECT st.person_id, bool_or(active) AS active, min(entry_date) AS first_entry, \
                  max(entry_date) FILTER (WHERE active) AS active_entry, \
                  GREATEST(max(entry_date), max(exit_date) FILTER (WHERE exit_date <= $2), \
                           max(k.last_datum)) AS last_contact, \
                  max(exit_date) FILTER (WHERE exit_date <= $2 AND NOT continued) AS last_exit, \
                  max(exit_date) FILTER (WHERE exit_date <= $2 AND NOT continued \
                        AND destination BETWEEN {lo} AND {hi}) AS last_housed_exit \
             FROM st LEFT JOIN contact k ON k.person_id = st.person_id GROUP BY st.person_id) \
         SELECT count(*) FILTER (WHERE active) AS active_people, \
                count(*) FILTER (WHERE active AND last_contact > $2 - $3) AS active, \
                count(*) FILTER (WHERE active AND last_contact <= $2 - $3) AS inactive, \
                count(*) FILTER (WHERE NOT active AND last_housed_exit IS NOT NULL \
                                   AND last_housed_exit = last_exit) AS housed, \
                count(*) FILTER (WHERE active AND last_housed_exit <= active_entry) AS returned_from_housing, \
                count(*) FILTER (WHERE active AND first_entry > $2 - 30) AS newly_identified \
           FROM person"
    ))
    .bind::<Text, _>(coc)
    .bind::<Date, _>(as_of)
    .bind::<Integer, _>(inactivity_days)
    .get_result(conn)
}
