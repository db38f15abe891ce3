//! What `verbatim analyze` prints when its outputs are committed: the row
//! accounting, NPS, speed, the top drivers, the driver statistics' summary
//! and where the results are. A run without scores (`--no-score`) prints,
//! in place of NPS and the drivers, that they are left out, then the topics
//! with their share of the comments and net sentiment and their latest
//! period against the one before.

use std::path::Path;

use crate::classify::Taxonomy;
use crate::input::Mode;
use crate::output::driver_summary::label_lines;
use crate::output::manifest::RunManifest;
use crate::pipeline::PassResult;
use crate::stats::driver_stats::DriverAnalysis;
use crate::stats::response::{DriverScope, DriverTable};
use crate::stats::top_drivers::{side_drivers, Side};
use crate::stats::topic_counts::TopicCounts;

/// Prints the summary of a run whose outputs are in `target`.
pub fn print(
    a: &PassResult,
    m: &RunManifest,
    tax: &Taxonomy,
    drivers: &DriverAnalysis,
    target: &Path,
    employee: bool,
) {
    let label = |id: &str| tax.label_of(id);
    // An employee survey says eNPS, and has no call-back list.
    let say = |s: String| {
        if employee {
            crate::report::say_enps(&s)
        } else {
            s
        }
    };
    println!("{}", say(counts(m)));
    if m.mode == Mode::TopicsOnly {
        for line in topic_lines(&a.topics, &label, m.thresholds.min_n) {
            println!("{line}");
        }
    }
    if let Some(line) = weighted(a) {
        println!("{}", say(line));
    }
    if m.mode == Mode::Nps {
        for side in Side::BOTH {
            for line in side_lines(&a.drivers, side, &label, m.thresholds.min_n) {
                println!("{}", say(line));
            }
        }
    }
    if let Some(c) = &m.cache {
        eprintln!(
            "embedded {} new texts, {} from cache ({})",
            c.misses, c.hits, c.path
        );
    }
    match m.mode {
        Mode::Nps => print!(
            "{}",
            say(crate::output::driver_summary::driver_summary(
                drivers,
                &|id: &str| label(id),
                !employee
            ))
        ),
        Mode::TopicsOnly => println!(
            "{} (alerts table)",
            crate::output::driver_summary::counted(drivers.alerts.len() as u64, "alert", "alerts")
        ),
    }
    println!("results in {}", target.display());
}

/// The weighted NPS of all responses (first row of `agg_nps`), when the
/// run has survey weights.
fn weighted(a: &PassResult) -> Option<String> {
    let all = a.agg.first()?;
    match (
        all.weighted_nps,
        all.weighted_nps_ci_low,
        all.weighted_nps_ci_high,
        all.n_effective,
    ) {
        (Some(nps), Some(lo), Some(hi), Some(n)) => Some(format!(
            "weighted NPS {nps:.1} (95% CI {lo:.1} to {hi:.1}; effective n {n:.1}){}",
            if all.weighted_suppressed == Some(true) {
                "; below --min-n"
            } else {
                ""
            }
        )),
        _ if all.weight_sum.is_some() => {
            Some("weighted NPS: no response with a weight above 0".to_string())
        }
        _ => None,
    }
}

/// The row accounting, NPS and speed lines.
fn counts(m: &RunManifest) -> String {
    let c = &m.counts;
    let mut o = format!(
        "read {} = analysed {} + rejected {}\n",
        c.read, c.analysed, c.rejected
    );
    match &m.nps {
        None => o.push_str("no score column: NPS and drivers left out (--no-score)\n"),
        Some(n) => match (n.nps, n.ci95) {
            (Some(nps), Some((lo, hi))) => o.push_str(&format!(
                "NPS {nps:.1} (95% CI {lo:.1} to {hi:.1}; {} promoters, {} passives, {} detractors)\n",
                n.promoters, n.passives, n.detractors
            )),
            _ => o.push_str("NPS: no scored responses\n"),
        },
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
    o.push_str(&format!(
        "{} comments in {:.1}s ({:.0} comments/s); {embedded}",
        c.with_comment, t.total_seconds, t.comments_per_second
    ));
    if c.placeholder_comments > 0 {
        o.push_str(&format!(
            "\n{} {} only a placeholder (\"n/a\", \"-\", \"keine Angabe\"…), counted as no comment",
            c.placeholder_comments,
            if c.placeholder_comments == 1 {
                "answer was"
            } else {
                "answers were"
            }
        ));
    }
    o
}

/// Most topics the console lists in a run without scores (`agg_topic` has
/// them all).
const TOPIC_LINES: usize = 10;

/// The topic lines of a run without scores: the comments' sentiment, the
/// most mentioned topics with their share of the comments and net
/// sentiment, and the latest period of the finest kind against the one
/// before it.
pub(crate) fn topic_lines(
    c: &TopicCounts,
    label: &dyn Fn(&str) -> String,
    min_n: u64,
) -> Vec<String> {
    let w = &c.whole;
    let [neg, neu, pos] = w.sentiment;
    let mut out = vec![format!(
        "Comments' sentiment: {pos} positive, {neu} neutral, {neg} negative"
    )];
    let ranked = c.ranked_topics();
    if ranked.iter().all(|(_, m)| m.mentions == 0) {
        out.push("Topics: none mentioned".to_string());
        return out;
    }
    out.push(format!(
        "Topics (share of the {} comments, net sentiment −100..100, mentions):",
        w.comments
    ));
    let rows: Vec<(String, String)> = ranked
        .iter()
        .filter(|(_, m)| m.mentions > 0)
        .take(TOPIC_LINES)
        .map(|(t, m)| {
            let share = w.share_of_comments(*t).unwrap_or(0.0) * 100.0;
            let net = m
                .net_sentiment()
                .map_or("—".to_string(), |v| format!("{v:+.0}"));
            let small = if m.mentions < min_n {
                "  (n < min)"
            } else {
                ""
            };
            (
                label(&c.topic_ids[*t]),
                format!("{share:>4.0}%  net {net:>4}  n={}{small}", m.mentions),
            )
        })
        .collect();
    out.extend(label_lines(&rows));
    if let Some(line) = latest_change(c, &ranked, label) {
        out.push(line);
    }
    out
}

/// "Latest week 2026-W03 against 2026-W02 (share of comments): …" for the
/// most mentioned topics; `None` without two periods.
fn latest_change(
    c: &TopicCounts,
    ranked: &[(usize, crate::stats::topic_counts::Mentions)],
    label: &dyn Fn(&str) -> String,
) -> Option<String> {
    let kind = c.finest()?;
    let periods: Vec<_> = c.of_kind(kind).collect();
    let [.., before, last] = periods.as_slice() else {
        return None;
    };
    let pct = |p: &crate::stats::topic_counts::PeriodTally, t: usize| {
        p.tally
            .share_of_comments(t)
            .map_or("—".to_string(), |s| format!("{:.0}%", 100.0 * s))
    };
    let parts: Vec<String> = ranked
        .iter()
        .filter(|(_, m)| m.mentions > 0)
        .take(5)
        .map(|(t, _)| {
            format!(
                "{} {} ({})",
                label(&c.topic_ids[*t]),
                pct(last, *t),
                pct(before, *t)
            )
        })
        .collect();
    Some(format!(
        "Latest {} {} against {} (share of comments): {}",
        kind.as_str(),
        last.label,
        before.label,
        parts.join(", ")
    ))
}

/// The console lines of one side: a title, then the drivers of
/// [`side_drivers`] (the report's choice and order), at most six.
pub(crate) fn side_lines(
    tables: &[DriverTable],
    side: Side,
    label: &dyn Fn(&str) -> String,
    min_n: u64,
) -> Vec<String> {
    let title = match side {
        Side::Detractor => "Drivers of low scores",
        Side::Promoter => "Drivers of high scores",
    };
    let mut out = vec![format!(
        "{title} (impact on NPS, 95% CI by the delta method, mentions):"
    )];
    let list = side_drivers(tables, side).ranked;
    if list.is_empty() {
        out.push(format!(
            "  none with an interval clear of 0 and at least {min_n} mentions"
        ));
    }
    let rows: Vec<(String, String)> = list
        .iter()
        .take(6)
        .map(|p| {
            let d = p.driver;
            let name = match p.scope {
                DriverScope::Any => label(&d.topic),
                other => format!("{} ({} mentions)", label(&d.topic), other.as_str()),
            };
            let figures = format!(
                "{:>+6.1}  [{:+.1}, {:+.1}]  n={}",
                d.impact.unwrap_or(0.0),
                d.impact_ci_low.unwrap_or(0.0),
                d.impact_ci_high.unwrap_or(0.0),
                d.mentions
            );
            (name, figures)
        })
        .collect();
    out.extend(label_lines(&rows));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::drivers::{rank, Direction, Driver};

    fn driver(topic: &str, impact: f64, mentions: u64) -> Driver {
        Driver {
            topic: topic.into(),
            mentions,
            share_of_detractors: Some(0.1),
            share_of_promoters: Some(0.1),
            nps_mentions: Some(0.0),
            nps_without: Some(0.0),
            impact: Some(impact),
            impact_ci_low: Some(impact - 2.0),
            impact_ci_high: Some(impact + 2.0),
            direction: if impact < 0.0 {
                Direction::PullsDown
            } else {
                Direction::PullsUp
            },
            suppressed: false,
        }
    }

    #[test]
    fn a_long_driver_label_keeps_the_figures_in_line() {
        let table = |scope, drivers: Vec<Driver>| DriverTable {
            scope,
            ranking: rank(&drivers),
            drivers,
        };
        let tables = vec![
            table(DriverScope::Any, vec![driver("speed", 4.0, 120)]),
            table(
                DriverScope::Positive,
                vec![driver("friendliness", 12.5, 300)],
            ),
        ];
        let label = |id: &str| match id {
            "friendliness" => "Agent friendliness and empathy".to_string(),
            _ => "Speed".to_string(),
        };
        let lines = side_lines(&tables, Side::Promoter, &label, 30);
        assert_eq!(lines.len(), 3, "{lines:#?}");
        assert!(lines[1].starts_with("  Agent friendliness and empathy (positive mentions) "));
        // The impact's last digit ends in the same column on both rows.
        let end = |l: &str| l.find('[').expect("an interval");
        assert_eq!(end(&lines[1]), end(&lines[2]), "{lines:#?}");
        assert!(lines[2].starts_with("  Speed "), "{lines:#?}");
    }
}
