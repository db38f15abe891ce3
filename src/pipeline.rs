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

use std::time::{Duration, Instant};

use anyhow::Result;
use rayon::prelude::*;

use crate::classify::embed::{classify_embedded, embed_comments, EmbeddedTexts};
use crate::classify::precomputed::AnalysisStore;
use crate::classify::Classifier;
use crate::input::dates::{DateFormat, Example, When};
use crate::input::{InputError, Mode, Record, Reject, Response};
use crate::model::Encoder;
use crate::stats::aggregate::{AggAccumulator, AggRow, Period};
use crate::stats::driver_stats::{finest, DriverCounts, DriverCountsAccumulator};
use crate::stats::drivers::{rank, DriverAccumulator};
use crate::stats::nps::{Bucket, Nps};
use crate::stats::topic_counts::{TopicCounts, TopicCountsAccumulator};

use crate::stats::response::{AnalyzedResponse, DriverScope, DriverTable};

/// Which segment columns get NPS aggregates.
#[derive(Debug, Clone, PartialEq)]
pub enum SegmentChoice {
    /// Every segment column with at most this many distinct values (so free
    /// text such as a name or a title does not become thousands of segments),
    /// except [`PassSettings::not_segments`].
    Auto { max_values: usize },
    /// Exactly these columns (indices into the segment columns).
    Columns(Vec<usize>),
}

/// The models a pass runs: the encoder, and the classifier on its vectors.
#[derive(Clone, Copy)]
pub struct PassModels<'a> {
    pub encoder: &'a dyn Encoder,
    pub classifier: &'a Classifier,
    /// The analyses of the per-comment stage (`--from-parts`): when given,
    /// every answer's analysis comes from here and nothing is embedded.
    pub precomputed: Option<&'a AnalysisStore>,
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
    /// How the date column's values are read.
    pub date_format: DateFormat,
    /// Index into the segment columns of the survey weight
    /// (`--weight-column`): never a segment; its values were checked by
    /// the reader (a bad weight is a reject), and they weight the NPS of
    /// `agg_nps` only (its first row is the whole run).
    pub weight_column: Option<usize>,
    /// Names of the open questions, the comment column's first
    /// ([`crate::input::ResolvedColumns::questions`]); with several, the
    /// follow-up list shows each answer after its question.
    pub questions: Vec<String>,
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
    /// Segment columns that are never automatic segments: they hold
    /// personal data ([`crate::text::redact::column_kind`]).
    pub not_segments: Vec<usize>,
    /// Segment columns whose values are masked as each chunk arrives, before
    /// anything counts or writes them, with what they hold.
    pub masked_columns: Vec<(usize, crate::text::redact::PersonalColumn)>,
    /// The input's name in messages that point at one of its lines, as
    /// the reader's errors name it ([`crate::input::InputError`]).
    pub source: String,
    /// A run with scores (NPS, drivers) or without ([`Mode::TopicsOnly`]:
    /// the topic counts only; every NPS figure of the result stays empty).
    pub mode: Mode,
}

impl Default for PassSettings {
    fn default() -> Self {
        PassSettings {
            min_n: 30,
            chunk: 4096,
            date_column: None,
            date_format: DateFormat::default(),
            weight_column: None,
            questions: Vec::new(),
            periods: vec![Period::Week, Period::Month, Period::Quarter],
            segments: SegmentChoice::Auto { max_values: 100 },
            fdr: 0.05,
            team_columns: Vec::new(),
            followup_limit: crate::stats::followup::DEFAULT_LIMIT,
            redact: true,
            not_segments: Vec::new(),
            masked_columns: Vec::new(),
            source: String::new(),
            mode: Mode::Nps,
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
    /// Responses whose only text was a placeholder ("n/a", "-", "keine
    /// Angabe": [`crate::text::non_answer`]), counted as without a comment.
    pub placeholder_comments: u64,
    pub nps: Nps,
    /// Values of the date column that could not be parsed.
    pub unparsed_dates: u64,
    /// The first of them, and its line.
    pub first_unparsed_date: Option<Example>,
    /// Segment columns with NPS aggregates.
    pub agg_columns: Vec<String>,
    /// NPS per segment and period; empty without scores.
    pub agg: Vec<AggRow>,
    /// The drivers of each scope; empty without scores.
    pub drivers: Vec<DriverTable>,
    /// Counts for the further driver statistics ([`crate::stats::driver_stats`]).
    pub counts: DriverCounts,
    /// Topic mentions, their polarity and the comments' sentiment, over the
    /// run and per period (`agg_topic`); with or without scores.
    pub topics: TopicCounts,
    pub texts_embedded: usize,
    pub embed_time: Duration,
}

/// A chunk between the embedding and the classifying stage of a pass: the
/// rows read, in input order, with the responses' comments split and
/// embedded.
struct EmbeddedChunk {
    read: u64,
    rejects: Vec<Reject>,
    responses: Vec<Response>,
    embedded: EmbeddedTexts,
    embed_time: Duration,
}

/// The embedding stage: splits and embeds the comments of one batch (no
/// encoder: only sorts the records, for analyses made before).
fn embed_chunk(batch: Vec<Record>, encoder: Option<&dyn Encoder>) -> Result<EmbeddedChunk> {
    let read = batch.len() as u64;
    let (mut rejects, mut responses) = (Vec::new(), Vec::with_capacity(batch.len()));
    for record in batch {
        match record {
            Record::Reject(r) => rejects.push(r),
            Record::Response(r) => responses.push(r),
        }
    }
    // Every answer of every response, response by response: one comment
    // each for the encoder (`Tally::add` groups them back).
    let comments: Vec<&str> = responses
        .iter()
        .flat_map(|r| (0..r.questions()).map(move |q| r.answer(q)))
        .collect();
    let started = Instant::now();
    let embedded = match encoder {
        Some(encoder) if !comments.is_empty() => embed_comments(&comments, encoder)?,
        _ => EmbeddedTexts::default(),
    };
    let embed_time = started.elapsed();
    Ok(EmbeddedChunk {
        read,
        rejects,
        responses,
        embedded,
        embed_time,
    })
}

/// Every answer's analysis from the per-comment stage's store, response
/// by response as [`embed_chunk`] lists the answers; an answer no part
/// analysed is an error naming the file (`source`) and the line.
fn stored_analyses(
    store: &AnalysisStore,
    responses: &[Response],
    source: &str,
) -> Result<Vec<Option<crate::classify::CommentAnalysis>>> {
    let mut out = Vec::with_capacity(responses.len());
    for r in responses {
        for q in 0..r.questions() {
            let a = store
                .analysis_of(r.answer(q))
                .map_err(|e| anyhow::anyhow!("`{source}` line {}: {e}", r.line))?;
            out.push(a);
        }
    }
    Ok(out)
}

/// What the reading thread hands over: up to a chunk of responses, with
/// the rejects met on the way, in input order; or the error that stopped
/// the reading.
type Batch = Result<Vec<Record>, InputError>;

/// Reads `records` into batches of `chunk` responses and sends them until
/// the input ends, an error stops it, or the receiver is gone.
fn read_batches(
    records: impl Iterator<Item = Result<Record, InputError>>,
    chunk: usize,
    tx: std::sync::mpsc::SyncSender<Batch>,
) {
    let mut batch = Vec::with_capacity(chunk);
    let mut responses = 0;
    for r in records {
        match r {
            Err(e) => {
                // The run stops here: the batch read so far is not wanted.
                let _ = tx.send(Err(e));
                return;
            }
            Ok(r) => {
                responses += usize::from(matches!(r, Record::Response(_)));
                batch.push(r);
            }
        }
        if responses == chunk {
            if tx.send(Ok(std::mem::take(&mut batch))).is_err() {
                return;
            }
            responses = 0;
        }
    }
    if !batch.is_empty() {
        let _ = tx.send(Ok(batch));
    }
}

/// Everything a pass counts, fed one chunk at a time by the classifying
/// stage.
struct Tally<'a> {
    settings: &'a PassSettings,
    /// Masks the values of [`PassSettings::masked_columns`], when any.
    redactor: Option<crate::text::redact::Redactor>,
    agg_index: Vec<usize>,
    counts: DriverCountsAccumulator,
    agg: AggAccumulator,
    drivers: Vec<DriverAccumulator>,
    topics: TopicCountsAccumulator,
    nps: Nps,
    read: u64,
    analysed: u64,
    rejected: u64,
    with_comment: u64,
    placeholder_comments: u64,
    unparsed: u64,
    first_unparsed: Option<Example>,
    texts_embedded: usize,
    embed_time: Duration,
}

impl<'a> Tally<'a> {
    fn new(segment_columns: &[String], topic_ids: &[String], settings: &'a PassSettings) -> Self {
        let mut agg_index: Vec<usize> = match &settings.segments {
            SegmentChoice::Columns(c) => c.clone(),
            SegmentChoice::Auto { .. } => (0..segment_columns.len())
                .filter(|&c| Some(c) != settings.date_column && !settings.not_segments.contains(&c))
                .collect(),
        };
        // A weight is a number per response, never a group.
        agg_index.retain(|&c| Some(c) != settings.weight_column);
        let max_values = match settings.segments {
            SegmentChoice::Auto { max_values } => Some(max_values),
            SegmentChoice::Columns(_) => None,
        };
        let periods = if settings.date_column.is_some() {
            settings.periods.clone()
        } else {
            Vec::new()
        };
        let counts = DriverCountsAccumulator::new(
            topic_ids,
            &crate::stats::driver_stats::SegmentColumns {
                names: segment_columns,
                aggregated: &agg_index,
                max_values,
                teams: &settings.team_columns,
            },
            finest(&periods),
            settings.followup_limit,
            settings.redact,
        )
        .with_questions(&settings.questions);
        let agg = AggAccumulator::new(
            agg_index
                .iter()
                .map(|&i| segment_columns[i].clone())
                .collect(),
            periods.clone(),
            max_values,
        );
        let agg = match settings.weight_column {
            Some(_) => agg.with_weights(),
            None => agg,
        };
        let topics = TopicCountsAccumulator::new(topic_ids, &periods);
        Tally {
            settings,
            redactor: (!settings.masked_columns.is_empty())
                .then(crate::text::redact::Redactor::new),
            agg_index,
            counts,
            agg,
            drivers: DriverScope::ALL
                .iter()
                .map(|_| DriverAccumulator::new(topic_ids.to_vec()))
                .collect(),
            topics,
            nps: Nps::default(),
            read: 0,
            analysed: 0,
            rejected: 0,
            with_comment: 0,
            placeholder_comments: 0,
            unparsed: 0,
            first_unparsed: None,
            texts_embedded: 0,
            embed_time: Duration::ZERO,
        }
    }

    /// The classifying stage for one chunk: classifies its comments, counts
    /// its responses and hands rejects and responses to the sink.
    fn add(
        &mut self,
        mut chunk: EmbeddedChunk,
        classifier: &Classifier,
        precomputed: Option<&AnalysisStore>,
        sink: &mut dyn PassSink,
        progress: &mut dyn FnMut(u64),
    ) -> Result<()> {
        self.read += chunk.read;
        self.texts_embedded += chunk.embedded.distinct_texts();
        self.embed_time += chunk.embed_time;
        for r in &chunk.rejects {
            self.rejected += 1;
            sink.reject(r)?;
        }
        if chunk.responses.is_empty() {
            return Ok(());
        }
        if let Some(redactor) = &self.redactor {
            let masked = &self.settings.masked_columns;
            chunk.responses.par_iter_mut().for_each(|r| {
                for &(c, kind) in masked {
                    if let Some(v) = r.segments.get_mut(c) {
                        *v = kind.mask(redactor, v);
                    }
                }
            });
        }
        let analyses = match precomputed {
            None => classify_embedded(chunk.embedded, classifier)?,
            Some(store) => stored_analyses(store, &chunk.responses, &self.settings.source)?,
        };
        let answers: usize = chunk.responses.iter().map(Response::questions).sum();
        anyhow::ensure!(
            analyses.len() == answers,
            "{} analyses for {} answers",
            analyses.len(),
            answers
        );
        let date_column = self.settings.date_column;
        let mut done = Vec::with_capacity(chunk.responses.len());
        let mut analyses = analyses.into_iter();
        for r in chunk.responses {
            let mut answers: Vec<_> = analyses.by_ref().take(r.questions()).collect();
            let (analysis, answers) = if answers.len() == 1 {
                (answers.pop().flatten(), Vec::new())
            } else {
                (crate::classify::CommentAnalysis::join(&answers), answers)
            };
            let bucket = match r.score {
                Some(score) => Some(Bucket::from_score(score).ok_or_else(|| {
                    anyhow::anyhow!("line {}: score {score} out of range", r.line)
                })?),
                None => None,
            };
            let when = date_column
                .and_then(|c| r.segments.get(c))
                .map_or_else(When::default, |v| self.settings.date_format.read(v));
            done.push(AnalyzedResponse {
                response: r,
                bucket,
                when,
                analysis,
                answers,
            });
        }
        for a in &done {
            self.analysed += 1;
            if a.analysis.is_some() {
                self.with_comment += 1;
            } else if (0..a.response.questions()).any(|q| !a.response.answer(q).trim().is_empty()) {
                self.placeholder_comments += 1;
            }
            if let Some(c) = date_column {
                let raw = a.response.segments.get(c).map_or("", |v| v.trim());
                if a.when.date.is_none() && !raw.is_empty() {
                    self.unparsed += 1;
                    if self.first_unparsed.is_none() {
                        self.first_unparsed = Some(Example::new(a.response.line, raw));
                    }
                }
            }
            self.topics.add(a.analysis.as_ref(), a.when.date);
            match a.bucket {
                Some(bucket) => self.add_scored(a, bucket)?,
                // A run without scores: only the team rates, which need none.
                None => self.counts.add(a),
            }
        }
        sink.responses(&done)?;
        progress(self.analysed);
        Ok(())
    }

    /// Counts a response with a score in NPS, its aggregates and the
    /// drivers.
    fn add_scored(&mut self, a: &AnalyzedResponse, bucket: Bucket) -> Result<()> {
        self.nps.add(bucket);
        let weight = match self.settings.weight_column {
            None => 1.0,
            Some(c) => {
                let raw = a.response.segments.get(c).map_or("", String::as_str);
                // The reader rejected every row whose weight does not parse.
                crate::input::parse_weight(raw, "weight").map_err(|e| {
                    anyhow::anyhow!("line {}: {e} (after the reader passed it)", a.response.line)
                })?
            }
        };
        let values: Vec<&str> = self
            .agg_index
            .iter()
            .map(|&i| a.response.segments.get(i).map_or("", String::as_str))
            .collect();
        self.agg.add_weighted(bucket, weight, a.when.date, &values);
        self.counts.add(a);
        for (scope, acc) in DriverScope::ALL.iter().zip(self.drivers.iter_mut()) {
            let mentions: Vec<usize> = a.analysis.as_ref().map_or_else(Vec::new, |an| {
                an.topics
                    .iter()
                    .filter(|h| scope.admits(h.polarity))
                    .map(|h| h.topic)
                    .collect()
            });
            acc.add(bucket, &mentions);
        }
        Ok(())
    }

    fn finish(self) -> PassResult {
        let settings = self.settings;
        let scored = settings.mode.scored();
        let agg_columns = self.agg.kept_columns();
        let agg_rows = match scored {
            true => self.agg.finish(settings.min_n, settings.fdr),
            false => Vec::new(),
        };
        let drivers = DriverScope::ALL
            .iter()
            .zip(self.drivers)
            .map(|(&scope, acc)| {
                let table = acc.finish(settings.min_n);
                let ranking = rank(&table);
                DriverTable {
                    scope,
                    drivers: table,
                    ranking,
                }
            })
            .filter(|_| scored)
            .collect();
        PassResult {
            read: self.read,
            analysed: self.analysed,
            rejected: self.rejected,
            with_comment: self.with_comment,
            placeholder_comments: self.placeholder_comments,
            nps: self.nps,
            unparsed_dates: self.unparsed,
            first_unparsed_date: self.first_unparsed,
            agg_columns,
            agg: agg_rows,
            drivers,
            counts: self.counts.finish(),
            topics: self.topics.finish(),
            texts_embedded: self.texts_embedded,
            embed_time: self.embed_time,
        }
    }
}

/// Runs the pass over `records`; `progress` is told the responses done.
///
/// Three stages, one chunk apart, so that the cores do not wait on each
/// other: a thread reads and parses the input; this thread splits and
/// embeds the comments (the encoder stays on the thread that made it); a
/// third classifies them, counts them and writes them to the sink. The
/// results are those of one chunk after the other: every stage keeps the
/// input order. An error in any stage stops the others and is returned.
pub fn run_pass(
    records: impl Iterator<Item = Result<Record, InputError>> + Send,
    segment_columns: &[String],
    models: PassModels<'_>,
    topic_ids: &[String],
    settings: &PassSettings,
    sink: &mut (dyn PassSink + Send),
    progress: &mut (dyn FnMut(u64) + Send),
) -> Result<PassResult> {
    let PassModels {
        encoder,
        classifier,
        precomputed,
    } = models;
    let chunk_size = settings.chunk.max(1);
    let mut tally = Tally::new(segment_columns, topic_ids, settings);
    std::thread::scope(|scope| -> Result<()> {
        // One batch waiting in each channel while the next is worked on.
        let (read_tx, read_rx) = std::sync::mpsc::sync_channel::<Batch>(1);
        scope.spawn(move || read_batches(records, chunk_size, read_tx));
        let (tx, rx) = std::sync::mpsc::sync_channel::<EmbeddedChunk>(1);
        let tally = &mut tally;
        let classify = scope.spawn(move || -> Result<()> {
            for chunk in rx {
                tally.add(chunk, classifier, precomputed, sink, progress)?;
            }
            Ok(())
        });
        let embedding = (|| -> Result<()> {
            for batch in read_rx {
                let chunk = embed_chunk(batch?, precomputed.is_none().then_some(encoder))?;
                if tx.send(chunk).is_err() {
                    // The classifying stage stopped; its error is returned.
                    break;
                }
            }
            Ok(())
        })();
        drop(tx);
        let classified = classify
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        embedding.and(classified)
    })?;
    Ok(tally.finish())
}
