//! verbatim: what drives the promoters and detractors of a contact center,
//! read from the open answers of NPS surveys.
//!
//! The modules follow the pipeline: [`input`] reads an export and accounts for
//! every row, [`model`] turns texts into vectors with a transformer encoder,
//! [`classify`] finds sentiment and topics, [`nps`] and [`drivers`] hold the
//! published statistics, [`patterns`] counts what the further driver
//! statistics read ([`bootstrap`] intervals, [`keydrivers`] regression,
//! [`shift_share`] between periods, [`segment_drivers`]), [`pipeline`] runs
//! one pass and [`output`] writes the tables; [`report`] renders the one-page
//! HTML report. [`cmd`] wires them to the command line.
//! [`redact`] masks personal data (names, phone numbers, e-mail addresses,
//! IBANs…) in comments.

pub mod aggregate;
pub mod alerts;
pub mod bootstrap;
pub mod cache;
pub mod classify;
pub mod cmd;
pub mod config;
pub mod dates;
pub mod discover;
pub mod driver_stats;
pub mod drivers;
pub mod eval;
pub mod exit_codes;
pub mod followup;
pub mod input;
pub mod keydrivers;
pub mod model;
pub mod nps;
pub mod output;
pub mod patterns;
pub mod pipeline;
pub mod redact;
pub mod report;
pub mod segment_drivers;
pub mod shift_share;
