//! A work folder for tests that run the binary: a temporary folder with the
//! tiny model in `model/`, fixtures written into it, and `verbatim` run on
//! them with the environment cleared of the variables a user may have set.
//! Shared by every test file that runs the binary (after xsv's
//! `tests/workdir.rs`). Included with `#[path = "common/workdir.rs"] mod workdir;`
//! beside `mod common;` (examples include `common` too, and have no binary).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub struct Workdir {
    dir: tempfile::TempDir,
}

impl Workdir {
    /// A new folder with the tiny model in `model/`.
    pub fn new() -> Workdir {
        let dir = tempfile::tempdir().expect("temp dir");
        crate::common::tiny_bert_folder(&dir.path().join("model"));
        Workdir { dir }
    }

    /// The folder itself.
    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Writes a fixture and returns its path.
    pub fn write(&self, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, bytes).expect("write fixture");
        p
    }

    /// The binary, with `VERBATIM_CACHE` and `VERBATIM_MODEL` unset and its
    /// output captured.
    pub fn verbatim(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_verbatim"));
        c.env_remove("VERBATIM_CACHE")
            .env_remove("VERBATIM_MODEL")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        c
    }

    /// `verbatim analyze INPUT --out OUT --model model --quiet --min-n 2`
    /// plus `extra` (a later flag wins over an earlier one).
    pub fn analyze_command(&self, input: &Path, out: &str, extra: &[&str]) -> Command {
        let mut c = self.verbatim();
        c.arg("analyze")
            .arg(input)
            .arg("--out")
            .arg(self.path(out))
            .arg("--model")
            .arg(self.path("model"))
            .args(["--quiet", "--min-n", "2"])
            .args(extra);
        c
    }

    /// Runs [`Workdir::analyze_command`].
    pub fn analyze(&self, input: &Path, out: &str, extra: &[&str]) -> Output {
        self.analyze_command(input, out, extra)
            .output()
            .expect("run verbatim")
    }

    /// Runs `verbatim ARGS --model model`.
    pub fn run(&self, args: &[&str]) -> Output {
        self.verbatim()
            .args(args)
            .arg("--model")
            .arg(self.path("model"))
            .output()
            .expect("run verbatim")
    }

    /// The manifest of output folder `out`.
    pub fn manifest(&self, out: &str) -> serde_json::Value {
        let text =
            std::fs::read_to_string(self.path(out).join("manifest.json")).expect("manifest.json");
        serde_json::from_str(&text).expect("manifest is JSON")
    }

    /// Names in the folder, sorted.
    pub fn listing(&self) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(self.dir.path())
            .expect("read work dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }
}

/// Exit code, stdout and stderr, for assertion messages.
pub fn show(o: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}
