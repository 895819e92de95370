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
];

/// Identifies a PostgreSQL-family server. Hints: `server_version_num`, `aurora_version`,
/// `citus_version`, `timescaledb_version`, `managed` (`rds`, `azure`, `cloudsql`, `alloydb`).
pub fn identify(v: &str, hints: &Hints) -> Result<ServerIdentity, IdentifyError> {
    let unrecognized = || IdentifyError::Unrecognized {
        engine: Engine::Postgres,
        text: v.chars().take(200).collect(),
    };
    let mut flavor_version = None;
    let flavor;
    // `server_version_num` is the exact compatibility version: version() is free text that
    // forks rewrite (CockroachDB does not even say "PostgreSQL" in it).
    let numbers = match hints
        .get("server_version_num")
        .and_then(|n| n.parse::<u64>().ok())
    {
        Some(n) if n >= 100_000 => vec![n / 10_000, n % 10_000, 0],
        Some(n) => vec![n / 10_000, (n / 100) % 100, n % 100],
        None => {
            let rest = v.trim().strip_prefix("PostgreSQL ").unwrap_or_default();
            let mut n = leading_numbers(rest);
            if n.len() == 2 && n[0] < 10 {
                n.push(0);
            }
            n
        }
    };
    if let Some(rest) = v.strip_prefix("CockroachDB") {
        flavor = "cockroachdb";
        flavor_version = rest
            .split_whitespace()
            .find(|w| w.starts_with('v'))
            .map(|w| w.trim_start_matches('v').to_string());
    } else if let Some(i) = v.find("-YB-") {
        flavor = "yugabytedb";
        flavor_version = v[i + 4..].split(['-', ' ']).next().map(str::to_string);
    } else if let Some(i) = v.find("Redshift ") {
        flavor = "redshift";
        flavor_version = v[i + 9..].split_whitespace().next().map(str::to_string);
    } else if v.contains("EnterpriseDB") || v.contains("EDB Postgres Advanced") {
        flavor = "edb-epas";
    } else if let Some(a) = hints.get("aurora_version") {
        flavor = "aurora-postgresql";
        flavor_version = Some(a.to_string());
    } else if hints.get("managed") == Some("alloydb") {
        flavor = "alloydb";
    } else if let Some(c) = hints.get("citus_version") {
        flavor = "citus";
        flavor_version = Some(c.to_string());
    } else if let Some(t) = hints.get("timescaledb_version") {
        flavor = "timescaledb";
        flavor_version = Some(t.to_string());
    } else {
        flavor = match hints.get("managed") {
            Some("rds") => "rds-postgresql",
            Some("azure") => "azure-postgresql",
            Some("cloudsql") => "cloudsql-postgresql",
            _ if v.trim_start().starts_with("PostgreSQL ") || !numbers.is_empty() => "postgresql",
            _ => return Err(unrecognized()),
        };
    }
    let numbers = if numbers.is_empty() && flavor == "cockroachdb" {
        vec![13, 0, 0] // CockroachDB reports PostgreSQL 13 compatibility
    } else {
        numbers
    };
    let (Some(&major), minor) = (numbers.first(), numbers.get(1).copied().unwrap_or(0)) else {
        return Err(unrecognized());
    };
    let patch = numbers.get(2).copied();
    let os = v
        .split(" on ")
        .nth(1)
        .and_then(|s| s.split(',').next())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    let product = match flavor {
        "cockroachdb" => format!("CockroachDB {}", flavor_version.as_deref().unwrap_or("")),
        "yugabytedb" => format!("YugabyteDB {}", flavor_version.as_deref().unwrap_or("")),
        "redshift" => "Amazon Redshift".to_string(),
        "edb-epas" => format!("EDB Postgres Advanced Server {major}"),
        "aurora-postgresql" => format!("Aurora PostgreSQL {major}"),
        _ if major < 10 => format!("PostgreSQL {major}.{minor}"),
        _ => format!("PostgreSQL {major}"),
    };
    Ok(ServerIdentity {
        engine: Engine::Postgres,
        flavor: flavor.to_string(),
        major,
        minor,
        patch,
        flavor_version,
        product: product.trim().to_string(),
        os,
    })
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
            ("yugabytedb", 11, Some("2.20.1.0"))
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
