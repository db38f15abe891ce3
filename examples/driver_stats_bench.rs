//! How long the driver statistics take at scale: 1M responses × 20 topics
//! counted as patterns, then 1,000 bootstrap replicates of every topic's
//! impact, the key-driver regressions with 1,000 replicates of the relative
//! weights, a shift-share between two halves and the segment views.
//!
//! Run: `cargo run --release --example driver_stats_bench [responses] [replicates]`
//! (`RAYON_NUM_THREADS=1` for the cost on one core). The data are synthetic
//! and seeded: 35% of responses without a comment, the others mention each
//! of 20 topics independently with a prevalence from 1% to 20%, and half of
//! the topics move the score.

use std::time::Instant;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use verbatim::classify::Polarity;
use verbatim::stats::bootstrap::{bootstrap_impacts, BootstrapSettings};
use verbatim::stats::keydrivers::{key_drivers, KeyDriverSettings};
use verbatim::stats::nps::Bucket;
use verbatim::stats::patterns::{PatternCounts, SegmentPatterns};
use verbatim::stats::segment_drivers::{segment_impacts, team_view, Denominator, MentionLabel};
use verbatim::stats::shift_share::shift_share;

const K: usize = 20;

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let replicates: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(1000);
    let topics: Vec<String> = (0..K).map(|t| format!("topic{t:02}")).collect();
    let prevalence: Vec<f64> = (0..K)
        .map(|t| 0.01 + 0.19 * t as f64 / (K - 1) as f64)
        .collect();
    // Topics 0–4 pull towards detractors, 5–9 towards promoters, 10–19 nothing.
    let effect: Vec<f64> = (0..K)
        .map(|t| match t {
            0..=4 => 0.05 + 0.02 * t as f64,
            5..=9 => -(0.03 + 0.02 * (t - 5) as f64),
            _ => 0.0,
        })
        .collect();

    let mut rng = ChaCha8Rng::seed_from_u64(42);
    let started = Instant::now();
    let mut all = PatternCounts::new(K);
    let mut halves = [PatternCounts::new(K), PatternCounts::new(K)];
    let mut agents = SegmentPatterns::new("agent", K, Some(1000));
    let mut mentions = Vec::with_capacity(K);
    for i in 0..n {
        mentions.clear();
        if rng.random::<f64>() >= 0.35 {
            for (t, &w) in prevalence.iter().enumerate() {
                if rng.random::<f64>() < w {
                    mentions.push(t);
                }
            }
        }
        let d = (0.25 + mentions.iter().map(|&t| effect[t]).sum::<f64>()).clamp(0.02, 0.9);
        let p = (0.50 - mentions.iter().map(|&t| effect[t]).sum::<f64>()).clamp(0.02, 0.98 - d);
        let u = rng.random::<f64>();
        let b = if u < d {
            Bucket::Detractor
        } else if u < d + p {
            Bucket::Promoter
        } else {
            Bucket::Passive
        };
        all.add(b, &mentions);
        halves[usize::from(i >= n / 2)].add(b, &mentions);
        agents.add(&format!("agent{:03}", i % 200), b, &mentions);
    }
    let count_time = started.elapsed();
    println!(
        "{n} responses × {K} topics counted in {:.2} s (three holders: all, two halves, 200 agents): {} distinct patterns overall",
        count_time.as_secs_f64(),
        all.distinct()
    );
    println!("rayon threads: {}", rayon::current_num_threads());

    let settings = BootstrapSettings {
        replicates,
        ..BootstrapSettings::default()
    };
    let started = Instant::now();
    let boot = bootstrap_impacts(&all, &topics, &settings, 30, 0.05);
    let t = started.elapsed().as_secs_f64();
    println!(
        "bootstrap_impacts: {replicates} replicates in {t:.3} s ({:.2} ms per replicate)",
        1000.0 * t / replicates.max(1) as f64
    );
    let first = &boot.topics[0];
    println!(
        "  e.g. {}: impact {:.2} [{:.2}, {:.2}]",
        first.topic,
        first.impact.unwrap_or(f64::NAN),
        first.impact_ci_low.unwrap_or(f64::NAN),
        first.impact_ci_high.unwrap_or(f64::NAN)
    );

    let started = Instant::now();
    let kd = key_drivers(
        &all,
        &topics,
        &KeyDriverSettings {
            bootstrap: settings,
            ..KeyDriverSettings::default()
        },
    );
    println!(
        "key_drivers (OLS, two logistic fits, relative weights with {replicates} replicates): {:.3} s; R² {:.4}, {} warnings",
        started.elapsed().as_secs_f64(),
        kd.linear.as_ref().map_or(f64::NAN, |l| l.r_squared),
        kd.warnings.len()
    );

    let started = Instant::now();
    let s = shift_share(&halves[0], &halves[1], &topics);
    println!(
        "shift_share between the halves: {:.4} s (ΔNPS {:.2})",
        started.elapsed().as_secs_f64(),
        s.map_or(f64::NAN, |s| s.delta)
    );

    let started = Instant::now();
    let seg = segment_impacts(std::slice::from_ref(&agents), &topics, 30, 0.05);
    println!(
        "segment_impacts, 200 agents × {K} topics: {:.3} s ({} rows)",
        started.elapsed().as_secs_f64(),
        seg.len()
    );
    let labels: Vec<MentionLabel> = topics
        .iter()
        .enumerate()
        .map(|(i, t)| MentionLabel {
            topic: t.clone(),
            polarity: if i % 2 == 0 {
                Polarity::Negative
            } else {
                Polarity::Positive
            },
        })
        .collect();
    let started = Instant::now();
    let view = team_view(
        std::slice::from_ref(&agents),
        &labels,
        30,
        0.05,
        Denominator::WithTopics,
    );
    println!(
        "team_view, 200 agents × {K} labels: {:.3} s ({} rows)",
        started.elapsed().as_secs_f64(),
        view.rows.len()
    );
}
