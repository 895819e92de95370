//! The engines. Each lives in its own folder with the same files:
//! `identify.rs` (pure identification), `facts.rs` (what is collected), `collect.rs` (the only
//! code that talks to the server), `checks.rs` (the registry: pure checks over the facts).

/// Declares an engine's unit struct and its [`EngineModule`] impl from the module's standard
/// files (`checks::CHECKS`, `identify::FLAVORS`, `collect::collect`, `collect::failed`), so the
/// four engines cannot drift apart in how they plug in.
macro_rules! engine_module {
    ($(#[$doc:meta])* $name:ident, $engine:expr, $facts:ty) => {
        $(#[$doc])*
        pub struct $name;

        impl $crate::engines::EngineModule for $name {
            const ENGINE: $crate::engine::Engine = $engine;
            type Facts = $facts;

            fn checks() -> &'static [$crate::registry::Check<Self::Facts>] {
                &checks::CHECKS
            }
            fn flavors() -> &'static [&'static str] {
                identify::FLAVORS
            }
            fn matrix_keys() -> &'static [&'static str] {
                checks::MATRIX_KEYS
            }
            fn dialect() -> &'static $crate::target::Dialect {
                &connstr::DIALECT
            }
            fn workload<'a>(
                job: $crate::engines::workload::Job<'a>,
                base: $crate::workload::Workload,
            ) -> $crate::engines::workload::BoxFuture<'a, $crate::probe::Probe<$crate::workload::Workload>> {
                Box::pin(workload::run(job, base))
            }
            fn identify(
                version_string: &str,
                hints: &$crate::identity::Hints<'_>,
            ) -> Result<$crate::identity::ServerIdentity, $crate::identity::IdentifyError> {
                identify::identify(version_string, hints)
            }
            async fn collect(
                spec: &$crate::target::ConnSpec,
                opts: &$crate::engines::CollectOptions,
            ) -> Self::Facts {
                collect::collect(spec, opts).await
            }
            fn common(facts: &Self::Facts) -> &$crate::checks::CommonFacts {
                &facts.common
            }
            fn common_mut(facts: &mut Self::Facts) -> &mut $crate::checks::CommonFacts {
                &mut facts.common
            }
            fn started(spec: &$crate::target::ConnSpec) -> Self::Facts {
                let mut facts = <$facts>::default();
                facts.common = $crate::checks::CommonFacts::started(spec.target_info());
                facts
            }
            fn failed(spec: &$crate::target::ConnSpec, failure: $crate::net::ConnectFailure) -> Self::Facts {
                collect::failed(Self::started(spec), failure)
            }
        }
    };
}
pub(crate) use engine_module;

/// Runs `$body` with `$m` naming the [`EngineModule`] of `$engine`: the one place an [`Engine`]
/// value becomes its module, so a new engine is one arm here, required by the compiler.
macro_rules! with_engine {
    ($engine:expr, $m:ident => $body:expr) => {
        match $engine {
            $crate::engine::Engine::Postgres => {
                type $m = $crate::engines::postgres::Postgres;
                #[allow(unused_imports)]
                use $crate::engines::EngineModule as _;
                $body
            }
            $crate::engine::Engine::Mysql => {
                type $m = $crate::engines::mysql::Mysql;
                #[allow(unused_imports)]
                use $crate::engines::EngineModule as _;
                $body
            }
            $crate::engine::Engine::Mssql => {
                type $m = $crate::engines::mssql::Mssql;
                #[allow(unused_imports)]
                use $crate::engines::EngineModule as _;
                $body
            }
            $crate::engine::Engine::Sqlite => {
                type $m = $crate::engines::sqlite::Sqlite;
                #[allow(unused_imports)]
                use $crate::engines::EngineModule as _;
                $body
            }
        }
    };
}
pub(crate) use with_engine;

pub mod mssql;
pub mod mysql;
pub mod postgres;
pub mod sql;
pub mod sqlite;
pub mod workload;

use crate::checks::{CAPABILITIES, CommonFacts};
use crate::engine::Engine;
use crate::identity::{Hints, IdentifyError, ServerIdentity};
use crate::matrix::{Matrix, MatrixError, Vocabulary};
use crate::probe::Probe;
use crate::registry::{Check, CheckInfo};
use crate::target::{ConnSpec, Dialect};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::future::Future;
use std::time::Duration;

/// What collection may do and how long it may take.
#[derive(Debug, Clone)]
pub struct CollectOptions {
    pub connect_timeout: Duration,
    /// Per query (client side) and per statement (server side).
    pub check_timeout: Duration,
    /// Create (and roll back) a scratch object to confirm capabilities for real.
    pub probe_write: bool,
    /// The schema our tables live in, when the matrix names one.
    pub schema: Option<String>,
    /// Extensions the matrix requires (PostgreSQL): only then is the server's list of available
    /// extensions read, which makes it parse every extension's control file.
    pub extensions: Vec<String>,
    /// The whole collection, connection included.
    pub run_timeout: Duration,
    /// Reach each server and inspect its TLS once per process, and share the figures between
    /// its databases (fleet runs: the same server answers, with the same certificate, for
    /// each; a connection opened only to be measured costs the server a process).
    pub share_per_server: bool,
    /// The matrix judges a setting our driver sets for its own session (PostgreSQL: an [app]
    /// time_zone, or a rule on TimeZone, DateStyle, client_encoding or extra_float_digits):
    /// only then does a superuser's check read pg_file_settings, which makes the server parse
    /// its configuration files.
    pub driver_set_judged: bool,
}

impl CollectOptions {
    /// What the matrix asks to be collected: the schema, the extensions, the settings our
    /// driver hides.
    pub fn for_matrix(&mut self, matrix: &crate::matrix::Matrix) {
        self.schema = matrix.app.schema.clone();
        self.extensions = matrix.postgres.extensions.clone();
        self.driver_set_judged = matrix.app.time_zone.is_some()
            || matrix
                .postgres
                .settings
                .keys()
                .any(|k| postgres::collect::set_by_our_driver(k));
    }
}

impl CollectOptions {
    /// The DNS and TCP steps for `spec` under these options ([`crate::net::reach_target`]).
    pub async fn reach(
        &self,
        spec: &ConnSpec,
        facts: &mut crate::net::ConnectionFacts,
    ) -> Result<Option<tokio::net::TcpStream>, crate::net::ConnectFailure> {
        crate::net::reach_target(spec, self.connect_timeout, self.share_per_server, facts).await
    }
}

impl Default for CollectOptions {
    fn default() -> Self {
        CollectOptions {
            connect_timeout: Duration::from_secs(10),
            check_timeout: Duration::from_secs(10),
            probe_write: false,
            schema: None,
            extensions: Vec::new(),
            run_timeout: Duration::from_secs(60),
            share_per_server: false,
            driver_set_judged: false,
        }
    }
}

/// One engine: its facts, how to collect them, and its registry.
pub trait EngineModule {
    const ENGINE: Engine;
    type Facts: Serialize + DeserializeOwned + Send + Sync + 'static;
    /// The registry, in report order.
    fn checks() -> &'static [Check<Self::Facts>];
    /// Flavors this engine names.
    fn flavors() -> &'static [&'static str];
    /// The keys of its matrix table that its own checks read, beyond
    /// [`crate::matrix::COMMON_ENGINE_KEYS`]; any other engine's key there is an error.
    fn matrix_keys() -> &'static [&'static str];
    /// Names the server from what it says of itself (pure; see [`identify`]).
    fn identify(version_string: &str, hints: &Hints<'_>) -> Result<ServerIdentity, IdentifyError>;
    /// Talks to the server. Never fails: a failure is recorded in the facts.
    fn collect(spec: &ConnSpec, opts: &CollectOptions) -> impl Future<Output = Self::Facts> + Send;
    /// The shared part of the facts.
    fn common(facts: &Self::Facts) -> &CommonFacts;
    /// The shared part of the facts, to record what runs after collection (the workload).
    fn common_mut(facts: &mut Self::Facts) -> &mut CommonFacts;
    /// Facts with nothing collected yet but the target and the clock.
    fn started(spec: &ConnSpec) -> Self::Facts;
    /// Facts for a target that could not be reached (used when the whole run times out).
    fn failed(spec: &ConnSpec, failure: crate::net::ConnectFailure) -> Self::Facts;
    /// What its connection strings may say.
    fn dialect() -> &'static Dialect;
    /// Runs the product's own SQL on a connection of its own, leaving nothing behind
    /// (`workload.rs` in the engine's folder; see [`workload`]).
    fn workload<'a>(
        job: workload::Job<'a>,
        base: crate::workload::Workload,
    ) -> workload::BoxFuture<'a, Probe<crate::workload::Workload>>;
}

/// Every engine's connection-string dialect, in [`Engine::ALL`]'s order.
pub fn dialects() -> [&'static Dialect; Engine::ALL.len()] {
    Engine::ALL.map(dialect)
}

/// An engine's connection-string dialect.
pub fn dialect(engine: Engine) -> &'static Dialect {
    with_engine!(engine, M => M::dialect())
}

/// An engine by its name or another name of it (`postgresql`, `mariadb`, `sqlserver`), in
/// any case.
pub fn named(name: &str) -> Option<Engine> {
    Engine::from_name(name).or_else(|| {
        dialects()
            .into_iter()
            .find(|d| d.aliases.iter().any(|a| a.eq_ignore_ascii_case(name)))
            .map(|d| d.engine)
    })
}

// Parsing a target reads it against the engines' dialects: the constructor lives here, beside
// them, so `target` itself does not depend on the engines (as `Matrix::parse` below).
impl ConnSpec {
    /// Parses any accepted form of connection string (every engine's URLs, SQLite paths,
    /// SQL Server's ADO.NET and JDBC strings).
    pub fn parse(input: &str) -> Result<ConnSpec, crate::target::TargetError> {
        crate::target::parse_with(input, &dialects())
    }
}

/// Every check of every engine, in listing order.
pub fn all_checks() -> Vec<CheckInfo> {
    Engine::ALL
        .into_iter()
        .flat_map(|e| with_engine!(e, M => M::checks().iter().map(move |c| c.info(e)).collect::<Vec<_>>()))
        .collect()
}

/// The flavors an engine names.
pub fn flavors(engine: Engine) -> &'static [&'static str] {
    with_engine!(engine, M => M::flavors())
}

/// The engine-specific keys of an engine's matrix table.
pub fn matrix_keys(engine: Engine) -> &'static [&'static str] {
    with_engine!(engine, M => M::matrix_keys())
}

/// Identifies a server from its version string and other probe results by name (see SPEC.md:
/// `version_comment`, `aurora_version`, `citus_version`, `server_version_num`,
/// `product_version`, `engine_edition`, `edition`, ...). Pure: support feeds it strings seen in
/// the field.
pub fn identify(
    engine: Engine,
    version_string: &str,
    hints: &[(&str, &str)],
) -> Result<ServerIdentity, IdentifyError> {
    if version_string.trim().is_empty() && hints.is_empty() {
        return Err(IdentifyError::Empty);
    }
    let hints = Hints(hints);
    with_engine!(engine, M => M::identify(version_string, &hints))
}

/// [`identify`] over a collected version: a version that could not be read carries its failure
/// over, one that cannot be understood is a failed probe; the time is the version probe's.
pub fn identify_probe(
    engine: Engine,
    version: &Probe<String>,
    hints: &[(&str, &str)],
) -> Probe<ServerIdentity> {
    match version {
        Probe::Ok { value, ms } => match identify(engine, value, hints) {
            Ok(id) => Probe::ok(id, *ms),
            Err(e) => Probe::Failed {
                message: e.to_string(),
                ms: *ms,
            },
        },
        other => other.failure(),
    }
}

// Loading a matrix validates its names against the engines' registries: these constructors
// live here, beside what they need, so `matrix` itself does not depend on the engines.
impl Matrix {
    /// The built-in matrix. It is validated by a test, so a failure here is a build defect.
    pub fn builtin() -> Matrix {
        Matrix::parse(crate::matrix::BUILTIN_SOURCE, "built-in").unwrap_or_else(|e| panic!("{e}"))
    }

    /// Parses and validates a matrix; `source_name` names it in errors and in the report.
    pub fn parse(text: &str, source_name: &str) -> Result<Matrix, MatrixError> {
        Matrix::parse_with(text, source_name, &vocabulary())
    }

    /// Reads a matrix file: the file must be UTF-8 TOML.
    pub fn load(path: &std::path::Path) -> Result<Matrix, MatrixError> {
        Matrix::load_with(path, &vocabulary())
    }
}

/// What matrix validation checks names against.
pub fn vocabulary() -> Vocabulary {
    Vocabulary {
        check_ids: all_checks().iter().map(|c| c.id).collect(),
        flavors,
        capabilities: CAPABILITIES,
        engine_keys: matrix_keys,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn registry_ids_are_unique_well_formed_and_documented() {
        let all = all_checks();
        let mut seen = BTreeSet::new();
        for c in &all {
            assert!(seen.insert(c.id), "duplicate id {}", c.id);
            let (engine, name) =
                c.id.split_once('.')
                    .unwrap_or_else(|| panic!("{} has no engine prefix", c.id));
            assert_eq!(
                engine,
                c.engine.name(),
                "{} is registered under {}",
                c.id,
                c.engine
            );
            assert!(
                !name.is_empty()
                    && name
                        .chars()
                        .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-'),
                "{} is not kebab-case",
                c.id
            );
            assert!(
                c.title.len() > 5 && !c.title.ends_with('.'),
                "{}: title",
                c.id
            );
            assert!(c.doc.len() > 40, "{}: doc too short to explain", c.id);
            assert!(!c.asks.is_empty(), "{}: asks", c.id);
        }
        for e in Engine::ALL {
            let n = all.iter().filter(|c| c.engine == e).count();
            if n > 0 {
                assert!(
                    all.iter().any(|c| c.id == format!("{e}.connection")),
                    "{e} has no connection check"
                );
            }
        }
    }

    #[test]
    fn every_flavor_table_is_non_empty_for_built_engines() {
        for e in [Engine::Postgres, Engine::Sqlite] {
            assert!(!flavors(e).is_empty());
        }
    }
}
