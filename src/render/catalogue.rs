//! The check catalogue as Markdown (`docs/checks.md`), generated from the registries so the
//! documentation cannot drift from the code; a test fails when the committed file is stale.

use crate::engine::Engine;
use crate::registry::CheckInfo;
use std::fmt::Write;

/// The whole catalogue: per engine, in registry (= report) order, each check's id, category,
/// title, why it matters and what it asks the server.
/// `flavors` names each engine's flavors (the names the matrix's `flavors` and the report's
/// `server.flavor` use).
pub fn markdown(checks: &[CheckInfo], flavors: fn(Engine) -> &'static [&'static str]) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# Check catalogue\n");
    let _ = writeln!(
        s,
        "Generated from the registry by `UPDATE_DOCS=1 cargo test docs_checks_catalogue_is_fresh`: do not edit by hand.\n\
         The same text is printed by `byod-precheck checks` (the list) and `byod-precheck explain ID` (one check). \
         Ids are stable across releases; the order is the report's order.\n"
    );
    for engine in Engine::ALL {
        let list: Vec<&CheckInfo> = checks.iter().filter(|c| c.engine == engine).collect();
        if list.is_empty() {
            continue;
        }
        let _ = writeln!(s, "- [{engine}](#{engine}): {} checks", list.len());
    }
    let _ = writeln!(
        s,
        "- [flavors](#flavors): the names of compatible engines and managed services"
    );
    let _ = writeln!(s, "\n## flavors\n");
    let _ = writeln!(
        s,
        "What `server.flavor` in a report, and `flavors = [...]` in the matrix, name.\n"
    );
    let _ = writeln!(s, "| engine | flavors |\n|---|---|");
    for engine in Engine::ALL {
        let names: Vec<String> = flavors(engine).iter().map(|f| format!("`{f}`")).collect();
        let _ = writeln!(s, "| {engine} | {} |", names.join(", "));
    }
    for engine in Engine::ALL {
        let list: Vec<&CheckInfo> = checks.iter().filter(|c| c.engine == engine).collect();
        if list.is_empty() {
            continue;
        }
        let _ = writeln!(s, "\n## {engine}\n");
        let _ = writeln!(s, "| id | category | title |\n|---|---|---|");
        for c in &list {
            let _ = writeln!(s, "| `{}` | {} | {} |", c.id, c.category, cell(c.title));
        }
        for c in &list {
            let _ = writeln!(s, "\n### `{}`\n", c.id);
            let _ = writeln!(s, "{} ({}).\n", c.title, c.category);
            let _ = writeln!(s, "{}\n", c.doc.trim());
            let _ = writeln!(s, "Asks the server: {}", c.asks.trim());
        }
    }
    s
}

/// Text for a table cell: no line break, no column separator.
fn cell(s: &str) -> String {
    s.replace('\n', " ").replace('|', "\\|")
}
