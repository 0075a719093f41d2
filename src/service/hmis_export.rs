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

use crate::consent::listing::ExportDescription;
use crate::consent::sql::level_of;
use crate::consent::{AccessBasis, AccessLevel};
use crate::domain::stay_data::StayFields;
use crate::domain::CocCode;
use crate::error::{AppError, AppResult, FieldError};
use crate::hmis_csv::export_ids::{exported_id, Owners};
use crate::hmis_csv::export_kept::{column_index, merge, Merge};
use crate::hmis_csv::export_map::{self as map, DatumIn, StayIn};
use crate::hmis_csv::export_zip::{ExportWriter, Spool};
use crate::hmis_csv::{Spec, Version};
use crate::repo::hmis_export::{self as repo, Actor, Importers, Scope};
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
        Some(s) => crate::domain::dates::parse_date(s).or_else(|| {
            errs.push(FieldError::new(
                field,
                "malformed",
                format!("{field} is a date YYYY-MM-DD, with a year from 0001 to 9999."),
            ));
            None
        }),
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
    prepare_with(conn, caller, request, true)
}

/// The checks of [`prepare`] alone, for a `HEAD`: nothing will be written, so nothing is
/// audited.
pub fn check(conn: &mut PgConnection, caller: &Caller, request: ExportRequest) -> AppResult<Plan> {
    prepare_with(conn, caller, request, false)
}

fn prepare_with(
    conn: &mut PgConnection,
    caller: &Caller,
    request: ExportRequest,
    audited: bool,
) -> AppResult<Plan> {
    tenants_repo::find_coc(conn, request.coc.as_str())?.ok_or(AppError::NotFound)?;
    let viewer = caller.viewer(conn)?;
    let tenants = crate::service::tenants::visibility_coc(conn, &caller.principal)?;
    caller.require_break_glass_reason("HMIS CSV export")?;
    crate::service::access::require_reason_names_no_client(conn, caller)?;
    let scope = Scope {
        viewer,
        tenants,
        today: caller.today,
        coc: request.coc.clone(),
        start: request.start,
        end: request.end,
    };
    let export_id = map::id(Uuid::now_v7());
    if !audited {
        return Ok(Plan {
            request,
            scope,
            export_id,
            exported_at: Utc::now(),
            full_reads: 0,
        });
    }
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

/// The head of a page of the pass: the clients exported and their exported stays, with the rows
/// an import kept of them (Client, Enrollment, Exit) and the source ids of the records, stays and
/// households. The stays' data follow it in pages of rows ([`Msg::Data`]).
struct Head {
    clients: Vec<repo::ClientRow>,
    stays: Vec<repo::StayRow>,
    kept: Vec<repo::KeptRow>,
    sources: Vec<repo::SourceId>,
}

/// A stay datum of the pass, in the order written: per stay, the rows an import kept in the
/// order they came, then the data Hearth made.
enum Datum {
    /// A source row an import kept, with the typed datum it became, if any.
    Kept(repo::KeptDataRow),
    /// A datum Hearth made.
    Hearth(repo::DatumRow),
}

/// What the thread that reads the database hands to the one that writes the zip.
enum Msg {
    Head(Head),
    Data(Vec<Datum>),
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

/// Files whose kept rows overlay a typed row of a page's head (found by the row's id).
const HEAD_FILES: &[&str] = &["Client", "Enrollment", "Exit"];

/// A kept row's columns by name (`hmis_csv::kept`; `None` if its text is not a kept array).
fn fields_of(k: &repo::KeptRow) -> Option<serde_json::Map<String, serde_json::Value>> {
    crate::hmis_csv::kept::decode_text(&k.file, &k.fields)
}

/// A kept row's values outside their code list (`{"Column": "value"}`).
fn invalid_of(k: &repo::KeptRow) -> Option<serde_json::Map<String, serde_json::Value>> {
    k.invalid
        .as_deref()
        .and_then(|t| serde_json::from_str(t).ok())
}

/// Notes the `UserID` of a row written to `file`.
fn note_user(v: Version, file: &str, row: &[String], users: &mut BTreeSet<String>) {
    if let Some(i) = column_index(v, file, "UserID") {
        if !row[i].is_empty() {
            users.insert(row[i].clone());
        }
    }
}

/// The `UserID` written for a Hearth row's user: a user an import named (`hmis-csv:{UserID}`)
/// is its source id, made unique per agency by the rule of `export_ids` (`agency` imported it).
fn user_of(owners: &Owners, stored: &str, agency: Uuid) -> String {
    let u = map::user_id(stored);
    if stored.starts_with(map::IMPORTED_USER) {
        owners.id("User", agency, &u)
    } else {
        u
    }
}

/// The exported ids of a kept row that describes the CoC (Organization, Project, User,
/// ProjectCoC, Funder, ...): its key and every id it names, by the rule of `export_ids`.
fn descriptor_ids(
    v: Version,
    file: &str,
    k: &repo::KeptRow,
    fields: &serde_json::Map<String, serde_json::Value>,
    owners: &Owners,
) -> Vec<(&'static str, String)> {
    let Some(fs) = Spec::get(v).file(file) else {
        return Vec::new();
    };
    fs.columns
        .iter()
        .filter_map(|c| {
            let ns = if c.name == fs.key {
                fs.name
            } else {
                fs.parents
                    .iter()
                    .find(|p| p.column == c.name && p.file != "Export")?
                    .file
            };
            let value = fields.get(c.name)?.as_str()?;
            Some((c.name, owners.id(ns, k.agency_id, value)))
        })
        .collect()
}

fn io(e: std::io::Error) -> AppError {
    AppError::Internal(format!("writing the export: {e}"))
}

/// Writes the pages of the pass: Client.csv into the zip (it is open), the rest into the spools
/// of [`client_files`].
struct Encoder<'a, W: Write> {
    v: Version,
    eid: &'a str,
    z: ExportWriter<W>,
    spools: HashMap<&'static str, Spool>,
    users: BTreeSet<String>,
    /// The exported ProjectID of each of the CoC's projects.
    projects: &'a HashMap<Uuid, String>,
    owners: &'a Owners,
    files: Vec<&'static str>,
    /// The exported ids of the current page's records, stays and households, by (file, id).
    ids: HashMap<(&'static str, Uuid), String>,
    /// The current page's stays, to their records.
    stay_client: HashMap<Uuid, Uuid>,
    /// Assessments of the current page left out for a code outside its list, by agency and source
    /// id: their questions and results are left out too.
    left_out: HashSet<(Uuid, String)>,
    /// The projects of the stays written (at most the CoC's projects): the descriptor files,
    /// written after this pass, describe them.
    stay_projects: HashSet<Uuid>,
}

impl<W: Write> Encoder<'_, W> {
    /// The exported id of Hearth's row `id` of `file` (Client, Enrollment, Household) in this page.
    fn id(&self, file: &'static str, id: Uuid) -> String {
        self.ids
            .get(&(file, id))
            .cloned()
            .unwrap_or_else(|| map::id(id))
    }

    fn project(&self, id: Uuid) -> String {
        self.projects
            .get(&id)
            .cloned()
            .unwrap_or_else(|| map::id(id))
    }

    fn write(&mut self, file: &str, row: &[String]) -> AppResult<()> {
        note_user(self.v, file, row, &mut self.users);
        if file == "Client" {
            self.z.row(row).map_err(io)?;
        } else if let Some(spool) = self.spools.get_mut(file) {
            spool.row(row).map_err(io)?;
        }
        Ok(())
    }

    /// Writes the row made of Hearth's `typed` row and the `kept` source row (`export_kept`), with
    /// the ids decided by the caller and the kept row's own `UserID` as exported.
    fn merged(
        &mut self,
        file: &'static str,
        typed: Option<Vec<String>>,
        kept: Option<&repo::KeptRow>,
        full: bool,
        ids: &[(&str, String)],
    ) -> AppResult<bool> {
        let fields = kept.and_then(fields_of);
        let invalid = kept.and_then(invalid_of);
        let mut ids: Vec<(&str, &str)> = ids.iter().map(|(c, v)| (*c, v.as_str())).collect();
        let user = match (kept, &fields) {
            (Some(k), Some(f)) => f
                .get("UserID")
                .and_then(|u| u.as_str())
                .map(|u| self.owners.id("User", k.agency_id, u)),
            _ => None,
        };
        if let Some(u) = &user {
            ids.push(("UserID", u));
        }
        let row = merge(Merge {
            version: self.v,
            file,
            export_id: self.eid,
            typed,
            kept: fields.as_ref(),
            invalid: invalid.as_ref(),
            full,
            ids: &ids,
        });
        match row {
            Some(row) => self.write(file, &row).map(|_| true),
            None => Ok(false),
        }
    }

    /// A page's clients, stays and exits.
    fn head(&mut self, h: Head) -> AppResult<()> {
        let v = self.v;
        let eid = self.eid;
        self.ids = h
            .sources
            .iter()
            .filter_map(|s| {
                let file = ["Client", "Enrollment", "Household"]
                    .into_iter()
                    .find(|f| *f == s.file)?;
                let id = exported_id(s.agency_id, &s.source_id, s.rewrite);
                Some(((file, s.target_id), id))
            })
            .collect();
        self.stay_client = h.stays.iter().map(|st| (st.id, st.client_id)).collect();
        let kept: HashMap<(&str, Uuid), &repo::KeptRow> = h
            .kept
            .iter()
            .filter_map(|k| Some(((k.file.as_str(), k.target_id?), k)))
            .collect();
        for c in &h.clients {
            let user = user_of(self.owners, &c.created_by_user, c.created_by_agency);
            let k = client_in(c, &user)?;
            let pid = self.id("Client", c.id);
            self.merged(
                "Client",
                Some(map::client_row(v, eid, &k)),
                kept.get(&("Client", c.id)).copied(),
                k.full,
                &[("PersonalID", pid)],
            )?;
        }
        self.left_out.clear();
        for st in &h.stays {
            let user = user_of(self.owners, &st.entered_by_user, st.entered_by_agency);
            let stay = stay_in(st, &user);
            let full = st.entry_access.as_deref() == Some("full");
            let (sid, pid) = (
                self.id("Enrollment", st.id),
                self.id("Client", st.client_id),
            );
            let (project, household) = (
                self.project(st.project_id),
                self.id("Household", st.household_id),
            );
            // A continuation's entry is withheld: nothing of its source rows is shown.
            let entry_shown = st.entry_access.is_some();
            let entry_kept = kept.get(&("Enrollment", st.id)).filter(|_| entry_shown);
            let written = self.merged(
                "Enrollment",
                Some(map::enrollment_row(v, eid, &stay)),
                entry_kept.copied(),
                full,
                &[
                    ("EnrollmentID", sid.clone()),
                    ("PersonalID", pid.clone()),
                    ("ProjectID", project),
                    ("HouseholdID", household),
                ],
            )?;
            if written {
                self.stay_projects.insert(st.project_id);
            }
            // The exit is a datum of its own: a withheld exit has no row (its columns come out
            // null), a released one is shown at its own access, also in a continuation.
            if let Some(row) = map::exit_row(v, eid, &stay).filter(|_| st.exit_access.is_some()) {
                let exit_kept = kept.get(&("Exit", st.id));
                let exit_id = exit_kept.map_or_else(
                    || map::id(st.id),
                    |k| exported_id(k.agency_id, &k.source_id, k.rewrite),
                );
                self.merged(
                    "Exit",
                    Some(row),
                    exit_kept.copied(),
                    st.exit_access.as_deref() == Some("full"),
                    &[
                        ("ExitID", exit_id),
                        ("EnrollmentID", sid),
                        ("PersonalID", pid),
                    ],
                )?;
            }
        }
        Ok(())
    }

    /// A page of the stays' data rows.
    fn data(&mut self, rows: Vec<Datum>) -> AppResult<()> {
        for row in rows {
            match row {
                Datum::Kept(r) => self.kept_datum(r)?,
                Datum::Hearth(d) => self.hearth_datum(d)?,
            }
        }
        Ok(())
    }

    /// A typed datum's row: its file, key column and cells (`None`: not a row of a HUD file).
    fn typed_row(
        &self,
        kind: &str,
        fields: &serde_json::Value,
        datum: &DatumIn<'_>,
    ) -> AppResult<Option<(&'static str, &'static str, Vec<String>)>> {
        let (v, eid) = (self.v, self.eid);
        let fields =
            StayFields::from_stored(kind, fields).map_err(|e| AppError::Internal(e.to_string()))?;
        Ok(match &fields {
            StayFields::Service(f) => {
                map::service_row(v, eid, datum, f).map(|r| ("Services", "ServicesID", r))
            }
            StayFields::CurrentLivingSituation(f) => Some((
                "CurrentLivingSituation",
                "CurrentLivingSitID",
                map::current_living_situation_row(v, eid, datum, f),
            )),
            StayFields::Assessment(f) => Some((
                "Assessment",
                "AssessmentID",
                map::assessment_row(v, eid, datum, f),
            )),
            StayFields::CeEvent(f) => Some(("Event", "EventID", map::event_row(v, eid, datum, f))),
            _ => None,
        })
    }

    fn hearth_datum(&mut self, d: repo::DatumRow) -> AppResult<()> {
        let (Some(access), Some(fields)) = (d.datum_access.as_deref(), d.fields.as_ref()) else {
            return Ok(());
        };
        let full = access == "full";
        let user = user_of(self.owners, &d.entered_by_user, d.entered_by_agency);
        let datum = DatumIn {
            id: d.id,
            enrollment_id: d.enrollment_id,
            client_id: d.client_id,
            date: d.occurred_on,
            text: full,
            created_at: d.created_at,
            user: &user,
        };
        let Some((file, key, row)) = self.typed_row(&d.kind, fields, &datum)? else {
            return Ok(());
        };
        let ids = [
            (key, map::id(d.id)),
            ("EnrollmentID", self.id("Enrollment", d.enrollment_id)),
            ("PersonalID", self.id("Client", d.client_id)),
        ];
        self.merged(file, Some(row), None, full, &ids).map(|_| ())
    }

    fn kept_datum(&mut self, r: repo::KeptDataRow) -> AppResult<()> {
        let k = &r.kept;
        let Some(access) = k.datum_access.as_deref() else {
            return Ok(());
        };
        let full = access == "full";
        let Some(stay) = k.enrollment_id else {
            return Ok(());
        };
        let key_value = exported_id(k.agency_id, &k.source_id, k.rewrite);
        let sid = self.id("Enrollment", stay);
        if k.target_id.is_some() {
            // A row Hearth holds typed too: its datum's row, overlaid.
            let (
                Some(kind),
                Some(fields),
                Some(day),
                Some(client),
                Some(agency),
                Some(user),
                Some(at),
            ) = (
                r.d_kind.as_deref(),
                r.d_fields.as_ref(),
                r.d_occurred_on,
                r.d_client_id,
                r.d_entered_by_agency,
                r.d_entered_by_user.as_deref(),
                r.d_created_at,
            )
            else {
                return Ok(());
            };
            let user = user_of(self.owners, user, agency);
            let datum = DatumIn {
                id: k.target_id.unwrap_or_default(),
                enrollment_id: stay,
                client_id: client,
                date: day,
                text: full,
                created_at: at,
                user: &user,
            };
            let Some((file, key, row)) = self.typed_row(kind, fields, &datum)? else {
                return Ok(());
            };
            let ids = [
                (key, key_value),
                ("EnrollmentID", sid),
                ("PersonalID", self.id("Client", client)),
            ];
            return self
                .merged(file, Some(row), Some(k), full, &ids)
                .map(|_| ());
        }
        // A row kept only whole.
        let Some(file) = self.files.iter().find(|f| **f == k.file).copied() else {
            return Ok(());
        };
        let Some(fs) = Spec::get(self.v).file(file) else {
            return Ok(());
        };
        let client = self.stay_client.get(&stay).copied().or(k.client_id);
        let pid = client.map(|c| self.id("Client", c)).unwrap_or_default();
        let mut ids = vec![("EnrollmentID", sid), ("PersonalID", pid)];
        // Its key as sent, unless it is made unique per agency.
        if k.rewrite {
            ids.push((fs.key, key_value));
        }
        if fs.key != "AssessmentID" && fs.columns.iter().any(|c| c.name == "AssessmentID") {
            let named =
                fields_of(k).and_then(|f| f.get("AssessmentID")?.as_str().map(str::to_string));
            if let Some(a) = named {
                // The rows of an assessment left out (a code outside its list that nothing can
                // stand for) are left out with it.
                if self.left_out.contains(&(k.agency_id, a.clone())) {
                    return Ok(());
                }
                ids.push(("AssessmentID", exported_id(k.agency_id, &a, k.ref_rewrite)));
            }
        }
        let written = self.merged(file, None, Some(k), full, &ids)?;
        if !written && file == "Assessment" && k.invalid.is_some() {
            self.left_out.insert((k.agency_id, k.source_id.clone()));
        }
        Ok(())
    }
}

/// Where a keyset stream over a page's stays (sorted by id) stands: the stays not finished yet
/// (from `pos`), and within the first of them the key of the last row read, if a page ended
/// inside it. A page asks for the rest of that stay alone, or for all the stays from `pos`: one
/// index range per stay either way, never the rows before the cursor again.
struct Stream<K> {
    pos: usize,
    within: Option<K>,
    done: bool,
}

impl<K: Clone> Stream<K> {
    fn new(done: bool) -> Stream<K> {
        Stream {
            pos: 0,
            within: None,
            done,
        }
    }

    /// The next page of rows: `fetch(stays, after)` answers at most `repo::ROWS` rows of `stays`
    /// by stay and key, the first stay's after `after`.
    fn next<T>(
        &mut self,
        stays: &[repo::StayRow],
        fetch: impl FnOnce(&[repo::StayRow], Option<&K>) -> AppResult<Vec<T>>,
        stay_of: impl Fn(&T) -> Uuid,
        key_of: impl Fn(&T) -> K,
    ) -> AppResult<Vec<T>> {
        if self.done || self.pos >= stays.len() {
            self.done = true;
            return Ok(Vec::new());
        }
        let (asked, within) = match &self.within {
            Some(k) => (&stays[self.pos..=self.pos], Some(k)),
            None => (&stays[self.pos..], None),
        };
        let page = fetch(asked, within)?;
        match page.last() {
            Some(last) if page.len() as i64 >= repo::ROWS => {
                let stay = stay_of(last);
                self.pos += stays[self.pos..]
                    .iter()
                    .position(|st| st.id == stay)
                    .unwrap_or(0);
                self.within = Some(key_of(last));
            }
            // The stays asked for are done.
            _ if self.within.is_some() => {
                self.pos += 1;
                self.within = None;
            }
            _ => self.done = true,
        }
        Ok(page)
    }
}

/// Reads a page's stays' data in pages of rows and hands them on in the order written: per stay,
/// the rows an import kept by their order, then Hearth's data by kind, day and id. Two keyset
/// streams (`repo::imported_page`, `repo::hearth_data`), both by stay, merged; no statement
/// reads more than `repo::ROWS` rows, and no more than a few pages of rows are held.
fn stream_data(
    conn: &mut PgConnection,
    s: &Scope,
    stays: &[repo::StayRow],
    importers: &Importers,
    tx: &std::sync::mpsc::SyncSender<Msg>,
) -> AppResult<bool> {
    use std::collections::VecDeque;
    let mut kept: VecDeque<repo::KeptDataRow> = VecDeque::new();
    let mut ours: VecDeque<repo::DatumRow> = VecDeque::new();
    let mut kept_at: Stream<i64> = Stream::new(!importers.any());
    let mut ours_at: Stream<repo::DatumKey> = Stream::new(false);
    let mut out: Vec<Datum> = Vec::new();
    loop {
        while kept.is_empty() && !kept_at.done {
            kept.extend(kept_at.next(
                stays,
                |asked, after| {
                    Ok(repo::imported_page(
                        conn,
                        s,
                        asked,
                        after.copied().unwrap_or(0),
                        importers,
                    )?)
                },
                |r| r.kept.enrollment_id.unwrap_or_default(),
                |r| r.kept.seq,
            )?);
        }
        while ours.is_empty() && !ours_at.done {
            ours.extend(ours_at.next(
                stays,
                |asked, after| {
                    let start = repo::DatumKey::start();
                    Ok(repo::hearth_data(conn, s, asked, after.unwrap_or(&start))?)
                },
                |d| d.enrollment_id,
                repo::DatumKey::of,
            )?);
        }
        let from_kept = match (kept.front(), ours.front()) {
            (None, None) => break,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (Some(k), Some(d)) => k.kept.enrollment_id.unwrap_or_default() <= d.enrollment_id,
        };
        let next = if from_kept {
            kept.pop_front().map(Datum::Kept)
        } else {
            ours.pop_front().map(Datum::Hearth)
        };
        out.extend(next);
        if out.len() as i64 >= repo::ROWS && tx.send(Msg::Data(std::mem::take(&mut out))).is_err() {
            return Ok(false);
        }
    }
    if !out.is_empty() && tx.send(Msg::Data(out)).is_err() {
        return Ok(false);
    }
    Ok(true)
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
    let users: BTreeSet<String> = BTreeSet::new();
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

    // The CoC's agencies that imported (else no kept rows nor source ids to look for).
    let importers = Importers::of(conn, &s.coc)?;
    let imported = importers.any();
    let agencies = repo::agencies_of(conn, &s.coc)?;
    let projects = repo::projects_of(conn, &s.coc)?;
    // Who holds which id of the CoC's agencies, projects and staff, and the rows an import kept
    // of them (written after the pass: the descriptor files, below).
    let mut owners = Owners::new(agencies.iter().map(|a| a.id));
    for a in &agencies {
        owners.hearth("Organization", map::id(a.id));
    }
    for p in &projects {
        owners.hearth("Project", map::id(p.id));
    }
    // Of every agency of the CoC, so an id is written the same whoever exports.
    let kept = repo::kept_descriptors(conn, &s.coc)?;
    for k in &kept {
        owners.hold(&k.file, &k.source_id, k.agency_id);
    }
    let owners = owners;
    // A project an import made keeps its source ProjectID and OrganizationID (as exported).
    let project_kept: HashMap<Uuid, &repo::KeptRow> = kept
        .iter()
        .filter(|k| k.file == "Project")
        .filter_map(|k| Some((k.target_id?, k)))
        .collect();
    let project_ids: HashMap<Uuid, String> = project_kept
        .iter()
        .map(|(id, k)| (*id, owners.id("Project", k.agency_id, &k.source_id)))
        .collect();

    // One pass over the candidate clients: Client.csv is streamed, the stays and their data go
    // to spools (appended below), so each page's consent is decided once for every file.
    let spool_files = client_files(v);
    let mut spools: HashMap<&'static str, Spool> = HashMap::new();
    for f in &spool_files {
        spools.insert(f, Spool::new(v, f).map_err(io)?);
    }
    z.begin("Client").map_err(io)?;
    let encoder = Encoder {
        v,
        eid,
        z,
        spools,
        users,
        projects: &project_ids,
        owners: &owners,
        files: spool_files.clone(),
        ids: HashMap::new(),
        stay_client: HashMap::new(),
        left_out: HashSet::new(),
        stay_projects: HashSet::new(),
    };
    // The database work (this thread, which holds the snapshot) and the encoding (a second
    // thread) overlap: heads of pages and pages of data rows go from one to the other through a
    // channel of two, so memory stays bounded by the page sizes.
    let (tx, rx) = std::sync::mpsc::sync_channel::<Msg>(2);
    let (produced, consumed) = std::thread::scope(|scope| {
        let encoder = scope.spawn(move || -> AppResult<_> {
            let mut e = encoder;
            for msg in rx {
                match msg {
                    Msg::Head(h) => e.head(h)?,
                    Msg::Data(rows) => e.data(rows)?,
                }
            }
            Ok((e.z, e.spools, e.users, e.stay_projects))
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
                let (kept, sources) = if imported {
                    let targets: Vec<Uuid> = page_clients
                        .iter()
                        .map(|c| c.id)
                        .chain(stays.iter().map(|st| st.id))
                        .collect();
                    let linked: Vec<Uuid> = page_clients
                        .iter()
                        .map(|c| c.id)
                        .chain(stays.iter().flat_map(|st| [st.id, st.household_id]))
                        .collect();
                    (
                        repo::kept_of_targets(conn, &s.coc, HEAD_FILES, &targets, &importers)?,
                        repo::source_ids(
                            conn,
                            &s.coc,
                            &["Client", "Enrollment", "Household"],
                            &linked,
                            &importers,
                        )?,
                    )
                } else {
                    Default::default()
                };
                clients += page_clients.len() as u64;
                let head = Head {
                    clients: page_clients,
                    stays: stays.clone(),
                    kept,
                    sources,
                };
                // The encoder stopped; its error is the one to answer.
                if tx.send(Msg::Head(head)).is_err() {
                    return Ok(());
                }
                if !stays.is_empty() && !stream_data(conn, s, &stays, &importers, &tx)? {
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
    let (mut z, mut spools, mut users, stay_projects) = consumed?;
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

    // The files that describe the CoC (Organization, Project, ProjectCoC, Funder, Inventory,
    // Affiliation, HMISParticipation, CEParticipation, User), written after the pass because
    // which projects the stays name is known only then: the agencies the caller may see through
    // the API whole, and of the others only the projects of the stays written, by their ids
    // (`consent::listing::TenantScope::export_description`), so every row's ProjectID,
    // OrganizationID and UserID is in the zip and nothing else of a hidden agency is.
    let description = |a: &tenants_repo::AgencyRow, referenced: bool| {
        s.tenants
            .export_description(a.coc_code.as_str(), a.shares_data, referenced)
    };
    let agency_of: HashMap<Uuid, &tenants_repo::AgencyRow> =
        agencies.iter().map(|a| (a.id, a)).collect();
    let project_description = |p: &tenants_repo::ProjectRow| {
        agency_of
            .get(&p.agency_id)
            .map_or(ExportDescription::Absent, |a| {
                description(a, stay_projects.contains(&p.id))
            })
    };
    let mut descriptors: HashMap<&str, Vec<&repo::KeptRow>> = HashMap::new();
    for k in &kept {
        let whole = agency_of
            .get(&k.agency_id)
            .is_some_and(|a| description(a, false) == ExportDescription::Whole);
        if whole {
            descriptors.entry(k.file.as_str()).or_default().push(k);
        }
    }
    let kept_in = |file: &str| descriptors.get(file).map(Vec::as_slice).unwrap_or(&[]);
    let as_is_over = |k: &repo::KeptRow, file: &str, typed: Option<Vec<String>>| {
        let fields = fields_of(k)?;
        let ids = descriptor_ids(v, file, k, &fields, &owners);
        let ids: Vec<(&str, &str)> = ids.iter().map(|(c, x)| (*c, x.as_str())).collect();
        merge(Merge {
            version: v,
            file,
            export_id: eid,
            typed,
            kept: Some(&fields),
            invalid: invalid_of(k).as_ref(),
            full: true,
            ids: &ids,
        })
    };
    let as_is = |k: &repo::KeptRow, file: &str| as_is_over(k, file, None);
    // Each project written, with its exported ProjectID and OrganizationID.
    let mut exported_projects = Vec::new();
    for p in &projects {
        let d = project_description(p);
        if d == ExportDescription::Absent {
            continue;
        }
        let k = project_kept.get(&p.id).copied();
        let kept = k.and_then(fields_of);
        let pid = project_ids
            .get(&p.id)
            .cloned()
            .unwrap_or_else(|| map::id(p.id));
        let mut ids = match (k, &kept) {
            (Some(k), Some(f)) => descriptor_ids(v, "Project", k, f, &owners),
            _ => Vec::new(),
        };
        ids.retain(|(c, _)| *c != "ProjectID");
        if !ids.iter().any(|(c, _)| *c == "OrganizationID") {
            ids.push(("OrganizationID", map::id(p.agency_id)));
        }
        let org = ids
            .iter()
            .find(|(c, _)| *c == "OrganizationID")
            .map(|(_, x)| x.clone())
            .unwrap_or_default();
        exported_projects.push((p, d, pid, org, k, kept, ids));
    }

    z.begin("Organization").map_err(io)?;
    for a in agencies
        .iter()
        .filter(|a| description(a, false) == ExportDescription::Whole)
    {
        let kept_orgs: Vec<&repo::KeptRow> = kept_in("Organization")
            .iter()
            .copied()
            .filter(|k| k.agency_id == a.id)
            .collect();
        let own = map::organization_row(
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
        for k in &kept_orgs {
            // Over the agency's own row: a required value sent outside its list stands as the
            // agency's.
            if let Some(row) = as_is_over(k, "Organization", Some(own.clone())) {
                note_user(v, "Organization", &row, &mut users);
                z.row(&row).map_err(io)?;
            }
        }
        // The agency itself, unless every project of it came with its source organization.
        let own_projects = projects
            .iter()
            .any(|p| p.agency_id == a.id && !project_kept.contains_key(&p.id));
        if kept_orgs.is_empty() || own_projects {
            let row = own;
            note_user(v, "Organization", &row, &mut users);
            z.row(&row).map_err(io)?;
        }
    }
    // The organizations of the projects named by their ids alone, by their ids alone.
    let ids_only_orgs: BTreeSet<&str> = exported_projects
        .iter()
        .filter(|x| x.1 == ExportDescription::IdsOnly)
        .map(|x| x.3.as_str())
        .collect();
    for org in ids_only_orgs {
        z.row(&map::organization_ids_row(v, eid, org, plan.exported_at))
            .map_err(io)?;
    }
    finish(&mut z, &mut done, "Organization", progress)?;

    z.begin("Project").map_err(io)?;
    for (p, d, pid, org, k, kept, ids) in &exported_projects {
        let row = if *d == ExportDescription::IdsOnly {
            Some(map::project_ids_row(v, eid, pid, org, p.created_at))
        } else {
            let mut ids: Vec<(&str, &str)> = ids.iter().map(|(c, x)| (*c, x.as_str())).collect();
            ids.push(("ProjectID", pid));
            merge(Merge {
                version: v,
                file: "Project",
                export_id: eid,
                typed: Some(map::project_row(v, eid, &project_in(p, s.coc.as_str()))),
                kept: kept.as_ref(),
                invalid: k.and_then(invalid_of).as_ref(),
                full: true,
                ids: &ids,
            })
        };
        if let Some(row) = row {
            note_user(v, "Project", &row, &mut users);
            z.row(&row).map_err(io)?;
        }
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
    for (p, d, pid, ..) in &exported_projects {
        let row = match d {
            _ if with_coc.contains(pid) => continue,
            ExportDescription::IdsOnly => {
                map::project_coc_ids_row(v, eid, pid, s.coc.as_str(), p.created_at)
            }
            _ => map::project_coc_row(v, eid, &project_in(p, s.coc.as_str())),
        };
        note_user(v, "ProjectCoC", &row, &mut users);
        z.row(&row).map_err(io)?;
    }
    finish(&mut z, &mut done, "ProjectCoC", progress)?;

    // The other files that describe the projects, as an import kept them (of the agencies the
    // caller may see: a project named by its ids alone has none).
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

    // User.csv: the users an import kept (of the agencies the caller may see), then the others
    // the rows above name (staff, not clients), by their ids alone.
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
