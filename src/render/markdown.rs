//! Markdown, fit to paste into a ticket: the verdict and the server first, then what to fix
//! (worst first, each fix as code the client can copy), then every check in a folded table.

use crate::render::table::label;
use crate::render::{ATTENTION_ORDER, target_place};
use crate::report::Report;

use std::io::{self, Write};

/// Escapes prose so Markdown keeps it as written: emphasis, links and HTML tags stay literal.
/// Backticks are kept: messages use them for names (`postgres` is a superuser).
fn prose(s: &str) -> String {
    let s = crate::text::inert(s);
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    for (i, &c) in chars.iter().enumerate() {
        // An underscore inside a word (SQL_ASCII, x86_64) never starts emphasis: keep it bare.
        let in_word = |j: Option<usize>| {
            j.and_then(|j| chars.get(j))
                .is_some_and(|c| c.is_alphanumeric())
        };
        match c {
            '_' if in_word(i.checked_sub(1)) && in_word(Some(i + 1)) => out.push(c),
            '\\' | '*' | '_' | '[' | ']' | '<' | '|' => {
                out.push('\\');
                out.push(c);
            }
            '\n' => out.push(' '),
            _ => out.push(c),
        }
    }
    out
}

/// Escapes text for a table cell: prose, with line breaks as `<br>`.
fn cell(s: &str) -> String {
    s.split('\n').map(prose).collect::<Vec<_>>().join("<br>")
}

/// A code span inside a table cell: `|` escaped, which GFM requires even inside code.
fn cell_code(s: &str) -> String {
    code(s).replace('|', "\\|")
}

/// Text as an inline code span, with a fence longer than any run of backticks inside it.
fn code(s: &str) -> String {
    // `\r` and other controls are written out: a raw one would end the span in some viewers.
    let one_line = crate::text::inert(s).replace('\n', " ");
    let longest = one_line
        .split(|c| c != '`')
        .map(str::len)
        .max()
        .unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    let pad = if one_line.starts_with('`') || one_line.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{one_line}{pad}{fence}")
}

/// Writes the report as Markdown.
pub fn render(r: &Report, out: &mut dyn Write) -> io::Result<()> {
    let s = &r.summary;
    writeln!(out, "## Database precheck: {}", label(s.status))?;
    writeln!(out)?;
    writeln!(out, "- **Target**: {}", code(&target_place(r)))?;
    match &r.server {
        Some(sv) => {
            let mut line = format!("{} ({} {})", sv.product, sv.flavor, sv.version);
            if let Some(fv) = &sv.flavor_version {
                line.push_str(&format!(", {} {fv}", sv.flavor));
            }
            if let Some(os) = &sv.os {
                line.push_str(&format!(", on {os}"));
            }
            writeln!(out, "- **Server**: {}", prose(&line))?;
            writeln!(out, "- **Reports itself as**: {}", code(&sv.version_raw))?;
        }
        None => writeln!(out, "- **Server**: not reached (see the connection check)")?,
    }
    writeln!(
        out,
        "- **Summary**: {} fail, {} error, {} warn, {} pass, {} skip{}",
        s.fail,
        s.error,
        s.warn,
        s.pass,
        s.skip,
        s.not_run
            .as_ref()
            .map(|n| format!(" ({} not run: {})", n.count, prose(&n.reason)))
            .unwrap_or_default()
    )?;
    if let Some(at) = &r.replayed_at {
        writeln!(
            out,
            "- **Replay**: judged at {} from facts collected at {}; no server was reached",
            prose(at),
            prose(&r.generated_at)
        )?;
    }
    if let Some(sel) = &r.selection {
        writeln!(
            out,
            "- **Selection**: {} ({} checks left out)",
            code(&sel.describe()),
            sel.excluded.len()
        )?;
    }
    writeln!(
        out,
        "- **Matrix**: {} (sha256 {}), end-of-life data of {}",
        prose(&r.matrix.source),
        code(r.matrix.sha256.get(..12).unwrap_or(&r.matrix.sha256)),
        prose(&r.eol_data_date)
    )?;
    writeln!(
        out,
        "- **Generated**: {} by {} {} (report schema {})",
        prose(&r.generated_at),
        prose(&r.tool.name),
        prose(&r.tool.version),
        r.schema_version
    )?;

    let todo = r.needs_attention();
    if todo.is_empty() {
        writeln!(
            out,
            "\nNothing to fix: every check passed or does not apply."
        )?;
    } else {
        writeln!(out, "\n### To fix\n")?;
        for f in todo {
            writeln!(
                out,
                "- **{}** {}: {}",
                label(f.status),
                code(&f.id),
                prose(&f.message)
            )?;
            if let (Some(o), Some(e)) = (&f.observed, &f.expected) {
                writeln!(out, "  - Observed {}, expected {}", code(o), code(e))?;
            } else if let Some(o) = &f.observed {
                writeln!(out, "  - Observed {}", code(o))?;
            }
            if let Some(rem) = &f.remedy {
                writeln!(out, "  - Fix: {}", code(rem))?;
            }
        }
    }

    writeln!(
        out,
        "\n<details><summary>All {} checks</summary>\n",
        r.checks.len()
    )?;
    writeln!(out, "| Status | Check | Result | Observed | Expected |")?;
    writeln!(out, "|---|---|---|---|---|")?;
    let (shown, not_run) = r.shown_and_not_run();
    for st in ATTENTION_ORDER {
        for f in shown.iter().filter(|f| f.status == st) {
            writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                label(f.status),
                cell_code(&f.id),
                cell(&f.message),
                cell(f.observed.as_deref().unwrap_or("")),
                cell(f.expected.as_deref().unwrap_or(""))
            )?;
        }
    }
    if let Some(n) = not_run {
        writeln!(
            out,
            "| {} | {} checks | not run: {} |  |  |",
            label(crate::status::Status::Skip),
            n.count,
            cell(&n.reason)
        )?;
    }
    writeln!(out, "\n</details>")?;
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn prose_and_code_keep_text_literal() {
        assert_eq!(
            prose("a*b*_c_ <x> [l](u) |"),
            r"a\*b\*\_c\_ \<x> \[l\](u) \|"
        );
        assert_eq!(prose("SQL_ASCII on x86_64"), "SQL_ASCII on x86_64");
        assert_eq!(code("SELECT * FROM t"), "`SELECT * FROM t`");
        assert_eq!(code("a `b` c"), "``a `b` c``");
        assert_eq!(code("`x`"), "`` `x` ``");
    }
}
