//! `verbatim analyze`: one pass over a survey export.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};

use super::progress::RunProgress;
use crate::aggregate::Period;
use crate::cache::{CachedEncoder, EmbeddingCache, ModelSpec};
use crate::classify::calibration::{self, CalibrationOrigin};
use crate::classify::head::{self, HeadOrigin};
use crate::classify::sentiment_model;
use crate::classify::{Classifier, ClassifierSettings, ModelSentiment, SentimentModel, Taxonomy};
use crate::config::{parse_value, FileConfig};
use crate::dates::find_date_column;
use crate::exit_codes::{ExitCode, WithCode};
use crate::input::{InputEncoding, InputFormat, InputOptions, ResponseStream, Scale};
use crate::model::manifest::{default_model_dir, sha256_file};
use crate::model::transformer::{DeviceChoice, EncoderOptions, ForwardImpl, TransformerEncoder};
use crate::model::{Encoder, Precision};
use crate::output::manifest::{
    CacheInfo, Counts, InputInfo, LeftOutColumn, ModelInfo, NpsInfo, RunManifest,
    SegmentColumnName, SentimentInfo, TaxonomyInfo, Thresholds, Timings, TopicsInfo,
};
use crate::output::run::{StreamingOutputs, TableFiles, BI_FORMATS};
use crate::output::tables;
use crate::output::OutputDir;
use crate::report::examples::ExampleCollector;
use crate::report::{render, ReportData};

mod driver_run {
    //! The driver-statistics settings of `analyze`, kept apart from the
    //! main flow.
    use anyhow::Result;

    use crate::bootstrap::BootstrapSettings;
    use crate::driver_stats::{is_team_column, AnalysisSettings, DriverCounts};

    /// Team columns: the `--team-column` flags, else the segment columns
    /// whose names read as agent, team or queue.
    pub fn team_columns(
        flags: &[String],
        segment_columns: &[String],
        date_column: Option<usize>,
    ) -> Result<Vec<usize>, String> {
        if flags.is_empty() {
            return Ok((0..segment_columns.len())
                .filter(|&i| Some(i) != date_column && is_team_column(&segment_columns[i]))
                .collect());
        }
        flags
            .iter()
            .map(|name| {
                segment_columns
                    .iter()
                    .position(|c| c == name)
                    .ok_or_else(|| {
                        format!(
                            "--team-column `{}` not found; the segment columns are: {}",
                            crate::input::escape_name(name),
                            crate::input::escape_name(&segment_columns.join(", "))
                        )
                    })
            })
            .collect()
    }

    /// Bootstrap and alert settings from the flags.
    pub fn settings(args: &super::Args, min_n: u64, fdr: f64) -> Result<AnalysisSettings> {
        let alert_z = args.alert_z.unwrap_or(crate::alerts::DEFAULT_Z);
        anyhow::ensure!(
            alert_z.is_finite() && alert_z > 0.0,
            "--alert-z {alert_z} must be a positive number"
        );
        let mut bootstrap = BootstrapSettings::default();
        if let Some(b) = args.bootstrap_replicates {
            bootstrap.replicates = b;
        }
        if let Some(seed) = args.seed {
            bootstrap.seed = seed;
        }
        Ok(AnalysisSettings {
            min_n,
            fdr,
            bootstrap,
            alert_z,
        })
    }

    /// Placeholder left in the pass result once its counts are taken.
    pub fn empty_counts() -> DriverCounts {
        DriverCounts::empty()
    }
}
use crate::pipeline::{run_pass, DriverScope, PassResult, PassSettings, SegmentChoice};

/// Analyse a survey export (CSV with a header): sentiment and topics per
/// comment, NPS, and the topics that drive low and high scores.
///
/// Writes into --out, each table as Parquet and CSV: fact_response (one row
/// per response), bridge_response_topic (response × topic), dim_topic,
/// agg_nps (NPS per segment and period, with intervals, comparisons and
/// Benjamini–Hochberg flags), topic_driver (with seeded bootstrap intervals),
/// key_driver, driver_change, segment_driver, team_view, followup (call-back
/// list by churn risk) and alerts; plus rejects.csv (rows that
/// could not be read, with file, line, column and reason) and manifest.json.
/// The folder is replaced as a whole at the end, so a failed run leaves the
/// previous results untouched.
///
/// Memory stays flat in the number of rows (the input is read, analysed and
/// written in chunks); speed is set by the encoder: a larger --batch-tokens packs more
/// short comments per forward pass at the cost of memory, and --threads
/// defaults to all cores.
///
/// Nightly reruns over a growing export: --cache FILE keeps every vector the
/// encoder made in an SQLite file, so a rerun only embeds the comments it has
/// not seen; a rerun that reads its vectors from the cache writes the same
/// tables as the run that stored them. The file grows by about 2 KiB per
/// distinct comment or clause with the default model; `verbatim cache prune
/// --older-than 30d` trims it.
///
/// Example: verbatim analyze export.csv --out results --score-column Score --text-column Comment
#[derive(clap::Args, Debug)]
#[command(verbatim_doc_comment, args_override_self = true)]
pub struct Args {
    /// Survey export: CSV or TSV with a header row (comma, semicolon or tab), or JSON Lines; `-` reads standard input (a pipe is copied to a temporary file beside --out first).
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
    /// Column with the response date or date-time [default: found by name: date, responded_at, RecordedDate, Datum…]
    #[arg(long)]
    pub date_column: Option<String>,
    /// Segment column for NPS aggregates; repeat for several [default: every other column with at most 100 distinct values, except columns of personal data: e-mail addresses, phone numbers, names, free text]
    #[arg(long = "segment-column")]
    pub segment_columns: Vec<String>,
    /// Periods of the NPS aggregates, comma-separated: day, week, month, quarter [default: week,month,quarter]
    #[arg(long, value_delimiter = ',')]
    pub periods: Option<Vec<Period>>,
    /// False discovery rate for the Benjamini–Hochberg flags of agg_nps [default: 0.05]
    #[arg(long)]
    pub fdr: Option<f64>,
    /// Config file with the column mapping and settings (see the README); flags win over it.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Exit with code 3 (after writing the outputs) when more than this share of rows is rejected, e.g. 0.05.
    #[arg(long)]
    pub max_reject_rate: Option<f64>,
    /// Input format: csv or jsonl [default: jsonl for .jsonl/.ndjson or a file starting with `{`, else csv]
    #[arg(long)]
    pub format: Option<InputFormat>,
    /// Text encoding: UTF-8, UTF-16LE, UTF-16BE or windows-1252 [default: detected from a byte-order mark or the bytes]
    #[arg(long)]
    pub encoding: Option<InputEncoding>,
    /// Answer scale of the score column: 0-10, 1-5 or 1-10 (mapped onto 0-10; never guessed) [default: 0-10]
    #[arg(long)]
    pub scale: Option<Scale>,
    /// Field delimiter, one character [default: detected among , ; tab |]
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
    /// Implementation of the transformer layers: verbatim's fused pass, or rust-bert's modules.
    #[arg(long, value_enum, default_value = "fused")]
    pub forward: ForwardImpl,
    /// Drivers with fewer mentions, and NPS aggregates with fewer responses, are computed but marked suppressed [default: 30]
    #[arg(long)]
    pub min_n: Option<u64>,
    /// Topic confidence a comment needs to mention a topic, overriding every topic's threshold: a probability (0–1) under a topic calibration, the cosine to the topic's examples under the similarity rule [default: each topic's calibrated threshold; 0.85 under the similarity rule]
    #[arg(long)]
    pub topic_threshold: Option<f32>,
    /// Topic calibration from `verbatim train topics` [default: the one shipped for the taxonomy and model, if any; else the uncalibrated similarity rule, with a warning]
    #[arg(long)]
    pub topic_calibration: Option<PathBuf>,
    /// Sentiment head from `verbatim train sentiment` [default: the one shipped for the default model; for another model, one fitted at start-up on the shipped examples]
    #[arg(long)]
    pub sentiment_head: Option<PathBuf>,
    /// Fine-tuned Hugging Face sequence-classification folder (BERT, XLM-RoBERTa, RoBERTa, CamemBERT or DistilBERT; config.json with id2label, model.safetensors, tokenizer.json) to take sentiment from instead of the head; classes are mapped by name (negative/neutral/positive, neg/neu/pos, bad/mixed/good, 1–5 stars). Runs with --precision, --device and --batch-tokens.
    #[arg(long, conflicts_with = "sentiment_head")]
    pub sentiment_model: Option<PathBuf>,
    /// Polarity of each class of --sentiment-model, in class-id order, for a model whose id2label says LABEL_0, LABEL_1…: e.g. neg,neu,pos
    #[arg(long, value_delimiter = ',', requires = "sentiment_model")]
    pub sentiment_labels: Vec<String>,
    /// Do not mask personal data (names, phone numbers, e-mail addresses, IBANs, card and customer numbers) in the comments that the report and the follow-up file show, nor the values of columns of personal data in the tables. Masking is on by default.
    #[arg(long, conflicts_with = "redact")]
    pub no_redact: bool,
    /// Mask personal data everywhere comment text leaves this run, also in the raw records of rejects.csv (the report and the follow-up table are masked by default).
    #[arg(long)]
    pub redact: bool,
    /// Team, agent or queue column for team_view (praised for / coaching); repeat for several [default: segment columns named agent, agent_name, team, queue, employee, mitarbeiter…]
    #[arg(long = "team-column")]
    pub team_columns: Vec<String>,
    /// Alert when a topic's share of mentions or net sentiment in the last period is this many standard errors from its history [default: 3]
    #[arg(long)]
    pub alert_z: Option<f64>,
    /// Exit with code 8 (after writing the outputs) when an alert fires.
    #[arg(long)]
    pub fail_on_alert: bool,
    /// Rows of the followup table (the highest churn risk; memory stays bounded) [default: 1000]
    #[arg(long)]
    pub followup_limit: Option<usize>,
    /// Bootstrap replicates of the driver intervals [default: 1000]
    #[arg(long)]
    pub bootstrap_replicates: Option<usize>,
    /// Seed of the bootstrap (reruns with the same seed give identical tables) [default: fixed]
    #[arg(long)]
    pub seed: Option<u64>,
    /// Embedding cache (SQLite file, made when missing, safe to delete): texts embedded by an earlier run with the same model and precision are read from it, not embedded again [default: none; `cache` in the config file]
    #[arg(long, env = "VERBATIM_CACHE")]
    pub cache: Option<PathBuf>,
    /// Do not use an embedding cache, even if --cache, VERBATIM_CACHE or the config file names one.
    #[arg(long)]
    pub no_cache: bool,
    /// No progress bar on stderr (there is none either when stderr is not a terminal).
    #[arg(long, short)]
    pub quiet: bool,
}

/// Flags merged over the config file, with the defaults filled in.
struct Settings {
    input: InputOptions,
    date_column: Option<String>,
    segment_columns: Vec<String>,
    periods: Vec<Period>,
    fdr: f64,
    min_n: u64,
    max_reject_rate: Option<f64>,
    taxonomy: Option<PathBuf>,
    topic_calibration: Option<PathBuf>,
    sentiment: SentimentChoice,
    model: PathBuf,
    cache: Option<PathBuf>,
}

/// Where sentiment comes from: flags first, else the config file, else the
/// head that ships (or is fitted at start-up).
#[derive(Debug, Clone, PartialEq)]
enum SentimentChoice {
    Head(Option<PathBuf>),
    Model { dir: PathBuf, labels: Vec<String> },
}

fn settings(args: &Args) -> Result<Settings> {
    let cfg = match &args.config {
        Some(p) => FileConfig::read(p)?,
        None => FileConfig::default(),
    };
    let cfg_path = args.config.clone().unwrap_or_default();
    let (i, a) = (&cfg.input, &cfg.analysis);
    let delimiter = match args.delimiter.or(i.delimiter) {
        Some(c) if c.is_ascii() => Some(c as u8),
        Some(c) => anyhow::bail!("--delimiter `{c}` must be one ASCII character"),
        None => None,
    };
    let encoding = match (args.encoding, &i.encoding) {
        (Some(e), _) => Some(e),
        (None, Some(v)) => Some(parse_value::<InputEncoding>(&cfg_path, "encoding", v)?),
        _ => None,
    };
    let format = match (args.format, &i.format) {
        (Some(f), _) => Some(f),
        (None, Some(v)) => Some(parse_value::<InputFormat>(&cfg_path, "format", v)?),
        _ => None,
    };
    let scale = match (args.scale, &i.scale) {
        (Some(s), _) => Some(s),
        (None, Some(v)) => Some(parse_value::<Scale>(&cfg_path, "scale", v)?),
        _ => None,
    };
    let periods = match (&args.periods, &a.periods) {
        (Some(p), _) => p.clone(),
        (None, Some(v)) => v
            .iter()
            .map(|p| parse_value::<Period>(&cfg_path, "periods", p))
            .collect::<Result<_>>()?,
        _ => vec![Period::Week, Period::Month, Period::Quarter],
    };
    let max_reject_rate = args.max_reject_rate.or(a.max_reject_rate);
    if let Some(r) = max_reject_rate {
        anyhow::ensure!(
            (0.0..=1.0).contains(&r),
            "--max-reject-rate {r} must be between 0 and 1"
        );
    }
    Ok(Settings {
        input: InputOptions {
            score_column: args.score_column.clone().or(i.score_column.clone()),
            text_column: args.text_column.clone().or(i.text_column.clone()),
            id_column: args.id_column.clone().or(i.id_column.clone()),
            delimiter,
            encoding,
            format,
            scale,
        },
        date_column: args.date_column.clone().or(i.date_column.clone()),
        segment_columns: if args.segment_columns.is_empty() {
            i.segment_columns.clone()
        } else {
            args.segment_columns.clone()
        },
        periods,
        fdr: args.fdr.or(a.fdr).unwrap_or(0.05),
        min_n: args.min_n.or(a.min_n).unwrap_or(30),
        max_reject_rate,
        taxonomy: args.taxonomy.clone().or(a.taxonomy.clone()),
        topic_calibration: args
            .topic_calibration
            .clone()
            .or(a.topic_calibration.clone()),
        // A sentiment flag replaces the file's choice whole: a head on the
        // command line does not inherit the file's model, nor its labels.
        sentiment: match (&args.sentiment_model, &args.sentiment_head) {
            (Some(dir), _) => SentimentChoice::Model {
                dir: dir.clone(),
                labels: args.sentiment_labels.clone(),
            },
            (None, Some(h)) => SentimentChoice::Head(Some(h.clone())),
            (None, None) => match &a.sentiment_model {
                Some(dir) => SentimentChoice::Model {
                    dir: dir.clone(),
                    labels: a.sentiment_labels.clone().unwrap_or_default(),
                },
                None => SentimentChoice::Head(a.sentiment_head.clone()),
            },
        },
        model: args
            .model
            .clone()
            .or(a.model.clone())
            .unwrap_or_else(default_model_dir),
        cache: if args.no_cache {
            None
        } else {
            args.cache.clone().or(a.cache.clone())
        },
    })
}

/// Runs `verbatim analyze`.
pub fn run(args: Args) -> Result<ExitCode> {
    let started = Instant::now();
    let now = chrono::Utc::now();
    let started_at = now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let set = settings(&args).code(ExitCode::Usage)?;
    let taxonomy = match &set.taxonomy {
        Some(p) => Taxonomy::from_file(p).code(ExitCode::Usage)?,
        None => Taxonomy::default_contact_center(),
    };
    // Fail on the input and the output folder before the slow model load.
    // The input is read twice (rows, then its checksum for the manifest), so
    // a pipe, a device or `-` (standard input) is first read once into a
    // temporary file beside the output folder.
    let spooled = spool(&args.input, &args.out)?;
    let name = if args.input == Path::new("-") {
        PathBuf::from("stdin")
    } else {
        args.input.clone()
    };
    let input_path = spooled.as_ref().map_or(args.input.as_path(), |t| t.path());
    let mut stream = ResponseStream::open_named(input_path, &name, &set.input)?;
    let source = name.display().to_string();
    let segment_columns = stream.segment_columns().to_vec();
    let date_column = find_date_column(&segment_columns, set.date_column.as_deref())
        .map_err(|e| anyhow::anyhow!("{source}: {e}"))
        .code(ExitCode::Usage)?;
    let segments = if set.segment_columns.is_empty() {
        SegmentChoice::Auto { max_values: 100 }
    } else {
        let mut idx = Vec::new();
        for name in &set.segment_columns {
            let i = segment_columns
                .iter()
                .position(|c| c == name)
                .with_context(|| {
                    format!(
                        "{source}: --segment-column `{}` not found; the segment columns are: {}",
                        crate::input::escape_name(name),
                        crate::input::escape_name(&segment_columns.join(", "))
                    )
                })
                .code(ExitCode::Usage)?;
            idx.push(i);
        }
        SegmentChoice::Columns(idx)
    };
    let mut team_columns =
        driver_run::team_columns(&args.team_columns, &segment_columns, date_column)
            .map_err(|e| anyhow::anyhow!("{source}: {e}"))?;
    // Columns of personal data, told from the first rows (kept, and read
    // again by the pass): no automatic segments, masked in the tables.
    let head = read_head(&mut stream, PROFILE_ROWS);
    let personal = personal_columns(&head, &segment_columns, date_column, &args.team_columns);
    let named: Vec<usize> = match &segments {
        SegmentChoice::Columns(c) => c.clone(),
        SegmentChoice::Auto { .. } => Vec::new(),
    };
    if args.team_columns.is_empty() {
        team_columns.retain(|c| !personal.iter().any(|p| p.0 == *c));
    }
    let left_out: Vec<(usize, crate::redact::PersonalColumn)> = personal
        .iter()
        .copied()
        .filter(|(c, _)| {
            !named.contains(c) && (args.team_columns.is_empty() || !team_columns.contains(c))
        })
        .collect();
    if !left_out.is_empty() {
        eprintln!(
            "note: columns left out of the segments as their values look like personal data{}: {}; name one with --segment-column to use it anyway",
            if args.no_redact { "" } else { " (masked in fact_response and followup)" },
            left_out
                .iter()
                .map(|(c, k)| format!("`{}` ({})", crate::input::escape_name(&segment_columns[*c]), k.short()))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let drivers_set = driver_run::settings(&args, set.min_n, set.fdr)?;
    // A calibration file that cannot be used at all fails before the slow
    // model load; whether it fits the model is checked once it is loaded.
    if let Some(p) = &set.topic_calibration {
        calibration::TopicCalibration::load(p).code(ExitCode::Usage)?;
    }
    let input_sha256 = sha256_file(input_path).code(ExitCode::Input)?;
    let out = OutputDir::create(&args.out)?;
    let cache = match &set.cache {
        Some(p) => Some(EmbeddingCache::open(p).map_err(super::cache::coded)?),
        None => None,
    };

    let enc_opts = EncoderOptions {
        precision: args.precision,
        threads: args.threads,
        token_budget: args.batch_tokens,
        prefix: None,
        device: args.device,
        forward: args.forward,
    };
    let encoder = TransformerEncoder::load(&set.model, &enc_opts)
        .code(ExitCode::Model)
        .with_context(|| format!("loading the model from {} (--model)", set.model.display()))?;
    let mut cls_settings = ClassifierSettings::default();
    if let Some(t) = args.topic_threshold {
        cls_settings.topic_threshold = t;
    }
    let weights_sha256 = encoder
        .info()
        .weights_sha256(&set.model)
        .code(ExitCode::Model)?;
    let cached = match &cache {
        Some(c) => {
            let spec =
                ModelSpec::of_transformer(&encoder, enc_opts.prefix.as_deref(), &weights_sha256);
            Some(CachedEncoder::new(&encoder, c, &spec).map_err(super::cache::coded)?)
        }
        None => None,
    };
    // The sentiment head fitted at start-up and the taxonomy's examples go
    // through the cache too; the counts reported are those of the pass.
    let embedder: &dyn Encoder = match &cached {
        Some(c) => c,
        None => &encoder,
    };
    let (sentiment, sentiment_info) = match &set.sentiment {
        SentimentChoice::Model { dir, labels } => {
            let m = load_sentiment_model(dir, labels, &enc_opts)?;
            let info = SentimentInfo::Model(m.info.clone());
            (SentimentModel::Model(Box::new(m)), info)
        }
        SentimentChoice::Head(path) => {
            let (head, origin) = head::resolve(embedder, &weights_sha256, path.as_deref())?;
            if let HeadOrigin::FittedAtStart { rows, seconds } = &origin {
                if !args.quiet {
                    eprintln!(
                        "no saved sentiment head for this model: fitted one on {rows} shipped examples in {seconds:.1} s (save one with `verbatim train sentiment`)"
                    );
                }
            }
            let info = SentimentInfo::Head {
                origin,
                provenance: head.provenance.clone(),
                temperature: head.temperature,
            };
            (SentimentModel::Head(Box::new(head)), info)
        }
    };
    let (topic_calibration, calibration_origin) =
        calibration::resolve(&taxonomy, &weights_sha256, set.topic_calibration.as_deref())
            .code(ExitCode::Usage)?;
    if let CalibrationOrigin::None { reason } = &calibration_origin {
        if !args.quiet {
            eprintln!("warning: {reason}");
        }
    }
    let topics_info = TopicsInfo::new(
        calibration_origin,
        topic_calibration.as_ref(),
        args.topic_threshold,
    );
    let mut classifier = Classifier::build(embedder, sentiment, &taxonomy, cls_settings)
        .code(ExitCode::Model)
        .with_context(|| format!("running the model from {} (--model)", set.model.display()))?;
    if let Some(c) = topic_calibration {
        classifier = classifier
            .with_topic_calibration(c, args.topic_threshold)
            .code(ExitCode::Usage)?;
    }

    let bar = RunProgress::new(args.quiet, stream.byte_progress());
    let mut progress = |done: u64| bar.update(done);
    let pass = PassSettings {
        min_n: set.min_n,
        date_column,
        periods: set.periods.clone(),
        segments,
        fdr: set.fdr,
        team_columns,
        followup_limit: args
            .followup_limit
            .unwrap_or(crate::followup::DEFAULT_LIMIT),
        redact: !args.no_redact,
        not_segments: left_out.iter().map(|p| p.0).collect(),
        masked_columns: if args.no_redact {
            Vec::new()
        } else {
            left_out.clone()
        },
        ..Default::default()
    };
    let columns = stream.columns().clone();
    let read_as = (
        stream.format(),
        stream.encoding(),
        stream.delimiter(),
        stream.scale(),
    );
    let run_id = format!("{}-{}", now.format("%Y%m%dT%H%M%SZ"), &input_sha256[..8]);
    let topic_ids: Vec<String> = taxonomy.topics.iter().map(|t| t.id.clone()).collect();
    let sink = StreamingOutputs::create(
        &out,
        &source,
        &segment_columns,
        date_column,
        &run_id,
        &taxonomy,
    )?;
    let redactor = crate::redact::Redactor::new();
    let redact = !args.no_redact;
    let mask =
        |t: &str, part: std::ops::Range<usize>| report_comment_text(&redactor, redact, t, part);
    let sink = MaskedRejects {
        inner: sink,
        redactor: args.redact.then_some(&redactor),
    };
    let mut sink = ExampleCollector::new(sink, &taxonomy, 3, mask);
    let cache_before = cached.as_ref().map(CachedEncoder::counts);
    let segment_origins = stream.segment_origins();
    let mut result = run_pass(
        head.into_iter().chain(stream.by_ref()),
        &segment_columns,
        embedder,
        &classifier,
        &topic_ids,
        &pass,
        &mut sink,
        &mut progress,
    )
    .map_err(|e| writing(e, &out))?;
    drop(bar);
    let cache_info = cached.as_ref().zip(cache_before).map(|(c, before)| {
        let after = c.counts();
        CacheInfo {
            path: c.path().display().to_string(),
            hits: after.hits - before.hits,
            misses: after.misses - before.misses,
        }
    });
    let (examples, sink) = sink.finish();
    let sink = sink.inner;
    let mut table_info = sink.finish().map_err(|e| writing(e, &out))?;
    for t in [tables::dim_topic(&taxonomy), tables::agg_nps(&result.agg)] {
        table_info
            .push(TableFiles::write_whole(&out, &t, &BI_FORMATS).map_err(|e| writing(e, &out))?);
    }
    let counts = std::mem::replace(&mut result.counts, driver_run::empty_counts());
    let drivers = crate::driver_stats::analyse(counts, &topic_ids, &drivers_set);
    table_info.extend(crate::output::driver_tables::write_driver_tables(
        &out,
        &drivers,
        &result.drivers,
        &topic_ids,
        set.min_n,
        drivers_set.alert_z,
        &segment_columns,
        date_column,
    )?);

    let embed_s = result.embed_time.as_secs_f64();
    let reject_rate = if result.read == 0 {
        0.0
    } else {
        result.rejected as f64 / result.read as f64
    };
    let manifest = RunManifest {
        run_id,
        tool: format!("verbatim {}", env!("CARGO_PKG_VERSION")),
        started_at,
        finished_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        input: InputInfo {
            path: source,
            sha256: input_sha256,
            format: read_as.0.name().into(),
            encoding: read_as.1.name().into(),
            delimiter: (read_as.0 == InputFormat::Csv).then(|| (read_as.2 as char).to_string()),
            score_column: columns.score.clone(),
            text_column: columns.text.clone(),
            id_column: columns.id.clone(),
            date_column: date_column.map(|i| segment_columns[i].clone()),
            segment_columns: segment_columns.clone(),
            aggregated_segment_columns: result.agg_columns.clone(),
            scale: read_as.3.label().into(),
            left_out_columns: left_out_columns(
                &segment_columns,
                date_column,
                &left_out,
                &result.agg_columns,
                &named,
                !args.no_redact,
            ),
            segment_column_names: segment_origins
                .iter()
                .zip(&segment_columns)
                .zip(tables::segment_output_names(&segment_columns, date_column))
                .map(|(((position, header), name), output)| SegmentColumnName {
                    position: *position,
                    header: header.clone(),
                    name: name.clone(),
                    output,
                })
                .collect(),
        },
        counts: Counts {
            read: result.read,
            analysed: result.analysed,
            rejected: result.rejected,
            reject_rate,
            with_comment: result.with_comment,
            unparsed_dates: result.unparsed_dates,
            sentiment_mismatch: drivers.mismatches,
            followup_candidates: drivers.followup_candidates,
            followups: drivers.followups.len() as u64,
            alerts: drivers.alerts.len() as u64,
        },
        nps: NpsInfo {
            nps: result.nps.score(),
            ci95: result.nps.adjusted_wald(crate::nps::Z95),
            promoters: result.nps.promoters,
            passives: result.nps.passives,
            detractors: result.nps.detractors,
        },
        model: ModelInfo {
            name: encoder.name(),
            path: set.model.display().to_string(),
            sha256: weights_sha256.clone(),
            precision: format!("{:?}", encoder.kind()),
        },
        taxonomy: TaxonomyInfo {
            name: taxonomy.name.clone(),
            version: taxonomy.version.clone(),
            topics: taxonomy.topics.len(),
        },
        sentiment: sentiment_info,
        topics: topics_info,
        thresholds: Thresholds {
            min_n: set.min_n,
            fdr_q: set.fdr,
            max_reject_rate: set.max_reject_rate,
            topic_threshold: cls_settings.topic_threshold,
            topic_margin: cls_settings.topic_margin,
            topic_min_gap: cls_settings.topic_min_gap,
        },
        timings: Timings {
            texts_embedded: result.texts_embedded,
            embed_seconds: embed_s,
            texts_per_second: if embed_s > 0.0 {
                result.texts_embedded as f64 / embed_s
            } else {
                0.0
            },
            total_seconds: started.elapsed().as_secs_f64(),
        },
        cache: cache_info,
        tables: table_info,
    };
    out.write(
        "manifest.json",
        serde_json::to_string_pretty(&manifest)?.as_bytes(),
    )?;
    let report = ReportData::from_run(&result, &manifest, &taxonomy, examples);
    out.write("report.html", render(&report).as_bytes())?;
    let target = out.commit()?;
    print_summary(&result, &manifest, &taxonomy);
    if let Some(c) = &manifest.cache {
        eprintln!(
            "embedded {} new texts, {} from cache ({})",
            c.misses, c.hits, c.path
        );
    }
    print!(
        "{}",
        crate::output::driver_summary::driver_summary(&drivers, &|id: &str| taxonomy
            .topics
            .iter()
            .find(|t| t.id == id)
            .map_or(id.to_string(), |t| t.display_label().to_string()))
    );
    println!("results in {}", target.display());
    let truncated = stream.truncated_comments();
    if truncated > 0 {
        eprintln!(
            "note: {truncated} comments longer than {} characters were cut to that length",
            crate::input::MAX_COMMENT_CHARS
        );
    }
    if result.read > 0 && result.analysed == 0 {
        eprintln!(
            "error: all {} rows were rejected; see the reasons in {} (is `{}` the score \
             column? give another with --score-column)",
            result.read,
            target.join("rejects.csv").display(),
            columns.score
        );
        return Ok(ExitCode::TooManyRejects);
    }
    match set.max_reject_rate {
        Some(max) if reject_rate > max => {
            eprintln!(
                "error: {:.1}% of the rows were rejected, more than --max-reject-rate {:.1}%; see {}",
                100.0 * reject_rate,
                100.0 * max,
                target.join("rejects.csv").display()
            );
            Ok(ExitCode::TooManyRejects)
        }
        _ if args.fail_on_alert && !drivers.alerts.is_empty() => {
            eprintln!(
                "error: {} alert(s) fired and --fail-on-alert was given; see {}",
                drivers.alerts.len(),
                target.join("alerts.csv").display()
            );
            Ok(ExitCode::AlertsFired)
        }
        _ => Ok(ExitCode::Success),
    }
}

/// Reads a pipe, a device or `-` (standard input) once, into a hidden
/// temporary file in the folder of `out` (the export may not fit in memory,
/// and the output's disk has room for its tables); `None` for a regular file
/// or a path that does not open (the reader then names the problem). The
/// file is removed when the returned handle is dropped.
fn spool(input: &Path, out: &Path) -> Result<Option<tempfile::NamedTempFile>> {
    let stdin = input == Path::new("-");
    if !stdin {
        match std::fs::metadata(input) {
            Ok(m) if !m.is_file() && !m.is_dir() => {}
            _ => return Ok(None),
        }
    }
    let dir = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".verbatim-input-")
        .tempfile_in(dir)
        .with_context(|| {
            format!(
                "making a temporary copy of {} in {} (--out's folder)",
                input.display(),
                dir.display()
            )
        })
        .code(ExitCode::Output)?;
    let copied = if stdin {
        std::io::copy(&mut std::io::stdin().lock(), &mut tmp)
    } else {
        std::fs::File::open(input).and_then(|mut f| std::io::copy(&mut f, &mut tmp))
    };
    copied
        .and_then(|_| tmp.as_file().sync_data())
        .with_context(|| format!("reading {} into {}", input.display(), tmp.path().display()))
        .code(ExitCode::Input)?;
    Ok(Some(tmp))
}

/// Loads `--sentiment-model` with its `--sentiment-labels`: a bad flag value
/// is a usage error, a folder that cannot be used a model error.
pub(crate) fn load_sentiment_model(
    dir: &std::path::Path,
    labels: &[String],
    opts: &EncoderOptions,
) -> Result<ModelSentiment> {
    let labels = if labels.is_empty() {
        None
    } else {
        Some(sentiment_model::parse_flag(labels).code(ExitCode::Usage)?)
    };
    ModelSentiment::load(dir, labels.as_deref(), opts)
        .code(ExitCode::Model)
        .with_context(|| {
            format!(
                "loading the sentiment model from {} (--sentiment-model)",
                dir.display()
            )
        })
}

/// The text of the part `part` of a comment as it leaves the machine
/// (report): names, phone numbers, e-mail addresses, IBANs, card and
/// customer numbers found in the whole comment masked, unless the user
/// turned masking off.
fn report_comment_text(
    redactor: &crate::redact::Redactor,
    redact: bool,
    text: &str,
    part: std::ops::Range<usize>,
) -> String {
    if redact {
        redactor.redact_part(text, part)
    } else {
        text[part].to_string()
    }
}

/// Responses read to tell which columns hold personal data.
const PROFILE_ROWS: usize = 1000;

/// The first records of `stream`, up to `responses` responses (or the end,
/// or the first error, which ends the stream).
fn read_head(
    stream: &mut ResponseStream,
    responses: usize,
) -> Vec<Result<crate::input::Record, crate::input::InputError>> {
    let mut head = Vec::new();
    let mut n = 0;
    while n < responses {
        match stream.next() {
            None => break,
            Some(Err(e)) => {
                head.push(Err(e));
                break;
            }
            Some(Ok(r)) => {
                n += usize::from(matches!(r, crate::input::Record::Response(_)));
                head.push(Ok(r));
            }
        }
    }
    head
}

/// The segment columns (not the date column) whose values in `head` look
/// like personal data, with what they hold. Team columns (named by
/// `--team-column`, or named like one) may hold names: employees'.
fn personal_columns(
    head: &[Result<crate::input::Record, crate::input::InputError>],
    segment_columns: &[String],
    date_column: Option<usize>,
    team_flags: &[String],
) -> Vec<(usize, crate::redact::PersonalColumn)> {
    let redactor = crate::redact::Redactor::new();
    let responses: Vec<&crate::input::Response> = head
        .iter()
        .filter_map(|r| match r {
            Ok(crate::input::Record::Response(r)) => Some(r),
            _ => None,
        })
        .collect();
    (0..segment_columns.len())
        .filter(|&c| Some(c) != date_column)
        .filter_map(|c| {
            let name = &segment_columns[c];
            let team = team_flags.contains(name) || crate::driver_stats::is_team_column(name);
            let values: Vec<&str> = responses
                .iter()
                .map(|r| r.segments.get(c).map_or("", String::as_str))
                .collect();
            crate::redact::column_kind(&redactor, name, &values, team).map(|k| (c, k))
        })
        .collect()
}

/// The manifest's `left_out_columns`: the columns of personal data that are
/// no segment, and, when segments were chosen automatically, those dropped
/// for too many distinct values.
fn left_out_columns(
    segment_columns: &[String],
    date_column: Option<usize>,
    personal: &[(usize, crate::redact::PersonalColumn)],
    aggregated: &[String],
    named: &[usize],
    masked: bool,
) -> Vec<LeftOutColumn> {
    let mut out: Vec<LeftOutColumn> = personal
        .iter()
        .map(|(c, k)| LeftOutColumn {
            column: segment_columns[*c].clone(),
            reason: k.reason().to_string(),
            masked,
        })
        .collect();
    if named.is_empty() {
        for (c, name) in segment_columns.iter().enumerate() {
            if Some(c) != date_column
                && !personal.iter().any(|p| p.0 == c)
                && !aggregated.contains(name)
            {
                out.push(LeftOutColumn {
                    column: name.clone(),
                    reason: "more than 100 distinct values".to_string(),
                    masked: false,
                });
            }
        }
    }
    out
}

/// Forwards to `inner`, masking the raw records of rejects with `--redact`.
struct MaskedRejects<'r, S: crate::pipeline::PassSink> {
    inner: S,
    redactor: Option<&'r crate::redact::Redactor>,
}

impl<S: crate::pipeline::PassSink> crate::pipeline::PassSink for MaskedRejects<'_, S> {
    fn responses(&mut self, chunk: &[crate::pipeline::AnalyzedResponse]) -> Result<()> {
        self.inner.responses(chunk)
    }

    fn reject(&mut self, reject: &crate::input::Reject) -> Result<()> {
        match self.redactor {
            Some(r) => {
                let mut masked = reject.clone();
                masked.record = r.redact(&reject.record).text;
                self.inner.reject(&masked)
            }
            None => self.inner.reject(reject),
        }
    }
}

/// Says which folder could not be written, when an error is about writing.
fn writing(e: anyhow::Error, out: &OutputDir) -> anyhow::Error {
    if crate::exit_codes::code_of(&e) != ExitCode::Output {
        return e;
    }
    let target = out.target().display().to_string();
    e.context(format!(
        "writing the outputs for --out {target} (is the disk full?); the previous outputs are unchanged"
    ))
}

fn print_summary(a: &PassResult, m: &RunManifest, tax: &Taxonomy) {
    let c = &m.counts;
    println!(
        "read {} = analysed {} + rejected {}",
        c.read, c.analysed, c.rejected
    );
    match (m.nps.nps, m.nps.ci95) {
        (Some(nps), Some((lo, hi))) => println!(
            "NPS {nps:.1} (95% CI {lo:.1} to {hi:.1}; {} promoters, {} passives, {} detractors)",
            m.nps.promoters, m.nps.passives, m.nps.detractors
        ),
        _ => println!("NPS: no scored responses"),
    }
    let t = &m.timings;
    println!(
        "{} comments, {} texts embedded in {:.1}s ({:.0} texts/s, {})",
        c.with_comment, t.texts_embedded, t.embed_seconds, t.texts_per_second, m.model.name
    );
    let min_n = m.thresholds.min_n;
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
        println!("{title} (impact on NPS, 95% CI by the delta method, mentions):");
        let list = pick(low);
        if list.is_empty() {
            println!("  none with an interval clear of 0 and at least {min_n} mentions");
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: Args,
    }

    fn sentiment_of(config: &str, flags: &[&str]) -> SentimentChoice {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("verbatim.toml");
        std::fs::write(&cfg, config).unwrap();
        let mut argv = vec!["verbatim", "in.csv", "--config", cfg.to_str().unwrap()];
        argv.extend_from_slice(flags);
        let cli = Cli::try_parse_from(argv).unwrap();
        let s = settings(&cli.args).unwrap().sentiment;
        // Paths from the file are relative to its folder.
        match s {
            SentimentChoice::Head(Some(p)) => {
                SentimentChoice::Head(Some(p.strip_prefix(dir.path()).unwrap_or(&p).into()))
            }
            SentimentChoice::Model { dir: m, labels } => SentimentChoice::Model {
                dir: m.strip_prefix(dir.path()).unwrap_or(&m).into(),
                labels,
            },
            other => other,
        }
    }

    #[test]
    fn the_sentiment_source_comes_from_flags_then_the_config_file() {
        let model = "[analysis]\nsentiment_model = \"m\"\nsentiment_labels = [\"neg\", \"pos\"]\n";
        assert_eq!(
            sentiment_of(model, &[]),
            SentimentChoice::Model {
                dir: "m".into(),
                labels: vec!["neg".into(), "pos".into()]
            }
        );
        // A head on the command line replaces the file's model whole.
        assert_eq!(
            sentiment_of(model, &["--sentiment-head", "h.json"]),
            SentimentChoice::Head(Some("h.json".into()))
        );
        // A model on the command line does not take the file's labels.
        assert_eq!(
            sentiment_of(model, &["--sentiment-model", "other"]),
            SentimentChoice::Model {
                dir: "other".into(),
                labels: vec![]
            }
        );
        assert_eq!(
            sentiment_of("[analysis]\nsentiment_head = \"h.json\"\n", &[]),
            SentimentChoice::Head(Some("h.json".into()))
        );
        assert_eq!(sentiment_of("", &[]), SentimentChoice::Head(None));
    }
}
