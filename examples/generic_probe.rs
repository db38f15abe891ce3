//! Helper of benches/generic_margin.py: per clause, the best cosine to each topic's examples
//! (keyword rules applied, null where barred) and the best cosine to a list
//! of generic phrases ("sehr gut", "alles super") that name no topic.
//!
//! ```text
//! generic_probe GENERIC.txt TEXTS.txt OUT.jsonl   # one phrase / comment per line
//! ```

use std::io::{BufRead, Write};

use anyhow::{Context, Result};
use verbatim::classify::topics::TopicModel;
use verbatim::classify::Taxonomy;
use verbatim::model::manifest::default_model_dir;
use verbatim::model::transformer::{EncoderOptions, TransformerEncoder};
use verbatim::model::Encoder;
use verbatim::text::clauses::split_clauses;

fn lines(path: &str) -> Result<Vec<String>> {
    let file = std::fs::File::open(path).with_context(|| path.to_string())?;
    Ok(std::io::BufReader::new(file)
        .lines()
        .collect::<Result<_, _>>()?)
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    anyhow::ensure!(
        args.len() == 4,
        "usage: generic_probe GENERIC.txt TEXTS.txt OUT.jsonl"
    );
    let tax = Taxonomy::default_contact_center();
    let enc = TransformerEncoder::load(&default_model_dir(), &EncoderOptions::default())?;
    let topics = TopicModel::build(&enc, &tax)?;
    let generic: Vec<String> = lines(&args[1])?
        .into_iter()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .collect();
    let gv = enc.embed(&generic.iter().map(String::as_str).collect::<Vec<_>>())?;
    let mut out = std::io::BufWriter::new(std::fs::File::create(&args[3])?);
    let comments = lines(&args[2])?;
    let split: Vec<Vec<String>> = comments
        .iter()
        .map(|c| {
            let mut clauses = split_clauses(c);
            if clauses.is_empty() {
                clauses.push(c.clone());
            }
            clauses
        })
        .collect();
    let all: Vec<&str> = split.iter().flatten().map(String::as_str).collect();
    let mut vectors = Vec::new();
    for part in all.chunks(256) {
        vectors.extend(enc.embed(part)?);
    }
    let mut at = 0;
    for (c, clauses) in comments.iter().zip(&split) {
        let vs = &vectors[at..at + clauses.len()];
        at += clauses.len();
        let refs: Vec<&[f32]> = vs.iter().map(Vec::as_slice).collect();
        let language = verbatim::text::language::detect(c);
        let scores = topics.scores_of(clauses, topics.similarities_many(&refs), language);
        let mut rows = Vec::new();
        for (ci, v) in vs.iter().enumerate() {
            let (gi, gsim) = gv
                .iter()
                .enumerate()
                .map(|(i, g)| (i, g.iter().zip(v).map(|(a, b)| a * b).sum::<f32>()))
                .fold((0, -1.0f32), |a, b| if b.1 > a.1 { b } else { a });
            let sims: Vec<Option<f32>> = scores.sims[ci]
                .iter()
                .map(|s| s.is_finite().then_some(*s))
                .collect();
            rows.push(serde_json::json!({"text": clauses[ci], "gsim": gsim, "generic": generic[gi], "sims": sims}));
        }
        writeln!(out, "{}", serde_json::json!({ "clauses": rows }))?;
    }
    Ok(())
}
