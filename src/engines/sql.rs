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
        match tokio::time::timeout(self.timeout, fut).await {
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
