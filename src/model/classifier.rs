//! A fine-tuned sequence-classification model (a Hugging Face folder) run by
//! rust-bert: texts in, one probability per class out.
//!
//! The families are those of the encoder: BERT (`BertForSequenceClassification`:
//! pooler, then one linear layer), XLM-RoBERTa, RoBERTa and CamemBERT
//! (`RobertaForSequenceClassification`: `classifier.dense`, then
//! `classifier.out_proj` on the first token) and DistilBERT
//! (`DistilBertModelClassifier`: `pre_classifier`, then `classifier`).
//! rust-bert builds these under the names `transformers` saves a task model
//! with (`bert.…`, `classifier.…`), so a folder from `save_pretrained` loads
//! as it is ([`super::hf`]). What the classes mean is not this module's
//! business: the caller passes how many there are and reads them by index.
//!
//! Batches are cut as the encoder cuts them (sorted by token count, packed to
//! a token budget), and probabilities are a softmax in float32 whatever the
//! precision of the forward pass. The layers are rust-bert's own modules
//! (the encoder's `--forward fused` pass does not apply here): a second
//! model per run is the exception, and rust-bert's heads match
//! `transformers` as they are.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use rust_bert::bert::{BertConfig, BertForSequenceClassification};
use rust_bert::distilbert::{DistilBertConfig, DistilBertModelClassifier};
use rust_bert::roberta::RobertaForSequenceClassification;
use serde_json::Value;
use tch::{nn, Device, Kind, Tensor};
use tokenizers::Tokenizer;

use super::hf::{self, Family, HfConfig};
use super::transformer::{cpu_has_bf16, DeviceChoice, EncoderOptions};
use super::Precision;

enum Head {
    Bert(BertForSequenceClassification),
    Roberta(RobertaForSequenceClassification),
    DistilBert(DistilBertModelClassifier),
}

/// A loaded sequence classifier with its tokenizer.
pub struct SequenceClassifier {
    head: Head,
    // The variables live as long as the modules that point into them.
    _vs: nn::VarStore,
    tokenizer: Tokenizer,
    device: Device,
    kind: Kind,
    pad_id: i64,
    classes: usize,
    token_budget: usize,
    /// Longest input in tokens (the tokenizer truncates there).
    max_len: usize,
    dir: PathBuf,
}

impl std::fmt::Debug for SequenceClassifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SequenceClassifier")
            .field("dir", &self.dir)
            .field("classes", &self.classes)
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

fn device_of(choice: DeviceChoice) -> Result<Device> {
    Ok(match choice {
        DeviceChoice::Cpu => Device::Cpu,
        DeviceChoice::Cuda if tch::Cuda::is_available() => Device::Cuda(0),
        DeviceChoice::Cuda => bail!("--device cuda: libtorch sees no CUDA GPU"),
        DeviceChoice::Auto => Device::cuda_if_available(),
    })
}

impl SequenceClassifier {
    /// Loads the folder whose `config.json` is `config`, with a head of
    /// `classes` outputs. `opts` is the encoder's: the same precision,
    /// device, threads and token budget (its prefix is not used: the
    /// classifier reads the text as it was fine-tuned on).
    pub fn load(config: &HfConfig, classes: usize, opts: &EncoderOptions) -> Result<Self> {
        let dir = config.path.parent().unwrap_or(Path::new(".")).to_path_buf();
        if let Some(n) = opts.threads {
            tch::set_num_threads(n as i32);
        }
        let device = device_of(opts.device)?;
        let max_tokens = config.max_tokens();
        let tokenizer = hf::read_tokenizer(&dir, max_tokens)?;
        let pad_id = hf::pad_id(config, &tokenizer);
        // rust-bert sizes the head from id2label; only the count matters
        // here, the names are the caller's.
        let id2label: serde_json::Map<String, Value> = (0..classes)
            .map(|i| (i.to_string(), Value::from(format!("class_{i}"))))
            .collect();
        let overrides = [
            ("id2label", Value::Object(id2label)),
            ("label2id", Value::Null),
        ];
        let mut vs = nn::VarStore::new(device);
        let root = vs.root();
        let head = match config.family {
            Family::Bert => {
                let c: BertConfig = config.rust_bert(&overrides)?;
                Head::Bert(BertForSequenceClassification::new(&root, &c)?)
            }
            Family::Roberta => {
                let c: BertConfig = config.rust_bert(&overrides)?;
                Head::Roberta(RobertaForSequenceClassification::new(&root, &c)?)
            }
            Family::DistilBert => {
                let c: DistilBertConfig = config.rust_bert(&overrides)?;
                Head::DistilBert(DistilBertModelClassifier::new(&root, &c)?)
            }
        };
        let weights = dir.join("model.safetensors");
        hf::load_safetensors(&mut vs, &weights).map_err(|e| match e {
            hf::WeightsError::Missing { ref names, .. }
                if names.iter().any(|n| n.contains("classifier")) =>
            {
                anyhow::anyhow!(
                    "{e}\nthe folder has no classification head: --sentiment-model needs a model \
                     fine-tuned for sequence classification (saved from …ForSequenceClassification), \
                     not a plain encoder"
                )
            }
            hf::WeightsError::Shape { ref name, .. } if name.contains("classifier") => {
                anyhow::anyhow!(
                    "{e}\n{} gives {classes} classes (id2label or --sentiment-labels); the head in \
                     the weights has another number",
                    config.path.display()
                )
            }
            other => other.into(),
        })?;
        let use_bf16 = match opts.precision {
            Precision::F32 => false,
            Precision::Bf16 => true,
            Precision::Auto => device != Device::Cpu || cpu_has_bf16(),
        };
        if use_bf16 {
            vs.bfloat16();
        }
        Ok(SequenceClassifier {
            head,
            _vs: vs,
            tokenizer,
            device,
            kind: if use_bf16 {
                Kind::BFloat16
            } else {
                Kind::Float
            },
            pad_id,
            classes,
            token_budget: opts.token_budget.max(max_tokens),
            max_len: max_tokens,
            dir,
        })
    }

    /// Number of classes.
    pub fn classes(&self) -> usize {
        self.classes
    }

    /// The precision the forward pass runs in.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The folder the model was loaded from.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn logits(&self, ids: &Tensor, mask: &Tensor) -> Result<Tensor> {
        Ok(match &self.head {
            Head::Bert(m) => {
                m.forward_t(Some(ids), Some(mask), None, None, None, false)
                    .logits
            }
            Head::Roberta(m) => {
                // RoBERTa numbers positions from pad id + 1 and gives padding
                // the pad id (as `transformers` does); rust-bert would assume
                // pad id 1, so the positions are passed.
                let positions = mask.cumsum(1, Kind::Int64) * mask + self.pad_id;
                m.forward_t(Some(ids), Some(mask), None, Some(&positions), None, false)
                    .logits
            }
            Head::DistilBert(m) => m.forward_t(Some(ids), Some(mask), None, false)?.logits,
        })
    }

    /// Class probabilities of each text, in the order of `texts`.
    pub fn probabilities(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        let encodings = self
            .tokenizer
            .encode_batch(texts.to_vec(), true)
            .map_err(|e| anyhow::anyhow!("tokenizing for {}: {e}", self.dir.display()))?;
        let ids: Vec<&[u32]> = encodings.iter().map(|e| e.get_ids()).collect();
        let lengths: Vec<usize> = ids.iter().map(|r| r.len()).collect();
        let mut out: Vec<Vec<f32>> = vec![Vec::new(); texts.len()];
        // Fixed [slots, len] blocks (see `hf::bucket_batches`): a text's
        // probabilities do not depend on the texts classified with it.
        for block in hf::bucket_batches(&lengths, self.token_budget, self.max_len) {
            let rows: Vec<&[u32]> = block.rows.iter().map(|&i| ids[i]).collect();
            let (t_ids, t_mask) =
                hf::padded_block(&rows, block.len, block.slots, self.pad_id, self.device);
            let probs = tch::no_grad(|| -> Result<Tensor> {
                let logits = self.logits(&t_ids, &t_mask)?.to_kind(Kind::Float);
                Ok(logits.softmax(-1, Kind::Float).to(Device::Cpu).contiguous())
            })
            .with_context(|| format!("running the classifier of {}", self.dir.display()))?;
            let got = probs.size();
            anyhow::ensure!(
                got == [block.slots.max(rows.len()) as i64, self.classes as i64],
                "{}: the classifier gave logits of shape {got:?}",
                self.dir.display()
            );
            let flat = Vec::<f32>::try_from(probs.view([-1]))?;
            for (&i, p) in block.rows.iter().zip(flat.chunks(self.classes)) {
                out[i] = p.to_vec();
            }
        }
        Ok(out)
    }
}
