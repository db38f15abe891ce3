//! Sentiment from a fine-tuned classification model (`--sentiment-model`)
//! instead of the head on the encoder's vectors.
//!
//! The model is any Hugging Face sequence-classification folder of the
//! families the encoder knows ([`crate::model::classifier`]). Its classes are
//! mapped onto negative / neutral / positive by their names in
//! `config.json`'s `id2label`, case-insensitively:
//!
//! - negative, neg, bad (also "very negative", "very bad") → negative;
//! - neutral, neu, mixed → neutral;
//! - positive, pos, good (also "very positive", "very good") → positive;
//! - star ratings, "1 star" … "5 stars" or "1" … "5": 1–2 negative, 3
//!   neutral, 4–5 positive.
//!
//! The probabilities of the classes that map to one polarity are summed, so
//! a five-star model says "negative" when one and two stars together
//! outweigh each other side. A model with only a negative and a positive
//! class says "neutral" when neither reaches [`TWO_CLASS_NEUTRAL_BELOW`]; its
//! confidence is then 1 − |P(positive) − P(negative)|, how evenly the model
//! is split. Generic names (`LABEL_0`, `LABEL_1`…) say nothing about which
//! class is which: the user reads the model's card and passes
//! `--sentiment-labels neg,neu,pos`, one name per class id, in id order.

use std::path::Path;

use anyhow::{bail, Context, Result};
use serde::Serialize;
use serde_json::Value;

use super::head::sentiment_of;
use super::{Polarity, Sentiment};
use crate::model::classifier::SequenceClassifier;
use crate::model::hf::HfConfig;
use crate::model::manifest::sha256_file;
use crate::model::transformer::EncoderOptions;

/// A model with only negative and positive classes calls a text neutral
/// when the larger of the two probabilities is below this.
pub const TWO_CLASS_NEUTRAL_BELOW: f32 = 0.7;

/// The names a class may have, for messages.
pub const KNOWN_NAMES: &str = "negative/neg/bad, neutral/neu/mixed, positive/pos/good \
     (\"very …\" too), or star ratings \"1 star\" … \"5 stars\" / \"1\" … \"5\"";

/// Where the label mapping came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LabelSource {
    /// The class names of `id2label`.
    Id2label,
    /// `id2label` read as a 1–5 star scale.
    Stars,
    /// `--sentiment-labels`.
    Flag,
}

/// One class of the model and what it counts for.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ClassLabel {
    pub id: usize,
    /// Name in `id2label` (empty when the config has none).
    pub name: String,
    pub polarity: Polarity,
}

/// How the model's classes map onto the three polarities.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LabelMapping {
    pub source: LabelSource,
    pub classes: Vec<ClassLabel>,
    /// Set for a model without a neutral class.
    pub two_class_neutral_below: Option<f32>,
}

/// Polarity of a class name, or `None` for a name outside [`KNOWN_NAMES`]
/// (star ratings are read by [`star_of`]).
pub fn polarity_of_name(name: &str) -> Option<Polarity> {
    let n = name.trim().to_lowercase().replace(['_', '-'], " ");
    let n = n.split_whitespace().collect::<Vec<_>>().join(" ");
    let n = n.strip_prefix("very ").unwrap_or(&n);
    match n {
        "negative" | "neg" | "bad" => Some(Polarity::Negative),
        "neutral" | "neu" | "mixed" => Some(Polarity::Neutral),
        "positive" | "pos" | "good" => Some(Polarity::Positive),
        _ => None,
    }
}

/// The number of a star label ("1 star", "4 stars", "5"), if it is one.
pub fn star_of(name: &str) -> Option<u32> {
    let n = name.trim().to_lowercase();
    let n = n
        .strip_suffix("stars")
        .or_else(|| n.strip_suffix("star"))
        .unwrap_or(&n);
    n.trim().parse().ok()
}

/// True for a placeholder name such as `LABEL_0`.
fn is_generic(name: &str) -> bool {
    let n = name.trim().to_lowercase();
    n.strip_prefix("label")
        .map(|r| r.trim_start_matches(['_', ' ', '-']))
        .is_some_and(|r| !r.is_empty() && r.chars().all(|c| c.is_ascii_digit()))
}

/// The class names of `config.json`'s `id2label`, in id order; `None` when
/// it has none. Ids must be 0 … n−1.
pub fn id2label(config: &HfConfig) -> Result<Option<Vec<String>>> {
    let path = config.path.display();
    let Some(v) = config.raw.get("id2label") else {
        return Ok(None);
    };
    let Value::Object(map) = v else {
        bail!("{path}: `id2label` must be an object of class id → name");
    };
    let mut names = vec![None; map.len()];
    for (k, v) in map {
        let id: usize = k
            .trim()
            .parse()
            .ok()
            .filter(|&i| i < map.len())
            .with_context(|| {
                format!(
                    "{path}: `id2label` key `{k}`: the ids must be 0 … {}",
                    map.len().saturating_sub(1)
                )
            })?;
        let name = v
            .as_str()
            .with_context(|| format!("{path}: `id2label` entry {k} is not a string"))?;
        if names[id].replace(name.to_string()).is_some() {
            bail!("{path}: `id2label` gives id {id} twice");
        }
    }
    Ok(Some(names.into_iter().flatten().collect()))
}

/// Reads `--sentiment-labels` values (one polarity name per class).
pub fn parse_flag(values: &[String]) -> Result<Vec<Polarity>> {
    values
        .iter()
        .map(|v| {
            polarity_of_name(v).with_context(|| {
                format!(
                    "--sentiment-labels `{v}`: expected negative/neg/bad, neutral/neu/mixed or positive/pos/good"
                )
            })
        })
        .collect()
}

impl LabelMapping {
    /// The mapping of a model whose `config.json` is at `config_path`, with
    /// `names` from its `id2label` and `flag` from `--sentiment-labels`
    /// (which wins over the names).
    pub fn resolve(
        config_path: &Path,
        names: Option<&[String]>,
        flag: Option<&[Polarity]>,
    ) -> Result<LabelMapping> {
        let path = config_path.display();
        let (source, classes) = match (flag, names) {
            (Some(flag), names) => {
                if let Some(n) = names {
                    anyhow::ensure!(
                        n.len() == flag.len(),
                        "{path}: id2label has {} classes but --sentiment-labels gives {}",
                        n.len(),
                        flag.len()
                    );
                }
                let classes = flag
                    .iter()
                    .enumerate()
                    .map(|(id, &polarity)| ClassLabel {
                        id,
                        name: names.map_or_else(String::new, |n| n[id].clone()),
                        polarity,
                    })
                    .collect();
                (LabelSource::Flag, classes)
            }
            (None, None) => bail!(
                "{path}: no `id2label`: verbatim needs the names of the model's classes to map \
                 them to negative, neutral and positive; if the model card tells them, pass \
                 --sentiment-labels neg,neu,pos (one per class id, in order)"
            ),
            (None, Some(names)) => Self::from_names(config_path, names)?,
        };
        let has = |p: Polarity| classes.iter().any(|c: &ClassLabel| c.polarity == p);
        for needed in [Polarity::Negative, Polarity::Positive] {
            anyhow::ensure!(
                has(needed),
                "{path}: the classes ({}) have no {} class; a sentiment model needs at least a \
                 negative and a positive class (--sentiment-labels maps them by hand)",
                describe(&classes),
                needed.as_str()
            );
        }
        Ok(LabelMapping {
            source,
            two_class_neutral_below: (!has(Polarity::Neutral)).then_some(TWO_CLASS_NEUTRAL_BELOW),
            classes,
        })
    }

    fn from_names(config_path: &Path, names: &[String]) -> Result<(LabelSource, Vec<ClassLabel>)> {
        let path = config_path.display();
        if names.iter().any(|n| is_generic(n)) {
            bail!(
                "{path}: id2label names the classes {}, which does not say which is negative, \
                 neutral or positive; look them up on the model's card and pass \
                 --sentiment-labels neg,neu,pos (one name per class id, in id order)",
                names.join(", ")
            );
        }
        let stars: Vec<Option<u32>> = names.iter().map(|n| star_of(n)).collect();
        if stars.iter().all(Option::is_some) {
            let mut sorted: Vec<u32> = stars.iter().flatten().copied().collect();
            sorted.sort_unstable();
            anyhow::ensure!(
                sorted == [1, 2, 3, 4, 5],
                "{path}: id2label reads as a rating scale ({}) but not as 1 to 5 stars; \
                 pass --sentiment-labels (one of neg, neu, pos per class id, in order)",
                names.join(", ")
            );
            let classes = stars
                .iter()
                .zip(names)
                .enumerate()
                .map(|(id, (s, name))| ClassLabel {
                    id,
                    name: name.clone(),
                    polarity: match s {
                        Some(1 | 2) => Polarity::Negative,
                        Some(3) => Polarity::Neutral,
                        _ => Polarity::Positive,
                    },
                })
                .collect();
            return Ok((LabelSource::Stars, classes));
        }
        let mut classes = Vec::new();
        for (id, name) in names.iter().enumerate() {
            let polarity = polarity_of_name(name).with_context(|| {
                format!(
                    "{path}: id2label class {id} `{name}` is not a sentiment class verbatim knows \
                     ({KNOWN_NAMES}); if the classes are sentiment under other names, pass \
                     --sentiment-labels neg,neu,pos (one per class id, in order)"
                )
            })?;
            classes.push(ClassLabel {
                id,
                name: name.clone(),
                polarity,
            });
        }
        Ok((LabelSource::Id2label, classes))
    }

    /// Sentiment from the model's class probabilities (in id order).
    pub fn sentiment(&self, probs: &[f32]) -> Sentiment {
        let mut p = [0f32; 3];
        for (c, q) in self.classes.iter().zip(probs) {
            p[c.polarity as usize] += q;
        }
        match self.two_class_neutral_below {
            Some(below) if p[0].max(p[2]) < below => {
                let score = p[2] - p[0];
                Sentiment {
                    label: Polarity::Neutral,
                    score,
                    confidence: 1.0 - score.abs(),
                }
            }
            _ => sentiment_of(p),
        }
    }
}

fn describe(classes: &[ClassLabel]) -> String {
    classes
        .iter()
        .map(|c| {
            if c.name.is_empty() {
                format!("{} → {}", c.id, c.polarity.as_str())
            } else {
                format!("{} `{}` → {}", c.id, c.name, c.polarity.as_str())
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// What the run manifest records about the sentiment model.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SentimentModelInfo {
    /// The folder given with `--sentiment-model`.
    pub path: String,
    pub model_type: String,
    /// sha256 of `model.safetensors`, `config.json` and `tokenizer.json`.
    pub sha256: String,
    pub config_sha256: String,
    pub tokenizer_sha256: String,
    pub precision: String,
    pub labels: LabelMapping,
}

/// A sentiment model ready to score texts. The libtorch modules are not
/// `Sync`; the lock lets a [`super::Classifier`] be shared by the threads
/// that classify comments (the model itself runs one batch at a time).
#[derive(Debug)]
pub struct ModelSentiment {
    classifier: std::sync::Mutex<SequenceClassifier>,
    pub info: SentimentModelInfo,
}

impl ModelSentiment {
    /// Loads the folder `dir`, mapping its classes by `id2label` or by
    /// `labels` (`--sentiment-labels`, already parsed).
    pub fn load(dir: &Path, labels: Option<&[Polarity]>, opts: &EncoderOptions) -> Result<Self> {
        let config = HfConfig::read(dir)?;
        let names = id2label(&config)?;
        // The mapping is checked before the weights are read: a model with
        // unusable labels fails at once.
        let mapping = LabelMapping::resolve(&config.path, names.as_deref(), labels)?;
        let classifier = SequenceClassifier::load(&config, mapping.classes.len(), opts)?;
        let info = SentimentModelInfo {
            path: dir.display().to_string(),
            model_type: config.model_type.clone(),
            sha256: sha256_file(&dir.join("model.safetensors"))?,
            config_sha256: sha256_file(&config.path)?,
            tokenizer_sha256: sha256_file(&dir.join("tokenizer.json"))?,
            precision: format!("{:?}", classifier.kind()),
            labels: mapping,
        };
        Ok(ModelSentiment {
            classifier: std::sync::Mutex::new(classifier),
            info,
        })
    }

    /// Sentiment of each text, in the order of `texts`.
    pub fn sentiments(&self, texts: &[&str]) -> Result<Vec<Sentiment>> {
        let classifier = self.classifier.lock().unwrap_or_else(|e| e.into_inner());
        Ok(classifier
            .probabilities(texts)?
            .iter()
            .map(|p| self.info.labels.sentiment(p))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    fn resolve(v: &[&str]) -> Result<LabelMapping> {
        LabelMapping::resolve(Path::new("m/config.json"), Some(&names(v)), None)
    }

    fn labels(m: &LabelMapping) -> Vec<Polarity> {
        m.classes.iter().map(|c| c.polarity).collect()
    }

    use Polarity::{Negative as N, Neutral as U, Positive as P};

    #[test]
    fn names_map_case_insensitively() {
        let m = resolve(&["NEGATIVE", "Neutral", "positive"]).unwrap();
        assert_eq!(labels(&m), [N, U, P]);
        assert_eq!(m.source, LabelSource::Id2label);
        assert_eq!(m.two_class_neutral_below, None);
        let m = resolve(&["pos", "neg", "Mixed"]).unwrap();
        assert_eq!(labels(&m), [P, N, U]);
        let m = resolve(&["Very Negative", "bad", "neu", "good", "very_positive"]).unwrap();
        assert_eq!(labels(&m), [N, N, U, P, P]);
    }

    #[test]
    fn star_labels_map_one_two_negative_three_neutral_four_five_positive() {
        for set in [
            ["1 star", "2 stars", "3 stars", "4 stars", "5 stars"],
            ["1", "2", "3", "4", "5"],
        ] {
            let m = resolve(&set).unwrap();
            assert_eq!(m.source, LabelSource::Stars);
            assert_eq!(labels(&m), [N, N, U, P, P]);
        }
        // The order of the ids does not matter, the numbers do.
        let m = resolve(&["5 stars", "1 star", "3 stars", "2 stars", "4 stars"]).unwrap();
        assert_eq!(labels(&m), [P, N, U, N, P]);
        let e = resolve(&["0", "1", "2", "3", "4"]).unwrap_err().to_string();
        assert!(
            e.contains("m/config.json") && e.contains("1 to 5 stars"),
            "{e}"
        );
    }

    #[test]
    fn star_probabilities_are_summed_per_polarity() {
        let m = resolve(&["1 star", "2 stars", "3 stars", "4 stars", "5 stars"]).unwrap();
        // "3 stars" is the single most likely class, but 1 + 2 stars
        // together (0.5) outweigh it (0.4) and 4 + 5 stars (0.1).
        let s = m.sentiment(&[0.25, 0.25, 0.4, 0.05, 0.05]);
        assert_eq!(s.label, N);
        assert!((s.confidence - 0.5).abs() < 1e-6);
        assert!((s.score - (0.1 - 0.5)).abs() < 1e-6);
    }

    #[test]
    fn two_class_models_are_neutral_below_the_margin() {
        let m = resolve(&["negative", "positive"]).unwrap();
        assert_eq!(m.two_class_neutral_below, Some(TWO_CLASS_NEUTRAL_BELOW));
        let s = m.sentiment(&[0.55, 0.45]);
        assert_eq!(s.label, U);
        assert!((s.score - (-0.1)).abs() < 1e-6);
        assert!((s.confidence - 0.9).abs() < 1e-6);
        let s = m.sentiment(&[0.1, 0.9]);
        assert_eq!(s.label, P);
        assert!((s.confidence - 0.9).abs() < 1e-6);
        assert!((s.score - 0.8).abs() < 1e-6);
    }

    #[test]
    fn generic_names_ask_for_the_flag() {
        let e = resolve(&["LABEL_0", "LABEL_1", "LABEL_2"])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("m/config.json") && e.contains("--sentiment-labels neg,neu,pos"),
            "{e}"
        );
        let flag = parse_flag(&names(&["neg", "neu", "pos"])).unwrap();
        let m = LabelMapping::resolve(
            Path::new("m/config.json"),
            Some(&names(&["LABEL_0", "LABEL_1", "LABEL_2"])),
            Some(&flag),
        )
        .unwrap();
        assert_eq!(m.source, LabelSource::Flag);
        assert_eq!(labels(&m), [N, U, P]);
        assert_eq!(m.classes[2].name, "LABEL_2");
        let e = LabelMapping::resolve(
            Path::new("m/config.json"),
            Some(&names(&["LABEL_0", "LABEL_1"])),
            Some(&flag),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("2 classes") && e.contains("gives 3"), "{e}");
        let e = parse_flag(&names(&["neg", "happy"]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("--sentiment-labels `happy`"), "{e}");
    }

    #[test]
    fn unknown_or_one_sided_labels_are_errors_naming_the_file() {
        let e = resolve(&["anger", "joy"]).unwrap_err().to_string();
        assert!(
            e.contains("m/config.json") && e.contains("class 0 `anger`"),
            "{e}"
        );
        let e = resolve(&["neutral", "positive"]).unwrap_err().to_string();
        assert!(e.contains("no negative class"), "{e}");
        let e = LabelMapping::resolve(Path::new("m/config.json"), None, None)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("no `id2label`") && e.contains("--sentiment-labels"),
            "{e}"
        );
    }

    #[test]
    fn id2label_ids_must_run_from_zero() {
        let cfg = |v: Value| HfConfig {
            path: "m/config.json".into(),
            raw: v.as_object().unwrap().clone(),
            model_type: "bert".into(),
            family: crate::model::hf::Family::Bert,
        };
        let c = cfg(serde_json::json!({"id2label": {"1": "positive", "0": "negative"}}));
        assert_eq!(
            id2label(&c).unwrap().unwrap(),
            names(&["negative", "positive"])
        );
        let c = cfg(serde_json::json!({"id2label": {"0": "negative", "2": "positive"}}));
        let e = id2label(&c).unwrap_err().to_string();
        assert!(e.contains("m/config.json") && e.contains("key `2`"), "{e}");
        assert_eq!(id2label(&cfg(serde_json::json!({}))).unwrap(), None);
    }
}
