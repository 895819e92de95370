//! Shared test plumbing: the binary under test, the servers, scratch databases and roles, and
//! report validation against the committed JSON schema.

#![allow(dead_code)]

use assert_cmd::Command;
use std::path::{Path, PathBuf};
use std::process::Command as Std;
use std::sync::OnceLock;

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The `byod-precheck` binary, with a clean environment for passwords and URLs.
pub fn bin() -> Command {
    let mut c = Command::cargo_bin("byod-precheck").expect("binary built");
    for v in [
        "DATABASE_URL",
        "PGPASSWORD",
        "MYSQL_PWD",
        "MSSQL_PASSWORD",
        "NO_COLOR",
    ] {
        c.env_remove(v);
    }
    c.env("COLUMNS", "200");
    c
}

/// Whether we run in CI, where a missing server must fail rather than skip.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// Returns the value, or ends the test: a failure in CI, a loud skip elsewhere.
/// Use as `let Some(url) = require("postgres 12", embedded_pg(12)) else { return };`
pub fn require<T>(what: &str, r: Result<T, String>) -> Option<T> {
    match r {
        Ok(v) => Some(v),
        Err(e) if in_ci() => panic!("{what} is needed and unavailable in CI: {e}"),
        Err(e) => {
            // Straight to the process's stderr, not through `eprintln!`: the test harness
            // captures the macros, and a skip must be seen without `--nocapture`.
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr().lock(),
                "SKIPPED (not in CI): {what} unavailable: {e}"
            );
            None
        }
    }
}

/// Runs a repository script and returns the last line of its stdout.
pub fn script_url(script: &str, args: &[&str]) -> Result<String, String> {
    script_url_with(script, args, &[])
}

/// [`script_url`] with environment variables for the script.
pub fn script_url_with(
    script: &str,
    args: &[&str],
    env: &[(&str, &str)],
) -> Result<String, String> {
    let out = Std::new("bash")
        .arg(root().join("scripts").join(script))
        .args(args)
        .envs(env.iter().copied())
        .output()
        .map_err(|e| format!("cannot run {script}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{script} {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .rev()
                .take(5)
                .collect::<Vec<_>>()
                .join(" | ")
        ));
    }
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .last()
        .map(str::to_string)
        .ok_or_else(|| format!("{script} printed no URL"))
}

/// A real PostgreSQL of another major from @embedded-postgres (started once per test run).
pub fn embedded_pg(major: u32) -> Result<String, String> {
    static URLS: OnceLock<
        std::sync::Mutex<std::collections::BTreeMap<u32, Result<String, String>>>,
    > = OnceLock::new();
    let m = URLS.get_or_init(Default::default);
    let mut g = m.lock().unwrap_or_else(|p| p.into_inner());
    g.entry(major)
        .or_insert_with(|| script_url("embedded-postgres.sh", &["start", &major.to_string()]))
        .clone()
}

/// The machine's PostgreSQL 15 (trust auth), as an admin URL for a database.
pub fn local_pg(db: &str) -> String {
    format!("postgres://postgres@127.0.0.1:5432/{db}")
}

/// Whether the local PostgreSQL answers.
pub fn local_pg_up() -> Result<(), String> {
    psql(&local_pg("postgres"), "SELECT 1").map(|_| ())
}

/// Runs SQL with psql against a URL; returns stdout.
pub fn psql(url: &str, sql: &str) -> Result<String, String> {
    let out = Std::new("psql")
        .args([
            url,
            "-v",
            "ON_ERROR_STOP=1",
            "-X",
            "-q",
            "-t",
            "-A",
            "-c",
            sql,
        ])
        .output()
        .map_err(|e| format!("cannot run psql: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
    }
}

/// One check's finding for `url` judged against a matrix of `matrix` (TOML after its
/// `schema_version` line): `check URL --only ID --matrix FILE`, the report validated.
pub fn check_one(url: &str, id: &str, matrix: &str) -> serde_json::Value {
    let dir = tempfile::tempdir().expect("temp dir");
    let m = matrix_file(dir.path(), &format!("schema_version = 1\n{matrix}"));
    let (_, r, _, _) = check_json(&[url, "--only", id, "--matrix", m.to_str().unwrap()]);
    finding(&r, id).clone()
}

/// A unique name for scratch objects, so parallel tests never collide.
pub fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "{prefix}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// A scratch PostgreSQL database (and roles) dropped when the guard goes.
pub struct PgScratch {
    pub db: String,
    pub roles: Vec<String>,
}

impl PgScratch {
    /// Creates a database on the local server with extra `CREATE DATABASE` options.
    pub fn new(options: &str) -> Result<PgScratch, String> {
        local_pg_up()?;
        let db = unique("precheck_db");
        psql(
            &local_pg("postgres"),
            &format!("CREATE DATABASE {db} {options}"),
        )?;
        Ok(PgScratch {
            db,
            roles: Vec::new(),
        })
    }
    /// Creates a login role, remembered for cleanup.
    pub fn role(&mut self, attrs: &str) -> Result<String, String> {
        let r = unique("precheck_role");
        psql(
            &local_pg("postgres"),
            &format!("CREATE ROLE {r} LOGIN {attrs}"),
        )?;
        self.roles.push(r.clone());
        Ok(r)
    }
    /// Runs SQL in the scratch database as the superuser.
    pub fn sql(&self, sql: &str) -> Result<String, String> {
        psql(&local_pg(&self.db), sql)
    }
    /// The URL of the scratch database for a user.
    pub fn url(&self, user: &str) -> String {
        format!("postgres://{user}@127.0.0.1:5432/{}", self.db)
    }
}

impl Drop for PgScratch {
    fn drop(&mut self) {
        let admin = local_pg("postgres");
        let _ = psql(
            &admin,
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.db),
        );
        for r in &self.roles {
            let _ = psql(&admin, &format!("DROP ROLE IF EXISTS {r}"));
        }
    }
}

/// Runs `check` and returns (exit code, parsed JSON report, stdout, stderr). The report is
/// validated against `reports/report.schema.json`.
pub fn check_json(args: &[&str]) -> (i32, serde_json::Value, String, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("report.json");
    let o = bin()
        .arg("check")
        .args(args)
        .args(["--no-color", "-o"])
        .arg(&out)
        .output()
        .expect("run binary");
    let stdout = String::from_utf8_lossy(&o.stdout).to_string();
    let stderr = String::from_utf8_lossy(&o.stderr).to_string();
    let text = std::fs::read_to_string(&out)
        .unwrap_or_else(|e| panic!("no report written ({e}); stderr: {stderr}"));
    let report: serde_json::Value = serde_json::from_str(&text).expect("report is JSON");
    validate(&report);
    (o.status.code().unwrap_or(-1), report, stdout, stderr)
}

/// Validates a report against the committed schema.
pub fn validate(report: &serde_json::Value) {
    static SCHEMA: OnceLock<jsonschema::Validator> = OnceLock::new();
    let v = SCHEMA.get_or_init(|| {
        let text = std::fs::read_to_string(root().join("reports/report.schema.json"))
            .expect("schema file");
        let schema: serde_json::Value = serde_json::from_str(&text).expect("schema JSON");
        jsonschema::validator_for(&schema).expect("valid schema")
    });
    let errors: Vec<String> = v
        .iter_errors(report)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    assert!(
        errors.is_empty(),
        "report does not match reports/report.schema.json: {errors:#?}"
    );
}

/// The finding with an id.
pub fn finding<'a>(report: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    report["checks"]
        .as_array()
        .and_then(|c| c.iter().find(|f| f["id"] == id))
        .unwrap_or_else(|| panic!("no finding {id} in report"))
}

/// The status of a finding.
pub fn status<'a>(report: &'a serde_json::Value, id: &str) -> &'a str {
    finding(report, id)["status"].as_str().unwrap_or("")
}

/// Writes a matrix file for a test.
pub fn matrix_file(dir: &Path, text: &str) -> PathBuf {
    let p = dir.join("matrix.toml");
    std::fs::write(&p, text).expect("write matrix");
    p
}

// ---------------------------------------------------------------- SQL Server peers (mssql)

/// A pysqlbridge SQL Server peer of `scripts/mssql-peer.sh` (started once per profile and run):
/// its URL, `mssql://sa:PASSWORD@127.0.0.1:PORT/app`.
pub fn mssql_peer(profile: &str) -> Result<String, String> {
    static URLS: OnceLock<
        std::sync::Mutex<std::collections::BTreeMap<String, Result<String, String>>>,
    > = OnceLock::new();
    let m = URLS.get_or_init(Default::default);
    let mut g = m.lock().unwrap_or_else(|p| p.into_inner());
    g.entry(profile.to_string())
        .or_insert_with(|| script_url("mssql-peer.sh", &["start", profile]))
        .clone()
}

/// The private CA that signs the peers' certificates (made by the first start).
pub fn mssql_peer_ca() -> PathBuf {
    std::env::var_os("BYOD_TEST_SERVERS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/tmp/byod-precheck-test-servers"))
        .join("mssql/tls/ca.pem")
}

/// The peers' login password (what the URL carries), to assert it never leaks.
pub fn mssql_peer_password() -> String {
    std::env::var("BYOD_MSSQL_PEER_PASSWORD").unwrap_or_else(|_| "Precheck-test-pw1".into())
}

/// MariaDB's scratch databases are shared by every test in this binary: a root `--probe-write`
/// run drops any that a killed earlier run left, whichever test left it. A test holds a
/// [`Sweep::shared`] while it uses MariaDB; the one test that must see its own orphan dropped by
/// its own next run holds [`Sweep::alone`], which waits until no other MariaDB test runs.
/// Shared holders never wait on each other (a test may hold several), so nothing deadlocks.
pub struct Sweep {
    alone: bool,
}

/// (tests holding a shared sweep, whether one test holds it alone)
static SWEEP: (std::sync::Mutex<(usize, bool)>, std::sync::Condvar) =
    (std::sync::Mutex::new((0, false)), std::sync::Condvar::new());

impl Sweep {
    pub fn shared() -> Sweep {
        Sweep::take(false)
    }
    pub fn alone() -> Sweep {
        Sweep::take(true)
    }
    fn take(alone: bool) -> Sweep {
        let (lock, changed) = &SWEEP;
        let mut s = lock.lock().unwrap_or_else(|e| e.into_inner());
        // Shared holders wait only while one test runs alone; the lone one waits for everybody.
        while s.1 || (alone && s.0 > 0) {
            s = changed.wait(s).unwrap_or_else(|e| e.into_inner());
        }
        if alone {
            s.1 = true;
        } else {
            s.0 += 1;
        }
        Sweep { alone }
    }
}

impl Drop for Sweep {
    fn drop(&mut self) {
        let (lock, changed) = &SWEEP;
        let mut s = lock.lock().unwrap_or_else(|e| e.into_inner());
        if self.alone {
            s.1 = false;
        } else {
            s.0 -= 1;
        }
        changed.notify_all();
    }
}
