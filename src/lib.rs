//! verbatim: what drives the promoters and detractors of a contact center,
//! read from the open answers of NPS surveys.
//!
//! The modules follow the pipeline, and each imports only those below it:
//!
//! - [`cli`]: clap only; the flags of each subcommand become a typed config.
//! - [`app`]: the runs behind the subcommands (`analyze`: input, models, one
//!   pass, statistics, outputs, exit code) and the console summary.
//! - [`output`] writes the tables, the manifest and the output folder;
//!   [`report`] renders the one-page HTML report.
//! - [`pipeline`] runs one pass: records in, analysed responses out to a
//!   sink, the statistics kept as running counts.
//! - [`stats`]: NPS, aggregates, drivers and the further driver statistics,
//!   and the response types every stage shares.
//! - [`classify`]: sentiment and topics on the encoder's vectors, embedding
//!   each distinct text once; topic discovery and evaluation metrics.
//! - [`model`]: transformer encoders (and their embedding cache).
//! - [`input`] reads an export and accounts for every row; [`text`] splits
//!   clauses, detects languages and masks personal data.
//!
//! [`exit_codes`] maps errors to the documented exit codes.

pub mod app;
pub mod classify;
pub mod cli;
pub mod exit_codes;
pub mod input;
pub mod model;
pub mod output;
pub mod pipeline;
pub mod report;
pub mod stats;
pub mod text;
