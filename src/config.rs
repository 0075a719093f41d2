//! Settings from the environment, with defaults that work on a fresh machine.

use std::path::{Path, PathBuf};
use std::time::Duration;

/// The data directory when running as root: PostgreSQL's user (`postgres`) can reach it, as it
/// could not a clone under `/root` or a 0700 home.
pub const ROOT_DATA_DIR: &str = "/var/lib/hearth";

#[derive(Debug, Clone)]
pub struct Config {
    /// `None`: start or reuse the embedded cluster under `data_dir`.
    pub database_url: Option<String>,
    pub bind: String,
    pub data_dir: PathBuf,
    pub jwt_secret: Option<String>,
    pub jwt_public_key_pem: Option<String>,
    pub jwt_issuer: String,
    pub jwt_audience: String,
    pub pool_size: u32,
    pub pool_checkout_timeout: Duration,
    pub statement_timeout: Duration,
    pub max_body_bytes: usize,
    pub import_max_bytes: u64,
    pub log_json: bool,
    pub workers: Option<usize>,
}

#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(pub String);

fn var(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

fn parsed<T: std::str::FromStr>(name: &str, default: T) -> Result<T, ConfigError> {
    match var(name) {
        None => Ok(default),
        Some(v) => v
            .parse()
            .map_err(|_| ConfigError(format!("{name} is not a valid value"))),
    }
}

impl Config {
    pub fn from_env() -> Result<Config, ConfigError> {
        let public_key = match var("HEARTH_JWT_PUBLIC_KEY") {
            None => None,
            // Either the PEM itself or a path to a PEM file.
            Some(v) if v.contains("-----BEGIN") => Some(v),
            Some(path) => Some(std::fs::read_to_string(&path).map_err(|e| {
                ConfigError(format!("HEARTH_JWT_PUBLIC_KEY: cannot read {path}: {e}"))
            })?),
        };
        // At least the expected request concurrency: r2d2 does not serve waiters in order, so a
        // smaller pool makes a long latency tail (docs/benchmarks.md).
        let pool_size: u32 = parsed("HEARTH_DB_POOL_SIZE", 16)?;
        if pool_size < 2 {
            return Err(ConfigError("HEARTH_DB_POOL_SIZE must be at least 2".into()));
        }
        idempotency_ttl()?;
        Ok(Config {
            database_url: var("DATABASE_URL"),
            bind: var("HEARTH_BIND").unwrap_or_else(|| "127.0.0.1:8080".into()),
            data_dir: match var("HEARTH_DATA_DIR") {
                Some(dir) => PathBuf::from(dir),
                None => default_data_dir(
                    unsafe { libc::geteuid() } == 0,
                    var("XDG_DATA_HOME").as_deref(),
                    var("HOME").as_deref(),
                ),
            },
            jwt_secret: var("HEARTH_JWT_SECRET"),
            jwt_public_key_pem: public_key,
            jwt_issuer: var("HEARTH_JWT_ISSUER").unwrap_or_else(|| "hearth".into()),
            jwt_audience: var("HEARTH_JWT_AUDIENCE").unwrap_or_else(|| "hearth-api".into()),
            pool_size,
            pool_checkout_timeout: Duration::from_millis(parsed(
                "HEARTH_DB_CHECKOUT_TIMEOUT_MS",
                3000,
            )?),
            statement_timeout: Duration::from_millis(parsed(
                "HEARTH_DB_STATEMENT_TIMEOUT_MS",
                15000,
            )?),
            max_body_bytes: parsed("HEARTH_MAX_BODY_BYTES", 1024 * 1024)?,
            import_max_bytes: parsed("HEARTH_IMPORT_MAX_BYTES", 512 * 1024 * 1024)?,
            log_json: var("HEARTH_LOG_FORMAT").is_some_and(|v| v.eq_ignore_ascii_case("json")),
            workers: var("HEARTH_WORKERS").and_then(|v| v.parse().ok()),
        })
    }

    /// The HS256 secret: the environment's, else one generated once and kept in the data
    /// directory, so that `hearth token` and `hearth serve` agree on a development machine.
    pub fn resolve_jwt_secret(&self) -> Result<String, ConfigError> {
        if let Some(s) = &self.jwt_secret {
            return Ok(s.clone());
        }
        let path = self.data_dir.join("jwt-secret");
        if let Ok(s) = std::fs::read_to_string(&path) {
            if !s.trim().is_empty() {
                return Ok(s.trim().to_string());
            }
        }
        std::fs::create_dir_all(&self.data_dir)
            .map_err(|e| ConfigError(format!("cannot create {}: {e}", self.data_dir.display())))?;
        let secret: String = {
            use rand::Rng;
            let bytes: [u8; 32] = rand::rng().random();
            bytes.iter().map(|b| format!("{b:02x}")).collect()
        };
        std::fs::write(&path, &secret)
            .map_err(|e| ConfigError(format!("cannot write {}: {e}", path.display())))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600));
        }
        // A server already running with another secret (another user, another HEARTH_DATA_DIR)
        // refuses tokens signed with this one: say where it is, so that is easy to see.
        tracing::info!(path = %path.display(), "created the development JWT secret");
        Ok(secret)
    }
}

/// How long an `Idempotency-Key`'s stored answer is kept (`HEARTH_IDEMPOTENCY_TTL_HOURS`, default
/// 24): long enough for a retry, short because stored answers may hold PII.
pub fn idempotency_ttl() -> Result<Duration, ConfigError> {
    let hours: u64 = parsed("HEARTH_IDEMPOTENCY_TTL_HOURS", 24)?;
    if hours == 0 || hours > 24 * 30 {
        return Err(ConfigError(
            "HEARTH_IDEMPOTENCY_TTL_HOURS must be 1 to 720".into(),
        ));
    }
    Ok(Duration::from_secs(hours * 3600))
}

/// Where the embedded cluster and the development secret live when `HEARTH_DATA_DIR` is unset.
/// The same rule for every command, so `hearth token` and `hearth serve` share one secret from
/// any directory. As root the cluster runs as PostgreSQL's own user, so the place must be one it
/// can traverse: [`ROOT_DATA_DIR`]. Otherwise the cluster runs as the invoking user, in its XDG
/// data directory; with no home at all, `./.hearth` (the user can reach its own working directory).
pub fn default_data_dir(is_root: bool, xdg_data_home: Option<&str>, home: Option<&str>) -> PathBuf {
    if is_root {
        return PathBuf::from(ROOT_DATA_DIR);
    }
    // The XDG spec: a relative XDG_DATA_HOME is invalid and ignored.
    let absolute = |p: &&str| Path::new(p).is_absolute();
    if let Some(xdg) = xdg_data_home.filter(absolute) {
        return Path::new(xdg).join("hearth");
    }
    match home.filter(absolute) {
        Some(home) => Path::new(home).join(".local/share/hearth"),
        None => PathBuf::from("./.hearth"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_uses_var_lib_whatever_the_home() {
        for home in [Some("/root"), Some("/home/ann"), None] {
            let dir = default_data_dir(true, Some("/root/.xdg"), home);
            assert_eq!(dir, Path::new("/var/lib/hearth"));
        }
    }

    #[test]
    fn a_user_gets_its_own_data_dir() {
        let dir = default_data_dir(false, None, Some("/home/ann"));
        assert_eq!(dir, Path::new("/home/ann/.local/share/hearth"));
        let dir = default_data_dir(false, Some("/srv/ann-data"), Some("/home/ann"));
        assert_eq!(dir, Path::new("/srv/ann-data/hearth"));
        // A relative XDG_DATA_HOME is ignored, as the XDG spec says.
        let dir = default_data_dir(false, Some("rel/data"), Some("/home/ann"));
        assert_eq!(dir, Path::new("/home/ann/.local/share/hearth"));
        assert_eq!(default_data_dir(false, None, None), Path::new("./.hearth"));
        assert_eq!(
            default_data_dir(false, None, Some("rel")),
            Path::new("./.hearth")
        );
    }

    #[test]
    fn the_root_data_dir_is_reachable_by_other_users() {
        // Every existing ancestor of /var/lib/hearth must be traversable by `postgres`.
        use std::os::unix::fs::PermissionsExt;
        for dir in Path::new(ROOT_DATA_DIR).ancestors().skip(1) {
            let Ok(meta) = std::fs::metadata(dir) else {
                continue;
            };
            let mode = meta.permissions().mode();
            assert_ne!(mode & 0o001, 0, "{} is not o+x", dir.display());
        }
    }
}
