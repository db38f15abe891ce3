//! Prints clause-level topic similarities and sentiment for the first rows of
//! a CSV: a look under the hood when tuning a taxonomy.
//! `cargo run --release --example inspect -- FILE [N]`
use verbatim::classify::{Classifier, ClassifierSettings, Prototypes, SentimentModel, Taxonomy};
use verbatim::input::{read_responses, InputOptions};
use verbatim::model::manifest::default_model_dir;
use verbatim::model::transformer::{EncoderOptions, TransformerEncoder};
use verbatim::model::Encoder;
use verbatim::text::clauses::split_clauses;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(30);
    let ing = read_responses(std::path::Path::new(&args[1]), &InputOptions::default())?;
    let enc = TransformerEncoder::load(&default_model_dir(), &EncoderOptions::default())?;
    let tax = Taxonomy::default_contact_center();
    let cls = Classifier::build(
        &enc,
        SentimentModel::Prototypes(Prototypes::default_set()),
        &tax,
        ClassifierSettings::default(),
    )?;
    for r in ing
        .responses
        .iter()
        .filter(|r| !r.comment.is_empty())
        .take(n)
    {
        let score = r.score.map_or("-".to_string(), |s| s.to_string());
        println!("[{score}] {}", r.comment.replace('\n', " "));
        for c in split_clauses(&r.comment) {
            let v = &enc.embed(&[&c])?[0];
            let sims = cls.topic_similarities(v);
            let mut idx: Vec<usize> = (0..sims.len()).collect();
            idx.sort_by(|a, b| sims[*b].total_cmp(&sims[*a]));
            let s = cls.sentiments(&[&c], std::slice::from_ref(v))?[0];
            let top: Vec<String> = idx
                .iter()
                .take(3)
                .map(|&i| format!("{}={:.3}", tax.topics[i].id, sims[i]))
                .collect();
            println!(
                "   {:<50} {:?} {:.2} | {}",
                c.chars().take(50).collect::<String>(),
                s.label,
                s.score,
                top.join(" ")
            );
        }
    }
    Ok(())
}
