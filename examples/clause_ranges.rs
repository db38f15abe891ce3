//! Where `analyze` splits each text into clauses: one JSON line per input
//! line (a JSON string), `[[start, end], …]` byte ranges of
//! `text::clauses::clause_ranges`. For probes that need the project's
//! splitter outside Rust (benches/late_chunking_probe.py).
//!
//! `cargo run --release --example clause_ranges < texts.jsonl`

use std::io::{BufRead, Write};

fn main() -> anyhow::Result<()> {
    let stdin = std::io::stdin();
    let mut out = std::io::BufWriter::new(std::io::stdout());
    for line in stdin.lock().lines() {
        let text: String = serde_json::from_str(&line?)?;
        let ranges: Vec<[usize; 2]> = verbatim::text::clauses::clause_ranges(&text)
            .into_iter()
            .map(|r| [r.start, r.end])
            .collect();
        writeln!(out, "{}", serde_json::to_string(&ranges)?)?;
    }
    Ok(())
}
