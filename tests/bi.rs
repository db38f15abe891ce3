//! The outputs as a BI tool sees them: the Parquet files are read back by an
//! independent reader, DuckDB (from PyPI, installed into the project's
//! virtual environment by scripts/test.sh), and NPS recomputed in SQL from
//! `fact_response` must equal `agg_nps`, overall and per segment and month.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

fn python() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python")
}

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

fn duckdb(sql: &str, dir: &Path) -> String {
    let script = format!(
        "import duckdb, os\nos.chdir({:?})\nfor row in duckdb.sql({:?}).fetchall():\n    print('|'.join('' if v is None else str(v) for v in row))",
        dir.display().to_string(),
        sql
    );
    let o = Command::new(python())
        .args(["-c", &script])
        .output()
        .expect("running the project's python");
    assert!(
        o.status.success(),
        "duckdb failed (scripts/test.sh installs it into .venv): {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

#[test]
fn nps_recomputed_in_duckdb_equals_agg_nps() {
    let dir = tempfile::tempdir().unwrap();
    common::tiny_bert_folder(&dir.path().join("model"));
    let input = dir.path().join("export.csv");
    std::fs::write(&input, export()).unwrap();
    let out = dir.path().join("out");
    let o = Command::new(env!("CARGO_BIN_EXE_verbatim"))
        .arg("analyze")
        .arg(&input)
        .arg("--out")
        .arg(&out)
        .arg("--model")
        .arg(dir.path().join("model"))
        .args(["--quiet", "--periods", "month"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));

    // Overall, whole run.
    let sql = "SELECT round(100.0 * (sum(is_promoter::INT) - sum(is_detractor::INT)) / count(*), 9) AS nps, \
               (SELECT round(nps, 9) FROM 'agg_nps.parquet' WHERE segment_column = '' AND period IS NULL) \
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
