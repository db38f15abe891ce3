//! What `verbatim analyze` prints when its outputs are committed: the row
//! accounting, NPS, speed, the top drivers, the driver statistics' summary
//! and where the results are.

use std::path::Path;

use crate::classify::Taxonomy;
use crate::output::manifest::RunManifest;
use crate::pipeline::PassResult;
use crate::stats::driver_stats::DriverAnalysis;
use crate::stats::drivers::Driver;
use crate::stats::response::DriverScope;

/// Prints the summary of a run whose outputs are in `target`.
pub fn print(
    a: &PassResult,
    m: &RunManifest,
    tax: &Taxonomy,
    drivers: &DriverAnalysis,
    target: &Path,
) {
    let label = |id: &str| tax.label_of(id);
    counts(m);
    weighted(a);
    for (title, low) in [
        ("Drivers of low scores", true),
        ("Drivers of high scores", false),
    ] {
        println!("{title} (impact on NPS, 95% CI by the delta method, mentions):");
        let list = top_drivers(a, low);
        if list.is_empty() {
            println!(
                "  none with an interval clear of 0 and at least {} mentions",
                m.thresholds.min_n
            );
        }
        for (d, scope) in list.iter().take(6) {
            let name = match scope {
                DriverScope::Any => label(&d.topic),
                other => format!("{} ({})", label(&d.topic), other.as_str()),
            };
            println!(
                "  {:<40} {:>+6.1}  [{:+.1}, {:+.1}]  n={}",
                name,
                d.impact.unwrap_or(0.0),
                d.impact_ci_low.unwrap_or(0.0),
                d.impact_ci_high.unwrap_or(0.0),
                d.mentions
            );
        }
    }
    if let Some(c) = &m.cache {
        eprintln!(
            "embedded {} new texts, {} from cache ({})",
            c.misses, c.hits, c.path
        );
    }
    print!(
        "{}",
        crate::output::driver_summary::driver_summary(drivers, &|id: &str| label(id))
    );
    println!("results in {}", target.display());
}

/// The weighted NPS of all responses (first row of `agg_nps`), when the
/// run has survey weights.
fn weighted(a: &PassResult) {
    let Some(all) = a.agg.first() else {
        return;
    };
    match (
        all.weighted_nps,
        all.weighted_nps_ci_low,
        all.weighted_nps_ci_high,
        all.n_effective,
    ) {
        (Some(nps), Some(lo), Some(hi), Some(n)) => println!(
            "weighted NPS {nps:.1} (95% CI {lo:.1} to {hi:.1}; effective n {n:.1}){}",
            if all.weighted_suppressed == Some(true) {
                "; below --min-n"
            } else {
                ""
            }
        ),
        _ if all.weight_sum.is_some() => {
            println!("weighted NPS: no response with a weight above 0")
        }
        _ => {}
    }
}

fn counts(m: &RunManifest) {
    let c = &m.counts;
    println!(
        "read {} = analysed {} + rejected {}",
        c.read, c.analysed, c.rejected
    );
    match (m.nps.nps, m.nps.ci95) {
        (Some(nps), Some((lo, hi))) => println!(
            "NPS {nps:.1} (95% CI {lo:.1} to {hi:.1}; {} promoters, {} passives, {} detractors)",
            m.nps.promoters, m.nps.passives, m.nps.detractors
        ),
        _ => println!("NPS: no scored responses"),
    }
    let t = &m.timings;
    let cached = if t.texts_from_cache > 0 {
        format!(", {} read from the cache", t.texts_from_cache)
    } else {
        String::new()
    };
    let embedded = if t.texts_embedded > 0 {
        format!(
            "{} texts embedded in {:.1}s ({:.0} texts/s, {}){cached}",
            t.texts_embedded, t.embed_seconds, t.texts_per_second, m.model.name
        )
    } else {
        format!("no text embedded{cached}")
    };
    println!(
        "{} comments in {:.1}s ({:.0} comments/s); {embedded}",
        c.with_comment, t.total_seconds, t.comments_per_second
    );
}

/// Low scores: topics pulling NPS down, whether any mention or only the
/// negative ones; high scores likewise with the positive mentions.
fn top_drivers(a: &PassResult, low: bool) -> Vec<(&Driver, DriverScope)> {
    let left_out = if low {
        DriverScope::Positive
    } else {
        DriverScope::Negative
    };
    let mut v: Vec<_> = a
        .drivers
        .iter()
        .filter(|t| t.scope != left_out)
        .flat_map(|t| {
            let list = if low { &t.ranking.low } else { &t.ranking.high };
            list.iter().map(move |d| (d, t.scope))
        })
        .collect();
    v.sort_by(|x, y| {
        let (a, b) = (x.0.impact.unwrap_or(0.0), y.0.impact.unwrap_or(0.0));
        if low {
            a.total_cmp(&b)
        } else {
            b.total_cmp(&a)
        }
    });
    v
}
