//! The page of a run without scores (`--no-score`: support tickets, an
//! open question without NPS). It says once, at the top, that NPS and the
//! drivers are left out and why, and shows in their place what needs no
//! score: the comments' sentiment, how often each topic comes up and in
//! which polarity, each topic's share of the comments per period, the
//! alerts, and example comments. No empty NPS card, no NaN: the sections
//! that rest on a score are not drawn at all.
//!
//! The data half ([`TopicsOnly`], [`ReportData::topics_only`]) is filled
//! from [`TopicCounts`]; the rendering half is called by [`super::render`]
//! when [`ReportData::topics_only`] is set.

use std::fmt::Write;

use serde::{Deserialize, Serialize};

use super::{
    alerts_of, escape, fmt_int, fmt_pct, sort_key, svg, Headline, ReportData, TopicExamples,
    TopicSentimentRow,
};
use crate::classify::Taxonomy;
use crate::output::manifest::RunManifest;
use crate::pipeline::PassResult;
use crate::stats::driver_stats::DriverAnalysis;
use crate::stats::topic_counts::TopicCounts;

/// What the page says in place of NPS and the drivers.
pub const NO_SCORE_NOTE: &str = "No score column: NPS and drivers left out.";

/// Most topics in the trend table (the most mentioned over the run).
pub const MAX_TREND_TOPICS: usize = 8;
/// Most periods in the trend table (the latest ones).
pub const MAX_TREND_PERIODS: usize = 12;

/// The figures of a run without scores.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TopicsOnly {
    /// Why there is no NPS, as the page says it first.
    pub note: String,
    /// Responses analysed, and those with a comment.
    pub responses: u64,
    pub comments: u64,
    /// Comments by their sentiment.
    pub negative: u64,
    pub neutral: u64,
    pub positive: u64,
    /// Each topic's share of the comments per period; `None` without dates.
    pub trend: Option<TopicTrend>,
}

/// The most mentioned topics' share of the comments in the latest periods
/// of the finest period kind.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TopicTrend {
    /// `day`, `week`, `month` or `quarter`.
    pub period: String,
    /// The periods' labels, oldest first.
    pub labels: Vec<String>,
    /// Comments in each period.
    pub comments: Vec<u64>,
    pub rows: Vec<TopicTrendRow>,
}

/// One topic of the trend.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TopicTrendRow {
    pub topic: String,
    /// Responses mentioning it, per period.
    pub mentions: Vec<u64>,
    /// Its share of the period's comments (`None`: no comment).
    pub shares: Vec<Option<f64>>,
}

impl ReportData {
    /// The report of a run without scores: `result`'s topic counts, the
    /// manifest, the taxonomy (labels), the alerts and team rates of `analysis` and example
    /// comments per topic, **already masked**. Every NPS field stays empty
    /// and [`ReportData::topics_only`] is set, which renders this page.
    pub fn topics_only(
        result: &PassResult,
        manifest: &RunManifest,
        taxonomy: &Taxonomy,
        analysis: &DriverAnalysis,
        alert_z: f64,
        examples: Vec<TopicExamples>,
    ) -> ReportData {
        let label = |id: &str| taxonomy.label_of(id);
        let min_n = manifest.thresholds.min_n;
        let c = &result.topics;
        let [negative, neutral, positive] = c.whole.sentiment;
        let mut warnings = super::input_warnings(result);
        if result.with_comment == 0 {
            warnings.push("No response has a comment, so there are no topics.".into());
        }
        let file = std::path::Path::new(&manifest.input.path)
            .file_name()
            .map_or_else(
                || manifest.input.path.clone(),
                |f| f.to_string_lossy().into_owned(),
            );
        let dated = c.finest().is_some();
        ReportData {
            title: format!("Topics and sentiment: {file}"),
            source: file,
            run_id: manifest.run_id.clone(),
            run_at: manifest.finished_at.clone(),
            generator: manifest.tool.clone(),
            min_n,
            fdr_q: manifest.thresholds.fdr_q,
            headline: Headline {
                n: result.analysed,
                with_comment: result.with_comment,
                ..Headline::default()
            },
            topics: topic_rows(c, min_n, &label),
            examples: examples
                .into_iter()
                .map(|e| TopicExamples {
                    topic: label(&e.topic),
                    comments: e.comments,
                })
                .collect(),
            warnings,
            manifest_json: serde_json::to_string_pretty(manifest)
                .unwrap_or_else(|e| format!("the manifest could not be written as JSON: {e}")),
            alerts: Some(alerts_of(analysis, alert_z, min_n, dated, &label)),
            team: Some(super::team_of(analysis, min_n, &label)),
            topics_only: Some(TopicsOnly {
                note: NO_SCORE_NOTE.to_string(),
                responses: result.analysed,
                comments: result.with_comment,
                negative,
                neutral,
                positive,
                trend: topic_trend(c, &label),
            }),
            ..ReportData::default()
        }
    }
}

/// Topic × sentiment over the whole run, the most mentioned first; topics
/// nobody mentioned are left out.
fn topic_rows(
    c: &TopicCounts,
    min_n: u64,
    label: &dyn Fn(&str) -> String,
) -> Vec<TopicSentimentRow> {
    c.ranked_topics()
        .into_iter()
        .filter(|(_, m)| m.mentions > 0)
        .map(|(t, m)| TopicSentimentRow {
            topic: label(c.topic_ids.get(t).map_or("", String::as_str)),
            negative: m.negative,
            neutral: m.neutral,
            positive: m.positive,
            net_sentiment: m.net_sentiment(),
            suppressed: m.mentions < min_n,
        })
        .collect()
}

/// The [`MAX_TREND_TOPICS`] most mentioned topics over the latest
/// [`MAX_TREND_PERIODS`] periods of the finest kind; `None` without dates
/// or without a mention.
fn topic_trend(c: &TopicCounts, label: &dyn Fn(&str) -> String) -> Option<TopicTrend> {
    let kind = c.finest()?;
    let periods: Vec<_> = c.of_kind(kind).collect();
    let periods = &periods[periods.len().saturating_sub(MAX_TREND_PERIODS)..];
    let rows: Vec<TopicTrendRow> = c
        .ranked_topics()
        .into_iter()
        .filter(|(_, m)| m.mentions > 0)
        .take(MAX_TREND_TOPICS)
        .map(|(t, _)| TopicTrendRow {
            topic: label(c.topic_ids.get(t).map_or("", String::as_str)),
            mentions: periods
                .iter()
                .map(|p| p.tally.topics.get(t).map_or(0, |m| m.mentions))
                .collect(),
            shares: periods
                .iter()
                .map(|p| p.tally.share_of_comments(t))
                .collect(),
        })
        .collect();
    (!rows.is_empty()).then(|| TopicTrend {
        period: kind.as_str().to_string(),
        labels: periods.iter().map(|p| p.label.clone()).collect(),
        comments: periods.iter().map(|p| p.tally.comments).collect(),
        rows,
    })
}

/// The top of the page: what is left out and why, the counts, the
/// comments' sentiment and a few sentences.
pub(super) fn key_figures(h: &mut String, d: &ReportData, t: &TopicsOnly) {
    h.push_str("<section class=\"key\" aria-labelledby=\"topics-only-heading\">\n<div class=\"nps-card\">\n");
    let _ = write!(
        h,
        "<div class=\"nps-label\" id=\"topics-only-heading\">Comments analysed</div>\n<div class=\"nps-value\" id=\"comments-value\">{}</div>\n<div class=\"nps-ci\" id=\"no-score-note\">{}</div>\n",
        fmt_int(t.comments),
        escape(&t.note)
    );
    h.push_str("<dl class=\"counts\">");
    for (label, v) in [
        ("Responses", t.responses),
        ("With comment", t.comments),
        ("Positive", t.positive),
        ("Neutral", t.neutral),
        ("Negative", t.negative),
    ] {
        let _ = write!(h, "<div><dt>{label}</dt><dd>{}</dd></div>", fmt_int(v));
    }
    h.push_str("</dl>\n</div>\n<div>\n");
    h.push_str(&svg::stacked_bar(
        "sentiment-mix",
        "Positive, neutral and negative comments",
        &[
            svg::Segment {
                label: "Positive",
                count: t.positive,
                fill: svg::GREEN,
            },
            svg::Segment {
                label: "Neutral",
                count: t.neutral,
                fill: svg::PASSIVE,
            },
            svg::Segment {
                label: "Negative",
                count: t.negative,
                fill: svg::RED,
            },
        ],
        640.0,
        26.0,
    ));
    let share = |x: u64| fmt_pct((t.comments > 0).then(|| x as f64 / t.comments as f64));
    let _ = writeln!(
        h,
        "<p class=\"note\"><span class=\"up\">■</span> positive {} · <span class=\"passive\">■</span> neutral {} · <span class=\"down\">■</span> negative {}</p>",
        share(t.positive),
        share(t.neutral),
        share(t.negative)
    );
    h.push_str("<ul class=\"summary\">\n");
    let _ = writeln!(
        h,
        "<li><strong>{}</strong> The export has no score (--no-score), so this page shows topics, sentiment and their trend only.</li>",
        escape(&t.note)
    );
    if let Some(top) = d.topics.first() {
        let _ = writeln!(
            h,
            "<li>Mentioned most: <strong>{}</strong> ({} of {} comments).</li>",
            escape(&top.topic),
            fmt_int(top.mentions()),
            fmt_int(t.comments)
        );
    }
    if let Some(a) = d.alerts.as_ref().filter(|a| a.total > 0) {
        let _ = writeln!(
            h,
            "<li>{} {} in the latest period (see Alerts).</li>",
            a.total,
            if a.total == 1 { "alert" } else { "alerts" }
        );
    }
    h.push_str("</ul>\n</div>\n</section>\n");
}

/// Each of the most mentioned topics' share of the comments per period.
pub(super) fn trend(h: &mut String, t: &TopicsOnly) {
    h.push_str("<section aria-labelledby=\"topic-trend-heading\">\n<h2 id=\"topic-trend-heading\">Topics over time</h2>\n");
    let Some(tr) = &t.trend else {
        h.push_str("<p class=\"note empty\">No dates in the input (or no topic mentioned): no trend.</p>\n</section>\n");
        return;
    };
    let _ = writeln!(
        h,
        "<p class=\"note\">Share of each {}'s comments that mention the topic (responses mentioning it in brackets); the {} most mentioned topics, the latest {} periods. agg_topic has every topic and period.</p>",
        escape(&tr.period),
        tr.rows.len(),
        tr.labels.len()
    );
    h.push_str("<div class=\"table-wrap\"><table class=\"sortable\" id=\"topic-trend-table\">\n<caption>Topic share of comments by period</caption>\n<thead><tr><th scope=\"col\">Topic</th>");
    for (l, n) in tr.labels.iter().zip(&tr.comments) {
        let _ = write!(
            h,
            "<th scope=\"col\" class=\"num\" title=\"{} comments\">{}</th>",
            n,
            escape(l)
        );
    }
    h.push_str("</tr></thead>\n<tbody>\n");
    for r in &tr.rows {
        let _ = write!(h, "<tr><th scope=\"row\">{}</th>", escape(&r.topic));
        for (share, m) in r.shares.iter().zip(&r.mentions) {
            let _ = write!(
                h,
                "<td class=\"num\" data-sort=\"{}\">{} <span class=\"faint\">({})</span></td>",
                sort_key(*share),
                escape(&fmt_pct(*share)),
                fmt_int(*m)
            );
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</tbody>\n</table></div>\n</section>\n");
}

/// The footer sentence of the page.
pub(super) fn footer(d: &ReportData) -> String {
    format!(
        "No score column (--no-score): NPS and its drivers are left out. A topic's share is the responses mentioning it per response with a comment; net sentiment is the mean of −100 (negative), 0 (neutral), +100 (positive) over its mentions. Figures on fewer than {} mentions are greyed and marked “n &lt; {}”: shown, not to be acted on.",
        d.min_n, d.min_n
    )
}
