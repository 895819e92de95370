//! The library facade: what a backend links to check a client's database without a shell, and
//! what `byod-precheck serve` itself runs. One builder, [`Precheck`]: a target, a matrix and a
//! few options in, a [`Report`] out, each finding handed to a callback as it is judged.
//!
//! ```no_run
//! # async fn demo() -> Result<(), byod_precheck::PrecheckError> {
//! let report = byod_precheck::Precheck::new("postgres://app@db.example.com/app")?
//!     .password("typed by the client, never logged")
//!     .run_streaming(|finding| println!("{} {}", finding.status, finding.id))
//!     .await;
//! println!("{}", report.summary.status);
//! # Ok(()) }
//! ```

use crate::matrix::Matrix;
use crate::net::ConnectGuard;
use crate::registry::Selection;
use crate::report::{Finding, Report, TargetInfo};
use crate::run::{self, RunOptions};
use crate::target::{ConnSpec, Secret, TargetError};
use std::sync::Arc;
use std::time::Duration;

/// Why a check could not be started (a check that runs never fails: a failed connection is a
/// `fail` of its connection check, in the report).
#[derive(Debug, thiserror::Error)]
pub enum PrecheckError {
    /// The connection string cannot be used; the message never holds the password.
    #[error(transparent)]
    Target(#[from] TargetError),
    /// An `only`/`skip` pattern is not a valid glob.
    #[error("{0}")]
    Selection(String),
}

/// One check of one database, built step by step and run once.
pub struct Precheck {
    spec: ConnSpec,
    matrix: Arc<Matrix>,
    opts: RunOptions,
    guard: Option<Arc<dyn ConnectGuard>>,
}

impl Precheck {
    /// A check of the database a connection string names (every form `check` accepts), against
    /// the built-in matrix, read-only, with the command line's default time limits.
    pub fn new(url: &str) -> Result<Precheck, PrecheckError> {
        let matrix = Arc::new(Matrix::builtin());
        let mut p = Precheck {
            spec: ConnSpec::parse(url)?,
            opts: RunOptions::default(),
            matrix: matrix.clone(),
            guard: None,
        };
        p = p.matrix(matrix);
        Ok(p)
    }

    /// The password, when it is not in the connection string (it then replaces that one). It is
    /// given to the driver only: never in the report, a message or a log line.
    pub fn password(mut self, password: impl Into<String>) -> Self {
        self.spec.password = Some(Secret::new(password));
        self
    }

    /// The supported-matrix to judge against (default: the built-in one).
    pub fn matrix(mut self, matrix: Arc<Matrix>) -> Self {
        self.opts.collect.schema = matrix.app.schema.clone();
        self.opts.collect.extensions = matrix.postgres.extensions.clone();
        self.matrix = matrix;
        self
    }

    /// Create (and roll back or drop) a scratch object to confirm capabilities for real.
    pub fn probe_write(mut self, yes: bool) -> Self {
        self.opts.collect.probe_write = yes;
        self
    }

    /// Time allowed for connecting: DNS, TCP, TLS and login.
    pub fn connect_timeout(mut self, limit: Duration) -> Self {
        self.opts.collect.connect_timeout = limit;
        self
    }

    /// Time allowed for each query, client and server side.
    pub fn check_timeout(mut self, limit: Duration) -> Self {
        self.opts.collect.check_timeout = limit;
        self
    }

    /// Time allowed for the whole check; past it, the report says the check timed out.
    pub fn timeout(mut self, limit: Duration) -> Self {
        self.opts.collect.run_timeout = limit;
        self
    }

    /// Only the checks matching these globs, without those matching `skip`.
    pub fn select(mut self, only: &[String], skip: &[String]) -> Result<Self, PrecheckError> {
        self.opts.selection = Selection::new(only, skip).map_err(PrecheckError::Selection)?;
        Ok(self)
    }

    /// Every connection of the check is decided by `guard` and goes to the address it checked
    /// (the service's SSRF guard; see [`ConnectGuard`]).
    pub fn guard(mut self, guard: Arc<dyn ConnectGuard>) -> Self {
        self.guard = Some(guard);
        self
    }

    /// What the report will say about the target (no secret).
    pub fn target(&self) -> TargetInfo {
        self.spec.target_info()
    }

    /// The parsed target, for callers inside the crate that judge it before running.
    pub(crate) fn spec(&self) -> &ConnSpec {
        &self.spec
    }

    /// Mutable access for the service (which sets a CA file of its own).
    pub(crate) fn spec_mut(&mut self) -> &mut ConnSpec {
        &mut self.spec
    }

    /// Runs the check.
    pub async fn run(self) -> Report {
        self.run_streaming(|_| {}).await
    }

    /// Runs the check and hands each finding to `on_finding` as it is judged, in report order
    /// (the facts are collected first, then every check judges them), then returns the report.
    pub async fn run_streaming(self, mut on_finding: impl FnMut(&Finding) + Send) -> Report {
        let Precheck {
            spec,
            matrix,
            opts,
            guard,
        } = self;
        // Boxed: a collector's future is large, and a service runs it on a worker thread's
        // stack (2 MiB by default), not on the main thread's.
        let work = Box::pin(run::check(&spec, &matrix, &opts));
        let result = match guard {
            Some(g) => crate::net::guarded(g, work).await,
            None => work.await,
        };
        // run::check never fails today; its error type is kept for the day one does.
        let report = match result {
            Ok(r) => r.report,
            Err(e) => unreachable_report(&spec, &matrix, &opts, e),
        };
        for f in &report.checks {
            on_finding(f);
        }
        report
    }
}

/// A report for a run that could not start: the connection check fails with the reason.
fn unreachable_report(spec: &ConnSpec, matrix: &Matrix, opts: &RunOptions, why: String) -> Report {
    use crate::engines::EngineModule;
    use crate::net::{ConnectFailure, FailureKind};
    let failure = ConnectFailure {
        kind: FailureKind::Config,
        message: spec.scrub(&why),
    };
    let now = crate::checks::now_rfc3339();
    fn judge<E: EngineModule>(
        spec: &ConnSpec,
        m: &Matrix,
        o: &RunOptions,
        f: crate::net::ConnectFailure,
        now: String,
    ) -> Report {
        run::evaluate::<E>(&E::failed(spec, f), m, &o.selection, now, 0)
    }
    crate::engines::with_engine!(spec.engine, E => judge::<E>(spec, matrix, opts, failure, now))
}
