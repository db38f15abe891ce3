//! Helper of benches/generic_margin.py: per clause, the best cosine to each
//! topic's examples (keyword rules applied, null where they bar the topic;
//! the generic-verdict rule not applied) and the best cosine to the built-in
//! generic phrases (`models/generic-phrases.txt`), with the default model
//! and taxonomy.
//!
//! ```text
//! generic_probe TEXTS.txt OUT.jsonl   # one comment per line
//! ```

use std::io::{BufRead, Write};

use anyhow::{Context, Result};
use verbatim::classify::topics::TopicModel;
use verbatim::classify::Taxonomy;
use verbatim::model::manifest::default_model_dir;
use verbatim::model::transformer::{EncoderOptions, TransformerEncoder};
use verbatim::model::Encoder;
use verbatim::text::clauses::split_clauses;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    anyhow::ensure!(args.len() == 3, "usage: generic_probe TEXTS.txt OUT.jsonl");
    let tax = Taxonomy::default_contact_center();
    let enc = TransformerEncoder::load(&default_model_dir(), &EncoderOptions::default())?;
    let topics = TopicModel::build(&enc, &tax)?;
    let file = std::fs::File::open(&args[1]).with_context(|| args[1].clone())?;
    let comments: Vec<String> = std::io::BufReader::new(file)
        .lines()
        .collect::<Result<_, _>>()?;
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
    let mut out = std::io::BufWriter::new(std::fs::File::create(&args[2])?);
    let mut at = 0;
    for (c, clauses) in comments.iter().zip(&split) {
        let refs: Vec<&[f32]> = vectors[at..at + clauses.len()]
            .iter()
            .map(Vec::as_slice)
            .collect();
        at += clauses.len();
        // The last column is the generic phrases'; cosines without it go
        // through the keyword rules only.
        let mut sims = topics.similarities_many(&refs);
        let generic: Vec<f32> = sims
            .iter_mut()
            .map(|s| s.pop().expect("generic column"))
            .collect();
        let language = verbatim::text::language::detect(c);
        let scores = topics.scores_of(clauses, sims, language);
        let rows: Vec<serde_json::Value> = (0..clauses.len())
            .map(|ci| {
                let sims: Vec<Option<f32>> = scores.sims[ci]
                    .iter()
                    .map(|s| s.is_finite().then_some(*s))
                    .collect();
                serde_json::json!({"text": clauses[ci], "gsim": generic[ci], "sims": sims})
            })
            .collect();
        writeln!(out, "{}", serde_json::json!({ "clauses": rows }))?;
    }
    Ok(())
}
