//! The workload probe live: the shipped proof-of-concept workload on PostgreSQL, MariaDB,
//! SQLite and the SQL Server peer; a statement failing halfway, an escaping statement refused,
//! a read-only role, a role without the privilege, killed and interrupted runs. Every test
//! compares the catalog before and after: nothing the workload created may outlive the check.

use crate::support::*;
use std::path::{Path, PathBuf};
use std::process::{Command as Std, Stdio};
use std::time::{Duration, Instant};

/// A matrix naming a workload folder `wl` beside it, with the given files.
fn workload(dir: &Path, files: &[(&str, &str, &str)]) -> PathBuf {
    for (engine, name, text) in files {
        let d = dir.join("wl").join(engine);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join(name), text).unwrap();
    }
    matrix_file(dir, "schema_version = 1\n[app.workload]\ndir = \"wl\"\n")
}

fn only_workload(url: &str, matrix: Option<&Path>) -> (i32, serde_json::Value) {
    let mut args = vec![
        url.to_string(),
        "--probe-write".into(),
        "--only".into(),
        "*.workload".into(),
    ];
    if let Some(m) = matrix {
        args.push("--matrix".into());
        args.push(m.display().to_string());
    }
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, r, _, _) = check_json(&a);
    (code, r)
}

fn text<'a>(f: &'a serde_json::Value, k: &str) -> &'a str {
    f[k].as_str().unwrap_or("")
}

// ------------------------------------------------------------------------------- PostgreSQL

/// Every relation of the scratch database outside the system schemas.
fn pg_catalog(s: &PgScratch) -> String {
    s.sql("SELECT coalesce(string_agg(n.nspname || '.' || c.relname, ',' ORDER BY 1), '') FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'")
        .unwrap()
}

#[test]
fn postgres_takes_the_users_table_and_refuses_the_drop_all_of_a_foreign_key_cycle() {
    let Some(s) = require("local PostgreSQL", PgScratch::new("")) else {
        return;
    };
    s.sql("CREATE TABLE existing (id int)").unwrap();
    let before = pg_catalog(&s);
    let (code, r) = only_workload(&s.url("postgres"), None);
    let w = finding(&r, "postgres.workload");
    assert_eq!(w["status"], "fail", "{w}");
    assert_eq!(code, 1);
    let m = text(w, "message");
    // The users table and the DML pass; the teardown's DROP TABLE of the cycle does not.
    assert!(!m.contains("010_schema.sql"), "{m}");
    assert!(!m.contains("020_dml.sql"), "{m}");
    assert!(
        m.starts_with("2 of 19 statements failed: 030_teardown.sql:4 `DROP TABLE departments`"),
        "{m}"
    );
    assert!(
        m.contains("030_teardown.sql:5 `DROP TABLE employees`"),
        "{m}"
    );
    assert!(m.contains("[2BP01]"), "{m}");
    assert!(text(w, "remedy").contains("CASCADE"), "{w}");
    assert!(
        text(w, "observed").contains("010_schema.sql: 5/5 ran in"),
        "{w}"
    );
    assert!(text(w, "observed").contains("rolled back"), "{w}");
    assert_eq!(pg_catalog(&s), before, "the workload left something");
}

#[test]
fn postgres_a_statement_failing_halfway_and_the_ones_after_it() {
    let Some(s) = require("local PostgreSQL", PgScratch::new("")) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let m = workload(
        dir.path(),
        &[
            (
                "postgres",
                "1.sql",
                "CREATE TABLE a (id int PRIMARY KEY);\nINSERT INTO a VALUES (1);\nINSERT INTO a VALUES ('not a number');\nCREATE TABLE b (id int REFERENCES a);\n",
            ),
            (
                "postgres",
                "2.sql",
                "CREATE TABLE c (id int, x nosuchtype);\nINSERT INTO c VALUES (1);\nSELECT count(*) FROM b;\n",
            ),
        ],
    );
    let before = pg_catalog(&s);
    let (_, r) = only_workload(&s.url("postgres"), Some(&m));
    let w = finding(&r, "postgres.workload");
    assert_eq!(w["status"], "fail", "{w}");
    let msg = text(w, "message");
    assert!(
        msg.starts_with(
            "2 of 7 statements failed: 1.sql:3 `INSERT INTO a VALUES ('not a number')`"
        ),
        "{msg}"
    );
    assert!(msg.contains("[22P02]"), "{msg}");
    assert!(
        msg.contains("2.sql:1 `CREATE TABLE c (id int, x nosuchtype)`"),
        "{msg}"
    );
    // The INSERT into c failed only because c was never created; b, created after the failure, works.
    assert!(
        msg.contains("1 more failed only because an earlier one did: 2.sql:2 (after 2.sql:1)"),
        "{msg}"
    );
    assert!(!msg.contains("2.sql:3"), "{msg}");
    assert!(text(w, "observed").contains("1.sql: 4/4 ran in"), "{w}");
    assert_eq!(pg_catalog(&s), before);
}

#[test]
fn postgres_escaping_statements_are_refused_before_anything_runs() {
    let Some(s) = require("local PostgreSQL", PgScratch::new("")) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    // Were the guard absent, the COMMIT would keep table t.
    let m = workload(
        dir.path(),
        &[(
            "postgres",
            "1.sql",
            "CREATE TABLE t (id int);\nCOMMIT;\n/* ; */ INSERT INTO t VALUES ('COMMIT;');\nALTER SYSTEM SET work_mem = '1GB';\n",
        )],
    );
    let before = pg_catalog(&s);
    let (code, r) = only_workload(&s.url("postgres"), Some(&m));
    let w = finding(&r, "postgres.workload");
    assert_eq!(w["status"], "error", "{w}");
    assert_eq!(code, 1);
    let msg = text(w, "message");
    assert!(msg.contains("refused before anything ran"), "{msg}");
    assert!(msg.contains("wl/postgres/1.sql:2: `COMMIT`"), "{msg}");
    assert!(msg.contains("1.sql:4: `ALTER SYSTEM"), "{msg}");
    assert!(!msg.contains("1.sql:3"), "{msg}");
    assert_eq!(pg_catalog(&s), before);
}

#[test]
fn postgres_read_only_and_unprivileged_roles_are_skipped_with_why() {
    let Some(mut s) = require("local PostgreSQL", PgScratch::new("")) else {
        return;
    };
    let before = pg_catalog(&s);
    let ro = s.role("").unwrap();
    s.sql(&format!("GRANT CREATE ON SCHEMA public TO {ro}; ALTER ROLE {ro} SET default_transaction_read_only = on")).unwrap();
    let (_, r) = only_workload(&s.url(&ro), None);
    let w = finding(&r, "postgres.workload");
    assert_eq!(w["status"], "skip", "{w}");
    assert!(text(w, "message").contains("read-only"), "{w}");
    // PostgreSQL 15: only the owner may create in public.
    let plain = s.role("").unwrap();
    let (_, r) = only_workload(&s.url(&plain), None);
    let w = finding(&r, "postgres.workload");
    assert_eq!(w["status"], "skip", "{w}");
    assert!(
        text(w, "message").contains(&format!("GRANT CREATE ON SCHEMA public TO {plain};")),
        "{w}"
    );
    // Without --probe-write: not asked, and how to ask.
    let (_, r, _, _) = check_json(&[&s.url("postgres"), "--only", "*.workload"]);
    let w = finding(&r, "postgres.workload");
    assert_eq!(w["status"], "skip");
    assert!(
        text(w, "message").starts_with("not asked: run with --probe-write"),
        "{w}"
    );
    assert_eq!(pg_catalog(&s), before);
}

/// Spawns `check` in the background (its stdout and stderr discarded).
fn spawn_check(args: &[&str]) -> std::process::Child {
    Std::new(assert_cmd::cargo::cargo_bin("byod-precheck"))
        .arg("check")
        .args(args)
        .args(["--no-color", "--format", "json"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

fn wait_for(what: &str, secs: u64, mut f: impl FnMut() -> bool) {
    let t = Instant::now();
    while !f() {
        assert!(
            t.elapsed() < Duration::from_secs(secs),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn postgres_a_killed_run_leaves_nothing_and_the_next_run_is_clean() {
    let Some(s) = require("local PostgreSQL", PgScratch::new("")) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let m = workload(
        dir.path(),
        &[(
            "postgres",
            "1.sql",
            "CREATE TABLE slow_t (id int);\nINSERT INTO slow_t VALUES (1);\nSELECT pg_sleep(30);\n",
        )],
    );
    let before = pg_catalog(&s);
    let url = s.url("postgres");
    let mut child = spawn_check(&[
        &url,
        "--probe-write",
        "--only",
        "*.workload",
        "--matrix",
        m.to_str().unwrap(),
        "--check-timeout",
        "40",
    ]);
    wait_for("the workload's pg_sleep", 30, || {
        s.sql(&format!("SELECT count(*) FROM pg_stat_activity WHERE datname = '{}' AND query LIKE 'SELECT pg_sleep%'", s.db)).unwrap() == "1"
    });
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(pg_catalog(&s), before, "a killed run left something");
    // The server ends the orphaned statement; the next run works as if nothing happened.
    s.sql(&format!("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{}' AND query LIKE 'SELECT pg_sleep%'", s.db)).unwrap();
    let m2 = workload(
        dir.path(),
        &[(
            "postgres",
            "1.sql",
            "CREATE TABLE slow_t (id int);\nINSERT INTO slow_t VALUES (1);\n",
        )],
    );
    let (_, r) = only_workload(&url, Some(&m2));
    assert_eq!(
        status(&r, "postgres.workload"),
        "pass",
        "{}",
        finding(&r, "postgres.workload")
    );
    assert_eq!(pg_catalog(&s), before);
}

#[test]
fn postgres_the_per_check_limit_applies_to_each_statement() {
    let Some(s) = require("local PostgreSQL", PgScratch::new("")) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let m = workload(
        dir.path(),
        &[(
            "postgres",
            "1.sql",
            "SELECT pg_sleep(5);\nCREATE TABLE after_sleep (id int);\n",
        )],
    );
    let t = Instant::now();
    let (_, r, _, _) = check_json(&[
        &s.url("postgres"),
        "--probe-write",
        "--only",
        "*.workload",
        "--matrix",
        m.to_str().unwrap(),
        "--check-timeout",
        "1",
    ]);
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    let w = finding(&r, "postgres.workload");
    assert_eq!(w["status"], "fail", "{w}");
    assert!(
        text(w, "message").contains("1.sql:1 `SELECT pg_sleep(5)`"),
        "{w}"
    );
    assert!(text(w, "message").contains("statement timeout"), "{w}");
    assert!(text(w, "observed").contains("1.sql: 2/2 ran"), "{w}");
}

// ------------------------------------------------------------------------------------ MariaDB

fn root_sql(sql: &str) -> Result<String, String> {
    let out = Std::new("mysql")
        .args(["-h127.0.0.1", "-P3306", "-uroot", "-N", "-B", "-e", sql])
        .output()
        .map_err(|e| format!("cannot run the mysql client: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
    }
}

/// A MariaDB database and users, dropped when the guard goes.
struct MyScratch {
    db: String,
    users: Vec<String>,
    /// Dropped after the database and users (fields drop in order).
    _sweep: Sweep,
}

impl MyScratch {
    fn new() -> Option<MyScratch> {
        MyScratch::with(Sweep::shared)
    }
    /// For a test whose next run must be the one that drops its killed run's scratch database:
    /// no other MariaDB test runs meanwhile (any root `--probe-write` run would drop it first).
    fn alone() -> Option<MyScratch> {
        MyScratch::with(Sweep::alone)
    }
    fn with(sweep: fn() -> Sweep) -> Option<MyScratch> {
        require("local MariaDB", root_sql("SELECT 1").map(|_| ()))?;
        let sweep = sweep();
        let db = unique("precheck_wl");
        root_sql(&format!("CREATE DATABASE `{db}` CHARACTER SET utf8mb4")).unwrap();
        Some(MyScratch {
            db,
            users: Vec::new(),
            _sweep: sweep,
        })
    }
    fn user(&mut self, password: &str, privileges: &str) -> String {
        let u = unique("precheck_wu");
        root_sql(&format!(
            "CREATE USER '{u}'@'%' IDENTIFIED BY '{password}'; GRANT {privileges} ON `{}`.* TO '{u}'@'%';",
            self.db
        ))
        .unwrap();
        self.users.push(u.clone());
        u
    }
    fn root_url(&self) -> String {
        format!("mysql://root@127.0.0.1:3306/{}", self.db)
    }
    /// The database's tables, and every scratch database of a process.
    fn catalog(&self, pid: Option<u32>) -> String {
        let tables = root_sql(&format!("SELECT GROUP_CONCAT(table_name ORDER BY 1) FROM information_schema.tables WHERE table_schema = '{}'", self.db)).unwrap();
        let scratch = pid.map(|p| scratch_dbs(p).join(",")).unwrap_or_default();
        format!("{tables}|{scratch}")
    }
}

impl Drop for MyScratch {
    fn drop(&mut self) {
        let _ = root_sql(&format!("DROP DATABASE IF EXISTS `{}`", self.db));
        for u in &self.users {
            let _ = root_sql(&format!("DROP USER IF EXISTS '{u}'@'%'"));
        }
    }
}

/// The scratch databases a process made (their names carry its id).
fn scratch_dbs(pid: u32) -> Vec<String> {
    root_sql(&format!("SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE 'byod\\\\_precheck\\\\_wl\\\\_{pid}\\\\_%'"))
        .unwrap()
        .lines()
        .map(str::to_string)
        .filter(|l| !l.is_empty())
        .collect()
}

/// The scratch database named in a report's observed text.
fn scratch_of(w: &serde_json::Value) -> String {
    let o = text(w, "observed");
    let start = o
        .find("byod_precheck_wl_")
        .unwrap_or_else(|| panic!("no scratch database in {o}"));
    o[start..].split([',', ' ']).next().unwrap().to_string()
}

#[test]
fn mariadb_refuses_the_users_table_with_its_own_error_and_the_rewrite() {
    let Some(s) = MyScratch::new() else { return };
    let before = s.catalog(None);
    let (code, r) = only_workload(&s.root_url(), None);
    let w = finding(&r, "mysql.workload");
    assert_eq!(w["status"], "fail", "{w}");
    assert_eq!(code, 1);
    let m = text(w, "message");
    assert!(
        m.contains("010_schema.sql:3 `CREATE TABLE users ( id INTEGER NOT NULL AUTO_INCREMENT, na"),
        "{m}"
    );
    assert!(
        m.contains("You have an error in your SQL syntax") && m.contains("[1064]"),
        "{m}"
    );
    assert!(
        text(w, "remedy")
            .starts_with("010_schema.sql:3: give every VARCHAR a length, e.g. VARCHAR(255)"),
        "{w}"
    );
    // What used the users table failed because of it, not on its own.
    assert!(
        m.contains(
            "failed only because an earlier one did: 020_dml.sql:2 (after 010_schema.sql:3)"
        ),
        "{m}"
    );
    assert!(
        m.contains("030_teardown.sql:3 (after 010_schema.sql:3)"),
        "{m}"
    );
    // The cycle's teardown, as MariaDB really answers it.
    assert!(
        m.contains("030_teardown.sql:4 `DROP TABLE departments`"),
        "{m}"
    );
    assert!(
        text(w, "remedy").contains(
            "030_teardown.sql:4, 030_teardown.sql:5: the tables' foreign keys point at each other"
        ),
        "{w}"
    );
    let scratch = scratch_of(w);
    assert!(
        root_sql(&format!(
            "SELECT schema_name FROM information_schema.schemata WHERE schema_name = '{scratch}'"
        ))
        .unwrap()
        .is_empty()
    );
    assert_eq!(s.catalog(None), before, "the target database changed");
}

#[test]
fn mariadb_without_the_privilege_to_create_a_scratch_database_is_skipped_with_the_grant() {
    let Some(mut s) = MyScratch::new() else {
        return;
    };
    let u = s.user("Wl-pw-1", "ALL");
    let before = s.catalog(None);
    let (code, r) = only_workload(
        &format!("mysql://{u}:Wl-pw-1@127.0.0.1:3306/{}", s.db),
        None,
    );
    let w = finding(&r, "mysql.workload");
    assert_eq!(w["status"], "skip", "{w}");
    assert_eq!(code, 0);
    let m = text(w, "message");
    assert!(
        m.contains("needs the privilege to create and drop a scratch database"),
        "{m}"
    );
    assert!(
        m.contains(&format!(
            "GRANT ALL PRIVILEGES ON `byod\\_precheck\\_wl\\_%`.* TO '{u}'@'%';"
        )),
        "{m}"
    );
    assert!(!m.contains("Wl-pw-1"));
    assert_eq!(s.catalog(None), before);
}

#[test]
fn mariadb_escaping_statements_are_refused() {
    let Some(s) = MyScratch::new() else { return };
    let dir = tempfile::tempdir().unwrap();
    let target = s.db.clone();
    let m = workload(
        dir.path(),
        &[(
            "mysql",
            "1.sql",
            &format!(
                "CREATE TABLE t (id int);\nINSERT INTO `{target}`.t VALUES (1);\nUSE mysql;\nSET GLOBAL max_connections = 1;\n"
            ),
        )],
    );
    let before = s.catalog(None);
    let (_, r) = only_workload(&s.root_url(), Some(&m));
    let w = finding(&r, "mysql.workload");
    assert_eq!(w["status"], "error", "{w}");
    let msg = text(w, "message");
    assert!(
        msg.contains("1.sql:2: `INSERT INTO") && msg.contains("names another database"),
        "{msg}"
    );
    assert!(
        msg.contains("1.sql:3: `USE mysql`") && msg.contains("1.sql:4: `SET GLOBAL"),
        "{msg}"
    );
    assert_eq!(s.catalog(None), before);
}

#[test]
fn mariadb_a_killed_run_is_cleaned_by_the_next_and_ctrl_c_cleans_up() {
    let Some(s) = MyScratch::alone() else { return };
    let dir = tempfile::tempdir().unwrap();
    let m = workload(
        dir.path(),
        &[(
            "mysql",
            "1.sql",
            "CREATE TABLE t (id int);\nINSERT INTO t VALUES (1);\nSELECT SLEEP(30);\n",
        )],
    );
    let before = s.catalog(None);
    let args = |m: &Path| {
        vec![
            s.root_url(),
            "--probe-write".into(),
            "--only".into(),
            "*.workload".into(),
            "--matrix".into(),
            m.display().to_string(),
            "--check-timeout".into(),
            "40".into(),
        ]
    };
    let a = args(&m);
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    // Killed outright: the scratch database stays behind...
    let mut child = spawn_check(&a);
    let pid = child.id();
    wait_for("the scratch database", 30, || scratch_dbs(pid).len() == 1);
    wait_for("the SLEEP", 30, || {
        root_sql("SELECT COUNT(*) FROM information_schema.processlist WHERE info LIKE 'SELECT SLEEP(30)%'").unwrap() != "0"
    });
    child.kill().unwrap();
    child.wait().unwrap();
    let left = scratch_dbs(pid);
    assert_eq!(left.len(), 1, "a SIGKILL leaves the scratch database");
    // The server finishes the orphaned SLEEP (its connection holds the run's lock until then):
    // end it now rather than wait for it.
    let orphans = format!(
        "FROM information_schema.processlist WHERE db = '{}'",
        left[0]
    );
    for id in root_sql(&format!("SELECT id {orphans}")).unwrap().lines() {
        let _ = root_sql(&format!("KILL {id}"));
    }
    wait_for("the orphaned connection to go", 30, || {
        root_sql(&format!("SELECT COUNT(*) {orphans}")).unwrap() == "0"
    });
    // The killed run's lock goes with its last connection, which the server may end a moment
    // after the client died (seen under a loaded full run): until then a run is still alive.
    wait_for("the killed run's lock to be free", 30, || {
        root_sql(&format!("SELECT IS_FREE_LOCK('{}')", left[0])).unwrap() == "1"
    });
    // ... and the next run reports it and drops it (its lock is free: its run is gone).
    let quick_dir = tempfile::tempdir().unwrap();
    let quick = workload(
        quick_dir.path(),
        &[("mysql", "1.sql", "CREATE TABLE t (id int);\n")],
    );
    let (_, r) = only_workload(&s.root_url(), Some(&quick));
    let w = finding(&r, "mysql.workload");
    assert_eq!(w["status"], "pass", "{w}");
    assert!(
        text(w, "observed").contains(&format!("a killed earlier run left: {}", left[0])),
        "{w}"
    );
    assert!(scratch_dbs(pid).is_empty());
    // Ctrl-C: the run stops, drops its scratch database and still writes its report.
    let out = dir.path().join("interrupted.json");
    let mut a2 = a.clone();
    let o = out.display().to_string();
    a2.extend(["-o", o.as_str()]);
    let mut child = spawn_check(&a2);
    let pid = child.id();
    wait_for("the scratch database", 30, || scratch_dbs(pid).len() == 1);
    wait_for("the SLEEP", 30, || {
        root_sql("SELECT COUNT(*) FROM information_schema.processlist WHERE info LIKE 'SELECT SLEEP(30)%'").unwrap() != "0"
    });
    Std::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()
        .unwrap();
    let t = Instant::now();
    let code = child.wait().unwrap().code();
    assert!(
        t.elapsed() < Duration::from_secs(10),
        "Ctrl-C took {:?}",
        t.elapsed()
    );
    // 128 + SIGINT, as a shell reports an interrupted program; the report is still written.
    assert_eq!(code, Some(130));
    assert!(
        scratch_dbs(pid).is_empty(),
        "Ctrl-C left the scratch database"
    );
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let w = finding(&r, "mysql.workload");
    assert_eq!(w["status"], "error", "{w}");
    assert!(
        text(w, "message").starts_with("interrupted after 2 of 3 statements"),
        "{w}"
    );
    assert_eq!(s.catalog(None), before);
}

// ------------------------------------------------------------------------------------- SQLite

fn sqlite_file(dir: &Path) -> PathBuf {
    let p = dir.join("app.db");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        use sqlx::Connection;
        let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}?mode=rwc", p.display()))
            .await
            .unwrap();
        sqlx::raw_sql(
            "CREATE TABLE existing (id INTEGER PRIMARY KEY); INSERT INTO existing VALUES (1);",
        )
        .execute(&mut c)
        .await
        .unwrap();
    });
    p
}

fn sqlite_catalog(p: &Path) -> (String, Vec<u8>) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let names = rt.block_on(async {
        use sqlx::Connection;
        let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}?mode=ro", p.display()))
            .await
            .unwrap();
        let v: Vec<String> = sqlx::query_scalar("SELECT name FROM sqlite_master ORDER BY 1")
            .fetch_all(&mut c)
            .await
            .unwrap();
        v.join(",")
    });
    (names, std::fs::read(p).unwrap())
}

#[test]
fn sqlite_runs_the_whole_example_and_the_file_is_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_file(dir.path());
    let before = sqlite_catalog(&db);
    let (code, r) = only_workload(&format!("sqlite://{}", db.display()), None);
    let w = finding(&r, "sqlite.workload");
    assert_eq!(w["status"], "pass", "{w}");
    assert_eq!(code, 0);
    assert!(text(w, "message").contains("all 17 statements"), "{w}");
    assert!(
        text(w, "observed").contains("030_teardown.sql: 3/3 ran in"),
        "{w}"
    );
    assert_eq!(sqlite_catalog(&db), before, "the file changed");
    // Read-only and immutable files: skipped, with why; nothing written.
    for (opt, why) in [("mode=ro", "mode=ro"), ("immutable=1", "immutable")] {
        let (_, r) = only_workload(&format!("sqlite://{}?{opt}", db.display()), None);
        let w = finding(&r, "sqlite.workload");
        assert_eq!(w["status"], "skip", "{w}");
        assert!(text(w, "message").contains(why), "{w}");
    }
    assert_eq!(sqlite_catalog(&db), before);
}

#[test]
fn sqlite_a_failing_statement_and_the_per_check_limit() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_file(dir.path());
    let m = workload(
        dir.path(),
        &[(
            "sqlite",
            "1.sql",
            "CREATE TABLE a (id INTEGER PRIMARY KEY);\nINSERT INTO a VALUES (1);\nINSERT INTO a VALUES (1);\nWITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT count(*) FROM r;\nDROP TABLE a;\n",
        )],
    );
    let before = sqlite_catalog(&db);
    let t = Instant::now();
    let (_, r, _, _) = check_json(&[
        &format!("sqlite://{}", db.display()),
        "--probe-write",
        "--only",
        "*.workload",
        "--matrix",
        m.to_str().unwrap(),
        "--check-timeout",
        "1",
    ]);
    assert!(t.elapsed() < Duration::from_secs(8), "{:?}", t.elapsed());
    let w = finding(&r, "sqlite.workload");
    assert_eq!(w["status"], "fail", "{w}");
    let msg = text(w, "message");
    assert!(msg.starts_with("2 of 5 statements failed: 1.sql:3 `INSERT INTO a VALUES (1)` — UNIQUE constraint failed"), "{msg}");
    assert!(
        msg.contains("1.sql:4") && msg.contains("per-check limit"),
        "{msg}"
    );
    assert_eq!(sqlite_catalog(&db), before);
}

// --------------------------------------------------------------------------- SQL Server peer

#[test]
fn the_sql_server_peer_refuses_writes_so_the_workload_is_not_proven() {
    let Some(u) = require("SQL Server peer", mssql_peer("sql2022")) else {
        return;
    };
    let ca = mssql_peer_ca();
    let url = format!("{u}?ca={}", ca.display());
    let (code, r) = only_workload(&url, None);
    let w = finding(&r, "mssql.workload");
    assert_eq!(code, 1);
    assert_eq!(w["status"], "error", "{w}");
    assert!(text(w, "message").contains("not proven"), "{w}");
    assert!(!text(w, "message").contains(&mssql_peer_password()));
}

#[test]
fn a_matrix_names_its_workload_folder_relative_to_itself() {
    let dir = tempfile::tempdir().unwrap();
    let m = matrix_file(
        dir.path(),
        "schema_version = 1\n[app.workload]\ndir = \"nope\"\n",
    );
    let o = bin().args(["matrix", "validate"]).arg(&m).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(":2:1: [app.workload] dir: `nope` is not a folder"),
        "{err}"
    );
    let m = matrix_file(
        dir.path(),
        "schema_version = 1\n[app.workload]\ndri = \"wl\"\n",
    );
    let o = bin().args(["matrix", "validate"]).arg(&m).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("unknown key `dri`") && err.contains("missing key `dir`"),
        "{err}"
    );
}
