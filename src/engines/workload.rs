//! Runs a workload on one connection of its own, per engine: PostgreSQL and SQLite inside a
//! transaction with a savepoint per statement, SQL Server inside a transaction with a saved
//! point per batch, all rolled back; MySQL and MariaDB in a uniquely named scratch database,
//! dropped afterwards, held by a named lock so a later run can tell a killed run's leftover
//! (lock free) from a live run's database (lock held). Each statement is bounded by the
//! per-check time limit; Ctrl-C ends the run and cleans up before returning.

use crate::checks::CommonFacts;
use crate::engine::Engine;
use crate::engines::CollectOptions;
use crate::engines::sql::{error_text, mysql_ident, mysql_literal, pg_literal, tsql_ident};
use crate::matrix::Matrix;
use crate::probe::Probe;
use crate::target::ConnSpec;
use crate::workload::split::Statement;
use crate::workload::{
    Earlier, FileRun, LoadedFile, SCRATCH_PREFIX, StatementFailure, Workload, keep, load,
    read_files,
};
use sqlx::{ConnectOptions, Connection, Executor, Row};
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

/// What sending one statement gave.
enum Sent {
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
    let work: BoxFuture<'_, Probe<Workload>> = match spec.engine {
        Engine::Postgres => Box::pin(postgres(spec, opts, files, base)),
        Engine::Mysql => Box::pin(mysql(spec, opts, files, base)),
        Engine::Sqlite => Box::pin(sqlite(spec, opts, files, base)),
        Engine::Mssql => Box::pin(mssql(spec, opts, files, base)),
    };
    let out = work.await;
    match out {
        Probe::Ok { value, .. } => Probe::ok(value, crate::net::ms_since(t)),
        other => other,
    }
}

fn failure(line: usize, sql: &str, error: String, code: Option<String>) -> StatementFailure {
    StatementFailure {
        line,
        sql: keep(sql),
        error,
        code,
    }
}

/// A server message on one line: its tabs and line breaks (MariaDB quotes the statement's
/// own) would break the table and the Markdown.
fn one_line(m: &str) -> String {
    m.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A sqlx error as (message, code), scrubbed.
fn sqlx_error(spec: &ConnSpec, e: &sqlx::Error) -> (String, Option<String>) {
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

fn mysql_number(e: &sqlx::Error) -> Option<u16> {
    match e {
        sqlx::Error::Database(db) => db
            .try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>()
            .map(|d| d.number()),
        _ => None,
    }
}

/// A connection that sends one statement of the workload at a time.
/// Boxed, so the statement loop needs no bounds over the drivers' executor lifetimes.
trait Session: Send {
    fn send<'a>(&'a mut self, s: &'a Statement) -> BoxFuture<'a, Sent>;
}

type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

/// Sends every file's statements, timing each file; stops at a fatal answer or at Ctrl-C.
/// Returns the files, whether a fatal answer stopped it, and whether Ctrl-C did.
async fn run_files<S: Session>(
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
async fn interrupted() {
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}

fn limit(opts: &CollectOptions) -> Duration {
    // The server's own limit answers first; the client's catches a server that does not.
    opts.check_timeout + Duration::from_millis(500)
}

fn timed_out(line: usize, sql: &str, opts: &CollectOptions) -> StatementFailure {
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

fn sqlx_fail(spec: &ConnSpec, line: usize, sql: &str, e: &sqlx::Error) -> StatementFailure {
    let (m, code) = sqlx_error(spec, e);
    failure(line, sql, m, code)
}

/// What the runners need from a sqlx connection, boxed (like `engines::sql::ScratchConn`) so
/// the futures are Send without bounds over sqlx's executor lifetimes.
trait Db: Send {
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
async fn texts(conn: &mut dyn Db, sql: &str) -> Result<Vec<Option<String>>, sqlx::Error> {
    Ok(conn
        .rows(sql)
        .await?
        .into_iter()
        .map(|r| r.into_iter().next().flatten())
        .collect())
}

/// The first row's columns (empty when there is none).
async fn first_row(conn: &mut dyn Db, sql: &str) -> Result<Vec<Option<String>>, sqlx::Error> {
    Ok(conn.rows(sql).await?.into_iter().next().unwrap_or_default())
}

/// Runs one statement inside a savepoint, rolled back to when the statement fails: `Err` when
/// the savepoint itself failed, else the statement's outcome.
async fn savepointed(c: &mut dyn Db, sql: &str) -> Result<Result<(), sqlx::Error>, sqlx::Error> {
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
fn new_names(before: &BTreeSet<String>, now: Vec<String>, files: &[LoadedFile]) -> Vec<String> {
    let created: BTreeSet<String> = files
        .iter()
        .flat_map(|f| f.statements.iter())
        .flat_map(|s| crate::workload::hints::created_names(&s.tokens))
        .collect();
    now.into_iter()
        .filter(|n| !before.contains(n) && created.contains(&n.to_ascii_lowercase()))
        .collect()
}

// ------------------------------------------------------------------------------- PostgreSQL

struct PgSession<'a> {
    conn: sqlx::PgConnection,
    spec: &'a ConnSpec,
    opts: &'a CollectOptions,
}

impl Session for PgSession<'_> {
    fn send<'a>(&'a mut self, s: &'a Statement) -> BoxFuture<'a, Sent> {
        Box::pin(async move {
            let body = savepointed(&mut self.conn, &s.sql);
            match tokio::time::timeout(limit(self.opts), body).await {
                Err(_) => Sent::Fatal(timed_out(s.line, &s.sql, self.opts)),
                Ok(Err(e)) => Sent::Fatal(sqlx_fail(self.spec, s.line, &s.sql, &e)),
                Ok(Ok(Ok(()))) => Sent::Ok,
                Ok(Ok(Err(e))) => Sent::Failed(sqlx_fail(self.spec, s.line, &s.sql, &e)),
            }
        })
    }
}

fn quote_pg(name: &str) -> String {
    if name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

async fn pg_connect(spec: &ConnSpec, opts: &CollectOptions) -> Result<sqlx::PgConnection, String> {
    let socket = spec
        .params
        .get("host")
        .filter(|h| h.starts_with('/'))
        .cloned();
    let options = crate::engines::postgres::collect::connect_options(spec, socket.as_deref())
        .map_err(|f| f.message)?;
    match tokio::time::timeout(opts.connect_timeout, options.connect()).await {
        Ok(Ok(c)) => Ok(c),
        Ok(Err(e)) => Err(sqlx_error(spec, &e).0),
        Err(_) => Err("connecting timed out".into()),
    }
}

async fn pg_names(conn: &mut sqlx::PgConnection, sql: &str) -> Result<BTreeSet<String>, String> {
    texts(conn, sql)
        .await
        .map(|v| v.into_iter().flatten().collect())
        .map_err(|e| error_text(&e))
}

async fn postgres(
    spec: &ConnSpec,
    opts: &CollectOptions,
    files: &[LoadedFile],
    mut w: Workload,
) -> Probe<Workload> {
    let failed = |message: String| Probe::Failed { message, ms: 0 };
    let mut conn = match pg_connect(spec, opts).await {
        Ok(c) => c,
        Err(m) => return failed(m),
    };
    let pre = first_row(
        &mut conn,
        "SELECT current_schema()::text, current_user::text, \
         (CASE WHEN current_schema() IS NULL THEN NULL ELSE has_schema_privilege(current_schema(), 'CREATE') END)::text, \
         pg_is_in_recovery()::text",
    )
    .await;
    let row = match pre {
        Ok(r) => r,
        Err(e) => return failed(sqlx_error(spec, &e).0),
    };
    let col = |i: usize| row.get(i).cloned().flatten();
    let (schema, user, can_create, standby) = (col(0), col(1).unwrap_or_default(), col(2), col(3));
    if standby.as_deref() == Some("true") {
        return Probe::not_collected(
            "a standby (pg_is_in_recovery() is true): nothing can be written on a replica",
        );
    }
    let Some(schema) = schema else {
        return Probe::not_collected(
            "no schema in search_path where the product's tables could be created: set one for the role (ALTER ROLE ... SET search_path = app)",
        );
    };
    if can_create.as_deref() != Some("true") {
        return Probe::not_collected(format!(
            "needs CREATE on schema {schema} to create the product's tables: GRANT CREATE ON SCHEMA {} TO {};",
            quote_pg(&schema),
            quote_pg(&user)
        ));
    }
    let names_sql = format!(
        "SELECT relname::text FROM pg_class WHERE relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = {})",
        pg_literal(&schema)
    );
    let before = match pg_names(&mut conn, &names_sql).await {
        Ok(b) => b,
        Err(m) => return failed(m),
    };
    let ms = opts.check_timeout.as_millis();
    // Transaction-scoped limits: nothing stays on the session (a pooler may hand it on).
    let begin = format!(
        "BEGIN READ WRITE; SET LOCAL statement_timeout = {ms}; SET LOCAL lock_timeout = {ms}; \
         SET LOCAL idle_in_transaction_session_timeout = {}",
        ms * 3
    );
    if let Err(e) = conn.exec(&begin).await {
        let (m, code) = sqlx_error(spec, &e);
        return if code.as_deref() == Some("25006") {
            Probe::not_collected(format!("the database is read-only: {m}"))
        } else {
            failed(format!("the server refused the transaction: {m}"))
        };
    }
    w.scratch = format!("a transaction on schema {schema}, rolled back");
    let mut session = PgSession { conn, spec, opts };
    let (runs, fatal, was_interrupted) = run_files(files, &mut session).await;
    w.files = runs;
    w.interrupted = was_interrupted;
    let mut conn = session.conn;
    let ended_cleanly = !fatal && !was_interrupted;
    if ended_cleanly {
        let _ = conn.exec("ROLLBACK").await;
    } else {
        // The server rolls back the transaction of a connection that ends.
        drop(conn);
        conn = match pg_connect(spec, opts).await {
            Ok(c) => c,
            Err(m) => {
                w.leftovers = vec![format!("(could not look for leftovers: {m})")];
                return Probe::ok(w, 0);
            }
        };
    }
    w.leftovers = match pg_names(&mut conn, &names_sql).await {
        Ok(now) => new_names(&before, now.into_iter().collect(), files),
        Err(m) => vec![format!("(could not look for leftovers: {m})")],
    };
    let _ = tokio::time::timeout(Duration::from_millis(250), conn.close()).await;
    Probe::ok(w, 0)
}

// ------------------------------------------------------------------------------------ MySQL

async fn mysql_connect(
    spec: &ConnSpec,
    opts: &CollectOptions,
) -> Result<sqlx::MySqlConnection, String> {
    let socket = spec.params.get("socket").cloned();
    let mode = crate::engines::mysql::collect::ssl_mode_name(spec);
    let options = crate::engines::mysql::collect::connect_options(spec, socket.as_deref(), &mode)
        .map_err(|f| f.message)?;
    match tokio::time::timeout(opts.connect_timeout, options.connect()).await {
        Ok(Ok(c)) => Ok(c),
        Ok(Err(e)) => Err(sqlx_error(spec, &e).0),
        Err(_) => Err("connecting timed out".into()),
    }
}

/// Drops the scratch databases whose run is gone (its lock is free); a live run's are kept.
async fn earlier_mysql(conn: &mut sqlx::MySqlConnection) -> Vec<Earlier> {
    let like = mysql_literal(&format!("{}%", SCRATCH_PREFIX.replace('_', "\\_")));
    let found = texts(
        &mut *conn,
        &format!(
            "SELECT CAST(schema_name AS CHAR) FROM information_schema.schemata WHERE schema_name LIKE {like}"
        ),
    )
    .await
    .unwrap_or_default();
    let mut out = Vec::new();
    for name in found.into_iter().flatten() {
        let free = texts(
            &mut *conn,
            &format!(
                "SELECT CAST(IS_FREE_LOCK({}) AS CHAR)",
                mysql_literal(&name)
            ),
        )
        .await
        .ok()
        .and_then(|v| v.into_iter().next().flatten());
        if free.as_deref() != Some("1") {
            continue; // a live run holds it
        }
        let dropped = conn
            .exec(&format!("DROP DATABASE IF EXISTS {}", mysql_ident(&name)))
            .await
            .is_ok();
        out.push(Earlier { name, dropped });
    }
    out
}

struct MySession<'a> {
    conn: sqlx::MySqlConnection,
    spec: &'a ConnSpec,
    opts: &'a CollectOptions,
}

impl Session for MySession<'_> {
    fn send<'a>(&'a mut self, s: &'a Statement) -> BoxFuture<'a, Sent> {
        Box::pin(async move {
            let run = self.conn.exec(&s.sql);
            match tokio::time::timeout(limit(self.opts), run).await {
                Err(_) => Sent::Fatal(timed_out(s.line, &s.sql, self.opts)),
                Ok(Ok(_)) => Sent::Ok,
                // The server's own errors (its statement time limit included) end the statement,
                // not the connection.
                Ok(Err(e @ sqlx::Error::Database(_))) => {
                    Sent::Failed(sqlx_fail(self.spec, s.line, &s.sql, &e))
                }
                Ok(Err(e)) => Sent::Fatal(sqlx_fail(self.spec, s.line, &s.sql, &e)),
            }
        })
    }
}

async fn drop_scratch(conn: &mut sqlx::MySqlConnection, name: &str) {
    let _ = conn
        .exec(&format!("DROP DATABASE IF EXISTS {}", mysql_ident(name)))
        .await;
}

async fn still_there(conn: &mut sqlx::MySqlConnection, name: &str) -> Vec<String> {
    let sql = format!(
        "SELECT CAST(schema_name AS CHAR) FROM information_schema.schemata WHERE schema_name = {}",
        mysql_literal(name)
    );
    match texts(conn, &sql).await {
        Ok(v) => v.into_iter().flatten().collect(),
        Err(e) => vec![format!("{name} (could not look: {})", error_text(&e))],
    }
}

async fn mysql(
    spec: &ConnSpec,
    opts: &CollectOptions,
    files: &[LoadedFile],
    mut w: Workload,
) -> Probe<Workload> {
    let failed = |message: String| Probe::Failed { message, ms: 0 };
    let mut conn = match mysql_connect(spec, opts).await {
        Ok(c) => c,
        Err(m) => return failed(m),
    };
    let pre = first_row(
        &mut conn,
        "SELECT CAST(CONNECTION_ID() AS CHAR), CAST(CURRENT_USER() AS CHAR), \
         CAST(@@character_set_database AS CHAR), CAST(@@collation_database AS CHAR)",
    )
    .await;
    let row = match pre {
        Ok(r) => r,
        Err(e) => return failed(sqlx_error(spec, &e).0),
    };
    let col = |i: usize| row.get(i).cloned().flatten().unwrap_or_default();
    let (conn_id, user, charset, collation) = (col(0), col(1), col(2), col(3));
    w.earlier = earlier_mysql(&mut conn).await;
    let name = crate::workload::scratch_name();
    // Held while the run lasts: a later run takes a free lock as proof this one is gone.
    let _ = conn
        .exec(&format!("DO GET_LOCK({}, 0)", mysql_literal(&name)))
        .await;
    let create = format!(
        "CREATE DATABASE {} CHARACTER SET {} COLLATE {}",
        mysql_ident(&name),
        mysql_ident(&charset),
        mysql_ident(&collation)
    );
    if let Err(e) = conn.exec(&create).await {
        let (message, _) = sqlx_error(spec, &e);
        let (u, h) = user.rsplit_once('@').unwrap_or((user.as_str(), "%"));
        return match mysql_number(&e) {
            Some(1044 | 1227 | 1142) => Probe::not_collected(format!(
                "needs the privilege to create and drop a scratch database, because MySQL's DDL cannot be rolled back ({message}): GRANT ALL PRIVILEGES ON `{}%`.* TO '{u}'@'{h}';",
                SCRATCH_PREFIX.replace('_', "\\_")
            )),
            Some(1290 | 1836) => {
                Probe::not_collected(format!("the server is read-only: {message}"))
            }
            _ => failed(format!("could not create a scratch database: {message}")),
        };
    }
    w.scratch = format!("scratch database {name}, dropped afterwards");
    let used = conn.exec(&format!("USE {}", mysql_ident(&name))).await;
    if let Err(e) = used {
        drop_scratch(&mut conn, &name).await;
        return failed(sqlx_error(spec, &e).0);
    }
    // The per-check limit on the server: MariaDB's max_statement_time (seconds), else MySQL's
    // max_execution_time (SELECTs only). Our own connection, closed afterwards.
    let secs = opts.check_timeout.as_secs_f64();
    if conn
        .exec(&format!("SET SESSION max_statement_time = {secs}"))
        .await
        .is_err()
    {
        let _ = conn
            .exec(&format!(
                "SET SESSION max_execution_time = {}",
                opts.check_timeout.as_millis()
            ))
            .await;
    }
    let mut session = MySession { conn, spec, opts };
    let (runs, fatal, was_interrupted) = run_files(files, &mut session).await;
    w.files = runs;
    w.interrupted = was_interrupted;
    let mut conn = session.conn;
    if fatal || was_interrupted {
        // A statement may still run on the old connection: end it, then drop the database.
        drop(conn);
        conn = match mysql_connect(spec, opts).await {
            Ok(c) => c,
            Err(_) => {
                w.leftovers = vec![name];
                return Probe::ok(w, 0);
            }
        };
        let _ = conn.exec(&format!("KILL {conn_id}")).await;
    }
    drop_scratch(&mut conn, &name).await;
    w.leftovers = still_there(&mut conn, &name).await;
    let _ = conn
        .exec(&format!("DO RELEASE_LOCK({})", mysql_literal(&name)))
        .await;
    let _ = tokio::time::timeout(Duration::from_millis(250), conn.close()).await;
    Probe::ok(w, 0)
}

// ----------------------------------------------------------------------------------- SQLite

struct LiteSession<'a> {
    conn: sqlx::SqliteConnection,
    spec: &'a ConnSpec,
    opts: &'a CollectOptions,
}

impl Session for LiteSession<'_> {
    fn send<'a>(&'a mut self, s: &'a Statement) -> BoxFuture<'a, Sent> {
        Box::pin(async move {
            let limit = self.opts.check_timeout;
            // The per-check limit inside SQLite: a progress handler interrupts the statement.
            let deadline = Instant::now() + limit;
            if let Ok(mut h) = self.conn.lock_handle().await {
                h.set_progress_handler(10_000, move || Instant::now() < deadline);
            }
            let out = match savepointed(&mut self.conn, &s.sql).await {
                Err(e) => Sent::Fatal(sqlx_fail(self.spec, s.line, &s.sql, &e)),
                Ok(Ok(())) => Sent::Ok,
                Ok(Err(e)) => {
                    let mut f = sqlx_fail(self.spec, s.line, &s.sql, &e);
                    if Instant::now() >= deadline {
                        f.error = format!(
                            "{} (stopped at the per-check limit of {} ms)",
                            f.error,
                            limit.as_millis()
                        );
                    }
                    Sent::Failed(f)
                }
            };
            if let Ok(mut h) = self.conn.lock_handle().await {
                h.remove_progress_handler();
            }
            out
        })
    }
}

async fn sqlite(
    spec: &ConnSpec,
    opts: &CollectOptions,
    files: &[LoadedFile],
    mut w: Workload,
) -> Probe<Workload> {
    let failed = |message: String| Probe::Failed { message, ms: 0 };
    let path = spec.path.clone().unwrap_or_default();
    if spec.option("mode") == Some("ro") {
        return Probe::not_collected(
            "the URL opens the file read-only (mode=ro): without it the workload runs in a transaction that is rolled back",
        );
    }
    if spec.flag("immutable") == Some(true) {
        return Probe::not_collected(
            "the URL marks the file immutable (immutable=1): SQLite then neither locks it nor expects any change, so nothing may be written, even in a transaction",
        );
    }
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(&path)
        .read_only(false)
        .create_if_missing(false)
        .busy_timeout(opts.check_timeout)
        // The product's driver (sqlx) enforces foreign keys: so does the workload.
        .foreign_keys(true);
    let mut conn = match tokio::time::timeout(opts.connect_timeout, options.connect()).await {
        Ok(Ok(c)) => c,
        Ok(Err(e)) => return failed(sqlx_error(spec, &e).0),
        Err(_) => return failed("opening the file timed out".into()),
    };
    let names_sql = "SELECT name FROM sqlite_master";
    let before: BTreeSet<String> = match texts(&mut conn, names_sql).await {
        Ok(v) => v.into_iter().flatten().collect(),
        Err(e) => return failed(sqlx_error(spec, &e).0),
    };
    // IMMEDIATE: the write lock now (or a clear refusal), not SQLITE_BUSY halfway through.
    if let Err(e) = conn.exec("BEGIN IMMEDIATE").await {
        let (m, _) = sqlx_error(spec, &e);
        return if m.contains("readonly") || m.contains("read-only") {
            Probe::not_collected(format!(
                "the file cannot be written ({m}): the workload needs write access, even though it is rolled back"
            ))
        } else {
            failed(format!("BEGIN IMMEDIATE: {m}"))
        };
    }
    w.scratch = "a transaction, rolled back".into();
    let mut session = LiteSession { conn, spec, opts };
    let (runs, _fatal, was_interrupted) = run_files(files, &mut session).await;
    w.files = runs;
    w.interrupted = was_interrupted;
    let mut conn = session.conn;
    // Never COMMIT: ROLLBACK (closing would roll back too, as would the journal after a kill).
    let _ = conn.exec("ROLLBACK").await;
    w.leftovers = match texts(&mut conn, names_sql).await {
        Ok(now) => new_names(&before, now.into_iter().flatten().collect(), files),
        Err(e) => vec![format!(
            "(could not look for leftovers: {})",
            error_text(&e)
        )],
    };
    let _ = conn.close().await;
    Probe::ok(w, 0)
}

// ------------------------------------------------------------------------------- SQL Server

type TdsConn = tiberius::Client<tokio_util::compat::Compat<tokio::net::TcpStream>>;

/// A server error: its message (with the Msg number), the number, and the batch line.
type TdsErr = (String, Option<u32>, u32);

/// Sends a batch and drains every result: the rows' cells as text.
async fn tds(conn: &mut TdsConn, sql: &str) -> Result<Vec<Vec<String>>, TdsErr> {
    let run = async {
        let stream = conn.simple_query(sql).await?;
        let results = stream.into_results().await?;
        let rows = results
            .into_iter()
            .flatten()
            .map(|r| {
                (0..r.len())
                    .map(|i| {
                        r.try_get::<&str, usize>(i)
                            .ok()
                            .flatten()
                            .unwrap_or_default()
                            .to_string()
                    })
                    .collect()
            })
            .collect();
        Ok::<_, tiberius::error::Error>(rows)
    };
    run.await.map_err(|e| match &e {
        tiberius::error::Error::Server(t) => (one_line(t.message()), Some(t.code()), t.line()),
        other => (other.to_string().replace('\n', " "), None, 0),
    })
}

fn first_cells(rows: Vec<Vec<String>>) -> Vec<String> {
    rows.into_iter()
        .filter_map(|r| r.into_iter().next())
        .collect()
}

struct TdsSession<'a> {
    conn: TdsConn,
    spec: &'a ConnSpec,
    opts: &'a CollectOptions,
}

impl Session for TdsSession<'_> {
    fn send<'a>(&'a mut self, s: &'a Statement) -> BoxFuture<'a, Sent> {
        Box::pin(async move {
            let spec = self.spec;
            let c = &mut self.conn;
            let fail = |line: usize, (m, code, _): TdsErr| {
                failure(line, &s.sql, spec.scrub(&m), code.map(|n| n.to_string()))
            };
            let body = async {
                if let Err(e) = tds(c, "SAVE TRANSACTION byod_precheck_wl").await {
                    return Sent::Fatal(fail(s.line, e));
                }
                match tds(c, &s.sql).await {
                    Ok(_) => Sent::Ok,
                    Err(e) => {
                        // The server names the line within the batch.
                        let line = s.line + (e.2 as usize).saturating_sub(1);
                        let f = fail(line, e);
                        // 1: the transaction is still ours; -1: doomed; 0: the error ended it.
                        let state = tds(c, "SELECT CAST(XACT_STATE() AS nvarchar(4))").await;
                        match state
                            .ok()
                            .map(first_cells)
                            .and_then(|v| v.into_iter().next())
                        {
                            Some(x) if x == "1" => {
                                let _ = tds(c, "ROLLBACK TRANSACTION byod_precheck_wl").await;
                                Sent::Failed(f)
                            }
                            _ => Sent::Fatal(f),
                        }
                    }
                }
            };
            match tokio::time::timeout(limit(self.opts), body).await {
                Err(_) => Sent::Fatal(timed_out(s.line, &s.sql, self.opts)),
                Ok(sent) => sent,
            }
        })
    }
}

async fn mssql(
    spec: &ConnSpec,
    opts: &CollectOptions,
    files: &[LoadedFile],
    mut w: Workload,
) -> Probe<Workload> {
    let failed = |message: String| Probe::Failed { message, ms: 0 };
    let config = match crate::engines::mssql::collect::config(spec) {
        Ok((c, _)) => c,
        Err(f) => return failed(f.message),
    };
    let connect = || async {
        match tokio::time::timeout(
            opts.connect_timeout,
            crate::engines::mssql::collect::connect(&config),
        )
        .await
        {
            Ok(Ok(c)) => Ok(c),
            Ok(Err(e)) => Err(spec.scrub(&e.to_string())),
            Err(_) => Err("connecting timed out".to_string()),
        }
    };
    let mut conn = match connect().await {
        Ok(c) => c,
        Err(m) => return failed(m),
    };
    let pre = tds(
        &mut conn,
        "SELECT CAST(SCHEMA_NAME() AS nvarchar(128)), CAST(USER_NAME() AS nvarchar(128)), \
         CAST(DATABASEPROPERTYEX(DB_NAME(), 'Updateability') AS nvarchar(32)), \
         CAST(HAS_PERMS_BY_NAME(DB_NAME(), 'DATABASE', 'CREATE TABLE') AS nvarchar(8)), \
         CAST(HAS_PERMS_BY_NAME(SCHEMA_NAME(), 'SCHEMA', 'ALTER') AS nvarchar(8))",
    )
    .await;
    let row = match pre {
        Ok(rows) => rows.into_iter().next().unwrap_or_default(),
        Err((m, _, _)) => return failed(spec.scrub(&m)),
    };
    let get = |i: usize| row.get(i).cloned().unwrap_or_default();
    let (schema, user) = (get(0), get(1));
    if get(2).eq_ignore_ascii_case("READ_ONLY") {
        return Probe::not_collected("the database is read-only (Updateability READ_ONLY)");
    }
    if get(3) == "0" || get(4) == "0" {
        return Probe::not_collected(format!(
            "needs CREATE TABLE in the database and ALTER on schema {schema}: GRANT CREATE TABLE TO {u}; GRANT ALTER ON SCHEMA::{s} TO {u};",
            u = tsql_ident(&user),
            s = tsql_ident(&schema)
        ));
    }
    let names_sql = "SELECT CAST(o.name AS nvarchar(256)) FROM sys.objects o JOIN sys.schemas s ON s.schema_id = o.schema_id WHERE s.name = SCHEMA_NAME()";
    let before: BTreeSet<String> = match tds(&mut conn, names_sql).await {
        Ok(rows) => first_cells(rows).into_iter().collect(),
        Err((m, _, _)) => return failed(spec.scrub(&m)),
    };
    // The per-check limit on lock waits, on the server (our own connection, closed after).
    let _ = tds(
        &mut conn,
        &format!("SET LOCK_TIMEOUT {}", opts.check_timeout.as_millis()),
    )
    .await;
    if let Err((m, _, _)) = tds(&mut conn, "SET XACT_ABORT OFF; BEGIN TRANSACTION").await {
        return failed(format!(
            "the server refused the transaction, so the workload is not proven: {}",
            spec.scrub(&m)
        ));
    }
    // Can anything be written at all? A server that refuses every write does not judge the
    // product's statements: the workload is then not proven (an error), never failed or passed.
    let canary = format!(
        "SAVE TRANSACTION byod_precheck_wl; CREATE TABLE {} (id int)",
        tsql_ident(&format!("{SCRATCH_PREFIX}canary"))
    );
    if let Err((m, code, _)) = tds(&mut conn, &canary).await {
        let _ = tds(&mut conn, "IF @@TRANCOUNT > 0 ROLLBACK TRANSACTION").await;
        let code = code.map(|c| format!(" (Msg {c})")).unwrap_or_default();
        return failed(format!(
            "the server refused writes, so the workload is not proven: {}{code}",
            spec.scrub(&m)
        ));
    }
    let _ = tds(&mut conn, "ROLLBACK TRANSACTION byod_precheck_wl").await;
    w.scratch = format!("a transaction on schema {schema}, rolled back");
    let mut session = TdsSession { conn, spec, opts };
    let (runs, fatal, was_interrupted) = run_files(files, &mut session).await;
    w.files = runs;
    w.interrupted = was_interrupted;
    let mut conn = session.conn;
    if fatal || was_interrupted {
        // The server rolls back the transaction of a connection that ends.
        drop(conn);
        conn = match connect().await {
            Ok(c) => c,
            Err(m) => {
                w.leftovers = vec![format!("(could not look for leftovers: {m})")];
                return Probe::ok(w, 0);
            }
        };
    } else {
        let _ = tds(&mut conn, "IF @@TRANCOUNT > 0 ROLLBACK TRANSACTION").await;
    }
    w.leftovers = match tds(&mut conn, names_sql).await {
        Ok(rows) => new_names(&before, first_cells(rows), files),
        Err((m, _, _)) => vec![format!("(could not look for leftovers: {m})")],
    };
    Probe::ok(w, 0)
}
