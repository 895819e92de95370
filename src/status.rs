//! The five statuses a finding can have, and how they combine.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The verdict of one check.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// The database meets the requirement.
    #[default]
    Pass,
    /// Not applicable, or the matrix asks nothing.
    Skip,
    /// Works, but is outside what we recommend or test.
    Warn,
    /// Could not be evaluated (permission denied, timeout, query failed). Never a pass.
    Error,
    /// The database does not meet the requirement.
    Fail,
}

impl Status {
    /// Every status in report order.
    pub const ALL: [Status; 5] = [
        Status::Pass,
        Status::Warn,
        Status::Fail,
        Status::Skip,
        Status::Error,
    ];

    /// How bad a status is: the report's overall status is the worst of its findings.
    pub fn rank(self) -> u8 {
        match self {
            Status::Pass | Status::Skip => 0,
            Status::Warn => 1,
            Status::Error => 2,
            Status::Fail => 3,
        }
    }

    /// The lowercase name used in reports and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Warn => "warn",
            Status::Fail => "fail",
            Status::Skip => "skip",
            Status::Error => "error",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
