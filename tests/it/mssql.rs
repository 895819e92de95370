//! SQL Server over real TDS: the pysqlbridge peers of `scripts/mssql-peer.sh`, each configured
//! as another server (2022 healthy, 2016 Express at compatibility level 100, a case-sensitive
//! 2019, Azure SQL Database, a self-signed certificate, a read-only database). What the peer
//! cannot answer is proven by the fact fixtures in `src/engines/mssql/checks.rs`.

#![allow(clippy::unwrap_used)]

use crate::support::{
    check_json, finding, mssql_peer, mssql_peer_ca, mssql_peer_password, require, status,
};

/// The peer's URL with options appended.
fn url(profile: &str, options: &str) -> Option<String> {
    let base = require(&format!("SQL Server peer {profile}"), mssql_peer(profile))?;
    Some(if options.is_empty() {
        base
    } else {
        format!("{base}?{options}")
    })
}

fn ca_option() -> String {
    format!("ca={}", mssql_peer_ca().display())
}

fn mssql_checks(report: &serde_json::Value) -> usize {
    report["checks"].as_array().map_or(0, |c| {
        c.iter()
            .filter(|f| f["id"].as_str().is_some_and(|i| i.starts_with("mssql.")))
            .count()
    })
}

fn assert_no_password(text: &str) {
    assert!(
        !text.contains(&mssql_peer_password()),
        "the password leaked: {text}"
    );
}

#[test]
fn sql2022_trusted_without_verification_connects_and_warns() {
    let Some(u) = url("sql2022", "trust_server_certificate=true") else {
        return;
    };
    let (code, r, stdout, stderr) = check_json(&[&u]);
    assert!(mssql_checks(&r) >= 20, "{stdout}");
    assert_eq!(status(&r, "mssql.connection"), "pass", "{stdout}");
    let tls = finding(&r, "mssql.tls");
    assert_eq!(tls["status"], "warn");
    assert!(
        tls["message"]
            .as_str()
            .unwrap()
            .contains("without verification")
    );
    assert!(
        tls["remedy"]
            .as_str()
            .unwrap()
            .contains("ca=/path/to/ca.pem")
    );
    assert_eq!(r["server"]["flavor"], "sqlserver");
    assert_eq!(r["server"]["version"], "16.0.4135");
    for id in [
        "mssql.version",
        "mssql.eol",
        "mssql.flavor",
        "mssql.edition",
        "mssql.system-database",
        "mssql.database-state",
        "mssql.compatibility-level",
        "mssql.collation",
        "mssql.read-committed-snapshot",
        "mssql.auto-close-shrink",
        "mssql.max-connections",
        "mssql.time-zone",
        "mssql.privileges",
        "mssql.writability",
        "mssql.capabilities",
        "mssql.database-size",
        "mssql.platform",
        "mssql.clock-skew",
        "mssql.migrations",
    ] {
        assert_eq!(status(&r, id), "pass", "{id}: {}", finding(&r, id));
    }
    assert_eq!(status(&r, "mssql.sysadmin"), "warn"); // the peer's login is sa
    assert!(
        finding(&r, "mssql.platform")["observed"]
            .as_str()
            .unwrap()
            .contains("Ubuntu")
    );
    assert!(
        finding(&r, "mssql.migrations")["observed"]
            .as_str()
            .unwrap()
            .contains("flyway")
    );
    assert!(r["queries"].as_u64().unwrap() >= 15);
    assert_eq!(code, 0, "warnings only: {stdout}");
    assert_no_password(&stdout);
    assert_no_password(&stderr);
    assert_no_password(&r.to_string());
}

#[test]
fn sql2022_with_its_ca_file_is_verified() {
    let Some(u) = url("sql2022", &ca_option()) else {
        return;
    };
    let (_, r, stdout, _) = check_json(&[&u]);
    let tls = finding(&r, "mssql.tls");
    assert_eq!(tls["status"], "pass", "{stdout}");
    assert!(
        tls["observed"]
            .as_str()
            .unwrap()
            .contains("certificate verified")
    );
}

#[test]
fn an_untrusted_ca_is_refused_by_default_as_unknown_issuer() {
    let Some(u) = url("sql2022", "") else { return };
    let (code, r, _, _) = check_json(&[&u]);
    assert_eq!(code, 1);
    let c = finding(&r, "mssql.connection");
    assert_eq!(
        (c["status"].as_str(), c["observed"].as_str()),
        (Some("fail"), Some("tls"))
    );
    assert!(
        c["message"].as_str().unwrap().contains("unknown issuer"),
        "{c}"
    );
    let remedy = c["remedy"].as_str().unwrap();
    assert!(
        remedy.contains("ca=/path/to/ca.pem") && remedy.contains("trust_server_certificate=true")
    );
}

#[test]
fn a_self_signed_certificate_is_refused_by_default_and_accepted_with_trust() {
    let Some(u) = url("selfsigned", "") else {
        return;
    };
    let (code, r, _, _) = check_json(&[&u]);
    assert_eq!(code, 1);
    let c = finding(&r, "mssql.connection");
    assert_eq!(c["observed"], "tls");
    assert!(
        c["message"].as_str().unwrap().contains("self-signed"),
        "{c}"
    );
    assert!(c["remedy"].as_str().unwrap().contains("self-signed"));
    // Our CA did not sign it either.
    let (_, r, _, _) = check_json(&[&format!("{u}?{}", ca_option())]);
    assert!(
        finding(&r, "mssql.connection")["message"]
            .as_str()
            .unwrap()
            .contains("self-signed")
    );
    // Trusting it works, and warns.
    let (code, r, stdout, _) = check_json(&[&format!("{u}?trust_server_certificate=true")]);
    assert_eq!(status(&r, "mssql.connection"), "pass", "{stdout}");
    assert_eq!(status(&r, "mssql.tls"), "warn");
    assert_eq!(code, 0, "{stdout}");
}

#[test]
fn a_certificate_for_another_host_name_is_a_hostname_mismatch() {
    let Some(u) = url(
        "sql2022",
        &format!("{}&hostnameincertificate=db.example.com", ca_option()),
    ) else {
        return;
    };
    let (code, r, _, _) = check_json(&[&u]);
    assert_eq!(code, 1);
    let c = finding(&r, "mssql.connection");
    assert_eq!(c["observed"], "tls");
    assert!(
        c["message"].as_str().unwrap().contains("hostname mismatch"),
        "{c}"
    );
    assert!(
        c["remedy"]
            .as_str()
            .unwrap()
            .contains("host name the certificate names")
    );
}

#[test]
fn a_wrong_password_is_an_authentication_failure() {
    let Some(u) = url("sql2022", &ca_option()) else {
        return;
    };
    let wrong = u.replace(&mssql_peer_password(), "Not-the-pw-42");
    let (code, r, stdout, stderr) = check_json(&[&wrong]);
    assert_eq!(code, 1);
    let c = finding(&r, "mssql.connection");
    assert_eq!(c["observed"], "authentication", "{c}");
    assert!(c["message"].as_str().unwrap().contains("18456"));
    for text in [stdout, stderr, r.to_string()] {
        assert!(!text.contains("Not-the-pw-42"), "{text}");
    }
}

#[test]
fn a_missing_database_gives_the_create_database_statement() {
    let Some(u) = url("sql2022", &ca_option()) else {
        return;
    };
    let (code, r, _, _) = check_json(&[&u.replace("/app?", "/shop?")]);
    assert_eq!(code, 1);
    let c = finding(&r, "mssql.connection");
    assert_eq!(c["observed"], "database-missing", "{c}");
    assert!(
        c["remedy"]
            .as_str()
            .unwrap()
            .contains("CREATE DATABASE [shop];")
    );
}

#[test]
fn sql2016_express_at_compatibility_level_100() {
    let Some(u) = url("sql2016-oldcompat", "trust_server_certificate=true") else {
        return;
    };
    let (code, r, stdout, _) = check_json(&[&u]);
    assert_eq!(code, 1, "{stdout}");
    assert_eq!(r["server"]["version"], "13.0.6300");
    let compat = finding(&r, "mssql.compatibility-level");
    assert_eq!(compat["status"], "fail");
    assert!(
        compat["remedy"]
            .as_str()
            .unwrap()
            .starts_with("ALTER DATABASE [app] SET COMPATIBILITY_LEVEL = 130;")
    );
    assert_eq!(status(&r, "mssql.eol"), "fail"); // extended support ended 2026-07-14
    assert_eq!(status(&r, "mssql.version"), "warn");
    assert_eq!(status(&r, "mssql.auto-close-shrink"), "warn");
    assert_eq!(status(&r, "mssql.read-committed-snapshot"), "warn");
    assert_eq!(status(&r, "mssql.edition"), "warn");
    assert_eq!(status(&r, "mssql.database-size"), "warn"); // 8200 MB of Express's 10 GB
    assert_eq!(status(&r, "mssql.capabilities"), "fail"); // json needs level 130
    // sys.dm_os_host_info does not exist on 2016 (Msg 208): the OS comes from @@VERSION.
    let p = finding(&r, "mssql.platform");
    assert_eq!(p["status"], "pass");
    assert!(
        p["observed"]
            .as_str()
            .unwrap()
            .contains("Invalid object name"),
        "{p}"
    );
}

#[test]
fn sql2019_with_a_case_sensitive_collation() {
    let Some(u) = url("sql2019-cs", &ca_option()) else {
        return;
    };
    let (_, r, stdout, _) = check_json(&[&u]);
    let c = finding(&r, "mssql.collation");
    assert_eq!(c["status"], "fail", "{stdout}");
    assert!(
        c["observed"]
            .as_str()
            .unwrap()
            .starts_with("Latin1_General_CS_AS (case-sensitive)")
    );
    assert_eq!(status(&r, "mssql.platform"), "pass");
    assert!(
        finding(&r, "mssql.migrations")["observed"]
            .as_str()
            .unwrap()
            .contains("efcore")
    );
}

#[test]
fn azure_sql_database_is_told_apart_and_evergreen() {
    let Some(u) = url("azure", &ca_option()) else {
        return;
    };
    let (_, r, stdout, _) = check_json(&[&u]);
    assert_eq!(r["server"]["flavor"], "azure-sql-database", "{stdout}");
    assert_eq!(status(&r, "mssql.version"), "pass");
    assert_eq!(status(&r, "mssql.eol"), "skip");
    assert_eq!(status(&r, "mssql.sysadmin"), "pass");
    assert!(
        finding(&r, "mssql.edition")["observed"]
            .as_str()
            .unwrap()
            .contains("GeneralPurpose")
    );
    // No host OS anywhere: a skip that says why, never a crash.
    let p = finding(&r, "mssql.platform");
    assert_eq!(p["status"], "skip");
    assert!(
        p["message"]
            .as_str()
            .unwrap()
            .contains("sys.dm_os_host_info"),
        "{p}"
    );
}

#[test]
fn a_read_only_database_fails_writability() {
    let Some(u) = url("readonly", &ca_option()) else {
        return;
    };
    let (code, r, _, _) = check_json(&[&u]);
    assert_eq!(code, 1);
    let w = finding(&r, "mssql.writability");
    assert_eq!(w["status"], "fail");
    assert!(w["remedy"].as_str().unwrap().contains("SET READ_WRITE"));
    assert_eq!(status(&r, "mssql.write-probe"), "skip");
    // --probe-write tries for real: the server refuses with Msg 3906.
    let (_, r, _, _) = check_json(&[&u, "--probe-write"]);
    let p = finding(&r, "mssql.write-probe");
    assert_eq!(p["status"], "fail", "{p}");
    assert!(p["message"].as_str().unwrap().contains("3906"), "{p}");
}

#[test]
fn ado_net_and_jdbc_strings_reach_the_peer() {
    let Some(u) = url("sql2022", "") else { return };
    let port = u
        .rsplit(':')
        .next()
        .and_then(|p| p.split('/').next())
        .unwrap_or("51433")
        .to_string();
    let pw = mssql_peer_password();
    let ca = mssql_peer_ca();
    let ado = format!(
        "Server=tcp:127.0.0.1,{port};Database=app;User Id=sa;Password={pw};Encrypt=true;TrustServerCertificateCA={}",
        ca.display()
    );
    let (_, r, stdout, _) = check_json(&[&ado]);
    assert_eq!(status(&r, "mssql.tls"), "pass", "{stdout}");
    assert_no_password(&stdout);
    let jdbc = format!(
        "jdbc:sqlserver://127.0.0.1:{port};databaseName=app;user=sa;password={pw};encrypt=false;trustServerCertificate=true"
    );
    let (_, r, stdout, _) = check_json(&[&jdbc]);
    let tls = finding(&r, "mssql.tls");
    assert_eq!(tls["status"], "warn", "{stdout}");
    assert!(
        tls["message"]
            .as_str()
            .unwrap()
            .contains("only the login is encrypted")
    );
    assert_no_password(&stdout);
}

#[test]
fn a_server_that_accepts_tcp_but_never_answers_is_a_timeout() {
    // No peer needed: a listener that accepts and then says nothing (a hung server).
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let held: Vec<_> = listener.incoming().take(3).collect();
        std::thread::sleep(std::time::Duration::from_secs(20));
        drop(held);
    });
    let started = std::time::Instant::now();
    let (code, r, _, _) = check_json(&[
        &format!("mssql://sa:Hung-pw-1@127.0.0.1:{port}/app"),
        "--connect-timeout",
        "1",
    ]);
    assert_eq!(code, 1);
    let c = finding(&r, "mssql.connection");
    assert_eq!(c["observed"], "timeout", "{c}");
    assert!(
        c["message"]
            .as_str()
            .unwrap()
            .contains("did not complete the login")
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
}
