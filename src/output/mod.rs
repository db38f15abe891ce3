//! Output folder: every table of a run appears at once, or none does.
//!
//! Files are written into a hidden staging folder next to the target; only
//! when all of them are complete is the staging folder renamed into place (the
//! previous run's folder is moved aside first and removed after). A run that
//! fails or is killed half-way leaves the previous outputs as they were, never
//! a mix of old and new files.

pub mod driver_summary;
pub mod driver_tables;
pub mod manifest;
pub mod run;
pub mod table;
pub mod tables;

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// A staging folder that becomes the output folder on [`OutputDir::commit`].
pub struct OutputDir {
    target: PathBuf,
    staging: tempfile::TempDir,
}

impl OutputDir {
    /// Prepares a staging folder beside `target` (created if missing).
    pub fn create(target: &Path) -> Result<OutputDir> {
        let target = if target.is_absolute() {
            target.to_path_buf()
        } else {
            std::env::current_dir()?.join(target)
        };
        let parent = target
            .parent()
            .with_context(|| format!("--out {} has no parent folder", target.display()))?;
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {} (for --out)", parent.display()))?;
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "out".into());
        let staging = tempfile::Builder::new()
            .prefix(&format!(".{name}.partial-"))
            .tempdir_in(parent)
            .with_context(|| format!("cannot write in {} (for --out)", parent.display()))?;
        Ok(OutputDir { target, staging })
    }

    /// The final location.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Opens `name` in the staging folder for writing.
    pub fn file(&self, name: &str) -> Result<BufWriter<File>> {
        let path = self.staging.path().join(name);
        let f = File::create(&path).with_context(|| format!("creating {}", path.display()))?;
        Ok(BufWriter::new(f))
    }

    /// Writes a whole file into the staging folder.
    pub fn write(&self, name: &str, bytes: &[u8]) -> Result<()> {
        let mut f = self.file(name)?;
        f.write_all(bytes)?;
        f.flush()?;
        Ok(())
    }

    /// Moves the staging folder into place, replacing a previous run's.
    pub fn commit(self) -> Result<PathBuf> {
        let staged = self.staging.keep();
        let target = self.target;
        let old = if target.exists() {
            let parent = target.parent().unwrap_or(Path::new("."));
            let aside = tempfile::Builder::new()
                .prefix(".previous-")
                .tempdir_in(parent)?
                .keep();
            let aside_target = aside.join("out");
            std::fs::rename(&target, &aside_target)
                .with_context(|| format!("moving the previous {} aside", target.display()))?;
            Some(aside)
        } else {
            None
        };
        if let Err(e) = std::fs::rename(&staged, &target) {
            if let Some(aside) = &old {
                let _ = std::fs::rename(aside.join("out"), &target);
            }
            return Err(e).with_context(|| format!("moving outputs to {}", target.display()));
        }
        if let Some(aside) = old {
            let _ = std::fs::remove_dir_all(aside);
        }
        Ok(target)
    }
}
