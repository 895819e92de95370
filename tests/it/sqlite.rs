//! SQLite end to end: real files, no server.

use crate::support::*;

fn make_db(dir: &std::path::Path, sql: &str) -> std::path::PathBuf {
    let p = dir.join("app.db");
    let url = format!("sqlite://{}?mode=rwc", p.display());
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        use sqlx::Connection;
        let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
        sqlx::raw_sql(sql).execute(&mut c).await.unwrap();
    });
    p
}

#[test]
fn healthy_file_passes_and_the_report_is_complete() {
    let dir = tempfile::tempdir().unwrap();
    let db = make_db(
        dir.path(),
        "PRAGMA journal_mode = WAL; CREATE TABLE t (id INTEGER PRIMARY KEY, v VARCHAR); \
         CREATE TABLE _sqlx_migrations (version BIGINT PRIMARY KEY, success BOOLEAN); INSERT INTO _sqlx_migrations VALUES (20240101, 1);",
    );
    let url = format!("sqlite://{}", db.display());
    let (code, r, stdout, _) = check_json(&[&url]);
    assert_eq!(code, 0, "{stdout}");
    assert!(r["checks"].as_array().unwrap().len() >= 12);
    assert_eq!(status(&r, "sqlite.journal-mode"), "pass");
    assert_eq!(status(&r, "sqlite.integrity"), "pass");
    assert_eq!(status(&r, "sqlite.writability"), "pass");
    assert_eq!(
        finding(&r, "sqlite.migrations")["observed"],
        "sqlx (_sqlx_migrations) at 20240101"
    );
    assert_eq!(r["server"]["flavor"], "sqlite");
    assert!(stdout.contains("sqlite.journal-mode"));
}

#[test]
fn read_only_file_fails_writability_and_rollback_journal_warns() {
    let dir = tempfile::tempdir().unwrap();
    let db = make_db(
        dir.path(),
        "PRAGMA journal_mode = DELETE; CREATE TABLE t (id INTEGER);",
    );
    let url = format!("sqlite://{}?mode=ro", db.display());
    let (code, r, _, _) = check_json(&[&url]);
    assert_eq!(code, 1);
    assert_eq!(status(&r, "sqlite.writability"), "fail");
    assert_eq!(status(&r, "sqlite.journal-mode"), "warn");
    assert_eq!(
        finding(&r, "sqlite.journal-mode")["remedy"],
        "PRAGMA journal_mode = WAL;  (persistent: run it once on the file)"
    );
}

#[test]
fn missing_file_is_database_missing_and_the_report_is_still_written() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/nope.db", dir.path().display());
    let (code, r, _, _) = check_json(&[&url]);
    assert_eq!(code, 1);
    let c = finding(&r, "sqlite.connection");
    assert_eq!(c["status"], "fail");
    assert_eq!(c["observed"], "database-missing");
    assert!(c["remedy"].as_str().unwrap().contains("mode=rwc"));
    assert!(
        !dir.path().join("nope.db").exists(),
        "a check must not create the file"
    );
}

#[test]
fn a_check_changes_nothing_in_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let db = make_db(
        dir.path(),
        "PRAGMA journal_mode = DELETE; CREATE TABLE t (id INTEGER); INSERT INTO t VALUES (1);",
    );
    let before = std::fs::read(&db).unwrap();
    let (_, r, stdout, _) = check_json(&[&format!("sqlite://{}", db.display())]);
    // The file was opened and read through (integrity reads every page), not skipped.
    assert_eq!(status(&r, "sqlite.connection"), "pass", "{stdout}");
    assert_eq!(status(&r, "sqlite.integrity"), "pass", "{stdout}");
    assert_eq!(std::fs::read(&db).unwrap(), before, "the file changed");
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1, "journal or WAL files left: {names:?}");
}

#[test]
fn memory_database_and_fail_on_warn() {
    let (code, r, _, _) = check_json(&["sqlite::memory:"]);
    assert_eq!(code, 0);
    assert_eq!(status(&r, "sqlite.writability"), "warn");
    bin()
        .args(["check", "sqlite::memory:", "--fail-on", "warn"])
        .assert()
        .code(1);
    let (_, r, _, _) = check_json(&[
        "sqlite::memory:",
        "--only",
        "sqlite.version",
        "--only",
        "sqlite.json",
    ]);
    let ids: Vec<_> = r["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, ["sqlite.connection", "sqlite.version", "sqlite.json"]);
}
