//! The terminal table: a header with target, server and summary, one row per finding, then the
//! fixes for everything that did not pass.

use crate::report::Report;
use crate::status::Status;
use comfy_table::{Attribute, Cell, Color, ContentArrangement, Table, presets};
use std::io::{self, Write};

fn color_of(s: Status) -> Color {
    match s {
        Status::Pass => Color::Green,
        Status::Warn => Color::Yellow,
        Status::Fail => Color::Red,
        Status::Skip => Color::DarkGrey,
        Status::Error => Color::Magenta,
    }
}

/// The status label as shown in tables.
pub fn label(s: Status) -> &'static str {
    match s {
        Status::Pass => "PASS",
        Status::Warn => "WARN",
        Status::Fail => "FAIL",
        Status::Skip => "SKIP",
        Status::Error => "ERROR",
    }
}

/// Writes the table.
pub fn render(r: &Report, color: bool, out: &mut dyn Write) -> io::Result<()> {
    // Server strings escaped and cut before they reach the terminal (or comfy-table, whose
    // wrapping is slow on very long words).
    let r = &crate::text::inert_copy(r);
    let place = super::target_place(r);
    writeln!(out, "Target:  {place}")?;
    match &r.server {
        Some(s) => writeln!(
            out,
            "Server:  {} — {} {} ({})",
            s.product,
            s.flavor,
            s.version,
            s.version_raw.chars().take(90).collect::<String>()
        )?,
        None => writeln!(out, "Server:  not reached")?,
    }
    writeln!(
        out,
        "Matrix:  {} (sha256 {}…), end-of-life data of {}",
        r.matrix.source,
        r.matrix.sha256.get(..12).unwrap_or(""),
        r.eol_data_date
    )?;

    let mut table = Table::new();
    table
        .load_preset(presets::UTF8_HORIZONTAL_ONLY)
        .set_content_arrangement(ContentArrangement::Dynamic);
    if color {
        table.enforce_styling();
    } else {
        table.force_no_tty();
    }
    if let Ok((w, _)) = terminal_width() {
        table.set_width(w);
    } else {
        table.set_width(120);
    }
    table.set_header(vec!["Status", "Check", "Result", "Observed"]);
    for f in &r.checks {
        let mut status = Cell::new(label(f.status));
        if color {
            status = status.fg(color_of(f.status)).add_attribute(Attribute::Bold);
        }
        table.add_row(vec![
            status,
            Cell::new(&f.id),
            Cell::new(&f.message),
            Cell::new(f.observed.as_deref().unwrap_or("")),
        ]);
    }
    writeln!(out, "{table}")?;

    let fixes: Vec<_> = r
        .needs_attention()
        .into_iter()
        .filter(|f| f.remedy.is_some())
        .collect();
    if !fixes.is_empty() {
        writeln!(out, "\nHow to fix:")?;
        for f in fixes {
            writeln!(
                out,
                "  [{}] {}: {}",
                label(f.status),
                f.id,
                f.remedy.as_deref().unwrap_or("")
            )?;
        }
    }
    let s = &r.summary;
    writeln!(
        out,
        "\nResult: {} — {} pass, {} warn, {} fail, {} skip, {} error; {} queries in {} ms",
        label(s.status),
        s.pass,
        s.warn,
        s.fail,
        s.skip,
        s.error,
        r.queries,
        r.duration_ms
    )
}

fn terminal_width() -> Result<(u16, u16), ()> {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse::<u16>().ok())
        .map(|w| (w, 0))
        .ok_or(())
}
