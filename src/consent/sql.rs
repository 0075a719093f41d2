//! The consent filter in SQL: the record rule of `engine::decide_record`, row for row, as one
//! `CASE` over a `clients` row aliased `c`. Lists and searches select it as the access basis and
//! keep the rows where it is not null. A test (`tests/api/consent_sql.rs`) builds random worlds
//! and checks that this answer equals the engine's for every viewer and record.
//!
//! The viewer's values (agency, CoC, today) are never written into the text: they are bind
//! parameters at the `Slots` the caller chooses, bound to `ViewerArgs::of(viewer, today)`. The
//! text depends only on the statement's shape and on which of the viewer's roles and facts turn
//! an arm on, so every viewer of a kind sends the same statement, which is prepared once per
//! connection (`db::cached_sql`) instead of parsed and planned on every request.

use chrono::NaiveDate;
use uuid::Uuid;

use super::model::{AccessBasis, AccessLevel, DatumAccess, DatumKind, Role, Viewer};
use crate::domain::CocCode;

/// SQL that is true when the client `c` has an active Coordinated Entry enrollment (the function
/// is defined once, in migration 4).
pub const ACTIVE_CE_ENROLLMENT: &str = "client_has_active_ce(c.id)";

/// SQL that is true when `c` is de-identified (consent-refused or anonymous) and `open`.
pub const DEIDENTIFIED_OPEN: &str =
    "(c.identity_mode IN ('consent_refused', 'anonymous') AND c.visibility = 'open')";

/// Where a statement binds the viewer's values, in this order from `$first`: the viewer's agency
/// (uuid, null without one), the viewer's CoC code (text, null unless it is a valid code), today
/// (date). `ViewerArgs::of` gives the values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slots {
    first: usize,
}

impl Slots {
    /// How many parameters the viewer's values take.
    pub const LEN: usize = 3;

    /// The viewer's values at `$first`, `$first + 1` and `$first + 2`.
    pub fn at(first: usize) -> Self {
        assert!(first >= 1, "bind parameters count from $1");
        Slots { first }
    }

    /// The first parameter after the viewer's.
    pub fn next(self) -> usize {
        self.first + Self::LEN
    }

    fn agency(self) -> String {
        format!("${}", self.first)
    }

    fn coc(self) -> String {
        format!("${}", self.first + 1)
    }

    /// Today, as the statement's parameter.
    pub fn today(self) -> String {
        format!("${}", self.first + 2)
    }
}

/// The viewer's values a statement binds at its `Slots`, in their order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViewerArgs {
    pub agency: Option<Uuid>,
    /// Only a code that parses (`^[A-Z]{2}-\d{3}$`); the arms that need it are left out otherwise.
    pub coc: Option<String>,
    pub today: NaiveDate,
}

impl ViewerArgs {
    pub fn of(viewer: &Viewer, today: NaiveDate) -> Self {
        ViewerArgs {
            agency: viewer.agency_id,
            coc: viewer_coc(viewer).map(|c| c.as_str().to_string()),
            today,
        }
    }
}

fn viewer_coc(viewer: &Viewer) -> Option<CocCode> {
    viewer
        .coc_code
        .as_deref()
        .and_then(|c| CocCode::parse(c).ok())
}

/// SQL that is true when an ROI of `c` is active on `today` and its scope covers `coc` (both
/// SQL expressions, parameters).
fn roi_active(coc: &str, today: &str) -> String {
    format!(
        "EXISTS (SELECT 1 FROM roi_consents r WHERE r.client_id = c.id \
         AND r.effective_from <= {today} \
         AND (r.revoked_on IS NULL OR {today} < r.revoked_on) \
         AND (r.expires_on IS NULL OR {today} < r.expires_on) \
         AND (r.scope_statewide OR {coc} = ANY (r.scope_cocs)))"
    )
}

/// SQL that is true when `c` pulls onto the priority list of the CoC `list_coc` (a SQL
/// expression, usually a parameter) on the day at `slots` (judged by the list's CoC, consent.md):
/// effectively open for that CoC, or de-identified open. `any_visibility` is the coc_admin's CoC
/// view, which lists every record with an active CE stay (Chicago: prioritize without an
/// assessment).
pub fn priority_listed_sql(list_coc: &str, slots: Slots, any_visibility: bool) -> String {
    if any_visibility {
        return "TRUE".into();
    }
    format!(
        "(c.visibility = 'open' AND ({} OR {DEIDENTIFIED_OPEN}))",
        roi_active(list_coc, &slots.today())
    )
}

/// The access basis of `viewer` on `c` as a SQL text expression (`NULL` for level none), with
/// the viewer's values at `slots`.
pub fn basis_sql(viewer: &Viewer, slots: Slots) -> String {
    basis_sql_with(viewer, slots, ACTIVE_CE_ENROLLMENT, Judged::InRecordCoc)
}

/// `basis_sql` over rows of a priority list (`ce_priority`): each is an active CE stay of its
/// client, so row 8's "with an active CE enrollment" holds and its per-row lookup is left out.
/// The answer is the engine's, as `basis_sql`'s (`tests/api/consent_sql.rs` compares a list
/// page with the engine).
pub fn listed_basis_sql(viewer: &Viewer, slots: Slots) -> String {
    basis_sql_with(viewer, slots, "TRUE", Judged::OnList)
}

/// Which CoC a statement judges a record by where a row of the record rule names "the record's
/// CoC" (rows 4, 6, 7, 8): its own, or, on a priority list, the list's (consent.md: "The priority
/// list and the CoC's own reports judge a record by the list's or report's CoC";
/// `RecordFacts::on_list` is the engine's side). A list is read by staff of its own CoC (or a
/// system administrator, whose basis does not depend on it): there the record's CoC is the
/// viewer's, and the CoC's policy is the list's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Judged {
    InRecordCoc,
    OnList,
}

impl Judged {
    /// SQL: the record aliased `client` counts as of the viewer's CoC (bound at `coc`).
    fn of_viewer_coc(self, client: &str, coc: &str) -> String {
        match self {
            Judged::InRecordCoc => format!("{client}.coc_code = {coc}"),
            Judged::OnList => "TRUE".into(),
        }
    }

    /// SQL: the code of the CoC whose policy applies to the record aliased `client`.
    fn policy_coc(self, client: &str, coc: &str) -> String {
        match self {
            Judged::InRecordCoc => format!("{client}.coc_code"),
            Judged::OnList => coc.to_string(),
        }
    }
}

fn basis_sql_with(viewer: &Viewer, slots: Slots, active_ce: &str, judged: Judged) -> String {
    if viewer.has_role(Role::SystemAdmin) {
        return format!("'{}'::text", AccessBasis::Helpdesk.as_str());
    }
    if viewer.agency_id.is_none() {
        return "NULL::text".into();
    }
    let agency = slots.agency();
    let today = slots.today();
    let coc = viewer_coc(viewer).map(|_| slots.coc());
    // Rows 2 to 5 match on the viewer's agency: only for a viewer that acts for it (a token
    // whose only role is priority_list_reader does not, `Viewer::acts_for_agency`).
    let member = viewer.acts_for_agency();
    let shares = member && viewer.agency_shares_data;
    let mut arms: Vec<(String, AccessBasis)> = Vec::new();
    if member {
        arms.push((
            format!("c.created_by_agency = {agency}"),
            AccessBasis::CreatingAgency,
        ));
    }
    let coc_admin = viewer.has_role(Role::CocAdmin);
    let open_here = coc
        .as_ref()
        .map(|c| format!("(c.visibility = 'open' AND {})", roi_active(c, &today)));
    if let (true, Some(open)) = (shares || coc_admin, &open_here) {
        arms.push((open.clone(), AccessBasis::StatewideRoi));
    }
    let contributor = contributor_probe("c", slots);
    // Row 4: who sees a de-identified open record without an ROI.
    let deid_viewers = deidentified_viewers_sql(viewer, slots, "c", judged);
    if !deid_viewers.is_empty() {
        arms.push((
            format!("({DEIDENTIFIED_OPEN} AND ({}))", deid_viewers.join(" OR ")),
            AccessBasis::Deidentified,
        ));
    }
    if member {
        arms.push((
            format!("(c.visibility IN ('closed', 'open') AND {contributor})"),
            AccessBasis::Contributor,
        ));
    }
    if let Some(coc) = &coc {
        let in_coc = judged.of_viewer_coc("c", coc);
        let policy_coc = judged.policy_coc("c", coc);
        if viewer.has_role(Role::CeAssessor) {
            arms.push((
                format!(
                    "({in_coc} AND c.visibility = 'locked' AND \
                     (SELECT k.locked_visible_to_ce_assessors FROM cocs k WHERE k.code = {policy_coc}))"
                ),
                AccessBasis::CeAssessor,
            ));
        }
        // In the record's CoC, the viewer's CoC is the record's: "open here" is the same test.
        let open = open_here.clone().unwrap_or_else(|| "FALSE".into());
        if coc_admin {
            arms.push((
                format!("({in_coc} AND NOT {open})"),
                AccessBasis::CocAggregate,
            ));
        }
        if viewer.has_role(Role::PriorityListReader) {
            arms.push((
                format!("({in_coc} AND ({open} OR {DEIDENTIFIED_OPEN}) AND {active_ce})"),
                AccessBasis::PriorityList,
            ));
        }
    }
    if arms.is_empty() {
        return "NULL::text".into();
    }
    let mut sql = String::from("(CASE");
    for (cond, basis) in arms {
        sql.push_str(&format!(" WHEN {cond} THEN '{}'", basis.as_str()));
    }
    sql.push_str(" ELSE NULL END)");
    sql
}

/// SQL that is true when the viewer's agency (at `slots`) still belongs to the CoC bound there
/// and shares data as `shares` (a SQL boolean, usually a parameter) says: a statement whose
/// filter was built from a remembered viewer (`service::viewer::remembered_viewer`) checks, in its
/// own snapshot, that the viewer is still the one the filter applies (`repo::visible::clients_found_by`).
pub fn viewer_current_sql(slots: Slots, shares: &str) -> String {
    format!(
        "EXISTS (SELECT 1 FROM agencies a WHERE a.id = {} AND a.coc_code = {} \
         AND a.shares_data = {shares})",
        slots.agency(),
        slots.coc()
    )
}

/// The datum rule of `engine::decide_datum` in SQL: `'full'`, `'non_pii'` or `NULL` for a datum
/// row aliased `d` (with `entered_by_agency`, `collected_on`, `client_id`), given the record's
/// basis expression (usually `basis_sql` over the joined `clients c`) and the viewer's values at
/// `slots`.
pub fn datum_access_sql(viewer: &Viewer, slots: Slots, basis: &str, kind: DatumKind) -> String {
    datum_access_sql_judged(viewer, slots, basis, kind, Judged::InRecordCoc)
}

/// `datum_access_sql` for a datum of a record on a priority list, judged by the list's CoC (the
/// basis given is `listed_basis_sql`'s).
pub fn listed_datum_access_sql(
    viewer: &Viewer,
    slots: Slots,
    basis: &str,
    kind: DatumKind,
) -> String {
    datum_access_sql_judged(viewer, slots, basis, kind, Judged::OnList)
}

fn datum_access_sql_judged(
    viewer: &Viewer,
    slots: Slots,
    basis: &str,
    kind: DatumKind,
    judged: Judged,
) -> String {
    let at_limited = if kind == DatumKind::Structured {
        "'non_pii'"
    } else {
        "NULL"
    };
    let own = match viewer.agency_id {
        Some(_) if viewer.acts_for_agency() => {
            format!(" WHEN d.entered_by_agency = {} THEN 'full'", slots.agency())
        }
        _ => String::new(),
    };
    let in_window = match viewer_coc(viewer) {
        None => "FALSE".to_string(),
        Some(_) => format!(
            "EXISTS (SELECT 1 FROM roi_consents w WHERE w.client_id = d.client_id \
             AND (w.scope_statewide OR {coc} = ANY (w.scope_cocs)) \
             AND w.effective_from <= d.collected_on \
             AND (w.revoked_on IS NULL OR d.collected_on < w.revoked_on) \
             AND (w.expires_on IS NULL OR d.collected_on < w.expires_on))",
            coc = slots.coc()
        ),
    };
    // The datum's record, by id: callers need not have joined `clients`. A scalar probe of the
    // primary key, not `EXISTS`: PostgreSQL may turn an `EXISTS` whose only correlation is an
    // equality into a hash of every de-identified client (a parallel scan of the whole table,
    // 0.4 to 0.9 s on a million clients, once per statement and per use).
    let deidentified = "COALESCE((SELECT true FROM clients dc WHERE dc.id = d.client_id \
         AND dc.identity_mode IN ('consent_refused', 'anonymous')), false)";
    // An ROI never shows row 4's viewers of a de-identified open record, nor row 7's (its
    // CoC's admins), less than those rows do.
    let deid_shared = deidentified_shared_sql(viewer, slots, judged)
        .map(|cond| format!(" WHEN ({basis}) = 'statewide_roi' AND {cond} THEN {at_limited}"))
        .unwrap_or_default();
    format!(
        "(CASE WHEN ({basis}) IS NULL THEN NULL{own} \
         WHEN ({basis}) IN ('helpdesk', 'creating_agency', 'ce_assessor') THEN 'full' \
         WHEN ({basis}) IN ('statewide_roi', 'contributor') AND {in_window} THEN 'full'{deid_shared} \
         WHEN ({basis}) = 'priority_list' AND ({in_window} OR {deidentified}) THEN {at_limited} \
         WHEN ({basis}) IN ('coc_aggregate', 'deidentified') THEN {at_limited} \
         ELSE NULL END)"
    )
}

/// A scalar probe of the primary key, not `EXISTS`: PostgreSQL turns an `EXISTS` in a `CASE`
/// into a hash of every contribution of the agency, built once per use, a fixed cost that
/// dominated a page of the priority list (docs/benchmarks.md). True when the viewer's agency
/// contributed to the record aliased `client`.
fn contributor_probe(client: &str, slots: Slots) -> String {
    format!(
        "COALESCE((SELECT true FROM client_contributors cc WHERE cc.client_id = {client}.id \
         AND cc.agency_id = {}), false)",
        slots.agency()
    )
}

/// Row 4's viewers of the record aliased `client`, were it de-identified and open
/// (`engine::shares_deidentified_open`): conditions, one of which holds for such a viewer;
/// none for a viewer that can be none of them.
fn deidentified_viewers_sql(
    viewer: &Viewer,
    slots: Slots,
    client: &str,
    judged: Judged,
) -> Vec<String> {
    let member = viewer.acts_for_agency() && viewer.agency_id.is_some();
    let mut who = Vec::new();
    if member {
        who.push(contributor_probe(client, slots));
    }
    if member && viewer.agency_shares_data {
        who.push("TRUE".into());
    }
    if viewer_coc(viewer).is_some()
        && (viewer.has_role(Role::CocAdmin) || viewer.has_role(Role::CeAssessor))
    {
        who.push(judged.of_viewer_coc(client, &slots.coc()));
    }
    who
}

/// True when the viewer is one of row 4's viewers of the datum `d`'s record, de-identified and
/// open, or an admin of its CoC (row 7); `None` when the viewer can be neither.
fn deidentified_shared_sql(viewer: &Viewer, slots: Slots, judged: Judged) -> Option<String> {
    let who = deidentified_viewers_sql(viewer, slots, "dc", judged);
    let mut cond = Vec::new();
    if !who.is_empty() {
        cond.push(format!(
            "(dc.identity_mode IN ('consent_refused', 'anonymous') AND dc.visibility = 'open' \
             AND ({}))",
            who.join(" OR ")
        ));
    }
    if viewer_coc(viewer).is_some() && viewer.has_role(Role::CocAdmin) {
        cond.push(judged.of_viewer_coc("dc", &slots.coc()));
    }
    if cond.is_empty() {
        return None;
    }
    Some(format!(
        "COALESCE((SELECT true FROM clients dc WHERE dc.id = d.client_id AND ({})), false)",
        cond.join(" OR ")
    ))
}

/// The datum access of a stay's entry, over an `enrollments e` row, given the record's basis.
pub fn stay_entry_access_sql(viewer: &Viewer, slots: Slots, basis: &str) -> String {
    format!(
        "(SELECT {} FROM (SELECT e.client_id, e.entered_by_agency, e.collected_on) d)",
        datum_access_sql(viewer, slots, basis, DatumKind::Structured)
    )
}

/// The datum facts `d` of the exit of the stay `e` (`DatumFacts::exit_of`): entered by the
/// stay's agency, collected on its exit date.
pub const EXIT_FACTS_SQL: &str =
    "SELECT e.client_id, e.entered_by_agency, e.exit_date AS collected_on";

/// The datum access of a stay's exit, over an `enrollments e` row, given the record's basis:
/// `NULL` when the stay has no exit or the datum rule withholds it (`engine::decide_stay`).
pub fn stay_exit_access_sql(viewer: &Viewer, slots: Slots, basis: &str) -> String {
    format!(
        "(CASE WHEN e.exit_date IS NULL THEN NULL ELSE (SELECT {} FROM ({EXIT_FACTS_SQL}) d) END)",
        datum_access_sql(viewer, slots, basis, DatumKind::Structured)
    )
}

/// SQL that is true when the datum rule may withhold the exit of the stay `e` from the viewer:
/// a superset, cheap enough for a candidate filter (no basis). Never for a system administrator
/// (helpdesk sees everything) nor for a stay the viewer's own agency entered (datum rule 1).
pub fn exit_may_be_withheld_sql(viewer: &Viewer, slots: Slots) -> String {
    if viewer.has_role(Role::SystemAdmin) {
        return "FALSE".into();
    }
    match viewer.agency_id {
        Some(_) if viewer.acts_for_agency() => {
            format!("e.entered_by_agency <> {}", slots.agency())
        }
        _ => "TRUE".into(),
    }
}

/// The datum access of a stay datum `d` (`enrollment_data`, any kind: [`STAY_DATUM_KIND`]).
pub fn stay_datum_access_sql(viewer: &Viewer, slots: Slots, basis: &str) -> String {
    datum_access_sql(viewer, slots, basis, super::STAY_DATUM_KIND)
}

/// True when data of the stay `e` is released to the viewer (datum rule 6: the stay is then
/// reachable as a continuation even where its entry is not): its exit, its data (a case note's
/// date and agency as a service's), the rows an import kept of it (not the parts of an Assessment: their Assessment,
/// collected the same day, releases what they would).
pub fn stay_has_released_data_sql(viewer: &Viewer, slots: Slots, basis: &str) -> String {
    format!(
        "({} IS NOT NULL \
         OR EXISTS (SELECT 1 FROM enrollment_data d WHERE d.enrollment_id = e.id AND \
         {} IS NOT NULL) \
         OR EXISTS (SELECT 1 FROM hmis_rows h CROSS JOIN LATERAL ({}) d \
           WHERE h.enrollment_id = e.id AND h.target_id IS NULL AND {} \
           AND {} IS NOT NULL))",
        stay_exit_access_sql(viewer, slots, basis),
        stay_datum_access_sql(viewer, slots, basis),
        KEPT_ROW_FACTS_SQL,
        crate::consent::kept_rows::NOT_ASSESSMENT_PART_SQL,
        kept_row_access_sql(viewer, slots, basis),
    )
}

/// The datum facts `d` of a kept row `h` of the stay `e` (rows kept only whole: `h.target_id IS
/// NULL`): entered by the importing agency on its collection day (the stay's entry when the row
/// has none).
pub const KEPT_ROW_FACTS_SQL: &str = "SELECT e.client_id, h.agency_id AS entered_by_agency, \
     COALESCE(h.collected_on, e.entry_date) AS collected_on";

/// The datum access of a kept row `h` with facts `d` (`consent::kept_rows::kept_row_kind`: an
/// HIV/AIDS Disabilities row is wholly PII).
pub fn kept_row_access_sql(viewer: &Viewer, slots: Slots, basis: &str) -> String {
    format!(
        "(CASE WHEN {} THEN {} ELSE {} END)",
        crate::consent::kept_rows::KEPT_ROW_WHOLLY_PII_SQL,
        datum_access_sql(viewer, slots, basis, DatumKind::FreeText),
        datum_access_sql(viewer, slots, basis, DatumKind::Structured)
    )
}

/// The level that goes with a basis (the record rule's table).
pub fn level_of(basis: AccessBasis) -> AccessLevel {
    match basis {
        AccessBasis::CocAggregate | AccessBasis::PriorityList | AccessBasis::Deidentified => {
            AccessLevel::Limited
        }
        _ => AccessLevel::Full,
    }
}

/// Reads the word `datum_access_sql` answers.
pub fn parse_datum_access(s: Option<&str>) -> DatumAccess {
    match s {
        Some("full") => DatumAccess::Full,
        Some("non_pii") => DatumAccess::NonPiiOnly,
        _ => DatumAccess::Hidden,
    }
}

/// The bases that carry level `full`, as a SQL list, for searches that match on PII.
pub fn full_bases_sql() -> String {
    let full: Vec<String> = AccessBasis::ALL
        .iter()
        .filter(|b| level_of(**b) == AccessLevel::Full)
        .map(|b| format!("'{}'", b.as_str()))
        .collect();
    format!("({})", full.join(", "))
}

/// SQL that is true when `viewer` may have seen `c` on its CoC's priority list while `c` was
/// listed (`consent::ce::may_have_seen_listed`, which this follows term for term), where
/// `identity_then` is `c`'s identity mode (text) while it was listed: an incremental pull names
/// a client as no longer listed only to such a viewer, so it never names a record the viewer
/// could not have read (record rule row 9).
pub fn may_have_seen_listed_sql(viewer: &Viewer, slots: Slots, identity_then: &str) -> String {
    use super::ce::{InCoc, ListReach};
    match super::ce::list_reach(viewer) {
        ListReach::Every => "TRUE".into(),
        ListReach::Some { own_agency, in_coc } => {
            let mut any = Vec::new();
            if own_agency {
                let agency = slots.agency();
                any.push(format!("c.created_by_agency = {agency}"));
                any.push(format!(
                    "COALESCE((SELECT true FROM client_contributors cc WHERE cc.client_id = c.id \
                     AND cc.agency_id = {agency}), false)"
                ));
            }
            // The list judges a record by its own CoC, the viewer's: every listed record is in
            // it, whichever CoC created it.
            if viewer_coc(viewer).is_some() {
                match in_coc {
                    InCoc::No => {}
                    InCoc::Listed => any.push("TRUE".into()),
                    InCoc::Deidentified => any.push(format!(
                        "COALESCE(({identity_then}) IN ('consent_refused', 'anonymous'), false)"
                    )),
                }
            }
            if any.is_empty() {
                "FALSE".into()
            } else {
                format!("({})", any.join(" OR "))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at() -> Slots {
        Slots::at(2)
    }

    #[test]
    fn system_admin_and_agencyless_viewers() {
        let admin = Viewer {
            roles: vec![Role::SystemAdmin],
            ..Default::default()
        };
        assert_eq!(basis_sql(&admin, at()), "'helpdesk'::text");
        let nobody = Viewer {
            roles: vec![Role::CaseWorker],
            ..Default::default()
        };
        assert_eq!(basis_sql(&nobody, at()), "NULL::text");
    }

    #[test]
    fn a_malformed_coc_is_neither_bound_nor_used() {
        let today = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        let v = Viewer {
            agency_id: Some(Uuid::nil()),
            coc_code: Some("x' OR 1=1 --".into()),
            agency_shares_data: true,
            roles: vec![Role::CocAdmin, Role::PriorityListReader],
        };
        let sql = basis_sql(&v, at());
        assert!(!sql.contains("OR 1=1"));
        assert!(!sql.contains("statewide_roi"));
        assert!(!sql.contains("$3"), "the CoC's slot is not used: {sql}");
        assert_eq!(ViewerArgs::of(&v, today).coc, None);
    }

    /// The point of the slots: two viewers of the same kind send the same text, so the
    /// statement is prepared once per connection; their values are bound, never written in.
    #[test]
    fn the_text_is_the_same_for_every_viewer_of_a_kind() {
        let today = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        let viewer = |agency: u128, coc: &str| Viewer {
            agency_id: Some(Uuid::from_u128(agency)),
            coc_code: Some(coc.into()),
            agency_shares_data: true,
            roles: vec![Role::CaseWorker, Role::CeAssessor],
        };
        let (a, b) = (viewer(1, "IL-510"), viewer(2, "WA-502"));
        let text = |v: &Viewer| {
            let basis = basis_sql(v, at());
            let datum = datum_access_sql(v, at(), &basis, DatumKind::Structured);
            let listed = priority_listed_sql("$1", at(), false);
            format!("{basis} {datum} {listed}")
        };
        assert_eq!(text(&a), text(&b));
        for (v, agency) in [(&a, 1u128), (&b, 2)] {
            let t = text(v);
            assert!(!t.contains(&Uuid::from_u128(agency).to_string()));
            assert!(!t.contains("2026-01-01") && !t.contains("IL-510") && !t.contains("WA-502"));
        }
        assert_eq!(
            ViewerArgs::of(&b, today),
            ViewerArgs {
                agency: Some(Uuid::from_u128(2)),
                coc: Some("WA-502".into()),
                today
            }
        );
        assert_eq!(at().next(), 5);
    }

    #[test]
    fn full_bases() {
        assert_eq!(
            full_bases_sql(),
            "('helpdesk', 'creating_agency', 'statewide_roi', 'contributor', 'ce_assessor')"
        );
    }
}
