//! One pass of `verbatim analyze`: responses in, analysed responses and
//! drivers out.
//!
//! The steps read like the handbook's pipeline: every comment and clause is
//! embedded once (identical texts share one vector, which is common in survey
//! exports: "ok", "alles gut"), classified for sentiment and topics, joined to
//! its NPS bucket, and the topics are turned into drivers. Nothing here knows
//! about clap or file formats; the command builds the inputs and the writers
//! take the result.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::Result;

use crate::classify::clauses::split_clauses;
use crate::classify::{Classifier, CommentAnalysis, Taxonomy};
use crate::drivers::{rank, topic_drivers, Driver, DriverInput, Ranking};
use crate::input::{Ingested, Response};
use crate::model::Encoder;
use crate::nps::{Bucket, Nps};

/// One response after analysis.
#[derive(Debug, Clone)]
pub struct AnalyzedResponse {
    pub response: Response,
    pub bucket: Bucket,
    /// `None` when the comment is empty (the score still counts in NPS).
    pub analysis: Option<CommentAnalysis>,
}

/// Which driver table a row belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DriverScope {
    /// Any mention of the topic.
    Any,
    /// Mentions in a negative clause.
    Negative,
    /// Mentions in a positive clause.
    Positive,
}

impl DriverScope {
    /// Name as written in the outputs.
    pub fn as_str(self) -> &'static str {
        match self {
            DriverScope::Any => "any",
            DriverScope::Negative => "negative",
            DriverScope::Positive => "positive",
        }
    }
}

/// Drivers of one scope with their ranking.
#[derive(Debug, Clone)]
pub struct DriverTable {
    pub scope: DriverScope,
    pub drivers: Vec<Driver>,
    pub ranking: Ranking,
}

/// Everything a run computed.
#[derive(Debug)]
pub struct Analysis {
    pub ingested_source: String,
    pub segment_columns: Vec<String>,
    pub read: u64,
    pub rejects: Vec<crate::input::Reject>,
    pub responses: Vec<AnalyzedResponse>,
    pub nps: Nps,
    pub drivers: Vec<DriverTable>,
    pub texts_embedded: usize,
    pub embed_time: Duration,
}

/// Settings of one pass.
#[derive(Debug, Clone, Copy)]
pub struct PassSettings {
    /// Below this many mentions a driver is computed but marked suppressed.
    pub min_n: u64,
    /// Texts per call to the encoder (bounds memory; progress between calls).
    pub chunk: usize,
}

impl Default for PassSettings {
    fn default() -> Self {
        PassSettings {
            min_n: 30,
            chunk: 2048,
        }
    }
}

/// Runs the pass; `progress` is told (done, total) texts as embedding goes.
pub fn analyze(
    ingested: Ingested,
    encoder: &dyn Encoder,
    classifier: &Classifier,
    taxonomy: &Taxonomy,
    settings: PassSettings,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Analysis> {
    // 1. The distinct texts to embed: each comment, and its clauses.
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut texts: Vec<String> = Vec::new();
    let mut intern = |t: &str| -> usize {
        if let Some(&i) = index.get(t) {
            return i;
        }
        texts.push(t.to_string());
        index.insert(t.to_string(), texts.len() - 1);
        texts.len() - 1
    };
    // Per response: (text index of the comment, its clauses, their indices).
    type Plan = Option<(usize, Vec<String>, Vec<usize>)>;
    let plans: Vec<Plan> = ingested
        .responses
        .iter()
        .map(|r| {
            if r.comment.trim().is_empty() {
                return None;
            }
            let whole = intern(&r.comment);
            let mut clauses = split_clauses(&r.comment);
            if clauses.is_empty() {
                clauses.push(r.comment.clone());
            }
            let ids = if clauses.len() == 1 {
                vec![whole]
            } else {
                clauses.iter().map(|c| intern(c)).collect()
            };
            Some((whole, clauses, ids))
        })
        .collect();

    // 2. Embed in chunks.
    let started = Instant::now();
    let mut vectors: Vec<Vec<f32>> = Vec::with_capacity(texts.len());
    progress(0, texts.len());
    for chunk in texts.chunks(settings.chunk.max(1)) {
        let refs: Vec<&str> = chunk.iter().map(String::as_str).collect();
        vectors.extend(encoder.embed(&refs)?);
        progress(vectors.len(), texts.len());
    }
    let embed_time = started.elapsed();

    // 3. Classify and join to buckets.
    let mut responses = Vec::with_capacity(ingested.responses.len());
    for (r, plan) in ingested.responses.into_iter().zip(plans) {
        let bucket = Bucket::from_score(r.score)
            .ok_or_else(|| anyhow::anyhow!("line {}: score {} out of range", r.line, r.score))?;
        let analysis = plan.map(|(whole, clauses, ids)| {
            let clause_vecs: Vec<Vec<f32>> = ids.iter().map(|&i| vectors[i].clone()).collect();
            classifier.analyse(&vectors[whole], clauses, &clause_vecs)
        });
        responses.push(AnalyzedResponse {
            response: r,
            bucket,
            analysis,
        });
    }

    // 4. NPS and drivers.
    let buckets: Vec<Bucket> = responses.iter().map(|r| r.bucket).collect();
    let nps = Nps::from_buckets(buckets.iter().copied());
    let topic_ids: Vec<String> = taxonomy.topics.iter().map(|t| t.id.clone()).collect();
    let mut drivers = Vec::new();
    for scope in [
        DriverScope::Any,
        DriverScope::Negative,
        DriverScope::Positive,
    ] {
        let mentions: Vec<Vec<usize>> = responses
            .iter()
            .map(|r| {
                r.analysis.as_ref().map_or_else(Vec::new, |a| {
                    a.topics
                        .iter()
                        .filter(|h| match scope {
                            DriverScope::Any => true,
                            DriverScope::Negative => {
                                h.polarity == crate::classify::Polarity::Negative
                            }
                            DriverScope::Positive => {
                                h.polarity == crate::classify::Polarity::Positive
                            }
                        })
                        .map(|h| h.topic)
                        .collect()
                })
            })
            .collect();
        let table = topic_drivers(&DriverInput {
            buckets: &buckets,
            mentions: &mentions,
            topics: &topic_ids,
            min_n: settings.min_n,
        });
        let ranking = rank(&table);
        drivers.push(DriverTable {
            scope,
            drivers: table,
            ranking,
        });
    }

    Ok(Analysis {
        ingested_source: ingested.source,
        segment_columns: ingested.segment_columns,
        read: ingested.read,
        rejects: ingested.rejects,
        responses,
        nps,
        drivers,
        texts_embedded: texts.len(),
        embed_time,
    })
}
