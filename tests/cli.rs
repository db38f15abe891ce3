//! End-to-end tests of the `verbatim` binary on a tiny BERT folder made by the
//! tests (tests/common): real tokenizer, real rust-bert forward pass, real
//! output folder, in a temporary directory.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn verbatim() -> Command {
    Command::new(env!("CARGO_BIN_EXE_verbatim"))
}

struct Work {
    dir: tempfile::TempDir,
}

impl Work {
    fn new() -> Work {
        let dir = tempfile::tempdir().unwrap();
        common::tiny_bert_folder(&dir.path().join("model"));
        Work { dir }
    }
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
    fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, text).unwrap();
        p
    }
    fn analyze(&self, input: &Path, out: &str, extra: &[&str]) -> Output {
        verbatim()
            .arg("analyze")
            .arg(input)
            .arg("--out")
            .arg(self.path(out))
            .arg("--model")
            .arg(self.path("model"))
            .args(["--min-n", "2", "--quiet"])
            .args(extra)
            .output()
            .unwrap()
    }
}

fn text(o: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn csv_rows(path: &Path) -> Vec<csv::StringRecord> {
    let mut r = csv::Reader::from_path(path).unwrap();
    r.records().map(|x| x.unwrap()).collect()
}

const GOOD_AND_BAD: &str = "\
id,score,comment,channel
a1,9,the agent was friendly,phone
a2,2,waited on hold an hour,phone
a3,10,great service,chat
a4,abc,this score is not a number,chat
a5,11,out of range,phone
a6,7,,phone
a7,3,invoice wrong and price too high,email
a1,8,duplicate id,phone
a9,5,too,many,fields
a10,6,\"rude agent, but the app is ok\",app
";

#[test]
fn every_row_is_analysed_or_rejected_with_its_line_and_reason() {
    let w = Work::new();
    let input = w.write("export.csv", GOOD_AND_BAD);
    let o = w.analyze(&input, "out", &[]);
    assert!(o.status.success(), "{}", text(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("read 10 = analysed 6 + rejected 4"),
        "{}",
        text(&o)
    );

    let responses = csv_rows(&w.path("out/fact_response.csv"));
    let ids: Vec<&str> = responses.iter().map(|r| &r[1]).collect();
    assert_eq!(ids, ["a1", "a2", "a3", "a6", "a7", "a10"]);
    // a6 has a score and no comment: counted, marked as without comment.
    let a6 = responses.iter().find(|r| &r[1] == "a6").unwrap();
    assert_eq!((&a6[4], &a6[8]), ("passive", "false"));

    let rejects = csv_rows(&w.path("out/rejects.csv"));
    let lines: Vec<&str> = rejects.iter().map(|r| &r[1]).collect();
    assert_eq!(lines, ["5", "6", "9", "10"], "{rejects:?}");
    for r in &rejects {
        assert!(!r[3].is_empty(), "reject without reason: {r:?}");
        assert!(r[0].ends_with("export.csv"), "{r:?}");
    }

    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(w.path("out/manifest.json")).unwrap())
            .unwrap();
    assert_eq!(manifest["counts"]["read"], 10);
    assert_eq!(manifest["counts"]["analysed"], 6);
    assert_eq!(manifest["counts"]["rejected"], 4);
    // Scores 9, 2, 10, 7, 3, 6: 2 promoters, 1 passive, 3 detractors.
    assert_eq!(manifest["nps"]["promoters"], 2);
    assert_eq!(manifest["nps"]["detractors"], 3);
    let nps = manifest["nps"]["nps"].as_f64().unwrap();
    assert!((nps - 100.0 * (2.0 - 3.0) / 6.0).abs() < 1e-9);
    for t in manifest["tables"].as_array().unwrap() {
        for f in t["files"].as_array().unwrap() {
            assert!(w.path("out").join(f.as_str().unwrap()).is_file(), "{f}");
        }
    }

    // One driver row per topic and scope of the built-in taxonomy.
    let drivers = csv_rows(&w.path("out/topic_driver.csv"));
    let topics = verbatim::classify::Taxonomy::default_contact_center()
        .topics
        .len();
    assert_eq!(drivers.len(), topics * 3);
}

#[test]
fn semicolon_export_with_bom_and_crlf_is_read() {
    let w = Work::new();
    let input = w.write(
        "excel.csv",
        "\u{feff}Score;Kommentar;Team\r\n9;Mitarbeiter freundlich;A\r\n1;\"Rechnung falsch;\r\nWartezeit lang\";B\r\n",
    );
    let o = w.analyze(&input, "out", &[]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("read 2 = analysed 2 + rejected 0"));
    let header = csv::Reader::from_path(w.path("out/fact_response.csv"))
        .unwrap()
        .headers()
        .unwrap()
        .clone();
    assert!(header.iter().any(|h| h == "segment_team"), "{header:?}");
}

#[test]
fn missing_score_column_names_the_file_and_the_flag() {
    let w = Work::new();
    let input = w.write("noscore.csv", "id,comment\n1,hello\n");
    let o = w.analyze(&input, "out", &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("noscore.csv") && err.contains("--score-column"),
        "{err}"
    );
    assert!(!w.path("out").exists());
}

#[test]
fn a_failed_run_leaves_the_previous_outputs_untouched() {
    let w = Work::new();
    let input = w.write("export.csv", GOOD_AND_BAD);
    let o = w.analyze(&input, "out", &[]);
    assert!(o.status.success(), "{}", text(&o));
    let before = std::fs::read(w.path("out/fact_response.parquet")).unwrap();
    // The model folder is wrong, so this run fails after ingest.
    let o = verbatim()
        .arg("analyze")
        .arg(&input)
        .arg("--out")
        .arg(w.path("out"))
        .arg("--model")
        .arg(w.path("no-such-model"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no-such-model"));
    assert_eq!(
        std::fs::read(w.path("out/fact_response.parquet")).unwrap(),
        before
    );
    let leftovers: Vec<_> = std::fs::read_dir(w.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "partial folders left: {leftovers:?}");
}

#[test]
fn reruns_give_identical_tables() {
    let w = Work::new();
    let input = w.write("export.csv", GOOD_AND_BAD);
    assert!(w.analyze(&input, "one", &[]).status.success());
    assert!(w.analyze(&input, "two", &[]).status.success());
    for f in [
        "bridge_response_topic.csv",
        "dim_topic.csv",
        "agg_nps.csv",
        "topic_driver.csv",
        "rejects.csv",
    ] {
        assert_eq!(
            std::fs::read(w.path("one").join(f)).unwrap(),
            std::fs::read(w.path("two").join(f)).unwrap(),
            "{f} differs between runs"
        );
    }
}

#[test]
fn float32_and_bfloat16_runs_both_work() {
    let w = Work::new();
    let input = w.write("export.csv", GOOD_AND_BAD);
    for p in ["f32", "bf16"] {
        let o = w.analyze(&input, p, &["--precision", p, "--threads", "1"]);
        assert!(o.status.success(), "{p}: {}", text(&o));
        let s: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(w.path(p).join("manifest.json")).unwrap(),
        )
        .unwrap();
        let expected = if p == "f32" { "Float" } else { "BFloat16" };
        assert_eq!(s["model"]["precision"], expected);
    }
}

#[test]
fn help_shows_an_example_and_the_exit_codes() {
    let o = verbatim().args(["analyze", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&o.stdout);
    assert!(help.contains("Example: verbatim analyze"), "{help}");
    let o = verbatim().arg("--help").output().unwrap();
    assert!(String::from_utf8_lossy(&o.stdout).contains("Exit codes"));
}
