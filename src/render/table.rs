//! The terminal table: a header with target, server and summary, one row per finding, then the
//! fixes for everything that did not pass.

use crate::report::Report;
use crate::status::Status;
use comfy_table::{
    Attribute, Cell, Color, ColumnConstraint, ContentArrangement, Table, Width, presets,
};
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

/// Writes the table, sized to the terminal (see [`width`]).
pub fn render(r: &Report, color: bool, out: &mut dyn Write) -> io::Result<()> {
    let width = width();
    // Server strings escaped and cut before they reach the terminal (or comfy-table, whose
    // wrapping is slow on very long words).
    let r = &crate::text::inert_copy(r);
    let place = super::target_place(r);
    writeln!(out, "Target:  {place}")?;
    match &r.server {
        Some(s) => {
            let head = format!("Server:  {} — {} {}", s.product, s.flavor, s.version);
            let line = format!("{head} ({})", s.version_raw);
            if line.chars().count() <= usize::from(width) {
                writeln!(out, "{line}")?
            } else {
                // The server's own words on a line of their own, cut at a word outside any
                // parenthesis when even that is too long.
                let room = usize::from(width).saturating_sub(9).max(40);
                writeln!(out, "{head}\n         {}", shorten(&s.version_raw, room))?
            }
        }
        None => writeln!(out, "Server:  not reached")?,
    }
    writeln!(
        out,
        "Matrix:  {} (sha256 {}…), end-of-life data of {}",
        r.matrix.source,
        r.matrix.sha256.get(..12).unwrap_or(""),
        r.eol_data_date
    )?;
    if let Some(at) = &r.replayed_at {
        writeln!(
            out,
            "Replay:  judged at {at} from facts collected at {}; no server was reached",
            r.generated_at
        )?;
    }
    if let Some(sel) = &r.selection {
        writeln!(
            out,
            "Checks:  {} ({} left out)",
            sel.describe(),
            sel.excluded.len()
        )?;
    }

    let (shown, not_run) = r.shown_and_not_run();
    // Below 100 columns the Observed column would leave each cell a few characters wide: the
    // observed value goes under the result instead.
    let narrow = width < 100;
    let mut table = Table::new();
    table
        .load_preset(presets::UTF8_HORIZONTAL_ONLY)
        .set_content_arrangement(ContentArrangement::Dynamic);
    if color {
        table.enforce_styling();
    } else {
        table.force_no_tty();
    }
    table.set_width(width);
    if narrow {
        table.set_header(vec!["Status", "Check and result"]);
    } else {
        table.set_header(vec!["Status", "Check", "Result", "Observed"]);
    }
    for f in &shown {
        let mut status = Cell::new(label(f.status));
        if color {
            status = status.fg(color_of(f.status)).add_attribute(Attribute::Bold);
        }
        let observed = f.observed.as_deref().unwrap_or("");
        if narrow {
            // The id on a line of its own, so the message has the width of the table.
            let mut text = format!("{}\n{}", f.id, f.message);
            if !observed.is_empty() {
                text.push_str(&format!("\nobserved: {observed}"));
            }
            table.add_row(vec![status, Cell::new(text)]);
        } else {
            table.add_row(vec![
                status,
                Cell::new(&f.id),
                Cell::new(&f.message),
                Cell::new(observed),
            ]);
        }
    }
    if let Some(n) = not_run {
        let mut status = Cell::new(label(Status::Skip));
        if color {
            status = status.fg(color_of(Status::Skip));
        }
        let (count, why) = (
            format!("{} checks", n.count),
            format!("not run: {}", n.reason),
        );
        if narrow {
            table.add_row(vec![status, Cell::new(format!("{count}\n{why}"))]);
        } else {
            table.add_row(vec![status, Cell::new(count), Cell::new(why)]);
        }
    }
    // A check id is never split: wide, its column is as wide as the longest id shown; narrow,
    // the id has a line of its own in a cell as wide as the table allows (a lower boundary
    // there makes comfy-table shrink the cell to it).
    if !narrow {
        let id_width = shown
            .iter()
            .map(|f| f.id.chars().count())
            .max()
            .unwrap_or(5);
        // comfy-table's widths include the cell's padding, one space each side.
        if let Some(c) = table.column_mut(1) {
            c.set_constraint(ColumnConstraint::LowerBoundary(Width::Fixed(
                u16::try_from(id_width + 2).unwrap_or(u16::MAX),
            )));
        }
        if let Some(c) = table.column_mut(0) {
            c.set_constraint(ColumnConstraint::LowerBoundary(Width::Fixed(8)));
        }
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
    let not_run = s
        .not_run
        .as_ref()
        .map(|n| format!(" ({} not run: {})", n.count, n.reason))
        .unwrap_or_default();
    let work = match &r.replayed_at {
        Some(_) => format!("replayed from facts collected at {}", r.generated_at),
        None => format!("{} queries in {} ms", r.queries, r.duration_ms),
    };
    writeln!(
        out,
        "\nResult: {} — {} pass, {} warn, {} fail, {} skip{not_run}, {} error; {work}",
        label(s.status),
        s.pass,
        s.warn,
        s.fail,
        s.skip,
        s.error,
    )
}

/// The table's width: `COLUMNS` when set (scripts and tests pin it), else the terminal's when
/// standard output is one, else 120 (a file or a pipe: wide enough for every id and a message).
pub fn width() -> u16 {
    if let Some(w) = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<u16>().ok())
        .filter(|w| *w >= 20)
    {
        return w;
    }
    match terminal_size::terminal_size_of(std::io::stdout()) {
        Some((terminal_size::Width(w), _)) if w >= 20 => w,
        _ => 120,
    }
}

/// Text cut to at most `max` characters at a space outside any parenthesis, with `…` after it,
/// so the cut never leaves an unbalanced `(`; text that fits, or offers no such space, is kept
/// whole.
pub fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut depth = 0i32;
    let mut cut = None;
    for (n, (i, c)) in text.char_indices().enumerate() {
        if n >= max {
            break;
        }
        match c {
            '(' | '[' => depth += 1,
            ')' | ']' => depth -= 1,
            ' ' if depth == 0 => cut = Some(i),
            _ => {}
        }
    }
    match cut {
        Some(i) => format!("{} …", text[..i].trim_end_matches([',', ';', ' '])),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shortening_never_cuts_inside_a_parenthesis() {
        let raw = "PostgreSQL 15.14 (Debian 15.14-0+deb12u1) on x86_64-pc-linux-gnu, compiled by gcc (Debian 12.2.0-14) 12.2.0, 64-bit";
        assert_eq!(
            shorten(raw, 90),
            "PostgreSQL 15.14 (Debian 15.14-0+deb12u1) on x86_64-pc-linux-gnu, compiled by gcc …"
        );
        assert_eq!(shorten(raw, 500), raw);
        assert_eq!(shorten("PostgreSQL 15.14 (Debian", 12), "PostgreSQL …");
    }
}
