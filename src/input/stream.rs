//! Pulls records out of an opened input one at a time, so that reading a
//! survey takes the same memory for a thousand rows as for ten million.
//!
//! [`Records`] is the engine: it holds the parser (CSV, or the second pass
//! of JSON Lines) and the per-file [`Rows`] state, and is generic over the
//! raw reader. [`ResponseStream`] is the public face, with the reader boxed
//! as `dyn Read + Send` so that it has one type and can be handed to a
//! background thread. [`read_responses_from`](super::read_responses_from)
//! accepts any reader, borrowed or not `Send`, so it cannot box it; it runs
//! the same engine on its own reader type and collects, which keeps the
//! collecting and the streaming paths one piece of code.

use std::fmt;
use std::io::{self, Read};
use std::iter::FusedIterator;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::lines::LineTracker;
use super::{
    io_error, jsonl, open_input, sniff, Ingested, InputEncoding, InputError, InputFormat,
    InputOptions, Opened, Record, ResolvedColumns, Rows, Scale, Stream,
};

/// An open input: header read and columns resolved; records are pulled one
/// at a time, in file order, by iterating.
///
/// Each data record becomes `Ok(`[`Record::Response`]`)` or
/// `Ok(`[`Record::Reject`]`)`, with the same checks and messages as
/// [`read_responses`](super::read_responses), which collects such a stream.
/// `Err` is only a fatal I/O error in the middle of the input (a file
/// deleted or a pipe broken while reading); the stream ends after it. A bad
/// row is never an `Err`. Problems with the whole file (no header, no score
/// column, nothing that is JSON Lines) are returned by
/// [`open`](ResponseStream::open) and
/// [`from_reader`](ResponseStream::from_reader), before the first record.
///
/// The stream is `Send`, so it can be read on a background thread.
///
/// # Memory
///
/// Reading holds a fixed amount whatever the size of the input: the 64 KiB
/// read ahead to detect the encoding, the header, the decoder's and the CSV
/// parser's buffers and the record being read. Two things grow:
///
/// - **The duplicate-id map.** Each accepted row leaves a 64-bit hash of its
///   id and the line it is on in a `HashMap<u64, u64>`: 16 bytes per
///   accepted row, plus the map's overhead (a control byte per slot, and at
///   most 7/8 of the slots used, with the slot count a power of two), so
///   about 20 to 40 bytes per accepted row in all, e.g. 200 to 400 MB for
///   ten million rows; up to about 60 bytes per row for a moment while the
///   map grows, as the old and the new table sit side by side. Rejected
///   rows leave nothing. The ids themselves are not kept.
/// - **JSON Lines from a reader** ([`from_reader`](ResponseStream::from_reader),
///   or a pipe or device given to [`open`](ResponseStream::open)) is read
///   and decoded whole before the first record, because the columns are the
///   union of the keys of all lines; the text is kept until the stream is
///   dropped. A regular file is read twice instead: a first pass collects
///   the keys (holding only the key names), the second streams the records.
///
/// # Duplicate ids
///
/// Since only a hash of each id is kept, two different ids with the same
/// 64-bit hash would make the later one a reject, `duplicate id "X" (first
/// on line L)`, where line L holds the other id. Among n accepted rows the
/// chance that this happens at all is about n²/2⁶⁵: one in 370,000 for ten
/// million rows, one in 37 million for a million. The hash is SipHash with
/// fixed keys, so the same input always gives the same rejects; the keys are
/// public, so an id column written by someone who wants collisions could
/// have them, which does not fit a survey export. Without an id column the
/// made-up ids (16 hex digits of SHA-256 over the row, plus `-LINE` on a
/// repeat) go through the same map, where a collision only gives a row the
/// `-LINE` suffix.
pub struct ResponseStream {
    records: Records<Box<dyn Read + Send>>,
    progress: ByteProgress,
    /// A record read ahead by [`ResponseStream::ensure_rows`].
    ahead: Option<Result<Record, InputError>>,
}

/// How far reading has come through the raw bytes of an input, for a
/// progress bar; a clone can be read from anywhere while the stream runs.
#[derive(Clone, Debug, Default)]
pub struct ByteProgress {
    read: Arc<AtomicU64>,
    total: Option<u64>,
}

impl ByteProgress {
    /// Bytes read from the input so far (reading runs a little ahead of
    /// the records returned: the buffers of the decoder and the parser).
    pub fn read(&self) -> u64 {
        self.read.load(Ordering::Relaxed)
    }

    /// Size of the input, when it is a regular file.
    pub fn total(&self) -> Option<u64> {
        self.total
    }

    /// A reader that adds what it reads to this progress.
    fn counting<R: Read>(&self, inner: R) -> Counted<R> {
        Counted {
            inner,
            read: Arc::clone(&self.read),
        }
    }
}

/// A reader that counts its bytes into a [`ByteProgress`].
struct Counted<R> {
    inner: R,
    read: Arc<AtomicU64>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

impl ResponseStream {
    /// Opens a survey export (CSV or JSON Lines, see
    /// [`InputOptions::format`]), detects its encoding and delimiter, reads
    /// the header and resolves the columns; no data record is read yet,
    /// except that a JSON Lines file is first read through once for its
    /// columns (see the type's documentation).
    pub fn open(path: &Path, opts: &InputOptions) -> Result<ResponseStream, InputError> {
        Self::open_named(path, path, opts)
    }

    /// [`ResponseStream::open`] on `path`, with `name` in messages and for
    /// the format by extension: the file may be a copy of what `name` gave
    /// (a pipe read once into a temporary file).
    pub fn open_named(
        path: &Path,
        name: &Path,
        opts: &InputOptions,
    ) -> Result<ResponseStream, InputError> {
        let file = name.display().to_string();
        let open = || std::fs::File::open(path).map_err(|error| io_error(&file, error));
        let f = open()?;
        let meta = f.metadata().ok().filter(|m| m.is_file());
        let regular = meta.is_some();
        let progress = ByteProgress {
            read: Arc::default(),
            total: meta.map(|m| m.len()),
        };
        let format = opts.format.or_else(|| InputFormat::from_path(name));
        let first = progress.counting(f);
        let opened = open_input(boxed(first), &file, opts.encoding, format)?;
        let records = if opened.format == InputFormat::Jsonl && regular {
            let encoding = opened.encoding;
            let scan = jsonl::scan(opened.stream).map_err(|e| io_error(&file, e))?;
            // The first pass only collected the keys: progress is the second.
            progress.read.store(0, Ordering::Relaxed);
            let again = open_input(
                boxed(progress.counting(open()?)),
                &file,
                Some(encoding),
                Some(InputFormat::Jsonl),
            )?;
            Records::jsonl(again.stream, encoding, scan, &file, opts)?
        } else {
            Records::start(opened, &file, opts)?
        };
        Ok(ResponseStream {
            records,
            progress,
            ahead: None,
        })
    }

    /// Opens a survey export from any reader; `source` names it in messages.
    /// CSV is streamed; JSON Lines is buffered whole first (see the type's
    /// documentation). A header-only input gives no records; an empty one
    /// is [`InputError::Empty`].
    pub fn from_reader<R: Read + Send + 'static>(
        reader: R,
        source: &str,
        opts: &InputOptions,
    ) -> Result<ResponseStream, InputError> {
        let progress = ByteProgress::default();
        let opened = open_input(
            boxed(progress.counting(reader)),
            source,
            opts.encoding,
            opts.format,
        )?;
        Ok(ResponseStream {
            records: Records::start(opened, source, opts)?,
            progress,
            ahead: None,
        })
    }

    /// A handle on how many bytes of the input have been read, and of how
    /// many (see [`ByteProgress`]).
    pub fn byte_progress(&self) -> ByteProgress {
        self.progress.clone()
    }

    /// The file name (or label) as given, used in messages.
    pub fn source(&self) -> &str {
        &self.records.source
    }

    /// Delimiter used, given or detected; `b','` for JSON Lines, which has
    /// none.
    pub fn delimiter(&self) -> u8 {
        self.records.rows.delimiter
    }

    /// Text encoding used, given or detected.
    pub fn encoding(&self) -> InputEncoding {
        self.records.rows.encoding
    }

    /// File format used, given or detected.
    pub fn format(&self) -> InputFormat {
        self.records.format
    }

    /// Answer scale the scores are read on.
    pub fn scale(&self) -> Scale {
        self.records.rows.scale
    }

    /// Columns used for score, comment and id.
    pub fn columns(&self) -> &ResolvedColumns {
        &self.records.columns
    }

    /// All other columns, in header order (JSON Lines: first-seen order);
    /// [`Response::segments`](super::Response::segments) is parallel to it.
    pub fn segment_columns(&self) -> &[String] {
        &self.records.segment_columns
    }

    /// The survey weight column ([`InputOptions::weight_column`](super::InputOptions::weight_column))
    /// as an index into [`ResponseStream::segment_columns`]; every response's
    /// value there is a valid weight (the others are rejects).
    pub fn weight_column(&self) -> Option<usize> {
        let rows = &self.records.rows;
        rows.weight
            .and_then(|w| rows.segments.iter().position(|&i| i == w))
    }

    /// Where each of [`ResponseStream::segment_columns`] comes from: its
    /// 1-based position in the header and its name there as read (empty and
    /// repeated names are made unique in `segment_columns`: `col_N`, `_2`).
    pub fn segment_origins(&self) -> Vec<(usize, String)> {
        self.records.rows.segment_origins()
    }

    /// Data records seen so far (= responses + rejects returned so far).
    pub fn read(&self) -> u64 {
        self.records.rows.read
    }

    /// Comments returned so far that were cut to
    /// [`MAX_COMMENT_CHARS`](super::MAX_COMMENT_CHARS) characters.
    pub fn truncated_comments(&self) -> u64 {
        self.records.rows.truncated
    }

    /// Reads the rest of the stream into memory.
    pub(super) fn collect_ingested(self) -> Result<Ingested, InputError> {
        debug_assert!(self.ahead.is_none(), "collected after a read ahead");
        self.records.collect_ingested()
    }

    /// Fails with [`InputError::NoRows`] when the input has a header but
    /// not one record after it, before any work is done on it. Reads the
    /// first record ahead; the stream still returns it.
    pub fn ensure_rows(&mut self) -> Result<(), InputError> {
        if self.ahead.is_none() {
            self.ahead = self.records.next_record();
        }
        match self.ahead {
            Some(_) => Ok(()),
            None => Err(InputError::NoRows {
                file: self.source().to_string(),
            }),
        }
    }
}

impl Iterator for ResponseStream {
    /// A response or a reject; `Err` only for a fatal I/O error, after
    /// which the stream ends.
    type Item = Result<Record, InputError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.ahead.take().or_else(|| self.records.next_record())
    }
}

impl FusedIterator for ResponseStream {}

impl fmt::Debug for ResponseStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseStream")
            .field("source", &self.source())
            .field("format", &self.format())
            .field("encoding", &self.encoding())
            .field("delimiter", &char::from(self.delimiter()))
            .field("columns", self.columns())
            .field("read", &self.read())
            .finish_non_exhaustive()
    }
}

fn boxed<R: Read + Send + 'static>(reader: R) -> Box<dyn Read + Send> {
    Box::new(reader)
}

/// The CSV parser over the decoded text, with the header line replayed in
/// front and line numbers tracked.
type CsvReader<R> = csv::Reader<LineTracker<io::Chain<io::Cursor<Vec<u8>>, Stream<R>>>>;

/// Where the records come from.
enum Parser<R> {
    Csv {
        reader: Box<CsvReader<R>>,
        /// The current record, reused.
        record: csv::ByteRecord,
    },
    /// JSON Lines, second pass over a file.
    Jsonl(jsonl::Reader<Stream<R>>),
    /// JSON Lines buffered from a reader, decoded.
    JsonlBuffered(jsonl::Reader<io::Cursor<Vec<u8>>>),
    /// At the end, or after a fatal error; the input is dropped.
    Done,
}

/// The engine behind [`ResponseStream`] and the collecting readers.
pub(super) struct Records<R> {
    source: String,
    format: InputFormat,
    columns: ResolvedColumns,
    segment_columns: Vec<String>,
    rows: Rows,
    parser: Parser<R>,
}

impl<R: Read> Records<R> {
    /// Reads an opened input in one pass: CSV streamed, JSON Lines buffered.
    pub(super) fn start(
        opened: Opened<R>,
        source: &str,
        opts: &InputOptions,
    ) -> Result<Self, InputError> {
        match opened.format {
            InputFormat::Csv => Self::csv(opened.stream, opened.encoding, source, opts),
            InputFormat::Jsonl => {
                let mut stream = opened.stream;
                let mut text = Vec::new();
                stream
                    .read_to_end(&mut text)
                    .map_err(|e| io_error(source, e))?;
                let scan = jsonl::scan(&text[..]).map_err(|e| io_error(source, e))?;
                let rows = jsonl_rows(scan, opened.encoding, source, opts)?;
                let reader = jsonl::Reader::new(io::Cursor::new(text), &rows);
                Ok(Self::new(
                    source,
                    InputFormat::Jsonl,
                    rows,
                    Parser::JsonlBuffered(reader),
                ))
            }
        }
    }

    /// The second pass over JSON Lines, after [`jsonl::scan`] read `scan`
    /// from a first.
    fn jsonl(
        stream: Stream<R>,
        encoding: InputEncoding,
        scan: jsonl::Scan,
        source: &str,
        opts: &InputOptions,
    ) -> Result<Self, InputError> {
        let rows = jsonl_rows(scan, encoding, source, opts)?;
        let reader = jsonl::Reader::new(stream, &rows);
        Ok(Self::new(
            source,
            InputFormat::Jsonl,
            rows,
            Parser::Jsonl(reader),
        ))
    }

    /// Reads the header of delimited text and sets up the parser.
    fn csv(
        mut reader: Stream<R>,
        encoding: InputEncoding,
        source: &str,
        opts: &InputOptions,
    ) -> Result<Self, InputError> {
        let prefix = sniff::read_prefix(&mut reader).map_err(|e| io_error(source, e))?;
        if prefix.header.is_empty() {
            return Err(InputError::Empty {
                file: source.to_string(),
            });
        }
        let delimiter = opts
            .delimiter
            .unwrap_or_else(|| sniff::detect_delimiter(&prefix.bytes[prefix.header.clone()]));
        let stream = LineTracker::new(io::Cursor::new(prefix.bytes).chain(reader), delimiter);
        let mut csv = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .has_headers(true)
            .flexible(true)
            .from_reader(stream);

        let raw_header = csv
            .byte_headers()
            .map_err(|error| InputError::Csv {
                file: source.to_string(),
                line: 1,
                error,
            })?
            .clone();
        // The header's own start line; records are numbered from the queue after it.
        let header_line = csv.get_mut().next_start().unwrap_or(1);
        if raw_header.iter().any(|f| f.contains(&0)) {
            return Err(InputError::HeaderNul {
                file: source.to_string(),
                line: header_line,
            });
        }
        let header = raw_header
            .iter()
            .map(|f| std::str::from_utf8(f).map(|s| s.trim().to_string()))
            .collect::<Result<Vec<String>, _>>()
            .map_err(|_| InputError::HeaderEncoding {
                file: source.to_string(),
            })?;
        if header.iter().all(String::is_empty) {
            return Err(InputError::Empty {
                file: source.to_string(),
            });
        }
        let rows = Rows::new(header, source, opts, delimiter, encoding)?;
        let parser = Parser::Csv {
            reader: Box::new(csv),
            record: csv::ByteRecord::new(),
        };
        Ok(Self::new(source, InputFormat::Csv, rows, parser))
    }

    fn new(source: &str, format: InputFormat, rows: Rows, parser: Parser<R>) -> Self {
        Records {
            source: source.to_string(),
            format,
            columns: rows.columns(),
            segment_columns: rows.segment_columns(),
            rows,
            parser,
        }
    }

    /// The next record; `None` at the end and after an error.
    fn next_record(&mut self) -> Option<Result<Record, InputError>> {
        let source = self.source.as_str();
        let next = match &mut self.parser {
            Parser::Csv { reader, record } => next_csv(reader, record, &mut self.rows, source),
            Parser::Jsonl(reader) => reader
                .next_record(&mut self.rows)
                .map_err(|e| io_error(source, e)),
            Parser::JsonlBuffered(reader) => reader
                .next_record(&mut self.rows)
                .map_err(|e| io_error(source, e)),
            Parser::Done => return None,
        };
        match next {
            Ok(Some(record)) => Some(Ok(record)),
            Ok(None) => {
                self.parser = Parser::Done;
                None
            }
            Err(e) => {
                self.parser = Parser::Done;
                Some(Err(e))
            }
        }
    }

    /// Reads the rest into memory; the first fatal error is returned.
    pub(super) fn collect_ingested(mut self) -> Result<Ingested, InputError> {
        let mut responses = Vec::new();
        let mut rejects = Vec::new();
        while let Some(record) = self.next_record() {
            match record? {
                Record::Response(r) => responses.push(r),
                Record::Reject(r) => rejects.push(r),
            }
        }
        Ok(Ingested {
            source: self.source,
            delimiter: self.rows.delimiter,
            encoding: self.rows.encoding,
            format: self.format,
            scale: self.rows.scale,
            columns: self.columns,
            segment_columns: self.segment_columns,
            responses,
            rejects,
            read: self.rows.read,
            truncated_comments: self.rows.truncated,
        })
    }
}

/// The columns of JSON Lines after the first pass, or why there are none.
fn jsonl_rows(
    scan: jsonl::Scan,
    encoding: InputEncoding,
    source: &str,
    opts: &InputOptions,
) -> Result<Rows, InputError> {
    if scan.objects == 0 {
        return Err(match scan.first_bad {
            Some((line, reason)) => InputError::NotJsonLines {
                file: source.to_string(),
                line,
                reason,
            },
            None => InputError::Empty {
                file: source.to_string(),
            },
        });
    }
    Rows::new(scan.keys, source, opts, b',', encoding)
}

/// The next CSV record as a response or a reject; `None` at the end.
fn next_csv<R: Read>(
    csv: &mut CsvReader<R>,
    record: &mut csv::ByteRecord,
    rows: &mut Rows,
    source: &str,
) -> Result<Option<Record>, InputError> {
    match csv.read_byte_record(record) {
        Ok(true) => {}
        Ok(false) => return Ok(None),
        Err(error) => {
            return Err(InputError::Csv {
                file: source.to_string(),
                line: csv.position().line(),
                error,
            })
        }
    }
    // csv's own position is wrong after CRLF line ends (see `lines`); it is
    // only a fallback should the tracker ever fall behind.
    let line = csv
        .get_mut()
        .next_start()
        .or_else(|| record.position().map(|p| p.line()))
        .unwrap_or(0);
    Ok(Some(rows.csv_record(record, line)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_id_map_keeps_one_key_per_accepted_row() {
        let cases: [(&'static [u8], u64, usize); 2] = [
            // Rejects (a duplicate, a bad score, a missing id) add nothing.
            (
                b"id,score,comment\nA,9,x\nB,8,y\nA,7,z\nC,x,w\n ,5,v\n",
                5,
                2,
            ),
            // A repeated row gets its own key for its `-LINE` id.
            (b"score,comment\n9,a\n9,a\nx,b\n", 3, 2),
        ];
        for (data, read, keys) in cases {
            let stream = ResponseStream::from_reader(data, "t.csv", &InputOptions::default());
            let mut stream = match stream {
                Ok(s) => s,
                Err(e) => panic!("{e}"),
            };
            assert_eq!(stream.by_ref().count() as u64, read);
            assert_eq!(stream.records.rows.seen_ids.len(), keys);
        }
    }
}
