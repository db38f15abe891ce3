//! Comparing the output folders of two `verbatim analyze` runs, and making
//! exports for them: shared by the tests that rerun, kill or race the binary
//! (`tests/kill.rs`, `tests/cache.rs`).
//!
//! "The same run": every CSV and Parquet file byte for byte, except that
//! `fact_response` and `fact_answer` carry the run id in their `run_id` column, and the run
//! id is the start time (to the second) plus the input's checksum; there
//! the rows are compared with that column left out (the Parquet file
//! decoded with the `parquet` crate). `manifest.json` likewise differs by
//! the run id, the start and end times, the timings and the cache's hits;
//! the rest of it must be equal. The report is compared with every number
//! blanked.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::Path;

/// Every file of a folder (no subfolders are written), by name.
pub fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .expect("read output folder")
        .map(|e| {
            let p = e.expect("entry").path();
            let name = p.file_name().map(|n| n.to_string_lossy().into_owned());
            (
                name.unwrap_or_default(),
                std::fs::read(&p).expect("read file"),
            )
        })
        .collect()
}

/// A small deterministic generator (SplitMix64).
pub struct SplitMix(pub u64);

impl SplitMix {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// An export of `rows` rows with distinct comments in the tiny model's words;
/// the first `n` rows are the same for every `rows >= n` (a growing export).
pub fn export(rows: usize, seed: u64) -> String {
    const W: &[&str] = &[
        "the", "agent", "was", "friendly", "rude", "waited", "hour", "on", "hold", "invoice",
        "wrong", "price", "too", "high", "app", "crashes", "great", "service", "bad", "ok",
    ];
    let mut g = SplitMix(seed);
    let mut s = String::from("id,score,comment,channel\n");
    for i in 0..rows {
        let n = 3 + g.next() % 6;
        let mut c: Vec<&str> = (0..n)
            .map(|_| W[(g.next() % W.len() as u64) as usize])
            .collect();
        if g.next().is_multiple_of(2) {
            c.push("but");
            c.extend((0..3).map(|_| W[(g.next() % W.len() as u64) as usize]));
        }
        let channel = ["phone", "chat", "email"][(g.next() % 3) as usize];
        s.push_str(&format!("r{i},{},{} {i},{channel}\n", i % 11, c.join(" ")));
    }
    s
}

/// The rows of `fact_response.parquet` (or `fact_answer.parquet`) without its `run_id` column.
pub fn fact_rows(bytes: &[u8]) -> Vec<arrow_array::RecordBatch> {
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
        bytes::Bytes::copy_from_slice(bytes),
    )
    .expect("parquet")
    .build()
    .expect("parquet reader");
    reader
        .map(|b| {
            let b = b.expect("batch");
            let keep: Vec<usize> = (0..b.num_columns())
                .filter(|&i| b.schema().field(i).name() != "run_id")
                .collect();
            b.project(&keep).expect("project")
        })
        .collect()
}

/// `fact_response.csv` (or `fact_answer.csv`) without its `run_id` column.
pub fn fact_csv(bytes: &[u8]) -> Vec<Vec<String>> {
    let mut r = csv::Reader::from_reader(bytes);
    let header = r.headers().expect("header").clone();
    let run_id = header.iter().position(|h| h == "run_id");
    let mut rows = vec![header.iter().map(String::from).collect::<Vec<_>>()];
    for rec in r.records() {
        rows.push(rec.expect("row").iter().map(String::from).collect());
    }
    if let Some(i) = run_id {
        for row in &mut rows {
            row.remove(i);
        }
    }
    rows
}

/// The text with every number (a run of digits and dots) replaced by `0`.
pub fn blank_digits(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut in_number = false;
    for &b in bytes {
        let digit = b.is_ascii_digit() || (in_number && b == b'.');
        if !digit {
            out.push(b);
        } else if !in_number {
            out.push(b'0');
        }
        in_number = digit;
    }
    out
}

/// `manifest.json` without what differs from run to run.
pub fn manifest_rest(bytes: &[u8]) -> serde_json::Value {
    let mut m: serde_json::Value = serde_json::from_slice(bytes).expect("manifest is JSON");
    if let Some(o) = m.as_object_mut() {
        for k in ["run_id", "started_at", "finished_at", "timings", "cache"] {
            o.remove(k);
        }
    }
    m
}

/// Whether `got` holds the same run as `want` (see the module doc); the
/// difference, if any, for the message.
pub fn same_run(
    got: &BTreeMap<String, Vec<u8>>,
    want: &BTreeMap<String, Vec<u8>>,
) -> Result<(), String> {
    let names = |m: &BTreeMap<String, Vec<u8>>| m.keys().cloned().collect::<Vec<_>>();
    if names(got) != names(want) {
        return Err(format!("files {:?} vs {:?}", names(got), names(want)));
    }
    for (name, bytes) in want {
        let other = &got[name];
        let same = match name.as_str() {
            "fact_response.parquet" | "fact_answer.parquet" => fact_rows(other) == fact_rows(bytes),
            "fact_response.csv" | "fact_answer.csv" => fact_csv(other) == fact_csv(bytes),
            "manifest.json" => manifest_rest(other) == manifest_rest(bytes),
            // The report shows the run id, the run time and the manifest
            // (timings): compared with every number blanked. The figures it
            // shows are those of the tables, which are compared exactly.
            "report.html" => blank_digits(other) == blank_digits(bytes),
            _ => other == bytes,
        };
        if !same {
            return Err(format!("{name} differs"));
        }
    }
    Ok(())
}
