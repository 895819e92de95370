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
