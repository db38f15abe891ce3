//! Per-clause sentiment probabilities of a labelled CSV, one JSON line per
//! row: `{"label": …, "clauses": [[P(neg), P(neu), P(pos)], …]}` (clauses as
//! `analyze` splits them; one entry, the whole text, when there is one
//! clause). `benches/mixed_threshold.py` reads these to choose the
//! confidence at which two clauses make a comment mixed.
//!
//! `cargo run --release --example clause_sentiment -- FILE.csv [HEAD.json]`
//! (columns `text` and `label`; the shipped head without HEAD.json).
use verbatim::classify::head::SentimentHead;
use verbatim::model::manifest::default_model_dir;
use verbatim::model::transformer::{EncoderOptions, TransformerEncoder};
use verbatim::model::Encoder;
use verbatim::text::clauses::split_clauses;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    anyhow::ensure!(
        args.len() >= 2,
        "usage: clause_sentiment FILE.csv [HEAD.json]"
    );
    let head = match args.get(2) {
        Some(p) => SentimentHead::load(std::path::Path::new(p))?,
        None => SentimentHead::default_head(),
    };
    let enc = TransformerEncoder::load(&default_model_dir(), &EncoderOptions::default())?;
    let mut reader = csv::Reader::from_path(&args[1])?;
    let headers = reader.headers()?.clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| anyhow::anyhow!("{}: no `{name}` column", args[1]))
    };
    let (text_col, label_col) = (col("text")?, col("label")?);
    let mut rows = Vec::new();
    for rec in reader.records() {
        let rec = rec?;
        rows.push((rec[text_col].to_string(), rec[label_col].to_string()));
    }
    let clauses: Vec<Vec<String>> = rows
        .iter()
        .map(|(t, _)| {
            let c = split_clauses(t);
            if c.len() < 2 {
                vec![t.clone()]
            } else {
                c
            }
        })
        .collect();
    let flat: Vec<&str> = clauses.iter().flatten().map(String::as_str).collect();
    let vecs = enc.embed(&flat)?;
    let mut at = 0;
    for ((_, label), cl) in rows.iter().zip(&clauses) {
        let probs: Vec<[f32; 3]> = vecs[at..at + cl.len()]
            .iter()
            .map(|v| head.probabilities(v))
            .collect();
        at += cl.len();
        println!(
            "{}",
            serde_json::json!({ "label": label, "clauses": probs })
        );
    }
    Ok(())
}
