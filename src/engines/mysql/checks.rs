//! The MySQL-family registry: every check, in report order. Each is a pure function of
//! [`MysqlFacts`] and the [`Ctx`]; shared logic lives in [`crate::checks`]. MariaDB and the
//! compatible engines run the same list; their differences are in the facts. The checks of its
//! own live by area in `checks/` (`charset.rs`, `settings.rs`, `privileges.rs`); this file holds
//! the registry, the engine's [`SharedChecks`] and the helpers the areas share.

use super::facts::{Grants, MysqlFacts};
use crate::checks::{self as common, eval_rule, human_bytes, wanted_value};
use crate::checks::{Place, SharedChecks, Words};
use crate::engine::Engine;
use crate::matrix::SettingRule;
use crate::net::FailureKind;
use crate::probe::Unavailable;
use crate::registry::{Category, Check, Ctx, Outcome, Verdict};
use crate::report::TargetInfo;
use std::collections::BTreeSet;
use std::sync::LazyLock;

/// The keys of the `[mysql]` matrix table read by this engine's own checks (beyond the shared
/// ones); a key another engine reads is an error there.
pub const MATRIX_KEYS: &[&str] = &["encodings", "collations"];

pub use crate::engines::sql::mysql_ident as bt;

mod charset;
mod privileges;
mod settings;
use charset::*;
use privileges::*;
use settings::*;

/// An account as a GRANT names it: `'app'@'%'`, from `CURRENT_USER()` (`app@%`).
/// A user or host name as a MySQL string literal: `\` and `'` escaped (under the default
/// sql_mode a backslash escapes what follows it, so `'dom\'` would not end the literal).
fn q(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "''"))
}

fn account(f: &MysqlFacts) -> String {
    match f.session.value().map(|s| s.account.as_str()) {
        Some(a) if a.contains('@') => {
            let (u, h) = a.rsplit_once('@').unwrap_or((a, "%"));
            format!("{}@{}", q(u), q(h))
        }
        _ => format!(
            "{}@'%'",
            q(f.common.target.user.as_deref().unwrap_or("app"))
        ),
    }
}

/// The target database's name, if any.
fn db_name(f: &MysqlFacts) -> Option<String> {
    f.session
        .value()
        .and_then(|s| s.database.clone())
        .or_else(|| f.common.target.database.clone())
}

/// A global variable, or an error saying it is not visible.
fn var(f: &MysqlFacts, name: &str) -> Result<String, Unavailable> {
    let s = f.common.settings.get()?;
    s.get(name).cloned().ok_or_else(|| {
        Unavailable::Error(format!(
            "{name} is not in SHOW GLOBAL VARIABLES on this server"
        ))
    })
}

fn var_opt(f: &MysqlFacts, name: &str) -> Option<String> {
    f.common.settings.value().and_then(|s| s.get(name).cloned())
}

fn is_on(v: &str) -> bool {
    matches!(
        v.trim().to_ascii_uppercase().as_str(),
        "ON" | "1" | "TRUE" | "YES"
    )
}

fn is_mariadb(f: &MysqlFacts) -> bool {
    f.common
        .identity
        .value()
        .is_some_and(|i| i.flavor == "mariadb")
}

/// The collation to recommend with utf8mb4 on this server.
fn utf8mb4_collation(f: &MysqlFacts) -> &'static str {
    match f.common.identity.value() {
        Some(i) if i.flavor == "mariadb" => "utf8mb4_unicode_ci",
        Some(i) if i.major >= 8 => "utf8mb4_0900_ai_ci",
        _ => "utf8mb4_unicode_ci",
    }
}

/// Where a setting is made to last: my.cnf, or SET PERSIST on MySQL 8.
fn persist_hint(f: &MysqlFacts) -> &'static str {
    match f.common.identity.value() {
        Some(i) if i.flavor != "mariadb" && i.major >= 8 => {
            "(SET PERSIST keeps it across restarts; on a managed service change the parameter group)"
        }
        _ => {
            "and put it in my.cnf under [mysqld] so it survives a restart (on a managed service change the parameter group)"
        }
    }
}

fn tls(f: &MysqlFacts, ctx: &Ctx) -> Outcome {
    let v = common::tls(
        &f.common,
        ctx,
        "ssl-mode=VERIFY_IDENTITY&ssl-ca=/path/to/ca.pem",
    )?;
    Ok(match var_opt(f, "require_secure_transport") {
        Some(r) => {
            let note = format!("require_secure_transport = {r}");
            let observed = match &v.observed {
                Some(o) => format!("{o}; {note}"),
                None => note,
            };
            v.observed(observed)
        }
        None => v,
    })
}

impl SharedChecks for MysqlFacts {
    fn quote_ident(name: &str) -> String {
        crate::quote::mysql_ident(name)
    }

    const ENGINE: Engine = Engine::Mysql;
    const RAISE_CONNECTIONS: &'static str = "Raise max_connections (SET GLOBAL max_connections = 500; and in my.cnf or the parameter group), or lower max_user_connections for this account.";
    const HIDDEN_SETTING_HINT: &'static str = "the server has no such variable";

    fn common(&self) -> &common::CommonFacts {
        &self.common
    }
    fn connection_remedy(kind: FailureKind, t: &TargetInfo) -> String {
        let host = t.host.as_deref().unwrap_or("the host");
        let port = t.port.unwrap_or(3306);
        let user = t.user.as_deref().unwrap_or("the user");
        let db = t.database.as_deref().unwrap_or("the database");
        match kind {
            FailureKind::Dns => format!("Check the host name `{host}`: it must resolve from this machine (try `getent hosts {host}`)."),
            FailureKind::Refused => format!(
                "Nothing accepts connections on {host}:{port}. Check the host and port, that the server runs and listens on this address (bind-address in my.cnf, skip-networking off), and that no firewall or security group rejects this machine."
            ),
            FailureKind::Timeout => format!(
                "{host}:{port} did not answer in time: a firewall or security group is probably dropping the traffic. Allow TCP {port} from this machine, or raise --connect-timeout for a slow link."
            ),
            FailureKind::Tls => "The TLS handshake failed or the server requires TLS (require_secure_transport). If the server uses a private CA, pass ssl-mode=VERIFY_IDENTITY&ssl-ca=/path/to/ca.pem; if the server has no TLS, enable it (ssl_cert, ssl_key in my.cnf).".into(),
            FailureKind::Authentication => format!(
                "The server refused the password of `{user}` from this machine. Check the user name and password (MYSQL_PWD or --password-stdin), and that an account {}@'<this host or %>' exists: CREATE USER {}@'%' IDENTIFIED BY '...';",
                q(user), q(user)
            ),
            FailureKind::DatabaseMissing => format!(
                "Database `{db}` does not exist. Create it: CREATE DATABASE {} CHARACTER SET utf8mb4; GRANT ALL ON {}.* TO {}@'%'; or fix the name in the URL.",
                bt(db), bt(db), q(user)
            ),
            FailureKind::Permission => format!(
                "`{user}` may not use `{db}` from this address. Run: GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, DROP, INDEX, REFERENCES, CREATE TEMPORARY TABLES ON {}.* TO {}@'%';",
                bt(db), q(user)
            ),
            FailureKind::ServerError => "The server reported an error during login: read its message and the server's error log.".into(),
            FailureKind::Config => "Fix the connection options named in the message.".into(),
        }
    }
    fn eol_flavor(flavor: &str) -> Option<&'static str> {
        match flavor {
            "mysql"
            | "percona-server"
            | "percona-xtradb-cluster"
            | "aurora-mysql"
            | "azure-mysql" => Some("mysql"),
            "mariadb" => Some("mariadb"),
            _ => None,
        }
    }
    fn setting_remedy(&self, name: &str, rule: &SettingRule) -> String {
        format!(
            "SET GLOBAL {name} = '{}'; and set it in my.cnf under [mysqld] (MySQL 8: SET PERSIST; managed services: the parameter group).",
            wanted_value(rule)
        )
    }
    fn time_zone_remedy(&self) -> String {
        "SET GLOBAL time_zone = '{zone}'; and default-time-zone = '{zone}' in my.cnf (or the parameter group).".into()
    }
    fn writability_remedy(&self) -> String {
        WRITABILITY_REMEDY.into()
    }
    fn words() -> &'static [Words<Self>] {
        WORDS
    }
}

/// This engine's wording of the shared checks (`crate::checks::shared`).
static WORDS: &[Words<MysqlFacts>] = &[
    Words::new(
        "connection",
        "Resolves the host, opens TCP, then logs in through the driver (TLS per ssl-mode). A failure is classified as dns, refused, timeout, tls, authentication (error 1045), database-missing (1049) or permission (1044), with the fix for that step. Every other check needs this one.",
        "DNS lookup; TCP connect; MySQL handshake and authentication",
    ),
    Words::new(
        "tls",
        "Reads the session's Ssl_version, Ssl_cipher and Ssl_server_not_after, how the client trusted the certificate (ssl-mode), and require_secure_transport. Unencrypted warns (fails with [app] require_tls); a certificate trusted without verification (ssl-mode PREFERRED/REQUIRED) warns. Fix: ssl-mode=VERIFY_IDENTITY with ssl-ca.",
        "SHOW SESSION STATUS LIKE 'Ssl_%'; @@require_secure_transport",
    )
    .run(tls),
    Words::new(
        "version",
        "Compares the MySQL-compatible version with the matrix: [mariadb] for MariaDB, [mysql] for every other flavor. Outside versions fails, outside recommended warns, newer than tested_up_to warns 'not yet tested'.",
        "SELECT VERSION(), @@version_comment",
    ),
    Words::new(
        "eol",
        "Looks the major.minor release up in the shipped end-of-life data (checks/eol.json; its date is in the report): Oracle's dates for MySQL, Percona, Aurora MySQL and Azure; MariaDB's for MariaDB. Past the date fails; within [app] eol_warn_days warns.",
        "(no query: uses the version)",
    )
    .title("Release line still supported by its vendor"),
    Words::new(
        "flavor",
        "Names the product from VERSION() (MariaDB, also in its 5.5.5- form; TiDB; Vitess), @@version_comment (Percona Server, Percona XtraDB Cluster, SingleStore), @@aurora_version (Aurora), Azure's own variables, @@tidb_version and @@memsql_version. A flavor outside the matrix's list fails.",
        "SELECT VERSION(), @@version_comment; SHOW GLOBAL VARIABLES",
    )
    .title("Flavor accepted (MariaDB, managed service or compatible engine)"),
    Words::new(
        "max-connections",
        "max_connections (and max_user_connections, when set) against Threads_connected and our [app] pool_size. Fewer usable slots than the pool fails; fewer free right now warns.",
        "@@max_connections, @@max_user_connections; SHOW GLOBAL STATUS LIKE 'Threads_connected'",
    ),
    Words::new(
        "settings",
        "Every [mysql.settings] or [mariadb.settings] rule (min, max, equals, one_of, contains, excludes) against SHOW GLOBAL VARIABLES. A variable the server does not have is an error naming it.",
        "SHOW GLOBAL VARIABLES",
    ),
    Words::new(
        "time-zone",
        "The global time_zone (SYSTEM shows the system zone) against [app] time_zone when set: DATETIME values and NOW() shift when it differs.",
        "@@global.time_zone, @@system_time_zone",
    ),
    Words::new(
        "writability",
        "read_only (a replica), super_read_only, innodb_read_only (an Aurora reader) or a read-only transaction default make writes fail; so does an account without INSERT, UPDATE or DELETE. Fails when [app] needs_write is true. The server's global values are read before this tool makes its own session read-only. With --probe-write a uniquely named scratch table is created, written and dropped (DDL cannot be rolled back here); a table that could not be dropped is reported.",
        "SHOW GLOBAL VARIABLES (read_only, super_read_only, innodb_read_only, transaction_read_only); SHOW GRANTS",
    )
    .run(writability),
    Words::new(
        "capabilities",
        "Derived from flavor and version: json (native on MySQL 5.7.8+, an alias of LONGTEXT on MariaDB), cte and window-functions (MySQL 8.0, MariaDB 10.2), check-constraints enforced (MySQL 8.0.16, MariaDB 10.2.1), returning and sequences (MariaDB only), upsert (ON DUPLICATE KEY), utf8. Never: transactional-ddl (DDL commits implicitly), drop-cascade, varchar-without-length (VARCHAR needs a length). The matrix's capabilities list must all be present. With --probe-write, varchar-without-length, json, check-constraints, returning and upsert are probed for real (see mysql.write-probe).",
        "(derived from the version, flavor and database character set)",
    ),
    Words::new(
        "write-probe",
        "Only with --probe-write: creates a uniquely named InnoDB table with a CHECK constraint, adds a VARCHAR without a length (MySQL and MariaDB refuse it: the proof of concept's first error) and a JSON column, tries an INSERT that violates the CHECK (it must be refused), an INSERT ... RETURNING and an ON DUPLICATE KEY upsert, then drops the table — DDL commits implicitly here, so nothing can be rolled back — and looks for leftovers, which fail with the DROP to run.",
        "SET SESSION TRANSACTION READ WRITE; START TRANSACTION; CREATE TABLE byod_precheck_probe_...; ...; DROP TABLE ...; ROLLBACK; SELECT table_name FROM information_schema.tables WHERE table_name LIKE 'byod_precheck_probe_...%'",
    )
    .title("Scratch table created, exercised and dropped (--probe-write)"),
    Words::new(
        "workload",
        "Only with --probe-write and a matrix that names [app.workload] dir: runs the product's SQL files (DIR/mysql/*.sql, in file-name order) in a uniquely named scratch database (byod_precheck_wl_...) created with the target's character set and dropped afterwards, because MySQL's DDL commits by itself. Statements that would leave that area (COMMIT, USE, CREATE DATABASE, ALTER SYSTEM, GRANT, ...) are refused before anything is sent. Fails naming each failing statement's file:line, the server's own error and code, and the portable rewrite where one is known; statements that failed only because an earlier one did are named as consequences. Skipped without the privilege it needs (with the GRANT), on read-only targets and replicas.",
        "CREATE DATABASE byod_precheck_wl_...; USE it; (each statement); DROP DATABASE; SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE 'byod\\_precheck\\_wl\\_%'",
    ),
    Words::new(
        "database-size",
        "DATA_LENGTH + INDEX_LENGTH of the target database's tables, for capacity planning (InnoDB's figures are estimates).",
        "SELECT SUM(DATA_LENGTH + INDEX_LENGTH) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()",
    ),
    Words::new(
        "clock-skew",
        "UNIX_TIMESTAMP(NOW(6)) on the server against this machine's clock at the middle of the round trip. More than [app] max_clock_skew_seconds warns.",
        "SELECT UNIX_TIMESTAMP(NOW(6))",
    ),
    Words::new(
        "uptime",
        "SHOW GLOBAL STATUS Uptime. Under ten minutes warns: the server may be restarting in a loop.",
        "SHOW GLOBAL STATUS LIKE 'Uptime'",
    ),
    Words::new(
        "migrations",
        "Finds the history tables of the migration tools byod-precheck knows (Alembic, Django, Flyway, Liquibase, Rails, sqlx, EF Core, Diesel, refinery, SeaORM, goose, golang-migrate, dbmate, Ecto, knex, Sequelize, TypeORM, MikroORM, node-pg-migrate, Drizzle, Kysely, Prisma, Doctrine, Laravel, Phinx, yoyo), told apart by table name and columns, and reads each one's latest version (Django: per app). User tables with no known history warn as an unknown history. With [app.migrations], a missing history warns and another version fails.",
        "information_schema.TABLES of DATABASE(); then the latest row of each history table found",
    ),
];

/// The mysql checks of its own, each group after the shared check it follows in the report.
pub static OWN: &[Place<MysqlFacts>] = &[
    Place {
        after: "flavor",
        checks: &[
            Check {
                id: "mysql.charset",
                category: Category::Encoding,
                title: "Database and server character set is utf8mb4",
                doc: "The database's default character set must be one the matrix accepts (utf8mb4 by default): latin1 cannot store most of Unicode, utf8mb3 (the old `utf8`) refuses emoji and other 4-byte characters. A server default other than utf8mb4 warns, because new databases inherit it. Fix: ALTER DATABASE ... CHARACTER SET utf8mb4, then convert each table.",
                asks: "SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = DATABASE(); @@character_set_server",
                run: charset,
            },
            Check {
                id: "mysql.collation",
                category: Category::Encoding,
                title: "Database collation",
                doc: "Reports the database's and server's collations; when the matrix lists collations, another one fails (sorting, comparisons and unique keys on text depend on it).",
                asks: "information_schema.SCHEMATA DEFAULT_COLLATION_NAME; @@collation_server",
                run: collation,
            },
            Check {
                id: "mysql.table-charset",
                category: Category::Encoding,
                title: "Existing tables use utf8mb4",
                doc: "Tables keep the character set they were created with, whatever the database default says now. Every table not in an accepted character set is listed with its ALTER TABLE ... CONVERT TO CHARACTER SET utf8mb4.",
                asks: "SELECT TABLE_NAME, TABLE_COLLATION FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()",
                run: table_charset,
            },
            Check {
                id: "mysql.sql-mode",
                category: Category::Settings,
                title: "sql_mode is strict",
                doc: "Without STRICT_TRANS_TABLES (or STRICT_ALL_TABLES) MySQL silently truncates too-long strings, stores invalid dates as zeros and clamps numbers, with only a warning. ANSI_QUOTES, PIPES_AS_CONCAT, NO_BACKSLASH_ESCAPES and ALLOW_INVALID_DATES change how SQL is parsed and warn. The server's global value is read: it is what new connections get.",
                asks: "SHOW GLOBAL VARIABLES (sql_mode)",
                run: sql_mode,
            },
            Check {
                id: "mysql.lower-case-table-names",
                category: Category::Settings,
                title: "Table name case handling",
                doc: "lower_case_table_names decides whether `Users` and `users` are one table. 0 (Linux) and 1 are consistent; 2 (macOS) stores names as given but compares them in lowercase, which breaks dumps moved to Linux. MySQL 8 fixes the value when the data directory is initialised.",
                asks: "SHOW GLOBAL VARIABLES (lower_case_table_names)",
                run: lower_case_table_names,
            },
            Check {
                id: "mysql.storage-engine",
                category: Category::Settings,
                title: "Default storage engine is InnoDB, and tables use it",
                doc: "MyISAM, Aria, MEMORY and other engines have no transactions and no foreign keys: a rolled-back transaction leaves their rows changed. A default other than InnoDB fails; existing non-InnoDB tables warn, with the ALTER TABLE ... ENGINE = InnoDB for each.",
                asks: "@@default_storage_engine; SELECT TABLE_NAME, ENGINE FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()",
                run: storage_engine,
            },
            Check {
                id: "mysql.index-key-length",
                category: Category::Settings,
                title: "Index keys long enough for utf8mb4 VARCHAR(255)",
                doc: "InnoDB index keys are limited to 767 bytes with the COMPACT and REDUNDANT row formats (or without innodb_large_prefix on old servers), and 3072 bytes with DYNAMIC. A utf8mb4 character takes 4 bytes, so an index on VARCHAR(255) needs 1020 bytes and fails with 'Specified key was too long' under the small limit. Existing COMPACT/REDUNDANT tables warn.",
                asks: "@@innodb_default_row_format (or @@innodb_large_prefix, @@innodb_file_format); information_schema.TABLES ROW_FORMAT",
                run: index_key_length,
            },
            Check {
                id: "mysql.max-allowed-packet",
                category: Category::Settings,
                title: "max_allowed_packet is large enough",
                doc: "The largest statement or row the server accepts. Under 4 MiB fails and under 16 MiB warns: large text or JSON values and batched inserts get 'Packet too big'. Fix: SET GLOBAL max_allowed_packet = 67108864 and persist it.",
                asks: "SHOW GLOBAL VARIABLES (max_allowed_packet)",
                run: max_allowed_packet,
            },
            Check {
                id: "mysql.transaction-isolation",
                category: Category::Settings,
                title: "Transaction isolation level",
                doc: "REPEATABLE-READ (the default) and READ-COMMITTED pass. READ-UNCOMMITTED fails: dirty reads. SERIALIZABLE warns: plain SELECTs take locks. Read from transaction_isolation (tx_isolation on MariaDB before 11.1).",
                asks: "SHOW GLOBAL VARIABLES (transaction_isolation / tx_isolation)",
                run: transaction_isolation,
            },
        ],
    },
    Place {
        after: "max-connections",
        checks: &[
            super::pooler::CHECK,
            Check {
                id: "mysql.binlog",
                category: Category::Settings,
                title: "Binary log",
                doc: "Reports whether the binary log is on and its format (ROW, MIXED, STATEMENT), as information. When the matrix names log_bin or binlog_format in [mysql.settings] / [mariadb.settings], a different value fails here with the fix.",
                asks: "SHOW GLOBAL VARIABLES (log_bin, binlog_format)",
                run: binlog,
            },
            Check {
                id: "mysql.idle-timeout",
                category: Category::Settings,
                title: "Idle connections are not ended before our pool recycles them",
                doc: "The global wait_timeout (which every non-interactive connection, a driver's, starts with) against [app] pool_recycle_seconds: a server that ends connections idle for less than our pool keeps them warns, because the pool's next use of such a connection fails (\"MySQL server has gone away\", \"Lost connection\"). The fix raises it (SET GLOBAL and my.cnf or the parameter group), or the pool recycles sooner.",
                asks: "SHOW GLOBAL VARIABLES (wait_timeout)",
                run: idle_timeout,
            },
        ],
    },
    Place {
        after: "time-zone",
        checks: &[
            Check {
                id: "mysql.time-zone-tables",
                category: Category::Settings,
                title: "Time zone tables loaded",
                doc: "Without the mysql.time_zone* tables, named zones do not work: CONVERT_TZ(..., 'UTC', 'Europe/Paris') returns NULL and SET time_zone = 'Europe/Paris' fails. Tested without privileges through CONVERT_TZ. Fix: mysql_tzinfo_to_sql /usr/share/zoneinfo | mysql -u root mysql (mariadb-tzinfo-to-sql on MariaDB).",
                asks: "SELECT CONVERT_TZ('2000-01-01 00:00:00', 'UTC', 'Europe/Paris')",
                run: time_zone_tables,
            },
            Check {
                id: "mysql.superuser",
                category: Category::Security,
                title: "Not connecting as an administrator",
                doc: "An account with ALL PRIVILEGES or SUPER on *.* can change or drop anything on the server. Use a dedicated account with privileges on the product's database only.",
                asks: "SHOW GRANTS",
                run: superuser,
            },
            Check {
                id: "mysql.table-privileges",
                category: Category::Privileges,
                title: "May read and write rows",
                doc: "From SHOW GRANTS: the account must hold SELECT, INSERT, UPDATE and DELETE on the target database (SELECT only when the matrix says we only read), from *.* or a `db`.* grant (patterns like `app\\_%` count). The fix is the exact GRANT for the missing privileges. Privileges of roles are not expanded.",
                asks: "SHOW GRANTS",
                run: table_privileges,
            },
            Check {
                id: "mysql.create-table",
                category: Category::Privileges,
                title: "May create, alter and drop tables and indexes",
                doc: "Our migrations need CREATE, ALTER, DROP, INDEX and REFERENCES on the target database. The fix is the exact GRANT for the missing privileges.",
                asks: "SHOW GRANTS",
                run: create_table,
            },
            Check {
                id: "mysql.temp-tables",
                category: Category::Privileges,
                title: "May create temporary tables",
                doc: "CREATE TEMPORARY TABLES on the target database. Fix: GRANT CREATE TEMPORARY TABLES ON `db`.* TO 'user'@'host';",
                asks: "SHOW GRANTS",
                run: temp_tables,
            },
        ],
    },
    Place {
        after: "uptime",
        checks: &[Check {
            id: "mysql.platform",
            category: Category::Resources,
            title: "Server platform",
            doc: "The platform the server was built for, from @@version_compile_os and @@version_compile_machine.",
            asks: "SHOW GLOBAL VARIABLES (version_compile_os, version_compile_machine)",
            run: |f, _| common::server_platform(&f.common),
        }],
    },
];

/// The mysql checks, in report order: the shared ones and its own.
pub static CHECKS: LazyLock<Vec<Check<MysqlFacts>>> = LazyLock::new(|| common::registry(OWN));

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::super::Mysql;
    use super::super::collect::{capabilities, parse_grants, read_only, tls_facts};
    use super::super::facts::{Database, MysqlFacts, Session, Tables};
    use super::*;
    use crate::Engine;
    use crate::checks::{ClockFacts, ConnectionSlots};
    use crate::engines::EngineModule;
    use crate::engines::identify;
    use crate::matrix::Matrix;
    use crate::probe::Probe;
    use crate::registry::Selection;
    use crate::report::{Finding, Report};
    use crate::status::Status;
    use std::collections::BTreeMap;

    /// Oracle MySQL 8.4 LTS as its documentation describes a default install.
    fn mysql84() -> MysqlFacts {
        oracle("8.4.3")
    }

    /// Oracle MySQL 8.x as its documentation describes a default install (server system
    /// variables reference; auto-generated TLS certificates), with an `app` account that holds
    /// ALL on its own database.
    fn oracle(version: &str) -> MysqlFacts {
        let vars: BTreeMap<String, String> = [
            ("version_compile_os", "Linux"),
            ("version_compile_machine", "x86_64"),
            ("character_set_server", "utf8mb4"),
            ("collation_server", "utf8mb4_0900_ai_ci"),
            ("sql_mode", "ONLY_FULL_GROUP_BY,STRICT_TRANS_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION"),
            ("lower_case_table_names", "0"),
            ("default_storage_engine", "InnoDB"),
            ("innodb_default_row_format", "dynamic"),
            ("max_allowed_packet", "67108864"),
            ("transaction_isolation", "REPEATABLE-READ"),
            ("read_only", "OFF"),
            ("super_read_only", "OFF"),
            ("innodb_read_only", "OFF"),
            ("transaction_read_only", "OFF"),
            ("log_bin", "ON"),
            ("binlog_format", "ROW"),
            ("max_connections", "151"),
            ("max_user_connections", "0"),
            ("require_secure_transport", "OFF"),
            ("time_zone", "SYSTEM"),
            ("system_time_zone", "UTC"),
            ("wait_timeout", "28800"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let hints = [
            ("version_comment", "MySQL Community Server - GPL"),
            ("version_compile_os", "Linux"),
            ("version_compile_machine", "x86_64"),
        ];
        let id = identify(Engine::Mysql, version, &hints).unwrap();
        let ssl: BTreeMap<String, String> = [
            ("ssl_version", "TLSv1.3"),
            ("ssl_cipher", "TLS_AES_256_GCM_SHA384"),
            ("ssl_server_not_after", "Mar 10 12:00:00 2036 GMT"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let mut f = MysqlFacts::default();
        f.common.collected_at = "2026-11-24T20:00:00Z".into();
        f.common.target.engine = Engine::Mysql;
        f.common.target.user = Some("app".into());
        f.common.target.database = Some("app".into());
        f.common.connection.login_ms = Some(3);
        f.common.version_raw = Probe::ok(version.into(), 1);
        f.common.capabilities = capabilities(&id, Some("utf8mb4"));
        f.common.identity = Probe::ok(id, 1);
        f.common.tls = Probe::ok(tls_facts(&ssl, "preferred", 1.7e9), 1);
        f.common.clock = Probe::ok(
            ClockFacts {
                server_epoch: 1.0e9,
                local_epoch: 1.0e9,
                time_zone_from: None,
                time_zone: Some("SYSTEM (UTC)".into()),
            },
            1,
        );
        f.common.uptime_seconds = Probe::ok(86_400, 1);
        f.common.read_only = Probe::ok(read_only(&vars), 1);
        f.common.settings = Probe::ok(vars, 1);
        f.common.connections = Probe::ok(
            ConnectionSlots {
                max: 151,
                reserved: 0,
                in_use: 5,
                user_limit: None,
            },
            1,
        );
        f.common.database_size_bytes = Probe::ok(1 << 20, 1);
        f.common.migrations = Probe::ok(Vec::new(), 0);
        f.session = Probe::ok(
            Session {
                user: "app@10.0.0.5".into(),
                account: "app@%".into(),
                database: Some("app".into()),
            },
            1,
        );
        f.database = Probe::ok(
            Some(Database {
                name: "app".into(),
                charset: "utf8mb4".into(),
                collation: "utf8mb4_0900_ai_ci".into(),
            }),
            1,
        );
        f.grants = Probe::ok(
            parse_grants(&[
                "GRANT USAGE ON *.* TO `app`@`%`".into(),
                "GRANT ALL PRIVILEGES ON `app`.* TO `app`@`%`".into(),
            ]),
            1,
        );
        f.tables = Probe::ok(
            Tables {
                total: 3,
                ..Default::default()
            },
            1,
        );
        f.time_zone_tables = Probe::ok(true, 1);
        f.pooler = Probe::ok(super::super::pooler::Pooler::default(), 1);
        f
    }

    fn set(f: &mut MysqlFacts, k: &str, v: &str) {
        if let Probe::Ok { value, .. } = &mut f.common.settings {
            value.insert(k.into(), v.into());
        }
    }

    fn report(f: &MysqlFacts, matrix: &Matrix) -> Report {
        crate::run::evaluate::<Mysql>(
            f,
            matrix,
            &Selection::default(),
            f.common.collected_at.clone(),
            0,
        )
    }

    fn finding(f: &MysqlFacts, id: &str) -> Finding {
        report(f, &Matrix::builtin())
            .checks
            .into_iter()
            .find(|c| c.id == id)
            .unwrap_or_else(|| panic!("no {id}"))
    }

    #[test]
    fn registry_is_well_formed() {
        let mut seen = std::collections::BTreeSet::new();
        assert!(Mysql::checks().len() >= 20);
        for c in Mysql::checks() {
            assert!(c.id.starts_with("mysql."), "{}", c.id);
            assert!(
                c.id[6..]
                    .chars()
                    .all(|ch| ch.is_ascii_lowercase() || ch == '-'),
                "{}",
                c.id
            );
            assert!(seen.insert(c.id), "duplicate {}", c.id);
            assert!(!c.title.is_empty() && !c.doc.is_empty() && !c.asks.is_empty());
        }
    }

    #[test]
    fn healthy_oracle_mysql_8_passes_the_builtin_matrix() {
        let r = report(&mysql84(), &Matrix::builtin());
        // Every check gives a verdict but these: a fixture fact left out would show as a skip.
        let not_pass: Vec<(&str, Status)> = r
            .checks
            .iter()
            .filter(|c| c.status != Status::Pass)
            .map(|c| (c.id.as_str(), c.status))
            .collect();
        assert_eq!(
            not_pass,
            [
                ("mysql.tls", Status::Warn),         // encrypted, not verified (below)
                ("mysql.settings", Status::Skip),    // the matrix names no setting
                ("mysql.write-probe", Status::Skip), // not asked
                ("mysql.workload", Status::Skip),    // not asked
            ],
            "{:#?}",
            r.checks
        );
        assert_eq!(r.exit_code(false), 0);
        // Auto-generated certificates encrypt but are not verified under PREFERRED.
        let tls = finding(&mysql84(), "mysql.tls");
        assert_eq!(tls.status, Status::Warn);
        assert!(tls.observed.unwrap().contains("TLSv1.3"));
        assert_eq!(finding(&mysql84(), "mysql.version").status, Status::Pass);
        // 8.0 is supported by the matrix but not recommended, and past Oracle's end of life.
        let old = oracle("8.0.36");
        assert_eq!(finding(&old, "mysql.version").status, Status::Warn);
        let eol = finding(&old, "mysql.eol");
        assert_eq!(eol.status, Status::Fail);
        assert!(eol.message.contains("2026-04-30"), "{}", eol.message);
        assert_eq!(finding(&mysql84(), "mysql.superuser").status, Status::Pass);
    }

    #[test]
    fn latin1_database_fails_with_the_alter() {
        let mut f = mysql84();
        f.database = Probe::ok(
            Some(Database {
                name: "app".into(),
                charset: "latin1".into(),
                collation: "latin1_swedish_ci".into(),
            }),
            1,
        );
        let c = finding(&f, "mysql.charset");
        assert_eq!(c.status, Status::Fail);
        assert!(c.message.contains("latin1"), "{}", c.message);
        assert!(
            c.remedy.unwrap().starts_with(
                "ALTER DATABASE `app` CHARACTER SET utf8mb4 COLLATE utf8mb4_0900_ai_ci;"
            )
        );
    }

    #[test]
    fn utf8mb3_is_named_as_such() {
        let mut f = mysql84();
        set(&mut f, "character_set_server", "utf8mb3");
        let c = finding(&f, "mysql.charset");
        assert_eq!(c.status, Status::Warn);
        assert!(c.message.contains("utf8mb3"), "{}", c.message);
        if let Probe::Ok { value: Some(d), .. } = &mut f.database {
            d.charset = "utf8mb3".into();
        }
        let c = finding(&f, "mysql.charset");
        assert_eq!(c.status, Status::Fail);
        assert!(c.message.contains("4-byte"), "{}", c.message);
    }

    #[test]
    fn latin1_tables_are_listed_with_their_conversion() {
        let mut f = mysql84();
        f.tables = Probe::ok(
            Tables {
                total: 2,
                not_utf8mb4: vec!["legacy (latin1_swedish_ci)".into()],
                ..Default::default()
            },
            1,
        );
        let c = finding(&f, "mysql.table-charset");
        assert_eq!(c.status, Status::Fail);
        assert_eq!(
            c.remedy.as_deref(),
            Some(
                "ALTER TABLE `legacy` CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_0900_ai_ci;"
            )
        );
    }

    #[test]
    fn non_strict_sql_mode_fails() {
        let mut f = mysql84();
        set(&mut f, "sql_mode", "NO_ENGINE_SUBSTITUTION");
        let c = finding(&f, "mysql.sql-mode");
        assert_eq!(c.status, Status::Fail);
        assert!(c.remedy.unwrap().starts_with(
            "SET GLOBAL sql_mode = 'STRICT_TRANS_TABLES,NO_ENGINE_SUBSTITUTION'; (SET PERSIST"
        ));
        set(&mut f, "sql_mode", "");
        assert_eq!(finding(&f, "mysql.sql-mode").status, Status::Fail);
        set(&mut f, "sql_mode", "STRICT_ALL_TABLES,ANSI_QUOTES");
        assert_eq!(finding(&f, "mysql.sql-mode").status, Status::Warn);
    }

    #[test]
    fn myisam_default_fails_and_myisam_tables_warn() {
        let mut f = mysql84();
        f.tables = Probe::ok(
            Tables {
                total: 3,
                non_innodb: vec!["sessions (MyISAM)".into()],
                ..Default::default()
            },
            1,
        );
        let c = finding(&f, "mysql.storage-engine");
        assert_eq!(c.status, Status::Warn);
        assert_eq!(
            c.remedy.as_deref(),
            Some("ALTER TABLE `sessions` ENGINE = InnoDB;")
        );
        set(&mut f, "default_storage_engine", "MyISAM");
        assert_eq!(finding(&f, "mysql.storage-engine").status, Status::Fail);
    }

    #[test]
    fn compact_row_format_limits_utf8mb4_keys() {
        let mut f = mysql84();
        set(&mut f, "innodb_default_row_format", "compact");
        let c = finding(&f, "mysql.index-key-length");
        assert_eq!(c.status, Status::Fail);
        assert!(c.message.contains("191 characters"), "{}", c.message);
        // MySQL 5.6: large prefixes are opt-in.
        let mut old = mysql84();
        if let Probe::Ok { value, .. } = &mut old.common.settings {
            value.remove("innodb_default_row_format");
        }
        set(&mut old, "innodb_large_prefix", "OFF");
        set(&mut old, "innodb_file_format", "Antelope");
        assert_eq!(finding(&old, "mysql.index-key-length").status, Status::Fail);
        set(&mut old, "innodb_large_prefix", "ON");
        set(&mut old, "innodb_file_format", "Barracuda");
        assert_eq!(finding(&old, "mysql.index-key-length").status, Status::Pass);
    }

    #[test]
    fn small_packets_and_dirty_reads() {
        let mut f = mysql84();
        set(&mut f, "max_allowed_packet", "1048576");
        assert_eq!(finding(&f, "mysql.max-allowed-packet").status, Status::Fail);
        set(&mut f, "max_allowed_packet", "4194304");
        assert_eq!(finding(&f, "mysql.max-allowed-packet").status, Status::Warn);
        set(&mut f, "transaction_isolation", "READ-UNCOMMITTED");
        assert_eq!(
            finding(&f, "mysql.transaction-isolation").status,
            Status::Fail
        );
        set(&mut f, "lower_case_table_names", "2");
        assert_eq!(
            finding(&f, "mysql.lower-case-table-names").status,
            Status::Warn
        );
    }

    #[test]
    fn read_only_server_fails_writability() {
        let mut f = mysql84();
        set(&mut f, "super_read_only", "ON");
        set(&mut f, "read_only", "ON");
        let vars = f.common.settings.value().cloned().unwrap_or_default();
        f.common.read_only = Probe::ok(read_only(&vars), 1);
        let c = finding(&f, "mysql.writability");
        assert_eq!(c.status, Status::Fail);
        assert!(c.observed.unwrap().contains("super_read_only = ON"));
        assert!(c.remedy.unwrap().contains("SET GLOBAL read_only = OFF"));
    }

    #[test]
    fn select_only_account_gets_the_exact_grant() {
        let mut f = mysql84();
        f.grants = Probe::ok(
            parse_grants(&[
                "GRANT USAGE ON *.* TO `app`@`%` IDENTIFIED BY PASSWORD '*SECRETHASH'".into(),
                "GRANT SELECT ON `app`.* TO `app`@`%`".into(),
            ]),
            1,
        );
        assert!(!format!("{:?}", f.grants).contains("SECRETHASH"));
        let c = finding(&f, "mysql.table-privileges");
        assert_eq!(c.status, Status::Fail);
        assert_eq!(
            c.remedy.as_deref(),
            Some("GRANT INSERT, UPDATE, DELETE ON `app`.* TO 'app'@'%';")
        );
        let c = finding(&f, "mysql.create-table");
        assert_eq!(
            c.remedy.as_deref(),
            Some("GRANT CREATE, ALTER, DROP, INDEX, REFERENCES ON `app`.* TO 'app'@'%';")
        );
        let c = finding(&f, "mysql.temp-tables");
        assert_eq!(
            c.remedy.as_deref(),
            Some("GRANT CREATE TEMPORARY TABLES ON `app`.* TO 'app'@'%';")
        );
        let c = finding(&f, "mysql.writability");
        assert_eq!(c.status, Status::Fail);
        assert_eq!(
            c.remedy.as_deref(),
            Some("GRANT INSERT, UPDATE, DELETE ON `app`.* TO 'app'@'%';")
        );
    }

    #[test]
    fn mysql_8_root_lists_static_and_dynamic_privileges() {
        // MySQL 8 prints every static privilege instead of ALL, then the dynamic ones.
        let g = parse_grants(&[
            "GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, RELOAD, SHUTDOWN, PROCESS, FILE, REFERENCES, INDEX, ALTER, SHOW DATABASES, SUPER, CREATE TEMPORARY TABLES, LOCK TABLES, EXECUTE, REPLICATION SLAVE, REPLICATION CLIENT, CREATE VIEW, SHOW VIEW, CREATE ROUTINE, ALTER ROUTINE, CREATE USER, EVENT, TRIGGER, CREATE TABLESPACE, CREATE ROLE, DROP ROLE ON *.* TO `root`@`localhost` WITH GRANT OPTION".into(),
            "GRANT APPLICATION_PASSWORD_ADMIN,AUDIT_ABORT_EXEMPT,BACKUP_ADMIN,SYSTEM_VARIABLES_ADMIN ON *.* TO `root`@`localhost` WITH GRANT OPTION".into(),
            "GRANT PROXY ON ``@`` TO `root`@`localhost` WITH GRANT OPTION".into(),
        ]);
        assert_eq!(g.grants.len(), 3);
        assert!(g.grants[1].privileges.contains(&"BACKUP_ADMIN".to_string()));
        assert!(g.roles.is_empty());
        let held = held_on(&g, "app");
        for p in ["SELECT", "CREATE TEMPORARY TABLES", "REFERENCES", "ALTER"] {
            assert!(held.contains(p), "{p}");
        }
        let mut f = mysql84();
        f.grants = Probe::ok(g, 1);
        assert_eq!(finding(&f, "mysql.superuser").status, Status::Warn);
        assert_eq!(finding(&f, "mysql.table-privileges").status, Status::Pass);
    }

    #[test]
    fn grants_on_patterns_columns_and_roles() {
        let g = parse_grants(&[
            "GRANT SELECT, INSERT, UPDATE, DELETE ON `app\\_%`.* TO `app`@`%`".into(),
            "GRANT SELECT (`id`, `name`), UPDATE (`name`) ON `other`.`t` TO `app`@`%`".into(),
            "GRANT `reporting`@`%` TO `app`@`%`".into(),
        ]);
        assert_eq!(g.roles, vec!["`reporting`@`%`"]);
        assert_eq!(g.grants[1].privileges.len(), 2);
        assert!(held_on(&g, "app_prod").contains("DELETE"));
        assert!(!held_on(&g, "appXprod").contains("DELETE"));
        assert!(!held_on(&g, "other").contains("SELECT"));
    }

    #[test]
    fn matrix_can_require_a_binlog_format() {
        let m = Matrix::parse(
            "schema_version = 1\n[mysql]\nversions = \">=8.0\"\n[mysql.settings]\nbinlog_format = { equals = \"ROW\" }\n",
            "test",
        )
        .unwrap();
        let f = mysql84();
        let ok = report(&f, &m);
        assert!(
            ok.checks
                .iter()
                .any(|c| c.id == "mysql.binlog" && c.status == Status::Pass)
        );
        let mut f = mysql84();
        set(&mut f, "binlog_format", "STATEMENT");
        let r = report(&f, &m);
        let c = r.checks.iter().find(|c| c.id == "mysql.binlog").unwrap();
        assert_eq!(c.status, Status::Fail);
        assert!(
            c.remedy
                .as_deref()
                .unwrap()
                .starts_with("SET GLOBAL binlog_format = 'ROW';")
        );
    }

    #[test]
    fn capabilities_by_flavor() {
        let f = mysql84();
        let caps = &f.common.capabilities;
        assert!(caps["json"].supported && caps["json"].basis.contains("native"));
        assert!(caps["check-constraints"].supported);
        assert!(!caps["transactional-ddl"].supported);
        assert!(!caps["varchar-without-length"].supported);
        assert!(!caps["returning"].supported);
        let maria = identify(Engine::Mysql, "10.11.6-MariaDB", &[]).unwrap();
        let caps = capabilities(&maria, Some("utf8mb4"));
        assert!(caps["returning"].supported && caps["sequences"].supported);
        assert!(caps["json"].supported && caps["json"].basis.contains("alias"));
        let old = identify(Engine::Mysql, "8.0.15", &[]).unwrap(); // before enforced CHECK
        assert!(!capabilities(&old, None)["check-constraints"].supported);
    }

    #[test]
    fn mariadb_facts_use_the_mariadb_table_and_tx_isolation() {
        let mut f = mysql84();
        let id = identify(
            Engine::Mysql,
            "5.5.5-10.11.6-MariaDB-0+deb12u1",
            &[("version_comment", "Debian 12")],
        )
        .unwrap();
        f.common.capabilities = capabilities(&id, Some("utf8mb4"));
        f.common.identity = Probe::ok(id, 1);
        if let Probe::Ok { value, .. } = &mut f.common.settings {
            value.remove("transaction_isolation");
            value.remove("super_read_only");
            value.insert("tx_isolation".into(), "READ-UNCOMMITTED".into());
        }
        let c = finding(&f, "mysql.transaction-isolation");
        assert_eq!(c.status, Status::Fail);
        assert!(c.observed.unwrap().contains("READ-UNCOMMITTED"));
        let v = finding(&f, "mysql.version");
        assert_eq!(v.status, Status::Pass);
        assert!(
            v.expected.unwrap().contains(">=10.6"),
            "the [mariadb] table applies"
        );
        assert_eq!(finding(&f, "mysql.eol").status, Status::Pass);
        // MariaDB's own remedies: its tzinfo tool, its collation.
        f.time_zone_tables = Probe::ok(false, 1);
        let tz = finding(&f, "mysql.time-zone-tables");
        assert_eq!(tz.status, Status::Warn);
        assert!(tz.remedy.unwrap().contains("mariadb-tzinfo-to-sql"));
    }

    #[test]
    fn end_of_life_data_by_flavor() {
        for f in [
            "mysql",
            "percona-server",
            "percona-xtradb-cluster",
            "aurora-mysql",
            "azure-mysql",
        ] {
            assert_eq!(MysqlFacts::eol_flavor(f), Some("mysql"), "{f}");
        }
        assert_eq!(MysqlFacts::eol_flavor("mariadb"), Some("mariadb"));
        for f in ["tidb", "vitess", "singlestore"] {
            assert_eq!(MysqlFacts::eol_flavor(f), None, "{f}");
        }
    }

    #[test]
    fn tls_and_cert_expiry_from_session_status() {
        let ssl: BTreeMap<String, String> = [
            ("ssl_version", "TLSv1.2"),
            ("ssl_cipher", "ECDHE-RSA-AES128-GCM-SHA256"),
            ("ssl_server_not_after", "Jan  2 00:00:00 2027 GMT"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let now = 1_798_761_600.0; // 2027-01-01T00:00:00Z
        let t = tls_facts(&ssl, "verify_identity", now);
        assert!(t.in_use);
        assert_eq!(t.cert_expires_in_days, Some(1));
        assert_eq!(t.trust, crate::checks::TrustMode::Verified);
        let none = tls_facts(&BTreeMap::new(), "preferred", now);
        assert!(!none.in_use);
    }

    #[test]
    fn facts_round_trip_through_json_and_replay() {
        let f = mysql84();
        let json = serde_json::to_string(&f).unwrap();
        let back: MysqlFacts = serde_json::from_str(&json).unwrap();
        assert_eq!(back, f);
        // Replay (evaluation of saved facts) gives the same findings as the first run.
        let m = Matrix::builtin();
        assert_eq!(report(&back, &m).checks, report(&f, &m).checks);
        assert!(!report(&f, &m).checks.is_empty());
    }

    #[test]
    fn failed_connection_names_the_remedy() {
        let mut f = MysqlFacts::default();
        f.common.target.user = Some("app".into());
        f.common.target.database = Some("nope".into());
        f.common.connection.failure = Some(crate::net::ConnectFailure {
            kind: FailureKind::DatabaseMissing,
            message: "Unknown database 'nope'".into(),
        });
        let c = finding(&f, "mysql.connection");
        assert_eq!(c.status, Status::Fail);
        assert!(c.remedy.unwrap().contains("CREATE DATABASE `nope`"));
    }
}
