//! Fine-tuned topic branch (`train topics --fine-tune K`, `analyze
//! --topic-model DIR`) on the tiny BERT folder the tests make: training
//! lowers the loss and is reproducible, the branch leaves the encoder's own
//! vectors untouched, and what is saved gives, once loaded, the same
//! probabilities as what was trained, through the library and through
//! `analyze`.

mod common;
#[path = "common/workdir.rs"]
mod workdir;
use workdir::show as text;

use std::collections::HashMap;
use std::path::Path;

use verbatim::classify::calibration::read_topic_csv;
use verbatim::classify::finetune::{self, TopicModelDir};
use verbatim::classify::Taxonomy;
use verbatim::model::transformer::{EncoderOptions, TransformerEncoder};
use verbatim::model::tuned::{self, TrainSettings, Trainable};
use verbatim::model::{Encoder, Precision};
use workdir::Workdir as Work;

// Without generic verdicts: the tiny model's cosines to "sehr gut" and the
// like are arbitrary, and this file checks the tuned branch's probabilities.
const TAXONOMY: &str = r#"
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

fn labelled() -> String {
    let mut s = String::from("text,topics\n");
    let rows = [
        ("the invoice was wrong", "billing"),
        ("rechnung falsch", "billing"),
        ("invoice too high", "billing"),
        ("waited an hour on hold", "wait"),
        ("wartezeit too lang", "wait"),
        ("on hold an hour", "wait"),
        ("the agent was rude", "agent"),
        ("friendly agent", "agent"),
        ("medewerker vriendelijk", "agent"),
        ("invoice wrong and waited on hold", "billing|wait"),
        ("great service", ""),
        ("ok", ""),
    ];
    for extra in ["", " ok", " great"] {
        for (text, topics) in rows {
            s.push_str(&format!("{text}{extra},{topics}\n"));
        }
    }
    s
}

fn encoder(dir: &Path) -> TransformerEncoder {
    let opts = EncoderOptions {
        precision: Precision::F32,
        threads: Some(1),
        ..EncoderOptions::default()
    };
    TransformerEncoder::load(dir, &opts).unwrap()
}

fn settings() -> TrainSettings {
    TrainSettings {
        layers: 1,
        epochs: 8,
        lr: 1e-3,
        head_lr: 2e-2,
        batch: 8,
        ..TrainSettings::default()
    }
}

#[test]
fn training_lowers_the_loss_and_the_saved_branch_gives_the_same_probabilities() {
    let w = Work::new();
    let model = w.path("model");
    let tax = Taxonomy::parse(TAXONOMY, "tiny.toml").unwrap();
    let rows = read_topic_csv(&labelled(), "l.csv", &tax, "text", "topics", "|").unwrap();
    let texts: Vec<&str> = rows.iter().map(|r| r.text.as_str()).collect();
    let targets: Vec<Vec<f32>> = rows
        .iter()
        .map(|r| {
            (0..3)
                .map(|t| f32::from(u8::from(r.topics.contains(&t))))
                .collect()
        })
        .collect();
    let mut enc = encoder(&model);
    let s = settings();
    let fused = enc.fused_pass().unwrap();
    let split = fused.depth() - s.layers;
    let cache = enc.below(&texts, split).unwrap();
    let originals = enc.top_layers(s.layers).unwrap();
    let train = |seed: u64| {
        let mut t = Trainable::new(&originals, enc.family(), split, 32, 3, seed);
        let all: Vec<usize> = (0..texts.len()).collect();
        let losses = t
            .train(
                fused,
                &cache,
                &targets,
                &all,
                &TrainSettings { seed, ..s },
                &mut |_, _| {},
            )
            .unwrap();
        (t, losses)
    };
    let (t, losses) = train(7);
    assert_eq!(losses.len(), s.epochs);
    assert!(
        losses[s.epochs - 1] < 0.7 * losses[0],
        "the loss does not fall: {losses:?}"
    );
    // Seeded: the same run gives the same weights, to the bit.
    let (again, losses_again) = train(7);
    assert_eq!(losses, losses_again);
    let (a, b) = (t.tensors(), again.tensors());
    for (name, x) in &a {
        assert!(x.equal(&b[name]), "{name} differs between two seeded runs");
    }

    // The branch as saved (int8 matrices, float16 vectors), attached in memory, then read
    // back from the file into another encoder: the same probabilities.
    let saved = tuned::round_as_saved(&a);
    let file = w.path("branch.safetensors");
    let bytes = tuned::save_branch(&saved, &file).unwrap();
    assert!(bytes > 0);
    let plain = enc.embed(&texts).unwrap();
    enc.attach_topic_branch(&saved, split, &file).unwrap();
    let (vectors, probs) = enc.embed_with_topics(&texts).unwrap();
    let probs = probs.expect("the branch gives probabilities");
    // The shared pass leaves the encoder's own vectors as they were.
    assert_eq!(vectors, plain);
    assert_eq!(enc.embed(&texts).unwrap(), plain);
    let mut loaded = encoder(&model);
    loaded
        .attach_topic_branch(&tuned::read_branch(&file).unwrap(), split, &file)
        .unwrap();
    let (_, probs_loaded) = loaded.embed_with_topics(&texts).unwrap();
    assert_eq!(probs_loaded.unwrap(), probs);
    // And they are those of the trained model on the cached frozen layers.
    let layers: HashMap<String, tch::Tensor> = saved
        .iter()
        .filter(|(n, _)| !n.starts_with("topic_head."))
        .map(|(n, t)| (n.clone(), t.shallow_clone()))
        .collect();
    let rounded = Trainable::new(&layers, enc.family(), split, 32, 3, 1);
    let mut vars = rounded.tensors();
    tch::no_grad(|| {
        for (name, x) in vars.iter_mut() {
            x.copy_(&saved[name]);
        }
    });
    let all: Vec<usize> = (0..texts.len()).collect();
    let from_cache = rounded
        .predict(fused_of(&loaded), &cache, &all, 64)
        .unwrap();
    for (p, q) in probs.iter().zip(&from_cache) {
        for (x, y) in p.iter().zip(q) {
            assert!((x - y).abs() < 1e-4, "{p:?} vs {q:?}");
        }
    }
    // Training separated the labels it saw: on average a comment's own
    // topics get a higher probability than the others.
    let (mut pos, mut neg) = ((0.0f32, 0usize), (0.0f32, 0usize));
    for (p, y) in probs.iter().zip(&targets) {
        for (&p, &y) in p.iter().zip(y) {
            let side = if y > 0.5 { &mut pos } else { &mut neg };
            side.0 += p;
            side.1 += 1;
        }
    }
    let (pos, neg) = (pos.0 / pos.1 as f32, neg.0 / neg.1 as f32);
    assert!(pos > neg + 0.1, "positives {pos}, negatives {neg}");
}

fn fused_of(e: &TransformerEncoder) -> &verbatim::model::fused::FusedEncoder {
    e.fused_pass().unwrap()
}

#[test]
fn train_topics_fine_tune_writes_a_folder_that_analyze_uses() {
    let w = Work::new();
    let tax = w.write("tiny.toml", TAXONOMY);
    let data = w.write("labelled.csv", labelled());
    let out = w.path("tm");
    let s = |p: &Path| p.display().to_string();
    let o = w.run(&[
        "train",
        "topics",
        "--fine-tune",
        "1",
        "--taxonomy",
        &s(&tax),
        "--data",
        &s(&data),
        "--out",
        &s(&out),
        "--folds",
        "2",
        "--epochs",
        "8",
        "--lr",
        "1e-3",
        "--threads",
        "1",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("2-fold out-of-fold"),
        "{}",
        text(&o)
    );
    let m = TopicModelDir::load(&out).unwrap();
    assert_eq!(m.meta.format, finetune::TOPIC_MODEL_FORMAT);
    assert_eq!(m.meta.topics, ["billing", "wait", "agent"]);
    assert_eq!(m.meta.split, 1);
    assert_eq!(m.meta.labelled_rows, 36);
    assert_eq!(m.meta.example_rows, 9);
    assert!(m.meta.held_out.is_some());
    assert!((0.05..=0.95).contains(&m.meta.threshold));

    // analyze with the folder: each comment's topics are those whose
    // probability (one clause each here) reaches the threshold, with that
    // probability as confidence.
    let export = "id,score,comment\n1,2,the invoice was wrong\n2,3,waited an hour on hold\n3,9,friendly agent\n4,8,ok\n";
    let input = w.write("export.csv", export);
    let o = w.analyze(
        &input,
        "out",
        &[
            "--taxonomy",
            &s(&tax),
            "--topic-model",
            &s(&out),
            "--precision",
            "f32",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    // The branch decides: no warning that the similarity rule would.
    let o = w
        .verbatim()
        .arg("analyze")
        .arg(&input)
        .args([
            "--out",
            &s(&w.path("out-loud")),
            "--model",
            &s(&w.path("model")),
        ])
        .args(["--taxonomy", &s(&tax), "--topic-model", &s(&out)])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        !String::from_utf8_lossy(&o.stderr).contains("similarity rule"),
        "{}",
        text(&o)
    );
    let mut enc = encoder(&w.path("model"));
    m.attach(&mut enc).unwrap();
    let comments = [
        "the invoice was wrong",
        "waited an hour on hold",
        "friendly agent",
        "ok",
    ];
    let (_, probs) = enc.embed_with_topics(&comments).unwrap();
    let probs = probs.unwrap();
    let mut expected: HashMap<(String, String), f32> = HashMap::new();
    for (i, p) in probs.iter().enumerate() {
        for (t, &x) in p.iter().enumerate() {
            if x >= m.meta.threshold {
                expected.insert(((i + 1).to_string(), m.meta.topics[t].clone()), x);
            }
        }
    }
    let mut r = csv::Reader::from_path(w.path("out/bridge_response_topic.csv")).unwrap();
    let headers = r.headers().unwrap().clone();
    let col = |n: &str| headers.iter().position(|h| h == n).unwrap();
    let (rid, tid, conf) = (col("response_id"), col("topic_id"), col("confidence"));
    let mut got: HashMap<(String, String), f32> = HashMap::new();
    for row in r.records() {
        let row = row.unwrap();
        got.insert(
            (row[rid].to_string(), row[tid].to_string()),
            row[conf].parse().unwrap(),
        );
    }
    assert_eq!(
        got.keys().collect::<std::collections::BTreeSet<_>>(),
        expected.keys().collect(),
        "{got:?} vs {expected:?}"
    );
    for (k, v) in &expected {
        assert!((got[k] - v).abs() < 1e-3, "{k:?}: {} vs {v}", got[k]);
    }
    assert!(
        !expected.is_empty(),
        "the tiny model found no topic: {probs:?}"
    );

    // `eval topics --topic-model` scores what analyze decided: per topic,
    // as many predictions as analyze's mentions.
    let gold = w.write(
        "gold.csv",
        "text,topics\nthe invoice was wrong,billing\nwaited an hour on hold,wait\nfriendly agent,agent\nok,\n",
    );
    let o = w.run(&[
        "eval",
        "topics",
        "--data",
        &s(&gold),
        "--taxonomy",
        &s(&tax),
        "--topic-model",
        &s(&out),
        "--folds",
        "2",
        "--precision",
        "f32",
        "--out",
        &s(&w.path("eval")),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let mut predicted: HashMap<String, usize> = HashMap::new();
    for (_, t) in expected.keys() {
        *predicted.entry(t.clone()).or_default() += 1;
    }
    let mut r = csv::Reader::from_path(w.path("eval/eval_topics.csv")).unwrap();
    let mut rows = 0;
    for row in r.records() {
        let row = row.unwrap();
        if &row[0] == "topic_model" && !row[1].starts_with('(') {
            rows += 1;
            let want = predicted.get(&row[1]).copied().unwrap_or(0);
            assert_eq!(row[3].parse::<usize>().unwrap(), want, "{:?}", row);
        }
    }
    assert!(
        rows > 0,
        "no topic_model rows in eval_topics.csv: {}",
        text(&o)
    );

    // A taxonomy it was not trained for is refused, naming the fix.
    let other = w.write("other.toml", TAXONOMY.replace("Billing", "Bills"));
    let o = w.analyze(
        &input,
        "out2",
        &["--taxonomy", &s(&other), "--topic-model", &s(&out)],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("--fine-tune"), "{}", text(&o));
}

/// Whether a topic model is gated by the taxonomy's `must` keywords: as
/// given, or chosen on the held-out comments; recorded in `topic-model.json`
/// and the manifest, and applied by `analyze`.
#[test]
fn must_gates_are_chosen_recorded_and_applied() {
    let w = Work::new();
    // `billing` needs "invoice": "rechnung falsch", a labelled positive,
    // lacks it.
    let must = TAXONOMY.replace(
        "examples.en = [\"invoice wrong\", \"rechnung falsch\", \"factuur\"]",
        "examples.en = [\"invoice wrong\", \"rechnung falsch\", \"factuur\"]\n\
         keywords.en.must = [\"invoice\"]\nkeywords.de.must = [\"invoice\"]\n\
         keywords.nl.must = [\"invoice\"]\nkeywords.fr.must = [\"invoice\"]\n\
         keywords.es.must = [\"invoice\"]",
    );
    assert_ne!(must, TAXONOMY);
    let tax = w.write("must.toml", &must);
    let data = w.write("labelled.csv", labelled());
    let s = |p: &Path| p.display().to_string();
    let (tax, data) = (s(&tax), s(&data));
    // `name` names the folder; `extra`: more flags.
    let train = |name: &str, extra: &[&str]| {
        let out = w.path(&format!("tm-{name}"));
        let out_s = s(&out);
        let mut args = vec![
            "train",
            "topics",
            "--fine-tune",
            "1",
            "--taxonomy",
            &tax,
            "--data",
            &data,
            "--out",
            &out_s,
            "--folds",
            "2",
            "--epochs",
            "4",
            "--lr",
            "1e-3",
            "--threads",
            "1",
        ];
        args.extend_from_slice(extra);
        let o = w.run(&args);
        assert!(o.status.success(), "{}", text(&o));
        TopicModelDir::load(&out).unwrap().meta
    };
    let gated = |gates: &str| train(gates, &["--must-gates", gates]);
    let (on, off, auto) = (gated("on"), gated("off"), gated("auto"));
    // --beta 1: threshold and gate choice on F1, said in both rules.
    let even = train("beta1", &["--beta", "1"]);
    assert!(
        even.threshold_rule.starts_with("max micro F1 over"),
        "{}",
        even.threshold_rule
    );
    assert!(
        even.must_gates_rule.contains("micro F1 "),
        "{}",
        even.must_gates_rule
    );
    assert!(
        on.threshold_rule.starts_with("max micro F0.5 over"),
        "{}",
        on.threshold_rule
    );
    assert_eq!(even.weights_sha256, auto.weights_sha256);
    assert!(on.must_gates && !off.must_gates);
    assert!(
        on.must_gates_rule.starts_with("as given (--must-gates)"),
        "{}",
        on.must_gates_rule
    );
    // Seeded: the three runs trained the same weights.
    assert_eq!(on.weights_sha256, off.weights_sha256);
    assert_eq!(on.weights_sha256, auto.weights_sha256);
    // auto takes the gates only where they scored better held out.
    // "…: out-of-fold micro F0.5 0.533 with the gates, 0.395 without"
    let (_, tail) = auto.must_gates_rule.split_once("F0.5 ").unwrap();
    let figures: Vec<f64> = tail
        .split([' ', ','])
        .filter_map(|x| x.parse().ok())
        .collect();
    assert_eq!(figures.len(), 2, "{}", auto.must_gates_rule);
    assert!(auto
        .must_gates_rule
        .starts_with("the better on held-out comments"));
    assert_eq!(
        auto.must_gates,
        figures[0] > figures[1],
        "{}",
        auto.must_gates_rule
    );

    // Every topic a comment is allowed, at threshold 0: the gated model
    // never gives "rechnung falsch" billing, the ungated one does.
    let input = w.write(
        "export.csv",
        "id,score,comment\n1,2,rechnung falsch\n2,3,the invoice was wrong\n",
    );
    let billing = |gates: &str| -> Vec<String> {
        let out = format!("out-{gates}");
        let o = w.analyze(
            &input,
            &out,
            &[
                "--taxonomy",
                &tax,
                "--topic-model",
                &s(&w.path(&format!("tm-{gates}"))),
                "--topic-threshold",
                "0",
            ],
        );
        assert!(o.status.success(), "{}", text(&o));
        let m = w.manifest(&out);
        assert_eq!(
            m["topics"]["topic_model"]["must_gates"],
            gates == "on",
            "{m}"
        );
        let mut r =
            csv::Reader::from_path(w.path(&format!("{out}/bridge_response_topic.csv"))).unwrap();
        let mut ids: Vec<String> = r
            .records()
            .map(|x| x.unwrap())
            .filter(|x| &x[2] == "billing")
            .map(|x| x[0].to_string())
            .collect();
        ids.sort();
        ids
    };
    assert_eq!(billing("on"), ["2"]);
    assert_eq!(billing("off"), ["1", "2"]);
}

#[test]
fn default_epochs_give_small_label_sets_enough_steps() {
    // The shipped model's 1,716 comments and 829 examples: 6, as trained.
    assert_eq!(finetune::default_epochs(2545, 32), 6);
    // 500 labelled comments and a small taxonomy's 34 examples: 400 steps.
    assert_eq!(finetune::default_epochs(534, 32), 24);
    assert!(finetune::default_epochs(534, 32) * 534 >= finetune::MIN_STEPS * 32);
    assert_eq!(finetune::default_epochs(20_000, 32), 6);
    assert_eq!(finetune::default_epochs(40, 32), 40);
    assert_eq!(finetune::default_epochs(0, 32), 40);
}
