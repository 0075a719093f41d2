//! Who is asking, and under which request: what every workflow needs for decisions and audit.

use chrono::NaiveDate;
use diesel::PgConnection;
use uuid::Uuid;

use crate::auth::Principal;
use crate::consent::{AccessBasis, AccessDecision, Viewer};
use crate::domain::scrub::Needles;
use crate::error::{AppError, AppResult};
use crate::repo::audit::{self, NewAuditEvent};

/// A stated break-glass reason (the `X-Access-Reason` header, the command line's `--reason`),
/// checked before any use: it is stored in the audit trail, which never holds PII. What the
/// server knows of the records concerned is checked too, where they are known
/// ([`Caller::require_reason_free_of`]).
pub fn access_reason(raw: &str) -> AppResult<String> {
    // A tab, a newline or any other control character could forge a log line or an audit
    // field: the header is plain text on one line.
    if raw.chars().any(char::is_control) {
        return Err(AppError::BadRequest(
            "X-Access-Reason must be plain text with no control character (such as a tab).".into(),
        ));
    }
    let s = raw.trim().to_string();
    if s.is_empty() || s.chars().count() > 500 {
        return Err(AppError::BadRequest(
            "X-Access-Reason must be 1 to 500 characters.".into(),
        ));
    }
    if crate::domain::contains_pii(&s) || spaced_digits(&s) >= 9 {
        return Err(AppError::BadRequest(
            "X-Access-Reason looks like it holds personal identifying information; give a ticket number or a plain reason.".into(),
        ));
    }
    Ok(s)
}

/// The longest run of digits in `s` where up to three spaces, dashes, dots or slashes between two
/// digits do not end it: nine or more is an SSN (or a phone number) spelled out, such as
/// "ssn 2 1 9 0 9 1 2 3 4", which the PII scanner's patterns for free text leave alone.
fn spaced_digits(s: &str) -> usize {
    let (mut best, mut run, mut gap) = (0, 0, 0);
    for c in s.chars() {
        if c.is_ascii_digit() {
            run += 1;
            gap = 0;
            best = best.max(run);
        } else if run > 0 && gap < 3 && " -./".contains(c) {
            gap += 1;
        } else {
            run = 0;
            gap = 0;
        }
    }
    best
}

#[cfg(test)]
mod reason_tests {
    use super::access_reason;

    #[test]
    fn a_reason_with_an_ssn_spelled_out_is_refused() {
        for bad in [
            "ssn 2 1 9 0 9 1 2 3 4",
            "call 3 1 2 - 5 5 5 - 0 1 9 9",
            "id 219.09.1234",
        ] {
            assert!(access_reason(bad).is_err(), "{bad}");
        }
        for ok in ["ticket 4471", "ticket 12, 2 calls", "INC-20261 follow-up"] {
            assert_eq!(access_reason(ok).unwrap(), ok);
        }
    }
}

#[derive(Debug, Clone)]
pub struct Caller {
    pub principal: Principal,
    pub request_id: String,
    /// `X-Access-Reason`: a system administrator's reason for a break-glass read.
    pub access_reason: Option<String>,
    pub today: NaiveDate,
    /// The viewer, resolved once per request (its agency's CoC and sharing flag).
    viewer: std::sync::OnceLock<Viewer>,
}

impl Caller {
    pub fn new(principal: Principal, request_id: String, access_reason: Option<String>) -> Caller {
        Caller {
            principal,
            request_id,
            access_reason,
            today: chrono::Utc::now().date_naive(),
            viewer: std::sync::OnceLock::new(),
        }
    }

    /// The consent engine's view of the caller, loaded on first use and kept for the request.
    pub fn viewer(&self, conn: &mut PgConnection) -> AppResult<Viewer> {
        if let Some(v) = self.viewer.get() {
            return Ok(v.clone());
        }
        let v = crate::service::viewer::load_viewer(conn, &self.principal)?;
        Ok(self.viewer.get_or_init(|| v).clone())
    }

    /// Break-glass: a helpdesk read of PII needs a reason (consent.md, rule 1).
    pub fn require_reason_for(&self, decision: &AccessDecision) -> AppResult<()> {
        if decision.basis == Some(AccessBasis::Helpdesk) {
            return self.require_break_glass_reason("read of personal identifying information");
        }
        Ok(())
    }

    /// Break-glass for answers that may hold any record (search, the priority list): a system
    /// administrator needs a reason before the first row is read. `what` names the answer.
    pub fn require_break_glass_reason(&self, what: &str) -> AppResult<()> {
        if self.principal.is_system_admin() && self.access_reason.is_none() {
            return Err(AppError::Forbidden(format!(
                "A system administrator's {what} needs an X-Access-Reason header; it is audited."
            )));
        }
        Ok(())
    }

    /// The reason is stored in the audit trail, which never holds PII: besides the scanner's
    /// patterns (checked when the header is read), it must not name what the server knows of
    /// the records concerned (their names, alias, SSN, DOB; a search's own criteria). 400,
    /// never echoing the value.
    pub fn require_reason_free_of(&self, values: &Needles) -> AppResult<()> {
        match &self.access_reason {
            Some(r) if values.found_in(r) => Err(AppError::BadRequest(
                "X-Access-Reason holds personal identifying information of the client (a name, SSN or date of birth); give a ticket number or a plain reason.".into(),
            )),
            _ => Ok(()),
        }
    }

    /// An audit event for `client` (no PII: ids, words and codes only).
    pub fn event(
        &self,
        client: Option<Uuid>,
        action: &str,
        basis: Option<AccessBasis>,
    ) -> NewAuditEvent {
        NewAuditEvent {
            actor: self.principal.sub.clone(),
            actor_agency_id: self.principal.agency_id,
            client_id: client,
            action: action.into(),
            basis: basis.map(|b| b.as_str().to_string()),
            request_id: Some(self.request_id.clone()).filter(|r| !r.is_empty()),
            access_reason: if basis == Some(AccessBasis::Helpdesk) {
                self.access_reason.clone()
            } else {
                None
            },
            detail: None,
        }
    }

    pub fn audit(
        &self,
        conn: &mut PgConnection,
        client: Option<Uuid>,
        action: &str,
        basis: Option<AccessBasis>,
        detail: Option<serde_json::Value>,
    ) -> AppResult<()> {
        let mut e = self.event(client, action, basis);
        e.detail = detail;
        audit::append(conn, &[e])?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::access_reason;

    #[test]
    fn a_reason_is_checked_wherever_it_comes_from() {
        assert_eq!(
            access_reason("  ticket HD-4411 ").unwrap(),
            "ticket HD-4411"
        );
        for bad in ["", "   ", "client 524-71-9932", "call 509-555-0147"] {
            assert!(access_reason(bad).is_err(), "{bad}");
        }
        assert!(access_reason(&"x".repeat(501)).is_err());
    }
}
