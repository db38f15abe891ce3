//! Encoder flags shared by the subcommands that embed text.

use std::path::PathBuf;

use anyhow::{Context, Result};

use crate::model::cache::{CachedEncoder, EmbeddingCache, ModelSpec};
use crate::model::manifest::default_model_dir;
use crate::model::transformer::{DeviceChoice, EncoderOptions, ForwardImpl, TransformerEncoder};
use crate::model::{Encoder, Precision};

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
    /// Embedding cache shared with `analyze --cache` (SQLite file, made when missing) [default: none]
    #[arg(long, env = "VERBATIM_CACHE")]
    pub cache: Option<PathBuf>,
}

/// A loaded encoder with the folder it came from and its weights checksum.
pub struct LoadedEncoder {
    pub encoder: TransformerEncoder,
    pub dir: PathBuf,
    pub weights_sha256: String,
    /// The `--cache` file, open, and the key of this encoder's vectors.
    cache: Option<(EmbeddingCache, ModelSpec)>,
}

impl LoadedEncoder {
    /// The encoder to embed with: the transformer, behind the cache when
    /// `--cache` was given.
    pub fn embedder(&self) -> Result<Box<dyn Encoder + '_>> {
        Ok(match &self.cache {
            Some((cache, spec)) => Box::new(
                CachedEncoder::new(&self.encoder, cache, spec).map_err(crate::exit_codes::cache_error)?,
            ),
            None => Box::new(&self.encoder),
        })
    }
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
        let cache = match &self.cache {
            Some(p) => Some(EmbeddingCache::open(p).map_err(crate::exit_codes::cache_error)?),
            None => None,
        };
        let opts = self.options();
        let encoder = TransformerEncoder::load(&dir, &opts)
            .with_context(|| format!("loading the model from {}", dir.display()))?;
        let weights_sha256 = encoder.info().weights_sha256(&dir)?;
        let cache = cache.map(|c| {
            let spec = ModelSpec::of_transformer(&encoder, opts.prefix.as_deref(), &weights_sha256);
            (c, spec)
        });
        Ok(LoadedEncoder {
            encoder,
            dir,
            weights_sha256,
            cache,
        })
    }
}
