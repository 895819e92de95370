//! MySQL-family identification: `VERSION()`, `@@version_comment` and the markers compatible
//! engines and managed services leave (`aurora_version()`, `@@tidb_version`, `@@memsql_version`,
//! Azure's own variables). MariaDB is a flavor here, including its `5.5.5-` prefixed form.

use crate::engine::Engine;
use crate::identity::{Hints, IdentifyError, ServerIdentity, leading_numbers};

/// The flavors this engine names.
pub const FLAVORS: &[&str] = &[
    "mysql",
    "mariadb",
    "percona-server",
    "percona-xtradb-cluster",
    "aurora-mysql",
    "azure-mysql",
    "tidb",
    "vitess",
    "singlestore",
];

/// Identifies a MySQL-family server. Hints: `version_comment`, `aurora_version`,
/// `tidb_version`, `memsql_version`, `managed` (`azure`), `version_compile_os`,
/// `version_compile_machine`.
pub fn identify(v: &str, hints: &Hints) -> Result<ServerIdentity, IdentifyError> {
    let unrecognized = || IdentifyError::Unrecognized {
        engine: Engine::Mysql,
        text: v.chars().take(200).collect(),
    };
    let raw = v.trim();
    let comment = hints.get("version_comment").unwrap_or_default();
    let lower_comment = comment.to_ascii_lowercase();
    // MariaDB before 11 prefixes its version with `5.5.5-` in the protocol handshake (and
    // some proxies pass that on as VERSION()) so that old MySQL clients accept it.
    let v = match raw.strip_prefix("5.5.5-") {
        Some(rest) if rest.contains("MariaDB") => rest,
        _ => raw,
    };
    let numbers = leading_numbers(v);
    let mut flavor_version = None;
    let flavor = if let Some(i) = v.find("-TiDB-") {
        flavor_version = v[i + 6..]
            .split(['-', ' '])
            .next()
            .map(|s| s.trim_start_matches('v').to_string());
        "tidb"
    } else if let Some(t) = hints.get("tidb_version") {
        flavor_version = t
            .lines()
            .find_map(|l| l.trim().strip_prefix("Release Version:"))
            .map(|s| s.trim().trim_start_matches('v').to_string())
            .or_else(|| Some(t.trim_start_matches('v').to_string()));
        "tidb"
    } else if v.contains("Vitess") || lower_comment.contains("vitess") {
        "vitess"
    } else if v.contains("MariaDB") || lower_comment.contains("mariadb") {
        "mariadb"
    } else if let Some(m) = hints.get("memsql_version") {
        flavor_version = Some(m.to_string());
        "singlestore"
    } else if lower_comment.contains("singlestore") || lower_comment.contains("memsql") {
        "singlestore"
    } else if let Some(a) = hints.get("aurora_version") {
        flavor_version = Some(a.to_string());
        "aurora-mysql"
    } else if lower_comment.contains("percona xtradb cluster") {
        flavor_version = percona_release(comment);
        "percona-xtradb-cluster"
    } else if lower_comment.contains("percona server") {
        flavor_version = percona_release(comment);
        "percona-server"
    } else if hints.get("managed") == Some("azure") || lower_comment.contains("azure") {
        "azure-mysql"
    } else if !numbers.is_empty() {
        "mysql"
    } else {
        return Err(unrecognized());
    };
    let (Some(&major), Some(&minor)) = (numbers.first(), numbers.get(1)) else {
        return Err(unrecognized());
    };
    let patch = numbers.get(2).copied();
    let os = match (
        hints.get("version_compile_os"),
        hints.get("version_compile_machine"),
    ) {
        (Some(os), Some(m)) => Some(format!("{os} ({m})")),
        (Some(os), None) => Some(os.to_string()),
        _ => None,
    };
    let fv = flavor_version.as_deref().unwrap_or_default();
    let product = match flavor {
        "mariadb" => format!("MariaDB {major}.{minor}"),
        "percona-server" => format!("Percona Server {major}.{minor}"),
        "percona-xtradb-cluster" => format!("Percona XtraDB Cluster {major}.{minor}"),
        "aurora-mysql" => format!("Aurora MySQL {fv} (MySQL {major}.{minor})"),
        "azure-mysql" => format!("Azure Database for MySQL {major}.{minor}"),
        "tidb" => format!("TiDB {fv}"),
        "vitess" => format!("Vitess (MySQL {major}.{minor})"),
        "singlestore" if !fv.is_empty() => format!("SingleStore {fv}"),
        "singlestore" => "SingleStore".to_string(),
        _ => format!("MySQL {major}.{minor}"),
    };
    Ok(ServerIdentity {
        engine: Engine::Mysql,
        flavor: flavor.to_string(),
        major,
        minor,
        patch,
        flavor_version,
        product: product.trim().to_string(),
        os,
    })
}

/// `Release 27` in Percona's version comment.
fn percona_release(comment: &str) -> Option<String> {
    let i = comment.find("Release ")?;
    comment[i + 8..]
        .split([',', ' '])
        .next()
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use crate::engine::Engine::Mysql;
    use crate::engines::identify;

    fn id(v: &str, hints: &[(&str, &str)]) -> crate::ServerIdentity {
        identify(Mysql, v, hints).unwrap_or_else(|e| panic!("{v}: {e}"))
    }

    #[test]
    fn oracle_mysql() {
        let m = id(
            "8.0.36",
            &[
                ("version_comment", "MySQL Community Server - GPL"),
                ("version_compile_os", "Linux"),
                ("version_compile_machine", "x86_64"),
            ],
        );
        assert_eq!(
            (m.flavor.as_str(), m.major, m.minor, m.patch),
            ("mysql", 8, 0, Some(36))
        );
        assert_eq!(m.eol_key(), "8.0");
        assert_eq!(m.product, "MySQL 8.0");
        assert_eq!(m.os.as_deref(), Some("Linux (x86_64)"));
        let lts = id(
            "8.4.3",
            &[("version_comment", "MySQL Community Server - GPL")],
        );
        assert_eq!((lts.eol_key().as_str(), lts.patch), ("8.4", Some(3)));
        let ubuntu = id(
            "8.0.40-0ubuntu0.22.04.1",
            &[("version_comment", "(Ubuntu)")],
        );
        assert_eq!((ubuntu.flavor.as_str(), ubuntu.patch), ("mysql", Some(40)));
    }

    #[test]
    fn mariadb_with_and_without_the_5_5_5_prefix() {
        for v in [
            "5.5.5-10.11.6-MariaDB-0+deb12u1",
            "10.11.6-MariaDB-0+deb12u1",
            "10.11.6-MariaDB-log",
        ] {
            let m = id(v, &[("version_comment", "Debian 12")]);
            assert_eq!(
                (m.flavor.as_str(), m.major, m.minor, m.patch),
                ("mariadb", 10, 11, Some(6)),
                "{v}"
            );
            assert_eq!(m.product, "MariaDB 10.11");
            assert_eq!(m.eol_key(), "10.11");
        }
        let by_comment = id(
            "11.4.2",
            &[("version_comment", "mariadb.org binary distribution")],
        );
        assert_eq!(by_comment.flavor, "mariadb");
    }

    #[test]
    fn percona() {
        let ps = id(
            "8.0.36-28",
            &[(
                "version_comment",
                "Percona Server (GPL), Release 28, Revision 47601f19",
            )],
        );
        assert_eq!(
            (ps.flavor.as_str(), ps.flavor_version.as_deref(), ps.patch),
            ("percona-server", Some("28"), Some(36))
        );
        let pxc = id(
            "8.0.35-27.1",
            &[(
                "version_comment",
                "Percona XtraDB Cluster (GPL), Release rel27, Revision 84d9464, WSREP version 26.1.4.3",
            )],
        );
        assert_eq!(
            (pxc.flavor.as_str(), pxc.flavor_version.as_deref()),
            ("percona-xtradb-cluster", Some("rel27"))
        );
    }

    #[test]
    fn managed_services() {
        let aurora = id(
            "8.0.32",
            &[
                ("version_comment", "Source distribution"),
                ("aurora_version", "3.05.2"),
            ],
        );
        assert_eq!(
            (
                aurora.flavor.as_str(),
                aurora.flavor_version.as_deref(),
                aurora.major
            ),
            ("aurora-mysql", Some("3.05.2"), 8)
        );
        let azure = id(
            "8.0.21",
            &[("version_comment", "MySQL Community Server - GPL")],
        );
        assert_eq!(azure.flavor, "mysql");
        let azure = id("8.0.21", &[("managed", "azure")]);
        assert_eq!(azure.flavor, "azure-mysql");
        let azure = id(
            "5.7.44-log",
            &[("version_comment", "Azure Database for MySQL")],
        );
        assert_eq!((azure.flavor.as_str(), azure.minor), ("azure-mysql", 7));
    }

    #[test]
    fn compatible_engines() {
        let tidb = id("8.0.11-TiDB-v7.5.1", &[]);
        assert_eq!(
            (
                tidb.flavor.as_str(),
                tidb.major,
                tidb.minor,
                tidb.flavor_version.as_deref()
            ),
            ("tidb", 8, 0, Some("7.5.1"))
        );
        let tidb = id(
            "5.7.25",
            &[(
                "tidb_version",
                "Release Version: v6.5.0\nEdition: Community",
            )],
        );
        assert_eq!(
            (tidb.flavor.as_str(), tidb.flavor_version.as_deref()),
            ("tidb", Some("6.5.0"))
        );
        let vitess = id("8.0.30-Vitess", &[]);
        assert_eq!((vitess.flavor.as_str(), vitess.major), ("vitess", 8));
        let s2 = id("5.7.32", &[("version_comment", "SingleStore")]);
        assert_eq!((s2.flavor.as_str(), s2.minor), ("singlestore", 7));
        let s2 = id("5.7.32", &[("memsql_version", "8.5.7")]);
        assert_eq!(
            (s2.flavor.as_str(), s2.flavor_version.as_deref()),
            ("singlestore", Some("8.5.7"))
        );
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for v in ["hello", "", "MariaDB", "8", "99999999999999999999999.1"] {
            assert!(identify(Mysql, v, &[]).is_err(), "{v}");
        }
    }
}
