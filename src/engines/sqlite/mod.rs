//! SQLite: the embedded default. A file on this machine, so "connection" means opening it and
//! "writability" means the file system.

pub mod checks;
pub mod collect;
pub mod connstr;
pub mod facts;
pub mod identify;
pub mod workload;

super::engine_module!(
    /// The SQLite engine.
    Sqlite,
    crate::engine::Engine::Sqlite,
    facts::SqliteFacts
);
