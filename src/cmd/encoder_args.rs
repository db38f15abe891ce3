//! Encoder flags shared by the subcommands that embed text.

use std::path::PathBuf;

use anyhow::{Context, Result};

use crate::model::manifest::default_model_dir;
use crate::model::transformer::{DeviceChoice, EncoderOptions, ForwardImpl, TransformerEncoder};
use crate::model::Precision;

/// Which encoder to load and how to run it.
#[derive(clap::Args, Debug, Clone)]
pub struct EncoderArgs {
    /// Hugging Face model folder (BERT, XLM-RoBERTa or DistilBERT) [default: the installed multilingual-e5-small]
    #[arg(long, env = "VERBATIM_MODEL")]
    pub model: Option<PathBuf>,
    /// Numeric precision of the encoder: auto uses bfloat16 where the CPU has native support.
    #[arg(long, value_enum, default_value = "auto")]
    pub precision: Precision,
    /// Device of the encoder.
    #[arg(long, value_enum, default_value = "cpu")]
    pub device: DeviceChoice,
    /// Threads for the encoder [default: all cores]
    #[arg(long)]
    pub threads: Option<usize>,
    /// Token budget per forward pass (rows × longest row).
    #[arg(long, default_value_t = 4096)]
    pub batch_tokens: usize,
    /// Implementation of the transformer layers: verbatim's fused pass, or rust-bert's modules.
    #[arg(long, value_enum, default_value = "fused")]
    pub forward: ForwardImpl,
}

/// A loaded encoder with the folder it came from and its weights checksum.
pub struct LoadedEncoder {
    pub encoder: TransformerEncoder,
    pub dir: PathBuf,
    pub weights_sha256: String,
}

impl EncoderArgs {
    /// How to run a model: these flags as options.
    pub fn options(&self) -> EncoderOptions {
        EncoderOptions {
            precision: self.precision,
            threads: self.threads,
            token_budget: self.batch_tokens,
            prefix: None,
            device: self.device,
            forward: self.forward,
        }
    }

    /// Loads the encoder these flags name.
    pub fn load(&self) -> Result<LoadedEncoder> {
        let dir = self.model.clone().unwrap_or_else(default_model_dir);
        let opts = self.options();
        let encoder = TransformerEncoder::load(&dir, &opts)
            .with_context(|| format!("loading the model from {}", dir.display()))?;
        let weights_sha256 = encoder.info().weights_sha256(&dir)?;
        Ok(LoadedEncoder {
            encoder,
            dir,
            weights_sha256,
        })
    }
}
