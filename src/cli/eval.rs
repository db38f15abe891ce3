//! `verbatim eval`: score sentiment or topic predictions against labels.

use crate::input::labelled::{read_labelled, LabelledSpec};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use anyhow::{bail, Context, Result};

use super::encoder_args::{count_in, fraction, EncoderArgs};
use crate::app::analyze::TopicModelChoice;
use crate::classify::calibration::{self, FitSettings, TopicCalibration};
use crate::classify::embed::{analyse_texts, classify_embedded, embed_comments};
use crate::classify::head::{self, parse_polarity};
use crate::classify::metrics::{self, multilabel, Confusion, MultiLabelScore};
use crate::classify::topics::TopicModel;
use crate::classify::{
    Classifier, ClassifierSettings, Polarity, Prototypes, SentimentModel, Taxonomy,
};
use crate::exit_codes::ExitCode;
use crate::output::OutputDir;

/// The baseline prototypes: a handful of obvious sentences per class and language.
pub const BASELINE_PROTOTYPES: &str =
    include_str!("../../models/sentiment/baseline-prototypes.toml");

/// Arguments of `verbatim eval`.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    pub task: Task,
}

/// Which rows of a labelled CSV to read and how to read their labels.
#[derive(clap::Args, Debug, Clone)]
pub struct DataArgs {
    /// Labelled CSV file with a header.
    #[arg(long)]
    pub data: PathBuf,
    /// Column with the text.
    #[arg(long, default_value = "text")]
    pub text_column: String,
    /// Column with the label(s) [default: `label` for sentiment, `topics` for topics, the columns `train` reads]
    #[arg(long)]
    pub label_column: Option<String>,
    /// Several labels in one cell, separated by this string (e.g. `|`) [default for topics: `|`, as `train topics`]
    #[arg(long)]
    pub label_sep: Option<String>,
    /// Map raw labels to classes or topic ids, e.g. `1=negative,2=negative,3=neutral`
    /// (applied after taking the part after the last `:` for sentiment).
    #[arg(long, value_delimiter = ',')]
    pub label_map: Vec<String>,
    /// Keep only rows where COLUMN equals VALUE (`split=test`); repeat for several.
    #[arg(long = "where")]
    pub filters: Vec<String>,
    /// Score a deterministic sample of this many rows (seeded by --seed).
    #[arg(long, value_parser = count_in(1, 1_000_000_000))]
    pub sample: Option<usize>,
    /// Seed of --sample.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Field delimiter.
    #[arg(long, default_value_t = ',')]
    pub delimiter: char,
}

/// What to evaluate.
#[derive(clap::Subcommand, Debug)]
pub enum Task {
    /// Sentiment: accuracy, macro-F1 and per-class precision/recall of the
    /// sentiment head, next to two baselines computed on the same rows: the
    /// majority class of the labels, and plain prototypes (nearest mean
    /// embedding of a handful of obvious sentences per class and language).
    /// With --sentiment-model, the fine-tuned model is scored on the same
    /// rows too (row `model`), so it can be compared with the head.
    ///
    /// Rows whose labels disagree (several labels with different polarities)
    /// are counted as mixed and left out; rows without a label are left out.
    ///
    /// Example: verbatim eval sentiment --data reviews.csv --text-column review_body
    ///   --label-column stars --label-map 1=negative,2=negative,3=neutral,4=positive,5=positive
    Sentiment(SentimentArgs),
    /// Topics: micro-averaged precision, recall and F1 over (row, topic id)
    /// pairs, macro-F1 over the topics in the labels, exact-match rate and
    /// per-topic scores, for three methods on the same rows: the uncalibrated
    /// similarity rule (nothing fitted); a calibration fitted and scored by
    /// nested k-fold cross-validation on these rows (each fold predicted by
    /// models and thresholds fitted on the other folds only); and the
    /// calibration `analyze` would use (--topic-calibration or the shipped
    /// one), marked in-sample when these rows are among its training files.
    /// Labels are topic ids.
    ///
    /// Example: verbatim eval topics --data labelled.csv (columns `text` and `topics`, ids joined by `|`)
    Topics(TopicsArgs),
}

/// Arguments of `verbatim eval sentiment`.
#[derive(clap::Args, Debug)]
pub struct SentimentArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// Sentiment head file [default: as `analyze` chooses]
    #[arg(long)]
    pub sentiment_head: Option<PathBuf>,
    /// Fine-tuned sequence-classification folder to score as well, as `analyze --sentiment-model` runs it.
    #[arg(long)]
    pub sentiment_model: Option<PathBuf>,
    /// Polarity of each class of --sentiment-model in class-id order (e.g. neg,neu,pos), for LABEL_0-style class names.
    #[arg(long, value_delimiter = ',', requires = "sentiment_model")]
    pub sentiment_labels: Vec<String>,
    /// Folder for the summary and the confusion tables (CSV).
    #[arg(long)]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub encoder: EncoderArgs,
}

/// Arguments of `verbatim eval topics`.
#[derive(clap::Args, Debug)]
pub struct TopicsArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// Taxonomy TOML file [default: the built-in contact-center taxonomy]
    #[arg(long)]
    pub taxonomy: Option<PathBuf>,
    /// Cosine a clause needs to a topic's examples under the similarity rule, 0 to 1 [default: 0.85]
    #[arg(long, value_parser = fraction)]
    pub topic_threshold: Option<f32>,
    /// Topic calibration to score as `analyze` would use it [default: the shipped one for the taxonomy and model, if any]
    #[arg(long)]
    pub topic_calibration: Option<PathBuf>,
    /// Fine-tuned topic model to score as `analyze` would use it, or `none` [default: the one shipped for the default taxonomy and model, where both match and no --topic-calibration is given]
    #[arg(long, value_name = "DIR|none", conflicts_with = "topic_calibration")]
    pub topic_model: Option<PathBuf>,
    /// Folds of the cross-validated calibration, 2 to 100.
    #[arg(long, default_value_t = 5, value_parser = count_in(2, 100))]
    pub folds: usize,
    /// Folder for the per-topic table (CSV).
    #[arg(long)]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub encoder: EncoderArgs,
}

/// Labelled rows read from the file: text and raw label strings.
struct Rows {
    texts: Vec<String>,
    labels: Vec<Vec<String>>,
    /// Rows dropped by --where.
    filtered: usize,
}

/// The label column and separator of a task when the flags leave them out:
/// the same as `verbatim train` reads.
struct LabelDefaults {
    column: &'static str,
    sep: Option<&'static str>,
}

const SENTIMENT_LABELS: LabelDefaults = LabelDefaults {
    column: "label",
    sep: None,
};
const TOPIC_LABELS: LabelDefaults = LabelDefaults {
    column: "topics",
    sep: Some("|"),
};

fn read_rows(a: &DataArgs, defaults: &LabelDefaults) -> Result<Rows> {
    let file = a.data.display().to_string();
    let label_column = a.label_column.as_deref().unwrap_or(defaults.column);
    let label_sep = a.label_sep.as_deref().or(defaults.sep);
    let spec = LabelledSpec {
        text_column: &a.text_column,
        label_column,
        delimiter: u8::try_from(a.delimiter).context("--delimiter must be one byte")?,
        filters: &a.filters,
    };
    let reader = std::fs::File::open(&a.data).with_context(|| format!("opening {file}"))?;
    let read = read_labelled(reader, &file, &spec)?;
    let mut rows = Rows {
        texts: vec![],
        labels: vec![],
        filtered: read.filtered,
    };
    for row in read.rows {
        let raw = row.label.trim();
        let labels: Vec<String> = match label_sep {
            Some(sep) => raw
                .split(sep)
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect(),
            None if raw.is_empty() => vec![],
            None => vec![raw.to_string()],
        };
        rows.texts.push(row.text);
        rows.labels.push(labels);
    }
    if let Some(n) = a.sample {
        // Deterministic sample: order rows by a seeded hash of their index.
        let mut idx: Vec<usize> = (0..rows.texts.len()).collect();
        idx.sort_by_key(|&i| splitmix(a.seed ^ (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)));
        idx.truncate(n);
        idx.sort_unstable();
        rows.texts = idx.iter().map(|&i| rows.texts[i].clone()).collect();
        rows.labels = idx.iter().map(|&i| rows.labels[i].clone()).collect();
    }
    Ok(rows)
}

fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn parse_map(items: &[String]) -> Result<BTreeMap<String, String>> {
    items
        .iter()
        .map(|m| {
            m.split_once('=')
                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                .with_context(|| format!("--label-map `{m}`: expected RAW=LABEL"))
        })
        .collect()
}

/// What a labelled row says about its comment's sentiment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Gold {
    /// One polarity.
    One(Polarity),
    /// Labelled `mixed` or `conflict`, or a positive and a negative label.
    Mixed,
    /// Labels that disagree without being mixed (positive and neutral,
    /// negative and neutral): left out.
    Unclear,
}

/// Resolves one row's raw labels (one or more, `aspect:polarity` allowed).
fn row_gold(raw: &[String], map: &BTreeMap<String, String>) -> Result<Gold> {
    let mut set = BTreeSet::new();
    let mut mixed = false;
    for r in raw {
        let r = r.rsplit(':').next().unwrap_or(r).trim();
        let mapped = map.get(r).map(String::as_str).unwrap_or(r);
        match parse_polarity(mapped) {
            Some(p) => {
                set.insert(p);
            }
            None if mapped.eq_ignore_ascii_case("conflict")
                || mapped.eq_ignore_ascii_case(head::MIXED) =>
            {
                mixed = true
            }
            None => {
                bail!("label `{r}` is not negative, neutral, positive or mixed (use --label-map)")
            }
        }
    }
    let both = set.contains(&Polarity::Positive) && set.contains(&Polarity::Negative);
    Ok(if mixed || both {
        Gold::Mixed
    } else if set.len() == 1 {
        set.into_iter().next().map_or(Gold::Unclear, Gold::One)
    } else {
        Gold::Unclear
    })
}

fn print_table(name: &str, c: &Confusion) {
    let per: Vec<String> = c
        .per_class()
        .iter()
        .map(|s| format!("{} P {:.3} R {:.3}", s.label, s.precision, s.recall))
        .collect();
    println!(
        "{name:<11} n {:>6}  accuracy {:.3}  macro-F1 {:.3}  {}",
        c.total(),
        c.accuracy(),
        c.macro_f1(),
        per.join("  ")
    );
}

/// The manifest of an `eval` output folder: the tool and the command (the
/// output folder adds its schema and files).
fn eval_manifest(command: &str) -> serde_json::Value {
    serde_json::json!({ "tool": crate::output::owned::tool(), "command": command })
}

/// Runs `verbatim eval`.
pub fn run(args: Args) -> Result<ExitCode> {
    let (Task::Sentiment(SentimentArgs { out, encoder, .. })
    | Task::Topics(TopicsArgs { out, encoder, .. })) = &args.task;
    if let (Some(out), Some(cache)) = (out, &encoder.cache) {
        crate::output::owned::check_cache_outside(cache, out, Some(cache), None)?;
    }
    match args.task {
        Task::Sentiment(a) => eval_sentiment(a),
        Task::Topics(a) => eval_topics(a),
    }
}

/// Texts with their labels, and the rows left out.
struct SentimentRows<'r> {
    texts: Vec<&'r str>,
    /// Per text: one polarity or mixed (never [`Gold::Unclear`]).
    gold: Vec<Gold>,
    /// Rows whose labels disagree without being mixed.
    unclear: usize,
    /// Rows without text or label, or whose text is a placeholder.
    empty: usize,
}

fn sentiment_rows<'r>(rows: &'r Rows, data: &DataArgs) -> Result<SentimentRows<'r>> {
    let map = parse_map(&data.label_map)?;
    let (mut texts, mut gold) = (Vec::new(), Vec::new());
    let (mut unclear, mut empty) = (0, 0);
    for (i, (t, l)) in rows.texts.iter().zip(&rows.labels).enumerate() {
        // A placeholder ("n/a", "keine Angabe") is no comment to `analyze`,
        // which gives it no sentiment.
        if t.trim().is_empty() || l.is_empty() || crate::text::non_answer::is_non_answer(t) {
            empty += 1;
            continue;
        }
        match row_gold(l, &map)
            .with_context(|| format!("{}: data row {}", data.data.display(), i + 1))?
        {
            Gold::Unclear => unclear += 1,
            g => {
                texts.push(t.as_str());
                gold.push(g);
            }
        }
    }
    anyhow::ensure!(
        gold.iter().any(|g| matches!(g, Gold::One(_))),
        "{}: no row labelled negative, neutral or positive to score",
        data.data.display()
    );
    Ok(SentimentRows {
        texts,
        gold,
        unclear,
        empty,
    })
}

const CLASSES: [&str; 3] = ["negative", "neutral", "positive"];

fn class_index(p: Polarity) -> usize {
    match p {
        Polarity::Negative => 0,
        Polarity::Neutral => 1,
        Polarity::Positive => 2,
    }
}

/// `verbatim eval sentiment`.
fn eval_sentiment(a: SentimentArgs) -> Result<ExitCode> {
    let rows = read_rows(&a.data, &SENTIMENT_LABELS)?;
    let r = sentiment_rows(&rows, &a.data)?;
    let loaded = a.encoder.load()?;
    let embedder = loaded.embedder()?;
    let model = match &a.sentiment_model {
        Some(dir) => Some(crate::app::analyze::load_sentiment_model(
            dir,
            &a.sentiment_labels,
            &a.encoder.options(),
        )?),
        None => None,
    };
    let (head, origin) = head::resolve(
        &*embedder,
        &loaded.weights_sha256,
        a.sentiment_head.as_deref(),
    )?;
    let n_mixed = r.gold.iter().filter(|g| **g == Gold::Mixed).count();
    println!(
        "{}: {} rows scored, {} labelled mixed ({} left out by --where, {} without text or label or only a placeholder, {} whose labels disagree without being mixed); sentiment head: {}",
        a.data.data.display(),
        r.texts.len() - n_mixed,
        n_mixed,
        rows.filtered,
        r.empty,
        r.unclear,
        serde_json::to_string(&origin)?
    );
    let model_info = model.as_ref().map(|m| m.info.clone());
    let SentimentScores { methods, mixed } = sentiment_confusions(&r, &*embedder, head, model)?;
    for (name, c) in &methods {
        print_table(name, c);
    }
    print_mixed(&mixed);
    let f1 = |n: &str| {
        methods
            .iter()
            .find(|(m, _)| *m == n)
            .map(|(_, c)| c.macro_f1())
    };
    println!(
        "head − prototypes: macro-F1 {:+.3}",
        f1("head").unwrap_or(0.0) - f1("prototypes").unwrap_or(0.0)
    );
    if let Some(info) = &model_info {
        println!(
            "model − head: macro-F1 {:+.3} (model {}, labels {})",
            f1("model").unwrap_or(0.0) - f1("head").unwrap_or(0.0),
            info.path,
            serde_json::to_string(&info.labels)?
        );
    }
    if let Some(dir) = &a.out {
        write_sentiment_tables(dir, &methods, &mixed)?;
    }
    Ok(ExitCode::Success)
}

/// How a method's mixed flag (a sure positive and a sure negative clause,
/// [`crate::classify::holds_both`], what `analyze` writes as
/// `sentiment_mixed`) agrees with the rows labelled mixed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct MixedScore {
    rows: usize,
    gold: usize,
    flagged: usize,
    /// Rows labelled mixed and flagged.
    both: usize,
}

impl MixedScore {
    fn of(gold: &[Gold], flagged: &[bool]) -> MixedScore {
        let mut m = MixedScore {
            rows: gold.len(),
            ..MixedScore::default()
        };
        for (g, &f) in gold.iter().zip(flagged) {
            let is = *g == Gold::Mixed;
            m.gold += usize::from(is);
            m.flagged += usize::from(f);
            m.both += usize::from(is && f);
        }
        m
    }

    /// Precision, recall and F1 of the flag ([`metrics::prf`]); NaN where
    /// undefined: precision with nothing flagged, recall and F1 with no row
    /// labelled mixed.
    fn prf(&self) -> (f64, f64, f64) {
        let (p, r, f) = metrics::prf(
            self.both as u64,
            (self.flagged - self.both) as u64,
            (self.gold - self.both) as u64,
        );
        let defined = |n: usize, v: f64| if n == 0 { f64::NAN } else { v };
        (
            defined(self.flagged, p),
            defined(self.gold, r),
            defined(self.gold, f),
        )
    }
}

fn print_mixed(mixed: &[(&str, MixedScore)]) {
    let Some((_, first)) = mixed.first() else {
        return;
    };
    if first.gold == 0 {
        println!(
            "mixed: no row is labelled mixed, so the flag is not scored ({})",
            mixed
                .iter()
                .map(|(n, m)| format!("{n} flags {} of {}", m.flagged, m.rows))
                .collect::<Vec<_>>()
                .join(", ")
        );
        return;
    }
    println!(
        "mixed (a positive and a negative clause, each at probability ≥ {}, as analyze's `sentiment_mixed`), all {} rows:",
        crate::classify::MIXED_CONFIDENCE,
        first.rows
    );
    let num = |x: f64| {
        if x.is_nan() {
            "–".to_string()
        } else {
            format!("{x:.3}")
        }
    };
    for (name, m) in mixed {
        let (p, r, f) = m.prf();
        println!(
            "{name:<12} gold {:>5}  flagged {:>5}  precision {}  recall {}  F1 {}",
            m.gold,
            m.flagged,
            num(p),
            num(r),
            num(f)
        );
    }
}

/// The three-class confusion of each method on the rows with one
/// polarity, and the mixed flag of the head (and the model) on every row.
struct SentimentScores {
    methods: Vec<(&'static str, Confusion)>,
    mixed: Vec<(&'static str, MixedScore)>,
}

/// The confusion table of each method on the same rows, in the order they
/// are printed: the model (when given), the head, the head averaged over
/// the clauses, the prototypes and the majority class; and the mixed flag
/// of the model and the head.
///
/// The model, the head and the prototypes each run as `verbatim analyze`
/// runs them ([`embed_comments`] and [`classify_embedded`], on one
/// embedding of the comments and their clauses): a comment's sentiment
/// from the whole comment, its mixed flag from its clauses.
fn sentiment_confusions(
    r: &SentimentRows,
    embedder: &dyn crate::model::Encoder,
    head: head::SentimentHead,
    model: Option<crate::classify::ModelSentiment>,
) -> Result<SentimentScores> {
    let tax = Taxonomy::default_contact_center();
    let head_ref = head.clone();
    let classifier =
        |m: SentimentModel| Classifier::build(embedder, m, &tax, ClassifierSettings::default());
    let baseline: Prototypes =
        toml::from_str(BASELINE_PROTOTYPES).context("baseline prototypes")?;
    let embedded = embed_comments(&r.texts, embedder)?;
    let run = |cls: &Classifier| -> Result<Vec<crate::classify::CommentAnalysis>> {
        classify_embedded(embedded.clone(), cls)?
            .into_iter()
            .zip(&r.texts)
            .map(|(a, t)| a.with_context(|| format!("no analysis of {t:?}")))
            .collect()
    };
    let head_a = run(&classifier(SentimentModel::Head(Box::new(head)))?)?;
    let proto_a = run(&classifier(SentimentModel::Prototypes(baseline))?)?;
    let model_a = match model {
        Some(m) => Some(run(&classifier(SentimentModel::Model(Box::new(m)))?)?),
        None => None,
    };
    // Also the mean of the head's probabilities over the whole comment and
    // its clauses (sentences and contrast parts), from the same vectors:
    // long reviews dilute in one mean-pooled vector.
    let head_clauses: Vec<Polarity> = embedded
        .comments()
        .iter()
        .map(|e| {
            let e = e.as_ref().context("a comment without an embedding")?;
            let mut p = head_ref.probabilities(embedded.vector(e.whole));
            if e.clause_ids.len() > 1 {
                for &i in &e.clause_ids {
                    let q = head_ref.probabilities(embedded.vector(i));
                    (0..3).for_each(|k| p[k] += q[k]);
                }
            }
            Ok(head::sentiment_of(p).label)
        })
        .collect::<Result<_>>()?;
    let idx = class_index;
    let mut c_mean = Confusion::new(&CLASSES);
    let mut c_head = Confusion::new(&CLASSES);
    let mut c_proto = Confusion::new(&CLASSES);
    let mut c_major = Confusion::new(&CLASSES);
    let mut c_model = Confusion::new(&CLASSES);
    let mut counts = [0usize; 3];
    for g in &r.gold {
        if let Gold::One(p) = g {
            counts[idx(*p)] += 1;
        }
    }
    let major = (0..3)
        .max_by_key(|&k| (counts[k], std::cmp::Reverse(k)))
        .unwrap_or(1);
    for (i, g) in r.gold.iter().enumerate() {
        let Gold::One(t) = *g else { continue };
        c_mean.add(idx(t), idx(head_clauses[i]));
        c_head.add(idx(t), idx(head_a[i].sentiment.label));
        c_proto.add(idx(t), idx(proto_a[i].sentiment.label));
        c_major.add(idx(t), major);
        if let Some(m) = &model_a {
            c_model.add(idx(t), idx(m[i].sentiment.label));
        }
    }
    let flags = |a: &[crate::classify::CommentAnalysis]| -> Vec<bool> {
        a.iter().map(|c| c.is_mixed()).collect()
    };
    let mut methods = vec![
        ("head", c_head),
        ("head_clauses", c_mean),
        ("prototypes", c_proto),
        ("majority", c_major),
    ];
    let mut mixed = vec![("head", MixedScore::of(&r.gold, &flags(&head_a)))];
    if let Some(m) = &model_a {
        methods.insert(0, ("model", c_model));
        mixed.insert(0, ("model", MixedScore::of(&r.gold, &flags(m))));
    }
    Ok(SentimentScores { methods, mixed })
}

/// `eval_summary.csv`, a confusion table per method and `eval_mixed.csv`
/// (the mixed flag of the head and the model) in `dir`.
fn write_sentiment_tables(
    dir: &std::path::Path,
    methods: &[(&str, Confusion)],
    mixed: &[(&str, MixedScore)],
) -> Result<()> {
    let o = OutputDir::create(dir)?;
    let mut summary =
        String::from("method,n,accuracy,macro_f1,class,precision,recall,f1,support\n");
    for (name, c) in methods {
        for s in c.per_class() {
            summary.push_str(&format!(
                "{name},{},{:.4},{:.4},{},{:.4},{:.4},{:.4},{}\n",
                c.total(),
                c.accuracy(),
                c.macro_f1(),
                s.label,
                s.precision,
                s.recall,
                s.f1,
                s.support
            ));
        }
        o.write(&format!("confusion_{name}.csv"), c.to_csv().as_bytes())?;
    }
    o.write("eval_summary.csv", summary.as_bytes())?;
    let mut flags = String::from("method,rows,gold_mixed,flagged,both,precision,recall,f1\n");
    for (name, m) in mixed {
        let (p, r, f) = m.prf();
        let num = |x: f64| {
            if x.is_nan() {
                String::new()
            } else {
                format!("{x:.4}")
            }
        };
        flags.push_str(&format!(
            "{name},{},{},{},{},{},{},{}\n",
            m.rows,
            m.gold,
            m.flagged,
            m.both,
            num(p),
            num(r),
            num(f)
        ));
    }
    o.write("eval_mixed.csv", flags.as_bytes())?;
    o.write_manifest(&eval_manifest("eval sentiment"))?;
    let target = o.commit()?;
    println!("tables in {}", target.display());
    Ok(())
}

/// Texts with the indices of their labelled topics, and the rows without
/// text.
struct TopicRows<'r> {
    texts: Vec<&'r str>,
    truth: Vec<Vec<usize>>,
    empty: usize,
    /// Rows whose label still says `?` (a `train suggest` file).
    not_labelled: usize,
}

fn topic_rows<'r>(rows: &'r Rows, data: &DataArgs, tax: &Taxonomy) -> Result<TopicRows<'r>> {
    let map = parse_map(&data.label_map)?;
    let mut texts = Vec::new();
    let mut truth: Vec<Vec<usize>> = Vec::new();
    let mut empty = 0;
    let mut not_labelled = 0;
    for (i, (t, l)) in rows.texts.iter().zip(&rows.labels).enumerate() {
        if matches!(l.as_slice(), [x] if crate::classify::calibration::is_not_labelled(x)) {
            not_labelled += 1;
            continue;
        }
        let mut set = BTreeSet::new();
        for r in l {
            let id = map.get(r).cloned().unwrap_or_else(|| r.clone());
            if id.is_empty() || id == "none" {
                continue;
            }
            let Some(k) = tax.index_of(&id) else {
                bail!(
                    "{}: data row {}: topic `{id}` is not in the taxonomy `{}` (use --label-map)",
                    data.data.display(),
                    i + 1,
                    tax.name
                );
            };
            set.insert(k);
        }
        if t.trim().is_empty() {
            empty += 1;
            continue;
        }
        texts.push(t.as_str());
        truth.push(set.into_iter().collect());
    }
    anyhow::ensure!(
        !texts.is_empty(),
        "{}: no rows with text to score",
        data.data.display()
    );
    Ok(TopicRows {
        texts,
        truth,
        empty,
        not_labelled,
    })
}

/// `verbatim eval topics`.
fn eval_topics(a: TopicsArgs) -> Result<ExitCode> {
    let rows = read_rows(&a.data, &TOPIC_LABELS)?;
    let tax = match &a.taxonomy {
        Some(p) => Taxonomy::from_file(p)?,
        None => Taxonomy::default_contact_center(),
    };
    let r = topic_rows(&rows, &a.data, &tax)?;
    let mut loaded = a.encoder.load()?;
    let embedder = loaded.embedder()?;
    let mut settings = ClassifierSettings::default();
    if let Some(t) = a.topic_threshold {
        settings.topic_threshold = t;
    }
    let topics = TopicModel::build(&*embedder, &tax)?;
    let scored = calibration::score_labelled(&r.texts, &r.truth, &*embedder, &topics, &settings)?;
    let truth: Vec<Vec<bool>> = scored.rows.iter().map(|r| r.truth.clone()).collect();
    let truth_ids = calibration::id_sets(&truth, &tax);
    let mut methods: Vec<(String, Vec<Vec<bool>>)> =
        vec![("similarity_rule".into(), scored.similarity_rule.clone())];
    let fit = FitSettings {
        folds: a.folds,
        ..FitSettings::default()
    };
    match calibration::cross_validate(&scored.rows, &fit) {
        Ok(p) => methods.push((format!("calibrated_cv{}", fit.folds.max(2)), p)),
        Err(e) => eprintln!("no cross-validated calibration: {e:#}"),
    }
    let data_sha = crate::model::manifest::sha256_file(&a.data.data)?;
    let (cal, origin) =
        calibration::resolve(&tax, &loaded.weights_sha256, a.topic_calibration.as_deref())?;
    let mut notes = Vec::new();
    if let Some(c) = &cal {
        let seen = fitted_on(c, &tax, &r.texts, &data_sha);
        let name = if seen > 0 {
            notes.push(format!("calibration_in_sample: {seen} of these rows were used to fit it, so its figures are optimistic; calibrated_cv is the held-out figure"));
            "calibration_in_sample"
        } else {
            "calibration"
        };
        methods.push((
            name.into(),
            scored.rows.iter().map(|r| c.assign(r, None)).collect(),
        ));
    }
    drop(embedder);
    // The fine-tuned topic model `analyze` would use, run as it runs it.
    let choice = TopicModelChoice::from_flag(a.topic_model.as_deref());
    if let Some(m) = loaded.attach_topic_model(&choice, a.topic_calibration.is_some(), &tax)? {
        let embedder = loaded.embedder()?;
        let cls = loaded.classifier(&*embedder, &tax, cal.clone(), Some(&m))?;
        let predicted: Vec<Vec<bool>> = analyse_texts(&r.texts, &*embedder, &cls)?
            .into_iter()
            .map(|a| {
                let mut p = vec![false; tax.topics.len()];
                for t in a.iter().flat_map(|a| &a.topics) {
                    p[t.topic] = true;
                }
                p
            })
            .collect();
        let seen = trained_on(&m.meta.training, &tax, &r.texts, &data_sha);
        let name = if seen > 0 {
            notes.push(format!("topic_model_in_sample: {seen} of these rows were used to train it, so its figures are optimistic"));
            "topic_model_in_sample"
        } else {
            "topic_model"
        };
        methods.push((name.into(), predicted));
    }
    println!(
        "{}: {} rows scored ({} left out by --where, {} without text, {} not labelled yet (`?`)); {} topics in the labels",
        a.data.data.display(),
        r.texts.len(),
        rows.filtered,
        r.empty,
        r.not_labelled,
        truth_ids.iter().flatten().collect::<BTreeSet<_>>().len()
    );
    if let calibration::CalibrationOrigin::None { reason } = &origin {
        println!("  {reason}");
    }
    let scores: Vec<(String, MultiLabelScore)> = methods
        .iter()
        .map(|(name, p)| {
            (
                name.clone(),
                multilabel(&truth_ids, &calibration::id_sets(p, &tax)),
            )
        })
        .collect();
    print_topic_scores(&scores, &notes, &tax);
    if let Some(dir) = &a.out {
        write_topic_table(dir, &scores)?;
    }
    Ok(ExitCode::Success)
}

/// Each method's micro and macro figures, then per topic the F1 of each.
fn print_topic_scores(scores: &[(String, MultiLabelScore)], notes: &[String], tax: &Taxonomy) {
    for (name, m) in scores {
        println!(
            "{name:<22} micro P {:.3} R {:.3} F1 {:.3}  macro-F1 {:.3}  exact match {:.3}",
            m.micro_precision,
            m.micro_recall,
            m.micro_f1,
            m.macro_f1_supported(),
            m.exact_match
        );
    }
    for n in notes {
        println!("  {n}");
    }
    println!(
        "per topic F1 ({}):",
        scores
            .iter()
            .map(|(n, _)| n.as_str())
            .collect::<Vec<_>>()
            .join(" / ")
    );
    for t in &tax.topics {
        let per: Vec<Option<&crate::classify::metrics::ClassScore>> = scores
            .iter()
            .map(|(_, m)| m.per_label.iter().find(|s| s.label == t.id))
            .collect();
        let support = per.iter().flatten().map(|s| s.support).next().unwrap_or(0);
        let f1: Vec<String> = per
            .iter()
            .map(|s| format!("{:.3}", s.map_or(0.0, |s| s.f1)))
            .collect();
        println!(
            "  {:<24} support {:>5}  F1 {}",
            t.id,
            support,
            f1.join(" / ")
        );
    }
}

/// `eval_topics.csv` in `dir`: per method and topic, and micro and macro.
fn write_topic_table(dir: &std::path::Path, scores: &[(String, MultiLabelScore)]) -> Result<()> {
    let o = OutputDir::create(dir)?;
    let mut table = String::from("method,topic_id,support,predicted,precision,recall,f1\n");
    for (name, m) in scores {
        for s in &m.per_label {
            table.push_str(&format!(
                "{name},{},{},{},{:.4},{:.4},{:.4}\n",
                s.label, s.support, s.predicted, s.precision, s.recall, s.f1
            ));
        }
        table.push_str(&format!(
            "{name},(micro),,,{:.4},{:.4},{:.4}\n{name},(macro),,,,,{:.4}\n",
            m.micro_precision,
            m.micro_recall,
            m.micro_f1,
            m.macro_f1_supported()
        ));
    }
    o.write("eval_topics.csv", table.as_bytes())?;
    o.write_manifest(&eval_manifest("eval topics"))?;
    println!("tables in {}", o.commit()?.display());
    Ok(())
}

/// How many of `texts` the calibration was fitted on: all of them when the
/// data file is one of its training files, else those among the shipped
/// labelled comments when it was fitted on those.
fn fitted_on(c: &TopicCalibration, tax: &Taxonomy, texts: &[&str], data_sha: &str) -> usize {
    trained_on(&c.provenance.training, tax, texts, data_sha)
}

/// How many of `texts` a model trained on `training` saw: all when the data
/// file is one of them, else those among the shipped labelled comments.
fn trained_on(
    training: &[head::TrainingSource],
    tax: &Taxonomy,
    texts: &[&str],
    data_sha: &str,
) -> usize {
    let files: BTreeSet<&str> = training.iter().map(|s| s.sha256.as_str()).collect();
    if files.contains(data_sha) {
        return texts.len();
    }
    let shipped = calibration::shipped_training(tax)
        .unwrap_or_default()
        .iter()
        .any(|(_, t)| files.contains(crate::model::manifest::sha256_bytes(t.as_bytes()).as_str()));
    if !shipped {
        return 0;
    }
    let Ok((rows, _)) = calibration::default_training(tax) else {
        return 0;
    };
    let known: BTreeSet<&str> = rows.iter().map(|r| r.text.as_str()).collect();
    texts.iter().filter(|t| known.contains(t.trim())).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn row_labels_resolve_to_one_polarity_or_mixed() {
        let map = parse_map(&["1=negative".into(), "3=neutral".into()]).unwrap();
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let gold = |v: &[&str]| row_gold(&s(v), &map).unwrap();
        assert_eq!(gold(&["1"]), Gold::One(Polarity::Negative));
        assert_eq!(
            gold(&["HOTEL:positiv", "LAGE:positiv"]),
            Gold::One(Polarity::Positive)
        );
        assert_eq!(gold(&["HOTEL:positiv", "LAGE:negativ"]), Gold::Mixed);
        assert_eq!(gold(&["FOOD#QUALITY:conflict"]), Gold::Mixed);
        assert_eq!(gold(&["Mixed"]), Gold::Mixed);
        // A positive and a neutral aspect are not a mixed comment.
        assert_eq!(gold(&["HOTEL:positiv", "3"]), Gold::Unclear);
        let err = row_gold(&s(&["7"]), &map).unwrap_err().to_string();
        assert!(err.contains("`7`") && err.contains("--label-map"), "{err}");
    }

    #[test]
    fn the_mixed_flag_is_scored_against_the_mixed_rows() {
        let pos = Gold::One(Polarity::Positive);
        let gold = [Gold::Mixed, Gold::Mixed, Gold::Mixed, pos, pos];
        let m = MixedScore::of(&gold, &[true, true, false, true, false]);
        assert_eq!(
            m,
            MixedScore {
                rows: 5,
                gold: 3,
                flagged: 3,
                both: 2
            }
        );
        let (p, r, f) = m.prf();
        assert!((p - 2.0 / 3.0).abs() < 1e-12 && (r - 2.0 / 3.0).abs() < 1e-12);
        assert!((f - 2.0 / 3.0).abs() < 1e-12);
        // Nothing flagged: no precision, F1 0; no row labelled mixed: no F1.
        let (p, _, f) = MixedScore::of(&gold, &[false; 5]).prf();
        assert!(p.is_nan() && f == 0.0);
        let (_, r, f) = MixedScore::of(&[pos, pos], &[true, false]).prf();
        assert!(r.is_nan() && f.is_nan());
    }
}
