//! Safety promises, proven against real servers: bounded time (hung listeners, locks, cut
//! connections), read-only by default, `--probe-write` leaves nothing, and no password leaves
//! the process in any failure mode or output format.

use crate::support::*;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

/// A loopback listener that accepts connections and never answers.
fn silent_listener() -> (u16, std::thread::JoinHandle<()>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let h = std::thread::spawn(move || {
        let mut held = Vec::new();
        l.set_nonblocking(true).unwrap();
        let end = Instant::now() + Duration::from_secs(8);
        while Instant::now() < end {
            if let Ok((s, _)) = l.accept() {
                held.push(s);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    });
    (port, h)
}

#[test]
fn a_server_that_never_answers_times_out_within_the_connect_limit() {
    let (port, _h) = silent_listener();
    let t = Instant::now();
    let (code, r, _, _) = check_json(&[
        &format!("postgres://app@127.0.0.1:{port}/app"),
        "--connect-timeout",
        "1.5",
    ]);
    let took = t.elapsed();
    assert!(took < Duration::from_secs(4), "took {took:?}");
    assert_eq!(code, 1);
    let c = finding(&r, "postgres.connection");
    assert_eq!(c["observed"], "timeout", "{c}");
    // TCP was accepted: the remedy looks past the network (issue 17), not at a firewall.
    let remedy = c["remedy"].as_str().unwrap();
    assert!(remedy.contains("accepted the TCP connection"), "{remedy}");
    assert!(!remedy.contains("firewall"), "{remedy}");
}

#[test]
fn a_check_blocked_by_a_lock_errors_and_the_others_finish() {
    let Some(s) = require("local PostgreSQL", PgScratch::new("")) else {
        return;
    };
    s.sql("CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY); INSERT INTO alembic_version VALUES ('abc123')")
        .unwrap();
    // Another session holds an exclusive lock on the history table for a while.
    let mut holder = std::process::Command::new("psql")
        .args([&local_pg(&s.db), "-X", "-q", "-c", "BEGIN; LOCK TABLE alembic_version IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(6); COMMIT;"])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(600));
    let t = Instant::now();
    let (code, r, _, _) = check_json(&[&s.url("postgres"), "--check-timeout", "1"]);
    let took = t.elapsed();
    let _ = holder.wait();
    assert!(took < Duration::from_secs(5), "took {took:?}");
    assert_eq!(code, 1);
    let m = finding(&r, "postgres.migrations");
    assert_eq!(m["status"], "error", "{m}");
    assert!(m["message"].as_str().unwrap().contains("timed out"), "{m}");
    assert_eq!(status(&r, "postgres.encoding"), "pass");
    assert_eq!(status(&r, "postgres.create-table"), "pass");
    assert!(
        r["summary"]["pass"].as_u64().unwrap() >= 15,
        "the other checks finished: {}",
        r["summary"]
    );
}

/// Forwards to the local PostgreSQL and, after `limit` bytes from the server, either cuts every
/// connection (`stall` false) or keeps it open and silent (`stall` true): the run is
/// interrupted in the middle.
fn cutting_proxy(limit: usize, stall: bool) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for client in l.incoming().take(16).flatten() {
            std::thread::spawn(move || {
                let Ok(server) = TcpStream::connect("127.0.0.1:5432") else {
                    return;
                };
                let (mut c_read, mut s_write) =
                    (client.try_clone().unwrap(), server.try_clone().unwrap());
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut c_read, &mut s_write);
                });
                let (mut s_read, mut c_write) = (server, client);
                let mut sent = 0;
                let mut buf = [0u8; 512];
                while sent < limit {
                    match s_read.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => {
                            let n = n.min(limit - sent);
                            if c_write.write_all(&buf[..n]).is_err() {
                                break;
                            }
                            sent += n;
                        }
                    }
                }
                if stall {
                    std::thread::sleep(Duration::from_secs(20));
                }
                let _ = c_write.shutdown(std::net::Shutdown::Both);
                let _ = s_read.shutdown(std::net::Shutdown::Both);
            });
        }
    });
    port
}

#[test]
fn a_connection_cut_mid_run_gives_errors_not_a_hang() {
    let Some(()) = require("local PostgreSQL", local_pg_up()) else {
        return;
    };
    // enough for the login and the first queries, not for everything
    let port = cutting_proxy(3000, false);
    let t = Instant::now();
    let (code, r, _, _) = check_json(&[
        &format!("postgres://postgres@127.0.0.1:{port}/test?sslmode=disable"),
        "--check-timeout",
        "2",
    ]);
    assert!(
        t.elapsed() < Duration::from_secs(10),
        "took {:?}",
        t.elapsed()
    );
    assert_eq!(code, 1);
    assert_eq!(
        status(&r, "postgres.connection"),
        "pass",
        "the login got through"
    );
    let errors: Vec<&str> = r["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] == "error")
        .map(|c| c["message"].as_str().unwrap())
        .collect();
    assert!(!errors.is_empty(), "the cut must show as errors");
    // The cut falls in the catalog batch: what it had not answered is an error, never a pass
    // or a skip made of facts that never came.
    for id in [
        "postgres.encoding",
        "postgres.create-table",
        "postgres.extensions",
        "postgres.migrations",
    ] {
        let f = finding(&r, id);
        assert_eq!(f["status"], "error", "{id}: {f}");
    }
    assert!(
        r["summary"]["pass"].as_u64().unwrap() < 15,
        "{}",
        r["summary"]
    );
}

#[test]
fn a_connection_that_goes_silent_mid_run_is_bounded_by_the_check_timeout() {
    let Some(()) = require("local PostgreSQL", local_pg_up()) else {
        return;
    };
    let port = cutting_proxy(3000, true);
    let t = Instant::now();
    let (code, r, _, _) = check_json(&[
        &format!("postgres://postgres@127.0.0.1:{port}/test?sslmode=disable"),
        "--check-timeout",
        "1",
    ]);
    let took = t.elapsed();
    assert!(took < Duration::from_secs(8), "took {took:?}");
    assert_eq!(code, 1);
    assert_eq!(status(&r, "postgres.connection"), "pass");
    let timed_out = r["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["message"].as_str().unwrap_or("").contains("timed out"))
        .count();
    assert!(timed_out > 0, "the silent connection must show as timeouts");
}

/// The server log of the local cluster (Debian writes stderr there).
pub(crate) fn server_log() -> Result<std::path::PathBuf, String> {
    std::fs::read_dir("/var/log/postgresql")
        .map_err(|e| e.to_string())?
        .flatten()
        .map(|e| e.path())
        .find(|p| p.to_string_lossy().ends_with("-main.log"))
        .ok_or_else(|| "no /var/log/postgresql/*-main.log".into())
}

#[test]
fn a_full_run_sends_only_reads_proven_by_the_statement_log() {
    let Some(s) = require("local PostgreSQL", PgScratch::new("")) else {
        return;
    };
    let Some(log) = require("the PostgreSQL server log", server_log()) else {
        return;
    };
    s.sql(&format!(
        "ALTER DATABASE {} SET log_statement = 'all'",
        s.db
    ))
    .unwrap();
    s.sql("CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY); INSERT INTO alembic_version VALUES ('abc123')").unwrap();
    let before = std::fs::metadata(&log).map(|m| m.len()).unwrap_or(0);
    let (_, r, _, _) = check_json(&[&s.url("postgres")]);
    assert_eq!(
        finding(&r, "postgres.migrations")["observed"],
        "alembic (alembic_version) at abc123"
    );
    std::thread::sleep(Duration::from_millis(300));
    let mut text = String::new();
    let mut f = std::fs::File::open(&log).unwrap();
    std::io::Seek::seek(&mut f, std::io::SeekFrom::Start(before)).unwrap();
    f.read_to_string(&mut text).unwrap();
    let ours: Vec<&str> = text
        .lines()
        .filter(|l| {
            l.contains(&format!("@{} ", s.db))
                && (l.contains("statement: ") || l.contains("execute "))
        })
        .collect();
    // A batch arrives as one message (one log line) of statements joined by "; ".
    let messages: Vec<Vec<String>> = ours
        .iter()
        .map(|line| {
            let sql = line.split_once(": ").map_or(*line, |x| x.1).trim_start();
            let sql = sql.split_once(": ").map_or(sql, |x| x.1).trim_start();
            sql.split("; ")
                .map(|s| s.trim().to_ascii_uppercase())
                .collect()
        })
        .collect();
    let statements: Vec<String> = messages.iter().flatten().cloned().collect();
    // Read-only and bounded for the message's own transaction only: nothing on the session.
    let scope = |sql: &str| {
        sql == "SET TRANSACTION READ ONLY"
            || sql.starts_with("SET LOCAL STATEMENT_TIMEOUT = ")
            || sql.starts_with("SET LOCAL LOCK_TIMEOUT = ")
    };
    assert!(
        statements.len() >= 8,
        "expected our statements in the log, found {}: {ours:#?}",
        statements.len()
    );
    assert!(
        ours.len() < statements.len(),
        "the catalog reads arrive batched: {} messages for {} statements",
        ours.len(),
        statements.len()
    );
    // An allowlist, not a list of writes to look for: every statement is a read.
    for sql in &statements {
        assert!(
            sql.starts_with("SELECT ")
                || sql.starts_with("WITH ")
                || sql.starts_with("SHOW ")
                || scope(sql),
            "not a read: {sql}"
        );
        for write in [
            "INSERT ",
            "UPDATE ",
            "DELETE ",
            "NEXTVAL(",
            "SETVAL(",
            "LO_",
            "PG_TERMINATE",
            "PG_CANCEL",
            "DBLINK",
        ] {
            assert!(!sql.contains(write), "{write} in {sql}");
        }
        // No session setting at all: behind a pooler the next client would inherit it.
        assert!(!sql.contains("SET_CONFIG("), "a session setting: {sql}");
    }
    // Every message of several statements (one implicit transaction) is made read-only and
    // bounded before its first read; the one message alone is pgpool-II's SHOW pool_version.
    for m in &messages {
        if m.len() > 1 {
            assert_eq!(m[0], "SET TRANSACTION READ ONLY", "{m:?}");
            assert!(scope(&m[1]) && scope(&m[2]), "{m:?}");
        } else {
            assert_eq!(m[0], "SHOW POOL_VERSION", "{m:?}");
        }
    }
    assert_eq!(s.sql("SELECT count(*) FROM alembic_version").unwrap(), "1");
}

#[test]
fn probe_write_exercises_a_scratch_table_and_leaves_nothing() {
    let Some(s) = require("local PostgreSQL", PgScratch::new("")) else {
        return;
    };
    let (code, r, _, _) = check_json(&[&s.url("postgres"), "--probe-write"]);
    let p = finding(&r, "postgres.write-probe");
    assert_eq!(p["status"], "pass", "{p}");
    assert!(p["observed"].as_str().unwrap().contains("0 failed"));
    let caps = finding(&r, "postgres.capabilities");
    assert_eq!(caps["status"], "pass");
    assert_eq!(
        s.sql("SELECT count(*) FROM pg_class WHERE relname LIKE 'byod_precheck_probe%'")
            .unwrap(),
        "0"
    );
    assert!(matches!(code, 0 | 1), "exit {code}");
    // without the flag the check is skipped and says how to ask for it
    let (_, r, _, _) = check_json(&[&s.url("postgres")]);
    let p = finding(&r, "postgres.write-probe");
    assert_eq!(p["status"], "skip");
    assert!(p["message"].as_str().unwrap().contains("--probe-write"));
}

#[test]
fn no_password_leaves_in_any_failure_mode_or_format() {
    const MARK: &str = "Zq9-LEAKMARKER-7Hx";
    let (hung, _h) = silent_listener();
    let refused = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut urls = vec![
        format!("postgres://app:{MARK}@127.0.0.1:{refused}/app"),
        format!("postgres://app:{MARK}@127.0.0.1:{hung}/app"),
        format!("postgres://app:{MARK}@nonexistent-host.invalid:5432/app"),
        format!("postgres://postgres:{MARK}@127.0.0.1:5432/precheck_no_such_db"),
        format!("postgres://postgres:{MARK}@127.0.0.1:5432/test"),
        format!("postgres://app:{MARK}@127.0.0.1:notaport/app"),
        format!("postgres://app:{MARK}@[::1/app"),
        format!("oracle://app:{MARK}@db/app"),
        format!("postgres://app:{MARK}@db/app?sslmode=bogus"),
        format!("postgres://app:{MARK}@db/app?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem"),
        format!("Server=tcp:127.0.0.1,{refused};Database=app;User Id=sa;Password={MARK};Bogus=1"),
        format!("jdbc:sqlserver://127.0.0.1:{refused};user=sa;password={MARK};nonsense"),
    ];
    // A real password check (scram) that refuses: the one authentication failure here.
    let Some(pg18) = require("PostgreSQL 18 (embedded)", embedded_pg(18)) else {
        return;
    };
    urls.push(pg18.replace("precheck-test-pw", MARK));
    for u in &urls {
        assert!(u.contains(MARK), "the marker must be in every input: {u}");
    }
    let dir = tempfile::tempdir().unwrap();
    for url in &urls {
        for format in ["table", "json", "markdown", "html", "junit"] {
            let report = dir.path().join("r.json");
            let facts = dir.path().join("facts.json");
            let out = bin()
                .args([
                    "check",
                    url,
                    "--format",
                    format,
                    "--connect-timeout",
                    "1.5",
                    "-o",
                ])
                .arg(&report)
                .arg("--save-facts")
                .arg(&facts)
                .output()
                .unwrap();
            let mut all = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            for f in [&report, &facts] {
                all.push_str(&std::fs::read_to_string(f).unwrap_or_default());
                let _ = std::fs::remove_file(f);
            }
            assert!(
                !all.contains(MARK),
                "password leaked for {url} ({format}):\n{all}"
            );
            assert!(!all.contains("panicked"), "panic for {url}: {all}");
            assert!(
                matches!(out.status.code(), Some(0..=2)),
                "{url}: exit {:?}",
                out.status.code()
            );
        }
        // and through DATABASE_URL and the password variables
        let out = bin()
            .arg("check")
            .env("DATABASE_URL", url)
            .env("PGPASSWORD", MARK)
            .args(["--connect-timeout", "1"])
            .output()
            .unwrap();
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            !all.contains(MARK),
            "password leaked via DATABASE_URL for {url}:\n{all}"
        );
    }
}

#[test]
fn the_tls_layer_is_read_the_way_each_protocol_allows() {
    // PostgreSQL: SSLRequest on a connection of our own; the local server has Debian's
    // self-signed "snakeoil" certificate.
    if require("local PostgreSQL", local_pg_up()).is_some() {
        let (_, r, _, _) = check_json(&["postgres://postgres@127.0.0.1:5432/test"]);
        let t = finding(&r, "postgres.tls");
        let observed = t["observed"].as_str().unwrap();
        assert!(
            observed.contains("subject CN=") && observed.contains("expires in"),
            "{observed}"
        );
        assert!(
            t["message"]
                .as_str()
                .unwrap()
                .contains("verification would fail"),
            "{t}"
        );
    }
    // MySQL: the SSL request packet, against a second MariaDB that has TLS.
    if let Some(url) = require("MariaDB with TLS", script_url("mariadb-tls.sh", &["start"])) {
        let (_, r, _, _) = check_json(&[&url]);
        let t = finding(&r, "mysql.tls");
        let observed = t["observed"].as_str().unwrap();
        assert!(
            observed.contains("TLSv1.3")
                && observed.contains("self-signed")
                && observed.contains("expires in"),
            "{observed}"
        );
        let (code, r, _, _) = check_json(&[&format!("{url}?ssl-mode=VERIFY_IDENTITY")]);
        assert_eq!(code, 1);
        let c = finding(&r, "mysql.connection");
        assert_eq!(c["observed"], "tls", "{c}");
        assert!(
            c["message"].as_str().unwrap().contains("self-signed"),
            "{c}"
        );
    }
    // SQL Server: a TDS PRELOGIN exchange, then TLS inside PRELOGIN packets.
    let Some(url) = require("SQL Server peer (selfsigned)", mssql_peer("selfsigned")) else {
        return;
    };
    let (_, r, _, _) = check_json(&[&format!("{url}?trust_server_certificate=true")]);
    let t = finding(&r, "mssql.tls");
    assert_eq!(t["status"], "warn");
    let observed = t["observed"].as_str().unwrap();
    assert!(
        observed.contains("TLSv1.2")
            && observed.contains("self-signed")
            && observed.contains("expires in"),
        "{observed}"
    );
    let Some(url) = require("SQL Server peer (sql2022)", mssql_peer("sql2022")) else {
        return;
    };
    let ca = mssql_peer_ca();
    let (_, r, _, _) = check_json(&[&format!("{url}?ca={}", ca.display())]);
    let t = finding(&r, "mssql.tls");
    assert_eq!(t["status"], "pass", "{t}");
    assert!(
        t["observed"].as_str().unwrap().contains("issuer CN="),
        "{t}"
    );
}
