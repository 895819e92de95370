//! The SQLite registry, in report order.

use super::facts::SqliteFacts;
use crate::checks as common;
use crate::checks::{Place, SharedChecks, Words};
use crate::engine::Engine;
use crate::matrix::SettingRule;
use crate::net::FailureKind;
use crate::registry::{Category, Check, Ctx, Outcome, Verdict};
use crate::report::TargetInfo;
use std::sync::LazyLock;

/// The keys of the `[sqlite]` matrix table read by this engine's own checks (beyond the shared
/// ones); a key another engine reads is an error there.
pub const MATRIX_KEYS: &[&str] = &["encodings"];

fn integrity(f: &SqliteFacts, _: &Ctx) -> Outcome {
    let rows = f.quick_check.get()?;
    Ok(if rows.len() == 1 && rows[0] == "ok" {
        Verdict::pass("PRAGMA quick_check found no corruption").observed("ok")
    } else {
        Verdict::fail(format!("the database file is damaged: {}", rows.join("; ")))
            .observed(rows.join("; "))
            .expected("ok")
            .remedy("Restore from a backup, or salvage with: sqlite3 broken.db .recover | sqlite3 repaired.db")
    })
}

fn encoding(f: &SqliteFacts, ctx: &Ctx) -> Outcome {
    let p = f.pragmas.get()?;
    let accepted = ctx
        .rules
        .encodings
        .clone()
        .unwrap_or_else(|| vec!["UTF-8".into()]);
    let ok = accepted.iter().any(|e| e.eq_ignore_ascii_case(&p.encoding));
    Ok(if ok {
        Verdict::pass(format!("text is stored as {}", p.encoding))
    } else {
        Verdict::warn(format!("text is stored as {}: SQLite converts, but byte lengths and indexes differ", p.encoding))
            .remedy("The encoding is fixed when the database is created: create a new one (PRAGMA encoding = 'UTF-8' before the first table) and copy the data (.dump).")
    }
    .observed(&p.encoding)
    .expected(accepted.join(", ")))
}

fn journal_mode(f: &SqliteFacts, _: &Ctx) -> Outcome {
    let p = f.pragmas.get()?;
    let m = p.journal_mode.to_ascii_lowercase();
    let in_memory = f.file.value().is_some_and(|f| f.in_memory);
    Ok(match m.as_str() {
        "wal" => Verdict::pass("write-ahead log: readers do not block the writer"),
        "memory" if in_memory => Verdict::pass("in-memory database"),
        "off" | "memory" => Verdict::fail(format!("journal_mode={m}: a crash during a write can corrupt the database"))
            .remedy("PRAGMA journal_mode = WAL;"),
        _ => Verdict::warn(format!("journal_mode={m}: a writer blocks every reader, so concurrent requests will wait or fail with SQLITE_BUSY"))
            .remedy("PRAGMA journal_mode = WAL;  (persistent: run it once on the file)"),
    }
    .observed(format!("journal_mode = {m}"))
    .expected("wal"))
}

/// What the client does about orphan rows, in their application's terms (not ours).
const FOREIGN_KEYS_FIX: &str = "Run PRAGMA foreign_key_check; to list the orphan rows, then fix or delete them. Then make every connection of your application enforce the constraints: run PRAGMA foreign_keys = ON; right after opening it (it is per connection, not stored in the file). Most drivers can do it for you: Python sqlite3 — conn.execute('PRAGMA foreign_keys = ON') in your connect function (SQLAlchemy: an event.listens_for(engine, 'connect') hook); Django — enabled by default; Rails — enabled by default since 5.2; Node better-sqlite3 — db.pragma('foreign_keys = ON'); Prisma — enabled by default; Go mattn/go-sqlite3 — `?_foreign_keys=on` in the DSN; JDBC (xerial) — `?foreign_keys=true` in the URL; Rust sqlx — on by default.";

fn foreign_keys(f: &SqliteFacts, _: &Ctx) -> Outcome {
    let n = *f.foreign_keys.get()?;
    let bad = f.foreign_key_violations.get()?;
    let per_connection = "SQLite enforces foreign keys only on connections that run PRAGMA foreign_keys = ON: make every connection of your application run it when it opens";
    Ok(if !bad.is_empty() {
        Verdict::fail(format!("{} row(s) violate foreign keys: the constraints were not enforced when they were written", bad.len()))
            .observed(bad.join("; "))
            .expected("no violations")
            .remedy(FOREIGN_KEYS_FIX)
    } else {
        Verdict::pass(format!(
            "{n} foreign key(s), no violations; {per_connection}"
        ))
        .observed(format!("{n} foreign keys, 0 violations"))
    })
}

fn json(f: &SqliteFacts, _: &Ctx) -> Outcome {
    let ok = *f.json.get()?;
    let has_opt = f
        .compile_options
        .value()
        .is_some_and(|o| o.iter().any(|x| x.contains("JSON")));
    Ok(if ok {
        Verdict::pass("JSON functions available").observed(if has_opt {
            "json1 compiled in"
        } else {
            "built in (3.38+)"
        })
    } else {
        Verdict::fail("this SQLite has no JSON functions")
            .observed("json_valid() unknown")
            .remedy("Use an SQLite built with JSON (3.38+ has it built in, or compile with SQLITE_ENABLE_JSON1).")
    })
}

fn compile_options(f: &SqliteFacts, _: &Ctx) -> Outcome {
    let o = f.compile_options.get()?;
    let threadsafe = o
        .iter()
        .find(|x| x.starts_with("THREADSAFE="))
        .cloned()
        .unwrap_or_else(|| "THREADSAFE=?".into());
    let notable: Vec<&str> = o
        .iter()
        .map(String::as_str)
        .filter(|x| {
            x.starts_with("THREADSAFE")
                || x.contains("JSON")
                || x.starts_with("ENABLE_FTS")
                || x.starts_with("DEFAULT_FOREIGN_KEYS")
                || x.starts_with("OMIT_")
        })
        .collect();
    let observed = format!("{} options, including {}", o.len(), notable.join(", "));
    Ok(if threadsafe == "THREADSAFE=0" {
        Verdict::fail("built without thread safety (THREADSAFE=0): a multi-threaded application will corrupt memory")
            .observed(observed)
            .remedy("Use an SQLite built with THREADSAFE=1 or 2.")
    } else {
        Verdict::pass(threadsafe.clone()).observed(observed)
    })
}

fn database_size(f: &SqliteFacts, _: &Ctx) -> Outcome {
    let p = f.pragmas.get()?;
    let v = common::database_size(&f.common, None)?;
    Ok(if p.page_count > 0 && p.freelist_count * 4 > p.page_count {
        Verdict::warn(format!(
            "{} — {} of {} pages are free",
            v.message, p.freelist_count, p.page_count
        ))
        .observed(v.observed.unwrap_or_default())
        .remedy(
            "VACUUM; (rewrites the file without free pages; needs as much free disk as the file)",
        )
    } else {
        v
    })
}

fn writability(f: &SqliteFacts, ctx: &Ctx) -> Outcome {
    let file = f.file.get()?;
    if file.in_memory {
        return Ok(Verdict::warn(
            "an in-memory database: everything is lost when the process exits",
        )
        .observed(":memory:")
        .remedy("Point the URL at a database file: sqlite:///path/to/app.db"));
    }
    common::writability(&f.common, ctx, &f.writability_remedy())
}

impl SharedChecks for SqliteFacts {
    const ENGINE: Engine = Engine::Sqlite;
    /// A library reading a file: no TLS, end of life, connection slots, clock or uptime.
    const SERVER: bool = false;
    const HIDDEN_SETTING_HINT: &'static str = "not a PRAGMA this tool reads";

    fn common(&self) -> &common::CommonFacts {
        &self.common
    }
    fn connection_remedy(kind: FailureKind, t: &TargetInfo) -> String {
        let path = t.path.as_deref().unwrap_or("the file");
        match kind {
            FailureKind::DatabaseMissing => format!(
                "No database at `{path}`. Check the path (relative paths start from the current directory), or add ?mode=rwc to create an empty one."
            ),
            FailureKind::Permission => format!(
                "`{path}` cannot be opened: check the file's permissions and that it is an SQLite database."
            ),
            _ => format!(
                "`{path}` could not be opened: read the message; is it an SQLite 3 database file?"
            ),
        }
    }
    fn setting_remedy(&self, name: &str, rule: &SettingRule) -> String {
        format!("PRAGMA {name} = {};", common::wanted_value(rule))
    }
    fn writability_remedy(&self) -> String {
        let path = self.file.value().map_or("the file", |f| f.path.as_str());
        format!(
            "Give the application's user write access to {path} and its directory (chown/chmod), and open it without mode=ro."
        )
    }
    fn words() -> &'static [Words<Self>] {
        WORDS
    }
}

/// This engine's wording of the shared checks (`crate::checks::shared`).
static WORDS: &[Words<SqliteFacts>] = &[
    Words::new(
        "connection",
        "Opens the file (read-only unless --probe-write or mode=rwc). A missing file is database-missing; a file that is not a database, or not readable, fails with the reason.",
        "open(2) through SQLite",
    )
    .title("Database file opened"),
    Words::new(
        "version",
        "sqlite_version() against the matrix's [sqlite] versions, recommended and tested_up_to. The library is compiled into this tool and into the application, so the application's own SQLite is what matters in production.",
        "SELECT sqlite_version()",
    )
    .title("SQLite version supported by the matrix"),
    Words::new(
        "settings",
        "Every [sqlite.settings] rule against journal_mode, foreign_keys, encoding, page_size and user_version.",
        "PRAGMA journal_mode, foreign_keys, encoding, page_size, user_version",
    )
    .title("PRAGMAs the matrix names"),
    Words::new(
        "writability",
        "The file must be writable, and its directory too (SQLite creates the journal or WAL beside it). Asked of the OS with access(2); nothing is written. Fails when [app] needs_write is true.",
        "access(2) on the file and its directory",
    )
    .title("File and directory writable")
    .run(writability),
    Words::new(
        "capabilities",
        "From the version: cte (3.8.3), window-functions (3.25), upsert (3.24), returning (3.35), string-agg (3.44); never drop-cascade or sequences. The matrix's capabilities list must all be present.",
        "(derived from sqlite_version() and json_valid())",
    ),
    Words::new(
        "write-probe",
        "Only with --probe-write (which opens the file read-write): inside a transaction, creates a uniquely named table, adds a VARCHAR without length and a JSON-checked column, inserts with RETURNING and ON CONFLICT, tries DROP ... CASCADE, rolls back and looks for leftovers.",
        "BEGIN; CREATE TABLE byod_precheck_probe_...; ...; ROLLBACK; SELECT name FROM sqlite_master WHERE name LIKE 'byod_precheck_probe_...%'",
    ),
    Words::new(
        "workload",
        "Only with --probe-write and a matrix that names [app.workload] dir: runs the product's SQL files (DIR/sqlite/*.sql, in file-name order) inside one BEGIN IMMEDIATE transaction, each statement in a savepoint, then ROLLBACK (never COMMIT; mode=ro and immutable=1 files are skipped). Statements that would leave that area (COMMIT, USE, CREATE DATABASE, ALTER SYSTEM, GRANT, ...) are refused before anything is sent. Fails naming each failing statement's file:line, the server's own error and code, and the portable rewrite where one is known; statements that failed only because an earlier one did are named as consequences. Skipped without the privilege it needs (with the GRANT), on read-only targets and replicas.",
        "BEGIN IMMEDIATE; (each statement in a SAVEPOINT); ROLLBACK; SELECT name FROM sqlite_master (before and after)",
    ),
    Words::new(
        "database-size",
        "page_size × page_count; more than a quarter of pages free warns (VACUUM reclaims them).",
        "PRAGMA page_size, page_count, freelist_count",
    )
    .title("Database size and free pages")
    .run(database_size),
    Words::new(
        "migrations",
        "Finds the history tables of the migration tools byod-precheck knows (Alembic, Django, Flyway, Liquibase, Rails, sqlx, EF Core, Diesel, refinery, SeaORM, goose, golang-migrate, dbmate, Ecto, knex, Sequelize, TypeORM, MikroORM, node-pg-migrate, Drizzle, Kysely, Prisma, Doctrine, Laravel, Phinx, yoyo), told apart by table name and columns, and reads each one's latest version (Django: per app). User tables with no known history warn as an unknown history. With [app.migrations], a missing history warns and another version fails.",
        "SELECT name FROM sqlite_master WHERE type = 'table'; then the latest row of each table found",
    ),
];

/// The sqlite checks of its own, each group after the shared check it follows in the report.
pub static OWN: &[Place<SqliteFacts>] = &[
    Place {
        after: "version",
        checks: &[
            Check {
                id: "sqlite.integrity",
                category: Category::Resources,
                title: "File not corrupted",
                doc: "PRAGMA quick_check: structure and index consistency without the full O(N log N) cross-check of integrity_check.",
                asks: "PRAGMA quick_check(20)",
                run: integrity,
            },
            Check {
                id: "sqlite.encoding",
                category: Category::Encoding,
                title: "Text encoding is UTF-8",
                doc: "PRAGMA encoding, fixed when the database was created. UTF-16 databases work, but byte lengths and indexes differ from what the product expects.",
                asks: "PRAGMA encoding",
                run: encoding,
            },
            Check {
                id: "sqlite.journal-mode",
                category: Category::Settings,
                title: "Journal mode allows concurrent readers",
                doc: "WAL lets readers proceed while one writer writes; the rollback journal blocks them (SQLITE_BUSY under load); off or memory risks corruption on a crash.",
                asks: "PRAGMA journal_mode",
                run: journal_mode,
            },
            Check {
                id: "sqlite.foreign-keys",
                category: Category::Settings,
                title: "No rows violate foreign keys",
                doc: "SQLite ignores FOREIGN KEY constraints unless each connection runs PRAGMA foreign_keys = ON, so databases written without it often hold orphan rows that break the first enforced write. PRAGMA foreign_key_check finds them; any fails.",
                asks: "SELECT count(*) FROM sqlite_master, pragma_foreign_key_list(name); SELECT * FROM pragma_foreign_key_check",
                run: foreign_keys,
            },
        ],
    },
    Place {
        after: "writability",
        checks: &[Check {
            id: "sqlite.json",
            category: Category::Capabilities,
            title: "JSON functions available",
            doc: "json_valid() must answer: SQLite 3.38+ has JSON built in; older builds need SQLITE_ENABLE_JSON1.",
            asks: "SELECT json_valid('{\"a\": 1}'); PRAGMA compile_options",
            run: json,
        }],
    },
    Place {
        after: "workload",
        checks: &[Check {
            id: "sqlite.compile-options",
            category: Category::Resources,
            title: "Built thread-safe",
            doc: "PRAGMA compile_options; THREADSAFE=0 fails because a multi-threaded application would corrupt memory.",
            asks: "SELECT compile_options FROM pragma_compile_options",
            run: compile_options,
        }],
    },
];

/// The sqlite checks, in report order: the shared ones and its own.
pub static CHECKS: LazyLock<Vec<Check<SqliteFacts>>> = LazyLock::new(|| common::registry(OWN));
