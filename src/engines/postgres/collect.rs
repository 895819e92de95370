//! The PostgreSQL collector: the only code that talks to a PostgreSQL server. It connects in
//! steps (DNS, TCP, then the driver), opens every session read-only, and sends a fixed set of
//! catalog queries concurrently over a small pool; each becomes a probe of its own.

use super::facts::{Database, Extension, PgFacts, Pooler, Privileges, Session};
use crate::Engine;
use crate::checks::{
    Capability, ClockFacts, ConnectionSlots, MigrationHistory, ReadOnlyFacts, TlsFacts, TrustMode,
};
use crate::engines::CollectOptions;
use crate::engines::identify_probe;
use crate::engines::sql::{Answers, Runner, Scope, Stmt, error_text, pg_literal, pg_text_array};
use crate::net::{ConnectFailure, FailureKind};
use crate::probe::Probe;
use crate::target::ConnSpec;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgSslMode};
use std::collections::BTreeMap;
use std::str::FromStr;

mod catalog;
use catalog::*;
mod pooler;
use pooler::*;
mod settings;
pub use settings::set_by_our_driver;
use settings::*;

/// Collects every PostgreSQL fact. Never fails: failures are recorded in the facts.
pub async fn collect(spec: &ConnSpec, opts: &CollectOptions) -> PgFacts {
    let mut facts = <super::Postgres as crate::engines::EngineModule>::started(spec);
    let runner = Runner::new(
        spec,
        opts.check_timeout,
        |e| matches!(e, sqlx::Error::Database(d) if d.code().as_deref() == Some("42501")),
        denied_hint,
        scope(opts.check_timeout),
    );
    let sslmode = spec.option("sslmode").unwrap_or("prefer");
    let socket = spec.socket().map(str::to_string);
    let host = spec.tcp_host();
    let reached = match opts.reach(spec, &mut facts.common.connection).await {
        Ok(r) => r,
        Err(f) => return failed(facts, f),
    };
    let options = match connect_options(spec, socket.as_deref()) {
        Ok(o) => o,
        Err(f) => return failed(facts, f),
    };
    // One connection is enough, and the only one we hold: a role with CONNECTION LIMIT 1, a
    // pool of one or a server that takes one client at a time (PGlite) must never see us wait
    // on ourselves. Each batch is one round trip anyway.
    let pool_opts = PgPoolOptions::new()
        .max_connections(1)
        .min_connections(0)
        // Our own connect timeout (around the pool) fires first, with a clearer message.
        .acquire_timeout(opts.connect_timeout + std::time::Duration::from_secs(1));
    // The TLS layer is inspected on a connection of our own, beside the login; a server that
    // turns the login away while the inspection holds it sees the login again once the
    // inspection is closed (see `net::login`).
    let ca = spec.option("sslrootcert").map(std::path::PathBuf::from);
    let inspect = (socket.is_none() && sslmode != "disable")
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
                |o| o.ssl_mode(sqlx::postgres::PgSslMode::Require),
            );
            pool_opts.clone().connect_with(options)
        },
        inspect,
        |e| classify(e, spec, sslmode),
    );
    // The gate lives as long as the connection: its relay carries it.
    let (pool, _gate) = match login.await {
        Ok(p) => p,
        Err(f) => return failed(facts, f),
    };
    // Every catalog read in one round trip: identity, session and clock first, then what
    // does not depend on the version. What does (extension availability, migration history,
    // Aurora) is the second and last round trip.
    let schema = opts
        .schema
        .as_deref()
        .map_or("NULL".to_string(), pg_literal);
    let required = &opts.extensions;
    let mut stmts = vec![
        Stmt::new("version and session", FIRST),
        Stmt::new("server session", SERVER_SESSION),
        Stmt::new("pg_settings", SETTINGS),
        Stmt::new("pg_db_role_setting", ROLE_SETTINGS),
        Stmt::new(
            "pg_database",
            "SELECT pg_encoding_to_char(encoding)::text, datcollate::text, datctype::text, datconnlimit, \
             pg_database_size(oid) FROM pg_database WHERE datname = current_database()",
        ),
        Stmt::new("privileges", PRIVILEGES.replace("{schema}", &schema)),
        Stmt::new(
            "pg_stat_ssl",
            "SELECT ssl, version, cipher, bits FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
        ),
        Stmt::new(
            "pg_stat_activity",
            "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' OR backend_type IS NULL",
        ),
        Stmt::new("migration tables", migration_tables_sql()),
        Stmt::new("migration privileges", migration_privileges_sql()),
        Stmt::new("user tables", USER_TABLES),
    ];
    if required.is_empty() {
        stmts.push(Stmt::new(
            "pg_extension",
            format!("{INSTALLED_EXTENSIONS} ORDER BY 1"),
        ));
    }
    let local_before = crate::checks::epoch_now();
    let mut answers = Answers::new(runner.batch(&pool, &stmts).await);
    let first: Probe<FirstRow> = answers.next("version and session").one();
    // The server read its clock during the first statement, which ends the round trip's
    // first half and, with it, the batch's first answer.
    let local_after = local_before + first.ms() as f64 / 1000.0;
    let server: Probe<ServerSession> = answers
        .next("server session")
        .one::<ServerSessionRow>()
        .map(ServerSession::from);
    let settings: Probe<Vec<SettingRow>> = answers.next("pg_settings").all();
    let role_settings: Probe<Vec<(String, String, String)>> =
        answers.next("pg_db_role_setting").all();
    let database: Probe<(String, String, String, i32, i64)> = answers.next("pg_database").one();
    let privileges: Probe<PrivRow> = answers.next("privileges").one();
    let tls: Probe<Option<SslRow>> = answers.next("pg_stat_ssl").optional();
    let activity: Probe<(i64,)> = answers.next("pg_stat_activity").one();
    let activity = activity.map(|r| r.0);
    let found: Probe<Vec<MigrationColumn>> = answers.next("migration tables").all();
    // Unanswered (a server without these functions): read the tables as they are.
    let unreadable: Vec<Unreadable> = answers
        .next("migration privileges")
        .all()
        .value()
        .cloned()
        .unwrap_or_default();
    let user_tables: Probe<(i64,)> = answers.next("user tables").one();
    facts.common.user_tables = user_tables.map(|r| r.0.max(0).unsigned_abs());
    let installed: Option<Probe<Vec<ExtensionRow>>> = required
        .is_empty()
        .then(|| answers.next("pg_extension").all());

    let version_num = first.value().map(|r| r.1.clone()).unwrap_or_default();
    let num: u32 = version_num.parse().unwrap_or(0);
    facts.common.version_raw = first.clone().map(|r| r.0);
    facts.common.clock = first.clone().map(|r| ClockFacts {
        server_epoch: r.2,
        local_epoch: (local_before + local_after) / 2.0,
        time_zone_from: None,
        time_zone: None,
    });
    facts.common.uptime_seconds = first.clone().map(|r| r.3.max(0) as u64);
    facts.session = first.clone().map(|r| Session {
        database: r.4,
        user: r.5,
        superuser: r.6,
        role_conn_limit: r.7,
        search_path: r.8,
    });
    let privileges = privileges.map(privileges_from);
    let aurora_marked = settings.value().is_some_and(|rows| {
        rows.iter()
            .any(|r| r.0.starts_with("apg_") || r.0.starts_with("aurora"))
    });

    // The second round trip: what depends on the first, and the backend again, which tells
    // transaction pooling (another server session for the next transaction).
    let mut second = vec![Stmt::new("backend again", "SELECT pg_backend_pid()")];
    if installed.is_none() {
        second.push(available_extensions(num, required));
    }
    if aurora_marked {
        second.push(Stmt::new("aurora_version()", "SELECT aurora_version()"));
    }
    // Our driver sets some settings for its own session when it logs in (sqlx sends TimeZone,
    // DateStyle, client_encoding, extra_float_digits), which hides the values other clients
    // get from current_setting and pg_settings. ALTER ROLE/DATABASE ... SET shows them in
    // pg_db_role_setting; postgresql.conf and ALTER SYSTEM only in pg_file_settings, which
    // only a superuser may read.
    let roles = role_settings.value().map_or(&[][..], Vec::as_slice);
    let read_files = read_files(
        opts.driver_set_judged,
        num,
        facts.session.value().is_some_and(|s| s.superuser),
        roles,
    );
    if read_files.is_ok() {
        second.push(Stmt::new("pg_file_settings", DRIVER_SET_IN_FILES));
    }
    let history = match &found {
        Probe::Ok { value, .. } => history_reads(
            value,
            &unreadable,
            facts
                .session
                .value()
                .map_or("<our user>", |s| s.user.as_str()),
        ),
        _ => Vec::new(),
    };
    second.extend(
        history
            .iter()
            .filter_map(|h| h.read.as_ref().ok())
            .map(|sql| Stmt::new("history table", sql.clone())),
    );
    let mut answers = Answers::new(runner.batch(&pool, &second).await);
    let pid_again: Probe<(i32,)> = answers.next("backend again").one();
    let extensions = match installed {
        Some(rows) => rows.map(extensions_from),
        None => answers
            .next("pg_available_extensions")
            .all()
            .map(extensions_from),
    };
    let aurora: Option<String> = if aurora_marked {
        answers
            .next("aurora_version()")
            .one::<(String,)>()
            .value()
            .map(|r| r.0.clone())
    } else {
        None
    };
    let files: Result<Vec<(String, String)>, &str> = read_files.and_then(|()| {
        answers
            .next("pg_file_settings")
            .all()
            .value()
            .cloned()
            .ok_or("pg_file_settings could not be read")
    });
    let migrations = match found {
        Probe::Ok { ms, .. } => migration_history(history, &mut answers, ms),
        other => other.map(|_| Vec::new()),
    };

    // The sessions behind a pooler: pgpool-II names itself; PgBouncer is asked on its admin
    // console only when something says the server session is not ours alone.
    let login_ms = facts.common.connection.login_ms.unwrap_or(0);
    let mut signals = PoolerSignals {
        pool_version: None,
        connected_port: socket.is_none().then(|| spec.port_or_default()),
        server: server.value().cloned(),
        pid_again: pid_again.value().map(|r| r.0),
        login_ms,
        embedded: facts
            .common
            .version_raw
            .value()
            .is_some_and(|v| v.contains("PGlite")),
    };
    // pgpool-II answers `SHOW pool_version` itself, and only when it comes alone in its
    // message; PostgreSQL refuses it (an error outside any transaction: nothing stays). A
    // round trip of its own, so only asked when the server session is not plainly the one
    // we connected to: another port, another address, the local socket, an older session,
    // another backend for the next transaction.
    let elsewhere = server
        .value()
        .is_some_and(|s| served_elsewhere(s, &facts.common.connection.addresses));
    if !signals.embedded && (elsewhere || !signals.evidence().is_empty()) {
        signals.pool_version = runner
            .probe(
                "SHOW pool_version",
                1,
                sqlx::raw_sql("SHOW pool_version").fetch_optional(&pool),
            )
            .await
            .value()
            .and_then(|r| sqlx::Row::try_get::<String, _>(r, 0).ok());
    }
    let pgpool_status = match &signals.pool_version {
        Some(_) => pgpool_status(&pool, &runner).await,
        None => None,
    };
    let (mut settings_map, levels) = match settings {
        Probe::Ok { value, ms } => {
            let (m, l) = normalize_settings(value, roles);
            (Probe::ok(m, ms), l)
        }
        other => (other.failure(), BTreeMap::new()),
    };
    // The time zone other clients get: never our own session's (see DRIVER_SET).
    if let Probe::Ok { value, .. } = &mut settings_map {
        let zone = new_session_values(value, roles, files.as_deref().map_err(|e| *e));
        if let (Some((zone, from)), Probe::Ok { value, .. }) = (zone, &mut facts.common.clock) {
            value.time_zone = Some(zone);
            value.time_zone_from = Some(from);
        }
    }
    facts.setting_levels = levels;
    facts.common.database_size_bytes = database.clone().map(|r| r.4.max(0) as u64);
    facts.database = database.map(|r| Database {
        encoding: r.0,
        collate: r.1,
        ctype: r.2,
        conn_limit: r.3,
    });
    facts.privileges = privileges;
    let int = |k: &str| {
        settings_map
            .value()
            .and_then(|s| s.get(k))
            .and_then(|v| v.parse::<u64>().ok())
    };
    facts.common.connections = match (activity, int("max_connections")) {
        (Probe::Ok { value, ms }, Some(max)) => {
            let user_limit = [
                facts.database.value().map(|d| d.conn_limit),
                facts.session.value().map(|r| r.role_conn_limit),
            ]
            .into_iter()
            .flatten()
            .filter(|l| *l >= 0)
            .map(|l| l as u64)
            .min();
            Probe::ok(
                ConnectionSlots {
                    max,
                    reserved: int("superuser_reserved_connections").unwrap_or(0)
                        + int("reserved_connections").unwrap_or(0),
                    in_use: value.max(0) as u64,
                    user_limit,
                },
                ms,
            )
        }
        (Probe::Ok { ms, .. }, None) => Probe::Failed {
            message: "max_connections not visible".into(),
            ms,
        },
        (other, _) => other.failure(),
    };
    facts.common.migrations = migrations;

    // Identity needs the version, the extensions (Citus, TimescaleDB) and the settings
    // (managed services leave their own prefixes there).
    let installed = |n: &str| {
        extensions
            .value()?
            .iter()
            .find(|e| e.name == n)
            .and_then(|e| e.installed_version.clone())
    };
    let (citus, timescale) = (installed("citus"), installed("timescaledb"));
    let managed = settings_map.value().and_then(managed_marker);
    facts.extensions = extensions;
    facts.extensions_asked = required.clone();
    facts.common.settings = settings_map;
    let mut hints: Vec<(&str, &str)> = vec![("server_version_num", version_num.as_str())];
    if let Some(v) = &citus {
        hints.push(("citus_version", v));
    }
    if let Some(v) = &timescale {
        hints.push(("timescaledb_version", v));
    }
    if let Some(m) = managed {
        hints.push(("managed", m));
    }
    if let Some(a) = &aurora {
        hints.push(("aurora_version", a));
    }
    // SHOW server_version keeps a pre-release tag; data_directory tells PGlite (/pglite/...).
    let settings_now = facts.common.settings.value();
    for k in ["server_version", "data_directory"] {
        if let Some(v) = settings_now.and_then(|m| m.get(k)) {
            hints.push((k, v.as_str()));
        }
    }
    facts.common.identity = identify_probe(Engine::Postgres, &facts.common.version_raw, &hints);
    // Read from the server's state, never from our own transaction's: pg_is_in_recovery(),
    // and default_transaction_read_only as the server, database or role gives it (we never
    // set it; our reads are read-only through SET TRANSACTION, which leaves it alone).
    facts.common.read_only = server.clone().map(|r| {
        let mut reasons = Vec::new();
        if r.in_recovery {
            reasons.push("pg_is_in_recovery() = true: a standby (replica)".to_string());
        }
        if r.default_read_only == "on" {
            let level = facts
                .setting_levels
                .get("default_transaction_read_only")
                .map_or("a server, database or role", String::as_str);
            reasons.push(format!(
                "default_transaction_read_only = on (set for {level})"
            ));
        }
        ReadOnlyFacts::from_reasons(reasons)
    });
    facts.common.tls = Probe::ok(
        tls_facts(
            &facts.common.connection,
            sslmode,
            socket.is_some(),
            tls.value().cloned().flatten(),
        ),
        tls.ms(),
    );
    if let Some(id) = facts.common.identity.value() {
        facts.common.capabilities = capabilities(id, facts.database.value());
    }
    facts.common.write_probe = if opts.probe_write {
        let probe = match pool.acquire().await {
            Ok(mut conn) => write_probe(&runner, &mut conn).await,
            Err(e) => Probe::Failed {
                message: spec.scrub(&error_text(&e)),
                ms: 0,
            },
        };
        probe.recorded_in(&mut facts.common.capabilities)
    } else {
        crate::checks::WriteProbe::not_asked("rolled back")
    };
    // A connection still busy with a cancelled query must not hold the run: close briefly.
    let _ = tokio::time::timeout(std::time::Duration::from_millis(250), pool.close()).await;
    // PgBouncer's admin console is a login of its own: only when something says the server
    // session is not ours alone, and only once ours is closed.
    let console = if signals.pool_version.is_none() && !signals.evidence().is_empty() {
        pgbouncer_console(&options, opts.connect_timeout, &runner).await
    } else {
        None
    };
    facts.pooler = match &server {
        Probe::Ok { ms, .. } => Probe::ok(signals.facts(console, pgpool_status), *ms),
        other => other.failure(),
    };
    facts.common.queries = runner.count();
    facts
}

/// Each message of ours is one transaction that ends with it: a message of several statements
/// is an implicit transaction on PostgreSQL, so `SET TRANSACTION READ ONLY` and `SET LOCAL`
/// end with the message, even when a statement fails (no `ROLLBACK` to send) and under
/// PgBouncer's statement pooling, which refuses explicit transaction blocks. Nothing is set
/// on the session: behind a pooler the next client inherits it.
fn scope(limit: std::time::Duration) -> Scope {
    let ms = limit.as_millis();
    Scope {
        before: vec![
            "SET TRANSACTION READ ONLY".into(),
            format!("SET LOCAL statement_timeout = {ms}"),
            format!("SET LOCAL lock_timeout = {ms}"),
        ],
        ..Default::default()
    }
}

/// The batch's first statement: identity, session and clock.
const FIRST: &str = "SELECT version(), current_setting('server_version_num'), \
    extract(epoch from clock_timestamp())::float8, \
    extract(epoch from (now() - pg_postmaster_start_time()))::int8, \
    current_database()::text, current_user::text, \
    coalesce((SELECT rolsuper FROM pg_roles WHERE rolname = current_user), false), \
    coalesce((SELECT rolconnlimit FROM pg_roles WHERE rolname = current_user), -1), \
    current_setting('search_path')";

/// version, server_version_num, clock, uptime, database, user, superuser, the role's
/// connection limit, search_path. No TimeZone: our driver sets its session's (see
/// `DRIVER_SET`), so the time zone comes from where it is set.
type FirstRow = (String, String, f64, i64, String, String, bool, i32, String);

pub(crate) fn connect_options(
    spec: &ConnSpec,
    socket: Option<&str>,
) -> Result<PgConnectOptions, ConnectFailure> {
    let config = |message: String| ConnectFailure {
        kind: FailureKind::Config,
        message,
    };
    let mut o = PgConnectOptions::new_without_pgpass()
        .port(spec.port_or_default())
        .application_name(
            spec.params
                .get("application_name")
                .map_or("byod-precheck", String::as_str),
        )
        .statement_cache_capacity(0)
        // A startup parameter PgBouncer refuses unless told to ignore it (psql and most
        // drivers do not send it); our reads decode floats from text anyway.
        .extra_float_digits(None);
    let sslmode = spec.option("sslmode").unwrap_or("prefer");
    // Under the service's guard the driver gets the checked address, not the name (no second
    // resolution); the name is then verified by our own inspection before the login.
    let (host, driver_verifies_name) = crate::net::driver_host(
        &spec.tcp_host(),
        spec.port_or_default(),
        sslmode == "verify-full",
    );
    o = match socket {
        Some(dir) => o.socket(dir),
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
    let mode = spec.option("sslmode").unwrap_or("prefer");
    let mode = PgSslMode::from_str(mode).map_err(|_| {
        config(format!(
            "sslmode `{mode}` is not one of disable, allow, prefer, require, verify-ca, verify-full"
        ))
    })?;
    o = o.ssl_mode(if sslmode == "verify-full" && !driver_verifies_name {
        PgSslMode::VerifyCa
    } else {
        mode
    });
    if let Some(ca) = spec.option("sslrootcert") {
        if !std::path::Path::new(ca).is_file() {
            return Err(config(format!("sslrootcert `{ca}` is not a readable file")));
        }
        o = o.ssl_root_cert(ca);
    }
    // A client certificate and key (for `clientcert=verify-full` in pg_hba.conf).
    for key in ["sslcert", "sslkey"] {
        if let Some(path) = spec.option(key) {
            if !std::path::Path::new(path).is_file() {
                return Err(config(format!("{key} `{path}` is not a readable file")));
            }
            o = if key == "sslcert" {
                o.ssl_client_cert(path)
            } else {
                o.ssl_client_key(path)
            };
        }
    }
    // libpq's `options` (`-c name=value ...`), checked when the URL was parsed.
    if let Some(opts) = spec.option("options") {
        o = o.options(super::connstr::pg_startup_options(opts).unwrap_or_default());
    }
    Ok(o)
}

/// Classifies a driver error at connect time.
fn classify(e: &sqlx::Error, spec: &ConnSpec, sslmode: &str) -> ConnectFailure {
    let message = spec.scrub(&error_text(e));
    let kind = match e {
        sqlx::Error::Database(db) => match db.code().as_deref() {
            Some("28P01") => FailureKind::Authentication,
            Some("28000") if message.contains("pg_hba.conf") => FailureKind::Permission,
            Some("28000") => FailureKind::Authentication,
            Some("3D000") => FailureKind::DatabaseMissing,
            Some("42501") => FailureKind::Permission,
            _ => FailureKind::ServerError,
        },
        _ => crate::engines::sql::transport_failure(e, &message),
    };
    let message = if kind == FailureKind::Tls {
        format!("{message} (sslmode={sslmode})")
    } else {
        message
    };
    ConnectFailure { kind, message }
}

fn denied_hint(what: &str) -> Option<&'static str> {
    match what {
        "pg_settings" => Some("needs pg_read_all_settings"),
        "pg_stat_activity" | "pg_stat_ssl" => Some("needs pg_read_all_stats or pg_monitor"),
        "pg_database" => Some("needs CONNECT on the database"),
        _ => None,
    }
}

type PrivRow = (
    String,
    bool,
    bool,
    bool,
    bool,
    Option<bool>,
    Option<bool>,
    i64,
    Vec<String>,
    Vec<String>,
);

/// Creates a scratch table inside a read-write transaction, exercises what the product's SQL
/// relies on, and rolls everything back; PostgreSQL's DDL is transactional, so nothing stays.
async fn write_probe(
    runner: &Runner<'_>,
    conn: &mut sqlx::PgConnection,
) -> Probe<crate::checks::WriteProbe> {
    use crate::engines::sql::{Step, scratch_name};
    let t = scratch_name();
    let step = Step::new;
    let mut steps = vec![
        step(None, format!("CREATE TABLE {t} (id integer PRIMARY KEY)")),
        step(
            Some("varchar-without-length"),
            format!("ALTER TABLE {t} ADD COLUMN name varchar"),
        ),
        step(
            Some("json"),
            format!("ALTER TABLE {t} ADD COLUMN doc jsonb"),
        ),
        step(
            Some("check-constraints"),
            format!("ALTER TABLE {t} ADD CONSTRAINT {t}_chk CHECK (id > 0)"),
        ),
    ];
    steps.extend(crate::engines::sql::returning_and_upsert(&t));
    steps.extend([
        step(Some("sequences"), format!("CREATE SEQUENCE {t}_seq")),
        step(None, format!("CREATE VIEW {t}_v AS SELECT id FROM {t}")),
        step(Some("drop-cascade"), format!("DROP TABLE {t} CASCADE")),
    ]);
    let leftover = format!("SELECT relname::text FROM pg_class WHERE relname LIKE '{t}%'");
    // The limits last as long as the transaction, which ROLLBACK ends.
    let ms = runner.timeout.as_millis();
    let begin = format!(
        "BEGIN READ WRITE; SET LOCAL statement_timeout = {ms}; SET LOCAL lock_timeout = {ms}"
    );
    let mut probe =
        crate::engines::sql::write_probe(runner, conn, &t, &begin, steps, leftover).await;
    // Nothing left after ROLLBACK is what transactional DDL means.
    if let Probe::Ok { value, .. } = &mut probe {
        let created = value.steps.first().is_some_and(|s| s.error.is_none());
        if created {
            value.steps.push(crate::checks::ProbeStep {
                capability: Some("transactional-ddl".into()),
                sql: "ROLLBACK (then look for the table)".into(),
                error: (!value.leftovers.is_empty())
                    .then(|| "the table survived the rollback".to_string()),
                refusal_confirms: false,
            });
        }
    }
    probe
}

/// Records a connection failure; the other checks are then skipped (see `registry::evaluate`).
pub(super) fn failed(mut facts: PgFacts, f: ConnectFailure) -> PgFacts {
    facts.common.connection.failure = Some(f);
    facts
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_read_through_their_unit() {
        assert_eq!(normalize_value("5", Some("s")), "5000");
        assert_eq!(normalize_value("5000", Some("ms")), "5000");
        assert_eq!(normalize_value("2", Some("min")), "120000");
        assert_eq!(normalize_value("16384", Some("8kB")), "131072");
        assert_eq!(normalize_value("4", Some("MB")), "4096");
        // -1 (off) and 0 stay as they are; so do values without a unit.
        assert_eq!(normalize_value("-1", Some("s")), "-1");
        assert_eq!(normalize_value("0", Some("ms")), "0");
        assert_eq!(normalize_value("on", None), "on");
        assert_eq!(normalize_value("100", None), "100");
    }

    #[test]
    fn settings_our_driver_sets_are_read_where_they_are_set_or_not_at_all() {
        let ours = || -> BTreeMap<String, String> {
            [
                ("TimeZone", "UTC"),
                ("DateStyle", "ISO, MDY"),
                ("client_encoding", "UTF8"),
                ("extra_float_digits", "2"),
                ("log_timezone", "Europe/Berlin"),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
        };
        let db = |cfg: &str| ("".to_string(), "db".to_string(), cfg.to_string());
        // Not a superuser, nothing set per role or database: the zone as log_timezone, the
        // rest cannot be told.
        let mut m = ours();
        let zone = new_session_values(&mut m, &[], Err("why"));
        assert_eq!(zone.unwrap().0, "Europe/Berlin");
        assert_eq!(m.get("TimeZone").unwrap(), "Europe/Berlin");
        assert!(!m.contains_key("DateStyle") && !m.contains_key("extra_float_digits"));
        // Set for the database: read there, whoever we are.
        let mut m = ours();
        let zone = new_session_values(
            &mut m,
            &[db("DateStyle=SQL, DMY"), db("timezone=Asia/Tokyo")],
            Err("why"),
        );
        assert_eq!(
            zone.unwrap(),
            ("Asia/Tokyo".into(), "set for the database".into())
        );
        assert_eq!(m.get("DateStyle").unwrap(), "SQL, DMY");
        // A superuser reads the files, the last applied line winning; what no file sets is the
        // built-in default where there is one.
        let mut m = ours();
        let files = [
            ("timezone".to_string(), "Europe/Paris".to_string()),
            ("TimeZone".to_string(), "America/Chicago".to_string()),
        ];
        let zone = new_session_values(&mut m, &[], Ok(&files));
        assert_eq!(
            zone.unwrap(),
            (
                "America/Chicago".into(),
                "postgresql.conf or ALTER SYSTEM".into()
            )
        );
        assert_eq!(m.get("DateStyle").unwrap(), "ISO, MDY");
        assert!(!m.contains_key("client_encoding"));
    }

    #[test]
    fn the_configuration_files_are_read_only_by_a_superuser_when_they_can_tell_something() {
        let db = |cfg: &str| ("".to_string(), "db".to_string(), cfg.to_string());
        assert!(read_files(true, 150000, true, &[]).is_ok());
        assert!(
            read_files(true, 150000, false, &[])
                .unwrap_err()
                .contains("superuser")
        );
        assert!(
            read_files(false, 150000, true, &[])
                .unwrap_err()
                .contains("judges no")
        );
        assert!(
            read_files(true, 90400, true, &[])
                .unwrap_err()
                .contains("9.5")
        );
        let all: Vec<_> = [
            "TimeZone=UTC",
            "DateStyle=ISO",
            "client_encoding=UTF8",
            "extra_float_digits=1",
        ]
        .iter()
        .map(|c| db(c))
        .collect();
        assert!(read_files(true, 150000, true, &all).is_err());
        assert!(read_files(true, 150000, true, &all[..3]).is_ok());
    }

    #[test]
    fn a_role_level_value_is_the_most_specific_one_a_new_session_gets() {
        let row =
            |role: &str, db: &str, cfg: &str| (role.to_string(), db.to_string(), cfg.to_string());
        let mut roles = vec![row("", "", "TimeZone=Europe/Paris")];
        let found = |r: &[(String, String, String)]| role_level_value("timezone", r);
        assert_eq!(found(&roles), Some(("Europe/Paris".into(), "all roles")));
        roles.push(row("", "db", "timezone=America/New_York"));
        assert_eq!(found(&roles), Some(("America/New_York".into(), "database")));
        roles.insert(0, row("app", "db", "timezone=Asia/Tokyo"));
        roles.push(row("app", "", "timezone=UTC"));
        roles.push(row("app", "db", "statement_timeout=5s"));
        assert_eq!(
            found(&roles),
            Some(("Asia/Tokyo".into(), "role in database"))
        );
        roles.remove(0);
        assert_eq!(found(&roles), Some(("UTC".into(), "role")));
        assert_eq!(found(&[row("app", "db", "work_mem=8MB")]), None);
    }

    #[test]
    fn levels_come_from_pg_db_role_setting_most_specific_first_then_the_server() {
        // The last column: the server sets it (judged by the query, see SETTINGS).
        let row = |n: &str, v: &str, unit: Option<&str>, server: bool| {
            (
                n.to_string(),
                Some(v.to_string()),
                unit.map(str::to_string),
                server,
            )
        };
        let rows = vec![
            row("lock_timeout", "7", Some("s"), true),
            row("search_path", "\"$user\", public", None, false),
            row("statement_timeout", "5000", Some("ms"), true),
            row("work_mem", "8192", Some("kB"), true),
        ];
        let roles = vec![
            (
                "app".to_string(),
                "".to_string(),
                "statement_timeout=1s".to_string(),
            ),
            (
                "app".to_string(),
                "db".to_string(),
                "statement_timeout=5s".to_string(),
            ),
            (
                "".to_string(),
                "db".to_string(),
                "lock_timeout=7s".to_string(),
            ),
            // ALTER ROLE ALL: below every other level, above the server's files.
            ("".to_string(), "".to_string(), "work_mem=8MB".to_string()),
            (
                "".to_string(),
                "".to_string(),
                "lock_timeout=1s".to_string(),
            ),
        ];
        let (values, levels) = normalize_settings(rows, &roles);
        assert_eq!(values["statement_timeout"], "5000");
        assert_eq!(values["lock_timeout"], "7000");
        assert_eq!(levels["statement_timeout"], "role in database");
        assert_eq!(levels["lock_timeout"], "database");
        assert_eq!(levels["work_mem"], "all roles");
        assert!(!levels.contains_key("search_path"));
    }
}
