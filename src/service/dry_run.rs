//! `?dry_run=true` on the consent workflows: the workflow runs exactly as it would, inside a
//! transaction that is always rolled back, so the answer (changes, warnings, the record after)
//! is the real one and nothing is committed, audit rows and helpdesk notices included.

use diesel::PgConnection;

use crate::error::AppResult;
use crate::repo::tx;

/// Runs `workflow`; when `dry`, inside a transaction that is rolled back whatever it answers.
pub fn run<T>(
    conn: &mut PgConnection,
    dry: bool,
    workflow: impl FnOnce(&mut PgConnection) -> AppResult<T>,
) -> AppResult<T> {
    if !dry {
        return workflow(conn);
    }
    tx::begin(conn)?;
    let answer = workflow(conn);
    tx::rollback(conn)?;
    answer
}

/// After a dry run whose answer shows record `client`: the answer disclosed the record as the
/// caller sees it, so a read at level full is audited (consent.md: every read at full, and
/// every break-glass read, is audited), outside the rolled-back transaction.
pub fn audit_read(
    conn: &mut PgConnection,
    caller: &crate::service::context::Caller,
    client: uuid::Uuid,
) -> AppResult<()> {
    use crate::error::AppError;
    match crate::service::access::decide(conn, caller, client) {
        Ok(d) if d.decision.level == crate::consent::AccessLevel::Full => {
            caller.audit(conn, Some(client), "dry_run", d.decision.basis, None)
        }
        Ok(_) | Err(AppError::NotFound | AppError::Forbidden(_)) => Ok(()),
        Err(e) => Err(e),
    }
}
