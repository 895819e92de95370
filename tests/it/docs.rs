//! The documentation users read is kept true by tests: `docs/checks.md` is generated from the
//! registry (stale: the test fails), and every example in `docs/matrix.md` loads, and every key
//! the matrix parser accepts is documented there.

use crate::support::*;

#[test]
fn docs_checks_catalogue_is_fresh() {
    let generated = byod_precheck::render::catalogue::markdown(
        &byod_precheck::engines::all_checks(),
        byod_precheck::engines::flavors,
    );
    let path = root().join("docs/checks.md");
    if std::env::var_os("UPDATE_DOCS").is_some() {
        // Regenerating in CI would make the check pass whatever was committed.
        assert!(!in_ci(), "UPDATE_DOCS is for a developer's machine, not CI");
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "docs/checks.md is stale: run `UPDATE_DOCS=1 cargo test docs_checks_catalogue_is_fresh` and commit it"
    );
}

fn matrix_doc() -> String {
    std::fs::read_to_string(root().join("docs/matrix.md")).unwrap()
}

#[test]
fn every_example_in_the_matrix_reference_loads() {
    let doc = matrix_doc();
    let mut examples = 0;
    for (i, block) in doc.split("```toml\n").skip(1).enumerate() {
        let text = block.split("```").next().unwrap();
        examples += 1;
        if let Err(e) =
            byod_precheck::Matrix::parse(text, &format!("docs/matrix.md example {}", i + 1))
        {
            panic!("{e}\n---\n{text}");
        }
    }
    assert!(examples >= 6, "{examples} examples");
}

/// The keys the parser accepts in a table, read from its own "unknown key" error, so a key added
/// to the code and not to the reference fails here.
fn accepted_keys(prefix: &str) -> Vec<String> {
    let text = format!("schema_version = 1\n{prefix}\nzz_not_a_key = 1\n");
    let e = byod_precheck::Matrix::parse(&text, "probe").expect_err("unknown key refused");
    let msg = e.to_string();
    let list = msg
        .split("unknown key `zz_not_a_key` (expected one of: ")
        .nth(1)
        .unwrap_or_else(|| panic!("{prefix}: {msg}"));
    list.split(')')
        .next()
        .unwrap()
        .split(", ")
        .map(str::to_string)
        .collect()
}

#[test]
fn every_key_the_matrix_parser_accepts_is_documented() {
    let doc = matrix_doc();
    let mut keys = Vec::new();
    for prefix in [
        "",
        "[app]",
        "[app.migrations]\ntool = \"alembic\"",
        "[postgres]",
        "[mysql]",
        "[mariadb]",
        "[mssql]",
        "[sqlite]",
        "[postgres.settings.x]\nmin = 1",
    ] {
        let found = accepted_keys(prefix);
        assert!(found.len() >= 2, "{prefix}: {found:?}");
        keys.extend(found);
    }
    let missing: Vec<_> = keys
        .iter()
        .filter(|k| !doc.contains(&format!("| `{k}` |")))
        .collect();
    assert!(
        missing.is_empty(),
        "keys not in docs/matrix.md's tables: {missing:?}"
    );
}
