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
    /// text such as a name or a title does not become thousands of segments),
    /// except [`PassSettings::not_segments`].
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
    /// Segment columns that are never automatic segments: they hold
    /// personal data ([`crate::redact::column_kind`]).
    pub not_segments: Vec<usize>,
    /// Segment columns whose values are masked as each chunk arrives, before
    /// anything counts or writes them, with what they hold.
    pub masked_columns: Vec<(usize, crate::redact::PersonalColumn)>,
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
            not_segments: Vec::new(),
            masked_columns: Vec::new(),
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
    classify_embedded(comments, embed_comments(comments, encoder)?, classifier)
}

/// The second half of [`analyse_texts`]: classifies comments that
/// [`embed_comments`] split and embedded. It needs no encoder, so it can
/// run on another thread while the encoder embeds the next chunk.
pub fn classify_embedded(
    comments: &[&str],
    embedded: Vec<Option<EmbeddedComment>>,
    classifier: &Classifier,
) -> Result<Vec<Option<CommentAnalysis>>> {
    anyhow::ensure!(
        comments.len() == embedded.len(),
        "{} embedded comments for {} comments",
        embedded.len(),
        comments.len()
    );
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

/// A chunk between the embedding and the classifying stage of a pass: the
/// rows read, in input order, with the responses' comments split and
/// embedded.
struct EmbeddedChunk {
    read: u64,
    rejects: Vec<Reject>,
    responses: Vec<Response>,
    embedded: Vec<Option<EmbeddedComment>>,
    /// Distinct texts (comments and clauses) in the chunk.
    texts: usize,
    embed_time: Duration,
}

/// The embedding stage: splits and embeds the comments of one batch.
fn embed_chunk(batch: Vec<Record>, encoder: &dyn Encoder) -> Result<EmbeddedChunk> {
    let read = batch.len() as u64;
    let (mut rejects, mut responses) = (Vec::new(), Vec::with_capacity(batch.len()));
    for record in batch {
        match record {
            Record::Reject(r) => rejects.push(r),
            Record::Response(r) => responses.push(r),
        }
    }
    let comments: Vec<&str> = responses.iter().map(|r| r.comment.as_str()).collect();
    let started = Instant::now();
    let embedded = if comments.is_empty() {
        Vec::new()
    } else {
        embed_comments(&comments, encoder)?
    };
    let embed_time = started.elapsed();
    let mut distinct = std::collections::HashSet::new();
    for (c, e) in comments.iter().zip(&embedded) {
        if let Some(e) = e {
            distinct.insert(*c);
            if e.clauses.len() > 1 {
                distinct.extend(e.clauses.iter().map(String::as_str));
            }
        }
    }
    let texts = distinct.len();
    Ok(EmbeddedChunk {
        read,
        rejects,
        responses,
        embedded,
        texts,
        embed_time,
    })
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
    redactor: Option<crate::redact::Redactor>,
    agg_index: Vec<usize>,
    counts: DriverCountsAccumulator,
    agg: AggAccumulator,
    drivers: Vec<DriverAccumulator>,
    nps: Nps,
    read: u64,
    analysed: u64,
    rejected: u64,
    with_comment: u64,
    unparsed: u64,
    texts_embedded: usize,
    embed_time: Duration,
}

impl<'a> Tally<'a> {
    fn new(segment_columns: &[String], topic_ids: &[String], settings: &'a PassSettings) -> Self {
        let agg_index: Vec<usize> = match &settings.segments {
            SegmentChoice::Columns(c) => c.clone(),
            SegmentChoice::Auto { .. } => (0..segment_columns.len())
                .filter(|&c| Some(c) != settings.date_column && !settings.not_segments.contains(&c))
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
        let counts = DriverCountsAccumulator::new(
            topic_ids,
            segment_columns,
            &agg_index,
            max_values,
            &settings.team_columns,
            finest(&periods),
            settings.followup_limit,
            settings.redact,
        );
        let agg = AggAccumulator::new(
            agg_index
                .iter()
                .map(|&i| segment_columns[i].clone())
                .collect(),
            periods,
            max_values,
        );
        Tally {
            settings,
            redactor: (!settings.masked_columns.is_empty()).then(crate::redact::Redactor::new),
            agg_index,
            counts,
            agg,
            drivers: DriverScope::ALL
                .iter()
                .map(|_| DriverAccumulator::new(topic_ids.to_vec()))
                .collect(),
            nps: Nps::default(),
            read: 0,
            analysed: 0,
            rejected: 0,
            with_comment: 0,
            unparsed: 0,
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
        sink: &mut dyn PassSink,
        progress: &mut dyn FnMut(u64),
    ) -> Result<()> {
        self.read += chunk.read;
        self.texts_embedded += chunk.texts;
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
        let comments: Vec<&str> = chunk.responses.iter().map(|r| r.comment.as_str()).collect();
        let analyses = classify_embedded(&comments, chunk.embedded, classifier)?;
        let date_column = self.settings.date_column;
        let mut done = Vec::with_capacity(chunk.responses.len());
        for (r, analysis) in chunk.responses.into_iter().zip(analyses) {
            let bucket = Bucket::from_score(r.score).ok_or_else(|| {
                anyhow::anyhow!("line {}: score {} out of range", r.line, r.score)
            })?;
            let when = date_column
                .and_then(|c| r.segments.get(c))
                .map_or_else(When::default, |v| parse_when(v));
            done.push(AnalyzedResponse {
                response: r,
                bucket,
                when,
                analysis,
            });
        }
        for a in &done {
            self.nps.add(a.bucket);
            self.analysed += 1;
            if a.analysis.is_some() {
                self.with_comment += 1;
            }
            if let Some(c) = date_column {
                let raw = a.response.segments.get(c).map_or("", |v| v.trim());
                if a.when.date.is_none() && !raw.is_empty() {
                    self.unparsed += 1;
                }
            }
            let values: Vec<&str> = self
                .agg_index
                .iter()
                .map(|&i| a.response.segments.get(i).map_or("", String::as_str))
                .collect();
            self.agg.add(a.bucket, a.when.date, &values);
            self.counts.add(a);
            for (scope, acc) in DriverScope::ALL.iter().zip(self.drivers.iter_mut()) {
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
        progress(self.analysed);
        Ok(())
    }

    fn finish(self) -> PassResult {
        let settings = self.settings;
        let agg_columns = self.agg.kept_columns();
        let agg_rows = self.agg.finish(settings.min_n, settings.fdr);
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
            .collect();
        PassResult {
            read: self.read,
            analysed: self.analysed,
            rejected: self.rejected,
            with_comment: self.with_comment,
            nps: self.nps,
            unparsed_dates: self.unparsed,
            agg_columns,
            agg: agg_rows,
            drivers,
            counts: self.counts.finish(),
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
#[allow(clippy::too_many_arguments)]
pub fn run_pass(
    records: impl Iterator<Item = Result<Record, InputError>> + Send,
    segment_columns: &[String],
    encoder: &dyn Encoder,
    classifier: &Classifier,
    topic_ids: &[String],
    settings: &PassSettings,
    sink: &mut (dyn PassSink + Send),
    progress: &mut (dyn FnMut(u64) + Send),
) -> Result<PassResult> {
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
                tally.add(chunk, classifier, sink, progress)?;
            }
            Ok(())
        });
        let embedding = (|| -> Result<()> {
            for batch in read_rx {
                let chunk = embed_chunk(batch?, encoder)?;
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
