//! `verbatim analyze --part-worker --out DIR FLAGS`: the per-comment stage
//! of a split run ([`super::parts`]) as a long-lived process.
//!
//! A scheduler that runs one `analyze PARTITION --part K/N` per task loads
//! the model once per task. Spark keeps its Python worker processes across
//! tasks, so a worker that keeps one verbatim process can have the model
//! loaded once per worker instead: this process loads the taxonomy, the
//! encoder and the classifier once, then reads one request per line on
//! standard input, `{"input": "PARTITION.csv", "part": "K/N"}`, writes
//! that part into `DIR` exactly as `analyze PARTITION.csv --part K/N --out
//! DIR FLAGS` would (the same code: [`super::parts::write_part`]; each file
//! written beside, then renamed), and answers one JSON line on standard
//! output. A request it cannot serve (a missing file, a bad line) gets an
//! answer with the error and its exit-code class, and the worker goes on
//! with the next; it exits 0 at the end of its input. Errors before the
//! first request (a bad flag, a missing model) end it as they end any run.
//!
//! Standard output carries only the answers: notes and warnings go to
//! standard error, as in every run.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use super::parts::{self, PartOf, PartWritten};
use super::{load_taxonomy, open_cache, AnalyzeConfig, Input, Loaded, Models};
use crate::classify::calibration::TopicCalibration;
use crate::exit_codes::{code_of, coded, ExitCode, WithCode};
use crate::model::manifest::sha256_file;
use crate::model::Encoder;

/// One line of standard input.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Request {
    /// The partition: the export's header and some of its rows.
    input: PathBuf,
    /// `K/N`, as `--part` takes it.
    part: String,
}

/// What a request needs: the analysis flags, the models and what decides
/// their analyses.
struct Served<'a> {
    cfg: &'a AnalyzeConfig,
    embedder: &'a dyn Encoder,
    models: &'a Models,
    key: &'a parts::AnalysisKey,
}

/// Who answered: enough to tell which requests one model load served.
#[derive(Debug, Serialize)]
struct WorkerInfo {
    pid: u32,
    /// Requests read so far, this one included.
    requests: u64,
    /// Parts written so far, this one included.
    parts: u64,
    /// Seconds the models took to load, once, before the first request.
    load_seconds: f64,
}

/// One line of standard output.
#[derive(Debug, Serialize)]
struct Answer<'a> {
    ok: bool,
    /// The request's input and part, as given (absent when the line was
    /// not a request).
    #[serde(skip_serializing_if = "Option::is_none")]
    input: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    part: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    read: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    analysed: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rejected: Option<u64>,
    /// Distinct answer texts analysed.
    #[serde(skip_serializing_if = "Option::is_none")]
    texts: Option<u64>,
    /// The part's manifest.
    #[serde(skip_serializing_if = "Option::is_none")]
    manifest: Option<String>,
    /// The message `analyze --part` would print, and its exit code with
    /// the code's name (`--help` lists them).
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    exit_code: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    exit: Option<&'static str>,
    worker: &'a WorkerInfo,
}

/// Runs `analyze --part-worker`: loads the models of `cfg` once, then
/// serves every request of `requests`, answering each on `answers`.
pub fn serve_parts(
    cfg: &AnalyzeConfig,
    requests: impl BufRead,
    answers: &mut impl Write,
) -> Result<ExitCode> {
    let started = Instant::now();
    let (taxonomy, _) = load_taxonomy(cfg)?;
    if let Some(p) = &cfg.topic_calibration {
        TopicCalibration::load(p).code(ExitCode::Usage)?;
    }
    let cache = open_cache(cfg)?;
    let loaded = Loaded::load(cfg, &taxonomy)?;
    let cached = loaded.cached(cfg, cache.as_ref())?;
    let embedder: &dyn Encoder = match &cached {
        Some(c) => c,
        None => &loaded.encoder,
    };
    let (models, key) = loaded.models(cfg, embedder, &taxonomy)?;
    let served = Served {
        cfg,
        embedder,
        models: &models,
        key: &key,
    };
    let mut worker = WorkerInfo {
        pid: std::process::id(),
        requests: 0,
        parts: 0,
        load_seconds: started.elapsed().as_secs_f64(),
    };
    for line in requests.lines() {
        let line = line.context("reading the requests on standard input (--part-worker)")?;
        if line.trim().is_empty() {
            continue;
        }
        worker.requests += 1;
        let (request, result) = match serde_json::from_str::<Request>(&line) {
            Ok(r) => {
                let result = served.serve(&r);
                (Some(r), result)
            }
            Err(e) => {
                let e = anyhow::Error::new(e).context(format!(
                    "request {}: not a request of --part-worker; one JSON object per line: \
                     {{\"input\": \"PARTITION.csv\", \"part\": \"K/N\"}}",
                    worker.requests
                ));
                (None, Err(coded(ExitCode::Usage, e)))
            }
        };
        if result.is_ok() {
            worker.parts += 1;
        }
        let answer = answer(request.as_ref(), &result, &worker);
        serde_json::to_writer(&mut *answers, &answer)?;
        answers.write_all(b"\n")?;
        answers.flush()?;
    }
    Ok(ExitCode::Success)
}

impl Served<'_> {
    /// Writes the part a request asks for, as `analyze INPUT --part K/N`.
    fn serve(&self, request: &Request) -> Result<PartWritten> {
        let part = PartOf::parse(&request.part)
            .map_err(|e| anyhow::anyhow!("\"part\": {e}"))
            .code(ExitCode::Usage)?;
        if request.input == Path::new("-") {
            return Err(anyhow::anyhow!(
                "\"input\": `-`: standard input carries the requests; give the partition as a file"
            ))
            .code(ExitCode::Usage);
        }
        let mut cfg = self.cfg.clone();
        cfg.input = request.input.clone();
        cfg.part = Some(part);
        let mut input = Input::open(&cfg)?;
        let input_sha256 = sha256_file(input.checksum_path()).code(ExitCode::Input)?;
        parts::write_part(
            &cfg,
            part,
            &mut input,
            self.embedder,
            self.models,
            self.key.clone(),
            input_sha256,
        )
    }
}

/// The answer to `request` (`None`: the line was not one).
fn answer<'a>(
    request: Option<&Request>,
    result: &Result<PartWritten>,
    worker: &'a WorkerInfo,
) -> Answer<'a> {
    let mut a = Answer {
        ok: result.is_ok(),
        input: request.map(|r| r.input.display().to_string()),
        part: request.map(|r| r.part.clone()),
        read: None,
        analysed: None,
        rejected: None,
        texts: None,
        manifest: None,
        error: None,
        exit_code: None,
        exit: None,
        worker,
    };
    match result {
        Ok(w) => {
            a.part = Some(w.part.to_string());
            a.read = Some(w.read);
            a.analysed = Some(w.analysed);
            a.rejected = Some(w.rejected);
            a.texts = Some(w.texts);
            a.manifest = Some(w.manifest.display().to_string());
        }
        Err(e) => {
            let code = code_of(e);
            a.error = Some(format!("{e:#}"));
            a.exit_code = Some(code as i32);
            a.exit = Some(code.name());
        }
    }
    a
}
