//! Operations: liveness, readiness, Prometheus metrics.

use actix_web::{get, web, HttpResponse};
use prometheus::{Encoder, IntGauge, Registry, TextEncoder};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::db::CheckoutError;
use crate::error::{AppError, AppResult};
use crate::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(healthz).service(readyz).service(metrics);
}

/// Process-wide metrics: the HTTP middleware's counters and histograms plus the pool's state.
pub struct Metrics {
    pub registry: Registry,
    pub http: actix_web_prom::PrometheusMetrics,
    pool_connections: IntGauge,
    pool_idle: IntGauge,
    pool_max: IntGauge,
}

impl Metrics {
    pub fn new() -> Metrics {
        let registry = Registry::new();
        let http = actix_web_prom::PrometheusMetricsBuilder::new("hearth")
            .registry(registry.clone())
            .mask_unmatched_patterns("UNMATCHED")
            .build()
            .expect("metric names are static and valid");
        let gauge = |name: &str, help: &str| {
            let g = IntGauge::new(name, help).expect("valid metric name");
            registry
                .register(Box::new(g.clone()))
                .expect("registered once");
            g
        };
        Metrics {
            pool_connections: gauge(
                "hearth_db_pool_connections",
                "Open database connections in the pool",
            ),
            pool_idle: gauge(
                "hearth_db_pool_idle_connections",
                "Idle database connections in the pool",
            ),
            pool_max: gauge("hearth_db_pool_max_connections", "The pool's size limit"),
            registry,
            http,
        }
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

#[derive(Serialize, ToSchema)]
pub struct Health {
    /// `ok` when the check passed.
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub migrations: Option<String>,
}

/// Liveness: the process answers.
#[utoipa::path(tag = "operations", security(()), responses((status = 200, body = Health)))]
#[get("/healthz")]
async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health {
        status: "ok".into(),
        database: None,
        migrations: None,
    })
}

/// How long `/readyz` waits for a connection: probes time out quickly, and a pool that stays
/// busy this long is worth reporting.
const READY_CHECKOUT: std::time::Duration = std::time::Duration::from_secs(1);

/// Readiness: the database answers and every migration is applied. A 503 says which of these
/// failed: the database cannot be reached, every pooled connection is busy, or migrations are
/// pending.
#[utoipa::path(tag = "operations", security(()), responses((status = 200, body = Health), (status = 503, description = "Not ready")))]
#[get("/readyz")]
async fn readyz(state: web::Data<AppState>) -> AppResult<HttpResponse> {
    let pool = state.pool.clone();
    let applied = web::block(move || -> AppResult<bool> {
        let mut conn = pool.get_timeout(READY_CHECKOUT).map_err(|e| match e {
            CheckoutError::Unreachable(_) => {
                AppError::Unavailable("The database is not reachable.".into())
            }
            CheckoutError::Exhausted => AppError::Unavailable(
                "The database answers, but every connection in the pool is busy.".into(),
            ),
        })?;
        crate::db::migrations_applied(&mut conn).map_err(|_| {
            AppError::Unavailable("The database did not answer the readiness check.".into())
        })
    })
    .await
    .map_err(AppError::from)??;
    if applied {
        Ok(HttpResponse::Ok().json(Health {
            status: "ok".into(),
            database: Some("ok".into()),
            migrations: Some("applied".into()),
        }))
    } else {
        Err(AppError::Unavailable(
            "Database migrations are pending.".into(),
        ))
    }
}

/// Prometheus text format: requests by route and status, latency histograms, pool state.
#[utoipa::path(tag = "operations", security(()), responses((status = 200, description = "Prometheus text exposition", content_type = "text/plain")))]
#[get("/metrics")]
async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    let m = &state.metrics;
    let s = state.pool.state();
    m.pool_connections.set(s.connections as i64);
    m.pool_idle.set(s.idle_connections as i64);
    m.pool_max.set(state.pool.max_size() as i64);
    let mut buf = Vec::new();
    if TextEncoder::new()
        .encode(&m.registry.gather(), &mut buf)
        .is_err()
    {
        return HttpResponse::InternalServerError().finish();
    }
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(buf)
}
