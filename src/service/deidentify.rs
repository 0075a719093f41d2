//! De-identifying existing clients (Spokane job aid, consent.md "Workflows"): an agency files a
//! request (the support ticket), a system administrator completes or rejects it. Completion is
//! one transaction that leaves nothing of the old values in any table; afterwards the touched
//! tables are vacuumed so dead row versions do not keep them (docs/deidentification.md).

use chrono::{DateTime, Utc};
use diesel::{Connection, PgConnection};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::consent::listing::request_scope;
use crate::consent::{AccessLevel, IdentityMode};
use crate::domain::scan_pii;
use crate::domain::scrub::{
    mention_key, scrub_json, scrub_mentions, scrub_text, scrub_values, Needles,
};
use crate::error::{AppError, AppResult, FieldError};
use crate::repo::audit::{self as audit_repo, NoticeRow};
use crate::repo::clients::{self as clients_repo, ClientRow};
use crate::repo::deidentify::{self as repo, RequestRow};
use crate::service::access::{decide, require_text_names_no_client, require_text_not_naming};
use crate::service::consents::load_policy;
use crate::service::context::Caller;
use crate::service::tenants::CocPolicy;

/// Most ids one request may list in each of its lists.
const MAX_IDS: usize = 50;
const MAX_TEXT: usize = 2000;

/// An agency's request to make a client (and its household) anonymous. No PII in the text.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDeidentificationRequest {
    /// The client (the head of household when there is one).
    pub client_id: Uuid,
    /// Household members to de-identify with the client.
    #[serde(default)]
    pub member_ids: Vec<Uuid>,
    /// Household members fleeing domestic violence: de-identified and removed from the
    /// household into one of their own.
    #[serde(default)]
    pub dv_member_ids: Vec<Uuid>,
    /// Suspected duplicate records of the same people (for the administrator to merge).
    #[serde(default)]
    pub duplicate_ids: Vec<Uuid>,
    /// Anything the administrator should know; refused when it holds PII (the kind is named),
    /// or a name, alias, SSN or date of birth of a record of the request (`names_the_client`).
    pub description: Option<String>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RejectDeidentification {
    /// Why; no PII (a PII pattern, or a name, alias, SSN or date of birth of a record of the
    /// request, is refused with 422 naming the field).
    pub reason: String,
}

pub use crate::domain::words::RequestStatus;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeidentificationRequest {
    pub id: Uuid,
    pub status: RequestStatus,
    pub coc_code: String,
    pub client_id: Uuid,
    pub member_ids: Vec<Uuid>,
    pub dv_member_ids: Vec<Uuid>,
    pub duplicate_ids: Vec<Uuid>,
    pub description: Option<String>,
    pub rejection_reason: Option<String>,
    pub requested_by_agency_id: Uuid,
    pub created_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
}

/// The request as `caller` reads it: its description only where
/// `consent::listing::reads_request_description` allows.
fn view_for(caller: &Caller, r: &RequestRow) -> DeidentificationRequest {
    let mut v = view(r);
    let p = &caller.principal;
    if !crate::consent::listing::reads_request_description(
        &p.roles,
        p.agency_id,
        r.requested_by_agency,
    ) {
        v.description = None;
    }
    v
}

fn view(r: &RequestRow) -> DeidentificationRequest {
    DeidentificationRequest {
        id: r.id,
        status: r.status,
        coc_code: r.coc_code.to_string(),
        client_id: r.client_id,
        member_ids: r.member_ids.clone(),
        dv_member_ids: r.dv_member_ids.clone(),
        duplicate_ids: r.duplicate_ids.clone(),
        description: r.description.clone(),
        rejection_reason: r.rejection_reason.clone(),
        requested_by_agency_id: r.requested_by_agency,
        created_at: r.created_at,
        decided_at: r.decided_at,
    }
}

/// What a workflow on a request did.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeidentificationOutcome {
    pub request: DeidentificationRequest,
    pub changes: Vec<String>,
    pub warnings: Vec<String>,
    /// The helpdesk notice recorded for the CoC admins.
    pub helpdesk_notice_id: Uuid,
}

/// Bounded text with no PII pattern; the kind found is named, never the match.
fn checked_text(field: &str, v: Option<&str>, errs: &mut Vec<FieldError>) -> Option<String> {
    let text = v.map(str::trim).filter(|s| !s.is_empty())?;
    if text.contains('\0') {
        errs.push(FieldError::new(
            field,
            "nul_character",
            format!("{field} may not contain a NUL character."),
        ));
        return None;
    }
    if text.chars().count() > MAX_TEXT {
        errs.push(FieldError::new(
            field,
            "too_long",
            format!("{field} is at most {MAX_TEXT} characters."),
        ));
        return None;
    }
    if let Some(kind) = scan_pii(text).first() {
        errs.push(FieldError::new(
            field,
            "pii_in_free_text",
            format!(
                "{field} looks like it holds personal identifying information ({}); leave it out (refer to clients by id).",
                kind.as_str()
            ),
        ));
        return None;
    }
    Some(text.to_string())
}

fn dedup(ids: &[Uuid], not: &[Uuid]) -> Vec<Uuid> {
    let mut out: Vec<Uuid> = Vec::new();
    for id in ids {
        if !not.contains(id) && !out.contains(id) {
            out.push(*id);
        }
    }
    out
}

fn notice(
    conn: &mut PgConnection,
    caller: &Caller,
    r: &RequestRow,
    kind: &str,
    message: String,
) -> AppResult<Uuid> {
    let n = NoticeRow {
        id: Uuid::now_v7(),
        coc_code: r.coc_code.to_string(),
        client_id: Some(r.client_id),
        kind: kind.into(),
        message,
        created_by_agency: caller.principal.agency_id,
        created_at: Utc::now(),
    };
    audit_repo::add_notice(conn, &n)?;
    Ok(n.id)
}

/// Files a request: the caller's agency sees the client at full; every listed member shares a
/// household with it (422 otherwise, the same for a member the caller may not see); every open
/// member of the client's open households is listed, since an anonymous household holds only
/// anonymous members (anonymize job aid).
pub fn file(
    conn: &mut PgConnection,
    caller: &Caller,
    input: NewDeidentificationRequest,
    dry_run: bool,
) -> AppResult<DeidentificationOutcome> {
    crate::service::dry_run::run(conn, dry_run, |conn| file_in(conn, caller, input))
}

fn file_in(
    conn: &mut PgConnection,
    caller: &Caller,
    input: NewDeidentificationRequest,
) -> AppResult<DeidentificationOutcome> {
    let agency = crate::service::clients::require_agency(caller, "Requesting a de-identification")?;
    conn.transaction(|conn| {
        clients_repo::lock(conn, input.client_id)?;
        let d = decide(conn, caller, input.client_id)?;
        d.require_writable()?;
        let mut errs = Vec::new();
        for (field, list) in [("member_ids", &input.member_ids), ("dv_member_ids", &input.dv_member_ids), ("duplicate_ids", &input.duplicate_ids)] {
            if list.len() > MAX_IDS {
                errs.push(FieldError::new(field, "too_many", format!("{field} lists at most {MAX_IDS} ids.")));
            }
        }
        let description = checked_text("description", input.description.as_deref(), &mut errs);
        if !errs.is_empty() {
            return Err(AppError::Validation(errs));
        }
        let members = dedup(&input.member_ids, &[input.client_id]);
        let dv = dedup(&input.dv_member_ids, &[input.client_id]);
        let household = repo::household_members(conn, input.client_id)?;
        // The records the caller sees in full: the description may not name them.
        let mut named: Vec<ClientRow> = Vec::new();
        if d.decision.level == AccessLevel::Full {
            named.push(d.row.clone());
        }
        for (field, list) in [("member_ids", &members), ("dv_member_ids", &dv)] {
            for (i, m) in list.iter().enumerate() {
                let visible = household.contains(m)
                    && match decide(conn, caller, *m) {
                        Ok(md) if md.require_writable().is_ok() => {
                            if md.decision.level == AccessLevel::Full {
                                named.push(md.row);
                            }
                            true
                        }
                        Ok(_) | Err(AppError::NotFound) => false,
                        Err(e) => return Err(e),
                    };
                if !visible {
                    errs.push(FieldError::new(
                        format!("{field}[{i}]"),
                        "not_in_household",
                        "This id is not a member of the client's household that your agency can see.",
                    ));
                }
            }
        }
        if errs.is_empty() {
            let missing = repo::open_household_members(conn, input.client_id)?
                .into_iter()
                .filter(|m| *m != input.client_id && !members.contains(m) && !dv.contains(m))
                .count();
            if missing > 0 {
                errs.push(FieldError::new(
                    "member_ids",
                    "household_member_not_listed",
                    format!("{missing} member(s) of the client's open household are not listed: an anonymous household holds only anonymous members, so list each in member_ids or dv_member_ids."),
                ));
            }
        }
        let duplicates = dedup(&input.duplicate_ids, &[input.client_id]);
        if duplicates.iter().any(|x| members.contains(x) || dv.contains(x)) {
            errs.push(FieldError::new("duplicate_ids", "listed_as_member", "A household member is not a duplicate of itself."));
        }
        if let Some(text) = description.as_deref() {
            // The listed duplicates are the same person: the text may not name them either
            // (those the filing agency sees in full, so a refusal reveals nothing).
            for x in &duplicates {
                match decide(conn, caller, *x) {
                    Ok(xd) if xd.decision.level == AccessLevel::Full => named.push(xd.row),
                    Ok(_) | Err(AppError::NotFound) => {}
                    Err(e) => return Err(e),
                }
            }
            let rows: Vec<&ClientRow> = named.iter().collect();
            errs.extend(require_text_not_naming("description", text, &rows));
            // Not every client of the installation: a refusal would tell the filer whether a
            // name it guesses is anyone's (row 9). The CoC's admins do not read the text
            // (`consent::listing::reads_request_description`).
        }
        if !errs.is_empty() {
            return Err(AppError::Validation(errs));
        }
        if repo::pending_for_client(conn, input.client_id)? {
            return Err(AppError::conflict("request-pending", "A de-identification request for this client is already pending."));
        }
        let row = repo::insert_request(
            conn,
            &RequestRow {
                id: Uuid::now_v7(),
                coc_code: d.row.coc_code.clone(),
                client_id: input.client_id,
                member_ids: members,
                dv_member_ids: dv,
                duplicate_ids: duplicates,
                description,
                status: RequestStatus::Pending,
                rejection_reason: None,
                requested_by_agency: agency,
                requested_by_user: caller.principal.sub.clone(),
                decided_by_user: None,
                decided_at: None,
                created_at: Utc::now(),
            },
        )?;
        let people = 1 + row.member_ids.len() + row.dv_member_ids.len();
        let notice_id = notice(
            conn,
            caller,
            &row,
            "deidentification_requested",
            format!("De-identification requested for {people} record(s) ({} to remove from the household); a system administrator completes or rejects it.", row.dv_member_ids.len()),
        )?;
        caller.audit(conn, Some(row.client_id), "deidentification_requested", d.decision.basis, Some(serde_json::json!({"request_id": row.id})))?;
        Ok(DeidentificationOutcome {
            request: view_for(caller, &row),
            changes: vec![format!("Request filed for {people} record(s); a system administrator will complete it.")],
            warnings: vec!["Keep each client id in your agency's own tracking sheet: after de-identification the records are found by id only.".into()],
            helpdesk_notice_id: notice_id,
        })
    })
}

/// An agency its own requests; a coc_admin its CoC's; a system_admin all.
pub fn list(
    conn: &mut PgConnection,
    caller: &Caller,
    after: Option<Uuid>,
    limit: i64,
) -> AppResult<Vec<DeidentificationRequest>> {
    let p = &caller.principal;
    let coc = crate::service::viewer::caller_coc(conn, p)?;
    let scope = request_scope(&p.roles, p.agency_id, coc.as_deref())
        .map_err(|m| AppError::Forbidden(m.into()))?;
    Ok(repo::list_requests(conn, &scope, after, limit)?
        .iter()
        .map(|r| view_for(caller, r))
        .collect())
}

/// One request, to whoever lists it (`list`'s scope); 404 outside it.
pub fn get(
    conn: &mut PgConnection,
    caller: &Caller,
    id: Uuid,
) -> AppResult<DeidentificationRequest> {
    let p = &caller.principal;
    let coc = crate::service::viewer::caller_coc(conn, p)?;
    let scope = request_scope(&p.roles, p.agency_id, coc.as_deref())
        .map_err(|m| AppError::Forbidden(m.into()))?;
    let row = repo::find_request_in(conn, &scope, id)?.ok_or(AppError::NotFound)?;
    Ok(view_for(caller, &row))
}

fn pending(conn: &mut PgConnection, id: Uuid) -> AppResult<RequestRow> {
    // Who may decide is the permission table's (AdministerDeidentification: system admins).
    let row = repo::lock_request(conn, id)?.ok_or(AppError::NotFound)?;
    if row.status != RequestStatus::Pending {
        return Err(AppError::conflict(
            "request-not-pending",
            format!("This request is already {}.", row.status),
        ));
    }
    Ok(row)
}

pub fn reject(
    conn: &mut PgConnection,
    caller: &Caller,
    id: Uuid,
    input: RejectDeidentification,
) -> AppResult<DeidentificationOutcome> {
    conn.transaction(|conn| {
        let mut row = pending(conn, id)?;
        let mut errs = Vec::new();
        let reason = checked_text("reason", Some(&input.reason), &mut errs);
        if reason.is_none() && errs.is_empty() {
            errs.push(FieldError::new("reason", "required", "Give a reason."));
        }
        if let Some(text) = reason.as_deref() {
            // The requesting agency and the CoC's admins read the reason; it may not name the
            // records of the request or its listed duplicates (the system administrator sees
            // them in full).
            let mut rows = Vec::new();
            for t in row
                .targets()
                .into_iter()
                .chain(row.duplicate_ids.iter().copied())
            {
                rows.extend(clients_repo::lock(conn, t)?);
            }
            let rows: Vec<&ClientRow> = rows.iter().collect();
            errs.extend(require_text_not_naming("reason", text, &rows));
            if errs.iter().all(|e| e.field != "reason") {
                errs.extend(require_text_names_no_client(conn, "reason", text)?);
            }
        }
        if !errs.is_empty() {
            return Err(AppError::Validation(errs));
        }
        row.status = RequestStatus::Rejected;
        row.rejection_reason = reason;
        row.decided_by_user = Some(caller.principal.sub.clone());
        row.decided_at = Some(Utc::now());
        let row = repo::update_request(conn, &row)?;
        let notice_id = notice(
            conn,
            caller,
            &row,
            "deidentification_rejected",
            "A de-identification request was rejected; the requesting agency sees the reason."
                .into(),
        )?;
        caller.audit(
            conn,
            Some(row.client_id),
            "deidentification_rejected",
            None,
            Some(serde_json::json!({"request_id": row.id})),
        )?;
        Ok(DeidentificationOutcome {
            request: view_for(caller, &row),
            changes: vec!["Request rejected; no record changed.".into()],
            warnings: vec![],
            helpdesk_notice_id: notice_id,
        })
    })
}

/// The record's identity in the anonymous form the CoC policy gives, its free text scrubbed.
fn anonymize(row: &mut ClientRow, policy: &CocPolicy, today: chrono::NaiveDate, needles: &Needles) {
    row.identity_mode = IdentityMode::Anonymous;
    row.identity
        .anonymize(&policy.anonymous(), &row.short_uid, today);
    let id = &mut row.identity;
    for t in [
        &mut id.additional_race_ethnicity,
        &mut id.different_identity_text,
    ] {
        if let Some(s) = t.as_deref() {
            if let Some(clean) = scrub_text(s, needles) {
                *t = Some(clean);
            }
        }
    }
}

/// The former values of a record that scrubbing removes from every text.
fn add_needles(n: &mut Needles, row: &ClientRow) {
    n.add_identity(&row.identity, row.identity_mode == IdentityMode::Anonymous);
}

/// Structured fields that hold typed text (the rest are codes and dates).
const TEXT_FIELDS: [&str; 3] = [
    "assessment_location",
    "location_crisis_or_ph_housing",
    "verified_by",
];

/// Counts of what a completion rewrote, for its answer.
#[derive(Default)]
struct Scrubbed {
    data: usize,
    notes: usize,
    notices: usize,
    requests: usize,
    audit: usize,
    stored: usize,
}

fn scrub_everywhere(
    conn: &mut PgConnection,
    ids: &[Uuid],
    needles: &Needles,
) -> AppResult<Scrubbed> {
    let mut s = Scrubbed::default();
    for (id, text, mut fields) in repo::data_texts(conn, ids)? {
        let new_text = text.as_deref().and_then(|t| scrub_text(t, needles));
        let mut changed = new_text.is_some();
        if let Some(o) = fields.as_object_mut() {
            for f in TEXT_FIELDS {
                if let Some(v) = o.get_mut(f) {
                    changed |= scrub_json(v, needles, true);
                }
            }
        }
        if changed {
            repo::set_datum_text(conn, id, new_text.as_deref().or(text.as_deref()), &fields)?;
            s.data += 1;
        }
    }
    for (id, note) in repo::roi_notes(conn, ids)? {
        if let Some(clean) = note.as_deref().and_then(|t| scrub_text(t, needles)) {
            repo::set_roi_note(conn, id, &clean)?;
            s.notes += 1;
        }
    }
    for (id, message) in repo::notice_messages(conn, ids)? {
        if let Some(clean) = scrub_values(&message, needles) {
            repo::set_notice_message(conn, id, &clean)?;
            s.notices += 1;
        }
    }
    for mut r in repo::requests_naming(conn, ids)? {
        let d = r
            .description
            .as_deref()
            .and_then(|t| scrub_text(t, needles));
        let j = r
            .rejection_reason
            .as_deref()
            .and_then(|t| scrub_text(t, needles));
        if d.is_some() || j.is_some() {
            r.description = d.or(r.description);
            r.rejection_reason = j.or(r.rejection_reason);
            repo::update_request(conn, &r)?;
            s.requests += 1;
        }
    }
    let mut audit = Vec::new();
    for (id, rid, reason, mut detail) in repo::audit_free_parts(conn, ids)? {
        let r2 = rid.as_deref().and_then(|t| scrub_values(t, needles));
        let a2 = reason.as_deref().and_then(|t| scrub_text(t, needles));
        let d2 = detail
            .as_mut()
            .is_some_and(|d| scrub_json(d, needles, false));
        if r2.is_some() || a2.is_some() || d2 {
            audit.push((id, r2.or(rid), a2.or(reason), detail));
        }
    }
    s.audit = repo::scrub_audit_rows(conn, &audit)?;
    // Stored idempotent answers that named these records are dropped, not scrubbed: a replay
    // answers a problem, never the former state nor a scrubbed copy no schema describes.
    s.stored = crate::repo::idempotency::drop_answers_naming(conn, ids, Utc::now())?;
    Ok(s)
}

/// The records' full names and SSNs wherever other records' texts mention them: a case note of
/// another client ("came in with …"), a break-glass reason given on another record, another
/// agency's de-identification request. Only these forms: a first or last name alone there may
/// be someone else's.
struct Mentions {
    needles: Needles,
    /// The last names' longest words (`mention_key`) and the nine-digit SSNs that find (a
    /// superset of) the texts to scrub.
    last_names: Vec<String>,
    ssns: Vec<String>,
}

impl Mentions {
    fn of(rows: &[ClientRow]) -> Self {
        let mut m = Mentions {
            needles: Needles::default(),
            last_names: Vec::new(),
            ssns: Vec::new(),
        };
        for row in rows {
            if row.identity_mode == IdentityMode::Anonymous {
                continue;
            }
            let id = &row.identity;
            m.needles.add_naming_forms(id);
            if id.first_name.is_some() {
                if let Some(key) = id.last_name.as_deref().and_then(mention_key) {
                    if !m.last_names.contains(&key) {
                        m.last_names.push(key);
                    }
                }
            }
            let ssn: String = id
                .ssn
                .iter()
                .flat_map(|v| v.chars())
                .filter(char::is_ascii_digit)
                .collect();
            if ssn.len() == 9 {
                m.ssns.push(ssn);
            }
        }
        m
    }
}

fn scrub_mentions_elsewhere(
    conn: &mut PgConnection,
    mentions: &Mentions,
    s: &mut Scrubbed,
) -> AppResult<()> {
    let needles = &mentions.needles;
    let m = repo::texts_mentioning(conn, &mentions.last_names, &mentions.ssns)?;
    for (id, text) in m.data {
        if let Some(clean) = scrub_mentions(&text, needles) {
            repo::set_datum_text_only(conn, id, &clean)?;
            s.data += 1;
        }
    }
    for (id, note) in m.roi_notes {
        if let Some(clean) = scrub_mentions(&note, needles) {
            repo::set_roi_note(conn, id, &clean)?;
            s.notes += 1;
        }
    }
    for (id, message) in m.notices {
        if let Some(clean) = scrub_mentions(&message, needles) {
            repo::set_notice_message(conn, id, &clean)?;
            s.notices += 1;
        }
    }
    for mut r in m.requests {
        let d = r
            .description
            .as_deref()
            .and_then(|t| scrub_mentions(t, needles));
        let j = r
            .rejection_reason
            .as_deref()
            .and_then(|t| scrub_mentions(t, needles));
        if d.is_some() || j.is_some() {
            r.description = d.or(r.description);
            r.rejection_reason = j.or(r.rejection_reason);
            repo::update_request(conn, &r)?;
            s.requests += 1;
        }
    }
    let audit: Vec<_> = m
        .audit
        .into_iter()
        .filter_map(|(id, rid, reason, detail)| {
            let clean = reason.as_deref().and_then(|t| scrub_mentions(t, needles))?;
            Some((id, rid, Some(clean), detail))
        })
        .collect();
    s.audit += repo::scrub_audit_rows(conn, &audit)?;
    Ok(())
}

/// Completes a request in one transaction (see the module comment). The caller then runs
/// [`vacuum_after`] on a connection of its own (the HTTP handler does so after answering).
pub fn complete(
    conn: &mut PgConnection,
    caller: &Caller,
    id: Uuid,
    dry_run: bool,
) -> AppResult<DeidentificationOutcome> {
    crate::service::dry_run::run(conn, dry_run, |conn| {
        conn.transaction(|conn| complete_in(conn, caller, id))
    })
}

/// After a completion: VACUUM the rewritten tables (index cleanup forced, so the search and
/// trigram indexes lose their entries for the old values) and re-sample `clients`' statistics.
/// It cannot run inside a transaction (a test's or a dry run's): there it does nothing. Its
/// cost grows with the size of those tables and their indexes, so it runs after the answer.
pub fn vacuum_after(conn: &mut PgConnection) -> AppResult<()> {
    if crate::repo::tx::in_transaction(conn) {
        return Ok(());
    }
    repo::vacuum(conn, &repo::TOUCHED_TABLES)?;
    Ok(())
}

fn complete_in(
    conn: &mut PgConnection,
    caller: &Caller,
    id: Uuid,
) -> AppResult<DeidentificationOutcome> {
    let mut req = pending(conn, id)?;
    // Locked in id order, as a merge locks its two records.
    let mut listed = req.targets();
    listed.sort();
    let mut rows = Vec::new();
    for t in &listed {
        rows.extend(clients_repo::lock(conn, *t)?);
    }
    // Every other record of the same person held the same identity: the records an ROI split
    // left behind ("DO NOT USE", sharing the person id) and every record merged into one of
    // these (transitively). They are scrubbed the same way, or the old values would stay on
    // them. Found under the listed records' locks, so no merge into them (which locks both
    // records) slips by.
    let tombstones = repo::other_records_of_same_person(conn, &listed)?;
    for t in &tombstones {
        rows.extend(clients_repo::lock(conn, *t)?);
    }
    let targets = dedup(&[listed, tombstones.clone()].concat(), &[]);
    let mut needles = Needles::default();
    for row in &rows {
        add_needles(&mut needles, row);
    }
    for v in repo::contact_values(conn, &targets)? {
        needles.add_value(&v);
    }
    // Taken before the records are made anonymous.
    let mentions = Mentions::of(&rows);
    let policy = load_policy(conn, &req.coc_code)?;
    for row in &mut rows {
        anonymize(row, &policy, caller.today, &needles);
        clients_repo::update(conn, row)?;
    }
    let (contacts, documents) = repo::delete_contacts_and_documents(conn, &targets)?;
    let mut moved = 0;
    for m in &req.dv_member_ids {
        moved += repo::split_from_household(conn, req.client_id, *m)?;
    }
    let mut s = scrub_everywhere(conn, &targets, &needles)?;
    scrub_mentions_elsewhere(conn, &mentions, &mut s)?;
    // The request's own text is scrubbed with the rest; read it back before deciding it.
    req = repo::lock_request(conn, id)?.ok_or(AppError::NotFound)?;
    req.status = RequestStatus::Completed;
    req.decided_by_user = Some(caller.principal.sub.clone());
    req.decided_at = Some(Utc::now());
    let req = repo::update_request(conn, &req)?;
    let tombs = rows.iter().filter(|r| tombstones.contains(&r.id)).count();
    let mut changes = vec![
        format!("{} record(s) made anonymous in the form the CoC policy gives; their client ids stay.", rows.len() - tombs),
        format!("{contacts} contact(s) and {documents} document(s) deleted."),
        format!(
            "Former values scrubbed from {} datum text(s), {} ROI note(s), {} helpdesk notice(s), {} request(s), {} audit row(s); {} stored idempotent answer(s) dropped.",
            s.data, s.notes, s.notices, s.requests, s.audit, s.stored
        ),
    ];
    if tombs > 0 {
        changes.push(format!(
            "{tombs} other record(s) of the same person (merged into them, or left behind by an ROI split) made anonymous and scrubbed the same way."
        ));
    }
    if !req.dv_member_ids.is_empty() {
        changes.push(format!(
            "{} member(s) removed from the household into a household of their own ({moved} stay(s) moved).",
            req.dv_member_ids.len()
        ));
    }
    let mut warnings = vec!["Outside Hearth's reach: copies in database backups and write-ahead-log archives taken before now (docs/deidentification.md).".to_string()];
    // The listed duplicates merged into these records were scrubbed with them; one still on
    // its own keeps its identity, and merges into an anonymous record only once anonymous too.
    let unmerged = repo::existing(conn, &dedup(&req.duplicate_ids, &tombstones))?.len();
    if unmerged > 0 {
        warnings.push(format!("{unmerged} listed suspected duplicate(s) were not merged into these records and keep their identity: de-identify them (POST /v1/deidentification-requests), then merge them into these records (POST /v1/clients/{{id}}/merge) so no identified copy remains."));
    }
    let notice_id = notice(
        conn,
        caller,
        &req,
        "deidentification_completed",
        format!(
            "De-identification completed for {} record(s); {} removed from the household.",
            rows.len() - tombs,
            req.dv_member_ids.len()
        ),
    )?;
    for t in &targets {
        caller.audit(
            conn,
            Some(*t),
            "deidentified",
            None,
            Some(serde_json::json!({"request_id": req.id})),
        )?;
    }
    Ok(DeidentificationOutcome {
        request: view_for(caller, &req),
        changes,
        warnings,
        helpdesk_notice_id: notice_id,
    })
}
