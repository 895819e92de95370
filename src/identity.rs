//! Server identification as a pure function: what a version string and a few other probe
//! results say about the product, its flavor and its version. Support and tests feed it strings
//! seen in the field; the collectors feed it what the server answered.

use crate::engine::Engine;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Who the server is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ServerIdentity {
    pub engine: Engine,
    /// A flavor name from SPEC.md's table.
    pub flavor: String,
    /// Compatibility version (the MySQL or PostgreSQL one for compatible engines).
    pub major: u64,
    pub minor: u64,
    /// Patch level; SQL Server's build number.
    pub patch: Option<u64>,
    /// The product's own version for compatible engines (TiDB, YugabyteDB, Redshift, ...).
    pub flavor_version: Option<String>,
    /// Product and major, for people ("PostgreSQL 15", "MariaDB 10.11", "SQL Server 2022").
    pub product: String,
    /// Server platform where the version string tells it.
    pub os: Option<String>,
    /// The pre-release tag of a development, alpha, beta or release-candidate build
    /// (`beta1`, `devel`, `rc1`); `None` for a release.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prerelease: Option<String>,
}

impl ServerIdentity {
    /// The version as semver, for matrix requirements.
    pub fn version(&self) -> semver::Version {
        semver::Version::new(self.major, self.minor, self.patch.unwrap_or(0))
    }

    /// The key of this release line in the end-of-life data.
    pub fn eol_key(&self) -> String {
        match self.engine {
            Engine::Postgres if self.major >= 10 => self.major.to_string(),
            Engine::Mssql if self.minor == 0 => self.major.to_string(),
            _ => format!("{}.{}", self.major, self.minor),
        }
    }
}

/// A version string that could not be understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentifyError {
    #[error("unrecognised {engine} version string `{text}`")]
    Unrecognized { engine: Engine, text: String },
    #[error("empty version string")]
    Empty,
}

/// Named probe results handed to identification.
pub struct Hints<'a>(pub &'a [(&'a str, &'a str)]);

impl Hints<'_> {
    /// A non-empty hint by name.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, v)| k.eq_ignore_ascii_case(name) && !v.trim().is_empty())
            .map(|(_, v)| v.trim())
    }
}

/// The leading `a.b.c` numbers of a string (`"15.20 (Debian"` gives `[15, 20]`).
pub fn leading_numbers(s: &str) -> Vec<u64> {
    let end = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    s[..end]
        .split('.')
        .map_while(|p| p.parse::<u64>().ok())
        .collect()
}
