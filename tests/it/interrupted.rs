//! Interrupted write probes against the real MariaDB and PostgreSQL: SIGINT or SIGTERM at many
//! moments of a `--probe-write` run (found by bisection on the delay, until several land
//! between CREATE and DROP) never leave a scratch object; SIGKILL on MariaDB can, and the next
//! run reports it with the statement that drops it, which does.

use crate::support::*;
use std::path::Path;
use std::process::{Command as Std, Stdio};
use std::time::{Duration, Instant};

/// Where one interrupted run stopped, read from the facts it saved.
#[derive(Debug, PartialEq)]
enum Stopped {
    /// Before the write probe created anything (or before the signal handler existed).
    Before,
    /// After CREATE and before the last step: the window under test.
    Between,
    /// After the write probe's last step.
    After,
}

/// The write probe's steps in saved facts, wherever the engine's facts keep them.
fn probe_steps(v: &serde_json::Value) -> Option<Vec<serde_json::Value>> {
    match v {
        serde_json::Value::Object(m) => {
            if let (Some(steps), Some(_)) = (m.get("steps"), m.get("leftovers")) {
                return steps.as_array().cloned();
            }
            m.values().find_map(probe_steps)
        }
        serde_json::Value::Array(a) => a.iter().find_map(probe_steps),
        _ => None,
    }
}

fn stopped(facts: &Path, all_steps: usize) -> Stopped {
    let Some(steps) = std::fs::read(facts)
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|v| probe_steps(&v))
    else {
        return Stopped::Before;
    };
    let created = steps.first().is_some_and(|s| {
        s["sql"].as_str().is_some_and(|q| q.starts_with("CREATE")) && s["error"].is_null()
    });
    match (created, steps.len()) {
        (false, _) => Stopped::Before,
        (true, n) if n >= all_steps => Stopped::After,
        (true, _) => Stopped::Between,
    }
}

/// Runs `check URL --probe-write` and sends `signal` after `delay`; returns the exit code and
/// where the run stopped.
fn interrupted_run(url: &str, signal: &str, delay: Duration, all_steps: usize) -> (i32, Stopped) {
    let dir = tempfile::tempdir().unwrap();
    let facts = dir.path().join("facts.json");
    let mut child = Std::new(assert_cmd::cargo::cargo_bin("byod-precheck"))
        .args([
            "check",
            url,
            "--probe-write",
            "--format",
            "json",
            "--save-facts",
        ])
        .arg(&facts)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(delay);
    let _ = Std::new("kill")
        .args([signal, &child.id().to_string()])
        .status();
    let status = child.wait().unwrap();
    // Killed by the signal itself (before the handler was installed): -1.
    (status.code().unwrap_or(-1), stopped(&facts, all_steps))
}

/// Interrupts runs at delays found by bisection between "nothing created yet" and "all done",
/// asserting after each that `leftovers()` is empty; returns how many landed between CREATE
/// and the last step.
fn interrupt_at_many_points(
    url: &str,
    all_steps: usize,
    leftovers: impl Fn() -> Vec<String>,
) -> usize {
    // One whole run bounds the search.
    let t = Instant::now();
    let full = bin()
        .args(["check", url, "--probe-write", "--format", "json"])
        .output()
        .unwrap();
    assert!(full.status.code().is_some_and(|c| c <= 1));
    let (mut lo, mut hi) = (0.0f64, t.elapsed().as_secs_f64() * 1.5);
    let mut between = 0;
    for i in 0..40 {
        let signal = if i % 2 == 0 { "-INT" } else { "-TERM" };
        // Past the bisection's midpoint by a varying share, so the runs spread over the window.
        let d = lo + (hi - lo) * [0.5, 0.35, 0.65, 0.2, 0.8][i % 5];
        let (code, at) = interrupted_run(url, signal, Duration::from_secs_f64(d), all_steps);
        let left = leftovers();
        assert!(
            left.is_empty(),
            "{signal} after {d:.3} s ({at:?}, exit {code}) left {left:?}"
        );
        match at {
            Stopped::Before => lo = d,
            Stopped::After => hi = d,
            Stopped::Between => {
                between += 1;
                assert!(
                    [130, 143].contains(&code),
                    "an interrupted run exits 128 + signal: {code}"
                );
                if between >= 6 {
                    break;
                }
            }
        }
    }
    between
}

#[test]
fn sigint_and_sigterm_between_create_and_drop_leave_no_scratch_table_on_mariadb() {
    let Some(s) = crate::mysql::Scratch::new("") else {
        return;
    };
    let url = s.url("root", "");
    let db = url.rsplit('/').next().unwrap().to_string();
    let leftovers = || mysql_leftovers(&db);
    // CREATE, five capability steps, DROP.
    let between = interrupt_at_many_points(&url, 7, leftovers);
    eprintln!("MariaDB: {between} interruptions landed between CREATE and DROP; none left a table");
    assert!(
        between >= 1,
        "no interruption landed between CREATE and DROP"
    );
}

#[test]
fn sigint_and_sigterm_inside_the_write_probe_leave_nothing_on_postgresql() {
    let Some(s) = require("local PostgreSQL", PgScratch::new("")) else {
        return;
    };
    let leftovers = || {
        s.sql("SELECT relname FROM pg_class WHERE relname LIKE 'byod\\_precheck\\_probe\\_%'")
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect()
    };
    // CREATE TABLE ... DROP TABLE CASCADE: nine steps.
    let between = interrupt_at_many_points(&s.url("postgres"), 9, leftovers);
    eprintln!(
        "PostgreSQL: {between} interruptions landed inside the write probe; none left an object"
    );
    assert!(
        between >= 1,
        "no interruption landed inside the write probe"
    );
}

fn mysql_leftovers(db: &str) -> Vec<String> {
    let out = Std::new("mysql")
        .args(["-h127.0.0.1", "-P3306", "-uroot", "-N", "-e"])
        .arg(format!(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = '{db}' AND table_name LIKE 'byod!_precheck!_probe!_%' ESCAPE '!'"
        ))
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn sigkill_between_create_and_drop_leaves_a_table_the_next_run_reports_with_its_drop() {
    let Some(s) = crate::mysql::Scratch::new("") else {
        return;
    };
    let url = s.url("root", "");
    let db = url.rsplit('/').next().unwrap().to_string();
    let t = Instant::now();
    let _ = bin()
        .args(["check", &url, "--probe-write", "--format", "json"])
        .output()
        .unwrap();
    let full = t.elapsed().as_secs_f64();
    // A sweep over the run's length, finer and finer, until a kill leaves a table behind.
    let mut left = Vec::new();
    let mut kills = 0;
    'sweep: for steps in [20, 40, 80] {
        for k in 1..steps {
            kills += 1;
            let d = full * f64::from(k) / f64::from(steps);
            let _ = interrupted_run(&url, "-KILL", Duration::from_secs_f64(d), 7);
            left = mysql_leftovers(&db);
            if !left.is_empty() {
                break 'sweep;
            }
        }
    }
    assert_eq!(left.len(), 1, "no SIGKILL landed between CREATE and DROP");
    eprintln!("MariaDB: SIGKILL number {kills} left {left:?}");
    let name = &left[0];
    let (_, r, _, _) = check_json(&[&url, "--probe-write"]);
    let p = finding(&r, "mysql.write-probe");
    assert_eq!(p["status"], "fail", "{p}");
    let drop = format!("DROP TABLE `{name}`;");
    let remedy = p["remedy"].as_str().unwrap();
    assert!(remedy.contains(&drop), "{remedy}");
    // The statement given is the one that removes it.
    let ran = Std::new("mysql")
        .args(["-h127.0.0.1", "-P3306", "-uroot", &db, "-e", &drop])
        .output()
        .unwrap();
    assert!(
        ran.status.success(),
        "{}",
        String::from_utf8_lossy(&ran.stderr)
    );
    assert!(mysql_leftovers(&db).is_empty());
}
