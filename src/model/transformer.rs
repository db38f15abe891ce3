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

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use rust_bert::bert::{BertConfig, BertEmbeddings, BertModel};
use rust_bert::distilbert::{DistilBertConfig, DistilBertModel};
use rust_bert::roberta::RobertaEmbeddings;
use tch::{nn, Device, Kind, Tensor};
use tokenizers::Tokenizer;

use super::fused::{Checkpoint, FusedEncoder, Shape};
use super::hf::{
    bucket_batches, canonical_name, load_safetensors, pad_id, padded_block, read_tokenizer, Family,
    HfConfig, WeightsError,
};
use super::manifest::FolderInfo;
use super::tuned::{layer_prefix, mean_pool, BelowCache, TopicBranch};
use super::{Encoder, Precision, WithTopics};
use crate::text::shouting::calm;

/// Where the forward pass runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DeviceChoice {
    /// CPU.
    Cpu,
    /// The first CUDA GPU, failing if there is none.
    Cuda,
    /// CUDA when libtorch sees a GPU, else CPU.
    Auto,
}

impl DeviceChoice {
    /// Every choice, in the order `--help` lists them.
    pub const ALL: [DeviceChoice; 3] = [DeviceChoice::Cpu, DeviceChoice::Cuda, DeviceChoice::Auto];

    /// Name as written on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            DeviceChoice::Cpu => "cpu",
            DeviceChoice::Cuda => "cuda",
            DeviceChoice::Auto => "auto",
        }
    }
}

impl std::str::FromStr for DeviceChoice {
    type Err = String;

    /// A name of [`DeviceChoice::as_str`], in any case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DeviceChoice::ALL
            .into_iter()
            .find(|v| v.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                let names: Vec<&str> = DeviceChoice::ALL.iter().map(|v| v.as_str()).collect();
                format!("unknown device `{s}`; use one of {}", names.join(", "))
            })
    }
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
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ForwardImpl {
    /// verbatim's fused pass (one QKV projection, fused attention; see `model::fused`).
    #[default]
    Fused,
    /// rust-bert's BertModel / DistilBertModel modules.
    RustBert,
}

impl ForwardImpl {
    /// Every implementation, in the order `--help` lists them.
    pub const ALL: [ForwardImpl; 2] = [ForwardImpl::Fused, ForwardImpl::RustBert];

    /// Name as written on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            ForwardImpl::Fused => "fused",
            ForwardImpl::RustBert => "rust-bert",
        }
    }
}

impl std::str::FromStr for ForwardImpl {
    type Err = String;

    /// A name of [`ForwardImpl::as_str`], in any case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ForwardImpl::ALL
            .into_iter()
            .find(|v| v.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                let names: Vec<&str> = ForwardImpl::ALL.iter().map(|v| v.as_str()).collect();
                format!(
                    "unknown forward implementation `{s}`; use one of {}",
                    names.join(", ")
                )
            })
    }
}

impl Default for EncoderOptions {
    fn default() -> Self {
        EncoderOptions {
            precision: Precision::Auto,
            threads: None,
            // Past 2,048 the filled last block of each length (see
            // `hf::bucket_batches`) costs more than larger passes save
            // (examples/bench_embed.rs, `--batch-tokens`).
            token_budget: 2048,
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
    /// Longest input in tokens (the tokenizer truncates there).
    max_len: usize,
    info: FolderInfo,
    dir: PathBuf,
    family: Family,
    /// A fine-tuned topic branch run beside the top layers
    /// ([`TransformerEncoder::attach_topic_branch`]).
    branch: Option<TopicBranch>,
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
        let config = HfConfig::read(dir)?;
        let weights = dir.join("model.safetensors");
        if !weights.is_file() {
            return Err(WeightsError::NotFound {
                path: weights.display().to_string(),
            }
            .into());
        }
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
        let (arch, vs, dim) = match opts.forward {
            ForwardImpl::Fused => {
                let shape = Shape::from_config(&config)?;
                let bytes = std::fs::read(&weights)
                    .with_context(|| format!("reading weights from {}", weights.display()))?;
                let checkpoint = Checkpoint::new(&bytes, &weights, canonical_name)?;
                let fused =
                    FusedEncoder::new(&checkpoint, &config, &shape, &weights, device, kind)?;
                (Arch::Fused(fused), None, shape.hidden)
            }
            ForwardImpl::RustBert => {
                let mut vs = nn::VarStore::new(device);
                let root = vs.root();
                let (arch, dim) = match config.family {
                    Family::Bert => {
                        let c: BertConfig = config.rust_bert(&[])?;
                        let m =
                            BertModel::<BertEmbeddings>::new_with_optional_pooler(&root, &c, false);
                        (Arch::Bert(m), c.hidden_size)
                    }
                    Family::Roberta => {
                        let c: BertConfig = config.rust_bert(&[])?;
                        let m = BertModel::<RobertaEmbeddings>::new_with_optional_pooler(
                            &root, &c, false,
                        );
                        (Arch::Roberta(m), c.hidden_size)
                    }
                    Family::DistilBert => {
                        let c: DistilBertConfig = config.rust_bert(&[])?;
                        let m = DistilBertModel::new(&root, &c);
                        (Arch::DistilBert(m), c.dim)
                    }
                };
                load_safetensors(&mut vs, &weights)?;
                if use_bf16 {
                    vs.bfloat16();
                }
                (arch, Some(vs), dim)
            }
        };
        let max_len = config.max_tokens();
        let tokenizer = read_tokenizer(dir, max_len)?;
        let pad_id = pad_id(&config, &tokenizer);
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
            max_len,
            info,
            dir: dir.to_path_buf(),
            family: config.family,
            branch: None,
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

    /// Where the forward pass runs.
    pub fn device(&self) -> Device {
        self.device
    }

    /// What the tokenizer reads for `text`: the model's prefix, then the
    /// text with its shouted words lowered ([`calm`]).
    fn input(&self, text: &str) -> String {
        format!("{}{}", self.prefix, calm(text))
    }

    /// Token ids (with special tokens, after the prefix) for one text, its
    /// shouted words lowered ([`calm`]) as for every text the encoder reads.
    pub fn token_ids(&self, text: &str) -> Result<Vec<u32>> {
        let enc = self
            .tokenizer
            .encode(self.input(text), true)
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

    /// Embeds already tokenized rows (one block of `slots` rows of `len`
    /// tokens, padded here; the vectors of the dummy rows are dropped), with
    /// their topic probabilities when `topics` and a branch is attached.
    fn embed_block(
        &self,
        rows: &[&[u32]],
        len: usize,
        slots: usize,
        topics: bool,
    ) -> Result<WithTopics> {
        let (ids, mask) = padded_block(rows, len, slots, self.pad_id, self.device);
        let (pooled, probs) = tch::no_grad(|| -> Result<(Tensor, Option<Tensor>)> {
            match (&self.arch, &self.branch) {
                (Arch::Fused(m), Some(b)) if topics => {
                    let (x, bias) = m.embed(&ids, &mask);
                    let below = m.run(m.layers(0..b.split), x, &bias);
                    let own = m.run(m.layers(b.split..m.depth()), below.shallow_clone(), &bias);
                    let tuned = m.run(&b.layers, below, &bias);
                    let probs = b.probabilities(&mean_pool(&tuned, &mask));
                    Ok((mean_pool(&own, &mask), Some(probs)))
                }
                _ => Ok((mean_pool(&self.hidden(&ids, &mask)?, &mask), None)),
            }
        })?;
        let rows_of = |t: Tensor, width: usize| -> Result<Vec<Vec<f32>>> {
            let flat = Vec::<f32>::try_from(t.to(Device::Cpu).contiguous().view([-1]))?;
            Ok(flat
                .chunks(width)
                .take(rows.len())
                .map(<[f32]>::to_vec)
                .collect())
        };
        let vectors = rows_of(pooled, self.dim)?;
        let probs = match (probs, &self.branch) {
            (Some(p), Some(b)) => Some(rows_of(p, b.topics())?),
            _ => None,
        };
        Ok((vectors, probs))
    }

    /// Tokenizes `texts` (with the prefix, shouted words lowered: [`calm`])
    /// and runs `block` over the
    /// batches cut by the token budget; returns per text what `block` gave
    /// for its row.
    fn per_text<T: Default>(
        &self,
        texts: &[&str],
        mut block: impl FnMut(&[&[u32]], usize, usize) -> Result<Vec<T>>,
    ) -> Result<Vec<T>> {
        let inputs: Vec<String> = texts.iter().map(|t| self.input(t)).collect();
        let encodings = self
            .tokenizer
            .encode_batch(inputs, true)
            .map_err(|e| anyhow::anyhow!("tokenizing: {e}"))?;
        let ids: Vec<&[u32]> = encodings.iter().map(|e| e.get_ids()).collect();
        let lengths: Vec<usize> = ids.iter().map(|r| r.len()).collect();
        let mut out: Vec<T> = (0..ids.len()).map(|_| T::default()).collect();
        for b in bucket_batches(&lengths, self.token_budget, self.max_len) {
            let rows: Vec<&[u32]> = b.rows.iter().map(|&i| ids[i]).collect();
            for (&i, v) in b.rows.iter().zip(block(&rows, b.len, b.slots)?) {
                out[i] = v;
            }
        }
        Ok(out)
    }

    fn fused(&self) -> Result<&super::fused::FusedEncoder> {
        match &self.arch {
            Arch::Fused(m) => Ok(m),
            _ => bail!("fine-tuned topic layers need the fused forward pass (--forward fused)"),
        }
    }

    /// The fused pass (fine-tuning runs its layers).
    pub fn fused_pass(&self) -> Result<&super::fused::FusedEncoder> {
        self.fused()
    }

    /// The model family.
    pub fn family(&self) -> Family {
        self.family
    }

    /// The weights of the top `k` layers, by canonical name, in float32,
    /// read from the folder's checkpoint.
    pub fn top_layers(&self, k: usize) -> Result<std::collections::HashMap<String, Tensor>> {
        use super::fused::TensorSource;
        let depth = self.fused()?.depth();
        anyhow::ensure!(
            (1..=depth).contains(&k),
            "layers to fine-tune: {k}; the model has {depth} (1 to {depth})"
        );
        let weights = self.dir.join("model.safetensors");
        let bytes = std::fs::read(&weights)
            .with_context(|| format!("reading weights from {}", weights.display()))?;
        let checkpoint = Checkpoint::new(&bytes, &weights, canonical_name)?;
        let prefixes: Vec<String> = (depth - k..depth)
            .map(|i| layer_prefix(self.family, i))
            .collect();
        let mut out = std::collections::HashMap::new();
        for name in checkpoint.canonical_names() {
            if prefixes.iter().any(|p| name.starts_with(p.as_str())) {
                let t = checkpoint.tensor(name).expect("a listed name")?;
                out.insert(name.clone(), t.to_kind(Kind::Float));
            }
        }
        Ok(out)
    }

    /// The output of layers `0..split` for each text (real tokens only,
    /// float32): what fine-tuning the layers above starts from.
    pub fn below(&self, texts: &[&str], split: usize) -> Result<BelowCache> {
        let m = self.fused()?;
        let rows = self.per_text(texts, |rows, len, slots| {
            let (ids, mask) = padded_block(rows, len, slots, self.pad_id, self.device);
            let x = tch::no_grad(|| {
                let (x, bias) = m.embed(&ids, &mask);
                m.run(m.layers(0..split), x, &bias).to_kind(Kind::Float)
            });
            Ok(rows
                .iter()
                .enumerate()
                .map(|(j, r)| x.get(j as i64).narrow(0, 0, r.len() as i64).copy())
                .map(Some)
                .collect())
        })?;
        Ok(BelowCache {
            rows: rows
                .into_iter()
                .map(|r| r.expect("every text has a row"))
                .collect(),
        })
    }

    /// Runs the fine-tuned `tensors` (layers `split..` and a topic head, as
    /// [`super::tuned::save_branch`] writes them) beside the model's own top
    /// layers from now on ([`Encoder::embed_with_topics`]).
    pub fn attach_topic_branch(
        &mut self,
        tensors: &std::collections::HashMap<String, Tensor>,
        split: usize,
        path: &Path,
    ) -> Result<()> {
        let branch = TopicBranch::new(self.fused()?, self.family, tensors, split, path)?;
        self.branch = Some(branch);
        Ok(())
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
        self.per_text(texts, |rows, len, slots| {
            Ok(self.embed_block(rows, len, slots, false)?.0)
        })
    }

    fn embed_with_topics(&self, texts: &[&str]) -> Result<WithTopics> {
        let Some(b) = &self.branch else {
            return Ok((self.embed(texts)?, None));
        };
        let both = self.per_text(texts, |rows, len, slots| {
            let (v, p) = self.embed_block(rows, len, slots, true)?;
            let p = p.unwrap_or_else(|| vec![vec![0.0; b.topics()]; v.len()]);
            Ok(v.into_iter().zip(p).collect())
        })?;
        let (vectors, probs) = both.into_iter().unzip();
        Ok((vectors, Some(probs)))
    }

    fn has_topic_branch(&self) -> bool {
        self.branch.is_some()
    }
}
