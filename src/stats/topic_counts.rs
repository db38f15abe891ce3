//! Topic counts that need no score: how many responses and comments a
//! period has, how many of them mention each topic and in which polarity,
//! and the sentiment of the comments. They make the `agg_topic` table of
//! every run and, in a run without scores (`--no-score`), the report's and
//! the console's topic figures and the alerts' input.
//!
//! Counts are per response, as the driver statistics count them: a response
//! mentions a topic or not, and counts as positive (neutral, negative) for
//! it when a clause that mentions it is positive (neutral, negative). With
//! one open question a topic is in one clause of a comment only, so
//! positive + neutral + negative = mentions; with several, a response whose
//! answers mention the topic in two polarities counts in both.
//!
//! Net sentiment is docs/METHODS.md's ("Sentiment aggregates"): the mean
//! over the mentions of −100 / 0 / +100, i.e. 100·(positive − negative) /
//! mentions. Share of comments is mentions / responses with a comment.
//!
//! The rows follow `agg_nps`'s order: the whole run first, then each period
//! kind in the order given, its periods in chronological order; within
//! each, the topics in taxonomy order. Every topic has a row in every period
//! that has responses, zero mentions included, so that a trend line has no
//! holes. Responses without a date count in the whole-run rows only.
//! Memory grows with periods × topics, never with the rows.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use crate::classify::{CommentAnalysis, Polarity};
use crate::stats::aggregate::Period;
use crate::stats::alerts::PeriodSeries;

/// How responses mention one topic.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Mentions {
    /// Responses that mention the topic.
    pub mentions: u64,
    /// …in a positive clause.
    pub positive: u64,
    /// …in a neutral clause.
    pub neutral: u64,
    /// …in a negative clause.
    pub negative: u64,
}

impl Mentions {
    /// 100·(positive − negative) / mentions, in −100..100; `None` without
    /// mentions.
    pub fn net_sentiment(&self) -> Option<f64> {
        (self.mentions > 0)
            .then(|| 100.0 * (self.positive as f64 - self.negative as f64) / self.mentions as f64)
    }
}

/// The counts of one group of responses: the whole run, or one period.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TopicTally {
    /// Responses analysed.
    pub responses: u64,
    /// Responses with a comment.
    pub comments: u64,
    /// Comments by their own sentiment: negative, neutral, positive.
    pub sentiment: [u64; 3],
    /// Each topic, in taxonomy order.
    pub topics: Vec<Mentions>,
}

impl TopicTally {
    fn new(k: usize) -> TopicTally {
        TopicTally {
            topics: vec![Mentions::default(); k],
            ..TopicTally::default()
        }
    }

    /// Counts one response: its comment's analysis (`None`: no comment) and
    /// its topics with their polarities ([`topic_flags`]).
    fn add(&mut self, analysis: Option<&CommentAnalysis>, flags: &[(usize, [bool; 3])]) {
        self.responses += 1;
        let Some(a) = analysis else {
            return;
        };
        self.comments += 1;
        self.sentiment[polarity_index(a.sentiment.label)] += 1;
        for &(t, [neg, neu, pos]) in flags {
            if let Some(m) = self.topics.get_mut(t) {
                m.mentions += 1;
                m.negative += u64::from(neg);
                m.neutral += u64::from(neu);
                m.positive += u64::from(pos);
            }
        }
    }

    /// Responses mentioning topic `t` per response with a comment; `None`
    /// without comments.
    pub fn share_of_comments(&self, t: usize) -> Option<f64> {
        let m = self.topics.get(t)?.mentions;
        (self.comments > 0).then(|| m as f64 / self.comments as f64)
    }
}

fn polarity_index(p: Polarity) -> usize {
    match p {
        Polarity::Negative => 0,
        Polarity::Neutral => 1,
        Polarity::Positive => 2,
    }
}

/// Each topic an analysis mentions, once, with the polarities of the
/// clauses that mention it (negative, neutral, positive), in taxonomy order.
fn topic_flags(analysis: Option<&CommentAnalysis>, out: &mut Vec<(usize, [bool; 3])>) {
    out.clear();
    let Some(a) = analysis else {
        return;
    };
    for h in &a.topics {
        let i = match out.iter().position(|(t, _)| *t == h.topic) {
            Some(i) => i,
            None => {
                out.push((h.topic, [false; 3]));
                out.len() - 1
            }
        };
        out[i].1[polarity_index(h.polarity)] = true;
    }
    out.sort_unstable_by_key(|x| x.0);
}

/// One period of one kind, with its counts.
#[derive(Clone, Debug, PartialEq)]
pub struct PeriodTally {
    pub period: Period,
    /// First day of the period.
    pub start: NaiveDate,
    /// [`Period::label`] of the period (`2026-W02`, `2026-01`…).
    pub label: String,
    pub tally: TopicTally,
}

/// What the pass counted: the whole run and each period.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TopicCounts {
    /// The topics' ids, in taxonomy order.
    pub topic_ids: Vec<String>,
    pub whole: TopicTally,
    /// Each period kind in the order given, its periods chronological.
    pub periods: Vec<PeriodTally>,
}

/// Counts kept during the pass; see the module docs.
pub struct TopicCountsAccumulator {
    topic_ids: Vec<String>,
    whole: TopicTally,
    /// The period kinds, with their periods by start day.
    kinds: Vec<(Period, BTreeMap<NaiveDate, TopicTally>)>,
    k: usize,
    /// Reused from response to response.
    flags: Vec<(usize, [bool; 3])>,
}

impl TopicCountsAccumulator {
    /// Empty counts of the topics `topic_ids`, per period of each of
    /// `periods` (none without a date column).
    pub fn new(topic_ids: &[String], periods: &[Period]) -> TopicCountsAccumulator {
        let k = topic_ids.len();
        TopicCountsAccumulator {
            topic_ids: topic_ids.to_vec(),
            whole: TopicTally::new(k),
            kinds: periods.iter().map(|&p| (p, BTreeMap::new())).collect(),
            k,
            flags: Vec::new(),
        }
    }

    /// Counts one response: its analysis (`None`: no comment) and its date
    /// (`None`: whole-run rows only).
    pub fn add(&mut self, analysis: Option<&CommentAnalysis>, date: Option<NaiveDate>) {
        let mut flags = std::mem::take(&mut self.flags);
        topic_flags(analysis, &mut flags);
        self.whole.add(analysis, &flags);
        if let Some(d) = date {
            for (kind, periods) in &mut self.kinds {
                periods
                    .entry(kind.start(d))
                    .or_insert_with(|| TopicTally::new(self.k))
                    .add(analysis, &flags);
            }
        }
        self.flags = flags;
    }

    pub fn finish(self) -> TopicCounts {
        TopicCounts {
            topic_ids: self.topic_ids,
            whole: self.whole,
            periods: self
                .kinds
                .into_iter()
                .flat_map(|(period, periods)| {
                    periods.into_iter().map(move |(start, tally)| PeriodTally {
                        period,
                        start,
                        label: period.label(start),
                        tally,
                    })
                })
                .collect(),
        }
    }
}

/// One row of `agg_topic`.
#[derive(Clone, Debug, PartialEq)]
pub struct TopicAggRow {
    pub topic: String,
    /// `None` on the whole-run rows.
    pub period: Option<Period>,
    pub period_start: Option<NaiveDate>,
    /// Empty on the whole-run rows.
    pub period_label: String,
    pub responses: u64,
    pub comments: u64,
    pub mentions: Mentions,
    pub share_of_comments: Option<f64>,
    pub net_sentiment: Option<f64>,
    /// Fewer than `min_n` mentions: shown, not to be acted on.
    pub suppressed: bool,
}

impl TopicCounts {
    /// The periods of `kind`, chronological.
    pub fn of_kind(&self, kind: Period) -> impl Iterator<Item = &PeriodTally> {
        self.periods.iter().filter(move |p| p.period == kind)
    }

    /// The finest period kind that has periods (day before week…).
    pub fn finest(&self) -> Option<Period> {
        Period::ALL
            .into_iter()
            .find(|&k| self.of_kind(k).next().is_some())
    }

    /// The periods of `kind` as the alerts read them
    /// ([`crate::stats::alerts::alerts_of_series`]).
    pub fn alert_series(&self, kind: Period) -> Vec<PeriodSeries> {
        self.of_kind(kind)
            .map(|p| PeriodSeries {
                start: p.start,
                label: p.label.clone(),
                responses: p.tally.responses,
                topics: p
                    .tally
                    .topics
                    .iter()
                    .map(|m| (m.mentions, m.positive, m.negative))
                    .collect(),
            })
            .collect()
    }

    /// Each topic index with its mentions over the whole run, the most
    /// mentioned first (ties in taxonomy order).
    pub fn ranked_topics(&self) -> Vec<(usize, Mentions)> {
        let mut v: Vec<(usize, Mentions)> = self.whole.topics.iter().copied().enumerate().collect();
        v.sort_by(|a, b| b.1.mentions.cmp(&a.1.mentions).then(a.0.cmp(&b.0)));
        v
    }

    /// The rows of `agg_topic` (see the module docs); figures on fewer than
    /// `min_n` mentions are marked suppressed.
    pub fn rows(&self, min_n: u64) -> Vec<TopicAggRow> {
        let topics = &self.topic_ids;
        let whole = std::iter::once((None, &self.whole));
        let periods = self.periods.iter().map(|p| (Some(p), &p.tally));
        whole
            .chain(periods)
            .flat_map(|(p, tally)| {
                topics.iter().enumerate().map(move |(t, id)| {
                    let m = tally.topics.get(t).copied().unwrap_or_default();
                    TopicAggRow {
                        topic: id.clone(),
                        period: p.map(|p| p.period),
                        period_start: p.map(|p| p.start),
                        period_label: p.map_or_else(String::new, |p| p.label.clone()),
                        responses: tally.responses,
                        comments: tally.comments,
                        mentions: m,
                        share_of_comments: tally.share_of_comments(t),
                        net_sentiment: m.net_sentiment(),
                        suppressed: m.mentions < min_n,
                    }
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::{Sentiment, TopicHit};

    fn analysis(label: Polarity, topics: &[(usize, Polarity)]) -> CommentAnalysis {
        CommentAnalysis {
            sentiment: Sentiment {
                label,
                score: 0.0,
                confidence: 1.0,
            },
            clauses: vec!["x".into()],
            clause_sentiment: Vec::new(),
            topics: topics
                .iter()
                .map(|&(topic, polarity)| TopicHit {
                    topic,
                    similarity: 0.9,
                    confidence: 0.9,
                    clause: 0,
                    polarity,
                })
                .collect(),
            language: None,
        }
    }

    fn day(d: u32) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(2026, 1, d)
    }

    #[test]
    fn counts_by_hand_over_the_run_and_its_weeks() {
        use Polarity::*;
        let names = vec!["billing".to_string(), "price".to_string()];
        let mut acc = TopicCountsAccumulator::new(&names, &[Period::Week]);
        // Week of Jan 5: billing negative twice, once with price positive.
        acc.add(Some(&analysis(Negative, &[(0, Negative)])), day(5));
        acc.add(
            Some(&analysis(Neutral, &[(0, Negative), (1, Positive)])),
            day(6),
        );
        // A response without a comment, and one without a date.
        acc.add(None, day(7));
        acc.add(Some(&analysis(Positive, &[(0, Positive)])), None);
        // Week of Jan 12: a comment without a topic, and billing neutral.
        acc.add(Some(&analysis(Positive, &[])), day(12));
        acc.add(Some(&analysis(Neutral, &[(0, Neutral)])), day(13));
        let c = acc.finish();
        assert_eq!((c.whole.responses, c.whole.comments), (6, 5));
        assert_eq!(c.whole.sentiment, [1, 2, 2]);
        assert_eq!(
            c.whole.topics[0],
            Mentions {
                mentions: 4,
                positive: 1,
                neutral: 1,
                negative: 2
            }
        );
        let weeks: Vec<(&str, u64, u64)> = c
            .of_kind(Period::Week)
            .map(|p| {
                (
                    p.label.as_str(),
                    p.tally.responses,
                    p.tally.topics[0].mentions,
                )
            })
            .collect();
        assert_eq!(weeks, [("2026-W02", 3, 2), ("2026-W03", 2, 1)]);
        let rows = c.rows(2);
        // Two topics × (whole run + two weeks), zero mentions included.
        assert_eq!(rows.len(), 6);
        let whole = &rows[0];
        assert_eq!((whole.period, whole.period_label.as_str()), (None, ""));
        // 4 of 5 comments; (1 − 2)/4 = −25.
        assert_eq!(whole.share_of_comments, Some(0.8));
        assert_eq!(whole.net_sentiment, Some(-25.0));
        assert!(!whole.suppressed);
        assert!(rows[1].suppressed, "price: 1 mention < 2");
        let w3_price = &rows[5];
        assert_eq!(
            (w3_price.topic.as_str(), w3_price.period_label.as_str()),
            ("price", "2026-W03")
        );
        assert_eq!(
            (w3_price.mentions.mentions, w3_price.net_sentiment),
            (0, None)
        );
        assert_eq!(w3_price.share_of_comments, Some(0.0));
    }

    #[test]
    fn a_topic_in_two_polarities_of_one_response_counts_once_as_a_mention() {
        use Polarity::*;
        let mut acc = TopicCountsAccumulator::new(&["billing".to_string()], &[]);
        acc.add(
            Some(&analysis(Neutral, &[(0, Positive), (0, Negative)])),
            day(1),
        );
        let c = acc.finish();
        assert!(c.periods.is_empty());
        let m = c.whole.topics[0];
        assert_eq!((m.mentions, m.positive, m.negative), (1, 1, 1));
        assert_eq!(m.net_sentiment(), Some(0.0));
    }
}
