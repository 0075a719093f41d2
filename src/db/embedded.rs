//! A private PostgreSQL cluster for running without DATABASE_URL, and for tests.
//!
//! It uses the system's server binaries (Debian keeps them off PATH). As root it runs
//! them as an unprivileged user, because initdb and postgres refuse to run as root.
//! The server listens only on 127.0.0.1 with trust auth, so any local user can reach it.

use std::ffi::OsStr;
use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use std::{env, thread};

use tracing::{info, warn};

const DEBIAN_ROOT: &str = "/usr/lib/postgresql";
const FALLBACK_USER: &str = "hearth-pg";
// Unix socket paths are limited to 107 bytes, and postgres appends "/.s.PGSQL.NNNNN.lock".
const MAX_SOCKET_DIR_LEN: usize = 90;
const FAST_OPTS: &str = " -c fsync=off -c synchronous_commit=off -c full_page_writes=off";

#[derive(Debug, Clone)]
pub struct EmbeddedOptions {
    pub data_dir: PathBuf,
    /// fsync, synchronous_commit and full_page_writes off: for throwaway test clusters only.
    pub fast_unsafe: bool,
    /// None picks a free loopback port.
    pub port: Option<u16>,
}

#[derive(Debug)]
pub struct EmbeddedPostgres {
    data_dir: PathBuf,
    port: u16,
    bin_dir: PathBuf,
    run_as: Option<String>,
    started_here: bool,
    tmp_socket_dir: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum EmbeddedError {
    #[error("PostgreSQL server binaries not found (looked in HEARTH_PG_BIN_DIR, /usr/lib/postgresql/*/bin and PATH); install them with scripts/ensure-deps.sh (on Debian: the postgresql-NN package, without a system cluster), or set DATABASE_URL")]
    NotInstalled,
    #[error("HEARTH_PG_BIN_DIR={0} lacks initdb, pg_ctl or postgres; point it at a PostgreSQL bin directory or unset it")]
    BadBinDir(PathBuf),
    #[error("PostgreSQL runs as user `{user}`, which cannot traverse {blocked} to reach {data_dir}; set HEARTH_DATA_DIR to a directory it can reach (e.g. under /var/lib), or unset it to use the default, /var/lib/hearth as root")]
    NotTraversable {
        user: String,
        blocked: PathBuf,
        data_dir: PathBuf,
    },
    #[error("cannot {what}: {source}")]
    Io { what: String, source: io::Error },
    #[error("`{cmd}` failed: {detail}")]
    Command { cmd: String, detail: String },
    #[error("PostgreSQL did not start: {detail} (full log: {log})")]
    StartFailed { detail: String, log: PathBuf },
    #[error("PostgreSQL (pid {pid}) holds {data_dir} but does not answer on 127.0.0.1; stop it with `pg_ctl -D {data_dir} stop -m fast` and retry")]
    NotResponding { pid: i32, data_dir: PathBuf },
    #[error("invalid database name {0:?}: use 1 to 63 bytes and no NUL")]
    InvalidDatabaseName(String),
}

type Result<T, E = EmbeddedError> = std::result::Result<T, E>;

impl EmbeddedPostgres {
    pub fn start_or_reuse(opts: &EmbeddedOptions) -> Result<Self> {
        let data_dir = std::path::absolute(&opts.data_dir).map_err(io_err("resolve data dir"))?;
        let parent = data_dir.parent().unwrap_or(Path::new("/")).to_path_buf();
        let name = data_dir
            .file_name()
            .unwrap_or(OsStr::new("pg"))
            .to_string_lossy();
        fs::create_dir_all(&parent).map_err(io_err(format!("create {}", parent.display())))?;
        let _lock = lock(&parent.join(format!("{name}.lock")))?;
        // Named after the data dir so that clusters sharing a parent do not share a log.
        let log = parent.join(format!("{name}.log"));
        let bin_dir = bin_dir_for(&data_dir)?;
        let mut pg = Self {
            data_dir,
            port: 0,
            bin_dir,
            run_as: None,
            started_here: false,
            tmp_socket_dir: None,
        };
        if let Some(port) = pg.probe_running()? {
            info!(port, data_dir = %pg.data_dir.display(), "reusing running PostgreSQL");
            pg.port = port;
            return Ok(pg);
        }
        let user = (unsafe { libc::geteuid() } == 0)
            .then(|| choose_user(&pg.data_dir))
            .transpose()?;
        pg.run_as = user.as_ref().map(|u| u.name.clone());
        pg.prepare(&log, user.as_ref())?;
        if !pg.data_dir.join("PG_VERSION").exists() {
            pg.initdb(opts.fast_unsafe)?;
        }
        let socket_dir = pg.socket_dir(user.as_ref())?;
        for attempt in 1.. {
            pg.port = opts.port.map_or_else(free_port, Ok)?;
            let Err(e) = pg.pg_ctl_start(&log, &socket_dir, opts.fast_unsafe) else {
                break;
            };
            // A free port can be taken by someone else between our probe and postgres's bind.
            let port_taken = matches!(&e, EmbeddedError::StartFailed { detail, .. }
                if detail.contains("could not create any TCP/IP sockets"));
            if !port_taken || opts.port.is_some() || attempt == 3 {
                pg.remove_tmp_socket_dir();
                return Err(e);
            }
            warn!(
                port = pg.port,
                "port was taken meanwhile; retrying with another"
            );
        }
        pg.started_here = true;
        info!(port = pg.port, data_dir = %pg.data_dir.display(), "started PostgreSQL");
        Ok(pg)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn database_url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    pub fn ensure_database(&self, database: &str) -> Result<()> {
        if database.is_empty() || database.len() > 63 || database.contains('\0') {
            return Err(EmbeddedError::InvalidDatabaseName(database.to_string()));
        }
        if self.database_exists(database)? {
            return Ok(());
        }
        let cmd = self.psql(&format!(
            "CREATE DATABASE \"{}\"",
            database.replace('"', "\"\"")
        ));
        let desc = describe(&cmd);
        let out = run(cmd)?;
        // A racing process may have created it first: that surfaces as "already exists" or as
        // a unique violation on pg_database, so trust the catalogue rather than the message.
        if out.status.success() || self.database_exists(database)? {
            info!(database, "database ready");
            return Ok(());
        }
        Err(cmd_err(desc, &out))
    }

    pub fn started_here(&self) -> bool {
        self.started_here
    }

    pub fn stop(&self) -> Result<()> {
        if !self.started_here {
            return Ok(());
        }
        let mut cmd = command(&self.bin_dir.join("pg_ctl"), self.run_as.as_deref());
        cmd.arg("-D")
            .arg(&self.data_dir)
            .args("-m fast -w -t 60 stop".split(' '));
        let desc = describe(&cmd);
        let out = run(cmd)?;
        // Stopping twice, or after someone else stopped it, is not an error.
        if !out.status.success() && self.data_dir.join("postmaster.pid").exists() {
            return Err(cmd_err(desc, &out));
        }
        self.remove_tmp_socket_dir();
        info!(port = self.port, "stopped PostgreSQL");
        Ok(())
    }

    pub fn find_bin_dir() -> Result<PathBuf> {
        if let Some(dir) = env::var_os("HEARTH_PG_BIN_DIR").filter(|d| !d.is_empty()) {
            let dir = PathBuf::from(dir);
            return has_server(&dir)
                .then_some(dir.clone())
                .ok_or(EmbeddedError::BadBinDir(dir));
        }
        let mut best: Option<(Vec<u32>, PathBuf)> = None;
        for entry in fs::read_dir(DEBIAN_ROOT).into_iter().flatten().flatten() {
            let bin = entry.path().join("bin");
            let version = entry.file_name().to_str().and_then(parse_version);
            if let Some(v) = version.filter(|_| has_server(&bin)) {
                if best.as_ref().is_none_or(|(b, _)| v > *b) {
                    best = Some((v, bin));
                }
            }
        }
        let on_path =
            || env::split_paths(&env::var_os("PATH").unwrap_or_default()).find(|d| has_server(d));
        best.map(|(_, bin)| bin)
            .or_else(on_path)
            .ok_or(EmbeddedError::NotInstalled)
    }

    /// Port of a live postmaster on our data dir; removes a stale postmaster.pid.
    fn probe_running(&self) -> Result<Option<u16>> {
        let pid_file = self.data_dir.join("postmaster.pid");
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let text = match fs::read_to_string(&pid_file) {
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
                other => other.map_err(io_err(format!("read {}", pid_file.display())))?,
            };
            let lines: Vec<&str> = text.lines().map(str::trim).collect();
            let pid = lines
                .first()
                .and_then(|l| l.parse::<i32>().ok())
                .filter(|p| *p > 0);
            let late = Instant::now() > deadline;
            // An unparsable file may be one being written right now; only time makes it stale.
            if pid.map_or(late, |pid| !self.is_our_postmaster(pid)) {
                warn!(path = %pid_file.display(), "removing stale postmaster.pid");
                return match fs::remove_file(&pid_file) {
                    Err(e) if e.kind() != io::ErrorKind::NotFound => {
                        Err(io_err(format!("remove {}", pid_file.display()))(e))
                    }
                    _ => Ok(None),
                };
            }
            if let Some(port) = lines.get(3).and_then(|l| l.parse::<u16>().ok()) {
                if self.is_ready(port) {
                    return Ok(Some(port));
                }
            }
            if let (Some(pid), true) = (pid, late) {
                return Err(EmbeddedError::NotResponding {
                    pid,
                    data_dir: self.data_dir.clone(),
                });
            }
            thread::sleep(Duration::from_millis(250));
        }
    }

    fn is_our_postmaster(&self, pid: i32) -> bool {
        // After a crash or reboot the pid may belong to an unrelated process, even another
        // cluster's postmaster; ours is the postgres whose working directory is our data dir.
        let comm = fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        let cwd = fs::read_link(format!("/proc/{pid}/cwd")).ok();
        matches!(comm.trim(), "postgres" | "postmaster")
            && cwd == fs::canonicalize(&self.data_dir).ok()
    }

    fn is_ready(&self, port: u16) -> bool {
        let mut cmd = command(&self.bin_dir.join("pg_isready"), None);
        cmd.args(["-q", "-h", "127.0.0.1", "-t", "3", "-p", &port.to_string()]);
        run(cmd).is_ok_and(|o| o.status.success())
    }

    fn prepare(&self, log: &Path, user: Option<&RunAs>) -> Result<()> {
        let dir = &self.data_dir;
        if let Err(e) = fs::DirBuilder::new().mode(0o700).create(dir) {
            if e.kind() != io::ErrorKind::AlreadyExists {
                return Err(io_err(format!("create {}", dir.display()))(e));
            }
        }
        let log_file = OpenOptions::new().create(true).append(true).open(log);
        log_file.map_err(io_err(format!("create {}", log.display())))?;
        let Some(user) = user else { return Ok(()) };
        // Outermost first, so the error names the directory that actually blocks.
        let mut ancestors: Vec<&Path> = dir.ancestors().skip(1).collect();
        ancestors.reverse();
        let mut cmd = command(Path::new("/bin/sh"), Some(&user.name));
        cmd.args([
            "-c",
            r#"for d do [ -x "$d" ] || { printf %s "$d"; exit 1; }; done"#,
            "sh",
        ]);
        let desc = describe(cmd.args(&ancestors));
        let out = run(cmd)?;
        if !out.status.success() {
            let blocked = String::from_utf8_lossy(&out.stdout).into_owned();
            if blocked.is_empty() {
                return Err(cmd_err(desc, &out));
            }
            let (user, data_dir) = (user.name.clone(), dir.clone());
            return Err(EmbeddedError::NotTraversable {
                user,
                blocked: blocked.into(),
                data_dir,
            });
        }
        if !dir.join("PG_VERSION").exists() {
            user.chown(dir)?;
        }
        user.chown(log)
    }

    fn initdb(&self, fast: bool) -> Result<()> {
        // C.UTF-8 sorts byte-wise yet knows UTF-8 character classes; minimal systems may lack it.
        for locale in ["C.UTF-8", "C"] {
            let mut cmd = command(&self.bin_dir.join("initdb"), self.run_as.as_deref());
            cmd.arg("-D")
                .arg(&self.data_dir)
                .args("-U postgres --auth=trust -E UTF8".split(' '));
            cmd.arg(format!("--locale={locale}"))
                .args(fast.then_some("--no-sync"));
            match check(cmd) {
                Ok(_) => {
                    info!(data_dir = %self.data_dir.display(), locale, "initialised PostgreSQL cluster");
                    return Ok(());
                }
                Err(e) if locale != "C" => {
                    warn!(error = %e, "initdb failed; retrying with locale C")
                }
                Err(e) => return Err(e),
            }
        }
        unreachable!("the last locale returns")
    }

    fn socket_dir(&mut self, user: Option<&RunAs>) -> Result<PathBuf> {
        if self.data_dir.as_os_str().len() <= MAX_SOCKET_DIR_LEN {
            return Ok(self.data_dir.clone());
        }
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let dir = PathBuf::from(format!("/tmp/hearth-pg-{}-{nanos}", std::process::id()));
        let created = fs::DirBuilder::new().mode(0o700).create(&dir);
        created.map_err(io_err(format!("create {}", dir.display())))?;
        self.tmp_socket_dir = Some(dir.clone());
        user.map_or(Ok(()), |u| u.chown(&dir))?;
        Ok(dir)
    }

    fn remove_tmp_socket_dir(&self) {
        if let Some(dir) = &self.tmp_socket_dir {
            let _ = fs::remove_dir_all(dir);
        }
    }

    fn pg_ctl_start(&self, log: &Path, socket_dir: &Path, fast: bool) -> Result<()> {
        // pg_ctl pastes -o into a shell command line, hence the quoting.
        let socket = socket_dir.to_string_lossy().replace('\'', r"'\''");
        let fast = if fast { FAST_OPTS } else { "" };
        let opts = format!(
            "-c listen_addresses=127.0.0.1 -p {} -k '{socket}'{fast}",
            self.port
        );
        let mut cmd = command(&self.bin_dir.join("pg_ctl"), self.run_as.as_deref());
        cmd.arg("-D").arg(&self.data_dir).arg("-l").arg(log);
        cmd.args(["-w", "-t", "60", "-o", &opts, "start"]);
        let log_len = fs::metadata(log).map_or(0, |m| m.len()) as usize;
        let out = run(cmd)?;
        if out.status.success() {
            return Ok(());
        }
        // The FATAL lines this attempt added to the log say why; pg_ctl itself only says "see the log".
        let text = fs::read(log).unwrap_or_default();
        let text = String::from_utf8_lossy(text.get(log_len..).unwrap_or_default());
        let fatal: Vec<&str> = text
            .lines()
            .filter(|l| l.contains("FATAL") || l.contains("PANIC"))
            .collect();
        let detail = if fatal.is_empty() {
            detail(&out)
        } else {
            one_line(&fatal.join(" / "))
        };
        Err(EmbeddedError::StartFailed {
            detail,
            log: log.to_path_buf(),
        })
    }

    fn database_exists(&self, database: &str) -> Result<bool> {
        let name = database.replace('\'', "''");
        let out = check(self.psql(&format!(
            "SELECT 1 FROM pg_database WHERE datname = '{name}'"
        )))?;
        Ok(String::from_utf8_lossy(&out.stdout).trim() == "1")
    }

    fn psql(&self, sql: &str) -> Command {
        let mut cmd = command(&self.bin_dir.join("psql"), None);
        cmd.args("-X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -U postgres -d postgres -tA".split(' '));
        cmd.args(["-p", &self.port.to_string(), "-c", sql])
            .env("PGCONNECT_TIMEOUT", "10");
        cmd
    }
}

struct RunAs {
    name: String,
    uid: u32,
    gid: u32,
}

impl RunAs {
    fn lookup(key: &str) -> Option<Self> {
        let out = Command::new("getent").args(["passwd", key]).output().ok()?;
        let line = String::from_utf8_lossy(&out.stdout);
        let f: Vec<&str> = line.trim().split(':').collect();
        let (name, uid, gid) = (
            f.first()?.to_string(),
            f.get(2)?.parse().ok()?,
            f.get(3)?.parse().ok()?,
        );
        out.status.success().then_some(Self { name, uid, gid })
    }

    fn chown(&self, path: &Path) -> Result<()> {
        let what = format!("chown {} to {}", path.display(), self.name);
        std::os::unix::fs::chown(path, Some(self.uid), Some(self.gid)).map_err(io_err(what))
    }
}

fn choose_user(data_dir: &Path) -> Result<RunAs> {
    // An existing cluster keeps its owner, whoever we would pick for a new one.
    if let Ok(meta) = fs::metadata(data_dir.join("PG_VERSION")) {
        if let Some(user) = RunAs::lookup(&meta.uid().to_string()).filter(|u| u.uid != 0) {
            return Ok(user);
        }
    }
    if let Some(user) = RunAs::lookup("postgres").or_else(|| RunAs::lookup(FALLBACK_USER)) {
        return Ok(user);
    }
    info!(user = FALLBACK_USER, "creating system user for PostgreSQL");
    let mut cmd = Command::new("useradd");
    cmd.args("--system --no-create-home --shell /usr/sbin/nologin".split(' '))
        .arg(FALLBACK_USER);
    let desc = describe(&cmd);
    let out = run(cmd)?;
    // Losing a race with another process's useradd still leaves the user in place.
    RunAs::lookup(FALLBACK_USER).ok_or_else(|| cmd_err(desc, &out))
}

fn bin_dir_for(data_dir: &Path) -> Result<PathBuf> {
    // Once a newer major version is installed beside the old, only the old one can run this cluster.
    if env::var_os("HEARTH_PG_BIN_DIR").is_none_or(|d| d.is_empty()) {
        if let Ok(version) = fs::read_to_string(data_dir.join("PG_VERSION")) {
            let bin = Path::new(DEBIAN_ROOT).join(version.trim()).join("bin");
            if has_server(&bin) {
                return Ok(bin);
            }
        }
    }
    EmbeddedPostgres::find_bin_dir()
}

fn has_server(dir: &Path) -> bool {
    ["initdb", "pg_ctl", "postgres"]
        .iter()
        .all(|b| dir.join(b).is_file())
}

fn parse_version(name: &str) -> Option<Vec<u32>> {
    name.split('.').map(|p| p.parse().ok()).collect()
}

fn free_port() -> Result<u16> {
    let listener =
        std::net::TcpListener::bind("127.0.0.1:0").map_err(io_err("bind a loopback port"))?;
    Ok(listener
        .local_addr()
        .map_err(io_err("read the bound port"))?
        .port())
}

/// Serialises starts on one data dir (two `hearth serve`s, parallel test binaries), so only one runs initdb.
fn lock(path: &Path) -> Result<File> {
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path);
    let file = file.map_err(io_err(format!("open {}", path.display())))?;
    while unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } != 0 {
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(io_err(format!("lock {}", path.display()))(e));
        }
    }
    Ok(file)
}

fn command(program: &Path, user: Option<&str>) -> Command {
    let mut cmd = Command::new(if user.is_some() {
        Path::new("runuser")
    } else {
        program
    });
    if let Some(user) = user {
        cmd.args(["-u", user, "--"]).arg(program);
    }
    // The run-as user may be unable to read our cwd; every path we pass is absolute.
    cmd.current_dir("/").stdin(Stdio::null()).env_clear();
    // Keep our secrets out of the server's environment, and PGSSLMODE and friends out of psql.
    for key in ["PATH", "LANG", "LC_ALL", "LC_CTYPE", "LC_MESSAGES", "TZ"] {
        if let Some(value) = env::var_os(key) {
            cmd.env(key, value);
        }
    }
    cmd
}

fn describe(cmd: &Command) -> String {
    let args = cmd.get_args().map(|a| a.to_string_lossy().into_owned());
    std::iter::once(cmd.get_program().to_string_lossy().into_owned())
        .chain(args)
        .collect::<Vec<_>>()
        .join(" ")
}

fn run(mut cmd: Command) -> Result<Output> {
    cmd.output()
        .map_err(io_err(format!("run {}", describe(&cmd))))
}

fn check(cmd: Command) -> Result<Output> {
    let desc = describe(&cmd);
    let out = run(cmd)?;
    if out.status.success() {
        Ok(out)
    } else {
        Err(cmd_err(desc, &out))
    }
}

fn cmd_err(cmd: String, out: &Output) -> EmbeddedError {
    EmbeddedError::Command {
        cmd,
        detail: detail(out),
    }
}

/// The last few lines a failed command printed, on one line.
fn detail(out: &Output) -> String {
    let text = String::from_utf8_lossy(if out.stderr.is_empty() {
        &out.stdout
    } else {
        &out.stderr
    })
    .into_owned();
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    match lines[lines.len().saturating_sub(3)..].join(" / ") {
        text if text.is_empty() => format!("exited with {}", out.status),
        text => one_line(&text),
    }
}

fn one_line(text: &str) -> String {
    let text = text.replace(['\n', '\r'], " ");
    match text.char_indices().nth(400) {
        Some((i, _)) => format!("{}...", &text[..i]),
        None => text,
    }
}

fn io_err(what: impl Into<String>) -> impl FnOnce(io::Error) -> EmbeddedError {
    let what = what.into();
    move |source| EmbeddedError::Io { what, source }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A unique temp dir; on drop it kills any cluster a failed test left behind, then removes itself.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(tag: &str) -> Self {
            let nanos = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_nanos();
            let name = format!("hearth-embedded-{tag}-{}-{nanos}", std::process::id());
            let dir = env::temp_dir().join(name);
            fs::create_dir_all(&dir).unwrap();
            Self(dir)
        }

        fn opts(&self, sub: &str, port: Option<u16>) -> EmbeddedOptions {
            EmbeddedOptions {
                data_dir: self.0.join(sub),
                fast_unsafe: true,
                port,
            }
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            for entry in fs::read_dir(&self.0).into_iter().flatten().flatten() {
                let pid_file =
                    fs::read_to_string(entry.path().join("postmaster.pid")).unwrap_or_default();
                if let Some(pid) = pid_file.lines().next().and_then(|l| l.parse::<i32>().ok()) {
                    unsafe { libc::kill(pid, libc::SIGQUIT) };
                    thread::sleep(Duration::from_secs(1));
                }
            }
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn finds_highest_version() {
        assert_eq!(parse_version("15"), Some(vec![15]));
        assert!(parse_version("9.6").unwrap() < parse_version("10").unwrap());
        assert_eq!(parse_version("main"), None);
        assert!(has_server(&EmbeddedPostgres::find_bin_dir().unwrap()));
    }

    #[test]
    fn data_survives_restart() {
        let tmp = TempDir::new("life");
        let opts = tmp.opts("pg", None);
        let pg = EmbeddedPostgres::start_or_reuse(&opts).unwrap();
        assert!(pg.started_here());
        assert!(pg.is_ready(pg.port()));
        pg.ensure_database("hearth_x").unwrap();
        pg.ensure_database("hearth_x").unwrap();
        let url = format!("postgres://postgres@127.0.0.1:{}/hearth_x", pg.port());
        assert_eq!(pg.database_url("hearth_x"), url);
        pg.stop().unwrap();
        assert!(!pg.is_ready(pg.port()));
        pg.stop().unwrap();

        // A crash leaves postmaster.pid behind, naming a pid that is not a postgres.
        let fake = format!(
            "{}\n{}\n0\n{}\n",
            std::process::id(),
            opts.data_dir.display(),
            pg.port()
        );
        fs::write(opts.data_dir.join("postmaster.pid"), fake).unwrap();
        let pg = EmbeddedPostgres::start_or_reuse(&opts).unwrap();
        assert!(pg.started_here());
        let out = check(pg.psql("select 1 from pg_database where datname='hearth_x'")).unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "1");
        pg.stop().unwrap();
    }

    #[test]
    fn reuses_running_cluster() {
        let tmp = TempDir::new("reuse");
        let port = free_port().unwrap();
        let first = EmbeddedPostgres::start_or_reuse(&tmp.opts("pg", Some(port))).unwrap();
        assert!(first.started_here());
        assert_eq!(first.port(), port);
        let second = EmbeddedPostgres::start_or_reuse(&tmp.opts("pg", None)).unwrap();
        assert!(!second.started_here());
        assert_eq!(second.port(), port);
        second.stop().unwrap();
        assert!(
            first.is_ready(port),
            "stop() of a reused cluster must leave it running"
        );

        // After a reboot, a stale postmaster.pid may name a live postmaster of another cluster.
        let other = tmp.opts("other", None);
        EmbeddedPostgres::start_or_reuse(&other)
            .unwrap()
            .stop()
            .unwrap();
        let first_pid = fs::read_to_string(tmp.0.join("pg/postmaster.pid")).unwrap();
        fs::write(other.data_dir.join("postmaster.pid"), first_pid).unwrap();
        let other = EmbeddedPostgres::start_or_reuse(&other).unwrap();
        assert!(other.started_here());
        assert_ne!(other.port(), port);
        other.stop().unwrap();
        first.stop().unwrap();
    }

    #[test]
    fn long_data_dir_puts_socket_in_tmp() {
        let tmp = TempDir::new("long");
        let opts = tmp.opts(
            "a-rather-long-directory-name-to-push-the-path-past-ninety-bytes/pg",
            None,
        );
        let pg = EmbeddedPostgres::start_or_reuse(&opts).unwrap();
        let socket_dir = pg.tmp_socket_dir.clone().expect("socket dir under /tmp");
        assert!(socket_dir.join(format!(".s.PGSQL.{}", pg.port())).exists());
        pg.ensure_database("hearth \"odd\" 'name'").unwrap();
        pg.stop().unwrap();
        assert!(!socket_dir.exists());
    }

    #[test]
    fn busy_port_is_reported_from_the_log() {
        let tmp = TempDir::new("busy");
        let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = busy.local_addr().unwrap().port();
        match EmbeddedPostgres::start_or_reuse(&tmp.opts("pg", Some(port))) {
            // The same text makes start_or_reuse retry on another port when it picked the port.
            Err(EmbeddedError::StartFailed { detail, .. }) => {
                assert!(
                    detail.contains("could not create any TCP/IP sockets"),
                    "{detail}"
                )
            }
            other => panic!("expected StartFailed, got {other:?}"),
        }
    }

    #[test]
    fn untraversable_parent_is_reported() {
        if unsafe { libc::geteuid() } != 0 {
            return;
        }
        let tmp = TempDir::new("locked");
        let locked = tmp.0.join("locked");
        fs::DirBuilder::new().mode(0o700).create(&locked).unwrap();
        match EmbeddedPostgres::start_or_reuse(&tmp.opts("locked/deeper/pg", None)) {
            Err(EmbeddedError::NotTraversable { blocked, .. }) => assert_eq!(blocked, locked),
            other => panic!("expected NotTraversable, got {other:?}"),
        }
    }
}
