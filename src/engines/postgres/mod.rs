//! PostgreSQL and the engines that speak its protocol (Aurora, Citus, TimescaleDB, YugabyteDB,
//! CockroachDB, Redshift, EDB and the managed services).

pub mod checks;
pub mod collect;
pub mod facts;
pub mod identify;

use super::{CollectOptions, EngineModule};
use crate::checks::CommonFacts;
use crate::engine::Engine;
use crate::registry::Check;
use crate::target::ConnSpec;

/// The PostgreSQL engine.
pub struct Postgres;

impl EngineModule for Postgres {
    const ENGINE: Engine = Engine::Postgres;
    type Facts = facts::PgFacts;

    fn checks() -> &'static [Check<Self::Facts>] {
        checks::CHECKS
    }
    fn flavors() -> &'static [&'static str] {
        identify::FLAVORS
    }
    async fn collect(spec: &ConnSpec, opts: &CollectOptions) -> Self::Facts {
        collect::collect(spec, opts).await
    }
    fn common(facts: &Self::Facts) -> &CommonFacts {
        &facts.common
    }
    fn failed(spec: &ConnSpec, failure: crate::net::ConnectFailure) -> Self::Facts {
        collect::failed(
            facts::PgFacts {
                common: CommonFacts::started(spec.target_info()),
                ..Default::default()
            },
            failure,
        )
    }
}
