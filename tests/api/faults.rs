//! Faults: PostgreSQL restarted under load, PostgreSQL down, the pool exhausted, and the process
//! stopped with SIGINT. Every DB-backed request then answers a 503 problem document with
//! `Retry-After` (never a 500, never a hang), and Hearth recovers on its own once PostgreSQL is
//! back.
//!
//! The restart and outage tests stop and start a throwaway cluster of their own: other tests in
//! this binary share the harness's cluster and run at the same time. Run with `--nocapture` to
//! see the figures (docs/faults.md). The restart test takes about 20 s and the SIGINT test about
//! 5 s: a 5 s outage, two restarts and a server start are what they measure.

use std::cell::{Cell, RefCell};
use std::io::{Read, Write};
use std::path::PathBuf;
use std::rc::Rc;
use std::time::{Duration, Instant};

use actix_http::Request;
use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::test as web_test;
use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection, RunQueryDsl};
use hearth::consent::Role;
use hearth::db::embedded::{EmbeddedOptions, EmbeddedPostgres};
use hearth::db::{build_pool, run_migrations, SessionSettings};
use serde_json::{json, Value};

use crate::harness::*;

/// The service's defaults (`HEARTH_DB_CHECKOUT_TIMEOUT_MS`), so the figures are the product's.
const CHECKOUT: Duration = Duration::from_secs(3);
/// A request that takes longer than this has hung.
const HANG: Duration = Duration::from_secs(15);

/// A throwaway cluster in its own directory, on a fixed port so that it can be restarted.
struct Cluster {
    dir: PathBuf,
    opts: EmbeddedOptions,
    pg: Option<EmbeddedPostgres>,
}

impl Cluster {
    fn start(tag: &str) -> Cluster {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let dir = std::env::temp_dir().join(format!(
            "hearth-faults-{tag}-{}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let opts = EmbeddedOptions {
            data_dir: dir.join("pg"),
            fast_unsafe: true,
            port: Some(free_port()),
        };
        let pg = EmbeddedPostgres::start_or_reuse(&opts).expect("start a throwaway PostgreSQL");
        pg.ensure_database("hearth").expect("create the database");
        Cluster {
            dir,
            opts,
            pg: Some(pg),
        }
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/hearth", self.port())
    }

    fn port(&self) -> u16 {
        self.opts.port.unwrap()
    }

    /// Stops the cluster (`pg_ctl stop -m fast`) on the blocking pool; answers when it is down.
    async fn stop(&mut self) {
        let pg = self.pg.take().expect("running");
        actix_web::rt::task::spawn_blocking(move || pg.stop().expect("stop PostgreSQL"))
            .await
            .unwrap();
    }

    /// Starts the stopped cluster again on the same port; answers when it accepts connections.
    fn start_again(&self) -> impl std::future::Future<Output = EmbeddedPostgres> {
        let opts = self.opts.clone();
        async move {
            actix_web::rt::task::spawn_blocking(move || {
                EmbeddedPostgres::start_or_reuse(&opts).expect("start PostgreSQL again")
            })
            .await
            .unwrap()
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if let Some(pg) = self.pg.take() {
            let _ = pg.stop();
        }
        // A cluster someone else started on this directory (the SIGINT test's server, if it
        // failed to stop it) is stopped too.
        let pid_file = std::fs::read_to_string(self.opts.data_dir.join("postmaster.pid"));
        if let Some(pid) = pid_file
            .ok()
            .and_then(|t| t.lines().next().and_then(|l| l.parse::<i32>().ok()))
        {
            unsafe { libc::kill(pid, libc::SIGQUIT) };
            std::thread::sleep(Duration::from_secs(1));
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// One request's fate.
#[derive(Debug, Clone)]
struct Outcome {
    path: String,
    /// 0: no answer within `HANG`.
    status: u16,
    retry_after: Option<String>,
    content_type: Option<String>,
    body: Value,
    started: Instant,
    finished: Instant,
}

impl Outcome {
    fn took(&self) -> Duration {
        self.finished - self.started
    }

    /// A 503 problem document with Retry-After, as every refusal for a database fault must be.
    fn assert_clean_503(&self) {
        assert_eq!(self.status, 503, "{} answered {}", self.path, self.body);
        assert_eq!(
            self.content_type.as_deref(),
            Some("application/problem+json"),
            "{}",
            self.path
        );
        assert_eq!(self.body["status"], 503, "{}", self.path);
        let secs: u32 = self
            .retry_after
            .as_deref()
            .unwrap_or_else(|| panic!("{}: 503 without Retry-After", self.path))
            .parse()
            .expect("Retry-After in seconds");
        assert!(secs >= 1, "{}", self.path);
    }
}

async fn hit<S, B>(
    app: &TestApp<S>,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> Outcome
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let mut req = match method {
        "GET" => web_test::TestRequest::get(),
        "POST" => web_test::TestRequest::post(),
        other => panic!("method {other}"),
    }
    .uri(path);
    if let Some(t) = token {
        req = req.insert_header(("Authorization", format!("Bearer {t}")));
    }
    if let Some(b) = body {
        req = req.set_json(b);
    }
    let started = Instant::now();
    let answer = actix_web::rt::time::timeout(HANG, async {
        let resp = web_test::call_service(&app.svc, req.to_request()).await;
        let header = |name: &str| {
            resp.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let (status, retry_after, content_type) = (
            resp.status().as_u16(),
            header("retry-after"),
            header("content-type"),
        );
        let raw = web_test::read_body(resp).await;
        let body = serde_json::from_slice(&raw).unwrap_or(Value::Null);
        (status, retry_after, content_type, body)
    })
    .await;
    let (status, retry_after, content_type, body) = answer.unwrap_or((0, None, None, Value::Null));
    Outcome {
        path: path.to_string(),
        status,
        retry_after,
        content_type,
        body,
        started,
        finished: Instant::now(),
    }
}

/// Requests issued back to back by `workers` tasks until `stop` is set; every outcome is kept.
struct Load {
    stop: Rc<Cell<bool>>,
    log: Rc<RefCell<Vec<Outcome>>>,
    tasks: Vec<actix_web::rt::task::JoinHandle<()>>,
}

impl Load {
    fn start<S, B>(
        app: &Rc<TestApp<S>>,
        workers: usize,
        pause: Duration,
        requests: &[(String, String)],
    ) -> Load
    where
        S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
        B: MessageBody + 'static,
    {
        let stop = Rc::new(Cell::new(false));
        let log = Rc::new(RefCell::new(Vec::new()));
        let tasks = (0..workers)
            .map(|w| {
                let (app, stop, log) = (app.clone(), stop.clone(), log.clone());
                let requests = requests.to_vec();
                actix_web::rt::spawn(async move {
                    let mut i = w;
                    while !stop.get() {
                        let (path, token) = &requests[i % requests.len()];
                        let o = hit(&app, "GET", path, Some(token), None).await;
                        log.borrow_mut().push(o);
                        i += 1;
                        if !pause.is_zero() {
                            actix_web::rt::time::sleep(pause).await;
                        }
                    }
                })
            })
            .collect();
        Load { stop, log, tasks }
    }

    async fn finish(self) -> Vec<Outcome> {
        self.stop.set(true);
        for t in self.tasks {
            t.await.unwrap();
        }
        self.log.take()
    }
}

/// What a load saw.
struct Verdict {
    requests: usize,
    failed: usize,
    /// Seconds from PostgreSQL back to the first 200 answered after it.
    first_ok: f64,
    /// Seconds from PostgreSQL back to the last 503 (0 if none came after it).
    last_503: f64,
    slowest: f64,
}

/// Checks a load's outcomes: every request answered, nothing but 200 and clean 503s, and
/// normal answers within 3 s of PostgreSQL being back.
fn judge(phase: &str, log: &[Outcome], back: Instant) -> Verdict {
    assert!(!log.is_empty(), "{phase}: no requests ran");
    let mut failures = 0;
    let mut last_failure = back;
    for o in log {
        assert_ne!(o.status, 0, "{phase}: {} hung for {:?}", o.path, HANG);
        if o.status != 200 {
            o.assert_clean_503();
            failures += 1;
            last_failure = last_failure.max(o.finished);
        }
    }
    let settled = back + Duration::from_secs(3);
    let after: Vec<&Outcome> = log.iter().filter(|o| o.started >= settled).collect();
    assert!(
        !after.is_empty(),
        "{phase}: no request started 3 s after PostgreSQL was back"
    );
    for o in after {
        assert_eq!(
            o.status,
            200,
            "{phase}: {} still failing {:?} after PostgreSQL was back: {}",
            o.path,
            o.started - back,
            o.body
        );
    }
    let first_ok = log
        .iter()
        .filter(|o| o.status == 200 && o.finished >= back)
        .map(|o| o.finished)
        .min()
        .unwrap();
    Verdict {
        requests: log.len(),
        failed: failures,
        first_ok: (first_ok - back).as_secs_f64(),
        last_503: (last_failure - back).as_secs_f64(),
        slowest: log.iter().map(Outcome::took).max().unwrap().as_secs_f64(),
    }
}

#[actix_web::test]
async fn postgres_restart_and_outage_end_in_clean_503s_and_recover_on_their_own() {
    let mut cluster = Cluster::start("restart");
    let settings = SessionSettings {
        statement_timeout: Duration::from_secs(15),
        test_transaction: false,
    };
    let pool = build_pool(&cluster.url(), 8, CHECKOUT, settings).expect("pool");
    run_migrations(&mut pool.get().unwrap()).unwrap();
    let app = Rc::new(spawn_with(pool).await);

    let coc = app.coc(json!({})).await;
    let agency = app.agency(&coc, true).await;
    let worker = app.token("faults-worker", &[Role::CaseWorker], Some(agency));
    let body = json!({"identity_mode": "anonymous", "birth_year": 1979, "veteran_status": 0});
    let r = app.post("/v1/clients", &worker, body.clone()).await;
    let client = format!(
        "/v1/clients/{}",
        r.ok(201)["client"]["id"].as_str().unwrap()
    );
    let requests = vec![
        (client.clone(), worker.clone()),
        ("/v1/cocs".to_string(), app.admin.clone()),
    ];

    // 1. `pg_ctl stop -m fast` and start again while 8 clients send requests back to back.
    let load = Load::start(&app, 8, Duration::ZERO, &requests);
    actix_web::rt::time::sleep(Duration::from_millis(800)).await;
    let down_at = Instant::now();
    cluster.stop().await;
    cluster.pg = Some(cluster.start_again().await);
    let back = Instant::now();
    actix_web::rt::time::sleep(Duration::from_millis(3500)).await;
    let log = load.finish().await;
    let v = judge("restart under load", &log, back);
    println!(
        "faults: restart under load (8 clients): PostgreSQL down for {:.2} s; {} requests, {} \
         answered 503, none 500, none hung (slowest {:.2} s); first 200 {:.2} s and last 503 \
         {:.2} s after PostgreSQL was back",
        (back - down_at).as_secs_f64(),
        v.requests,
        v.failed,
        v.slowest,
        v.first_ok,
        v.last_503
    );
    assert!(v.last_503 <= 3.0, "503s until {:.2} s", v.last_503);

    // 2. Restarted while idle: every connection left in the pool is dead. Light traffic after it
    // must not get one (the pool tests each before handing it out).
    cluster.stop().await;
    cluster.pg = Some(cluster.start_again().await);
    let back = Instant::now();
    let idle = pool_connections(&app).await;
    let load = Load::start(&app, 1, Duration::from_millis(100), &requests);
    actix_web::rt::time::sleep(Duration::from_millis(3500)).await;
    let log = load.finish().await;
    let v = judge("restart while idle", &log, back);
    println!(
        "faults: restart while idle ({idle} pooled connections), then light traffic: {} \
         requests, {} answered 503; first 200 {:.2} s after PostgreSQL was back",
        v.requests, v.failed, v.first_ok
    );
    assert_eq!(v.failed, 0, "dead pooled connections were handed out");

    // 3. PostgreSQL down: every DB-backed request answers 503 within the checkout timeout,
    // saying the database cannot be reached; /readyz 503, /healthz 200.
    cluster.stop().await;
    let down_at = Instant::now();
    let outage = [
        ("GET", client.clone(), Some(worker.clone()), None),
        ("GET", "/v1/cocs".to_string(), Some(app.admin.clone()), None),
        (
            "POST",
            "/v1/clients".to_string(),
            Some(worker.clone()),
            Some(body.clone()),
        ),
        ("GET", "/readyz".to_string(), None, None),
        ("GET", "/healthz".to_string(), None, None),
    ];
    let tasks: Vec<_> = outage
        .into_iter()
        .map(|(method, path, token, body)| {
            let app = app.clone();
            actix_web::rt::spawn(
                async move { hit(&app, method, &path, token.as_deref(), body).await },
            )
        })
        .collect();
    let mut slowest_503 = Duration::ZERO;
    for t in tasks {
        let o = t.await.unwrap();
        match o.path.as_str() {
            "/healthz" => {
                assert_eq!(o.status, 200, "{}", o.body);
                assert!(o.took() < Duration::from_secs(1), "{:?}", o.took());
            }
            "/readyz" => {
                o.assert_clean_503();
                assert_eq!(o.body["detail"], "The database is not reachable.");
            }
            _ => {
                o.assert_clean_503();
                let detail = o.body["detail"].as_str().unwrap();
                assert!(detail.contains("cannot be reached"), "{}: {detail}", o.path);
            }
        }
        assert!(
            o.took() <= CHECKOUT + Duration::from_millis(1500),
            "{} took {:?}",
            o.path,
            o.took()
        );
        slowest_503 = slowest_503.max(o.took());
    }

    // 4. Light traffic through the rest of a 5 s outage and after it: normal answers within
    // 3 s of PostgreSQL being back.
    let load = Load::start(&app, 1, Duration::from_millis(100), &requests);
    let outage = Duration::from_secs(5).saturating_sub(down_at.elapsed());
    actix_web::rt::time::sleep(outage).await;
    cluster.pg = Some(cluster.start_again().await);
    let back = Instant::now();
    actix_web::rt::time::sleep(Duration::from_millis(3500)).await;
    let log = load.finish().await;
    let v = judge("outage, light traffic", &log, back);
    println!(
        "faults: outage of {:.1} s: DB-backed requests answered 503 within {:.2} s (checkout \
         timeout {} s), /healthz 200; light traffic: {} requests, {} answered 503; first 200 \
         {:.2} s and last 503 {:.2} s after PostgreSQL was back",
        (back - down_at).as_secs_f64(),
        slowest_503.as_secs_f64(),
        CHECKOUT.as_secs(),
        v.requests,
        v.failed,
        v.first_ok,
        v.last_503
    );
    assert!(v.last_503 <= 3.0, "503s until {:.2} s", v.last_503);
    let r = app.get("/readyz", &app.admin).await;
    r.ok(200);
}

/// Open connections in the app's pool, as `/metrics` reports them.
async fn pool_connections<S, B>(app: &TestApp<S>) -> String
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let r = app
        .send(Call {
            method: "GET",
            path: "/metrics",
            token: None,
            body: None,
            headers: vec![],
        })
        .await;
    let text = String::from_utf8_lossy(&r.raw).into_owned();
    text.lines()
        .find_map(|l| l.strip_prefix("hearth_db_pool_connections "))
        .unwrap_or("?")
        .to_string()
}

#[actix_web::test]
async fn an_exhausted_pool_answers_503_with_retry_after_not_a_hang() {
    let settings = SessionSettings {
        statement_timeout: Duration::from_secs(30),
        test_transaction: false,
    };
    let checkout = Duration::from_millis(500);
    let pool = build_pool(&test_database_url(), 2, checkout, settings).expect("pool");
    let app = spawn_with(pool.clone()).await;
    // Every connection busy elsewhere.
    let held = (pool.get().unwrap(), pool.get().unwrap());
    let o = hit(&app, "GET", "/v1/cocs", Some(&app.admin), None).await;
    o.assert_clean_503();
    assert_eq!(
        o.body["detail"],
        "No database connection is free; try again shortly."
    );
    assert!(
        o.took() < checkout + Duration::from_secs(1),
        "{:?}",
        o.took()
    );
    let o = hit(&app, "GET", "/readyz", None, None).await;
    o.assert_clean_503();
    assert_eq!(
        o.body["detail"],
        "The database answers, but every connection in the pool is busy."
    );
    drop(held);
    app.get("/v1/cocs", &app.admin).await.ok(200);
}

/// Minimal HTTP/1.1 exchange with `Connection: close`; answers the whole response.
fn http_get(port: u16, path: &str, token: Option<&str>) -> std::io::Result<String> {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth}Connection: close\r\n\r\n"
    )?;
    let mut out = String::new();
    s.read_to_string(&mut out)?;
    Ok(out)
}

/// Sends `bytes` and reads until the server closes the connection.
fn raw_exchange(port: u16, bytes: &[u8]) -> String {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s.write_all(bytes).unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).unwrap();
    String::from_utf8_lossy(&out).into_owned()
}

/// Sends `bytes` and reads what arrives until the server closes or resets the connection (a
/// server that stops reading a request closes with unread bytes, which resets it).
fn exchange_until_reset(port: u16, bytes: &[u8]) -> String {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let _ = s.write_all(bytes);
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    while let Ok(n) = s.read(&mut buf) {
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Requests actix-http cannot parse never reach the app; the real server (the socket wrapper of
/// `api::server`) still answers them with a problem document, and leaves every other answer as
/// the app wrote it.
fn unparsable_requests_answer_a_problem_document(port: u16) {
    for bad in [
        &b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Note: a\x01b\r\n\r\n"[..],
        &b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Note: a\x7fb\r\n\r\n"[..],
        &b"GET /healthz HTTP/1.1\r\nHo st: x\r\n\r\n"[..],
        &b"GET /he althz HTTP/1.1\r\nHost: x\r\n\r\n"[..],
    ] {
        let answer = raw_exchange(port, bad);
        let (head, body) = answer.split_once("\r\n\r\n").expect("a whole answer");
        assert!(head.starts_with("HTTP/1.1 400 Bad Request"), "{answer}");
        assert!(
            head.to_ascii_lowercase()
                .contains("content-type: application/problem+json"),
            "{answer}"
        );
        let problem: serde_json::Value = serde_json::from_str(body).expect("a JSON body");
        assert_eq!(problem["status"], 400, "{answer}");
        // Every answer carries a request id, this one its own.
        assert!(
            head.to_ascii_lowercase().contains("x-request-id: "),
            "{answer}"
        );
    }
    // A URI too long to parse: the same problem, which says so.
    let mut long = b"GET /v1/agencies?limit=".to_vec();
    long.extend(std::iter::repeat_n(b'A', 100_000));
    long.extend_from_slice(b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    let answer = exchange_until_reset(port, &long);
    let (head, body) = answer.split_once("\r\n\r\n").expect("a whole answer");
    assert!(head.starts_with("HTTP/1.1 4"), "{head}");
    assert!(
        head.to_ascii_lowercase().contains("x-request-id: "),
        "{head}"
    );
    let problem: serde_json::Value = serde_json::from_str(body).expect("a JSON body");
    assert!(
        problem["detail"].as_str().unwrap().contains("longer"),
        "{problem}"
    );
    // A request head past actix-http's buffer (a 140 kB Authorization header; one of 100 kB is
    // read, and refused as a token): a 431 problem, not a bare 431.
    let mut big = b"GET /v1/cocs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ".to_vec();
    big.extend(std::iter::repeat_n(b'a', 140_000));
    big.extend_from_slice(b"\r\nConnection: close\r\n\r\n");
    let answer = exchange_until_reset(port, &big);
    let (head, body) = answer.split_once("\r\n\r\n").expect("a whole answer");
    assert!(
        head.starts_with("HTTP/1.1 431 Request Header Fields Too Large"),
        "{answer}"
    );
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: application/problem+json"),
        "{answer}"
    );
    let problem: serde_json::Value = serde_json::from_str(body).expect("a JSON body");
    assert_eq!(problem["status"], 431, "{answer}");
    // A good request then a bad one on the same connection: the first answer arrives untouched.
    let answer = raw_exchange(
        port,
        b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\nX: \x01\r\n\r\n",
    );
    assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");
    assert!(answer.contains("HTTP/1.1 400 Bad Request"), "{answer}");
    // The app's own 400s are its own: an unknown query parameter keeps its request id.
    let answer = raw_exchange(
        port,
        b"GET /v1/cocs?limit=%00 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert!(
        answer.to_ascii_lowercase().contains("x-request-id:"),
        "{answer}"
    );
}

/// Kills the server if the test fails before it exits.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn sigint_finishes_requests_in_flight_stops_the_embedded_cluster_and_logs_without_colour() {
    // The server starts this stopped cluster itself (HEARTH_DATA_DIR/pg), as on a developer's
    // machine, so it must stop it again on the way out.
    let cluster = Cluster::start("sigint");
    cluster.pg.as_ref().unwrap().stop().unwrap();
    let port = free_port();
    let log_path = cluster.dir.join("hearth.log");
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_hearth"));
    cmd.arg("serve")
        .env_remove("DATABASE_URL")
        .env_remove("NO_COLOR")
        .env("HEARTH_DATA_DIR", &cluster.dir)
        .env("HEARTH_BIND", format!("127.0.0.1:{port}"))
        .env("HEARTH_JWT_SECRET", SECRET)
        .env("HEARTH_JWT_ISSUER", ISSUER)
        .env("HEARTH_JWT_AUDIENCE", AUDIENCE)
        .env("HEARTH_WORKERS", "1")
        .env("RUST_LOG", "info")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&log_path).unwrap());
    let mut server = Child(cmd.spawn().expect("run the hearth binary"));
    let log = || std::fs::read_to_string(&log_path).unwrap_or_default();

    let deadline = Instant::now() + Duration::from_secs(60);
    while !http_get(port, "/healthz", None).is_ok_and(|r| r.starts_with("HTTP/1.1 200")) {
        assert!(server.0.try_wait().unwrap().is_none(), "exited: {}", log());
        assert!(
            Instant::now() < deadline,
            "not serving after 60 s: {}",
            log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    unparsable_requests_answer_a_problem_document(port);
    let pid_file = cluster.opts.data_dir.join("postmaster.pid");
    let pid_text = std::fs::read_to_string(&pid_file).expect("the server started the cluster");
    let pg_port = pid_text.lines().nth(3).unwrap().trim().to_string();
    let url = format!("postgres://postgres@127.0.0.1:{pg_port}/hearth");

    // A request in flight: it waits on a lock this test holds.
    let mut locker = PgConnection::establish(&url).unwrap();
    locker
        .batch_execute("BEGIN; LOCK TABLE cocs IN ACCESS EXCLUSIVE MODE")
        .unwrap();
    let admin = auth_config()
        .mint(
            "admin-sigint",
            &[Role::SystemAdmin],
            None,
            chrono::Duration::hours(1),
        )
        .unwrap();
    let request = std::thread::spawn(move || http_get(port, "/v1/cocs", Some(&admin)));
    let mut watcher = PgConnection::establish(&url).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let waiting: i64 = diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
            "(SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock')",
        ))
        .get_result(&mut watcher)
        .unwrap();
        if waiting > 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the request never reached the lock"
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    let sent = Instant::now();
    assert_eq!(unsafe { libc::kill(server.0.id() as i32, libc::SIGINT) }, 0);
    std::thread::sleep(Duration::from_millis(700));
    assert!(
        server.0.try_wait().unwrap().is_none(),
        "SIGINT did not wait for the request in flight: {}",
        log()
    );
    locker.batch_execute("ROLLBACK").unwrap();
    drop((locker, watcher));
    let answer = request.join().unwrap().expect("an answer");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");

    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(s) = server.0.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "still running: {}", log());
        std::thread::sleep(Duration::from_millis(100));
    };
    println!(
        "faults: SIGINT: request in flight answered 200, exit after {:.2} s",
        sent.elapsed().as_secs_f64()
    );
    assert!(status.success(), "{status}: {}", log());
    assert!(
        !pid_file.exists(),
        "the embedded cluster still runs: {}",
        log()
    );
    let text = log();
    assert!(text.contains("SIGINT"), "{text}");
    assert!(
        !text.contains('\u{1b}'),
        "colour codes in a log file: {text}"
    );
}

/// Two transactions that wait on each other's rows: PostgreSQL ends one with "deadlock
/// detected", which answers 409 `concurrent-update` (try again), not a 500.
#[test]
fn a_deadlock_is_a_conflict_to_try_again_not_a_500() {
    let pool = committing_pool(2);
    let (a, b) = (uuid::Uuid::now_v7(), uuid::Uuid::now_v7());
    {
        let mut c = pool.get().unwrap();
        c.batch_execute(&format!(
            "CREATE TABLE IF NOT EXISTS deadlock_probe (id uuid PRIMARY KEY); \
             INSERT INTO deadlock_probe VALUES ('{a}'), ('{b}')"
        ))
        .unwrap();
    }
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(2));
    let run = |first: uuid::Uuid, second: uuid::Uuid| {
        let pool = pool.clone();
        let barrier = barrier.clone();
        std::thread::spawn(move || {
            let mut c = pool.get().unwrap();
            c.transaction(|c| {
                c.batch_execute(&format!(
                    "SET LOCAL deadlock_timeout = '50ms'; \
                     SELECT 1 FROM deadlock_probe WHERE id = '{first}' FOR UPDATE"
                ))?;
                barrier.wait();
                c.batch_execute(&format!(
                    "SELECT 1 FROM deadlock_probe WHERE id = '{second}' FOR UPDATE"
                ))
            })
            .map_err(hearth::error::AppError::from)
        })
    };
    let (x, y) = (run(a, b), run(b, a));
    let outcomes = [x.join().unwrap(), y.join().unwrap()];
    let failed: Vec<_> = outcomes.iter().filter_map(|o| o.as_ref().err()).collect();
    assert_eq!(
        failed.len(),
        1,
        "one of the two is rolled back: {outcomes:?}"
    );
    let text = format!("{:?}", failed[0]);
    assert!(text.contains("concurrent-update"), "{text}");
    let mut c = pool.get().unwrap();
    c.batch_execute(&format!(
        "DELETE FROM deadlock_probe WHERE id IN ('{a}', '{b}')"
    ))
    .unwrap();
}

/// A command that fails and exits does so cleanly, every time: the pool opened no connection in
/// the background that the process's exit could tear down under it (`hearth migrate` and
/// `export-csv` ended in SIGSEGV about once in ten runs while a pool thread was still opening a
/// connection, `db::build_pool_keeping`).
#[test]
fn commands_exit_cleanly_however_often_they_run() {
    let url = test_database_url();
    // About one run in fourteen crashed before: a hundred runs miss it once in a thousand.
    for i in 0..120 {
        let args: &[&str] = if i % 6 != 5 {
            &["migrate"]
        } else {
            &[
                "export-csv",
                "--coc",
                "ZZ-999",
                "--start",
                "2024-01-01",
                "--end",
                "2024-02-01",
                "--out",
                "/dev/null",
            ]
        };
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_hearth"))
            .args(args)
            .env("DATABASE_URL", &url)
            .env("RUST_LOG", "warn")
            .output()
            .expect("run hearth");
        let want = if i % 6 != 5 { 0 } else { 1 };
        assert_eq!(
            out.status.code(),
            Some(want),
            "run {i} of {args:?}: {:?} {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
