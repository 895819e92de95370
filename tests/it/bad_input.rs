//! Bad input: a corpus of malformed URLs, matrix files and reports (tests/corpus/), plus
//! generated huge and non-UTF-8 inputs, each ending with exit 2 and a one-line `error:`
//! message, never a panic; and property tests of the parsers behind them.

use crate::support::*;
use proptest::prelude::*;
use std::path::{Path, PathBuf};

/// Runs the binary and checks the bad-input contract; returns the first line of stderr.
fn refused(args: &[&std::ffi::OsStr], what: &str) -> String {
    let out = bin().args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(
        out.status.code(),
        Some(2),
        "{what}: exit {:?}; stderr: {stderr}",
        out.status.code()
    );
    assert!(!stderr.contains("panicked"), "{what}: panic: {stderr}");
    let first = stderr.lines().next().unwrap_or("").to_string();
    assert!(
        first.starts_with("error"),
        "{what}: first line is not an error: {stderr}"
    );
    assert!(
        first.len() > 20 && first.len() < 700,
        "{what}: unclear message: {first}"
    );
    first
}

fn files(dir: &str) -> Vec<PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(root().join(dir))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    v.sort();
    v
}

fn os(s: &str) -> &std::ffi::OsStr {
    std::ffi::OsStr::new(s)
}

#[test]
fn corpus_of_malformed_inputs_exits_2_with_a_clear_message() {
    let mut tried = 0;
    let urls = std::fs::read_to_string(root().join("tests/corpus/urls.txt")).unwrap();
    for url in urls.lines().filter(|l| !l.starts_with('#')) {
        refused(&[os("check"), os(url)], url);
        tried += 1;
    }
    for m in files("tests/corpus/matrix") {
        let first = refused(
            &[os("matrix"), os("validate"), m.as_os_str()],
            &m.display().to_string(),
        );
        assert!(
            first.contains(&*m.file_name().unwrap().to_string_lossy()),
            "names the file: {first}"
        );
        refused(
            &[
                os("check"),
                os("sqlite::memory:"),
                os("--matrix"),
                m.as_os_str(),
            ],
            &m.display().to_string(),
        );
        tried += 1;
    }
    for r in files("tests/corpus/reports") {
        let first = refused(&[os("render"), r.as_os_str()], &r.display().to_string());
        assert!(
            first.contains(&*r.file_name().unwrap().to_string_lossy()),
            "names the file: {first}"
        );
        tried += 1;
    }
    // generated: huge and non-UTF-8 inputs
    let dir = tempfile::tempdir().unwrap();
    let huge_matrix = dir.path().join("huge.toml");
    std::fs::write(
        &huge_matrix,
        format!(
            "schema_version = 1\n[app]\nschema = \"{}\n",
            "x".repeat(2_000_000)
        ),
    )
    .unwrap();
    refused(
        &[os("matrix"), os("validate"), huge_matrix.as_os_str()],
        "huge matrix",
    );
    let huge_report = dir.path().join("huge.json");
    std::fs::write(
        &huge_report,
        format!(
            "{{\"schema_version\": 1, \"pad\": \"{}\"}}",
            "y".repeat(3_000_000)
        ),
    )
    .unwrap();
    refused(&[os("render"), huge_report.as_os_str()], "huge report");
    refused(
        &[
            os("check"),
            os(&format!("postgres://u:p@{}/db", "h".repeat(100_000))),
        ],
        "huge URL",
    );
    refused(
        &[
            os("render"),
            Path::new("/nonexistent/report.json").as_os_str(),
        ],
        "missing report",
    );
    refused(
        &[
            os("matrix"),
            os("validate"),
            Path::new("/nonexistent/m.toml").as_os_str(),
        ],
        "missing matrix",
    );
    {
        use std::os::unix::ffi::OsStrExt;
        refused(
            &[
                os("check"),
                std::ffi::OsStr::from_bytes(b"postgres://u:p@h\xff/db"),
            ],
            "non-UTF-8 URL",
        );
    }
    refused(
        &[
            os("check"),
            os("sqlite::memory:"),
            os("--check-timeout"),
            os("-3"),
        ],
        "negative timeout",
    );
    refused(
        &[
            os("check"),
            os("sqlite::memory:"),
            os("--only"),
            os("[bad-glob"),
        ],
        "bad glob",
    );
    refused(
        &[os("explain"), os("postgres.no-such-check")],
        "unknown check",
    );
    refused(&[os("frobnicate")], "unknown command");
    tried += 10; // the generated and argument cases above
    assert!(tried >= 40, "only {tried} bad inputs");
    eprintln!("bad inputs tried: {tried}");
}

const ENGINES: [byod_precheck::Engine; 4] = byod_precheck::Engine::ALL;

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn url_parser_never_panics_nor_leaks(prefix in "(postgres|mysql|mssql|sqlite|jdbc:sqlserver|Server=|oracle|)(://)?[ -~]{0,20}", tail in "[ -~]{0,40}") {
        let marker = "PwMarker8812";
        for input in [format!("{prefix}{tail}"), format!("{prefix}u:{marker}@{tail}"), format!("{prefix};Password={marker};{tail}")] {
            if let Err(e) = byod_precheck::target::ConnSpec::parse(&input) {
                prop_assert!(!e.to_string().contains(marker), "{input} -> {e}");
            }
        }
    }

    #[test]
    fn matrix_loader_never_panics(text in "[a-z_\\[\\]=\" .0-9<>,{}\n-]{0,200}") {
        let _ = byod_precheck::Matrix::parse(&format!("schema_version = 1\n{text}"), "prop");
        let _ = byod_precheck::Matrix::parse(&text, "prop");
    }

    #[test]
    fn matrix_loader_survives_mutations_of_the_builtin(pos in 0usize..2000, byte in any::<u8>()) {
        let mut bytes = byod_precheck::matrix::BUILTIN_SOURCE.as_bytes().to_vec();
        let i = pos % bytes.len();
        bytes[i] = byte;
        if let Ok(text) = String::from_utf8(bytes) {
            let _ = byod_precheck::Matrix::parse(&text, "prop");
        }
    }

    #[test]
    fn report_reader_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300), v in any::<i64>()) {
        let _ = byod_precheck::Report::from_json(&bytes);
        let _ = byod_precheck::Report::from_json(format!("{{\"schema_version\": {v}}}").as_bytes());
    }

    #[test]
    fn identify_never_panics(s in "\\PC{0,80}", hint in "\\PC{0,20}", n in "[0-9]{0,12}") {
        for e in ENGINES {
            let _ = byod_precheck::identify(e, &s, &[]);
            let _ = byod_precheck::identify(e, &s, &[("server_version_num", &n), ("version_comment", &hint), ("product_version", &n), ("engine_edition", &n), ("aurora_version", &hint)]);
        }
    }
}
