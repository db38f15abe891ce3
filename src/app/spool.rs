//! Standard input, a pipe or a device as the input of a run: read once into
//! a hidden temporary file beside the output folder, since a run reads its
//! input twice (its rows, then its checksum for the manifest).

use std::path::Path;

use anyhow::{Context, Result};

use crate::exit_codes::{ExitCode, WithCode};

/// Reads a pipe, a device or `-` (standard input) once, into a hidden
/// temporary file in the folder of `out` (the export may not fit in memory,
/// and the output's disk has room for its tables); `None` for a regular file
/// or a path that does not open (the reader then names the problem). The
/// file is removed when the returned handle is dropped.
pub fn spool(input: &Path, out: &Path) -> Result<Option<tempfile::NamedTempFile>> {
    let stdin = input == Path::new("-");
    if !stdin {
        match std::fs::metadata(input) {
            Ok(m) if !m.is_file() && !m.is_dir() => {}
            _ => return Ok(None),
        }
    }
    let dir = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".verbatim-input-")
        .tempfile_in(dir)
        .with_context(|| {
            format!(
                "making a temporary copy of {} in {} (--out's folder)",
                input.display(),
                dir.display()
            )
        })
        .code(ExitCode::Output)?;
    let copied = if stdin {
        std::io::copy(&mut std::io::stdin().lock(), &mut tmp)
    } else {
        std::fs::File::open(input).and_then(|mut f| std::io::copy(&mut f, &mut tmp))
    };
    copied
        .and_then(|_| tmp.as_file().sync_data())
        .with_context(|| format!("reading {} into {}", input.display(), tmp.path().display()))
        .code(ExitCode::Input)?;
    Ok(Some(tmp))
}
