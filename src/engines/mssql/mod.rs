//! Microsoft SQL Server and the services that speak TDS (Azure SQL Database, Managed Instance,
//! Synapse, SQL Edge, Amazon RDS), over tiberius with rustls: no ODBC driver to install.

pub mod checks;
pub mod collect;
pub mod facts;
pub mod identify;

use super::{CollectOptions, EngineModule};
use crate::checks::CommonFacts;
use crate::engine::Engine;
use crate::registry::Check;
use crate::target::ConnSpec;

/// The SQL Server engine.
pub struct Mssql;

impl EngineModule for Mssql {
    const ENGINE: Engine = Engine::Mssql;
    type Facts = facts::MssqlFacts;

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
            facts::MssqlFacts {
                common: CommonFacts::started(spec.target_info()),
                ..Default::default()
            },
            failure,
        )
    }
}
