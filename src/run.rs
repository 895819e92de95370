//! One whole check: collect the engine's facts, evaluate its registry, build the report. Also
//! replays saved facts, so support can re-judge a client's database against another matrix
//! without reaching it.

use crate::checks::now_rfc3339;
use crate::engine::Engine;
use crate::engines::{CollectOptions, EngineModule};
use crate::eol::{EolData, parse_date};
use crate::matrix::Matrix;
use crate::registry::{self, Ctx, Selection};
use crate::report::{self, Report, ReportInput, SelectionRecord, ServerInfo};
use crate::target::ConnSpec;
use serde::{Deserialize, Serialize};
use std::time::Instant;

/// How a run behaves.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    pub collect: CollectOptions,
    pub selection: Selection,
    /// Keep the facts in [`RunResult::facts`] (`--save-facts`); serialising them costs as
    /// much as judging them, and a fleet or the service never reads them.
    pub keep_facts: bool,
}

/// The outcome of a run: the report, and the facts it was judged from when
/// [`RunOptions::keep_facts`] asked for them (`--save-facts`).
pub struct RunResult {
    pub report: Report,
    pub facts: Option<SavedFacts>,
}

/// The version of the saved-facts format this build writes. Files of an older version are
/// upgraded on load ([`SavedFacts::read`]); a newer one is refused with what to do.
///
/// 1. release 0.1.0: no `facts_version` key.
/// 2. `facts_version` written; every fact a file lacks loads as "not collected" (judged `skip`,
///    never `fail`); PostgreSQL records which extensions' availability it asked for.
pub const FACTS_VERSION: u32 = 2;

/// Facts as saved to a file: the engine says how to read them back.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SavedFacts {
    /// The format's version ([`FACTS_VERSION`]); absent in files of release 0.1.0 (version 1).
    #[serde(default = "first_facts_version")]
    pub facts_version: u32,
    pub engine: Engine,
    /// The byod-precheck that collected them (named in errors and replays).
    #[serde(default)]
    pub tool_version: String,
    pub facts: serde_json::Value,
}

fn first_facts_version() -> u32 {
    1
}

/// Each step upgrades a file of version `from` to `from + 1`, on the JSON: renames and moved
/// fields go here. A fact that a version adds needs no step: it loads as "not collected".
const UPGRADES: &[(u32, Upgrade)] = &[(1, |_| {})];

/// One upgrade step, on the file's `facts` value.
type Upgrade = fn(&mut serde_json::Value);

/// Why a facts file cannot be replayed.
#[derive(Debug, thiserror::Error)]
pub enum FactsError {
    #[error("not a facts file (written by `check --save-facts`): {0}")]
    Format(#[from] serde_json::Error),
    #[error(
        "written by byod-precheck {tool} in facts format {found}; this build reads formats 1 to {FACTS_VERSION}: upgrade byod-precheck"
    )]
    Newer { found: u32, tool: String },
    #[error("facts for {engine} (saved by byod-precheck {tool}, format {version}): {source}")]
    Facts {
        engine: Engine,
        tool: String,
        version: u32,
        source: serde_json::Error,
    },
}

impl SavedFacts {
    /// Facts as this build saves them.
    pub fn of<E: EngineModule>(facts: &E::Facts) -> SavedFacts {
        SavedFacts {
            facts_version: FACTS_VERSION,
            engine: E::ENGINE,
            tool_version: env!("CARGO_PKG_VERSION").into(),
            facts: serde_json::to_value(facts).unwrap_or_default(),
        }
    }

    /// Reads a facts file of any version this build knows (a UTF-8 BOM is ignored) and upgrades
    /// it to [`FACTS_VERSION`].
    pub fn read(bytes: &[u8]) -> Result<SavedFacts, FactsError> {
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let mut saved: SavedFacts = serde_json::from_slice(bytes)?;
        if saved.facts_version > FACTS_VERSION {
            return Err(FactsError::Newer {
                found: saved.facts_version,
                tool: saved.tool_version,
            });
        }
        for (from, step) in UPGRADES {
            if saved.facts_version == *from {
                step(&mut saved.facts);
                saved.facts_version = from + 1;
            }
        }
        Ok(saved)
    }
}

/// Checks one target. Never fails: a connection failure is a `fail` of the connection check.
pub async fn check(
    spec: &ConnSpec,
    matrix: &Matrix,
    opts: &RunOptions,
) -> Result<RunResult, String> {
    Ok(crate::engines::with_engine!(spec.engine, E => run::<E>(spec, matrix, opts).await))
}

async fn run<E: EngineModule>(spec: &ConnSpec, matrix: &Matrix, opts: &RunOptions) -> RunResult {
    let started = Instant::now();
    let generated_at = now_rfc3339();
    let limit = opts.collect.run_timeout;
    let collect = with_url_options(spec, &opts.collect);
    let mut facts = match tokio::time::timeout(limit, E::collect(spec, &collect)).await {
        Ok(f) => f,
        Err(_) => E::failed(
            spec,
            crate::net::ConnectFailure {
                kind: crate::net::FailureKind::Timeout,
                message: format!(
                    "the whole check took longer than {} s (raise --timeout)",
                    limit.as_secs_f32()
                ),
            },
        ),
    };
    // The product's own SQL, on a connection of its own, after the facts (it needs them to
    // know a read-only target) and only with --probe-write.
    if opts.selection.includes(&format!("{}.workload", E::ENGINE)) {
        let w =
            crate::engines::workload::probe(spec, matrix, E::common(&facts), &opts.collect).await;
        E::common_mut(&mut facts).workload = w;
    }
    let duration_ms = started.elapsed().as_millis() as u64;
    let report = evaluate::<E>(&facts, matrix, &opts.selection, generated_at, duration_ms);
    RunResult {
        report,
        facts: opts.keep_facts.then(|| SavedFacts::of::<E>(&facts)),
    }
}

/// The collection options with what the URL itself says: `connect_timeout` (libpq, MySQL,
/// ADO.NET `Connect Timeout`, JDBC `loginTimeout`) replaces `--connect-timeout` for this
/// target; 0 means "no limit of its own", as in libpq, and keeps the command line's.
pub fn with_url_options(spec: &ConnSpec, collect: &CollectOptions) -> CollectOptions {
    let mut c = collect.clone();
    if let Some(t) = spec.seconds("connect_timeout") {
        c.connect_timeout = t;
    }
    c
}

/// The result of a run that had to be ended from outside (the hard deadline, the memory
/// limit): the connection check fails with `failure`, every other check says it was not run.
pub fn ended(
    spec: &ConnSpec,
    matrix: &Matrix,
    opts: &RunOptions,
    failure: crate::net::ConnectFailure,
    duration_ms: u64,
) -> RunResult {
    crate::engines::with_engine!(spec.engine, E => {
        let facts = E::failed(spec, failure);
        let report = evaluate::<E>(&facts, matrix, &opts.selection, now_rfc3339(), duration_ms);
        RunResult {
            report,
            facts: opts.keep_facts.then(|| SavedFacts::of::<E>(&facts)),
        }
    })
}

/// Judges collected facts against a matrix. Pure: the same facts give the same report.
pub fn evaluate<E: EngineModule>(
    facts: &E::Facts,
    matrix: &Matrix,
    selection: &Selection,
    generated_at: String,
    duration_ms: u64,
) -> Report {
    let common = E::common(facts);
    let identity = common.identity.value();
    let (rules, rules_name) = matrix.rules_for(E::ENGINE, identity.map(|i| i.flavor.as_str()));
    let eol = EolData::shipped();
    let today = parse_date(common.collected_at.get(..10).unwrap_or_default())
        .unwrap_or_else(|| time::OffsetDateTime::now_utc().date());
    let ctx = Ctx {
        matrix,
        rules,
        rules_name,
        eol,
        today,
    };
    let unreachable = common
        .connection
        .failure
        .as_ref()
        .map(|f| format!("the connection failed ({})", f.kind.as_str()));
    let findings = registry::evaluate(E::checks(), facts, &ctx, selection, unreachable.as_deref());
    let selection = (!selection.is_everything()).then(|| SelectionRecord {
        only: selection.only_patterns().to_vec(),
        skip: selection.skip_patterns().to_vec(),
        excluded: E::checks()
            .iter()
            .filter(|c| !selection.includes(c.id))
            .map(|c| c.id.to_string())
            .collect(),
    });
    let server = identity.map(|id| ServerInfo {
        engine: id.engine,
        flavor: id.flavor.clone(),
        version: id.version().to_string(),
        version_raw: crate::text::truncate(
            common.version_raw.value().map_or("", String::as_str),
            1024,
        ),
        product: id.product.clone(),
        flavor_version: id.flavor_version.clone(),
        os: id.os.clone(),
    });
    report::build(
        ReportInput {
            generated_at,
            duration_ms,
            target: common.target.clone(),
            server,
            matrix: matrix.origin.clone(),
            eol_data_date: eol.data_date.clone(),
            queries: common.queries,
            findings,
            selection,
            not_run_reason: unreachable,
        },
        &matrix.severity,
    )
}

/// Re-judges saved facts (from `check --save-facts`) against a matrix.
pub fn replay(
    saved: &SavedFacts,
    matrix: &Matrix,
    selection: &Selection,
) -> Result<Report, String> {
    fn go<E: EngineModule>(s: &SavedFacts, m: &Matrix, sel: &Selection) -> Result<Report, String> {
        let facts: E::Facts = serde_json::from_value(s.facts.clone()).map_err(|e| {
            FactsError::Facts {
                engine: E::ENGINE,
                tool: s.tool_version.clone(),
                version: s.facts_version,
                source: e,
            }
            .to_string()
        })?;
        let when = E::common(&facts).collected_at.clone();
        let mut r = evaluate::<E>(&facts, m, sel, when, 0);
        r.replayed_at = Some(now_rfc3339());
        Ok(r)
    }
    crate::engines::with_engine!(saved.engine, E => go::<E>(saved, matrix, selection))
}
