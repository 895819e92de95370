//! The workload probe: the product's own SQL files (matrix `[app.workload]`), tried on the
//! client's server with `--probe-write` where they cannot stay — inside a transaction rolled
//! back (PostgreSQL, SQL Server, SQLite), or in a uniquely named scratch database dropped
//! afterwards (MySQL, MariaDB). The run (in [`runner`]) records each failing statement with its
//! file and line and the server's own error; the `ENGINE.workload` check ([`check`]) judges
//! that record, naming consequences of earlier failures and the known rewrites ([`hints`]).

pub mod guard;
pub mod hints;
pub mod split;

use crate::engine::Engine;
use crate::matrix::WorkloadSource;
use crate::probe::Probe;
use crate::registry::{Ctx, Outcome, Verdict};
use serde::{Deserialize, Serialize};

/// The prefix of every scratch database (and lock) the workload probe creates: a later run
/// recognises what a killed run left by it.
pub const SCRATCH_PREFIX: &str = "byod_precheck_wl_";

/// The most characters of a statement kept in the facts.
const KEEP_SQL: usize = 2000;

/// What a workload run did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Workload {
    pub engine: Engine,
    /// The folder the statements came from, as the matrix names it, with the engine's subfolder.
    pub dir: String,
    /// Where it ran: a transaction rolled back, or the scratch database's name.
    pub scratch: String,
    /// The files, in the order they ran.
    pub files: Vec<FileRun>,
    /// Statements refused before anything ran (nothing was sent when there are any).
    pub refused: Vec<Refused>,
    /// Objects the workload created that were still there afterwards (should be none).
    pub leftovers: Vec<String>,
    /// Scratch databases an earlier, killed run left, and whether this run dropped them.
    pub earlier: Vec<Earlier>,
    /// The run was interrupted (Ctrl-C) and cleaned up before the end.
    pub interrupted: bool,
}

/// One file of the workload.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FileRun {
    pub file: String,
    /// Statements (SQL Server: batches) in the file.
    pub statements: u32,
    /// Statements sent.
    pub ran: u32,
    /// Time spent on the file, in milliseconds.
    pub ms: u64,
    pub failures: Vec<StatementFailure>,
}

/// A statement the server refused.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StatementFailure {
    /// The 1-based line in its file (for SQL Server, where the server names the line).
    pub line: usize,
    /// The statement (at most 2000 characters).
    pub sql: String,
    /// The server's own message, scrubbed of secrets.
    pub error: String,
    /// The server's error code (SQLSTATE, MySQL error number, SQL Server Msg number).
    pub code: Option<String>,
}

/// A statement the guard refused.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Refused {
    pub file: String,
    pub line: usize,
    pub sql: String,
    pub why: String,
}

/// A scratch database left by an earlier run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Earlier {
    pub name: String,
    pub dropped: bool,
}

/// One file's statements, split.
pub struct LoadedFile {
    pub name: String,
    pub statements: Vec<split::Statement>,
}

/// The shipped example workload (`checks/workload/`), used by the built-in matrix.
const BUILTIN: &[(Engine, &str, &str)] = &[
    (
        Engine::Postgres,
        "010_schema.sql",
        include_str!("../../checks/workload/postgres/010_schema.sql"),
    ),
    (
        Engine::Postgres,
        "020_dml.sql",
        include_str!("../../checks/workload/postgres/020_dml.sql"),
    ),
    (
        Engine::Postgres,
        "030_teardown.sql",
        include_str!("../../checks/workload/postgres/030_teardown.sql"),
    ),
    (
        Engine::Mysql,
        "010_schema.sql",
        include_str!("../../checks/workload/mysql/010_schema.sql"),
    ),
    (
        Engine::Mysql,
        "020_dml.sql",
        include_str!("../../checks/workload/mysql/020_dml.sql"),
    ),
    (
        Engine::Mysql,
        "030_teardown.sql",
        include_str!("../../checks/workload/mysql/030_teardown.sql"),
    ),
    (
        Engine::Mssql,
        "010_schema.sql",
        include_str!("../../checks/workload/mssql/010_schema.sql"),
    ),
    (
        Engine::Mssql,
        "020_dml.sql",
        include_str!("../../checks/workload/mssql/020_dml.sql"),
    ),
    (
        Engine::Mssql,
        "030_teardown.sql",
        include_str!("../../checks/workload/mssql/030_teardown.sql"),
    ),
    (
        Engine::Sqlite,
        "010_schema.sql",
        include_str!("../../checks/workload/sqlite/010_schema.sql"),
    ),
    (
        Engine::Sqlite,
        "020_dml.sql",
        include_str!("../../checks/workload/sqlite/020_dml.sql"),
    ),
    (
        Engine::Sqlite,
        "030_teardown.sql",
        include_str!("../../checks/workload/sqlite/030_teardown.sql"),
    ),
];

/// Reads an engine's files (`DIR/ENGINE/*.sql`, in file-name order): `(name, text)`.
pub fn read_files(
    source: &WorkloadSource,
    engine: Engine,
) -> Result<Vec<(String, String)>, String> {
    match source {
        WorkloadSource::Builtin => Ok(BUILTIN
            .iter()
            .filter(|(e, _, _)| *e == engine)
            .map(|(_, n, t)| (n.to_string(), t.to_string()))
            .collect()),
        WorkloadSource::Dir(dir) => {
            let folder = dir.join(engine.name());
            if !folder.is_dir() {
                return Ok(Vec::new());
            }
            let mut names: Vec<_> = std::fs::read_dir(&folder)
                .map_err(|e| format!("cannot read {}: {e}", folder.display()))?
                .filter_map(Result::ok)
                .map(|d| d.path())
                .filter(|p| p.extension().is_some_and(|x| x == "sql") && p.is_file())
                .collect();
            names.sort();
            names
                .into_iter()
                .map(|p| {
                    let name = p
                        .file_name()
                        .map(|n| n.to_string_lossy().to_string())
                        .unwrap_or_default();
                    let bytes = std::fs::read(&p)
                        .map_err(|e| format!("cannot read {}: {e}", p.display()))?;
                    let text = String::from_utf8(bytes).map_err(|e| {
                        format!(
                            "{name}: not UTF-8 text (invalid byte at offset {})",
                            e.utf8_error().valid_up_to()
                        )
                    })?;
                    Ok((name, text))
                })
                .collect()
        }
    }
}

/// Splits every file and applies the guard. `Err` when a file cannot be split.
pub fn load(
    files: Vec<(String, String)>,
    engine: Engine,
) -> Result<(Vec<LoadedFile>, Vec<Refused>), String> {
    let mut loaded = Vec::new();
    let mut refused = Vec::new();
    for (name, text) in files {
        let statements = split::split(&text, engine).map_err(|e| format!("{name}:{e}"))?;
        for s in &statements {
            if let Some(why) = guard::refusal(s, engine) {
                refused.push(Refused {
                    file: name.clone(),
                    line: s.line,
                    sql: split::shorten(&s.sql, 80),
                    why,
                });
            }
        }
        loaded.push(LoadedFile { name, statements });
    }
    Ok((loaded, refused))
}

/// Keeps at most [`KEEP_SQL`] characters of a statement.
pub(crate) fn keep(sql: &str) -> String {
    if sql.chars().count() <= KEEP_SQL {
        sql.to_string()
    } else {
        sql.chars().take(KEEP_SQL).collect()
    }
}

/// A failing statement as the check reads it: where, what, and whether it is a consequence.
struct Judged<'a> {
    file: &'a str,
    f: &'a StatementFailure,
    /// `file:line` of the earlier failure it follows from.
    consequence_of: Option<String>,
    rewrite: Option<&'static str>,
}

/// `ENGINE.workload`: every statement of the product's workload ran; nothing was left.
pub fn check(workload: &Probe<Workload>, _ctx: &Ctx) -> Outcome {
    let w = workload.get()?;
    if !w.refused.is_empty() {
        let list: Vec<String> = w
            .refused
            .iter()
            .map(|r| format!("{}/{}:{}: `{}` — {}", w.dir, r.file, r.line, r.sql, r.why))
            .collect();
        return Ok(Verdict::error(format!(
            "the workload was refused before anything ran: {}",
            list.join("; ")
        ))
        .observed(format!("{} statement(s) refused", w.refused.len()))
        .expected("statements that stay inside the scratch transaction or database")
        .remedy("Remove transaction control, database switches and server-wide statements from the workload files: the tool wraps them in a transaction it rolls back (or a scratch database it drops)."));
    }
    // Objects created by failed statements: later statements naming them are consequences.
    let mut missing: Vec<(String, String)> = Vec::new();
    let mut judged: Vec<Judged> = Vec::new();
    for file in &w.files {
        for f in &file.failures {
            let tokens = split::split(&f.sql, w.engine)
                .ok()
                .and_then(|mut s| (!s.is_empty()).then(|| s.remove(0).tokens))
                .unwrap_or_default();
            let earlier: Vec<String> = missing.iter().map(|(n, _)| n.clone()).collect();
            let consequence_of = if hints::mentions(&tokens, &earlier) {
                missing
                    .iter()
                    .find(|(n, _)| hints::mentions(&tokens, std::slice::from_ref(n)))
                    .map(|(_, at)| at.clone())
            } else {
                None
            };
            let at = format!("{}:{}", file.file, f.line);
            for n in hints::created_names(&tokens) {
                missing.push((n, at.clone()));
            }
            let error = format!("{} {}", f.error, f.code.as_deref().unwrap_or_default());
            judged.push(Judged {
                file: &file.file,
                f,
                rewrite: if consequence_of.is_none() {
                    hints::rewrite_for(w.engine, &tokens, &error)
                } else {
                    None
                },
                consequence_of,
            });
        }
    }
    let total: u32 = w.files.iter().map(|f| f.statements).sum();
    let ran: u32 = w.files.iter().map(|f| f.ran).sum();
    let timing: Vec<String> = w
        .files
        .iter()
        .map(|f| {
            let failed = f.failures.len();
            let tail = if failed > 0 {
                format!(", {failed} failed")
            } else {
                String::new()
            };
            format!(
                "{}: {}/{} ran in {} ms{tail}",
                f.file, f.ran, f.statements, f.ms
            )
        })
        .collect();
    let mut observed = format!("{} in {}; {}", w.dir, w.scratch, timing.join("; "));
    let cleaned: Vec<&str> = w
        .earlier
        .iter()
        .filter(|e| e.dropped)
        .map(|e| e.name.as_str())
        .collect();
    let kept: Vec<&str> = w
        .earlier
        .iter()
        .filter(|e| !e.dropped)
        .map(|e| e.name.as_str())
        .collect();
    if !cleaned.is_empty() {
        observed.push_str(&format!(
            "; dropped {} scratch database(s) a killed earlier run left: {}",
            cleaned.len(),
            cleaned.join(", ")
        ));
    }
    let faults: Vec<&Judged> = judged
        .iter()
        .filter(|j| j.consequence_of.is_none())
        .collect();
    let consequences: Vec<&Judged> = judged
        .iter()
        .filter(|j| j.consequence_of.is_some())
        .collect();
    let describe = |j: &Judged| {
        let code =
            j.f.code
                .as_deref()
                .map(|c| format!(" [{c}]"))
                .unwrap_or_default();
        format!(
            "{}:{} `{}` — {}{code}",
            j.file,
            j.f.line,
            split::shorten(&j.f.sql, 60),
            j.f.error
        )
    };
    if !w.leftovers.is_empty() || !kept.is_empty() {
        let mut all: Vec<String> = w.leftovers.clone();
        all.extend(kept.iter().map(|k| k.to_string()));
        return Ok(Verdict::fail(format!(
            "the workload left objects behind: {}",
            all.join(", ")
        ))
        .observed(observed)
        .expected("nothing left after the rollback or the scratch database's drop")
        .remedy(match w.engine {
            Engine::Mysql => format!(
                "Drop them: {}",
                all.iter()
                    .map(|n| format!("DROP DATABASE {};", crate::quote::mysql_ident(n)))
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
            _ => format!("Drop them: {}", all.join(", ")),
        }));
    }
    if w.interrupted {
        return Ok(Verdict::error(format!(
            "interrupted after {ran} of {total} statements; the scratch work was rolled back or dropped"
        ))
        .observed(observed));
    }
    if faults.is_empty() && consequences.is_empty() {
        return Ok(Verdict::pass(format!(
            "all {total} statements of the product's workload ran; nothing was left"
        ))
        .observed(observed));
    }
    let mut message = format!(
        "{} of {total} statements failed: {}",
        faults.len(),
        faults
            .iter()
            .map(|j| describe(j))
            .collect::<Vec<_>>()
            .join("; ")
    );
    if !consequences.is_empty() {
        message.push_str(&format!(
            "; {} more failed only because an earlier one did: {}",
            consequences.len(),
            consequences
                .iter()
                .map(|j| format!(
                    "{}:{} (after {})",
                    j.file,
                    j.f.line,
                    j.consequence_of.as_deref().unwrap_or_default()
                ))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    // One line per rewrite, naming every statement it applies to.
    let mut rewrites: Vec<(&str, Vec<String>)> = Vec::new();
    for j in &faults {
        if let Some(r) = j.rewrite {
            let at = format!("{}:{}", j.file, j.f.line);
            match rewrites.iter_mut().find(|(t, _)| *t == r) {
                Some((_, ats)) => ats.push(at),
                None => rewrites.push((r, vec![at])),
            }
        }
    }
    let rewrites: Vec<String> = rewrites
        .into_iter()
        .map(|(r, ats)| format!("{}: {r}", ats.join(", ")))
        .collect();
    let remedy = if rewrites.is_empty() {
        "Make the product's SQL portable to this server (the statements and the server's errors are above), or refuse this server in the matrix.".to_string()
    } else {
        rewrites.join(" | ")
    };
    Ok(Verdict::fail(message)
        .observed(observed)
        .expected("every statement of the workload accepted")
        .remedy(remedy))
}

/// The run's scratch name: the prefix, this process and a clock reading.
pub fn scratch_name() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64 & 0xffff_ffff_ffff)
        .unwrap_or(0);
    format!("{SCRATCH_PREFIX}{}_{nanos:x}", std::process::id())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::status::Status;

    #[test]
    fn the_shipped_example_is_embedded_whole() {
        for e in Engine::ALL {
            let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("checks/workload")
                .join(e.name());
            let on_disk =
                read_files(&WorkloadSource::Dir(dir.parent().unwrap().to_path_buf()), e).unwrap();
            let built_in = read_files(&WorkloadSource::Builtin, e).unwrap();
            assert_eq!(on_disk, built_in, "{e}: checks/workload and BUILTIN differ");
            let (loaded, refused) = load(built_in, e).unwrap();
            assert!(refused.is_empty(), "{e}: {refused:?}");
            assert!(loaded.iter().all(|f| !f.statements.is_empty()));
        }
    }

    fn judged(w: Workload) -> Verdict {
        let m = crate::Matrix::builtin();
        let eol = crate::eol::EolData::shipped();
        let ctx = Ctx::for_tests(&m, eol, crate::engine::Engine::Mysql);
        check(&Probe::ok(w, 0), &ctx).unwrap()
    }

    #[test]
    fn a_failed_create_makes_later_statements_consequences_with_one_rewrite() {
        let v = judged(Workload {
            engine: Engine::Mysql,
            dir: "workload/mysql".into(),
            scratch: "scratch database byod_precheck_wl_1".into(),
            files: vec![
                FileRun {
                    file: "010_schema.sql".into(),
                    statements: 2,
                    ran: 2,
                    ms: 3,
                    failures: vec![StatementFailure {
                        line: 4,
                        sql: "CREATE TABLE users (id INT, name VARCHAR, email VARCHAR(255))".into(),
                        error: "You have an error in your SQL syntax".into(),
                        code: Some("1064".into()),
                    }],
                },
                FileRun {
                    file: "020_dml.sql".into(),
                    statements: 1,
                    ran: 1,
                    ms: 1,
                    failures: vec![StatementFailure {
                        line: 2,
                        sql: "INSERT INTO users (name) VALUES ('a')".into(),
                        error: "Table 'x.users' doesn't exist".into(),
                        code: Some("1146".into()),
                    }],
                },
            ],
            ..Default::default()
        });
        assert_eq!(v.status, Status::Fail);
        assert!(
            v.message
                .starts_with("1 of 3 statements failed: 010_schema.sql:4"),
            "{}",
            v.message
        );
        assert!(
            v.message.contains("020_dml.sql:2 (after 010_schema.sql:4)"),
            "{}",
            v.message
        );
        let remedy = v.remedy.unwrap();
        assert!(
            remedy.starts_with("010_schema.sql:4: give every VARCHAR a length"),
            "{remedy}"
        );
        assert!(
            v.observed
                .unwrap()
                .contains("010_schema.sql: 2/2 ran in 3 ms, 1 failed")
        );
    }

    #[test]
    fn refused_statements_are_an_error_and_a_clean_run_passes() {
        let v = judged(Workload {
            engine: Engine::Postgres,
            dir: "w/postgres".into(),
            refused: vec![Refused {
                file: "a.sql".into(),
                line: 3,
                sql: "COMMIT".into(),
                why: "`COMMIT` would end the transaction".into(),
            }],
            ..Default::default()
        });
        assert_eq!(v.status, Status::Error);
        assert!(
            v.message.contains("w/postgres/a.sql:3: `COMMIT`"),
            "{}",
            v.message
        );
        let v = judged(Workload {
            engine: Engine::Postgres,
            files: vec![FileRun {
                file: "a.sql".into(),
                statements: 2,
                ran: 2,
                ms: 1,
                failures: vec![],
            }],
            ..Default::default()
        });
        assert_eq!(v.status, Status::Pass);
    }
}
