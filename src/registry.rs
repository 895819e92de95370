//! The check registry: per engine, an ordered static list of checks. The order is the report
//! order; `checks` and `explain` read the same list, so the documentation cannot drift from the
//! code. A check is a pure, synchronous function of the engine's facts and the [`Ctx`].

use crate::engine::Engine;
use crate::eol::EolData;
use crate::matrix::{EngineRules, Matrix};
use crate::probe::{self, Unavailable};
use crate::report::Finding;
use crate::status::Status;
use schemars::JsonSchema;
use serde::Serialize;
use std::fmt;
use time::Date;

pub use crate::report::Category;

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a check concluded, before id, title and timing are attached.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub status: Status,
    pub message: String,
    pub observed: Option<String>,
    pub expected: Option<String>,
    pub remedy: Option<String>,
}

impl Verdict {
    fn new(status: Status, message: impl Into<String>) -> Self {
        Verdict {
            status,
            message: message.into(),
            observed: None,
            expected: None,
            remedy: None,
        }
    }
    pub fn pass(message: impl Into<String>) -> Self {
        Self::new(Status::Pass, message)
    }
    pub fn warn(message: impl Into<String>) -> Self {
        Self::new(Status::Warn, message)
    }
    pub fn fail(message: impl Into<String>) -> Self {
        Self::new(Status::Fail, message)
    }
    pub fn skip(message: impl Into<String>) -> Self {
        Self::new(Status::Skip, message)
    }
    pub fn error(message: impl Into<String>) -> Self {
        Self::new(Status::Error, message)
    }
    /// What the server has.
    pub fn observed(mut self, v: impl fmt::Display) -> Self {
        self.observed = Some(v.to_string());
        self
    }
    /// What the matrix asks.
    pub fn expected(mut self, v: impl fmt::Display) -> Self {
        self.expected = Some(v.to_string());
        self
    }
    /// The exact fix: the statement to run, the setting to change, the option to add.
    pub fn remedy(mut self, v: impl fmt::Display) -> Self {
        self.remedy = Some(v.to_string());
        self
    }
    /// Sets the remedy only when the verdict is not a pass.
    pub fn remedy_unless_pass(self, v: impl fmt::Display) -> Self {
        if self.status == Status::Pass {
            self
        } else {
            self.remedy(v)
        }
    }
}

impl From<Unavailable> for Verdict {
    fn from(u: Unavailable) -> Self {
        match u {
            Unavailable::Error(m) | Unavailable::Denied(m) => Verdict::error(m),
            Unavailable::Skip(m) => Verdict::skip(m),
        }
    }
}

/// What a check returns: `Err` when a fact it needs is unavailable (`?` on [`crate::probe::Probe::get`]).
pub type Outcome = Result<Verdict, Unavailable>;

/// Everything a check may read besides the facts. Nothing here does I/O.
pub struct Ctx<'a> {
    /// The whole matrix (for `[app]`).
    pub matrix: &'a Matrix,
    /// The engine table that applies to the detected flavor (`[mysql]` or `[mariadb]`, ...).
    pub rules: &'a EngineRules,
    /// The name of that table, for messages ("[mariadb] versions").
    pub rules_name: &'static str,
    /// Vendor end-of-life dates.
    pub eol: &'a EolData,
    /// The day the facts were collected (so replays give the same verdicts).
    pub today: Date,
}

#[cfg(test)]
impl<'a> Ctx<'a> {
    /// The context unit tests judge under: the matrix's `[postgres]` or `[mysql]` table, the
    /// shipped end-of-life data, and a fixed day.
    pub fn for_tests(matrix: &'a Matrix, eol: &'a EolData, engine: Engine) -> Self {
        let (rules, rules_name) = matrix.rules_for(engine, None);
        Ctx {
            matrix,
            rules,
            rules_name,
            eol,
            today: time::macros::date!(2026 - 11 - 24),
        }
    }
}

/// One check of an engine's registry.
pub struct Check<F: 'static> {
    /// Stable id, `engine.kebab-name`.
    pub id: &'static str,
    pub category: Category,
    /// One line, shown in tables.
    pub title: &'static str,
    /// Why it matters and how to fix it (`explain`).
    pub doc: &'static str,
    /// What it asks the server (`explain`).
    pub asks: &'static str,
    /// The check itself: pure and synchronous.
    pub run: fn(&F, &Ctx) -> Outcome,
}

// By hand: a derive would ask `F: Clone`, and a check holds only references and a function.
impl<F> Clone for Check<F> {
    fn clone(&self) -> Self {
        Check {
            id: self.id,
            category: self.category,
            title: self.title,
            doc: self.doc,
            asks: self.asks,
            run: self.run,
        }
    }
}

/// A check's description without its function: what `checks` and `explain` print.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct CheckInfo {
    pub id: &'static str,
    pub engine: Engine,
    pub category: Category,
    pub title: &'static str,
    pub doc: &'static str,
    pub asks: &'static str,
}

impl<F> Check<F> {
    /// The description of this check.
    pub fn info(&self, engine: Engine) -> CheckInfo {
        CheckInfo {
            id: self.id,
            engine,
            category: self.category,
            title: self.title,
            doc: self.doc,
            asks: self.asks,
        }
    }
}

/// Which check ids a run evaluates (`--only`, `--skip`), with the patterns it was built from
/// (the report records them).
#[derive(Debug, Default, Clone)]
pub struct Selection {
    only: Option<globset::GlobSet>,
    skip: Option<globset::GlobSet>,
    only_patterns: Vec<String>,
    skip_patterns: Vec<String>,
}

impl Selection {
    /// Builds a selection from glob patterns; an invalid glob is an error naming it.
    pub fn new(only: &[String], skip: &[String]) -> Result<Self, String> {
        fn set(globs: &[String]) -> Result<Option<globset::GlobSet>, String> {
            if globs.is_empty() {
                return Ok(None);
            }
            let mut b = globset::GlobSetBuilder::new();
            for g in globs {
                b.add(globset::Glob::new(g).map_err(|e| format!("invalid glob `{g}`: {e}"))?);
            }
            b.build().map(Some).map_err(|e| e.to_string())
        }
        Ok(Selection {
            only: set(only)?,
            skip: set(skip)?,
            only_patterns: only.to_vec(),
            skip_patterns: skip.to_vec(),
        })
    }

    /// Whether the user narrowed the run at all.
    pub fn is_everything(&self) -> bool {
        self.only_patterns.is_empty() && self.skip_patterns.is_empty()
    }

    /// The `--only` patterns.
    pub fn only_patterns(&self) -> &[String] {
        &self.only_patterns
    }

    /// The `--skip` patterns.
    pub fn skip_patterns(&self) -> &[String] {
        &self.skip_patterns
    }

    /// Every pattern must select at least one of `ids` (the whole catalogue): a pattern that
    /// matches nothing is a typo, never a silent pass. The error names each such pattern and the
    /// ids closest to it.
    pub fn check_patterns(&self, ids: &[&str]) -> Result<(), String> {
        let mut problems = Vec::new();
        for (flag, patterns) in [
            ("--only", &self.only_patterns),
            ("--skip", &self.skip_patterns),
        ] {
            for p in patterns {
                let Ok(glob) = globset::Glob::new(p) else {
                    continue;
                };
                let m = glob.compile_matcher();
                if !ids.iter().any(|id| m.is_match(id)) {
                    let near = closest_ids(p, ids);
                    problems.push(format!(
                        "{flag} `{p}` selects no check{}",
                        if near.is_empty() {
                            String::new()
                        } else {
                            format!(" (closest: {})", near.join(", "))
                        }
                    ));
                }
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "{} (see `byod-precheck checks`)",
                problems.join("; ")
            ))
        }
    }

    /// The selection must leave one of an engine's checks to run besides the connection check
    /// (which always runs): `--skip '*'` or `--only 'mysql.*'` against PostgreSQL is a mistake.
    pub fn check_engine(&self, engine: Engine, ids: &[&str]) -> Result<(), String> {
        if self.is_everything()
            || ids
                .iter()
                .any(|id| !id.ends_with(".connection") && self.includes(id))
        {
            return Ok(());
        }
        Err(format!(
            "the selection ({}) leaves no {engine} check to run besides {engine}.connection (see `byod-precheck checks --engine {engine}`)",
            self.describe()
        ))
    }

    /// The patterns as the user typed them (`--only 'a*' --skip b`), or `every check`.
    pub fn describe(&self) -> String {
        describe_patterns(&self.only_patterns, &self.skip_patterns)
    }
}

pub use crate::report::describe_patterns;
pub use crate::text::closest_ids;

impl Selection {
    /// Whether a check id is evaluated. The connection check always is: the others depend on it.
    pub fn includes(&self, id: &str) -> bool {
        if id.ends_with(".connection") {
            return true;
        }
        self.only.as_ref().is_none_or(|s| s.is_match(id))
            && !self.skip.as_ref().is_some_and(|s| s.is_match(id))
    }
}

/// Runs the selected checks of a registry over the facts, in registry order. When the target
/// was not reached (`unreachable`), every check but the connection check is skipped with that
/// reason.
pub fn evaluate<F>(
    checks: &[Check<F>],
    facts: &F,
    ctx: &Ctx,
    selection: &Selection,
    unreachable: Option<&str>,
) -> Vec<Finding> {
    checks
        .iter()
        .filter(|c| selection.includes(c.id))
        .map(|c| {
            probe::reset_read_ms();
            let verdict = match unreachable {
                Some(why) if !c.id.ends_with(".connection") => {
                    Verdict::skip(format!("not evaluated: {why}"))
                }
                _ => match (c.run)(facts, ctx) {
                    Ok(v) => v,
                    // Refused a read: the fix is a grant, and the check says what it reads.
                    Err(Unavailable::Denied(m)) => Verdict::error(m).remedy(format!(
                        "Grant the user read access to what this check reads ({}), or run the check as a user that may read it.",
                        c.asks
                    )),
                    Err(u) => Verdict::from(u),
                },
            };
            Finding {
                id: c.id.to_string(),
                category: c.category,
                title: c.title.to_string(),
                status: verdict.status,
                message: verdict.message,
                observed: verdict.observed,
                expected: verdict.expected,
                remedy: verdict.remedy,
                duration_ms: probe::take_read_ms(),
                severity_override: None,
            }
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const IDS: &[&str] = &[
        "postgres.connection",
        "postgres.tls",
        "postgres.table-privileges",
        "postgres.create-table",
        "mysql.tls",
    ];

    #[test]
    fn a_refused_read_is_an_error_whose_remedy_names_what_the_check_reads() {
        use crate::probe::Probe;
        let checks = [Check::<Probe<u32>> {
            id: "postgres.migrations",
            category: Category::Migrations,
            title: "Migration history",
            doc: "",
            asks: "SELECT from each history table",
            run: |p, _| p.get().map(|_| Verdict::pass("ok")),
        }];
        let denied: Probe<u32> = Probe::Denied {
            message: "permission denied for table alembic_version".into(),
            ms: 0,
        };
        let matrix = crate::matrix::Matrix::builtin();
        let eol = crate::eol::EolData::shipped();
        let ctx = Ctx::for_tests(&matrix, eol, Engine::Postgres);
        let all = Selection::new(&[], &[]).unwrap();
        let f = &evaluate(&checks, &denied, &ctx, &all, None)[0];
        assert_eq!(f.status, Status::Error);
        assert!(f.message.contains("alembic_version"), "{f:?}");
        assert!(
            f.remedy
                .as_deref()
                .is_some_and(|r| r.contains("SELECT from each history table")),
            "{f:?}"
        );
        // A failed (not refused) read gets no grant to run.
        let failed: Probe<u32> = Probe::Failed {
            message: "syntax error".into(),
            ms: 0,
        };
        assert_eq!(evaluate(&checks, &failed, &ctx, &all, None)[0].remedy, None);
    }

    #[test]
    fn closest_ids_take_typos_prefixes_and_names() {
        assert_eq!(closest_ids("postgres.tsl", IDS), ["postgres.tls"]);
        assert_eq!(closest_ids("tsl", IDS), ["mysql.tls", "postgres.tls"]);
        assert_eq!(
            closest_ids("postgres.privileges*", IDS),
            ["postgres.table-privileges"]
        );
        assert!(closest_ids("typo", IDS).is_empty());
    }

    #[test]
    fn patterns_that_select_nothing_are_named() {
        let s =
            Selection::new(&["typo".into(), "postgres.*".into()], &["mysql.tsl".into()]).unwrap();
        let e = s.check_patterns(IDS).unwrap_err();
        assert_eq!(
            e,
            "--only `typo` selects no check; --skip `mysql.tsl` selects no check (closest: mysql.tls) (see `byod-precheck checks`)"
        );
        let all = Selection::new(&[], &["*".into()]).unwrap();
        assert!(all.check_patterns(IDS).is_ok());
        assert!(all.check_engine(Engine::Postgres, IDS).is_err());
        assert!(
            Selection::default()
                .check_engine(Engine::Postgres, IDS)
                .is_ok()
        );
    }
}
