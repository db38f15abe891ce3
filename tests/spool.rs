//! Standard input is copied beside `--out` before a run reads it; that copy
//! is a raw copy of an export with personal data. It must be capped, gone
//! after SIGINT or SIGTERM, cleaned up after `kill -9` by the next run, and
//! a full disk must give exit 6.

use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn copies(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".verbatim-input-"))
        .collect()
}

fn analyze_stdin(dir: &Path, extra: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_verbatim"));
    c.current_dir(dir)
        .args([
            "analyze", "-", "--out", "out", "--quiet", "--model", "no-model",
        ])
        .args(extra)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c
}

#[test]
fn an_endless_stdin_stops_at_the_cap_with_exit_4() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = analyze_stdin(dir.path(), &["--max-input-size", "1M"])
        .stdin(std::fs::File::open("/dev/zero").unwrap())
        .spawn()
        .unwrap();
    let status = child.wait().unwrap();
    let mut err = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
    assert_eq!(status.code(), Some(4), "{err}");
    assert!(err.contains("--max-input-size"), "{err}");
    assert!(copies(dir.path()).is_empty(), "{:?}", copies(dir.path()));
}

#[test]
fn sigint_and_sigterm_while_reading_stdin_remove_the_copy() {
    for signal in [libc::SIGINT, libc::SIGTERM] {
        let dir = tempfile::tempdir().unwrap();
        let mut child = analyze_stdin(dir.path(), &[]).spawn().unwrap();
        let mut stdin = child.stdin.take().unwrap();
        stdin
            .write_all(b"score,comment\n9,Anna Schmidt anna@example.com\n")
            .unwrap();
        // The copy exists once the run is reading; then the signal comes
        // while the pipe is still open.
        let start = Instant::now();
        while copies(dir.path()).is_empty() {
            assert!(start.elapsed() < Duration::from_secs(30), "no copy made");
            std::thread::sleep(Duration::from_millis(20));
        }
        // SAFETY: signalling our own child.
        unsafe {
            libc::kill(child.id() as i32, signal);
        }
        let status = child.wait().unwrap();
        drop(stdin);
        assert!(!status.success());
        assert!(
            copies(dir.path()).is_empty(),
            "signal {signal}: {:?}",
            copies(dir.path())
        );
    }
}

#[test]
fn a_copy_left_by_a_killed_run_is_removed_by_the_next_run() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = analyze_stdin(dir.path(), &[]).spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"score,comment\n9,fine\n").unwrap();
    let start = Instant::now();
    while copies(dir.path()).is_empty() {
        assert!(start.elapsed() < Duration::from_secs(30), "no copy made");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL: nothing can clean up
    child.wait().unwrap();
    drop(stdin);
    assert_eq!(copies(dir.path()).len(), 1, "kill -9 leaves the copy");
    // The next run into the same folder (here one that fails on its model)
    // removes it.
    let mut next = analyze_stdin(dir.path(), &[]).spawn().unwrap();
    next.stdin
        .take()
        .unwrap()
        .write_all(b"score,comment\n9,fine\n")
        .unwrap();
    let o = next.wait_with_output().unwrap();
    assert_eq!(
        o.status.code(),
        Some(5),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(copies(dir.path()).is_empty(), "{:?}", copies(dir.path()));
}

#[test]
fn no_room_for_the_copy_is_exit_6() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = analyze_stdin(dir.path(), &[]);
    // SAFETY: only async-signal-safe calls between fork and exec: a file
    // size limit of 64 KiB stands for a full disk (writes past it fail with
    // EFBIG once SIGXFSZ is ignored).
    unsafe {
        c.pre_exec(|| {
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            let lim = libc::rlimit {
                rlim_cur: 64 * 1024,
                rlim_max: 64 * 1024,
            };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &lim) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = c.spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        let row = b"3,the agent was rude and I waited an hour on hold\n";
        let _ = stdin.write_all(b"score,comment\n");
        for _ in 0..10_000 {
            if stdin.write_all(row).is_err() {
                break;
            }
        }
    });
    let o = child.wait_with_output().unwrap();
    writer.join().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(6), "{err}");
    assert!(err.contains("disk full"), "{err}");
    assert!(copies(dir.path()).is_empty(), "{:?}", copies(dir.path()));
}
