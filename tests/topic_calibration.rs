//! Topic calibration: what `verbatim train topics` fits, what ships, and how
//! `analyze` resolves it (the shipped file, a given file, or the similarity
//! rule with a warning).
//!
//! The fitting tests use the bag-of-words [`HashEncoder`]: comments that
//! share words with a topic's examples are close to it, so planted positives
//! are separable and the chosen thresholds can be checked against them. The
//! command-line tests run the binary on the tiny BERT folder.

mod common;
#[path = "common/workdir.rs"]
mod workdir;
use workdir::show as text;

use std::path::Path;

use common::HashEncoder;
use verbatim::classify::calibration::{
    self, resolve, CalibrationOrigin, FitSettings, TopicCalibration, TrainInput,
};
use verbatim::classify::topics::TopicModel;
use verbatim::classify::{
    Classifier, ClassifierSettings, Prototypes, SentimentHead, SentimentModel, Taxonomy,
};
use verbatim::model::manifest::sha256_bytes;
use verbatim::model::Encoder;

const TAXONOMY: &str = r#"
name = "planted"
version = "1.0.0"
[[topic]]
id = "billing"
label = { en = "Billing" }
examples.en = ["invoice wrong", "bill incorrect"]
[[topic]]
id = "wait"
label = { en = "Wait" }
examples.en = ["waited on hold", "queue endless"]
[[topic]]
id = "agent"
label = { en = "Agent" }
examples.en = ["friendly advisor", "rude advisor"]
[[topic]]
id = "app"
label = { en = "App" }
examples.en = ["app crashes", "app slow"]
"#;

/// Words that carry no topic, to vary the planted comments.
const FILLER: [&str; 6] = ["today", "again", "really", "honestly", "sadly", "yesterday"];

/// Planted comments: per topic, twelve that use its example words, then
/// twelve generic ones with no topic, and a few with two topics.
fn planted() -> Vec<(String, Vec<usize>)> {
    let phrases = [
        ["invoice wrong", "bill incorrect", "invoice incorrect"],
        ["waited on hold", "queue endless", "hold queue"],
        ["friendly advisor", "rude advisor", "advisor friendly"],
        ["app crashes", "app slow", "slow app"],
    ];
    let mut rows = Vec::new();
    for (t, list) in phrases.iter().enumerate() {
        for i in 0..12 {
            let text = format!("{} {}", list[i % 3], FILLER[i % FILLER.len()]);
            rows.push((text, vec![t]));
        }
    }
    for i in 0..12 {
        let generic = [
            "great experience",
            "nothing to add",
            "all fine",
            "no comment",
        ];
        rows.push((
            format!("{} {}", generic[i % 4], FILLER[i % FILLER.len()]),
            vec![],
        ));
    }
    for filler in &FILLER[..4] {
        rows.push((
            format!("invoice wrong, waited on hold {filler}"),
            vec![0, 1],
        ));
    }
    rows
}

fn prototypes() -> Prototypes {
    common::test_prototypes()
}

fn fitted() -> (Taxonomy, TopicCalibration, calibration::Scored) {
    let tax = Taxonomy::parse(TAXONOMY, "planted.toml").unwrap();
    let enc = HashEncoder { dim: 4096 };
    let topics = TopicModel::build(&enc, &tax).unwrap();
    let rows = planted();
    let texts: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    let labels: Vec<Vec<usize>> = rows.iter().map(|r| r.1.clone()).collect();
    let scored = calibration::score_labelled(
        &texts,
        &labels,
        &enc,
        &topics,
        &ClassifierSettings::default(),
    )
    .unwrap();
    let cal = calibration::train(
        TrainInput {
            rows: &scored.rows,
            taxonomy: &tax,
            sources: vec![],
            model: enc.name(),
            model_sha256: "hash-weights".into(),
            similarity_rule: Some(scored.similarity_rule.clone()),
        },
        &FitSettings {
            folds: 4,
            ..FitSettings::default()
        },
    )
    .unwrap();
    (tax, cal, scored)
}

#[test]
fn calibration_picks_thresholds_that_separate_planted_positives() {
    let (tax, cal, scored) = fitted();
    for (t, topic) in tax.topics.iter().enumerate() {
        let params = &cal.topics[t];
        assert_eq!(params.id, topic.id);
        assert!(params.positives >= 12, "{params:?}");
        let (mut lowest_positive, mut highest_negative) = (f32::INFINITY, f32::NEG_INFINITY);
        for row in &scored.rows {
            let Some(f) = row.features[t] else { continue };
            let p = cal.probability(t, &f);
            if row.truth[t] {
                lowest_positive = lowest_positive.min(p);
            } else {
                highest_negative = highest_negative.max(p);
            }
        }
        assert!(
            highest_negative < params.threshold && params.threshold <= lowest_positive,
            "{}: negatives up to {highest_negative}, threshold {}, positives from {lowest_positive}",
            topic.id,
            params.threshold
        );
    }
    // Held out, the calibrated rule finds the planted topics; the nested
    // cross-validation says so and is recorded with the provenance.
    let p = &cal.provenance;
    assert!(p.cv.micro_f1 > 0.95 && p.cv.macro_f1 > 0.95, "{:?}", p.cv);
    assert_eq!((p.rows, p.rows_without_topic), (64, 12));
    assert_eq!(p.taxonomy.sha256, sha256_bytes(TAXONOMY.as_bytes()));
    assert_eq!(p.model_sha256, "hash-weights");
    assert!(p.similarity_rule.is_some());
}

#[test]
fn a_calibrated_classifier_reports_the_probability_as_confidence() {
    let (tax, cal, _) = fitted();
    let enc = HashEncoder { dim: 4096 };
    let c = Classifier::build(
        &enc,
        SentimentModel::Prototypes(prototypes()),
        &tax,
        ClassifierSettings::default(),
    )
    .unwrap()
    .with_topic_calibration(cal.clone(), None)
    .unwrap();
    let topics_of = |text: &str| {
        let v = enc.embed(&[text]).unwrap().remove(0);
        let s = c.sentiments(&[text], std::slice::from_ref(&v)).unwrap();
        c.analyse(
            s[0],
            vec![text.to_string()],
            std::slice::from_ref(&v),
            s,
            Some("en"),
        )
        .topics
    };
    let hits = topics_of("the bill was incorrect");
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(tax.topics[hits[0].topic].id, "billing");
    assert!(hits[0].confidence >= cal.topics[0].threshold && hits[0].confidence <= 1.0);
    assert!(topics_of("lovely weather").is_empty());
    // --topic-threshold replaces every topic's threshold.
    let c = Classifier::build(
        &enc,
        SentimentModel::Prototypes(prototypes()),
        &tax,
        ClassifierSettings::default(),
    )
    .unwrap()
    .with_topic_calibration(cal, Some(0.0))
    .unwrap();
    let v = enc.embed(&["lovely weather"]).unwrap().remove(0);
    let s = c
        .sentiments(&["lovely weather"], std::slice::from_ref(&v))
        .unwrap();
    let a = c.analyse(
        s[0],
        vec!["lovely weather".into()],
        std::slice::from_ref(&v),
        s,
        None,
    );
    assert_eq!(a.topics.len(), tax.topics.len());
}

/// Under a fine-tuned branch the calibration set before stays as a backup:
/// a topic the branch misses is taken where the calibration is at least
/// `SURE_CALIBRATION` sure of it, with the calibration's probability as
/// its confidence; the branch's own topics come first and are not doubled.
#[test]
fn a_sure_calibration_adds_the_topics_a_fine_tuned_branch_missed() {
    use verbatim::classify::{finetune, Scored, SURE_CALIBRATION};
    let (tax, cal, _) = fitted();
    let enc = HashEncoder { dim: 4096 };
    let build = |calibrated: bool| {
        let c = Classifier::build(
            &enc,
            SentimentModel::Prototypes(prototypes()),
            &tax,
            ClassifierSettings::default(),
        )
        .unwrap();
        if calibrated {
            c.with_topic_calibration(cal.clone(), None).unwrap()
        } else {
            c
        }
    };
    let mut meta = finetune::shipped_meta().unwrap();
    meta.topics = tax.topics.iter().map(|t| t.id.clone()).collect();
    meta.threshold = 0.5;
    let calibrated = build(true);
    let mut tuned = build(true);
    tuned.set_tuned_topics(&meta, None).unwrap();
    let mut alone = build(false);
    alone.set_tuned_topics(&meta, None).unwrap();
    let wait = tax.topics.iter().position(|t| t.id == "wait").unwrap();
    let hits = |c: &Classifier, text: &str, branch: Option<usize>| {
        let v = enc.embed(&[text]).unwrap().remove(0);
        let s = c.sentiments(&[text], std::slice::from_ref(&v)).unwrap();
        let mut probs = vec![0.0f32; tax.topics.len()];
        if let Some(t) = branch {
            probs[t] = 1.0;
        }
        let scored = Scored {
            sims: c.topic_model().similarities_many(&[&v[..]]),
            probs: Some(vec![probs]),
        };
        c.analyse_with(s[0], vec![text.to_string()], scored, s, Some("en"))
            .topics
            .iter()
            .map(|h| (tax.topics[h.topic].id.clone(), h.confidence))
            .collect::<Vec<_>>()
    };
    for text in [
        "the bill was incorrect",
        "app crashes sadly",
        "lovely weather",
    ] {
        let sure: Vec<(String, f32)> = hits(&calibrated, text, None)
            .into_iter()
            .filter(|(_, p)| *p >= SURE_CALIBRATION)
            .collect();
        // The branch finds nothing: the sure calibrated topics alone.
        assert_eq!(hits(&tuned, text, None), sure, "{text}");
        assert!(hits(&alone, text, None).is_empty(), "{text}");
        // The branch finds `wait`: it, and the sure calibrated topics.
        let mut both = vec![("wait".to_string(), 1.0)];
        both.extend(sure.iter().filter(|(t, _)| t != "wait").cloned());
        both.sort_by_key(|(t, _)| tax.topics.iter().position(|x| &x.id == t));
        assert_eq!(hits(&tuned, text, Some(wait)), both, "{text}");
        assert_eq!(hits(&alone, text, Some(wait)), [("wait".to_string(), 1.0)]);
    }
    // Planted comments are sure: the test is not empty.
    assert_eq!(
        hits(&tuned, "the bill was incorrect", None)
            .iter()
            .map(|(t, _)| t.as_str())
            .collect::<Vec<_>>(),
        ["billing"]
    );
}

#[test]
fn the_shipped_calibration_fits_the_shipped_taxonomy_model_and_examples() {
    let head = SentimentHead::default_head();
    let model_sha = head.provenance.model_sha256.clone();
    for (tax, file) in [
        (
            Taxonomy::default_contact_center(),
            "models/taxonomy/calibration-contact-center-multilingual-e5-small.json",
        ),
        (
            Taxonomy::default_employee(),
            "models/taxonomy/calibration-employee-multilingual-e5-small.json",
        ),
    ] {
        let (cal, origin) = resolve(&tax, &model_sha, None).unwrap();
        let cal = cal.expect("a calibration for the built-in taxonomy and default model");
        assert_eq!(origin, CalibrationOrigin::Shipped { file: file.into() });
        // Fitted on exactly the labelled comments in the repository.
        let (rows, sources) = calibration::default_training(&tax).unwrap();
        assert_eq!(cal.provenance.training, sources);
        assert_eq!(cal.provenance.rows, rows.len());
        // Its recorded held-out figures beat the similarity rule on the same rows.
        let old = cal.provenance.similarity_rule.unwrap();
        assert!(
            cal.provenance.cv.micro_f1 > old.micro_f1,
            "{:?}",
            cal.provenance
        );
        assert!(
            cal.provenance.cv.macro_f1 > old.macro_f1,
            "{:?}",
            cal.provenance
        );
    }
}

/// The topic model shipped for the contact-center taxonomy belongs to the
/// taxonomy file, the default encoder and the labelled comments in the
/// repository as they are: an edit to any of them without retraining fails
/// here, with the command that retrains it.
#[test]
fn the_shipped_topic_model_fits_the_shipped_taxonomy_model_and_training_files() {
    use verbatim::classify::finetune::{shipped_meta, TopicModelDir, SHIPPED_DIR};
    let retrain = format!(
        "retrain it: `verbatim train topics --fine-tune 2 --epochs 6 --folds 3 --must-gates on --out {SHIPPED_DIR}` \
         (about 3 minutes on 2 cores), then rebuild"
    );
    let meta = shipped_meta().unwrap();
    let tax = Taxonomy::default_contact_center();
    let model_sha = SentimentHead::default_head().provenance.model_sha256;
    assert_eq!(
        meta.taxonomy.sha256, tax.sha256,
        "the taxonomy changed; {retrain}"
    );
    assert_eq!(
        meta.model_sha256, model_sha,
        "the default encoder changed; {retrain}"
    );
    let (rows, sources) = calibration::default_training(&tax).unwrap();
    assert_eq!(
        meta.training, sources,
        "the labelled comments changed; {retrain}"
    );
    assert_eq!(meta.labelled_rows, rows.len());
    assert_eq!(meta.topics.len(), tax.topics.len());
    // Its weights load from the compiled-in bytes, checksum checked.
    let m = TopicModelDir::shipped_for(&tax, &model_sha)
        .unwrap()
        .expect("the shipped topic model applies to its taxonomy and encoder");
    let head = &m.tensors["topic_head.weight"];
    assert_eq!(head.size(), [tax.topics.len() as i64, 384]);
    // Another taxonomy or encoder: none.
    assert!(
        TopicModelDir::shipped_for(&Taxonomy::default_employee(), &model_sha)
            .unwrap()
            .is_none()
    );
    assert!(TopicModelDir::shipped_for(&tax, &"0".repeat(64))
        .unwrap()
        .is_none());
    // Held out, it beats the shipped calibration's held-out precision.
    let cal = resolve(&tax, &model_sha, None).unwrap().0.unwrap();
    let held = meta.held_out.expect("held-out figures");
    assert!(
        held.micro_precision > cal.provenance.cv.micro_precision,
        "{held:?}"
    );
}

#[test]
fn the_shipped_labelled_comments_cover_every_topic_in_five_languages() {
    // (taxonomy, its files, least positives per topic in de/en/nl and in
    // fr/es, least comments without a topic per file)
    for (tax, files, big, small, least_none) in [
        (
            Taxonomy::default_contact_center(),
            calibration::DEFAULT_TRAINING,
            8,
            4,
            20,
        ),
        (
            Taxonomy::default_employee(),
            calibration::EMPLOYEE_TRAINING,
            10,
            4,
            15,
        ),
    ] {
        assert_eq!(calibration::shipped_training(&tax), Some(files));
        assert_eq!(files.len(), 5, "{}", tax.name);
        check_labelled_files(&tax, files, big, small, least_none);
    }
}

fn check_labelled_files(
    tax: &Taxonomy,
    files: &[(&str, &str)],
    big: usize,
    small: usize,
    least_none: usize,
) {
    for (file, text) in files {
        let lang = Path::new(file).file_stem().unwrap().to_str().unwrap();
        let rows = calibration::read_topic_csv(text, file, tax, "text", "topics", "|").unwrap();
        let want = if ["de", "en", "nl"].contains(&lang) {
            big
        } else {
            small
        };
        for (t, topic) in tax.topics.iter().enumerate() {
            let n = rows.iter().filter(|r| r.topics.contains(&t)).count();
            assert!(n >= want, "{file}: {} has {n} positives", topic.id);
        }
        let none = rows.iter().filter(|r| r.topics.is_empty()).count();
        assert!(
            none >= least_none,
            "{file}: {none} comments without a topic"
        );
        assert!(
            rows.iter().any(|r| r.topics.len() > 1),
            "{file}: no multi-label row"
        );
        let mut rdr = csv::Reader::from_reader(text.as_bytes());
        for rec in rdr.records() {
            assert_eq!(rec.unwrap().get(2), Some(lang), "{file}");
        }
    }
}

#[test]
fn without_a_matching_calibration_the_similarity_rule_decides_with_a_reason() {
    let tax = Taxonomy::default_contact_center();
    // Other weights: the shipped calibration does not apply.
    let (cal, origin) = resolve(&tax, "other-weights", None).unwrap();
    assert!(cal.is_none());
    let CalibrationOrigin::None { reason } = origin else {
        panic!("{origin:?}")
    };
    assert!(
        reason.contains("similarity rule") && reason.contains("verbatim train topics"),
        "{reason}"
    );
    // Another taxonomy, the default model's weights: none either.
    let other = Taxonomy::parse(TAXONOMY, "planted.toml").unwrap();
    let model_sha = SentimentHead::default_head().provenance.model_sha256;
    assert!(resolve(&other, &model_sha, None).unwrap().0.is_none());
    // An edited copy of the default taxonomy: the reason says the shipped
    // calibration was dropped, that counts move, and how to refit it.
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("models/taxonomy/contact-center.toml");
    let edited = std::fs::read_to_string(path).unwrap() + "\n# a local edit\n";
    let edited = Taxonomy::parse(&edited, "contact-center.toml").unwrap();
    let (cal, origin) = resolve(&edited, &model_sha, None).unwrap();
    assert!(cal.is_none());
    let CalibrationOrigin::None { reason } = origin else {
        panic!("{origin:?}")
    };
    for part in [
        "shipped topic calibration of the taxonomy `contact-center`",
        "edited?",
        "counts differ",
        // The command names the file this taxonomy was read from.
        "verbatim train topics --taxonomy contact-center.toml --data models/taxonomy/train/contact-center/*.csv",
    ] {
        assert!(reason.contains(part), "{part}: {reason}");
    }
}

#[test]
fn a_calibration_for_another_taxonomy_or_model_is_refused_when_given() {
    let (_, cal, _) = fitted();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("planted.json");
    cal.save(&path).unwrap();
    assert_eq!(TopicCalibration::load(&path).unwrap(), cal);
    let planted = Taxonomy::parse(TAXONOMY, "planted.toml").unwrap();
    assert!(resolve(&planted, "hash-weights", Some(&path))
        .unwrap()
        .0
        .is_some());
    let e = format!(
        "{:#}",
        resolve(
            &Taxonomy::default_contact_center(),
            "hash-weights",
            Some(&path)
        )
        .unwrap_err()
    );
    assert!(
        e.contains(&path.display().to_string()) && e.contains("fitted for the taxonomy `planted`"),
        "{e}"
    );
    assert!(e.contains("verbatim train topics"), "the fix: {e}");
    let e = format!("{:#}", resolve(&planted, "other", Some(&path)).unwrap_err());
    assert!(e.contains("not for these weights"), "{e}");
}

// ---- the binary, on the tiny BERT folder ----

/// A taxonomy in the tiny model's vocabulary (tests/common `WORDS`).
// Without generic verdicts: the tiny model's cosines to "sehr gut" and the
// like are arbitrary, and the tests below count which positives are barred.
const TINY_TAXONOMY: &str = r#"
name = "tiny"
version = "1.0.0"
generic_verdicts = false
[[topic]]
id = "billing"
label = { en = "Billing" }
examples.en = ["invoice wrong", "rechnung falsch", "factuur"]
[[topic]]
id = "wait"
label = { en = "Wait" }
examples.en = ["waited on hold", "wartezeit lang", "wachten"]
[[topic]]
id = "agent"
label = { en = "Agent" }
examples.en = ["friendly agent", "rude agent", "mitarbeiter freundlich"]
"#;

fn tiny_labelled() -> String {
    let mut s = String::from("text,topics,language\n");
    let rows = [
        ("the invoice was wrong", "billing"),
        ("rechnung falsch", "billing"),
        ("factuur wrong", "billing"),
        ("invoice too high", "billing"),
        ("waited an hour on hold", "wait"),
        ("wartezeit too lang", "wait"),
        ("wachten", "wait"),
        ("on hold an hour", "wait"),
        ("the agent was rude", "agent"),
        ("friendly agent", "agent"),
        ("mitarbeiter freundlich", "agent"),
        ("medewerker vriendelijk", "agent"),
        ("invoice wrong and waited on hold", "billing|wait"),
        ("great service", ""),
        ("ok", "none"),
        ("bad", ""),
    ];
    for round in 0..3 {
        for (text, topics) in rows {
            let extra = ["", " ok", " great"][round];
            s.push_str(&format!("{text}{extra},{topics},en\n"));
        }
    }
    s
}

use workdir::Workdir as Work;

const EXPORT: &str = "id,score,comment\n\
1,9,friendly agent\n\
2,2,waited on hold an hour\n\
3,3,invoice wrong\n\
4,8,ok\n";

#[test]
fn train_topics_writes_a_calibration_that_analyze_and_eval_use() {
    let w = Work::new();
    let tax = w.write("tiny.toml", TINY_TAXONOMY);
    let data = w.write("labelled.csv", tiny_labelled());
    let cal = w.path("cal.json");
    let s = |p: &Path| p.display().to_string();
    let o = w.run(&[
        "train",
        "topics",
        "--taxonomy",
        &s(&tax),
        "--data",
        &s(&data),
        "--out",
        &s(&cal),
        "--folds",
        "3",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("nested 3-fold cross-validation"));
    let c = TopicCalibration::load(&cal).unwrap();
    let p = &c.provenance;
    assert_eq!(p.taxonomy.sha256, sha256_bytes(TINY_TAXONOMY.as_bytes()));
    assert_eq!(p.training.len(), 1);
    assert_eq!(
        p.training[0].sha256,
        sha256_bytes(tiny_labelled().as_bytes())
    );
    assert_eq!(p.rows, 48);

    // A `must` list that bars half of a topic's positives: the pooled model
    // says why.
    let must = TINY_TAXONOMY.replace(
        "examples.en = [\"friendly agent\", \"rude agent\", \"mitarbeiter freundlich\"]",
        "examples.en = [\"friendly agent\", \"rude agent\", \"mitarbeiter freundlich\"]\nkeywords.en.must = [\"agent\"]\nkeywords.de.must = [\"agent\"]\nkeywords.nl.must = [\"agent\"]\nkeywords.fr.must = [\"agent\"]\nkeywords.es.must = [\"agent\"]",
    );
    assert_ne!(must, TINY_TAXONOMY);
    let tax_must = w.write("tiny-must.toml", &must);
    let o = w.run(&[
        "train",
        "topics",
        "--taxonomy",
        &s(&tax_must),
        "--data",
        &s(&data),
        "--out",
        &s(&w.path("cal-must.json")),
        "--folds",
        "3",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    let agent = stdout
        .lines()
        .find(|l| l.trim_start().starts_with("agent "))
        .unwrap_or_else(|| panic!("{stdout}"));
    let with_must = TopicCalibration::load(&w.path("cal-must.json")).unwrap();
    let barred = with_must.topics[2].barred_positives;
    // "mitarbeiter freundlich" and "medewerker vriendelijk", three times
    // each, lack "agent" (where their detected language has the list).
    assert!((1..=6).contains(&barred), "{barred}");
    assert_eq!(with_must.topics[0].barred_positives, 0);
    assert!(
        agent.contains(&format!(
            "{barred} of its positives lack its `must` keywords"
        )),
        "{agent}"
    );

    // analyze uses it and records it.
    let input = w.write("export.csv", EXPORT);
    let o = w.run(&[
        "analyze",
        &s(&input),
        "--out",
        &s(&w.path("out")),
        "--taxonomy",
        &s(&tax),
        "--topic-calibration",
        &s(&cal),
        "--min-n",
        "2",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(!String::from_utf8_lossy(&o.stderr).contains("warning: no topic calibration"));
    let m = w.manifest("out");
    assert_eq!(m["topics"]["rule"], "calibrated");
    // Each topic's calibrated threshold decided, not thresholds.topic_threshold.
    assert_eq!(m["settings"]["topic_threshold_applies"], false, "{m}");
    assert_eq!(m["topics"]["calibration"]["kind"], "file");
    assert_eq!(m["topics"]["calibration"]["path"], s(&cal));
    assert_eq!(
        m["topics"]["provenance"]["model_sha256"],
        m["model"]["sha256"]
    );
    assert_eq!(
        m["topics"]["thresholds"]["billing"].as_f64().unwrap() as f32,
        c.topics[0].threshold
    );
    // --topic-threshold 0 overrides every threshold: every comment gets
    // every topic (the tiny taxonomy has no keyword rules), with its
    // probability as confidence.
    let o = w.run(&[
        "analyze",
        &s(&input),
        "--out",
        &s(&w.path("all")),
        "--taxonomy",
        &s(&tax),
        "--topic-calibration",
        &s(&cal),
        "--topic-threshold",
        "0",
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(w.manifest("all")["topics"]["threshold_override"], 0.0);
    assert_eq!(
        w.manifest("all")["settings"]["topic_threshold_applies"],
        true
    );
    let mut r = csv::Reader::from_path(w.path("all/bridge_response_topic.csv")).unwrap();
    let conf = r
        .headers()
        .unwrap()
        .iter()
        .position(|h| h == "confidence")
        .unwrap();
    let rows: Vec<csv::StringRecord> = r.records().map(|x| x.unwrap()).collect();
    assert_eq!(rows.len(), 4 * 3);
    for row in &rows {
        let v: f64 = row[conf].parse().unwrap();
        assert!((0.0..=1.0).contains(&v), "{row:?}");
    }

    // eval topics compares the rule, the cross-validated fit and the file;
    // without flags it reads the columns `train topics` read (`topics`,
    // ids joined by `|`).
    let o = w.run(&[
        "eval",
        "topics",
        "--data",
        &s(&data),
        "--taxonomy",
        &s(&tax),
        "--folds",
        "3",
        "--topic-calibration",
        &s(&cal),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    for line in [
        "similarity_rule ",
        "calibrated_cv3 ",
        "calibration_in_sample ",
    ] {
        assert!(stdout.contains(line), "{line}: {stdout}");
    }
}

#[test]
fn train_topics_without_data_fits_a_built_in_taxonomy_on_its_own_comments() {
    let w = Work::new();
    let employee = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/taxonomy/employee.toml");
    let cal = w.path("employee.json");
    let s = |p: &Path| p.display().to_string();
    let o = w.run(&[
        "train",
        "topics",
        "--taxonomy",
        &s(&employee),
        "--out",
        &s(&cal),
        "--folds",
        "2",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let c = TopicCalibration::load(&cal).unwrap();
    let tax = Taxonomy::default_employee();
    let (rows, sources) = calibration::default_training(&tax).unwrap();
    assert_eq!(c.provenance.taxonomy.sha256, tax.sha256);
    assert_eq!(c.provenance.training, sources);
    assert_eq!(c.provenance.rows, rows.len());
    // A taxonomy of one's own needs labelled comments of its own.
    let tiny = w.write("tiny.toml", TINY_TAXONOMY);
    let o = w.run(&[
        "train",
        "topics",
        "--taxonomy",
        &s(&tiny),
        "--out",
        &s(&w.path("tiny.json")),
    ]);
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("--data is needed"),
        "{}",
        text(&o)
    );
    // An edited copy of a built-in taxonomy: the message says which files fit it.
    let edited = w.write(
        "cc.toml",
        format!(
            "{}\n# edited\n",
            verbatim::classify::taxonomy::DEFAULT_TAXONOMY
        ),
    );
    let o = w.run(&[
        "train",
        "topics",
        "--taxonomy",
        &s(&edited),
        "--out",
        &s(&w.path("cc.json")),
    ]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    for part in [
        "as edited in",
        "cc.toml",
        "--data models/taxonomy/train/contact-center/de.csv",
    ] {
        assert!(err.contains(part), "{part}: {err}");
    }
    assert!(!w.path("cc.json").exists());
}

#[test]
fn without_a_calibration_analyze_warns_and_records_the_similarity_rule() {
    let w = Work::new();
    let input = w.write("export.csv", EXPORT);
    let out = w.path("out").display().to_string();
    let o = w.run(&["analyze", &input.display().to_string(), "--out", &out]);
    assert!(o.status.success(), "{}", text(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("warning: no topic calibration for the taxonomy `contact-center`"),
        "{stderr}"
    );
    let m = w.manifest("out");
    assert_eq!(m["topics"]["rule"], "similarity");
    assert_eq!(m["topics"]["calibration"]["kind"], "none");
    assert!(m["topics"]["provenance"].is_null());
    // The rule's settings, keyword evidence included.
    assert_eq!(m["thresholds"]["topic_threshold"], 0.85);
    assert_eq!(m["thresholds"]["topic_keyword_gap"], 0.0);
}

/// An edited copy of the default taxonomy: the warning that no calibration
/// applies (on the tiny model: none does), and a note that the shipped topic
/// model does not apply either, with the command that retrains it.
#[test]
fn an_edited_default_taxonomy_says_how_to_retrain_the_topic_model() {
    let w = Work::new();
    let input = w.write("export.csv", EXPORT);
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/taxonomy/contact-center.toml");
    let edited = std::fs::read_to_string(path).unwrap() + "\n# a local edit\n";
    let tax = w.write("contact-center.toml", &edited);
    let out = w.path("out").display().to_string();
    let o = w.run(&[
        "analyze",
        &input.display().to_string(),
        "--out",
        &out,
        "--taxonomy",
        &tax.display().to_string(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    // The command names the file this run read, ready to paste.
    let retrain = format!(
        "`verbatim train topics --taxonomy {} --fine-tune 2",
        tax.display()
    );
    for part in [
        "warning: no topic calibration for the taxonomy `contact-center`",
        "note: the topic model shipped for the taxonomy `contact-center`",
        retrain.as_str(),
    ] {
        assert!(stderr.contains(part), "{part}: {stderr}");
    }
    // With `--topic-model none` the user chose the calibration: no note.
    let o = w.run(&[
        "analyze",
        &input.display().to_string(),
        "--out",
        &w.path("out2").display().to_string(),
        "--taxonomy",
        &tax.display().to_string(),
        "--topic-model",
        "none",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(!String::from_utf8_lossy(&o.stderr).contains("note: the topic model"));
}

#[test]
fn a_bad_calibration_file_is_a_usage_error_naming_the_file() {
    let w = Work::new();
    let input = w.write("export.csv", EXPORT);
    let out = w.path("out").display().to_string();
    let good = TopicCalibration::parse(calibration::SHIPPED[0].1).unwrap();
    let mut wrong_features = serde_json::to_value(&good).unwrap();
    wrong_features["topics"][0]["weights"] = serde_json::json!([1.0, 2.0]);
    let cases = [
        ("broken.json", "{ not json".to_string(), "topic calibration"),
        (
            "format.json",
            serde_json::to_string(&serde_json::json!({"format": "other"})).unwrap(),
            "topic calibration",
        ),
        (
            "weights.json",
            wrong_features.to_string(),
            "topic `reachability`: 2 weights, expected 4",
        ),
    ];
    for (name, body, says) in cases {
        let path = w.write(name, &body);
        let p = path.display().to_string();
        let o = w.run(&[
            "analyze",
            &input.display().to_string(),
            "--out",
            &out,
            "--topic-calibration",
            &p,
        ]);
        assert_eq!(o.status.code(), Some(2), "{name}: {}", text(&o));
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(
            stderr.contains(&p) && stderr.contains(says),
            "{name}: {stderr}"
        );
        assert!(
            !w.path("out").exists(),
            "no output folder after a usage error"
        );
    }
    let missing = w.path("missing.json").display().to_string();
    let o = w.run(&[
        "analyze",
        &input.display().to_string(),
        "--out",
        &out,
        "--topic-calibration",
        &missing,
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains(&missing));
}

#[test]
fn labels_that_are_not_topic_ids_name_the_file_line_and_column() {
    let tax = Taxonomy::parse(TAXONOMY, "planted.toml").unwrap();
    let e = calibration::read_topic_csv(
        "text,topics\ninvoice wrong,billing\nslow app,app|apps\n",
        "labelled.csv",
        &tax,
        "text",
        "topics",
        "|",
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("labelled.csv:3") && e.contains("column `topics`") && e.contains("`apps`"),
        "{e}"
    );
    let e = calibration::read_topic_csv("a,b\n", "labelled.csv", &tax, "text", "topics", "|")
        .unwrap_err()
        .to_string();
    assert!(e.contains("no column `text`"), "{e}");
}

/// An export of 30 distinct comments in the tiny vocabulary, one duplicate
/// (other case and spacing) and two placeholders.
fn suggest_export() -> String {
    let texts = [
        "invoice wrong",
        "rechnung falsch",
        "factuur",
        "invoice too high",
        "the invoice was wrong",
        "waited on hold",
        "wartezeit lang",
        "wachten",
        "on hold an hour",
        "waited an hour",
        "friendly agent",
        "rude agent",
        "mitarbeiter freundlich",
        "medewerker vriendelijk",
        "the agent was rude",
        "great service",
        "ok",
        "bad",
        "great",
        "service ok",
    ];
    let mut s = String::from("response_id,comment\n");
    let mut id = 0;
    for (i, t) in texts.iter().enumerate() {
        id += 1;
        s.push_str(&format!("r{id},{t}\n"));
        if i < 10 {
            id += 1;
            s.push_str(&format!("r{id},{t} again\n"));
        }
    }
    s.push_str("r98,  INVOICE   wrong \nr99,n/a\nr100,-\n");
    s
}

#[test]
fn train_suggest_writes_a_blind_file_to_label_that_train_topics_reads_back() {
    let w = Work::new();
    let tax = w.write("tiny.toml", TINY_TAXONOMY);
    let export = w.write("export.csv", suggest_export());
    let s = |p: &Path| p.display().to_string();
    let suggest = |out: &Path, n: usize, extra: &[&str]| {
        let mut args = vec![
            "train".to_string(),
            "suggest".into(),
            s(&export),
            "--taxonomy".into(),
            s(&tax),
            "--n".into(),
            n.to_string(),
            "--out".into(),
            s(out),
        ];
        args.extend(extra.iter().map(|a| a.to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        w.run(&args)
    };
    let first = w.path("to-label.csv");
    let o = suggest(&first, 8, &["--near-boundary", "0.75"]);
    assert!(o.status.success(), "{}", text(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    // 30 distinct comments: the duplicate and the placeholders are not.
    assert!(
        stdout.contains("8 of 30 distinct comments to label (6 near a topic's boundary under the similarity rule, 2 at random)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("--data") && stdout.contains("train topics"),
        "{stdout}"
    );
    let read = |p: &Path| -> Vec<(String, String, String)> {
        let mut r = csv::Reader::from_path(p).unwrap();
        assert_eq!(
            r.headers().unwrap().iter().collect::<Vec<_>>(),
            ["id", "text", "topics"]
        );
        r.records()
            .map(|x| {
                let x = x.unwrap();
                (x[0].to_string(), x[1].to_string(), x[2].to_string())
            })
            .collect()
    };
    let picked = read(&first);
    assert_eq!(picked.len(), 8);
    let export_rows: Vec<(String, String)> = suggest_export()
        .lines()
        .skip(1)
        .map(|l| {
            let (id, t) = l.split_once(',').unwrap();
            (id.to_string(), t.trim().to_string())
        })
        .collect();
    let mut texts = std::collections::BTreeSet::new();
    for (id, t, topics) in &picked {
        assert_eq!(topics, "?", "blind: no proposed topic");
        assert!(export_rows.contains(&(id.clone(), t.clone())), "{id} {t}");
        assert!(texts.insert(t.to_lowercase()), "twice: {t}");
        assert!(t != "n/a" && t != "-");
    }

    // The same seed picks the same file; an existing file is not overwritten.
    let again = w.path("again.csv");
    assert!(suggest(&again, 8, &["--near-boundary", "0.75"])
        .status
        .success());
    assert_eq!(
        std::fs::read(&again).unwrap(),
        std::fs::read(&first).unwrap()
    );
    // By default all are drawn at random, also blind and distinct.
    let drawn = w.path("drawn.csv");
    let o = suggest(&drawn, 8, &[]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout)
            .contains("8 of 30 distinct comments to label (drawn at random)"),
        "{}",
        text(&o)
    );
    let random_picks = read(&drawn);
    assert_eq!(random_picks.len(), 8);
    assert!(random_picks.iter().all(|(_, _, t)| t == "?"));
    let before = std::fs::read(&first).unwrap();
    let o = suggest(&first, 8, &["--seed", "7"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("not overwritten"),
        "{}",
        text(&o)
    );
    assert_eq!(std::fs::read(&first).unwrap(), before);

    // A next round skips what the first file holds.
    let second = w.path("second.csv");
    let o = suggest(&second, 100, &["--exclude", &s(&first)]);
    assert!(o.status.success(), "{}", text(&o));
    let rest = read(&second);
    assert_eq!(rest.len(), 22);
    for (_, t, _) in &rest {
        assert!(!texts.contains(&t.to_lowercase()), "picked again: {t}");
    }

    // Nothing labelled yet: train topics says so.
    let cal = w.path("cal.json");
    let train = |data: &[&Path]| {
        let mut args = vec![
            "train".to_string(),
            "topics".into(),
            "--taxonomy".into(),
            s(&tax),
            "--out".into(),
            s(&cal),
            "--folds".into(),
            "3".into(),
        ];
        for d in data {
            args.push("--data".into());
            args.push(s(d));
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        w.run(&args)
    };
    let o = train(&[&first]);
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("no row is labelled yet"),
        "{}",
        text(&o)
    );

    // Half labelled (`none` where no topic fits), half left `?`: the
    // labelled rows count, the others are left out and counted.
    let mut labelled = String::from("id,text,topics\n");
    for (i, (id, t, _)) in picked.iter().enumerate() {
        let label = if i % 2 == 1 {
            "?"
        } else if t.contains("invoice") || t.contains("rechnung") || t.contains("factuur") {
            "billing"
        } else if t.contains("hold") || t.contains("wa") {
            "wait"
        } else if t.contains("agent") || t.contains("mitarbeiter") || t.contains("medewerker") {
            "agent"
        } else {
            "none"
        };
        labelled.push_str(&format!("{id},\"{t}\",{label}\n"));
    }
    std::fs::write(&first, labelled).unwrap();
    let data = w.write("labelled.csv", tiny_labelled());
    let o = train(&[&data, &first]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr)
            .contains("4 rows still say `?` in column `topics` (not labelled yet): left out, 52 labelled rows used"),
        "{}",
        text(&o)
    );
    let c = TopicCalibration::load(&cal).unwrap();
    assert_eq!(c.provenance.rows, 52);
    assert_eq!(c.provenance.training[1].rows, 4);
    // eval topics scores the labelled half too.
    let o = w.run(&[
        "eval",
        "topics",
        "--data",
        &s(&first),
        "--taxonomy",
        &s(&tax),
        "--folds",
        "2",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains(
            "4 rows scored (0 left out by --where, 0 without text, 4 not labelled yet (`?`))"
        ),
        "{}",
        text(&o)
    );
}
