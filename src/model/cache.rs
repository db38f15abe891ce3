//! Embedding cache: nightly reruns over a growing export only pay the
//! encoder for the comments they have not seen.
//!
//! One SQLite file (through `rusqlite` with SQLite bundled, so no server and
//! no system library), safe to delete at any time: a missing file is made
//! again, and everything in it can be recomputed.
//!
//! # Keys
//!
//! A vector is only valid for the exact encoder that made it, so the key is
//! the SHA-256 of the model's weights checksum, the precision of the forward
//! pass (float32 and bfloat16 vectors differ), the input prefix (e5:
//! `query: `) and the text, Unicode NFC and trimmed. The vector stored is the
//! encoder's output as little-endian float32 bytes, so a hit returns exactly
//! the vector the encoder gave when the text was first embedded.
//!
//! # Layout, shaped for a rerun where everything hits
//!
//! - `embeddings`: one row per text, `id INTEGER PRIMARY KEY` = the first 8
//!   bytes of the key, so a lookup is one descent of the table's own B-tree
//!   (no separate index), with the whole 32-byte key stored and compared: in
//!   the rare case that two keys share 64 bits, the later text is simply not
//!   cached. A vector of 384 floats is 1.5 KiB, which fits a 4 KiB page of a
//!   rowid table without overflow pages (a `WITHOUT ROWID` table spills rows
//!   over about 1 KiB).
//! - `last_used`: `(id, model, at)`, narrow, apart from the vectors, so that
//!   recording a hit rewrites a few bytes and not the page of a vector. It is
//!   refreshed in bulk, once per [`Encoder::embed`] call, and only for rows
//!   whose time is older than [`REFRESH_SECS`]: a second run within the hour
//!   writes nothing. `verbatim cache prune --older-than` reads it.
//! - `models`: one row per (weights, precision, prefix), for the statistics.
//!
//! Detected languages live in the same tables under a `models` row of their
//! own ([`LANGUAGE_PRECISION`]), whose "weights" are the SHA-256 of the
//! detector's identity (lingua's version, the languages and the thresholds,
//! [`language::detector_identity`]); the stored value is the ISO code, empty
//! for none. On a rerun where every vector is a hit, detection would
//! otherwise be most of the time (lingua: about two thirds of a cached
//! rerun's CPU time before they were kept).
//! - `schema`: the layout version; `PRAGMA application_id` marks the file as
//!   a verbatim cache.
//!
//! # Crash safety and sharing
//!
//! WAL journal with `synchronous = NORMAL`: a process killed at any point
//! (SIGKILL included) leaves a file that opens with the last committed batch
//! in it; only a power cut can lose the last batches, never corrupt the file.
//! Each [`Encoder::embed`] call looks its texts up first (no lock held), then
//! writes what it embedded in one `BEGIN IMMEDIATE` transaction, so two runs
//! sharing a cache wait for each other's short transactions
//! ([`BUSY_TIMEOUT`]) instead of failing.
//!
//! # Bad files
//!
//! A file that is not a verbatim cache (another SQLite database, or not a
//! database at all) or a layout from a newer verbatim is refused with an
//! error that names the path and `--cache`; so is a cache that turns out to
//! be corrupt. The file is never moved or deleted behind the user's back:
//! it may be something else they gave by mistake.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use anyhow::{Context, Result};
use rusqlite::{params, Connection, OpenFlags, OptionalExtension, TransactionBehavior};
use sha2::{Digest, Sha256};
use unicode_normalization::{is_nfc_quick, IsNormalized, UnicodeNormalization};

use crate::model::{Encoder, WithTopics};
use crate::text::language;

/// Layout version written in the `schema` table.
pub const SCHEMA_VERSION: i64 = 1;

/// `PRAGMA application_id` of a verbatim cache ("VBEC").
pub const APPLICATION_ID: i32 = 0x5642_4543;

/// How long another run may hold the write lock before a write gives up.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(120);

/// A hit refreshes its last-used time only when that is older than this.
pub const REFRESH_SECS: i64 = 3600;

/// What went wrong with a cache file. Every message names the file and
/// `--cache`, and says what to do.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// Not a verbatim cache: another SQLite database, or no database.
    #[error(
        "--cache {path}: not a verbatim embedding cache ({why}); give another path, or delete \
         the file if it is an old cache"
    )]
    NotACache { path: String, why: String },
    /// Written by a newer verbatim.
    #[error(
        "--cache {path}: cache layout version {found} is newer than this verbatim's \
         ({SCHEMA_VERSION}); use a newer verbatim or another cache file"
    )]
    Newer { path: String, found: i64 },
    /// `verbatim cache stats/prune` on a file that does not exist.
    #[error("--cache {path}: no cache at this path")]
    Missing { path: String },
    /// Anything SQLite reports while opening or using the file.
    #[error(
        "--cache {path}: {what}: {source} (the cache can be deleted safely; the next run \
         with --cache makes a new one)"
    )]
    Sqlite {
        path: String,
        what: &'static str,
        source: rusqlite::Error,
    },
}

impl CacheError {
    /// Whether this is a wrong `--cache` value rather than a failure.
    pub fn is_usage(&self) -> bool {
        matches!(
            self,
            CacheError::NotACache { .. } | CacheError::Newer { .. } | CacheError::Missing { .. }
        )
    }
}

/// Which encoder made a vector: the part of the key that is not the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelSpec {
    /// sha256 of the weights (`FolderInfo::weights_sha256`).
    pub weights_sha256: String,
    /// Precision of the forward pass: `f32` or `bf16`.
    pub precision: String,
    /// Input prefix put before every text.
    pub prefix: String,
    /// A name for `verbatim cache stats`.
    pub name: String,
    /// Vector length.
    pub dim: usize,
}

impl ModelSpec {
    /// The spec of a loaded transformer; `prefix` is the one its options
    /// gave, else the folder's (the rule [`TransformerEncoder::load`] follows).
    ///
    /// [`TransformerEncoder::load`]: crate::model::transformer::TransformerEncoder::load
    pub fn of_transformer(
        encoder: &crate::model::transformer::TransformerEncoder,
        prefix: Option<&str>,
        weights_sha256: &str,
    ) -> ModelSpec {
        ModelSpec {
            weights_sha256: weights_sha256.to_string(),
            precision: precision_name(encoder.kind()),
            prefix: prefix.unwrap_or(&encoder.info().prefix).to_string(),
            name: encoder.name(),
            dim: encoder.dim(),
        }
    }
}

/// `f32`, `bf16`, or libtorch's name for another kind.
pub fn precision_name(kind: tch::Kind) -> String {
    match kind {
        tch::Kind::Float => "f32".into(),
        tch::Kind::BFloat16 => "bf16".into(),
        tch::Kind::Half => "f16".into(),
        other => format!("{other:?}").to_lowercase(),
    }
}

/// The text as keyed: NFC, without surrounding white space. Most comments
/// are already NFC, and those are not copied.
fn normalized(text: &str) -> std::borrow::Cow<'_, str> {
    let t = text.trim();
    if is_nfc_quick(t.chars()) == IsNormalized::Yes {
        std::borrow::Cow::Borrowed(t)
    } else {
        std::borrow::Cow::Owned(t.nfc().collect())
    }
}

/// Per model, what `verbatim cache stats` shows.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelStats {
    pub name: String,
    pub weights_sha256: String,
    pub precision: String,
    pub prefix: String,
    pub dim: usize,
    pub rows: u64,
    /// Unix seconds of the least and most recent use (none without rows).
    pub oldest_use: Option<i64>,
    pub newest_use: Option<i64>,
}

/// The whole cache, for `verbatim cache stats`.
#[derive(Debug, Clone, PartialEq)]
pub struct CacheStats {
    pub schema_version: i64,
    pub rows: u64,
    /// Bytes of the database file and of its write-ahead log.
    pub file_bytes: u64,
    pub wal_bytes: u64,
    /// Bytes of free pages inside the file (what `--vacuum` gives back).
    pub free_bytes: u64,
    pub models: Vec<ModelStats>,
}

/// What `verbatim cache prune` removed.
#[derive(Debug, Clone, PartialEq)]
pub struct PruneReport {
    /// Per model name and precision, rows removed.
    pub removed: Vec<(String, String, u64)>,
    pub remaining: u64,
}

impl PruneReport {
    /// Rows removed in all.
    pub fn total(&self) -> u64 {
        self.removed.iter().map(|r| r.2).sum()
    }
}

/// An open cache file.
pub struct EmbeddingCache {
    conn: Mutex<Connection>,
    path: PathBuf,
}

/// One text looked up: its stored value (a vector, or a language).
enum Found<T> {
    Hit {
        value: T,
        stale: bool,
    },
    Miss,
    /// Another key holds this id: embed, do not store.
    Taken,
}

const CREATE: &str = "
CREATE TABLE schema (version INTEGER NOT NULL, created_by TEXT NOT NULL, created_at INTEGER NOT NULL);
CREATE TABLE models (
    id INTEGER PRIMARY KEY,
    weights_sha256 TEXT NOT NULL,
    precision TEXT NOT NULL,
    prefix TEXT NOT NULL,
    name TEXT NOT NULL,
    dim INTEGER NOT NULL,
    UNIQUE (weights_sha256, precision, prefix)
);
CREATE TABLE embeddings (
    id INTEGER PRIMARY KEY,
    key BLOB NOT NULL,
    model INTEGER NOT NULL,
    vector BLOB NOT NULL
);
CREATE TABLE last_used (id INTEGER PRIMARY KEY, model INTEGER NOT NULL, at INTEGER NOT NULL);
";

impl EmbeddingCache {
    /// Opens the cache at `path`, making a new one when the file does not
    /// exist (or is empty).
    pub fn open(path: &Path) -> Result<EmbeddingCache, CacheError> {
        Self::open_inner(path, true)
    }

    /// Opens an existing cache (for `verbatim cache stats` and `prune`).
    pub fn open_existing(path: &Path) -> Result<EmbeddingCache, CacheError> {
        if !path.exists() {
            return Err(CacheError::Missing {
                path: path.display().to_string(),
            });
        }
        Self::open_inner(path, false)
    }

    fn open_inner(path: &Path, create: bool) -> Result<EmbeddingCache, CacheError> {
        let shown = path.display().to_string();
        let sql = |what: &'static str| {
            let path = shown.clone();
            move |source| CacheError::Sqlite { path, what, source }
        };
        if path.is_dir() {
            return Err(CacheError::NotACache {
                path: shown,
                why: "it is a folder".into(),
            });
        }
        if !path.exists() {
            // A log left by a cache that was deleted would be replayed into
            // the new file; it belongs to nothing now.
            for ext in ["-wal", "-shm"] {
                let mut p = path.as_os_str().to_owned();
                p.push(ext);
                let _ = std::fs::remove_file(PathBuf::from(p));
            }
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | if create {
                OpenFlags::SQLITE_OPEN_CREATE
            } else {
                OpenFlags::empty()
            };
        let conn = Connection::open_with_flags(path, flags).map_err(sql("opening the file"))?;
        conn.busy_timeout(BUSY_TIMEOUT)
            .map_err(sql("setting the busy timeout"))?;
        let not_db = |e: rusqlite::Error| match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::NotADatabase) => CacheError::NotACache {
                path: shown.clone(),
                why: "not an SQLite database".into(),
            },
            _ => CacheError::Sqlite {
                path: shown.clone(),
                what: "reading the header",
                source: e,
            },
        };
        let app: i32 = conn
            .pragma_query_value(None, "application_id", |r| r.get(0))
            .map_err(not_db)?;
        let objects: i64 = conn
            .query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))
            .map_err(not_db)?;
        if app != APPLICATION_ID && (app != 0 || objects > 0) {
            return Err(CacheError::NotACache {
                path: shown,
                why: "an SQLite database of something else".into(),
            });
        }
        conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get::<_, String>(0))
            .map_err(sql("switching to the WAL journal"))?;
        conn.execute_batch(
            // No memory map: a rerun over 1M cached rows was 11% faster
            // with one (40.5 s against 45.3 s), but every page it touched
            // counted in the process's memory (peak RSS 3.3 GiB against
            // 1.3 GiB), and a batch job's memory limit counts it too.
            "PRAGMA synchronous = NORMAL; PRAGMA cache_size = -65536; PRAGMA temp_store = MEMORY;",
        )
        .map_err(sql("setting the pragmas"))?;
        let mut cache = EmbeddingCache {
            conn: Mutex::new(conn),
            path: path.to_path_buf(),
        };
        prefetch(path);
        if app != APPLICATION_ID {
            cache.create_schema()?;
        }
        let version: Option<i64> = cache
            .conn()
            .query_row("SELECT max(version) FROM schema", [], |r| r.get(0))
            .map_err(sql("reading the layout version"))?;
        match version {
            Some(v) if v > SCHEMA_VERSION => Err(CacheError::Newer {
                path: shown,
                found: v,
            }),
            Some(_) => Ok(cache),
            None => Err(CacheError::NotACache {
                path: shown,
                why: "its layout version is missing".into(),
            }),
        }
    }

    /// Makes the tables of a new file; another process may be making them
    /// at the same moment, so it checks again under the write lock.
    fn create_schema(&mut self) -> Result<(), CacheError> {
        let path = self.path.display().to_string();
        let conn = self.conn.get_mut().unwrap_or_else(|e| e.into_inner());
        let err = |source| CacheError::Sqlite {
            path: path.clone(),
            what: "making a new cache",
            source,
        };
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(err)?;
        let app: i32 = tx
            .pragma_query_value(None, "application_id", |r| r.get(0))
            .map_err(err)?;
        if app != APPLICATION_ID {
            tx.execute_batch(CREATE).map_err(err)?;
            tx.execute(
                "INSERT INTO schema (version, created_by, created_at) VALUES (?1, ?2, ?3)",
                params![
                    SCHEMA_VERSION,
                    format!("verbatim {}", env!("CARGO_PKG_VERSION")),
                    now()
                ],
            )
            .map_err(err)?;
            tx.pragma_update(None, "application_id", APPLICATION_ID)
                .map_err(err)?;
        }
        tx.commit().map_err(err)
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn err(&self, what: &'static str) -> impl Fn(rusqlite::Error) -> CacheError + '_ {
        move |source| CacheError::Sqlite {
            path: self.path.display().to_string(),
            what,
            source,
        }
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The id of `spec` in the `models` table, added when new.
    fn model_id(&self, spec: &ModelSpec) -> Result<i64, CacheError> {
        let conn = self.conn();
        conn.execute(
            "INSERT OR IGNORE INTO models (weights_sha256, precision, prefix, name, dim) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                spec.weights_sha256,
                spec.precision,
                spec.prefix,
                spec.name,
                spec.dim as i64
            ],
        )
        .map_err(self.err("adding the model"))?;
        conn.query_row(
            "SELECT id FROM models WHERE weights_sha256 = ?1 AND precision = ?2 AND prefix = ?3",
            params![spec.weights_sha256, spec.precision, spec.prefix],
            |r| r.get(0),
        )
        .map_err(self.err("reading the model"))
    }

    /// Looks up `keys` (distinct), with one prepared statement; `decode`
    /// reads a stored value or says why it cannot.
    fn lookup<T>(
        &self,
        keys: &[[u8; 32]],
        now: i64,
        decode: impl Fn(&[u8]) -> Result<T, String>,
    ) -> Result<Vec<Found<T>>, CacheError> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached(
                "SELECT e.key, e.vector, u.at FROM embeddings e \
                 LEFT JOIN last_used u ON u.id = e.id WHERE e.id = ?1",
            )
            .map_err(self.err("looking up texts"))?;
        // In rowid order, so that neighbouring lookups share pages.
        let mut order: Vec<usize> = (0..keys.len()).collect();
        order.sort_unstable_by_key(|&i| id_of(&keys[i]));
        let mut out: Vec<Option<Found<T>>> = (0..keys.len()).map(|_| None).collect();
        for i in order {
            let key = &keys[i];
            let row = stmt
                .query_row([id_of(key)], |r| {
                    let stored = r.get_ref(0)?.as_blob()?;
                    if stored != key {
                        return Ok(Found::Taken);
                    }
                    let bytes = r.get_ref(1)?.as_blob()?;
                    let at: Option<i64> = r.get(2)?;
                    let value = decode(bytes).map_err(|why| {
                        rusqlite::Error::FromSqlConversionFailure(
                            1,
                            rusqlite::types::Type::Blob,
                            why.into(),
                        )
                    })?;
                    Ok(Found::Hit {
                        value,
                        stale: at.is_none_or(|at| at < now - REFRESH_SECS),
                    })
                })
                .optional()
                .map_err(self.err("reading a stored vector"))?;
            out[i] = Some(row.unwrap_or(Found::Miss));
        }
        Ok(out.into_iter().map(|f| f.unwrap_or(Found::Miss)).collect())
    }

    /// Stores new vectors and refreshes the last-used time of `touched`, in
    /// one transaction.
    fn store(
        &self,
        model: i64,
        new: &[([u8; 32], Vec<u8>)],
        touched: &[[u8; 32]],
        now: i64,
    ) -> Result<(), CacheError> {
        if new.is_empty() && touched.is_empty() {
            return Ok(());
        }
        let mut conn = self.conn();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(self.err("starting a write"))?;
        {
            let mut insert = tx
                .prepare_cached(
                    "INSERT OR IGNORE INTO embeddings (id, key, model, vector) VALUES (?1, ?2, ?3, ?4)",
                )
                .map_err(self.err("storing vectors"))?;
            let mut used = tx
                .prepare_cached(
                    "INSERT INTO last_used (id, model, at) VALUES (?1, ?2, ?3) \
                     ON CONFLICT (id) DO UPDATE SET at = max(at, excluded.at)",
                )
                .map_err(self.err("storing vectors"))?;
            for (key, bytes) in new {
                let id = id_of(key);
                let added = insert
                    .execute(params![id, &key[..], model, bytes])
                    .map_err(self.err("storing vectors"))?;
                if added == 1 {
                    used.execute(params![id, model, now])
                        .map_err(self.err("storing vectors"))?;
                }
            }
            for key in touched {
                used.execute(params![id_of(key), model, now])
                    .map_err(self.err("recording use"))?;
            }
        }
        tx.commit().map_err(self.err("committing"))
    }

    /// Rows, sizes and rows per model.
    pub fn stats(&self) -> Result<CacheStats, CacheError> {
        let conn = self.conn();
        let e = self.err("reading statistics");
        let schema_version = conn
            .query_row("SELECT max(version) FROM schema", [], |r| r.get(0))
            .map_err(&e)?;
        let mut stmt = conn
            .prepare(
                "SELECT m.name, m.weights_sha256, m.precision, m.prefix, m.dim, \
                 count(u.id), min(u.at), max(u.at) \
                 FROM models m LEFT JOIN last_used u ON u.model = m.id \
                 GROUP BY m.id ORDER BY m.name, m.precision, m.weights_sha256",
            )
            .map_err(&e)?;
        let models = stmt
            .query_map([], |r| {
                Ok(ModelStats {
                    name: r.get(0)?,
                    weights_sha256: r.get(1)?,
                    precision: r.get(2)?,
                    prefix: r.get(3)?,
                    dim: r.get::<_, i64>(4)? as usize,
                    rows: r.get::<_, i64>(5)? as u64,
                    oldest_use: r.get(6)?,
                    newest_use: r.get(7)?,
                })
            })
            .map_err(&e)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(&e)?;
        let free_pages: i64 = conn
            .pragma_query_value(None, "freelist_count", |r| r.get(0))
            .map_err(&e)?;
        let page_size: i64 = conn
            .pragma_query_value(None, "page_size", |r| r.get(0))
            .map_err(&e)?;
        let size = |p: &Path| std::fs::metadata(p).map_or(0, |m| m.len());
        let mut wal = self.path.as_os_str().to_owned();
        wal.push("-wal");
        Ok(CacheStats {
            schema_version,
            rows: models.iter().map(|m| m.rows).sum(),
            file_bytes: size(&self.path),
            wal_bytes: size(Path::new(&wal)),
            free_bytes: (free_pages * page_size) as u64,
            models,
        })
    }

    /// Removes the vectors last used before `cutoff` (unix seconds). The
    /// rows of `models` stay (a few bytes each): a run may be using them.
    pub fn prune(&self, cutoff: i64) -> Result<PruneReport, CacheError> {
        let mut conn = self.conn();
        let path = self.path.display().to_string();
        let e = |source| CacheError::Sqlite {
            path: path.clone(),
            what: "pruning",
            source,
        };
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(e)?;
        let removed = {
            let mut stmt = tx
                .prepare(
                    "SELECT m.name, m.precision, count(*) FROM last_used u \
                     JOIN models m ON m.id = u.model WHERE u.at < ?1 \
                     GROUP BY m.id ORDER BY m.name, m.precision",
                )
                .map_err(e)?;
            let rows = stmt
                .query_map([cutoff], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get::<_, i64>(2)? as u64))
                })
                .map_err(e)?;
            rows.collect::<Result<Vec<_>, _>>().map_err(e)?
        };
        tx.execute(
            "DELETE FROM embeddings WHERE id IN (SELECT id FROM last_used WHERE at < ?1)",
            [cutoff],
        )
        .map_err(e)?;
        tx.execute("DELETE FROM last_used WHERE at < ?1", [cutoff])
            .map_err(e)?;
        let remaining: i64 = tx
            .query_row("SELECT count(*) FROM last_used", [], |r| r.get(0))
            .map_err(e)?;
        tx.commit().map_err(e)?;
        Ok(PruneReport {
            removed,
            remaining: remaining as u64,
        })
    }

    /// Gives the free pages back to the file system and empties the log.
    pub fn vacuum(&self) -> Result<(), CacheError> {
        let conn = self.conn();
        conn.execute_batch("VACUUM; PRAGMA wal_checkpoint(TRUNCATE);")
            .map_err(self.err("vacuuming"))
    }
}

/// Asks the kernel to read the cache file into its page cache, in the
/// background, when the file takes less than half of the memory available.
/// A rerun looks up every text, and keys are hashes, so its reads land all
/// over the file: from a cold page cache each would be a random disk read
/// (a 1M-row rerun took 67 s cold against 37 s warm before this).
fn prefetch(path: &Path) {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        let Ok(file) = std::fs::File::open(path) else {
            return;
        };
        let Some(len) = file.metadata().ok().map(|m| m.len()) else {
            return;
        };
        let available = std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|m| {
                m.lines()
                    .find_map(|l| l.strip_prefix("MemAvailable:"))
                    .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            })
            .map(|kib| kib * 1024);
        if len == 0 || available.is_none_or(|a| len > a / 2) || mostly_cached(&file, len) {
            return;
        }
        // One sequential read on a thread of its own (posix_fadvise's
        // WILLNEED reads only the first megabytes): 2.7 GiB took 7 s from
        // disk, and far less when the pages are cached already.
        std::thread::spawn(move || {
            use std::io::Read;
            // SAFETY: the descriptor is open for the whole call.
            unsafe { libc::posix_fadvise(file.as_raw_fd(), 0, 0, libc::POSIX_FADV_SEQUENTIAL) };
            let mut file = file;
            let mut buf = vec![0u8; 1 << 20];
            while matches!(file.read(&mut buf), Ok(n) if n > 0) {}
        });
    }
    #[cfg(not(target_os = "linux"))]
    let _ = path;
}

/// Whether at least 90% of `file`'s pages are in the page cache already
/// (`mincore` on a read-only mapping; no page is read to find out).
#[cfg(target_os = "linux")]
fn mostly_cached(file: &std::fs::File, len: u64) -> bool {
    use std::os::fd::AsRawFd;
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) }.max(1) as u64;
    let pages = len.div_ceil(page) as usize;
    // SAFETY: a private read-only mapping of an open file, unmapped below;
    // mincore writes one byte per page into a buffer of that many bytes.
    unsafe {
        let addr = libc::mmap(
            std::ptr::null_mut(),
            len as usize,
            libc::PROT_READ,
            libc::MAP_PRIVATE,
            file.as_raw_fd(),
            0,
        );
        if addr == libc::MAP_FAILED {
            return false;
        }
        let mut resident = vec![0u8; pages];
        let ok = libc::mincore(addr, len as usize, resident.as_mut_ptr()) == 0;
        libc::munmap(addr, len as usize);
        ok && resident.iter().filter(|&&b| b & 1 == 1).count() * 10 >= pages * 9
    }
}

/// The rowid of a key: its first 8 bytes.
fn id_of(key: &[u8; 32]) -> i64 {
    i64::from_le_bytes(key[..8].try_into().expect("8 bytes"))
}

/// Unix seconds now.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Hits and misses of a [`CachedEncoder`] so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheCounts {
    /// Distinct texts (per call) found in the cache.
    pub hits: u64,
    /// Distinct texts (per call) the inner encoder embedded.
    pub misses: u64,
}

/// The `precision` of the `models` row that holds detected languages.
pub const LANGUAGE_PRECISION: &str = "language";

/// One kind of per-text result in the cache: its row in `models` and the
/// hash state of the key before the text.
struct Store {
    model: i64,
    seed: Sha256,
}

impl Store {
    fn new(cache: &EmbeddingCache, spec: &ModelSpec) -> Result<Store, CacheError> {
        let model = cache.model_id(spec)?;
        let mut seed = Sha256::new();
        for part in [
            "verbatim embedding cache 1",
            &spec.weights_sha256,
            &spec.precision,
            &spec.prefix,
        ] {
            seed.update((part.len() as u64).to_le_bytes());
            seed.update(part.as_bytes());
        }
        Ok(Store { model, seed })
    }

    fn key(&self, text: &str) -> [u8; 32] {
        let mut h = self.seed.clone();
        // Keyed by what the encoder reads: a shouted text and its lowered
        // form are one input (crate::text::shouting), and a vector stored
        // before the lowering is never read for a shouted text.
        h.update(normalized(&crate::text::shouting::calm(text)).as_bytes());
        h.finalize().into()
    }
}

/// The `models` row of detected languages: what decides a detection
/// ([`language::detector_identity`]) stands where a model's weights do.
fn language_spec() -> ModelSpec {
    let identity = language::detector_identity();
    ModelSpec {
        weights_sha256: crate::model::manifest::sha256_bytes(identity.as_bytes()),
        precision: LANGUAGE_PRECISION.into(),
        prefix: String::new(),
        name: format!("language detection ({identity})"),
        dim: 0,
    }
}

/// An [`Encoder`] that answers from an [`EmbeddingCache`] and sends only
/// the texts it has not seen to `inner`, in one call. It keeps the
/// detected language of each comment too ([`Encoder::languages`]): on a
/// rerun where every vector is a hit, detection would otherwise take most
/// of the time.
pub struct CachedEncoder<'a> {
    inner: &'a dyn Encoder,
    cache: &'a EmbeddingCache,
    vectors: Store,
    /// Vector and topic probabilities together, of an encoder with a
    /// fine-tuned topic branch ([`CachedEncoder::with_topic_branch`]).
    with_topics: Option<Store>,
    /// What `vectors` was made from, for `with_topics`.
    spec: ModelSpec,
    /// Made on the first call of [`Encoder::languages`].
    languages: std::sync::OnceLock<Store>,
    dim: usize,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl<'a> CachedEncoder<'a> {
    /// Wraps `inner`, whose vectors `spec` describes.
    pub fn new(
        inner: &'a dyn Encoder,
        cache: &'a EmbeddingCache,
        spec: &ModelSpec,
    ) -> Result<CachedEncoder<'a>, CacheError> {
        Ok(CachedEncoder {
            inner,
            cache,
            vectors: Store::new(cache, spec)?,
            with_topics: None,
            spec: spec.clone(),
            languages: std::sync::OnceLock::new(),
            dim: inner.dim(),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        })
    }

    /// Keeps the topic probabilities of `inner`'s fine-tuned topic branch
    /// too, stored with each vector under a key that names the branch's
    /// weights (`branch_sha256`): a rerun with the same `--topic-model`
    /// sends only new texts through the encoder; another branch misses.
    pub fn with_topic_branch(
        mut self,
        branch_sha256: &str,
    ) -> Result<CachedEncoder<'a>, CacheError> {
        let spec = ModelSpec {
            weights_sha256: format!("{}+topics:{branch_sha256}", self.spec.weights_sha256),
            precision: self.spec.precision.clone(),
            prefix: self.spec.prefix.clone(),
            name: format!("{} with fine-tuned topics", self.spec.name),
            dim: self.spec.dim,
        };
        self.with_topics = Some(Store::new(self.cache, &spec)?);
        Ok(self)
    }

    /// The cache key of `text` for this model.
    pub fn key(&self, text: &str) -> [u8; 32] {
        self.vectors.key(text)
    }

    /// Hits and misses of vectors so far.
    pub fn counts(&self) -> CacheCounts {
        CacheCounts {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
        }
    }

    /// The cache file.
    pub fn path(&self) -> &Path {
        self.cache.path()
    }

    /// One value per text: distinct keys are looked up, `compute` gets the
    /// texts of the misses (the first text of each key) in one call, and
    /// what it returns is stored. Returns the values and the hits.
    fn through<T: Clone>(
        &self,
        store: &Store,
        texts: &[&str],
        compute: impl FnOnce(&[&str]) -> Result<Vec<T>>,
        encode: impl Fn(&T) -> Vec<u8>,
        decode: impl Fn(&[u8]) -> Result<T, String>,
    ) -> Result<(Vec<T>, u64)> {
        let now = now();
        // Distinct keys, each with the first text that has it.
        let mut slot_of = Vec::with_capacity(texts.len());
        let mut keys: Vec<[u8; 32]> = Vec::new();
        let mut first: Vec<usize> = Vec::new();
        let mut seen: HashMap<[u8; 32], usize> = HashMap::with_capacity(texts.len());
        for (i, t) in texts.iter().enumerate() {
            let key = store.key(t);
            let slot = *seen.entry(key).or_insert_with(|| {
                keys.push(key);
                first.push(i);
                keys.len() - 1
            });
            slot_of.push(slot);
        }
        let found = self.cache.lookup(&keys, now, decode)?;
        let mut values: Vec<Option<T>> = Vec::with_capacity(keys.len());
        let (mut missing, mut stale) = (Vec::new(), Vec::new());
        for (slot, f) in found.into_iter().enumerate() {
            match f {
                Found::Hit { value, stale: s } => {
                    if s {
                        stale.push(keys[slot]);
                    }
                    values.push(Some(value));
                }
                Found::Miss | Found::Taken => {
                    missing.push((slot, matches!(f, Found::Miss)));
                    values.push(None);
                }
            }
        }
        let hits = (keys.len() - missing.len()) as u64;
        let miss_texts: Vec<&str> = missing.iter().map(|&(s, _)| texts[first[s]]).collect();
        let computed = if miss_texts.is_empty() {
            Vec::new()
        } else {
            compute(&miss_texts)?
        };
        anyhow::ensure!(
            computed.len() == miss_texts.len(),
            "{} results for {} texts",
            computed.len(),
            miss_texts.len()
        );
        let new: Vec<([u8; 32], Vec<u8>)> = missing
            .iter()
            .zip(&computed)
            .filter(|((_, storable), _)| *storable)
            .map(|(&(s, _), v)| (keys[s], encode(v)))
            .collect();
        self.cache.store(store.model, &new, &stale, now)?;
        for (&(s, _), v) in missing.iter().zip(computed) {
            values[s] = Some(v);
        }
        Ok((
            slot_of
                .into_iter()
                .map(|s| values[s].clone().expect("every slot is filled"))
                .collect(),
            hits,
        ))
    }
}

impl Encoder for CachedEncoder<'_> {
    fn name(&self) -> String {
        self.inner.name()
    }

    /// With a fine-tuned topic branch, vectors and topic probabilities
    /// come from the store [`CachedEncoder::with_topic_branch`] made; without
    /// that store the inner encoder runs every text.
    fn embed_with_topics(&self, texts: &[&str]) -> Result<WithTopics> {
        if !self.inner.has_topic_branch() {
            return Ok((self.embed(texts)?, None));
        }
        let Some(store) = &self.with_topics else {
            return self.inner.embed_with_topics(texts);
        };
        let dim = self.dim;
        let mut misses = 0;
        let (both, hits) = self.through(
            store,
            texts,
            |miss| {
                misses = miss.len() as u64;
                let (vectors, probs) = self.inner.embed_with_topics(miss)?;
                let probs = probs.context("the encoder's topic branch gave no probabilities")?;
                anyhow::ensure!(
                    vectors.iter().all(|v| v.len() == dim),
                    "the encoder returned vectors of another dimension than {dim}"
                );
                Ok(vectors.into_iter().zip(probs).collect())
            },
            |(v, p): &(Vec<f32>, Vec<f32>)| {
                v.iter().chain(p).flat_map(|x| x.to_le_bytes()).collect()
            },
            |bytes| {
                if bytes.len() < dim * 4 || bytes.len() % 4 != 0 {
                    return Err(format!(
                        "a stored vector with topic probabilities has {} bytes where \
                         dimension {dim} needs at least {}",
                        bytes.len(),
                        dim * 4
                    ));
                }
                let all = le_f32s(bytes);
                Ok((all[..dim].to_vec(), all[dim..].to_vec()))
            },
        )?;
        self.hits.fetch_add(hits, Ordering::Relaxed);
        self.misses.fetch_add(misses, Ordering::Relaxed);
        let (vectors, probs) = both.into_iter().unzip();
        Ok((vectors, Some(probs)))
    }

    fn has_topic_branch(&self) -> bool {
        self.inner.has_topic_branch()
    }

    fn dim(&self) -> usize {
        self.dim
    }

    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        let dim = self.dim;
        let mut misses = 0;
        let (vectors, hits) = self.through(
            &self.vectors,
            texts,
            |miss| {
                misses = miss.len() as u64;
                let embedded = self.inner.embed(miss)?;
                anyhow::ensure!(
                    embedded.iter().all(|v| v.len() == dim),
                    "the encoder returned vectors of another dimension than {dim}"
                );
                Ok(embedded)
            },
            |v: &Vec<f32>| v.iter().flat_map(|x| x.to_le_bytes()).collect(),
            |bytes| {
                if bytes.len() != dim * 4 {
                    return Err(format!(
                        "a stored vector has {} bytes where dimension {dim} needs {}",
                        bytes.len(),
                        dim * 4
                    ));
                }
                Ok(le_f32s(bytes))
            },
        )?;
        self.hits.fetch_add(hits, Ordering::Relaxed);
        self.misses.fetch_add(misses, Ordering::Relaxed);
        Ok(vectors)
    }

    fn languages(&self, texts: &[&str]) -> Result<Vec<Option<&'static str>>> {
        let store = match self.languages.get() {
            Some(s) => s,
            None => {
                let s = Store::new(self.cache, &language_spec())?;
                self.languages.get_or_init(|| s)
            }
        };
        // Texts too short to have a language are not worth a lookup.
        let short = |t: &str| t.len() < language::MIN_LETTERS;
        let long: Vec<&str> = texts.iter().copied().filter(|t| !short(t)).collect();
        let (found, _) = self.through(
            store,
            &long,
            |miss| self.inner.languages(miss),
            |l: &Option<&'static str>| l.unwrap_or("").as_bytes().to_vec(),
            |bytes| match bytes {
                [] => Ok(None),
                code => std::str::from_utf8(code)
                    .ok()
                    .and_then(language::known)
                    .map(Some)
                    .ok_or_else(|| format!("a stored language {code:?} is not one of verbatim's")),
            },
        )?;
        let mut found = found.into_iter();
        Ok(texts
            .iter()
            .map(|t| {
                if short(t) {
                    None
                } else {
                    found.next().expect("one per long text")
                }
            })
            .collect())
    }
}

/// Little-endian f32s, as the cache stores vectors and probabilities (the
/// caller checks the length).
fn le_f32s(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    /// Vectors from the bytes of the text; counts the texts it embeds.
    struct Counting {
        calls: AtomicUsize,
        texts: AtomicUsize,
    }

    impl Counting {
        fn new() -> Counting {
            Counting {
                calls: AtomicUsize::new(0),
                texts: AtomicUsize::new(0),
            }
        }
    }

    impl Encoder for Counting {
        fn name(&self) -> String {
            "counting".into()
        }
        fn dim(&self) -> usize {
            3
        }
        fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
            self.calls.fetch_add(1, Ordering::Relaxed);
            self.texts.fetch_add(texts.len(), Ordering::Relaxed);
            Ok(texts
                .iter()
                .map(|t| {
                    let b = t.as_bytes();
                    vec![b.len() as f32, *b.first().unwrap_or(&0) as f32 / 7.0, 0.1]
                })
                .collect())
        }
    }

    fn spec(precision: &str) -> ModelSpec {
        ModelSpec {
            weights_sha256: "ab".repeat(32),
            precision: precision.into(),
            prefix: "query: ".into(),
            name: "counting".into(),
            dim: 3,
        }
    }

    /// [`Counting`] with a topic branch: two probabilities per text, the
    /// second from `bias`, so two branches give different values.
    struct Branched {
        inner: Counting,
        bias: f32,
    }

    impl Encoder for Branched {
        fn name(&self) -> String {
            "branched".into()
        }
        fn dim(&self) -> usize {
            3
        }
        fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
            self.inner.embed(texts)
        }
        fn embed_with_topics(&self, texts: &[&str]) -> Result<WithTopics> {
            let vectors = self.inner.embed(texts)?;
            let probs = texts
                .iter()
                .map(|t| vec![1.0 / (1.0 + t.len() as f32), self.bias])
                .collect();
            Ok((vectors, Some(probs)))
        }
        fn has_topic_branch(&self) -> bool {
            true
        }
    }

    #[test]
    fn topic_probabilities_are_kept_per_branch_and_come_back_exactly() {
        let dir = tempfile::tempdir().unwrap();
        let cache = EmbeddingCache::open(&dir.path().join("c.sqlite")).unwrap();
        let a = Branched {
            inner: Counting::new(),
            bias: 0.3,
        };
        let texts = ["ab", "c", "ab"];
        let want = a.embed_with_topics(&texts).unwrap();
        let before = a.inner.texts.load(Ordering::Relaxed);
        let run = |enc: &Branched, branch: &str| {
            let cached = CachedEncoder::new(enc, &cache, &spec("f32"))
                .unwrap()
                .with_topic_branch(branch)
                .unwrap();
            (cached.embed_with_topics(&texts).unwrap(), cached.counts())
        };
        // First run: the two distinct texts are embedded; the rerun (a new
        // run on the same file) embeds nothing and gives the same values.
        let (first, counts) = run(&a, "branch-a");
        assert_eq!(counts, CacheCounts { hits: 0, misses: 2 });
        assert_eq!(first, want);
        let (again, counts) = run(&a, "branch-a");
        assert_eq!(counts, CacheCounts { hits: 2, misses: 0 });
        assert_eq!(again, want);
        assert_eq!(a.inner.texts.load(Ordering::Relaxed), before + 2);
        // Another branch's probabilities are never taken for these.
        let b = Branched {
            inner: Counting::new(),
            bias: 0.9,
        };
        let (other, counts) = run(&b, "branch-b");
        assert_eq!(counts, CacheCounts { hits: 0, misses: 2 });
        assert_eq!(other.1.unwrap()[0][1], 0.9);
        // The plain vectors of the same encoder are a store of their own.
        let plain = CachedEncoder::new(&a, &cache, &spec("f32")).unwrap();
        plain.embed(&texts).unwrap();
        assert_eq!(plain.counts(), CacheCounts { hits: 0, misses: 2 });
    }

    #[test]
    fn only_misses_reach_the_encoder_and_vectors_come_back_exactly_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let cache = EmbeddingCache::open(&dir.path().join("c.sqlite")).unwrap();
        let inner = Counting::new();
        let enc = CachedEncoder::new(&inner, &cache, &spec("f32")).unwrap();
        let first = enc.embed(&["ab", "c", "ab"]).unwrap();
        assert_eq!(inner.texts.load(Ordering::Relaxed), 2);
        assert_eq!(first, inner.embed(&["ab", "c", "ab"]).unwrap());
        let before = inner.texts.load(Ordering::Relaxed);
        // NFC and trimming: "é" precomposed and decomposed are one key.
        let again = enc.embed(&["c", " ab ", "\u{e9}", "e\u{301}"]).unwrap();
        assert_eq!(inner.texts.load(Ordering::Relaxed), before + 1);
        assert_eq!(again[0], first[1]);
        assert_eq!(again[1], first[0]);
        assert_eq!(again[2], again[3]);
        assert_eq!(enc.counts(), CacheCounts { hits: 2, misses: 3 });
        // An all-hit call does not call the encoder at all.
        let calls = inner.calls.load(Ordering::Relaxed);
        enc.embed(&["ab", "c"]).unwrap();
        assert_eq!(inner.calls.load(Ordering::Relaxed), calls);
    }

    /// Languages from a fixed table; counts the texts it is asked about.
    struct Languages {
        asked: AtomicUsize,
    }

    impl Encoder for Languages {
        fn name(&self) -> String {
            "languages".into()
        }
        fn dim(&self) -> usize {
            3
        }
        fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
            Ok(texts.iter().map(|_| vec![1.0, 0.0, 0.0]).collect())
        }
        fn languages(&self, texts: &[&str]) -> Result<Vec<Option<&'static str>>> {
            self.asked.fetch_add(texts.len(), Ordering::Relaxed);
            Ok(texts
                .iter()
                .map(|t| match t.trim() {
                    t if t.starts_with("Die ") => Some("de"),
                    t if t.starts_with("The ") => Some("en"),
                    _ => None,
                })
                .collect())
        }
    }

    #[test]
    fn languages_are_kept_and_only_new_comments_are_detected() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.sqlite");
        let texts = [
            "Die Hotline war gut",
            "The hotline was fine",
            "something unclear here",
            "ok",
            "The hotline was fine",
        ];
        let expected = [Some("de"), Some("en"), None, None, Some("en")];
        let inner = Languages {
            asked: AtomicUsize::new(0),
        };
        {
            let cache = EmbeddingCache::open(&path).unwrap();
            let enc = CachedEncoder::new(&inner, &cache, &spec("f32")).unwrap();
            assert_eq!(enc.languages(&texts).unwrap(), expected);
            // "ok" is too short to ask; the repeated text is asked once.
            assert_eq!(inner.asked.load(Ordering::Relaxed), 3);
        }
        let cache = EmbeddingCache::open(&path).unwrap();
        let enc = CachedEncoder::new(&inner, &cache, &spec("bf16")).unwrap();
        // Another model, the same languages: detection does not depend on it.
        let again = [
            " The hotline was fine ",
            "Die Hotline war gut",
            "Neu hier, alles gut",
        ];
        assert_eq!(
            enc.languages(&again).unwrap(),
            [Some("en"), Some("de"), None]
        );
        assert_eq!(inner.asked.load(Ordering::Relaxed), 4, "only the new text");
        assert_eq!(
            enc.counts(),
            CacheCounts::default(),
            "no vector was looked up"
        );
        let stats = cache.stats().unwrap();
        let lang = stats
            .models
            .iter()
            .find(|m| m.precision == LANGUAGE_PRECISION)
            .expect("a language row");
        assert_eq!(lang.rows, 4);
        assert!(lang.name.contains("lingua"), "{}", lang.name);
    }

    #[test]
    fn vectors_survive_reopening_bit_for_bit_and_precisions_are_apart() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.sqlite");
        let odd = [f32::MIN_POSITIVE / 3.0, -0.0, 1.0 / 3.0];
        struct Fixed([f32; 3]);
        impl Encoder for Fixed {
            fn name(&self) -> String {
                "fixed".into()
            }
            fn dim(&self) -> usize {
                3
            }
            fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
                Ok(texts.iter().map(|_| self.0.to_vec()).collect())
            }
        }
        {
            let cache = EmbeddingCache::open(&path).unwrap();
            let inner = Fixed(odd);
            let enc = CachedEncoder::new(&inner, &cache, &spec("f32")).unwrap();
            enc.embed(&["x"]).unwrap();
        }
        let cache = EmbeddingCache::open(&path).unwrap();
        let nines = Fixed([9.0; 3]);
        let enc = CachedEncoder::new(&nines, &cache, &spec("f32")).unwrap();
        let got = enc.embed(&["x"]).unwrap();
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&got[0]), bits(&odd));
        let bf16 = CachedEncoder::new(&nines, &cache, &spec("bf16")).unwrap();
        assert_eq!(bf16.embed(&["x"]).unwrap()[0], vec![9.0; 3]);
        let stats = cache.stats().unwrap();
        assert_eq!(stats.rows, 2);
        assert_eq!(stats.models.len(), 2);
    }

    #[test]
    fn other_files_are_refused_naming_the_path_and_the_flag() {
        let dir = tempfile::tempdir().unwrap();
        let text = dir.path().join("notes.txt");
        std::fs::write(
            &text,
            "this is not a database, it is a text file of some length\n".repeat(20),
        )
        .unwrap();
        let e = EmbeddingCache::open(&text).err().unwrap();
        assert!(e.is_usage(), "{e}");
        let msg = e.to_string();
        assert!(
            msg.contains("--cache") && msg.contains("notes.txt"),
            "{msg}"
        );
        assert_eq!(
            std::fs::read(&text).unwrap().len(),
            57 * 20,
            "file left alone"
        );

        let other = dir.path().join("other.db");
        Connection::open(&other)
            .unwrap()
            .execute_batch("CREATE TABLE t (x)")
            .unwrap();
        let e = EmbeddingCache::open(&other).err().unwrap();
        assert!(e.to_string().contains("something else"), "{e}");

        let newer = dir.path().join("newer.sqlite");
        drop(EmbeddingCache::open(&newer).unwrap());
        Connection::open(&newer)
            .unwrap()
            .execute("UPDATE schema SET version = 99", [])
            .unwrap();
        let e = EmbeddingCache::open(&newer).err().unwrap();
        assert!(e.to_string().contains("version 99"), "{e}");

        // A damaged cache: its header is right, its pages are garbage.
        let damaged = dir.path().join("damaged.sqlite");
        {
            let cache = EmbeddingCache::open(&damaged).unwrap();
            let inner = Counting::new();
            let enc = CachedEncoder::new(&inner, &cache, &spec("f32")).unwrap();
            let many: Vec<String> = (0..500).map(|i| format!("text {i}")).collect();
            enc.embed(&many.iter().map(String::as_str).collect::<Vec<_>>())
                .unwrap();
        }
        let mut bytes = std::fs::read(&damaged).unwrap();
        assert!(bytes.len() > 4 * 4096, "{} bytes", bytes.len());
        for b in &mut bytes[2 * 4096..] {
            *b = 0xA5;
        }
        std::fs::write(&damaged, bytes).unwrap();
        let result = EmbeddingCache::open(&damaged).and_then(|cache| {
            let inner = Counting::new();
            let enc = CachedEncoder::new(&inner, &cache, &spec("f32"))?;
            enc.embed(&["text 1", "text 2"])
                .map_err(|e| e.downcast::<CacheError>().unwrap())?;
            Ok(())
        });
        let msg = result.unwrap_err().to_string();
        assert!(
            msg.contains("--cache") && msg.contains("damaged.sqlite") && msg.contains("delete"),
            "{msg}"
        );

        let missing = dir.path().join("missing.sqlite");
        let e = EmbeddingCache::open_existing(&missing).err().unwrap();
        assert!(e.to_string().contains("no cache"), "{e}");
        assert!(!missing.exists());
    }

    #[test]
    fn a_shouted_text_and_its_lowered_form_are_one_entry() {
        let dir = tempfile::tempdir().unwrap();
        let cache = EmbeddingCache::open(&dir.path().join("c.sqlite")).unwrap();
        let inner = Counting::new();
        let enc = CachedEncoder::new(&inner, &cache, &spec("f32")).unwrap();
        // The encoder reads both as "nicht zu empfehlen!" (text::shouting).
        enc.embed(&["NICHT ZU EMPFEHLEN!"]).unwrap();
        assert_eq!(
            enc.key("NICHT ZU EMPFEHLEN!"),
            enc.key("nicht zu empfehlen!")
        );
        assert_ne!(enc.key("DB"), enc.key("db"), "short capitals alone stay");
        let before = inner.texts.load(Ordering::Relaxed);
        enc.embed(&["nicht zu empfehlen!"]).unwrap();
        assert_eq!(inner.texts.load(Ordering::Relaxed), before, "a hit");
    }

    #[test]
    fn prune_removes_what_was_not_used_since_the_cutoff() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.sqlite");
        let cache = EmbeddingCache::open(&path).unwrap();
        let inner = Counting::new();
        let enc = CachedEncoder::new(&inner, &cache, &spec("f32")).unwrap();
        enc.embed(&["old", "new"]).unwrap();
        let old = enc.key("old");
        cache
            .conn()
            .execute(
                "UPDATE last_used SET at = at - 40 * 86400 WHERE id = ?1",
                [id_of(&old)],
            )
            .unwrap();
        let report = cache.prune(now() - 30 * 86400).unwrap();
        assert_eq!(report.removed, vec![("counting".into(), "f32".into(), 1)]);
        assert_eq!(report.remaining, 1);
        let before = inner.texts.load(Ordering::Relaxed);
        enc.embed(&["old", "new"]).unwrap();
        assert_eq!(
            inner.texts.load(Ordering::Relaxed),
            before + 1,
            "old was embedded again"
        );
        cache
            .conn()
            .execute("UPDATE last_used SET at = at - 40 * 86400", [])
            .unwrap();
        // A hit on a stale row refreshes it.
        enc.embed(&["new"]).unwrap();
        let report = cache.prune(now() - 30 * 86400).unwrap();
        assert_eq!(report.total(), 1, "the hit on `new` refreshed it");
        cache.vacuum().unwrap();
        assert_eq!(cache.stats().unwrap().rows, 1);
    }
}
