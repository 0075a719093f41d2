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

/// [`run`] for a workflow whose answer shows record `client`: after a dry run the answer
/// disclosed the record as the caller sees it, so a read at level full is audited (`dry_run`;
/// consent.md: every read at full, and every break-glass read, is audited), outside the
/// rolled-back transaction.
pub fn run_about<T>(
    conn: &mut PgConnection,
    dry: bool,
    caller: &crate::service::context::Caller,
    client: uuid::Uuid,
    workflow: impl FnOnce(&mut PgConnection) -> AppResult<T>,
) -> AppResult<T> {
    use crate::error::AppError;
    let answer = run(conn, dry, workflow)?;
    if dry {
        match crate::service::access::audit_full_read(conn, caller, client, "dry_run") {
            Ok(_) | Err(AppError::NotFound | AppError::Forbidden(_)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(answer)
}
