//! `verbatim train`: fit a sentiment head or a topic calibration on labelled
//! comments, or pick the comments of an export to label (`suggest`).

use std::path::PathBuf;

use anyhow::{Context, Result};

use super::encoder_args::{count_in, number_in, one_of, EncoderArgs};
use crate::classify::calibration::{self, FitSettings, TopicCalibration};
use crate::classify::finetune::{self, MustGates};
use crate::classify::head::{self, read_labelled_csv, TrainInput, TrainingSource};
use crate::classify::topics::TopicModel;
use crate::classify::{ClassifierSettings, Polarity, Taxonomy};
use crate::exit_codes::{ExitCode, WithCode};
use crate::model::manifest::sha256_bytes;
use crate::model::tuned::TrainSettings;
use crate::model::{Encoder, Precision};

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
    Sentiment(SentimentArgs),
    /// Calibrate topic decisions on comments labelled with topic ids.
    ///
    /// Reads CSV files with a header, a text column and a column of topic ids
    /// joined by --label-sep (empty or `none`: the comment has no topic).
    /// For each topic, fits a logistic regression from the similarity
    /// features of the comment's closest clause (cosine to the topic's
    /// examples, its gap to the clause's mean and to the best other topic,
    /// and a keyword hit) to a probability, and chooses the topic's threshold
    /// by stratified k-fold cross-validation (best F1 on held-out rows,
    /// shrunk towards one global threshold for topics with few positives).
    /// Writes a JSON calibration with its provenance: the taxonomy's name,
    /// version and sha256, the model's weights sha256, each training file's
    /// sha256, and the nested cross-validated micro- and macro-F1 next to the
    /// uncalibrated similarity rule's on the same rows. `verbatim analyze
    /// --topic-calibration FILE` uses it.
    ///
    /// Without --data, fits a built-in taxonomy (contact-center, or
    /// employee with --taxonomy models/taxonomy/employee.toml) on the
    /// project's own labelled comments (models/taxonomy/train/NAME).
    /// Embedding is the slow part: about as long as analysing as many comments.
    ///
    /// With --fine-tune K it trains the encoder instead: copies of its top K
    /// layers and a multi-label sigmoid head over the taxonomy's topics (on
    /// the mean-pooled vector), with AdamW on the labelled comments plus the
    /// taxonomy's example phrases (each labelled with its topic), seeded.
    /// The layers below stay frozen and run once per training text. The
    /// decision threshold (one probability for all topics) maximises micro
    /// F0.5 (--beta) on out-of-fold predictions of the labelled comments (--folds,
    /// default 3 here; each fold is a training run; --folds 0: no
    /// cross-validation, threshold 0.5). --out is then a folder:
    /// topics.safetensors (the K layers, weight matrices in int8, the head) and
    /// topic-model.json (taxonomy and encoder checksums, training files,
    /// settings, threshold, held-out scores, and whether the taxonomy's
    /// `must` keywords gate its topics: --must-gates, by default gated only
    /// where that scores better on the out-of-fold predictions). `verbatim
    /// analyze --topic-model DIR` uses it, sharing the frozen layers with the
    /// encoder's own pass. Small label sets get more epochs (at least 400
    /// steps) unless --epochs is given.
    /// Runs in float32 on --threads (default 2 here).
    ///
    /// Example: verbatim train topics --taxonomy my-topics.toml --data labelled.csv --out my-calibration.json
    /// Example: verbatim train topics --fine-tune --out my-topic-model
    Topics(TopicsArgs),
    /// Pick the comments of an export whose topic labels would teach a calibration most, into a CSV to label.
    ///
    /// Reads the export as `analyze` does (no score needed), scores every
    /// comment with the current topic rule (the --topic-calibration, the one
    /// shipped for the taxonomy, or else the similarity rule) and writes
    /// --n comments to label: three quarters near the topics' decision
    /// boundaries (per topic, the comments ranked just above and below the
    /// last one the rule assigns; topics take turns, so rare topics get
    /// their share) and a quarter at random. Comments are deduplicated;
    /// placeholders ("n/a") and the texts of --exclude files are skipped.
    ///
    /// The CSV has the columns id, text and topics; every `topics` cell says
    /// `?`. Replace it with the comment's topic ids joined by `|`, or `none`;
    /// rows still saying `?` are left out by `train topics`, so labelling may
    /// stop anywhere. Then fit with `verbatim train topics --taxonomy FILE
    /// --data FILE --out calibration.json`, and for a next round run
    /// suggest again with --topic-calibration calibration.json --exclude
    /// FILE. The file is blind: it shows no topic the model proposed.
    /// An existing --out file is never overwritten (labels are work).
    ///
    /// Example: verbatim train suggest export.csv --taxonomy my-topics.toml --n 200 --out to-label.csv
    Suggest(super::suggest::Args),
}

/// Arguments of `verbatim train sentiment`.
#[derive(clap::Args, Debug)]
pub struct SentimentArgs {
    /// Labelled CSV file; repeat for several [default: the shipped examples]
    #[arg(long = "data")]
    pub data: Vec<PathBuf>,
    /// Column with the text.
    #[arg(long, default_value = "text")]
    pub text_column: String,
    /// Column with the label.
    #[arg(long, default_value = "label")]
    pub label_column: String,
    /// Where to write the head (JSON).
    #[arg(long, short)]
    pub out: PathBuf,
    /// Cross-validation folds, 2 to 100.
    #[arg(long, default_value_t = 5, value_parser = count_in(2, 100))]
    pub folds: usize,
    #[command(flatten)]
    pub encoder: EncoderArgs,
}

/// Arguments of `verbatim train topics`.
#[derive(clap::Args, Debug)]
pub struct TopicsArgs {
    /// Labelled CSV file; repeat for several [default: the shipped examples, built-in taxonomies only]
    #[arg(long = "data")]
    pub data: Vec<PathBuf>,
    /// Taxonomy TOML file [default: the built-in contact-center taxonomy]
    #[arg(long)]
    pub taxonomy: Option<PathBuf>,
    /// Column with the text.
    #[arg(long, default_value = "text")]
    pub text_column: String,
    /// Column with the topic ids.
    #[arg(long, default_value = "topics")]
    pub label_column: String,
    /// Separator of several topic ids in one cell.
    #[arg(long, default_value = "|")]
    pub label_sep: String,
    /// Where to write the calibration (JSON), or with --fine-tune the topic-model folder.
    #[arg(long, short)]
    pub out: PathBuf,
    /// Cross-validation folds, 2 to 100 (with --fine-tune also 0: none) [default: 5; 3 with --fine-tune]
    #[arg(long, value_parser = count_in(0, 100))]
    pub folds: Option<usize>,
    /// The thresholds maximise F-β on held-out probabilities (a calibration's per topic, a fine-tuned model's one for all topics): 1 weighs precision and recall alike, below 1 favours precision (0.5: precision counts twice) [default: 0.7; 0.5 with --fine-tune]
    #[arg(long, value_parser = number_in(0.1, 10.0))]
    pub beta: Option<f64>,
    /// Fine-tune the encoder's top K layers and a topic head instead of fitting a calibration (see above); `--fine-tune` alone: K = 2, as the shipped topic model (benches/FINETUNE.md: on the blind dev sets K = 2 was more precise than K = 4 on all four, F1 within 0.05, at half the extra time per text)
    #[arg(long, value_name = "K", num_args = 0..=1, default_missing_value = "2", value_parser = count_in(1, 48))]
    pub fine_tune: Option<usize>,
    /// With --fine-tune: whether the taxonomy's `must` keywords gate the model's topics at analysis (its `exclude` keywords always do)
    #[arg(long, default_value = "auto", value_parser = one_of(&MustGates::ALL, MustGates::as_str, &[
        "gated only where that scores a better micro F-β (--beta) on the out-of-fold predictions of the labelled comments (gated with --folds 0)",
        "always gated (as the shipped topic model)",
        "never gated: the model alone decides",
    ]))]
    pub must_gates: MustGates,
    /// With --fine-tune: passes over the training rows [default: enough for 400 steps of 32 rows, 6 to 40: 6 from 2,134 rows (labelled comments and examples) up, 24 for 534]
    #[arg(long, value_parser = count_in(1, 1000))]
    pub epochs: Option<usize>,
    /// With --fine-tune: learning rate of the layers (the head's is 40 times it).
    #[arg(long, default_value_t = 5e-5)]
    pub lr: f64,
    /// With --fine-tune: seed of the head's initialisation and the shuffles.
    #[arg(long, default_value_t = 20261201)]
    pub seed: u64,
    #[command(flatten)]
    pub encoder: EncoderArgs,
}

/// Runs `verbatim train`.
pub fn run(args: Args) -> Result<ExitCode> {
    match args.task {
        Task::Topics(a) => train_topics(a),
        Task::Sentiment(a) => train_sentiment(a),
        Task::Suggest(a) => super::suggest::run(a),
    }
}

/// `verbatim train topics`.
fn train_topics(a: TopicsArgs) -> Result<ExitCode> {
    let tax = match &a.taxonomy {
        Some(p) => Taxonomy::from_file(p).code(ExitCode::Usage)?,
        None => Taxonomy::default_contact_center(),
    };
    let (rows, sources) = if a.data.is_empty() {
        anyhow::ensure!(
            [
                Taxonomy::default_contact_center(),
                Taxonomy::default_employee()
            ]
            .iter()
            .any(|b| b.sha256 == tax.sha256),
            "--data is needed: the shipped labelled comments are for the built-in taxonomies (contact-center, employee), not for `{}`{}",
            tax.name,
            match calibration::shipped_training(&tax) {
                // An edited copy of a built-in taxonomy: its own files fit it.
                Some(_) => format!(
                    " as edited in {} (its sha256 differs from the built-in file's); to fit it on the project's labelled comments, give each file: --data models/taxonomy/train/{}/de.csv --data …/en.csv …",
                    a.taxonomy.as_deref().map_or("?".into(), |p| p.display().to_string()),
                    tax.name
                ),
                None => String::new(),
            }
        );
        calibration::default_training(&tax)?
    } else {
        let mut skipped = 0usize;
        let read = read_training(&a.data, |text, file| {
            let r = calibration::read_topic_rows(
                text,
                file,
                &tax,
                &a.text_column,
                &a.label_column,
                &a.label_sep,
            )?;
            skipped += r.not_labelled;
            Ok(r.rows)
        })?;
        anyhow::ensure!(
            !read.0.is_empty() || skipped == 0,
            "no row is labelled yet: all {skipped} rows of --data say `{}` in column `{}`; replace it with the topic ids joined by `{}`, or `none`",
            calibration::NOT_LABELLED,
            a.label_column,
            a.label_sep
        );
        if skipped > 0 {
            eprintln!(
                "{skipped} rows still say `{}` in column `{}` (not labelled yet): left out, {} labelled rows used",
                calibration::NOT_LABELLED,
                a.label_column,
                read.0.len()
            );
        }
        read
    };
    if let Some(k) = a.fine_tune {
        return fine_tune(&a, k, &tax, rows, sources);
    }
    let folds = a.folds.unwrap_or(5);
    anyhow::ensure!(folds >= 2, "--folds {folds}: a calibration needs 2 to 100");
    let loaded = a.encoder.load()?;
    eprintln!(
        "embedding {} labelled comments with {}",
        rows.len(),
        loaded.encoder.name()
    );
    let topics = TopicModel::build(&loaded.encoder, &tax)?;
    let texts: Vec<&str> = rows.iter().map(|r| r.text.as_str()).collect();
    let labels: Vec<Vec<usize>> = rows.iter().map(|r| r.topics.clone()).collect();
    let scored = calibration::score_labelled(
        &texts,
        &labels,
        &loaded.encoder,
        &topics,
        &ClassifierSettings::default(),
    )?;
    let settings = FitSettings {
        folds,
        beta: a.beta.unwrap_or(calibration::DEFAULT_BETA),
        ..FitSettings::default()
    };
    let cal = calibration::train(
        calibration::TrainInput {
            rows: &scored.rows,
            taxonomy: &tax,
            sources,
            model: loaded.encoder.name(),
            model_sha256: loaded.weights_sha256.clone(),
            similarity_rule: Some(scored.similarity_rule),
        },
        &settings,
    )?;
    cal.save(&a.out)?;
    print_calibration(&a.out, &cal);
    Ok(ExitCode::Success)
}

/// `verbatim train topics --fine-tune K`.
fn fine_tune(
    a: &TopicsArgs,
    k: usize,
    tax: &Taxonomy,
    rows: Vec<calibration::TopicLabelled>,
    sources: Vec<TrainingSource>,
) -> Result<ExitCode> {
    let folds = a.folds.unwrap_or(3);
    anyhow::ensure!(
        folds != 1,
        "--folds 1: use 0 (no cross-validation) or 2 to 100"
    );
    let mut args = a.encoder.clone();
    args.precision = Precision::F32;
    args.threads = Some(args.threads.unwrap_or(2));
    let loaded = args.load()?;
    let settings = TrainSettings {
        layers: k,
        epochs: a.epochs.unwrap_or_else(|| {
            let examples: usize = tax.topics.iter().map(|t| t.all_examples().count()).sum();
            finetune::default_epochs(rows.len() + examples, TrainSettings::default().batch)
        }),
        lr: a.lr,
        head_lr: a.lr * 40.0,
        seed: a.seed,
        ..TrainSettings::default()
    };
    let meta = finetune::train(
        &loaded.encoder,
        finetune::FineTuneInput {
            rows: &rows,
            taxonomy: tax,
            sources,
            model_sha256: loaded.weights_sha256.clone(),
            folds,
            must_gates: a.must_gates,
            beta: a.beta.unwrap_or(finetune::DEFAULT_BETA),
        },
        &settings,
        &a.out,
    )?;
    print_topic_model(&a.out, &meta);
    Ok(ExitCode::Success)
}

/// What a fine-tuned topic model scored.
fn print_topic_model(out: &std::path::Path, m: &finetune::TopicModelFile) {
    println!(
        "wrote {}: top {} layers + topic head ({:.1} MB), {} labelled comments + {} examples, {} epochs, {:.0} s; threshold {:.2}",
        out.display(),
        m.settings.layers,
        m.weights_bytes as f64 / 1e6,
        m.labelled_rows,
        m.example_rows,
        m.settings.epochs,
        m.train_seconds,
        m.threshold
    );
    let Some(h) = &m.held_out else {
        return;
    };
    println!(
        "{}-fold out-of-fold on the labelled comments: micro precision {:.3}, recall {:.3}, F1 {:.3}",
        h.folds, h.micro_precision, h.micro_recall, h.micro_f1
    );
    for (id, [gold, pred, p, r, f]) in &h.per_topic {
        println!("  {id:<24} gold {gold:>4} pred {pred:>4}  P {p:.2} R {r:.2} F1 {f:.2}");
    }
}

/// What a fitted calibration scored, per topic.
fn print_calibration(out: &std::path::Path, cal: &TopicCalibration) {
    let p = &cal.provenance;
    println!(
        "wrote {}: {} rows ({} without a topic), {} topics; nested {}-fold cross-validation: micro-F1 {:.3}, macro-F1 {:.3} (similarity rule on the same rows: micro-F1 {:.3}, macro-F1 {:.3})",
        out.display(),
        p.rows,
        p.rows_without_topic,
        cal.topics.len(),
        p.folds,
        p.cv.micro_f1,
        p.cv.macro_f1,
        p.similarity_rule.map_or(f64::NAN, |s| s.micro_f1),
        p.similarity_rule.map_or(f64::NAN, |s| s.macro_f1),
    );
    for t in &cal.topics {
        let barred = match t.barred_positives {
            0 => String::new(),
            n => format!(
                "; {n} of its positives lack its `must` keywords, so the keyword rule bars them, or are generic verdicts (\"sehr gut\")"
            ),
        };
        let pooled = if t.pooled {
            format!(
                "  (pooled model: fewer than {} positives with its keywords{barred})",
                cal.provenance.min_positives
            )
        } else if t.barred_positives > 0 {
            format!("  ({})", barred.trim_start_matches("; "))
        } else {
            String::new()
        };
        println!(
            "  {:<24} positives {:>4}  threshold {:.3}{pooled}",
            t.id, t.positives, t.threshold
        );
    }
}

/// `verbatim train sentiment`.
fn train_sentiment(a: SentimentArgs) -> Result<ExitCode> {
    let (rows, sources) = if a.data.is_empty() {
        head::default_training()?
    } else {
        let mut mixed = 0usize;
        let read = read_training(&a.data, |text, file| {
            let r = read_labelled_csv(text, file, &a.text_column, &a.label_column)?;
            mixed += r.mixed;
            Ok(r.rows)
        })?;
        if mixed > 0 {
            eprintln!(
                "{mixed} rows labelled `{}` left out: the head has three classes (analyze flags mixed comments from their clauses)",
                head::MIXED
            );
        }
        read
    };
    let loaded = a.encoder.load()?;
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
        a.folds,
    )?;
    head.save(&a.out)?;
    let p = &head.provenance;
    println!(
        "wrote {}: {} rows {:?}, alpha {}, temperature {:.3}, cross-validated macro-F1 {:.3}, log-loss {:.3}",
        a.out.display(),
        labels.len(),
        p.rows_per_class,
        p.alpha,
        head.temperature,
        p.cv_macro_f1.unwrap_or(f64::NAN),
        p.cv_log_loss.unwrap_or(f64::NAN)
    );
    Ok(ExitCode::Success)
}

/// Reads labelled CSV files with `parse` (text, file name), keeping each
/// file's checksum and row count for the provenance of what is trained.
fn read_training<R>(
    data: &[PathBuf],
    mut parse: impl FnMut(&str, &str) -> Result<Vec<R>>,
) -> Result<(Vec<R>, Vec<TrainingSource>)> {
    let mut rows = Vec::new();
    let mut sources = Vec::new();
    for p in data {
        let bytes = std::fs::read(p).with_context(|| format!("reading {}", p.display()))?;
        let text =
            std::str::from_utf8(&bytes).with_context(|| format!("{}: not UTF-8", p.display()))?;
        let file = p.display().to_string();
        let r = parse(text, &file)?;
        sources.push(TrainingSource {
            file,
            sha256: sha256_bytes(&bytes),
            rows: r.len(),
        });
        rows.extend(r);
    }
    Ok((rows, sources))
}
