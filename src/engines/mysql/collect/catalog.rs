//! MySQL and MariaDB answers turned into facts: the TLS of our session, read-only state, tables, grants, migration histories and capabilities.

use super::*;

/// TLS from the session's `Ssl_version`, `Ssl_cipher` and `Ssl_server_not_after`.
pub(crate) fn tls_facts(status: &BTreeMap<String, String>, mode: &str, now: f64) -> TlsFacts {
    let get = |k: &str| status.get(k).filter(|v| !v.trim().is_empty()).cloned();
    let protocol = get("ssl_version");
    let cipher = get("ssl_cipher");
    let in_use = protocol.is_some() || cipher.is_some();
    let expires = get("ssl_server_not_after")
        .and_then(|d| parse_cert_date(&d))
        .map(|t| ((t as f64 - now) / 86400.0).floor() as i64);
    TlsFacts {
        in_use,
        protocol,
        cipher,
        bits: None,
        trust: match (in_use, mode) {
            (false, _) => TrustMode::None,
            (true, "verify_identity" | "verify_full") => TrustMode::Verified,
            (true, "verify_ca") => TrustMode::CaOnly,
            _ => TrustMode::NotVerified,
        },
        cert_expires_in_days: expires,
        client_setting: format!("ssl-mode={}", mode.to_ascii_uppercase()),
        server_leg: None,
    }
}

/// `Dec 31 23:59:59 2030 GMT` (OpenSSL's format) as seconds since the epoch.
pub(super) fn parse_cert_date(d: &str) -> Option<i64> {
    let parts: Vec<&str> = d.split_whitespace().collect();
    let [mon, day, hms, year, ..] = parts.as_slice() else {
        return None;
    };
    let month = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]
    .iter()
    .position(|m| m == mon)?;
    let month = time::Month::try_from(month as u8 + 1).ok()?;
    let date = time::Date::from_calendar_date(year.parse().ok()?, month, day.parse().ok()?).ok()?;
    let mut t = hms.split(':').map(|p| p.parse::<u8>().ok());
    let time = time::Time::from_hms(t.next()??, t.next()??, t.next()??).ok()?;
    Some(date.with_time(time).assume_utc().unix_timestamp())
}

/// Why the server refuses writes, from its global variables.
pub(crate) fn read_only(s: &BTreeMap<String, String>) -> ReadOnlyFacts {
    let on = |k: &str| {
        s.get(k)
            .is_some_and(|v| matches!(v.to_ascii_uppercase().as_str(), "ON" | "1" | "TRUE"))
    };
    let mut reasons = Vec::new();
    for (k, why) in [
        (
            "read_only",
            "read_only = ON: only administrators may write (a replica, usually)",
        ),
        ("super_read_only", "super_read_only = ON: nobody may write"),
        (
            "innodb_read_only",
            "innodb_read_only = ON: InnoDB refuses every write (an Aurora reader, or a read-only instance)",
        ),
        (
            "transaction_read_only",
            "transaction_read_only = ON: new sessions start read-only",
        ),
        (
            "tx_read_only",
            "tx_read_only = ON: new sessions start read-only",
        ),
    ] {
        if on(k) && !(k == "tx_read_only" && s.contains_key("transaction_read_only")) {
            reasons.push(why.to_string());
        }
    }
    ReadOnlyFacts::from_reasons(reasons)
}

/// Name, engine, row format, collation, data + index bytes.
pub(super) type TableRow = (String, String, String, String, String);

pub(super) fn summarize_tables(rows: Vec<TableRow>) -> Tables {
    let mut t = Tables {
        total: rows.len() as u64,
        ..Default::default()
    };
    for (name, engine, row_format, collation, _) in rows {
        if !engine.eq_ignore_ascii_case("InnoDB") && !engine.is_empty() {
            t.non_innodb.push(format!("{name} ({engine})"));
        }
        if !collation.is_empty() && !collation.to_ascii_lowercase().starts_with("utf8mb4_") {
            t.not_utf8mb4.push(format!("{name} ({collation})"));
        }
        if matches!(
            row_format.to_ascii_lowercase().as_str(),
            "compact" | "redundant"
        ) {
            t.small_prefix.push(format!("{name} ({row_format})"));
        }
    }
    t
}

/// Parses `SHOW GRANTS` lines; password hashes and everything after `TO` are dropped.
pub(crate) fn parse_grants(lines: &[String]) -> Grants {
    let mut g = Grants::default();
    for line in lines {
        let Some(body) = line.trim().strip_prefix("GRANT ") else {
            continue;
        };
        let grant_option = line.contains("WITH GRANT OPTION");
        match (find_top(body, " ON "), find_top(body, " TO ")) {
            (Some(on_at), Some(to_at)) if on_at < to_at => {
                let privileges = split_top(&body[..on_at])
                    .into_iter()
                    .map(|p| p.trim().to_ascii_uppercase())
                    .filter(|p| !p.is_empty())
                    .collect();
                let on = body[on_at + 4..to_at].trim();
                let on = on.strip_prefix("TABLE ").unwrap_or(on).trim().to_string();
                g.grants.push(Grant {
                    privileges,
                    on,
                    grant_option,
                });
            }
            (None, Some(to_at)) => g.roles.push(body[..to_at].trim().to_string()),
            _ => {}
        }
    }
    g
}

/// Finds `needle` outside backticks, quotes and parentheses.
pub(super) fn find_top(s: &str, needle: &str) -> Option<usize> {
    let mut depth = 0i32;
    let mut quote: Option<char> = None;
    for (i, c) in s.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '`' | '\'' | '"') => quote = Some(c),
            (None, '(') => depth += 1,
            (None, ')') => depth -= 1,
            (None, _) if depth == 0 && s[i..].starts_with(needle) => return Some(i),
            _ => {}
        }
    }
    None
}

/// Splits a privilege list at commas outside parentheses (`SELECT (a, b), INSERT`).
pub(super) fn split_top(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut cur = String::new();
    for c in s.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(std::mem::take(&mut cur));
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    out.push(cur);
    out
}

/// The tables of the target database whose name a migration tool uses (see
/// [`crate::migrations`]), with their columns and full column types (`varchar(128)`).
pub(super) fn migration_tables_sql() -> String {
    let names = crate::migrations::table_names_sql();
    format!(
        "SELECT CAST(TABLE_NAME AS CHAR), CAST(COLUMN_NAME AS CHAR), CAST(COLUMN_TYPE AS CHAR) \
         FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() \
         AND LOWER(TABLE_NAME) IN ({names}) ORDER BY TABLE_NAME, ORDINAL_POSITION"
    )
}

/// Reads each history table found, all in one batch (text protocol: no prepared statement is
/// left on the session); a table that cannot be read costs only its own answer and makes the
/// check an error.
/// The migration history, read in a message of its own when there is one to read, with our
/// server connection asked for again at its end (`None`: no message was sent).
pub(super) async fn migrations(
    runner: &Runner<'_>,
    pool: &MySqlPool,
    found: Probe<Vec<(String, String, String)>>,
) -> (Probe<Vec<MigrationHistory>>, Option<Probe<(String,)>>) {
    use crate::engines::sql::mysql_ident;
    use crate::migrations::Candidate;
    let Probe::Ok { value: rows, ms } = found else {
        return (found.map(|_| Vec::new()), None);
    };
    let candidates =
        Candidate::from_rows(rows.into_iter().map(|(t, c, ty)| (None, t, c, ty, None)));
    let reads: Vec<_> = candidates
        .iter()
        .filter_map(|cand| {
            let tool = cand.tool(&candidates)?;
            // The names come from information_schema and are quoted here.
            let sql = format!(
                "SELECT {} FROM {}",
                cand.select_list(tool, |c| format!("CAST({} AS CHAR)", mysql_ident(c))),
                mysql_ident(&cand.name)
            );
            Some((tool, cand.name.clone(), tool.read_columns().len(), sql))
        })
        .collect();
    if reads.is_empty() {
        return (Probe::ok(Vec::new(), ms), None);
    }
    let mut stmts: Vec<Stmt> = reads
        .iter()
        .map(|(.., sql)| Stmt::new("history table", sql.clone()))
        .collect();
    stmts.push(Stmt::new(
        "connection again",
        super::super::pooler::CONNECTION_AGAIN,
    ));
    let mut answers = Answers::new(runner.batch(pool, &stmts).await);
    let mut out = Vec::new();
    let mut failed = None;
    for (tool, name, n, _) in reads {
        match answers.next("history table").texts(n) {
            Probe::Ok { value, .. } if failed.is_none() => {
                out.push(MigrationHistory::read(tool, name, &value))
            }
            Probe::Ok { .. } => {}
            other => failed = failed.or(Some(other.map(|_| Vec::new()))),
        }
    }
    let again = answers.next("connection again").one();
    (failed.unwrap_or(Probe::ok(out, ms)), Some(again))
}

/// What the app's SQL may rely on, from the flavor and version.
pub(crate) fn capabilities(
    id: &ServerIdentity,
    charset: Option<&str>,
) -> BTreeMap<String, Capability> {
    let v = (id.major, id.minor, id.patch.unwrap_or(0));
    let maria = id.flavor == "mariadb";
    pub(super) fn cap(supported: bool, basis: impl Into<String>) -> Capability {
        Capability::from_version(supported, basis)
    }
    // MariaDB since `m`, MySQL (and the MySQL-based flavors) since `my`.
    let since = |m: (u64, u64, u64), my: Option<(u64, u64, u64)>, what: &str| {
        if maria {
            cap(v >= m, format!("{what}: MariaDB {}.{}.{}+", m.0, m.1, m.2))
        } else {
            match my {
                Some(my) => cap(
                    v >= my,
                    format!("{what}: MySQL {}.{}.{}+", my.0, my.1, my.2),
                ),
                None => cap(false, format!("{what}: not in MySQL")),
            }
        }
    };
    let mut m = BTreeMap::new();
    m.insert(
        "json".into(),
        if maria {
            cap(
                v >= (10, 2, 7),
                "JSON is an alias of LONGTEXT with a JSON_VALID check (MariaDB 10.2.7+), not a native type",
            )
        } else {
            cap(v >= (5, 7, 8), "native JSON type: MySQL 5.7.8+")
        },
    );
    m.insert(
        "cte".into(),
        since((10, 2, 1), Some((8, 0, 1)), "WITH queries"),
    );
    m.insert(
        "window-functions".into(),
        since((10, 2, 0), Some((8, 0, 2)), "window functions"),
    );
    m.insert(
        "check-constraints".into(),
        since(
            (10, 2, 1),
            Some((8, 0, 16)),
            "CHECK constraints enforced (parsed and ignored before)",
        ),
    );
    m.insert(
        "transactional-ddl".into(),
        cap(
            false,
            "DDL commits implicitly: a failed migration is not rolled back",
        ),
    );
    m.insert(
        "drop-cascade".into(),
        cap(false, "DROP TABLE ... CASCADE is parsed and ignored"),
    );
    m.insert(
        "returning".into(),
        since((10, 5, 0), None, "INSERT/DELETE ... RETURNING"),
    );
    m.insert(
        "upsert".into(),
        cap(true, "INSERT ... ON DUPLICATE KEY UPDATE"),
    );
    m.insert(
        "sequences".into(),
        since((10, 3, 0), None, "CREATE SEQUENCE"),
    );
    m.insert(
        "varchar-without-length".into(),
        cap(
            false,
            "VARCHAR needs a length: `VARCHAR` alone is a syntax error",
        ),
    );
    m.insert("string-agg".into(), cap(true, "GROUP_CONCAT()"));
    m.insert("drop-if-exists".into(), cap(true, "DROP ... IF EXISTS"));
    m.insert(
        "offset-fetch".into(),
        since((10, 6, 0), None, "OFFSET ... FETCH FIRST"),
    );
    m.insert("merge".into(), cap(false, "no MERGE statement"));
    m.insert(
        "create-or-alter".into(),
        cap(
            false,
            "CREATE OR REPLACE exists for views and routines, not CREATE OR ALTER",
        ),
    );
    if let Some(cs) = charset {
        m.insert(
            "utf8".into(),
            cap(
                cs.eq_ignore_ascii_case("utf8mb4"),
                format!("database character set {cs}"),
            ),
        );
    }
    m
}
