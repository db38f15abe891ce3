//! One pass of `verbatim analyze`, streamed: records in, analysed responses
//! out to a sink, chunk by chunk, and the statistics kept as running counts.
//!
//! Memory does not grow with the number of rows: a chunk of responses is
//! read, its comments and clauses embedded (identical texts within the chunk
//! share one vector, which is common in survey exports: "ok", "alles gut"),
//! classified, joined to NPS buckets, handed to the sink and dropped. NPS per
//! segment and period and the topic drivers only need counts per segment
//! value, period and topic, which [`AggAccumulator`] and
//! [`DriverAccumulator`] keep. Nothing here knows about clap or file formats.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::Result;
use rayon::prelude::*;

use crate::aggregate::{AggAccumulator, AggRow, Period};
use crate::classify::clauses::split_clauses;
use crate::classify::{Classifier, CommentAnalysis, Polarity};
use crate::dates::{parse_when, When};
use crate::driver_stats::{finest, DriverCounts, DriverCountsAccumulator};
use crate::drivers::{rank, Driver, DriverAccumulator, Ranking};
use crate::input::{InputError, Record, Reject, Response};
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
    /// All scopes, in output order.
    pub const ALL: [DriverScope; 3] = [
        DriverScope::Any,
        DriverScope::Negative,
        DriverScope::Positive,
    ];

    /// Name as written in the outputs.
    pub fn as_str(self) -> &'static str {
        match self {
            DriverScope::Any => "any",
            DriverScope::Negative => "negative",
            DriverScope::Positive => "positive",
        }
    }

    fn admits(self, p: Polarity) -> bool {
        match self {
            DriverScope::Any => true,
            DriverScope::Negative => p == Polarity::Negative,
            DriverScope::Positive => p == Polarity::Positive,
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

/// Which segment columns get NPS aggregates.
#[derive(Debug, Clone, PartialEq)]
pub enum SegmentChoice {
    /// Every segment column with at most this many distinct values (so free
    /// text such as a name or a title does not become thousands of segments).
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
    /// Responses per chunk (bounds memory; progress between chunks).
    pub chunk: usize,
    /// Index into the segment columns of the response date.
    pub date_column: Option<usize>,
    /// Periods for the NPS aggregates.
    pub periods: Vec<Period>,
    pub segments: SegmentChoice,
    /// False discovery rate for the Benjamini–Hochberg flags.
    pub fdr: f64,
    /// Team, agent or queue columns (indices into the segment columns) for
    /// the team view.
    pub team_columns: Vec<usize>,
    /// Follow-ups kept (the highest churn risk).
    pub followup_limit: usize,
    /// Mask personal data in the comments of the follow-up table.
    pub redact: bool,
}

impl Default for PassSettings {
    fn default() -> Self {
        PassSettings {
            min_n: 30,
            chunk: 4096,
            date_column: None,
            periods: vec![Period::Week, Period::Month, Period::Quarter],
            segments: SegmentChoice::Auto { max_values: 100 },
            fdr: 0.05,
            team_columns: Vec::new(),
            followup_limit: crate::followup::DEFAULT_LIMIT,
            redact: true,
        }
    }
}

/// Where analysed responses and rejects go as the pass runs.
pub trait PassSink {
    /// A chunk of analysed responses, in input order.
    fn responses(&mut self, chunk: &[AnalyzedResponse]) -> Result<()>;
    /// A row that could not be read.
    fn reject(&mut self, reject: &Reject) -> Result<()>;
}

/// What a pass computed, besides what went to the sink.
#[derive(Debug)]
pub struct PassResult {
    pub read: u64,
    pub analysed: u64,
    pub rejected: u64,
    pub with_comment: u64,
    pub nps: Nps,
    /// Values of the date column that could not be parsed.
    pub unparsed_dates: u64,
    /// Segment columns with NPS aggregates.
    pub agg_columns: Vec<String>,
    pub agg: Vec<AggRow>,
    pub drivers: Vec<DriverTable>,
    /// Counts for the further driver statistics ([`crate::driver_stats`]).
    pub counts: DriverCounts,
    pub texts_embedded: usize,
    pub embed_time: Duration,
}

/// The distinct texts of a chunk: each text once, with its index.
#[derive(Default)]
struct Texts {
    index: HashMap<String, usize>,
    list: Vec<String>,
}

impl Texts {
    fn id(&mut self, t: &str) -> usize {
        if let Some(&i) = self.index.get(t) {
            return i;
        }
        self.list.push(t.to_string());
        self.index.insert(t.to_string(), self.list.len() - 1);
        self.list.len() - 1
    }
}

/// A comment split into clauses and embedded.
#[derive(Clone, Debug)]
pub struct EmbeddedComment {
    pub clauses: Vec<String>,
    /// Vector of the whole comment.
    pub whole: Vec<f32>,
    /// Vector of each clause (the whole comment's when it is one clause).
    pub clause_vecs: Vec<Vec<f32>>,
    /// ISO 639-1 code of the comment's language, when it was detected.
    pub language: Option<&'static str>,
}

/// Splits and embeds comments: one result per text, `None` for an empty
/// one. Each distinct text (comment or clause) is embedded once.
pub fn embed_comments(
    comments: &[&str],
    encoder: &dyn Encoder,
) -> Result<Vec<Option<EmbeddedComment>>> {
    let mut texts = Texts::default();
    // Per comment: its clauses, the text index of the whole comment and of
    // each clause (the comment itself when it is one clause).
    type Plan = Option<(Vec<String>, usize, Vec<usize>)>;
    let plans: Vec<Plan> = comments
        .iter()
        .map(|&c| {
            if c.trim().is_empty() {
                return None;
            }
            let mut clauses = split_clauses(c);
            if clauses.is_empty() {
                clauses.push(c.to_string());
            }
            let whole = texts.id(c);
            let ids = if clauses.len() == 1 {
                vec![whole]
            } else {
                clauses.iter().map(|c| texts.id(c)).collect()
            };
            Some((clauses, whole, ids))
        })
        .collect();
    // Language per comment, before the encoder takes the cores: lingua
    // needs a fraction of a millisecond per comment
    // (examples/language_eval.rs prints it), which adds up over an export.
    let languages = encoder.languages(comments)?;
    anyhow::ensure!(
        languages.len() == comments.len(),
        "{} languages for {} comments",
        languages.len(),
        comments.len()
    );
    let refs: Vec<&str> = texts.list.iter().map(String::as_str).collect();
    let vectors = encoder.embed(&refs)?;
    Ok(plans
        .into_iter()
        .zip(languages)
        .map(|(plan, language)| {
            plan.map(|(clauses, whole, ids)| EmbeddedComment {
                clauses,
                whole: vectors[whole].clone(),
                clause_vecs: ids.iter().map(|&i| vectors[i].clone()).collect(),
                language,
            })
        })
        .collect())
}

/// Splits, embeds and classifies comments: one analysis per text, `None`
/// for an empty one. Each distinct text (comment or clause) is embedded
/// once, and its sentiment taken once: the comment's own from the whole
/// comment, each clause's from the clause. This is what `verbatim analyze`
/// does to every comment, so `verbatim eval` calls it too.
pub fn analyse_texts(
    comments: &[&str],
    encoder: &dyn Encoder,
    classifier: &Classifier,
) -> Result<Vec<Option<CommentAnalysis>>> {
    let embedded = embed_comments(comments, encoder)?;
    // The distinct texts again, with their vectors, so that a sentiment
    // model reading the text gets them in one batch.
    let mut texts = Texts::default();
    let mut vectors: Vec<Vec<f32>> = Vec::new();
    let mut plans: Vec<Option<(usize, Vec<usize>)>> = Vec::with_capacity(embedded.len());
    for (&c, e) in comments.iter().zip(&embedded) {
        plans.push(e.as_ref().map(|e| {
            let mut id = |t: &str, v: &Vec<f32>| {
                let i = texts.id(t);
                if i == vectors.len() {
                    vectors.push(v.clone());
                }
                i
            };
            let whole = id(c, &e.whole);
            let clauses = if e.clauses.len() == 1 {
                vec![whole]
            } else {
                e.clauses
                    .iter()
                    .zip(&e.clause_vecs)
                    .map(|(t, v)| id(t, v))
                    .collect()
            };
            (whole, clauses)
        }));
    }
    let refs: Vec<&str> = texts.list.iter().map(String::as_str).collect();
    let sentiments = classifier.sentiments(&refs, &vectors)?;
    anyhow::ensure!(
        sentiments.len() == refs.len(),
        "the sentiment model gave {} results for {} texts",
        sentiments.len(),
        refs.len()
    );
    // Cosines to the topics' examples, once per distinct clause, in one
    // matrix product.
    let mut sims_at: Vec<Option<usize>> = vec![None; refs.len()];
    let mut clause_vecs: Vec<&[f32]> = Vec::new();
    for (_, ids) in plans.iter().flatten() {
        for &i in ids {
            if sims_at[i].is_none() {
                sims_at[i] = Some(clause_vecs.len());
                clause_vecs.push(&vectors[i]);
            }
        }
    }
    let sims = classifier.topic_model().similarities_many(&clause_vecs);
    // Keyword rules and topic decisions per comment, on all cores: on a
    // rerun where every vector comes from the cache, this is most of what is
    // left.
    Ok(embedded
        .into_par_iter()
        .zip(plans)
        .map(|(e, plan)| {
            let (e, (whole, ids)) = (e?, plan?);
            let clause_sentiment = ids.iter().map(|&i| sentiments[i]).collect();
            let clause_sims = ids
                .iter()
                .map(|&i| sims[sims_at[i].expect("every clause has cosines")].clone())
                .collect();
            Some(classifier.analyse_scored(
                sentiments[whole],
                e.clauses,
                clause_sims,
                clause_sentiment,
                e.language,
            ))
        })
        .collect())
}

/// Embeds and classifies one chunk of responses; also returns how many
/// distinct texts were embedded.
fn analyse_chunk(
    responses: Vec<Response>,
    encoder: &dyn Encoder,
    classifier: &Classifier,
    date_column: Option<usize>,
) -> Result<(Vec<AnalyzedResponse>, usize)> {
    let comments: Vec<&str> = responses.iter().map(|r| r.comment.as_str()).collect();
    let analyses = analyse_texts(&comments, encoder, classifier)?;
    let mut distinct = std::collections::HashSet::new();
    for (c, a) in comments.iter().zip(&analyses) {
        if let Some(a) = a {
            distinct.insert(*c);
            if a.clauses.len() > 1 {
                distinct.extend(a.clauses.iter().map(String::as_str));
            }
        }
    }
    let embedded = distinct.len();
    let mut out = Vec::with_capacity(responses.len());
    for (r, analysis) in responses.into_iter().zip(analyses) {
        let bucket = Bucket::from_score(r.score)
            .ok_or_else(|| anyhow::anyhow!("line {}: score {} out of range", r.line, r.score))?;
        let when = date_column
            .and_then(|c| r.segments.get(c))
            .map_or_else(When::default, |v| parse_when(v));
        out.push(AnalyzedResponse {
            response: r,
            bucket,
            when,
            analysis,
        });
    }
    Ok((out, embedded))
}

/// Runs the pass over `records`; `progress` is told the responses done.
#[allow(clippy::too_many_arguments)]
pub fn run_pass(
    records: impl Iterator<Item = Result<Record, InputError>>,
    segment_columns: &[String],
    encoder: &dyn Encoder,
    classifier: &Classifier,
    topic_ids: &[String],
    settings: &PassSettings,
    sink: &mut dyn PassSink,
    progress: &mut dyn FnMut(u64),
) -> Result<PassResult> {
    let agg_index: Vec<usize> = match &settings.segments {
        SegmentChoice::Columns(c) => c.clone(),
        SegmentChoice::Auto { .. } => (0..segment_columns.len())
            .filter(|&c| Some(c) != settings.date_column)
            .collect(),
    };
    let max_values = match settings.segments {
        SegmentChoice::Auto { max_values } => Some(max_values),
        SegmentChoice::Columns(_) => None,
    };
    let periods = if settings.date_column.is_some() {
        settings.periods.clone()
    } else {
        Vec::new()
    };
    let mut counts = DriverCountsAccumulator::new(
        topic_ids,
        segment_columns,
        &agg_index,
        max_values,
        &settings.team_columns,
        finest(&periods),
        settings.followup_limit,
        settings.redact,
    );
    let mut agg = AggAccumulator::new(
        agg_index
            .iter()
            .map(|&i| segment_columns[i].clone())
            .collect(),
        periods,
        max_values,
    );
    let mut drivers: Vec<DriverAccumulator> = DriverScope::ALL
        .iter()
        .map(|_| DriverAccumulator::new(topic_ids.to_vec()))
        .collect();
    let mut nps = Nps::default();
    let (mut read, mut analysed, mut rejected, mut with_comment, mut unparsed) = (0, 0, 0, 0, 0);
    let mut texts_embedded = 0;
    let mut embed_time = Duration::ZERO;

    let mut records = records.peekable();
    let chunk_size = settings.chunk.max(1);
    while records.peek().is_some() {
        let mut chunk = Vec::with_capacity(chunk_size);
        while chunk.len() < chunk_size {
            match records.next() {
                None => break,
                Some(Err(e)) => return Err(e.into()),
                Some(Ok(Record::Reject(r))) => {
                    read += 1;
                    rejected += 1;
                    sink.reject(&r)?;
                }
                Some(Ok(Record::Response(r))) => {
                    read += 1;
                    chunk.push(r);
                }
            }
        }
        if chunk.is_empty() {
            continue;
        }
        let started = Instant::now();
        let (done, n_texts) = analyse_chunk(chunk, encoder, classifier, settings.date_column)?;
        embed_time += started.elapsed();
        texts_embedded += n_texts;
        for a in &done {
            nps.add(a.bucket);
            analysed += 1;
            if a.analysis.is_some() {
                with_comment += 1;
            }
            if let Some(c) = settings.date_column {
                let raw = a.response.segments.get(c).map_or("", |v| v.trim());
                if a.when.date.is_none() && !raw.is_empty() {
                    unparsed += 1;
                }
            }
            let values: Vec<&str> = agg_index
                .iter()
                .map(|&i| a.response.segments.get(i).map_or("", String::as_str))
                .collect();
            agg.add(a.bucket, a.when.date, &values);
            counts.add(a);
            for (scope, acc) in DriverScope::ALL.iter().zip(drivers.iter_mut()) {
                let mentions: Vec<usize> = a.analysis.as_ref().map_or_else(Vec::new, |an| {
                    an.topics
                        .iter()
                        .filter(|h| scope.admits(h.polarity))
                        .map(|h| h.topic)
                        .collect()
                });
                acc.add(a.bucket, &mentions);
            }
        }
        sink.responses(&done)?;
        progress(analysed);
    }

    let agg_columns = agg.kept_columns();
    let agg_rows = agg.finish(settings.min_n, settings.fdr);
    let drivers = DriverScope::ALL
        .iter()
        .zip(drivers)
        .map(|(&scope, acc)| {
            let table = acc.finish(settings.min_n);
            let ranking = rank(&table);
            DriverTable {
                scope,
                drivers: table,
                ranking,
            }
        })
        .collect();
    Ok(PassResult {
        read,
        analysed,
        rejected,
        with_comment,
        nps,
        unparsed_dates: unparsed,
        agg_columns,
        agg: agg_rows,
        drivers,
        counts: counts.finish(),
        texts_embedded,
        embed_time,
    })
}
