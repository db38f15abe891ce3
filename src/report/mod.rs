//! `report.html`: one self-contained page that a contact-center manager reads
//! in two minutes — the NPS with its interval, what pulls it down and up, the
//! trend, the segments that differ, what customers say — and that an analyst
//! can audit (the run manifest is at the bottom).
//!
//! Shaped in two halves, as the house style asks (results are plain structs,
//! formats live apart from computation):
//!
//! * [`ReportData`] is a plain, owned, serialisable struct of what the page
//!   shows. It knows nothing of the pipeline, so a test, another command or a
//!   later statistic can fill it; [`ReportData::from_run`] fills it from what
//!   `verbatim analyze` has at the end of a run in one call. Sections that
//!   depend on statistics not every run has (relative importance, a ΔNPS
//!   waterfall, bootstrap intervals) are `Option`s and render only when set.
//! * [`render`] turns it into a string of HTML5: inline CSS, charts as inline
//!   SVG drawn by [`svg`], no external URL of any kind (a Content Security
//!   Policy in the page forbids loading anything), and no script needed to
//!   read or print it. A tiny inline script sorts tables on a header click and
//!   opens the collapsed blocks before printing; without it nothing is lost.
//!
//! Safety: every user-provided string (comments, topic labels, segment values,
//! file names, warnings, the manifest) is HTML-escaped by [`escape`], so a
//! comment such as `</script><img src=x onerror=alert(1)>` shows as text; the
//! policy's script hash would block an injected script even if escaping were
//! forgotten somewhere. **Comments are shown as given: the caller must pass
//! them already masked** (names, phone numbers, e-mail addresses, contract
//! numbers); this module does not and cannot know what personal data looks
//! like in the caller's market.
//!
//! Small bases are shown, not hidden (METHODS.md, "Minimum n"): a suppressed
//! figure is drawn grey and labelled "n < min". Output is deterministic: the
//! same data gives the same bytes (no clock, no randomness, no hash order).

pub mod examples;
pub mod svg;
pub mod topics_only;

use std::fmt::Write;

use serde::{Deserialize, Serialize};

use crate::classify::Taxonomy;
use crate::output::manifest::RunManifest;
use crate::pipeline::PassResult;
use crate::stats::aggregate::{AggRow, Period};
use crate::stats::driver_stats::DriverAnalysis;
use crate::stats::drivers::{Direction, Driver};
use crate::stats::response::{DriverScope, DriverTable};
use crate::stats::top_drivers::{side_drivers, Side};

/// Most drivers [`ReportData::from_run`] puts on each side.
pub const MAX_DRIVERS_PER_SIDE: usize = 10;
/// Most periods [`ReportData::from_run`] puts in the trend (the latest ones):
/// a year of weeks.
pub const MAX_TREND_POINTS: usize = 53;
/// Most parts of the ΔNPS waterfall besides the remainder; smaller topic
/// parts are summed into one "other topics" part.
pub const MAX_WATERFALL_PARTS: usize = 8;
/// Most team readings the report lists (the `team_view` table has all).
pub const MAX_TEAM_READINGS: usize = 12;
/// Most alerts the report lists (the `alerts` table has all).
pub const MAX_ALERTS: usize = 12;

/// A two-sided interval, in the unit of the figure it belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    pub low: f64,
    pub high: f64,
}

impl Interval {
    /// From the optional ends the statistics modules return.
    pub fn from_pair(low: Option<f64>, high: Option<f64>) -> Option<Interval> {
        Some(Interval {
            low: low?,
            high: high?,
        })
    }
}

/// Everything the report shows. Owned and serialisable, free of pipeline
/// types; see the module docs.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ReportData {
    /// Page title and heading.
    pub title: String,
    /// Input file name as the user knows it.
    pub source: String,
    /// Run identifier (manifest `run_id`).
    pub run_id: String,
    /// When the run happened, as text (the report never reads the clock).
    pub run_at: String,
    /// Tool and version, for the footer.
    pub generator: String,
    /// Figures resting on fewer responses (or mentions) are suppressed.
    pub min_n: u64,
    /// False discovery rate of the Benjamini–Hochberg flags.
    pub fdr_q: f64,
    /// NPS of the whole run.
    pub headline: Headline,
    /// NPS per period; `None` without a date column.
    pub trend: Option<Trend>,
    /// Drivers that pull NPS down, strongest first (negative impact).
    pub detractor_drivers: Vec<DriverRow>,
    /// Drivers that pull NPS up, strongest first (positive impact).
    pub promoter_drivers: Vec<DriverRow>,
    /// Topic × sentiment of the mentions.
    pub topics: Vec<TopicSentimentRow>,
    /// Segment values compared with the rest of the responses.
    pub segments: Vec<SegmentRow>,
    /// Example comments per driver. **Already masked by the caller.**
    pub examples: Vec<TopicExamples>,
    /// Things the reader must know before trusting the figures.
    pub warnings: Vec<String>,
    /// The run manifest, as JSON text (shown verbatim, escaped).
    pub manifest_json: String,
    /// Relative importance of the topics from a driver regression.
    pub importance: Option<Importance>,
    /// Change of NPS between two periods, split into parts.
    pub waterfall: Option<Waterfall>,
    /// Detractor-side topics on too few mentions to rank (suppressed, impact
    /// below 0), listed in a note under the chart, not in it.
    #[serde(default)]
    pub detractor_too_few: Vec<DriverRow>,
    /// Promoter-side topics on too few mentions to rank.
    #[serde(default)]
    pub promoter_too_few: Vec<DriverRow>,
    /// Why there is no waterfall, shown in its place (e.g. "no dates").
    #[serde(default)]
    pub change_note: Option<String>,
    /// Topics whose last period departs from their history.
    #[serde(default)]
    pub alerts: Option<Alerts>,
    /// Teams, agents or queues that stand out from the rest.
    #[serde(default)]
    pub team: Option<TeamReadings>,
    /// Size of the call-back list.
    #[serde(default)]
    pub followup: Option<FollowupSize>,
    /// An employee survey (`--survey employee`): the page says eNPS; the
    /// caller sets it and leaves out `followup` ([`ReportData::for_employees`]).
    #[serde(default)]
    pub employee: bool,
    /// A run without scores (`--no-score`): the page shows these figures in
    /// place of NPS and the drivers ([`ReportData::topics_only`]).
    #[serde(default)]
    pub topics_only: Option<topics_only::TopicsOnly>,
}

/// NPS of the whole run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Headline {
    /// `None` without scored responses.
    pub nps: Option<f64>,
    /// Adjusted-Wald 95% interval.
    pub ci: Option<Interval>,
    /// Responses with a score.
    pub n: u64,
    pub promoters: u64,
    pub passives: u64,
    pub detractors: u64,
    /// Responses with a non-empty comment.
    pub with_comment: u64,
    /// The weighted NPS (`--weight-column`), as in `agg_nps`'s whole-run row.
    #[serde(default)]
    pub weighted: Option<WeightedHeadline>,
}

/// The weighted NPS of the whole run, with Kish's effective sample size.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct WeightedHeadline {
    pub nps: f64,
    pub ci: Option<Interval>,
    pub n_effective: f64,
    /// The effective n is below `--min-n`.
    pub suppressed: bool,
}

/// NPS per period of one kind.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Trend {
    /// Kind of period, e.g. "week".
    pub period: String,
    /// Chronological.
    pub points: Vec<TrendPoint>,
}

/// One period of the trend.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrendPoint {
    /// e.g. `2026-W48`.
    pub label: String,
    pub nps: Option<f64>,
    pub ci: Option<Interval>,
    pub n: u64,
    /// `n < min_n`.
    pub suppressed: bool,
}

/// One topic driver (impact in NPS points, shares in 0..1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DriverRow {
    /// Topic label.
    pub topic: String,
    /// Which mentions count: "any", "negative" or "positive".
    pub scope: String,
    /// NPS(all) − NPS(without the topic).
    pub impact: Option<f64>,
    /// Delta-method 95% interval of the impact.
    pub ci: Option<Interval>,
    /// Bootstrap 95% interval of the impact, where computed (optional
    /// column: rendered only when some row has it).
    pub bootstrap_ci: Option<Interval>,
    /// Responses mentioning the topic.
    pub mentions: u64,
    /// Share of detractors who mention it.
    pub share_of_detractors: Option<f64>,
    /// Share of promoters who mention it.
    pub share_of_promoters: Option<f64>,
    /// NPS among the responses that mention it.
    pub nps_mentions: Option<f64>,
    /// The interval excludes 0.
    pub significant: bool,
    /// `mentions < min_n`.
    pub suppressed: bool,
}

/// Mentions of one topic by sentiment of the clause that mentions it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TopicSentimentRow {
    pub topic: String,
    pub negative: u64,
    pub neutral: u64,
    pub positive: u64,
    /// Mean over mentions of −100 / 0 / +100; `None` without mentions.
    pub net_sentiment: Option<f64>,
    /// Mentions below `min_n`.
    pub suppressed: bool,
}

impl TopicSentimentRow {
    /// All mentions.
    pub fn mentions(&self) -> u64 {
        self.negative + self.neutral + self.positive
    }
}

/// One segment value compared with all other responses.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SegmentRow {
    /// Segment column, e.g. "channel".
    pub column: String,
    /// Its value; `""` is the group of blank values.
    pub value: String,
    pub n: u64,
    pub nps: Option<f64>,
    pub ci: Option<Interval>,
    /// NPS of this value minus NPS of the rest.
    pub diff_vs_rest: Option<f64>,
    /// Two-sided p-value of the z-test.
    pub p_value: Option<f64>,
    /// Benjamini–Hochberg decision; `None`: not tested (small base).
    pub bh_significant: Option<bool>,
    /// `n < min_n`.
    pub suppressed: bool,
}

/// Example comments for one driver.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TopicExamples {
    /// Topic label (a topic id is replaced by its label in `from_run`).
    pub topic: String,
    pub comments: Vec<ExampleComment>,
}

/// One example comment. **`text` must already be masked by the caller.**
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExampleComment {
    pub text: String,
    /// The 0–10 score given with it.
    pub score: Option<u8>,
}

/// Relative importance of topics in a driver regression (Johnson's relative
/// weights or general dominance), with intervals.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Importance {
    /// Method in words, e.g. "General dominance, bootstrap 95% intervals".
    pub method: String,
    /// R² of the full model (0..1), if known.
    pub r_squared: Option<f64>,
    /// Most important first.
    pub rows: Vec<ImportanceRow>,
    /// Why there are no rows, or what to keep in mind (model warnings), in
    /// plain words; empty when there is nothing to say.
    #[serde(default)]
    pub note: String,
}

/// One topic's relative importance.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ImportanceRow {
    pub topic: String,
    /// Share of the explained variance, 0..1.
    pub share: f64,
    /// Interval of `share`, same unit.
    pub ci: Option<Interval>,
    /// The relative weight itself (share of the score's variance, R² units)
    /// and its interval, as in the `key_driver` table.
    #[serde(default)]
    pub weight: Option<f64>,
    /// Interval of `weight`.
    #[serde(default)]
    pub weight_ci: Option<Interval>,
}

/// ΔNPS between two periods split into parts that sum to the change
/// (`to_nps − from_nps`); a remainder, if any, is one of the parts, named.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Waterfall {
    pub from_label: String,
    pub to_label: String,
    pub from_nps: f64,
    pub to_nps: f64,
    pub parts: Vec<WaterfallPart>,
}

/// One part of a [`Waterfall`], in NPS points.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WaterfallPart {
    pub label: String,
    pub value: f64,
}

/// Topics whose figure in the last period departs from their own history
/// (the `alerts` table).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Alerts {
    /// |z| at or above which an alert fires.
    pub z_threshold: f64,
    /// Strongest departure first.
    pub rows: Vec<AlertRow>,
    /// Alerts in the table, of which `rows` shows the first ones.
    pub total: usize,
    /// Why there are none, in plain words; empty when there are some.
    pub note: String,
}

/// One fired alert.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AlertRow {
    pub period_label: String,
    /// Topic label.
    pub topic: String,
    /// `share` (of responses mentioning the topic, 0..1) or `net_sentiment`
    /// (of its mentions, −1..1).
    pub metric: String,
    /// The figure in the last period.
    pub value: f64,
    /// Its mean over the history.
    pub history_mean: f64,
    pub history_periods: usize,
    pub z: f64,
    /// Responses in the last period.
    pub n: u64,
    /// Mentions of the topic in the last period.
    pub mentions: u64,
}

/// The team view's readings: a team value mentions a topic with one
/// polarity significantly more often than the rest (the `team_view` rows
/// whose `reading` is set).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TeamReadings {
    /// Team, agent or queue columns of the run.
    pub columns: Vec<String>,
    /// Largest difference first.
    pub rows: Vec<TeamReading>,
    /// Readings in the table, of which `rows` shows the first ones.
    pub total: usize,
    /// Why there are none, in plain words; empty when there are some.
    pub note: String,
}

/// One reading of the team view.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TeamReading {
    pub column: String,
    pub value: String,
    /// Topic label.
    pub topic: String,
    /// `praised_for` (positive mentions) or `coaching` (negative mentions).
    pub reading: String,
    /// Share of the value's responses with such a mention (0..1).
    pub rate: Option<f64>,
    /// The same share among all other responses.
    pub rate_rest: Option<f64>,
    /// Responses with this value.
    pub n: u64,
}

/// Size of the `followup` table.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FollowupSize {
    /// Responses in the list.
    pub listed: u64,
    /// Responses that qualified (the list keeps the highest-risk ones).
    pub candidates: u64,
    /// Of the listed ones, those with a churn signal (cancellation, legal
    /// threat, complaint, repeated contact).
    pub with_signal: u64,
}

impl ReportData {
    /// The report of one `verbatim analyze` run: what [`crate::pipeline::run_pass`]
    /// returned, the manifest written beside it, the taxonomy (for topic
    /// labels), the driver statistics the driver tables are written from
    /// (`analysis`, with the alerts' z threshold `alert_z`) and example
    /// comments per topic, **already masked** (a topic given by id is shown
    /// with its label).
    ///
    /// Chooses for the manager: the drivers on each side are those of
    /// [`side_drivers`] (the console summary's choice and order), at most
    /// [`MAX_DRIVERS_PER_SIDE`], with the suppressed ones apart; the trend is
    /// the finest period kind the run aggregated (its latest
    /// [`MAX_TREND_POINTS`] periods). The key-driver importance, the ΔNPS
    /// waterfall, the alerts, the team readings and the follow-up count come
    /// from `analysis`, with the same numbers as the `key_driver`,
    /// `driver_change`, `alerts`, `team_view` and `followup` tables; each
    /// says in words why it is empty when it is. Warnings are derived from
    /// the counts (rejects, unparsed dates, small bases).
    pub fn from_run(
        result: &PassResult,
        manifest: &RunManifest,
        taxonomy: &Taxonomy,
        analysis: &DriverAnalysis,
        alert_z: f64,
        examples: Vec<TopicExamples>,
    ) -> ReportData {
        let label = |id: &str| taxonomy.label_of(id);
        let min_n = manifest.thresholds.min_n;
        let nps = &result.nps;
        let headline = Headline {
            nps: nps.score(),
            ci: nps
                .adjusted_wald(crate::stats::nps::Z95)
                .map(|(low, high)| Interval { low, high }),
            n: nps.n,
            promoters: nps.promoters,
            passives: nps.passives,
            detractors: nps.detractors,
            with_comment: result.with_comment,
            weighted: result.agg.first().and_then(|all| {
                Some(WeightedHeadline {
                    nps: all.weighted_nps?,
                    ci: all
                        .weighted_nps_ci_low
                        .zip(all.weighted_nps_ci_high)
                        .map(|(low, high)| Interval { low, high }),
                    n_effective: all.n_effective?,
                    suppressed: all.weighted_suppressed == Some(true),
                })
            }),
        };
        let [(detractor_drivers, detractor_too_few), (promoter_drivers, promoter_too_few)] =
            Side::BOTH.map(|side| pick_drivers(&result.drivers, analysis, side, &label));
        let topics = topic_sentiment(&result.drivers, min_n, &label);
        let segments = result
            .agg
            .iter()
            .filter(|r| !r.segment_column.is_empty() && r.period.is_none())
            .map(segment_row)
            .collect();
        let examples = examples
            .into_iter()
            .map(|e| TopicExamples {
                topic: label(&e.topic),
                comments: e.comments,
            })
            .collect();
        let mut warnings = input_warnings(result);
        if nps.n == 0 {
            warnings.push("No scored responses: there is no NPS to report.".into());
        } else if nps.n < min_n {
            warnings.push(format!(
                "Only {} scored responses, fewer than the minimum of {min_n}: every figure rests on a small base.",
                fmt_int(nps.n)
            ));
        }
        if nps.n > 0 && result.with_comment == 0 {
            warnings.push("No response has a comment, so there are no topic drivers.".into());
        }
        let manifest_json = serde_json::to_string_pretty(manifest)
            .unwrap_or_else(|e| format!("the manifest could not be written as JSON: {e}"));
        let file = std::path::Path::new(&manifest.input.path)
            .file_name()
            .map_or_else(
                || manifest.input.path.clone(),
                |f| f.to_string_lossy().into_owned(),
            );
        let trend = pick_trend(&result.agg);
        let sections = DriverSections::new(analysis, min_n, alert_z, trend.is_some(), &label);
        ReportData {
            title: format!("What drives NPS: {file}"),
            source: file,
            run_id: manifest.run_id.clone(),
            run_at: manifest.finished_at.clone(),
            generator: manifest.tool.clone(),
            min_n,
            fdr_q: manifest.thresholds.fdr_q,
            headline,
            trend,
            detractor_drivers,
            promoter_drivers,
            topics,
            segments,
            examples,
            warnings,
            manifest_json,
            importance: Some(sections.importance),
            waterfall: sections.waterfall,
            detractor_too_few,
            promoter_too_few,
            change_note: sections.change_note,
            alerts: Some(sections.alerts),
            team: Some(sections.team),
            followup: Some(sections.followup),
            employee: false,
            topics_only: None,
        }
    }
}

/// A [`DriverRow`] from a [`Driver`] of `scope`.
pub fn driver_row(d: &Driver, scope: DriverScope, label: &str) -> DriverRow {
    DriverRow {
        topic: label.to_string(),
        scope: scope.as_str().to_string(),
        impact: d.impact,
        ci: Interval::from_pair(d.impact_ci_low, d.impact_ci_high),
        bootstrap_ci: None,
        mentions: d.mentions,
        share_of_detractors: d.share_of_detractors,
        share_of_promoters: d.share_of_promoters,
        nps_mentions: d.nps_mentions,
        significant: d.direction != Direction::Neutral,
        suppressed: d.suppressed,
    }
}

/// One side of the drivers as [`side_drivers`] chooses them: the ranked
/// rows (at most [`MAX_DRIVERS_PER_SIDE`]) and those on too few mentions,
/// each with the bootstrap interval of the `topic_driver` table.
fn pick_drivers(
    tables: &[DriverTable],
    analysis: &DriverAnalysis,
    side: Side,
    label: &dyn Fn(&str) -> String,
) -> (Vec<DriverRow>, Vec<DriverRow>) {
    let picked = side_drivers(tables, side);
    let row = |p: &crate::stats::top_drivers::Pick| {
        let mut r = driver_row(p.driver, p.scope, &label(&p.driver.topic));
        r.bootstrap_ci = analysis
            .impacts
            .iter()
            .find(|(s, _)| *s == p.scope)
            .and_then(|(_, b)| b.topics.iter().find(|t| t.topic == p.driver.topic))
            .and_then(|t| Interval::from_pair(t.impact_ci_low, t.impact_ci_high));
        r
    };
    let ranked = picked
        .ranked
        .iter()
        .take(MAX_DRIVERS_PER_SIDE)
        .map(row)
        .collect();
    (ranked, picked.too_few.iter().map(row).collect())
}

/// The sections [`ReportData::from_run`] reads from a [`DriverAnalysis`],
/// each with its reason in words when it is empty.
pub struct DriverSections {
    pub importance: Importance,
    pub waterfall: Option<Waterfall>,
    pub change_note: Option<String>,
    pub alerts: Alerts,
    pub team: TeamReadings,
    pub followup: FollowupSize,
}

impl DriverSections {
    /// From `a`; `dated` tells whether the run had dates (for the reasons),
    /// `label` turns a topic id into its label.
    pub fn new(
        a: &DriverAnalysis,
        min_n: u64,
        alert_z: f64,
        dated: bool,
        label: &dyn Fn(&str) -> String,
    ) -> DriverSections {
        let (waterfall, change_note) = match &a.change {
            Some(c) => (Some(change_waterfall(c, label)), None),
            None if !dated => (None, Some("No dates in the input: no change over time.".to_string())),
            None => (
                None,
                Some("The latest period has no period with responses just before it: no change to split.".to_string()),
            ),
        };
        DriverSections {
            importance: importance_of(a, label),
            waterfall,
            change_note,
            alerts: alerts_of(a, alert_z, min_n, dated, label),
            team: team_of(a, min_n, label),
            followup: FollowupSize {
                listed: a.followups.len() as u64,
                candidates: a.followup_candidates,
                with_signal: a.followups.iter().filter(|f| !f.signals.is_empty()).count() as u64,
            },
        }
    }
}

/// Johnson's relative weights of the linear key-driver model, as in the
/// `key_driver` table; the share's interval is the weight's divided by R²,
/// kept within 0..1.
fn importance_of(a: &DriverAnalysis, label: &dyn Fn(&str) -> String) -> Importance {
    let k = &a.key;
    let r2 = k.linear.as_ref().map(|m| m.r_squared);
    let mut rows: Vec<ImportanceRow> = k
        .relative_weights
        .iter()
        .filter(|w| w.share.is_finite())
        .map(|w| {
            let weight_ci = Interval::from_pair(w.ci_low, w.ci_high);
            ImportanceRow {
                topic: label(&w.topic),
                share: w.share,
                // A share lies in 0..1; the weight's interval over the
                // point R² can pass 1 when R² is small, so it is capped.
                ci: weight_ci
                    .zip(r2.filter(|r| *r > 0.0))
                    .map(|(i, r)| Interval {
                        low: (i.low / r).clamp(0.0, 1.0),
                        high: (i.high / r).clamp(0.0, 1.0),
                    }),
                weight: Some(w.weight),
                weight_ci,
            }
        })
        .collect();
    rows.sort_by(|x, y| y.share.total_cmp(&x.share).then(x.topic.cmp(&y.topic)));
    let model_warnings: Vec<&str> = k
        .warnings
        .iter()
        .filter(|w| w.topic.is_none())
        .map(|w| w.message.as_str())
        .collect();
    let note = if k.linear.is_none() {
        let why = if model_warnings.is_empty() {
            "too few responses or topics to fit it".to_string()
        } else {
            model_warnings.join(" ")
        };
        format!("No key-driver model could be fitted: {why}")
    } else if rows.is_empty() {
        "No topic was mentioned often enough to enter the key-driver model.".to_string()
    } else {
        let dropped = k.warnings.iter().filter(|w| w.topic.is_some()).count();
        if dropped > 0 {
            format!("{dropped} topic warnings (rare, collinear or unstable topics) are in the key_driver table.")
        } else {
            String::new()
        }
    };
    Importance {
        method: format!(
            "Johnson's relative weights of a linear regression of the score code (−100 detractor, 0 passive, +100 promoter) on the topics mentioned, {} responses, bootstrap 95% intervals ({} resamples; a share's interval is the weight's divided by R², capped at 100%).",
            fmt_int(k.n),
            fmt_int(k.valid_replicates as u64)
        ),
        r_squared: r2,
        rows,
        note,
    }
}

/// The waterfall of the `driver_change` table: the largest topic parts by
/// size, the others summed into one part, and the part without a topic.
fn change_waterfall(
    c: &crate::stats::driver_stats::PeriodChange,
    label: &dyn Fn(&str) -> String,
) -> Waterfall {
    let sh = &c.shift;
    let mut topics: Vec<&crate::stats::shift_share::ShiftPart> = sh.topics.iter().collect();
    topics.sort_by(|x, y| {
        y.total
            .abs()
            .total_cmp(&x.total.abs())
            .then(x.group.cmp(&y.group))
    });
    let mut parts: Vec<WaterfallPart> = topics
        .iter()
        .take(MAX_WATERFALL_PARTS)
        .map(|p| WaterfallPart {
            label: label(&p.group),
            value: p.total,
        })
        .collect();
    // Topics without a part (unmentioned in both periods) are not counted.
    let rest: Vec<f64> = topics[topics.len().min(MAX_WATERFALL_PARTS)..]
        .iter()
        .map(|p| p.total)
        .filter(|t| *t != 0.0)
        .collect();
    if !rest.is_empty() {
        parts.push(WaterfallPart {
            label: format!("{} other topics", rest.len()),
            value: rest.iter().sum(),
        });
    }
    parts.push(WaterfallPart {
        label: "No topic (or no comment)".into(),
        value: sh.remainder.total,
    });
    Waterfall {
        from_label: c.before_label.clone(),
        to_label: c.after_label.clone(),
        from_nps: sh.nps_before,
        to_nps: sh.nps_after,
        parts,
    }
}

fn alerts_of(
    a: &DriverAnalysis,
    z_threshold: f64,
    min_n: u64,
    dated: bool,
    label: &dyn Fn(&str) -> String,
) -> Alerts {
    let mut rows: Vec<AlertRow> = a
        .alerts
        .iter()
        .map(|x| AlertRow {
            period_label: x.period_label.clone(),
            topic: label(&x.topic),
            metric: x.metric.as_str().to_string(),
            value: x.value,
            history_mean: x.history_mean,
            history_periods: x.history_periods,
            z: x.z,
            n: x.n,
            mentions: x.mentions,
        })
        .collect();
    rows.sort_by(|x, y| {
        y.z.abs()
            .total_cmp(&x.z.abs())
            .then(x.topic.cmp(&y.topic))
            .then(x.metric.cmp(&y.metric))
    });
    let total = rows.len();
    rows.truncate(MAX_ALERTS);
    let note = if total > 0 {
        String::new()
    } else if !dated {
        "No dates in the input: nothing to compare a period with.".to_string()
    } else {
        format!(
            "No topic's share or sentiment in the latest period departs from its history by |z| ≥ {} (an alert needs at least {} earlier periods and {} responses or mentions).",
            fmt_z(z_threshold),
            crate::stats::alerts::HISTORY_MIN,
            min_n
        )
    };
    Alerts {
        z_threshold,
        rows,
        total,
        note,
    }
}

/// The `team_view` rows with a reading (value with at least `min_n`
/// responses, significantly above the rest), largest difference first.
fn team_of(a: &DriverAnalysis, min_n: u64, label: &dyn Fn(&str) -> String) -> TeamReadings {
    use crate::classify::Polarity;
    let mut rows: Vec<(&crate::stats::segment_drivers::MentionRate, &str)> = a
        .team
        .rows
        .iter()
        .filter(|r| r.n >= min_n && r.above)
        .filter_map(|r| match r.polarity {
            Polarity::Positive => Some((r, "praised_for")),
            Polarity::Negative => Some((r, "coaching")),
            Polarity::Neutral => None,
        })
        .collect();
    rows.sort_by(|(x, _), (y, _)| {
        y.diff
            .unwrap_or(0.0)
            .total_cmp(&x.diff.unwrap_or(0.0))
            .then(x.column.cmp(&y.column))
            .then(x.value.cmp(&y.value))
            .then(x.topic.cmp(&y.topic))
    });
    let total = rows.len();
    let note = if a.team_columns.is_empty() {
        "No team, agent or queue column in the input: no team view.".to_string()
    } else if total == 0 {
        format!(
            "No team value with at least {min_n} responses mentions a topic significantly more often than the rest (Benjamini–Hochberg corrected)."
        )
    } else {
        String::new()
    };
    TeamReadings {
        columns: a.team_columns.clone(),
        rows: rows
            .into_iter()
            .take(MAX_TEAM_READINGS)
            .map(|(r, reading)| TeamReading {
                column: r.column.clone(),
                value: r.value.clone(),
                topic: label(&r.topic),
                reading: reading.to_string(),
                rate: r.rate,
                rate_rest: r.rate_rest,
                n: r.n,
            })
            .collect(),
        total,
        note,
    }
}

/// A z threshold or value with one decimal.
fn fmt_z(z: f64) -> String {
    fmt_value(Some(z))
}

/// Topic × sentiment from the driver tables. A comment mentions a topic in
/// one clause only (the classifier keeps the best-matching clause per topic),
/// so its mentions split exactly: neutral = any − negative − positive.
fn topic_sentiment(
    tables: &[DriverTable],
    min_n: u64,
    label: &dyn Fn(&str) -> String,
) -> Vec<TopicSentimentRow> {
    let scope = |s: DriverScope| tables.iter().find(|t| t.scope == s);
    let Some(any) = scope(DriverScope::Any) else {
        return Vec::new();
    };
    let count = |s: DriverScope, topic: &str| {
        scope(s)
            .and_then(|t| t.drivers.iter().find(|d| d.topic == topic))
            .map_or(0, |d| d.mentions)
    };
    let mut rows: Vec<TopicSentimentRow> = any
        .drivers
        .iter()
        .filter(|d| d.mentions > 0)
        .map(|d| {
            let negative = count(DriverScope::Negative, &d.topic);
            let positive = count(DriverScope::Positive, &d.topic);
            let neutral = d.mentions.saturating_sub(negative + positive);
            let total = negative + neutral + positive;
            TopicSentimentRow {
                topic: label(&d.topic),
                negative,
                neutral,
                positive,
                net_sentiment: (total > 0)
                    .then(|| 100.0 * (positive as f64 - negative as f64) / total as f64),
                suppressed: total < min_n,
            }
        })
        .collect();
    rows.sort_by(|a, b| b.mentions().cmp(&a.mentions()).then(a.topic.cmp(&b.topic)));
    rows
}

fn segment_row(r: &AggRow) -> SegmentRow {
    SegmentRow {
        column: r.segment_column.clone(),
        value: r.segment_value.clone(),
        n: r.n,
        nps: r.nps,
        ci: Interval::from_pair(r.nps_ci_low, r.nps_ci_high),
        diff_vs_rest: r.diff,
        p_value: r.p_value,
        bh_significant: r.bh_significant,
        suppressed: r.suppressed,
    }
}

/// The overall NPS per period of the finest kind the run aggregated (day
/// before week before month before quarter; the kind the alerts and the
/// ΔNPS split use too), its latest [`MAX_TREND_POINTS`] periods; `None`
/// without dated rows.
pub fn pick_trend(rows: &[AggRow]) -> Option<Trend> {
    let of = |k: Period| -> Vec<&AggRow> {
        rows.iter()
            .filter(|r| r.segment_column.is_empty() && r.period == Some(k))
            .collect()
    };
    let kind = Period::ALL.into_iter().find(|&k| !of(k).is_empty())?;
    let list = of(kind);
    let skip = list.len().saturating_sub(MAX_TREND_POINTS);
    Some(Trend {
        period: kind.as_str().to_string(),
        points: list[skip..]
            .iter()
            .map(|r| TrendPoint {
                label: r.period_label.clone(),
                nps: r.nps,
                ci: Interval::from_pair(r.nps_ci_low, r.nps_ci_high),
                n: r.n,
                suppressed: r.suppressed,
            })
            .collect(),
    })
}

// ---------------------------------------------------------------------------
// Text and numbers

/// HTML-escapes text for element content and quoted attribute values:
/// `& < > " '`. C0 control characters other than tab, newline and carriage
/// return (which HTML forbids) become U+FFFD.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if c.is_control() => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// Replaces the ASCII hyphen of a negative number with a true minus sign
/// and turns `-0.0` into `0.0`.
fn minus(s: String) -> String {
    match s.strip_prefix('-') {
        Some(rest) if rest.chars().all(|c| c == '0' || c == '.') => rest.to_string(),
        Some(rest) => format!("\u{2212}{rest}"),
        None => s,
    }
}

/// A figure in NPS points with one decimal (`12.3`, `−4.0`); "—" when
/// missing or not finite.
pub fn fmt_value(v: Option<f64>) -> String {
    match v.filter(|v| v.is_finite()) {
        Some(v) => minus(format!("{v:.1}")),
        None => "\u{2014}".into(),
    }
}

/// A change in NPS points with its sign (`+1.2`, `−3.4`, `0.0`).
pub fn fmt_signed(v: Option<f64>) -> String {
    let s = fmt_value(v);
    match s.chars().next() {
        Some('\u{2212}') | Some('\u{2014}') => s,
        _ if s == "0.0" => s,
        _ => format!("+{s}"),
    }
}

/// A share (0..1) as a percentage: no decimal from 10%, one below
/// (`34%`, `4.5%`, `0%`, `<0.1%`).
pub fn fmt_pct(v: Option<f64>) -> String {
    let Some(v) = v.filter(|v| v.is_finite()) else {
        return "\u{2014}".into();
    };
    let p = 100.0 * v;
    let s = if p == 0.0 {
        "0".to_string()
    } else if p.abs() < 0.05 {
        return if p > 0.0 {
            "<0.1%".into()
        } else {
            "\u{2212}<0.1%".into()
        };
    } else if p.abs() >= 9.95 {
        format!("{p:.0}")
    } else {
        format!("{p:.1}")
    };
    format!("{}%", minus(s))
}

/// A count with thin spaces between thousands (`12 345`), readable in every
/// locale.
pub fn fmt_int(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('\u{202F}');
        }
        out.push(c);
    }
    out
}

/// A p-value: `<0.001`, three decimals below 0.1, else two.
pub fn fmt_p(v: Option<f64>) -> String {
    match v.filter(|v| v.is_finite()) {
        None => "\u{2014}".into(),
        Some(p) if p < 0.001 => "<0.001".into(),
        Some(p) if p < 0.1 => format!("{p:.3}"),
        Some(p) => format!("{p:.2}"),
    }
}

/// An interval in NPS points: `−8.1 to −2.3`.
pub fn fmt_interval(i: Option<Interval>) -> String {
    match i {
        Some(i) => format!("{} to {}", fmt_value(Some(i.low)), fmt_value(Some(i.high))),
        None => "\u{2014}".into(),
    }
}

/// An interval of shares: `12% to 20%`.
fn fmt_pct_interval(i: Option<Interval>) -> String {
    match i {
        Some(i) => format!("{} to {}", fmt_pct(Some(i.low)), fmt_pct(Some(i.high))),
        None => "\u{2014}".into(),
    }
}

/// The `data-sort` value of a numeric cell (empty sorts first).
fn sort_key(v: Option<f64>) -> String {
    v.filter(|v| v.is_finite())
        .map_or_else(String::new, |v| format!("{v}"))
}

// ---------------------------------------------------------------------------
// Rendering

/// Sorts tables on a header click (or Enter) and opens the collapsed tables
/// (not the manifest) before printing. Only an aid: the page reads and
/// prints without it.
const SCRIPT: &str = r#"(function(){
function key(row,i){var c=row.cells[i];if(!c)return '';var d=c.getAttribute('data-sort');if(d!==null){var f=parseFloat(d);return isNaN(f)?-Infinity:f;}return c.textContent.trim().toLowerCase();}
document.querySelectorAll('table.sortable').forEach(function(t){
var heads=t.querySelectorAll('thead th');
heads.forEach(function(th,i){
th.tabIndex=0;th.classList.add('sort');th.title='Sort by this column';
function go(){var b=t.tBodies[0];var rows=Array.prototype.slice.call(b.rows);var asc=th.getAttribute('aria-sort')!=='ascending';
heads.forEach(function(h){h.removeAttribute('aria-sort');});th.setAttribute('aria-sort',asc?'ascending':'descending');
rows.sort(function(a,b){var x=key(a,i),y=key(b,i);var r;if(typeof x===typeof y){r=x<y?-1:(x>y?1:0);}else{r=typeof x==='number'?-1:1;}return asc?r:-r;});
rows.forEach(function(r){b.appendChild(r);});}
th.addEventListener('click',go);
th.addEventListener('keydown',function(e){if(e.key==='Enter'||e.key===' '){e.preventDefault();go();}});
});});
window.addEventListener('beforeprint',function(){document.querySelectorAll('details.print-open').forEach(function(d){d.open=true;});});
})();"#;

const CSS: &str = r#"
:root{--ink:#1f2933;--muted:#5b6670;--line:#d9dee3;--soft:#f4f6f8;--red:#b3261e;--green:#1b7a5a;--blue:#2f5d8a;--grey:#7a848e;}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--ink);background:#fff}
header,main,footer{max-width:1160px;margin:0 auto;padding:0 24px}
header{padding-top:24px;border-bottom:1px solid var(--line);padding-bottom:12px}
h1{font-size:1.6rem;margin:0 0 4px}
h2{font-size:1.2rem;margin:32px 0 8px;padding-top:8px;border-top:1px solid var(--line)}
h3{font-size:1.02rem;margin:16px 0 6px}
.meta{color:var(--muted);margin:0;font-size:.9rem}
.meta span+span::before{content:" \00B7  "}
.key{display:grid;grid-template-columns:minmax(220px,300px) 1fr;gap:24px;align-items:center;margin:20px 0 8px}
.nps-card{border:1px solid var(--line);border-radius:8px;padding:14px 18px;background:var(--soft)}
.nps-label{font-size:.85rem;color:var(--muted);text-transform:uppercase;letter-spacing:.04em}
.nps-value{font-size:3rem;font-weight:700;line-height:1.1;font-variant-numeric:tabular-nums}
.nps-ci{color:var(--muted);font-size:.92rem}
.counts{display:flex;flex-wrap:wrap;gap:6px 22px;margin:8px 0 0;padding:0}
.counts div{margin:0}.counts dt{font-size:.8rem;color:var(--muted)}.counts dd{margin:0;font-weight:600;font-variant-numeric:tabular-nums}
ul.summary{margin:10px 0 0;padding-left:20px}ul.summary li{margin:3px 0}
.warnings{border:1px solid #e0b252;background:#fff8e6;border-radius:8px;padding:10px 16px;margin:16px 0}
.warnings h2{border:0;margin:0 0 4px;padding:0;font-size:1rem}
.warnings ul{margin:0;padding-left:20px}
.pair{display:grid;grid-template-columns:repeat(auto-fit,minmax(440px,1fr));gap:24px}
.side{min-width:0}
.down{color:var(--red)}.up{color:var(--green)}.passive{color:#9aa5b1}
figure{margin:8px 0 12px}
figcaption{color:var(--muted);font-size:.86rem;margin-top:4px}
svg.chart{display:block;max-width:100%;height:auto}
table{border-collapse:collapse;width:auto;min-width:min(100%,640px);font-size:.9rem;font-variant-numeric:tabular-nums;margin:6px 0 10px}
caption{text-align:left;color:var(--muted);font-size:.86rem;padding-bottom:4px}
th,td{padding:5px 8px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
thead th{background:var(--soft);font-weight:600;font-size:.84rem;vertical-align:bottom}
.table-wrap{overflow-x:auto;max-width:100%}
table.drivers,#topics-table{width:100%;min-width:0}
table.drivers th,table.drivers td{padding:5px 6px}
th.sort{cursor:pointer}th.sort:hover{text-decoration:underline}
th[aria-sort=ascending]::after{content:" \25B2"}th[aria-sort=descending]::after{content:" \25BC"}
td.num,th.num{text-align:right;white-space:nowrap}
thead th.num{white-space:normal}
.scope{font-weight:400;font-size:.78rem;color:var(--muted)}
.scope::before{content:"\00B7  "}
.sub{font-size:.78rem;color:var(--muted)}
tr.suppressed td,tr.suppressed th{color:var(--grey)}
.small-base{display:inline-block;font-size:.75rem;color:var(--grey);border:1px solid #c9ced4;border-radius:3px;padding:0 4px;margin-left:4px;white-space:nowrap}
.faint{color:var(--muted)}
.flag{font-weight:700;color:var(--blue)}
.blank{font-style:italic;color:var(--muted)}
.note{color:var(--muted);font-size:.86rem}
.lead{margin:6px 0 8px;max-width:80ch}
details{margin:6px 0}summary{cursor:pointer;font-weight:600}
ul.comments{list-style:none;padding:0;margin:0 0 8px}
ul.comments li{border-left:3px solid var(--line);padding:4px 10px;margin:6px 0;background:#fbfcfd}
.comment{white-space:pre-wrap;overflow-wrap:anywhere}
.score{display:inline-block;min-width:1.7em;text-align:center;font-size:.78rem;font-weight:700;color:#fff;border-radius:3px;margin-right:8px;padding:0 3px}
.score.d{background:var(--red)}.score.p{background:var(--green)}.score.n{background:#8a949e}
pre.manifest{background:var(--soft);border:1px solid var(--line);border-radius:6px;padding:10px;overflow:auto;font-size:.8rem;max-height:480px;white-space:pre-wrap;overflow-wrap:anywhere}
footer{color:var(--muted);font-size:.82rem;padding-top:16px;padding-bottom:32px;border-top:1px solid var(--line);margin-top:32px}
.mix{vertical-align:middle}
@media (max-width:720px){.key{grid-template-columns:1fr}.pair{grid-template-columns:1fr}}
@media print{
body{font-size:10pt}
header,main,footer{max-width:none;padding:0}
h2,h3,figcaption,caption{break-after:avoid;page-break-after:avoid}
figure,.nps-card,.warnings,tr,li{break-inside:avoid;page-break-inside:avoid}
pre.manifest{max-height:none;overflow:visible}
.pair{grid-template-columns:1fr}
.table-wrap{overflow:visible}
a{color:inherit;text-decoration:none}
}
"#;

/// Renders the report as one HTML5 document (see the module docs).
pub fn render(d: &ReportData) -> String {
    let mut h = String::with_capacity(64 * 1024);
    // The policy admits exactly the page's own style sheet and script by
    // their hashes: an injected script, handler or style attribute would be
    // refused (and show in the console) even if escaping failed somewhere.
    let hash = |text: &str| {
        use base64::Engine;
        use sha2::Digest;
        base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(text.as_bytes()))
    };
    let (script_hash, style_hash) = (hash(SCRIPT), hash(CSS));
    let title = if d.title.trim().is_empty() {
        "NPS report".to_string()
    } else {
        d.title.clone()
    };
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'sha256-{style_hash}'; script-src 'sha256-{script_hash}'; base-uri 'none'; form-action 'none'\">\n\
<meta name=\"color-scheme\" content=\"light\">\n<title>{}</title>\n<style>{CSS}</style>\n</head>\n<body>\n",
        escape(&title)
    );
    // Header.
    let _ = write!(
        h,
        "<header>\n<h1>{}</h1>\n<p class=\"meta\">",
        escape(&title)
    );
    for (label, value) in [
        ("File", &d.source),
        ("Run", &d.run_at),
        ("Run id", &d.run_id),
    ] {
        if !value.is_empty() {
            let _ = write!(h, "<span>{label}: {}</span>", escape(value));
        }
    }
    h.push_str("</p>\n</header>\n<main>\n");
    match &d.topics_only {
        Some(t) => {
            topics_only::key_figures(&mut h, d, t);
            warnings(&mut h, d);
            topics_only::trend(&mut h, t);
            alerts(&mut h, d);
            team(&mut h, d);
        }
        None => {
            key_figures(&mut h, d);
            warnings(&mut h, d);
            drivers(&mut h, d);
            importance(&mut h, d);
            trend(&mut h, d);
            waterfall(&mut h, d);
            alerts(&mut h, d);
            team(&mut h, d);
            followup(&mut h, d);
            segments(&mut h, d);
        }
    }
    topics(&mut h, d);
    examples(&mut h, d);
    manifest(&mut h, d);
    h.push_str("</main>\n<footer>\n<p>");
    if !d.generator.is_empty() {
        let _ = write!(h, "Made by {}. ", escape(&d.generator));
    }
    match &d.topics_only {
        Some(_) => h.push_str(&topics_only::footer(d)),
        None => {
            let _ = write!(
                h,
                "NPS = % promoters (9–10) − % detractors (0–6) of all scored responses, with or without a comment; \
intervals are 95%. Figures on fewer than {} responses or mentions are greyed and marked “n &lt; {}”: shown, not to be acted on.",
                d.min_n, d.min_n
            );
        }
    }
    h.push_str("</p>\n</footer>\n");
    let _ = write!(h, "<script>{SCRIPT}</script>\n</body>\n</html>\n");
    if d.employee {
        employee_wording(h)
    } else {
        h
    }
}

/// The page of an employee survey: "NPS" as a word becomes "eNPS" after the
/// style sheet and the script (whose hashes the page's policy names), in the
/// text, titles and captions.
fn employee_wording(h: String) -> String {
    let body = h.find("<body>").unwrap_or(0);
    let (head, rest) = h.split_at(body);
    let head = head
        .replace("<title>NPS", "<title>eNPS")
        .replace("drives NPS", "drives eNPS");
    head + &say_enps(rest)
}

/// `text` with every "NPS" that stands as a word (not inside `eNPS` or
/// `agg_nps_x`) written "eNPS"; "ΔNPS" becomes "ΔeNPS".
pub fn say_enps(rest: &str) -> String {
    let mut out = String::with_capacity(rest.len() + 64);
    let bytes = rest.as_bytes();
    let mut last = 0;
    for (i, _) in rest.match_indices("NPS") {
        let before = i.checked_sub(1).map(|k| bytes[k]);
        let after = bytes.get(i + 3).copied();
        let word = |b: Option<u8>| b.is_none_or(|b| !(b.is_ascii_alphanumeric() || b == b'_'));
        if word(before) && word(after) {
            out.push_str(&rest[last..i]);
            out.push_str("eNPS");
            last = i + 3;
        }
    }
    out.push_str(&rest[last..]);
    out
}

fn small_base(d: &ReportData) -> String {
    format!(
        "<span class=\"small-base\" title=\"fewer than {0} — too few to act on\">n &lt; {0}</span>",
        d.min_n
    )
}

fn suppressed_note(d: &ReportData) -> String {
    format!("n < {}", d.min_n)
}

fn scope_tag(scope: &str) -> String {
    match scope {
        "" | "any" => String::new(),
        other => format!(" <span class=\"scope\">{}</span>", escape(other)),
    }
}

fn scope_words(scope: &str) -> String {
    match scope {
        "" | "any" => String::new(),
        other => format!(", {other} mentions"),
    }
}

/// The headline: NPS, interval, counts, promoter/passive/detractor mix and
/// a few sentences a manager reads first.
fn key_figures(h: &mut String, d: &ReportData) {
    let k = &d.headline;
    h.push_str(
        "<section class=\"key\" aria-labelledby=\"nps-heading\">\n<div class=\"nps-card\">\n",
    );
    let _ = write!(
        h,
        "<div class=\"nps-label\" id=\"nps-heading\">Net Promoter Score</div>\n<div class=\"nps-value\" id=\"nps-value\">{}</div>\n<div class=\"nps-ci\">95% CI {}</div>\n",
        escape(&fmt_value(k.nps)),
        escape(&fmt_interval(k.ci))
    );
    h.push_str("<dl class=\"counts\">");
    for (label, v) in [
        ("Responses", k.n),
        ("With comment", k.with_comment),
        ("Promoters", k.promoters),
        ("Passives", k.passives),
        ("Detractors", k.detractors),
    ] {
        let _ = write!(h, "<div><dt>{label}</dt><dd>{}</dd></div>", fmt_int(v));
    }
    h.push_str("</dl>\n</div>\n<div>\n");
    h.push_str(&svg::stacked_bar(
        "mix",
        "Promoters, passives and detractors",
        &[
            svg::Segment {
                label: "Promoters",
                count: k.promoters,
                fill: svg::GREEN,
            },
            svg::Segment {
                label: "Passives",
                count: k.passives,
                fill: svg::PASSIVE,
            },
            svg::Segment {
                label: "Detractors",
                count: k.detractors,
                fill: svg::RED,
            },
        ],
        640.0,
        26.0,
    ));
    let share = |x: u64| fmt_pct((k.n > 0).then(|| x as f64 / k.n as f64));
    let _ = writeln!(
        h,
        "<p class=\"note\"><span class=\"up\">■</span> promoters {} · <span class=\"passive\">■</span> passives {} · <span class=\"down\">■</span> detractors {}</p>",
        share(k.promoters),
        share(k.passives),
        share(k.detractors)
    );
    h.push_str("<ul class=\"summary\">\n");
    for s in summary(d) {
        let _ = writeln!(h, "<li>{s}</li>");
    }
    h.push_str("</ul>\n</div>\n</section>\n");
}

/// Plain sentences for the top of the page (already escaped HTML).
fn summary(d: &ReportData) -> Vec<String> {
    let k = &d.headline;
    let mut out = Vec::new();
    match k.nps {
        Some(v) => out.push(format!(
            "NPS is <strong>{}</strong> (95% CI {}) from {} scored responses, {} with a comment.",
            escape(&fmt_value(Some(v))),
            escape(&fmt_interval(k.ci)),
            fmt_int(k.n),
            fmt_int(k.with_comment)
        )),
        None => out.push("There are no scored responses.".into()),
    }
    if let Some(t) = &d.trend {
        if let Some(last) = t.points.last() {
            let mut s = format!(
                "Latest {} ({}): NPS {} on {} responses",
                escape(&t.period),
                escape(&last.label),
                escape(&fmt_value(last.nps)),
                fmt_int(last.n)
            );
            if last.suppressed {
                let _ = write!(s, " {}", small_base(d));
            }
            s.push('.');
            out.push(s);
        }
    }
    let top = |list: &[DriverRow]| {
        list.iter()
            .find(|r| r.significant && !r.suppressed)
            .cloned()
    };
    match top(&d.detractor_drivers) {
        Some(r) => out.push(format!(
            "Pulls NPS down most: <strong>{}</strong>{} ({} points, {} mentions).",
            escape(&r.topic),
            escape(&scope_words(&r.scope).replace(" mentions", "")),
            escape(&fmt_signed(r.impact)),
            fmt_int(r.mentions)
        )),
        None => out.push(format!(
            "No topic pulls NPS down with an interval clear of 0 and at least {} mentions.",
            d.min_n
        )),
    }
    match top(&d.promoter_drivers) {
        Some(r) => out.push(format!(
            "Pulls NPS up most: <strong>{}</strong>{} ({} points, {} mentions).",
            escape(&r.topic),
            escape(&scope_words(&r.scope).replace(" mentions", "")),
            escape(&fmt_signed(r.impact)),
            fmt_int(r.mentions)
        )),
        None => out.push(format!(
            "No topic pulls NPS up with an interval clear of 0 and at least {} mentions.",
            d.min_n
        )),
    }
    let mut flagged: Vec<&SegmentRow> = d
        .segments
        .iter()
        .filter(|s| s.bh_significant == Some(true))
        .collect();
    flagged.sort_by(|a, b| {
        b.diff_vs_rest
            .unwrap_or(0.0)
            .abs()
            .total_cmp(&a.diff_vs_rest.unwrap_or(0.0).abs())
            .then(a.column.cmp(&b.column))
            .then(a.value.cmp(&b.value))
    });
    if !flagged.is_empty() {
        let list: Vec<String> = flagged
            .iter()
            .take(3)
            .map(|s| {
                format!(
                    "{} = {} ({} vs rest)",
                    escape(&s.column),
                    escape(&segment_value_text(&s.value)),
                    escape(&fmt_signed(s.diff_vs_rest))
                )
            })
            .collect();
        out.push(format!(
            "Segments that differ from the rest: {}{}.",
            list.join("; "),
            if flagged.len() > 3 {
                format!(" and {} more", flagged.len() - 3)
            } else {
                String::new()
            }
        ));
    }
    if let Some(w) = &k.weighted {
        out.push(format!(
            "Weighted by the survey weights: NPS <strong>{}</strong> (95% CI {}; effective n {}){}; the drivers are unweighted.",
            escape(&fmt_value(Some(w.nps))),
            escape(&fmt_interval(w.ci)),
            escape(&format!("{:.1}", w.n_effective)),
            if w.suppressed { ", a small base" } else { "" }
        ));
    }
    out.extend(summary_of_sections(d));
    out
}

/// The summary lines of the change, alerts and call-back sections.
fn summary_of_sections(d: &ReportData) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(w) = &d.waterfall {
        out.push(format!(
            "From {} to {} NPS moved {} points ({} → {}).",
            escape(&w.from_label),
            escape(&w.to_label),
            escape(&fmt_signed(Some(w.to_nps - w.from_nps))),
            escape(&fmt_value(Some(w.from_nps))),
            escape(&fmt_value(Some(w.to_nps)))
        ));
    }
    if let Some(a) = d.alerts.as_ref().filter(|a| a.total > 0) {
        out.push(format!(
            "{} {} in the latest period (see Alerts).",
            a.total,
            if a.total == 1 { "alert" } else { "alerts" }
        ));
    }
    if let Some(f) = d.followup.as_ref().filter(|f| f.listed > 0) {
        out.push(format!(
            "{} customers to call back are listed in the followup table.",
            fmt_int(f.listed)
        ));
    }
    out
}

fn segment_value_text(v: &str) -> String {
    if v.is_empty() {
        "(blank)".into()
    } else {
        v.to_string()
    }
}

fn warnings(h: &mut String, d: &ReportData) {
    if d.warnings.is_empty() {
        return;
    }
    h.push_str("<aside class=\"warnings\" role=\"note\" aria-labelledby=\"warn-heading\">\n<h2 id=\"warn-heading\">Read this first</h2>\n<ul>\n");
    for w in &d.warnings {
        let _ = writeln!(h, "<li>{}</li>", escape(w));
    }
    h.push_str("</ul>\n</aside>\n");
}

fn drivers(h: &mut String, d: &ReportData) {
    h.push_str("<section aria-labelledby=\"drivers-heading\">\n<h2 id=\"drivers-heading\">What moves NPS</h2>\n");
    let lead: Vec<String> = [
        (d.detractor_drivers.first(), "pulls NPS down most"),
        (d.promoter_drivers.first(), "pulls it up most"),
    ]
    .into_iter()
    .filter_map(|(r, words)| {
        r.map(|r| {
            format!(
                "<strong>{}</strong> {words} ({} points)",
                escape(&r.topic),
                escape(&fmt_signed(r.impact))
            )
        })
    })
    .collect();
    if !lead.is_empty() {
        let _ = writeln!(h, "<p class=\"lead\">{}.</p>", lead.join("; "));
    }
    h.push_str("<p class=\"note\">Impact = NPS − NPS without the responses that mention the topic, in points, with its 95% interval (whiskers). \
A comment can mention several topics, so impacts overlap and do not add up.</p>\n<div class=\"pair\">\n");
    // One extent for both sides, so bar lengths compare across them.
    let extent = d
        .detractor_drivers
        .iter()
        .chain(&d.promoter_drivers)
        .filter(|r| !r.suppressed)
        .flat_map(|r| {
            r.impact
                .into_iter()
                .chain(r.ci.into_iter().flat_map(|i| [i.low, i.high]))
        })
        .filter(|v| v.is_finite())
        .fold(0.0f64, |m, v| m.max(v.abs()));
    for low in [true, false] {
        driver_side(h, d, &DriverSide::of(low), extent);
    }
    h.push_str("</div>\n</section>\n");
}

/// One side of the drivers section: the detractor drivers (`low`, pulling
/// NPS down) or the promoter drivers (pulling it up).
struct DriverSide {
    low: bool,
    id: &'static str,
    heading: &'static str,
    class: &'static str,
    share_label: &'static str,
}

impl DriverSide {
    /// The detractor side when `low`, else the promoter side.
    fn of(low: bool) -> DriverSide {
        let (id, heading, class, share_label) = if low {
            (
                "drivers-down",
                "Pulling NPS down (detractor drivers)",
                "down",
                "% of detractors",
            )
        } else {
            (
                "drivers-up",
                "Pulling NPS up (promoter drivers)",
                "up",
                "% of promoters",
            )
        };
        DriverSide {
            low,
            id,
            heading,
            class,
            share_label,
        }
    }

    /// The side's driver rows.
    fn rows<'d>(&self, d: &'d ReportData) -> &'d [DriverRow] {
        if self.low {
            &d.detractor_drivers
        } else {
            &d.promoter_drivers
        }
    }
}

/// Writes one side: its heading, then its chart and table, or a note when
/// no topic qualifies.
fn driver_side(h: &mut String, d: &ReportData, side: &DriverSide, extent: f64) {
    let (id, class, heading) = (side.id, side.class, side.heading);
    let rows = side.rows(d);
    let _ = write!(
        h,
        "<div class=\"side\" id=\"{id}\">\n<h3 class=\"{class}\">{heading}</h3>\n"
    );
    if rows.is_empty() {
        let _ = writeln!(
            h,
            "<p class=\"note\">No topic with an interval clear of 0 and at least {} mentions.</p>",
            d.min_n
        );
        too_few_note(h, d, side);
        h.push_str("</div>\n");
        return;
    }
    driver_chart(h, d, side, extent);
    driver_table(h, d, side);
    if rows.iter().any(|r| !r.significant && !r.suppressed) {
        h.push_str("<p class=\"note\">Lighter rows: the interval includes 0.</p>\n");
    }
    too_few_note(h, d, side);
    h.push_str("</div>\n");
}

/// The side's topics on too few mentions to rank, named in one line.
fn too_few_note(h: &mut String, d: &ReportData, side: &DriverSide) {
    let few = if side.low {
        &d.detractor_too_few
    } else {
        &d.promoter_too_few
    };
    if few.is_empty() {
        return;
    }
    let names: Vec<String> = few
        .iter()
        .map(|r| {
            format!(
                "{}{} ({})",
                escape(&r.topic),
                escape(short_scope(&r.scope)),
                fmt_int(r.mentions)
            )
        })
        .collect();
    let _ = writeln!(
        h,
        "<p class=\"note too-few\">Too few mentions to rank (fewer than {}): {}.</p>",
        d.min_n,
        names.join(", ")
    );
}

/// The side's impacts as horizontal bars with interval whiskers, on the
/// `extent` shared by both sides.
fn driver_chart(h: &mut String, d: &ReportData, side: &DriverSide, extent: f64) {
    let rows = side.rows(d);
    let bars: Vec<svg::Bar> = rows
        .iter()
        .map(|r| svg::Bar {
            label: format!("{}{}", r.topic, short_scope(&r.scope)),
            value: r.impact,
            interval: r.ci.map(|i| (i.low, i.high)),
            suppressed: r.suppressed,
            faint: !r.significant,
            tooltip: format!(
                "{}{}: impact {} points (95% CI {}), {} mentions, NPS {} among them{}",
                r.topic,
                scope_words(&r.scope),
                fmt_signed(r.impact),
                fmt_interval(r.ci),
                fmt_int(r.mentions),
                fmt_value(r.nps_mentions),
                if r.suppressed {
                    format!(", fewer than {}", d.min_n)
                } else {
                    String::new()
                }
            ),
        })
        .collect();
    let ext = [if side.low { -extent } else { extent }];
    let desc = format!(
        "Horizontal bars: impact on NPS in points of {} topics, with 95% interval whiskers; the vertical line is 0.",
        rows.len()
    );
    h.push_str("<figure>\n");
    h.push_str(&svg::bar_chart(&svg::BarChart {
        id: &format!("{}-chart", side.id),
        title: side.heading,
        desc: &desc,
        bars: &bars,
        negative_fill: svg::RED,
        positive_fill: svg::GREEN,
        extent: &ext,
        suppressed_note: &suppressed_note(d),
        percent: false,
    }));
    h.push_str("\n</figure>\n");
}

/// The side's figures as a sortable table, with the bootstrap interval
/// under the delta-method one when there is one.
fn driver_table(h: &mut String, d: &ReportData, side: &DriverSide) {
    let (id, heading, share_label) = (side.id, side.heading, side.share_label);
    let rows = side.rows(d);
    let boot = rows.iter().any(|r| r.bootstrap_ci.is_some());
    let _ = write!(
        h,
        "<div class=\"table-wrap\"><table class=\"sortable drivers\" id=\"{id}-table\">\n<caption>{heading}: figures</caption>\n<thead><tr><th scope=\"col\">Topic</th><th scope=\"col\" class=\"num\">Impact</th><th scope=\"col\" class=\"num\">95% CI<br><span class=\"sub\">delta method</span>{}</th><th scope=\"col\" class=\"num\">Mentions</th><th scope=\"col\" class=\"num\">{share_label}</th></tr></thead>\n<tbody>\n",
        if boot {
            "<br><span class=\"sub\">bootstrap</span>"
        } else {
            ""
        }
    );
    for r in rows.iter() {
        let share = if side.low {
            r.share_of_detractors
        } else {
            r.share_of_promoters
        };
        let class = match (r.suppressed, r.significant) {
            (true, _) => " class=\"suppressed\"",
            (false, false) => " class=\"faint\"",
            _ => "",
        };
        let boot_line = match (boot, r.bootstrap_ci) {
            (true, Some(b)) => format!(
                "<br><span class=\"sub\">{}</span>",
                escape(&fmt_interval(Some(b)))
            ),
            _ => String::new(),
        };
        let _ = writeln!(
            h,
            "<tr{class}><th scope=\"row\">{}{}</th><td class=\"num\" data-sort=\"{}\">{}</td><td class=\"num\">{}{boot_line}</td><td class=\"num\" data-sort=\"{}\">{}{}</td><td class=\"num\" data-sort=\"{}\">{}</td></tr>",
            escape(&r.topic),
            scope_tag(&r.scope),
            sort_key(r.impact),
            escape(&fmt_signed(r.impact)),
            escape(&fmt_interval(r.ci)),
            r.mentions,
            fmt_int(r.mentions),
            if r.suppressed { small_base(d) } else { String::new() },
            sort_key(share),
            escape(&fmt_pct(share)),
        );
    }
    h.push_str("</tbody>\n</table></div>\n");
}

fn short_scope(scope: &str) -> &'static str {
    match scope {
        "negative" => " (neg.)",
        "positive" => " (pos.)",
        _ => "",
    }
}

fn trend(h: &mut String, d: &ReportData) {
    let Some(t) = &d.trend else {
        h.push_str("<section aria-labelledby=\"trend-heading\">\n<h2 id=\"trend-heading\">NPS over time</h2>\n<p class=\"note empty\">No dates in the input: no NPS over time.</p>\n</section>\n");
        return;
    };
    h.push_str("<section aria-labelledby=\"trend-heading\">\n");
    let _ = writeln!(
        h,
        "<h2 id=\"trend-heading\">NPS by {}</h2>",
        escape(&t.period)
    );
    if t.points.is_empty() {
        h.push_str("<p class=\"note empty\">No dated responses.</p>\n</section>\n");
        return;
    }
    if let (Some(first), Some(last)) = (t.points.first(), t.points.last()) {
        let _ = writeln!(
            h,
            "<p class=\"lead\">NPS was {} in {} and {} in {} ({} {}s shown; the shaded band is the range the true NPS lies in with 95% confidence).</p>",
            escape(&fmt_value(first.nps)),
            escape(&first.label),
            escape(&fmt_value(last.nps)),
            escape(&last.label),
            t.points.len(),
            escape(&t.period)
        );
    }
    let points: Vec<svg::LinePoint> = t
        .points
        .iter()
        .map(|p| svg::LinePoint {
            label: p.label.clone(),
            value: p.nps,
            interval: p.ci.map(|i| (i.low, i.high)),
            suppressed: p.suppressed,
            tooltip: format!(
                "{}: NPS {} (95% CI {}), n = {}{}",
                p.label,
                fmt_value(p.nps),
                fmt_interval(p.ci),
                fmt_int(p.n),
                if p.suppressed {
                    format!(", fewer than {}", d.min_n)
                } else {
                    String::new()
                }
            ),
        })
        .collect();
    h.push_str("<figure>\n");
    h.push_str(&svg::line_chart(&svg::LineChart {
        id: "trend-chart",
        title: &format!("NPS by {}", t.period),
        desc: &format!(
            "Line: NPS per {} over {} periods from {} to {}; shaded band: 95% interval; hollow grey points rest on fewer than {} responses.",
            t.period,
            t.points.len(),
            t.points.first().map_or("", |p| p.label.as_str()),
            t.points.last().map_or("", |p| p.label.as_str()),
            d.min_n
        ),
        points: &points,
        clamp: (-100.0, 100.0),
    }));
    let _ = writeln!(
        h,
        "\n<figcaption>Shaded: 95% interval. Hollow grey points: fewer than {} responses (n &lt; {}). Periods without responses are left out.</figcaption>\n</figure>",
        d.min_n, d.min_n
    );
    h.push_str("<details class=\"print-open\">\n<summary>Figures per period</summary>\n<table class=\"sortable\" id=\"trend-table\">\n<thead><tr><th scope=\"col\">Period</th><th scope=\"col\" class=\"num\">NPS</th><th scope=\"col\" class=\"num\">95% CI</th><th scope=\"col\" class=\"num\">n</th></tr></thead>\n<tbody>\n");
    for p in &t.points {
        let _ = writeln!(
            h,
            "<tr{}><th scope=\"row\">{}</th><td class=\"num\" data-sort=\"{}\">{}</td><td class=\"num\">{}</td><td class=\"num\" data-sort=\"{}\">{}{}</td></tr>",
            if p.suppressed { " class=\"suppressed\"" } else { "" },
            escape(&p.label),
            sort_key(p.nps),
            escape(&fmt_value(p.nps)),
            escape(&fmt_interval(p.ci)),
            p.n,
            fmt_int(p.n),
            if p.suppressed { small_base(d) } else { String::new() }
        );
    }
    h.push_str("</tbody>\n</table>\n</details>\n</section>\n");
}

/// Sum of the parts minus the change, when they differ by more than rounding.
pub fn waterfall_gap(w: &Waterfall) -> Option<f64> {
    let sum: f64 = w.parts.iter().map(|p| p.value).sum();
    let change = w.to_nps - w.from_nps;
    ((sum - change).abs() > 0.05).then_some(sum - change)
}

fn waterfall(h: &mut String, d: &ReportData) {
    let Some(w) = &d.waterfall else {
        if let Some(note) = &d.change_note {
            let _ = writeln!(
                h,
                "<section aria-labelledby=\"change-heading\">\n<h2 id=\"change-heading\">What changed NPS</h2>\n<p class=\"note empty\">{}</p>\n</section>",
                escape(note)
            );
        }
        return;
    };
    h.push_str("<section aria-labelledby=\"change-heading\">\n");
    let _ = writeln!(
        h,
        "<h2 id=\"change-heading\">What changed NPS from {} to {}</h2>",
        escape(&w.from_label),
        escape(&w.to_label)
    );
    let biggest = w
        .parts
        .iter()
        .max_by(|a, b| a.value.abs().total_cmp(&b.value.abs()));
    let _ = writeln!(
        h,
        "<p class=\"lead\">NPS went from {} in {} to {} in {} ({} points){}</p>",
        escape(&fmt_value(Some(w.from_nps))),
        escape(&w.from_label),
        escape(&fmt_value(Some(w.to_nps))),
        escape(&w.to_label),
        escape(&fmt_signed(Some(w.to_nps - w.from_nps))),
        match biggest {
            Some(p) => format!(
                "; the largest part is <strong>{}</strong> ({} points).",
                escape(&p.label),
                escape(&fmt_signed(Some(p.value)))
            ),
            None => ".".into(),
        }
    );
    let parts: Vec<svg::Step> = w
        .parts
        .iter()
        .map(|p| svg::Step {
            label: p.label.clone(),
            value: p.value,
        })
        .collect();
    let chart = svg::Waterfall {
        id: "change-chart",
        title: "Change in NPS, split into parts",
        desc: &format!(
            "Waterfall: NPS {} in {}, then {} parts, ending at NPS {} in {}.",
            fmt_value(Some(w.from_nps)),
            w.from_label,
            w.parts.len(),
            fmt_value(Some(w.to_nps)),
            w.to_label
        ),
        start: svg::Step {
            label: w.from_label.clone(),
            value: w.from_nps,
        },
        parts: &parts,
        end: svg::Step {
            label: w.to_label.clone(),
            value: w.to_nps,
        },
    };
    let (_, _, y, _) = svg::waterfall_scale(&chart);
    h.push_str("<figure>\n");
    h.push_str(&svg::waterfall(&chart));
    let _ = write!(
        h,
        "\n<figcaption>Change {} points: each part is a topic's contribution (its share of responses and its NPS changing); the parts sum to the change. The driver_change table has every topic.{}</figcaption>\n</figure>\n",
        escape(&fmt_signed(Some(w.to_nps - w.from_nps))),
        if y.domain.0 > 0.0 || y.domain.1 < 0.0 {
            " The axis does not start at 0."
        } else {
            ""
        }
    );
    if let Some(gap) = waterfall_gap(w) {
        let _ = writeln!(
            h,
            "<p class=\"warnings\">The parts add up to {} points more than the change: check the input of this chart.</p>",
            escape(&fmt_signed(Some(gap)))
        );
    }
    h.push_str("</section>\n");
}

fn importance(h: &mut String, d: &ReportData) {
    let Some(imp) = &d.importance else { return };
    h.push_str("<section aria-labelledby=\"importance-heading\">\n<h2 id=\"importance-heading\">Which topics matter most (key drivers)</h2>\n");
    if let Some(top) = imp.rows.first() {
        let _ = writeln!(
            h,
            "<p class=\"lead\">Of what the topics explain about the scores, <strong>{}</strong> accounts for the most: {} (95% CI {}).{}</p>",
            escape(&top.topic),
            escape(&fmt_pct(Some(top.share))),
            escape(&fmt_pct_interval(top.ci)),
            match imp.r_squared {
                Some(r2) => format!(
                    " Together the topics explain {} of the differences in scores.",
                    escape(&fmt_pct(Some(r2)))
                ),
                None => String::new(),
            }
        );
    }
    let _ = write!(h, "<p class=\"note\">{}", escape(&imp.method));
    if let Some(r2) = imp.r_squared {
        let _ = write!(h, " R² = {}.", escape(&format!("{r2:.3}")));
    }
    h.push_str(" Each bar is the topic's share of the explained variance; unlike the impacts above, the shares sum to 100%.</p>\n");
    if imp.rows.is_empty() {
        let note = if imp.note.is_empty() {
            "No topic entered the key-driver model."
        } else {
            imp.note.as_str()
        };
        let _ = writeln!(
            h,
            "<p class=\"note empty\">{}</p>\n</section>",
            escape(note)
        );
        return;
    }
    let bars: Vec<svg::Bar> = imp
        .rows
        .iter()
        .map(|r| svg::Bar {
            label: r.topic.clone(),
            value: Some(r.share),
            interval: r.ci.map(|i| (i.low, i.high)),
            suppressed: false,
            faint: false,
            tooltip: format!(
                "{}: {} of the explained variance (95% CI {})",
                r.topic,
                fmt_pct(Some(r.share)),
                fmt_pct_interval(r.ci)
            ),
        })
        .collect();
    h.push_str("<figure>\n");
    h.push_str(&svg::bar_chart(&svg::BarChart {
        id: "importance-chart",
        title: "Relative importance of topics",
        desc: "Horizontal bars: share of explained variance per topic, with 95% interval whiskers.",
        bars: &bars,
        negative_fill: svg::BLUE,
        positive_fill: svg::BLUE,
        extent: &[],
        suppressed_note: "",
        percent: true,
    }));
    h.push_str("\n</figure>\n");
    if !imp.note.is_empty() {
        let _ = writeln!(h, "<p class=\"note\">{}</p>", escape(&imp.note));
    }
    if imp.rows.iter().any(|r| r.weight.is_some()) {
        h.push_str("<details class=\"print-open\">\n<summary>Figures (as in key_driver)</summary>\n<table class=\"sortable\" id=\"importance-table\">\n<thead><tr><th scope=\"col\">Topic</th><th scope=\"col\" class=\"num\">Share</th><th scope=\"col\" class=\"num\">95% CI</th><th scope=\"col\" class=\"num\">Relative weight</th><th scope=\"col\" class=\"num\">95% CI</th></tr></thead>\n<tbody>\n");
        for r in &imp.rows {
            let weight_ci = match r.weight_ci {
                Some(i) => format!("{:.4} to {:.4}", i.low, i.high),
                None => "\u{2014}".into(),
            };
            let _ = writeln!(
                h,
                "<tr><th scope=\"row\">{}</th><td class=\"num\" data-sort=\"{}\">{}</td><td class=\"num\">{}</td><td class=\"num\" data-sort=\"{}\">{}</td><td class=\"num\">{}</td></tr>",
                escape(&r.topic),
                sort_key(Some(r.share)),
                escape(&fmt_pct(Some(r.share))),
                escape(&fmt_pct_interval(r.ci)),
                sort_key(r.weight),
                r.weight.map_or_else(|| "\u{2014}".into(), |w| format!("{w:.4}")),
                escape(&weight_ci)
            );
        }
        h.push_str("</tbody>\n</table>\n</details>\n");
    }
    h.push_str("</section>\n");
}

/// A share (0..1) or a net sentiment (−1..1, shown ×100) of an alert.
fn alert_value(metric: &str, v: f64) -> String {
    if metric == "share" {
        fmt_pct(Some(v))
    } else {
        fmt_signed(Some(100.0 * v))
    }
}

fn alerts(h: &mut String, d: &ReportData) {
    let Some(a) = &d.alerts else { return };
    h.push_str("<section aria-labelledby=\"alerts-heading\">\n<h2 id=\"alerts-heading\">Alerts: what is unusual in the latest period</h2>\n");
    if a.rows.is_empty() {
        let _ = writeln!(
            h,
            "<p class=\"note empty\">{}</p>\n</section>",
            escape(&a.note)
        );
        return;
    }
    let first = &a.rows[0];
    let _ = writeln!(
        h,
        "<p class=\"lead\">{} {} in {}. The most unusual: <strong>{}</strong>, {}.</p>",
        a.total,
        if a.total == 1 { "alert" } else { "alerts" },
        escape(&first.period_label),
        escape(&first.topic),
        escape(&alert_sentence(first))
    );
    let _ = writeln!(
        h,
        "<p class=\"note\">An alert fires when a topic's share of responses or the net sentiment of its mentions departs from its own history by |z| ≥ {}. The alerts table has the figures behind each.</p>",
        escape(&fmt_z(a.z_threshold))
    );
    h.push_str("<div class=\"table-wrap\"><table class=\"sortable\" id=\"alerts-table\">\n<thead><tr><th scope=\"col\">Topic</th><th scope=\"col\">What changed</th><th scope=\"col\" class=\"num\">Latest</th><th scope=\"col\" class=\"num\">Usually</th><th scope=\"col\" class=\"num\">z</th><th scope=\"col\" class=\"num\">Mentions</th></tr></thead>\n<tbody>\n");
    for r in &a.rows {
        let _ = writeln!(
            h,
            "<tr><th scope=\"row\">{}</th><td>{}</td><td class=\"num\" data-sort=\"{}\">{}</td><td class=\"num\" data-sort=\"{}\">{}</td><td class=\"num\" data-sort=\"{}\">{}</td><td class=\"num\" data-sort=\"{}\">{}</td></tr>",
            escape(&r.topic),
            escape(&alert_what(r)),
            sort_key(Some(r.value)),
            escape(&alert_value(&r.metric, r.value)),
            sort_key(Some(r.history_mean)),
            escape(&alert_value(&r.metric, r.history_mean)),
            sort_key(Some(r.z)),
            escape(&fmt_signed(Some(r.z))),
            r.mentions,
            fmt_int(r.mentions)
        );
    }
    h.push_str("</tbody>\n</table></div>\n");
    if a.total > a.rows.len() {
        let _ = writeln!(
            h,
            "<p class=\"note\">{} more in the alerts table.</p>",
            a.total - a.rows.len()
        );
    }
    h.push_str("</section>\n");
}

/// What an alert measures and which way it went, in words.
fn alert_what(r: &AlertRow) -> String {
    let way = if r.z > 0.0 { "up" } else { "down" };
    if r.metric == "share" {
        format!("share of responses mentioning it, {way}")
    } else {
        format!("net sentiment of its mentions, {way}")
    }
}

fn alert_sentence(r: &AlertRow) -> String {
    format!(
        "{} to {} (usually {} over {} periods)",
        alert_what(r),
        alert_value(&r.metric, r.value),
        alert_value(&r.metric, r.history_mean),
        r.history_periods
    )
}

fn team(h: &mut String, d: &ReportData) {
    let Some(t) = &d.team else { return };
    h.push_str("<section aria-labelledby=\"team-heading\">\n<h2 id=\"team-heading\">Teams and agents that stand out</h2>\n");
    if t.rows.is_empty() {
        let _ = writeln!(
            h,
            "<p class=\"note empty\">{}</p>\n</section>",
            escape(&t.note)
        );
        return;
    }
    let first = &t.rows[0];
    let _ = writeln!(
        h,
        "<p class=\"lead\">{} {}. The clearest: <strong>{} {}</strong> {} {} ({} of their responses, {} elsewhere).</p>",
        t.total,
        if t.total == 1 { "reading" } else { "readings" },
        escape(&first.column),
        escape(&segment_value_text(&first.value)),
        reading_words(&first.reading),
        escape(&first.topic),
        escape(&fmt_pct(first.rate)),
        escape(&fmt_pct(first.rate_rest))
    );
    h.push_str("<p class=\"note\">A team value stands out when it mentions a topic positively (praised for) or negatively (to coach on) significantly more often than all other responses (Benjamini–Hochberg corrected); the team_view table has every rate.</p>\n");
    h.push_str("<div class=\"table-wrap\"><table class=\"sortable\" id=\"team-table\">\n<thead><tr><th scope=\"col\">Team</th><th scope=\"col\">Reading</th><th scope=\"col\">Topic</th><th scope=\"col\" class=\"num\">Rate</th><th scope=\"col\" class=\"num\">Rest</th><th scope=\"col\" class=\"num\">n</th></tr></thead>\n<tbody>\n");
    for r in &t.rows {
        let _ = writeln!(
            h,
            "<tr><th scope=\"row\">{} = {}</th><td class=\"{}\">{}</td><td>{}</td><td class=\"num\" data-sort=\"{}\">{}</td><td class=\"num\" data-sort=\"{}\">{}</td><td class=\"num\" data-sort=\"{}\">{}</td></tr>",
            escape(&r.column),
            escape(&segment_value_text(&r.value)),
            if r.reading == "coaching" { "down" } else { "up" },
            reading_words(&r.reading),
            escape(&r.topic),
            sort_key(r.rate),
            escape(&fmt_pct(r.rate)),
            sort_key(r.rate_rest),
            escape(&fmt_pct(r.rate_rest)),
            r.n,
            fmt_int(r.n)
        );
    }
    h.push_str("</tbody>\n</table></div>\n");
    if t.total > t.rows.len() {
        let _ = writeln!(
            h,
            "<p class=\"note\">{} more in the team_view table.</p>",
            t.total - t.rows.len()
        );
    }
    h.push_str("</section>\n");
}

impl ReportData {
    /// The page of an employee survey: eNPS, and no call-back list.
    pub fn for_employees(mut self) -> ReportData {
        self.employee = true;
        self.followup = None;
        self
    }
}

fn reading_words(reading: &str) -> &'static str {
    if reading == "coaching" {
        "to coach on"
    } else {
        "praised for"
    }
}

fn followup(h: &mut String, d: &ReportData) {
    let Some(f) = &d.followup else { return };
    h.push_str("<section aria-labelledby=\"followup-heading\">\n<h2 id=\"followup-heading\">Customers to call back</h2>\n");
    if f.listed == 0 {
        h.push_str("<p class=\"note empty\">No detractor, and no passive with a strongly negative comment: nobody to call back.</p>\n</section>\n");
        return;
    }
    let _ = writeln!(
        h,
        "<p class=\"lead\" id=\"followup-size\">The followup table lists <strong>{}</strong> {} to call back, highest churn risk first; {} of them mention cancelling, a complaint, a lawyer or a repeated contact.</p>",
        fmt_int(f.listed),
        if f.listed == 1 { "customer" } else { "customers" },
        fmt_int(f.with_signal)
    );
    if f.candidates > f.listed {
        let _ = writeln!(
            h,
            "<p class=\"note\">{} responses qualified (detractors and strongly negative passives); the list keeps the {} with the highest risk.</p>",
            fmt_int(f.candidates),
            fmt_int(f.listed)
        );
    }
    h.push_str("</section>\n");
}

fn segments(h: &mut String, d: &ReportData) {
    h.push_str("<section aria-labelledby=\"segments-heading\">\n<h2 id=\"segments-heading\">Segments</h2>\n");
    if d.segments.is_empty() {
        h.push_str("<p class=\"note\">No segment columns were aggregated.</p>\n</section>\n");
        return;
    }
    let _ = writeln!(
        h,
        "<p class=\"note\">Each value is compared with all other responses (z-test). “Differs” marks differences that survive the Benjamini–Hochberg correction at q = {}; values with fewer than {} responses are not tested.</p>",
        escape(&format!("{}", d.fdr_q)),
        d.min_n
    );
    let mut columns: Vec<&str> = Vec::new();
    for s in &d.segments {
        if !columns.contains(&s.column.as_str()) {
            columns.push(&s.column);
        }
    }
    for (ci, col) in columns.iter().enumerate() {
        let rows: Vec<&SegmentRow> = d.segments.iter().filter(|s| s.column == *col).collect();
        let open = if rows.len() <= 12 { " open" } else { "" };
        let _ = write!(
            h,
            "<details class=\"print-open\"{open}>\n<summary>{} ({} values)</summary>\n<table class=\"sortable segments\" id=\"segments-{ci}\">\n<caption>NPS by {}</caption>\n<thead><tr><th scope=\"col\">Value</th><th scope=\"col\" class=\"num\">n</th><th scope=\"col\" class=\"num\">NPS</th><th scope=\"col\" class=\"num\">95% CI</th><th scope=\"col\" class=\"num\">vs rest</th><th scope=\"col\" class=\"num\">p</th><th scope=\"col\">Differs</th></tr></thead>\n<tbody>\n",
            escape(col),
            rows.len(),
            escape(col)
        );
        for s in rows {
            let value = if s.value.is_empty() {
                "<span class=\"blank\">(blank)</span>".to_string()
            } else {
                escape(&s.value)
            };
            let flag = match s.bh_significant {
                Some(true) => "<span class=\"flag\">yes</span>".to_string(),
                Some(false) => "no".to_string(),
                None => "<span class=\"faint\" title=\"not tested: small base or nothing to compare\">—</span>".to_string(),
            };
            let _ = writeln!(
                h,
                "<tr{}><th scope=\"row\">{value}</th><td class=\"num\" data-sort=\"{}\">{}{}</td><td class=\"num\" data-sort=\"{}\">{}</td><td class=\"num\">{}</td><td class=\"num\" data-sort=\"{}\">{}</td><td class=\"num\" data-sort=\"{}\">{}</td><td>{flag}</td></tr>",
                if s.suppressed { " class=\"suppressed\"" } else { "" },
                s.n,
                fmt_int(s.n),
                if s.suppressed { small_base(d) } else { String::new() },
                sort_key(s.nps),
                escape(&fmt_value(s.nps)),
                escape(&fmt_interval(s.ci)),
                sort_key(s.diff_vs_rest),
                escape(&fmt_signed(s.diff_vs_rest)),
                sort_key(s.p_value),
                escape(&fmt_p(s.p_value)),
            );
        }
        h.push_str("</tbody>\n</table>\n</details>\n");
    }
    h.push_str("</section>\n");
}

fn topics(h: &mut String, d: &ReportData) {
    h.push_str("<section aria-labelledby=\"topics-heading\">\n<h2 id=\"topics-heading\">Topics and sentiment</h2>\n");
    if d.topics.is_empty() {
        h.push_str("<p class=\"note\">No topic was mentioned.</p>\n</section>\n");
        return;
    }
    h.push_str("<p class=\"note\">Mentions by the sentiment of the clause that mentions the topic. Net sentiment = mean of −100 (negative), 0 (neutral), +100 (positive) over the mentions.</p>\n");
    h.push_str("<table class=\"sortable\" id=\"topics-table\">\n<caption>Topic × sentiment</caption>\n<thead><tr><th scope=\"col\">Topic</th><th scope=\"col\" class=\"num\">Mentions</th><th scope=\"col\" class=\"num\">Negative</th><th scope=\"col\" class=\"num\">Neutral</th><th scope=\"col\" class=\"num\">Positive</th><th scope=\"col\" class=\"num\">Net sentiment</th><th scope=\"col\">Mix</th></tr></thead>\n<tbody>\n");
    for (i, t) in d.topics.iter().enumerate() {
        let mix = svg::stacked_bar(
            &format!("mix-{i}"),
            &format!("{}: negative, neutral, positive mentions", t.topic),
            &[
                svg::Segment {
                    label: "Negative",
                    count: t.negative,
                    fill: svg::RED,
                },
                svg::Segment {
                    label: "Neutral",
                    count: t.neutral,
                    fill: svg::PASSIVE,
                },
                svg::Segment {
                    label: "Positive",
                    count: t.positive,
                    fill: svg::GREEN,
                },
            ],
            120.0,
            10.0,
        );
        let _ = writeln!(
            h,
            "<tr{}><th scope=\"row\">{}</th><td class=\"num\" data-sort=\"{}\">{}{}</td><td class=\"num\" data-sort=\"{}\">{}</td><td class=\"num\" data-sort=\"{}\">{}</td><td class=\"num\" data-sort=\"{}\">{}</td><td class=\"num\" data-sort=\"{}\">{}</td><td class=\"mix\">{}</td></tr>",
            if t.suppressed { " class=\"suppressed\"" } else { "" },
            escape(&t.topic),
            t.mentions(),
            fmt_int(t.mentions()),
            if t.suppressed { small_base(d) } else { String::new() },
            t.negative,
            fmt_int(t.negative),
            t.neutral,
            fmt_int(t.neutral),
            t.positive,
            fmt_int(t.positive),
            sort_key(t.net_sentiment),
            escape(&fmt_signed(t.net_sentiment)),
            mix
        );
    }
    h.push_str("</tbody>\n</table>\n</section>\n");
}

fn examples(h: &mut String, d: &ReportData) {
    if d.examples.iter().all(|e| e.comments.is_empty()) {
        return;
    }
    h.push_str("<section aria-labelledby=\"examples-heading\">\n<h2 id=\"examples-heading\">What people say</h2>\n<p class=\"note\">Example comments per topic, with personal data masked.</p>\n");
    for e in d.examples.iter().filter(|e| !e.comments.is_empty()) {
        let _ = writeln!(h, "<h3>{}</h3>\n<ul class=\"comments\">", escape(&e.topic));
        for c in &e.comments {
            let score = match c.score {
                Some(s) => {
                    let class = match s {
                        0..=6 => "d",
                        7 | 8 => "n",
                        _ => "p",
                    };
                    format!("<span class=\"score {class}\" title=\"score {s} of 10\">{s}</span>")
                }
                None => String::new(),
            };
            let _ = writeln!(
                h,
                "<li>{score}<q class=\"comment\">{}</q></li>",
                escape(&c.text)
            );
        }
        h.push_str("</ul>\n");
    }
    h.push_str("</section>\n");
}

fn manifest(h: &mut String, d: &ReportData) {
    h.push_str("<section aria-labelledby=\"manifest-heading\">\n<h2 id=\"manifest-heading\">Run details</h2>\n<details>\n<summary>Run manifest (JSON): input, model, thresholds, timings, tables</summary>\n");
    let text = if d.manifest_json.is_empty() {
        "{}"
    } else {
        d.manifest_json.as_str()
    };
    let _ = writeln!(
        h,
        "<pre class=\"manifest\" id=\"manifest\">{}</pre>",
        escape(text)
    );
    h.push_str("</details>\n</section>\n");
}

/// The report's warnings about the input: rejected rows and unread dates.
fn input_warnings(result: &PassResult) -> Vec<String> {
    let mut warnings = Vec::new();
    if result.rejected > 0 {
        warnings.push(format!(
            "{} of {} rows ({}) could not be read and are not counted; rejects.csv lists them with the reason.",
            fmt_int(result.rejected),
            fmt_int(result.read),
            fmt_pct(Some(result.rejected as f64 / result.read.max(1) as f64))
        ));
    }
    if result.unparsed_dates > 0 {
        warnings.push(format!(
            "{} dates could not be read; those responses count in the totals but not in the trend.",
            fmt_int(result.unparsed_dates)
        ));
    }
    warnings
}

#[cfg(test)]
mod tests;
