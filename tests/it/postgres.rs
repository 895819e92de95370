//! postgres tests.
