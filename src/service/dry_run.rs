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
