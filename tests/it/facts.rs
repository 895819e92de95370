//! Saved facts are a contract: files written by an earlier release replay, a fact a file lacks is
//! judged "not collected" (skip), never a failure, and a file from a newer build is refused.

use crate::support::{
    bin, check_json, local_pg, local_pg_up, matrix_file, require, root, status, validate,
};
use std::path::PathBuf;

/// Facts files saved by release 0.1.0 (commit ca9a3fb) from the local PostgreSQL 15, MariaDB
/// 10.11, SQLite and the SQL Server peer (sql2022 profile).
fn release_0_1_0(engine: &str) -> PathBuf {
    root()
        .join("tests/facts/0.1.0")
        .join(format!("{engine}.json"))
}

fn replay(facts: &std::path::Path, extra: &[&str]) -> (i32, serde_json::Value, String) {
    let out = bin()
        .arg("replay")
        .arg(facts)
        .args(["--format", "json"])
        .args(extra)
        .output()
        .expect("run replay");
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "replay of {} printed no report ({e}): {stderr}",
            facts.display()
        )
    });
    (out.status.code().unwrap_or(-1), report, stderr)
}

#[test]
fn facts_saved_by_release_0_1_0_replay_on_every_engine() {
    for engine in ["postgres", "mysql", "sqlite", "mssql"] {
        let (code, report, stderr) = replay(&release_0_1_0(engine), &[]);
        validate(&report);
        assert_eq!(code, 0, "{engine}: {stderr}");
        let checks = report["checks"].as_array().unwrap();
        assert!(checks.len() > 10, "{engine}: {} findings", checks.len());
        // Nothing the old file lacks became an error or a failure.
        for c in checks {
            assert!(
                c["status"] != "fail" && c["status"] != "error",
                "{engine}: {} is {}: {}",
                c["id"],
                c["status"],
                c["message"]
            );
        }
    }
}

#[test]
fn a_fact_the_file_lacks_is_not_collected_not_a_failure() {
    let dir = tempfile::tempdir().unwrap();
    let mut saved: serde_json::Value =
        serde_json::from_slice(&std::fs::read(release_0_1_0("postgres")).unwrap()).unwrap();
    let facts = saved["facts"].as_object_mut().unwrap();
    facts
        .remove("privileges")
        .expect("the 0.1.0 file has privileges");
    facts["common"].as_object_mut().unwrap().remove("read_only");
    let path = dir.path().join("older.json");
    std::fs::write(&path, serde_json::to_vec(&saved).unwrap()).unwrap();
    let (code, report, stderr) = replay(&path, &[]);
    assert_eq!(code, 0, "{stderr}");
    for id in ["postgres.create-table", "postgres.writability"] {
        assert_eq!(status(&report, id), "skip", "{id}");
    }
}

#[test]
fn a_stricter_matrix_never_turns_an_uncollected_fact_into_a_failure() {
    // The 0.1.0 file was saved under the built-in matrix, which requires no extension: whether
    // pgcrypto is available was never asked.
    let dir = tempfile::tempdir().unwrap();
    let m = matrix_file(
        dir.path(),
        "schema_version = 1\n[postgres]\nextensions = [\"pgcrypto\"]\n",
    );
    let (_, report, stderr) = replay(
        &release_0_1_0("postgres"),
        &["--matrix", m.to_str().unwrap()],
    );
    let f = crate::support::finding(&report, "postgres.extensions");
    assert_eq!(f["status"], "skip", "{f}\n{stderr}");
    assert!(
        f["message"].as_str().unwrap().contains("not collected"),
        "{f}"
    );

    // A live check under the same matrix asks, and the local server has it: pass.
    if require("local PostgreSQL", local_pg_up()).is_none() {
        return;
    }
    let (_, live, _, _) = check_json(&[&local_pg("test"), "--matrix", m.to_str().unwrap()]);
    assert_eq!(status(&live, "postgres.extensions"), "pass");
}

#[test]
fn a_facts_file_from_a_newer_build_is_refused_with_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let mut saved: serde_json::Value =
        serde_json::from_slice(&std::fs::read(release_0_1_0("sqlite")).unwrap()).unwrap();
    saved["facts_version"] = 99.into();
    saved["tool_version"] = "9.0.0".into();
    let path = dir.path().join("newer.json");
    std::fs::write(&path, serde_json::to_vec(&saved).unwrap()).unwrap();
    let out = bin().arg("replay").arg(&path).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("byod-precheck 9.0.0 in facts format 99")
            && stderr.contains("upgrade byod-precheck"),
        "{stderr}"
    );
}

#[test]
fn saved_facts_carry_their_format_version() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("v.db");
    let facts = dir.path().join("facts.json");
    let out = bin()
        .arg("check")
        .arg(format!("sqlite://{}?mode=rwc", db.display()))
        .arg("--save-facts")
        .arg(&facts)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let saved: serde_json::Value = serde_json::from_slice(&std::fs::read(&facts).unwrap()).unwrap();
    assert_eq!(saved["facts_version"], byod_precheck::run::FACTS_VERSION);
    assert_eq!(saved["tool_version"], env!("CARGO_PKG_VERSION"));
}
