//! Helper of benches/throughput.py: prepares the benchmark texts and times
//! verbatim's encoder alone on them.
//!
//! ```text
//! bench_embed cut REVIEWS.csv OUT.csv TOKENS   # marc reviews cut to their first TOKENS tokens
//! bench_embed embed TEXTS.csv VECTORS.f32 [--precision auto|f32|bf16] [--forward fused|rust-bert] [--batch-tokens N]
//! ```
//!
//! `cut` reads the `review_body` and `stars` columns of a MARC export and
//! writes `id,score,comment` (stars 1..5 as NPS scores 1, 4, 7, 9, 10), each
//! comment cut at the end of its TOKENS-th token of the default model's
//! tokenizer (special tokens and prefix not counted). `embed` embeds the
//! `comment` column with the default model, prints one JSON line with the
//! load time and texts per second of the embedding alone, and writes the
//! vectors as little-endian float32, row after row.

use std::io::Write;

use anyhow::{bail, Context, Result};
use tokenizers::Tokenizer;
use verbatim::model::manifest::default_model_dir;
use verbatim::model::transformer::{EncoderOptions, ForwardImpl, TransformerEncoder};
use verbatim::model::{Encoder, Precision};

fn cut(input: &str, output: &str, tokens: usize) -> Result<()> {
    let path = default_model_dir().join("tokenizer.json");
    let tok =
        Tokenizer::from_file(&path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let mut rdr = csv::Reader::from_path(input).with_context(|| input.to_string())?;
    let headers = rdr.headers()?.clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .with_context(|| format!("{input}: no `{name}` column"))
    };
    let (body, stars) = (col("review_body")?, col("stars")?);
    let mut out = csv::Writer::from_path(output).with_context(|| output.to_string())?;
    out.write_record(["id", "score", "comment"])?;
    for (i, rec) in rdr.records().enumerate() {
        let rec = rec?;
        let text = &rec[body];
        let enc = tok
            .encode(text, false)
            .map_err(|e| anyhow::anyhow!("tokenizing row {}: {e}", i + 2))?;
        let offsets = enc.get_offsets();
        if offsets.is_empty() {
            continue;
        }
        let end = offsets[offsets.len().min(tokens) - 1].1;
        let score = match &rec[stars] {
            "1" => "1",
            "2" => "4",
            "3" => "7",
            "4" => "9",
            "5" => "10",
            other => bail!("{input}: row {}: stars `{other}` is not 1..5", i + 2),
        };
        out.write_record([&format!("m{i}"), score, &text[..end]])?;
    }
    out.flush()?;
    Ok(())
}

fn embed(input: &str, output: &str, opts: EncoderOptions) -> Result<()> {
    let mut rdr = csv::Reader::from_path(input).with_context(|| input.to_string())?;
    let col = rdr
        .headers()?
        .iter()
        .position(|h| h == "comment")
        .with_context(|| format!("{input}: no `comment` column"))?;
    let texts: Vec<String> = rdr
        .records()
        .map(|r| r.map(|r| r[col].to_string()))
        .collect::<Result<_, _>>()?;
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let started = std::time::Instant::now();
    let enc = TransformerEncoder::load(&default_model_dir(), &opts)?;
    let load_s = started.elapsed().as_secs_f64();
    let started = std::time::Instant::now();
    let vectors = enc.embed(&refs)?;
    let embed_s = started.elapsed().as_secs_f64();
    let mut out = std::io::BufWriter::new(std::fs::File::create(output)?);
    for v in &vectors {
        for x in v {
            out.write_all(&x.to_le_bytes())?;
        }
    }
    out.flush()?;
    println!(
        "{}",
        serde_json::json!({
            "texts": refs.len(),
            "dim": enc.dim(),
            "kind": format!("{:?}", enc.kind()),
            "load_s": load_s,
            "embed_s": embed_s,
            "texts_per_s": refs.len() as f64 / embed_s,
        })
    );
    Ok(())
}

fn main() -> Result<()> {
    verbatim::model::transformer::passive_openmp();
    verbatim::model::transformer::cap_kernel_caches();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
    };
    match args.first().map(String::as_str) {
        Some("cut") if args.len() == 4 => cut(&args[1], &args[2], args[3].parse()?),
        Some("embed") if args.len() >= 3 => {
            let precision = match flag("--precision") {
                Some(p) => p.parse::<Precision>().map_err(anyhow::Error::msg)?,
                None => Precision::Auto,
            };
            let forward = match flag("--forward") {
                Some(f) => f.parse::<ForwardImpl>().map_err(anyhow::Error::msg)?,
                None => ForwardImpl::Fused,
            };
            let mut opts = EncoderOptions {
                precision,
                forward,
                ..Default::default()
            };
            if let Some(n) = flag("--batch-tokens") {
                opts.token_budget = n.parse()?;
            }
            embed(&args[1], &args[2], opts)
        }
        _ => bail!(
            "usage: bench_embed cut REVIEWS.csv OUT.csv TOKENS | bench_embed embed TEXTS.csv VECTORS.f32 [--precision P] [--forward F] [--batch-tokens N]"
        ),
    }
}
