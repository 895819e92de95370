//! The MySQL-family collector: the only code that talks to a MySQL, MariaDB or compatible
//! server. It connects in steps (DNS, TCP, then the driver), makes every session read-only with
//! a server-side statement limit, and sends a fixed set of queries concurrently over a small
//! pool; each becomes a probe of its own.

use super::facts::{Database, Grant, Grants, MysqlFacts, Session, Tables};
use crate::Engine;
use crate::checks::{
    Capability, ClockFacts, ConnectionSlots, MigrationHistory, ReadOnlyFacts, TlsFacts, TrustMode,
};
use crate::engines::CollectOptions;
use crate::engines::identify_probe;
use crate::engines::sql::{Answers, Runner, Scope, Stmt, error_text};
use crate::identity::ServerIdentity;
use crate::net::{ConnectFailure, FailureKind};
use crate::probe::Probe;
use crate::target::ConnSpec;
use sqlx::mysql::{
    MySqlConnectOptions, MySqlDatabaseError, MySqlPool, MySqlPoolOptions, MySqlSslMode,
};
use std::collections::BTreeMap;

mod catalog;
pub(crate) use catalog::*;

/// Collects every MySQL-family fact. Never fails: failures are recorded in the facts.
pub async fn collect(spec: &ConnSpec, opts: &CollectOptions) -> MysqlFacts {
    let mut facts = <super::Mysql as crate::engines::EngineModule>::started(spec);
    let runner = Runner::new(spec, opts.check_timeout, is_denied, denied_hint, scope());
    let mode = ssl_mode_name(spec);
    let socket = spec.socket().map(str::to_string);
    let host = spec.tcp_host();
    let reached = match opts.reach(spec, &mut facts.common.connection).await {
        Ok(r) => r,
        Err(f) => return failed(facts, f),
    };
    let options = match connect_options(spec, socket.as_deref(), &mode) {
        Ok(o) => o,
        Err(f) => return failed(facts, f),
    };
    // Nothing is set on the session: each message of ours is a read-only transaction that
    // ends with it, and each read carries its own time limit (see `scope`). Behind a pooler
    // (ProxySQL, a cloud proxy) the next client inherits the server session. One connection
    // is all we hold: a user or proxy that admits one client must never see us wait on
    // ourselves.
    let pool_opts = MySqlPoolOptions::new()
        .max_connections(1)
        .min_connections(0)
        // Our own connect timeout (around the pool) fires first, with a clearer message.
        .acquire_timeout(opts.connect_timeout + std::time::Duration::from_secs(1));
    // The TLS layer is inspected on a connection of our own (the SSL request packet, no
    // credentials), alongside the driver's login.
    let ca = spec.option("ssl-ca").map(std::path::PathBuf::from);
    let inspect = (socket.is_none() && mode != "disabled")
        .then(|| {
            crate::net::Inspect::of(spec, &host, ca.as_deref(), reached, opts.share_per_server)
        })
        .flatten();
    let login = crate::net::login(
        &mut facts.common.connection,
        opts.connect_timeout,
        // The look at what the server will ask before the password goes (`prelogin::gate`).
        crate::prelogin::gate(spec, socket.is_none(), opts.connect_timeout),
        |gate: &crate::prelogin::Gate| {
            let options = gate.route(
                options.clone(),
                |o, host, port| o.host(host).port(port),
                |o| o.ssl_mode(sqlx::mysql::MySqlSslMode::Required),
            );
            pool_opts.clone().connect_with(options)
        },
        inspect,
        |e| classify(e, spec, &mode),
    );
    // The gate lives as long as the connection: its relay carries it.
    let (pool, _gate) = match login.await {
        Ok(p) => p,
        Err(f) => return failed(facts, f),
    };

    // Every read in one round trip (a multi-statement query): identity, session and clock
    // first, then the variables, status, TLS, schema, tables, grants and time zone tables.
    let stmts = [
        // The version alone first: a function a compatible server lacks in the session
        // statement then costs the session and clock checks only, not the identity.
        Stmt::new("version", "SELECT CAST(VERSION() AS CHAR)"),
        Stmt::new(
            "version and session",
            "SELECT CAST(VERSION() AS CHAR), CAST(@@version_comment AS CHAR), \
             CAST(UNIX_TIMESTAMP(NOW(6)) AS CHAR), CAST(USER() AS CHAR), \
             CAST(CURRENT_USER() AS CHAR), CAST(DATABASE() AS CHAR)",
        ),
        Stmt::new("SHOW GLOBAL VARIABLES", "SHOW GLOBAL VARIABLES"),
        Stmt::new(
            "SHOW GLOBAL STATUS",
            "SHOW GLOBAL STATUS WHERE Variable_name IN ('Uptime', 'Threads_connected')",
        ),
        Stmt::new("SHOW SESSION STATUS", "SHOW SESSION STATUS LIKE 'Ssl_%'"),
        Stmt::new(
            "information_schema.SCHEMATA",
            "SELECT CAST(SCHEMA_NAME AS CHAR), CAST(DEFAULT_CHARACTER_SET_NAME AS CHAR), \
             CAST(DEFAULT_COLLATION_NAME AS CHAR) \
             FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = DATABASE()",
        ),
        Stmt::new(
            "information_schema.TABLES",
            "SELECT CAST(TABLE_NAME AS CHAR), CAST(COALESCE(ENGINE, '') AS CHAR), \
             CAST(COALESCE(ROW_FORMAT, '') AS CHAR), CAST(COALESCE(TABLE_COLLATION, '') AS CHAR), \
             CAST(COALESCE(DATA_LENGTH, 0) + COALESCE(INDEX_LENGTH, 0) AS CHAR) \
             FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE' \
             ORDER BY TABLE_NAME",
        ),
        Stmt::new("SHOW GRANTS", "SHOW GRANTS"),
        Stmt::new(
            "CONVERT_TZ",
            "SELECT CAST(CONVERT_TZ('2000-01-01 00:00:00', 'UTC', 'Europe/Paris') AS CHAR)",
        ),
        Stmt::new("migration tables", migration_tables_sql()),
        Stmt::new("server connection", super::pooler::SERVER_CONNECTION),
    ];
    let local_before = crate::checks::epoch_now();
    let mut answers = Answers::new(runner.batch(&pool, &stmts).await);
    let version: Probe<(String,)> = answers.next("version").one();
    let first: Probe<FirstRow> = answers.next("version and session").one();
    // The server read its clock in the second statement, whose answer comes second.
    let local_after = local_before + (version.ms() + first.ms()) as f64 / 1000.0;
    let variables: Probe<Vec<(String, Option<String>)>> =
        answers.next("SHOW GLOBAL VARIABLES").all();
    let status: Probe<Vec<(String, Option<String>)>> = answers.next("SHOW GLOBAL STATUS").all();
    let ssl: Probe<Vec<(String, Option<String>)>> = answers.next("SHOW SESSION STATUS").all();
    let database: Probe<Option<(String, String, String)>> =
        answers.next("information_schema.SCHEMATA").optional();
    let tables: Probe<Vec<TableRow>> = answers.next("information_schema.TABLES").all();
    let grants: Probe<Vec<(String,)>> = answers.next("SHOW GRANTS").all();
    let grants = grants.map(|rows| rows.into_iter().map(|r| r.0).collect::<Vec<_>>());
    let tz: Probe<(Option<String>,)> = answers.next("CONVERT_TZ").one();
    let tz = tz.map(|r| r.0);
    let history_tables: Probe<Vec<(String, String, String)>> =
        answers.next("migration tables").all();
    let server_connection: Probe<(String, String)> = answers.next("server connection").one();
    facts.common.version_raw = version.map(|r| r.0);
    facts.session = first.clone().map(|r| Session {
        user: r.3,
        account: r.4,
        database: r.5,
    });

    let settings: Probe<BTreeMap<String, String>> = variables.map(|rows| {
        rows.into_iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v.unwrap_or_default()))
            .collect()
    });
    let s = settings.value().cloned().unwrap_or_default();
    let status_map: BTreeMap<String, String> = status
        .value()
        .map(|rows| {
            rows.iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), v.clone().unwrap_or_default()))
                .collect()
        })
        .unwrap_or_default();
    facts.common.clock = first.clone().map(|r| ClockFacts {
        server_epoch: r.2.parse().unwrap_or(0.0),
        local_epoch: (local_before + local_after) / 2.0,
        time_zone_from: None,
        time_zone: s
            .get("time_zone")
            .map(|z| match (z.as_str(), s.get("system_time_zone")) {
                ("SYSTEM", Some(sys)) if !sys.is_empty() => format!("SYSTEM ({sys})"),
                _ => z.clone(),
            }),
    });
    facts.common.uptime_seconds = match (&status, status_map.get("uptime")) {
        (Probe::Ok { ms, .. }, Some(u)) => Probe::ok(u.parse().unwrap_or(0), *ms),
        (Probe::Ok { ms, .. }, None) => Probe::Failed {
            message: "Uptime not in SHOW GLOBAL STATUS".into(),
            ms: *ms,
        },
        (other, _) => other.clone().map(|_| 0),
    };
    let int = |k: &str| s.get(k).and_then(|v| v.parse::<u64>().ok());
    facts.common.connections = match (&status, int("max_connections")) {
        (Probe::Ok { ms, .. }, Some(max)) => Probe::ok(
            ConnectionSlots {
                max,
                // MySQL keeps one extra connection for SUPER beyond max_connections.
                reserved: 0,
                in_use: status_map
                    .get("threads_connected")
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0),
                user_limit: int("max_user_connections").filter(|l| *l > 0),
            },
            *ms,
        ),
        (Probe::Ok { ms, .. }, None) => Probe::Failed {
            message: "max_connections not visible".into(),
            ms: *ms,
        },
        (other, _) => other.failure(),
    };
    facts.common.tls = ssl.map(|rows| {
        let m: BTreeMap<String, String> = rows
            .into_iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v.unwrap_or_default()))
            .collect();
        tls_facts(&m, &mode, crate::checks::epoch_now())
    });
    facts.common.database_size_bytes = tables.clone().map(|rows| {
        rows.iter()
            .map(|r| r.4.parse::<f64>().unwrap_or(0.0) as u64)
            .sum()
    });
    facts.database = database.map(|r| {
        r.map(|r| Database {
            name: r.0,
            charset: r.1,
            collation: r.2,
        })
    });
    facts.tables = tables.map(summarize_tables);
    facts.grants = grants.map(|lines| parse_grants(&lines));
    facts.time_zone_tables = tz.map(|v| v.is_some());
    facts.common.read_only = match &settings {
        Probe::Ok { ms, .. } => Probe::ok(read_only(&s), *ms),
        other => other.clone().map(|_| ReadOnlyFacts::default()),
    };
    facts.common.user_tables = facts.tables.clone().map(|t| t.total);
    // The migration history is read in a second transaction: our connection is asked for
    // again there, which tells a proxy that multiplexes (see `pooler`).
    let (history, mut again) = migrations(&runner, &pool, history_tables).await;
    facts.common.migrations = history;
    let mut signals = super::pooler::Signals {
        connected_port: socket.is_none().then(|| spec.port_or_default()),
        server_port: super::pooler::server_connection(&server_connection).1,
        connection_id: super::pooler::server_connection(&server_connection).0,
        connection_id_again: None,
        greeting: facts
            .common
            .connection
            .tls
            .as_ref()
            .and_then(|t| t.server_greeting.clone()),
        version: facts.common.version_raw.value().cloned(),
    };
    if again.is_none() && signals.suspected() {
        // No second message was needed, but something is in front: one of its own.
        let mut a = Answers::new(
            runner
                .batch(
                    &pool,
                    &[Stmt::new(
                        "connection again",
                        super::pooler::CONNECTION_AGAIN,
                    )],
                )
                .await,
        );
        again = Some(a.next("connection again").one());
    }
    signals.connection_id_again = again.as_ref().and_then(super::pooler::connection_id);
    facts.pooler = match &server_connection {
        Probe::Ok { ms, .. } => Probe::ok(signals.facts(), *ms),
        other => other.failure(),
    };

    // Identity needs the version and the markers compatible engines leave in the variables.
    let comment = first.value().and_then(|r| r.1.clone()).unwrap_or_default();
    let mut hints: Vec<(&str, &str)> = vec![("version_comment", comment.as_str())];
    for k in [
        "aurora_version",
        "tidb_version",
        "memsql_version",
        "version_compile_os",
        "version_compile_machine",
        "basedir",
    ] {
        if let Some(v) = s.get(k) {
            hints.push((k, v));
        }
    }
    // The greeting's version, read by the TLS inspection (the driver does not expose it): a
    // gateway (Azure's) announces its own there.
    let greeting = facts
        .common
        .connection
        .tls
        .as_ref()
        .and_then(|t| t.server_greeting.clone())
        .unwrap_or_default();
    hints.push(("handshake_version", greeting.as_str()));
    if s.keys()
        .any(|k| k.starts_with("azure") || k == "aad_auth_only")
    {
        hints.push(("managed", "azure"));
    }
    facts.common.identity = identify_probe(Engine::Mysql, &facts.common.version_raw, &hints);
    facts.common.settings = settings;
    if let Some(id) = facts.common.identity.value() {
        let charset = facts
            .database
            .value()
            .and_then(|d| d.as_ref().map(|d| d.charset.clone()))
            .or_else(|| s.get("character_set_server").cloned());
        facts.common.capabilities = capabilities(id, charset.as_deref());
    }
    facts.common.write_probe = if !opts.probe_write {
        crate::checks::WriteProbe::not_asked("dropped")
    } else if facts
        .session
        .value()
        .and_then(|s| s.database.as_ref())
        .is_none()
    {
        Probe::not_collected("the URL names no database to create a scratch table in")
    } else {
        let probe = match pool.acquire().await {
            Ok(mut conn) => write_probe(&runner, &mut conn).await,
            Err(e) => Probe::Failed {
                message: spec.scrub(&error_text(&e)),
                ms: 0,
            },
        };
        if let Some(p) = probe.value() {
            p.apply_to(&mut facts.common.capabilities);
        }
        probe
    };
    facts.common.queries = runner.count();
    // A connection still busy with a cancelled query must not hold the run: close briefly.
    let _ = tokio::time::timeout(std::time::Duration::from_millis(250), pool.close()).await;
    facts
}

/// Each message of ours is one read-only transaction that ends with it (`COMMIT`, or
/// `ROLLBACK` after a statement that failed, which leaves it open), and each read carries its
/// own time limit that does not outlive it: MariaDB executes `/*M! ... */` and reads `SET
/// STATEMENT max_statement_time = s FOR`, MySQL reads the `MAX_EXECUTION_TIME` hint of a
/// SELECT (and skips the MariaDB comment); neither leaves a session setting behind.
fn scope() -> Scope {
    Scope {
        before: vec!["START TRANSACTION READ ONLY".into()],
        after: vec!["COMMIT".into()],
        on_error: Some("ROLLBACK".into()),
        per_statement: Some(limited),
    }
}

/// A read with its own time limit on MariaDB and (for SELECT) MySQL; see [`scope`].
fn limited(sql: &str, limit: std::time::Duration) -> String {
    let secs = limit.as_secs_f64();
    let ms = limit.as_millis();
    let sql = match sql.strip_prefix("SELECT ") {
        Some(rest) => format!("SELECT /*+ MAX_EXECUTION_TIME({ms}) */ {rest}"),
        None => sql.to_string(),
    };
    format!("/*M! SET STATEMENT max_statement_time = {secs} FOR */ {sql}")
}

/// VERSION(), @@version_comment, the clock, USER(), CURRENT_USER(), DATABASE().
type FirstRow = (
    String,
    Option<String>,
    String,
    String,
    String,
    Option<String>,
);

/// Creates a uniquely named scratch table and exercises what the product's SQL relies on.
/// MySQL's DDL commits implicitly, so nothing can be rolled back: the last step drops the table
/// and the leftover query is the judge.
async fn write_probe(
    runner: &Runner<'_>,
    conn: &mut sqlx::MySqlConnection,
) -> Probe<crate::checks::WriteProbe> {
    use crate::engines::sql::{Step, scratch_name};
    let t = scratch_name();
    let steps = vec![
        Step::new(
            None,
            format!(
                "CREATE TABLE `{t}` (id INT PRIMARY KEY, CONSTRAINT `{t}_chk` CHECK (id > 0)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"
            ),
        ),
        Step::new(
            Some("varchar-without-length"),
            format!("ALTER TABLE `{t}` ADD COLUMN name VARCHAR"),
        ),
        Step::new(
            Some("json"),
            format!("ALTER TABLE `{t}` ADD COLUMN doc JSON"),
        ),
        Step::refused(
            "check-constraints",
            format!("INSERT INTO `{t}` (id) VALUES (-1)"),
        ),
        Step::new(
            Some("returning"),
            format!("INSERT INTO `{t}` (id) VALUES (1) RETURNING id"),
        ),
        Step::new(
            Some("upsert"),
            format!("INSERT INTO `{t}` (id) VALUES (2) ON DUPLICATE KEY UPDATE id = id"),
        ),
        Step::new(None, format!("DROP TABLE `{t}`")),
    ];
    // Every scratch table of ours, this run's and any an earlier run left when it was killed
    // between CREATE and DROP (DDL is not transactional here).
    let leftover = "SELECT CAST(table_name AS CHAR) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name LIKE 'byod!_precheck!_probe!_%' ESCAPE '!'".to_string();
    // A transaction of its own, read-write whatever the session's default: nothing is set on
    // the session.
    crate::engines::sql::write_probe(
        runner,
        conn,
        &t,
        "START TRANSACTION READ WRITE",
        steps,
        leftover,
    )
    .await
}

/// Records a connection failure; the other checks are then skipped (see `registry::evaluate`).
pub(super) fn failed(mut facts: MysqlFacts, f: ConnectFailure) -> MysqlFacts {
    facts.common.connection.failure = Some(f);
    facts
}

/// The ssl-mode option, normalised to the MySQL client's names (`preferred` by default).
pub(crate) fn ssl_mode_name(spec: &ConnSpec) -> String {
    spec.option("ssl-mode")
        .map_or("preferred".to_string(), |m| {
            m.trim().to_ascii_lowercase().replace('-', "_")
        })
}

pub(crate) fn connect_options(
    spec: &ConnSpec,
    socket: Option<&str>,
    mode: &str,
) -> Result<MySqlConnectOptions, ConnectFailure> {
    let config = |message: String| ConnectFailure {
        kind: FailureKind::Config,
        message,
    };
    let mut o = MySqlConnectOptions::new()
        .port(spec.port_or_default())
        .statement_cache_capacity(0)
        // Leave the session's sql_mode and time zone as the server gives them.
        .pipes_as_concat(false)
        .no_engine_substitution(false)
        .timezone(None);
    // Under the service's guard the driver gets the checked address, not the name (no second
    // resolution); the name is then verified by our own inspection before the login.
    let (host, driver_verifies_name) = crate::net::driver_host(
        &spec.tcp_host(),
        spec.port_or_default(),
        matches!(mode, "verify_identity" | "verify_full"),
    );
    o = match socket {
        Some(path) => o.socket(path),
        None => o.host(&host),
    };
    if let Some(u) = &spec.user {
        o = o.username(u);
    }
    if let Some(p) = &spec.password {
        o = o.password(p.expose());
    }
    if let Some(d) = &spec.database {
        o = o.database(d);
    }
    if let Some(c) = spec.option("charset") {
        o = o.charset(c);
    }
    let ssl = match mode {
        "disabled" | "disable" => MySqlSslMode::Disabled,
        "preferred" | "prefer" => MySqlSslMode::Preferred,
        "required" | "require" => MySqlSslMode::Required,
        "verify_ca" => MySqlSslMode::VerifyCa,
        "verify_identity" | "verify_full" if !driver_verifies_name => MySqlSslMode::VerifyCa,
        "verify_identity" | "verify_full" => MySqlSslMode::VerifyIdentity,
        other => {
            return Err(config(format!(
                "ssl-mode `{other}` is not one of DISABLED, PREFERRED, REQUIRED, VERIFY_CA, VERIFY_IDENTITY"
            )));
        }
    };
    o = o.ssl_mode(ssl);
    if let Some(ca) = spec.option("ssl-ca") {
        if !std::path::Path::new(ca).is_file() {
            return Err(config(format!("ssl-ca `{ca}` is not a readable file")));
        }
        o = o.ssl_ca(ca);
    }
    // A client certificate and key (for servers that require X509): handed to the driver.
    for key in ["ssl-cert", "ssl-key"] {
        if let Some(path) = spec.option(key) {
            if !std::path::Path::new(path).is_file() {
                return Err(config(format!("{key} `{path}` is not a readable file")));
            }
            o = if key == "ssl-cert" {
                o.ssl_client_cert(path)
            } else {
                o.ssl_client_key(path)
            };
        }
    }
    Ok(o)
}

/// The server's error number, for MySQL errors.
fn number(e: &sqlx::Error) -> Option<u16> {
    match e {
        sqlx::Error::Database(db) => db
            .try_downcast_ref::<MySqlDatabaseError>()
            .map(|d| d.number()),
        _ => None,
    }
}

/// Access denied: to a database (1044), a table (1142), a column (1143), a routine (1370),
/// or a statement needing a privilege (1227).
fn is_denied(e: &sqlx::Error) -> bool {
    matches!(number(e), Some(1044 | 1142 | 1143 | 1227 | 1370))
}

fn denied_hint(what: &str) -> Option<&'static str> {
    match what {
        "SHOW GLOBAL STATUS" | "SHOW GLOBAL VARIABLES" => {
            Some("needs no privilege on MySQL 5.7+; with show_compatibility_56 it needs PROCESS")
        }
        _ => None,
    }
}

/// Classifies a driver error at connect time.
fn classify(e: &sqlx::Error, spec: &ConnSpec, mode: &str) -> ConnectFailure {
    let message = spec.scrub(&error_text(e));
    let kind = match (e, number(e)) {
        (_, Some(1045 | 1698)) => FailureKind::Authentication,
        (_, Some(1049)) => FailureKind::DatabaseMissing,
        (_, Some(1044 | 1130 | 1227)) => FailureKind::Permission,
        (_, Some(3159)) => FailureKind::Tls, // require_secure_transport refused plain text
        _ => crate::engines::sql::transport_failure(e, &message),
    };
    let message = if kind == FailureKind::Tls {
        format!("{message} (ssl-mode={})", mode.to_ascii_uppercase())
    } else {
        message
    };
    ConnectFailure { kind, message }
}
