//! A run split in two stages (`--part K/N`, then `--from-parts DIR`) writes
//! the tables of a single `analyze`, value for value, for N = 1, 3 and 7 on
//! the example export; and the statistics stage refuses parts that do not
//! make one set, naming what is wrong. On the tiny model made by the tests
//! (tests/common): the equality does not depend on the model.

mod common;
#[path = "common/workdir.rs"]
mod workdir;
use workdir::show as text;

use std::path::{Path, PathBuf};
use std::process::Output;

use workdir::Workdir;

fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/data/responses.csv")
}

/// The example's records (quoted fields may hold line breaks), header
/// first.
fn records() -> (csv::StringRecord, Vec<csv::StringRecord>) {
    let mut r = csv::Reader::from_path(example()).unwrap();
    let header = r.headers().unwrap().clone();
    (header, r.records().map(|x| x.unwrap()).collect())
}

/// Writes rows `range` of the example, with its header, as `name`.
fn partition(w: &Workdir, name: &str, rows: &[csv::StringRecord]) -> PathBuf {
    let (header, _) = records();
    let path = w.path(name);
    let mut out = csv::Writer::from_path(&path).unwrap();
    out.write_record(&header).unwrap();
    for r in rows {
        out.write_record(r).unwrap();
    }
    out.flush().unwrap();
    path
}

/// Splits the example into `n` partitions and runs the per-comment stage on
/// each into `dir`.
fn make_parts(w: &Workdir, n: usize, dir: &str, extra: &[&str]) {
    let (_, rows) = records();
    for k in 0..n {
        let part = &rows[k * rows.len() / n..(k + 1) * rows.len() / n];
        let input = partition(w, &format!("{dir}-{}.csv", k + 1), part);
        let spec = format!("{}/{n}", k + 1);
        let mut args = vec!["--part", spec.as_str()];
        args.extend_from_slice(extra);
        let o = w.analyze(&input, dir, &args);
        assert!(o.status.success(), "part {spec}: {}", text(&o));
        let stdout = String::from_utf8_lossy(&o.stdout);
        assert!(
            stdout.contains(&format!("part {} of {n}", k + 1)),
            "{}",
            text(&o)
        );
    }
}

/// The output folder's files with what differs between two runs of the same
/// export taken out: the run id, the clock and the timings.
fn comparable(dir: &Path) -> Vec<(String, String)> {
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap();
    let run_id = manifest["run_id"].as_str().unwrap().to_string();
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.extension()
                .is_some_and(|e| e == "csv" || e == "html" || e == "sql")
        })
        .collect();
    files.sort();
    let volatile = [
        "started_at",
        "finished_at",
        "Run: ",
        "texts_embedded",
        "texts_from_cache",
        "embed_seconds",
        "texts_per_second",
        "total_seconds",
        "comments_per_second",
        "&quot;parts&quot;",
    ];
    let mut out: Vec<(String, String)> = files
        .iter()
        .map(|p| {
            let body = std::fs::read_to_string(p).unwrap().replace(&run_id, "RUN");
            let kept: Vec<&str> = body
                .lines()
                .filter(|l| !volatile.iter().any(|v| l.contains(v)))
                .collect();
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                kept.join("\n"),
            )
        })
        .collect();
    let mut m = manifest;
    for key in ["run_id", "started_at", "finished_at", "timings", "parts"] {
        m.as_object_mut().unwrap().remove(key);
    }
    out.push(("manifest.json".into(), m.to_string()));
    out
}

#[test]
fn a_split_run_writes_the_tables_of_a_single_run() {
    let w = Workdir::new();
    let o = w.analyze(&example(), "whole", &[]);
    assert!(o.status.success(), "{}", text(&o));
    let whole = comparable(&w.path("whole"));
    assert!(whole.iter().any(|(f, _)| f == "fact_response.csv"));
    assert!(whole.iter().any(|(f, _)| f == "report.html"));
    for n in [1, 3, 7] {
        let parts = format!("parts{n}");
        make_parts(&w, n, &parts, &[]);
        let out = format!("split{n}");
        let parts_dir = w.path(&parts);
        let o = w.analyze(
            &example(),
            &out,
            &["--from-parts", parts_dir.to_str().unwrap()],
        );
        assert!(o.status.success(), "N = {n}: {}", text(&o));
        let split = comparable(&w.path(&out));
        assert_eq!(
            split.iter().map(|f| &f.0).collect::<Vec<_>>(),
            whole.iter().map(|f| &f.0).collect::<Vec<_>>(),
            "N = {n}"
        );
        for ((file, a), (_, b)) in whole.iter().zip(&split) {
            assert!(a == b, "N = {n}: {file} differs from the single run's");
        }
        // The manifest accounts for every part and its rows.
        let m: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(w.path(&out).join("manifest.json")).unwrap(),
        )
        .unwrap();
        let p = &m["parts"];
        assert_eq!(p["count"], n, "{p}");
        assert_eq!(p["parts"].as_array().unwrap().len(), n);
        assert_eq!(p["read"], m["counts"]["read"]);
        let read: u64 = p["parts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["read"].as_u64().unwrap())
            .sum();
        assert_eq!(read, m["counts"]["read"].as_u64().unwrap());
        assert!(p["parts"][0]["sha256"].as_str().unwrap().len() == 64);
    }
}

/// Runs the statistics stage on `dir` and returns its failure.
fn refused(w: &Workdir, dir: &str) -> String {
    let d = w.path(dir);
    let o = w.analyze(
        &example(),
        "refused",
        &["--from-parts", d.to_str().unwrap()],
    );
    assert!(!o.status.success(), "{}", text(&o));
    assert!(
        !w.path("refused").exists(),
        "a refused run wrote its outputs"
    );
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn parts_that_do_not_make_one_set_are_refused_by_name() {
    let w = Workdir::new();
    make_parts(&w, 3, "p", &[]);
    let p = w.path("p");
    let copy = |from: &str, to: &str| {
        std::fs::copy(p.join(from), p.join(to)).unwrap();
    };

    // A part present twice.
    copy("part-00002-of-00003.json", "part-00002-of-00003-again.json");
    let err = refused(&w, "p");
    assert!(
        err.contains("part 2 of 3 is there twice") && err.contains("-again.json"),
        "{err}"
    );
    std::fs::remove_file(p.join("part-00002-of-00003-again.json")).unwrap();

    // A part missing.
    let saved = std::fs::read(p.join("part-00003-of-00003.json")).unwrap();
    std::fs::remove_file(p.join("part-00003-of-00003.json")).unwrap();
    let err = refused(&w, "p");
    assert!(err.contains("part 3 of 3 missing"), "{err}");
    std::fs::write(p.join("part-00003-of-00003.json"), &saved).unwrap();

    // An analyses file that is not the one its manifest was written with.
    let jsonl = p.join("part-00001-of-00003.jsonl");
    let good = std::fs::read(&jsonl).unwrap();
    let mut bad = good.clone();
    bad.extend_from_slice(b"\n");
    std::fs::write(&jsonl, bad).unwrap();
    let err = refused(&w, "p");
    assert!(
        err.contains("part-00001-of-00003.jsonl is not the file"),
        "{err}"
    );
    std::fs::write(&jsonl, good).unwrap();

    // The statistics with another setting than the parts.
    let d = w.path("p");
    let o = w.analyze(
        &example(),
        "other",
        &[
            "--from-parts",
            d.to_str().unwrap(),
            "--topic-threshold",
            "0.5",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("part-00001-of-00003.json was made with another"),
        "{err}"
    );

    // Parts of another export: an answer no part analysed, by the export's
    // file name and its line, as the reader's errors name them.
    let (_, rows) = records();
    let other = partition(&w, "other.csv", &rows[..10]);
    let o = w.analyze(&other, "q", &["--part", "1/1"]);
    assert!(o.status.success(), "{}", text(&o));
    let err = refused(&w, "q");
    let (header, _) = records();
    let comment = header.iter().position(|h| h == "comment").unwrap();
    let first = rows[10..]
        .iter()
        .find(|r| !r[comment].trim().is_empty())
        .unwrap();
    let line = first.position().unwrap().line();
    assert!(
        err.contains(&format!("`{}` line {line}: ", example().display()))
            && err.contains("no part analysed this answer"),
        "{err}"
    );

    // Parts whose rows do not add up to the export's (rows in two parts).
    let (_, rows) = records();
    let n = rows.len();
    for (k, part) in [&rows[..n / 2 + 5], &rows[n / 2..]].into_iter().enumerate() {
        let input = partition(&w, &format!("twice-{k}.csv"), part);
        let spec = format!("{}/2", k + 1);
        let o = w.analyze(&input, "twice", &["--part", &spec]);
        assert!(o.status.success(), "{}", text(&o));
    }
    let err = refused(&w, "twice");
    assert!(
        err.contains(&format!("the parts read {} rows", n + 5))
            && err.contains(&format!("the export has {n}")),
        "{err}"
    );

    // An empty partition (a scheduler's empty task) is a part with no rows.
    let empty = partition(&w, "empty.csv", &[]);
    let o = w.analyze(&empty, "e", &["--part", "2/2"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("read 0 = analysed 0 + rejected 0"),
        "{}",
        text(&o)
    );

    // --part and --from-parts together, and a bad K/N, are usage errors.
    let o = w.analyze(&example(), "x", &["--part", "4/3"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let o = w.analyze(
        &example(),
        "x",
        &["--part", "1/3", "--from-parts", d.to_str().unwrap()],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}

/// `analyze --part-worker`, its requests written to its standard input at
/// once; the answers, one JSON object per line.
fn part_worker(w: &Workdir, out: &str, requests: &[String]) -> (Output, Vec<serde_json::Value>) {
    use std::io::Write;
    let mut c = w.verbatim();
    c.arg("analyze")
        .arg("--part-worker")
        .arg("--out")
        .arg(w.path(out))
        .arg("--model")
        .arg(w.path("model"))
        .args(["--quiet", "--min-n", "2"])
        .stdin(std::process::Stdio::piped());
    let mut child = c.spawn().expect("run verbatim");
    let mut stdin = child.stdin.take().unwrap();
    for r in requests {
        writeln!(stdin, "{r}").unwrap();
    }
    drop(stdin);
    let o = child.wait_with_output().unwrap();
    let answers = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}\n{}", text(&o))))
        .collect();
    (o, answers)
}

#[test]
fn a_part_worker_writes_the_parts_of_one_shot_runs_and_goes_on_after_a_bad_request() {
    let w = Workdir::new();
    let n = 3;
    make_parts(&w, n, "oneshot", &[]);
    let input = |k: usize| w.path(&format!("oneshot-{k}.csv"));
    let request =
        |path: &Path, part: &str| serde_json::json!({"input": path, "part": part}).to_string();
    let missing = w.path("missing.csv");
    let requests = vec![
        request(&input(1), "1/3"),
        request(&missing, "2/3"),
        "not a request".to_string(),
        request(Path::new("-"), "2/3"),
        request(&input(2), "2/3"),
        request(&input(3), "3/3"),
    ];
    let (o, answers) = part_worker(&w, "worker", &requests);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(answers.len(), requests.len(), "{}", text(&o));

    // One process, one model load, served every request in turn.
    let pid = answers[0]["worker"]["pid"].as_u64().unwrap();
    for (i, a) in answers.iter().enumerate() {
        assert_eq!(a["worker"]["pid"].as_u64(), Some(pid), "{a}");
        assert_eq!(a["worker"]["requests"].as_u64(), Some(i as u64 + 1), "{a}");
    }
    let parts_written: Vec<u64> = answers
        .iter()
        .map(|a| a["worker"]["parts"].as_u64().unwrap())
        .collect();
    assert_eq!(parts_written, [1, 1, 1, 1, 2, 3]);

    // The missing file: an input error, named; the line that is no
    // request, and standard input as the partition: usage errors. None
    // stops the worker.
    let bad = &answers[1];
    assert_eq!(bad["ok"], false, "{bad}");
    assert_eq!(bad["exit_code"], 4, "{bad}");
    assert_eq!(bad["exit"], "input", "{bad}");
    assert_eq!(bad["part"], "2/3", "{bad}");
    assert!(
        bad["error"].as_str().unwrap().contains("missing.csv"),
        "{bad}"
    );
    let garbled = &answers[2];
    assert_eq!(garbled["ok"], false, "{garbled}");
    assert_eq!(garbled["exit_code"], 2, "{garbled}");
    assert!(
        garbled["error"].as_str().unwrap().contains("request 3"),
        "{garbled}"
    );
    let dash = &answers[3];
    assert_eq!(
        (&dash["ok"], &dash["exit"]),
        (&false.into(), &"usage".into()),
        "{dash}"
    );
    for (a, k) in [(&answers[0], 1), (&answers[4], 2), (&answers[5], 3)] {
        assert_eq!(a["ok"], true, "{a}");
        assert_eq!(a["part"], format!("{k}/3"), "{a}");
        assert!(a["read"].as_u64().unwrap() > 0, "{a}");
        assert!(
            a["manifest"]
                .as_str()
                .unwrap()
                .ends_with(&format!("part-0000{k}-of-00003.json")),
            "{a}"
        );
    }

    // The worker's files are those of the one-shot runs, byte for byte
    // (the manifests too: they name the same partition files).
    let listing = |dir: &str| {
        let mut v: Vec<String> = std::fs::read_dir(w.path(dir))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    let files = listing("oneshot");
    assert_eq!(files.len(), 2 * n, "{files:?}");
    assert_eq!(listing("worker"), files);
    for f in &files {
        let a = std::fs::read(w.path("oneshot").join(f)).unwrap();
        let b = std::fs::read(w.path("worker").join(f)).unwrap();
        assert!(
            a == b,
            "{f} differs between the worker and the one-shot run"
        );
    }

    // The statistics over the worker's parts are those of a single run.
    let o = w.analyze(&example(), "whole", &[]);
    assert!(o.status.success(), "{}", text(&o));
    let parts = w.path("worker");
    let o = w.analyze(
        &example(),
        "split",
        &["--from-parts", parts.to_str().unwrap()],
    );
    assert!(o.status.success(), "{}", text(&o));
    let (whole, split) = (comparable(&w.path("whole")), comparable(&w.path("split")));
    assert_eq!(whole.len(), split.len());
    for ((file, a), (_, b)) in whole.iter().zip(&split) {
        assert!(a == b, "{file} differs from the single run's");
    }
}

#[test]
fn a_part_worker_takes_no_input_of_its_own_and_exits_0_on_no_request() {
    let w = Workdir::new();
    // An export, or --part, beside --part-worker is a usage error.
    let o = w.analyze(&example(), "x", &["--part-worker"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    // No request: the models load, nothing is written, exit 0.
    let (o, answers) = part_worker(&w, "none", &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(answers.is_empty(), "{}", text(&o));
    assert!(!w.path("none").exists(), "{}", text(&o));
}

#[test]
fn a_split_run_without_scores_writes_the_tables_of_a_single_run() {
    let w = Workdir::new();
    let o = w.analyze(&example(), "whole", &["--no-score"]);
    assert!(o.status.success(), "{}", text(&o));
    let whole = comparable(&w.path("whole"));
    make_parts(&w, 3, "parts", &["--no-score"]);
    let parts = w.path("parts");
    let parts = parts.to_str().unwrap();
    let o = w.analyze(&example(), "split", &["--from-parts", parts, "--no-score"]);
    assert!(o.status.success(), "{}", text(&o));
    let split = comparable(&w.path("split"));
    assert_eq!(
        split.iter().map(|f| &f.0).collect::<Vec<_>>(),
        whole.iter().map(|f| &f.0).collect::<Vec<_>>()
    );
    for ((file, a), (_, b)) in whole.iter().zip(&split) {
        assert!(a == b, "{file} differs from the single run's");
    }
    assert_eq!(w.manifest("split")["mode"], "topics_only");

    // Parts made with scores left out the rows a run without scores
    // analyses: refused by name. Parts made without scores hold every
    // answer a run with scores needs.
    make_parts(&w, 2, "scored", &[]);
    let scored = w.path("scored");
    let o = w.analyze(
        &example(),
        "refused",
        &["--from-parts", scored.to_str().unwrap(), "--no-score"],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("part-00001-of-00002.json was made with scores") && err.contains("--no-score"),
        "{err}"
    );
    let o = w.analyze(&example(), "nps", &["--from-parts", parts]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(w.manifest("nps")["mode"], "nps");
}
