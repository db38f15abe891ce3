//! Helper of benches/finetune_dev.py: a fine-tuned topic model's
//! probabilities for each comment, three ways, so that the decision rule can
//! be studied without an `analyze` run per setting.
//!
//! ```text
//! topic_probs TOPIC_MODEL_DIR TEXTS.txt OUT.jsonl   # one comment per line
//! ```
//!
//! Per comment one JSON line: `whole` (the comment as one text), `clauses`
//! (per topic the best clause, as `analyze` scores it) and `clauses_ruled`
//! (the same among the clauses the taxonomy's keyword rules allow; what
//! `analyze --topic-model` decides on; -1 where every clause is barred).
//! Default model and taxonomy; precision from $PRECISION (auto, f32, bf16;
//! default auto, as `analyze`).

use std::io::{BufRead, Write};

use anyhow::{Context, Result};
use verbatim::classify::finetune::TopicModelDir;
use verbatim::classify::topics::TopicModel;
use verbatim::classify::Taxonomy;
use verbatim::model::manifest::default_model_dir;
use verbatim::model::transformer::{EncoderOptions, TransformerEncoder};
use verbatim::model::Encoder;
use verbatim::text::clauses::split_clauses;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    anyhow::ensure!(
        args.len() == 4,
        "usage: topic_probs TOPIC_MODEL_DIR TEXTS.txt OUT.jsonl"
    );
    let tax = Taxonomy::default_contact_center();
    let mut opts = EncoderOptions::default();
    if let Ok(p) = std::env::var("PRECISION") {
        opts.precision = p.parse().map_err(anyhow::Error::msg)?;
    }
    let mut enc = TransformerEncoder::load(&default_model_dir(), &opts)?;
    let m = TopicModelDir::load(std::path::Path::new(&args[1]))?;
    m.attach(&mut enc)?;
    let topics = TopicModel::build(&enc, &tax)?;
    let file = std::fs::File::open(&args[2]).with_context(|| args[2].clone())?;
    let comments: Vec<String> = std::io::BufReader::new(file)
        .lines()
        .collect::<Result<_, _>>()?;
    let mut out = std::io::BufWriter::new(std::fs::File::create(&args[3])?);
    for c in &comments {
        let mut clauses = split_clauses(c);
        if clauses.is_empty() {
            clauses.push(c.clone());
        }
        let mut texts: Vec<&str> = vec![c.as_str()];
        texts.extend(clauses.iter().map(String::as_str));
        let (vectors, probs) = enc.embed_with_topics(&texts)?;
        let probs = probs.context("no probabilities")?;
        let refs: Vec<&[f32]> = vectors[1..].iter().map(Vec::as_slice).collect();
        let language = verbatim::text::language::detect(c);
        let scores = topics.scores_of(&clauses, topics.similarities_many(&refs), language);
        let n = tax.topics.len();
        let best = |ruled: bool| -> Vec<f32> {
            (0..n)
                .map(|t| {
                    (0..clauses.len())
                        .filter(|&ci| !ruled || scores.sims[ci][t].is_finite())
                        .map(|ci| probs[ci + 1][t])
                        .fold(-1.0, f32::max)
                })
                .collect()
        };
        let line = serde_json::json!({
            "whole": probs[0],
            "clauses": best(false),
            "clauses_ruled": best(true),
        });
        writeln!(out, "{line}")?;
    }
    Ok(())
}
