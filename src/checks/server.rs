//! The shared checks of reaching the server and knowing what it is: connection, version, end
//! of life, flavor and TLS.

use super::{CommonFacts, TrustMode};
use crate::net::FailureKind;
use crate::registry::{Ctx, Outcome, Verdict};
use crate::report::TargetInfo;

// ---------------------------------------------------------------- connection

/// `engine.connection`: reached, authenticated, latency; a failure classified with its remedy.
/// The fix for a login that stalls after TCP was accepted: no firewall is at fault (the port
/// answered), so the engine's own timeout remedy would mislead.
fn login_stall_remedy(t: &TargetInfo) -> String {
    let at = match (&t.host, t.port) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.clone(),
        _ => "the server".to_string(),
    };
    format!(
        "{at} accepted the TCP connection but the login did not finish in time, so the network path is open. Look at what happens after TCP: a server too busy to start a session (CPU, or every connection slot taken: check its load and active sessions); a connection pooler or proxy in front of it (PgBouncer, ProxySQL, RDS Proxy) waiting for a free server connection; TLS that stalls (a middlebox intercepting it, a TLS-only port reached without TLS, or the reverse); or slow authentication (a reverse-DNS lookup of this machine's address, LDAP/Kerberos/PAM behind the password check). Then retry with a larger --connect-timeout to tell a slow login from a stuck one."
    )
}

pub fn connection(c: &CommonFacts, remedy: fn(FailureKind, &TargetInfo) -> String) -> Outcome {
    let f = &c.connection;
    if let Some(failure) = &f.failure {
        return Ok(Verdict::fail(format!(
            "{} failure: {}",
            failure.kind.as_str(),
            failure.message
        ))
        .observed(failure.kind.as_str())
        .expected("connected and authenticated")
        .remedy(
            if failure.kind == FailureKind::Timeout && f.tcp_ms.is_some() {
                login_stall_remedy(&c.target)
            } else {
                remedy(failure.kind, &c.target)
            },
        ));
    }
    let total = f.dns_ms.unwrap_or(0) + f.tcp_ms.unwrap_or(0) + f.login_ms.unwrap_or(0);
    let mut parts = Vec::new();
    if let Some(ms) = f.dns_ms {
        parts.push(format!("dns {ms} ms"));
    }
    if let Some(ms) = f.tcp_ms {
        parts.push(format!("tcp {ms} ms"));
    }
    if let Some(ms) = f.login_ms {
        parts.push(format!("login {ms} ms"));
    }
    let latency = if parts.is_empty() {
        "local file".to_string()
    } else if let (true, Some(age)) = (f.reach_shared, f.reach_age_ms) {
        format!(
            "{} (dns and tcp measured {} ago by an earlier check of this server)",
            parts.join(", "),
            human_ms(age)
        )
    } else if f.reach_shared {
        format!(
            "{} (dns and tcp measured once for this server in this run)",
            parts.join(", ")
        )
    } else {
        parts.join(", ")
    };
    let v = if let Some(risk) = &f.auth_risk {
        Verdict::warn(format!("connected, but {risk}"))
            .remedy("Set password_encryption = 'scram-sha-256', reset the role's password, change md5 to scram-sha-256 in pg_hba.conf, and enable TLS (ssl = on), then connect with sslmode=verify-full.")
    } else if total > 1000 {
        Verdict::warn(format!("connected, but slowly ({total} ms): our pool will feel it"))
            .remedy("Run the check from the network our product connects from; look for a VPN or a distant region.")
    } else if f.tcp_ms.is_none() {
        Verdict::pass(format!("opened in {total} ms"))
    } else {
        Verdict::pass(format!("connected and authenticated in {total} ms"))
    };
    Ok(v.observed(latency))
}

// ---------------------------------------------------------------- version

/// `engine.version`: the server version against `versions`, `recommended` and `tested_up_to`.
pub fn version(c: &CommonFacts, ctx: &Ctx) -> Outcome {
    let id = c.identity.get()?;
    let v = id.version();
    let r = ctx.rules;
    let observed = format!("{} ({v})", id.product);
    if r.versions.is_none() && r.recommended.is_none() && r.tested_up_to.is_none() {
        return Ok(Verdict::skip(format!(
            "the matrix's [{}] table names no versions",
            ctx.rules_name
        ))
        .observed(observed));
    }
    let expected = [
        r.versions.as_ref().map(|q| format!("versions {q}")),
        r.recommended.as_ref().map(|q| format!("recommended {q}")),
        r.tested_up_to.map(|b| format!("tested up to {b}")),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join("; ");
    let verdict = if let Some(q) = r.versions.as_ref().filter(|q| !q.req.matches(&v)) {
        Verdict::fail(format!(
            "{} is not supported: the matrix requires {q}",
            id.product
        ))
        .remedy(format!(
            "Upgrade the server to a version matching {q}, or connect a database that runs one."
        ))
    } else if let Some(b) = r.tested_up_to.filter(|b| b.is_exceeded_by(&v)) {
        Verdict::warn(format!("{} is newer than the versions we have tested (up to {b}): not yet tested", id.product))
            .remedy("It is likely to work; tell support so the version gets tested, or use a tested version.")
    } else if let Some(q) = r.recommended.as_ref().filter(|q| !q.req.matches(&v)) {
        Verdict::warn(format!(
            "{} is supported but not recommended ({q} is)",
            id.product
        ))
        .remedy(format!("Plan an upgrade to a version matching {q}."))
    } else {
        Verdict::pass(format!("{} is supported", id.product))
    };
    Ok(verdict.observed(observed).expected(expected))
}

/// `engine.eol`: the vendor's end-of-life date for this release line. `eol_flavor` maps the
/// detected flavor to the flavor whose dates apply, or `None` when no vendor data applies.
pub fn end_of_life(
    c: &CommonFacts,
    ctx: &Ctx,
    eol_flavor: fn(&str) -> Option<&'static str>,
) -> Outcome {
    let id = c.identity.get()?;
    let Some(flavor) = eol_flavor(&id.flavor) else {
        return Ok(Verdict::skip(format!(
            "no vendor end-of-life data applies to {}",
            id.flavor
        ))
        .observed(&id.product));
    };
    let key = id.eol_key();
    let Some(release) = ctx.eol.find(id.engine, flavor, &key) else {
        return Ok(Verdict::skip(format!(
            "no end-of-life date for {} {key} in the shipped data (recorded {})",
            flavor, ctx.eol.data_date
        ))
        .observed(&id.product));
    };
    let Some(eol) = release.eol() else {
        return Err(crate::probe::Unavailable::Error(format!(
            "bad date `{}` in checks/eol.json",
            release.eol_date
        )));
    };
    let days = (eol - ctx.today).whole_days();
    let name = release
        .product_name
        .clone()
        .unwrap_or_else(|| format!("{flavor} {key}"));
    let source = release.source.split_whitespace().next().unwrap_or_default();
    let observed = format!("{name}: end of life {eol} (source: {source})");
    let v = if days < 0 {
        Verdict::fail(format!(
            "{name} reached its vendor end of life on {eol}, {} days ago: no more security fixes",
            -days
        ))
        .remedy("Upgrade to a supported major version.")
    } else if days <= i64::from(ctx.matrix.app.eol_warn_days) {
        Verdict::warn(format!(
            "{name} reaches its vendor end of life on {eol}, in {days} days"
        ))
        .remedy("Plan the upgrade to a newer major version before that date.")
    } else {
        Verdict::pass(format!("{name} is supported by its vendor until {eol}"))
    };
    Ok(v.observed(observed).expected(format!(
        "more than {} days before end of life",
        ctx.matrix.app.eol_warn_days
    )))
}

/// `engine.flavor`: the detected product against the matrix's `flavors`.
pub fn flavor(c: &CommonFacts, ctx: &Ctx) -> Outcome {
    let id = c.identity.get()?;
    let mut observed = id.flavor.clone();
    if let Some(fv) = &id.flavor_version {
        observed.push_str(&format!(" {fv}"));
    }
    Ok(match &ctx.rules.flavors {
        None => Verdict::pass(format!(
            "{} detected; the matrix accepts every flavor",
            id.flavor
        ))
        .observed(observed),
        Some(list) if list.iter().any(|f| f == &id.flavor) => {
            Verdict::pass(format!("{} is an accepted flavor", id.flavor))
                .observed(observed)
                .expected(list.join(", "))
        }
        Some(list) => Verdict::fail(format!(
            "{} is not a flavor our product supports",
            id.flavor
        ))
        .observed(observed)
        .expected(list.join(", "))
        .remedy(format!("Use one of: {}.", list.join(", "))),
    })
}

// ---------------------------------------------------------------- security

/// `engine.tls`: encryption in use, protocol and cipher, and how the certificate was trusted.
/// `secure_option` is the engine's connection option for a verified connection.
pub fn tls(c: &CommonFacts, ctx: &Ctx, secure_option: &str) -> Outcome {
    let t = c.tls.get()?;
    // A Unix socket (no TCP host, not a file): libpq and the MySQL client never use TLS on it,
    // and nothing crosses the network.
    if !t.in_use && c.target.host.is_none() && c.target.path.is_none() {
        return Ok(Verdict::pass(
            "a local Unix socket: the connection does not cross the network, so TLS does not apply",
        )
        .observed(format!("no TLS over {}", c.target.place())));
    }
    if !t.in_use {
        let msg = "the connection is not encrypted: passwords and data cross the network in clear";
        let v = if ctx.matrix.app.require_tls {
            Verdict::fail(msg)
        } else {
            Verdict::warn(msg)
        };
        let leg = t
            .server_leg
            .as_ref()
            .map(|l| format!("; {l}"))
            .unwrap_or_default();
        return Ok(v
            .observed(format!("no TLS ({}){leg}", t.client_setting))
            .expected(if ctx.matrix.app.require_tls {
                "TLS required"
            } else {
                "TLS"
            })
            .remedy(format!(
                "Enable TLS on the server and connect with {secure_option}."
            )));
    }
    // The handshake we inspected names the protocol, cipher and certificate expiry; what the
    // session reports fills in where there was no inspection (SQL Server's session only says
    // that it is encrypted; PostgreSQL's, neither expiry nor issuer).
    let inspected = c.connection.tls.as_ref();
    let protocol = inspected
        .and_then(|i| i.protocol.clone())
        .or_else(|| t.protocol.clone());
    let cipher = inspected
        .and_then(|i| i.cipher.clone())
        .or_else(|| t.cipher.clone());
    let expires = inspected
        .and_then(|i| i.expires_in_days)
        .or(t.cert_expires_in_days);
    let mut observed = vec![protocol.clone().unwrap_or_else(|| "TLS".into())];
    if let Some(c) = cipher {
        observed.push(c);
    }
    if let Some(b) = t.bits {
        observed.push(format!("{b} bits"));
    }
    observed.push(format!(
        "certificate {}",
        match t.trust {
            TrustMode::Verified => "verified",
            TrustMode::CaOnly => "chain verified, host name not checked",
            TrustMode::NotVerified => "not verified",
            TrustMode::None => "none",
        }
    ));
    if let Some(d) = expires {
        observed.push(format!("expires in {d} days"));
    }
    if let Some(l) = &t.server_leg {
        observed.push(l.clone());
    }
    if let Some(i) = inspected {
        if let Some(s) = &i.subject {
            observed.push(format!("subject {s}"));
        }
        if i.self_signed {
            observed.push("self-signed".into());
        } else if let Some(s) = &i.issuer {
            observed.push(format!("issuer {s}"));
        }
        if !i.names.is_empty() {
            observed.push(format!("names {}", i.names.join(" ")));
        }
        if let Some(age) = i.shared_age_ms {
            observed.push(format!(
                "certificate inspected {} ago by an earlier check of this server",
                human_ms(age)
            ));
        }
    }
    let would_fail = inspected.and_then(|i| i.verification_error.clone());
    let observed = observed.join(", ");
    let old = protocol
        .as_deref()
        .is_some_and(|p| p.contains("1.0") || p.contains("1.1") || p.starts_with("SSL"));
    let v = if let Some(d) = expires.filter(|d| *d < 0) {
        Verdict::fail(format!("the server certificate expired {} days ago", -d))
            .remedy("Renew the server certificate.")
    } else if old {
        Verdict::warn(format!(
            "{} is obsolete",
            protocol.as_deref().unwrap_or("the TLS version")
        ))
        .remedy("Allow TLS 1.2 or newer on the server (ssl_min_protocol_version / tls_version).")
    } else if t.trust == TrustMode::NotVerified {
        Verdict::warn(format!(
            "encrypted, but the certificate is trusted without verification ({}), so a man in the middle would not be noticed{}",
            t.client_setting,
            would_fail.as_ref().map(|w| format!("; verification would fail: {w}")).unwrap_or_default()
        ))
        .remedy(format!("Connect with {secure_option} and the server's CA certificate."))
    } else if let Some(d) = expires.filter(|d| *d < 30) {
        Verdict::warn(format!("the server certificate expires in {d} days"))
            .remedy("Renew the server certificate.")
    } else {
        Verdict::pass("encrypted, certificate verified")
    };
    Ok(v.observed(observed)
        .expected("TLS 1.2+ with a verified certificate"))
}

/// `engine.platform` where the server names its build's OS in its version string: that OS, or a
/// skip when it names none.
pub fn server_platform(c: &CommonFacts) -> Outcome {
    let id = c.identity.get()?;
    Ok(match &id.os {
        Some(os) => Verdict::pass(format!("server built for {os}")).observed(os),
        None => Verdict::skip("the server does not say its platform"),
    })
}

/// The user and database a remedy names: the session's (as the server reported them), else the
/// target's, else `app`.
pub fn who(c: &CommonFacts, user: Option<String>, database: Option<String>) -> (String, String) {
    let pick = |session: Option<String>, target: &Option<String>| {
        session
            .filter(|s| !s.is_empty())
            .or_else(|| target.clone())
            .unwrap_or_else(|| "app".into())
    };
    (
        pick(user, &c.target.user),
        pick(database, &c.target.database),
    )
}

/// A short age: `350 ms`, `2.1 s`.
fn human_ms(ms: u64) -> String {
    if ms < 1000 {
        format!("{ms} ms")
    } else {
        format!("{:.1} s", ms as f64 / 1000.0)
    }
}
