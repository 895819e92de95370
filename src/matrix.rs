//! The supported-matrix file: what our product needs from a database.
//!
//! Loading is strict, in two passes like cargo-deny's config: the TOML is parsed with spans and
//! every table is read with unknown keys rejected, then one validation pass checks what needs
//! the whole file (known flavors, capabilities and check ids). Every problem of a file is
//! reported at once, each with its line and column. The first pass (the TOML read with spans)
//! is `matrix/de.rs`; this file holds the types and the validation.

use crate::engine::Engine;
pub use crate::report::{MatrixOrigin, SeverityOverride};
use crate::status::Status;
use semver::{Version, VersionReq};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fmt;
use toml_span::de_helpers::TableHelper;
use toml_span::value::{Value, ValueInner};
use toml_span::{DeserError, Deserialize, Error as TomlError, ErrorKind, Span, Spanned};

mod de;
use de::*;

/// The built-in matrix, used without `--matrix`.
pub const BUILTIN_SOURCE: &str = include_str!("../checks/matrix.toml");

/// The matrix schema this build reads.
pub const SCHEMA_VERSION: u32 = 1;

/// A loaded, validated matrix.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Matrix {
    pub schema_version: u32,
    pub app: AppRules,
    pub postgres: EngineRules,
    pub mysql: EngineRules,
    pub mariadb: EngineRules,
    pub mssql: EngineRules,
    pub sqlite: EngineRules,
    /// Per check id: the status a non-passing finding is reported with.
    pub severity: BTreeMap<String, SeverityOverride>,
    /// Where it came from, for the report.
    #[serde(skip)]
    pub origin: MatrixOrigin,
}

/// The `[app]` table: what our product does with the database.
#[derive(Debug, Clone, Serialize)]
pub struct AppRules {
    /// A read-only database or replica fails.
    pub needs_write: bool,
    /// Our connection pool size: less free connection headroom warns.
    pub pool_size: u32,
    /// An unencrypted connection fails (otherwise it warns).
    pub require_tls: bool,
    /// Larger clock skew between the server and this machine warns.
    pub max_clock_skew_seconds: u64,
    /// Days before a vendor end of life from which the version warns.
    pub eol_warn_days: u32,
    /// The time zone the server should run in, if the product cares.
    pub time_zone: Option<String>,
    /// The schema our tables live in (default: the user's current schema).
    pub schema: Option<String>,
    /// The migration history our product expects to find.
    pub migrations: Option<MigrationRule>,
    /// The product's own SQL, tried with `--probe-write` (`[app.workload]`).
    pub workload: Option<WorkloadRule>,
    /// false: a pooler in transaction (or statement) mode in front fails `postgres.pooler`.
    pub allow_transaction_pooling: bool,
    /// How long our pool may keep a connection before it recycles it: a server that ends idle
    /// connections sooner warns (`*.idle-timeout`).
    pub pool_recycle_seconds: u64,
}

impl Default for AppRules {
    fn default() -> Self {
        AppRules {
            needs_write: true,
            pool_size: 10,
            require_tls: false,
            max_clock_skew_seconds: 5,
            eol_warn_days: 365,
            time_zone: None,
            schema: None,
            migrations: None,
            workload: None,
            allow_transaction_pooling: true,
            pool_recycle_seconds: 1800,
        }
    }
}

/// `[app.migrations]`: the migration tool and, optionally, the version our product expects
/// (for Django, of which app).
#[derive(Debug, Clone, Serialize)]
pub struct MigrationRule {
    pub tool: String,
    pub version: Option<String>,
    /// The app whose latest migration is compared (tools with a history per app: Django).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app: Option<String>,
}

/// `[app.workload]`: a folder of the product's SQL files, one subfolder per engine.
#[derive(Debug, Clone, Serialize)]
pub struct WorkloadRule {
    /// The folder as written, relative to the matrix file.
    pub dir: String,
    /// Where the files are read from.
    #[serde(skip)]
    pub source: WorkloadSource,
}

/// Where a workload's files are read from.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum WorkloadSource {
    /// The built-in matrix's: the shipped example (`checks/workload/`), compiled in.
    #[default]
    Builtin,
    /// A folder on disk.
    Dir(std::path::PathBuf),
}

/// A version requirement kept with its source text.
#[derive(Debug, Clone)]
pub struct Requirement {
    pub text: String,
    pub req: VersionReq,
}

impl Serialize for Requirement {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl fmt::Display for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// `tested_up_to = "18"` or `"8.4"`: the newest major (and minor) we have tested.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VersionBound {
    pub major: u64,
    pub minor: Option<u64>,
}

impl VersionBound {
    /// Whether a version is newer than this bound.
    pub fn is_exceeded_by(&self, v: &Version) -> bool {
        match self.minor {
            None => v.major > self.major,
            Some(minor) => (v.major, v.minor) > (self.major, minor),
        }
    }
}

impl fmt::Display for VersionBound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.minor {
            None => write!(f, "{}", self.major),
            Some(m) => write!(f, "{}.{m}", self.major),
        }
    }
}

impl Serialize for VersionBound {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// The rules of one engine table (`[postgres]`, `[mysql]`, `[mariadb]`, `[mssql]`, `[sqlite]`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct EngineRules {
    /// Outside it fails.
    pub versions: Option<Requirement>,
    /// Inside `versions` but outside this warns.
    pub recommended: Option<Requirement>,
    /// A newer version warns "not yet tested".
    pub tested_up_to: Option<VersionBound>,
    /// Accepted flavors; others fail. `None` accepts all.
    pub flavors: Option<Vec<String>>,
    /// Accepted encodings / character sets; `None` uses the engine's default expectation.
    pub encodings: Option<Vec<String>>,
    /// Accepted collations (glob-free, case-insensitive names); `None` accepts all.
    pub collations: Option<Vec<String>>,
    /// Extensions that must be installed or creatable (PostgreSQL).
    pub extensions: Vec<String>,
    /// Capabilities the application's SQL depends on.
    pub capabilities: Vec<String>,
    /// Rules on named server settings.
    pub settings: BTreeMap<String, SettingRule>,
    /// SQL Server database compatibility level.
    pub compatibility_level: Option<NumRule>,
    /// Whether a case-sensitive collation is required (`true`) or refused (`false`).
    pub case_sensitive: Option<bool>,
}

/// A numeric range rule (`{ min = 130 }`).
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct NumRule {
    pub min: Option<f64>,
    pub max: Option<f64>,
}

/// A rule on one server setting.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct SettingRule {
    /// Numeric lower bound (the setting in its own unit).
    pub min: Option<f64>,
    /// Numeric upper bound.
    pub max: Option<f64>,
    /// Exact value, case-insensitive.
    pub equals: Option<String>,
    /// One of these values, case-insensitive.
    pub one_of: Option<Vec<String>>,
    /// Each of these must appear in the comma-separated value (MySQL `sql_mode`).
    pub contains: Option<Vec<String>>,
    /// None of these may appear in the comma-separated value.
    pub excludes: Option<Vec<String>>,
    /// `fail` (default) or `warn` when the rule is not met.
    pub level: Option<Status>,
}

/// One problem in a matrix file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// A matrix that could not be loaded: every problem, each with its position.
#[derive(Debug, Clone, thiserror::Error)]
pub struct MatrixError {
    pub source_name: String,
    pub problems: Vec<Problem>,
}

impl fmt::Display for MatrixError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.problems.len();
        write!(
            f,
            "invalid matrix {}: {n} problem{}",
            self.source_name,
            if n == 1 { "" } else { "s" }
        )?;
        for p in &self.problems {
            write!(
                f,
                "\n  {}:{}:{}: {}",
                self.source_name, p.line, p.column, p.message
            )?;
        }
        Ok(())
    }
}

/// The facts validation needs from the rest of the program (known ids, flavors, capabilities,
/// and which engine-table keys each engine's checks read).
pub struct Vocabulary {
    pub check_ids: Vec<&'static str>,
    pub flavors: fn(Engine) -> &'static [&'static str],
    pub capabilities: &'static [&'static str],
    /// The keys of an engine table beyond [`COMMON_ENGINE_KEYS`] that this engine's checks read.
    pub engine_keys: fn(Engine) -> &'static [&'static str],
}

/// The engine-table keys every engine reads (the shared checks: version, flavor, capabilities,
/// settings).
pub const COMMON_ENGINE_KEYS: [&str; 6] = [
    "versions",
    "recommended",
    "tested_up_to",
    "flavors",
    "capabilities",
    "settings",
];

/// The engine tables of a matrix file and the engine each one is judged with.
const ENGINE_TABLES: [(&str, Engine); 5] = [
    ("postgres", Engine::Postgres),
    ("mysql", Engine::Mysql),
    ("mariadb", Engine::Mysql),
    ("mssql", Engine::Mssql),
    ("sqlite", Engine::Sqlite),
];

impl Matrix {
    /// Parses and validates a matrix against a vocabulary; `source_name` names it in errors and
    /// in the report. `Matrix::parse`, `load` and `builtin` (in the engines module) pass the
    /// engines' vocabulary.
    pub fn parse_with(
        text: &str,
        source_name: &str,
        vocab: &Vocabulary,
    ) -> Result<Matrix, MatrixError> {
        let to_problems = |errors: Vec<TomlError>| MatrixError {
            source_name: source_name.to_string(),
            problems: errors.iter().map(|e| problem(text, e)).collect(),
        };
        let mut value = toml_span::parse(text).map_err(|e| to_problems(vec![e]))?;
        // Found on the parsed TOML, so that they are reported with the other problems, not only
        // once those are fixed: a key another engine reads (`[mysql] extensions = [...]`, else
        // accepted and ignored) and unknown check ids under [severity].
        let inapplicable = to_problems(inapplicable_keys(&value, vocab)).problems;
        let unknown_ids = unknown_severity_ids(&value, text, vocab);
        let mut matrix = Matrix::deserialize(&mut value).map_err(|e| {
            let mut m = to_problems(e.errors);
            m.problems.extend(inapplicable.iter().cloned());
            m.problems.extend(unknown_ids);
            m.problems.sort_by_key(|p| (p.line, p.column));
            m
        })?;
        // Outside `load` there is no file to be relative to: the built-in matrix reads the
        // shipped example, any other text its folder from the current directory.
        if let Some(w) = &mut matrix.app.workload
            && source_name != "built-in"
        {
            w.source = WorkloadSource::Dir(std::path::PathBuf::from(&w.dir));
        }
        matrix.origin = MatrixOrigin {
            source: source_name.to_string(),
            sha256: sha256_hex(text.as_bytes()),
        };
        let mut problems = inapplicable;
        problems.extend(matrix.validate(text, vocab));
        problems.sort_by_key(|p| (p.line, p.column));
        if problems.is_empty() {
            Ok(matrix)
        } else {
            Err(MatrixError {
                source_name: source_name.to_string(),
                problems,
            })
        }
    }

    /// Reads a matrix file (UTF-8 TOML) and validates it against a vocabulary.
    pub fn load_with(path: &std::path::Path, vocab: &Vocabulary) -> Result<Matrix, MatrixError> {
        let name = path.display().to_string();
        let one = |message: String| MatrixError {
            source_name: name.clone(),
            problems: vec![Problem {
                line: 0,
                column: 0,
                message,
            }],
        };
        let bytes = std::fs::read(path).map_err(|e| one(format!("cannot read: {e}")))?;
        let text = String::from_utf8(bytes).map_err(|e| {
            one(format!(
                "not UTF-8 text (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            ))
        })?;
        let mut m = Matrix::parse_with(&text, &name, vocab)?;
        // The workload folder is relative to the matrix file, and must be there.
        if let Some(w) = &mut m.app.workload {
            let dir = path
                .parent()
                .unwrap_or_else(|| std::path::Path::new("."))
                .join(&w.dir);
            if !dir.is_dir() {
                let (line, column) = locate(&text, "[app.workload]");
                return Err(MatrixError {
                    source_name: name,
                    problems: vec![Problem {
                        line,
                        column,
                        message: format!(
                            "[app.workload] dir: `{}` is not a folder (it is read relative to the matrix file: {})",
                            w.dir,
                            dir.display()
                        ),
                    }],
                });
            }
            w.source = WorkloadSource::Dir(dir);
        }
        Ok(m)
    }

    /// The table that applies to an engine and detected flavor, with its name.
    pub fn rules_for(&self, engine: Engine, flavor: Option<&str>) -> (&EngineRules, &'static str) {
        match engine {
            Engine::Postgres => (&self.postgres, "postgres"),
            Engine::Mysql if flavor == Some("mariadb") => (&self.mariadb, "mariadb"),
            Engine::Mysql => (&self.mysql, "mysql"),
            Engine::Mssql => (&self.mssql, "mssql"),
            Engine::Sqlite => (&self.sqlite, "sqlite"),
        }
    }

    /// An engine table by its name in the file.
    fn table(&self, name: &str) -> &EngineRules {
        match name {
            "postgres" => &self.postgres,
            "mysql" => &self.mysql,
            "mariadb" => &self.mariadb,
            "mssql" => &self.mssql,
            _ => &self.sqlite,
        }
    }

    /// The whole-file checks: names that must exist elsewhere in the program.
    fn validate(&self, text: &str, vocab: &Vocabulary) -> Vec<Problem> {
        let mut problems = Vec::new();
        let at = |needle: &str| locate(text, needle);
        if self.schema_version != SCHEMA_VERSION {
            let (line, column) = at("schema_version");
            problems.push(Problem {
                line,
                column,
                message: format!(
                    "schema_version {} is not supported by this build (it reads {SCHEMA_VERSION}); upgrade byod-precheck",
                    self.schema_version
                ),
            });
        }
        for (name, engine) in ENGINE_TABLES {
            let rules = self.table(name);
            let known = (vocab.flavors)(engine);
            for f in rules.flavors.iter().flatten() {
                if !known.contains(&f.as_str()) {
                    let (line, column) = at(&format!("\"{f}\""));
                    problems.push(Problem {
                        line,
                        column,
                        message: format!(
                            "[{name}] flavors: unknown flavor `{f}` (known: {})",
                            known.join(", ")
                        ),
                    });
                }
            }
            for c in &rules.capabilities {
                if !vocab.capabilities.contains(&c.as_str()) {
                    let (line, column) = at(&format!("\"{c}\""));
                    problems.push(Problem {
                        line,
                        column,
                        message: format!(
                            "[{name}] capabilities: unknown capability `{c}` (known: {})",
                            vocab.capabilities.join(", ")
                        ),
                    });
                }
            }
        }
        for id in self.severity.keys() {
            if !vocab.check_ids.contains(&id.as_str()) {
                let (line, column) = at(&format!("\"{id}\""));
                problems.push(Problem {
                    line,
                    column,
                    message: unknown_id_message(id, vocab),
                });
            }
        }
        if let Some(m) = &self.app.migrations {
            // Located within the migrations table (`version` is also in `schema_version`).
            let base = text.find("migrations").unwrap_or(0);
            let mut problem = |needle: String, message: String| {
                let (line, column) = text[base..]
                    .find(&needle)
                    .map_or_else(|| at(&needle), |o| line_col(text, base + o));
                problems.push(Problem {
                    line,
                    column,
                    message,
                });
            };
            match crate::migrations::by_name(&m.tool) {
                None => problem(
                    format!("\"{}\"", m.tool),
                    format!(
                        "[app.migrations] tool: unknown tool `{}` (known: {})",
                        m.tool,
                        crate::migrations::names().join(", ")
                    ),
                ),
                Some(t) => match (t.group, &m.app) {
                    (None, Some(app)) => problem(
                        format!("\"{app}\""),
                        format!(
                            "[app.migrations] app: {} keeps one history for the whole database; `app` is for tools with a history per app (django)",
                            t.name
                        ),
                    ),
                    (Some(g), None) if m.version.is_some() => problem(
                        "version".to_string(),
                        format!(
                            "[app.migrations] version: {} keeps a latest version per {g}; name the {g} with `app = \"...\"`",
                            t.name
                        ),
                    ),
                    _ => {}
                },
            }
        }
        problems
    }
}

/// Keys of engine tables that the engine's checks do not read: each an error at its position,
/// naming the engines that do read it.
fn inapplicable_keys(value: &Value<'_>, vocab: &Vocabulary) -> Vec<TomlError> {
    let mut errors = Vec::new();
    let Some(root) = value.as_table() else {
        return errors;
    };
    for (table, engine) in ENGINE_TABLES {
        let Some(t) = root
            .iter()
            .find(|(k, _)| k.name == table)
            .and_then(|(_, v)| v.as_table())
        else {
            continue;
        };
        let own = (vocab.engine_keys)(engine);
        for key in t.keys() {
            let name = key.name.as_ref();
            if COMMON_ENGINE_KEYS.contains(&name) || own.contains(&name) {
                continue;
            }
            let readers: Vec<&str> = ENGINE_TABLES
                .iter()
                .filter(|(_, e)| (vocab.engine_keys)(*e).contains(&name))
                .map(|(t, _)| *t)
                .collect();
            if readers.is_empty() {
                // Unknown everywhere: the table's own reader reports it with the expected keys.
                continue;
            }
            errors.push(custom(
                key.span,
                format!(
                    "`{name}` does not apply to [{table}]: only [{}] read it (keys of [{table}]: {})",
                    readers.join("], ["),
                    COMMON_ENGINE_KEYS
                        .iter()
                        .chain(own)
                        .copied()
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
    }
    errors
}

/// `[severity]: no check has the id ...`, with the closest ids.
fn unknown_id_message(id: &str, vocab: &Vocabulary) -> String {
    let near = crate::text::closest_ids(id, &vocab.check_ids);
    format!(
        "[severity]: no check has the id `{id}`{} (see `byod-precheck checks`)",
        if near.is_empty() {
            String::new()
        } else {
            format!("; did you mean {}?", near.join(", "))
        }
    )
}

/// The `[severity]` keys that name no check, read from the parsed TOML before anything else is
/// validated.
fn unknown_severity_ids(value: &Value<'_>, text: &str, vocab: &Vocabulary) -> Vec<Problem> {
    let Some(table) = value
        .as_table()
        .and_then(|t| t.iter().find(|(k, _)| k.name == "severity"))
        .and_then(|(_, v)| v.as_table())
    else {
        return Vec::new();
    };
    table
        .iter()
        .filter(|(k, _)| !vocab.check_ids.contains(&k.name.as_ref()))
        .map(|(k, _)| {
            let (line, column) = line_col(text, k.span.start);
            Problem {
                line,
                column,
                message: unknown_id_message(&k.name, vocab),
            }
        })
        .collect()
}

/// SHA-256 as lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// 1-based line and column of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text.as_bytes()[..offset];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let column = String::from_utf8_lossy(&before[line_start..])
        .chars()
        .count()
        + 1;
    (line, column)
}

/// Where a needle first stands, for problems found after parsing (spans are gone by then).
fn locate(text: &str, needle: &str) -> (usize, usize) {
    text.find(needle).map_or((1, 1), |o| line_col(text, o))
}

fn problem(text: &str, e: &TomlError) -> Problem {
    let (span, message) = match &e.kind {
        ErrorKind::UnexpectedKeys { keys, expected } => {
            let names: Vec<_> = keys.iter().map(|(k, _)| format!("`{k}`")).collect();
            let span = keys.first().map_or(e.span, |(_, s)| *s);
            (
                span,
                format!(
                    "unknown key {} (expected one of: {})",
                    names.join(", "),
                    expected.join(", ")
                ),
            )
        }
        ErrorKind::MissingField(f) => (e.span, format!("missing key `{f}`")),
        // What was wanted and what was found, with the value as written.
        ErrorKind::Wanted { expected, found } => {
            let written = text
                .get(e.span.start..e.span.end)
                .map(str::trim)
                .filter(|w| !w.is_empty() && w.chars().count() <= 40)
                .map(|w| format!(" {w}"))
                .unwrap_or_default();
            let expected = match *expected {
                "u8" | "u16" | "u32" | "u64" | "usize" => "a whole number (0 or more)",
                "i8" | "i16" | "i32" | "i64" | "isize" => "a whole number",
                "bool" => "true or false",
                "str" | "String" => "a string",
                other => other,
            };
            let written = if *found == "string" && !written.is_empty() {
                written.replacen(' ', " \"", 1) + "\""
            } else {
                written
            };
            // The key, when the value stands after `key =` on its line.
            let line_start = text
                .get(..e.span.start)
                .and_then(|t| t.rfind('\n'))
                .map_or(0, |i| i + 1);
            let key = text
                .get(line_start..e.span.start)
                .and_then(|l| l.split_once('='))
                .map(|(k, _)| k.trim().trim_matches('"'))
                .filter(|k| !k.is_empty() && !k.contains(['[', '{', ',']))
                .map(|k| format!("`{k}`: "))
                .unwrap_or_default();
            (
                e.span,
                format!("{key}expected {expected}, found {found}{written}"),
            )
        }
        ErrorKind::Custom(m) => (e.span, m.to_string()),
        other => (e.span, other.to_string()),
    };
    let (line, column) = match e.line_info {
        Some((l, c)) => (l + 1, c + 1),
        None => line_col(text, span.start),
    };
    Problem {
        line,
        column,
        message,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn builtin_matrix_loads() {
        let m = Matrix::builtin();
        assert!(m.app.needs_write);
        assert_eq!(m.postgres.versions.as_ref().unwrap().text, ">=13");
        assert_eq!(
            m.postgres.tested_up_to,
            Some(VersionBound {
                major: 18,
                minor: None
            })
        );
        assert_eq!(m.origin.sha256.len(), 64);
    }

    #[test]
    fn every_problem_is_reported_at_once_with_line_and_column() {
        let text = "schema_version = 1\n[app]\npool_sise = 3\n[postgres]\nversions = \">>13\"\nflavors = [\"oracle\"]\n[postgres.settings]\nmax_connections = { minimum = 3 }\n[severity]\n\"postgres.nope\" = \"fail\"\n";
        let e = Matrix::parse(text, "m.toml").unwrap_err();
        let msgs: Vec<String> = e
            .problems
            .iter()
            .map(|p| format!("{}:{}: {}", p.line, p.column, p.message))
            .collect();
        assert!(
            msgs.iter()
                .any(|m| m.starts_with("3:1:") && m.contains("unknown key `pool_sise`")),
            "{msgs:#?}"
        );
        assert!(
            msgs.iter()
                .any(|m| m.starts_with("5:") && m.contains("not a version requirement")),
            "{msgs:#?}"
        );
        assert!(
            msgs.iter()
                .any(|m| m.starts_with("8:") && m.contains("`minimum`")),
            "{msgs:#?}"
        );
        // The whole-file pass runs only when the file parses; fix the parse errors and it reports.
        let text2 = "schema_version = 1\n[postgres]\nflavors = [\"oracle\"]\ncapabilities = [\"telepathy\"]\n[severity]\n\"postgres.nope\" = \"fail\"\n";
        let e2 = Matrix::parse(text2, "m.toml").unwrap_err();
        assert_eq!(e2.problems.len(), 3, "{e2}");
        assert!(
            e2.to_string()
                .contains("m.toml:3:12: [postgres] flavors: unknown flavor `oracle`"),
            "{e2}"
        );
    }

    #[test]
    fn a_key_of_another_engine_is_an_error_at_its_position() {
        let text = "schema_version = 1\n[mysql]\nextensions = [\"pgcrypto\"]\n[sqlite]\ncompatibility_level = { min = 130 }\nversions = \">>3\"\n[mssql]\ncase_sensitive = false\nencodings = [\"UTF8\"]\n";
        let e = Matrix::parse(text, "m.toml").unwrap_err();
        let msgs: Vec<String> = e
            .problems
            .iter()
            .map(|p| format!("{}:{}: {}", p.line, p.column, p.message))
            .collect();
        assert_eq!(msgs.len(), 4, "{msgs:#?}");
        assert!(
            msgs[0].starts_with(
                "3:1: `extensions` does not apply to [mysql]: only [postgres] read it"
            ),
            "{msgs:#?}"
        );
        assert!(
            msgs[1].starts_with(
                "5:1: `compatibility_level` does not apply to [sqlite]: only [mssql] read it"
            ),
            "{msgs:#?}"
        );
        // Found together with the other problems of the file, not after they are fixed.
        assert!(
            msgs[2].starts_with("6:") && msgs[2].contains("not a version requirement"),
            "{msgs:#?}"
        );
        assert!(
            msgs[3].starts_with("9:1: `encodings` does not apply to [mssql]: only [postgres], [mysql], [mariadb], [sqlite] read it"),
            "{msgs:#?}"
        );
        // The same keys where they apply are accepted.
        Matrix::parse(
            "schema_version = 1\n[postgres]\nextensions = [\"pgcrypto\"]\nencodings = [\"UTF8\"]\n[mssql]\ncompatibility_level = { min = 130 }\ncase_sensitive = false\n[mariadb]\ncollations = [\"utf8mb4_general_ci\"]\n",
            "ok.toml",
        )
        .unwrap();
    }

    #[test]
    fn schema_versions_and_syntax_errors() {
        let e = Matrix::parse("schema_version = 2\n", "m").unwrap_err();
        assert!(e.to_string().contains("upgrade byod-precheck"), "{e}");
        let e = Matrix::parse("schema_version = 1\n[app\n", "m").unwrap_err();
        assert_eq!(e.problems[0].line, 2, "{e}");
        let e = Matrix::parse("[app]\n", "m").unwrap_err();
        assert!(
            e.to_string().contains("missing key `schema_version`"),
            "{e}"
        );
    }

    #[test]
    fn tested_up_to_bounds() {
        let b = VersionBound {
            major: 17,
            minor: None,
        };
        assert!(b.is_exceeded_by(&Version::new(18, 0, 0)));
        assert!(!b.is_exceeded_by(&Version::new(17, 9, 0)));
        let b = VersionBound {
            major: 8,
            minor: Some(4),
        };
        assert!(
            b.is_exceeded_by(&Version::new(9, 0, 0)) && !b.is_exceeded_by(&Version::new(8, 4, 3))
        );
    }
}
