//! The collectors' batches against real servers: statements sent in one round trip, where one
//! refused, missing or timed-out read must keep its own answer and cost the others none.

use crate::support::*;
use byod_precheck::engines::sql::{Answer, Runner, Stmt, mysql_literal, pg_literal};
use byod_precheck::probe::Probe;
use byod_precheck::target::ConnSpec;
use std::time::Duration;

/// A string with what literals must survive: a quote, a backslash, a non-ASCII letter.
const AWKWARD: &str = "it's a \\ back'slash é";

fn runner(spec: &ConnSpec, denied: fn(&sqlx::Error) -> bool) -> Runner<'_> {
    Runner {
        spec,
        timeout: Duration::from_secs(1),
        queries: Default::default(),
        is_denied: denied,
        denied_hint: |_| None,
        scope: Default::default(),
    }
}

/// PostgreSQL's "insufficient privilege".
fn pg_denied(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.code().as_deref() == Some("42501"))
}

/// MySQL's "command denied to user" (error 1142).
fn mysql_denied(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d)
        if d.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>().is_some_and(|m| m.number() == 1142))
}

/// The statements both servers get: reads that work around a missing table, a refused
/// catalog, a read the server's own time limit ends, and a literal.
fn statements(missing: &str, refused: &str, sleep: &str, literal: String) -> Vec<Stmt> {
    vec![
        Stmt::new("one", "SELECT 'one'"),
        Stmt::new("missing", missing.to_string()),
        Stmt::new("two", "SELECT 'two'"),
        Stmt::new("refused", refused.to_string()),
        Stmt::new("sleep", sleep.to_string()),
        Stmt::new("three", "SELECT 'three'"),
        Stmt::new("literal", format!("SELECT {literal}")),
    ]
}

/// Each statement's own answer, in order, whatever happened to its neighbours.
fn assert_answers<R: sqlx::Row>(answers: Vec<Answer<R>>)
where
    (String,): for<'r> sqlx::FromRow<'r, R>,
{
    let whats: Vec<&str> = answers.iter().map(|a| a.what).collect();
    assert_eq!(
        whats,
        [
            "one", "missing", "two", "refused", "sleep", "three", "literal"
        ]
    );
    let mut a = answers.into_iter();
    text(a.next(), "one");
    let missing = a.next().unwrap().probe.map(|rows| rows.len());
    assert!(
        matches!(&missing, Probe::Failed { message, .. } if message.starts_with("missing: ") && message.contains("no_such_table")),
        "{missing:?}"
    );
    text(a.next(), "two");
    let refused = a.next().unwrap().probe.map(|rows| rows.len());
    assert!(
        matches!(&refused, Probe::Denied { message, .. } if message.starts_with("refused: ")),
        "{refused:?}"
    );
    let sleep = a.next().unwrap().probe.map(|rows| rows.len());
    assert!(matches!(sleep, Probe::TimedOut { .. }), "{sleep:?}");
    text(a.next(), "three");
    text(a.next(), AWKWARD);
}

fn text<R: sqlx::Row>(answer: Option<Answer<R>>, want: &str)
where
    (String,): for<'r> sqlx::FromRow<'r, R>,
{
    let probe: Probe<(String,)> = answer.unwrap().one();
    assert_eq!(probe.value().map(|r| r.0.as_str()), Some(want), "{probe:?}");
}

#[test]
fn postgres_batch_keeps_each_statements_answer() {
    let Some(mut s) = require("local PostgreSQL", PgScratch::new("")) else {
        return;
    };
    let role = s.role("").unwrap();
    let url = s.url(&role);
    let spec = ConnSpec::parse(&url).unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        // The collector's sessions carry a server-side statement_timeout the same way.
        let options = url
            .parse::<sqlx::postgres::PgConnectOptions>()
            .unwrap()
            .options([("statement_timeout", "500")]);
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await
            .unwrap();
        let r = runner(&spec, pg_denied);
        let stmts = statements(
            "SELECT * FROM no_such_table",
            "SELECT rolpassword FROM pg_authid",
            "SELECT pg_sleep(5)",
            format!("{}::text", pg_literal(AWKWARD)),
        );
        let answers = r.batch(&pool, &stmts).await;
        // 7 sent at once; the missing table is confirmed alone (1) and the 5 after it sent
        // again; the refusal and the time limit are final, each costing the rest one resend
        // (3, then 2).
        assert_eq!(r.count(), 7 + 1 + 5 + 3 + 2);
        assert_answers(answers);
        pool.close().await;
    });
}

#[test]
fn mariadb_batch_keeps_each_statements_answer() {
    let Some(mut s) = crate::mysql::Scratch::new("") else {
        return;
    };
    let user = s.user("batch-pw", "SELECT");
    let url = s.url(&user, "batch-pw");
    let spec = ConnSpec::parse(&url).unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let pool = sqlx::mysql::MySqlPoolOptions::new()
            .max_connections(1)
            .after_connect(|conn, _| {
                Box::pin(async move {
                    sqlx::Executor::execute(&mut *conn, "SET SESSION max_statement_time = 0.5")
                        .await
                        .map(|_| ())
                })
            })
            .connect(&url)
            .await
            .unwrap();
        let r = runner(&spec, mysql_denied);
        let stmts = statements(
            "SELECT * FROM no_such_table",
            "SELECT authentication_string FROM mysql.user",
            "SELECT SLEEP(5)",
            mysql_literal(AWKWARD),
        );
        let answers = r.batch(&pool, &stmts).await;
        assert_eq!(r.count(), 7 + 1 + 5 + 3 + 2);
        assert_answers(answers);
        pool.close().await;
    });
}
