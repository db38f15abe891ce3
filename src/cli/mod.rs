//! Command-line interface: one file per subcommand, each with its `Args` and
//! `run()`. Flags are turned into the library's plain config types here, so
//! nothing below this module sees clap.

pub mod analyze;
pub mod cache;
pub mod config;
pub mod discover;
pub mod encoder_args;
pub mod eval;
pub mod models;
pub mod suggest;
pub mod taxonomy;
pub mod train;

use clap::{Parser, Subcommand};

/// Reads the open answers of NPS surveys and tells what drives promoters and detractors.
#[derive(Parser, Debug)]
#[command(name = "verbatim", version, after_help = crate::exit_codes::HELP)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    // The help text is the doc comment of `analyze::Args`.
    Analyze(Box<analyze::Args>),
    /// Install or inspect encoder models.
    #[command(subcommand_required = true)]
    Models(models::Args),
    /// Score sentiment or topics against a labelled CSV, next to baselines.
    #[command(subcommand_required = true)]
    Eval(eval::Args),
    // The help text is the doc comment of `discover::Args`.
    Discover(Box<discover::Args>),
    /// Fit a sentiment head or a topic calibration on labelled comments, or pick comments to label.
    #[command(subcommand_required = true)]
    Train(train::Args),
    /// Check topic taxonomy files.
    #[command(subcommand_required = true)]
    Taxonomy(taxonomy::Args),
    /// Inspect or prune the embedding cache of `analyze --cache`.
    #[command(subcommand_required = true)]
    Cache(cache::Args),
}
