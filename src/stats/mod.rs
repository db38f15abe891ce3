//! The statistics of a run, on analysed responses: NPS with its interval
//! ([`nps`]), NPS per segment and period ([`aggregate`]), topic drivers
//! ([`drivers`]) and the counts the further driver statistics read
//! ([`patterns`]): [`bootstrap`] intervals, [`keydrivers`] regression,
//! [`shift_share`] between periods, [`segment_drivers`], [`alerts`] and the
//! [`followup`] list. [`driver_stats`] runs them all on one pass's counts;
//! [`response`] holds the types every stage shares; [`top_drivers`] chooses
//! the drivers the console and the report show; [`topic_counts`] counts
//! the topics per period without a score (`agg_topic`, and the whole of a
//! run without scores).
//!
//! The figures follow docs/METHODS.md. Nothing here reads files, runs a model
//! or knows about the command line.

pub mod aggregate;
pub mod alerts;
pub mod bootstrap;
pub mod driver_stats;
pub mod drivers;
pub mod followup;
pub mod keydrivers;
pub mod nps;
pub mod patterns;
pub mod privacy;
pub mod response;
pub mod segment_drivers;
pub mod shift_share;
pub mod top_drivers;
pub mod topic_counts;
