//! Which folders are verbatim's to replace, and which paths may not lie
//! inside one.
//!
//! An output folder is replaced as a whole, so verbatim must never take
//! someone else's folder for its own: a folder is a previous output only if
//! its `manifest.json` carries verbatim's tool name and the output
//! [`SCHEMA`], and every other entry in it is a plain file that the
//! manifest lists under `files` (what the run wrote). Anything else there,
//! a browser extension with a `manifest.json` of its own, or a note a user
//! dropped into last night's results, makes the folder refused, nothing
//! touched. [`super::OutputDir`] writes that manifest
//! ([`super::OutputDir::write_manifest`]) and checks again just before it
//! swaps the folder, so a file put in while a run works is not deleted
//! either.

use std::collections::BTreeSet;
use std::io::Read;
use std::path::{Component, Path, PathBuf};

use anyhow::Result;

use crate::exit_codes::{coded, ExitCode};

/// The manifest's file name.
pub const MANIFEST: &str = "manifest.json";

/// `schema` of the manifest of every output folder verbatim writes.
pub const SCHEMA: &str = "verbatim-output/1";

/// The `tool` a manifest names: `verbatim` and its version.
pub fn tool() -> String {
    format!("verbatim {}", env!("CARGO_PKG_VERSION"))
}

/// A manifest larger than this is not read (verbatim's are kilobytes; a
/// 10,000-topic run's well under one megabyte).
const MANIFEST_LIMIT: u64 = 64 << 20;

/// Entries named one by one in a refusal; the rest are counted.
const NAMED: usize = 12;

/// Why a folder is not a previous output of verbatim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotOurs {
    /// Its `manifest.json` is verbatim's (the other entries are not all
    /// listed in it); `false`: there is no such manifest at all.
    pub manifest_ours: bool,
    /// What replacing the folder would delete that verbatim did not write:
    /// names, folders (and links to folders) with a trailing `/`, sorted.
    pub unknown: Vec<String>,
}

impl NotOurs {
    /// The refusal for `--out dir`, naming the folder and the entries.
    pub fn message(&self, dir: &Path) -> String {
        let names: Vec<&str> = self
            .unknown
            .iter()
            .take(NAMED)
            .map(String::as_str)
            .collect();
        let more = self.unknown.len().saturating_sub(NAMED);
        let more = if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        };
        let list = names.join(", ");
        if self.manifest_ours {
            format!(
                "--out {} holds entries verbatim did not write: {list}{more}; the output \
                 folder is replaced as a whole, so they would be deleted: move them out of \
                 it, or give another --out (nothing was changed)",
                dir.display()
            )
        } else {
            let why = if self.unknown.iter().any(|n| n == MANIFEST) {
                "its manifest.json was not written by verbatim"
            } else {
                "it has no manifest.json of verbatim"
            };
            format!(
                "--out {} is a folder that is not verbatim's output ({why}); replacing it \
                 would delete {list}{more}; give a new or empty folder, or a previous \
                 run's output folder (nothing was changed)",
                dir.display()
            )
        }
    }
}

/// Checks that the folder `dir` (which must exist) is empty or a previous
/// output of verbatim, holding nothing it did not write.
pub fn check_ours(dir: &Path) -> std::io::Result<Result<(), NotOurs>> {
    let mut entries: Vec<(String, bool)> = Vec::new();
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        let name = e.file_name().to_string_lossy().into_owned();
        let file = e.file_type()?.is_file();
        entries.push((name, file));
    }
    if entries.is_empty() {
        return Ok(Ok(()));
    }
    let listed = entries
        .iter()
        .any(|(n, file)| n == MANIFEST && *file)
        .then(|| listed_files(&dir.join(MANIFEST)))
        .flatten();
    let unknown: BTreeSet<String> = entries
        .iter()
        .filter(|(n, file)| {
            !(*file
                && listed
                    .as_ref()
                    .is_some_and(|l| n == MANIFEST || l.contains(n)))
        })
        .map(|(n, file)| {
            let dirlike = !file && dir.join(n).is_dir();
            if dirlike {
                format!("{n}/")
            } else {
                n.clone()
            }
        })
        .collect();
    if unknown.is_empty() {
        return Ok(Ok(()));
    }
    Ok(Err(NotOurs {
        manifest_ours: listed.is_some(),
        unknown: unknown.into_iter().collect(),
    }))
}

/// The files a verbatim manifest lists; `None` when `path` is not one (not
/// JSON, another tool, another schema, no `files`, or too large to be).
fn listed_files(path: &Path) -> Option<BTreeSet<String>> {
    let f = std::fs::File::open(path).ok()?;
    let mut text = Vec::new();
    f.take(MANIFEST_LIMIT + 1).read_to_end(&mut text).ok()?;
    if text.len() as u64 > MANIFEST_LIMIT {
        return None;
    }
    let v: serde_json::Value = serde_json::from_slice(&text).ok()?;
    let tool = v.get("tool")?.as_str()?;
    if !(tool == "verbatim" || tool.starts_with("verbatim ")) {
        return None;
    }
    match v.get("schema") {
        Some(schema) if schema.as_str()? == SCHEMA => {}
        Some(_) => return None,
        // Written before the schema existed (verbatim 0.1 up to its stop
        // 11): those manifests list no files, so its own file names stand
        // for them; a nightly job's folder is then replaced as before.
        None if v.get("run_id").is_some() => return Some(legacy_files()),
        None => return None,
    }
    v.get("files")?
        .as_array()?
        .iter()
        .map(|f| f.as_str().filter(|n| plain_name(n)).map(str::to_string))
        .collect()
}

/// Every file an `analyze` run wrote before manifests listed their files.
fn legacy_files() -> BTreeSet<String> {
    const TABLES: [&str; 11] = [
        "agg_nps",
        "alerts",
        "bridge_response_topic",
        "dim_topic",
        "driver_change",
        "fact_response",
        "followup",
        "key_driver",
        "segment_driver",
        "team_view",
        "topic_driver",
    ];
    let mut files: BTreeSet<String> = TABLES
        .iter()
        .flat_map(|t| [format!("{t}.csv"), format!("{t}.parquet")])
        .collect();
    files.extend(["rejects.csv".to_string(), "report.html".to_string()]);
    files
}

/// One plain file name: no folder, no `.` or `..`.
pub fn plain_name(name: &str) -> bool {
    let mut parts = Path::new(name).components();
    matches!(
        (parts.next(), parts.next()),
        (Some(Component::Normal(n)), None) if n == name
    ) && !name.contains(['/', '\\', '\0'])
}

/// `path` made absolute with its links resolved, for a path that may not
/// exist yet: its deepest existing ancestor is canonicalised and the rest
/// appended (`..` in the rest is applied by hand).
pub fn canonical(path: &Path) -> std::io::Result<PathBuf> {
    let path = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()?.join(path)
    };
    let mut rest = Vec::new();
    let mut at = path.as_path();
    let base = loop {
        if let Ok(c) = at.canonicalize() {
            break c;
        }
        match (at.parent(), at.components().next_back()) {
            (Some(p), Some(last)) => {
                rest.push(last.as_os_str().to_os_string());
                at = p;
            }
            // The root itself cannot be canonicalised: nothing to compare.
            _ => break at.to_path_buf(),
        }
    };
    let mut out = base;
    for part in rest.into_iter().rev() {
        if part == ".." {
            out.pop();
        } else if part != "." {
            out.push(part);
        }
    }
    Ok(out)
}

/// Refuses (exit 2) an embedding cache inside the output folder: the folder
/// is replaced as a whole by every run, so the cache would be deleted each
/// time. `flag` is the cache of the command line (`--cache` or
/// `VERBATIM_CACHE`), `config` the config file, to say where it came from.
pub fn check_cache_outside(
    cache: &Path,
    out: &Path,
    flag: Option<&Path>,
    config: Option<&Path>,
) -> Result<()> {
    let (c, o) = match (canonical(cache), canonical(out)) {
        (Ok(c), Ok(o)) => (c, o),
        // Without a current folder nothing can be compared; opening the
        // files will fail with its own message.
        _ => return Ok(()),
    };
    if !c.starts_with(&o) {
        return Ok(());
    }
    let from = match (flag, config) {
        (Some(f), _) if std::env::var_os("VERBATIM_CACHE").is_some_and(|e| Path::new(&e) == f) => {
            "given by VERBATIM_CACHE".to_string()
        }
        (Some(_), _) => "given with --cache".to_string(),
        (None, Some(cfg)) => format!("`cache` in the config file {}", cfg.display()),
        (None, None) => "given".to_string(),
    };
    Err(coded(
        ExitCode::Usage,
        anyhow::anyhow!(
            "--cache {} ({from}) is inside --out {}: the output folder is replaced as a \
             whole by every run, so the cache would be deleted; keep the cache outside --out",
            cache.display(),
            out.display()
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_output_folder_of_an_earlier_version_is_ours_unless_it_holds_more() {
        let dir = tempfile::tempdir().unwrap();
        let old = r#"{"run_id": "20261201T010203Z-abcdef12", "tool": "verbatim 0.1.0"}"#;
        std::fs::write(dir.path().join(MANIFEST), old).unwrap();
        for f in [
            "agg_nps.csv",
            "agg_nps.parquet",
            "report.html",
            "rejects.csv",
        ] {
            std::fs::write(dir.path().join(f), "x").unwrap();
        }
        assert_eq!(check_ours(dir.path()).unwrap(), Ok(()));
        std::fs::write(dir.path().join("notes.txt"), "mine").unwrap();
        let e = check_ours(dir.path()).unwrap().unwrap_err();
        assert_eq!(e.unknown, ["notes.txt"]);
        // Without a run id it is not an analyze manifest of verbatim.
        std::fs::remove_file(dir.path().join("notes.txt")).unwrap();
        std::fs::write(dir.path().join(MANIFEST), r#"{"tool": "verbatim"}"#).unwrap();
        assert!(check_ours(dir.path()).unwrap().is_err());
    }

    #[test]
    fn canonical_resolves_links_and_missing_tails() {
        let tmp = tempfile::tempdir().expect("tmp");
        let real = tmp.path().canonicalize().expect("canon");
        std::os::unix::fs::symlink(&real, real.join("link")).expect("symlink");
        assert_eq!(
            canonical(&real.join("link/a/b/../c")).ok(),
            Some(real.join("a/c"))
        );
        assert_eq!(canonical(&real.join("link")).ok(), Some(real.clone()));
    }

    #[test]
    fn plain_names_only() {
        assert!(plain_name("agg_nps.csv"));
        for bad in ["", ".", "..", "a/b", "/etc", "a\\b", "a\0"] {
            assert!(!plain_name(bad), "{bad:?}");
        }
    }
}
