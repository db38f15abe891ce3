//! Helpers shared by integration tests, included with `mod support;`.
//!
//! - [`duckdb`]: SQL over an output folder in DuckDB, the independent
//!   reader of the Parquet files (`tests/bi.rs`, `tests/weights.rs`).
//!
//! `run_outputs.rs` and `redaction_score.rs` beside this file are not
//! declared here: they are included by path (`#[path = "support/…"]`) by
//! the tests that use them, and `redaction_score.rs` by an example too.
#![allow(dead_code)]

pub mod duckdb;
