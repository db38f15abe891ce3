//! Command-line interface: one file per subcommand, each with its `Args` and
//! `run()`. Flags are turned into the library's plain config types here, so
//! nothing below this module sees clap.

pub mod analyze;
pub mod models;
pub mod taxonomy;

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
    /// Check topic taxonomy files.
    #[command(subcommand_required = true)]
    Taxonomy(taxonomy::Args),
}
