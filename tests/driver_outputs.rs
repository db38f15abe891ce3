//! The driver tables of `verbatim analyze` on planted, dated data, with the
//! deterministic bag-of-words encoder of tests/common: six weeks, a billing
//! spike in the last one, one comment with a legal threat and a
//! cancellation, and two comments whose sentiment contradicts their score.

mod common;

use std::sync::{Arc, Mutex};

use common::{hash_classifier, HashEncoder, PLANTED_TAXONOMY};
use verbatim::input::{InputOptions, Reject, ResponseStream};
use verbatim::output::driver_tables;
use verbatim::output::table::{export_whole, CsvExporter, Table};
use verbatim::pipeline::{run_pass, PassModels, PassResult, PassSettings, PassSink};
use verbatim::stats::driver_stats::{analyse, AnalysisSettings, DriverAnalysis};
use verbatim::stats::response::AnalyzedResponse;

const LEGAL: &str = "terrible, my lawyer will hear from me and I cancel";

/// Six ISO weeks from Monday 2026-01-05. Each week: 20 passives "okay
/// fine", 10 promoters "great friendly agent", 10 detractors (5 in the last
/// week) "terrible waited on hold", and 2 passives "invoice wrong" (30 in
/// the last week). Week 1 adds the legal threat (score 3) and the two
/// mismatches. Agents ann and bob alternate.
fn planted_csv() -> String {
    let mut s = String::from("id,score,comment,date,agent\n");
    let mut id = 0;
    let mut row = |s: &mut String, score: u8, comment: &str, week: u32| {
        id += 1;
        let day = chrono::NaiveDate::from_ymd_opt(2026, 1, 5).unwrap()
            + chrono::Days::new(u64::from(week) * 7 + (id % 5) as u64);
        let agent = if id % 2 == 0 { "ann" } else { "bob" };
        s.push_str(&format!("r{id},{score},\"{comment}\",{day},{agent}\n"));
    };
    for week in 0..6 {
        let last = week == 5;
        for _ in 0..20 {
            row(&mut s, 7, "okay fine", week);
        }
        for _ in 0..10 {
            row(&mut s, 10, "great friendly agent", week);
        }
        for _ in 0..if last { 5 } else { 10 } {
            row(&mut s, 2, "terrible waited on hold", week);
        }
        for _ in 0..if last { 30 } else { 2 } {
            row(&mut s, 7, "invoice wrong", week);
        }
        if week == 0 {
            row(&mut s, 3, LEGAL, week);
            row(&mut s, 1, "great excellent lovely", week);
            row(&mut s, 10, "bad terrible awful", week);
        }
    }
    s
}

#[derive(Default)]
struct Collect {
    responses: Vec<AnalyzedResponse>,
}

impl PassSink for Collect {
    fn responses(&mut self, chunk: &[AnalyzedResponse]) -> anyhow::Result<()> {
        self.responses.extend_from_slice(chunk);
        Ok(())
    }
    fn reject(&mut self, _: &Reject) -> anyhow::Result<()> {
        Ok(())
    }
}

struct Run {
    pass: PassResult,
    analysis: DriverAnalysis,
    responses: Vec<AnalyzedResponse>,
    topics: Vec<String>,
    segment_columns: Vec<String>,
}

fn run(chunk: usize) -> Run {
    let stream = ResponseStream::from_reader(
        std::io::Cursor::new(planted_csv().into_bytes()),
        "planted.csv",
        &InputOptions::default(),
    )
    .unwrap();
    let segment_columns = stream.segment_columns().to_vec();
    let date = segment_columns.iter().position(|c| c == "date");
    let agent = segment_columns.iter().position(|c| c == "agent").unwrap();
    let encoder = HashEncoder { dim: 512 };
    let (classifier, taxonomy) = hash_classifier(PLANTED_TAXONOMY, 512);
    let topics: Vec<String> = taxonomy.topics.iter().map(|t| t.id.clone()).collect();
    let mut sink = Collect::default();
    let mut pass = run_pass(
        stream,
        &segment_columns,
        PassModels {
            encoder: &encoder,
            classifier: &classifier,
            precomputed: None,
        },
        &topics,
        &PassSettings {
            min_n: 5,
            chunk,
            date_column: date,
            periods: vec![verbatim::stats::aggregate::Period::Week],
            team_columns: vec![agent],
            ..Default::default()
        },
        &mut sink,
        &mut |_| {},
    )
    .unwrap();
    let counts = std::mem::replace(
        &mut pass.counts,
        verbatim::stats::driver_stats::DriverCounts::empty(),
    );
    let analysis = analyse(
        counts,
        &topics,
        &AnalysisSettings {
            min_n: 5,
            fdr: 0.05,
            bootstrap: Default::default(),
            alert_z: 3.0,
        },
    );
    Run {
        pass,
        analysis,
        responses: sink.responses,
        topics,
        segment_columns,
    }
}

fn csv_text(t: &Table) -> String {
    struct W(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for W {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let buf = Arc::new(Mutex::new(Vec::new()));
    export_whole(&CsvExporter, t, Box::new(W(buf.clone()))).unwrap();
    let bytes = buf.lock().unwrap().clone();
    String::from_utf8(bytes).unwrap()
}

/// Rows of a CSV text as maps from column name to value.
fn rows(text: &str) -> Vec<std::collections::HashMap<String, String>> {
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            header
                .iter()
                .cloned()
                .zip(rec.iter().map(String::from))
                .collect()
        })
        .collect()
}

fn tables(r: &Run) -> Vec<Table> {
    let date = r.segment_columns.iter().position(|c| c == "date");
    vec![
        driver_tables::topic_driver(&r.pass.drivers, 5, &r.analysis.impacts),
        driver_tables::key_driver(&r.analysis.key, &r.topics),
        driver_tables::driver_change(r.analysis.change.as_ref()),
        driver_tables::segment_driver(&r.analysis.segments),
        driver_tables::team_view(&r.analysis.team, 5),
        driver_tables::followup(&r.analysis.followups, &r.segment_columns, date),
        driver_tables::alerts(&r.analysis.alerts, 3.0),
    ]
}

#[test]
fn shift_share_parts_sum_to_the_change_in_nps() {
    let r = run(64);
    let t = tables(&r);
    let change = rows(&csv_text(&t[2]));
    // Three topics and the remainder.
    assert_eq!(change.len(), 4);
    assert_eq!(change[0]["period_label"], "2026-W07");
    assert_eq!(change[0]["period_label_before"], "2026-W06");
    // Week 6: 10 promoters, 10 detractors of 42 → 0. Week 7: 10 promoters,
    // 5 detractors of 65 → 100·5/65.
    let want = 100.0 * 5.0 / 65.0;
    let delta: f64 = change[0]["delta_nps"].parse().unwrap();
    assert!((delta - want).abs() < 1e-9, "{delta}");
    let sum: f64 = change
        .iter()
        .map(|r| r["total"].parse::<f64>().unwrap())
        .sum();
    assert!((sum - want).abs() < 1e-9, "{sum} vs {want}");
}

#[test]
fn a_planted_spike_raises_an_alert() {
    let r = run(64);
    let alerts = rows(&csv_text(&tables(&r)[6]));
    let billing: Vec<_> = alerts
        .iter()
        .filter(|a| a["topic_id"] == "billing" && a["metric"] == "share")
        .collect();
    assert_eq!(billing.len(), 1, "{alerts:?}");
    assert_eq!(billing[0]["direction"], "up");
    assert_eq!(billing[0]["history_periods"], "5");
    // 30 billing mentions of 65 responses in the last week.
    let v: f64 = billing[0]["value"].parse().unwrap();
    assert!((v - 30.0 / 65.0).abs() < 1e-9);
    assert!(billing[0]["z"].parse::<f64>().unwrap() >= 3.0);
    // Agent friendliness is 10 of 42 or 43 every week and 10 of 65 in the
    // last: a drop, but not one to alert on.
    assert!(!alerts
        .iter()
        .any(|a| a["topic_id"] == "agent_friendliness" && a["metric"] == "share"));
}

#[test]
fn a_legal_threat_with_a_cancellation_ranks_first() {
    let r = run(64);
    let f = rows(&csv_text(&tables(&r)[5]));
    assert_eq!(f[0]["comment"], LEGAL);
    assert_eq!(f[0]["rank"], "1");
    assert!(
        f[0]["signals"].contains("legal_threat=lawyer"),
        "{}",
        f[0]["signals"]
    );
    assert!(
        f[0]["signals"].contains("cancellation=cancel"),
        "{}",
        f[0]["signals"]
    );
    // Every plain detractor comes after it, with no signal.
    let plain: Vec<_> = f
        .iter()
        .filter(|x| x["comment"] == "terrible waited on hold")
        .collect();
    assert_eq!(plain.len(), 55);
    let top: f64 = f[0]["risk_score"].parse().unwrap();
    for p in plain {
        assert_eq!(p["signals"], "");
        assert!(p["risk_score"].parse::<f64>().unwrap() < top);
    }
    assert!(!f[0]["segment_agent"].is_empty());
}

#[test]
fn sentiment_mismatches_are_counted() {
    let r = run(64);
    // "great excellent lovely" scored 1 and "bad terrible awful" scored 10.
    assert_eq!(r.analysis.mismatches, 2);
    let table =
        verbatim::output::tables::fact_response(&r.responses, &r.segment_columns, None, "x");
    let fact = rows(&csv_text(&table));
    let flagged: Vec<&str> = fact
        .iter()
        .filter(|x| x["sentiment_mismatch"] == "true")
        .map(|x| x["response_id"].as_str())
        .collect();
    // Week 1 has 42 planted rows, then the legal threat (r43) and the two
    // mismatches (r44, r45).
    assert_eq!(flagged, ["r44", "r45"]);
    // Rows without a comment would be empty; every row here has one.
    assert!(fact.iter().all(|x| !x["sentiment_mismatch"].is_empty()));
}

#[test]
fn reruns_and_other_chunkings_give_identical_tables() {
    let a: Vec<String> = tables(&run(64)).iter().map(csv_text).collect();
    let b: Vec<String> = tables(&run(64)).iter().map(csv_text).collect();
    let c: Vec<String> = tables(&run(7)).iter().map(csv_text).collect();
    assert_eq!(a, b);
    assert_eq!(a, c);
}

#[test]
fn tables_have_the_documented_columns() {
    let r = run(64);
    let t = tables(&r);
    let header =
        |i: usize| -> Vec<String> { t[i].columns.iter().map(|c| c.name.clone()).collect() };
    for (i, must) in [
        (
            0,
            &[
                "topic_id",
                "scope",
                "impact",
                "boot_impact_ci_low",
                "boot_impact_ci_high",
                "p_value",
                "bh_significant",
            ][..],
        ),
        (
            1,
            &[
                "topic_id",
                "linear_coef",
                "linear_ci_low",
                "detractor_odds_ratio",
                "promoter_log_odds_ci_high",
                "relative_weight",
                "relative_weight_ci_low",
                "warnings",
            ][..],
        ),
        (
            2,
            &["period_label", "group", "mix", "rate", "total", "delta_nps"][..],
        ),
        (
            3,
            &[
                "segment_column",
                "segment_value",
                "topic_id",
                "impact",
                "diff",
                "p_value",
                "suppressed",
                "bh_significant",
            ][..],
        ),
        (
            4,
            &[
                "segment_column",
                "segment_value",
                "topic_id",
                "polarity",
                "rate",
                "rate_rest",
                "reading",
            ][..],
        ),
        (
            5,
            &[
                "rank",
                "response_id",
                "score",
                "response_date",
                "topics",
                "signals",
                "risk_score",
                "comment",
            ][..],
        ),
        (
            6,
            &[
                "period_label",
                "topic_id",
                "metric",
                "value",
                "history_mean",
                "z",
            ][..],
        ),
    ] {
        let h = header(i);
        for m in must {
            assert!(h.iter().any(|x| x == m), "{} lacks {m}: {h:?}", t[i].name);
        }
    }
    // No NaN anywhere: a missing figure is an empty field.
    for table in &t {
        assert!(!csv_text(table).contains("NaN"), "{}", table.name);
    }
    // The team view reads the agent column, both values above min-n.
    let team = rows(&csv_text(&t[4]));
    assert!(team.iter().any(|r| r["segment_value"] == "ann"));
    assert!(team.iter().all(|r| r["segment_column"] == "agent"));
}
