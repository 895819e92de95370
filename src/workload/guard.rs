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

/// The refused patterns.
const RULES: &[Rule] = &[
    Rule {
        words: &["COMMIT"],
        at: At::Start,
        engines: ALL,
        why: TX,
    },
    Rule {
        words: &["END"],
        at: At::Start,
        engines: ALL,
        why: TX,
    },
    Rule {
        words: &["ROLLBACK"],
        at: At::Start,
        engines: ALL,
        why: TX,
    },
    Rule {
        words: &["SAVEPOINT"],
        at: At::Start,
        engines: ALL,
        why: TX,
    },
    Rule {
        words: &["RELEASE"],
        at: At::Start,
        engines: ALL,
        why: TX,
    },
    Rule {
        words: &["ABORT"],
        at: At::Start,
        engines: PG,
        why: TX,
    },
    Rule {
        words: &["PREPARE", "TRANSACTION"],
        at: At::Start,
        engines: PG,
        why: TX,
    },
    Rule {
        words: &["START", "TRANSACTION"],
        at: At::Start,
        engines: ALL,
        why: TX,
    },
    Rule {
        words: &["BEGIN"],
        at: At::Start,
        engines: &[Engine::Postgres, Engine::Mysql, Engine::Sqlite],
        why: TX,
    },
    Rule {
        words: &["XA"],
        at: At::Start,
        engines: MY,
        why: TX,
    },
    Rule {
        words: &["LOCK", "TABLES"],
        at: At::Start,
        engines: MY,
        why: TX,
    },
    Rule {
        words: &["UNLOCK", "TABLES"],
        at: At::Start,
        engines: MY,
        why: TX,
    },
    Rule {
        words: &["SET", "AUTOCOMMIT"],
        at: At::Start,
        engines: MY,
        why: TX,
    },
    Rule {
        words: &["SET", "IMPLICIT_TRANSACTIONS"],
        at: At::Anywhere,
        engines: MS,
        why: TX,
    },
    Rule {
        words: &["BEGIN", "TRAN"],
        at: At::Anywhere,
        engines: MS,
        why: TX,
    },
    Rule {
        words: &["BEGIN", "TRANSACTION"],
        at: At::Anywhere,
        engines: MS,
        why: TX,
    },
    Rule {
        words: &["BEGIN", "DISTRIBUTED"],
        at: At::Anywhere,
        engines: MS,
        why: TX,
    },
    Rule {
        words: &["COMMIT"],
        at: At::Anywhere,
        engines: MS,
        why: TX,
    },
    Rule {
        words: &["ROLLBACK"],
        at: At::Anywhere,
        engines: MS,
        why: TX,
    },
    Rule {
        words: &["SAVE", "TRAN"],
        at: At::Anywhere,
        engines: MS,
        why: TX,
    },
    Rule {
        words: &["SAVE", "TRANSACTION"],
        at: At::Anywhere,
        engines: MS,
        why: TX,
    },
    Rule {
        words: &["CREATE", "DATABASE"],
        at: At::Anywhere,
        engines: ALL,
        why: DB,
    },
    Rule {
        words: &["DROP", "DATABASE"],
        at: At::Anywhere,
        engines: ALL,
        why: DB,
    },
    Rule {
        words: &["ALTER", "DATABASE"],
        at: At::Anywhere,
        engines: ALL,
        why: DB,
    },
    Rule {
        words: &["CREATE", "SCHEMA"],
        at: At::Start,
        engines: MY,
        why: DB,
    },
    Rule {
        words: &["DROP", "SCHEMA"],
        at: At::Start,
        engines: MY,
        why: DB,
    },
    Rule {
        words: &["USE"],
        at: At::Anywhere,
        engines: &[Engine::Mysql, Engine::Mssql],
        why: DB,
    },
    Rule {
        words: &["ALTER", "SYSTEM"],
        at: At::Start,
        engines: PG,
        why: DB,
    },
    Rule {
        words: &["ALTER", "SERVER"],
        at: At::Anywhere,
        engines: ALL,
        why: DB,
    },
    Rule {
        words: &["CREATE", "TABLESPACE"],
        at: At::Start,
        engines: ALL,
        why: DB,
    },
    Rule {
        words: &["SET", "GLOBAL"],
        at: At::Start,
        engines: MY,
        why: DB,
    },
    Rule {
        words: &["SET", "PERSIST"],
        at: At::Start,
        engines: MY,
        why: DB,
    },
    Rule {
        words: &["SET", "PERSIST_ONLY"],
        at: At::Start,
        engines: MY,
        why: DB,
    },
    Rule {
        words: &["SHUTDOWN"],
        at: At::Anywhere,
        engines: ALL,
        why: DB,
    },
    Rule {
        words: &["KILL"],
        at: At::Anywhere,
        engines: &[Engine::Mysql, Engine::Mssql],
        why: DB,
    },
    Rule {
        words: &["FLUSH"],
        at: At::Start,
        engines: MY,
        why: DB,
    },
    Rule {
        words: &["INSTALL"],
        at: At::Start,
        engines: MY,
        why: DB,
    },
    Rule {
        words: &["RECONFIGURE"],
        at: At::Anywhere,
        engines: MS,
        why: DB,
    },
    Rule {
        words: &["SP_CONFIGURE"],
        at: At::Anywhere,
        engines: MS,
        why: DB,
    },
    Rule {
        words: &["XP_CMDSHELL"],
        at: At::Anywhere,
        engines: MS,
        why: FILES,
    },
    Rule {
        words: &["BACKUP"],
        at: At::Anywhere,
        engines: MS,
        why: FILES,
    },
    Rule {
        words: &["RESTORE"],
        at: At::Anywhere,
        engines: MS,
        why: FILES,
    },
    Rule {
        words: &["DBCC"],
        at: At::Anywhere,
        engines: MS,
        why: DB,
    },
    Rule {
        words: &["ATTACH"],
        at: At::Start,
        engines: LITE,
        why: DB,
    },
    Rule {
        words: &["DETACH"],
        at: At::Start,
        engines: LITE,
        why: DB,
    },
    Rule {
        words: &["VACUUM"],
        at: At::Start,
        engines: &[Engine::Sqlite, Engine::Postgres],
        why: "cannot run inside the workload's transaction (VACUUM INTO would write a file)",
    },
    Rule {
        words: &["CHECKPOINT"],
        at: At::Start,
        engines: PG,
        why: DB,
    },
    Rule {
        words: &["GRANT"],
        at: At::Anywhere,
        engines: ALL,
        why: ROLES,
    },
    Rule {
        words: &["REVOKE"],
        at: At::Anywhere,
        engines: ALL,
        why: ROLES,
    },
    Rule {
        words: &["CREATE", "ROLE"],
        at: At::Anywhere,
        engines: ALL,
        why: ROLES,
    },
    Rule {
        words: &["ALTER", "ROLE"],
        at: At::Anywhere,
        engines: ALL,
        why: ROLES,
    },
    Rule {
        words: &["DROP", "ROLE"],
        at: At::Anywhere,
        engines: ALL,
        why: ROLES,
    },
    Rule {
        words: &["CREATE", "USER"],
        at: At::Anywhere,
        engines: ALL,
        why: ROLES,
    },
    Rule {
        words: &["ALTER", "USER"],
        at: At::Anywhere,
        engines: ALL,
        why: ROLES,
    },
    Rule {
        words: &["DROP", "USER"],
        at: At::Anywhere,
        engines: ALL,
        why: ROLES,
    },
    Rule {
        words: &["CREATE", "LOGIN"],
        at: At::Anywhere,
        engines: MS,
        why: ROLES,
    },
    Rule {
        words: &["ALTER", "LOGIN"],
        at: At::Anywhere,
        engines: MS,
        why: ROLES,
    },
    Rule {
        words: &["SET", "ROLE"],
        at: At::Start,
        engines: PG,
        why: ROLES,
    },
    Rule {
        words: &["SET", "SESSION", "AUTHORIZATION"],
        at: At::Start,
        engines: PG,
        why: ROLES,
    },
    Rule {
        words: &["COPY"],
        at: At::Start,
        engines: PG,
        why: FILES,
    },
    Rule {
        words: &["LOAD", "DATA"],
        at: At::Start,
        engines: MY,
        why: FILES,
    },
    Rule {
        words: &["INTO", "OUTFILE"],
        at: At::Anywhere,
        engines: MY,
        why: FILES,
    },
    Rule {
        words: &["INTO", "DUMPFILE"],
        at: At::Anywhere,
        engines: MY,
        why: FILES,
    },
    Rule {
        words: &["LOAD_FILE"],
        at: At::Anywhere,
        engines: MY,
        why: FILES,
    },
    Rule {
        words: &["PG_READ_FILE"],
        at: At::Anywhere,
        engines: PG,
        why: FILES,
    },
    Rule {
        words: &["LO_EXPORT"],
        at: At::Anywhere,
        engines: PG,
        why: FILES,
    },
    Rule {
        words: &["PG_TERMINATE_BACKEND"],
        at: At::Anywhere,
        engines: PG,
        why: DB,
    },
    Rule {
        words: &["DBLINK_EXEC"],
        at: At::Anywhere,
        engines: PG,
        why: DB,
    },
    Rule {
        words: &["PRAGMA", "JOURNAL_MODE"],
        at: At::Start,
        engines: LITE,
        why: "changes the database file itself, outside any transaction",
    },
    Rule {
        words: &["PRAGMA", "WRITABLE_SCHEMA"],
        at: At::Start,
        engines: LITE,
        why: "changes the database file itself, outside any transaction",
    },
    Rule {
        words: &["PRAGMA", "LOCKING_MODE"],
        at: At::Start,
        engines: LITE,
        why: "changes the database file itself, outside any transaction",
    },
    Rule {
        words: &["PRAGMA", "WAL_CHECKPOINT"],
        at: At::Start,
        engines: LITE,
        why: "changes the database file itself, outside any transaction",
    },
    Rule {
        words: &["PRAGMA", "AUTO_VACUUM"],
        at: At::Start,
        engines: LITE,
        why: "changes the database file itself, outside any transaction",
    },
    Rule {
        words: &["PRAGMA", "INCREMENTAL_VACUUM"],
        at: At::Start,
        engines: LITE,
        why: "changes the database file itself, outside any transaction",
    },
    Rule {
        words: &["PRAGMA", "PAGE_SIZE"],
        at: At::Start,
        engines: LITE,
        why: "changes the database file itself, outside any transaction",
    },
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
