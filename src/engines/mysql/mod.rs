//! MySQL, MariaDB and the engines that speak their protocol (Percona, Aurora, Azure, TiDB,
//! Vitess, SingleStore): one engine, many flavors.

pub mod checks;
pub mod collect;
pub mod connstr;
pub mod facts;
pub mod identify;
pub mod pooler;
pub mod workload;

super::engine_module!(
    /// The MySQL engine (MariaDB and the compatible engines are its flavors).
    Mysql,
    crate::engine::Engine::Mysql,
    facts::MysqlFacts
);
