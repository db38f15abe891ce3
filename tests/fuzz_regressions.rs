//! Replays the inputs kept from fuzzing (`scripts/fuzz.sh`): every file in
//! `tests/data/fuzz/<target>/` goes through the same checks as the fuzz
//! target of that name (`fuzz/fuzz_targets/check.rs`, included here), so an
//! input that once crashed the reader or broke its accounting is tested on
//! every run. The folders also hold a few seed inputs, so each target is
//! replayed on something even before the fuzzer has found anything.

#[path = "../fuzz/fuzz_targets/check.rs"]
mod check;

use std::path::Path;

use verbatim::input::InputFormat;

/// Runs `check` on every file of `tests/data/fuzz/<target>`; returns how many.
fn replay(target: &str, check: impl Fn(&[u8])) -> usize {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/fuzz")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    for f in &files {
        let data = std::fs::read(f).expect("read input");
        let name = f.display().to_string();
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(&data)));
        assert!(outcome.is_ok(), "{name} fails the {target} checks again");
    }
    assert!(!files.is_empty(), "no inputs in {}", dir.display());
    println!(
        "fuzz regressions: {target}: {} inputs replayed",
        files.len()
    );
    files.len()
}

#[test]
fn ingest_csv_inputs() {
    replay("ingest_csv", |d| check::ingest(d, InputFormat::Csv));
}

#[test]
fn ingest_jsonl_inputs() {
    replay("ingest_jsonl", |d| check::ingest(d, InputFormat::Jsonl));
}

#[test]
fn taxonomy_inputs() {
    replay("taxonomy", check::taxonomy);
}

/// A hang found by replaying a hand-made input through the `taxonomy`
/// target: a 20,000-topic parent chain (1.6 MB, too large for the fuzzer's
/// inputs) took 143 s to validate, as every topic walked the whole chain.
/// Linear now; the bound is 100 times what the check needs, so that only
/// the quadratic walk fails it.
#[test]
fn a_long_parent_chain_is_validated_in_linear_time() {
    let n = 20_000;
    let mut text = String::from("name = \"t\"\nversion = \"1\"\n");
    for i in 0..n {
        let parent = if i + 1 < n {
            format!("parent = \"t{}\"\n", i + 1)
        } else {
            String::new()
        };
        text.push_str(&format!(
            "[[topic]]\nid = \"t{i}\"\n{parent}label = {{ en = \"x\" }}\nexamples.en = [\"x\"]\n"
        ));
    }
    let started = std::time::Instant::now();
    check::taxonomy(text.as_bytes());
    // The same chain closed into a cycle (its root's parent is its first
    // topic) is refused.
    let cycle = text.replacen("id = \"t19999\"\n", "id = \"t19999\"\nparent = \"t0\"\n", 1);
    let err = verbatim::classify::Taxonomy::parse(&cycle, "chain.toml").err();
    let elapsed = started.elapsed();
    assert!(
        err.as_ref()
            .is_some_and(|e| e.to_string().contains("cycle")),
        "{err:?}"
    );
    assert!(
        elapsed.as_secs() < 10,
        "{elapsed:?} for a 20,000-topic chain"
    );
}
