//! What the PostgreSQL collector gathers: plain data, saved and replayed as JSON.

use crate::checks::CommonFacts;
use crate::probe::Probe;
use serde::{Deserialize, Serialize};

/// Everything known about one PostgreSQL target.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PgFacts {
    pub common: CommonFacts,
    pub session: Probe<Session>,
    pub database: Probe<Database>,
    pub privileges: Probe<Privileges>,
    pub extensions: Probe<Vec<Extension>>,
    /// The extensions whose availability on the server was asked for (the ones the matrix
    /// required when collecting): any other is known only when installed.
    pub extensions_asked: Vec<String>,
    /// A connection pooler or proxy in front of the server, as far as it can be told.
    #[serde(default)]
    pub pooler: Probe<Pooler>,
    /// The level each setting that is not the built-in default is set at, by name: `role in
    /// database`, `role`, `database` (ALTER ROLE/DATABASE ... SET) or `server`.
    #[serde(default)]
    pub setting_levels: std::collections::BTreeMap<String, String>,
}

/// A connection pooler or proxy between us and the server.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Pooler {
    /// Something sits between us and the server.
    pub in_front: bool,
    /// Which one (`pgpool-II`, `PgBouncer`), where it can be told.
    pub kind: Option<String>,
    pub version: Option<String>,
    /// `session`, `transaction` or `statement`, where it can be told.
    pub mode: Option<String>,
    /// How many clients the pooler admits at once, where visible.
    pub client_limit: Option<u64>,
    /// Server connections per user and database, where visible.
    pub pool_size: Option<u64>,
    /// What was seen, in the server's terms.
    pub evidence: Vec<String>,
    /// Why the pooler's own settings could not be read.
    pub unreadable: Option<String>,
    /// After how many seconds the pooler closes an idle client connection (0: never), where
    /// visible: PgBouncer's client_idle_timeout, pgpool-II's client_idle_limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_idle_timeout_s: Option<u64>,
}

/// Who we are connected as.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Session {
    pub database: String,
    pub user: String,
    pub superuser: bool,
    /// The role's own connection limit (-1: none).
    pub role_conn_limit: i32,
    pub search_path: String,
}

/// The target database.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Database {
    pub encoding: String,
    pub collate: String,
    pub ctype: String,
    /// The database's connection limit (-1: none).
    pub conn_limit: i32,
}

/// What the user may do in the target database and schema.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Privileges {
    pub schema: String,
    pub schema_exists: bool,
    pub database_connect: bool,
    pub database_create: bool,
    pub database_temp: bool,
    pub schema_usage: bool,
    pub schema_create: bool,
    /// Tables in the schema.
    pub tables: u64,
    /// Tables lacking one of SELECT, INSERT, UPDATE, DELETE, REFERENCES (first 20).
    pub tables_lacking: Vec<String>,
    /// Sequences lacking USAGE (first 20).
    pub sequences_lacking: Vec<String>,
}

/// An extension available on the server.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Extension {
    pub name: String,
    pub default_version: Option<String>,
    pub installed_version: Option<String>,
    /// Creating it needs a superuser (PostgreSQL 13+; unknown before).
    pub superuser: Option<bool>,
    /// A non-superuser with CREATE on the database may create it (PostgreSQL 13+).
    pub trusted: Option<bool>,
}
