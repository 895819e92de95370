//! JUnit XML, so a CI pipeline that gates on database readiness shows each check as a test case:
//! one `<testsuite>` per report, one `<testcase classname="{engine}.{category}" name="{id}">` per
//! finding. `fail` is a `<failure>` with the fix in its body, `error` an `<error>`, `skip` a
//! `<skipped/>`; `warn` passes with its message in `<system-out>`. Counts are the report's.

use crate::report::{Finding, Report};
use crate::status::Status;
use std::io::{self, Write};

/// Removes characters XML 1.0 cannot carry at all (control characters other than tab and
/// newlines), which a server's message could contain.
fn xml_chars(s: &str) -> String {
    s.chars()
        .filter(|&c| matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..))
        .collect()
}

/// Escapes element text.
fn text(s: &str) -> String {
    html_escape::encode_text(&xml_chars(s)).into_owned()
}

/// Escapes a double-quoted attribute value; line breaks are kept as character references,
/// because a parser would otherwise normalise them to spaces.
fn attr(s: &str) -> String {
    html_escape::encode_double_quoted_attribute(&xml_chars(s))
        .replace('\n', "&#10;")
        .replace('\r', "&#13;")
        .replace('\t', "&#9;")
}

/// Seconds with millisecond precision, as JUnit's `time` attributes want.
fn seconds(ms: u64) -> String {
    format!("{}.{:03}", ms / 1000, ms % 1000)
}

/// Writes the report as a JUnit XML document.
pub fn render(r: &Report, out: &mut dyn Write) -> io::Result<()> {
    let s = &r.summary;
    let t = &r.target;
    let suite = format!(
        "{} {}",
        t.engine,
        t.host
            .as_deref()
            .or(t.path.as_deref())
            .map(|h| match &t.database {
                Some(d) => format!("{h}/{d}"),
                None => h.to_string(),
            })
            .unwrap_or_default()
    );
    let tests = r.checks.len();
    writeln!(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>")?;
    writeln!(
        out,
        "<testsuites name=\"{}\" tests=\"{tests}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{}\">",
        attr(&r.tool.name),
        s.fail,
        s.error,
        s.skip,
        seconds(r.duration_ms)
    )?;
    writeln!(
        out,
        "  <testsuite name=\"{}\" tests=\"{tests}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{}\" timestamp=\"{}\">",
        attr(suite.trim()),
        s.fail,
        s.error,
        s.skip,
        seconds(r.duration_ms),
        attr(&r.generated_at)
    )?;
    writeln!(out, "    <properties>")?;
    let mut props: Vec<(&str, String)> = vec![
        ("overall_status", s.status.to_string()),
        ("tool", format!("{} {}", r.tool.name, r.tool.version)),
        ("schema_version", r.schema_version.to_string()),
        (
            "matrix",
            format!("{} sha256:{}", r.matrix.source, r.matrix.sha256),
        ),
        ("eol_data_date", r.eol_data_date.clone()),
    ];
    if let Some(sv) = &r.server {
        props.push(("server.product", sv.product.clone()));
        props.push(("server.flavor", sv.flavor.clone()));
        props.push(("server.version", sv.version.clone()));
        props.push(("server.version_raw", sv.version_raw.clone()));
    }
    // Each check stays a test case (CI tools count them); the fold is a property here.
    if let Some(n) = &s.not_run {
        props.push(("not_run", format!("{} checks: {}", n.count, n.reason)));
    }
    if let Some(sel) = &r.selection {
        props.push(("selection", sel.describe()));
    }
    if let Some(at) = &r.replayed_at {
        props.push(("replayed_at", at.clone()));
    }
    for (name, value) in props {
        writeln!(
            out,
            "      <property name=\"{}\" value=\"{}\"/>",
            attr(name),
            attr(&value)
        )?;
    }
    writeln!(out, "    </properties>")?;
    for f in &r.checks {
        testcase(out, r, f)?;
    }
    writeln!(out, "  </testsuite>")?;
    writeln!(out, "</testsuites>")
}

/// The details of a finding, one per line, for an element body.
fn details(f: &Finding) -> String {
    let mut lines = vec![f.message.clone()];
    for (name, v) in [
        ("Observed", &f.observed),
        ("Expected", &f.expected),
        ("Fix", &f.remedy),
    ] {
        if let Some(v) = v {
            lines.push(format!("{name}: {v}"));
        }
    }
    if let Some(own) = f.severity_override {
        lines.push(format!(
            "The check itself said {own}; the matrix's [severity] table made it {}.",
            f.status
        ));
    }
    lines.join("\n")
}

fn testcase(out: &mut dyn Write, r: &Report, f: &Finding) -> io::Result<()> {
    let open = format!(
        "    <testcase classname=\"{}.{}\" name=\"{}\" time=\"{}\"",
        attr(r.target.engine.name()),
        f.category,
        attr(&f.id),
        seconds(f.duration_ms)
    );
    match f.status {
        Status::Pass => {
            writeln!(out, "{open}>")?;
            writeln!(out, "      <system-out>{}</system-out>", text(&details(f)))?;
        }
        Status::Warn => {
            writeln!(out, "{open}>")?;
            writeln!(
                out,
                "      <system-out>WARN: {}</system-out>",
                text(&details(f))
            )?;
        }
        Status::Fail => {
            writeln!(out, "{open}>")?;
            writeln!(
                out,
                "      <failure message=\"{}\" type=\"fail\">{}</failure>",
                attr(&f.message),
                text(&details(f))
            )?;
        }
        Status::Error => {
            writeln!(out, "{open}>")?;
            writeln!(
                out,
                "      <error message=\"{}\" type=\"error\">{}</error>",
                attr(&f.message),
                text(&details(f))
            )?;
        }
        Status::Skip => {
            writeln!(out, "{open}>")?;
            writeln!(out, "      <skipped message=\"{}\"/>", attr(&f.message))?;
        }
    }
    writeln!(out, "    </testcase>")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_quotes_and_control_characters() {
        assert_eq!(attr("a<b & \"c\"\nd"), "a&lt;b &amp; &quot;c&quot;&#10;d");
        assert_eq!(text("x\u{1}<y>"), "x&lt;y&gt;");
    }

    #[test]
    fn one_testcase_per_finding_with_the_report_counts() {
        let text = include_str!("../../reports/examples/postgres-15-restricted.json");
        let r = Report::from_json(text.as_bytes()).expect("example loads");
        let mut buf = Vec::new();
        render(&r, &mut buf).expect("render");
        let xml = String::from_utf8(buf).expect("utf-8");
        assert_eq!(xml.matches("<testcase ").count(), r.checks.len());
        assert_eq!(xml.matches("<failure ").count() as u32, r.summary.fail);
        assert_eq!(xml.matches("<skipped ").count() as u32, r.summary.skip);
        assert!(xml.contains(&format!("failures=\"{}\"", r.summary.fail)));
        assert!(xml.contains("classname=\"postgres.privileges\" name=\"postgres.create-table\""));
    }

    #[test]
    fn each_status_maps_to_its_element_and_survives_a_parser() {
        let text = include_str!("../../reports/examples/sqlite.json");
        let mut r = Report::from_json(text.as_bytes()).expect("example loads");
        for (f, st) in r.checks.iter_mut().zip(Status::ALL) {
            f.status = st;
            f.message = format!("<{st}> & \"quotes\"\nsecond line \u{7}bell");
        }
        r.summary = crate::report::Summary::of(&r.checks);
        let mut buf = Vec::new();
        render(&r, &mut buf).expect("render");
        let xml = String::from_utf8(buf).expect("utf-8");
        let doc = roxmltree::Document::parse(&xml).expect("well-formed XML");
        let cases: Vec<_> = doc
            .descendants()
            .filter(|n| n.has_tag_name("testcase"))
            .collect();
        assert_eq!(cases.len(), r.checks.len(), "one testcase per finding");
        for (case, st) in cases.iter().zip(Status::ALL) {
            let child = case
                .children()
                .find(|c| c.is_element())
                .expect("a child element");
            let want = match st {
                Status::Pass | Status::Warn => "system-out",
                Status::Fail => "failure",
                Status::Error => "error",
                Status::Skip => "skipped",
            };
            assert_eq!(child.tag_name().name(), want, "{st}");
            // Failures, errors and skips carry the message, escaped and read back intact.
            let message = child.attribute("message");
            if matches!(st, Status::Fail | Status::Error | Status::Skip) {
                assert_eq!(
                    message,
                    Some(format!("<{st}> & \"quotes\"\nsecond line bell").as_str()),
                    "{st}"
                );
            }
        }
    }
}
