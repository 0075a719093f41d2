//! HUD HMIS CSV export (docs/hmis-csv.md): the 24 files of a version as one zip, written row by
//! row into any `Write` (the HTTP body, a file), from keyset pages of `repo::hmis_export`, so
//! memory stays flat however many rows there are. What goes in is what the consent engine lets
//! the caller see, as the API answers it: hidden records absent, PII blank below `full`, data the
//! datum rule withholds absent.
//!
//! Two steps: `prepare` checks the request and the caller (404, 403 before any byte is sent) and
//! commits the audit rows of the export; `write` then writes the zip from one snapshot.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::io::Write;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::{Connection, PgConnection};
use uuid::Uuid;

use crate::consent::sql::level_of;
use crate::consent::{AccessBasis, AccessLevel};
use crate::domain::stay_data::StayFields;
use crate::domain::CocCode;
use crate::error::{AppError, AppResult, FieldError};
use crate::hmis_csv::export_kept::{column_index, merge, Merge};
use crate::hmis_csv::export_map::{self as map, DatumIn, StayIn};
use crate::hmis_csv::export_zip::{ExportWriter, Spool};
use crate::hmis_csv::{Spec, Version};
use crate::repo::hmis_export::{self as repo, Actor, Scope};
use crate::repo::tenants as tenants_repo;
use crate::service::context::Caller;

/// Candidate clients per page.
pub const PAGE: i64 = 1000;

/// An export request, parsed.
#[derive(Debug, Clone)]
pub struct ExportRequest {
    pub coc: CocCode,
    pub start: NaiveDate,
    pub end: NaiveDate,
    pub version: Version,
}

/// Parses the parameters of an export, collecting every problem by field (422), never echoing a
/// value.
pub fn parse_request(
    coc: Option<&str>,
    start: Option<&str>,
    end: Option<&str>,
    version: Option<&str>,
) -> AppResult<ExportRequest> {
    let mut errs = Vec::new();
    let coc = match coc {
        None | Some("") => {
            errs.push(FieldError::new(
                "coc",
                "required",
                "coc (a HUD CoC code) is required.",
            ));
            None
        }
        Some(c) => CocCode::parse(c).ok().or_else(|| {
            errs.push(FieldError::new(
                "coc",
                "malformed",
                "coc is a HUD CoC code: two letters, a dash, three digits.",
            ));
            None
        }),
    };
    let mut date = |field: &str, v: Option<&str>| match v {
        None | Some("") => {
            errs.push(FieldError::new(
                field,
                "required",
                format!("{field} (YYYY-MM-DD) is required."),
            ));
            None
        }
        Some(s) => match NaiveDate::parse_from_str(s, "%Y-%m-%d") {
            Ok(d) if s.len() == 10 => Some(d),
            _ => {
                errs.push(FieldError::new(
                    field,
                    "malformed",
                    format!("{field} is a date YYYY-MM-DD."),
                ));
                None
            }
        },
    };
    let start = date("start", start);
    let end = date("end", end);
    let version = match version {
        None | Some("2026") => Some(Version::Fy2026),
        Some("2024") => Some(Version::Fy2024),
        Some(_) => {
            errs.push(FieldError::new(
                "version",
                "not_in_list",
                "version is 2026 or 2024.",
            ));
            None
        }
    };
    if let (Some(s), Some(e)) = (start, end) {
        if e < s {
            errs.push(FieldError::new(
                "end",
                "before_start",
                "end is on or after start.",
            ));
        }
    }
    match (coc, start, end, version) {
        (Some(coc), Some(start), Some(end), Some(version)) if errs.is_empty() => {
            Ok(ExportRequest {
                coc,
                start,
                end,
                version,
            })
        }
        _ => Err(AppError::Validation(errs)),
    }
}

/// A checked export, ready to be written.
#[derive(Debug, Clone)]
pub struct Plan {
    pub request: ExportRequest,
    pub scope: Scope,
    pub export_id: String,
    pub exported_at: DateTime<Utc>,
    /// Clients the export holds at level `full` (audited).
    pub full_reads: usize,
}

impl Plan {
    /// A file name for the zip (no PII: the CoC code, the window and the version).
    pub fn file_name(&self) -> String {
        let r = &self.request;
        let v = match r.version {
            Version::Fy2024 => "2024",
            Version::Fy2026 => "2026",
        };
        format!(
            "hmis-csv-{}-{}-{}-fy{v}.zip",
            r.coc.as_str(),
            r.start,
            r.end
        )
    }
}

/// Checks the CoC (404), the caller (403: a system administrator's export needs a reason) and
/// commits the audit: one row per client exported at level `full`, and one for the export.
/// The audit is committed before the first byte is written: an export cut short is still in
/// the accounting of disclosures (it may over-state, never under-state, what left).
pub fn prepare(
    conn: &mut PgConnection,
    caller: &Caller,
    request: ExportRequest,
) -> AppResult<Plan> {
    tenants_repo::find_coc(conn, request.coc.as_str())?.ok_or(AppError::NotFound)?;
    let viewer = caller.viewer(conn)?;
    caller.require_break_glass_reason("HMIS CSV export")?;
    let scope = Scope {
        viewer,
        today: caller.today,
        coc: request.coc.clone(),
        start: request.start,
        end: request.end,
    };
    let export_id = map::id(Uuid::now_v7());
    let full_reads = conn.transaction(|conn| -> AppResult<usize> {
        let actor = Actor {
            sub: &caller.principal.sub,
            agency: caller.principal.agency_id,
            request_id: Some(caller.request_id.as_str()).filter(|r| !r.is_empty()),
            access_reason: caller.access_reason.as_deref(),
        };
        let n = repo::audit_full_reads(conn, &scope, &actor, "hmis_csv_exported")?;
        caller.audit(
            conn,
            None,
            "hmis_csv_export",
            None,
            Some(serde_json::json!({
                "coc": request.coc.as_str(), "start": request.start, "end": request.end,
                "version": map::csv_version(request.version), "export_id": export_id,
                "clients_in_full": n,
            })),
        )?;
        Ok(n)
    })?;
    Ok(Plan {
        request,
        scope,
        export_id,
        exported_at: Utc::now(),
        full_reads,
    })
}

/// Rows written, per file, in HUD's order.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Summary {
    pub export_id: String,
    pub files: Vec<(String, u64)>,
}

/// Where the export is (file and rows so far), for a progress indicator.
pub trait Progress {
    fn rows(&mut self, file: &str, rows: u64);
}

impl Progress for () {
    fn rows(&mut self, _: &str, _: u64) {}
}

fn client_in<'a>(c: &'a repo::ClientRow, user: &'a str) -> AppResult<map::ClientIn<'a>> {
    let basis = AccessBasis::parse(&c.basis)
        .ok_or_else(|| AppError::Internal("the export's basis does not parse".into()))?;
    Ok(map::ClientIn {
        id: c.id,
        full: level_of(basis) == AccessLevel::Full,
        first_name: c.first_name.as_deref(),
        middle_name: c.middle_name.as_deref(),
        last_name: c.last_name.as_deref(),
        name_suffix: c.name_suffix.as_deref(),
        name_quality: c.name_quality,
        ssn: c.ssn.as_deref(),
        ssn_quality: c.ssn_quality,
        dob: c.dob,
        dob_quality: c.dob_quality,
        race: &c.race,
        race_none: c.race_none,
        additional_race_ethnicity: c.additional_race_ethnicity.as_deref(),
        gender: &c.gender,
        gender_none: c.gender_none,
        different_identity_text: c.different_identity_text.as_deref(),
        sex: c.sex,
        veteran_status: c.veteran_status,
        created_at: c.created_at,
        updated_at: c.updated_at,
        user,
    })
}

fn stay_in<'a>(st: &'a repo::StayRow, user: &'a str) -> StayIn<'a> {
    StayIn {
        id: st.id,
        client_id: st.client_id,
        project_id: st.project_id,
        household_id: st.household_id,
        relationship_to_hoh: st.relationship_to_hoh,
        entry_date: st.entry_on,
        entry_withheld: st.entry_access.is_none(),
        enrollment_coc: st.enrollment_coc.as_deref(),
        project_coc: &st.project_coc,
        living_situation: st.living_situation,
        length_of_stay: st.length_of_stay,
        los_under_threshold: st.los_under_threshold,
        previous_street_essh: st.previous_street_essh,
        date_to_street_essh: st.date_to_street_essh,
        times_homeless_past_three_years: st.times_homeless_past_three_years,
        months_homeless_past_three_years: st.months_homeless_past_three_years,
        exit_date: st.exit_date,
        destination: st.destination,
        destination_subsidy_type: st.destination_subsidy_type,
        created_at: st.created_at,
        updated_at: st.updated_at,
        user,
    }
}

fn project_in<'a>(p: &'a crate::repo::tenants::ProjectRow, coc: &'a str) -> map::ProjectIn<'a> {
    map::ProjectIn {
        id: p.id,
        agency_id: p.agency_id,
        name: &p.name,
        project_type: p.project_type,
        coc,
        created_at: p.created_at,
        updated_at: p.updated_at,
    }
}

/// One page of the pass: the clients exported, their exported stays and those stays' data, the
/// source rows an import kept of them, and the source ids of the records and stays.
struct Page {
    clients: Vec<repo::ClientRow>,
    stays: Vec<repo::StayRow>,
    data: Vec<repo::DatumRow>,
    /// Kept rows of the clients, stays and data above (shown as their typed row is).
    kept: Vec<repo::KeptRow>,
    /// Rows kept only whole that hang from the stays above, with their datum access.
    kept_only: Vec<repo::KeptRow>,
    sources: Vec<repo::SourceId>,
}

/// The files of a client's data (every file that hangs from a record, but Client itself), in
/// HUD's order: each is spooled while Client.csv is written, then appended.
fn client_files(v: Version) -> Vec<&'static str> {
    Spec::get(v)
        .files
        .iter()
        .filter(|f| f.name != "Client" && f.columns.iter().any(|c| c.name == "PersonalID"))
        .map(|f| f.name)
        .collect()
}

/// Files whose kept rows overlay a typed row (found by the row's id).
const TYPED_FILES: &[&str] = &[
    "Client",
    "Enrollment",
    "Exit",
    "Services",
    "CurrentLivingSituation",
    "Assessment",
    "Event",
];

/// The ids an export writes for Hearth's rows: the source id of what an import made, Hearth's
/// own id otherwise.
struct Ids<'a> {
    sources: HashMap<(&'a str, Uuid), &'a str>,
    projects: &'a HashMap<Uuid, String>,
}

impl Ids<'_> {
    fn of(&self, file: &str, id: Uuid) -> String {
        match self.sources.get(&(file, id)) {
            Some(s) => s.to_string(),
            None => map::id(id),
        }
    }

    fn project(&self, id: Uuid) -> String {
        self.projects
            .get(&id)
            .cloned()
            .unwrap_or_else(|| map::id(id))
    }
}

/// A kept row's columns by name (`hmis_csv::kept`; `None` if its text is not a kept array).
fn fields_of(k: &repo::KeptRow) -> Option<serde_json::Map<String, serde_json::Value>> {
    crate::hmis_csv::kept::decode_text(&k.file, &k.fields)
}

/// Rows of a page for one file, with their source order (`seq`; Hearth's own rows after).
type Ordered = Vec<(i64, Vec<String>)>;

/// Notes the `UserID` of a row written to `file`.
fn note_user(v: Version, file: &str, row: &[String], users: &mut BTreeSet<String>) {
    if let Some(i) = column_index(v, file, "UserID") {
        if !row[i].is_empty() {
            users.insert(row[i].clone());
        }
    }
}

/// Writes a page: its clients into the zip (Client.csv is open), the rest into the spools of
/// [`client_files`].
fn encode_page<W: Write>(
    v: Version,
    eid: &str,
    page: &Page,
    projects: &HashMap<Uuid, String>,
    z: &mut ExportWriter<W>,
    spools: &mut HashMap<&'static str, Spool>,
    users: &mut BTreeSet<String>,
) -> AppResult<()> {
    let ids = Ids {
        sources: page
            .sources
            .iter()
            .map(|s| ((s.file.as_str(), s.target_id), s.source_id.as_str()))
            .collect(),
        projects,
    };
    let kept: HashMap<(&str, Uuid), &repo::KeptRow> = page
        .kept
        .iter()
        .filter_map(|k| Some(((k.file.as_str(), k.target_id?), k)))
        .collect();
    let stay_client: HashMap<Uuid, Uuid> =
        page.stays.iter().map(|st| (st.id, st.client_id)).collect();
    let files = client_files(v);
    // Rows are held to be put in their source order only when the page has kept rows.
    let mut sink = Sink {
        v,
        eid,
        z,
        spools,
        users,
        held: (!page.kept.is_empty() || !page.kept_only.is_empty()).then(HashMap::new),
    };
    for c in &page.clients {
        let user = map::user_id(&c.created_by_user);
        let k = client_in(c, &user)?;
        let pid = ids.of("Client", c.id);
        let kept = kept.get(&("Client", c.id));
        sink.merged(
            "Client",
            Some(map::client_row(v, eid, &k)),
            kept.copied(),
            k.full,
            &[("PersonalID", &pid)],
        )?;
    }
    for st in &page.stays {
        let user = map::user_id(&st.entered_by_user);
        let stay = stay_in(st, &user);
        let full = st.entry_access.as_deref() == Some("full");
        let (sid, pid) = (ids.of("Enrollment", st.id), ids.of("Client", st.client_id));
        let (project, household) = (
            ids.project(st.project_id),
            ids.of("Household", st.household_id),
        );
        // A continuation's entry is withheld: nothing of its source rows is shown.
        let entry_shown = st.entry_access.is_some();
        let entry_kept = kept.get(&("Enrollment", st.id)).filter(|_| entry_shown);
        sink.merged(
            "Enrollment",
            Some(map::enrollment_row(v, eid, &stay)),
            entry_kept.copied(),
            full,
            &[
                ("EnrollmentID", &sid),
                ("PersonalID", &pid),
                ("ProjectID", &project),
                ("HouseholdID", &household),
            ],
        )?;
        // The exit is a datum of its own: a withheld exit has no row (its columns come out
        // null), a released one is shown at its own access, also in a continuation.
        if let Some(row) = map::exit_row(v, eid, &stay).filter(|_| st.exit_access.is_some()) {
            let exit_kept = kept.get(&("Exit", st.id));
            let exit_id = exit_kept.map_or_else(|| map::id(st.id), |k| k.source_id.clone());
            sink.merged(
                "Exit",
                Some(row),
                exit_kept.copied(),
                st.exit_access.as_deref() == Some("full"),
                &[
                    ("ExitID", &exit_id),
                    ("EnrollmentID", &sid),
                    ("PersonalID", &pid),
                ],
            )?;
        }
    }
    for d in &page.data {
        let fields = StayFields::from_stored(&d.kind, &d.fields)
            .map_err(|e| AppError::Internal(e.to_string()))?;
        let user = map::user_id(&d.entered_by_user);
        let full = d.datum_access == "full";
        let datum = DatumIn {
            id: d.id,
            enrollment_id: d.enrollment_id,
            client_id: d.client_id,
            date: d.occurred_on,
            text: full,
            created_at: d.created_at,
            user: &user,
        };
        let (file, key, row): (&'static str, &str, _) = match &fields {
            StayFields::Service(f) => (
                "Services",
                "ServicesID",
                map::service_row(v, eid, &datum, f),
            ),
            StayFields::CurrentLivingSituation(f) => (
                "CurrentLivingSituation",
                "CurrentLivingSitID",
                Some(map::current_living_situation_row(v, eid, &datum, f)),
            ),
            StayFields::Assessment(f) => (
                "Assessment",
                "AssessmentID",
                Some(map::assessment_row(v, eid, &datum, f)),
            ),
            StayFields::CeEvent(f) => ("Event", "EventID", Some(map::event_row(v, eid, &datum, f))),
            _ => continue,
        };
        let Some(row) = row else { continue };
        let k = kept.get(&(file, d.id));
        let key_value = k.map_or_else(|| map::id(d.id), |k| k.source_id.clone());
        let (sid, pid) = (
            ids.of("Enrollment", d.enrollment_id),
            ids.of("Client", d.client_id),
        );
        sink.merged(
            file,
            Some(row),
            k.copied(),
            full,
            &[
                (key, &key_value),
                ("EnrollmentID", &sid),
                ("PersonalID", &pid),
            ],
        )?;
    }
    for k in &page.kept_only {
        let Some(file) = files.iter().find(|f| **f == k.file).copied() else {
            continue;
        };
        let Some(stay) = k.enrollment_id else {
            continue;
        };
        let client = stay_client.get(&stay).copied().or(k.client_id);
        let sid = ids.of("Enrollment", stay);
        let pid = client.map(|c| ids.of("Client", c)).unwrap_or_default();
        sink.merged(
            file,
            None,
            Some(k),
            k.datum_access.as_deref() == Some("full"),
            &[("EnrollmentID", &sid), ("PersonalID", &pid)],
        )?;
    }
    sink.finish()
}

/// Where a page's rows go: Client.csv in the zip, the other files to their spools; held and put
/// in their source order first when the page has rows an import kept.
struct Sink<'a, W: Write> {
    v: Version,
    eid: &'a str,
    z: &'a mut ExportWriter<W>,
    spools: &'a mut HashMap<&'static str, Spool>,
    users: &'a mut BTreeSet<String>,
    held: Option<HashMap<&'static str, Ordered>>,
}

impl<W: Write> Sink<'_, W> {
    /// Puts the row made of Hearth's `typed` row and the `kept` source row (`export_kept`), in
    /// the kept row's source order.
    fn merged(
        &mut self,
        file: &'static str,
        typed: Option<Vec<String>>,
        kept: Option<&repo::KeptRow>,
        full: bool,
        ids: &[(&str, &str)],
    ) -> AppResult<()> {
        let row = merge(Merge {
            version: self.v,
            file,
            export_id: self.eid,
            typed,
            kept: kept.and_then(fields_of).as_ref(),
            full,
            ids,
        });
        self.put(file, kept.map(|k| k.seq), row)
    }

    fn put(
        &mut self,
        file: &'static str,
        seq: Option<i64>,
        row: Option<Vec<String>>,
    ) -> AppResult<()> {
        let Some(row) = row else { return Ok(()) };
        match &mut self.held {
            Some(held) => {
                held.entry(file)
                    .or_default()
                    .push((seq.unwrap_or(i64::MAX), row));
                Ok(())
            }
            None => self.write(file, &row),
        }
    }

    fn write(&mut self, file: &str, row: &[String]) -> AppResult<()> {
        note_user(self.v, file, row, self.users);
        if file == "Client" {
            self.z.row(row).map_err(io)?;
        } else if let Some(spool) = self.spools.get_mut(file) {
            spool.row(row).map_err(io)?;
        }
        Ok(())
    }

    fn finish(mut self) -> AppResult<()> {
        for (file, mut rows) in self.held.take().unwrap_or_default() {
            rows.sort_by_key(|(seq, _)| *seq);
            for (_, row) in rows {
                self.write(file, &row)?;
            }
        }
        Ok(())
    }
}

/// What an import kept of a page, and the source ids of its records, stays and households.
type KeptOfPage = (Vec<repo::KeptRow>, Vec<repo::KeptRow>, Vec<repo::SourceId>);

fn kept_and_sources(
    conn: &mut PgConnection,
    s: &Scope,
    clients: &[repo::ClientRow],
    stays: &[repo::StayRow],
    data: &[repo::DatumRow],
) -> AppResult<KeptOfPage> {
    let kept_only = if stays.is_empty() {
        Vec::new()
    } else {
        repo::kept_of_stays(conn, s, stays)?
    };
    let targets: Vec<Uuid> = clients
        .iter()
        .map(|c| c.id)
        .chain(stays.iter().map(|st| st.id))
        .chain(data.iter().map(|d| d.id))
        .collect();
    let kept = repo::kept_of_targets(conn, TYPED_FILES, &targets)?;
    let linked: Vec<Uuid> = clients
        .iter()
        .map(|c| c.id)
        .chain(stays.iter().flat_map(|st| [st.id, st.household_id]))
        .collect();
    let sources = repo::source_ids(conn, &["Client", "Enrollment", "Household"], &linked)?;
    Ok((kept, kept_only, sources))
}

/// Ends the file being written and notes its rows.
fn finish<W: Write>(
    z: &mut ExportWriter<W>,
    done: &mut Vec<(String, u64)>,
    name: &str,
    progress: &mut dyn Progress,
) -> AppResult<()> {
    let n = z.end().map_err(io)?;
    progress.rows(name, n);
    done.push((name.to_string(), n));
    Ok(())
}

fn io(e: std::io::Error) -> AppError {
    AppError::Internal(format!("writing the export: {e}"))
}

/// Writes the zip of the plan into `out`, from one snapshot of the database.
pub fn write<W: Write + Send>(
    conn: &mut PgConnection,
    plan: &Plan,
    out: W,
    progress: &mut dyn Progress,
) -> AppResult<(Summary, W)> {
    repo::in_snapshot(conn, |conn| write_in_snapshot(conn, plan, out, progress))
}

fn write_in_snapshot<W: Write + Send>(
    conn: &mut PgConnection,
    plan: &Plan,
    out: W,
    progress: &mut dyn Progress,
) -> AppResult<(Summary, W)> {
    let v = plan.request.version;
    let eid = plan.export_id.as_str();
    let s = &plan.scope;
    let mut z = ExportWriter::new(out, v);
    let mut users: BTreeSet<String> = BTreeSet::new();
    let mut done: Vec<(String, u64)> = Vec::new();
    z.begin("Export").map_err(io)?;
    z.row(&map::export_row(&map::ExportInfo {
        version: v,
        export_id: eid,
        coc: s.coc.as_str(),
        start: plan.request.start,
        end: plan.request.end,
        exported_at: plan.exported_at,
        implementation: "Hearth",
    }))
    .map_err(io)?;
    finish(&mut z, &mut done, "Export", progress)?;

    // Whether anything was imported into the CoC (else no kept rows nor source ids to look for).
    let imported = repo::coc_has_imports(conn, &s.coc)?;
    // The rows an import kept of the CoC's agencies, projects and staff, by file.
    let mut descriptors: HashMap<String, Vec<repo::KeptRow>> = HashMap::new();
    for k in repo::kept_descriptors(conn, &s.coc)? {
        descriptors.entry(k.file.clone()).or_default().push(k);
    }
    let kept_in = |file: &str| descriptors.get(file).map(Vec::as_slice).unwrap_or(&[]);
    let as_is = |k: &repo::KeptRow, file: &str| {
        merge(Merge {
            version: v,
            file,
            export_id: eid,
            typed: None,
            kept: fields_of(k).as_ref(),
            full: true,
            ids: &[],
        })
    };
    let projects = repo::projects_of(conn, &s.coc)?;
    // A project an import made keeps its source ProjectID and OrganizationID.
    let project_kept: HashMap<Uuid, &repo::KeptRow> = kept_in("Project")
        .iter()
        .filter_map(|k| Some((k.target_id?, k)))
        .collect();
    let project_ids: HashMap<Uuid, String> = project_kept
        .iter()
        .map(|(id, k)| (*id, k.source_id.clone()))
        .collect();

    z.begin("Organization").map_err(io)?;
    for a in repo::agencies_of(conn, &s.coc)? {
        let kept_orgs: Vec<&repo::KeptRow> = kept_in("Organization")
            .iter()
            .filter(|k| k.agency_id == a.id)
            .collect();
        for k in &kept_orgs {
            if let Some(row) = as_is(k, "Organization") {
                note_user(v, "Organization", &row, &mut users);
                z.row(&row).map_err(io)?;
            }
        }
        // The agency itself, unless every project of it came with its source organization.
        let own_projects = projects
            .iter()
            .any(|p| p.agency_id == a.id && !project_kept.contains_key(&p.id));
        if kept_orgs.is_empty() || own_projects {
            let row = map::organization_row(
                v,
                eid,
                &map::OrganizationIn {
                    id: a.id,
                    name: &a.name,
                    victim_service_provider: a.victim_service_provider,
                    created_at: a.created_at,
                    updated_at: a.updated_at,
                },
            );
            note_user(v, "Organization", &row, &mut users);
            z.row(&row).map_err(io)?;
        }
    }
    finish(&mut z, &mut done, "Organization", progress)?;

    z.begin("Project").map_err(io)?;
    let mut exported_projects = Vec::new();
    for p in &projects {
        let kept = project_kept.get(&p.id).copied().and_then(fields_of);
        let pid = project_ids
            .get(&p.id)
            .cloned()
            .unwrap_or_else(|| map::id(p.id));
        let org = kept
            .as_ref()
            .and_then(|f| f.get("OrganizationID")?.as_str().map(str::to_string))
            .unwrap_or_else(|| map::id(p.agency_id));
        if let Some(row) = merge(Merge {
            version: v,
            file: "Project",
            export_id: eid,
            typed: Some(map::project_row(v, eid, &project_in(p, s.coc.as_str()))),
            kept: kept.as_ref(),
            full: true,
            ids: &[("ProjectID", &pid), ("OrganizationID", &org)],
        }) {
            note_user(v, "Project", &row, &mut users);
            z.row(&row).map_err(io)?;
        }
        exported_projects.push(pid);
    }
    finish(&mut z, &mut done, "Project", progress)?;

    z.begin("ProjectCoC").map_err(io)?;
    let mut with_coc: HashSet<String> = HashSet::new();
    for k in kept_in("ProjectCoC") {
        if let Some(row) = as_is(k, "ProjectCoC") {
            if let Some(i) = column_index(v, "ProjectCoC", "ProjectID") {
                with_coc.insert(row[i].clone());
            }
            note_user(v, "ProjectCoC", &row, &mut users);
            z.row(&row).map_err(io)?;
        }
    }
    for (p, pid) in projects.iter().zip(&exported_projects) {
        if !with_coc.contains(pid) {
            let row = map::project_coc_row(v, eid, &project_in(p, s.coc.as_str()));
            note_user(v, "ProjectCoC", &row, &mut users);
            z.row(&row).map_err(io)?;
        }
    }
    finish(&mut z, &mut done, "ProjectCoC", progress)?;

    // One pass over the candidate clients: Client.csv is streamed, the stays and their data go
    // to spools (appended below), so each page's consent is decided once for every file.
    let spool_files = client_files(v);
    let mut spools: HashMap<&'static str, Spool> = HashMap::new();
    for f in &spool_files {
        spools.insert(f, Spool::new(v, f).map_err(io)?);
    }
    z.begin("Client").map_err(io)?;
    // The database work (this thread, which holds the snapshot) and the encoding (a second
    // thread) overlap: pages go from one to the other through a channel of two pages, so memory
    // stays bounded by the page size.
    let (tx, rx) = std::sync::mpsc::sync_channel::<Page>(2);
    let (produced, consumed) = std::thread::scope(|scope| {
        let encoder = scope.spawn(move || -> AppResult<_> {
            for page in rx {
                encode_page(v, eid, &page, &project_ids, &mut z, &mut spools, &mut users)?;
            }
            Ok((z, spools, users))
        });
        let produced = (|| -> AppResult<()> {
            let mut after = Uuid::nil();
            let mut clients = 0u64;
            loop {
                let candidates = repo::client_candidates(conn, s, after, PAGE)?;
                let Some(last) = candidates.last().copied() else {
                    return Ok(());
                };
                // The basis is decided once per record (clients_among) and given to the
                // statements that read its stays and their data.
                let mut page_clients = repo::clients_among(conn, s, &candidates)?;
                let stays = if page_clients.is_empty() {
                    Vec::new()
                } else {
                    repo::stays_of_clients(conn, s, &page_clients)?
                };
                let with_stays: HashSet<Uuid> = stays.iter().map(|st| st.client_id).collect();
                page_clients.retain(|c| with_stays.contains(&c.id));
                let data = if stays.is_empty() {
                    Vec::new()
                } else {
                    repo::data_of_stays(conn, s, &stays)?
                };
                let (kept, kept_only, sources) = if imported {
                    kept_and_sources(conn, s, &page_clients, &stays, &data)?
                } else {
                    Default::default()
                };
                clients += page_clients.len() as u64;
                let page = Page {
                    clients: page_clients,
                    stays,
                    data,
                    kept,
                    kept_only,
                    sources,
                };
                if tx.send(page).is_err() {
                    // The encoder stopped; its error is the one to answer.
                    return Ok(());
                }
                progress.rows("Client", clients);
                after = last;
            }
        })();
        drop(tx);
        let consumed = encoder
            .join()
            .unwrap_or_else(|_| Err(AppError::Internal("the export's encoder panicked".into())));
        (produced, consumed)
    });
    let (mut z, mut spools, mut users) = consumed?;
    produced?;
    finish(&mut z, &mut done, "Client", progress)?;
    for file in &spool_files {
        let Some(spool) = spools.remove(file) else {
            continue;
        };
        let n = z.append(file, spool).map_err(io)?;
        progress.rows(file, n);
        done.push((file.to_string(), n));
    }

    // The other files that describe the CoC's projects, as an import kept them.
    for file in [
        "Funder",
        "Inventory",
        "Affiliation",
        "HMISParticipation",
        "CEParticipation",
    ] {
        if Spec::get(v).file(file).is_none() {
            continue;
        }
        z.begin(file).map_err(io)?;
        for k in kept_in(file) {
            if let Some(row) = as_is(k, file) {
                note_user(v, file, &row, &mut users);
                z.row(&row).map_err(io)?;
            }
        }
        finish(&mut z, &mut done, file, progress)?;
    }

    // User.csv: the users an import kept, then the others the rows above name (staff, not
    // clients).
    z.begin("User").map_err(io)?;
    for k in kept_in("User") {
        if let Some(row) = as_is(k, "User") {
            if let Some(i) = column_index(v, "User", "UserID") {
                users.remove(&row[i]);
            }
            z.row(&row).map_err(io)?;
        }
    }
    for u in &users {
        z.row(&map::user_row(v, eid, u, plan.exported_at))
            .map_err(io)?;
    }
    finish(&mut z, &mut done, "User", progress)?;

    // Every other file of the version, header only.
    let spec = Spec::get(v);
    for f in spec.files {
        if !done.iter().any(|(n, _)| n == f.name) {
            z.begin(f.name).map_err(io)?;
            finish(&mut z, &mut done, f.name, progress)?;
        }
    }
    let out = z.finish().map_err(io)?;
    // In HUD's order.
    let files = spec
        .files
        .iter()
        .map(|f| {
            let n = done
                .iter()
                .find(|(n, _)| n == f.name)
                .map_or(0, |(_, n)| *n);
            (format!("{}.csv", f.name), n)
        })
        .collect();
    Ok((
        Summary {
            export_id: plan.export_id.clone(),
            files,
        },
        out,
    ))
}
