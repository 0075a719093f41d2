//! Importing a HUD HMIS CSV export (FY2024 or FY2026) into one agency, as a job.
//!
//! The job validates the whole set first (`hmis_csv::validate`), then writes in **one
//! transaction**: all of it or, on any failure, nothing. `strict` refuses the set when the
//! validator found any error; `lenient` skips the rows with errors (and the rows that hang from
//! them), keeps rows whose only fault is a code outside its list (the value recorded as invalid,
//! `hmis_rows.invalid`), and reports each. Re-importing the same export changes nothing: each
//! source row is found again by its source id, and only a row whose values changed is written.
//! The mapping is in `docs/hmis-csv-import.md`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::{Connection, PgConnection};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::consent::imports::may_import_into;
use crate::db::DbPool;
use crate::domain::words::{IdentityMode, Lifecycle, Visibility};
use crate::error::{AppError, AppResult};
use crate::hmis_csv::import_map::{self, Invalid, Unusable};
use crate::hmis_csv::read::{open_set, Row};
use crate::hmis_csv::{validate_path, FileSpec, Limits, Severity, Spec, Version};
use crate::repo::audit::{self, NewAuditEvent};
use crate::repo::hmis_import::{self as repo, ImportedIdentity};
use crate::repo::stays::{self as stays_repo, EnrollmentRow};
use crate::repo::tenants;
use crate::service::context::Caller;

pub use crate::domain::words::{ImportMode, ImportStatus};

/// Rows of one file so far.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FileProgress {
    /// Data rows read.
    pub read: u64,
    /// Rows new to Hearth.
    pub created: u64,
    /// Rows imported before whose values changed.
    pub updated: u64,
    /// Rows imported before, unchanged.
    pub unchanged: u64,
    /// Rows not imported (each has a problem).
    pub skipped: u64,
    /// Rows an earlier import took that the source now marks deleted, removed (a datum, an
    /// exit or a row kept whole; a record, stay, project or organization is kept).
    #[serde(default)]
    pub deleted: u64,
}

/// One problem: where, and what, never a value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ImportProblem {
    pub file: String,
    pub line: Option<u64>,
    pub column: Option<String>,
    pub code: String,
    /// `error` or `warning`.
    #[schema(value_type = crate::domain::contract_words::ProblemSeverity)]
    pub severity: String,
    pub message: String,
}

/// An import job.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ImportJob {
    pub id: Uuid,
    pub agency_id: Uuid,
    pub mode: ImportMode,
    pub status: ImportStatus,
    /// `2024` or `2026`, once detected.
    pub version: Option<String>,
    /// Rows per file (HUD's file name without `.csv`).
    pub progress: BTreeMap<String, FileProgress>,
    /// The first problems (at most 1,000), in the order found.
    pub problems: Vec<ImportProblem>,
    pub problem_count: i32,
    /// When finished: what happened, in words.
    pub outcome: Option<String>,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
}

const MAX_KEPT_PROBLEMS: usize = 1_000;

fn view(row: repo::JobRow) -> AppResult<ImportJob> {
    let fault = |what: &str| AppError::Internal(format!("stored import job: {what}"));
    Ok(ImportJob {
        id: row.id,
        agency_id: row.agency_id,
        mode: row.mode,
        status: row.status,
        version: row.version,
        progress: serde_json::from_value(row.progress).map_err(|_| fault("progress"))?,
        problems: serde_json::from_value(row.problems).map_err(|_| fault("problems"))?,
        problem_count: row.problem_count,
        outcome: row
            .summary
            .as_ref()
            .and_then(|s| s["outcome"].as_str())
            .map(str::to_string),
        created_at: row.created_at,
        started_at: row.started_at,
        finished_at: row.finished_at,
    })
}

/// Whether the caller may import into `agency` (checked before an upload is read).
pub fn authorize(caller: &Caller, agency: Uuid) -> AppResult<()> {
    let p = &caller.principal;
    if !may_import_into(&p.roles, p.agency_id, agency) {
        return Err(AppError::Forbidden(
            "An agency administrator imports only into its own agency.".into(),
        ));
    }
    Ok(())
}

/// Records a new job for `agency`; the caller then runs it ([`run`]) off the request.
pub fn submit(
    conn: &mut PgConnection,
    caller: &Caller,
    agency: Uuid,
    mode: ImportMode,
) -> AppResult<ImportJob> {
    authorize(caller, agency)?;
    let p = &caller.principal;
    conn.transaction(|conn| {
        if tenants::find_agency(conn, agency)?.is_none() {
            return Err(AppError::validation(
                "agency",
                "unknown",
                "No agency has this id.",
            ));
        }
        let row = repo::insert_job(
            conn,
            &repo::JobRow {
                id: Uuid::now_v7(),
                agency_id: agency,
                mode,
                status: ImportStatus::Queued,
                submitted_by: p.sub.clone(),
                version: None,
                progress: serde_json::json!({}),
                problems: serde_json::json!([]),
                problem_count: 0,
                summary: None,
                created_at: Utc::now(),
                started_at: None,
                finished_at: None,
            },
        )?;
        caller.audit(
            conn,
            None,
            "hmis_import_submitted",
            None,
            Some(serde_json::json!({"job": row.id, "agency": agency, "mode": mode.as_str()})),
        )?;
        view(row)
    })
}

/// A job, for the system administrator or the importing agency's administrator; 404 otherwise.
pub fn get(conn: &mut PgConnection, caller: &Caller, id: Uuid) -> AppResult<ImportJob> {
    let row = repo::find_job(conn, id)?.ok_or(AppError::NotFound)?;
    let p = &caller.principal;
    if !may_import_into(&p.roles, p.agency_id, row.agency_id) {
        return Err(AppError::NotFound);
    }
    view(row)
}

/// At start-up: jobs a stopped server left unfinished are failed (their transaction never
/// committed, so nothing of them was kept).
pub fn fail_interrupted(conn: &mut PgConnection) -> AppResult<usize> {
    Ok(repo::fail_interrupted_jobs(conn)?)
}

/// What the job keeps while it runs.
struct Run {
    job: Uuid,
    agency: Uuid,
    coc: String,
    actor: String,
    request_id: Option<String>,
    progress: BTreeMap<String, FileProgress>,
    problems: Vec<ImportProblem>,
    problem_count: i32,
    /// Row-level errors by (file, line): the rows lenient mode skips.
    bad_rows: HashSet<(String, u64)>,
    /// Columns whose value is outside its code list, by (file, line): kept, and recorded.
    code_cells: HashMap<(String, u64), Vec<String>>,
    /// Data rows read so far, all files.
    rows_read: u64,
    /// Source id to Hearth id, per file, for this run (and earlier runs, loaded per file).
    ids: HashMap<&'static str, HashMap<String, Uuid>>,
    /// Source HouseholdID to Hearth household id.
    households: HashMap<String, Uuid>,
    /// Entry dates of the stays this run saw, for their exits.
    entry_dates: HashMap<Uuid, chrono::NaiveDate>,
    /// The Coordinated Entry triggers are deferred to the end of the transaction: the stays
    /// whose rows they would have fired on (stays written, closed, or given a CE assessment)...
    ce_stays: Vec<Uuid>,
    /// ...and what changed stays were before: (client, project).
    ce_before: Vec<(Uuid, Uuid)>,
    /// Source PersonalIDs and EnrollmentIDs the source marks deleted that Hearth keeps: their
    /// rows marked deleted are kept too.
    kept_deleted: HashSet<(&'static str, String)>,
    /// Source keys of records and stays de-identified in Hearth (Client, Enrollment): a row
    /// that names one is not written, so nothing new hangs from the anonymous record.
    deidentified: HashSet<(&'static str, String)>,
    /// The day the row being written is collected on when it is not its own: an
    /// AssessmentQuestions or AssessmentResults row is its Assessment's (`AssessmentDate`).
    dated_by: Option<chrono::NaiveDate>,
    /// Assessment rows taken before that this import changed: their questions and results
    /// are dated again by them once the file is written.
    assessments_changed: Vec<String>,
    /// Strict mode: a row that cannot be imported ends the import (nothing is written).
    strict: bool,
    /// Set when strict mode met such a row (the error that ends the import is this one).
    strict_refused: bool,
}

impl Run {
    fn problem(
        &mut self,
        file: &str,
        line: Option<u64>,
        column: Option<&str>,
        code: &str,
        severity: Severity,
        message: impl Into<String>,
    ) {
        self.problem_count += 1;
        if self.problems.len() < MAX_KEPT_PROBLEMS {
            self.problems.push(ImportProblem {
                file: file.to_string(),
                line,
                column: column.map(str::to_string),
                code: code.to_string(),
                severity: match severity {
                    Severity::Error => "error".into(),
                    Severity::Warning => "warning".into(),
                },
                message: message.into(),
            });
        }
    }

    fn file_progress(&mut self, file: &str) -> &mut FileProgress {
        if !self.progress.contains_key(file) {
            self.progress
                .insert(file.to_string(), FileProgress::default());
        }
        self.progress.get_mut(file).expect("inserted above")
    }
}

/// Codes the validator reports for a value outside its code list: lenient mode keeps the row.
const CODE_PROBLEMS: &[&str] = &["not_in_list", "excluded_code"];

/// Runs job `job` on the set at `path` (a zip or a directory), then removes `path` when
/// `remove_after`. Never panics on bad input: every outcome is written to the job.
pub fn run(pool: &DbPool, caller: &Caller, job: Uuid, path: &Path, remove_after: bool) {
    run_with(pool, caller, job, path, remove_after, &mut |_| {})
}

/// The rows per file so far, as a job reports them.
pub type Progress = BTreeMap<String, FileProgress>;

/// As [`run`], calling `progress` as rows are read (the command line draws it).
pub fn run_with(
    pool: &DbPool,
    caller: &Caller,
    job: Uuid,
    path: &Path,
    remove_after: bool,
    progress: &mut dyn FnMut(&Progress),
) {
    let outcome = run_inner(pool, caller, job, path, progress);
    if remove_after {
        let _ = std::fs::remove_file(path);
    }
    if let Err(e) = outcome {
        tracing::error!(job = %job, error = %e, "import job could not record its outcome");
    }
}

fn run_inner(
    pool: &DbPool,
    caller: &Caller,
    job: Uuid,
    path: &Path,
    progress: &mut dyn FnMut(&Progress),
) -> AppResult<()> {
    let mut conn = pool.get()?;
    let row = repo::find_job(&mut conn, job)?.ok_or(AppError::NotFound)?;
    let agency = tenants::find_agency(&mut conn, row.agency_id)?.ok_or(AppError::NotFound)?;
    let mode = row.mode;

    let report = validate_path(path, &Limits::default());
    let version = report.version.unwrap_or(Version::Fy2026);
    let version_word = match version {
        Version::Fy2024 => "2024",
        Version::Fy2026 => "2026",
    };
    repo::start_job(&mut conn, job, Some(version_word))?;
    let mut run = Run {
        job,
        agency: agency.id,
        coc: agency.coc_code.to_string(),
        actor: caller.principal.sub.clone(),
        request_id: Some(caller.request_id.clone()).filter(|r| !r.is_empty()),
        progress: BTreeMap::new(),
        problems: Vec::new(),
        problem_count: 0,
        bad_rows: HashSet::new(),
        code_cells: HashMap::new(),
        rows_read: 0,
        ids: HashMap::new(),
        households: HashMap::new(),
        entry_dates: HashMap::new(),
        ce_stays: Vec::new(),
        ce_before: Vec::new(),
        kept_deleted: HashSet::new(),
        deidentified: HashSet::new(),
        strict: mode == ImportMode::Strict,
        dated_by: None,
        assessments_changed: Vec::new(),
        strict_refused: false,
    };
    // The validator's findings: set-level errors end the job in either mode; row errors end it
    // in strict mode, and mark the rows lenient mode skips.
    let mut set_level = false;
    let mut row_errors = false;
    for p in &report.problems {
        run.problem(
            &p.file,
            p.line,
            p.column.as_deref(),
            p.code,
            p.severity,
            p.message.clone(),
        );
    }
    // Problems past the validator's list are counted, not listed.
    run.problem_count += report.dropped as i32;
    // Every error, listed or not, decides: where it is says what it ends or skips.
    for e in &report.errors_at {
        let file = e.file.trim_end_matches(".csv").to_string();
        match e.line {
            Some(line) if line > 1 => {
                row_errors = true;
                if CODE_PROBLEMS.contains(&e.code) {
                    if let Some(c) = &e.column {
                        run.code_cells
                            .entry((file, line))
                            .or_default()
                            .push(c.clone());
                    }
                } else {
                    run.bad_rows.insert((file, line));
                }
            }
            _ => set_level = true,
        }
    }
    let refuse = |run: &mut Run, conn: &mut PgConnection, why: &str| -> AppResult<()> {
        // Nothing was written: no row counts as created, updated or deleted.
        for p in run.progress.values_mut() {
            p.created = 0;
            p.updated = 0;
            p.deleted = 0;
        }
        save_progress(conn, run)?;
        repo::finish_job(
            conn,
            run.job,
            ImportStatus::Failed,
            &serde_json::json!({ "outcome": why }),
        )?;
        Ok(())
    };
    if set_level {
        return refuse(
            &mut run,
            &mut conn,
            "refused: the files cannot be read as an HMIS CSV export (see problems); nothing was imported",
        );
    }
    if row_errors && mode == ImportMode::Strict {
        return refuse(
            &mut run,
            &mut conn,
            "refused in strict mode: rows have errors (see problems); nothing was imported",
        );
    }
    let Some(mut set) = open_set(path, &Limits::default()) else {
        return refuse(&mut run, &mut conn, "refused: the files cannot be opened");
    };
    let spec = Spec::get(version);
    let result = conn.transaction(|conn| -> AppResult<()> {
        // Two imports into one agency would both take a source id as new: one at a time.
        repo::lock_agency_imports(conn, run.agency)?;
        // The priority list is brought up to date once, at the end, not once per row.
        repo::defer_ce_triggers(conn)?;
        // Batches are written on a thread of their own while the next is read and mapped.
        let shared: Mutex<&mut PgConnection> = Mutex::new(&mut *conn);
        std::thread::scope(|scope| -> AppResult<()> {
            let db = Db::start(scope, &shared);
            for fs in order(spec) {
                import_file(&db, pool, &mut run, &mut set, fs, progress)?;
            }
            db.finish()
        })?;
        let started = std::time::Instant::now();
        run.ce_stays.sort_unstable();
        run.ce_stays.dedup();
        let n = repo::refresh_ce_priority(conn, &run.ce_stays, &run.ce_before)?;
        tracing::debug!(
            job = %run.job,
            refreshed = n,
            ms = started.elapsed().as_millis() as u64,
            "import CE priority refreshed"
        );
        Ok(())
    });
    match result {
        Ok(()) => {
            save_progress(&mut conn, &run)?;
            let created: u64 = run.progress.values().map(|p| p.created).sum();
            let updated: u64 = run.progress.values().map(|p| p.updated).sum();
            let skipped: u64 = run.progress.values().map(|p| p.skipped).sum();
            let deleted: u64 = run.progress.values().map(|p| p.deleted).sum();
            // Best effort: autovacuum would get there too, a minute or more later.
            if created + updated + deleted >= ANALYZE_AFTER {
                if let Err(e) = repo::analyze_written(&mut conn) {
                    tracing::warn!(job = %job, cause = %e, "import: ANALYZE failed");
                }
            }
            repo::finish_job(
                &mut conn,
                job,
                ImportStatus::Succeeded,
                &serde_json::json!({
                    "outcome": format!(
                        "imported: {created} rows created, {updated} updated, {deleted} deleted, {skipped} skipped"
                    )
                }),
            )?;
            Ok(())
        }
        Err(_) if run.strict_refused => refuse(
            &mut run,
            &mut conn,
            "refused in strict mode: a row cannot be imported (see problems); nothing was imported",
        ),
        Err(e) => {
            if let AppError::Internal(cause) = &e {
                tracing::error!(job = %job, cause = %cause, "import rolled back");
            }
            refuse(
                &mut run,
                &mut conn,
                "failed while writing; the transaction was rolled back and nothing was imported",
            )
        }
    }
}

/// An import that wrote at least this many rows brings the tables' statistics up to date.
const ANALYZE_AFTER: u64 = 1_000;

/// Files in the order their parents come first; the rest keep HUD's order.
fn order(spec: &'static Spec) -> Vec<&'static FileSpec> {
    const FIRST: &[&str] = &["Organization", "Project", "Client", "Enrollment", "Exit"];
    let mut v: Vec<&FileSpec> = FIRST.iter().filter_map(|f| spec.file(f)).collect();
    v.extend(
        spec.files
            .iter()
            .filter(|f| !FIRST.contains(&f.name) && f.name != "Export"),
    );
    v
}

/// Writes the job's progress on a connection of its own (best effort: the job goes on without).
fn save_progress(conn: &mut PgConnection, run: &Run) -> AppResult<()> {
    repo::set_progress(
        conn,
        run.job,
        &serde_json::to_value(&run.progress).unwrap_or_default(),
        &serde_json::to_value(&run.problems).unwrap_or_default(),
        run.problem_count,
    )?;
    Ok(())
}

fn progress_now(pool: &DbPool, run: &Run) {
    if let Ok(mut c) = pool.get_timeout(std::time::Duration::from_millis(200)) {
        let _ = save_progress(&mut c, run);
    }
}

fn utc(t: Option<NaiveDateTime>) -> Option<DateTime<Utc>> {
    t.map(|t| t.and_utc())
}

/// A row that cannot be kept: counted and reported.
fn skip(run: &mut Run, fs: &FileSpec, row: &Row, column: Option<&str>, code: &str, msg: &str) {
    run.file_progress(fs.name).skipped += 1;
    let file = format!("{}.csv", fs.name);
    run.problem(&file, Some(row.line), column, code, Severity::Error, msg);
}

/// The import's connection, shared by the thread that maps rows and the thread that writes
/// their batches (inside the import's one transaction). A batch is handed over when the writer
/// is done with the one before (one is written while the next is built, so memory stays
/// bounded), and they are written in order; a read or single write ([`Db::with`]) first
/// waits for every queued batch, so it sees what came before it in the files. The first write
/// that fails stops the writer; the import then fails and its transaction rolls back.
struct Db<'s, 'c> {
    queue: Option<std::sync::mpsc::SyncSender<Job>>,
    shared: &'s Mutex<&'c mut PgConnection>,
    writer: Option<std::thread::ScopedJoinHandle<'s, Failed>>,
}

/// Whether a batch failed, and its error until it is handed on.
type Failed = Option<Option<AppError>>;

enum Job {
    Batch(Box<Pending>),
    /// Answers once every batch before it is written: the failure, if one failed.
    Barrier(std::sync::mpsc::SyncSender<Failed>),
}

impl<'s, 'c: 's> Db<'s, 'c> {
    fn start<'e>(
        scope: &'s std::thread::Scope<'s, 'e>,
        shared: &'s Mutex<&'c mut PgConnection>,
    ) -> Self {
        let (queue, jobs) = std::sync::mpsc::sync_channel::<Job>(0);
        let writer = scope.spawn(move || {
            let mut failed: Failed = None;
            for job in jobs {
                match job {
                    Job::Batch(mut p) if failed.is_none() => {
                        let mut conn = shared.lock().unwrap_or_else(|e| e.into_inner());
                        if let Err(e) = p.flush(&mut conn) {
                            failed = Some(Some(e));
                        }
                    }
                    Job::Batch(_) => {}
                    Job::Barrier(reply) => {
                        let _ = reply.send(failed.as_mut().map(Option::take));
                    }
                }
            }
            failed
        });
        Db {
            queue: Some(queue),
            shared,
            writer: Some(writer),
        }
    }

    /// Queues the batch `pending` holds (and empties it).
    fn flush(&self, pending: &mut Pending) -> AppResult<()> {
        let batch = Box::new(std::mem::take(pending));
        self.send(Job::Batch(batch))
    }

    fn send(&self, job: Job) -> AppResult<()> {
        let sent = self.queue.as_ref().map(|q| q.send(job));
        match sent {
            Some(Ok(())) => Ok(()),
            _ => Err(stopped()),
        }
    }

    /// Runs `f` on the connection once every queued batch is written.
    fn with<T, E: Into<AppError>>(
        &self,
        f: impl FnOnce(&mut PgConnection) -> Result<T, E>,
    ) -> AppResult<T> {
        let (reply, answer) = std::sync::mpsc::sync_channel(1);
        self.send(Job::Barrier(reply))?;
        match answer.recv() {
            Ok(None) => {}
            Ok(Some(e)) => return Err(e.unwrap_or_else(stopped)),
            Err(_) => return Err(stopped()),
        }
        let mut conn = self.shared.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut conn).map_err(Into::into)
    }

    /// Waits for every queued batch: the first failure, if any.
    fn finish(mut self) -> AppResult<()> {
        self.queue.take();
        match self.writer.take().map(|w| w.join()) {
            Some(Ok(None)) => Ok(()),
            Some(Ok(Some(e))) => Err(e.unwrap_or_else(stopped)),
            _ => Err(AppError::Internal("the import's writer panicked".into())),
        }
    }
}

impl Drop for Db<'_, '_> {
    /// An import that stops early still waits for its writer (a panic there becomes the
    /// import's failure, not the job thread's).
    fn drop(&mut self) {
        self.queue.take();
        if let Some(w) = self.writer.take() {
            let _ = w.join();
        }
    }
}

fn stopped() -> AppError {
    AppError::Internal("a batch of the import failed; the import stopped".into())
}

/// Writes waiting for their batch: new rows go in together, parents' batches before their
/// children's (each file is flushed before the next begins). Rows new to Hearth (`fresh`: their
/// source id was never taken, so no row has their key yet) go in with `COPY`; rows taken before
/// (a changed row) with an upsert.
#[derive(Default)]
struct Pending {
    /// Whether the row being written is new (its source id was never taken).
    fresh: bool,
    clients: Vec<repo::NewImportedClient>,
    stays: Vec<EnrollmentRow>,
    exits: Vec<repo::ExitRow>,
    /// Source HouseholdIDs new to Hearth.
    new_households: Vec<repo::SourceRow>,
    /// Rows kept whole: taken before (upserted), new (copied).
    whole: Vec<repo::WholeRow>,
    new_whole: Vec<repo::WholeRow>,
    data: Vec<crate::repo::stays::DatumRow>,
    audit: Vec<NewAuditEvent>,
}

impl Pending {
    /// The row kept last.
    fn last_kept(&mut self) -> &mut repo::WholeRow {
        let rows = if self.fresh {
            &mut self.new_whole
        } else {
            &mut self.whole
        };
        rows.last_mut().expect("every write keeps its row")
    }

    fn full(&self) -> bool {
        [
            self.clients.len(),
            self.stays.len(),
            self.exits.len(),
            self.new_households.len(),
            self.whole.len(),
            self.new_whole.len(),
            self.data.len(),
            self.audit.len(),
        ]
        .into_iter()
        .any(|n| n >= repo::COPY_BATCH)
    }

    fn flush(&mut self, conn: &mut PgConnection) -> AppResult<()> {
        if !self.clients.is_empty() {
            free_short_uids(conn, &mut self.clients)?;
            repo::insert_clients(conn, &self.clients)?;
            self.clients.clear();
        }
        repo::copy_stays(conn, &self.stays)?;
        self.stays.clear();
        repo::set_exits(conn, &self.exits)?;
        self.exits.clear();
        repo::copy_data(conn, &mut self.data)?;
        repo::copy_whole_rows(conn, &self.new_whole)?;
        self.new_whole.clear();
        for chunk in self.whole.chunks(repo::BATCH) {
            repo::put_whole_rows(conn, chunk)?;
        }
        self.whole.clear();
        repo::copy_sources(conn, &self.new_households)?;
        self.new_households.clear();
        for chunk in self.audit.chunks(repo::BATCH) {
            audit::append(conn, chunk)?;
        }
        self.audit.clear();
        Ok(())
    }
}

/// Redraws the few drawn short UIDs that are taken (in the database or twice in the batch).
fn free_short_uids(conn: &mut PgConnection, rows: &mut [repo::NewImportedClient]) -> AppResult<()> {
    for _ in 0..16 {
        let mut seen = HashSet::new();
        let mut clash: HashSet<String> = rows
            .iter()
            .filter(|r| !seen.insert(r.short_uid.clone()))
            .map(|r| r.short_uid.clone())
            .collect();
        let uids: Vec<String> = rows.iter().map(|r| r.short_uid.clone()).collect();
        clash.extend(repo::short_uids_taken(conn, &uids)?);
        if clash.is_empty() {
            return Ok(());
        }
        for r in rows.iter_mut().filter(|r| clash.contains(&r.short_uid)) {
            r.short_uid = crate::service::clients::draw_short_uid();
        }
    }
    Err(AppError::Internal("could not draw free short uids".into()))
}

fn import_file(
    db: &Db,
    pool: &DbPool,
    run: &mut Run,
    set: &mut crate::hmis_csv::read::FileSet,
    fs: &'static FileSpec,
    progress: &mut dyn FnMut(&Progress),
) -> AppResult<()> {
    let started = std::time::Instant::now();
    // What earlier imports took of this file: read whole for the files others point to (their
    // ids serve the children), else a chunk of rows at a time, by the chunk's keys, and only
    // when there is any (a first import reads nothing): memory stays bounded whatever the file.
    let is_parent = PARENT_FILES.contains(&fs.name);
    let known_all = if is_parent {
        Some(db.with(|c| repo::sources_of(c, run.agency, fs.name))?)
    } else {
        None
    };
    let any_known = is_parent || db.with(|c| repo::has_sources(c, run.agency, fs.name))?;
    // The ids of this file's rows, for the files that point to it (Project, Client, Enrollment):
    // the rest need none once written, and are not held (a file of millions of services would
    // hold millions of keys). A file's keys are unique (the validator's `duplicate_key`), so a
    // row is new when no earlier import took its key.
    let mut ids: HashMap<String, Uuid> = known_all
        .iter()
        .flatten()
        .map(|(k, s)| (k.clone(), s.target))
        .collect();
    if matches!(fs.name, "Client" | "Enrollment") {
        for (k, s) in known_all.iter().flatten() {
            if s.hash == repo::DEIDENTIFIED {
                run.deidentified.insert((fs.name, k.clone()));
            }
        }
    }
    if fs.name == "Enrollment" {
        for (k, s) in db.with(|c| repo::sources_of(c, run.agency, repo::HOUSEHOLD))? {
            run.households.insert(k, s.target);
        }
    }
    run.file_progress(fs.name);
    let mut pending = Pending::default();
    let run_agency = run.agency;
    let mut handle = |row: Row,
                      known: &HashMap<String, repo::Source>,
                      days: &HashMap<String, chrono::NaiveDate>|
     -> AppResult<()> {
        run.rows_read += 1;
        if run.rows_read.is_multiple_of(2_000) {
            progress_now(pool, run);
            progress(&run.progress);
        }
        run.file_progress(fs.name).read += 1;
        if !run.bad_rows.is_empty() && run.bad_rows.contains(&(fs.name.to_string(), row.line)) {
            run.file_progress(fs.name).skipped += 1;
            return Ok(());
        }
        let key = row_key(fs, &row);
        // A row its source marks deleted is not taken (an export's deleted rows are history);
        // one an earlier import took is removed, unless it is a record, stay, project or
        // organization (an import never deletes those).
        if row.get("DateDeleted").is_some_and(|d| !d.trim().is_empty()) {
            let key = key.as_str();
            let file = format!("{}.csv", fs.name);
            // Rows of a record or stay Hearth keeps are kept with it.
            let of_kept = [("Client", "PersonalID"), ("Enrollment", "EnrollmentID")]
                .iter()
                .any(|(parent, column)| {
                    fs.name != *parent
                        && row.get(column).is_some_and(|id| {
                            run.kept_deleted.contains(&(*parent, id.trim().to_string()))
                        })
                });
            let (code, msg) = match known.get(key) {
                None => {
                    run.file_progress(fs.name).skipped += 1;
                    (
                        "deleted_in_source",
                        "the source marks this row deleted: not imported",
                    )
                }
                Some(_) if KEPT_WHEN_DELETED.contains(&fs.name) || of_kept => {
                    if matches!(fs.name, "Client" | "Enrollment") {
                        run.kept_deleted.insert((fs.name, key.to_string()));
                    }
                    run.file_progress(fs.name).skipped += 1;
                    (
                        "deleted_in_source_kept",
                        "the source marks deleted a row an earlier import took: an import never \
                         deletes a record, stay, project or organization, nor the rows of a \
                         record or stay it keeps, so it is kept as it was",
                    )
                }
                Some(s) if s.hash == repo::DEIDENTIFIED => {
                    run.file_progress(fs.name).unchanged += 1;
                    DEIDENTIFIED_IN_HEARTH
                }
                Some(_) => {
                    // What waits is written first: the removal comes after it, as in the file.
                    db.flush(&mut pending)?;
                    remove_deleted(db, run, fs, key)?;
                    run.file_progress(fs.name).deleted += 1;
                    ids.remove(key);
                    (
                        "deleted_in_source_removed",
                        "the source marks deleted a row an earlier import took: removed",
                    )
                }
            };
            run.problem(
                &file,
                Some(row.line),
                Some("DateDeleted"),
                code,
                Severity::Warning,
                msg,
            );
            return Ok(());
        }
        if key.is_empty() {
            skip(
                run,
                fs,
                &row,
                Some(fs.key),
                "missing_key",
                "the row has no primary key",
            );
            return Ok(());
        }
        let hash = import_map::row_hash(&row);
        let before = known.get(&key);
        // A row of a record de-identified in Hearth is never written again (its kept row is
        // gone; only its source id and target remain, so it is not taken as new either); nor
        // is a row, new or moved, that names such a record or stay: the source's ids would tie
        // the anonymous record back to the person.
        let own = before.is_some_and(|s| s.hash == repo::DEIDENTIFIED);
        let names = if own {
            None
        } else {
            names_deidentified(run, fs, &row)
        };
        if own || names.is_some() {
            let p = run.file_progress(fs.name);
            if own {
                p.unchanged += 1;
            } else {
                p.skipped += 1;
            }
            let file = format!("{}.csv", fs.name);
            let (code, msg) = DEIDENTIFIED_IN_HEARTH;
            run.problem(&file, Some(row.line), names, code, Severity::Warning, msg);
            return Ok(());
        }
        if before.is_some_and(|s| s.hash == hash) {
            run.file_progress(fs.name).unchanged += 1;
            if fs.name == "Enrollment" {
                if let Some(e) = import_map::date_of(&row, "EntryDate") {
                    run.entry_dates
                        .insert(before.map(|s| s.target).unwrap_or_default(), e);
                }
            }
            return Ok(());
        }
        let mut invalid: Invalid = Vec::new();
        if let Some(cols) = (!run.code_cells.is_empty())
            .then(|| run.code_cells.get(&(fs.name.to_string(), row.line)))
            .flatten()
        {
            for c in fs
                .columns
                .iter()
                .filter(|c| cols.iter().any(|n| n == c.name))
            {
                invalid.push((c.name, row.get(c.name).unwrap_or_default().to_string()));
            }
        }
        let target = before.map(|s| s.target);
        pending.fresh = !known.contains_key(&key) && !ids.contains_key(&key);
        // A part of an Assessment is collected with it: the Assessment's day, not the day the
        // source created the row.
        run.dated_by = row
            .get("AssessmentID")
            .filter(|_| repo::ASSESSMENT_PARTS.contains(&fs.name))
            .and_then(|a| days.get(a.trim()))
            .copied();
        let written = match fs.name {
            "Organization" => import_map::organization(&row).map(|o| {
                keep(
                    &mut pending,
                    run,
                    &row,
                    &o.organization_id,
                    None,
                    None,
                    Some(run.agency),
                    &[],
                );
                Some(run.agency)
            }),
            "Project" => write_project(db, run, &mut pending, &row, target)?,
            "Client" => write_client(db, run, &mut pending, &row, target, &mut invalid)?,
            "Enrollment" => write_enrollment(db, run, &mut pending, &row, target, &mut invalid)?,
            "Exit" => write_exit(db, run, &mut pending, &row, &mut invalid)?,
            _ => write_whole(db, run, &mut pending, fs, &row, &key, target, &mut invalid)?,
        };
        match written {
            Ok(Some(target)) => {
                invalid.sort();
                invalid.dedup_by(|a, b| a.0 == b.0);
                for (col, value) in &invalid {
                    let file = format!("{}.csv", fs.name);
                    let message = if value == import_map::PII_WITHHELD {
                        // An unreadable SSN or DOB is personal identifying information: the
                        // record keeps none and the value is not recorded either.
                        "a value that cannot be read: not kept (personal identifying \
                         information: not recorded either); its data quality is 99 (not \
                         collected) unless the source sent 8 or 9"
                    } else {
                        "a value outside its code list: kept as not collected, the value recorded"
                    };
                    run.problem(
                        &file,
                        Some(row.line),
                        Some(col),
                        "kept_as_invalid",
                        Severity::Warning,
                        message,
                    );
                }
                let invalid_json = (!invalid.is_empty()).then(|| {
                    serde_json::Value::Object(
                        invalid
                            .iter()
                            .map(|(c, v)| (c.to_string(), serde_json::Value::String(v.clone())))
                            .collect(),
                    )
                });
                // The row was kept (every write keeps its row last): it carries its hash and
                // what was invalid in it, by which the next import knows it again.
                let kept = pending.last_kept();
                debug_assert_eq!(kept.source_id, key);
                kept.row_hash = hash;
                kept.invalid = invalid_json;
                if fs.name == "Assessment" && before.is_some() {
                    run.assessments_changed.push(key.clone());
                }
                if is_parent {
                    ids.insert(key, target);
                }
                let p = run.file_progress(fs.name);
                if before.is_some() {
                    p.updated += 1;
                } else {
                    p.created += 1;
                }
            }
            Ok(None) => {}
            Err(u) => {
                skip(run, fs, &row, Some(u.column), "not_imported", u.message);
                if run.strict {
                    // All or nothing: the transaction rolls back.
                    run.strict_refused = true;
                    return Err(AppError::BadRequest(
                        "strict mode: a row cannot be imported".into(),
                    ));
                }
            }
        }
        if pending.full() {
            db.flush(&mut pending)?;
        }
        Ok(())
    };
    let none = HashMap::new();
    let mut chunk = |rows: &mut Vec<Row>| -> AppResult<()> {
        let fetched;
        let known = match (&known_all, any_known) {
            (Some(all), _) => all,
            (None, true) => {
                let keys: Vec<String> = rows.iter().map(|r| row_key(fs, r)).collect();
                fetched = db.with(|c| repo::sources_of_keys(c, run_agency, fs.name, &keys))?;
                &fetched
            }
            (None, false) => &none,
        };
        // The days of the Assessments this chunk's questions or results belong to (written
        // before them: Assessment.csv comes first, in this import or an earlier one).
        let days = if repo::ASSESSMENT_PARTS.contains(&fs.name) {
            let mut named: Vec<String> = rows
                .iter()
                .filter_map(|r| r.get("AssessmentID").map(|a| a.trim().to_string()))
                .collect();
            named.sort();
            named.dedup();
            db.with(|c| repo::assessment_days(c, run_agency, &named))?
        } else {
            HashMap::new()
        };
        for row in rows.drain(..) {
            handle(row, known, &days)?;
        }
        Ok(())
    };
    let mut rows = Vec::with_capacity(LOOKUP_ROWS);
    set.rows(fs, |row| -> AppResult<()> {
        rows.push(row);
        if rows.len() >= LOOKUP_ROWS {
            chunk(&mut rows)?;
        }
        Ok(())
    })?;
    chunk(&mut rows)?;
    db.flush(&mut pending)?;
    // Questions and results an earlier import kept of an Assessment this one changed follow
    // its day (those of this import are dated as they are read).
    if fs.name == "Assessment" && !run.assessments_changed.is_empty() {
        let changed = std::mem::take(&mut run.assessments_changed);
        db.with(|c| repo::redate_assessment_parts(c, run.agency, &changed))?;
    }
    // Only the files other rows point to need their ids after they are written.
    if is_parent {
        run.ids.insert(fs.name, ids);
    }
    // Households serve the Enrollment file only, entry dates the Exit file (which follows it).
    match fs.name {
        "Enrollment" => run.households = HashMap::new(),
        "Exit" => run.entry_dates = HashMap::new(),
        _ => {}
    }
    progress(&run.progress);
    tracing::debug!(
        job = %run.job,
        file = fs.name,
        rows = run.progress.get(fs.name).map_or(0, |p| p.read),
        ms = started.elapsed().as_millis() as u64,
        "import file written"
    );
    Ok(())
}

type Written = Result<Option<Uuid>, Unusable>;

/// The warning on a row of a record de-identified in Hearth (the import leaves it as it is).
const DEIDENTIFIED_IN_HEARTH: (&str, &str) = (
    "deidentified_in_hearth",
    "the record this row belongs to was de-identified in Hearth: the import leaves it as it is",
);

/// The files whose rows an import never deletes when their source marks them deleted.
const KEPT_WHEN_DELETED: &[&str] = &["Organization", "Project", "Client", "Enrollment"];

/// Removes what an earlier import made of a source row now marked deleted: the kept row, and
/// the datum it became, or the exit of its stay.
fn remove_deleted(db: &Db, run: &mut Run, fs: &FileSpec, key: &str) -> AppResult<()> {
    let Some((target, stay)) = db.with(|c| repo::remove_kept(c, run.agency, fs.name, key))? else {
        return Ok(());
    };
    match (fs.name, target) {
        // The stay is open again, unless another Exit row of it is kept (its exit stands).
        ("Exit", Some(stay)) => {
            db.with(|c| -> diesel::QueryResult<()> {
                if !repo::has_kept_exit(c, stay)? {
                    repo::clear_exit(c, stay)?;
                }
                Ok(())
            })?;
            run.ce_stays.push(stay);
        }
        (_, Some(datum)) if stay.is_some() => {
            db.with(|c| repo::remove_datum(c, datum))?;
            run.ce_stays.extend(stay);
        }
        _ => {}
    }
    Ok(())
}

/// The files whose rows others point to (`parent`, `linked`).
const PARENT_FILES: &[&str] = &["Project", "Client", "Enrollment"];

/// Rows of a file looked up together in what earlier imports took (a re-import).
const LOOKUP_ROWS: usize = 10_000;

/// A row's source id (its file's key, trimmed).
fn row_key(fs: &FileSpec, row: &Row) -> String {
    row.get(fs.key)
        .map(str::trim)
        .unwrap_or_default()
        .to_string()
}

/// The column by which `row` names a record or stay de-identified in Hearth, if it does.
fn names_deidentified(run: &Run, fs: &FileSpec, row: &Row) -> Option<&'static str> {
    if run.deidentified.is_empty() {
        return None;
    }
    [("PersonalID", "Client"), ("EnrollmentID", "Enrollment")]
        .into_iter()
        .find(|(column, file)| {
            fs.name != *file
                && row
                    .get(column)
                    .is_some_and(|v| run.deidentified.contains(&(*file, v.trim().to_string())))
        })
        .map(|(column, _)| column)
}

fn parent(run: &Run, file: &str, key: Option<&str>) -> Option<Uuid> {
    run.ids.get(file)?.get(key?.trim()).copied()
}

fn write_project(
    db: &Db,
    run: &mut Run,
    pending: &mut Pending,
    row: &Row,
    before: Option<Uuid>,
) -> AppResult<Written> {
    let p = match import_map::project(row) {
        Ok(p) => p,
        Err(u) => return Ok(Err(u)),
    };
    // The source's stamps are the project's times, not the import's.
    let (created, updated) = (utc(p.date_created), utc(p.date_updated));
    let id = match before {
        Some(id) => {
            db.with(|c| repo::update_project(c, id, &p.name, p.project_type, created, updated))?;
            id
        }
        None => {
            let id = Uuid::now_v7();
            db.with(|c| {
                repo::insert_project(c, id, run.agency, &p.name, p.project_type, created, updated)
            })?;
            id
        }
    };
    keep(pending, run, row, &p.project_id, None, None, Some(id), &[]);
    Ok(Ok(Some(id)))
}

fn source_user(run: &Run, user: Option<&str>) -> String {
    match user {
        Some(u) => format!(
            "{}{}",
            crate::hmis_csv::export_map::IMPORTED_USER,
            u.chars().take(64).collect::<String>()
        ),
        None => run.actor.clone(),
    }
}

fn write_client(
    db: &Db,
    run: &mut Run,
    pending: &mut Pending,
    row: &Row,
    before: Option<Uuid>,
    invalid: &mut Invalid,
) -> AppResult<Written> {
    let now = Utc::now();
    let c = match import_map::client(row, invalid, now.date_naive()) {
        Ok(c) => c,
        Err(u) => return Ok(Err(u)),
    };
    // What the API would refuse is not kept: one warning per column, its code, never the value.
    for (column, code) in &c.not_kept {
        let message = if column.ends_with("DataQuality") {
            "a data quality code that does not go with the value kept: set as HUD would \
             (1 for nine digits, 2 for the last four; 2 for a DOB sent with a code for none, \
             99 for none sent with a code for one)"
        } else {
            "a value the API refuses: not kept; its data quality is 99 (not collected) \
             unless the source sent 8 or 9"
        };
        run.problem(
            "Client.csv",
            Some(row.line),
            Some(column),
            code,
            Severity::Warning,
            message,
        );
    }
    let named = c.identity.first_name.is_some() || c.identity.last_name.is_some();
    let identity = ImportedIdentity {
        identity_mode: if named {
            IdentityMode::Identified
        } else {
            IdentityMode::Anonymous
        },
        updated_at: utc(c.date_updated).unwrap_or(now),
        identity: c.identity,
    };
    let (id, action) = match before {
        Some(id) => {
            let created = utc(c.date_created);
            db.with(|conn| repo::update_client(conn, id, &identity, created))?;
            (id, "hmis_import_update")
        }
        None => {
            let id = Uuid::now_v7();
            pending.clients.push(repo::NewImportedClient {
                id,
                short_uid: crate::service::clients::draw_short_uid(),
                person_id: Uuid::now_v7(),
                coc_code: run.coc.clone(),
                created_by_agency: run.agency,
                created_by_user: source_user(run, c.user_id.as_deref()),
                visibility: Visibility::Closed,
                lifecycle: Lifecycle::Active,
                created_at: utc(c.date_created).unwrap_or(now),
                identity,
            });
            (id, "hmis_import_create")
        }
    };
    // Kept whole too (the columns Hearth has no field for), without the PII kept above.
    keep(
        pending,
        run,
        row,
        &c.personal_id,
        Some(id),
        None,
        Some(id),
        &[
            "FirstName",
            "MiddleName",
            "LastName",
            "NameSuffix",
            "SSN",
            "DOB",
        ],
    );
    pending.audit.push(NewAuditEvent {
        actor: run.actor.clone(),
        actor_agency_id: Some(run.agency),
        client_id: Some(id),
        action: action.into(),
        basis: None,
        request_id: run.request_id.clone(),
        access_reason: None,
        detail: Some(serde_json::json!({ "job": run.job })),
    });
    Ok(Ok(Some(id)))
}

fn write_enrollment(
    db: &Db,
    run: &mut Run,
    pending: &mut Pending,
    row: &Row,
    before: Option<Uuid>,
    invalid: &mut Invalid,
) -> AppResult<Written> {
    let e = match import_map::enrollment(row, invalid) {
        Ok(e) => e,
        Err(u) => return Ok(Err(u)),
    };
    let Some(client) = parent(run, "Client", Some(&e.personal_id)) else {
        return Ok(Err(Unusable {
            column: "PersonalID",
            message: "its client was not imported",
        }));
    };
    let Some(project) = parent(run, "Project", Some(&e.project_id)) else {
        return Ok(Err(Unusable {
            column: "ProjectID",
            message: "its project was not imported",
        }));
    };
    let household = match run.households.get(&e.household_id) {
        Some(h) => *h,
        None => {
            let h = Uuid::now_v7();
            // A household id never seen: new to Hearth.
            pending.new_households.push(repo::SourceRow {
                agency_id: run.agency,
                file: repo::HOUSEHOLD.into(),
                source_id: e.household_id.clone(),
                target_id: h,
                row_hash: String::new(),
                invalid: None,
            });
            run.households.insert(e.household_id.clone(), h);
            h
        }
    };
    let now = Utc::now();
    let mut stay = EnrollmentRow {
        id: before.unwrap_or_else(Uuid::now_v7),
        client_id: client,
        project_id: project,
        household_id: household,
        relationship_to_hoh: e.relationship_to_hoh,
        entry_date: e.entry_date,
        exit_date: None,
        destination: None,
        destination_subsidy_type: None,
        enrollment_coc: e.enrollment_coc,
        living_situation: e.living_situation,
        length_of_stay: e.length_of_stay,
        los_under_threshold: e.los_under_threshold,
        previous_street_essh: e.previous_street_essh,
        date_to_street_essh: e.date_to_street_essh,
        times_homeless_past_three_years: e.times_homeless_past_three_years,
        months_homeless_past_three_years: e.months_homeless_past_three_years,
        entry_assessment_required: false,
        entered_by_agency: run.agency,
        entered_by_user: source_user(run, e.user_id.as_deref()),
        collected_on: e.entry_date,
        version: 1,
        created_at: utc(e.date_created).unwrap_or(now),
        updated_at: utc(e.date_updated).unwrap_or(now),
    };
    let id = stay.id;
    match before
        .map(|id| db.with(|c| stays_repo::lock_enrollment(c, id)))
        .transpose()?
        .flatten()
    {
        // A changed row: its entry is rewritten; its exit stays as the Exit file has it.
        Some(old) => {
            stay.exit_date = old.exit_date;
            stay.destination = old.destination;
            stay.destination_subsidy_type = old.destination_subsidy_type;
            stay.version = old.version;
            // The source's stamps stay (DateCreated as the row gives it, else as it was).
            if e.date_created.is_none() {
                stay.created_at = old.created_at;
            }
            run.ce_before.push((old.client_id, old.project_id));
            db.with(|c| stays_repo::update_enrollment_stamped(c, &stay))?;
        }
        None => pending.stays.push(stay),
    }
    run.ce_stays.push(id);
    run.entry_dates.insert(id, e.entry_date);
    keep(
        pending,
        run,
        row,
        &e.enrollment_id,
        Some(client),
        Some(id),
        Some(id),
        &[],
    );
    Ok(Ok(Some(id)))
}

fn write_exit(
    db: &Db,
    run: &mut Run,
    pending: &mut Pending,
    row: &Row,
    invalid: &mut Invalid,
) -> AppResult<Written> {
    let x = match import_map::exit(row, invalid) {
        Ok(x) => x,
        Err(u) => return Ok(Err(u)),
    };
    let Some(stay) = parent(run, "Enrollment", Some(&x.enrollment_id)) else {
        return Ok(Err(Unusable {
            column: "EnrollmentID",
            message: "its enrollment was not imported",
        }));
    };
    let entry = match run.entry_dates.get(&stay) {
        Some(d) => Some(*d),
        None => db.with(|c| repo::entry_date_of(c, stay))?,
    };
    if entry.is_none_or(|entry| entry > x.exit_date) {
        return Ok(Err(Unusable {
            column: "ExitDate",
            message: "the exit date is before the entry date",
        }));
    }
    pending
        .exits
        .push((stay, x.exit_date, x.destination, x.destination_subsidy_type));
    run.ce_stays.push(stay);
    let client = parent(run, "Client", row.get("PersonalID"));
    keep(
        pending,
        run,
        row,
        &x.exit_id,
        client,
        Some(stay),
        Some(stay),
        &[],
    );
    Ok(Ok(Some(stay)))
}

/// A row of a file Hearth keeps whole: linked to its record and stay when it has them; a row
/// whose record or stay was not imported is skipped. Services (bed nights), current living
/// situations, CE assessments and CE events also become the stay datum of their kind.
#[allow(clippy::too_many_arguments)]
fn write_whole(
    db: &Db,
    run: &mut Run,
    pending: &mut Pending,
    fs: &'static FileSpec,
    row: &Row,
    key: &str,
    before: Option<Uuid>,
    invalid: &mut Invalid,
) -> AppResult<Written> {
    let client = match linked(
        run,
        fs,
        row,
        "PersonalID",
        "Client",
        "its client was not imported",
    ) {
        Ok(c) => c,
        Err(u) => return Ok(Err(u)),
    };
    let enrollment = match linked(
        run,
        fs,
        row,
        "EnrollmentID",
        "Enrollment",
        "its enrollment was not imported",
    ) {
        Ok(e) => e,
        Err(u) => return Ok(Err(u)),
    };
    // A typed datum: the source id finds it again.
    if let (Some(stay), Some(person)) = (enrollment, client) {
        if let Some((day, fields)) = import_map::stay_datum(row, invalid) {
            let json = fields.to_json();
            // The CE triggers look at assessments (and refusals, which no file carries).
            let ce = matches!(fields.kind_str(), "assessment" | "refusal");
            if let Some(id) = before {
                let created = utc(import_map::timestamp_of(row, "DateCreated"));
                if let Some(its_stay) =
                    db.with(|c| repo::update_datum(c, id, stay, person, day, &json, created))?
                {
                    // The row may have moved its datum to another stay: both are brought
                    // up to date.
                    if ce {
                        run.ce_stays.push(its_stay);
                        run.ce_stays.push(stay);
                    }
                    keep(pending, run, row, key, client, enrollment, Some(id), &[]);
                    return Ok(Ok(Some(id)));
                }
            }
            if ce {
                run.ce_stays.push(stay);
            }
            let id = Uuid::now_v7();
            pending.data.push(crate::repo::stays::DatumRow {
                id,
                kind: fields.kind_str().to_string(),
                enrollment_id: stay,
                client_id: person,
                occurred_on: day,
                fields: json,
                text: None,
                entered_by_agency: run.agency,
                entered_by_user: source_user(run, row.get("UserID")),
                collected_on: day,
                created_at: utc(import_map::timestamp_of(row, "DateCreated"))
                    .unwrap_or_else(Utc::now),
            });
            keep(pending, run, row, key, client, enrollment, Some(id), &[]);
            return Ok(Ok(Some(id)));
        }
    }
    // The target of a row kept only whole is what it hangs from: found again by its source key.
    keep(pending, run, row, key, client, enrollment, None, &[]);
    Ok(Ok(Some(enrollment.or(client).unwrap_or(run.agency))))
}

/// Keeps a source row whole (less the `skip` columns, which Hearth holds typed): `target` is the
/// Hearth row it became, if any, by which an export finds it again.
#[allow(clippy::too_many_arguments)]
fn keep(
    pending: &mut Pending,
    run: &Run,
    row: &Row,
    source_id: &str,
    client: Option<Uuid>,
    enrollment: Option<Uuid>,
    target: Option<Uuid>,
    skip: &[&str],
) {
    let rows = if pending.fresh {
        &mut pending.new_whole
    } else {
        &mut pending.whole
    };
    rows.push(repo::WholeRow {
        agency_id: run.agency,
        file: row.file.name.to_string(),
        source_id: source_id.trim().to_string(),
        // A stay's rows reach their record through the stay.
        client_id: if enrollment.is_some() { None } else { client },
        enrollment_id: enrollment,
        fields: repo::JsonText(crate::hmis_csv::kept::encode(row, skip)),
        target_id: target,
        collected_on: run.dated_by.or_else(|| import_map::collected_on(row)),
        // Set once the row is written (`import_file`).
        row_hash: String::new(),
        invalid: None,
    });
}

/// The Hearth id of what `column` of the row points to in `file`: none when the file has no
/// such column or the row leaves it empty; unusable when it points to a row not imported.
fn linked(
    run: &Run,
    fs: &FileSpec,
    row: &Row,
    column: &'static str,
    file: &str,
    missing: &'static str,
) -> Result<Option<Uuid>, Unusable> {
    if !fs.columns.iter().any(|c| c.name == column) || row.get(column).is_none() {
        return Ok(None);
    }
    parent(run, file, row.get(column))
        .map(Some)
        .ok_or(Unusable {
            column,
            message: missing,
        })
}

/// Where an upload waits for its job: a file of its own under the system temp dir.
pub fn upload_path(job_hint: Uuid) -> PathBuf {
    std::env::temp_dir().join(format!("hearth-import-{job_hint}.zip"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parents_come_first() {
        for v in [Version::Fy2024, Version::Fy2026] {
            let names: Vec<&str> = order(Spec::get(v)).iter().map(|f| f.name).collect();
            assert_eq!(
                &names[..5],
                &["Organization", "Project", "Client", "Enrollment", "Exit"]
            );
            assert_eq!(names.len(), 23, "every file but Export: {names:?}");
        }
    }
}
