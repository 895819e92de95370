//! SQLite: the embedded default. A file on this machine, so "connection" means opening it and
//! "writability" means the file system.

pub mod checks;
pub mod collect;
pub mod facts;
pub mod identify;

use super::{CollectOptions, EngineModule};
use crate::checks::CommonFacts;
use crate::engine::Engine;
use crate::registry::Check;
use crate::target::ConnSpec;

/// The SQLite engine.
pub struct Sqlite;

impl EngineModule for Sqlite {
    const ENGINE: Engine = Engine::Sqlite;
    type Facts = facts::SqliteFacts;

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
            facts::SqliteFacts {
                common: CommonFacts::started(spec.target_info()),
                ..Default::default()
            },
            failure,
        )
    }
}
