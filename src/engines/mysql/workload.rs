//! The workload on MySQL and MariaDB: a uniquely named scratch database created with the
//! target's character set and dropped afterwards, because MySQL's DDL commits by itself.

use crate::engines::CollectOptions;
use crate::engines::sql::{error_text, mysql_ident, mysql_literal};
use crate::engines::workload::*;
use crate::probe::Probe;
use crate::target::ConnSpec;
use crate::workload::split::Statement;
use crate::workload::{Earlier, SCRATCH_PREFIX, Workload};
use sqlx::{ConnectOptions, Connection};
use std::time::Duration;

pub(crate) async fn mysql_connect(
    spec: &ConnSpec,
    opts: &CollectOptions,
) -> Result<sqlx::MySqlConnection, String> {
    let socket = spec.socket().map(str::to_string);
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
pub(crate) async fn earlier_mysql(conn: &mut sqlx::MySqlConnection) -> Vec<Earlier> {
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

impl Session for Conn<'_, sqlx::MySqlConnection> {
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

pub(crate) async fn drop_scratch(conn: &mut sqlx::MySqlConnection, name: &str) {
    let _ = conn
        .exec(&format!("DROP DATABASE IF EXISTS {}", mysql_ident(name)))
        .await;
}

pub(crate) async fn still_there(conn: &mut sqlx::MySqlConnection, name: &str) -> Vec<String> {
    let sql = format!(
        "SELECT CAST(schema_name AS CHAR) FROM information_schema.schemata WHERE schema_name = {}",
        mysql_literal(name)
    );
    match texts(conn, &sql).await {
        Ok(v) => v.into_iter().flatten().collect(),
        Err(e) => vec![format!("{name} (could not look: {})", error_text(&e))],
    }
}

pub(crate) async fn run(job: Job<'_>, mut w: Workload) -> Probe<Workload> {
    let Job { spec, opts, files } = job;
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
    let (mut conn, stopped) = run_on(conn, spec, opts, files, &mut w).await;
    if stopped {
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
