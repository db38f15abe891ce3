//! The encoder on tiny models of each family `--model` accepts (BERT,
//! XLM-RoBERTa, DistilBERT), made by the tests: loading from a Hugging Face
//! folder, unit-length vectors, batching that does not change results, and
//! clear errors for broken folders.

mod common;

use common::{tiny_model_folder, Arch};
use verbatim::model::transformer::{EncoderOptions, ForwardImpl, TransformerEncoder};
use verbatim::model::{dot, Encoder, Precision};

const TEXTS: &[&str] = &[
    "the agent was friendly",
    "waited on hold",
    "",
    "invoice wrong and price too high but the app is ok and the service great",
    "ok",
];

fn f32_opts(budget: usize) -> EncoderOptions {
    EncoderOptions {
        precision: Precision::F32,
        token_budget: budget,
        ..Default::default()
    }
}

#[test]
fn every_family_loads_and_embeds_consistently() {
    for arch in [Arch::Bert, Arch::XlmRoberta, Arch::DistilBert] {
        let dir = tempfile::tempdir().unwrap();
        tiny_model_folder(dir.path(), arch);
        let enc = TransformerEncoder::load(dir.path(), &f32_opts(4096)).unwrap();
        assert_eq!(enc.dim(), 32);
        let all = enc.embed(TEXTS).unwrap();
        assert_eq!(all.len(), TEXTS.len());
        for v in &all {
            assert!((dot(v, v) - 1.0).abs() < 1e-4, "{arch:?}: not unit length");
        }
        // A tiny budget forces one text per batch: padding must not matter.
        let small = TransformerEncoder::load(dir.path(), &f32_opts(1)).unwrap();
        let one_by_one = small.embed(TEXTS).unwrap();
        for (a, b) in all.iter().zip(&one_by_one) {
            assert!(dot(a, b) > 0.99999, "{arch:?}: batching changed a vector");
        }
        // Different texts get different vectors.
        assert!(dot(&all[0], &all[1]) < 0.9999, "{arch:?}");
    }
}

#[test]
fn fused_pass_matches_rust_bert_in_every_family() {
    // The fused layers (one QKV projection, fused attention) are the same
    // arithmetic as rust-bert's modules; float32 vectors must agree closely,
    // in padded batches and alone.
    for arch in [Arch::Bert, Arch::XlmRoberta, Arch::DistilBert] {
        let dir = tempfile::tempdir().unwrap();
        tiny_model_folder(dir.path(), arch);
        let with = |forward, budget| {
            let opts = EncoderOptions {
                forward,
                ..f32_opts(budget)
            };
            TransformerEncoder::load(dir.path(), &opts)
                .unwrap()
                .embed(TEXTS)
                .unwrap()
        };
        let reference = with(ForwardImpl::RustBert, 4096);
        for budget in [4096, 1] {
            let fused = with(ForwardImpl::Fused, budget);
            for ((a, b), t) in fused.iter().zip(&reference).zip(TEXTS) {
                let cos = dot(a, b);
                assert!(
                    cos > 0.99999,
                    "{arch:?}, budget {budget}, {t:?}: cosine {cos}"
                );
            }
        }
    }
}

#[test]
fn broken_folders_give_errors_that_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    tiny_model_folder(dir.path(), Arch::Bert);
    // Weights that do not fit the config.
    let cfg = dir.path().join("config.json");
    let text = std::fs::read_to_string(&cfg)
        .unwrap()
        .replace("\"hidden_size\":32", "\"hidden_size\":64");
    std::fs::write(&cfg, text).unwrap();
    let err = TransformerEncoder::load(dir.path(), &f32_opts(64))
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("model.safetensors") && err.contains("shape"),
        "{err}"
    );

    // A truncated weights file.
    tiny_model_folder(dir.path(), Arch::Bert);
    let w = dir.path().join("model.safetensors");
    let bytes = std::fs::read(&w).unwrap();
    std::fs::write(&w, &bytes[..bytes.len() / 2]).unwrap();
    let err = format!(
        "{:#}",
        TransformerEncoder::load(dir.path(), &f32_opts(64))
            .err()
            .unwrap()
    );
    assert!(err.contains("model.safetensors"), "{err}");

    // An unsupported architecture.
    tiny_model_folder(dir.path(), Arch::Bert);
    std::fs::write(dir.path().join("config.json"), r#"{"model_type": "gpt2"}"#).unwrap();
    let err = TransformerEncoder::load(dir.path(), &f32_opts(64))
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("gpt2") && err.contains("config.json"), "{err}");

    // No folder at all.
    let err = TransformerEncoder::load(&dir.path().join("nope"), &f32_opts(64))
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("models install"), "{err}");
}
