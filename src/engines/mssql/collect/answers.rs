//! SQL Server answers: the Runner (every statement an sp_executesql call scoped by its own SET LOCK_TIMEOUT, its answer cut at the caps every engine has) and TDS values decoded.

use super::*;

/// Server error numbers that mean "permission denied" (SELECT/EXECUTE denied, VIEW SERVER
/// STATE / VIEW DATABASE STATE missing, no access to the database, not a grantor).
pub(super) const DENIED: &[u32] = &[229, 230, 262, 297, 300, 916, 15247];

/// One cell, decoded whatever its SQL type.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Null,
    Int(i64),
    Float(f64),
    Text(String),
    /// A date and time without offset, as seconds since 1970-01-01 in its own (server) zone.
    Local(f64),
    /// A date and time with offset: UTC seconds since the epoch, offset in minutes.
    Offset(f64, i16),
}

impl Val {
    pub(super) fn int(&self) -> Option<i64> {
        match self {
            Val::Int(i) => Some(*i),
            Val::Float(f) => Some(*f as i64),
            Val::Text(t) => t.trim().parse().ok(),
            _ => None,
        }
    }
    pub(super) fn flag(&self) -> bool {
        match self {
            Val::Int(i) => *i != 0,
            Val::Text(t) => matches!(t.trim().to_ascii_uppercase().as_str(), "1" | "TRUE" | "ON"),
            _ => false,
        }
    }
    pub(super) fn text(&self) -> Option<String> {
        match self {
            Val::Null => None,
            Val::Int(i) => Some(i.to_string()),
            Val::Float(f) => Some(f.to_string()),
            Val::Text(t) => Some(t.clone()),
            Val::Local(s) | Val::Offset(s, _) => Some(format!("{s}")),
        }
    }
    pub(super) fn epoch(&self) -> Option<f64> {
        match self {
            Val::Local(s) | Val::Offset(s, _) => Some(*s),
            _ => None,
        }
    }
}

/// Days from 0001-01-01 to 1970-01-01, and from 1900-01-01 to 1970-01-01.
pub(super) const DAYS_0001_TO_1970: f64 = 719_162.0;
pub(super) const DAYS_1900_TO_1970: f64 = 25_567.0;

pub(super) fn decode(c: &ColumnData<'static>) -> Val {
    use tiberius::time::{Date, DateTime2, Time};
    let time_secs = |t: Time| t.increments() as f64 / 10f64.powi(i32::from(t.scale()));
    let date_secs = |d: Date| (d.days() as f64 - DAYS_0001_TO_1970) * 86_400.0;
    let dt2 = |d: DateTime2| date_secs(d.date()) + time_secs(d.time());
    match c {
        ColumnData::U8(v) => v.map_or(Val::Null, |v| Val::Int(v.into())),
        ColumnData::I16(v) => v.map_or(Val::Null, |v| Val::Int(v.into())),
        ColumnData::I32(v) => v.map_or(Val::Null, |v| Val::Int(v.into())),
        ColumnData::I64(v) => v.map_or(Val::Null, Val::Int),
        ColumnData::F32(v) => v.map_or(Val::Null, |v| Val::Float(v.into())),
        ColumnData::F64(v) => v.map_or(Val::Null, Val::Float),
        ColumnData::Bit(v) => v.map_or(Val::Null, |v| Val::Int(v.into())),
        ColumnData::String(v) => v.as_ref().map_or(Val::Null, |s| Val::Text(s.to_string())),
        ColumnData::Guid(v) => v.map_or(Val::Null, |g| Val::Text(g.to_string())),
        ColumnData::Numeric(v) => v.map_or(Val::Null, |n| {
            if n.scale() == 0 {
                i64::try_from(n.value()).map_or(Val::Float(f64::from(n)), Val::Int)
            } else {
                Val::Float(f64::from(n))
            }
        }),
        ColumnData::DateTime(v) => v.map_or(Val::Null, |d| {
            Val::Local(
                (f64::from(d.days()) - DAYS_1900_TO_1970) * 86_400.0
                    + f64::from(d.seconds_fragments()) / 300.0,
            )
        }),
        ColumnData::SmallDateTime(v) => v.map_or(Val::Null, |d| {
            Val::Local(
                (f64::from(d.days()) - DAYS_1900_TO_1970) * 86_400.0
                    + f64::from(d.seconds_fragments()) * 60.0,
            )
        }),
        ColumnData::Date(v) => v.map_or(Val::Null, |d| Val::Local(date_secs(d))),
        ColumnData::Time(v) => v.map_or(Val::Null, |t| Val::Float(time_secs(t))),
        ColumnData::DateTime2(v) => v.map_or(Val::Null, |d| Val::Local(dt2(d))),
        // The wire carries the UTC instant and the offset.
        ColumnData::DateTimeOffset(v) => {
            v.map_or(Val::Null, |d| Val::Offset(dt2(d.datetime2()), d.offset()))
        }
        ColumnData::Binary(_) | ColumnData::Xml(_) => Val::Null,
    }
}

/// Runs queries over one connection: counted, bounded by the per-check timeout (a timed-out
/// connection is dropped and the next query reconnects), classified, with secrets scrubbed.
///
/// Every statement goes to the server as the dynamic batch of an `sp_executesql` call (the
/// driver's RPC, with or without parameters) that starts with `SET LOCK_TIMEOUT`: a SET made
/// in dynamic SQL reverts when that batch ends, so our lock limit (and the write probe's
/// `XACT_ABORT`) never outlives the statement, even when the check is cut off before its end.
/// Behind a proxy that keeps server sessions (and for drivers that skip
/// sp_reset_connection) the next client gets the session as the server gave it.
pub(super) struct Runner<'a> {
    pub(super) spec: &'a ConnSpec,
    pub(super) config: Config,
    pub(super) timeout: Duration,
    pub(super) connect_timeout: Duration,
    pub(super) queries: u32,
    pub(super) client: Option<Conn>,
    /// The server-side bound on lock waits, in milliseconds: a blocked read ends there too.
    pub(super) lock_ms: u128,
}

impl Runner<'_> {
    /// `sql` as we send it: scoped by its own `SET LOCK_TIMEOUT` (see [`Runner`]).
    pub(super) fn scoped(&self, sql: &str) -> String {
        format!("SET LOCK_TIMEOUT {}; {sql}", self.lock_ms)
    }
}

pub(super) type Rows = Vec<Vec<Val>>;

impl Runner<'_> {
    pub(super) async fn rows(
        &mut self,
        what: &str,
        sql: &str,
        params: &[&dyn ToSql],
    ) -> Probe<Rows> {
        if self.client.is_none() {
            match tokio::time::timeout(self.connect_timeout, connect(&self.config)).await {
                Ok(Ok(c)) => self.client = Some(c),
                _ => {
                    return Probe::Failed {
                        message: format!("{what}: could not reconnect after an earlier timeout"),
                        ms: 0,
                    };
                }
            }
        }
        let Some(client) = self.client.as_mut() else {
            return Probe::not_collected("no connection");
        };
        self.queries += 1;
        let t = Instant::now();
        let scoped = format!("SET LOCK_TIMEOUT {}; {sql}", self.lock_ms);
        let fut = async {
            // Always the RPC (sp_executesql), never a plain batch: see `Runner`.
            let stream = client.query(scoped, params).await?;
            // The first result set, cut at the caps every engine's answers have.
            let (mut rows, mut bound) = (Vec::new(), crate::engines::sql::Bound::default());
            let mut stream = stream.into_row_stream();
            while let Some(r) = futures_util::TryStreamExt::try_next(&mut stream).await? {
                if r.result_index() > 0 {
                    break;
                }
                bound
                    .add(crate::engines::sql::RowBytes::value_bytes(&r))
                    .map_err(|why| TdsError::Protocol(why.into()))?;
                rows.push(r.cells().map(|(_, c)| decode(c)).collect());
            }
            Ok::<_, TdsError>(rows)
        };
        match tokio::time::timeout(self.timeout, fut).await {
            Err(_) => {
                // The answer may still arrive: this connection cannot be trusted any more.
                self.client = None;
                Probe::TimedOut {
                    ms: self.timeout.as_millis() as u64,
                }
            }
            Ok(Ok(rows)) => Probe::ok(rows, ms_since(t)),
            Ok(Err(e)) => {
                let ms = ms_since(t);
                let message = self.spec.scrub(&error_text(&e));
                match e.code() {
                    // Our own SET LOCK_TIMEOUT ended a lock wait: the server-side time limit.
                    Some(1222) => Probe::TimedOut { ms },
                    Some(code) if DENIED.contains(&code) => Probe::Denied {
                        message: format!("{what}: {message}{}", denied_hint(what)),
                        ms,
                    },
                    Some(208) => Probe::Failed {
                        message: format!(
                            "{what}: this server has no such view or function ({message})"
                        ),
                        ms,
                    },
                    _ => {
                        if !matches!(e, TdsError::Server(_)) {
                            // A transport or protocol error leaves the stream in an unknown state.
                            self.client = None;
                        }
                        Probe::Failed {
                            message: format!("{what}: {message}"),
                            ms,
                        }
                    }
                }
            }
        }
    }

    /// The first row, or a failure saying the query returned none.
    pub(super) async fn row(
        &mut self,
        what: &str,
        sql: &str,
        params: &[&dyn ToSql],
    ) -> Probe<Vec<Val>> {
        let rows = self.rows(what, sql, params).await;
        first_row(Some((what, rows)))
    }

    /// Sends `stmts` as one T-SQL batch (one round trip), each answering one result set.
    /// SQL Server runs on past some errors and stops at others, and the driver reports an error
    /// for the whole stream; so on a server error, or any other count of result sets, each
    /// statement is sent again on its own and keeps its own answer. When the server does not
    /// answer within the limit, or the connection fails, every statement gets that answer at
    /// once: one by one, each would wait (or reconnect) again.
    pub(super) async fn batch<'s>(
        &mut self,
        stmts: &[(&'s str, &str)],
    ) -> Vec<(&'s str, Probe<Rows>)> {
        let whats = stmts.iter().map(|(w, _)| *w);
        match self.try_batch(stmts).await {
            Batch::Answered(sets) => whats.zip(sets).collect(),
            Batch::Unanswered(None) => whats
                .map(|w| {
                    let ms = self.timeout.as_millis() as u64;
                    (w, Probe::TimedOut { ms })
                })
                .collect(),
            Batch::Unanswered(Some(message)) => whats
                .map(|w| {
                    let message = format!("{w}: {message}");
                    (w, Probe::Failed { message, ms: 0 })
                })
                .collect(),
            Batch::OneByOne => {
                let mut out = Vec::with_capacity(stmts.len());
                for (what, sql) in stmts {
                    out.push((*what, self.rows(what, sql, &[]).await));
                }
                out
            }
        }
    }

    pub(super) async fn try_batch(&mut self, stmts: &[(&str, &str)]) -> Batch {
        use futures_util::TryStreamExt;
        let sql = self.scoped(&stmts.iter().map(|(_, s)| *s).collect::<Vec<_>>().join("; "));
        let Some(client) = self.client.as_mut().filter(|_| stmts.len() > 1) else {
            return Batch::OneByOne;
        };
        self.queries += stmts.len() as u32;
        let read = async {
            let mut stream = client.query(sql, &[]).await?;
            // Each result set with the time since the previous one began.
            let mut sets: Vec<(Rows, u64)> = Vec::new();
            let mut bound = crate::engines::sql::Bound::default();
            let mut last = Instant::now();
            while let Some(item) = stream.try_next().await? {
                match item {
                    tiberius::QueryItem::Metadata(_) => {
                        if let Some(prev) = sets.last_mut() {
                            prev.1 = ms_since(last);
                            last = Instant::now();
                        }
                        sets.push((Vec::new(), 0));
                        bound = crate::engines::sql::Bound::default();
                    }
                    tiberius::QueryItem::Row(row) => {
                        bound
                            .add(crate::engines::sql::RowBytes::value_bytes(&row))
                            .map_err(|why| TdsError::Protocol(why.into()))?;
                        if let Some(set) = sets.last_mut() {
                            set.0.push(row.cells().map(|(_, c)| decode(c)).collect());
                        }
                    }
                }
            }
            if let Some(prev) = sets.last_mut() {
                prev.1 = ms_since(last);
            }
            Ok::<_, TdsError>(sets)
        };
        match tokio::time::timeout(self.timeout, read).await {
            Ok(Ok(sets)) if sets.len() == stmts.len() => Batch::Answered(
                sets.into_iter()
                    .map(|(rows, ms)| Probe::ok(rows, ms))
                    .collect(),
            ),
            Ok(Ok(_)) | Ok(Err(TdsError::Server(_))) => Batch::OneByOne,
            // Cut at a cap mid-stream: this connection is dropped, and each statement is asked
            // alone (on a new one), so only the one that answered too much gets that error.
            Ok(Err(TdsError::Protocol(m))) if m.starts_with("bounded answer") => {
                self.client = None;
                Batch::OneByOne
            }
            // The stream is in an unknown state: this connection is not used again.
            Ok(Err(e)) => {
                self.client = None;
                Batch::Unanswered(Some(self.spec.scrub(&error_text(&e))))
            }
            Err(_) => {
                self.client = None;
                Batch::Unanswered(None)
            }
        }
    }
}

/// What a T-SQL batch came to.
pub(super) enum Batch {
    /// One result set per statement, in order.
    Answered(Vec<Probe<Rows>>),
    /// Ask each statement on its own.
    OneByOne,
    /// No answer within the limit (None), or the connection failed (its message).
    Unanswered(Option<String>),
}
