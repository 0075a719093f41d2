//! Duplicate search (`POST /v1/clients/search`): by client id or short UID, by SSN (full, or last
//! four with DOB), by name and DOB (phonetic keys and DOB variants find the candidates, pg_trgm
//! similarity ranks them; `repo::search`), with the exact name whatever the DOB, nicknames
//! (`domain::nicknames`) and swapped parts. It answers only what the caller may see, via the
//! consent filter in SQL; matching on PII reaches only records the caller sees in full; a name
//! too common to score whole is filtered before it is capped.

use std::collections::HashMap;

use chrono::NaiveDate;
use diesel::PgConnection;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::consent::sql::level_of;
use crate::consent::{AccessBasis, AccessDecision, AccessLevel, Viewer};
use crate::domain::scrub::Needles;
use crate::domain::{nicknames, normalize_name, validate_dob, Ssn};
use crate::error::{AppError, AppResult, FieldError};
use crate::repo::audit::{self as audit_repo};
use crate::repo::clients::ClientRow;
use crate::repo::search::{self as search_repo, ExactKey, ExactNames};
use crate::repo::visible as visible_repo;
use crate::service::access::require_reason_not_naming;
use crate::service::client_view::{client_view, ClientView};
use crate::service::context::Caller;
use crate::service::viewer::remembered_viewer;

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
    /// 0 to 1: 1 for an exact id, UID or SSN match (a merged record's id or UID answers the
    /// record it was merged into); otherwise name similarity (pg_trgm; an exact name 0.75, a
    /// nickname 0.7, first and last swapped 0.65) raised by the DOB searched (+0.25, a plausible
    /// variant +0.15) or lowered by a DOB more than a year from it (-0.1); no DOB on the record
    /// leaves it.
    pub score: f64,
    /// Which criteria matched (`client_id`, `short_uid`, `ssn`, `ssn_last4_dob`, `name`, `dob`).
    pub matched_on: Vec<String>,
    pub client: ClientView,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SearchResult {
    pub items: Vec<SearchHit>,
    /// True when a name is too common to narrow among the records the caller may see: only the
    /// first of them the indexes gave were scored. Add a DOB (or the other name part) to search
    /// them all. Records the caller may not see never count.
    pub truncated: bool,
}

/// Candidates a name search scores before access is checked; beyond, the answer is `truncated`.
const NAME_CAP: i32 = 1000;
/// Name parts shorter than this (in letters) narrow nothing.
const NAME_MIN_LETTERS: usize = 2;
/// `short_uid` is at most this long.
const SHORT_UID_MAX: usize = 32;

/// What one record matched, merged over the criteria.
struct Found {
    id: Uuid,
    score: f64,
    matched_on: Vec<&'static str>,
}

/// A hit: what matched, the access basis, the row.
type Hit = (Found, AccessBasis, ClientRow);

/// Candidates by id (a name search without a DOB brings a few thousand).
type FoundSet = HashMap<Uuid, Found>;

fn add(found: &mut FoundSet, id: Uuid, score: f64, label: &'static str) {
    let f = found.entry(id).or_insert(Found {
        id,
        score,
        matched_on: vec![],
    });
    f.score = f.score.max(score);
    if !f.matched_on.contains(&label) {
        f.matched_on.push(label);
    }
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
    let mut errs = Vec::new();
    if let Some(dob) = input.dob {
        if let Err(e) = validate_dob(dob, caller.today) {
            errs.push(FieldError::new("dob", e.code, e.message));
        }
    }
    let uid = input
        .short_uid
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    if let Some(u) = uid {
        if u.chars().count() > SHORT_UID_MAX || u.chars().any(|c| c.is_control()) {
            errs.push(FieldError::new(
                "short_uid",
                "invalid",
                format!("short_uid must be at most {SHORT_UID_MAX} characters, without control characters."),
            ));
        }
    }
    let ssn = match input.ssn.as_deref().map(Ssn::parse) {
        None => None,
        Some(Ok(ssn)) => Some(ssn),
        Some(Err(e)) => {
            errs.push(FieldError::new("ssn", e.code, e.message));
            None
        }
    };
    if let (Some(ssn), None) = (&ssn, input.dob) {
        if !ssn.is_full() {
            errs.push(FieldError::new(
                "dob",
                "required",
                "A search by the last four SSN digits needs dob.",
            ));
        }
    }
    let name = |field: &'static str, v: &Option<String>, errs: &mut Vec<FieldError>| {
        let n = v.as_deref().and_then(|s| {
            normalize_name(field, s)
                .map_err(|e| errs.push(FieldError::new(field, e.code, e.message)))
                .ok()
                .flatten()
        })?;
        if n.chars().filter(|c| c.is_alphabetic()).count() < NAME_MIN_LETTERS {
            errs.push(FieldError::new(
                field,
                "too_short",
                format!("{field} needs at least {NAME_MIN_LETTERS} letters to search by."),
            ));
            return None;
        }
        Some(n.to_lowercase())
    };
    let first = name("first_name", &input.first_name, &mut errs);
    let last = name("last_name", &input.last_name, &mut errs);
    let by_name = first.is_some() || last.is_some();
    if !by_name && input.dob.is_some() && input.ssn.is_none() {
        errs.push(FieldError::new(
            "dob",
            "needs_name",
            "Search by DOB together with a name or the SSN's last four.",
        ));
    }
    if !errs.is_empty() {
        return Err(AppError::Validation(errs));
    }
    if input.client_id.is_none() && uid.is_none() && ssn.is_none() && !by_name {
        return Err(AppError::validation(
            "client_id",
            "no_criteria",
            "Search by client_id, short_uid, ssn (last four with dob), or first_name/last_name (with dob).",
        ));
    }
    // Every hit answers a system administrator in full: break-glass needs a reason, and the
    // reason (stored with each hit's audit row) must not hold what is searched for.
    caller.require_break_glass_reason("search")?;
    crate::service::access::require_reason_names_no_client(conn, caller)?;
    if caller.access_reason.is_some() {
        let mut criteria = Needles::default();
        for n in [&input.first_name, &input.last_name].into_iter().flatten() {
            criteria.add_value(n);
        }
        if let Some(d) = input.dob {
            criteria.add_date(d);
        }
        if let Some(ssn) = &ssn {
            criteria.add_ssn(ssn.digits());
        }
        caller.require_reason_free_of(&criteria)?;
    }
    // The exact keys, each found by an index, with the score and label a hit gets.
    let uid = uid.map(str::to_uppercase);
    let mut keys: Vec<(ExactKey<'_>, f64, &'static str)> = Vec::new();
    if let Some(id) = input.client_id {
        keys.push((ExactKey::ClientId(id), 1.0, "client_id"));
    }
    if let Some(u) = &uid {
        keys.push((ExactKey::ShortUid(u), 1.0, "short_uid"));
    }
    if let Some(ssn) = &ssn {
        if ssn.is_full() {
            keys.push((ExactKey::Ssn(ssn.digits()), 1.0, "ssn"));
        }
        if let Some(dob) = input.dob {
            let last_four = ssn.last_four();
            let key = if ssn.is_full() {
                ExactKey::StoredLastFour { last_four, dob }
            } else {
                ExactKey::LastFour { last_four, dob }
            };
            keys.push((key, 0.95, "ssn_last4_dob"));
        }
    }
    // Matching on PII reaches only records the caller sees in full.
    let pii = ssn.is_some() || by_name;
    let (viewer, hits, truncated) = if by_name {
        let viewer = caller.viewer(conn)?;
        let (hits, truncated) = by_name_and_keys(
            conn,
            caller,
            &viewer,
            &keys,
            (first.as_deref(), last.as_deref(), input.dob),
            limit,
            pii,
        )?;
        let ids: Vec<Uuid> = hits.iter().map(|(f, _)| f.id).collect();
        let rows = search_repo::rows(conn, &ids)?;
        let hits = hits
            .into_iter()
            .filter_map(|(f, basis)| {
                let row = rows.iter().find(|r| r.id == f.id)?.clone();
                Some((f, basis, row))
            })
            .collect();
        (viewer, hits, truncated)
    } else {
        let (viewer, hits) = by_keys(conn, caller, &keys, limit, pii)?;
        (viewer, hits, false)
    };
    let mut items = Vec::with_capacity(hits.len());
    let mut events = Vec::new();
    for (f, basis, row) in hits {
        let decision = AccessDecision {
            level: level_of(basis),
            basis: Some(basis),
            rule: 0,
            reasons: vec![],
        };
        if decision.level == AccessLevel::Full {
            // The reason goes into this hit's audit row: it must not name this client.
            require_reason_not_naming(caller, Some(basis), &row)?;
            events.push(caller.event(Some(row.id), "search_result", Some(basis)));
        }
        // A split's "DO NOT USE" record names its new record under the rule a single read
        // follows (consent.md: seen only by the agency that split it and admins).
        let successor = if row.superseded_by.is_some() || row.merged_into.is_some() {
            crate::service::access::successor_for(conn, &viewer, &row, caller.today)?.0
        } else {
            None
        };
        items.push(SearchHit {
            score: (f.score * 1000.0).round() / 1000.0,
            matched_on: f.matched_on.iter().map(|s| s.to_string()).collect(),
            client: client_view(&row, &viewer, &decision, successor)?,
        });
    }
    audit_repo::append(conn, &events)?;
    Ok(SearchResult { items, truncated })
}

fn parse_basis(b: &str) -> AppResult<AccessBasis> {
    AccessBasis::parse(b).ok_or_else(|| AppError::Internal("unknown basis".into()))
}

/// Ranked best first: score, then id.
fn ranked(found: FoundSet) -> Vec<Found> {
    let mut found: Vec<Found> = found.into_values().collect();
    found.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.id.cmp(&b.id)));
    found
}

/// Exact keys only: the lookups, the consent filter and the rows in one statement
/// (`search_repo::exact_visible`), then merged and ranked; the first `limit` hits, and the
/// viewer they were filtered for.
///
/// The viewer is not loaded first when its agency's facts are remembered
/// (`viewer::remembered_viewer`): the statement applies the filter of the remembered viewer and
/// answers rows only if the agency still has those facts, in the statement's own snapshot. No
/// rows: the viewer is loaded (403 for an agency Hearth no longer knows), and when it differs
/// the lookup runs again for it.
fn by_keys(
    conn: &mut PgConnection,
    caller: &Caller,
    keys: &[(ExactKey<'_>, f64, &'static str)],
    limit: i64,
    pii: bool,
) -> AppResult<(Viewer, Vec<Hit>)> {
    let only: Vec<ExactKey<'_>> = keys.iter().map(|k| k.0).collect();
    let today = caller.today;
    let lookup = |conn: &mut PgConnection, viewer: &Viewer, check_viewer| {
        search_repo::exact_visible(conn, viewer, today, &only, limit, pii, check_viewer)
    };
    let (viewer, mut seen) = match remembered_viewer(&caller.principal) {
        Some(hint) => {
            let seen = lookup(conn, &hint, true)?;
            if !seen.is_empty() {
                (hint, seen)
            } else {
                let viewer = caller.viewer(conn)?;
                let seen = if viewer == hint {
                    seen
                } else {
                    lookup(conn, &viewer, false)?
                };
                (viewer, seen)
            }
        }
        None => {
            let viewer = caller.viewer(conn)?;
            let seen = lookup(conn, &viewer, false)?;
            (viewer, seen)
        }
    };
    // Labels in the order of the keys, as a client several keys find lists them.
    seen.sort_by_key(|s| s.arm);
    let mut found = FoundSet::new();
    let mut rows: HashMap<Uuid, (ClientRow, String)> = HashMap::new();
    for s in seen {
        let (_, score, label) = keys
            .get(s.arm as usize)
            .ok_or_else(|| AppError::Internal("unknown search arm".into()))?;
        add(&mut found, s.row.id, *score, label);
        rows.entry(s.row.id).or_insert((s.row, s.basis));
    }
    let mut hits = Vec::new();
    for f in ranked(found).into_iter().take(limit as usize) {
        if let Some((row, basis)) = rows.remove(&f.id) {
            hits.push((f, parse_basis(&basis)?, row));
        }
    }
    Ok((viewer, hits))
}

/// A name search (with any exact keys): candidates found by index, scored, merged and ranked,
/// then the consent filter over the best of them, a batch at a time, until `limit` hits; and
/// whether the name was too common to narrow.
fn by_name_and_keys(
    conn: &mut PgConnection,
    caller: &Caller,
    viewer: &Viewer,
    keys: &[(ExactKey<'_>, f64, &'static str)],
    (first, last, dob): (Option<&str>, Option<&str>, Option<NaiveDate>),
    limit: i64,
    pii: bool,
) -> AppResult<(Vec<(Found, AccessBasis)>, bool)> {
    let mut found = FoundSet::new();
    for (key, score, label) in keys {
        for id in search_repo::exact_ids(conn, *key, limit)? {
            add(&mut found, id, *score, label);
        }
    }
    let (mut candidates, mut truncated) =
        search_repo::name_candidates(conn, first, last, dob, NAME_CAP)?;
    if truncated {
        // Too common to score every candidate: the capped search may have stopped at records
        // the caller may not see. Filter first, then cap, so that the hits and `truncated`
        // depend only on what the caller may see (api.md). A name found whole (not capped) was
        // scored whole, and its hidden candidates are dropped below, crowding nothing out.
        (candidates, truncated) = search_repo::visible_name_candidates(
            conn,
            viewer,
            caller.today,
            first,
            last,
            dob,
            NAME_CAP,
            pii,
        )?;
    }
    if let (Some(first), Some(last)) = (first, last) {
        // The exact name whatever the DOB, nicknames, and the parts swapped.
        let mut firsts: Vec<String> = vec![first.to_string()];
        firsts.extend(nicknames::equivalents(first).into_iter().map(String::from));
        let names = ExactNames {
            first,
            last,
            firsts,
            dob,
        };
        candidates.extend(search_repo::exact_name_candidates(
            conn,
            viewer,
            caller.today,
            &names,
            NAME_CAP,
            pii,
        )?);
    }
    for c in candidates {
        add(&mut found, c.id, c.score, "name");
        if c.dob_exact {
            add(&mut found, c.id, c.score, "dob");
        }
    }
    let batch = (limit as usize * 2).max(40);
    let mut hits: Vec<(Found, AccessBasis)> = Vec::new();
    let mut rest = ranked(found).into_iter().peekable();
    while hits.len() < limit as usize && rest.peek().is_some() {
        let chunk: Vec<Found> = rest.by_ref().take(batch).collect();
        let ids: Vec<Uuid> = chunk.iter().map(|f| f.id).collect();
        let seen = visible_repo::clients_among(conn, viewer, caller.today, &ids, pii)?;
        for f in chunk {
            if hits.len() == limit as usize {
                break;
            }
            if let Some((_, b)) = seen.iter().find(|(id, _)| *id == f.id) {
                hits.push((f, parse_basis(b)?));
            }
        }
    }
    Ok((hits, truncated))
}
