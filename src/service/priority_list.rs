//! The Coordinated Entry priority list (consent.md, "Priority list"; Chicago and ROI job aids):
//! full pulls in keyset pages, and incremental pulls of what changed since an instant.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::PgConnection;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::consent::sql::level_of;
use crate::consent::AccessLevel;
use crate::domain::CocCode;
use crate::error::{AppError, AppResult};
use crate::repo::priority_list::{self as repo, EntryRow, Key};
use crate::repo::tenants as tenants_repo;
use crate::service::client_view::AccessView;
use crate::service::context::Caller;

/// HUD's chronic homelessness duration test on the CE stay's entry (3.917): twelve months on
/// the street or in shelter, or four or more occasions totalling twelve months in three years.
/// Hearth records no disabling condition, so this is the duration part only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChronicStatus {
    Yes,
    No,
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    Added,
    Changed,
}

/// One client on the list. Non-PII fields only, except names at access level `full`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PriorityEntry {
    pub client_id: Uuid,
    /// In an incremental pull: whether the entry is new to the list or changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub change: Option<ChangeKind>,
    /// The caller's decision on the record, judged by the list's CoC: the same as
    /// `GET /v1/clients/{id}` answers it for a record of this CoC (a record of another CoC
    /// listed here is judged as one of this CoC on the list only).
    pub access: AccessView,
    /// At level `full` only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    pub veteran_status: i16,
    /// Open stays in the shown CE stay's household that the caller may see (of a record it may
    /// read, with an entry the datum rule releases to it); null when the entry is withheld.
    pub household_size: Option<i64>,
    pub chronic_status: Option<ChronicStatus>,
    /// The entry date of the CE stay shown: the earliest active CE stay in the CoC whose entry the
    /// datum rule releases to the caller (the list's own CE stay whenever it is released); null
    /// when none is. The list's order uses the CoC's earliest CE stay whatever the caller sees.
    pub ce_entry_date: Option<NaiveDate>,
    /// True when the datum rule withholds the entry of every active CE stay from this viewer.
    pub entry_withheld: bool,
    pub latest_assessment_date: Option<NaiveDate>,
    pub priority_score: Option<f64>,
    /// HUD 4.19.7.
    pub prioritization_status: Option<i16>,
    pub refusal_count: i32,
}

/// What an entry of `removed` says: the client is no longer listed for the caller, never why
/// (off the list, no longer readable by it, or merged into another record; a survivor listed to
/// the caller is answered as an entry of its own).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RemovedKind {
    NoLongerListed,
}

/// In an incremental pull: a client no longer listed (never why).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RemovedEntry {
    pub client_id: Uuid,
    pub change: RemovedKind,
}

/// Where the next page starts, and the instants of the pull; the API signs it into a cursor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PageState {
    pub coc: String,
    pub coc_view: bool,
    pub as_of: DateTime<Utc>,
    /// Incremental pulls: the `changed_since` of the first page.
    pub since: Option<DateTime<Utc>>,
    /// Full pulls: the last entry's rank (minus its score; null without one) and entry date.
    pub rank: Option<f64>,
    pub entry_date: Option<NaiveDate>,
    pub client_id: Uuid,
}

pub struct Request {
    /// The view asked for: `None` continues a cursor's view (the list's on a first page).
    pub coc_view: Option<bool>,
    pub limit: i64,
    pub changed_since: Option<DateTime<Utc>>,
    pub resume: Option<PageState>,
}

pub struct Page {
    /// The view answered: the one asked for, or the cursor's.
    pub coc_view: bool,
    pub as_of: DateTime<Utc>,
    pub items: Vec<PriorityEntry>,
    pub removed: Vec<RemovedEntry>,
    pub next: Option<PageState>,
}

pub fn parse_coc(code: &str) -> AppResult<CocCode> {
    CocCode::parse(code).map_err(|_| {
        AppError::BadRequest(
            "The CoC code is malformed (two letters, a dash, three digits).".into(),
        )
    })
}

fn chronic(r: &EntryRow) -> ChronicStatus {
    let long_stay = r
        .date_to_street_essh
        .zip(r.shown_entry_date)
        .is_some_and(|(d, entry)| (entry - d).num_days() >= 365);
    let often = r.times_homeless_past_three_years == Some(4)
        && matches!(r.months_homeless_past_three_years, Some(112 | 113));
    if long_stay || often {
        ChronicStatus::Yes
    } else if r.date_to_street_essh.is_none() && r.times_homeless_past_three_years.is_none() {
        ChronicStatus::Unknown
    } else {
        ChronicStatus::No
    }
}

fn entry(r: EntryRow, change: Option<ChangeKind>) -> AppResult<PriorityEntry> {
    // The caller's own decision (the list leaves out the records it gives `none`): the SQL
    // filter answers one of the engine's words, or reading the row failed (`AccessBasis` maps
    // to its column).
    let basis = r.basis;
    let level = level_of(basis);
    let full = level == AccessLevel::Full;
    // The CE stay the viewer may see (`EntryRow::shown_enrollment_id`), not always the list's.
    let entry_shown = r.entry_access.is_some() && r.shown_entry_date.is_some();
    let assessment_shown = r.assessment_access.is_some();
    Ok(PriorityEntry {
        client_id: r.client_id,
        change,
        access: AccessView {
            level,
            basis: Some(basis),
        },
        first_name: if full { r.first_name.clone() } else { None },
        last_name: if full { r.last_name.clone() } else { None },
        veteran_status: r.veteran_status,
        household_size: entry_shown.then_some(r.household_size),
        chronic_status: entry_shown.then(|| chronic(&r)),
        ce_entry_date: r.shown_entry_date.filter(|_| entry_shown),
        entry_withheld: !entry_shown,
        latest_assessment_date: if assessment_shown {
            r.assessed_on
        } else {
            None
        },
        priority_score: if assessment_shown {
            r.priority_score
        } else {
            None
        },
        prioritization_status: if assessment_shown {
            r.prioritization_status
        } else {
            None
        },
        refusal_count: r.refusal_count,
    })
}

/// Reads one page of the CoC's priority list (a full pull, or the changes since an instant).
pub fn read(conn: &mut PgConnection, caller: &Caller, code: &str, req: Request) -> AppResult<Page> {
    let coc = parse_coc(code)?;
    tenants_repo::find_coc(conn, coc.as_str())?.ok_or(AppError::NotFound)?;
    let viewer = caller.viewer(conn)?;
    // A cursor carries its view: without `view` the pull goes on in it; an explicit view that
    // contradicts it (or a cursor of another CoC's list) is another list's cursor.
    let coc_view = match &req.resume {
        Some(r) if r.coc != coc.as_str() || req.coc_view.is_some_and(|v| v != r.coc_view) => {
            return Err(AppError::validation(
                "cursor",
                "invalid_cursor",
                "The cursor belongs to another list (CoC or view).",
            ))
        }
        // The cursor carries its pull's changed_since too: one sent beside it must be the same.
        Some(r) if req.changed_since.is_some_and(|s| Some(s) != r.since) => {
            return Err(AppError::validation(
                "cursor",
                "invalid_cursor",
                "The cursor belongs to another pull (its changed_since differs); leave changed_since out to go on with it.",
            ))
        }
        Some(r) => r.coc_view,
        None => req.coc_view.unwrap_or(false),
    };
    crate::consent::ce::may_read_priority_list(&viewer, coc.as_str(), coc_view)
        .map_err(|m| AppError::Forbidden(m.into()))?;
    caller.require_break_glass_reason("read of the priority list")?;
    crate::service::access::require_reason_names_no_client(conn, caller)?;
    let now = Utc::now();
    let since = match (&req.resume, req.changed_since) {
        (Some(r), _) => r.since,
        (None, Some(s)) if s > now => {
            return Err(AppError::validation(
                "changed_since",
                "out_of_range",
                "changed_since is in the future; pass the as_of of your last answer.",
            ))
        }
        (None, s) => s,
    };
    let as_of = match &req.resume {
        Some(r) => r.as_of,
        None => repo::as_of(conn, &coc)?,
    };
    let limit = req.limit;
    let page = match since {
        None => {
            let after = req.resume.as_ref().and_then(|r| {
                r.entry_date.map(|entry_date| Key {
                    rank: r.rank,
                    entry_date,
                    client_id: r.client_id,
                })
            });
            let mut rows = repo::page(
                conn,
                &viewer,
                &coc,
                caller.today,
                coc_view,
                as_of,
                after,
                limit + 1,
            )?;
            let more = rows.len() as i64 > limit;
            rows.truncate(limit as usize);
            let next = rows.last().filter(|_| more).map(|r| PageState {
                coc: coc.as_str().into(),
                coc_view,
                as_of,
                since: None,
                rank: r.rank_key.is_finite().then_some(r.rank_key),
                entry_date: Some(r.entry_date),
                client_id: r.client_id,
            });
            Page {
                coc_view,
                as_of,
                items: rows
                    .into_iter()
                    .map(|r| entry(r, None))
                    .collect::<AppResult<_>>()?,
                removed: vec![],
                next,
            }
        }
        Some(since) => {
            let after = req.resume.as_ref().map(|r| r.client_id);
            let mut rows = repo::changes(
                conn,
                &viewer,
                &coc,
                caller.today,
                coc_view,
                since,
                as_of,
                after,
                limit + 1,
            )?;
            let more = rows.len() as i64 > limit;
            rows.truncate(limit as usize);
            let next = rows.last().filter(|_| more).map(|r| PageState {
                coc: coc.as_str().into(),
                coc_view,
                as_of,
                since: Some(since),
                rank: None,
                entry_date: None,
                client_id: r.client_id,
            });
            let (mut items, mut removed) = (vec![], vec![]);
            for r in rows {
                match r.entry {
                    Some(e) => {
                        let kind = if r.was_listed {
                            ChangeKind::Changed
                        } else {
                            ChangeKind::Added
                        };
                        items.push(entry(e, Some(kind))?);
                    }
                    None => removed.push(RemovedEntry {
                        client_id: r.client_id,
                        change: RemovedKind::NoLongerListed,
                    }),
                }
            }
            Page {
                coc_view,
                as_of,
                items,
                removed,
                next,
            }
        }
    };
    // A break-glass reason goes into each entry's audit row: it must not name a client listed.
    if caller.access_reason.is_some() {
        let mut names = crate::domain::scrub::Needles::default();
        for e in page
            .items
            .iter()
            .filter(|e| e.access.basis == Some(crate::consent::AccessBasis::Helpdesk))
        {
            // An anonymous record's generated name ("Anonymous", or a de-identified record's
            // "Anonymous <short UID>") is no one's.
            for n in [&e.first_name, &e.last_name]
                .into_iter()
                .flatten()
                .filter(|n| {
                    !n.eq_ignore_ascii_case("anonymous")
                        && !n
                            .get(..10)
                            .is_some_and(|p| p.eq_ignore_ascii_case("anonymous "))
                })
            {
                names.add_value(n);
            }
        }
        caller.require_reason_free_of(&names)?;
    }
    // Every read at level full is in the client's accounting of disclosures.
    let full_reads: Vec<_> = page
        .items
        .iter()
        .filter(|e| e.access.level == AccessLevel::Full)
        .map(|e| {
            caller.event(
                Some(e.client_id),
                "priority_list_entry_read",
                e.access.basis,
            )
        })
        .collect();
    if !full_reads.is_empty() {
        crate::repo::audit::append(conn, &full_reads)?;
    }
    caller.audit(
        conn,
        None,
        "priority_list_read",
        None,
        Some(serde_json::json!({"coc": coc.as_str(), "view": if coc_view { "coc" } else { "list" },
            "incremental": since.is_some(), "entries": page.items.len(), "removed": page.removed.len()})),
    )?;
    Ok(page)
}
