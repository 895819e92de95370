//! The shared migrations check: every history a known tool wrote, against `[app.migrations]`.

use super::{CommonFacts, MigrationHistory};
use crate::registry::{Ctx, Outcome, Verdict};

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
    // A history we may not read: its version is unknown, and the fix is its grant. It matters
    // when it is the history the matrix names, or when no history is named.
    let blind: Vec<&MigrationHistory> = found
        .iter()
        .filter(|m| m.grant.is_some())
        .filter(|m| {
            ctx.matrix
                .app
                .migrations
                .as_ref()
                .is_none_or(|r| r.tool == m.tool)
        })
        .collect();
    if !blind.is_empty() {
        let tables: Vec<&str> = blind.iter().map(|m| m.table.as_str()).collect();
        let grants: Vec<&str> = blind.iter().filter_map(|m| m.grant.as_deref()).collect();
        return Ok(Verdict::error(format!(
            "our user may not read the history table {}: the schema's migration state cannot be told",
            tables.join(", ")
        ))
        .observed(observed)
        .remedy(grants.join(" ")));
    }
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
    if m.grant.is_some() {
        return format!("{} ({}, not readable by our user)", m.tool, m.table);
    }
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
