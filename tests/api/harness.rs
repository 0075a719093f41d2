//! Test harness: database, app, tokens and request helpers.

use std::sync::{Arc, OnceLock};

use actix_http::Request;
use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::header::HeaderMap;
use actix_web::http::StatusCode;
use actix_web::test;
use hearth::auth::AuthConfig;
use hearth::consent::Role;
use hearth::db::embedded::{EmbeddedOptions, EmbeddedPostgres};
use hearth::db::{build_pool, run_migrations, SessionSettings};
use hearth::AppState;
use serde_json::{json, Value};
use uuid::Uuid;

pub const SECRET: &str = "test-secret-for-hearth-integration-tests";
pub const ISSUER: &str = "hearth";
pub const AUDIENCE: &str = "hearth-api";

struct TestDb {
    url: String,
}

static EMBEDDED: OnceLock<EmbeddedPostgres> = OnceLock::new();

extern "C" fn stop_embedded() {
    if let Some(pg) = EMBEDDED.get() {
        let _ = pg.stop();
    }
}

fn database() -> &'static TestDb {
    static DB: OnceLock<TestDb> = OnceLock::new();
    DB.get_or_init(|| {
        let url = match std::env::var("DATABASE_URL").ok().filter(|u| !u.is_empty()) {
            Some(url) => url,
            None => {
                // Under the system's temp dir, which PostgreSQL's own user can always traverse
                // (a checkout under /root could not be), one per checkout.
                let checkout = env!("CARGO_MANIFEST_DIR")
                    .bytes()
                    .fold(0u64, |h, b| h.wrapping_mul(31).wrapping_add(b as u64));
                let dir = std::env::temp_dir().join(format!("hearth-test-pg-{checkout:016x}"));
                let opts = EmbeddedOptions {
                    data_dir: dir,
                    fast_unsafe: true,
                    port: None,
                };
                let pg =
                    EmbeddedPostgres::start_or_reuse(&opts).expect("start a throwaway PostgreSQL");
                pg.ensure_database("hearth_test")
                    .expect("create the test database");
                let url = pg.database_url("hearth_test");
                if pg.started_here() {
                    let _ = EMBEDDED.set(pg);
                    // SAFETY: registering a plain extern "C" function with no captured state.
                    unsafe { libc::atexit(stop_embedded) };
                }
                url
            }
        };
        let settings = SessionSettings {
            statement_timeout: std::time::Duration::from_secs(30),
            test_transaction: false,
        };
        let pool =
            build_pool(&url, 2, std::time::Duration::from_secs(10), settings).expect("connect");
        run_migrations(&mut pool.get().expect("connection")).expect("migrate");
        TestDb { url }
    })
}

/// The URL of the test database (migrated).
pub fn test_database_url() -> String {
    database().url.clone()
}

/// A committed-nothing pool: one connection inside a test transaction.
pub fn test_pool() -> hearth::db::DbPool {
    let db = database();
    let settings = SessionSettings {
        statement_timeout: std::time::Duration::from_secs(30),
        test_transaction: true,
    };
    build_pool(&db.url, 1, std::time::Duration::from_secs(10), settings).expect("test pool")
}

/// A pool whose writes are committed (tests of concurrency and real transactions).
pub fn committing_pool(size: u32) -> hearth::db::DbPool {
    let db = database();
    let settings = SessionSettings {
        statement_timeout: std::time::Duration::from_secs(30),
        test_transaction: false,
    };
    build_pool(
        &db.url,
        size.max(2),
        std::time::Duration::from_secs(10),
        settings,
    )
    .expect("pool")
}

pub fn auth_config() -> AuthConfig {
    AuthConfig::new(Some(SECRET), None, ISSUER, AUDIENCE).expect("auth config")
}

pub fn state_with(pool: hearth::db::DbPool) -> AppState {
    AppState {
        pool,
        auth: Arc::new(auth_config()),
        metrics: Arc::new(hearth::api::ops::Metrics::new()),
        max_body_bytes: 64 * 1024,
        import_max_bytes: 8 * 1024 * 1024,
    }
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    pub raw: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }

    /// Asserts a problem document with this status and answers it.
    pub fn problem(&self, status: u16) -> &Value {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.body);
        assert_eq!(
            self.header("content-type").as_deref(),
            Some("application/problem+json"),
            "body: {}",
            self.body
        );
        assert_eq!(self.body["status"], status);
        assert!(self.body["type"]
            .as_str()
            .is_some_and(|t| t.starts_with("urn:hearth:problem:")));
        &self.body
    }

    pub fn ok(&self, status: u16) -> &Value {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.body);
        &self.body
    }

    /// The field names in a validation problem.
    pub fn error_fields(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|e| e["field"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }
}

pub struct TestApp<S> {
    pub svc: S,
    pub auth: AuthConfig,
    pub admin: String,
}

pub async fn spawn() -> TestApp<
    impl Service<Request, Response = ServiceResponse<impl MessageBody>, Error = actix_web::Error>,
> {
    spawn_with(test_pool()).await
}

pub async fn spawn_with(
    pool: hearth::db::DbPool,
) -> TestApp<
    impl Service<Request, Response = ServiceResponse<impl MessageBody>, Error = actix_web::Error>,
> {
    if std::env::var_os("RUST_LOG").is_some() {
        hearth::telemetry::init(false);
    }
    let state = state_with(pool);
    let svc = test::init_service(hearth::app(state)).await;
    let auth = auth_config();
    let admin = auth
        .mint(
            "admin-1",
            &[Role::SystemAdmin],
            None,
            chrono::Duration::hours(1),
        )
        .unwrap();
    TestApp { svc, auth, admin }
}

pub struct Call<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub token: Option<&'a str>,
    pub body: Option<Value>,
    pub headers: Vec<(&'a str, String)>,
}

impl<S, B> TestApp<S>
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    pub fn token(&self, sub: &str, roles: &[Role], agency: Option<Uuid>) -> String {
        self.auth
            .mint(sub, roles, agency, chrono::Duration::hours(1))
            .unwrap()
    }

    pub async fn send(&self, c: Call<'_>) -> Reply {
        let mut req = match c.method {
            "GET" => test::TestRequest::get(),
            "POST" => test::TestRequest::post(),
            "PATCH" => test::TestRequest::patch(),
            "PUT" => test::TestRequest::put(),
            "DELETE" => test::TestRequest::delete(),
            "HEAD" => test::TestRequest::default().method(actix_web::http::Method::HEAD),
            other => panic!("method {other}"),
        }
        .uri(c.path);
        if let Some(t) = c.token {
            req = req.insert_header(("Authorization", format!("Bearer {t}")));
        }
        for (k, v) in c.headers {
            req = req.insert_header((k, v));
        }
        if let Some(b) = c.body {
            req = req.set_json(b);
        }
        self.raw(req.to_request()).await
    }

    pub async fn raw(&self, req: Request) -> Reply {
        let resp = test::call_service(&self.svc, req).await;
        let status = resp.status();
        let headers = resp.headers().clone();
        if let Some(pattern) = resp.request().match_pattern() {
            assert_headers_declared(resp.request().method().as_str(), &pattern, status, &headers);
        }
        let raw = test::read_body(resp).await.to_vec();
        let body = serde_json::from_slice(&raw).unwrap_or(Value::Null);
        assert!(
            status.as_u16() < 500,
            "server error {status}: {}",
            String::from_utf8_lossy(&raw)
        );
        Reply {
            status,
            headers,
            body,
            raw,
        }
    }

    pub async fn get(&self, path: &str, token: &str) -> Reply {
        self.send(Call {
            method: "GET",
            path,
            token: Some(token),
            body: None,
            headers: vec![],
        })
        .await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Reply {
        self.send(Call {
            method: "POST",
            path,
            token: Some(token),
            body: Some(body),
            headers: vec![],
        })
        .await
    }

    #[allow(dead_code)] // used as resources grow PUT endpoints
    pub async fn put(&self, path: &str, token: &str, body: Value) -> Reply {
        self.send(Call {
            method: "PUT",
            path,
            token: Some(token),
            body: Some(body),
            headers: vec![],
        })
        .await
    }

    pub async fn patch(&self, path: &str, token: &str, etag: Option<&str>, body: Value) -> Reply {
        let headers = etag
            .map(|e| vec![("If-Match", e.to_string())])
            .unwrap_or_default();
        self.send(Call {
            method: "PATCH",
            path,
            token: Some(token),
            body: Some(body),
            headers,
        })
        .await
    }

    /// A CoC with a random code, answered as its code.
    pub async fn coc(&self, policy: Value) -> String {
        loop {
            let code = random_coc_code();
            let r = self
                .post(
                    "/v1/cocs",
                    &self.admin,
                    json!({"code": code, "name": "Test CoC", "policy": policy}),
                )
                .await;
            if r.status == StatusCode::CREATED {
                return code;
            }
            assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
        }
    }

    pub async fn agency(&self, coc: &str, shares_data: bool) -> Uuid {
        let r = self
            .post(
                "/v1/agencies",
                &self.admin,
                json!({"coc_code": coc, "name": "Test Agency", "shares_data": shares_data}),
            )
            .await;
        r.ok(201)["id"].as_str().unwrap().parse().unwrap()
    }

    pub async fn project(&self, agency: Uuid, project_type: i32) -> Uuid {
        let r = self
            .post(
                "/v1/projects",
                &self.admin,
                json!({"agency_id": agency, "name": "Test Project", "project_type": project_type}),
            )
            .await;
        r.ok(201)["id"].as_str().unwrap().parse().unwrap()
    }
}

/// A CoC code no other test of this process has drawn: tests run at once, each in its own
/// transaction, and two inserting one code would wait on each other and then collide.
pub fn random_coc_code() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: OnceLock<AtomicU32> = OnceLock::new();
    let n = NEXT
        .get_or_init(|| AtomicU32::new(rand::random::<u32>() % 676_000))
        .fetch_add(1, Ordering::Relaxed)
        % 676_000;
    let (letters, digits) = (n / 1000, n % 1000);
    let a = (b'A' + (letters / 26) as u8) as char;
    let b = (b'A' + (letters % 26) as u8) as char;
    format!("{a}{b}-{digits:03}")
}

/// The response headers the contract must declare wherever the service sends them.
const DECLARED_HEADERS: &[&str] = &[
    "etag",
    "location",
    "idempotent-replayed",
    "hearth-dry-run",
    "x-request-id",
    "www-authenticate",
    "retry-after",
];

/// Every test's every answer: a header of [`DECLARED_HEADERS`] it carries is declared on that
/// operation's response of that status in `openapi/openapi.json`.
fn assert_headers_declared(method: &str, pattern: &str, status: StatusCode, headers: &HeaderMap) {
    static CONTRACT: OnceLock<Value> = OnceLock::new();
    let doc = CONTRACT.get_or_init(|| {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json");
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    });
    let Some(op) = doc["paths"]
        .get(pattern)
        .and_then(|item| item.get(method.to_ascii_lowercase()))
    else {
        return;
    };
    let declared: Vec<String> = op["responses"][status.as_str()]["headers"]
        .as_object()
        .map(|h| h.keys().map(|k| k.to_ascii_lowercase()).collect())
        .unwrap_or_default();
    // An answer the operation does not list at all (a 405 from the router) is described in the
    // contract's info; its X-Request-Id is the middleware's, on every answer.
    let listed = op["responses"].get(status.as_str()).is_some();
    for name in DECLARED_HEADERS {
        if !listed && *name == "x-request-id" {
            continue;
        }
        if headers.contains_key(*name) {
            assert!(
                declared.iter().any(|d| d == name),
                "{method} {pattern} answers {status} with {name}, which the contract does not declare there"
            );
        }
    }
}
