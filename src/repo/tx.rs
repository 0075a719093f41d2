//! Transaction control beyond diesel's `Connection::transaction`: a transaction that is always
//! rolled back (dry runs), and whether one is open (VACUUM cannot run inside one).

use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::{PgConnection, QueryResult};

pub fn begin(conn: &mut PgConnection) -> QueryResult<()> {
    AnsiTransactionManager::begin_transaction(conn)
}

pub fn rollback(conn: &mut PgConnection) -> QueryResult<()> {
    AnsiTransactionManager::rollback_transaction(conn)
}

/// True when this connection is inside a transaction (a test's, or a dry run's).
pub fn in_transaction(conn: &mut PgConnection) -> bool {
    AnsiTransactionManager::transaction_manager_status_mut(conn)
        .transaction_depth()
        .map_or(true, |d| d.is_some())
}
