//! Exit codes of `verbatim`, documented in `--help`.

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitCode {
    /// Everything read was analysed or accounted for in the rejects file.
    Success = 0,
    /// A fatal error: bad flag, unreadable input, missing model…
    Error = 1,
    /// A usage error (clap exits with it by itself), or a file that a check
    /// command found invalid (`verbatim taxonomy check`).
    Invalid = 2,
    /// The run finished and wrote its outputs, but rejected more rows than
    /// `--max-reject-rate` allows.
    TooManyRejects = 3,
    /// The run finished and wrote its outputs, but `--fail-on-alert` was
    /// given and at least one alert fired.
    AlertsFired = 4,
}

/// The table shown at the end of `--help`.
pub const HELP: &str = "Exit codes:\n  0  success (rejected rows are reported, not fatal)\n  1  error: bad flag, unreadable input or model, output not writable\n  2  usage error (unknown flag or missing argument); `taxonomy check`: invalid file\n  3  outputs written, but more rows rejected than --max-reject-rate allows\n  4  outputs written, but alerts fired and --fail-on-alert was given";
