//! Microsoft SQL Server and the services that speak TDS (Azure SQL Database, Managed Instance,
//! Synapse, SQL Edge, Amazon RDS), over tiberius with rustls: no ODBC driver to install.

pub mod checks;
pub mod collect;
pub mod connstr;
pub mod facts;
pub mod identify;
pub mod workload;

super::engine_module!(
    /// The SQL Server engine.
    Mssql,
    crate::engine::Engine::Mssql,
    facts::MssqlFacts
);
