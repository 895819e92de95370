//! The SQL Server collector: the only code that talks to a SQL Server. It connects in steps
//! (DNS, TCP, then TDS login with TLS through tiberius and rustls), then sends a fixed set of
//! catalog queries over one connection, in two batches of one round trip each (what every login
//! may read; the server-state views); each statement becomes a probe of its own. SQL Server has no
//! read-only session mode (ApplicationIntent=ReadOnly would route to a secondary replica and
//! check the wrong server), so safety rests on sending only SELECTs.

use super::facts::{
    AzureTier, ConnectionInfo, Database, HostInfo, MssqlFacts, SchemaPermissions, ServerProps,
    Session, WriteProbe,
};
use crate::Engine;
use crate::checks::{
    Capability, ClockFacts, ConnectionSlots, MigrationHistory, ReadOnlyFacts, TlsFacts, TrustMode,
};
use crate::engines::CollectOptions;
use crate::engines::identify_probe;
use crate::engines::sql::{tsql_ident, tsql_literal};
use crate::identity::ServerIdentity;
use crate::net::{ConnectFailure, FailureKind, ms_since};
use crate::probe::Probe;
use crate::target::ConnSpec;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use tiberius::error::Error as TdsError;
use tiberius::{AuthMethod, Client, ColumnData, Config, EncryptionLevel, ToSql};
use tokio::net::TcpStream;
use tokio_util::compat::{Compat, TokioAsyncWriteCompatExt};

mod answers;
pub use answers::*;
mod connect;
pub use connect::*;
mod catalog;
pub use catalog::*;

type Conn = Client<Compat<TcpStream>>;

fn denied_hint(what: &str) -> &'static str {
    match what {
        "sys.dm_exec_connections"
        | "sys.dm_exec_sessions"
        | "sys.dm_os_sys_info"
        | "sys.dm_os_host_info" => {
            " (needs VIEW SERVER STATE, or VIEW SERVER PERFORMANCE STATE on SQL Server 2022+)"
        }
        "sys.database_files" => " (needs VIEW DATABASE STATE)",
        "sys.configurations" => " (needs VIEW SERVER STATE or membership in public on the server)",
        _ => "",
    }
}

/// The permissions of `class` (`DATABASE`, `SCHEMA`) the login holds on `name` (an expression),
/// one column each.
fn perms_sql(name: &str, class: &str, perms: &[&str]) -> String {
    let cols: Vec<String> = perms
        .iter()
        .map(|p| format!("HAS_PERMS_BY_NAME({name}, '{class}', '{p}')"))
        .collect();
    format!("SELECT {}", cols.join(", "))
}

const DB_PERMS: [&str; 6] = [
    "CONNECT",
    "CREATE TABLE",
    "CREATE VIEW",
    "CREATE PROCEDURE",
    "CREATE FUNCTION",
    "SHOWPLAN",
];

/// The schema permissions read (`HAS_PERMS_BY_NAME`), in order.
pub(crate) const SCHEMA_PERMS: [&str; 7] = [
    "ALTER",
    "SELECT",
    "INSERT",
    "UPDATE",
    "DELETE",
    "REFERENCES",
    "EXECUTE",
];

/// The first row of a statement's rows; a statement that returned none failed.
fn first_row(answer: Option<(&str, Probe<Rows>)>) -> Probe<Vec<Val>> {
    let Some((what, probe)) = answer else {
        return Probe::default();
    };
    match probe {
        Probe::Ok { value, ms } => match value.into_iter().next() {
            Some(r) => Probe::ok(r, ms),
            None => Probe::Failed {
                message: format!("{what}: the server returned no row"),
                ms,
            },
        },
        other => other.failure(),
    }
}

/// Collects every SQL Server fact. Never fails: failures are recorded in the facts.
pub async fn collect(spec: &ConnSpec, opts: &CollectOptions) -> MssqlFacts {
    let mut facts = <super::Mssql as crate::engines::EngineModule>::started(spec);
    let host = spec.tcp_host();
    let reached = match opts.reach(spec, &mut facts.common.connection).await {
        Ok(stream) => stream,
        Err(f) => return failed(facts, f),
    };
    let (config, tls) = match config(spec) {
        Ok(c) => c,
        Err(f) => return failed(facts, f),
    };
    // tiberius hides the certificate: read it with a PRELOGIN exchange of our own (no login),
    // alongside the driver's login.
    let ca = spec.option("ca").map(std::path::PathBuf::from);
    let inspect =
        crate::net::Inspect::of(spec, &host, ca.as_deref(), reached, opts.share_per_server);
    let login = crate::net::login(
        &mut facts.common.connection,
        opts.connect_timeout,
        std::future::ready(Ok(())),
        |_: &()| connect(&config),
        inspect,
        |e| classify(e, spec, tls),
    );
    let client = match login.await {
        Ok((c, ())) => c,
        Err(f) => return failed(facts, f),
    };
    let mut r = Runner {
        spec,
        config,
        timeout: opts.check_timeout,
        connect_timeout: opts.connect_timeout,
        queries: 0,
        client: Some(client),
        lock_ms: opts.check_timeout.as_millis().min(i32::MAX as u128),
    };

    // What every login may read, in one round trip.
    let schema_expr = opts.schema.as_deref().map_or_else(
        || "COALESCE(SCHEMA_NAME(), N'dbo')".to_string(),
        tsql_literal,
    );
    let first = [
        (
            "SERVERPROPERTY",
            "SELECT @@VERSION, CAST(SERVERPROPERTY('ProductVersion') AS nvarchar(128)), \
             CAST(SERVERPROPERTY('ProductLevel') AS nvarchar(128)), \
             CAST(SERVERPROPERTY('ProductUpdateLevel') AS nvarchar(128)), \
             CAST(SERVERPROPERTY('Edition') AS nvarchar(128)), \
             CAST(SERVERPROPERTY('EngineEdition') AS int), \
             CAST(SERVERPROPERTY('Collation') AS nvarchar(128)), \
             CAST(SERVERPROPERTY('IsHadrEnabled') AS int), @@SERVERNAME"
                .to_string(),
        ),
        (
            "session",
            "SELECT DB_NAME(), SUSER_SNAME(), USER_NAME(), IS_SRVROLEMEMBER('sysadmin'), \
             IS_MEMBER('db_owner')"
                .to_string(),
        ),
        ("SCHEMA_NAME()", format!("SELECT {schema_expr}")),
        (
            "sys.databases",
            "SELECT name, database_id, compatibility_level, collation_name, \
             is_read_committed_snapshot_on, snapshot_isolation_state, is_auto_close_on, \
             is_auto_shrink_on, state_desc, is_read_only, user_access_desc \
             FROM sys.databases WHERE name = DB_NAME()"
                .to_string(),
        ),
        (
            "DATABASEPROPERTYEX",
            "SELECT CAST(DATABASEPROPERTYEX(DB_NAME(), 'Updateability') AS nvarchar(128)), \
             CAST(DATABASEPROPERTYEX(DB_NAME(), 'Recovery') AS nvarchar(128)), \
             CAST(DATABASEPROPERTYEX(DB_NAME(), 'ComparisonStyle') AS int)"
                .to_string(),
        ),
        (
            "SYSDATETIMEOFFSET()",
            "SELECT SYSDATETIMEOFFSET()".to_string(),
        ),
        (
            "HAS_PERMS_BY_NAME (database)",
            perms_sql("DB_NAME()", "DATABASE", &DB_PERMS),
        ),
        (
            "HAS_PERMS_BY_NAME (schema)",
            perms_sql(&schema_expr, "SCHEMA", &SCHEMA_PERMS),
        ),
        ("migration tables", migration_tables_sql()),
    ];
    // The server's state: views a login without VIEW SERVER STATE (or an older server) may
    // not read, so a batch of their own.
    let state = [
        (
            "sys.configurations",
            "SELECT name, CAST(value_in_use AS nvarchar(128)) FROM sys.configurations",
        ),
        (
            "sys.dm_exec_sessions",
            "SELECT COUNT(*), @@MAX_CONNECTIONS FROM sys.dm_exec_sessions WHERE is_user_process = 1",
        ),
        (
            "sys.dm_exec_connections",
            "SELECT encrypt_option, auth_scheme, net_transport FROM sys.dm_exec_connections \
             WHERE session_id = @@SPID",
        ),
        (
            "sys.dm_os_host_info",
            "SELECT host_platform, host_distribution, host_release FROM sys.dm_os_host_info",
        ),
        (
            "sys.dm_os_sys_info",
            "SELECT sqlserver_start_time, SYSDATETIME() FROM sys.dm_os_sys_info",
        ),
        (
            "sys.database_files",
            "SELECT SUM(size) FROM sys.database_files",
        ),
    ];
    let before = crate::checks::epoch_now();
    let b1 = r
        .batch(&first.each_ref().map(|(w, s)| (*w, s.as_str())))
        .await;
    let after = crate::checks::epoch_now();
    let mut b1 = b1.into_iter();
    let mut b2 = r.batch(&state).await.into_iter();
    let server = first_row(b1.next());
    // The banner spans lines (`\n\t`); one line reads better in reports and tables.
    facts.common.version_raw = server.clone().map(|row| {
        row.first()
            .and_then(Val::text)
            .unwrap_or_default()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    });
    facts.server = server.map(|row| {
        let t = |i: usize| row.get(i).and_then(Val::text);
        ServerProps {
            product_version: t(1).unwrap_or_default(),
            product_level: t(2),
            product_update_level: t(3),
            edition: t(4),
            engine_edition: row.get(5).and_then(Val::int),
            collation: t(6),
            hadr_enabled: row.get(7).and_then(Val::int).map(|v| v != 0),
            server_name: t(8),
        }
    });
    facts.common.identity = identity(&facts, &host);
    let id = facts.common.identity.value().cloned();

    let session = first_row(b1.next());
    let schema = first_row(b1.next()).map(|row| {
        row.first()
            .and_then(Val::text)
            .unwrap_or_else(|| "dbo".into())
    });
    let schema_name = schema.value().cloned().unwrap_or_else(|| "dbo".into());
    facts.session = session.map(|row| Session {
        database: row.first().and_then(Val::text).unwrap_or_default(),
        login: row.get(1).and_then(Val::text),
        user: row.get(2).and_then(Val::text),
        sysadmin: row.get(3).is_some_and(Val::flag),
        db_owner: row.get(4).is_some_and(Val::flag),
        schema: schema_name.clone(),
    });

    let db = first_row(b1.next());
    let props = first_row(b1.next());
    let props = props.value().cloned().unwrap_or_default();
    facts.database = db.map(|row| {
        let t = |i: usize| row.get(i).and_then(Val::text);
        let f = |i: usize| row.get(i).is_some_and(Val::flag);
        Database {
            name: t(0).unwrap_or_default(),
            database_id: row.get(1).and_then(Val::int),
            compatibility_level: row.get(2).and_then(Val::int).unwrap_or(0),
            collation: t(3),
            comparison_style: props.get(2).and_then(Val::int),
            read_committed_snapshot: f(4),
            snapshot_isolation_state: row.get(5).and_then(Val::int).unwrap_or(0),
            auto_close: f(6),
            auto_shrink: f(7),
            state: t(8).unwrap_or_default(),
            read_only: f(9),
            user_access: t(10),
            updateability: props.first().and_then(Val::text),
            recovery_model: props.get(1).and_then(Val::text),
        }
    });
    facts.common.read_only = facts.database.clone().map(|d| {
        let mut reasons = Vec::new();
        if d.read_only {
            reasons.push("sys.databases.is_read_only = 1 (ALTER DATABASE ... SET READ_ONLY)".into());
        }
        if let Some(u) = d.updateability.as_deref().filter(|u| !u.eq_ignore_ascii_case("READ_WRITE")) {
            if !d.read_only {
                reasons.push(format!(
                    "DATABASEPROPERTYEX Updateability = {u}: a readable secondary replica, or a read-only routing target"
                ));
            } else {
                reasons.push(format!("DATABASEPROPERTYEX Updateability = {u}"));
            }
        }
        if !d.state.is_empty() && !d.state.eq_ignore_ascii_case("ONLINE") {
            reasons.push(format!("state {}", d.state));
        }
        ReadOnlyFacts::from_reasons(reasons)
    });

    let configs = b2.next().map(|a| a.1).unwrap_or_default();
    facts.common.settings = configs.map(|rows| {
        rows.into_iter()
            .filter_map(|row| Some((row.first()?.text()?, row.get(1).and_then(Val::text)?)))
            .collect::<BTreeMap<_, _>>()
    });

    let sessions = first_row(b2.next());
    let user_connections = facts
        .common
        .settings
        .value()
        .and_then(|s| s.get("user connections"))
        .and_then(|v| v.parse::<u64>().ok())
        .filter(|v| *v > 0);
    facts.common.connections = sessions.map(|row| ConnectionSlots {
        max: user_connections
            .or_else(|| row.get(1).and_then(Val::int).map(|v| v.max(0) as u64))
            .unwrap_or(32767),
        reserved: 0,
        in_use: row.first().and_then(Val::int).unwrap_or(0).max(0) as u64,
        user_limit: None,
    });

    let conn = first_row(b2.next());
    facts.connection_info = conn.map(|row| ConnectionInfo {
        encrypt_option: row.first().and_then(Val::text).unwrap_or_default(),
        auth_scheme: row.get(1).and_then(Val::text),
        net_transport: row.get(2).and_then(Val::text),
    });
    facts.common.tls = tls_facts(&facts.connection_info, tls);

    facts.host = first_row(b2.next()).map(|row| HostInfo {
        platform: row.first().and_then(Val::text).unwrap_or_default(),
        distribution: row.get(1).and_then(Val::text),
        release: row.get(2).and_then(Val::text),
    });

    let clock = first_row(b1.next());
    facts.common.clock = match clock {
        Probe::Ok { value, ms } => match value.first() {
            Some(Val::Offset(utc, offset)) => Probe::ok(
                ClockFacts {
                    server_epoch: *utc,
                    local_epoch: (before + after) / 2.0,
                    time_zone_from: None,
                    time_zone: Some(format!(
                        "{}{:02}:{:02}",
                        if *offset < 0 { '-' } else { '+' },
                        offset.unsigned_abs() / 60,
                        offset.unsigned_abs() % 60
                    )),
                },
                ms,
            ),
            other => Probe::Failed {
                message: format!("SYSDATETIMEOFFSET(): unexpected value {other:?}"),
                ms,
            },
        },
        other => other.map(|_| ClockFacts {
            server_epoch: 0.0,
            local_epoch: 0.0,
            time_zone_from: None,
            time_zone: None,
        }),
    };

    facts.common.uptime_seconds = first_row(b2.next()).map(|row| {
        let start = row.first().and_then(Val::epoch).unwrap_or(0.0);
        let now = row.get(1).and_then(Val::epoch).unwrap_or(start);
        (now - start).max(0.0) as u64
    });

    facts.common.database_size_bytes = first_row(b2.next())
        .map(|row| row.first().and_then(Val::int).unwrap_or(0).max(0) as u64 * 8192);

    facts.database_permissions = first_row(b1.next()).map(|row| {
        DB_PERMS
            .iter()
            .zip(row)
            .map(|(p, v)| (p.to_string(), v.flag()))
            .collect()
    });
    facts.schema_permissions = first_row(b1.next()).map(|row| SchemaPermissions {
        schema: schema_name.clone(),
        permissions: SCHEMA_PERMS
            .iter()
            .zip(row)
            .map(|(p, v)| (p.to_string(), v.flag()))
            .collect(),
    });

    facts.azure = if id.as_ref().is_some_and(|i| {
        matches!(
            i.flavor.as_str(),
            "azure-sql-database" | "azure-sql-managed-instance"
        )
    }) {
        r.row(
            "DATABASEPROPERTYEX (Azure tier)",
            "SELECT CAST(DATABASEPROPERTYEX(DB_NAME(), 'Edition') AS nvarchar(128)), \
             CAST(DATABASEPROPERTYEX(DB_NAME(), 'ServiceObjective') AS nvarchar(128))",
            &[],
        )
        .await
        .map(|row| AzureTier {
            edition: row.first().and_then(Val::text),
            service_objective: row.get(1).and_then(Val::text),
        })
    } else {
        Probe::not_collected("not an Azure SQL service")
    };

    facts.common.user_tables = r
        .row(
            "user tables",
            "SELECT COUNT(*) FROM sys.tables WHERE is_ms_shipped = 0",
            &[],
        )
        .await
        .map(|row| {
            row.first()
                .and_then(Val::int)
                .unwrap_or(0)
                .max(0)
                .unsigned_abs()
        });
    facts.common.migrations = migrations(&mut r, b1.next().map(|a| a.1).unwrap_or_default()).await;
    facts.write_probe = if opts.probe_write {
        write_probe(&mut r, &schema_name).await
    } else {
        Probe::not_collected(
            "not asked: run with --probe-write to create and roll back a scratch table",
        )
    };
    if let Some(id) = &id {
        facts.common.capabilities = capabilities(id, facts.database.value());
    }
    facts.common.queries = r.queries;
    if let Some(c) = r.client.take() {
        let _ = c.close().await;
    }
    facts
}

/// Creates a uniquely named table in a transaction and rolls it back (SQL Server DDL is
/// transactional), then makes sure nothing is left.
async fn write_probe(r: &mut Runner<'_>, schema: &str) -> Probe<WriteProbe> {
    let table = format!(
        "{}.{}",
        tsql_ident(schema),
        tsql_ident(&crate::engines::sql::scratch_name())
    );
    // XACT_ABORT: any error rolls the whole transaction back at once.
    let sql = format!(
        "SET XACT_ABORT ON; BEGIN TRANSACTION; \
         CREATE TABLE {table} (id int IDENTITY(1,1) PRIMARY KEY, doc nvarchar(200) NULL); \
         INSERT INTO {table} (doc) VALUES (N'probe'); \
         ROLLBACK TRANSACTION; SELECT 1"
    );
    let done = r.rows("write probe", &sql, &[]).await;
    // Whether the table is still there: None when that could not be read.
    async fn still_there(r: &mut Runner<'_>, table: &str) -> Option<bool> {
        r.row(
            "write probe leftover",
            "SELECT CASE WHEN OBJECT_ID(@P1) IS NULL THEN 0 ELSE 1 END",
            &[&table],
        )
        .await
        .value()
        .and_then(|row| row.first())
        .map(Val::flag)
    }
    let mut leftover = still_there(r, &table).await.unwrap_or(false);
    if leftover {
        let _ = r
            .rows("write probe cleanup", &format!("DROP TABLE {table}"), &[])
            .await;
        leftover = still_there(r, &table).await.unwrap_or(true);
    }
    match done {
        Probe::Ok { ms, .. } => Probe::ok(WriteProbe { table, leftover }, ms),
        other => other.map(|_| WriteProbe { table, leftover }),
    }
}

/// Records a connection failure; the other checks are then skipped (see `registry::evaluate`).
pub(super) fn failed(mut facts: MssqlFacts, f: ConnectFailure) -> MssqlFacts {
    facts.common.connection.failure = Some(f);
    facts
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use tiberius::time::{Date, DateTime2, DateTimeOffset, Time};

    fn cfg(url: &str) -> Result<TlsChoice, ConnectFailure> {
        config(&ConnSpec::parse(url).unwrap()).map(|(_, t)| t)
    }

    #[test]
    fn the_certificate_is_verified_unless_the_client_says_otherwise() {
        let t = cfg("mssql://sa:pw@db/app").unwrap();
        assert_eq!(t.encryption, EncryptionLevel::Required);
        assert!(!t.trust_server_certificate && !t.ca_file);
        let t = cfg("sqlserver://sa:pw@db/app?trust_server_certificate=true").unwrap();
        assert!(t.trust_server_certificate);
        let t = cfg(
            "Server=tcp:db,1433;User Id=sa;Password=pw;Encrypt=false;TrustServerCertificate=yes",
        )
        .unwrap();
        assert_eq!(
            (t.encryption, t.trust_server_certificate),
            (EncryptionLevel::Off, true)
        );
        let dir = tempfile::tempdir().unwrap();
        let ca = dir.path().join("ca.pem");
        std::fs::write(&ca, "not really a certificate").unwrap();
        let t = cfg(&format!("mssql://sa:pw@db/app?ca={}", ca.display())).unwrap();
        assert!(t.ca_file);
    }

    #[test]
    fn contradictory_or_unusable_tls_options_are_config_errors_not_panics() {
        // tiberius panics when trust_cert and trust_cert_ca are both set: we refuse first.
        for url in [
            "mssql://sa:pw@db/app?trust_server_certificate=true&ca=/etc/hostname",
            "mssql://sa:pw@db/app?ca=/no/such/ca.pem",
            "mssql://sa:pw@db/app?encrypt=strict",
        ] {
            let e = cfg(url).unwrap_err();
            assert_eq!(e.kind, FailureKind::Config, "{url}");
            assert!(!e.message.contains("pw@"), "{}", e.message);
        }
        // values outside the option's set are refused earlier, when the URL is parsed
        for url in [
            "mssql://sa:pw@db/app?encrypt=sometimes",
            "mssql://sa:pw@db/app?trust_server_certificate=perhaps",
        ] {
            assert!(ConnSpec::parse(url).is_err(), "{url}");
        }
    }

    #[test]
    fn rustls_rejections_are_named_by_cause() {
        for (text, cause) in [
            ("invalid peer certificate: BadSignature", "self-signed"),
            ("invalid peer certificate: UnknownIssuer", "unknown issuer"),
            (
                "certificate not valid for name \"db.example.com\"; certificate is only valid for DnsName(\"localhost\")",
                "hostname mismatch",
            ),
            (
                "certificate expired: verification time 1795550400 (UNIX)",
                "expired",
            ),
            (
                "received corrupt message of type InvalidContentType",
                "handshake",
            ),
        ] {
            assert_eq!(tls_cause(text), cause, "{text}");
        }
    }

    #[test]
    fn date_and_time_cells_become_epoch_seconds() {
        // 2026-11-24 20:00:00.5 UTC, with a +01:00 offset on the wire.
        let days = 719_162 + 20_781; // 0001-01-01 .. 1970-01-01 .. 2026-11-24
        let dt2 = DateTime2::new(Date::new(days), Time::new(720_005, 1));
        let expect = 20_781.0 * 86_400.0 + 72_000.5;
        assert_eq!(
            decode(&ColumnData::DateTime2(Some(dt2))),
            Val::Local(expect)
        );
        assert_eq!(
            decode(&ColumnData::DateTimeOffset(Some(DateTimeOffset::new(
                dt2, 60
            )))),
            Val::Offset(expect, 60)
        );
        let dt = tiberius::time::DateTime::new(25_567 + 20_781, 300 * 72_000);
        assert_eq!(
            decode(&ColumnData::DateTime(Some(dt))),
            Val::Local(20_781.0 * 86_400.0 + 72_000.0)
        );
        assert_eq!(decode(&ColumnData::I32(None)), Val::Null);
        assert!(decode(&ColumnData::Bit(Some(true))).flag());
        assert_eq!(Val::Text("196609".into()).int(), Some(196_609));
    }
}
