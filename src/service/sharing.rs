//! Sharing a record: visibility changes, designate sharing, the explained decision, the
//! accounting of disclosures, and helpdesk notices.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::{Connection, PgConnection};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::consent::guards::{open_warnings, roi_not_ended};
use crate::consent::listing::{notice_scope, NoticeScope};
use crate::consent::{
    acts_for, decide_record, may_read_audit, AccessBasis, AccessLevel, IdentityMode, Role, Viewer,
    Visibility,
};
use crate::error::{AppError, AppResult};
use crate::repo::audit as audit_repo;
use crate::repo::clients as repo;
use crate::repo::tenants as tenants_repo;
use crate::service::access::{decide, decide_unaudited_reason, Decided};
use crate::service::client_input::validate_identity;
use crate::service::client_view::redecide;
use crate::service::clients::ClientWrite;
use crate::service::consents::{build_roi, load_policy, NewRoi};
use crate::service::context::Caller;

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VisibilityChange {
    pub visibility: Visibility,
}

/// Only the creating agency (or a system administrator) decides how its record is shared.
fn require_owner(d: &Decided, action: &str) -> AppResult<()> {
    if acts_for(&d.viewer, d.facts.creating_agency) {
        Ok(())
    } else {
        Err(AppError::Forbidden(format!(
            "Only the agency that created the record can {action}."
        )))
    }
}

/// The guards of consent.md on a record's sharing state (`consent::guards`), as a 409.
fn check_target(d: &Decided, target: Visibility, today: NaiveDate) -> AppResult<()> {
    crate::consent::guards::visibility_change(&d.facts, target, today)
        .map_err(|r| AppError::conflict(r.code, r.message))
}

pub fn set_visibility(
    conn: &mut PgConnection,
    caller: &Caller,
    id: Uuid,
    if_match: Option<Box<dyn FnOnce(i32) -> AppResult<()> + Send>>,
    input: VisibilityChange,
) -> AppResult<ClientWrite> {
    conn.transaction(|conn| {
        repo::lock(conn, id)?;
        let d = decide(conn, caller, id)?;
        d.require_writable()?;
        require_owner(&d, "change its visibility")?;
        if let Some(check) = if_match {
            check(d.row.version)?;
        }
        let target = input.visibility;
        // The identity mode's visibilities (as at creation), contribution, CE, and the ROI.
        check_target(&d, target, caller.today)?;
        let mut changes = Vec::new();
        if d.facts.visibility != target {
            let mut row = d.row.clone();
            row.visibility = target;
            repo::update(conn, &row)?;
            changes.push(format!(
                "Visibility changed from {} to {}.",
                d.row.visibility,
                target.as_str()
            ));
            caller.audit(
                conn,
                Some(id),
                "visibility_changed",
                d.decision.basis,
                Some(serde_json::json!({"from": d.row.visibility, "to": target.as_str()})),
            )?;
        } else {
            changes.push(format!("Visibility was already {}.", target.as_str()));
        }
        let mut warnings = Vec::new();
        let mut after = d.facts.clone();
        after.visibility = target;
        if target == Visibility::Open {
            warnings = open_warnings(&after, caller.today);
        }
        // Closing a record with an active CE enrollment takes the client off the priority list
        // (ROI job aid), as a revocation or a merge says.
        warnings.extend(
            crate::consent::ce::leaves_priority_list(&[&d.facts], &after, caller.today)
                .map(String::from),
        );
        let client = redecide(conn, caller, &d, id)?.ok_or(AppError::NotFound)?;
        Ok(ClientWrite {
            client,
            changes,
            warnings,
        })
    })
}

crate::identity_body! {
    /// Chicago: once consent is received, the client designates how the record is shared. The
    /// record becomes identified, with the identity given here; the race (with its additional
    /// text), gender (with its different-identity text), sex and veteran status it already
    /// holds stay unless given again (a field sent as `null` is not given).
    DesignateSharing {
        pub visibility: Visibility,
        /// Needed for `open` unless an ROI is already active.
        pub roi: Option<NewRoi>,
    }
}

pub fn designate_sharing(
    conn: &mut PgConnection,
    caller: &Caller,
    id: Uuid,
    input: DesignateSharing,
) -> AppResult<ClientWrite> {
    conn.transaction(|conn| {
        repo::lock(conn, id)?;
        let d = decide(conn, caller, id)?;
        d.require_writable()?;
        require_owner(&d, "designate how it is shared")?;
        if d.facts.identity != IdentityMode::CodeName && d.facts.visibility != Visibility::Locked {
            return Err(AppError::conflict(
                "not-locked",
                "Designate sharing applies to code-name and locked records.",
            ));
        }
        let policy = load_policy(conn, &d.row.coc_code)?;
        let mut sent = input.identity_fields();
        d.row.identity.keep_unsent_demographics(&mut sent);
        let identity = validate_identity(
            &sent,
            IdentityMode::Identified,
            &policy.anonymous(),
            &d.row.short_uid,
            caller.today,
        )
        .map_err(AppError::Validation)?;
        let mut changes = Vec::new();
        let mut ended = None;
        if let Some(r) = &input.roi {
            let roi = build_roi(
                conn,
                caller,
                id,
                IdentityMode::Identified,
                &policy,
                r,
                "roi.",
            )?;
            let roi = repo::insert_roi(conn, &roi)?;
            changes.push(format!("ROI recorded, effective {}.", roi.effective_from));
            if !roi_not_ended(&crate::service::access::roi_facts(&roi), caller.today) {
                ended = Some(crate::service::clients::ended_roi_warning(
                    &roi,
                    input.visibility,
                    false,
                    crate::consent::guards::has_roi_not_ended(&d.facts, caller.today),
                ));
            }
        }
        let (_, _, facts) =
            crate::service::access::load_facts(conn, id)?.ok_or(AppError::NotFound)?;
        let mut after = Decided { facts, ..d.clone() };
        after.facts.identity = IdentityMode::Identified;
        crate::consent::guards::visibility_change(&after.facts, input.visibility, caller.today)
            .map_err(|r| {
                // This body takes the ROI: say so.
                let message = if r.code == "open-needs-roi" {
                    crate::consent::guards::OPEN_NEEDS_ROI_DESIGNATE.to_string()
                } else {
                    r.message
                };
                AppError::conflict(r.code, message)
            })?;
        let mut row = d.row.clone();
        row.identity = identity;
        row.identity_mode = IdentityMode::Identified;
        row.visibility = input.visibility;
        repo::update(conn, &row)?;
        changes.push(format!(
            "Identity mode changed from {} to identified; visibility from {} to {}.",
            d.row.identity_mode,
            d.row.visibility,
            input.visibility.as_str()
        ));
        caller.audit(
            conn,
            Some(id),
            "designate_sharing",
            d.decision.basis,
            Some(serde_json::json!({"from": d.row.visibility, "to": input.visibility.as_str()})),
        )?;
        let mut warnings: Vec<String> = ended.into_iter().collect();
        if input.visibility == Visibility::Open {
            after.facts.visibility = Visibility::Open;
            warnings.extend(open_warnings(&after.facts, caller.today));
        }
        let client = redecide(conn, caller, &d, id)?.ok_or(AppError::NotFound)?;
        Ok(ClientWrite {
            client,
            changes,
            warnings,
        })
    })
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ViewerView {
    pub agency_id: Option<Uuid>,
    pub coc_code: Option<String>,
    pub agency_shares_data: bool,
    pub roles: Vec<Role>,
}

/// The engine's decision, in its own words.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AccessExplanation {
    pub client_id: Uuid,
    pub viewer: ViewerView,
    pub level: AccessLevel,
    pub basis: Option<AccessBasis>,
    /// The row of the record rule that decided (1 to 9; 9 is level `none`).
    pub rule: u8,
    pub explanation: String,
    pub reasons: Vec<String>,
}

/// An admin may ask for another agency's decision (`consent::engine::may_ask_for_agency`).
pub struct AskFor {
    pub agency_id: Uuid,
    pub roles: Vec<Role>,
}

pub fn explain(
    conn: &mut PgConnection,
    caller: &Caller,
    id: Uuid,
    ask_for: Option<AskFor>,
) -> AppResult<AccessExplanation> {
    let viewer = match ask_for {
        None => caller.viewer(conn)?,
        Some(a) => {
            let me = caller.viewer(conn)?;
            let agency = tenants_repo::find_agency(conn, a.agency_id)?.filter(|g| {
                crate::consent::engine::may_ask_for_agency(&me, g.id, g.coc_code.as_str())
            });
            // An agency the caller may not ask for answers as an unknown one (no oracle).
            let agency = match agency {
                Some(g) => g,
                None if me.has_role(Role::SystemAdmin)
                    || me.has_role(Role::CocAdmin)
                    || me.has_role(Role::AgencyAdmin) =>
                {
                    return Err(AppError::validation(
                        "agency_id",
                        "unknown_agency",
                        "No agency you administer (your own, or one of your CoC's) has this id.",
                    ))
                }
                None => {
                    return Err(AppError::Forbidden(
                        "Asking for another agency's access needs one of the roles: system_admin, coc_admin (an agency of its CoC), agency_admin (its own agency).".into(),
                    ))
                }
            };
            Viewer {
                agency_id: Some(agency.id),
                coc_code: Some(agency.coc_code.into()),
                agency_shares_data: agency.shares_data,
                roles: a.roles,
            }
        }
    };
    // The caller must see the record itself; an admin asking for another agency may see "none".
    let own = decide_unaudited_reason(conn, caller, id)?;
    let (decision, viewer) = if own.viewer == viewer {
        (own.decision, own.viewer)
    } else {
        (decide_record(&viewer, &own.facts, caller.today), viewer)
    };
    Ok(AccessExplanation {
        client_id: id,
        viewer: ViewerView {
            agency_id: viewer.agency_id,
            coc_code: viewer.coc_code.clone(),
            agency_shares_data: viewer.agency_shares_data,
            roles: viewer.roles.clone(),
        },
        level: decision.level,
        basis: decision.basis,
        rule: decision.rule,
        explanation: decision.explanation(),
        reasons: decision.reasons.clone(),
    })
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AuditEvent {
    pub id: i64,
    pub occurred_at: DateTime<Utc>,
    /// The acting user (`sub`).
    pub actor: String,
    pub actor_agency_id: Option<Uuid>,
    pub action: String,
    /// Why the actor had access (the decision's basis), when the action read the record.
    #[schema(value_type = Option<crate::domain::words::AccessBasis>)]
    pub basis: Option<String>,
    pub request_id: Option<String>,
    /// A system administrator's stated reason for a break-glass read.
    pub access_reason: Option<String>,
    pub detail: Option<serde_json::Value>,
}

/// The accounting of disclosures: the creating agency's agency_admin, the record's CoC admins,
/// system admins.
pub fn audit_trail(
    conn: &mut PgConnection,
    caller: &Caller,
    id: Uuid,
    after: Option<i64>,
    limit: i64,
) -> AppResult<Vec<AuditEvent>> {
    let d = decide_unaudited_reason(conn, caller, id)?;
    if !may_read_audit(&d.viewer, &d.facts) {
        return Err(AppError::Forbidden(
            "The audit trail is for the creating agency's agency_admin, the CoC's coc_admin and system admins.".into(),
        ));
    }
    Ok(audit_repo::for_client(conn, id, after, limit)?
        .into_iter()
        .map(|r| AuditEvent {
            id: r.id,
            occurred_at: r.occurred_at,
            actor: r.actor,
            actor_agency_id: r.actor_agency_id,
            action: r.action,
            basis: r.basis,
            request_id: r.request_id,
            access_reason: r.access_reason,
            detail: r.detail,
        })
        .collect())
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HelpdeskNotice {
    pub id: Uuid,
    pub coc_code: String,
    pub client_id: Option<Uuid>,
    #[schema(value_type = crate::domain::contract_words::HelpdeskNoticeKind)]
    pub kind: String,
    pub message: String,
    pub created_by_agency: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

/// What the server did that a helpdesk used to do by hand: a CoC's admins see their CoC's.
pub fn helpdesk_notices(
    conn: &mut PgConnection,
    caller: &Caller,
    after: Option<Uuid>,
    limit: i64,
) -> AppResult<Vec<HelpdeskNotice>> {
    let p = &caller.principal;
    let coc = crate::service::viewer::caller_coc(conn, p)?;
    let scope = notice_scope(&p.roles, p.agency_id, coc.as_deref())
        .map_err(|m| AppError::Forbidden(m.into()))?;
    let coc = match scope {
        NoticeScope::All => None,
        NoticeScope::Coc(c) => Some(c),
    };
    Ok(audit_repo::notices(conn, coc.as_deref(), after, limit)?
        .into_iter()
        .map(|n| HelpdeskNotice {
            id: n.id,
            coc_code: n.coc_code,
            client_id: n.client_id,
            kind: n.kind,
            message: n.message,
            created_by_agency: n.created_by_agency,
            created_at: n.created_at,
        })
        .collect())
}
