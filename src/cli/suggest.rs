//! `verbatim train suggest`: pick the comments of an export whose topic
//! labels would teach a calibration or a topic model most, into a CSV for a
//! person to label (the selection is [`crate::classify::suggest`]).

use std::collections::HashSet;
use std::path::PathBuf;

use anyhow::{Context, Result};
use rand::{Rng, SeedableRng};

use super::encoder_args::{count_in, number_in, EncoderArgs};
use crate::classify::calibration;
use crate::classify::suggest::{choose, Pick, Reason, Scored};
use crate::classify::topics::TopicModel;
use crate::classify::{ClassifierSettings, Taxonomy};
use crate::exit_codes::{ExitCode, WithCode};
use crate::input::{InputOptions, Mode, Record, ResponseStream};
use crate::model::Encoder;

/// Arguments of `verbatim train suggest`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Survey export (CSV, TSV or JSON Lines), read as `analyze --no-score` reads it.
    pub input: PathBuf,
    /// Column with the comment [default: found by name]
    #[arg(long)]
    pub text_column: Option<String>,
    /// Column with a unique response id [default: found by name, else a hash of the row]
    #[arg(long)]
    pub id_column: Option<String>,
    /// Taxonomy TOML file [default: the built-in contact-center taxonomy]
    #[arg(long)]
    pub taxonomy: Option<PathBuf>,
    /// Topic calibration of an earlier round [default: the one shipped for the taxonomy and model, if any; else the similarity rule]
    #[arg(long)]
    pub topic_calibration: Option<PathBuf>,
    /// Comments to pick, 1 to 100000.
    #[arg(long, default_value_t = 100, value_parser = count_in(1, 100_000))]
    pub n: usize,
    /// Labelled CSV (column `text`) whose comments are not picked again; repeat for several.
    #[arg(long)]
    pub exclude: Vec<PathBuf>,
    /// Score at most this many comments, a seeded random sample of the export's.
    #[arg(long, default_value_t = 20_000, value_parser = count_in(1, 10_000_000))]
    pub max_texts: usize,
    /// Share of the picks taken near the topics' decision boundaries (active learning), 0 to 1; the rest are drawn at random. 0 (the default) draws all at random and needs no model: on three aspect-labelled sets boundary picks (0.75) did no better than random ones on average (benches/active_learning.py)
    #[arg(long, default_value_t = 0.0, value_parser = number_in(0.0, 1.0))]
    pub near_boundary: f64,
    /// Seed of the sample and the draws.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Where to write the CSV to label; must not exist yet.
    #[arg(long, short)]
    pub out: PathBuf,
    #[command(flatten)]
    pub encoder: EncoderArgs,
}

/// Runs `verbatim train suggest`.
pub fn run(a: Args) -> Result<ExitCode> {
    if a.out.exists() {
        return Err(anyhow::anyhow!(
            "--out {}: the file exists; it may hold labels, so it is not overwritten: choose another name",
            a.out.display()
        ))
        .code(ExitCode::Usage);
    }
    let tax = match &a.taxonomy {
        Some(p) => Taxonomy::from_file(p).code(ExitCode::Usage)?,
        None => Taxonomy::default_contact_center(),
    };
    let Candidates {
        sample,
        distinct,
        excluded,
    } = read_candidates(&a)?;
    anyhow::ensure!(
        !sample.is_empty(),
        "{}: no comment to suggest ({excluded} already in --exclude files)",
        a.input.display()
    );
    // A random draw needs no model; picks near the boundaries score every
    // comment under the current topic rule.
    let (comments, rule) = if a.near_boundary > 0.0 {
        score(&a, &tax, &sample)?
    } else {
        (vec![Scored::default(); sample.len()], "no rule")
    };
    let picks = choose(&comments, a.n, 1.0 - a.near_boundary, a.seed);
    write_to_label(&a.out, &picks, &sample)?;
    print_summary(&a, &tax, rule, &picks, &comments, distinct, excluded);
    Ok(ExitCode::Success)
}

/// Each comment of `sample` as the current topic rule sees it (the
/// calibration's probabilities, or the similarity rule's cosines), and the
/// rule's name.
fn score(
    a: &Args,
    tax: &Taxonomy,
    sample: &[(String, String)],
) -> Result<(Vec<Scored>, &'static str)> {
    let loaded = a.encoder.load()?;
    let (cal, origin) =
        calibration::resolve(tax, &loaded.weights_sha256, a.topic_calibration.as_deref())
            .code(ExitCode::Usage)?;
    let rule = match (&cal, &origin) {
        (Some(_), _) => "the topic calibration",
        (None, calibration::CalibrationOrigin::None { reason }) => {
            eprintln!("warning: {reason}");
            "the similarity rule"
        }
        (None, _) => "the similarity rule",
    };
    eprintln!(
        "scoring {} comments with {} and {rule}",
        sample.len(),
        loaded.encoder.name()
    );
    let topics = TopicModel::build(&loaded.encoder, tax)?;
    let texts: Vec<&str> = sample.iter().map(|(_, t)| t.as_str()).collect();
    let scored = calibration::score_labelled(
        &texts,
        &vec![Vec::new(); texts.len()],
        &loaded.encoder,
        &topics,
        &ClassifierSettings::default(),
    )?;
    let comments: Vec<Scored> = scored
        .rows
        .iter()
        .zip(&scored.similarity_rule)
        .map(|(row, by_rule)| match &cal {
            Some(cal) => Scored {
                scores: (0..row.features.len())
                    .map(|t| row.features[t].map(|f| cal.probability(t, &f)))
                    .collect(),
                assigned: cal.assign(row, None),
            },
            None => Scored {
                scores: row.features.iter().map(|f| f.map(|f| f[0])).collect(),
                assigned: by_rule.clone(),
            },
        })
        .collect();
    Ok((comments, rule))
}

/// What was picked and why, and what to do next.
fn print_summary(
    a: &Args,
    tax: &Taxonomy,
    rule: &str,
    picks: &[Pick],
    comments: &[Scored],
    distinct: usize,
    excluded: usize,
) {
    let random = picks.iter().filter(|p| p.reason == Reason::Random).count();
    let how = if random == picks.len() {
        "drawn at random".to_string()
    } else {
        format!(
            "{} near a topic's boundary under {rule}, {random} at random",
            picks.len() - random
        )
    };
    println!(
        "wrote {}: {} of {} distinct comments to label ({how}){}",
        a.out.display(),
        picks.len(),
        distinct,
        if excluded > 0 {
            format!("; {excluded} comments of --exclude files skipped")
        } else {
            String::new()
        }
    );
    // Per topic, only where the rule scored the comments.
    let scored = comments.first().is_some_and(|c| !c.assigned.is_empty());
    for (t, topic) in tax.topics.iter().enumerate().filter(|_| scored) {
        let near = picks
            .iter()
            .filter(|p| p.reason == Reason::Boundary(t))
            .count();
        let now = comments.iter().filter(|c| c.assigned[t]).count();
        println!(
            "  {:<24} near its boundary {near:>4}  (assigned now {now})",
            topic.id
        );
    }
    println!(
        "label the `topics` column (ids joined by `|`, or `none`; rows left `{}` are skipped), then: verbatim train topics{} --data {} --out calibration.json (or --fine-tune --out DIR)",
        calibration::NOT_LABELLED,
        a.taxonomy
            .as_deref()
            .map_or(String::new(), |p| format!(" --taxonomy {}", p.display())),
        a.out.display()
    );
}

/// The comments `suggest` may pick.
struct Candidates {
    /// Id and text of each comment in the sample.
    sample: Vec<(String, String)>,
    /// Distinct comments of the export (placeholders and excluded ones left out).
    distinct: usize,
    /// Comments skipped because an --exclude file holds them.
    excluded: usize,
}

/// A seeded uniform sample of at most --max-texts distinct comments of the
/// export (reservoir sampling, so a large export costs no more than that),
/// without placeholders and without the texts of the --exclude files.
fn read_candidates(a: &Args) -> Result<Candidates> {
    let mut skip = HashSet::new();
    for p in &a.exclude {
        skip.extend(texts_of(p)?.iter().map(|t| dedup_key(t)));
    }
    let opts = InputOptions {
        text_column: a.text_column.clone(),
        id_column: a.id_column.clone(),
        mode: Mode::TopicsOnly,
        ..Default::default()
    };
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(a.seed);
    let mut seen = HashSet::new();
    let mut c = Candidates {
        sample: Vec::new(),
        distinct: 0,
        excluded: 0,
    };
    for rec in ResponseStream::open(&a.input, &opts)? {
        let Record::Response(r) = rec? else { continue };
        if crate::text::non_answer::is_non_answer(&r.comment) {
            continue;
        }
        let key = dedup_key(&r.comment);
        if skip.contains(&key) {
            c.excluded += 1;
            continue;
        }
        if !seen.insert(key) {
            continue;
        }
        c.distinct += 1;
        if c.sample.len() < a.max_texts {
            c.sample.push((r.id, r.comment));
        } else {
            let j = rng.random_range(0..c.distinct);
            if j < a.max_texts {
                c.sample[j] = (r.id, r.comment);
            }
        }
    }
    Ok(c)
}

/// The key two comments count as the same by: lower case, spaces collapsed.
fn dedup_key(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// The `text` column of a labelled CSV (an --exclude file).
fn texts_of(path: &std::path::Path) -> Result<Vec<String>> {
    let file = path.display().to_string();
    let mut rdr = csv::Reader::from_path(path).with_context(|| format!("reading {file}"))?;
    let headers = rdr
        .headers()
        .with_context(|| format!("{file}: reading the header"))?
        .clone();
    let i = headers
        .iter()
        .position(|h| h.trim() == "text")
        .with_context(|| {
            format!(
                "--exclude {file}: no column `text` (its columns: {})",
                headers.iter().collect::<Vec<_>>().join(", ")
            )
        })?;
    let mut out = Vec::new();
    for rec in rdr.records() {
        let rec = rec.with_context(|| format!("{file}: reading a row"))?;
        out.push(rec.get(i).unwrap_or("").to_string());
    }
    Ok(out)
}

/// Writes the picked comments as a CSV to label (id, text, topics = `?`),
/// whole or not at all; `path` must not exist when it is moved into place.
fn write_to_label(
    path: &std::path::Path,
    picks: &[Pick],
    sample: &[(String, String)],
) -> Result<()> {
    crate::model::write_file_whole(path, false, |w| {
        let mut w = csv::Writer::from_writer(w);
        w.write_record(["id", "text", "topics"])?;
        for p in picks {
            let (id, text) = &sample[p.index];
            w.write_record([id.as_str(), text.as_str(), calibration::NOT_LABELLED])?;
        }
        w.flush()?;
        Ok(())
    })
}
