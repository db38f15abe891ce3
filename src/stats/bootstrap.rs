//! Seeded bootstrap intervals for topic impact and for the NPS of a topic's
//! mentions, computed from [`PatternCounts`] in O(patterns) per replicate.
//!
//! METHODS.md ("Topic impact on NPS") asks for a bootstrap over responses:
//! resample N responses with replacement, recompute, take the percentile
//! interval. Drawing N responses with replacement from N is the same as
//! drawing how many times each response is picked from a multinomial with
//! equal probabilities; and since responses with the same pattern are
//! interchangeable, it is the same again as drawing how many responses of
//! each *pattern* are picked, multinomial(N; c₁/N, …, c_P/N). We draw that
//! multinomial exactly, as a chain of binomials (x₁ ~ Bin(N, c₁/N),
//! x₂ ~ Bin(N − x₁, c₂/(N − c₁)), …), with the many small patterns pooled
//! and drawn response by response (see `Resampler` below), so one replicate
//! costs O(patterns) instead of O(N).
//!
//! Reproducibility: replicate b uses a ChaCha8 generator seeded with the
//! seed and set to stream b, and the patterns are visited in the canonical
//! order of [`PatternCounts::patterns`]. So a rerun with the same seed gives
//! bit-identical intervals, whatever the number of threads, the chunking of
//! the input or the order of the responses.
//!
//! The impact is the one of [`crate::stats::drivers`]: Impact_T = NPS(all) −
//! NPS(¬T), exactly 0 when nobody mentions T and undefined when everybody
//! does. Intervals are percentile intervals over the replicates in which the
//! statistic is defined (a replicate without any mention of T has no NPS of
//! mentions); `valid_replicates` says how many that was.
//!
//! The p-value for the Benjamini–Hochberg flag is the delta-method z of the
//! impact with the prevalence w *not* held fixed (see `docs/METHODS.md`):
//! Var(Impact) = [w·V_T + w²/(1 − w)·V_¬T + w(1 − w)·g²]/N, where V are the
//! per-response variances of the ±100 code and g = NPS(T) − NPS(¬T). The
//! first two terms are the fixed-w variance of [`crate::stats::drivers`]; the last
//! is the sampling variation of the prevalence, which the bootstrap also
//! sees. A z is used rather than the bootstrap's own two-sided p because it
//! does not depend on the seed and is not floored at 1/B, which matters when
//! BH compares small p-values across many topics.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Binomial, Distribution};
use rayon::prelude::*;
use serde::Serialize;

use crate::stats::aggregate::benjamini_hochberg;
use crate::stats::nps::{normal_cdf, Nps};
use crate::stats::patterns::{PatternCounts, PatternTable};

/// The seed used when none is set: reruns of the same data give the same
/// intervals.
pub const DEFAULT_SEED: u64 = 0x5EED_2026_0005;

/// How to bootstrap.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct BootstrapSettings {
    /// Number of replicates B (1,000 by default). 0 gives no intervals.
    pub replicates: usize,
    /// Seed of the random number generator.
    pub seed: u64,
    /// Coverage of the percentile intervals, e.g. 0.95. A value outside
    /// (0, 1) is read as 0.95.
    pub level: f64,
}

impl Default for BootstrapSettings {
    fn default() -> Self {
        BootstrapSettings {
            replicates: 1000,
            seed: DEFAULT_SEED,
            level: 0.95,
        }
    }
}

impl BootstrapSettings {
    /// `level`, or 0.95 where it is not a probability.
    pub fn level(&self) -> f64 {
        if self.level > 0.0 && self.level < 1.0 {
            self.level
        } else {
            0.95
        }
    }
}

/// One topic's impact and NPS of mentions with bootstrap intervals.
/// NPS points (−100..100); `None` marks a figure undefined for this data.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TopicImpact {
    /// Topic name.
    pub topic: String,
    /// n_T: responses that mention the topic.
    pub mentions: u64,
    /// n_T < `min_n`: shown but not ranked and left out of the BH family.
    pub suppressed: bool,
    /// NPS(T); `None` when n_T = 0.
    pub nps_mentions: Option<f64>,
    /// Percentile interval of NPS(T).
    pub nps_mentions_ci_low: Option<f64>,
    /// Percentile interval of NPS(T).
    pub nps_mentions_ci_high: Option<f64>,
    /// Impact_T = NPS(all) − NPS(¬T), as in [`crate::stats::drivers`].
    pub impact: Option<f64>,
    /// Percentile interval of the impact.
    pub impact_ci_low: Option<f64>,
    /// Percentile interval of the impact.
    pub impact_ci_high: Option<f64>,
    /// Standard deviation of the impact over the replicates.
    pub impact_boot_se: Option<f64>,
    /// Delta-method SE of the impact with w not fixed (module docs).
    pub impact_se: Option<f64>,
    /// impact / impact_se (±∞ when the SE is 0 and the impact is not).
    pub z: Option<f64>,
    /// Two-sided p-value of `z`.
    pub p_value: Option<f64>,
    /// Benjamini–Hochberg decision over the topics that are not suppressed
    /// and have a p-value; `None` for the others ("not judged").
    pub bh_significant: Option<bool>,
    /// Replicates in which the impact was defined.
    pub valid_replicates: usize,
}

/// Result of [`bootstrap_impacts`].
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ImpactBootstrap {
    /// Seed used.
    pub seed: u64,
    /// Replicates drawn.
    pub replicates: usize,
    /// Coverage of the intervals.
    pub level: f64,
    /// Responses resampled (N).
    pub n: u64,
    /// One entry per topic, in index order.
    pub topics: Vec<TopicImpact>,
}

/// Name of topic `i`, or `#i` when the caller gave fewer names.
pub(crate) fn topic_name(topics: &[String], i: usize) -> String {
    topics.get(i).cloned().unwrap_or_else(|| format!("#{i}"))
}

/// Impact_T = NPS(all) − NPS(¬T) from the counts of all responses and of
/// T's mentioners, with the conventions of [`crate::stats::drivers`].
pub(crate) fn impact(all: &Nps, t: &Nps) -> Option<f64> {
    if all.n == 0 {
        return None;
    }
    if t.n == 0 {
        return Some(0.0);
    }
    Some(all.score()? - all.minus(t).score()?)
}

/// Delta-method SE of the impact with the prevalence not held fixed:
/// √([w·V_T + w²/(1 − w)·V_¬T + w(1 − w)·g²]/N) in NPS points, with V the
/// per-response variance of the ±100 code (module docs). 0 when nobody
/// mentions T; `None` when everybody does or there are no responses.
pub(crate) fn impact_se(all: &Nps, t: &Nps) -> Option<f64> {
    let without = all.minus(t);
    if all.n == 0 || without.n == 0 {
        return None;
    }
    if t.n == 0 {
        return Some(0.0);
    }
    let n = all.n as f64;
    let w = t.n as f64 / n;
    // Nps::variance is 100²·V/n_X, so w²·variance = w·V_T/N etc.
    let fixed = w * w * (t.variance()? + without.variance()?);
    let g = t.score()? - without.score()?;
    Some((fixed + w * (1.0 - w) * g * g / n).sqrt())
}

/// z and two-sided p for an estimate and its SE, as [`crate::stats::nps::compare`]
/// does: ±∞ and p = 0 when the SE is 0 and the estimate is not; z = 0 and
/// p = 1 when both are 0.
pub(crate) fn z_test(estimate: f64, se: f64) -> (f64, f64) {
    let z = if se > 0.0 {
        estimate / se
    } else if estimate == 0.0 {
        0.0
    } else {
        estimate.signum() * f64::INFINITY
    };
    let p = (2.0 * (1.0 - normal_cdf(z.abs()))).clamp(0.0, 1.0);
    (z, p)
}

/// The generator of replicate `b`: the seed's ChaCha8 stream `b`, so each
/// replicate is reproducible on its own and replicates can run in parallel.
pub(crate) fn replicate_rng(seed: u64, b: usize) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(b as u64);
    rng
}

/// Patterns with at most this many responses are resampled response by
/// response rather than by a binomial each (see [`Resampler`]).
const SMALL_PATTERN: u64 = 16;

/// Draws multinomial(N; c_j/N) replicates of pattern counts c_j (N = Σ c_j).
///
/// Large patterns take one binomial each, in a chain: x_j ~ Bin(draws left,
/// c_j/mass left). Most distinct patterns are small (a rare combination of
/// topics seen a few times), and a binomial costs far more than a uniform
/// draw, so the patterns with at most [`SMALL_PATTERN`] responses are pooled:
/// the number of draws that land in the pool is Bin(N, C_small/N), and those
/// draws pick responses of the pool uniformly with replacement, each adding
/// one to its pattern. Given the pool's total that is exactly the
/// multinomial of the pool's patterns, so the whole draw is exact, at a
/// cost of O(large patterns + responses in small patterns) ≤
/// O(patterns × 16) per replicate.
pub(crate) struct Resampler {
    n: u64,
    /// Large patterns: (index, count), in canonical order.
    large: Vec<(usize, u64)>,
    /// Pattern index of each response in a small pattern.
    pool: Vec<u32>,
    len: usize,
}

impl Resampler {
    pub(crate) fn new(counts: &[u64]) -> Resampler {
        let mut large = Vec::new();
        let mut pool = Vec::new();
        for (j, &c) in counts.iter().enumerate() {
            match u32::try_from(j) {
                Ok(j32) if c > 0 && c <= SMALL_PATTERN => {
                    pool.extend(std::iter::repeat_n(j32, c as usize));
                }
                _ if c > 0 => large.push((j, c)),
                _ => {}
            }
        }
        Resampler {
            n: counts.iter().sum(),
            large,
            pool,
            len: counts.len(),
        }
    }

    /// One replicate into `out` (resized to the number of patterns).
    pub(crate) fn draw(&self, rng: &mut ChaCha8Rng, out: &mut Vec<u64>) {
        out.clear();
        out.resize(self.len, 0);
        let pooled = self.pool.len() as u64;
        let in_pool = binomial(self.n, pooled, self.n, rng);
        let mut left_draws = self.n - in_pool;
        let mut left_mass = self.n - pooled;
        for &(j, c) in &self.large {
            if left_draws == 0 {
                break;
            }
            let x = binomial(left_draws, c, left_mass, rng);
            out[j] = x;
            left_draws -= x;
            left_mass -= c;
        }
        for _ in 0..in_pool {
            out[self.pool[rng.random_range(0..self.pool.len())] as usize] += 1;
        }
    }
}

/// Bin(n, part/whole), with the certain cases (part 0, part ≥ whole) exact.
fn binomial(n: u64, part: u64, whole: u64, rng: &mut ChaCha8Rng) -> u64 {
    if part == 0 || n == 0 {
        0
    } else if part >= whole {
        n
    } else {
        match Binomial::new(n, part as f64 / whole as f64) {
            Ok(bin) => bin.sample(rng),
            // Unreachable: 0 < p < 1 here.
            Err(_) => 0,
        }
    }
}

/// Runs `replicates` bootstrap replicates of the table's counts, in
/// parallel, and returns `stat` of each in replicate order.
pub(crate) fn run_replicates<T, F>(
    table: &PatternTable,
    settings: &BootstrapSettings,
    stat: F,
) -> Vec<T>
where
    T: Send,
    F: Fn(&[u64]) -> T + Sync,
{
    let sampler = Resampler::new(&table.counts);
    (0..settings.replicates)
        .into_par_iter()
        .map_init(Vec::new, |buf, b| {
            let mut rng = replicate_rng(settings.seed, b);
            sampler.draw(&mut rng, buf);
            stat(buf)
        })
        .collect()
}

/// Quantile `prob` of sorted values by linear interpolation between order
/// statistics (Hyndman & Fan type 7, the default of R and NumPy).
/// `None` for no values.
pub(crate) fn quantile(sorted: &[f64], prob: f64) -> Option<f64> {
    let last = sorted.len().checked_sub(1)?;
    let h = last as f64 * prob.clamp(0.0, 1.0);
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(last);
    Some(sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo]))
}

/// Percentile interval at `level` and standard deviation of the defined
/// values; (None, None, None) when there are none.
pub(crate) fn summarise(
    values: &mut Vec<f64>,
    level: f64,
) -> (Option<f64>, Option<f64>, Option<f64>) {
    values.retain(|v| v.is_finite());
    values.sort_by(f64::total_cmp);
    let alpha = (1.0 - level) / 2.0;
    let sd = (values.len() > 1).then(|| {
        let m = values.iter().sum::<f64>() / values.len() as f64;
        (values.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / (values.len() - 1) as f64).sqrt()
    });
    (quantile(values, alpha), quantile(values, 1.0 - alpha), sd)
}

/// Bootstraps every topic's impact and NPS of mentions; see the module docs.
///
/// `topics` names the topics of `counts` in index order (a missing name
/// reads `#i`). Topics with fewer than `min_n` mentions are flagged
/// `suppressed` and left out of the Benjamini–Hochberg family, which runs at
/// false discovery rate `q` over the others.
pub fn bootstrap_impacts(
    counts: &PatternCounts,
    topics: &[String],
    settings: &BootstrapSettings,
    min_n: u64,
    q: f64,
) -> ImpactBootstrap {
    let table = counts.table();
    let k = table.n_topics;
    let mut with = Vec::new();
    let all = table.tally(&table.counts, &mut with);

    // Per replicate: (impact, NPS of mentions) of each topic, NaN where undefined.
    let reps: Vec<Vec<(f64, f64)>> = if all.n == 0 {
        Vec::new()
    } else {
        run_replicates(&table, settings, |draw| {
            let mut w = Vec::with_capacity(k);
            let a = table.tally(draw, &mut w);
            w.iter()
                .map(|t| {
                    (
                        impact(&a, t).unwrap_or(f64::NAN),
                        t.score().unwrap_or(f64::NAN),
                    )
                })
                .collect()
        })
    };

    let level = settings.level();
    let mut out: Vec<TopicImpact> = (0..k)
        .map(|i| {
            let t = &with[i];
            let mut imp: Vec<f64> = reps.iter().map(|r| r[i].0).collect();
            let mut nps_t: Vec<f64> = reps.iter().map(|r| r[i].1).collect();
            let (impact_ci_low, impact_ci_high, impact_boot_se) = summarise(&mut imp, level);
            let (nps_mentions_ci_low, nps_mentions_ci_high, _) = summarise(&mut nps_t, level);
            let point = impact(&all, t);
            let se = impact_se(&all, t);
            let (z, p_value) = match (point, se) {
                (Some(i), Some(se)) => {
                    let (z, p) = z_test(i, se);
                    (Some(z), Some(p))
                }
                _ => (None, None),
            };
            TopicImpact {
                topic: topic_name(topics, i),
                mentions: t.n,
                suppressed: t.n < min_n,
                nps_mentions: t.score(),
                nps_mentions_ci_low,
                nps_mentions_ci_high,
                impact: point,
                impact_ci_low,
                impact_ci_high,
                impact_boot_se,
                impact_se: se,
                z,
                p_value,
                bh_significant: None,
                valid_replicates: imp.len(),
            }
        })
        .collect();

    let family: Vec<usize> = (0..k)
        .filter(|&i| !out[i].suppressed && out[i].p_value.is_some())
        .collect();
    let p: Vec<f64> = family
        .iter()
        .map(|&i| out[i].p_value.unwrap_or(f64::NAN))
        .collect();
    for (&i, flag) in family.iter().zip(benjamini_hochberg(&p, q)) {
        out[i].bh_significant = Some(flag);
    }
    ImpactBootstrap {
        seed: settings.seed,
        replicates: settings.replicates,
        level,
        n: all.n,
        topics: out,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::drivers::{topic_drivers, DriverInput};
    use crate::stats::nps::Bucket;

    const D: Bucket = Bucket::Detractor;
    const PA: Bucket = Bucket::Passive;
    const P: Bucket = Bucket::Promoter;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    /// The ten responses of the drivers.rs hand-computed example.
    fn example() -> (Vec<Bucket>, Vec<Vec<usize>>) {
        let buckets = vec![D, D, D, PA, P, P, P, P, PA, D];
        let mentions = vec![
            vec![0],
            vec![0, 1],
            vec![0],
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

    fn counts_of(buckets: &[Bucket], mentions: &[Vec<usize>], k: usize) -> PatternCounts {
        let mut c = PatternCounts::new(k);
        for (b, m) in buckets.iter().zip(mentions) {
            c.add(*b, m);
        }
        c
    }

    #[test]
    fn quantile_type_7() {
        // 1..=5: h = 4·0.25 = 1 → 2; h = 4·0.1 = 0.4 → 1 + 0.4·1 = 1.4.
        let v = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert_eq!(quantile(&v, 0.25), Some(2.0));
        assert!((quantile(&v, 0.1).unwrap_or(f64::NAN) - 1.4).abs() < 1e-12);
        assert_eq!(quantile(&v, 1.0), Some(5.0));
        assert_eq!(quantile(&[], 0.5), None);
    }

    #[test]
    fn resample_keeps_n_and_respects_empty_patterns() {
        // Small and large patterns, empty ones between.
        let counts = [5u64, 0, 3, 0, 40, 0];
        let sampler = Resampler::new(&counts);
        let mut out = Vec::new();
        for b in 0..50 {
            let mut rng = replicate_rng(7, b);
            sampler.draw(&mut rng, &mut out);
            assert_eq!(out.len(), 6);
            assert_eq!(out.iter().sum::<u64>(), 48);
            assert_eq!((out[1], out[3], out[5]), (0, 0, 0));
        }
        // One pattern, small or large: every draw is that pattern.
        for n in [9, 90] {
            let mut rng = replicate_rng(7, 0);
            Resampler::new(&[0, n]).draw(&mut rng, &mut out);
            assert_eq!(out, vec![0, n]);
        }
    }

    #[test]
    fn resample_has_multinomial_moments() {
        // Multinomial(N = 100; 0.1, 0.3, 0.6): E = 10, 30, 60;
        // Var = N·p·(1 − p) = 9, 21, 24. Over 4,000 replicates the mean's SE
        // is √(Var/4000) < 0.08, so a 0.4 tolerance is five SEs. The first
        // pattern is in the pool of small ones, the others are large; the
        // covariance of the two kinds, −N·p₁·p₂ = −3, is checked too.
        let counts = [10u64, 30, 60];
        let sampler = Resampler::new(&counts);
        let mut cross = 0.0f64;
        let reps = 4000;
        let mut sum = [0.0f64; 3];
        let mut sq = [0.0f64; 3];
        let mut out = Vec::new();
        for b in 0..reps {
            let mut rng = replicate_rng(11, b);
            sampler.draw(&mut rng, &mut out);
            cross += (out[0] * out[1]) as f64;
            for j in 0..3 {
                sum[j] += out[j] as f64;
                sq[j] += (out[j] * out[j]) as f64;
            }
        }
        for (j, (e, v)) in [(10.0, 9.0), (30.0, 21.0), (60.0, 24.0)].iter().enumerate() {
            let mean = sum[j] / reps as f64;
            let var = sq[j] / reps as f64 - mean * mean;
            assert!((mean - e).abs() < 0.4, "mean {j}: {mean}");
            assert!((var - v).abs() < 0.15 * v, "var {j}: {var}");
        }
        let cov = cross / reps as f64 - (sum[0] / reps as f64) * (sum[1] / reps as f64);
        assert!((cov + 3.0).abs() < 0.9, "cov {cov}");
    }

    #[test]
    fn point_figures_match_drivers_and_hand_computation() {
        // Topic 0 as in drivers.rs: NPS(T) = −75, NPS(¬T) = 50, impact −50.
        // Full delta SE: fixed-w variance 230.5556 (drivers.rs) plus
        // w(1 − w)·g²/N = 0.4·0.6·125²/10 = 375 → √605.5556 = 24.60804.
        let (buckets, mentions) = example();
        let topics = names(&["wait", "friendly"]);
        let c = counts_of(&buckets, &mentions, 2);
        let boot = bootstrap_impacts(&c, &topics, &BootstrapSettings::default(), 3, 0.05);
        let drivers = topic_drivers(&DriverInput {
            buckets: &buckets,
            mentions: &mentions,
            topics: &topics,
            min_n: 3,
        });
        for (b, d) in boot.topics.iter().zip(&drivers) {
            assert_eq!(b.topic, d.topic);
            assert_eq!(b.mentions, d.mentions);
            assert_eq!(b.impact, d.impact);
            assert_eq!(b.nps_mentions, d.nps_mentions);
        }
        let wait = &boot.topics[0];
        assert!((wait.impact_se.unwrap_or(f64::NAN) - 24.60804).abs() < 1e-4);
        // z = −50/24.60804 = −2.03186; p = 2·(1 − Φ(2.03186)) = 0.042168.
        assert!((wait.z.unwrap_or(f64::NAN) + 2.03186).abs() < 1e-4);
        assert!((wait.p_value.unwrap_or(f64::NAN) - 0.042168).abs() < 1e-6);
        assert_eq!(boot.n, 10);
        assert_eq!(boot.replicates, 1000);
    }

    #[test]
    fn nobody_and_everybody() {
        let mut c = PatternCounts::new(2);
        c.add(D, &[1]);
        c.add(P, &[1]);
        c.add(P, &[1]);
        let boot = bootstrap_impacts(
            &c,
            &names(&["none", "all"]),
            &BootstrapSettings::default(),
            1,
            0.05,
        );
        let none = &boot.topics[0];
        assert_eq!((none.impact, none.impact_se), (Some(0.0), Some(0.0)));
        assert_eq!(
            (none.impact_ci_low, none.impact_ci_high),
            (Some(0.0), Some(0.0))
        );
        assert_eq!((none.z, none.p_value), (Some(0.0), Some(1.0)));
        assert_eq!(none.nps_mentions_ci_low, None);
        assert!(none.suppressed && none.bh_significant.is_none());
        let all = &boot.topics[1];
        assert_eq!((all.impact, all.impact_se, all.p_value), (None, None, None));
        assert_eq!((all.impact_ci_low, all.valid_replicates), (None, 0));
        assert_eq!(all.bh_significant, None);
        // Empty counts: no figures, no panic.
        let empty = bootstrap_impacts(
            &PatternCounts::new(1),
            &[],
            &BootstrapSettings::default(),
            0,
            0.05,
        );
        assert_eq!(empty.topics[0].topic, "#0");
        assert_eq!(empty.topics[0].impact, None);
    }

    #[test]
    fn seeded_identical_and_seed_sensitive() {
        let (buckets, mentions) = example();
        let c = counts_of(&buckets, &mentions, 2);
        let topics = names(&["wait", "friendly"]);
        let s = BootstrapSettings {
            replicates: 300,
            ..BootstrapSettings::default()
        };
        let a = bootstrap_impacts(&c, &topics, &s, 0, 0.05);
        let b = bootstrap_impacts(&c, &topics, &s, 0, 0.05);
        assert_eq!(format!("{a:?}"), format!("{b:?}"));
        // The same on one thread: each replicate has its own stream.
        let one = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .map(|pool| pool.install(|| bootstrap_impacts(&c, &topics, &s, 0, 0.05)));
        assert_eq!(one.map(|r| format!("{r:?}")).ok(), Some(format!("{a:?}")));
        let other = BootstrapSettings { seed: 1, ..s };
        let d = bootstrap_impacts(&c, &topics, &other, 0, 0.05);
        assert_ne!(
            a.topics[0].impact_boot_se, d.topics[0].impact_boot_se,
            "another seed draws other replicates"
        );
    }
}
