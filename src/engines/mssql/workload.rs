//! The workload on SQL Server: one transaction, each GO batch after a SAVE TRANSACTION, then
//! ROLLBACK TRANSACTION.

use crate::engines::sql::tsql_ident;
use crate::engines::workload::*;
use crate::probe::Probe;
use crate::workload::split::Statement;
use crate::workload::{SCRATCH_PREFIX, Workload};
use std::collections::BTreeSet;

pub(crate) type TdsConn = tiberius::Client<tokio_util::compat::Compat<tokio::net::TcpStream>>;

/// A server error: its message (with the Msg number), the number, and the batch line.
pub(crate) type TdsErr = (String, Option<u32>, u32);

/// Sends a batch and drains every result: the rows' cells as text.
pub(crate) async fn tds(conn: &mut TdsConn, sql: &str) -> Result<Vec<Vec<String>>, TdsErr> {
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

pub(crate) fn first_cells(rows: Vec<Vec<String>>) -> Vec<String> {
    rows.into_iter()
        .filter_map(|r| r.into_iter().next())
        .collect()
}

impl Session for Conn<'_, TdsConn> {
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

pub(crate) async fn run(job: Job<'_>, mut w: Workload) -> Probe<Workload> {
    let Job { spec, opts, files } = job;
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
    let (mut conn, stopped) = run_on(conn, spec, opts, files, &mut w).await;
    if stopped {
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
