//! PostgreSQL identification: `version()`, `server_version_num` and the markers managed
//! services and compatible engines leave (functions, extensions, settings).

use crate::engine::Engine;
use crate::identity::{Hints, IdentifyError, ServerIdentity, leading_numbers};

/// The flavors this engine names.
pub const FLAVORS: &[&str] = &[
    "postgresql",
    "aurora-postgresql",
    "redshift",
    "yugabytedb",
    "cockroachdb",
    "citus",
    "timescaledb",
    "edb-epas",
    "rds-postgresql",
    "azure-postgresql",
    "cloudsql-postgresql",
    "alloydb",
    "pglite",
];

/// Identifies a PostgreSQL-family server. `v` is `version()`, `SHOW server_version`, a psql
/// or `postgres --version` banner. Hints: `server_version_num`, `server_version`,
/// `aurora_version`, `citus_version`, `timescaledb_version`, `data_directory`, `managed`
/// (`rds`, `azure`, `cloudsql`, `alloydb`).
pub fn identify(v: &str, hints: &Hints) -> Result<ServerIdentity, IdentifyError> {
    let unrecognized = || IdentifyError::Unrecognized {
        engine: Engine::Postgres,
        text: v.chars().take(200).collect(),
    };
    let v = v.trim();
    // The text that carries the version: a psql banner names the server after "server ".
    let parsed = banner_version(v).or_else(|| {
        hints
            .get("server_version")
            .and_then(|s| version_token(s.trim()))
    });
    let prerelease = parsed.as_ref().and_then(|p| p.prerelease.clone());
    let exact = hints
        .get("server_version_num")
        .and_then(|n| n.parse::<u64>().ok())
        .filter(|n| *n >= 70_000);
    // `server_version_num` is the exact compatibility version: version() is free text that
    // forks rewrite (CockroachDB does not even say "PostgreSQL" in it).
    let numbers = match exact {
        Some(n) if n >= 100_000 => vec![n / 10_000, n % 10_000, 0],
        Some(n) => vec![n / 10_000, (n / 100) % 100, n % 100],
        None => {
            let mut n = parsed
                .as_ref()
                .map(|p| p.numbers.clone())
                .unwrap_or_default();
            // "9.6" is the 9.6 line at patch 0; "15.2" is 15's second patch release.
            if n.len() == 2 && n[0] < 10 && prerelease.is_none() {
                n.push(0);
            }
            n
        }
    };
    let lower = v.to_ascii_lowercase();
    let mut flavor_version = None;
    let flavor;
    if let Some(rest) = v.strip_prefix("CockroachDB") {
        flavor = "cockroachdb";
        flavor_version = rest
            .split_whitespace()
            .find(|w| w.starts_with('v'))
            .map(|w| w.trim_start_matches('v').to_string());
    } else if let Some(i) = v.find("-YB-") {
        flavor = "yugabytedb";
        // The build suffix (`-b97`) is part of YugabyteDB's version.
        flavor_version = v[i + 4..]
            .split([' ', ')', ','])
            .next()
            .filter(|s| !s.is_empty())
            .map(str::to_string);
    } else if let Some(i) = v.find("Redshift ") {
        flavor = "redshift";
        flavor_version = v[i + 9..].split_whitespace().next().map(str::to_string);
    } else if lower.contains("enterprisedb") || lower.contains("edb postgres advanced") {
        flavor = "edb-epas";
        flavor_version = after(v, "Advanced Server ")
            .or_else(|| after(v, "EnterpriseDB "))
            .map(|t| t.text);
    } else if let Some(p) = after(v, "PGlite ") {
        flavor = "pglite";
        flavor_version = Some(p.text);
    } else if lower.contains("emscripten")
        || hints
            .get("data_directory")
            .is_some_and(|d| d.starts_with("/pglite"))
    {
        flavor = "pglite";
    } else if let Some(a) = hints.get("aurora_version") {
        flavor = "aurora-postgresql";
        flavor_version = Some(a.to_string());
    } else if hints.get("managed") == Some("alloydb") {
        flavor = "alloydb";
    } else if let Some(c) = hints.get("citus_version") {
        flavor = "citus";
        // citus_version() is a banner ("Citus 12.1.1 on x86_64-pc-linux-gnu, ..."); the
        // extension's own version ("12.1-1") is a version already.
        flavor_version = Some(after(c, "Citus ").map_or_else(|| c.to_string(), |t| t.text));
    } else if let Some(t) = hints.get("timescaledb_version") {
        flavor = "timescaledb";
        flavor_version = Some(t.to_string());
    } else {
        flavor = match hints.get("managed") {
            Some("rds") => "rds-postgresql",
            Some("azure") => "azure-postgresql",
            Some("cloudsql") => "cloudsql-postgresql",
            _ if !numbers.is_empty() => "postgresql",
            _ => return Err(unrecognized()),
        };
    }
    let numbers = if numbers.is_empty() && flavor == "cockroachdb" {
        vec![13, 0] // CockroachDB reports PostgreSQL 13 compatibility
    } else {
        numbers
    };
    let (Some(&major), minor) = (numbers.first(), numbers.get(1).copied().unwrap_or(0)) else {
        return Err(unrecognized());
    };
    if !(6..=99).contains(&major) {
        return Err(unrecognized());
    }
    let patch = numbers.get(2).copied();
    let os = v
        .split(" on ")
        .nth(1)
        .and_then(|s| s.split([',', ' ']).find(|w| !w.is_empty()))
        .map(str::to_string);
    let fv = flavor_version.as_deref().unwrap_or("");
    let line = if major < 10 {
        format!("{major}.{minor}")
    } else {
        major.to_string()
    };
    let mut product = match flavor {
        "cockroachdb" => format!("CockroachDB {fv}"),
        "yugabytedb" => format!("YugabyteDB {fv}"),
        "redshift" => "Amazon Redshift".to_string(),
        "edb-epas" => format!("EDB Postgres Advanced Server {line}"),
        "aurora-postgresql" => format!("Aurora PostgreSQL {line}"),
        "pglite" => format!("PGlite {fv} (PostgreSQL {line})"),
        _ if lower.contains("vfabric") => format!("VMware vFabric Postgres {line}"),
        _ if lower.contains("postgres-xl") => format!("Postgres-XL {line}"),
        _ => format!("PostgreSQL {line}"),
    }
    .replace("  ", " ");
    if flavor == "postgresql" && flavor_version.is_none() {
        flavor_version = ["vFabric Postgres ", "Postgres-XL "]
            .iter()
            .find_map(|m| after(v, m))
            .map(|t| t.text);
    }
    if let Some(pre) = &prerelease {
        product = format!("{product} {pre} (pre-release)");
    }
    Ok(ServerIdentity {
        engine: Engine::Postgres,
        flavor: flavor.to_string(),
        major,
        minor,
        patch,
        flavor_version,
        product: product.trim().to_string(),
        os,
        prerelease,
    })
}

/// A version found in text: its numbers, its pre-release tag, and the token as written.
#[derive(Debug, Clone, PartialEq)]
struct Token {
    numbers: Vec<u64>,
    prerelease: Option<String>,
    text: String,
}

/// The version token at the start of `s`: `15.20`, `16beta1`, `15devel`, `8.4alpha1`,
/// `11rc1`, `10r1.1` (Postgres-XL), `9.5.0.5` (EnterpriseDB), `8.3 beta4`.
fn version_token(s: &str) -> Option<Token> {
    let s = s.trim_start_matches(['[', '(', ' ', 'v']);
    let numbers = leading_numbers(s);
    if numbers.is_empty() {
        return None;
    }
    let end = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let num_text = s[..end].trim_end_matches('.');
    let rest = &s[end..];
    let tag_of = |r: &str| -> Option<String> {
        let r = r.to_ascii_lowercase();
        ["devel", "alpha", "beta", "rc"].iter().find_map(|t| {
            let tail = r.strip_prefix(t)?;
            let digits: String = tail.chars().take_while(char::is_ascii_digit).collect();
            Some(format!("{t}{digits}"))
        })
    };
    let prerelease = tag_of(rest).or_else(|| rest.strip_prefix(' ').and_then(tag_of));
    let word_end = s.find([' ', ',', ')']).unwrap_or(s.len());
    let text = match &prerelease {
        Some(p) if !s[end..].starts_with(' ') => format!("{num_text}{p}"),
        _ => s[..word_end.max(end)]
            .trim_end_matches(['.', ','])
            .to_string(),
    };
    Some(Token {
        numbers,
        prerelease,
        text,
    })
}

/// The version token right after `marker` in `s`.
fn after(s: &str, marker: &str) -> Option<Token> {
    let i = s.find(marker)?;
    version_token(&s[i + marker.len()..])
}

/// The server version in a `version()` string, a `SHOW server_version` value or a client
/// banner (`psql (16.1, server 15.4)`, `psql (PostgreSQL) 15.4`, `postgres (PostgreSQL) 16.2`).
fn banner_version(v: &str) -> Option<Token> {
    // psql's startup banner names the client first and the server after "server ".
    if (v.starts_with("psql (") || v.starts_with("ysqlsh ("))
        && let Some(t) = v.find(", server ").and_then(|i| version_token(&v[i + 9..]))
    {
        return Some(t);
    }
    for marker in [
        "(PostgreSQL) ",
        "PostgreSQL ",
        "EnterpriseDB ",
        "Postgres-XL ",
        "ysqlsh (",
    ] {
        if let Some(t) = v
            .find(marker)
            .and_then(|i| version_token(&v[i + marker.len()..]))
        {
            return Some(t);
        }
    }
    version_token(v).filter(|_| v.starts_with(|c: char| c.is_ascii_digit() || c == '['))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use crate::engine::Engine::Postgres;
    use crate::engines::identify;

    #[test]
    fn field_strings() {
        let debian = "PostgreSQL 15.20 (Debian 15.20-0+deb12u1) on x86_64-pc-linux-gnu, compiled by gcc (Debian 12.2.0-14+deb12u1) 12.2.0, 64-bit";
        let id = identify(Postgres, debian, &[("server_version_num", "150020")]).unwrap();
        assert_eq!(
            (id.flavor.as_str(), id.major, id.minor),
            ("postgresql", 15, 20)
        );
        assert_eq!(id.os.as_deref(), Some("x86_64-pc-linux-gnu"));
        assert_eq!(id.version().to_string(), "15.20.0");
        assert_eq!(id.eol_key(), "15");

        let old = identify(Postgres, "PostgreSQL 9.6.24 on x86_64-pc-linux-gnu", &[]).unwrap();
        assert_eq!(
            (old.major, old.minor, old.patch, old.eol_key().as_str()),
            (9, 6, Some(24), "9.6")
        );

        let aurora = identify(
            Postgres,
            "PostgreSQL 16.4 on aarch64-unknown-linux-gnu, compiled by aarch64-unknown-linux-gnu-gcc (GCC) 9.5.0, 64-bit",
            &[("aurora_version", "16.4.2")],
        )
        .unwrap();
        assert_eq!(
            (aurora.flavor.as_str(), aurora.flavor_version.as_deref()),
            ("aurora-postgresql", Some("16.4.2"))
        );

        let yb = identify(
            Postgres,
            "PostgreSQL 11.2-YB-2.20.1.0-b0 on x86_64-pc-linux-gnu, compiled by clang",
            &[],
        )
        .unwrap();
        assert_eq!(
            (yb.flavor.as_str(), yb.major, yb.flavor_version.as_deref()),
            ("yugabytedb", 11, Some("2.20.1.0-b0"))
        );

        let crdb = identify(
            Postgres,
            "CockroachDB CCL v23.1.11 (x86_64-pc-linux-gnu, built 2023/09/27 01:53:43, go1.19.10)",
            &[("server_version_num", "130000")],
        )
        .unwrap();
        assert_eq!(
            (
                crdb.flavor.as_str(),
                crdb.major,
                crdb.flavor_version.as_deref()
            ),
            ("cockroachdb", 13, Some("23.1.11"))
        );

        let rs = identify(
            Postgres,
            "PostgreSQL 8.0.2 on i686-pc-linux-gnu, compiled by GCC gcc (GCC) 3.4.2 20041017 (Red Hat 3.4.2-6.fc3), Redshift 1.0.77467",
            &[],
        )
        .unwrap();
        assert_eq!(
            (rs.flavor.as_str(), rs.major, rs.flavor_version.as_deref()),
            ("redshift", 8, Some("1.0.77467"))
        );

        let edb = identify(
            Postgres,
            "PostgreSQL 15.2 (EnterpriseDB Advanced Server 15.2.0) on x86_64-pc-linux-gnu",
            &[],
        )
        .unwrap();
        assert_eq!(edb.flavor, "edb-epas");

        let citus = identify(
            Postgres,
            "PostgreSQL 16.2 on x86_64",
            &[("citus_version", "12.1.1")],
        )
        .unwrap();
        assert_eq!(citus.flavor, "citus");
        let ts = identify(
            Postgres,
            "PostgreSQL 16.2 on x86_64",
            &[("timescaledb_version", "2.14.2")],
        )
        .unwrap();
        assert_eq!(ts.flavor, "timescaledb");
        for (marker, flavor) in [
            ("rds", "rds-postgresql"),
            ("azure", "azure-postgresql"),
            ("cloudsql", "cloudsql-postgresql"),
            ("alloydb", "alloydb"),
        ] {
            let m = identify(
                Postgres,
                "PostgreSQL 16.2 on x86_64",
                &[("managed", marker)],
            )
            .unwrap();
            assert_eq!(m.flavor, flavor);
        }
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(identify(Postgres, "hello", &[]).is_err());
        assert!(identify(Postgres, "", &[]).is_err());
        assert!(identify(Postgres, "PostgreSQL ", &[]).is_err());
        assert!(identify(Postgres, "PostgreSQL 99999999999999999999999", &[]).is_err());
    }
}
