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

/// Batches of row indices for rows of these token counts: the rows sorted
/// by length, each batch packed while `rows × its longest row` stays within
/// `budget` (a batch has at least one row). Short comments are then not
/// padded to the length of one long complaint.
pub fn budget_batches(lengths: &[usize], budget: usize) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..lengths.len()).collect();
    order.sort_by_key(|&i| lengths[i]);
    let mut out = Vec::new();
    let mut start = 0;
    while start < order.len() {
        // Sorted ascending, so the row being added is the batch's longest.
        let mut end = start + 1;
        while end < order.len() && (end + 1 - start) * lengths[order[end]] <= budget {
            end += 1;
        }
        out.push(order[start..end].to_vec());
        start = end;
    }
    out
}

/// Token ids and attention mask of a batch, padded with `pad` to its
/// longest row, as `[rows, longest]` tensors on `device`.
pub fn padded_batch(rows: &[&[u32]], pad: i64, device: Device) -> (Tensor, Tensor) {
    let longest = rows.iter().map(|r| r.len()).max().unwrap_or(0).max(1);
    let mut ids = vec![pad; rows.len() * longest];
    let mut mask = vec![0i64; rows.len() * longest];
    for (r, row) in rows.iter().enumerate() {
        for (c, &id) in row.iter().enumerate() {
            ids[r * longest + c] = i64::from(id);
            mask[r * longest + c] = 1;
        }
    }
    let shape = [rows.len() as i64, longest as i64];
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
    fn batches_respect_the_budget_and_cover_every_row_once() {
        let lengths = [5, 40, 3, 12, 12, 7, 100, 4];
        let batches = budget_batches(&lengths, 30);
        let mut seen: Vec<usize> = batches.iter().flatten().copied().collect();
        seen.sort();
        assert_eq!(seen, (0..lengths.len()).collect::<Vec<_>>());
        for b in &batches {
            let longest = b.iter().map(|&i| lengths[i]).max().unwrap();
            // A row longer than the budget goes alone.
            assert!(b.len() == 1 || b.len() * longest <= 30, "{b:?}");
        }
        // Sorted by length: 3 4 5 7 | 12 12 | 40 | 100.
        assert_eq!(
            batches,
            vec![vec![2, 7, 0, 5], vec![3, 4], vec![1], vec![6]]
        );
    }

    #[test]
    fn padding_and_mask() {
        let (ids, mask) = padded_batch(&[&[7, 8, 9], &[5]], 1, Device::Cpu);
        assert_eq!(ids.size(), vec![2, 3]);
        assert_eq!(
            Vec::<i64>::try_from(ids.view([-1])).unwrap(),
            vec![7, 8, 9, 5, 1, 1]
        );
        assert_eq!(
            Vec::<i64>::try_from(mask.view([-1])).unwrap(),
            vec![1, 1, 1, 1, 0, 0]
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
