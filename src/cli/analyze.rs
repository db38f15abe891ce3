//! `verbatim analyze`: the flags, merged over the config file and checked
//! once into an [`AnalyzeConfig`]; the run itself is [`crate::app::analyze`].

use std::path::PathBuf;

use anyhow::Result;

use super::config::{parse_value, FileConfig};
use super::encoder_args::EncoderArgs;
use crate::app::analyze::{AnalyzeConfig, Masking, SentimentChoice, Survey, TopicModelChoice};
use crate::exit_codes::{ExitCode, WithCode};
use crate::input::dates::DateFormat;
use crate::input::{InputEncoding, InputFormat, InputOptions, Mode, Scale};
use crate::model::manifest::default_model_dir;
use crate::stats::aggregate::Period;
use crate::stats::bootstrap::BootstrapSettings;

/// Analyse a survey export (CSV with a header): sentiment and topics per
/// comment, NPS, and the topics that drive low and high scores.
///
/// Writes into --out, each table as Parquet and CSV: fact_response (one row
/// per response), bridge_response_topic (response × topic), dim_topic,
/// dim_date (every day from the first response date to the last; only the
/// dates that occur when they span over 100 years),
/// agg_nps (NPS per segment and period, with intervals, comparisons and
/// Benjamini–Hochberg flags), topic_driver (with seeded bootstrap intervals),
/// key_driver, driver_change, segment_driver, team_view, followup (call-back
/// list by churn risk) and alerts; plus rejects.csv (rows that
/// could not be read, with file, line, column and reason), views.sql (DuckDB
/// views over the Parquet files; run it from inside the folder) and
/// manifest.json.
/// The folder is replaced as a whole at the end, so a failed run leaves the
/// previous results untouched.
///
/// An export without a score (support tickets, an open question without
/// NPS): --no-score analyses topics, sentiment and their trend only
/// (agg_topic, alerts, the fact tables); the NPS and driver tables are
/// written without rows, and the manifest says so (mode: topics_only).
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
    #[arg(required_unless_present = "part_worker")]
    pub input: Option<PathBuf>,
    /// Largest input read from standard input, a pipe or a device, copied beside --out first: bytes, or with K, M, G, T (e.g. 20G) [default: half the free space of --out's folder]
    #[arg(long, value_parser = crate::app::spool::parse_size)]
    pub max_input_size: Option<u64>,
    /// Output folder (replaced as a whole when the run succeeds).
    #[arg(long, short, default_value = "verbatim-out")]
    pub out: PathBuf,
    /// Column with the 0–10 score [default: found by name: score, nps, rating…]
    #[arg(long)]
    pub score_column: Option<String>,
    /// The export has no score (support tickets, an open question without NPS): analyse topics, sentiment and their trend only. Every row with its fields is analysed (none is rejected for a score); NPS, drivers, ΔNPS and the call-back list are left out: agg_nps, topic_driver, key_driver, driver_change, segment_driver, team_view and followup are written with their columns and no rows, and manifest.json says so (mode: topics_only). Not with --score-column, --scale or --weight-column. Example: verbatim analyze tickets.csv --no-score --out results
    #[arg(long, conflicts_with_all = ["score_column", "scale", "weight_column"])]
    pub no_score: bool,
    /// Column with the comment [default: found by name: comment, text, feedback…]; repeat for several open questions ("what did we do well?", "what should we improve?"): each answer is analysed on its own, fact_answer and bridge_response_topic name its question, and the drivers count a topic once per response
    #[arg(long = "text-column")]
    pub text_column: Vec<String>,
    /// Column with a unique response id [default: found by name, else derived from the row]
    #[arg(long)]
    pub id_column: Option<String>,
    /// Column with the response date or date-time [default: found by name: date, responded_at, RecordedDate, Datum…, or a name that starts or ends with date, time, _at…; else a column whose values are dates]
    #[arg(long)]
    pub date_column: Option<String>,
    /// Column with a survey weight per response (a number ≥ 0, decimal point or comma): adds the weighted NPS, its interval with Kish's effective sample size, and the weight sum to agg_nps and the manifest; drivers and the other tables stay unweighted. A row whose weight is missing, not a number, negative or infinite is rejected. Example: --weight-column Weight
    #[arg(long, value_name = "NAME")]
    pub weight_column: Option<String>,
    /// The sheet of a spreadsheet export (.xlsx, .xlsm, .xlsb, .xls, .ods) [default: the first]
    #[arg(long)]
    pub sheet: Option<String>,
    /// How the date column is written: dmy (13/04/2018, 13.04.18 20:09), mdy (04/13/2018 8:09 PM), excel (serial days), unix (seconds), unix-ms, or a strftime pattern such as "%d/%m/%Y %H:%M"; ISO 8601 dates are read in every format but the last [default: decided from the column's values; an error when they cannot decide]
    #[arg(long)]
    pub date_format: Option<String>,
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
    #[command(flatten)]
    pub encoder: EncoderArgs,
    /// Taxonomy TOML file [default: the built-in contact-center taxonomy]
    #[arg(long)]
    pub taxonomy: Option<PathBuf>,
    /// Drivers with fewer mentions, and NPS aggregates with fewer responses, are computed but marked suppressed [default: 30]
    #[arg(long)]
    pub min_n: Option<u64>,
    /// Topic confidence a comment needs to mention a topic, overriding every topic's threshold: a probability (0–1) under a topic model or a topic calibration, the cosine to the topic's examples under the similarity rule [default: the topic model's threshold, from its topic-model.json; each topic's calibrated threshold; 0.85 under the similarity rule]
    #[arg(long)]
    pub topic_threshold: Option<f32>,
    /// Topic calibration from `verbatim train topics`; giving one also turns off the shipped topic model (--topic-model) [default: the one shipped for the taxonomy and model, if any; else the uncalibrated similarity rule, with a warning; for the default taxonomy and model the shipped topic model decides instead]
    #[arg(long)]
    pub topic_calibration: Option<PathBuf>,
    /// Fine-tuned topic model folder from `verbatim train topics --fine-tune K`: topics from its probabilities (best clause per topic, the taxonomy's keyword rules applied, threshold from the folder or --topic-threshold) instead of the calibration; the encoder's frozen layers are shared, so it costs K extra layers per text, not a second pass. Sentiment is unchanged. `none`: the calibration, also where the shipped model would apply [default: the model shipped for the default taxonomy and model (models/topic-model/contact-center-multilingual-e5-small, 2 layers), when both match and no --topic-calibration is given; else the calibration]
    #[arg(long, value_name = "DIR|none", conflicts_with = "topic_calibration")]
    pub topic_model: Option<PathBuf>,
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
    /// Who answered: customer (NPS) or employee (eNPS: the employee taxonomy by default, no churn signals or call-back list, every group below --min-n left empty in agg_nps and segment_driver) [default: customer]
    #[arg(long, value_enum)]
    pub survey: Option<Survey>,
    /// Rows of the followup table (the highest churn risk; memory stays bounded) [default: 1000]
    #[arg(long)]
    pub followup_limit: Option<usize>,
    /// Bootstrap replicates of the driver intervals [default: 1000]
    #[arg(long)]
    pub bootstrap_replicates: Option<usize>,
    /// Seed of the bootstrap (reruns with the same seed give identical tables) [default: fixed]
    #[arg(long)]
    pub seed: Option<u64>,
    /// Do not use an embedding cache, even if --cache, VERBATIM_CACHE or the config file names one.
    #[arg(long)]
    pub no_cache: bool,
    /// No progress bar on stderr (there is none either when stderr is not a terminal).
    #[arg(long, short)]
    pub quiet: bool,
    /// The per-comment stage of a split run: K/N analyses part K of N of an export (a partition of its rows, with the header) and writes only the answers' analyses, part-K-of-N.jsonl and its manifest part-K-of-N.json, into the --out folder, which many parts share; no tables, no report. `--from-parts` then makes the statistics. Example: --part 3/7
    #[arg(long, value_name = "K/N", value_parser = crate::app::analyze::PartOf::parse, conflicts_with = "from_parts")]
    pub part: Option<crate::app::analyze::PartOf>,
    /// The per-comment stage of a split run as a long-lived worker: loads the models once, then reads one request per line on standard input, a JSON object {"input": "PARTITION.csv", "part": "K/N"}, writes that part's files into --out exactly as `analyze PARTITION.csv --part K/N` would, and answers one JSON line on standard output: {"ok": true, "part": "K/N", "read": …, "texts": …, "manifest": …, "worker": {"pid": …, "requests": …, "parts": …}}, or {"ok": false, "error": "…", "exit_code": 4, "exit": "input", …} for a request it could not serve, and goes on with the next; exits 0 at the end of its input. Give it the flags of the other stages. For schedulers that reuse a process across tasks (Spark's Python workers): the model is loaded once per worker, not once per partition. Example: --part-worker --out parts/
    #[arg(long, conflicts_with_all = ["input", "part", "from_parts"])]
    pub part_worker: bool,
    /// The statistics stage of a split run: reads the whole export again, takes every answer's analysis from the parts in DIR (all N of them, each once, made with the same models and settings) instead of the encoder, and writes every table, the report and the manifest as a single run would. Example: --from-parts parts/
    #[arg(long, value_name = "DIR")]
    pub from_parts: Option<PathBuf>,
}

/// Largest `--min-n`.
const MAX_MIN_N: u64 = 1_000_000_000;
/// Largest `--alert-z`: past this no alert can fire.
const MAX_ALERT_Z: f64 = 1_000.0;
/// Largest `--followup-limit` (the list is kept in memory while the run
/// goes).
const MAX_FOLLOWUPS: usize = 10_000_000;
/// Largest `--bootstrap-replicates`: each replicate is kept per topic and
/// scope (100 million took 21 GB).
const MAX_REPLICATES: usize = 100_000;

/// `value` if it lies in `lo..=hi`, else an error naming the flag (and its
/// config key) and the range.
fn in_range<T: PartialOrd + std::fmt::Display + Copy>(
    name: &str,
    value: T,
    lo: T,
    hi: T,
) -> Result<T> {
    // `--fdr (fdr)`: the flag, then the config file's key.
    let (flag, key) = match name.split_once(" (") {
        Some((f, k)) => (f, Some(k.trim_end_matches(')'))),
        None => (name, None),
    };
    let from = key.map_or(String::new(), |k| {
        format!(" (from the flag, or `{k}` in the config file)")
    });
    anyhow::ensure!(
        lo <= value && value <= hi,
        "{flag} {value} must be between {lo} and {hi}{from}"
    );
    Ok(value)
}

/// Runs `verbatim analyze`.
pub fn run(args: Args) -> Result<ExitCode> {
    let cfg = args.config().code(ExitCode::Usage)?;
    if args.part_worker {
        let mut answers = std::io::stdout().lock();
        return crate::app::analyze::serve_parts(&cfg, std::io::stdin().lock(), &mut answers);
    }
    crate::app::analyze::run(&cfg)
}

impl Args {
    /// The flags merged over the config file (`--config`), defaults filled
    /// in: a flag wins over the file, the file over the default.
    pub fn config(&self) -> Result<AnalyzeConfig> {
        let cfg = match &self.config {
            Some(p) => FileConfig::read(p)?,
            None => FileConfig::default(),
        };
        let cfg_path = self.config.clone().unwrap_or_default();
        let a = &cfg.analysis;
        let periods = match (&self.periods, &a.periods) {
            (Some(p), _) => p.clone(),
            (None, Some(v)) => v
                .iter()
                .map(|p| parse_value::<Period>(&cfg_path, "periods", p))
                .collect::<Result<_>>()?,
            _ => vec![Period::Week, Period::Month, Period::Quarter],
        };
        let max_reject_rate = self.max_reject_rate.or(a.max_reject_rate);
        let min_n = self.min_n.or(a.min_n).unwrap_or(30);
        let fdr = self.fdr.or(a.fdr).unwrap_or(0.05);
        let alert_z = self.alert_z.unwrap_or(crate::stats::alerts::DEFAULT_Z);
        let survey = self.survey.or(a.survey).unwrap_or_default();
        let followup_limit = match survey {
            Survey::Employee => 0,
            Survey::Customer => self
                .followup_limit
                .unwrap_or(crate::stats::followup::DEFAULT_LIMIT),
        };
        let mut bootstrap = BootstrapSettings::default();
        if let Some(b) = self.bootstrap_replicates {
            bootstrap.replicates = b;
        }
        if let Some(seed) = self.seed {
            bootstrap.seed = seed;
        }
        // Every number gets its range here, once, for the flag and the
        // config key alike; NaN is outside every range.
        if let Some(r) = max_reject_rate {
            in_range("--max-reject-rate (max_reject_rate)", r, 0.0, 1.0)?;
        }
        in_range("--min-n (min_n)", min_n, 0, MAX_MIN_N)?;
        anyhow::ensure!(
            fdr > 0.0 && fdr <= 1.0,
            "--fdr {fdr} must be above 0 and at most 1 (from the flag, or `fdr` in the config file)"
        );
        anyhow::ensure!(
            alert_z.is_finite() && alert_z > 0.0,
            "--alert-z {alert_z} must be a positive number"
        );
        in_range("--alert-z", alert_z, 0.0, MAX_ALERT_Z)?;
        if let Some(t) = self.topic_threshold {
            in_range("--topic-threshold", t, 0.0, 1.0)?;
        }
        in_range("--followup-limit", followup_limit, 0, MAX_FOLLOWUPS)?;
        in_range(
            "--bootstrap-replicates",
            bootstrap.replicates,
            0,
            MAX_REPLICATES,
        )?;
        let cache = if self.no_cache {
            None
        } else {
            self.encoder.cache.clone().or(a.cache.clone())
        };
        if let Some(c) = &cache {
            let (flag, config) = (self.encoder.cache.as_deref(), self.config.as_deref());
            crate::output::owned::check_cache_outside(c, &self.out, flag, config)?;
        }
        Ok(AnalyzeConfig {
            // A part worker (`--part-worker`) takes its inputs from its
            // requests, one by one.
            input: self.input.clone().unwrap_or_default(),
            max_input_size: self.max_input_size,
            out: self.out.clone(),
            read: self.read_options(&cfg, &cfg_path)?,
            date_column: self.date_column.clone().or(cfg.input.date_column.clone()),
            sheet: self.sheet.clone().or(cfg.input.sheet.clone()),
            date_format: self.date_format(&cfg, &cfg_path)?,
            segment_columns: if self.segment_columns.is_empty() {
                cfg.input.segment_columns.clone()
            } else {
                self.segment_columns.clone()
            },
            team_columns: self.team_columns.clone(),
            periods,
            min_n,
            fdr,
            max_reject_rate,
            taxonomy: self.taxonomy.clone().or(a.taxonomy.clone()),
            topic_calibration: self
                .topic_calibration
                .clone()
                .or(a.topic_calibration.clone()),
            topic_model: TopicModelChoice::from_flag(self.topic_model.as_deref()),
            topic_threshold: self.topic_threshold,
            sentiment: self.sentiment(&cfg),
            model: self
                .encoder
                .model
                .clone()
                .or(a.model.clone())
                .unwrap_or_else(default_model_dir),
            encoder: self.encoder.options(),
            cache,
            masking: match (self.no_redact, self.redact) {
                (true, _) => Masking::Off,
                (false, true) => Masking::Everywhere,
                (false, false) => Masking::Shown,
            },
            alert_z,
            fail_on_alert: self.fail_on_alert,
            followup_limit,
            survey,
            bootstrap,
            quiet: self.quiet,
            part: self.part,
            from_parts: self.from_parts.clone(),
        })
    }

    /// How to read the export: flags over the `[input]` table of the file.
    /// `--date-format`, else `date_format` of the config file at
    /// `cfg_path`.
    fn date_format(
        &self,
        cfg: &FileConfig,
        cfg_path: &std::path::Path,
    ) -> Result<Option<DateFormat>> {
        match (&self.date_format, &cfg.input.date_format) {
            (Some(f), _) => Some(DateFormat::from_flag(f)),
            (None, Some(f)) => Some(DateFormat::from_flag(f).map_err(|e| {
                format!(
                    "{}: [input] date_format: {}",
                    cfg_path.display(),
                    e.trim_start_matches("--date-format ")
                )
            })),
            (None, None) => None,
        }
        .transpose()
        .map_err(|e| anyhow::anyhow!(e))
        .code(ExitCode::Usage)
    }

    fn read_options(&self, cfg: &FileConfig, cfg_path: &std::path::Path) -> Result<InputOptions> {
        let i = &cfg.input;
        let delimiter = match self.delimiter.or(i.delimiter) {
            Some(c) if c.is_ascii() => Some(c as u8),
            Some(c) => anyhow::bail!("--delimiter `{c}` must be one ASCII character"),
            None => None,
        };
        let encoding = match (self.encoding, &i.encoding) {
            (Some(e), _) => Some(e),
            (None, Some(v)) => Some(parse_value::<InputEncoding>(cfg_path, "encoding", v)?),
            _ => None,
        };
        let format = match (self.format, &i.format) {
            (Some(f), _) => Some(f),
            (None, Some(v)) => Some(parse_value::<InputFormat>(cfg_path, "format", v)?),
            _ => None,
        };
        let scale = match (self.scale, &i.scale) {
            (Some(s), _) => Some(s),
            (None, Some(v)) => Some(parse_value::<Scale>(cfg_path, "scale", v)?),
            _ => None,
        };
        let texts: Vec<String> = if self.text_column.is_empty() {
            i.text_column.clone().map(|t| t.0).unwrap_or_default()
        } else {
            self.text_column.clone()
        };
        let mode = self.mode(cfg);
        let scored = |v: Option<String>| v.filter(|_| mode.scored());
        Ok(InputOptions {
            score_column: scored(self.score_column.clone().or(i.score_column.clone())),
            text_column: texts.first().cloned(),
            more_text_columns: texts.iter().skip(1).cloned().collect(),
            id_column: self.id_column.clone().or(i.id_column.clone()),
            delimiter,
            encoding,
            format,
            scale: scale.filter(|_| mode.scored()),
            weight_column: scored(self.weight_column.clone().or(i.weight_column.clone())),
            mode,
        })
    }

    /// With or without scores. `--no-score` and the config file's
    /// `no_score = true` refuse the score's settings at their own level
    /// (clap, [`FileConfig::read`]); across levels the command line wins,
    /// as for every setting: `--no-score` leaves out the file's
    /// `score_column`, `scale` and `weight_column`, and `--score-column`,
    /// `--scale` or `--weight-column` a file's `no_score`.
    fn mode(&self, cfg: &FileConfig) -> Mode {
        let scored_flag =
            self.score_column.is_some() || self.scale.is_some() || self.weight_column.is_some();
        if self.no_score || (cfg.input.no_score == Some(true) && !scored_flag) {
            Mode::TopicsOnly
        } else {
            Mode::Nps
        }
    }

    /// A sentiment flag replaces the file's choice whole: a head on the
    /// command line does not inherit the file's model, nor its labels.
    fn sentiment(&self, cfg: &FileConfig) -> SentimentChoice {
        let a = &cfg.analysis;
        match (&self.sentiment_model, &self.sentiment_head) {
            (Some(dir), _) => SentimentChoice::Model {
                dir: dir.clone(),
                labels: self.sentiment_labels.clone(),
            },
            (None, Some(h)) => SentimentChoice::Head(Some(h.clone())),
            (None, None) => match &a.sentiment_model {
                Some(dir) => SentimentChoice::Model {
                    dir: dir.clone(),
                    labels: a.sentiment_labels.clone().unwrap_or_default(),
                },
                None => SentimentChoice::Head(a.sentiment_head.clone()),
            },
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
        let s = cli.args.config().unwrap().sentiment;
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
