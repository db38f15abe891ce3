//! Reads a survey export (CSV with a header row) into scored responses, and
//! accounts for every data row: each one becomes either a [`Response`] or a
//! [`Reject`] with its line and reason, so `read == responses + rejects`.
//!
//! Exports come from many tools and locales, so the reader is lenient about
//! form and strict about content: the delimiter (comma, semicolon, tab) is
//! guessed from the header, a UTF-8 BOM is dropped, CRLF and quoted newlines
//! are handled by the `csv` crate, and columns are found by common names in
//! several languages (see `columns`). But a score that is not a whole
//! number 0–10, a row with the wrong number of fields, invalid UTF-8 or a
//! duplicate id is never guessed at: one bad row is reported and counted,
//! not fatal, and not silently dropped either. Only problems that make the
//! whole file unusable (cannot read it, no header, no score or comment
//! column) are an [`InputError`].
//!
//! The file is streamed, not loaded whole: only the header line is peeked at
//! (`sniff`) and replayed in front of the rest, and line numbers come from a
//! pass-through reader (`lines`) because the `csv` crate's are off by one
//! after CRLF line ends.

mod columns;
mod lines;
mod score;
mod sniff;

use std::collections::HashMap;
use std::io::{self, Read};
use std::path::Path;

use sha2::{Digest, Sha256};

/// How to read the file; every field left `None` is detected.
#[derive(Clone, Debug, Default)]
pub struct InputOptions {
    /// Header name of the 0–10 score column (`--score-column`).
    pub score_column: Option<String>,
    /// Header name of the open comment column (`--text-column`).
    pub text_column: Option<String>,
    /// Header name of a unique response id column (`--id-column`).
    pub id_column: Option<String>,
    /// Field delimiter byte; detected from the header when `None`.
    pub delimiter: Option<u8>,
}

/// One accepted row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    /// 1-based physical line where the record starts (the header is line 1).
    pub line: u64,
    /// The id column's value, or a stable hash of the row when there is none.
    pub id: String,
    /// Whole score 0–10.
    pub score: u8,
    /// The comment, trimmed; may be empty (the score still counts in NPS).
    pub comment: String,
    /// Values of the other columns, trimmed, parallel to
    /// [`Ingested::segment_columns`].
    pub segments: Vec<String>,
}

/// One refused row, with enough to find and fix it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reject {
    /// 1-based physical line where the record starts.
    pub line: u64,
    /// The column at fault, when one is.
    pub column: Option<String>,
    /// Why the row was refused, e.g. `score 11 is out of range 0-10`.
    pub reason: String,
    /// The raw fields joined with the delimiter (invalid UTF-8 replaced).
    pub record: String,
}

/// Header names of the columns used for each role.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolvedColumns {
    /// Score column.
    pub score: String,
    /// Comment column.
    pub text: String,
    /// Id column, if the file has one.
    pub id: Option<String>,
}

/// Everything read from one file.
#[derive(Clone, Debug)]
pub struct Ingested {
    /// The file name (or label) as given, used in messages and reject files.
    pub source: String,
    /// Delimiter used, given or detected.
    pub delimiter: u8,
    /// Columns used for score, comment and id.
    pub columns: ResolvedColumns,
    /// All other columns, in header order.
    pub segment_columns: Vec<String>,
    /// Accepted rows, in file order.
    pub responses: Vec<Response>,
    /// Refused rows, in file order.
    pub rejects: Vec<Reject>,
    /// Data records seen; always `responses.len() + rejects.len()`.
    pub read: u64,
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
        /// Underlying error.
        #[source]
        error: io::Error,
    },
    /// The CSV reader failed (in practice an I/O error mid-file).
    #[error("`{file}` line {line}: {error}")]
    Csv {
        /// File name.
        file: String,
        /// Line where reading stopped.
        line: u64,
        /// Underlying error.
        #[source]
        error: csv::Error,
    },
    /// No header row at all.
    #[error(
        "`{file}` is empty: expected a header row naming the columns \
         (for example `score,comment`)"
    )]
    Empty {
        /// File name.
        file: String,
    },
    /// The header row is not UTF-8, so column names cannot be read.
    #[error(
        "`{file}`: the header row is not valid UTF-8; save the file as UTF-8 \
         (in Excel: \"CSV UTF-8\") and try again"
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
         columns are: {columns}; use {flag} NAME"
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

/// Reads a survey export from a file. See [`read_responses_from`].
pub fn read_responses(path: &Path, opts: &InputOptions) -> Result<Ingested, InputError> {
    let file = path.display().to_string();
    let f = std::fs::File::open(path).map_err(|error| InputError::Io {
        file: file.clone(),
        error,
    })?;
    read_responses_from(f, &file, opts)
}

/// Reads a survey export from any reader; `source` names it in messages.
///
/// A header-only input gives zero responses; an empty one is
/// [`InputError::Empty`].
pub fn read_responses_from<R: Read>(
    reader: R,
    source: &str,
    opts: &InputOptions,
) -> Result<Ingested, InputError> {
    let io_err = |error| InputError::Io {
        file: source.to_string(),
        error,
    };
    let mut reader = io::BufReader::new(reader);
    let prefix = sniff::read_prefix(&mut reader).map_err(io_err)?;
    if prefix.header.is_empty() {
        return Err(InputError::Empty {
            file: source.to_string(),
        });
    }
    let delimiter = opts
        .delimiter
        .unwrap_or_else(|| sniff::detect_delimiter(&prefix.bytes[prefix.header.clone()]));
    let stream = lines::LineTracker::new(io::Cursor::new(prefix.bytes).chain(reader), delimiter);
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
    let _ = csv.get_mut().next_start();
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
    let idx = columns::resolve(&header, opts, source)?;
    let segment_idx: Vec<usize> = (0..header.len())
        .filter(|&i| i != idx.score && i != idx.text && Some(i) != idx.id)
        .collect();

    let mut rows = Rows {
        header: &header,
        score: idx.score,
        text: idx.text,
        id: idx.id,
        segments: &segment_idx,
        delimiter,
        seen_ids: HashMap::new(),
    };
    let mut responses = Vec::new();
    let mut rejects = Vec::new();
    let mut read = 0u64;
    let mut record = csv::ByteRecord::new();
    loop {
        match csv.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(error) => {
                return Err(InputError::Csv {
                    file: source.to_string(),
                    line: csv.position().line(),
                    error,
                })
            }
        }
        read += 1;
        // csv's own position is wrong after CRLF line ends (see `lines`);
        // it is only a fallback should the tracker ever fall behind.
        let line = csv
            .get_mut()
            .next_start()
            .or_else(|| record.position().map(|p| p.line()))
            .unwrap_or(0);
        match rows.accept(&record, line) {
            Ok(r) => responses.push(r),
            Err(r) => rejects.push(r),
        }
    }

    Ok(Ingested {
        source: source.to_string(),
        delimiter,
        columns: ResolvedColumns {
            score: header[idx.score].clone(),
            text: header[idx.text].clone(),
            id: idx.id.map(|i| header[i].clone()),
        },
        segment_columns: segment_idx.iter().map(|&i| header[i].clone()).collect(),
        responses,
        rejects,
        read,
    })
}

/// Per-file state for turning records into responses.
struct Rows<'a> {
    header: &'a [String],
    score: usize,
    text: usize,
    id: Option<usize>,
    segments: &'a [usize],
    delimiter: u8,
    /// Ids accepted so far and the line of their first occurrence.
    seen_ids: HashMap<String, u64>,
}

impl Rows<'_> {
    /// Checks one record, in the order a person would fix it: shape,
    /// encoding, score, id.
    fn accept(&mut self, record: &csv::ByteRecord, line: u64) -> Result<Response, Reject> {
        let reject = |column: Option<usize>, reason: String| Reject {
            line,
            column: column.map(|i| self.header[i].clone()),
            reason,
            record: join_lossy(record, self.delimiter),
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
                Err(e) => {
                    let reason = format!(
                        "invalid UTF-8 at byte {} of the field; save the file as UTF-8",
                        e.valid_up_to()
                    );
                    return Err(reject(Some(i), reason));
                }
            }
        }
        let score = score::parse_score(fields[self.score])
            .map_err(|reason| reject(Some(self.score), reason))?;
        let id = match self.id {
            Some(col) => {
                let id = fields[col].trim();
                if id.is_empty() {
                    return Err(reject(Some(col), "id missing".to_string()));
                }
                if let Some(first) = self.seen_ids.get(id) {
                    let reason = format!("duplicate id \"{id}\" (first on line {first})");
                    return Err(reject(Some(col), reason));
                }
                id.to_string()
            }
            None => {
                let hashed = row_hash(&fields);
                if self.seen_ids.contains_key(&hashed) {
                    format!("{hashed}-{line}")
                } else {
                    hashed
                }
            }
        };
        self.seen_ids.insert(id.clone(), line);
        Ok(Response {
            line,
            id,
            score,
            comment: fields[self.text].trim().to_string(),
            segments: self
                .segments
                .iter()
                .map(|&i| fields[i].trim().to_string())
                .collect(),
        })
    }
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

/// Writes rejects as CSV with columns `file,line,column,reason,record`, so a
/// person can open them next to the source file and fix the rows.
pub fn write_rejects<W: io::Write>(w: W, source: &str, rejects: &[Reject]) -> csv::Result<()> {
    let mut out = csv::Writer::from_writer(w);
    out.write_record(["file", "line", "column", "reason", "record"])?;
    for r in rejects {
        let line = r.line.to_string();
        out.write_record([
            source,
            line.as_str(),
            r.column.as_deref().unwrap_or(""),
            r.reason.as_str(),
            r.record.as_str(),
        ])?;
    }
    out.flush()?;
    Ok(())
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

    #[test]
    fn semicolon_bom_crlf_and_quoted_newline_together() {
        let data = b"\xEF\xBB\xBFID;NPS;Kommentar;Kanal\r\n\
                     1;9;\"Sehr gut;\r\nschnell\";Telefon\r\n\
                     2; 3 ;\"zu \"\"lange\"\" Wartezeit\";Chat\r\n\
                     3;11;egal;Chat\r\n";
        let ing = read(data);
        assert_eq!(ing.delimiter, b';');
        assert_eq!(
            ing.columns,
            ResolvedColumns {
                score: "NPS".into(),
                text: "Kommentar".into(),
                id: Some("ID".into()),
            }
        );
        assert_eq!(ing.segment_columns, ["Kanal"]);
        assert_eq!(ing.read, 3);
        assert_eq!(ing.responses.len(), 2);
        let first = &ing.responses[0];
        assert_eq!((first.line, first.id.as_str(), first.score), (2, "1", 9));
        assert_eq!(first.comment, "Sehr gut;\r\nschnell");
        assert_eq!(first.segments, ["Telefon"]);
        // The quoted newline makes record 2 start on physical line 4.
        let second = &ing.responses[1];
        assert_eq!((second.line, second.id.as_str(), second.score), (4, "2", 3));
        assert_eq!(second.comment, "zu \"lange\" Wartezeit");
        assert_eq!(
            reasons(&ing),
            [(5, Some("NPS"), "score 11 is out of range 0-10")]
        );
        assert_eq!(ing.rejects[0].record, "3;11;egal;Chat");
    }

    #[test]
    fn score_spellings_and_reasons() {
        let data = b"score,comment\n\
                     \" 9 \",a\n\"9,0\",b\n10.0,c\n7.00,d\n\
                     9.5,e\n,f\nabc,g\n11,h\n-1,i\n";
        let ing = read(data);
        let scores: Vec<u8> = ing.responses.iter().map(|r| r.score).collect();
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
        let ing = read(b"score,comment\n9,caf\xe9 au lait\n8,fine\n");
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
        assert_eq!(ing.columns.score, "score");
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
        let msg = error(b"score,comm\xe9ntaire\n9,x\n", &InputOptions::default());
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

    #[test]
    fn write_rejects_columns() {
        let ing = read(b"score,comment\n11,\"too, high\"\n9,ok,extra\n");
        let mut out = Vec::new();
        let written = write_rejects(&mut out, "in.csv", &ing.rejects);
        assert!(written.is_ok());
        assert_eq!(
            String::from_utf8_lossy(&out),
            "file,line,column,reason,record\n\
             in.csv,2,score,score 11 is out of range 0-10,\"11,too, high\"\n\
             in.csv,3,,\"expected 2 fields, found 3\",\"9,ok,extra\"\n"
        );
    }

    #[test]
    fn british_airways_sample() {
        // Header and four records copied byte for byte from
        // /work/shared/data/dev/ba_airline_reviews/BA_AirlineReviews.csv
        // (file lines 1, 1279-1280, 3241, 3445, 3783). OverallRating and
        // ReviewBody are found without flags. ReviewID is not a known id
        // name, so it stays a segment unless `--id-column ReviewID` is given.
        const BA: &str = r#"ReviewID,OverallRating,ReviewHeader,Name,Datetime,VerifiedReview,ReviewBody,TypeOfTraveller,SeatType,Route,DateFlown,SeatComfort,CabinStaffService,GroundService,ValueForMoney,Recommended,Aircraft,Food&Beverages,InflightEntertainment,Wifi&Connectivity
1262,3,"""cleanliness hit rock bottom""",D Landor,24th March 2018,TRUE,"Milan to London Heathrow. The service and cleanliness has hit rock bottom at BA I am flying with them very frequently and this last trip was testament that they have lost passion. The response was we are not responsible for cleaning the plane.
",Business,Business Class,Milan to London Heathrow,18-Mar,3,1,4,1,no,,,,
3121,,British Airways customer review,Ray Desjardins,18th February 2015,FALSE,Cabin crew polite unfortunately BA ran out of chicken ran out of wine ran out of soft drinks. The food was awful. Inflight service was a disaster - did not work properly. 12 hours 20 mins flight everything counts obviously BA overlooked this. To be fair all cabin crew were polite and accommodating. I will never fly again with BA.,,Economy Class,,,3,5,,2,no,,1,1,
3325,4,British Airways customer review,V Carrapiett,3rd November 2014,FALSE,) I did not see the attendants down our aisle smile at a customer once throughout the whole journey.,,Economy Class,,,4,2,,4,no,,2,2,
3663,10,British Airways customer review,Colin Pay,11th May 2014,FALSE,Rating : 10/10 Cabin Flown Economy Value for Money Seat Comfort Staff Service Catering Entertainment Recommended,,Economy Class,,,5,5,,5,yes,,5,1,
"#;
        let ing = read(BA.as_bytes());
        assert_eq!(ing.delimiter, b',');
        assert_eq!(ing.columns.score, "OverallRating");
        assert_eq!(ing.columns.text, "ReviewBody");
        assert_eq!(ing.columns.id, None);
        assert_eq!(ing.segment_columns.len(), 18);
        assert_eq!(ing.segment_columns[0], "ReviewID");
        assert_eq!(ing.read, 4);
        let got: Vec<(u64, u8)> = ing.responses.iter().map(|r| (r.line, r.score)).collect();
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
                    assert!(ing.responses.iter().all(|r| r.score <= 10));
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
