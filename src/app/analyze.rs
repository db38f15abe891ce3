//! `verbatim analyze` as a function of its settings: one pass over a survey
//! export, then the driver statistics, the tables, the report and the
//! manifest. [`AnalyzeConfig`] is the flags and the config file merged and
//! checked once by `cli::analyze`; nothing here sees clap.
//!
//! The order of the steps is part of the promise: everything that can be
//! refused (settings, taxonomy, input, output folder, calibration file) is
//! refused before the slow model load, and the output folder is replaced
//! only at the end of a successful run.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};

use super::personal::{left_out_columns, personal_columns, read_head, PROFILE_ROWS};
use super::progress::RunProgress;
use super::spool::{sheet_copy, spool, Spooled};
use super::summary;
use crate::classify::calibration::{self, CalibrationOrigin, TopicCalibration};
use crate::classify::finetune::{TopicModelDir, TopicModelFile};
use crate::classify::head::{self, HeadOrigin};
use crate::classify::sentiment_model;
use crate::classify::{Classifier, ClassifierSettings, ModelSentiment, SentimentModel, Taxonomy};
use crate::exit_codes::cache_error;
use crate::exit_codes::{ExitCode, WithCode};
use crate::input::dates::{find_date_column, DateFormat, DateSniffer, FoundBy};
use crate::input::sheet::SheetInfo;
use crate::input::{
    escape_name, InputError, InputFormat, InputOptions, Mode, Record, Reject, ResponseStream,
};
use crate::model::cache::{CachedEncoder, EmbeddingCache, ModelSpec};
use crate::model::manifest::sha256_file;
use crate::model::transformer::{EncoderOptions, TransformerEncoder};
use crate::model::Encoder;
use crate::output::manifest::{
    CacheInfo, Counts, FileInfo, InputInfo, ManifestFile, ModelInfo, NpsInfo, RunManifest,
    RunSettings, SegmentColumnName, SentimentInfo, TableInfo, TaxonomyInfo, Thresholds, Timings,
    TopicsInfo, UnparsedDate, WeightsInfo,
};
use crate::output::run::{StreamingOutputs, TableFiles, BI_FORMATS};
use crate::output::OutputDir;
use crate::output::{tables, views};
use crate::pipeline::{run_pass, PassModels, PassResult, PassSettings, PassSink, SegmentChoice};
use crate::report::examples::ExampleCollector;
use crate::report::{render, ReportData, TopicExamples};
use crate::stats::aggregate::Period;
use crate::stats::bootstrap::BootstrapSettings;
use crate::stats::driver_stats::{is_team_column, AnalysisSettings, DriverAnalysis, DriverCounts};
use crate::stats::response::AnalyzedResponse;
use crate::text::redact::{PersonalColumn, Redactor};

mod parts;
mod worker;
pub use parts::PartOf;
pub use worker::serve_parts;

/// Who answered the survey.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Survey {
    /// Customers: NPS, churn signals and the call-back list.
    #[default]
    Customer,
    /// Employees: eNPS wording, the employee taxonomy by default, no churn
    /// signals or call-back list, and the figures of every group below
    /// `--min-n` left empty rather than only flagged.
    Employee,
}

impl Survey {
    /// `customer` or `employee`, as the flag takes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Survey::Customer => "customer",
            Survey::Employee => "employee",
        }
    }

    /// What the score is called: `NPS` or `eNPS`.
    pub fn metric(self) -> &'static str {
        match self {
            Survey::Customer => "NPS",
            Survey::Employee => "eNPS",
        }
    }
}

/// Where personal data is masked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Masking {
    /// Nowhere (`--no-redact`).
    Off,
    /// In the comments the report and the follow-up table show (the default).
    #[default]
    Shown,
    /// Also in the raw records of rejects.csv (`--redact`).
    Everywhere,
}

impl Masking {
    /// Comments shown in the report and the follow-up table are masked.
    pub fn shown(self) -> bool {
        self != Masking::Off
    }
}

/// Where topics come from (`--topic-model`).
#[derive(Debug, Clone, Default, PartialEq)]
pub enum TopicModelChoice {
    /// The fine-tuned topic model shipped for the default taxonomy and
    /// encoder when both match it (and no `--topic-calibration` is given),
    /// else the calibration.
    #[default]
    Default,
    /// `--topic-model none`: the calibration, even where the shipped model
    /// fits.
    Off,
    /// `--topic-model DIR`.
    Dir(PathBuf),
}

/// Where sentiment comes from: flags first, else the config file, else the
/// head that ships (or is fitted at start-up).
#[derive(Debug, Clone, PartialEq)]
pub enum SentimentChoice {
    Head(Option<PathBuf>),
    Model { dir: PathBuf, labels: Vec<String> },
}

/// Everything `analyze` needs to know, flags merged over the config file,
/// defaults filled in, checked once.
#[derive(Debug, Clone)]
pub struct AnalyzeConfig {
    /// The export; `-` is standard input.
    pub input: PathBuf,
    /// Largest copy of standard input or a pipe, in bytes [default: half
    /// the free space beside the output folder].
    pub max_input_size: Option<u64>,
    pub out: PathBuf,
    pub read: InputOptions,
    pub date_column: Option<String>,
    /// `--date-format`; decided from the date column's values when `None`.
    pub date_format: Option<DateFormat>,
    /// `--sheet`: the sheet of a spreadsheet export [default: the first].
    pub sheet: Option<String>,
    pub segment_columns: Vec<String>,
    pub team_columns: Vec<String>,
    pub periods: Vec<Period>,
    pub min_n: u64,
    pub fdr: f64,
    pub max_reject_rate: Option<f64>,
    pub taxonomy: Option<PathBuf>,
    pub topic_calibration: Option<PathBuf>,
    /// `--topic-model`: a fine-tuned topic branch (`train topics --fine-tune`).
    pub topic_model: TopicModelChoice,
    pub topic_threshold: Option<f32>,
    pub sentiment: SentimentChoice,
    /// Encoder folder.
    pub model: PathBuf,
    pub encoder: EncoderOptions,
    pub cache: Option<PathBuf>,
    pub masking: Masking,
    /// `--survey`.
    pub survey: Survey,
    pub alert_z: f64,
    pub fail_on_alert: bool,
    pub followup_limit: usize,
    pub bootstrap: BootstrapSettings,
    /// No progress bar and no notes on stderr.
    pub quiet: bool,
    /// `--part K/N`: the per-comment stage of a split run.
    pub part: Option<PartOf>,
    /// `--from-parts DIR`: the statistics stage of a split run.
    pub from_parts: Option<PathBuf>,
}

impl AnalyzeConfig {
    fn analysis_settings(&self) -> AnalysisSettings {
        AnalysisSettings {
            min_n: self.min_n,
            fdr: self.fdr,
            bootstrap: self.bootstrap,
            alert_z: self.alert_z,
        }
    }
}

/// Runs `verbatim analyze`.
pub fn run(cfg: &AnalyzeConfig) -> Result<ExitCode> {
    let started = Instant::now();
    let now = chrono::Utc::now();
    let started_at = now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let (taxonomy, taxonomy_file) = load_taxonomy(cfg)?;
    // Fail on the input and the output folder before the slow model load.
    let mut input = Input::open(cfg)?;
    note_topics_only(cfg.read.mode);
    // A calibration file that cannot be used at all fails before the slow
    // model load; whether it fits the model is checked once it is loaded.
    if let Some(p) = &cfg.topic_calibration {
        TopicCalibration::load(p).code(ExitCode::Usage)?;
    }
    let input_sha256 = sha256_file(input.checksum_path()).code(ExitCode::Input)?;
    // The per-comment stage of a split run writes into a folder that many
    // parts share, file by file.
    let out = match cfg.part {
        None => Some(OutputDir::create(&cfg.out)?),
        Some(_) => None,
    };
    let cache = open_cache(cfg)?;
    let loaded = Loaded::load(cfg, &taxonomy)?;
    let cached = loaded.cached(cfg, cache.as_ref())?;
    // The sentiment head fitted at start-up and the taxonomy's examples go
    // through the cache too; the counts reported are those of the pass.
    let embedder: &dyn Encoder = match &cached {
        Some(c) => c,
        None => &loaded.encoder,
    };
    let (mut models, key) = loaded.models(cfg, embedder, &taxonomy)?;
    let (Some(out), None) = (out, cfg.part) else {
        let part = cfg.part.expect("a part when there is no output folder");
        let written =
            parts::write_part(cfg, part, &mut input, embedder, &models, key, input_sha256)?;
        println!("{}", written.summary());
        return Ok(ExitCode::Success);
    };
    let parts = use_parts(cfg, &mut models, &key)?;
    let run_id = format!("{}-{}", now.format("%Y%m%dT%H%M%SZ"), &input_sha256[..8]);
    let cache_before = cached.as_ref().map(CachedEncoder::counts);
    let mut written = write_pass(cfg, &mut input, &out, &run_id, &taxonomy, embedder, &models)?;
    if let Some(p) = &parts {
        parts::check_rows(p, &written.result).code(ExitCode::Input)?;
    }
    let cache = cached.as_ref().zip(cache_before).map(|(c, before)| {
        let after = c.counts();
        CacheInfo {
            path: c.path().display().to_string(),
            hits: after.hits - before.hits,
            misses: after.misses - before.misses,
        }
    });
    let manifest = RunManifest {
        run_id,
        tool: format!("verbatim {}", env!("CARGO_PKG_VERSION")),
        started_at,
        finished_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        mode: cfg.read.mode,
        mode_note: mode_note(cfg.read.mode),
        input: input.info(input_sha256, &written.result, cfg.masking.shown()),
        counts: counts(&written.result, &written.drivers, cfg.read.mode),
        nps: nps_info(&written.result.nps, cfg.read.mode),
        model: model_info(cfg, &loaded.encoder, &loaded.weights_sha256),
        taxonomy: TaxonomyInfo {
            name: taxonomy.name.clone(),
            version: taxonomy.version.clone(),
            topics: taxonomy.topics.len(),
        },
        sentiment: models.sentiment_info,
        topics: models.topics_info,
        thresholds: thresholds(cfg, &models.settings),
        timings: timings(
            &written.result,
            cache.as_ref().map_or(0, |c| c.hits as usize),
            started,
        ),
        cache,
        tables: std::mem::take(&mut written.tables),
    };
    let report = report_page(cfg, &written, &manifest, &taxonomy);
    out.write("report.html", render(&report).as_bytes())?;
    let settings = run_settings(cfg, &loaded.encoder, &manifest.topics, taxonomy_file);
    out.write_manifest(&ManifestFile {
        run: &manifest,
        settings,
        weights: weights_info(&input, &written.result),
        parts,
    })?;
    let target = out.commit()?;
    summary::print(
        &written.result,
        &manifest,
        &taxonomy,
        &written.drivers,
        &target,
        cfg.survey == Survey::Employee,
    );
    note_unparsed_dates(&manifest);
    warn_date_span(&manifest);
    note_truncated(&input);
    Ok(exit_code(cfg, &manifest, &written.drivers, &target))
}

/// Says on stderr how many comments were cut to the longest length read.
fn note_truncated(input: &Input) {
    let truncated = input.stream.truncated_comments();
    if truncated > 0 {
        eprintln!(
            "note: {truncated} comments longer than {} characters were cut to that length",
            crate::input::MAX_COMMENT_CHARS
        );
    }
}

/// The parts of a split run (`--from-parts`), their analyses put into
/// `models`; `None` for a single run.
fn use_parts(
    cfg: &AnalyzeConfig,
    models: &mut Models,
    key: &std::collections::BTreeMap<String, serde_json::Value>,
) -> Result<Option<crate::output::manifest::PartsInfo>> {
    let Some(dir) = &cfg.from_parts else {
        return Ok(None);
    };
    let (store, info) = parts::read_parts(dir, key).code(ExitCode::Usage)?;
    models.precomputed = Some(store);
    Ok(Some(info))
}

/// `--cache`, opened.
fn open_cache(cfg: &AnalyzeConfig) -> Result<Option<EmbeddingCache>> {
    match &cfg.cache {
        Some(p) => Ok(Some(EmbeddingCache::open(p).map_err(cache_error)?)),
        None => Ok(None),
    }
}

/// The encoder, loaded once: by a run, or by a part worker
/// (`--part-worker`) for every partition it is given.
struct Loaded {
    encoder: TransformerEncoder,
    weights_sha256: String,
    /// The fine-tuned topic model attached to `encoder`, when one decides
    /// topics.
    topic_model: Option<AttachedTopicModel>,
}

impl Loaded {
    /// The encoder of `--model`, with `--topic-model`'s branch attached.
    fn load(cfg: &AnalyzeConfig, taxonomy: &Taxonomy) -> Result<Loaded> {
        let mut encoder = TransformerEncoder::load(&cfg.model, &cfg.encoder)
            .code(ExitCode::Model)
            .with_context(|| format!("loading the model from {} (--model)", cfg.model.display()))?;
        let weights_sha256 = encoder
            .info()
            .weights_sha256(&cfg.model)
            .code(ExitCode::Model)?;
        let topic_model = attach_topic_model(
            &cfg.topic_model,
            cfg.topic_calibration.is_some(),
            &mut encoder,
            taxonomy,
            &weights_sha256,
        )?;
        Ok(Loaded {
            encoder,
            weights_sha256,
            topic_model,
        })
    }

    /// The encoder behind `cache`, when there is one.
    fn cached<'a>(
        &'a self,
        cfg: &AnalyzeConfig,
        cache: Option<&'a EmbeddingCache>,
    ) -> Result<Option<CachedEncoder<'a>>> {
        let Some(c) = cache else {
            return Ok(None);
        };
        let prefix = cfg.encoder.prefix.as_deref();
        let spec = ModelSpec::of_transformer(&self.encoder, prefix, &self.weights_sha256);
        let mut cached = CachedEncoder::new(&self.encoder, c, &spec).map_err(cache_error)?;
        if let Some(m) = &self.topic_model {
            cached = cached
                .with_topic_branch(&m.meta.weights_sha256)
                .map_err(cache_error)?;
        }
        Ok(Some(cached))
    }

    /// The classifier on `embedder` (this encoder, or it behind the cache),
    /// and everything that decides an analysis ([`parts::analysis_key`]).
    fn models(
        &self,
        cfg: &AnalyzeConfig,
        embedder: &dyn Encoder,
        taxonomy: &Taxonomy,
    ) -> Result<(Models, parts::AnalysisKey)> {
        let tuned = self.topic_model.is_some();
        let mut models = Models::build(cfg, embedder, &self.weights_sha256, taxonomy, tuned)?;
        if let Some(m) = &self.topic_model {
            models.use_topic_model(m, cfg.topic_threshold, taxonomy)?;
        }
        let key = parts::analysis_key(cfg, &self.encoder, &self.weights_sha256, taxonomy, &models)?;
        Ok((models, key))
    }
}

/// The manifest's `model` section.
fn model_info(cfg: &AnalyzeConfig, encoder: &TransformerEncoder, sha256: &str) -> ModelInfo {
    ModelInfo {
        name: encoder.name(),
        path: cfg.model.display().to_string(),
        sha256: sha256.to_string(),
        precision: format!("{:?}", encoder.kind()),
    }
}

/// The weighted NPS of all responses for the manifest, when the run has a
/// weight column: the first `agg_nps` row is the whole run.
fn weights_info(input: &Input, result: &PassResult) -> Option<WeightsInfo> {
    let column = input.segment_columns.get(input.weight_column?)?.clone();
    let all = result.agg.first()?;
    Some(WeightsInfo {
        column,
        nps: all.weighted_nps,
        ci95: all.weighted_nps_ci_low.zip(all.weighted_nps_ci_high),
        n_effective: all.n_effective,
        weight_sum: all.weight_sum.unwrap_or(0.0),
        suppressed: all.weighted_suppressed.unwrap_or(true),
    })
}

/// Warns on stderr when the response dates span more than ten years: the
/// note on `dim_date` in the manifest, which names the first and last date
/// and their lines.
fn warn_date_span(m: &RunManifest) {
    let dim_date = m.tables.iter().find(|t| t.name == "dim_date");
    let Some(note) = dim_date.and_then(|t| t.note.as_deref()) else {
        return;
    };
    eprintln!(
        "warning: the date column `{}`: {note} (manifest: the note on dim_date in tables)",
        escape_name(m.input.date_column.as_deref().unwrap_or(""))
    );
}

/// Says on stderr how many values of the date column were not read, with
/// the first of them: they count in no period.
fn note_unparsed_dates(m: &RunManifest) {
    let (Some(column), Some(first)) = (&m.input.date_column, &m.input.first_unparsed_date) else {
        return;
    };
    eprintln!(
        "warning: {} of the date column `{}` {} no date in the format {} (the first: `{}` on line {}); \
         they count in no period (manifest: counts.unparsed_dates). Give --date-format to read them",
        match m.counts.unparsed_dates {
            1 => "1 value".to_string(),
            n => format!("{n} values"),
        },
        escape_name(column),
        if m.counts.unparsed_dates == 1 { "is" } else { "are" },
        m.input.date_format.as_deref().unwrap_or("dmy"),
        escape_name(&first.value),
        first.line
    );
}

/// The date column, how it was found and how it is read, from `head` (the
/// first records); a note on stderr when neither a flag nor a date name
/// chose it.
fn find_dates(
    cfg: &AnalyzeConfig,
    file: (&Path, &Path, &InputOptions),
    head: &[Result<Record, InputError>],
    segment_columns: &[String],
) -> Result<Option<DateInfo>> {
    let head_rows: Vec<&[String]> = head
        .iter()
        .filter_map(|r| match r {
            Ok(Record::Response(r)) => Some(r.segments.as_slice()),
            _ => None,
        })
        .collect();
    let found = find_date_column(segment_columns, cfg.date_column.as_deref(), &head_rows)
        .map_err(|e| anyhow::anyhow!(e))?;
    let Some((c, by)) = found else {
        return Ok(None);
    };
    let complete = head_rows.len() < PROFILE_ROWS;
    let d = date_format(cfg, file, head, (c, &segment_columns[c]), complete)?;
    if by != FoundBy::Name && by != FoundBy::Flag {
        eprintln!(
            "note: `{}` is taken as the date column ({}), read as {}; name another with --date-column",
            escape_name(&segment_columns[c]),
            if by == FoundBy::Content {
                "its values are dates"
            } else {
                "its name and values read as a date"
            },
            d.0.name()
        );
    }
    Ok(Some(DateInfo {
        column: c,
        found_by: by,
        format: d.0,
        decided_by: d.1,
    }))
}

/// The date column's format and how the column was found.
struct DateInfo {
    /// Index among the segment columns.
    column: usize,
    found_by: FoundBy,
    format: DateFormat,
    /// `flag`, `values` or `default`.
    decided_by: &'static str,
}

/// The date column's format: `--date-format`, else decided from its values
/// in `head`, and, when they do not settle the order and `head` is not the
/// whole input (`complete`), from every value of the column (a second read
/// of the file at `path`).
fn date_format(
    cfg: &AnalyzeConfig,
    (path, name, read): (&Path, &Path, &InputOptions),
    head: &[Result<Record, InputError>],
    (column, column_name): (usize, &str),
    complete: bool,
) -> Result<(DateFormat, &'static str)> {
    let see = |sniffer: &mut DateSniffer, r: &Record| {
        if let Record::Response(r) = r {
            sniffer.see(r.line, r.segments.get(column).map_or("", String::as_str));
        }
    };
    let mut sniffer = DateSniffer::default();
    if cfg.date_format.is_none() {
        head.iter().flatten().for_each(|r| see(&mut sniffer, r));
        if !complete && sniffer.unsettled() {
            sniffer = DateSniffer::default();
            for r in ResponseStream::open_named(path, name, read)?.flatten() {
                see(&mut sniffer, &r);
            }
        }
    }
    sniffer
        .decide(column_name, cfg.date_format.as_ref())
        .map_err(|e| anyhow::anyhow!(e))
}

/// Says once on stderr, before the slow work, what a run without scores
/// leaves out.
fn note_topics_only(mode: Mode) {
    if mode == Mode::TopicsOnly {
        eprintln!(
            "note: --no-score: topics, sentiment and their trend only; NPS, drivers, ΔNPS and \
             the call-back list are left out (their tables are written without rows; \
             manifest.json says so under mode_note)"
        );
    }
}

/// The whole run's NPS, for the manifest; none without scores.
fn nps_info(nps: &crate::stats::nps::Nps, mode: Mode) -> Option<NpsInfo> {
    mode.scored().then(|| NpsInfo {
        nps: nps.score(),
        ci95: nps.adjusted_wald(crate::stats::nps::Z95),
        promoters: nps.promoters,
        passives: nps.passives,
        detractors: nps.detractors,
    })
}

/// The report of a run (an employee survey's says eNPS and calls no one
/// back).
fn report_page(
    cfg: &AnalyzeConfig,
    written: &Written,
    manifest: &RunManifest,
    taxonomy: &Taxonomy,
) -> ReportData {
    let make = match cfg.read.mode {
        Mode::Nps => ReportData::from_run,
        Mode::TopicsOnly => ReportData::topics_only,
    };
    let report = make(
        &written.result,
        manifest,
        taxonomy,
        &written.drivers,
        cfg.alert_z,
        written.examples.clone(),
    );
    match cfg.survey {
        Survey::Employee => report.for_employees(),
        Survey::Customer => report,
    }
}

/// `--taxonomy` (with its full path and checksum for the manifest), else
/// the shipped taxonomy.
fn load_taxonomy(cfg: &AnalyzeConfig) -> Result<(Taxonomy, Option<FileInfo>)> {
    let Some(p) = &cfg.taxonomy else {
        let shipped = match cfg.survey {
            Survey::Customer => Taxonomy::default_contact_center(),
            Survey::Employee => Taxonomy::default_employee(),
        };
        return Ok((shipped, None));
    };
    let taxonomy = Taxonomy::from_file(p).code(ExitCode::Usage)?;
    let sha256 = sha256_file(p)
        .with_context(|| format!("reading --taxonomy {}", p.display()))
        .code(ExitCode::Usage)?;
    let path = std::fs::canonicalize(p).unwrap_or_else(|_| p.clone());
    let file = FileInfo {
        path: path.display().to_string(),
        sha256,
    };
    Ok((taxonomy, Some(file)))
}

/// The thresholds in force, for the manifest.
fn thresholds(cfg: &AnalyzeConfig, settings: &ClassifierSettings) -> Thresholds {
    Thresholds {
        min_n: cfg.min_n,
        fdr_q: cfg.fdr,
        max_reject_rate: cfg.max_reject_rate,
        topic_threshold: settings.topic_threshold,
        topic_margin: settings.topic_margin,
        topic_min_gap: settings.topic_min_gap,
        topic_keyword_gap: settings.topic_keyword_gap,
    }
}

/// The manifest's `settings`: what else a rerun needs to give the same
/// tables.
fn run_settings(
    cfg: &AnalyzeConfig,
    encoder: &TransformerEncoder,
    topics: &TopicsInfo,
    taxonomy_file: Option<FileInfo>,
) -> RunSettings {
    let (topic_threshold_applies, topic_threshold_note) = RunSettings::topic_threshold(topics);
    RunSettings {
        survey: cfg.survey.as_str().to_string(),
        periods: cfg.periods.clone(),
        alert_z: cfg.alert_z,
        bootstrap_replicates: cfg.bootstrap.replicates,
        seed: cfg.bootstrap.seed,
        device: cfg.encoder.device.as_str().to_string(),
        device_used: match encoder.device() {
            tch::Device::Cpu => "cpu".to_string(),
            tch::Device::Cuda(i) => format!("cuda:{i}"),
            other => format!("{other:?}").to_lowercase(),
        },
        taxonomy_file,
        topic_threshold_applies,
        topic_threshold_note,
    }
}

/// The export, open, with the columns the run reads.
struct Input {
    /// The copy of a pipe or of standard input, removed when dropped.
    spooled: Option<Spooled>,
    /// The sheet read, when the input is a spreadsheet (`spooled` then
    /// holds its rows as JSON Lines).
    sheet: Option<SheetInfo>,
    /// The path as given (`-` for standard input).
    given: PathBuf,
    /// Name in messages and in the manifest.
    source: String,
    stream: ResponseStream,
    segment_columns: Vec<String>,
    /// The open questions' columns, the comment column first.
    questions: Vec<String>,
    date_column: Option<usize>,
    /// The survey weight column (`--weight-column`), never a segment.
    weight_column: Option<usize>,
    /// How the date column was found and is read.
    dates: Option<DateInfo>,
    segments: SegmentChoice,
    team_columns: Vec<usize>,
    /// The first records, read to tell the columns of personal data; the
    /// pass reads them first.
    head: Vec<Result<Record, InputError>>,
    /// Columns of personal data that are no segment, with what they hold.
    left_out: Vec<(usize, PersonalColumn)>,
    /// Segment columns named by `--segment-column`.
    named: Vec<usize>,
}

impl Input {
    fn open(cfg: &AnalyzeConfig) -> Result<Input> {
        // A spreadsheet's sheet is written as JSON Lines into a temporary
        // file beside the output folder, and read from there. Any other
        // input is read twice (rows, then its checksum for the manifest),
        // so a pipe, a device or `-` (standard input) is first read once
        // into a temporary file there.
        let mut read = cfg.read.clone();
        let (spooled, sheet) = match sheet_copy(&cfg.input, &cfg.out, cfg.sheet.as_deref())? {
            Some((copy, info)) => {
                read.format = Some(InputFormat::Jsonl);
                (Some(copy), Some(info))
            }
            None => (spool(&cfg.input, &cfg.out, cfg.max_input_size)?, None),
        };
        let name = if cfg.input == Path::new("-") {
            PathBuf::from("stdin")
        } else {
            cfg.input.clone()
        };
        let path = spooled.as_ref().map_or(cfg.input.as_path(), |t| t.path());
        let mut stream = match ResponseStream::open_named(path, &name, &read) {
            // A name given with --weight-column that is not there is a usage
            // error, as --date-column's is; the other flags' stay input errors.
            Err(
                e @ (InputError::ColumnNotFound {
                    flag: "--weight-column",
                    ..
                }
                | InputError::ColumnAmbiguous {
                    flag: "--weight-column",
                    ..
                }
                | InputError::SameColumn {
                    flag: "--weight-column",
                    ..
                }),
            ) => return Err(e).code(ExitCode::Usage),
            other => other?,
        };
        let weight_column = stream.weight_column();
        // A partition of a split run may be empty (a scheduler's empty
        // task): its part then holds no analysis, and says so.
        if cfg.part.is_none() {
            stream.ensure_rows()?;
        }
        let source = name.display().to_string();
        let segment_columns = stream.segment_columns().to_vec();
        let questions = stream.columns().questions();
        // The first rows: they tell the date column and its format, and the
        // columns of personal data; the pass reads them again.
        let head = read_head(&mut stream, PROFILE_ROWS);
        let dates = find_dates(cfg, (path, &name, &read), &head, &segment_columns)
            .map_err(|e| anyhow::anyhow!("{source}: {e}"))
            .code(ExitCode::Usage)?;
        let date_column = dates.as_ref().map(|d| d.column);
        let segments = segment_choice(&cfg.segment_columns, &segment_columns)
            .map_err(|e| anyhow::anyhow!("{source}: {e}"))
            .code(ExitCode::Usage)?;
        let mut team_columns = team_columns(&cfg.team_columns, &segment_columns, date_column)
            .map_err(|e| anyhow::anyhow!("{source}: {e}"))?;
        // Columns of personal data, told from the first rows: no automatic
        // segments, masked in the tables.
        let personal = personal_columns(&head, &segment_columns, date_column, &cfg.team_columns);
        let named: Vec<usize> = match &segments {
            SegmentChoice::Columns(c) => c.clone(),
            SegmentChoice::Auto { .. } => Vec::new(),
        };
        if cfg.team_columns.is_empty() {
            team_columns.retain(|c| !personal.iter().any(|p| p.0 == *c));
        }
        let left_out: Vec<(usize, PersonalColumn)> = personal
            .iter()
            .copied()
            .filter(|(c, _)| {
                !named.contains(c) && (cfg.team_columns.is_empty() || !team_columns.contains(c))
            })
            .collect();
        note_left_out(&left_out, &segment_columns, cfg.masking.shown());
        Ok(Input {
            spooled,
            sheet,
            given: cfg.input.clone(),
            source,
            stream,
            segment_columns,
            questions,
            date_column,
            weight_column,
            dates,
            segments,
            team_columns,
            head,
            left_out,
            named,
        })
    }

    /// The file whose checksum the manifest records: the input as given,
    /// or its copy when it was a pipe.
    fn checksum_path(&self) -> &Path {
        match &self.sheet {
            Some(_) => &self.given,
            None => self.path(),
        }
    }

    /// The file the rows are read from.
    fn path(&self) -> &Path {
        self.spooled
            .as_ref()
            .map_or(self.given.as_path(), |t| t.path())
    }

    fn info(&self, sha256: String, result: &PassResult, masked: bool) -> InputInfo {
        let s = &self.stream;
        let columns = s.columns();
        InputInfo {
            path: self.source.clone(),
            sha256,
            format: match &self.sheet {
                Some(_) => self
                    .given
                    .extension()
                    .map_or("xlsx".into(), |e| e.to_string_lossy().to_ascii_lowercase()),
                None => s.format().name().into(),
            },
            sheet: self.sheet.as_ref().map(|i| i.sheet.clone()),
            encoding: s.encoding().name().into(),
            delimiter: (s.format() == InputFormat::Csv)
                .then(|| (s.delimiter() as char).to_string()),
            score_column: columns.score.clone(),
            text_column: columns.text.clone(),
            questions: self.questions.clone(),
            id_column: columns.id.clone(),
            date_column: self.date_column.map(|i| self.segment_columns[i].clone()),
            date_column_found_by: self.dates.as_ref().map(|d| d.found_by.as_str().into()),
            date_format: self.dates.as_ref().map(|d| d.format.name()),
            date_format_decided_by: self.dates.as_ref().map(|d| d.decided_by.into()),
            first_unparsed_date: result.first_unparsed_date.as_ref().map(|e| UnparsedDate {
                line: e.line,
                value: e.value.clone(),
            }),
            segment_columns: self.segment_columns.clone(),
            // Without scores no segment is aggregated (`agg_nps` is empty).
            aggregated_segment_columns: match columns.score {
                Some(_) => result.agg_columns.clone(),
                None => Vec::new(),
            },
            scale: columns.score.is_some().then(|| s.scale().label().into()),
            left_out_columns: left_out_columns(
                &self.segment_columns,
                self.date_column,
                &self.left_out,
                &result.agg_columns,
                &self.named,
                masked,
            ),
            segment_column_names: s
                .segment_origins()
                .iter()
                .zip(&self.segment_columns)
                .zip(tables::segment_output_names(
                    &self.segment_columns,
                    self.date_column,
                ))
                .map(|(((position, header), name), output)| SegmentColumnName {
                    position: *position,
                    header: header.clone(),
                    name: name.clone(),
                    output,
                })
                .collect(),
        }
    }
}

/// The segment columns named by the settings, else every column with few
/// enough distinct values.
/// Says on stderr which columns are left out of the segments as personal
/// data.
fn note_left_out(left_out: &[(usize, PersonalColumn)], columns: &[String], masked: bool) {
    if left_out.is_empty() {
        return;
    }
    eprintln!(
        "note: columns left out of the segments as their values look like personal data{}: {}; name one with --segment-column to use it anyway",
        if masked { " (masked in fact_response and followup)" } else { "" },
        left_out
            .iter()
            .map(|(c, k)| format!("`{}` ({})", escape_name(&columns[*c]), k.short()))
            .collect::<Vec<_>>()
            .join(", ")
    );
}

fn segment_choice(named: &[String], columns: &[String]) -> Result<SegmentChoice, String> {
    if named.is_empty() {
        return Ok(SegmentChoice::Auto { max_values: 100 });
    }
    named
        .iter()
        .map(|name| {
            columns.iter().position(|c| c == name).ok_or_else(|| {
                format!(
                    "--segment-column `{}` not found; the segment columns are: {}",
                    escape_name(name),
                    escape_name(&columns.join(", "))
                )
            })
        })
        .collect::<Result<_, _>>()
        .map(SegmentChoice::Columns)
}

/// Team columns: the `--team-column` flags, else the segment columns whose
/// names read as agent, team or queue.
fn team_columns(
    named: &[String],
    columns: &[String],
    date_column: Option<usize>,
) -> Result<Vec<usize>, String> {
    if named.is_empty() {
        return Ok((0..columns.len())
            .filter(|&i| Some(i) != date_column && is_team_column(&columns[i]))
            .collect());
    }
    named
        .iter()
        .map(|name| {
            columns.iter().position(|c| c == name).ok_or_else(|| {
                format!(
                    "--team-column `{}` not found; the segment columns are: {}",
                    escape_name(name),
                    escape_name(&columns.join(", "))
                )
            })
        })
        .collect()
}

/// The sentiment source, the topic calibration and the classifier built on
/// them, with what the manifest says of each.
struct Models {
    classifier: Classifier,
    settings: ClassifierSettings,
    sentiment_info: SentimentInfo,
    topics_info: TopicsInfo,
    /// The per-comment stage's analyses (`--from-parts`), used instead of
    /// the encoder and the classifier.
    precomputed: Option<crate::classify::precomputed::AnalysisStore>,
}

impl Models {
    fn build(
        cfg: &AnalyzeConfig,
        embedder: &dyn Encoder,
        weights_sha256: &str,
        taxonomy: &Taxonomy,
        tuned: bool,
    ) -> Result<Models> {
        let mut settings = ClassifierSettings::default();
        if let Some(t) = cfg.topic_threshold {
            settings.topic_threshold = t;
        }
        let (sentiment, sentiment_info) = sentiment(cfg, embedder, weights_sha256)?;
        let (calibration, origin) =
            calibration::resolve(taxonomy, weights_sha256, cfg.topic_calibration.as_deref())
                .code(ExitCode::Usage)?;
        // Without a calibration the similarity rule decides, unless a
        // fine-tuned topic model (`tuned`) does.
        if let CalibrationOrigin::None { reason } = &origin {
            if !cfg.quiet && !tuned {
                eprintln!("warning: {reason}");
                edited_taxonomy_note(cfg, taxonomy);
            }
        }
        let topics_info =
            TopicsInfo::new(taxonomy, origin, calibration.as_ref(), cfg.topic_threshold);
        super::progress::note_taxonomy_examples(taxonomy, cfg.quiet);
        let mut classifier = Classifier::build(embedder, sentiment, taxonomy, settings)
            .code(ExitCode::Model)
            .with_context(|| format!("running the model from {} (--model)", cfg.model.display()))?;
        if let Some(c) = calibration {
            classifier = classifier
                .with_topic_calibration(c, cfg.topic_threshold)
                .code(ExitCode::Usage)?;
        }
        Ok(Models {
            classifier,
            settings,
            sentiment_info,
            topics_info,
            precomputed: None,
        })
    }
}

/// For an edited copy of the taxonomy the topic model was shipped for: that
/// it does not apply either, and how to retrain it.
fn edited_taxonomy_note(cfg: &AnalyzeConfig, taxonomy: &Taxonomy) {
    let Ok(meta) = crate::classify::finetune::shipped_meta() else {
        return;
    };
    if cfg.topic_model == TopicModelChoice::Default
        && taxonomy.name == meta.taxonomy.name
        && taxonomy.sha256 != meta.taxonomy.sha256
    {
        let note = format!(
            "note: the topic model shipped for the taxonomy `{}` {} does not fit this file either; \
             retrain it for the edited file: `verbatim train topics {} --fine-tune 2 \
             --out DIR` (about 3 minutes for 1,700 labelled comments on two cores) and pass --topic-model DIR",
            meta.taxonomy.name,
            meta.taxonomy.version,
            taxonomy.taxonomy_arg()
        );
        eprintln!("{note}");
    }
}

/// A fine-tuned topic model attached to the encoder.
pub struct AttachedTopicModel {
    pub meta: TopicModelFile,
    /// The one shipped for the default taxonomy and encoder, not
    /// `--topic-model DIR`.
    pub shipped: bool,
    pub dir: PathBuf,
}

impl TopicModelChoice {
    /// `--topic-model`'s value: absent, `none`, or a folder.
    pub fn from_flag(flag: Option<&Path>) -> TopicModelChoice {
        match flag {
            None => TopicModelChoice::Default,
            Some(p) if p.as_os_str() == "none" => TopicModelChoice::Off,
            Some(p) => TopicModelChoice::Dir(p.to_path_buf()),
        }
    }
}

/// The topic model of `--topic-model` (or the shipped one, by default,
/// where it fits the taxonomy and the encoder and no calibration is named
/// with `calibration_given`), checked against both and attached to
/// `encoder`. `analyze` and `discover` both decide topics this way.
pub fn attach_topic_model(
    choice: &TopicModelChoice,
    calibration_given: bool,
    encoder: &mut TransformerEncoder,
    taxonomy: &Taxonomy,
    weights_sha256: &str,
) -> Result<Option<AttachedTopicModel>> {
    let (m, shipped) = match choice {
        TopicModelChoice::Off => return Ok(None),
        // A calibration the user names is their choice of topic rule.
        TopicModelChoice::Default if calibration_given => return Ok(None),
        TopicModelChoice::Default => {
            match TopicModelDir::shipped_for(taxonomy, weights_sha256).code(ExitCode::Model)? {
                Some(m) => (m, true),
                None => return Ok(None),
            }
        }
        TopicModelChoice::Dir(dir) => {
            let m = TopicModelDir::load(dir)
                .and_then(|m| m.check(taxonomy, weights_sha256).map(|()| m))
                .code(ExitCode::Usage)
                .with_context(|| format!("--topic-model {}", dir.display()))?;
            (m, false)
        }
    };
    m.attach(encoder).code(ExitCode::Model)?;
    Ok(Some(AttachedTopicModel {
        meta: m.meta,
        shipped,
        dir: m.dir,
    }))
}

impl Models {
    /// Topics from the fine-tuned `model` instead of the calibration; the
    /// manifest says so.
    fn use_topic_model(
        &mut self,
        attached: &AttachedTopicModel,
        threshold_override: Option<f32>,
        taxonomy: &Taxonomy,
    ) -> Result<()> {
        let model = &attached.meta;
        self.classifier
            .set_tuned_topics(model, threshold_override)
            .code(ExitCode::Usage)?;
        let t = &mut self.topics_info;
        let backup = !matches!(t.calibration, CalibrationOrigin::None { .. });
        let mut info = crate::output::manifest::TopicModelInfo::new(
            if attached.shipped { "shipped" } else { "file" },
            attached.dir.display().to_string(),
            model,
        );
        if backup {
            // The calibration stays, as the branch's backup: its origin and
            // provenance stay in the manifest.
            t.rule = format!(
                "fine-tuned top {} layers; the calibration adds topics it is at least {} sure of",
                model.settings.layers,
                crate::classify::SURE_CALIBRATION
            );
            info.calibration_backup_at = Some(crate::classify::SURE_CALIBRATION);
        } else {
            t.rule = format!("fine-tuned top {} layers", model.settings.layers);
            t.calibration = CalibrationOrigin::None {
                reason: format!(
                    "replaced by --topic-model (weights sha256 {})",
                    model.weights_sha256
                ),
            };
            t.provenance = None;
        }
        t.topic_model = Some(info);
        t.thresholds = Some(
            taxonomy
                .topics
                .iter()
                .map(|x| (x.id.clone(), model.threshold))
                .collect(),
        );
        Ok(())
    }
}

/// The sentiment model of the settings, loaded, and what the manifest says
/// of it.
fn sentiment(
    cfg: &AnalyzeConfig,
    embedder: &dyn Encoder,
    weights_sha256: &str,
) -> Result<(SentimentModel, SentimentInfo)> {
    Ok(match &cfg.sentiment {
        SentimentChoice::Model { dir, labels } => {
            let m = load_sentiment_model(dir, labels, &cfg.encoder)?;
            let info = SentimentInfo::Model(m.info.clone());
            (SentimentModel::Model(Box::new(m)), info)
        }
        SentimentChoice::Head(path) => {
            let (head, origin) = head::resolve(embedder, weights_sha256, path.as_deref())?;
            if let HeadOrigin::FittedAtStart { rows, seconds } = &origin {
                if !cfg.quiet {
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
    })
}

/// Loads `--sentiment-model` with its `--sentiment-labels`: a bad flag value
/// is a usage error, a folder that cannot be used a model error.
pub fn load_sentiment_model(
    dir: &Path,
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

/// What the pass and the statistics wrote into the output folder.
struct Written {
    result: PassResult,
    drivers: DriverAnalysis,
    examples: Vec<TopicExamples>,
    tables: Vec<TableInfo>,
}

/// The settings of the pass over `input`.
fn pass_settings(cfg: &AnalyzeConfig, input: &Input) -> PassSettings {
    PassSettings {
        min_n: cfg.min_n,
        date_column: input.date_column,
        weight_column: input.weight_column,
        questions: input.questions.clone(),
        date_format: input
            .dates
            .as_ref()
            .map_or_else(DateFormat::default, |d| d.format.clone()),
        periods: cfg.periods.clone(),
        segments: input.segments.clone(),
        fdr: cfg.fdr,
        team_columns: input.team_columns.clone(),
        followup_limit: cfg.followup_limit,
        redact: cfg.masking.shown(),
        not_segments: input.left_out.iter().map(|p| p.0).collect(),
        masked_columns: if cfg.masking.shown() {
            input.left_out.clone()
        } else {
            Vec::new()
        },
        source: input.source.clone(),
        mode: cfg.read.mode,
        ..Default::default()
    }
}

/// The pass over the export, streaming its tables into `out`, then the
/// whole-run tables and the driver statistics.
fn write_pass(
    cfg: &AnalyzeConfig,
    input: &mut Input,
    out: &OutputDir,
    run_id: &str,
    taxonomy: &Taxonomy,
    embedder: &dyn Encoder,
    models: &Models,
) -> Result<Written> {
    let bar = RunProgress::new(cfg.quiet, input.stream.byte_progress());
    let mut progress = |done: u64| bar.update(done);
    let pass = pass_settings(cfg, input);
    let topic_ids: Vec<String> = taxonomy.topics.iter().map(|t| t.id.clone()).collect();
    let sink = StreamingOutputs::create(
        out,
        &input.source,
        &input.segment_columns,
        input.date_column,
        &input.questions,
        run_id,
        taxonomy,
    )?;
    let redactor = Redactor::new();
    let shown = cfg.masking.shown();
    // An example is a clause of a comment, masked as part of the whole
    // comment: no clause shows part of an address or a name.
    let mask = |t: &str, part: std::ops::Range<usize>| {
        crate::text::redact::shown_text(shown.then_some(&redactor), t, part)
    };
    let sink = MaskedRejects {
        inner: sink,
        redactor: (cfg.masking == Masking::Everywhere).then_some(&redactor),
    };
    let mut sink = ExampleCollector::new(sink, taxonomy, 3, mask);
    let head = std::mem::take(&mut input.head);
    let mut result = run_pass(
        head.into_iter().chain(input.stream.by_ref()),
        &input.segment_columns,
        PassModels {
            encoder: embedder,
            classifier: &models.classifier,
            precomputed: models.precomputed.as_ref(),
        },
        &topic_ids,
        &pass,
        &mut sink,
        &mut progress,
    )
    .map_err(|e| writing(e, out))?;
    drop(bar);
    let (examples, sink) = sink.finish();
    let mut tables = sink.inner.finish().map_err(|e| writing(e, out))?;
    let counts = std::mem::replace(&mut result.counts, DriverCounts::empty());
    let settings = cfg.analysis_settings();
    let mut drivers = match cfg.read.mode {
        Mode::Nps => crate::stats::driver_stats::analyse(counts, &topic_ids, &settings),
        Mode::TopicsOnly => topics_only_analysis(&result, &counts, &topic_ids, &settings),
    };
    if cfg.survey == Survey::Employee {
        crate::stats::privacy::withhold_small_groups(
            &mut result.agg,
            &mut drivers.segments,
            cfg.min_n,
        );
    }
    let agg_topic = tables::agg_topic(&result.topics.rows(cfg.min_n));
    for t in [
        tables::dim_topic(taxonomy),
        tables::agg_nps(&result.agg),
        agg_topic,
    ] {
        tables.push(TableFiles::write_whole(out, &t, &BI_FORMATS).map_err(|e| writing(e, out))?);
    }
    let driver_tables = crate::output::driver_tables::write_driver_tables(
        out,
        &drivers,
        &result.drivers,
        &crate::output::driver_tables::DriverTableContext {
            // No key-driver row per topic without a score to model.
            topics: if cfg.read.mode.scored() {
                &topic_ids
            } else {
                &[]
            },
            min_n: cfg.min_n,
            alert_z: settings.alert_z,
            segment_columns: &input.segment_columns,
            date_column: input.date_column,
        },
    )?;
    tables.extend(driver_tables);
    if cfg.read.mode == Mode::TopicsOnly {
        note_left_out_tables(&mut tables);
    }
    out.write(views::FILE, views::views_sql(&tables).as_bytes())
        .map_err(|e| writing(e, out))?;
    Ok(Written {
        result,
        drivers,
        examples,
        tables,
    })
}

/// The alerts of a run without scores, from its topic counts of the finest
/// period kind, and its team rates; every other driver statistic needs a
/// score.
fn topics_only_analysis(
    result: &PassResult,
    counts: &DriverCounts,
    topic_ids: &[String],
    settings: &AnalysisSettings,
) -> DriverAnalysis {
    let alerts = match result.topics.finest() {
        Some(kind) => crate::stats::alerts::alerts_of_series(
            &result.topics.alert_series(kind),
            topic_ids,
            settings.alert_z,
            settings.min_n,
        ),
        None => Vec::new(),
    };
    DriverAnalysis::topics_only(alerts, counts, topic_ids, settings)
}

/// The tables a run without scores writes with their columns and no rows,
/// so that a BI model built on them keeps loading.
pub const LEFT_OUT_TABLES: [&str; 6] = [
    "agg_nps",
    "topic_driver",
    "key_driver",
    "driver_change",
    "segment_driver",
    "followup",
];

/// Why [`LEFT_OUT_TABLES`] are empty, on each of them in the manifest.
const LEFT_OUT_NOTE: &str =
    "left empty: no score column (--no-score), so no NPS, drivers, ΔNPS or call-back list";

/// Notes [`LEFT_OUT_NOTE`] on the tables a run without scores leaves empty.
fn note_left_out_tables(tables: &mut [TableInfo]) {
    for t in tables.iter_mut() {
        if LEFT_OUT_TABLES.contains(&t.name.as_str()) {
            t.note = Some(LEFT_OUT_NOTE.to_string());
        }
    }
}

/// The manifest's `mode_note` of a run without scores.
fn mode_note(mode: Mode) -> Option<String> {
    (mode == Mode::TopicsOnly).then(|| {
        format!(
            "no score column (--no-score): topics, sentiment and their trend only \
             (agg_topic, alerts, fact_response, fact_answer, bridge_response_topic), \
             and the teams' topic mentions against the rest (team_view); \
             NPS, drivers, ΔNPS and the call-back list are left out, and {} are written \
             with their columns and no rows; fact_response's score, bucket, nps_code, \
             is_promoter, is_detractor and sentiment_mismatch are null",
            LEFT_OUT_TABLES.join(", ")
        )
    })
}

/// The run's timings; `from_cache` texts were read from the cache, not
/// embedded, so they count in neither `texts_embedded` nor its rate.
fn timings(result: &PassResult, from_cache: usize, started: Instant) -> Timings {
    let embed_s = result.embed_time.as_secs_f64();
    let embedded = result.texts_embedded.saturating_sub(from_cache);
    let total_s = started.elapsed().as_secs_f64();
    let rate = |n: usize, s: f64| if s > 0.0 && n > 0 { n as f64 / s } else { 0.0 };
    Timings {
        texts_embedded: embedded,
        texts_from_cache: result.texts_embedded - embedded,
        embed_seconds: embed_s,
        texts_per_second: rate(embedded, embed_s),
        total_seconds: total_s,
        comments_per_second: rate(result.with_comment as usize, total_s),
    }
}

fn counts(result: &PassResult, drivers: &DriverAnalysis, mode: Mode) -> Counts {
    let scored = |n: u64| mode.scored().then_some(n);
    Counts {
        read: result.read,
        analysed: result.analysed,
        rejected: result.rejected,
        reject_rate: reject_rate(result),
        with_comment: result.with_comment,
        placeholder_comments: result.placeholder_comments,
        unparsed_dates: result.unparsed_dates,
        sentiment_mismatch: scored(drivers.mismatches),
        followup_candidates: scored(drivers.followup_candidates),
        followups: scored(drivers.followups.len() as u64),
        alerts: drivers.alerts.len() as u64,
    }
}

fn reject_rate(result: &PassResult) -> f64 {
    if result.read == 0 {
        0.0
    } else {
        result.rejected as f64 / result.read as f64
    }
}

/// The exit code of a run whose outputs are written, with the message that
/// explains it.
fn exit_code(
    cfg: &AnalyzeConfig,
    manifest: &RunManifest,
    drivers: &DriverAnalysis,
    target: &Path,
) -> ExitCode {
    let c = &manifest.counts;
    if c.read > 0 && c.analysed == 0 {
        let hint = match &manifest.input.score_column {
            Some(score) => format!(
                " (is `{score}` the score column? give another with --score-column, \
                 or --no-score to analyse topics and sentiment only)"
            ),
            None => String::new(),
        };
        eprintln!(
            "error: all {} rows were rejected; see the reasons in {}{hint}",
            c.read,
            target.join("rejects.csv").display(),
        );
        return ExitCode::TooManyRejects;
    }
    match cfg.max_reject_rate {
        Some(max) if c.reject_rate > max => {
            eprintln!(
                "error: {:.1}% of the rows were rejected, more than --max-reject-rate {:.1}%; see {}",
                100.0 * c.reject_rate,
                100.0 * max,
                target.join("rejects.csv").display()
            );
            ExitCode::TooManyRejects
        }
        _ if cfg.fail_on_alert && !drivers.alerts.is_empty() => {
            eprintln!(
                "error: {} alert(s) fired and --fail-on-alert was given; see {}",
                drivers.alerts.len(),
                target.join("alerts.csv").display()
            );
            ExitCode::AlertsFired
        }
        _ => ExitCode::Success,
    }
}

/// Forwards to `inner`, masking the raw records of rejects with `--redact`.
struct MaskedRejects<'r, S: PassSink> {
    inner: S,
    redactor: Option<&'r Redactor>,
}

impl<S: PassSink> PassSink for MaskedRejects<'_, S> {
    fn responses(&mut self, chunk: &[AnalyzedResponse]) -> Result<()> {
        self.inner.responses(chunk)
    }

    fn reject(&mut self, reject: &Reject) -> Result<()> {
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
