//! A fused forward pass for BERT-style encoders, written on libtorch ops.
//!
//! rust-bert's `BertModel` runs each attention head through a dozen small
//! tensor ops (separate query, key and value projections, a masked softmax,
//! dropout bookkeeping), which on a CPU spends more time in memory traffic and
//! dispatch than in the matrix products. This pass keeps the same weights and
//! the same arithmetic but runs each layer as
//!
//! - one projection for query, key and value together (the three weight
//!   matrices concatenated at load time),
//! - `scaled_dot_product_attention`, libtorch's fused attention kernel
//!   (flash attention on CPU, in bfloat16 on CPUs with AMX or AVX512-BF16),
//! - the output projection, residual and `layer_norm`, and the feed-forward
//!   block with libtorch's vectorised GELU,
//!
//! with the weights converted once to the forward pass's precision. The
//! families are those of [`super::transformer`]: BERT, RoBERTa/XLM-R and
//! DistilBERT; `--forward rust-bert` keeps rust-bert's own modules, which the
//! parity tests compare this pass against.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{bail, Result};
use tch::{Device, Kind, Tensor};

use super::hf::{Family, HfConfig};

/// The activation of the feed-forward block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Activation {
    /// GELU with the exact error function (`gelu` in transformers).
    Gelu,
    /// GELU by its tanh approximation (`gelu_new`, `gelu_pytorch_tanh`…).
    GeluTanh,
    Relu,
}

impl Activation {
    fn parse(name: &str, config: &Path) -> Result<Self> {
        Ok(match name {
            "gelu" => Activation::Gelu,
            "gelu_new" | "gelu_pytorch_tanh" | "gelu_fast" => Activation::GeluTanh,
            "relu" => Activation::Relu,
            other => bail!(
                "{}: activation `{other}` is not supported by the fused forward pass \
                 (gelu, gelu_new, gelu_pytorch_tanh, relu); try --forward rust-bert",
                config.display()
            ),
        })
    }

    fn apply(self, x: &Tensor) -> Tensor {
        match self {
            Activation::Gelu => x.gelu("none"),
            Activation::GeluTanh => x.gelu("tanh"),
            Activation::Relu => x.relu(),
        }
    }
}

pub(crate) struct Linear {
    weight: Tensor,
    bias: Tensor,
}

impl Linear {
    fn forward(&self, x: &Tensor) -> Tensor {
        x.linear(&self.weight, Some(&self.bias))
    }
}

pub(crate) struct LayerNorm {
    weight: Tensor,
    bias: Tensor,
}

/// One transformer layer of the fused pass (query, key and value in one
/// projection).
pub struct Layer {
    qkv: Linear,
    out: Linear,
    attn_norm: LayerNorm,
    up: Linear,
    down: Linear,
    out_norm: LayerNorm,
}

/// Shape facts the pass needs from `config.json`.
#[derive(Clone, Debug)]
pub struct Shape {
    pub hidden: i64,
    pub heads: i64,
    pub layers: usize,
    pub eps: f64,
    /// First row of the position table used by the first token.
    pub position_offset: i64,
    pub activation: String,
}

impl Shape {
    /// Reads the shape from a folder's `config.json`.
    pub fn from_config(config: &HfConfig) -> Result<Self> {
        let raw = serde_json::Value::Object(config.raw.clone());
        let (family, path) = (config.family, config.path.as_path());
        let int = |keys: &[&str]| -> Result<i64> {
            keys.iter()
                .find_map(|k| raw[*k].as_i64())
                .ok_or_else(|| anyhow::anyhow!("{}: `{}` is missing", path.display(), keys[0]))
        };
        let shape = match family {
            Family::Bert | Family::Roberta => Shape {
                hidden: int(&["hidden_size"])?,
                heads: int(&["num_attention_heads"])?,
                layers: int(&["num_hidden_layers"])? as usize,
                eps: raw["layer_norm_eps"].as_f64().unwrap_or(1e-12),
                position_offset: if family == Family::Roberta {
                    raw["pad_token_id"].as_i64().unwrap_or(1) + 1
                } else {
                    0
                },
                activation: raw["hidden_act"].as_str().unwrap_or("gelu").to_string(),
            },
            Family::DistilBert => Shape {
                hidden: int(&["dim"])?,
                heads: int(&["n_heads"])?,
                layers: int(&["n_layers"])? as usize,
                eps: 1e-12,
                position_offset: 0,
                activation: raw["activation"].as_str().unwrap_or("gelu").to_string(),
            },
        };
        if let Some(kind) = raw["position_embedding_type"].as_str() {
            if kind != "absolute" {
                bail!(
                    "{}: position_embedding_type `{kind}` is not supported by the fused forward \
                     pass; try --forward rust-bert",
                    path.display()
                );
            }
        }
        if shape.heads <= 0 || shape.hidden % shape.heads != 0 {
            bail!(
                "{}: hidden size {} is not a multiple of {} attention heads",
                path.display(),
                shape.hidden,
                shape.heads
            );
        }
        Ok(shape)
    }
}

/// A BERT-style encoder with fused layers, weights in one precision.
pub struct FusedEncoder {
    word: Tensor,
    position: Tensor,
    /// Token-type row 0, added to every token (absent in DistilBERT).
    token_type: Option<Tensor>,
    embed_norm: LayerNorm,
    layers: Vec<Layer>,
    heads: i64,
    hidden: i64,
    eps: f64,
    position_offset: i64,
    activation: Activation,
    kind: Kind,
}

/// A safetensors checkpoint read into memory, its tensors found by
/// canonical name (`transformer::canonical_name`) and made one at a time, so
/// that at most one float32 tensor exists beside the converted weights.
pub struct Checkpoint<'a> {
    file: safetensors::SafeTensors<'a>,
    /// Canonical name → name in the file.
    names: HashMap<String, String>,
}

impl<'a> Checkpoint<'a> {
    /// Indexes the bytes of a safetensors file.
    pub fn new(bytes: &'a [u8], path: &Path, canonical: impl Fn(&str) -> String) -> Result<Self> {
        let file = safetensors::SafeTensors::deserialize(bytes)
            .map_err(|e| anyhow::anyhow!("{}: not a safetensors file: {e}", path.display()))?;
        let names = file
            .names()
            .into_iter()
            .map(|n| (canonical(n), n.clone()))
            .collect();
        Ok(Checkpoint { file, names })
    }

    /// The canonical names of the checkpoint's tensors.
    pub fn canonical_names(&self) -> impl Iterator<Item = &String> {
        self.names.keys()
    }
}

/// Where the pass takes its tensors from, by canonical name: a checkpoint
/// file, or tensors in memory (the trainable layers of
/// [`super::tuned`], which must stay the same tensors for autograd).
pub trait TensorSource {
    /// The shape of tensor `name`, if there is one.
    fn shape(&self, name: &str) -> Option<Vec<i64>>;
    /// Tensor `name`, if there is one.
    fn tensor(&self, name: &str) -> Option<Result<Tensor>>;
}

impl TensorSource for Checkpoint<'_> {
    fn shape(&self, name: &str) -> Option<Vec<i64>> {
        let view = self.file.tensor(self.names.get(name)?).ok()?;
        Some(view.shape().iter().map(|&d| d as i64).collect())
    }

    fn tensor(&self, name: &str) -> Option<Result<Tensor>> {
        let view = self.file.tensor(self.names.get(name)?).ok()?;
        let shape: Vec<i64> = view.shape().iter().map(|&d| d as i64).collect();
        let kind = match view.dtype() {
            safetensors::Dtype::F32 => Kind::Float,
            safetensors::Dtype::F16 => Kind::Half,
            safetensors::Dtype::BF16 => Kind::BFloat16,
            safetensors::Dtype::F64 => Kind::Double,
            other => return Some(Err(anyhow::anyhow!("`{name}` has dtype {other:?}"))),
        };
        Some(Tensor::f_from_data_size(view.data(), &shape, kind).map_err(Into::into))
    }
}

/// Tensors in memory by name; the pass gets shallow copies, so gradients
/// reach the originals.
impl TensorSource for HashMap<String, Tensor> {
    fn shape(&self, name: &str) -> Option<Vec<i64>> {
        self.get(name).map(Tensor::size)
    }

    fn tensor(&self, name: &str) -> Option<Result<Tensor>> {
        self.get(name).map(|t| Ok(t.shallow_clone()))
    }
}

/// Takes tensors out of a checkpoint, reporting all the missing and
/// misshapen ones at once.
struct Weights<'b> {
    source: &'b dyn TensorSource,
    path: &'b Path,
    device: Device,
    kind: Kind,
    problems: Vec<String>,
}

impl Weights<'_> {
    fn take(&mut self, name: &str, shape: &[i64]) -> Tensor {
        match self.source.tensor(name) {
            Some(Ok(t)) if t.size() == shape => t.to_device(self.device).to_kind(self.kind),
            Some(Ok(t)) => {
                self.problems.push(format!(
                    "`{name}` has shape {:?}, the config expects {shape:?}",
                    t.size()
                ));
                Tensor::zeros(shape, (self.kind, self.device))
            }
            Some(Err(e)) => {
                self.problems.push(e.to_string());
                Tensor::zeros(shape, (self.kind, self.device))
            }
            None => {
                self.problems.push(format!("`{name}` is missing"));
                Tensor::zeros(shape, (self.kind, self.device))
            }
        }
    }

    fn linear(&mut self, prefix: &str, out: i64, inp: i64) -> Linear {
        Linear {
            weight: self.take(&format!("{prefix}.weight"), &[out, inp]),
            bias: self.take(&format!("{prefix}.bias"), &[out]),
        }
    }

    fn norm(&mut self, prefix: &str, dim: i64) -> LayerNorm {
        LayerNorm {
            weight: self.take(&format!("{prefix}.weight"), &[dim]),
            bias: self.take(&format!("{prefix}.bias"), &[dim]),
        }
    }

    /// Layer `i` of a model of `family` with hidden size `h`.
    fn layer(&mut self, family: Family, i: usize, h: i64) -> Layer {
        match family {
            Family::Bert | Family::Roberta => {
                let p = format!("encoder.layer.{i}");
                let inter = self
                    .source
                    .shape(&format!("{p}.intermediate.dense.weight"))
                    .map(|s| s[0])
                    .unwrap_or(4 * h);
                Layer {
                    qkv: fuse([
                        self.linear(&format!("{p}.attention.self.query"), h, h),
                        self.linear(&format!("{p}.attention.self.key"), h, h),
                        self.linear(&format!("{p}.attention.self.value"), h, h),
                    ]),
                    out: self.linear(&format!("{p}.attention.output.dense"), h, h),
                    attn_norm: self.norm(&format!("{p}.attention.output.LayerNorm"), h),
                    up: self.linear(&format!("{p}.intermediate.dense"), inter, h),
                    down: self.linear(&format!("{p}.output.dense"), h, inter),
                    out_norm: self.norm(&format!("{p}.output.LayerNorm"), h),
                }
            }
            Family::DistilBert => {
                let p = format!("transformer.layer.{i}");
                let inter = self
                    .source
                    .shape(&format!("{p}.ffn.lin1.weight"))
                    .map(|s| s[0])
                    .unwrap_or(4 * h);
                Layer {
                    qkv: fuse([
                        self.linear(&format!("{p}.attention.q_lin"), h, h),
                        self.linear(&format!("{p}.attention.k_lin"), h, h),
                        self.linear(&format!("{p}.attention.v_lin"), h, h),
                    ]),
                    out: self.linear(&format!("{p}.attention.out_lin"), h, h),
                    attn_norm: self.norm(&format!("{p}.sa_layer_norm"), h),
                    up: self.linear(&format!("{p}.ffn.lin1"), inter, h),
                    down: self.linear(&format!("{p}.ffn.lin2"), h, inter),
                    out_norm: self.norm(&format!("{p}.output_layer_norm"), h),
                }
            }
        }
    }

    fn finish(self) -> Result<()> {
        if self.problems.is_empty() {
            return Ok(());
        }
        bail!(
            "{}: {} tensors do not fit the config: {}",
            self.path.display(),
            self.problems.len(),
            self.problems
                .iter()
                .take(5)
                .cloned()
                .collect::<Vec<_>>()
                .join("; ")
        )
    }
}

/// Concatenates query, key and value projections into one.
fn fuse(parts: [Linear; 3]) -> Linear {
    let [q, k, v] = parts;
    Linear {
        weight: Tensor::cat(&[q.weight, k.weight, v.weight], 0).contiguous(),
        bias: Tensor::cat(&[q.bias, k.bias, v.bias], 0).contiguous(),
    }
}

impl FusedEncoder {
    /// Builds the pass from checkpoint tensors (canonical names, as
    /// `transformer::canonical_name` gives them).
    pub fn new(
        source: &dyn TensorSource,
        config: &HfConfig,
        shape: &Shape,
        weights_path: &Path,
        device: Device,
        kind: Kind,
    ) -> Result<Self> {
        let (family, config_path) = (config.family, config.path.as_path());
        let activation = Activation::parse(&shape.activation, config_path)?;
        let h = shape.hidden;
        let vocab = source
            .shape("embeddings.word_embeddings.weight")
            .filter(|s| s.len() == 2)
            .map(|s| s[0])
            .unwrap_or(0);
        let positions = source
            .shape("embeddings.position_embeddings.weight")
            .filter(|s| s.len() == 2)
            .map(|s| s[0])
            .unwrap_or(0);
        let mut w = Weights {
            source,
            path: weights_path,
            device,
            kind,
            problems: Vec::new(),
        };
        let word = w.take("embeddings.word_embeddings.weight", &[vocab.max(1), h]);
        let position = w.take(
            "embeddings.position_embeddings.weight",
            &[positions.max(1), h],
        );
        let token_type = match family {
            Family::DistilBert => None,
            _ => {
                let rows = w
                    .source
                    .shape("embeddings.token_type_embeddings.weight")
                    .map(|s| s[0])
                    .unwrap_or(1);
                Some(
                    w.take("embeddings.token_type_embeddings.weight", &[rows, h])
                        .get(0),
                )
            }
        };
        let embed_norm = w.norm("embeddings.LayerNorm", h);
        let layers = (0..shape.layers).map(|i| w.layer(family, i, h)).collect();
        w.finish()?;
        Ok(FusedEncoder {
            word,
            position,
            token_type,
            embed_norm,
            layers,
            heads: shape.heads,
            hidden: h,
            eps: shape.eps,
            position_offset: shape.position_offset,
            activation,
            kind,
        })
    }

    /// Longest input the position table allows.
    pub fn max_positions(&self) -> i64 {
        self.position.size()[0] - self.position_offset
    }

    fn norm(&self, x: &Tensor, n: &LayerNorm) -> Tensor {
        x.layer_norm(
            [self.hidden],
            Some(&n.weight),
            Some(&n.bias),
            self.eps,
            false,
        )
    }

    /// Last hidden states `[rows, longest, hidden]` of right-padded `ids`
    /// with their attention `mask` (1 for real tokens), in the pass's kind.
    pub fn hidden(&self, ids: &Tensor, mask: &Tensor) -> Tensor {
        let (x, bias) = self.embed(ids, mask);
        self.run(&self.layers, x, &bias)
    }

    /// The embedding layer's output for `ids` and the attention bias of
    /// `mask` that [`FusedEncoder::run`] takes.
    pub fn embed(&self, ids: &Tensor, mask: &Tensor) -> (Tensor, Tensor) {
        let (rows, len) = ids.size2().expect("ids are [rows, longest]");
        let mut x = self
            .word
            .index_select(0, &ids.view([-1]))
            .view([rows, len, self.hidden])
            + self.position.narrow(0, self.position_offset, len);
        if let Some(t) = &self.token_type {
            x += t;
        }
        (self.norm(&x, &self.embed_norm), self.attention_bias(mask))
    }

    /// The additive attention bias of `mask` (`[rows, longest]`, 1 for real
    /// tokens): padded keys get -inf. (tch passes `None` to the attention op
    /// as an undefined tensor, which libtorch rejects, so a batch without
    /// padding gets an all-zero bias too.)
    pub fn attention_bias(&self, mask: &Tensor) -> Tensor {
        let (rows, len) = mask.size2().expect("mask is [rows, longest]");
        Tensor::zeros([rows, 1, 1, len], (self.kind, mask.device()))
            .masked_fill(&mask.eq(0).view([rows, 1, 1, len]), f64::NEG_INFINITY)
    }

    /// The model's own layers `range`.
    pub fn layers(&self, range: std::ops::Range<usize>) -> &[Layer] {
        &self.layers[range]
    }

    /// Number of layers.
    pub fn depth(&self) -> usize {
        self.layers.len()
    }

    /// Runs `layers` (the model's own, or others of the same shape: see
    /// [`FusedEncoder::load_layers`]) over hidden states `x` with the
    /// attention `bias` of [`FusedEncoder::embed`]. Differentiable when the
    /// layers' tensors require gradients.
    pub fn run(&self, layers: &[Layer], mut x: Tensor, bias: &Tensor) -> Tensor {
        let (rows, len, h) = x
            .size3()
            .expect("hidden states are [rows, longest, hidden]");
        let heads = self.heads;
        for layer in layers {
            let qkv = layer
                .qkv
                .forward(&x)
                .view([rows, len, 3, heads, h / heads])
                .permute([2, 0, 3, 1, 4]);
            let attn = Tensor::scaled_dot_product_attention(
                &qkv.get(0),
                &qkv.get(1),
                &qkv.get(2),
                Some(bias),
                0.0,
                false,
                None,
            )
            .transpose(1, 2)
            .reshape([rows, len, h]);
            x = self.norm(&(layer.out.forward(&attn) + &x), &layer.attn_norm);
            let ff = layer
                .down
                .forward(&self.activation.apply(&layer.up.forward(&x)));
            x = self.norm(&(ff + &x), &layer.out_norm);
        }
        x
    }

    /// Layers `indices` of a model of this family and shape, taken from
    /// `source` by their canonical names (`encoder.layer.{i}.…`) in `kind`
    /// on `device`: a fine-tuned copy of some of the model's layers.
    pub fn load_layers(
        &self,
        source: &dyn TensorSource,
        family: Family,
        indices: std::ops::Range<usize>,
        path: &Path,
        kind: Kind,
    ) -> Result<Vec<Layer>> {
        let device = self.word.device();
        let mut w = Weights {
            source,
            path,
            device,
            kind,
            problems: Vec::new(),
        };
        let layers = indices.map(|i| w.layer(family, i, self.hidden)).collect();
        w.finish()?;
        Ok(layers)
    }

    /// The kind of the pass's weights.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// Where the weights are.
    pub fn device(&self) -> Device {
        self.word.device()
    }

    /// Width of the hidden states.
    pub fn hidden_size(&self) -> i64 {
        self.hidden
    }
}
