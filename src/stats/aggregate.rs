//! NPS per segment and per period, with comparisons and false-discovery
//! control: the rows of the `agg_nps` table that BI tools read.
//!
//! Every figure comes from [`crate::stats::nps`] and so follows
//! `docs/METHODS.md` ("NPS and its uncertainty", "Many tests at
//! once"): the score, its adjusted-Wald 95% interval (Rocks 2016) and the
//! two-group z-test. This module only decides *which* groups to count and
//! compare, and it is shaped for a flat table rather than a tree:
//!
//! * One row per group, in a fixed order so that reruns diff cleanly: all
//!   responses first, then each segment column in the order given, its values
//!   sorted (byte order of the strings). Inside each group the whole-run row
//!   comes first, then, for each requested [`Period`] kind in the order given,
//!   its periods in chronological order.
//! * Only periods that hold at least one response of the group get a row:
//!   a daily series over two years would otherwise be mostly empty rows. A
//!   period is compared with the immediately preceding period of the same
//!   kind, and only when that one has responses; a gap is never bridged by
//!   comparing with an older period, because "this week vs last week" must
//!   mean exactly that.
//! * A segment value is compared with all *other* responses (segment vs
//!   rest), never with the whole, because the z-test needs independent groups.
//! * Responses without a date count in whole-run rows only.
//! * Small bases are flagged, not hidden (METHODS: "mark it suppressed instead
//!   of hiding it silently"): a row with `n < min_n` keeps its figures and
//!   gets `suppressed = true`. A comparison where *either* side has
//!   `n < min_n` keeps its diff, z and p-value but is left out of the
//!   Benjamini–Hochberg family and gets `bh_significant = None`. Letting
//!   tiny, noisy groups into the family would raise `m` and so make every
//!   other test harder to pass, for comparisons nobody should act on anyway;
//!   and `None` says "not judged", which is different from "judged and not
//!   significant".
//! * Benjamini–Hochberg runs once over all eligible comparisons of one call
//!   (segments and periods together), since that is the set of tests a reader
//!   of the table scans for a flag.
//!
//! The counting is incremental: [`AggAccumulator`] takes one response at a
//! time and keeps only counts per group and period, so a streaming pipeline
//! can aggregate an export it never holds in memory; [`aggregate`] is the
//! same accumulator fed from slices. Its `max_values` limit drops a segment
//! column that turns out to be free text (a name, an order number), which
//! would otherwise make one group per response.
//!
//! With survey weights ([`AggAccumulator::with_weights`]) every row also
//! gets the weighted NPS, its interval, Kish's effective sample size and
//! the sum of the weights (`docs/METHODS.md`, "Survey weights"); the
//! counts, the comparisons and the Benjamini–Hochberg flags stay
//! unweighted. The weighted figures of a row with n_eff < `min_n` are kept
//! and flagged `weighted_suppressed`, as `suppressed` flags the others.
//!
//! Dates arrive already parsed; [`crate::input::dates::DateFormat::read`] is the one place that
//! knows the date formats of survey exports, so the reader and the tests share it.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use serde::{Serialize, Serializer};

use crate::stats::nps::{compare, Bucket, Nps, WeightedNps, Z95};

/// `comparison` value of a segment value compared with all other responses.
pub const SEGMENT_VS_REST: &str = "segment_vs_rest";
/// `comparison` value of a period compared with the one just before it.
pub const PERIOD_VS_PREVIOUS: &str = "period_vs_previous";

/// Length of the reporting periods; serialised in lower case (`week`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Period {
    /// Calendar day.
    Day,
    /// ISO 8601 week: Monday to Sunday, numbered within the ISO week-year,
    /// so 2026-12-31 and 2027-01-01 both fall in 2026-W53.
    Week,
    /// Calendar month.
    Month,
    /// Calendar quarter: January, April, July and October start one.
    Quarter,
}

impl Period {
    /// Every kind, shortest first.
    pub const ALL: [Period; 4] = [Period::Day, Period::Week, Period::Month, Period::Quarter];

    /// Lower-case name as serialised and as accepted by [`str::parse`]:
    /// `day`, `week`, `month`, `quarter`.
    pub fn as_str(self) -> &'static str {
        match self {
            Period::Day => "day",
            Period::Week => "week",
            Period::Month => "month",
            Period::Quarter => "quarter",
        }
    }

    /// First day of the period that contains `d`.
    pub fn start(self, d: NaiveDate) -> NaiveDate {
        match self {
            Period::Day => d,
            Period::Week => {
                let back = u64::from(d.weekday().num_days_from_monday());
                // Only fails within a week of NaiveDate::MIN; saturate there.
                d.checked_sub_days(chrono::Days::new(back))
                    .unwrap_or(NaiveDate::MIN)
            }
            Period::Month => first_of(d.year(), d.month()).unwrap_or(d),
            Period::Quarter => first_of(d.year(), (d.month() - 1) / 3 * 3 + 1).unwrap_or(d),
        }
    }

    /// First day of the period just before the one that contains `start`.
    ///
    /// `start` need not be a period start: the day before the period's first
    /// day always lies in the previous period, whatever the period's length.
    /// Saturates at [`NaiveDate::MIN`] (returning the period's own start).
    pub fn previous_start(self, start: NaiveDate) -> NaiveDate {
        let own = self.start(start);
        own.pred_opt()
            .map_or(own, |day_before| self.start(day_before))
    }

    /// Label of the period that contains `start`, as BI tools sort and show
    /// it: `2026-11-23`, `2026-W48`, `2026-11`, `2026-Q4`. The week label
    /// uses the ISO week-year, which differs from the calendar year around
    /// New Year.
    pub fn label(self, start: NaiveDate) -> String {
        let s = self.start(start);
        match self {
            Period::Day => s.format("%Y-%m-%d").to_string(),
            Period::Week => {
                let w = s.iso_week();
                format!("{:04}-W{:02}", w.year(), w.week())
            }
            Period::Month => format!("{:04}-{:02}", s.year(), s.month()),
            Period::Quarter => format!("{:04}-Q{}", s.year(), (s.month() - 1) / 3 + 1),
        }
    }
}

/// A period name that [`Period::from_str`](std::str::FromStr) does not know.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown period `{0}`; periods are: day, week, month, quarter")]
pub struct UnknownPeriod(pub String);

/// Parses `day`, `week`, `month` or `quarter` (any case, surrounding spaces
/// ignored), so configuration and the command line share one spelling with
/// the serialised form. Kept free of clap: the CLI layer adapts it.
impl std::str::FromStr for Period {
    type Err = UnknownPeriod;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        Period::ALL
            .into_iter()
            .find(|p| p.as_str().eq_ignore_ascii_case(t))
            .ok_or_else(|| UnknownPeriod(s.to_string()))
    }
}

fn first_of(year: i32, month: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(year, month, 1)
}

/// What [`aggregate`] reads. All slices indexed by response run parallel to
/// `buckets`; a shorter `dates` or segment value list is read as "no date" or
/// as the empty value for the missing tail, so counts still add up.
#[derive(Clone, Copy, Debug)]
pub struct AggInput<'a> {
    /// Bucket of every response with a score, with or without a comment.
    pub buckets: &'a [Bucket],
    /// Date of each response; `None` counts in whole-run rows only.
    pub dates: &'a [Option<NaiveDate>],
    /// `(column name, value per response)`. An empty value is a group of
    /// its own (responses with a blank in that column), so the values of a
    /// column always cover every response.
    pub segments: &'a [(String, Vec<String>)],
    /// Period kinds to report, in this order; a repeated kind is reported once.
    pub periods: &'a [Period],
    /// Rows below this n are flagged `suppressed`, comparisons with a side
    /// below it are kept out of the Benjamini–Hochberg family.
    pub min_n: u64,
    /// False discovery rate for Benjamini–Hochberg, e.g. 0.05.
    pub q: f64,
}

/// One row of `agg_nps`. NPS figures are in points (−100..100); `None` marks
/// a figure that does not exist for this row, never `NaN`.
#[derive(Clone, Debug, Serialize)]
pub struct AggRow {
    /// Segment column, `""` for all responses.
    pub segment_column: String,
    /// Segment value, `""` for all responses (within a named column, `""` is
    /// the group of blank values).
    pub segment_value: String,
    /// Period kind, `None` for the whole run (dated and undated responses).
    pub period: Option<Period>,
    /// First day of the period, written `YYYY-MM-DD`; `None` for the whole run.
    #[serde(serialize_with = "serialize_date")]
    pub period_start: Option<NaiveDate>,
    /// [`Period::label`] of the period, `""` for the whole run.
    pub period_label: String,
    /// Responses with a score in this group.
    pub n: u64,
    /// Scores 9–10.
    pub promoters: u64,
    /// Scores 7–8.
    pub passives: u64,
    /// Scores 0–6.
    pub detractors: u64,
    /// NPS = 100·(P − D)/N; `None` when `n == 0`.
    pub nps: Option<f64>,
    /// Lower end of the adjusted-Wald 95% interval ([`Nps::adjusted_wald`]).
    pub nps_ci_low: Option<f64>,
    /// Upper end of the adjusted-Wald 95% interval.
    pub nps_ci_high: Option<f64>,
    /// `n < min_n`: the figures are filled but rest on a small base.
    pub suppressed: bool,
    /// The figures are withheld, not only flagged: the counts and every
    /// figure but `n` are written empty ([`crate::stats::privacy`]).
    pub withheld: bool,
    /// [`SEGMENT_VS_REST`] or [`PERIOD_VS_PREVIOUS`]; `None` when there is
    /// nothing to compare with (overall whole-run row, first period, the
    /// previous period or the rest is empty).
    pub comparison: Option<String>,
    /// NPS of this row minus NPS of the other group, in points.
    pub diff: Option<f64>,
    /// `diff / SE` of [`crate::stats::nps::compare`]; ±∞ when both groups have zero
    /// variance and differ (JSON writes that as `null`; `p_value` is then 0).
    pub z: Option<f64>,
    /// Two-sided p-value of the z-test.
    pub p_value: Option<f64>,
    /// Benjamini–Hochberg decision at `q` over all comparisons of the call
    /// whose two sides both have `n >= min_n`; `None` for the others and for
    /// rows without a comparison.
    pub bh_significant: Option<bool>,
    /// Weighted NPS, 100·(Σw·[promoter] − Σw·[detractor])/Σw; `None`
    /// without weights or when Σw = 0.
    pub weighted_nps: Option<f64>,
    /// Lower end of the weighted adjusted-Wald 95% interval
    /// ([`WeightedNps::adjusted_wald`], n_eff in place of N).
    pub weighted_nps_ci_low: Option<f64>,
    /// Upper end of the weighted interval.
    pub weighted_nps_ci_high: Option<f64>,
    /// Kish's effective sample size (Σw)²/Σw²; `None` without weights or
    /// when Σw = 0.
    pub n_effective: Option<f64>,
    /// Σw of the group; `None` without weights.
    pub weight_sum: Option<f64>,
    /// `n_effective < min_n` (or no effective base at all): the weighted
    /// figures rest on a small base; `None` without weights.
    pub weighted_suppressed: Option<bool>,
}

fn serialize_date<S: Serializer>(d: &Option<NaiveDate>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => s.serialize_some(&d.format("%Y-%m-%d").to_string()),
        None => s.serialize_none(),
    }
}

/// Counts of one group of responses: whole run and per period of each kind.
#[derive(Clone, Debug)]
struct Group {
    whole: Nps,
    /// Parallel to the period kinds; keys are period starts, so iteration is
    /// chronological. Only periods with responses have an entry.
    by_period: Vec<BTreeMap<NaiveDate, Nps>>,
    /// Weighted totals of the whole run (all zero without weights).
    whole_w: WeightedNps,
    /// Weighted totals per period, keyed as `by_period`.
    by_period_w: Vec<BTreeMap<NaiveDate, WeightedNps>>,
}

impl Group {
    fn new(kinds: usize) -> Self {
        Group {
            whole: Nps::default(),
            by_period: vec![BTreeMap::new(); kinds],
            whole_w: WeightedNps::default(),
            by_period_w: vec![BTreeMap::new(); kinds],
        }
    }

    /// Counts one response; `starts[k]` is its period start for kind `k`
    /// (`None` when it has no date).
    fn add(&mut self, b: Bucket, starts: &[Option<NaiveDate>]) {
        self.whole.add(b);
        for (map, &start) in self.by_period.iter_mut().zip(starts) {
            if let Some(start) = start {
                map.entry(start).or_default().add(b);
            }
        }
    }

    /// Counts one response of weight `w`: [`Group::add`] and the weighted
    /// totals.
    fn add_weighted(&mut self, b: Bucket, w: f64, starts: &[Option<NaiveDate>]) {
        self.add(b, starts);
        self.whole_w.add(b, w);
        for (map, &start) in self.by_period_w.iter_mut().zip(starts) {
            if let Some(start) = start {
                map.entry(start).or_default().add(b, w);
            }
        }
    }
}

/// Builds rows and remembers which comparisons join the BH family.
struct Builder {
    kinds: Vec<Period>,
    min_n: u64,
    /// Fill the weighted columns.
    weighted: bool,
    rows: Vec<AggRow>,
    /// `(row index, p-value)` of every comparison in the BH family.
    family: Vec<(usize, f64)>,
}

impl Builder {
    fn row(
        &self,
        column: &str,
        value: &str,
        period: Option<(Period, NaiveDate)>,
        nps: &Nps,
        w: Option<&WeightedNps>,
    ) -> AggRow {
        let ci = nps.adjusted_wald(Z95);
        let w = w.filter(|_| self.weighted).copied();
        let w = w.as_ref();
        let wci = w.and_then(|w| w.adjusted_wald(Z95));
        let n_eff = w.and_then(WeightedNps::n_effective);
        AggRow {
            segment_column: column.to_string(),
            segment_value: value.to_string(),
            period: period.map(|(k, _)| k),
            period_start: period.map(|(_, s)| s),
            period_label: period.map_or_else(String::new, |(k, s)| k.label(s)),
            n: nps.n,
            promoters: nps.promoters,
            passives: nps.passives,
            detractors: nps.detractors,
            nps: nps.score(),
            nps_ci_low: ci.map(|(lo, _)| lo),
            nps_ci_high: ci.map(|(_, hi)| hi),
            suppressed: nps.n < self.min_n,
            withheld: false,
            comparison: None,
            diff: None,
            z: None,
            p_value: None,
            bh_significant: None,
            weighted_nps: w.and_then(WeightedNps::score),
            weighted_nps_ci_low: wci.map(|(lo, _)| lo),
            weighted_nps_ci_high: wci.map(|(_, hi)| hi),
            n_effective: n_eff,
            weight_sum: w.map(|w| w.weight_sum),
            weighted_suppressed: w.map(|_| n_eff.is_none_or(|n| n < self.min_n as f64)),
        }
    }

    /// Adds `row`, compared with `other` when given and both sides have data.
    fn push(&mut self, mut row: AggRow, this: &Nps, other: Option<(&'static str, &Nps)>) {
        if let Some((kind, other)) = other {
            if let Some(c) = compare(this, other) {
                row.comparison = Some(kind.to_string());
                row.diff = Some(c.diff);
                row.z = Some(c.z);
                row.p_value = Some(c.p_value);
                if this.n >= self.min_n && other.n >= self.min_n {
                    self.family.push((self.rows.len(), c.p_value));
                }
            }
        }
        self.rows.push(row);
    }

    /// Whole-run row (compared with `rest` if given), then the period rows.
    fn group(&mut self, column: &str, value: &str, g: &Group, rest: Option<&Nps>) {
        let row = self.row(column, value, None, &g.whole, Some(&g.whole_w));
        self.push(row, &g.whole, rest.map(|r| (SEGMENT_VS_REST, r)));
        for (k, (map, map_w)) in g.by_period.iter().zip(&g.by_period_w).enumerate() {
            let kind = self.kinds[k];
            for (&start, nps) in map {
                let prev_start = kind.previous_start(start);
                let prev = (prev_start != start)
                    .then(|| map.get(&prev_start))
                    .flatten()
                    .map(|p| (PERIOD_VS_PREVIOUS, p));
                let w = map_w.get(&start).copied().unwrap_or_default();
                let row = self.row(column, value, Some((kind, start)), nps, Some(&w));
                self.push(row, nps, prev);
            }
        }
    }
}

/// One segment column of an [`AggAccumulator`].
#[derive(Clone, Debug)]
struct Column {
    name: String,
    /// Groups by value (byte order, as the rows want them); `None` once the
    /// column showed more distinct values than the accumulator's limit.
    groups: Option<BTreeMap<String, Group>>,
}

/// Incremental form of [`aggregate`], for input read in chunks.
///
/// Responses are added one at a time and only counts are kept: one [`Nps`]
/// per group (all responses, and each value of each segment column) for the
/// whole run and for each period of each kind that has responses. Memory so
/// grows with the number of segment values times the number of periods, never
/// with the number of responses, and [`finish`](AggAccumulator::finish) gives
/// exactly the rows [`aggregate`] gives for the same responses (which is how
/// [`aggregate`] is implemented).
///
/// A column with one value per response (a name, a free-text field) would
/// still make one group per response. `max_values` guards against that: the
/// first time a column shows more distinct values than the limit, its groups
/// are freed and it is left out of the rows (and so out of the
/// Benjamini–Hochberg family). [`kept_columns`](AggAccumulator::kept_columns)
/// tells the caller which columns survived, so it can report the others.
#[derive(Clone, Debug)]
pub struct AggAccumulator {
    /// Period kinds in the order given, each once.
    kinds: Vec<Period>,
    max_values: Option<usize>,
    /// Set by [`AggAccumulator::with_weights`].
    weighted: bool,
    overall: Group,
    /// One entry per segment column given to `new`, in that order.
    columns: Vec<Column>,
    /// Period starts of the response being added, one per kind; a field so
    /// that `add` does not allocate per response.
    starts: Vec<Option<NaiveDate>>,
}

impl AggAccumulator {
    /// An empty accumulator.
    ///
    /// `segment_columns`: names of the segment columns whose values
    /// [`add`](AggAccumulator::add) receives, in order (a name given twice is
    /// reported twice, as [`aggregate`] does). `periods`: kinds to report, in
    /// this order; a repeated kind is reported once. `max_values`: a column
    /// that shows more distinct values than this is dropped and its counts
    /// freed; `None` keeps every column.
    pub fn new(
        segment_columns: Vec<String>,
        periods: Vec<Period>,
        max_values: Option<usize>,
    ) -> AggAccumulator {
        let mut kinds: Vec<Period> = Vec::with_capacity(periods.len());
        for k in periods {
            if !kinds.contains(&k) {
                kinds.push(k);
            }
        }
        let columns = segment_columns
            .into_iter()
            .map(|name| Column {
                name,
                groups: Some(BTreeMap::new()),
            })
            .collect();
        AggAccumulator {
            overall: Group::new(kinds.len()),
            starts: Vec::with_capacity(kinds.len()),
            kinds,
            max_values,
            weighted: false,
            columns,
        }
    }

    /// The same accumulator, whose rows also carry the weighted figures
    /// (fed by [`add_weighted`](AggAccumulator::add_weighted); a response
    /// given to [`add`](AggAccumulator::add) weighs 1).
    pub fn with_weights(mut self) -> AggAccumulator {
        self.weighted = true;
        self
    }

    /// Counts one response with a score. `date`: `None` counts in whole-run
    /// rows only. `segment_values`: its value in each segment column, in the
    /// order given to [`new`](AggAccumulator::new); a shorter slice reads as
    /// the empty value for the missing columns, extra values are ignored. The
    /// empty value is a group of its own (blanks in that column).
    pub fn add(&mut self, bucket: Bucket, date: Option<NaiveDate>, segment_values: &[&str]) {
        self.add_weighted(bucket, 1.0, date, segment_values);
    }

    /// [`add`](AggAccumulator::add) for a response of survey weight `w`
    /// (finite, ≥ 0); the weight only shows in the rows of an accumulator
    /// made [`with_weights`](AggAccumulator::with_weights).
    pub fn add_weighted(
        &mut self,
        bucket: Bucket,
        w: f64,
        date: Option<NaiveDate>,
        segment_values: &[&str],
    ) {
        self.starts.clear();
        self.starts
            .extend(self.kinds.iter().map(|&k| date.map(|d| k.start(d))));
        self.overall.add_weighted(bucket, w, &self.starts);
        let kinds = self.kinds.len();
        for (i, column) in self.columns.iter_mut().enumerate() {
            let Some(groups) = column.groups.as_mut() else {
                continue;
            };
            let value = segment_values.get(i).copied().unwrap_or("");
            if let Some(g) = groups.get_mut(value) {
                g.add_weighted(bucket, w, &self.starts);
                continue;
            }
            // A new value: one more than the limit drops the column for good.
            if self.max_values.is_some_and(|max| groups.len() >= max) {
                column.groups = None;
                continue;
            }
            let mut g = Group::new(kinds);
            g.add_weighted(bucket, w, &self.starts);
            groups.insert(value.to_string(), g);
        }
    }

    /// Columns still kept (not dropped for too many values), in input order.
    pub fn kept_columns(&self) -> Vec<String> {
        self.columns
            .iter()
            .filter(|c| c.groups.is_some())
            .map(|c| c.name.clone())
            .collect()
    }

    /// The `agg_nps` rows of everything added, in the order described in the
    /// module docs, with comparisons and Benjamini–Hochberg flags at false
    /// discovery rate `q`; rows below `min_n` are flagged `suppressed` and
    /// comparisons with a side below it stay out of the family. Dropped
    /// columns have no rows. The overall whole-run row is always present,
    /// with `n = 0` and no figures when nothing was added.
    pub fn finish(self, min_n: u64, q: f64) -> Vec<AggRow> {
        let mut b = Builder {
            kinds: self.kinds,
            min_n,
            weighted: self.weighted,
            rows: Vec::new(),
            family: Vec::new(),
        };
        b.group("", "", &self.overall, None);
        for column in &self.columns {
            let Some(groups) = &column.groups else {
                continue;
            };
            for (value, g) in groups {
                let rest = self.overall.whole.minus(&g.whole);
                b.group(&column.name, value, g, Some(&rest));
            }
        }
        let p: Vec<f64> = b.family.iter().map(|&(_, p)| p).collect();
        let flags = benjamini_hochberg(&p, q);
        for (&(row, _), flag) in b.family.iter().zip(flags) {
            b.rows[row].bh_significant = Some(flag);
        }
        b.rows
    }
}

/// The `agg_nps` rows for `input`, in the order described in the module docs:
/// all responses (whole run, then periods), then every segment value of every
/// column (whole run compared with the rest, then periods compared with the
/// previous period). The overall whole-run row is always present, with
/// `n = 0` and no figures when there are no responses.
///
/// A thin wrapper over [`AggAccumulator`] (no column limit) for input that is
/// already in memory.
pub fn aggregate(input: &AggInput) -> Vec<AggRow> {
    let columns = input
        .segments
        .iter()
        .map(|(name, _)| name.clone())
        .collect();
    let mut acc = AggAccumulator::new(columns, input.periods.to_vec(), None);
    let mut values: Vec<&str> = Vec::with_capacity(input.segments.len());
    for (i, &bucket) in input.buckets.iter().enumerate() {
        values.clear();
        values.extend(
            input
                .segments
                .iter()
                .map(|(_, v)| v.get(i).map_or("", String::as_str)),
        );
        acc.add(bucket, input.dates.get(i).copied().flatten(), &values);
    }
    acc.finish(input.min_n, input.q)
}

/// Benjamini–Hochberg step-up procedure at false discovery rate `q`
/// (Benjamini & Hochberg 1995): sort the m p-values, find the largest rank i
/// with p₍ᵢ₎ ≤ (i/m)·q and reject every hypothesis of rank ≤ i, even those
/// whose own p₍ⱼ₎ exceeds (j/m)·q. Returns the decision for each input, in
/// input order. A `NaN` p-value counts in m but is never rejected.
pub fn benjamini_hochberg(p: &[f64], q: f64) -> Vec<bool> {
    let m = p.len();
    let key = |x: f64| if x.is_nan() { f64::INFINITY } else { x };
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| key(p[a]).total_cmp(&key(p[b])));
    let largest = order
        .iter()
        .enumerate()
        .rev()
        .find(|&(rank0, &idx)| key(p[idx]) <= (rank0 + 1) as f64 / m as f64 * q)
        .map(|(rank0, _)| rank0 + 1);
    let mut reject = vec![false; m];
    if let Some(k) = largest {
        for &idx in &order[..k] {
            reject[idx] = true;
        }
    }
    reject
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: Option<f64>, b: f64, tol: f64) -> bool {
        a.is_some_and(|a| (a - b).abs() <= tol)
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap_or(NaiveDate::MIN)
    }

    /// Ten responses over ISO weeks 2026-W47 (16–22 Nov) and 2026-W48
    /// (23–29 Nov), one without a date, in two channels.
    ///
    /// | i | bucket | date       | channel |
    /// |---|--------|------------|---------|
    /// | 0 | P      | 2026-11-16 | chat    |
    /// | 1 | P      | 2026-11-17 | chat    |
    /// | 2 | P      | 2026-11-23 | chat    |
    /// | 3 | D      | 2026-11-24 | chat    |
    /// | 4 | P      | 2026-11-18 | phone   |
    /// | 5 | P      | 2026-11-23 | phone   |
    /// | 6 | P      | —          | phone   |
    /// | 7 | Pa     | 2026-11-19 | phone   |
    /// | 8 | Pa     | 2026-11-25 | phone   |
    /// | 9 | D      | 2026-11-29 | phone   |
    struct Fixture {
        buckets: Vec<Bucket>,
        dates: Vec<Option<NaiveDate>>,
        segments: Vec<(String, Vec<String>)>,
    }

    fn fixture() -> Fixture {
        use Bucket::{Detractor as D, Passive as Pa, Promoter as P};
        let buckets = vec![P, P, P, D, P, P, P, Pa, Pa, D];
        let days = [16, 17, 23, 24, 18, 23, 0, 19, 25, 29];
        let dates = days
            .iter()
            .map(|&d| (d > 0).then(|| date(2026, 11, d)))
            .collect();
        let channel = [
            "chat", "chat", "chat", "chat", "phone", "phone", "phone", "phone", "phone", "phone",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        Fixture {
            buckets,
            dates,
            segments: vec![("channel".to_string(), channel)],
        }
    }

    fn run(f: &Fixture, periods: &[Period], min_n: u64) -> Vec<AggRow> {
        aggregate(&AggInput {
            buckets: &f.buckets,
            dates: &f.dates,
            segments: &f.segments,
            periods,
            min_n,
            q: 0.05,
        })
    }

    fn find<'r>(rows: &'r [AggRow], value: &str, label: &str) -> &'r AggRow {
        let found = rows
            .iter()
            .find(|r| r.segment_value == value && r.period_label == label);
        match found {
            Some(r) => r,
            None => panic!("no row {value:?} {label:?}"),
        }
    }

    #[test]
    fn rows_come_in_the_documented_order() {
        let rows = run(&fixture(), &[Period::Week, Period::Month, Period::Week], 0);
        let keys: Vec<(&str, &str)> = rows
            .iter()
            .map(|r| (r.segment_value.as_str(), r.period_label.as_str()))
            .collect();
        // Week given twice is reported once; weeks before months, as requested.
        assert_eq!(
            keys,
            [
                ("", ""),
                ("", "2026-W47"),
                ("", "2026-W48"),
                ("", "2026-11"),
                ("chat", ""),
                ("chat", "2026-W47"),
                ("chat", "2026-W48"),
                ("chat", "2026-11"),
                ("phone", ""),
                ("phone", "2026-W47"),
                ("phone", "2026-W48"),
                ("phone", "2026-11"),
            ]
        );
        assert_eq!(rows[0].segment_column, "");
        assert!(rows[4..].iter().all(|r| r.segment_column == "channel"));
        assert_eq!(rows[0].period, None);
        assert_eq!(rows[0].period_start, None);
        assert_eq!(rows[1].period, Some(Period::Week));
        assert_eq!(rows[1].period_start, Some(date(2026, 11, 16)));
        assert_eq!(rows[3].period_start, Some(date(2026, 11, 1)));
    }

    #[test]
    fn overall_row_hand_computed() {
        let rows = run(&fixture(), &[], 0);
        let all = &rows[0];
        // N = 10, P = 6, passives 2, D = 2 → NPS = 100·(0.6 − 0.2) = 40.
        assert_eq!(
            (all.n, all.promoters, all.passives, all.detractors),
            (10, 6, 2, 2)
        );
        assert!(close(all.nps, 40.0, 1e-12));
        // Adjusted Wald: N' = 13, p' = 6.75/13 = 0.5192307692, d' = 2.75/13 = 0.2115384615,
        // NPS' = 4/13 = 0.3076923077; p' + d' = 9.5/13 = 0.7307692308,
        // (NPS')² = 16/169 = 0.0946745562; inner = 0.6360946746; /13 = 0.0489303596;
        // SE' = √0.0489303596 = 0.2212020786; z·SE' = 1.959963985·0.2212020786 = 0.4335481074.
        // CI = 100·(0.3076923077 ∓ 0.4335481074) = [−12.5855800, 74.1240415].
        assert!(
            close(all.nps_ci_low, -12.585_579_97, 1e-6),
            "{:?}",
            all.nps_ci_low
        );
        assert!(
            close(all.nps_ci_high, 74.124_041_51, 1e-6),
            "{:?}",
            all.nps_ci_high
        );
        assert!(!all.suppressed);
        // Nothing to compare the whole of everything with.
        assert_eq!(all.comparison, None);
        assert_eq!(
            (all.diff, all.z, all.p_value, all.bh_significant),
            (None, None, None, None)
        );
    }

    #[test]
    fn segment_vs_rest_hand_computed() {
        let rows = run(&fixture(), &[], 0);
        let chat = find(&rows, "chat", "");
        let phone = find(&rows, "phone", "");
        // chat: N = 4, P = 3, D = 1 → NPS 50, Var = 100²·[1 − 0.5²]/4 = 1875.
        // rest = phone: N = 6, P = 3, Pa = 2, D = 1 → p = 1/2, d = 1/6, NPS 33.3333,
        //   Var = 100²·[2/3 − 1/9]/6 = 10000·(5/9)/6 = 925.9259.
        // diff = 16.6667, SE = √(1875 + 925.9259) = √2800.9259 = 52.9237747,
        // z = 16.6667/52.9237747 = 0.3149183, p = 2·(1 − Φ(0.3149183)) = 0.7528237.
        assert_eq!(chat.comparison.as_deref(), Some(SEGMENT_VS_REST));
        assert!(close(chat.nps, 50.0, 1e-12));
        assert!(close(chat.diff, 50.0 / 3.0, 1e-9));
        assert!(close(chat.z, 0.314_918_33, 1e-7), "{:?}", chat.z);
        assert!(
            close(chat.p_value, 0.752_823_66, 1e-7),
            "{:?}",
            chat.p_value
        );
        // phone vs rest (= chat) is the mirror image.
        assert!(close(phone.diff, -50.0 / 3.0, 1e-9));
        assert!(close(phone.z, -0.314_918_33, 1e-7));
        assert!(close(phone.p_value, 0.752_823_66, 1e-7));
    }

    #[test]
    fn period_vs_previous_hand_computed() {
        let rows = run(&fixture(), &[Period::Week], 0);
        let w47 = find(&rows, "", "2026-W47");
        let w48 = find(&rows, "", "2026-W48");
        // The first period has nothing before it.
        assert_eq!(w47.comparison, None);
        assert_eq!(w47.bh_significant, None);
        // W47: i = 0, 1, 4, 7 → P = 3, Pa = 1 → NPS 75, Var = 100²·[0.75 − 0.5625]/4 = 468.75.
        // W48: i = 2, 3, 5, 8, 9 (29 Nov is a Sunday) → P = 2, Pa = 1, D = 2 → NPS 0,
        //      Var = 100²·[0.8 − 0]/5 = 1600.
        // diff = −75, SE = √2068.75 = 45.4835135, z = −1.6489491, p = 0.0991581.
        assert_eq!(
            (w47.n, w47.promoters, w47.passives, w47.detractors),
            (4, 3, 1, 0)
        );
        assert_eq!(
            (w48.n, w48.promoters, w48.passives, w48.detractors),
            (5, 2, 1, 2)
        );
        assert_eq!(w48.comparison.as_deref(), Some(PERIOD_VS_PREVIOUS));
        assert!(close(w48.diff, -75.0, 1e-9));
        assert!(close(w48.z, -1.648_949_13, 1e-7), "{:?}", w48.z);
        assert!(close(w48.p_value, 0.099_158_06, 1e-7), "{:?}", w48.p_value);
        // Within a segment value: chat W47 = P, P (NPS 100, Var 0), W48 = P, D (NPS 0,
        // Var = 100²·1/2 = 5000): diff −100, SE = √5000 = 70.7106781, z = −√2, p = 0.1572992.
        let chat48 = find(&rows, "chat", "2026-W48");
        assert!(close(chat48.diff, -100.0, 1e-9));
        assert!(close(chat48.z, -std::f64::consts::SQRT_2, 1e-9));
        assert!(close(chat48.p_value, 0.157_299_21, 1e-7));
    }

    #[test]
    fn a_gap_is_not_bridged() {
        // Weeks W46 and W48 have responses, W47 none: W48 gets no comparison.
        let buckets = [Bucket::Promoter, Bucket::Detractor];
        let dates = [Some(date(2026, 11, 10)), Some(date(2026, 11, 24))];
        let rows = aggregate(&AggInput {
            buckets: &buckets,
            dates: &dates,
            segments: &[],
            periods: &[Period::Week],
            min_n: 0,
            q: 0.05,
        });
        let labels: Vec<&str> = rows.iter().map(|r| r.period_label.as_str()).collect();
        assert_eq!(labels, ["", "2026-W46", "2026-W48"]);
        assert!(rows
            .iter()
            .all(|r| r.comparison.is_none() && r.p_value.is_none()));
    }

    #[test]
    fn single_segment_value_has_no_rest_to_compare() {
        let f = Fixture {
            segments: vec![("site".to_string(), vec!["Berlin".to_string(); 10])],
            ..fixture()
        };
        let rows = run(&f, &[], 0);
        let berlin = find(&rows, "Berlin", "");
        assert_eq!(berlin.n, 10);
        assert_eq!(berlin.comparison, None);
        assert_eq!(berlin.bh_significant, None);
    }

    #[test]
    fn undated_responses_count_in_whole_run_only() {
        let rows = run(&fixture(), &[Period::Week, Period::Day], 0);
        let week_total: u64 = rows
            .iter()
            .filter(|r| r.segment_column.is_empty() && r.period == Some(Period::Week))
            .map(|r| r.n)
            .sum();
        assert_eq!(rows[0].n, 10);
        assert_eq!(week_total, 9);
        // Response 6 (phone, promoter, no date) is in phone's whole-run row only.
        assert_eq!(find(&rows, "phone", "").n, 6);
        let phone_days: u64 = rows
            .iter()
            .filter(|r| r.segment_value == "phone" && r.period == Some(Period::Day))
            .map(|r| r.n)
            .sum();
        assert_eq!(phone_days, 5);
    }

    #[test]
    fn counts_add_up() {
        // A second column with a blank value: blanks form their own group.
        let mut f = fixture();
        let tier = [
            "gold", "", "silver", "gold", "", "bronze", "gold", "silver", "", "gold",
        ];
        f.segments.push((
            "tier".to_string(),
            tier.iter().map(|s| s.to_string()).collect(),
        ));
        let rows = run(
            &f,
            &[Period::Day, Period::Week, Period::Month, Period::Quarter],
            0,
        );
        let overall = |label: &str| find(&rows, "", label).n;
        for column in ["channel", "tier"] {
            let of_column = || rows.iter().filter(move |r| r.segment_column == column);
            // Whole run: the values of one column partition all responses.
            let whole: u64 = of_column()
                .filter(|r| r.period.is_none())
                .map(|r| r.n)
                .sum();
            assert_eq!(whole, overall(""), "{column}");
            // Per period: the values partition the period's responses.
            for r in rows
                .iter()
                .filter(|r| r.segment_column.is_empty() && r.period.is_some())
            {
                let sum: u64 = of_column()
                    .filter(|s| s.period == r.period && s.period_start == r.period_start)
                    .map(|s| s.n)
                    .sum();
                assert_eq!(sum, r.n, "{column} {}", r.period_label);
            }
        }
        // Within every row the buckets add up to n.
        for r in &rows {
            assert_eq!(r.promoters + r.passives + r.detractors, r.n);
        }
        // Per period kind, the overall periods hold every dated response.
        for kind in [Period::Day, Period::Week, Period::Month, Period::Quarter] {
            let sum: u64 = rows
                .iter()
                .filter(|r| r.segment_column.is_empty() && r.period == Some(kind))
                .map(|r| r.n)
                .sum();
            assert_eq!(sum, 9, "{kind:?}");
        }
        assert_eq!(find(&rows, "", "2026-Q4").n, 9);
        let blank = rows.iter().find(|r| {
            r.segment_column == "tier" && r.segment_value.is_empty() && r.period.is_none()
        });
        assert_eq!(blank.map(|r| r.n), Some(3));
    }

    #[test]
    fn suppression_flags_rows_and_keeps_small_comparisons_out_of_bh() {
        let rows = run(&fixture(), &[Period::Week], 3);
        // chat W47 (2), chat W48 (2) and phone W47 (2) are below 3.
        for r in &rows {
            let small = matches!(
                (r.segment_value.as_str(), r.period_label.as_str()),
                ("chat", "2026-W47") | ("chat", "2026-W48") | ("phone", "2026-W47")
            );
            assert_eq!(
                r.suppressed, small,
                "{} {}",
                r.segment_value, r.period_label
            );
            // Figures are filled even when suppressed.
            assert!(r.nps.is_some() && r.nps_ci_low.is_some() && r.nps_ci_high.is_some());
        }
        // Both sides small: figures kept, not judged.
        let chat48 = find(&rows, "chat", "2026-W48");
        assert!(chat48.p_value.is_some());
        assert_eq!(chat48.bh_significant, None);
        // phone W48 has n = 3 (not suppressed) but its previous week has 2: not judged.
        let phone48 = find(&rows, "phone", "2026-W48");
        assert!(!phone48.suppressed);
        assert!(phone48.p_value.is_some());
        assert_eq!(phone48.bh_significant, None);
        // The family is the three comparisons with both sides ≥ 3.
        let judged: Vec<&AggRow> = rows.iter().filter(|r| r.bh_significant.is_some()).collect();
        let labels: Vec<(&str, &str)> = judged
            .iter()
            .map(|r| (r.segment_value.as_str(), r.period_label.as_str()))
            .collect();
        assert_eq!(labels, [("", "2026-W48"), ("chat", ""), ("phone", "")]);
        let p: Vec<f64> = judged.iter().filter_map(|r| r.p_value).collect();
        let expect = benjamini_hochberg(&p, 0.05);
        let got: Vec<bool> = judged.iter().filter_map(|r| r.bh_significant).collect();
        assert_eq!(got, expect);
        // p = 0.099, 0.753, 0.753: nothing passes at q = 0.05.
        assert_eq!(got, [false, false, false]);
    }

    #[test]
    fn bh_covers_every_comparison_of_the_call() {
        let rows = run(&fixture(), &[Period::Week], 0);
        let compared: Vec<&AggRow> = rows.iter().filter(|r| r.comparison.is_some()).collect();
        // overall W48, chat vs rest, chat W48, phone vs rest, phone W48.
        assert_eq!(compared.len(), 5);
        assert!(compared.iter().all(|r| r.bh_significant.is_some()));
        assert!(rows
            .iter()
            .filter(|r| r.comparison.is_none())
            .all(|r| r.bh_significant.is_none()));
    }

    #[test]
    fn clear_difference_is_flagged() {
        // 40 promoters in "a", 40 detractors in "b": z = ±∞, p = 0 for both.
        let mut buckets = vec![Bucket::Promoter; 40];
        buckets.extend(vec![Bucket::Detractor; 40]);
        let mut values = vec!["a".to_string(); 40];
        values.extend(vec!["b".to_string(); 40]);
        let segments = vec![("team".to_string(), values)];
        let rows = aggregate(&AggInput {
            buckets: &buckets,
            dates: &[],
            segments: &segments,
            periods: &[Period::Month],
            min_n: 30,
            q: 0.05,
        });
        // No dates at all: no period rows.
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[1].diff, Some(200.0));
        assert_eq!(rows[1].bh_significant, Some(true));
        assert_eq!(rows[2].bh_significant, Some(true));
    }

    #[test]
    fn weighted_rows_hand_computed() {
        // Overall: promoter w=3 (A), promoter w=1 (B), passive w=2 (A),
        // detractor w=2 (B). Σw = 8, NPS_w = 100·(4 − 2)/8 = 25,
        // n_eff = 8²/18 = 3.556. Segment A: promoter 3, passive 2: Σw = 5,
        // NPS_w = 60, n_eff = 25/13. Segment B: promoter 1, detractor 2:
        // Σw = 3, NPS_w = −33.33, n_eff = 9/5.
        let mut acc =
            AggAccumulator::new(vec!["seg".into()], vec![Period::Month], None).with_weights();
        let d = Some(date(2026, 1, 5));
        acc.add_weighted(Bucket::Promoter, 3.0, d, &["A"]);
        acc.add_weighted(Bucket::Promoter, 1.0, d, &["B"]);
        acc.add_weighted(Bucket::Passive, 2.0, None, &["A"]);
        acc.add_weighted(Bucket::Detractor, 2.0, d, &["B"]);
        let rows = acc.finish(3, 0.05);
        let all = &rows[0];
        assert_eq!(all.n, 4);
        assert!(close(all.weighted_nps, 25.0, 1e-9));
        assert!(close(all.n_effective, 64.0 / 18.0, 1e-9));
        assert!(close(all.weight_sum, 8.0, 1e-12));
        assert_eq!(all.weighted_suppressed, Some(false));
        assert!(
            all.weighted_nps_ci_low.unwrap() < 25.0 && all.weighted_nps_ci_high.unwrap() > 25.0
        );
        // The January row of all responses: the dated three, Σw = 6,
        // NPS_w = 100·(4 − 2)/6.
        let jan = find(&rows, "", "2026-01");
        assert!(close(jan.weighted_nps, 100.0 * 2.0 / 6.0, 1e-9));
        assert!(close(jan.weight_sum, 6.0, 1e-12));
        let a = find(&rows, "A", "");
        assert!(close(a.weighted_nps, 60.0, 1e-9));
        assert!(close(a.n_effective, 25.0 / 13.0, 1e-9));
        assert_eq!(a.weighted_suppressed, Some(true), "n_eff 1.9 < min_n 3");
        let b = find(&rows, "B", "");
        assert!(close(b.weighted_nps, -100.0 / 3.0, 1e-9));
        assert!(close(b.n_effective, 9.0 / 5.0, 1e-9));
        // Comparisons stay unweighted.
        assert_eq!(b.comparison.as_deref(), Some(SEGMENT_VS_REST));

        // Without weights every weighted column is empty.
        let mut plain = AggAccumulator::new(vec!["seg".into()], vec![], None);
        plain.add(Bucket::Promoter, None, &["A"]);
        let rows = plain.finish(1, 0.05);
        assert!(rows.iter().all(|r| r.weighted_nps.is_none()
            && r.weighted_nps_ci_low.is_none()
            && r.n_effective.is_none()
            && r.weight_sum.is_none()
            && r.weighted_suppressed.is_none()));
    }

    #[test]
    fn empty_input_gives_one_empty_row() {
        let rows = aggregate(&AggInput {
            buckets: &[],
            dates: &[],
            segments: &[("x".to_string(), Vec::new())],
            periods: &[Period::Day],
            min_n: 5,
            q: 0.05,
        });
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].n, 0);
        assert_eq!(
            (rows[0].nps, rows[0].nps_ci_low, rows[0].nps_ci_high),
            (None, None, None)
        );
        assert!(rows[0].suppressed);
    }

    #[test]
    fn serialises_for_the_table() {
        let rows = run(&fixture(), &[Period::Week], 0);
        let v = serde_json::to_value(&rows[1]).unwrap_or_default();
        assert_eq!(v["period"], "week");
        assert_eq!(v["period_start"], "2026-11-16");
        assert_eq!(v["period_label"], "2026-W47");
        let whole = serde_json::to_value(&rows[0]).unwrap_or_default();
        assert!(whole["period"].is_null());
        assert!(whole["period_start"].is_null());
        assert_eq!(whole["n"], 10);
    }

    #[test]
    fn iso_week_across_year_end() {
        let w = Period::Week;
        // 2026 starts on a Thursday, so it has 53 ISO weeks; W53 runs
        // Monday 2026-12-28 to Sunday 2027-01-03.
        for d in [
            date(2026, 12, 28),
            date(2026, 12, 31),
            date(2027, 1, 1),
            date(2027, 1, 3),
        ] {
            assert_eq!(w.start(d), date(2026, 12, 28), "{d}");
            assert_eq!(w.label(d), "2026-W53", "{d}");
        }
        assert_eq!(w.start(date(2027, 1, 4)), date(2027, 1, 4));
        assert_eq!(w.label(date(2027, 1, 4)), "2027-W01");
        assert_eq!(w.previous_start(date(2027, 1, 4)), date(2026, 12, 28));
        assert_eq!(w.previous_start(date(2027, 1, 6)), date(2026, 12, 28));
        // 2026-11-23 is a Monday, the example label of the brief.
        assert_eq!(w.start(date(2026, 11, 29)), date(2026, 11, 23));
        assert_eq!(w.label(date(2026, 11, 23)), "2026-W48");
        // 2025-12-29 (Monday) already belongs to 2026-W01.
        assert_eq!(w.label(date(2025, 12, 31)), "2026-W01");
    }

    #[test]
    fn day_month_quarter_boundaries_and_labels() {
        let d = date(2026, 11, 23);
        assert_eq!(Period::Day.start(d), d);
        assert_eq!(Period::Day.label(d), "2026-11-23");
        assert_eq!(
            Period::Day.previous_start(date(2026, 3, 1)),
            date(2026, 2, 28)
        );
        assert_eq!(Period::Month.start(d), date(2026, 11, 1));
        assert_eq!(Period::Month.label(d), "2026-11");
        assert_eq!(
            Period::Month.previous_start(date(2026, 1, 1)),
            date(2025, 12, 1)
        );
        assert_eq!(Period::Quarter.start(d), date(2026, 10, 1));
        assert_eq!(Period::Quarter.previous_start(d), date(2026, 7, 1));
        assert_eq!(
            Period::Quarter.previous_start(date(2026, 2, 14)),
            date(2025, 10, 1)
        );
        let quarters = [
            (1, "2026-Q1"),
            (3, "2026-Q1"),
            (4, "2026-Q2"),
            (6, "2026-Q2"),
            (7, "2026-Q3"),
            (9, "2026-Q3"),
            (10, "2026-Q4"),
            (12, "2026-Q4"),
        ];
        for (m, label) in quarters {
            assert_eq!(Period::Quarter.label(date(2026, m, 15)), label, "month {m}");
        }
        assert_eq!(Period::Quarter.start(date(2026, 12, 31)), date(2026, 10, 1));
        assert_eq!(Period::Quarter.start(date(2027, 1, 1)), date(2027, 1, 1));
        // Saturates instead of panicking at the end of the calendar.
        assert_eq!(Period::Day.previous_start(NaiveDate::MIN), NaiveDate::MIN);
        let _ = Period::Week.start(NaiveDate::MIN);
    }

    #[test]
    fn period_names_round_trip() {
        for p in Period::ALL {
            assert_eq!(p.as_str().parse::<Period>(), Ok(p));
            let json = serde_json::to_value(p).unwrap_or_default();
            assert_eq!(json, p.as_str());
        }
        assert_eq!(" Week ".parse::<Period>(), Ok(Period::Week));
        assert_eq!(
            "fortnight".parse::<Period>(),
            Err(UnknownPeriod("fortnight".into()))
        );
    }

    #[test]
    fn bh_published_example() {
        // Benjamini & Hochberg (1995), section 3.1: 15 p-values, q = 0.05.
        // Thresholds i/15·0.05: p₍₄₎ = 0.0095 ≤ 0.01333 and no later p₍ᵢ₎ passes
        // (p₍₅₎ = 0.0201 > 0.01667, …, p₍₉₎ = 0.0459 > 0.03), so the first 4 are rejected.
        let p = [
            0.0001, 0.0004, 0.0019, 0.0095, 0.0201, 0.0278, 0.0298, 0.0344, 0.0459, 0.3240, 0.4262,
            0.5719, 0.6528, 0.7590, 1.000,
        ];
        let r = benjamini_hochberg(&p, 0.05);
        let want: Vec<bool> = (0..15).map(|i| i < 4).collect();
        assert_eq!(r, want);
        // Order of the input does not matter.
        let mut rev = p;
        rev.reverse();
        let mut r_rev = benjamini_hochberg(&rev, 0.05);
        r_rev.reverse();
        assert_eq!(r_rev, want);
    }

    #[test]
    fn bh_is_step_up() {
        // m = 4, q = 0.05: thresholds 0.0125, 0.025, 0.0375, 0.05. p₍₂₎ and p₍₃₎ miss
        // theirs, but p₍₄₎ = 0.05 meets its own, so all four are rejected.
        assert_eq!(
            benjamini_hochberg(&[0.045, 0.01, 0.05, 0.04], 0.05),
            [true, true, true, true]
        );
        assert_eq!(benjamini_hochberg(&[0.051, 0.9], 0.05), [false, false]);
        // Ties share one fate.
        assert_eq!(
            benjamini_hochberg(&[0.03, 0.03, 0.2], 0.05),
            [true, true, false]
        );
        assert!(benjamini_hochberg(&[], 0.05).is_empty());
        // NaN counts in m (threshold 1/2·0.05 = 0.025 for 0.02) but is never rejected.
        assert_eq!(benjamini_hochberg(&[f64::NAN, 0.02], 0.05), [false, true]);
        assert_eq!(benjamini_hochberg(&[f64::NAN, 0.03], 0.05), [false, false]);
    }
    /// Rows as text, field by field: `Debug` prints every `f64` exactly, so
    /// equal strings mean bit-identical figures.
    fn as_text(rows: &[AggRow]) -> Vec<String> {
        rows.iter().map(|r| format!("{r:?}")).collect()
    }

    /// The slice implementation `aggregate` had before [`AggAccumulator`],
    /// kept as it was (period starts precomputed per response, one pass per
    /// column) so the accumulator is checked against the code it replaced.
    fn per_slice_reference(input: &AggInput) -> Vec<AggRow> {
        fn add(g: &mut Group, i: usize, b: Bucket, starts: &[Vec<Option<NaiveDate>>]) {
            g.whole.add(b);
            for (map, kind_starts) in g.by_period.iter_mut().zip(starts) {
                if let Some(start) = kind_starts[i] {
                    map.entry(start).or_default().add(b);
                }
            }
        }
        let mut kinds: Vec<Period> = Vec::new();
        for &k in input.periods {
            if !kinds.contains(&k) {
                kinds.push(k);
            }
        }
        let n = input.buckets.len();
        let starts: Vec<Vec<Option<NaiveDate>>> = kinds
            .iter()
            .map(|&k| {
                (0..n)
                    .map(|i| input.dates.get(i).copied().flatten().map(|d| k.start(d)))
                    .collect()
            })
            .collect();
        let mut b = Builder {
            kinds: kinds.clone(),
            min_n: input.min_n,
            weighted: false,
            rows: Vec::new(),
            family: Vec::new(),
        };
        let mut overall = Group::new(kinds.len());
        for (i, &bucket) in input.buckets.iter().enumerate() {
            add(&mut overall, i, bucket, &starts);
        }
        b.group("", "", &overall, None);
        for (column, values) in input.segments {
            let mut groups: BTreeMap<&str, Group> = BTreeMap::new();
            for (i, &bucket) in input.buckets.iter().enumerate() {
                let v = values.get(i).map_or("", String::as_str);
                let g = groups.entry(v).or_insert_with(|| Group::new(kinds.len()));
                add(g, i, bucket, &starts);
            }
            for (value, g) in &groups {
                let rest = overall.whole.minus(&g.whole);
                b.group(column, value, g, Some(&rest));
            }
        }
        let p: Vec<f64> = b.family.iter().map(|&(_, p)| p).collect();
        let flags = benjamini_hochberg(&p, input.q);
        for (&(row, _), flag) in b.family.iter().zip(flags) {
            b.rows[row].bh_significant = Some(flag);
        }
        b.rows
    }

    /// A fixed linear congruential generator: the same data on every run.
    struct Lcg(u64);

    impl Lcg {
        fn below(&mut self, n: u64) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (self.0 >> 33) % n
        }
    }

    /// `rows` responses over about 15 months across New Year (so every
    /// period kind has neighbours, gaps and a year boundary), about 1 in 12
    /// undated, in two segment columns: `team` (five values, one blank, with
    /// scores that differ by team so some comparisons are significant) and
    /// `tier`. `dates` is 7 short and `tier` 5 short, read as undated and
    /// blank.
    fn generated(rows: usize, seed: u64) -> Fixture {
        let mut r = Lcg(seed);
        let teams = ["north", "south", "east", "west", ""];
        let tiers = ["gold", "silver", ""];
        let first = date(2025, 11, 20);
        let mut buckets = Vec::with_capacity(rows);
        let mut dates = Vec::with_capacity(rows);
        let mut team = Vec::with_capacity(rows);
        let mut tier = Vec::with_capacity(rows);
        for i in 0..rows {
            let t = r.below(teams.len() as u64);
            let score = (r.below(11) + 2 * t).min(10) as u8;
            buckets.push(Bucket::from_score(score).unwrap_or(Bucket::Passive));
            team.push(teams[t as usize].to_string());
            let dated = r.below(12) != 0;
            let day = first.checked_add_days(chrono::Days::new(r.below(450)));
            if i + 7 < rows {
                dates.push(day.filter(|_| dated));
            }
            let tr = tiers[r.below(tiers.len() as u64) as usize].to_string();
            if i + 5 < rows {
                tier.push(tr);
            }
        }
        Fixture {
            buckets,
            dates,
            segments: vec![("team".to_string(), team), ("tier".to_string(), tier)],
        }
    }

    #[test]
    fn accumulator_matches_the_per_slice_results() {
        let periods = [
            Period::Day,
            Period::Week,
            Period::Month,
            Period::Quarter,
            Period::Week,
        ];
        for (seed, rows, min_n, q) in [(1, 600, 5, 0.1), (7, 400, 0, 0.05), (42, 350, 30, 0.05)] {
            let f = generated(rows, seed);
            let input = AggInput {
                buckets: &f.buckets,
                dates: &f.dates,
                segments: &f.segments,
                periods: &periods,
                min_n,
                q,
            };
            let want = per_slice_reference(&input);
            assert_eq!(as_text(&aggregate(&input)), as_text(&want), "seed {seed}");

            // The accumulator fed response by response, as a stream would,
            // passing a shorter value list where `tier` has run out.
            let columns = f.segments.iter().map(|(c, _)| c.clone()).collect();
            let mut acc = AggAccumulator::new(columns, periods.to_vec(), None);
            for (i, &bucket) in f.buckets.iter().enumerate() {
                let values: Vec<&str> = f
                    .segments
                    .iter()
                    .filter_map(|(_, v)| v.get(i).map(String::as_str))
                    .collect();
                acc.add(bucket, f.dates.get(i).copied().flatten(), &values);
            }
            assert_eq!(acc.kept_columns(), ["team", "tier"]);
            let got = acc.finish(min_n, q);
            assert_eq!(as_text(&got), as_text(&want), "seed {seed}");

            // The data exercise what is compared: every kind of row, both
            // kinds of comparison, flags both ways.
            assert!(want.len() > 500, "{}", want.len());
            for kind in Period::ALL {
                assert!(want.iter().any(|r| r.period == Some(kind)
                    && r.comparison.as_deref() == Some(PERIOD_VS_PREVIOUS)));
            }
            assert!(want
                .iter()
                .any(|r| r.comparison.as_deref() == Some(SEGMENT_VS_REST)));
            assert!(want.iter().any(|r| r.bh_significant == Some(true)));
            assert!(want.iter().any(|r| r.bh_significant == Some(false)));
            assert!(want
                .iter()
                .any(|r| r.segment_column == "tier" && r.segment_value.is_empty()));
        }
    }

    #[test]
    fn column_with_too_many_values_is_dropped() {
        let f = fixture();
        let channel = &f.segments[0].1;
        let names: Vec<String> = (0..10).map(|i| format!("customer {i}")).collect();
        // Exactly as many values as the limit: kept.
        let tier: Vec<String> = (0..10)
            .map(|i| if i % 3 == 0 { "gold" } else { "silver" }.to_string())
            .collect();
        let columns = || {
            vec![
                "channel".to_string(),
                "name".to_string(),
                "tier".to_string(),
            ]
        };
        let mut acc = AggAccumulator::new(columns(), vec![Period::Week], Some(2));
        let mut all = AggAccumulator::new(columns(), vec![Period::Week], None);
        for i in 0..10 {
            let values = [channel[i].as_str(), names[i].as_str(), tier[i].as_str()];
            acc.add(f.buckets[i], f.dates[i], &values);
            all.add(f.buckets[i], f.dates[i], &values);
            // Two names are within the limit; the third drops the column.
            let kept = if i < 2 {
                columns()
            } else {
                vec!["channel".to_string(), "tier".to_string()]
            };
            assert_eq!(acc.kept_columns(), kept, "after response {i}");
        }
        assert_eq!(all.kept_columns(), columns());
        let rows = acc.finish(3, 0.05);
        assert!(rows.iter().all(|r| r.segment_column != "name"));
        // The same rows, BH flags included, as if the column had never been given.
        let segments = vec![
            ("channel".to_string(), channel.clone()),
            ("tier".to_string(), tier.clone()),
        ];
        let want = aggregate(&AggInput {
            buckets: &f.buckets,
            dates: &f.dates,
            segments: &segments,
            periods: &[Period::Week],
            min_n: 3,
            q: 0.05,
        });
        assert_eq!(as_text(&rows), as_text(&want));
        // Without a limit every name is a group with its whole-run row.
        let rows = all.finish(3, 0.05);
        let name_rows = rows
            .iter()
            .filter(|r| r.segment_column == "name" && r.period.is_none())
            .count();
        assert_eq!(name_rows, 10);
        // A limit of zero drops every column at its first response.
        let mut none = AggAccumulator::new(columns(), vec![], Some(0));
        none.add(Bucket::Promoter, None, &["a", "b", "c"]);
        assert!(none.kept_columns().is_empty());
        assert_eq!(none.finish(0, 0.05).len(), 1);
    }
}
