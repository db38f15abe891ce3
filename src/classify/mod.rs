//! Sentiment and topics for each comment, on the encoder's vectors.
//!
//! Sentiment comes from one of three sources ([`SentimentModel`]): a
//! logistic-regression head on the encoder's vectors ([`head`], the default),
//! the centroids of labelled example sentences (the baseline), or a
//! fine-tuned classification model that reads the text itself
//! ([`sentiment_model`], `--sentiment-model`). Topics work in every language
//! the encoder knows and need no training run:
//! - a topic matches a clause when the clause is close enough to one of the
//!   topic's example phrases (`models/taxonomy/*.toml`) and the topic's
//!   keyword rules, if it has any, allow it ([`keywords`]).
//!
//! Comments are split into clauses first ("friendly agent but I waited 40
//! minutes" is two opinions), so a topic gets the polarity of the clause that
//! mentions it, not of the whole comment.

pub mod clauses;
pub mod head;
pub mod keywords;
pub mod language;
pub mod sentiment_model;
pub mod taxonomy;

use std::collections::BTreeMap;

use anyhow::Result;
use serde::{Deserialize, Serialize};

use crate::model::{centroid, dot, Encoder};
pub use head::SentimentHead;
use keywords::{KeywordFilter, Normalized};
pub use sentiment_model::ModelSentiment;
pub use taxonomy::Taxonomy;

/// The shipped sentiment prototypes, compiled in.
pub const DEFAULT_PROTOTYPES: &str = include_str!("../../models/sentiment/prototypes.toml");

/// Sentiment classes, in the order of the prototype file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Polarity {
    Negative,
    Neutral,
    Positive,
}

impl Polarity {
    /// Lower-case name as written in outputs.
    pub fn as_str(self) -> &'static str {
        match self {
            Polarity::Negative => "negative",
            Polarity::Neutral => "neutral",
            Polarity::Positive => "positive",
        }
    }
}

/// Labelled example sentences per sentiment class.
#[derive(Debug, Clone, Deserialize)]
pub struct Prototypes {
    pub name: String,
    pub version: String,
    #[serde(rename = "class")]
    pub classes: Vec<PrototypeClass>,
}

/// One class of [`Prototypes`].
#[derive(Debug, Clone, Deserialize)]
pub struct PrototypeClass {
    pub name: String,
    pub examples: BTreeMap<String, Vec<String>>,
}

impl Prototypes {
    /// The compiled-in prototypes.
    pub fn default_set() -> Prototypes {
        toml::from_str(DEFAULT_PROTOTYPES).expect("models/sentiment/prototypes.toml is valid")
    }
}

/// Sentiment of one text.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Sentiment {
    pub label: Polarity,
    /// P(positive) − P(negative), in −1..1.
    pub score: f32,
    /// Probability of `label`.
    pub confidence: f32,
}

/// A topic found in a comment.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TopicHit {
    /// Index into the taxonomy's topics.
    pub topic: usize,
    /// Best cosine between a clause and the topic's examples.
    pub similarity: f32,
    /// Index of the clause that matched best.
    pub clause: usize,
    /// Sentiment of that clause.
    pub polarity: Polarity,
}

/// Everything the classifier says about one comment.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CommentAnalysis {
    pub sentiment: Sentiment,
    pub clauses: Vec<String>,
    pub clause_sentiment: Vec<Sentiment>,
    pub topics: Vec<TopicHit>,
    /// ISO 639-1 code of the comment's language, when it was detected.
    pub language: Option<&'static str>,
}

/// Thresholds of the classifier.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct ClassifierSettings {
    /// Softmax temperature on the cosines to the sentiment centroids.
    pub sentiment_temperature: f32,
    /// A clause mentions a topic when its best cosine to the topic's examples
    /// is at least this …
    pub topic_threshold: f32,
    /// … and within this margin of the clause's best topic …
    pub topic_margin: f32,
    /// … and at least this far above the clause's mean cosine over all
    /// topics. e5 cosines crowd into 0.8–0.95 for any two short texts, so a
    /// generic clause ("prima", "all good") is close to every topic at once;
    /// the gap to the mean separates "about this topic" from "about nothing".
    pub topic_min_gap: f32,
}

impl Default for ClassifierSettings {
    fn default() -> Self {
        ClassifierSettings {
            sentiment_temperature: 0.01,
            topic_threshold: 0.85,
            topic_margin: 0.02,
            topic_min_gap: 0.035,
        }
    }
}

/// Where sentiment comes from.
#[derive(Debug)]
pub enum SentimentModel {
    /// Nearest centroid of labelled example sentences (the baseline).
    Prototypes(Prototypes),
    /// A logistic-regression head on the encoder's vectors (the default).
    Head(Box<SentimentHead>),
    /// A fine-tuned classification model run on the text
    /// (`--sentiment-model`).
    Model(Box<ModelSentiment>),
}

enum SentimentScorer {
    Centroids(Vec<(Polarity, Vec<f32>)>),
    Head(Box<SentimentHead>),
    Model(Box<ModelSentiment>),
}

/// Sentiment and topic models ready for one encoder's vectors.
pub struct Classifier {
    sentiment: SentimentScorer,
    /// Per topic, the vectors of its example phrases.
    topic_examples: Vec<Vec<Vec<f32>>>,
    /// Per topic, its `must` / `exclude` keyword rules.
    topic_keywords: Vec<KeywordFilter>,
    pub settings: ClassifierSettings,
}

fn polarity_of(name: &str) -> Result<Polarity> {
    Ok(match name {
        "negative" => Polarity::Negative,
        "neutral" => Polarity::Neutral,
        "positive" => Polarity::Positive,
        other => anyhow::bail!("sentiment class `{other}`: expected negative, neutral or positive"),
    })
}

impl Classifier {
    /// Embeds the prototypes (if sentiment uses them) and the topic examples
    /// with `encoder`.
    pub fn build(
        encoder: &dyn Encoder,
        sentiment: SentimentModel,
        taxonomy: &Taxonomy,
        settings: ClassifierSettings,
    ) -> Result<Classifier> {
        let sentiment = match sentiment {
            SentimentModel::Head(h) => {
                anyhow::ensure!(
                    h.dim == encoder.dim(),
                    "the sentiment head has dimension {} but the encoder gives {}",
                    h.dim,
                    encoder.dim()
                );
                SentimentScorer::Head(h)
            }
            SentimentModel::Prototypes(p) => SentimentScorer::Centroids(centroids(encoder, &p)?),
            SentimentModel::Model(m) => SentimentScorer::Model(m),
        };
        let mut topic_examples = Vec::new();
        for topic in &taxonomy.topics {
            let texts: Vec<&str> = topic.all_examples().collect();
            topic_examples.push(encoder.embed(&texts)?);
        }
        let topic_keywords = taxonomy.topics.iter().map(KeywordFilter::new).collect();
        Ok(Classifier {
            sentiment,
            topic_examples,
            topic_keywords,
            settings,
        })
    }

    /// Sentiment of each text, given with its unit vector: from the vector
    /// (head, prototypes) or from the text (a sentiment model).
    pub fn sentiments(&self, texts: &[&str], vectors: &[Vec<f32>]) -> Result<Vec<Sentiment>> {
        match &self.sentiment {
            SentimentScorer::Model(m) => m.sentiments(texts),
            _ => Ok(vectors.iter().filter_map(|v| self.sentiment(v)).collect()),
        }
    }

    /// Sentiment of one unit vector; `None` when sentiment comes from a
    /// model that reads the text instead ([`Classifier::sentiments`]).
    pub fn sentiment(&self, v: &[f32]) -> Option<Sentiment> {
        let centroids = match &self.sentiment {
            SentimentScorer::Head(h) => return Some(h.sentiment(v)),
            SentimentScorer::Model(_) => return None,
            SentimentScorer::Centroids(c) => c,
        };
        let t = self.settings.sentiment_temperature;
        let sims: Vec<f32> = centroids.iter().map(|(_, c)| dot(v, c) / t).collect();
        let max = sims.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
        let exps: Vec<f32> = sims.iter().map(|s| (s - max).exp()).collect();
        let total: f32 = exps.iter().sum();
        let mut best = 0;
        let mut score = 0.0;
        for (i, (pol, _)) in centroids.iter().enumerate() {
            let p = exps[i] / total;
            match pol {
                Polarity::Positive => score += p,
                Polarity::Negative => score -= p,
                Polarity::Neutral => {}
            }
            if exps[i] > exps[best] {
                best = i;
            }
        }
        Some(Sentiment {
            label: centroids[best].0,
            score,
            confidence: exps[best] / total,
        })
    }

    /// Best cosine of `v` to each topic's examples.
    pub fn topic_similarities(&self, v: &[f32]) -> Vec<f32> {
        self.topic_examples
            .iter()
            .map(|ex| {
                ex.iter()
                    .map(|e| dot(v, e))
                    .fold(f32::NEG_INFINITY, f32::max)
            })
            .collect()
    }

    /// Classifies one comment from the sentiment of the whole comment and
    /// the vectors and sentiments of its clauses (from
    /// [`Classifier::sentiments`]; the comment itself when it is one
    /// clause). `language` (from [`language::detect`]) only selects which
    /// keyword rules apply; topics are found the same way in every language.
    pub fn analyse(
        &self,
        sentiment: Sentiment,
        clauses: Vec<String>,
        clause_vecs: &[Vec<f32>],
        clause_sentiment: Vec<Sentiment>,
        language: Option<&'static str>,
    ) -> CommentAnalysis {
        let s = &self.settings;
        debug_assert_eq!(clause_sentiment.len(), clause_vecs.len());
        let mut best: BTreeMap<usize, TopicHit> = BTreeMap::new();
        let comment_words = Normalized::new(&clauses.join(" "));
        for (ci, v) in clause_vecs.iter().enumerate() {
            let mut sims = self.topic_similarities(v);
            let mean = sims.iter().sum::<f32>() / sims.len().max(1) as f32;
            // Keyword rules bar a topic before the margin is taken, so that a
            // barred topic does not crowd the clause's other topics out. The
            // mean stays that of all topics: it measures how generic the
            // clause is, whatever the keywords say.
            let clause_words = Normalized::new(clauses.get(ci).map_or("", String::as_str));
            for (sim, rules) in sims.iter_mut().zip(&self.topic_keywords) {
                if !rules.allows(&comment_words, &clause_words, language) {
                    *sim = f32::NEG_INFINITY;
                }
            }
            let top = sims.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
            for (ti, &sim) in sims.iter().enumerate() {
                if sim < s.topic_threshold
                    || sim < top - s.topic_margin
                    || sim - mean < s.topic_min_gap
                {
                    continue;
                }
                let hit = TopicHit {
                    topic: ti,
                    similarity: sim,
                    clause: ci,
                    polarity: clause_sentiment[ci].label,
                };
                match best.get(&ti) {
                    Some(h) if h.similarity >= sim => {}
                    _ => {
                        best.insert(ti, hit);
                    }
                }
            }
        }
        CommentAnalysis {
            sentiment,
            clauses,
            clause_sentiment,
            topics: best.into_values().collect(),
            language,
        }
    }
}

/// Centroid per class of the prototype sentences, embedded with `encoder`.
fn centroids(encoder: &dyn Encoder, prototypes: &Prototypes) -> Result<Vec<(Polarity, Vec<f32>)>> {
    let mut out = Vec::new();
    for class in &prototypes.classes {
        let texts: Vec<&str> = class
            .examples
            .values()
            .flatten()
            .map(String::as_str)
            .collect();
        anyhow::ensure!(
            !texts.is_empty(),
            "sentiment class `{}` has no examples",
            class.name
        );
        let vectors = encoder.embed(&texts)?;
        out.push((polarity_of(&class.name)?, centroid(&vectors)));
    }
    Ok(out)
}
