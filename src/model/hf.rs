//! Reading a Hugging Face model folder for rust-bert: `config.json`,
//! `model.safetensors` and `tokenizer.json`, as `transformers` saves them.
//!
//! Kept apart from any one model so that every model verbatim runs (the
//! sentence encoder, a fine-tuned sentiment classifier) reads a folder the
//! same way and fails the same way: an error names the file and says what
//! to do. rust-bert's own loaders panic on a bad file and look for its
//! converted `.ot` weights, so the config is deserialised here with the
//! defaults `transformers` assumes, and the safetensors are copied into the
//! variable store by name, shape-checked.
//!
//! Names: rust-bert builds its variables under the names `transformers`
//! uses, except that a checkpoint saved from a task model carries the base
//! model under a prefix (`bert.`, `roberta.`, `distilbert.`) and old BERT
//! checkpoints call the layer-norm parameters `gamma`/`beta`.
//! [`canonical_name`] removes both differences, on the checkpoint's side and
//! on the model's, so either layout loads into either kind of model.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde_json::{Map, Value};
use tch::{nn, Device, Tensor};
use tokenizers::{Tokenizer, TruncationParams};

/// The model families verbatim runs, from `config.json`'s `model_type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    /// `bert`.
    Bert,
    /// `xlm-roberta`, `roberta`, `camembert`: BERT layers with RoBERTa
    /// position ids.
    Roberta,
    /// `distilbert`.
    DistilBert,
}

/// The `model_type` values [`Family::of`] accepts, for error messages.
pub const MODEL_TYPES: &str = "bert, xlm-roberta, roberta, camembert, distilbert";

impl Family {
    /// The family of a `model_type` (`bert` when the config has none).
    pub fn of(model_type: &str) -> Option<Family> {
        match model_type {
            "bert" => Some(Family::Bert),
            "xlm-roberta" | "roberta" | "camembert" => Some(Family::Roberta),
            "distilbert" => Some(Family::DistilBert),
            _ => None,
        }
    }

    /// Keys rust-bert's config requires that `transformers` leaves out when
    /// they have its default value, with that value.
    fn defaults(self) -> Vec<(&'static str, Value)> {
        let f = |x: f64| Value::from(x);
        match self {
            Family::Bert | Family::Roberta => vec![
                ("attention_probs_dropout_prob", f(0.1)),
                ("hidden_dropout_prob", f(0.1)),
                ("initializer_range", f(0.02)),
                ("type_vocab_size", Value::from(2)),
                ("hidden_act", Value::from("gelu")),
            ],
            Family::DistilBert => vec![
                ("attention_dropout", f(0.1)),
                ("dropout", f(0.1)),
                ("initializer_range", f(0.02)),
                ("qa_dropout", f(0.1)),
                ("seq_classif_dropout", f(0.2)),
                ("activation", Value::from("gelu")),
                ("sinusoidal_pos_embds", Value::from(false)),
                ("tie_weights_", Value::from(true)),
            ],
        }
    }
}

/// A folder's `config.json`, parsed.
#[derive(Clone, Debug)]
pub struct HfConfig {
    /// Path of `config.json`, for messages.
    pub path: PathBuf,
    /// The JSON object as written.
    pub raw: Map<String, Value>,
    pub model_type: String,
    pub family: Family,
}

impl HfConfig {
    /// Reads `dir/config.json`; a folder that is not there, a file that is
    /// not a JSON object or an unknown `model_type` is an error naming it.
    pub fn read(dir: &Path) -> Result<HfConfig> {
        if !dir.is_dir() {
            bail!("model folder {} does not exist", dir.display());
        }
        let path = dir.join("config.json");
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        let raw = match serde_json::from_str::<Value>(&text) {
            Ok(Value::Object(m)) => m,
            Ok(_) => bail!("{}: expected a JSON object", path.display()),
            Err(e) => bail!("{} is not JSON: {e}", path.display()),
        };
        let model_type = raw
            .get("model_type")
            .and_then(Value::as_str)
            .unwrap_or("bert")
            .to_string();
        let Some(family) = Family::of(&model_type) else {
            bail!(
                "{}: model_type `{model_type}` is not supported ({MODEL_TYPES})",
                path.display()
            );
        };
        Ok(HfConfig {
            path,
            raw,
            model_type,
            family,
        })
    }

    /// Maximum input length in tokens: the position table, less the two
    /// slots RoBERTa reserves before the first position, at most 512.
    pub fn max_tokens(&self) -> usize {
        let positions = self
            .raw
            .get("max_position_embeddings")
            .and_then(Value::as_i64)
            .unwrap_or(512);
        let usable = match self.family {
            Family::Roberta => positions - 2,
            _ => positions,
        };
        usable.clamp(8, 512) as usize
    }

    /// `pad_token_id`, when the config gives one.
    pub fn pad_token_id(&self) -> Option<i64> {
        self.raw.get("pad_token_id").and_then(Value::as_i64)
    }

    /// Deserialises into rust-bert's config type `T`, with the defaults of
    /// the family filled in and the keys of `overrides` replaced.
    pub fn rust_bert<T: serde::de::DeserializeOwned>(
        &self,
        overrides: &[(&str, Value)],
    ) -> Result<T> {
        let mut obj = self.raw.clone();
        for (key, value) in self.family.defaults() {
            obj.entry(key).or_insert(value);
        }
        // `transformers` may write an integer as 2.0; rust-bert's i64 fields
        // refuse that.
        for key in ["type_vocab_size", "vocab_size", "hidden_size", "dim"] {
            if let Some(v) = obj.get_mut(key) {
                if let (None, Some(x)) = (v.as_i64(), v.as_f64()) {
                    *v = Value::from(x as i64);
                }
            }
        }
        for (key, value) in overrides {
            obj.insert(key.to_string(), value.clone());
        }
        serde_json::from_value(Value::Object(obj)).map_err(|e| {
            anyhow::anyhow!(
                "{}: not a config verbatim can run: {e}",
                self.path.display()
            )
        })
    }
}

/// The name a tensor is matched by: without the base-model prefix of task
/// checkpoints and with the current layer-norm names.
pub fn canonical_name(name: &str) -> String {
    let base = ["bert.", "roberta.", "distilbert.", "model."]
        .iter()
        .find_map(|p| name.strip_prefix(p))
        .unwrap_or(name);
    match base.rsplit_once('.') {
        Some((stem, "gamma")) if stem.ends_with("LayerNorm") => format!("{stem}.weight"),
        Some((stem, "beta")) if stem.ends_with("LayerNorm") => format!("{stem}.bias"),
        _ => base.to_string(),
    }
}

/// Why weights could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum WeightsError {
    #[error("{path}: not found; verbatim reads weights from model.safetensors (save the model with `safe_serialization=True`)")]
    NotFound { path: String },
    #[error("reading weights from {path}: {source}")]
    Unreadable { path: String, source: tch::TchError },
    #[error("{path}: tensor `{name}` has shape {found:?}, config.json implies {expected:?}")]
    Shape {
        path: String,
        name: String,
        found: Vec<i64>,
        expected: Vec<i64>,
    },
    #[error("{path}: {} tensors the model needs are missing, e.g. {}", .names.len(), .names.iter().take(5).cloned().collect::<Vec<_>>().join(", "))]
    Missing { path: String, names: Vec<String> },
    #[error("copying {name} from {path}: {source}")]
    Copy {
        path: String,
        name: String,
        source: tch::TchError,
    },
}

/// Copies every variable of `vs` from the safetensors file `path`, matched
/// by [`canonical_name`]. Tensors the model does not use (a pooler, the
/// position-id buffer) are ignored; a missing or misshapen one is an error.
pub fn load_safetensors(vs: &mut nn::VarStore, path: &Path) -> Result<(), WeightsError> {
    let shown = path.display().to_string();
    if !path.is_file() {
        return Err(WeightsError::NotFound { path: shown });
    }
    let stored: HashMap<String, Tensor> = Tensor::read_safetensors(path)
        .map_err(|source| WeightsError::Unreadable {
            path: shown.clone(),
            source,
        })?
        .into_iter()
        .map(|(name, t)| (canonical_name(&name), t))
        .collect();
    let mut missing = Vec::new();
    let mut variables = vs.variables();
    let mut names: Vec<&String> = variables.keys().collect();
    names.sort();
    let names: Vec<String> = names.into_iter().cloned().collect();
    tch::no_grad(|| {
        for name in names {
            let var = variables.get_mut(&name).expect("name taken from the map");
            let Some(t) = stored.get(&canonical_name(&name)) else {
                missing.push(name);
                continue;
            };
            if t.size() != var.size() {
                return Err(WeightsError::Shape {
                    path: shown.clone(),
                    name,
                    found: t.size(),
                    expected: var.size(),
                });
            }
            var.f_copy_(t).map_err(|source| WeightsError::Copy {
                path: shown.clone(),
                name: name.clone(),
                source,
            })?;
        }
        Ok(())
    })?;
    if missing.is_empty() {
        Ok(())
    } else {
        Err(WeightsError::Missing {
            path: shown,
            names: missing,
        })
    }
}

/// Reads `dir/tokenizer.json`, truncating inputs to `max_tokens`.
pub fn read_tokenizer(dir: &Path, max_tokens: usize) -> Result<Tokenizer> {
    let path = dir.join("tokenizer.json");
    if !path.is_file() {
        bail!(
            "{} not found: verbatim reads the fast tokenizer file (save it with \
             `tokenizer.save_pretrained`)",
            path.display()
        );
    }
    let mut tokenizer = Tokenizer::from_file(&path)
        .map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))?;
    tokenizer
        .with_truncation(Some(TruncationParams {
            max_length: max_tokens,
            ..Default::default()
        }))
        .map_err(|e| anyhow::anyhow!("{}: setting the truncation: {e}", path.display()))?;
    Ok(tokenizer)
}

/// The padding id: the config's `pad_token_id`, else the tokenizer's
/// `<pad>` or `[PAD]`, else 0.
pub fn pad_id(config: &HfConfig, tokenizer: &Tokenizer) -> i64 {
    config.pad_token_id().unwrap_or_else(|| {
        ["<pad>", "[PAD]"]
            .iter()
            .find_map(|t| tokenizer.token_to_id(t))
            .unwrap_or(0) as i64
    })
}

/// The padded length of a row of `len` tokens: `len` rounded up to a step
/// of 8 tokens up to 64, then an eighth of the next power of two (16 up to
/// 128, 32 up to 256, ...), so padding costs at most an eighth of a row past
/// 64 tokens. It depends on the row alone, never on the rows batched with
/// it; `max_len` (the model's position table) caps it.
pub fn bucket_len(len: usize, max_len: usize) -> usize {
    let len = len.max(1);
    let step = (len.next_power_of_two() / 8).max(8);
    len.div_ceil(step)
        .saturating_mul(step)
        .min(max_len.max(len))
}

/// One forward pass of [`bucket_batches`]: `rows` (indices into the
/// lengths) padded to `len` tokens, in a block of `slots` rows (the rest
/// dummy rows).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Block {
    pub rows: Vec<usize>,
    pub len: usize,
    pub slots: usize,
}

/// Forward passes for rows of these token counts whose shapes never depend
/// on which rows came together: every row is padded to its [`bucket_len`],
/// rows of one bucket (in input order) go `slots = budget / len` at a time
/// (at least 1), and the last block of a bucket is filled up with dummy
/// rows. A row therefore always meets the same `[slots, len]` matrices,
/// whatever else is embedded with it, so its vector is the same to the bit
/// alone, in a batch, or when a cache sends only the texts it lacks (the
/// topic cosines pad to fixed blocks for the same reason).
pub fn bucket_batches(lengths: &[usize], budget: usize, max_len: usize) -> Vec<Block> {
    let mut buckets: std::collections::BTreeMap<usize, Vec<usize>> = Default::default();
    for (i, &n) in lengths.iter().enumerate() {
        buckets.entry(bucket_len(n, max_len)).or_default().push(i);
    }
    let mut out = Vec::new();
    for (len, rows) in buckets {
        let slots = (budget / len).max(1);
        for chunk in rows.chunks(slots) {
            out.push(Block {
                rows: chunk.to_vec(),
                len,
                slots,
            });
        }
    }
    out
}

/// Token ids and attention mask of a [`Block`]: the rows padded with `pad`
/// to `len` tokens, then dummy rows up to `slots` (one unmasked `pad`
/// token each, so no row attends to nothing), as `[slots, len]` tensors.
pub fn padded_block(
    rows: &[&[u32]],
    len: usize,
    slots: usize,
    pad: i64,
    device: Device,
) -> (Tensor, Tensor) {
    let slots = slots.max(rows.len());
    let len = len
        .max(rows.iter().map(|r| r.len()).max().unwrap_or(0))
        .max(1);
    let mut ids = vec![pad; slots * len];
    let mut mask = vec![0i64; slots * len];
    for (r, row) in rows.iter().enumerate() {
        for (c, &id) in row.iter().enumerate() {
            ids[r * len + c] = i64::from(id);
            mask[r * len + c] = 1;
        }
    }
    for r in rows.len()..slots {
        mask[r * len] = 1;
    }
    let shape = [slots as i64, len as i64];
    (
        Tensor::from_slice(&ids).view(shape).to(device),
        Tensor::from_slice(&mask).view(shape).to(device),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_prefixes_and_old_layer_norm_names_are_removed() {
        assert_eq!(
            canonical_name("bert.encoder.layer.0.output.LayerNorm.gamma"),
            "encoder.layer.0.output.LayerNorm.weight"
        );
        assert_eq!(
            canonical_name("roberta.embeddings.LayerNorm.beta"),
            "embeddings.LayerNorm.bias"
        );
        assert_eq!(
            canonical_name("distilbert.transformer.layer.1.ffn.lin1.weight"),
            "transformer.layer.1.ffn.lin1.weight"
        );
        // Heads sit at the root in both layouts and keep their names.
        assert_eq!(
            canonical_name("classifier.out_proj.bias"),
            "classifier.out_proj.bias"
        );
        assert_eq!(
            canonical_name("pre_classifier.weight"),
            "pre_classifier.weight"
        );
        // Only a layer norm's gamma is renamed.
        assert_eq!(canonical_name("head.gamma"), "head.gamma");
    }

    #[test]
    fn buckets_depend_on_the_row_alone() {
        let got: Vec<usize> = [1, 7, 8, 9, 64, 65, 100, 129, 300, 510, 512]
            .iter()
            .map(|&n| bucket_len(n, 512))
            .collect();
        assert_eq!(got, vec![8, 8, 8, 16, 64, 80, 112, 160, 320, 512, 512]);
        assert_eq!(bucket_len(30, 20), 30);
        let lengths = [5, 40, 3, 12, 12, 7, 100, 4];
        let blocks = bucket_batches(&lengths, 32, 512);
        let mut seen: Vec<usize> = blocks.iter().flat_map(|b| b.rows.clone()).collect();
        seen.sort();
        assert_eq!(seen, (0..lengths.len()).collect::<Vec<_>>());
        assert_eq!(
            blocks,
            vec![
                Block {
                    rows: vec![0, 2, 5, 7],
                    len: 8,
                    slots: 4
                },
                Block {
                    rows: vec![3, 4],
                    len: 16,
                    slots: 2
                },
                Block {
                    rows: vec![1],
                    len: 40,
                    slots: 1
                },
                Block {
                    rows: vec![6],
                    len: 112,
                    slots: 1
                },
            ]
        );
        // A row's block shape is the same alone.
        assert_eq!(
            bucket_batches(&[12], 32, 512),
            vec![Block {
                rows: vec![0],
                len: 16,
                slots: 2
            }]
        );
        let (ids, mask) = padded_block(&[&[7, 8, 9]], 4, 2, 1, Device::Cpu);
        assert_eq!(
            Vec::<i64>::try_from(ids.view([-1])).unwrap(),
            vec![7, 8, 9, 1, 1, 1, 1, 1]
        );
        assert_eq!(
            Vec::<i64>::try_from(mask.view([-1])).unwrap(),
            vec![1, 1, 1, 0, 1, 0, 0, 0]
        );
    }

    #[test]
    fn config_errors_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let e = HfConfig::read(&dir.path().join("nope")).unwrap_err();
        assert!(e.to_string().contains("does not exist"), "{e}");
        std::fs::write(dir.path().join("config.json"), "{\"model_type\": \"gpt2\"}").unwrap();
        let e = HfConfig::read(dir.path()).unwrap_err().to_string();
        assert!(e.contains("config.json") && e.contains("gpt2"), "{e}");
        std::fs::write(dir.path().join("config.json"), "[1]").unwrap();
        let e = HfConfig::read(dir.path()).unwrap_err().to_string();
        assert!(e.contains("config.json") && e.contains("object"), "{e}");
    }
}
