//! Settings from the environment, with defaults that work on a fresh machine.

use std::path::PathBuf;
use std::time::Duration;

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
            data_dir: PathBuf::from(var("HEARTH_DATA_DIR").unwrap_or_else(|| "./.hearth".into())),
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
