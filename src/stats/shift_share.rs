//! Change in NPS between two periods, split exactly into one part per topic
//! and a named remainder (a waterfall).
//!
//! METHODS.md ("Change between periods") asks for parts that add up to
//! ΔNPS. With multi-label topics, topic groups overlap and no sum of
//! per-topic impacts adds up to anything, so we first make the groups
//! disjoint by *allocation*: a response that mentions k topics gives weight
//! 1/k to each of them; a response that mentions none (no comment, or no
//! topic found) gives weight 1 to the remainder group. Each response's
//! weights sum to 1, so with
//!
//! * s_g = (Σ weights in g)/N, the share of group g (Σ_g s_g = 1), and
//! * NPS_g = weighted NPS of group g,
//!
//! NPS = Σ_g s_g·NPS_g holds exactly in each period. The change is then
//! split with midpoint (symmetric) weights, which is exact without an
//! interaction term:
//!
//! ΔNPS = Σ_g [ Δs_g·(N̄PS_g − N̄PS) + s̄_g·ΔNPS_g ]
//!
//! where bars are the means of the two periods. The first term ("mix") is
//! the part of the change due to the group growing or shrinking; it is
//! centred on the overall N̄PS, which changes nothing in the sum (Σ Δs_g = 0)
//! but makes each part readable: a group that scores above average and
//! grows raises NPS. The second term ("rate") is the part due to the
//! group's own NPS moving. A group present in only one period takes that
//! period's NPS for both, so its whole part is mix. `docs/METHODS.md`
//! derives the identity and discusses the choice.

use serde::Serialize;

use crate::stats::bootstrap::topic_name;
use crate::stats::nps::Bucket;
use crate::stats::patterns::PatternCounts;

/// Name of the remainder group in outputs.
pub const REMAINDER: &str = "(no topic)";

/// One group's part of ΔNPS.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ShiftPart {
    /// Topic name, or [`REMAINDER`].
    pub group: String,
    /// Allocated share of responses in the first period (0..1).
    pub share_before: f64,
    /// Allocated share in the second period.
    pub share_after: f64,
    /// Weighted NPS of the group in the first period; `None` when empty.
    pub nps_before: Option<f64>,
    /// Weighted NPS of the group in the second period; `None` when empty.
    pub nps_after: Option<f64>,
    /// Δs_g·(N̄PS_g − N̄PS): the part due to the group's share changing.
    pub mix: f64,
    /// s̄_g·ΔNPS_g: the part due to the group's NPS changing.
    pub rate: f64,
    /// mix + rate, in NPS points.
    pub total: f64,
}

/// ΔNPS and its parts; `Σ topics.total + remainder.total = delta`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ShiftShare {
    /// Responses in the first period.
    pub n_before: u64,
    /// Responses in the second period.
    pub n_after: u64,
    /// NPS of the first period.
    pub nps_before: f64,
    /// NPS of the second period.
    pub nps_after: f64,
    /// nps_after − nps_before.
    pub delta: f64,
    /// One part per topic, in index order.
    pub topics: Vec<ShiftPart>,
    /// The part of responses without a topic.
    pub remainder: ShiftPart,
}

/// Allocated mass and ±100 code sum of each group (topics, then remainder).
fn allocate(counts: &PatternCounts, k: usize) -> (Vec<f64>, Vec<f64>, u64) {
    let mut mass = vec![0.0; k + 1];
    let mut code = vec![0.0; k + 1];
    for p in counts.patterns() {
        let c = p.count as f64;
        let y = match p.bucket {
            Bucket::Detractor => -100.0,
            Bucket::Passive => 0.0,
            Bucket::Promoter => 100.0,
        };
        let groups: Vec<usize> = p.topics.iter().copied().filter(|&t| t < k).collect();
        if groups.is_empty() {
            mass[k] += c;
            code[k] += c * y;
        } else {
            let w = c / groups.len() as f64;
            for g in groups {
                mass[g] += w;
                code[g] += w * y;
            }
        }
    }
    (mass, code, counts.total())
}

/// Splits NPS(after) − NPS(before) into per-topic parts and the remainder;
/// see the module docs. `topics` names the topics (a missing name reads
/// `#i`); the topic count is the larger of the two periods'. `None` when a
/// period has no responses.
pub fn shift_share(
    before: &PatternCounts,
    after: &PatternCounts,
    topics: &[String],
) -> Option<ShiftShare> {
    let k = before.n_topics().max(after.n_topics());
    let (m1, c1, n1) = allocate(before, k);
    let (m2, c2, n2) = allocate(after, k);
    if n1 == 0 || n2 == 0 {
        return None;
    }
    let nps1 = before.nps().score()?;
    let nps2 = after.nps().score()?;
    let mean_nps = (nps1 + nps2) / 2.0;
    let part = |g: usize| {
        let s1 = m1[g] / n1 as f64;
        let s2 = m2[g] / n2 as f64;
        let g1 = (m1[g] > 0.0).then(|| c1[g] / m1[g]);
        let g2 = (m2[g] > 0.0).then(|| c2[g] / m2[g]);
        // A group absent in one period takes the other period's NPS there.
        let (a, b) = match (g1, g2) {
            (Some(a), Some(b)) => (a, b),
            (Some(a), None) => (a, a),
            (None, Some(b)) => (b, b),
            (None, None) => (mean_nps, mean_nps),
        };
        let mix = (s2 - s1) * ((a + b) / 2.0 - mean_nps);
        let rate = (s1 + s2) / 2.0 * (b - a);
        ShiftPart {
            group: if g == k {
                REMAINDER.to_string()
            } else {
                topic_name(topics, g)
            },
            share_before: s1,
            share_after: s2,
            nps_before: g1,
            nps_after: g2,
            mix,
            rate,
            total: mix + rate,
        }
    };
    Some(ShiftShare {
        n_before: n1,
        n_after: n2,
        nps_before: nps1,
        nps_after: nps2,
        delta: nps2 - nps1,
        topics: (0..k).map(part).collect(),
        remainder: part(k),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: Bucket = Bucket::Detractor;
    const PA: Bucket = Bucket::Passive;
    const P: Bucket = Bucket::Promoter;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-9
    }

    #[test]
    fn hand_computed_two_periods() {
        // Before (N = 4): D {0}, P {0, 1}, P {}, PA {1}. NPS = 100·(2 − 1)/4 = 25.
        //   Group 0 "wait": D (w 1), P (w ½) → mass 1.5, code −100 + 50 = −50
        //     → s = 0.375, NPS_0 = −33.333.
        //   Group 1 "staff": P (w ½), PA (w 1) → mass 1.5, code 50 → s = 0.375, NPS = 33.333.
        //   Remainder: P → mass 1, s = 0.25, NPS = 100.
        //   Check: 0.375·(−33.333) + 0.375·33.333 + 0.25·100 = 25. ✓
        // After (N = 5): D {0}, D {0}, P {1}, P {}, PA {}. NPS = 0.
        //   Group 0: mass 2, NPS −100, s = 0.4. Group 1: mass 1, NPS 100, s = 0.2.
        //   Remainder: mass 2, NPS 50, s = 0.4.
        // ΔNPS = −25; N̄PS = 12.5.
        //   wait:  mix = (0.4 − 0.375)·((−33.333 − 100)/2 − 12.5) = 0.025·(−79.1667) = −1.979167;
        //          rate = 0.3875·(−100 + 33.333) = −25.833333; total −27.8125.
        //   staff: mix = (0.2 − 0.375)·((33.333 + 100)/2 − 12.5) = −0.175·54.1667 = −9.479167;
        //          rate = 0.2875·66.6667 = 19.166667; total 9.6875.
        //   rest:  mix = 0.15·(75 − 12.5) = 9.375; rate = 0.325·(−50) = −16.25; total −6.875.
        //   Sum: −27.8125 + 9.6875 − 6.875 = −25. ✓
        let mut before = PatternCounts::new(2);
        before.add(D, &[0]);
        before.add(P, &[0, 1]);
        before.add(P, &[]);
        before.add(PA, &[1]);
        let mut after = PatternCounts::new(2);
        after.add(D, &[0]);
        after.add(D, &[0]);
        after.add(P, &[1]);
        after.add(P, &[]);
        after.add(PA, &[]);
        let topics = vec!["wait".to_string(), "staff".to_string()];
        let s = shift_share(&before, &after, &topics).expect("both periods have responses");
        assert!(close(s.nps_before, 25.0) && close(s.nps_after, 0.0) && close(s.delta, -25.0));
        let wait = &s.topics[0];
        assert!(close(wait.share_before, 0.375) && close(wait.share_after, 0.4));
        assert!(close(wait.mix, -1.9791666666666667));
        assert!(close(wait.rate, -25.833333333333333));
        assert!(close(s.topics[1].mix, -9.479166666666667));
        assert!(close(s.topics[1].rate, 19.166666666666667));
        assert!(close(s.remainder.mix, 9.375) && close(s.remainder.rate, -16.25));
        assert_eq!(s.remainder.group, REMAINDER);
        let sum: f64 = s.topics.iter().map(|p| p.total).sum::<f64>() + s.remainder.total;
        assert!(close(sum, s.delta));
    }

    #[test]
    fn group_in_one_period_only_is_all_mix() {
        // Topic 0 appears only after: its NPS before is taken as after's, rate 0.
        let mut before = PatternCounts::new(1);
        before.add(P, &[]);
        before.add(D, &[]);
        let mut after = PatternCounts::new(1);
        after.add(D, &[0]);
        after.add(P, &[]);
        let s = shift_share(&before, &after, &["new".to_string()]).expect("periods");
        // NPS 0 → 0; topic: s 0 → 0.5, NPS −100, N̄PS = 0: mix = 0.5·(−100) = −50.
        // Remainder: s 1 → 0.5, NPS 0 → 100: mix = −0.5·50 = −25, rate = 0.75·100 = 75.
        assert_eq!(s.topics[0].nps_before, None);
        assert!(close(s.topics[0].rate, 0.0) && close(s.topics[0].mix, -50.0));
        assert!(close(s.remainder.mix, -25.0) && close(s.remainder.rate, 75.0));
        assert!(close(s.topics[0].total + s.remainder.total, s.delta));
        assert!(shift_share(&PatternCounts::new(1), &after, &[]).is_none());
    }
}
