//! Crash safety of the output folder, through the real binary with a tiny
//! model: `verbatim analyze` is killed with SIGKILL at seeded random points
//! of a run that takes a few seconds, and when the staging folder receives
//! its last tables and its manifest (the final writes, just before the swap).
//! After each kill:
//!
//! - the output folder is byte-identical to the previous run's, or, if the
//!   kill came after the swap, it is the complete new run: never a mix, never
//!   missing;
//! - the next, uninterrupted run removes what the killed one left beside
//!   the folder (only the lock file `.out.lock` stays), and its tables are
//!   those of a clean run in another folder.
//!
//! "The same tables": see `tests/support/run_outputs.rs`.
//!
//! Two runs on the same folder at once are also tested: the second fails at
//! once with exit code 7 and the first completes untouched.

mod common;
#[path = "support/run_outputs.rs"]
mod run_outputs;
#[path = "common/workdir.rs"]
mod workdir;

use std::path::PathBuf;
use std::process::{Child, Command, Output};
use std::time::{Duration, Instant};

use run_outputs::{export, files, same_run, SplitMix};
use workdir::{show, Workdir};

/// Random kill points; two more kills wait for the final writes.
const RANDOM_KILLS: usize = 5;
/// Rows of the large input: a few seconds with the tiny model.
const ROWS: usize = 4_000;

/// The shared work folder; every run with one thread and a minimum n of 5.
struct Work(Workdir);

impl std::ops::Deref for Work {
    type Target = Workdir;
    fn deref(&self) -> &Workdir {
        &self.0
    }
}

impl Work {
    fn new() -> Work {
        Work(Workdir::new())
    }

    fn command(&self, input: &str, out: &str) -> Command {
        self.0
            .analyze_command(&self.path(input), out, &["--threads", "1", "--min-n", "5"])
    }

    fn run(&self, input: &str, out: &str) -> Output {
        let o = self.command(input, out).output().expect("run verbatim");
        assert!(o.status.success(), "{}", show(&o));
        o
    }

    fn spawn(&self, input: &str, out: &str) -> Child {
        self.command(input, out).spawn().expect("spawn verbatim")
    }

    /// The staging folder of a live or killed run on `out`, if any.
    fn staging(&self, out: &str) -> Option<PathBuf> {
        let prefix = format!(".{out}.partial-");
        self.listing()
            .into_iter()
            .find(|n| n.starts_with(&prefix))
            .map(|n| self.path(&n))
    }
}

/// Kills `child` when its staging folder holds `file`; `false` if the run
/// ended first.
fn kill_when_staged(w: &Work, child: &mut Child, out: &str, file: &str) -> bool {
    let deadline = Instant::now() + Duration::from_secs(300);
    while Instant::now() < deadline {
        if let Some(staging) = w.staging(out) {
            if staging.join(file).exists() {
                let _ = child.kill();
                let names: Vec<String> = std::fs::read_dir(&staging)
                    .map(|d| {
                        d.flatten()
                            .map(|e| e.file_name().to_string_lossy().into_owned())
                            .collect()
                    })
                    .unwrap_or_default();
                println!(
                    "kill test: {file} staged; staging held {} files",
                    names.len()
                );
                return true;
            }
        }
        if matches!(child.try_wait(), Ok(Some(_))) {
            return false;
        }
        std::thread::sleep(Duration::from_micros(500));
    }
    panic!("the run did not stage {file} within 300 s");
}

#[test]
fn sigkill_anywhere_leaves_the_old_outputs_or_the_new_ones_never_a_mix() {
    let w = Work::new();
    std::fs::write(w.path("a.csv"), export(40, 1)).expect("write a.csv");
    std::fs::write(w.path("b.csv"), export(ROWS, 2)).expect("write b.csv");

    // A clean run of B elsewhere: what every complete run of B must equal,
    // and how long one takes.
    let started = Instant::now();
    w.run("b.csv", "clean");
    let full = started.elapsed();
    let clean = files(&w.path("clean"));
    println!(
        "kill test: a clean run of {ROWS} rows took {:.2} s",
        full.as_secs_f64()
    );

    let mut rng = SplitMix(20_261_125);
    let mut points: Vec<String> = (0..RANDOM_KILLS)
        // The first second or so loads libtorch, before any file is made.
        .map(|_| format!("{:.3}", 0.2 + 0.8 * rng.unit()))
        .collect();
    points.push("dim_topic.csv".into());
    points.push("manifest.json".into());

    let (mut mid_run, mut after_swap, mut leftovers_seen) = (0, 0, 0);
    for point in &points {
        // The previous outputs: a run of A.
        w.run("a.csv", "out");
        let before = files(&w.path("out"));
        let listing = w.listing();

        let mut child = w.spawn("b.csv", "out");
        let t0 = Instant::now();
        let killed = match point.parse::<f64>() {
            Ok(share) => {
                let at = full.mul_f64(share);
                while t0.elapsed() < at && matches!(child.try_wait(), Ok(None)) {
                    std::thread::sleep(Duration::from_millis(2));
                }
                let running = matches!(child.try_wait(), Ok(None));
                let _ = child.kill();
                running
            }
            Err(_) => kill_when_staged(&w, &mut child, "out", point),
        };
        let status = child.wait().expect("wait");
        let at = t0.elapsed().as_secs_f64();

        let now = files(&w.path("out"));
        let state = if now == before {
            mid_run += 1;
            "previous outputs, byte-identical"
        } else {
            match same_run(&now, &clean) {
                Ok(()) => {
                    after_swap += 1;
                    "the complete new run"
                }
                Err(diff) => panic!(
                    "killed at {point} ({at:.2} s): the output folder is neither the previous \
                     run nor the new one: {diff}"
                ),
            }
        };
        let left: Vec<String> = w
            .listing()
            .into_iter()
            .filter(|n| !listing.contains(n))
            .collect();
        leftovers_seen += left.len();
        println!(
            "kill test: kill at {point} ({at:.2} s, {}, exit {status:?}): {state}; left beside it: {left:?}",
            if killed { "killed" } else { "had ended" },
        );
        assert!(
            left.iter()
                .all(|n| n.starts_with(".out.partial-") || n.starts_with(".out.previous-")),
            "unexpected files beside the output folder: {left:?}"
        );

        // The next run cleans up and gives the clean run's tables.
        w.run("b.csv", "out");
        if let Err(diff) = same_run(&files(&w.path("out")), &clean) {
            panic!("after the kill at {point}, the next run differs from a clean one: {diff}");
        }
        assert_eq!(w.listing(), listing, "leftovers after the next run");
    }
    println!(
        "kill test: {} kills: {mid_run} found the previous outputs, {after_swap} the new ones; \
         {leftovers_seen} leftover folders, all removed by the next run",
        points.len()
    );
    // The kills must have hit runs in progress, or the test proves nothing.
    assert!(mid_run >= 3, "only {mid_run} kills landed before the swap");
    assert!(
        leftovers_seen >= 3,
        "only {leftovers_seen} leftovers: kills came too late"
    );
}

#[test]
fn a_second_run_on_the_same_folder_fails_at_once_and_the_first_completes() {
    let w = Work::new();
    std::fs::write(w.path("a.csv"), export(40, 1)).expect("write a.csv");
    std::fs::write(w.path("b.csv"), export(ROWS, 2)).expect("write b.csv");
    w.run("b.csv", "clean");
    let clean = files(&w.path("clean"));

    let mut first = w.spawn("b.csv", "out");
    // The first run holds the lock once its staging folder exists.
    let deadline = Instant::now() + Duration::from_secs(300);
    while w.staging("out").is_none() {
        assert!(
            Instant::now() < deadline,
            "the first run never started writing"
        );
        assert!(
            matches!(first.try_wait(), Ok(None)),
            "the first run ended early"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    let second = w.command("a.csv", "out").output().expect("run second");
    let first = first.wait_with_output().expect("wait first");

    assert_eq!(second.status.code(), Some(7), "{}", show(&second));
    let err = String::from_utf8_lossy(&second.stderr);
    assert!(
        err.contains("another verbatim run is writing to") && err.contains("--out"),
        "{err}"
    );
    assert!(first.status.success(), "{}", show(&first));
    if let Err(diff) = same_run(&files(&w.path("out")), &clean) {
        panic!("the first run's outputs differ from a clean run: {diff}");
    }
    // The lock is gone with the first run: a third run may write.
    w.run("a.csv", "out");
}
