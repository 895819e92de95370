//! The MySQL-family registry: every check, in report order. Each is a pure function of
//! [`MysqlFacts`] and the [`Ctx`]; shared logic lives in [`crate::checks`]. MariaDB and the
//! compatible engines run the same list; their differences are in the facts.

use super::facts::{Grants, MysqlFacts};
use crate::checks::{self as common, eval_rule, human_bytes, wanted_value};
use crate::matrix::SettingRule;
use crate::net::FailureKind;
use crate::probe::Unavailable;
use crate::registry::{Category, Check, Ctx, Outcome, Verdict};
use crate::report::TargetInfo;
use std::collections::BTreeSet;

/// The keys of the `[mysql]` matrix table read by this engine's own checks (beyond the shared
/// ones); a key another engine reads is an error there.
pub const MATRIX_KEYS: &[&str] = &["encodings", "collations"];

pub use crate::engines::sql::mysql_ident as bt;

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

fn setting_remedy(name: &str, rule: &SettingRule) -> String {
    format!(
        "SET GLOBAL {name} = '{}'; and set it in my.cnf under [mysqld] (MySQL 8: SET PERSIST; managed services: the parameter group).",
        wanted_value(rule)
    )
}

fn eol_flavor(flavor: &str) -> Option<&'static str> {
    match flavor {
        "mysql" | "percona-server" | "percona-xtradb-cluster" | "aurora-mysql" | "azure-mysql" => {
            Some("mysql")
        }
        "mariadb" => Some("mariadb"),
        _ => None,
    }
}

/// Why a character set is a problem, in words.
fn charset_problem(cs: &str) -> String {
    match cs.to_ascii_lowercase().as_str() {
        "latin1" => "latin1 is a single-byte character set (cp1252): most of Unicode cannot be stored".into(),
        "utf8mb3" | "utf8" => "utf8mb3 (MySQL's old `utf8`) stores at most 3 bytes per character: emoji and other 4-byte characters are refused or cut".into(),
        "ascii" => "ascii cannot store any non-ASCII character".into(),
        other => format!("{other} is not utf8mb4: text outside it will be refused or mangled"),
    }
}

fn accepted_charsets(ctx: &Ctx) -> Vec<String> {
    ctx.rules
        .encodings
        .clone()
        .unwrap_or_else(|| vec!["utf8mb4".into()])
}

fn charset(f: &MysqlFacts, ctx: &Ctx) -> Outcome {
    let server = var(f, "character_set_server")?;
    let db = f.database.get()?;
    let accepted = accepted_charsets(ctx);
    let ok = |cs: &str| accepted.iter().any(|a| a.eq_ignore_ascii_case(cs));
    let coll = utf8mb4_collation(f);
    let observed = match db {
        Some(d) => format!(
            "database {}: {} ({}); server default {server}",
            d.name, d.charset, d.collation
        ),
        None => format!("server default {server} (no database in the URL)"),
    };
    let v = match db {
        Some(d) if !ok(&d.charset) => Verdict::fail(format!(
            "database `{}` uses {}",
            d.name,
            charset_problem(&d.charset)
        ))
        .remedy(format!(
            "ALTER DATABASE {} CHARACTER SET utf8mb4 COLLATE {coll}; (new tables only) then convert each existing table: ALTER TABLE <t> CONVERT TO CHARACTER SET utf8mb4 COLLATE {coll};",
            bt(&d.name)
        )),
        _ if !ok(&server) => Verdict::warn(format!(
            "the server default is {server}: databases and tables created without a character set get {}",
            charset_problem(&server)
        ))
        .remedy(format!(
            "Set character_set_server = utf8mb4 and collation_server = {coll} in my.cnf under [mysqld] (or the parameter group), then restart."
        )),
        Some(d) => Verdict::pass(format!("database `{}` uses {}", d.name, d.charset)),
        None => Verdict::pass(format!("server default character set {server}")),
    };
    Ok(v.observed(observed).expected(accepted.join(", ")))
}

fn collation(f: &MysqlFacts, ctx: &Ctx) -> Outcome {
    let server = var(f, "collation_server")?;
    let db = f.database.get()?;
    let current = db.as_ref().map_or(server.clone(), |d| d.collation.clone());
    let observed = format!(
        "{}server {server}",
        db.as_ref()
            .map(|d| format!("database {}, ", d.collation))
            .unwrap_or_default()
    );
    Ok(match &ctx.rules.collations {
        None => Verdict::pass(format!("collation {current}; the matrix accepts any"))
            .observed(observed),
        Some(list) if list.iter().any(|c| c.eq_ignore_ascii_case(&current)) => {
            Verdict::pass(format!("collation {current} is accepted"))
                .observed(observed)
                .expected(list.join(", "))
        }
        Some(list) => Verdict::fail(format!(
            "collation {current} is not one the product is tested with: sorting and unique keys on text behave differently"
        ))
        .observed(observed)
        .expected(list.join(", "))
        .remedy(format!(
            "ALTER DATABASE {} COLLATE {}; and convert existing tables (ALTER TABLE <t> CONVERT TO CHARACTER SET utf8mb4 COLLATE {});",
            bt(&db_name(f).unwrap_or_else(|| "db".into())),
            list[0],
            list[0]
        )),
    })
}

fn table_charset(f: &MysqlFacts, ctx: &Ctx) -> Outcome {
    let t = f.tables.get()?;
    let accepted = accepted_charsets(ctx);
    let bad: Vec<&String> = t
        .not_utf8mb4
        .iter()
        .filter(|n| {
            !accepted.iter().any(|a| {
                n.rsplit_once(" (").is_some_and(|(_, c)| {
                    c.to_ascii_lowercase()
                        .starts_with(&format!("{}_", a.to_ascii_lowercase()))
                })
            })
        })
        .collect();
    if bad.is_empty() {
        return Ok(Verdict::pass(format!(
            "all {} table(s) use {}",
            t.total,
            accepted.join(", ")
        ))
        .observed(format!("{} tables", t.total)));
    }
    let coll = utf8mb4_collation(f);
    let names: Vec<&str> = bad
        .iter()
        .map(|n| n.split(" (").next().unwrap_or(n))
        .collect();
    let fix: Vec<String> = names
        .iter()
        .take(5)
        .map(|n| {
            format!(
                "ALTER TABLE {} CONVERT TO CHARACTER SET utf8mb4 COLLATE {coll};",
                bt(n)
            )
        })
        .collect();
    let more = if names.len() > 5 {
        format!(" (and the {} other tables listed)", names.len() - 5)
    } else {
        String::new()
    };
    Ok(Verdict::fail(format!(
        "{} table(s) are not utf8mb4: their text columns refuse 4-byte characters or non-Latin text",
        bad.len()
    ))
    .observed(
        bad.iter()
            .take(20)
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(", "),
    )
    .expected(accepted.join(", "))
    .remedy(format!("{}{more}", fix.join(" "))))
}

fn sql_mode(f: &MysqlFacts, _: &Ctx) -> Outcome {
    let mode = var(f, "sql_mode")?;
    let items: Vec<String> = mode
        .split(',')
        .map(|s| s.trim().to_ascii_uppercase())
        .filter(|s| !s.is_empty())
        .collect();
    let has = |m: &str| items.iter().any(|i| i == m);
    let observed = if mode.is_empty() {
        "sql_mode = '' (empty)".to_string()
    } else {
        format!("sql_mode = {mode}")
    };
    let strict = has("STRICT_TRANS_TABLES") || has("STRICT_ALL_TABLES");
    let odd: Vec<&str> = [
        "ANSI_QUOTES",
        "PIPES_AS_CONCAT",
        "NO_BACKSLASH_ESCAPES",
        "ALLOW_INVALID_DATES",
    ]
    .into_iter()
    .filter(|m| has(m))
    .collect();
    let v = if !strict {
        let mut wanted = items.clone();
        wanted.insert(0, "STRICT_TRANS_TABLES".into());
        Verdict::fail("sql_mode is not strict: too-long strings are cut, invalid dates become zeros and bad numbers are clamped, with only a warning")
            .remedy(format!(
                "SET GLOBAL sql_mode = '{}'; {}",
                wanted.join(","),
                persist_hint(f)
            ))
    } else if !odd.is_empty() {
        Verdict::warn(format!(
            "sql_mode includes {}: it changes how standard SQL is parsed",
            odd.join(", ")
        ))
        .remedy(format!(
            "SET GLOBAL sql_mode = '{}'; {}",
            items
                .iter()
                .filter(|i| !odd.contains(&i.as_str()))
                .cloned()
                .collect::<Vec<_>>()
                .join(","),
            persist_hint(f)
        ))
    } else {
        Verdict::pass("strict mode: invalid data is refused, not silently changed")
    };
    Ok(v.observed(observed)
        .expected("contains STRICT_TRANS_TABLES (or STRICT_ALL_TABLES)"))
}

fn lower_case_table_names(f: &MysqlFacts, _: &Ctx) -> Outcome {
    let v = var(f, "lower_case_table_names")?;
    let observed = format!("lower_case_table_names = {v}");
    Ok(match v.trim() {
        "0" => Verdict::pass("table names are case-sensitive and stored as given (the Linux default)"),
        "1" => Verdict::pass("table names are stored in lowercase and compared case-insensitively"),
        _ => Verdict::warn("lower_case_table_names = 2 stores names as given but compares them in lowercase: a dump moves badly to Linux")
            .remedy("Use 0 (Linux) or 1; MySQL 8 sets it only when the data directory is initialised, so this means a new server and a dump/restore."),
    }
    .observed(observed)
    .expected("0 or 1"))
}

fn storage_engine(f: &MysqlFacts, _: &Ctx) -> Outcome {
    let engine = var(f, "default_storage_engine").or_else(|_| var(f, "storage_engine"))?;
    let tables = f.tables.value();
    let mut observed = format!("default_storage_engine = {engine}");
    if let Some(t) = tables
        && !t.non_innodb.is_empty()
    {
        observed.push_str(&format!(
            "; not InnoDB: {}",
            t.non_innodb
                .iter()
                .take(20)
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let v = if !engine.eq_ignore_ascii_case("InnoDB") {
        Verdict::fail(format!(
            "new tables default to {engine}, which has no transactions, no foreign keys and no crash safety"
        ))
        .remedy(format!(
            "SET GLOBAL default_storage_engine = InnoDB; {}",
            persist_hint(f)
        ))
    } else if let Some(t) = tables.filter(|t| !t.non_innodb.is_empty()) {
        let fix: Vec<String> = t
            .non_innodb
            .iter()
            .take(5)
            .map(|n| {
                format!(
                    "ALTER TABLE {} ENGINE = InnoDB;",
                    bt(n.split(" (").next().unwrap_or(n))
                )
            })
            .collect();
        Verdict::warn(format!(
            "{} table(s) do not use InnoDB: writes to them ignore transactions and foreign keys",
            t.non_innodb.len()
        ))
        .remedy(fix.join(" "))
    } else {
        Verdict::pass("InnoDB: transactions and foreign keys")
    };
    Ok(v.observed(observed).expected("InnoDB"))
}

/// The longest index key InnoDB allows for new tables, and why.
fn key_limit(f: &MysqlFacts) -> Option<(u32, String)> {
    if let Some(rf) = var_opt(f, "innodb_default_row_format") {
        let lim = match rf.to_ascii_lowercase().as_str() {
            "dynamic" | "compressed" => 3072,
            _ => 767,
        };
        return Some((lim, format!("innodb_default_row_format = {rf}")));
    }
    // MySQL 5.6/5.7 before 5.7.9 and MariaDB before 10.2.2: large prefixes are opt-in.
    let large = var_opt(f, "innodb_large_prefix");
    let format = var_opt(f, "innodb_file_format");
    match (large, format) {
        (Some(l), Some(ff)) => Some((
            if is_on(&l) && ff.eq_ignore_ascii_case("Barracuda") {
                3072
            } else {
                767
            },
            format!("innodb_large_prefix = {l}, innodb_file_format = {ff}"),
        )),
        _ => None,
    }
}

fn index_key_length(f: &MysqlFacts, _: &Ctx) -> Outcome {
    let _ = f.common.settings.get()?;
    let Some((limit, why)) = key_limit(f) else {
        return Ok(Verdict::skip(
            "this server does not expose InnoDB's row format settings (a compatible engine)",
        ));
    };
    let chars = limit / 4;
    let small = f
        .tables
        .value()
        .map(|t| t.small_prefix.clone())
        .unwrap_or_default();
    let mut observed =
        format!("{why}: index keys up to {limit} bytes ({chars} utf8mb4 characters)");
    if !small.is_empty() {
        observed.push_str(&format!(
            "; COMPACT/REDUNDANT tables: {}",
            small
                .iter()
                .take(20)
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let v = if limit < 3072 {
        Verdict::fail(format!(
            "an index on a utf8mb4 VARCHAR longer than {chars} characters fails (\"Specified key was too long; max key length is {limit} bytes\"): VARCHAR(255) needs 1020 bytes"
        ))
        .remedy(format!(
            "SET GLOBAL innodb_default_row_format = 'dynamic'; {} (MySQL 5.6/MariaDB < 10.2: innodb_large_prefix = ON and innodb_file_format = Barracuda)",
            persist_hint(f)
        ))
    } else if !small.is_empty() {
        let fix: Vec<String> = small
            .iter()
            .take(5)
            .map(|n| {
                format!(
                    "ALTER TABLE {} ROW_FORMAT = DYNAMIC;",
                    bt(n.split(" (").next().unwrap_or(n))
                )
            })
            .collect();
        Verdict::warn(format!(
            "{} existing table(s) use a row format limited to 767-byte keys: a new index on a utf8mb4 VARCHAR(255) in them fails",
            small.len()
        ))
        .remedy(fix.join(" "))
    } else {
        Verdict::pass(format!(
            "index keys up to {limit} bytes: a utf8mb4 VARCHAR({chars}) can be indexed whole"
        ))
    };
    Ok(v.observed(observed)
        .expected("3072-byte keys (DYNAMIC row format)"))
}

fn max_allowed_packet(f: &MysqlFacts, _: &Ctx) -> Outcome {
    let v = var(f, "max_allowed_packet")?;
    let bytes: u64 = v
        .trim()
        .parse()
        .map_err(|_| Unavailable::Error(format!("max_allowed_packet `{v}` is not a number")))?;
    let observed = format!("max_allowed_packet = {bytes} ({})", human_bytes(bytes));
    const MIB: u64 = 1024 * 1024;
    let fix = format!(
        "SET GLOBAL max_allowed_packet = 67108864; {}",
        persist_hint(f)
    );
    Ok(if bytes < 4 * MIB {
        Verdict::fail(format!(
            "rows or statements over {} are refused (\"Packet too big\"): large text, JSON or batched inserts fail",
            human_bytes(bytes)
        ))
        .remedy(fix)
    } else if bytes < 16 * MIB {
        Verdict::warn(format!(
            "statements over {} are refused: large documents or batched inserts may fail",
            human_bytes(bytes)
        ))
        .remedy(fix)
    } else {
        Verdict::pass(format!("statements up to {} accepted", human_bytes(bytes)))
    }
    .observed(observed)
    .expected("at least 16 MiB (64 MiB recommended)"))
}

fn time_zone_tables(f: &MysqlFacts, _: &Ctx) -> Outcome {
    let loaded = *f.time_zone_tables.get()?;
    let load = if is_mariadb(f) {
        "mariadb-tzinfo-to-sql /usr/share/zoneinfo | mariadb -u root mysql"
    } else {
        "mysql_tzinfo_to_sql /usr/share/zoneinfo | mysql -u root mysql"
    };
    Ok(if loaded {
        Verdict::pass("named time zones work (the time zone tables are loaded)").observed("loaded")
    } else {
        Verdict::warn("the time zone tables are empty: CONVERT_TZ() with names returns NULL and SET time_zone = 'Europe/Paris' fails; only offsets like '+00:00' work")
            .observed("CONVERT_TZ('2000-01-01 00:00:00', 'UTC', 'Europe/Paris') is NULL")
            .expected("loaded")
            .remedy(format!("On the server, as root: {load}; (managed services load them already)"))
    })
}

fn transaction_isolation(f: &MysqlFacts, _: &Ctx) -> Outcome {
    let v = var(f, "transaction_isolation").or_else(|_| var(f, "tx_isolation"))?;
    let observed = format!("transaction_isolation = {v}");
    let fix = format!(
        "SET GLOBAL transaction_isolation = 'READ-COMMITTED'; (MariaDB before 11.1: tx_isolation) {}",
        persist_hint(f)
    );
    Ok(match v.to_ascii_uppercase().replace('_', "-").as_str() {
        "READ-COMMITTED" | "REPEATABLE-READ" => {
            Verdict::pass(format!("{v}: transactions see only committed data"))
        }
        "READ-UNCOMMITTED" => Verdict::fail("READ-UNCOMMITTED: transactions see other transactions' uncommitted changes (dirty reads)").remedy(fix),
        _ => Verdict::warn(format!("{v}: every plain SELECT takes shared locks, so concurrent work deadlocks and waits more")).remedy(fix),
    }
    .observed(observed)
    .expected("REPEATABLE-READ or READ-COMMITTED"))
}

fn binlog(f: &MysqlFacts, ctx: &Ctx) -> Outcome {
    let log_bin = var_opt(f, "log_bin");
    let format = var_opt(f, "binlog_format");
    if log_bin.is_none() && format.is_none() {
        let _ = f.common.settings.get()?;
        return Ok(Verdict::skip("this server has no binary log variables"));
    }
    let on = log_bin.as_deref().is_some_and(is_on);
    let observed = format!(
        "log_bin = {}, binlog_format = {}",
        log_bin.as_deref().unwrap_or("?"),
        format.as_deref().unwrap_or("?")
    );
    let mut problems = Vec::new();
    let mut fixes = Vec::new();
    let mut expected = Vec::new();
    for name in ["log_bin", "binlog_format"] {
        if let Some(rule) = ctx.rules.settings.get(name) {
            expected.push(format!("{name} {}", common::describe_rule(rule)));
            let value = var_opt(f, name).unwrap_or_default();
            if let Err(why) = eval_rule(&value, rule) {
                problems.push(format!("{name}: {why}"));
                fixes.push(if name == "log_bin" {
                    "Enable the binary log: log_bin = ON (with server_id) in my.cnf, then restart (managed services: enable backups/binlog retention).".to_string()
                } else {
                    format!(
                        "SET GLOBAL binlog_format = '{}'; {}",
                        wanted_value(rule),
                        persist_hint(f)
                    )
                });
            }
        }
    }
    let v = if !problems.is_empty() {
        Verdict::fail(problems.join("; ")).remedy(fixes.join(" "))
    } else if on {
        Verdict::pass(format!(
            "binary log on, format {}",
            format.as_deref().unwrap_or("unknown")
        ))
    } else {
        Verdict::pass("binary log off: no point-in-time recovery or replication from this server")
    };
    let v = v.observed(observed);
    Ok(if expected.is_empty() {
        v
    } else {
        v.expected(expected.join("; "))
    })
}

/// Every privilege `ALL PRIVILEGES` grants at database level.
const DB_PRIVILEGES: &[&str] = &[
    "SELECT",
    "INSERT",
    "UPDATE",
    "DELETE",
    "CREATE",
    "DROP",
    "REFERENCES",
    "INDEX",
    "ALTER",
    "CREATE TEMPORARY TABLES",
    "LOCK TABLES",
    "EXECUTE",
    "CREATE VIEW",
    "SHOW VIEW",
    "CREATE ROUTINE",
    "ALTER ROUTINE",
    "EVENT",
    "TRIGGER",
];

/// Whether `name` matches a database pattern of a grant (`` `app\_%` `` is a LIKE pattern).
fn like(pattern: &str, name: &str) -> bool {
    fn go(p: &[char], n: &[char]) -> bool {
        match p.split_first() {
            None => n.is_empty(),
            Some(('%', rest)) => (0..=n.len()).any(|i| go(rest, &n[i..])),
            Some(('_', rest)) => !n.is_empty() && go(rest, &n[1..]),
            Some(('\\', rest)) if !rest.is_empty() => {
                !n.is_empty() && n[0] == rest[0] && go(&rest[1..], &n[1..])
            }
            Some((c, rest)) => !n.is_empty() && n[0] == *c && go(rest, &n[1..]),
        }
    }
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    go(&p, &n)
}

/// The database part of a grant target: `*` for `*.*`, the unquoted pattern for `` `db`.* ``,
/// `None` for table-level grants.
fn grant_db(on: &str) -> Option<String> {
    let on = on.trim();
    if on == "*.*" || on == "*" {
        return Some("*".into());
    }
    let db = on.strip_suffix(".*")?;
    let db = db
        .strip_prefix('`')
        .and_then(|d| d.strip_suffix('`'))
        .unwrap_or(db);
    Some(db.replace("``", "`"))
}

/// Privileges the account holds on every table of `db` (global and database-level grants).
pub(crate) fn held_on(g: &Grants, db: &str) -> BTreeSet<String> {
    let mut held = BTreeSet::new();
    for grant in &g.grants {
        let Some(pattern) = grant_db(&grant.on) else {
            continue;
        };
        if pattern != "*" && !like(&pattern, db) {
            continue;
        }
        for p in &grant.privileges {
            if p == "ALL" || p == "ALL PRIVILEGES" {
                held.extend(DB_PRIVILEGES.iter().map(|s| s.to_string()));
            } else {
                held.insert(p.clone());
            }
        }
    }
    held
}

fn roles_note(g: &Grants) -> String {
    if g.roles.is_empty() {
        String::new()
    } else {
        format!(
            " (privileges of the granted roles {} are not counted: roles must be active by default, SET DEFAULT ROLE)",
            g.roles.join(", ")
        )
    }
}

/// A privilege check: the account must hold `needed` on the target database.
fn need(f: &MysqlFacts, needed: &[&str], what: &str) -> Outcome {
    let g = f.grants.get()?;
    let Some(db) = db_name(f) else {
        return Ok(Verdict::skip(
            "the URL names no database: add /dbname to check privileges in it",
        ));
    };
    let held = held_on(g, &db);
    let missing: Vec<&str> = needed
        .iter()
        .copied()
        .filter(|p| !held.contains(*p))
        .collect();
    let have: Vec<&str> = needed
        .iter()
        .copied()
        .filter(|p| held.contains(*p))
        .collect();
    let observed = if have.is_empty() {
        format!("none of them on {}", bt(&db))
    } else {
        format!("{} on {}", have.join(", "), bt(&db))
    };
    Ok(if missing.is_empty() {
        Verdict::pass(format!("may {what} in {}", bt(&db)))
    } else {
        Verdict::fail(format!(
            "lacks {} on {}: cannot {what}{}",
            missing.join(", "),
            bt(&db),
            roles_note(g)
        ))
        .remedy(format!(
            "GRANT {} ON {}.* TO {};",
            missing.join(", "),
            bt(&db),
            account(f)
        ))
    }
    .observed(observed)
    .expected(needed.join(", ")))
}

fn table_privileges(f: &MysqlFacts, ctx: &Ctx) -> Outcome {
    if ctx.matrix.app.needs_write {
        need(
            f,
            &["SELECT", "INSERT", "UPDATE", "DELETE"],
            "read and write rows",
        )
    } else {
        need(f, &["SELECT"], "read rows")
    }
}

fn create_table(f: &MysqlFacts, ctx: &Ctx) -> Outcome {
    if !ctx.matrix.app.needs_write {
        let _ = f.grants.get()?;
        return Ok(Verdict::skip("the matrix says our product only reads"));
    }
    need(
        f,
        &["CREATE", "ALTER", "DROP", "INDEX", "REFERENCES"],
        "create, alter and drop tables, indexes and foreign keys",
    )
}

fn temp_tables(f: &MysqlFacts, _: &Ctx) -> Outcome {
    need(f, &["CREATE TEMPORARY TABLES"], "create temporary tables")
}

fn superuser(f: &MysqlFacts, _: &Ctx) -> Outcome {
    let g = f.grants.get()?;
    let global: Vec<&str> = g
        .grants
        .iter()
        .filter(|gr| grant_db(&gr.on).as_deref() == Some("*"))
        .flat_map(|gr| gr.privileges.iter().map(String::as_str))
        .collect();
    let all = global.iter().any(|p| *p == "ALL" || *p == "ALL PRIVILEGES");
    let sup = global.contains(&"SUPER");
    let who = account(f);
    let db = bt(&db_name(f).unwrap_or_else(|| "app".into()));
    Ok(if all || sup {
        Verdict::warn(format!(
            "{who} holds {} on *.*: a bug or a leaked password could change or drop anything on the server",
            if all { "ALL PRIVILEGES" } else { "SUPER" }
        ))
        .observed(if all { "ALL PRIVILEGES ON *.*" } else { "SUPER ON *.*" })
        .expected("a dedicated account with privileges on one database")
        .remedy(format!(
            "CREATE USER 'app'@'%' IDENTIFIED BY '...'; GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, DROP, INDEX, REFERENCES, CREATE TEMPORARY TABLES ON {db}.* TO 'app'@'%'; then connect as app."
        ))
    } else {
        Verdict::pass(format!(
            "{who} holds no server-wide administrative privilege"
        ))
        .observed("no ALL or SUPER on *.*")
    })
}

fn writability(f: &MysqlFacts, ctx: &Ctx) -> Outcome {
    let remedy = "Connect to the primary, not a replica or reader endpoint. On a primary: SET GLOBAL super_read_only = OFF; SET GLOBAL read_only = OFF; and remove read_only from my.cnf (innodb_read_only needs a restart without it).";
    let v = common::writability(&f.common, ctx, remedy)?;
    // With --probe-write, a scratch table was really created (or not).
    if let Some(w) = f.common.write_probe.value() {
        // (leftovers are the write-probe check's business)
        if let Some(e) = w.steps.first().and_then(|s| s.error.as_ref())
            && ctx.matrix.app.needs_write
        {
            return Ok(
                Verdict::fail(format!("creating a scratch table failed: {e}"))
                    .observed("CREATE TABLE refused")
                    .expected("read-write")
                    .remedy(v.remedy.clone().unwrap_or_else(|| {
                        format!(
                            "GRANT CREATE, DROP, INSERT ON {}.* TO {};",
                            bt(&db_name(f).unwrap_or_else(|| "db".into())),
                            account(f)
                        )
                    })),
            );
        }
    }
    if v.status != crate::status::Status::Pass || !ctx.matrix.app.needs_write {
        return Ok(v);
    }
    if f.common.write_probe.value().is_some() {
        return Ok(v.observed("read-write: a scratch table was created, written and dropped"));
    }
    // A read-write server still refuses writes from an account that holds no write privilege.
    if let (Some(g), Some(db)) = (f.grants.value(), db_name(f)) {
        let held = held_on(g, &db);
        if !["INSERT", "UPDATE", "DELETE"]
            .iter()
            .any(|p| held.contains(*p))
        {
            return Ok(Verdict::fail(format!(
                "the server accepts writes, but {} may not write to {}{}",
                account(f),
                bt(&db),
                roles_note(g)
            ))
            .observed(format!(
                "read-write server; read-only account on {}",
                bt(&db)
            ))
            .expected("read-write")
            .remedy(format!(
                "GRANT INSERT, UPDATE, DELETE ON {}.* TO {};",
                bt(&db),
                account(f)
            )));
        }
    }
    Ok(v)
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

fn platform(f: &MysqlFacts, _: &Ctx) -> Outcome {
    let id = f.common.identity.get()?;
    Ok(match &id.os {
        Some(os) => Verdict::pass(format!("server built for {os}")).observed(os),
        None => Verdict::skip("the server does not say its platform"),
    })
}

/// The MySQL-family checks, in report order.
pub static CHECKS: &[Check<MysqlFacts>] = &[
    Check {
        id: "mysql.connection",
        category: Category::Connection,
        title: "Server reached and login accepted",
        doc: "Resolves the host, opens TCP, then logs in through the driver (TLS per ssl-mode). A failure is classified as dns, refused, timeout, tls, authentication (error 1045), database-missing (1049) or permission (1044), with the fix for that step. Every other check needs this one.",
        asks: "DNS lookup; TCP connect; MySQL handshake and authentication",
        run: |f, _| common::connection(&f.common, connection_remedy),
    },
    Check {
        id: "mysql.tls",
        category: Category::Security,
        title: "Connection encrypted and certificate verified",
        doc: "Reads the session's Ssl_version, Ssl_cipher and Ssl_server_not_after, how the client trusted the certificate (ssl-mode), and require_secure_transport. Unencrypted warns (fails with [app] require_tls); a certificate trusted without verification (ssl-mode PREFERRED/REQUIRED) warns. Fix: ssl-mode=VERIFY_IDENTITY with ssl-ca.",
        asks: "SHOW SESSION STATUS LIKE 'Ssl_%'; @@require_secure_transport",
        run: tls,
    },
    Check {
        id: "mysql.version",
        category: Category::Version,
        title: "Version supported by the matrix",
        doc: "Compares the MySQL-compatible version with the matrix: [mariadb] for MariaDB, [mysql] for every other flavor. Outside versions fails, outside recommended warns, newer than tested_up_to warns 'not yet tested'.",
        asks: "SELECT VERSION(), @@version_comment",
        run: |f, ctx| common::version(&f.common, ctx),
    },
    Check {
        id: "mysql.eol",
        category: Category::Version,
        title: "Release line still supported by its vendor",
        doc: "Looks the major.minor release up in the shipped end-of-life data (checks/eol.json; its date is in the report): Oracle's dates for MySQL, Percona, Aurora MySQL and Azure; MariaDB's for MariaDB. Past the date fails; within [app] eol_warn_days warns.",
        asks: "(no query: uses the version)",
        run: |f, ctx| common::end_of_life(&f.common, ctx, eol_flavor),
    },
    Check {
        id: "mysql.flavor",
        category: Category::Flavor,
        title: "Flavor accepted (MariaDB, managed service or compatible engine)",
        doc: "Names the product from VERSION() (MariaDB, also in its 5.5.5- form; TiDB; Vitess), @@version_comment (Percona Server, Percona XtraDB Cluster, SingleStore), @@aurora_version (Aurora), Azure's own variables, @@tidb_version and @@memsql_version. A flavor outside the matrix's list fails.",
        asks: "SELECT VERSION(), @@version_comment; SHOW GLOBAL VARIABLES",
        run: |f, ctx| common::flavor(&f.common, ctx),
    },
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
    Check {
        id: "mysql.max-connections",
        category: Category::Settings,
        title: "Free connections for our pool",
        doc: "max_connections (and max_user_connections, when set) against Threads_connected and our [app] pool_size. Fewer usable slots than the pool fails; fewer free right now warns.",
        asks: "@@max_connections, @@max_user_connections; SHOW GLOBAL STATUS LIKE 'Threads_connected'",
        run: |f, ctx| {
            common::connection_headroom(
                &f.common,
                ctx,
                "Raise max_connections (SET GLOBAL max_connections = 500; and in my.cnf or the parameter group), or lower max_user_connections for this account.",
            )
        },
    },
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
        id: "mysql.settings",
        category: Category::Settings,
        title: "Settings the matrix names",
        doc: "Every [mysql.settings] or [mariadb.settings] rule (min, max, equals, one_of, contains, excludes) against SHOW GLOBAL VARIABLES. A variable the server does not have is an error naming it.",
        asks: "SHOW GLOBAL VARIABLES",
        run: |f, ctx| {
            common::settings(
                &f.common,
                ctx,
                "the server has no such variable",
                setting_remedy,
            )
        },
    },
    Check {
        id: "mysql.time-zone",
        category: Category::Settings,
        title: "Server time zone",
        doc: "The global time_zone (SYSTEM shows the system zone) against [app] time_zone when set: DATETIME values and NOW() shift when it differs.",
        asks: "@@global.time_zone, @@system_time_zone",
        run: |f, ctx| {
            common::time_zone(
                &f.common,
                ctx,
                "SET GLOBAL time_zone = '{zone}'; and default-time-zone = '{zone}' in my.cnf (or the parameter group).",
            )
        },
    },
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
    Check {
        id: "mysql.writability",
        category: Category::Writability,
        title: "Database accepts writes",
        doc: "read_only (a replica), super_read_only, innodb_read_only (an Aurora reader) or a read-only transaction default make writes fail; so does an account without INSERT, UPDATE or DELETE. Fails when [app] needs_write is true. The server's global values are read before this tool makes its own session read-only. With --probe-write a uniquely named scratch table is created, written and dropped (DDL cannot be rolled back here); a table that could not be dropped is reported.",
        asks: "SHOW GLOBAL VARIABLES (read_only, super_read_only, innodb_read_only, transaction_read_only); SHOW GRANTS",
        run: writability,
    },
    Check {
        id: "mysql.capabilities",
        category: Category::Capabilities,
        title: "SQL features the product relies on",
        doc: "Derived from flavor and version: json (native on MySQL 5.7.8+, an alias of LONGTEXT on MariaDB), cte and window-functions (MySQL 8.0, MariaDB 10.2), check-constraints enforced (MySQL 8.0.16, MariaDB 10.2.1), returning and sequences (MariaDB only), upsert (ON DUPLICATE KEY), utf8. Never: transactional-ddl (DDL commits implicitly), drop-cascade, varchar-without-length (VARCHAR needs a length). The matrix's capabilities list must all be present. With --probe-write, varchar-without-length, json, check-constraints, returning and upsert are probed for real (see mysql.write-probe).",
        asks: "(derived from the version, flavor and database character set)",
        run: |f, ctx| {
            f.common.identity.get()?;
            common::capabilities(&f.common, ctx)
        },
    },
    Check {
        id: "mysql.write-probe",
        category: Category::Capabilities,
        title: "Scratch table created, exercised and dropped (--probe-write)",
        doc: "Only with --probe-write: creates a uniquely named InnoDB table with a CHECK constraint, adds a VARCHAR without a length (MySQL and MariaDB refuse it: the proof of concept's first error) and a JSON column, tries an INSERT that violates the CHECK (it must be refused), an INSERT ... RETURNING and an ON DUPLICATE KEY upsert, then drops the table — DDL commits implicitly here, so nothing can be rolled back — and looks for leftovers, which fail with the DROP to run.",
        asks: "SET SESSION TRANSACTION READ WRITE; START TRANSACTION; CREATE TABLE byod_precheck_probe_...; ...; DROP TABLE ...; ROLLBACK; SELECT table_name FROM information_schema.tables WHERE table_name LIKE 'byod_precheck_probe_...%'",
        run: |f, ctx| common::write_probe(&f.common, ctx),
    },
    Check {
        id: "mysql.workload",
        category: Category::Capabilities,
        title: "The product's own SQL runs here (workload, --probe-write)",
        doc: "Only with --probe-write and a matrix that names [app.workload] dir: runs the product's SQL files (DIR/mysql/*.sql, in file-name order) in a uniquely named scratch database (byod_precheck_wl_...) created with the target's character set and dropped afterwards, because MySQL's DDL commits by itself. Statements that would leave that area (COMMIT, USE, CREATE DATABASE, ALTER SYSTEM, GRANT, ...) are refused before anything is sent. Fails naming each failing statement's file:line, the server's own error and code, and the portable rewrite where one is known; statements that failed only because an earlier one did are named as consequences. Skipped without the privilege it needs (with the GRANT), on read-only targets and replicas.",
        asks: "CREATE DATABASE byod_precheck_wl_...; USE it; (each statement); DROP DATABASE; SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE 'byod\\_precheck\\_wl\\_%'",
        run: |f, ctx| crate::workload::check(&f.common.workload, ctx),
    },
    Check {
        id: "mysql.database-size",
        category: Category::Resources,
        title: "Database size",
        doc: "DATA_LENGTH + INDEX_LENGTH of the target database's tables, for capacity planning (InnoDB's figures are estimates).",
        asks: "SELECT SUM(DATA_LENGTH + INDEX_LENGTH) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()",
        run: |f, _| common::database_size(&f.common, None),
    },
    Check {
        id: "mysql.clock-skew",
        category: Category::Resources,
        title: "Server clock agrees with this machine",
        doc: "UNIX_TIMESTAMP(NOW(6)) on the server against this machine's clock at the middle of the round trip. More than [app] max_clock_skew_seconds warns.",
        asks: "SELECT UNIX_TIMESTAMP(NOW(6))",
        run: |f, ctx| common::clock_skew(&f.common, ctx),
    },
    Check {
        id: "mysql.uptime",
        category: Category::Resources,
        title: "Server uptime",
        doc: "SHOW GLOBAL STATUS Uptime. Under ten minutes warns: the server may be restarting in a loop.",
        asks: "SHOW GLOBAL STATUS LIKE 'Uptime'",
        run: |f, _| common::uptime(&f.common),
    },
    Check {
        id: "mysql.platform",
        category: Category::Resources,
        title: "Server platform",
        doc: "The platform the server was built for, from @@version_compile_os and @@version_compile_machine.",
        asks: "SHOW GLOBAL VARIABLES (version_compile_os, version_compile_machine)",
        run: platform,
    },
    Check {
        id: "mysql.migrations",
        category: Category::Migrations,
        title: "Migration history",
        doc: "Finds the history tables of the migration tools byod-precheck knows (Alembic, Django, Flyway, Liquibase, Rails, sqlx, EF Core, Diesel, refinery, SeaORM, goose, golang-migrate, dbmate, Ecto, knex, Sequelize, TypeORM, MikroORM, node-pg-migrate, Drizzle, Kysely, Prisma, Doctrine, Laravel, Phinx, yoyo), told apart by table name and columns, and reads each one's latest version (Django: per app). User tables with no known history warn as an unknown history. With [app.migrations], a missing history warns and another version fails.",
        asks: "information_schema.TABLES of DATABASE(); then the latest row of each history table found",
        run: |f, ctx| common::migrations(&f.common, ctx),
    },
];

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
            assert_eq!(eol_flavor(f), Some("mysql"), "{f}");
        }
        assert_eq!(eol_flavor("mariadb"), Some("mariadb"));
        for f in ["tidb", "vitess", "singlestore"] {
            assert_eq!(eol_flavor(f), None, "{f}");
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
