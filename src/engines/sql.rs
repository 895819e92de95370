//! Running one probe over sqlx: counted, bounded by the per-check timeout, and classified as
//! ok / denied / failed / timed out, with any secret scrubbed from the message.

use crate::probe::Probe;
use crate::target::ConnSpec;
use std::future::Future;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// Counts queries and applies the per-query limit for one collection.
pub struct Runner<'a> {
    pub spec: &'a ConnSpec,
    pub timeout: Duration,
    pub queries: AtomicU32,
    /// Whether a database error means "permission denied" on this engine.
    pub is_denied: fn(&sqlx::Error) -> bool,
    /// What to tell the user a denied query needs (`needs pg_read_all_settings`), by query.
    pub denied_hint: fn(&str) -> Option<&'static str>,
}

impl Runner<'_> {
    /// Runs `fut` (one query, or a few in sequence: pass how many) as one probe.
    pub async fn probe<T>(
        &self,
        what: &str,
        count: u32,
        fut: impl Future<Output = Result<T, sqlx::Error>>,
    ) -> Probe<T> {
        self.queries.fetch_add(count, Ordering::Relaxed);
        let t = Instant::now();
        // The server-side limit (statement_timeout, lock_timeout, max_statement_time) is the
        // same; the client waits a little longer so the server's cancellation arrives first and
        // the connection stays usable for the other probes.
        match tokio::time::timeout(self.timeout + Duration::from_millis(500), fut).await {
            Err(_) => Probe::TimedOut {
                ms: self.timeout.as_millis() as u64,
            },
            Ok(Ok(v)) => Probe::ok(v, crate::net::ms_since(t)),
            Ok(Err(e)) => {
                let ms = crate::net::ms_since(t);
                let message = self.spec.scrub(&error_text(&e));
                if (self.is_denied)(&e) {
                    let hint = (self.denied_hint)(what)
                        .map(|h| format!(" ({h})"))
                        .unwrap_or_default();
                    Probe::Denied {
                        message: format!("{what}: {message}{hint}"),
                        ms,
                    }
                } else if message.contains("statement timeout")
                    || message.contains("canceling statement")
                    || message.contains("max_statement_time")
                {
                    Probe::TimedOut { ms }
                } else {
                    Probe::Failed {
                        message: format!("{what}: {message}"),
                        ms,
                    }
                }
            }
        }
    }

    /// Queries sent so far.
    pub fn count(&self) -> u32 {
        self.queries.load(Ordering::Relaxed)
    }

    /// Adds queries sent outside [`Runner::probe`] (connection setup).
    pub fn add(&self, n: u32) {
        self.queries.fetch_add(n, Ordering::Relaxed);
    }
}

/// A driver error as one line, without the driver's wrapping noise.
pub fn error_text(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Database(db) => match db.code() {
            Some(code) => format!("{} (code {code})", db.message()),
            None => db.message().to_string(),
        },
        other => other.to_string(),
    }
    .replace('\n', " ")
}

/// A boxed future that may cross threads.
type BoxFuture<'a, T> = std::pin::Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What a write probe needs from a connection: run a statement, read a column of names.
/// Implemented per driver, so the probe itself needs no bounds over sqlx's executor lifetimes.
pub trait ScratchConn: Send {
    fn exec<'a>(&'a mut self, sql: &'a str) -> BoxFuture<'a, Result<(), sqlx::Error>>;
    fn names<'a>(&'a mut self, sql: &'a str) -> BoxFuture<'a, Result<Vec<String>, sqlx::Error>>;
}

macro_rules! scratch_conn {
    ($($conn:ty),*) => {$(
        impl ScratchConn for $conn {
            fn exec<'a>(&'a mut self, sql: &'a str) -> BoxFuture<'a, Result<(), sqlx::Error>> {
                Box::pin(async move { sqlx::Executor::execute(&mut *self, sql).await.map(|_| ()) })
            }
            fn names<'a>(&'a mut self, sql: &'a str) -> BoxFuture<'a, Result<Vec<String>, sqlx::Error>> {
                Box::pin(async move { sqlx::query_scalar::<_, String>(sql).fetch_all(&mut *self).await })
            }
        }
    )*};
}
scratch_conn!(
    sqlx::PgConnection,
    sqlx::MySqlConnection,
    sqlx::SqliteConnection
);

/// One step of a write probe: the capability it confirms, and the statement.
pub struct Step {
    pub capability: Option<&'static str>,
    pub sql: String,
    /// The capability holds when the server refuses the statement.
    pub refusal_confirms: bool,
}

impl Step {
    /// A statement that must succeed (`capability` holds when it does).
    pub fn new(capability: Option<&'static str>, sql: String) -> Step {
        Step {
            capability,
            sql,
            refusal_confirms: false,
        }
    }
    /// A statement the server must refuse for `capability` to hold.
    pub fn refused(capability: &'static str, sql: String) -> Step {
        Step {
            capability: Some(capability),
            sql,
            refusal_confirms: true,
        }
    }
}

/// Runs a write probe on one connection: `begin`, then each step inside its own savepoint (a
/// failed step does not abort the others), then `ROLLBACK`, then `leftover_sql` (which must
/// return the names of scratch objects still present). MySQL's DDL is not transactional, so
/// its steps include their own `DROP`s; the leftover query is the judge either way.
pub async fn write_probe(
    runner: &Runner<'_>,
    conn: &mut dyn ScratchConn,
    object: &str,
    begin: &str,
    steps: Vec<Step>,
    leftover_sql: String,
) -> crate::probe::Probe<crate::checks::WriteProbe> {
    use crate::checks::{ProbeStep, WriteProbe};
    let t = Instant::now();

    runner.add(1);
    if let Err(e) = conn.exec(begin).await {
        return crate::probe::Probe::Failed {
            message: format!("{begin}: {}", runner.spec.scrub(&error_text(&e))),
            ms: crate::net::ms_since(t),
        };
    }
    let mut done = Vec::new();
    for step in steps {
        runner.add(3);
        let _ = conn.exec("SAVEPOINT byod_precheck_step").await;
        let r = tokio::time::timeout(runner.timeout, conn.exec(&step.sql)).await;
        let error = match r {
            Ok(Ok(_)) => None,
            Ok(Err(e)) => Some(runner.spec.scrub(&error_text(&e))),
            Err(_) => Some(format!("timed out after {} ms", runner.timeout.as_millis())),
        };
        let end = if error.is_some() {
            "ROLLBACK TO SAVEPOINT byod_precheck_step"
        } else {
            "RELEASE SAVEPOINT byod_precheck_step"
        };
        let _ = conn.exec(end).await;
        done.push(ProbeStep {
            capability: step.capability.map(str::to_string),
            sql: step.sql,
            error,
            refusal_confirms: step.refusal_confirms,
        });
    }
    runner.add(2);
    let _ = conn.exec("ROLLBACK").await;
    let leftovers = match conn.names(&leftover_sql).await {
        Ok(names) => names,
        Err(e) => vec![format!(
            "(could not look for leftovers: {})",
            error_text(&e)
        )],
    };
    crate::probe::Probe::ok(
        WriteProbe {
            object: object.to_string(),
            steps: done,
            leftovers,
        },
        crate::net::ms_since(t),
    )
}

/// A scratch object name nobody else uses.
pub fn scratch_name() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("byod_precheck_probe_{}_{nanos:x}", std::process::id())
}

/// Classifies a connect-time sqlx error that is not the server's own: transport, TLS, pool,
/// configuration. Each engine maps its server error codes first and falls back to this.
pub fn transport_failure(e: &sqlx::Error, message: &str) -> crate::net::FailureKind {
    use crate::net::FailureKind;
    match e {
        sqlx::Error::Tls(_) => FailureKind::Tls,
        sqlx::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
            FailureKind::Refused
        }
        sqlx::Error::Io(io) if io.kind() == std::io::ErrorKind::TimedOut => FailureKind::Timeout,
        sqlx::Error::PoolTimedOut => FailureKind::Timeout,
        sqlx::Error::Configuration(_) => FailureKind::Config,
        _ if message.contains("TLS")
            || message.contains("SSL")
            || message.contains("certificate") =>
        {
            FailureKind::Tls
        }
        _ => FailureKind::ServerError,
    }
}
