//! Encoder flags shared by the subcommands that embed text.

use std::path::PathBuf;

use anyhow::{Context, Result};

use crate::model::cache::{CachedEncoder, EmbeddingCache, ModelSpec};
use crate::model::manifest::default_model_dir;
use crate::model::transformer::{DeviceChoice, EncoderOptions, ForwardImpl, TransformerEncoder};
use crate::model::{Encoder, Precision};

/// Most encoder threads: more only waits on the cores (`--threads 100000`
/// used to hang the start-up).
pub const MAX_THREADS: usize = 256;
/// Largest token budget per forward pass (rows × padded length).
pub const MAX_BATCH_TOKENS: usize = 1 << 20;

/// A parser for a whole number in `lo..=hi`, which says the range when a
/// value is outside it (clap then exits with code 2, naming the flag).
pub fn count_in(lo: usize, hi: usize) -> impl Fn(&str) -> Result<usize, String> + Clone {
    move |s: &str| {
        let v: usize = s
            .trim()
            .parse()
            .map_err(|_| format!("`{s}` is not a whole number from {lo} to {hi}"))?;
        if (lo..=hi).contains(&v) {
            Ok(v)
        } else {
            Err(format!("{v} is outside {lo} to {hi}"))
        }
    }
}

/// A parser for a number from 0 to 1 (NaN is not one).
pub fn fraction(s: &str) -> Result<f32, String> {
    number_in(0.0, 1.0)(s).map(|v| v as f32)
}

/// A parser for a number from `lo` to `hi` (NaN is not one).
pub fn number_in(lo: f64, hi: f64) -> impl Fn(&str) -> Result<f64, String> + Clone {
    move |s: &str| {
        let v: f64 = s
            .trim()
            .parse()
            .map_err(|_| format!("`{s}` is not a number from {lo} to {hi}"))?;
        if (lo..=hi).contains(&v) {
            Ok(v)
        } else {
            Err(format!("{v} is outside {lo} to {hi}"))
        }
    }
}

/// A parser for one of a domain enum's values, listed with their help in
/// `--help`: the enum itself knows nothing of clap.
pub(crate) fn one_of<T: Copy + Send + Sync + 'static>(
    all: &'static [T],
    name: fn(T) -> &'static str,
    help: &'static [&'static str],
) -> impl clap::builder::TypedValueParser<Value = T> {
    use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
    let values = all
        .iter()
        .zip(help)
        .map(move |(v, h)| PossibleValue::new(name(*v)).help(*h));
    PossibleValuesParser::new(values).map(move |s| {
        *all.iter()
            .find(|v| name(**v) == s)
            .expect("clap accepts only the listed values")
    })
}

/// Which encoder to load and how to run it.
#[derive(clap::Args, Debug, Clone)]
pub struct EncoderArgs {
    /// Hugging Face model folder (BERT, XLM-RoBERTa or DistilBERT) [default: the installed multilingual-e5-small]
    #[arg(long, env = "VERBATIM_MODEL")]
    pub model: Option<PathBuf>,
    /// Numeric precision of the encoder: auto uses bfloat16 where the CPU has native support.
    #[arg(long, default_value = "auto", value_parser = one_of(&Precision::ALL, Precision::as_str, &[
        "bfloat16 where the CPU has native bfloat16 instructions, else float32",
        "float32 everywhere (the reference numerics)",
        "bfloat16 weights and activations, whatever the CPU",
    ]))]
    pub precision: Precision,
    /// Device of the encoder.
    #[arg(long, default_value = "cpu", value_parser = one_of(&DeviceChoice::ALL, DeviceChoice::as_str, &[
        "CPU",
        "The first CUDA GPU, failing if there is none",
        "CUDA when libtorch sees a GPU, else CPU",
    ]))]
    pub device: DeviceChoice,
    /// Threads for the encoder, 1 to 256 [default: all cores]
    #[arg(long, value_parser = count_in(1, MAX_THREADS))]
    pub threads: Option<usize>,
    /// Token budget per forward pass (rows × padded length), 1 to 1048576.
    #[arg(long, default_value_t = 2048, value_parser = count_in(1, MAX_BATCH_TOKENS))]
    pub batch_tokens: usize,
    /// Implementation of the transformer layers: verbatim's fused pass, or rust-bert's modules.
    #[arg(long, default_value = "fused", value_parser = one_of(&ForwardImpl::ALL, ForwardImpl::as_str, &[
        "verbatim's fused pass (one QKV projection, fused attention; see `model::fused`)",
        "rust-bert's BertModel / DistilBertModel modules",
    ]))]
    pub forward: ForwardImpl,
    /// Embedding cache (SQLite file, made when missing, safe to delete): texts embedded earlier with the same model and precision are read from it, not embedded again [default: none; for analyze, `cache` in the config file]
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
    /// The weights sha256 of the topic branch attached to `encoder`, which
    /// the cache keys its topic probabilities by.
    topic_branch: Option<String>,
}

impl LoadedEncoder {
    /// The encoder to embed with: the transformer, behind the cache when
    /// `--cache` was given.
    pub fn embedder(&self) -> Result<Box<dyn Encoder + '_>> {
        Ok(match &self.cache {
            Some((cache, spec)) => {
                let mut c = CachedEncoder::new(&self.encoder, cache, spec)
                    .map_err(crate::exit_codes::cache_error)?;
                if let Some(sha) = &self.topic_branch {
                    c = c
                        .with_topic_branch(sha)
                        .map_err(crate::exit_codes::cache_error)?;
                }
                Box::new(c)
            }
            None => Box::new(&self.encoder),
        })
    }

    /// A classifier on `embedder` (this encoder, maybe behind the cache)
    /// with the sentiment head `analyze` would choose, the default settings,
    /// and topics as `analyze` decides them: from `tuned`'s branch when one
    /// is attached (with `calibration` as its backup), else from
    /// `calibration`, else by the similarity rule.
    pub fn classifier(
        &self,
        embedder: &dyn crate::model::Encoder,
        taxonomy: &crate::classify::Taxonomy,
        calibration: Option<crate::classify::TopicCalibration>,
        tuned: Option<&crate::app::analyze::AttachedTopicModel>,
    ) -> Result<crate::classify::Classifier> {
        use crate::classify::{head, Classifier, ClassifierSettings, SentimentModel};
        let (h, _) = head::resolve(embedder, &self.weights_sha256, None)?;
        let mut cls = Classifier::build(
            embedder,
            SentimentModel::Head(Box::new(h)),
            taxonomy,
            ClassifierSettings::default(),
        )?;
        if let Some(c) = calibration {
            cls = cls.with_topic_calibration(c, None)?;
        }
        if let Some(m) = tuned {
            cls.set_tuned_topics(&m.meta, None)?;
        }
        Ok(cls)
    }

    /// Attaches the topic model `choice` names (by default the shipped one,
    /// where it fits `taxonomy` and no calibration was named), as `analyze`
    /// does.
    pub fn attach_topic_model(
        &mut self,
        choice: &crate::app::analyze::TopicModelChoice,
        calibration_given: bool,
        taxonomy: &crate::classify::Taxonomy,
    ) -> Result<Option<crate::app::analyze::AttachedTopicModel>> {
        let m = crate::app::analyze::attach_topic_model(
            choice,
            calibration_given,
            &mut self.encoder,
            taxonomy,
            &self.weights_sha256,
        )?;
        self.topic_branch = m.as_ref().map(|m| m.meta.weights_sha256.clone());
        Ok(m)
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
            topic_branch: None,
        })
    }
}
