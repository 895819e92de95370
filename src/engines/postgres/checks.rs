//! The PostgreSQL registry: every check, in report order. Each is a pure function of
//! [`PgFacts`] and the [`Ctx`]; shared logic lives in [`crate::checks`]. The checks of its own
//! live by area in `checks/` (`settings.rs`, `privileges.rs`); this file holds the registry, the
//! engine's [`SharedChecks`] and the helpers the areas share.

use super::facts::PgFacts;
use crate::checks::{self as common, wanted_value};
use crate::checks::{Place, SharedChecks, Words};
use crate::engine::Engine;
use crate::matrix::SettingRule;
use crate::net::FailureKind;
use crate::probe::Unavailable;
use crate::registry::{Category, Check, Ctx, Outcome, Verdict};
use crate::report::TargetInfo;
use std::sync::LazyLock;

mod privileges;
mod settings;
use privileges::*;
use settings::*;

/// The keys of the `[postgres]` matrix table read by this engine's own checks (beyond the shared
/// ones); a key another engine reads is an error there.
pub const MATRIX_KEYS: &[&str] = &["encodings", "collations", "extensions"];

/// Quotes an identifier for a statement we print (bare when it is a plain lowercase name).
pub use crate::quote::pg_ident as ident;

/// The statement that sets `name` to `value` at the level it is set at now: ALTER SYSTEM
/// does not override a value given by ALTER ROLE or ALTER DATABASE, so the fix must go there.
fn set_at_level(f: &PgFacts, name: &str, value: &str) -> String {
    let (user, db) = who(f);
    match f
        .setting_levels
        .get(&name.to_ascii_lowercase())
        .or_else(|| f.setting_levels.get(name))
        .map(String::as_str)
    {
        Some("role in database") => {
            format!(
                "ALTER ROLE {user} IN DATABASE {db} SET {name} = '{value}'; (new sessions get it)"
            )
        }
        Some("role") => format!("ALTER ROLE {user} SET {name} = '{value}'; (new sessions get it)"),
        Some("database") => {
            format!("ALTER DATABASE {db} SET {name} = '{value}'; (new sessions get it)")
        }
        Some("all roles") => {
            format!("ALTER ROLE ALL SET {name} = '{value}'; (new sessions get it)")
        }
        _ => format!(
            "ALTER SYSTEM SET {name} = '{value}'; then SELECT pg_reload_conf(); (or restart, for settings that take effect at server start; on a managed service change the parameter group)."
        ),
    }
}

/// The user and database the remedies name, quoted.
fn who(f: &PgFacts) -> (String, String) {
    let s = f.session.value();
    let (user, db) = common::who(
        &f.common,
        s.map(|s| s.user.clone()),
        s.map(|s| s.database.clone()),
    );
    (ident(&user), ident(&db))
}

impl SharedChecks for PgFacts {
    const ENGINE: Engine = Engine::Postgres;
    const TLS_SECURE_OPTION: &'static str = "sslmode=verify-full&sslrootcert=/path/to/ca.pem";
    const RAISE_CONNECTIONS: &'static str = "Raise max_connections (ALTER SYSTEM SET max_connections = ...; restart), lift the database or role CONNECTION LIMIT, or put PgBouncer in front.";
    const HIDDEN_SETTING_HINT: &'static str = "needs pg_read_all_settings; TimeZone, DateStyle, client_encoding and extra_float_digits as other clients get them, which our driver sets for its own session, need a superuser unless ALTER ROLE/DATABASE ... SET sets them";

    fn common(&self) -> &common::CommonFacts {
        &self.common
    }
    fn connection_remedy(kind: FailureKind, t: &TargetInfo) -> String {
        let host = t.host.as_deref().unwrap_or("the host");
        let port = t.port.unwrap_or(5432);
        let user = t.user.as_deref().unwrap_or("the user");
        let db = t.database.as_deref().unwrap_or("the database");
        match kind {
            FailureKind::Dns => format!(
                "Check the host name `{host}`: it must resolve from this machine (try `getent hosts {host}`)."
            ),
            FailureKind::Refused => format!(
                "Nothing accepts connections on {host}:{port}. Check the host and port, that PostgreSQL runs and listens on this address (listen_addresses in postgresql.conf), and that no firewall or security group rejects this machine."
            ),
            FailureKind::Timeout => format!(
                "{host}:{port} did not answer in time: a firewall or security group is probably dropping the traffic. Allow TCP {port} from this machine, or raise --connect-timeout for a slow link."
            ),
            FailureKind::Tls => format!(
                "The certificate could not be verified. Either give this machine the CA that signed it — sslmode=verify-full&sslrootcert=/path/to/ca.pem (connect with a host name the certificate lists) — which is the safe choice; or, knowing that a man in the middle would go unnoticed, encrypt without verifying with sslmode=require. If {host} has no TLS at all, enable it (ssl = on) or use sslmode=prefer."
            ),
            FailureKind::Authentication => format!(
                "The server refused the login of `{user}`. Check that the role exists (CREATE ROLE {} LOGIN PASSWORD '...';), the password (PGPASSWORD or --password-stdin), and that pg_hba.conf allows `{user}` from this address with a password method (scram-sha-256).",
                ident(user)
            ),
            FailureKind::DatabaseMissing => format!(
                "Database `{db}` does not exist. Create it: CREATE DATABASE {} OWNER {} ENCODING 'UTF8' TEMPLATE template0; or fix the name in the URL.",
                ident(db),
                ident(user)
            ),
            FailureKind::Permission => format!(
                "`{user}` may not connect to `{db}` from this address. Run: GRANT CONNECT ON DATABASE {} TO {}; and check pg_hba.conf has a line for this user, database and address.",
                ident(db),
                ident(user)
            ),
            FailureKind::ServerError => {
                "The server reported an error during login: read its message and the server log."
                    .into()
            }
            FailureKind::Config => "Fix the connection options named in the message.".into(),
        }
    }
    fn eol_flavor(flavor: &str) -> Option<&'static str> {
        // Managed services and extensions follow the community release lines.
        match flavor {
            "postgresql"
            | "aurora-postgresql"
            | "rds-postgresql"
            | "azure-postgresql"
            | "cloudsql-postgresql"
            | "alloydb"
            | "citus"
            | "timescaledb"
            | "edb-epas" => Some("postgresql"),
            _ => None,
        }
    }
    fn setting_remedy(&self, name: &str, rule: &SettingRule) -> String {
        set_at_level(self, name, &wanted_value(rule))
    }
    fn time_zone_remedy(&self) -> String {
        // A role's own setting beats the database's: change it where it is set.
        if let Some("role in database" | "role") =
            self.setting_levels.get("timezone").map(String::as_str)
        {
            return set_at_level(self, "timezone", "{zone}");
        }
        let (_, db) = who(self);
        format!("ALTER DATABASE {db} SET timezone = '{{zone}}'; (or timezone in postgresql.conf)")
    }
    fn writability_remedy(&self) -> String {
        let (user, db) = who(self);
        if self
            .setting_levels
            .contains_key("default_transaction_read_only")
        {
            format!(
                "Connect to the primary, not a replica; and turn the read-only default off where it is set: {}",
                set_at_level(self, "default_transaction_read_only", "off")
            )
        } else {
            format!(
                "Connect to the primary, not a replica; and if a default makes sessions read-only: ALTER ROLE {user} SET default_transaction_read_only = off; ALTER DATABASE {db} SET default_transaction_read_only = off;"
            )
        }
    }
    fn words() -> &'static [Words<Self>] {
        WORDS
    }
}

/// This engine's wording of the shared checks (`crate::checks::shared`).
static WORDS: &[Words<PgFacts>] = &[
    Words::new(
        "connection",
        "Resolves the host, opens TCP, then logs in through the driver (TLS per sslmode). A failure is classified as dns, refused, timeout, tls, authentication, database-missing or permission, with the fix for that step. Every other check needs this one.",
        "DNS lookup; TCP connect; PostgreSQL startup and authentication",
    ),
    Words::new(
        "tls",
        "Judges our own connection: what the server (or the pooler we reach) offered in our own TLS handshake, and what the driver does with the sslmode; pg_stat_ssl, which describes the server's client (the pooler, when one is in front), is extra information only. How the client trusted the certificate comes from sslmode. Unencrypted warns (fails with [app] require_tls); a certificate trusted without verification (sslmode=require/prefer) warns, because a man in the middle would go unnoticed. Fix: connect with sslmode=verify-full and sslrootcert.",
        "our own TLS handshake (SSLRequest); SELECT ssl, version, cipher, bits FROM pg_stat_ssl WHERE pid = pg_backend_pid() (the server's leg)",
    ),
    Words::new(
        "version",
        "Compares the version (from server_version_num, exact even on forks that rewrite version()) with the matrix's versions (outside fails), recommended (outside warns) and tested_up_to (newer warns 'not yet tested').",
        "SELECT version(), current_setting('server_version_num')",
    ),
    Words::new(
        "eol",
        "Looks the major version up in the shipped end-of-life data (checks/eol.json; its date is in the report). Past the date fails: no more security fixes. Within [app] eol_warn_days warns. Managed services and PostgreSQL extensions follow the community dates.",
        "(no query: uses the version)",
    )
    .title("Major version still supported by its vendor"),
    Words::new(
        "flavor",
        "Names the product: PostgreSQL, Aurora (aurora_version()), RDS/Azure/Cloud SQL/AlloyDB (their setting prefixes), Citus and TimescaleDB (their extensions), YugabyteDB, CockroachDB, Redshift and EDB (their version strings). A flavor outside the matrix's list fails.",
        "version(); pg_settings names; pg_available_extensions; aurora_version() when present",
    )
    .title("Flavor accepted (managed service or compatible engine)"),
    Words::new(
        "max-connections",
        "max_connections minus superuser_reserved_connections (and reserved_connections), against the connections in use and our [app] pool_size; the database's and role's own connection limits count too. Fewer usable slots than the pool fails; fewer free right now warns.",
        "pg_settings max_connections, superuser_reserved_connections, reserved_connections; SELECT count(*) FROM pg_stat_activity; datconnlimit; rolconnlimit",
    ),
    Words::new(
        "settings",
        "Every [postgres.settings] rule (min, max, equals, one_of, contains, excludes) against pg_settings. A setting the user cannot see is an error naming the privilege (pg_read_all_settings).",
        "SELECT name, setting FROM pg_settings",
    ),
    Words::new(
        "time-zone",
        "The TimeZone the server gives new connections, against [app] time_zone when set: timestamps without time zone shift when it differs. Our own driver sets its session's (UTC), so it is read where it is set: ALTER ROLE/DATABASE ... SET (pg_db_role_setting), else postgresql.conf and ALTER SYSTEM (pg_file_settings: superusers only, and only when [app] time_zone is set, since it makes the server parse its files), else as the server's log_timezone, which initdb and the managed services set alike; the observed value says which.",
        "pg_db_role_setting; SELECT setting FROM pg_file_settings WHERE name = 'timezone' (superusers); pg_settings log_timezone",
    ),
    Words::new(
        "writability",
        "A standby (pg_is_in_recovery()) or a default_transaction_read_only set for the server, database or role makes every write fail. Fails when [app] needs_write is true.",
        "SELECT pg_is_in_recovery(), current_setting('default_transaction_read_only') (the server's, database's or role's default: this tool never sets it)",
    ),
    Words::new(
        "capabilities",
        "Derived from version and flavor: json (jsonb), cte, window-functions, check-constraints, transactional-ddl, drop-cascade, returning, upsert (ON CONFLICT), sequences, varchar-without-length, utf8, merge. The matrix's capabilities list must all be present.",
        "(derived from the version, flavor and database encoding)",
    ),
    Words::new(
        "write-probe",
        "Only with --probe-write: inside BEGIN READ WRITE, creates a uniquely named table, adds a VARCHAR without length, a jsonb column and a CHECK constraint, inserts with RETURNING and ON CONFLICT, creates a sequence and a view, drops the table with CASCADE, then rolls back and looks for leftovers. Each step confirms or refutes a capability for real; a leftover fails with the DROP to run.",
        "BEGIN READ WRITE; CREATE TABLE byod_precheck_probe_...; ...; ROLLBACK; SELECT relname FROM pg_class WHERE relname LIKE 'byod_precheck_probe_...%'",
    ),
    Words::new(
        "workload",
        "Only with --probe-write and a matrix that names [app.workload] dir: runs the product's SQL files (DIR/postgres/*.sql, in file-name order) inside one transaction (BEGIN READ WRITE, SET LOCAL statement_timeout), each statement in a savepoint, then ROLLBACK. Statements that would leave that area (COMMIT, USE, CREATE DATABASE, ALTER SYSTEM, GRANT, ...) are refused before anything is sent. Fails naming each failing statement's file:line, the server's own error and code, and the portable rewrite where one is known; statements that failed only because an earlier one did are named as consequences. Skipped without the privilege it needs (with the GRANT), on read-only targets and replicas.",
        "SELECT current_schema(), has_schema_privilege(current_schema(), 'CREATE'), pg_is_in_recovery(); BEGIN READ WRITE; (each statement in a SAVEPOINT); ROLLBACK; SELECT relname FROM pg_class (before and after)",
    ),
    Words::new(
        "database-size",
        "pg_database_size of the target database, for capacity planning.",
        "SELECT pg_database_size(oid) FROM pg_database WHERE datname = current_database()",
    ),
    Words::new(
        "clock-skew",
        "clock_timestamp() on the server against this machine's clock at the middle of the round trip. More than [app] max_clock_skew_seconds warns: tokens, caches and audit times go wrong.",
        "SELECT extract(epoch from clock_timestamp())",
    ),
    Words::new(
        "uptime",
        "now() - pg_postmaster_start_time(). Under ten minutes warns: the server may be restarting in a loop.",
        "SELECT now() - pg_postmaster_start_time()",
    ),
    Words::new(
        "migrations",
        "Finds the history tables of the migration tools byod-precheck knows (Alembic, Django, Flyway, Liquibase, Rails, sqlx, EF Core, Diesel, refinery, SeaORM, goose, golang-migrate, dbmate, Ecto, knex, Sequelize, TypeORM, MikroORM, node-pg-migrate, Drizzle, Kysely, Prisma, Doctrine, Laravel, Phinx, yoyo), told apart by table name and columns, and reads each one's latest version (Django: per app). A history table our user may not read (no USAGE on its schema, no SELECT on its columns, as the catalog says) is not read into a permission error: the check errors with the exact GRANT. User tables with no known history warn as an unknown history. With [app.migrations], a missing history warns and another version fails.",
        "SELECT nspname, relname, has_schema_privilege(..., 'USAGE'), has_column_privilege(..., 'SELECT') FROM pg_class ... WHERE relname IN (...); then the latest row of each table our user may read",
    ),
];

/// The postgres checks of its own, each group after the shared check it follows in the report.
pub static OWN: &[Place<PgFacts>] = &[
    Place {
        after: "flavor",
        checks: &[
            Check {
                id: "postgres.encoding",
                category: Category::Encoding,
                title: "Database encoding is UTF8",
                doc: "The database's encoding must be one the matrix accepts (UTF8 by default). SQL_ASCII accepts any bytes unchecked; LATIN1 and other single-byte encodings refuse most of Unicode. The encoding cannot be changed in place: the fix is a new database with ENCODING 'UTF8' and a dump/restore.",
                asks: "SELECT pg_encoding_to_char(encoding), datcollate, datctype FROM pg_database WHERE datname = current_database()",
                run: encoding,
            },
            Check {
                id: "postgres.collation",
                category: Category::Encoding,
                title: "Database collation",
                doc: "Reports LC_COLLATE and LC_CTYPE; when the matrix lists collations, another one fails (sort order and unique indexes on text depend on it).",
                asks: "SELECT datcollate, datctype FROM pg_database WHERE datname = current_database()",
                run: collation,
            },
            Check {
                id: "postgres.standard-conforming-strings",
                category: Category::Settings,
                title: "standard_conforming_strings is on",
                doc: "With it off, backslashes in string literals are escapes, which drivers and ORMs do not expect: data is silently changed.",
                asks: "SELECT setting FROM pg_settings WHERE name = 'standard_conforming_strings'",
                run: standard_strings,
            },
            Check {
                id: "postgres.statement-timeout",
                category: Category::Settings,
                title: "No default time limit that cancels migrations",
                doc: "A statement_timeout or lock_timeout under a minute set for the server, database or role cancels long migrations and reports. Read as a new session gets them (pg_settings.reset_val, through its unit: 5s is 5000 ms), not as this tool's own transaction-scoped limits; the fix goes where the value is set (ALTER ROLE/DATABASE ... SET, else ALTER SYSTEM).",
                asks: "SELECT name, reset_val, unit, source FROM pg_settings; pg_db_role_setting for our role and database",
                run: statement_timeout,
            },
        ],
    },
    Place {
        after: "max-connections",
        checks: &[
            Check {
                id: "postgres.pooler",
                category: Category::Connection,
                title: "Connection pooler in front, and its mode",
                doc: "Tells whether a pooler or proxy sits between us and the server, which (pgpool-II answers SHOW pool_version; PgBouncer is asked on its admin console when the server session is older than our connection, listens on another port, or changes between our transactions) and its pool mode. In transaction or statement pooling the next transaction may run in another server session: session state, named prepared statements, session advisory locks and LISTEN do not carry over (statement pooling also refuses multi-statement transactions: fails; transaction pooling warns, fails when [app] allow_transaction_pooling = false). A pooler admitting fewer clients than [app] pool_size fails.",
                asks: "pg_backend_pid(), inet_server_port(), inet_server_addr(), current_setting('port') and backend_start in two transactions; SHOW pool_version (alone, only when the server session was reached at another port or address, over the local socket, is older than our connection or changed between our transactions); PgBouncer's SHOW VERSION and SHOW CONFIG (only when a pooler is suspected); pgpool-II's SHOW pool_status",
                run: pooler,
            },
            Check {
                id: "postgres.idle-timeout",
                category: Category::Settings,
                title: "Idle connections are not ended before our pool recycles them",
                doc: "The shortest limit on an idle connection of ours against [app] pool_recycle_seconds: the server's idle_session_timeout (PostgreSQL 14+, as a new session gets it) and, behind a pooler whose settings can be read, PgBouncer's client_idle_timeout or pgpool-II's client_idle_limit. One shorter than our pool keeps connections warns, because the pool's next use of such a connection fails (\"terminating connection due to idle-session timeout\", \"server closed the connection unexpectedly\"). The fix goes where the value is set (ALTER ROLE/DATABASE ... SET, else ALTER SYSTEM; the pooler's file), or the pool recycles sooner.",
                asks: "SELECT name, reset_val, unit FROM pg_settings (idle_session_timeout); pg_db_role_setting for our role and database; PgBouncer's SHOW CONFIG or pgpool-II's SHOW pool_status when a pooler is in front (postgres.pooler)",
                run: idle_timeout,
            },
        ],
    },
    Place {
        after: "time-zone",
        checks: &[
            Check {
                id: "postgres.superuser",
                category: Category::Security,
                title: "Not connecting as a superuser",
                doc: "A superuser bypasses every permission check: a bug or a leaked password could drop anything on the server. Use a dedicated role with only what the product needs.",
                asks: "SELECT rolsuper FROM pg_roles WHERE rolname = current_user",
                run: superuser,
            },
            Check {
                id: "postgres.database-connect",
                category: Category::Privileges,
                title: "CONNECT on the database",
                doc: "has_database_privilege(current_database(), 'CONNECT'). Without it new connections are refused. Fix: GRANT CONNECT ON DATABASE db TO user;",
                asks: "SELECT has_database_privilege(current_database(), 'CONNECT')",
                run: database_connect,
            },
            Check {
                id: "postgres.schema-usage",
                category: Category::Privileges,
                title: "USAGE on the schema",
                doc: "The target schema ([app] schema, else the user's current schema, else public) must exist and be usable. Fix: GRANT USAGE ON SCHEMA s TO user; or CREATE SCHEMA s AUTHORIZATION user;",
                asks: "SELECT has_schema_privilege(schema, 'USAGE')",
                run: schema_usage,
            },
            Check {
                id: "postgres.create-table",
                category: Category::Privileges,
                title: "May create, alter and drop tables and indexes",
                doc: "CREATE on the target schema lets the user create tables, indexes and foreign keys (REFERENCES on its own tables) and alter or drop what it owns. PostgreSQL 15 stopped granting CREATE on public to everyone. Fix: GRANT CREATE ON SCHEMA s TO user;",
                asks: "SELECT has_schema_privilege(schema, 'CREATE')",
                run: create_table,
            },
            Check {
                id: "postgres.temp-tables",
                category: Category::Privileges,
                title: "May create temporary tables",
                doc: "TEMPORARY on the database. Fix: GRANT TEMPORARY ON DATABASE db TO user;",
                asks: "SELECT has_database_privilege(current_database(), 'TEMP')",
                run: temp_tables,
            },
            Check {
                id: "postgres.table-privileges",
                category: Category::Privileges,
                title: "Full access to existing tables and sequences",
                doc: "Every existing table of the schema must grant SELECT, INSERT, UPDATE, DELETE and REFERENCES, and every sequence USAGE, to the user (tables made by another role are a common trap). The fix grants on all of them at once.",
                asks: "has_table_privilege / has_sequence_privilege over pg_class in the schema",
                run: table_privileges,
            },
        ],
    },
    Place {
        after: "writability",
        checks: &[Check {
            id: "postgres.extensions",
            category: Category::Extensions,
            title: "Required extensions installed or creatable",
            doc: "Each extension the matrix requires must be installed in the database, or available on the server and creatable by this user (a trusted extension and CREATE on the database, or a superuser). Otherwise the fix names the package or the CREATE EXTENSION to run as a superuser.",
            asks: "SELECT name, default_version, installed_version, superuser, trusted FROM pg_available_extensions JOIN pg_available_extension_versions",
            run: extensions,
        }],
    },
    Place {
        after: "uptime",
        checks: &[Check {
            id: "postgres.platform",
            category: Category::Resources,
            title: "Server platform",
            doc: "The platform the server was built for, from version().",
            asks: "SELECT version()",
            run: |f, _| common::server_platform(&f.common),
        }],
    },
];

/// The postgres checks, in report order: the shared ones and its own.
pub static CHECKS: LazyLock<Vec<Check<PgFacts>>> = LazyLock::new(|| common::registry(OWN));

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::checks::{
        Capability, ClockFacts, CommonFacts, ConnectionSlots, ReadOnlyFacts, TlsFacts, TrustMode,
    };
    use crate::engines::postgres::facts::{Database, Extension, Privileges, Session};
    use crate::engines::postgres::identify;
    use crate::eol::EolData;
    use crate::identity::Hints;
    use crate::matrix::Matrix;
    use crate::net::ConnectFailure;
    use crate::probe::Probe;
    use crate::registry::{Selection, evaluate};
    use crate::status::Status;
    use std::collections::BTreeMap;

    /// A healthy PostgreSQL 15 as the local server reports it.
    pub(crate) fn healthy() -> PgFacts {
        let version = "PostgreSQL 15.20 (Debian 15.20-0+deb12u1) on x86_64-pc-linux-gnu, compiled by gcc, 64-bit";
        let id = identify::identify(version, &Hints(&[("server_version_num", "150020")])).unwrap();
        let mut caps = BTreeMap::new();
        for c in [
            "json",
            "cte",
            "window-functions",
            "transactional-ddl",
            "upsert",
            "returning",
        ] {
            caps.insert(c.to_string(), Capability::from_version(true, "fixture"));
        }
        PgFacts {
            common: CommonFacts {
                collected_at: "2026-11-24T20:00:00Z".into(),
                target: TargetInfo {
                    engine: crate::Engine::Postgres,
                    host: Some("db.example.com".into()),
                    port: Some(5432),
                    database: Some("app".into()),
                    user: Some("app".into()),
                    ..Default::default()
                },
                version_raw: Probe::ok(version.into(), 1),
                identity: Probe::ok(id, 1),
                tls: Probe::ok(
                    TlsFacts {
                        in_use: true,
                        protocol: Some("TLSv1.3".into()),
                        cipher: Some("TLS_AES_256_GCM_SHA384".into()),
                        bits: Some(256),
                        trust: TrustMode::Verified,
                        cert_expires_in_days: Some(200),
                        client_setting: "sslmode=verify-full".into(),
                        server_leg: None,
                    },
                    1,
                ),
                clock: Probe::ok(
                    ClockFacts {
                        server_epoch: 100.0,
                        local_epoch: 100.2,
                        time_zone_from: None,
                        time_zone: Some("UTC".into()),
                    },
                    1,
                ),
                uptime_seconds: Probe::ok(86_400 * 3, 1),
                read_only: Probe::ok(ReadOnlyFacts::default(), 0),
                settings: Probe::ok(
                    [
                        ("max_connections", "100"),
                        ("standard_conforming_strings", "on"),
                        ("statement_timeout", "0"),
                        ("lock_timeout", "0"),
                    ]
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
                    2,
                ),
                connections: Probe::ok(
                    ConnectionSlots {
                        max: 100,
                        reserved: 3,
                        in_use: 5,
                        user_limit: None,
                    },
                    1,
                ),
                database_size_bytes: Probe::ok(8_000_000, 1),
                capabilities: caps,
                migrations: Probe::ok(vec![], 1),
                ..Default::default()
            },
            session: Probe::ok(
                Session {
                    database: "app".into(),
                    user: "app".into(),
                    superuser: false,
                    role_conn_limit: -1,
                    search_path: "\"$user\", public".into(),
                },
                1,
            ),
            database: Probe::ok(
                Database {
                    encoding: "UTF8".into(),
                    collate: "C.UTF-8".into(),
                    ctype: "C.UTF-8".into(),
                    conn_limit: -1,
                },
                1,
            ),
            privileges: Probe::ok(
                Privileges {
                    schema: "public".into(),
                    schema_exists: true,
                    database_connect: true,
                    database_create: true,
                    database_temp: true,
                    schema_usage: true,
                    schema_create: true,
                    tables: 3,
                    tables_lacking: vec![],
                    sequences_lacking: vec![],
                },
                1,
            ),
            extensions: Probe::ok(
                vec![Extension {
                    name: "pgcrypto".into(),
                    default_version: Some("1.3".into()),
                    installed_version: None,
                    superuser: Some(false),
                    trusted: Some(true),
                }],
                1,
            ),
            extensions_asked: vec!["pgcrypto".into(), "vector".into()],
            pooler: Probe::ok(super::super::facts::Pooler::default(), 1),
            setting_levels: BTreeMap::new(),
        }
    }

    fn run(f: &PgFacts, matrix_text: &str) -> Vec<crate::report::Finding> {
        let m = Matrix::parse(matrix_text, "test").unwrap();
        let eol = EolData::shipped();
        let ctx = Ctx::for_tests(&m, eol, crate::engine::Engine::Postgres);
        evaluate(
            &CHECKS,
            f,
            &ctx,
            &Selection::default(),
            f.common
                .connection
                .failure
                .as_ref()
                .map(|_| "the connection failed"),
        )
    }

    fn builtin(f: &PgFacts) -> Vec<crate::report::Finding> {
        run(f, crate::matrix::BUILTIN_SOURCE)
    }

    fn get<'a>(fs: &'a [crate::report::Finding], id: &str) -> &'a crate::report::Finding {
        fs.iter()
            .find(|f| f.id == id)
            .unwrap_or_else(|| panic!("{id} missing"))
    }

    #[test]
    fn a_poolers_idle_limit_counts_and_an_unreadable_one_is_said() {
        use super::super::facts::Pooler;
        let mut f = healthy();
        let bouncer = |limit: Option<u64>| Pooler {
            in_front: true,
            kind: Some("PgBouncer".into()),
            client_idle_timeout_s: limit,
            ..Pooler::default()
        };
        f.pooler = Probe::ok(bouncer(Some(60)), 1);
        let idle = get(&builtin(&f), "postgres.idle-timeout").clone();
        assert_eq!(idle.status, Status::Warn);
        assert!(
            idle.remedy
                .unwrap()
                .starts_with("client_idle_timeout = 0 in pgbouncer.ini")
        );
        f.pooler = Probe::ok(bouncer(None), 1);
        let idle = get(&builtin(&f), "postgres.idle-timeout").clone();
        assert_eq!(idle.status, Status::Pass);
        assert!(
            idle.observed
                .unwrap()
                .ends_with("PgBouncer's own idle limit unknown (its settings could not be read)")
        );
    }

    #[test]
    fn healthy_server_passes_everything_but_the_eol_warning() {
        let fs = builtin(&healthy());
        assert!(fs.len() >= 20, "{} checks", fs.len());
        // Every check gives a verdict but these: a fixture fact left out would show as a skip.
        let not_pass: Vec<(&str, Status)> = fs
            .iter()
            .filter(|f| f.status != Status::Pass)
            .map(|f| (f.id.as_str(), f.status))
            .collect();
        assert_eq!(
            not_pass,
            [
                ("postgres.eol", Status::Warn),
                ("postgres.extensions", Status::Skip), // the matrix requires none
                ("postgres.write-probe", Status::Skip), // not asked
                ("postgres.workload", Status::Skip),   // not asked
            ],
            "{fs:#?}"
        );
        assert_eq!(
            get(&fs, "postgres.eol").status,
            Status::Warn,
            "15 ends 2027-11-11, within a year"
        );
    }

    #[test]
    fn connect_only_user_gets_the_exact_grants() {
        let mut f = healthy();
        if let Probe::Ok { value, .. } = &mut f.privileges {
            value.schema_create = false;
            value.database_temp = false;
            value.tables_lacking = vec!["orders".into()];
        }
        let fs = builtin(&f);
        let c = get(&fs, "postgres.create-table");
        assert_eq!(c.status, Status::Fail);
        assert!(
            c.remedy
                .as_deref()
                .unwrap()
                .starts_with("GRANT CREATE ON SCHEMA public TO app;")
        );
        assert_eq!(
            get(&fs, "postgres.temp-tables").remedy.as_deref(),
            Some("GRANT TEMPORARY ON DATABASE app TO app;")
        );
        let t = get(&fs, "postgres.table-privileges");
        assert_eq!(t.status, Status::Fail);
        assert_eq!(
            t.remedy.as_deref(),
            Some(
                "GRANT SELECT, INSERT, UPDATE, DELETE, REFERENCES ON ALL TABLES IN SCHEMA public TO app;"
            )
        );
    }

    #[test]
    fn identifiers_needing_quotes_are_quoted_in_remedies() {
        assert_eq!(ident("app"), "app");
        assert_eq!(ident("My App"), "\"My App\"");
        assert_eq!(ident("we\"ird"), "\"we\"\"ird\"");
    }

    #[test]
    fn sql_ascii_and_latin1_fail_encoding() {
        for enc in ["SQL_ASCII", "LATIN1"] {
            let mut f = healthy();
            if let Probe::Ok { value, .. } = &mut f.database {
                value.encoding = enc.into();
            }
            let e = get(&builtin(&f), "postgres.encoding").clone();
            assert_eq!(e.status, Status::Fail, "{enc}");
            assert!(e.remedy.unwrap().contains("ENCODING 'UTF8'"));
        }
    }

    #[test]
    fn replica_fails_writability_only_when_we_write() {
        let mut f = healthy();
        f.common.read_only = Probe::ok(
            ReadOnlyFacts {
                read_only: true,
                reasons: vec!["pg_is_in_recovery() = true".into()],
            },
            0,
        );
        assert_eq!(
            get(&builtin(&f), "postgres.writability").status,
            Status::Fail
        );
        let fs = run(&f, "schema_version = 1\n[app]\nneeds_write = false\n");
        assert_eq!(get(&fs, "postgres.writability").status, Status::Pass);
        assert_eq!(get(&fs, "postgres.create-table").status, Status::Skip);
    }

    #[test]
    fn extensions_installed_creatable_or_missing() {
        let f = healthy();
        let fs = run(
            &f,
            "schema_version = 1\n[postgres]\nextensions = [\"pgcrypto\"]\n",
        );
        assert_eq!(
            get(&fs, "postgres.extensions").status,
            Status::Pass,
            "trusted and CREATE on database"
        );
        let fs = run(
            &f,
            "schema_version = 1\n[postgres]\nextensions = [\"vector\"]\n",
        );
        let e = get(&fs, "postgres.extensions");
        assert_eq!(e.status, Status::Fail);
        assert!(
            e.remedy
                .as_deref()
                .unwrap()
                .contains("CREATE EXTENSION vector;")
        );
    }

    #[test]
    fn the_time_zone_remedy_names_the_database_quoted() {
        let mut f = healthy();
        if let Probe::Ok { value, .. } = &mut f.session {
            value.database = "Billing App".into();
        }
        let fs = run(
            &f,
            "schema_version = 1\n[app]\ntime_zone = \"Europe/Paris\"\n",
        );
        let t = get(&fs, "postgres.time-zone");
        assert_eq!(t.status, Status::Warn, "{t:?}");
        assert_eq!(
            t.remedy.as_deref(),
            Some(
                "ALTER DATABASE \"Billing App\" SET timezone = 'Europe/Paris'; (or timezone in postgresql.conf)"
            )
        );
    }

    #[test]
    fn an_extension_whose_availability_was_not_asked_is_not_collected_not_missing() {
        let mut f = healthy();
        f.extensions_asked.clear();
        let fs = run(
            &f,
            "schema_version = 1\n[postgres]\nextensions = [\"vector\"]\n",
        );
        let e = get(&fs, "postgres.extensions");
        assert_eq!(e.status, Status::Skip, "{e:?}");
        assert!(e.message.contains("not collected"), "{}", e.message);
        assert!(e.message.contains("vector"), "{}", e.message);
    }

    #[test]
    fn version_rules_and_end_of_life() {
        let f = healthy();
        let fs = run(&f, "schema_version = 1\n[postgres]\nversions = \">=16\"\n");
        assert_eq!(get(&fs, "postgres.version").status, Status::Fail);
        let fs = run(
            &f,
            "schema_version = 1\n[postgres]\nversions = \">=13\"\ntested_up_to = \"14\"\n",
        );
        assert!(
            get(&fs, "postgres.version")
                .message
                .contains("not yet tested")
        );

        let mut old = healthy();
        let id = identify::identify(
            "PostgreSQL 12.22 on x86_64-pc-linux-gnu",
            &Hints(&[("server_version_num", "120022")]),
        )
        .unwrap();
        old.common.identity = Probe::ok(id, 1);
        let e = get(&builtin(&old), "postgres.eol").clone();
        assert_eq!(e.status, Status::Fail);
        assert!(e.message.contains("2024-11-21"), "{}", e.message);
        assert_eq!(
            get(&builtin(&old), "postgres.version").status,
            Status::Fail,
            "built-in needs >=13"
        );
    }

    #[test]
    fn unreadable_facts_are_errors_never_passes() {
        let mut f = healthy();
        f.common.settings = Probe::Denied {
            message: "pg_settings: permission denied (needs pg_read_all_settings)".into(),
            ms: 1,
        };
        let fs = builtin(&f);
        let s = get(&fs, "postgres.settings");
        assert_eq!(s.status, Status::Error);
        assert!(s.message.contains("needs pg_read_all_settings"));
        f.common.settings = Probe::TimedOut { ms: 5000 };
        assert_eq!(
            get(&builtin(&f), "postgres.standard-conforming-strings").status,
            Status::Error
        );
    }

    #[test]
    fn failed_connection_fails_one_check_and_skips_the_rest() {
        let mut f = PgFacts::default();
        f.common.target.user = Some("app".into());
        f.common.connection.failure = Some(ConnectFailure {
            kind: FailureKind::Authentication,
            message: "password authentication failed".into(),
        });
        let fs = builtin(&f);
        let c = get(&fs, "postgres.connection");
        assert_eq!(c.status, Status::Fail);
        assert!(c.remedy.as_deref().unwrap().contains("pg_hba.conf"));
        assert!(
            fs.iter()
                .filter(|x| x.id != "postgres.connection")
                .all(|x| x.status == Status::Skip)
        );
    }

    #[test]
    fn tls_trust_modes() {
        let mut f = healthy();
        assert_eq!(get(&builtin(&f), "postgres.tls").status, Status::Pass);
        if let Probe::Ok { value, .. } = &mut f.common.tls {
            value.trust = TrustMode::NotVerified;
            value.client_setting = "sslmode=require".into();
        }
        assert_eq!(get(&builtin(&f), "postgres.tls").status, Status::Warn);
        f.common.tls = Probe::ok(
            TlsFacts {
                in_use: false,
                client_setting: "sslmode=disable".into(),
                ..Default::default()
            },
            0,
        );
        assert_eq!(get(&builtin(&f), "postgres.tls").status, Status::Warn);
        let fs = run(&f, "schema_version = 1\n[app]\nrequire_tls = true\n");
        assert_eq!(get(&fs, "postgres.tls").status, Status::Fail);
    }

    #[test]
    fn tls_does_not_apply_to_a_unix_socket() {
        let mut f = healthy();
        f.common.target.host = None;
        f.common
            .target
            .options
            .insert("host".into(), "/run/postgresql".into());
        f.common.tls = Probe::ok(
            TlsFacts {
                in_use: false,
                client_setting: "sslmode=prefer".into(),
                ..Default::default()
            },
            0,
        );
        let fs = run(&f, "schema_version = 1\n[app]\nrequire_tls = true\n");
        let t = get(&fs, "postgres.tls");
        assert_eq!(t.status, Status::Pass, "{t:?}");
        assert!(
            t.observed
                .as_deref()
                .unwrap_or("")
                .contains("?host=/run/postgresql")
        );
        // The same over TCP is still a failure under require_tls.
        f.common.target.host = Some("db".into());
        assert_eq!(
            get(
                &run(&f, "schema_version = 1\n[app]\nrequire_tls = true\n"),
                "postgres.tls"
            )
            .status,
            Status::Fail
        );
    }

    #[test]
    fn certificate_expiry_comes_from_the_inspected_handshake() {
        // pg_stat_ssl says nothing of the certificate: the inspection does.
        let mut f = healthy();
        f.common.connection.tls = Some(crate::tlsprobe::TlsInspection {
            offered: true,
            protocol: Some("TLSv1.3".into()),
            expires_in_days: Some(10),
            ..Default::default()
        });
        let r = builtin(&f);
        let t = get(&r, "postgres.tls");
        assert_eq!(t.status, Status::Warn, "{t:?}");
        assert!(
            t.observed
                .as_deref()
                .unwrap_or("")
                .contains("expires in 10 days")
        );
        f.common.connection.tls.as_mut().unwrap().expires_in_days = Some(-3);
        let r = builtin(&f);
        let t = get(&r, "postgres.tls");
        assert_eq!(t.status, Status::Fail);
        assert!(t.message.contains("expired 3 days ago"), "{}", t.message);
    }

    #[test]
    fn pool_headroom() {
        let mut f = healthy();
        f.common.connections = Probe::ok(
            ConnectionSlots {
                max: 20,
                reserved: 3,
                in_use: 1,
                user_limit: None,
            },
            1,
        );
        assert_eq!(
            get(&builtin(&f), "postgres.max-connections").status,
            Status::Fail,
            "17 usable < pool 20"
        );
        f.common.connections = Probe::ok(
            ConnectionSlots {
                max: 100,
                reserved: 3,
                in_use: 85,
                user_limit: None,
            },
            1,
        );
        assert_eq!(
            get(&builtin(&f), "postgres.max-connections").status,
            Status::Warn
        );
    }

    #[test]
    fn facts_round_trip_through_json_and_replay_identically() {
        let f = healthy();
        let json = serde_json::to_string(&f).unwrap();
        let back: PgFacts = serde_json::from_str(&json).unwrap();
        assert_eq!(back, f);
        assert_eq!(builtin(&back), builtin(&f));
    }
}
