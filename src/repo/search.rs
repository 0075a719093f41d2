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
use crate::repo::clients::ClientRow;
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
        ExactKey::ClientId(id) => q("id = $2").bind(id),
        ExactKey::ShortUid(uid) => q("short_uid = $2").bind(uid),
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
                format!("c.id = ${n}")
            }
            ExactKey::ShortUid(uid) => {
                params.push(uid.into());
                format!("c.short_uid = ${n}")
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

/// The rows of `ids` (any order).
pub fn rows(conn: &mut PgConnection, ids: &[Uuid]) -> QueryResult<Vec<ClientRow>> {
    // Padded: the statement keeps its generic plan (`padded_ids`).
    clients::table
        .filter(clients::id.eq_any(padded_ids(ids)))
        .select(ClientRow::as_select())
        .load(conn)
}
