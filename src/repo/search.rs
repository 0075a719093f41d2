//! The queries of the duplicate search (`service::search`): exact lookups, the candidates of a
//! name search, and the consent filter of `consent::sql` over the candidates found.
//!
//! Every candidate is found by an index before anything is scored or checked: the exact lookups
//! are fixed texts (`CachedSql`) diesel prepares once per connection; a name search calls
//! `client_search_candidates` (migration `duplicate_search`), whose statements plpgsql keeps
//! planned, through a `CachedSql` statement. The access check (`repo::visible::clients_among`)
//! binds the viewer's values into the consent filter's fixed text, so it too is prepared once
//! per connection: no statement of a search is parsed or planned per request. A search by exact
//! keys alone is one statement (`exact_visible`): the lookups, the consent filter and the rows.

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel::sql_types::{Float8, Nullable, Uuid as SqlUuid};
use diesel::PgConnection;
use uuid::Uuid;

use crate::consent::Viewer;
use crate::db::cached_sql::{padded_ids, CachedSql, Value};
use crate::db::schema::clients;
use crate::repo::clients::{survivor_sql, ClientRow};
use crate::repo::visible::{self, FoundClient};

/// An exact key a caller searches by.
#[derive(Debug, Clone, Copy)]
pub enum ExactKey<'a> {
    ClientId(Uuid),
    /// Upper-cased.
    ShortUid(&'a str),
    /// Nine digits.
    Ssn(&'a str),
    /// A record holding only the last four, with its DOB (a full SSN searched with a DOB).
    StoredLastFour {
        last_four: &'a str,
        dob: NaiveDate,
    },
    /// Any record whose SSN ends in these four, with this DOB.
    LastFour {
        last_four: &'a str,
        dob: NaiveDate,
    },
}

#[derive(QueryableByName)]
struct IdRow {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
}

/// The records (not merged away) an exact key finds, at most `limit`.
///
/// Fixed texts (`CachedSql`, one per kind of key), with `lifecycle <> 'merged'` written as it
/// stands in the partial indexes' predicates: as a bound parameter (diesel binds every DSL
/// value) a generic plan cannot use those indexes, so PostgreSQL found the custom plan cheaper
/// and planned the last-four lookup on every execution (0.16 ms, three times its execution).
pub fn exact_ids(conn: &mut PgConnection, key: ExactKey, limit: i64) -> QueryResult<Vec<Uuid>> {
    let q = |condition: &str| {
        CachedSql::new(format!(
            "SELECT id FROM clients WHERE {condition} AND lifecycle <> 'merged' \
             ORDER BY id LIMIT $1"
        ))
        .bind(limit)
    };
    let q = match key {
        ExactKey::ClientId(id) => q(&format!("id = {}", survivor_sql("t.id = $2"))).bind(id),
        ExactKey::ShortUid(uid) => {
            q(&format!("id = {}", survivor_sql("t.short_uid = $2"))).bind(uid)
        }
        ExactKey::Ssn(ssn) => q("ssn = $2").bind(ssn),
        ExactKey::StoredLastFour { last_four, dob } => {
            q("ssn = $2 AND dob = $3").bind(last_four).bind(dob)
        }
        ExactKey::LastFour { last_four, dob } => {
            q("right(ssn, 4) = $2 AND ssn IS NOT NULL AND dob = $3")
                .bind(last_four)
                .bind(dob)
        }
    };
    let rows: Vec<IdRow> = q.load(conn)?;
    Ok(rows.into_iter().map(|r| r.id).collect())
}

/// The records (not merged away) each of `keys` finds, at most `limit` per key, that `viewer`
/// may see (with `full_only`, in full), with their rows and access basis: one statement
/// (`visible::clients_found_by`), whose `arm` is the index of the key that found the row.
///
/// The same lookups as `exact_ids`, with `lifecycle <> 'merged'` written as the partial
/// indexes state it; the text is fixed per combination of kinds of key. `check_viewer`: see
/// `visible::clients_found_by`.
pub fn exact_visible(
    conn: &mut PgConnection,
    viewer: &Viewer,
    today: NaiveDate,
    keys: &[ExactKey],
    limit: i64,
    full_only: bool,
    check_viewer: bool,
) -> QueryResult<Vec<FoundClient>> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let mut params: Vec<Value> = vec![limit.into()];
    let mut arms = Vec::with_capacity(keys.len());
    for (i, key) in keys.iter().enumerate() {
        let n = params.len() + 1;
        let condition = match *key {
            ExactKey::ClientId(id) => {
                params.push(id.into());
                format!("c.id = {}", survivor_sql(&format!("t.id = ${n}")))
            }
            ExactKey::ShortUid(uid) => {
                params.push(uid.into());
                format!("c.id = {}", survivor_sql(&format!("t.short_uid = ${n}")))
            }
            ExactKey::Ssn(ssn) => {
                params.push(ssn.into());
                format!("c.ssn = ${n}")
            }
            ExactKey::StoredLastFour { last_four, dob } => {
                params.extend([last_four.into(), dob.into()]);
                format!("c.ssn = ${n} AND c.dob = ${}", n + 1)
            }
            ExactKey::LastFour { last_four, dob } => {
                params.extend([last_four.into(), dob.into()]);
                format!(
                    "right(c.ssn, 4) = ${n} AND c.ssn IS NOT NULL AND c.dob = ${}",
                    n + 1
                )
            }
        };
        arms.push(format!(
            "(SELECT {i} AS arm, c.* FROM clients c WHERE {condition} \
             AND c.lifecycle <> 'merged' ORDER BY c.id LIMIT $1)"
        ));
    }
    visible::clients_found_by(
        conn,
        viewer,
        today,
        &arms.join(" UNION ALL "),
        params,
        full_only,
        check_viewer,
    )
}

/// A record a name search found, before access is checked.
#[derive(Debug, Clone, QueryableByName)]
pub struct NameCandidate {
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    /// 0 to 1: name similarity for 0.75, the DOB (equal, or a plausible variant) for the rest.
    #[diesel(sql_type = Float8)]
    pub score: f64,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    pub dob_exact: bool,
}

#[derive(QueryableByName)]
struct CandidateRow {
    #[diesel(sql_type = Nullable<SqlUuid>)]
    id: Option<Uuid>,
    #[diesel(sql_type = Nullable<Float8>)]
    score: Option<f64>,
    #[diesel(sql_type = Nullable<diesel::sql_types::Bool>)]
    dob_exact: Option<bool>,
}

/// The candidates of a name search (lower-cased, normalized parts; a DOB narrows and scores),
/// and whether a kind of candidate stopped at `cap` (the name is too common to narrow).
pub fn name_candidates(
    conn: &mut PgConnection,
    first: Option<&str>,
    last: Option<&str>,
    dob: Option<NaiveDate>,
    cap: i32,
) -> QueryResult<(Vec<NameCandidate>, bool)> {
    let rows: Vec<CandidateRow> =
        CachedSql::new("SELECT id, score, dob_exact FROM client_search_candidates($1, $2, $3, $4)")
            .bind(first)
            .bind(last)
            .bind(dob)
            .bind(cap)
            .load(conn)?;
    let mut truncated = false;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        match (r.id, r.score) {
            (Some(id), Some(score)) => out.push(NameCandidate {
                id,
                score,
                dob_exact: r.dob_exact.unwrap_or(false),
            }),
            _ => truncated = true,
        }
    }
    Ok((out, truncated))
}

/// The candidates of a name search that `viewer` may see (with `full_only`, in full), at most
/// `cap` of them, and whether there were more: `client_search_candidates` without its cap
/// (`LIMIT NULL`), then the consent filter, then the cap. For a name too common for the capped
/// search (`name_candidates`), so that records the caller may not see neither crowd out those
/// it may nor decide `truncated` (api.md: a search answers only what the caller may see).
#[allow(clippy::too_many_arguments)]
pub fn visible_name_candidates(
    conn: &mut PgConnection,
    viewer: &Viewer,
    today: NaiveDate,
    first: Option<&str>,
    last: Option<&str>,
    dob: Option<NaiveDate>,
    cap: i32,
    full_only: bool,
) -> QueryResult<(Vec<NameCandidate>, bool)> {
    let (slots, values) = visible::with_viewer(
        viewer,
        today,
        vec![
            first.into(),
            last.into(),
            dob.into(),
            i64::from(cap + 1).into(),
        ],
    );
    let sql = format!(
        "SELECT x.id, x.score, x.dob_exact FROM (\
           SELECT k.id, k.score, k.dob_exact, {basis} AS basis \
           FROM client_search_candidates($1, $2, $3, NULL::integer) k \
           JOIN clients c ON c.id = k.id OFFSET 0\
         ) x WHERE {reach} LIMIT $4",
        basis = crate::consent::sql::basis_sql(viewer, slots),
        reach = visible::reach_sql(full_only),
    );
    let mut out: Vec<NameCandidate> = CachedSql::new(sql).bind_all(values).load(conn)?;
    let truncated = out.len() > cap as usize;
    out.truncate(cap as usize);
    Ok((out, truncated))
}

/// What `exact_name_candidates` searches: both name parts (lower-cased, normalized), the first
/// name's equivalents (nicknames, `domain::nicknames`), and the DOB.
pub struct ExactNames<'a> {
    pub first: &'a str,
    pub last: &'a str,
    /// The first name and its equivalents.
    pub firsts: Vec<String>,
    pub dob: Option<NaiveDate>,
}

/// The records named exactly as searched, whatever their DOB; or by an equivalent of the first
/// name (a nickname); or with the parts swapped (first name entered as the last): those the
/// phonetic and DOB arms of `client_search_candidates` miss. The DOB scores, never filters:
/// 0.75 for the exact name (0.7 a nickname, 0.65 swapped), +0.25 for the DOB searched, -0.1
/// for a DOB more than a year from it (none recorded: neither). The consent filter comes
/// before the cap (at most `cap`), as in `visible_name_candidates`. Each arm is a range scan of
/// `clients_last_key_idx`.
pub fn exact_name_candidates(
    conn: &mut PgConnection,
    viewer: &Viewer,
    today: NaiveDate,
    names: &ExactNames<'_>,
    cap: i32,
    full_only: bool,
) -> QueryResult<Vec<NameCandidate>> {
    let mut initials: Vec<String> = names
        .firsts
        .iter()
        .filter_map(|f| f.chars().next().map(|c| c.to_string()))
        .collect();
    initials.sort();
    initials.dedup();
    let swapped_initial: String = names.last.chars().take(1).collect();
    let (slots, values) = visible::with_viewer(
        viewer,
        today,
        vec![
            names.first.into(),
            names.last.into(),
            names.dob.into(),
            initials.into(),
            names.firsts.clone().into(),
            i64::from(cap).into(),
            swapped_initial.into(),
        ],
    );
    let sql = format!(
        "SELECT x.id, x.score, x.dob_exact FROM (\
           SELECT c.id, (c.name_score + CASE WHEN $3::date IS NULL OR c.dob IS NULL THEN 0 \
                   WHEN c.dob = $3::date THEN 0.25 \
                   WHEN abs(c.dob - $3::date) > 366 THEN -0.1 ELSE 0 END)::float8 AS score, \
                  COALESCE(c.dob = $3::date, false) AS dob_exact, {basis} AS basis \
           FROM (\
             (SELECT c.*, CASE WHEN lower(c.first_name) = $1 THEN 0.75 ELSE 0.7 END AS name_score \
              FROM clients c WHERE dmetaphone(c.last_name) = dmetaphone($2) \
              AND lower(left(c.first_name, 1)) = ANY ($4::text[]) \
              AND lower(c.last_name) = $2 AND lower(c.first_name) = ANY ($5::text[]) \
              AND c.lifecycle <> 'merged') \
             UNION ALL \
             (SELECT c.*, 0.65 AS name_score \
              FROM clients c WHERE dmetaphone(c.last_name) = dmetaphone($1) \
              AND lower(left(c.first_name, 1)) = $7 \
              AND lower(c.last_name) = $1 AND lower(c.first_name) = $2 \
              AND c.lifecycle <> 'merged')\
           ) c OFFSET 0\
         ) x WHERE {reach} LIMIT $6",
        basis = crate::consent::sql::basis_sql(viewer, slots),
        reach = visible::reach_sql(full_only),
    );
    CachedSql::new(sql).bind_all(values).load(conn)
}

/// The rows of `ids` (any order).
pub fn rows(conn: &mut PgConnection, ids: &[Uuid]) -> QueryResult<Vec<ClientRow>> {
    // Padded: the statement keeps its generic plan (`padded_ids`).
    clients::table
        .filter(clients::id.eq_any(padded_ids(ids)))
        .select(ClientRow::as_select())
        .load(conn)
}
