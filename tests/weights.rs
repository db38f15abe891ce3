//! Survey weights end to end (`--weight-column`): the binary on a small
//! export made here, with the weighted NPS of `agg_nps` recomputed by an
//! independent reader (DuckDB, from the project's virtual environment) from
//! `fact_response` joined with the weights of the input file; the rows with
//! a bad weight rejected with their lines and reasons; a weight column that
//! is not there a usage error.

mod common;
mod support;
#[path = "common/workdir.rs"]
mod workdir;

use std::path::Path;

use support::duckdb::duckdb;
use workdir::{show, Workdir};

/// Semicolons, so that the decimal comma of `1,5` needs no quotes. Lines
/// 8, 9 and 10 have a negative, an empty and a non-numeric weight.
const EXPORT: &str = "\
id;score;comment;channel;weight
r1;10;great service;phone;2
r2;9;fine;chat;0.5
r3;3;bad agent;phone;1,5
r4;7;ok;chat;1
r5;0;awful wait;phone;3
r6;8;;chat;0
r7;6;meh;phone;-1
r8;9;good;chat;
r9;10;great;phone;heavy
r10;9;nice app;chat;2.25
";

fn csv_rows(path: &Path) -> Vec<csv::StringRecord> {
    let mut r = csv::Reader::from_path(path).expect("open csv");
    r.records().map(|x| x.expect("csv row")).collect()
}

#[test]
fn weighted_nps_matches_duckdb_and_bad_weights_are_rejected() {
    let w = Workdir::new();
    let input = w.write("export.csv", EXPORT);
    let o = w.analyze(&input, "out", &["--weight-column", "weight"]);
    assert!(o.status.success(), "{}", show(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("read 10 = analysed 7 + rejected 3"),
        "{}",
        show(&o)
    );
    // By hand: weights 2, 0.5, 1.5, 1, 3, 0, 2.25 (Σw = 10.25) on
    // P, P, D, Pa, D, Pa, P: promoters 4.75, detractors 4.5,
    // NPS_w = 100·0.25/10.25 = 2.439; Σw² = 4 + 0.25 + 2.25 + 1 + 9 + 0 +
    // 5.0625 = 21.5625, n_eff = 105.0625/21.5625 = 4.872.
    assert!(
        stdout.contains("weighted NPS 2.4 (95% CI ") && stdout.contains("; effective n 4.9)"),
        "{}",
        show(&o)
    );
    // The report says it too, next to the plain NPS.
    let report = std::fs::read_to_string(w.path("out/report.html")).expect("report");
    assert!(
        report.contains("Weighted by the survey weights: NPS <strong>2.4</strong>")
            && report.contains("effective n 4.9"),
        "report"
    );

    // Rejects: lines, column and a reason naming the column and the value.
    let rejects = csv_rows(&w.path("out/rejects.csv"));
    let got: Vec<(&str, &str, &str)> = rejects.iter().map(|r| (&r[1], &r[2], &r[3])).collect();
    assert_eq!(
        got,
        [
            (
                "8",
                "weight",
                "weight -1 in column `weight` is negative; weights must be 0 or more"
            ),
            ("9", "weight", "weight missing in column `weight`"),
            (
                "10",
                "weight",
                "weight \"heavy\" in column `weight` is not a number"
            ),
        ],
        "{rejects:?}"
    );
    assert_eq!(&rejects[0][4], "r7;6;meh;phone;-1", "the raw record");

    // The whole-run row recomputed in DuckDB from the analysed responses
    // joined with the weights as the input file has them.
    let out = w.path("out");
    let sql = "WITH i AS (SELECT id, TRY_CAST(replace(weight, ',', '.') AS DOUBLE) AS w \
                 FROM read_csv('../export.csv', delim=';', header=true, all_varchar=true)), \
               f AS (SELECT f.is_promoter, f.is_detractor, i.w FROM 'fact_response.parquet' f \
                 JOIN i ON f.response_id = i.id), \
               s AS (SELECT sum(w) AS sw, sum(w*w) AS sw2, \
                 sum(CASE WHEN is_promoter THEN w ELSE 0 END) AS wp, \
                 sum(CASE WHEN is_detractor THEN w ELSE 0 END) AS wd, count(*) AS n FROM f) \
               SELECT s.n, round(100.0 * (wp - wd) / sw, 9), round(a.weighted_nps, 9), \
                 round(sw * sw / sw2, 9), round(a.n_effective, 9), round(sw, 9), round(a.weight_sum, 9), \
                 a.weighted_nps_ci_low < a.weighted_nps AND a.weighted_nps < a.weighted_nps_ci_high \
               FROM s, 'agg_nps.parquet' a WHERE a.segment_column IS NULL AND a.period IS NULL";
    let row = duckdb(sql, &out);
    let f: Vec<&str> = row.trim().split('|').collect();
    assert_eq!(f.len(), 8, "{row}");
    assert_eq!(f[0], "7", "analysed rows joined: {row}");
    assert_eq!(f[1], f[2], "weighted NPS: SQL vs agg_nps: {row}");
    assert_eq!(f[3], f[4], "n_effective: SQL vs agg_nps: {row}");
    assert_eq!(f[5], f[6], "weight_sum: SQL vs agg_nps: {row}");
    assert_eq!(f[5], "10.25", "{row}");
    assert_eq!(f[7], "True", "interval around the estimate: {row}");

    // Per channel too (every segment row carries its weighted figures), and
    // the weight column is never a segment of agg_nps.
    let sql = "WITH i AS (SELECT id, TRY_CAST(replace(weight, ',', '.') AS DOUBLE) AS w \
                 FROM read_csv('../export.csv', delim=';', header=true, all_varchar=true)), \
               f AS (SELECT f.segment_channel AS v, \
                 round(100.0 * sum(CASE WHEN is_promoter THEN i.w WHEN is_detractor THEN -i.w ELSE 0 END) / sum(i.w), 9) AS nps \
                 FROM 'fact_response.parquet' f JOIN i ON f.response_id = i.id GROUP BY ALL) \
               SELECT count(*), sum(CASE WHEN f.nps = round(a.weighted_nps, 9) THEN 1 ELSE 0 END), \
                 (SELECT count(*) FROM 'agg_nps.parquet' WHERE segment_column = 'weight') \
               FROM 'agg_nps.parquet' a JOIN f ON a.segment_value = f.v \
               WHERE a.segment_column = 'channel' AND a.period IS NULL";
    assert_eq!(duckdb(sql, &out).trim(), "2|2|0", "chat and phone");

    // The manifest: the column, the weighted figures and their scope.
    let m = w.manifest("out");
    assert_eq!(m["input"]["weight_column"], "weight", "{m:#}");
    let nps_w = m["nps"]["weighted"]["nps"].as_f64().expect("weighted nps");
    assert!((nps_w - 100.0 * 0.25 / 10.25).abs() < 1e-9, "{nps_w}");
    let n_eff = m["nps"]["weighted"]["n_effective"].as_f64().expect("n_eff");
    assert!((n_eff - 105.0625 / 21.5625).abs() < 1e-9, "{n_eff}");
    assert_eq!(m["nps"]["weighted"]["weight_sum"], 10.25);
    assert_eq!(
        m["nps"]["weighted_scope"],
        "agg_nps and nps only; drivers unweighted"
    );
    // --min-n 2 (Workdir's) against n_eff 4.87: not suppressed.
    assert_eq!(m["nps"]["weighted"]["suppressed"], false);
}

#[test]
fn without_weights_the_weighted_columns_are_empty() {
    let w = Workdir::new();
    let input = w.write("export.csv", EXPORT);
    let o = w.analyze(&input, "out", &[]);
    assert!(o.status.success(), "{}", show(&o));
    assert!(!String::from_utf8_lossy(&o.stdout).contains("weighted NPS"));
    let report = std::fs::read_to_string(w.path("out/report.html")).expect("report");
    assert!(!report.contains("Weighted by the survey weights"));
    let sql = "SELECT count(*), count(weighted_nps), count(weighted_nps_ci_low), \
               count(weighted_nps_ci_high), count(n_effective), count(weight_sum) FROM 'agg_nps.parquet'";
    let row = duckdb(sql, &w.path("out"));
    let f: Vec<&str> = row.trim().split('|').collect();
    assert!(f[0] != "0", "{row}");
    assert_eq!(&f[1..], ["0"; 5], "{row}");
    let m = w.manifest("out");
    assert!(m["input"]["weight_column"].is_null(), "{m:#}");
    assert!(m["nps"]["weighted"].is_null(), "{m:#}");
}

#[test]
fn a_missing_weight_column_is_a_usage_error_naming_the_flag() {
    let w = Workdir::new();
    let input = w.write("export.csv", EXPORT);
    let o = w.analyze(&input, "out", &["--weight-column", "gewicht"]);
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("--weight-column")
            && err.contains("gewicht")
            && err.contains("`channel`, `weight`"),
        "{}",
        show(&o)
    );
    assert!(!w.path("out").exists(), "no output folder on a usage error");
}

#[test]
fn weight_column_in_a_config_file_works_like_the_flag() {
    let w = Workdir::new();
    let input = w.write("export.csv", EXPORT);
    let config = w.write("verbatim.toml", "[input]\nweight_column = \"weight\"\n");
    let config = config.display().to_string();
    let by_flag = w.analyze(&input, "flag", &["--weight-column", "weight"]);
    assert!(by_flag.status.success(), "{}", show(&by_flag));
    let by_file = w.analyze(&input, "file", &["--config", &config]);
    assert!(by_file.status.success(), "{}", show(&by_file));
    // The same console lines (the timings aside) and the same tables.
    let weighted = |o: &std::process::Output| {
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .filter(|l| l.contains("weighted NPS") || l.starts_with("read "))
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    assert_eq!(weighted(&by_file).len(), 2, "{}", show(&by_file));
    assert_eq!(weighted(&by_file), weighted(&by_flag));
    for file in ["agg_nps.csv", "rejects.csv"] {
        let read = |out: &str| std::fs::read(w.path(out).join(file)).expect(file);
        assert!(read("file") == read("flag"), "{file} differs");
    }
    let (flag, file) = (w.manifest("flag"), w.manifest("file"));
    assert_eq!(file["input"]["weight_column"], "weight", "{file:#}");
    assert_eq!(file["nps"], flag["nps"]);
    assert_eq!(file["counts"], flag["counts"]);
    // The flag wins over the file.
    let wrong = w.write("wrong.toml", "[input]\nweight_column = \"gewicht\"\n");
    let wrong = wrong.display().to_string();
    let o = w.analyze(
        &input,
        "both",
        &["--config", &wrong, "--weight-column", "weight"],
    );
    assert!(o.status.success(), "{}", show(&o));
    assert_eq!(w.manifest("both")["nps"], flag["nps"]);
}
