//! The one integration test binary: CLI tests, live tests against real servers, replays of
//! saved facts. Live tests need the servers `.ci/run` starts; with `CI=true` a missing server
//! fails the test instead of skipping it.

mod support;

mod cli;
mod mssql;
mod postgres;
mod sqlite;
