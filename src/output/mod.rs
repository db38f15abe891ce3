//! Output folder: every table of a run appears at once, or none does.
//!
//! Files are written into a hidden staging folder next to the target,
//! `.<name>.partial-XXXXXX`; only when all of them are complete (and
//! flushed to disk) is the staging folder swapped into place. On Linux the
//! swap is one `renameat2(RENAME_EXCHANGE)`, so the target path always holds
//! either the previous run's folder or the new one, even if the process is
//! killed in the middle; elsewhere (or on a file system without the
//! exchange) the previous folder is moved aside to `.<name>.previous-XXXXXX`
//! first, and a run killed between the two renames is repaired by the next
//! run. A run that fails or is killed half-way leaves the previous outputs
//! as they were, never a mix of old and new files.
//!
//! A run holds an exclusive lock on `.<name>.lock` beside the folder from
//! [`OutputDir::create`] to the end of [`OutputDir::commit`], so two runs
//! writing to the same folder cannot interleave: the second one fails at
//! once with [`ExitCode::Busy`]. The lock is an advisory `flock`-style
//! lock, released by the kernel when the process ends however it ends, so a
//! killed run never leaves a stale lock. The lock file itself stays (an
//! empty, hidden file): removing it would let a third run lock a new file
//! while a second still waits on the old one. Holding the lock, a run
//! removes what killed runs left beside the folder (staging folders, a
//! previous folder moved aside), so they do not pile up.
//!
//! A folder is replaced only if it is empty or verbatim's own output: its
//! `manifest.json` names verbatim and the output schema, and lists every
//! other file in it (see [`owned`]); anything else is refused with the
//! entries it would delete, before the work and again just before the swap.
//!
//! File names never come from data: the tables have fixed names and
//! [`OutputDir::file`] refuses anything but a plain file name, so no segment
//! value, id or topic id can make a path that leaves the folder.
//!
//! Every error here is marked with [`ExitCode::Output`] (or `Busy`).

pub mod driver_summary;
pub mod driver_tables;
pub mod manifest;
pub mod owned;
pub mod run;
pub mod table;
pub mod tables;
pub mod views;

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Component, Path, PathBuf};

use anyhow::{Context, Result};

use crate::exit_codes::{coded, ExitCode, WithCode};

/// A staging folder that becomes the output folder on [`OutputDir::commit`].
pub struct OutputDir {
    target: PathBuf,
    /// The target's file name, which prefixes every hidden name beside it.
    name: String,
    staging: tempfile::TempDir,
    /// Held locked until the `OutputDir` is dropped.
    _lock: File,
}

impl OutputDir {
    /// Locks the output folder's lock file, removes what killed runs left
    /// beside `target`, and prepares a staging folder there (`target`'s
    /// parent is created if missing).
    ///
    /// Fails with [`ExitCode::Busy`] if another run holds the lock, and
    /// with [`ExitCode::Output`] if the parent is not writable, or if
    /// `target` exists but is not a folder, or is a folder that is not
    /// empty and not a previous output holding only what verbatim wrote
    /// (see [`owned`]), which replacing it would delete. A folder refused
    /// so is left as it was, and nothing is made beside it.
    pub fn create(target: &Path) -> Result<OutputDir> {
        Self::create_inner(target).code(ExitCode::Output)
    }

    fn create_inner(target: &Path) -> Result<OutputDir> {
        let target = if target.is_absolute() {
            target.to_path_buf()
        } else {
            std::env::current_dir()?.join(target)
        };
        let name = match target.components().next_back() {
            Some(Component::Normal(n)) => n.to_string_lossy().into_owned(),
            _ => anyhow::bail!(
                "--out {}: give the name of a folder to write, not `.`, `..` or `/`",
                target.display()
            ),
        };
        let parent = target
            .parent()
            .with_context(|| format!("--out {} has no parent folder", target.display()))?
            .to_path_buf();
        // Once before anything is made beside it, and again under the lock.
        check_replaceable(&target)?;
        std::fs::create_dir_all(&parent)
            .with_context(|| format!("cannot create {} (for --out)", parent.display()))?;
        let lock_path = parent.join(format!(".{name}.lock"));
        let lock = File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&lock_path)
            .with_context(|| {
                format!(
                    "cannot write in {} (for --out {}); is the folder read-only?",
                    parent.display(),
                    target.display()
                )
            })?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(coded(
                    ExitCode::Busy,
                    anyhow::anyhow!(
                        "another verbatim run is writing to {} (it holds the lock {}); \
                         wait for it to finish or give another --out",
                        target.display(),
                        lock_path.display()
                    ),
                ))
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(e).with_context(|| format!("locking {}", lock_path.display()))
            }
        }
        check_replaceable(&target)?;
        clean_leftovers(&parent, &name, &target);
        let staging = tempfile::Builder::new()
            .prefix(&format!(".{name}.partial-"))
            .tempdir_in(&parent)
            .with_context(|| {
                format!(
                    "cannot write in {} (for --out {}); is the folder read-only?",
                    parent.display(),
                    target.display()
                )
            })?;
        Ok(OutputDir {
            target,
            name,
            staging,
            _lock: lock,
        })
    }

    /// Writes `manifest.json`, the last file of a run: `manifest`'s fields
    /// with the output [`owned::SCHEMA`] first and, last, `files`: every
    /// other file in the staging folder. That is what makes the folder
    /// verbatim's to replace on the next run; [`OutputDir::commit`] refuses
    /// a folder without it, or with a file written after it. `manifest`
    /// must serialise as a map with a `tool` naming verbatim.
    pub fn write_manifest<T: serde::Serialize>(&self, manifest: &T) -> Result<()> {
        #[derive(serde::Serialize)]
        struct Stamped<'a, T> {
            schema: &'static str,
            #[serde(flatten)]
            manifest: &'a T,
            files: Vec<String>,
        }
        let mut files = Vec::new();
        for e in std::fs::read_dir(self.staging.path())
            .with_context(|| format!("reading {}", self.staging.path().display()))
            .code(ExitCode::Output)?
        {
            let name = e.code(ExitCode::Output)?.file_name();
            let name = name.to_string_lossy();
            if name != owned::MANIFEST {
                files.push(name.into_owned());
            }
        }
        files.sort();
        let stamped = Stamped {
            schema: owned::SCHEMA,
            manifest,
            files,
        };
        self.write(
            owned::MANIFEST,
            serde_json::to_string_pretty(&stamped)?.as_bytes(),
        )
    }

    /// The final location.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Opens `name` in the staging folder for writing. `name` must be a
    /// plain file name (no folder, no `..`).
    pub fn file(&self, name: &str) -> Result<BufWriter<File>> {
        let path = self.path_of(name)?;
        let f = File::create(&path)
            .with_context(|| format!("creating {}", path.display()))
            .code(ExitCode::Output)?;
        Ok(BufWriter::new(f))
    }

    /// Writes a whole file into the staging folder.
    pub fn write(&self, name: &str, bytes: &[u8]) -> Result<()> {
        let path = self.path_of(name)?;
        let write = || -> std::io::Result<()> {
            let mut f = BufWriter::new(File::create(&path)?);
            f.write_all(bytes)?;
            f.flush()
        };
        write()
            .with_context(|| format!("writing {}", path.display()))
            .code(ExitCode::Output)
    }

    /// The staging path of a table file; anything that is not one plain
    /// file name is a bug in the caller, refused rather than followed.
    fn path_of(&self, name: &str) -> Result<PathBuf> {
        let mut parts = Path::new(name).components();
        let plain = matches!(
            (parts.next(), parts.next()),
            (Some(Component::Normal(n)), None) if n == name
        );
        anyhow::ensure!(
            plain && !name.contains(['/', '\\', '\0']),
            "output file name {name:?} is not a plain file name"
        );
        Ok(self.staging.path().join(name))
    }

    /// Flushes the staged files to disk and swaps the staging folder into
    /// place, replacing a previous run's folder (see the module
    /// documentation). The lock is released when this returns.
    pub fn commit(self) -> Result<PathBuf> {
        let target = self.target.clone();
        self.commit_inner()
            .with_context(|| format!("moving the outputs into {}", target.display()))
            .code(ExitCode::Output)?;
        Ok(target)
    }

    fn commit_inner(self) -> Result<()> {
        // A bug, not the user's doing: a folder without its manifest could
        // never be replaced by the next run.
        let staged_ours = self.staging.path().join(owned::MANIFEST).is_file()
            && owned::check_ours(self.staging.path())?.is_ok();
        anyhow::ensure!(
            staged_ours,
            "internal error: the staged outputs in {} are not all listed in a verbatim \
             manifest.json",
            self.staging.path().display()
        );
        // The folder may have changed since the run began (a file dropped
        // into it): checked again just before the swap.
        check_replaceable(&self.target)?;
        sync_tree(self.staging.path())?;
        let parent = self.target.parent().unwrap_or(Path::new(".")).to_path_buf();
        // From here the staging folder is ours to rename; a kill leaves it
        // for the next run to remove.
        let staged = self.staging.keep();
        let target = &self.target;
        if target.exists() {
            if !exchange(&staged, target)? {
                replace_in_two_steps(&staged, target, &parent, &self.name)?;
            }
            // `staged` now holds the previous run's folder, or nothing. The
            // new outputs are in place: should removing the old ones fail,
            // the next run removes them.
            let _ = std::fs::remove_dir_all(&staged);
        } else {
            std::fs::rename(&staged, target)?;
        }
        sync_dir(&parent)?;
        Ok(())
    }
}

/// Refuses to replace something that is not a previous run's folder, or
/// a folder this process could not remove after the swap.
fn check_replaceable(target: &Path) -> Result<()> {
    let Ok(meta) = std::fs::symlink_metadata(target) else {
        return Ok(());
    };
    let what = if meta.is_dir() {
        let mut entries = std::fs::read_dir(target)
            .with_context(|| format!("cannot read --out {}", target.display()))?;
        if !writable(target) {
            anyhow::bail!(
                "--out {} is read-only, so its files cannot be replaced; make it \
                 writable or give another --out",
                target.display()
            );
        }
        if entries.next().is_none() {
            return Ok(());
        }
        return match owned::check_ours(target)
            .with_context(|| format!("cannot read --out {}", target.display()))?
        {
            Ok(()) => Ok(()),
            Err(not_ours) => Err(anyhow::anyhow!(not_ours.message(target))),
        };
    } else if meta.file_type().is_symlink() {
        "a symbolic link"
    } else {
        "a file"
    };
    anyhow::bail!(
        "--out {} is {what}; the output folder is replaced as a whole, so give a new \
         or empty folder, or a previous run's output folder",
        target.display()
    )
}

/// Whether this process may create and delete entries in `dir` (checked
/// with the effective ids, as the writes will be).
fn writable(dir: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let Ok(c) = std::ffi::CString::new(dir.as_os_str().as_bytes()) else {
            return false;
        };
        // SAFETY: a NUL-terminated path that outlives the call.
        let rc = unsafe {
            libc::faccessat(
                libc::AT_FDCWD,
                c.as_ptr(),
                libc::W_OK | libc::X_OK,
                libc::AT_EACCESS,
            )
        };
        rc == 0
    }
    #[cfg(not(unix))]
    {
        std::fs::metadata(dir).is_ok_and(|m| !m.permissions().readonly())
    }
}

/// Removes the staging folders of killed runs beside `target`, and puts
/// back a previous folder moved aside by a run killed between the two
/// renames of [`replace_in_two_steps`]. Only called with the lock held, so
/// none of these belongs to a live run. Best effort: what cannot be
/// removed stays hidden and is tried again by the next run.
fn clean_leftovers(parent: &Path, name: &str, target: &Path) {
    let partial = format!(".{name}.partial-");
    let previous = format!(".{name}.previous-");
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let Some(n) = file_name.to_str() else {
            continue;
        };
        let path = entry.path();
        if n.starts_with(&previous) {
            let aside = path.join("out");
            if !target.exists() && aside.is_dir() && std::fs::rename(&aside, target).is_err() {
                // Keep the only copy of the previous outputs.
                continue;
            }
        } else if !n.starts_with(&partial) {
            continue;
        }
        let _ = std::fs::remove_dir_all(&path);
    }
}

/// Swaps `staged` and `target` atomically; `false` where the system or the
/// file system cannot.
#[cfg(target_os = "linux")]
fn exchange(staged: &Path, target: &Path) -> Result<bool> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let c = |p: &Path| CString::new(p.as_os_str().as_bytes()).context("a path holds a NUL byte");
    let (from, to) = (c(staged)?, c(target)?);
    // SAFETY: both pointers are NUL-terminated strings that outlive the call.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_renameat2,
            libc::AT_FDCWD,
            from.as_ptr(),
            libc::AT_FDCWD,
            to.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if rc == 0 {
        return Ok(true);
    }
    let e = std::io::Error::last_os_error();
    match e.raw_os_error() {
        Some(libc::EINVAL | libc::ENOSYS | libc::EOPNOTSUPP) => Ok(false),
        _ => Err(e.into()),
    }
}

#[cfg(not(target_os = "linux"))]
fn exchange(_staged: &Path, _target: &Path) -> Result<bool> {
    Ok(false)
}

/// Moves `target` aside, `staged` into place, and the old folder into
/// `staged`'s path for removal. A kill between the renames leaves the old
/// folder in `.<name>.previous-*/out`, which [`clean_leftovers`] puts back.
fn replace_in_two_steps(staged: &Path, target: &Path, parent: &Path, name: &str) -> Result<()> {
    let aside = tempfile::Builder::new()
        .prefix(&format!(".{name}.previous-"))
        .tempdir_in(parent)?
        .keep();
    let aside_target = aside.join("out");
    std::fs::rename(target, &aside_target)
        .with_context(|| format!("moving the previous {} aside", target.display()))?;
    if let Err(e) = std::fs::rename(staged, target) {
        let _ = std::fs::rename(&aside_target, target);
        let _ = std::fs::remove_dir(&aside);
        return Err(e.into());
    }
    std::fs::rename(&aside_target, staged)?;
    std::fs::remove_dir(&aside)?;
    Ok(())
}

/// Flushes every file of a staging folder (no subfolders) and the folder.
fn sync_tree(dir: &Path) -> Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        File::open(&path)
            .and_then(|f| f.sync_all())
            .with_context(|| format!("flushing {}", path.display()))?;
    }
    sync_dir(dir)
}

/// Flushes a folder's entries (the renames in it) to disk, where the
/// system allows opening a folder.
fn sync_dir(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    File::open(dir)
        .and_then(|f| f.sync_all())
        .with_context(|| format!("flushing {}", dir.display()))?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .map(|rd| {
                rd.filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    }

    fn ok<T>(r: Result<T>) -> T {
        match r {
            Ok(v) => v,
            Err(e) => panic!("{e:#}"),
        }
    }

    #[test]
    fn commit_replaces_the_folder_and_leaves_only_the_lock_beside_it() {
        let tmp = ok(tempfile::tempdir().map_err(Into::into));
        let target = tmp.path().join("out");
        for run in ["one", "two"] {
            let out = ok(OutputDir::create(&target));
            ok(out.write(&format!("{run}.csv"), b"x"));
            ok(out.write_manifest(&manifest(run)));
            ok(out.commit());
            let m: serde_json::Value = ok(std::fs::read(target.join("manifest.json"))
                .map_err(anyhow::Error::from)
                .and_then(|b| Ok(serde_json::from_slice(&b)?)));
            assert_eq!(m["run"], run);
            assert_eq!(m["schema"], owned::SCHEMA);
            assert_eq!(m["files"], serde_json::json!([format!("{run}.csv")]));
        }
        assert_eq!(names(&target), ["manifest.json", "two.csv"]);
        assert_eq!(names(tmp.path()), [".out.lock", "out"]);
    }

    fn manifest(run: &str) -> serde_json::Value {
        serde_json::json!({ "tool": owned::tool(), "run": run })
    }

    #[test]
    fn a_run_without_its_manifest_or_with_a_file_after_it_cannot_commit() {
        let tmp = ok(tempfile::tempdir().map_err(Into::into));
        let target = tmp.path().join("out");
        let out = ok(OutputDir::create(&target));
        ok(out.write("agg_nps.csv", b"x"));
        let e = out.commit().err().map(|e| format!("{e:#}"));
        assert!(
            e.as_deref().is_some_and(|e| e.contains("internal error")),
            "{e:?}"
        );
        let out = ok(OutputDir::create(&target));
        ok(out.write_manifest(&manifest("one")));
        ok(out.write("late.csv", b"x"));
        assert!(out.commit().is_err());
        assert!(!target.exists());
        assert_eq!(names(tmp.path()), [".out.lock"]);
    }

    #[test]
    fn a_file_dropped_into_the_folder_during_a_run_is_not_deleted() {
        let tmp = ok(tempfile::tempdir().map_err(Into::into));
        let target = tmp.path().join("out");
        let out = ok(OutputDir::create(&target));
        ok(out.write("agg_nps.csv", b"old"));
        ok(out.write_manifest(&manifest("one")));
        ok(out.commit());
        // The next run starts; meanwhile a user saves a note into the folder.
        let out = ok(OutputDir::create(&target));
        ok(out.write("agg_nps.csv", b"new"));
        ok(out.write_manifest(&manifest("two")));
        ok(std::fs::write(target.join("notes.txt"), "mine").map_err(Into::into));
        let e = out.commit().err();
        let msg = e.as_ref().map(|e| format!("{e:#}")).unwrap_or_default();
        assert!(msg.contains("notes.txt") && msg.contains("--out"), "{msg}");
        assert_eq!(
            e.as_ref().map(crate::exit_codes::code_of),
            Some(ExitCode::Output)
        );
        assert_eq!(
            names(&target),
            ["agg_nps.csv", "manifest.json", "notes.txt"]
        );
        assert_eq!(
            std::fs::read_to_string(target.join("agg_nps.csv"))
                .ok()
                .as_deref(),
            Some("old")
        );
        assert_eq!(names(tmp.path()), [".out.lock", "out"]);
    }

    #[test]
    fn only_a_folder_holding_what_verbatim_wrote_is_replaced() {
        let tmp = ok(tempfile::tempdir().map_err(Into::into));
        let target = tmp.path().join("ext");
        let w = |name: &str, text: &str| {
            ok(std::fs::write(target.join(name), text).map_err(Into::into));
        };
        ok(std::fs::create_dir_all(target.join("icons")).map_err(Into::into));
        w("manifest.json", r#"{"manifest_version": 3}"#);
        w("background.js", "x");
        let e = OutputDir::create(&target).err();
        let msg = e.as_ref().map(|e| format!("{e:#}")).unwrap_or_default();
        assert!(
            msg.contains("not verbatim's output")
                && msg.contains("background.js, icons/, manifest.json"),
            "{msg}"
        );
        // Nothing beside it: the folder was refused before the lock.
        assert_eq!(names(tmp.path()), ["ext"]);
        // A verbatim manifest that does not list a file; another schema;
        // another tool; a listed name that is a folder.
        let tool = owned::tool();
        for (manifest, files) in [
            (
                format!(
                    r#"{{"tool": "{tool}", "schema": "{}", "files": ["a.csv"]}}"#,
                    owned::SCHEMA
                ),
                vec!["a.csv", "b.csv"],
            ),
            (
                format!(
                    r#"{{"tool": "{tool}", "schema": "verbatim-output/0", "files": ["a.csv"]}}"#
                ),
                vec!["a.csv"],
            ),
            (
                format!(
                    r#"{{"tool": "other {tool}", "schema": "{}", "files": ["a.csv"]}}"#,
                    owned::SCHEMA
                ),
                vec!["a.csv"],
            ),
        ] {
            let _ = std::fs::remove_dir_all(&target);
            ok(std::fs::create_dir_all(&target).map_err(Into::into));
            w("manifest.json", &manifest);
            for f in &files {
                w(f, "x");
            }
            assert!(OutputDir::create(&target).is_err(), "{manifest}");
            assert_eq!(names(&target).len(), files.len() + 1);
        }
        let _ = std::fs::remove_dir_all(&target);
        ok(std::fs::create_dir_all(target.join("a.csv")).map_err(Into::into));
        w(
            "manifest.json",
            &format!(
                r#"{{"tool": "{tool}", "schema": "{}", "files": ["a.csv"]}}"#,
                owned::SCHEMA
            ),
        );
        let msg = OutputDir::create(&target).err().map(|e| format!("{e:#}"));
        assert!(
            msg.as_deref().is_some_and(|m| m.contains("a.csv/")),
            "{msg:?}"
        );
        // Listed files only: replaced.
        ok(std::fs::remove_dir(target.join("a.csv")).map_err(Into::into));
        w("a.csv", "x");
        ok(OutputDir::create(&target).map(drop));
    }

    #[test]
    fn a_second_run_on_the_same_folder_is_busy_until_the_first_ends() {
        let tmp = ok(tempfile::tempdir().map_err(Into::into));
        let target = tmp.path().join("out");
        let first = ok(OutputDir::create(&target));
        let second = OutputDir::create(&target).err();
        let code = second.as_ref().map(crate::exit_codes::code_of);
        assert_eq!(code, Some(ExitCode::Busy), "{second:?}");
        let msg = second.map(|e| format!("{e:#}")).unwrap_or_default();
        assert!(
            msg.contains("another verbatim run") && msg.contains("--out"),
            "{msg}"
        );
        // Another folder in the same parent is not blocked.
        ok(OutputDir::create(&tmp.path().join("other")).map(drop));
        drop(first);
        ok(OutputDir::create(&target).map(drop));
    }

    #[test]
    fn leftovers_of_killed_runs_are_removed_and_an_aside_folder_put_back() {
        let tmp = ok(tempfile::tempdir().map_err(Into::into));
        let p = tmp.path();
        // A run killed while writing, and one killed between the two
        // renames of the fallback swap: the target is missing.
        ok(std::fs::create_dir_all(p.join(".out.partial-abc123")).map_err(Into::into));
        ok(std::fs::write(p.join(".out.partial-abc123/agg_nps.csv"), "half").map_err(Into::into));
        ok(std::fs::create_dir_all(p.join(".out.previous-xyz/out")).map_err(Into::into));
        ok(
            std::fs::write(p.join(".out.previous-xyz/out/manifest.json"), "old")
                .map_err(Into::into),
        );
        // Another output folder's staging is not ours to remove.
        ok(std::fs::create_dir_all(p.join(".other.partial-abc123")).map_err(Into::into));
        let out = ok(OutputDir::create(&p.join("out")));
        assert_eq!(
            std::fs::read_to_string(p.join("out/manifest.json")).ok(),
            Some("old".to_string())
        );
        let staging = out
            .staging
            .path()
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        assert!(staging.starts_with(".out.partial-"), "{staging}");
        assert_eq!(
            names(p),
            [".other.partial-abc123", ".out.lock", &staging, "out"]
        );
    }

    #[test]
    fn file_names_cannot_leave_the_staging_folder() {
        let tmp = ok(tempfile::tempdir().map_err(Into::into));
        let out = ok(OutputDir::create(&tmp.path().join("out")));
        for bad in ["../x.csv", "/etc/passwd", "a/b.csv", "..", ".", "", "a\0b"] {
            assert!(out.write(bad, b"x").is_err(), "{bad:?} accepted");
            assert!(out.file(bad).is_err(), "{bad:?} accepted");
        }
        assert!(!tmp.path().join("x.csv").exists());
        ok(out.write("agg_nps.csv", b"x"));
    }

    #[test]
    fn refuses_to_replace_a_folder_that_is_not_an_output() {
        let tmp = ok(tempfile::tempdir().map_err(Into::into));
        let docs = tmp.path().join("Documents");
        ok(std::fs::create_dir_all(&docs).map_err(Into::into));
        ok(std::fs::write(docs.join("thesis.docx"), "precious").map_err(Into::into));
        let e = OutputDir::create(&docs).err();
        let msg = e.as_ref().map(|e| format!("{e:#}")).unwrap_or_default();
        assert!(msg.contains("not verbatim's output"), "{msg}");
        assert_eq!(
            e.as_ref().map(crate::exit_codes::code_of),
            Some(ExitCode::Output)
        );
        let file = tmp.path().join("file");
        ok(std::fs::write(&file, "x").map_err(Into::into));
        assert!(OutputDir::create(&file).is_err());
        for dots in ["..", "/", "a/.."] {
            assert!(OutputDir::create(Path::new(dots)).is_err(), "{dots}");
        }
        // An empty folder may be used.
        ok(std::fs::create_dir_all(tmp.path().join("empty")).map_err(Into::into));
        ok(OutputDir::create(&tmp.path().join("empty")).map(drop));
    }
}
