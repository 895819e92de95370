//! The JSON report: a versioned contract. These types *are* the format (the schema in
//! `reports/report.schema.json` is generated from them), and [`build`] is a pure function from
//! findings to a report: it applies the matrix's severity overrides (the one place they are
//! applied) and counts the summary. Renderers only format a `&Report`.

use crate::engine::Engine;
use crate::status::Status;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The report schema this build writes. Reports with a newer one are refused with a clear error.
pub const REPORT_SCHEMA_VERSION: u32 = 1;

/// A whole check of one target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Report {
    /// Version of this format.
    pub schema_version: u32,
    pub tool: ToolInfo,
    /// When the run started, RFC 3339 UTC.
    pub generated_at: String,
    /// Wall time of the whole run.
    pub duration_ms: u64,
    /// What was checked (never a password).
    pub target: TargetInfo,
    /// What answered, when the connection succeeded.
    pub server: Option<ServerInfo>,
    /// The matrix the findings were judged against.
    pub matrix: MatrixOrigin,
    /// The date of the shipped end-of-life data.
    pub eol_data_date: String,
    pub summary: Summary,
    /// Number of queries sent to the server.
    pub queries: u32,
    /// The findings, in registry order.
    pub checks: Vec<Finding>,
    /// The `--only`/`--skip` selection the run was narrowed by. Absent: every check of the
    /// engine's registry was selected (also how reports written before this field read).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selection: Option<SelectionRecord>,
    /// Set when the report was judged again from saved facts (`replay`), at this time (RFC 3339
    /// UTC); `generated_at` is then when the facts were collected, and no server was reached.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replayed_at: Option<String>,
}

/// The selection a run was narrowed by (`check --only GLOB --skip GLOB`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SelectionRecord {
    /// `--only` patterns (empty: all).
    #[serde(default)]
    pub only: Vec<String>,
    /// `--skip` patterns.
    #[serde(default)]
    pub skip: Vec<String>,
    /// The ids of the engine's registry left out by the selection, in registry order.
    #[serde(default)]
    pub excluded: Vec<String>,
}

impl SelectionRecord {
    /// Whether a check id was left out by this selection.
    pub fn excludes(&self, id: &str) -> bool {
        self.excluded.iter().any(|e| e == id)
    }

    /// The patterns as typed (`--only 'a*' --skip b`).
    pub fn describe(&self) -> String {
        describe_patterns(&self.only, &self.skip)
    }
}

/// Checks that were not run, and why (after a failed connection, every check but the
/// connection check). They are still findings with status `skip`, counted in `skip`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NotRun {
    /// How many of the findings were not run.
    pub count: u32,
    /// Why, e.g. "the connection failed (refused)".
    pub reason: String,
}

/// The program that wrote a report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ToolInfo {
    pub name: String,
    pub version: String,
}

impl ToolInfo {
    /// This build.
    pub fn current() -> Self {
        ToolInfo {
            name: env!("CARGO_PKG_NAME").to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
        }
    }
}

/// The target as the user named it, with the password removed.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TargetInfo {
    pub engine: Engine,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// SQLite: the database file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Connection options that are not secrets (sslmode, encrypt, ...).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub options: BTreeMap<String, String>,
}

/// The server that answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServerInfo {
    pub engine: Engine,
    /// A flavor name (postgresql, aurora-postgresql, mariadb, ...; docs/checks.md#flavors).
    pub flavor: String,
    /// The compatibility version as semver (major.minor.patch).
    pub version: String,
    /// The version string exactly as the server gave it.
    pub version_raw: String,
    /// Product name and major ("PostgreSQL 15", "SQL Server 2022").
    pub product: String,
    /// For compatible engines, the product's own version (TiDB 7.5.1, YugabyteDB 2.20).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flavor_version: Option<String>,
    /// Server OS or platform, where the server tells it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os: Option<String>,
}

/// Counts per status and the overall status.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Summary {
    /// The worst status among the findings (pass when all pass or skip).
    pub status: Status,
    pub pass: u32,
    pub warn: u32,
    pub fail: u32,
    pub skip: u32,
    pub error: u32,
    /// How many of the `skip` findings were not run at all, and why (absent: all were run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_run: Option<NotRun>,
}

impl Summary {
    /// Counts findings; the overall status is the worst one.
    pub fn of(findings: &[Finding]) -> Summary {
        let mut s = Summary::default();
        for f in findings {
            *match f.status {
                Status::Pass => &mut s.pass,
                Status::Warn => &mut s.warn,
                Status::Fail => &mut s.fail,
                Status::Skip => &mut s.skip,
                Status::Error => &mut s.error,
            } += 1;
            if f.status.rank() > s.status.rank() {
                s.status = f.status;
            }
        }
        s
    }

    /// The count of one status.
    pub fn count(&self, status: Status) -> u32 {
        match status {
            Status::Pass => self.pass,
            Status::Warn => self.warn,
            Status::Fail => self.fail,
            Status::Skip => self.skip,
            Status::Error => self.error,
        }
    }
}

/// The result of one check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Finding {
    /// Stable check id, `engine.kebab-name`.
    pub id: String,
    pub category: Category,
    pub title: String,
    pub status: Status,
    /// One sentence a client can read.
    pub message: String,
    /// What the server has.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed: Option<String>,
    /// What the matrix asks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    /// The exact fix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remedy: Option<String>,
    /// Time spent collecting the facts this check read.
    pub duration_ms: u64,
    /// The check's own status when the matrix's `[severity]` table changed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity_override: Option<Status>,
}

/// Everything a report is built from.
pub struct ReportInput {
    pub generated_at: String,
    pub duration_ms: u64,
    pub target: TargetInfo,
    pub server: Option<ServerInfo>,
    pub matrix: MatrixOrigin,
    pub eol_data_date: String,
    pub queries: u32,
    pub findings: Vec<Finding>,
    /// The selection, when the run was narrowed.
    pub selection: Option<SelectionRecord>,
    /// Why the checks other than the connection check were not run, when they were not.
    pub not_run_reason: Option<String>,
}

/// Builds a report: applies `[severity]` overrides, then counts. Pure.
pub fn build(input: ReportInput, severity: &BTreeMap<String, SeverityOverride>) -> Report {
    let checks: Vec<Finding> = input
        .findings
        .into_iter()
        .map(|f| apply_override(f, severity))
        .map(bound_strings)
        .collect();
    let mut summary = Summary::of(&checks);
    summary.not_run = not_run(&checks, input.not_run_reason);
    Report {
        schema_version: REPORT_SCHEMA_VERSION,
        tool: ToolInfo::current(),
        generated_at: input.generated_at,
        duration_ms: input.duration_ms,
        target: input.target,
        server: input.server,
        matrix: input.matrix,
        eol_data_date: input.eol_data_date,
        summary,
        queries: input.queries,
        checks,
        selection: input.selection,
        replayed_at: None,
    }
}

/// The not-run count: every finding but the connection check's, when a reason is given.
fn not_run(checks: &[Finding], reason: Option<String>) -> Option<NotRun> {
    let reason = reason?;
    let count = checks.iter().filter(|f| is_not_run_candidate(f)).count() as u32;
    (count > 0).then_some(NotRun { count, reason })
}

/// A finding that is not run when the connection failed: every one but the connection check.
fn is_not_run_candidate(f: &Finding) -> bool {
    f.status == Status::Skip && !f.id.ends_with(".connection")
}

/// The longest string a finding keeps: server strings can be of any size, a report stays small.
pub const FINDING_TEXT_MAX: usize = 8192;

/// A finding whose strings are cut to [`FINDING_TEXT_MAX`] characters, with a visible marker.
fn bound_strings(mut f: Finding) -> Finding {
    let cut = |s: &mut String| {
        if s.len() > FINDING_TEXT_MAX {
            *s = crate::text::truncate(s, FINDING_TEXT_MAX);
        }
    };
    cut(&mut f.message);
    for s in [&mut f.observed, &mut f.expected, &mut f.remedy]
        .into_iter()
        .flatten()
    {
        cut(s);
    }
    f
}

/// An override changes only `warn` and `fail`: a pass stays a pass, and an `error` is never
/// hidden (it means the check could not be evaluated at all).
fn apply_override(mut f: Finding, severity: &BTreeMap<String, SeverityOverride>) -> Finding {
    let Some(o) = severity.get(&f.id) else {
        return f;
    };
    if !matches!(f.status, Status::Warn | Status::Fail) {
        return f;
    }
    let new = match o {
        SeverityOverride::Fail => Status::Fail,
        SeverityOverride::Warn => Status::Warn,
        SeverityOverride::Ignore => Status::Skip,
    };
    if new != f.status {
        f.severity_override = Some(f.status);
        f.status = new;
    }
    f
}

/// The oldest report schema this build still reads (through [`UPGRADES`]).
pub const OLDEST_READABLE_SCHEMA_VERSION: u32 = 1;

/// One step of the upgrade chain: turns a report of `from` into one of `from + 1`, on JSON.
type Upgrade = fn(serde_json::Value) -> Result<serde_json::Value, String>;

/// Upgrades from each older schema version to the next, oldest first. Version 1 is the first
/// schema ever published, so the chain is empty; when version 2 ships, `(1, v1_to_v2)` goes here
/// with a test that loads a saved version 1 report, and `OLDEST_READABLE_SCHEMA_VERSION` stays 1.
const UPGRADES: &[(u64, Upgrade)] = &[];

/// Why a report file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReportReadError {
    #[error("not a JSON report: {0}")]
    Json(String),
    #[error("no schema_version: not a byod-precheck report")]
    NoSchemaVersion,
    #[error(
        "report schema_version {0} is newer than this build reads ({REPORT_SCHEMA_VERSION}): upgrade byod-precheck"
    )]
    Newer(u64),
    #[error(
        "report schema_version {0} is not supported (this build reads {OLDEST_READABLE_SCHEMA_VERSION} to {REPORT_SCHEMA_VERSION})"
    )]
    Unsupported(u64),
    #[error("cannot upgrade the report from schema_version {from}: {reason}")]
    Upgrade { from: u64, reason: String },
}

/// Brings a report of an older schema version up to [`REPORT_SCHEMA_VERSION`], one version at
/// a time, so each step is written once against the format it knew.
fn upgrade(
    mut v: serde_json::Value,
    mut version: u64,
) -> Result<serde_json::Value, ReportReadError> {
    while version < u64::from(REPORT_SCHEMA_VERSION) {
        let Some((_, step)) = UPGRADES.iter().find(|(from, _)| *from == version) else {
            return Err(ReportReadError::Unsupported(version));
        };
        v = step(v).map_err(|reason| ReportReadError::Upgrade {
            from: version,
            reason,
        })?;
        version += 1;
        v["schema_version"] = version.into();
    }
    Ok(v)
}

impl Report {
    /// What the client must act on: the failed, errored and warned findings, worst first
    /// (check order within a status). Every renderer's "to fix" list is this one.
    pub fn needs_attention(&self) -> Vec<&Finding> {
        let mut v: Vec<&Finding> = self.checks.iter().filter(|f| f.status.rank() > 0).collect();
        v.sort_by_key(|f| std::cmp::Reverse(f.status.rank()));
        v
    }

    /// The findings to show one by one, and the ones folded into a single "not run" line (with
    /// the summary's count and reason). Every human format prints the fold, not 26 rows.
    pub fn shown_and_not_run(&self) -> (Vec<&Finding>, Option<&NotRun>) {
        match &self.summary.not_run {
            Some(n) => (
                self.checks
                    .iter()
                    .filter(|f| !is_not_run_candidate(f))
                    .collect(),
                Some(n),
            ),
            None => (self.checks.iter().collect(), None),
        }
    }

    /// Reads a report of this schema version or an older one still supported (upgraded on the
    /// way in); refuses newer versions and reports without a version with a clear message.
    pub fn from_json(bytes: &[u8]) -> Result<Report, ReportReadError> {
        // A report saved by an editor that writes a UTF-8 byte order mark still loads.
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let v: serde_json::Value =
            serde_json::from_slice(bytes).map_err(|e| ReportReadError::Json(e.to_string()))?;
        let version = v
            .get("schema_version")
            .and_then(serde_json::Value::as_u64)
            .ok_or(ReportReadError::NoSchemaVersion)?;
        if version > u64::from(REPORT_SCHEMA_VERSION) {
            return Err(ReportReadError::Newer(version));
        }
        if version < u64::from(OLDEST_READABLE_SCHEMA_VERSION) {
            return Err(ReportReadError::Unsupported(version));
        }
        let v = upgrade(v, version)?;
        let mut r: Report =
            serde_json::from_value(v).map_err(|e| ReportReadError::Json(e.to_string()))?;
        // The summary is derived data: recomputed from the findings, so an edited file cannot
        // show PASS (or exit 0) over a failed finding; what was not run is kept, then filled
        // for reports written before it existed.
        let not_run = r.summary.not_run.take();
        r.summary = Summary::of(&r.checks);
        r.summary.not_run = not_run;
        r.fill_not_run();
        Ok(r)
    }

    /// Reports written before `summary.not_run` existed: a failed connection check left every
    /// other check "not evaluated"; say so in the summary as a new report would.
    fn fill_not_run(&mut self) {
        if self.summary.not_run.is_some() || self.server.is_some() {
            return;
        }
        let failed = self
            .checks
            .iter()
            .find(|f| f.id.ends_with(".connection") && f.status == Status::Fail);
        let Some(conn) = failed else { return };
        let reason = format!(
            "the connection failed ({})",
            conn.observed
                .as_deref()
                .unwrap_or("see the connection check")
        );
        // Not reached, and every other check skipped: none of them ran.
        if self
            .checks
            .iter()
            .all(|f| f.id == conn.id || is_not_run_candidate(f))
        {
            self.summary.not_run = not_run(&self.checks, Some(reason));
        }
    }

    /// The exit code (README, "Exit codes"): 1 when something fails or errors (or warns, with `fail_on_warn`).
    pub fn exit_code(&self, fail_on_warn: bool) -> u8 {
        let s = &self.summary;
        if s.fail > 0 || s.error > 0 || (fail_on_warn && s.warn > 0) {
            1
        } else {
            0
        }
    }
}

/// The JSON Schema of the report, as committed in `reports/report.schema.json`.
pub fn json_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(Report)).unwrap_or_default()
}

/// The target as one line (`engine://user@host:port/db` or `sqlite://path`); a report never
/// holds a password, so neither does this.
pub fn target_place(r: &Report) -> String {
    r.target.place()
}

impl TargetInfo {
    /// Where the target is, as a URL without password: `engine://user@host:port/db`,
    /// `engine://user@/db?host=/run/postgresql` for a local socket, `sqlite://path`.
    pub fn place(&self) -> String {
        self.url(|k| self.host.is_none() && (k == "host" || k == "socket"))
    }

    /// [`TargetInfo::place`] followed by the options `shown` keeps.
    pub fn url(&self, shown: impl Fn(&str) -> bool) -> String {
        let mut s = match &self.path {
            Some(p) => format!("sqlite://{p}"),
            None => format!(
                "{}://{}{}{}/{}",
                self.engine,
                self.user
                    .as_ref()
                    .map(|u| format!("{u}@"))
                    .unwrap_or_default(),
                self.host.as_deref().unwrap_or(""),
                self.host
                    .as_ref()
                    .and(self.port)
                    .map(|p| format!(":{p}"))
                    .unwrap_or_default(),
                self.database.as_deref().unwrap_or("")
            ),
        };
        let opts: Vec<String> = self
            .options
            .iter()
            .filter(|(k, _)| shown(k))
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        if !opts.is_empty() {
            s.push('?');
            s.push_str(&opts.join("&"));
        }
        s
    }
}

/// The area of the catalogue a check belongs to; findings are grouped by it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Category {
    /// Reaching and authenticating.
    Connection,
    /// TLS and account hygiene.
    Security,
    /// Server version against the matrix and end-of-life dates.
    Version,
    /// Managed service or compatible engine.
    Flavor,
    /// Character sets, encodings and collations.
    Encoding,
    /// Server settings applications trip on.
    Settings,
    /// What the connecting user may do.
    Privileges,
    /// Whether we can write.
    Writability,
    /// PostgreSQL extensions.
    Extensions,
    /// SQL features the application depends on.
    Capabilities,
    /// Size, platform, clock, uptime.
    Resources,
    /// Schema migration history.
    Migrations,
}

impl Category {
    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Connection => "connection",
            Category::Security => "security",
            Category::Version => "version",
            Category::Flavor => "flavor",
            Category::Encoding => "encoding",
            Category::Settings => "settings",
            Category::Privileges => "privileges",
            Category::Writability => "writability",
            Category::Extensions => "extensions",
            Category::Capabilities => "capabilities",
            Category::Resources => "resources",
            Category::Migrations => "migrations",
        }
    }
}

/// Where a matrix came from: recorded in the report.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize, JsonSchema, PartialEq)]
pub struct MatrixOrigin {
    /// `built-in`, or the path given to `--matrix`.
    pub source: String,
    /// SHA-256 of the file's bytes.
    pub sha256: String,
}

/// What a `[severity]` entry makes of a non-passing finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SeverityOverride {
    Fail,
    Warn,
    /// Reported as `skip`: the product does not care.
    Ignore,
}

/// `--only 'a*' --skip b`, or `every check` when there is no pattern.
pub fn describe_patterns(only: &[String], skip: &[String]) -> String {
    let parts: Vec<String> = only
        .iter()
        .map(|p| format!("--only '{p}'"))
        .chain(skip.iter().map(|p| format!("--skip '{p}'")))
        .collect();
    if parts.is_empty() {
        "every check".to_string()
    } else {
        parts.join(" ")
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn finding(id: &str, status: Status) -> Finding {
        Finding {
            id: id.into(),
            category: Category::Settings,
            title: "t".into(),
            status,
            message: "m".into(),
            observed: None,
            expected: None,
            remedy: None,
            duration_ms: 0,
            severity_override: None,
        }
    }

    #[test]
    fn overrides_raise_and_lower_but_never_hide_errors() {
        let sev: BTreeMap<_, _> = [
            ("a.x".to_string(), SeverityOverride::Fail),
            ("a.y".to_string(), SeverityOverride::Ignore),
            ("a.z".to_string(), SeverityOverride::Ignore),
        ]
        .into();
        let a = apply_override(finding("a.x", Status::Warn), &sev);
        assert_eq!(
            (a.status, a.severity_override),
            (Status::Fail, Some(Status::Warn))
        );
        let b = apply_override(finding("a.y", Status::Fail), &sev);
        assert_eq!(b.status, Status::Skip);
        let c = apply_override(finding("a.z", Status::Error), &sev);
        assert_eq!((c.status, c.severity_override), (Status::Error, None));
    }

    #[test]
    fn summary_status_is_the_worst() {
        let fs = [
            finding("a", Status::Pass),
            finding("b", Status::Warn),
            finding("c", Status::Error),
        ];
        let s = Summary::of(&fs);
        assert_eq!(
            (s.status, s.pass, s.warn, s.error),
            (Status::Error, 1, 1, 1)
        );
    }

    #[test]
    fn reports_from_before_selection_and_not_run_read_as_every_check_and_fold() {
        let ok = Report::from_json(include_bytes!("../reports/examples/postgres-15.json"))
            .expect("loads");
        assert_eq!(
            (ok.selection.as_ref(), ok.summary.not_run.as_ref()),
            (None, None)
        );
        let failed = Report::from_json(include_bytes!(
            "../reports/examples/postgres-auth-failed.json"
        ))
        .expect("loads");
        let n = failed.summary.not_run.clone().expect("filled on load");
        assert_eq!(n.reason, "the connection failed (authentication)");
        assert_eq!(n.count as usize, failed.checks.len() - 1);
        let (shown, folded) = failed.shown_and_not_run();
        assert_eq!(shown.len(), 1);
        assert_eq!(folded, Some(&n));
    }

    #[test]
    fn newer_reports_are_refused_by_name() {
        let e = Report::from_json(br#"{"schema_version": 7}"#).expect_err("refused");
        assert!(e.to_string().contains("newer than this build reads"), "{e}");
        assert!(matches!(
            Report::from_json(b"\xff\xfe"),
            Err(ReportReadError::Json(_))
        ));
    }

    #[test]
    fn version_routing() {
        let example = include_str!("../reports/examples/postgres-15.json");
        let r = Report::from_json(example.as_bytes()).expect("version 1 loads");
        assert_eq!(r.schema_version, REPORT_SCHEMA_VERSION);
        for newer in [2, 99] {
            let text = example.replacen(
                "\"schema_version\": 1",
                &format!("\"schema_version\": {newer}"),
                1,
            );
            let e = Report::from_json(text.as_bytes()).expect_err("refused");
            assert!(matches!(e, ReportReadError::Newer(n) if n == newer), "{e}");
        }
        let e = Report::from_json(
            example
                .replacen("\"schema_version\": 1", "\"schema_version\": 0", 1)
                .as_bytes(),
        )
        .expect_err("refused");
        assert!(
            e.to_string()
                .contains("not supported (this build reads 1 to 1)"),
            "{e}"
        );
        let e = Report::from_json(br#"{"checks": []}"#).expect_err("refused");
        assert!(matches!(e, ReportReadError::NoSchemaVersion), "{e}");
        let e = Report::from_json(br#"{"schema_version": "1"}"#).expect_err("refused");
        assert!(matches!(e, ReportReadError::NoSchemaVersion), "{e}");
    }
}
