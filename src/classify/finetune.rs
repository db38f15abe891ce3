//! Topics from a fine-tuned encoder branch (`verbatim train topics
//! --fine-tune K`, `verbatim analyze --topic-model DIR`).
//!
//! The top K layers of the encoder and a multi-label sigmoid head over the
//! taxonomy's topics are trained on labelled comments plus the taxonomy's
//! own example phrases (each example labelled with its topic), as
//! [`crate::model::tuned`] describes. The decision threshold is one
//! probability for all topics, chosen on held-out predictions: the labelled
//! comments are split into stratified folds
//! ([`super::calibration::stratified_folds`]); each fold is predicted by a
//! branch trained on the other folds and all the examples; the threshold
//! maximises F-beta on those predictions, with beta = 0.5 unless
//! `--beta` says otherwise (precision weighs twice as much as recall: a
//! wrong topic costs more than a missing one).
//! Then the branch is trained once more on everything and saved.
//!
//! A topic model is a folder: `topics.safetensors` (the tuned layers in
//! int8 weight matrices with a scale per row and float16 vectors, the head in
//! float32) and `topic-model.json` (this module's
//! [`TopicModelFile`]: taxonomy and encoder checksums, training files, the
//! settings, the threshold and the held-out scores). It belongs to one
//! taxonomy file and one encoder, like a calibration.
//!
//! At analysis each clause gets the branch's probabilities from the same
//! encoder pass as its vector; a topic's probability for a comment is that
//! of its best clause among those the taxonomy's keyword rules allow, and
//! the topic takes that clause's polarity.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use anyhow::{ensure, Context, Result};
use serde::{Deserialize, Serialize};
use tch::Tensor;

use super::calibration::{stratified_folds, Row, TaxonomyRef, TopicLabelled};
use super::head::TrainingSource;
use super::taxonomy::Taxonomy;
use super::topics::{ClauseScores, Decision};
use crate::model::transformer::TransformerEncoder;
use crate::model::tuned::{self, BelowCache, TrainSettings, Trainable};

/// Format tag of `topic-model.json`.
pub const TOPIC_MODEL_FORMAT: &str = "verbatim-topic-model/1";
/// The metadata file of a topic-model folder.
pub const META_FILE: &str = "topic-model.json";
/// The weights file of a topic-model folder.
pub const WEIGHTS_FILE: &str = "topics.safetensors";

/// Held-out scores of the chosen threshold.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HeldOut {
    pub folds: usize,
    /// Labelled comments predicted out of fold (examples are never held out).
    pub rows: usize,
    pub micro_precision: f64,
    pub micro_recall: f64,
    pub micro_f1: f64,
    /// Per topic id: positives, predicted, precision, recall, F1.
    pub per_topic: BTreeMap<String, [f64; 5]>,
}

/// `topic-model.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TopicModelFile {
    pub format: String,
    pub taxonomy: TaxonomyRef,
    /// The head's topics, in order (the taxonomy's ids).
    pub topics: Vec<String>,
    /// Encoder name and the sha256 of its weights.
    pub model: String,
    pub model_sha256: String,
    /// Index of the first tuned layer; the model's layers below it are shared.
    pub split: usize,
    pub settings: TrainSettings,
    /// Probability a topic needs (all topics).
    pub threshold: f32,
    /// How the threshold was chosen.
    pub threshold_rule: String,
    pub training: Vec<TrainingSource>,
    /// Labelled comments and taxonomy examples trained on.
    pub labelled_rows: usize,
    pub example_rows: usize,
    pub held_out: Option<HeldOut>,
    /// Whether the taxonomy's `must` keywords gate the model's topics at
    /// analysis (their `exclude` keywords always do). Absent in files of
    /// before: true.
    #[serde(default = "gates_by_default")]
    pub must_gates: bool,
    /// How `must_gates` was chosen.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub must_gates_rule: String,
    /// Mean training loss of each epoch of the final fit.
    pub losses: Vec<f64>,
    pub weights_sha256: String,
    pub weights_bytes: u64,
    pub train_seconds: f64,
    pub tool_version: String,
}

/// Optimizer steps a fine-tuning gets at least, where [`default_epochs`]
/// allows: on a user's taxonomy with 500 labelled comments (SemEval
/// restaurants, `benches/active_learning.py`), 6 epochs (about 100 steps)
/// left the model unsure (its threshold fell to 0.14, micro-F1 0.72 on held-out
/// sentences), 15 and 25 epochs gave 0.79 and 0.78; with 200, 40 epochs gave
/// 0.73 against 0.71 at 15.
pub const MIN_STEPS: usize = 400;

/// Passes over `rows` training rows that make at least [`MIN_STEPS`] steps
/// of `batch` rows, between 6 (the shipped model's, on 2,281 rows) and 40.
pub fn default_epochs(rows: usize, batch: usize) -> usize {
    (MIN_STEPS * batch).div_ceil(rows.max(1)).clamp(6, 40)
}

fn gates_by_default() -> bool {
    true
}

/// Whether a topic model's topics are gated by the taxonomy's `must`
/// keywords (`train topics --fine-tune K --must-gates`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MustGates {
    /// The variant with the better micro F-beta on the out-of-fold
    /// predictions of the labelled comments (gated without folds).
    Auto,
    On,
    Off,
}

impl MustGates {
    pub const ALL: [MustGates; 3] = [MustGates::Auto, MustGates::On, MustGates::Off];

    pub fn as_str(self) -> &'static str {
        match self {
            MustGates::Auto => "auto",
            MustGates::On => "on",
            MustGates::Off => "off",
        }
    }
}

/// `probs` with the probability of each topic its `must` keywords bar in
/// that text set to 0 (any language's list: training texts have no detected
/// language).
fn gated(probs: &[Vec<f32>], texts: &[String], taxonomy: &Taxonomy) -> Vec<Vec<f32>> {
    let filters: Vec<_> = taxonomy.topics.iter().map(|t| t.keyword_filter()).collect();
    probs
        .iter()
        .zip(texts)
        .map(|(p, text)| {
            let words = super::keywords::Normalized::new(text);
            p.iter()
                .zip(&filters)
                .map(|(&p, f)| if f.must_allows(&words, None) { p } else { 0.0 })
                .collect()
        })
        .collect()
}

/// Folder of the topic model shipped for the default taxonomy and encoder,
/// relative to the source tree; its files are compiled in.
pub const SHIPPED_DIR: &str = "models/topic-model/contact-center-multilingual-e5-small";
const SHIPPED_META: &str =
    include_str!("../../models/topic-model/contact-center-multilingual-e5-small/topic-model.json");
static SHIPPED_WEIGHTS: &[u8] = include_bytes!(
    "../../models/topic-model/contact-center-multilingual-e5-small/topics.safetensors"
);

/// The shipped topic model's metadata (`SHIPPED_DIR/topic-model.json`).
pub fn shipped_meta() -> Result<TopicModelFile> {
    super::parse_fitted(SHIPPED_META, TOPIC_MODEL_FORMAT, |m: &TopicModelFile| {
        &m.format
    })
    .with_context(|| format!("the shipped topic model {SHIPPED_DIR}/{META_FILE}"))
}

/// A topic model read from its folder.
pub struct TopicModelDir {
    pub meta: TopicModelFile,
    pub tensors: HashMap<String, Tensor>,
    pub dir: PathBuf,
}

impl TopicModelDir {
    /// Reads `dir/topic-model.json` and `dir/topics.safetensors`, checking
    /// the format and the weights' checksum.
    pub fn load(dir: &Path) -> Result<TopicModelDir> {
        let meta_path = dir.join(META_FILE);
        let meta: TopicModelFile = super::load_fitted(&meta_path, "topic model", |t| {
            super::parse_fitted(t, TOPIC_MODEL_FORMAT, |m: &TopicModelFile| &m.format)
        })?;
        let weights = dir.join(WEIGHTS_FILE);
        let sum = crate::model::manifest::sha256_file(&weights)?;
        ensure!(
            sum == meta.weights_sha256,
            "{}: checksum {} differs from the {} that {} records",
            weights.display(),
            &sum[..12],
            &meta.weights_sha256[..12.min(meta.weights_sha256.len())],
            meta_path.display()
        );
        Ok(TopicModelDir {
            tensors: tuned::read_branch(&weights)?,
            meta,
            dir: dir.to_path_buf(),
        })
    }

    /// The topic model shipped for the default taxonomy and encoder, when it
    /// was trained for exactly `taxonomy` (same sha256) and the encoder whose
    /// weights have `weights_sha256`; `None` otherwise.
    pub fn shipped_for(taxonomy: &Taxonomy, weights_sha256: &str) -> Result<Option<TopicModelDir>> {
        let meta = shipped_meta()?;
        if meta.taxonomy.sha256 != taxonomy.sha256 || meta.model_sha256 != weights_sha256 {
            return Ok(None);
        }
        let sum = crate::model::manifest::sha256_bytes(SHIPPED_WEIGHTS);
        ensure!(
            sum == meta.weights_sha256,
            "the shipped topic model {SHIPPED_DIR}: weights checksum {} differs from the {} its {META_FILE} records",
            &sum[..12],
            &meta.weights_sha256[..12.min(meta.weights_sha256.len())]
        );
        let dir = PathBuf::from(SHIPPED_DIR);
        Ok(Some(TopicModelDir {
            tensors: tuned::branch_from_bytes(SHIPPED_WEIGHTS, &dir.join(WEIGHTS_FILE))?,
            meta,
            dir,
        }))
    }

    /// Fails unless the model was trained for `taxonomy` and the encoder
    /// whose weights have `weights_sha256`.
    pub fn check(&self, taxonomy: &Taxonomy, weights_sha256: &str) -> Result<()> {
        let m = &self.meta;
        ensure!(
            m.taxonomy.sha256 == taxonomy.sha256,
            "the topic model {} was trained for the taxonomy `{}` {} (sha256 {}), not for `{}` {} (sha256 {}); train one with `verbatim train topics --fine-tune K`",
            self.dir.display(),
            m.taxonomy.name,
            m.taxonomy.version,
            &m.taxonomy.sha256[..12.min(m.taxonomy.sha256.len())],
            taxonomy.name,
            taxonomy.version,
            &taxonomy.sha256[..12]
        );
        ensure!(
            m.model_sha256 == weights_sha256,
            "the topic model {} was trained on the encoder with weights sha256 {}, not on this one ({})",
            self.dir.display(),
            &m.model_sha256[..12.min(m.model_sha256.len())],
            &weights_sha256[..12.min(weights_sha256.len())]
        );
        Ok(())
    }

    /// Attaches the branch to `encoder` (see
    /// [`TransformerEncoder::attach_topic_branch`]).
    pub fn attach(&self, encoder: &mut TransformerEncoder) -> Result<()> {
        encoder.attach_topic_branch(&self.tensors, self.meta.split, &self.dir.join(WEIGHTS_FILE))
    }
}

/// The tuned rule: per topic, the allowed clause with the highest
/// probability; the topic when that probability reaches `threshold(topic)`.
pub fn tuned_rule(
    scores: &ClauseScores,
    clause_probs: &[Vec<f32>],
    threshold: impl Fn(usize) -> f32,
) -> Vec<Decision> {
    let topics = clause_probs.first().map_or(0, Vec::len);
    (0..topics)
        .filter_map(|t| {
            let (c, p) = clause_probs
                .iter()
                .enumerate()
                .filter(|(c, _)| scores.sims[*c][t].is_finite())
                .map(|(c, p)| (c, p[t]))
                .fold(None, |best: Option<(usize, f32)>, (c, p)| match best {
                    Some((_, b)) if b >= p => best,
                    _ => Some((c, p)),
                })?;
            (p >= threshold(t)).then(|| Decision {
                topic: t,
                clause: c,
                similarity: scores.sims[c][t],
                confidence: p,
            })
        })
        .collect()
}

/// What `train` needs besides the settings.
pub struct FineTuneInput<'a> {
    pub rows: &'a [TopicLabelled],
    pub taxonomy: &'a Taxonomy,
    pub sources: Vec<TrainingSource>,
    pub model_sha256: String,
    /// Cross-validation folds for the threshold (0: no cross-validation,
    /// threshold 0.5).
    pub folds: usize,
    pub must_gates: MustGates,
    /// The threshold (and `MustGates::Auto`) maximise micro F-beta of the
    /// out-of-fold predictions: 0.5 (the default, [`DEFAULT_BETA`]) counts
    /// precision twice, 1 weighs precision and recall alike.
    pub beta: f64,
}

/// F-beta the threshold maximises unless `--beta` says otherwise: a wrong
/// topic costs more than a missed one.
pub const DEFAULT_BETA: f64 = 0.5;

/// The texts and targets trained on: the labelled comments, then each
/// topic's examples labelled with the topic.
fn training_set(input: &FineTuneInput) -> (Vec<String>, Vec<Vec<f32>>) {
    let n = input.taxonomy.topics.len();
    let mut texts = Vec::new();
    let mut targets = Vec::new();
    for r in input.rows {
        let mut y = vec![0f32; n];
        r.topics.iter().for_each(|&t| y[t] = 1.0);
        texts.push(r.text.clone());
        targets.push(y);
    }
    for (t, topic) in input.taxonomy.topics.iter().enumerate() {
        for e in topic.all_examples() {
            let mut y = vec![0f32; n];
            y[t] = 1.0;
            texts.push(e.to_string());
            targets.push(y);
        }
    }
    (texts, targets)
}

/// The threshold in 0.05..=0.95 (steps of 0.01) that maximises micro
/// F-beta of `probs` against `truth`; ties go to the higher one.
pub fn choose_threshold(probs: &[Vec<f32>], truth: &[Vec<f32>], beta: f64) -> f32 {
    let mut best = (0.5f32, -1.0f64);
    for step in 5..=95 {
        let t = step as f32 / 100.0;
        let f = f_beta(probs, truth, t, beta);
        if f >= best.1 {
            best = (t, f);
        }
    }
    best.0
}

/// Micro F-beta of `probs` against `truth` at threshold `t`.
fn f_beta(probs: &[Vec<f32>], truth: &[Vec<f32>], t: f32, beta: f64) -> f64 {
    let (tp, fp, fn_) = counts(probs, truth, t);
    let (p, r) = (ratio(tp, tp + fp), ratio(tp, tp + fn_));
    let b2 = beta * beta;
    if p + r > 0.0 {
        (1.0 + b2) * p * r / (b2 * p + r)
    } else {
        0.0
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

fn counts(probs: &[Vec<f32>], truth: &[Vec<f32>], t: f32) -> (usize, usize, usize) {
    let (mut tp, mut fp, mut fn_) = (0, 0, 0);
    for (p, y) in probs.iter().zip(truth) {
        for (&p, &y) in p.iter().zip(y) {
            match (p >= t, y > 0.5) {
                (true, true) => tp += 1,
                (true, false) => fp += 1,
                (false, true) => fn_ += 1,
                _ => {}
            }
        }
    }
    (tp, fp, fn_)
}

/// Scores of held-out predictions at threshold `t`.
fn held_out(
    probs: &[Vec<f32>],
    truth: &[Vec<f32>],
    t: f32,
    folds: usize,
    taxonomy: &Taxonomy,
) -> HeldOut {
    let (tp, fp, fn_) = counts(probs, truth, t);
    let (p, r) = (ratio(tp, tp + fp), ratio(tp, tp + fn_));
    let f1 = |p: f64, r: f64| {
        if p + r > 0.0 {
            2.0 * p * r / (p + r)
        } else {
            0.0
        }
    };
    let per_topic = taxonomy
        .topics
        .iter()
        .enumerate()
        .map(|(j, topic)| {
            let col = |m: &[Vec<f32>]| -> Vec<Vec<f32>> { m.iter().map(|v| vec![v[j]]).collect() };
            let (tp, fp, fn_) = counts(&col(probs), &col(truth), t);
            let (p, r) = (ratio(tp, tp + fp), ratio(tp, tp + fn_));
            let row = [(tp + fn_) as f64, (tp + fp) as f64, p, r, f1(p, r)];
            (topic.id.clone(), row)
        })
        .collect();
    HeldOut {
        folds,
        rows: probs.len(),
        micro_precision: p,
        micro_recall: r,
        micro_f1: f1(p, r),
        per_topic,
    }
}

/// Trains a branch on rows `idx` of the cache and returns it.
fn fit(
    encoder: &TransformerEncoder,
    originals: &HashMap<String, Tensor>,
    data: (&BelowCache, &[Vec<f32>]),
    idx: &[usize],
    s: &TrainSettings,
    label: &str,
) -> Result<(Trainable, Vec<f64>)> {
    let fused = encoder.fused_pass()?;
    let split = fused.depth() - s.layers;
    let topics = data.1.first().map_or(0, Vec::len);
    let mut t = Trainable::new(
        originals,
        encoder.family(),
        split,
        fused.hidden_size(),
        topics,
        s.seed,
    );
    let started = std::time::Instant::now();
    let losses = t.train(fused, data.0, data.1, idx, s, &mut |epoch, loss| {
        eprintln!(
            "  {label}: epoch {} of {}, loss {loss:.4} ({:.0} s)",
            epoch + 1,
            s.epochs,
            started.elapsed().as_secs_f64()
        );
    })?;
    Ok((t, losses))
}

/// Out-of-fold probabilities of the labelled rows (the first `labelled`
/// rows of the cache), each predicted by a branch trained on the other
/// folds and every example row.
fn out_of_fold(
    encoder: &TransformerEncoder,
    originals: &HashMap<String, Tensor>,
    data: (&BelowCache, &[Vec<f32>]),
    labelled: usize,
    folds: usize,
    s: &TrainSettings,
) -> Result<Vec<Vec<f32>>> {
    let rows: Vec<Row> = data.1[..labelled]
        .iter()
        .map(|y| Row {
            features: Vec::new(),
            truth: y.iter().map(|&v| v > 0.5).collect(),
        })
        .collect();
    let all: Vec<usize> = (0..labelled).collect();
    let fold_of = stratified_folds(&rows, &all, folds);
    let mut probs = vec![Vec::new(); labelled];
    for f in 0..folds {
        let held: Vec<usize> = all.iter().copied().filter(|&i| fold_of[i] == f).collect();
        let train: Vec<usize> = (0..data.1.len())
            .filter(|&i| i >= labelled || fold_of[i] != f)
            .collect();
        let (t, _) = fit(
            encoder,
            originals,
            data,
            &train,
            s,
            &format!("fold {} of {folds}", f + 1),
        )?;
        let p = t.predict(encoder.fused_pass()?, data.0, &held, 64)?;
        for (&i, p) in held.iter().zip(p) {
            probs[i] = p;
        }
    }
    Ok(probs)
}

/// Fine-tunes the top `s.layers` layers of `encoder` (loaded in float32)
/// and a topic head; writes the topic-model folder `out`.
pub fn train(
    encoder: &TransformerEncoder,
    input: FineTuneInput,
    s: &TrainSettings,
    out: &Path,
) -> Result<TopicModelFile> {
    let started = std::time::Instant::now();
    let fused = encoder.fused_pass()?;
    let depth = fused.depth();
    ensure!(
        (1..=depth).contains(&s.layers),
        "--fine-tune {}: the model has {depth} layers (1 to {depth})",
        s.layers
    );
    let split = depth - s.layers;
    let (texts, targets) = training_set(&input);
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    eprintln!(
        "running the {split} frozen layers once over {} labelled comments and {} examples",
        input.rows.len(),
        texts.len() - input.rows.len()
    );
    let cache = encoder.below(&refs, split)?;
    let originals = encoder.top_layers(s.layers)?;
    let data = (&cache, targets.as_slice());
    let labelled = input.rows.len();
    let (threshold, held, must_gates, must_gates_rule) = if input.folds >= 2 {
        let probs = out_of_fold(encoder, &originals, data, labelled, input.folds, s)?;
        let truth = &targets[..labelled];
        let with_gates = gated(&probs, &texts[..labelled], input.taxonomy);
        let score = |p: &[Vec<f32>]| {
            let t = choose_threshold(p, truth, input.beta);
            (t, f_beta(p, truth, t, input.beta))
        };
        let (on, off) = (score(&with_gates), score(&probs));
        let gates = match input.must_gates {
            MustGates::On => true,
            MustGates::Off => false,
            // Gates only where they do better on held-out comments.
            MustGates::Auto => on.1 > off.1,
        };
        let rule = format!(
            "{}: out-of-fold micro F{} {:.3} with the gates, {:.3} without",
            match input.must_gates {
                MustGates::Auto => "the better on held-out comments",
                MustGates::On | MustGates::Off => "as given (--must-gates)",
            },
            input.beta,
            on.1,
            off.1
        );
        let (t, p) = if gates {
            (on.0, &with_gates)
        } else {
            (off.0, &probs)
        };
        let h = held_out(p, truth, t, input.folds, input.taxonomy);
        (t, Some(h), gates, rule)
    } else {
        let gates = input.must_gates != MustGates::Off;
        (
            0.5,
            None,
            gates,
            "no cross-validation: gated unless --must-gates off".into(),
        )
    };
    let all: Vec<usize> = (0..texts.len()).collect();
    let (t, losses) = fit(encoder, &originals, data, &all, s, "all rows")?;
    let tensors = tuned::round_as_saved(&t.tensors());
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let weights = out.join(WEIGHTS_FILE);
    let bytes = tuned::save_branch(&tensors, &weights)?;
    let tax = input.taxonomy;
    let meta = TopicModelFile {
        format: TOPIC_MODEL_FORMAT.into(),
        taxonomy: TaxonomyRef {
            name: tax.name.clone(),
            version: tax.version.clone(),
            sha256: tax.sha256.clone(),
        },
        topics: tax.topics.iter().map(|t| t.id.clone()).collect(),
        model: encoder.info().name.clone().unwrap_or_default(),
        model_sha256: input.model_sha256,
        split,
        settings: *s,
        threshold,
        threshold_rule: if held.is_some() {
            format!(
                "max micro F{} over 0.05..0.95 on out-of-fold probabilities of the labelled comments (whole comments)",
                input.beta
            )
        } else {
            "fixed 0.5 (no cross-validation)".into()
        },
        training: input.sources,
        labelled_rows: labelled,
        example_rows: texts.len() - labelled,
        held_out: held,
        must_gates,
        must_gates_rule,
        losses,
        weights_sha256: crate::model::manifest::sha256_file(&weights)?,
        weights_bytes: bytes,
        train_seconds: started.elapsed().as_secs_f64(),
        tool_version: env!("CARGO_PKG_VERSION").into(),
    };
    let json = serde_json::to_string_pretty(&meta)?;
    std::fs::write(out.join(META_FILE), json + "\n")
        .with_context(|| format!("writing {}", out.join(META_FILE).display()))?;
    Ok(meta)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_threshold_follows_beta() {
        // (probability, label): above 0.6 one sure positive; from 0.6 down
        // a positive and a negative; at 0.2 a positive and two negatives.
        let rows = [
            (0.9, 1.0),
            (0.6, 1.0),
            (0.6, 0.0),
            (0.2, 1.0),
            (0.2, 0.0),
            (0.2, 0.0),
        ];
        let probs: Vec<Vec<f32>> = rows.iter().map(|r| vec![r.0]).collect();
        let truth: Vec<Vec<f32>> = rows.iter().map(|r| vec![r.1]).collect();
        // F0.5 at > 0.6: P 1, R 1/3 -> 0.714; at 0.6: P R 2/3 -> 0.667;
        // at 0.2: P 1/2, R 1 -> 0.556. F1: 0.5, 0.667, 0.667 (ties go up).
        let strict = choose_threshold(&probs, &truth, 0.5);
        assert!(strict > 0.6 && strict <= 0.9, "{strict}");
        assert!(
            (f_beta(&probs, &truth, strict, 0.5) - 1.25 / 3.0 / (0.25 + 1.0 / 3.0)).abs() < 1e-9
        );
        let even = choose_threshold(&probs, &truth, 1.0);
        assert!((even - 0.6).abs() < 1e-6, "{even}");
        assert!((f_beta(&probs, &truth, even, 1.0) - 2.0 / 3.0).abs() < 1e-9);
        assert_eq!(DEFAULT_BETA, 0.5);
    }
}
