//! Small groups in employee surveys: their figures are withheld, not only
//! flagged.
//!
//! A customer survey marks an NPS cell below `--min-n` as suppressed and
//! keeps its figures for whoever wants to read them with care. In an
//! employee survey a small group is a handful of colleagues, or one person
//! (`employee_id` as a segment): its eNPS, its promoter and detractor counts
//! and what its members' comments are about would tell who said what. So
//! for `--survey employee` every `agg_nps` row below `--min-n` except the
//! whole run's, and every `segment_driver` row whose value or rest has fewer
//! than `--min-n` responses, keeps its keys and `n` and loses every other
//! figure. `team_view` already shows only teams of at least `--min-n`.
//! The row-level tables (`fact_response`, `bridge_response_topic`) are the
//! export itself and stay as they are.

use super::aggregate::AggRow;
use super::segment_drivers::SegmentImpact;

/// Withholds the figures of the groups of fewer than `min_n` responses (see
/// the module docs); returns how many rows of each table lost them.
pub fn withhold_small_groups(
    agg: &mut [AggRow],
    segments: &mut [SegmentImpact],
    min_n: u64,
) -> (usize, usize) {
    let mut rows = (0, 0);
    for r in agg.iter_mut() {
        let whole_run = r.segment_column.is_empty() && r.period.is_none();
        if r.n >= min_n || whole_run {
            continue;
        }
        r.withheld = true;
        r.nps = None;
        r.nps_ci_low = None;
        r.nps_ci_high = None;
        r.comparison = None;
        r.diff = None;
        r.z = None;
        r.p_value = None;
        r.bh_significant = None;
        rows.0 += 1;
    }
    for r in segments.iter_mut() {
        if r.n >= min_n && r.n_rest >= min_n {
            continue;
        }
        r.withheld = true;
        r.impact = None;
        r.impact_rest = None;
        r.diff = None;
        r.se = None;
        r.z = None;
        r.p_value = None;
        r.bh_significant = None;
        rows.1 += 1;
    }
    rows
}
