//! What the MySQL-family collector gathers: plain data, saved and replayed as JSON. Server
//! variables (`SHOW GLOBAL VARIABLES`) live in `common.settings`, by their lowercase names.

use crate::checks::CommonFacts;
use crate::probe::Probe;
use serde::{Deserialize, Serialize};

/// Everything known about one MySQL, MariaDB or compatible target.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MysqlFacts {
    pub common: CommonFacts,
    pub session: Probe<Session>,
    /// The target database's defaults; `None` when the URL names no database.
    pub database: Probe<Option<Database>>,
    /// The current user's grants (`SHOW GRANTS`), parsed; no password hash is kept.
    pub grants: Probe<Grants>,
    /// The base tables of the target database.
    pub tables: Probe<Tables>,
    /// Whether named time zones work (`CONVERT_TZ` with the time zone tables loaded).
    pub time_zone_tables: Probe<bool>,
    /// A proxy or pooler in front (see `pooler`); not collected in facts saved before it.
    pub pooler: Probe<super::pooler::Pooler>,
}

/// Who we are connected as.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Session {
    /// `USER()`: the name and host we logged in with.
    pub user: String,
    /// `CURRENT_USER()`: the account that matched (`app@%`); grants are made to it.
    pub account: String,
    /// `DATABASE()`.
    pub database: Option<String>,
}

/// The target database's defaults.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Database {
    pub name: String,
    pub charset: String,
    pub collation: String,
}

/// What `SHOW GRANTS` says the current account holds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Grants {
    /// Each grant on `*.*`, a database pattern or a table.
    pub grants: Vec<Grant>,
    /// Roles granted to the account (their privileges are not expanded here).
    pub roles: Vec<String>,
}

/// One `GRANT privileges ON target`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Grant {
    /// Upper-case privilege names (`SELECT`, `CREATE TEMPORARY TABLES`, `ALL PRIVILEGES`).
    pub privileges: Vec<String>,
    /// `*.*`, `` `db`.* `` (a LIKE pattern) or `` `db`.`table` ``, as the server printed it.
    pub on: String,
    pub grant_option: bool,
}

/// The base tables of the target database.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Tables {
    pub total: u64,
    /// Tables not using InnoDB, as `name (ENGINE)`.
    pub non_innodb: Vec<String>,
    /// Tables whose default character set is not utf8mb4, as `name (collation)`.
    pub not_utf8mb4: Vec<String>,
    /// Tables with the COMPACT or REDUNDANT row format (index keys limited to 767 bytes).
    pub small_prefix: Vec<String>,
}
