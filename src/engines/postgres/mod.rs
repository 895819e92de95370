//! PostgreSQL and the engines that speak its protocol (Aurora, Citus, TimescaleDB, YugabyteDB,
//! CockroachDB, Redshift, EDB and the managed services).

pub mod checks;
pub mod collect;
pub mod connstr;
pub mod facts;
pub mod identify;
pub mod workload;

super::engine_module!(
    /// The PostgreSQL engine.
    Postgres,
    crate::engine::Engine::Postgres,
    facts::PgFacts
);
