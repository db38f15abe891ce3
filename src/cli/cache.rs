//! `verbatim cache`: statistics and pruning of the embedding cache that
//! `verbatim analyze --cache` fills (see `src/model/cache.rs`).

use std::path::PathBuf;

use anyhow::Result;

use crate::exit_codes::{cache_error, ExitCode};
use crate::model::cache::{now, EmbeddingCache};

/// Inspect or prune the embedding cache of `analyze --cache`.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    pub command: CacheCommand,
}

/// The cache subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum CacheCommand {
    /// Rows, size on disk and rows per model.
    ///
    /// Example: verbatim cache stats --cache embeddings.sqlite
    #[command(verbatim_doc_comment)]
    Stats {
        /// The cache file.
        #[arg(long, env = "VERBATIM_CACHE")]
        cache: PathBuf,
    },
    /// Remove the vectors not used for a while, and say what went.
    ///
    /// Without --vacuum the file keeps its size and reuses the freed room;
    /// --vacuum gives it back to the disk (rewrites the file: slow for a large
    /// cache, and needs as much free space again while it runs).
    ///
    /// Example: verbatim cache prune --cache embeddings.sqlite --older-than 30d
    #[command(verbatim_doc_comment)]
    Prune {
        /// The cache file.
        #[arg(long, env = "VERBATIM_CACHE")]
        cache: PathBuf,
        /// Remove what was last used longer ago than this, e.g. 30d, 12h, 2weeks
        /// (last use is recorded to the hour).
        #[arg(long, value_parser = humantime::parse_duration)]
        older_than: std::time::Duration,
        /// Give the freed room back to the disk.
        #[arg(long)]
        vacuum: bool,
    },
}

fn open(path: &std::path::Path) -> Result<EmbeddingCache> {
    EmbeddingCache::open_existing(path).map_err(cache_error)
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

fn date(secs: Option<i64>) -> String {
    secs.and_then(|s| chrono::DateTime::from_timestamp(s, 0))
        .map_or("-".into(), |d| {
            d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        })
}

/// Runs `verbatim cache …`.
pub fn run(args: Args) -> Result<ExitCode> {
    match args.command {
        CacheCommand::Stats { cache } => {
            let c = open(&cache)?;
            let s = c.stats().map_err(cache_error)?;
            println!(
                "cache {} (layout version {})",
                cache.display(),
                s.schema_version
            );
            let languages: u64 = s
                .models
                .iter()
                .filter(|m| m.precision == crate::model::cache::LANGUAGE_PRECISION)
                .map(|m| m.rows)
                .sum();
            println!(
                "{} entries: {} vectors, {} detected languages; file {} + log {}, of which {} free",
                s.rows,
                s.rows - languages,
                languages,
                mib(s.file_bytes),
                mib(s.wal_bytes),
                mib(s.free_bytes)
            );
            for m in &s.models {
                if m.precision == crate::model::cache::LANGUAGE_PRECISION {
                    println!(
                        "  {}: {} comments, last used {} to {}",
                        m.name,
                        m.rows,
                        date(m.oldest_use),
                        date(m.newest_use)
                    );
                    continue;
                }
                println!(
                    "  {} {} (weights {}, prefix {:?}, dim {}): {} vectors, last used {} to {}",
                    m.name,
                    m.precision,
                    &m.weights_sha256[..m.weights_sha256.len().min(12)],
                    m.prefix,
                    m.dim,
                    m.rows,
                    date(m.oldest_use),
                    date(m.newest_use)
                );
            }
        }
        CacheCommand::Prune {
            cache,
            older_than,
            vacuum,
        } => {
            let c = open(&cache)?;
            let cutoff = now() - older_than.as_secs() as i64;
            let r = c.prune(cutoff).map_err(cache_error)?;
            println!(
                "removed {} entries (vectors and detected languages) last used before {} from {}; \
                 {} remain",
                r.total(),
                date(Some(cutoff)),
                cache.display(),
                r.remaining
            );
            for (name, precision, n) in &r.removed {
                println!("  {name} {precision}: {n}");
            }
            if vacuum {
                let before = c.stats().map_err(cache_error)?;
                c.vacuum().map_err(cache_error)?;
                let after = c.stats().map_err(cache_error)?;
                println!(
                    "vacuumed: file {} -> {}",
                    mib(before.file_bytes + before.wal_bytes),
                    mib(after.file_bytes + after.wal_bytes)
                );
            }
        }
    }
    Ok(ExitCode::Success)
}
