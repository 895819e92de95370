//! Bounded-time mutation fuzzing of the connection-string parsers (URL, ADO.NET, JDBC) and the
//! report reader, on the stable toolchain: seeds from tests/corpus and the examples, mutated
//! with a seeded generator for `BYOD_FUZZ_SECS` seconds (default 10; CI runs the default).
//! A failure prints the seed and the input. Each parse must not panic, and whatever it prints
//! (an error, or the target as shown) must not hold the password planted in the input.

use crate::support::root;
use byod_precheck::target::ConnSpec;
use std::time::{Duration, Instant};

const MARK: &str = "Fz8PassMark";

/// xorshift64*: deterministic per seed, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn budget() -> Duration {
    let secs = std::env::var("BYOD_FUZZ_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10u64);
    Duration::from_secs(secs)
}

fn seed() -> u64 {
    std::env::var("BYOD_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64 | 1)
        })
}

/// Characters that matter to the parsers.
const SPECIAL: &[&str] = &[
    ";",
    "=",
    "==",
    "\"",
    "'",
    "{",
    "}",
    "}}",
    "@",
    ":",
    "/",
    "?",
    "&",
    "%",
    "%2",
    "%40",
    "#",
    "[",
    "]",
    "\\",
    ",",
    " ",
    "\t",
    "tcp:",
    "://",
    "Password=",
    "Pwd=",
    "password=",
    "Pass Word=",
    "\u{0}",
    "\u{202e}",
    "é",
];

fn mutate(rng: &mut Rng, s: &str) -> String {
    let mut chars: Vec<char> = s.chars().collect();
    for _ in 0..=rng.below(4) {
        let at = rng.below(chars.len() + 1);
        match rng.below(4) {
            0 if !chars.is_empty() => {
                chars.remove(at.min(chars.len() - 1));
            }
            1 => {
                let ins = SPECIAL[rng.below(SPECIAL.len())];
                for (k, c) in ins.chars().enumerate() {
                    chars.insert(at + k, c);
                }
            }
            2 if !chars.is_empty() => {
                let i = at.min(chars.len() - 1);
                chars[i] = (b' ' + rng.below(95) as u8) as char;
            }
            _ => {
                let len = rng.below(8);
                let from = rng.below(chars.len().max(1));
                let piece: Vec<char> = chars.iter().skip(from).take(len).copied().collect();
                for (k, c) in piece.into_iter().enumerate() {
                    chars.insert((at + k).min(chars.len()), c);
                }
            }
        }
    }
    chars.into_iter().collect()
}

/// Seeds, each holding the marker as its password.
fn seeds() -> Vec<String> {
    let mut v: Vec<String> = [
        "postgres://app:{P}@db.example.com:5432/app?sslmode=require",
        "postgresql://app@db/app?password={P}&application_name=x",
        "mysql://root:{P}@127.0.0.1:3306/app?ssl-mode=REQUIRED",
        "mariadb://u:{P}@h/db",
        "mssql://sa:{P}@sql:1433/app?encrypt=true",
        "Server=tcp:db,1433;Database=app;User Id=sa;Password={P};Encrypt=true",
        "Server=db;Database=app;User Id=sa;Password = \"{P};x\";TrustServerCertificate=true",
        "Data Source=db\\inst,1433;Initial Catalog=app;UID=sa;Pwd={{P};y};",
        "Server=db;Pass Word='{P}'",
        "jdbc:sqlserver://db:1433;databaseName=app;user=sa;password={{P};z};encrypt=true",
        "jdbc:sqlserver://db;password={P}",
    ]
    .iter()
    .map(|s| s.replace("{P}", MARK))
    .collect();
    let corpus = std::fs::read_to_string(root().join("tests/corpus/urls.txt")).unwrap_or_default();
    v.extend(
        corpus
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .map(|l| {
                l.replace(":pw@", &format!(":{MARK}@"))
                    .replace("=pw", &format!("={MARK}"))
            }),
    );
    v
}

#[test]
fn fuzz_connection_strings_never_panic_nor_show_the_password() {
    let seed = seed();
    let mut rng = Rng(seed);
    let seeds = seeds();
    let started = Instant::now();
    let mut runs = 0u64;
    while started.elapsed() < budget() {
        let base = &seeds[rng.below(seeds.len())];
        let input = mutate(&mut rng, base);
        runs += 1;
        let parsed = std::panic::catch_unwind(|| ConnSpec::parse(&input))
            .unwrap_or_else(|_| panic!("seed {seed}: panic on {input:?}"));
        let shown = match &parsed {
            Ok(spec) => format!("{} {:?}", spec.shown(), spec.target_info()),
            Err(e) => e.to_string(),
        };
        // The marker counts while the input holds it whole and, for a string that parsed, while
        // it is still (in) the password: a mutation that deleted the `:` before it made it part
        // of the user name, which is shown by design. Errors must never show it.
        // A mutation may also copy the marker into the host or another part that is shown by
        // design (seed 1796002353763545389 put it in the host name): only a marker that is in
        // the password and nowhere else in the input counts.
        let is_password = match &parsed {
            Ok(spec) => spec.password.as_ref().is_some_and(|p| {
                p.expose().contains(MARK) && !input.replacen(p.expose(), "", 1).contains(MARK)
            }),
            Err(_) => true,
        };
        if input.contains(MARK) && is_password {
            assert!(
                !shown.contains(MARK),
                "seed {seed}: {input:?} shows the password: {shown}"
            );
        }
    }
    eprintln!(
        "fuzz connection strings: {runs} inputs in {:?} (seed {seed})",
        started.elapsed()
    );
}

#[test]
fn fuzz_the_report_reader_never_panics() {
    let seed = seed();
    let mut rng = Rng(seed ^ 0x9E37_79B9);
    let dir = root().join("reports/examples");
    let examples: Vec<Vec<u8>> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| std::fs::read(e.ok()?.path()).ok())
        .collect();
    let started = Instant::now();
    let mut runs = 0u64;
    while started.elapsed() < budget() {
        let mut bytes = examples[rng.below(examples.len())].clone();
        for _ in 0..=rng.below(6) {
            let i = rng.below(bytes.len());
            match rng.below(3) {
                0 => bytes[i] = rng.next() as u8,
                1 => {
                    bytes.remove(i);
                }
                _ => bytes.insert(i, b"\"{}[],:0-9e\\\xEF"[rng.below(13)]),
            }
        }
        runs += 1;
        let r = std::panic::catch_unwind(|| {
            if let Ok(report) = byod_precheck::Report::from_json(&bytes) {
                use clap::ValueEnum;
                for f in byod_precheck::render::Format::value_variants() {
                    let mut out = Vec::new();
                    let _ = byod_precheck::render::render(&report, *f, false, &mut out);
                }
            }
        });
        assert!(r.is_ok(), "seed {seed}: the reader or a renderer panicked");
    }
    eprintln!(
        "fuzz report reader: {runs} inputs in {:?} (seed {seed})",
        started.elapsed()
    );
}
