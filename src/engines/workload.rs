//! Runs a workload on one connection of its own, per engine: PostgreSQL and SQLite inside a
//! transaction with a savepoint per statement, SQL Server inside a transaction with a saved
//! point per batch, all rolled back; MySQL and MariaDB in a uniquely named scratch database,
//! dropped afterwards, held by a named lock so a later run can tell a killed run's leftover
//! (lock free) from a live run's database (lock held). Each statement is bounded by the
//! per-check time limit; Ctrl-C ends the run and cleans up before returning.

use crate::checks::CommonFacts;
use crate::engines::CollectOptions;
use crate::engines::sql::error_text;
use crate::matrix::Matrix;
use crate::probe::Probe;
use crate::target::ConnSpec;
use crate::workload::split::Statement;
use crate::workload::{FileRun, LoadedFile, StatementFailure, Workload, keep, load, read_files};
use sqlx::{Executor, Row};
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

/// What a workload run on one engine is given: the target, the limits and the files to run.
#[derive(Clone, Copy)]
pub struct Job<'a> {
    pub spec: &'a ConnSpec,
    pub opts: &'a CollectOptions,
    pub files: &'a [LoadedFile],
}

/// What sending one statement gave.
pub(crate) enum Sent {
    Ok,
    /// The server refused it; the run goes on.
    Failed(StatementFailure),
    /// The connection can no longer be trusted (client-side time limit, lost connection, a
    /// doomed transaction): this statement failed and the rest are not sent.
    Fatal(StatementFailure),
}

/// Runs the workload the matrix names against a target whose facts were just collected.
/// Never fails: why it did not run is the probe's answer (`skip` or `error`).
pub async fn probe(
    spec: &ConnSpec,
    matrix: &Matrix,
    common: &CommonFacts,
    opts: &CollectOptions,
) -> Probe<Workload> {
    let Some(rule) = &matrix.app.workload else {
        return Probe::not_collected(
            "the matrix names no workload ([app.workload] dir = \"workload\" runs the product's own SQL files)",
        );
    };
    if !opts.probe_write {
        return Probe::not_collected(format!(
            "not asked: run with --probe-write to try the product's own SQL ({}/{}/) where it cannot stay",
            rule.dir,
            spec.engine.name()
        ));
    }
    if common.connection.failure.is_some() {
        return Probe::not_collected("the connection failed");
    }
    if let Some(ro) = common.read_only.value()
        && ro.read_only
    {
        return Probe::not_collected(format!(
            "the database is read-only ({}): the product's statements cannot be tried on it",
            ro.reasons.join("; ")
        ));
    }
    let dir = format!("{}/{}", rule.dir, spec.engine.name());
    let files = match read_files(&rule.source, spec.engine) {
        Ok(f) => f,
        Err(e) => return Probe::Failed { message: e, ms: 0 },
    };
    if files.is_empty() {
        return Probe::not_collected(format!("the workload has no .sql file in {dir}/"));
    }
    let (loaded, refused) = match load(files, spec.engine) {
        Ok(l) => l,
        Err(e) => {
            return Probe::Failed {
                message: format!("{dir}/{e}"),
                ms: 0,
            };
        }
    };
    let base = Workload {
        engine: spec.engine,
        dir,
        ..Default::default()
    };
    if !refused.is_empty() {
        return Probe::ok(Workload { refused, ..base }, 0);
    }
    run(spec, opts, &loaded, base).await
}

/// Runs the workload on the target. Never fails: why it did not run is the probe's answer.
pub async fn run(
    spec: &ConnSpec,
    opts: &CollectOptions,
    files: &[LoadedFile],
    base: Workload,
) -> Probe<Workload> {
    let t = Instant::now();
    // Boxed, so the caller's future is Send without bounds over the drivers' lifetimes.
    let work: BoxFuture<'_, Probe<Workload>> =
        super::with_engine!(spec.engine, M => M::workload(Job { spec, opts, files }, base));
    let out = work.await;
    match out {
        Probe::Ok { value, .. } => Probe::ok(value, crate::net::ms_since(t)),
        other => other,
    }
}

pub(crate) fn failure(
    line: usize,
    sql: &str,
    error: String,
    code: Option<String>,
) -> StatementFailure {
    StatementFailure {
        line,
        sql: keep(sql),
        error,
        code,
    }
}

/// A server message on one line: its tabs and line breaks (MariaDB quotes the statement's
/// own) would break the table and the Markdown.
pub(crate) fn one_line(m: &str) -> String {
    m.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A sqlx error as (message, code), scrubbed.
pub(crate) fn sqlx_error(spec: &ConnSpec, e: &sqlx::Error) -> (String, Option<String>) {
    match e {
        sqlx::Error::Database(db) => (
            spec.scrub(&one_line(db.message())),
            mysql_number(e)
                .map(|n| n.to_string())
                .or_else(|| db.code().map(|c| c.to_string())),
        ),
        other => (spec.scrub(&error_text(other)), None),
    }
}

pub(crate) fn mysql_number(e: &sqlx::Error) -> Option<u16> {
    match e {
        sqlx::Error::Database(db) => db
            .try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>()
            .map(|d| d.number()),
        _ => None,
    }
}

/// A connection that sends one statement of the workload at a time.
/// Boxed, so the statement loop needs no bounds over the drivers' executor lifetimes.
pub(crate) trait Session: Send {
    fn send<'a>(&'a mut self, s: &'a Statement) -> BoxFuture<'a, Sent>;
}

pub(crate) type BoxFuture<'a, T> =
    std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

/// An engine's connection with what its [`Session`] needs to send, time and scrub statements.
pub(crate) struct Conn<'a, C> {
    pub(crate) conn: C,
    pub(crate) spec: &'a ConnSpec,
    pub(crate) opts: &'a CollectOptions,
}

/// Runs the files on `conn`, recording them in `w`; gives the connection back, and whether the
/// run stopped early (a fatal answer or Ctrl-C), when the transaction may still be open.
pub(crate) async fn run_on<C>(
    conn: C,
    spec: &ConnSpec,
    opts: &CollectOptions,
    files: &[LoadedFile],
    w: &mut Workload,
) -> (C, bool)
where
    for<'a> Conn<'a, C>: Session,
{
    let mut session = Conn { conn, spec, opts };
    let (runs, fatal, was_interrupted) = run_files(files, &mut session).await;
    w.files = runs;
    w.interrupted = was_interrupted;
    (session.conn, fatal || was_interrupted)
}

/// The workload could not be run at all.
pub(crate) fn failed(message: String) -> Probe<Workload> {
    Probe::Failed { message, ms: 0 }
}

/// Sends every file's statements, timing each file; stops at a fatal answer or at Ctrl-C.
/// Returns the files, whether a fatal answer stopped it, and whether Ctrl-C did.
pub(crate) async fn run_files<S: Session>(
    files: &[LoadedFile],
    session: &mut S,
) -> (Vec<FileRun>, bool, bool) {
    let mut runs: Vec<FileRun> = Vec::new();
    let mut stopped = false;
    let work = async {
        for f in files {
            let t = Instant::now();
            runs.push(FileRun {
                file: f.name.clone(),
                statements: f.statements.len() as u32,
                ..Default::default()
            });
            for s in &f.statements {
                if stopped {
                    break;
                }
                let sent = session.send(s).await;
                let Some(run) = runs.last_mut() else { break };
                run.ran += 1;
                match sent {
                    Sent::Ok => {}
                    Sent::Failed(x) => run.failures.push(x),
                    Sent::Fatal(x) => {
                        run.failures.push(x);
                        stopped = true;
                    }
                }
                run.ms = crate::net::ms_since(t);
            }
            if let Some(run) = runs.last_mut() {
                run.ms = crate::net::ms_since(t);
            }
        }
    };
    let was_interrupted = tokio::select! {
        _ = work => false,
        _ = interrupted() => true,
    };
    (runs, stopped, was_interrupted)
}

/// Waits for Ctrl-C; never returns when the signal cannot be watched.
pub(crate) async fn interrupted() {
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}

pub(crate) fn limit(opts: &CollectOptions) -> Duration {
    // The server's own limit answers first; the client's catches a server that does not.
    opts.check_timeout + Duration::from_millis(500)
}

pub(crate) fn timed_out(line: usize, sql: &str, opts: &CollectOptions) -> StatementFailure {
    failure(
        line,
        sql,
        format!(
            "no answer within the per-check limit of {} ms (raise --check-timeout)",
            opts.check_timeout.as_millis()
        ),
        None,
    )
}

pub(crate) fn sqlx_fail(
    spec: &ConnSpec,
    line: usize,
    sql: &str,
    e: &sqlx::Error,
) -> StatementFailure {
    let (m, code) = sqlx_error(spec, e);
    failure(line, sql, m, code)
}

/// What the runners need from a sqlx connection, boxed (like `engines::sql::ScratchConn`) so
/// the futures are Send without bounds over sqlx's executor lifetimes.
pub(crate) trait Db: Send {
    /// Runs SQL (one statement or several, simple protocol), discarding rows.
    fn exec<'a>(&'a mut self, sql: &'a str) -> BoxFuture<'a, Result<(), sqlx::Error>>;
    /// Every row, every column as text (each query here casts to text itself).
    fn rows<'a>(
        &'a mut self,
        sql: &'a str,
    ) -> BoxFuture<'a, Result<Vec<Vec<Option<String>>>, sqlx::Error>>;
}

macro_rules! db_impl {
    ($($conn:ty),*) => {$(
        impl Db for $conn {
            fn exec<'a>(&'a mut self, sql: &'a str) -> BoxFuture<'a, Result<(), sqlx::Error>> {
                Box::pin(async move { Executor::execute(&mut *self, sqlx::raw_sql(sql)).await.map(|_| ()) })
            }
            fn rows<'a>(&'a mut self, sql: &'a str) -> BoxFuture<'a, Result<Vec<Vec<Option<String>>>, sqlx::Error>> {
                Box::pin(async move {
                    let rows = Executor::fetch_all(&mut *self, sqlx::raw_sql(sql)).await?;
                    rows.iter()
                        .map(|r| (0..r.len()).map(|i| r.try_get::<Option<String>, usize>(i)).collect())
                        .collect()
                })
            }
        }
    )*};
}
db_impl!(
    sqlx::PgConnection,
    sqlx::MySqlConnection,
    sqlx::SqliteConnection
);

/// The first column of every row.
pub(crate) async fn texts(
    conn: &mut dyn Db,
    sql: &str,
) -> Result<Vec<Option<String>>, sqlx::Error> {
    Ok(conn
        .rows(sql)
        .await?
        .into_iter()
        .map(|r| r.into_iter().next().flatten())
        .collect())
}

/// The first row's columns (empty when there is none).
pub(crate) async fn first_row(
    conn: &mut dyn Db,
    sql: &str,
) -> Result<Vec<Option<String>>, sqlx::Error> {
    Ok(conn.rows(sql).await?.into_iter().next().unwrap_or_default())
}

/// Runs one statement inside a savepoint, rolled back to when the statement fails: `Err` when
/// the savepoint itself failed, else the statement's outcome.
pub(crate) async fn savepointed(
    c: &mut dyn Db,
    sql: &str,
) -> Result<Result<(), sqlx::Error>, sqlx::Error> {
    c.exec("SAVEPOINT byod_precheck_wl").await?;
    let r = c.exec(sql).await;
    let end = if r.is_ok() {
        "RELEASE SAVEPOINT byod_precheck_wl"
    } else {
        "ROLLBACK TO SAVEPOINT byod_precheck_wl"
    };
    c.exec(end).await?;
    Ok(r)
}

/// The names present now and not before that the workload's statements create.
pub(crate) fn new_names(
    before: &BTreeSet<String>,
    now: Vec<String>,
    files: &[LoadedFile],
) -> Vec<String> {
    let created: BTreeSet<String> = files
        .iter()
        .flat_map(|f| f.statements.iter())
        .flat_map(|s| crate::workload::hints::created_names(&s.tokens))
        .collect();
    now.into_iter()
        .filter(|n| !before.contains(n) && created.contains(&n.to_ascii_lowercase()))
        .collect()
}
