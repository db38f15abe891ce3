//! The driver part of the terminal summary of `verbatim analyze`: the top
//! drivers of low and high scores with their bootstrap intervals, the
//! key-driver warnings, the parts of ΔNPS, and the counts of alerts,
//! follow-ups and sentiment mismatches. Formatting only; the figures come
//! from [`DriverAnalysis`].

use std::fmt::Write;

use crate::stats::bootstrap::TopicImpact;
use crate::stats::driver_stats::DriverAnalysis;
use crate::stats::response::DriverScope;

/// The summary lines, `label` turning a topic id into its display label.
pub fn driver_summary(
    a: &DriverAnalysis,
    label: &dyn Fn(&str) -> String,
    followups: bool,
) -> String {
    let mut o = String::new();
    let replicates = a.impacts.first().map_or(0, |x| x.1.replicates);
    let seed = a.impacts.first().map_or(0, |x| x.1.seed);
    // Low scores: any or negative mentions; high: any or positive mentions.
    for (title, low) in [("detractor", true), ("promoter", false)] {
        let mut list: Vec<(&TopicImpact, DriverScope)> = a
            .impacts
            .iter()
            .filter(|(s, _)| {
                *s != if low {
                    DriverScope::Positive
                } else {
                    DriverScope::Negative
                }
            })
            .flat_map(|(s, b)| b.topics.iter().map(move |t| (t, *s)))
            .filter(|(t, _)| {
                t.bh_significant == Some(true)
                    && t.impact
                        .is_some_and(|i| if low { i < 0.0 } else { i > 0.0 })
            })
            .collect();
        list.sort_by(|x, y| {
            let (a, b) = (x.0.impact.unwrap_or(0.0), y.0.impact.unwrap_or(0.0));
            let c = if low {
                a.total_cmp(&b)
            } else {
                b.total_cmp(&a)
            };
            c.then_with(|| x.0.topic.cmp(&y.0.topic))
        });
        let _ = writeln!(
            o,
            "Top {title} drivers (impact, bootstrap 95% CI of {replicates} replicates, seed {seed:#x}; BH-significant):"
        );
        if list.is_empty() {
            let _ = writeln!(o, "  none");
        }
        for (t, scope) in list.iter().take(5) {
            let name = match scope {
                DriverScope::Any => label(&t.topic),
                s => format!("{} ({})", label(&t.topic), s.as_str()),
            };
            let ci = match (t.impact_ci_low, t.impact_ci_high) {
                (Some(l), Some(h)) => format!("[{l:+.1}, {h:+.1}]"),
                _ => "[no interval]".into(),
            };
            let _ = writeln!(
                o,
                "  {:<40} {:>+6.1}  {ci}  p={:.2e}  n={}",
                name,
                t.impact.unwrap_or(0.0),
                t.p_value.unwrap_or(1.0),
                t.mentions
            );
        }
    }
    let topic_warnings: Vec<_> = a.key.warnings.iter().collect();
    if topic_warnings.is_empty() {
        let _ = writeln!(o, "Key-driver models: no warnings");
    } else {
        let _ = writeln!(o, "Key-driver warnings ({}):", topic_warnings.len());
        for w in topic_warnings.iter().take(8) {
            let _ = writeln!(o, "  {}", w.message);
        }
        if topic_warnings.len() > 8 {
            let _ = writeln!(o, "  … {} more in key_driver", topic_warnings.len() - 8);
        }
    }
    match &a.change {
        Some(c) => {
            let sh = &c.shift;
            let _ = writeln!(
                o,
                "ΔNPS {} → {}: {:+.1} ({:.1} → {:.1}), largest parts:",
                c.before_label, c.after_label, sh.delta, sh.nps_before, sh.nps_after
            );
            let mut parts: Vec<_> = sh.topics.iter().collect();
            parts.sort_by(|x, y| {
                y.total
                    .abs()
                    .total_cmp(&x.total.abs())
                    .then_with(|| x.group.cmp(&y.group))
            });
            for p in parts.iter().take(5) {
                let _ = writeln!(o, "  {:<40} {:+.2}", label(&p.group), p.total);
            }
            let _ = writeln!(o, "  {:<40} {:+.2}", sh.remainder.group, sh.remainder.total);
        }
        None => {
            let _ = writeln!(o, "ΔNPS: no two consecutive periods to compare");
        }
    }
    let followups = if followups {
        format!(
            "{} follow-ups (of {} candidates), ",
            a.followups.len(),
            a.followup_candidates
        )
    } else {
        String::new()
    };
    let _ = writeln!(
        o,
        "{} alerts, {followups}{} sentiment mismatches",
        a.alerts.len(),
        a.mismatches
    );
    o
}
