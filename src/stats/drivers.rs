//! Topic drivers: how much each topic moves NPS ("what would NPS be without
//! this topic?"), with an interval, a direction and a small-base flag.
//!
//! The figures are those of `docs/METHODS.md` §0, "Topic impact on NPS":
//! Impact_T = NPS(all) − NPS(¬T), which by the identity
//! NPS(all) = w·NPS(T) + (1 − w)·NPS(¬T) equals w·(NPS(T) − NPS(¬T)),
//! prevalence times score gap. The interval is the delta method with the
//! prevalence w = n_T/N held fixed:
//! Var(Impact) ≈ w²·100²·(Var_T/n_T + Var_¬T/n_¬T), Var_X = p + d − (p − d)².
//!
//! The input is deliberately plain (bucket per response, topic indices per
//! response) so this module knows nothing of classifiers or CSV: whatever
//! assigns topics, the statistics are the same and testable by hand.
//! Topics overlap (a comment can mention several), so impacts of different
//! topics do not add up to anything; each answers its own counterfactual.
//! Small topics are kept and flagged `suppressed` rather than dropped, as
//! METHODS asks ("mark it suppressed instead of hiding it silently").
//!
//! Only counts are needed (all responses, and the mentioners of each topic;
//! ¬T is the difference), so [`DriverAccumulator`] takes responses one at a
//! time in memory proportional to the number of topics, for a pipeline that
//! streams its input; [`topic_drivers`] feeds it from slices.

use serde::Serialize;

use crate::stats::nps::{Bucket, Nps, Z95};

/// What [`topic_drivers`] reads.
#[derive(Clone, Copy, Debug)]
pub struct DriverInput<'a> {
    /// Bucket of every response with a score, with or without a comment.
    pub buckets: &'a [Bucket],
    /// `mentions[i]`: indices into `topics` mentioned by response `i`; empty
    /// for responses without a comment or without topics. Same length as
    /// `buckets`. A repeated index counts once; an index past the end of
    /// `topics` is ignored.
    pub mentions: &'a [Vec<usize>],
    /// Topic names, one driver per entry, in this order.
    pub topics: &'a [String],
    /// Topics mentioned by fewer responses than this are flagged `suppressed`.
    pub min_n: u64,
}

/// Which way a topic moves NPS, judged by its 95% interval.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// The whole interval of the impact lies below 0.
    PullsDown,
    /// The whole interval of the impact lies above 0.
    PullsUp,
    /// The interval contains 0, or there is no interval.
    Neutral,
}

/// One topic's effect on NPS. Figures are in NPS points (−100..100) except
/// the shares (0..1); `None` marks a figure that is undefined for this data.
#[derive(Clone, Debug, Serialize)]
pub struct Driver {
    /// Topic name.
    pub topic: String,
    /// n_T: responses that mention the topic.
    pub mentions: u64,
    /// Detractors mentioning T / all detractors; `None` without detractors.
    pub share_of_detractors: Option<f64>,
    /// Promoters mentioning T / all promoters; `None` without promoters.
    pub share_of_promoters: Option<f64>,
    /// NPS(T) among the responses that mention T; `None` when n_T = 0.
    pub nps_mentions: Option<f64>,
    /// NPS(¬T) among all other responses; `None` when every response mentions T.
    pub nps_without: Option<f64>,
    /// NPS(all) − NPS(¬T). Exactly 0 when nobody mentions T (¬T is
    /// everyone). `None` when everybody mentions T: there is no "NPS without
    /// the topic" to compare with, and the counterfactual is meaningless.
    pub impact: Option<f64>,
    /// Lower end of the 95% delta-method interval of `impact`.
    pub impact_ci_low: Option<f64>,
    /// Upper end of the 95% delta-method interval of `impact`.
    pub impact_ci_high: Option<f64>,
    /// Sign of the impact where its interval excludes 0.
    pub direction: Direction,
    /// n_T < `min_n`: shown but not to be ranked or read as a finding.
    pub suppressed: bool,
}

/// Incremental form of [`topic_drivers`], for responses read in chunks.
///
/// Every figure of a [`Driver`] follows from two sets of counts: those of all
/// responses and those of the responses that mention the topic (¬T is their
/// difference). So the accumulator keeps one [`Nps`] overall and one per
/// topic, and its memory grows with the number of topics, never with the
/// number of responses. [`topic_drivers`] is this accumulator fed from slices.
#[derive(Clone, Debug)]
pub struct DriverAccumulator {
    topics: Vec<String>,
    /// Every response added, with or without a comment.
    all: Nps,
    /// `with[t]`: responses that mention topic `t`.
    with: Vec<Nps>,
    /// `last_seen[t]` is the number (1-based) of the last response that
    /// counted topic `t`, so a topic repeated in one response's list is
    /// counted once without a per-response set.
    last_seen: Vec<u64>,
}

impl DriverAccumulator {
    /// An empty accumulator with one driver per topic, in this order.
    pub fn new(topics: Vec<String>) -> DriverAccumulator {
        let k = topics.len();
        DriverAccumulator {
            topics,
            all: Nps::default(),
            with: vec![Nps::default(); k],
            last_seen: vec![0; k],
        }
    }

    /// One response with a score: its bucket and the topic indices it
    /// mentions (empty for a response without a comment or without topics;
    /// it still counts in NPS(all)). A repeated index counts once; an index
    /// past the end of the topics is ignored.
    pub fn add(&mut self, bucket: Bucket, mentions: &[usize]) {
        self.all.add(bucket);
        let this = self.all.n;
        for &t in mentions {
            if let (Some(seen), Some(with)) = (self.last_seen.get_mut(t), self.with.get_mut(t)) {
                if *seen != this {
                    *seen = this;
                    with.add(bucket);
                }
            }
        }
    }

    /// One [`Driver`] per topic, in the order given to
    /// [`new`](DriverAccumulator::new); topics mentioned by fewer than
    /// `min_n` responses are flagged `suppressed`. Does not consume the
    /// counts, so a stream can report as it goes.
    pub fn finish(&self, min_n: u64) -> Vec<Driver> {
        self.topics
            .iter()
            .zip(&self.with)
            .map(|(topic, t)| driver(topic, &self.all, t, min_n))
            .collect()
    }
}

/// Computes one [`Driver`] per topic, in the order of `input.topics`.
///
/// Every response in `buckets` counts in NPS(all), with or without a comment,
/// as METHODS requires. A thin wrapper over [`DriverAccumulator`] for input
/// that is already in memory.
///
/// # Panics
///
/// If `buckets` and `mentions` differ in length: that is a caller bug that
/// would silently shift topics onto the wrong responses.
pub fn topic_drivers(input: &DriverInput) -> Vec<Driver> {
    assert_eq!(
        input.buckets.len(),
        input.mentions.len(),
        "topic_drivers: one mention list per scored response"
    );
    let mut acc = DriverAccumulator::new(input.topics.to_vec());
    for (&bucket, topics) in input.buckets.iter().zip(input.mentions) {
        acc.add(bucket, topics);
    }
    acc.finish(input.min_n)
}

/// Figures for one topic from the counts of all responses and of its mentioners.
fn driver(topic: &str, all: &Nps, t: &Nps, min_n: u64) -> Driver {
    let without = Nps {
        n: all.n - t.n,
        promoters: all.promoters - t.promoters,
        passives: all.passives - t.passives,
        detractors: all.detractors - t.detractors,
    };
    let share = |part: u64, whole: u64| (whole > 0).then(|| part as f64 / whole as f64);
    let nps_all = all.score();
    let nps_mentions = t.score();
    let nps_without = without.score();
    let impact = match (nps_all, nps_without) {
        // Nobody mentions T: ¬T is everyone and the impact is exactly 0,
        // not a float difference of two equal sums.
        _ if t.n == 0 && all.n > 0 => Some(0.0),
        (Some(a), Some(w)) => Some(a - w),
        _ => None,
    };
    let se = impact_se(all, t, &without);
    let (impact_ci_low, impact_ci_high) = match (impact, se) {
        (Some(i), Some(se)) => (Some(i - Z95 * se), Some(i + Z95 * se)),
        _ => (None, None),
    };
    let direction = match (impact_ci_low, impact_ci_high) {
        (_, Some(high)) if high < 0.0 => Direction::PullsDown,
        (Some(low), _) if low > 0.0 => Direction::PullsUp,
        _ => Direction::Neutral,
    };
    Driver {
        topic: topic.to_string(),
        mentions: t.n,
        share_of_detractors: share(t.detractors, all.detractors),
        share_of_promoters: share(t.promoters, all.promoters),
        nps_mentions,
        nps_without,
        impact,
        impact_ci_low,
        impact_ci_high,
        direction,
        suppressed: t.n < min_n,
    }
}

/// Delta-method SE of the impact with w fixed:
/// √(w²·(Var(NPS_T) + Var(NPS_¬T))), where [`Nps::variance`] is already
/// 100²·Var_X/n_X. With n_T = 0 the weight is 0 and so is the SE (the
/// impact is exactly 0); with n_¬T = 0 there is no impact and no SE.
fn impact_se(all: &Nps, t: &Nps, without: &Nps) -> Option<f64> {
    if all.n == 0 || without.n == 0 {
        return None;
    }
    if t.n == 0 {
        return Some(0.0);
    }
    let w = t.n as f64 / all.n as f64;
    Some(w * (t.variance()? + without.variance()?).sqrt())
}

/// Drivers worth reporting, split by direction. Owned copies so the ranking
/// can outlive the full list and be serialised on its own.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Ranking {
    /// [`Direction::PullsDown`], not suppressed, most negative impact first.
    pub low: Vec<Driver>,
    /// [`Direction::PullsUp`], not suppressed, most positive impact first.
    pub high: Vec<Driver>,
}

/// Ranks drivers whose interval excludes 0, leaving out suppressed ones.
/// Ties are broken by more mentions, then by topic name, so the order is
/// the same on every run.
pub fn rank(drivers: &[Driver]) -> Ranking {
    let pick = |dir: Direction| -> Vec<Driver> {
        drivers
            .iter()
            .filter(|d| d.direction == dir && !d.suppressed && d.impact.is_some())
            .cloned()
            .collect()
    };
    let tie = |a: &Driver, b: &Driver| b.mentions.cmp(&a.mentions).then(a.topic.cmp(&b.topic));
    let impact = |d: &Driver| d.impact.unwrap_or(0.0);
    let mut low = pick(Direction::PullsDown);
    low.sort_by(|a, b| impact(a).total_cmp(&impact(b)).then_with(|| tie(a, b)));
    let mut high = pick(Direction::PullsUp);
    high.sort_by(|a, b| impact(b).total_cmp(&impact(a)).then_with(|| tie(a, b)));
    Ranking { low, high }
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: Bucket = Bucket::Detractor;
    const PA: Bucket = Bucket::Passive;
    const P: Bucket = Bucket::Promoter;

    fn close(a: Option<f64>, b: f64, tol: f64) -> bool {
        a.is_some_and(|a| (a - b).abs() <= tol)
    }

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    /// Ten responses; topic 0 "wait" is mentioned by rows 0–3.
    fn example() -> (Vec<Bucket>, Vec<Vec<usize>>) {
        let buckets = vec![D, D, D, PA, P, P, P, P, PA, D];
        let mentions = vec![
            vec![0],
            vec![0, 1],
            vec![0, 0], // repeated mention counts once
            vec![0],
            vec![1],
            vec![1],
            vec![],
            vec![],
            vec![],
            vec![],
        ];
        (buckets, mentions)
    }

    #[test]
    fn hand_computed_example() {
        // All: P = 4, passives 2, D = 4, N = 10 → NPS 0.
        // T ("wait", rows 0–3): D, D, D, PA → n_T = 4, p = 0, d = 0.75, NPS(T) = −75,
        //   Var_T = 0 + 0.75 − 0.75² = 0.1875.
        // ¬T (rows 4–9): P, P, P, P, PA, D → n = 6, p = 4/6, d = 1/6, NPS(¬T) = 50,
        //   Var_¬T = 5/6 − 0.5² = 0.5833333.
        // Impact = 0 − 50 = −50  (= w·(NPS_T − NPS_¬T) = 0.4·(−125)).
        // Var(Impact) = 0.4²·100²·(0.1875/4 + 0.5833333/6)
        //             = 1600·(0.046875 + 0.0972222) = 1600·0.1440972 = 230.5556,
        // SE = 15.184056, Z95·SE = 29.760203 → CI [−79.760203, −20.239797]: pulls down.
        // share_of_detractors = 3/4; share_of_promoters = 0/4.
        let (buckets, mentions) = example();
        let topics = names(&["wait", "friendly"]);
        let input = DriverInput {
            buckets: &buckets,
            mentions: &mentions,
            topics: &topics,
            min_n: 3,
        };
        let drivers = topic_drivers(&input);
        assert_eq!(drivers.len(), 2);
        let wait = &drivers[0];
        assert_eq!(wait.topic, "wait");
        assert_eq!(wait.mentions, 4);
        assert!(close(wait.nps_mentions, -75.0, 1e-12));
        assert!(close(wait.nps_without, 50.0, 1e-12));
        assert!(close(wait.impact, -50.0, 1e-12));
        assert!(
            close(wait.impact_ci_low, -79.760203, 1e-5),
            "{:?}",
            wait.impact_ci_low
        );
        assert!(
            close(wait.impact_ci_high, -20.239797, 1e-5),
            "{:?}",
            wait.impact_ci_high
        );
        assert_eq!(wait.direction, Direction::PullsDown);
        assert!(close(wait.share_of_detractors, 0.75, 1e-12));
        assert!(close(wait.share_of_promoters, 0.0, 1e-12));
        assert!(!wait.suppressed);

        // "friendly" (rows 1, 4, 5): D, P, P → n_T = 3, NPS(T) = 100/3;
        // ¬T: D, D, PA, P, P, PA, D → NPS(¬T) = 100·(2 − 3)/7 = −14.2857;
        // impact = 0 + 14.2857 = 14.2857. Interval is wide → neutral.
        let friendly = &drivers[1];
        assert_eq!(friendly.mentions, 3);
        assert!(close(friendly.impact, 100.0 / 7.0, 1e-9));
        assert_eq!(friendly.direction, Direction::Neutral);
        assert!(close(friendly.share_of_promoters, 0.5, 1e-12));
    }

    #[test]
    fn identity_all_equals_weighted_parts() {
        // A larger constructed case: bucket by i mod 3, topic mentioned on
        // rows where i mod 4 == 0 or i mod 7 == 0.
        let buckets: Vec<Bucket> = (0..200)
            .map(|i| match i % 3 {
                0 => D,
                1 => PA,
                _ => P,
            })
            .collect();
        let mentions: Vec<Vec<usize>> = (0..200)
            .map(|i| {
                if i % 4 == 0 || i % 7 == 0 {
                    vec![0]
                } else {
                    vec![]
                }
            })
            .collect();
        let topics = names(&["t"]);
        let drivers = topic_drivers(&DriverInput {
            buckets: &buckets,
            mentions: &mentions,
            topics: &topics,
            min_n: 0,
        });
        let d = &drivers[0];
        let n = buckets.len() as f64;
        let w = d.mentions as f64 / n;
        let all = Nps::from_buckets(buckets.iter().copied()).score();
        let (t, not_t) = (
            d.nps_mentions.unwrap_or(f64::NAN),
            d.nps_without.unwrap_or(f64::NAN),
        );
        assert!(close(all, w * t + (1.0 - w) * not_t, 1e-9));
        assert!(close(d.impact, w * (t - not_t), 1e-9));
    }

    #[test]
    fn topic_mentioned_by_nobody() {
        let (buckets, mentions) = example();
        let topics = names(&["wait", "friendly", "parking"]);
        let drivers = topic_drivers(&DriverInput {
            buckets: &buckets,
            mentions: &mentions,
            topics: &topics,
            min_n: 1,
        });
        let p = &drivers[2];
        assert_eq!(p.mentions, 0);
        assert_eq!(p.nps_mentions, None);
        assert!(close(p.nps_without, 0.0, 1e-12));
        assert_eq!(p.impact, Some(0.0));
        assert_eq!((p.impact_ci_low, p.impact_ci_high), (Some(0.0), Some(0.0)));
        assert_eq!(p.direction, Direction::Neutral);
        assert_eq!(p.share_of_detractors, Some(0.0));
        assert!(p.suppressed);
    }

    #[test]
    fn topic_mentioned_by_everyone() {
        let buckets = vec![D, P, P];
        let mentions = vec![vec![0], vec![0], vec![0]];
        let topics = names(&["everything"]);
        let drivers = topic_drivers(&DriverInput {
            buckets: &buckets,
            mentions: &mentions,
            topics: &topics,
            min_n: 1,
        });
        let e = &drivers[0];
        assert_eq!(e.mentions, 3);
        assert!(close(e.nps_mentions, 100.0 / 3.0, 1e-12));
        assert_eq!(e.nps_without, None);
        assert_eq!(e.impact, None);
        assert_eq!((e.impact_ci_low, e.impact_ci_high), (None, None));
        assert_eq!(e.direction, Direction::Neutral);
        assert_eq!(e.share_of_promoters, Some(1.0));
    }

    #[test]
    fn no_responses_and_missing_buckets() {
        let topics = names(&["t"]);
        let drivers = topic_drivers(&DriverInput {
            buckets: &[],
            mentions: &[],
            topics: &topics,
            min_n: 0,
        });
        let d = &drivers[0];
        assert_eq!((d.mentions, d.impact, d.nps_without), (0, None, None));
        assert_eq!((d.share_of_detractors, d.share_of_promoters), (None, None));

        // Only passives: shares undefined, topic out of range ignored.
        let buckets = vec![PA, PA];
        let mentions = vec![vec![0, 9], vec![]];
        let drivers = topic_drivers(&DriverInput {
            buckets: &buckets,
            mentions: &mentions,
            topics: &topics,
            min_n: 0,
        });
        assert_eq!(drivers[0].mentions, 1);
        assert_eq!(drivers[0].share_of_detractors, None);
        assert_eq!(drivers[0].impact, Some(0.0));
    }

    fn made(topic: &str, mentions: u64, impact: f64, dir: Direction, suppressed: bool) -> Driver {
        Driver {
            topic: topic.to_string(),
            mentions,
            share_of_detractors: None,
            share_of_promoters: None,
            nps_mentions: None,
            nps_without: None,
            impact: Some(impact),
            impact_ci_low: Some(impact - 1.0),
            impact_ci_high: Some(impact + 1.0),
            direction: dir,
            suppressed,
        }
    }

    #[test]
    fn rank_orders_and_leaves_out_suppressed_and_neutral() {
        use Direction::*;
        let drivers = vec![
            made("a", 50, -3.0, PullsDown, false),
            made("b", 50, -9.0, PullsDown, false),
            made("c", 2, -20.0, PullsDown, true),
            made("d", 50, 4.0, PullsUp, false),
            made("e", 50, 7.0, PullsUp, false),
            made("f", 50, 0.5, Neutral, false),
            made("g", 80, -3.0, PullsDown, false),
            made("h", 3, 30.0, PullsUp, true),
        ];
        let r = rank(&drivers);
        let low: Vec<&str> = r.low.iter().map(|d| d.topic.as_str()).collect();
        let high: Vec<&str> = r.high.iter().map(|d| d.topic.as_str()).collect();
        // "g" ties "a" on impact and wins on mentions.
        assert_eq!(low, ["b", "g", "a"]);
        assert_eq!(high, ["e", "d"]);
    }

    #[test]
    fn suppression_flags_but_keeps_the_row() {
        let (buckets, mentions) = example();
        let topics = names(&["wait", "friendly"]);
        let drivers = topic_drivers(&DriverInput {
            buckets: &buckets,
            mentions: &mentions,
            topics: &topics,
            min_n: 5,
        });
        assert_eq!(drivers.len(), 2);
        assert!(drivers.iter().all(|d| d.suppressed));
        assert!(close(drivers[0].impact, -50.0, 1e-12));
        assert_eq!(drivers[0].direction, Direction::PullsDown);
        let r = rank(&drivers);
        assert!(r.low.is_empty() && r.high.is_empty());
    }

    #[test]
    fn serialises_direction_in_snake_case() {
        let json = serde_json::to_string(&Direction::PullsDown).unwrap_or_default();
        assert_eq!(json, "\"pulls_down\"");
    }
    /// The slice implementation `topic_drivers` had before
    /// [`DriverAccumulator`], kept as it was as the reference.
    fn per_slice_reference(input: &DriverInput) -> Vec<Driver> {
        let k = input.topics.len();
        let all = Nps::from_buckets(input.buckets.iter().copied());
        let mut with = vec![Nps::default(); k];
        let mut last_seen = vec![0usize; k];
        for (i, (&bucket, topics)) in input.buckets.iter().zip(input.mentions).enumerate() {
            for &t in topics {
                if t < k && last_seen[t] != i + 1 {
                    last_seen[t] = i + 1;
                    with[t].add(bucket);
                }
            }
        }
        input
            .topics
            .iter()
            .zip(with)
            .map(|(topic, t)| driver(topic, &all, &t, input.min_n))
            .collect()
    }

    /// Drivers as text: `Debug` prints every `f64` exactly, so equal
    /// strings mean bit-identical figures.
    fn as_text(drivers: &[Driver]) -> Vec<String> {
        drivers.iter().map(|d| format!("{d:?}")).collect()
    }

    #[test]
    fn accumulator_matches_the_wrapper_on_generated_data() {
        // A fixed linear congruential generator: the same data on every run.
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut below = |n: u64| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 33) % n
        };
        // Topic 0 mostly among detractors, topic 1 among promoters, topic 2
        // everywhere, topic 3 never; up to four mentions per response, with
        // repeats and indices past the end (6, 7).
        let topics = names(&["wait", "friendly", "price", "parking", "app", "billing"]);
        let rows = 700;
        let mut buckets = Vec::with_capacity(rows);
        let mut mentions = Vec::with_capacity(rows);
        for _ in 0..rows {
            let b = match below(11) {
                0..=6 => D,
                7 | 8 => PA,
                _ => P,
            };
            let mut m = Vec::new();
            for _ in 0..below(5) {
                let t = below(8) as usize;
                if t != 3 {
                    m.push(t);
                }
            }
            if b == D && below(2) == 0 {
                m.push(0);
            }
            if b == P && below(2) == 0 {
                m.push(1);
            }
            buckets.push(b);
            mentions.push(m);
        }
        for min_n in [0, 30, 200] {
            let input = DriverInput {
                buckets: &buckets,
                mentions: &mentions,
                topics: &topics,
                min_n,
            };
            let wrapper = topic_drivers(&input);
            assert_eq!(as_text(&wrapper), as_text(&per_slice_reference(&input)));

            // Fed as a stream in chunks, reporting part-way, and in reverse
            // order: only the counts matter, so the figures are identical.
            let mut acc = DriverAccumulator::new(topics.clone());
            for (chunk_b, chunk_m) in buckets.chunks(64).zip(mentions.chunks(64)) {
                for (&b, m) in chunk_b.iter().zip(chunk_m) {
                    acc.add(b, m);
                }
                assert_eq!(acc.finish(min_n).len(), topics.len());
            }
            assert_eq!(as_text(&acc.finish(min_n)), as_text(&wrapper));
            let mut rev = DriverAccumulator::new(topics.clone());
            for (&b, m) in buckets.iter().zip(&mentions).rev() {
                rev.add(b, m);
            }
            assert_eq!(as_text(&rev.finish(min_n)), as_text(&wrapper));

            // The data exercise both directions, a neutral topic and an
            // unmentioned one.
            assert_eq!(wrapper[0].direction, Direction::PullsDown);
            assert_eq!(wrapper[1].direction, Direction::PullsUp);
            assert_eq!(wrapper[3].mentions, 0);
            assert!(wrapper
                .iter()
                .any(|d| d.direction == Direction::Neutral && d.mentions > 0));
        }
    }
}
