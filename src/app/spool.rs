//! Standard input, a pipe or a device as the input of a run: read once into
//! a hidden temporary file beside the output folder, since a run reads its
//! input twice (its rows, then its checksum for the manifest).
//!
//! The copy is a full raw copy of an export with personal data, so it must
//! not outlive the run:
//! - it is removed when the run ends, however it ends short of `kill -9`:
//!   its handle's drop on success or error, a signal handler on SIGINT,
//!   SIGTERM and SIGHUP (it unlinks the file, then lets the signal end the
//!   process as it would have);
//! - a copy left by a killed run (`.verbatim-input-<pid>-…` whose process is
//!   gone) is removed by the next run that spools into the same folder;
//! - it is capped: `--max-input-size`, by default half the free space of
//!   the folder, so a endless stream (`- < /dev/zero`) stops with exit 4
//!   instead of filling the disk, and a full disk gives exit 6.

use std::ffi::CString;
use std::io::{Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::sync::atomic::{AtomicPtr, Ordering};

use anyhow::{Context, Result};

use crate::exit_codes::{coded, is_out_of_space, ExitCode, WithCode};

/// Name prefix of the copies; the process id follows, then a random part.
const PREFIX: &str = ".verbatim-input-";

/// The copy of a pipe or of standard input; removed when dropped.
pub struct Spooled {
    file: tempfile::NamedTempFile,
}

impl Spooled {
    pub fn path(&self) -> &Path {
        self.file.path()
    }
}

impl Drop for Spooled {
    fn drop(&mut self) {
        // The file itself is removed by `NamedTempFile`'s drop; the signal
        // handler must not unlink a path that may be reused.
        forget_for_signals();
    }
}

/// Reads a pipe, a device or `-` (standard input) once, into a hidden
/// temporary file in the folder of `out` (the export may not fit in memory,
/// and the output's disk has room for its tables); `None` for a regular file
/// or a path that does not open (the reader then names the problem).
///
/// `max_size` caps the copy in bytes; `None` is half of the folder's free
/// space.
pub fn spool(input: &Path, out: &Path, max_size: Option<u64>) -> Result<Option<Spooled>> {
    let stdin = input == Path::new("-");
    if !stdin {
        match std::fs::metadata(input) {
            Ok(m) if !m.is_file() && !m.is_dir() => {}
            _ => return Ok(None),
        }
    }
    let dir = spool_dir(out);
    remove_leftovers(dir);
    let cap = match max_size {
        Some(c) => c,
        None => free_space(dir).map_or(u64::MAX, |free| free / 2),
    };
    let spooled = temp_in(dir, input, "a temporary copy")?;
    let mut source: Box<dyn Read> = if stdin {
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(
            std::fs::File::open(input)
                .with_context(|| format!("opening {}", input.display()))
                .code(ExitCode::Input)?,
        )
    };
    copy_capped(&mut source, &spooled, cap, input)?;
    Ok(Some(spooled))
}

/// The folder of `out`, where copies go.
fn spool_dir(out: &Path) -> &Path {
    out.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// A new hidden temporary file in `dir` for `what` of `input`, removed on
/// drop and on a signal.
fn temp_in(dir: &Path, input: &Path, what: &str) -> Result<Spooled> {
    let tmp = tempfile::Builder::new()
        .prefix(&format!("{PREFIX}{}-", std::process::id()))
        .tempfile_in(dir)
        .with_context(|| {
            format!(
                "making {what} of {} in {} (--out's folder)",
                input.display(),
                dir.display()
            )
        })
        .code(ExitCode::Output)?;
    remember_for_signals(tmp.path());
    Ok(Spooled { file: tmp })
}

/// A spreadsheet export (`.xlsx`, `.ods`…, by its extension; see
/// [`crate::input::sheet`]): its sheet `sheet` (default: the first) written
/// as JSON Lines into a hidden temporary file beside the output folder, with
/// what was read; `None` for any other input.
pub fn sheet_copy(
    input: &Path,
    out: &Path,
    sheet: Option<&str>,
) -> Result<Option<(Spooled, crate::input::sheet::SheetInfo)>> {
    if !crate::input::sheet::is_spreadsheet(input) {
        if let Some(s) = sheet {
            return Err(coded(
                ExitCode::Usage,
                anyhow::anyhow!(
                    "--sheet `{s}` is for spreadsheets ({}), and {} is none",
                    crate::input::sheet::EXTENSIONS.join(", "),
                    input.display()
                ),
            ));
        }
        return Ok(None);
    }
    let dir = spool_dir(out);
    remove_leftovers(dir);
    let copy = temp_in(dir, input, "the rows as JSON Lines")?;
    let mut w = std::io::BufWriter::new(copy.file.as_file());
    let info = crate::input::sheet::write_jsonl(input, &input.display().to_string(), sheet, &mut w)
        .map_err(|e| {
            let code = match e {
                crate::input::sheet::SheetError::NoSuchSheet(_) => ExitCode::Usage,
                crate::input::sheet::SheetError::Unreadable(_) => ExitCode::Input,
            };
            coded(code, anyhow::anyhow!(e))
        })?;
    drop(w);
    copy.file
        .as_file()
        .sync_data()
        .map_err(|e| write_error(e, &copy))?;
    Ok(Some((copy, info)))
}

/// Copies `source` into the spool file, at most `cap` bytes.
fn copy_capped(source: &mut dyn Read, to: &Spooled, cap: u64, input: &Path) -> Result<()> {
    let name = if input == Path::new("-") {
        "standard input".to_string()
    } else {
        input.display().to_string()
    };
    let mut file = to.file.as_file();
    let mut buf = vec![0u8; 1 << 16];
    let mut copied: u64 = 0;
    loop {
        let n = match source.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(coded(
                    ExitCode::Input,
                    anyhow::Error::new(e).context(format!("reading {name}")),
                ))
            }
        };
        copied += n as u64;
        if copied > cap {
            return Err(coded(
                ExitCode::Input,
                anyhow::anyhow!(
                    "{name} is larger than --max-input-size {cap} bytes (its copy in {} stops there); \
                     give a larger --max-input-size, or a regular file",
                    to.path().parent().unwrap_or(Path::new(".")).display()
                ),
            ));
        }
        file.write_all(&buf[..n]).map_err(|e| write_error(e, to))?;
    }
    file.sync_data().map_err(|e| write_error(e, to))?;
    Ok(())
}

fn write_error(e: std::io::Error, to: &Spooled) -> anyhow::Error {
    let full = is_out_of_space(&e);
    let e = anyhow::Error::new(e).context(format!(
        "writing the copy of the input to {}{}",
        to.path().display(),
        if full { " (is the disk full?)" } else { "" }
    ));
    coded(ExitCode::Output, e)
}

/// Free bytes for an unprivileged writer in `dir`.
fn free_space(dir: &Path) -> Option<u64> {
    let c = CString::new(dir.as_os_str().as_bytes()).ok()?;
    let mut s: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is a valid C string and `s` a writable statvfs.
    if unsafe { libc::statvfs(c.as_ptr(), &mut s) } != 0 {
        return None;
    }
    Some((s.f_bavail as u64).saturating_mul(s.f_frsize as u64))
}

/// Removes copies left in `dir` by runs whose process is gone (killed with
/// `kill -9`, or a machine that went down).
fn remove_leftovers(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(rest) = name.to_str().and_then(|n| n.strip_prefix(PREFIX)) else {
            continue;
        };
        let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<i32>().ok()) else {
            continue;
        };
        if pid > 0 && !alive(pid) {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// Whether a process with this id exists (it may be another user's).
fn alive(pid: i32) -> bool {
    // SAFETY: signal 0 only checks that the process exists.
    let r = unsafe { libc::kill(pid, 0) };
    r == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// The spool file's path as a C string, for the signal handler (null when
/// there is none).
static SIGNAL_PATH: AtomicPtr<libc::c_char> = AtomicPtr::new(std::ptr::null_mut());

extern "C" fn remove_and_reraise(signal: libc::c_int) {
    let p = SIGNAL_PATH.swap(std::ptr::null_mut(), Ordering::SeqCst);
    // SAFETY: unlink, signal and raise are async-signal-safe; `p` is a
    // C string leaked by `remember_for_signals` and never freed.
    unsafe {
        if !p.is_null() {
            libc::unlink(p);
        }
        libc::signal(signal, libc::SIG_DFL);
        libc::raise(signal);
    }
}

/// Removes `path` if SIGINT, SIGTERM or SIGHUP arrives before the run ends.
fn remember_for_signals(path: &Path) {
    let Ok(c) = CString::new(path.as_os_str().as_bytes()) else {
        return;
    };
    // Leaked on purpose: the handler may read it at any moment (one short
    // string per run).
    let old = SIGNAL_PATH.swap(c.into_raw(), Ordering::SeqCst);
    debug_assert!(old.is_null());
    for s in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
        // SAFETY: installing a handler that only calls async-signal-safe
        // functions.
        unsafe {
            libc::signal(s, remove_and_reraise as *const () as libc::sighandler_t);
        }
    }
}

/// The spool file is gone: signals act as before again.
fn forget_for_signals() {
    SIGNAL_PATH.store(std::ptr::null_mut(), Ordering::SeqCst);
    for s in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
        // SAFETY: restoring the default action.
        unsafe {
            libc::signal(s, libc::SIG_DFL);
        }
    }
}

/// Reads a size such as `500000`, `64K`, `512M`, `10G` or `1T` (powers of
/// 1024; a trailing `B` or `iB` is allowed).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let t = t
        .strip_suffix("iB")
        .or_else(|| t.strip_suffix('B'))
        .unwrap_or(t);
    let (digits, shift) = match t.chars().last() {
        Some('K' | 'k') => (&t[..t.len() - 1], 10),
        Some('M' | 'm') => (&t[..t.len() - 1], 20),
        Some('G' | 'g') => (&t[..t.len() - 1], 30),
        Some('T' | 't') => (&t[..t.len() - 1], 40),
        _ => (t, 0),
    };
    let n: u64 = digits
        .trim()
        .parse()
        .map_err(|_| format!("`{s}` is not a size (e.g. 500000, 64K, 512M, 10G)"))?;
    n.checked_mul(1u64 << shift)
        .filter(|&v| v > 0)
        .ok_or_else(|| format!("`{s}` is not a size above 0 that fits in 64 bits"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_with_their_units() {
        assert_eq!(parse_size("500000"), Ok(500_000));
        assert_eq!(parse_size("64K"), Ok(64 << 10));
        assert_eq!(parse_size("512MiB"), Ok(512 << 20));
        assert_eq!(parse_size("10G"), Ok(10 << 30));
        assert_eq!(parse_size(" 1TB "), Ok(1 << 40));
        assert!(parse_size("0").is_err());
        assert!(parse_size("-1").is_err());
        assert!(parse_size("lots").is_err());
        assert!(parse_size("99999999999T").is_err());
    }

    #[test]
    fn leftovers_of_dead_processes_go_and_live_ones_stay() {
        let dir = tempfile::tempdir().unwrap();
        // A pid above the kernel's maximum (4194304) never exists.
        let dead = dir.path().join(format!("{PREFIX}4194305-abc"));
        let live = dir
            .path()
            .join(format!("{PREFIX}{}-abc", std::process::id()));
        let other = dir.path().join("notes.txt");
        for p in [&dead, &live, &other] {
            std::fs::write(p, "x").unwrap();
        }
        remove_leftovers(dir.path());
        assert!(!dead.exists());
        assert!(live.exists());
        assert!(other.exists());
    }

    #[test]
    fn a_capped_copy_stops_with_exit_4_and_leaves_no_file() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("fifo");
        let out = dir.path().join("out");
        // A device stands for a pipe: /dev/zero never ends.
        std::os::unix::fs::symlink("/dev/zero", &input).unwrap();
        let e = spool(&input, &out, Some(1 << 20)).err().expect("capped");
        assert_eq!(crate::exit_codes::code_of(&e), ExitCode::Input);
        assert!(format!("{e:#}").contains("--max-input-size"), "{e:#}");
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .filter(|n| n.to_string_lossy().starts_with(PREFIX))
            .collect();
        assert!(left.is_empty(), "{left:?}");
    }
}
