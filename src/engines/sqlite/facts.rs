//! What the SQLite collector gathers.

use crate::checks::CommonFacts;
use crate::probe::Probe;
use serde::{Deserialize, Serialize};

/// Everything known about one SQLite database.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SqliteFacts {
    pub common: CommonFacts,
    /// The file (not collected for `:memory:`).
    pub file: Probe<FileFacts>,
    pub pragmas: Probe<Pragmas>,
    /// `PRAGMA compile_options`.
    pub compile_options: Probe<Vec<String>>,
    /// `PRAGMA quick_check` (first rows; `ok` when healthy).
    pub quick_check: Probe<Vec<String>>,
    /// FOREIGN KEY constraints declared in the schema.
    pub foreign_keys: Probe<u64>,
    /// Rows that violate them (`PRAGMA foreign_key_check`, first 20).
    pub foreign_key_violations: Probe<Vec<String>>,
    /// Whether `json_valid('{}')` answers.
    pub json: Probe<bool>,
}

/// The database file on disk.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FileFacts {
    pub path: String,
    pub in_memory: bool,
    pub size_bytes: u64,
    /// The file can be written by this process's user.
    pub file_writable: bool,
    /// Its directory can be written (WAL and journal files live beside it).
    pub dir_writable: bool,
}

/// The PRAGMAs that matter.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Pragmas {
    pub journal_mode: String,
    pub foreign_keys: bool,
    pub encoding: String,
    pub page_size: u64,
    pub page_count: u64,
    pub freelist_count: u64,
    pub user_version: i64,
}
