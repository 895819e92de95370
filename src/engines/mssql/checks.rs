//! The SQL Server registry: every check, in report order. Each is a pure function of
//! [`MssqlFacts`] and the [`Ctx`]; shared logic lives in [`crate::checks`]. The checks of its own
//! live by area in `checks/` (`server.rs`, `database.rs`, `privileges.rs`); this file holds the
//! registry, the engine's [`SharedChecks`] and the helpers the areas share.

use super::collect::tls_cause;
use super::facts::{MssqlFacts, WriteProbe};
use super::identify::is_evergreen;
use crate::checks::TrustMode;
use crate::checks::{self as common, wanted_value};
use crate::checks::{Place, SharedChecks, Words};
use crate::engine::Engine;
use crate::matrix::SettingRule;
use crate::net::FailureKind;
use crate::probe::Unavailable;
use crate::registry::{Category, Check, Ctx, Outcome, Verdict};
use crate::report::TargetInfo;
use crate::status::Status;
use std::sync::LazyLock;

/// The keys of the `[mssql]` matrix table read by this engine's own checks (beyond the shared
/// ones); a key another engine reads is an error there.
pub const MATRIX_KEYS: &[&str] = &["collations", "compatibility_level", "case_sensitive"];

/// SQL Server Express caps each database at 10 GB of data.
pub const EXPRESS_LIMIT_BYTES: u64 = 10 * 1024 * 1024 * 1024;

pub use crate::engines::sql::tsql_ident as ident;

mod database;
mod privileges;
mod server;
use database::*;
use privileges::*;
use server::*;

/// The user and database the remedies name (unquoted: each remedy quotes with [`ident`]).
fn who(f: &MssqlFacts) -> (String, String) {
    let s = f.session.value();
    common::who(
        &f.common,
        s.and_then(|s| s.user.clone()),
        s.map(|s| s.database.clone()),
    )
}

impl SharedChecks for MssqlFacts {
    fn quote_ident(name: &str) -> String {
        crate::quote::tsql_ident(name)
    }

    const ENGINE: Engine = Engine::Mssql;
    const RAISE_CONNECTIONS: &'static str = "Raise the limit: EXEC sp_configure 'user connections', 0; RECONFIGURE; (then restart), or lower our pool size.";
    const HIDDEN_SETTING_HINT: &'static str = "sys.configurations lists every option to any login";

    fn common(&self) -> &common::CommonFacts {
        &self.common
    }
    fn connection_remedy(kind: FailureKind, t: &TargetInfo) -> String {
        let host = t.host.as_deref().unwrap_or("the host");
        let port = t.port.unwrap_or(1433);
        let user = t.user.as_deref().unwrap_or("the login");
        let db = t.database.as_deref().unwrap_or("app");
        match kind {
            FailureKind::Dns => format!("Check the host name `{host}`: it must resolve from this machine (try `getent hosts {host}`)."),
            FailureKind::Refused => format!(
                "Nothing accepts connections on {host}:{port}. Check the host and port, that SQL Server runs and has TCP/IP enabled (SQL Server Configuration Manager > Network Configuration), that a named instance's port is given explicitly (SQL Browser is not used), and that no firewall rejects this machine."
            ),
            FailureKind::Timeout => format!(
                "{host}:{port} did not answer in time: a firewall, network security group or Azure SQL server firewall rule is probably dropping the traffic. Allow TCP {port} from this machine, or raise --connect-timeout for a slow link."
            ),
            FailureKind::Tls => tls_remedy("handshake"),
            FailureKind::Authentication => format!(
                "Login failed for `{user}` (error 18456). Check the login name and password (MSSQL_PASSWORD or --password-stdin); that the server allows SQL Server authentication (Server properties > Security > SQL Server and Windows Authentication mode); and that the login is enabled: ALTER LOGIN {} ENABLE; The server's error log says which (State 8: wrong password, 5: unknown login, 7: disabled).",
                ident(user)
            ),
            FailureKind::DatabaseMissing => format!(
                "Database `{db}` does not exist, or `{user}` has no user in it (error 4060). Connected to master as an administrator, run: CREATE DATABASE {};{}",
                ident(db),
                if user.eq_ignore_ascii_case("sa") {
                    String::new()
                } else {
                    format!(
                        " then in it: CREATE USER {} FOR LOGIN {}; ALTER ROLE db_owner ADD MEMBER {};",
                        ident(user), ident(user), ident(user)
                    )
                }
            ),
            FailureKind::Permission => format!(
                "`{user}` may not open `{db}` from here. In the database, as an administrator: CREATE USER {} FOR LOGIN {}; GRANT CONNECT TO {}; On Azure SQL, also add a server firewall rule for this machine's address.",
                ident(user), ident(user), ident(user)
            ),
            FailureKind::ServerError => "The server reported an error during login: read its message and the SQL Server error log.".into(),
            FailureKind::Config => "Fix the connection options named in the message.".into(),
        }
    }
    fn eol_flavor(flavor: &str) -> Option<&'static str> {
        // RDS and Edge run the boxed product's release lines; the Azure services are evergreen.
        match flavor {
            "sqlserver" | "rds-sqlserver" => Some("sqlserver"),
            _ => None,
        }
    }
    fn setting_remedy(&self, name: &str, rule: &SettingRule) -> String {
        format!(
            "EXEC sp_configure 'show advanced options', 1; RECONFIGURE; EXEC sp_configure '{name}', {}; RECONFIGURE; (some options take effect only after a restart)",
            wanted_value(rule)
        )
    }
    fn time_zone_remedy(&self) -> String {
        let evergreen = self
            .common
            .identity
            .value()
            .is_some_and(|i| is_evergreen(&i.flavor));
        if evergreen {
            "Azure SQL Database always runs in UTC; Managed Instance takes a time zone only at creation: keep timestamps in UTC (datetimeoffset) in the application for {zone}."
        } else {
            "SQL Server takes its time zone from the host OS: set the host's time zone to {zone} (timedatectl set-timezone / Windows Settings), or store datetimeoffset values."
        }
        .into()
    }
    fn writability_remedy(&self) -> String {
        let (_, db) = who(self);
        format!(
            "If the database is set read-only: ALTER DATABASE {} SET READ_WRITE; if this is a readable secondary replica (Always On) or a read-only routing target, connect to the primary (the listener without ApplicationIntent=ReadOnly).",
            ident(&db)
        )
    }
    fn words() -> &'static [Words<Self>] {
        WORDS
    }
}

/// This engine's wording of the shared checks (`crate::checks::shared`).
static WORDS: &[Words<MssqlFacts>] = &[
    Words::new(
        "connection",
        "Resolves the host, opens TCP, then logs in over TDS with TLS (tiberius + rustls: no ODBC driver). A failure is classified as dns, refused, timeout, tls (with its cause: self-signed, unknown issuer, hostname mismatch, expired), authentication (error 18456), database-missing (error 4060, with the CREATE DATABASE to run) or permission, with the fix for that step.",
        "DNS lookup; TCP connect; TDS prelogin, TLS handshake and login",
    )
    .run(connection),
    Words::new(
        "tls",
        "The certificate is verified by default (encrypt=true). trust_server_certificate=true (TrustServerCertificate=True) encrypts without verifying, which warns: a man in the middle would not be noticed. The fix is to pass the server's CA with ca=/path/to/ca.pem. encrypt=false only encrypts the login: the data crosses in clear, which warns (fails with [app] require_tls). The server's own view of the session comes from sys.dm_exec_connections.encrypt_option.",
        "SELECT encrypt_option, auth_scheme, net_transport FROM sys.dm_exec_connections WHERE session_id = @@SPID",
    )
    .run(tls),
    Words::new(
        "version",
        "Compares ProductVersion (major.minor.build, e.g. 16.0.4135 for SQL Server 2022 CU14) with the matrix's versions (outside fails), recommended (outside warns) and tested_up_to (newer warns). Azure SQL Database, Managed Instance and Synapse are evergreen services whose ProductVersion is a constant 12.0: they pass, and the compatibility level check decides.",
        "SELECT @@VERSION, CAST(SERVERPROPERTY('ProductVersion') AS nvarchar(128)), ProductLevel, ProductUpdateLevel, Edition, EngineEdition",
    )
    .run(version),
    Words::new(
        "eol",
        "Looks the release (2012 to 2025) up in the shipped end-of-life data (checks/eol.json, end of extended support; its date is in the report). Past the date fails: no more security fixes. Within [app] eol_warn_days warns. RDS follows the same dates; the Azure services are evergreen and skip.",
        "(no query: uses the version)",
    )
    .title("Release still supported by Microsoft"),
    Words::new(
        "flavor",
        "Names the product from SERVERPROPERTY('EngineEdition'): 5 Azure SQL Database, 8 Managed Instance, 9 Azure SQL Edge, 6 and 11 Synapse; Amazon RDS from its host names; otherwise SQL Server. A flavor outside the matrix's list fails.",
        "SELECT CAST(SERVERPROPERTY('EngineEdition') AS int), @@SERVERNAME",
    )
    .title("Flavor accepted (SQL Server, Azure SQL, RDS, Edge)"),
    Words::new(
        "max-connections",
        "The 'user connections' configuration (0 means the maximum, @@MAX_CONNECTIONS = 32767) against the user sessions open now and our [app] pool_size. Counting other sessions needs VIEW SERVER STATE; without it only our own is seen.",
        "SELECT COUNT(*), @@MAX_CONNECTIONS FROM sys.dm_exec_sessions WHERE is_user_process = 1; sys.configurations 'user connections'",
    ),
    Words::new(
        "settings",
        "Every [mssql.settings] rule against sys.configurations (value_in_use), by option name (for example 'max degree of parallelism', 'contained database authentication').",
        "SELECT name, CAST(value_in_use AS nvarchar(128)) FROM sys.configurations",
    )
    .title("Server configuration the matrix names"),
    Words::new(
        "time-zone",
        "The server's UTC offset from SYSDATETIMEOFFSET() (SQL Server follows the host OS; Azure SQL Database is always UTC), against [app] time_zone when set: GETDATE() and datetime columns shift when it differs.",
        "SELECT SYSDATETIMEOFFSET()",
    ),
    Words::new(
        "writability",
        "A database set READ_ONLY, a readable secondary replica of an availability group (DATABASEPROPERTYEX Updateability READ_ONLY) or a database that is not ONLINE refuses writes. Fails when [app] needs_write is true.",
        "SELECT is_read_only, state_desc FROM sys.databases WHERE name = DB_NAME(); DATABASEPROPERTYEX(DB_NAME(), 'Updateability')",
    ),
    Words::new(
        "write-probe",
        "Only with --probe-write: in a transaction with XACT_ABORT ON, creates a uniquely named table in the user's schema, inserts a row and rolls back (SQL Server DDL is transactional, so nothing stays), then checks with OBJECT_ID that nothing is left and reports any leftover with the DROP TABLE to run. Proves CREATE TABLE, ALTER on the schema and writability for real. Without the flag it skips.",
        "SET XACT_ABORT ON; BEGIN TRANSACTION; CREATE TABLE [dbo].[byod_precheck_probe_...] (...); INSERT ...; ROLLBACK; SELECT OBJECT_ID(...)",
    )
    .title("A scratch table can be created (with --probe-write)")
    .category(Category::Writability)
    .run(write_probe),
    Words::new(
        "workload",
        "Only with --probe-write and a matrix that names [app.workload] dir: runs the product's SQL files (DIR/mssql/*.sql, in file-name order) inside one transaction, each GO batch after a SAVE TRANSACTION, then ROLLBACK; a server that refuses every write leaves it not proven (error). Statements that would leave that area (COMMIT, USE, CREATE DATABASE, ALTER SYSTEM, GRANT, ...) are refused before anything is sent. Fails naming each failing statement's file:line, the server's own error and code, and the portable rewrite where one is known; statements that failed only because an earlier one did are named as consequences. Skipped without the privilege it needs (with the GRANT), on read-only targets and replicas.",
        "SELECT HAS_PERMS_BY_NAME(...); BEGIN TRANSACTION; (each batch after SAVE TRANSACTION); ROLLBACK TRANSACTION; SELECT name FROM sys.objects (before and after)",
    ),
    Words::new(
        "capabilities",
        "Derived from the version, flavor and compatibility level: json (2016+, OPENJSON needs level 130), string-agg (2017+), create-or-alter (2016 SP1+), drop-if-exists (2016+), utf8 collations (2019+), sequences and offset-fetch (2012+), cte, window-functions, merge/upsert, returning (OUTPUT), transactional-ddl; drop-cascade is never available, varchar-without-length means VARCHAR(1). The matrix's capabilities list must all be present.",
        "(derived from the version, flavor and compatibility level)",
    ),
    Words::new(
        "database-size",
        "The size of the database's files (sys.database_files, 8 KB pages). On Express (EngineEdition 4) the 10 GB per-database cap applies: over 80% warns, at the cap fails.",
        "SELECT SUM(size) FROM sys.database_files",
    )
    .title("Database size (and the Express 10 GB limit)")
    .run(database_size),
    Words::new(
        "clock-skew",
        "SYSDATETIMEOFFSET() on the server against this machine's clock at the middle of the round trip. More than [app] max_clock_skew_seconds warns: tokens, caches and audit times go wrong.",
        "SELECT SYSDATETIMEOFFSET()",
    ),
    Words::new(
        "uptime",
        "sys.dm_os_sys_info.sqlserver_start_time against SYSDATETIME(). Under ten minutes warns: the service may be restarting in a loop. Needs VIEW SERVER STATE.",
        "SELECT sqlserver_start_time, SYSDATETIME() FROM sys.dm_os_sys_info",
    ),
    Words::new(
        "migrations",
        "Finds the history tables of the migration tools byod-precheck knows (Alembic, Django, Flyway, Liquibase, Rails, sqlx, EF Core, Diesel, refinery, SeaORM, goose, golang-migrate, dbmate, Ecto, knex, Sequelize, TypeORM, MikroORM, node-pg-migrate, Drizzle, Kysely, Prisma, Doctrine, Laravel, Phinx, yoyo), told apart by table name and columns, and reads each one's latest version (Django: per app). User tables with no known history warn as an unknown history. With [app.migrations], a missing history warns and another version fails.",
        "SELECT TABLE_SCHEMA, TABLE_NAME FROM INFORMATION_SCHEMA.TABLES WHERE TABLE_NAME IN (...); then the latest row of each table found",
    ),
];

/// The mssql checks of its own, each group after the shared check it follows in the report.
pub static OWN: &[Place<MssqlFacts>] = &[
    Place {
        after: "flavor",
        checks: &[
            Check {
                id: "mssql.edition",
                category: Category::Resources,
                title: "Edition and its limits",
                doc: "SERVERPROPERTY('Edition'). Express caps each database at 10 GB, memory at about 1.4 GB and the engine at 4 cores: it warns. On Azure SQL the tier comes from DATABASEPROPERTYEX(DB_NAME(), 'Edition') and 'ServiceObjective'; Basic warns.",
                asks: "SELECT CAST(SERVERPROPERTY('Edition') AS nvarchar(128)); DATABASEPROPERTYEX(DB_NAME(), 'Edition' / 'ServiceObjective') on Azure",
                run: edition,
            },
            Check {
                id: "mssql.system-database",
                category: Category::Settings,
                title: "Target is a dedicated database, not master, msdb or tempdb",
                doc: "A login without Database= lands in its default database, usually master. The product's tables must not go into master, model, msdb or tempdb (emptied at every restart). Fix: CREATE DATABASE [app]; create the user in it, and put Database=app in the connection string.",
                asks: "SELECT DB_NAME(); sys.databases.database_id",
                run: system_database,
            },
            Check {
                id: "mssql.database-state",
                category: Category::Settings,
                title: "Database ONLINE and open to all users",
                doc: "sys.databases.state_desc must be ONLINE (not RESTORING, RECOVERING, SUSPECT, EMERGENCY or OFFLINE) and user_access_desc MULTI_USER (SINGLE_USER or RESTRICTED_USER refuse our pool).",
                asks: "SELECT state_desc, user_access_desc FROM sys.databases WHERE name = DB_NAME()",
                run: database_state,
            },
            Check {
                id: "mssql.compatibility-level",
                category: Category::Settings,
                title: "Database compatibility level",
                doc: "The database's compatibility level decides which T-SQL the engine accepts and how it optimises, whatever the server version: a SQL Server 2022 with a database at level 100 behaves like 2008 (no OPENJSON, no STRING_SPLIT). Checked against [mssql] compatibility_level { min, max }. Fix: ALTER DATABASE [db] SET COMPATIBILITY_LEVEL = 160;",
                asks: "SELECT compatibility_level FROM sys.databases WHERE name = DB_NAME()",
                run: compatibility_level,
            },
            Check {
                id: "mssql.collation",
                category: Category::Encoding,
                title: "Collation and case sensitivity",
                doc: "The database collation decides sort order and whether `Users` equals `users` in identifiers and text (the CS/CI part; ComparisonStyle bit 1). With [mssql] case_sensitive = false a case-sensitive collation fails (true: the opposite); collations = [...] restricts the names. A server collation that differs from the database's is reported: tempdb uses the server's, so temporary-table joins may need COLLATE DATABASE_DEFAULT.",
                asks: "SELECT collation_name FROM sys.databases WHERE name = DB_NAME(); DATABASEPROPERTYEX(DB_NAME(), 'ComparisonStyle'); SERVERPROPERTY('Collation')",
                run: collation,
            },
            Check {
                id: "mssql.read-committed-snapshot",
                category: Category::Settings,
                title: "READ_COMMITTED_SNAPSHOT (row versioning) on",
                doc: "With READ_COMMITTED_SNAPSHOT off, readers take shared locks and block writers (and the other way round): ORMs built for PostgreSQL-like behaviour hit blocking and deadlocks. Also reports ALLOW_SNAPSHOT_ISOLATION. Fix: ALTER DATABASE [db] SET READ_COMMITTED_SNAPSHOT ON WITH ROLLBACK IMMEDIATE;",
                asks: "SELECT is_read_committed_snapshot_on, snapshot_isolation_state FROM sys.databases WHERE name = DB_NAME()",
                run: row_versioning,
            },
            Check {
                id: "mssql.auto-close-shrink",
                category: Category::Settings,
                title: "AUTO_CLOSE and AUTO_SHRINK off",
                doc: "AUTO_CLOSE shuts the database down after the last connection (every reconnect pays the start-up and loses the plan cache); AUTO_SHRINK shrinks and regrows files in a loop, fragmenting indexes. Both default to on in some Express installations. Fix: ALTER DATABASE [db] SET AUTO_CLOSE OFF; ALTER DATABASE [db] SET AUTO_SHRINK OFF;",
                asks: "SELECT is_auto_close_on, is_auto_shrink_on FROM sys.databases WHERE name = DB_NAME()",
                run: auto_close_shrink,
            },
        ],
    },
    Place {
        after: "time-zone",
        checks: &[
            Check {
                id: "mssql.sysadmin",
                category: Category::Security,
                title: "Not connecting as sysadmin",
                doc: "A sysadmin login (sa, or a member of the role) bypasses every permission check on the whole server. Use a dedicated login with a user in one database.",
                asks: "SELECT SUSER_SNAME(), USER_NAME(), IS_SRVROLEMEMBER('sysadmin'), IS_MEMBER('db_owner')",
                run: sysadmin,
            },
            Check {
                id: "mssql.privileges",
                category: Category::Privileges,
                title: "Permissions in the database and schema",
                doc: "HAS_PERMS_BY_NAME for CONNECT and (when the product writes) CREATE TABLE, VIEW, PROCEDURE and FUNCTION on the database, and ALTER (needed to create tables in it), SELECT, INSERT, UPDATE, DELETE, EXECUTE and REFERENCES on the user's default schema ([app] schema when set). Each missing one comes with the exact GRANT, e.g. GRANT CREATE TABLE TO [app]; GRANT ALTER ON SCHEMA::[dbo] TO [app];",
                asks: "SELECT HAS_PERMS_BY_NAME(DB_NAME(), 'DATABASE', 'CREATE TABLE'), ...; SELECT HAS_PERMS_BY_NAME(@schema, 'SCHEMA', 'ALTER'), ...",
                run: privileges,
            },
        ],
    },
    Place {
        after: "database-size",
        checks: &[Check {
            id: "mssql.platform",
            category: Category::Resources,
            title: "Server host OS",
            doc: "The host OS from sys.dm_os_host_info (SQL Server 2017+: Windows or Linux, distribution and release); on older servers and Azure, from @@VERSION.",
            asks: "SELECT host_platform, host_distribution, host_release FROM sys.dm_os_host_info",
            run: platform,
        }],
    },
];

/// The mssql checks, in report order: the shared ones and its own.
pub static CHECKS: LazyLock<Vec<Check<MssqlFacts>>> = LazyLock::new(|| common::registry(OWN));

#[cfg(test)]
mod tests {
    //! Fixtures built from SQL Server's documented outputs (SERVERPROPERTY, @@VERSION,
    //! sys.databases, sys.dm_os_host_info, sys.dm_exec_connections); each test changes one
    //! thing and looks at the verdict a user would read.
    #![allow(clippy::unwrap_used)]
    use super::super::Mssql;
    use super::super::collect::capabilities;
    use super::super::facts::*;
    use crate::checks::{ClockFacts, ConnectionSlots, ReadOnlyFacts, TlsFacts, TrustMode};
    use crate::engines::identify;
    use crate::matrix::Matrix;
    use crate::net::{ConnectFailure, FailureKind};
    use crate::probe::Probe;
    use crate::registry::Selection;
    use crate::report::{Finding, Report};
    use crate::status::Status;
    use crate::target::ConnSpec;
    use crate::{Engine, run};
    use std::collections::BTreeMap;

    struct Server {
        banner: &'static str,
        product_version: &'static str,
        level: &'static str,
        update: Option<&'static str>,
        edition: &'static str,
        engine_edition: i64,
        compat: i64,
        host: Option<(&'static str, &'static str, &'static str)>,
    }

    const S2016: Server = Server {
        banner: "Microsoft SQL Server 2016 (SP3) (KB5003279) - 13.0.6300.2 (X64) \n\tAug  7 2021 01:20:37 \n\tCopyright (c) Microsoft Corporation\n\tStandard Edition (64-bit) on Windows Server 2016 Datacenter 10.0 <X64> (Build 14393: ) (Hypervisor)\n",
        product_version: "13.0.6300.2",
        level: "SP3",
        update: None,
        edition: "Standard Edition (64-bit)",
        engine_edition: 2,
        compat: 130,
        host: None, // sys.dm_os_host_info arrived in 2017
    };
    const S2017: Server = Server {
        banner: "Microsoft SQL Server 2017 (RTM-CU31) (KB5016884) - 14.0.3456.2 (X64) \n\tSep  2 2022 11:01:50 \n\tCopyright (C) 2017 Microsoft Corporation\n\tDeveloper Edition (64-bit) on Linux (Ubuntu 18.04.6 LTS)",
        product_version: "14.0.3456.2",
        level: "RTM",
        update: Some("CU31"),
        edition: "Developer Edition (64-bit)",
        engine_edition: 3,
        compat: 140,
        host: Some(("Linux", "Ubuntu", "18.04")),
    };
    const S2019: Server = Server {
        banner: "Microsoft SQL Server 2019 (RTM-CU27) (KB5037331) - 15.0.4375.4 (X64) \n\tJun 10 2024 18:00:07 \n\tCopyright (C) 2019 Microsoft Corporation\n\tEnterprise Edition: Core-based Licensing (64-bit) on Windows Server 2019 Datacenter 10.0 <X64> (Build 17763: ) (Hypervisor)\n",
        product_version: "15.0.4375.4",
        level: "RTM",
        update: Some("CU27"),
        edition: "Enterprise Edition: Core-based Licensing (64-bit)",
        engine_edition: 3,
        compat: 150,
        host: Some(("Windows", "Windows Server 2019 Datacenter", "10.0")),
    };
    const S2022: Server = Server {
        banner: "Microsoft SQL Server 2022 (RTM-CU14) (KB5038325) - 16.0.4135.4 (X64) \n\tJul 10 2024 14:09:09 \n\tCopyright (C) 2022 Microsoft Corporation\n\tDeveloper Edition (64-bit) on Linux (Ubuntu 22.04.4 LTS) <X64>",
        product_version: "16.0.4135.4",
        level: "RTM",
        update: Some("CU14"),
        edition: "Developer Edition (64-bit)",
        engine_edition: 3,
        compat: 160,
        host: Some(("Linux", "Ubuntu", "22.04")),
    };
    const S2025: Server = Server {
        banner: "Microsoft SQL Server 2025 (RTM) - 17.0.1000.7 (X64) \n\tOct 21 2025 12:05:57 \n\tCopyright (C) 2025 Microsoft Corporation\n\tEnterprise Developer Edition (64-bit) on Linux (Ubuntu 24.04.3 LTS) <X64>",
        product_version: "17.0.1000.7",
        level: "RTM",
        update: None,
        edition: "Enterprise Developer Edition (64-bit)",
        engine_edition: 3,
        compat: 170,
        host: Some(("Linux", "Ubuntu", "24.04")),
    };
    const AZURE: Server = Server {
        banner: "Microsoft SQL Azure (RTM) - 12.0.2000.8 \n\tJul 11 2024 17:09:56 \n\tCopyright (C) 2022 Microsoft Corporation\n",
        product_version: "12.0.2000.8",
        level: "RTM",
        update: None,
        edition: "SQL Azure",
        engine_edition: 5,
        compat: 160,
        host: None,
    };

    /// A healthy database on that server, reached as a non-sysadmin `app` user with every
    /// permission, over a verified TLS connection.
    fn facts(s: &Server) -> MssqlFacts {
        let spec = ConnSpec::parse("mssql://app@db.example.com:1433/app").unwrap();
        let mut f = MssqlFacts::default();
        let c = &mut f.common;
        c.collected_at = "2026-11-24T20:00:00Z".into();
        c.target = spec.target_info();
        c.connection.dns_ms = Some(1);
        c.connection.tcp_ms = Some(1);
        c.connection.login_ms = Some(20);
        c.version_raw = Probe::ok(s.banner.into(), 1);
        let ee = s.engine_edition.to_string();
        let mut hints = vec![
            ("product_version", s.product_version),
            ("engine_edition", ee.as_str()),
            ("edition", s.edition),
            ("product_level", s.level),
        ];
        if let Some(u) = s.update {
            hints.push(("product_update_level", u));
        }
        let id = identify(Engine::Mssql, s.banner, &hints).unwrap();
        f.server = Probe::ok(
            ServerProps {
                product_version: s.product_version.into(),
                product_level: Some(s.level.into()),
                product_update_level: s.update.map(Into::into),
                edition: Some(s.edition.into()),
                engine_edition: Some(s.engine_edition),
                collation: Some("SQL_Latin1_General_CP1_CI_AS".into()),
                hadr_enabled: Some(false),
                server_name: Some("DB01".into()),
            },
            1,
        );
        let azure = s.engine_edition == 5;
        let db = Database {
            name: "app".into(),
            database_id: Some(5),
            compatibility_level: s.compat,
            collation: Some("SQL_Latin1_General_CP1_CI_AS".into()),
            comparison_style: Some(196_609),
            read_committed_snapshot: true,
            snapshot_isolation_state: if azure { 1 } else { 0 },
            auto_close: false,
            auto_shrink: false,
            state: "ONLINE".into(),
            read_only: false,
            user_access: Some("MULTI_USER".into()),
            updateability: Some("READ_WRITE".into()),
            recovery_model: Some("FULL".into()),
        };
        f.common.capabilities = capabilities(&id, Some(&db));
        f.common.identity = Probe::ok(id, 0);
        f.database = Probe::ok(db, 1);
        f.session = Probe::ok(
            Session {
                database: "app".into(),
                login: Some("app".into()),
                user: Some("app".into()),
                sysadmin: false,
                db_owner: false,
                schema: "dbo".into(),
            },
            1,
        );
        f.database_permissions = Probe::ok(
            [
                "CONNECT",
                "CREATE TABLE",
                "CREATE VIEW",
                "CREATE PROCEDURE",
                "CREATE FUNCTION",
            ]
            .into_iter()
            .map(|p| (p.to_string(), true))
            .collect(),
            1,
        );
        f.schema_permissions = Probe::ok(
            SchemaPermissions {
                schema: "dbo".into(),
                permissions: super::super::collect::SCHEMA_PERMS
                    .into_iter()
                    .map(|p| (p.to_string(), true))
                    .collect(),
            },
            1,
        );
        f.host = match s.host {
            Some((p, d, r)) => Probe::ok(
                HostInfo {
                    platform: p.into(),
                    distribution: Some(d.into()),
                    release: Some(r.into()),
                },
                1,
            ),
            None => Probe::Failed {
                message: "sys.dm_os_host_info: this server has no such view or function (Invalid object name 'sys.dm_os_host_info'. (Msg 208, class 16))".into(),
                ms: 1,
            },
        };
        f.connection_info = Probe::ok(
            ConnectionInfo {
                encrypt_option: "TRUE".into(),
                auth_scheme: Some("SQL".into()),
                net_transport: Some("TCP".into()),
            },
            1,
        );
        f.azure = if azure {
            Probe::ok(
                AzureTier {
                    edition: Some("GeneralPurpose".into()),
                    service_objective: Some("GP_Gen5_2".into()),
                },
                1,
            )
        } else {
            Probe::not_collected("not an Azure SQL service")
        };
        let c = &mut f.common;
        c.tls = Probe::ok(
            TlsFacts {
                in_use: true,
                protocol: Some("TLS".into()),
                cipher: None,
                bits: None,
                trust: TrustMode::Verified,
                cert_expires_in_days: None,
                client_setting: "encrypt=true, ca=FILE".into(),
                server_leg: None,
            },
            1,
        );
        c.clock = Probe::ok(
            ClockFacts {
                server_epoch: 1_795_550_400.2,
                local_epoch: 1_795_550_400.0,
                time_zone_from: None,
                time_zone: Some("+00:00".into()),
            },
            1,
        );
        c.uptime_seconds = Probe::ok(86_400 * 12, 1);
        c.read_only = Probe::ok(ReadOnlyFacts::default(), 1);
        c.settings = Probe::ok(
            BTreeMap::from([
                ("user connections".to_string(), "0".to_string()),
                ("max degree of parallelism".to_string(), "0".to_string()),
            ]),
            1,
        );
        c.connections = Probe::ok(
            ConnectionSlots {
                max: 32767,
                reserved: 0,
                in_use: 12,
                user_limit: None,
            },
            1,
        );
        c.database_size_bytes = Probe::ok(512 * 1024 * 1024, 1);
        c.migrations = Probe::ok(Vec::new(), 1);
        f
    }

    fn report(f: &MssqlFacts) -> Report {
        report_with(f, &Matrix::builtin())
    }

    fn report_with(f: &MssqlFacts, m: &Matrix) -> Report {
        run::evaluate::<Mssql>(
            f,
            m,
            &Selection::default(),
            f.common.collected_at.clone(),
            0,
        )
    }

    fn finding<'a>(r: &'a Report, id: &str) -> &'a Finding {
        r.checks
            .iter()
            .find(|c| c.id == id)
            .unwrap_or_else(|| panic!("no {id}"))
    }

    fn status(r: &Report, id: &str) -> Status {
        finding(r, id).status
    }

    #[test]
    fn the_registry_is_well_formed() {
        let mut seen = std::collections::BTreeSet::new();
        for c in super::CHECKS.iter() {
            assert!(c.id.starts_with("mssql."), "{}", c.id);
            let name = &c.id["mssql.".len()..];
            assert!(
                name.chars()
                    .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-'),
                "{}",
                c.id
            );
            assert!(seen.insert(c.id), "duplicate {}", c.id);
            assert!(!c.title.is_empty() && c.doc.len() > 40 && !c.asks.is_empty());
        }
        assert!(super::CHECKS.len() >= 20);
    }

    #[test]
    fn documented_servers_get_the_verdicts_they_deserve() {
        // (server, version, eol) under the built-in matrix on 2026-11-24.
        for (s, version, eol) in [
            (&S2016, Status::Warn, Status::Fail), // extended support ended 2026-07-14
            (&S2017, Status::Warn, Status::Warn), // ends 2027-10-12, within a year
            (&S2019, Status::Pass, Status::Pass),
            (&S2022, Status::Pass, Status::Pass),
            (&S2025, Status::Pass, Status::Pass),
            (&AZURE, Status::Pass, Status::Skip), // evergreen
        ] {
            let r = report(&facts(s));
            assert_eq!(
                status(&r, "mssql.version"),
                version,
                "{}",
                s.product_version
            );
            assert_eq!(status(&r, "mssql.eol"), eol, "{}", s.product_version);
            for c in &r.checks {
                // Azure SQL Database tells no host OS: platform skips (tested below).
                let azure_platform = s.engine_edition == 5 && c.id == "mssql.platform";
                if !azure_platform
                    && !matches!(
                        c.id.as_str(),
                        "mssql.version"
                            | "mssql.eol"
                            | "mssql.settings"
                            | "mssql.write-probe"
                            | "mssql.workload"
                    )
                {
                    assert_eq!(
                        c.status,
                        Status::Pass,
                        "{} on {}: {}",
                        c.id,
                        s.product_version,
                        c.message
                    );
                }
            }
            assert_eq!(r.summary.error, 0);
        }
        let azure = report(&facts(&AZURE));
        assert_eq!(azure.server.as_ref().unwrap().flavor, "azure-sql-database");
        assert!(
            finding(&azure, "mssql.edition")
                .observed
                .as_deref()
                .unwrap()
                .contains("GeneralPurpose GP_Gen5_2")
        );
    }

    #[test]
    fn compatibility_level_100_fails_with_the_alter_database() {
        let mut f = facts(&S2022);
        if let Probe::Ok { value, .. } = &mut f.database {
            value.compatibility_level = 100;
        }
        let r = report(&f);
        let c = finding(&r, "mssql.compatibility-level");
        assert_eq!(c.status, Status::Fail);
        assert_eq!(
            c.remedy.as_deref().unwrap().split(';').next().unwrap(),
            "ALTER DATABASE [app] SET COMPATIBILITY_LEVEL = 160"
        );
        assert_eq!(c.expected.as_deref(), Some(">= 130"));
    }

    #[test]
    fn a_case_sensitive_collation_fails_when_the_matrix_wants_case_insensitive() {
        let mut f = facts(&S2019);
        if let Probe::Ok { value, .. } = &mut f.database {
            value.collation = Some("Latin1_General_CS_AS".into());
            value.comparison_style = Some(196_608);
        }
        let r = report(&f);
        let c = finding(&r, "mssql.collation");
        assert_eq!(c.status, Status::Fail, "{}", c.message);
        assert!(c.message.contains("case-sensitive"));
        assert!(
            c.observed
                .as_deref()
                .unwrap()
                .contains("server collation SQL_Latin1_General_CP1_CI_AS")
        );
        assert!(
            c.remedy
                .as_deref()
                .unwrap()
                .contains("COLLATE SQL_Latin1_General_CP1_CI_AS")
        );
        // Without the style, the name alone tells: _BIN2 is case-sensitive too.
        if let Probe::Ok { value, .. } = &mut f.database {
            value.collation = Some("Latin1_General_100_BIN2_UTF8".into());
            value.comparison_style = None;
        }
        assert_eq!(status(&report(&f), "mssql.collation"), Status::Fail);
        let m = Matrix::parse(
            "schema_version = 1\n[mssql]\ncase_sensitive = true\n",
            "t.toml",
        )
        .unwrap();
        assert_eq!(
            status(&report_with(&f, &m), "mssql.collation"),
            Status::Pass
        );
    }

    #[test]
    fn express_near_and_at_10_gb() {
        let mut f = facts(&S2016);
        if let Probe::Ok { value, .. } = &mut f.server {
            value.engine_edition = Some(4);
            value.edition = Some("Express Edition (64-bit)".into());
        }
        f.common.database_size_bytes = Probe::ok(8200 * 1024 * 1024, 1);
        let r = report(&f);
        assert_eq!(status(&r, "mssql.database-size"), Status::Warn);
        assert_eq!(status(&r, "mssql.edition"), Status::Warn);
        f.common.database_size_bytes = Probe::ok(super::EXPRESS_LIMIT_BYTES, 1);
        let c = report(&f);
        assert_eq!(status(&c, "mssql.database-size"), Status::Fail);
        // The same size on Standard edition is only a size.
        let mut std = facts(&S2016);
        std.common.database_size_bytes = Probe::ok(super::EXPRESS_LIMIT_BYTES * 3, 1);
        assert_eq!(status(&report(&std), "mssql.database-size"), Status::Pass);
    }

    #[test]
    fn master_as_target_fails_with_create_database() {
        let mut f = facts(&S2022);
        if let Probe::Ok { value, .. } = &mut f.session {
            value.database = "master".into();
        }
        if let Probe::Ok { value, .. } = &mut f.database {
            value.name = "master".into();
            value.database_id = Some(1);
        }
        let r = report(&f);
        let c = finding(&r, "mssql.system-database");
        assert_eq!(c.status, Status::Fail);
        let remedy = c.remedy.as_deref().unwrap();
        assert!(remedy.contains("CREATE DATABASE [app];"), "{remedy}");
        assert!(
            remedy.contains("CREATE USER [app] FOR LOGIN [app];"),
            "{remedy}"
        );
    }

    #[test]
    fn a_missing_permission_gives_the_exact_grant() {
        let mut f = facts(&S2022);
        if let Probe::Ok { value, .. } = &mut f.database_permissions {
            value.insert("CREATE TABLE".into(), false);
        }
        if let Probe::Ok { value, .. } = &mut f.schema_permissions {
            value.permissions.insert("ALTER".into(), false);
        }
        let r = report(&f);
        let c = finding(&r, "mssql.privileges");
        assert_eq!(c.status, Status::Fail);
        assert_eq!(
            c.remedy.as_deref(),
            Some(
                "In the database, as its owner or an administrator: GRANT CREATE TABLE TO [app]; GRANT ALTER ON SCHEMA::[dbo] TO [app];"
            )
        );
        // A schema query the server refuses leaves the database part judged, and says so.
        let mut g = facts(&S2022);
        g.schema_permissions = Probe::Denied {
            message: "HAS_PERMS_BY_NAME (schema): denied (Msg 229, class 14)".into(),
            ms: 1,
        };
        assert_eq!(status(&report(&g), "mssql.privileges"), Status::Error);
    }

    #[test]
    fn a_read_only_database_or_secondary_fails_writability() {
        let mut f = facts(&S2022);
        f.common.read_only = Probe::ok(
            ReadOnlyFacts {
                read_only: true,
                reasons: vec!["DATABASEPROPERTYEX Updateability = READ_ONLY: a readable secondary replica, or a read-only routing target".into()],
            },
            1,
        );
        let r = report(&f);
        let c = finding(&r, "mssql.writability");
        assert_eq!(c.status, Status::Fail);
        assert!(
            c.remedy
                .as_deref()
                .unwrap()
                .contains("ALTER DATABASE [app] SET READ_WRITE;")
        );
    }

    #[test]
    fn database_options_users_trip_on() {
        let mut f = facts(&S2016);
        if let Probe::Ok { value, .. } = &mut f.database {
            value.read_committed_snapshot = false;
            value.auto_close = true;
            value.auto_shrink = true;
            value.state = "RESTORING".into();
        }
        let r = report(&f);
        assert_eq!(status(&r, "mssql.read-committed-snapshot"), Status::Warn);
        let ac = finding(&r, "mssql.auto-close-shrink");
        assert_eq!(ac.status, Status::Warn);
        assert_eq!(
            ac.remedy.as_deref(),
            Some(
                "ALTER DATABASE [app] SET AUTO_CLOSE OFF; ALTER DATABASE [app] SET AUTO_SHRINK OFF;"
            )
        );
        assert_eq!(status(&r, "mssql.database-state"), Status::Fail);
    }

    #[test]
    fn tls_trust_modes_and_certificate_failures() {
        let mut f = facts(&S2022);
        if let Probe::Ok { value, .. } = &mut f.common.tls {
            value.trust = TrustMode::NotVerified;
            value.client_setting = "encrypt=true, trust_server_certificate=true".into();
        }
        let r = report(&f);
        assert_eq!(status(&r, "mssql.tls"), Status::Warn);
        assert!(
            finding(&r, "mssql.tls")
                .remedy
                .as_deref()
                .unwrap()
                .contains("ca=/path/to/ca.pem")
        );

        for (rustls, cause) in [
            ("BadSignature", "self-signed"),
            ("UnknownIssuer", "unknown issuer"),
            ("certificate not valid for name \"db\"", "hostname mismatch"),
            (
                "certificate expired: verification time 1795550400",
                "expired",
            ),
        ] {
            let mut g = facts(&S2022);
            g.common.connection.failure = Some(ConnectFailure {
                kind: FailureKind::Tls,
                message: format!(
                    "the server certificate was not accepted ({cause}): {rustls} (encrypt=true)"
                ),
            });
            let r = report(&g);
            let c = finding(&r, "mssql.connection");
            assert_eq!(
                (c.status, c.observed.as_deref()),
                (Status::Fail, Some("tls"))
            );
            let remedy = c.remedy.as_deref().unwrap();
            if matches!(cause, "self-signed" | "unknown issuer") {
                assert!(
                    remedy.contains("ca=/path/to/ca.pem")
                        && remedy.contains("trust_server_certificate=true"),
                    "{remedy}"
                );
            }
            assert_eq!(super::tls_cause(&c.message), cause);
        }
    }

    #[test]
    fn connection_failures_are_classified_with_their_fix() {
        let mut f = MssqlFacts::default();
        f.common.target = ConnSpec::parse("mssql://app@db.example.com/shop")
            .unwrap()
            .target_info();
        f.common.connection.failure = Some(ConnectFailure {
            kind: FailureKind::DatabaseMissing,
            message: "Cannot open database \"shop\" requested by the login. The login failed. (Msg 4060, class 11)".into(),
        });
        let r = report(&f);
        let c = finding(&r, "mssql.connection");
        assert!(
            c.remedy
                .as_deref()
                .unwrap()
                .contains("CREATE DATABASE [shop];")
        );
        // Nothing else is judged from facts that were never collected.
        assert!(
            r.checks
                .iter()
                .filter(|c| c.id != "mssql.connection")
                .all(|c| c.status == Status::Skip)
        );
    }

    #[test]
    fn a_missing_view_degrades_to_a_clear_fallback() {
        // 2016 has no sys.dm_os_host_info: the platform comes from @@VERSION.
        let r = report(&facts(&S2016));
        let c = finding(&r, "mssql.platform");
        assert_eq!(c.status, Status::Pass);
        assert!(c.observed.as_deref().unwrap().contains("from @@VERSION"));
        // Azure has neither: skip, saying why.
        let a = report(&facts(&AZURE));
        let p = finding(&a, "mssql.platform");
        assert_eq!(p.status, Status::Skip);
        assert!(p.message.contains("Invalid object name"), "{}", p.message);
        // A view the user may not read is an error naming the permission.
        let mut f = facts(&S2022);
        f.common.uptime_seconds = Probe::Denied {
            message: "sys.dm_os_sys_info: VIEW SERVER STATE permission was denied (Msg 300, class 14) (needs VIEW SERVER STATE, or VIEW SERVER PERFORMANCE STATE on SQL Server 2022+)".into(),
            ms: 1,
        };
        let u = report(&f);
        assert_eq!(status(&u, "mssql.uptime"), Status::Error);
        assert!(
            finding(&u, "mssql.uptime")
                .message
                .contains("VIEW SERVER STATE")
        );
    }

    #[test]
    fn the_write_probe_reports_leftovers_and_refusals() {
        let mut f = facts(&S2022);
        assert_eq!(status(&report(&f), "mssql.write-probe"), Status::Skip);
        f.write_probe = Probe::ok(
            WriteProbe {
                table: "[dbo].[byod_precheck_1_2]".into(),
                leftover: false,
            },
            3,
        );
        assert_eq!(status(&report(&f), "mssql.write-probe"), Status::Pass);
        f.write_probe = Probe::ok(
            WriteProbe {
                table: "[dbo].[byod_precheck_1_2]".into(),
                leftover: true,
            },
            3,
        );
        let r = report(&f);
        let c = finding(&r, "mssql.write-probe");
        assert_eq!(
            (c.status, c.remedy.as_deref()),
            (Status::Fail, Some("DROP TABLE [dbo].[byod_precheck_1_2];"))
        );
        f.write_probe = Probe::Denied {
            message:
                "write probe: CREATE TABLE permission denied in database 'app'. (Msg 262, class 14)"
                    .into(),
            ms: 1,
        };
        let r = report(&f);
        assert_eq!(
            finding(&r, "mssql.write-probe").remedy.as_deref(),
            Some("GRANT CREATE TABLE TO [app]; GRANT ALTER ON SCHEMA::[dbo] TO [app];")
        );
    }

    #[test]
    fn server_configuration_rules_come_with_sp_configure() {
        let m = Matrix::parse(
            "schema_version = 1\n[mssql.settings]\n\"max degree of parallelism\" = { min = 1 }\n\"user connections\" = { equals = \"0\" }\n",
            "t.toml",
        )
        .unwrap();
        let r = report_with(&facts(&S2022), &m);
        let c = finding(&r, "mssql.settings");
        assert_eq!(c.status, Status::Fail, "{}", c.message);
        assert!(
            c.message.starts_with("max degree of parallelism"),
            "{}",
            c.message
        );
        assert!(
            c.remedy
                .as_deref()
                .unwrap()
                .contains("EXEC sp_configure 'max degree of parallelism', 1; RECONFIGURE;")
        );
    }

    #[test]
    fn facts_survive_a_save_and_replay() {
        let f = facts(&S2019);
        let json = serde_json::to_string(&f).unwrap();
        let back: MssqlFacts = serde_json::from_str(&json).unwrap();
        assert_eq!(back, f);
        let (a, b) = (report(&f), report(&back));
        assert_eq!(
            serde_json::to_value(&a.checks).unwrap(),
            serde_json::to_value(&b.checks).unwrap()
        );
    }

    #[test]
    fn capabilities_follow_version_and_compatibility_level() {
        let caps = |s: &Server, compat: i64| {
            let mut f = facts(s);
            if let Probe::Ok { value, .. } = &mut f.database {
                value.compatibility_level = compat;
            }
            capabilities(f.common.identity.value().unwrap(), f.database.value())
        };
        let c16 = caps(&S2016, 130);
        assert!(c16["json"].supported && !c16["string-agg"].supported);
        assert!(c16["create-or-alter"].supported); // SP3 is after SP1 (13.0.4001)
        assert!(!c16["utf8"].supported && !c16["drop-cascade"].supported);
        assert!(!caps(&S2016, 120)["json"].supported);
        let c19 = caps(&S2019, 150);
        assert!(c19["string-agg"].supported && c19["utf8"].supported);
        assert!(
            c19["sequences"].supported
                && c19["offset-fetch"].supported
                && c19["drop-if-exists"].supported
        );
        assert!(caps(&AZURE, 160)["string-agg"].supported);
    }
}
