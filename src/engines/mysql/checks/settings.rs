//! The MySQL checks of server variables: sql_mode, table name case, storage engine, index key
//! length, packet size, time zone tables, isolation and the binary log.

use super::*;

pub(super) fn sql_mode(f: &MysqlFacts, _: &Ctx) -> Outcome {
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

pub(super) fn lower_case_table_names(f: &MysqlFacts, _: &Ctx) -> Outcome {
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

pub(super) fn storage_engine(f: &MysqlFacts, _: &Ctx) -> Outcome {
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
pub(super) fn key_limit(f: &MysqlFacts) -> Option<(u32, String)> {
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

pub(super) fn index_key_length(f: &MysqlFacts, _: &Ctx) -> Outcome {
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

pub(super) fn max_allowed_packet(f: &MysqlFacts, _: &Ctx) -> Outcome {
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

pub(super) fn time_zone_tables(f: &MysqlFacts, _: &Ctx) -> Outcome {
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

pub(super) fn transaction_isolation(f: &MysqlFacts, _: &Ctx) -> Outcome {
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

pub(super) fn binlog(f: &MysqlFacts, ctx: &Ctx) -> Outcome {
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

/// `mysql.idle-timeout`: the global wait_timeout (a driver's connection starts with it: it is
/// not interactive) against how long our pool keeps a connection.
pub(super) fn idle_timeout(f: &MysqlFacts, ctx: &Ctx) -> Outcome {
    let v = var(f, "wait_timeout")?;
    let s = v
        .trim()
        .parse::<u64>()
        .map_err(|_| Unavailable::Error(format!("wait_timeout = {v}: not a number of seconds")))?;
    let raise = ctx.matrix.app.pool_recycle_seconds.max(28_800);
    Ok(common::idle_timeout(
        "wait_timeout",
        s,
        ctx,
        format!(
            "SET GLOBAL wait_timeout = {raise}; and wait_timeout = {raise} in my.cnf under [mysqld] (or the parameter group), so it survives a restart."
        ),
    ))
}
