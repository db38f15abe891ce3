//! The progress bar of `verbatim analyze` on stderr (indicatif).
//!
//! The number of rows is not known before the end of a streamed input, so
//! the bar measures the input's bytes read against the file's size, which
//! gives a rate and an ETA; the responses analysed and their rate are its
//! message. When the size is unknown (a pipe), a spinner shows the count and
//! the rate. Nothing is drawn with `--quiet` or when stderr is not a
//! terminal, so logs of nightly jobs stay clean.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::input::ByteProgress;

/// The bar; cleared when dropped, so an error message starts on a clean line.
pub struct RunProgress {
    bar: ProgressBar,
    input: ByteProgress,
    started: Instant,
}

impl RunProgress {
    /// A bar on stderr, or a hidden one with `quiet` or without a terminal.
    pub fn new(quiet: bool, input: ByteProgress) -> RunProgress {
        let shown = !quiet && std::io::stderr().is_terminal();
        let target = if shown {
            ProgressDrawTarget::stderr_with_hz(4)
        } else {
            ProgressDrawTarget::hidden()
        };
        let bar = match input.total() {
            Some(total) => {
                let bar = ProgressBar::with_draw_target(Some(total), target);
                bar.set_style(
                    ProgressStyle::with_template(
                        "{bar:30} {percent:>3}% {msg} · {binary_bytes}/{binary_total_bytes} \
                         · {elapsed}, ETA {eta}",
                    )
                    .expect("valid template"),
                );
                bar
            }
            None => {
                let bar = ProgressBar::with_draw_target(None, target);
                bar.set_style(
                    ProgressStyle::with_template("{spinner} {msg} · {elapsed}")
                        .expect("valid template"),
                );
                bar
            }
        };
        bar.set_message("starting");
        bar.enable_steady_tick(Duration::from_millis(250));
        RunProgress {
            bar,
            input,
            started: Instant::now(),
        }
    }

    /// Called after each chunk with the responses analysed so far.
    pub fn update(&self, responses: u64) {
        let secs = self.started.elapsed().as_secs_f64().max(1e-3);
        self.bar.set_message(format!(
            "{responses} responses ({:.0}/s)",
            responses as f64 / secs
        ));
        if self.input.total().is_some() {
            self.bar.set_position(self.input.read());
        }
    }
}

impl Drop for RunProgress {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}

/// Example phrases from which `analyze` says, before it embeds them, that
/// it does (no bar moves meanwhile: 20,000 took about a minute on two cores
/// with the default model).
pub const MANY_EXAMPLES: usize = 5_000;

/// Says on stderr that the taxonomy's example phrases are embedded first,
/// when there are [`MANY_EXAMPLES`] or more, unless `quiet`. Unlike the bar
/// it is printed to a log too: a nightly job's log then tells where the
/// time went.
pub fn note_taxonomy_examples(taxonomy: &crate::classify::Taxonomy, quiet: bool) {
    let phrases: usize = taxonomy
        .topics
        .iter()
        .map(|t| t.all_examples().count())
        .sum();
    if !quiet && phrases >= MANY_EXAMPLES {
        eprintln!(
            "embedding the taxonomy's {phrases} example phrases of {} topics before the \
             first row (a --cache keeps them for the next run)…",
            taxonomy.topics.len()
        );
    }
}
