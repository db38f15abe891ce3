//! Rewrites a topic-model folder in the current storage format of
//! `verbatim train topics --fine-tune` (int8 weight matrices with a scale
//! per row, float16 vectors, float32 head; `verbatim::model::tuned`),
//! updating the checksum and size in its `topic-model.json`. The shipped
//! model (`models/topic-model/contact-center-multilingual-e5-small`) was
//! trained when the layers were stored in float16 and converted with this.
//!
//! Usage: cargo run --release --example requantize_topic_model IN_DIR OUT_DIR

use anyhow::{Context, Result};
use verbatim::classify::finetune::{TopicModelFile, META_FILE, WEIGHTS_FILE};
use verbatim::model::tuned;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [input, output] = args.as_slice() else {
        anyhow::bail!("usage: requantize_topic_model IN_DIR OUT_DIR");
    };
    let (input, output) = (std::path::Path::new(input), std::path::Path::new(output));
    let meta_text = std::fs::read_to_string(input.join(META_FILE))
        .with_context(|| format!("reading {}", input.join(META_FILE).display()))?;
    let mut meta: TopicModelFile = serde_json::from_str(&meta_text)?;
    let tensors = tuned::read_branch(&input.join(WEIGHTS_FILE))?;
    std::fs::create_dir_all(output)?;
    let weights = output.join(WEIGHTS_FILE);
    meta.weights_bytes = tuned::save_branch(&tensors, &weights)?;
    meta.weights_sha256 = verbatim::model::manifest::sha256_file(&weights)?;
    std::fs::write(
        output.join(META_FILE),
        serde_json::to_string_pretty(&meta)? + "\n",
    )?;
    println!(
        "{}: {} bytes, sha256 {}",
        weights.display(),
        meta.weights_bytes,
        meta.weights_sha256
    );
    Ok(())
}
