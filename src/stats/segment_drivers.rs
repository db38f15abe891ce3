//! Drivers by segment: does a topic weigh more in one segment (a site, a
//! team, a channel) than in the rest, and what is an agent or a team praised
//! for, or to be coached on, more often than the others?
//!
//! Both read [`SegmentPatterns`] (one [`crate::stats::patterns::PatternCounts`] per
//! value of a segment column) and compare each value with the *rest* of the
//! column (all other values), never with the whole, so the two sides are
//! independent, as in [`crate::stats::aggregate`].
//!
//! * [`segment_impacts`]: the impact of each topic (NPS(all) − NPS(¬T),
//!   [`crate::stats::drivers`]) in the value and in the rest, their difference and
//!   a z-test with the delta-method variance of each impact with the
//!   prevalence not held fixed (see [`crate::stats::bootstrap`] and
//!   `docs/METHODS.md`).
//! * [`team_view`]: for topic × polarity "topics" ("agent, negative",
//!   "agent, positive"), the share of the value's responses that mention
//!   each against the rest's, with a two-proportion z-test (pooled SE). A
//!   significantly higher rate of a positive mention is what the value is
//!   praised for; of a negative one, what to coach on.
//!
//! Many values times many topics is many tests: one Benjamini–Hochberg
//! family per call, over every comparison of every column given, as
//! METHODS.md ("Many tests at once") asks. A comparison with a side below
//! `min_n` keeps its figures but is flagged `suppressed` and stays out of
//! the family (`bh_significant = None`), for the reasons given in
//! [`crate::stats::aggregate`].

use serde::Serialize;

use crate::classify::Polarity;
use crate::stats::aggregate::benjamini_hochberg;
use crate::stats::bootstrap::{impact, impact_se, topic_name, z_test};
use crate::stats::nps::Nps;
use crate::stats::patterns::{PatternCounts, SegmentPatterns};

/// A topic's impact in one segment value against the rest of its column.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SegmentImpact {
    /// Segment column.
    pub column: String,
    /// Segment value.
    pub value: String,
    /// Topic name.
    pub topic: String,
    /// Responses with this value.
    pub n: u64,
    /// Responses with another value.
    pub n_rest: u64,
    /// Responses with this value that mention the topic.
    pub mentions: u64,
    /// Responses of the rest that mention it.
    pub mentions_rest: u64,
    /// Impact of the topic within the value, in NPS points.
    pub impact: Option<f64>,
    /// Impact of the topic within the rest.
    pub impact_rest: Option<f64>,
    /// impact − impact_rest.
    pub diff: Option<f64>,
    /// √(SE² + SE_rest²), delta method with w not fixed.
    pub se: Option<f64>,
    /// diff / se.
    pub z: Option<f64>,
    /// Two-sided p-value.
    pub p_value: Option<f64>,
    /// n, n_rest, mentions or mentions_rest below `min_n`.
    pub suppressed: bool,
    /// The figures are withheld, not only flagged: mentions and every
    /// figure are written empty ([`crate::stats::privacy`]).
    pub withheld: bool,
    /// Benjamini–Hochberg decision; `None` when not judged.
    pub bh_significant: Option<bool>,
}

/// Per column, per value: the value's counts (all responses, and each
/// topic's mentioners) and the rest's.
struct Sides {
    column: String,
    value: String,
    all: Nps,
    with: Vec<Nps>,
    all_rest: Nps,
    with_rest: Vec<Nps>,
    /// Responses with at least one topic, in the value and in the rest.
    topical: u64,
    topical_rest: u64,
}

fn sides(columns: &[SegmentPatterns]) -> Vec<Sides> {
    let mut out = Vec::new();
    for col in columns {
        let Some(values) = col.values() else {
            continue;
        };
        let k = col.n_topics();
        let per: Vec<(Nps, Vec<Nps>, u64)> = values
            .values()
            .map(|c: &PatternCounts| {
                let mut with = c.topic_nps();
                with.resize(k, Nps::default());
                let empty: u64 = c
                    .patterns()
                    .iter()
                    .filter(|p| p.topics.is_empty())
                    .map(|p| p.count)
                    .sum();
                (c.nps(), with, c.total() - empty)
            })
            .collect();
        let mut total = Nps::default();
        let mut total_with = vec![Nps::default(); k];
        let mut total_topical = 0;
        for (a, w, t) in &per {
            total = total + *a;
            for (x, y) in total_with.iter_mut().zip(w) {
                *x = *x + *y;
            }
            total_topical += t;
        }
        for (value, (all, with, topical)) in values.keys().zip(per) {
            out.push(Sides {
                column: col.column().to_string(),
                value: value.clone(),
                all_rest: total.minus(&all),
                with_rest: total_with
                    .iter()
                    .zip(&with)
                    .map(|(t, w)| t.minus(w))
                    .collect(),
                all,
                with,
                topical,
                topical_rest: total_topical - topical,
            });
        }
    }
    out
}

/// Sets `bh_significant` on the rows that are judged: not suppressed and
/// with a p-value.
fn flag<R>(rows: &mut [R], q: f64, judged: impl Fn(&R) -> Option<f64>, set: impl Fn(&mut R, bool)) {
    let family: Vec<(usize, f64)> = rows
        .iter()
        .enumerate()
        .filter_map(|(i, r)| judged(r).map(|p| (i, p)))
        .collect();
    let p: Vec<f64> = family.iter().map(|&(_, p)| p).collect();
    for (&(i, _), f) in family.iter().zip(benjamini_hochberg(&p, q)) {
        set(&mut rows[i], f);
    }
}

/// Each topic's impact in each value of each column against the rest of
/// the column. Rows: columns in the order given (dropped columns have
/// none), values in byte order, topics in index order. `topics` names the
/// topics (a missing name reads `#i`). Benjamini–Hochberg at rate `q` over
/// all unsuppressed rows of the call.
pub fn segment_impacts(
    columns: &[SegmentPatterns],
    topics: &[String],
    min_n: u64,
    q: f64,
) -> Vec<SegmentImpact> {
    let mut rows = Vec::new();
    for s in sides(columns) {
        for (t, (w, wr)) in s.with.iter().zip(&s.with_rest).enumerate() {
            let (i, ir) = (impact(&s.all, w), impact(&s.all_rest, wr));
            let (se, ser) = (impact_se(&s.all, w), impact_se(&s.all_rest, wr));
            let diff = i.zip(ir).map(|(a, b)| a - b);
            let se = se.zip(ser).map(|(a, b)| (a * a + b * b).sqrt());
            let test = diff.zip(se).map(|(d, s)| z_test(d, s));
            rows.push(SegmentImpact {
                column: s.column.clone(),
                value: s.value.clone(),
                topic: topic_name(topics, t),
                n: s.all.n,
                n_rest: s.all_rest.n,
                mentions: w.n,
                mentions_rest: wr.n,
                impact: i,
                impact_rest: ir,
                diff,
                se,
                z: test.map(|t| t.0),
                p_value: test.map(|t| t.1),
                suppressed: [s.all.n, s.all_rest.n, w.n, wr.n]
                    .iter()
                    .any(|&x| x < min_n),
                withheld: false,
                bh_significant: None,
            });
        }
    }
    flag(
        &mut rows,
        q,
        |r| if r.suppressed { None } else { r.p_value },
        |r, f| r.bh_significant = Some(f),
    );
    rows
}

/// What a topic × polarity "topic" is, for [`team_view`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MentionLabel {
    /// Topic name.
    pub topic: String,
    /// Polarity of the mention.
    pub polarity: Polarity,
}

/// What a mention rate is a share of.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Denominator {
    /// Every response with a score (mentions per response).
    AllResponses,
    /// Responses that mention at least one label (mentions per comment
    /// with a topic), which does not penalise a value whose customers
    /// comment less.
    WithTopics,
}

/// One value's mention rate of one label against the rest.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MentionRate {
    /// Segment column.
    pub column: String,
    /// Segment value.
    pub value: String,
    /// Topic name.
    pub topic: String,
    /// Polarity of the mention.
    pub polarity: Polarity,
    /// Denominator responses with this value.
    pub n: u64,
    /// Denominator responses with another value.
    pub n_rest: u64,
    /// Mentions with this value.
    pub mentions: u64,
    /// Mentions with another value.
    pub mentions_rest: u64,
    /// mentions / n (0..1); `None` when n = 0.
    pub rate: Option<f64>,
    /// mentions_rest / n_rest.
    pub rate_rest: Option<f64>,
    /// rate − rate_rest.
    pub diff: Option<f64>,
    /// Two-proportion z with pooled SE.
    pub z: Option<f64>,
    /// Two-sided p-value.
    pub p_value: Option<f64>,
    /// n or n_rest below `min_n`.
    pub suppressed: bool,
    /// Benjamini–Hochberg decision; `None` when not judged.
    pub bh_significant: Option<bool>,
    /// Significant (BH) and above the rest.
    pub above: bool,
}

/// Result of [`team_view`]: one row per column × value × label.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TeamView {
    /// Columns in the order given, values in byte order, labels in order.
    pub rows: Vec<MentionRate>,
}

impl TeamView {
    fn pick(&self, column: &str, value: &str, polarity: Polarity) -> Vec<&MentionRate> {
        let mut out: Vec<&MentionRate> = self
            .rows
            .iter()
            .filter(|r| r.column == column && r.value == value && r.polarity == polarity && r.above)
            .collect();
        out.sort_by(|a, b| {
            b.diff
                .unwrap_or(0.0)
                .total_cmp(&a.diff.unwrap_or(0.0))
                .then_with(|| a.topic.cmp(&b.topic))
        });
        out
    }

    /// Positive mentions where the value is significantly above the rest,
    /// largest difference first: what it is praised for.
    pub fn praised_for(&self, column: &str, value: &str) -> Vec<&MentionRate> {
        self.pick(column, value, Polarity::Positive)
    }

    /// Negative mentions where the value is significantly above the rest,
    /// largest difference first: what to coach on.
    pub fn coaching_on(&self, column: &str, value: &str) -> Vec<&MentionRate> {
        self.pick(column, value, Polarity::Negative)
    }
}

/// Mention rates of each label (topic × polarity index of the counts) in
/// each value of each column against the rest, with BH flags at rate `q`
/// over every unsuppressed row. `labels[i]` describes topic index `i` of
/// the counts; indices without a label are not reported.
pub fn team_view(
    columns: &[SegmentPatterns],
    labels: &[MentionLabel],
    min_n: u64,
    q: f64,
    denominator: Denominator,
) -> TeamView {
    let mut rows = Vec::new();
    for s in sides(columns) {
        let (n, n_rest) = match denominator {
            Denominator::AllResponses => (s.all.n, s.all_rest.n),
            Denominator::WithTopics => (s.topical, s.topical_rest),
        };
        for (label, (w, wr)) in labels.iter().zip(s.with.iter().zip(&s.with_rest)) {
            let rate = (n > 0).then(|| w.n as f64 / n as f64);
            let rate_rest = (n_rest > 0).then(|| wr.n as f64 / n_rest as f64);
            let diff = rate.zip(rate_rest).map(|(a, b)| a - b);
            let test = diff.map(|d| {
                let pooled = (w.n + wr.n) as f64 / (n + n_rest) as f64;
                let se = (pooled * (1.0 - pooled) * (1.0 / n as f64 + 1.0 / n_rest as f64)).sqrt();
                z_test(d, se)
            });
            rows.push(MentionRate {
                column: s.column.clone(),
                value: s.value.clone(),
                topic: label.topic.clone(),
                polarity: label.polarity,
                n,
                n_rest,
                mentions: w.n,
                mentions_rest: wr.n,
                rate,
                rate_rest,
                diff,
                z: test.map(|t| t.0),
                p_value: test.map(|t| t.1),
                suppressed: n < min_n || n_rest < min_n,
                bh_significant: None,
                above: false,
            });
        }
    }
    flag(
        &mut rows,
        q,
        |r| if r.suppressed { None } else { r.p_value },
        |r, f| {
            r.bh_significant = Some(f);
            r.above = f && r.diff.is_some_and(|d| d > 0.0);
        },
    );
    TeamView { rows }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::nps::Bucket;

    const D: Bucket = Bucket::Detractor;
    const PA: Bucket = Bucket::Passive;
    const P: Bucket = Bucket::Promoter;

    fn close(a: Option<f64>, b: f64, tol: f64) -> bool {
        a.is_some_and(|a| (a - b).abs() <= tol)
    }

    #[test]
    fn hand_computed_segment_impact() {
        // Column "site", topic 0 "wait".
        // north (N = 10): wait mentioned by D, D, D, PA (rows of drivers.rs's
        //   example); not by P, P, P, P, PA, D → impact −50, full-delta
        //   SE² = 605.5556 (see bootstrap.rs).
        // south (N = 4): wait by P, D; not by P, PA.
        //   all: P 2, D 1 → NPS 25; ¬T: P, PA → 50; impact −25.
        //   T: p = d = ½, NPS 0, V_T = 1·1e4 = 1e4 → Var(NPS_T) = 1e4/2 = 5000;
        //   ¬T: p = ½, d = 0: V = ½ − ¼ = ¼ → 2500/2 = 1250.
        //   w = ½: fixed = ¼·6250 = 1562.5; g = −50: w(1 − w)g²/N = ¼·2500/4 = 156.25;
        //   SE² = 1718.75.
        // north vs south: diff = −25, SE = √(605.5556 + 1718.75) = 48.2111, z = −0.518553.
        let mut site = SegmentPatterns::new("site", 1, None);
        for b in [D, D, D, PA] {
            site.add("north", b, &[0]);
        }
        for b in [P, P, P, P, PA, D] {
            site.add("north", b, &[]);
        }
        site.add("south", P, &[0]);
        site.add("south", D, &[0]);
        site.add("south", P, &[]);
        site.add("south", PA, &[]);
        let rows = segment_impacts(&[site], &["wait".to_string()], 2, 0.05);
        assert_eq!(rows.len(), 2);
        let north = &rows[0];
        assert_eq!(
            (north.value.as_str(), north.n, north.n_rest),
            ("north", 10, 4)
        );
        assert_eq!((north.mentions, north.mentions_rest), (4, 2));
        assert!(close(north.impact, -50.0, 1e-9) && close(north.impact_rest, -25.0, 1e-9));
        assert!(close(north.se, (605.5555556f64 + 1718.75).sqrt(), 1e-6));
        assert!(close(
            north.z,
            -25.0 / (605.5555556f64 + 1718.75).sqrt(),
            1e-6
        ));
        let south = &rows[1];
        assert!(close(south.diff, 25.0, 1e-9));
        assert_eq!(north.p_value, south.p_value);
        assert!(!north.suppressed && north.bh_significant == Some(false));
        // With min_n = 3, south's two mentions are too few: out of the family.
        let mut again = SegmentPatterns::new("site", 1, None);
        again.merge(&SegmentPatterns::new("site", 1, None));
        let rows = segment_impacts(&[again], &[], 3, 0.05);
        assert!(rows.is_empty());
    }

    #[test]
    fn team_view_finds_what_an_agent_is_praised_for() {
        // Labels: 0 "agent, positive", 1 "agent, negative".
        // ann: 40 responses, 20 praise the agent; bob and cid: 40 each, 4 praise.
        // ann vs rest: 0.5 vs 8/80 = 0.1; pooled 28/120 = 0.233333;
        // SE = √(0.233333·0.766667·(1/40 + 1/80)) = √0.0067083 = 0.081904;
        // z = 0.4/0.081904 = 4.88376.
        let mut agent = SegmentPatterns::new("agent", 2, None);
        for (name, praise, complaints) in [("ann", 20, 1), ("bob", 4, 10), ("cid", 4, 2)] {
            for i in 0..40 {
                let mut t = Vec::new();
                if i < praise {
                    t.push(0);
                }
                if i >= 40 - complaints {
                    t.push(1);
                }
                agent.add(name, if i % 2 == 0 { P } else { D }, &t);
            }
        }
        let labels = vec![
            MentionLabel {
                topic: "agent".into(),
                polarity: Polarity::Positive,
            },
            MentionLabel {
                topic: "agent".into(),
                polarity: Polarity::Negative,
            },
        ];
        let view = team_view(&[agent], &labels, 30, 0.05, Denominator::AllResponses);
        assert_eq!(view.rows.len(), 6);
        let ann = &view.rows[0];
        assert!(close(ann.rate, 0.5, 1e-12) && close(ann.rate_rest, 0.1, 1e-12));
        assert!(close(ann.z, 4.88376, 1e-4), "{:?}", ann.z);
        let praised: Vec<&str> = view
            .praised_for("agent", "ann")
            .iter()
            .map(|r| r.topic.as_str())
            .collect();
        assert_eq!(praised, ["agent"]);
        assert!(view.coaching_on("agent", "ann").is_empty());
        // bob: 10/40 = 0.25 vs 3/80 = 0.0375: coaching on the agent.
        assert_eq!(view.coaching_on("agent", "bob").len(), 1);
        assert!(view.praised_for("agent", "bob").is_empty());
        // Per response with a topic instead of per response.
        let per_comment = team_view(&[view_counts()], &labels, 1, 0.05, Denominator::WithTopics);
        // x: 2 responses with a topic out of 4; y: 1 of 1.
        assert_eq!((per_comment.rows[0].n, per_comment.rows[0].n_rest), (2, 1));
        assert!(close(per_comment.rows[0].rate, 0.5, 1e-12));
    }

    fn view_counts() -> SegmentPatterns {
        let mut s = SegmentPatterns::new("agent", 2, None);
        s.add("x", P, &[0]);
        s.add("x", D, &[1]);
        s.add("x", P, &[]);
        s.add("x", P, &[]);
        s.add("y", P, &[0]);
        s
    }
}
