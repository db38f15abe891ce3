//! Sentiment head: a multinomial logistic regression on the encoder's vectors.
//!
//! The default head is fitted on labelled example comments that the project
//! wrote itself (`models/sentiment/train/*.csv`, five languages, ten domains of
//! customer feedback, and neutral rows that state facts or carry no opinion), so the shipped weights carry no third-party data. A
//! head belongs to one encoder: its file records the encoder's weights
//! checksum, and a head fitted for another encoder is refused. For an encoder
//! without a saved head, [`fit`] fits one at start-up from the same examples.
//!
//! Fitting is `linfa-logistic`'s L-BFGS with an L2 penalty. [`train`] picks
//! the penalty by k-fold cross-validation on held-out log-loss, then fits a
//! softmax temperature on the out-of-fold predictions, so the probabilities
//! it reports are calibrated on text the head has not seen.

use crate::input::labelled::{read_labelled, LabelledSpec};
use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{bail, ensure, Context, Result};
use linfa::prelude::*;
use linfa_logistic::MultiLogisticRegression;
use ndarray::{Array1, Array2};
use serde::{Deserialize, Serialize};

use super::{Polarity, Sentiment};

/// File format tag written into every head file.
pub const HEAD_FORMAT: &str = "verbatim-sentiment-head/1";

/// The project's own labelled examples, compiled in: (file name, contents).
pub const DEFAULT_TRAINING: &[(&str, &str)] = &[
    (
        "de.csv",
        include_str!("../../models/sentiment/train/de.csv"),
    ),
    (
        "en.csv",
        include_str!("../../models/sentiment/train/en.csv"),
    ),
    (
        "es.csv",
        include_str!("../../models/sentiment/train/es.csv"),
    ),
    (
        "fr.csv",
        include_str!("../../models/sentiment/train/fr.csv"),
    ),
    (
        "nl.csv",
        include_str!("../../models/sentiment/train/nl.csv"),
    ),
];

/// The head fitted for the default model, compiled in.
pub const DEFAULT_HEAD: &str =
    include_str!("../../models/sentiment/head-multilingual-e5-small.json");

/// The three classes, in the order of the head's rows.
pub const CLASSES: [Polarity; 3] = [Polarity::Negative, Polarity::Neutral, Polarity::Positive];

/// One labelled example.
#[derive(Clone, Debug, PartialEq)]
pub struct Labelled {
    pub text: String,
    pub label: Polarity,
}

/// Where a head's training rows came from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainingSource {
    pub file: String,
    pub sha256: String,
    pub rows: usize,
}

/// How a head was fitted and for which encoder.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Provenance {
    /// Encoder name as in the run manifest.
    pub model: String,
    /// sha256 of the encoder's weights; the head is only valid for them.
    pub model_sha256: String,
    pub training: Vec<TrainingSource>,
    /// Training rows per class.
    pub rows_per_class: BTreeMap<String, usize>,
    /// L2 penalty of the final fit.
    pub alpha: f64,
    /// How `alpha` and the temperature were chosen.
    pub selection: String,
    /// Mean out-of-fold macro-F1 and log-loss of the chosen setting, when
    /// cross-validated.
    pub cv_macro_f1: Option<f64>,
    pub cv_log_loss: Option<f64>,
    pub tool_version: String,
}

/// A fitted head, as stored in a JSON file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SentimentHead {
    pub format: String,
    pub provenance: Provenance,
    pub dim: usize,
    /// Class names, in the order of `weights` and `bias`.
    pub classes: Vec<String>,
    /// One row of `dim` weights per class.
    pub weights: Vec<Vec<f32>>,
    pub bias: Vec<f32>,
    /// Logits are divided by this before the softmax (calibration).
    pub temperature: f32,
}

impl SentimentHead {
    /// Reads a head file written by [`SentimentHead::save`].
    pub fn load(path: &Path) -> Result<SentimentHead> {
        super::load_fitted(path, "sentiment head", Self::parse)
    }

    /// Parses and checks a head from JSON text.
    pub fn parse(text: &str) -> Result<SentimentHead> {
        let head: SentimentHead =
            super::parse_fitted(text, HEAD_FORMAT, |h: &SentimentHead| &h.format)?;
        let want: Vec<&str> = CLASSES.iter().map(|c| c.as_str()).collect();
        ensure!(
            head.classes == want,
            "classes {:?}, expected {want:?}",
            head.classes
        );
        ensure!(
            head.weights.len() == 3 && head.bias.len() == 3,
            "expected 3 weight rows and 3 biases"
        );
        ensure!(
            head.weights.iter().all(|w| w.len() == head.dim),
            "every weight row must have dim = {} values",
            head.dim
        );
        ensure!(
            head.temperature.is_finite() && head.temperature > 0.0,
            "temperature must be a positive number"
        );
        ensure!(
            head.weights
                .iter()
                .flatten()
                .chain(&head.bias)
                .all(|x| x.is_finite()),
            "weights must be finite numbers"
        );
        Ok(head)
    }

    /// The head shipped for the default model.
    pub fn default_head() -> SentimentHead {
        Self::parse(DEFAULT_HEAD)
            .expect("models/sentiment/head-multilingual-e5-small.json is valid")
    }

    /// Writes the head as pretty JSON (atomically: temp file, then rename).
    pub fn save(&self, path: &Path) -> Result<()> {
        crate::model::write_file_whole(path, true, |w| {
            serde_json::to_writer_pretty(&mut *w, self)?;
            w.write_all(b"\n")?;
            Ok(())
        })
    }

    /// Refuses a head fitted for other weights or another dimension.
    pub fn check_encoder(&self, dim: usize, weights_sha256: &str) -> Result<()> {
        ensure!(
            self.dim == dim,
            "the sentiment head has dimension {} but the encoder gives {dim}",
            self.dim
        );
        if self.provenance.model_sha256 != weights_sha256 {
            bail!(
                "the sentiment head was fitted for the model `{}` (weights sha256 {}), not for these weights ({weights_sha256})",
                self.provenance.model,
                short(&self.provenance.model_sha256)
            );
        }
        Ok(())
    }

    /// Class probabilities (negative, neutral, positive) of one unit vector.
    pub fn probabilities(&self, v: &[f32]) -> [f32; 3] {
        let mut z = [0f32; 3];
        for (k, zk) in z.iter_mut().enumerate() {
            let s: f32 = self.weights[k].iter().zip(v).map(|(w, x)| w * x).sum();
            *zk = (s + self.bias[k]) / self.temperature;
        }
        softmax3(z)
    }

    /// Sentiment of one unit vector.
    pub fn sentiment(&self, v: &[f32]) -> Sentiment {
        sentiment_of(self.probabilities(v))
    }
}

fn short(s: &str) -> &str {
    &s[..s.len().min(12)]
}

fn softmax3(z: [f32; 3]) -> [f32; 3] {
    let m = z.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
    let e = z.map(|x| (x - m).exp());
    let t: f32 = e.iter().sum();
    e.map(|x| x / t)
}

/// Label, score P(pos) − P(neg) and confidence from class probabilities.
pub fn sentiment_of(p: [f32; 3]) -> Sentiment {
    let mut best = 0;
    for k in 1..3 {
        if p[k] > p[best] {
            best = k;
        }
    }
    Sentiment {
        label: CLASSES[best],
        score: p[2] - p[0],
        confidence: p[best],
    }
}

/// Parses a polarity label: negative/neutral/positive, also the German
/// and short forms that labelled sets use (negativ, neg, -1, 0, 1…).
pub fn parse_polarity(s: &str) -> Option<Polarity> {
    match s.trim().to_lowercase().as_str() {
        "negative" | "negativ" | "neg" | "-1" | "-" => Some(Polarity::Negative),
        "neutral" | "neu" | "0" | "o" => Some(Polarity::Neutral),
        "positive" | "positiv" | "pos" | "1" | "+1" | "+" => Some(Polarity::Positive),
        _ => None,
    }
}

/// The label of a comment that states a positive and a negative opinion
/// ("friendly agent but I waited 40 minutes"). The head has three classes
/// and learns nothing from such a row (`analyze` says mixed from the
/// clauses: `sentiment_mixed`), so training leaves it out and counts it.
pub const MIXED: &str = "mixed";

/// Labelled rows of a CSV, and how many said [`MIXED`] (left out).
#[derive(Debug, Default)]
pub struct LabelledRows {
    pub rows: Vec<Labelled>,
    pub mixed: usize,
}

/// Reads labelled rows from CSV text with a header (`text` and `label`
/// columns by default); rows labelled [`MIXED`] are counted, not kept.
/// Errors name the file, line and column.
pub fn read_labelled_csv(
    text: &str,
    file: &str,
    text_column: &str,
    label_column: &str,
) -> Result<LabelledRows> {
    let spec = LabelledSpec::csv(text_column, label_column);
    let mut out = LabelledRows::default();
    for row in read_labelled(text.as_bytes(), file, &spec)?.rows {
        let line = row.line;
        let label_text = row.label.as_str();
        if label_text.trim().eq_ignore_ascii_case(MIXED) {
            out.mixed += 1;
            continue;
        }
        let label = parse_polarity(label_text).with_context(|| {
            format!("{file}:{line}: column `{label_column}`: `{label_text}` is not negative, neutral, positive or mixed")
        })?;
        let t = row.text.trim();
        if t.is_empty() {
            bail!("{file}:{line}: column `{text_column}` is empty");
        }
        out.rows.push(Labelled {
            text: t.to_string(),
            label,
        });
    }
    Ok(out)
}

/// The compiled-in training rows with their sources.
pub fn default_training() -> Result<(Vec<Labelled>, Vec<TrainingSource>)> {
    let mut rows = Vec::new();
    let mut sources = Vec::new();
    for (name, text) in DEFAULT_TRAINING {
        let file = format!("models/sentiment/train/{name}");
        let r = read_labelled_csv(text, &file, "text", "label")?.rows;
        sources.push(TrainingSource {
            file,
            sha256: crate::model::manifest::sha256_bytes(text.as_bytes()),
            rows: r.len(),
        });
        rows.extend(r);
    }
    Ok((rows, sources))
}

fn class_index(p: Polarity) -> usize {
    CLASSES.iter().position(|c| *c == p).unwrap_or(1)
}

/// Raw fit: weights (3 × dim) and biases, on unit vectors.
fn fit_raw(x: &[Vec<f32>], y: &[usize], alpha: f64) -> Result<(Vec<Vec<f32>>, Vec<f32>)> {
    ensure!(!x.is_empty(), "no training rows");
    let dim = x[0].len();
    let mut present = [false; 3];
    y.iter().for_each(|&k| present[k] = true);
    ensure!(
        present.iter().all(|&p| p),
        "the training rows must have all three classes (negative, neutral, positive)"
    );
    let mut xa = Array2::<f64>::zeros((x.len(), dim));
    for (i, v) in x.iter().enumerate() {
        for (j, &f) in v.iter().enumerate() {
            xa[(i, j)] = f as f64;
        }
    }
    let ya = Array1::from_vec(y.to_vec());
    let ds = Dataset::new(xa, ya);
    let model = MultiLogisticRegression::default()
        .alpha(alpha)
        .max_iterations(300)
        .fit(&ds)
        .context("fitting the sentiment head")?;
    let params = model.params(); // dim × n_classes, columns in `classes()` order
    let classes = model.classes();
    let mut weights = vec![vec![0f32; dim]; 3];
    let mut bias = vec![0f32; 3];
    for (col, &k) in classes.iter().enumerate() {
        for j in 0..dim {
            weights[k][j] = params[(j, col)] as f32;
        }
        bias[k] = model.intercept()[col] as f32;
    }
    Ok((weights, bias))
}

fn logits(weights: &[Vec<f32>], bias: &[f32], v: &[f32]) -> [f32; 3] {
    let mut z = [0f32; 3];
    for k in 0..3 {
        z[k] = weights[k].iter().zip(v).map(|(w, x)| w * x).sum::<f32>() + bias[k];
    }
    z
}

/// Mean negative log-likelihood of the labels under temperature `t`.
fn log_loss(z: &[[f32; 3]], y: &[usize], t: f32) -> f64 {
    let mut s = 0f64;
    for (zi, &k) in z.iter().zip(y) {
        let p = softmax3(zi.map(|v| v / t));
        s -= (p[k].max(1e-12) as f64).ln();
    }
    s / z.len().max(1) as f64
}

/// Temperature minimising the log-loss, by golden-section search on log t.
fn fit_temperature(z: &[[f32; 3]], y: &[usize]) -> f32 {
    let (mut a, mut b) = ((0.05f64).ln(), (20f64).ln());
    let g = (5f64.sqrt() - 1.0) / 2.0;
    let f = |lt: f64| log_loss(z, y, lt.exp() as f32);
    let (mut c, mut d) = (b - g * (b - a), a + g * (b - a));
    for _ in 0..60 {
        if f(c) < f(d) {
            b = d;
        } else {
            a = c;
        }
        c = b - g * (b - a);
        d = a + g * (b - a);
    }
    ((a + b) / 2.0).exp() as f32
}

/// Macro-F1 over the three classes.
pub fn macro_f1(truth: &[usize], pred: &[usize]) -> f64 {
    let mut f = 0.0;
    for k in 0..3 {
        let tp = truth
            .iter()
            .zip(pred)
            .filter(|(t, p)| **t == k && **p == k)
            .count() as f64;
        let fp = truth
            .iter()
            .zip(pred)
            .filter(|(t, p)| **t != k && **p == k)
            .count() as f64;
        let fn_ = truth
            .iter()
            .zip(pred)
            .filter(|(t, p)| **t == k && **p != k)
            .count() as f64;
        f += if tp == 0.0 {
            0.0
        } else {
            2.0 * tp / (2.0 * tp + fp + fn_)
        };
    }
    f / 3.0
}

fn argmax3(z: [f32; 3]) -> usize {
    let mut b = 0;
    for k in 1..3 {
        if z[k] > z[b] {
            b = k;
        }
    }
    b
}

/// What [`train`] is told about the data and the encoder.
pub struct TrainInput<'a> {
    /// Unit vectors of the training texts.
    pub vectors: &'a [Vec<f32>],
    pub labels: &'a [Polarity],
    pub sources: Vec<TrainingSource>,
    pub model: String,
    pub model_sha256: String,
}

/// Fits with a fixed penalty and no calibration: the quick fit for an
/// encoder that has no saved head.
pub fn fit(input: TrainInput, alpha: f64) -> Result<SentimentHead> {
    let y: Vec<usize> = input.labels.iter().map(|&l| class_index(l)).collect();
    let (weights, bias) = fit_raw(input.vectors, &y, alpha)?;
    Ok(assemble(
        input,
        Parameters {
            weights,
            bias,
            temperature: 1.0,
        },
        Selection {
            alpha,
            how: "fixed alpha, temperature 1 (quick fit at start-up)".into(),
            cv_macro_f1: None,
            cv_log_loss: None,
        },
    ))
}

/// The fitted numbers of a head.
struct Parameters {
    /// One row of weights per class.
    weights: Vec<Vec<f32>>,
    bias: Vec<f32>,
    /// Calibration temperature of the logits.
    temperature: f32,
}

/// How the penalty and the temperature were chosen, for the provenance.
struct Selection {
    /// L2 penalty of the final fit.
    alpha: f64,
    /// In words.
    how: String,
    /// Out-of-fold figures of the chosen setting, when cross-validated.
    cv_macro_f1: Option<f64>,
    cv_log_loss: Option<f64>,
}

/// The head of `params` for the encoder and data of `input`.
fn assemble(input: TrainInput, params: Parameters, selection: Selection) -> SentimentHead {
    let mut rows_per_class = BTreeMap::new();
    for l in input.labels {
        *rows_per_class.entry(l.as_str().to_string()).or_insert(0) += 1;
    }
    SentimentHead {
        format: HEAD_FORMAT.into(),
        provenance: Provenance {
            model: input.model,
            model_sha256: input.model_sha256,
            training: input.sources,
            rows_per_class,
            alpha: selection.alpha,
            selection: selection.how,
            cv_macro_f1: selection.cv_macro_f1,
            cv_log_loss: selection.cv_log_loss,
            tool_version: env!("CARGO_PKG_VERSION").into(),
        },
        dim: input.vectors.first().map_or(0, Vec::len),
        classes: CLASSES.iter().map(|c| c.as_str().to_string()).collect(),
        weights: params.weights,
        bias: params.bias,
        temperature: params.temperature,
    }
}

/// Penalties tried by [`train`].
pub const ALPHAS: [f64; 5] = [0.001, 0.01, 0.1, 1.0, 10.0];

/// Fits a calibrated head: `folds`-fold cross-validation over [`ALPHAS`]
/// (stratified: the j-th row of each class is in fold j mod folds, so the
/// result is identical on rerun), the
/// penalty with the lowest held-out log-loss, a temperature fitted on the
/// out-of-fold logits of that penalty, then a final fit on all rows.
pub fn train(input: TrainInput, folds: usize) -> Result<SentimentHead> {
    let folds = folds.max(2);
    let y: Vec<usize> = input.labels.iter().map(|&l| class_index(l)).collect();
    let x = input.vectors;
    ensure!(
        x.len() >= folds * 3,
        "too few training rows ({}) for {folds} folds",
        x.len()
    );
    // Stratified folds: the j-th row of each class goes to fold j mod folds.
    let mut seen = [0usize; 3];
    let fold: Vec<usize> = y
        .iter()
        .map(|&k| {
            seen[k] += 1;
            (seen[k] - 1) % folds
        })
        .collect();
    let mut best: Option<(f64, f64, f64, f32)> = None; // (loss, alpha, f1, temperature)
    for &alpha in &ALPHAS {
        let mut oof = vec![[0f32; 3]; x.len()];
        for f in 0..folds {
            let (mut tx, mut ty) = (Vec::new(), Vec::new());
            for i in (0..x.len()).filter(|&i| fold[i] != f) {
                tx.push(x[i].clone());
                ty.push(y[i]);
            }
            let (w, b) = fit_raw(&tx, &ty, alpha)?;
            for i in (0..x.len()).filter(|&i| fold[i] == f) {
                oof[i] = logits(&w, &b, &x[i]);
            }
        }
        let t = fit_temperature(&oof, &y);
        let loss = log_loss(&oof, &y, t);
        let pred: Vec<usize> = oof.iter().map(|z| argmax3(*z)).collect();
        let f1 = macro_f1(&y, &pred);
        if best.is_none_or(|b| loss < b.0) {
            best = Some((loss, alpha, f1, t));
        }
    }
    let (loss, alpha, f1, t) = best.expect("ALPHAS is not empty");
    let (weights, bias) = fit_raw(x, &y, alpha)?;
    let how = format!(
        "{folds}-fold cross-validation over alpha {ALPHAS:?} by held-out log-loss; temperature fitted on the out-of-fold logits"
    );
    Ok(assemble(
        input,
        Parameters {
            weights,
            bias,
            temperature: t,
        },
        Selection {
            alpha,
            how,
            cv_macro_f1: Some(f1),
            cv_log_loss: Some(loss),
        },
    ))
}

/// Which head a run uses and why, for the manifest and the terminal.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum HeadOrigin {
    /// Given with `--sentiment-head`.
    File { path: String },
    /// The head shipped for the default model.
    Shipped,
    /// Fitted at start-up on the shipped examples (no saved head matched).
    FittedAtStart {
        rows: usize,
        /// Printed at start-up; kept out of the manifest so that a rerun
        /// writes the same manifest apart from its timings.
        #[serde(skip)]
        seconds: f64,
    },
}

/// The sentiment head for `encoder`: the file given, else the shipped head
/// when it was fitted for these weights, else a quick fit on the shipped
/// examples (a few seconds; `verbatim train sentiment` saves one instead).
pub fn resolve(
    encoder: &dyn crate::model::Encoder,
    weights_sha256: &str,
    file: Option<&Path>,
) -> Result<(SentimentHead, HeadOrigin)> {
    if let Some(p) = file {
        let h = SentimentHead::load(p)?;
        h.check_encoder(encoder.dim(), weights_sha256)
            .with_context(|| format!("--sentiment-head {}", p.display()))?;
        return Ok((
            h,
            HeadOrigin::File {
                path: p.display().to_string(),
            },
        ));
    }
    let shipped = SentimentHead::default_head();
    if shipped.check_encoder(encoder.dim(), weights_sha256).is_ok() {
        return Ok((shipped, HeadOrigin::Shipped));
    }
    let started = std::time::Instant::now();
    let (rows, sources) = default_training()?;
    let texts: Vec<&str> = rows.iter().map(|r| r.text.as_str()).collect();
    let vectors = encoder.embed(&texts)?;
    let labels: Vec<Polarity> = rows.iter().map(|r| r.label).collect();
    let head = fit(
        TrainInput {
            vectors: &vectors,
            labels: &labels,
            sources,
            model: encoder.name(),
            model_sha256: weights_sha256.to_string(),
        },
        DEFAULT_ALPHA,
    )?;
    Ok((
        head,
        HeadOrigin::FittedAtStart {
            rows: rows.len(),
            seconds: started.elapsed().as_secs_f64(),
        },
    ))
}

/// Penalty of the quick fit at start-up.
pub const DEFAULT_ALPHA: f64 = 0.1;

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(v: &[f32]) -> Vec<f32> {
        let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        v.iter().map(|x| x / n).collect()
    }

    /// Three clusters on three axes: a fitted head must separate them.
    fn toy() -> (Vec<Vec<f32>>, Vec<Polarity>) {
        let mut x = Vec::new();
        let mut y = Vec::new();
        for i in 0..60 {
            let e = (i % 7) as f32 * 0.03;
            let (v, l) = match i % 3 {
                0 => (vec![1.0, e, 0.1], Polarity::Negative),
                1 => (vec![e, 1.0, 0.1], Polarity::Neutral),
                _ => (vec![0.1, e, 1.0], Polarity::Positive),
            };
            x.push(unit(&v));
            y.push(l);
        }
        (x, y)
    }

    fn input<'a>(x: &'a [Vec<f32>], y: &'a [Polarity]) -> TrainInput<'a> {
        TrainInput {
            vectors: x,
            labels: y,
            sources: vec![],
            model: "toy".into(),
            model_sha256: "abc".into(),
        }
    }

    #[test]
    fn separable_classes_are_learned_and_round_trip() {
        let (x, y) = toy();
        let head = train(input(&x, &y), 3).unwrap();
        for (v, l) in x.iter().zip(&y) {
            assert_eq!(head.sentiment(v).label, *l);
        }
        let p = head.probabilities(&x[0]);
        assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-5);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.json");
        head.save(&path).unwrap();
        assert_eq!(SentimentHead::load(&path).unwrap(), head);
        assert!(head.provenance.cv_macro_f1.unwrap() > 0.99);
    }

    #[test]
    fn training_is_deterministic() {
        let (x, y) = toy();
        assert_eq!(
            train(input(&x, &y), 3).unwrap(),
            train(input(&x, &y), 3).unwrap()
        );
    }

    #[test]
    fn a_head_for_other_weights_is_refused() {
        let (x, y) = toy();
        let head = fit(input(&x, &y), 0.1).unwrap();
        assert!(head.check_encoder(3, "abc").is_ok());
        let e = head.check_encoder(3, "def").unwrap_err().to_string();
        assert!(e.contains("toy"), "{e}");
        assert!(head.check_encoder(4, "abc").is_err());
    }

    #[test]
    fn missing_class_is_an_error() {
        let (x, _) = toy();
        let y = vec![Polarity::Positive; x.len()];
        let e = fit(input(&x, &y), 0.1).unwrap_err().to_string();
        assert!(e.contains("all three classes"), "{e}");
    }

    #[test]
    fn macro_f1_by_hand() {
        // class 0: tp 1 fp 0 fn 1 -> 2/3; class 1: tp 1 fp 1 fn 0 -> 2/3;
        // class 2: tp 1 fp 0 fn 0 -> 1.
        let f = macro_f1(&[0, 0, 1, 2], &[0, 1, 1, 2]);
        assert!((f - (2.0 / 3.0 + 2.0 / 3.0 + 1.0) / 3.0).abs() < 1e-12);
    }

    #[test]
    fn mixed_rows_are_counted_and_left_out() {
        let r = read_labelled_csv(
            "text,label\nok,positive\n\"nice, but slow\",mixed\nmeh,neutral\nx, Mixed \n",
            "f.csv",
            "text",
            "label",
        )
        .unwrap();
        assert_eq!(r.mixed, 2);
        let texts: Vec<&str> = r.rows.iter().map(|r| r.text.as_str()).collect();
        assert_eq!(texts, ["ok", "meh"]);
        // The shipped rows hold mixed ones; training leaves them out.
        let (rows, sources) = default_training().unwrap();
        let mixed: usize = DEFAULT_TRAINING
            .iter()
            .map(|(n, t)| read_labelled_csv(t, n, "text", "label").unwrap().mixed)
            .sum();
        assert!(mixed > 100, "{mixed}");
        assert_eq!(rows.len(), sources.iter().map(|s| s.rows).sum::<usize>());
    }

    #[test]
    fn labelled_csv_errors_name_line_and_column() {
        let e = read_labelled_csv(
            "text,label\nok,positive\nbad,great\n",
            "f.csv",
            "text",
            "label",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("f.csv:3") && e.contains("`great`"), "{e}");
        let e = read_labelled_csv("a,b\n", "f.csv", "text", "label")
            .unwrap_err()
            .to_string();
        assert!(e.contains("no column `text`"), "{e}");
    }

    #[test]
    fn shipped_training_rows_parse() {
        let (rows, sources) = default_training().unwrap();
        assert_eq!(sources.len(), 5);
        assert_eq!(rows.len(), sources.iter().map(|s| s.rows).sum::<usize>());
        for c in CLASSES {
            assert!(rows.iter().filter(|r| r.label == c).count() >= 500, "{c:?}");
        }
    }
}
