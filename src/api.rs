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
use crate::net::{ConnectGuard, ConnectionFacts};
use crate::registry::Selection;
use crate::report::{Finding, Report, TargetInfo};
use crate::run::{self, RunOptions};
pub use crate::share::ServerShare;
use crate::target::{ConnSpec, Secret, TargetError};
use std::future::Future;
use std::pin::Pin;
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
    share: Option<Arc<ServerShare>>,
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
            share: None,
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
        self.opts.collect.for_matrix(&matrix);
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

    /// Takes each server's reach figures and TLS inspection from `share` while they are fresh,
    /// instead of opening a connection only to measure them (a service checking the same
    /// servers again and again; see [`ServerShare`]). The findings say what was shared and how
    /// old it was. The login and every query are always this check's own.
    pub fn share(mut self, share: Arc<ServerShare>) -> Self {
        self.share = Some(share);
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

    /// Runs the check and hands each finding to `on_finding` as soon as its facts are in, in
    /// report order, then returns the report. The connection check is judged as soon as the
    /// login succeeded (before any query); the others once the collection ends. A finding
    /// handed early is handed again, as the report has it, only when the rest of the run
    /// changed it (the whole check timed out after the login): the report is what counts.
    pub async fn run_streaming(self, mut on_finding: impl FnMut(&Finding) + Send) -> Report {
        let Precheck {
            spec,
            matrix,
            opts,
            guard,
            share,
        } = self;
        let (tx, mut logins) = tokio::sync::mpsc::unbounded_channel();
        let observer: crate::net::LoginObserver = Arc::new(move |c: &ConnectionFacts| {
            let _ = tx.send(c.clone());
        });
        // Boxed: a collector's future is large, and a service runs it on a worker thread's
        // stack (2 MiB by default), not on the main thread's.
        let work = Box::pin(crate::net::observing_login(
            observer,
            run::check(&spec, &matrix, &opts),
        ));
        let work: Pin<Box<dyn Future<Output = _> + Send + '_>> = match share {
            Some(s) => Box::pin(crate::net::sharing(s, work)),
            None => work,
        };
        let mut work: Pin<Box<dyn Future<Output = _> + Send + '_>> = match guard {
            Some(g) => Box::pin(crate::net::guarded(g, work)),
            None => work,
        };
        let mut early: Option<Finding> = None;
        let result = loop {
            tokio::select! {
                r = &mut work => break r,
                Some(c) = logins.recv(), if early.is_none() => {
                    early = connection_finding(&spec, &matrix, &opts, c);
                    if let Some(f) = &early {
                        on_finding(f);
                    }
                }
            }
        };
        // run::check never fails today; its error type is kept for the day one does.
        let report = match result {
            Ok(r) => r.report,
            Err(e) => unreachable_report(&spec, &matrix, &opts, e),
        };
        for f in &report.checks {
            if early.as_ref() != Some(f) {
                on_finding(f);
            }
        }
        report
    }
}

/// The connection check's finding from the facts of a login that just succeeded: what the
/// report will hold, since nothing after the login changes them (unless the run is cut; see
/// [`Precheck::run_streaming`]). `None` when the selection leaves the check out.
fn connection_finding(
    spec: &ConnSpec,
    matrix: &Matrix,
    opts: &RunOptions,
    connection: ConnectionFacts,
) -> Option<Finding> {
    use crate::engines::EngineModule;
    fn judge<E: EngineModule>(
        spec: &ConnSpec,
        m: &Matrix,
        o: &RunOptions,
        connection: ConnectionFacts,
    ) -> Option<Finding> {
        let id = format!("{}.connection", E::ENGINE);
        if !o.selection.includes(&id) {
            return None;
        }
        let only = Selection::new(std::slice::from_ref(&id), &[]).ok()?;
        // Facts that hold only the connection: the check judges nothing else.
        let mut facts = E::failed(
            spec,
            crate::net::ConnectFailure {
                kind: crate::net::FailureKind::Config,
                message: String::new(),
            },
        );
        E::common_mut(&mut facts).connection = connection;
        let report = run::evaluate::<E>(&facts, m, &only, String::new(), 0);
        report.checks.into_iter().find(|f| f.id == id)
    }
    crate::engines::with_engine!(spec.engine, E => judge::<E>(spec, matrix, opts, connection))
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
