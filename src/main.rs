//! The `hearth` command: serve, migrate, token, demo, openapi, validate-csv, export-csv,
//! sample-csv, import-csv.

use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use hearth::auth::{parse_ttl, AuthConfig};
use hearth::config::Config;
use hearth::consent::Role;
use hearth::db::{build_pool_keeping, run_migrations, SessionSettings};
use hearth::{AppState, Database};
use uuid::Uuid;

#[derive(Parser)]
#[command(
    name = "hearth",
    version,
    about = "HMIS client records with a consent engine"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP service (migrations are applied first).
    Serve {
        /// Load the demo data before serving.
        #[arg(long)]
        demo: bool,
    },
    /// Apply pending migrations and exit.
    Migrate,
    /// Print a JWT signed with the configured HS256 secret (development, demos, tests).
    Token {
        #[arg(long)]
        sub: String,
        /// A role; repeat for several (case_worker, agency_admin, coc_admin, ce_assessor,
        /// system_admin, priority_list_reader).
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
        #[arg(long)]
        agency: Option<Uuid>,
        #[arg(long, default_value = "1h")]
        ttl: String,
    },
    /// Load the demo data (idempotent) and print who is who.
    Demo {
        /// Also import a generated HUD HMIS CSV export of this many clients into the demo agency
        /// Lakeshore Shelter Network (IL-510), through the same import as `import-csv`.
        #[arg(long, value_name = "CLIENTS")]
        hmis_csv_clients: Option<usize>,
    },
    /// Print the OpenAPI document the service serves.
    Openapi,
    /// Check a HUD HMIS CSV export (a directory or a zip) against the spec; exits non-zero on errors.
    ValidateCsv {
        /// A directory of .csv files or a .zip of them.
        path: std::path::PathBuf,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Export a CoC's data as HUD HMIS CSV (a zip), as a system administrator would over HTTP
    /// (every record in full, audited as a break-glass read with --reason), then validate it.
    ExportCsv {
        /// HUD CoC code (IL-510).
        #[arg(long)]
        coc: String,
        /// First day of the window, YYYY-MM-DD.
        #[arg(long)]
        start: String,
        /// Last day of the window, YYYY-MM-DD.
        #[arg(long)]
        end: String,
        /// 2026 (FY2026) or 2024 (FY2024).
        #[arg(long, default_value = "2026")]
        version: String,
        /// The zip to write (written beside it first, renamed when complete).
        #[arg(long)]
        out: std::path::PathBuf,
        /// Why the export is made: recorded in every audit row.
        #[arg(long, default_value = "hearth export-csv (command line)")]
        reason: String,
        /// Print the validation report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Write a generated HUD HMIS CSV export (every file filled) as a zip: for trying an
    /// import, and for the import benchmark.
    SampleCsv {
        /// How many clients (each with `--stays` enrollments and a row in every enrollment-level
        /// file per enrollment).
        #[arg(long, default_value_t = 100)]
        clients: usize,
        /// Enrollments per client.
        #[arg(long, default_value_t = 1)]
        stays: usize,
        /// The CoC code of the projects and enrollments.
        #[arg(long, default_value = "IL-510")]
        coc: String,
        /// 2026 or 2024.
        #[arg(long, default_value = "2026")]
        version: String,
        /// Where to write the zip.
        #[arg(long)]
        out: std::path::PathBuf,
    },
    /// Import a HUD HMIS CSV export (a directory or a zip) into an agency, as
    /// `POST /v1/imports/hmis-csv` does; exits non-zero when the import fails.
    ImportCsv {
        /// A directory of .csv files or a .zip of them.
        path: std::path::PathBuf,
        /// The agency the records are imported into.
        #[arg(long)]
        agency: Uuid,
        /// strict (all or nothing) or lenient (the good rows and a report).
        #[arg(long, default_value = "strict")]
        mode: String,
        /// Print the finished job as JSON.
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => return fail(&e.to_string()),
    };
    hearth::telemetry::init(config.log_json);
    let result = match cli.command {
        Command::Serve { demo } => serve(&config, demo),
        Command::Migrate => with_database(&config, |_, _| Ok(())),
        Command::Token {
            sub,
            roles,
            agency,
            ttl,
        } => token(&config, &sub, &roles, agency, &ttl),
        Command::Demo { hmis_csv_clients } => with_database(&config, |pool, _| {
            let mut conn = pool.get().map_err(|e| e.to_string())?;
            let added = hearth::demo::load(&mut conn).map_err(|e| e.to_string())?;
            drop(conn);
            println!(
                "Demo data: {added} rows added.\n{}",
                hearth::demo::summary()
            );
            if let Some(n) = hmis_csv_clients {
                demo_hmis_csv(pool, n)?;
            }
            Ok(())
        }),
        Command::Openapi => {
            let doc = hearth::api::openapi();
            doc.to_pretty_json()
                .map(|s| println!("{s}"))
                .map_err(|e| e.to_string())
        }
        Command::ValidateCsv { path, json } => validate_csv(&path, json),
        Command::ExportCsv {
            coc,
            start,
            end,
            version,
            out,
            reason,
            json,
        } => with_database(&config, |pool, _| {
            export_csv(pool, &coc, &start, &end, &version, &out, &reason)?;
            validate_csv(&out, json)
        }),
        Command::SampleCsv {
            clients,
            stays,
            coc,
            version,
            out,
        } => sample_csv(clients, stays, &coc, &version, &out),
        Command::ImportCsv {
            path,
            agency,
            mode,
            json,
        } => with_database(&config, |pool, _| {
            import_csv(pool, &path, agency, &mode, json)
        }),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}

fn validate_csv(path: &std::path::Path, json: bool) -> Result<(), String> {
    use hearth::hmis_csv::{validate_path, Limits, Severity};
    use std::io::Write;
    let report = validate_path(path, &Limits::default());
    // A reader that stops early (`| head`) ends the listing, not the verdict.
    let mut out = std::io::stdout().lock();
    let printed = if json {
        serde_json::to_string_pretty(&report)
            .map_err(|e| e.to_string())
            .map(|text| writeln!(out, "{text}"))?
    } else {
        let mut printed = Ok(());
        for p in &report.problems {
            let sev = match p.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
            };
            let line = p.line.map(|l| format!(":{l}")).unwrap_or_default();
            let col = p
                .column
                .as_deref()
                .map(|c| format!(" [{c}]"))
                .unwrap_or_default();
            printed = writeln!(out, "{sev} {}{line}{col} {}: {}", p.file, p.code, p.message);
            if printed.is_err() {
                break;
            }
        }
        if printed.is_ok() && report.dropped > 0 {
            printed = writeln!(out, "... and {} more problems not shown", report.dropped);
        }
        printed
    };
    if let Err(e) = printed {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            return Err(format!("cannot write the report: {e}"));
        }
    }
    match (report.errors, report.version) {
        (0, v) => {
            eprintln!("valid ({v:?}); {} warnings", report.warnings);
            Ok(())
        }
        (n, _) => Err(format!("{n} errors, {} warnings", report.warnings)),
    }
}

/// Progress on stderr, on a terminal only: the file and its rows, rewritten in place.
struct TerminalProgress {
    on: bool,
    last: std::time::Instant,
}

impl hearth::service::hmis_export::Progress for TerminalProgress {
    fn rows(&mut self, file: &str, rows: u64) {
        if self.on && self.last.elapsed() >= std::time::Duration::from_millis(200) {
            self.last = std::time::Instant::now();
            eprint!("\r\x1b[Kexporting {file}.csv: {rows} rows");
        }
    }
}

fn export_csv(
    pool: &hearth::db::DbPool,
    coc: &str,
    start: &str,
    end: &str,
    version: &str,
    out: &std::path::Path,
    reason: &str,
) -> Result<(), String> {
    use hearth::service::hmis_export;
    use std::io::IsTerminal;
    let problem = |e: hearth::error::AppError| match &e {
        hearth::error::AppError::Validation(errs) => errs
            .iter()
            .map(|f| f.message.clone())
            .collect::<Vec<_>>()
            .join(" "),
        hearth::error::AppError::NotFound => format!("no CoC {coc}"),
        _ => e.to_string(),
    };
    let request = hmis_export::parse_request(Some(coc), Some(start), Some(end), Some(version))
        .map_err(problem)?;
    let operator = std::env::var("USER").unwrap_or_else(|_| "operator".into());
    let caller = hearth::service::context::Caller::new(
        hearth::auth::Principal {
            sub: format!("cli:{operator}"),
            agency_id: None,
            roles: vec![Role::SystemAdmin],
        },
        format!("cli-{}", Uuid::now_v7()),
        // The reason goes into the audit trail: the same check as the header's.
        Some(hearth::service::context::access_reason(reason).map_err(problem)?),
    );
    let mut conn = pool.get().map_err(|e| e.to_string())?;
    let plan = hmis_export::prepare(&mut conn, &caller, request).map_err(problem)?;
    let partial = out.with_extension("zip.partial");
    let file = std::fs::File::create(&partial)
        .map_err(|e| format!("cannot create {}: {e}", partial.display()))?;
    let mut progress = TerminalProgress {
        on: std::io::stderr().is_terminal(),
        last: std::time::Instant::now(),
    };
    let written = hmis_export::write(
        &mut conn,
        &plan,
        std::io::BufWriter::with_capacity(1 << 16, file),
        &mut progress,
    );
    if progress.on {
        eprint!("\r\x1b[K");
    }
    let (summary, buf) = match written {
        Ok(w) => w,
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            return Err(problem(e));
        }
    };
    let file = buf.into_inner().map_err(|e| e.to_string())?;
    file.sync_all().map_err(|e| e.to_string())?;
    std::fs::rename(&partial, out).map_err(|e| e.to_string())?;
    eprintln!(
        "{}: export {} ({} clients read in full, audited)",
        out.display(),
        summary.export_id,
        plan.full_reads
    );
    for (name, rows) in summary.files.iter().filter(|(_, n)| *n > 0) {
        eprintln!("  {name}: {rows} rows");
    }
    Ok(())
}

/// The command line's principal for imports: a system administrator, named as such in audit.
fn cli_caller(what: &str) -> hearth::service::context::Caller {
    hearth::service::context::Caller::new(
        hearth::auth::Principal {
            sub: "hearth-cli".into(),
            agency_id: None,
            roles: vec![Role::SystemAdmin],
        },
        format!("cli-{what}"),
        None,
    )
}

fn import_csv(
    pool: &hearth::db::DbPool,
    path: &std::path::Path,
    agency: Uuid,
    mode: &str,
    json: bool,
) -> Result<(), String> {
    use hearth::service::hmis_import::{self, ImportMode, ImportStatus};
    let mode = ImportMode::parse(mode)
        .ok_or_else(|| format!("--mode is strict or lenient, not {mode:?}"))?;
    if !path.exists() {
        return Err(format!("{} does not exist", path.display()));
    }
    let caller = cli_caller("import");
    let mut conn = pool.get().map_err(|e| e.to_string())?;
    let job = hmis_import::submit(&mut conn, &caller, agency, mode).map_err(|e| e.to_string())?;
    drop(conn);
    let bar = std::io::IsTerminal::is_terminal(&std::io::stderr());
    // The file being read is the one whose rows grew since the last call.
    let mut seen: std::collections::HashMap<String, u64> = std::collections::HashMap::new();
    let mut current = (String::new(), 0u64);
    let mut draw = |p: &hmis_import::Progress| {
        if !bar {
            return;
        }
        for (f, r) in p {
            if seen.insert(f.clone(), r.read) != Some(r.read) {
                current = (f.clone(), r.read);
            }
        }
        let (file, rows) = (current.0.as_str(), current.1);
        let total: u64 = p.values().map(|r| r.read).sum();
        let done = p.len();
        let width = 30;
        let filled = (done * width / 23).min(width);
        eprint!(
            "\r[{}{}] {done}/23 files, {total} rows ({file}: {rows})   ",
            "#".repeat(filled),
            " ".repeat(width - filled)
        );
    };
    hmis_import::run_with(pool, &caller, job.id, path, false, &mut draw);
    if bar {
        eprintln!();
    }
    let mut conn = pool.get().map_err(|e| e.to_string())?;
    let job = hmis_import::get(&mut conn, &caller, job.id).map_err(|e| e.to_string())?;
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&job).map_err(|e| e.to_string())?
        );
    } else {
        for p in &job.problems {
            let line = p.line.map(|l| format!(":{l}")).unwrap_or_default();
            let col = p
                .column
                .as_deref()
                .map(|c| format!(" [{c}]"))
                .unwrap_or_default();
            println!(
                "{} {}{line}{col} {}: {}",
                p.severity, p.file, p.code, p.message
            );
        }
        let more = (job.problem_count as usize).saturating_sub(job.problems.len());
        if more > 0 {
            println!("... and {more} more problems not shown (the job keeps the first ones)");
        }
        for (file, r) in &job.progress {
            println!(
                "{file}: {} read, {} created, {} updated, {} unchanged, {} skipped, {} deleted",
                r.read, r.created, r.updated, r.unchanged, r.skipped, r.deleted
            );
        }
    }
    let outcome = job.outcome.clone().unwrap_or_default();
    eprintln!("import {}: {outcome}", job.id);
    match job.status {
        ImportStatus::Succeeded => Ok(()),
        _ => Err(outcome),
    }
}

fn sample_csv(
    clients: usize,
    stays: usize,
    coc: &str,
    version: &str,
    out: &std::path::Path,
) -> Result<(), String> {
    use hearth::hmis_csv::{sample, Version};
    let version = match version {
        "2026" => Version::Fy2026,
        "2024" => Version::Fy2024,
        other => return Err(format!("--version is 2026 or 2024, not {other:?}")),
    };
    let files = sample::generate_with(version, clients, stays, coc);
    std::fs::write(out, sample::zip(&files)).map_err(|e| format!("{}: {e}", out.display()))?;
    eprintln!(
        "wrote {} ({clients} clients, {stays} enrollments each)",
        out.display()
    );
    Ok(())
}

/// `hearth demo --hmis-csv-clients N`: a generated export imported into a demo agency.
fn demo_hmis_csv(pool: &hearth::db::DbPool, clients: usize) -> Result<(), String> {
    use hearth::hmis_csv::{sample, Version};
    let files = sample::generate(Version::Fy2026, clients, hearth::demo::CHICAGO);
    let path = std::env::temp_dir().join(format!("hearth-demo-hmis-{}.zip", std::process::id()));
    std::fs::write(&path, sample::zip(&files)).map_err(|e| e.to_string())?;
    let agency = hearth::demo::agencies()[0].id;
    println!("Importing a generated HMIS CSV export of {clients} clients into {agency}:");
    let result = import_csv(pool, &path, agency, "strict", false);
    let _ = std::fs::remove_file(&path);
    result
}

fn fail(msg: &str) -> ExitCode {
    eprintln!("hearth: {msg}");
    ExitCode::FAILURE
}

fn token(
    config: &Config,
    sub: &str,
    roles: &[String],
    agency: Option<Uuid>,
    ttl: &str,
) -> Result<(), String> {
    let roles = roles
        .iter()
        .map(|r| Role::parse(r).ok_or_else(|| format!("unknown role {r:?}")))
        .collect::<Result<Vec<_>, _>>()?;
    if agency.is_none() && roles.iter().any(|r| *r != Role::SystemAdmin) {
        return Err("every role but system_admin needs --agency".into());
    }
    let secret = config.resolve_jwt_secret().map_err(|e| e.to_string())?;
    let auth = AuthConfig::new(
        Some(&secret),
        None,
        &config.jwt_issuer,
        &config.jwt_audience,
    )?;
    println!("{}", auth.mint(sub, &roles, agency, parse_ttl(ttl)?)?);
    Ok(())
}

/// Opens the database (embedded when no DATABASE_URL), migrates, runs `f`, and stops an
/// embedded cluster this process started.
fn with_database(
    config: &Config,
    f: impl FnOnce(&hearth::db::DbPool, &Database) -> Result<(), String>,
) -> Result<(), String> {
    with_database_keeping(config, 0, f)
}

/// `min_idle`: connections the pool keeps open in the background (the server's; a command
/// that runs and exits keeps none, `db::build_pool_keeping`).
fn with_database_keeping(
    config: &Config,
    min_idle: u32,
    f: impl FnOnce(&hearth::db::DbPool, &Database) -> Result<(), String>,
) -> Result<(), String> {
    let db = Database::open(config)?;
    let result = (|| {
        let pool = build_pool_keeping(
            &db.url,
            config.pool_size,
            min_idle,
            config.pool_checkout_timeout,
            SessionSettings {
                statement_timeout: config.statement_timeout,
                test_transaction: false,
            },
        )?;
        let mut conn = pool
            .get()
            .map_err(|e| format!("cannot connect to the database: {e}"))?;
        let n = run_migrations(&mut conn)?;
        if n > 0 {
            tracing::info!(applied = n, "migrations applied");
        }
        drop(conn);
        f(&pool, &db)
    })();
    db.close();
    result
}

fn serve(config: &Config, demo: bool) -> Result<(), String> {
    with_database_keeping(config, 2, |pool, db| {
        {
            let mut conn = pool.get().map_err(|e| e.to_string())?;
            let n = hearth::service::hmis_import::fail_interrupted(&mut conn)
                .map_err(|e| e.to_string())?;
            if n > 0 {
                tracing::warn!(
                    jobs = n,
                    "import jobs left unfinished by a stop were failed"
                );
            }
        }
        if demo {
            let mut conn = pool.get().map_err(|e| e.to_string())?;
            let added = hearth::demo::load(&mut conn).map_err(|e| e.to_string())?;
            tracing::info!(rows_added = added, "demo data loaded");
            println!("{}", hearth::demo::summary());
        }
        let secret = match (&config.jwt_secret, &config.jwt_public_key_pem) {
            (None, Some(_)) => None,
            _ => Some(config.resolve_jwt_secret().map_err(|e| e.to_string())?),
        };
        let auth = AuthConfig::new(
            secret.as_deref(),
            config.jwt_public_key_pem.as_deref(),
            &config.jwt_issuer,
            &config.jwt_audience,
        )?;
        let state = AppState {
            pool: pool.clone(),
            auth: Arc::new(auth),
            metrics: Arc::new(hearth::api::ops::Metrics::new()),
            max_body_bytes: config.max_body_bytes,
            import_max_bytes: config.import_max_bytes,
        };
        if db.embedded.is_some() {
            tracing::info!(
                "using the embedded PostgreSQL under {}",
                config.data_dir.display()
            );
        }
        tracing::info!(bind = %config.bind, "hearth listening");
        let bind = config.bind.clone();
        let workers = config.workers;
        actix_web::rt::System::new()
            .block_on(async move {
                // Signals are ours, not actix's: actix would stop at once on SIGINT, cutting
                // requests in flight; ours stops gracefully on SIGINT as on SIGTERM.
                let server = hearth::api::server::run(
                    &bind,
                    hearth::api::server::ServerOptions {
                        workers,
                        shutdown_timeout_secs: SHUTDOWN_TIMEOUT_SECS,
                    },
                    state,
                )?;
                actix_web::rt::spawn(stop_on_signals(server.handle()));
                server.await
            })
            .map_err(|e| format!("server error: {e}"))
    })
}

/// How long a graceful stop waits for requests in flight.
const SHUTDOWN_TIMEOUT_SECS: u64 = 20;

/// SIGINT (Ctrl-C) and SIGTERM stop the server gracefully: it accepts no new connection, lets
/// requests in flight finish within the shutdown timeout, and then `serve` returns, which stops
/// an embedded cluster. SIGQUIT stops without waiting for requests in flight (as actix does).
async fn stop_on_signals(server: actix_web::dev::ServerHandle) {
    use actix_web::rt::signal::unix::{signal, SignalKind};
    use futures_util::future::{select, Either};
    let (Ok(mut int), Ok(mut term), Ok(mut quit)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
        signal(SignalKind::quit()),
    ) else {
        tracing::error!("cannot install signal handlers; stop hearth with SIGKILL");
        return;
    };
    let mut stopping = false;
    loop {
        let stop = select(Box::pin(int.recv()), Box::pin(term.recv()));
        let (name, graceful) = match select(stop, Box::pin(quit.recv())).await {
            Either::Left((Either::Left(_), _)) => ("SIGINT", true),
            Either::Left((Either::Right(_), _)) => ("SIGTERM", true),
            Either::Right(_) => ("SIGQUIT", false),
        };
        if stopping {
            tracing::info!(signal = name, "already stopping");
            continue;
        }
        stopping = true;
        if graceful {
            tracing::info!(
                signal = name,
                timeout_secs = SHUTDOWN_TIMEOUT_SECS,
                "stopping: finishing requests in flight"
            );
        } else {
            tracing::info!(
                signal = name,
                "stopping without waiting for requests in flight"
            );
        }
        // The command is sent now; the future only waits for the stop to complete.
        drop(server.stop(graceful));
    }
}
