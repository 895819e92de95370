//! The PostgreSQL checks of the database and its settings: encoding, collation,
//! standard_conforming_strings, statement_timeout and the pooler in front.

use super::*;

pub(super) fn encoding(f: &PgFacts, ctx: &Ctx) -> Outcome {
    let d = f.database.get()?;
    let accepted = ctx
        .rules
        .encodings
        .clone()
        .unwrap_or_else(|| vec!["UTF8".into()]);
    let ok = accepted.iter().any(|e| e.eq_ignore_ascii_case(&d.encoding));
    let (user, db) = who(f);
    let v = if ok {
        Verdict::pass(format!("database encoding {}", d.encoding))
    } else {
        let why = if d.encoding == "SQL_ASCII" {
            "SQL_ASCII stores bytes unchecked: text in other encodings will be corrupted"
        } else {
            "non-ASCII text outside this character set will be refused or mangled"
        };
        Verdict::fail(format!("database encoding is {}: {why}", d.encoding)).remedy(format!(
            "A database's encoding cannot be changed in place. Create a UTF8 database and move the data: CREATE DATABASE {db}_utf8 OWNER {user} ENCODING 'UTF8' LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8' TEMPLATE template0; then pg_dump | pg_restore into it."
        ))
    };
    Ok(v.observed(&d.encoding).expected(accepted.join(", ")))
}

pub(super) fn collation(f: &PgFacts, ctx: &Ctx) -> Outcome {
    let d = f.database.get()?;
    let observed = format!("LC_COLLATE {}, LC_CTYPE {}", d.collate, d.ctype);
    Ok(match &ctx.rules.collations {
        None => Verdict::pass(format!("collation {}; the matrix accepts any", d.collate))
            .observed(observed),
        Some(list) if list.iter().any(|c| c.eq_ignore_ascii_case(&d.collate)) => {
            Verdict::pass(format!("collation {} is accepted", d.collate))
                .observed(observed)
                .expected(list.join(", "))
        }
        Some(list) => Verdict::fail(format!(
            "collation {} is not one the product is tested with",
            d.collate
        ))
        .observed(observed)
        .expected(list.join(", "))
        .remedy(format!(
            "Create the database with LC_COLLATE '{}' (TEMPLATE template0) and move the data.",
            list[0]
        )),
    })
}

pub(super) fn setting_is(f: &PgFacts, name: &str) -> Result<String, crate::probe::Unavailable> {
    let s = f.common.settings.get()?;
    s.get(name).cloned().ok_or_else(|| {
        crate::probe::Unavailable::Error(format!(
            "{name} is not visible (needs pg_read_all_settings)"
        ))
    })
}

pub(super) fn standard_strings(f: &PgFacts, _: &Ctx) -> Outcome {
    let v = setting_is(f, "standard_conforming_strings")?;
    Ok(if v == "on" {
        Verdict::pass("backslashes in string literals are literal, as the SQL standard says")
    } else {
        Verdict::fail("standard_conforming_strings is off: backslashes in literals are escapes, and drivers may mangle data")
            .remedy("ALTER SYSTEM SET standard_conforming_strings = on; SELECT pg_reload_conf();")
    }
    .observed(format!("standard_conforming_strings = {v}"))
    .expected("on"))
}

pub(super) fn statement_timeout(f: &PgFacts, _: &Ctx) -> Outcome {
    let st = setting_is(f, "statement_timeout")?;
    let lt = setting_is(f, "lock_timeout")?;
    let ms = |v: &str| v.parse::<u64>().unwrap_or(0);
    let level = |n: &str| {
        f.setting_levels
            .get(n)
            .map(|l| format!(" (set for the {l})"))
            .unwrap_or_default()
    };
    let observed = format!(
        "statement_timeout = {st} ms{}, lock_timeout = {lt} ms{}",
        level("statement_timeout"),
        level("lock_timeout")
    );
    let short = |v: u64| v > 0 && v < 60_000;
    let fixes: Vec<String> = [("statement_timeout", &st), ("lock_timeout", &lt)]
        .into_iter()
        .filter(|(_, v)| short(ms(v)))
        .map(|(n, _)| set_at_level(f, n, "0"))
        .collect();
    Ok(if !fixes.is_empty() {
        Verdict::warn("a default time limit under a minute will cancel long migrations and reports")
            .observed(observed)
            .expected("0 (none) or at least 60000 ms")
            .remedy(format!(
                "{} Or set it per transaction in the application (SET LOCAL).",
                fixes.join(" ")
            ))
    } else {
        Verdict::pass("no default time limit short enough to cancel migrations").observed(observed)
    })
}

/// `postgres.idle-timeout`: the shortest idle limit on our connections, against how long our
/// pool keeps one: the server's idle_session_timeout (PostgreSQL 14+) as a new session gets it,
/// and a pooler's own limit on idle clients where its settings are visible.
pub(super) fn idle_timeout(f: &PgFacts, ctx: &Ctx) -> Outcome {
    let settings = f.common.settings.get()?;
    // (what, seconds, how to turn it off); 0 seconds: never.
    let mut limits: Vec<(String, u64, String)> = Vec::new();
    if let Some(ms) = settings.get("idle_session_timeout") {
        // In whole seconds, rounded up: a limit under a second is not "none".
        let s = ms.trim().parse::<u64>().unwrap_or(0).div_ceil(1000);
        limits.push((
            "idle_session_timeout".into(),
            s,
            set_at_level(f, "idle_session_timeout", "0"),
        ));
    }
    let pooler = f.pooler.value().filter(|p| p.in_front);
    // A pooler whose settings we may not read may cut idle clients too: say so.
    let unknown = pooler
        .filter(|p| p.client_idle_timeout_s.is_none())
        .map(|p| {
            format!(
                "{}'s own idle limit unknown (its settings could not be read)",
                p.kind.as_deref().unwrap_or("the pooler")
            )
        });
    if let Some(p) = pooler
        && let Some(s) = p.client_idle_timeout_s
    {
        let (name, fix) = match p.kind.as_deref() {
            Some("pgpool-II") => (
                "pgpool-II's client_idle_limit",
                "client_idle_limit = 0 in pgpool.conf, then pgpool reload.",
            ),
            _ => (
                "PgBouncer's client_idle_timeout",
                "client_idle_timeout = 0 in pgbouncer.ini, then RELOAD on its admin console.",
            ),
        };
        limits.push((name.into(), s, fix.into()));
    }
    let mut observed: Vec<String> = limits
        .iter()
        .map(|(n, s, _)| match s {
            0 => format!("{n} = 0 (none)"),
            _ => format!("{n} = {s} s"),
        })
        .collect();
    if limits.is_empty() {
        observed.push("no idle_session_timeout (PostgreSQL 14+)".into());
    }
    observed.extend(unknown);
    let observed = observed.join(", ");
    let recycle = ctx.matrix.app.pool_recycle_seconds;
    let fixes: Vec<&str> = limits
        .iter()
        .filter(|(_, s, _)| *s > 0 && *s < recycle)
        .map(|(.., fix)| fix.as_str())
        .collect();
    let Some((name, s, _)) = limits
        .iter()
        .filter(|(_, s, _)| *s > 0)
        .min_by_key(|(_, s, _)| *s)
    else {
        return Ok(
            Verdict::pass("neither the server nor a pooler ends an idle connection")
                .observed(observed),
        );
    };
    Ok(common::idle_timeout(name, *s, ctx, fixes.join(" ")).observed(observed))
}

/// `postgres.pooler`: a pooler in front, which one, its mode, and what that means for us.
pub(super) fn pooler(f: &PgFacts, ctx: &Ctx) -> Outcome {
    let p = f.pooler.get()?;
    let ours = ctx.matrix.app.pool_size;
    let allow_tx = ctx.matrix.app.allow_transaction_pooling;
    if !p.in_front {
        return Ok(Verdict::pass(
            "no pooler seen: the server session started with our connection, on the port we connected to, and served both our transactions",
        )
        .observed("direct connection")
        .expected(if allow_tx {
            "direct, or any pool mode"
        } else {
            "direct, or session pooling"
        }));
    }
    let who = match (&p.kind, &p.version) {
        (Some(k), Some(v)) => format!("{k} {v}"),
        (Some(k), None) => k.clone(),
        (None, _) => "a pooler or proxy".into(),
    };
    let mut observed = vec![
        who.clone(),
        format!("pool mode {}", p.mode.as_deref().unwrap_or("unknown")),
        match p.client_limit {
            Some(n) => format!("admits {n} clients"),
            None => "client limit unknown".into(),
        },
    ];
    if let Some(n) = p.pool_size {
        observed.push(format!("{n} server connections per user and database"));
    }
    observed.extend(p.evidence.iter().cloned());
    if let Some(u) = &p.unreadable {
        observed.push(u.clone());
    }
    let observed = observed.join("; ");
    let expected = if allow_tx {
        format!("any pool mode, admitting at least {ours} clients")
    } else {
        format!(
            "session pooling (the matrix refuses transaction pooling), admitting at least {ours} clients"
        )
    };
    let only_port = p.kind.is_none()
        && p.mode.is_none()
        && p.evidence
            .iter()
            .all(|e| e.contains("we connected to port"));
    let lost = "the next transaction may run in another server session: session state (SET, temporary tables), named prepared statements, session advisory locks and LISTEN do not carry over";
    let v = match p.mode.as_deref() {
        Some("statement") => Verdict::fail(format!(
            "{who} in statement pooling: a transaction of more than one statement is refused, and {lost}"
        ))
        .remedy("Give our product a pool in session mode (pool_mode = session for its database entry), or connect to the server directly."),
        Some("transaction") if !allow_tx => Verdict::fail(format!(
            "{who} in transaction pooling, which the matrix refuses: {lost}"
        ))
        .remedy("Give our product a pool in session mode (pool_mode = session for its database entry), or connect to the server directly."),
        Some("transaction") => Verdict::warn(format!(
            "{who} in transaction pooling: {lost}; our product must use unnamed statements and transaction-scoped settings"
        ))
        .remedy("Use session pooling for our product, or set the matrix's [app] allow_transaction_pooling once it is known to cope."),
        _ if p.client_limit.is_some_and(|n| n < u64::from(ours)) => Verdict::fail(format!(
            "{who} admits only {} clients at once; our pool opens {ours}",
            p.client_limit.unwrap_or(0)
        ))
        .remedy("Raise the pooler's client limit (PgBouncer max_client_conn, pgpool-II num_init_children) to at least our pool size."),
        Some(mode) => Verdict::pass(format!(
            "{who} in {mode} pooling: a client keeps its server session while connected, so session state, prepared statements, advisory locks and LISTEN work; the server session is reset for the next client"
        )),
        None if only_port => Verdict::pass(
            "a port forward or proxy in front (the server listens on another port); no sign of connection pooling",
        ),
        None if !allow_tx => Verdict::warn(format!(
            "{who} in front, and its pool mode cannot be told; the matrix refuses transaction pooling"
        ))
        .remedy("Ask the pooler's administrator for its pool mode (PgBouncer: SHOW CONFIG on its admin console; add our user to stats_users so this check can read it)."),
        None => Verdict::warn(format!(
            "{who} in front; its pool mode cannot be told: in transaction or statement mode, {lost}"
        ))
        .remedy("Ask the pooler's administrator for its pool mode (PgBouncer: SHOW CONFIG on its admin console; add our user to stats_users so this check can read it)."),
    };
    Ok(v.observed(observed).expected(expected))
}
