//! The one integration test binary: CLI tests, live tests against real servers, replays of
//! saved facts. Live tests need the servers `.ci/run` starts; with `CI=true` a missing server
//! fails the test instead of skipping it.

#![allow(clippy::unwrap_used)]

mod support;

mod bad_input;
mod batch;
mod cli;
mod docs;
mod facts;
mod firsthour;
mod fleet;
mod fuzz;
mod hostile;
mod identify;
mod interrupted;
mod migrations;
mod mssql;
mod mysql;
mod pooler;
mod postgres;
mod render;
mod safety;
mod serve;
mod sqlite;
mod structure;
mod workload;
