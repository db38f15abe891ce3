//! Test support: tiny models made by the tests themselves.
//!
//! - [`tiny_bert_folder`] writes a real Hugging Face folder (config.json,
//!   model.safetensors, tokenizer.json) of a 2-layer, 32-wide BERT with seeded
//!   random weights and a word-level vocabulary: it exercises the same loading
//!   and inference code as the default model, in milliseconds.
//! - [`tiny_classifier_folder`] writes a fine-tuned sequence-classification
//!   folder of the same size (id2label, a head with a chosen bias) for
//!   `--sentiment-model`.
//! - [`HashEncoder`] is a deterministic bag-of-words encoder for tests of the
//!   statistics, where the vectors must carry the words' meaning.
#![allow(dead_code)]

use std::path::Path;

use rust_bert::bert::{BertConfig, BertEmbeddings, BertForSequenceClassification, BertModel};
use rust_bert::distilbert::{DistilBertConfig, DistilBertModel, DistilBertModelClassifier};
use rust_bert::roberta::{RobertaEmbeddings, RobertaForSequenceClassification};
use serde_json::json;
use verbatim::classify::{Classifier, ClassifierSettings, Prototypes, SentimentModel, Taxonomy};
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

/// The architectures `--model` accepts.
#[derive(Clone, Copy, Debug)]
pub enum Arch {
    Bert,
    XlmRoberta,
    DistilBert,
}

/// Writes a tiny BERT model folder into `dir`.
pub fn tiny_bert_folder(dir: &Path) {
    tiny_model_folder(dir, Arch::Bert)
}

/// Held while a tiny model is drawn: libtorch's random generator is one per
/// process and the tests of a file run on parallel threads, so without it
/// two tests drawing at once would interleave their draws and a model would
/// not be the one its seed promises.
static DRAWING: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn drawing() -> std::sync::MutexGuard<'static, ()> {
    DRAWING.lock().unwrap_or_else(|e| e.into_inner())
}

/// Writes a tiny model folder of the given family into `dir`, saved the way
/// `transformers` saves it (XLM-R pads with id 1; DistilBERT's tensors carry
/// the `distilbert.` prefix of its task models).
pub fn tiny_model_folder(dir: &Path, arch: Arch) {
    let _lock = drawing();
    write_tiny_model(dir, arch)
}

fn write_tiny_model(dir: &Path, arch: Arch) {
    std::fs::create_dir_all(dir).unwrap();
    let mut vocab = serde_json::Map::new();
    let specials: [&str; 4] = match arch {
        Arch::XlmRoberta => ["[CLS]", "[PAD]", "[SEP]", "[UNK]"],
        _ => ["[PAD]", "[UNK]", "[CLS]", "[SEP]"],
    };
    for (i, w) in specials.iter().chain(WORDS).enumerate() {
        vocab.insert(w.to_string(), json!(i));
    }
    let id = |t: &str| vocab[t].as_u64().unwrap();
    let (pad, unk, cls, sep) = (id("[PAD]"), id("[UNK]"), id("[CLS]"), id("[SEP]"));
    let n_vocab = vocab.len();
    let tokenizer = json!({
        "version": "1.0", "truncation": null, "padding": null,
        "added_tokens": [
            {"id": pad, "content": "[PAD]", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
            {"id": unk, "content": "[UNK]", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
            {"id": cls, "content": "[CLS]", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
            {"id": sep, "content": "[SEP]", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true}
        ],
        "normalizer": {"type": "Lowercase"},
        "pre_tokenizer": {"type": "Whitespace"},
        "post_processor": {"type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
            "pair": [{"Sequence": {"id": "A", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}}],
            "special_tokens": {
                "[CLS]": {"id": "[CLS]", "ids": [cls], "tokens": ["[CLS]"]},
                "[SEP]": {"id": "[SEP]", "ids": [sep], "tokens": ["[SEP]"]}
            }},
        "decoder": null,
        "model": {"type": "WordLevel", "vocab": vocab, "unk_token": "[UNK]"}
    });
    std::fs::write(dir.join("tokenizer.json"), tokenizer.to_string()).unwrap();
    let config = match arch {
        Arch::Bert | Arch::XlmRoberta => json!({
            "model_type": if matches!(arch, Arch::Bert) { "bert" } else { "xlm-roberta" },
            "hidden_act": "gelu", "hidden_size": 32, "intermediate_size": 64,
            "layer_norm_eps": 1e-12, "max_position_embeddings": 66, "num_attention_heads": 2,
            "num_hidden_layers": 2, "pad_token_id": pad,
            "type_vocab_size": if matches!(arch, Arch::Bert) { 2 } else { 1 },
            "vocab_size": n_vocab
        }),
        // Left out on purpose: keys rust-bert wants and transformers may omit.
        Arch::DistilBert => json!({
            "model_type": "distilbert", "activation": "gelu", "dim": 32, "hidden_dim": 64,
            "max_position_embeddings": 64, "n_heads": 2, "n_layers": 2, "pad_token_id": pad,
            "sinusoidal_pos_embds": false, "vocab_size": n_vocab
        }),
    };
    std::fs::write(dir.join("config.json"), config.to_string()).unwrap();
    tch::manual_seed(20261123);
    let vs = tch::nn::VarStore::new(tch::Device::Cpu);
    let mut full = config.as_object().unwrap().clone();
    for (k, v) in [
        ("attention_probs_dropout_prob", json!(0.0)),
        ("hidden_dropout_prob", json!(0.0)),
        ("initializer_range", json!(0.02)),
        ("attention_dropout", json!(0.0)),
        ("dropout", json!(0.0)),
        ("qa_dropout", json!(0.0)),
        ("seq_classif_dropout", json!(0.0)),
        ("tie_weights_", json!(true)),
    ] {
        full.entry(k).or_insert(v);
    }
    let full = serde_json::Value::Object(full);
    match arch {
        Arch::Bert => {
            let cfg: BertConfig = serde_json::from_value(full).unwrap();
            let _m = BertModel::<BertEmbeddings>::new_with_optional_pooler(vs.root(), &cfg, false);
        }
        Arch::XlmRoberta => {
            let cfg: BertConfig = serde_json::from_value(full).unwrap();
            let _m =
                BertModel::<RobertaEmbeddings>::new_with_optional_pooler(vs.root(), &cfg, false);
        }
        Arch::DistilBert => {
            let cfg: DistilBertConfig = serde_json::from_value(full).unwrap();
            let _m = DistilBertModel::new(vs.root(), &cfg);
        }
    }
    vs.save(dir.join("model.safetensors")).unwrap();
}

/// Writes a tiny sequence-classification folder of the given family into
/// `dir`, as `transformers` saves a fine-tuned task model: the base model
/// under its prefix (`bert.`, `roberta.`, `distilbert.`) and the head at the
/// root (`classifier.…`, and `classifier.dense`/`classifier.out_proj` for
/// RoBERTa, `pre_classifier` for DistilBERT). `labels` become `id2label`
/// (left out when `None`); the head has `bias.len()` outputs, with that
/// bias and its weights multiplied by `head_scale` (0 makes the logits the
/// bias for every text).
pub fn tiny_classifier_folder(
    dir: &Path,
    arch: Arch,
    labels: Option<&[&str]>,
    bias: &[f32],
    head_scale: f64,
) {
    let _lock = drawing();
    // Tokenizer and base config as for the encoder; the weights are replaced.
    write_tiny_model(dir, arch);
    let config_path = dir.join("config.json");
    let mut config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&config_path).unwrap()).unwrap();
    let arch_name = match arch {
        Arch::Bert => "BertForSequenceClassification",
        Arch::XlmRoberta => "XLMRobertaForSequenceClassification",
        Arch::DistilBert => "DistilBertForSequenceClassification",
    };
    config["architectures"] = json!([arch_name]);
    if let Some(labels) = labels {
        let id2label: serde_json::Map<String, serde_json::Value> = labels
            .iter()
            .enumerate()
            .map(|(i, l)| (i.to_string(), json!(l)))
            .collect();
        let label2id: serde_json::Map<String, serde_json::Value> = labels
            .iter()
            .enumerate()
            .map(|(i, l)| (l.to_string(), json!(i)))
            .collect();
        config["id2label"] = json!(id2label);
        config["label2id"] = json!(label2id);
    }
    std::fs::write(&config_path, config.to_string()).unwrap();
    // rust-bert sizes the head from id2label: give it one of bias.len().
    let mut full = config.as_object().unwrap().clone();
    full.insert(
        "id2label".into(),
        json!((0..bias.len())
            .map(|i| (i.to_string(), json!(format!("c{i}"))))
            .collect::<serde_json::Map<_, _>>()),
    );
    full.remove("label2id");
    for (k, v) in [
        ("attention_probs_dropout_prob", json!(0.0)),
        ("hidden_dropout_prob", json!(0.0)),
        ("initializer_range", json!(0.02)),
        ("attention_dropout", json!(0.0)),
        ("dropout", json!(0.0)),
        ("qa_dropout", json!(0.0)),
        ("seq_classif_dropout", json!(0.0)),
        ("tie_weights_", json!(true)),
    ] {
        full.entry(k).or_insert(v);
    }
    let full = serde_json::Value::Object(full);
    tch::manual_seed(20261124);
    let vs = tch::nn::VarStore::new(tch::Device::Cpu);
    let (weight, bias_name) = match arch {
        Arch::Bert => {
            let cfg: BertConfig = serde_json::from_value(full).unwrap();
            let _m = BertForSequenceClassification::new(vs.root(), &cfg).unwrap();
            ("classifier.weight", "classifier.bias")
        }
        Arch::XlmRoberta => {
            let cfg: BertConfig = serde_json::from_value(full).unwrap();
            let _m = RobertaForSequenceClassification::new(vs.root(), &cfg).unwrap();
            ("classifier.out_proj.weight", "classifier.out_proj.bias")
        }
        Arch::DistilBert => {
            let cfg: DistilBertConfig = serde_json::from_value(full).unwrap();
            let _m = DistilBertModelClassifier::new(vs.root(), &cfg).unwrap();
            ("classifier.weight", "classifier.bias")
        }
    };
    let mut vars = vs.variables();
    tch::no_grad(|| {
        let w = vars.get_mut(weight).expect("the head's weight");
        let scaled = &*w * head_scale;
        w.copy_(&scaled);
        vars.get_mut(bias_name)
            .expect("the head's bias")
            .copy_(&tch::Tensor::from_slice(bias));
    });
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

/// Sentiment prototypes for tests on [`HashEncoder`]: one obvious sentence
/// per class, whose words the planted comments reuse.
pub const TEST_PROTOTYPES: &str = r#"
name = "test"
version = "0.1.0"
[[class]]
name = "negative"
examples.en = ["bad terrible awful"]
[[class]]
name = "neutral"
examples.en = ["okay fine average"]
[[class]]
name = "positive"
examples.en = ["great excellent lovely"]
"#;

/// The taxonomy of the planted exports: wait time, agent friendliness and
/// billing, with examples made of the planted comments' words.
pub const PLANTED_TAXONOMY: &str = r#"
name = "test"
version = "0.1.0"
[[topic]]
id = "wait_time"
label = { en = "Wait time" }
examples.en = ["waited on hold", "hold queue waited"]
[[topic]]
id = "agent_friendliness"
label = { en = "Agent friendliness" }
examples.en = ["friendly agent", "agent friendly"]
[[topic]]
id = "billing"
label = { en = "Billing" }
examples.en = ["invoice wrong", "wrong invoice"]
"#;

/// [`TEST_PROTOTYPES`], parsed.
pub fn test_prototypes() -> Prototypes {
    toml::from_str(TEST_PROTOTYPES).expect("the test prototypes parse")
}

/// A classifier on a [`HashEncoder`] of `dim` for `taxonomy` (TOML), with
/// [`TEST_PROTOTYPES`] and the similarity rule of the statistics tests.
pub fn hash_classifier(taxonomy: &str, dim: usize) -> (Classifier, Taxonomy) {
    let taxonomy = Taxonomy::parse(taxonomy, "test.toml").expect("the test taxonomy parses");
    let settings = ClassifierSettings {
        sentiment_temperature: 0.05,
        topic_threshold: 0.5,
        topic_margin: 0.1,
        topic_min_gap: 0.1,
        topic_keyword_gap: 0.0,
    };
    let classifier = Classifier::build(
        &HashEncoder { dim },
        SentimentModel::Prototypes(test_prototypes()),
        &taxonomy,
        settings,
    )
    .expect("the test classifier builds");
    (classifier, taxonomy)
}

/// A taxonomy whose examples are made of the tiny model's words ([`WORDS`]):
/// `billing` ("invoice wrong") and `service` ("great service"), whose examples
/// are whole clauses of the test comments (cosine 1), seven unrelated topics
/// that keep a clause's mean cosine low, and a last topic `last_id`
/// ("the agent was friendly").
pub fn tiny_words_taxonomy(name: &str, last_id: &str, last_label: &str) -> String {
    let mut t = format!("name = \"{name}\"\nversion = \"1\"\n");
    let topics = [
        ("billing", "Billing", "invoice wrong"),
        ("service", "Service", "great service"),
        ("other0", "Other 0", "rude"),
        ("other1", "Other 1", "app crashes"),
        ("other2", "Other 2", "price too high"),
        ("other3", "Other 3", "wartezeit lang"),
        ("other4", "Other 4", "medewerker vriendelijk"),
        ("other5", "Other 5", "factuur"),
        ("other6", "Other 6", "hold"),
        (last_id, last_label, "the agent was friendly"),
    ];
    for (id, label, example) in topics {
        t.push_str(&format!(
            "[[topic]]\nid = \"{id}\"\nlabel = {{ en = \"{label}\" }}\nexamples.en = [\"{example}\"]\n"
        ));
    }
    t
}
