//! The `verbatim` binary: parses arguments and hands over to a subcommand.
//! All the work lives in the library; see `src/cli/` for each subcommand's flags and `src/app/` for the runs.

use clap::Parser;
use verbatim::cli::{Cli, Command};
use verbatim::exit_codes::code_of;

fn main() {
    // Before any thread exists (libtorch's included), so setting the
    // environment is sound.
    verbatim::model::transformer::passive_openmp();
    verbatim::model::transformer::cap_kernel_caches();
    // A reader that stops early (`verbatim analyze … | head`) ends the
    // program quietly, as it does other Unix tools, instead of a panic in
    // println!. Every command prints its summary after its outputs are
    // committed, so nothing is left half-written.
    // SAFETY: restoring the default action of a signal before any thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Analyze(args) => verbatim::cli::analyze::run(*args),
        Command::Models(args) => verbatim::cli::models::run(args),
        Command::Eval(args) => verbatim::cli::eval::run(args),
        Command::Train(args) => verbatim::cli::train::run(args),
        Command::Discover(args) => verbatim::cli::discover::run(*args),
        Command::Taxonomy(args) => verbatim::cli::taxonomy::run(args),
        Command::Cache(args) => verbatim::cli::cache::run(args),
    };
    match result {
        Ok(code) => std::process::exit(code as i32),
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::exit(code_of(&err) as i32);
        }
    }
}
