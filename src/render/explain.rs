//! `explain`: a check's documentation from the registry (what it asks the server, why it
//! matters, how to fix it) and, given a report, what that report found for it.

use crate::registry::CheckInfo;
use crate::render::table::label;
use crate::report::Finding;
use std::io::{self, Write};

/// Text wrapped at `width` columns, each line indented by `indent` spaces.
fn wrap(text: &str, indent: usize, width: usize) -> String {
    let pad = " ".repeat(indent);
    let mut lines = Vec::new();
    for para in text.split('\n') {
        let mut line = String::new();
        for word in para.split_whitespace() {
            if !line.is_empty() && indent + line.chars().count() + 1 + word.chars().count() > width
            {
                lines.push(format!("{pad}{line}"));
                line.clear();
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        lines.push(format!("{pad}{line}"));
    }
    lines.join("\n")
}

/// Writes the explanation. `info` is absent when the report names a check this build does
/// not know (a newer tool wrote it); `finding` is present when a report was given.
pub fn render(
    info: Option<&CheckInfo>,
    finding: Option<&Finding>,
    out: &mut dyn Write,
) -> io::Result<()> {
    const WIDTH: usize = 100;
    if let Some(c) = info {
        writeln!(out, "{} — {}\n", c.id, c.title)?;
        writeln!(out, "Engine:   {}\nCategory: {}\n", c.engine, c.category)?;
        writeln!(
            out,
            "What it asks the server:\n{}\n",
            wrap(c.asks, 2, WIDTH)
        )?;
        writeln!(
            out,
            "Why it matters, and how to fix it:\n{}",
            wrap(c.doc, 2, WIDTH)
        )?;
    }
    if let Some(f) = finding {
        // A report's strings came from a server (or anyone who edited the file): inert.
        let f = &crate::text::inert_copy(f);
        if info.is_none() {
            writeln!(
                out,
                "{} — {}\n\n(this build does not know this check; shown from the report)",
                f.id, f.title
            )?;
        }
        writeln!(out, "\nIn this report: {}", label(f.status))?;
        writeln!(out, "{}", wrap(&f.message, 2, WIDTH))?;
        for (name, v) in [
            ("Observed", &f.observed),
            ("Expected", &f.expected),
            ("Fix", &f.remedy),
        ] {
            if let Some(v) = v {
                writeln!(out, "  {name}:\n{}", wrap(v, 4, WIDTH))?;
            }
        }
        if let Some(own) = f.severity_override {
            writeln!(
                out,
                "  The check itself said {}; the matrix's [severity] table made it {}.",
                label(own),
                label(f.status)
            )?;
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::wrap;

    #[test]
    fn wraps_words_under_the_width() {
        let w = wrap("aaa bbb ccc ddd", 2, 10);
        assert_eq!(w, "  aaa bbb\n  ccc ddd");
        assert!(w.lines().all(|l| l.len() <= 10));
    }
}
