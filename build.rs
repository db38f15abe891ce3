//! Records where libtorch lives as an rpath, so `target/release/verbatim` runs
//! from any folder without `LD_LIBRARY_PATH`.
//!
//! tch's build script finds libtorch either from `LIBTORCH` or, with
//! `LIBTORCH_USE_PYTORCH=1`, from the `torch` package of the active Python
//! (`python` inside a virtual environment, `python3` outside); this script asks
//! the same places.
use std::path::PathBuf;
use std::process::Command;

fn libtorch_lib_dir() -> Option<PathBuf> {
    if let Ok(dir) = std::env::var("LIBTORCH") {
        return Some(PathBuf::from(dir).join("lib"));
    }
    // Outside an activated environment, the project's own .venv is the one
    // scripts/setup.sh made.
    let local = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").ok()?).join(".venv/bin/python");
    let python = if std::env::var_os("VIRTUAL_ENV").is_some() {
        PathBuf::from("python")
    } else if local.is_file() {
        local
    } else {
        PathBuf::from("python3")
    };
    let out = Command::new(python)
        .args([
            "-c",
            "import os, torch; print(os.path.join(os.path.dirname(torch.__file__), 'lib'))",
        ])
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let dir = String::from_utf8(out.stdout).ok()?.trim().to_string();
    Some(PathBuf::from(dir))
}

/// The version of `name` in Cargo.lock, if the lock file lists it once.
fn locked_version(lock: &str, name: &str) -> Option<String> {
    let mut versions = lock.split("[[package]]").filter_map(|p| {
        let mut lines = p.lines().map(str::trim);
        let n = lines.find(|l| l.starts_with("name = "))?;
        if n != format!("name = \"{name}\"") {
            return None;
        }
        let v = lines.find(|l| l.starts_with("version = "))?;
        Some(
            v.trim_start_matches("version = ")
                .trim_matches('"')
                .to_string(),
        )
    });
    let first = versions.next()?;
    versions.next().is_none().then_some(first)
}

fn main() {
    // The language detector's version goes into the cache keys of detected
    // languages (src/cache.rs): another lingua may detect otherwise.
    println!("cargo:rerun-if-changed=Cargo.lock");
    let lock = std::fs::read_to_string("Cargo.lock").unwrap_or_default();
    let lingua = locked_version(&lock, "lingua").unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=VERBATIM_LINGUA_VERSION={lingua}");
    println!("cargo:rerun-if-env-changed=LIBTORCH");
    println!("cargo:rerun-if-env-changed=VIRTUAL_ENV");
    println!("cargo:rerun-if-changed=build.rs");
    match libtorch_lib_dir() {
        Some(dir) => {
            let dir = dir.canonicalize().unwrap_or(dir);
            println!("cargo:rustc-link-arg=-Wl,-rpath,{}", dir.display());
        }
        None => println!(
            "cargo:warning=libtorch not found: run scripts/setup.sh (or set LIBTORCH); \
             the binary will need LD_LIBRARY_PATH"
        ),
    }
}
