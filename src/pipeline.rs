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

use crate::aggregate::{aggregate, AggInput, AggRow, Period};
use crate::classify::clauses::split_clauses;
use crate::classify::{Classifier, CommentAnalysis, Taxonomy};
use crate::dates::{parse_when, When};
use crate::drivers::{rank, topic_drivers, Driver, DriverInput, Ranking};
use crate::input::{Ingested, Response};
use crate::model::Encoder;
use crate::nps::{Bucket, Nps};

/// One response after analysis.
#[derive(Debug, Clone)]
pub struct AnalyzedResponse {
    pub response: Response,
    pub bucket: Bucket,
    /// Time of the response, from the date column (empty without one).
    pub when: When,
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
    /// Index into `segment_columns` of the date column, if any.
    pub date_column: Option<usize>,
    /// Values of the date column that could not be parsed.
    pub unparsed_dates: usize,
    /// Segment columns (indices) with NPS aggregates.
    pub agg_columns: Vec<usize>,
    pub agg: Vec<AggRow>,
    pub drivers: Vec<DriverTable>,
    pub texts_embedded: usize,
    pub embed_time: Duration,
}

/// Which segment columns get NPS aggregates.
#[derive(Debug, Clone, PartialEq)]
pub enum SegmentChoice {
    /// Columns with at most this many distinct values (so free text such as
    /// a name or a title does not become thousands of segments).
    Auto { max_values: usize },
    /// Exactly these columns (indices into the segment columns).
    Columns(Vec<usize>),
}

/// Settings of one pass.
#[derive(Debug, Clone)]
pub struct PassSettings {
    /// Below this many mentions a driver is computed but marked suppressed;
    /// below this many responses an NPS aggregate is.
    pub min_n: u64,
    /// Texts per call to the encoder (bounds memory; progress between calls).
    pub chunk: usize,
    /// Index into the segment columns of the response date.
    pub date_column: Option<usize>,
    /// Periods for the NPS aggregates.
    pub periods: Vec<Period>,
    pub segments: SegmentChoice,
    /// False discovery rate for the Benjamini–Hochberg flags.
    pub fdr: f64,
}

impl Default for PassSettings {
    fn default() -> Self {
        PassSettings {
            min_n: 30,
            chunk: 2048,
            date_column: None,
            periods: vec![Period::Week, Period::Month, Period::Quarter],
            segments: SegmentChoice::Auto { max_values: 100 },
            fdr: 0.05,
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
        let when = settings
            .date_column
            .and_then(|c| r.segments.get(c))
            .map_or_else(When::default, |v| parse_when(v));
        let analysis = plan.map(|(whole, clauses, ids)| {
            let clause_vecs: Vec<Vec<f32>> = ids.iter().map(|&i| vectors[i].clone()).collect();
            classifier.analyse(&vectors[whole], clauses, &clause_vecs)
        });
        responses.push(AnalyzedResponse {
            response: r,
            bucket,
            when,
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

    // 5. NPS per segment and period.
    let unparsed_dates = match settings.date_column {
        Some(c) => responses
            .iter()
            .filter(|r| r.when.date.is_none())
            .filter(|r| {
                r.response
                    .segments
                    .get(c)
                    .is_some_and(|v| !v.trim().is_empty())
            })
            .count(),
        None => 0,
    };
    let agg_columns: Vec<usize> = match &settings.segments {
        SegmentChoice::Columns(c) => c.clone(),
        SegmentChoice::Auto { max_values } => (0..ingested.segment_columns.len())
            .filter(|&c| Some(c) != settings.date_column)
            .filter(|&c| {
                let mut seen = std::collections::HashSet::new();
                responses.iter().all(|r| {
                    seen.insert(r.response.segments.get(c).map(String::as_str).unwrap_or(""));
                    seen.len() <= *max_values
                })
            })
            .collect(),
    };
    let dates: Vec<Option<chrono::NaiveDate>> = responses.iter().map(|r| r.when.date).collect();
    let segments: Vec<(String, Vec<String>)> = agg_columns
        .iter()
        .map(|&c| {
            let values = responses
                .iter()
                .map(|r| r.response.segments.get(c).cloned().unwrap_or_default())
                .collect();
            (ingested.segment_columns[c].clone(), values)
        })
        .collect();
    let periods: &[Period] = if settings.date_column.is_some() {
        &settings.periods
    } else {
        &[]
    };
    let agg = aggregate(&AggInput {
        buckets: &buckets,
        dates: &dates,
        segments: &segments,
        periods,
        min_n: settings.min_n,
        q: settings.fdr,
    });

    Ok(Analysis {
        ingested_source: ingested.source,
        segment_columns: ingested.segment_columns,
        read: ingested.read,
        rejects: ingested.rejects,
        responses,
        nps,
        date_column: settings.date_column,
        unparsed_dates,
        agg_columns,
        agg,
        drivers,
        texts_embedded: texts.len(),
        embed_time,
    })
}
