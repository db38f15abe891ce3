//! Every numeric flag and config key of `analyze` has a range, checked
//! once before any work: a value outside it (NaN included) exits 2 with a
//! message that names the flag, never a panic (exit 101), a hang or a run
//! that takes all the memory.

use std::process::{Command, Output};

fn verbatim(args: &[&str], dir: &std::path::Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_verbatim"))
        .current_dir(dir)
        .args(args)
        .env_remove("VERBATIM_CACHE")
        .env_remove("VERBATIM_MODEL")
        .output()
        .expect("run verbatim")
}

fn fixture() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("in.csv"),
        "score,comment\n9,great\n3,slow\n",
    )
    .unwrap();
    dir
}

fn assert_refused(o: &Output, names: &str, case: &str) {
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{case}: {err}");
    assert!(
        err.contains(names),
        "{case}: the message names {names}: {err}"
    );
    assert!(!err.contains("panicked"), "{case}: {err}");
}

#[test]
fn out_of_range_flags_exit_2_naming_the_flag() {
    let dir = fixture();
    let cases: &[(&[&str], &str)] = &[
        (&["--threads", "0"], "--threads"),
        (&["--threads", "100000"], "--threads"),
        (&["--batch-tokens", "0"], "--batch-tokens"),
        (
            &["--bootstrap-replicates", "18446744073709551615"],
            "--bootstrap-replicates",
        ),
        (
            &["--bootstrap-replicates", "100000000"],
            "--bootstrap-replicates",
        ),
        (&["--fdr", "NaN"], "--fdr"),
        (&["--fdr", "2"], "--fdr"),
        (&["--fdr", "0"], "--fdr"),
        (&["--alert-z", "NaN"], "--alert-z"),
        (&["--alert-z=-1"], "--alert-z"),
        (&["--alert-z", "inf"], "--alert-z"),
        (&["--topic-threshold", "2"], "--topic-threshold"),
        (&["--topic-threshold", "NaN"], "--topic-threshold"),
        (&["--max-reject-rate", "1.5"], "--max-reject-rate"),
        (&["--max-reject-rate", "NaN"], "--max-reject-rate"),
        (&["--followup-limit", "100000000000"], "--followup-limit"),
        (&["--min-n=-1"], "--min-n"),
    ];
    for (flags, name) in cases {
        let mut args = vec!["analyze", "in.csv", "--out", "out"];
        args.extend_from_slice(flags);
        let o = verbatim(&args, dir.path());
        assert_refused(&o, name, &flags.join(" "));
        assert!(
            !dir.path().join("out").exists(),
            "{}: nothing is written",
            flags.join(" ")
        );
    }
}

#[test]
fn out_of_range_config_keys_exit_2_naming_the_key() {
    let dir = fixture();
    for (toml, key) in [
        ("[analysis]\nfdr = 2.0\n", "fdr"),
        ("[analysis]\nmax_reject_rate = -0.5\n", "max_reject_rate"),
        ("[analysis]\nmin_n = 2000000000\n", "min_n"),
    ] {
        std::fs::write(dir.path().join("v.toml"), toml).unwrap();
        let o = verbatim(
            &["analyze", "in.csv", "--out", "out", "--config", "v.toml"],
            dir.path(),
        );
        assert_refused(&o, &format!("`{key}`"), toml);
    }
}

#[test]
fn the_encoder_flags_are_checked_for_every_subcommand() {
    let dir = fixture();
    let o = verbatim(
        &["eval", "sentiment", "--data", "in.csv", "--threads", "0"],
        dir.path(),
    );
    assert_refused(&o, "--threads", "eval --threads 0");
}

#[test]
fn values_at_the_ends_of_the_ranges_are_accepted() {
    // Accepted flags get past the checks to the next step: here a model
    // folder that does not exist (exit 5, the model error), not exit 2.
    let dir = fixture();
    let o = verbatim(
        &[
            "analyze",
            "in.csv",
            "--out",
            "out",
            "--model",
            "no-such-model",
            "--fdr",
            "1",
            "--alert-z",
            "0.5",
            "--topic-threshold",
            "0",
            "--max-reject-rate",
            "1",
            "--bootstrap-replicates",
            "0",
            "--threads",
            "256",
            "--min-n",
            "0",
        ],
        dir.path(),
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert_ne!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("no-such-model"), "{err}");
}

#[test]
fn the_other_subcommands_check_their_numbers_too() {
    let dir = fixture();
    let cases: &[(&[&str], &str)] = &[
        (
            &["eval", "topics", "--data", "in.csv", "--folds", "0"],
            "--folds",
        ),
        (
            &[
                "eval",
                "topics",
                "--data",
                "in.csv",
                "--topic-threshold",
                "NaN",
            ],
            "--topic-threshold",
        ),
        (
            &["eval", "sentiment", "--data", "in.csv", "--sample", "0"],
            "--sample",
        ),
        (
            &["train", "sentiment", "--out", "h.json", "--folds", "1"],
            "--folds",
        ),
        (&["discover", "in.csv", "--clusters", "1"], "--clusters"),
        (&["discover", "in.csv", "--min-size", "0"], "--min-size"),
        (&["discover", "in.csv", "--max-texts", "0"], "--max-texts"),
    ];
    for (args, name) in cases {
        let o = verbatim(args, dir.path());
        assert_refused(&o, name, &args.join(" "));
    }
}
