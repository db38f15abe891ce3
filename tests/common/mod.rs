//! Test support: tiny models made by the tests themselves.
//!
//! - [`tiny_bert_folder`] writes a real Hugging Face folder (config.json,
//!   model.safetensors, tokenizer.json) of a 2-layer, 32-wide BERT with seeded
//!   random weights and a word-level vocabulary: it exercises the same loading
//!   and inference code as the default model, in milliseconds.
//! - [`HashEncoder`] is a deterministic bag-of-words encoder for tests of the
//!   statistics, where the vectors must carry the words' meaning.
#![allow(dead_code)]

use std::path::Path;

use rust_bert::bert::{BertConfig, BertEmbeddings, BertModel};
use rust_bert::Config as _;
use serde_json::json;
use verbatim::model::{normalize, Encoder};

/// Words the tiny model knows; everything else is `[UNK]`.
pub const WORDS: &[&str] = &[
    "the",
    "agent",
    "was",
    "friendly",
    "rude",
    "waited",
    "hour",
    "on",
    "hold",
    "invoice",
    "wrong",
    "price",
    "too",
    "high",
    "app",
    "crashes",
    "great",
    "service",
    "bad",
    "ok",
    "but",
    "and",
    "mitarbeiter",
    "freundlich",
    "rechnung",
    "falsch",
    "wartezeit",
    "lang",
    "medewerker",
    "vriendelijk",
    "wachten",
    "factuur",
];

/// Writes a tiny BERT model folder into `dir`.
pub fn tiny_bert_folder(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    let mut vocab = serde_json::Map::new();
    for (i, w) in ["[PAD]", "[UNK]", "[CLS]", "[SEP]"]
        .iter()
        .chain(WORDS)
        .enumerate()
    {
        vocab.insert(w.to_string(), json!(i));
    }
    let n_vocab = vocab.len();
    let tokenizer = json!({
        "version": "1.0", "truncation": null, "padding": null,
        "added_tokens": [
            {"id": 0, "content": "[PAD]", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
            {"id": 1, "content": "[UNK]", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
            {"id": 2, "content": "[CLS]", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
            {"id": 3, "content": "[SEP]", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true}
        ],
        "normalizer": {"type": "Lowercase"},
        "pre_tokenizer": {"type": "Whitespace"},
        "post_processor": {"type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
            "pair": [{"Sequence": {"id": "A", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}}],
            "special_tokens": {
                "[CLS]": {"id": "[CLS]", "ids": [2], "tokens": ["[CLS]"]},
                "[SEP]": {"id": "[SEP]", "ids": [3], "tokens": ["[SEP]"]}
            }},
        "decoder": null,
        "model": {"type": "WordLevel", "vocab": vocab, "unk_token": "[UNK]"}
    });
    std::fs::write(dir.join("tokenizer.json"), tokenizer.to_string()).unwrap();
    let config = json!({
        "architectures": ["BertModel"], "model_type": "bert",
        "attention_probs_dropout_prob": 0.0, "hidden_act": "gelu", "hidden_dropout_prob": 0.0,
        "hidden_size": 32, "initializer_range": 0.02, "intermediate_size": 64,
        "layer_norm_eps": 1e-12, "max_position_embeddings": 64, "num_attention_heads": 2,
        "num_hidden_layers": 2, "pad_token_id": 0, "type_vocab_size": 2, "vocab_size": n_vocab
    });
    let config_path = dir.join("config.json");
    std::fs::write(&config_path, config.to_string()).unwrap();
    tch::manual_seed(20261123);
    let vs = tch::nn::VarStore::new(tch::Device::Cpu);
    let cfg = BertConfig::from_file(&config_path);
    let _model = BertModel::<BertEmbeddings>::new_with_optional_pooler(vs.root(), &cfg, false);
    vs.save(dir.join("model.safetensors")).unwrap();
}

/// Deterministic bag-of-words vectors: each lower-cased word hashes to one
/// of `dim` axes (FNV-1a), so texts sharing words have high cosine.
pub struct HashEncoder {
    pub dim: usize,
}

impl Encoder for HashEncoder {
    fn name(&self) -> String {
        "hash-test-encoder".into()
    }
    fn dim(&self) -> usize {
        self.dim
    }
    fn embed(&self, texts: &[&str]) -> anyhow::Result<Vec<Vec<f32>>> {
        Ok(texts
            .iter()
            .map(|t| {
                let mut v = vec![0f32; self.dim];
                for w in t
                    .split(|c: char| !c.is_alphanumeric())
                    .filter(|w| !w.is_empty())
                {
                    let mut h: u64 = 0xcbf29ce484222325;
                    for b in w.to_lowercase().bytes() {
                        h ^= b as u64;
                        h = h.wrapping_mul(0x100000001b3);
                    }
                    v[(h % self.dim as u64) as usize] += 1.0;
                }
                normalize(&mut v);
                v
            })
            .collect())
    }
}
