//! The workload on PostgreSQL: one transaction (BEGIN READ WRITE, SET LOCAL statement_timeout),
//! each statement in a savepoint, then ROLLBACK.

use crate::engines::CollectOptions;
use crate::engines::sql::{error_text, pg_literal};
use crate::engines::workload::*;
use crate::probe::Probe;
use crate::target::ConnSpec;
use crate::workload::Workload;
use crate::workload::split::Statement;
use sqlx::{ConnectOptions, Connection};
use std::collections::BTreeSet;
use std::time::Duration;

impl Session for Conn<'_, sqlx::PgConnection> {
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

pub(crate) use crate::quote::pg_ident as quote_pg;

pub(crate) async fn pg_connect(
    spec: &ConnSpec,
    opts: &CollectOptions,
) -> Result<sqlx::PgConnection, String> {
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

pub(crate) async fn pg_names(
    conn: &mut sqlx::PgConnection,
    sql: &str,
) -> Result<BTreeSet<String>, String> {
    texts(conn, sql)
        .await
        .map(|v| v.into_iter().flatten().collect())
        .map_err(|e| error_text(&e))
}

pub(crate) async fn run(job: Job<'_>, mut w: Workload) -> Probe<Workload> {
    let Job { spec, opts, files } = job;
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
    let (mut conn, stopped) = run_on(conn, spec, opts, files, &mut w).await;
    if !stopped {
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
