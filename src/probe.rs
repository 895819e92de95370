//! One probe result: each query the collector sends succeeds, is denied, fails or times out on
//! its own, so one refused query never sinks the run. Checks read probes with [`Probe::get`] and
//! turn an unavailable one into an `error` (or `skip`) finding with `?`.

use serde::{Deserialize, Serialize};
use std::cell::Cell;

/// The outcome of collecting one fact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Probe<T> {
    /// The server answered.
    Ok {
        /// What it answered.
        value: T,
        /// How long the query took.
        #[serde(default)]
        ms: u64,
    },
    /// The server refused: the message says which privilege is missing.
    Denied {
        /// What was refused and what would grant it.
        message: String,
        #[serde(default)]
        ms: u64,
    },
    /// The query failed for another reason (unsupported view, syntax of an old version, ...).
    Failed {
        /// The server's or driver's message, with no secret in it.
        message: String,
        #[serde(default)]
        ms: u64,
    },
    /// The query did not answer within the per-check time limit.
    TimedOut {
        /// The limit that was hit.
        ms: u64,
    },
    /// Not collected: not applicable to this server, or an earlier step failed.
    NotCollected {
        /// Why.
        reason: String,
    },
}

impl<T> Default for Probe<T> {
    fn default() -> Self {
        Probe::NotCollected {
            reason: "not collected".into(),
        }
    }
}

/// Why a check could not read a fact; converts into an `error` or `skip` finding.
#[derive(Debug, Clone, PartialEq)]
pub enum Unavailable {
    /// Could not be evaluated: becomes an `error` finding with this message.
    Error(String),
    /// The server refused our user a read the check needs: an `error` finding whose remedy
    /// names what the check reads (see `registry::evaluate`).
    Denied(String),
    /// Not applicable: becomes a `skip` finding with this message.
    Skip(String),
}

thread_local! {
    static READ_MS: Cell<u64> = const { Cell::new(0) };
}

/// Starts accounting the collection time of the probes a check reads (see [`Probe::get`]).
pub(crate) fn reset_read_ms() {
    READ_MS.with(|c| c.set(0));
}

/// The collection time of the probes read since [`reset_read_ms`].
pub(crate) fn take_read_ms() -> u64 {
    READ_MS.with(|c| c.replace(0))
}

impl<T> Probe<T> {
    /// A successful probe.
    pub fn ok(value: T, ms: u64) -> Self {
        Probe::Ok { value, ms }
    }

    /// A probe that was not collected, with the reason.
    pub fn not_collected(reason: impl Into<String>) -> Self {
        Probe::NotCollected {
            reason: reason.into(),
        }
    }

    /// The value, or why it is unavailable. Also adds the probe's collection time to the
    /// duration of the check being evaluated, so every finding records what it cost.
    pub fn get(&self) -> Result<&T, Unavailable> {
        let ms = self.ms();
        READ_MS.with(|c| c.set(c.get() + ms));
        match self {
            Probe::Ok { value, .. } => Ok(value),
            Probe::Denied { message, .. } => {
                Err(Unavailable::Denied(format!("permission denied: {message}")))
            }
            Probe::Failed { message, .. } => {
                Err(Unavailable::Error(format!("query failed: {message}")))
            }
            Probe::TimedOut { ms } => Err(Unavailable::Error(format!(
                "timed out after {ms} ms (raise --check-timeout)"
            ))),
            Probe::NotCollected { reason } => Err(Unavailable::Skip(reason.clone())),
        }
    }

    /// How long collecting it took (0 when it was not collected).
    pub fn ms(&self) -> u64 {
        match self {
            Probe::Ok { ms, .. } | Probe::Denied { ms, .. } | Probe::Failed { ms, .. } => *ms,
            Probe::TimedOut { ms } => *ms,
            Probe::NotCollected { .. } => 0,
        }
    }

    /// The value if the probe succeeded, without accounting.
    pub fn value(&self) -> Option<&T> {
        match self {
            Probe::Ok { value, .. } => Some(value),
            _ => None,
        }
    }

    /// The same failure, for a probe of another type (a fact derived from this one). A success
    /// has no failure to carry over: it must be handled before, and becomes "not collected".
    pub fn failure<U>(&self) -> Probe<U> {
        match self {
            Probe::Ok { .. } => Probe::not_collected("derived from a successful probe"),
            Probe::Denied { message, ms } => Probe::Denied {
                message: message.clone(),
                ms: *ms,
            },
            Probe::Failed { message, ms } => Probe::Failed {
                message: message.clone(),
                ms: *ms,
            },
            Probe::TimedOut { ms } => Probe::TimedOut { ms: *ms },
            Probe::NotCollected { reason } => Probe::NotCollected {
                reason: reason.clone(),
            },
        }
    }

    /// Maps a successful value.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Probe<U> {
        match self {
            Probe::Ok { value, ms } => Probe::Ok {
                value: f(value),
                ms,
            },
            Probe::Denied { message, ms } => Probe::Denied { message, ms },
            Probe::Failed { message, ms } => Probe::Failed { message, ms },
            Probe::TimedOut { ms } => Probe::TimedOut { ms },
            Probe::NotCollected { reason } => Probe::NotCollected { reason },
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn denied_probe_becomes_an_error_naming_the_privilege() {
        let p: Probe<u32> = Probe::Denied {
            message: "needs pg_read_all_settings".into(),
            ms: 3,
        };
        reset_read_ms();
        assert_eq!(
            p.get(),
            Err(Unavailable::Denied(
                "permission denied: needs pg_read_all_settings".into()
            ))
        );
        assert_eq!(take_read_ms(), 3);
    }

    #[test]
    fn probes_round_trip_through_json() {
        let p: Probe<Vec<String>> = Probe::ok(vec!["a".into()], 2);
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(json, r#"{"outcome":"ok","value":["a"],"ms":2}"#);
        assert_eq!(
            serde_json::from_str::<Probe<Vec<String>>>(&json).unwrap(),
            p
        );
    }
}
