//! SQL text with bind parameters that diesel prepares once per connection.
//!
//! diesel never caches `sql_query` (`SqlQuery` and `BoxedSqlQuery` mark themselves unsafe to
//! cache, since their text may be built per call): each one goes out as the unnamed statement,
//! parsed and planned by PostgreSQL every time. Only queries whose every node is safe to cache
//! are kept, by type (static DSL) or by their text and bind types (boxed DSL).
//!
//! `CachedSql` is text whose author promises it is one of a bounded set (built from fixed pieces,
//! every value a `$n` parameter, never a literal): diesel keeps it in the connection's statement
//! cache under its text, as a named prepared statement, so PostgreSQL parses it once per
//! connection and, after its first executions, reuses a generic plan.
//!
//! The text numbers its parameters `$1`, `$2`, … in the order of `bind`; a parameter may appear
//! several times or not at all. Placeholders are found outside single-quoted literals; the text
//! holds no dollar-quoted strings.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{
    Array, BigInt, Bool, Date, Double, Integer, Nullable, Text, Timestamptz, Untyped,
    Uuid as SqlUuid,
};
use diesel::{QueryResult, RunQueryDsl};
use uuid::Uuid;

/// A bound value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Uuid(Option<Uuid>),
    Text(Option<String>),
    Date(Option<NaiveDate>),
    Double(f64),
    BigInt(i64),
    Integer(i32),
    Bool(bool),
    Timestamptz(DateTime<Utc>),
    UuidArray(Vec<Uuid>),
    TextArray(Vec<String>),
}

impl From<Uuid> for Value {
    fn from(v: Uuid) -> Self {
        Value::Uuid(Some(v))
    }
}
impl From<Option<Uuid>> for Value {
    fn from(v: Option<Uuid>) -> Self {
        Value::Uuid(v)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(Some(v.to_string()))
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(Some(v))
    }
}
impl From<Option<String>> for Value {
    fn from(v: Option<String>) -> Self {
        Value::Text(v)
    }
}
impl From<Option<&str>> for Value {
    fn from(v: Option<&str>) -> Self {
        Value::Text(v.map(str::to_string))
    }
}
impl From<NaiveDate> for Value {
    fn from(v: NaiveDate) -> Self {
        Value::Date(Some(v))
    }
}
impl From<Option<NaiveDate>> for Value {
    fn from(v: Option<NaiveDate>) -> Self {
        Value::Date(v)
    }
}
impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::Double(v)
    }
}
impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::BigInt(v)
    }
}
impl From<i32> for Value {
    fn from(v: i32) -> Self {
        Value::Integer(v)
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}
impl From<DateTime<Utc>> for Value {
    fn from(v: DateTime<Utc>) -> Self {
        Value::Timestamptz(v)
    }
}
impl From<Vec<Uuid>> for Value {
    fn from(v: Vec<Uuid>) -> Self {
        Value::UuidArray(v)
    }
}
impl From<Vec<String>> for Value {
    fn from(v: Vec<String>) -> Self {
        Value::TextArray(v)
    }
}
impl From<&[Uuid]> for Value {
    fn from(v: &[Uuid]) -> Self {
        Value::UuidArray(v.to_vec())
    }
}

/// The least length `padded_ids` gives an array.
pub const IDS_BUCKET: usize = 16;

/// `ids` padded, with its first id repeated, to a multiple of `IDS_BUCKET`, for a `= ANY ($n)`
/// parameter of a prepared statement. `= ANY` over repeated values finds the same rows (the
/// index scan sorts and de-duplicates its keys), but PostgreSQL's choice between a generic plan
/// (planned once) and a custom one (planned on every execution) compares the generic plan's
/// cost, which assumes 10 elements, with the custom plans' costs, which count the elements: for
/// the one or two ids of an exact lookup a custom plan always looked cheaper, and every
/// execution was planned again (0.2 ms, ten times its execution). From 10 elements up the
/// generic plan is kept.
pub fn padded_ids(ids: &[Uuid]) -> Vec<Uuid> {
    let mut out = ids.to_vec();
    if let Some(first) = ids.first() {
        let len = ids.len().div_ceil(IDS_BUCKET) * IDS_BUCKET;
        out.resize(len, *first);
    }
    out
}

/// A statement of fixed text (per query shape) and bound values, cached per connection.
#[derive(Debug, Clone)]
#[must_use = "Queries are only executed when calling `load`, `get_result` or similar."]
pub struct CachedSql {
    sql: String,
    values: Vec<Value>,
}

impl CachedSql {
    /// `sql` must come from fixed pieces: every value that varies is a `$n` parameter.
    pub fn new(sql: impl Into<String>) -> Self {
        CachedSql {
            sql: sql.into(),
            values: Vec::new(),
        }
    }

    /// Binds the next parameter (`$1` first).
    pub fn bind(mut self, value: impl Into<Value>) -> Self {
        self.values.push(value.into());
        self
    }

    /// Binds the next parameters, in order.
    pub fn bind_all(mut self, values: impl IntoIterator<Item = Value>) -> Self {
        self.values.extend(values);
        self
    }

    /// The number of parameters bound so far (the next one is `$len + 1`).
    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    pub fn sql(&self) -> &str {
        &self.sql
    }
}

/// The text split at its placeholders: `(text before, parameter number)`, then the rest.
fn pieces(sql: &str) -> (Vec<(&str, usize)>, &str) {
    let bytes = sql.as_bytes();
    let mut out = Vec::new();
    let (mut start, mut i, mut quoted) = (0, 0, false);
    while i < bytes.len() {
        match bytes[i] {
            b'\'' => quoted = !quoted,
            b'$' if !quoted && bytes.get(i + 1).is_some_and(u8::is_ascii_digit) => {
                let mut j = i + 1;
                while j < bytes.len() && bytes[j].is_ascii_digit() {
                    j += 1;
                }
                let n = sql[i + 1..j].parse().unwrap_or(0);
                out.push((&sql[start..i], n));
                start = j;
                i = j;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    (out, &sql[start..])
}

impl QueryFragment<Pg> for CachedSql {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        // Safe to cache: the text is one of a bounded set (see the module's comment).
        let (parts, rest) = pieces(&self.sql);
        for (text, n) in parts {
            out.push_sql(text);
            let value = n
                .checked_sub(1)
                .and_then(|i| self.values.get(i))
                .ok_or_else(|| {
                    diesel::result::Error::QueryBuilderError(
                        format!("parameter ${n} is not bound ({} bound)", self.values.len()).into(),
                    )
                })?;
            match value {
                Value::Uuid(v) => out.push_bind_param::<Nullable<SqlUuid>, _>(v)?,
                Value::Text(v) => out.push_bind_param::<Nullable<Text>, _>(v)?,
                Value::Date(v) => out.push_bind_param::<Nullable<Date>, _>(v)?,
                Value::Double(v) => out.push_bind_param::<Double, _>(v)?,
                Value::BigInt(v) => out.push_bind_param::<BigInt, _>(v)?,
                Value::Integer(v) => out.push_bind_param::<Integer, _>(v)?,
                Value::Bool(v) => out.push_bind_param::<Bool, _>(v)?,
                Value::Timestamptz(v) => out.push_bind_param::<Timestamptz, _>(v)?,
                Value::UuidArray(v) => out.push_bind_param::<Array<SqlUuid>, _>(v)?,
                Value::TextArray(v) => out.push_bind_param::<Array<Text>, _>(v)?,
            }
        }
        out.push_sql(rest);
        Ok(())
    }
}

impl QueryId for CachedSql {
    type QueryId = ();
    /// Not by type: the cache keys it by its text and bind types.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl Query for CachedSql {
    type SqlType = Untyped;
}

impl<Conn> RunQueryDsl<Conn> for CachedSql {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_padded_to_a_bucket() {
        let a = Uuid::from_u128(1);
        let b = Uuid::from_u128(2);
        assert!(padded_ids(&[]).is_empty());
        let p = padded_ids(&[a, b]);
        assert_eq!(p.len(), IDS_BUCKET);
        assert_eq!(&p[..2], &[a, b]);
        assert!(p[2..].iter().all(|x| *x == a));
        assert_eq!(padded_ids(&vec![b; 17]).len(), 2 * IDS_BUCKET);
    }

    #[test]
    fn placeholders_outside_literals() {
        let (parts, rest) = pieces("SELECT $1, '$2', $10::uuid = $1 AND x = 'a''b' || $2");
        assert_eq!(
            parts,
            vec![
                ("SELECT ", 1),
                (", '$2', ", 10),
                ("::uuid = ", 1),
                (" AND x = 'a''b' || ", 2)
            ]
        );
        assert_eq!(rest, "");
        let (parts, rest) = pieces("SELECT 1 WHERE a = '$'");
        assert!(parts.is_empty());
        assert_eq!(rest, "SELECT 1 WHERE a = '$'");
    }

    #[test]
    fn the_text_diesel_sends_numbers_every_use() {
        let q = CachedSql::new("SELECT $2 WHERE a = $1 OR b = $2")
            .bind(1i32)
            .bind("x");
        let sql = diesel::debug_query::<Pg, _>(&q).to_string();
        assert_eq!(
            sql,
            "SELECT $1 WHERE a = $2 OR b = $3 -- binds: [Some(\"x\"), 1, Some(\"x\")]"
        );
    }
}
