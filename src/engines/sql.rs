//! Running one probe over sqlx: counted, bounded by the per-check timeout, and classified as
//! ok / denied / failed / timed out, with any secret scrubbed from the message.

use crate::probe::Probe;
use crate::target::ConnSpec;
use std::future::Future;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

mod write_probe;
pub use write_probe::*;

/// The most rows one statement may return: catalog reads need a few hundred. A server that
/// sends more (or without end) gets its statement failed and the connection closed, instead of
/// every row kept in memory.
pub const MAX_ROWS: usize = 20_000;

/// The most bytes of values one statement's answer may hold: catalog reads need a few hundred
/// KiB. With [`MAX_ROWS`] and [`MAX_VALUE_BYTES`] it keeps each answer, and so each target of a
/// fleet, to a few MB whatever the server sends.
pub const MAX_ANSWER_BYTES: usize = 4 * 1024 * 1024;

/// The most bytes one value (one column of one row) may hold.
pub const MAX_VALUE_BYTES: usize = 1024 * 1024;

/// What each column of a row counts for beyond its bytes, so a flood of empty or NULL columns
/// is bounded too.
const COLUMN_OVERHEAD: usize = 16;

/// Counts one statement's answer, row by row, against [`MAX_ROWS`], [`MAX_ANSWER_BYTES`] and
/// [`MAX_VALUE_BYTES`]. Every engine's reader feeds it (sqlx's here, tiberius's in the SQL
/// Server collector).
#[derive(Debug, Default)]
pub struct Bound {
    rows: usize,
    bytes: usize,
}

impl Bound {
    /// Adds one row, given the byte length of each of its values; the error (a bounded-answer
    /// message with the cut marker) when the answer is now over a cap: the caller stops reading.
    pub fn add(&mut self, values: impl IntoIterator<Item = usize>) -> Result<(), String> {
        self.rows += 1;
        if self.rows > MAX_ROWS {
            return Err(bounded_answer(&format!("more than {MAX_ROWS} rows")));
        }
        for n in values {
            if n > MAX_VALUE_BYTES {
                return Err(bounded_answer(&format!(
                    "a value of more than {} MiB",
                    MAX_VALUE_BYTES / (1024 * 1024)
                )));
            }
            self.bytes += n + COLUMN_OVERHEAD;
        }
        if self.bytes > MAX_ANSWER_BYTES {
            return Err(bounded_answer(&format!(
                "more than {} MiB",
                MAX_ANSWER_BYTES / (1024 * 1024)
            )));
        }
        Ok(())
    }
}

/// The message of an answer cut at a cap: says which, and ends with the visible cut marker.
fn bounded_answer(what: &str) -> String {
    format!(
        "bounded answer: the server returned {what} for one statement (a catalog read needs far less){} the rest was not read]",
        crate::text::CUT_MARK
    )
}

/// Reads a query's rows as `fetch_all` would, cut at the caps of [`Bound`]: for the probes that
/// do not go through [`Runner::batch`] (pooler consoles, SQLite's history reads).
pub async fn bounded<R: RowBytes>(
    rows: impl futures_util::Stream<Item = Result<R, sqlx::Error>>,
) -> Result<Vec<R>, sqlx::Error> {
    use futures_util::StreamExt;
    let mut rows = std::pin::pin!(rows);
    let (mut out, mut bound) = (Vec::new(), Bound::default());
    while let Some(row) = rows.next().await {
        let row = row?;
        bound
            .add(row.value_bytes())
            .map_err(sqlx::Error::Protocol)?;
        out.push(row);
    }
    Ok(out)
}

/// The byte length of each value of a row, as the driver received it (text or binary), so an
/// answer is bounded in bytes and not only in rows. NULL is 0.
pub trait RowBytes {
    fn value_bytes(&self) -> impl Iterator<Item = usize> + '_;
}

impl RowBytes for sqlx::postgres::PgRow {
    fn value_bytes(&self) -> impl Iterator<Item = usize> + '_ {
        use sqlx::Row;
        (0..self.len()).map(|i| {
            self.try_get_raw(i)
                .ok()
                .and_then(|v| v.as_bytes().ok())
                .map_or(0, <[u8]>::len)
        })
    }
}

impl RowBytes for tiberius::Row {
    fn value_bytes(&self) -> impl Iterator<Item = usize> + '_ {
        use tiberius::ColumnData as C;
        self.cells().map(|(_, c)| match c {
            C::String(Some(v)) => v.len(),
            C::Binary(Some(v)) => v.len(),
            C::Xml(Some(v)) => AsRef::<str>::as_ref(v.as_ref()).len(),
            // Numbers, dates, GUIDs and NULL: fixed and small.
            _ => 0,
        })
    }
}

macro_rules! row_bytes_unchecked {
    ($($row:ty),*) => {$(
        impl RowBytes for $row {
            fn value_bytes(&self) -> impl Iterator<Item = usize> + '_ {
                use sqlx::Row;
                // The raw bytes, whatever the column's type (text, number or blob).
                (0..self.len()).map(|i| {
                    self.try_get_unchecked::<Option<&[u8]>, _>(i)
                        .ok()
                        .flatten()
                        .map_or(0, <[u8]>::len)
                })
            }
        }
    )*};
}
row_bytes_unchecked!(sqlx::mysql::MySqlRow, sqlx::sqlite::SqliteRow);

/// Counts queries and applies the per-query limit for one collection.
pub struct Runner<'a> {
    pub spec: &'a ConnSpec,
    pub timeout: Duration,
    pub queries: AtomicU32,
    /// Whether a database error means "permission denied" on this engine.
    pub is_denied: fn(&sqlx::Error) -> bool,
    /// What to tell the user a denied query needs (`needs pg_read_all_settings`), by query.
    pub denied_hint: fn(&str) -> Option<&'static str>,
    /// What bounds each message of a [`Runner::batch`] and keeps it from leaving a trace.
    pub scope: Scope,
}

impl<'a> Runner<'a> {
    /// A runner for `spec`, each statement bounded by `timeout`, with nothing sent yet.
    pub fn new(
        spec: &'a ConnSpec,
        timeout: Duration,
        is_denied: fn(&sqlx::Error) -> bool,
        denied_hint: fn(&str) -> Option<&'static str>,
        scope: Scope,
    ) -> Runner<'a> {
        Runner {
            spec,
            timeout,
            queries: Default::default(),
            is_denied,
            denied_hint,
            scope,
        }
    }
}

/// What every message of a [`Runner::batch`] carries so it is read-only and bounded without a
/// session setting that would outlive it: behind a pooler the next client inherits the server
/// session, so nothing may stay on it. The statements around the reads go in the same message
/// (one round trip, and one server session even under transaction or statement pooling).
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// Sent before the reads (PostgreSQL: `SET TRANSACTION READ ONLY; SET LOCAL ...`, which
    /// a multi-statement message's implicit transaction ends by itself; MySQL: `START
    /// TRANSACTION READ ONLY`). A refusal of one of them is a setup error for every read.
    pub before: Vec<String>,
    /// Sent after the reads (MySQL: `COMMIT`).
    pub after: Vec<String>,
    /// Sent alone after a message that stopped at an error (MySQL: `ROLLBACK`, as a failed
    /// statement leaves the explicit transaction open).
    pub on_error: Option<String>,
    /// Rewrites each read to carry its own time limit (MariaDB's `SET STATEMENT
    /// max_statement_time = s FOR ...`, MySQL's `MAX_EXECUTION_TIME` hint).
    pub per_statement: Option<fn(&str, Duration) -> String>,
}

/// What one message of a batch brought back.
struct Sent<R> {
    /// One probe per read that completed, in order.
    done: Vec<Probe<Vec<R>>>,
    error: Option<sqlx::Error>,
    /// A statement of the scope (`before`) failed: the reads never ran.
    setup_failed: Option<String>,
    timed_out: bool,
    /// Time since the last completed read.
    since_last: u64,
    /// The statement after `done` was cut at a cap of [`Bound`] (the message says which):
    /// that is this statement's answer; the ones after it are sent again.
    capped: Option<String>,
}

impl Runner<'_> {
    /// Runs `fut` (one query, or a few in sequence: pass how many) as one probe.
    pub async fn probe<T>(
        &self,
        what: &str,
        count: u32,
        fut: impl Future<Output = Result<T, sqlx::Error>>,
    ) -> Probe<T> {
        if crate::guard::interrupted().is_some() {
            return Probe::Failed {
                message: format!("{what}: not run: the check was interrupted"),
                ms: 0,
            };
        }
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
            Ok(Err(e)) => self.classify(what, &e, crate::net::ms_since(t)),
        }
    }

    /// A query's error as a probe: denied (with what would grant it), timed out (the server's
    /// own limit ended it) or failed; the message scrubbed of secrets.
    fn classify<T>(&self, what: &str, e: &sqlx::Error, ms: u64) -> Probe<T> {
        let message = self.spec.scrub(&error_text(e));
        if (self.is_denied)(e) {
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

    /// Sends `stmts` in one round trip, as one text-protocol message (PostgreSQL's simple
    /// query, MySQL's multi-statement query) inside the runner's [`Scope`], and gives each
    /// statement its own probe: its rows, and the time from the previous statement's end to
    /// its own. The text protocol prepares nothing, so no named statement is left behind.
    ///
    /// Both servers run such a message in order and stop at the first error, which belongs to
    /// the statement after the last one that completed. A refusal or a time limit is then that
    /// statement's answer; another error (a syntax the server parses for the whole message
    /// first) is checked by running that statement alone. The statements after it are sent
    /// again as a new batch, so one refused read never costs the others their answer. When
    /// the server does not answer at all within the limit (its own limits answer with an
    /// error), or the connection fails, every statement not yet answered gets that answer:
    /// one by one they would fare no better, and the run would wait for each. When the
    /// scope's own setup is refused, every statement gets that refusal at once.
    pub async fn batch<DB>(&self, pool: &sqlx::Pool<DB>, stmts: &[Stmt]) -> Vec<Answer<DB::Row>>
    where
        DB: sqlx::Database,
        DB::Row: RowBytes,
        for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    {
        let mut answers: Vec<Answer<DB::Row>> = Vec::with_capacity(stmts.len());
        while answers.len() < stmts.len() {
            let rest = &stmts[answers.len()..];
            if let [s] = rest {
                answers.push(self.alone(pool, s).await);
                continue;
            }
            let sent = self.send(pool, rest).await;
            if let Some(setup) = &sent.setup_failed {
                answers.extend(rest.iter().map(|s| Answer {
                    what: s.what,
                    probe: Probe::Failed {
                        message: setup.clone(),
                        ms: sent.since_last,
                    },
                }));
                break;
            }
            let (done, error, timed_out, ms) =
                (sent.done, sent.error, sent.timed_out, sent.since_last);
            if done.len() > rest.len() || (done.len() < rest.len() && error.is_none() && !timed_out)
            {
                // Not one result per statement: trust none of it, ask each on its own.
                for s in rest {
                    answers.push(self.alone(pool, s).await);
                }
                break;
            }
            let stopped_at = done.len();
            answers.extend(rest.iter().zip(done).map(|(s, probe)| Answer {
                what: s.what,
                probe,
            }));
            let Some(s) = rest.get(stopped_at) else { break };
            if let Some(why) = &sent.capped {
                // Cut at a cap: that statement's own answer; the others are asked again.
                answers.push(Answer {
                    what: s.what,
                    probe: Probe::Failed {
                        message: format!("{}: {why}", s.what),
                        ms,
                    },
                });
                continue;
            }
            // No answer at all within the limit (the server's own limits answer with an error),
            // or the connection itself failed: the statements not run would fare no better, one
            // by one. They all get that answer, and the run goes on.
            let unanswered = timed_out
                || error
                    .as_ref()
                    .is_some_and(|e| !matches!(e, sqlx::Error::Database(_)));
            if unanswered {
                for s in &rest[stopped_at..] {
                    let probe = match &error {
                        Some(e) if !timed_out => self.classify(s.what, e, ms),
                        _ => Probe::TimedOut {
                            ms: self.timeout.as_millis() as u64,
                        },
                    };
                    answers.push(Answer {
                        what: s.what,
                        probe,
                    });
                }
                break;
            }
            answers.push(match error.map(|e| self.classify(s.what, &e, ms)) {
                Some(p @ (Probe::Denied { .. } | Probe::TimedOut { .. })) => Answer {
                    what: s.what,
                    probe: p,
                },
                _ => self.alone(pool, s).await,
            });
        }
        answers
    }

    /// Sends `stmts` as one message inside the scope, on one connection of our own, and reads
    /// one probe per statement until the first error.
    async fn send<DB>(&self, pool: &sqlx::Pool<DB>, stmts: &[Stmt]) -> Sent<DB::Row>
    where
        DB: sqlx::Database,
        DB::Row: RowBytes,
        for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    {
        use futures_util::StreamExt;
        let scope = &self.scope;
        let reads = stmts.iter().map(|s| match scope.per_statement {
            Some(wrap) => wrap(&s.sql, self.timeout),
            None => s.sql.clone(),
        });
        let sql = scope
            .before
            .iter()
            .cloned()
            .chain(reads)
            .chain(scope.after.iter().cloned())
            .collect::<Vec<_>>()
            .join("; ");
        let skip = scope.before.len();
        self.queries.fetch_add(
            (skip + stmts.len() + scope.after.len()) as u32,
            Ordering::Relaxed,
        );
        let mut sent = Sent {
            done: Vec::new(),
            error: None,
            setup_failed: None,
            timed_out: false,
            since_last: 0,
            capped: None,
        };
        let mut results = 0usize;
        let mut rows = Vec::new();
        let mut bound = Bound::default();
        let mut capped = None;
        let mut last = Instant::now();
        let limit = self.timeout + Duration::from_millis(500);
        let read = async {
            // A connection of our own for the message, handed back before what follows runs:
            // dropped, it would go back to the pool in a task of its own, and a query right
            // after would find none idle and open another (a server process more, and a wait
            // where the server or the pooler admits one client).
            let mut conn = match pool.acquire().await {
                Ok(c) => c,
                Err(e) => {
                    sent.error = Some(e);
                    return;
                }
            };
            let mut stream = sqlx::raw_sql(&sql).fetch_many(&mut *conn);
            while let Some(item) = stream.next().await {
                match item {
                    Ok(sqlx::Either::Right(row)) => {
                        if let Err(why) = bound.add(row.value_bytes()) {
                            sent.error = Some(sqlx::Error::Protocol(why.clone()));
                            capped = Some(why);
                            break;
                        }
                        rows.push(row);
                    }
                    Ok(sqlx::Either::Left(_)) => {
                        results += 1;
                        bound = Bound::default();
                        let rows = std::mem::take(&mut rows);
                        // The scope's own statements answer too: not ours to report.
                        if results > skip && sent.done.len() < stmts.len() {
                            sent.done.push(Probe::ok(rows, crate::net::ms_since(last)));
                        }
                        last = Instant::now();
                    }
                    Err(e) => {
                        sent.error = Some(e);
                        break;
                    }
                }
            }
            drop(stream);
            if let Some(why) = capped {
                // Mid-result: the rest would have to be read before anything else. Closed.
                drop(conn.detach());
                // What was read of the cut statement goes now, not after the next batch.
                drop(std::mem::take(&mut rows));
                sent.capped = (results >= skip).then_some(why);
                return;
            }
            if sent.error.is_some()
                && let Some(undo) = &scope.on_error
            {
                self.queries.fetch_add(1, Ordering::Relaxed);
                let mut undone = sqlx::raw_sql(undo).fetch_many(&mut *conn);
                while let Some(Ok(_)) = undone.next().await {}
            }
            conn.return_to_pool().await;
        };
        sent.timed_out = tokio::time::timeout(limit, read).await.is_err();
        sent.since_last = crate::net::ms_since(last);
        if results < skip
            && let Some(e) = &sent.error
            && matches!(e, sqlx::Error::Database(_))
        {
            sent.setup_failed = Some(format!(
                "the session setup `{}` was refused: {} (the server, or a pooler or proxy in front of it, does not accept it; connect to the server itself or let it accept SET)",
                scope.before.get(results).map_or("", String::as_str),
                self.spec.scrub(&error_text(e))
            ));
        }
        sent
    }

    /// One statement of a batch, sent on its own (inside the scope).
    async fn alone<DB>(&self, pool: &sqlx::Pool<DB>, s: &Stmt) -> Answer<DB::Row>
    where
        DB: sqlx::Database,
        DB::Row: RowBytes,
        for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    {
        let mut sent = self.send(pool, std::slice::from_ref(s)).await;
        let ms = sent.since_last;
        let probe = if let Some(setup) = sent.setup_failed {
            Probe::Failed { message: setup, ms }
        } else if let Some(p) = sent.done.pop() {
            p
        } else if let Some(why) = sent.capped {
            Probe::Failed {
                message: format!("{}: {why}", s.what),
                ms,
            }
        } else if sent.timed_out {
            Probe::TimedOut {
                ms: self.timeout.as_millis() as u64,
            }
        } else if let Some(e) = &sent.error {
            self.classify(s.what, e, ms)
        } else {
            Probe::Failed {
                message: format!("{}: the server returned no result", s.what),
                ms,
            }
        };
        Answer {
            what: s.what,
            probe,
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

/// One statement of a [`Runner::batch`]: what it reads (named in messages and permission
/// hints) and its SQL. It binds no parameter: values are written in as literals
/// ([`pg_literal`], [`mysql_literal`]).
pub struct Stmt {
    pub what: &'static str,
    pub sql: String,
}

impl Stmt {
    pub fn new(what: &'static str, sql: impl Into<String>) -> Stmt {
        Stmt {
            what,
            sql: sql.into(),
        }
    }
}

/// One statement's answer from a [`Runner::batch`], read into typed rows with its methods.
pub struct Answer<R> {
    pub what: &'static str,
    pub probe: Probe<Vec<R>>,
}

/// A batch's answers, read in the statements' order.
pub struct Answers<R>(std::vec::IntoIter<Answer<R>>);

impl<R> Answers<R> {
    pub fn new(answers: Vec<Answer<R>>) -> Self {
        Answers(answers.into_iter())
    }

    /// The next statement's answer; `what` names the statement expected, checked in debug
    /// builds so the reading order cannot drift from the statements' order.
    pub fn next(&mut self, what: &str) -> Answer<R> {
        let a = self.0.next().unwrap_or_default();
        debug_assert_eq!(a.what, what, "answers come in the statements' order");
        a
    }
}

impl<R> Default for Answer<R> {
    /// What a statement that got no answer at all reads as.
    fn default() -> Self {
        Answer {
            what: "",
            probe: Probe::default(),
        }
    }
}

impl<R: sqlx::Row> Answer<R> {
    /// Every row, as `T` (a tuple or a `FromRow` type).
    pub fn all<T: for<'r> sqlx::FromRow<'r, R>>(self) -> Probe<Vec<T>> {
        let what = self.what;
        self.read(
            |rows| rows.iter().map(T::from_row).collect::<Result<_, _>>(),
            what,
        )
    }

    /// The first row as `T`, or none.
    pub fn optional<T: for<'r> sqlx::FromRow<'r, R>>(self) -> Probe<Option<T>> {
        let what = self.what;
        self.read(|rows| rows.first().map(T::from_row).transpose(), what)
    }

    /// The first row as `T`; a statement that returned none failed.
    pub fn one<T: for<'r> sqlx::FromRow<'r, R>>(self) -> Probe<T> {
        let what = self.what;
        match self.optional() {
            Probe::Ok { value: Some(v), ms } => Probe::ok(v, ms),
            Probe::Ok { value: None, ms } => Probe::Failed {
                message: format!("{what}: the server returned no row"),
                ms,
            },
            other => other.failure(),
        }
    }

    /// Every row's first `n` columns as text (NULL and what is not text read as `None`): for
    /// tables whose columns are known only at run time (migration histories).
    pub fn texts(self, n: usize) -> Probe<Vec<Vec<Option<String>>>>
    where
        for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
        usize: sqlx::ColumnIndex<R>,
    {
        let what = self.what;
        self.read(
            |rows| {
                Ok(rows
                    .iter()
                    .map(|r| (0..n).map(|i| r.try_get(i).ok().flatten()).collect())
                    .collect())
            },
            what,
        )
    }

    fn read<T>(self, f: impl FnOnce(&[R]) -> Result<T, sqlx::Error>, what: &str) -> Probe<T> {
        match self.probe {
            Probe::Ok { value, ms } => match f(&value) {
                Ok(v) => Probe::ok(v, ms),
                Err(e) => Probe::Failed {
                    message: format!("{what}: unexpected answer: {}", error_text(&e)),
                    ms,
                },
            },
            other => other.failure(),
        }
    }
}

pub use crate::quote::{
    mysql_ident, mysql_literal, pg_literal, pg_text_array, tsql_ident, tsql_literal,
};

/// A driver error as one line, without the driver's wrapping noise.
pub fn error_text(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Database(db) => match db.code() {
            Some(code) => format!("{} (code {code})", db.message()),
            None => db.message().to_string(),
        },
        // Our own cut (see [`Bound`]), without the driver's "unexpected or invalid data" prefix.
        sqlx::Error::Protocol(m) if m.starts_with("bounded answer") => m.clone(),
        other => other.to_string(),
    }
    .replace('\n', " ")
}

/// A boxed future that may cross threads.
type BoxFuture<'a, T> = std::pin::Pin<Box<dyn Future<Output = T> + Send + 'a>>;

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_is_cut_at_its_row_byte_and_value_caps_with_the_marker() {
        let mut b = Bound::default();
        for _ in 0..MAX_ROWS {
            assert!(b.add([0]).is_ok());
        }
        let rows = b.add([0]).unwrap_err();
        assert!(rows.contains("more than 20000 rows"), "{rows}");
        assert!(rows.ends_with("…[cut: the rest was not read]"), "{rows}");

        let mut b = Bound::default();
        let big = b.add([MAX_VALUE_BYTES + 1]).unwrap_err();
        assert!(big.contains("a value of more than 1 MiB"), "{big}");

        // Values under the value cap add up to the answer cap.
        let mut b = Bound::default();
        let half = MAX_VALUE_BYTES / 2;
        let mut added = 0;
        let total = loop {
            match b.add([half, half]) {
                Ok(()) => added += 1,
                Err(e) => break e,
            }
        };
        assert_eq!(added, MAX_ANSWER_BYTES / MAX_VALUE_BYTES - 1);
        assert!(total.contains("more than 4 MiB"), "{total}");

        // NULL columns count too: a flood of them is bounded.
        let mut b = Bound::default();
        assert!(b.add(vec![0; 300_000]).is_err());
    }
}
