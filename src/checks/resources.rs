//! The shared checks of what the server can do and hold: writability, capabilities, clock,
//! uptime and size, and the words for durations and sizes.

use super::CommonFacts;
use crate::registry::{Ctx, Outcome, Verdict};

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
