//! The driver part of the terminal summary of `verbatim analyze`: where
//! the drivers' bootstrap intervals are (the drivers themselves are listed
//! once, by [`crate::stats::top_drivers`], as in the report), the
//! key-driver warnings, the parts of ΔNPS, and the counts of alerts,
//! follow-ups and sentiment mismatches. Formatting only; the figures come
//! from [`DriverAnalysis`].

use std::fmt::Write;

use crate::stats::driver_stats::DriverAnalysis;

/// The summary lines, `label` turning a topic id into its display label.
pub fn driver_summary(
    a: &DriverAnalysis,
    label: &dyn Fn(&str) -> String,
    followups: bool,
) -> String {
    let mut o = String::new();
    let replicates = a.impacts.first().map_or(0, |x| x.1.replicates);
    let seed = a.impacts.first().map_or(0, |x| x.1.seed);
    // The drivers themselves are listed once, above, by the choice the
    // report makes (`stats::top_drivers`); their bootstrap intervals are in
    // topic_driver.
    let _ = writeln!(
        o,
        "Bootstrap 95% intervals of the drivers ({replicates} replicates, seed {seed:#x}): topic_driver.boot_impact_ci_low/_high"
    );
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
