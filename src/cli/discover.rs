//! `verbatim discover`: candidate new topics from the unassigned remainder.

use std::collections::HashSet;
use std::path::PathBuf;

use anyhow::{Context, Result};

use super::encoder_args::{count_in, EncoderArgs};
use crate::app::analyze::TopicModelChoice;
use crate::classify::calibration::{self, CalibrationOrigin};
use crate::classify::discover::{discover, to_taxonomy_toml, DiscoverSettings, Discovery};
use crate::classify::embed::analyse_texts;
use crate::classify::Taxonomy;
use crate::exit_codes::{ExitCode, WithCode};
use crate::input::{InputOptions, Record, ResponseStream};

/// Propose new topics from the comments that no topic matched.
///
/// Analyses the input like `analyze` (clauses, topics), keeps the clauses
/// that matched no topic, clusters them (k-means, seeded; the number of
/// clusters chosen by silhouette unless --clusters is given) and prints each
/// cluster's key terms and most typical comments. With --out, writes the
/// candidates as taxonomy TOML to review and append; their ids are new and
/// existing ids are never renumbered.
///
/// Example: verbatim discover export.csv --out candidates.toml
#[derive(clap::Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// Survey export (CSV, TSV or JSON Lines), read as `analyze` reads it.
    pub input: PathBuf,
    /// Column with the comment [default: found by name]
    #[arg(long)]
    pub text_column: Option<String>,
    /// Column with the 0–10 score [default: found by name]
    #[arg(long)]
    pub score_column: Option<String>,
    /// Taxonomy TOML file [default: the built-in contact-center taxonomy]
    #[arg(long)]
    pub taxonomy: Option<PathBuf>,
    /// Topic calibration from `verbatim train topics`, as for `analyze` [default: the one shipped for the taxonomy and model, if any]
    #[arg(long)]
    pub topic_calibration: Option<PathBuf>,
    /// Fine-tuned topic model folder, or `none`, as for `analyze` [default: the one shipped for the default taxonomy and model, where both match and no --topic-calibration is given]
    #[arg(long, value_name = "DIR|none", conflicts_with = "topic_calibration")]
    pub topic_model: Option<PathBuf>,
    /// Number of clusters, 2 to 1000 [default: chosen by silhouette, 2 to 12]
    #[arg(long, value_parser = count_in(2, 1000))]
    pub clusters: Option<usize>,
    /// Clusters smaller than this are not proposed.
    #[arg(long, default_value_t = 5, value_parser = count_in(1, 1_000_000))]
    pub min_size: usize,
    /// Cluster at most this many unassigned clauses (the first ones read).
    #[arg(long, default_value_t = 20_000, value_parser = count_in(1, 10_000_000))]
    pub max_texts: usize,
    /// Seed of k-means.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Language code for the labels and examples of the proposed topics.
    #[arg(long, default_value = "en")]
    pub lang: String,
    /// Write the candidates as taxonomy TOML here.
    #[arg(long, short)]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub encoder: EncoderArgs,
}

/// Runs `verbatim discover`.
pub fn run(args: Args) -> Result<ExitCode> {
    let tax = match &args.taxonomy {
        Some(p) => Taxonomy::from_file(p)?,
        None => Taxonomy::default_contact_center(),
    };
    let opts = InputOptions {
        text_column: args.text_column.clone(),
        score_column: args.score_column.clone(),
        ..Default::default()
    };
    let stream = ResponseStream::open(&args.input, &opts)?;
    let mut loaded = args.encoder.load()?;
    // The same topic rule as `analyze`, so that "unassigned" means the same.
    let tuned = loaded.attach_topic_model(
        &TopicModelChoice::from_flag(args.topic_model.as_deref()),
        args.topic_calibration.is_some(),
        &tax,
    )?;
    let embedder = loaded.embedder()?;
    let (cal, origin) = calibration::resolve(
        &tax,
        &loaded.weights_sha256,
        args.topic_calibration.as_deref(),
    )
    .code(ExitCode::Usage)?;
    if let (None, None, CalibrationOrigin::None { reason }) = (&tuned, &cal, &origin) {
        eprintln!("warning: {reason}");
    }
    let cls = loaded.classifier(&*embedder, &tax, cal, tuned.as_ref())?;
    let mut unassigned: Vec<String> = Vec::new();
    let mut comments = 0usize;
    let mut chunk: Vec<String> = Vec::new();
    let flush = |chunk: &mut Vec<String>, out: &mut Vec<String>| -> Result<()> {
        let refs: Vec<&str> = chunk.iter().map(String::as_str).collect();
        for a in analyse_texts(&refs, &*embedder, &cls)?
            .into_iter()
            .flatten()
        {
            let hit: HashSet<usize> = a.topics.iter().map(|t| t.clause).collect();
            for (i, c) in a.clauses.into_iter().enumerate() {
                if !hit.contains(&i) && out.len() < args.max_texts {
                    out.push(c);
                }
            }
        }
        chunk.clear();
        Ok(())
    };
    for rec in stream {
        if let Record::Response(r) = rec? {
            if !crate::text::non_answer::is_non_answer(&r.comment) {
                comments += 1;
                chunk.push(r.comment);
                if chunk.len() == 2048 {
                    flush(&mut chunk, &mut unassigned)?;
                }
            }
        }
        if unassigned.len() >= args.max_texts {
            break;
        }
    }
    flush(&mut chunk, &mut unassigned)?;
    let refs: Vec<&str> = unassigned.iter().map(String::as_str).collect();
    let vectors = embedder.embed(&refs)?;
    let existing: HashSet<String> = tax.topics.iter().map(|t| t.id.clone()).collect();
    let settings = DiscoverSettings {
        clusters: args.clusters,
        min_size: args.min_size,
        seed: args.seed,
        ..Default::default()
    };
    let d = discover(&unassigned, &vectors, &existing, &settings)
        .with_context(|| format!("{}: discovering topics", args.input.display()))?;
    // Written before anything is printed, so a reader that stops early
    // (`| head`) does not lose the file.
    if let Some(path) = &args.out {
        write_candidates(path, &to_taxonomy_toml(&d, &args.lang))?;
    }
    print_candidates(&d, comments);
    if let Some(path) = &args.out {
        println!("\ncandidates written to {}", path.display());
    }
    Ok(ExitCode::Success)
}

/// Writes `toml` to `path` whole, through a temporary file beside it.
fn write_candidates(path: &std::path::Path, toml: &str) -> Result<()> {
    crate::model::write_file_whole(path, true, |w| Ok(w.write_all(toml.as_bytes())?))
}

/// The candidate topics with their key terms and representative clauses.
fn print_candidates(d: &Discovery, comments: usize) {
    println!(
        "{comments} comments read; {} unassigned clauses in {} clusters (silhouette {:.3}); {} candidates:",
        d.texts,
        d.clusters,
        d.silhouette,
        d.candidates.len()
    );
    for c in &d.candidates {
        println!(
            "\n{}  ({} clauses, {:.1}%, cohesion {:.3})\n  key terms: {}",
            c.id,
            c.size,
            100.0 * c.share,
            c.cohesion,
            c.key_terms.join(", ")
        );
        for r in &c.representatives {
            println!("  · {r}");
        }
    }
}
