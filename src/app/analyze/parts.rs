//! A run split in two stages, for exports too large for one machine.
//!
//! - The per-comment stage, `verbatim analyze PART.csv --part K/N --out
//!   DIR`, reads one partition of the export (its rows, with the header),
//!   splits, embeds and classifies every answer, and writes what the
//!   classifier said of each distinct answer text, keyed by the text's
//!   sha256 ([`StoredAnalysis`]), to `DIR/part-0000K-of-0000N.jsonl`, with
//!   its manifest `part-0000K-of-0000N.json`. Many parts share `DIR`; each
//!   file appears whole or not at all (written beside, then renamed).
//!   `verbatim analyze --part-worker --out DIR` ([`super::worker`]) writes
//!   the same files, byte for byte, for one partition after another from
//!   one process, the models loaded once.
//! - The statistics stage, `verbatim analyze EXPORT.csv --from-parts DIR
//!   --out RESULTS`, reads the whole export once more and takes each
//!   answer's analysis from the parts instead of the encoder. Everything
//!   else is a single run: the columns, the date format, the columns of
//!   personal data, the segments, duplicate ids and line numbers are decided
//!   over the whole export, so the tables equal those of one `analyze`
//!   value for value (`tests/parts.rs`).
//!
//! The statistics stage refuses parts that do not make one set: another N,
//! a part missing or present twice (naming the files), another model,
//! taxonomy, calibration, sentiment model or classifier setting (naming the
//! part and the setting), a file whose checksum is not its manifest's, and
//! parts whose rows do not add up to the export's.

use std::collections::{BTreeMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

use super::{pass_settings, AnalyzeConfig, Input, Models};
use crate::classify::precomputed::{AnalysisStore, StoredAnalysis};
use crate::exit_codes::{ExitCode, WithCode};
use crate::input::Reject;
use crate::model::manifest::sha256_file;
use crate::model::Encoder;
use crate::output::manifest::{PartInfo, PartsInfo};
use crate::pipeline::{run_pass, PassModels, PassResult, PassSink};
use crate::stats::response::AnalyzedResponse;

/// `--part K/N`: part K of N, 1 ≤ K ≤ N.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartOf {
    pub k: u32,
    pub n: u32,
}

/// What a part manifest says it is.
const PART_FORMAT: &str = "verbatim-part/1";

impl PartOf {
    /// Parses `K/N` (e.g. `3/7`).
    pub fn parse(s: &str) -> Result<PartOf, String> {
        let (k, n) = s
            .split_once('/')
            .ok_or_else(|| format!("`{s}` is not K/N, e.g. 3/7"))?;
        let num = |x: &str| {
            x.trim()
                .parse::<u32>()
                .map_err(|_| format!("`{s}` is not K/N with whole numbers, e.g. 3/7"))
        };
        let (k, n) = (num(k)?, num(n)?);
        if k == 0 || n == 0 || k > n || n > 99_999 {
            return Err(format!("`{s}`: K/N needs 1 ≤ K ≤ N ≤ 99999, e.g. 3/7"));
        }
        Ok(PartOf { k, n })
    }

    /// The files' name without extension: `part-00003-of-00007`.
    fn stem(self) -> String {
        format!("part-{:05}-of-{:05}", self.k, self.n)
    }
}

impl std::fmt::Display for PartOf {
    /// `K/N`, as `--part` takes it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.k, self.n)
    }
}

/// The manifest of one part.
#[derive(Debug, Serialize, Deserialize)]
struct PartManifest {
    format: String,
    part: u32,
    parts: u32,
    tool: String,
    /// The partition read, as given, and its sha256.
    input: String,
    input_sha256: String,
    read: u64,
    analysed: u64,
    rejected: u64,
    /// Distinct answer texts analysed: the lines of the analyses file.
    texts: u64,
    /// The analyses file, in the same folder, and its sha256.
    analyses: String,
    analyses_sha256: String,
    /// Everything that decides an analysis ([`analysis_key`]).
    analysis: BTreeMap<String, serde_json::Value>,
}

/// What decides the analyses of a run, by name ([`analysis_key`]).
pub(super) type AnalysisKey = BTreeMap<String, serde_json::Value>;

/// Everything that decides what the classifier says of a text: the tool,
/// the encoder's weights and precision, the taxonomy, and the manifest's
/// sentiment and topic sections and classifier settings. Parts and the
/// statistics stage must agree on each.
///
/// A run without scores (`--no-score`) adds `mode`: its parts analyse the
/// answers of rows that a run with scores rejects for their score, so the
/// statistics stage of a run without scores refuses parts made with
/// scores (naming the mode) instead of missing an answer halfway. The
/// other way round is no key: parts made without scores hold every answer
/// a run with scores needs.
pub(super) fn analysis_key(
    cfg: &AnalyzeConfig,
    encoder: &crate::model::transformer::TransformerEncoder,
    weights_sha256: &str,
    taxonomy: &crate::classify::Taxonomy,
    models: &Models,
) -> Result<AnalysisKey> {
    let topic_ids: Vec<&str> = taxonomy.topics.iter().map(|t| t.id.as_str()).collect();
    let mut key = BTreeMap::from([
        ("tool".into(), env!("CARGO_PKG_VERSION").into()),
        (
            "encoder".into(),
            serde_json::json!({
                "name": encoder.name(),
                "precision": format!("{:?}", encoder.kind()),
                "weights_sha256": weights_sha256,
                "prefix": cfg.encoder.prefix,
            }),
        ),
        (
            "taxonomy".into(),
            serde_json::json!({
                "name": taxonomy.name,
                "version": taxonomy.version,
                "sha256": taxonomy.sha256,
                "topics": topic_ids,
            }),
        ),
        ("sentiment".into(), value(&models.sentiment_info)?),
        ("topics".into(), value(&models.topics_info)?),
        ("classifier".into(), value(&models.settings)?),
    ]);
    if cfg.read.mode == crate::input::Mode::TopicsOnly {
        key.insert("mode".into(), cfg.read.mode.as_str().into());
    }
    Ok(key)
}

/// A manifest section as a JSON value, through text, so that an f32
/// keeps its written value (as `ManifestFile` does).
fn value<T: Serialize>(v: &T) -> Result<serde_json::Value> {
    Ok(serde_json::from_str(&serde_json::to_string(v)?)?)
}

/// Writes each distinct answer's analysis as one JSON line.
struct PartSink<W: Write> {
    out: W,
    seen: HashSet<String>,
    texts: u64,
}

impl<W: Write> PassSink for PartSink<W> {
    fn responses(&mut self, chunk: &[AnalyzedResponse]) -> Result<()> {
        for r in chunk {
            for (_, text, a) in r.each_answer() {
                let stored = StoredAnalysis::of(text, a);
                if self.seen.insert(stored.key.clone()) {
                    serde_json::to_writer(&mut self.out, &stored)?;
                    self.out.write_all(b"\n")?;
                    self.texts += 1;
                }
            }
        }
        Ok(())
    }

    fn reject(&mut self, _: &Reject) -> Result<()> {
        // The statistics stage reads the export again and writes the
        // rejects; the part only counts them.
        Ok(())
    }
}

/// Writes the file at `path` whole: beside it, then renamed.
fn write_whole(path: &Path, write: impl FnOnce(&mut std::fs::File) -> Result<()>) -> Result<()> {
    let tmp = path.with_file_name(format!(
        ".{}.tmp",
        path.file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
    ));
    let result = (|| -> Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        write(&mut f)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)?;
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.with_context(|| format!("writing {}", path.display()))
}

/// The per-comment stage: analyses `input` and writes part `part`'s files
/// into `cfg.out`.
pub(super) fn write_part(
    cfg: &AnalyzeConfig,
    part: PartOf,
    input: &mut Input,
    embedder: &dyn Encoder,
    models: &Models,
    analysis: BTreeMap<String, serde_json::Value>,
    input_sha256: String,
) -> Result<PartWritten> {
    std::fs::create_dir_all(&cfg.out)
        .with_context(|| format!("creating the parts folder {}", cfg.out.display()))
        .code(ExitCode::Output)?;
    let stem = part.stem();
    let jsonl = cfg.out.join(format!("{stem}.jsonl"));
    let bar = super::RunProgress::new(cfg.quiet, input.stream.byte_progress());
    let mut progress = |done: u64| bar.update(done);
    // The part keeps only the analyses: no topic counts, no follow-ups
    // (the statistics stage makes both from the whole export).
    let topic_ids: Vec<String> = Vec::new();
    let settings = crate::pipeline::PassSettings {
        followup_limit: 0,
        ..pass_settings(cfg, input)
    };
    let mut result: Option<(PassResult, u64)> = None;
    write_whole(&jsonl, |f| {
        let mut sink = PartSink {
            out: std::io::BufWriter::new(f),
            seen: HashSet::new(),
            texts: 0,
        };
        let head = std::mem::take(&mut input.head);
        let r = run_pass(
            head.into_iter().chain(input.stream.by_ref()),
            &input.segment_columns,
            PassModels {
                encoder: embedder,
                classifier: &models.classifier,
                precomputed: None,
            },
            &topic_ids,
            &settings,
            &mut sink,
            &mut progress,
        )?;
        sink.out.flush()?;
        result = Some((r, sink.texts));
        Ok(())
    })
    .code(ExitCode::Output)?;
    drop(bar);
    let (r, texts) = result.expect("the part was written");
    let manifest = PartManifest {
        format: PART_FORMAT.into(),
        part: part.k,
        parts: part.n,
        tool: format!("verbatim {}", env!("CARGO_PKG_VERSION")),
        input: input.source.clone(),
        input_sha256,
        read: r.read,
        analysed: r.analysed,
        rejected: r.rejected,
        texts,
        analyses: format!("{stem}.jsonl"),
        analyses_sha256: sha256_file(&jsonl)?,
        analysis,
    };
    let path = cfg.out.join(format!("{stem}.json"));
    write_whole(&path, |f| {
        serde_json::to_writer_pretty(&mut *f, &manifest)?;
        f.write_all(b"\n")?;
        Ok(())
    })
    .code(ExitCode::Output)?;
    Ok(PartWritten {
        part,
        read: r.read,
        analysed: r.analysed,
        rejected: r.rejected,
        texts,
        manifest: path,
    })
}

/// What the per-comment stage wrote: one part's counts and its manifest.
#[derive(Debug, Clone)]
pub(super) struct PartWritten {
    pub part: PartOf,
    pub read: u64,
    pub analysed: u64,
    pub rejected: u64,
    /// Distinct answer texts analysed (lines of the analyses file).
    pub texts: u64,
    /// The part's manifest, `part-0000K-of-0000N.json`.
    pub manifest: PathBuf,
}

impl PartWritten {
    /// The line `analyze --part` prints.
    pub fn summary(&self) -> String {
        format!(
            "part {} of {}: read {} = analysed {} + rejected {}; {} distinct answers analysed; {}",
            self.part.k,
            self.part.n,
            self.read,
            self.analysed,
            self.rejected,
            self.texts,
            self.manifest.display()
        )
    }
}

/// Every part of `dir`, checked to make one set made with `analysis`.
pub(super) fn read_parts(
    dir: &Path,
    analysis: &BTreeMap<String, serde_json::Value>,
) -> Result<(AnalysisStore, PartsInfo)> {
    let manifests = part_manifests(dir)?;
    let n = check_set(dir, &manifests)?;
    let mut store = AnalysisStore::default();
    let mut infos = Vec::with_capacity(n as usize);
    for (path, m) in &manifests {
        let name = path.display();
        for (key, want) in analysis {
            let got = m.analysis.get(key).unwrap_or(&serde_json::Value::Null);
            if key == "mode" && got != want {
                bail!(
                    "{name} was made with scores and this run has --no-score: its part left out \
                     the rows without a valid score; make the parts with --no-score too"
                );
            }
            if got != want {
                bail!(
                    "{name} was made with another {key} than this run: {got} there, {want} here; \
                     make every part and the statistics with the same verbatim, model, taxonomy \
                     and settings"
                );
            }
        }
        let jsonl = dir.join(&m.analyses);
        let sha = sha256_file(&jsonl).with_context(|| format!("{name} names {}", m.analyses))?;
        if sha != m.analyses_sha256 {
            bail!(
                "{} is not the file {name} was written with (sha256 {sha}, the manifest says {})",
                jsonl.display(),
                m.analyses_sha256
            );
        }
        let text = std::fs::read_to_string(&jsonl)
            .with_context(|| format!("reading {}", jsonl.display()))?;
        for (i, line) in text.lines().enumerate() {
            let a: StoredAnalysis = serde_json::from_str(line)
                .with_context(|| format!("{} line {}", jsonl.display(), i + 1))?;
            store.insert(a);
        }
        infos.push(PartInfo {
            part: m.part,
            file: m.analyses.clone(),
            sha256: sha,
            input_sha256: m.input_sha256.clone(),
            read: m.read,
            analysed: m.analysed,
            rejected: m.rejected,
        });
    }
    let info = PartsInfo {
        folder: dir.display().to_string(),
        count: n,
        read: infos.iter().map(|p| p.read).sum(),
        analysed: infos.iter().map(|p| p.analysed).sum(),
        rejected: infos.iter().map(|p| p.rejected).sum(),
        parts: infos,
    };
    Ok((store, info))
}

/// The part manifests of `dir`, by file name.
fn part_manifests(dir: &Path) -> Result<Vec<(PathBuf, PartManifest)>> {
    let entries = std::fs::read_dir(dir)
        .with_context(|| format!("reading the parts folder {} (--from-parts)", dir.display()))?;
    let mut paths: Vec<PathBuf> = Vec::new();
    for e in entries {
        let p = e?.path();
        let name = p
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        if name.starts_with("part-") && name.ends_with(".json") {
            paths.push(p);
        }
    }
    paths.sort();
    let mut out = Vec::with_capacity(paths.len());
    for p in paths {
        let text =
            std::fs::read_to_string(&p).with_context(|| format!("reading {}", p.display()))?;
        let m: PartManifest = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a part manifest of verbatim", p.display()))?;
        if m.format != PART_FORMAT {
            bail!(
                "{} is a part of format `{}`; this verbatim reads `{PART_FORMAT}`",
                p.display(),
                m.format
            );
        }
        out.push((p, m));
    }
    Ok(out)
}

/// N, when the manifests are parts 1 to N of one N, each once.
fn check_set(dir: &Path, manifests: &[(PathBuf, PartManifest)]) -> Result<u32> {
    let Some((first, m0)) = manifests.first() else {
        bail!(
            "{} holds no part (part-K-of-N.json files of `verbatim analyze --part K/N`)",
            dir.display()
        );
    };
    let n = m0.parts;
    let mut seen: BTreeMap<u32, &Path> = BTreeMap::new();
    for (path, m) in manifests {
        if m.parts != n {
            bail!(
                "{} is a part of {} and {} a part of {n}: one split run per folder",
                path.display(),
                m.parts,
                first.display()
            );
        }
        if m.part == 0 || m.part > n {
            bail!("{} says it is part {} of {n}", path.display(), m.part);
        }
        if let Some(other) = seen.insert(m.part, path) {
            bail!(
                "part {} of {n} is there twice: {} and {}",
                m.part,
                other.display(),
                path.display()
            );
        }
    }
    let missing: Vec<String> = (1..=n)
        .filter(|k| !seen.contains_key(k))
        .map(|k| k.to_string())
        .collect();
    if !missing.is_empty() {
        bail!(
            "{}: part {} of {n} missing (found {} of {n})",
            dir.display(),
            missing.join(", "),
            seen.len()
        );
    }
    Ok(n)
}

/// The parts' rows add up to the export's: each row of the export was in
/// exactly one part (a part missing rows, or rows in two parts, shows here
/// when the answers alone do not show it).
pub(super) fn check_rows(parts: &PartsInfo, result: &PassResult) -> Result<()> {
    let read = parts.read;
    if read != result.read {
        bail!(
            "the parts read {read} rows ({}), the export has {}: split the export into parts \
             that together hold each of its rows once",
            parts
                .parts
                .iter()
                .map(|p| format!("part {}: {}", p.part, p.read))
                .collect::<Vec<_>>()
                .join(", "),
            result.read
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn part_of_reads_k_of_n() {
        assert_eq!(PartOf::parse("3/7"), Ok(PartOf { k: 3, n: 7 }));
        assert_eq!(PartOf::parse(" 1 / 1 "), Ok(PartOf { k: 1, n: 1 }));
        for bad in ["0/3", "4/3", "3", "a/b", "1/0", "1/100000"] {
            assert!(PartOf::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(PartOf { k: 3, n: 7 }.stem(), "part-00003-of-00007");
        assert_eq!(PartOf { k: 3, n: 7 }.to_string(), "3/7");
    }
}
