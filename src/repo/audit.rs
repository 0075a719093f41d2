//! The append-only audit trail and helpdesk notices.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::PgConnection;
use uuid::Uuid;

use crate::db::schema::{audit_events, helpdesk_notices};

/// `None` is written as NULL, not DEFAULT, so the statement's text is fixed and prepared once.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = audit_events, treat_none_as_default_value = false)]
pub struct NewAuditEvent {
    pub actor: String,
    pub actor_agency_id: Option<Uuid>,
    pub client_id: Option<Uuid>,
    pub action: String,
    pub basis: Option<String>,
    pub request_id: Option<String>,
    pub access_reason: Option<String>,
    pub detail: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = audit_events)]
pub struct AuditRow {
    pub id: i64,
    pub occurred_at: DateTime<Utc>,
    pub actor: String,
    pub actor_agency_id: Option<Uuid>,
    pub client_id: Option<Uuid>,
    pub action: String,
    pub basis: Option<String>,
    pub request_id: Option<String>,
    pub access_reason: Option<String>,
    pub detail: Option<serde_json::Value>,
}

pub fn append(conn: &mut PgConnection, events: &[NewAuditEvent]) -> QueryResult<usize> {
    match events {
        [] => Ok(0),
        // One row: a fixed statement diesel prepares once (a batch insert is never cached).
        [one] => diesel::insert_into(audit_events::table)
            .values(one)
            .execute(conn),
        many => diesel::insert_into(audit_events::table)
            .values(many)
            .execute(conn),
    }
}

pub fn for_client(
    conn: &mut PgConnection,
    client: Uuid,
    after: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<AuditRow>> {
    let mut q = audit_events::table
        .filter(audit_events::client_id.eq(client))
        .order(audit_events::id.asc())
        .limit(limit)
        .select(AuditRow::as_select())
        .into_boxed();
    if let Some(a) = after {
        q = q.filter(audit_events::id.gt(a));
    }
    q.load(conn)
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = helpdesk_notices)]
pub struct NoticeRow {
    pub id: Uuid,
    pub coc_code: String,
    pub client_id: Option<Uuid>,
    pub kind: String,
    pub message: String,
    pub created_by_agency: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

pub fn add_notice(conn: &mut PgConnection, row: &NoticeRow) -> QueryResult<usize> {
    diesel::insert_into(helpdesk_notices::table)
        .values(row)
        .execute(conn)
}

pub fn notices(
    conn: &mut PgConnection,
    coc: Option<&str>,
    after: Option<Uuid>,
    limit: i64,
) -> QueryResult<Vec<NoticeRow>> {
    let mut q = helpdesk_notices::table
        .order(helpdesk_notices::id.asc())
        .limit(limit)
        .select(NoticeRow::as_select())
        .into_boxed();
    if let Some(c) = coc {
        q = q.filter(helpdesk_notices::coc_code.eq(c.to_string()));
    }
    if let Some(a) = after {
        q = q.filter(helpdesk_notices::id.gt(a));
    }
    q.load(conn)
}
