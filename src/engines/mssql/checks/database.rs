//! The SQL Server checks of the target database: compatibility level, collation, row versioning,
//! AUTO_CLOSE and AUTO_SHRINK, state, whether it is a system database, and edition and size.

use super::*;

/// Databases that belong to the server, not to an application.
pub(super) const SYSTEM_DATABASES: &[&str] = &["master", "model", "msdb", "tempdb"];

pub(super) fn compatibility_level(f: &MssqlFacts, ctx: &Ctx) -> Outcome {
    let d = f.database.get()?;
    let level = d.compatibility_level;
    let observed = format!("{level} ({})", level_name(level));
    let Some(rule) = &ctx.rules.compatibility_level else {
        return Ok(Verdict::pass(format!(
            "compatibility level {level}; the matrix asks for none"
        ))
        .observed(observed));
    };
    let expected = [
        rule.min.map(|m| format!(">= {m}")),
        rule.max.map(|m| format!("<= {m}")),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(", ");
    let lv = level as f64;
    let server_max = f
        .common
        .identity
        .value()
        .filter(|i| !is_evergreen(&i.flavor))
        .map(|i| i.major * 10);
    let target = rule
        .min
        .map(|m| m as i64)
        .filter(|_| rule.min.is_some_and(|m| lv < m))
        .or_else(|| rule.max.map(|m| m as i64))
        .unwrap_or(level);
    let target = server_max
        .map(|s| (s as i64).max(target))
        .filter(|_| rule.min.is_some_and(|m| lv < m))
        .unwrap_or(target);
    let (user, db) = who(f);
    let _ = user;
    Ok(if rule.min.is_some_and(|m| lv < m) || rule.max.is_some_and(|m| lv > m) {
        Verdict::fail(format!(
            "database compatibility level {level} ({}) is outside what the product supports: the engine behaves like that older version (OPENJSON, STRING_SPLIT and newer syntax are refused)",
            level_name(level)
        ))
        .remedy(format!(
            "ALTER DATABASE {} SET COMPATIBILITY_LEVEL = {target}; (test the application first: query plans and some behaviours change)",
            ident(&db)
        ))
    } else {
        Verdict::pass(format!("compatibility level {level}"))
    }
    .observed(observed)
    .expected(expected))
}

pub(super) fn level_name(level: i64) -> &'static str {
    match level {
        170 => "SQL Server 2025",
        160 => "SQL Server 2022",
        150 => "SQL Server 2019",
        140 => "SQL Server 2017",
        130 => "SQL Server 2016",
        120 => "SQL Server 2014",
        110 => "SQL Server 2012",
        100 => "SQL Server 2008",
        90 => "SQL Server 2005",
        80 => "SQL Server 2000",
        _ => "unknown",
    }
}

pub(super) fn collation(f: &MssqlFacts, ctx: &Ctx) -> Outcome {
    let d = f.database.get()?;
    let name = d.collation.clone().unwrap_or_else(|| "unknown".into());
    let cs = d.case_sensitive();
    let server = f
        .server
        .value()
        .and_then(|s| s.collation.clone())
        .unwrap_or_default();
    let mut observed = format!(
        "{name} ({})",
        match cs {
            Some(true) => "case-sensitive",
            Some(false) => "case-insensitive",
            None => "case sensitivity unknown",
        }
    );
    if !server.is_empty() && !server.eq_ignore_ascii_case(&name) {
        observed.push_str(&format!(
            "; server collation {server} (tempdb uses it: temp-table joins may need COLLATE DATABASE_DEFAULT)"
        ));
    }
    let (_, db) = who(f);
    let recreate = |want: &str| {
        format!(
            "A database collation change does not convert existing columns. For a new or empty database: ALTER DATABASE {} COLLATE {want}; (needs exclusive access); otherwise create a new database with CREATE DATABASE ... COLLATE {want} and move the data.",
            ident(&db)
        )
    };
    if let Some(list) = &ctx.rules.collations
        && !list.iter().any(|c| c.eq_ignore_ascii_case(&name))
    {
        return Ok(Verdict::fail(format!(
            "collation {name} is not one the product is tested with"
        ))
        .observed(observed)
        .expected(list.join(", "))
        .remedy(recreate(&list[0])));
    }
    Ok(match (ctx.rules.case_sensitive, cs) {
        (Some(want), Some(have)) if want != have => {
            let (what, target) = if have {
                (
                    "case-sensitive: identifiers and text compare by case, so `Users` and `users` differ and lookups the product expects to match will not",
                    "SQL_Latin1_General_CP1_CI_AS",
                )
            } else {
                (
                    "case-insensitive, and the product needs case-sensitive comparisons",
                    "Latin1_General_100_CS_AS",
                )
            };
            Verdict::fail(format!("collation {name} is {what}"))
                .observed(observed)
                .expected(if want {
                    "case-sensitive"
                } else {
                    "case-insensitive"
                })
                .remedy(recreate(target))
        }
        (Some(_), None) => Verdict::error(format!(
            "cannot tell whether collation {name} is case-sensitive"
        ))
        .observed(observed),
        (Some(want), Some(_)) => Verdict::pass(format!("collation {name}"))
            .observed(observed)
            .expected(if want {
                "case-sensitive"
            } else {
                "case-insensitive"
            }),
        (None, _) => {
            Verdict::pass(format!("collation {name}; the matrix accepts any")).observed(observed)
        }
    })
}

pub(super) fn row_versioning(f: &MssqlFacts, _: &Ctx) -> Outcome {
    let d = f.database.get()?;
    let (_, db) = who(f);
    let si = match d.snapshot_isolation_state {
        0 => "OFF",
        1 => "ON",
        2 => "turning off",
        3 => "turning on",
        _ => "unknown",
    };
    let observed = format!(
        "READ_COMMITTED_SNAPSHOT {}, ALLOW_SNAPSHOT_ISOLATION {si}",
        if d.read_committed_snapshot {
            "ON"
        } else {
            "OFF"
        }
    );
    Ok(if d.read_committed_snapshot {
        Verdict::pass("readers do not block writers (READ_COMMITTED_SNAPSHOT is on)")
    } else {
        Verdict::warn("READ_COMMITTED_SNAPSHOT is off: readers and writers block each other under load, and deadlocks become likely")
            .remedy(format!(
                "ALTER DATABASE {} SET READ_COMMITTED_SNAPSHOT ON WITH ROLLBACK IMMEDIATE; (briefly needs exclusive access; Azure SQL Database has it on by default)",
                ident(&db)
            ))
    }
    .observed(observed)
    .expected("READ_COMMITTED_SNAPSHOT ON"))
}

pub(super) fn auto_close_shrink(f: &MssqlFacts, _: &Ctx) -> Outcome {
    let d = f.database.get()?;
    let (_, db) = who(f);
    let observed = format!(
        "AUTO_CLOSE {}, AUTO_SHRINK {}",
        if d.auto_close { "ON" } else { "OFF" },
        if d.auto_shrink { "ON" } else { "OFF" }
    );
    let mut problems = Vec::new();
    let mut fixes = Vec::new();
    if d.auto_close {
        problems.push("AUTO_CLOSE is on: the database shuts down after the last connection and every new connection pays the start-up, emptying the plan cache");
        fixes.push(format!("ALTER DATABASE {} SET AUTO_CLOSE OFF;", ident(&db)));
    }
    if d.auto_shrink {
        problems.push(
            "AUTO_SHRINK is on: the files shrink and regrow in a loop, fragmenting every index",
        );
        fixes.push(format!(
            "ALTER DATABASE {} SET AUTO_SHRINK OFF;",
            ident(&db)
        ));
    }
    Ok(if problems.is_empty() {
        Verdict::pass("AUTO_CLOSE and AUTO_SHRINK are off")
    } else {
        Verdict::warn(problems.join("; ")).remedy(fixes.join(" "))
    }
    .observed(observed)
    .expected("AUTO_CLOSE OFF, AUTO_SHRINK OFF"))
}

pub(super) fn database_state(f: &MssqlFacts, _: &Ctx) -> Outcome {
    let d = f.database.get()?;
    let access = d.user_access.clone().unwrap_or_else(|| "MULTI_USER".into());
    let (_, db) = who(f);
    let observed = format!("{}, {access}", d.state);
    Ok(if !d.state.eq_ignore_ascii_case("ONLINE") {
        Verdict::fail(format!("the database is {}, not ONLINE", d.state))
            .remedy(format!(
                "Bring it online: ALTER DATABASE {} SET ONLINE; (RESTORING: finish the restore WITH RECOVERY; SUSPECT: see the error log)",
                ident(&db)
            ))
    } else if !access.eq_ignore_ascii_case("MULTI_USER") {
        Verdict::fail(format!("the database is {access}: our pool's connections will be refused"))
            .remedy(format!("ALTER DATABASE {} SET MULTI_USER;", ident(&db)))
    } else {
        Verdict::pass("ONLINE and open to all users")
    }
    .observed(observed)
    .expected("ONLINE, MULTI_USER"))
}

pub(super) fn system_database(f: &MssqlFacts, _: &Ctx) -> Outcome {
    let (user, db) = who(f);
    // Without a session, only a name given in the connection string can be judged.
    if f.session.value().is_none()
        && !f
            .common
            .target
            .database
            .as_deref()
            .is_some_and(|d| SYSTEM_DATABASES.iter().any(|s| s.eq_ignore_ascii_case(d)))
    {
        f.session.get()?;
    }
    let system = SYSTEM_DATABASES.iter().any(|s| s.eq_ignore_ascii_case(&db))
        || f.database
            .value()
            .and_then(|d| d.database_id)
            .is_some_and(|id| (1..=4).contains(&id));
    Ok(if system {
        Verdict::fail(format!(
            "connected to the system database `{db}`: the product's tables would mix with the server's own{}",
            if db.eq_ignore_ascii_case("tempdb") { " (and tempdb is emptied at every restart)" } else { "" }
        ))
        .observed(&db)
        .expected("a dedicated application database")
        .remedy(format!(
            "Create a dedicated database and point the connection string at it (Database=app): CREATE DATABASE [app]; then in it: CREATE USER {} FOR LOGIN {}; ALTER ROLE db_owner ADD MEMBER {};",
            ident(&user), ident(&user), ident(&user)
        ))
    } else {
        Verdict::pass(format!("`{db}` is a user database")).observed(&db)
    })
}

pub(super) fn edition(f: &MssqlFacts, _: &Ctx) -> Outcome {
    let s = f.server.get()?;
    let ed = s.edition.clone().unwrap_or_else(|| "unknown".into());
    let tier = f.azure.value();
    let mut observed = format!(
        "{ed}{}",
        s.engine_edition
            .map(|e| format!(" (EngineEdition {e})"))
            .unwrap_or_default()
    );
    if let Some(t) = tier {
        observed.push_str(&format!(
            "; tier {} {}",
            t.edition.as_deref().unwrap_or("?"),
            t.service_objective.as_deref().unwrap_or("")
        ));
    }
    Ok(match s.engine_edition {
        Some(4) => Verdict::warn("Express edition: each database is capped at 10 GB, the buffer pool at about 1.4 GB and the engine at 4 cores")
            .observed(observed)
            .remedy("Plan Standard edition (or a managed service) before the data grows; the database-size check watches the 10 GB cap."),
        Some(1) => Verdict::warn("Personal/Desktop engine: not meant for a production workload").observed(observed)
            .remedy("Use Standard or Enterprise edition."),
        _ if tier.and_then(|t| t.edition.as_deref()).is_some_and(|e| e.eq_ignore_ascii_case("Basic")) => {
            Verdict::warn("Azure SQL Database Basic tier: 5 DTUs and 2 GB; too small for the product")
                .observed(observed)
                .remedy("Scale to at least Standard S2 or General Purpose.")
        }
        _ => Verdict::pass(ed).observed(observed),
    })
}

pub(super) fn database_size(f: &MssqlFacts, _: &Ctx) -> Outcome {
    let express = f.server.value().and_then(|s| s.engine_edition) == Some(4);
    let v = common::database_size(&f.common, express.then_some(EXPRESS_LIMIT_BYTES))?;
    Ok(if express {
        v.expected("under the 10 GB Express edition limit")
    } else {
        v
    })
}
