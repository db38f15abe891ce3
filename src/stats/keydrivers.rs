//! Key-driver regression: all topics at once, from [`PatternCounts`].
//!
//! METHODS.md ("Driver regression") asks for three readings of the same
//! data, and this module gives all three from one screening of the topics:
//!
//! * **Linear model (OLS)** of the −100/0/+100 code on the 0/1 topic
//!   indicators. A coefficient reads "NPS points associated with a mention
//!   of T, holding the other topics fixed". Standard errors are
//!   heteroskedasticity-consistent (HC1, White 1980 with MacKinnon & White's
//!   n/(n − p) factor), because the variance of a trinomial code differs from
//!   one topic set to the next; the classical SE is reported beside it for
//!   checks against SPSS or Excel.
//! * **Logistic models (IRLS)** for is_detractor and is_promoter, log-odds
//!   with Wald intervals and odds ratios, which separate the drivers of low
//!   scores from the drivers of high ones.
//! * **Relative importance** of the linear model: Johnson's (2000) relative
//!   weights, with seeded bootstrap percentile intervals. Johnson's weights
//!   cost one k×k eigen-decomposition, so 1,000 replicates stay cheap at any
//!   number of topics; general dominance (Azen & Budescu 2003), which Thomas
//!   et al. (2014) prefer, needs the R² of all 2^k subsets, which is out of
//!   reach for a bootstrap at k = 20 (a million regressions per replicate).
//!   Both decompose R² and agree closely in practice (LeBreton et al. 2004),
//!   so general dominance is added as a point estimate, without interval,
//!   when the model has at most [`MAX_DOMINANCE_TOPICS`] topics.
//!
//! The data are the pattern counts, grouped by topic set: every response in
//! a set has the same indicators, so each regression is a weighted one over
//! a few thousand rows with exactly the estimates of the regression over the
//! N responses. Intervals use the normal quantile (the bases here are in the
//! hundreds at least; t₀.₉₇₅ with 100 degrees of freedom is 1.984 against
//! 1.960).
//!
//! Topics the models cannot estimate are not a panic or a `NaN` but a named
//! [`Warning`]: mentioned by nobody or everybody (constant), by fewer than
//! `min_n` responses (rare), exactly a linear combination of topics kept
//! before it (collinear), or, in one logistic model, all or none of whose
//! mentioners are in the outcome (separation). Those are dropped from the
//! model. Strong but not exact collinearity (variance inflation factor at or
//! above `vif_warn`) is kept and warned about, naming the most correlated
//! partner: the pair's coefficients share one effect and their split is
//! unstable.

use std::collections::HashMap;

use nalgebra::{DMatrix, DVector, SymmetricEigen};
use serde::Serialize;

use crate::stats::bootstrap::{run_replicates, summarise, topic_name, z_test, BootstrapSettings};
use crate::stats::nps::{Nps, Z95};
use crate::stats::patterns::{PatternCounts, PatternTable};

/// General dominance is computed when the linear model has at most this
/// many topics (2^12 = 4,096 subset regressions).
pub const MAX_DOMINANCE_TOPICS: usize = 12;

/// Relative variance left after regressing a topic on the topics kept
/// before it, below which it counts as an exact linear combination.
const COLLINEAR_TOL: f64 = 1e-9;

/// |log-odds| above this after convergence signals quasi-separation.
const LOG_ODDS_LIMIT: f64 = 15.0;

/// Settings of [`key_drivers`].
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct KeyDriverSettings {
    /// Topics mentioned by fewer responses are dropped (rare).
    pub min_n: u64,
    /// A kept topic whose variance inflation factor is at least this gets a
    /// collinearity warning (5 by default; 10 is the laxer rule of thumb).
    pub vif_warn: f64,
    /// Bootstrap of the relative weights.
    pub bootstrap: BootstrapSettings,
}

impl Default for KeyDriverSettings {
    fn default() -> Self {
        KeyDriverSettings {
            min_n: 30,
            vif_warn: 5.0,
            bootstrap: BootstrapSettings::default(),
        }
    }
}

/// Which model a warning or coefficient belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Model {
    /// OLS of the −100/0/+100 code.
    Linear,
    /// Logistic regression of is_detractor.
    Detractor,
    /// Logistic regression of is_promoter.
    Promoter,
}

/// What a [`Warning`] is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Issue {
    /// Mentioned by no response or by every response: no variation.
    Constant,
    /// Mentioned by fewer than `min_n` responses.
    Rare,
    /// An exact linear combination of topics kept before it.
    Collinear,
    /// Kept, but its variance inflation factor is at least `vif_warn`.
    HighVif,
    /// Logistic model: the topic predicts the outcome perfectly on one side
    /// (dropped), or its log-odds ran past ±15 (kept, unreliable).
    Separation,
    /// The logistic fit did not converge in 50 iterations.
    NotConverged,
    /// A model could not be fitted at all (too few responses, an outcome
    /// with no variation, a singular system).
    NoModel,
}

/// A named problem with a topic or a model.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Warning {
    /// What went wrong.
    pub issue: Issue,
    /// The topic concerned; `None` for a whole model.
    pub topic: Option<String>,
    /// The model concerned; `None` for all of them (screening).
    pub model: Option<Model>,
    /// Whether the topic was left out of the model(s).
    pub dropped: bool,
    /// One sentence for a reader, naming the topic and the reason.
    pub message: String,
}

/// One coefficient of the linear model, in NPS points.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LinearCoefficient {
    /// Topic name, or `(intercept)`.
    pub topic: String,
    /// Points of NPS associated with a mention, other topics fixed (for the
    /// intercept: NPS of responses that mention none of the model's topics).
    pub estimate: f64,
    /// HC1 robust standard error.
    pub se: f64,
    /// Classical OLS standard error, √(σ²·(X'X)⁻¹ⱼⱼ).
    pub se_classical: f64,
    /// estimate − 1.96·se.
    pub ci_low: f64,
    /// estimate + 1.96·se.
    pub ci_high: f64,
    /// Two-sided p-value of estimate/se.
    pub p_value: f64,
}

/// The OLS fit.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LinearModel {
    /// Responses in the fit.
    pub n: u64,
    /// Share of the variance of the code explained.
    pub r_squared: f64,
    /// The intercept.
    pub intercept: LinearCoefficient,
    /// One per topic in the model, in topic index order.
    pub coefficients: Vec<LinearCoefficient>,
}

/// One coefficient of a logistic model.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LogitCoefficient {
    /// Topic name, or `(intercept)`.
    pub topic: String,
    /// Change in the log-odds of the outcome with a mention.
    pub log_odds: f64,
    /// Wald standard error, from the inverse information at the fit.
    pub se: f64,
    /// log_odds − 1.96·se.
    pub ci_low: f64,
    /// log_odds + 1.96·se.
    pub ci_high: f64,
    /// exp(log_odds).
    pub odds_ratio: f64,
    /// exp(ci_low).
    pub odds_ratio_ci_low: f64,
    /// exp(ci_high).
    pub odds_ratio_ci_high: f64,
    /// Two-sided Wald p-value.
    pub p_value: f64,
}

/// One logistic fit.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LogisticModel {
    /// [`Model::Detractor`] or [`Model::Promoter`].
    pub outcome: Model,
    /// Responses in the fit.
    pub n: u64,
    /// Whether IRLS met its tolerance.
    pub converged: bool,
    /// IRLS iterations used.
    pub iterations: usize,
    /// The intercept.
    pub intercept: LogitCoefficient,
    /// One per topic in this model, in topic index order.
    pub coefficients: Vec<LogitCoefficient>,
}

/// A topic's share of the linear model's R².
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RelativeWeight {
    /// Topic name.
    pub topic: String,
    /// Johnson's relative weight (R² units; the weights sum to R²).
    pub weight: f64,
    /// weight / R² (0..1; sums to 1).
    pub share: f64,
    /// Bootstrap percentile interval of `weight`.
    pub ci_low: Option<f64>,
    /// Bootstrap percentile interval of `weight`.
    pub ci_high: Option<f64>,
    /// General dominance weight (R² units), when the model has at most
    /// [`MAX_DOMINANCE_TOPICS`] topics.
    pub general_dominance: Option<f64>,
}

/// Everything [`key_drivers`] finds.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct KeyDrivers {
    /// Responses.
    pub n: u64,
    /// Topics in the linear model (after screening), in index order.
    pub topics_in_model: Vec<String>,
    /// Every topic dropped or doubtful, and every model not fitted.
    pub warnings: Vec<Warning>,
    /// `None` when it could not be fitted (see `warnings`).
    pub linear: Option<LinearModel>,
    /// Logistic model of is_detractor.
    pub detractor: Option<LogisticModel>,
    /// Logistic model of is_promoter.
    pub promoter: Option<LogisticModel>,
    /// One per topic in the linear model; empty without a linear model.
    pub relative_weights: Vec<RelativeWeight>,
    /// The bootstrap used for the relative weights.
    pub bootstrap: BootstrapSettings,
    /// Replicates in which the relative weights were defined (a replicate
    /// where a topic goes unmentioned has none).
    pub valid_replicates: usize,
}

/// The responses grouped by topic set: every response in a row has the
/// same indicators.
struct SetRows {
    /// Topic indices of each row.
    topics: Vec<Vec<u32>>,
    /// Row of each pattern of the table.
    of_pattern: Vec<usize>,
}

impl SetRows {
    fn new(table: &PatternTable) -> SetRows {
        let mut index: HashMap<&[u32], usize> = HashMap::new();
        let mut topics = Vec::new();
        let mut of_pattern = Vec::with_capacity(table.len());
        for j in 0..table.len() {
            let set = table.topics_of(j);
            let row = *index.entry(set).or_insert_with(|| {
                topics.push(set.to_vec());
                topics.len() - 1
            });
            of_pattern.push(row);
        }
        SetRows { topics, of_pattern }
    }

    /// Bucket counts per row under the pattern counts `counts`.
    fn tally(&self, table: &PatternTable, counts: &[u64]) -> Vec<Nps> {
        let mut rows = vec![Nps::default(); self.topics.len()];
        for (j, &c) in counts.iter().enumerate() {
            crate::stats::patterns::add_n(&mut rows[self.of_pattern[j]], table.buckets[j], c);
        }
        rows
    }

    /// Model positions (0-based, without the intercept) of each row's
    /// topics, for the model columns `cols` (topic indices).
    fn positions(&self, cols: &[usize], n_topics: usize) -> Vec<Vec<usize>> {
        let mut pos = vec![None; n_topics];
        for (i, &t) in cols.iter().enumerate() {
            pos[t] = Some(i);
        }
        self.topics
            .iter()
            .map(|set| set.iter().filter_map(|&t| pos[t as usize]).collect())
            .collect()
    }
}

/// Σ_r w_r·x_r·x_r' with x_r = (1, indicators of row r): the (m+1)² weighted
/// cross-product matrix.
fn gram(x: &[Vec<usize>], w: &[f64], m: usize) -> DMatrix<f64> {
    let mut g = DMatrix::zeros(m + 1, m + 1);
    for (xr, &wr) in x.iter().zip(w) {
        if wr == 0.0 {
            continue;
        }
        g[(0, 0)] += wr;
        for (i, &a) in xr.iter().enumerate() {
            g[(0, a + 1)] += wr;
            for &b in &xr[i..] {
                g[(a + 1, b + 1)] += wr;
            }
        }
    }
    for i in 0..=m {
        for j in 0..i {
            let v = g[(j, i)] + g[(i, j)];
            g[(i, j)] = v;
            g[(j, i)] = v;
        }
    }
    g
}

/// Σ_r v_r·x_r.
fn xt(x: &[Vec<usize>], v: &[f64], m: usize) -> DVector<f64> {
    let mut out = DVector::zeros(m + 1);
    for (xr, &vr) in x.iter().zip(v) {
        out[0] += vr;
        for &a in xr {
            out[a + 1] += vr;
        }
    }
    out
}

/// x_r'β.
fn linear_predictor(xr: &[usize], beta: &DVector<f64>) -> f64 {
    beta[0] + xr.iter().map(|&a| beta[a + 1]).sum::<f64>()
}

/// Inverse of a symmetric positive definite matrix, `None` when it is not.
fn spd_inverse(m: DMatrix<f64>) -> Option<DMatrix<f64>> {
    let inv = m.cholesky()?.inverse();
    inv.iter().all(|v| v.is_finite()).then_some(inv)
}

/// The covariance matrix of the indicators (population, divided by N),
/// from their Gram matrix.
fn covariance(g: &DMatrix<f64>) -> DMatrix<f64> {
    let m = g.nrows() - 1;
    let n = g[(0, 0)];
    DMatrix::from_fn(m, m, |i, j| {
        g[(i + 1, j + 1)] / n - (g[(0, i + 1)] / n) * (g[(0, j + 1)] / n)
    })
}

/// Correlations of the indicators with each other and with the code, from
/// the Gram matrix `g`, Σ x·y (`xty`, first entry Σ y) and Σ y². `None`
/// when an indicator or the code has no variance.
fn correlations(
    g: &DMatrix<f64>,
    xty: &DVector<f64>,
    syy: f64,
) -> Option<(DMatrix<f64>, DVector<f64>)> {
    let m = g.nrows() - 1;
    let n = g[(0, 0)];
    if n <= 0.0 {
        return None;
    }
    let cov = covariance(g);
    let ybar = xty[0] / n;
    let vy = syy / n - ybar * ybar;
    let sd: Vec<f64> = (0..m).map(|i| cov[(i, i)].max(0.0).sqrt()).collect();
    let tiny = 1e-12;
    if vy <= tiny || sd.iter().any(|&s| s <= tiny) {
        return None;
    }
    let rxx = DMatrix::from_fn(m, m, |i, j| cov[(i, j)] / (sd[i] * sd[j]));
    let rxy = DVector::from_fn(m, |i, _| {
        (xty[i + 1] / n - (g[(0, i + 1)] / n) * ybar) / (sd[i] * vy.sqrt())
    });
    Some((rxx, rxy))
}

/// Johnson's relative weights: with R_xx = VΛV', Λ½ = VΛ^½V' (the
/// correlations of the predictors with their closest orthonormal
/// counterparts), β* = Λ½⁻¹·r_xy and weight_j = Σ_k (Λ½)²_jk·β*²_k. The
/// weights sum to R². `None` when R_xx is (numerically) singular.
pub(crate) fn johnson_weights(rxx: &DMatrix<f64>, rxy: &DVector<f64>) -> Option<Vec<f64>> {
    let m = rxx.nrows();
    if m == 0 {
        return Some(Vec::new());
    }
    let eig = SymmetricEigen::new(rxx.clone());
    if eig.eigenvalues.iter().any(|&l| l.is_nan() || l <= 1e-10) {
        return None;
    }
    let v = &eig.eigenvectors;
    let sqrt_l = DMatrix::from_diagonal(&eig.eigenvalues.map(f64::sqrt));
    let inv_sqrt_l = DMatrix::from_diagonal(&eig.eigenvalues.map(|l| 1.0 / l.sqrt()));
    let lambda = v * sqrt_l * v.transpose();
    let beta = v * inv_sqrt_l * v.transpose() * rxy;
    let w = (0..m)
        .map(|j| {
            (0..m)
                .map(|k| lambda[(j, k)].powi(2) * beta[k].powi(2))
                .sum()
        })
        .collect::<Vec<f64>>();
    w.iter().all(|x| x.is_finite()).then_some(w)
}

/// General dominance weights (Azen & Budescu 2003): for each predictor, the
/// mean over subset sizes s = 0..m−1 of the mean increase in R² from adding
/// it to the subsets of size s of the others. They sum to R². `None` above
/// [`MAX_DOMINANCE_TOPICS`] predictors or for a singular R_xx.
pub(crate) fn general_dominance(rxx: &DMatrix<f64>, rxy: &DVector<f64>) -> Option<Vec<f64>> {
    let m = rxx.nrows();
    if m > MAX_DOMINANCE_TOPICS {
        return None;
    }
    let subsets = 1usize << m;
    let mut r2 = vec![0.0; subsets];
    for (mask, slot) in r2.iter_mut().enumerate().skip(1) {
        let idx: Vec<usize> = (0..m).filter(|&i| mask >> i & 1 == 1).collect();
        let rss = DMatrix::from_fn(idx.len(), idx.len(), |a, b| rxx[(idx[a], idx[b])]);
        let rs = DVector::from_fn(idx.len(), |a, _| rxy[idx[a]]);
        let sol = rss.cholesky()?.solve(&rs);
        *slot = rs.dot(&sol);
    }
    // C(m−1, s) for s = 0..m−1.
    let mut binom = vec![1.0f64; m.max(1)];
    for s in 1..m {
        binom[s] = binom[s - 1] * (m - s) as f64 / s as f64;
    }
    Some(
        (0..m)
            .map(|j| {
                let mut by_size = vec![0.0; m];
                for mask in 0..subsets {
                    if mask >> j & 1 == 0 {
                        by_size[mask.count_ones() as usize] += r2[mask | 1 << j] - r2[mask];
                    }
                }
                by_size.iter().zip(&binom).map(|(s, c)| s / c).sum::<f64>() / m as f64
            })
            .collect(),
    )
}

/// Fits the key-driver models to `counts`; see the module docs. `topics`
/// names the topics in index order (a missing name reads `#i`).
pub fn key_drivers(
    counts: &PatternCounts,
    topics: &[String],
    settings: &KeyDriverSettings,
) -> KeyDrivers {
    let table = counts.table();
    let data = Responses::new(&table, topics);
    let name = |t: usize| data.name(t);
    let mut warnings = Vec::new();
    let cols = data.screen(settings, &mut warnings);
    let x = data.rows.positions(&cols, table.n_topics);
    let linear = fit_linear(&x, &data.row_nps, &cols, &name, &mut warnings);
    let detractor = data.fit_logistic(Model::Detractor, &cols, &mut warnings);
    let promoter = data.fit_logistic(Model::Promoter, &cols, &mut warnings);
    let (relative_weights, valid_replicates) = match &linear {
        Some(lin) => data.relative_weights(&x, &cols, lin.r_squared, &settings.bootstrap),
        None => (Vec::new(), 0),
    };
    KeyDrivers {
        n: data.all.n,
        topics_in_model: cols.iter().map(|&t| name(t)).collect(),
        warnings,
        linear,
        detractor,
        promoter,
        relative_weights,
        bootstrap: settings.bootstrap,
        valid_replicates,
    }
}

/// The responses as the models read them: grouped by topic set, with the
/// bucket counts of each row, of each topic's mentioners and of everyone.
struct Responses<'a> {
    table: &'a PatternTable,
    /// Topic names in index order.
    topics: &'a [String],
    rows: SetRows,
    /// Bucket counts of each row of `rows`.
    row_nps: Vec<Nps>,
    /// Bucket counts of each topic's mentioners.
    with: Vec<Nps>,
    /// Bucket counts of all responses.
    all: Nps,
}

impl<'a> Responses<'a> {
    /// Groups the responses of `table` by topic set and counts them.
    fn new(table: &'a PatternTable, topics: &'a [String]) -> Responses<'a> {
        let rows = SetRows::new(table);
        let row_nps = rows.tally(table, &table.counts);
        let mut with = Vec::new();
        let all = table.tally(&table.counts, &mut with);
        Responses {
            table,
            topics,
            rows,
            row_nps,
            with,
            all,
        }
    }

    /// Name of topic `t` (`#t` when it has none).
    fn name(&self, t: usize) -> String {
        topic_name(self.topics, t)
    }

    /// Screening: drops constant and rare topics, then exact linear
    /// combinations in index order, and warns about strong collinearity.
    /// Returns the topics of the linear model, in index order.
    fn screen(&self, settings: &KeyDriverSettings, warnings: &mut Vec<Warning>) -> Vec<usize> {
        let candidates = self.varying_topics(settings.min_n, warnings);
        let weights: Vec<f64> = self.row_nps.iter().map(|r| r.n as f64).collect();
        let cov = covariance(&gram(
            &self.rows.positions(&candidates, self.table.n_topics),
            &weights,
            candidates.len(),
        ));
        let kept_pos = self.independent_topics(&cov, &candidates, warnings);
        let cols: Vec<usize> = kept_pos.iter().map(|&j| candidates[j]).collect();
        self.warn_high_vif(&cov, &kept_pos, &cols, settings.vif_warn, warnings);
        cols
    }

    /// The topics mentioned by some but not all responses and by at least
    /// `min_n`; a warning for each of the others.
    fn varying_topics(&self, min_n: u64, warnings: &mut Vec<Warning>) -> Vec<usize> {
        let n = self.all.n;
        let mut candidates = Vec::new();
        for (t, w) in self.with.iter().enumerate() {
            if w.n == 0 || w.n == n {
                let who = if w.n == 0 {
                    "no response"
                } else {
                    "every response"
                };
                warnings.push(Warning {
                    issue: Issue::Constant,
                    topic: Some(self.name(t)),
                    model: None,
                    dropped: true,
                    message: format!("topic `{}` is mentioned by {who}: it cannot explain differences and is left out of the models", self.name(t)),
                });
            } else if w.n < min_n {
                warnings.push(Warning {
                    issue: Issue::Rare,
                    topic: Some(self.name(t)),
                    model: None,
                    dropped: true,
                    message: format!(
                        "topic `{}` has {} mentions, fewer than min_n = {}: left out of the models",
                        self.name(t),
                        w.n,
                        min_n
                    ),
                });
            } else {
                candidates.push(t);
            }
        }
        candidates
    }

    /// Positions in `candidates` (whose indicators have the covariance
    /// `cov`) of the topics that are not an exact linear combination of
    /// those kept before them; a warning for each of the others.
    fn independent_topics(
        &self,
        cov: &DMatrix<f64>,
        candidates: &[usize],
        warnings: &mut Vec<Warning>,
    ) -> Vec<usize> {
        let mut kept_pos: Vec<usize> = Vec::new();
        for j in 0..candidates.len() {
            let resid = if kept_pos.is_empty() {
                cov[(j, j)]
            } else {
                let ckk = DMatrix::from_fn(kept_pos.len(), kept_pos.len(), |a, b| {
                    cov[(kept_pos[a], kept_pos[b])]
                });
                let ckj = DVector::from_fn(kept_pos.len(), |a, _| cov[(kept_pos[a], j)]);
                match ckk.cholesky() {
                    Some(ch) => cov[(j, j)] - ckj.dot(&ch.solve(&ckj)),
                    None => 0.0,
                }
            };
            if resid > COLLINEAR_TOL * cov[(j, j)] {
                kept_pos.push(j);
                continue;
            }
            let partner = kept_pos
                .iter()
                .copied()
                .max_by(|&a, &b| {
                    correlation(cov, a, j)
                        .abs()
                        .total_cmp(&correlation(cov, b, j).abs())
                })
                .map(|a| self.name(candidates[a]))
                .unwrap_or_default();
            warnings.push(Warning {
                issue: Issue::Collinear,
                topic: Some(self.name(candidates[j])),
                model: None,
                dropped: true,
                message: format!(
                    "topic `{}` is an exact linear combination of topics already in the model (most correlated: `{partner}`): left out",
                    self.name(candidates[j])
                ),
            });
        }
        kept_pos
    }

    /// Warns about each kept topic `cols[a]` (at position `kept_pos[a]` of
    /// `cov`) whose variance inflation factor is at least `vif_warn`.
    fn warn_high_vif(
        &self,
        cov: &DMatrix<f64>,
        kept_pos: &[usize],
        cols: &[usize],
        vif_warn: f64,
        warnings: &mut Vec<Warning>,
    ) {
        if cols.len() <= 1 {
            return;
        }
        let rxx = DMatrix::from_fn(cols.len(), cols.len(), |a, b| {
            correlation(cov, kept_pos[a], kept_pos[b])
        });
        let Some(inv) = spd_inverse(rxx.clone()) else {
            return;
        };
        for a in 0..cols.len() {
            let vif = inv[(a, a)];
            if vif >= vif_warn {
                let partner = (0..cols.len())
                    .filter(|&b| b != a)
                    .max_by(|&x, &y| rxx[(a, x)].abs().total_cmp(&rxx[(a, y)].abs()))
                    .unwrap_or(a);
                warnings.push(Warning {
                    issue: Issue::HighVif,
                    topic: Some(self.name(cols[a])),
                    model: None,
                    dropped: false,
                    message: format!(
                        "topic `{}` is strongly collinear (VIF {vif:.1}; correlation {:.2} with `{}`): kept, but its coefficient and its partner's are unstable",
                        self.name(cols[a]),
                        rxx[(a, partner)],
                        self.name(cols[partner])
                    ),
                });
            }
        }
    }

    /// Johnson's relative weights of the linear model on the topics `cols`
    /// (row positions `x`, R² `r_squared`) with their bootstrap intervals,
    /// and the number of replicates in which they were defined. Empty when
    /// the weights are not defined on the data themselves.
    fn relative_weights(
        &self,
        x: &[Vec<usize>],
        cols: &[usize],
        r_squared: f64,
        bootstrap: &BootstrapSettings,
    ) -> (Vec<RelativeWeight>, usize) {
        let (table, rows) = (self.table, &self.rows);
        let moments = |rn: &[Nps]| {
            let w: Vec<f64> = rn.iter().map(|r| r.n as f64).collect();
            let s: Vec<f64> = rn
                .iter()
                .map(|r| 100.0 * (r.promoters as f64 - r.detractors as f64))
                .collect();
            let syy: f64 = rn
                .iter()
                .map(|r| 1e4 * (r.promoters + r.detractors) as f64)
                .sum();
            correlations(&gram(x, &w, cols.len()), &xt(x, &s, cols.len()), syy)
        };
        let Some((rxx, rxy)) = moments(&self.row_nps) else {
            return (Vec::new(), 0);
        };
        let Some(weights) = johnson_weights(&rxx, &rxy) else {
            return (Vec::new(), 0);
        };
        let dominance = general_dominance(&rxx, &rxy);
        let reps: Vec<Option<Vec<f64>>> = run_replicates(table, bootstrap, |draw| {
            let (rxx, rxy) = moments(&rows.tally(table, draw))?;
            johnson_weights(&rxx, &rxy)
        });
        let valid: Vec<&Vec<f64>> = reps.iter().flatten().collect();
        let level = bootstrap.level();
        let relative_weights = cols
            .iter()
            .enumerate()
            .map(|(a, &t)| {
                let mut v: Vec<f64> = valid.iter().map(|w| w[a]).collect();
                let (ci_low, ci_high, _) = summarise(&mut v, level);
                RelativeWeight {
                    topic: self.name(t),
                    weight: weights[a],
                    share: if r_squared > 0.0 {
                        weights[a] / r_squared
                    } else {
                        0.0
                    },
                    ci_low,
                    ci_high,
                    general_dominance: dominance.as_ref().map(|d| d[a]),
                }
            })
            .collect();
        (relative_weights, valid.len())
    }
}

/// Correlation of indicators `a` and `b`, from their covariance matrix.
fn correlation(cov: &DMatrix<f64>, a: usize, b: usize) -> f64 {
    cov[(a, b)] / (cov[(a, a)] * cov[(b, b)]).sqrt()
}

/// A warning that `model` could not be fitted.
fn no_model(model: Model, message: String) -> Warning {
    Warning {
        issue: Issue::NoModel,
        topic: None,
        model: Some(model),
        dropped: false,
        message,
    }
}

/// OLS of the ±100 code on the rows' indicators, weighted by row size.
fn fit_linear(
    x: &[Vec<usize>],
    rows: &[Nps],
    cols: &[usize],
    name: &dyn Fn(usize) -> String,
    warnings: &mut Vec<Warning>,
) -> Option<LinearModel> {
    let m = cols.len();
    let n: u64 = rows.iter().map(|r| r.n).sum();
    let p = m + 1;
    if n as usize <= p {
        warnings.push(no_model(
            Model::Linear,
            format!("linear model not fitted: {n} responses for {p} parameters"),
        ));
        return None;
    }
    let w: Vec<f64> = rows.iter().map(|r| r.n as f64).collect();
    let s: Vec<f64> = rows
        .iter()
        .map(|r| 100.0 * (r.promoters as f64 - r.detractors as f64))
        .collect();
    let syy: f64 = rows
        .iter()
        .map(|r| 1e4 * (r.promoters + r.detractors) as f64)
        .sum();
    let g = gram(x, &w, m);
    let xty = xt(x, &s, m);
    let Some(inv) = spd_inverse(g) else {
        warnings.push(no_model(
            Model::Linear,
            "linear model not fitted: singular design".into(),
        ));
        return None;
    };
    let beta = &inv * &xty;
    let nf = n as f64;
    let ybar = xty[0] / nf;
    let tss = syy - nf * ybar * ybar;
    if tss <= 1e-9 * syy.max(1.0) {
        warnings.push(no_model(
            Model::Linear,
            "linear model not fitted: every response is in the same bucket".into(),
        ));
        return None;
    }
    // Per row: Σ of squared residuals of its responses.
    let e2: Vec<f64> = x
        .iter()
        .zip(rows)
        .map(|(xr, r)| {
            let f = linear_predictor(xr, &beta);
            r.promoters as f64 * (100.0 - f).powi(2)
                + r.passives as f64 * f * f
                + r.detractors as f64 * (100.0 + f).powi(2)
        })
        .collect();
    let rss: f64 = e2.iter().sum();
    let df = nf - p as f64;
    let sigma2 = rss / df;
    let meat = gram(x, &e2, m);
    let hc1 = &inv * meat * &inv * (nf / df);
    let coef = |i: usize, topic: String| {
        let se = hc1[(i, i)].max(0.0).sqrt();
        let (_, p_value) = z_test(beta[i], se);
        LinearCoefficient {
            topic,
            estimate: beta[i],
            se,
            se_classical: (sigma2 * inv[(i, i)]).max(0.0).sqrt(),
            ci_low: beta[i] - Z95 * se,
            ci_high: beta[i] + Z95 * se,
            p_value,
        }
    };
    Some(LinearModel {
        n,
        r_squared: (1.0 - rss / tss).clamp(0.0, 1.0),
        intercept: coef(0, "(intercept)".into()),
        coefficients: cols
            .iter()
            .enumerate()
            .map(|(a, &t)| coef(a + 1, name(t)))
            .collect(),
    })
}

/// log σ(η) = −softplus(−η), computed without overflow.
fn log_sigmoid(eta: f64) -> f64 {
    -((-eta).max(0.0) + (-eta.abs()).exp().ln_1p())
}

/// The outcome count of a logistic model among the responses counted in `c`.
fn successes(outcome: Model, c: &Nps) -> u64 {
    match outcome {
        Model::Promoter => c.promoters,
        _ => c.detractors,
    }
}

/// The responses a logistic model is about, in words.
fn outcome_words(outcome: Model) -> &'static str {
    match outcome {
        Model::Promoter => "promoters",
        _ => "detractors",
    }
}

impl Responses<'_> {
    /// Logistic regression of one outcome by IRLS with step halving.
    fn fit_logistic(
        &self,
        outcome: Model,
        kept: &[usize],
        warnings: &mut Vec<Warning>,
    ) -> Option<LogisticModel> {
        let what = outcome_words(outcome);
        let (n, total) = (self.all.n, successes(outcome, &self.all));
        if total == 0 || total == n {
            warnings.push(no_model(
                outcome,
                format!("logistic model of {what} not fitted: {total} of {n} responses are {what}"),
            ));
            return None;
        }
        let cols = self.unseparated_topics(outcome, kept, warnings);
        let m = cols.len();
        if n as usize <= m + 1 {
            warnings.push(no_model(
                outcome,
                format!(
                    "logistic model of {what} not fitted: {n} responses for {} parameters",
                    m + 1
                ),
            ));
            return None;
        }
        let data = Binomial {
            x: self.rows.positions(&cols, self.table.n_topics),
            trials: self.row_nps.iter().map(|r| r.n as f64).collect(),
            succ: self
                .row_nps
                .iter()
                .map(|r| successes(outcome, r) as f64)
                .collect(),
            m,
        };
        let fit = data.irls(total as f64 / n as f64);
        let (info, _) = data.information(&fit.beta);
        let Some(cov) = spd_inverse(info) else {
            warnings.push(no_model(
                outcome,
                format!("logistic model of {what} not fitted: singular information matrix"),
            ));
            return None;
        };
        self.warn_unreliable_fit(outcome, &cols, &fit, warnings);
        Some(self.logistic_model(outcome, &cols, &fit, &cov))
    }

    /// The topics of `kept` that do not predict the outcome perfectly on
    /// either side (such a topic has no finite MLE); a warning for each of
    /// the others.
    fn unseparated_topics(
        &self,
        outcome: Model,
        kept: &[usize],
        warnings: &mut Vec<Warning>,
    ) -> Vec<usize> {
        let what = outcome_words(outcome);
        let (n, total) = (self.all.n, successes(outcome, &self.all));
        let with = &self.with;
        let mut cols = Vec::new();
        for &t in kept {
            let in_t = successes(outcome, &with[t]);
            let out_t = total - in_t;
            let (n_t, n_out) = (with[t].n, n - with[t].n);
            if in_t == 0 || in_t == n_t || out_t == 0 || out_t == n_out {
                let side = if in_t == 0 || in_t == n_t {
                    "mentioning"
                } else {
                    "not mentioning"
                };
                let share = if in_t == 0 || out_t == 0 {
                    "none"
                } else {
                    "all"
                };
                warnings.push(Warning {
                    issue: Issue::Separation,
                    topic: Some(self.name(t)),
                    model: Some(outcome),
                    dropped: true,
                    message: format!(
                        "topic `{}`: {share} of the responses {side} it are {what}, so its log-odds are infinite: left out of the {what} model",
                        self.name(t)
                    ),
                });
            } else {
                cols.push(t);
            }
        }
        cols
    }

    /// Warns when the fit did not converge, and about each topic of `cols`
    /// whose log-odds ran past [`LOG_ODDS_LIMIT`] (quasi-separation).
    fn warn_unreliable_fit(
        &self,
        outcome: Model,
        cols: &[usize],
        fit: &IrlsFit,
        warnings: &mut Vec<Warning>,
    ) {
        let what = outcome_words(outcome);
        if !fit.converged {
            warnings.push(Warning {
                issue: Issue::NotConverged,
                topic: None,
                model: Some(outcome),
                dropped: false,
                message: format!("logistic model of {what} did not converge in 50 iterations: read its coefficients with care"),
            });
        }
        for (a, &t) in cols.iter().enumerate() {
            if fit.beta[a + 1].abs() > LOG_ODDS_LIMIT {
                warnings.push(Warning {
                    issue: Issue::Separation,
                    topic: Some(self.name(t)),
                    model: Some(outcome),
                    dropped: false,
                    message: format!(
                        "topic `{}`: log-odds {:.1} in the {what} model (quasi-separation with other topics): unreliable",
                        self.name(t),
                        fit.beta[a + 1]
                    ),
                });
            }
        }
    }

    /// The coefficients of `fit` on the topics `cols`, with Wald intervals
    /// from the covariance matrix `cov`.
    fn logistic_model(
        &self,
        outcome: Model,
        cols: &[usize],
        fit: &IrlsFit,
        cov: &DMatrix<f64>,
    ) -> LogisticModel {
        let beta = &fit.beta;
        let coef = |i: usize, topic: String| {
            let se = cov[(i, i)].max(0.0).sqrt();
            let (ci_low, ci_high) = (beta[i] - Z95 * se, beta[i] + Z95 * se);
            let (_, p_value) = z_test(beta[i], se);
            LogitCoefficient {
                topic,
                log_odds: beta[i],
                se,
                ci_low,
                ci_high,
                odds_ratio: beta[i].exp(),
                odds_ratio_ci_low: ci_low.exp(),
                odds_ratio_ci_high: ci_high.exp(),
                p_value,
            }
        };
        LogisticModel {
            outcome,
            n: self.all.n,
            converged: fit.converged,
            iterations: fit.iterations,
            intercept: coef(0, "(intercept)".into()),
            coefficients: cols
                .iter()
                .enumerate()
                .map(|(a, &t)| coef(a + 1, self.name(t)))
                .collect(),
        }
    }
}

/// The data of one logistic model, row by row: model positions of the
/// row's topics, responses (trials) and responses in the outcome
/// (successes).
struct Binomial {
    x: Vec<Vec<usize>>,
    trials: Vec<f64>,
    succ: Vec<f64>,
    /// Topics in the model.
    m: usize,
}

/// Where IRLS stopped.
struct IrlsFit {
    /// Intercept, then one log-odds per topic.
    beta: DVector<f64>,
    /// Whether the relative change of the deviance fell below 1e-10.
    converged: bool,
    /// Iterations used (at most 50).
    iterations: usize,
}

impl Binomial {
    /// −2 × the log-likelihood at `beta`.
    fn deviance(&self, beta: &DVector<f64>) -> f64 {
        -2.0 * self
            .x
            .iter()
            .zip(self.trials.iter().zip(&self.succ))
            .map(|(xr, (&nr, &sr))| {
                let eta = linear_predictor(xr, beta);
                sr * log_sigmoid(eta) + (nr - sr) * log_sigmoid(-eta)
            })
            .sum::<f64>()
    }

    /// The information matrix X'WX at `beta` and X'Wz, z the IRLS working
    /// response.
    fn information(&self, beta: &DVector<f64>) -> (DMatrix<f64>, DVector<f64>) {
        let x = &self.x;
        let mut w = Vec::with_capacity(x.len());
        let mut wz = Vec::with_capacity(x.len());
        for (xr, (&nr, &sr)) in x.iter().zip(self.trials.iter().zip(&self.succ)) {
            let eta = linear_predictor(xr, beta);
            let mu = 1.0 / (1.0 + (-eta).exp());
            let v = (mu * (1.0 - mu)).max(1e-300);
            w.push(nr * v);
            wz.push(nr * v * eta + (sr - nr * mu));
        }
        (gram(x, &w, self.m), xt(x, &wz, self.m))
    }

    /// IRLS with step halving, from the intercept-only fit of the outcome
    /// rate `rate`, for at most 50 iterations.
    fn irls(&self, rate: f64) -> IrlsFit {
        let mut beta = DVector::zeros(self.m + 1);
        beta[0] = (rate / (1.0 - rate)).ln();
        let mut dev = self.deviance(&beta);
        let mut converged = false;
        let mut iterations = 0;
        while iterations < 50 {
            iterations += 1;
            let (info, score) = self.information(&beta);
            let Some(ch) = info.cholesky() else {
                break;
            };
            let mut next = ch.solve(&score);
            let mut next_dev = self.deviance(&next);
            let mut halvings = 0;
            while (next_dev.is_nan() || next_dev > dev + 1e-12 * dev.abs()) && halvings < 30 {
                next = (&next + &beta) * 0.5;
                next_dev = self.deviance(&next);
                halvings += 1;
            }
            let change = (next_dev - dev).abs() / (next_dev.abs() + 0.1);
            beta = next;
            dev = next_dev;
            if change < 1e-10 {
                converged = true;
                break;
            }
        }
        IrlsFit {
            beta,
            converged,
            iterations,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::nps::Bucket;

    const D: Bucket = Bucket::Detractor;
    const PA: Bucket = Bucket::Passive;
    const P: Bucket = Bucket::Promoter;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    fn quick() -> KeyDriverSettings {
        KeyDriverSettings {
            min_n: 1,
            bootstrap: BootstrapSettings {
                replicates: 50,
                ..BootstrapSettings::default()
            },
            ..KeyDriverSettings::default()
        }
    }

    #[test]
    fn one_topic_ols_is_the_difference_of_means() {
        // Topic mentioned by D, D, P (mean code −100/3); not by P, P, PA, D
        // (mean code 25). OLS with one dummy: intercept = mean of ¬T = 25,
        // slope = −33.333 − 25 = −58.333.
        // Classical SE: residuals in T: −66.67, −66.67, 133.33 → SS 26666.67;
        // in ¬T: 75, 75, −25, −125 → SS 27500; σ² = 54166.67/(7 − 2) = 10833.33;
        // Var(slope) = σ²·(1/3 + 1/4) = 6319.44 → SE 79.495.
        // HC1: Var(slope) = [SS_T/3² + SS_¬T/4²]·7/5 = (2962.96 + 1718.75)·1.4
        //      = 6554.40 → SE 80.959.
        let mut c = PatternCounts::new(1);
        for (b, t) in [(D, 1), (D, 1), (P, 1), (P, 0), (P, 0), (PA, 0), (D, 0)] {
            c.add(b, if t == 1 { &[0][..] } else { &[] });
        }
        let kd = key_drivers(&c, &names(&["t"]), &quick());
        let lin = kd.linear.as_ref().expect("linear model");
        assert!(close(lin.intercept.estimate, 25.0, 1e-9));
        let slope = &lin.coefficients[0];
        assert!(close(slope.estimate, -100.0 / 3.0 - 25.0, 1e-9));
        assert!(
            close(slope.se_classical, 6319.444444f64.sqrt(), 1e-5),
            "{}",
            slope.se_classical
        );
        assert!(close(slope.se, 6554.398148f64.sqrt(), 1e-5), "{}", slope.se);
        // R² = 1 − RSS/TSS; TSS = Σy² − N·ȳ² = 60000 − 7·(0)² = 60000 (ȳ = 0):
        // R² = 1 − 54166.67/60000 = 0.097222.
        assert!(close(lin.r_squared, 0.0972222, 1e-6));
        // One predictor: its relative weight and dominance are R².
        let rw = &kd.relative_weights[0];
        assert!(close(rw.weight, lin.r_squared, 1e-9));
        assert!(close(rw.share, 1.0, 1e-9));
        assert!(close(
            rw.general_dominance.unwrap_or(f64::NAN),
            lin.r_squared,
            1e-9
        ));
    }

    #[test]
    fn one_topic_logistic_is_the_log_odds_ratio() {
        // Detractors: T has 2 of 3, ¬T 1 of 4.
        // Intercept = logit(1/4) = ln(1/3) = −1.098612; slope = ln((2/1)/(1/3)) = ln 6 = 1.791759.
        // SE(slope) = √(1/2 + 1/1 + 1/1 + 1/3) = √2.833333 = 1.683251 (Woolf).
        let mut c = PatternCounts::new(1);
        for (b, t) in [(D, 1), (D, 1), (P, 1), (P, 0), (P, 0), (PA, 0), (D, 0)] {
            c.add(b, if t == 1 { &[0][..] } else { &[] });
        }
        let kd = key_drivers(&c, &names(&["t"]), &quick());
        let det = kd.detractor.as_ref().expect("detractor model");
        assert!(det.converged);
        assert!(close(det.intercept.log_odds, (1.0f64 / 3.0).ln(), 1e-8));
        let s = &det.coefficients[0];
        assert!(close(s.log_odds, 6f64.ln(), 1e-8));
        assert!(close(s.odds_ratio, 6.0, 1e-7));
        assert!(close(s.se, 2.833333333f64.sqrt(), 1e-6));
        assert!(close(
            s.odds_ratio_ci_low,
            (6f64.ln() - Z95 * s.se).exp(),
            1e-9
        ));
        // Promoters: T 1 of 3, ¬T 2 of 4: slope = ln((1/2)/(2/2)) = ln 0.5.
        let pro = kd.promoter.as_ref().expect("promoter model");
        assert!(close(pro.coefficients[0].log_odds, 0.5f64.ln(), 1e-8));
    }

    #[test]
    fn uncorrelated_topics_have_squared_validities_as_weights() {
        // A balanced 2×2 layout (each topic set equally often) makes the two
        // indicators uncorrelated, so Johnson's weights and general dominance
        // both equal r²_jy.
        let mut c = PatternCounts::new(2);
        let cells: [(&[usize], [u64; 3]); 4] = [
            (&[], [2, 3, 5]), // D, PA, P counts
            (&[0], [5, 3, 2]),
            (&[1], [3, 3, 4]),
            (&[0, 1], [6, 2, 2]),
        ];
        for (set, [d, pa, p]) in cells {
            c.add_count(D, set, d);
            c.add_count(PA, set, pa);
            c.add_count(P, set, p);
        }
        let kd = key_drivers(&c, &names(&["a", "b"]), &quick());
        // Codes (÷100): cell means 0.3, −0.3, 0.1, −0.4; x_a = 1 in cells 2, 4.
        // ȳ = −0.075; E[y²] = (7 + 7 + 7 + 8)/40 = 0.725; Var y = 0.719375.
        // Cov(x_a, y) = E[x_a y] − 0.5·ȳ = (−0.3 − 0.4)/4 + 0.0375 = −0.1375,
        // r_a = −0.1375/(0.5·√0.719375) = −0.324234; r_a² = 0.105130.
        // Cov(x_b, y) = (0.1 − 0.4)/4 + 0.0375 = −0.0375, r_b² = 0.0078188.
        let lin = kd.linear.as_ref().expect("linear");
        let rw = &kd.relative_weights;
        assert!(close(
            rw[0].weight,
            0.1375f64.powi(2) / (0.25 * 0.719375),
            1e-9
        ));
        assert!(close(
            rw[1].weight,
            0.0375f64.powi(2) / (0.25 * 0.719375),
            1e-9
        ));
        assert!(close(
            rw[0].general_dominance.unwrap_or(f64::NAN),
            rw[0].weight,
            1e-9
        ));
        assert!(close(rw[0].weight + rw[1].weight, lin.r_squared, 1e-9));
        assert!(rw[0]
            .ci_low
            .zip(rw[0].ci_high)
            .is_some_and(|(lo, hi)| lo <= hi));
    }

    #[test]
    fn correlated_pair_weights_match_closed_forms() {
        // Two predictors with correlation ρ, validities r1, r2:
        // R² = (r1² + r2² − 2ρ·r1·r2)/(1 − ρ²);
        // general dominance: GD1 = [r1² + (R² − r2²)]/2;
        // Johnson: Λ½ = [[a, b], [b, a]] with a = (√(1+ρ) + √(1−ρ))/2,
        // b = (√(1+ρ) − √(1−ρ))/2; β* = Λ½⁻¹·r; RW1 = a²β1² + b²β2².
        let (rho, r1, r2) = (0.5f64, 0.4f64, 0.3f64);
        let rxx = DMatrix::from_row_slice(2, 2, &[1.0, rho, rho, 1.0]);
        let rxy = DVector::from_row_slice(&[r1, r2]);
        let r2_full = (r1 * r1 + r2 * r2 - 2.0 * rho * r1 * r2) / (1.0 - rho * rho);
        // = (0.16 + 0.09 − 0.12)/0.75 = 0.173333.
        assert!(close(r2_full, 0.1733333, 1e-6));
        let gd = general_dominance(&rxx, &rxy).unwrap_or_default();
        assert!(close(gd[0], (r1 * r1 + r2_full - r2 * r2) / 2.0, 1e-12)); // 0.121667
        assert!(close(gd[1], (r2 * r2 + r2_full - r1 * r1) / 2.0, 1e-12)); // 0.051667
        let a = ((1.0 + rho).sqrt() + (1.0 - rho).sqrt()) / 2.0; // 0.965926
        let b = ((1.0 + rho).sqrt() - (1.0 - rho).sqrt()) / 2.0; // 0.258819
        let det = a * a - b * b;
        let (b1, b2) = ((a * r1 - b * r2) / det, (a * r2 - b * r1) / det);
        let rw = johnson_weights(&rxx, &rxy).unwrap_or_default();
        assert!(close(rw[0], a * a * b1 * b1 + b * b * b2 * b2, 1e-12));
        assert!(close(rw[1], b * b * b1 * b1 + a * a * b2 * b2, 1e-12));
        assert!(close(rw[0] + rw[1], r2_full, 1e-12));
        // The two methods agree to about 0.003 here.
        assert!(close(rw[0], gd[0], 0.005));
    }

    #[test]
    fn constant_rare_collinear_and_separated_topics_are_named() {
        // Topics: 0 "everyone" (all responses), 1 "nobody", 2 "rare" (2
        // mentions), 3 "a", 4 "a again" (same responses as 3), 5 "b",
        // 6 "only detractors" (mentioned by detractors only).
        let mut c = PatternCounts::new(7);
        for i in 0..60u64 {
            let b = [D, PA, P][(i % 3) as usize];
            let mut t = vec![0];
            if i < 2 {
                t.push(2);
            }
            if i % 4 == 0 {
                t.extend([3, 4]);
            }
            if i % 5 == 0 {
                t.push(5);
            }
            if b == D && i % 2 == 0 {
                t.push(6);
            }
            c.add(b, &t);
        }
        let topics = names(&[
            "everyone",
            "nobody",
            "rare",
            "a",
            "a again",
            "b",
            "only detractors",
        ]);
        let settings = KeyDriverSettings {
            min_n: 5,
            ..quick()
        };
        let kd = key_drivers(&c, &topics, &settings);
        let issue_of = |t: &str| -> Vec<(Issue, bool, Option<Model>)> {
            kd.warnings
                .iter()
                .filter(|w| w.topic.as_deref() == Some(t))
                .map(|w| (w.issue, w.dropped, w.model))
                .collect()
        };
        assert_eq!(issue_of("everyone"), vec![(Issue::Constant, true, None)]);
        assert_eq!(issue_of("nobody"), vec![(Issue::Constant, true, None)]);
        assert_eq!(issue_of("rare"), vec![(Issue::Rare, true, None)]);
        assert_eq!(issue_of("a again"), vec![(Issue::Collinear, true, None)]);
        assert!(kd
            .warnings
            .iter()
            .any(|w| w.message.contains("`a again`") && w.message.contains("`a`")));
        // Mentioned by detractors only: all its mentioners are detractors
        // (detractor model) and none are promoters (promoter model).
        let sep: Vec<Option<Model>> = kd
            .warnings
            .iter()
            .filter(|w| w.topic.as_deref() == Some("only detractors"))
            .map(|w| w.model)
            .collect();
        assert_eq!(sep, vec![Some(Model::Detractor), Some(Model::Promoter)]);
        assert_eq!(kd.topics_in_model, names(&["a", "b", "only detractors"]));
        let lin = kd.linear.as_ref().expect("linear");
        assert_eq!(lin.coefficients.len(), 3);
        let det = kd.detractor.as_ref().expect("detractor");
        assert_eq!(
            det.coefficients
                .iter()
                .map(|c| c.topic.as_str())
                .collect::<Vec<_>>(),
            ["a", "b"]
        );
        for v in lin
            .coefficients
            .iter()
            .map(|c| c.se)
            .chain(det.coefficients.iter().map(|c| c.se))
        {
            assert!(v.is_finite());
        }
        assert!(kd.relative_weights.iter().all(|w| w.weight.is_finite()));
    }

    #[test]
    fn degenerate_data_warn_instead_of_panicking() {
        // Nothing at all.
        let kd = key_drivers(&PatternCounts::new(2), &names(&["a", "b"]), &quick());
        assert!(kd.linear.is_none() && kd.detractor.is_none() && kd.promoter.is_none());
        assert!(kd.warnings.iter().any(|w| w.issue == Issue::NoModel));
        // Everyone a promoter: no variance in any outcome.
        let mut c = PatternCounts::new(1);
        for i in 0..20 {
            c.add(P, if i % 2 == 0 { &[0][..] } else { &[] });
        }
        let kd = key_drivers(&c, &names(&["a"]), &quick());
        assert!(kd.linear.is_none() && kd.detractor.is_none() && kd.promoter.is_none());
        assert_eq!(
            kd.warnings
                .iter()
                .filter(|w| w.issue == Issue::NoModel)
                .count(),
            3
        );
        assert!(kd.relative_weights.is_empty());
        // No topics at all: an intercept-only linear model, no weights.
        let mut c = PatternCounts::new(0);
        c.add(P, &[3]);
        c.add(D, &[]);
        c.add(PA, &[]);
        let kd = key_drivers(&c, &[], &quick());
        let lin = kd.linear.as_ref().expect("intercept-only model");
        assert!(close(lin.intercept.estimate, 0.0, 1e-12) && lin.coefficients.is_empty());
        assert!(kd.relative_weights.is_empty() && kd.topics_in_model.is_empty());
    }
}
