//! The PostgreSQL collector: the only code that talks to a PostgreSQL server. It connects in
//! steps (DNS, TCP, then the driver), opens every session read-only, and sends a fixed set of
//! catalog queries concurrently over a small pool; each becomes a probe of its own.

use super::facts::{Database, Extension, PgFacts, Privileges, Session};
use crate::Engine;
use crate::checks::{
    Capability, ClockFacts, CommonFacts, ConnectionSlots, MigrationHistory, ReadOnlyFacts,
    TlsFacts, TrustMode,
};
use crate::engines::CollectOptions;
use crate::engines::identify_probe;
use crate::engines::sql::{Answers, Runner, Stmt, error_text, pg_literal, pg_text_array};
use crate::net::{ConnectFailure, FailureKind, reach_server};
use crate::probe::Probe;
use crate::target::ConnSpec;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgSslMode};
use std::collections::BTreeMap;
use std::str::FromStr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

/// Collects every PostgreSQL fact. Never fails: failures are recorded in the facts.
pub async fn collect(spec: &ConnSpec, opts: &CollectOptions) -> PgFacts {
    let mut facts = PgFacts {
        common: CommonFacts::started(spec.target_info()),
        ..Default::default()
    };
    let runner = Runner {
        spec,
        timeout: opts.check_timeout,
        queries: Default::default(),
        is_denied: |e| matches!(e, sqlx::Error::Database(d) if d.code().as_deref() == Some("42501")),
        denied_hint,
    };
    let sslmode = spec.params.get("sslmode").map_or("prefer", String::as_str);
    let socket = spec
        .params
        .get("host")
        .filter(|h| h.starts_with('/'))
        .cloned();
    let host = spec.tcp_host();
    let mut reached = None;
    if socket.is_none() {
        match reach_server(
            &host,
            spec.port_or_default(),
            opts.connect_timeout,
            opts.share_per_server,
            &mut facts.common.connection,
        )
        .await
        {
            Ok(stream) => reached = stream,
            Err(f) => return failed(facts, f),
        }
    }
    let options = match connect_options(spec, socket.as_deref()) {
        Ok(o) => o,
        Err(f) => return failed(facts, f),
    };
    // Before the driver may send the password: what will the server ask for, and over what?
    match crate::prelogin::gate(spec, socket.is_none(), opts.connect_timeout).await {
        Ok(risk) => facts.common.connection.auth_risk = risk,
        Err(f) => return failed(facts, f),
    }
    // What the server would give a session before we make ours read-only and bounded:
    // captured by the first connection of the pool, then overridden for our sessions only.
    let defaults: Arc<Mutex<Option<SessionDefaults>>> = Arc::default();
    let capture = defaults.clone();
    // The setup query runs once per pooled connection: each one is a query sent.
    let setup_queries = Arc::new(AtomicU32::new(0));
    let counter = setup_queries.clone();
    let setup = format!(
        "SELECT current_setting('default_transaction_read_only'), pg_is_in_recovery(), \
         current_setting('statement_timeout'), current_setting('lock_timeout'), \
         set_config('default_transaction_read_only', 'on', false), \
         set_config('statement_timeout', '{ms}', false), set_config('lock_timeout', '{ms}', false)",
        ms = opts.check_timeout.as_millis()
    );
    let pool_opts = PgPoolOptions::new()
        .max_connections(opts.pool_size.max(1))
        .min_connections(0)
        // Our own connect timeout (around the pool) fires first, with a clearer message.
        .acquire_timeout(opts.connect_timeout + std::time::Duration::from_secs(1))
        .after_connect(move |conn, _| {
            let capture = capture.clone();
            let setup = setup.clone();
            counter.fetch_add(1, Ordering::Relaxed);
            Box::pin(async move {
                // One round trip (the simple-query protocol; a bound parameter costs two): read
                // the defaults, then make the session read-only and give it server-side time
                // limits (so a hung query or a lock wait ends there too).
                let row = sqlx::Executor::fetch_one(&mut *conn, setup.as_str()).await?;
                let row: SessionDefaults = sqlx::FromRow::from_row(&row)?;
                let mut slot = capture.lock().unwrap_or_else(|p| p.into_inner());
                if slot.is_none() {
                    *slot = Some(row);
                }
                Ok(())
            })
        });
    // The TLS layer is inspected on a connection of our own, alongside the driver's login.
    let ca = spec.params.get("sslrootcert").map(std::path::PathBuf::from);
    let inspect = (socket.is_none() && sslmode != "disable").then(|| crate::net::Inspect {
        host: &host,
        port: spec.port_or_default(),
        preamble: crate::tlsprobe::Preamble::Postgres,
        ca: ca.as_deref(),
        reached,
        shared: opts.share_per_server,
    });
    let login = crate::net::login(
        &mut facts.common.connection,
        opts.connect_timeout,
        pool_opts.connect_with(options),
        inspect,
        |e| classify(e, spec, sslmode),
    );
    let pool = match login.await {
        Ok(p) => p,
        Err(f) => return failed(facts, f),
    };

    // Every catalog read in one round trip: identity, session and clock first, then what
    // does not depend on the version. The rest (extension availability, migration history,
    // Aurora) runs afterwards, side by side over the pool.
    let schema = opts
        .schema
        .as_deref()
        .map_or("NULL".to_string(), pg_literal);
    let required = &opts.extensions;
    let mut stmts = vec![
        Stmt::new("version and session", FIRST),
        Stmt::new("pg_settings", "SELECT name, setting FROM pg_settings"),
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
    let settings: Probe<Vec<(String, String)>> = answers.next("pg_settings").all();
    let database: Probe<(String, String, String, i32, i64)> = answers.next("pg_database").one();
    let privileges: Probe<PrivRow> = answers.next("privileges").one();
    let tls: Probe<Option<SslRow>> = answers.next("pg_stat_ssl").optional();
    let activity: Probe<(i64,)> = answers.next("pg_stat_activity").one();
    let activity = activity.map(|r| r.0);
    let found: Probe<Vec<(String, String, String, String)>> =
        answers.next("migration tables").all();
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
        time_zone: Some(r.3),
    });
    facts.common.uptime_seconds = first.clone().map(|r| r.4.max(0) as u64);
    facts.session = first.clone().map(|r| Session {
        database: r.5,
        user: r.6,
        superuser: r.7,
        role_conn_limit: r.8,
        search_path: r.9,
    });
    let privileges = privileges.map(privileges_from);
    let aurora_marked = settings.value().is_some_and(|rows| {
        rows.iter()
            .any(|(k, _)| k.starts_with("apg_") || k.starts_with("aurora"))
    });
    let (extensions, migrations, aurora) = tokio::join!(
        async {
            match installed {
                Some(rows) => rows.map(extensions_from),
                None => {
                    let stmt = available_extensions(num, required);
                    let mut a = runner.batch(&pool, std::slice::from_ref(&stmt)).await;
                    a.pop()
                        .map_or_else(Probe::default, |a| a.all().map(extensions_from))
                }
            }
        },
        migration_history(&runner, &pool, found),
        async {
            if aurora_marked {
                runner
                    .probe(
                        "aurora_version()",
                        1,
                        sqlx::query_scalar::<_, String>("SELECT aurora_version()").fetch_one(&pool),
                    )
                    .await
                    .value()
                    .cloned()
            } else {
                None
            }
        },
    );

    let settings_map: Probe<BTreeMap<String, String>> =
        settings.map(|rows| rows.into_iter().collect());
    facts.common.database_size_bytes = database.clone().map(|r| r.4.max(0) as u64);
    facts.database = database.map(|r| Database {
        encoding: r.0,
        collate: r.1,
        ctype: r.2,
        conn_limit: r.3,
    });
    facts.privileges = privileges;
    facts.common.tls = tls.map(|row| tls_facts(row, sslmode));
    let s = settings_map.value().cloned().unwrap_or_default();
    let int = |k: &str| s.get(k).and_then(|v| v.parse::<u64>().ok());
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
    let ext_list = extensions.value().cloned().unwrap_or_default();
    let installed = |n: &str| {
        ext_list
            .iter()
            .find(|e| e.name == n)
            .and_then(|e| e.installed_version.clone())
    };
    let managed = managed_marker(&s);
    facts.extensions = extensions;
    facts.extensions_asked = required.clone();
    facts.common.settings = settings_map;
    let mut hints: Vec<(&str, &str)> = vec![("server_version_num", version_num.as_str())];
    let (citus, timescale) = (installed("citus"), installed("timescaledb"));
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
    let captured = defaults.lock().map(|g| g.clone()).unwrap_or_default();
    if let (Some(d), Probe::Ok { value, .. }) = (&captured, &mut facts.common.settings) {
        // pg_settings shows our session's values for these; report the server's.
        value.insert("default_transaction_read_only".into(), d.0.clone());
        value.insert("statement_timeout".into(), d.2.clone());
        value.insert("lock_timeout".into(), d.3.clone());
    }
    facts.common.read_only = match captured {
        Some((default_ro, in_recovery, ..)) => {
            let mut reasons = Vec::new();
            if in_recovery {
                reasons.push("pg_is_in_recovery() = true: a standby (replica)".to_string());
            }
            if default_ro == "on" {
                // Read before our session set its own value, so it is the server's, the
                // database's or the role's default (pg_settings.source would name ours).
                reasons.push(
                    "default_transaction_read_only = on (a server, database or role default)"
                        .to_string(),
                );
            }
            Probe::ok(ReadOnlyFacts::from_reasons(reasons), 0)
        }
        None => Probe::Failed {
            message: "the session settings were not captured".into(),
            ms: 0,
        },
    };
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
        if let Some(p) = probe.value() {
            p.apply_to(&mut facts.common.capabilities);
        }
        probe
    } else {
        Probe::not_collected(
            "not asked: run with --probe-write to confirm capabilities with a scratch table (rolled back)",
        )
    };
    runner.add(setup_queries.load(Ordering::Relaxed));
    facts.common.queries = runner.count();
    // A connection still busy with a cancelled query must not hold the run: close briefly.
    let _ = tokio::time::timeout(std::time::Duration::from_millis(250), pool.close()).await;
    facts
}

/// The batch's first statement: identity, session and clock.
const FIRST: &str = "SELECT version(), current_setting('server_version_num'), \
    extract(epoch from clock_timestamp())::float8, current_setting('TimeZone'), \
    extract(epoch from (now() - pg_postmaster_start_time()))::int8, \
    current_database()::text, current_user::text, \
    coalesce((SELECT rolsuper FROM pg_roles WHERE rolname = current_user), false), \
    coalesce((SELECT rolconnlimit FROM pg_roles WHERE rolname = current_user), -1), \
    current_setting('search_path')";

/// version, server_version_num, clock, TimeZone, uptime, database, user, superuser, the role's
/// connection limit, search_path.
type FirstRow = (
    String,
    String,
    f64,
    String,
    i64,
    String,
    String,
    bool,
    i32,
    String,
);

/// default_transaction_read_only, pg_is_in_recovery, statement_timeout, lock_timeout, and the
/// results of the three set_config calls.
type SessionDefaults = (String, bool, String, String, String, String, String);

/// Records a connection failure; the other checks are then skipped (see `registry::evaluate`).
pub(super) fn failed(mut facts: PgFacts, f: ConnectFailure) -> PgFacts {
    facts.common.connection.failure = Some(f);
    facts
}

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
        .statement_cache_capacity(0);
    let sslmode = spec.params.get("sslmode").map_or("prefer", String::as_str);
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
    let mode = spec.params.get("sslmode").map_or("prefer", String::as_str);
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
    if let Some(ca) = spec.params.get("sslrootcert") {
        if !std::path::Path::new(ca).is_file() {
            return Err(config(format!("sslrootcert `{ca}` is not a readable file")));
        }
        o = o.ssl_root_cert(ca);
    }
    // A client certificate and key (for `clientcert=verify-full` in pg_hba.conf).
    for key in ["sslcert", "sslkey"] {
        if let Some(path) = spec.params.get(key) {
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
    if let Some(opts) = spec.params.get("options") {
        o = o.options(crate::target::pg_startup_options(opts).unwrap_or_default());
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

/// The privileges our product needs, in one statement: on the database, on the schema it
/// will use (`{schema}`: the matrix's, as a literal, or NULL for the current one), and on the
/// tables and sequences already there.
const PRIVILEGES: &str = "WITH s AS (SELECT coalesce({schema}, current_schema(), 'public')::text AS name), \
              n AS (SELECT oid FROM pg_namespace WHERE nspname = (SELECT name FROM s)) \
         SELECT s.name, EXISTS (SELECT 1 FROM n), \
           has_database_privilege(current_database(), 'CONNECT'), \
           has_database_privilege(current_database(), 'CREATE'), \
           has_database_privilege(current_database(), 'TEMP'), \
           (SELECT has_schema_privilege(n.oid, 'USAGE') FROM n), \
           (SELECT has_schema_privilege(n.oid, 'CREATE') FROM n), \
           (SELECT count(*) FROM pg_class c WHERE c.relnamespace IN (SELECT oid FROM n) AND c.relkind IN ('r', 'p')), \
           ARRAY(SELECT c.relname::text FROM pg_class c WHERE c.relnamespace IN (SELECT oid FROM n) AND c.relkind IN ('r', 'p') \
                 AND NOT CASE WHEN c.relkind IN ('r', 'p') THEN has_table_privilege(c.oid, 'SELECT') \
                      AND has_table_privilege(c.oid, 'INSERT') AND has_table_privilege(c.oid, 'UPDATE') \
                      AND has_table_privilege(c.oid, 'DELETE') AND has_table_privilege(c.oid, 'REFERENCES') END \
                 ORDER BY 1 LIMIT 20), \
           ARRAY(SELECT c.relname::text FROM pg_class c WHERE c.relnamespace IN (SELECT oid FROM n) AND c.relkind = 'S' \
                 AND NOT CASE WHEN c.relkind = 'S' THEN has_sequence_privilege(c.oid, 'USAGE') END ORDER BY 1 LIMIT 20) \
         FROM s";

fn privileges_from(r: PrivRow) -> Privileges {
    Privileges {
        schema: r.0,
        schema_exists: r.1,
        database_connect: r.2,
        database_create: r.3,
        database_temp: r.4,
        schema_usage: r.5.unwrap_or(false),
        schema_create: r.6.unwrap_or(false),
        tables: r.7.max(0) as u64,
        tables_lacking: r.8,
        sequences_lacking: r.9,
    }
}

/// The installed extensions (pg_extension, cheap), read with the catalog batch when the matrix
/// requires none.
const INSTALLED_EXTENSIONS: &str = "SELECT x.extname::text, NULL::text, x.extversion::text, NULL::bool, NULL::bool FROM pg_extension x";

/// name, default_version, installed_version, superuser, trusted
type ExtensionRow = (
    String,
    Option<String>,
    Option<String>,
    Option<bool>,
    Option<bool>,
);

/// When the matrix requires extensions: what the server offers for those, and the installed
/// ones. pg_available_extensions parses every control file on disk, so it is read only then.
fn available_extensions(version_num: u32, required: &[String]) -> Stmt {
    // `trusted` exists from PostgreSQL 13 on: older servers get the list without it.
    let trusted = if version_num >= 130_000 {
        "v.trusted"
    } else {
        "NULL::bool"
    };
    let names = pg_text_array(required);
    Stmt::new(
        "pg_available_extensions",
        format!(
            "SELECT e.name::text, e.default_version, e.installed_version, v.superuser, {trusted} \
             FROM pg_available_extensions e LEFT JOIN pg_available_extension_versions v \
               ON v.name = e.name AND v.version = e.default_version WHERE e.name = ANY({names}) \
             UNION ALL {INSTALLED_EXTENSIONS} WHERE NOT x.extname = ANY({names}) ORDER BY 1"
        ),
    )
}

fn extensions_from(rows: Vec<ExtensionRow>) -> Vec<Extension> {
    rows.into_iter()
        .map(
            |(name, default_version, installed_version, superuser, trusted)| Extension {
                name,
                default_version,
                installed_version,
                superuser,
                trusted,
            },
        )
        .collect()
}

fn tls_facts(row: Option<SslRow>, sslmode: &str) -> TlsFacts {
    let (in_use, protocol, cipher, bits) = row.unwrap_or((false, None, None, None));
    TlsFacts {
        in_use,
        protocol,
        cipher,
        bits: bits.map(|b| b.max(0) as u32),
        trust: match (in_use, sslmode) {
            (false, _) => TrustMode::None,
            (true, "verify-full") => TrustMode::Verified,
            (true, "verify-ca") => TrustMode::CaOnly,
            _ => TrustMode::NotVerified,
        },
        cert_expires_in_days: None,
        client_setting: format!("sslmode={sslmode}"),
    }
}

/// A row of pg_stat_ssl: ssl, version, cipher, bits.
type SslRow = (bool, Option<String>, Option<String>, Option<i32>);

/// Managed services leave settings of their own.
fn managed_marker(settings: &BTreeMap<String, String>) -> Option<&'static str> {
    let has = |prefix: &str| settings.keys().any(|k| k.starts_with(prefix));
    if has("alloydb.") || has("google_columnar_engine.") {
        Some("alloydb")
    } else if has("rds.") {
        Some("rds")
    } else if has("azure.") || has("pgms_") {
        Some("azure")
    } else if has("cloudsql.") {
        Some("cloudsql")
    } else {
        None
    }
}

/// User tables outside the system schemas, less those an extension owns (PostGIS's
/// `spatial_ref_sys`, TimescaleDB's catalog).
const USER_TABLES: &str = "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
     WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') \
       AND n.nspname NOT LIKE 'pg\\_%' \
       AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass \
                       AND d.objid = c.oid AND d.deptype = 'e')";

/// The tables, in any schema, whose name a migration tool uses (see [`crate::migrations`]),
/// with their columns: the tool is told by name and columns (read with the catalog batch).
fn migration_tables_sql() -> String {
    format!(
        "SELECT n.nspname::text, c.relname::text, a.attname::text, format_type(a.atttypid, a.atttypmod) \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped \
         WHERE lower(c.relname) = ANY({}) AND c.relkind IN ('r', 'p') \
           AND n.nspname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2, a.attnum",
        pg_text_array(&crate::migrations::table_names())
    )
}

/// Reads each history table found (user tables: each on its own, so a lock on one times out
/// alone).
async fn migration_history(
    runner: &Runner<'_>,
    pool: &PgPool,
    found: Probe<Vec<(String, String, String, String)>>,
) -> Probe<Vec<MigrationHistory>> {
    use crate::migrations::Candidate;
    use sqlx::Row;
    let Probe::Ok { value: rows, ms } = found else {
        return found.map(|_| Vec::new());
    };
    let candidates = Candidate::from_rows(
        rows.into_iter()
            .map(|(s, t, c, ty)| (Some(s), t, c, ty, None)),
    );
    let quote = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
    let mut out = Vec::new();
    for cand in &candidates {
        let Some(tool) = cand.tool(&candidates) else {
            continue;
        };
        let columns = cand.read_columns(tool);
        // The names come from the catalog and are quoted here.
        let sql = format!(
            "SELECT {} FROM {}.{}",
            columns
                .iter()
                .map(|c| format!("CAST({} AS text)", quote(c)))
                .collect::<Vec<_>>()
                .join(", "),
            quote(cand.schema.as_deref().unwrap_or_default()),
            quote(&cand.name)
        );
        let n = columns.len();
        let read = runner
            .probe(
                &format!("{} history", cand.name),
                1,
                sqlx::query(&sql).fetch_all(pool),
            )
            .await;
        // A history table we cannot read (a lock, a missing grant) makes the check an error.
        let rows: Vec<Vec<Option<String>>> = match read {
            Probe::Ok { value, .. } => value
                .iter()
                .map(|r| (0..n).map(|i| r.try_get(i).ok().flatten()).collect())
                .collect(),
            other => return other.map(|_| Vec::new()),
        };
        out.push(MigrationHistory::read(
            tool,
            cand.display_name("public"),
            &rows,
        ));
    }
    Probe::ok(out, ms)
}

/// Creates a scratch table inside a read-write transaction, exercises what the product's SQL
/// relies on, and rolls everything back; PostgreSQL's DDL is transactional, so nothing stays.
async fn write_probe(
    runner: &Runner<'_>,
    conn: &mut sqlx::PgConnection,
) -> Probe<crate::checks::WriteProbe> {
    use crate::engines::sql::{Step, scratch_name};
    let t = scratch_name();
    let step = Step::new;
    let steps = vec![
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
        step(
            Some("returning"),
            format!("INSERT INTO {t} (id, name, doc) VALUES (1, 'a', '{{\"k\": 1}}') RETURNING id"),
        ),
        step(
            Some("upsert"),
            format!(
                "INSERT INTO {t} (id, name) VALUES (1, 'b') ON CONFLICT (id) DO UPDATE SET name = excluded.name"
            ),
        ),
        step(Some("sequences"), format!("CREATE SEQUENCE {t}_seq")),
        step(None, format!("CREATE VIEW {t}_v AS SELECT id FROM {t}")),
        step(Some("drop-cascade"), format!("DROP TABLE {t} CASCADE")),
    ];
    let leftover = format!("SELECT relname::text FROM pg_class WHERE relname LIKE '{t}%'");
    let mut probe =
        crate::engines::sql::write_probe(runner, conn, &t, "BEGIN READ WRITE", steps, leftover)
            .await;
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

/// What the app's SQL may rely on, from the version and flavor (confirmed for real by
/// `--probe-write`).
fn capabilities(
    id: &crate::identity::ServerIdentity,
    db: Option<&Database>,
) -> BTreeMap<String, Capability> {
    let v = (id.major, id.minor);
    let pg = |since: (u64, u64), what: &str| {
        Capability::from_version(
            v >= since,
            format!("{what}: PostgreSQL {}.{}+", since.0, since.1),
        )
    };
    let mut m = BTreeMap::new();
    let crdb = id.flavor == "cockroachdb";
    let redshift = id.flavor == "redshift";
    m.insert(
        "json".into(),
        if redshift {
            Capability::from_version(false, "Redshift has no json/jsonb type")
        } else {
            pg((9, 4), "jsonb")
        },
    );
    m.insert("cte".into(), pg((8, 4), "WITH queries"));
    m.insert("window-functions".into(), pg((8, 4), "window functions"));
    m.insert(
        "check-constraints".into(),
        Capability::from_version(!redshift, "CHECK constraints are enforced"),
    );
    m.insert(
        "transactional-ddl".into(),
        Capability::from_version(
            !redshift && !crdb,
            if crdb {
                "CockroachDB runs schema changes asynchronously"
            } else {
                "DDL inside transactions rolls back"
            },
        ),
    );
    m.insert(
        "drop-cascade".into(),
        Capability::from_version(true, "DROP ... CASCADE"),
    );
    m.insert(
        "returning".into(),
        pg((8, 2), "INSERT/UPDATE/DELETE ... RETURNING"),
    );
    m.insert(
        "upsert".into(),
        if redshift {
            Capability::from_version(false, "Redshift has no ON CONFLICT")
        } else {
            pg((9, 5), "INSERT ... ON CONFLICT")
        },
    );
    m.insert(
        "sequences".into(),
        Capability::from_version(true, "CREATE SEQUENCE"),
    );
    m.insert(
        "varchar-without-length".into(),
        Capability::from_version(true, "VARCHAR without a length is unbounded"),
    );
    m.insert("string-agg".into(), pg((9, 0), "string_agg()"));
    m.insert("drop-if-exists".into(), pg((8, 2), "DROP ... IF EXISTS"));
    m.insert("offset-fetch".into(), pg((8, 4), "OFFSET ... FETCH FIRST"));
    m.insert("merge".into(), pg((15, 0), "MERGE"));
    m.insert(
        "create-or-alter".into(),
        Capability::from_version(
            false,
            "PostgreSQL has CREATE OR REPLACE for views and functions, not tables",
        ),
    );
    if let Some(d) = db {
        let utf8 = d.encoding.eq_ignore_ascii_case("UTF8");
        m.insert(
            "utf8".into(),
            Capability::from_version(utf8, format!("database encoding {}", d.encoding)),
        );
    }
    m
}
