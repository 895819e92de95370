//! The four engines the tool speaks to. Compatible products (MariaDB, Aurora, TiDB, ...) are
//! flavors of one of these, not engines of their own.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Declares [`Engine`] with its id names, so that [`Engine::ALL`] and [`Engine::name`] list every
/// variant by construction (a new engine cannot be left out of either).
macro_rules! engines {
    ($($(#[$doc:meta])* $variant:ident = $name:literal $(, $default:ident)?;)*) => {
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
            $($(#[$doc])* $(#[$default])? $variant,)*
        }

        impl Engine {
            /// Every engine, in the order used by listings.
            pub const ALL: [Engine; [$($name),*].len()] = [$(Engine::$variant),*];

            /// The id prefix and the matrix table name of this engine.
            pub fn name(self) -> &'static str {
                match self {
                    $(Engine::$variant => $name,)*
                }
            }
        }
    };
}

engines! {
    /// PostgreSQL and the engines that speak its protocol.
    Postgres = "postgres";
    /// MySQL, MariaDB and the engines that speak their protocol.
    Mysql = "mysql";
    /// Microsoft SQL Server and Azure SQL, over TDS.
    Mssql = "mssql";
    /// SQLite database files.
    Sqlite = "sqlite", default;
}

impl Engine {
    /// Parses an engine's id name (`postgres`, `mysql`, ...), in any case. Product names
    /// (`mariadb`, `sqlserver`) are the engines' dialects' business: `engines::named`.
    pub fn from_name(name: &str) -> Option<Engine> {
        Engine::ALL
            .into_iter()
            .find(|e| e.name().eq_ignore_ascii_case(name))
    }
}

impl fmt::Display for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
