//! The engines. Each lives in its own folder with the same files:
//! `identify.rs` (pure identification), `facts.rs` (what is collected), `collect.rs` (the only
//! code that talks to the server), `checks.rs` (the registry: pure checks over the facts).

pub mod mssql;
pub mod postgres;
pub mod sql;
pub mod sqlite;

use crate::checks::{CAPABILITIES, CommonFacts};
use crate::engine::Engine;
use crate::matrix::Vocabulary;
use crate::registry::{Check, CheckInfo};
use crate::target::ConnSpec;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::future::Future;
use std::time::Duration;

/// What collection may do and how long it may take.
#[derive(Debug, Clone)]
pub struct CollectOptions {
    pub connect_timeout: Duration,
    /// Per query (client side) and per statement (server side).
    pub check_timeout: Duration,
    /// Create (and roll back) a scratch object to confirm capabilities for real.
    pub probe_write: bool,
    /// The schema our tables live in, when the matrix names one.
    pub schema: Option<String>,
}

impl Default for CollectOptions {
    fn default() -> Self {
        CollectOptions {
            connect_timeout: Duration::from_secs(10),
            check_timeout: Duration::from_secs(10),
            probe_write: false,
            schema: None,
        }
    }
}

/// One engine: its facts, how to collect them, and its registry.
pub trait EngineModule {
    const ENGINE: Engine;
    type Facts: Serialize + DeserializeOwned + Send + Sync + 'static;
    /// The registry, in report order.
    fn checks() -> &'static [Check<Self::Facts>];
    /// Flavors this engine names.
    fn flavors() -> &'static [&'static str];
    /// Talks to the server. Never fails: a failure is recorded in the facts.
    fn collect(spec: &ConnSpec, opts: &CollectOptions) -> impl Future<Output = Self::Facts> + Send;
    /// The shared part of the facts.
    fn common(facts: &Self::Facts) -> &CommonFacts;
}

/// Every check of every engine, in listing order.
pub fn all_checks() -> Vec<CheckInfo> {
    let mut v = Vec::new();
    v.extend(
        postgres::Postgres::checks()
            .iter()
            .map(|c| c.info(Engine::Postgres)),
    );
    v.extend(mssql::Mssql::checks().iter().map(|c| c.info(Engine::Mssql)));
    v.extend(
        sqlite::Sqlite::checks()
            .iter()
            .map(|c| c.info(Engine::Sqlite)),
    );
    v
}

/// The flavors an engine names.
pub fn flavors(engine: Engine) -> &'static [&'static str] {
    match engine {
        Engine::Postgres => postgres::Postgres::flavors(),
        Engine::Mssql => mssql::Mssql::flavors(),
        Engine::Sqlite => sqlite::Sqlite::flavors(),
        Engine::Mysql => &[],
    }
}

/// What matrix validation checks names against.
pub fn vocabulary() -> Vocabulary {
    Vocabulary {
        check_ids: all_checks().iter().map(|c| c.id).collect(),
        flavors,
        capabilities: CAPABILITIES,
    }
}
