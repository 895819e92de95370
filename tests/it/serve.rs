//! `byod-precheck serve` over real HTTP: the API against the local PostgreSQL, MariaDB, SQLite
//! and the SQL Server peer; the SSRF guard (metadata, private ranges, names resolving to
//! loopback, DNS rebinding through an injected resolver); a marker password driven through every
//! failure with the service's log searched; the token off loopback; 429; graceful shutdown;
//! schemathesis against the generated OpenAPI document; the setup page in headless chromium.

use crate::support::{
    mssql_peer, mssql_peer_ca, mssql_peer_password, require, root, unique, validate,
};
use byod_precheck::serve::guard::{BoxFuture, Policy, Resolver};
use byod_precheck::serve::{ServeConfig, start};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

// ------------------------------------------------------------------ a tiny HTTP/1.1 client

pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Resp {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
    /// Server-Sent Events as (event, data) pairs.
    fn events(&self) -> Vec<(String, Value)> {
        self.body
            .split("\n\n")
            .filter_map(|block| {
                let (name, data) = sse_event(block);
                Some((name?, serde_json::from_str(&data).ok()?))
            })
            .collect()
    }
    fn everything(&self) -> String {
        format!("{:?}\n{}", self.headers, self.body)
    }
}

/// One Server-Sent Event block: its event name (none for a comment) and its data lines joined.
fn sse_event(block: &str) -> (Option<String>, String) {
    let mut name = None;
    let mut data = String::new();
    for line in block.lines() {
        if let Some(n) = line.strip_prefix("event:") {
            name = Some(n.trim().to_string());
        } else if let Some(d) = line.strip_prefix("data:") {
            data.push_str(d.strip_prefix(' ').unwrap_or(d));
        }
    }
    (name, data)
}

pub fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Resp {
    let mut s = TcpStream::connect(addr).expect("connect to the service");
    s.set_read_timeout(Some(Duration::from_secs(120))).unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if !body.is_empty() || method == "POST" {
        req.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).unwrap();
    let _ = s.write_all(body);
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw).to_string();
    let (head, rest) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let chunked = headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    let body = if chunked {
        dechunk(rest)
    } else {
        rest.to_string()
    };
    Resp {
        status,
        headers,
        body,
    }
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        s = rest[n..].strip_prefix("\r\n").unwrap_or(&rest[n..]);
    }
    out
}

fn post_json(addr: SocketAddr, body: &Value, extra: &[(&str, &str)]) -> Resp {
    let mut h = vec![("Content-Type", "application/json")];
    h.extend_from_slice(extra);
    http(addr, "POST", "/v1/checks", &h, body.to_string().as_bytes())
}

// ------------------------------------------------------------------ the service as a process

pub struct Service {
    child: Child,
    pub addr: SocketAddr,
    log: Arc<Mutex<String>>,
}

impl Service {
    pub fn start(args: &[&str], env: &[(&str, &str)]) -> Service {
        Self::try_start(args, env).unwrap_or_else(|log| panic!("the service did not start: {log}"))
    }

    fn try_start(args: &[&str], env: &[(&str, &str)]) -> Result<Service, String> {
        let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("byod-precheck"));
        cmd.arg("serve");
        if !args.contains(&"--listen") {
            cmd.args(["--listen", "127.0.0.1:0"]);
        }
        cmd.args(args)
            .env_remove("BYOD_PRECHECK_TOKEN")
            .env_remove("DATABASE_URL")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("run byod-precheck serve");
        let stderr = child.stderr.take().unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(a) = line.split("listening on http://").nth(1) {
                    let _ = tx.send(a.trim().to_string());
                }
                sink.lock().unwrap().push_str(&(line + "\n"));
            }
        });
        match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(a) => Ok(Service {
                child,
                addr: a.parse().unwrap(),
                log,
            }),
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                Err(log.lock().unwrap().clone())
            }
        }
    }

    /// SIGTERM, then the exit code and the whole log.
    pub fn stop(mut self) -> (Option<i32>, String) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let started = Instant::now();
        let code = loop {
            if let Ok(Some(st)) = self.child.try_wait() {
                break st.code();
            }
            if started.elapsed() > Duration::from_secs(90) {
                let _ = self.child.kill();
                break None;
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        std::thread::sleep(Duration::from_millis(100));
        (code, self.log.lock().unwrap().clone())
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn local_pg_up() -> Result<(), String> {
    crate::support::local_pg_up()
}

fn mariadb_up() -> Result<(), String> {
    TcpStream::connect_timeout(&"127.0.0.1:3306".parse().unwrap(), Duration::from_secs(2))
        .map(|_| ())
        .map_err(|e| format!("MariaDB at 127.0.0.1:3306: {e}"))
}

/// The ids and statuses of a report's findings.
fn verdicts(r: &Value) -> Vec<(String, String)> {
    r["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["id"].as_str().unwrap().to_string(),
                f["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

// ------------------------------------------------------------------ API against real servers

#[test]
fn postgres_over_http_is_the_cli_report_and_is_kept_by_id() {
    let Some(()) = require("local PostgreSQL", local_pg_up()) else {
        return;
    };
    let url = "postgres://postgres@127.0.0.1:5432/test";
    let svc = Service::start(&["--allow-target", "127.0.0.1"], &[]);
    let r = post_json(svc.addr, &json!({"url": url}), &[]);
    assert_eq!(r.status, 200, "{}", r.body);
    let report = r.json();
    validate(&report);
    let (_, cli, _, _) = crate::support::check_json(&[url]);
    let ids = |r: &Value| verdicts(r).into_iter().map(|(i, _)| i).collect::<Vec<_>>();
    assert_eq!(
        ids(&report),
        ids(&cli),
        "the same checks as `check --format json`"
    );
    assert_eq!(report["summary"]["status"], cli["summary"]["status"]);
    assert_eq!(report["server"]["flavor"], "postgresql");
    assert_eq!(report["target"]["host"], "127.0.0.1");
    // Kept by id, in three formats.
    let loc = r.header("location").unwrap().to_string();
    assert!(loc.starts_with("/v1/checks/"), "{loc}");
    let kept = http(svc.addr, "GET", &loc, &[], b"");
    assert_eq!(kept.status, 200);
    assert_eq!(kept.json(), report);
    let html = http(svc.addr, "GET", &format!("{loc}.html"), &[], b"");
    assert!(
        html.header("content-type")
            .unwrap()
            .starts_with("text/html")
    );
    assert!(
        html.body
            .contains("Database precheck of postgres://postgres@127.0.0.1:5432/test")
    );
    let md = http(svc.addr, "GET", &format!("{loc}.md"), &[], b"");
    assert!(
        md.header("content-type")
            .unwrap()
            .starts_with("text/markdown")
    );
    assert!(md.body.contains("postgres.connection"), "{}", md.body);
    let missing = http(
        svc.addr,
        "GET",
        "/v1/checks/0123456789abcdef0123456789abcdef",
        &[],
        b"",
    );
    assert_eq!(missing.status, 404);
    assert_eq!(
        missing.header("content-type"),
        Some("application/problem+json")
    );
    assert_eq!(missing.json()["status"], 404);
}

#[test]
fn server_sent_events_bring_each_finding_then_the_report() {
    let Some(()) = require("local PostgreSQL", local_pg_up()) else {
        return;
    };
    let svc = Service::start(&["--allow-target", "127.0.0.0/8"], &[]);
    let r = post_json(
        svc.addr,
        &json!({"url": "postgres://postgres@127.0.0.1:5432/test"}),
        &[("Accept", "text/event-stream")],
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.header("content-type")
            .unwrap()
            .starts_with("text/event-stream")
    );
    let events = r.events();
    assert_eq!(events.first().unwrap().0, "started", "{events:?}");
    let (last, report) = events.last().unwrap();
    assert_eq!(last, "report");
    validate(report);
    let findings: Vec<&Value> = events
        .iter()
        .filter(|(n, _)| n == "finding")
        .map(|(_, v)| v)
        .collect();
    let checks = report["checks"].as_array().unwrap();
    assert_eq!(findings.len(), checks.len(), "one event per finding");
    for (f, c) in findings.iter().zip(checks) {
        assert_eq!(*f, c);
    }
    let id = events[0].1["id"].as_str().unwrap();
    assert_eq!(
        http(svc.addr, "GET", &format!("/v1/checks/{id}"), &[], b"").json(),
        *report
    );
}

#[test]
fn mariadb_and_sqlite_over_http() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("app.db");
    {
        let out = Command::new("python3")
            .args(["-c", "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute('create table t(x)'); c.commit()"])
            .arg(&db)
            .output()
            .expect("python3");
        assert!(out.status.success());
    }
    let allow_dir = format!("sqlite:{}", dir.path().display());
    let svc = Service::start(
        &["--allow-target", &allow_dir, "--allow-target", "127.0.0.1"],
        &[],
    );
    let r = post_json(
        svc.addr,
        &json!({"url": format!("sqlite://{}", db.display())}),
        &[],
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let report = r.json();
    validate(&report);
    assert_eq!(report["target"]["engine"], "sqlite");
    assert_eq!(crate::support::status(&report, "sqlite.connection"), "pass");
    // A file outside the allowed folder.
    let r = post_json(svc.addr, &json!({"url": "sqlite:///etc/passwd"}), &[]);
    assert_eq!(r.status, 403, "{}", r.body);
    if require("local MariaDB", mariadb_up()).is_some() {
        let r = post_json(
            svc.addr,
            &json!({"url": "mysql://root@127.0.0.1:3306/test"}),
            &[],
        );
        assert_eq!(r.status, 200, "{}", r.body);
        let report = r.json();
        validate(&report);
        assert_eq!(report["server"]["flavor"], "mariadb");
        assert_eq!(crate::support::status(&report, "mysql.connection"), "pass");
    }
}

#[test]
fn sql_server_peer_over_http_with_a_pasted_ca() {
    let Some(url) = require("SQL Server peer sql2022", mssql_peer("sql2022")) else {
        return;
    };
    let pem = std::fs::read_to_string(mssql_peer_ca()).expect("the peer's CA");
    let password = mssql_peer_password();
    let svc = Service::start(&["--allow-target", "127.0.0.1"], &[]);
    // The password in the body, not the URL.
    let bare = url.replace(&format!(":{password}@"), "@");
    assert_ne!(bare, url);
    let r = post_json(
        svc.addr,
        &json!({"url": format!("{bare}?encrypt=true"), "password": password, "ca_pem": pem}),
        &[],
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let report = r.json();
    validate(&report);
    assert_eq!(
        crate::support::status(&report, "mssql.connection"),
        "pass",
        "{report:#}"
    );
    assert!(!r.body.contains(&password));
    // The CA path the service wrote is not a file a request can name.
    let r = post_json(
        svc.addr,
        &json!({"url": format!("{bare}?ca={}", mssql_peer_ca().display()), "password": password}),
        &[],
    );
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.json()["detail"].as_str().unwrap().contains("ca_pem"));
    let (code, log) = svc.stop();
    assert_eq!(code, Some(0), "{log}");
    assert!(
        !log.contains(&password),
        "the password is in the log: {log}"
    );
}

// ------------------------------------------------------------------ SSRF

#[test]
fn refuses_metadata_private_loopback_and_local_files_by_default() {
    let svc = Service::start(&[], &[]);
    for (url, why) in [
        ("postgres://u@169.254.169.254/db", "cloud metadata"),
        ("postgres://u@[fd00:ec2::254]/db", "cloud metadata"),
        ("mysql://u@metadata.google.internal/db", "cloud metadata"),
        (
            "postgres://u@METADATA.GOOGLE.INTERNAL./db",
            "cloud metadata",
        ),
        ("mssql://u@100.100.100.200/db", "cloud metadata"),
        ("postgres://u@10.0.0.5/db", "private"),
        ("postgres://u@172.16.3.4/db", "private"),
        ("postgres://u@192.168.1.10/db", "private"),
        ("postgres://u@100.64.0.1/db", "carrier-grade NAT"),
        ("postgres://u@169.254.10.10/db", "link-local"),
        ("postgres://u@127.0.0.1/db", "loopback"),
        ("postgres://u@[::1]/db", "loopback"),
        ("postgres://u@[::ffff:127.0.0.1]/db", "IPv4-mapped"),
        ("postgres://u@[fd12:3456::1]/db", "unique-local"),
        ("postgres://u@[fe80::1]/db", "link-local"),
        ("postgres://u@0.0.0.0/db", "this network"),
        // Names the system resolver turns into loopback.
        ("postgres://u@localhost/db", "loopback"),
        ("postgres://u@2130706433/db", "loopback"),
        ("postgres://u@127.1/db", "loopback"),
        (
            "Server=tcp:localhost,1433;Database=app;User Id=sa;Password=x1",
            "loopback",
        ),
        ("jdbc:sqlserver://10.1.1.1:1433;databaseName=app", "private"),
    ] {
        let r = post_json(svc.addr, &json!({"url": url}), &[]);
        assert_eq!(r.status, 403, "{url}: {}", r.body);
        assert_eq!(r.header("content-type"), Some("application/problem+json"));
        let detail = r.json()["detail"].as_str().unwrap().to_string();
        assert!(detail.contains(why), "{url}: {detail}");
    }
    for (url, status, what) in [
        ("sqlite::memory:", 403, "SQLite"),
        ("sqlite:///etc/passwd", 403, "SQLite"),
        ("postgres:///db?host=/var/run/postgresql", 403, "socket"),
        (
            "mysql://root@db.example.com/db?socket=/run/mysqld/mysqld.sock",
            403,
            "socket",
        ),
        (
            "postgres://u@db.example.com/db?sslrootcert=/etc/shadow",
            400,
            "sslrootcert",
        ),
        (
            "mysql://u@db.example.com/db?ssl-ca=/etc/shadow",
            400,
            "ssl-ca",
        ),
    ] {
        let r = post_json(svc.addr, &json!({"url": url}), &[]);
        assert_eq!(r.status, status, "{url}: {}", r.body);
        assert!(
            r.json()["detail"].as_str().unwrap().contains(what),
            "{url}: {}",
            r.body
        );
    }
    let (_, log) = svc.stop();
    assert!(!log.contains("TCP connect"), "something connected: {log}");
}

/// A resolver that answers from a script, counting its lookups: the first answer for a name,
/// then another for every later lookup (DNS rebinding).
struct Scripted {
    first: Vec<SocketAddr>,
    later: Vec<SocketAddr>,
    lookups: AtomicUsize,
}

impl Resolver for Scripted {
    fn lookup<'a>(
        &'a self,
        _host: &'a str,
        port: u16,
    ) -> BoxFuture<'a, std::io::Result<Vec<SocketAddr>>> {
        let n = self.lookups.fetch_add(1, Ordering::SeqCst);
        let list = if n == 0 { &self.first } else { &self.later };
        let out = list.iter().map(|a| SocketAddr::new(a.ip(), port)).collect();
        Box::pin(async move { Ok(out) })
    }
}

fn in_process(
    resolver: Arc<Scripted>,
    allow: &[&str],
) -> (tokio::runtime::Runtime, byod_precheck::serve::Running) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_stack_size(8 * 1024 * 1024)
        .enable_all()
        .build()
        .unwrap();
    let mut cfg = ServeConfig::new("127.0.0.1:0".parse().unwrap());
    cfg.resolver = resolver;
    cfg.connect_timeout = Duration::from_secs(3);
    cfg.policy = Policy::parse(&allow.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap();
    let running = rt
        .block_on(start(cfg, std::future::pending()))
        .expect("start in process");
    (rt, running)
}

#[test]
fn a_second_resolution_cannot_move_the_check_dns_rebinding() {
    let Some(()) = require("local PostgreSQL", local_pg_up()) else {
        return;
    };
    // First answer: the allowed PostgreSQL; every later one: a metadata address.
    let resolver = Arc::new(Scripted {
        first: vec!["127.0.0.1:0".parse().unwrap()],
        later: vec!["169.254.169.254:0".parse().unwrap()],
        lookups: AtomicUsize::new(0),
    });
    let (rt, running) = in_process(resolver.clone(), &["127.0.0.1"]);
    let r = post_json(
        running.addr,
        &json!({"url": "postgres://postgres@rebind.test:5432/test?sslmode=disable"}),
        &[],
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let report = r.json();
    validate(&report);
    assert_eq!(
        crate::support::status(&report, "postgres.connection"),
        "pass",
        "{report:#}"
    );
    assert_eq!(report["server"]["flavor"], "postgresql");
    assert_eq!(report["target"]["host"], "rebind.test");
    assert_eq!(
        resolver.lookups.load(Ordering::SeqCst),
        1,
        "the name was resolved once; every step used that answer"
    );
    // verify-full: the driver is handed the address, so the name is verified by our own
    // inspection first; the local server's certificate is not valid for rebind.test, so the
    // login is not attempted.
    let resolver2 = Arc::new(Scripted {
        first: vec!["127.0.0.1:0".parse().unwrap()],
        later: vec!["10.9.9.9:0".parse().unwrap()],
        lookups: AtomicUsize::new(0),
    });
    let (rt2, running2) = in_process(resolver2.clone(), &["127.0.0.1"]);
    let r = post_json(
        running2.addr,
        &json!({"url": "postgres://postgres@rebind.test:5432/test?sslmode=verify-full"}),
        &[],
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let report = r.json();
    let conn = crate::support::finding(&report, "postgres.connection");
    assert_eq!(conn["status"], "fail", "{conn:#}");
    assert_eq!(resolver2.lookups.load(Ordering::SeqCst), 1);
    rt.block_on(running.shutdown()).unwrap();
    rt2.block_on(running2.shutdown()).unwrap();
}

#[test]
fn a_name_with_one_private_address_among_public_ones_is_refused() {
    let resolver = Arc::new(Scripted {
        first: vec![
            "93.184.216.34:0".parse().unwrap(),
            "10.0.0.7:0".parse().unwrap(),
        ],
        later: vec![],
        lookups: AtomicUsize::new(0),
    });
    let (rt, running) = in_process(resolver, &[]);
    let r = post_json(
        running.addr,
        &json!({"url": "postgres://u@mixed.test/db"}),
        &[],
    );
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(r.json()["detail"].as_str().unwrap().contains("10.0.0.7"));
    // A name resolving to loopback through the injected resolver.
    let resolver = Arc::new(Scripted {
        first: vec!["127.0.0.1:0".parse().unwrap()],
        later: vec![],
        lookups: AtomicUsize::new(0),
    });
    let (rt2, running2) = in_process(resolver, &[]);
    let r = post_json(
        running2.addr,
        &json!({"url": "mysql://u@innocent.test/db"}),
        &[],
    );
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(r.json()["detail"].as_str().unwrap().contains("loopback"));
    rt.block_on(running.shutdown()).unwrap();
    rt2.block_on(running2.shutdown()).unwrap();
}

// ------------------------------------------------------------------ secrets

#[test]
fn a_marker_password_never_leaves_through_any_failure() {
    const MARKER: &str = "Mk7731@zebra:Q";
    const ENCODED: &str = "Mk7731%40zebra%3AQ";
    let hidden = ["Mk7731", "zebra:Q", ENCODED];
    let svc = Service::start(
        &["--allow-target", "127.0.0.1", "--connect-timeout", "3"],
        &[],
    );
    let mut seen = Vec::new();
    let mut bodies: Vec<(String, Resp)> = Vec::new();
    let mut try_body = |what: &str, body: String, headers: &[(&str, &str)]| {
        let mut h = vec![("Content-Type", "application/json")];
        h.extend_from_slice(headers);
        let r = http(svc.addr, "POST", "/v1/checks", &h, body.as_bytes());
        bodies.push((what.to_string(), r));
    };
    let pw = serde_json::to_string(MARKER).unwrap();
    // The marker in the body, in the URL, in wrong places, through each failure.
    try_body(
        "malformed url",
        format!(r#"{{"url":"postgres://u:{ENCODED}@h:99999/db"}}"#),
        &[],
    );
    try_body(
        "unknown scheme",
        format!(r#"{{"url":"oracle://u:{ENCODED}@h/db"}}"#),
        &[],
    );
    try_body(
        "ado",
        format!(r#"{{"url":"Server=h;Password={MARKER};Nonsense=1"}}"#),
        &[],
    );
    try_body(
        "refused target",
        format!(r#"{{"url":"postgres://u@10.0.0.1/db","password":{pw}}}"#),
        &[],
    );
    try_body(
        "wrong type",
        format!(r#"{{"url":{pw},"probe_write":{pw}}}"#),
        &[],
    );
    try_body(
        "unknown field",
        format!(r#"{{"url":"postgres://u@h/db","password":{pw},"secret":{pw}}}"#),
        &[],
    );
    try_body(
        "truncated json",
        format!(r#"{{"url":"postgres://u@h/db","password":{pw}"#),
        &[],
    );
    try_body(
        "too large",
        format!(
            r#"{{"url":"postgres://u@h/db","password":{pw},"ca_pem":"{}"}}"#,
            "A".repeat(600_000)
        ),
        &[],
    );
    try_body(
        "dns failure",
        format!(r#"{{"url":"postgres://u@no-such-host.invalid/db","password":{pw}}}"#),
        &[],
    );
    try_body(
        "refused port",
        format!(r#"{{"url":"postgres://u@127.0.0.1:1/db","password":{pw}}}"#),
        &[],
    );
    try_body(
        "bad ca",
        format!(r#"{{"url":"postgres://u@127.0.0.1/db","password":{pw},"ca_pem":{pw}}}"#),
        &[],
    );
    if require("local PostgreSQL", local_pg_up()).is_some() {
        // Trust auth: the login succeeds, the password must still not appear.
        try_body(
            "postgres login",
            format!(r#"{{"url":"postgres://postgres@127.0.0.1:5432/test","password":{pw}}}"#),
            &[],
        );
        try_body(
            "postgres sse",
            format!(r#"{{"url":"postgres://postgres:{ENCODED}@127.0.0.1:5432/test"}}"#),
            &[("Accept", "text/event-stream")],
        );
    }
    if require("local MariaDB", mariadb_up()).is_some() {
        try_body(
            "mariadb auth failure",
            format!(r#"{{"url":"mysql://root@127.0.0.1:3306/test","password":{pw}}}"#),
            &[],
        );
        try_body(
            "mariadb auth failure in url, sse",
            format!(r#"{{"url":"mysql://root:{ENCODED}@127.0.0.1:3306/test"}}"#),
            &[("Accept", "text/event-stream")],
        );
    }
    if let Some(url) = require("SQL Server peer sql2022", mssql_peer("sql2022")) {
        let bare = url.replace(&format!(":{}@", mssql_peer_password()), "@");
        try_body("mssql auth failure", json!({"url": format!("{bare}?encrypt=true&trust_server_certificate=true"), "password": MARKER}).to_string(), &[]);
    }
    for (what, r) in &bodies {
        assert!(r.status != 0, "{what}: no answer");
        seen.push(format!("{what}: {}", r.status));
        for h in hidden {
            assert!(
                !r.everything().contains(h),
                "{what}: the password is in the response: {}",
                r.everything()
            );
        }
        // Kept reports, in every format.
        if let Some(loc) = r.header("location") {
            for ext in ["", ".json", ".html", ".md"] {
                let k = http(svc.addr, "GET", &format!("{loc}{ext}"), &[], b"");
                assert_eq!(k.status, 200, "{what}{ext}");
                for h in hidden {
                    assert!(
                        !k.body.contains(h),
                        "{what}{ext}: the password is in the kept report"
                    );
                }
            }
        }
    }
    let statuses: Vec<u16> = bodies.iter().map(|(_, r)| r.status).collect();
    for expected in [400, 403, 413, 200] {
        assert!(statuses.contains(&expected), "no {expected} among {seen:?}");
    }
    let (code, log) = svc.stop();
    assert_eq!(code, Some(0));
    assert!(
        log.lines().count() >= bodies.len(),
        "every request is logged: {log}"
    );
    for h in hidden {
        assert!(
            !log.contains(h),
            "the password is in the service log:\n{log}"
        );
    }
}

// ------------------------------------------------------------------ exposure and limits

#[test]
fn off_loopback_needs_a_token_from_a_file_or_the_environment() {
    let out = crate::support::bin()
        .args(["serve", "--listen", "0.0.0.0:0"])
        .env_remove("BYOD_PRECHECK_TOKEN")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("needs a bearer token"), "{err}");
    // No --token flag exists: a token on the command line would show in `ps`.
    let out = crate::support::bin()
        .args(["serve", "--token", "abcdefghijklmnopqrstu"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));

    let dir = tempfile::tempdir().unwrap();
    let token = unique("tok-0123456789abcdef");
    let file = dir.path().join("token");
    std::fs::write(&file, format!("{token}\n")).unwrap();
    let svc = Service::start(
        &[
            "--listen",
            "0.0.0.0:0",
            "--token-file",
            file.to_str().unwrap(),
        ],
        &[],
    );
    let addr: SocketAddr = format!("127.0.0.1:{}", svc.addr.port()).parse().unwrap();
    assert_eq!(http(addr, "GET", "/v1/health", &[], b"").status, 200);
    assert!(
        http(addr, "GET", "/", &[], b"")
            .body
            .contains("data-token-required=\"yes\"")
    );
    for path in ["/v1/catalogue", "/v1/openapi.json", "/v1/checks/abc"] {
        let r = http(addr, "GET", path, &[], b"");
        assert_eq!(r.status, 401, "{path}");
        assert_eq!(
            r.header("www-authenticate"),
            Some("Bearer realm=\"byod-precheck\"")
        );
        let r = http(
            addr,
            "GET",
            path,
            &[("Authorization", "Bearer wrong-token-0123456789")],
            b"",
        );
        assert_eq!(r.status, 401, "{path}");
    }
    let auth = format!("Bearer {token}");
    let r = http(
        addr,
        "GET",
        "/v1/catalogue",
        &[("Authorization", &auth)],
        b"",
    );
    assert_eq!(r.status, 200);
    assert!(r.json().as_array().unwrap().len() > 40);
    let r = post_json(addr, &json!({"url": "postgres://u@10.0.0.1/db"}), &[]);
    assert_eq!(r.status, 401);
    let (_, log) = svc.stop();
    assert!(!log.contains(&token), "the token is in the log");

    // The environment variable.
    let svc = Service::start(
        &["--listen", "0.0.0.0:0"],
        &[("BYOD_PRECHECK_TOKEN", &token)],
    );
    let addr: SocketAddr = format!("127.0.0.1:{}", svc.addr.port()).parse().unwrap();
    assert_eq!(http(addr, "GET", "/v1/catalogue", &[], b"").status, 401);
    assert_eq!(
        http(
            addr,
            "GET",
            "/v1/catalogue",
            &[("Authorization", &auth)],
            b""
        )
        .status,
        200
    );
}

/// A server that accepts TCP and never answers: a check of it runs until its deadline.
fn hung_server() -> (TcpListener, u16) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    (l, port)
}

#[test]
fn bounded_concurrency_answers_429_and_shutdown_lets_a_running_check_finish() {
    let (_hung, port) = hung_server();
    let svc = Service::start(
        &[
            "--allow-target",
            "127.0.0.1",
            "--max-concurrent",
            "1",
            "--connect-timeout",
            "3",
        ],
        &[],
    );
    let addr = svc.addr;
    let slow = std::thread::spawn(move || {
        post_json(
            addr,
            &json!({"url": format!("postgres://u@127.0.0.1:{port}/db?sslmode=disable")}),
            &[],
        )
    });
    std::thread::sleep(Duration::from_millis(700));
    let health = http(addr, "GET", "/v1/health", &[], b"").json();
    assert_eq!(health["checks_running"], 1, "{health}");
    let r = post_json(
        addr,
        &json!({"url": format!("postgres://u@127.0.0.1:{port}/db")}),
        &[],
    );
    assert_eq!(r.status, 429, "{}", r.body);
    assert_eq!(r.header("retry-after"), Some("1"));
    // SIGTERM while the first check runs: it finishes (at its connect deadline), then the
    // service exits 0.
    let (code, log) = svc.stop();
    let first = slow.join().unwrap();
    assert_eq!(first.status, 200, "{}", first.body);
    let report = first.json();
    validate(&report);
    let conn = crate::support::finding(&report, "postgres.connection");
    assert_eq!(conn["status"], "fail");
    assert!(
        conn["message"].as_str().unwrap().contains("within 3 s"),
        "{conn:#}"
    );
    assert_eq!(code, Some(0), "{log}");
    assert!(log.contains("shutting down: 1 check(s) running"), "{log}");
}

#[test]
fn request_size_type_and_shape_are_problems() {
    let svc = Service::start(&[], &[]);
    let big = format!(r#"{{"url":"{}"}}"#, "x".repeat(600_000));
    let r = post_json(svc.addr, &serde_json::from_str(&big).unwrap(), &[]);
    assert_eq!(r.status, 413, "{}", r.body);
    let long = json!({"url": format!("postgres://u@h/{}", "x".repeat(9000))});
    let r = post_json(svc.addr, &long, &[]);
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("url is longer than 8192 characters"));
    let r = http(
        svc.addr,
        "POST",
        "/v1/checks",
        &[("Content-Type", "text/plain")],
        b"{}",
    );
    assert_eq!(r.status, 415);
    let r = http(
        svc.addr,
        "POST",
        "/v1/checks",
        &[("Content-Type", "application/json")],
        b"{nope",
    );
    assert_eq!(r.status, 400);
    let p = r.json();
    for k in ["type", "title", "status", "detail"] {
        assert!(p.get(k).is_some(), "problem detail without {k}: {p}");
    }
    let r = http(svc.addr, "GET", "/nowhere", &[], b"");
    assert_eq!(r.status, 404);
    assert_eq!(r.header("content-type"), Some("application/problem+json"));
    let page = http(svc.addr, "GET", "/", &[], b"");
    assert_eq!(page.status, 200);
    let csp = page.header("content-security-policy").unwrap();
    assert!(
        csp.contains("default-src 'none'") && csp.contains("connect-src 'self'"),
        "{csp}"
    );
    for external in ["http://", "https://", "//cdn", "@import", "url("] {
        assert!(!page.body.contains(external), "the page loads {external}");
    }
    let doc = http(svc.addr, "GET", "/v1/openapi.json", &[], b"").json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    assert!(doc["paths"]["/v1/checks"]["post"].is_object());
}

// ------------------------------------------------------------------ schemathesis

#[test]
fn schemathesis_finds_nothing_against_the_openapi_document() {
    let st = Command::new("schemathesis").arg("--version").output();
    let Some(_) = require(
        "schemathesis (scripts/serve-tools.sh installs it)",
        st.map_err(|e| e.to_string()).and_then(|o| {
            if o.status.success() {
                Ok(())
            } else {
                Err("schemathesis --version failed".into())
            }
        }),
    ) else {
        return;
    };
    let svc = Service::start(&["--connect-timeout", "2", "--timeout", "5"], &[]);
    // schemathesis keeps a cache in its working folder: not in the repository.
    let scratch = tempfile::tempdir().unwrap();
    let out = Command::new("schemathesis")
        .current_dir(scratch.path())
        .arg("run")
        .arg(format!("http://{}/v1/openapi.json", svc.addr))
        .args(["--max-examples", "25", "--checks", "all", "--workers", "2"])
        .args(["--exclude-checks", "positive_data_acceptance"])
        .env("SCHEMATHESIS_HOOKS", "")
        .output()
        .expect("run schemathesis");
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "schemathesis found problems:\n{text}");
}

// ------------------------------------------------------------------ the page in chromium

#[test]
fn the_setup_page_in_headless_chromium() {
    let Some(()) = require("local PostgreSQL", local_pg_up()) else {
        return;
    };
    let browser_dir = root().join("tests/browser");
    let ready = browser_dir.join("node_modules/playwright-core").is_dir()
        && std::path::Path::new("/usr/bin/chromium").exists();
    let Some(()) = require(
        "playwright-core and chromium (scripts/serve-tools.sh installs them)",
        if ready {
            Ok(())
        } else {
            Err("tests/browser/node_modules or /usr/bin/chromium missing".into())
        },
    ) else {
        return;
    };
    let shots = root().join("target/serve-screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let svc = Service::start(&["--allow-target", "127.0.0.1"], &[]);
    let out = Command::new("node")
        .arg(browser_dir.join("setup-page.mjs"))
        .env("SERVICE", format!("http://{}", svc.addr))
        .env("SCHEMA", root().join("reports/report.schema.json"))
        .env("SHOTS", &shots)
        .current_dir(&browser_dir)
        .output()
        .expect("run node");
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "the page test failed:\n{text}");
    for shot in ["setup-1280.png", "setup-375.png", "setup-keyboard-375.png"] {
        let p = shots.join(shot);
        assert!(
            std::fs::metadata(&p).is_ok_and(|m| m.len() > 10_000),
            "{} missing",
            p.display()
        );
    }
    let report: Value = serde_json::from_str(
        &std::fs::read_to_string(shots.join("downloaded-report.json")).unwrap(),
    )
    .unwrap();
    validate(&report);
    assert_eq!(report["target"]["host"], "127.0.0.1");
}

// ------------------------------------------------------------------ streaming and sharing

/// A Server-Sent Events response read as it arrives (chunked HTTP/1.1), event by event.
struct SseReader {
    r: BufReader<TcpStream>,
    pending: String,
}

impl SseReader {
    fn post(addr: SocketAddr, body: &Value) -> SseReader {
        let mut s = TcpStream::connect(addr).expect("connect to the service");
        s.set_read_timeout(Some(Duration::from_secs(120))).unwrap();
        let body = body.to_string();
        let req = format!(
            "POST /v1/checks HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: application/json\r\nAccept: text/event-stream\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        s.write_all(req.as_bytes()).unwrap();
        let mut r = BufReader::new(s);
        let mut line = String::new();
        r.read_line(&mut line).unwrap();
        assert!(line.starts_with("HTTP/1.1 200"), "{line}");
        loop {
            line.clear();
            r.read_line(&mut line).unwrap();
            if line == "\r\n" || line.is_empty() {
                break;
            }
        }
        SseReader {
            r,
            pending: String::new(),
        }
    }

    /// The next event, or `None` at the end of the stream (keep-alive comments skipped).
    fn next(&mut self) -> Option<(String, Value)> {
        loop {
            if let Some(at) = self.pending.find("\n\n") {
                let block: String = self.pending.drain(..at + 2).collect();
                let (name, data) = sse_event(&block);
                match name {
                    Some(n) => return Some((n, serde_json::from_str(&data).unwrap())),
                    None => continue,
                }
            }
            // One chunk: its size line, the bytes, CRLF.
            let mut size = String::new();
            if self.r.read_line(&mut size).ok()? == 0 {
                return None;
            }
            let n = usize::from_str_radix(size.trim(), 16).ok()?;
            if n == 0 {
                return None;
            }
            let mut buf = vec![0; n + 2];
            self.r.read_exact(&mut buf).ok()?;
            self.pending
                .push_str(&String::from_utf8_lossy(&buf[..n]).replace("\r\n", "\n"));
        }
    }
}

/// A psql session holding a table's ACCESS EXCLUSIVE lock until released.
struct TableLock {
    child: Child,
}

impl TableLock {
    fn take(url: &str, table: &str) -> TableLock {
        let mut child = Command::new("psql")
            .args([url, "-X", "-q", "-v", "ON_ERROR_STOP=1"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("run psql");
        let stdin = child.stdin.as_mut().unwrap();
        writeln!(stdin, "BEGIN; LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE;").unwrap();
        stdin.flush().unwrap();
        let lock = TableLock { child };
        lock.wait_for(url, table, true);
        lock
    }

    /// Waits (bounded) until the table's lock is held (`granted`) or awaited (`!granted`).
    fn wait_for(&self, url: &str, table: &str, granted: bool) {
        let sql = format!(
            "SELECT count(*) FROM pg_locks WHERE relation = '{table}'::regclass AND granted = {granted}"
        );
        for _ in 0..600 {
            if crate::support::psql(url, &sql).unwrap() != "0" {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("no lock on {table} with granted = {granted}");
    }

    fn release(mut self) {
        let mut stdin = self.child.stdin.take().unwrap();
        writeln!(stdin, "COMMIT;").unwrap();
        drop(stdin);
        self.child.wait().unwrap();
    }
}

#[test]
fn the_connection_finding_streams_before_the_catalog_is_read() {
    let Some(scratch) = require("local PostgreSQL", crate::support::PgScratch::new("")) else {
        return;
    };
    // A Rails history the check reads after the login; held locked, the read waits.
    scratch
        .sql("CREATE TABLE schema_migrations (version character varying PRIMARY KEY); INSERT INTO schema_migrations VALUES ('20240101000000')")
        .unwrap();
    let admin = crate::support::local_pg(&scratch.db);
    let svc = Service::start(&["--allow-target", "127.0.0.1"], &[]);
    let lock = TableLock::take(&admin, "schema_migrations");
    let mut sse = SseReader::post(svc.addr, &json!({"url": scratch.url("postgres")}));
    let mut events = vec![sse.next().unwrap()];
    assert_eq!(events[0].0, "started", "{events:?}");
    events.push(sse.next().unwrap());
    // The first finding came while the lock was held since before the request: before the
    // collection could end. The check is then seen waiting on the lock (the read it needs).
    assert_eq!(events[1].0, "finding", "{events:?}");
    assert_eq!(events[1].1["id"], "postgres.connection");
    assert_eq!(events[1].1["status"], "pass", "{:#}", events[1].1);
    lock.wait_for(&admin, "schema_migrations", false);
    lock.release();
    while let Some(e) = sse.next() {
        events.push(e);
    }
    let (last, report) = events.last().unwrap();
    assert_eq!(last, "report", "{events:?}");
    validate(report);
    // Every finding once, in the report's order, each as the report has it.
    let streamed: Vec<&Value> = events
        .iter()
        .filter(|(n, _)| n == "finding")
        .map(|(_, v)| v)
        .collect();
    let checks: Vec<&Value> = report["checks"].as_array().unwrap().iter().collect();
    assert_eq!(streamed, checks);
    assert_eq!(
        crate::support::status(report, "postgres.migrations"),
        "pass",
        "{:#}",
        crate::support::finding(report, "postgres.migrations")
    );
}

/// A TCP forwarder to the local PostgreSQL that counts the connections it accepts.
fn counting_proxy() -> (u16, Arc<AtomicUsize>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let accepted = Arc::new(AtomicUsize::new(0));
    let n = accepted.clone();
    std::thread::spawn(move || {
        for client in l.incoming().map_while(Result::ok) {
            n.fetch_add(1, Ordering::SeqCst);
            let Ok(server) = TcpStream::connect("127.0.0.1:5432") else {
                continue;
            };
            let (mut c2, mut s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
            let (mut c, mut s) = (client, server);
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut c, &mut s);
                let _ = s.shutdown(std::net::Shutdown::Write);
            });
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut s2, &mut c2);
                let _ = c2.shutdown(std::net::Shutdown::Write);
            });
        }
    });
    (port, accepted)
}

#[test]
fn checks_share_a_servers_reach_and_tls_inspection_and_say_so() {
    let Some(()) = require("local PostgreSQL", local_pg_up()) else {
        return;
    };
    let ssl = crate::support::psql(&crate::support::local_pg("test"), "SHOW ssl")
        .and_then(|s| (s == "on").then_some(()).ok_or(format!("ssl = {s}")));
    let Some(()) = require("TLS on the local PostgreSQL", ssl) else {
        return;
    };
    let (port, accepted) = counting_proxy();
    let url = format!("postgres://postgres@127.0.0.1:{port}/test?sslmode=require");
    let opened = |svc: &Service| {
        let before = accepted.load(Ordering::SeqCst);
        let r = post_json(svc.addr, &json!({"url": url}), &[]);
        assert_eq!(r.status, 200, "{}", r.body);
        let report = r.json();
        validate(&report);
        assert_eq!(
            crate::support::status(&report, "postgres.connection"),
            "pass"
        );
        (accepted.load(Ordering::SeqCst) - before, report)
    };
    let observed = |r: &Value, id: &str| {
        crate::support::finding(r, id)["observed"]
            .as_str()
            .unwrap_or("")
            .to_string()
    };
    // Shared for long enough that nothing expires during the test.
    let svc = Service::start(
        &["--allow-target", "127.0.0.1"],
        &[("BYOD_PRECHECK_SHARE_TTL", "600")],
    );
    // The first check reaches the server and inspects its TLS (one connection, reused), then
    // logs in (a second); through this proxy's port the pooler check also looks behind it (a
    // login of its own, never shared).
    let (n_first, first) = opened(&svc);
    assert!(n_first >= 2, "{first:#}");
    assert!(!observed(&first, "postgres.connection").contains("earlier check"));
    assert!(!observed(&first, "postgres.tls").contains("earlier check"));
    // The next ones take the figures: the connection opened to reach and inspect is not
    // opened again; their findings say so.
    for _ in 0..2 {
        let (n, next) = opened(&svc);
        assert_eq!(n, n_first - 1, "{next:#}");
        let conn = observed(&next, "postgres.connection");
        assert!(
            conn.contains("measured") && conn.contains("ago by an earlier check of this server"),
            "{conn}"
        );
        let tls = observed(&next, "postgres.tls");
        assert!(
            tls.contains("certificate inspected") && tls.contains("ago by an earlier check"),
            "{tls}"
        );
        assert_eq!(
            crate::support::finding(&next, "postgres.tls")["status"],
            crate::support::finding(&first, "postgres.tls")["status"]
        );
    }
    drop(svc);
    // Sharing off: every check measures for itself.
    let svc = Service::start(
        &["--allow-target", "127.0.0.1"],
        &[("BYOD_PRECHECK_SHARE_TTL", "0")],
    );
    for _ in 0..2 {
        let (n, r) = opened(&svc);
        assert_eq!(n, n_first, "{r:#}");
        assert!(!observed(&r, "postgres.connection").contains("earlier check"));
    }
}
