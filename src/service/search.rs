//! Duplicate search (`POST /v1/clients/search`): by client id or short UID, by SSN (full, or last
//! four with DOB), by name and DOB (fuzzy, pg_trgm). It answers only what the caller may see, via
//! the consent filter in SQL; matching on PII reaches only records the caller sees in full.

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel::sql_types::{Date, Float8, Nullable, Text, Uuid as SqlUuid};
use diesel::PgConnection;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::consent::sql::{basis_sql, full_bases_sql, level_of};
use crate::consent::{AccessBasis, AccessDecision, AccessLevel};
use crate::db::schema::clients;
use crate::domain::{normalize_name, Ssn};
use crate::error::{AppError, AppResult, FieldError};
use crate::repo::audit::{self as audit_repo};
use crate::repo::clients::ClientRow;
use crate::service::client_view::{client_view, ClientView};
use crate::service::context::Caller;

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientSearch {
    pub client_id: Option<Uuid>,
    /// The short HMIS UID from an agency's tracking sheet.
    pub short_uid: Option<String>,
    /// Nine digits, or the last four together with `dob`.
    pub ssn: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub dob: Option<NaiveDate>,
    /// 1 to 50 (default 20).
    #[schema(minimum = 1, maximum = 50)]
    pub limit: Option<u32>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SearchHit {
    /// 0 to 1: 1 for an exact id, UID or SSN match; name similarity (pg_trgm) plus a DOB match otherwise.
    pub score: f64,
    /// Which criteria matched (`client_id`, `short_uid`, `ssn`, `ssn_last4_dob`, `name`, `dob`).
    pub matched_on: Vec<String>,
    pub client: ClientView,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SearchResult {
    pub items: Vec<SearchHit>,
}

#[derive(QueryableByName)]
struct Hit {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
    #[diesel(sql_type = Text)]
    basis: String,
    #[diesel(sql_type = Float8)]
    score: f64,
    #[diesel(sql_type = Text)]
    matched_on: String,
}

enum Bind {
    Uuid(Uuid),
    Text(String),
    Date(NaiveDate),
}

pub fn search(
    conn: &mut PgConnection,
    caller: &Caller,
    input: ClientSearch,
) -> AppResult<SearchResult> {
    let limit = match input.limit {
        None => 20,
        Some(n @ 1..=50) => n as i64,
        Some(_) => {
            return Err(AppError::validation(
                "limit",
                "out_of_range",
                "limit must be between 1 and 50.",
            ))
        }
    };
    let mut binds: Vec<Bind> = Vec::new();
    let mut arg = |b: Bind| {
        binds.push(b);
        format!("${}", binds.len())
    };
    let mut conds: Vec<(String, String, &str)> = Vec::new(); // (condition, score, label)
    let mut pii = false;
    let mut errs = Vec::new();
    if let Some(id) = input.client_id {
        let p = arg(Bind::Uuid(id));
        conds.push((format!("c.id = {p}"), "1.0".into(), "client_id"));
    }
    if let Some(uid) = input
        .short_uid
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        let p = arg(Bind::Text(uid.to_uppercase()));
        conds.push((format!("c.short_uid = {p}"), "1.0".into(), "short_uid"));
    }
    if let Some(s) = &input.ssn {
        pii = true;
        match Ssn::parse(s) {
            Err(e) => errs.push(FieldError::new("ssn", e.code, e.message)),
            Ok(ssn) if ssn.is_full() => {
                let p = arg(Bind::Text(ssn.digits().to_string()));
                conds.push((format!("c.ssn = {p}"), "1.0".into(), "ssn"));
                if let Some(dob) = input.dob {
                    let l4 = arg(Bind::Text(ssn.last_four().to_string()));
                    let d = arg(Bind::Date(dob));
                    conds.push((
                        format!("(length(c.ssn) = 4 AND c.ssn = {l4} AND c.dob = {d})"),
                        "0.95".into(),
                        "ssn_last4_dob",
                    ));
                }
            }
            Ok(ssn) => match input.dob {
                None => errs.push(FieldError::new(
                    "dob",
                    "required",
                    "A search by the last four SSN digits needs dob.",
                )),
                Some(dob) => {
                    let l4 = arg(Bind::Text(ssn.last_four().to_string()));
                    let d = arg(Bind::Date(dob));
                    conds.push((
                        format!("(right(c.ssn, 4) = {l4} AND c.dob = {d})"),
                        "0.95".into(),
                        "ssn_last4_dob",
                    ));
                }
            },
        }
    }
    let name = |field: &'static str, v: &Option<String>, errs: &mut Vec<FieldError>| {
        v.as_deref().and_then(|s| {
            normalize_name(field, s)
                .map_err(|e| errs.push(FieldError::new(field, e.code, e.message)))
                .ok()
                .flatten()
        })
    };
    let first = name("first_name", &input.first_name, &mut errs);
    let last = name("last_name", &input.last_name, &mut errs);
    if first.is_some() || last.is_some() {
        pii = true;
        let sim = |col: &str, v: &Option<String>, arg: &mut dyn FnMut(Bind) -> String| match v {
            Some(v) => {
                let p = arg(Bind::Text(v.to_lowercase()));
                (
                    format!("lower(c.{col}) % {p}"),
                    format!("coalesce(similarity(lower(c.{col}), {p}), 0)"),
                )
            }
            None => ("FALSE".into(), "0".into()),
        };
        let (fc, fs) = sim("first_name", &first, &mut arg);
        let (lc, ls) = sim("last_name", &last, &mut arg);
        let parts = [first.is_some(), last.is_some()]
            .iter()
            .filter(|b| **b)
            .count();
        let dob_bonus = match input.dob {
            Some(d) => {
                let p = arg(Bind::Date(d));
                format!("CASE WHEN c.dob = {p} THEN 0.25 ELSE 0 END")
            }
            None => "0".into(),
        };
        conds.push((
            format!("({fc} OR {lc})"),
            format!("LEAST(1.0, ({fs} + {ls}) / {parts}.0 * 0.75 + {dob_bonus})"),
            "name",
        ));
    } else if input.dob.is_some() && input.ssn.is_none() {
        errs.push(FieldError::new(
            "dob",
            "needs_name",
            "Search by DOB together with a name or the SSN's last four.",
        ));
    }
    if !errs.is_empty() {
        return Err(AppError::Validation(errs));
    }
    if conds.is_empty() {
        return Err(AppError::validation(
            "client_id",
            "no_criteria",
            "Search by client_id, short_uid, ssn (last four with dob), or first_name/last_name (with dob).",
        ));
    }
    // Every hit answers a system administrator in full: break-glass needs a reason.
    if caller.principal.is_system_admin() && caller.access_reason.is_none() {
        return Err(AppError::Forbidden(
            "A system administrator's search needs an X-Access-Reason header; it is audited."
                .into(),
        ));
    }
    let viewer = caller.viewer(conn)?;
    let basis = basis_sql(&viewer, caller.today);
    let any: Vec<String> = conds.iter().map(|(c, _, _)| c.clone()).collect();
    let score: Vec<String> = conds
        .iter()
        .map(|(c, s, _)| format!("CASE WHEN {c} THEN {s} ELSE 0 END"))
        .collect();
    let labels: Vec<String> = conds
        .iter()
        .map(|(c, _, l)| format!("CASE WHEN {c} THEN '{l}' END"))
        .collect();
    // Matching on PII reaches only records the caller sees in full; ids and UIDs reach any it sees.
    let reach = if pii {
        format!("x.basis IN {}", full_bases_sql())
    } else {
        "x.basis IS NOT NULL".into()
    };
    let sql = format!(
        "SELECT x.id, x.basis, x.score, x.matched_on FROM (\
           SELECT c.id, {basis} AS basis, GREATEST({score})::float8 AS score, \
                  concat_ws(',', {labels}) AS matched_on \
           FROM clients c WHERE c.lifecycle <> 'merged' AND ({any})\
         ) x WHERE {reach} ORDER BY x.score DESC, x.id LIMIT {limit}",
        score = score.join(", "),
        labels = labels.join(", "),
        any = any.join(" OR "),
    );
    let mut q = diesel::sql_query(sql).into_boxed::<diesel::pg::Pg>();
    for b in binds {
        q = match b {
            Bind::Uuid(u) => q.bind::<SqlUuid, _>(u),
            Bind::Text(t) => q.bind::<Text, _>(t),
            Bind::Date(d) => q.bind::<Nullable<Date>, _>(Some(d)),
        };
    }
    let hits: Vec<Hit> = q.load(conn)?;
    let ids: Vec<Uuid> = hits.iter().map(|h| h.id).collect();
    let rows: Vec<ClientRow> = clients::table
        .filter(clients::id.eq_any(&ids))
        .select(ClientRow::as_select())
        .load(conn)?;
    let mut items = Vec::with_capacity(hits.len());
    let mut events = Vec::new();
    for h in hits {
        let Some(row) = rows.iter().find(|r| r.id == h.id) else {
            continue;
        };
        let basis = AccessBasis::parse(&h.basis)
            .ok_or_else(|| AppError::Internal("unknown basis".into()))?;
        let decision = AccessDecision {
            level: level_of(basis),
            basis: Some(basis),
            rule: 0,
            reasons: vec![],
        };
        if decision.level == AccessLevel::Full {
            events.push(caller.event(Some(row.id), "search_result", Some(basis)));
        }
        items.push(SearchHit {
            score: (h.score * 1000.0).round() / 1000.0,
            matched_on: h
                .matched_on
                .split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
            client: client_view(row, &viewer, &decision, None),
        });
    }
    audit_repo::append(conn, &events)?;
    Ok(SearchResult { items })
}
