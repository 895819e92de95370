//! Facts and checks every engine shares. Each engine's facts embed a [`CommonFacts`], and each
//! engine's registry points its `engine.connection`, `engine.version`, ... ids at these
//! functions, adding only what differs (remedy wording, which settings to read).

use crate::identity::ServerIdentity;
use crate::matrix::SettingRule;
use crate::net::{ConnectionFacts, FailureKind};
use crate::probe::Probe;
use crate::registry::{Ctx, Outcome, Verdict};
use crate::report::TargetInfo;
use crate::status::Status;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use time::OffsetDateTime;

/// Capability names the matrix may require.
pub const CAPABILITIES: &[&str] = &[
    "json",
    "cte",
    "window-functions",
    "check-constraints",
    "transactional-ddl",
    "drop-cascade",
    "returning",
    "upsert",
    "sequences",
    "varchar-without-length",
    "utf8",
    "string-agg",
    "create-or-alter",
    "drop-if-exists",
    "offset-fetch",
    "merge",
];

/// What every engine collects.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CommonFacts {
    /// This machine's clock when collection started (RFC 3339 UTC).
    pub collected_at: String,
    /// The target as named (no secret), for remedies that name the database and user.
    pub target: TargetInfo,
    pub connection: ConnectionFacts,
    /// What `version()` / `@@VERSION` returned.
    pub version_raw: Probe<String>,
    pub identity: Probe<ServerIdentity>,
    pub tls: Probe<TlsFacts>,
    pub clock: Probe<ClockFacts>,
    pub uptime_seconds: Probe<u64>,
    pub read_only: Probe<ReadOnlyFacts>,
    /// Every server setting the collector could read, by name.
    pub settings: Probe<BTreeMap<String, String>>,
    pub connections: Probe<ConnectionSlots>,
    pub database_size_bytes: Probe<u64>,
    /// Capabilities by name (see [`CAPABILITIES`]).
    pub capabilities: BTreeMap<String, Capability>,
    pub migrations: Probe<Vec<MigrationHistory>>,
    /// User tables in the target database (or schemas): a database with tables and no known
    /// history is an unknown history, not a fresh database.
    #[serde(default)]
    pub user_tables: Probe<u64>,
    /// The scratch-object probe of `--probe-write` (not collected without it).
    pub write_probe: Probe<WriteProbe>,
    /// The product's own SQL, run with `--probe-write` (matrix `[app.workload]`).
    #[serde(default)]
    pub workload: Probe<crate::workload::Workload>,
    /// Queries sent to the server.
    pub queries: u32,
}

/// TLS as the connection uses it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TlsFacts {
    pub in_use: bool,
    pub protocol: Option<String>,
    pub cipher: Option<String>,
    pub bits: Option<u32>,
    /// How the client trusted the certificate.
    pub trust: TrustMode,
    /// Days until the server certificate expires, where visible.
    pub cert_expires_in_days: Option<i64>,
    /// The option that set the trust mode, for messages (`sslmode=prefer`).
    pub client_setting: String,
    /// What the server says of its own client connection where that differs from ours (a
    /// pooler in front: the server's client is the pooler).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_leg: Option<String>,
}

/// How the server certificate was trusted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TrustMode {
    /// Chain and host name verified.
    Verified,
    /// Chain verified, host name not.
    CaOnly,
    /// Encrypted, but any certificate accepted.
    #[default]
    NotVerified,
    /// TLS not used.
    None,
}

/// Server clock against ours.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClockFacts {
    /// Server time, seconds since the epoch (UTC).
    pub server_epoch: f64,
    /// Our clock at the middle of the round trip, seconds since the epoch.
    pub local_epoch: f64,
    /// The server's time zone setting.
    pub time_zone: Option<String>,
}

/// Whether the database accepts writes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ReadOnlyFacts {
    pub read_only: bool,
    /// Why, in the server's terms ("pg_is_in_recovery() = true", "read_only=ON").
    pub reasons: Vec<String>,
}

impl ReadOnlyFacts {
    /// Read-only exactly when there is a reason to be: the collectors' one way to build it.
    pub fn from_reasons(reasons: Vec<String>) -> Self {
        ReadOnlyFacts {
            read_only: !reasons.is_empty(),
            reasons,
        }
    }
}

/// Connection slots.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConnectionSlots {
    pub max: u64,
    /// Reserved for superusers/admins.
    pub reserved: u64,
    pub in_use: u64,
    /// A per-database or per-user limit lower than `max`, if any.
    pub user_limit: Option<u64>,
}

/// A capability the application's SQL may depend on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Capability {
    pub supported: bool,
    /// Why we believe it: derived from the version, or probed.
    pub basis: String,
}

impl Capability {
    pub fn from_version(supported: bool, basis: impl Into<String>) -> Self {
        Capability {
            supported,
            basis: basis.into(),
        }
    }
}

/// What `--probe-write` did: each step on a uniquely named scratch object, and what was left.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct WriteProbe {
    /// The scratch object's name.
    pub object: String,
    /// Each step: what it tried, and the server's error if it failed.
    pub steps: Vec<ProbeStep>,
    /// Objects still present after the rollback or drop (should be empty).
    pub leftovers: Vec<String>,
}

/// One step of the write probe.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProbeStep {
    /// The capability the step confirms, if any (`varchar-without-length`, ...).
    pub capability: Option<String>,
    /// The statement, as sent.
    pub sql: String,
    /// `None` when it succeeded.
    pub error: Option<String>,
    /// The capability is confirmed when the server refuses the statement (an INSERT that
    /// violates a CHECK constraint), not when it accepts it.
    #[serde(default)]
    pub refusal_confirms: bool,
}

impl ProbeStep {
    /// Whether the server behaved as the capability needs.
    pub fn confirmed(&self) -> bool {
        self.error.is_some() == self.refusal_confirms
    }
}

impl WriteProbe {
    /// Confirms (or refutes) capabilities with what the probe saw for real.
    pub fn apply_to(&self, caps: &mut BTreeMap<String, Capability>) {
        for step in &self.steps {
            if let Some(c) = &step.capability {
                let basis = match &step.error {
                    None => format!("probed: `{}` succeeded", step.sql),
                    Some(e) => format!("probed: `{}` was refused: {e}", step.sql),
                };
                caps.insert(
                    c.clone(),
                    Capability {
                        supported: step.confirmed(),
                        basis,
                    },
                );
            }
        }
    }
}

/// `engine.write-probe`: the scratch object was created and removed, and nothing was left.
pub fn write_probe(c: &CommonFacts, ctx: &Ctx) -> Outcome {
    let p = c.write_probe.get()?;
    let failed: Vec<String> = p
        .steps
        .iter()
        .filter(|s| !s.confirmed())
        .map(|s| {
            let what = s.capability.as_deref().unwrap_or("step");
            match &s.error {
                Some(e) => format!("{what}: {e}"),
                None => format!("{what}: the server accepted `{}`", s.sql),
            }
        })
        .collect();
    let required_failed: Vec<&String> = ctx
        .rules
        .capabilities
        .iter()
        .filter(|cap| {
            p.steps
                .iter()
                .any(|s| s.capability.as_ref() == Some(*cap) && !s.confirmed())
        })
        .collect();
    let observed = format!(
        "{} steps on {}, {} failed",
        p.steps.len(),
        p.object,
        failed.len()
    );
    Ok(if !p.leftovers.is_empty() {
        Verdict::fail(format!(
            "the scratch objects were not removed: {}",
            p.leftovers.join(", ")
        ))
        .observed(observed)
        .remedy(format!(
            "Drop them: {}",
            p.leftovers
                .iter()
                .map(|l| format!("DROP TABLE {l};"))
                .collect::<Vec<_>>()
                .join(" ")
        ))
    } else if !required_failed.is_empty() {
        Verdict::fail(format!(
            "the server refused what the product needs: {}",
            failed.join("; ")
        ))
        .observed(observed)
        .remedy("See the capabilities check; the product's SQL will fail the same way.")
    } else if !failed.is_empty() {
        Verdict::pass(format!(
            "scratch object created and removed; not supported (not required): {}",
            failed.join("; ")
        ))
        .observed(observed)
    } else {
        Verdict::pass("scratch object created and removed; every probed feature works")
            .observed(observed)
    })
}

/// A migration tool's history table found in the database.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MigrationHistory {
    pub tool: String,
    pub table: String,
    /// The latest applied version, when the table could be read.
    pub latest: Option<String>,
    pub applied: Option<u64>,
    /// The latest version per group, for tools that keep one per group (Django: per app).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub by_group: BTreeMap<String, String>,
}

impl MigrationHistory {
    /// A history read from a table's rows (see [`crate::migrations::Tool::evaluate`]).
    pub fn read(
        tool: &crate::migrations::Tool,
        table: String,
        rows: &[Vec<Option<String>>],
    ) -> Self {
        let e = tool.evaluate(rows);
        MigrationHistory {
            tool: tool.name.to_string(),
            table,
            latest: e.latest,
            applied: Some(e.applied),
            by_group: e.by_group,
        }
    }
}

impl CommonFacts {
    /// Starts collection: records this machine's clock.
    pub fn started(target: TargetInfo) -> Self {
        CommonFacts {
            collected_at: now_rfc3339(),
            target,
            ..Default::default()
        }
    }
}

/// Now, RFC 3339 UTC with seconds.
pub fn now_rfc3339() -> String {
    let now = OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    now.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// Seconds since the epoch as a float.
pub fn epoch_now() -> f64 {
    OffsetDateTime::now_utc().unix_timestamp_nanos() as f64 / 1e9
}

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

// ---------------------------------------------------------------- settings

/// Evaluates one setting rule; `Err` says what is wrong.
pub fn eval_rule(value: &str, rule: &SettingRule) -> Result<(), String> {
    let num = parse_number(value);
    if let Some(min) = rule.min {
        match num {
            Some(n) if n >= min => {}
            Some(n) => return Err(format!("{n} is below the minimum {min}")),
            None => return Err(format!("`{value}` is not a number (minimum {min})")),
        }
    }
    if let Some(max) = rule.max {
        match num {
            Some(n) if n <= max => {}
            Some(n) => return Err(format!("{n} is above the maximum {max}")),
            None => return Err(format!("`{value}` is not a number (maximum {max})")),
        }
    }
    if let Some(eq) = &rule.equals
        && !same_value(value, eq)
    {
        return Err(format!("`{value}`, expected `{eq}`"));
    }
    if let Some(list) = &rule.one_of
        && !list.iter().any(|x| same_value(value, x))
    {
        return Err(format!("`{value}`, expected one of {}", list.join(", ")));
    }
    let items: Vec<String> = value
        .split(',')
        .map(|s| s.trim().to_ascii_uppercase())
        .collect();
    if let Some(need) = &rule.contains {
        let missing: Vec<_> = need
            .iter()
            .filter(|n| !items.contains(&n.to_ascii_uppercase()))
            .cloned()
            .collect();
        if !missing.is_empty() {
            return Err(format!("lacks {}", missing.join(", ")));
        }
    }
    if let Some(bad) = &rule.excludes {
        let present: Vec<_> = bad
            .iter()
            .filter(|n| items.contains(&n.to_ascii_uppercase()))
            .cloned()
            .collect();
        if !present.is_empty() {
            return Err(format!("contains {}", present.join(", ")));
        }
    }
    Ok(())
}

fn parse_number(v: &str) -> Option<f64> {
    v.trim().parse::<f64>().ok()
}

/// Setting values compare case-insensitively, and `on`/`true`/`1`/`yes` are one value.
fn same_value(a: &str, b: &str) -> bool {
    let norm = |s: &str| match s.trim().to_ascii_lowercase().as_str() {
        "on" | "true" | "1" | "yes" => "on".to_string(),
        "off" | "false" | "0" | "no" => "off".to_string(),
        other => other.to_string(),
    };
    norm(a) == norm(b)
}

/// `engine.settings`: every setting the matrix names, with its rule. `hidden_hint` says what
/// privilege would show a setting the user cannot see.
pub fn settings(
    c: &CommonFacts,
    ctx: &Ctx,
    hidden_hint: &str,
    remedy: impl Fn(&str, &SettingRule) -> String,
) -> Outcome {
    if ctx.rules.settings.is_empty() {
        return Ok(Verdict::skip(format!(
            "the matrix's [{}.settings] table names no setting",
            ctx.rules_name
        )));
    }
    let all = c.settings.get()?;
    let mut observed = Vec::new();
    let mut failures = Vec::new();
    let mut hidden = Vec::new();
    let mut worst = Status::Pass;
    let mut remedies = Vec::new();
    for (name, rule) in &ctx.rules.settings {
        let Some(value) = all.get(name).or_else(|| {
            all.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v)
        }) else {
            hidden.push(name.clone());
            continue;
        };
        observed.push(format!("{name}={value}"));
        if let Err(why) = eval_rule(value, rule) {
            let level = rule.level.unwrap_or(Status::Fail);
            if level.rank() > worst.rank() {
                worst = level;
            }
            failures.push(format!("{name}: {why}"));
            remedies.push(remedy(name, rule));
        }
    }
    if !hidden.is_empty() {
        return Ok(Verdict::error(format!(
            "cannot read {}: unknown setting, or not visible to this user ({hidden_hint})",
            hidden.join(", ")
        ))
        .observed(observed.join(", ")));
    }
    let expected = ctx
        .rules
        .settings
        .iter()
        .map(|(n, r)| format!("{n} {}", describe_rule(r)))
        .collect::<Vec<_>>()
        .join("; ");
    let v = match worst {
        Status::Pass => Verdict::pass(format!("{} setting(s) as the matrix asks", observed.len())),
        s => {
            let msg = failures.join("; ");
            let v = if s == Status::Warn {
                Verdict::warn(msg)
            } else {
                Verdict::fail(msg)
            };
            v.remedy(remedies.join(" "))
        }
    };
    Ok(v.observed(observed.join(", ")).expected(expected))
}

/// A rule in words: `>= 100`, `= on`, `contains STRICT_TRANS_TABLES`.
pub fn describe_rule(r: &SettingRule) -> String {
    let mut parts = Vec::new();
    if let Some(m) = r.min {
        parts.push(format!(">= {m}"));
    }
    if let Some(m) = r.max {
        parts.push(format!("<= {m}"));
    }
    if let Some(e) = &r.equals {
        parts.push(format!("= {e}"));
    }
    if let Some(l) = &r.one_of {
        parts.push(format!("one of {}", l.join(", ")));
    }
    if let Some(l) = &r.contains {
        parts.push(format!("contains {}", l.join(", ")));
    }
    if let Some(l) = &r.excludes {
        parts.push(format!("excludes {}", l.join(", ")));
    }
    parts.join(", ")
}

/// The value a rule asks for, for a remedy (`100`, `on`).
pub fn wanted_value(r: &SettingRule) -> String {
    r.equals
        .clone()
        .or_else(|| r.one_of.as_ref().and_then(|l| l.first().cloned()))
        .or_else(|| r.min.map(|m| m.to_string()))
        .or_else(|| r.max.map(|m| m.to_string()))
        .or_else(|| r.contains.as_ref().map(|l| l.join(",")))
        .unwrap_or_default()
}

/// `engine.max-connections`: free connection slots against our pool size.
pub fn connection_headroom(c: &CommonFacts, ctx: &Ctx, raise: &str) -> Outcome {
    let s = c.connections.get()?;
    let pool = u64::from(ctx.matrix.app.pool_size);
    let usable = s.max.saturating_sub(s.reserved);
    let limit = s.user_limit.map_or(usable, |l| l.min(usable));
    let free = limit.saturating_sub(s.in_use);
    let observed = format!(
        "max {} ({} reserved), {} in use, {} free{}",
        s.max,
        s.reserved,
        s.in_use,
        free,
        s.user_limit
            .map(|l| format!(", per-user/database limit {l}"))
            .unwrap_or_default()
    );
    let expected = format!("at least {pool} free for our pool");
    let v = if limit < pool {
        Verdict::fail(format!(
            "the server allows at most {limit} connections for us, fewer than our pool of {pool}"
        ))
        .remedy(raise.to_string())
    } else if free < pool {
        Verdict::warn(format!(
            "only {free} connection slots are free now; our pool needs {pool}"
        ))
        .remedy(format!("Free connections or {}", raise.to_lowercase()))
    } else {
        Verdict::pass(format!("{free} connection slots free for a pool of {pool}"))
    };
    Ok(v.observed(observed).expected(expected))
}

// ---------------------------------------------------------------- writability

/// `engine.writability`: a read-only database or replica fails when the matrix says we write.
pub fn writability(c: &CommonFacts, ctx: &Ctx, remedy: &str) -> Outcome {
    let r = c.read_only.get()?;
    let observed = if r.reasons.is_empty() {
        "read-write".to_string()
    } else {
        r.reasons.join("; ")
    };
    Ok(match (r.read_only, ctx.matrix.app.needs_write) {
        (false, _) => Verdict::pass("the database accepts writes").observed(observed),
        (true, true) => Verdict::fail("the database is read-only, and our product writes")
            .observed(observed)
            .expected("read-write")
            .remedy(remedy),
        (true, false) => Verdict::pass("the database is read-only; the matrix says we only read")
            .observed(observed),
    })
}

// ---------------------------------------------------------------- capabilities

/// `engine.capabilities`: the SQL features the matrix requires.
pub fn capabilities(c: &CommonFacts, ctx: &Ctx) -> Outcome {
    // Capabilities are derived from the identity: without it there is nothing to judge.
    c.identity.get()?;
    let supported: Vec<&str> = c
        .capabilities
        .iter()
        .filter(|(_, v)| v.supported)
        .map(|(k, _)| k.as_str())
        .collect();
    let observed = format!("supported: {}", supported.join(", "));
    if ctx.rules.capabilities.is_empty() {
        return Ok(Verdict::skip(format!(
            "the matrix's [{}] table requires no capability",
            ctx.rules_name
        ))
        .observed(observed));
    }
    let mut missing = Vec::new();
    let mut unknown = Vec::new();
    for cap in &ctx.rules.capabilities {
        match c.capabilities.get(cap) {
            Some(v) if v.supported => {}
            Some(v) => missing.push(format!("{cap} ({})", v.basis)),
            None => unknown.push(cap.clone()),
        }
    }
    let expected = ctx.rules.capabilities.join(", ");
    if !missing.is_empty() {
        return Ok(Verdict::fail(format!("missing: {}", missing.join("; ")))
            .observed(observed)
            .expected(expected)
            .remedy("Use a server version or flavor that has these features, or tell support which feature is missing."));
    }
    if !unknown.is_empty() {
        return Ok(
            Verdict::error(format!("could not determine: {}", unknown.join(", ")))
                .observed(observed)
                .expected(expected),
        );
    }
    Ok(Verdict::pass(format!(
        "all {} required capabilities present",
        ctx.rules.capabilities.len()
    ))
    .observed(observed)
    .expected(expected))
}

// ---------------------------------------------------------------- resources

/// `engine.clock-skew`: the server's clock against this machine's.
pub fn clock_skew(c: &CommonFacts, ctx: &Ctx) -> Outcome {
    let k = c.clock.get()?;
    let skew = k.server_epoch - k.local_epoch;
    let max = ctx.matrix.app.max_clock_skew_seconds as f64;
    let observed = format!(
        "server {skew:+.3} s from this machine{}",
        k.time_zone
            .as_ref()
            .map(|z| format!(", time zone {z}"))
            .unwrap_or_default()
    );
    let v = if skew.abs() > max {
        Verdict::warn(format!("the server clock is {:.1} s off this machine's", skew.abs()))
            .remedy("Enable NTP (chrony, systemd-timesyncd) on the server, or on this machine if its clock is the wrong one.")
    } else {
        Verdict::pass("clocks agree")
    };
    Ok(v.observed(observed).expected(format!("within {max} s")))
}

/// `engine.time-zone`: the server time zone against `[app] time_zone`.
pub fn time_zone(c: &CommonFacts, ctx: &Ctx, remedy: &str) -> Outcome {
    let k = c.clock.get()?;
    let zone = k.time_zone.clone().unwrap_or_else(|| "unknown".into());
    Ok(match &ctx.matrix.app.time_zone {
        None => Verdict::pass(format!("server time zone {zone}; the matrix asks for none"))
            .observed(zone),
        Some(want) if want.eq_ignore_ascii_case(&zone) || (is_utc(want) && is_utc(&zone)) => {
            Verdict::pass(format!("server time zone {zone}"))
                .observed(zone)
                .expected(want)
        }
        Some(want) => Verdict::warn(format!(
            "server time zone is {zone}, not {want}: timestamps without a zone will shift"
        ))
        .observed(zone)
        .expected(want)
        .remedy(remedy.replace("{zone}", want)),
    })
}

fn is_utc(z: &str) -> bool {
    matches!(
        z.to_ascii_uppercase().as_str(),
        "UTC" | "ETC/UTC" | "GMT" | "ETC/GMT" | "Z" | "+00:00" | "SYSTEM-UTC" | "UCT"
    )
}

/// `engine.uptime`: how long the server has run; a very recent start may mean a crash loop.
pub fn uptime(c: &CommonFacts) -> Outcome {
    let s = *c.uptime_seconds.get()?;
    let human = human_duration(s);
    Ok(if s < 600 {
        Verdict::warn(format!(
            "the server started {human} ago: check it is not restarting in a loop"
        ))
        .observed(human)
        .remedy("Check the server log for crashes or out-of-memory kills.")
    } else {
        Verdict::pass(format!("up for {human}")).observed(human)
    })
}

/// A short age: `350 ms`, `2.1 s`.
fn human_ms(ms: u64) -> String {
    if ms < 1000 {
        format!("{ms} ms")
    } else {
        format!("{:.1} s", ms as f64 / 1000.0)
    }
}

/// `12d 3h`, `5m 2s`.
pub fn human_duration(s: u64) -> String {
    let (d, h, m, sec) = (s / 86400, s % 86400 / 3600, s % 3600 / 60, s % 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{sec}s"),
        (0, 0, _) => format!("{m}m {sec}s"),
        (0, _, _) => format!("{h}h {m}m"),
        _ => format!("{d}d {h}h"),
    }
}

/// Bytes in words.
pub fn human_bytes(b: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = b as f64;
    let mut i = 0;
    while v >= 1024.0 && i < UNITS.len() - 1 {
        v /= 1024.0;
        i += 1;
    }
    if i == 0 {
        format!("{b} B")
    } else {
        format!("{v:.1} {}", UNITS[i])
    }
}

/// `engine.database-size`: the size of the target database (and an edition limit, if given).
pub fn database_size(c: &CommonFacts, limit_bytes: Option<u64>) -> Outcome {
    let b = *c.database_size_bytes.get()?;
    let observed = human_bytes(b);
    Ok(match limit_bytes {
        Some(l) if b >= l => Verdict::fail(format!(
            "{observed} reaches the edition's limit of {}",
            human_bytes(l)
        ))
        .observed(observed)
        .remedy("Move to an edition without a size limit."),
        Some(l) if b * 10 >= l * 8 => Verdict::warn(format!(
            "{observed} is over 80% of the edition's limit of {}",
            human_bytes(l)
        ))
        .observed(observed)
        .remedy("Move to an edition without a size limit before the database fills up."),
        _ => Verdict::pass(format!("database size {observed}")).observed(observed),
    })
}

// ---------------------------------------------------------------- migrations

/// `engine.migrations`: every migration history found, against `[app.migrations]`. A database
/// with user tables and no history a known tool wrote is an unknown history, never a fresh one.
pub fn migrations(c: &CommonFacts, ctx: &Ctx) -> Outcome {
    let found = c.migrations.get()?;
    let observed = if found.is_empty() {
        match c.user_tables.value() {
            Some(n) => format!("no known migration history; {n} user tables"),
            None => "no known migration history".to_string(),
        }
    } else {
        found
            .iter()
            .map(describe_history)
            .collect::<Vec<_>>()
            .join("; ")
    };
    let unknown = |n: u64| {
        Verdict::warn(format!(
            "unknown history: {n} user tables and no history table of a known migration tool"
        ))
        .observed(observed.clone())
        .remedy(
            "Find out which tool created this schema (and tell support): our migrations may collide with tables they did not create.",
        )
    };
    let Some(rule) = &ctx.matrix.app.migrations else {
        return Ok(match (found.is_empty(), c.user_tables.value()) {
            (false, _) => Verdict::pass(format!("found {observed}")).observed(observed),
            (true, Some(0)) => {
                Verdict::pass("an empty database: no tables and no migration history")
                    .observed(observed)
            }
            (true, Some(n)) => unknown(*n),
            (true, None) => Verdict::pass("no known migration history").observed(observed),
        });
    };
    let title = crate::migrations::by_name(&rule.tool).map_or(rule.tool.as_str(), |t| t.title);
    let expected = format!(
        "{title}{}{}",
        rule.app
            .as_ref()
            .map(|a| format!(" app {a}"))
            .unwrap_or_default(),
        rule.version
            .as_ref()
            .map(|v| format!(" at {v}"))
            .unwrap_or_default()
    );
    let Some(ours) = found.iter().find(|m| m.tool == rule.tool) else {
        if found.is_empty()
            && let Some(n) = c.user_tables.value().filter(|n| **n > 0)
        {
            return Ok(unknown(*n).expected(expected));
        }
        return Ok(Verdict::warn(format!("no {title} history: our migrations have not run here yet"))
            .observed(observed)
            .expected(expected)
            .remedy("Run our product's migrations, or check that the URL names the right database and schema."));
    };
    let have = match &rule.app {
        Some(app) => match ours.by_group.get(app) {
            Some(v) => Some(v),
            None if ours.latest.is_some() => {
                return Ok(Verdict::warn(format!(
                    "{title} history has no migration of app {app}: our migrations have not run here yet"
                ))
                .observed(observed)
                .expected(expected)
                .remedy(format!("Run our product's migrations (app {app}).")));
            }
            None => None,
        },
        None => ours.latest.as_ref(),
    };
    Ok(match (&rule.version, have) {
        (Some(want), Some(have)) if want != have => {
            let behind = crate::migrations::by_name(&rule.tool)
                .is_none_or(|t| t.compare(have, want) == std::cmp::Ordering::Less);
            let (message, remedy) = if behind {
                (
                    format!("the schema is at {have}, behind the {want} our product expects"),
                    format!("Run our product's migrations up to {want}."),
                )
            } else {
                (
                    format!("the schema is at {have}, past the {want} our product expects"),
                    "A newer release of our product migrated this database: upgrade to it, or restore the database.".to_string(),
                )
            };
            Verdict::fail(message)
                .observed(observed)
                .expected(expected)
                .remedy(remedy)
        }
        (Some(_), None) => Verdict::error(format!(
            "found {} but could not read its latest version",
            ours.table
        ))
        .observed(observed),
        _ => Verdict::pass(format!("{title} history found"))
            .observed(observed)
            .expected(expected),
    })
}

/// `django (django_migrations) at auth.0012_x, shop.0003_y`: the tool by the name the matrix
/// uses.
fn describe_history(m: &MigrationHistory) -> String {
    format!(
        "{} ({}){}",
        m.tool,
        m.table,
        m.latest
            .as_ref()
            .map(|v| format!(" at {v}"))
            .unwrap_or_default()
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// The migrations check over histories and a user-table count, under a matrix snippet.
    fn judge_migrations(found: Vec<MigrationHistory>, tables: Probe<u64>, matrix: &str) -> Verdict {
        let m =
            crate::matrix::Matrix::parse(&format!("schema_version = 1\n{matrix}"), "test").unwrap();
        let eol = crate::eol::EolData::shipped();
        let ctx = Ctx {
            matrix: &m,
            rules: &m.postgres,
            rules_name: "postgres",
            eol: &eol,
            today: crate::eol::parse_date("2026-11-24").unwrap(),
        };
        let facts = CommonFacts {
            migrations: Probe::ok(found, 1),
            user_tables: tables,
            ..Default::default()
        };
        migrations(&facts, &ctx).unwrap_or_else(Verdict::from)
    }

    fn history(tool: &str, rows: &[&[Option<&str>]]) -> MigrationHistory {
        let t = crate::migrations::by_name(tool).unwrap();
        let rows: Vec<Vec<Option<String>>> = rows
            .iter()
            .map(|r| r.iter().map(|v| v.map(str::to_string)).collect())
            .collect();
        MigrationHistory::read(t, t.tables[0].to_string(), &rows)
    }

    #[test]
    fn migrations_unknown_history_is_never_a_fresh_database() {
        let v = judge_migrations(vec![], Probe::ok(12, 1), "");
        assert_eq!(v.status, Status::Warn);
        assert!(
            v.message.starts_with("unknown history: 12 user tables"),
            "{}",
            v.message
        );
        let empty = judge_migrations(vec![], Probe::ok(0, 1), "");
        assert_eq!(empty.status, Status::Pass);
        assert!(empty.message.contains("empty database"));
        // Facts saved before the table count was collected: no claim either way.
        let old = judge_migrations(vec![], Probe::default(), "");
        assert_eq!(old.status, Status::Pass);
        assert!(!old.message.contains("fresh"), "{}", old.message);
        let ruled = judge_migrations(
            vec![],
            Probe::ok(3, 1),
            "[app.migrations]\ntool = \"alembic\"\n",
        );
        assert_eq!(ruled.status, Status::Warn);
        assert!(ruled.message.starts_with("unknown history"));
    }

    #[test]
    fn migrations_every_history_is_reported_and_django_is_judged_per_app() {
        let django = history(
            "django",
            &[
                &[Some("0001_initial"), Some("shop")],
                &[Some("0002_order_total"), Some("shop")],
                &[Some("0012_alter_user_first_name_max_length"), Some("auth")],
            ],
        );
        let knex = history(
            "knex",
            &[&[Some("20240101_a.js")], &[Some("20240202_b.js")]],
        );
        let found = vec![django, knex];
        let all = judge_migrations(found.clone(), Probe::ok(9, 1), "");
        assert_eq!(all.status, Status::Pass);
        let observed = all.observed.unwrap();
        assert!(observed.contains("django (django_migrations) at auth.0012_alter_user_first_name_max_length, shop.0002_order_total"), "{observed}");
        assert!(
            observed.contains("knex (knex_migrations) at 20240202_b.js"),
            "{observed}"
        );
        let rule =
            "[app.migrations]\ntool = \"django\"\napp = \"shop\"\nversion = \"0002_order_total\"\n";
        // The shop app is up to date although auth migrated after it.
        assert_eq!(
            judge_migrations(found.clone(), Probe::ok(9, 1), rule).status,
            Status::Pass
        );
        let behind = judge_migrations(
            found.clone(),
            Probe::ok(9, 1),
            &rule.replace("0002_order_total", "0010_refunds"),
        );
        assert_eq!(behind.status, Status::Fail);
        assert!(
            behind.message.contains("behind the 0010_refunds"),
            "{}",
            behind.message
        );
        let other_app = judge_migrations(
            found.clone(),
            Probe::ok(9, 1),
            &rule.replace("shop", "billing"),
        );
        assert_eq!(other_app.status, Status::Warn);
        assert!(
            other_app.message.contains("app billing"),
            "{}",
            other_app.message
        );
        let ahead = judge_migrations(
            found,
            Probe::ok(9, 1),
            "[app.migrations]\ntool = \"knex\"\nversion = \"20240101_a.js\"\n",
        );
        assert_eq!(ahead.status, Status::Fail);
        assert!(ahead.message.contains("past"), "{}", ahead.message);
    }

    #[test]
    fn md5_on_an_unencrypted_connection_is_named_as_a_risk() {
        let mut c = CommonFacts::started(TargetInfo::default());
        c.connection.login_ms = Some(3);
        c.connection.auth_risk = Some("the server authenticates with md5".into());
        let v = connection(&c, |_, _| String::new()).unwrap();
        assert_eq!(v.status, Status::Warn);
        assert!(v.message.contains("md5"), "{}", v.message);
    }

    #[test]
    fn setting_rules() {
        let r = SettingRule {
            min: Some(100.0),
            ..Default::default()
        };
        assert!(eval_rule("100", &r).is_ok());
        assert!(eval_rule("99", &r).unwrap_err().contains("below"));
        let on = SettingRule {
            equals: Some("on".into()),
            ..Default::default()
        };
        assert!(
            eval_rule("ON", &on).is_ok()
                && eval_rule("true", &on).is_ok()
                && eval_rule("off", &on).is_err()
        );
        let strict = SettingRule {
            contains: Some(vec!["STRICT_TRANS_TABLES".into()]),
            ..Default::default()
        };
        assert!(eval_rule("NO_ZERO_DATE,STRICT_TRANS_TABLES", &strict).is_ok());
        assert_eq!(
            eval_rule("NO_ZERO_DATE", &strict).unwrap_err(),
            "lacks STRICT_TRANS_TABLES"
        );
    }

    #[test]
    fn probe_steps_confirm_by_success_or_by_refusal() {
        let step = |cap: &str, error: Option<&str>, refusal_confirms: bool| ProbeStep {
            capability: Some(cap.into()),
            sql: "...".into(),
            error: error.map(str::to_string),
            refusal_confirms,
        };
        let p = WriteProbe {
            object: "t".into(),
            steps: vec![
                step("json", None, false),
                step("varchar-without-length", Some("syntax error"), false),
                step("check-constraints", Some("CONSTRAINT failed"), true),
            ],
            leftovers: vec![],
        };
        let mut caps = BTreeMap::new();
        p.apply_to(&mut caps);
        assert!(caps["json"].supported);
        assert!(!caps["varchar-without-length"].supported);
        assert!(
            caps["check-constraints"].supported,
            "a refused violating INSERT means enforced"
        );
        assert!(caps["check-constraints"].basis.contains("was refused"));
        let lax = WriteProbe {
            steps: vec![step("check-constraints", None, true)],
            ..p
        };
        let mut caps = BTreeMap::new();
        lax.apply_to(&mut caps);
        assert!(
            !caps["check-constraints"].supported,
            "an accepted violating INSERT means not enforced"
        );
    }

    #[test]
    fn durations_and_sizes() {
        assert_eq!(human_duration(59), "59s");
        assert_eq!(human_duration(90061), "1d 1h");
        assert_eq!(human_bytes(8 * 1024 * 1024), "8.0 MiB");
    }
}
