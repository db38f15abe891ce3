//! Net Promoter Score arithmetic: buckets, the score, its variance, the
//! adjusted-Wald interval and the two-group z-test.
//!
//! Everything here follows `docs/METHODS.md` ("NPS and its
//! uncertainty") to the letter, because CX analysts check our figures against
//! those published definitions. The module holds counts, not responses: an
//! [`Nps`] is four integers, so segment and topic code can build many of them
//! cheaply and merge them by addition. Formatting lives elsewhere; these
//! functions return plain `f64`s in NPS points (−100..100) and `None` where a
//! figure is undefined (no responses), never `NaN`.

use serde::Serialize;

/// Two-sided 95% normal quantile, z such that Φ(z) = 0.975.
pub const Z95: f64 = 1.959963984540054;

/// The NPS bucket of one score: detractor 0–6, passive 7–8, promoter 9–10.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Bucket {
    /// Score 0 to 6.
    Detractor,
    /// Score 7 or 8.
    Passive,
    /// Score 9 or 10.
    Promoter,
}

impl Bucket {
    /// Buckets a 0–10 score; `None` for anything above 10.
    pub fn from_score(score: u8) -> Option<Bucket> {
        match score {
            0..=6 => Some(Bucket::Detractor),
            7..=8 => Some(Bucket::Passive),
            9..=10 => Some(Bucket::Promoter),
            _ => None,
        }
    }

    /// The −1 / 0 / +1 coding of METHODS.md: NPS is 100 times the mean code.
    pub fn code(self) -> i8 {
        match self {
            Bucket::Detractor => -1,
            Bucket::Passive => 0,
            Bucket::Promoter => 1,
        }
    }

    /// Lower-case name as written in outputs: `detractor`, `passive`, `promoter`.
    pub fn as_str(self) -> &'static str {
        match self {
            Bucket::Detractor => "detractor",
            Bucket::Passive => "passive",
            Bucket::Promoter => "promoter",
        }
    }
}

/// Bucket counts of a group of responses; `n` is always the sum of the other three.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Nps {
    /// Responses with a score.
    pub n: u64,
    /// Scores 9–10.
    pub promoters: u64,
    /// Scores 7–8.
    pub passives: u64,
    /// Scores 0–6.
    pub detractors: u64,
}

impl Nps {
    /// The counts of `self` less those of `part`, bucket by bucket
    /// (saturating: `part` is always a subset of `self` where it is used).
    pub fn minus(&self, part: &Nps) -> Nps {
        Nps {
            n: self.n.saturating_sub(part.n),
            promoters: self.promoters.saturating_sub(part.promoters),
            passives: self.passives.saturating_sub(part.passives),
            detractors: self.detractors.saturating_sub(part.detractors),
        }
    }

    /// Counts one more response.
    pub fn add(&mut self, b: Bucket) {
        self.n += 1;
        match b {
            Bucket::Detractor => self.detractors += 1,
            Bucket::Passive => self.passives += 1,
            Bucket::Promoter => self.promoters += 1,
        }
    }

    /// Counts a sequence of buckets.
    pub fn from_buckets<I: IntoIterator<Item = Bucket>>(it: I) -> Nps {
        let mut nps = Nps::default();
        for b in it {
            nps.add(b);
        }
        nps
    }

    /// p = P/N and d = D/N, or `None` when the group is empty.
    fn shares(&self) -> Option<(f64, f64)> {
        if self.n == 0 {
            return None;
        }
        let n = self.n as f64;
        Some((self.promoters as f64 / n, self.detractors as f64 / n))
    }

    /// NPS = 100·(p − d), in −100..100; `None` when `n == 0`.
    pub fn score(&self) -> Option<f64> {
        self.shares().map(|(p, d)| 100.0 * (p - d))
    }

    /// Variance of the NPS estimate in percentage points squared:
    /// 100²·[p + d − (p − d)²]/N (trinomial). `None` when `n == 0`.
    ///
    /// Its square root is SE(NPS). This already includes the division by N,
    /// so the variance of a difference of two independent groups is the sum
    /// of their `variance()`s.
    pub fn variance(&self) -> Option<f64> {
        self.shares()
            .map(|(p, d)| 100.0 * 100.0 * trinomial_variance(p, d) / self.n as f64)
    }

    /// Adjusted-Wald interval (Rocks 2016) for NPS at normal quantile `z`
    /// (pass [`Z95`] for 95%), in NPS points, clipped to [−100, 100].
    ///
    /// N' = N + 3, p' = (P + 0.75)/N', d' = (D + 0.75)/N',
    /// SE' = √([p' + d' − (p' − d')²]/N'), CI = 100·((p' − d') ± z·SE').
    /// The interval is centred on the adjusted NPS', not on the plain NPS,
    /// which is what keeps it honest at 0% or 100% promoters. `None` when
    /// `n == 0`: the adjustment alone would produce an interval with no data
    /// behind it.
    pub fn adjusted_wald(&self, z: f64) -> Option<(f64, f64)> {
        if self.n == 0 {
            return None;
        }
        let n_adj = self.n as f64 + 3.0;
        let p = (self.promoters as f64 + 0.75) / n_adj;
        let d = (self.detractors as f64 + 0.75) / n_adj;
        let centre = p - d;
        let se = (trinomial_variance(p, d) / n_adj).sqrt();
        let low = (100.0 * (centre - z * se)).clamp(-100.0, 100.0);
        let high = (100.0 * (centre + z * se)).clamp(-100.0, 100.0);
        Some((low, high))
    }
}

impl std::ops::Add for Nps {
    type Output = Nps;

    fn add(self, o: Nps) -> Nps {
        Nps {
            n: self.n + o.n,
            promoters: self.promoters + o.promoters,
            passives: self.passives + o.passives,
            detractors: self.detractors + o.detractors,
        }
    }
}

/// Weighted bucket totals of a group of responses, for survey weights
/// (`--weight-column`; `docs/METHODS.md`, "Survey weights").
///
/// Like [`Nps`] it holds sums, not responses, so groups merge by addition.
/// NPS_w = 100·(Σw·[promoter] − Σw·[detractor]) / Σw; Kish's effective
/// sample size n_eff = (Σw)² / Σw² stands where the unweighted figures use N.
/// A response of weight 0 counts in nothing but [`WeightedNps::responses`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct WeightedNps {
    /// Responses added, whatever their weight.
    pub responses: u64,
    /// Σw over all responses.
    pub weight_sum: f64,
    /// Σw² over all responses.
    pub weight_sq_sum: f64,
    /// Σw over promoters.
    pub promoters: f64,
    /// Σw over detractors.
    pub detractors: f64,
}

impl WeightedNps {
    /// Counts one response of weight `w` (finite and ≥ 0: the reader
    /// rejects any other).
    pub fn add(&mut self, b: Bucket, w: f64) {
        self.responses += 1;
        self.weight_sum += w;
        self.weight_sq_sum += w * w;
        match b {
            Bucket::Promoter => self.promoters += w,
            Bucket::Detractor => self.detractors += w,
            Bucket::Passive => {}
        }
    }

    /// p_w = Σw·[promoter]/Σw and d_w = Σw·[detractor]/Σw, or `None` when
    /// Σw = 0 (no responses, or only weights of 0).
    fn shares(&self) -> Option<(f64, f64)> {
        (self.weight_sum > 0.0).then(|| {
            (
                self.promoters / self.weight_sum,
                self.detractors / self.weight_sum,
            )
        })
    }

    /// Weighted NPS = 100·(p_w − d_w), in −100..100; `None` when Σw = 0.
    pub fn score(&self) -> Option<f64> {
        self.shares().map(|(p, d)| 100.0 * (p - d))
    }

    /// Kish's effective sample size (Σw)² / Σw²: N for equal weights, less
    /// the more the weights vary; `None` when Σw = 0.
    pub fn n_effective(&self) -> Option<f64> {
        (self.weight_sum > 0.0 && self.weight_sq_sum > 0.0)
            .then(|| self.weight_sum * self.weight_sum / self.weight_sq_sum)
    }

    /// The adjusted-Wald interval of [`Nps::adjusted_wald`] with the
    /// weighted shares and n_eff in place of the counts and N:
    /// N' = n_eff + 3, p' = (p_w·n_eff + 0.75)/N', d' = (d_w·n_eff + 0.75)/N',
    /// CI = 100·((p' − d') ± z·√([p' + d' − (p' − d')²]/N')), clipped to
    /// [−100, 100]. With equal weights it is exactly the unweighted
    /// interval. `None` when Σw = 0.
    pub fn adjusted_wald(&self, z: f64) -> Option<(f64, f64)> {
        let (p, d) = self.shares()?;
        let n = self.n_effective()?;
        let n_adj = n + 3.0;
        let p = (p * n + 0.75) / n_adj;
        let d = (d * n + 0.75) / n_adj;
        let centre = p - d;
        let se = (trinomial_variance(p, d) / n_adj).sqrt();
        let low = (100.0 * (centre - z * se)).clamp(-100.0, 100.0);
        let high = (100.0 * (centre + z * se)).clamp(-100.0, 100.0);
        Some((low, high))
    }

    /// The totals of `self` less those of `part` (a subset of `self`).
    pub fn minus(&self, part: &WeightedNps) -> WeightedNps {
        WeightedNps {
            responses: self.responses.saturating_sub(part.responses),
            weight_sum: (self.weight_sum - part.weight_sum).max(0.0),
            weight_sq_sum: (self.weight_sq_sum - part.weight_sq_sum).max(0.0),
            promoters: (self.promoters - part.promoters).max(0.0),
            detractors: (self.detractors - part.detractors).max(0.0),
        }
    }
}

/// Per-response variance of the −1/0/+1 code: p + d − (p − d)².
///
/// Mathematically never negative; the clamp only guards against a rounding
/// residue turning into a `NaN` under `sqrt`.
pub(crate) fn trinomial_variance(p: f64, d: f64) -> f64 {
    (p + d - (p - d) * (p - d)).max(0.0)
}

/// Result of [`compare`]: group a minus group b.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Comparison {
    /// NPS(a) − NPS(b), in NPS points.
    pub diff: f64,
    /// Standard error of `diff`: √(Var_a + Var_b), in NPS points.
    pub se: f64,
    /// diff / se. ±∞ when both groups have zero variance but different
    /// NPS (e.g. all promoters vs all detractors); 0 when they are equal.
    pub z: f64,
    /// Two-sided p-value, 2·(1 − Φ(|z|)).
    pub p_value: f64,
}

/// Two-group z-test of METHODS.md: z = (NPS₁ − NPS₂)/√(Var₁ + Var₂), with
/// `Var` as returned by [`Nps::variance`] (already divided by N).
///
/// `None` when either group is empty. The groups must be independent (a
/// segment against the rest, not a segment against the whole).
pub fn compare(a: &Nps, b: &Nps) -> Option<Comparison> {
    let diff = a.score()? - b.score()?;
    let se = (a.variance()? + b.variance()?).sqrt();
    let z = if se > 0.0 {
        diff / se
    } else if diff == 0.0 {
        0.0
    } else {
        diff.signum() * f64::INFINITY
    };
    let p_value = (2.0 * (1.0 - normal_cdf(z.abs()))).clamp(0.0, 1.0);
    Some(Comparison {
        diff,
        se,
        z,
        p_value,
    })
}

/// Standard normal CDF Φ(x) = erfc(−x/√2)/2.
///
/// Uses W. J. Cody's rational Chebyshev approximation of erfc ("Rational
/// Chebyshev approximations for the error function", Math. Comp. 23, 1969;
/// SPECFUN `CALERF`), accurate to about 1e-15 relative, far inside the 1e-7
/// we promise. Computing the upper tail through erfc rather than `1 − erf`
/// keeps small p-values accurate.
pub fn normal_cdf(x: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    0.5 * erfc(-x / std::f64::consts::SQRT_2)
}

/// Complementary error function, Cody's CALERF with `jint = 1`.
#[allow(clippy::excessive_precision)]
fn erfc(x: f64) -> f64 {
    // Coefficients as published in SPECFUN CALERF, at their printed precision.
    const A: [f64; 5] = [
        3.16112374387056560e00,
        1.13864154151050156e02,
        3.77485237685302021e02,
        3.20937758913846947e03,
        1.85777706184603153e-1,
    ];
    const B: [f64; 4] = [
        2.36012909523441209e01,
        2.44024637934444173e02,
        1.28261652607737228e03,
        2.84423683343917062e03,
    ];
    const C: [f64; 9] = [
        5.64188496988670089e-1,
        8.88314979438837594e00,
        6.61191906371416295e01,
        2.98635138197400131e02,
        8.81952221241769090e02,
        1.71204761263407058e03,
        2.05107837782607147e03,
        1.23033935479799725e03,
        2.15311535474403846e-8,
    ];
    const D: [f64; 8] = [
        1.57449261107098347e01,
        1.17693950891312499e02,
        5.37181101862009858e02,
        1.62138957456669019e03,
        3.29079923573345963e03,
        4.36261909014324716e03,
        3.43936767414372164e03,
        1.23033935480374942e03,
    ];
    const P: [f64; 6] = [
        3.05326634961232344e-1,
        3.60344899949804439e-1,
        1.25781726111229246e-1,
        1.60837851487422766e-2,
        6.58749161529837803e-4,
        1.63153871373020978e-2,
    ];
    const Q: [f64; 5] = [
        2.56852019228982242e00,
        1.87295284992346047e00,
        5.27905102951428412e-1,
        6.05183413124413191e-2,
        2.33520497626869185e-3,
    ];
    const SQRPI: f64 = 5.6418958354775628695e-1; // 1/√π
    const XSMALL: f64 = 1.11e-16;
    const XBIG: f64 = 26.543; // erfc underflows beyond this

    let y = x.abs();
    if y <= 0.46875 {
        let ysq = if y > XSMALL { y * y } else { 0.0 };
        let mut xnum = A[4] * ysq;
        let mut xden = ysq;
        for i in 0..3 {
            xnum = (xnum + A[i]) * ysq;
            xden = (xden + B[i]) * ysq;
        }
        return 1.0 - x * (xnum + A[3]) / (xden + B[3]);
    }
    let tail = if y <= 4.0 {
        let mut xnum = C[8] * y;
        let mut xden = y;
        for i in 0..7 {
            xnum = (xnum + C[i]) * y;
            xden = (xden + D[i]) * y;
        }
        scaled_exp(y) * (xnum + C[7]) / (xden + D[7])
    } else if y < XBIG {
        let ysq = 1.0 / (y * y);
        let mut xnum = P[5] * ysq;
        let mut xden = ysq;
        for i in 0..4 {
            xnum = (xnum + P[i]) * ysq;
            xden = (xden + Q[i]) * ysq;
        }
        let r = ysq * (xnum + P[4]) / (xden + Q[4]);
        scaled_exp(y) * (SQRPI - r) / y
    } else {
        0.0
    };
    if x < 0.0 {
        2.0 - tail
    } else {
        tail
    }
}

/// exp(−y²) computed as Cody does, splitting y at a multiple of 1/16 so the
/// large exponent loses no precision.
fn scaled_exp(y: f64) -> f64 {
    let ysq = (y * 16.0).trunc() / 16.0;
    let del = (y - ysq) * (y + ysq);
    (-ysq * ysq).exp() * (-del).exp()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    fn counts(p: u64, pa: u64, d: u64) -> Nps {
        Nps {
            n: p + pa + d,
            promoters: p,
            passives: pa,
            detractors: d,
        }
    }

    #[test]
    fn equal_weights_give_the_unweighted_figures() {
        // 5 promoters, 3 passives, 2 detractors, every weight 2.5.
        let plain = counts(5, 3, 2);
        let mut w = WeightedNps::default();
        for (b, k) in [
            (Bucket::Promoter, 5),
            (Bucket::Passive, 3),
            (Bucket::Detractor, 2),
        ] {
            for _ in 0..k {
                w.add(b, 2.5);
            }
        }
        assert_eq!(w.responses, 10);
        assert!(close(w.weight_sum, 25.0, 1e-12));
        assert!(close(w.n_effective().unwrap(), 10.0, 1e-12));
        assert!(close(w.score().unwrap(), plain.score().unwrap(), 1e-12));
        let (lo, hi) = w.adjusted_wald(Z95).unwrap();
        let (plo, phi) = plain.adjusted_wald(Z95).unwrap();
        assert!(
            close(lo, plo, 1e-9) && close(hi, phi, 1e-9),
            "{lo} {hi} vs {plo} {phi}"
        );
    }

    #[test]
    fn a_weight_of_zero_drops_the_row() {
        let mut with_zero = WeightedNps::default();
        let mut without = WeightedNps::default();
        for (b, w) in [
            (Bucket::Promoter, 1.0),
            (Bucket::Detractor, 2.0),
            (Bucket::Passive, 1.0),
        ] {
            with_zero.add(b, w);
            without.add(b, w);
        }
        with_zero.add(Bucket::Detractor, 0.0);
        assert_eq!(with_zero.responses, 4);
        assert_eq!(with_zero.score(), without.score());
        assert_eq!(with_zero.n_effective(), without.n_effective());
        assert_eq!(with_zero.adjusted_wald(Z95), without.adjusted_wald(Z95));
        // Only weights of 0: no figure at all, never NaN.
        let mut zeros = WeightedNps::default();
        zeros.add(Bucket::Promoter, 0.0);
        assert_eq!(zeros.score(), None);
        assert_eq!(zeros.n_effective(), None);
        assert_eq!(zeros.adjusted_wald(Z95), None);
        assert_eq!(WeightedNps::default().score(), None);
    }

    #[test]
    fn hand_computed_weighted_example() {
        // Promoter w=3, promoter w=1, passive w=2, detractor w=2.
        // Σw = 8, Σw² = 9 + 1 + 4 + 4 = 18.
        // p_w = 4/8 = 0.5, d_w = 2/8 = 0.25, NPS_w = 100·0.25 = 25
        //   (unweighted: 2 promoters, 1 detractor of 4 = 25 as well; the
        //   detractor share is what moves below).
        // n_eff = 64/18 = 3.5556.
        // N' = 6.5556, p' = (0.5·3.5556 + 0.75)/6.5556 = 2.5278/6.5556 = 0.385593,
        // d' = (0.25·3.5556 + 0.75)/6.5556 = 1.63889/6.5556 = 0.250000,
        // p' − d' = 0.135593, var = 0.635593 − 0.018385 = 0.617208,
        // SE = √(0.617208/6.5556) = 0.306839,
        // CI = 100·(0.135593 ± 1.959964·0.306842) = [−46.58, 73.70].
        let mut w = WeightedNps::default();
        w.add(Bucket::Promoter, 3.0);
        w.add(Bucket::Promoter, 1.0);
        w.add(Bucket::Passive, 2.0);
        w.add(Bucket::Detractor, 2.0);
        assert!(close(w.score().unwrap(), 25.0, 1e-12));
        assert!(close(w.n_effective().unwrap(), 64.0 / 18.0, 1e-12));
        let (lo, hi) = w.adjusted_wald(Z95).unwrap();
        assert!(close(lo, -46.58, 0.01), "{lo}");
        assert!(close(hi, 73.70, 0.01), "{hi}");

        // Weight 3 on the detractor instead: Σw = 9, p_w = 4/9, d_w = 3/9,
        // NPS_w = 100/9 = 11.11; Σw² = 9 + 1 + 4 + 9 = 23, n_eff = 81/23.
        let mut v = WeightedNps::default();
        v.add(Bucket::Promoter, 3.0);
        v.add(Bucket::Promoter, 1.0);
        v.add(Bucket::Passive, 2.0);
        v.add(Bucket::Detractor, 3.0);
        assert!(close(v.score().unwrap(), 100.0 / 9.0, 1e-12));
        assert!(close(v.n_effective().unwrap(), 81.0 / 23.0, 1e-12));
        let rest = v.minus(&w);
        assert_eq!(rest.responses, 0);
        assert!(close(rest.detractors, 1.0, 1e-12));
    }

    #[test]
    fn buckets_follow_the_published_cut_points() {
        for s in 0..=6 {
            assert_eq!(Bucket::from_score(s), Some(Bucket::Detractor));
        }
        assert_eq!(Bucket::from_score(7), Some(Bucket::Passive));
        assert_eq!(Bucket::from_score(8), Some(Bucket::Passive));
        assert_eq!(Bucket::from_score(9), Some(Bucket::Promoter));
        assert_eq!(Bucket::from_score(10), Some(Bucket::Promoter));
        assert_eq!(Bucket::from_score(11), None);
        assert_eq!(Bucket::Detractor.code(), -1);
        assert_eq!(Bucket::Passive.code(), 0);
        assert_eq!(Bucket::Promoter.code(), 1);
        assert_eq!(Bucket::Promoter.as_str(), "promoter");
        assert_eq!(Bucket::Passive.as_str(), "passive");
        assert_eq!(Bucket::Detractor.as_str(), "detractor");
    }

    #[test]
    fn from_buckets_and_add_count() {
        let nps = Nps::from_buckets(
            [0u8, 6, 7, 8, 9, 10, 10]
                .iter()
                .filter_map(|&s| Bucket::from_score(s)),
        );
        assert_eq!(nps, counts(3, 2, 2));
        assert_eq!(nps + counts(1, 0, 0), counts(4, 2, 2));
    }

    #[test]
    fn nps_equals_hundred_times_mean_code() {
        let scores = [0u8, 3, 6, 7, 8, 9, 10, 10, 10, 5];
        let buckets: Vec<Bucket> = scores
            .iter()
            .filter_map(|&s| Bucket::from_score(s))
            .collect();
        let mean = buckets.iter().map(|b| b.code() as f64).sum::<f64>() / buckets.len() as f64;
        let nps = Nps::from_buckets(buckets.iter().copied());
        assert!(close(nps.score().unwrap_or(f64::NAN), 100.0 * mean, 1e-12));
    }

    #[test]
    fn hand_computed_n100_p50_d20() {
        // N = 100, P = 50, passives 30, D = 20.
        // p = 0.5, d = 0.2, NPS = 100·(0.5 − 0.2) = 30.
        // Var = 100²·[0.5 + 0.2 − 0.3²]/100 = 10000·0.61/100 = 61, SE = √61 ≈ 7.8102.
        let nps = counts(50, 30, 20);
        assert!(close(nps.score().unwrap_or(f64::NAN), 30.0, 1e-12));
        assert!(close(nps.variance().unwrap_or(f64::NAN), 61.0, 1e-9));

        // Adjusted Wald: N' = 103, p' = 50.75/103 = 0.4927184466, d' = 20.75/103 = 0.2014563107,
        // NPS' = 30/103 = 0.2912621359 (exactly 30/103 since the 0.75s cancel).
        // p' + d' = 71.5/103 = 0.6941747573; (NPS')² = 900/10609 = 0.0848336319;
        // inner = 0.6941747573 − 0.0848336318 = 0.6093411255; /103 = 0.0059159333;
        // SE' = √0.0059159333 = 0.0769151042; z·SE' = 1.959963985·0.0769151042 = 0.1507508341.
        // CI = 100·(0.2912621359 ∓ 0.1507508341) = [14.0511302, 44.2012970].
        let (lo, hi) = nps.adjusted_wald(Z95).unwrap_or((f64::NAN, f64::NAN));
        assert!(close(lo, 14.0511302, 1e-6), "{lo}");
        assert!(close(hi, 44.2012970, 1e-6), "{hi}");
    }

    #[test]
    fn all_promoters() {
        // N = 10, P = 10: NPS 100, Var = 100²·[1 + 0 − 1]/10 = 0.
        let nps = counts(10, 0, 0);
        assert_eq!(nps.score(), Some(100.0));
        assert_eq!(nps.variance(), Some(0.0));
        // Adjusted: N' = 13, p' = 10.75/13 = 0.8269230769, d' = 0.75/13 = 0.0576923077,
        // NPS' = 10/13 = 0.7692307692; inner = 0.8846153846 − 0.5917159763 = 0.2928994083;
        // /13 = 0.0225307237; SE' = 0.1501023774; z·SE' = 0.2941952538.
        // CI = [100·0.4750355154, 100·1.0634260230] → upper clipped to 100.
        let (lo, hi) = nps.adjusted_wald(Z95).unwrap_or((f64::NAN, f64::NAN));
        assert!(close(lo, 47.50355154, 1e-6), "{lo}");
        assert_eq!(hi, 100.0);
    }

    #[test]
    fn all_detractors() {
        // Mirror image of all promoters.
        let nps = counts(0, 0, 10);
        assert_eq!(nps.score(), Some(-100.0));
        assert_eq!(nps.variance(), Some(0.0));
        let (lo, hi) = nps.adjusted_wald(Z95).unwrap_or((f64::NAN, f64::NAN));
        assert_eq!(lo, -100.0);
        assert!(close(hi, -47.50355154, 1e-6), "{hi}");
    }

    #[test]
    fn empty_group_has_no_figures() {
        let nps = Nps::default();
        assert_eq!(nps.score(), None);
        assert_eq!(nps.variance(), None);
        assert_eq!(nps.adjusted_wald(Z95), None);
        assert_eq!(compare(&nps, &counts(1, 0, 0)), None);
        assert_eq!(compare(&counts(1, 0, 0), &nps), None);
    }

    #[test]
    fn compare_hand_computed() {
        // a: N = 100, P = 50, D = 20 → NPS 30, Var 61 (see above).
        // b: N = 200, P = 80, D = 60 → p = 0.4, d = 0.3, NPS 10,
        //    Var = 100²·[0.7 − 0.01]/200 = 10000·0.69/200 = 34.5.
        // diff = 20, SE = √(61 + 34.5) = √95.5 = 9.7724101, z = 20/9.7724101 = 2.0465780.
        // p = 2·(1 − Φ(2.0465780)) = 2·0.0203498 ≈ 0.0406995.
        let c = compare(&counts(50, 30, 20), &counts(80, 60, 60));
        let c = c.unwrap_or(Comparison {
            diff: f64::NAN,
            se: f64::NAN,
            z: f64::NAN,
            p_value: f64::NAN,
        });
        assert!(close(c.diff, 20.0, 1e-12));
        assert!(close(c.se, 95.5f64.sqrt(), 1e-12));
        assert!(close(c.z, 2.046_578_0, 1e-6), "{}", c.z);
        assert!(close(c.p_value, 0.040_699_5, 1e-6), "{}", c.p_value);
    }

    #[test]
    fn compare_with_zero_variance() {
        let same = compare(&counts(5, 0, 0), &counts(7, 0, 0));
        assert_eq!(same.map(|c| (c.z, c.p_value)), Some((0.0, 1.0)));
        let apart = compare(&counts(5, 0, 0), &counts(0, 0, 7));
        assert_eq!(apart.map(|c| (c.z, c.p_value)), Some((f64::INFINITY, 0.0)));
    }

    #[test]
    fn normal_cdf_matches_reference_values() {
        // References: 0.5·erfc(−x/√2) from CPython's math.erfc (libm),
        // e.g. Φ(1.959963984540054) = 0.975 by definition of Z95.
        let cases: [(f64, f64); 14] = [
            (0.0, 0.5),
            (0.3, 0.617_911_422_188_952_6),
            (-0.6, 0.274_253_117_750_073_6),
            (1.0, 0.841_344_746_068_542_9),
            (-1.0, 0.158_655_253_931_457_05),
            (Z95, 0.975),
            (-Z95, 0.025),
            (2.5, 0.993_790_334_674_223_8),
            (-3.0, 0.001_349_898_031_630_095_7),
            (5.0, 0.999_999_713_348_428_1),
            (-5.0, 2.866_515_718_791_946e-7),
            (-8.0, 6.220_960_574_271_819e-16),
            (-40.0, 0.0),
            (40.0, 1.0),
        ];
        for (x, want) in cases {
            let got = normal_cdf(x);
            assert!(close(got, want, 1e-12), "Φ({x}) = {got}, want {want}");
        }
        // Far tail stays relatively accurate because it goes through erfc.
        let tail = normal_cdf(-8.0);
        assert!((tail / 6.220_960_574_271_819e-16 - 1.0).abs() < 1e-9);
        assert!(normal_cdf(f64::NAN).is_nan());
    }

    #[test]
    fn normal_cdf_is_symmetric_and_monotone() {
        let mut prev = 0.0;
        for i in -800..=800 {
            let x = i as f64 / 100.0;
            let v = normal_cdf(x);
            assert!(close(v + normal_cdf(-x), 1.0, 1e-15), "x = {x}");
            assert!(v >= prev, "not monotone at {x}");
            prev = v;
        }
    }
}
