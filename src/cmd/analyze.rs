//! `verbatim analyze`: one pass over a survey export.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};

use crate::classify::{Classifier, ClassifierSettings, Prototypes, Taxonomy};
use crate::exit_codes::ExitCode;
use crate::input::{read_responses, write_rejects, InputOptions};
use crate::model::manifest::{default_model_dir, sha256_file};
use crate::model::transformer::{DeviceChoice, EncoderOptions, TransformerEncoder};
use crate::model::{Encoder, Precision};
use crate::output::tables::{self, RunSummary};
use crate::output::OutputDir;
use crate::pipeline::{analyze, Analysis, DriverScope, PassSettings};

/// Analyse a survey export (CSV with a header): sentiment and topics per
/// comment, NPS, and the topics that drive low and high scores.
///
/// Writes into --out: responses.csv (one row per response), response_topics.csv
/// (response × topic), drivers.csv, rejects.csv (rows that could not be read,
/// with line and reason) and summary.json. The folder is replaced as a whole
/// at the end, so a failed run leaves the previous results untouched.
///
/// Memory grows with the number of rows (about 2 KB per comment for the
/// vectors); speed is set by the encoder: a larger --batch-tokens packs more
/// short comments per forward pass at the cost of memory, and --threads
/// defaults to all cores.
///
/// Example: verbatim analyze export.csv --out results --score-column Score --text-column Comment
#[derive(clap::Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// Survey export: CSV or TSV with a header row (comma, semicolon or tab).
    pub input: PathBuf,
    /// Output folder (replaced as a whole when the run succeeds).
    #[arg(long, short, default_value = "verbatim-out")]
    pub out: PathBuf,
    /// Column with the 0–10 score [default: found by name: score, nps, rating…]
    #[arg(long)]
    pub score_column: Option<String>,
    /// Column with the comment [default: found by name: comment, text, feedback…]
    #[arg(long)]
    pub text_column: Option<String>,
    /// Column with a unique response id [default: found by name, else derived from the row]
    #[arg(long)]
    pub id_column: Option<String>,
    /// Field delimiter, one character [default: detected among , ; tab]
    #[arg(long)]
    pub delimiter: Option<char>,
    /// Hugging Face model folder (BERT, XLM-RoBERTa or DistilBERT) [default: the installed multilingual-e5-small]
    #[arg(long, env = "VERBATIM_MODEL")]
    pub model: Option<PathBuf>,
    /// Taxonomy TOML file [default: the built-in contact-center taxonomy]
    #[arg(long)]
    pub taxonomy: Option<PathBuf>,
    /// Numeric precision of the encoder: auto uses bfloat16 where the CPU has native support.
    #[arg(long, value_enum, default_value = "auto")]
    pub precision: Precision,
    /// Device of the encoder.
    #[arg(long, value_enum, default_value = "cpu")]
    pub device: DeviceChoice,
    /// Threads for the encoder [default: all cores]
    #[arg(long)]
    pub threads: Option<usize>,
    /// Token budget per forward pass (rows × longest row).
    #[arg(long, default_value_t = 4096)]
    pub batch_tokens: usize,
    /// Drivers with fewer mentions are computed but marked suppressed and not ranked.
    #[arg(long, default_value_t = 30)]
    pub min_n: u64,
    /// Cosine a clause needs to a topic's examples to mention it.
    #[arg(long)]
    pub topic_threshold: Option<f32>,
    /// No progress on stderr.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Runs `verbatim analyze`.
pub fn run(args: Args) -> Result<ExitCode> {
    let started = Instant::now();
    let started_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let delimiter = match args.delimiter {
        Some(c) if c.is_ascii() => Some(c as u8),
        Some(c) => anyhow::bail!("--delimiter `{c}` must be one ASCII character"),
        None => None,
    };
    let input_opts = InputOptions {
        score_column: args.score_column.clone(),
        text_column: args.text_column.clone(),
        id_column: args.id_column.clone(),
        delimiter,
    };
    let taxonomy = match &args.taxonomy {
        Some(p) => Taxonomy::from_file(p)?,
        None => Taxonomy::default_contact_center(),
    };
    // Fail on the input and the output folder before the slow model load.
    let ingested = read_responses(&args.input, &input_opts)?;
    let input_sha256 = sha256_file(&args.input)?;
    let out = OutputDir::create(&args.out)?;

    let model_dir = args.model.clone().unwrap_or_else(default_model_dir);
    let enc_opts = EncoderOptions {
        precision: args.precision,
        threads: args.threads,
        token_budget: args.batch_tokens,
        prefix: None,
        device: args.device,
    };
    let encoder = TransformerEncoder::load(&model_dir, &enc_opts)
        .with_context(|| format!("loading the model from {}", model_dir.display()))?;
    let mut settings = ClassifierSettings::default();
    if let Some(t) = args.topic_threshold {
        settings.topic_threshold = t;
    }
    let prototypes = Prototypes::default_set();
    let classifier = Classifier::build(&encoder, &prototypes, &taxonomy, settings)?;

    let show = !args.quiet && std::io::stderr().is_terminal();
    let mut last = Instant::now();
    let mut progress = |done: usize, total: usize| {
        if show && (done == total || last.elapsed().as_millis() > 500) {
            last = Instant::now();
            eprint!("\rembedding {done}/{total} texts");
            if done == total {
                eprintln!();
            }
            let _ = std::io::stderr().flush();
        }
    };
    let pass = PassSettings {
        min_n: args.min_n,
        ..Default::default()
    };
    let analysis = analyze(
        ingested,
        &encoder,
        &classifier,
        &taxonomy,
        pass,
        &mut progress,
    )?;

    tables::write_responses(out.file("responses.csv")?, &analysis, &taxonomy)?;
    tables::write_response_topics(out.file("response_topics.csv")?, &analysis, &taxonomy)?;
    tables::write_drivers(out.file("drivers.csv")?, &analysis, &taxonomy)?;
    write_rejects(
        out.file("rejects.csv")?,
        &analysis.ingested_source,
        &analysis.rejects,
    )?;
    let embed_s = analysis.embed_time.as_secs_f64();
    let summary = RunSummary {
        tool: format!("verbatim {}", env!("CARGO_PKG_VERSION")),
        started_at,
        input: args.input.display().to_string(),
        input_sha256,
        read: analysis.read,
        analysed: analysis.responses.len(),
        rejected: analysis.rejects.len(),
        with_comment: analysis
            .responses
            .iter()
            .filter(|r| r.analysis.is_some())
            .count(),
        nps: analysis.nps.score(),
        nps_ci95: analysis.nps.adjusted_wald(crate::nps::Z95),
        promoters: analysis.nps.promoters,
        passives: analysis.nps.passives,
        detractors: analysis.nps.detractors,
        model: encoder.name(),
        model_sha256: encoder.info().weights_sha256(&model_dir)?,
        precision: format!("{:?}", encoder.kind()),
        taxonomy: taxonomy.name.clone(),
        taxonomy_version: taxonomy.version.clone(),
        sentiment_prototypes_version: prototypes.version.clone(),
        min_n: args.min_n,
        topic_threshold: settings.topic_threshold,
        texts_embedded: analysis.texts_embedded,
        embed_seconds: embed_s,
        texts_per_second: if embed_s > 0.0 {
            analysis.texts_embedded as f64 / embed_s
        } else {
            0.0
        },
        total_seconds: started.elapsed().as_secs_f64(),
    };
    out.write(
        "summary.json",
        serde_json::to_string_pretty(&summary)?.as_bytes(),
    )?;
    let target = out.commit()?;
    print_summary(&analysis, &summary, &taxonomy, &target);
    Ok(ExitCode::Success)
}

fn print_summary(a: &Analysis, s: &RunSummary, tax: &Taxonomy, target: &std::path::Path) {
    println!(
        "read {} = analysed {} + rejected {}",
        s.read, s.analysed, s.rejected
    );
    match (s.nps, s.nps_ci95) {
        (Some(nps), Some((lo, hi))) => println!(
            "NPS {nps:.1} (95% CI {lo:.1} to {hi:.1}; {} promoters, {} passives, {} detractors)",
            s.promoters, s.passives, s.detractors
        ),
        _ => println!("NPS: no scored responses"),
    }
    println!(
        "{} comments, {} texts embedded in {:.1}s ({:.0} texts/s, {})",
        s.with_comment, s.texts_embedded, s.embed_seconds, s.texts_per_second, s.model
    );
    let label = |id: &str| {
        tax.topics
            .iter()
            .find(|t| t.id == id)
            .map_or(id.to_string(), |t| t.display_label().to_string())
    };
    // Low scores: topics pulling NPS down, whether any mention or only the
    // negative ones; high scores likewise with the positive mentions.
    let pick = |low: bool| -> Vec<(&crate::drivers::Driver, DriverScope)> {
        let mut v: Vec<_> = a
            .drivers
            .iter()
            .filter(|t| {
                t.scope
                    != if low {
                        DriverScope::Positive
                    } else {
                        DriverScope::Negative
                    }
            })
            .flat_map(|t| {
                let list = if low { &t.ranking.low } else { &t.ranking.high };
                list.iter().map(move |d| (d, t.scope))
            })
            .collect();
        v.sort_by(|x, y| {
            let (a, b) = (x.0.impact.unwrap_or(0.0), y.0.impact.unwrap_or(0.0));
            if low {
                a.total_cmp(&b)
            } else {
                b.total_cmp(&a)
            }
        });
        v
    };
    for (title, low) in [
        ("Drivers of low scores", true),
        ("Drivers of high scores", false),
    ] {
        println!("{title} (impact on NPS, 95% CI, mentions):");
        let list = pick(low);
        if list.is_empty() {
            println!(
                "  none with an interval clear of 0 and at least {} mentions",
                s.min_n
            );
        }
        for (d, scope) in list.iter().take(6) {
            let name = match scope {
                DriverScope::Any => label(&d.topic),
                other => format!("{} ({})", label(&d.topic), other.as_str()),
            };
            println!(
                "  {:<40} {:>+6.1}  [{:+.1}, {:+.1}]  n={}",
                name,
                d.impact.unwrap_or(0.0),
                d.impact_ci_low.unwrap_or(0.0),
                d.impact_ci_high.unwrap_or(0.0),
                d.mentions
            );
        }
    }
    println!("results in {}", target.display());
}
