//! The four engines the tool speaks to. Compatible products (MariaDB, Aurora, TiDB, ...) are
//! flavors of one of these, not engines of their own.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A database engine: the driver and the family of checks used for a target.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Engine {
    /// PostgreSQL and the engines that speak its protocol.
    Postgres,
    /// MySQL, MariaDB and the engines that speak their protocol.
    Mysql,
    /// Microsoft SQL Server and Azure SQL, over TDS.
    Mssql,
    /// SQLite database files.
    #[default]
    Sqlite,
}

impl Engine {
    /// Every engine, in the order used by listings.
    pub const ALL: [Engine; 4] = [
        Engine::Postgres,
        Engine::Mysql,
        Engine::Mssql,
        Engine::Sqlite,
    ];

    /// The id prefix and the matrix table name of this engine.
    pub fn name(self) -> &'static str {
        match self {
            Engine::Postgres => "postgres",
            Engine::Mysql => "mysql",
            Engine::Mssql => "mssql",
            Engine::Sqlite => "sqlite",
        }
    }

    /// Parses an engine name as used on the command line and in check ids.
    pub fn from_name(name: &str) -> Option<Engine> {
        Engine::ALL
            .into_iter()
            .find(|e| e.name() == name.to_ascii_lowercase())
    }
}

impl fmt::Display for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
