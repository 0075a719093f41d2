//! Lists data through the consent filter in SQL: the record rule and the datum rule of
//! `consent::sql`, applied in one query, with the access each row gets.

use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::BoxedSqlQuery;
use diesel::query_builder::SqlQuery;
use diesel::sql_types::{Nullable, Text};
use diesel::PgConnection;

use crate::consent::sql::{basis_sql, datum_access_sql, parse_datum_access};
use crate::consent::{DatumAccess, DatumKind, Viewer};
use crate::error::AppResult;

pub struct WithAccess<T> {
    pub row: T,
    pub datum_access: Option<String>,
}

impl<T: QueryableByName<Pg>> QueryableByName<Pg> for WithAccess<T> {
    fn build<'a>(row: &impl diesel::row::NamedRow<'a, Pg>) -> diesel::deserialize::Result<Self> {
        let datum_access =
            diesel::row::NamedRow::get::<Nullable<Text>, Option<String>>(row, "datum_access")?;
        Ok(WithAccess {
            row: T::build(row)?,
            datum_access,
        })
    }
}

pub struct Visible<T> {
    pub row: T,
    pub access: DatumAccess,
}

/// Which data a list reads: `SELECT {columns}` of `table` (aliased `d`, with `client_id`,
/// `entered_by_agency` and `collected_on`) where `condition` holds, in `order` (over alias `x`).
pub struct DataQuery<'a> {
    pub table: &'a str,
    pub columns: &'a str,
    pub kind: DatumKind,
    pub condition: &'a str,
    pub order: &'a str,
}

/// The rows of `q` the viewer sees, with their access; `bind` adds the condition's parameters
/// in order.
pub fn list_visible<T: QueryableByName<Pg> + 'static>(
    conn: &mut PgConnection,
    viewer: &Viewer,
    today: chrono::NaiveDate,
    q: DataQuery<'_>,
    bind: impl FnOnce(BoxedSqlQuery<'static, Pg, SqlQuery>) -> BoxedSqlQuery<'static, Pg, SqlQuery>,
) -> AppResult<Vec<Visible<T>>> {
    let DataQuery {
        table,
        columns,
        kind,
        condition,
        order,
    } = q;
    let access = datum_access_sql(viewer, "b.basis", kind);
    let sql = format!(
        "SELECT * FROM (SELECT {columns}, {access} AS datum_access \
           FROM {table} d JOIN clients c ON c.id = d.client_id \
           CROSS JOIN LATERAL (SELECT {basis} AS basis) b \
           WHERE {condition}) x \
         WHERE x.datum_access IS NOT NULL ORDER BY {order}",
        basis = basis_sql(viewer, today),
    );
    let q = bind(diesel::sql_query(sql).into_boxed());
    let rows: Vec<WithAccess<T>> = q.load(conn)?;
    Ok(rows
        .into_iter()
        .map(|r| Visible {
            access: parse_datum_access(r.datum_access.as_deref()),
            row: r.row,
        })
        .filter(|v| v.access != DatumAccess::Hidden)
        .collect())
}
