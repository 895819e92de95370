//! Markdown, fit to paste into a ticket: the summary first, then what to fix, then every check.

use crate::render::table::label;
use crate::report::Report;
use crate::status::Status;
use std::io::{self, Write};

/// Escapes text for a Markdown table cell.
fn cell(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace('\n', "<br>")
}

/// Writes the report as Markdown.
pub fn render(r: &Report, out: &mut dyn Write) -> io::Result<()> {
    let s = &r.summary;
    writeln!(out, "## Database precheck: {}", label(s.status))?;
    writeln!(out)?;
    let t = &r.target;
    writeln!(
        out,
        "- **Target**: {} {}{}",
        t.engine,
        t.host.as_deref().or(t.path.as_deref()).unwrap_or(""),
        t.database
            .as_ref()
            .map(|d| format!(" / {d}"))
            .unwrap_or_default()
    )?;
    if let Some(sv) = &r.server {
        writeln!(
            out,
            "- **Server**: {} ({} {})",
            sv.product, sv.flavor, sv.version
        )?;
    }
    writeln!(
        out,
        "- **Summary**: {} pass, {} warn, {} fail, {} skip, {} error",
        s.pass, s.warn, s.fail, s.skip, s.error
    )?;
    writeln!(
        out,
        "- **Generated**: {} by {} {}",
        r.generated_at, r.tool.name, r.tool.version
    )?;
    let todo: Vec<_> = r
        .checks
        .iter()
        .filter(|f| matches!(f.status, Status::Fail | Status::Error | Status::Warn))
        .collect();
    if !todo.is_empty() {
        writeln!(out, "\n### To fix\n")?;
        for f in todo {
            writeln!(out, "- **{}** `{}`: {}", label(f.status), f.id, f.message)?;
            if let Some(rem) = &f.remedy {
                writeln!(out, "  - Fix: {rem}")?;
            }
        }
    }
    writeln!(out, "\n### All checks\n")?;
    writeln!(out, "| Status | Check | Result | Observed | Expected |")?;
    writeln!(out, "|---|---|---|---|---|")?;
    for f in &r.checks {
        writeln!(
            out,
            "| {} | `{}` | {} | {} | {} |",
            label(f.status),
            f.id,
            cell(&f.message),
            cell(f.observed.as_deref().unwrap_or("")),
            cell(f.expected.as_deref().unwrap_or(""))
        )?;
    }
    Ok(())
}
