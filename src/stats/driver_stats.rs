//! The driver statistics of one `verbatim analyze` run: what the pass
//! counts ([`DriverCountsAccumulator`]) and what is computed from the
//! counts at the end ([`analyse`]).
//!
//! The pass keeps only counts, never a vector per response, so memory does
//! not grow with the rows: [`PatternCounts`] for any mention and for topic ×
//! polarity, a [`SegmentPatterns`] per aggregated segment column and per
//! team column, per-period counts of the finest period kind, the number of
//! sentiment mismatches and a bounded [`FollowupQueue`]. Everything else
//! (bootstrap intervals, key-driver models, shift-share, segment drivers,
//! team view, alerts) is computed from those counts by the modules that own
//! the statistics; this file only decides which counts feed which.
//!
//! Topic × polarity counts index topic `t`'s negative mentions as `t` and
//! its positive mentions as `k + t` (neutral mentions count only in the
//! any-mention counts); [`crate::stats::alerts::PeriodCounts`] uses the same layout.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use crate::classify::Polarity;
use crate::stats::aggregate::Period;
use crate::stats::alerts::{alerts, Alert, PeriodCounts};
use crate::stats::bootstrap::{bootstrap_impacts, BootstrapSettings, ImpactBootstrap};
use crate::stats::followup::{sentiment_mismatch, Followup, FollowupQueue};
use crate::stats::keydrivers::{key_drivers, KeyDriverSettings, KeyDrivers};
use crate::stats::patterns::{PatternCounts, SegmentPatterns};
use crate::stats::response::{AnalyzedResponse, DriverScope};
use crate::stats::segment_drivers::{
    segment_impacts, team_view, Denominator, MentionLabel, SegmentImpact, TeamView,
};
use crate::stats::shift_share::{shift_share, ShiftShare};

/// A team column keeps at most this many values (agents) before it is
/// dropped as free text.
pub const TEAM_MAX_VALUES: usize = 10_000;

/// Column names read as a team, agent or queue column (compared in lower
/// case after snake-casing, so `Agent Name` and `agentName` match).
pub const TEAM_COLUMN_NAMES: &[&str] = &[
    "agent",
    "agent_name",
    "agent_id",
    "team",
    "team_name",
    "queue",
    "queue_name",
    "employee",
    "employee_name",
    "mitarbeiter",
    "mitarbeiterin",
    "mitarbeiter_name",
    "sachbearbeiter",
    "medewerker",
    "agente",
    "equipo",
    "equipe",
    "équipe",
    "conseiller",
    "operator",
];

/// True when a segment column's name reads as a team, agent or queue.
pub fn is_team_column(name: &str) -> bool {
    // Snake-case as written (agentName → agent_name) and in lower case
    // (TEAM → team).
    let as_written = crate::input::names::snake(name);
    let lower = crate::input::names::snake(&name.to_lowercase());
    TEAM_COLUMN_NAMES.contains(&as_written.as_str()) || TEAM_COLUMN_NAMES.contains(&lower.as_str())
}

/// The finest of `periods` (day before week before month before quarter).
pub fn finest(periods: &[Period]) -> Option<Period> {
    Period::ALL.into_iter().find(|p| periods.contains(p))
}

/// Per-period counts under construction.
#[derive(Default)]
struct PeriodAcc {
    any: Option<PatternCounts>,
    polar: Option<PatternCounts>,
}

/// Counts kept during the pass; see the module docs.
pub struct DriverCountsAccumulator {
    k: usize,
    any: PatternCounts,
    polar: PatternCounts,
    segments: Vec<(usize, SegmentPatterns)>,
    teams: Vec<(usize, SegmentPatterns)>,
    period: Option<Period>,
    periods: BTreeMap<NaiveDate, PeriodAcc>,
    mismatches: u64,
    followup: FollowupQueue,
    // Scratch lists, reused from response to response.
    any_t: Vec<usize>,
    polar_t: Vec<usize>,
}

/// What the pass counted, for [`analyse`].
#[derive(Debug)]
pub struct DriverCounts {
    /// Any-mention counts.
    pub any: PatternCounts,
    /// Topic × polarity counts.
    pub polar: PatternCounts,
    /// Any-mention counts per value of each aggregated segment column.
    pub segments: Vec<SegmentPatterns>,
    /// Topic × polarity counts per value of each team column.
    pub teams: Vec<SegmentPatterns>,
    /// The period kind of [`periods`](Self::periods).
    pub period: Option<Period>,
    /// Counts per period of that kind, chronological.
    pub periods: Vec<PeriodCounts>,
    /// Detractors with a positive comment plus promoters with a negative one.
    pub mismatches: u64,
    /// Responses that qualified for follow-up.
    pub followup_candidates: u64,
    /// The highest-risk follow-ups, ranked.
    pub followups: Vec<Followup>,
}

impl DriverCounts {
    /// Counts of nothing (a pass result built by hand, or once taken).
    pub fn empty() -> DriverCounts {
        DriverCounts {
            any: PatternCounts::new(0),
            polar: PatternCounts::new(0),
            segments: Vec::new(),
            teams: Vec::new(),
            period: None,
            periods: Vec::new(),
            mismatches: 0,
            followup_candidates: 0,
            followups: Vec::new(),
        }
    }
}

/// The segment columns of the input and which of them get driver counts.
pub struct SegmentColumns<'a> {
    /// Names of all segment columns, in input order.
    pub names: &'a [String],
    /// Aggregated columns (indices into `names`).
    pub aggregated: &'a [usize],
    /// An aggregated column past this many values is dropped (as the NPS
    /// aggregates do).
    pub max_values: Option<usize>,
    /// Team columns (indices into `names`).
    pub teams: &'a [usize],
}

impl DriverCountsAccumulator {
    /// Empty counts, with a [`SegmentPatterns`] per aggregated and per team
    /// column of `segments`; `period` is the kind of the per-period counts
    /// (`None`: no dates); at most `followup_limit` follow-ups are kept,
    /// their comments masked when `redact`.
    pub fn new(
        topic_ids: &[String],
        segments: &SegmentColumns,
        period: Option<Period>,
        followup_limit: usize,
        redact: bool,
    ) -> Self {
        let k = topic_ids.len();
        let name = |i: usize| segments.names.get(i).cloned().unwrap_or_default();
        DriverCountsAccumulator {
            k,
            any: PatternCounts::new(k),
            polar: PatternCounts::new(2 * k),
            segments: segments
                .aggregated
                .iter()
                .map(|&i| (i, SegmentPatterns::new(name(i), k, segments.max_values)))
                .collect(),
            teams: segments
                .teams
                .iter()
                .map(|&i| {
                    (
                        i,
                        SegmentPatterns::new(name(i), 2 * k, Some(TEAM_MAX_VALUES)),
                    )
                })
                .collect(),
            period,
            periods: BTreeMap::new(),
            mismatches: 0,
            followup: FollowupQueue::new(followup_limit, topic_ids).with_redaction(redact),
            any_t: Vec::new(),
            polar_t: Vec::new(),
        }
    }

    /// The names of the open questions, when there are several (see
    /// [`FollowupQueue::with_questions`]).
    pub fn with_questions(mut self, questions: &[String]) -> Self {
        self.followup = self.followup.with_questions(questions);
        self
    }

    /// Counts one analysed response. One without a score (a run without
    /// scores) counts only in the team rates: [`team_view`] reads mentions
    /// per response and never the bucket, so a placeholder bucket stands in.
    pub fn add(&mut self, a: &AnalyzedResponse) {
        self.any_t.clear();
        self.polar_t.clear();
        if let Some(an) = &a.analysis {
            for h in &an.topics {
                self.any_t.push(h.topic);
                match h.polarity {
                    Polarity::Negative => self.polar_t.push(h.topic),
                    Polarity::Positive => self.polar_t.push(self.k + h.topic),
                    Polarity::Neutral => {}
                }
            }
        }
        let value = |i: usize| a.response.segments.get(i).map_or("", String::as_str);
        let Some(b) = a.bucket else {
            for (i, s) in &mut self.teams {
                s.add(value(*i), crate::stats::nps::Bucket::Passive, &self.polar_t);
            }
            return;
        };
        self.any.add(b, &self.any_t);
        self.polar.add(b, &self.polar_t);
        for (i, s) in &mut self.segments {
            s.add(value(*i), b, &self.any_t);
        }
        for (i, s) in &mut self.teams {
            s.add(value(*i), b, &self.polar_t);
        }
        if let (Some(kind), Some(d)) = (self.period, a.when.date) {
            let p = self.periods.entry(kind.start(d)).or_default();
            p.any
                .get_or_insert_with(|| PatternCounts::new(self.k))
                .add(b, &self.any_t);
            p.polar
                .get_or_insert_with(|| PatternCounts::new(2 * self.k))
                .add(b, &self.polar_t);
        }
        if sentiment_mismatch(b, a.analysis.as_ref()) == Some(true) {
            self.mismatches += 1;
        }
        self.followup.add(a);
    }

    /// The counts, for [`analyse`].
    pub fn finish(self) -> DriverCounts {
        let kind = self.period;
        let k = self.k;
        DriverCounts {
            any: self.any,
            polar: self.polar,
            segments: self.segments.into_iter().map(|s| s.1).collect(),
            teams: self.teams.into_iter().map(|s| s.1).collect(),
            period: kind,
            periods: self
                .periods
                .into_iter()
                .filter_map(|(start, p)| {
                    Some(PeriodCounts {
                        start,
                        label: kind?.label(start),
                        any: p.any.unwrap_or_else(|| PatternCounts::new(k)),
                        polar: p.polar.unwrap_or_else(|| PatternCounts::new(2 * k)),
                    })
                })
                .collect(),
            mismatches: self.mismatches,
            followup_candidates: self.followup.candidates(),
            followups: self.followup.finish(),
        }
    }
}

/// Settings of [`analyse`].
#[derive(Clone, Copy, Debug)]
pub struct AnalysisSettings {
    /// Minimum base (mentions, responses) below which figures are suppressed.
    pub min_n: u64,
    /// False discovery rate of the Benjamini–Hochberg flags.
    pub fdr: f64,
    /// Replicates, seed and level of every bootstrap.
    pub bootstrap: BootstrapSettings,
    /// z threshold of the alerts.
    pub alert_z: f64,
}

/// ΔNPS between the last period and the one just before it.
#[derive(Clone, Debug)]
pub struct PeriodChange {
    pub period: Period,
    pub before_label: String,
    pub before_start: NaiveDate,
    pub after_label: String,
    pub after_start: NaiveDate,
    pub shift: ShiftShare,
}

/// Everything computed from the counts.
pub struct DriverAnalysis {
    /// Bootstrap of each scope, in [`DriverScope::ALL`] order.
    pub impacts: Vec<(DriverScope, ImpactBootstrap)>,
    pub key: KeyDrivers,
    /// `None` without dates, or when the last period has no neighbour just
    /// before it (a gap is never bridged, as in `agg_nps`).
    pub change: Option<PeriodChange>,
    pub segments: Vec<SegmentImpact>,
    pub team: TeamView,
    pub team_columns: Vec<String>,
    pub alerts: Vec<Alert>,
    pub followups: Vec<Followup>,
    pub followup_candidates: u64,
    pub mismatches: u64,
}

impl DriverAnalysis {
    /// The analysis of a run without scores (`--no-score`): no driver, no
    /// key-driver model, no ΔNPS, no segment figure, nobody to call back;
    /// only the `alerts`, which read topic counts alone
    /// ([`crate::stats::topic_counts::TopicCounts::alert_series`]), and the
    /// team rates of `counts` ([`team_rates`]), which need no score either.
    pub fn topics_only(
        alerts: Vec<Alert>,
        counts: &DriverCounts,
        topics: &[String],
        s: &AnalysisSettings,
    ) -> DriverAnalysis {
        let (team, team_columns) = team_rates(counts, topics, s);
        DriverAnalysis {
            impacts: Vec::new(),
            key: KeyDrivers {
                n: 0,
                topics_in_model: Vec::new(),
                warnings: Vec::new(),
                linear: None,
                detractor: None,
                promoter: None,
                relative_weights: Vec::new(),
                bootstrap: s.bootstrap,
                valid_replicates: 0,
            },
            change: None,
            segments: Vec::new(),
            team,
            team_columns,
            alerts,
            followups: Vec::new(),
            followup_candidates: 0,
            mismatches: 0,
        }
    }
}

/// Counts of one scope: any mention, or only negative / positive ones read
/// as plain topics.
fn scope_counts(c: &DriverCounts, k: usize, scope: DriverScope) -> PatternCounts {
    let offset = match scope {
        DriverScope::Any => return c.any.clone(),
        DriverScope::Negative => 0,
        DriverScope::Positive => k,
    };
    let map: Vec<Option<usize>> = (0..2 * k)
        .map(|i| (i >= offset && i < offset + k).then(|| i - offset))
        .collect();
    c.polar.project(&map, k)
}

/// Computes every driver statistic from the counts; see the module docs.
pub fn analyse(c: DriverCounts, topics: &[String], s: &AnalysisSettings) -> DriverAnalysis {
    let k = topics.len();
    let impacts = DriverScope::ALL
        .iter()
        .map(|&scope| {
            let counts = scope_counts(&c, k, scope);
            (
                scope,
                bootstrap_impacts(&counts, topics, &s.bootstrap, s.min_n, s.fdr),
            )
        })
        .collect();
    let key = key_drivers(
        &c.any,
        topics,
        &KeyDriverSettings {
            min_n: s.min_n,
            bootstrap: s.bootstrap,
            ..Default::default()
        },
    );
    let change = c.period.and_then(|kind| {
        let last = c.periods.last()?;
        let want = kind.previous_start(last.start);
        let before = c.periods.iter().rev().nth(1).filter(|p| p.start == want)?;
        Some(PeriodChange {
            period: kind,
            before_label: before.label.clone(),
            before_start: before.start,
            after_label: last.label.clone(),
            after_start: last.start,
            shift: shift_share(&before.any, &last.any, topics)?,
        })
    });
    let segments = segment_impacts(&c.segments, topics, s.min_n, s.fdr);
    let (team, team_columns) = team_rates(&c, topics, s);
    let alerts = alerts(&c.periods, topics, s.alert_z, s.min_n);
    DriverAnalysis {
        impacts,
        key,
        change,
        segments,
        team,
        team_columns,
        alerts,
        followups: c.followups,
        followup_candidates: c.followup_candidates,
        mismatches: c.mismatches,
    }
}

/// Negative and positive mention rates of each team value against the
/// rest ([`team_view`]), and the team columns kept.
fn team_rates(
    c: &DriverCounts,
    topics: &[String],
    s: &AnalysisSettings,
) -> (TeamView, Vec<String>) {
    let labels: Vec<MentionLabel> = [Polarity::Negative, Polarity::Positive]
        .iter()
        .flat_map(|&polarity| {
            topics.iter().map(move |t| MentionLabel {
                topic: t.clone(),
                polarity,
            })
        })
        .collect();
    let team = team_view(&c.teams, &labels, s.min_n, s.fdr, Denominator::AllResponses);
    let team_columns = c
        .teams
        .iter()
        .filter(|t| !t.is_dropped())
        .map(|t| t.column().to_string())
        .collect();
    (team, team_columns)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn responses_without_a_score_count_in_the_team_rates_only() {
        use crate::classify::{CommentAnalysis, Sentiment, TopicHit};
        let topics = vec!["billing".to_string(), "service".to_string()];
        let names = vec!["agent".to_string()];
        let columns = SegmentColumns {
            names: &names,
            aggregated: &[],
            max_values: None,
            teams: &[0],
        };
        let mut acc = DriverCountsAccumulator::new(&topics, &columns, None, 10, false);
        let neutral = Sentiment {
            label: Polarity::Neutral,
            score: 0.0,
            confidence: 0.9,
        };
        let response = |agent: &str, hit: Option<(usize, Polarity)>| AnalyzedResponse {
            response: crate::input::Response {
                line: 2,
                id: agent.into(),
                score: None,
                comment: "c".into(),
                more_comments: Vec::new(),
                segments: vec![agent.into()],
            },
            bucket: None,
            when: crate::input::dates::When::default(),
            analysis: Some(CommentAnalysis {
                sentiment: neutral,
                clauses: vec!["c".into()],
                clause_sentiment: vec![neutral],
                topics: hit
                    .map(|(topic, polarity)| TopicHit {
                        topic,
                        similarity: 0.9,
                        confidence: 0.9,
                        clause: 0,
                        polarity,
                    })
                    .into_iter()
                    .collect(),
                language: None,
            }),
            answers: Vec::new(),
        };
        for _ in 0..3 {
            acc.add(&response("ann", Some((0, Polarity::Negative))));
        }
        acc.add(&response("bob", Some((0, Polarity::Negative))));
        for _ in 0..4 {
            acc.add(&response("bob", Some((1, Polarity::Positive))));
        }
        let counts = acc.finish();
        // No NPS count: there is no score to count.
        assert_eq!((counts.any.total(), counts.polar.total()), (0, 0));
        let settings = AnalysisSettings {
            min_n: 1,
            fdr: 0.05,
            bootstrap: BootstrapSettings::default(),
            alert_z: 3.0,
        };
        let a = DriverAnalysis::topics_only(Vec::new(), &counts, &topics, &settings);
        assert_eq!(a.team_columns, ["agent"]);
        let rate = |value: &str, topic: &str, polarity: Polarity| {
            let r = a
                .team
                .rows
                .iter()
                .find(|r| r.value == value && r.topic == topic && r.polarity == polarity)
                .unwrap();
            (r.n, r.mentions, r.n_rest, r.mentions_rest)
        };
        assert_eq!(rate("ann", "billing", Polarity::Negative), (3, 3, 5, 1));
        assert_eq!(rate("bob", "service", Polarity::Positive), (5, 4, 3, 0));
        assert_eq!(rate("ann", "service", Polarity::Positive), (3, 0, 5, 4));
    }

    #[test]
    fn team_columns_by_name() {
        for yes in [
            "Agent",
            "agent_name",
            "Agent Name",
            "TEAM",
            "Queue",
            "Mitarbeiter",
            "employee",
            "agentName",
        ] {
            assert!(is_team_column(yes), "{yes}");
        }
        for no in ["channel", "region", "agentur", "teams_channel"] {
            assert!(!is_team_column(no), "{no}");
        }
    }

    #[test]
    fn finest_period() {
        assert_eq!(
            finest(&[Period::Quarter, Period::Week, Period::Month]),
            Some(Period::Week)
        );
        assert_eq!(finest(&[]), None);
    }

    #[test]
    fn scope_counts_read_polarity_as_topics() {
        use crate::stats::nps::Bucket;
        let mut polar = PatternCounts::new(4); // k = 2
        polar.add(Bucket::Detractor, &[0, 3]); // topic 0 negative, topic 1 positive
        polar.add(Bucket::Promoter, &[2]); // topic 0 positive
        let c = DriverCounts {
            any: PatternCounts::new(2),
            polar,
            segments: vec![],
            teams: vec![],
            period: None,
            periods: vec![],
            mismatches: 0,
            followup_candidates: 0,
            followups: vec![],
        };
        let neg = scope_counts(&c, 2, DriverScope::Negative).topic_nps();
        let pos = scope_counts(&c, 2, DriverScope::Positive).topic_nps();
        assert_eq!((neg[0].detractors, neg[1].n), (1, 0));
        assert_eq!((pos[0].promoters, pos[1].detractors), (1, 1));
    }
}
