//! The shared checks of server settings: the matrix's setting rules, connection headroom, the
//! idle-connection limit and the time zone.

use super::CommonFacts;
use crate::matrix::SettingRule;
use crate::registry::{Ctx, Outcome, Verdict};
use crate::status::Status;

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

/// `engine.idle-timeout`: the server's limit on an idle connection (`setting`, `cut_after_s`;
/// 0: none) against how long our pool keeps a connection (`[app] pool_recycle_seconds`). A
/// pool that keeps one longer finds it ended under it on its next use ("server has gone away",
/// "terminating connection due to idle-session timeout"). `remedy` turns the limit off or
/// raises it where it is set.
pub fn idle_timeout(setting: &str, cut_after_s: u64, ctx: &Ctx, remedy: String) -> Verdict {
    let recycle = ctx.matrix.app.pool_recycle_seconds;
    let limit = super::human_duration(cut_after_s);
    let ours = super::human_duration(recycle);
    let observed = format!("{setting} = {cut_after_s} s");
    let expected = format!("0 (none) or at least {recycle} s ([app] pool_recycle_seconds)");
    if cut_after_s == 0 {
        Verdict::pass("the server never ends an idle connection")
            .observed(format!("{setting} = 0 (none)"))
    } else if cut_after_s >= recycle {
        Verdict::pass(format!(
            "{setting} ends a connection idle for {limit}, after our pool has recycled it ({ours})"
        ))
        .observed(observed)
        .expected(expected)
    } else {
        Verdict::warn(format!(
            "{setting} ends a connection idle for {limit}, before our pool recycles it ({ours}): the pool's next use of it fails"
        ))
        .observed(observed)
        .expected(expected)
        .remedy(format!(
            "{remedy} Or have the pool recycle connections sooner than {limit} (HikariCP maxLifetime, SQLAlchemy pool_recycle, ...) and set [app] pool_recycle_seconds to match."
        ))
    }
}

/// `engine.time-zone`: the server time zone against `[app] time_zone`.
pub fn time_zone(c: &CommonFacts, ctx: &Ctx, remedy: &str) -> Outcome {
    let k = c.clock.get()?;
    let zone = k.time_zone.clone().unwrap_or_else(|| "unknown".into());
    let observed = match &k.time_zone_from {
        Some(from) => format!("{zone} ({from})"),
        None => zone.clone(),
    };
    Ok(match &ctx.matrix.app.time_zone {
        None => Verdict::pass(format!("server time zone {zone}; the matrix asks for none"))
            .observed(observed),
        Some(want) if want.eq_ignore_ascii_case(&zone) || (is_utc(want) && is_utc(&zone)) => {
            Verdict::pass(format!("server time zone {zone}"))
                .observed(observed)
                .expected(want)
        }
        Some(want) => Verdict::warn(format!(
            "server time zone is {zone}, not {want}: timestamps without a zone will shift"
        ))
        .observed(observed)
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
