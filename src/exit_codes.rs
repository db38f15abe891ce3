//! Exit codes of `verbatim`, documented in `--help` and in the README.
//!
//! A script that runs `verbatim` every night needs to tell "fix the export"
//! from "reinstall the model" from "the disk is full" from "another run is
//! still busy" without parsing messages, so each kind of failure has its own
//! code. The library returns `anyhow` errors; the code travels with the
//! error as a transparent [`Coded`] layer (it adds nothing to the message),
//! and [`code_of`] finds it, or infers it from the typed errors in the
//! chain, when `main` exits.

use std::fmt;
use std::io;

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitCode {
    /// Everything read was analysed or accounted for in the rejects file.
    Success = 0,
    /// Any other failure (an internal error, or one not classified below).
    Error = 1,
    /// Usage: an unknown flag, a missing argument or a bad flag value
    /// (clap exits with 2 too), an invalid `--config` or `--taxonomy` file, a
    /// `--cache` file that is not a verbatim cache (or is from a newer
    /// verbatim), a cache inside `--out`, or a file that `verbatim taxonomy
    /// check` found invalid.
    Usage = 2,
    /// The run finished and wrote its outputs, but rejected more rows than
    /// `--max-reject-rate` allows, or every row it read.
    TooManyRejects = 3,
    /// The input cannot be used as a whole: missing or unreadable, empty
    /// (or a header row with no rows below it), not a text export (an
    /// image, an archive), no score (without `--no-score`) or comment column,
    /// too many columns.
    Input = 4,
    /// The model folder (`--model`, `--sentiment-model`) is missing,
    /// unreadable or damaged.
    Model = 5,
    /// The outputs could not be written (read-only folder, disk full, file
    /// size limit), or `--out` is not verbatim's to replace (not empty and
    /// not a previous output, or holding entries verbatim did not write);
    /// the previous outputs are left as they were.
    Output = 6,
    /// Another run is writing to the same output folder.
    Busy = 7,
    /// The run finished and wrote its outputs, but `--fail-on-alert` was
    /// given and at least one alert fired.
    AlertsFired = 8,
}

impl ExitCode {
    /// A short name of the code, for answers a program reads (`analyze
    /// --part-worker`): `usage`, `input`, `model`…
    pub fn name(self) -> &'static str {
        match self {
            ExitCode::Success => "success",
            ExitCode::Error => "error",
            ExitCode::Usage => "usage",
            ExitCode::TooManyRejects => "too-many-rejects",
            ExitCode::Input => "input",
            ExitCode::Model => "model",
            ExitCode::Output => "output",
            ExitCode::Busy => "busy",
            ExitCode::AlertsFired => "alerts-fired",
        }
    }
}

/// The table shown at the end of `--help`.
pub const HELP: &str = "Exit codes:
  0  success (rejected rows are reported in rejects.csv, not fatal)
  1  other error
  2  usage: unknown flag, bad flag value, invalid --config or --taxonomy file, a --cache file that is not a verbatim cache or is inside --out; `taxonomy check`: invalid file
  3  outputs written, but more rows rejected than --max-reject-rate allows (or all)
  4  input unusable: missing, empty (or a header and no rows), not a CSV/JSON Lines export, no score (see --no-score) or comment column, standard input over --max-input-size
  5  model folder missing, unreadable or damaged (--model, --sentiment-model)
  6  outputs not writable (read-only folder, disk full), or --out holds files verbatim did not write (none is deleted); previous outputs kept
  7  another run is writing to the same --out folder
  8  outputs written, but alerts fired and --fail-on-alert was given";

/// An error marked with the exit code the process should end with.
///
/// It is transparent: its message and its source are those of the error it
/// wraps, so marking an error changes nothing in what is printed.
#[derive(Debug)]
pub struct Coded {
    code: ExitCode,
    error: anyhow::Error,
}

impl fmt::Display for Coded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.error, f)
    }
}

impl std::error::Error for Coded {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.error.source()
    }
}

/// Marks `error` with `code` (see [`Coded`]). An error that is already
/// marked keeps its mark: the inner one was set closer to the cause, e.g.
/// "busy" inside a function that marks all its other errors "output".
pub fn coded(code: ExitCode, error: impl Into<anyhow::Error>) -> anyhow::Error {
    let error = error.into();
    if error.chain().any(|e| e.is::<Coded>()) {
        return error;
    }
    anyhow::Error::new(Coded { code, error })
}

/// A cache error with its exit code: 2 for a wrong `--cache`, else 1.
pub fn cache_error(e: crate::model::cache::CacheError) -> anyhow::Error {
    if e.is_usage() {
        coded(ExitCode::Usage, e)
    } else {
        e.into()
    }
}

/// Marks the error of a `Result` with an exit code: `.code(ExitCode::Model)?`.
pub trait WithCode<T> {
    /// The same result, its error marked with `code`.
    fn code(self, code: ExitCode) -> anyhow::Result<T>;
}

impl<T, E: Into<anyhow::Error>> WithCode<T> for Result<T, E> {
    fn code(self, code: ExitCode) -> anyhow::Result<T> {
        self.map_err(|e| coded(code, e))
    }
}

/// The exit code for an error: the [`Coded`] mark in its chain,
/// else one inferred from the typed errors in it (an input error, a
/// taxonomy error, an I/O error that means "no space" or "read-only"),
/// else [`ExitCode::Error`].
pub fn code_of(error: &anyhow::Error) -> ExitCode {
    for e in error.chain() {
        if let Some(c) = e.downcast_ref::<Coded>() {
            return c.code;
        }
        if e.is::<crate::input::InputError>() {
            return ExitCode::Input;
        }
        if e.is::<crate::classify::taxonomy::TaxonomyError>() {
            return ExitCode::Usage;
        }
        if io_error(e).is_some_and(is_out_of_space) {
            return ExitCode::Output;
        }
    }
    ExitCode::Error
}

/// The I/O error an error is, or wraps without exposing it as its source
/// (the `csv` crate's errors do not).
fn io_error<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a io::Error> {
    if let Some(io) = e.downcast_ref::<io::Error>() {
        return Some(io);
    }
    match e.downcast_ref::<csv::Error>()?.kind() {
        csv::ErrorKind::Io(io) => Some(io),
        _ => None,
    }
}

/// Whether a write failed for lack of room or of permission to write:
/// disk full, quota, file size limit, read-only file system.
pub fn is_out_of_space(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::StorageFull
            | io::ErrorKind::QuotaExceeded
            | io::ErrorKind::FileTooLarge
            | io::ErrorKind::ReadOnlyFilesystem
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    #[test]
    fn the_mark_is_invisible_in_the_message_and_found_under_context() {
        let inner = anyhow::anyhow!("model.safetensors is damaged");
        let e: anyhow::Result<()> = Err(inner).code(ExitCode::Model);
        let e = e.context("loading the model from /m").unwrap_err();
        assert_eq!(
            format!("{e:#}"),
            "loading the model from /m: model.safetensors is damaged"
        );
        assert_eq!(code_of(&e), ExitCode::Model);
        // A second mark does not override the first.
        let e: anyhow::Result<()> = Err(e).code(ExitCode::Output);
        assert_eq!(e.map_err(|e| code_of(&e)), Err(ExitCode::Model));
    }

    #[test]
    fn codes_are_inferred_from_typed_errors() {
        let full = io::Error::from(io::ErrorKind::StorageFull);
        let e = anyhow::Error::new(full).context("writing agg_nps.csv");
        assert_eq!(code_of(&e), ExitCode::Output);
        let e = anyhow::Error::new(crate::input::InputError::Empty { file: "x".into() });
        assert_eq!(code_of(&e), ExitCode::Input);
        assert_eq!(code_of(&anyhow::anyhow!("other")), ExitCode::Error);
        let csv_full = csv::Error::from(io::Error::from(io::ErrorKind::FileTooLarge));
        let e = anyhow::Error::new(csv_full).context("writing fact_response.csv");
        assert_eq!(code_of(&e), ExitCode::Output);
        // An unrelated I/O error is not a full disk.
        let e = anyhow::Error::new(io::Error::from(io::ErrorKind::NotFound));
        assert_eq!(code_of(&e), ExitCode::Error);
    }

    #[test]
    fn help_lists_every_code() {
        for code in [
            ExitCode::Success,
            ExitCode::Error,
            ExitCode::Usage,
            ExitCode::TooManyRejects,
            ExitCode::Input,
            ExitCode::Model,
            ExitCode::Output,
            ExitCode::Busy,
        ] {
            let line = format!("\n  {}  ", code as i32);
            assert!(HELP.contains(&line), "{code:?} missing from HELP");
        }
    }
}
