//! Client records: create in one identity mode, read (decided by the engine), update.

use chrono::Utc;
use diesel::{Connection, PgConnection};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::consent::guards::{open_warnings, roi_not_ended};
use crate::consent::RoiFacts;
use crate::consent::{AccessLevel, IdentityMode, Lifecycle, Visibility};
pub use crate::domain::identity::ClientPatch;
use crate::domain::CocCode;
use crate::error::{AppError, AppResult, FieldError};
use crate::repo::clients::RoiRow;
use crate::repo::clients::{self as repo, ClientRow};
use crate::repo::tenants as tenants_repo;
use crate::service::access::{decide, roi_facts};
use crate::service::client_input::validate_identity;
use crate::service::client_view::{client_view, ClientAnswer, ClientView};
use crate::service::consents::{build_roi, NewRoi};
use crate::service::context::Caller;
use crate::service::tenants::CocPolicy;

crate::identity_body! {
    /// A new client record. What the server accepts depends on `identity_mode` (consent.md).
    NewClient {
        pub identity_mode: IdentityMode,
        /// Default: `locked` for code-name records; `open` for consent-refused records (the
        /// consent-refused job aid's default, required for Coordinated Entry; no ROI needed) and
        /// when an `roi` that has not already ended is sent; else `closed`.
        pub visibility: Option<Visibility>,
        /// An ROI signed or given verbally at intake (needed for an `open` identified record).
        pub roi: Option<NewRoi>,
    }
}

/// A created or changed record, with what the server did.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ClientWrite {
    pub client: ClientView,
    pub changes: Vec<String>,
    pub warnings: Vec<String>,
}

/// The caller's agency, which a write is entered for. Which roles may write at all is the
/// permission table's (`consent::permissions`), checked before any workflow runs.
pub(crate) fn require_agency(caller: &Caller, action: &str) -> AppResult<Uuid> {
    let p = &caller.principal;
    p.agency_id
        .ok_or_else(|| AppError::Forbidden(format!("{action} needs a token for an agency.")))
}

/// A short UID drawn at random: nine hex digits (36 bits); callers check it is free.
pub(crate) fn draw_short_uid() -> String {
    use rand::Rng;
    let n: u64 = rand::rng().random_range(0..(1u64 << 36));
    format!("{n:09X}")
}

pub(crate) fn new_short_uid(conn: &mut PgConnection) -> AppResult<String> {
    for _ in 0..16 {
        let uid = draw_short_uid();
        if !repo::short_uid_taken(conn, &uid)? {
            return Ok(uid);
        }
    }
    Err(AppError::Internal("could not draw a free short uid".into()))
}

/// The visibilities a mode allows at creation (`consent::guards`), as a field error.
fn check_initial_visibility(
    mode: IdentityMode,
    v: Visibility,
    roi: Option<&RoiFacts>,
    today: chrono::NaiveDate,
) -> Result<(), FieldError> {
    crate::consent::guards::initial_visibility(mode, v, roi, today)
        .map_err(|r| FieldError::new("visibility", r.code, r.message))
}

pub fn create(
    conn: &mut PgConnection,
    caller: &Caller,
    input: NewClient,
) -> AppResult<ClientWrite> {
    let agency_id = require_agency(caller, "Creating a client record")?;
    conn.transaction(|conn| {
        let agency = tenants_repo::find_agency(conn, agency_id)?
            .ok_or_else(|| AppError::Forbidden("The token's agency is not known to Hearth.".into()))?;
        let coc = tenants_repo::find_coc(conn, &agency.coc_code)?.ok_or(AppError::NotFound)?;
        let policy = CocPolicy::from_row(&coc);
        let mode = input.identity_mode;
        let mut errs = Vec::new();
        if agency.victim_service_provider && mode == IdentityMode::Identified {
            // VAWA: victim service providers keep identifying data out of HMIS.
            errs.push(FieldError::new(
                "identity_mode",
                "victim_service_provider",
                "A victim service provider records clients without identifying data (anonymous or consent_refused).",
            ));
        }
        if input.roi.is_some() && matches!(mode, IdentityMode::ConsentRefused | IdentityMode::CodeName) {
            errs.push(FieldError::new(
                "roi",
                "forbidden_for_identity_mode",
                "Record consent later: a consent-refused or code-name record is created without an ROI.",
            ));
        }
        let short_uid = new_short_uid(conn)?;
        let identity = match validate_identity(&input.identity_fields(), mode, &policy.anonymous(), &short_uid, caller.today) {
            Ok(i) => Some(i),
            Err(mut e) => {
                errs.append(&mut e);
                None
            }
        };
        let id = Uuid::now_v7();
        let roi = match &input.roi {
            Some(r) => match build_roi(conn, caller, id, mode, &policy, r, "roi.") {
                Ok(r) => Some(r),
                Err(AppError::Validation(mut e)) => {
                    errs.append(&mut e);
                    None
                }
                Err(other) => return Err(other),
            },
            None => None,
        };
        let roi_facts = roi.as_ref().map(roi_facts);
        // An ROI that has ended already (expired) opens nothing: the record starts closed.
        let roi_opens = roi_facts.as_ref().is_some_and(|r| roi_not_ended(r, caller.today));
        let visibility = input.visibility.unwrap_or(match (mode, input.roi.is_some()) {
            (IdentityMode::CodeName, _) => Visibility::Locked,
            // The consent-refused job aid's default: visible to sharing agencies without PII,
            // as Coordinated Entry requires.
            (IdentityMode::ConsentRefused, _) => Visibility::Open,
            // An invalid ROI answers 422 below; open is what was asked for.
            (_, true) if roi_opens || roi.is_none() => Visibility::Open,
            (_, _) => Visibility::Closed,
        });
        // An ROI sent but invalid has its own errors; "open needs an ROI" would only confuse.
        let invalid_roi = input.roi.is_some() && roi.is_none();
        if !(invalid_roi && visibility == Visibility::Open) {
            if let Err(e) = check_initial_visibility(mode, visibility, roi_facts.as_ref(), caller.today) {
                errs.push(e);
            }
        }
        let identity = match (identity, errs.is_empty()) {
            (Some(i), true) => i,
            _ => return Err(AppError::Validation(errs)),
        };
        let now = Utc::now();
        let row = ClientRow {
            id,
            short_uid,
            person_id: Uuid::now_v7(),
            // The agencies table holds checked codes; one that does not parse is a fault.
            coc_code: CocCode::parse(&agency.coc_code)
                .map_err(|_| AppError::Internal("a stored agency's CoC code does not parse".into()))?,
            created_by_agency: agency.id,
            created_by_user: caller.principal.sub.clone(),
            identity_mode: mode,
            visibility,
            lifecycle: Lifecycle::Active,
            superseded_by: None,
            merged_into: None,
            identity,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        let row = repo::insert(conn, &row)?;
        repo::add_contributor(conn, row.id, agency.id)?;
        let mut changes = vec![format!("Record created in identity mode {}, {}.", mode.as_str(), visibility.as_str())];
        let mut warnings = Vec::new();
        if let Some(roi) = roi {
            let roi = repo::insert_roi(conn, &roi)?;
            changes.push(format!("ROI recorded, effective {}.", roi.effective_from));
            if !roi_opens {
                let deidentified = matches!(
                    mode,
                    IdentityMode::ConsentRefused | IdentityMode::Anonymous
                );
                warnings.push(ended_roi_warning(&roi, visibility, deidentified, false));
            }
        }
        if mode == IdentityMode::Anonymous {
            warnings.push(format!(
                "Keep the client id and short UID {} in your agency's own tracking sheet: the record holds no name.",
                row.short_uid
            ));
        }
        let d = decide(conn, caller, row.id)?;
        if visibility == Visibility::Open {
            // An ROI that takes effect later or leaves out the record's CoC: say what open means.
            warnings.extend(open_warnings(&d.facts, caller.today));
        }
        caller.audit(conn, Some(row.id), "create", d.decision.basis, None)?;
        Ok(ClientWrite { client: d.view()?, changes, warnings })
    })
}

/// What an ROI recorded after it ended (expired) did and did not do: nothing, beside another ROI
/// of the record that has not ended (`another_current`), which still decides; else the record is
/// shared as its visibility and identity say without one.
pub(crate) fn ended_roi_warning(
    roi: &RoiRow,
    visibility: Visibility,
    deidentified: bool,
    another_current: bool,
) -> String {
    let end = roi.expires_on.map_or(String::new(), |e| format!(" on {e}"));
    let had = format!("The ROI had already expired{end}: it is kept as history");
    match visibility {
        _ if another_current => format!(
            "{had} and changes nothing; the record's ROI that has not ended still decides who sees it."
        ),
        // A de-identified record is open without an ROI (rule 4).
        Visibility::Open if deidentified => format!(
            "{had} and shares nothing more; sharing agencies see the record only de-identified (limited). Record the client's current ROI to share it in full."
        ),
        Visibility::Open => format!(
            "{had} and shares nothing: the record is treated as closed until the client's current ROI is recorded."
        ),
        v => format!(
            "{had} and opens nothing, so the record is {}. Record the client's current ROI to share it.",
            v.as_str()
        ),
    }
}

/// Reads a record; a full read is audited, and a helpdesk read needs a reason.
/// A record as the caller sees it; a merged tombstone the caller may not see answers its
/// pointer to the survivor when the caller may see the survivor, else 404 like an unknown id.
pub fn get(conn: &mut PgConnection, caller: &Caller, id: Uuid) -> AppResult<ClientAnswer> {
    conn.transaction(|conn| {
        let d = match decide(conn, caller, id) {
            Err(AppError::NotFound) => {
                return crate::service::access::merged_tombstone_for(conn, caller, id)?
                    .map(ClientAnswer::Merged)
                    .ok_or(AppError::NotFound)
            }
            r => r?,
        };
        if d.decision.level == AccessLevel::Full {
            caller.audit(conn, Some(id), "read", d.decision.basis, None)?;
        }
        d.view().map(|v| ClientAnswer::Record(Box::new(v)))
    })
}

pub fn patch(
    conn: &mut PgConnection,
    caller: &Caller,
    id: Uuid,
    if_match: impl FnOnce(i32) -> AppResult<()>,
    p: ClientPatch,
) -> AppResult<ClientWrite> {
    conn.transaction(|conn| {
        repo::lock(conn, id)?;
        let d = decide(conn, caller, id)?;
        d.require_writable()?;
        if_match(d.row.version)?;
        let mode = d.facts.identity;
        let policy = crate::service::consents::load_policy(conn, &d.row.coc_code)?;
        let empty = p.is_empty();
        let identity = p
            .patched(
                &d.row.identity,
                mode,
                &policy.anonymous(),
                &d.row.short_uid,
                caller.today,
            )
            .map_err(AppError::Validation)?;
        if empty || identity == d.row.identity {
            // A merge patch that changes nothing writes nothing: the same version (and ETag),
            // no contribution. The record is answered as read.
            caller.audit(conn, Some(id), "read", d.decision.basis, None)?;
            return Ok(ClientWrite {
                client: d.view()?,
                changes: vec![],
                warnings: vec!["Nothing changed: the patch sets no field to a new value.".into()],
            });
        }
        let mut row = d.row.clone();
        row.identity = identity;
        let row = repo::update(conn, &row)?;
        let mut changes = vec!["Record updated.".to_string()];
        if let Some(agency) = caller.principal.agency_id {
            if repo::add_contributor(conn, id, agency)? {
                changes.push(crate::service::stays::contribution_change(conn, id)?);
            }
        }
        caller.audit(conn, Some(id), "update", d.decision.basis, None)?;
        let view = client_view(&row, &d.viewer, &d.decision, d.successor)?;
        Ok(ClientWrite {
            client: view,
            changes,
            warnings: vec![],
        })
    })
}
