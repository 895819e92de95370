//! Renders a [`Diff`] of two reports: a table for people, JSON for programs. Whether the result
//! is worse is decided in `crate::diff`, never here.

use crate::diff::{ChangeKind, Diff};
use crate::render::table::label;
use crate::status::Status;
use comfy_table::{ContentArrangement, Table, presets};
use std::io::{self, Write};

/// How a diff is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DiffFormat {
    /// A table for terminals.
    Table,
    /// The comparison as JSON (worse, server changes, check changes).
    Json,
}

fn status(s: Option<Status>) -> &'static str {
    s.map_or("—", label)
}

/// Writes a diff in a format.
pub fn render(d: &Diff, format: DiffFormat, out: &mut dyn Write) -> io::Result<()> {
    match format {
        DiffFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, d)?;
            writeln!(out)
        }
        DiffFormat::Table => table(d, out),
    }
}

fn table(d: &Diff, out: &mut dyn Write) -> io::Result<()> {
    let d = &crate::text::inert_copy(d);
    for (name, s) in [("Old", &d.old), ("New", &d.new)] {
        let sm = &s.summary;
        writeln!(
            out,
            "{name}: {} — {} — {} ({} pass, {} warn, {} fail, {} skip, {} error)",
            s.generated_at,
            s.server.as_deref().unwrap_or("server not reached"),
            label(sm.status),
            sm.pass,
            sm.warn,
            sm.fail,
            sm.skip,
            sm.error
        )?;
    }
    for c in &d.server {
        let what = match c.field.as_str() {
            "target" => "Target".to_string(),
            f => format!("Server {f}"),
        };
        writeln!(
            out,
            "{what} changed: {} → {}{}",
            c.old.as_deref().unwrap_or("—"),
            c.new.as_deref().unwrap_or("—"),
            if c.worse { "  (worse)" } else { "" }
        )?;
    }
    if let Some(sel) = &d.selection {
        writeln!(
            out,
            "Selection changed: the old report ran {}, the new one {}",
            sel.old, sel.new
        )?;
    }
    if !d.not_compared.is_empty() {
        writeln!(
            out,
            "Not compared ({}, left out by one report's selection): {}",
            d.not_compared.len(),
            d.not_compared.join(", ")
        )?;
    }
    if d.checks.is_empty() {
        writeln!(
            out,
            "\nNo check changed status ({} unchanged).",
            d.unchanged
        )?;
    } else {
        let mut t = Table::new();
        t.load_preset(presets::UTF8_HORIZONTAL_ONLY)
            .set_content_arrangement(ContentArrangement::Dynamic)
            .force_no_tty()
            .set_width(120);
        t.set_header(vec!["Change", "Check", "Old", "New", "Now"]);
        for c in &d.checks {
            let kind = match c.kind {
                ChangeKind::Added => "new",
                ChangeKind::Removed => "removed",
                ChangeKind::Changed if c.worse => "worse",
                ChangeKind::Changed if c.better => "better",
                ChangeKind::Changed => "changed",
            };
            t.add_row(vec![
                kind.to_string(),
                c.id.clone(),
                status(c.old).to_string(),
                status(c.new).to_string(),
                c.message.clone(),
            ]);
        }
        writeln!(out, "\n{t}")?;
        writeln!(
            out,
            "{} changed, {} unchanged.",
            d.checks.len(),
            d.unchanged
        )?;
    }
    writeln!(
        out,
        "Result: {}",
        if d.worse {
            "WORSE — something got worse"
        } else {
            "not worse"
        }
    )
}
