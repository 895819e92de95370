//! A new user's first hour (issue 17): each rough edge of the command line pinned by its exact
//! message and exit code, as typos pins its CLI (no server needed unless said).

use crate::support::*;
use clap::CommandFactory;
use predicates::prelude::*;
use std::process::Stdio;

/// Runs the binary and returns (exit code, stdout, stderr).
fn run(args: &[&str]) -> (i32, String, String) {
    let out = bin().args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The ids of one engine's registry, from `checks --format json`.
fn ids(engine: &str) -> Vec<String> {
    let (code, out, _) = run(&["checks", "--engine", engine, "--format", "json"]);
    assert_eq!(code, 0);
    let list: Vec<serde_json::Value> = serde_json::from_str(&out).unwrap();
    list.iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn selections_that_match_nothing_are_usage_errors_naming_the_pattern_and_the_closest_ids() {
    bin()
        .args(["check", "sqlite::memory:", "--only", "typo"])
        .assert()
        .code(2)
        .stdout("")
        .stderr("error: --only `typo` selects no check (see `byod-precheck checks`)\n");
    bin()
        .args(["check", "sqlite::memory:", "--only", "postgres.privileges*"])
        .assert()
        .code(2)
        .stderr(
            "error: --only `postgres.privileges*` selects no check (closest: postgres.table-privileges) (see `byod-precheck checks`)\n",
        );
    bin()
        .args(["check", "sqlite::memory:", "--skip", "*"])
        .assert()
        .code(2)
        .stderr(
            "error: the selection (--skip '*') leaves no sqlite check to run besides sqlite.connection (see `byod-precheck checks --engine sqlite`)\n",
        );
    bin()
        .args(["check", "sqlite::memory:", "--only", "postgres.*"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("leaves no sqlite check to run"));
}

#[test]
fn the_help_examples_select_real_checks() {
    let (code, help, _) = run(&["check", "--help"]);
    assert_eq!(code, 0);
    let all: Vec<String> = ["postgres", "mysql", "mssql", "sqlite"]
        .iter()
        .flat_map(|e| ids(e))
        .collect();
    let all: Vec<&str> = all.iter().map(String::as_str).collect();
    let mut examples = 0;
    for line in help
        .lines()
        .skip_while(|l| !l.contains("--only"))
        .take_while(|l| !l.contains("--probe-write"))
    {
        for (i, part) in line.split('\'').enumerate() {
            if i % 2 == 1 {
                examples += 1;
                let sel =
                    byod_precheck::registry::Selection::new(&[part.to_string()], &[]).unwrap();
                assert!(
                    sel.check_patterns(&all).is_ok(),
                    "the help's example '{part}' selects no check"
                );
            }
        }
    }
    assert!(
        examples >= 3,
        "examples in the help of --only/--skip:\n{help}"
    );
}

#[test]
fn the_report_records_its_selection_and_diff_compares_selections() {
    let dir = tempfile::tempdir().unwrap();
    let (all, narrow) = (dir.path().join("all.json"), dir.path().join("narrow.json"));
    let (code, _, _) = run(&["check", "sqlite::memory:", "-o", all.to_str().unwrap()]);
    assert_eq!(code, 0);
    let (code, out, _) = run(&[
        "check",
        "sqlite::memory:",
        "--only",
        "sqlite.json",
        "-o",
        narrow.to_str().unwrap(),
    ]);
    assert_eq!(code, 0);
    assert!(
        out.contains("Checks:  --only 'sqlite.json' ("),
        "the table says it was narrowed:\n{out}"
    );
    let r: serde_json::Value = serde_json::from_slice(&std::fs::read(&narrow).unwrap()).unwrap();
    validate(&r);
    assert_eq!(r["selection"]["only"], serde_json::json!(["sqlite.json"]));
    let excluded = r["selection"]["excluded"].as_array().unwrap();
    assert_eq!(excluded.len(), ids("sqlite").len() - 2);
    assert!(excluded.contains(&serde_json::json!("sqlite.version")));
    let full: serde_json::Value = serde_json::from_slice(&std::fs::read(&all).unwrap()).unwrap();
    assert!(full.get("selection").is_none(), "every check: no selection");

    let (code, out, _) = run(&["diff", all.to_str().unwrap(), narrow.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains(
            "Selection changed: the old report ran every check, the new one --only 'sqlite.json'"
        ),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "Not compared ({}, left out by one report's selection): ",
            excluded.len()
        )),
        "{out}"
    );
    assert!(
        !out.contains("removed"),
        "excluded checks are not removed:\n{out}"
    );
    assert!(out.contains("Result: not worse"), "{out}");
}

#[test]
fn a_closed_pipe_ends_quietly_with_the_sigpipe_status() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("r.json");
    std::fs::copy(root().join("reports/examples/postgres-15.json"), &report).unwrap();
    let report = report.to_str().unwrap();
    for args in [
        vec!["checks"],
        vec!["checks", "--format", "json"],
        vec!["render", report],
        vec!["render", report, "--format", "html"],
        vec!["check", "sqlite::memory:"],
        vec!["explain", "postgres.tls"],
        vec!["diff", report, report],
        vec!["matrix", "show"],
    ] {
        // A pipe whose reader is gone before the program starts, as `| head -0` would leave
        // it: the first write fails, whatever the scheduling (with a reader closed after the
        // start, a fast child could write everything into the pipe's buffer first).
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("byod-precheck"));
        let child = cmd
            .args(&args)
            .env("COLUMNS", "200")
            .stdout(writer)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(141), "{args:?}: {stderr}");
        assert_eq!(stderr, "", "{args:?}");
    }
}

#[test]
fn replay_says_it_is_a_replay_and_of_when() {
    let dir = tempfile::tempdir().unwrap();
    let facts = dir.path().join("facts.json");
    let (code, _, _) = run(&[
        "check",
        "sqlite::memory:",
        "--save-facts",
        facts.to_str().unwrap(),
    ]);
    assert_eq!(code, 0);
    let saved: serde_json::Value = serde_json::from_slice(&std::fs::read(&facts).unwrap()).unwrap();
    let collected = saved["facts"]["common"]["collected_at"]
        .as_str()
        .unwrap()
        .to_string();
    let (code, out, _) = run(&["replay", facts.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains(&format!(
            "from facts collected at {collected}; no server was reached"
        )),
        "{out}"
    );
    assert!(out.contains("Replay:  judged at "), "{out}");
    assert!(!out.contains("queries in"), "{out}");
    assert!(
        out.contains(&format!("; replayed from facts collected at {collected}")),
        "{out}"
    );
    let (_, json, _) = run(&["replay", facts.to_str().unwrap(), "--format", "json"]);
    let r: serde_json::Value = serde_json::from_str(&json).unwrap();
    validate(&r);
    assert!(r["replayed_at"].is_string());
    assert_eq!(r["generated_at"], collected.as_str());
}

#[test]
fn after_a_failed_connection_the_checks_not_run_fold_into_one_line_in_every_format() {
    // Port 1 on loopback: nothing listens, the connection is refused at once.
    let url = "postgres://nobody@127.0.0.1:1/app";
    let n = ids("postgres").len() - 1;
    let line = format!("{n} checks");
    let why = "not run: the connection failed (refused)";

    let (code, out, _) = run(&["check", url]);
    assert_eq!(code, 1);
    assert!(out.contains(&line) && out.contains(why), "{out}");
    assert!(!out.contains("not evaluated"), "{out}");
    assert!(
        out.contains(&format!(
            "{n} skip ({n} not run: the connection failed (refused))"
        )),
        "{out}"
    );

    let (code, json, _) = run(&["check", url, "--format", "json"]);
    assert_eq!(code, 1);
    let r: serde_json::Value = serde_json::from_str(&json).unwrap();
    validate(&r);
    assert_eq!(
        r["summary"]["not_run"],
        serde_json::json!({"count": n, "reason": "the connection failed (refused)"})
    );
    // The contract's statuses and counts are unchanged: each is still a `skip` finding.
    assert_eq!(r["summary"]["skip"], n);
    assert_eq!(r["checks"].as_array().unwrap().len(), n + 1);

    let (_, md, _) = run(&["check", url, "--format", "markdown"]);
    assert!(
        md.contains(&format!("| SKIP | {n} checks | {why} |")),
        "{md}"
    );
    assert!(md.contains(&format!("{n} skip ({n} not run: ")), "{md}");
    let (_, html, _) = run(&["check", url, "--format", "html"]);
    assert_eq!(
        html.matches("<article class=\"finding").count(),
        2,
        "{html}"
    );
    assert!(html.contains(&format!("{n} checks not run")), "{html}");
    let (_, junit, _) = run(&["check", url, "--format", "junit"]);
    assert!(
        junit.contains(&format!(
            "<property name=\"not_run\" value=\"{n} checks: the connection failed (refused)\"/>"
        )),
        "{junit}"
    );
}

#[test]
fn the_fleet_table_and_summary_say_why_each_target_failed() {
    let dir = tempfile::tempdir().unwrap();
    let targets = dir.path().join("fleet.txt");
    std::fs::write(
        &targets,
        "down=postgres://nobody@127.0.0.1:1/app\nbilling=db.example.com:5432\nok=sqlite::memory:\n",
    )
    .unwrap();
    let out_dir = dir.path().join("out");
    let (code, out, _) = run(&[
        "check",
        "--targets",
        targets.to_str().unwrap(),
        "--out-dir",
        out_dir.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(
            "\nWhy:\n  down: connection failed: refused failure: TCP connect to 127.0.0.1:1: "
        ),
        "{out}"
    );
    assert!(
        out.contains("  billing: invalid connection string (not a URL): no scheme"),
        "a name= line keeps its name when its value is no URL:\n{out}"
    );
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out_dir.join("summary.json")).unwrap()).unwrap();
    let by = |name: &str| {
        summary["entries"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["name"] == name)
            .unwrap_or_else(|| panic!("{name} in {summary:#}"))
            .clone()
    };
    assert!(
        by("down")["reason"]
            .as_str()
            .unwrap()
            .starts_with("connection failed: refused failure"),
        "{summary:#}"
    );
    assert!(
        by("billing")["error"]
            .as_str()
            .unwrap()
            .contains("no scheme")
    );
    assert!(by("ok").get("reason").is_none(), "{summary:#}");
}

#[test]
fn a_login_that_stalls_after_tcp_does_not_blame_a_firewall() {
    // Accepts TCP and never answers: the login times out after the port answered.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in listener.incoming().flatten() {
            held.push(s);
        }
    });
    let url = format!("postgres://app@127.0.0.1:{port}/app?sslmode=disable");
    let (code, json, _) = run(&["check", &url, "--connect-timeout", "1", "--format", "json"]);
    assert_eq!(code, 1, "{json}");
    let r: serde_json::Value = serde_json::from_str(&json).unwrap();
    let conn = &r["checks"][0];
    assert_eq!(conn["observed"], "timeout", "{conn:#}");
    let remedy = conn["remedy"].as_str().unwrap();
    assert!(
        remedy.starts_with(&format!(
            "127.0.0.1:{port} accepted the TCP connection but the login did not finish in time, so the network path is open."
        )),
        "{remedy}"
    );
    assert!(!remedy.contains("firewall"), "{remedy}");
    assert!(remedy.contains("pooler"), "{remedy}");
}

#[test]
fn output_files_take_a_known_extension_or_fail_before_connecting() {
    let dir = tempfile::tempdir().unwrap();
    for ext in ["csv", "yaml"] {
        let p = dir.path().join(format!("report.{ext}"));
        bin()
            .args(["check", "sqlite::memory:", "-o"])
            .arg(&p)
            .assert()
            .code(2)
            .stdout("")
            .stderr(format!(
                "error: -o {}: unknown extension `.{ext}`; use .json, .md, .html, .xml or .junit (JUnit), or .txt (the table)\n",
                p.display()
            ));
        assert!(!p.exists());
    }
    let p = dir.path().join("report.junit");
    bin()
        .args(["check", "sqlite::memory:", "-o"])
        .arg(&p)
        .assert()
        .success();
    let text = std::fs::read_to_string(&p).unwrap();
    assert!(
        text.starts_with("<?xml") && text.contains("<testsuite "),
        "{text}"
    );
}

#[test]
fn engines_by_flavor_name_and_ids_by_their_closest_spelling() {
    let (code, out, _) = run(&["checks", "--engine", "mariadb"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("mysql.charset") && !out.contains("postgres."),
        "{out}"
    );
    bin()
        .args(["explain", "postgres.tsl"])
        .assert()
        .code(2)
        .stderr(
            "error: no check has the id `postgres.tsl`; did you mean postgres.tls, postgres.eol? (see `byod-precheck checks`)\n",
        );
}

#[test]
fn every_argument_of_every_subcommand_has_help_without_code_links() {
    fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
        for a in cmd.get_arguments() {
            let id = a.get_id().as_str();
            if id == "help" || id == "version" {
                continue;
            }
            match a.get_help() {
                Some(h) if !h.to_string().trim().is_empty() => {}
                _ => missing.push(format!("{path} {id}")),
            }
            for v in a.get_possible_values() {
                if let Some(h) = v.get_help()
                    && h.to_string().contains("[`")
                {
                    missing.push(format!("{path} {id}={}: code link", v.get_name()));
                }
            }
        }
        for sub in cmd.get_subcommands() {
            walk(sub, &format!("{path} {}", sub.get_name()), missing);
        }
    }
    let mut missing = Vec::new();
    walk(
        &byod_precheck::cli::Cli::command(),
        "byod-precheck",
        &mut missing,
    );
    assert!(missing.is_empty(), "arguments without help: {missing:#?}");
    let (_, help, _) = run(&["diff", "--help"]);
    assert!(!help.contains("[`"), "{help}");
}

#[test]
fn matrix_type_errors_say_what_was_wanted_and_found_and_unknown_ids_come_with_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let m = matrix_file(
        dir.path(),
        "schema_version = 1\n[postgres]\nversions = 13\n[app]\npool_size = \"x\"\npool_sise = 3\n[severity]\n\"postgres.tsl\" = \"fail\"\n",
    );
    let shown = m.display().to_string();
    bin()
        .args(["matrix", "validate"])
        .arg(&m)
        .assert()
        .code(2)
        .stdout("")
        .stderr(format!(
            "error: invalid matrix {shown}: 4 problems\n  \
             {shown}:3:12: `versions`: expected a version requirement like \">=13\" (a string), found integer 13\n  \
             {shown}:5:14: `pool_size`: expected a whole number (0 or more), found string \"x\"\n  \
             {shown}:6:1: unknown key `pool_sise` (expected one of: needs_write, pool_size, require_tls, max_clock_skew_seconds, eol_warn_days, time_zone, schema, migrations, workload, allow_transaction_pooling, pool_recycle_seconds)\n  \
             {shown}:8:2: [severity]: no check has the id `postgres.tsl`; did you mean postgres.tls, postgres.eol? (see `byod-precheck checks`)\n"
        ));
}

#[test]
fn the_sqlite_foreign_keys_fix_speaks_to_the_client() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("app.db");
    let url = format!("sqlite://{}?mode=rwc", p.display());
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        use sqlx::Connection;
        let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
        sqlx::raw_sql(
            "PRAGMA foreign_keys = OFF; CREATE TABLE p (id INTEGER PRIMARY KEY); \
             CREATE TABLE c (pid INTEGER REFERENCES p(id)); INSERT INTO c VALUES (5);",
        )
        .execute(&mut c)
        .await
        .unwrap();
    });
    let (code, r, _, _) = check_json(&[&format!("sqlite://{}", p.display())]);
    assert_eq!(code, 1);
    let f = finding(&r, "sqlite.foreign-keys");
    assert_eq!(f["status"], "fail");
    let remedy = f["remedy"].as_str().unwrap();
    assert!(
        remedy.contains("PRAGMA foreign_keys = ON; right after opening it"),
        "{remedy}"
    );
    assert!(remedy.contains("SQLAlchemy"), "{remedy}");
    assert!(!remedy.contains("SqliteConnectOptions"), "{remedy}");
}

#[test]
fn a_narrow_terminal_never_splits_an_id_nor_cuts_inside_a_parenthesis() {
    let report = root().join("reports/examples/postgres-15.json");
    let r = byod_precheck::Report::from_json(&std::fs::read(&report).unwrap()).unwrap();
    for width in [60usize, 72, 80, 100, 120] {
        let out = bin()
            .env("COLUMNS", width.to_string())
            .arg("render")
            .arg(&report)
            .output()
            .unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        for f in &r.checks {
            assert!(
                text.lines()
                    .any(|l| l.split_whitespace().any(|w| w == f.id)),
                "{width}: {} whole on a line:\n{text}",
                f.id
            );
        }
        // The table (the fixes after it are one line each, to copy whole) fills the width.
        let table: Vec<&str> = text
            .lines()
            .skip_while(|l| !l.starts_with('─'))
            .take_while(|l| !l.starts_with("How to fix"))
            .filter(|l| !l.is_empty())
            .collect();
        assert_eq!(table[0].chars().count(), width, "{width}: {}", table[0]);
        for l in &table {
            assert!(l.chars().count() <= width, "wider than {width}: {l}");
        }
        for l in text.lines().take(3) {
            let open = l.matches('(').count();
            assert_eq!(open, l.matches(')').count(), "{width}: unbalanced: {l}");
        }
    }
}

#[test]
fn the_readme_opens_with_install_then_a_real_check_then_the_tests() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let first = readme
        .split("```sh\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .unwrap();
    let commands: Vec<&str> = first
        .lines()
        .map(|l| l.split(" #").next().unwrap().trim())
        .collect();
    assert_eq!(
        commands,
        [
            "cargo install --path .",
            "byod-precheck check \"sqlite://demo.db?mode=rwc\"",
            "cargo test"
        ]
    );
    assert!(
        readme
            .contains("`cargo build --release` puts the binary at `target/release/byod-precheck`")
    );
    assert!(readme.contains("scripts/services.sh down"));
    assert!(
        !readme.contains("SPEC.md"),
        "the README links a file users do not have"
    );
    for link in ["docs/matrix.md", "docs/checks.md", "checks/matrix.toml"] {
        assert!(
            readme.contains(link) && root().join(link).exists(),
            "{link}"
        );
    }
    // The README's check, as a newcomer runs it, in an empty folder.
    let dir = tempfile::tempdir().unwrap();
    bin()
        .current_dir(dir.path())
        .args(["check", "sqlite://demo.db?mode=rwc"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Result: "));
}
