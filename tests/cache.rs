//! The embedding cache (`verbatim analyze --cache`) through the real binary
//! with a tiny model:
//!
//! - a cached rerun writes the same tables, byte for byte, as a run without
//!   the cache, and embeds nothing; a grown export embeds only its new texts;
//! - `verbatim cache stats` and `prune --older-than` see and remove what the
//!   runs stored, and a pruned text is embedded again;
//! - a file that is not a cache is refused naming it and `--cache` (exit 2),
//!   and a deleted cache is made again;
//! - SIGKILL in the middle of a run that fills the cache leaves a file that
//!   passes `PRAGMA integrity_check` and that the next run uses;
//! - two runs sharing one cache at once both succeed.

mod common;
#[path = "support/run_outputs.rs"]
mod run_outputs;
#[path = "common/workdir.rs"]
mod workdir;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use run_outputs::{export, files, same_run, SplitMix};
use workdir::{show, Workdir};

/// The shared work folder; runs with one thread and a minimum n of 5.
struct Work(Workdir);

impl Work {
    fn new() -> Work {
        Work(Workdir::new())
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.path(name)
    }

    fn verbatim(&self) -> Command {
        self.0.verbatim()
    }

    fn analyze(&self, input: &str, out: &str, cache: Option<&str>) -> Command {
        let mut c =
            self.0
                .analyze_command(&self.path(input), out, &["--threads", "1", "--min-n", "5"]);
        if let Some(cache) = cache {
            c.arg("--cache").arg(self.path(cache));
        }
        c
    }

    fn run(&self, input: &str, out: &str, cache: Option<&str>) -> Output {
        let o = self
            .analyze(input, out, cache)
            .output()
            .expect("run verbatim");
        assert!(o.status.success(), "{}", show(&o));
        o
    }

    fn cache_cmd(&self, args: &[&str], cache: &str) -> Output {
        self.verbatim()
            .arg("cache")
            .args(args)
            .arg("--cache")
            .arg(self.path(cache))
            .output()
            .expect("run verbatim cache")
    }
}

/// `(hits, misses)` from the manifest of an output folder.
fn hits_misses(out: &Path) -> (u64, u64) {
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).expect("manifest"))
            .expect("manifest JSON");
    let c = &m["cache"];
    (
        c["hits"].as_u64().expect("cache.hits"),
        c["misses"].as_u64().expect("cache.misses"),
    )
}

/// The tables of a run, without the report (it shows the manifest, whose
/// `cache` part a run without the cache lacks).
fn tables(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut f = files(dir);
    f.remove("report.html");
    f
}

fn integrity(cache: &Path) -> String {
    let c = rusqlite::Connection::open(cache).expect("open cache");
    c.query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("integrity_check")
}

#[test]
fn a_cached_rerun_writes_the_same_tables_and_embeds_only_new_texts() {
    let w = Work::new();
    std::fs::write(w.path("a.csv"), export(300, 7)).expect("write a.csv");
    std::fs::write(w.path("grown.csv"), export(340, 7)).expect("write grown.csv");

    w.run("a.csv", "plain", None);
    let fill = w.run("a.csv", "filled", Some("c.sqlite"));
    let (hits, misses) = hits_misses(&w.path("filled"));
    assert_eq!(hits, 0, "{}", show(&fill));
    assert!(misses > 300, "comments and clauses: {misses}");
    let err = String::from_utf8_lossy(&fill.stderr);
    assert!(
        err.contains(&format!("embedded {misses} new texts, 0 from cache")),
        "{err}"
    );

    let rerun = w.run("a.csv", "rerun", Some("c.sqlite"));
    assert_eq!(hits_misses(&w.path("rerun")), (misses, 0));
    let err = String::from_utf8_lossy(&rerun.stderr);
    assert!(
        err.contains(&format!("embedded 0 new texts, {misses} from cache")),
        "{err}"
    );
    let manifest: serde_json::Value = serde_json::from_slice(
        &std::fs::read(w.path("rerun").join("manifest.json")).expect("manifest"),
    )
    .expect("JSON");
    // The speed line and the timings count only what the model embedded.
    let out = String::from_utf8_lossy(&rerun.stdout);
    assert!(
        out.contains(&format!("no text embedded, {misses} read from the cache")),
        "{out}"
    );
    assert_eq!(manifest["timings"]["texts_embedded"], 0);
    assert_eq!(manifest["timings"]["texts_from_cache"], misses);
    assert_eq!(manifest["timings"]["texts_per_second"], 0.0);
    assert!(
        manifest["timings"]["comments_per_second"]
            .as_f64()
            .unwrap_or(0.0)
            > 0.0
    );
    let filled = w.0.manifest("filled");
    assert_eq!(filled["timings"]["texts_embedded"], misses);
    assert_eq!(filled["timings"]["texts_from_cache"], 0);
    assert_eq!(
        manifest["cache"]["path"].as_str(),
        Some(w.path("c.sqlite").to_str().expect("utf-8 path"))
    );

    // Byte for byte (the run id aside): without the cache, filling it, and
    // reading it.
    let plain = tables(&w.path("plain"));
    for out in ["filled", "rerun"] {
        if let Err(diff) = same_run(&tables(&w.path(out)), &plain) {
            panic!("{out} differs from the run without the cache: {diff}");
        }
    }
    if let Err(diff) = same_run(&files(&w.path("rerun")), &files(&w.path("filled"))) {
        panic!("the cached rerun differs from the run that filled the cache: {diff}");
    }

    // 40 more rows: only their texts are new.
    w.run("grown.csv", "grown", Some("c.sqlite"));
    let (hits, new) = hits_misses(&w.path("grown"));
    assert_eq!(hits, misses, "every old text is a hit");
    assert!(
        (40..=80).contains(&new),
        "40 new comments and their clauses: {new}"
    );
    w.run("grown.csv", "grown-plain", None);
    if let Err(diff) = same_run(&tables(&w.path("grown")), &tables(&w.path("grown-plain"))) {
        panic!("the grown run differs from one without the cache: {diff}");
    }
}

#[test]
fn stats_and_prune_see_what_runs_stored_and_pruned_texts_come_back() {
    let w = Work::new();
    std::fs::write(w.path("a.csv"), export(120, 3)).expect("write a.csv");
    w.run("a.csv", "out", Some("c.sqlite"));
    let (_, stored) = hits_misses(&w.path("out"));

    let stats = w.cache_cmd(&["stats"], "c.sqlite");
    assert!(stats.status.success(), "{}", show(&stats));
    let text = String::from_utf8_lossy(&stats.stdout);
    // The pass's texts, plus the taxonomy's examples and the start-up
    // sentiment fit, which go through the cache too.
    let rows: u64 = text
        .lines()
        .find_map(|l| l.split_once(" entries: ")?.0.parse().ok())
        .expect("a row count");
    assert!(rows > stored, "{text}");
    // The detected language of each comment is kept too.
    assert!(text.contains("  language detection (lingua "), "{text}");
    let languages: u64 = text
        .lines()
        .find_map(|l| {
            let (_, rest) = l.split_once(" vectors, ")?;
            rest.split_once(" detected languages")?.0.parse().ok()
        })
        .expect("a language count");
    assert!(languages > 0 && languages < rows, "{text}");
    // Keyed by the precision the encoder runs in (bf16 on CPUs with native
    // bfloat16, else f32).
    assert!(
        text.contains("model f32 (weights ") || text.contains("model bf16 (weights "),
        "{text}"
    );

    // Age every other row by 40 days; a 30-day prune removes exactly those.
    let aged = {
        let c = rusqlite::Connection::open(w.path("c.sqlite")).expect("open");
        c.execute(
            "UPDATE last_used SET at = at - 40 * 86400 WHERE id % 2 = 0",
            [],
        )
        .expect("age rows") as u64
    };
    assert!(aged > 0);
    let prune = w.cache_cmd(&["prune", "--older-than", "30d", "--vacuum"], "c.sqlite");
    assert!(prune.status.success(), "{}", show(&prune));
    let text = String::from_utf8_lossy(&prune.stdout);
    assert!(
        text.contains(&format!("removed {aged} entries"))
            && text.contains(&format!("{} remain", rows - aged))
            && text.contains("vacuumed"),
        "{text}"
    );

    w.run("a.csv", "again", Some("c.sqlite"));
    let (hits, misses) = hits_misses(&w.path("again"));
    assert_eq!(hits + misses, stored);
    assert!(
        misses > 0 && misses <= aged,
        "{misses} re-embedded of {aged} pruned"
    );
    assert_eq!(integrity(&w.path("c.sqlite")), "ok");

    let bad = w.cache_cmd(&["prune", "--older-than", "soon"], "c.sqlite");
    assert_eq!(bad.status.code(), Some(2), "{}", show(&bad));
    let missing = w.cache_cmd(&["stats"], "none.sqlite");
    assert_eq!(missing.status.code(), Some(2), "{}", show(&missing));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no cache"));
    assert!(!w.path("none.sqlite").exists());
}

#[test]
fn a_file_that_is_not_a_cache_is_refused_and_a_deleted_one_is_made_again() {
    let w = Work::new();
    std::fs::write(w.path("a.csv"), export(30, 5)).expect("write a.csv");
    let before = std::fs::read(w.path("a.csv")).expect("read");
    let o = w
        .analyze("a.csv", "out", Some("a.csv"))
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("--cache") && err.contains("a.csv") && err.contains("not a verbatim"),
        "{err}"
    );
    assert_eq!(std::fs::read(w.path("a.csv")).expect("read"), before);
    assert!(!w.path("out").exists(), "failed before writing outputs");

    w.run("a.csv", "out", Some("c.sqlite"));
    for name in ["c.sqlite", "c.sqlite-wal", "c.sqlite-shm"] {
        let _ = std::fs::remove_file(w.path(name));
    }
    w.run("a.csv", "out", Some("c.sqlite"));
    assert_eq!(hits_misses(&w.path("out")).0, 0);
    // Only the database deleted, its log left behind: still a clean start.
    std::fs::remove_file(w.path("c.sqlite")).expect("delete");
    w.run("a.csv", "out", Some("c.sqlite"));
    assert_eq!(hits_misses(&w.path("out")).0, 0);
    assert_eq!(integrity(&w.path("c.sqlite")), "ok");
}

#[test]
fn sigkill_while_filling_the_cache_leaves_it_intact_and_in_use() {
    // Four chunks of 4,096 responses: the cache commits once per chunk.
    const ROWS: usize = 16_000;
    let w = Work::new();
    std::fs::write(w.path("b.csv"), export(ROWS, 2)).expect("write b.csv");
    let started = Instant::now();
    w.run("b.csv", "clean", None);
    let full = started.elapsed();
    let clean = tables(&w.path("clean"));

    let mut rng = SplitMix(20_261_204);
    let mut kept_hits = 0;
    for round in 0..2 {
        let cache = format!("c{round}.sqlite");
        let mut child = w
            .analyze("b.csv", "out", Some(&cache))
            .spawn()
            .expect("spawn");
        // Past start-up (libtorch, the taxonomy's examples): into the pass.
        let at = full.mul_f64(0.5 + 0.4 * rng.unit());
        let t0 = Instant::now();
        while t0.elapsed() < at && matches!(child.try_wait(), Ok(None)) {
            std::thread::sleep(Duration::from_millis(2));
        }
        let running = matches!(child.try_wait(), Ok(None));
        let _ = child.kill();
        child.wait().expect("wait");
        println!(
            "cache kill test: round {round}: {} at {:.2} s of {:.2} s",
            if running { "killed" } else { "had ended" },
            at.as_secs_f64(),
            full.as_secs_f64()
        );
        assert_eq!(integrity(&w.path(&cache)), "ok", "round {round}");

        w.run("b.csv", "out", Some(&cache));
        let (hits, misses) = hits_misses(&w.path("out"));
        println!("cache kill test: round {round}: rerun with {hits} hits, {misses} misses");
        kept_hits += hits;
        assert_eq!(integrity(&w.path(&cache)), "ok", "round {round}");
        if let Err(diff) = same_run(&tables(&w.path("out")), &clean) {
            panic!("after the kill in round {round}, the rerun differs: {diff}");
        }
    }
    assert!(kept_hits > 0, "no kill landed after a committed chunk");
}

#[test]
fn two_runs_sharing_one_cache_at_once_both_succeed() {
    let w = Work::new();
    std::fs::write(w.path("b.csv"), export(1_500, 9)).expect("write b.csv");
    w.run("b.csv", "clean", None);
    let clean = tables(&w.path("clean"));
    let first = w
        .analyze("b.csv", "one", Some("c.sqlite"))
        .spawn()
        .expect("spawn");
    let second = w
        .analyze("b.csv", "two", Some("c.sqlite"))
        .spawn()
        .expect("spawn");
    for (child, out) in [(first, "one"), (second, "two")] {
        let o = child.wait_with_output().expect("wait");
        assert!(o.status.success(), "{out}: {}", show(&o));
        if let Err(diff) = same_run(&tables(&w.path(out)), &clean) {
            panic!("{out} differs from a run without the cache: {diff}");
        }
    }
    assert_eq!(integrity(&w.path("c.sqlite")), "ok");
}
