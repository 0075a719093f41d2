//! "The rows this viewer may see": data listed through the consent filter in SQL (the record
//! rule and the datum rule of `consent::sql`, applied in one query), with the access each row
//! gets. Services ask for a kind of row; the SQL stays here.
//!
//! Every statement here is `CachedSql`: its own values and the viewer's (`consent::sql::Slots`)
//! are parameters, so its text is the same for every viewer of a kind and is prepared once per
//! connection.

use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::sql_types::{Integer, Nullable, Text, Uuid as SqlUuid};
use diesel::PgConnection;
use uuid::Uuid;

use crate::consent::sql::{
    basis_sql, datum_access_sql, full_bases_sql, parse_datum_access, viewer_current_sql, Slots,
    ViewerArgs,
};
use crate::consent::{DatumAccess, DatumKind, Viewer};
use crate::db::cached_sql::{padded_ids, CachedSql, Value};
use crate::error::AppResult;
use crate::repo::clients::ClientRow;
use crate::repo::stays::{ContactRow, DatumRow, DocumentMeta, EnrollmentRow};

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

/// The viewer's values, bound after a statement's own `params`: the slots they take and the
/// statement's values in order.
pub fn with_viewer(
    viewer: &Viewer,
    today: chrono::NaiveDate,
    params: Vec<Value>,
) -> (Slots, Vec<Value>) {
    let slots = Slots::at(params.len() + 1);
    let args = ViewerArgs::of(viewer, today);
    let mut values = params;
    values.extend([args.agency.into(), args.coc.into(), args.today.into()]);
    (slots, values)
}

/// Which data a list reads: `SELECT {columns}` of `table` (aliased `d`, with `client_id`,
/// `entered_by_agency` and `collected_on`) where `condition` holds (over `params`, `$1` on), in
/// `order` (over alias `x`).
struct DataQuery<'a> {
    table: &'a str,
    columns: &'a str,
    kind: DatumKind,
    condition: &'a str,
    params: Vec<Value>,
    order: &'a str,
}

/// The rows of `q` the viewer sees, with their access.
fn list_visible<T: QueryableByName<Pg> + 'static>(
    conn: &mut PgConnection,
    viewer: &Viewer,
    today: chrono::NaiveDate,
    q: DataQuery<'_>,
) -> AppResult<Vec<Visible<T>>> {
    let DataQuery {
        table,
        columns,
        kind,
        condition,
        params,
        order,
    } = q;
    let (slots, values) = with_viewer(viewer, today, params);
    // `OFFSET 0` keeps the basis one column computed once per row (`repo::priority_list`).
    let access = datum_access_sql(viewer, slots, "b.basis", kind);
    let sql = format!(
        "SELECT * FROM (SELECT {columns}, {access} AS datum_access \
           FROM {table} d JOIN clients c ON c.id = d.client_id \
           CROSS JOIN LATERAL (SELECT {basis} AS basis OFFSET 0) b \
           WHERE {condition}) x \
         WHERE x.datum_access IS NOT NULL ORDER BY {order}",
        basis = basis_sql(viewer, slots),
    );
    let rows: Vec<WithAccess<T>> = CachedSql::new(sql).bind_all(values).load(conn)?;
    Ok(rows
        .into_iter()
        .map(|r| Visible {
            access: parse_datum_access(r.datum_access.as_deref()),
            row: r.row,
        })
        .filter(|v| v.access != DatumAccess::Hidden)
        .collect())
}

/// A client's contact details the viewer sees, oldest first.
pub fn contacts_of(
    conn: &mut PgConnection,
    viewer: &Viewer,
    today: chrono::NaiveDate,
    client: Uuid,
) -> AppResult<Vec<Visible<ContactRow>>> {
    list_visible(
        conn,
        viewer,
        today,
        DataQuery {
            table: "contacts",
            columns: "d.*",
            kind: DatumKind::Contact,
            condition: "d.client_id = $1",
            params: vec![client.into()],
            order: "x.created_at, x.id",
        },
    )
}

/// Everything of a document but its bytes.
const DOCUMENT_COLUMNS: &str =
    "d.id, d.client_id, d.file_name, d.content_type, d.size_bytes, d.sha256, d.description, \
     d.entered_by_agency, d.entered_by_user, d.collected_on, d.created_at";

/// A client's documents (without their bytes) the viewer sees, oldest first.
pub fn documents_of(
    conn: &mut PgConnection,
    viewer: &Viewer,
    today: chrono::NaiveDate,
    client: Uuid,
) -> AppResult<Vec<Visible<DocumentMeta>>> {
    list_visible(
        conn,
        viewer,
        today,
        DataQuery {
            table: "documents",
            columns: DOCUMENT_COLUMNS,
            kind: DatumKind::Document,
            condition: "d.client_id = $1",
            params: vec![client.into()],
            order: "x.created_at, x.id",
        },
    )
}

/// A stay the viewer reaches, with its entry's datum access (`None`: a continuation, datum rule
/// 6) and its exit's (`None`: no exit, or the exit withheld).
#[derive(Debug, Clone)]
pub struct VisibleStay {
    pub row: EnrollmentRow,
    pub entry_access: Option<String>,
    pub exit_access: Option<String>,
}

impl QueryableByName<diesel::pg::Pg> for VisibleStay {
    fn build<'a>(
        row: &impl diesel::row::NamedRow<'a, diesel::pg::Pg>,
    ) -> diesel::deserialize::Result<Self> {
        use diesel::sql_types::{Nullable, Text};
        Ok(VisibleStay {
            entry_access: diesel::row::NamedRow::get::<Nullable<Text>, Option<String>>(
                row,
                "entry_access",
            )?,
            exit_access: diesel::row::NamedRow::get::<Nullable<Text>, Option<String>>(
                row,
                "exit_access",
            )?,
            row: <EnrollmentRow as QueryableByName<diesel::pg::Pg>>::build(row)?,
        })
    }
}

/// The client's stays the viewer reaches (consent filter and datum rule in SQL, `consent::sql`),
/// newest first.
pub fn enrollments_of(
    conn: &mut PgConnection,
    viewer: &crate::consent::Viewer,
    today: chrono::NaiveDate,
    client: Uuid,
) -> AppResult<Vec<VisibleStay>> {
    use crate::consent::sql::{
        stay_entry_access_sql, stay_exit_access_sql, stay_has_released_data_sql,
    };
    let (slots, values) = with_viewer(viewer, today, vec![client.into()]);
    let sql = format!(
        "SELECT * FROM (SELECT e.*, {entry} AS entry_access, {exit} AS exit_access, \
             {released} AS released \
           FROM enrollments e JOIN clients c ON c.id = e.client_id \
           CROSS JOIN LATERAL (SELECT {basis} AS basis OFFSET 0) b \
           WHERE e.client_id = $1 AND b.basis IS NOT NULL) x \
         WHERE x.entry_access IS NOT NULL OR x.released \
         ORDER BY x.entry_date DESC, x.id",
        entry = stay_entry_access_sql(viewer, slots, "b.basis"),
        exit = stay_exit_access_sql(viewer, slots, "b.basis"),
        released = stay_has_released_data_sql(viewer, slots, "b.basis"),
        basis = basis_sql(viewer, slots),
    );
    Ok(CachedSql::new(sql).bind_all(values).load(conn)?)
}

/// A stay's data of one kind (`enrollment_data.kind`) the viewer sees, oldest first, judged as
/// `datum_kind` (`consent::STAY_DATUM_KIND`).
pub fn stay_data_of(
    conn: &mut PgConnection,
    viewer: &Viewer,
    today: chrono::NaiveDate,
    enrollment: Uuid,
    kind: &str,
    datum_kind: DatumKind,
) -> AppResult<Vec<Visible<DatumRow>>> {
    list_visible(
        conn,
        viewer,
        today,
        DataQuery {
            table: "enrollment_data",
            columns: "d.*",
            kind: datum_kind,
            condition: "d.enrollment_id = $1 AND d.kind = $2",
            params: vec![enrollment.into(), kind.into()],
            order: "x.occurred_on, x.id",
        },
    )
}

#[derive(QueryableByName)]
struct VisibleRow {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
    #[diesel(sql_type = Text)]
    basis: String,
}

/// Of the clients `ids` (the candidates of a search), those `viewer` may see, with the access
/// basis of the consent filter in SQL (`consent::sql::basis_sql`); with `full_only`, only those it
/// sees in full (a search matching on PII reaches no record whose PII the caller may not see).
/// Order is not kept.
pub fn clients_among(
    conn: &mut PgConnection,
    viewer: &Viewer,
    today: chrono::NaiveDate,
    ids: &[Uuid],
    full_only: bool,
) -> QueryResult<Vec<(Uuid, String)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let reach = reach_sql(full_only);
    // Padded: the statement keeps its generic plan (`padded_ids`).
    let (slots, values) = with_viewer(viewer, today, vec![padded_ids(ids).into()]);
    let sql = format!(
        "SELECT x.id, x.basis FROM (\
           SELECT c.id, {basis} AS basis FROM clients c \
           WHERE c.id = ANY ($1) AND c.lifecycle <> 'merged' OFFSET 0\
         ) x WHERE {reach}",
        basis = basis_sql(viewer, slots),
    );
    let rows: Vec<VisibleRow> = CachedSql::new(sql).bind_all(values).load(conn)?;
    Ok(rows.into_iter().map(|r| (r.id, r.basis)).collect())
}

/// The rows a search keeps: those the viewer sees (`x.basis`), with `full_only` those it sees in
/// full.
pub fn reach_sql(full_only: bool) -> String {
    if full_only {
        format!("x.basis IN {}", full_bases_sql())
    } else {
        "x.basis IS NOT NULL".into()
    }
}

/// A client a search found by one of its arms, with its row and the viewer's access basis.
#[derive(QueryableByName)]
pub struct FoundClient {
    /// Which arm found it (a client several arms find comes once per arm).
    #[diesel(sql_type = Integer)]
    pub arm: i32,
    #[diesel(sql_type = Text)]
    pub basis: String,
    #[diesel(embed)]
    pub row: ClientRow,
}

/// Of the clients `arms` find, those `viewer` may see, with their rows and the access basis of
/// the consent filter in SQL (`consent::sql::basis_sql`); with `full_only`, only those it sees
/// in full. One statement: the lookups, the consent filter and the rows. Order is not kept.
///
/// With `check_viewer` (a viewer built from remembered agency facts), the statement answers rows
/// only while the viewer's agency still has the CoC and sharing flag the viewer holds
/// (`consent::sql::viewer_current_sql`): no rows means no hit, or a viewer to load again.
///
/// `arms` is fixed SQL text over `params` (`$1` on): parenthesised `SELECT <n> AS arm, c.* FROM
/// clients c WHERE ...` joined by `UNION ALL`, each an index lookup that leaves out merged
/// records (`repo::search::exact_visible`).
pub fn clients_found_by(
    conn: &mut PgConnection,
    viewer: &Viewer,
    today: chrono::NaiveDate,
    arms: &str,
    params: Vec<Value>,
    full_only: bool,
    check_viewer: bool,
) -> QueryResult<Vec<FoundClient>> {
    let (slots, mut values) = with_viewer(viewer, today, params);
    let mut reach = reach_sql(full_only);
    if check_viewer {
        reach = format!(
            "{reach} AND {}",
            viewer_current_sql(slots, &format!("${}", slots.next()))
        );
        values.push(viewer.agency_shares_data.into());
    }
    // `OFFSET 0` keeps the basis one column computed once per row (as in `clients_among`).
    let sql = format!(
        "SELECT x.* FROM (SELECT c.*, {basis} AS basis FROM ({arms}) c OFFSET 0) x WHERE {reach}",
        basis = basis_sql(viewer, slots),
    );
    CachedSql::new(sql).bind_all(values).load(conn)
}
