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

/// Identifies a MySQL-family server. `v` is `VERSION()`, the protocol greeting's version, a
/// `mysql`/`mysqld` banner (`Ver 8.0.36 for Linux`, `Ver 15.1 Distrib 10.11.6-MariaDB`) or a
/// cloud console's engine version (`8.0.mysql_aurora.3.05.2`). Hints: `version_comment`,
/// `aurora_version`, `basedir`, `handshake_version`, `tidb_version`, `memsql_version`,
/// `managed` (`azure`), `version_compile_os`, `version_compile_machine`.
pub fn identify(v: &str, hints: &Hints) -> Result<ServerIdentity, IdentifyError> {
    let unrecognized = || IdentifyError::Unrecognized {
        engine: Engine::Mysql,
        text: v.chars().take(200).collect(),
    };
    let banner = client_banner(v.trim());
    let v = banner.version;
    let comment = hints
        .get("version_comment")
        .or(banner.comment)
        .unwrap_or_default();
    let lower = v.to_ascii_lowercase();
    let lower_comment = comment.to_ascii_lowercase();
    let handshake = hints.get("handshake_version").unwrap_or_default();
    let basedir = hints.get("basedir").unwrap_or_default();
    let aurora_text = [v, basedir]
        .into_iter()
        .find(|t| t.to_ascii_lowercase().contains("mysql_aurora."));
    // MariaDB says so, or hides behind its old-client prefix (`5.5.5-10.2.12`) or its proxy
    // (MaxScale: `5.5.5-10.2.12 2.2.9-maxscale`).
    let mariadb = lower.contains("mariadb")
        || lower.contains("maxscale")
        || lower_comment.contains("mariadb")
        || handshake.to_ascii_lowercase().contains("mariadb")
        || v.strip_prefix("5.5.5-")
            .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()));
    let tokens = tokens(v);
    // MariaDB's version sits next to its name, wherever a proxy or an old-client prefix
    // (`5.5.5-`) put it; the others lead with theirs.
    let main = if mariadb {
        mariadb_token(v, &tokens)
    } else {
        tokens.first().filter(|t| t.start == 0).cloned()
    };
    let mut numbers = main.as_ref().map(|t| t.numbers.clone()).unwrap_or_default();
    if numbers.is_empty() && !handshake.is_empty() {
        numbers = leading_numbers(handshake);
    }
    let mut flavor_version = None;
    let mut prerelease = main.as_ref().and_then(|t| suffix_prerelease(&v[t.end..]));
    let flavor = if let Some(i) = lower.find("-tidb-") {
        let fv = v[i + 6..]
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .trim_start_matches(['v', 'V']);
        prerelease = suffix_prerelease(&fv[fv.find('-').unwrap_or(fv.len())..]);
        flavor_version = Some(fv.to_string()).filter(|s| !s.is_empty());
        "tidb"
    } else if let Some(t) = hints.get("tidb_version") {
        flavor_version = t
            .lines()
            .find_map(|l| l.trim().strip_prefix("Release Version:"))
            .map(|s| s.trim().trim_start_matches('v').to_string())
            .or_else(|| Some(t.trim_start_matches('v').to_string()));
        "tidb"
    } else if lower.contains("vitess")
        || lower_comment.contains("vitess")
        || (comment.starts_with("Version: ") && comment.contains("Git revision"))
    {
        flavor_version = lower
            .find("vitess-")
            .map(|i| &v[i + 7..])
            .or_else(|| comment.strip_prefix("Version: "))
            .and_then(|s| s.split_whitespace().next())
            .filter(|s| s.starts_with(|c: char| c.is_ascii_digit()))
            .map(str::to_string);
        "vitess"
    } else if mariadb {
        "mariadb"
    } else if let Some(m) = hints.get("memsql_version") {
        flavor_version = Some(m.to_string());
        "singlestore"
    } else if lower_comment.contains("singlestore") || lower_comment.contains("memsql") {
        "singlestore"
    } else if let Some(a) = hints.get("aurora_version") {
        flavor_version = Some(
            after_marker(a, "mysql_aurora.")
                .unwrap_or(a)
                .trim_end_matches('/')
                .to_string(),
        );
        "aurora-mysql"
    } else if let Some(t) = aurora_text {
        // `8.0.mysql_aurora.3.05.2` (console), `/rdsdbbin/oscar-8.0.mysql_aurora.3.05.2.0.29123.0/`
        // (basedir): the Aurora release is the first three numbers after the marker.
        flavor_version = after_marker(t, "mysql_aurora.").map(|rest| {
            rest.split('.')
                .take(3)
                .take_while(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
                .collect::<Vec<_>>()
                .join(".")
        });
        if numbers.is_empty() || t == v {
            let dir = t.trim_end_matches('/').rsplit('/').next().unwrap_or(t);
            numbers = leading_numbers(dir.trim_start_matches("oscar-"));
        }
        "aurora-mysql"
    } else if basedir.starts_with("/rdsdbbin/oscar") || v == "5.6.10a" {
        // `5.6.10a` is the engine version of Aurora MySQL 1 in the console.
        "aurora-mysql"
    } else if lower_comment.contains("xtradb cluster") || lower_comment.contains("percona-xtradb") {
        flavor_version = percona_release(comment);
        "percona-xtradb-cluster"
    } else if lower_comment.contains("percona") || lower.contains("percona") {
        flavor_version = percona_release(comment).or_else(|| percona_suffix(v, main.as_ref()));
        "percona-server"
    } else if hints.get("managed") == Some("azure")
        || lower_comment.contains("azure")
        || lower.contains("azure")
        || is_gateway_version(handshake, v)
        || is_four_part(v)
    {
        "azure-mysql"
    } else if !numbers.is_empty() {
        "mysql"
    } else {
        return Err(unrecognized());
    };
    let (Some(&major), Some(&minor)) = (numbers.first(), numbers.get(1)) else {
        return Err(unrecognized());
    };
    if !(3..=99).contains(&major) {
        return Err(unrecognized());
    }
    let patch = numbers.get(2).copied();
    let os = match (
        hints.get("version_compile_os").or(banner.os),
        hints.get("version_compile_machine").or(banner.machine),
    ) {
        (Some(os), Some(m)) => Some(format!("{os} ({m})")),
        (Some(os), None) => Some(os.to_string()),
        _ => None,
    };
    let fv = flavor_version.as_deref().unwrap_or_default();
    let mut product = match flavor {
        "mariadb" => format!("MariaDB {major}.{minor}"),
        "percona-server" => format!("Percona Server {major}.{minor}"),
        "percona-xtradb-cluster" => format!("Percona XtraDB Cluster {major}.{minor}"),
        "aurora-mysql" => format!("Aurora MySQL {fv} (MySQL {major}.{minor})"),
        "azure-mysql" => format!("Azure Database for MySQL {major}.{minor}"),
        "tidb" => format!("TiDB {fv}"),
        "vitess" if !fv.is_empty() => format!("Vitess {fv} (MySQL {major}.{minor})"),
        "vitess" => format!("Vitess (MySQL {major}.{minor})"),
        "singlestore" if !fv.is_empty() => format!("SingleStore {fv}"),
        "singlestore" => "SingleStore".to_string(),
        _ => format!("MySQL {major}.{minor}"),
    }
    .replace("  ", " ");
    if let Some(p) = &prerelease {
        product = format!("{} {p} (pre-release)", product.trim());
    }
    Ok(ServerIdentity {
        engine: Engine::Mysql,
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

/// What a `mysql --version` / `mysqld --version` banner says; any other text is the version.
struct Banner<'a> {
    version: &'a str,
    comment: Option<&'a str>,
    os: Option<&'a str>,
    machine: Option<&'a str>,
}

/// `mysql  Ver 14.14 Distrib 5.7.44, for Linux (x86_64) using  EditLine wrapper`,
/// `mysqld  Ver 8.0.36 for Linux on x86_64 (MySQL Community Server - GPL)`,
/// `mariadb  Ver 15.1 Distrib 10.11.6-MariaDB, for debian-linux-gnu (x86_64) using readline 5.2`.
fn client_banner(v: &str) -> Banner<'_> {
    let plain = Banner {
        version: v,
        comment: None,
        os: None,
        machine: None,
    };
    let Some(i) = v.find(" Ver ") else {
        return plain;
    };
    // The client's own version is the one after `Ver` unless a `Distrib` names the server's.
    let rest = &v[i + 5..];
    let rest = rest
        .find("Distrib ")
        .map_or(rest, |j| &rest[j + 8..])
        .trim_start();
    let end = rest.find([',', ' ']).unwrap_or(rest.len());
    let version = &rest[..end];
    let tail = &rest[end..];
    let comment = tail
        .find('(')
        .zip(tail.rfind(')'))
        .filter(|(a, b)| a < b)
        .map(|(a, b)| &tail[a + 1..b])
        .filter(|c| !c.contains("x86") && !c.contains("aarch64") && !c.is_empty());
    let os = tail
        .trim_start_matches([',', ' '])
        .strip_prefix("for ")
        .and_then(|t| t.split([' ', ',']).next());
    let machine = tail
        .find(" on ")
        .map(|j| &tail[j + 4..])
        .and_then(|t| t.split([' ', ',', ')']).next())
        .or_else(|| {
            let (a, b) = (tail.find('(')?, tail.find(')')?);
            (a < b && !tail[a + 1..b].contains(' ')).then(|| &tail[a + 1..b])
        });
    Banner {
        version,
        comment,
        os,
        machine,
    }
}

/// A run of dotted numbers in a string, with where it starts and ends.
#[derive(Debug, Clone)]
struct Token {
    start: usize,
    end: usize,
    numbers: Vec<u64>,
}

fn tokens(s: &str) -> Vec<Token> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_digit() && (i == 0 || !b[i - 1].is_ascii_alphanumeric()) {
            let start = i;
            while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'.') {
                i += 1;
            }
            let numbers = leading_numbers(&s[start..i]);
            if !numbers.is_empty() {
                out.push(Token {
                    start,
                    end: i,
                    numbers,
                });
            }
        } else {
            i += 1;
        }
    }
    out
}

/// MariaDB's own version: the number just before its name (`10.2.13-MariaDB`), else the one
/// just after (`MariaDB-10.0.8`), else the first that is not the `5.5.5` old-client prefix.
fn mariadb_token(v: &str, tokens: &[Token]) -> Option<Token> {
    let lower = v.to_ascii_lowercase();
    if let Some(m) = lower.find("mariadb") {
        let before = tokens
            .iter()
            .rfind(|t| t.end <= m && m - t.end <= 1 && t.numbers.len() >= 2);
        let after = tokens
            .iter()
            .find(|t| t.start >= m + 7 && t.start - (m + 7) <= 1 && t.numbers.len() >= 2);
        // `5.5.5-MariaDB-10.0.8`: the old-client prefix sits before the name, the version after.
        let before = before.filter(|t| t.numbers != [5, 5, 5] || after.is_none());
        if let Some(t) = before.or(after) {
            return Some(t.clone());
        }
    }
    tokens
        .iter()
        .find(|t| t.numbers != [5, 5, 5] && t.numbers.len() >= 2)
        .or_else(|| tokens.first())
        .cloned()
}

/// `-rc`, `-dmr`, `-m14`, `-alpha`, `-beta` right after the version.
fn suffix_prerelease(rest: &str) -> Option<String> {
    let word = rest.strip_prefix('-')?.split(['-', ' ', '+']).next()?;
    let w = word.to_ascii_lowercase();
    let tagged = ["alpha", "beta", "rc", "dmr", "gamma"]
        .iter()
        .any(|t| w.starts_with(t))
        || (w.len() > 1 && w.starts_with('m') && w[1..].chars().all(|c| c.is_ascii_digit()));
    tagged.then(|| w.clone())
}

fn after_marker<'a>(s: &'a str, marker: &str) -> Option<&'a str> {
    let i = s.to_ascii_lowercase().find(marker)?;
    Some(&s[i + marker.len()..])
}

/// `a.b.c.d`: no MySQL prints four numbers; Azure's gateway does (`5.6.39.0`, `8.0.15.0`).
fn is_four_part(s: &str) -> bool {
    let s = s.trim();
    s.split('.').count() == 4
        && s.split('.')
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

/// The greeting announced a gateway's four-part version that is not the server's own.
fn is_gateway_version(handshake: &str, version: &str) -> bool {
    is_four_part(handshake) && handshake.trim() != version.trim()
}

/// `Release 27` in Percona's version comment.
fn percona_release(comment: &str) -> Option<String> {
    let i = comment.find("Release ")?;
    comment[i + 8..]
        .split([',', ' '])
        .next()
        .map(|s| s.trim_matches('\''))
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// Percona's release from the version (`8.0.36-28` gives `28`).
fn percona_suffix(v: &str, main: Option<&Token>) -> Option<String> {
    let rest = v[main?.end..].strip_prefix('-')?;
    let r = rest.split(['-', ' ']).next()?;
    r.starts_with(|c: char| c.is_ascii_digit())
        .then(|| r.to_string())
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
