//! `verbatim train`: fit a sentiment head on labelled comments.

use std::path::PathBuf;

use anyhow::{Context, Result};

use super::encoder_args::EncoderArgs;
use crate::classify::head::{self, read_labelled_csv, Labelled, TrainInput, TrainingSource};
use crate::classify::Polarity;
use crate::exit_codes::ExitCode;
use crate::model::manifest::sha256_bytes;
use crate::model::Encoder;

/// Arguments of `verbatim train`.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    pub task: Task,
}

/// What to train.
#[derive(clap::Subcommand, Debug)]
pub enum Task {
    /// Fit a sentiment head (negative / neutral / positive) on labelled comments.
    ///
    /// Reads CSV files with a header, a text column and a label column
    /// (negative, neutral, positive; also negativ/positiv, neg/pos, -1/0/1).
    /// Chooses the L2 penalty by 5-fold cross-validation, calibrates a softmax
    /// temperature on the held-out predictions, fits on all rows and writes a
    /// JSON head with its provenance: the model's weights checksum, each
    /// training file's sha256 and row count, the chosen penalty and the
    /// cross-validated macro-F1. `verbatim analyze --sentiment-head FILE` uses it.
    ///
    /// Without --data, fits on the project's own examples (models/sentiment/train).
    ///
    /// Example: verbatim train sentiment --data labelled.csv --out my-head.json
    Sentiment {
        /// Labelled CSV file; repeat for several [default: the shipped examples]
        #[arg(long = "data")]
        data: Vec<PathBuf>,
        /// Column with the text.
        #[arg(long, default_value = "text")]
        text_column: String,
        /// Column with the label.
        #[arg(long, default_value = "label")]
        label_column: String,
        /// Where to write the head (JSON).
        #[arg(long, short)]
        out: PathBuf,
        /// Cross-validation folds.
        #[arg(long, default_value_t = 5)]
        folds: usize,
        #[command(flatten)]
        encoder: EncoderArgs,
    },
}

/// Runs `verbatim train`.
pub fn run(args: Args) -> Result<ExitCode> {
    match args.task {
        Task::Sentiment {
            data,
            text_column,
            label_column,
            out,
            folds,
            encoder,
        } => {
            let (rows, sources) = if data.is_empty() {
                head::default_training()?
            } else {
                let mut rows: Vec<Labelled> = Vec::new();
                let mut sources = Vec::new();
                for p in &data {
                    let bytes =
                        std::fs::read(p).with_context(|| format!("reading {}", p.display()))?;
                    let text = String::from_utf8(bytes.clone())
                        .with_context(|| format!("{}: not UTF-8", p.display()))?;
                    let file = p.display().to_string();
                    let r = read_labelled_csv(&text, &file, &text_column, &label_column)?;
                    sources.push(TrainingSource {
                        file,
                        sha256: sha256_bytes(&bytes),
                        rows: r.len(),
                    });
                    rows.extend(r);
                }
                (rows, sources)
            };
            let loaded = encoder.load()?;
            let embedder = loaded.embedder()?;
            eprintln!(
                "embedding {} labelled texts with {}",
                rows.len(),
                loaded.encoder.name()
            );
            let texts: Vec<&str> = rows.iter().map(|r| r.text.as_str()).collect();
            let vectors = embedder.embed(&texts)?;
            let labels: Vec<Polarity> = rows.iter().map(|r| r.label).collect();
            let head = head::train(
                TrainInput {
                    vectors: &vectors,
                    labels: &labels,
                    sources,
                    model: loaded.encoder.name(),
                    model_sha256: loaded.weights_sha256.clone(),
                },
                folds,
            )?;
            head.save(&out)?;
            let p = &head.provenance;
            println!(
                "wrote {}: {} rows {:?}, alpha {}, temperature {:.3}, cross-validated macro-F1 {:.3}, log-loss {:.3}",
                out.display(),
                labels.len(),
                p.rows_per_class,
                p.alpha,
                head.temperature,
                p.cv_macro_f1.unwrap_or(f64::NAN),
                p.cv_log_loss.unwrap_or(f64::NAN)
            );
            Ok(ExitCode::Success)
        }
    }
}
