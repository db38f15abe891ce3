//! The real encoder: a Hugging Face model folder run by rust-bert on libtorch.
//!
//! A folder holds `config.json`, `model.safetensors` and `tokenizer.json`, as
//! `transformers` saves them; BERT, XLM-RoBERTa and DistilBERT families are
//! understood (chosen by `model_type`). Tokenisation is the `tokenizers` crate
//! on the folder's own `tokenizer.json`, so ids match the model's training.
//!
//! Throughput comes from how batches are cut: texts are sorted by token count
//! and packed until `rows × longest` reaches a token budget, so a batch of
//! short comments is not padded to the length of one long complaint. Vectors
//! are mean-pooled over real tokens (the attention mask) and L2-normalised, in
//! float32 whatever the precision of the forward pass.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use rust_bert::bert::{BertConfig, BertEmbeddings, BertModel};
use rust_bert::distilbert::{DistilBertConfig, DistilBertModel};
use rust_bert::roberta::RobertaEmbeddings;
use tch::{nn, Device, Kind, Tensor};
use tokenizers::{Tokenizer, TruncationParams};

use super::fused::{Checkpoint, Family, FusedEncoder, Shape};
use super::manifest::FolderInfo;
use super::{Encoder, Precision};

/// Where the forward pass runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DeviceChoice {
    /// CPU.
    Cpu,
    /// The first CUDA GPU, failing if there is none.
    Cuda,
    /// CUDA when libtorch sees a GPU, else CPU.
    Auto,
}

/// How to load and run an encoder.
#[derive(Clone, Debug)]
pub struct EncoderOptions {
    pub precision: Precision,
    /// libtorch intra-op threads; `None` keeps libtorch's default (all cores).
    pub threads: Option<usize>,
    /// Upper bound of `rows × longest row` per forward pass.
    pub token_budget: usize,
    /// Input prefix; `None` takes the folder's `verbatim.json` (e5: `query: `).
    pub prefix: Option<String>,
    pub device: DeviceChoice,
    /// Which implementation runs the layers.
    pub forward: ForwardImpl,
}

/// Which implementation runs the transformer layers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ForwardImpl {
    /// verbatim's fused pass (one QKV projection, fused attention; see `model::fused`).
    #[default]
    Fused,
    /// rust-bert's BertModel / DistilBertModel modules.
    RustBert,
}

impl Default for EncoderOptions {
    fn default() -> Self {
        EncoderOptions {
            precision: Precision::Auto,
            threads: None,
            token_budget: 4096,
            prefix: None,
            device: DeviceChoice::Cpu,
            forward: ForwardImpl::Fused,
        }
    }
}

enum Arch {
    Fused(FusedEncoder),
    Bert(BertModel<BertEmbeddings>),
    Roberta(BertModel<RobertaEmbeddings>),
    DistilBert(DistilBertModel),
}

/// A transformer encoder with its tokenizer, ready to embed.
pub struct TransformerEncoder {
    arch: Arch,
    // The variables live as long as the modules that point into them
    // (none for the fused pass, which owns its tensors).
    _vs: Option<nn::VarStore>,
    tokenizer: Tokenizer,
    device: Device,
    kind: Kind,
    prefix: String,
    pad_id: i64,
    dim: usize,
    token_budget: usize,
    info: FolderInfo,
    dir: PathBuf,
}

/// Caps libtorch's caches of compiled CPU kernels, unless the user set them.
///
/// oneDNN (`ONEDNN_PRIMITIVE_CACHE_CAPACITY`) and PyTorch's mkldnn layer
/// (`LRU_CACHE_CAPACITY`) keep a compiled kernel per input shape, 1,024 of
/// each by default. Batches cut by a token budget come in many shapes, so on
/// a long run these caches, not the data, made memory grow with the number of
/// rows (benches/memory.sh, tiny model: 371 MiB peak at 10,000 rows and
/// 657 MiB at 1,000,000 with the defaults; 359 and 402 MiB with 32 entries,
/// the rest being the duplicate-id index). A miss costs one kernel
/// compilation, small next to a forward pass.
///
/// Call it first thing in `main`: setting the environment is only sound
/// while the process has one thread.
pub fn cap_kernel_caches() {
    for key in ["ONEDNN_PRIMITIVE_CACHE_CAPACITY", "LRU_CACHE_CAPACITY"] {
        if std::env::var_os(key).is_none() {
            std::env::set_var(key, "32");
        }
    }
}

/// Makes libtorch's OpenMP threads sleep, not spin, between parallel regions.
///
/// libgomp busy-waits for a while after each parallel region by default
/// (`OMP_WAIT_POLICY=ACTIVE` behaviour), which pays on an idle machine running
/// nothing but matrix products. verbatim interleaves the forward pass with
/// tokenisation, classification and writing on other threads, and batch jobs
/// often share their machine: spinning threads then take the cores those need
/// (a perf profile of `analyze` on a busy 2-core machine showed 65% of samples
/// spinning in libgomp, and the run took 4.5 times as long as with
/// `OMP_WAIT_POLICY=PASSIVE`). libgomp reads the variable when it is loaded,
/// before `main`, so the only way to set it from inside is to execute the
/// program again with it set. A value the user set is left alone; on any
/// failure the program goes on as it is.
///
/// Call it first thing in `main`.
pub fn passive_openmp() {
    use std::os::unix::process::CommandExt;
    if std::env::var_os("OMP_WAIT_POLICY").is_some() {
        return;
    }
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    let mut args = std::env::args_os();
    let arg0 = args.next().unwrap_or_else(|| exe.clone().into_os_string());
    // `exec` only returns on failure, in which case the run goes on here.
    let _ = std::process::Command::new(&exe)
        .arg0(arg0)
        .args(args)
        .env("OMP_WAIT_POLICY", "PASSIVE")
        .exec();
}

/// True when the CPU has native bfloat16 dot products (AVX512-BF16 or AMX).
pub fn cpu_has_bf16() -> bool {
    std::fs::read_to_string("/proc/cpuinfo")
        .map(|s| {
            s.lines().filter(|l| l.starts_with("flags")).any(|l| {
                l.split_whitespace()
                    .any(|f| f == "avx512_bf16" || f == "amx_bf16")
            })
        })
        .unwrap_or(false)
}

/// Keys rust-bert requires that `transformers` may leave out of a config, with
/// the values `transformers` assumes for them.
const BERT_DEFAULTS: &[(&str, f64)] = &[
    ("attention_probs_dropout_prob", 0.1),
    ("hidden_dropout_prob", 0.1),
    ("initializer_range", 0.02),
    ("type_vocab_size", 2.0),
];
const DISTILBERT_DEFAULTS: &[(&str, f64)] = &[
    ("attention_dropout", 0.1),
    ("dropout", 0.1),
    ("initializer_range", 0.02),
    ("qa_dropout", 0.1),
    ("seq_classif_dropout", 0.2),
];

/// Deserialises a `config.json` into rust-bert's config type with the
/// defaults above filled in (rust-bert's own `from_file` panics on a bad file).
fn parse_config<T: serde::de::DeserializeOwned>(
    raw: &serde_json::Value,
    defaults: &[(&str, f64)],
    path: &Path,
) -> Result<T> {
    let mut obj = raw.as_object().cloned().unwrap_or_default();
    for (k, v) in defaults {
        obj.entry(k.to_string())
            .or_insert_with(|| serde_json::json!(v));
    }
    // Integers must stay integers for the i64 fields.
    if let Some(v) = obj.get_mut("type_vocab_size") {
        if let Some(f) = v.as_f64() {
            *v = serde_json::json!(f as i64);
        }
    }
    for (k, v) in [("hidden_act", "gelu"), ("activation", "gelu")] {
        obj.entry(k.to_string())
            .or_insert_with(|| serde_json::json!(v));
    }
    for (k, v) in [("sinusoidal_pos_embds", false), ("tie_weights_", true)] {
        obj.entry(k.to_string())
            .or_insert_with(|| serde_json::json!(v));
    }
    serde_json::from_value(serde_json::Value::Object(obj))
        .map_err(|e| anyhow::anyhow!("{}: not a config verbatim can run: {e}", path.display()))
}

/// Strips the head-model prefixes (`bert.`, `roberta.`…) that a checkpoint
/// saved from a task model carries, and maps old `gamma`/`beta` names.
fn canonical_name(name: &str) -> String {
    let mut n = name;
    for prefix in ["bert.", "roberta.", "distilbert.", "model."] {
        if let Some(rest) = n.strip_prefix(prefix) {
            n = rest;
            break;
        }
    }
    let n = n.replace("LayerNorm.gamma", "LayerNorm.weight");
    n.replace("LayerNorm.beta", "LayerNorm.bias")
}

fn load_safetensors(vs: &mut nn::VarStore, path: &Path) -> Result<()> {
    let source = Tensor::read_safetensors(path)
        .with_context(|| format!("reading weights from {}", path.display()))?;
    let source: HashMap<String, Tensor> = source
        .into_iter()
        .map(|(n, t)| (canonical_name(&n), t))
        .collect();
    let mut missing = Vec::new();
    let mut variables = vs.variables();
    tch::no_grad(|| -> Result<()> {
        for (name, var) in variables.iter_mut() {
            match source.get(&canonical_name(name)) {
                Some(t) if t.size() == var.size() => {
                    var.f_copy_(t)?;
                }
                Some(t) => bail!(
                    "{}: tensor `{name}` has shape {:?}, the config expects {:?}",
                    path.display(),
                    t.size(),
                    var.size()
                ),
                None => missing.push(name.clone()),
            }
        }
        Ok(())
    })?;
    if !missing.is_empty() {
        missing.sort();
        bail!(
            "{}: {} tensors the config needs are missing, e.g. {}",
            path.display(),
            missing.len(),
            missing
                .iter()
                .take(5)
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    Ok(())
}

impl TransformerEncoder {
    /// Loads the model folder `dir`.
    pub fn load(dir: &Path, opts: &EncoderOptions) -> Result<Self> {
        if !dir.is_dir() {
            bail!(
                "model folder {} does not exist; run `verbatim models install` or pass --model PATH",
                dir.display()
            );
        }
        if let Some(n) = opts.threads {
            tch::set_num_threads(n as i32);
        }
        let device = match opts.device {
            DeviceChoice::Cpu => Device::Cpu,
            DeviceChoice::Cuda if tch::Cuda::is_available() => Device::Cuda(0),
            DeviceChoice::Cuda => bail!("--device cuda: libtorch sees no CUDA GPU"),
            DeviceChoice::Auto => Device::cuda_if_available(),
        };
        let info = FolderInfo::read(dir)?;
        let config_path = dir.join("config.json");
        let config_text = std::fs::read_to_string(&config_path)
            .with_context(|| format!("reading {}", config_path.display()))?;
        let raw: serde_json::Value = serde_json::from_str(&config_text)
            .with_context(|| format!("{} is not JSON", config_path.display()))?;
        let model_type = raw["model_type"].as_str().unwrap_or("bert").to_string();

        let weights = dir.join("model.safetensors");
        if !weights.is_file() {
            bail!(
                "{} not found: verbatim reads weights from model.safetensors (save the model \
                 with `safe_serialization=True`)",
                weights.display()
            );
        }
        let tokenizer_path = dir.join("tokenizer.json");
        let mut tokenizer = Tokenizer::from_file(&tokenizer_path)
            .map_err(|e| anyhow::anyhow!("reading {}: {e}", tokenizer_path.display()))?;

        let use_bf16 = match opts.precision {
            Precision::F32 => false,
            Precision::Bf16 => true,
            Precision::Auto => device != Device::Cpu || cpu_has_bf16(),
        };
        let kind = if use_bf16 {
            Kind::BFloat16
        } else {
            Kind::Float
        };
        let family = match model_type.as_str() {
            "bert" => Family::Bert,
            "xlm-roberta" | "roberta" | "camembert" => Family::Roberta,
            "distilbert" => Family::DistilBert,
            other => bail!(
                "{}: model_type `{other}` is not supported (bert, xlm-roberta, roberta, camembert, distilbert)",
                config_path.display()
            ),
        };
        let (arch, vs, dim, max_positions) = match opts.forward {
            ForwardImpl::Fused => {
                let shape = Shape::from_config(&raw, family, &config_path)?;
                let bytes = std::fs::read(&weights)
                    .with_context(|| format!("reading weights from {}", weights.display()))?;
                let checkpoint = Checkpoint::new(&bytes, &weights, canonical_name)?;
                let fused = FusedEncoder::new(
                    &checkpoint,
                    family,
                    &shape,
                    &config_path,
                    &weights,
                    device,
                    kind,
                )?;
                let max_positions = fused.max_positions();
                (Arch::Fused(fused), None, shape.hidden, max_positions)
            }
            ForwardImpl::RustBert => {
                let mut vs = nn::VarStore::new(device);
                let root = vs.root();
                let (arch, dim, max_positions) = match family {
                    Family::Bert => {
                        let c: BertConfig = parse_config(&raw, BERT_DEFAULTS, &config_path)?;
                        let m =
                            BertModel::<BertEmbeddings>::new_with_optional_pooler(&root, &c, false);
                        (Arch::Bert(m), c.hidden_size, c.max_position_embeddings)
                    }
                    Family::Roberta => {
                        let c: BertConfig = parse_config(&raw, BERT_DEFAULTS, &config_path)?;
                        let m = BertModel::<RobertaEmbeddings>::new_with_optional_pooler(
                            &root, &c, false,
                        );
                        // RoBERTa positions start after the padding index (pad id + 1).
                        (
                            Arch::Roberta(m),
                            c.hidden_size,
                            c.max_position_embeddings - 2,
                        )
                    }
                    Family::DistilBert => {
                        let c: DistilBertConfig =
                            parse_config(&raw, DISTILBERT_DEFAULTS, &config_path)?;
                        let m = DistilBertModel::new(&root, &c);
                        (Arch::DistilBert(m), c.dim, c.max_position_embeddings)
                    }
                };
                load_safetensors(&mut vs, &weights)?;
                if use_bf16 {
                    vs.bfloat16();
                }
                (arch, Some(vs), dim, max_positions)
            }
        };
        let max_len = max_positions.clamp(8, 512) as usize;
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: max_len,
                ..Default::default()
            }))
            .map_err(|e| anyhow::anyhow!("tokenizer truncation: {e}"))?;
        let pad_id = ["<pad>", "[PAD]"]
            .iter()
            .find_map(|t| tokenizer.token_to_id(t))
            .unwrap_or(0) as i64;
        let prefix = opts.prefix.clone().unwrap_or_else(|| info.prefix.clone());
        Ok(TransformerEncoder {
            arch,
            _vs: vs,
            tokenizer,
            device,
            kind,
            prefix,
            pad_id,
            dim: dim as usize,
            token_budget: opts.token_budget.max(max_len),
            info,
            dir: dir.to_path_buf(),
        })
    }

    /// Facts about the loaded folder (name, checksum, source).
    pub fn info(&self) -> &FolderInfo {
        &self.info
    }

    /// The precision the forward pass runs in.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// Token ids (with special tokens, after the prefix) for one text.
    pub fn token_ids(&self, text: &str) -> Result<Vec<u32>> {
        let enc = self
            .tokenizer
            .encode(format!("{}{}", self.prefix, text), true)
            .map_err(|e| anyhow::anyhow!("tokenizing: {e}"))?;
        Ok(enc.get_ids().to_vec())
    }

    fn hidden(&self, ids: &Tensor, mask: &Tensor) -> Result<Tensor> {
        Ok(match &self.arch {
            Arch::Fused(m) => m.hidden(ids, mask),
            Arch::Bert(m) => {
                m.forward_t(Some(ids), Some(mask), None, None, None, None, None, false)?
                    .hidden_state
            }
            Arch::Roberta(m) => {
                m.forward_t(Some(ids), Some(mask), None, None, None, None, None, false)?
                    .hidden_state
            }
            Arch::DistilBert(m) => {
                m.forward_t(Some(ids), Some(mask), None, false)?
                    .hidden_state
            }
        })
    }

    /// Embeds already tokenized rows (one batch, padded here).
    fn embed_batch(&self, rows: &[&[u32]]) -> Result<Vec<Vec<f32>>> {
        let longest = rows.iter().map(|r| r.len()).max().unwrap_or(0).max(1);
        let mut ids = vec![self.pad_id; rows.len() * longest];
        let mut mask = vec![0i64; rows.len() * longest];
        for (r, row) in rows.iter().enumerate() {
            for (c, &id) in row.iter().enumerate() {
                ids[r * longest + c] = id as i64;
                mask[r * longest + c] = 1;
            }
        }
        let shape = [rows.len() as i64, longest as i64];
        let ids = Tensor::from_slice(&ids).view(shape).to(self.device);
        let mask = Tensor::from_slice(&mask).view(shape).to(self.device);
        let pooled = tch::no_grad(|| -> Result<Tensor> {
            let hidden = self.hidden(&ids, &mask)?.to_kind(Kind::Float);
            let m = mask.to_kind(Kind::Float).unsqueeze(-1);
            let summed = (hidden * &m).sum_dim_intlist([1i64].as_slice(), false, Kind::Float);
            let counts = m
                .sum_dim_intlist([1i64].as_slice(), false, Kind::Float)
                .clamp_min(1.0);
            let mean = summed / counts;
            let norm = mean
                .norm_scalaropt_dim(2, [1i64].as_slice(), true)
                .clamp_min(1e-12);
            Ok((mean / norm).to(Device::Cpu).contiguous())
        })?;
        let flat = Vec::<f32>::try_from(pooled.view([-1]))?;
        Ok(flat.chunks(self.dim).map(<[f32]>::to_vec).collect())
    }
}

impl Encoder for TransformerEncoder {
    fn name(&self) -> String {
        self.info.name.clone().unwrap_or_else(|| {
            self.dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "model".into())
        })
    }

    fn dim(&self) -> usize {
        self.dim
    }

    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        let inputs: Vec<String> = texts
            .iter()
            .map(|t| format!("{}{}", self.prefix, t))
            .collect();
        let encodings = self
            .tokenizer
            .encode_batch(inputs, true)
            .map_err(|e| anyhow::anyhow!("tokenizing: {e}"))?;
        let ids: Vec<&[u32]> = encodings.iter().map(|e| e.get_ids()).collect();
        let mut order: Vec<usize> = (0..ids.len()).collect();
        order.sort_by_key(|&i| ids[i].len());
        let mut out: Vec<Vec<f32>> = vec![Vec::new(); ids.len()];
        let mut start = 0;
        while start < order.len() {
            // Sorted ascending, so the last row of a batch is its longest.
            let mut end = start + 1;
            while end < order.len()
                && (end + 1 - start) * ids[order[end]].len() <= self.token_budget
            {
                end += 1;
            }
            let rows: Vec<&[u32]> = order[start..end].iter().map(|&i| ids[i]).collect();
            for (k, v) in self.embed_batch(&rows)?.into_iter().enumerate() {
                out[order[start + k]] = v;
            }
            start = end;
        }
        Ok(out)
    }
}
