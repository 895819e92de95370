//! The support side: every example report loads, matches the schema and renders in every
//! format; the HTML page works in a real headless browser (Debian's chromium) and leaves a
//! screenshot; `render`, `diff` and `explain` as a support engineer runs them.

use crate::support::*;
use byod_precheck::Report;
use byod_precheck::render::{self, Format};
use byod_precheck::status::Status;
use clap::ValueEnum;
use predicates::prelude::*;
use std::path::{Path, PathBuf};
use std::process::Command as Std;

/// Every report in `reports/examples/`, sorted (other engines add theirs there).
fn examples() -> Vec<PathBuf> {
    let dir = root().join("reports/examples");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("reports/examples exists")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
}

fn example(name: &str) -> PathBuf {
    root().join("reports/examples").join(name)
}

fn load(path: &Path) -> Report {
    let bytes = std::fs::read(path).expect("read example");
    Report::from_json(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn rendered(r: &Report, format: Format) -> String {
    let mut buf = Vec::new();
    render::render(r, format, false, &mut buf).expect("render");
    String::from_utf8(buf).expect("UTF-8 output")
}

/// Asserts what a reader of each format relies on.
fn assert_format(name: &str, r: &Report, format: Format, out: &str) {
    assert!(!out.trim().is_empty(), "{name} {format:?}: empty");
    match format {
        Format::Json => {
            let back = Report::from_json(out.as_bytes()).expect("JSON output loads");
            assert_eq!(&back, r, "{name}: JSON round trip");
        }
        Format::Table => {
            assert!(out.contains("Result:"), "{name}: table result line");
            // One row per finding, each opening with its status (long ids wrap in their cell).
            let rows = out
                .lines()
                .filter(|l| {
                    let l = l.trim_start();
                    ["PASS ", "WARN ", "FAIL ", "SKIP ", "ERROR "]
                        .iter()
                        .any(|s| l.starts_with(s))
                })
                .count();
            // ... except the checks that were not run, folded into one row.
            let (shown, not_run) = r.shown_and_not_run();
            let want = shown.len() + usize::from(not_run.is_some());
            assert_eq!(rows, want, "{name}: rows in the table\n{out}");
            if let Some(n) = not_run {
                assert!(
                    out.contains(&format!("{} checks", n.count))
                        && out.contains(&format!("not run: {}", n.reason)),
                    "{name}: the not-run fold\n{out}"
                );
            }
        }
        Format::Markdown => {
            assert!(out.starts_with("## Database precheck"), "{name}: markdown");
            let (shown, not_run) = r.shown_and_not_run();
            if let Some(n) = not_run {
                assert!(
                    out.contains(&format!("| {} checks | not run: ", n.count)),
                    "{name}: markdown fold"
                );
            }
            for f in shown {
                assert!(
                    out.contains(&format!("`{}`", f.id)),
                    "{name}: {} in markdown",
                    f.id
                );
            }
        }
        Format::Html => {
            assert!(out.starts_with("<!DOCTYPE html>"), "{name}: html");
            for st in Status::ALL {
                let count = format!("id=\"count-{st}\">{}<", r.summary.count(st));
                assert!(out.contains(&count), "{name}: html {count}");
            }
            // Self-contained: nothing is loaded from anywhere.
            for needle in [
                " src=",
                "<link",
                "href=\"http",
                "href='http",
                "url(",
                "@import",
            ] {
                assert!(
                    !out.contains(needle),
                    "{name}: html loads something: {needle}"
                );
            }
        }
        Format::Junit => {
            let doc = roxmltree::Document::parse(out)
                .unwrap_or_else(|e| panic!("{name}: JUnit XML is not well-formed: {e}"));
            let cases: Vec<_> = doc
                .descendants()
                .filter(|n| n.has_tag_name("testcase"))
                .collect();
            assert_eq!(
                cases.len(),
                r.checks.len(),
                "{name}: one testcase per finding"
            );
            for (case, f) in cases.iter().zip(&r.checks) {
                assert_eq!(case.attribute("name"), Some(f.id.as_str()));
                let child = |tag: &str| case.children().any(|c| c.has_tag_name(tag));
                assert_eq!(child("failure"), f.status == Status::Fail, "{}", f.id);
                assert_eq!(child("error"), f.status == Status::Error, "{}", f.id);
                assert_eq!(child("skipped"), f.status == Status::Skip, "{}", f.id);
            }
            let suites = doc
                .descendants()
                .filter(|n| n.has_tag_name("testsuite"))
                .count();
            assert_eq!(suites, 1, "{name}: one testsuite per report");
        }
    }
}

#[test]
fn every_example_loads_validates_and_renders_in_every_format() {
    let files = examples();
    let names: Vec<_> = files
        .iter()
        .filter_map(|p| p.file_name()?.to_str().map(str::to_string))
        .collect();
    for needed in ["postgres-15.json", "sqlite.json"] {
        assert!(
            names.iter().any(|n| n == needed),
            "reports/examples/{needed} is missing"
        );
    }
    for path in &files {
        let name = path.display().to_string();
        let value: serde_json::Value =
            serde_json::from_slice(&std::fs::read(path).expect("read")).expect("JSON");
        validate(&value);
        let r = load(path);
        for &format in Format::value_variants() {
            let out = rendered(&r, format);
            assert_format(&name, &r, format, &out);
        }
    }
}

#[test]
fn render_command_writes_every_format_and_exits_0() {
    let path = example("postgres-15-restricted.json");
    let r = load(&path);
    for &format in Format::value_variants() {
        let fmt = format
            .to_possible_value()
            .expect("named")
            .get_name()
            .to_string();
        let out = bin()
            .arg("render")
            .arg(&path)
            .args(["--format", &fmt])
            .output()
            .expect("run");
        assert_eq!(out.status.code(), Some(0), "render --format {fmt}");
        let text = String::from_utf8(out.stdout).expect("UTF-8");
        assert_format(&fmt, &r, format, &text);
    }
    // The table shows what is wrong and what to run, without scrolling through JSON.
    bin()
        .arg("render")
        .arg(&path)
        .assert()
        .success()
        .stdout(predicate::str::contains("How to fix:"))
        .stdout(predicate::str::contains(
            "GRANT CREATE ON SCHEMA public TO shop_app",
        ))
        .stdout(predicate::str::contains(format!(
            "Result: FAIL — {} pass, {} warn, {} fail",
            r.summary.pass, r.summary.warn, r.summary.fail
        )));
}

#[test]
fn render_refuses_bad_reports_with_exit_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = std::fs::read_to_string(example("sqlite.json")).expect("read");
    let cases = [
        (
            "newer.json",
            text.replacen("\"schema_version\": 1", "\"schema_version\": 2", 1),
            "schema_version 2 is newer than this build reads (1): upgrade byod-precheck",
        ),
        (
            "unversioned.json",
            text.replacen("\"schema_version\": 1,", "", 1),
            "no schema_version",
        ),
        (
            "older.json",
            text.replacen("\"schema_version\": 1", "\"schema_version\": 0", 1),
            "schema_version 0 is not supported",
        ),
        (
            "broken.json",
            "{\"schema_version\": 1, ".to_string(),
            "not a JSON report",
        ),
        (
            "binary.json",
            String::from_utf8_lossy(b"\xff\xfe\x00").into_owned(),
            "not a JSON report",
        ),
    ];
    for (name, body, message) in cases {
        let p = dir.path().join(name);
        std::fs::write(&p, body).expect("write");
        bin()
            .arg("render")
            .arg(&p)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(name))
            .stderr(predicate::str::contains(message));
    }
    bin()
        .args(["render", "/nonexistent/report.json"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "cannot read /nonexistent/report.json",
        ));
    bin()
        .arg("render")
        .arg(example("sqlite.json"))
        .args(["--format", "pdf"])
        .assert()
        .code(2);
}

#[test]
fn check_o_picks_the_format_by_extension() {
    let dir = tempfile::tempdir().expect("tempdir");
    for ext in ["html", "xml", "md", "json"] {
        let file = dir.path().join(format!("report.{ext}"));
        // No --format: the terminal gets the table, the file the format its name asks for.
        let out = bin()
            .args(["check", "sqlite::memory:", "-o"])
            .arg(&file)
            .output()
            .expect("run");
        assert_eq!(out.status.code(), Some(0), "check -o report.{ext}");
        let stdout = String::from_utf8(out.stdout).expect("UTF-8");
        assert!(
            stdout.contains("Result: WARN"),
            "the table on stdout: {stdout}"
        );
        let written = std::fs::read_to_string(&file).expect("written");
        match ext {
            "html" => {
                assert!(written.starts_with("<!DOCTYPE html>"));
                assert!(written.contains("sqlite.journal-mode"));
            }
            "xml" => {
                let doc = roxmltree::Document::parse(&written).expect("-o .xml is JUnit XML");
                assert!(
                    doc.descendants().any(|n| n.has_tag_name("testcase")
                        && n.attribute("name") == Some("sqlite.connection")),
                    "{written}"
                );
            }
            "md" => assert!(written.contains("| `sqlite.writability` |"), "{written}"),
            _ => {
                let r: serde_json::Value = serde_json::from_str(&written).expect("JSON");
                validate(&r);
                assert_eq!(r["summary"]["warn"], 1);
            }
        }
    }
}

#[test]
fn diff_by_check_id_exits_1_only_when_worse() {
    let ok = example("postgres-15.json");
    let bad = example("postgres-15-restricted.json");
    bin()
        .arg("diff")
        .arg(&ok)
        .arg(&ok)
        .assert()
        .code(0)
        .stdout(predicate::str::contains("No check changed status"));
    bin()
        .arg("diff")
        .arg(&ok)
        .arg(&bad)
        .assert()
        .code(1)
        .stdout(predicate::str::is_match(r"worse +postgres\.create-table").expect("regex"))
        .stdout(predicate::str::contains("WORSE"));
    // Mostly fixed, but the new run connects as a superuser: still worse.
    bin()
        .arg("diff")
        .arg(&bad)
        .arg(&ok)
        .assert()
        .code(1)
        .stdout(predicate::str::is_match(r"better +postgres\.writability").expect("regex"))
        .stdout(predicate::str::is_match(r"worse +postgres\.superuser").expect("regex"));

    let out = bin()
        .arg("diff")
        .arg(&ok)
        .arg(&bad)
        .args(["--format", "json"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    let d: serde_json::Value = serde_json::from_slice(&out.stdout).expect("diff JSON");
    assert_eq!(d["worse"], true);
    let change = d["checks"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["id"] == "postgres.writability"))
        .expect("writability changed");
    assert_eq!(
        (
            &change["kind"],
            &change["old"],
            &change["new"],
            &change["worse"]
        ),
        (
            &serde_json::json!("changed"),
            &serde_json::json!("pass"),
            &serde_json::json!("fail"),
            &serde_json::json!(true)
        )
    );

    // A server that went back a version is worse even when every check still passes; a new
    // check that fails is worse; a removed one is only listed.
    let dir = tempfile::tempdir().expect("tempdir");
    let mut older: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&ok).expect("read")).expect("JSON");
    older["server"]["version"] = "14.9.0".into();
    older["server"]["flavor"] = "aurora-postgresql".into();
    let older_path = dir.path().join("older.json");
    std::fs::write(&older_path, older.to_string()).expect("write");
    bin()
        .arg("diff")
        .arg(&ok)
        .arg(&older_path)
        .assert()
        .code(1)
        .stdout(predicate::str::contains(format!(
            "Server version changed: {} → 14.9.0  (worse)",
            load(&ok).server.expect("reached").version
        )))
        .stdout(predicate::str::contains(
            "Server flavor changed: postgresql → aurora-postgresql",
        ));
    // Only fixes: exit 0.
    let mut fixed: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&bad).expect("read")).expect("JSON");
    for f in fixed["checks"].as_array_mut().expect("checks") {
        if f["id"] == "postgres.writability" {
            f["status"] = "pass".into();
        }
    }
    let fixed_path = dir.path().join("fixed.json");
    std::fs::write(&fixed_path, fixed.to_string()).expect("write");
    bin()
        .arg("diff")
        .arg(&bad)
        .arg(&fixed_path)
        .assert()
        .code(0)
        .stdout(predicate::str::is_match(r"better +postgres\.writability").expect("regex"))
        .stdout(predicate::str::contains(format!(
            "1 changed, {} unchanged.",
            load(&bad).checks.len() - 1
        )));
    bin()
        .arg("diff")
        .arg(&ok)
        .arg("/nonexistent.json")
        .assert()
        .code(2);
}

#[test]
fn explain_says_what_it_asks_why_and_how_to_fix() {
    bin()
        .args(["explain", "postgres.tls"])
        .assert()
        .success()
        .stdout(predicate::str::contains("pg_stat_ssl"))
        .stdout(predicate::str::contains("sslmode=verify-full"));
    bin()
        .args(["explain", "sqlite.journal-mode"])
        .assert()
        .success()
        .stdout(predicate::str::contains("PRAGMA journal_mode"));
    // With a report: what this client's server answered, and the fix to send them.
    bin()
        .args(["explain", "postgres.create-table", "--report"])
        .arg(example("postgres-15-restricted.json"))
        .assert()
        .success()
        .stdout(predicate::str::contains("has_schema_privilege"))
        .stdout(predicate::str::contains("In this report: FAIL"))
        .stdout(predicate::str::contains(
            "GRANT CREATE ON SCHEMA public TO shop_app;",
        ));
    // A check this build does not know is still explained from the report.
    let dir = tempfile::tempdir().expect("tempdir");
    let mut newer: serde_json::Value =
        serde_json::from_slice(&std::fs::read(example("sqlite.json")).expect("read"))
            .expect("JSON");
    newer["checks"][0]["id"] = "sqlite.from-the-future".into();
    let path = dir.path().join("newer-check.json");
    std::fs::write(&path, newer.to_string()).expect("write");
    bin()
        .args(["explain", "sqlite.from-the-future", "--report"])
        .arg(&path)
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "this build does not know this check",
        ));
    bin()
        .args(["explain", "postgres.nope"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "no check has the id `postgres.nope`",
        ));
}

/// The formats a support engineer pastes or a pipeline parses, pinned on one fixed example so an
/// unintended change in a renderer shows up in review.
#[test]
fn rendered_formats_are_stable() {
    let r = load(&example("postgres-15-restricted.json"));
    insta::assert_snapshot!("markdown", rendered(&r, Format::Markdown));
    insta::assert_snapshot!("junit", rendered(&r, Format::Junit));
    let ok = load(&example("postgres-15.json"));
    let d = byod_precheck::diff::diff(&ok, &r);
    let mut buf = Vec::new();
    render::diff::render(&d, render::diff::DiffFormat::Table, &mut buf).expect("render diff");
    insta::assert_snapshot!("diff-table", String::from_utf8(buf).expect("UTF-8"));
}

// --- the HTML page in a real browser ---------------------------------------------------------

/// Debian's chromium, or why it is not there.
fn chromium() -> Result<PathBuf, String> {
    for name in ["chromium", "chromium-browser"] {
        let found = Std::new("sh")
            .args(["-c", &format!("command -v {name}")])
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
        if let Some(p) = found {
            return Ok(p);
        }
    }
    Err("chromium is not installed (scripts/services.sh up installs it)".into())
}

/// Runs headless chromium on a URL with extra arguments; returns (stdout, stderr).
fn headless(chromium: &Path, url: &str, extra: &[&str]) -> (String, String) {
    let profile = tempfile::tempdir().expect("profile dir");
    let out = Std::new("timeout")
        .arg("120")
        .arg(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(extra)
        .arg(url)
        .output()
        .expect("run chromium");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "chromium failed on {url}: {stderr}");
    (stdout, stderr)
}

/// Console errors and uncaught exceptions as chromium logs them.
fn console_errors(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| l.contains("CONSOLE") || l.contains("Uncaught"))
        .collect()
}

/// Prints past the test harness's capture (it captures only the print macros), so a plain
/// `cargo test` shows where the screenshots are.
macro_rules! shown {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

/// Where screenshots go: `target/screenshots/` of the build in use.
fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"));
    let target = if target.is_absolute() {
        target
    } else {
        root().join(target)
    };
    target.join("screenshots")
}

#[test]
fn html_report_works_in_a_real_browser() {
    let Some(chromium) = require("chromium", chromium()) else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let shots = screenshot_dir();
    std::fs::create_dir_all(&shots).expect("screenshot dir");
    let files = examples();
    // The report with the most to fix is the one worth looking at.
    let worst = files
        .iter()
        .max_by_key(|p| {
            let s = load(p).summary;
            (s.fail + s.error, s.warn)
        })
        .cloned()
        .expect("an example");
    for path in &files {
        let r = load(path);
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("report");
        let page = dir.path().join(format!("{stem}.html"));
        std::fs::write(&page, rendered(&r, Format::Html)).expect("write page");
        let url = format!("file://{}", page.display());

        // The DOM after the page's script ran: loaded, counts right, every finding shown.
        let (dom, log) = headless(&chromium, &url, &["--dump-dom"]);
        assert!(
            dom.contains("data-ready=\"1\""),
            "{stem}: the page's script did not finish"
        );
        assert!(
            console_errors(&log).is_empty(),
            "{stem}: console errors: {:#?}",
            console_errors(&log)
        );
        for st in Status::ALL {
            let n = r.summary.count(st);
            assert!(
                dom.contains(&format!("id=\"count-{st}\">{n}<")),
                "{stem}: count-{st} is not {n}"
            );
            let cards = dom
                .matches(&format!(
                    "<article class=\"finding {st}\" data-status=\"{st}\""
                ))
                .count();
            // The checks that were not run are one card.
            let folded = match &r.summary.not_run {
                Some(nr) if st == Status::Skip => nr.count - 1,
                _ => 0,
            };
            assert_eq!(cards as u32, n - folded, "{stem}: {st} cards");
        }
        let (shown, not_run) = r.shown_and_not_run();
        let cards = shown.len() + usize::from(not_run.is_some());
        assert!(dom.contains(&format!("<span id=\"shown\">{cards}</span>")));

        // Opened as page.html#problems, the filters leave only what needs attention.
        let (filtered, log) = headless(&chromium, &format!("{url}#problems"), &["--dump-dom"]);
        assert!(
            console_errors(&log).is_empty(),
            "{stem}#problems: {:#?}",
            console_errors(&log)
        );
        let problems = r.summary.fail + r.summary.error + r.summary.warn;
        assert!(
            filtered.contains(&format!("<span id=\"shown\">{problems}</span>")),
            "{stem}#problems: {problems} shown expected"
        );
        assert_eq!(
            filtered.matches("data-status=\"pass\" id=").count(),
            filtered
                .matches("<article class=\"finding pass hidden\"")
                .count(),
            "{stem}#problems: passes hidden"
        );

        // A screenshot a person can look at.
        let shot = shots.join(format!("{stem}.png"));
        let _ = std::fs::remove_file(&shot);
        let arg = format!("--screenshot={}", shot.display());
        let (_, log) = headless(
            &chromium,
            &url,
            &[&arg, "--window-size=1280,1600", "--hide-scrollbars"],
        );
        assert!(
            console_errors(&log).is_empty(),
            "{stem} screenshot: {:#?}",
            console_errors(&log)
        );
        let png = std::fs::read(&shot)
            .unwrap_or_else(|e| panic!("no screenshot {}: {e}", shot.display()));
        assert!(
            png.starts_with(b"\x89PNG") && png.len() > 10_000,
            "{stem}: screenshot too small"
        );
        shown!("screenshot: {}", shot.display());
        if *path == worst {
            let main = shots.join("report.png");
            std::fs::copy(&shot, &main).expect("copy screenshot");
            shown!("screenshot: {} (from {stem})", main.display());
            // Printable: chromium prints it to PDF.
            let pdf = shots.join("report.pdf");
            let _ = std::fs::remove_file(&pdf);
            let arg = format!("--print-to-pdf={}", pdf.display());
            let (_, log) = headless(&chromium, &url, &[&arg, "--no-pdf-header-footer"]);
            assert!(
                console_errors(&log).is_empty(),
                "{stem} print: {:#?}",
                console_errors(&log)
            );
            let bytes =
                std::fs::read(&pdf).unwrap_or_else(|e| panic!("no PDF {}: {e}", pdf.display()));
            assert!(
                bytes.starts_with(b"%PDF") && bytes.len() > 10_000,
                "{stem}: PDF too small"
            );
            shown!("printed: {}", pdf.display());
        }
    }
}
