//! One self-contained HTML page for a report: no external asset, so it works offline and as an
//! e-mail attachment. The summary and the server identity come first, then what needs attention
//! with its fix, then every finding grouped by category (worst first) with status filters. The
//! page only formats the report: statuses and counts are read from it, never recomputed.

use crate::registry::Category;
use crate::render::table::label;
use crate::render::{ATTENTION_ORDER, attention, target_place};
use crate::report::{Finding, Report};
use crate::status::Status;

use html_escape::{encode_double_quoted_attribute as attr, encode_text as text};
use std::io::{self, Write};

const STYLE: &str = r#"
:root{--pass:#1a7f37;--warn:#9a6700;--fail:#cf222e;--error:#8250df;--skip:#6e7781;
--pass-bg:#dafbe1;--warn-bg:#fff8c5;--fail-bg:#ffebe9;--error-bg:#fbefff;--skip-bg:#f6f8fa;
--fg:#1f2328;--muted:#59636e;--line:#d1d9e0}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:var(--fg);margin:0 auto;max-width:1100px;padding:16px 20px 40px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:24px 0 8px;border-bottom:1px solid var(--line);padding-bottom:4px}
h3{font-size:15px;margin:18px 0 6px;text-transform:capitalize}
code,pre{font:12.5px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
pre{white-space:pre-wrap;word-break:break-word;margin:0}
.badge{display:inline-block;border-radius:4px;padding:1px 7px;font-weight:700;font-size:12px;color:#fff;min-width:52px;text-align:center}
.pass{--c:var(--pass);--b:var(--pass-bg)}.warn{--c:var(--warn);--b:var(--warn-bg)}.fail{--c:var(--fail);--b:var(--fail-bg)}
.error{--c:var(--error);--b:var(--error-bg)}.skip{--c:var(--skip);--b:var(--skip-bg)}
.badge{background:var(--c)}
header.verdict{border-left:8px solid var(--c);background:var(--b);padding:12px 16px;border-radius:6px}
header .sub{color:var(--muted)}
table.ident{border-collapse:collapse;margin-top:10px;width:100%}
table.ident th{text-align:left;font-weight:600;padding:2px 12px 2px 0;white-space:nowrap;vertical-align:top;width:1%}
table.ident td{padding:2px 0;word-break:break-word}
.counts{display:flex;gap:8px;flex-wrap:wrap;margin:14px 0 4px}
.count{border:1px solid var(--line);border-top:4px solid var(--c);border-radius:6px;padding:6px 14px;min-width:90px}
.count b{font-size:22px;display:block;color:var(--c)}
.filters{margin:12px 0;display:flex;gap:14px;flex-wrap:wrap;align-items:center}
.filters label{cursor:pointer;user-select:none}
ol.attention{padding-left:20px}ol.attention li{margin:4px 0}
.finding{border:1px solid var(--line);border-left:6px solid var(--c);border-radius:6px;padding:8px 12px;margin:8px 0;break-inside:avoid}
.finding.pass,.finding.skip{padding:5px 12px}
.finding .head{display:flex;gap:10px;align-items:baseline;flex-wrap:wrap}
.finding .title{font-weight:600}
.finding .id{color:var(--muted)}
.finding .msg{margin:4px 0}
.finding dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:6px 0 0}
.finding dt{font-weight:600;color:var(--muted)}.finding dd{margin:0;word-break:break-word}
.finding dd.remedy pre{background:var(--b);border-radius:4px;padding:4px 8px}
.note{color:var(--muted);font-size:12.5px}
.hidden{display:none}
footer{margin-top:28px;color:var(--muted);font-size:12px}
@media print{body{max-width:none;padding:0;font-size:11px}.filters,.filters.hidden{display:none}
.finding{break-inside:avoid}
*{-webkit-print-color-adjust:exact;print-color-adjust:exact}}
"#;

/// Shows and hides findings by status; the page is complete without it (e-mail viewers).
const SCRIPT: &str = r#"
(function(){
var boxes=document.querySelectorAll('.filters input[data-filter]');
function apply(){
var on={};boxes.forEach(function(b){on[b.dataset.filter]=b.checked;});
document.querySelectorAll('#all .finding[data-status]').forEach(function(f){f.classList.toggle('hidden',!on[f.dataset.status]);});
document.querySelectorAll('section.category').forEach(function(s){
s.classList.toggle('hidden',!s.querySelector('.finding:not(.hidden)'));});
document.getElementById('shown').textContent=String(document.querySelectorAll('#all .finding:not(.hidden)').length);
}
function only(list){boxes.forEach(function(b){b.checked=list.indexOf(b.dataset.filter)>=0;});apply();}
boxes.forEach(function(b){b.addEventListener('change',apply);});
document.getElementById('filter-all').addEventListener('click',function(){only(['fail','error','warn','pass','skip']);});
document.getElementById('filter-problems').addEventListener('click',function(){only(['fail','error','warn']);});
document.querySelector('.filters').classList.remove('hidden');
// A link to the page can open it filtered: report.html#problems
if(location.hash==='#problems'){only(['fail','error','warn']);}else{apply();}
document.body.dataset.ready='1';
})();
"#;

/// Writes the report as one HTML page.
pub fn render(r: &Report, out: &mut dyn Write) -> io::Result<()> {
    let s = &r.summary;
    let place = target_place(r);
    writeln!(out, "<!DOCTYPE html>")?;
    writeln!(out, "<html lang=\"en\"><head><meta charset=\"utf-8\">")?;
    writeln!(
        out,
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
    )?;
    writeln!(
        out,
        "<title>Database precheck: {} — {}</title>",
        label(s.status),
        text(&place)
    )?;
    writeln!(out, "<style>{STYLE}</style></head>")?;
    writeln!(
        out,
        "<body data-status=\"{}\" data-schema-version=\"{}\">",
        s.status, r.schema_version
    )?;

    // The verdict and who answered.
    writeln!(out, "<header class=\"verdict {}\">", s.status)?;
    writeln!(
        out,
        "<h1><span class=\"badge\" id=\"overall\">{}</span> Database precheck of {}</h1>",
        label(s.status),
        text(&place)
    )?;
    let work = match &r.replayed_at {
        Some(at) => format!(
            "replayed at {at} from facts collected at {}",
            r.generated_at
        ),
        None => format!(
            "{} queries in {} ms, {}",
            r.queries, r.duration_ms, r.generated_at
        ),
    };
    writeln!(
        out,
        "<div class=\"sub\">{} pass, {} warn, {} fail, {} skip{}, {} error — {}</div>",
        s.pass,
        s.warn,
        s.fail,
        s.skip,
        s.not_run
            .as_ref()
            .map(|n| format!(" ({} not run)", n.count))
            .unwrap_or_default(),
        s.error,
        text(&work)
    )?;
    writeln!(out, "<table class=\"ident\">")?;
    row(out, "Target", &place)?;
    match &r.server {
        Some(sv) => {
            let mut product = format!("{} — {} {}", sv.product, sv.flavor, sv.version);
            if let Some(fv) = &sv.flavor_version {
                product.push_str(&format!(" ({} {fv})", sv.flavor));
            }
            row(out, "Server", &product)?;
            row(out, "Reports itself as", &sv.version_raw)?;
            if let Some(os) = &sv.os {
                row(out, "Platform", os)?;
            }
        }
        None => row(out, "Server", "not reached (see the connection check)")?,
    }
    row(
        out,
        "Matrix",
        &format!(
            "{} (sha256 {}), end-of-life data of {}",
            r.matrix.source, r.matrix.sha256, r.eol_data_date
        ),
    )?;
    row(
        out,
        "Generated",
        &format!(
            "{} by {} {} (report schema {})",
            r.generated_at, r.tool.name, r.tool.version, r.schema_version
        ),
    )?;
    writeln!(out, "</table></header>")?;

    // Counts, one per status, with ids the browser test reads.
    writeln!(out, "<div class=\"counts\">")?;
    for st in ATTENTION_ORDER {
        writeln!(
            out,
            "<div class=\"count {st}\"><b id=\"count-{st}\">{}</b>{}</div>",
            s.count(st),
            label(st)
        )?;
    }
    writeln!(out, "</div>")?;

    // What to tell the client: everything that is not a pass, worst first, with its fix.
    let todo = r.needs_attention();
    writeln!(out, "<section id=\"attention\"><h2>Needs attention</h2>")?;
    if todo.is_empty() {
        writeln!(out, "<p>Nothing: every check passed or does not apply.</p>")?;
    } else {
        writeln!(out, "<ol class=\"attention\">")?;
        for f in &todo {
            writeln!(
                out,
                "<li class=\"{st}\"><span class=\"badge\">{}</span> <a href=\"#{}\"><code>{}</code></a> {}{}</li>",
                label(f.status),
                attr(&anchor(&f.id)),
                text(&f.id),
                text(&f.message),
                f.remedy
                    .as_deref()
                    .map(|rem| format!(
                        "<br><span class=\"note\">Fix:</span> <code>{}</code>",
                        text(rem)
                    ))
                    .unwrap_or_default(),
                st = f.status
            )?;
        }
        writeln!(out, "</ol>")?;
    }
    writeln!(out, "</section>")?;

    // Every finding, grouped by category; the worst categories and findings first.
    writeln!(out, "<section id=\"all\"><h2>All checks</h2>")?;
    writeln!(
        out,
        "<div class=\"filters hidden\" role=\"group\" aria-label=\"Show statuses\">"
    )?;
    writeln!(out, "<span>Show:</span>")?;
    for st in ATTENTION_ORDER {
        writeln!(
            out,
            "<label class=\"{st}\"><input type=\"checkbox\" data-filter=\"{st}\" id=\"filter-{st}\" checked> <span class=\"badge\">{}</span> {}</label>",
            label(st),
            s.count(st)
        )?;
    }
    let (shown, not_run) = r.shown_and_not_run();
    writeln!(
        out,
        "<button type=\"button\" id=\"filter-problems\">Problems only</button> <button type=\"button\" id=\"filter-all\">All</button> <span class=\"note\"><span id=\"shown\">{}</span> shown</span>",
        shown.len() + usize::from(not_run.is_some())
    )?;
    writeln!(out, "</div>")?;
    for (category, findings) in by_category(shown.iter().copied()) {
        writeln!(
            out,
            "<section class=\"category\" id=\"category-{category}\"><h3>{category}</h3>"
        )?;
        for f in findings {
            finding(out, f)?;
        }
        writeln!(out, "</section>")?;
    }
    if let Some(n) = not_run {
        // The checks a failed connection left unrun: one card, their ids folded inside it.
        let ids: Vec<&str> = r
            .checks
            .iter()
            .filter(|f| !shown.iter().any(|s| s.id == f.id))
            .map(|f| f.id.as_str())
            .collect();
        writeln!(
            out,
            "<section class=\"category\" id=\"category-not-run\"><h3>not run</h3>"
        )?;
        writeln!(
            out,
            "<article class=\"finding skip\" data-status=\"skip\" id=\"not-run\"><div class=\"head\"><span class=\"badge\">{}</span><span class=\"title\">{} checks not run</span></div><div class=\"msg\">{}</div><details><summary>Which</summary><pre>{}</pre></details></article>",
            label(Status::Skip),
            n.count,
            text(&n.reason),
            text(&ids.join("\n"))
        )?;
        writeln!(out, "</section>")?;
    }
    writeln!(out, "</section>")?;
    writeln!(
        out,
        "<footer>{} {} — report schema {}. This page is self-contained: it loads nothing from the network.</footer>",
        text(&r.tool.name),
        text(&r.tool.version),
        r.schema_version
    )?;
    writeln!(out, "<script>{SCRIPT}</script>")?;
    writeln!(out, "</body></html>")
}

/// One labelled row of the identity table.
fn row(out: &mut dyn Write, name: &str, value: &str) -> io::Result<()> {
    writeln!(
        out,
        "<tr><th>{}</th><td>{}</td></tr>",
        text(name),
        text(value)
    )
}

/// One finding as a card.
fn finding(out: &mut dyn Write, f: &Finding) -> io::Result<()> {
    writeln!(
        out,
        "<article class=\"finding {st}\" data-status=\"{st}\" id=\"{}\">",
        attr(&anchor(&f.id)),
        st = f.status
    )?;
    writeln!(
        out,
        "<div class=\"head\"><span class=\"badge\">{}</span><span class=\"title\">{}</span><code class=\"id\">{}</code></div>",
        label(f.status),
        text(&f.title),
        text(&f.id)
    )?;
    writeln!(out, "<div class=\"msg\">{}</div>", text(&f.message))?;
    let fields = [
        ("Observed", f.observed.as_deref(), ""),
        ("Expected", f.expected.as_deref(), ""),
        ("Fix", f.remedy.as_deref(), " class=\"remedy\""),
    ];
    if fields.iter().any(|(_, v, _)| v.is_some()) {
        writeln!(out, "<dl>")?;
        for (name, value, class) in fields {
            if let Some(v) = value {
                writeln!(out, "<dt>{name}</dt><dd{class}><pre>{}</pre></dd>", text(v))?;
            }
        }
        writeln!(out, "</dl>")?;
    }
    if let Some(own) = f.severity_override {
        writeln!(
            out,
            "<div class=\"note\">The check itself said {}; the matrix's [severity] table made it {}.</div>",
            label(own),
            label(f.status)
        )?;
    }
    writeln!(out, "</article>")
}

/// Findings grouped by category: categories with the worst finding first (then in catalogue
/// order), and within each the worst findings first (then in report order).
fn by_category<'a>(
    checks: impl IntoIterator<Item = &'a Finding>,
) -> Vec<(Category, Vec<&'a Finding>)> {
    let mut groups: Vec<(Category, Vec<&Finding>)> = Vec::new();
    for f in checks {
        match groups.iter_mut().find(|(c, _)| *c == f.category) {
            Some((_, v)) => v.push(f),
            None => groups.push((f.category, vec![f])),
        }
    }
    for (_, v) in &mut groups {
        v.sort_by_key(|f| attention(f.status));
    }
    groups.sort_by_key(|(c, v)| (v.first().map_or(0, |f| attention(f.status)), *c));
    groups
}

/// The element id of a finding's card.
fn anchor(id: &str) -> String {
    format!("check-{id}")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::report::Summary;
    use crate::status::Status;

    fn sample() -> Report {
        let text = include_str!("../../reports/examples/postgres-15-restricted.json");
        Report::from_json(text.as_bytes()).expect("example loads")
    }

    fn html(r: &Report) -> String {
        let mut buf = Vec::new();
        render(r, &mut buf).expect("render");
        String::from_utf8(buf).expect("utf-8")
    }

    #[test]
    fn counts_come_from_the_summary() {
        let r = sample();
        let page = html(&r);
        for st in Status::ALL {
            assert!(
                page.contains(&format!("id=\"count-{st}\">{}<", r.summary.count(st))),
                "count of {st}"
            );
        }
        let cards = page.matches("<article class=\"finding").count();
        assert_eq!(cards, r.checks.len());
    }

    #[test]
    fn every_report_string_is_escaped() {
        let mut r = sample();
        r.checks[0].message = "<script>alert(1)</script> & \"quoted\"".into();
        r.checks[0].id = "postgres.\"><img src=x>".into();
        r.target.host = Some("<b>host</b>".into());
        r.summary = Summary::of(&r.checks);
        let page = html(&r);
        assert!(!page.contains("<script>alert"), "message not escaped");
        assert!(!page.contains("<img"), "id not escaped");
        assert!(!page.contains("<b>host"), "host not escaped");
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp;"));
    }

    #[test]
    fn failing_checks_come_first() {
        let page = html(&sample());
        let all = &page[page.find("id=\"all\"").expect("all section")..];
        let first_fail = all.find("data-status=\"fail\"").expect("a fail");
        let first_pass = all.find("data-status=\"pass\"").expect("a pass");
        assert!(first_fail < first_pass);
        // Nothing is loaded from anywhere: no src, no link, no remote href.
        assert!(
            !page.contains(" src=") && !page.contains("<link") && !page.contains("href=\"http")
        );
    }
}
