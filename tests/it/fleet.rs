//! `check --targets`: many databases in one run, each with its own report and time limit; one
//! target's failure, hang or malformed URL never affects another.

use crate::support::*;
use std::net::TcpListener;
use std::time::{Duration, Instant};

/// Accepts connections and never answers, for `secs` seconds.
fn silent_listener(secs: u64) -> (u16, std::thread::JoinHandle<()>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let h = std::thread::spawn(move || {
        let mut held = Vec::new();
        l.set_nonblocking(true).unwrap();
        let end = Instant::now() + Duration::from_secs(secs);
        while Instant::now() < end {
            if let Ok((s, _)) = l.accept() {
                held.push(s);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    });
    (port, h)
}

/// `check --targets FILE --out-dir OUT` with more arguments.
fn run_targets(
    file: impl AsRef<std::ffi::OsStr>,
    out: impl AsRef<std::ffi::OsStr>,
    extra: &[&str],
) -> std::process::Output {
    bin()
        .args(["check", "--targets"])
        .arg(file)
        .arg("--out-dir")
        .arg(out)
        .args(extra)
        .output()
        .unwrap()
}

#[test]
fn many_targets_each_get_a_report_and_a_row_and_one_hang_delays_no_other() {
    let Some(a) = require("local PostgreSQL", PgScratch::new("")) else {
        return;
    };
    let b = PgScratch::new("").unwrap();
    let c = PgScratch::new("").unwrap();
    let (hung, _h) = silent_listener(15);
    let refused = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("reports");
    let file = dir.path().join("targets.txt");
    std::fs::write(
        &file,
        format!(
            "# three scratch databases, an in-memory SQLite, a refused port, a hung listener\n\
             {}\n\
             second={}?sslmode=disable\n\
             {}\n\n\
             mem=sqlite::memory:\n\
             refused=postgres://app:s3cret-pw@127.0.0.1:{refused}/app\n\
             hung=postgres://app@127.0.0.1:{hung}/app\n\
             broken=postgres://app:s3cret-pw@127.0.0.1:notaport/app\n",
            a.url("postgres"),
            b.url("postgres"),
            c.url("postgres"),
        ),
    )
    .unwrap();
    let t = Instant::now();
    let o = run_targets(
        &file,
        &out,
        &[
            "--connect-timeout",
            "2",
            "--format",
            "json",
            "--concurrency",
            "4",
        ],
    );
    let took = t.elapsed();
    let stdout = String::from_utf8_lossy(&o.stdout);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(!stdout.contains("s3cret-pw") && !stderr.contains("s3cret-pw"));
    // The hang costs its own connect limit (2 s), not the others': generous bound.
    assert!(took < Duration::from_secs(12), "took {took:?}");
    let s: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let entries = s["entries"].as_array().unwrap();
    let names: Vec<&str> = entries
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    // Unnamed targets are named from engine, host, port and database.
    let first = format!("postgres-127.0.0.1-5432-{}", a.db);
    let third = format!("postgres-127.0.0.1-5432-{}", c.db);
    assert_eq!(
        names,
        [
            first.as_str(),
            "second",
            third.as_str(),
            "mem",
            "refused",
            "hung",
            "broken"
        ]
    );
    let by = |n: &str| entries.iter().find(|e| e["name"] == n).unwrap();
    for e in [by(&first), by("second"), by(&third), by("mem")] {
        assert_eq!(
            e["engine"],
            if e["name"] == "mem" {
                "sqlite"
            } else {
                "postgres"
            }
        );
        assert!(e["server"].is_string(), "{e}");
        assert!(e["queries"].as_u64().unwrap() > 0, "{e}");
        assert!(e["counts"]["pass"].as_u64().unwrap() > 3, "{e}");
    }
    assert_eq!(by("refused")["status"], "fail");
    assert_eq!(by("hung")["status"], "fail");
    assert!(by("hung")["duration_ms"].as_u64().unwrap() < 6000);
    assert_eq!(by("broken")["status"], "error");
    assert!(by("broken")["error"].as_str().unwrap().contains("port"));
    assert!(by("broken").get("report").is_none());
    // Every reachable-or-not target that parsed has its report, valid against the schema.
    for e in entries.iter().filter(|e| e["name"] != "broken") {
        let path = out.join(format!("{}.json", e["name"].as_str().unwrap()));
        let r: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        validate(&r);
        assert_eq!(r["summary"], e["counts"], "{}", path.display());
    }
    // The three databases share one server: it is reached (DNS, TCP) by one of them only, and
    // the others say they took its figures.
    let shared = [first.as_str(), "second", third.as_str()]
        .iter()
        .filter(|n| {
            let r: serde_json::Value = serde_json::from_str(
                &std::fs::read_to_string(out.join(format!("{n}.json"))).unwrap(),
            )
            .unwrap();
            let observed = finding(&r, "postgres.connection")["observed"].clone();
            assert!(observed.as_str().unwrap().contains("tcp "), "{observed}");
            observed
                .as_str()
                .unwrap()
                .contains("measured once for this server")
        })
        .count();
    assert_eq!(
        shared, 2,
        "one target reaches the server, two share its figures"
    );
    let hung_report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("hung.json")).unwrap()).unwrap();
    assert_eq!(
        finding(&hung_report, "postgres.connection")["observed"],
        "timeout"
    );
    // The totals count targets by their overall status.
    let n = &s["targets"];
    let total: u64 = ["pass", "warn", "fail", "skip", "error"]
        .iter()
        .map(|k| n[k].as_u64().unwrap())
        .sum();
    assert_eq!(total, 7);
    assert_eq!(n["error"], 1);
    assert!(n["fail"].as_u64().unwrap() >= 2);
    assert!(out.join("summary.json").exists());
    // The table: one row per target and the reason for the broken one.
    let o = run_targets(
        &file,
        &out,
        &["--connect-timeout", "1", "--only", "*.connection"],
    );
    let table = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{table}");
    for n in ["second", "mem", "refused", "hung", "broken", "7 targets"] {
        assert!(table.contains(n), "{n} missing in\n{table}");
    }
    assert!(!table.contains("s3cret-pw"));
}

#[test]
fn toml_targets_and_an_unusable_targets_file() {
    let dir = tempfile::tempdir().unwrap();
    let toml = dir.path().join("t.toml");
    std::fs::write(
        &toml,
        "[[target]]\nname = \"one\"\nurl = \"sqlite::memory:\"\n\n[[target]]\nname = \"one\"\nurl = \"sqlite::memory:\"\n",
    )
    .unwrap();
    let o = run_targets(&toml, dir.path().join("out"), &[]);
    let table = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{table}");
    assert!(dir.path().join("out/one.json").exists());
    assert!(dir.path().join("out/one-2.json").exists());
    // A file that is not usable is the run's error: exit 2, with the line.
    std::fs::write(
        &toml,
        "[[target]]\nname = \"x\"\nuri = \"sqlite::memory:\"\n",
    )
    .unwrap();
    let o = run_targets(&toml, dir.path().join("out"), &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("line 3: unknown key `uri`"));
    let empty = dir.path().join("empty.txt");
    std::fs::write(&empty, "# nothing\n").unwrap();
    let o = run_targets(&empty, dir.path().join("out"), &[]);
    assert_eq!(o.status.code(), Some(2));
}
