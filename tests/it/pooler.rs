//! Live tests behind connection poolers and one-connection servers: PgBouncer (session,
//! transaction and statement pooling) and pgpool-II from Debian's packages in front of the
//! local PostgreSQL 15, PGlite (one client at a time), a role with CONNECTION LIMIT 1, settings
//! with units and their levels, and Unix-socket hosts. Each test starts its own pooler
//! (`scripts/poolers.sh`) on a free loopback port and stops it when done.

use crate::support::*;
use std::os::unix::fs::PermissionsExt;
use std::process::Command as Std;

/// A pooler or server of `scripts/poolers.sh`, stopped when dropped.
struct Pooled {
    dir: tempfile::TempDir,
    port: u16,
}

impl Pooled {
    /// `poolers.sh KIND DIR ARGS...`.
    fn start(kind: &str, args: &[&str]) -> Result<Pooled, String> {
        Pooled::start_with(kind, args, &[])
    }

    /// [`Pooled::start`] with environment variables for the script (`PGBOUNCER_EXTRA`, ...).
    fn start_with(kind: &str, args: &[&str], env: &[(&str, &str)]) -> Result<Pooled, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        // The pooler runs as the postgres OS user: it must reach its folder.
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755))
            .map_err(|e| e.to_string())?;
        let sub = dir.path().join("p");
        let sub = sub.to_str().ok_or("temp path is not UTF-8")?;
        let mut all = vec![kind, sub];
        all.extend_from_slice(args);
        let url = script_url_with("poolers.sh", &all, env)?;
        let port = url
            .rsplit_once(':')
            .and_then(|(_, rest)| rest.split('/').next())
            .and_then(|p| p.parse().ok())
            .ok_or_else(|| format!("no port in {url}"))?;
        Ok(Pooled { dir, port })
    }

    /// PgBouncer in `mode` with `pool` server connections, admitting `users` besides postgres.
    fn pgbouncer(mode: &str, pool: u32, users: &[&str]) -> Option<Pooled> {
        let pool = pool.to_string();
        let mut args = vec![mode, pool.as_str()];
        args.extend_from_slice(users);
        require("pgbouncer", Pooled::start("pgbouncer", &args))
    }

    fn url(&self, user: &str, db: &str) -> String {
        format!("postgres://{user}@127.0.0.1:{}/{db}", self.port)
    }
}

impl Drop for Pooled {
    fn drop(&mut self) {
        let _ = Std::new("bash")
            .arg(root().join("scripts/poolers.sh"))
            .arg("stop")
            .arg(self.dir.path().join("p"))
            .output();
    }
}

/// The findings that could not be evaluated: a complete report has none.
fn errors(report: &serde_json::Value) -> Vec<String> {
    report["checks"]
        .as_array()
        .map(|c| {
            c.iter()
                .filter(|f| f["status"] == "error")
                .map(|f| format!("{}: {}", f["id"], f["message"]))
                .collect()
        })
        .unwrap_or_default()
}

fn observed<'a>(report: &'a serde_json::Value, id: &str) -> &'a str {
    finding(report, id)["observed"].as_str().unwrap_or("")
}

/// The server's defaults for a plain session, as a direct connection sees them.
fn direct_defaults(db: &str) -> String {
    psql(
        &local_pg(db),
        "SELECT current_setting('statement_timeout') || ',' || current_setting('lock_timeout')",
    )
    .expect("direct psql")
}

/// The state a plain client session finds behind the pooler.
const AFTER: &str = "SELECT current_setting('default_transaction_read_only') || ',' || \
    current_setting('transaction_read_only') || ',' || current_setting('statement_timeout') || ',' || \
    current_setting('lock_timeout') || ',' || (SELECT count(*) FROM pg_prepared_statements)";

#[test]
fn a_check_through_pgbouncer_in_transaction_mode_leaves_no_trace() {
    let Some(scratch) = require("local postgres", PgScratch::new("")) else {
        return;
    };
    scratch.sql("CREATE TABLE app_rows (id int)").unwrap();
    let Some(b) = Pooled::pgbouncer("transaction", 1, &[]) else {
        return;
    };
    let url = b.url("postgres", &scratch.db);
    let defaults = direct_defaults(&scratch.db);
    // A plain check, then one with the write probe: the same rules for both.
    for extra in [None, Some("--probe-write")] {
        let mut args = vec![url.as_str()];
        args.extend(extra);
        let (_, report, _, stderr) = check_json(&args);
        assert_eq!(errors(&report), Vec::<String>::new(), "{extra:?}: {stderr}");
        assert_eq!(status(&report, "postgres.writability"), "pass", "{extra:?}");
        // Read through the pooler without a prepared-statement collision: the table the test
        // made is "unknown history" (user tables, no known history), not an error.
        assert_eq!(status(&report, "postgres.migrations"), "warn", "{extra:?}");
        assert!(
            crate::support::finding(&report, "postgres.migrations")["message"]
                .as_str()
                .unwrap()
                .contains("unknown history"),
            "{extra:?}"
        );
        let p = observed(&report, "postgres.pooler");
        assert!(
            p.contains("PgBouncer 1.") && p.contains("pool mode transaction"),
            "{p}"
        );
        assert_eq!(status(&report, "postgres.pooler"), "warn", "{p}");
        // With a pool of one, the next client gets the very server session the check used.
        let after = psql(&url, AFTER).expect("plain session through the pooler");
        assert_eq!(
            after,
            format!("off,off,{defaults},0"),
            "{extra:?}: read-write, the server's timeouts, no prepared statement left"
        );
        psql(&url, "INSERT INTO app_rows VALUES (1)").expect("the product can still write");
    }
}

#[test]
fn checks_side_by_side_through_a_pool_of_one_agree_and_leave_it_writable() {
    let Some(b) = Pooled::pgbouncer("transaction", 1, &[]) else {
        return;
    };
    let url = b.url("postgres", "test");
    let runs: Vec<_> = (0..3)
        .map(|_| {
            let url = url.clone();
            std::thread::spawn(move || check_json(&[&url]))
        })
        .collect();
    for r in runs {
        let (_, report, _, stderr) = r.join().unwrap();
        assert_eq!(errors(&report), Vec::<String>::new(), "{stderr}");
        assert_eq!(status(&report, "postgres.writability"), "pass");
        assert!(
            observed(&report, "postgres.statement-timeout").contains("statement_timeout = 0 ms")
        );
    }
    let after = psql(&url, AFTER).unwrap();
    assert!(after.starts_with("off,off,"), "{after}");
    assert!(after.ends_with(",0"), "{after}");
}

#[test]
fn pgbouncer_session_mode_is_told_and_passes() {
    let Some(b) = Pooled::pgbouncer("session", 1, &[]) else {
        return;
    };
    let url = b.url("postgres", "test");
    // A first client makes the server session; the check then inherits it (a pooled one).
    psql(&url, "SELECT 1").unwrap();
    let (_, report, _, stderr) = check_json(&[&url]);
    assert_eq!(errors(&report), Vec::<String>::new(), "{stderr}");
    let p = observed(&report, "postgres.pooler");
    assert!(
        p.contains("PgBouncer") && p.contains("pool mode session"),
        "{p}"
    );
    assert!(p.contains("admits 20 clients"), "{p}");
    assert_eq!(status(&report, "postgres.pooler"), "pass", "{p}");
    assert_eq!(status(&report, "postgres.writability"), "pass");
    assert!(psql(&url, AFTER).unwrap().starts_with("off,off,"));
}

#[test]
fn pgbouncer_statement_mode_gets_a_complete_report_and_fails_the_pooler() {
    let Some(b) = Pooled::pgbouncer("statement", 1, &[]) else {
        return;
    };
    let url = b.url("postgres", "test");
    let (code, report, _, stderr) = check_json(&[&url]);
    assert_eq!(errors(&report), Vec::<String>::new(), "{stderr}");
    assert_eq!(status(&report, "postgres.writability"), "pass");
    assert_eq!(status(&report, "postgres.version"), "pass");
    let f = finding(&report, "postgres.pooler");
    assert_eq!(f["status"], "fail", "{f}");
    assert!(
        f["message"].as_str().unwrap().contains("statement pooling"),
        "{f}"
    );
    assert_eq!(code, 1);
    assert!(psql(&url, AFTER).unwrap().starts_with("off,off,"));
}

#[test]
fn the_matrix_can_refuse_transaction_pooling() {
    let Some(b) = Pooled::pgbouncer("transaction", 2, &[]) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let m = matrix_file(
        dir.path(),
        "schema_version = 1\n[app]\nallow_transaction_pooling = false\n",
    );
    let url = b.url("postgres", "test");
    let (_, report, _, _) = check_json(&[&url, "--matrix", m.to_str().unwrap()]);
    let f = finding(&report, "postgres.pooler");
    assert_eq!(f["status"], "fail", "{f}");
    assert!(
        f["message"].as_str().unwrap().contains("matrix refuses"),
        "{f}"
    );
}

#[test]
fn a_plaintext_connection_to_a_pooler_does_not_pass_require_tls() {
    // PgBouncer speaks plaintext to us and TLS to the server (server_tls_sslmode = prefer):
    // pg_stat_ssl describes the pooler's leg, not ours.
    let ssl = psql(&local_pg("postgres"), "SHOW ssl").unwrap_or_default();
    let Some(b) = Pooled::pgbouncer("session", 1, &[]) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let m = matrix_file(
        dir.path(),
        "schema_version = 1\n[app]\nrequire_tls = true\n",
    );
    let url = b.url("postgres", "test");
    let (_, report, _, _) = check_json(&[&url, "--matrix", m.to_str().unwrap()]);
    let f = finding(&report, "postgres.tls");
    assert_eq!(f["status"], "fail", "{f}");
    let o = f["observed"].as_str().unwrap();
    assert!(o.starts_with("no TLS (sslmode=prefer)"), "{o}");
    if ssl == "on" {
        assert!(o.contains("the server's client connection uses TLS"), "{o}");
    }
}

#[test]
fn pgpool_is_named_with_its_mode_and_client_limit() {
    let Some(p) = require("pgpool-II", Pooled::start("pgpool", &["2"])) else {
        return;
    };
    let url = p.url("postgres", "test");
    let (_, report, _, stderr) = check_json(&[&url]);
    assert_eq!(errors(&report), Vec::<String>::new(), "{stderr}");
    let f = finding(&report, "postgres.pooler");
    let o = f["observed"].as_str().unwrap();
    assert!(
        o.contains("pgpool-II 4.") && o.contains("pool mode session"),
        "{o}"
    );
    // pgpool-II admits num_init_children clients: 2, fewer than the matrix's pool of 20.
    assert!(o.contains("admits 2 clients"), "{o}");
    assert_eq!(f["status"], "fail", "{f}");
    assert_eq!(status(&report, "postgres.writability"), "pass");
    assert!(psql(&url, AFTER).unwrap().starts_with("off,off,"));
}

#[test]
fn pgpool_with_one_child_gets_a_complete_report_in_normal_time() {
    // One child: one client at a time, the others wait in the listen queue. Our TLS
    // inspection (no login) and our login run side by side: whichever the child takes first,
    // the other waits for it, never for itself.
    let Some(p) = require("pgpool-II", Pooled::start("pgpool", &["1"])) else {
        return;
    };
    let url = p.url("postgres", "test");
    for extra in [None, Some("--probe-write")] {
        let mut args = vec![url.as_str()];
        args.extend(extra);
        let (_, report, _, stderr) = check_json(&args);
        assert_eq!(status(&report, "postgres.connection"), "pass", "{stderr}");
        assert_eq!(errors(&report), Vec::<String>::new(), "{extra:?}: {stderr}");
        let ms = report["duration_ms"].as_u64().unwrap();
        assert!(ms < 5_000, "{extra:?} took {ms} ms");
        let o = observed(&report, "postgres.pooler");
        assert!(
            o.contains("pgpool-II 4.") && o.contains("admits 1 clients"),
            "{o}"
        );
    }
}

#[test]
fn pglite_one_client_at_a_time_gets_a_complete_report_in_normal_time() {
    let Some(p) = require("PGlite", Pooled::start("pglite", &[])) else {
        return;
    };
    let url = p.url("postgres", "postgres");
    let (_, report, _, stderr) = check_json(&[&url]);
    assert_eq!(status(&report, "postgres.connection"), "pass", "{stderr}");
    assert_eq!(errors(&report), Vec::<String>::new(), "{stderr}");
    let ms = report["duration_ms"].as_u64().unwrap();
    assert!(ms < 5_000, "took {ms} ms");
    // PGlite serves us itself: no pooler in between.
    assert_eq!(status(&report, "postgres.pooler"), "pass");
    assert!(
        report["server"]["version_raw"]
            .as_str()
            .unwrap()
            .contains("PGlite")
    );
}

#[test]
fn a_role_with_connection_limit_1_gets_a_complete_report_in_normal_time() {
    let Some(mut scratch) = require("local postgres", PgScratch::new("")) else {
        return;
    };
    let role = scratch.role("CONNECTION LIMIT 1").unwrap();
    for extra in [None, Some("--probe-write")] {
        let url = scratch.url(&role);
        let mut args = vec![url.as_str()];
        args.extend(extra);
        let (_, report, _, stderr) = check_json(&args);
        assert_eq!(status(&report, "postgres.connection"), "pass", "{stderr}");
        assert_eq!(errors(&report), Vec::<String>::new(), "{extra:?}");
        let ms = report["duration_ms"].as_u64().unwrap();
        assert!(ms < 5_000, "{extra:?} took {ms} ms");
    }
}

#[test]
fn settings_read_through_their_unit_with_remedies_where_they_are_set() {
    let Some(mut scratch) = require("local postgres", PgScratch::new("")) else {
        return;
    };
    let role = scratch.role("").unwrap();
    let db = scratch.db.clone();
    scratch
        .sql(&format!(
            "ALTER ROLE {role} IN DATABASE {db} SET statement_timeout = '5s'; \
             ALTER DATABASE {db} SET lock_timeout = '7s'; \
             ALTER DATABASE {db} SET default_transaction_read_only = on"
        ))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let m = matrix_file(
        dir.path(),
        "schema_version = 1\n[postgres.settings]\nstatement_timeout = { max = 1000 }\n",
    );
    let (_, report, _, _) = check_json(&[&scratch.url(&role), "--matrix", m.to_str().unwrap()]);
    let f = finding(&report, "postgres.statement-timeout");
    let o = f["observed"].as_str().unwrap();
    assert!(
        o.contains("statement_timeout = 5000 ms (set for the role in database)"),
        "{o}"
    );
    assert!(
        o.contains("lock_timeout = 7000 ms (set for the database)"),
        "{o}"
    );
    let r = f["remedy"].as_str().unwrap();
    assert!(
        r.contains(&format!(
            "ALTER ROLE {role} IN DATABASE {db} SET statement_timeout = '0'"
        )),
        "{r}"
    );
    assert!(
        r.contains(&format!("ALTER DATABASE {db} SET lock_timeout = '0'")),
        "{r}"
    );
    assert!(!r.contains("ALTER SYSTEM"), "{r}");
    let s = finding(&report, "postgres.settings");
    assert_eq!(s["status"], "fail", "{s}");
    assert!(
        s["observed"]
            .as_str()
            .unwrap()
            .contains("statement_timeout=5000"),
        "{s}"
    );
    assert!(
        s["remedy"].as_str().unwrap().contains(&format!(
            "ALTER ROLE {role} IN DATABASE {db} SET statement_timeout"
        )),
        "{s}"
    );
    let w = finding(&report, "postgres.writability");
    assert_eq!(w["status"], "fail", "{w}");
    assert!(
        w["observed"]
            .as_str()
            .unwrap()
            .contains("default_transaction_read_only = on (set for database)"),
        "{w}"
    );
    assert!(
        w["remedy"].as_str().unwrap().contains(&format!(
            "ALTER DATABASE {db} SET default_transaction_read_only = 'off'"
        )),
        "{w}"
    );
}

#[test]
fn unix_socket_hosts_and_pg_environment() {
    let Some(scratch) = require("local postgres", PgScratch::new("")) else {
        return;
    };
    let dir = "/var/run/postgresql";
    if !std::path::Path::new(dir).join(".s.PGSQL.5432").exists() {
        require::<()>(
            "the local server's socket",
            Err(format!("no socket in {dir}")),
        );
        return;
    }
    let db = &scratch.db;
    for url in [
        format!("postgres:///{db}?host={dir}&user=postgres"),
        format!("postgresql://postgres@%2Fvar%2Frun%2Fpostgresql/{db}"),
    ] {
        let (_, report, _, stderr) = check_json(&[&url]);
        assert_eq!(
            status(&report, "postgres.connection"),
            "pass",
            "{url}: {stderr}"
        );
        assert_eq!(errors(&report), Vec::<String>::new(), "{url}");
        assert_eq!(report["target"]["database"], db.as_str());
        assert_eq!(status(&report, "postgres.pooler"), "pass", "{url}");
    }
    // PGHOST (a socket directory), PGUSER and PGDATABASE fill a bare URL.
    let out = bin()
        .args(["check", "postgres://", "--format", "json", "--no-color"])
        .env("PGHOST", dir)
        .env("PGUSER", "postgres")
        .env("PGDATABASE", db)
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(status(&report, "postgres.connection"), "pass");
    assert_eq!(report["target"]["database"], db.as_str());
    assert_eq!(report["target"]["user"], "postgres");
}

#[test]
fn a_refused_session_setup_is_reported_at_once_with_the_servers_message() {
    // PgBouncer's admin console (database pgbouncer) accepts the login but none of our SQL.
    let Some(b) = Pooled::pgbouncer("transaction", 1, &[]) else {
        return;
    };
    let (code, report, _, _) = check_json(&[&b.url("postgres", "pgbouncer")]);
    assert_eq!(code, 1);
    assert_eq!(status(&report, "postgres.connection"), "pass");
    let v = finding(&report, "postgres.version");
    assert_eq!(v["status"], "error", "{v}");
    let m = v["message"].as_str().unwrap();
    assert!(
        m.contains("the session setup `SET TRANSACTION READ ONLY` was refused"),
        "{m}"
    );
    let ms = report["duration_ms"].as_u64().unwrap();
    assert!(ms < 3_000, "reported after {ms} ms, not at once");
}

/// A plain TCP port forward to `upstream` on a free loopback port (one upstream connection for
/// each client connection, bytes copied both ways): what a port forward, NAT or a proxy that
/// keeps each client on one server connection looks like from the client. Runs until the test
/// process ends.
fn port_forward(upstream: &str) -> u16 {
    use std::net::{TcpListener, TcpStream};
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let upstream = upstream.to_string();
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let Ok(server) = TcpStream::connect(&upstream) else {
                continue;
            };
            for (mut from, mut to) in [
                (client.try_clone().unwrap(), server.try_clone().unwrap()),
                (server, client),
            ] {
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut from, &mut to);
                    let _ = to.shutdown(std::net::Shutdown::Write);
                });
            }
        }
    });
    port
}

#[test]
fn mysql_direct_is_no_pooler_said_from_what_was_compared() {
    let (_, report, _, stderr) = check_json(&["mysql://root@127.0.0.1:3306/test"]);
    if status(&report, "mysql.connection") != "pass" {
        let _ = require::<()>("local MariaDB", Err(stderr));
        return;
    }
    let f = finding(&report, "mysql.pooler");
    assert_eq!(f["status"], "pass", "{f}");
    let m = f["message"].as_str().unwrap();
    assert!(m.starts_with("no pooler seen: "), "{m}");
    assert!(m.contains("listens on the port we connected to"), "{m}");
    // The TLS inspection read MariaDB's greeting (5.5.5-10.x): the same version as VERSION().
    assert!(
        m.contains("the handshake came from the server itself"),
        "{m}"
    );
}

#[test]
fn mysql_through_a_port_forward_is_told_and_its_connection_asked_again() {
    let (_, direct, _, stderr) = check_json(&["mysql://root@127.0.0.1:3306/test"]);
    if status(&direct, "mysql.connection") != "pass" {
        let _ = require::<()>("local MariaDB", Err(stderr));
        return;
    }
    let port = port_forward("127.0.0.1:3306");
    let url = format!("mysql://root@127.0.0.1:{port}/test");
    let (_, report, _, stderr) = check_json(&[&url]);
    assert_eq!(status(&report, "mysql.connection"), "pass", "{stderr}");
    let f = finding(&report, "mysql.pooler");
    let o = f["observed"].as_str().unwrap();
    assert!(
        o.contains(&format!(
            "we connected to port {port}; the server listens on port 3306"
        )),
        "{o}"
    );
    // Something is in front, so our connection was asked for again in a later transaction:
    // a forward keeps one server connection per client, which is no multiplexing.
    assert!(
        o.contains("both our transactions ran on the same server connection"),
        "{o}"
    );
    assert_eq!(f["status"], "pass", "{f}");
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("no sign of multiplexing")
    );
    // Everything else reads as on the direct connection.
    assert_eq!(errors(&report), errors(&direct));
}

/// A pooler that closes idle clients sooner than our pool recycles its connections breaks the
/// pool as the server's own limit would: both poolers' limits are read and weighed.
#[test]
fn a_poolers_idle_client_limit_shorter_than_our_pool_warns_with_its_fix() {
    let dir = tempfile::tempdir().unwrap();
    let idle = |url: &str, matrix: &str| {
        let m = matrix_file(dir.path(), &format!("schema_version = 1\n{matrix}"));
        let (_, r, _, stderr) = check_json(&[url, "--matrix", m.to_str().unwrap()]);
        assert_eq!(errors(&r), Vec::<String>::new(), "{stderr}");
        finding(&r, "postgres.idle-timeout").clone()
    };
    let Some(b) = require(
        "pgbouncer",
        Pooled::start_with(
            "pgbouncer",
            &["session", "1"],
            &[("PGBOUNCER_EXTRA", "client_idle_timeout = 300")],
        ),
    ) else {
        return;
    };
    let url = b.url("postgres", "test");
    let f = idle(&url, "");
    assert_eq!(f["status"], "warn", "{f}");
    assert_eq!(
        f["observed"],
        "idle_session_timeout = 0 (none), PgBouncer's client_idle_timeout = 300 s"
    );
    assert!(
        f["remedy"]
            .as_str()
            .unwrap()
            .starts_with("client_idle_timeout = 0 in pgbouncer.ini, then RELOAD"),
        "{f}"
    );
    assert_eq!(
        idle(&url, "[app]\npool_recycle_seconds = 240\n")["status"],
        "pass"
    );
    assert!(psql(&url, AFTER).unwrap().starts_with("off,off,"));
    drop(b);
    let Some(p) = require(
        "pgpool-II",
        Pooled::start_with(
            "pgpool",
            &["2"],
            &[("PGPOOL_EXTRA", "client_idle_limit = 300")],
        ),
    ) else {
        return;
    };
    let f = idle(&p.url("postgres", "test"), "");
    assert_eq!(f["status"], "warn", "{f}");
    assert!(
        f["observed"]
            .as_str()
            .unwrap()
            .ends_with("pgpool-II's client_idle_limit = 300 s"),
        "{f}"
    );
    assert!(
        f["remedy"]
            .as_str()
            .unwrap()
            .starts_with("client_idle_limit = 0 in pgpool.conf, then pgpool reload."),
        "{f}"
    );
}
