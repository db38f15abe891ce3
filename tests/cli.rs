//! End-to-end tests of the `verbatim` binary on a tiny BERT folder made by the
//! tests (tests/common): real tokenizer, real rust-bert forward pass, real
//! output folder, in a temporary directory.

mod common;
#[path = "common/workdir.rs"]
mod workdir;
use workdir::show as text;

use std::path::Path;
use std::process::Command;

fn verbatim() -> Command {
    Command::new(env!("CARGO_BIN_EXE_verbatim"))
}

use workdir::Workdir as Work;

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
    let header = header(&w.path("out/fact_response.csv"));
    assert!(header.iter().any(|h| h == "segment_team"), "{header:?}");
}

#[test]
fn missing_score_column_names_the_file_and_the_flag() {
    let w = Work::new();
    let input = w.write("noscore.csv", "id,comment\n1,hello\n");
    let o = w.analyze(&input, "out", &[]);
    assert_eq!(o.status.code(), Some(4), "{}", text(&o));
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
    assert_eq!(o.status.code(), Some(5), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no-such-model"));
    assert_eq!(
        std::fs::read(w.path("out/fact_response.parquet")).unwrap(),
        before
    );
    let leftovers: Vec<_> = std::fs::read_dir(w.root())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    // Only the lock file stays beside the folder (see src/output/mod.rs).
    assert_eq!(leftovers, [".out.lock"], "partial folders left");
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

/// A semicolon export from a German Excel with every defect of a real one.
fn defective_export() -> Vec<u8> {
    let mut b = vec![0xEF, 0xBB, 0xBF];
    b.extend_from_slice(
        "ID;Bewertung;Kommentar;Datum;Kanal\r\n\
         1;9,0;Mitarbeiter freundlich;2026-11-02;Telefon\r\n\
         2; 10 ;\"Rechnung falsch;\r\naber schnell korrigiert\";02.11.2026;Chat\r\n\
         3;10.0;Grüße an das Team;2026-11-03T09:15:00+01:00;Telefon\r\n\
         4;;kein Score;2026-11-03;Telefon\r\n\
         5;abc;Score ist Text;2026-11-03;Telefon\r\n\
         6;11;zu hoch;2026-11-03;Telefon\r\n\
         7;9.5;halber Punkt;2026-11-03;Telefon\r\n\
         8;3;zu viele;Felder;2026-11-03;Telefon\r\n\
         1;5;doppelte ID;2026-11-04;Chat\r\n\
         10;7;;2026-11-04;Chat\r\n\
         11;2;\"Warteschleife \"\"ewig\"\"\";nicht-ein-datum;Chat\r\n"
            .as_bytes(),
    );
    b
}

#[test]
fn an_export_with_every_defect_is_accounted_for() {
    let w = Work::new();
    let input = w.path("defects.csv");
    std::fs::write(&input, defective_export()).unwrap();
    let o = w.analyze(&input, "out", &["--max-reject-rate", "0.2"]);
    // 6 of 11 rows rejected > 20%: outputs written, exit code 3.
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("read 11 = analysed 5 + rejected 6"));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--max-reject-rate"));
    let rejects = csv_rows(&w.path("out/rejects.csv"));
    let got: Vec<(String, String)> = rejects
        .iter()
        .map(|r| (r[1].to_string(), r[3].to_string()))
        .collect();
    let lines: Vec<&str> = got.iter().map(|(l, _)| l.as_str()).collect();
    assert_eq!(lines, ["6", "7", "8", "9", "10", "11"], "{got:?}");
    for (needle, (_, reason)) in [
        "missing",
        "not a number",
        "out of range",
        "whole number",
        "fields",
        "duplicate id",
    ]
    .iter()
    .zip(&got)
    {
        assert!(reason.contains(needle), "{reason:?} should say {needle:?}");
    }
    let facts = csv_rows(&w.path("out/fact_response.csv"));
    let scores: Vec<&str> = facts.iter().map(|r| &r[3]).collect();
    assert_eq!(scores, ["9", "10", "10", "7", "2"]);
    // Dates in three formats become one UTC date; the bad one stays empty.
    let header = header(&w.path("out/fact_response.csv"));
    let date = header.iter().position(|h| h == "response_date").unwrap();
    let dates: Vec<&str> = facts.iter().map(|r| &r[date]).collect();
    assert_eq!(
        dates,
        ["2026-11-02", "2026-11-02", "2026-11-03", "2026-11-04", ""]
    );
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(w.path("out/manifest.json")).unwrap())
            .unwrap();
    assert_eq!(m["counts"]["unparsed_dates"], 1);
    assert_eq!(m["input"]["delimiter"], ";");
    assert_eq!(m["input"]["date_column"], "Datum");
}

#[test]
fn a_config_file_maps_columns_and_flags_win_over_it() {
    let w = Work::new();
    let input = w.write(
        "q.csv",
        "RespID,Q1,Q2,Team\nx1,9,the agent was friendly,A\nx2,3,waited on hold,B\nx3,8,ok,A\n",
    );
    let cfg = w.write(
        "verbatim.toml",
        "[input]\nscore_column = \"Q1\"\ntext_column = \"Q2\"\nid_column = \"RespID\"\n\
         segment_columns = [\"Team\"]\n[analysis]\nmin_n = 7\nperiods = [\"month\"]\n",
    );
    let cfg_arg = cfg.display().to_string();
    let o = w.analyze(&input, "out", &["--config", &cfg_arg, "--min-n", "9"]);
    assert!(o.status.success(), "{}", text(&o));
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(w.path("out/manifest.json")).unwrap())
            .unwrap();
    assert_eq!(m["input"]["score_column"], "Q1");
    assert_eq!(m["input"]["id_column"], "RespID");
    assert_eq!(
        m["input"]["aggregated_segment_columns"],
        serde_json::json!(["Team"])
    );
    // --min-n on the command line wins over the file's 7 (the helper passes 2 first).
    assert_eq!(m["thresholds"]["min_n"], 9);

    let bad = w.write("bad.toml", "[input]\nscore = \"Q1\"\n");
    let bad_arg = bad.display().to_string();
    let o = w.analyze(&input, "out2", &["--config", &bad_arg]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("bad.toml"),
        "{}",
        text(&o)
    );
}

/// Five weeks of "great service", then a week where most comments are
/// "invoice wrong"; the taxonomy's examples are exactly those texts, and
/// eight unrelated topics lower the mean cosine, so even the random tiny
/// model finds them (cosine 1 to the own example, a clear gap to the mean).
fn spiking_export() -> String {
    let mut s = String::from("id,score,comment,date,agent\n");
    let mut id = 0;
    for week in 0..6u64 {
        let day =
            chrono::NaiveDate::from_ymd_opt(2026, 1, 5).unwrap() + chrono::Days::new(week * 7);
        let billing = if week == 5 { 20 } else { 1 };
        for i in 0..24 {
            id += 1;
            let (score, text) = if i < billing {
                (3, "invoice wrong")
            } else {
                (9, "great service")
            };
            let agent = if i % 2 == 0 { "ann" } else { "bob" };
            s.push_str(&format!("r{id},{score},{text},{day},{agent}\n"));
        }
    }
    s
}

#[test]
fn driver_tables_are_written_and_fail_on_alert_sets_the_exit_code() {
    let w = Work::new();
    let input = w.write("spike.csv", spiking_export());
    let tax = w.write(
        "spike.toml",
        common::tiny_words_taxonomy("spike", "other7", "Other 7"),
    );
    let tax = tax.to_str().unwrap();
    let flags = [
        "--taxonomy",
        tax,
        "--periods",
        "week",
        "--topic-threshold",
        "0.99",
    ];
    let o = w.analyze(&input, "out", &flags);
    assert!(o.status.success(), "{}", text(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    for line in [
        "Drivers of low scores",
        "Drivers of high scores",
        "Bootstrap 95% intervals of the drivers (1000 replicates",
        "ΔNPS",
        "alerts,",
    ] {
        assert!(stdout.contains(line), "{line}: {}", text(&o));
    }
    for table in [
        "topic_driver",
        "key_driver",
        "driver_change",
        "segment_driver",
        "team_view",
        "followup",
        "alerts",
    ] {
        for ext in ["csv", "parquet"] {
            let p = w.path(&format!("out/{table}.{ext}"));
            assert!(p.is_file(), "{} missing", p.display());
        }
    }
    let alerts = csv_rows(&w.path("out/alerts.csv"));
    assert!(
        alerts
            .iter()
            .any(|r| &r[2] == "billing" && &r[3] == "share" && &r[4] == "up"),
        "{alerts:?}"
    );
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(w.path("out/manifest.json")).unwrap())
            .unwrap();
    assert_eq!(
        manifest["counts"]["alerts"].as_u64(),
        Some(alerts.len() as u64)
    );
    // Every scored 3 is a detractor and a follow-up: 5·1 + 20.
    assert_eq!(manifest["counts"]["followups"], 25);
    let mismatch = csv_rows(&w.path("out/fact_response.csv"))
        .iter()
        .filter(|r| {
            let bucket = &r[4];
            let sentiment = &r[10];
            (bucket == "detractor" && sentiment == "positive")
                || (bucket == "promoter" && sentiment == "negative")
        })
        .count();
    assert_eq!(manifest["counts"]["sentiment_mismatch"], mismatch as u64);

    let o = w.analyze(&input, "out2", &[&flags[..], &["--fail-on-alert"]].concat());
    assert_eq!(o.status.code(), Some(8), "{}", text(&o));
    assert!(
        w.path("out2/alerts.csv").is_file(),
        "outputs written before the exit"
    );
    // Same seed, same data: identical driver tables.
    for table in [
        "topic_driver.csv",
        "key_driver.csv",
        "driver_change.csv",
        "followup.csv",
    ] {
        assert_eq!(
            std::fs::read(w.path("out").join(table)).unwrap(),
            std::fs::read(w.path("out2").join(table)).unwrap(),
            "{table}"
        );
    }
}

#[test]
fn redact_masks_personal_data_in_the_raw_records_of_rejects() {
    let w = Work::new();
    let input = w.write(
        "pii.csv",
        "id,score,comment\n1,9,great agent\n2,eleven,call me on +49 171 2345678 or anna.schmidt@example.org\n",
    );
    let record = |out: &str| {
        let rows = csv_rows(&w.path(&format!("{out}/rejects.csv")));
        assert_eq!(rows.len(), 1, "one reject");
        rows[0].iter().next_back().unwrap_or("").to_string()
    };
    // By default the raw record stays as read: rejects.csv is for fixing the input here.
    let o = w.analyze(&input, "plain", &[]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(record("plain").contains("anna.schmidt@example.org"));
    // --redact masks it too.
    let o = w.analyze(&input, "masked", &["--redact"]);
    assert!(o.status.success(), "{}", text(&o));
    let r = record("masked");
    assert!(!r.contains("anna.schmidt") && !r.contains("2345678"), "{r}");
    assert!(r.contains("[EMAIL]") && r.contains("[PHONE]"), "{r}");
}

#[test]
fn a_reader_that_stops_early_neither_panics_nor_loses_outputs() {
    // `verbatim analyze … | head -0`: stdout is closed before the summary.
    let w = Work::new();
    let input = w.write("export.csv", GOOD_AND_BAD);
    let mut child = verbatim()
        .arg("analyze")
        .arg(&input)
        .arg("--out")
        .arg(w.path("piped"))
        .arg("--model")
        .arg(w.path("model"))
        .args(["--min-n", "2", "--quiet"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    // The outputs were committed before the summary was printed.
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(w.path("piped").join("manifest.json")).unwrap(),
    )
    .unwrap();
    assert!(manifest["counts"]["analysed"].as_u64().unwrap() > 0);
    assert!(!std::fs::read(w.path("piped").join("rejects.csv"))
        .unwrap()
        .is_empty());
}

#[test]
fn a_pipe_or_standard_input_is_read_once_and_gives_the_file_s_results() {
    // The input is read twice (rows, then its checksum): a pipe is first
    // copied to a temporary file beside --out, which is gone afterwards.
    let w = Work::new();
    let input = w.write("export.csv", GOOD_AND_BAD);
    let o = w.analyze(&input, "file", &[]);
    assert!(o.status.success(), "{}", text(&o));
    let manifest = |out: &str| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(w.path(out).join("manifest.json")).unwrap())
            .unwrap()
    };
    let expected = manifest("file");

    let fifo = w.path("pipe.csv");
    let c_path = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::write(fifo, GOOD_AND_BAD).unwrap())
    };
    let o = w.analyze(&fifo, "fifo", &[]);
    writer.join().unwrap();
    assert!(o.status.success(), "{}", text(&o));

    let mut child = verbatim()
        .arg("analyze")
        .arg("-")
        .arg("--out")
        .arg(w.path("stdin"))
        .arg("--model")
        .arg(w.path("model"))
        .args(["--min-n", "2", "--quiet"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(GOOD_AND_BAD.as_bytes()).unwrap();
    }
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", text(&o));

    for (out, path) in [
        ("fifo", fifo.display().to_string()),
        ("stdin", "stdin".into()),
    ] {
        let m = manifest(out);
        assert_eq!(m["input"]["path"], path.as_str());
        assert_eq!(m["input"]["sha256"], expected["input"]["sha256"], "{out}");
        assert_eq!(m["counts"], expected["counts"], "{out}");
    }
    // No temporary copy is left beside the outputs.
    let left: Vec<String> = std::fs::read_dir(w.path(""))
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with(".verbatim-input-"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn openmp_threads_are_passive_unless_the_user_says_otherwise() {
    // main() executes itself again with OMP_WAIT_POLICY=PASSIVE (libgomp reads
    // it before main). The run's config file is a FIFO nobody writes to, so
    // the process waits on it and its environment can be read from /proc.
    let w = Work::new();
    let input = w.write("export.csv", GOOD_AND_BAD);
    let fifo = w.path("config.toml");
    let c_path = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
    for (set, expected) in [(None, "PASSIVE"), (Some("ACTIVE"), "ACTIVE")] {
        let mut cmd = verbatim();
        cmd.arg("analyze")
            .arg(&input)
            .arg("--config")
            .arg(&fifo)
            .arg("--out")
            .arg(w.path("x"))
            .arg("--model")
            .arg(w.path("model"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        match set {
            Some(p) => cmd.env("OMP_WAIT_POLICY", p),
            None => cmd.env_remove("OMP_WAIT_POLICY"),
        };
        let mut child = cmd.spawn().unwrap();
        let environ = format!("/proc/{}/environ", child.id());
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        let mut seen = None;
        while seen.is_none() && std::time::Instant::now() < deadline {
            let env = std::fs::read(&environ).unwrap_or_default();
            seen = env
                .split(|&b| b == 0)
                .filter_map(|kv| std::str::from_utf8(kv).ok())
                .find_map(|kv| kv.strip_prefix("OMP_WAIT_POLICY=").map(str::to_string));
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        child.kill().unwrap();
        child.wait().unwrap();
        assert_eq!(
            seen.as_deref(),
            Some(expected),
            "set by the caller: {set:?}"
        );
    }
}

/// Comments with personal data that a split at every `.` used to cut in two.
const PII_COMMENTS: [&str; 4] = [
    "mustermann@example.com never answered",
    "Mr. Smith was extremely rude",
    "MÜLLER@bücher.de never answered",
    "Frau Dr. Anna Schmidt was rude",
];

#[test]
fn report_examples_never_show_part_of_an_address_or_a_name() {
    let w = Work::new();
    // Every clause negative, and each comment the example of a topic, so
    // that each one is shown in the report.
    let sentiment = w.path("negative");
    common::tiny_classifier_folder(
        &sentiment,
        common::Arch::Bert,
        Some(&["NEGATIVE", "POSITIVE"]),
        &[6.0, 0.0],
        0.0,
    );
    let mut tax = String::from("name = \"pii\"\nversion = \"1\"\n");
    for (i, c) in PII_COMMENTS.iter().enumerate() {
        tax.push_str(&format!(
            "[[topic]]\nid = \"t{i}\"\nlabel = {{ en = \"Topic {i}\" }}\nexamples.en = [{c:?}]\n"
        ));
    }
    tax.push_str("[[topic]]\nid = \"other\"\nlabel = { en = \"Other\" }\nexamples.en = [\"great service\"]\n");
    let tax = w.write("pii.toml", &tax);
    let mut data = String::from("id,score,comment\n");
    for (i, c) in PII_COMMENTS.iter().enumerate() {
        data.push_str(&format!("p{i},2,{c}\n"));
    }
    data.push_str("q1,9,great service\nq2,10,great service\n");
    let input = w.write("pii.csv", &data);
    let o = w.analyze(
        &input,
        "out",
        &[
            "--taxonomy",
            tax.to_str().unwrap(),
            "--sentiment-model",
            sentiment.to_str().unwrap(),
            "--precision",
            "f32",
            "--topic-threshold",
            "0.9",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    let report = std::fs::read_to_string(w.path("out/report.html")).unwrap();
    let examples = &report[report.find("examples-heading").expect("examples section")..];
    for masked in [
        "[EMAIL] never answered",
        "Mr. [NAME] was extremely rude",
        "Frau Dr. [NAME] was rude",
    ] {
        assert!(examples.contains(masked), "{masked} not in the examples");
    }
    for part in [
        "mustermann",
        "@example",
        "Smith",
        "MÜLLER",
        "bücher",
        "Anna",
        "Schmidt",
    ] {
        assert!(!report.contains(part), "report.html shows {part:?}");
    }
}

/// An export with columns that hold personal data beside a real segment.
fn personal_columns_export() -> String {
    let mut s = String::from("id,score,comment,channel,email,contact note,Telefon,Kunde\n");
    let names = [
        "Anna Müller",
        "Jan de Vries",
        "John Smith",
        "Marie Dubois",
        "Lucía García",
        "Peter Schmidt",
        "Sophie Janssen",
        "Thomas Becker",
        "Emma Wilson",
        "Lukas Meier",
        "Julia Fischer",
        "David Brown",
    ];
    for (i, name) in names.iter().enumerate() {
        let score = if i % 3 == 0 { 9 } else { 2 + i % 4 };
        let comment = if score > 8 {
            "great service"
        } else {
            "invoice wrong"
        };
        let channel = if i % 2 == 0 { "phone" } else { "chat" };
        let user = name.split(' ').next_back().unwrap_or("x").to_lowercase();
        s.push_str(&format!(
            "r{i},{score},{comment},{channel},{user}{i}@example.org,\
             \"Please call me back after 6pm, my name is {name}, I am home on weekdays\",\
             +49 171 23456{i:02},{name}\n"
        ));
    }
    s
}

#[test]
fn columns_with_personal_data_are_no_segments_and_are_masked() {
    let w = Work::new();
    let data = personal_columns_export();
    let input = w.write("contacts.csv", &data);
    let o = w.analyze(&input, "out", &[]);
    assert!(o.status.success(), "{}", text(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    let notes: Vec<&str> = stderr.lines().filter(|l| l.contains("left out")).collect();
    assert_eq!(notes.len(), 1, "{stderr}");
    for c in ["`email`", "`contact note`", "`Telefon`", "`Kunde`"] {
        assert!(notes[0].contains(c), "{c}: {stderr}");
    }
    // Only the channel is a segment.
    let agg = csv_rows(&w.path("out/agg_nps.csv"));
    let mut columns: Vec<&str> = agg.iter().map(|r| &r[0]).collect();
    columns.dedup();
    assert_eq!(columns, ["", "channel"]);
    // No value of those columns leaves the run unmasked.
    let leaks: Vec<String> = data
        .lines()
        .skip(1)
        .flat_map(|l| {
            let mut r = csv::ReaderBuilder::new()
                .has_headers(false)
                .from_reader(l.as_bytes());
            let rec = r.records().next().unwrap().unwrap();
            vec![
                rec[4].to_string(),
                rec[5].to_string(),
                rec[6].to_string(),
                rec[7].to_string(),
                rec[7].split(' ').next_back().unwrap().to_string(),
            ]
        })
        .collect();
    for file in [
        "fact_response.csv",
        "fact_answer.csv",
        "followup.csv",
        "report.html",
        "segment_driver.csv",
        "team_view.csv",
    ] {
        let body = std::fs::read_to_string(w.path("out").join(file)).unwrap();
        for v in &leaks {
            assert!(!body.contains(v.as_str()), "{file} shows {v:?}");
        }
    }
    let facts = csv_rows(&w.path("out/fact_response.csv"));
    let header: Vec<String> = csv::Reader::from_path(w.path("out/fact_response.csv"))
        .unwrap()
        .headers()
        .unwrap()
        .iter()
        .map(str::to_string)
        .collect();
    let at = |n: &str| {
        header
            .iter()
            .position(|h| h == n)
            .unwrap_or_else(|| panic!("{n}"))
    };
    assert_eq!(&facts[0][at("segment_email")], "[EMAIL]");
    assert_eq!(&facts[0][at("segment_telefon")], "[PHONE]");
    assert_eq!(&facts[0][at("segment_kunde")], "[NAME]");
    assert!(
        facts[0][at("segment_contact_note")].contains("my name is [NAME]"),
        "{:?}",
        facts[0]
    );
    assert_eq!(&facts[0][at("segment_channel")], "phone");
    // The manifest says which columns were left out and why.
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(w.path("out/manifest.json")).unwrap())
            .unwrap();
    let left = manifest["input"]["left_out_columns"]
        .as_array()
        .expect("left_out_columns");
    let reason = |c: &str| {
        left.iter()
            .find(|e| e["column"] == c)
            .map(|e| e["reason"].as_str().unwrap_or("").to_string())
            .unwrap_or_else(|| panic!("{c} not in {left:?}"))
    };
    assert!(reason("email").contains("e-mail"), "{left:?}");
    assert!(reason("Telefon").contains("phone"), "{left:?}");
    assert!(reason("Kunde").contains("name"), "{left:?}");
    assert!(reason("contact note").contains("free text"), "{left:?}");
    assert_eq!(left.len(), 4, "{left:?}");

    // Named by a flag, a column is a segment again.
    let o = w.analyze(
        &input,
        "named",
        &["--segment-column", "channel", "--segment-column", "email"],
    );
    assert!(o.status.success(), "{}", text(&o));
    let agg = csv_rows(&w.path("named/agg_nps.csv"));
    assert!(agg
        .iter()
        .any(|r| &r[0] == "email" && r[1].ends_with("@example.org")));
}

#[test]
fn the_manifest_records_the_settings_a_rerun_needs() {
    use sha2::Digest;
    let w = Work::new();
    let input = w.write("export.csv", GOOD_AND_BAD);
    let o = w.analyze(
        &input,
        "out",
        &[
            "--seed",
            "7",
            "--bootstrap-replicates",
            "20",
            "--alert-z",
            "2.5",
            "--periods",
            "week,month",
            "--device",
            "cpu",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    let m = w.manifest("out");
    let s = &m["settings"];
    assert_eq!(s["seed"], 7, "{s}");
    assert_eq!(s["bootstrap_replicates"], 20, "{s}");
    assert_eq!(s["alert_z"], 2.5, "{s}");
    assert_eq!(s["periods"], serde_json::json!(["week", "month"]), "{s}");
    assert_eq!(s["device"], "cpu", "{s}");
    assert_eq!(s["device_used"], "cpu", "{s}");
    // The shipped taxonomy; no calibration for the tiny model, so the
    // similarity rule's topic_threshold decided.
    assert!(s["taxonomy_file"].is_null(), "{s}");
    assert_eq!(m["topics"]["rule"], "similarity");
    assert_eq!(s["topic_threshold_applies"], true, "{s}");
    // A custom taxonomy: its full path and checksum.
    let taxonomy = common::tiny_words_taxonomy("custom", "agent", "Agent");
    let tax = w.write("custom.toml", &taxonomy);
    // Given relative to the working folder; recorded in full.
    let o = w
        .analyze_command(&input, "tax", &["--taxonomy", "custom.toml"])
        .current_dir(w.root())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let s = &w.manifest("tax")["settings"];
    let file = &s["taxonomy_file"];
    assert_eq!(
        file["path"].as_str(),
        std::fs::canonicalize(&tax).unwrap().to_str(),
        "{s}"
    );
    assert!(Path::new(file["path"].as_str().unwrap()).is_absolute());
    assert_eq!(
        file["sha256"].as_str().unwrap(),
        format!("{:x}", sha2::Sha256::digest(taxonomy.as_bytes())),
        "{s}"
    );
    // Defaults are recorded too.
    assert!(
        s["seed"].is_u64() && s["bootstrap_replicates"].is_u64(),
        "{s}"
    );
    assert_eq!(
        s["periods"],
        serde_json::json!(["week", "month", "quarter"])
    );
}

/// Placeholders that survey tools force into an open question ("n/a", "-",
/// "keine Angabe") count as no comment, as an empty cell does: no sentiment,
/// no topic, `has_comment` false. Short verdicts and emoji stay comments.
#[test]
fn placeholder_answers_count_as_no_comment() {
    let w = Work::new();
    let input = w.write(
        "placeholders.csv",
        "id,score,comment\n\
         p1,9,great service\n\
         p2,3,n/a\n\
         p3,8,-\n\
         p4,2,keine Angabe\n\
         p5,4,N.V.T.\n\
         p6,10,ok\n\
         p7,10,\u{1F44D}\n",
    );
    let tax = w.write(
        "tax.toml",
        common::tiny_words_taxonomy("ph", "other7", "Other 7"),
    );
    let o = w.analyze(&input, "out", &["--taxonomy", tax.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let header = header(&w.path("out/fact_response.csv"));
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let facts = csv_rows(&w.path("out/fact_response.csv"));
    let got: Vec<(&str, &str, &str)> = facts
        .iter()
        .map(|r| (&r[1], &r[col("has_comment")], &r[col("sentiment")]))
        .map(|(id, has, s)| (id, has, if s.is_empty() { "" } else { "some" }))
        .collect();
    assert_eq!(
        got,
        [
            ("p1", "true", "some"),
            ("p2", "false", ""),
            ("p3", "false", ""),
            ("p4", "false", ""),
            ("p5", "false", ""),
            ("p6", "true", "some"),
            ("p7", "true", "some"),
        ]
    );
    // Every row is still analysed: the placeholders are responses with a
    // score and no comment, not rejects.
    // Said on the console and counted in the manifest.
    assert!(
        text(&o).contains("4 answers were only a placeholder"),
        "{}",
        text(&o)
    );
    assert_eq!(w.manifest("out")["counts"]["placeholder_comments"], 4);
    assert!(
        text(&o).contains("read 7 = analysed 7 + rejected 0"),
        "{}",
        text(&o)
    );
    let topics = csv_rows(&w.path("out/bridge_response_topic.csv"));
    assert!(
        topics.iter().all(|r| ["p1", "p6", "p7"].contains(&&r[0])),
        "{topics:?}"
    );
}

/// Two open questions ("what did we do well?", "what should we improve?"),
/// some answers empty; the taxonomy's examples are the answers' texts, so
/// the tiny model finds them.
const TWO_QUESTIONS: &str = "\
id,score,well,improve,channel
q1,9,great service,invoice wrong,phone
q2,3,,invoice wrong,phone
q3,10,great service,,chat
q4,8,,,chat
q5,2,rude,invoice wrong,chat
";

#[test]
fn several_open_questions_are_analysed_answer_by_answer() {
    let w = Work::new();
    let input = w.write("two.csv", TWO_QUESTIONS);
    let tax = w.write(
        "tax.toml",
        common::tiny_words_taxonomy("two", "other7", "Other 7"),
    );
    let tax = tax.to_str().unwrap();
    let flags = [
        "--taxonomy",
        tax,
        "--topic-threshold",
        "0.99",
        "--text-column",
        "well",
        "--text-column",
        "improve",
    ];
    let o = w.analyze(&input, "out", &flags);
    assert!(o.status.success(), "{}", text(&o));

    // One fact row per response; the answers are no segments.
    let facts = csv_rows(&w.path("out/fact_response.csv"));
    let header = header(&w.path("out/fact_response.csv"));
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    assert!(header.iter().any(|h| h == "segment_channel"));
    assert!(!header
        .iter()
        .any(|h| h.contains("well") || h.contains("improve")));
    let has_comment: Vec<(&str, &str)> = facts
        .iter()
        .map(|r| (&r[1], &r[col("has_comment")]))
        .collect();
    assert_eq!(
        has_comment,
        [
            ("q1", "true"),
            ("q2", "true"),
            ("q3", "true"),
            ("q4", "false"),
            ("q5", "true")
        ]
    );

    // One answer row per non-empty answer, named by its question.
    let answers: Vec<(String, String, String)> = csv_rows(&w.path("out/fact_answer.csv"))
        .iter()
        .map(|r| (r[1].to_string(), r[2].to_string(), r[3].to_string()))
        .collect();
    let want: Vec<(String, String, String)> = [
        ("q1", "well", "1"),
        ("q1", "improve", "2"),
        ("q2", "improve", "2"),
        ("q3", "well", "1"),
        ("q5", "well", "1"),
        ("q5", "improve", "2"),
    ]
    .iter()
    .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
    .collect();
    assert_eq!(answers, want);

    // Each topic with the question whose answer holds it.
    let bridge: Vec<(String, String, String)> = csv_rows(&w.path("out/bridge_response_topic.csv"))
        .iter()
        .map(|r| (r[0].to_string(), r[1].to_string(), r[2].to_string()))
        .collect();
    for (id, q, topic) in [
        ("q1", "well", "service"),
        ("q1", "improve", "billing"),
        ("q2", "improve", "billing"),
        ("q3", "well", "service"),
        ("q5", "improve", "billing"),
    ] {
        let row = (id.to_string(), q.to_string(), topic.to_string());
        assert!(bridge.contains(&row), "{row:?} not in {bridge:?}");
    }
    assert!(
        bridge
            .iter()
            .all(|(_, q, t)| (t != "billing" || q == "improve") && (t != "service" || q == "well")),
        "{bridge:?}"
    );

    // The drivers count a response once per topic, whichever answer holds it.
    let mentions = |topic: &str| -> String {
        csv_rows(&w.path("out/topic_driver.csv"))
            .iter()
            .find(|r| &r[0] == topic && &r[1] == "any")
            .map(|r| r[2].to_string())
            .unwrap()
    };
    assert_eq!(mentions("billing"), "3");
    assert_eq!(mentions("service"), "2");

    // The follow-up list shows each answer after its question.
    let followups = csv_rows(&w.path("out/followup.csv"));
    let fh = csv::Reader::from_path(w.path("out/followup.csv"))
        .unwrap()
        .headers()
        .unwrap()
        .clone();
    let comment = fh.iter().position(|h| h == "comment").unwrap();
    let q5 = followups
        .iter()
        .find(|r| &r[1] == "q5")
        .expect("q5 follows up");
    assert_eq!(&q5[comment], "well: rude\nimprove: invoice wrong");

    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(w.path("out/manifest.json")).unwrap())
            .unwrap();
    assert_eq!(
        m["input"]["questions"],
        serde_json::json!(["well", "improve"])
    );
    assert_eq!(m["input"]["text_column"], "well");

    // The same from a config file's list.
    let cfg = w.write(
        "two.toml",
        "[input]\ntext_column = [\"well\", \"improve\"]\n",
    );
    let cfg_arg = cfg.display().to_string();
    let o = w.analyze(
        &input,
        "out2",
        &[
            "--taxonomy",
            tax,
            "--topic-threshold",
            "0.99",
            "--config",
            &cfg_arg,
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    for table in ["fact_answer.csv", "bridge_response_topic.csv"] {
        let rows = |out: &str| -> Vec<Vec<String>> {
            csv_rows(&w.path(&format!("{out}/{table}")))
                .iter()
                .map(|r| r.iter().skip(1).map(str::to_string).collect())
                .collect()
        };
        if table == "fact_answer.csv" {
            assert_eq!(rows("out"), rows("out2"), "{table}");
        } else {
            // The bridge has no run id: compare whole rows.
            let whole = |out: &str| csv_rows(&w.path(&format!("{out}/{table}")));
            assert_eq!(whole("out"), whole("out2"), "{table}");
        }
    }

    // A question column that is not there, or named twice: errors of the
    // input (exit 4, as for the other columns) naming the column and the flag.
    for (second, says) in [("nope", "`nope`"), ("well", "`well`")] {
        let o = w.analyze(
            &input,
            "out3",
            &["--text-column", "well", "--text-column", second],
        );
        assert_eq!(o.status.code(), Some(4), "{}", text(&o));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains(says) && err.contains("--text-column"),
            "{}",
            text(&o)
        );
    }
}

/// The spiking export as support tickets: no score column, and three rows
/// more in the last week: one without a comment, a duplicate id and one
/// with a field too many.
fn tickets() -> String {
    let mut s: String = spiking_export()
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            format!("{},{},{},{}\n", f[0], f[2], f[3], f[4])
        })
        .collect();
    s.push_str("t1,,2026-02-09,ann\nr1,invoice wrong,2026-02-09,bob\nt2,a,b,c,d\n");
    s
}

/// Rows of `path` whose column `name` holds `value`.
fn column<'a>(
    rows: &'a [csv::StringRecord],
    header: &csv::StringRecord,
    name: &str,
) -> Vec<&'a str> {
    let i = header
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("{name}"));
    rows.iter().map(|r| &r[i]).collect()
}

fn header(path: &Path) -> csv::StringRecord {
    csv::Reader::from_path(path)
        .unwrap()
        .headers()
        .unwrap()
        .clone()
}

#[test]
fn an_export_without_a_score_column_is_analysed_for_topics_with_no_score() {
    let w = Work::new();
    let input = w.write("tickets.csv", tickets());
    let tax = w.write(
        "spike.toml",
        common::tiny_words_taxonomy("spike", "other7", "Other 7"),
    );
    let flags = [
        "--taxonomy",
        tax.to_str().unwrap(),
        "--periods",
        "week",
        "--topic-threshold",
        "0.99",
    ];
    // Without the flag: the input error it always was, now naming the way out.
    let o = w.analyze(&input, "out", &flags);
    assert_eq!(o.status.code(), Some(4), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    for part in [
        "tickets.csv",
        "no score column",
        "--score-column",
        "--no-score",
    ] {
        assert!(err.contains(part), "{part}: {err}");
    }
    assert!(!w.path("out").exists());

    // The agents' first names would be left out as personal data without
    // --team-column.
    let o = w.analyze(
        &input,
        "out",
        &[&flags[..], &["--no-score", "--team-column", "agent"]].concat(),
    );
    assert!(o.status.success(), "{}", text(&o));
    let (stdout, stderr) = (
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr),
    );
    let read = tickets().lines().count() - 1;
    assert!(
        stdout.contains(&format!("read {read} = analysed {} + rejected 2", read - 2)),
        "{}",
        text(&o)
    );
    assert!(
        stdout.contains("no score column: NPS and drivers left out"),
        "{stdout}"
    );
    assert!(stdout.contains("Topics (share of the"), "{stdout}");
    assert!(!stdout.contains("Drivers of low scores"), "{stdout}");
    assert!(!stdout.lines().any(|l| l.starts_with("NPS")), "{stdout}");
    assert_eq!(stderr.matches("--no-score").count(), 1, "{stderr}");

    // Every row with its fields is analysed; the other reasons still reject.
    let out = w.path("out");
    let rejects = csv_rows(&out.join("rejects.csv"));
    let reasons: Vec<&str> = rejects.iter().map(|r| &r[3]).collect();
    assert!(
        reasons.len() == 2
            && reasons[0].starts_with("duplicate id")
            && reasons[1].starts_with("expected 4 fields"),
        "{reasons:?}"
    );
    // fact_response keeps its columns; those that follow from a score are null.
    let fact = csv_rows(&out.join("fact_response.csv"));
    let fh = header(&out.join("fact_response.csv"));
    assert_eq!(fact.len(), read - 2);
    for name in [
        "score",
        "bucket",
        "nps_code",
        "is_promoter",
        "is_detractor",
        "sentiment_mismatch",
    ] {
        assert!(
            column(&fact, &fh, name).iter().all(|v| v.is_empty()),
            "{name}"
        );
    }
    let with_comment = column(&fact, &fh, "has_comment")
        .iter()
        .filter(|v| **v == "true")
        .count();
    assert_eq!(with_comment, read - 3);

    // The NPS and driver tables: their columns, no rows, a note why.
    let m = w.manifest("out");
    let left_out = [
        "agg_nps",
        "topic_driver",
        "key_driver",
        "driver_change",
        "segment_driver",
        "followup",
    ];
    for t in m["tables"].as_array().unwrap() {
        let name = t["name"].as_str().unwrap();
        if left_out.contains(&name) {
            assert_eq!(t["rows"], 0, "{name}");
            assert!(
                t["note"].as_str().unwrap_or("").contains("--no-score"),
                "{t}"
            );
            assert!(out.join(format!("{name}.parquet")).is_file(), "{name}");
            let csv = std::fs::read_to_string(out.join(format!("{name}.csv"))).unwrap();
            assert_eq!(csv.lines().count(), 1, "{name}: a header, no rows");
        } else {
            assert!(t.get("note").is_none() || name == "dim_date", "{t}");
        }
    }
    assert_eq!(m["mode"], "topics_only");
    let note = m["mode_note"].as_str().unwrap();
    assert!(
        note.contains("no score column") && left_out.iter().all(|t| note.contains(t)),
        "{note}"
    );
    assert!(m["nps"].is_null(), "{}", m["nps"]);
    for c in ["sentiment_mismatch", "followup_candidates", "followups"] {
        assert!(m["counts"][c].is_null(), "{c}");
    }
    assert!(m["input"]["score_column"].is_null() && m["input"]["scale"].is_null());
    // Segments are read, but no NPS is aggregated over them.
    assert!(!m["input"]["segment_columns"].as_array().unwrap().is_empty());
    assert_eq!(
        m["input"]["aggregated_segment_columns"],
        serde_json::json!([])
    );

    // team_view needs no score: each agent's mentions per response against
    // the other agent's, over every analysed row.
    let team = csv_rows(&out.join("team_view.csv"));
    let th = header(&out.join("team_view.csv"));
    let values: std::collections::BTreeSet<&str> =
        column(&team, &th, "segment_value").into_iter().collect();
    assert_eq!(values, ["ann", "bob"].into_iter().collect(), "{team:?}");
    let num = |r: &csv::StringRecord, name: &str| -> u64 {
        r[th.iter().position(|h| h == name).unwrap()]
            .parse()
            .unwrap()
    };
    for r in &team {
        assert_eq!(num(r, "n") + num(r, "n_rest"), (read - 2) as u64, "{r:?}");
    }
    // ann's mentions and bob's add up to the bridge table's negative and
    // positive mentions (one per response, topic and polarity).
    let bridge = csv_rows(&out.join("bridge_response_topic.csv"));
    let bh = header(&out.join("bridge_response_topic.csv"));
    let polar: std::collections::BTreeSet<(&str, &str, &str)> = column(&bridge, &bh, "response_id")
        .into_iter()
        .zip(column(&bridge, &bh, "topic_id"))
        .zip(column(&bridge, &bh, "polarity"))
        .filter(|(_, p)| *p != "neutral")
        .map(|((r, t), p)| (r, t, p))
        .collect();
    let ann: u64 = team
        .iter()
        .filter(|r| &r[1] == "ann")
        .map(|r| num(r, "mentions"))
        .sum();
    let bob: u64 = team
        .iter()
        .filter(|r| &r[1] == "bob")
        .map(|r| num(r, "mentions"))
        .sum();
    assert_eq!(ann + bob, polar.len() as u64, "{team:?}");
    assert!(m["mode_note"].as_str().unwrap().contains("(team_view)"));

    // agg_topic: each topic over the run, as the bridge table counts it.
    let agg = csv_rows(&out.join("agg_topic.csv"));
    let ah = header(&out.join("agg_topic.csv"));
    let bridge = csv_rows(&out.join("bridge_response_topic.csv"));
    let topics = ["billing", "service"];
    let whole: Vec<&csv::StringRecord> = agg.iter().filter(|r| r[1].is_empty()).collect();
    let k = common::tiny_words_taxonomy("spike", "other7", "Other 7")
        .matches("[[topic]]")
        .count();
    assert_eq!(whole.len(), k, "a whole-run row per topic");
    let at = |r: &csv::StringRecord, name: &str| -> u64 {
        r[ah.iter().position(|h| h == name).unwrap()]
            .parse()
            .unwrap()
    };
    for t in topics {
        let row = whole.iter().find(|r| &r[0] == t).unwrap();
        let responses = |polarity: Option<&str>| {
            let mut ids: Vec<&str> = bridge
                .iter()
                .filter(|b| &b[2] == t && polarity.is_none_or(|p| &b[3] == p))
                .map(|b| &b[0])
                .collect();
            ids.sort();
            ids.dedup();
            ids.len() as u64
        };
        assert!(responses(None) > 0, "{t} is found by the tiny model");
        assert_eq!(at(row, "mentions"), responses(None), "{t}");
        assert_eq!(at(row, "negative"), responses(Some("negative")), "{t}");
        assert_eq!(at(row, "positive"), responses(Some("positive")), "{t}");
        assert_eq!(at(row, "comments"), with_comment as u64, "{t}");
        assert_eq!(at(row, "responses"), fact.len() as u64, "{t}");
    }
    // Per week: every topic in every week, the weeks' responses add up.
    let weeks: Vec<&csv::StringRecord> = agg.iter().filter(|r| &r[1] == "week").collect();
    assert_eq!(weeks.len() % k, 0);
    let week_responses: u64 = weeks.iter().step_by(k).map(|r| at(r, "responses")).sum();
    assert_eq!(week_responses, fact.len() as u64);
    // The trend still has its alert: the last week's spike of billing.
    let alerts = csv_rows(&out.join("alerts.csv"));
    assert!(
        alerts
            .iter()
            .any(|r| &r[2] == "billing" && &r[3] == "share" && &r[4] == "up"),
        "{alerts:?}"
    );
    assert_eq!(m["counts"]["alerts"].as_u64(), Some(alerts.len() as u64));

    // The report: topics, sentiment and trend; no NPS, no drivers, no NaN.
    let report = std::fs::read_to_string(out.join("report.html")).unwrap();
    for part in [
        "No score column: NPS and drivers left out.",
        "Topics over time",
        "id=\"topic-trend-table\"",
        "Topics and sentiment",
        "Alerts: what is unusual",
    ] {
        assert!(report.contains(part), "{part}");
    }
    for part in [
        "Net Promoter Score",
        "What moves NPS",
        "Customers to call back",
    ] {
        assert!(!report.contains(part), "{part}");
    }
    assert_eq!(
        report.matches("NaN").count(),
        report.matches("isNaN").count()
    );
}

#[test]
fn no_score_refuses_the_score_s_flags_and_config_keys_by_name() {
    let w = Work::new();
    let input = w.write("tickets.csv", tickets());
    for flag in [
        ["--score-column", "comment"],
        ["--scale", "1-5"],
        ["--weight-column", "agent"],
    ] {
        let o = w.analyze(&input, "out", &[&flag[..], &["--no-score"]].concat());
        assert_eq!(o.status.code(), Some(2), "{}", text(&o));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("--no-score") && err.contains(flag[0]), "{err}");
    }
    let bad = w.write(
        "bad.toml",
        "[input]\nno_score = true\nscore_column = \"x\"\n",
    );
    let o = w.analyze(&input, "out", &["--config", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("bad.toml") && err.contains("no_score") && err.contains("score_column"),
        "{err}"
    );
    assert!(!w.path("out").exists());
    // The config key alone is the flag; across levels the command line wins.
    let good = w.write("good.toml", "[input]\nno_score = true\n");
    let o = w.analyze(&input, "key", &["--config", good.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(w.manifest("key")["mode"], "topics_only");
    let scored = w.write(
        "scored.toml",
        "[input]\nscore_column = \"x\"\nscale = \"1-5\"\n",
    );
    let o = w.analyze(
        &input,
        "flag",
        &["--config", scored.to_str().unwrap(), "--no-score"],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(w.manifest("flag")["mode"], "topics_only");
}
