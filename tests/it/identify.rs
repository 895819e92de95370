//! Identification: the corpus of real version strings (tests/corpus/identify.tsv, gathered from
//! drivers' and ORMs' test suites, vendors' docs and field reports) through the library, and
//! the `identify` subcommand through the binary.

use crate::support::bin;
use byod_precheck::{Engine, identify};

struct Case {
    line: usize,
    engine: Engine,
    text: String,
    hints: Vec<(String, String)>,
    flavor: String,
    version: Vec<u64>,
    flavor_version: String,
    prerelease: String,
}

fn unescape(s: &str) -> String {
    s.replace("\\n", "\n").replace("\\t", "\t")
}

fn corpus() -> Vec<Case> {
    let text =
        std::fs::read_to_string(crate::support::root().join("tests/corpus/identify.tsv")).unwrap();
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let f: Vec<&str> = line.split('\t').collect();
        assert_eq!(f.len(), 8, "line {}: 8 tab-separated fields", i + 1);
        let hints = if f[2] == "-" {
            Vec::new()
        } else {
            f[2].split(" | ")
                .map(|h| {
                    let (k, v) = h.split_once('=').unwrap();
                    (k.to_string(), unescape(v))
                })
                .collect()
        };
        out.push(Case {
            line: i + 1,
            engine: Engine::from_name(f[0]).unwrap(),
            text: unescape(f[1]),
            hints,
            flavor: f[3].to_string(),
            version: f[4].split('.').map(|n| n.parse().unwrap()).collect(),
            flavor_version: f[5].to_string(),
            prerelease: f[6].to_string(),
        });
    }
    out
}

/// What is wrong with the identity of one case, if anything.
fn judge(c: &Case) -> Option<String> {
    let hints: Vec<(&str, &str)> = c
        .hints
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let id = match identify(c.engine, &c.text, &hints) {
        Ok(id) => id,
        Err(e) => return Some(e.to_string()),
    };
    let mut got = vec![id.major, id.minor];
    if c.version.len() > 2 {
        got.push(id.patch.unwrap_or(u64::MAX));
    }
    let fv = id.flavor_version.clone().unwrap_or_else(|| "-".into());
    let pre = id.prerelease.clone().unwrap_or_else(|| "-".into());
    let ok = id.flavor == c.flavor
        && got == c.version
        && (c.flavor_version == "~" || c.flavor_version == fv)
        && c.prerelease == pre;
    (!ok).then(|| {
        format!(
            "got {} {:?} flavor_version {fv} prerelease {pre}",
            id.flavor, got
        )
    })
}

#[test]
fn the_corpus_of_real_version_strings_is_identified() {
    let cases = corpus();
    // Every kind the field brings is there, and enough of them.
    assert!(cases.len() >= 150, "{} cases", cases.len());
    for flavor in [
        "postgresql",
        "edb-epas",
        "yugabytedb",
        "citus",
        "pglite",
        "cockroachdb",
        "redshift",
        "mariadb",
        "percona-server",
        "percona-xtradb-cluster",
        "vitess",
        "aurora-mysql",
        "azure-mysql",
        "tidb",
        "singlestore",
        "mysql",
        "sqlite",
        "sqlserver",
        "rds-sqlserver",
        "azure-sql-database",
    ] {
        assert!(cases.iter().any(|c| c.flavor == flavor), "no {flavor} case");
    }
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|c| judge(c).map(|why| format!("line {}: {:?}: {why}", c.line, c.text)))
        .collect();
    eprintln!(
        "identify corpus: {}/{} right",
        cases.len() - failures.len(),
        cases.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn pre_releases_are_named_as_such() {
    for (v, major, minor, tag) in [
        ("12beta2", 12, 0, "beta2"),
        ("15devel", 15, 0, "devel"),
        ("8.4alpha1", 8, 4, "alpha1"),
        ("11rc1", 11, 0, "rc1"),
    ] {
        let id = identify(Engine::Postgres, v, &[]).unwrap();
        assert_eq!((id.major, id.minor), (major, minor), "{v}");
        assert_eq!(id.prerelease.as_deref(), Some(tag), "{v}");
        assert!(id.product.contains("pre-release"), "{}", id.product);
    }
    let ga = identify(Engine::Postgres, "16.1", &[]).unwrap();
    assert_eq!(ga.prerelease, None);
}

#[test]
fn identify_prints_the_identity_and_exits_0_for_a_known_flavor() {
    let out = bin()
        .args([
            "identify",
            "mysql",
            "8.0.32",
            "--hint",
            "basedir=/rdsdbbin/oscar-8.0.mysql_aurora.3.05.2.0.29123.0/",
        ])
        .assert()
        .code(0);
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(stdout.contains("aurora-mysql"), "{stdout}");
    assert!(stdout.contains("3.05.2"), "{stdout}");

    let out = bin()
        .args([
            "identify",
            "postgres",
            "11.2-YB-2.20.1.0-b97",
            "--format",
            "json",
        ])
        .assert()
        .code(0);
    let v: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(v["flavor"], "yugabytedb");
    assert_eq!(v["flavor_version"], "2.20.1.0-b97");
    assert_eq!(v["major"], 11);
}

#[test]
fn identify_exits_1_for_an_unknown_flavor_and_2_for_bad_input() {
    let out = bin()
        .args([
            "identify",
            "postgres",
            "Oracle Database 19c Enterprise Edition",
        ])
        .assert()
        .code(1);
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(stdout.starts_with("unknown flavor: "), "{stdout}");
    let out = bin()
        .args(["identify", "mysql", "\u{1b}[31mhello", "--format", "json"])
        .assert()
        .code(1);
    let v: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert!(v["flavor"].is_null());

    for args in [
        &["identify", "oracle", "19.3.0.0.0"][..],
        &["identify", "postgres", "15.4", "--hint", "no-equals-sign"],
        &["identify", "postgres", ""],
        &["identify", "postgres"],
    ] {
        let out = bin().args(args).assert().code(2);
        let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
        assert!(!stderr.is_empty(), "{args:?}");
    }
}

#[test]
fn the_table_is_inert() {
    // A pasted banner with a terminal escape does not carry it to the terminal.
    let out = bin()
        .args(["identify", "mysql", "8.0.30-vitess-\u{1b}]0;owned\u{7}"])
        .assert();
    let stdout = out.get_output().stdout.clone();
    assert!(
        !stdout.contains(&0x1b),
        "{}",
        String::from_utf8_lossy(&stdout)
    );
}
