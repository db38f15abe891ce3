//! Topic calibration: per topic, a probability from the similarity features
//! and a decision threshold, both learned from labelled comments.
//!
//! A comment's best clause for a topic gives four features
//! ([`super::topics::FEATURES`]). For each topic, a logistic regression
//! (`linfa-logistic`, L2 penalty, on standardized features) turns them into
//! P(the comment is about the topic). Topics with fewer than
//! [`FitSettings::min_positives`] labelled positives share one model fitted
//! on all topics' rows (the features mean the same for every topic).
//!
//! Thresholds are chosen on held-out predictions, never on the rows a model
//! was fitted on: the rows are split into stratified folds (each row goes
//! with its rarest topic, rows without a topic form their own stratum, and
//! the j-th row of a stratum goes to fold j mod k), each fold is predicted by
//! models fitted on the others, and each topic's threshold maximises F-β
//! ([`FitSettings::beta`], 0.7 by default: precision weighs more than
//! recall) on those out-of-fold probabilities. A topic with few positives
//! has a noisy optimum, so it is shrunk towards the global threshold (the
//! one that maximises micro-F-β over all topics): t = (n·t_topic + m·t_global)/(n + m),
//! n the topic's positives, m = [`FitSettings::prior_strength`].
//!
//! The F1 a calibration reports is nested cross-validation: each outer fold
//! is predicted by a calibration (models and thresholds, the thresholds from
//! an inner cross-validation) fitted on the other folds only.
//!
//! A calibration belongs to one taxonomy file and one encoder: its file
//! records the taxonomy's sha256 and the encoder's weights sha256, and
//! [`resolve`] uses the shipped calibration only where both match, else falls
//! back to the similarity rule with a warning.

use crate::input::labelled::{read_labelled, LabelledSpec};
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::Path;

use anyhow::{bail, ensure, Context, Result};
use linfa::prelude::*;
use linfa_logistic::LogisticRegression;
use ndarray::{Array1, Array2};
use serde::{Deserialize, Serialize};

use super::head::TrainingSource;
use super::taxonomy::Taxonomy;
use super::topics::{FEATURES, N_FEATURES};
use crate::classify::metrics::{multilabel, MultiLabelScore};

/// File format tag written into every calibration file.
pub const CALIBRATION_FORMAT: &str = "verbatim-topic-calibration/1";

/// Calibrations shipped with the tool: (file name, contents). [`resolve`]
/// uses the one fitted for the taxonomy file and encoder weights in use, so
/// each built-in taxonomy gets its own by default.
pub const SHIPPED: &[(&str, &str)] = &[
    (
        "models/taxonomy/calibration-contact-center-multilingual-e5-small.json",
        include_str!("../../models/taxonomy/calibration-contact-center-multilingual-e5-small.json"),
    ),
    (
        "models/taxonomy/calibration-employee-multilingual-e5-small.json",
        include_str!("../../models/taxonomy/calibration-employee-multilingual-e5-small.json"),
    ),
];

/// The project's own labelled comments for the contact-center taxonomy,
/// compiled in: (file name, contents).
pub const DEFAULT_TRAINING: &[(&str, &str)] = &[
    (
        "models/taxonomy/train/contact-center/de.csv",
        include_str!("../../models/taxonomy/train/contact-center/de.csv"),
    ),
    (
        "models/taxonomy/train/contact-center/en.csv",
        include_str!("../../models/taxonomy/train/contact-center/en.csv"),
    ),
    (
        "models/taxonomy/train/contact-center/es.csv",
        include_str!("../../models/taxonomy/train/contact-center/es.csv"),
    ),
    (
        "models/taxonomy/train/contact-center/fr.csv",
        include_str!("../../models/taxonomy/train/contact-center/fr.csv"),
    ),
    (
        "models/taxonomy/train/contact-center/nl.csv",
        include_str!("../../models/taxonomy/train/contact-center/nl.csv"),
    ),
];

/// The project's own labelled eNPS comments for the employee taxonomy,
/// compiled in: (file name, contents).
pub const EMPLOYEE_TRAINING: &[(&str, &str)] = &[
    (
        "models/taxonomy/train/employee/de.csv",
        include_str!("../../models/taxonomy/train/employee/de.csv"),
    ),
    (
        "models/taxonomy/train/employee/en.csv",
        include_str!("../../models/taxonomy/train/employee/en.csv"),
    ),
    (
        "models/taxonomy/train/employee/es.csv",
        include_str!("../../models/taxonomy/train/employee/es.csv"),
    ),
    (
        "models/taxonomy/train/employee/fr.csv",
        include_str!("../../models/taxonomy/train/employee/fr.csv"),
    ),
    (
        "models/taxonomy/train/employee/nl.csv",
        include_str!("../../models/taxonomy/train/employee/nl.csv"),
    ),
];

/// The compiled-in labelled comments of each built-in taxonomy, by the
/// taxonomy's name.
pub const SHIPPED_TRAINING: &[(&str, &[(&str, &str)])] = &[
    ("contact-center", DEFAULT_TRAINING),
    ("employee", EMPLOYEE_TRAINING),
];

/// The compiled-in labelled comments for a taxonomy of this name, if any.
pub fn shipped_training(taxonomy: &Taxonomy) -> Option<&'static [(&'static str, &'static str)]> {
    SHIPPED_TRAINING
        .iter()
        .find(|(name, _)| *name == taxonomy.name)
        .map(|(_, files)| *files)
}

/// One labelled comment: its text and topic indices into the taxonomy.
#[derive(Clone, Debug, PartialEq)]
pub struct TopicLabelled {
    pub text: String,
    pub topics: Vec<usize>,
}

/// Reads labelled comments from CSV text with a header: a text column and a
/// column of topic ids joined by `sep` (empty or `none`: no topic). A row
/// whose label cell is [`NOT_LABELLED`] is left out (a file of `verbatim
/// train suggest` not labelled to the end). Errors name the file, line and
/// column.
pub fn read_topic_csv(
    text: &str,
    file: &str,
    taxonomy: &Taxonomy,
    text_column: &str,
    label_column: &str,
    sep: &str,
) -> Result<Vec<TopicLabelled>> {
    Ok(read_topic_rows(text, file, taxonomy, text_column, label_column, sep)?.rows)
}

/// The label cell of a row still to be labelled: `verbatim train suggest`
/// writes it, and a person replaces it with the row's topic ids or `none`.
pub const NOT_LABELLED: &str = "?";

/// Whether a label cell still says [`NOT_LABELLED`] (`train topics` and
/// `eval topics` leave such rows out and count them).
pub fn is_not_labelled(cell: &str) -> bool {
    cell.trim() == NOT_LABELLED
}

/// The rows of a labelled CSV, and how many still say [`NOT_LABELLED`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TopicRows {
    pub rows: Vec<TopicLabelled>,
    pub not_labelled: usize,
}

/// [`read_topic_csv`], counting the rows left out as not labelled yet.
pub fn read_topic_rows(
    text: &str,
    file: &str,
    taxonomy: &Taxonomy,
    text_column: &str,
    label_column: &str,
    sep: &str,
) -> Result<TopicRows> {
    ensure!(!sep.is_empty(), "--label-sep must not be empty");
    let spec = LabelledSpec::csv(text_column, label_column);
    let mut out = TopicRows::default();
    for row in read_labelled(text.as_bytes(), file, &spec)?.rows {
        let line = row.line;
        if is_not_labelled(&row.label) {
            out.not_labelled += 1;
            continue;
        }
        let t = row.text.trim();
        if t.is_empty() {
            bail!("{file}:{line}: column `{text_column}` is empty");
        }
        let mut topics = BTreeSet::new();
        for id in row.label.split(sep).map(str::trim) {
            if id.is_empty() || id.eq_ignore_ascii_case("none") {
                continue;
            }
            let i = taxonomy.index_of(id).with_context(|| {
                format!(
                    "{file}:{line}: column `{label_column}`: `{id}` is not a topic id of the taxonomy `{}` {}; its ids are: {}",
                    taxonomy.name,
                    taxonomy.version,
                    taxonomy.topics.iter().map(|t| t.id.as_str()).collect::<Vec<_>>().join(", ")
                )
            })?;
            topics.insert(i);
        }
        out.rows.push(TopicLabelled {
            text: t.to_string(),
            topics: topics.into_iter().collect(),
        });
    }
    Ok(out)
}

/// The compiled-in labelled comments for `taxonomy` (a built-in taxonomy:
/// [`SHIPPED_TRAINING`]) with their sources.
pub fn default_training(taxonomy: &Taxonomy) -> Result<(Vec<TopicLabelled>, Vec<TrainingSource>)> {
    let Some(files) = shipped_training(taxonomy) else {
        bail!(
            "no labelled comments are shipped for the taxonomy `{}` (only for {})",
            taxonomy.name,
            SHIPPED_TRAINING
                .iter()
                .map(|(n, _)| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    };
    let mut rows = Vec::new();
    let mut sources = Vec::new();
    for (file, text) in files {
        let r = read_topic_csv(text, file, taxonomy, "text", "topics", "|")?;
        sources.push(TrainingSource {
            file: file.to_string(),
            sha256: crate::model::manifest::sha256_bytes(text.as_bytes()),
            rows: r.len(),
        });
        rows.extend(r);
    }
    Ok((rows, sources))
}

/// A logistic model on the raw features: P = σ(weights·features + bias).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Logistic {
    pub weights: Vec<f32>,
    pub bias: f32,
}

impl Logistic {
    /// P(topic) for one feature vector.
    pub fn probability(&self, f: &[f32; N_FEATURES]) -> f32 {
        let z: f32 = self.weights.iter().zip(f).map(|(w, x)| w * x).sum::<f32>() + self.bias;
        1.0 / (1.0 + (-z).exp())
    }

    /// A model that ignores the features and says the base rate.
    fn constant(positives: usize, n: usize) -> Logistic {
        let p = (positives as f64 + 0.5) / (n as f64 + 1.0);
        Logistic {
            weights: vec![0.0; N_FEATURES],
            bias: (p / (1.0 - p)).ln() as f32,
        }
    }
}

/// One topic of a calibration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TopicParams {
    pub id: String,
    /// Labelled positives of the topic in the training rows.
    pub positives: usize,
    /// True when the topic had too few positives for its own model and uses
    /// the model fitted on all topics' rows.
    pub pooled: bool,
    /// Positives without any of the topic's `must` keywords, or generic
    /// verdicts ("sehr gut", [`super::topics::GENERIC_PHRASES`]): the rules
    /// bar them, so they neither train nor can be found.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub barred_positives: usize,
    #[serde(flatten)]
    pub model: Logistic,
    /// Decision threshold on the probability, after shrinkage.
    pub threshold: f32,
    /// The F-β-optimal threshold on the out-of-fold probabilities, before
    /// shrinkage; `None` for a topic without positives.
    pub fitted_threshold: Option<f32>,
}

/// The taxonomy a calibration was fitted for.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TaxonomyRef {
    pub name: String,
    pub version: String,
    pub sha256: String,
}

/// Multi-label scores of one method on labelled rows.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Scores {
    pub micro_precision: f64,
    pub micro_recall: f64,
    pub micro_f1: f64,
    /// Mean F1 over the topics that occur in the labels.
    pub macro_f1: f64,
    pub exact_match: f64,
}

impl Scores {
    /// Scores of predicted topic sets against the true ones.
    pub fn of(truth: &[BTreeSet<String>], pred: &[BTreeSet<String>]) -> Scores {
        let m: MultiLabelScore = multilabel(truth, pred);
        Scores {
            micro_precision: m.micro_precision,
            micro_recall: m.micro_recall,
            micro_f1: m.micro_f1,
            macro_f1: m.macro_f1_supported(),
            exact_match: m.exact_match,
        }
    }
}

/// How a calibration was fitted, on what and for which taxonomy and encoder.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CalibrationProvenance {
    pub taxonomy: TaxonomyRef,
    /// Encoder name as in the run manifest.
    pub model: String,
    /// sha256 of the encoder's weights; the calibration is only valid for them.
    pub model_sha256: String,
    pub training: Vec<TrainingSource>,
    pub rows: usize,
    pub rows_without_topic: usize,
    pub folds: usize,
    pub alpha: f64,
    pub prior_strength: f64,
    pub min_positives: usize,
    /// β of the F-score the thresholds maximise (1: F1; below 1 favours
    /// precision). Calibrations written before it existed used F1.
    #[serde(default = "f1_beta")]
    pub beta: f64,
    pub selection: String,
    /// Nested cross-validation of the calibrated rule on the training rows.
    pub cv: Scores,
    /// The similarity rule (default settings) on the same rows, for
    /// comparison; it has nothing fitted, so no folds are needed.
    pub similarity_rule: Option<Scores>,
    pub tool_version: String,
}

/// A fitted topic calibration, as stored in a JSON file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TopicCalibration {
    pub format: String,
    /// What the weights multiply, in order.
    pub features: Vec<String>,
    pub provenance: CalibrationProvenance,
    /// The threshold that maximised micro-F1 over all topics.
    pub global_threshold: f32,
    /// One entry per topic, in the order of the taxonomy.
    pub topics: Vec<TopicParams>,
}

impl TopicCalibration {
    /// Reads a calibration file written by [`TopicCalibration::save`].
    pub fn load(path: &Path) -> Result<TopicCalibration> {
        super::load_fitted(path, "topic calibration", Self::parse)
    }

    /// Parses and checks a calibration from JSON text.
    pub fn parse(text: &str) -> Result<TopicCalibration> {
        let c: TopicCalibration =
            super::parse_fitted(text, CALIBRATION_FORMAT, |c: &TopicCalibration| &c.format)?;
        ensure!(
            c.features == FEATURES,
            "features {:?}, expected {FEATURES:?}",
            c.features
        );
        ensure!(!c.topics.is_empty(), "no topics");
        let mut ids = HashSet::new();
        for t in &c.topics {
            ensure!(ids.insert(t.id.as_str()), "topic `{}` twice", t.id);
            ensure!(
                t.model.weights.len() == N_FEATURES,
                "topic `{}`: {} weights, expected {N_FEATURES}",
                t.id,
                t.model.weights.len()
            );
            ensure!(
                t.model
                    .weights
                    .iter()
                    .chain([&t.model.bias])
                    .all(|x| x.is_finite()),
                "topic `{}`: weights must be finite numbers",
                t.id
            );
            ensure!(
                (0.0..=1.0).contains(&t.threshold),
                "topic `{}`: threshold {} is not a probability",
                t.id,
                t.threshold
            );
        }
        Ok(c)
    }

    /// Writes the calibration as pretty JSON (atomically: temp file, then rename).
    pub fn save(&self, path: &Path) -> Result<()> {
        crate::model::write_file_whole(path, true, |w| {
            serde_json::to_writer_pretty(&mut *w, self)?;
            w.write_all(b"\n")?;
            Ok(())
        })
    }

    /// Refuses a calibration fitted for another taxonomy file or other
    /// encoder weights.
    pub fn check(&self, taxonomy: &Taxonomy, weights_sha256: &str) -> Result<()> {
        let t = &self.provenance.taxonomy;
        if t.sha256 != taxonomy.sha256 {
            bail!(
                "it was fitted for the taxonomy `{}` {} (sha256 {}), not for `{}` {} (sha256 {})",
                t.name,
                t.version,
                short(&t.sha256),
                taxonomy.name,
                taxonomy.version,
                short(&taxonomy.sha256)
            );
        }
        if self.provenance.model_sha256 != weights_sha256 {
            bail!(
                "it was fitted for the model `{}` (weights sha256 {}), not for these weights ({})",
                self.provenance.model,
                short(&self.provenance.model_sha256),
                short(weights_sha256)
            );
        }
        let ids: Vec<&str> = self.topics.iter().map(|t| t.id.as_str()).collect();
        let want: Vec<&str> = taxonomy.topics.iter().map(|t| t.id.as_str()).collect();
        ensure!(
            ids == want,
            "its topics {ids:?} are not the taxonomy's {want:?}"
        );
        Ok(())
    }

    /// P(topic `t`) for one feature vector.
    pub fn probability(&self, t: usize, f: &[f32; N_FEATURES]) -> f32 {
        self.topics[t].model.probability(f)
    }

    /// The topics this calibration assigns to a scored row;
    /// `threshold_override` replaces every topic's threshold.
    pub fn assign(&self, row: &Row, threshold_override: Option<f32>) -> Vec<bool> {
        row.features
            .iter()
            .enumerate()
            .map(|(t, f)| {
                f.is_some_and(|f| {
                    self.probability(t, &f)
                        >= threshold_override.unwrap_or(self.topics[t].threshold)
                })
            })
            .collect()
    }

    /// Each topic's threshold, by id.
    pub fn thresholds(&self) -> BTreeMap<String, f32> {
        self.topics
            .iter()
            .map(|t| (t.id.clone(), t.threshold))
            .collect()
    }
}

fn f1_beta() -> f64 {
    1.0
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

fn short(s: &str) -> &str {
    &s[..s.len().min(12)]
}

/// Which topic rule a run uses and why, for the manifest and the terminal.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CalibrationOrigin {
    /// Given with `--topic-calibration`.
    File { path: String },
    /// Shipped with the tool for this taxonomy and model.
    Shipped { file: String },
    /// No calibration matches: the similarity rule decides.
    None { reason: String },
}

/// The calibration for `taxonomy` and these encoder weights: the file given
/// (an error if it does not match), else a shipped one fitted for exactly
/// this taxonomy file and these weights, else none, with the reason (the
/// caller warns and uses the similarity rule).
pub fn resolve(
    taxonomy: &Taxonomy,
    weights_sha256: &str,
    file: Option<&Path>,
) -> Result<(Option<TopicCalibration>, CalibrationOrigin)> {
    if let Some(p) = file {
        let c = TopicCalibration::load(p)?;
        c.check(taxonomy, weights_sha256).with_context(|| {
            format!(
                "--topic-calibration {}; refit it for this taxonomy and model: \
                 `verbatim train topics {} --data LABELLED.csv --out {}` \
                 (columns `text` and `topics`)",
                p.display(),
                taxonomy.taxonomy_arg(),
                p.display()
            )
        })?;
        return Ok((
            Some(c),
            CalibrationOrigin::File {
                path: p.display().to_string(),
            },
        ));
    }
    let mut same_name = None;
    for (name, text) in SHIPPED {
        let c = TopicCalibration::parse(text)
            .with_context(|| format!("the shipped topic calibration {name}"))?;
        if c.check(taxonomy, weights_sha256).is_ok() {
            return Ok((
                Some(c),
                CalibrationOrigin::Shipped {
                    file: name.to_string(),
                },
            ));
        }
        if c.provenance.taxonomy.name == taxonomy.name
            && c.provenance.model_sha256 == weights_sha256
        {
            same_name = Some(c.provenance.taxonomy.clone());
        }
    }
    if let Some(shipped) = same_name {
        // An edited copy of a shipped taxonomy: its counts move without
        // the calibration, which a nightly job would not notice.
        let reason = format!(
            "the shipped topic calibration of the taxonomy `{}` {} (sha256 {}) does not fit this \
             file (`{}` {}, sha256 {}: edited?): topics use the uncalibrated similarity rule, so \
             counts differ from runs with the shipped calibration; refit it: `verbatim train topics \
             {} --data models/taxonomy/train/{}/*.csv --out calibration.json` \
             (or your own labelled comments) and pass --topic-calibration calibration.json",
            shipped.name,
            shipped.version,
            short(&shipped.sha256),
            taxonomy.name,
            taxonomy.version,
            short(&taxonomy.sha256),
            taxonomy.taxonomy_arg(),
            shipped.name
        );
        return Ok((None, CalibrationOrigin::None { reason }));
    }
    let reason = format!(
        "no topic calibration for the taxonomy `{}` {} (sha256 {}) and these model weights (sha256 {}): topics use the uncalibrated similarity rule; fit one with `verbatim train topics` and pass it with --topic-calibration",
        taxonomy.name,
        taxonomy.version,
        short(&taxonomy.sha256),
        short(weights_sha256)
    );
    Ok((None, CalibrationOrigin::None { reason }))
}

/// One labelled comment as the fit sees it.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// Per topic, the features of the comment's best clause for it; `None`
    /// where the keyword rules bar the topic.
    pub features: Vec<Option<[f32; N_FEATURES]>>,
    /// Per topic, whether the comment is labelled with it.
    pub truth: Vec<bool>,
}

/// Labelled comments, embedded and scored: the rows a fit sees, and the
/// topics the similarity rule assigns to each (for comparison).
pub struct Scored {
    pub rows: Vec<Row>,
    pub similarity_rule: Vec<Vec<bool>>,
}

/// Splits and embeds `texts` as `analyze` does and computes each topic's
/// features; `labels[i]` are the topic indices of text i. `rule` gives the
/// similarity rule's threshold, margin and gap.
pub fn score_labelled(
    texts: &[&str],
    labels: &[Vec<usize>],
    encoder: &dyn crate::model::Encoder,
    topics: &super::topics::TopicModel,
    rule: &super::ClassifierSettings,
) -> Result<Scored> {
    ensure!(texts.len() == labels.len(), "one label set per text");
    let n = topics.len();
    let embedded = super::embed::embed_comments(texts, encoder)?;
    // Every clause's cosines in one matrix product, as in a run.
    let clause_vecs: Vec<&[f32]> = embedded
        .comments()
        .iter()
        .flatten()
        .flat_map(|e| e.clause_ids.iter().map(|&i| embedded.vector(i)))
        .collect();
    let mut sims = topics.similarities_many(&clause_vecs).into_iter();
    let mut rows = Vec::with_capacity(texts.len());
    let mut similarity_rule = Vec::with_capacity(texts.len());
    for (e, l) in embedded.comments().iter().zip(labels) {
        let mut truth = vec![false; n];
        for &t in l {
            truth[t] = true;
        }
        let mut old = vec![false; n];
        let features = match e {
            Some(e) => {
                let clause_sims = sims.by_ref().take(e.clause_ids.len()).collect();
                let scores = topics.scores_of(&e.clauses, clause_sims, e.language);
                for d in topics.similarity_rule(
                    &scores,
                    rule.topic_threshold,
                    rule.topic_margin,
                    rule.topic_min_gap,
                    rule.topic_keyword_gap,
                ) {
                    old[d.topic] = true;
                }
                topics
                    .candidates(&scores)
                    .into_iter()
                    .map(|c| c.map(|c| c.features))
                    .collect()
            }
            None => vec![None; n],
        };
        rows.push(Row { features, truth });
        similarity_rule.push(old);
    }
    Ok(Scored {
        rows,
        similarity_rule,
    })
}

/// Settings of the fit.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FitSettings {
    /// Folds of the cross-validations (inner and outer).
    pub folds: usize,
    /// L2 penalty of the logistic models (on standardized features).
    pub alpha: f64,
    /// m of the threshold shrinkage, in labelled positives.
    pub prior_strength: f64,
    /// Fewer positives than this: the topic uses the pooled model.
    pub min_positives: usize,
    /// The thresholds maximise F-β: β < 1 weighs precision more than
    /// recall (a wrong topic in a report costs more than a missed one).
    pub beta: f64,
}

impl Default for FitSettings {
    fn default() -> Self {
        FitSettings {
            folds: 5,
            alpha: 1.0,
            prior_strength: 10.0,
            min_positives: 8,
            beta: DEFAULT_BETA,
        }
    }
}

/// β of the F-score a calibration's thresholds maximise by default: at 0.7
/// recall counts 0.7 times as much as precision. Against β = 1 it raised
/// precision on the blind-labelled dev sets and on comments of another
/// author, by 0.00 to 0.16, for recall (docs/METHODS.md §8).
pub const DEFAULT_BETA: f64 = 0.7;

/// Models and thresholds fitted on some rows.
#[derive(Clone, Debug)]
struct Fitted {
    models: Vec<Logistic>,
    pooled: Vec<bool>,
    positives: Vec<usize>,
    thresholds: Vec<f32>,
    fitted_thresholds: Vec<Option<f32>>,
    global: f32,
}

impl Fitted {
    /// The topics this calibration assigns to `row`.
    fn assign(&self, row: &Row) -> Vec<bool> {
        row.features
            .iter()
            .enumerate()
            .map(|(t, f)| f.is_some_and(|f| self.models[t].probability(&f) >= self.thresholds[t]))
            .collect()
    }
}

/// Stratified fold of each of `idx`'s rows: a row goes with its rarest
/// topic (rows without a topic are a stratum of their own), and the j-th row
/// of a stratum goes to fold j mod `folds`.
pub fn stratified_folds(rows: &[Row], idx: &[usize], folds: usize) -> Vec<usize> {
    let n_topics = rows.first().map_or(0, |r| r.truth.len());
    let mut count = vec![0usize; n_topics];
    for &i in idx {
        for (t, &y) in rows[i].truth.iter().enumerate() {
            count[t] += usize::from(y);
        }
    }
    let mut seen: BTreeMap<usize, usize> = BTreeMap::new();
    idx.iter()
        .map(|&i| {
            let stratum = (0..n_topics)
                .filter(|&t| rows[i].truth[t])
                .min_by_key(|&t| (count[t], t))
                .unwrap_or(n_topics);
            let j = seen.entry(stratum).or_default();
            *j += 1;
            (*j - 1) % folds
        })
        .collect()
}

/// Fits one logistic model on standardized features and returns it on the
/// raw ones.
fn fit_logistic(x: &[[f32; N_FEATURES]], y: &[bool], alpha: f64) -> Result<Logistic> {
    let n = x.len();
    let positives = y.iter().filter(|&&b| b).count();
    if positives == 0 || positives == n {
        return Ok(Logistic::constant(positives, n));
    }
    let mut mean = [0f64; N_FEATURES];
    let mut sd = [0f64; N_FEATURES];
    for row in x {
        for (k, &v) in row.iter().enumerate() {
            mean[k] += v as f64 / n as f64;
        }
    }
    for row in x {
        for (k, &v) in row.iter().enumerate() {
            sd[k] += (v as f64 - mean[k]).powi(2) / n as f64;
        }
    }
    let sd = sd.map(f64::sqrt);
    let mut xa = Array2::<f64>::zeros((n, N_FEATURES));
    for (i, row) in x.iter().enumerate() {
        for k in 0..N_FEATURES {
            if sd[k] > 1e-12 {
                xa[(i, k)] = (row[k] as f64 - mean[k]) / sd[k];
            }
        }
    }
    let ya: Array1<usize> = y.iter().map(|&b| usize::from(b)).collect();
    let model = LogisticRegression::default()
        .alpha(alpha)
        .max_iterations(200)
        .fit(&Dataset::new(xa, ya))
        .context("fitting a topic calibration model")?;
    // linfa's "positive" class is the more frequent one; we want P(topic).
    let sign = if model.labels().pos.class == 1 {
        1.0
    } else {
        -1.0
    };
    let mut weights = vec![0f32; N_FEATURES];
    let mut bias = sign * model.intercept();
    for k in 0..N_FEATURES {
        if sd[k] > 1e-12 {
            let w = sign * model.params()[k] / sd[k];
            weights[k] = w as f32;
            bias -= w * mean[k];
        }
    }
    Ok(Logistic {
        weights,
        bias: bias as f32,
    })
}

/// One model per topic fitted on the rows `idx`, with which topics pooled
/// and each topic's positives.
fn fit_models(
    rows: &[Row],
    idx: &[usize],
    s: &FitSettings,
) -> Result<(Vec<Logistic>, Vec<bool>, Vec<usize>)> {
    let n_topics = rows.first().map_or(0, |r| r.truth.len());
    let mut models = Vec::with_capacity(n_topics);
    let mut pooled = Vec::with_capacity(n_topics);
    let mut positives = Vec::with_capacity(n_topics);
    let mut pooled_model: Option<Logistic> = None;
    for t in 0..n_topics {
        let (mut x, mut y) = (Vec::new(), Vec::new());
        for &i in idx {
            if let Some(f) = rows[i].features[t] {
                x.push(f);
                y.push(rows[i].truth[t]);
            }
        }
        let pos = idx.iter().filter(|&&i| rows[i].truth[t]).count();
        positives.push(pos);
        let pos_allowed = y.iter().filter(|&&b| b).count();
        if pos_allowed >= s.min_positives && pos_allowed < y.len() {
            models.push(fit_logistic(&x, &y, s.alpha)?);
            pooled.push(false);
            continue;
        }
        if pooled_model.is_none() {
            let (mut x, mut y) = (Vec::new(), Vec::new());
            for &i in idx {
                for (f, &truth) in rows[i].features.iter().zip(&rows[i].truth) {
                    if let Some(f) = f {
                        x.push(*f);
                        y.push(truth);
                    }
                }
            }
            pooled_model = Some(fit_logistic(&x, &y, s.alpha)?);
        }
        models.push(pooled_model.clone().expect("fitted above"));
        pooled.push(true);
    }
    Ok((models, pooled, positives))
}

/// The threshold that maximises F-β over `scores` (probability, truth),
/// with `missed` further positives that no threshold can reach, and that
/// F-β = (1 + β²)·tp / ((1 + β²)·tp + β²·fn + fp) (β = 1: F1).
/// The threshold lies halfway between the last score taken and the next
/// lower one, so that it separates them. `None` without positives.
pub fn best_threshold(scores: &[(f32, bool)], missed: usize, beta: f64) -> Option<(f32, f64)> {
    let total = scores.iter().filter(|s| s.1).count() + missed;
    if total == 0 {
        return None;
    }
    let mut sorted = scores.to_vec();
    sorted.sort_by(|a, b| b.0.total_cmp(&a.0));
    let (mut tp, mut fp) = (0usize, 0usize);
    let mut best: Option<(f32, f64)> = None;
    for i in 0..sorted.len() {
        if sorted[i].1 {
            tp += 1;
        } else {
            fp += 1;
        }
        // Cut only between different scores.
        let next = sorted.get(i + 1).map(|s| s.0);
        if next == Some(sorted[i].0) {
            continue;
        }
        let f = super::metrics::f_beta(tp, fp, total - tp, beta);
        if best.is_none_or(|b| f > b.1) {
            let t = match next {
                Some(n) => (sorted[i].0 + n) / 2.0,
                None => sorted[i].0,
            };
            best = Some((t, f));
        }
    }
    best.filter(|b| b.1 > 0.0)
}

/// Thresholds from held-out probabilities `probs[row][topic]` (`None`:
/// barred) of the rows `idx`: per topic the F-β-optimal one shrunk towards
/// the micro-F-β-optimal global one.
fn choose_thresholds(
    rows: &[Row],
    idx: &[usize],
    probs: &BTreeMap<usize, Vec<Option<f32>>>,
    s: &FitSettings,
) -> (Vec<f32>, Vec<Option<f32>>, f32) {
    let n_topics = rows.first().map_or(0, |r| r.truth.len());
    let mut per_topic: Vec<(Vec<(f32, bool)>, usize)> = vec![(Vec::new(), 0); n_topics];
    for &i in idx {
        for t in 0..n_topics {
            match probs[&i][t] {
                Some(p) => per_topic[t].0.push((p, rows[i].truth[t])),
                None if rows[i].truth[t] => per_topic[t].1 += 1,
                None => {}
            }
        }
    }
    let all: Vec<(f32, bool)> = per_topic.iter().flat_map(|(v, _)| v.clone()).collect();
    let missed: usize = per_topic.iter().map(|(_, m)| m).sum();
    let global = best_threshold(&all, missed, s.beta).map_or(0.5, |b| b.0);
    let mut thresholds = Vec::with_capacity(n_topics);
    let mut fitted = Vec::with_capacity(n_topics);
    for (scores, missed) in &per_topic {
        let own = best_threshold(scores, *missed, s.beta).map(|b| b.0);
        let n = (scores.iter().filter(|s| s.1).count() + missed) as f64;
        let t = match own {
            Some(o) => {
                ((n * o as f64 + s.prior_strength * global as f64) / (n + s.prior_strength)) as f32
            }
            None => global,
        };
        thresholds.push(t.clamp(0.0, 1.0));
        fitted.push(own);
    }
    (thresholds, fitted, global)
}

/// Probabilities of the rows `idx` under `models` (`None`: barred).
fn predict(models: &[Logistic], rows: &[Row], idx: &[usize]) -> BTreeMap<usize, Vec<Option<f32>>> {
    idx.iter()
        .map(|&i| {
            let p = rows[i]
                .features
                .iter()
                .zip(models)
                .map(|(f, m)| f.as_ref().map(|f| m.probability(f)))
                .collect();
            (i, p)
        })
        .collect()
}

/// Fits models and thresholds on the rows `idx`: thresholds from an inner
/// cross-validation, models on all of `idx`.
fn fit_on(rows: &[Row], idx: &[usize], s: &FitSettings) -> Result<Fitted> {
    let folds = s.folds.max(2);
    let fold = stratified_folds(rows, idx, folds);
    let mut oof = BTreeMap::new();
    for f in 0..folds {
        let train: Vec<usize> = idx
            .iter()
            .zip(&fold)
            .filter(|(_, &k)| k != f)
            .map(|(&i, _)| i)
            .collect();
        let test: Vec<usize> = idx
            .iter()
            .zip(&fold)
            .filter(|(_, &k)| k == f)
            .map(|(&i, _)| i)
            .collect();
        if test.is_empty() {
            continue;
        }
        let (models, _, _) = fit_models(rows, &train, s)?;
        oof.extend(predict(&models, rows, &test));
    }
    let (thresholds, fitted_thresholds, global) = choose_thresholds(rows, idx, &oof, s);
    let (models, pooled, positives) = fit_models(rows, idx, s)?;
    Ok(Fitted {
        models,
        pooled,
        positives,
        thresholds,
        fitted_thresholds,
        global,
    })
}

/// Nested cross-validation: the topics assigned to each row by a
/// calibration fitted (models and thresholds) without the row's fold.
pub fn cross_validate(rows: &[Row], s: &FitSettings) -> Result<Vec<Vec<bool>>> {
    let folds = s.folds.max(2);
    ensure!(
        rows.len() >= folds * 2,
        "too few labelled rows ({}) for {folds} folds",
        rows.len()
    );
    let all: Vec<usize> = (0..rows.len()).collect();
    let fold = stratified_folds(rows, &all, folds);
    let mut out = vec![Vec::new(); rows.len()];
    for f in 0..folds {
        let train: Vec<usize> = all.iter().copied().filter(|&i| fold[i] != f).collect();
        let fitted = fit_on(rows, &train, s)?;
        for i in all.iter().copied().filter(|&i| fold[i] == f) {
            out[i] = fitted.assign(&rows[i]);
        }
    }
    Ok(out)
}

/// Topic id sets of per-topic flags.
pub fn id_sets(flags: &[Vec<bool>], taxonomy: &Taxonomy) -> Vec<BTreeSet<String>> {
    flags
        .iter()
        .map(|f| {
            f.iter()
                .zip(&taxonomy.topics)
                .filter(|(b, _)| **b)
                .map(|(_, t)| t.id.clone())
                .collect()
        })
        .collect()
}

/// What [`train`] is told about the data and the encoder.
pub struct TrainInput<'a> {
    pub rows: &'a [Row],
    pub taxonomy: &'a Taxonomy,
    pub sources: Vec<TrainingSource>,
    pub model: String,
    pub model_sha256: String,
    /// Topics the similarity rule assigns to each row, for the comparison
    /// recorded in the provenance.
    pub similarity_rule: Option<Vec<Vec<bool>>>,
}

/// Fits a calibration on all rows (thresholds by cross-validation) and
/// scores the method by nested cross-validation.
pub fn train(input: TrainInput, s: &FitSettings) -> Result<TopicCalibration> {
    let rows = input.rows;
    let tax = input.taxonomy;
    ensure!(
        rows.iter()
            .all(|r| r.truth.len() == tax.topics.len() && r.features.len() == tax.topics.len()),
        "every row needs one feature vector and one label per topic"
    );
    ensure!(
        rows.iter().any(|r| r.truth.iter().any(|&b| b)),
        "no labelled topic in the training rows"
    );
    let truth: Vec<Vec<bool>> = rows.iter().map(|r| r.truth.clone()).collect();
    let truth_ids = id_sets(&truth, tax);
    let cv = Scores::of(&truth_ids, &id_sets(&cross_validate(rows, s)?, tax));
    let similarity_rule = input
        .similarity_rule
        .as_ref()
        .map(|p| Scores::of(&truth_ids, &id_sets(p, tax)));
    let all: Vec<usize> = (0..rows.len()).collect();
    let fitted = fit_on(rows, &all, s)?;
    let topics = tax
        .topics
        .iter()
        .enumerate()
        .map(|(t, topic)| TopicParams {
            id: topic.id.clone(),
            positives: fitted.positives[t],
            pooled: fitted.pooled[t],
            barred_positives: rows
                .iter()
                .filter(|r| r.truth[t] && r.features[t].is_none())
                .count(),
            model: fitted.models[t].clone(),
            threshold: fitted.thresholds[t],
            fitted_threshold: fitted.fitted_thresholds[t],
        })
        .collect();
    let folds = s.folds.max(2);
    Ok(TopicCalibration {
        format: CALIBRATION_FORMAT.into(),
        features: FEATURES.iter().map(|f| f.to_string()).collect(),
        provenance: CalibrationProvenance {
            taxonomy: TaxonomyRef {
                name: tax.name.clone(),
                version: tax.version.clone(),
                sha256: tax.sha256.clone(),
            },
            model: input.model,
            model_sha256: input.model_sha256,
            training: input.sources,
            rows: rows.len(),
            rows_without_topic: rows.iter().filter(|r| !r.truth.iter().any(|&b| b)).count(),
            folds,
            alpha: s.alpha,
            prior_strength: s.prior_strength,
            min_positives: s.min_positives,
            beta: s.beta,
            selection: format!(
                "per-topic logistic regression (L2 alpha {}, standardized features; topics with fewer than {} positives share a pooled model); thresholds maximise F{} on {folds}-fold stratified out-of-fold probabilities, shrunk towards the global micro-F{} threshold with weight {} positives; cv = nested {folds}-fold cross-validation",
                s.alpha, s.min_positives, s.beta, s.beta, s.prior_strength
            ),
            cv,
            similarity_rule,
            tool_version: env!("CARGO_PKG_VERSION").into(),
        },
        global_threshold: fitted.global,
        topics,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_built_in_taxonomy_has_its_shipped_calibration_and_labelled_comments() {
        // One encoder for all: the one the shipped sentiment head is for.
        let model_sha = crate::classify::SentimentHead::default_head()
            .provenance
            .model_sha256;
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
            let (_, text) = SHIPPED.iter().find(|(f, _)| *f == file).expect(file);
            let c = TopicCalibration::parse(text).expect(file);
            assert_eq!(c.provenance.taxonomy.sha256, tax.sha256, "{file}");
            assert_eq!(c.provenance.taxonomy.name, tax.name, "{file}");
            let ids: Vec<&str> = c.topics.iter().map(|t| t.id.as_str()).collect();
            let want: Vec<&str> = tax.topics.iter().map(|t| t.id.as_str()).collect();
            assert_eq!(ids, want, "{file}");
            c.check(&tax, &model_sha).expect(file);
            // resolve picks it, and no other, for this taxonomy.
            let (got, origin) = resolve(&tax, &model_sha, None).unwrap();
            assert_eq!(got.as_ref(), Some(&c), "{file}");
            assert_eq!(origin, CalibrationOrigin::Shipped { file: file.into() });
            // Fitted on the compiled-in labelled comments of the taxonomy.
            let (rows, sources) = default_training(&tax).unwrap();
            assert_eq!(c.provenance.training, sources, "{file}");
            assert_eq!(c.provenance.rows, rows.len(), "{file}");
        }
    }

    #[test]
    fn best_threshold_separates_and_counts_missed_positives() {
        let s = [(0.9, true), (0.8, true), (0.3, false), (0.2, false)];
        let (t, f1) = best_threshold(&s, 0, 1.0).unwrap();
        assert!((t - 0.55).abs() < 1e-6, "{t}");
        assert!((f1 - 1.0).abs() < 1e-12);
        // One positive no threshold can reach: F1 = 2·2/(2·2 + 0 + 1).
        let (_, f1) = best_threshold(&s, 1, 1.0).unwrap();
        assert!((f1 - 0.8).abs() < 1e-12);
        // Ties are never split.
        let tied = [(0.5, true), (0.5, false), (0.1, false)];
        let (t, _) = best_threshold(&tied, 0, 1.0).unwrap();
        assert!((t - 0.3).abs() < 1e-6, "{t}");
        assert_eq!(best_threshold(&[(0.4, false)], 0, 1.0), None);
    }

    #[test]
    fn a_beta_below_one_buys_precision_with_recall() {
        let s = [
            (0.9, true),
            (0.7, false),
            (0.6, true),
            (0.5, false),
            (0.1, false),
        ];
        // F1: both positives at one false positive (4/5) beat one alone (2/3).
        let (t, f1) = best_threshold(&s, 0, 1.0).unwrap();
        assert!(
            (t - 0.55).abs() < 1e-6 && (f1 - 0.8).abs() < 1e-12,
            "{t} {f1}"
        );
        // F0.5: the sure positive alone, 1.25/(1.25 + 0.25·1), beats
        // 2.5/(2.5 + 1).
        let (t, f) = best_threshold(&s, 0, 0.5).unwrap();
        assert!((t - 0.8).abs() < 1e-6, "{t}");
        assert!((f - 1.25 / 1.5).abs() < 1e-12, "{f}");
    }

    #[test]
    fn folds_are_stratified_by_the_rarest_topic() {
        let row = |truth: Vec<bool>| Row {
            features: vec![None; truth.len()],
            truth,
        };
        // Topic 1 is rarer than topic 0: rows with both go with topic 1.
        let rows: Vec<Row> = (0..12).map(|i| row(vec![i % 2 == 0, i % 4 == 0])).collect();
        let all: Vec<usize> = (0..12).collect();
        let fold = stratified_folds(&rows, &all, 3);
        for stratum in [vec![0, 4, 8], vec![2, 6, 10], vec![1, 3, 5]] {
            let mut f: Vec<usize> = stratum.iter().map(|&i| fold[i]).collect();
            f.sort();
            assert_eq!(f, [0, 1, 2], "{stratum:?}");
        }
    }

    #[test]
    fn logistic_fit_reports_the_probability_of_the_topic_even_when_it_is_the_majority() {
        // Feature 0 high = topic; topic on 3 of 4 rows, so linfa's
        // "positive" class is the topic here, and the other way round below.
        let x: Vec<[f32; N_FEATURES]> = (0..40)
            .map(|i| [if i % 4 == 0 { 0.1 } else { 0.9 }, 0.0, 0.0, 0.0])
            .collect();
        let y: Vec<bool> = (0..40).map(|i| i % 4 != 0).collect();
        // The L2 penalty keeps the probabilities off 0 and 1.
        let m = fit_logistic(&x, &y, 1.0).unwrap();
        assert!(m.probability(&[0.9, 0.0, 0.0, 0.0]) > 0.8, "{m:?}");
        assert!(m.probability(&[0.1, 0.0, 0.0, 0.0]) < 0.2, "{m:?}");
        let y: Vec<bool> = y.iter().map(|b| !b).collect();
        let m = fit_logistic(&x, &y, 1.0).unwrap();
        assert!(m.probability(&[0.1, 0.0, 0.0, 0.0]) > 0.8, "{m:?}");
        assert!(m.probability(&[0.9, 0.0, 0.0, 0.0]) < 0.2, "{m:?}");
    }
}
