//! The Coordinated Entry priority list: a keyset-paged "visible rows" query over `ce_priority`
//! (kept by triggers in list order), composed with the consent filter of `consent::sql`, and
//! the change feed for incremental pulls.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{
    BigInt, Bool, Date, Double, Int2, Integer, Nullable, Text, Timestamptz, Uuid as SqlUuid,
};
use diesel::PgConnection;
use uuid::Uuid;

use crate::consent::sql::{
    basis_sql, datum_access_sql, listed_basis_sql, listed_datum_access_sql,
    may_have_seen_listed_sql, priority_listed_sql, Slots,
};
use crate::consent::{DatumKind, Viewer};
use crate::db::cached_sql::{padded_ids, CachedSql, Value};
use crate::domain::CocCode;
use crate::repo::visible::with_viewer;

/// Where a page starts: after this entry of the list order.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Key {
    /// Minus the priority score; `None` for no score (sorts last).
    pub rank: Option<f64>,
    pub entry_date: NaiveDate,
    pub client_id: Uuid,
}

/// One listed client, with the viewer's access and what the datum rule releases of the stay's
/// entry and of the latest assessment.
#[derive(Debug, Clone, QueryableByName)]
pub struct EntryRow {
    #[diesel(sql_type = SqlUuid)]
    pub client_id: Uuid,
    #[diesel(sql_type = Double)]
    pub rank_key: f64,
    /// The list's CE entry date (its earliest active CE stay in the CoC): the list's order,
    /// whether or not the viewer may see it.
    #[diesel(sql_type = Date)]
    pub entry_date: NaiveDate,
    /// The CE stay the entry shows this viewer (`consent::ce::shown_ce_stay`): the earliest
    /// active CE stay in the CoC whose entry the datum rule releases to it; null: withheld.
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub shown_enrollment_id: Option<Uuid>,
    #[diesel(sql_type = Nullable<Date>)]
    pub shown_entry_date: Option<NaiveDate>,
    #[diesel(sql_type = Nullable<Double>)]
    pub priority_score: Option<f64>,
    #[diesel(sql_type = Nullable<Date>)]
    pub assessed_on: Option<NaiveDate>,
    #[diesel(sql_type = Nullable<Int2>)]
    pub prioritization_status: Option<i16>,
    #[diesel(sql_type = Integer)]
    pub refusal_count: i32,
    #[diesel(sql_type = Int2)]
    pub veteran_status: i16,
    #[diesel(sql_type = Nullable<Text>)]
    pub first_name: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub last_name: Option<String>,
    #[diesel(sql_type = Text)]
    pub basis: crate::consent::AccessBasis,
    #[diesel(sql_type = Nullable<Text>)]
    pub entry_access: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub assessment_access: Option<String>,
    #[diesel(sql_type = BigInt)]
    pub household_size: i64,
    #[diesel(sql_type = Nullable<Int2>)]
    pub living_situation: Option<i16>,
    #[diesel(sql_type = Nullable<Date>)]
    pub date_to_street_essh: Option<NaiveDate>,
    #[diesel(sql_type = Nullable<Int2>)]
    pub times_homeless_past_three_years: Option<i16>,
    #[diesel(sql_type = Nullable<Int2>)]
    pub months_homeless_past_three_years: Option<i16>,
}

/// The list's select over `ce_priority p`, `clients c`, the basis `b` and the stay `e` the
/// entry shows, for the list of the CoC bound at `$1` and the viewer's values at `slots`. Each
/// entry carries the viewer's own decision on the record, the one a single read gives
/// (`consent::sql`, with row 8's active CE enrollment known from the list); a listed record the
/// decision gives `none` is left out, as from every other list. The refusals counted are those
/// the datum rule releases to the viewer (a single read of the stay's refusals shows the same
/// ones), one per day (occasions: `consent::ce::refusal_occasions`).
///
/// The entry shows the CE stay the viewer may see (`consent::ce::shown_ce_stay`; datum rules 1
/// and 6): the earliest active CE stay of the client in the CoC whose entry the datum rule
/// releases to the viewer, which is the list's own stay (`p.enrollment_id`) whenever that one is
/// released. Its household size counts the household's open stays the viewer may see
/// (`consent::ce::counts_in_household`): of a record it may read, with an entry released to it.
fn entry_select(viewer: &Viewer, slots: Slots, coc_view: bool) -> String {
    let basis = listed_basis_sql(viewer, slots);
    // `OFFSET 0` keeps the basis a column computed once per row: without it PostgreSQL
    // flattens the lateral and copies the whole basis `CASE` (and its probes) into every
    // `WHEN` of the datum rule that reads `b.basis` (32 subplans, 24 ms of planning a page).
    let datum = listed_datum_access_sql(viewer, slots, "b.basis", DatumKind::Structured);
    // A household member's record: its own `clients c` (the inner alias hides the list's).
    let member_basis = basis_sql(viewer, slots);
    let member_datum = datum_access_sql(viewer, slots, "hb.basis", DatumKind::Structured);
    let listed = priority_listed_sql("$1", slots, coc_view);
    format!(
        "SELECT p.client_id, p.rank_key, p.entry_date, e.id AS shown_enrollment_id, \
           e.entry_date AS shown_entry_date, p.priority_score, p.assessed_on, \
           p.prioritization_status, c.veteran_status, c.first_name, c.last_name, \
           b.basis, e.a AS entry_access, aa.a AS assessment_access, \
           (SELECT count(DISTINCT d.occurred_on)::int4 FROM enrollment_data d \
              JOIN enrollments re ON re.id = d.enrollment_id \
              JOIN projects rp ON rp.id = re.project_id JOIN agencies rg ON rg.id = rp.agency_id \
             WHERE d.client_id = p.client_id AND d.kind = 'refusal' AND rg.coc_code = $1 \
               AND {datum} IS NOT NULL) AS refusal_count, \
           (SELECT count(*) FROM enrollments h JOIN clients c ON c.id = h.client_id \
              CROSS JOIN LATERAL (SELECT {member_basis} AS basis OFFSET 0) hb \
             WHERE h.household_id = e.household_id AND h.exit_date IS NULL \
               AND (SELECT {member_datum} FROM (SELECT h.client_id, h.entered_by_agency, \
                    h.collected_on) d) IS NOT NULL) AS household_size, \
           e.living_situation, e.date_to_street_essh, e.times_homeless_past_three_years, \
           e.months_homeless_past_three_years \
         FROM ce_priority p JOIN clients c ON c.id = p.client_id \
         CROSS JOIN LATERAL (SELECT {basis} AS basis OFFSET 0) b \
         LEFT JOIN LATERAL (SELECT s.id, s.household_id, s.entry_date, s.living_situation, \
              s.date_to_street_essh, s.times_homeless_past_three_years, \
              s.months_homeless_past_three_years, x.a \
              FROM enrollments s JOIN projects sp ON sp.id = s.project_id \
              JOIN agencies sg ON sg.id = sp.agency_id \
              CROSS JOIN LATERAL (SELECT {datum} AS a FROM (SELECT s.client_id, \
                   s.entered_by_agency, s.collected_on) d) x \
             WHERE s.client_id = p.client_id AND sp.project_type = 14 AND s.exit_date IS NULL \
               AND sg.coc_code = $1 AND x.a IS NOT NULL \
             ORDER BY s.entry_date, s.id LIMIT 1) e ON TRUE \
         CROSS JOIN LATERAL (SELECT CASE WHEN p.assessment_agency IS NULL THEN NULL ELSE {datum} END AS a \
              FROM (SELECT p.client_id, p.assessment_agency AS entered_by_agency, \
              p.assessment_collected_on AS collected_on) d) aa \
         WHERE p.coc_code = $1 AND {listed} AND b.basis IS NOT NULL"
    )
}

/// The statement's values: `$1` the list's CoC, then `params`, then the viewer's; and its slots.
fn list_values(
    viewer: &Viewer,
    coc: &CocCode,
    today: NaiveDate,
    params: Vec<Value>,
) -> (Slots, Vec<Value>) {
    let mut own = vec![Value::from(coc.as_str())];
    own.extend(params);
    with_viewer(viewer, today, own)
}

/// One page of the list, in order, after `after`.
#[allow(clippy::too_many_arguments)]
pub fn page(
    conn: &mut PgConnection,
    viewer: &Viewer,
    coc: &CocCode,
    today: NaiveDate,
    coc_view: bool,
    as_of: DateTime<Utc>,
    after: Option<Key>,
    limit: i64,
) -> QueryResult<Vec<EntryRow>> {
    // $1 the CoC, $2 the pull's `as_of`, $3 to $5 the key after which the page starts (bound on
    // every page, used only after the first), then the viewer's. The LIMIT is written in, rounded up to a
    // power of two (at most 11 texts per kind of viewer; the extra rows are dropped here): with
    // `LIMIT $n` a generic plan assumes a tenth of the list is read, so PostgreSQL planned every
    // page again (8 to 13 ms of planning for 6 to 16 ms of executing a 100-entry page on 1M
    // clients).
    let fetch = (limit.clamp(1, 1 << 20) as u64).next_power_of_two() as i64;
    let (slots, values) = list_values(
        viewer,
        coc,
        today,
        vec![
            as_of.into(),
            after
                .map_or(0.0, |k| k.rank.unwrap_or(f64::INFINITY))
                .into(),
            after.map(|k| k.entry_date).into(),
            after.map(|k| k.client_id).into(),
        ],
    );
    let mut sql = entry_select(viewer, slots, coc_view);
    if after.is_some() {
        // A page after the first leaves out the entries written since the pull began: one
        // that moved would be met twice or never (its new place is behind or ahead of the
        // cursor). The next incremental pull, `changed_since` this pull's `as_of`, answers it.
        sql.push_str(
            " AND (p.rank_key, p.entry_date, p.client_id) > ($3, $4, $5) \
             AND NOT EXISTS (SELECT 1 FROM ce_list_log l WHERE l.client_id = p.client_id \
               AND l.coc_code = $1 AND l.at >= $2)",
        );
    }
    sql.push_str(&format!(
        " ORDER BY p.rank_key, p.entry_date, p.client_id LIMIT {fetch}"
    ));
    let mut rows: Vec<EntryRow> = CachedSql::new(sql).bind_all(values).load(conn)?;
    rows.truncate(usize::try_from(limit).unwrap_or(0));
    Ok(rows)
}

/// A change since an instant: the entry as now listed, or `None` when it is no longer listed.
#[derive(Debug, Clone)]
pub struct ChangeRow {
    pub client_id: Uuid,
    pub was_listed: bool,
    pub entry: Option<EntryRow>,
}

#[derive(QueryableByName)]
struct Candidate {
    #[diesel(sql_type = SqlUuid)]
    client_id: Uuid,
    #[diesel(sql_type = Bool)]
    was_listed: bool,
    #[diesel(sql_type = Bool)]
    now_listed: bool,
}

/// The instant up to which every change to the CoC's list facts has committed.
pub fn as_of(conn: &mut PgConnection, coc: &CocCode) -> QueryResult<DateTime<Utc>> {
    #[derive(QueryableByName)]
    struct AsOf {
        #[diesel(sql_type = Timestamptz)]
        t: DateTime<Utc>,
    }
    let r: AsOf = CachedSql::new("SELECT ce_feed_as_of($1) AS t")
        .bind(coc.as_str())
        .get_result(conn)?;
    Ok(r.t)
}

/// The clients whose listing or entry changed in `[since, as_of)`, after `after` by client id:
/// written changes (the log), and changes of time alone (an ROI that took effect, expired or
/// whose revocation took effect on a day in between). Each is kept only if it was listed at
/// `since` or is listed now.
#[allow(clippy::too_many_arguments)]
pub fn changes(
    conn: &mut PgConnection,
    viewer: &Viewer,
    coc: &CocCode,
    today: NaiveDate,
    coc_view: bool,
    since: DateTime<Utc>,
    as_of: DateTime<Utc>,
    after: Option<Uuid>,
    limit: i64,
) -> QueryResult<Vec<ChangeRow>> {
    // $1 the CoC, $2 since, $3 as of, $4 the client after which the page starts, $5 the limit,
    // then the viewer's.
    let (slots, values) = list_values(
        viewer,
        coc,
        today,
        vec![since.into(), as_of.into(), after.into(), limit.into()],
    );
    let select = entry_select(viewer, slots, coc_view);
    // Listed at `since` for this viewer: listed then, and a record it may have seen there.
    // Its identity mode while it was listed at `since`: the log's last word before it.
    let seen = may_have_seen_listed_sql(
        viewer,
        slots,
        "SELECT l.identity_mode FROM ce_list_log l WHERE l.client_id = c.id \
         AND l.coc_code = $1 AND l.at < $2 ORDER BY l.at DESC, l.id DESC LIMIT 1",
    );
    let after_sql = if after.is_some() {
        "AND k.client_id > $4"
    } else {
        ""
    };
    let sql = format!(
        "WITH k AS ( \
           SELECT l.client_id FROM ce_list_log l \
            WHERE l.coc_code = $1 AND l.at >= $2 AND l.at < $3 \
           UNION \
           SELECT r.client_id FROM roi_consents r \
            WHERE ((r.effective_from > ($2 AT TIME ZONE 'UTC')::date AND r.effective_from <= ($3 AT TIME ZONE 'UTC')::date) \
               OR (r.expires_on > ($2 AT TIME ZONE 'UTC')::date AND r.expires_on <= ($3 AT TIME ZONE 'UTC')::date) \
               OR (r.revoked_on > ($2 AT TIME ZONE 'UTC')::date AND r.revoked_on <= ($3 AT TIME ZONE 'UTC')::date)) \
              AND EXISTS (SELECT 1 FROM ce_list_log l WHERE l.client_id = r.client_id AND l.coc_code = $1)) \
         SELECT * FROM ( \
           SELECT k.client_id, (ce_listed_at(k.client_id, $1, $2, {coc_view}) \
                    AND COALESCE((SELECT {seen} FROM clients c WHERE c.id = k.client_id), false)) \
                  AS was_listed, \
                  EXISTS (SELECT 1 FROM ({select} AND p.client_id = k.client_id) x) AS now_listed \
             FROM k WHERE TRUE {after_sql}) z \
          WHERE z.was_listed OR z.now_listed ORDER BY z.client_id LIMIT $5"
    );
    let candidates: Vec<Candidate> = CachedSql::new(sql).bind_all(values).load(conn)?;
    let kept: Vec<&Candidate> = candidates.iter().collect();
    let listed: Vec<Uuid> = kept
        .iter()
        .filter(|c| c.now_listed)
        .map(|c| c.client_id)
        .collect();
    let mut entries: Vec<EntryRow> = if listed.is_empty() {
        vec![]
    } else {
        // $1 the CoC, $2 the clients, then the viewer's.
        let (slots, values) = list_values(viewer, coc, today, vec![padded_ids(&listed).into()]);
        let select = entry_select(viewer, slots, coc_view);
        CachedSql::new(format!("{select} AND p.client_id = ANY($2)"))
            .bind_all(values)
            .load(conn)?
    };
    Ok(kept
        .into_iter()
        .map(|c| {
            let entry = entries
                .iter()
                .position(|e| e.client_id == c.client_id)
                .map(|i| entries.swap_remove(i));
            ChangeRow {
                client_id: c.client_id,
                was_listed: c.was_listed,
                entry,
            }
        })
        .collect())
}
