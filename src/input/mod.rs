//! Reads a survey export (CSV with a header row, or JSON Lines) into scored
//! responses, and accounts for every data row: each one becomes either a
//! [`Response`] or a [`Reject`] with its line and reason, so
//! `read == responses + rejects`.
//!
//! Exports come from many tools and locales, so the reader is lenient about
//! form and strict about content: the encoding (UTF-8 with or without BOM,
//! UTF-16 with BOM, Windows-1252) is detected and decoded (`encoding`), the
//! format is JSON Lines for `.jsonl`/`.ndjson` files or input starting with
//! `{` (`jsonl`) and CSV otherwise, the delimiter (comma, semicolon, tab,
//! pipe) is guessed from the header, CRLF and quoted newlines are handled by
//! the `csv` crate, and columns are found by common names in several
//! languages (see `columns`). But a score that is not a whole number on the
//! chosen [`Scale`], a row with the wrong number of fields, a broken
//! character or a duplicate id is never guessed at: one bad row is reported
//! and counted, not fatal, and not silently dropped either. Only problems
//! that make the whole file unusable (cannot read it, no header, no score or
//! comment column, no line that is a JSON object) are an [`InputError`].
//!
//! Hostile input is bounded, not trusted: a file that starts like an image
//! or an archive is refused before any parsing (`sniff`), a header with a
//! NUL byte or more than [`MAX_COLUMNS`] columns is an error, a field with
//! a NUL byte is a reject, a comment longer than [`MAX_COMMENT_CHARS`] is
//! cut (the score still counts), and a record longer than
//! [`MAX_RECORD_BYTES`] (an unbalanced quote swallowing the rest of the
//! file) stops the read with its start line instead of filling memory.
//!
//! Records are pulled one at a time: [`ResponseStream`] opens an input,
//! settles its encoding, format and columns, and then yields each data
//! record as a [`Record`] in file order, so memory does not grow with the
//! number of rows (apart from the duplicate-id map, 16 bytes per accepted
//! row; see [`ResponseStream`]). [`read_responses`] and
//! [`read_responses_from`] run the same code and collect everything into
//! [`Ingested`], for callers that want the rows in memory anyway.
//!
//! CSV is streamed, not loaded whole: the first 64 KiB are read ahead to
//! detect the encoding, only the header line is peeked at (`sniff`) and
//! replayed in front of the rest, and line numbers come from a pass-through
//! reader (`lines`) because the `csv` crate's are off by one after CRLF
//! line ends. JSON Lines needs its columns before the first row, so a file
//! is read twice and a stream is buffered.

mod columns;
pub mod dates;
mod encoding;
mod jsonl;
pub mod labelled;
mod lines;
pub mod names;
mod score;
pub mod sheet;
mod sniff;
mod stream;

/// A column name as a message shows it on a terminal: control characters
/// (an escape sequence in a hostile header) and bidirectional overrides
/// escaped, `\u{1b}` for ESC, the rest as it is.
pub fn escape_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if c.is_control() {
            out.extend(c.escape_debug());
        } else if matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}') {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod format_tests;
#[cfg(test)]
mod stream_tests;

use std::collections::HashMap;
use std::fmt;
use std::hash::{DefaultHasher, Hasher};
use std::io::{self, BufRead, Read};
use std::path::Path;
use std::str::FromStr;

use sha2::{Digest, Sha256};

pub use encoding::InputEncoding;
pub use score::{parse_weight, Scale};
pub use stream::{ByteProgress, ResponseStream};

/// Most columns a header may have: Excel's limit (16,384, column XFD). A
/// wider file is not a survey export, and every column becomes a segment
/// column of every output row.
pub const MAX_COLUMNS: usize = 16_384;

/// Comments are cut to this many characters (at a character boundary).
/// The encoder reads at most 512 tokens of a comment anyway, but the
/// clause splitter and the tokenizer would go through all of it: a 10 MB
/// comment would become hundreds of thousands of clauses to embed. The
/// longest comment in the development data sets has 3,775 characters.
pub const MAX_COMMENT_CHARS: usize = 10_000;

/// Longest CSV record or JSON line read into memory. Longer is a quote
/// left open (CSV: the read stops with an error naming the line where the
/// record starts) or a line that is not JSON Lines (JSON: a reject).
pub const MAX_RECORD_BYTES: usize = 64 << 20;

/// How to read the file; every field left `None` is detected.
///
/// Construct it with `..Default::default()`: fields are added as the reader
/// learns new formats.
#[derive(Clone, Debug, Default)]
pub struct InputOptions {
    /// Header name of the 0–10 score column (`--score-column`).
    pub score_column: Option<String>,
    /// Header name of the open comment column (`--text-column`).
    pub text_column: Option<String>,
    /// Header names of further open questions (`--text-column` repeated:
    /// "what did we do well?", "what should we improve?"). Each answer is
    /// analysed on its own; they are no segments. Needs `text_column`.
    pub more_text_columns: Vec<String>,
    /// Header name of a unique response id column (`--id-column`).
    pub id_column: Option<String>,
    /// Field delimiter byte; detected from the header when `None`. Ignored
    /// for JSON Lines.
    pub delimiter: Option<u8>,
    /// Text encoding; detected from a byte-order mark or the first 64 KiB
    /// when `None` (see [`InputEncoding`]).
    pub encoding: Option<InputEncoding>,
    /// File format; when `None`, JSON Lines for a `.jsonl` or `.ndjson`
    /// file or an input whose first non-space character is `{`, else CSV.
    pub format: Option<InputFormat>,
    /// Answer scale of the score column; 0–10 when `None`. Never detected.
    pub scale: Option<Scale>,
    /// Header name of the survey weight column (`--weight-column`). It stays
    /// a segment column; a row whose weight is missing, not a number,
    /// negative or infinite is a reject naming the column and the value.
    pub weight_column: Option<String>,
    /// Whether the export has a score to read ([`Mode::TopicsOnly`]: no
    /// score column is looked for, and no row is refused for its score).
    pub mode: Mode,
}

/// What a run reads and computes: a survey with its 0–10 score (NPS, its
/// drivers and the call-back list), or comments alone (support tickets,
/// an open question without NPS: `--no-score`), whose topics, sentiment
/// and their trend are analysed and whose NPS outputs are left out.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// The score column is required; every row needs a valid score.
    #[default]
    Nps,
    /// No score column: topics and sentiment only.
    TopicsOnly,
}

impl Mode {
    /// `nps` or `topics_only`, as the manifest writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Nps => "nps",
            Mode::TopicsOnly => "topics_only",
        }
    }

    /// True when the run reads a score.
    pub fn scored(self) -> bool {
        self == Mode::Nps
    }
}

/// File format of an input.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum InputFormat {
    /// Delimited text with a header row.
    Csv,
    /// One JSON object per line; the columns are the union of the keys.
    Jsonl,
}

impl InputFormat {
    /// `csv` or `jsonl`, as accepted by [`FromStr`].
    pub fn name(self) -> &'static str {
        match self {
            InputFormat::Csv => "csv",
            InputFormat::Jsonl => "jsonl",
        }
    }

    /// The format a file name implies: JSON Lines for `.jsonl` and `.ndjson`
    /// (any case), nothing otherwise.
    pub fn from_path(path: &Path) -> Option<InputFormat> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        matches!(ext.as_str(), "jsonl" | "ndjson").then_some(InputFormat::Jsonl)
    }
}

impl fmt::Display for InputFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for InputFormat {
    type Err = String;

    /// Accepts `csv`, `jsonl` and `ndjson`, ignoring case.
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "csv" => Ok(InputFormat::Csv),
            "jsonl" | "ndjson" => Ok(InputFormat::Jsonl),
            _ => Err(format!("unknown format `{s}`; use csv or jsonl")),
        }
    }
}

/// One accepted row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    /// 1-based physical line where the record starts (the header is line 1).
    pub line: u64,
    /// The id column's value, or a stable hash of the row when there is none.
    pub id: String,
    /// Whole score 0–10 (mapped from the input's [`Scale`]); `None` in a
    /// run without scores ([`Mode::TopicsOnly`]).
    pub score: Option<u8>,
    /// The comment, trimmed; may be empty (the score still counts in NPS).
    /// Cut to its first [`MAX_COMMENT_CHARS`] characters.
    pub comment: String,
    /// The answers to the further open questions
    /// ([`InputOptions::more_text_columns`]), trimmed and cut like
    /// `comment`, in question order; empty with one question.
    pub more_comments: Vec<String>,
    /// Values of the other columns, trimmed, parallel to
    /// [`Ingested::segment_columns`] (or [`ResponseStream::segment_columns`]).
    pub segments: Vec<String>,
}

/// One refused row, with enough to find and fix it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reject {
    /// 1-based physical line where the record starts.
    pub line: u64,
    /// Physical line where the record ends: `line` unless a quoted field
    /// holds line breaks.
    pub end_line: u64,
    /// The column at fault, when one is.
    pub column: Option<String>,
    /// Why the row was refused, e.g. `score 11 is out of range 0-10`.
    pub reason: String,
    /// The raw fields joined with the delimiter, or the raw JSON line
    /// (broken characters replaced).
    pub record: String,
}

/// One data record of the input, in file order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Record {
    /// The record was accepted.
    Response(Response),
    /// The record was refused; the reason says why.
    Reject(Reject),
}

/// Header names of the columns used for each role.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolvedColumns {
    /// Score column; `None` in a run without scores ([`Mode::TopicsOnly`]).
    pub score: Option<String>,
    /// Comment column.
    pub text: String,
    /// The further open questions' columns, in the order given.
    pub more_text: Vec<String>,
    /// Id column, if the file has one.
    pub id: Option<String>,
}

impl ResolvedColumns {
    /// Every open question's column: the comment column first.
    pub fn questions(&self) -> Vec<String> {
        std::iter::once(self.text.clone())
            .chain(self.more_text.iter().cloned())
            .collect()
    }
}

impl Response {
    /// The answer to open question `q` (0: the comment column), empty when
    /// there is no such question.
    pub fn answer(&self, q: usize) -> &str {
        match q {
            0 => &self.comment,
            _ => self.more_comments.get(q - 1).map_or("", String::as_str),
        }
    }

    /// The number of open questions the response answers or leaves empty.
    pub fn questions(&self) -> usize {
        1 + self.more_comments.len()
    }
}

/// Everything read from one file.
#[derive(Clone, Debug)]
pub struct Ingested {
    /// The file name (or label) as given, used in messages and reject files.
    pub source: String,
    /// Delimiter used, given or detected; `b','` for JSON Lines, which has
    /// none.
    pub delimiter: u8,
    /// Text encoding used, given or detected.
    pub encoding: InputEncoding,
    /// File format used, given or detected.
    pub format: InputFormat,
    /// Answer scale the scores were read on.
    pub scale: Scale,
    /// Columns used for score, comment and id.
    pub columns: ResolvedColumns,
    /// All other columns, in header order (JSON Lines: first-seen order).
    pub segment_columns: Vec<String>,
    /// Accepted rows, in file order.
    pub responses: Vec<Response>,
    /// Refused rows, in file order.
    pub rejects: Vec<Reject>,
    /// Data records seen; always `responses.len() + rejects.len()`.
    pub read: u64,
    /// Accepted comments cut to [`MAX_COMMENT_CHARS`].
    pub truncated_comments: u64,
}

/// Share of the records read that were rejected, 0–1; 0 when nothing was
/// read.
pub fn reject_rate(ingested: &Ingested) -> f64 {
    if ingested.read == 0 {
        0.0
    } else {
        ingested.rejects.len() as f64 / ingested.read as f64
    }
}

/// Problems that make a whole file unusable. Each message names the file
/// and, where it helps, the columns and the flag that fixes it.
#[derive(thiserror::Error, Debug)]
pub enum InputError {
    /// The file could not be opened or read.
    #[error("cannot read `{file}`: {error}")]
    Io {
        /// File name.
        file: String,
        /// Underlying error, in the message (not also a `source`, which
        /// an error chain would print a second time).
        error: io::Error,
    },
    /// The CSV reader failed (in practice an I/O error mid-file).
    #[error("`{file}` line {line}: {error}")]
    Csv {
        /// File name.
        file: String,
        /// Line where reading stopped.
        line: u64,
        /// Underlying error, in the message (not also a `source`).
        error: csv::Error,
    },
    /// No header row at all.
    #[error(
        "`{file}` is empty: expected a header row naming the columns \
         (for example `score,comment`) or JSON Lines objects"
    )]
    Empty {
        /// File name.
        file: String,
    },
    /// A header row, and no record after it.
    #[error(
        "`{file}` has a header row but no rows below it: nothing to analyse \
         (an export of a period without responses?)"
    )]
    NoRows {
        /// File name.
        file: String,
    },
    /// The file starts like a binary format (an image, an archive, a PDF).
    #[error("`{file}` is {kind}, not a CSV or JSON Lines export; {hint}")]
    NotText {
        /// File name.
        file: String,
        /// What it looks like, e.g. `a PNG image`.
        kind: &'static str,
        /// What to do about it.
        hint: &'static str,
    },
    /// The header row holds a NUL byte.
    #[error(
        "`{file}` line {line}: the header row holds a NUL byte, so this is not a text export: \
         a binary file, or UTF-16 text without a byte-order mark (then give \
         --encoding utf-16le or --encoding utf-16be)"
    )]
    HeaderNul {
        /// File name.
        file: String,
        /// Line of the header.
        line: u64,
    },
    /// The header has more than [`MAX_COLUMNS`] columns.
    #[error(
        "`{file}`: the header has {columns} columns, more than the {max} a survey \
         export can have (Excel's limit); check the delimiter (--delimiter) or \
         remove unused columns"
    )]
    TooManyColumns {
        /// File name.
        file: String,
        /// Columns found.
        columns: usize,
        /// [`MAX_COLUMNS`].
        max: usize,
    },
    /// The header row is not UTF-8, so column names cannot be read.
    #[error(
        "`{file}`: the header row is not valid UTF-8; save the file as UTF-8 \
         (in Excel: \"CSV UTF-8\") or give its encoding with --encoding"
    )]
    HeaderEncoding {
        /// File name.
        file: String,
    },
    /// A column named by a flag is not in the header.
    #[error("`{file}`: column `{given}` given with {flag} not found; columns are: {columns}")]
    ColumnNotFound {
        /// File name.
        file: String,
        /// The name given.
        given: String,
        /// The flag that named it.
        flag: &'static str,
        /// Header columns, formatted for the message.
        columns: String,
    },
    /// A column named by a flag matches several columns once normalised.
    #[error(
        "`{file}`: {flag} `{given}` matches several columns: {matches}; \
         give the exact name"
    )]
    ColumnAmbiguous {
        /// File name.
        file: String,
        /// The name given.
        given: String,
        /// The flag that named it.
        flag: &'static str,
        /// Matching columns, formatted for the message.
        matches: String,
    },
    /// No column with a known name for a required role.
    #[error(
        "`{file}`: no {role} column found (looked for names like: {looked_for}); \
         columns are: {columns}; use {flag} NAME{or}"
    )]
    ColumnNotDetected {
        /// File name.
        file: String,
        /// `score` or `comment`.
        role: &'static str,
        /// The flag that names the column.
        flag: &'static str,
        /// Known names, formatted for the message.
        looked_for: String,
        /// Header columns, formatted for the message.
        columns: String,
        /// Another way out, after the flag (empty when there is none): for
        /// the score, `--no-score`.
        or: &'static str,
    },
    /// Read as JSON Lines (by name, by a leading `{` or by option), but no
    /// line is a JSON object.
    #[error(
        "`{file}` line {line}: {reason}; no line of the file is a JSON object, \
         so it cannot be read as JSON Lines (for a CSV file use --format csv)"
    )]
    NotJsonLines {
        /// File name.
        file: String,
        /// The first non-blank line.
        line: u64,
        /// Why that line is not an object.
        reason: String,
    },
    /// Two flags name the same column.
    #[error(
        "`{file}`: column `{column}` cannot be both the {first} and the {second} column; \
         pass another column with {flag}"
    )]
    SameColumn {
        /// File name.
        file: String,
        /// The column named twice.
        column: String,
        /// Role it was given first.
        first: &'static str,
        /// Role it was given second.
        second: &'static str,
        /// Flag of the second role.
        flag: &'static str,
    },
}

/// Reads a survey export from a file into memory. See
/// [`read_responses_from`]; [`ResponseStream::open`] reads the same file
/// one record at a time.
///
/// A JSON Lines file is read twice (columns first, then rows), so nothing
/// but the rows is kept; a pipe or device given as a path is buffered
/// instead.
pub fn read_responses(path: &Path, opts: &InputOptions) -> Result<Ingested, InputError> {
    ResponseStream::open(path, opts)?.collect_ingested()
}

/// Reads a survey export from any reader into memory; `source` names it in
/// messages. It collects the records that [`ResponseStream::from_reader`]
/// would yield (the same code, without its `Send + 'static` bound), so
/// memory grows with the rows; use the stream where that matters.
///
/// CSV is streamed; JSON Lines from a reader is buffered whole (decoded),
/// since its columns are only known at the end. A header-only input gives
/// zero responses; an empty one is [`InputError::Empty`].
pub fn read_responses_from<R: Read>(
    reader: R,
    source: &str,
    opts: &InputOptions,
) -> Result<Ingested, InputError> {
    let opened = open_input(reader, source, opts.encoding, opts.format)?;
    stream::Records::start(opened, source, opts)?.collect_ingested()
}

fn io_error(file: &str, error: io::Error) -> InputError {
    InputError::Io {
        file: file.to_string(),
        error,
    }
}

/// The decoded text: blank space peeked at for the format, replayed in
/// front of the decoder, which reads the 64 KiB encoding sample first.
type Stream<R> = io::Chain<
    io::Cursor<Vec<u8>>,
    io::BufReader<encoding::Decode<io::Chain<io::Cursor<Vec<u8>>, R>>>,
>;

/// An input with its encoding and format settled, as UTF-8 text.
struct Opened<R> {
    encoding: InputEncoding,
    format: InputFormat,
    stream: Stream<R>,
}

/// Detects (or takes) the encoding and the format, and sets up decoding.
/// Reads ahead at most 64 KiB plus any leading blank space.
fn open_input<R: Read>(
    mut reader: R,
    source: &str,
    encoding: Option<InputEncoding>,
    format: Option<InputFormat>,
) -> Result<Opened<R>, InputError> {
    let (sample, at_eof) = encoding::read_sample(&mut reader).map_err(|e| io_error(source, e))?;
    if let Some((kind, hint)) = sniff::binary_kind(&sample) {
        return Err(InputError::NotText {
            file: source.to_string(),
            kind,
            hint,
        });
    }
    let (encoding, bom_len) = encoding::choose(&sample, at_eof, encoding);
    let mut head = io::Cursor::new(sample);
    head.set_position(bom_len as u64);
    let mut decoded = io::BufReader::new(encoding::Decode::new(head.chain(reader), encoding));
    // Blank space before the first character: consumed to find that
    // character, replayed so that line numbers stay right.
    let mut lead = Vec::new();
    let first = loop {
        let buf = decoded.fill_buf().map_err(|e| io_error(source, e))?;
        if buf.is_empty() {
            break None;
        }
        match buf
            .iter()
            .position(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
        {
            Some(i) => {
                let first = buf[i];
                lead.extend_from_slice(&buf[..i]);
                decoded.consume(i);
                break Some(first);
            }
            None => {
                let n = buf.len();
                lead.extend_from_slice(buf);
                decoded.consume(n);
            }
        }
    };
    let format = format.unwrap_or(if first == Some(b'{') {
        InputFormat::Jsonl
    } else {
        InputFormat::Csv
    });
    Ok(Opened {
        encoding,
        format,
        stream: io::Cursor::new(lead).chain(decoded),
    })
}

/// Per-file state for turning records into responses, and the tally.
/// Nothing in it grows with the rows except `seen_ids`.
struct Rows {
    /// Column names: the header's, made unique and non-empty.
    header: Vec<String>,
    /// The header as read (JSON Lines: the keys), parallel to `header`.
    raw_header: Vec<String>,
    /// The score column; `None` without scores ([`Mode::TopicsOnly`]).
    score: Option<usize>,
    text: usize,
    /// Further open questions' columns.
    more_text: Vec<usize>,
    id: Option<usize>,
    /// The weight column (`InputOptions::weight_column`), checked on every row.
    weight: Option<usize>,
    segments: Vec<usize>,
    delimiter: u8,
    encoding: InputEncoding,
    scale: Scale,
    /// [`id_key`] of every id accepted so far, to the line of its first
    /// occurrence. The ids themselves are not kept: 16 bytes per accepted
    /// row instead of the id's text (see [`ResponseStream`]).
    seen_ids: HashMap<u64, u64>,
    /// Records turned into a response or a reject so far.
    read: u64,
    /// Accepted comments cut to [`MAX_COMMENT_CHARS`].
    truncated: u64,
}

impl Rows {
    /// Resolves the columns of `header` (see `columns`), after giving every
    /// column a unique, non-empty name ([`unique_names`]).
    fn new(
        raw_header: Vec<String>,
        source: &str,
        opts: &InputOptions,
        delimiter: u8,
        encoding: InputEncoding,
    ) -> Result<Rows, InputError> {
        if raw_header.len() > MAX_COLUMNS {
            return Err(InputError::TooManyColumns {
                file: source.to_string(),
                columns: raw_header.len(),
                max: MAX_COLUMNS,
            });
        }
        let header = unique_names(&raw_header);
        let idx = columns::resolve(&header, opts, source)?;
        let weight = columns::resolve_weight(&header, &idx, opts, source)?;
        let segments = (0..header.len())
            .filter(|&i| {
                Some(i) != idx.score
                    && i != idx.text
                    && Some(i) != idx.id
                    && !idx.more_text.contains(&i)
            })
            .collect();
        Ok(Rows {
            header,
            raw_header,
            score: idx.score,
            text: idx.text,
            more_text: idx.more_text,
            id: idx.id,
            weight,
            segments,
            delimiter,
            encoding,
            scale: opts.scale.unwrap_or_default(),
            seen_ids: HashMap::new(),
            read: 0,
            truncated: 0,
        })
    }

    /// Header names of the score, comment and id columns.
    fn columns(&self) -> ResolvedColumns {
        let name = |i: usize| self.header[i].clone();
        ResolvedColumns {
            score: self.score.map(name),
            text: name(self.text),
            more_text: self.more_text.iter().map(|&i| name(i)).collect(),
            id: self.id.map(name),
        }
    }

    /// Header names of the other columns, in header order.
    fn segment_columns(&self) -> Vec<String> {
        self.segments
            .iter()
            .map(|&i| self.header[i].clone())
            .collect()
    }

    /// Where each of [`Rows::segment_columns`] comes from: its 1-based
    /// position in the header and its name there as read.
    fn segment_origins(&self) -> Vec<(usize, String)> {
        self.segments
            .iter()
            .map(|&i| (i + 1, self.raw_header[i].clone()))
            .collect()
    }

    /// Counts a CSV record as a response or a reject.
    fn csv_record(&mut self, record: &csv::ByteRecord, line: u64) -> Record {
        self.read += 1;
        match self.accept(record, line) {
            Ok(r) => Record::Response(r),
            Err(mut r) => {
                r.end_line = line + line_breaks(record);
                Record::Reject(r)
            }
        }
    }

    /// Counts a row already split into text fields, one per header column;
    /// `record` renders it for a reject.
    fn fields_record(&mut self, fields: &[&str], line: u64, record: &dyn Fn() -> String) -> Record {
        self.read += 1;
        match self.check(fields, line, record) {
            Ok(r) => Record::Response(r),
            Err(r) => Record::Reject(r),
        }
    }

    /// Counts a record refused before its fields could be read.
    fn reject(
        &mut self,
        line: u64,
        column: Option<usize>,
        reason: String,
        record: String,
    ) -> Record {
        self.read += 1;
        Record::Reject(Reject {
            line,
            end_line: line,
            column: column.map(|i| self.header[i].clone()),
            reason,
            record,
        })
    }

    /// The reason for bytes that are not UTF-8 after decoding: a broken
    /// UTF-8 file, or a malformed sequence the decoder marked.
    fn bad_text(&self, at: usize, unit: &str) -> String {
        match self.encoding {
            InputEncoding::Utf8 => format!(
                "invalid UTF-8 at byte {at} of the {unit}; save the file as UTF-8 \
                 or give its encoding with --encoding"
            ),
            other => format!(
                "malformed {other} at byte {at} of the {unit} \
                 (an unpaired surrogate or a cut character)"
            ),
        }
    }

    /// Checks one CSV record, in the order a person would fix it: shape,
    /// encoding, then the fields (see [`Rows::check`]).
    fn accept(&mut self, record: &csv::ByteRecord, line: u64) -> Result<Response, Reject> {
        let delimiter = self.delimiter;
        let reject = |column: Option<usize>, reason: String| Reject {
            line,
            end_line: line,
            column: column.map(|i| self.header[i].clone()),
            reason,
            record: join_lossy(record, delimiter),
        };
        if record.len() != self.header.len() {
            let reason = format!(
                "expected {} fields, found {}",
                self.header.len(),
                record.len()
            );
            return Err(reject(None, reason));
        }
        let mut fields: Vec<&str> = Vec::with_capacity(record.len());
        for (i, raw) in record.iter().enumerate() {
            match std::str::from_utf8(raw) {
                Ok(s) => fields.push(s),
                Err(e) => return Err(reject(Some(i), self.bad_text(e.valid_up_to(), "field"))),
            }
        }
        self.check(&fields, line, &|| join_lossy(record, delimiter))
    }

    /// Checks the fields of a well-formed row: NUL bytes, score, weight, then id.
    fn check(
        &mut self,
        fields: &[&str],
        line: u64,
        record: &dyn Fn() -> String,
    ) -> Result<Response, Reject> {
        let reject = |column: usize, reason: String| Reject {
            line,
            end_line: line,
            column: Some(self.header[column].clone()),
            reason,
            record: record(),
        };
        if let Some(i) = fields.iter().position(|f| f.contains('\0')) {
            let reason = "NUL byte in the field (a damaged or binary file?)".to_string();
            return Err(reject(i, reason));
        }
        // A byte-order mark inside the file (exports glued together) is no
        // part of a value: "\u{feff}R-1" is the id "R-1".
        let stripped: Vec<&str> = fields.iter().map(|f| strip_bom(f)).collect();
        let fields = stripped.as_slice();
        let score = match self.score {
            Some(col) => Some(
                score::parse_scaled(fields[col], self.scale)
                    .map_err(|reason| reject(col, reason))?,
            ),
            None => None,
        };
        if let Some(w) = self.weight {
            score::parse_weight(fields[w], &self.header[w]).map_err(|reason| reject(w, reason))?;
        }
        let (id, key) = match self.id {
            Some(col) => {
                let id = fields[col].trim();
                if id.is_empty() {
                    return Err(reject(col, "id missing".to_string()));
                }
                // A different id with the same 64-bit key is refused here
                // too; see `ResponseStream` for why that is accepted.
                let key = id_key(id);
                if let Some(first) = self.seen_ids.get(&key) {
                    let reason = format!("duplicate id \"{id}\" (first on line {first})");
                    return Err(reject(col, reason));
                }
                (id.to_string(), key)
            }
            None => {
                let hashed = row_hash(fields);
                let key = id_key(&hashed);
                if self.seen_ids.contains_key(&key) {
                    let id = format!("{hashed}-{line}");
                    let key = id_key(&id);
                    (id, key)
                } else {
                    (hashed, key)
                }
            }
        };
        self.seen_ids.insert(key, line);
        let mut cut = |text: &str| -> String {
            let text = text.trim();
            match text.char_indices().nth(MAX_COMMENT_CHARS) {
                Some((end, _)) => {
                    self.truncated += 1;
                    text[..end].trim_end().to_string()
                }
                None => text.to_string(),
            }
        };
        let comment = cut(fields[self.text]);
        let more_comments = self.more_text.iter().map(|&i| cut(fields[i])).collect();
        Ok(Response {
            line,
            id,
            score,
            comment,
            more_comments,
            segments: self
                .segments
                .iter()
                .map(|&i| fields[i].trim().to_string())
                .collect(),
        })
    }
}

/// A field without the byte-order marks (U+FEFF) and spaces at its start.
fn strip_bom(field: &str) -> &str {
    let t = field.trim_start();
    if t.starts_with('\u{feff}') {
        t.trim_start_matches(|c: char| c == '\u{feff}' || c.is_whitespace())
    } else {
        field
    }
}

/// Line breaks inside the fields of a CSV record (quoted ones): CRLF, LF
/// and a lone CR each count once, as [`lines`] counts lines.
fn line_breaks(record: &csv::ByteRecord) -> u64 {
    let mut n = 0;
    for field in record {
        let mut after_cr = false;
        for &b in field {
            match b {
                b'\r' => n += 1,
                b'\n' if !after_cr => n += 1,
                _ => {}
            }
            after_cr = b == b'\r';
        }
    }
    n
}

/// Column names that are unique and never empty, for outputs that key on
/// them: a name without a letter or digit becomes `col_N` (N its 1-based
/// position), a name met before gets `_2`, `_3`… (the first that no other
/// column has). A byte-order mark at the start of a name is dropped.
pub(crate) fn unique_names(header: &[String]) -> Vec<String> {
    let given: std::collections::HashSet<&str> = header.iter().map(String::as_str).collect();
    let mut used: std::collections::HashSet<String> = std::collections::HashSet::new();
    header
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let h = strip_bom(h).trim();
            let base = if columns::normalise(h).is_empty() {
                format!("col_{}", i + 1)
            } else {
                h.to_string()
            };
            let name = if used.contains(&base) {
                (2..)
                    .map(|k| format!("{base}_{k}"))
                    .find(|n| !used.contains(n) && !given.contains(n.as_str()))
                    .unwrap_or_default()
            } else {
                base
            };
            used.insert(name.clone());
            name
        })
        .collect()
}

/// The key of an id in [`Rows::seen_ids`]: a 64-bit hash by std's
/// `DefaultHasher::new()`, SipHash with fixed keys (today SipHash-1-3 with
/// zero keys). std promises that every `DefaultHasher::new()` in a program
/// hashes alike, so every run gives the same keys and the same rejects,
/// unlike the per-process random keys of a `HashMap`'s own hasher. The key
/// never leaves the process, so another algorithm in a later Rust release
/// would change nothing but which (astronomically unlikely) pair of ids
/// collides.
fn id_key(id: &str) -> u64 {
    let mut hasher = DefaultHasher::new();
    hasher.write(id.as_bytes());
    hasher.finish()
}

/// First 16 hex digits of SHA-256 over the fields joined by U+001F, so an
/// id survives re-exports that keep the row's content, whatever its position.
fn row_hash(fields: &[&str]) -> String {
    let mut hasher = Sha256::new();
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            hasher.update([0x1f]);
        }
        hasher.update(f.as_bytes());
    }
    hasher
        .finalize()
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn join_lossy(record: &csv::ByteRecord, delimiter: u8) -> String {
    let mut bytes = Vec::new();
    for (i, f) in record.iter().enumerate() {
        if i > 0 {
            bytes.push(delimiter);
        }
        bytes.extend_from_slice(f);
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads `data` and checks the accounting invariant every time.
    fn read_with(data: &[u8], opts: &InputOptions) -> Ingested {
        match read_responses_from(data, "t.csv", opts) {
            Ok(ing) => {
                assert_eq!(ing.read, (ing.responses.len() + ing.rejects.len()) as u64);
                ing
            }
            Err(e) => panic!("unexpected error: {e}"),
        }
    }

    fn read(data: &[u8]) -> Ingested {
        read_with(data, &InputOptions::default())
    }

    fn error(data: &[u8], opts: &InputOptions) -> String {
        match read_responses_from(data, "survey.csv", opts) {
            Ok(_) => panic!("expected an error"),
            Err(e) => e.to_string(),
        }
    }

    fn reasons(ing: &Ingested) -> Vec<(u64, Option<&str>, &str)> {
        ing.rejects
            .iter()
            .map(|r| (r.line, r.column.as_deref(), r.reason.as_str()))
            .collect()
    }

    /// A UTF-8 BOM, semicolons, CRLF, a quoted newline, doubled quotes and
    /// an out-of-range score.
    pub(super) const SEMICOLON_BOM_CRLF: &[u8] = b"\xEF\xBB\xBFID;NPS;Kommentar;Kanal\r\n\
        1;9;\"Sehr gut;\r\nschnell\";Telefon\r\n\
        2; 3 ;\"zu \"\"lange\"\" Wartezeit\";Chat\r\n\
        3;11;egal;Chat\r\n";

    #[test]
    fn semicolon_bom_crlf_and_quoted_newline_together() {
        let ing = read(SEMICOLON_BOM_CRLF);
        assert_eq!(ing.delimiter, b';');
        assert_eq!(
            ing.columns,
            ResolvedColumns {
                score: Some("NPS".into()),
                text: "Kommentar".into(),
                more_text: vec![],
                id: Some("ID".into()),
            }
        );
        assert_eq!(ing.segment_columns, ["Kanal"]);
        assert_eq!(ing.read, 3);
        assert_eq!(ing.responses.len(), 2);
        let first = &ing.responses[0];
        assert_eq!(
            (first.line, first.id.as_str(), first.score),
            (2, "1", Some(9))
        );
        assert_eq!(first.comment, "Sehr gut;\r\nschnell");
        assert_eq!(first.segments, ["Telefon"]);
        // The quoted newline makes record 2 start on physical line 4.
        let second = &ing.responses[1];
        assert_eq!(
            (second.line, second.id.as_str(), second.score),
            (4, "2", Some(3))
        );
        assert_eq!(second.comment, "zu \"lange\" Wartezeit");
        assert_eq!(
            reasons(&ing),
            [(5, Some("NPS"), "score 11 is out of range 0-10")]
        );
        assert_eq!(ing.rejects[0].record, "3;11;egal;Chat");
    }

    #[test]
    fn without_scores_every_row_with_its_fields_is_read() {
        let opts = InputOptions {
            mode: Mode::TopicsOnly,
            ..InputOptions::default()
        };
        // A `rating` column is no score here: a segment like any other, so
        // its text values reject nothing; the other reasons stay.
        let data = b"id,rating,comment
1,,slow
2,abc,ok
1,9,dup
3,7,x,extra
";
        let ing = read_responses_from(&data[..], "t.csv", &opts).unwrap();
        assert_eq!(ing.columns.score, None);
        assert_eq!(ing.segment_columns, ["rating"]);
        let got: Vec<(u64, Option<u8>, &str)> = ing
            .responses
            .iter()
            .map(|r| (r.line, r.score, r.segments[0].as_str()))
            .collect();
        assert_eq!(got, [(2, None, ""), (3, None, "abc")]);
        let why: Vec<u64> = ing.rejects.iter().map(|r| r.line).collect();
        assert_eq!(why, [4, 5], "{:?}", ing.rejects);
        assert!(ing.rejects[0].reason.starts_with("duplicate id"));
    }

    #[test]
    fn score_spellings_and_reasons() {
        let data = b"score,comment\n\
                     \" 9 \",a\n\"9,0\",b\n10.0,c\n7.00,d\n\
                     9.5,e\n,f\nabc,g\n11,h\n-1,i\n";
        let ing = read(data);
        let scores: Vec<u8> = ing.responses.iter().filter_map(|r| r.score).collect();
        assert_eq!(scores, [9, 9, 10, 7]);
        assert_eq!(
            reasons(&ing),
            [
                (6, Some("score"), "score 9.5 is not a whole number"),
                (7, Some("score"), "score missing"),
                (8, Some("score"), "score \"abc\" is not a number"),
                (9, Some("score"), "score 11 is out of range 0-10"),
                (10, Some("score"), "score -1 is out of range 0-10"),
            ]
        );
        assert_eq!(ing.read, 9);
    }

    #[test]
    fn wrong_field_count_is_a_reject() {
        let ing = read(b"score,comment,channel\n9,ok\n8,ok,phone,extra\n7,fine,chat\n");
        assert_eq!(
            reasons(&ing),
            [
                (2, None, "expected 3 fields, found 2"),
                (3, None, "expected 3 fields, found 4"),
            ]
        );
        assert_eq!(ing.rejects[1].record, "8,ok,phone,extra");
        assert_eq!(ing.responses.len(), 1);
    }

    #[test]
    fn invalid_utf8_is_a_reject_not_an_error() {
        // Forced: detected, this file would read as Windows-1252 ("café").
        let utf8 = InputOptions {
            encoding: Some(InputEncoding::Utf8),
            ..InputOptions::default()
        };
        let ing = read_with(b"score,comment\n9,caf\xe9 au lait\n8,fine\n", &utf8);
        assert_eq!(ing.responses.len(), 1);
        let r = &ing.rejects[0];
        assert_eq!((r.line, r.column.as_deref()), (2, Some("comment")));
        assert!(
            r.reason.starts_with("invalid UTF-8 at byte 3"),
            "{}",
            r.reason
        );
        assert_eq!(r.record, "9,caf\u{FFFD} au lait");
    }

    #[test]
    fn duplicate_and_missing_ids() {
        let ing = read(b"Response ID,score,comment\nA,9,x\nB,8,y\nA,7,z\n ,5,w\n");
        assert_eq!(
            reasons(&ing),
            [
                (
                    4,
                    Some("Response ID"),
                    "duplicate id \"A\" (first on line 2)"
                ),
                (5, Some("Response ID"), "id missing"),
            ]
        );
        let ids: Vec<&str> = ing.responses.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["A", "B"]);
    }

    #[test]
    fn a_byte_order_mark_inside_the_file_is_not_part_of_a_field() {
        // Files glued together keep the second file's BOM in the middle.
        let ing = read("id,score,comment,channel\nR-1,9,fine,phone\n\u{feff}R-1,8,again,phone\n\u{feff}R-2,\u{feff}7,\u{feff}ok,\u{feff}chat\n".as_bytes());
        assert_eq!(
            reasons(&ing),
            [(3, Some("id"), "duplicate id \"R-1\" (first on line 2)")]
        );
        let last = &ing.responses[1];
        assert_eq!(
            (last.id.as_str(), last.score, last.comment.as_str()),
            ("R-2", Some(7), "ok")
        );
        assert_eq!(last.segments, ["chat"]);
    }

    #[test]
    fn rejected_row_does_not_claim_its_id() {
        // Line 2 is refused for its score, so line 3 is the first "A".
        let ing = read(b"id,score,comment\nA,x,bad\nA,9,good\n");
        assert_eq!(ing.responses.len(), 1);
        assert_eq!(ing.responses[0].line, 3);
    }

    #[test]
    fn hashed_ids_are_stable_and_distinct() {
        // sha256("9\x1fgood")[..16] = 2f0c660987aaf522, sha256("5\x1fbad")[..16] = bd478d5dceb8c130.
        let data = b"score,comment\n9,good\n9,good\n5,bad\n";
        let ing = read(data);
        let ids: Vec<&str> = ing.responses.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(
            ids,
            ["2f0c660987aaf522", "2f0c660987aaf522-3", "bd478d5dceb8c130"]
        );
        let again = read(data);
        assert_eq!(ing.responses, again.responses);
        assert_eq!(ing.columns.id, None);
    }

    #[test]
    fn empty_comment_is_kept_and_fields_trimmed() {
        let ing = read(b"region,score,comment,team\n north ,9,  ,A\nsouth,3, slow \t,B\n");
        assert_eq!(ing.segment_columns, ["region", "team"]);
        assert_eq!(ing.responses[0].comment, "");
        assert_eq!(ing.responses[0].segments, ["north", "A"]);
        assert_eq!(ing.responses[1].comment, "slow");
    }

    #[test]
    fn empty_and_header_only_inputs() {
        let o = InputOptions::default();
        for empty in [&b""[..], b"\xEF\xBB\xBF", b"\n\r\n", b",,\n"] {
            let msg = error(empty, &o);
            assert!(msg.contains("survey.csv") && msg.contains("empty"), "{msg}");
        }
        let ing = read(b"score,comment\n");
        assert_eq!(
            (ing.read, ing.responses.len(), ing.rejects.len()),
            (0, 0, 0)
        );
        let ing = read(b"\xEF\xBB\xBFscore,comment");
        assert_eq!(ing.read, 0);
        assert_eq!(ing.columns.score.as_deref(), Some("score"));
    }

    #[test]
    fn blank_lines_before_the_header_keep_line_numbers() {
        let ing = read(b"\n\nscore;comment\n9;ok\n");
        assert_eq!(ing.delimiter, b';');
        assert_eq!(ing.responses[0].line, 4);
    }

    #[test]
    fn tab_detection_and_explicit_delimiter() {
        let ing = read(b"rating\tfeedback\tsite\n10\tgreat, thanks\tX\n");
        assert_eq!(ing.delimiter, b'\t');
        assert_eq!(ing.responses[0].comment, "great, thanks");
        // Forced comma: the header becomes one column and no score is found.
        let o = InputOptions {
            delimiter: Some(b','),
            ..InputOptions::default()
        };
        let msg = error(b"rating\tfeedback\n10\tok\n", &o);
        assert!(msg.contains("no score column"), "{msg}");
    }

    #[test]
    fn flag_errors_name_file_columns_and_flag() {
        let o = InputOptions {
            text_column: Some("Verbatim Q2".into()),
            ..InputOptions::default()
        };
        let msg = error(b"score,comment\n9,x\n", &o);
        assert!(msg.contains("survey.csv"), "{msg}");
        assert!(msg.contains("`Verbatim Q2`"), "{msg}");
        assert!(msg.contains("--text-column"), "{msg}");
        assert!(msg.contains("`score`, `comment`"), "{msg}");

        let msg = error(b"Q1,Q2\n9,x\n", &InputOptions::default());
        assert!(
            msg.contains("no score column") && msg.contains("--score-column"),
            "{msg}"
        );
        assert!(msg.contains("`Q1`, `Q2`"), "{msg}");

        let o = InputOptions {
            score_column: Some("Q1".into()),
            text_column: Some("q2".into()),
            ..InputOptions::default()
        };
        let ing = read_with(b"Q1,Q2\n9,x\n", &o);
        assert_eq!(ing.responses[0].comment, "x");
    }

    #[test]
    fn header_not_utf8_is_an_error() {
        // Forced: detected, this header reads as Windows-1252 ("commentaire").
        let utf8 = InputOptions {
            encoding: Some(InputEncoding::Utf8),
            ..InputOptions::default()
        };
        let msg = error(b"score,comm\xe9ntaire\n9,x\n", &utf8);
        assert!(msg.contains("not valid UTF-8"), "{msg}");
    }

    #[test]
    fn reads_from_a_path_and_names_missing_files() {
        let path = std::env::temp_dir().join(format!("verbatim-input-{}.csv", std::process::id()));
        let written = std::fs::write(&path, b"nps,comment\n10,fine\n");
        assert!(written.is_ok());
        let ing = read_responses(&path, &InputOptions::default());
        let _ = std::fs::remove_file(&path);
        let ing = ing.map_err(|e| e.to_string());
        assert_eq!(ing.as_ref().map(|i| i.responses.len()), Ok(1));
        assert_eq!(ing.map(|i| i.source), Ok(path.display().to_string()));

        let missing = Path::new("/nonexistent/verbatim/survey.csv");
        let msg = read_responses(missing, &InputOptions::default())
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(msg.contains("/nonexistent/verbatim/survey.csv"), "{msg}");
    }

    /// Header and four records copied byte for byte from
    /// /work/shared/data/dev/ba_airline_reviews/BA_AirlineReviews.csv
    /// (file lines 1, 1279-1280, 3241, 3445, 3783). OverallRating and
    /// ReviewBody are found without flags. ReviewID is not a known id
    /// name, so it stays a segment unless `--id-column ReviewID` is given.
    pub(super) const BA: &str = r#"ReviewID,OverallRating,ReviewHeader,Name,Datetime,VerifiedReview,ReviewBody,TypeOfTraveller,SeatType,Route,DateFlown,SeatComfort,CabinStaffService,GroundService,ValueForMoney,Recommended,Aircraft,Food&Beverages,InflightEntertainment,Wifi&Connectivity
1262,3,"""cleanliness hit rock bottom""",D Landor,24th March 2018,TRUE,"Milan to London Heathrow. The service and cleanliness has hit rock bottom at BA I am flying with them very frequently and this last trip was testament that they have lost passion. The response was we are not responsible for cleaning the plane.
",Business,Business Class,Milan to London Heathrow,18-Mar,3,1,4,1,no,,,,
3121,,British Airways customer review,Ray Desjardins,18th February 2015,FALSE,Cabin crew polite unfortunately BA ran out of chicken ran out of wine ran out of soft drinks. The food was awful. Inflight service was a disaster - did not work properly. 12 hours 20 mins flight everything counts obviously BA overlooked this. To be fair all cabin crew were polite and accommodating. I will never fly again with BA.,,Economy Class,,,3,5,,2,no,,1,1,
3325,4,British Airways customer review,V Carrapiett,3rd November 2014,FALSE,) I did not see the attendants down our aisle smile at a customer once throughout the whole journey.,,Economy Class,,,4,2,,4,no,,2,2,
3663,10,British Airways customer review,Colin Pay,11th May 2014,FALSE,Rating : 10/10 Cabin Flown Economy Value for Money Seat Comfort Staff Service Catering Entertainment Recommended,,Economy Class,,,5,5,,5,yes,,5,1,
"#;

    #[test]
    fn british_airways_sample() {
        let ing = read(BA.as_bytes());
        assert_eq!(ing.delimiter, b',');
        assert_eq!(ing.columns.score.as_deref(), Some("OverallRating"));
        assert_eq!(ing.columns.text, "ReviewBody");
        assert_eq!(ing.columns.id, None);
        assert_eq!(ing.segment_columns.len(), 18);
        assert_eq!(ing.segment_columns[0], "ReviewID");
        assert_eq!(ing.read, 4);
        let got: Vec<(u64, u8)> = ing
            .responses
            .iter()
            .map(|r| (r.line, r.score.unwrap_or(99)))
            .collect();
        assert_eq!(got, [(2, 3), (5, 4), (6, 10)]);
        // The quoted review ends in a newline, trimmed away.
        assert!(ing.responses[0].comment.ends_with("cleaning the plane."));
        assert_eq!(reasons(&ing), [(4, Some("OverallRating"), "score missing")]);

        let o = InputOptions {
            id_column: Some("ReviewID".into()),
            ..InputOptions::default()
        };
        let ing = read_with(BA.as_bytes(), &o);
        let ids: Vec<&str> = ing.responses.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["1262", "3325", "3663"]);
        assert_eq!(ing.segment_columns.len(), 17);
    }

    /// Tiny deterministic generator, so the property test needs no crate.
    struct Lcg(u64);

    impl Lcg {
        fn next(&mut self) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            self.0 >> 33
        }
    }

    #[test]
    fn random_inputs_never_panic_and_rows_add_up() {
        const ALPHABET: &[u8] = b",;\t\"\n\r 0123456789.,-abc\xff\xc3";
        let mut rng = Lcg(42);
        for _ in 0..2000 {
            let mut data = b"id,score,comment,seg\n".to_vec();
            let len = rng.next() % 120;
            for _ in 0..len {
                data.push(ALPHABET[(rng.next() % ALPHABET.len() as u64) as usize]);
            }
            match read_responses_from(&data[..], "fuzz", &InputOptions::default()) {
                Ok(ing) => {
                    assert_eq!(ing.read, (ing.responses.len() + ing.rejects.len()) as u64);
                    assert!(ing
                        .responses
                        .iter()
                        .all(|r| r.score.is_some_and(|s| s <= 10)));
                    assert!(ing.responses.iter().all(|r| r.segments.len() == 1));
                    // Every record starts on its own line, after the header.
                    let mut lines: Vec<u64> = ing
                        .responses
                        .iter()
                        .map(|r| r.line)
                        .chain(ing.rejects.iter().map(|r| r.line))
                        .collect();
                    let n = lines.len();
                    lines.sort_unstable();
                    lines.dedup();
                    assert_eq!(lines.len(), n, "two records on one line in {data:?}");
                    assert!(lines.iter().all(|&l| l >= 2), "{data:?}");
                }
                Err(e) => panic!("{e} on {data:?}"),
            }
        }
    }
}
