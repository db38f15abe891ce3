//! A run split in two stages (`--part K/N`, then `--from-parts DIR`) writes
//! the tables of a single `analyze`, value for value, for N = 1, 3 and 7 on
//! the example export; and the statistics stage refuses parts that do not
//! make one set, naming what is wrong. On the tiny model made by the tests
//! (tests/common): the equality does not depend on the model.

mod common;
#[path = "common/workdir.rs"]
mod workdir;

use std::path::{Path, PathBuf};
use std::process::Output;

use workdir::Workdir;

fn text(o: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

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

    // Parts of another export: an answer no part analysed, by its line.
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
        err.contains(&format!("line {line}:")) && err.contains("no part analysed this answer"),
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
