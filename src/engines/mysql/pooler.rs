//! `mysql.pooler`: whether a proxy or pooler (ProxySQL, MaxScale, MySQL Router, a cloud
//! gateway) sits between us and the server, and whether it multiplexes: hands our next
//! transaction another server connection, so session state does not carry over.
//!
//! What can be told from the client side, without a login of its own: the port the server
//! listens on (`@@port`) against the port we connected to, the version the handshake announced
//! (a proxy that greets clients itself announces its own) against `VERSION()`, and
//! `CONNECTION_ID()` in two of our read-only transactions (a multiplexing proxy gives the
//! second another server connection). None of the proxies names itself to a query that a
//! server would also answer, so which one it is stays unknown unless it says so.

use super::facts::MysqlFacts;
use crate::probe::Probe;
use crate::registry::{Category, Check, Ctx, Outcome, Verdict};
use serde::{Deserialize, Serialize};

/// Our server connection as the server sees it, read with the first batch.
/// (Read as text: the integer types differ between MySQL and MariaDB versions.)
pub const SERVER_CONNECTION: &str = "SELECT CAST(CONNECTION_ID() AS CHAR), CAST(@@port AS CHAR)";

/// Our server connection again, in a later transaction (a message of its own).
pub const CONNECTION_AGAIN: &str = "SELECT CAST(CONNECTION_ID() AS CHAR)";

/// What was seen of a proxy or pooler in front.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Pooler {
    /// Something sits between us and the server.
    pub in_front: bool,
    /// `multiplexing` when our next transaction ran on another server connection; `None` when
    /// it could not be told.
    pub mode: Option<String>,
    /// Our two transactions ran on the same server connection (asked).
    pub same_connection: Option<bool>,
    /// What was seen, in the server's terms.
    pub evidence: Vec<String>,
    /// What was compared and found as a direct connection gives it.
    pub checked: Vec<String>,
}

/// What the collector gathered for the finding.
#[derive(Debug, Clone, Default)]
pub struct Signals {
    /// The TCP port we connected to (none over a local socket).
    pub connected_port: Option<u16>,
    /// `@@port`.
    pub server_port: Option<u64>,
    /// `CONNECTION_ID()` in the first transaction, and in a later one (when asked).
    pub connection_id: Option<u64>,
    pub connection_id_again: Option<u64>,
    /// The version the protocol handshake announced (read by the TLS inspection).
    pub greeting: Option<String>,
    /// `VERSION()`.
    pub version: Option<String>,
}

impl Signals {
    /// Whether something already says the server is not the one we connected to: worth a
    /// message of its own to learn whether the proxy multiplexes.
    pub fn suspected(&self) -> bool {
        self.port_differs().is_some() || self.greeting_differs().is_some()
    }

    fn port_differs(&self) -> Option<(u16, u64)> {
        match (self.connected_port, self.server_port) {
            (Some(ours), Some(theirs)) if u64::from(ours) != theirs && theirs != 0 => {
                Some((ours, theirs))
            }
            _ => None,
        }
    }

    fn greeting_differs(&self) -> Option<(&str, &str)> {
        let (g, v) = (self.greeting.as_deref()?, self.version.as_deref()?);
        // MariaDB announces `5.5.5-` before its version, for old clients.
        let announced = g.strip_prefix("5.5.5-").unwrap_or(g);
        (!g.is_empty() && announced != v).then_some((g, v))
    }

    /// The facts the finding judges.
    pub fn facts(&self) -> Pooler {
        let mut p = Pooler::default();
        match self.port_differs() {
            Some((ours, theirs)) => p.evidence.push(format!(
                "we connected to port {ours}; the server listens on port {theirs}"
            )),
            None if self.connected_port.is_some() && self.server_port.is_some() => p
                .checked
                .push("the server listens on the port we connected to".into()),
            None => {}
        }
        match self.greeting_differs() {
            Some((g, v)) => p.evidence.push(format!(
                "the handshake announced version {g}; the server says {v}: something else greeted us"
            )),
            None if self.greeting.is_some() && self.version.is_some() => p
                .checked
                .push("the handshake came from the server itself (same version)".into()),
            None => {}
        }
        match (self.connection_id, self.connection_id_again) {
            (Some(a), Some(b)) if a != b => {
                p.evidence.push(format!(
                    "our next transaction ran on another server connection (CONNECTION_ID() {a} then {b})"
                ));
                p.mode = Some("multiplexing".into());
                p.same_connection = Some(false);
            }
            (Some(_), Some(_)) => {
                p.checked
                    .push("both our transactions ran on the same server connection".into());
                p.same_connection = Some(true);
            }
            _ => {}
        }
        p.in_front = !p.evidence.is_empty();
        p
    }
}

/// The collector's second reading of `CONNECTION_ID()`, from a message it sends anyway (the
/// migration history) or one of its own: the first row's value.
pub fn connection_id(row: &Probe<(String,)>) -> Option<u64> {
    row.value().and_then(|r| r.0.trim().parse().ok())
}

/// The first reading: `CONNECTION_ID()` and `@@port`.
pub fn server_connection(row: &Probe<(String, String)>) -> (Option<u64>, Option<u64>) {
    match row.value() {
        Some((id, port)) => (id.trim().parse().ok(), port.trim().parse().ok()),
        None => (None, None),
    }
}

/// `mysql.pooler`: a proxy or pooler in front, and whether it multiplexes.
fn pooler(f: &MysqlFacts, ctx: &Ctx) -> Outcome {
    let p = f.pooler.get()?;
    let allow_tx = ctx.matrix.app.allow_transaction_pooling;
    let expected = if allow_tx {
        "direct, or a proxy in any mode"
    } else {
        "direct, or a proxy that keeps a client on one server connection (the matrix refuses multiplexing)"
    };
    if !p.in_front {
        let seen = if p.checked.is_empty() {
            "nothing could be compared".to_string()
        } else {
            p.checked.join("; ")
        };
        return Ok(Verdict::pass(format!("no pooler seen: {seen}"))
            .observed("direct connection")
            .expected(expected));
    }
    let mut observed = p.evidence.clone();
    observed.extend(p.checked.iter().cloned());
    let observed = observed.join("; ");
    let lost = "the next transaction may run on another server connection: session variables, temporary tables, user-level locks (GET_LOCK), LAST_INSERT_ID() across statements and server-side prepared statements do not carry over";
    let v = match (p.mode.as_deref(), p.same_connection) {
        (Some("multiplexing"), _) if !allow_tx => Verdict::fail(format!(
            "a proxy in front multiplexes our connection, which the matrix refuses: {lost}"
        ))
        .remedy("Give our product a proxy route that keeps each client on one server connection (ProxySQL: disable multiplexing for its user or query rules; MySQL Router: connection_sharing=0), or connect to the server directly."),
        (Some("multiplexing"), _) => Verdict::warn(format!(
            "a proxy in front multiplexes our connection: {lost}; our product must keep its state within transactions"
        ))
        .remedy("Turn multiplexing off for our product's user, or set the matrix's [app] allow_transaction_pooling once it is known to cope."),
        (_, Some(true)) => Verdict::pass(
            "a proxy or port forward in front; our two transactions ran on the same server connection, no sign of multiplexing",
        ),
        _ => Verdict::warn(
            "a proxy or port forward in front; whether it multiplexes connections could not be told",
        )
        .remedy("Ask the proxy's administrator whether it multiplexes (ProxySQL multiplexing, MySQL Router connection sharing) for our product's user."),
    };
    Ok(v.observed(observed).expected(expected))
}

/// The check, registered in [`super::checks::CHECKS`].
pub const CHECK: Check<MysqlFacts> = Check {
    id: "mysql.pooler",
    category: Category::Connection,
    title: "Proxy or pooler in front, and whether it multiplexes",
    doc: "Tells whether a proxy or pooler (ProxySQL, MaxScale, MySQL Router, a cloud gateway) sits between us and the server: the server listening on another port than the one we connected to, a handshake announcing another version than VERSION(), or our next transaction running on another server connection (CONNECTION_ID() compared across two of our read-only transactions, asked in a message we send anyway or, when a proxy is already suspected, in one of its own). Multiplexing warns (fails when [app] allow_transaction_pooling = false): session state, temporary tables, GET_LOCK and server-side prepared statements do not carry over. Which proxy it is cannot be told from a query a server also answers.",
    asks: "CONNECTION_ID() and @@port with the first batch; the handshake's version (from the TLS inspection); CONNECTION_ID() in a later transaction (with the migration history, or alone when a proxy is suspected)",
    run: pooler,
};

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn direct() -> Signals {
        Signals {
            connected_port: Some(3306),
            server_port: Some(3306),
            connection_id: Some(7),
            connection_id_again: Some(7),
            greeting: Some("5.5.5-10.11.19-MariaDB-0+deb12u1".into()),
            version: Some("10.11.19-MariaDB-0+deb12u1".into()),
        }
    }

    #[test]
    fn a_direct_connection_is_no_pooler_and_says_what_was_compared() {
        let s = direct();
        assert!(!s.suspected());
        let p = s.facts();
        assert!(!p.in_front);
        assert_eq!(p.checked.len(), 3, "{:?}", p.checked);
        assert_eq!(p.same_connection, Some(true));
    }

    #[test]
    fn another_connection_for_the_next_transaction_is_multiplexing() {
        let s = Signals {
            connection_id_again: Some(9),
            ..direct()
        };
        let p = s.facts();
        assert!(p.in_front);
        assert_eq!(p.mode.as_deref(), Some("multiplexing"));
        assert!(p.evidence[0].contains("7 then 9"), "{:?}", p.evidence);
    }

    #[test]
    fn a_proxy_port_or_its_own_greeting_is_suspected() {
        let port = Signals {
            connected_port: Some(6033),
            connection_id_again: None,
            ..direct()
        };
        assert!(port.suspected());
        let p = port.facts();
        assert!(p.in_front && p.mode.is_none() && p.same_connection.is_none());
        let greeting = Signals {
            greeting: Some("8.0.11".into()),
            ..direct()
        };
        assert!(greeting.suspected());
        assert!(greeting.facts().evidence[0].contains("announced version 8.0.11"));
        // Nothing to compare (a local socket, no inspection, no second reading): not a pooler.
        let none = Signals::default();
        assert!(!none.suspected() && !none.facts().in_front);
    }
}
