//! The SQLite collector: opens the file read-only (unless `--probe-write`) and reads PRAGMAs.

use super::facts::{FileFacts, Pragmas, SqliteFacts};
use crate::Engine;
use crate::checks::{Capability, MigrationHistory, ReadOnlyFacts};
use crate::engines::CollectOptions;
use crate::engines::identify_probe;
use crate::engines::sql::{Runner, Scope, error_text};
use crate::net::{ConnectFailure, FailureKind, ms_since};
use crate::probe::Probe;
use crate::target::ConnSpec;
use sqlx::ConnectOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

/// Collects every SQLite fact. Never fails: failures are recorded in the facts.
pub async fn collect(spec: &ConnSpec, opts: &CollectOptions) -> SqliteFacts {
    let mut facts = <super::Sqlite as crate::engines::EngineModule>::started(spec);
    let runner = Runner::new(
        spec,
        opts.check_timeout,
        |_| false,
        |_| None,
        Scope::default(),
    );
    let path = spec.path.clone().unwrap_or_default();
    let in_memory = path == ":memory:";
    let mode = spec.option("mode");
    if !in_memory && mode != Some("rwc") && !Path::new(&path).exists() {
        return failed(
            facts,
            ConnectFailure {
                kind: FailureKind::DatabaseMissing,
                message: format!("no file at `{path}`"),
            },
        );
    }
    // Read-only unless the user allowed writes (or asked us to create the file with mode=rwc).
    let read_only = !(opts.probe_write || mode == Some("rwc") || in_memory);
    let options = SqliteConnectOptions::new()
        .filename(&path)
        .read_only(read_only || mode == Some("ro"))
        .create_if_missing(mode == Some("rwc"))
        .immutable(
            spec.params
                .get("immutable")
                .is_some_and(|v| v == "1" || v == "true"),
        )
        .busy_timeout(opts.check_timeout)
        // foreign_keys is per connection: report the database, not our connection's choice.
        .foreign_keys(false);
    let login = Instant::now();
    let mut conn: SqliteConnection =
        match tokio::time::timeout(opts.connect_timeout, options.connect()).await {
            Err(_) => {
                return failed(
                    facts,
                    ConnectFailure {
                        kind: FailureKind::Timeout,
                        message: "opening the file took too long".into(),
                    },
                );
            }
            Ok(Err(e)) => {
                let message = error_text(&e);
                let kind = if message.contains("not a database") {
                    FailureKind::ServerError
                } else {
                    FailureKind::Permission
                };
                return failed(facts, ConnectFailure { kind, message });
            }
            Ok(Ok(c)) => c,
        };
    facts.common.connection.login_ms = Some(ms_since(login));
    facts.file = if in_memory {
        Probe::ok(
            FileFacts {
                path: path.clone(),
                in_memory: true,
                size_bytes: 0,
                file_writable: true,
                dir_writable: true,
            },
            0,
        )
    } else {
        file_facts(&path)
    };

    let version = runner
        .probe(
            "sqlite_version()",
            1,
            sqlx::query_scalar::<_, String>("SELECT sqlite_version()").fetch_one(&mut conn),
        )
        .await;
    facts.common.identity = identify_probe(Engine::Sqlite, &version, &[]);
    facts.common.version_raw = version;
    facts.pragmas = runner
        .probe(
            "pragmas",
            1,
            sqlx::query_as::<_, (String, i64, String, i64, i64, i64, i64)>(
                "SELECT (SELECT journal_mode FROM pragma_journal_mode), (SELECT foreign_keys FROM pragma_foreign_keys), \
                 (SELECT encoding FROM pragma_encoding), (SELECT page_size FROM pragma_page_size), \
                 (SELECT page_count FROM pragma_page_count), (SELECT freelist_count FROM pragma_freelist_count), \
                 (SELECT user_version FROM pragma_user_version)",
            )
            .fetch_one(&mut conn),
        )
        .await
        .map(|r| Pragmas {
            journal_mode: r.0,
            foreign_keys: r.1 != 0,
            encoding: r.2,
            page_size: r.3.max(0) as u64,
            page_count: r.4.max(0) as u64,
            freelist_count: r.5.max(0) as u64,
            user_version: r.6,
        });
    facts.compile_options = runner
        .probe(
            "compile options",
            1,
            sqlx::query_scalar::<_, String>("SELECT compile_options FROM pragma_compile_options")
                .fetch_all(&mut conn),
        )
        .await;
    facts.quick_check = runner
        .probe(
            "quick_check",
            1,
            sqlx::query_scalar::<_, String>("PRAGMA quick_check(20)").fetch_all(&mut conn),
        )
        .await;
    facts.foreign_key_violations = runner
        .probe(
            "foreign_key_check",
            1,
            sqlx::query_as::<_, (String, Option<i64>, String)>(
                "SELECT \"table\", rowid, parent FROM pragma_foreign_key_check LIMIT 20",
            )
            .fetch_all(&mut conn),
        )
        .await
        .map(|rows| {
            rows.into_iter()
                .map(|(t, id, p)| format!("{t} row {} -> {p}", id.unwrap_or(0)))
                .collect()
        });
    facts.foreign_keys = runner
        .probe(
            "foreign keys",
            1,
            sqlx::query_scalar::<_, i64>(
                "SELECT count(*) FROM sqlite_master m, pragma_foreign_key_list(m.name) WHERE m.type = 'table'",
            )
            .fetch_one(&mut conn),
        )
        .await
        .map(|n| n.max(0) as u64);
    facts.json = runner
        .probe(
            "json_valid",
            1,
            sqlx::query_scalar::<_, i64>("SELECT json_valid('{\"a\": 1}')").fetch_one(&mut conn),
        )
        .await
        .map(|v| v == 1);
    if let Probe::Failed { .. } = facts.json {
        // No JSON functions compiled in: a fact, not an error.
        facts.json = Probe::ok(false, 0);
    }
    (facts.common.user_tables, facts.common.migrations) = migrations(&runner, &mut conn).await;
    facts.common.database_size_bytes = facts.pragmas.clone().map(|p| p.page_size * p.page_count);
    facts.common.read_only = facts.file.clone().map(|f| {
        let mut reasons = Vec::new();
        if !f.in_memory && !f.file_writable {
            reasons.push(format!("{} is not writable by this user", f.path));
        }
        if !f.in_memory && !f.dir_writable {
            reasons
                .push("its directory is not writable (journal and WAL files go there)".to_string());
        }
        if mode == Some("ro") || spec.flag("immutable") == Some(true) {
            reasons.push("opened with mode=ro / immutable".to_string());
        }
        ReadOnlyFacts::from_reasons(reasons)
    });
    facts.common.tls = Probe::not_collected("not applicable: SQLite is a local file");
    facts.common.clock = Probe::not_collected("not applicable: SQLite runs in this process");
    facts.common.uptime_seconds =
        Probe::not_collected("not applicable: SQLite runs in this process");
    facts.common.connections = Probe::not_collected("not applicable: SQLite has no server");
    facts.common.settings = facts.pragmas.clone().map(|p| {
        BTreeMap::from([
            ("journal_mode".to_string(), p.journal_mode),
            (
                "foreign_keys".to_string(),
                if p.foreign_keys { "on" } else { "off" }.to_string(),
            ),
            ("encoding".to_string(), p.encoding),
            ("page_size".to_string(), p.page_size.to_string()),
            ("user_version".to_string(), p.user_version.to_string()),
        ])
    });
    if let Some(id) = facts.common.identity.value() {
        let json = facts.json.value().copied().unwrap_or(false);
        let utf8 = facts
            .pragmas
            .value()
            .map(|p| p.encoding.starts_with("UTF-8"));
        facts.common.capabilities = capabilities(id.major, id.minor, json, utf8);
    }
    facts.common.write_probe = if opts.probe_write {
        let probe = write_probe(&runner, &mut conn).await;
        probe.recorded_in(&mut facts.common.capabilities)
    } else {
        crate::checks::WriteProbe::not_asked("rolled back")
    };
    facts.common.queries = runner.count();
    drop(conn);
    facts
}

/// Creates a scratch table in a transaction, exercises the product's SQL and rolls back.
async fn write_probe(
    runner: &Runner<'_>,
    conn: &mut SqliteConnection,
) -> Probe<crate::checks::WriteProbe> {
    use crate::engines::sql::{Step, scratch_name};
    let t = scratch_name();
    let step = Step::new;
    let mut steps = vec![
        step(
            None,
            format!("CREATE TABLE {t} (id INTEGER PRIMARY KEY CHECK (id > 0))"),
        ),
        step(
            Some("varchar-without-length"),
            format!("ALTER TABLE {t} ADD COLUMN name VARCHAR"),
        ),
        step(
            Some("json"),
            format!("ALTER TABLE {t} ADD COLUMN doc TEXT CHECK (doc IS NULL OR json_valid(doc))"),
        ),
    ];
    steps.extend(crate::engines::sql::returning_and_upsert(&t));
    steps.extend([
        step(None, format!("CREATE VIEW {t}_v AS SELECT id FROM {t}")),
        step(Some("drop-cascade"), format!("DROP TABLE {t} CASCADE")),
    ]);
    let leftover = format!("SELECT name FROM sqlite_master WHERE name LIKE '{t}%'");
    crate::engines::sql::write_probe(runner, conn, &t, "BEGIN", steps, leftover).await
}

/// Records a connection failure; the other checks are then skipped (see `registry::evaluate`).
pub(super) fn failed(mut facts: SqliteFacts, f: ConnectFailure) -> SqliteFacts {
    facts.common.connection.failure = Some(f);
    facts
}

fn file_facts(path: &str) -> Probe<FileFacts> {
    let t = Instant::now();
    let p = Path::new(path);
    let meta = match std::fs::metadata(p) {
        Ok(m) => m,
        Err(e) => {
            return Probe::Failed {
                message: format!("{path}: {e}"),
                ms: 0,
            };
        }
    };
    let dir = p
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    Probe::ok(
        FileFacts {
            path: path.to_string(),
            in_memory: false,
            size_bytes: meta.len(),
            file_writable: writable(p),
            dir_writable: writable(dir),
        },
        ms_since(t),
    )
}

/// Whether this process may write a path, asked of the OS (access(2)) without writing
/// anything; it honours read-only mounts.
fn writable(p: &Path) -> bool {
    rustix::fs::access(p, rustix::fs::Access::WRITE_OK).is_ok()
}

/// The user tables, and every migration history among them (see [`crate::migrations`]): the
/// tables whose name a tool uses are listed with their declared column types, and each one a
/// tool's signature matches is read.
async fn migrations(
    runner: &Runner<'_>,
    conn: &mut SqliteConnection,
) -> (Probe<u64>, Probe<Vec<MigrationHistory>>) {
    use crate::migrations::Candidate;
    use sqlx::Row;
    let user_tables = runner
        .probe(
            "sqlite_master",
            1,
            sqlx::query_scalar::<_, i64>(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
            )
            .fetch_one(&mut *conn),
        )
        .await
        .map(|n| n.max(0).unsigned_abs());
    let names = crate::migrations::table_names_sql();
    let found = runner
        .probe(
            "migration tables",
            1,
            sqlx::query_as::<_, (String, String, String)>(&format!(
                "SELECT m.name, p.name, p.type FROM sqlite_master m, pragma_table_info(m.name) p \
                 WHERE m.type = 'table' AND lower(m.name) IN ({names}) ORDER BY m.name, p.cid"
            ))
            .fetch_all(&mut *conn),
        )
        .await;
    let Probe::Ok { value: rows, ms } = found else {
        return (user_tables, found.map(|_| Vec::new()));
    };
    let quote = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
    let mut out = Vec::new();
    let candidates =
        Candidate::from_rows(rows.into_iter().map(|(t, c, ty)| (None, t, c, ty, None)));
    for cand in &candidates {
        let Some(tool) = cand.tool(&candidates) else {
            continue;
        };
        let columns = cand.read_columns(tool);
        // One character past the value cap: enough for the cap to show, never a whole huge value.
        let cap = crate::engines::sql::MAX_VALUE_BYTES + 1;
        // The names come from sqlite_master and are quoted here.
        let sql = format!(
            "SELECT {} FROM {}",
            columns
                .iter()
                .map(|c| format!("substr(CAST({} AS TEXT), 1, {})", quote(c), cap))
                .collect::<Vec<_>>()
                .join(", "),
            quote(&cand.name)
        );
        let read = runner
            .probe(
                &format!("{} history", cand.name),
                1,
                crate::engines::sql::bounded(sqlx::query(&sql).fetch(&mut *conn)),
            )
            .await;
        let rows: Vec<Vec<Option<String>>> = match read {
            Probe::Ok { value, .. } => value
                .iter()
                .map(|r| {
                    (0..columns.len())
                        .map(|i| r.try_get(i).ok().flatten())
                        .collect()
                })
                .collect(),
            other => return (user_tables, other.map(|_| Vec::new())),
        };
        out.push(MigrationHistory::read(tool, cand.name.clone(), &rows));
    }
    (user_tables, Probe::ok(out, ms))
}

fn capabilities(
    major: u64,
    minor: u64,
    json: bool,
    utf8: Option<bool>,
) -> BTreeMap<String, Capability> {
    let v = (major, minor);
    let since = |m: u64, what: &str| {
        Capability::from_version(v >= (3, m), format!("{what}: SQLite 3.{m}+"))
    };
    let no = |why: &str| Capability::from_version(false, why);
    let yes = |why: &str| Capability::from_version(true, why);
    let mut m = BTreeMap::from([
        (
            "json".to_string(),
            Capability::from_version(
                json,
                if json {
                    "json_valid() answers"
                } else {
                    "no JSON functions compiled in"
                },
            ),
        ),
        ("cte".to_string(), since(8, "WITH queries")),
        (
            "window-functions".to_string(),
            since(25, "window functions"),
        ),
        (
            "check-constraints".to_string(),
            yes("CHECK constraints are enforced"),
        ),
        (
            "transactional-ddl".to_string(),
            yes("DDL inside transactions rolls back"),
        ),
        (
            "drop-cascade".to_string(),
            no("SQLite has no DROP ... CASCADE"),
        ),
        ("returning".to_string(), since(35, "RETURNING")),
        ("upsert".to_string(), since(24, "INSERT ... ON CONFLICT")),
        (
            "sequences".to_string(),
            no("SQLite has no sequences (AUTOINCREMENT only)"),
        ),
        (
            "varchar-without-length".to_string(),
            yes("type names are advisory"),
        ),
        ("string-agg".to_string(), since(44, "string_agg()")),
        ("drop-if-exists".to_string(), yes("DROP ... IF EXISTS")),
        ("offset-fetch".to_string(), no("LIMIT/OFFSET only")),
        (
            "merge".to_string(),
            no("no MERGE; use INSERT ... ON CONFLICT"),
        ),
        ("create-or-alter".to_string(), no("no CREATE OR ALTER")),
    ]);
    if let Some(u) = utf8 {
        m.insert(
            "utf8".into(),
            Capability::from_version(u, "database text encoding"),
        );
    }
    m
}
