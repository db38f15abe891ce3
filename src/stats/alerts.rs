//! Alerts: topics whose last period departs from their own history.
//!
//! For each topic and each period of the run's finest period kind, two
//! figures are read from the per-period pattern counts:
//!
//! * **share**: responses mentioning the topic / all responses of the
//!   period (comment-less ones included, so a rise in comments without a
//!   rise in the topic does not look like a spike of the topic);
//! * **net sentiment**: (positive − negative mentions) / all mentions of the
//!   topic, in −1..1 (neutral mentions count in the denominator).
//!
//! The last period is compared with the trailing history: the up to
//! [`HISTORY_MAX`] periods before it in which the figure exists; at least
//! [`HISTORY_MIN`] are needed, otherwise there is no verdict. The departure
//! is
//!
//! z = (x_last − mean_hist) / √(sd_hist² + se_last²)
//!
//! where sd_hist is the sample standard deviation of the history (how much
//! the figure moves from period to period) and se_last the sampling error of
//! the last period's figure at the pooled level p of history and last
//! period together: √(p(1 − p)/n_last) for a share, √((1 − p²)/m_last) for
//! net sentiment (the variance bound of a −1/0/+1 code with mean p). The
//! second term keeps a flat history (sd 0) from turning any wobble into an
//! infinite z, and makes a small last period need a larger departure. An
//! alert fires when |z| ≥ the threshold (`--alert-z`, 3 by default) and the
//! last period's base (responses for a share, mentions for net sentiment)
//! is at least `min_n`.

use chrono::NaiveDate;
use serde::Serialize;

use crate::stats::bootstrap::topic_name;
use crate::stats::patterns::PatternCounts;

/// Periods of history used at most.
pub const HISTORY_MAX: usize = 8;
/// Periods of history needed at least.
pub const HISTORY_MIN: usize = 3;
/// Default z threshold.
pub const DEFAULT_Z: f64 = 3.0;

/// Counts of one period of the finest kind.
#[derive(Clone, Debug)]
pub struct PeriodCounts {
    /// First day of the period.
    pub start: NaiveDate,
    /// [`crate::stats::aggregate::Period::label`] of the period.
    pub label: String,
    /// Any-mention counts over the topics.
    pub any: PatternCounts,
    /// Topic × polarity counts: topic `t` negative at `t`, positive at `k + t`.
    pub polar: PatternCounts,
}

/// Which figure departed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Share of responses that mention the topic.
    Share,
    /// Net sentiment of the topic's mentions.
    NetSentiment,
}

impl Metric {
    /// Name as written in the outputs.
    pub fn as_str(self) -> &'static str {
        match self {
            Metric::Share => "share",
            Metric::NetSentiment => "net_sentiment",
        }
    }
}

/// One fired alert, with the figures behind it.
#[derive(Clone, Debug, PartialEq)]
pub struct Alert {
    pub period_label: String,
    pub period_start: NaiveDate,
    pub topic: String,
    pub metric: Metric,
    /// The figure in the last period.
    pub value: f64,
    /// Mean of the history.
    pub history_mean: f64,
    /// Sample standard deviation of the history.
    pub history_sd: f64,
    /// Periods in the history.
    pub history_periods: usize,
    /// Sampling error of the last period's figure.
    pub se_last: f64,
    pub z: f64,
    /// Responses in the last period.
    pub n: u64,
    /// Mentions of the topic in the last period.
    pub mentions: u64,
}

/// One period as the alerts read it: its responses and, per topic,
/// (responses mentioning it, positive, negative). Made from the driver
/// statistics' [`PeriodCounts`], or without scores from
/// [`crate::stats::topic_counts::TopicCounts::alert_series`]: both count
/// the same responses the same way.
#[derive(Clone, Debug, PartialEq)]
pub struct PeriodSeries {
    /// First day of the period.
    pub start: NaiveDate,
    pub label: String,
    /// All responses of the period, comment-less ones included.
    pub responses: u64,
    /// (mentions, positive, negative) of each topic, in topic order.
    pub topics: Vec<TopicFigures>,
}

/// A topic's (mentions, positive, negative) in one period.
pub type TopicFigures = (u64, u64, u64);

/// Each period's responses, and (mentions, positive, negative) of each topic.
fn series(periods: &[PeriodCounts], k: usize) -> Vec<PeriodSeries> {
    periods
        .iter()
        .map(|p| {
            let any = p.any.topic_nps();
            let pol = p.polar.topic_nps();
            let get = |v: &[crate::stats::nps::Nps], i: usize| v.get(i).map_or(0, |x| x.n);
            PeriodSeries {
                start: p.start,
                label: p.label.clone(),
                responses: p.any.total(),
                topics: (0..k)
                    .map(|t| (get(&any, t), get(&pol, k + t), get(&pol, t)))
                    .collect(),
            }
        })
        .collect()
}

fn mean_sd(x: &[f64]) -> (f64, f64) {
    let n = x.len() as f64;
    let mean = x.iter().sum::<f64>() / n;
    let var = if x.len() > 1 {
        x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)
    } else {
        0.0
    };
    (mean, var.sqrt())
}

/// The alerts of the last period of `periods` (in chronological order);
/// see the module docs. `topics` names the `k` topics.
pub fn alerts(
    periods: &[PeriodCounts],
    topics: &[String],
    z_threshold: f64,
    min_n: u64,
) -> Vec<Alert> {
    alerts_of_series(&series(periods, topics.len()), topics, z_threshold, min_n)
}

/// [`alerts`] from periods already reduced to what the alerts read.
pub fn alerts_of_series(
    s: &[PeriodSeries],
    topics: &[String],
    z_threshold: f64,
    min_n: u64,
) -> Vec<Alert> {
    let Some(last) = s.last() else {
        return Vec::new();
    };
    let k = topics.len();
    let (n_last, last_t) = (&last.responses, &last.topics);
    let history: Vec<(u64, &[TopicFigures])> = s[..s.len() - 1]
        .iter()
        .map(|p| (p.responses, p.topics.as_slice()))
        .collect();
    let zero = (0, 0, 0);
    let mut out = Vec::new();
    for t in 0..k {
        let m_last = last_t.get(t).unwrap_or(&zero).0;
        for metric in [Metric::Share, Metric::NetSentiment] {
            // (figure, numerator, denominator) per period where defined.
            let fig = |n: u64, (m, pos, neg): (u64, u64, u64)| -> Option<(f64, f64, f64)> {
                match metric {
                    Metric::Share => (n > 0).then(|| (m as f64 / n as f64, m as f64, n as f64)),
                    Metric::NetSentiment => (m > 0).then(|| {
                        let net = pos as f64 - neg as f64;
                        (net / m as f64, net, m as f64)
                    }),
                }
            };
            let Some((x, num_last, den_last)) = fig(*n_last, *last_t.get(t).unwrap_or(&zero))
            else {
                continue;
            };
            let base = match metric {
                Metric::Share => *n_last,
                Metric::NetSentiment => m_last,
            };
            if base < min_n {
                continue;
            }
            let hist: Vec<(f64, f64, f64)> = history
                .iter()
                .rev()
                .filter_map(|(n, v)| fig(*n, *v.get(t).unwrap_or(&zero)))
                .take(HISTORY_MAX)
                .collect();
            if hist.len() < HISTORY_MIN {
                continue;
            }
            let values: Vec<f64> = hist.iter().map(|h| h.0).collect();
            let (mean, sd) = mean_sd(&values);
            let pooled = (num_last + hist.iter().map(|h| h.1).sum::<f64>())
                / (den_last + hist.iter().map(|h| h.2).sum::<f64>());
            let se = match metric {
                Metric::Share => (pooled * (1.0 - pooled) / den_last).max(0.0).sqrt(),
                Metric::NetSentiment => ((1.0 - pooled * pooled) / den_last).max(0.0).sqrt(),
            };
            let denom = (sd * sd + se * se).sqrt();
            if denom <= 0.0 || !denom.is_finite() {
                continue;
            }
            let z = (x - mean) / denom;
            if z.abs() >= z_threshold {
                out.push(Alert {
                    period_label: last.label.clone(),
                    period_start: last.start,
                    topic: topic_name(topics, t),
                    metric,
                    value: x,
                    history_mean: mean,
                    history_sd: sd,
                    history_periods: hist.len(),
                    se_last: se,
                    z,
                    n: *n_last,
                    mentions: m_last,
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::nps::Bucket;

    /// A period of `n` responses, `m` of them mentioning topic 0 (all
    /// negative) and none topic 1.
    fn period(day: u32, n: u64, m: u64) -> PeriodCounts {
        let mut any = PatternCounts::new(2);
        let mut polar = PatternCounts::new(4);
        any.add_count(Bucket::Detractor, &[0], m);
        polar.add_count(Bucket::Detractor, &[0], m);
        any.add_count(Bucket::Promoter, &[], n - m);
        polar.add_count(Bucket::Promoter, &[], n - m);
        PeriodCounts {
            start: NaiveDate::from_ymd_opt(2026, 1, day).unwrap(),
            label: format!("d{day}"),
            any,
            polar,
        }
    }

    fn names() -> Vec<String> {
        vec!["billing".into(), "price".into()]
    }

    #[test]
    fn a_spike_fires_and_a_steady_series_does_not() {
        // History 10, 12, 8, 10 of 100: mean 10%, sd of (0.10, 0.12, 0.08,
        // 0.10) = √(0.0008/3) = 0.01633. Last 40 of 100, pooled p = 80/500
        // = 0.16, se = √(0.16·0.84/100) = 0.03666; z = 0.30/√(0.01633² +
        // 0.03666²) = 0.30/0.04013 = 7.47.
        let p: Vec<PeriodCounts> = [10, 12, 8, 10, 40]
            .iter()
            .enumerate()
            .map(|(i, &m)| period(i as u32 + 1, 100, m))
            .collect();
        let a = alerts(&p, &names(), 3.0, 30);
        assert_eq!(a.len(), 1, "{a:?}");
        assert_eq!(
            (a[0].topic.as_str(), a[0].metric),
            ("billing", Metric::Share)
        );
        assert!((a[0].z - 7.4755).abs() < 1e-3, "{}", a[0].z);
        assert_eq!(a[0].history_periods, 4);
        // Net sentiment stays −1 in every period: no departure, no alert.
        let steady: Vec<PeriodCounts> = [10, 12, 8, 10, 11]
            .iter()
            .enumerate()
            .map(|(i, &m)| period(i as u32 + 1, 100, m))
            .collect();
        assert!(alerts(&steady, &names(), 3.0, 30).is_empty());
        // Too little history: no verdict.
        assert!(alerts(&p[2..], &names(), 3.0, 30).is_empty());
        // Last period below min_n: no verdict.
        assert!(alerts(&p, &names(), 3.0, 101).is_empty());
    }

    #[test]
    fn topic_counts_without_scores_give_the_same_alerts() {
        use crate::classify::{CommentAnalysis, Polarity, Sentiment, TopicHit};
        use crate::stats::aggregate::Period;
        use crate::stats::topic_counts::TopicCountsAccumulator;
        let negative_billing = CommentAnalysis {
            sentiment: Sentiment {
                label: Polarity::Negative,
                score: -0.9,
                confidence: 0.9,
            },
            clauses: vec!["bill wrong".into()],
            clause_sentiment: Vec::new(),
            topics: vec![TopicHit {
                topic: 0,
                similarity: 0.9,
                confidence: 0.9,
                clause: 0,
                polarity: Polarity::Negative,
            }],
            language: None,
        };
        let spike = [10u64, 12, 8, 10, 40];
        let mut acc = TopicCountsAccumulator::new(&names(), &[Period::Day]);
        for (i, &m) in spike.iter().enumerate() {
            let d = NaiveDate::from_ymd_opt(2026, 1, i as u32 + 1);
            for j in 0..100 {
                acc.add((j < m).then_some(&negative_billing), d);
            }
        }
        let counts = acc.finish();
        let series = counts.alert_series(Period::Day);
        let without = alerts_of_series(&series, &names(), 3.0, 30);
        let p: Vec<PeriodCounts> = spike
            .iter()
            .enumerate()
            .map(|(i, &m)| period(i as u32 + 1, 100, m))
            .collect();
        let with = alerts(&p, &names(), 3.0, 30);
        assert_eq!(without.len(), 1, "{without:?}");
        let figures = |a: &Alert| {
            (
                a.topic.clone(),
                a.metric,
                a.z,
                a.n,
                a.mentions,
                a.period_start,
            )
        };
        assert_eq!(figures(&without[0]), figures(&with[0]));
    }
}
