//! CLI tests: the binary as a user runs it, with SQLite (no server needed) and bad input.

use crate::support::*;
use predicates::prelude::*;

#[test]
fn report_schema_is_fresh() {
    let generated =
        serde_json::to_string_pretty(&byod_precheck::report::json_schema()).unwrap() + "\n";
    let path = root().join("reports/report.schema.json");
    if std::env::var_os("UPDATE_SCHEMA").is_some() {
        // Regenerating in CI would make the check pass whatever was committed.
        assert!(
            !in_ci(),
            "UPDATE_SCHEMA is for a developer's machine, not CI"
        );
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "reports/report.schema.json is stale: run `UPDATE_SCHEMA=1 cargo test report_schema_is_fresh` and commit it"
    );
}

#[test]
fn checks_lists_the_registry_and_explain_documents_it() {
    let out = bin().args(["checks", "--format", "json"]).output().unwrap();
    assert!(out.status.success());
    let list: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert!(list.iter().filter(|c| c["engine"] == "postgres").count() >= 20);
    bin()
        .args(["explain", "postgres.create-table"])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("has_schema_privilege")
                .and(predicate::str::contains("GRANT CREATE ON SCHEMA")),
        );
    bin()
        .args(["explain", "postgres.nope"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "no check has the id `postgres.nope`",
        ));
}

#[test]
fn broken_matrix_exits_2_naming_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let m = matrix_file(
        dir.path(),
        "schema_version = 1\n[app]\npool_sise = 3\n[postgres]\nversions = \"13+\"\n",
    );
    let assert = bin().args(["matrix", "validate"]).arg(&m).assert().code(2);
    let err = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
    assert!(err.contains("2 problems"), "{err}");
    assert!(
        err.contains("matrix.toml:3:1: unknown key `pool_sise`"),
        "{err}"
    );
    assert!(
        err.contains("matrix.toml:5:13: `versions`: `13+` is not a version requirement"),
        "{err}"
    );
    // the same file refuses a check before any connection is made
    bin()
        .args(["check", "sqlite::memory:", "--matrix"])
        .arg(&m)
        .assert()
        .code(2);
    bin()
        .args(["matrix", "validate", "checks/matrix.toml"])
        .current_dir(root())
        .assert()
        .success();
    bin()
        .args(["matrix", "show"])
        .assert()
        .success()
        .stdout(predicate::str::contains("[postgres]"));
}

#[test]
fn bad_urls_exit_2_without_the_password() {
    for url in [
        "postgres://app:HUNTER2SECRET@db.example.com:99999/app",
        "oracle://app:HUNTER2SECRET@db/app",
        "postgres://app:HUNTER2SECRET@db/app?sslmod=require",
        "Server=tcp:db,1433;Password=HUNTER2SECRET;Bogus=1",
        "",
    ] {
        let out = bin().args(["check", url]).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{url}");
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!all.contains("HUNTER2SECRET"), "{url}: {all}");
        assert!(all.starts_with("error: "), "{url}: {all}");
    }
    bin()
        .arg("check")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("set DATABASE_URL"));
}

#[test]
fn render_refuses_a_newer_report_schema() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("r.json");
    std::fs::write(&p, r#"{"schema_version": 9, "checks": []}"#).unwrap();
    bin()
        .arg("render")
        .arg(&p)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("newer than this build reads"));
}
