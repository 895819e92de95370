//! The summary of a fleet run (`check --targets`): one row per target, then the targets that
//! could not be checked with why, then the totals. Formats only; the counts are the summary's.

use crate::fleet::FleetSummary;
use crate::render::table::label;
use comfy_table::{Table, presets};
use std::io::{self, Write};

/// The summary as a table.
pub fn render(s: &FleetSummary, out: &mut dyn Write) -> io::Result<()> {
    let s = &crate::text::inert_copy(s);
    let mut t = Table::new();
    t.load_preset(presets::UTF8_HORIZONTAL_ONLY).force_no_tty();
    t.set_header(vec![
        "Target", "Engine", "Server", "Status", "Pass", "Warn", "Fail", "Skip", "Error", "ms",
    ]);
    for e in &s.entries {
        t.add_row(vec![
            e.name.clone(),
            e.engine.map(|e| e.name().to_string()).unwrap_or_default(),
            e.server.clone().unwrap_or_default(),
            label(e.status).to_string(),
            e.counts.pass.to_string(),
            e.counts.warn.to_string(),
            e.counts.fail.to_string(),
            e.counts.skip.to_string(),
            e.counts.error.to_string(),
            e.duration_ms.to_string(),
        ]);
    }
    writeln!(out, "{t}")?;
    let why: Vec<_> = s
        .entries
        .iter()
        .filter_map(|e| e.error.as_deref().or(e.reason.as_deref()).map(|w| (e, w)))
        .collect();
    if !why.is_empty() {
        writeln!(out, "Why:")?;
    }
    for (e, why) in why {
        if why.contains(&e.target) {
            writeln!(out, "  {}: {why}", e.name)?;
        } else {
            writeln!(out, "  {}: {why} ({})", e.name, e.target)?;
        }
    }
    let n = &s.targets;
    writeln!(
        out,
        "{} targets in {} ms: {} pass, {} warn, {} fail, {} skip, {} error; {} queries",
        s.entries.len(),
        s.duration_ms,
        n.pass,
        n.warn,
        n.fail,
        n.skip,
        n.error,
        s.queries
    )
}
