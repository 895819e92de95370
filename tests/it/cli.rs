//! CLI tests: the binary as a user runs it, with SQLite (no server needed) and bad input.

use crate::support::*;
use predicates::prelude::*;

#[test]
fn report_schema_is_fresh() {
    let generated = serde_json::to_string_pretty(&byod_precheck::report::json_schema()).unwrap() + "\n";
    let path = root().join("reports/report.schema.json");
    if std::env::var_os("UPDATE_SCHEMA").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "reports/report.schema.json is stale: run `UPDATE_SCHEMA=1 cargo test report_schema_is_fresh` and commit it"
    );
}
