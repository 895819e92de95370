//! byod-precheck: tells whether a database a client brings is fit for our product.
//!
//! The flow is *collect, then evaluate*: an engine module talks to the server once and fills a
//! plain, serializable facts struct ([`engines`]); checks are pure functions of those facts and
//! the matrix ([`registry`]); the report ([`report`]) is built from the findings by a pure
//! function, and renderers ([`render`]) only format it.
//!
//! The library entry points are [`Precheck`] (the facade: a whole check of one target, its
//! findings streamed as they are judged), [`run::check`] (the same, lower level) and [`identify`]
//! (server identification from strings seen in the field, without a connection).

pub mod api;
pub mod checks;
pub mod cli;
pub mod diff;
pub mod engine;
pub mod engines;
pub mod eol;
pub mod fleet;
pub mod guard;
pub mod identity;
pub mod matrix;
pub mod migrations;
pub mod net;
pub mod prelogin;
pub mod probe;
pub mod quote;
pub mod registry;
pub mod render;
pub mod report;
pub mod run;
pub mod serve;
pub mod share;
pub mod status;
pub mod target;
pub mod text;
pub mod tlsprobe;
pub mod workload;

pub use api::{Precheck, PrecheckError};
pub use engine::Engine;
pub use engines::identify;
pub use identity::{IdentifyError, ServerIdentity};
pub use matrix::Matrix;
pub use report::Report;
pub use run::{RunOptions, check};
pub use status::Status;
