//! Comparing two reports of the same database, by check id: which checks changed status, which
//! are new or gone, and whether the server's engine, flavor or version changed. [`diff`] is a
//! pure function and decides [`Diff::worse`]; renderers (`render::diff`) only format the result.

use crate::report::{Report, ServerInfo, Summary};
use crate::status::Status;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// What changed between an old and a new report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Diff {
    /// True when something got worse: a check's status rank went up, a new check fails or
    /// errors, or the server's version went down. The CLI exits 1 on it.
    pub worse: bool,
    /// Which reports were compared.
    pub old: Side,
    pub new: Side,
    /// Changes of the target or the server's identity (target, reached, engine, flavor,
    /// version).
    pub server: Vec<ServerChange>,
    /// Checks whose status changed, or that appear in only one report; old report order, then
    /// the new report's additions in its order.
    pub checks: Vec<CheckChange>,
    /// Checks present in both with the same status.
    pub unchanged: u32,
    /// Set when the two reports ran under different `--only`/`--skip` selections.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selection: Option<SelectionChange>,
    /// Checks in one report only because the other report's selection left them out: not
    /// compared, and neither removed nor added.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_compared: Vec<String>,
}

/// The selections two reports ran under, as typed (`every check` when not narrowed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SelectionChange {
    pub old: String,
    pub new: String,
}

fn selection_of(r: &Report) -> String {
    r.selection
        .as_ref()
        .map_or_else(|| "every check".to_string(), |s| s.describe())
}

fn excluded_by(r: &Report, id: &str) -> bool {
    r.selection.as_ref().is_some_and(|s| s.excludes(id))
}

/// One of the two reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Side {
    pub generated_at: String,
    pub summary: Summary,
    /// `product — flavor version`, or none when the server was not reached.
    pub server: Option<String>,
}

/// A server property that differs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ServerChange {
    /// target, reached, engine, flavor or version.
    pub field: String,
    pub old: Option<String>,
    pub new: Option<String>,
    /// Whether this change alone makes the result worse (a version going down).
    pub worse: bool,
}

/// How a check differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    /// In both reports, with another status.
    Changed,
    /// Only in the new report.
    Added,
    /// Only in the old report.
    Removed,
}

/// One check that differs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CheckChange {
    pub id: String,
    pub title: String,
    pub kind: ChangeKind,
    pub old: Option<Status>,
    pub new: Option<Status>,
    /// Whether this change makes the result worse.
    pub worse: bool,
    /// Whether the status rank went down (a fix took effect).
    pub better: bool,
    /// The newest message (the old one for a removed check).
    pub message: String,
}

fn side(r: &Report) -> Side {
    Side {
        generated_at: r.generated_at.clone(),
        summary: r.summary.clone(),
        server: r
            .server
            .as_ref()
            .map(|s| format!("{} — {} {}", s.product, s.flavor, s.version)),
    }
}

/// Compares two reports by check id. Pure.
pub fn diff(old: &Report, new: &Report) -> Diff {
    let mut checks = Vec::new();
    let mut unchanged = 0;
    let mut not_compared = Vec::new();
    for o in &old.checks {
        match new.checks.iter().find(|n| n.id == o.id) {
            Some(n) if n.status == o.status => unchanged += 1,
            Some(n) => checks.push(CheckChange {
                id: o.id.clone(),
                title: n.title.clone(),
                kind: ChangeKind::Changed,
                old: Some(o.status),
                new: Some(n.status),
                worse: n.status.rank() > o.status.rank(),
                better: n.status.rank() < o.status.rank(),
                message: n.message.clone(),
            }),
            None if excluded_by(new, &o.id) => not_compared.push(o.id.clone()),
            None => checks.push(CheckChange {
                id: o.id.clone(),
                title: o.title.clone(),
                kind: ChangeKind::Removed,
                old: Some(o.status),
                new: None,
                worse: false,
                better: false,
                message: o.message.clone(),
            }),
        }
    }
    for n in &new.checks {
        if old.checks.iter().any(|o| o.id == n.id) {
            continue;
        }
        if excluded_by(old, &n.id) {
            not_compared.push(n.id.clone());
        } else {
            checks.push(CheckChange {
                id: n.id.clone(),
                title: n.title.clone(),
                kind: ChangeKind::Added,
                old: None,
                new: Some(n.status),
                worse: matches!(n.status, Status::Fail | Status::Error),
                better: false,
                message: n.message.clone(),
            });
        }
    }
    let mut server = Vec::new();
    // Two reports of different databases are rarely meant; say so before anything else.
    let (old_place, new_place) = (
        crate::report::target_place(old),
        crate::report::target_place(new),
    );
    if old_place != new_place {
        server.push(ServerChange {
            field: "target".to_string(),
            old: Some(old_place),
            new: Some(new_place),
            worse: false,
        });
    }
    server.extend(server_changes(old.server.as_ref(), new.server.as_ref()));
    let worse = checks.iter().any(|c| c.worse) || server.iter().any(|c| c.worse);
    let (old_sel, new_sel) = (selection_of(old), selection_of(new));
    let selection = (old_sel != new_sel).then_some(SelectionChange {
        old: old_sel,
        new: new_sel,
    });
    Diff {
        worse,
        old: side(old),
        new: side(new),
        server,
        checks,
        unchanged,
        selection,
        not_compared,
    }
}

fn server_changes(old: Option<&ServerInfo>, new: Option<&ServerInfo>) -> Vec<ServerChange> {
    let change = |field: &str, o: Option<String>, n: Option<String>, worse: bool| ServerChange {
        field: field.to_string(),
        old: o,
        new: n,
        worse,
    };
    let (o, n) = match (old, new) {
        (Some(o), Some(n)) => (o, n),
        (None, None) => return Vec::new(),
        // Not reaching the server any more is already a failing connection check.
        (o, n) => {
            return vec![change(
                "reached",
                Some((o.is_some()).to_string()),
                Some((n.is_some()).to_string()),
                false,
            )];
        }
    };
    let mut out = Vec::new();
    if o.engine != n.engine {
        out.push(change(
            "engine",
            Some(o.engine.to_string()),
            Some(n.engine.to_string()),
            false,
        ));
    }
    if o.flavor != n.flavor {
        out.push(change(
            "flavor",
            Some(o.flavor.clone()),
            Some(n.flavor.clone()),
            false,
        ));
    }
    if o.version != n.version {
        // Only a comparable version going down counts as worse; across engines versions
        // are not comparable.
        let down = o.engine == n.engine
            && matches!(
                (semver::Version::parse(&o.version), semver::Version::parse(&n.version)),
                (Ok(a), Ok(b)) if b < a
            );
        out.push(change(
            "version",
            Some(o.version.clone()),
            Some(n.version.clone()),
            down,
        ));
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn example() -> Report {
        let text = include_str!("../reports/examples/postgres-15.json");
        Report::from_json(text.as_bytes()).expect("example loads")
    }

    #[test]
    fn the_same_report_is_no_change() {
        let r = example();
        let d = diff(&r, &r);
        assert!(!d.worse && d.checks.is_empty() && d.server.is_empty());
        assert_eq!(d.unchanged as usize, r.checks.len());
    }

    #[test]
    fn a_status_going_up_is_worse_and_down_is_not() {
        let old = example();
        let mut new = old.clone();
        new.checks[0].status = Status::Fail;
        let d = diff(&old, &new);
        assert!(d.worse);
        assert_eq!(d.checks[0].kind, ChangeKind::Changed);
        let back = diff(&new, &old);
        assert!(!back.worse && back.checks.len() == 1 && back.checks[0].better);
    }

    #[test]
    fn added_failing_checks_and_lower_versions_are_worse() {
        let old = example();
        let mut new = old.clone();
        let mut extra = new.checks[0].clone();
        extra.id = "postgres.something-new".into();
        extra.status = Status::Error;
        new.checks.push(extra);
        let removed = new.checks.remove(1).id;
        let d = diff(&old, &new);
        assert!(d.worse);
        assert!(
            d.checks
                .iter()
                .any(|c| c.kind == ChangeKind::Removed && c.id == removed && !c.worse)
        );
        assert!(
            d.checks
                .iter()
                .any(|c| c.kind == ChangeKind::Added && c.worse)
        );

        let mut older = old.clone();
        if let Some(s) = older.server.as_mut() {
            s.version = "14.9.0".into();
            s.flavor = "aurora-postgresql".into();
        }
        let d = diff(&old, &older);
        assert!(d.worse, "version went down");
        assert_eq!(
            d.server
                .iter()
                .map(|c| c.field.as_str())
                .collect::<Vec<_>>(),
            ["flavor", "version"]
        );
        assert!(!diff(&older, &old).worse, "an upgrade is not worse");
    }
}
