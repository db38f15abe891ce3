//! Per-clause sentiment probabilities of a labelled CSV, one JSON line per
//! row: `{"label": …, "clauses": [[P(neg), P(neu), P(pos)], …]}`, from the
//! clause sentiments `analyze` computes (`classify::embed::analyse_texts`:
//! one entry, the whole text, when there is one clause; none for an empty
//! text). `benches/mixed_threshold.py` reads these to choose the confidence
//! at which two clauses make a comment mixed.
//!
//! `cargo run --release --example clause_sentiment -- FILE.csv [HEAD.json]`
//! (columns `text` and `label`; the shipped head without HEAD.json).
use verbatim::classify::embed::analyse_texts;
use verbatim::classify::head::SentimentHead;
use verbatim::classify::{Classifier, ClassifierSettings, SentimentModel, Taxonomy};
use verbatim::input::labelled::{read_labelled, LabelledSpec};
use verbatim::model::manifest::default_model_dir;
use verbatim::model::transformer::{EncoderOptions, TransformerEncoder};

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
    let file = std::fs::File::open(&args[1])?;
    let rows = read_labelled(file, &args[1], &LabelledSpec::csv("text", "label"))?.rows;
    let enc = TransformerEncoder::load(&default_model_dir(), &EncoderOptions::default())?;
    let classifier = Classifier::build(
        &enc,
        SentimentModel::Head(Box::new(head)),
        &Taxonomy::default_contact_center(),
        ClassifierSettings::default(),
    )?;
    let texts: Vec<&str> = rows.iter().map(|r| r.text.as_str()).collect();
    for (row, analysis) in rows.iter().zip(analyse_texts(&texts, &enc, &classifier)?) {
        let clauses: Vec<[f32; 3]> = analysis
            .map(|a| {
                a.clause_sentiment
                    .iter()
                    .map(|s| s.probabilities())
                    .collect()
            })
            .unwrap_or_default();
        println!(
            "{}",
            serde_json::json!({ "label": row.label, "clauses": clauses })
        );
    }
    Ok(())
}
