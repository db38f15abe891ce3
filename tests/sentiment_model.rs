//! `--sentiment-model`: a fine-tuned sequence-classification folder in each
//! family (BERT, XLM-RoBERTa, DistilBERT), made by the tests with rust-bert
//! and saved under the names `transformers` gives a task model, run by the
//! real binary. The head of each tiny model has a bias that makes one class
//! win for every text, so the tables must report that class for every
//! comment and every clause; bad folders must fail with a message that
//! names the file.

mod common;
#[path = "common/workdir.rs"]
mod workdir;
use workdir::show as text;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::Arch;

fn verbatim() -> Command {
    Command::new(env!("CARGO_BIN_EXE_verbatim"))
}

/// Comments of two clauses ("… but …") and of one.
const EXPORT: &str = "\
id,score,comment
r1,3,invoice wrong but great service
r2,9,great service
r3,2,invoice wrong
r4,8,great service but invoice wrong
r5,6,
r6,10,the agent was friendly
";

/// The shared work folder, with the export and a two-topic taxonomy.
struct Work(workdir::Workdir);

impl Work {
    fn new() -> Work {
        let w = workdir::Workdir::new();
        w.write("export.csv", EXPORT);
        // Two topics whose examples are the clauses themselves (cosine 1).
        w.write(
            "taxonomy.toml",
            common::tiny_words_taxonomy("sentiment-model-test", "agent", "Agent"),
        );
        Work(w)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.path(name)
    }

    fn analyze(&self, out: &str, extra: &[&str]) -> Output {
        let taxonomy = self.path("taxonomy.toml");
        let mut args = vec![
            "--taxonomy",
            taxonomy.to_str().unwrap(),
            "--topic-threshold",
            "0.99",
        ];
        args.extend_from_slice(extra);
        self.0.analyze(&self.path("export.csv"), out, &args)
    }

    fn with_model(&self, out: &str, model: &Path, extra: &[&str]) -> Output {
        let mut args = vec!["--sentiment-model", model.to_str().unwrap()];
        args.extend_from_slice(extra);
        self.analyze(out, &args)
    }
}

/// Rows of a CSV as maps from column name to value.
fn rows(path: &Path) -> Vec<std::collections::HashMap<String, String>> {
    let mut r = csv::Reader::from_path(path).unwrap();
    let headers = r.headers().unwrap().clone();
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            headers
                .iter()
                .zip(rec.iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

fn manifest(w: &Work, out: &str) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(w.path(&format!("{out}/manifest.json"))).unwrap())
        .unwrap()
}

fn sha256(path: &Path) -> String {
    verbatim::model::manifest::sha256_file(path).unwrap()
}

/// Every comment (fact_response) and every clause that mentions a topic
/// (bridge_response_topic) has the polarity `want`; both tables are checked
/// to hold rows, so the check cannot pass on nothing.
fn assert_every_polarity(w: &Work, out: &str, want: &str) {
    let facts = rows(&w.path(&format!("{out}/fact_response.csv")));
    let commented: Vec<_> = facts
        .iter()
        .filter(|r| r["has_comment"] == "true")
        .collect();
    assert_eq!(commented.len(), 5, "{facts:?}");
    for r in &commented {
        assert_eq!(r["sentiment"], want, "{r:?}");
    }
    // The response without a comment has no sentiment.
    let empty = facts.iter().find(|r| r["response_id"] == "r5").unwrap();
    assert_eq!(empty["sentiment"], "", "{empty:?}");
    let bridge = rows(&w.path(&format!("{out}/bridge_response_topic.csv")));
    // r1 and r4 mention billing and service in separate clauses; r2, r3
    // and r6 one topic each.
    assert_eq!(bridge.len(), 7, "{bridge:?}");
    let two_clauses = bridge.iter().filter(|r| r["response_id"] == "r1").count();
    assert_eq!(two_clauses, 2, "{bridge:?}");
    for r in &bridge {
        assert_eq!(r["polarity"], want, "{r:?}");
    }
}

#[test]
fn each_family_reports_the_class_its_head_favours_for_every_comment_and_clause() {
    let w = Work::new();
    let cases: [(Arch, &[&str], &[f32], &str); 3] = [
        (
            Arch::Bert,
            &["negative", "neutral", "positive"],
            &[6.0, 0.0, 0.0],
            "negative",
        ),
        (
            Arch::XlmRoberta,
            &["NEG", "NEU", "POS"],
            &[0.0, 0.0, 6.0],
            "positive",
        ),
        (
            Arch::DistilBert,
            &["bad", "mixed", "good"],
            &[0.0, 6.0, 0.0],
            "neutral",
        ),
    ];
    for (i, (arch, labels, bias, want)) in cases.iter().enumerate() {
        // The head keeps its random weights: the bias wins by a margin.
        let model = w.path(&format!("cls{i}"));
        common::tiny_classifier_folder(&model, *arch, Some(labels), bias, 1.0);
        let out = format!("out{i}");
        let o = w.with_model(&out, &model, &[]);
        assert!(o.status.success(), "{arch:?}: {}", text(&o));
        assert_every_polarity(&w, &out, want);
        for r in rows(&w.path(&format!("{out}/fact_response.csv"))) {
            if r["has_comment"] == "true" {
                let confidence: f64 = r["sentiment_confidence"].parse().unwrap();
                assert!(confidence > 0.9, "{arch:?}: {r:?}");
            }
        }
        let m = manifest(&w, &out);
        let s = &m["sentiment"];
        assert_eq!(s["kind"], "model", "{s}");
        assert_eq!(s["path"], model.display().to_string(), "{s}");
        assert_eq!(s["sha256"], sha256(&model.join("model.safetensors")), "{s}");
        assert_eq!(
            s["config_sha256"],
            sha256(&model.join("config.json")),
            "{s}"
        );
        assert_eq!(s["labels"]["source"], "id2label", "{s}");
        let classes = s["labels"]["classes"].as_array().unwrap();
        let mapped: Vec<(&str, &str)> = classes
            .iter()
            .map(|c| (c["name"].as_str().unwrap(), c["polarity"].as_str().unwrap()))
            .collect();
        let expected: Vec<(&str, &str)> = labels
            .iter()
            .copied()
            .zip(["negative", "neutral", "positive"])
            .collect();
        assert_eq!(mapped, expected, "{s}");
        assert!(s.get("provenance").is_none(), "no head provenance: {s}");
    }
}

#[test]
fn star_labels_are_summed_per_polarity() {
    let w = Work::new();
    let model = w.path("stars");
    // With the head's weights at 0 the probabilities are the softmax of the
    // bias: 1 + 2 stars 0.48 (0.24 each), 3 stars 0.40, 4 + 5 stars 0.12.
    // The single most likely label is "3 stars", but negative wins once the
    // stars are summed.
    common::tiny_classifier_folder(
        &model,
        Arch::DistilBert,
        Some(&["1 star", "2 stars", "3 stars", "4 stars", "5 stars"]),
        &[1.4, 1.4, 1.9, 0.0, 0.0],
        0.0,
    );
    // float32, so that the bias is not rounded to bfloat16 on CPUs that have it.
    let o = w.with_model("out", &model, &["--precision", "f32"]);
    assert!(o.status.success(), "{}", text(&o));
    assert_every_polarity(&w, "out", "negative");
    let facts = rows(&w.path("out/fact_response.csv"));
    let r1 = facts.iter().find(|r| r["response_id"] == "r1").unwrap();
    let (e14, e19) = (1.4f64.exp(), 1.9f64.exp());
    let total = 2.0 * e14 + e19 + 2.0;
    let (neg, pos) = (2.0 * e14 / total, 2.0 / total);
    let score: f64 = r1["sentiment_score"].parse().unwrap();
    let confidence: f64 = r1["sentiment_confidence"].parse().unwrap();
    assert!((score - (pos - neg)).abs() < 1e-4, "{r1:?}");
    assert!((confidence - neg).abs() < 1e-4, "{r1:?}");
    assert_eq!(
        manifest(&w, "out")["sentiment"]["labels"]["source"],
        "stars"
    );
}

#[test]
fn a_two_class_model_is_neutral_when_undecided() {
    let w = Work::new();
    let model = w.path("binary");
    // softmax(0.4, 0) = 0.599 / 0.401: below the 0.7 margin.
    common::tiny_classifier_folder(
        &model,
        Arch::Bert,
        Some(&["NEGATIVE", "POSITIVE"]),
        &[0.4, 0.0],
        0.0,
    );
    let o = w.with_model("out", &model, &[]);
    assert!(o.status.success(), "{}", text(&o));
    assert_every_polarity(&w, "out", "neutral");
    let s = &manifest(&w, "out")["sentiment"];
    assert_eq!(s["labels"]["two_class_neutral_below"], 0.7, "{s}");
}

#[test]
fn generic_label_names_need_sentiment_labels() {
    let w = Work::new();
    let model = w.path("generic");
    common::tiny_classifier_folder(
        &model,
        Arch::XlmRoberta,
        Some(&["LABEL_0", "LABEL_1", "LABEL_2"]),
        &[6.0, 0.0, 0.0],
        1.0,
    );
    let o = w.with_model("out", &model, &[]);
    assert_eq!(o.status.code(), Some(5), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(&model.join("config.json").display().to_string())
            && err.contains("--sentiment-labels neg,neu,pos"),
        "{err}"
    );
    assert!(!w.path("out").exists(), "no outputs after a failed load");
    // Class 0 is the one the bias favours: mapped to positive by the flag.
    let o = w.with_model("out", &model, &["--sentiment-labels", "pos,neu,neg"]);
    assert!(o.status.success(), "{}", text(&o));
    assert_every_polarity(&w, "out", "positive");
    let s = &manifest(&w, "out")["sentiment"]["labels"];
    assert_eq!(s["source"], "flag", "{s}");
    assert_eq!(s["classes"][0]["name"], "LABEL_0", "{s}");
    assert_eq!(s["classes"][0]["polarity"], "positive", "{s}");
    // A value the flag does not know is a usage error.
    let o = w.with_model("out2", &model, &["--sentiment-labels", "pos,meh,neg"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("`meh`"),
        "{}",
        text(&o)
    );
}

#[test]
fn bad_folders_fail_with_the_file_named() {
    let w = Work::new();
    let run = |name: &str| {
        let model = w.path(name);
        let o = w.with_model(&format!("out-{name}"), &model, &[]);
        assert_eq!(o.status.code(), Some(5), "{name}: {}", text(&o));
        (model, String::from_utf8_lossy(&o.stderr).into_owned())
    };
    let config = |m: &Path| m.join("config.json").display().to_string();

    common::tiny_classifier_folder(
        &w.path("no-labels"),
        Arch::Bert,
        None,
        &[1.0, 0.0, 0.0],
        1.0,
    );
    let (m, err) = run("no-labels");
    assert!(
        err.contains(&config(&m)) && err.contains("no `id2label`"),
        "{err}"
    );

    common::tiny_classifier_folder(
        &w.path("emotions"),
        Arch::DistilBert,
        Some(&["anger", "joy", "sadness"]),
        &[1.0, 0.0, 0.0],
        1.0,
    );
    let (m, err) = run("emotions");
    assert!(
        err.contains(&config(&m)) && err.contains("`anger`"),
        "{err}"
    );

    // id2label says two classes, the weights hold a head of three.
    common::tiny_classifier_folder(
        &w.path("shape"),
        Arch::XlmRoberta,
        Some(&["negative", "positive"]),
        &[1.0, 0.0, 0.0],
        1.0,
    );
    let (m, err) = run("shape");
    let weights = m.join("model.safetensors").display().to_string();
    assert!(
        err.contains(&weights)
            && err.contains("classifier.out_proj")
            && err.contains("gives 2 classes"),
        "{err}"
    );

    // A plain encoder has no head.
    common::tiny_model_folder(&w.path("encoder"), Arch::Bert);
    let cfg = w.path("encoder/config.json");
    let mut c: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&cfg).unwrap()).unwrap();
    c["id2label"] = serde_json::json!({"0": "negative", "1": "positive"});
    std::fs::write(&cfg, c.to_string()).unwrap();
    let (m, err) = run("encoder");
    assert!(
        err.contains(&m.join("model.safetensors").display().to_string())
            && err.contains("no classification head"),
        "{err}"
    );

    // A folder that is not there.
    let (m, err) = run("missing");
    assert!(err.contains(&m.display().to_string()), "{err}");

    // Every failed run left no output folder behind.
    for name in ["no-labels", "emotions", "shape", "encoder", "missing"] {
        assert!(!w.path(&format!("out-{name}")).exists(), "{name}");
    }
}

#[test]
fn sentiment_flags_are_checked_by_the_parser() {
    let w = Work::new();
    // --sentiment-labels alone, and with --sentiment-head, are usage errors.
    let o = w.analyze("out", &["--sentiment-labels", "neg,pos"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let o = w.analyze(
        "out",
        &["--sentiment-model", "m", "--sentiment-head", "h.json"],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("cannot be used with"),
        "{}",
        text(&o)
    );
}

#[test]
fn eval_sentiment_scores_the_model_next_to_the_head() {
    let w = Work::new();
    let model = w.path("cls");
    common::tiny_classifier_folder(
        &model,
        Arch::Bert,
        Some(&["negative", "neutral", "positive"]),
        &[0.0, 0.0, 6.0],
        1.0,
    );
    std::fs::write(
        w.path("labelled.csv"),
        "text,label\ngreat service,positive\nthe agent was friendly,positive\ninvoice wrong,negative\nok,neutral\n\
         \"friendly agent, but I waited an hour\",mixed\nn/a,neutral\n",
    )
    .unwrap();
    let o = verbatim()
        .args(["eval", "sentiment", "--data"])
        .arg(w.path("labelled.csv"))
        .arg("--model")
        .arg(w.path("model"))
        .arg("--sentiment-model")
        .arg(&model)
        .arg("--out")
        .arg(w.path("eval"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    // The model says positive for all four rows: two of them are right.
    let line = stdout
        .lines()
        .find(|l| l.starts_with("model "))
        .unwrap_or_else(|| panic!("{}", text(&o)));
    assert!(line.contains("n      4  accuracy 0.500"), "{line}");
    assert!(stdout.contains("model − head: macro-F1"), "{}", text(&o));
    assert!(
        stdout.lines().any(|l| l.starts_with("head ")),
        "{}",
        text(&o)
    );
    let confusion = std::fs::read_to_string(w.path("eval/confusion_model.csv")).unwrap();
    let summary = rows(&w.path("eval/eval_summary.csv"));
    let pos = summary
        .iter()
        .find(|r| r["method"] == "model" && r["class"] == "positive")
        .unwrap_or_else(|| panic!("{summary:?}\n{confusion}"));
    assert_eq!(pos["precision"], "0.5000", "{pos:?}");
    assert_eq!(pos["recall"], "1.0000", "{pos:?}");
    // The mixed row is left out of the three classes and scores the mixed
    // flag: the model calls both clauses positive, so it flags nothing.
    assert!(
        stdout.contains("4 rows scored, 1 labelled mixed"),
        "{}",
        text(&o)
    );
    // A placeholder is no comment to `analyze`, so it is not scored either.
    assert!(
        stdout.contains("1 without text or label or only a placeholder"),
        "{}",
        text(&o)
    );
    let mixed = rows(&w.path("eval/eval_mixed.csv"));
    let m = mixed
        .iter()
        .find(|r| r["method"] == "model")
        .unwrap_or_else(|| panic!("{mixed:?}"));
    assert_eq!(
        (
            &*m["rows"],
            &*m["gold_mixed"],
            &*m["flagged"],
            &*m["recall"],
            &*m["f1"]
        ),
        ("5", "1", "0", "0.0000", "0.0000"),
        "{m:?}"
    );
    assert!(mixed.iter().any(|r| r["method"] == "head"), "{mixed:?}");
}
