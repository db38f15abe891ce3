//! Named set that runs the real default model (multilingual-e5-small, as
//! installed by `verbatim models install`) against the reference vectors in
//! tests/data/reference (computed by PyTorch/transformers on the same
//! dequantized weights). Run with `cargo test --release --test real_model`.
//!
//! Without the installed model these tests fail with the command to run: a
//! skipped parity check would hide a broken install.

use std::path::PathBuf;

use serde::Deserialize;
use verbatim::model::manifest::default_model_dir;
use verbatim::model::transformer::{EncoderOptions, TransformerEncoder};
use verbatim::model::{dot, Encoder, Precision};

#[derive(Deserialize)]
struct Reference {
    text: String,
    input_ids: Vec<u32>,
    embedding_f32: Vec<f32>,
}

fn reference() -> Vec<Reference> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/reference/e5-small-reference.jsonl");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("reference line is JSON"))
        .collect()
}

fn load(precision: Precision) -> TransformerEncoder {
    let dir = default_model_dir();
    assert!(
        dir.join("model.safetensors").is_file(),
        "{} is not installed: run `target/release/verbatim models install --python .venv/bin/python`",
        dir.display()
    );
    let opts = EncoderOptions {
        precision,
        ..Default::default()
    };
    TransformerEncoder::load(&dir, &opts).expect("the installed model loads")
}

#[test]
fn tokenizer_reproduces_every_reference_input_ids() {
    let enc = load(Precision::F32);
    let refs = reference();
    assert_eq!(refs.len(), 20);
    for r in &refs {
        assert_eq!(
            enc.token_ids(&r.text).unwrap(),
            r.input_ids,
            "text {:?}",
            r.text
        );
    }
}

fn parity(precision: Precision, floor: f32) -> f32 {
    let enc = load(precision);
    let refs = reference();
    let texts: Vec<&str> = refs.iter().map(|r| r.text.as_str()).collect();
    let got = enc.embed(&texts).unwrap();
    let mut worst = f32::INFINITY;
    for (r, v) in refs.iter().zip(&got) {
        let norm = r.embedding_f32.iter().map(|x| x * x).sum::<f32>().sqrt();
        let cos = dot(v, &r.embedding_f32) / norm;
        assert!(
            cos >= floor,
            "{precision:?} cosine {cos} < {floor} for {:?}",
            r.text
        );
        worst = worst.min(cos);
    }
    eprintln!("{precision:?}: worst cosine to the reference {worst:.6}");
    worst
}

#[test]
fn float32_encoder_matches_reference_vectors() {
    parity(Precision::F32, 0.9999);
}

#[test]
fn bfloat16_encoder_matches_reference_vectors() {
    parity(Precision::Bf16, 0.999);
}

#[test]
fn batching_does_not_change_vectors() {
    // One text alone and the same text in a padded batch give the same vector.
    let enc = load(Precision::F32);
    let refs = reference();
    let texts: Vec<&str> = refs.iter().map(|r| r.text.as_str()).collect();
    let batch = enc.embed(&texts).unwrap();
    for (i, t) in texts.iter().enumerate() {
        let alone = enc.embed(&[t]).unwrap();
        assert!(dot(&alone[0], &batch[i]) > 0.99999, "{t:?}");
    }
}
