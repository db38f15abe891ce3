//! `verbatim analyze`: one pass over a survey export.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};

use crate::aggregate::Period;
use crate::classify::{Classifier, ClassifierSettings, Prototypes, Taxonomy};
use crate::dates::find_date_column;
use crate::exit_codes::ExitCode;
use crate::input::{
    read_responses, reject_rate, write_rejects, InputEncoding, InputFormat, InputOptions, Scale,
};
use crate::model::manifest::{default_model_dir, sha256_file};
use crate::model::transformer::{DeviceChoice, EncoderOptions, TransformerEncoder};
use crate::model::{Encoder, Precision};
use crate::output::manifest::{
    Counts, InputInfo, ModelInfo, NpsInfo, RunManifest, TableInfo, TaxonomyInfo, Thresholds,
    Timings,
};
use crate::output::table::{CsvExporter, Exporter, ParquetExporter, Table};
use crate::output::tables;
use crate::output::OutputDir;
use crate::pipeline::{analyze, Analysis, DriverScope, PassSettings, SegmentChoice};

/// Analyse a survey export (CSV with a header): sentiment and topics per
/// comment, NPS, and the topics that drive low and high scores.
///
/// Writes into --out, each table as Parquet and CSV: fact_response (one row
/// per response), bridge_response_topic (response × topic), dim_topic,
/// agg_nps (NPS per segment and period, with intervals, comparisons and
/// Benjamini–Hochberg flags) and topic_driver; plus rejects.csv (rows that
/// could not be read, with file, line, column and reason) and manifest.json.
/// The folder is replaced as a whole at the end, so a failed run leaves the
/// previous results untouched.
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
    /// Column with the response date or date-time [default: found by name: date, responded_at, RecordedDate, Datum…]
    #[arg(long)]
    pub date_column: Option<String>,
    /// Segment column for NPS aggregates; repeat for several [default: every other column with at most 100 distinct values]
    #[arg(long = "segment-column")]
    pub segment_columns: Vec<String>,
    /// Periods of the NPS aggregates, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "week,month,quarter")]
    pub periods: Vec<Period>,
    /// False discovery rate for the Benjamini–Hochberg flags of agg_nps.
    #[arg(long, default_value_t = 0.05)]
    pub fdr: f64,
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
    /// Drivers with fewer mentions, and NPS aggregates with fewer responses, are computed but marked suppressed.
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
    let now = chrono::Utc::now();
    let started_at = now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let delimiter = match args.delimiter {
        Some(c) if c.is_ascii() => Some(c as u8),
        Some(c) => anyhow::bail!("--delimiter `{c}` must be one ASCII character"),
        None => None,
    };
    if let Some(r) = args.max_reject_rate {
        anyhow::ensure!(
            (0.0..=1.0).contains(&r),
            "--max-reject-rate {r} must be between 0 and 1"
        );
    }
    let input_opts = InputOptions {
        score_column: args.score_column.clone(),
        text_column: args.text_column.clone(),
        id_column: args.id_column.clone(),
        delimiter,
        encoding: args.encoding,
        format: args.format,
        scale: args.scale,
    };
    let taxonomy = match &args.taxonomy {
        Some(p) => Taxonomy::from_file(p)?,
        None => Taxonomy::default_contact_center(),
    };
    // Fail on the input and the output folder before the slow model load.
    let ingested = read_responses(&args.input, &input_opts)?;
    let source = args.input.display().to_string();
    let date_column = find_date_column(&ingested.segment_columns, args.date_column.as_deref())
        .map_err(|e| anyhow::anyhow!("{source}: {e}"))?;
    let segments = if args.segment_columns.is_empty() {
        SegmentChoice::Auto { max_values: 100 }
    } else {
        let mut idx = Vec::new();
        for name in &args.segment_columns {
            let i = ingested
                .segment_columns
                .iter()
                .position(|c| c == name)
                .with_context(|| {
                    format!(
                    "{source}: --segment-column `{name}` not found; the segment columns are: {}",
                    ingested.segment_columns.join(", ")
                )
                })?;
            idx.push(i);
        }
        SegmentChoice::Columns(idx)
    };
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
        date_column,
        periods: args.periods.clone(),
        segments,
        fdr: args.fdr,
        ..Default::default()
    };
    let columns = ingested.columns.clone();
    let read_as = (
        ingested.format,
        ingested.encoding,
        ingested.delimiter,
        ingested.scale,
    );
    let reject_rate = reject_rate(&ingested);
    let analysis = analyze(
        ingested,
        &encoder,
        &classifier,
        &taxonomy,
        pass,
        &mut progress,
    )?;

    let run_id = format!("{}-{}", now.format("%Y%m%dT%H%M%SZ"), &input_sha256[..8]);
    let tables: Vec<Table> = vec![
        tables::fact_response(&analysis, &run_id),
        tables::bridge_response_topic(&analysis, &taxonomy),
        tables::dim_topic(&taxonomy),
        tables::agg_nps(&analysis),
        tables::topic_driver(&analysis, args.min_n),
    ];
    let exporters: [&dyn Exporter; 2] = [&ParquetExporter, &CsvExporter];
    let mut table_info = Vec::new();
    for t in &tables {
        let mut files = Vec::new();
        for e in exporters {
            let name = format!("{}.{}", t.name, e.extension());
            let mut f = out.file(&name)?;
            e.export(t, &mut f)
                .with_context(|| format!("writing {name}"))?;
            f.flush()?;
            files.push(name);
        }
        table_info.push(TableInfo {
            name: t.name.clone(),
            rows: t.rows(),
            files,
        });
    }
    let mut rejects = out.file("rejects.csv")?;
    write_rejects(&mut rejects, &analysis.ingested_source, &analysis.rejects)?;
    rejects.flush()?;
    table_info.push(TableInfo {
        name: "rejects".into(),
        rows: analysis.rejects.len(),
        files: vec!["rejects.csv".into()],
    });

    let embed_s = analysis.embed_time.as_secs_f64();
    let name_of = |i: usize| analysis.segment_columns[i].clone();
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
            date_column: analysis.date_column.map(name_of),
            segment_columns: analysis.segment_columns.clone(),
            aggregated_segment_columns: analysis.agg_columns.iter().map(|&i| name_of(i)).collect(),
            scale: read_as.3.label().into(),
        },
        counts: Counts {
            read: analysis.read,
            analysed: analysis.responses.len(),
            rejected: analysis.rejects.len(),
            reject_rate,
            with_comment: analysis
                .responses
                .iter()
                .filter(|r| r.analysis.is_some())
                .count(),
            unparsed_dates: analysis.unparsed_dates,
        },
        nps: NpsInfo {
            nps: analysis.nps.score(),
            ci95: analysis.nps.adjusted_wald(crate::nps::Z95),
            promoters: analysis.nps.promoters,
            passives: analysis.nps.passives,
            detractors: analysis.nps.detractors,
        },
        model: ModelInfo {
            name: encoder.name(),
            path: model_dir.display().to_string(),
            sha256: encoder.info().weights_sha256(&model_dir)?,
            precision: format!("{:?}", encoder.kind()),
        },
        taxonomy: TaxonomyInfo {
            name: taxonomy.name.clone(),
            version: taxonomy.version.clone(),
            topics: taxonomy.topics.len(),
        },
        sentiment_prototypes_version: prototypes.version.clone(),
        thresholds: Thresholds {
            min_n: args.min_n,
            fdr_q: args.fdr,
            max_reject_rate: args.max_reject_rate,
            topic_threshold: settings.topic_threshold,
            topic_margin: settings.topic_margin,
            topic_min_gap: settings.topic_min_gap,
        },
        timings: Timings {
            texts_embedded: analysis.texts_embedded,
            embed_seconds: embed_s,
            texts_per_second: if embed_s > 0.0 {
                analysis.texts_embedded as f64 / embed_s
            } else {
                0.0
            },
            total_seconds: started.elapsed().as_secs_f64(),
        },
        tables: table_info,
    };
    out.write(
        "manifest.json",
        serde_json::to_string_pretty(&manifest)?.as_bytes(),
    )?;
    let target = out.commit()?;
    print_summary(&analysis, &manifest, &taxonomy, &target);
    match args.max_reject_rate {
        Some(max) if reject_rate > max => {
            eprintln!(
                "error: {:.1}% of the rows were rejected, more than --max-reject-rate {:.1}%; see {}",
                100.0 * reject_rate,
                100.0 * max,
                target.join("rejects.csv").display()
            );
            Ok(ExitCode::TooManyRejects)
        }
        _ => Ok(ExitCode::Success),
    }
}

fn print_summary(a: &Analysis, m: &RunManifest, tax: &Taxonomy, target: &std::path::Path) {
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
        println!("{title} (impact on NPS, 95% CI, mentions):");
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
    println!("results in {}", target.display());
}
