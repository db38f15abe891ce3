//! Topics as an analyst relies on them: the shipped taxonomies are valid and
//! keep their ids, keyword rules decide what the encoder cannot, and every
//! comment gets its language in `fact_response`.
//!
//! The classifier tests use the bag-of-words [`HashEncoder`], whose cosines
//! can be worked out by hand: a clause of four words sharing two with a
//! two-word example has cosine 2 / (2 · √2) = 0.707.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{hash_classifier, HashEncoder};
use verbatim::classify::{Classifier, Taxonomy};
use verbatim::input::{InputOptions, Reject, ResponseStream};
use verbatim::model::Encoder;
use verbatim::output::table::ColumnData;
use verbatim::pipeline::{run_pass, PassModels, PassSettings, PassSink};
use verbatim::stats::response::AnalyzedResponse;

/// The ids of contact-center 1.0.0: dashboards are built on them.
const CONTACT_CENTER_1X_IDS: [&str; 15] = [
    "reachability",
    "wait_time",
    "agent_friendliness",
    "agent_competence",
    "resolution",
    "transfers",
    "callback",
    "information_clarity",
    "self_service",
    "billing",
    "price",
    "product_quality",
    "contract_cancellation",
    "delivery",
    "processing_time",
];

const SURVEY_LANGUAGES: [&str; 5] = ["de", "nl", "en", "fr", "es"];

fn shipped_taxonomies() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/taxonomy");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_shipped_taxonomy_passes_the_check_with_no_warning() {
    let files = shipped_taxonomies();
    let names: Vec<String> = files
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert!(
        names.contains(&"contact-center.toml".to_string())
            && names.contains(&"employee.toml".to_string()),
        "{names:?}"
    );
    for file in &files {
        let tax = Taxonomy::from_file(file).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            tax.warnings().is_empty(),
            "{}: {:#?}",
            file.display(),
            tax.warnings()
        );
        for t in &tax.topics {
            for lang in SURVEY_LANGUAGES {
                assert!(
                    t.label.contains_key(lang),
                    "{} {}: no {lang} label",
                    file.display(),
                    t.id
                );
                let n = t.examples.get(lang).map_or(0, Vec::len);
                assert!(
                    n >= 6,
                    "{} {}: {n} {lang} examples, want 6",
                    file.display(),
                    t.id
                );
            }
        }
        // And through the command a person runs.
        let out = Command::new(env!("CARGO_BIN_EXE_verbatim"))
            .args(["taxonomy", "check"])
            .arg(file)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            stdout.contains(": valid\n") && !stdout.contains("warnings:"),
            "{stdout}"
        );
    }
}

#[test]
fn contact_center_keeps_every_1x_id_and_gains_a_hierarchy() {
    let tax = Taxonomy::default_contact_center();
    assert!(tax.version.starts_with("2."), "{}", tax.version);
    for id in CONTACT_CENTER_1X_IDS {
        assert!(tax.index_of(id).is_some(), "1.x id `{id}` is gone");
    }
    for id in [
        "agent", "ivr", "chatbot", "app", "website", "fees", "outages",
    ] {
        assert!(tax.index_of(id).is_some(), "{id}");
    }
    let parent = |id: &str| tax.topics[tax.index_of(id).unwrap()].parent.clone();
    assert_eq!(parent("wait_time").as_deref(), Some("reachability"));
    assert_eq!(parent("chatbot").as_deref(), Some("self_service"));
    assert_eq!(parent("fees").as_deref(), Some("price"));
    assert_eq!(parent("outages").as_deref(), Some("product_quality"));
    assert_eq!(parent("agent_friendliness").as_deref(), Some("agent"));
}

#[test]
fn employee_taxonomy_has_the_five_elements_as_parents() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/taxonomy/employee.toml");
    let tax = Taxonomy::from_file(&path).unwrap();
    let top: Vec<&str> = tax
        .topics
        .iter()
        .filter(|t| t.parent.is_none())
        .map(|t| t.id.as_str())
        .collect();
    assert_eq!(
        top,
        [
            "pride",
            "influencers",
            "behaviour",
            "value_drivers",
            "results"
        ]
    );
    for element in &top {
        let children = tax
            .topics
            .iter()
            .filter(|t| t.parent.as_deref() == Some(element))
            .count();
        assert!(children >= 2, "{element} has {children} sub-topics");
    }
}

#[test]
fn an_invalid_taxonomy_exits_2_and_names_file_line_topic_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "name = \"bad\"\nversion = \"1.0.0\"\n[[topic]]\nid = \"fees\"\nparent = \"price\"\nlabel = { en = \"Fees\" }\nexamples.en = [\"fee\"]\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_verbatim"))
        .args(["taxonomy", "check"])
        .arg(&bad)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    let want = format!(
        "{}:5:10: topic `fees`, field `parent`: `price` is not a topic id of this file",
        bad.display()
    );
    assert!(stderr.contains(&want), "{stderr}");
    // A file that cannot be read is an error (1), not an invalid taxonomy.
    let out = Command::new(env!("CARGO_BIN_EXE_verbatim"))
        .args(["taxonomy", "check"])
        .arg(dir.path().join("missing.toml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
}

fn classifier(taxonomy: &str) -> (Classifier, Taxonomy) {
    hash_classifier(taxonomy, 4096)
}

/// Topic ids found in a one-clause comment.
fn topics(
    c: &Classifier,
    tax: &Taxonomy,
    comment: &str,
    language: Option<&'static str>,
) -> Vec<String> {
    let v = HashEncoder { dim: 4096 }
        .embed(&[comment])
        .unwrap()
        .remove(0);
    let s = c.sentiments(&[comment], std::slice::from_ref(&v)).unwrap();
    let a = c.analyse(
        s[0],
        vec![comment.to_string()],
        std::slice::from_ref(&v),
        s,
        language,
    );
    assert_eq!(a.language, language);
    a.topics
        .iter()
        .map(|h| tax.topics[h.topic].id.clone())
        .collect()
}

/// Two topics with the same example, three unrelated ones (they keep the
/// mean cosine low, as a real taxonomy's many topics do).
fn two_close_topics(app_rules: &str, outage_rules: &str) -> String {
    format!(
        r#"
name = "t"
version = "1"
[[topic]]
id = "app"
label = {{ en = "App" }}
examples.en = ["keeps crashing"]
{app_rules}
[[topic]]
id = "outage"
label = {{ en = "Outage" }}
examples.en = ["keeps crashing"]
{outage_rules}
[[topic]]
id = "billing"
label = {{ en = "Billing" }}
examples.en = ["invoice wrong"]
[[topic]]
id = "price"
label = {{ en = "Price" }}
examples.en = ["price too high"]
[[topic]]
id = "agent"
label = {{ en = "Agent" }}
examples.en = ["friendly agent"]
"#
    )
}

#[test]
fn keywords_decide_between_topics_the_encoder_cannot_tell_apart() {
    // Without keywords both topics match both comments (cosine 0.707 each).
    let (c, tax) = classifier(&two_close_topics("", ""));
    assert_eq!(
        topics(&c, &tax, "the app keeps crashing", Some("en")),
        ["app", "outage"]
    );
    assert_eq!(
        topics(&c, &tax, "the router keeps crashing", Some("en")),
        ["app", "outage"]
    );

    let (c, tax) = classifier(&two_close_topics(
        "keywords.en.must = [\"app\"]",
        "keywords.en.exclude = [\"App\"]",
    ));
    // `exclude` removes outage where the app is named; `must` removes app
    // where it is not.
    assert_eq!(
        topics(&c, &tax, "the app keeps crashing", Some("en")),
        ["app"]
    );
    assert_eq!(
        topics(&c, &tax, "the router keeps crashing", Some("en")),
        ["outage"]
    );
    // Unknown language: the `must` words of every language apply.
    assert_eq!(
        topics(&c, &tax, "the router keeps crashing", None),
        ["outage"]
    );
    // A language without `must` words for the topic is not held to English ones.
    assert_eq!(
        topics(&c, &tax, "the router keeps crashing", Some("it")),
        ["app", "outage"]
    );
}

#[test]
fn a_barred_topic_does_not_crowd_out_the_next_best() {
    // "router keeps crashing daily" is identical to app's example (cosine 1)
    // and 0.707 from outage's: outside the 0.1 margin of the best topic.
    let app_example = "examples.en = [\"router keeps crashing daily\"]";
    let taxonomy = |rules: &str| {
        two_close_topics(rules, "").replacen("examples.en = [\"keeps crashing\"]", app_example, 1)
    };
    let (c, tax) = classifier(&taxonomy(""));
    assert_eq!(
        topics(&c, &tax, "router keeps crashing daily", None),
        ["app"]
    );
    // Once app is barred by its keywords, outage is the clause's best topic.
    let (c, tax) = classifier(&taxonomy("keywords.en.must = [\"app\"]"));
    assert_eq!(
        topics(&c, &tax, "router keeps crashing daily", None),
        ["outage"]
    );
}

#[derive(Default)]
struct Collect(Vec<AnalyzedResponse>);

impl PassSink for Collect {
    fn responses(&mut self, chunk: &[AnalyzedResponse]) -> anyhow::Result<()> {
        self.0.extend_from_slice(chunk);
        Ok(())
    }
    fn reject(&mut self, _: &Reject) -> anyhow::Result<()> {
        Ok(())
    }
}

#[test]
fn fact_response_gets_the_language_of_each_comment() {
    let csv = "id,score,comment\n\
r1,9,Die Mitarbeiterin war sehr freundlich und hat mir schnell geholfen\n\
r2,3,De wachttijd was veel te lang en niemand nam op\n\
r3,10,The agent was very friendly and solved my problem\n\
r4,6,La facture est encore fausse et personne ne répond\n\
r5,8,Me resolvieron el problema enseguida por teléfono\n\
r6,7,ok\n\
r7,5,\n";
    let stream = ResponseStream::from_reader(
        std::io::Cursor::new(csv.as_bytes().to_vec()),
        "lang.csv",
        &InputOptions::default(),
    )
    .unwrap();
    let segment_columns = stream.segment_columns().to_vec();
    let (c, tax) = classifier(&two_close_topics("", ""));
    let ids: Vec<String> = tax.topics.iter().map(|t| t.id.clone()).collect();
    let mut sink = Collect::default();
    run_pass(
        stream,
        &segment_columns,
        PassModels {
            encoder: &HashEncoder { dim: 4096 },
            classifier: &c,
            precomputed: None,
        },
        &ids,
        &PassSettings::default(),
        &mut sink,
        &mut |_| {},
    )
    .unwrap();
    let table = verbatim::output::tables::fact_response(&sink.0, &segment_columns, None, "run");
    let column = table.columns.iter().find(|c| c.name == "language").unwrap();
    let ColumnData::Utf8(values) = &column.data else {
        panic!("language is not a text column")
    };
    let values: Vec<Option<&str>> = values.iter().map(Option::as_deref).collect();
    // "ok" is too short to tell; r7 has no comment.
    assert_eq!(
        values,
        [
            Some("de"),
            Some("nl"),
            Some("en"),
            Some("fr"),
            Some("es"),
            None,
            None
        ]
    );
}

/// Counts the calls and texts an encoder is asked for.
struct CountingEncoder {
    inner: HashEncoder,
    calls: std::cell::Cell<usize>,
}

impl Encoder for CountingEncoder {
    fn name(&self) -> String {
        "counting".into()
    }
    fn dim(&self) -> usize {
        self.inner.dim()
    }
    fn embed(&self, texts: &[&str]) -> anyhow::Result<Vec<Vec<f32>>> {
        self.calls.set(self.calls.get() + 1);
        self.inner.embed(texts)
    }
}

#[test]
fn a_ten_thousand_topic_taxonomy_is_embedded_in_a_few_encoder_calls() {
    // One encoder call per topic made a 10,000-topic taxonomy run 10,000
    // forward passes of two phrases each before the first row was read
    // (minutes with the real model, 10 s with the tiny one).
    let mut text = String::from("name = \"big\"\nversion = \"1.0.0\"\n");
    for i in 0..10_000 {
        text.push_str(&format!(
            "[[topic]]\nid = \"t{i}\"\nlabel = {{ en = \"T{i}\" }}\n\
             examples.en = [\"alpha{i} beta{i}\", \"gamma{i}\"]\n"
        ));
    }
    let taxonomy = Taxonomy::parse(&text, "big.toml").expect("the taxonomy parses");
    let encoder = CountingEncoder {
        inner: HashEncoder { dim: 256 },
        calls: std::cell::Cell::new(0),
    };
    let classifier = Classifier::build(
        &encoder,
        verbatim::classify::SentimentModel::Prototypes(common::test_prototypes()),
        &taxonomy,
        verbatim::classify::ClassifierSettings::default(),
    )
    .expect("the classifier builds");
    let calls = encoder.calls.get();
    assert!(
        calls <= 10,
        "{calls} encoder calls for 20,000 example phrases"
    );
    // The vectors stay with their topics: each topic's cosine is the best
    // of its own phrases' (worked out here phrase by phrase).
    let model = classifier.topic_model();
    assert_eq!(model.len(), 10_000);
    let cos = |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f32>();
    for i in [0usize, 1, 4095, 4096, 9_999] {
        let v = encoder
            .inner
            .embed(&[&format!("alpha{i} gamma{i}")])
            .expect("embed");
        let sims = model.similarities(&v[0]);
        for (k, t) in taxonomy.topics.iter().enumerate() {
            let phrases: Vec<&str> = t.all_examples().collect();
            let want = encoder
                .inner
                .embed(&phrases)
                .expect("embed")
                .iter()
                .map(|e| cos(&v[0], e))
                .fold(f32::NEG_INFINITY, f32::max);
            assert!(
                (sims[k] - want).abs() < 1e-4,
                "probe {i}, topic {k}: {} vs {want}",
                sims[k]
            );
        }
    }
}

/// `verbatim taxonomy check FILE`.
fn taxonomy_check(file: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_verbatim"))
        .args(["taxonomy", "check"])
        .arg(file)
        .output()
        .expect("run verbatim")
}

/// A chain of `n` topics, `t0` the root and each `tK` the parent of `tK+1`.
fn chain(n: usize) -> String {
    let mut text = String::from("name = \"deep\"\nversion = \"1.0.0\"\n");
    for i in 0..n {
        let parent = if i > 0 {
            format!("parent = \"t{}\"\n", i - 1)
        } else {
            String::new()
        };
        text.push_str(&format!(
            "[[topic]]\nid = \"t{i}\"\n{parent}label = {{ en = \"T{i}\" }}\nexamples.en = [\"x\"]\n"
        ));
    }
    text
}

#[test]
fn a_parent_chain_deeper_than_32_levels_is_refused_naming_its_topic() {
    // The tree of `taxonomy check` indented each topic by its level and
    // padded every line to the deepest one: a 30,000-deep chain printed
    // 1.8 GB (3,000 deep: 18 MB here).
    let dir = tempfile::tempdir().expect("temp dir");
    let deep = dir.path().join("deep.toml");
    std::fs::write(&deep, chain(3_000)).expect("write");
    let o = taxonomy_check(&deep);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr),
    );
    assert!(
        o.stdout.len() + o.stderr.len() < 4_000,
        "{} bytes printed",
        o.stdout.len() + o.stderr.len()
    );
    assert_eq!(o.status.code(), Some(2), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("topic `t32`, field `parent`")
            && stderr.contains("level 33")
            && stderr.contains("32 levels")
            && stderr.contains("t0"),
        "{stderr}"
    );
    // analyze refuses it too (exit 2), before any work.
    let o = Command::new(env!("CARGO_BIN_EXE_verbatim"))
        .args(["analyze", "none.csv", "--taxonomy"])
        .arg(&deep)
        .arg("--out")
        .arg(dir.path().join("out"))
        .output()
        .expect("run verbatim");
    assert_eq!(
        o.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("level 33"));

    // 32 levels are valid, and the tree stays small.
    std::fs::write(&deep, chain(32)).expect("write");
    let o = taxonomy_check(&deep);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("level 32: 1"), "{stdout}");
    assert!(stdout.len() < 8_000, "{} bytes", stdout.len());
}

#[test]
fn a_long_topic_id_does_not_pad_every_line_of_the_tree() {
    // Every line was padded to the longest id: one id of 100,000
    // characters among 1,000 topics printed 100 MB.
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("long.toml");
    let mut text = String::from("name = \"long\"\nversion = \"1.0.0\"\n");
    let long = "x".repeat(100_000);
    for id in std::iter::once(long.clone()).chain((0..1_000).map(|i| format!("t{i}"))) {
        let example = &id[..id.len().min(8)];
        text.push_str(&format!(
            "[[topic]]\nid = \"{id}\"\nlabel = {{ en = \"L\" }}\nexamples.en = [\"{example}\"]\n"
        ));
    }
    std::fs::write(&file, text).expect("write");
    let o = taxonomy_check(&file);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains(&long), "the long id is shown whole");
    assert!(stdout.len() < 200_000, "{} bytes", stdout.len());
}
