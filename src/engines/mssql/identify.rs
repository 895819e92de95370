//! SQL Server identification: `@@VERSION` and `SERVERPROPERTY` (ProductVersion, EngineEdition,
//! Edition, ProductLevel, ProductUpdateLevel) tell SQL Server 2008 to 2025 apart from the Azure
//! services, SQL Edge and Amazon RDS.

use crate::engine::Engine;
use crate::identity::{Hints, IdentifyError, ServerIdentity, leading_numbers};

/// The flavors this engine names.
pub const FLAVORS: &[&str] = &[
    "sqlserver",
    "azure-sql-database",
    "azure-sql-managed-instance",
    "azure-synapse",
    "azure-sql-edge",
    "rds-sqlserver",
];

/// Flavors Microsoft runs as an always-current service: no release line, no end of life, and
/// `ProductVersion` says 12.0 whatever the engine is.
pub fn is_evergreen(flavor: &str) -> bool {
    matches!(
        flavor,
        "azure-sql-database" | "azure-sql-managed-instance" | "azure-synapse"
    )
}

/// The product year of a major version (`16` gives `2022`).
pub fn release_name(major: u64, minor: u64) -> Option<&'static str> {
    Some(match (major, minor) {
        (17, _) => "2025",
        (16, _) => "2022",
        (15, _) => "2019",
        (14, _) => "2017",
        (13, _) => "2016",
        (12, _) => "2014",
        (11, _) => "2012",
        (10, 50) => "2008 R2",
        (10, _) => "2008",
        (9, _) => "2005",
        _ => return None,
    })
}

/// Identifies a SQL Server. `v` is `@@VERSION`; hints: `product_version`, `engine_edition`,
/// `edition`, `product_level`, `product_update_level`, `server_name`, `host`, `rds`.
pub fn identify(v: &str, hints: &Hints) -> Result<ServerIdentity, IdentifyError> {
    let unrecognized = || IdentifyError::Unrecognized {
        engine: Engine::Mssql,
        text: v.chars().take(200).collect(),
    };
    // ProductVersion is exact; the banner's " - 16.0.4135.4 (X64)" is the fallback. A bare
    // version is ProductVersion pasted, the TDS greeting (`16.0.4135`), or an Amazon RDS
    // engine version (`15.00.4345.5.v1`).
    let bare = bare_version(v);
    let numbers = match hints.get("product_version") {
        Some(pv) => leading_numbers(pv),
        None if bare.is_some() => bare.clone().map(|b| b.0).unwrap_or_default(),
        None => banner_version(v),
    };
    if numbers.len() < 2 || numbers[0] == 0 || numbers[0] > 99 {
        return Err(unrecognized());
    }
    let (major, minor, build) = (numbers[0], numbers[1], numbers.get(2).copied());
    let engine_edition = hints
        .get("engine_edition")
        .and_then(|e| e.parse::<i64>().ok());
    let banner = v.to_ascii_lowercase();
    let looks_like_sql_server = banner.contains("sql server")
        || banner.contains("sql azure")
        || banner.contains("azure sql")
        || hints.get("product_version").is_some()
        || bare.is_some();
    if !looks_like_sql_server {
        return Err(unrecognized());
    }
    let rds = hints.get("rds").is_some()
        || bare.as_ref().is_some_and(|b| b.1)
        || ["server_name", "host"].iter().any(|k| {
            hints.get(k).is_some_and(|h| {
                let h = h.to_ascii_lowercase();
                h.contains(".rds.amazonaws.com") || h.starts_with("ec2amaz-")
            })
        });
    let flavor = match engine_edition {
        Some(5) => "azure-sql-database",
        Some(8) => "azure-sql-managed-instance",
        Some(9) => "azure-sql-edge",
        Some(6) | Some(11) => "azure-synapse",
        _ if banner.contains("azure sql edge") => "azure-sql-edge",
        _ if banner.contains("azure sql data warehouse") || banner.contains("synapse") => {
            "azure-synapse"
        }
        _ if banner.contains("sql azure") && engine_edition.is_none() => "azure-sql-database",
        _ if rds => "rds-sqlserver",
        _ => "sqlserver",
    };
    let level = [
        hints.get("product_level"),
        hints.get("product_update_level"),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join("-");
    let edition = hints
        .get("edition")
        .map(|e| e.trim_end_matches(" (64-bit)").to_string());
    let year = release_name(major, minor);
    let product = match flavor {
        "azure-sql-database" => "Azure SQL Database".to_string(),
        "azure-sql-managed-instance" => "Azure SQL Managed Instance".to_string(),
        "azure-synapse" => "Azure Synapse Analytics".to_string(),
        "azure-sql-edge" => "Azure SQL Edge".to_string(),
        _ => {
            let mut p = match year {
                Some(y) => format!("SQL Server {y}"),
                None => format!("SQL Server {major}.{minor}"),
            };
            if flavor == "rds-sqlserver" {
                p = format!("Amazon RDS for {p}");
            }
            if !level.is_empty() {
                p.push_str(&format!(" {level}"));
            }
            if let Some(e) = edition.as_deref().filter(|e| !e.is_empty()) {
                p.push_str(&format!(" ({e})"));
            }
            p
        }
    };
    let flavor_version = match flavor {
        // The service's own engine build, since its ProductVersion is a constant 12.0.
        f if is_evergreen(f) => hints.get("product_version").map(str::to_string),
        "azure-sql-edge" => hints.get("product_version").map(str::to_string),
        _ => None,
    };
    Ok(ServerIdentity {
        engine: Engine::Mssql,
        flavor: flavor.to_string(),
        major,
        minor,
        patch: build,
        flavor_version,
        product,
        os: banner_os(v),
        prerelease: banner_prerelease(v),
    })
}

/// `Microsoft SQL Server 2019 (CTP3.0) - ...`, `Microsoft SQL Server 2022 (RC0) - ...`: a
/// community technology preview or release candidate.
fn banner_prerelease(v: &str) -> Option<String> {
    let head = v.split(" - ").next()?;
    head.split(['(', ')'])
        .map(str::trim)
        .find(|p| {
            let u = p.to_ascii_uppercase();
            (u.starts_with("CTP") || u.starts_with("RC"))
                && p[2..].chars().any(|c| c.is_ascii_digit())
        })
        .map(str::to_string)
}

/// `16.0.4135.4`, `16.0.4135`, `15.00.4345.5.v1`: the numbers, and whether the `.vN` suffix of
/// an Amazon RDS engine version was there.
fn bare_version(v: &str) -> Option<(Vec<u64>, bool)> {
    let v = v.trim();
    let (body, rds) = match v.rsplit_once(".v") {
        Some((body, n)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => (body, true),
        _ => (v, false),
    };
    let parts: Vec<&str> = body.split('.').collect();
    let numeric = parts
        .iter()
        .all(|p| !p.is_empty() && p.len() <= 6 && p.bytes().all(|b| b.is_ascii_digit()));
    // RDS writes the minor with two digits (`15.00.4345.5`); SQL Server itself writes `15.0`.
    let rds = rds || (parts.len() == 4 && parts[1] == "00" && parts[0].len() == 2);
    (numeric && (3..=4).contains(&parts.len())).then(|| (leading_numbers(body), rds))
}

/// `... - 16.0.4135.4 (X64)` in the banner.
fn banner_version(v: &str) -> Vec<u64> {
    v.split(" - ")
        .skip(1)
        .map(|part| leading_numbers(part.trim()))
        .find(|n| n.len() >= 3)
        .unwrap_or_default()
}

/// `... on Linux (Ubuntu 22.04.4 LTS) <X64>` or `... on Windows Server 2019 Datacenter 10.0 <X64>`.
fn banner_os(v: &str) -> Option<String> {
    let i = v.rfind(" on ")?;
    let os = v[i + 4..].split(" <").next().unwrap_or_default();
    let os = os
        .split(" (Build")
        .next()
        .unwrap_or_default()
        .split(" (Hypervisor)")
        .next()
        .unwrap_or_default()
        .trim();
    (!os.is_empty()).then(|| os.to_string())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use crate::engine::Engine::Mssql;
    use crate::engines::identify;

    // @@VERSION banners as SQL Server prints them (Microsoft docs and field reports).
    const B2012: &str = "Microsoft SQL Server 2012 (SP4-GDR) (KB4583465) - 11.0.7507.2 (X64) \n\tNov  1 2020 00:48:37 \n\tCopyright (c) Microsoft Corporation\n\tStandard Edition (64-bit) on Windows NT 6.3 <X64> (Build 9600: ) (Hypervisor)\n";
    const B2014: &str = "Microsoft SQL Server 2014 (SP3-CU4-GDR) (KB5014164) - 12.0.6439.10 (X64) \n\tApr 20 2022 03:15:24 \n\tCopyright (c) Microsoft Corporation\n\tEnterprise Edition (64-bit) on Windows NT 6.3 <X64> (Build 17763: ) (Hypervisor)\n";
    const B2016: &str = "Microsoft SQL Server 2016 (SP3) (KB5003279) - 13.0.6300.2 (X64) \n\tAug  7 2021 01:20:37 \n\tCopyright (c) Microsoft Corporation\n\tExpress Edition (64-bit) on Windows Server 2016 Datacenter 10.0 <X64> (Build 14393: ) (Hypervisor)\n";
    const B2017: &str = "Microsoft SQL Server 2017 (RTM-CU31) (KB5016884) - 14.0.3456.2 (X64) \n\tSep  2 2022 11:01:50 \n\tCopyright (C) 2017 Microsoft Corporation\n\tDeveloper Edition (64-bit) on Linux (Ubuntu 18.04.6 LTS)";
    const B2019: &str = "Microsoft SQL Server 2019 (RTM-CU27) (KB5037331) - 15.0.4375.4 (X64) \n\tJun 10 2024 18:00:07 \n\tCopyright (C) 2019 Microsoft Corporation\n\tEnterprise Edition: Core-based Licensing (64-bit) on Windows Server 2019 Datacenter 10.0 <X64> (Build 17763: ) (Hypervisor)\n";
    const B2022: &str = "Microsoft SQL Server 2022 (RTM-CU14) (KB5038325) - 16.0.4135.4 (X64) \n\tJul 10 2024 14:09:09 \n\tCopyright (C) 2022 Microsoft Corporation\n\tDeveloper Edition (64-bit) on Linux (Ubuntu 22.04.4 LTS) <X64>";
    const B2025: &str = "Microsoft SQL Server 2025 (RTM) - 17.0.1000.7 (X64) \n\tOct 21 2025 12:05:57 \n\tCopyright (C) 2025 Microsoft Corporation\n\tEnterprise Developer Edition (64-bit) on Linux (Ubuntu 24.04.3 LTS) <X64>";
    const AZURE: &str = "Microsoft SQL Azure (RTM) - 12.0.2000.8 \n\tJul 11 2024 17:09:56 \n\tCopyright (C) 2022 Microsoft Corporation\n";
    const EDGE: &str = "Microsoft Azure SQL Edge Developer (RTM) - 15.0.2000.1574 (ARM64) \n\tSep 21 2022 13:55:55 \n\tCopyright (C) 2019 Microsoft Corporation\n\tLinux (Ubuntu 18.04.6 LTS aarch64) <ARM64>";

    #[test]
    fn sql_server_2012_to_2025_from_the_banner() {
        for (banner, major, build, product) in [
            (B2012, 11, 7507, "SQL Server 2012"),
            (B2014, 12, 6439, "SQL Server 2014"),
            (B2016, 13, 6300, "SQL Server 2016"),
            (B2017, 14, 3456, "SQL Server 2017"),
            (B2019, 15, 4375, "SQL Server 2019"),
            (B2022, 16, 4135, "SQL Server 2022"),
            (B2025, 17, 1000, "SQL Server 2025"),
        ] {
            let id = identify(Mssql, banner, &[]).unwrap();
            assert_eq!(id.flavor, "sqlserver", "{banner}");
            assert_eq!((id.major, id.minor, id.patch), (major, 0, Some(build)));
            assert_eq!(id.product, product);
            assert_eq!(id.eol_key(), major.to_string());
        }
    }

    #[test]
    fn serverproperty_hints_refine_the_banner() {
        let id = identify(
            Mssql,
            B2022,
            &[
                ("product_version", "16.0.4135.4"),
                ("product_level", "RTM"),
                ("product_update_level", "CU14"),
                ("edition", "Developer Edition (64-bit)"),
                ("engine_edition", "3"),
            ],
        )
        .unwrap();
        assert_eq!(id.version().to_string(), "16.0.4135");
        assert_eq!(id.product, "SQL Server 2022 RTM-CU14 (Developer Edition)");
        assert_eq!(id.os.as_deref(), Some("Linux (Ubuntu 22.04.4 LTS)"));
        let win = identify(Mssql, B2019, &[]).unwrap();
        assert_eq!(
            win.os.as_deref(),
            Some("Windows Server 2019 Datacenter 10.0")
        );
        let r2 = identify(
            Mssql,
            "Microsoft SQL Server 2008 R2 (SP3) - 10.50.6000.34 (X64)",
            &[],
        )
        .unwrap();
        assert_eq!(
            (r2.product.as_str(), r2.eol_key().as_str()),
            ("SQL Server 2008 R2", "10.50")
        );
    }

    #[test]
    fn azure_services_edge_and_rds_are_told_apart() {
        let db = identify(
            Mssql,
            AZURE,
            &[
                ("product_version", "12.0.2000.8"),
                ("engine_edition", "5"),
                ("edition", "SQL Azure"),
            ],
        )
        .unwrap();
        assert_eq!(
            (db.flavor.as_str(), db.product.as_str()),
            ("azure-sql-database", "Azure SQL Database")
        );
        assert_eq!(
            identify(Mssql, AZURE, &[]).unwrap().flavor,
            "azure-sql-database"
        );
        let mi = identify(Mssql, AZURE, &[("engine_edition", "8")]).unwrap();
        assert_eq!(mi.flavor, "azure-sql-managed-instance");
        for ee in ["6", "11"] {
            let syn = identify(Mssql, AZURE, &[("engine_edition", ee)]).unwrap();
            assert_eq!(syn.flavor, "azure-synapse");
        }
        let edge = identify(Mssql, EDGE, &[("engine_edition", "9")]).unwrap();
        assert_eq!((edge.flavor.as_str(), edge.major), ("azure-sql-edge", 15));
        assert_eq!(identify(Mssql, EDGE, &[]).unwrap().flavor, "azure-sql-edge");
        let rds = identify(
            Mssql,
            B2019,
            &[("engine_edition", "2"), ("server_name", "EC2AMAZ-7L2K3J1")],
        )
        .unwrap();
        assert_eq!(rds.flavor, "rds-sqlserver");
        assert!(rds.product.starts_with("Amazon RDS for SQL Server 2019"));
        let by_host = identify(
            Mssql,
            B2019,
            &[("host", "mydb.abc123xyz.eu-west-1.rds.amazonaws.com")],
        )
        .unwrap();
        assert_eq!(by_host.flavor, "rds-sqlserver");
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for bad in [
            "hello",
            "Microsoft SQL Server",
            "Microsoft SQL Server 2022 - abc",
            "PostgreSQL 15.2 on x86_64",
            "Microsoft SQL Server - 99999999999999999999999.0.1",
        ] {
            assert!(identify(Mssql, bad, &[]).is_err(), "{bad}");
        }
        assert!(identify(Mssql, "", &[]).is_err());
    }
}
