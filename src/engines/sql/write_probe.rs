//! The write probe every sqlx engine shares: a scratch table created, altered and dropped
//! step by step inside a transaction that is rolled back, and what was left checked.

use super::*;

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
                // A plain string binds nothing: the simple protocol, nothing prepared.
                Box::pin(async move { sqlx::Executor::execute(&mut *self, sql).await.map(|_| ()) })
            }
            fn names<'a>(&'a mut self, sql: &'a str) -> BoxFuture<'a, Result<Vec<String>, sqlx::Error>> {
                // The text protocol: a prepared statement would stay behind on a pooled session.
                Box::pin(async move {
                    let rows = sqlx::Executor::fetch_all(&mut *self, sql).await?;
                    rows.iter().map(|r| sqlx::Row::try_get::<String, _>(r, 0)).collect()
                })
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

/// The write probe's `RETURNING` and upsert (`ON CONFLICT ... DO UPDATE`) steps on scratch
/// table `t`, in the SQL PostgreSQL and SQLite share.
pub fn returning_and_upsert(t: &str) -> [Step; 2] {
    [
        Step::new(
            Some("returning"),
            format!("INSERT INTO {t} (id, name, doc) VALUES (1, 'a', '{{\"k\": 1}}') RETURNING id"),
        ),
        Step::new(
            Some("upsert"),
            format!(
                "INSERT INTO {t} (id, name) VALUES (1, 'b') ON CONFLICT (id) DO UPDATE SET name = excluded.name"
            ),
        ),
    ]
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
        // Interrupted (SIGINT, SIGTERM): only the steps that clean up still run.
        if crate::guard::interrupted().is_some()
            && !step
                .sql
                .trim_start()
                .to_ascii_uppercase()
                .starts_with("DROP")
        {
            continue;
        }
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
