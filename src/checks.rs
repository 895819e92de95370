//! Facts and checks every engine shares. Each engine's facts embed a [`CommonFacts`]; the
//! shared checks are declared once in [`shared`] over these functions, and each engine's
//! registry includes them, its [`SharedChecks`] supplying only what differs (remedy wording, its own
//! doc and query text).

mod migrations;
mod resources;
mod server;
mod settings;
pub mod shared;

pub use migrations::migrations;
pub use resources::{
    capabilities, clock_skew, database_size, human_bytes, human_duration, uptime, writability,
};
pub use server::{connection, end_of_life, flavor, server_platform, tls, version, who};
pub use settings::{
    connection_headroom, describe_rule, eval_rule, idle_timeout, settings, time_zone, wanted_value,
};
pub use shared::{Place, SharedChecks, Words, registry};

use crate::identity::ServerIdentity;
use crate::net::ConnectionFacts;
use crate::probe::Probe;
use crate::registry::{Ctx, Outcome, Verdict};
use crate::report::TargetInfo;
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
    /// Where the time zone was read, when not from the session itself (PostgreSQL: our
    /// driver sets its own session's, so the one other clients get is read elsewhere).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone_from: Option<String>,
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

impl Probe<WriteProbe> {
    /// The probe's answer, what it confirmed recorded in `caps` on the way.
    pub fn recorded_in(self, caps: &mut BTreeMap<String, Capability>) -> Self {
        if let Some(p) = self.value() {
            p.apply_to(caps);
        }
        self
    }
}

impl WriteProbe {
    /// The probe when `--probe-write` was not given; `how` says what would become of the
    /// scratch table (`rolled back`, `dropped`).
    pub fn not_asked(how: &str) -> Probe<WriteProbe> {
        Probe::not_collected(format!(
            "not asked: run with --probe-write to confirm capabilities with a scratch table ({how})"
        ))
    }

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
/// `quote` writes a leftover's name for the engine's `DROP`: the name comes from the server, so
/// the statement support is told to run names that one object and nothing else.
pub fn write_probe(c: &CommonFacts, ctx: &Ctx, quote: fn(&str) -> String) -> Outcome {
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
                .map(|l| format!("DROP TABLE {};", quote(l)))
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
    /// When our user may not read the table: the statements that would let it (then nothing
    /// was sent to read it, so the server logs no permission error).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant: Option<String>,
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
            grant: None,
        }
    }

    /// A history table our user may not read, with the statements that would let it.
    pub fn unreadable(tool: &crate::migrations::Tool, table: String, grant: String) -> Self {
        MigrationHistory {
            tool: tool.name.to_string(),
            table,
            latest: None,
            applied: None,
            by_group: BTreeMap::new(),
            grant: Some(grant),
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::matrix::SettingRule;
    use crate::status::Status;

    /// The migrations check over histories and a user-table count, under a matrix snippet.
    fn judge_migrations(found: Vec<MigrationHistory>, tables: Probe<u64>, matrix: &str) -> Verdict {
        let m =
            crate::matrix::Matrix::parse(&format!("schema_version = 1\n{matrix}"), "test").unwrap();
        let eol = crate::eol::EolData::shipped();
        let ctx = Ctx::for_tests(&m, eol, crate::engine::Engine::Postgres);
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
