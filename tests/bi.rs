//! The outputs as a BI tool sees them: the Parquet files are read back by an
//! independent reader, DuckDB (from PyPI, installed into the project's
//! virtual environment by scripts/test.sh), and NPS recomputed in SQL from
//! `fact_response` must equal `agg_nps`, overall and per segment and month.

mod common;
mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use support::duckdb::{duckdb, number, query, with_views};

/// A dated export over three months with two channels.
fn export() -> String {
    let mut s = String::from("response_id;responded_at;score;comment;channel\n");
    let comments = [
        "the agent was friendly",
        "waited on hold",
        "invoice wrong",
        "",
        "ok",
    ];
    for i in 0..300u32 {
        let month = 9 + i % 3;
        let day = 1 + i % 28;
        let score = (i * 7 + i / 13) % 11;
        let channel = if i % 4 == 0 { "chat" } else { "phone" };
        let comment = comments[(i % 5) as usize];
        s.push_str(&format!(
            "R{i};2026-{month:02}-{day:02}T10:{:02}:00Z;{score};{comment};{channel}\n",
            i % 60
        ));
    }
    s
}

/// Runs `verbatim analyze` on `export` with the tiny model and `args`;
/// returns the output folder.
fn analyze(dir: &Path, export: &str, args: &[&str]) -> PathBuf {
    analyze_with_stderr(dir, export, args).0
}

/// [`analyze`], with what the run wrote on stderr.
fn analyze_with_stderr(dir: &Path, export: &str, args: &[&str]) -> (PathBuf, String) {
    let model = dir.join("model");
    if !model.exists() {
        common::tiny_bert_folder(&model);
    }
    let input = dir.join("export.csv");
    std::fs::write(&input, export).unwrap();
    let out = dir.join("out");
    let o = Command::new(env!("CARGO_BIN_EXE_verbatim"))
        .arg("analyze")
        .arg(&input)
        .arg("--out")
        .arg(&out)
        .arg("--model")
        .arg(&model)
        .arg("--quiet")
        .args(args)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(o.status.success(), "{stderr}");
    (out, stderr)
}

fn manifest(out: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap()
}

#[test]
fn nps_recomputed_in_duckdb_equals_agg_nps() {
    let dir = tempfile::tempdir().unwrap();
    let out = analyze(dir.path(), &export(), &["--periods", "month"]);

    // Overall, whole run.
    let sql = "SELECT round(100.0 * (sum(is_promoter::INT) - sum(is_detractor::INT)) / count(*), 9) AS nps, \
               (SELECT round(nps, 9) FROM 'agg_nps.parquet' WHERE segment_column IS NULL AND period IS NULL) \
               FROM 'fact_response.parquet'";
    let row = duckdb(sql, &out);
    let parts: Vec<&str> = row.trim().split('|').collect();
    assert_eq!(parts.len(), 2, "{row}");
    assert_eq!(parts[0], parts[1], "overall NPS: SQL vs agg_nps");

    // Per channel and month: every agg_nps row matches its SQL recomputation.
    let sql = "WITH f AS (SELECT segment_channel AS v, date_trunc('month', response_date) AS m, \
                 count(*) AS n, round(100.0 * (sum(is_promoter::INT) - sum(is_detractor::INT)) / count(*), 9) AS nps \
                 FROM 'fact_response.parquet' GROUP BY ALL) \
               SELECT count(*), sum(CASE WHEN f.n = a.n AND f.nps = round(a.nps, 9) THEN 1 ELSE 0 END) \
               FROM 'agg_nps.parquet' a JOIN f ON a.segment_value = f.v AND a.period_start_date = f.m \
               WHERE a.segment_column = 'channel' AND a.period = 'month'";
    let row = duckdb(sql, &out);
    assert_eq!(row.trim(), "6|6", "2 channels × 3 months must all match");

    // Types a BI tool relies on.
    let sql =
        "SELECT typeof(response_date), typeof(responded_at), typeof(score), typeof(is_promoter) \
               FROM 'fact_response.parquet' LIMIT 1";
    assert_eq!(
        duckdb(sql, &out).trim(),
        "DATE|TIMESTAMP WITH TIME ZONE|BIGINT|BOOLEAN"
    );
    // The CSV twin has the same rows.
    let sql = "SELECT (SELECT count(*) FROM 'fact_response.parquet') = (SELECT count(*) FROM 'fact_response.csv')";
    assert_eq!(duckdb(sql, &out).trim(), "True");
}

#[test]
fn agg_nps_marks_all_responses_and_the_whole_run_with_null_only() {
    let dir = tempfile::tempdir().unwrap();
    let out = analyze(dir.path(), &export(), &["--periods", "week,month"]);
    let q = |sql: &str| number(sql, &out, false);
    // Exactly one whole-run row of all responses, found by one marker.
    assert_eq!(
        q("SELECT count(*) FROM 'agg_nps.parquet' WHERE segment_column IS NULL AND period IS NULL"),
        1
    );
    // No empty string stands for "all" or "whole run" any more; the
    // columns of one marker are null together.
    assert_eq!(
        q(
            "SELECT count(*) FROM 'agg_nps.parquet' WHERE segment_column = '' OR period = '' \
           OR period_label = '' \
           OR (segment_column IS NULL) <> (segment_value IS NULL) \
           OR (period IS NULL) <> (period_start_date IS NULL) \
           OR (period IS NULL) <> (period_label IS NULL)"
        ),
        0
    );
    // All responses per period, and each channel over the whole run.
    assert_eq!(
        q("SELECT count(*) FROM 'agg_nps.parquet' WHERE segment_column IS NULL AND period = 'month'"),
        3
    );
    assert_eq!(
        q("SELECT count(*) FROM 'agg_nps.parquet' WHERE segment_column = 'channel' AND period IS NULL"),
        2
    );
    // The CSV writes the nulls as empty fields.
    let csv = std::fs::read_to_string(out.join("agg_nps.csv")).unwrap();
    let whole = csv.lines().nth(1).unwrap();
    assert!(whole.starts_with(",,,,,300,"), "{whole}");
}

#[test]
fn every_topic_id_of_every_table_has_a_dim_topic_row() {
    let dir = tempfile::tempdir().unwrap();
    let out = analyze(dir.path(), &export(), &["--periods", "month"]);
    let q = |sql: &str| number(sql, &out, false);
    // The no-topic row, labelled in every language.
    assert_eq!(
        query(
            "SELECT topic_id, label, label_en, label_de, label_nl, label_fr, label_es, \
             parent_topic_id IS NULL FROM 'dim_topic.parquet' WHERE topic_id = '(no topic)'",
            &out,
            false
        )
        .trim(),
        "(no topic)|(no topic)|(no topic)|(no topic)|(no topic)|(no topic)|(no topic)|True"
    );
    // driver_change has its remainder group (3 months: a last period with
    // one just before it) and topics; every group is a dim_topic row.
    assert_eq!(
        q("SELECT count(*) FROM 'driver_change.parquet' WHERE \"group\" = '(no topic)'"),
        1
    );
    assert!(q("SELECT count(*) FROM 'bridge_response_topic.parquet'") > 0);
    for (table, column) in [
        ("driver_change", "\"group\""),
        ("bridge_response_topic", "topic_id"),
        ("topic_driver", "topic_id"),
        ("segment_driver", "topic_id"),
        ("team_view", "topic_id"),
        ("alerts", "topic_id"),
    ] {
        let orphans = q(&format!(
            "SELECT count(*) FROM '{table}.parquet' AS x ANTI JOIN 'dim_topic.parquet' AS d \
             ON d.topic_id = x.{column}"
        ));
        assert_eq!(orphans, 0, "{table}.{column} without a dim_topic row");
    }
    // fact_answer and the bridge join fact_response without orphans, and
    // every bridge row's question has an answer row.
    for table in ["fact_answer", "bridge_response_topic"] {
        let orphans = q(&format!(
            "SELECT count(*) FROM '{table}.parquet' AS x ANTI JOIN 'fact_response.parquet' AS f \
             ON f.response_id = x.response_id"
        ));
        assert_eq!(orphans, 0, "{table} rows without a response");
    }
    assert_eq!(
        q(
            "SELECT count(*) FROM 'bridge_response_topic.parquet' AS b ANTI JOIN \
           'fact_answer.parquet' AS a ON a.response_id = b.response_id AND a.question = b.question"
        ),
        0
    );
    // One question: one answer row per response with a comment.
    assert_eq!(
        q("SELECT count(*) FROM 'fact_answer.parquet'"),
        q("SELECT count(*) FROM 'fact_response.parquet' WHERE has_comment")
    );
    // key_driver: its model-level warning rows have an empty topic_id.
    assert_eq!(
        q(
            "SELECT count(*) FROM 'key_driver.parquet' AS x ANTI JOIN 'dim_topic.parquet' AS d \
           ON d.topic_id = x.topic_id WHERE x.topic_id <> ''"
        ),
        0
    );
    // The manifest's taxonomy still counts the taxonomy's topics.
    let m = manifest(&out);
    let topics = m["taxonomy"]["topics"].as_i64().unwrap();
    assert_eq!(q("SELECT count(*) FROM 'dim_topic.parquet'"), topics + 1);
}

/// A dated export over New Year: 2026 has an ISO week 53.
fn new_year_export() -> String {
    let mut s = String::from("response_id,date,score,comment\n");
    let first = chrono::NaiveDate::from_ymd_opt(2026, 12, 20).unwrap();
    for i in 0..60u32 {
        // Every day from Dec 20 to Jan 10, some twice, one day skipped.
        let d = first + chrono::Days::new(u64::from(i % 22));
        if d == chrono::NaiveDate::from_ymd_opt(2027, 1, 2).unwrap() {
            continue;
        }
        s.push_str(&format!("N{i},{d},{},ok\n", i % 11));
    }
    s
}

#[test]
fn dim_date_has_every_day_of_the_run_and_joins_agg_nps_periods() {
    let dir = tempfile::tempdir().unwrap();
    let out = analyze(
        dir.path(),
        &new_year_export(),
        &["--periods", "day,week,month,quarter"],
    );
    let q = |sql: &str| number(sql, &out, false);
    // First to last response date, each day once, the skipped one too.
    assert_eq!(
        query(
            "SELECT count(*), count(DISTINCT date), min(date), max(date), \
             (SELECT min(response_date) FROM 'fact_response.parquet'), \
             (SELECT max(response_date) FROM 'fact_response.parquet') FROM 'dim_date.parquet'",
            &out,
            false
        )
        .trim(),
        "22|22|2026-12-20|2027-01-10|2026-12-20|2027-01-10"
    );
    // Each column against DuckDB's own calendar functions.
    assert_eq!(
        q("SELECT count(*) FROM 'dim_date.parquet' WHERE \
           year <> year(date) OR quarter <> quarter(date) OR month <> month(date) \
           OR month_name <> monthname(date) OR day <> day(date) \
           OR day_of_week <> isodow(date) OR day_name <> dayname(date) \
           OR iso_year <> isoyear(date) OR iso_week <> week(date) \
           OR week_start <> date_trunc('week', date) OR month_start <> date_trunc('month', date) \
           OR quarter_start <> date_trunc('quarter', date) \
           OR day_label <> strftime(date, '%Y-%m-%d') OR week_label <> strftime(date, '%G-W%V') \
           OR month_label <> strftime(date, '%Y-%m') \
           OR quarter_label <> (year(date) || '-Q' || quarter(date))"),
        0
    );
    assert_eq!(
        query(
            "SELECT year, iso_year, iso_week, week_label, week_start, day_of_week, month_name \
             FROM 'dim_date.parquet' WHERE date = DATE '2027-01-01'",
            &out,
            false
        )
        .trim(),
        "2027|2026|53|2026-W53|2026-12-28|5|January"
    );
    // Every agg_nps period label is a dim_date label of its kind, starting
    // on the same day.
    for (kind, label, start) in [
        ("day", "day_label", "date"),
        ("week", "week_label", "week_start"),
        ("month", "month_label", "month_start"),
        ("quarter", "quarter_label", "quarter_start"),
    ] {
        let rows = q(&format!(
            "SELECT count(*) FROM 'agg_nps.parquet' WHERE period = '{kind}'"
        ));
        assert!(rows > 0, "{kind}");
        let orphans = q(&format!(
            "SELECT count(*) FROM 'agg_nps.parquet' AS a ANTI JOIN 'dim_date.parquet' AS d \
             ON d.{label} = a.period_label AND d.{start} = a.period_start_date \
             WHERE a.period = '{kind}'"
        ));
        assert_eq!(orphans, 0, "{kind}");
    }
    assert_eq!(q("SELECT count(*) FROM 'dim_date.csv'"), 22);
    let m = manifest(&out);
    let t = m["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "dim_date")
        .expect("dim_date in the manifest's tables");
    assert_eq!(t["rows"], 22);
    assert!(t.get("note").is_none(), "{t}");

    // Without a date column: written, empty, like driver_change.
    let undated = tempfile::tempdir().unwrap();
    let out = analyze(undated.path(), "id,score,comment\na,9,ok\nb,3,bad\n", &[]);
    assert_eq!(
        number("SELECT count(*) FROM 'dim_date.parquet'", &out, false),
        0
    );
    let csv = std::fs::read_to_string(out.join("dim_date.csv")).unwrap();
    assert!(
        csv.starts_with("date,year,quarter,month,month_name,"),
        "{csv}"
    );
    assert_eq!(csv.lines().count(), 1, "{csv}");
    // views.sql runs over the empty tables too.
    assert_eq!(
        with_views(
            "SELECT (SELECT count(*) FROM dim_date), (SELECT count(*) FROM nps_change_by_topic), \
             (SELECT count(*) FROM responses_with_topics WHERE topic_label IS NOT NULL) >= 2",
            &out
        )
        .trim(),
        "0|0|True"
    );
}

/// January 2026, a response a day, and one stray response on `stray`
/// (line 17).
fn stray_date_export(stray: &str) -> String {
    let mut s = String::from("response_id,date,score,comment\n");
    for day in 1..=30u32 {
        let d = if day == 16 {
            stray.to_string()
        } else {
            format!("2026-01-{day:02}")
        };
        s.push_str(&format!("S{day},{d},{},ok\n", day % 11));
    }
    s
}

#[test]
fn dim_date_over_a_long_span_warns_and_over_a_century_has_only_the_dates() {
    // Twelve years: every day, with a warning that names both ends.
    let dir = tempfile::tempdir().unwrap();
    let (out, stderr) = analyze_with_stderr(dir.path(), &stray_date_export("2014-01-16"), &[]);
    let days = chrono::NaiveDate::from_ymd_opt(2026, 1, 30)
        .unwrap()
        .signed_duration_since(chrono::NaiveDate::from_ymd_opt(2014, 1, 16).unwrap())
        .num_days()
        + 1;
    assert_eq!(
        number("SELECT count(*) FROM 'dim_date.parquet'", &out, false),
        days
    );
    assert!(
        stderr.contains("warning: the date column `date`: response dates span more than 10 years")
            && stderr.contains("from 2014-01-16 (line 17) to 2026-01-30 (line 31)")
            && stderr.contains("every day between is a row"),
        "{stderr}"
    );

    // A century and more: only the dates that occur, each once; every
    // fact_response date still joins, and agg_nps's day periods too.
    let dir = tempfile::tempdir().unwrap();
    let (out, stderr) = analyze_with_stderr(
        dir.path(),
        &stray_date_export("1916-01-16"),
        &["--periods", "day,month"],
    );
    assert!(
        stderr.contains("from 1916-01-16 (line 17) to 2026-01-30 (line 31)")
            && stderr.contains("only the 30 dates that occur, not every day between"),
        "{stderr}"
    );
    let q = |sql: &str| number(sql, &out, false);
    assert_eq!(q("SELECT count(*) FROM 'dim_date.parquet'"), 30);
    assert_eq!(
        q("SELECT count(DISTINCT date) FROM 'dim_date.parquet'"),
        q("SELECT count(DISTINCT response_date) FROM 'fact_response.parquet'")
    );
    assert_eq!(
        q(
            "SELECT count(*) FROM 'fact_response.parquet' AS f ANTI JOIN 'dim_date.parquet' AS d \
           ON d.date = f.response_date"
        ),
        0
    );
    assert_eq!(
        q(
            "SELECT count(*) FROM 'agg_nps.parquet' AS a ANTI JOIN 'dim_date.parquet' AS d \
           ON d.day_label = a.period_label AND d.date = a.period_start_date \
           WHERE a.period = 'day'"
        ),
        0
    );
    let m = manifest(&out);
    let t = m["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "dim_date")
        .expect("dim_date in the manifest's tables");
    assert_eq!(t["rows"], 30);
    let note = t["note"].as_str().expect("a note on dim_date");
    assert!(
        note.contains("from 1916-01-16 (line 17) to 2026-01-30 (line 31)"),
        "{note}"
    );
}

#[test]
fn views_sql_runs_in_duckdb_from_the_output_folder() {
    let dir = tempfile::tempdir().unwrap();
    // One row out of range: rejects.csv has a row.
    let data = format!("{}Rbad;2026-09-01T10:00:00Z;11;too high;phone\n", export());
    let out = analyze(dir.path(), &data, &["--periods", "month"]);
    let sql = std::fs::read_to_string(out.join("views.sql")).unwrap();
    assert!(sql.starts_with("-- views.sql"), "{sql}");
    assert!(sql.contains(".read views.sql"), "{sql}");
    let m = manifest(&out);
    assert!(
        m["files"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f == "views.sql"),
        "{m}"
    );

    // One plain view per table, the same rows as its file.
    let tables = m["tables"].as_array().unwrap();
    assert!(tables.len() >= 13, "{tables:?}");
    for t in tables {
        let name = t["name"].as_str().unwrap();
        let rows = t["rows"].as_i64().unwrap();
        assert_eq!(
            number(&format!("SELECT count(*) FROM {name}"), &out, true),
            rows,
            "view {name}"
        );
    }
    assert_eq!(number("SELECT count(*) FROM rejects", &out, true), 1);
    let q = |sql: &str| number(sql, &out, true);

    // NPS: one row per agg_nps row; its whole-run row is agg_nps's.
    assert_eq!(
        q("SELECT count(*) FROM nps_by_period_and_segment"),
        q("SELECT count(*) FROM agg_nps")
    );
    assert_eq!(
        with_views(
            "SELECT segment, segment_value, period, responses, round(nps, 9), round(nps_ci_low, 9), \
             round(promoters_pct + passives_pct + detractors_pct, 9) \
             FROM nps_by_period_and_segment WHERE is_all_responses AND is_whole_run",
            &out
        ),
        with_views(
            "SELECT 'All responses', 'All responses', 'Whole run', n, round(nps, 9), \
             round(nps_ci_low, 9), 100.0 FROM 'agg_nps.parquet' \
             WHERE segment_column IS NULL AND period IS NULL",
            &out
        )
    );
    assert_eq!(
        q(
            "SELECT count(*) FROM nps_by_period_and_segment v JOIN 'agg_nps.parquet' a \
           ON v.segment = a.segment_column AND v.segment_value = a.segment_value \
           AND v.period = a.period_label AND v.responses = a.n AND v.nps = a.nps \
           WHERE a.segment_column = 'channel' AND a.period = 'month'"
        ),
        6
    );

    // Drivers: one row per topic_driver row, each with its topic's label.
    assert_eq!(
        q("SELECT count(*) FROM drivers_with_topics"),
        q("SELECT count(*) FROM 'topic_driver.parquet'")
    );
    assert_eq!(
        q(
            "SELECT count(*) FROM drivers_with_topics v JOIN 'dim_topic.parquet' t \
           ON t.topic_id = v.topic_id AND t.label = v.topic_label"
        ),
        q("SELECT count(*) FROM 'topic_driver.parquet'")
    );
    assert_eq!(
        q("SELECT count(*) FROM nps_change_by_topic WHERE topic_label IS NULL"),
        0
    );
    assert!(q("SELECT count(*) FROM nps_change_by_topic") > 0);

    // Responses with topics: a row per bridge row, plus one per response
    // without a topic; allocation weights count each response once.
    let bridge = q("SELECT count(*) FROM 'bridge_response_topic.parquet'");
    let without = q("SELECT count(*) FROM 'fact_response.parquet' f ANTI JOIN \
                     'bridge_response_topic.parquet' b ON b.response_id = f.response_id");
    assert!(bridge > 0 && without > 0, "{bridge} {without}");
    assert_eq!(
        q("SELECT count(*) FROM responses_with_topics"),
        bridge + without
    );
    assert_eq!(
        q("SELECT count(*) FROM responses_with_topics WHERE topic_id = '(no topic)'"),
        without
    );
    assert_eq!(
        q("SELECT count(*) FROM responses_with_topics WHERE topic_label IS NULL"),
        0
    );
    // A topic row names its question; a response without one has none.
    assert_eq!(
        q("SELECT count(*) FROM responses_with_topics \
           WHERE (question IS NULL) <> (topic_id = '(no topic)')"),
        0
    );
    assert_eq!(
        q("SELECT round(sum(allocation_weight))::BIGINT FROM responses_with_topics"),
        q("SELECT count(*) FROM 'fact_response.parquet'")
    );
    // The views read files relative to the folder: the folder moved
    // elsewhere still works.
    let moved = dir.path().join("moved");
    std::fs::rename(&out, &moved).unwrap();
    assert_eq!(
        number("SELECT count(*) FROM responses_with_topics", &moved, true),
        bridge + without
    );
}

/// `agg_topic` recomputed in DuckDB from the fact and bridge tables: each
/// topic's mentions over the run, and each month's comments.
fn agg_topic_matches_the_facts(out: &Path) {
    let q = |sql: &str| number(sql, out, true);
    let topics = q("SELECT count(*) FROM dim_topic") - 1;
    assert_eq!(
        q("SELECT count(*) FROM topics_by_period WHERE is_whole_run"),
        topics
    );
    let mentioned = q("SELECT count(DISTINCT topic_id) FROM bridge_response_topic");
    assert!(mentioned > 0, "the tiny model finds some topic");
    assert_eq!(
        q("WITH b AS (SELECT topic_id, count(DISTINCT response_id) AS n FROM responses_with_topics \
             WHERE topic_id <> '(no topic)' GROUP BY ALL) \
           SELECT count(*) FROM topics_by_period v JOIN b USING (topic_id) \
           WHERE v.is_whole_run AND v.mentions = b.n AND v.topic_label IS NOT NULL"),
        mentioned
    );
    assert_eq!(
        q("SELECT count(*) FROM topics_by_period WHERE is_whole_run AND mentions > 0"),
        mentioned
    );
    assert_eq!(
        q("WITH f AS (SELECT date_trunc('month', response_date) AS m, \
             count(*) FILTER (WHERE has_comment) AS c FROM fact_response GROUP BY ALL), \
           a AS (SELECT DISTINCT period_start_date, comments FROM agg_topic WHERE period = 'month') \
           SELECT count(*) FROM a JOIN f ON f.m = a.period_start_date AND f.c = a.comments"),
        3
    );
}

#[test]
fn agg_topic_equals_its_recomputation_with_and_without_scores() {
    let dir = tempfile::tempdir().unwrap();
    let out = analyze(dir.path(), &export(), &["--periods", "month"]);
    agg_topic_matches_the_facts(&out);

    // The same export without its score column, analysed with --no-score.
    let tickets: String = export()
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split(';').collect();
            format!("{};{};{};{}\n", f[0], f[1], f[3], f[4])
        })
        .collect();
    let other = tempfile::tempdir().unwrap();
    let (out, stderr) = analyze_with_stderr(
        other.path(),
        &tickets,
        &["--periods", "month", "--no-score"],
    );
    assert!(stderr.contains("--no-score"), "{stderr}");
    agg_topic_matches_the_facts(&out);
    let q = |sql: &str| number(sql, &out, true);
    // Every view of the run reads, the left-out tables with no rows.
    for t in manifest(&out)["tables"].as_array().unwrap() {
        let name = t["name"].as_str().unwrap();
        assert_eq!(
            q(&format!("SELECT count(*) FROM {name}")),
            t["rows"].as_i64().unwrap()
        );
    }
    for view in [
        "agg_nps",
        "nps_by_period_and_segment",
        "drivers_with_topics",
        "nps_change_by_topic",
        "followup",
    ] {
        assert_eq!(q(&format!("SELECT count(*) FROM {view}")), 0, "{view}");
    }
    assert_eq!(q("SELECT count(*) FROM fact_response"), 300);
    assert_eq!(
        q(
            "SELECT count(*) FROM fact_response WHERE score IS NOT NULL OR bucket IS NOT NULL \
           OR nps_code IS NOT NULL OR is_promoter IS NOT NULL OR sentiment_mismatch IS NOT NULL"
        ),
        0
    );
    // The schema a BI model was built on stays: score is still a number.
    assert_eq!(
        with_views(
            "SELECT typeof(score), typeof(is_promoter) FROM fact_response LIMIT 1",
            &out
        )
        .trim(),
        "BIGINT|BOOLEAN"
    );
}
