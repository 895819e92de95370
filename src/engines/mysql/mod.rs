//! MySQL, MariaDB and the engines that speak their protocol (Percona, Aurora, Azure, TiDB,
//! Vitess, SingleStore): one engine, many flavors.

pub mod checks;
pub mod collect;
pub mod facts;
pub mod identify;

use super::{CollectOptions, EngineModule};
use crate::checks::CommonFacts;
use crate::engine::Engine;
use crate::registry::Check;
use crate::target::ConnSpec;

/// The MySQL engine (MariaDB and the compatible engines are its flavors).
pub struct Mysql;

impl EngineModule for Mysql {
    const ENGINE: Engine = Engine::Mysql;
    type Facts = facts::MysqlFacts;

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
            facts::MysqlFacts {
                common: CommonFacts::started(spec.target_info()),
                ..Default::default()
            },
            failure,
        )
    }
}
