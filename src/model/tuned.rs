//! A fine-tuned topic branch: copies of the encoder's top K layers, trained
//! with a multi-label sigmoid head over a taxonomy's topics, run beside the
//! encoder's own top layers in the same pass.
//!
//! Training ([`Trainable`]): the bottom `depth − K` layers stay frozen, so
//! their output for each training text is computed once
//! ([`TransformerEncoder::below`]) and kept; each step runs only the K
//! trainable layers (tch variables on a [`nn::VarStore`], initialised from
//! the encoder's own weights), mean-pools over the real tokens, normalises,
//! and applies the head to the unit vector times [`HEAD_SCALE`]. AdamW, one
//! learning rate for the layers and one for the head, binary cross-entropy
//! over all topics, seeded.
//!
//! Analysis ([`TopicBranch`], attached with
//! [`TransformerEncoder::attach_topic_branch`]): the bottom layers run once
//! per text; from their output the encoder's own top layers give the vector
//! that sentiment and everything else reads, unchanged, and the tuned layers
//! give the topic probabilities. The cost over a plain pass is K layers, not
//! a second pass.
//!
//! On disk ([`save_branch`], [`read_branch`]): one safetensors file with the
//! tuned layers under the checkpoint's own names (`encoder.layer.{i}.…`),
//! their weight matrices in int8 with a float32 scale per row
//! (`….weight.scale`) and their other tensors in float16, and the head
//! (`topic_head.weight`, `topic_head.bias`) in float32. Two layers of a
//! 384-wide encoder take 3.6 MB.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{ensure, Context, Result};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use tch::nn::OptimizerConfig;
use tch::{nn, Device, Kind, Tensor};

use super::fused::{FusedEncoder, Layer};
use super::hf::Family;

/// The pooled unit vector is multiplied by this before the head, so that a
/// linear head on a unit vector can reach confident logits (as in the torch
/// probe, benches/finetune_probe.py).
pub const HEAD_SCALE: f64 = 20.0;

/// Name of the head's weight matrix `[topics, hidden]` in the branch file.
pub const HEAD_WEIGHT: &str = "topic_head.weight";
/// Name of the head's bias `[topics]` in the branch file.
pub const HEAD_BIAS: &str = "topic_head.bias";

/// The layer-name prefix of layer `i` in a model of `family`.
pub fn layer_prefix(family: Family, i: usize) -> String {
    match family {
        Family::DistilBert => format!("transformer.layer.{i}."),
        Family::Bert | Family::Roberta => format!("encoder.layer.{i}."),
    }
}

/// The tuned layers and head, ready to run in an encoder's pass.
pub struct TopicBranch {
    /// Index of the first tuned layer: layers below it are shared.
    pub split: usize,
    pub(crate) layers: Vec<Layer>,
    /// `[topics, hidden]`, float32.
    head_weight: Tensor,
    /// `[topics]`, float32.
    head_bias: Tensor,
}

impl TopicBranch {
    /// Builds the branch from `tensors` (the layers `split..` of `fused`'s
    /// model under their checkpoint names, and the head), in the pass's kind.
    pub fn new(
        fused: &FusedEncoder,
        family: Family,
        tensors: &HashMap<String, Tensor>,
        split: usize,
        path: &Path,
    ) -> Result<TopicBranch> {
        let depth = fused.depth();
        ensure!(
            split < depth,
            "{}: the branch starts at layer {split} but the model has {depth}",
            path.display()
        );
        let layers = fused.load_layers(tensors, family, split..depth, path, fused.kind())?;
        let head = |name: &str| -> Result<Tensor> {
            let t = tensors
                .get(name)
                .with_context(|| format!("{}: `{name}` is missing", path.display()))?;
            Ok(t.to_kind(Kind::Float).to_device(fused.device()))
        };
        let (head_weight, head_bias) = (head(HEAD_WEIGHT)?, head(HEAD_BIAS)?);
        let (topics, hidden) = head_weight.size2()?;
        ensure!(
            hidden == fused.hidden_size() && head_bias.size() == [topics],
            "{}: the topic head has shape {:?} / {:?}, the model's hidden size is {}",
            path.display(),
            head_weight.size(),
            head_bias.size(),
            fused.hidden_size()
        );
        Ok(TopicBranch {
            split,
            layers,
            head_weight,
            head_bias,
        })
    }

    /// Number of topics of the head.
    pub fn topics(&self) -> usize {
        self.head_bias.size()[0] as usize
    }

    /// Topic probabilities `[rows, topics]` from the unit vectors `pooled`.
    pub fn probabilities(&self, pooled: &Tensor) -> Tensor {
        (pooled.to_kind(Kind::Float) * HEAD_SCALE)
            .linear(&self.head_weight, Some(&self.head_bias))
            .sigmoid()
    }
}

/// Mean of the hidden states `[rows, len, hidden]` over the real tokens of
/// `mask`, L2-normalised, in float32 (as the encoder's vectors are made).
pub fn mean_pool(hidden: &Tensor, mask: &Tensor) -> Tensor {
    let m = mask.to_kind(Kind::Float).unsqueeze(-1);
    let summed =
        (hidden.to_kind(Kind::Float) * &m).sum_dim_intlist([1i64].as_slice(), false, Kind::Float);
    let counts = m
        .sum_dim_intlist([1i64].as_slice(), false, Kind::Float)
        .clamp_min(1.0);
    let mean = summed / counts;
    let norm = mean
        .norm_scalaropt_dim(2, [1i64].as_slice(), true)
        .clamp_min(1e-12);
    mean / norm
}

/// Suffix of the per-row scales of a weight matrix stored in int8.
const SCALE_SUFFIX: &str = ".scale";

/// Whether [`save_branch`] stores `name` (of shape `t`) in int8: the tuned
/// layers' weight matrices; their vectors stay float16, the head float32.
fn stored_in_int8(name: &str, t: &Tensor) -> bool {
    !name.starts_with("topic_head.") && t.dim() == 2
}

/// Symmetric int8 per output row: `w ≈ q · scale[row]`, `scale` =
/// max |w| of the row / 127.
fn quantize_rows(w: &Tensor) -> (Tensor, Tensor) {
    let w = w.detach().to_kind(Kind::Float);
    let scale = w.abs().amax([1i64].as_slice(), false).clamp_min(1e-12) / 127.0;
    let q = (&w / scale.unsqueeze(1))
        .round()
        .clamp(-127, 127)
        .to_kind(Kind::Int8);
    (q, scale)
}

fn dequantize_rows(q: &Tensor, scale: &Tensor) -> Tensor {
    q.to_kind(Kind::Float) * scale.to_kind(Kind::Float).unsqueeze(1)
}

/// Reads a branch file: every tensor by name, int8 matrices back in float.
pub fn read_branch(path: &Path) -> Result<HashMap<String, Tensor>> {
    let bytes = std::fs::read(path)
        .with_context(|| format!("reading the topic branch {}", path.display()))?;
    branch_from_bytes(&bytes, path)
}

/// A branch file's tensors from its bytes (`path` names it in errors), int8
/// matrices back in float.
pub fn branch_from_bytes(bytes: &[u8], path: &Path) -> Result<HashMap<String, Tensor>> {
    let file = safetensors::SafeTensors::deserialize(bytes)
        .with_context(|| format!("reading the topic branch {}", path.display()))?;
    let mut raw: HashMap<String, Tensor> = file
        .tensors()
        .into_iter()
        .map(|(name, view)| {
            use safetensors::Dtype;
            let kind = match view.dtype() {
                Dtype::I8 => Kind::Int8,
                Dtype::F16 => Kind::Half,
                Dtype::BF16 => Kind::BFloat16,
                Dtype::F32 => Kind::Float,
                other => anyhow::bail!(
                    "{}: tensor `{name}` is {other:?}; a topic branch holds floats and int8",
                    path.display()
                ),
            };
            let size: Vec<i64> = view.shape().iter().map(|&d| d as i64).collect();
            let t = Tensor::f_from_data_size(view.data(), &size, kind)
                .with_context(|| format!("{}: tensor `{name}`", path.display()))?;
            Ok((name, t))
        })
        .collect::<Result<_>>()?;
    let scaled: Vec<String> = raw
        .keys()
        .filter_map(|n| n.strip_suffix(SCALE_SUFFIX).map(str::to_string))
        .collect();
    for name in scaled {
        let scale = raw
            .remove(&format!("{name}{SCALE_SUFFIX}"))
            .expect("listed");
        let q = raw.get(&name).with_context(|| {
            format!(
                "{}: `{name}{SCALE_SUFFIX}` without `{name}`",
                path.display()
            )
        })?;
        let w = dequantize_rows(q, &scale);
        raw.insert(name, w);
    }
    Ok(raw)
}

/// Writes `tensors` to a branch file: the layers' weight matrices in int8
/// with a float32 scale per row (`NAME.scale`), their other tensors in
/// float16, the head in float32. Returns the file's size in bytes.
pub fn save_branch(tensors: &HashMap<String, Tensor>, path: &Path) -> Result<u64> {
    let mut names: Vec<&String> = tensors.keys().collect();
    names.sort();
    let mut out: Vec<(String, Tensor)> = Vec::new();
    for n in names {
        let t = tensors[n].detach();
        if stored_in_int8(n, &t) {
            let (q, scale) = quantize_rows(&t);
            out.push((n.clone(), q.contiguous()));
            out.push((format!("{n}{SCALE_SUFFIX}"), scale.contiguous()));
        } else {
            let kind = if n.starts_with("topic_head.") {
                Kind::Float
            } else {
                Kind::Half
            };
            out.push((n.clone(), t.to_kind(kind).contiguous()));
        }
    }
    Tensor::write_safetensors(&out, path)
        .with_context(|| format!("writing the topic branch {}", path.display()))?;
    Ok(std::fs::metadata(path)?.len())
}

/// Rounds the layers of `tensors` as [`save_branch`] stores them (int8
/// matrices, float16 vectors) and back to float32, so that what was
/// measured is what is shipped.
pub fn round_as_saved(tensors: &HashMap<String, Tensor>) -> HashMap<String, Tensor> {
    tensors
        .iter()
        .map(|(n, t)| {
            let t = t.detach();
            let t = if n.starts_with("topic_head.") {
                t.copy()
            } else if stored_in_int8(n, &t) {
                let (q, scale) = quantize_rows(&t);
                dequantize_rows(&q, &scale)
            } else {
                t.to_kind(Kind::Half).to_kind(Kind::Float)
            };
            (n.clone(), t)
        })
        .collect()
}

/// Settings of one training run.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TrainSettings {
    /// Layers trained, from the top.
    pub layers: usize,
    pub epochs: usize,
    /// Learning rate of the layers.
    pub lr: f64,
    /// Learning rate of the head.
    pub head_lr: f64,
    pub weight_decay: f64,
    /// Rows per step.
    pub batch: usize,
    /// Seed of the head's initialisation and of the shuffles.
    pub seed: u64,
}

impl Default for TrainSettings {
    fn default() -> Self {
        TrainSettings {
            layers: 4,
            epochs: 6,
            lr: 5e-5,
            head_lr: 2e-3,
            weight_decay: 0.01,
            batch: 32,
            seed: 20261201,
        }
    }
}

/// The frozen layers' output for some texts: per text, `[tokens, hidden]`
/// float32 (real tokens only).
pub struct BelowCache {
    pub rows: Vec<Tensor>,
}

impl BelowCache {
    /// A right-padded batch of rows `idx`: hidden states, mask.
    fn batch(&self, idx: &[usize]) -> (Tensor, Tensor) {
        let len = idx
            .iter()
            .map(|&i| self.rows[i].size()[0])
            .max()
            .unwrap_or(1);
        let hidden = self.rows.first().map_or(1, |r| r.size()[1]);
        let x = Tensor::zeros([idx.len() as i64, len, hidden], (Kind::Float, Device::Cpu));
        let mut mask = vec![0i64; idx.len() * len as usize];
        for (j, &i) in idx.iter().enumerate() {
            let n = self.rows[i].size()[0];
            x.get(j as i64).narrow(0, 0, n).copy_(&self.rows[i]);
            mask[j * len as usize..j * len as usize + n as usize].fill(1);
        }
        let mask = Tensor::from_slice(&mask).view([idx.len() as i64, len]);
        (x, mask)
    }
}

/// Trainable copies of an encoder's top layers and a fresh head, on a
/// [`nn::VarStore`].
pub struct Trainable {
    vs: nn::VarStore,
    family: Family,
    split: usize,
}

impl Trainable {
    /// Copies of `originals` (the top layers' tensors by checkpoint name, as
    /// [`crate::model::transformer::TransformerEncoder::top_layers`] gives
    /// them) as trainable variables, and a head over `topics` topics
    /// initialised as torch's `nn.Linear` (uniform in ±1/√hidden), seeded.
    pub fn new(
        originals: &HashMap<String, Tensor>,
        family: Family,
        split: usize,
        hidden: i64,
        topics: usize,
        seed: u64,
    ) -> Trainable {
        tch::manual_seed(seed as i64);
        let vs = nn::VarStore::new(Device::Cpu);
        let mut names: Vec<&String> = originals.keys().collect();
        names.sort();
        let layers = vs.root().set_group(0);
        for name in names {
            let mut path = layers.clone();
            let mut parts: Vec<&str> = name.split('.').collect();
            let last = parts.pop().expect("a name");
            for p in parts {
                path = path.sub(p);
            }
            let _ = path.var_copy(last, &originals[name].to_kind(Kind::Float));
        }
        let head = vs.root().set_group(1).sub("topic_head");
        let bound = 1.0 / (hidden as f64).sqrt();
        let _ = head.uniform("weight", &[topics as i64, hidden], -bound, bound);
        let _ = head.uniform("bias", &[topics as i64], -bound, bound);
        Trainable { vs, family, split }
    }

    /// The variables by name (shallow copies: gradients reach them).
    pub fn tensors(&self) -> HashMap<String, Tensor> {
        self.vs.variables()
    }

    /// Topic logits `[rows, topics]` of hidden states `x` below the split
    /// with their `mask`.
    fn logits(&self, fused: &FusedEncoder, x: Tensor, mask: &Tensor) -> Result<Tensor> {
        let vars = self.vs.variables();
        let layers = fused.load_layers(
            &vars,
            self.family,
            self.split..fused.depth(),
            Path::new("(training)"),
            Kind::Float,
        )?;
        let bias = fused.attention_bias(mask);
        let top = fused.run(&layers, x, &bias);
        let pooled = mean_pool(&top, mask) * HEAD_SCALE;
        Ok(pooled.linear(&vars[HEAD_WEIGHT], Some(&vars[HEAD_BIAS])))
    }

    /// Trains on rows `idx` of `cache` with `targets[row][topic]` (0 or 1);
    /// returns the mean loss of each epoch. `progress` hears each epoch.
    pub fn train(
        &mut self,
        fused: &FusedEncoder,
        cache: &BelowCache,
        targets: &[Vec<f32>],
        idx: &[usize],
        s: &TrainSettings,
        progress: &mut dyn FnMut(usize, f64),
    ) -> Result<Vec<f64>> {
        ensure!(!idx.is_empty(), "no rows to train on");
        let mut opt = nn::AdamW {
            wd: s.weight_decay,
            ..Default::default()
        }
        .build(&self.vs, s.lr)?;
        opt.set_lr_group(0, s.lr);
        opt.set_lr_group(1, s.head_lr);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(s.seed);
        let mut order = idx.to_vec();
        let mut losses = Vec::with_capacity(s.epochs);
        for epoch in 0..s.epochs {
            order.shuffle(&mut rng);
            let mut total = 0.0;
            for chunk in order.chunks(s.batch.max(1)) {
                let (x, mask) = cache.batch(chunk);
                let y: Vec<f32> = chunk.iter().flat_map(|&i| targets[i].clone()).collect();
                let y = Tensor::from_slice(&y).view([chunk.len() as i64, -1]);
                let logits = self.logits(fused, x, &mask)?;
                let loss = logits.binary_cross_entropy_with_logits::<Tensor>(
                    &y,
                    None,
                    None,
                    tch::Reduction::Mean,
                );
                opt.zero_grad();
                loss.backward();
                opt.step();
                total += loss.double_value(&[]) * chunk.len() as f64;
            }
            let mean = total / order.len() as f64;
            progress(epoch, mean);
            losses.push(mean);
        }
        Ok(losses)
    }

    /// Topic probabilities of rows `idx` of `cache`, `batch` rows a pass.
    pub fn predict(
        &self,
        fused: &FusedEncoder,
        cache: &BelowCache,
        idx: &[usize],
        batch: usize,
    ) -> Result<Vec<Vec<f32>>> {
        let mut out = Vec::with_capacity(idx.len());
        tch::no_grad(|| -> Result<()> {
            for chunk in idx.chunks(batch.max(1)) {
                let (x, mask) = cache.batch(chunk);
                let p = self.logits(fused, x, &mask)?.sigmoid().contiguous();
                let topics = p.size()[1] as usize;
                let flat = Vec::<f32>::try_from(p.view([-1]))?;
                out.extend(flat.chunks(topics).map(<[f32]>::to_vec));
            }
            Ok(())
        })?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn int8_rows_come_back_within_half_a_step_and_the_file_holds_no_scales_once_read() {
        let w = Tensor::randn([6, 10], (Kind::Float, Device::Cpu)) * 0.05;
        let (q, scale) = quantize_rows(&w);
        assert_eq!(q.kind(), Kind::Int8);
        let back = dequantize_rows(&q, &scale);
        let err = (&back - &w).abs().amax([1i64].as_slice(), false);
        let half_step = &scale / 2.0 + 1e-7;
        assert!(bool::try_from(err.le_tensor(&half_step).all()).unwrap());
        let mut tensors = HashMap::new();
        tensors.insert("encoder.layer.1.output.dense.weight".to_string(), w.copy());
        tensors.insert("encoder.layer.1.output.dense.bias".to_string(), w.get(0));
        tensors.insert(HEAD_WEIGHT.to_string(), w.copy());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("branch.safetensors");
        save_branch(&tensors, &path).unwrap();
        let read = read_branch(&path).unwrap();
        let saved = round_as_saved(&tensors);
        let mut names: Vec<&String> = read.keys().collect();
        names.sort();
        assert_eq!(names.len(), 3, "{names:?}");
        for n in names {
            // What was read is what round_as_saved measured; the head exact.
            let diff = (&read[n].to_kind(Kind::Float) - &saved[n]).abs().max();
            assert_eq!(f64::try_from(diff).unwrap(), 0.0, "{n}");
        }
        assert_eq!(read[HEAD_WEIGHT].kind(), Kind::Float);
    }
}
