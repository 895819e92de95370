//! PostgreSQL end to end against real servers: the machine's PostgreSQL 15 with databases and
//! roles broken on purpose, and other majors from @embedded-postgres.

use crate::support::*;
use std::time::Instant;

/// A database where `role` has what the product needs.
fn healthy_db() -> Option<(PgScratch, String)> {
    let mut s = require(
        "local PostgreSQL",
        PgScratch::new("ENCODING 'UTF8' TEMPLATE template0"),
    )?;
    let role = s.role("").unwrap();
    s.sql(&format!("GRANT CONNECT, TEMPORARY ON DATABASE {} TO {role}; GRANT USAGE, CREATE ON SCHEMA public TO {role}", s.db))
        .unwrap();
    Some((s, role))
}

#[test]
fn healthy_database_passes_with_the_builtin_matrix() {
    let Some((s, role)) = healthy_db() else {
        return;
    };
    let (code, r, stdout, _) = check_json(&[&s.url(&role)]);
    assert_eq!(code, 0, "{stdout}");
    let checks = r["checks"].as_array().unwrap();
    assert!(checks.len() >= 20, "{} checks", checks.len());
    assert_eq!(r["summary"]["fail"], 0);
    assert_eq!(r["summary"]["error"], 0, "{stdout}");
    for id in [
        "postgres.create-table",
        "postgres.temp-tables",
        "postgres.writability",
        "postgres.encoding",
        "postgres.superuser",
    ] {
        assert_eq!(status(&r, id), "pass", "{id}");
    }
    assert_eq!(r["server"]["flavor"], "postgresql");
    assert!(r["server"]["version"].as_str().unwrap().starts_with("15."));
    assert!(r["queries"].as_u64().unwrap() > 5);
    assert_eq!(r["target"]["user"], role.as_str());
    assert!(
        stdout.contains("postgres.create-table"),
        "the table lists the checks"
    );
}

#[test]
fn a_host_parameter_is_the_host_of_every_step() {
    let Some(s) = require("local PostgreSQL", PgScratch::new("")) else {
        return;
    };
    // libpq's form: no host in the URL, `host=` as a parameter. DNS, TCP, the TLS inspection
    // and the login must all go there (the inspection once went to an empty name).
    let (_, r, stdout, _) = check_json(&[&format!(
        "postgres:///{}?host=127.0.0.1&user=postgres",
        s.db
    )]);
    assert_eq!(status(&r, "postgres.connection"), "pass", "{stdout}");
    let tls = finding(&r, "postgres.tls")["observed"].as_str().unwrap();
    assert!(
        tls.contains("subject CN="),
        "the certificate was read: {tls}"
    );
    assert_eq!(r["target"]["host"], "127.0.0.1");
}

#[test]
fn connect_only_user_fails_privileges_with_the_grants() {
    let Some(mut s) = require("local PostgreSQL", PgScratch::new("")) else {
        return;
    };
    let role = s.role("").unwrap();
    s.sql(&format!(
        "REVOKE ALL ON DATABASE {db} FROM PUBLIC; GRANT CONNECT ON DATABASE {db} TO {role}; \
         CREATE TABLE orders (id int primary key)",
        db = s.db
    ))
    .unwrap();
    let (code, r, stdout, _) = check_json(&[&s.url(&role)]);
    assert_eq!(code, 1);
    let c = finding(&r, "postgres.create-table");
    assert_eq!(c["status"], "fail");
    assert!(
        c["remedy"]
            .as_str()
            .unwrap()
            .starts_with(&format!("GRANT CREATE ON SCHEMA public TO {role};"))
    );
    let t = finding(&r, "postgres.temp-tables");
    assert_eq!(t["status"], "fail");
    assert_eq!(
        t["remedy"],
        format!("GRANT TEMPORARY ON DATABASE {} TO {role};", s.db).as_str()
    );
    let p = finding(&r, "postgres.table-privileges");
    assert_eq!(p["status"], "fail");
    assert!(p["message"].as_str().unwrap().contains("orders"));
    assert!(
        stdout.contains(&format!("GRANT TEMPORARY ON DATABASE {} TO {role};", s.db)),
        "the table shows the fix"
    );
}

#[test]
fn read_only_role_fails_writability() {
    let Some((s, role)) = healthy_db() else {
        return;
    };
    s.sql(&format!(
        "ALTER ROLE {role} SET default_transaction_read_only = on"
    ))
    .unwrap();
    let (code, r, _, _) = check_json(&[&s.url(&role)]);
    assert_eq!(code, 1);
    let w = finding(&r, "postgres.writability");
    assert_eq!(w["status"], "fail");
    assert!(
        w["observed"]
            .as_str()
            .unwrap()
            .contains("default_transaction_read_only = on"),
        "{w}"
    );
    // The fix goes where the default is set: the role.
    assert!(
        w["observed"]
            .as_str()
            .unwrap()
            .contains("default_transaction_read_only = on (set for role)"),
        "{w}"
    );
    assert!(w["remedy"].as_str().unwrap().contains(&format!(
        "ALTER ROLE {role} SET default_transaction_read_only = 'off';"
    )));
    // the same database, judged by a matrix that only reads, passes
    let dir = tempfile::tempdir().unwrap();
    let m = matrix_file(
        dir.path(),
        "schema_version = 1\n[app]\nneeds_write = false\n",
    );
    let (_, r, _, _) = check_json(&[&s.url(&role), "--matrix", m.to_str().unwrap()]);
    assert_eq!(status(&r, "postgres.writability"), "pass");
}

#[test]
fn latin1_and_sql_ascii_databases_fail_encoding() {
    for enc in ["LATIN1", "SQL_ASCII"] {
        let Some(s) = require(
            "local PostgreSQL",
            PgScratch::new(&format!(
                "ENCODING '{enc}' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0"
            )),
        ) else {
            return;
        };
        let (code, r, _, _) = check_json(&[&s.url("postgres"), "--only", "postgres.encoding"]);
        assert_eq!(code, 1, "{enc}");
        let e = finding(&r, "postgres.encoding");
        assert_eq!(e["status"], "fail");
        assert_eq!(e["observed"], enc);
        assert!(e["remedy"].as_str().unwrap().contains("ENCODING 'UTF8'"));
    }
}

#[test]
fn missing_extension_and_newer_version_requirement_fail() {
    let Some((s, role)) = healthy_db() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let m = matrix_file(
        dir.path(),
        "schema_version = 1\n[postgres]\nversions = \">=16\"\nextensions = [\"plpgsql\", \"no_such_extension\"]\n",
    );
    let (code, r, _, _) = check_json(&[&s.url(&role), "--matrix", m.to_str().unwrap()]);
    assert_eq!(code, 1);
    let v = finding(&r, "postgres.version");
    assert_eq!(v["status"], "fail");
    assert_eq!(v["expected"], "versions >=16");
    let e = finding(&r, "postgres.extensions");
    assert_eq!(e["status"], "fail");
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("no_such_extension is not available")
    );
    assert!(
        e["remedy"]
            .as_str()
            .unwrap()
            .contains("CREATE EXTENSION no_such_extension;")
    );
    assert_eq!(r["matrix"]["source"], m.to_str().unwrap());
}

#[test]
fn nothing_listening_is_refused_quickly_and_the_report_is_written() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let t = Instant::now();
    let (code, r, _, _) = check_json(&[
        &format!("postgres://app:pw@127.0.0.1:{port}/app"),
        "--connect-timeout",
        "3",
    ]);
    assert!(t.elapsed().as_secs() < 3);
    assert_eq!(code, 1);
    let c = finding(&r, "postgres.connection");
    assert_eq!(c["status"], "fail");
    assert_eq!(c["observed"], "refused");
    assert!(c["remedy"].as_str().unwrap().contains("listen_addresses"));
    assert_eq!(r["summary"]["fail"], 1);
    assert!(r["server"].is_null());
}

#[test]
fn unknown_database_is_database_missing_with_create_database() {
    let Some(()) = require("local PostgreSQL", local_pg_up()) else {
        return;
    };
    let (code, r, _, _) = check_json(&["postgres://postgres@127.0.0.1:5432/precheck_no_such_db"]);
    assert_eq!(code, 1);
    let c = finding(&r, "postgres.connection");
    assert_eq!(c["observed"], "database-missing");
    assert!(
        c["remedy"]
            .as_str()
            .unwrap()
            .contains("CREATE DATABASE precheck_no_such_db OWNER postgres")
    );
}

#[test]
fn wrong_password_on_a_password_cluster_is_authentication() {
    let Some(url) = require("PostgreSQL 18 (embedded)", embedded_pg(18)) else {
        return;
    };
    let bad = url.replace("precheck-test-pw", "WRONGPASSWORD-MARKER");
    let (code, r, stdout, stderr) = check_json(&[&bad]);
    assert_eq!(code, 1);
    let c = finding(&r, "postgres.connection");
    assert_eq!(c["observed"], "authentication", "{c}");
    assert!(c["remedy"].as_str().unwrap().contains("pg_hba.conf"));
    assert!(!format!("{stdout}{stderr}{r}").contains("WRONGPASSWORD-MARKER"));
    // and the right one, given on standard input instead of the URL
    let no_pw = url.replace(":precheck-test-pw", "");
    let out = bin()
        .args(["check", &no_pw, "--format", "json", "--password-stdin"])
        .write_stdin("precheck-test-pw\n")
        .output()
        .unwrap();
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(status(&r, "postgres.connection"), "pass");
}

#[test]
fn postgres_12_is_past_its_end_of_life() {
    let Some(url) = require("PostgreSQL 12 (embedded)", embedded_pg(12)) else {
        return;
    };
    let (code, r, _, _) = check_json(&[&url]);
    assert_eq!(code, 1);
    assert!(r["server"]["version"].as_str().unwrap().starts_with("12."));
    let e = finding(&r, "postgres.eol");
    assert_eq!(e["status"], "fail");
    assert!(e["message"].as_str().unwrap().contains("2024-11-21"));
    assert_eq!(
        status(&r, "postgres.version"),
        "fail",
        "the built-in matrix needs >=13"
    );
    assert_eq!(r["eol_data_date"], "2026-08-22");
}

#[test]
fn postgres_18_is_newer_than_tested() {
    let Some(url) = require("PostgreSQL 18 (embedded)", embedded_pg(18)) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let m = matrix_file(
        dir.path(),
        "schema_version = 1\n[postgres]\nversions = \">=13\"\ntested_up_to = \"17\"\n",
    );
    let (code, r, _, _) = check_json(&[&url, "--matrix", m.to_str().unwrap()]);
    let v = finding(&r, "postgres.version");
    assert_eq!(v["status"], "warn");
    assert!(v["message"].as_str().unwrap().contains("not yet tested"));
    assert!(r["server"]["version"].as_str().unwrap().starts_with("18."));
    assert_eq!(code, 0, "a warning alone does not fail the run");
    // the built-in matrix has tested 18
    let (_, r, _, _) = check_json(&[&url]);
    assert_eq!(status(&r, "postgres.version"), "pass");
}

/// Our driver sets its own session's TimeZone (sqlx sends UTC at login), so the zone other
/// clients get is read where it is set; psql (libpq sends none) is the oracle.
#[test]
fn the_time_zone_is_the_one_other_clients_get_not_our_sessions() {
    let Some(mut s) = require("local PostgreSQL", PgScratch::new("")) else {
        return;
    };
    let role = s.role("").unwrap();
    let zone = |user: &str| {
        let f = check_one(
            &s.url(user),
            "postgres.time-zone",
            "[app]\ntime_zone = \"UTC\"\n",
        );
        let shown = psql(&s.url(user), "SHOW timezone").unwrap();
        let observed = f["observed"].as_str().unwrap().to_string();
        assert!(
            observed.starts_with(&format!("{shown} (")),
            "psql says {shown}: {f}"
        );
        (f, observed)
    };
    // Nothing set for the database: the superuser reads the configuration files.
    let (f, observed) = zone("postgres");
    assert!(
        observed.ends_with("(postgresql.conf or ALTER SYSTEM)"),
        "{f}"
    );
    let (f, observed) = zone(&role);
    assert!(observed.contains("(log_timezone: "), "{f}");
    // Set for the database, then for the role in it: each is read and changed where it is set.
    s.sql(&format!(
        "ALTER DATABASE {} SET timezone = 'America/New_York'",
        s.db
    ))
    .unwrap();
    for user in ["postgres", role.as_str()] {
        let (f, observed) = zone(user);
        assert_eq!(observed, "America/New_York (set for the database)");
        assert_eq!(f["status"], "warn", "{f}");
        assert!(
            f["remedy"]
                .as_str()
                .unwrap()
                .starts_with(&format!("ALTER DATABASE {} SET timezone = 'UTC';", s.db)),
            "{f}"
        );
    }
    s.sql(&format!(
        "ALTER ROLE {role} IN DATABASE {} SET timezone = 'Asia/Tokyo'",
        s.db
    ))
    .unwrap();
    let (f, observed) = zone(&role);
    assert_eq!(observed, "Asia/Tokyo (set for the role in database)");
    let fix = f["remedy"].as_str().unwrap().to_string();
    assert!(
        fix.starts_with(&format!(
            "ALTER ROLE {role} IN DATABASE {} SET timezone = 'UTC';",
            s.db
        )),
        "{f}"
    );
    // The remedy, run as printed, is the fix.
    s.sql(fix.split("; (").next().unwrap()).unwrap();
    let (f, _) = zone(&role);
    assert_eq!(f["status"], "pass", "{f}");
    // DateStyle, which the driver sets too: unknown to a plain role until the database sets it.
    let date_style = || {
        check_one(
            &s.url(&role),
            "postgres.settings",
            "[postgres.settings]\nDateStyle = { equals = \"SQL, DMY\" }\n",
        )
    };
    let f = date_style();
    assert_eq!(f["status"], "error", "{f}");
    assert!(
        f["message"].as_str().unwrap().contains("our driver sets"),
        "{f}"
    );
    s.sql(&format!(
        "ALTER DATABASE {} SET DateStyle = 'SQL, DMY'",
        s.db
    ))
    .unwrap();
    let f = date_style();
    assert_eq!(f["status"], "pass", "{f}");
}

#[test]
fn an_idle_session_timeout_shorter_than_our_pool_keeps_connections_warns_with_its_fix() {
    let Some(s) = require("local PostgreSQL", PgScratch::new("")) else {
        return;
    };
    let idle = |matrix: &str| check_one(&s.url("postgres"), "postgres.idle-timeout", matrix);
    assert_eq!(idle("")["status"], "pass");
    s.sql(&format!(
        "ALTER DATABASE {} SET idle_session_timeout = '5min'",
        s.db
    ))
    .unwrap();
    let f = idle("");
    assert_eq!(f["status"], "warn", "{f}");
    assert_eq!(f["observed"], "idle_session_timeout = 300 s");
    let fix = f["remedy"].as_str().unwrap().to_string();
    assert!(
        fix.starts_with(&format!(
            "ALTER DATABASE {} SET idle_session_timeout = '0';",
            s.db
        )),
        "{f}"
    );
    // A pool that recycles within the server's limit is fine.
    assert_eq!(
        idle("[app]\npool_recycle_seconds = 240\n")["status"],
        "pass"
    );
    // The remedy, run as printed, is the fix.
    s.sql(fix.split("; (").next().unwrap()).unwrap();
    assert_eq!(idle("")["status"], "pass");
}
