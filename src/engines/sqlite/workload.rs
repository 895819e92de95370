//! The workload on SQLite: one BEGIN IMMEDIATE transaction, each statement in a savepoint, then
//! ROLLBACK.

use crate::engines::sql::error_text;
use crate::engines::workload::*;
use crate::probe::Probe;
use crate::workload::Workload;
use crate::workload::split::Statement;
use sqlx::{ConnectOptions, Connection};
use std::collections::BTreeSet;
use std::time::Instant;

impl Session for Conn<'_, sqlx::SqliteConnection> {
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

pub(crate) async fn run(job: Job<'_>, mut w: Workload) -> Probe<Workload> {
    let Job { spec, opts, files } = job;
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
    let (mut conn, _) = run_on(conn, spec, opts, files, &mut w).await;
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
