//! The escape guard: statements that would leave the scratch area (end or take over the
//! transaction the workload runs in, reach another database, change the server, its roles or
//! files) are refused before anything is sent. The rules are data, one table.

use super::split::{Statement, Token};
use crate::engine::Engine;

/// Where a rule's keywords must stand.
#[derive(Clone, Copy, PartialEq, Eq)]
enum At {
    /// At the start of the statement.
    Start,
    /// Anywhere in it (T-SQL batches hold many statements; `INTO OUTFILE` ends a SELECT).
    Anywhere,
}

/// One refused pattern: consecutive keywords, the engines it applies to (empty: all), and why.
struct Rule {
    words: &'static [&'static str],
    at: At,
    engines: &'static [Engine],
    why: &'static str,
}

const ALL: &[Engine] = &[];
const PG: &[Engine] = &[Engine::Postgres];
const MY: &[Engine] = &[Engine::Mysql];
const MS: &[Engine] = &[Engine::Mssql];
const LITE: &[Engine] = &[Engine::Sqlite];

const TX: &str = "would end or take over the transaction the workload runs in (it is rolled back, or its scratch database dropped, by the tool)";
const DB: &str = "would reach outside the scratch area (another database, or the server itself)";
const ROLES: &str = "would change roles or privileges, which outlive any transaction";
const FILES: &str = "would read or write files on the server";
const FILE: &str = "changes the database file itself, outside any transaction";

/// One line of the table below.
const fn rule(
    words: &'static [&'static str],
    at: At,
    engines: &'static [Engine],
    why: &'static str,
) -> Rule {
    Rule {
        words,
        at,
        engines,
        why,
    }
}

/// The refused patterns.
const RULES: &[Rule] = &[
    rule(&["COMMIT"], At::Start, ALL, TX),
    rule(&["END"], At::Start, ALL, TX),
    rule(&["ROLLBACK"], At::Start, ALL, TX),
    rule(&["SAVEPOINT"], At::Start, ALL, TX),
    rule(&["RELEASE"], At::Start, ALL, TX),
    rule(&["ABORT"], At::Start, PG, TX),
    rule(&["PREPARE", "TRANSACTION"], At::Start, PG, TX),
    rule(&["START", "TRANSACTION"], At::Start, ALL, TX),
    rule(
        &["BEGIN"],
        At::Start,
        &[Engine::Postgres, Engine::Mysql, Engine::Sqlite],
        TX,
    ),
    rule(&["XA"], At::Start, MY, TX),
    rule(&["LOCK", "TABLES"], At::Start, MY, TX),
    rule(&["UNLOCK", "TABLES"], At::Start, MY, TX),
    rule(&["SET", "AUTOCOMMIT"], At::Start, MY, TX),
    rule(&["SET", "IMPLICIT_TRANSACTIONS"], At::Anywhere, MS, TX),
    rule(&["BEGIN", "TRAN"], At::Anywhere, MS, TX),
    rule(&["BEGIN", "TRANSACTION"], At::Anywhere, MS, TX),
    rule(&["BEGIN", "DISTRIBUTED"], At::Anywhere, MS, TX),
    rule(&["COMMIT"], At::Anywhere, MS, TX),
    rule(&["ROLLBACK"], At::Anywhere, MS, TX),
    rule(&["SAVE", "TRAN"], At::Anywhere, MS, TX),
    rule(&["SAVE", "TRANSACTION"], At::Anywhere, MS, TX),
    rule(&["CREATE", "DATABASE"], At::Anywhere, ALL, DB),
    rule(&["DROP", "DATABASE"], At::Anywhere, ALL, DB),
    rule(&["ALTER", "DATABASE"], At::Anywhere, ALL, DB),
    rule(&["CREATE", "SCHEMA"], At::Start, MY, DB),
    rule(&["DROP", "SCHEMA"], At::Start, MY, DB),
    rule(&["USE"], At::Anywhere, &[Engine::Mysql, Engine::Mssql], DB),
    rule(&["ALTER", "SYSTEM"], At::Start, PG, DB),
    rule(&["ALTER", "SERVER"], At::Anywhere, ALL, DB),
    rule(&["CREATE", "TABLESPACE"], At::Start, ALL, DB),
    rule(&["SET", "GLOBAL"], At::Start, MY, DB),
    rule(&["SET", "PERSIST"], At::Start, MY, DB),
    rule(&["SET", "PERSIST_ONLY"], At::Start, MY, DB),
    rule(&["SHUTDOWN"], At::Anywhere, ALL, DB),
    rule(&["KILL"], At::Anywhere, &[Engine::Mysql, Engine::Mssql], DB),
    rule(&["FLUSH"], At::Start, MY, DB),
    rule(&["INSTALL"], At::Start, MY, DB),
    rule(&["RECONFIGURE"], At::Anywhere, MS, DB),
    rule(&["SP_CONFIGURE"], At::Anywhere, MS, DB),
    rule(&["XP_CMDSHELL"], At::Anywhere, MS, FILES),
    rule(&["BACKUP"], At::Anywhere, MS, FILES),
    rule(&["RESTORE"], At::Anywhere, MS, FILES),
    rule(&["DBCC"], At::Anywhere, MS, DB),
    rule(&["ATTACH"], At::Start, LITE, DB),
    rule(&["DETACH"], At::Start, LITE, DB),
    rule(
        &["VACUUM"],
        At::Start,
        &[Engine::Sqlite, Engine::Postgres],
        "cannot run inside the workload's transaction (VACUUM INTO would write a file)",
    ),
    rule(&["CHECKPOINT"], At::Start, PG, DB),
    rule(&["GRANT"], At::Anywhere, ALL, ROLES),
    rule(&["REVOKE"], At::Anywhere, ALL, ROLES),
    rule(&["CREATE", "ROLE"], At::Anywhere, ALL, ROLES),
    rule(&["ALTER", "ROLE"], At::Anywhere, ALL, ROLES),
    rule(&["DROP", "ROLE"], At::Anywhere, ALL, ROLES),
    rule(&["CREATE", "USER"], At::Anywhere, ALL, ROLES),
    rule(&["ALTER", "USER"], At::Anywhere, ALL, ROLES),
    rule(&["DROP", "USER"], At::Anywhere, ALL, ROLES),
    rule(&["CREATE", "LOGIN"], At::Anywhere, MS, ROLES),
    rule(&["ALTER", "LOGIN"], At::Anywhere, MS, ROLES),
    rule(&["SET", "ROLE"], At::Start, PG, ROLES),
    rule(&["SET", "SESSION", "AUTHORIZATION"], At::Start, PG, ROLES),
    rule(&["COPY"], At::Start, PG, FILES),
    rule(&["LOAD", "DATA"], At::Start, MY, FILES),
    rule(&["INTO", "OUTFILE"], At::Anywhere, MY, FILES),
    rule(&["INTO", "DUMPFILE"], At::Anywhere, MY, FILES),
    rule(&["LOAD_FILE"], At::Anywhere, MY, FILES),
    rule(&["PG_READ_FILE"], At::Anywhere, PG, FILES),
    rule(&["LO_EXPORT"], At::Anywhere, PG, FILES),
    rule(&["PG_TERMINATE_BACKEND"], At::Anywhere, PG, DB),
    rule(&["DBLINK_EXEC"], At::Anywhere, PG, DB),
    rule(&["PRAGMA", "JOURNAL_MODE"], At::Start, LITE, FILE),
    rule(&["PRAGMA", "WRITABLE_SCHEMA"], At::Start, LITE, FILE),
    rule(&["PRAGMA", "LOCKING_MODE"], At::Start, LITE, FILE),
    rule(&["PRAGMA", "WAL_CHECKPOINT"], At::Start, LITE, FILE),
    rule(&["PRAGMA", "AUTO_VACUUM"], At::Start, LITE, FILE),
    rule(&["PRAGMA", "INCREMENTAL_VACUUM"], At::Start, LITE, FILE),
    rule(&["PRAGMA", "PAGE_SIZE"], At::Start, LITE, FILE),
];

/// Keywords after which a MySQL table name stands: `db.table` there names another database.
const MYSQL_TABLE_POSITIONS: &[&str] = &[
    "FROM",
    "JOIN",
    "INTO",
    "UPDATE",
    "TABLE",
    "REFERENCES",
    "EXISTS",
    "ON",
    "TABLES",
];

/// Why a statement is refused, or `None` when it stays in the scratch area.
pub fn refusal(s: &Statement, engine: Engine) -> Option<String> {
    if s.sql.starts_with('\\') {
        return Some("a psql meta-command, not SQL".into());
    }
    let words: Vec<Option<&str>> = s
        .tokens
        .iter()
        .map(|t| match t {
            Token::Word(w) => Some(w.as_str()),
            _ => None,
        })
        .collect();
    for rule in RULES {
        if !(rule.engines.is_empty() || rule.engines.contains(&engine)) {
            continue;
        }
        let n = rule.words.len();
        let matches_at =
            |i: usize| (0..n).all(|k| words.get(i + k).copied().flatten() == Some(rule.words[k]));
        let hit = match rule.at {
            At::Start => matches_at(0),
            At::Anywhere => (0..words.len()).any(matches_at),
        };
        // PostgreSQL's `END` is COMMIT; SQLite's `END` closes a trigger body only inside one.
        if hit {
            return Some(format!("`{}` {}", rule.words.join(" "), rule.why));
        }
    }
    if engine == Engine::Mysql {
        for (i, t) in s.tokens.iter().enumerate() {
            if let Token::Word(w) = t
                && MYSQL_TABLE_POSITIONS.contains(&w.as_str())
            {
                let mut j = i + 1;
                // IF NOT EXISTS / IF EXISTS before the name
                while matches!(s.tokens.get(j), Some(Token::Word(x)) if x == "IF" || x == "NOT" || x == "EXISTS")
                {
                    j += 1;
                }
                let name = |t: Option<&Token>| matches!(t, Some(Token::Word(_) | Token::Ident(_)));
                if name(s.tokens.get(j))
                    && s.tokens.get(j + 1) == Some(&Token::Punct('.'))
                    && name(s.tokens.get(j + 2))
                    && w != "ON"
                {
                    return Some(format!(
                        "`{w} db.table` names another database: the workload runs in a scratch database and must use unqualified names"
                    ));
                }
            }
        }
    }
    None
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::workload::split::split;

    fn refused(sql: &str, e: Engine) -> Option<String> {
        let s = split(sql, e).unwrap();
        s.iter().find_map(|s| refusal(s, e))
    }

    #[test]
    fn transaction_control_is_refused_everywhere() {
        for e in Engine::ALL {
            for sql in [
                "COMMIT",
                "ROLLBACK",
                "SAVEPOINT a",
                "RELEASE SAVEPOINT a",
                "START TRANSACTION",
            ] {
                assert!(refused(sql, e).is_some(), "{e}: {sql}");
            }
        }
        assert!(refused("BEGIN", Engine::Postgres).is_some());
        assert!(
            refused("end", Engine::Postgres)
                .unwrap()
                .contains("transaction")
        );
        // T-SQL: anywhere in the batch, but BEGIN ... END blocks are fine.
        assert!(refused("IF 1 = 1 BEGIN COMMIT TRANSACTION END", Engine::Mssql).is_some());
        assert!(refused("IF 1 = 1 BEGIN SELECT 1 END", Engine::Mssql).is_none());
        assert!(refused("begin tran", Engine::Mssql).is_some());
    }

    #[test]
    fn leaving_the_scratch_area_is_refused() {
        assert!(refused("CREATE DATABASE x", Engine::Postgres).is_some());
        assert!(refused("drop database x", Engine::Mysql).is_some());
        assert!(refused("USE app", Engine::Mysql).is_some());
        assert!(refused("ALTER SYSTEM SET work_mem = '1GB'", Engine::Postgres).is_some());
        assert!(refused("SET GLOBAL max_connections = 1", Engine::Mysql).is_some());
        assert!(refused("SET PERSIST sql_mode = ''", Engine::Mysql).is_some());
        assert!(refused("ATTACH DATABASE 'x.db' AS x", Engine::Sqlite).is_some());
        assert!(refused("VACUUM INTO '/tmp/copy.db'", Engine::Sqlite).is_some());
        assert!(refused("GRANT SELECT ON t TO bob", Engine::Postgres).is_some());
        assert!(refused("ALTER ROLE app SUPERUSER", Engine::Postgres).is_some());
        assert!(refused("SELECT * FROM t INTO OUTFILE '/tmp/x'", Engine::Mysql).is_some());
        assert!(refused("INSERT INTO app.users VALUES (1)", Engine::Mysql).is_some());
        assert!(
            refused(
                "CREATE TABLE IF NOT EXISTS `app`.`t` (id int)",
                Engine::Mysql
            )
            .is_some()
        );
        assert!(refused("\\c otherdb", Engine::Postgres).is_some());
    }

    #[test]
    fn ordinary_statements_pass_even_with_keywords_in_strings_and_comments() {
        for (sql, e) in [
            (
                "INSERT INTO t (note) VALUES ('COMMIT; DROP DATABASE x')",
                Engine::Postgres,
            ),
            ("-- COMMIT\nSELECT 1", Engine::Mysql),
            (
                "SELECT u.id FROM users u JOIN orders o ON o.user_id = u.id",
                Engine::Mysql,
            ),
            (
                "CREATE TABLE users (id int, \"commit\" text)",
                Engine::Postgres,
            ),
            ("CREATE INDEX ix ON users (name)", Engine::Mysql),
            ("SET search_path = app", Engine::Postgres),
            ("CREATE SCHEMA app", Engine::Postgres),
            ("DO $$ BEGIN COMMIT; END $$", Engine::Postgres),
        ] {
            assert_eq!(refused(sql, e), None, "{e}: {sql}");
        }
    }
}
