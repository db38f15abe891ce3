//! Tests of the report: escaping, number formats, empty and suppressed data,
//! determinism, and `from_run` on a hand-built run.

use super::*;
use crate::output::manifest::{
    Counts, InputInfo, ModelInfo, NpsInfo, TaxonomyInfo, Thresholds, Timings,
};
use crate::stats::aggregate::{aggregate, AggInput};
use crate::stats::alerts::PeriodCounts;
use crate::stats::driver_stats::{analyse, AnalysisSettings, DriverCounts};
use crate::stats::drivers::{rank, topic_drivers, DriverInput};
use crate::stats::nps::{Bucket, Nps};
use crate::stats::patterns::{PatternCounts, SegmentPatterns};

const HOSTILE: &str = "</script><img src=x onerror=alert(1)>";

fn iv(low: f64, high: f64) -> Option<Interval> {
    Some(Interval { low, high })
}

fn driver(topic: &str, scope: &str, impact: f64, ci: (f64, f64), mentions: u64) -> DriverRow {
    DriverRow {
        topic: topic.into(),
        scope: scope.into(),
        impact: Some(impact),
        ci: iv(ci.0, ci.1),
        bootstrap_ci: None,
        mentions,
        share_of_detractors: Some(0.2),
        share_of_promoters: Some(0.1),
        nps_mentions: Some(-40.0),
        significant: ci.0 > 0.0 || ci.1 < 0.0,
        suppressed: mentions < 30,
    }
}

/// A report with every section filled and hostile text in every
/// user-provided field.
fn sample() -> ReportData {
    ReportData {
        title: format!("Report {HOSTILE}"),
        source: format!("export{HOSTILE}.csv"),
        run_id: "20261125T120000Z-abcdef12".into(),
        run_at: "2026-11-25T12:00:00Z".into(),
        generator: "verbatim 0.1.0".into(),
        min_n: 30,
        fdr_q: 0.05,
        headline: Headline {
            nps: Some(12.345),
            ci: iv(8.1, 16.6),
            n: 1234,
            promoters: 500,
            passives: 388,
            detractors: 346,
            with_comment: 900,
            weighted: None,
        },
        trend: Some(Trend {
            period: "week".into(),
            points: vec![
                TrendPoint {
                    label: "2026-W40".into(),
                    nps: Some(10.0),
                    ci: iv(2.0, 18.0),
                    n: 200,
                    suppressed: false,
                },
                TrendPoint {
                    label: format!("W{HOSTILE}"),
                    nps: Some(14.0),
                    ci: iv(-20.0, 40.0),
                    n: 12,
                    suppressed: true,
                },
            ],
        }),
        detractor_drivers: vec![
            driver("Wait time", "negative", -8.2, (-11.0, -5.4), 210),
            driver(
                &format!("Billing {HOSTILE}"),
                "any",
                -12.0,
                (-30.0, 6.0),
                12,
            ),
        ],
        promoter_drivers: vec![driver("Friendly agent", "positive", 6.1, (3.9, 8.3), 340)],
        topics: vec![TopicSentimentRow {
            topic: format!("T{HOSTILE}"),
            negative: 10,
            neutral: 5,
            positive: 5,
            net_sentiment: Some(-25.0),
            suppressed: true,
        }],
        segments: vec![SegmentRow {
            column: format!("channel{HOSTILE}"),
            value: HOSTILE.into(),
            n: 12,
            nps: Some(-5.0),
            ci: iv(-40.0, 30.0),
            diff_vs_rest: Some(-17.3),
            p_value: Some(0.0004),
            bh_significant: None,
            suppressed: true,
        }],
        examples: vec![TopicExamples {
            topic: "Wait time".into(),
            comments: vec![ExampleComment {
                text: HOSTILE.into(),
                score: Some(2),
            }],
        }],
        warnings: vec![format!("warning {HOSTILE}")],
        manifest_json: format!("{{\"path\": \"{HOSTILE}\"}}"),
        importance: Some(Importance {
            method: format!("General dominance {HOSTILE}"),
            r_squared: Some(0.31),
            rows: vec![ImportanceRow {
                topic: "Wait time".into(),
                share: 0.42,
                ci: iv(0.30, 0.55),
                weight: Some(0.13),
                weight_ci: iv(0.093, 0.17),
            }],
            note: format!("note {HOSTILE}"),
        }),
        waterfall: Some(Waterfall {
            from_label: "2026-10".into(),
            to_label: "2026-11".into(),
            from_nps: 10.0,
            to_nps: 12.5,
            parts: vec![
                WaterfallPart {
                    label: format!("Wait {HOSTILE}"),
                    value: 3.0,
                },
                WaterfallPart {
                    label: "remainder".into(),
                    value: -0.5,
                },
            ],
        }),
        detractor_too_few: vec![driver(
            &format!("Rare {HOSTILE}"),
            "any",
            -3.0,
            (-9.0, 3.0),
            7,
        )],
        promoter_too_few: vec![],
        change_note: None,
        alerts: Some(Alerts {
            z_threshold: 3.0,
            rows: vec![AlertRow {
                period_label: "2026-11".into(),
                topic: format!("Billing {HOSTILE}"),
                metric: "share".into(),
                value: 0.24,
                history_mean: 0.03,
                history_periods: 5,
                z: 4.2,
                n: 300,
                mentions: 72,
            }],
            total: 1,
            note: String::new(),
        }),
        team: Some(TeamReadings {
            columns: vec!["agent".into()],
            rows: vec![TeamReading {
                column: "agent".into(),
                value: HOSTILE.into(),
                topic: "Friendly agent".into(),
                reading: "praised_for".into(),
                rate: Some(0.18),
                rate_rest: Some(0.06),
                n: 120,
            }],
            total: 1,
            note: String::new(),
        }),
        followup: Some(FollowupSize {
            listed: 40,
            candidates: 120,
            with_signal: 9,
        }),
        employee: false,
        topics_only: None,
    }
}

#[test]
fn escape_covers_markup_and_quotes() {
    assert_eq!(
        escape(HOSTILE),
        "&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;"
    );
    assert_eq!(escape("a & \"b\" 'c'"), "a &amp; &quot;b&quot; &#39;c&#39;");
    assert_eq!(escape("x\u{0}y\u{7}z\n"), "x\u{FFFD}y\u{FFFD}z\n");
    assert_eq!(escape("Grüße, 山田"), "Grüße, 山田");
}

#[test]
fn hostile_text_renders_as_text_everywhere() {
    let html = render(&sample());
    // The only tags named script/img are the page's own one script.
    assert_eq!(html.matches("<script").count(), 1);
    assert_eq!(html.matches("</script>").count(), 1);
    assert!(!html.contains("<img"));
    assert!(!html.contains("onerror=alert(1)>"));
    // Each hostile field is there, escaped (title twice: <title> and <h1>).
    let escaped = escape(HOSTILE);
    assert!(
        html.matches(&escaped).count() >= 12,
        "{}",
        html.matches(&escaped).count()
    );
}

#[test]
fn page_holds_no_url_and_policy_matches_the_script() {
    // Without the hostile `src=x` text, nothing that looks like a reference.
    let json = serde_json::to_string(&sample())
        .unwrap()
        .replace(HOSTILE, "x");
    let d: ReportData = serde_json::from_str(&json).unwrap();
    let html = render(&d);
    let outside_script = html.replace(SCRIPT, "");
    for needle in [
        "http:", "https:", "//", "url(", "@import", " src=", "href=", "xlink",
    ] {
        assert!(!outside_script.contains(needle), "found {needle}");
    }
    let start = html.find("<script>").unwrap() + "<script>".len();
    let end = html.find("</script>").unwrap();
    let body = &html[start..end];
    use base64::Engine;
    use sha2::Digest;
    let hash = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(body));
    assert!(html.contains(&format!("script-src 'sha256-{hash}'")));
    let start = html.find("<style>").unwrap() + "<style>".len();
    let end = html.find("</style>").unwrap();
    let hash =
        base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(&html[start..end]));
    assert!(html.contains(&format!("style-src 'sha256-{hash}'")));
    assert!(
        !html.contains(" style=\""),
        "style attributes would be refused"
    );
    assert!(html.contains("default-src 'none'"));
}

#[test]
fn numbers_are_formatted_for_reading() {
    assert_eq!(fmt_value(Some(12.345)), "12.3");
    assert_eq!(fmt_value(Some(-3.46)), "\u{2212}3.5");
    assert_eq!(fmt_value(Some(-0.04)), "0.0");
    assert_eq!(fmt_value(None), "\u{2014}");
    assert_eq!(fmt_value(Some(f64::NAN)), "\u{2014}");
    assert_eq!(fmt_signed(Some(2.0)), "+2.0");
    assert_eq!(fmt_signed(Some(-0.01)), "0.0");
    assert_eq!(fmt_signed(Some(-7.25001)), "\u{2212}7.3");
    assert_eq!(fmt_pct(Some(0.3449)), "34%");
    assert_eq!(fmt_pct(Some(0.0451)), "4.5%");
    assert_eq!(fmt_pct(Some(0.0)), "0%");
    assert_eq!(fmt_pct(Some(0.0004)), "<0.1%");
    assert_eq!(fmt_pct(Some(1.0)), "100%");
    assert_eq!(fmt_int(0), "0");
    assert_eq!(fmt_int(999), "999");
    assert_eq!(fmt_int(1234567), "1\u{202F}234\u{202F}567");
    assert_eq!(fmt_p(Some(0.0004)), "<0.001");
    assert_eq!(fmt_p(Some(0.0123)), "0.012");
    assert_eq!(fmt_p(Some(0.456)), "0.46");
    assert_eq!(fmt_interval(iv(-8.14, -2.26)), "\u{2212}8.1 to \u{2212}2.3");
}

#[test]
fn empty_data_renders_a_complete_page() {
    let html = render(&ReportData::default());
    assert!(html.starts_with("<!DOCTYPE html>\n<html lang=\"en\">"));
    assert!(html.ends_with("</html>\n"));
    assert!(html.contains("There are no scored responses."));
    assert!(html.contains("No segment columns were aggregated."));
    let page = html.replace(SCRIPT, "");
    assert!(!page.contains("NaN") && !page.contains("inf"));
    // Sections nobody computed are absent, not empty shells; the trend
    // says why it is empty.
    for id in [
        "change-heading",
        "importance-heading",
        "alerts-heading",
        "team-heading",
        "followup-heading",
        "examples-heading",
    ] {
        assert!(!html.contains(id), "{id}");
    }
    assert!(html.contains("No dates in the input: no NPS over time."));
    for tag in ["section", "table", "svg", "details", "ul", "div"] {
        assert_eq!(
            html.matches(&format!("<{tag}")).count() - html.matches(&format!("<{tag}e")).count(),
            html.matches(&format!("</{tag}>")).count(),
            "{tag}"
        );
    }
}

#[test]
fn full_page_is_balanced_and_has_every_section() {
    let html = render(&sample());
    for id in [
        "nps-value",
        "drivers-down-chart",
        "drivers-up-chart",
        "drivers-down-table",
        "trend-chart",
        "change-chart",
        "importance-chart",
        "importance-table",
        "alerts-table",
        "team-table",
        "followup-size",
        "segments-0",
        "topics-table",
        "examples-heading",
        "manifest",
    ] {
        assert!(html.contains(&format!("id=\"{id}")), "{id}");
    }
    for tag in ["section", "table", "svg", "details", "tbody", "figure", "g"] {
        let open =
            html.matches(&format!("<{tag} ")).count() + html.matches(&format!("<{tag}>")).count();
        assert_eq!(open, html.matches(&format!("</{tag}>")).count(), "{tag}");
    }
    // Headline rounded to one decimal.
    assert!(html.contains("<div class=\"nps-value\" id=\"nps-value\">12.3</div>"));
    // The interval says its method; bootstrap intervals only when a row has one.
    assert!(html.contains("95% CI<br><span class=\"sub\">delta method</span>"));
    assert!(!html.contains("bootstrap</span>"));
    let mut d = sample();
    d.detractor_drivers[0].bootstrap_ci = iv(-12.0, -5.0);
    let html = render(&d);
    assert!(html.contains("<br><span class=\"sub\">bootstrap</span>"));
    assert!(html.contains("<span class=\"sub\">\u{2212}12.0 to \u{2212}5.0</span>"));
}

#[test]
fn suppressed_figures_are_grey_and_marked_not_hidden() {
    let html = render(&sample());
    // Billing (12 mentions), the segment value (n 12), the topic row and the
    // second week are all small bases: each keeps its figure, greyed.
    assert!(html.contains("n &lt; 30"));
    assert!(html.matches("<tr class=\"suppressed\">").count() >= 4);
    assert!(
        html.contains("\u{2212}12.0"),
        "billing's impact is still shown"
    );
    assert!(html.contains("\u{2212}17.3"), "segment diff still shown");
    assert!(html.contains("point suppressed"));
    assert!(html.contains(&format!("fill=\"{}\"", svg::GREY)));
    // A suppressed segment is not tested: the flag column says so.
    assert!(html.contains("not tested"));
}

#[test]
fn same_data_same_bytes() {
    assert_eq!(render(&sample()), render(&sample()));
    // And the data round-trips through JSON unchanged.
    let json = serde_json::to_string(&sample()).unwrap();
    let back: ReportData = serde_json::from_str(&json).unwrap();
    assert_eq!(back, sample());
}

#[test]
fn waterfall_gap_is_reported() {
    let mut d = sample();
    let w = d.waterfall.as_ref().unwrap();
    // 3.0 − 0.5 = 2.5 = 12.5 − 10.0.
    assert_eq!(waterfall_gap(w), None);
    assert!(!render(&d).contains("add up to"));
    d.waterfall.as_mut().unwrap().parts[1].value = 0.5;
    assert!((waterfall_gap(d.waterfall.as_ref().unwrap()).unwrap() - 1.0).abs() < 1e-12);
    assert!(render(&d).contains("The parts add up to +1.0 points more than the change"));
}

// --- from_run ------------------------------------------------------------

const D: Bucket = Bucket::Detractor;
const PA: Bucket = Bucket::Passive;
const P: Bucket = Bucket::Promoter;

/// 60 responses: rows 0–19 detractors, 20–29 passives, 30–59 promoters.
/// "wait_time": detractors 0–14 (negative clauses) and passives 20–21
/// (neutral); "friendly": promoters 30–54 (positive); "billing": detractors
/// 15–17 (negative), a small base at min_n 10.
fn run() -> (PassResult, RunManifest, Taxonomy, DriverAnalysis) {
    let buckets: Vec<Bucket> = (0..60)
        .map(|i| match i {
            0..=19 => D,
            20..=29 => PA,
            _ => P,
        })
        .collect();
    let topics: Vec<String> = ["wait_time", "friendly", "billing"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let mention = |i: usize, scope: DriverScope| -> Vec<usize> {
        let mut m = Vec::new();
        let (neg, neu, pos) = match scope {
            DriverScope::Any => (true, true, true),
            DriverScope::Negative => (true, false, false),
            DriverScope::Positive => (false, false, true),
        };
        if (i <= 14 && neg) || ((20..=21).contains(&i) && neu) {
            m.push(0);
        }
        if (30..=54).contains(&i) && pos {
            m.push(1);
        }
        if (15..=17).contains(&i) && neg {
            m.push(2);
        }
        m
    };
    let drivers = DriverScope::ALL
        .iter()
        .map(|&scope| {
            let mentions: Vec<Vec<usize>> = (0..60).map(|i| mention(i, scope)).collect();
            let drivers = topic_drivers(&DriverInput {
                buckets: &buckets,
                mentions: &mentions,
                topics: &topics,
                min_n: 10,
            });
            let ranking = rank(&drivers);
            DriverTable {
                scope,
                drivers,
                ranking,
            }
        })
        .collect();
    // Six ISO weeks from Monday 2026-01-05 (2026-W02), ten responses each.
    let start = chrono::NaiveDate::from_ymd_opt(2026, 1, 5).unwrap();
    let dates: Vec<Option<chrono::NaiveDate>> = (0..60)
        .map(|i| Some(start + chrono::Days::new(7 * (i as u64 % 6))))
        .collect();
    let channel: Vec<String> = (0..60)
        .map(|i| if i % 2 == 0 { "phone" } else { "email" }.to_string())
        .collect();
    let agg = aggregate(&AggInput {
        buckets: &buckets,
        dates: &dates,
        segments: &[("channel".to_string(), channel)],
        periods: &[Period::Week, Period::Month],
        min_n: 10,
        q: 0.05,
    });
    // The same responses as counts for the driver statistics: any mention,
    // topic × polarity (negative t, positive 3 + t), per week, and a team
    // column where agent "ann" has every friendly mention.
    let (mut any, mut polar) = (PatternCounts::new(3), PatternCounts::new(6));
    let mut weeks: Vec<(PatternCounts, PatternCounts)> = (0..6)
        .map(|_| (PatternCounts::new(3), PatternCounts::new(6)))
        .collect();
    let mut team = SegmentPatterns::new("agent", 6, None);
    for (i, &b) in buckets.iter().enumerate() {
        let a = mention(i, DriverScope::Any);
        let mut p = mention(i, DriverScope::Negative);
        p.extend(mention(i, DriverScope::Positive).iter().map(|t| 3 + t));
        any.add(b, &a);
        polar.add(b, &p);
        weeks[i % 6].0.add(b, &a);
        weeks[i % 6].1.add(b, &p);
        let agent = if (30..=54).contains(&i) || i % 3 == 0 {
            "ann"
        } else {
            "bob"
        };
        team.add(agent, b, &p);
    }
    let counts = DriverCounts {
        any,
        polar,
        segments: Vec::new(),
        teams: vec![team],
        period: Some(Period::Week),
        periods: weeks
            .into_iter()
            .enumerate()
            .map(|(w, (any, polar))| {
                let start = start + chrono::Days::new(7 * w as u64);
                PeriodCounts {
                    start,
                    label: Period::Week.label(start),
                    any,
                    polar,
                }
            })
            .collect(),
        mismatches: 0,
        followup_candidates: 0,
        followups: Vec::new(),
    };
    let analysis = analyse(
        counts,
        &topics,
        &AnalysisSettings {
            min_n: 10,
            fdr: 0.05,
            bootstrap: Default::default(),
            alert_z: 3.0,
        },
    );
    let nps = Nps::from_buckets(buckets.iter().copied());
    let result = PassResult {
        counts: crate::stats::driver_stats::DriverCounts::empty(),
        topics: Default::default(),
        read: 62,
        analysed: 60,
        rejected: 2,
        with_comment: 50,
        placeholder_comments: 0,
        nps,
        unparsed_dates: 0,
        first_unparsed_date: None,
        agg_columns: vec!["channel".into()],
        agg,
        drivers,
        texts_embedded: 50,
        embed_time: std::time::Duration::ZERO,
    };
    let manifest = RunManifest {
        run_id: "run-1".into(),
        tool: "verbatim 0.1.0".into(),
        started_at: "2026-11-25T12:00:00Z".into(),
        finished_at: "2026-11-25T12:01:00Z".into(),
        mode: Default::default(),
        mode_note: None,
        input: InputInfo {
            path: "/data/in/export.csv".into(),
            sha256: "ab".into(),
            format: "csv".into(),
            sheet: None,
            encoding: "UTF-8".into(),
            delimiter: Some(",".into()),
            score_column: Some("score".into()),
            text_column: "comment".into(),
            questions: vec!["comment".into()],
            id_column: None,
            date_column: Some("date".into()),
            date_column_found_by: Some("name".into()),
            date_format: Some("dmy".into()),
            date_format_decided_by: Some("values".into()),
            first_unparsed_date: None,
            segment_columns: vec!["date".into(), "channel".into()],
            aggregated_segment_columns: vec!["channel".into()],
            scale: Some("0-10".into()),
            left_out_columns: vec![],
            segment_column_names: vec![],
        },
        counts: Counts {
            read: 62,
            analysed: 60,
            rejected: 2,
            reject_rate: 2.0 / 62.0,
            with_comment: 50,
            placeholder_comments: 0,
            unparsed_dates: 0,
            sentiment_mismatch: Some(0),
            followup_candidates: Some(0),
            followups: Some(0),
            alerts: 0,
        },
        nps: Some(NpsInfo {
            nps: nps.score(),
            ci95: nps.adjusted_wald(crate::stats::nps::Z95),
            promoters: 30,
            passives: 10,
            detractors: 20,
        }),
        model: ModelInfo {
            name: "tiny".into(),
            path: "m".into(),
            sha256: "cd".into(),
            precision: "F32".into(),
        },
        taxonomy: TaxonomyInfo {
            name: "t".into(),
            version: "1".into(),
            topics: 3,
        },
        sentiment: crate::output::manifest::SentimentInfo::shipped(),
        topics: crate::output::manifest::TopicsInfo::similarity_rule(),
        thresholds: Thresholds {
            min_n: 10,
            fdr_q: 0.05,
            max_reject_rate: None,
            topic_threshold: 0.85,
            topic_margin: 0.02,
            topic_min_gap: 0.035,
            topic_keyword_gap: 0.0,
        },
        timings: Timings {
            texts_embedded: 50,
            texts_from_cache: 0,
            embed_seconds: 0.0,
            texts_per_second: 0.0,
            total_seconds: 0.0,
            comments_per_second: 0.0,
        },
        cache: None,
        tables: vec![],
    };
    let taxonomy = Taxonomy::parse(
        r#"
name = "t"
version = "1"
[[topic]]
id = "wait_time"
label = { en = "Wait time" }
examples = { en = ["long wait"] }
[[topic]]
id = "friendly"
label = { en = "Friendly agent" }
examples = { en = ["friendly"] }
[[topic]]
id = "billing"
label = { en = "Billing" }
examples = { en = ["invoice"] }
"#,
        "test",
    )
    .unwrap();
    (result, manifest, taxonomy, analysis)
}

#[test]
fn from_run_picks_sides_topics_trend_and_warnings() {
    let (result, manifest, taxonomy, analysis) = run();
    let examples = vec![TopicExamples {
        topic: "wait_time".into(),
        comments: vec![ExampleComment {
            text: "waited [NAME] for an hour".into(),
            score: Some(1),
        }],
    }];
    let d = ReportData::from_run(&result, &manifest, &taxonomy, &analysis, 3.0, examples);
    assert_eq!(d.title, "What drives NPS: export.csv");
    assert_eq!(d.source, "export.csv");
    assert_eq!(d.min_n, 10);
    // NPS = 100·(30 − 20)/60.
    assert!((d.headline.nps.unwrap() - 100.0 / 6.0).abs() < 1e-9);
    assert_eq!((d.headline.n, d.headline.with_comment), (60, 50));

    // Down: wait_time once, by its stronger scope; billing (suppressed,
    // 3 < 10) only in the "too few" note.
    // Impact of wait_time (any, 17 mentions): NPS(¬T) over 43 responses
    // (5 D, 8 passives, 30 P) = 2500/43 = 58.14, so 16.67 − 58.14 = −41.47;
    // negative scope (15 mentions): ¬T = 5 D, 10 Pa, 30 P → 25/45 = 55.56,
    // impact −38.89. The stronger is kept.
    let rows = |v: &[DriverRow]| -> Vec<(String, String, bool)> {
        v.iter()
            .map(|r| (r.topic.clone(), r.scope.clone(), r.suppressed))
            .collect()
    };
    let s = |a: &str, b: &str, c: bool| (a.to_string(), b.to_string(), c);
    assert_eq!(
        rows(&d.detractor_drivers),
        vec![s("Wait time", "any", false)]
    );
    assert!((d.detractor_drivers[0].impact.unwrap() - (100.0 / 6.0 - 2500.0 / 43.0)).abs() < 1e-9);
    assert_eq!(rows(&d.detractor_too_few), vec![s("Billing", "any", true)]);
    // Friendly agent: any and positive mentions are the same responses, so
    // the same impact; the any-mention row wins the tie.
    assert_eq!(
        rows(&d.promoter_drivers),
        vec![s("Friendly agent", "any", false)]
    );
    assert!(d.promoter_too_few.is_empty());
    // Bootstrap intervals as in topic_driver.
    let boot = analysis.impacts[0]
        .1
        .topics
        .iter()
        .find(|t| t.topic == "wait_time")
        .unwrap();
    assert_eq!(
        d.detractor_drivers[0].bootstrap_ci,
        Interval::from_pair(boot.impact_ci_low, boot.impact_ci_high)
    );

    // Topics: friendly 25 positive; wait_time 15 negative + 2 neutral,
    // net 100·(0 − 15)/17; billing 3 negative, suppressed.
    let t: Vec<(&str, u64, u64, u64, bool)> = d
        .topics
        .iter()
        .map(|r| {
            (
                r.topic.as_str(),
                r.negative,
                r.neutral,
                r.positive,
                r.suppressed,
            )
        })
        .collect();
    assert_eq!(
        t,
        vec![
            ("Friendly agent", 0, 0, 25, false),
            ("Wait time", 15, 2, 0, false),
            ("Billing", 3, 0, 0, true),
        ]
    );
    assert!((d.topics[1].net_sentiment.unwrap() + 1500.0 / 17.0).abs() < 1e-9);

    // Trend: six weeks (months give two points; weeks come first).
    let trend = d.trend.as_ref().unwrap();
    assert_eq!(trend.period, "week");
    let labels: Vec<&str> = trend.points.iter().map(|p| p.label.as_str()).collect();
    assert_eq!(
        labels,
        ["2026-W02", "2026-W03", "2026-W04", "2026-W05", "2026-W06", "2026-W07"]
    );
    assert!(trend.points.iter().all(|p| p.n == 10 && !p.suppressed));

    // Segments: channel = email, phone (byte order), 30 each.
    let seg: Vec<(&str, &str, u64)> = d
        .segments
        .iter()
        .map(|s| (s.column.as_str(), s.value.as_str(), s.n))
        .collect();
    assert_eq!(
        seg,
        vec![("channel", "email", 30), ("channel", "phone", 30)]
    );

    // Warnings: the two rejects; examples carry the label, text untouched.
    assert_eq!(d.warnings.len(), 1);
    assert!(
        d.warnings[0].starts_with("2 of 62 rows (3.2%)"),
        "{}",
        d.warnings[0]
    );
    assert_eq!(d.examples[0].topic, "Wait time");
    assert_eq!(d.examples[0].comments[0].text, "waited [NAME] for an hour");
    assert!(d.manifest_json.contains("\"run_id\": \"run-1\""));

    // Key drivers: the relative weights of key_driver, labelled, largest
    // share first; the share's interval is the weight's over R².
    let imp = d.importance.as_ref().unwrap();
    let r2 = analysis.key.linear.as_ref().unwrap().r_squared;
    assert_eq!(imp.r_squared, Some(r2));
    assert_eq!(imp.rows.len(), analysis.key.relative_weights.len());
    assert!(!imp.rows.is_empty());
    for r in &imp.rows {
        let id = taxonomy
            .topics
            .iter()
            .find(|t| taxonomy.label_of(&t.id) == r.topic)
            .unwrap()
            .id
            .clone();
        let w = analysis
            .key
            .relative_weights
            .iter()
            .find(|w| w.topic == id)
            .unwrap();
        assert_eq!((r.share, r.weight), (w.share, Some(w.weight)));
        assert_eq!(r.weight_ci, Interval::from_pair(w.ci_low, w.ci_high));
        if let (Some(ci), Some(lo)) = (r.ci, w.ci_low) {
            assert!((ci.low - (lo / r2).clamp(0.0, 1.0)).abs() < 1e-12);
            assert!(ci.high <= 1.0);
        }
    }
    assert!(imp.rows.windows(2).all(|p| p[0].share >= p[1].share));

    // ΔNPS W06 → W07, as in driver_change: each topic's total, then the
    // remainder; the parts sum to the change.
    let c = analysis.change.as_ref().unwrap();
    let w = d.waterfall.as_ref().unwrap();
    assert_eq!(
        (w.from_label.as_str(), w.to_label.as_str()),
        ("2026-W06", "2026-W07")
    );
    assert_eq!(
        (w.from_nps, w.to_nps),
        (c.shift.nps_before, c.shift.nps_after)
    );
    assert_eq!(w.parts.len(), 4, "three topics and the remainder");
    assert_eq!(w.parts.last().unwrap().value, c.shift.remainder.total);
    assert_eq!(waterfall_gap(w), None);
    assert!(d.change_note.is_none());

    // Alerts, team readings and follow-ups: the same counts as the tables.
    let alerts = d.alerts.as_ref().unwrap();
    assert_eq!(alerts.total, analysis.alerts.len());
    assert_eq!(alerts.note.is_empty(), !analysis.alerts.is_empty());
    let team = d.team.as_ref().unwrap();
    assert_eq!(team.columns, vec!["agent".to_string()]);
    // The team_view table's rows with a reading.
    let table = crate::output::driver_tables::team_view(&analysis.team, 10);
    let expected = match &table
        .columns
        .iter()
        .find(|c| c.name == "reading")
        .unwrap()
        .data
    {
        crate::output::table::ColumnData::Utf8(v) => v.iter().filter(|x| x.is_some()).count(),
        _ => panic!("reading is text"),
    };
    assert_eq!(team.total, expected);
    assert_eq!(team.rows.len(), expected.min(MAX_TEAM_READINGS));
    assert!(
        team.rows.iter().all(|r| r.topic != "friendly"),
        "labels, not ids"
    );
    let f = d.followup.as_ref().unwrap();
    assert_eq!((f.listed, f.candidates), (0, 0));

    let html = render(&d);
    assert!(html.contains("Pulls NPS down most: <strong>Wait time</strong>"));
    assert!(html.contains("Pulls NPS up most: <strong>Friendly agent</strong>"));
    assert!(html.contains("Too few mentions to rank (fewer than 10): Billing (3)."));
    for id in [
        "importance-chart",
        "change-chart",
        "alerts-heading",
        "team-heading",
        "followup-heading",
    ] {
        assert!(html.contains(&format!("id=\"{id}")), "{id}");
    }
    assert!(html.contains("nobody to call back"));
}

/// Without dates: no trend, no waterfall, no alerts, each saying why.
#[test]
fn undated_run_says_why_time_sections_are_empty() {
    let (mut result, manifest, taxonomy, mut analysis) = run();
    result.agg.retain(|r| r.period.is_none());
    analysis.change = None;
    analysis.alerts.clear();
    analysis.team_columns.clear();
    analysis.team.rows.clear();
    let d = ReportData::from_run(&result, &manifest, &taxonomy, &analysis, 3.0, vec![]);
    assert!(d.trend.is_none() && d.waterfall.is_none());
    let html = render(&d);
    assert!(html.contains("No dates in the input: no NPS over time."));
    assert!(html.contains("No dates in the input: no change over time."));
    assert!(html.contains("No dates in the input: nothing to compare a period with."));
    assert!(html.contains("No team, agent or queue column in the input: no team view."));
}

#[test]
fn trend_takes_the_finest_period_and_its_latest_points() {
    // 60 days, aggregated by day and by month: the days (finest), more
    // than MAX_TREND_POINTS of them, so the latest 53.
    let buckets = vec![P; 60];
    let start = chrono::NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
    let dates: Vec<Option<chrono::NaiveDate>> = (0..60)
        .map(|i| Some(start + chrono::Days::new(i)))
        .collect();
    let agg = aggregate(&AggInput {
        buckets: &buckets,
        dates: &dates,
        segments: &[],
        periods: &[Period::Month, Period::Day],
        min_n: 1,
        q: 0.05,
    });
    let t = pick_trend(&agg).unwrap();
    assert_eq!(t.period, "day");
    assert_eq!(t.points.len(), MAX_TREND_POINTS);
    assert_eq!(t.points[0].label, "2026-03-08");
    assert_eq!(t.points.last().unwrap().label, "2026-04-29");
    assert!(
        pick_trend(&agg[..1]).is_none(),
        "whole-run row only: no trend"
    );
}

// --- one choice of drivers for the console and the report -----------------

/// A driver row of a hand-made table.
fn d(topic: &str, impact: f64, ci: (f64, f64), mentions: u64, suppressed: bool) -> Driver {
    Driver {
        topic: topic.into(),
        mentions,
        share_of_detractors: Some(0.1),
        share_of_promoters: Some(0.1),
        nps_mentions: Some(0.0),
        nps_without: Some(0.0),
        impact: Some(impact),
        impact_ci_low: Some(ci.0),
        impact_ci_high: Some(ci.1),
        direction: if ci.1 < 0.0 {
            Direction::PullsDown
        } else if ci.0 > 0.0 {
            Direction::PullsUp
        } else {
            Direction::Neutral
        },
        suppressed,
    }
}

/// Three tables in which topics appear in several scopes, with ties.
fn selection_tables() -> Vec<DriverTable> {
    let table = |scope, drivers: Vec<Driver>| DriverTable {
        scope,
        ranking: rank(&drivers),
        drivers,
    };
    vec![
        table(
            DriverScope::Any,
            vec![
                d("wait", -6.0, (-9.0, -3.0), 200, false),
                // Same strength as "billing" (negative): more mentions wins.
                d("transfer", -4.0, (-6.0, -2.0), 150, false),
                d("friendly", 5.0, (3.0, 7.0), 300, false),
                // Strong but suppressed: never ranked.
                d("rare", -20.0, (-35.0, -5.0), 8, true),
                d("niche", 9.0, (2.0, 16.0), 9, true),
                d("neutral", -1.0, (-3.0, 1.0), 100, false),
            ],
        ),
        table(
            DriverScope::Negative,
            vec![
                // Stronger than its any-mention row: this one is kept.
                d("wait", -7.5, (-10.0, -5.0), 160, false),
                d("billing", -4.0, (-6.5, -1.5), 90, false),
                d("transfer", -3.0, (-5.0, -1.0), 120, false),
                d("rare", -18.0, (-30.0, -6.0), 6, true),
            ],
        ),
        table(
            DriverScope::Positive,
            vec![
                // Same impact and mentions as the any-mention row: any wins.
                d("friendly", 5.0, (3.0, 7.0), 300, false),
                d("wait", 2.0, (0.5, 3.5), 40, false),
            ],
        ),
    ]
}

#[test]
fn one_row_per_topic_per_side_strongest_first() {
    let tables = selection_tables();
    let ranked = |side| -> Vec<(String, &'static str)> {
        side_drivers(&tables, side)
            .ranked
            .iter()
            .map(|p| (p.driver.topic.clone(), p.scope.as_str()))
            .collect()
    };
    let s = |t: &str, scope: &'static str| (t.to_string(), scope);
    assert_eq!(
        ranked(Side::Detractor),
        vec![
            s("wait", "negative"),
            s("transfer", "any"),
            s("billing", "negative"),
        ]
    );
    // A topic may be on both sides ("wait" positive mentions), once each.
    assert_eq!(
        ranked(Side::Promoter),
        vec![s("friendly", "any"), s("wait", "positive")]
    );
    // Suppressed rows are left out of the ranking, once per topic apart.
    let few: Vec<(String, &str)> = side_drivers(&tables, Side::Detractor)
        .too_few
        .iter()
        .map(|p| (p.driver.topic.clone(), p.scope.as_str()))
        .collect();
    assert_eq!(few, vec![s("rare", "any")]);
    let few_up: Vec<&str> = side_drivers(&tables, Side::Promoter)
        .too_few
        .iter()
        .map(|p| p.driver.topic.as_str())
        .collect();
    assert_eq!(few_up, ["niche"]);
}

#[test]
fn console_and_report_show_the_same_drivers_in_the_same_order() {
    let tables = selection_tables();
    let label = |id: &str| format!("Topic {id}");
    // Another run's analysis: no bootstrap for these topics, which is fine.
    let analysis = run().3;
    for side in Side::BOTH {
        let (report, few) = pick_drivers(&tables, &analysis, side, &label);
        // The console lists `side_drivers(..).ranked` in order (see
        // app::summary::side_lines); the report must show the same.
        let console_topics: Vec<String> = crate::stats::top_drivers::side_drivers(&tables, side)
            .ranked
            .iter()
            .map(|p| label(&p.driver.topic))
            .collect();
        let report_topics: Vec<String> = report.iter().map(|r| r.topic.clone()).collect();
        assert_eq!(console_topics, report_topics, "{side:?}");
        assert!(!report_topics.is_empty());
        // No suppressed row among the ranked ones; each topic once.
        assert!(report.iter().all(|r| !r.suppressed && r.significant));
        let mut unique = report_topics.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), report_topics.len());
        assert!(few.iter().all(|r| r.suppressed));
    }
    // The rendered chart keeps the suppressed topic out and names it below.
    let (detractor_drivers, detractor_too_few) =
        pick_drivers(&tables, &analysis, Side::Detractor, &label);
    let d = ReportData {
        min_n: 30,
        detractor_drivers,
        detractor_too_few,
        ..Default::default()
    };
    let html = render(&d);
    let chart = &html[html.find("id=\"drivers-down-chart\"").unwrap()..];
    let chart = &chart[..chart.find("</svg>").unwrap()];
    assert!(!chart.contains("Topic rare"));
    assert!(html.contains("Too few mentions to rank (fewer than 30): Topic rare (8)."));
}

#[test]
fn employee_wording_changes_the_word_nps_only() {
    assert_eq!(
        super::say_enps("NPS 12; ΔNPS +3; eNPS; agg_nps; NPSQ; (NPS)"),
        "eNPS 12; ΔeNPS +3; eNPS; agg_nps; NPSQ; (eNPS)"
    );
    // The page keeps its style sheet and script (their hashes are in the
    // policy), says eNPS, and has no call-back list.
    let d = sample().for_employees();
    let html = render(&d);
    let plain = render(&sample());
    assert!(
        html.contains("<style>")
            && html.contains(
                &plain[..plain.find("</style>").unwrap()][plain.find("<style>").unwrap()..]
            )
    );
    assert!(!html.contains("followup-heading") && plain.contains("followup-heading"));
    assert!(html.contains("eNPS") && !html.contains(" NPS "));
}

#[test]
fn a_weighted_run_shows_its_weighted_nps_next_to_the_plain_one() {
    let mut d = sample();
    assert!(!render(&d).contains("Weighted by the survey weights"));
    d.headline.weighted = Some(super::WeightedHeadline {
        nps: 7.26,
        ci: iv(1.0, 13.5),
        n_effective: 812.4,
        suppressed: false,
    });
    let html = render(&d);
    assert!(
        html.contains("Weighted by the survey weights: NPS <strong>7.3</strong>")
            && html.contains("effective n 812.4"),
        "{}",
        &html[html.find("Weighted").unwrap_or(0)..][..200.min(html.len())]
    );
}
