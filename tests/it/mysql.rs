//! Live tests against the machine's MariaDB (root without a password on 127.0.0.1:3306): a
//! healthy database, then broken cases built on purpose (a SELECT-only user, a latin1 database,
//! a non-strict sql_mode, a read-only server, a wrong password, a missing database), each
//! asserting the verdict and the remedy in the JSON report and in the table.

use crate::support::*;
use std::process::Command as Std;
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

/// Tests that change global settings hold the write lock; tests whose verdicts depend on the
/// global settings hold the read lock.
static GLOBALS: RwLock<()> = RwLock::new(());

pub(crate) fn read_globals() -> RwLockReadGuard<'static, ()> {
    GLOBALS.read().unwrap_or_else(|p| p.into_inner())
}

fn write_globals() -> RwLockWriteGuard<'static, ()> {
    GLOBALS.write().unwrap_or_else(|p| p.into_inner())
}

/// Runs SQL as root with the command-line client; returns stdout.
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

fn mariadb_up() -> Result<(), String> {
    root_sql("SELECT 1").map(|_| ())
}

/// A scratch database and users, dropped when the guard goes.
pub(crate) struct Scratch {
    db: String,
    users: Vec<String>,
    /// Dropped after the database and users (fields drop in order).
    _sweep: Sweep,
}

impl Scratch {
    pub(crate) fn new(options: &str) -> Option<Scratch> {
        require("local MariaDB", mariadb_up())?;
        let sweep = Sweep::shared();
        let db = unique("precheck_my");
        root_sql(&format!("CREATE DATABASE `{db}` {options}")).expect("create database");
        Some(Scratch {
            db,
            users: Vec::new(),
            _sweep: sweep,
        })
    }

    /// Creates a user with a password and the given privileges on the scratch database.
    pub(crate) fn user(&mut self, password: &str, privileges: &str) -> String {
        let u = unique("precheck_u");
        root_sql(&format!(
            "CREATE USER '{u}'@'%' IDENTIFIED BY '{password}'; GRANT {privileges} ON `{}`.* TO '{u}'@'%';",
            self.db
        ))
        .expect("create user");
        self.users.push(u.clone());
        u
    }

    fn sql(&self, sql: &str) {
        root_sql(&format!("USE `{}`; {sql}", self.db)).expect("scratch SQL");
    }

    pub(crate) fn url(&self, user: &str, password: &str) -> String {
        format!("mysql://{user}:{password}@127.0.0.1:3306/{}", self.db)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = root_sql(&format!("DROP DATABASE IF EXISTS `{}`", self.db));
        for u in &self.users {
            let _ = root_sql(&format!("DROP USER IF EXISTS '{u}'@'%'"));
        }
    }
}

/// A global variable changed for one test and restored when the guard goes.
struct GlobalSetting {
    name: &'static str,
    old: String,
}

impl GlobalSetting {
    fn set(name: &'static str, value: &str) -> GlobalSetting {
        let old = root_sql(&format!("SELECT @@GLOBAL.{name}")).expect("read global");
        // Numbers only take effect unquoted.
        let value = if value.parse::<f64>().is_ok() {
            value.to_string()
        } else {
            format!("'{value}'")
        };
        root_sql(&format!("SET GLOBAL {name} = {value}")).expect("set global");
        GlobalSetting { name, old }
    }
}

impl Drop for GlobalSetting {
    fn drop(&mut self) {
        // Booleans come back as 0/1, which only take effect unquoted.
        let value = if self.old.parse::<f64>().is_ok() {
            self.old.clone()
        } else {
            format!("'{}'", self.old.replace('\'', "''"))
        };
        let restored = root_sql(&format!("SET GLOBAL {} = {value}", self.name));
        // A global left changed would fail later tests far from the cause: fail here.
        if let Err(e) = restored
            && !std::thread::panicking()
        {
            panic!("could not restore {} to {value}: {e}", self.name);
        }
    }
}

fn remedy<'a>(report: &'a serde_json::Value, id: &str) -> &'a str {
    finding(report, id)["remedy"].as_str().unwrap_or("")
}

#[test]
fn healthy_mariadb_passes_with_the_builtin_matrix() {
    let Some(()) = require("local MariaDB", mariadb_up()) else {
        return;
    };
    let _g = read_globals();
    let (code, report, stdout, stderr) = check_json(&["mysql://root@127.0.0.1:3306/test"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let checks = report["checks"].as_array().expect("checks");
    let mysql = checks
        .iter()
        .filter(|c| c["id"].as_str().unwrap_or("").starts_with("mysql."))
        .count();
    assert!(mysql >= 20, "only {mysql} mysql checks");
    assert_eq!(report["server"]["flavor"], "mariadb");
    assert!(
        report["server"]["version"]
            .as_str()
            .unwrap_or("")
            .starts_with("10.")
    );
    for id in [
        "mysql.connection",
        "mysql.charset",
        "mysql.sql-mode",
        "mysql.storage-engine",
        "mysql.index-key-length",
        "mysql.writability",
        "mysql.table-privileges",
        "mysql.capabilities",
    ] {
        assert_eq!(
            status(&report, id),
            "pass",
            "{id}: {}",
            finding(&report, id)
        );
    }
    assert!(report["queries"].as_u64().unwrap_or(0) > 5);
    assert!(stdout.contains("mysql.charset"));
}

#[test]
fn select_only_user_fails_privileges_with_the_grant() {
    let Some(mut s) = Scratch::new("CHARACTER SET utf8mb4") else {
        return;
    };
    let user = s.user("Pw-select-1", "SELECT");
    let _g = read_globals();
    let (code, report, stdout, _) = check_json(&[&s.url(&user, "Pw-select-1")]);
    assert_eq!(code, 1);
    let grant = format!(
        "GRANT INSERT, UPDATE, DELETE ON `{}`.* TO '{user}'@'%';",
        s.db
    );
    assert_eq!(status(&report, "mysql.table-privileges"), "fail");
    assert_eq!(remedy(&report, "mysql.table-privileges"), grant);
    assert_eq!(status(&report, "mysql.create-table"), "fail");
    assert_eq!(
        remedy(&report, "mysql.create-table"),
        format!(
            "GRANT CREATE, ALTER, DROP, INDEX, REFERENCES ON `{}`.* TO '{user}'@'%';",
            s.db
        )
    );
    assert_eq!(status(&report, "mysql.writability"), "fail");
    assert_eq!(status(&report, "mysql.superuser"), "pass");
    assert!(stdout.contains(&grant), "{stdout}");
    assert!(!stdout.contains("Pw-select-1"));
}

#[test]
fn probe_write_creates_and_drops_a_scratch_table() {
    let Some(mut s) = Scratch::new("CHARACTER SET utf8mb4") else {
        return;
    };
    let _g = read_globals();
    let writer = s.user("Pw-probe-1", "ALL");
    let (code, report, _, _) = check_json(&[&s.url(&writer, "Pw-probe-1"), "--probe-write"]);
    assert_eq!(code, 0);
    assert_eq!(status(&report, "mysql.writability"), "pass");
    assert!(
        finding(&report, "mysql.writability")["observed"]
            .as_str()
            .unwrap_or("")
            .contains("created, written and dropped")
    );
    assert_eq!(
        root_sql(&format!(
            "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = '{}'",
            s.db
        ))
        .as_deref(),
        Ok("0"),
        "the scratch table was left behind"
    );
    let reader = s.user("Pw-probe-2", "SELECT");
    let (code, report, _, _) = check_json(&[&s.url(&reader, "Pw-probe-2"), "--probe-write"]);
    assert_eq!(code, 1);
    let w = finding(&report, "mysql.writability");
    assert_eq!(w["status"], "fail");
    assert!(
        w["message"]
            .as_str()
            .unwrap_or("")
            .contains("creating a scratch table failed"),
        "{w}"
    );
}

#[test]
fn latin1_database_fails_charset_with_the_alter() {
    let Some(mut s) = Scratch::new("CHARACTER SET latin1 COLLATE latin1_swedish_ci") else {
        return;
    };
    s.sql("CREATE TABLE legacy (id INT PRIMARY KEY, name VARCHAR(50)) ENGINE=MyISAM CHARACTER SET latin1");
    let user = s.user("Pw-latin1-1", "ALL");
    let _g = read_globals();
    let (code, report, stdout, _) = check_json(&[&s.url(&user, "Pw-latin1-1")]);
    assert_eq!(code, 1);
    assert_eq!(status(&report, "mysql.charset"), "fail");
    assert!(
        finding(&report, "mysql.charset")["message"]
            .as_str()
            .unwrap_or("")
            .contains("latin1")
    );
    let alter = format!(
        "ALTER DATABASE `{}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;",
        s.db
    );
    assert!(remedy(&report, "mysql.charset").starts_with(&alter));
    assert!(stdout.contains(&alter), "{stdout}");
    assert_eq!(status(&report, "mysql.table-charset"), "fail");
    assert_eq!(
        remedy(&report, "mysql.table-charset"),
        "ALTER TABLE `legacy` CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;"
    );
    assert_eq!(status(&report, "mysql.storage-engine"), "warn");
    assert_eq!(
        remedy(&report, "mysql.storage-engine"),
        "ALTER TABLE `legacy` ENGINE = InnoDB;"
    );
}

#[test]
fn non_strict_sql_mode_fails() {
    let Some(()) = require("local MariaDB", mariadb_up()) else {
        return;
    };
    let _g = write_globals();
    let _mode = GlobalSetting::set("sql_mode", "NO_ENGINE_SUBSTITUTION");
    let (code, report, stdout, _) = check_json(&["mysql://root@127.0.0.1:3306/test"]);
    assert_eq!(code, 1);
    assert_eq!(status(&report, "mysql.sql-mode"), "fail");
    let fix = "SET GLOBAL sql_mode = 'STRICT_TRANS_TABLES,NO_ENGINE_SUBSTITUTION';";
    assert!(remedy(&report, "mysql.sql-mode").starts_with(fix));
    assert!(stdout.contains(fix), "{stdout}");
}

#[test]
fn read_only_server_fails_writability() {
    let Some(mut s) = Scratch::new("CHARACTER SET utf8mb4") else {
        return;
    };
    let user = s.user("Pw-ro-1", "ALL");
    let _g = write_globals();
    let _ro = GlobalSetting::set("read_only", "ON");
    let (code, report, stdout, _) = check_json(&[&s.url(&user, "Pw-ro-1")]);
    assert_eq!(code, 1);
    assert_eq!(status(&report, "mysql.writability"), "fail");
    assert!(
        finding(&report, "mysql.writability")["observed"]
            .as_str()
            .unwrap_or("")
            .contains("read_only = ON")
    );
    assert!(remedy(&report, "mysql.writability").contains("SET GLOBAL read_only = OFF;"));
    assert!(stdout.contains("SET GLOBAL read_only = OFF;"));
    // Privileges are fine: only the server refuses writes.
    assert_eq!(status(&report, "mysql.table-privileges"), "pass");
}

#[test]
fn wrong_password_is_an_authentication_failure_without_the_password() {
    let Some(mut s) = Scratch::new("CHARACTER SET utf8mb4") else {
        return;
    };
    let user = s.user("Pw-right-1", "ALL");
    let (code, report, stdout, stderr) = check_json(&[&s.url(&user, "Wr0ngSecret77")]);
    assert_eq!(code, 1);
    let c = finding(&report, "mysql.connection");
    assert_eq!(c["status"], "fail");
    assert_eq!(c["observed"], "authentication");
    assert!(remedy(&report, "mysql.connection").contains("MYSQL_PWD"));
    let text = format!("{report}{stdout}{stderr}");
    assert!(!text.contains("Wr0ngSecret77"), "the password leaked");
}

#[test]
fn missing_database_is_named_with_its_create() {
    let Some(()) = require("local MariaDB", mariadb_up()) else {
        return;
    };
    let db = unique("precheck_missing");
    let (code, report, stdout, _) = check_json(&[&format!("mysql://root@127.0.0.1:3306/{db}")]);
    assert_eq!(code, 1);
    let c = finding(&report, "mysql.connection");
    assert_eq!(c["status"], "fail");
    assert_eq!(c["observed"], "database-missing");
    let create = format!("CREATE DATABASE `{db}` CHARACTER SET utf8mb4;");
    assert!(remedy(&report, "mysql.connection").contains(&create));
    assert!(stdout.contains(&create), "{stdout}");
}

#[test]
fn refused_port_is_classified() {
    let (code, report, _, _) = check_json(&["mysql://root@127.0.0.1:1/test"]);
    assert_eq!(code, 1);
    assert_eq!(finding(&report, "mysql.connection")["observed"], "refused");
}

#[test]
fn mariadb_example_report_loads_and_renders() {
    let path = root().join("reports/examples/mariadb-10.11.json");
    let text = std::fs::read_to_string(&path).expect("example report");
    let report: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    validate(&report);
    assert_eq!(report["server"]["flavor"], "mariadb");
    let out = bin()
        .args(["render", path.to_str().unwrap_or_default()])
        .output()
        .expect("run render");
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("mysql.sql-mode"));
}

#[test]
fn saved_facts_replay_against_a_stricter_matrix() {
    let Some(()) = require("local MariaDB", mariadb_up()) else {
        return;
    };
    let _g = read_globals();
    let dir = tempfile::tempdir().expect("tempdir");
    let facts = dir.path().join("facts.json");
    let facts_arg = facts.to_str().unwrap_or_default();
    let (code, live, _, _) = check_json(&[
        "mysql://root@127.0.0.1:3306/test",
        "--save-facts",
        facts_arg,
    ]);
    assert_eq!(code, 0);
    // The same facts judged again give the same verdicts.
    let out = bin()
        .args(["replay", facts_arg, "--format", "json"])
        .output()
        .expect("run replay");
    assert_eq!(out.status.code(), Some(0));
    let replayed: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    validate(&replayed);
    for c in live["checks"].as_array().expect("checks") {
        let id = c["id"].as_str().unwrap_or_default();
        assert_eq!(status(&replayed, id), c["status"], "{id}");
    }
    // A matrix that requires row-based binary logging and refuses MariaDB fails the replay.
    let matrix = matrix_file(
        dir.path(),
        "schema_version = 1\n[mariadb]\nflavors = [\"mysql\"]\n[mariadb.settings]\nbinlog_format = { equals = \"ROW\" }\n",
    );
    let out = bin()
        .args(["replay", facts_arg, "--format", "json", "--matrix"])
        .arg(&matrix)
        .output()
        .expect("run replay");
    assert_eq!(out.status.code(), Some(1));
    let strict: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(status(&strict, "mysql.flavor"), "fail");
    assert_eq!(status(&strict, "mysql.binlog"), "fail");
    assert!(
        finding(&strict, "mysql.binlog")["remedy"]
            .as_str()
            .unwrap_or_default()
            .starts_with("SET GLOBAL binlog_format = 'ROW';")
    );
}

#[test]
fn tls_required_by_the_client_or_the_matrix() {
    let Some(()) = require("local MariaDB", mariadb_up()) else {
        return;
    };
    // The machine's MariaDB has no TLS (its TLS twin is scripts/mariadb-tls.sh); a TLS one here
    // is a missing precondition, which fails in CI like a missing server.
    let without_tls = match root_sql("SELECT @@have_ssl") {
        Ok(v) if v == "YES" => Err("this MariaDB has TLS; the test needs one without".to_string()),
        Ok(_) => Ok(()),
        Err(e) => Err(e),
    };
    let Some(()) = require("MariaDB without TLS on 3306", without_tls) else {
        return;
    };
    let _g = read_globals();
    // The client insists on TLS and the server has none: a classified tls failure.
    let (code, report, _, _) = check_json(&["mysql://root@127.0.0.1:3306/test?ssl-mode=REQUIRED"]);
    assert_eq!(code, 1);
    let c = finding(&report, "mysql.connection");
    assert_eq!(c["observed"], "tls");
    assert!(
        c["message"]
            .as_str()
            .unwrap_or_default()
            .contains("ssl-mode=REQUIRED")
    );
    // The matrix insists on TLS: the unencrypted session fails mysql.tls.
    let dir = tempfile::tempdir().expect("tempdir");
    let matrix = matrix_file(
        dir.path(),
        "schema_version = 1\n[app]\nrequire_tls = true\n",
    );
    let (code, report, _, _) = check_json(&[
        "mysql://root@127.0.0.1:3306/test",
        "--matrix",
        matrix.to_str().unwrap_or_default(),
    ]);
    assert_eq!(code, 1);
    assert_eq!(status(&report, "mysql.tls"), "fail");
    assert!(remedy(&report, "mysql.tls").contains("ssl-mode=VERIFY_IDENTITY"));
}

#[test]
fn a_wait_timeout_shorter_than_our_pool_keeps_connections_warns_with_its_fix() {
    let Some(s) = Scratch::new("CHARACTER SET utf8mb4") else {
        return;
    };
    let _g = write_globals();
    let idle = |matrix: &str| check_one(&s.url("root", ""), "mysql.idle-timeout", matrix);
    {
        let _short = GlobalSetting::set("wait_timeout", "600");
        let f = idle("");
        assert_eq!(f["status"], "warn", "{f}");
        assert_eq!(f["observed"], "wait_timeout = 600 s");
        assert!(
            f["remedy"]
                .as_str()
                .unwrap()
                .starts_with("SET GLOBAL wait_timeout = 28800; and wait_timeout = 28800 in my.cnf"),
            "{f}"
        );
        // A pool that recycles within the server's limit is fine.
        let f = idle("[app]\npool_recycle_seconds = 300\n");
        assert_eq!(f["status"], "pass", "{f}");
    }
    // Restored to the server's default: passes with the built-in matrix's 30 minutes.
    assert_eq!(idle("")["status"], "pass");
}
