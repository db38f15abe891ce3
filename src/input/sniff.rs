//! Looks at the start of a stream before the CSV parser does: strips a UTF-8
//! byte-order mark (the encoding layer has normally dropped it already) and
//! finds the header line, so the delimiter (comma, semicolon, tab or pipe)
//! can be guessed from it.
//!
//! It reads only as far as the header line and hands those bytes back to be
//! replayed in front of the rest of the stream, so a large export is never
//! loaded whole and a non-seekable reader (stdin) works the same as a file.
//! Line numbers stay right because only the BOM, which holds no newline, is
//! dropped.

use std::io::{self, BufRead};

/// UTF-8 byte-order mark as Excel writes it in front of "CSV UTF-8" files.
const BOM: [u8; 3] = [0xEF, 0xBB, 0xBF];

/// Stop looking for the end of the header after this many bytes; a header
/// this long means an unbalanced quote, and the CSV parser will say so.
const MAX_HEADER: usize = 1 << 20;

/// Delimiters we try, in order of preference when they split equally.
pub(super) const CANDIDATES: [u8; 4] = [b',', b';', b'\t', b'|'];

/// The bytes read so far (BOM removed) and where the header line lies in them.
pub(super) struct Prefix {
    /// Everything consumed from the reader, minus a leading BOM; to be
    /// replayed before the rest of the stream.
    pub bytes: Vec<u8>,
    /// Byte range of the first non-blank line, without its line terminator.
    pub header: std::ops::Range<usize>,
}

/// Reads up to the end of the first non-blank line (a newline inside quotes
/// does not end it). Blank lines before it are kept in `bytes`, since the CSV
/// parser counts them as lines too. Consumes nothing past that line end.
pub(super) fn read_prefix<R: BufRead>(reader: &mut R) -> io::Result<Prefix> {
    let mut bytes = Vec::new();
    let mut bom_checked = false;
    let mut in_quotes = false;
    let mut line_start = 0;
    loop {
        let chunk = reader.fill_buf()?;
        if chunk.is_empty() {
            break;
        }
        let mut used = 0;
        let mut header_end = None;
        for &byte in chunk {
            used += 1;
            bytes.push(byte);
            if !bom_checked && bytes.len() == BOM.len() {
                bom_checked = true;
                if bytes == BOM {
                    bytes.clear();
                    continue;
                }
            }
            match byte {
                b'"' => in_quotes = !in_quotes,
                b'\n' | b'\r' if !in_quotes => {
                    let end = bytes.len() - 1;
                    if end > line_start {
                        header_end = Some(end);
                        break;
                    }
                    line_start = bytes.len();
                }
                _ => {}
            }
            if bytes.len() - line_start > MAX_HEADER {
                header_end = Some(bytes.len());
                break;
            }
        }
        reader.consume(used);
        if let Some(end) = header_end {
            return Ok(Prefix {
                bytes,
                header: line_start..end,
            });
        }
    }
    // End of input: a BOM shorter than three bytes cannot be one, so
    // whatever is left is the header.
    let end = bytes.len();
    Ok(Prefix {
        bytes,
        header: line_start.min(end)..end,
    })
}

/// Leading bytes of binary formats someone might hand over instead of an
/// export, with what to call them and what to do instead.
const SIGNATURES: &[(&[u8], &str, &str)] = &[
    (
        b"PK\x03\x04",
        "a ZIP archive (an Excel .xlsx or OpenDocument file is one)",
        "a spreadsheet is read from a file named .xlsx, .xlsm, .xlsb or .ods (rename it, or save the sheet as CSV); any other archive: unzip it first",
    ),
    (
        b"PK\x05\x06",
        "an empty ZIP archive",
        "export the survey as CSV or JSON Lines",
    ),
    (
        b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1",
        "an old Excel (.xls) or Office file",
        "a spreadsheet is read from a file named .xls (rename it, or save the sheet as CSV)",
    ),
    (
        b"\x1F\x8B",
        "a gzip-compressed file",
        "decompress it first (gunzip)",
    ),
    (
        b"\x28\xB5\x2F\xFD",
        "a zstd-compressed file",
        "decompress it first (unzstd)",
    ),
    (
        b"\xFD7zXZ\x00",
        "an xz-compressed file",
        "decompress it first (unxz)",
    ),
    (
        b"7z\xBC\xAF\x27\x1C",
        "a 7-Zip archive",
        "extract the export first",
    ),
    (
        b"%PDF-",
        "a PDF document",
        "export the survey as CSV or JSON Lines",
    ),
    (
        b"\x89PNG\r\n\x1A\n",
        "a PNG image",
        "give the survey export (CSV or JSON Lines)",
    ),
    (
        b"\xFF\xD8\xFF",
        "a JPEG image",
        "give the survey export (CSV or JSON Lines)",
    ),
    (
        b"GIF8",
        "a GIF image",
        "give the survey export (CSV or JSON Lines)",
    ),
    (
        b"PAR1",
        "a Parquet file",
        "give the survey export (CSV or JSON Lines); verbatim writes Parquet, it does not read it",
    ),
    (
        b"SQLite format 3\x00",
        "an SQLite database",
        "export the survey table as CSV",
    ),
    (
        b"\x7FELF",
        "a program (ELF executable)",
        "give the survey export (CSV or JSON Lines)",
    ),
];

/// What a sample that starts like a binary format is, and what to do; `None`
/// for anything else. Only exact signatures count: a text file is never
/// refused for its content (a stray NUL byte in a row is a reject).
pub(super) fn binary_kind(sample: &[u8]) -> Option<(&'static str, &'static str)> {
    SIGNATURES
        .iter()
        .find(|(magic, _, _)| sample.starts_with(magic))
        .map(|&(_, kind, hint)| (kind, hint))
}

/// Picks the candidate delimiter that splits `header` into the most fields,
/// counting only delimiters outside double quotes; comma on a tie.
pub(super) fn detect_delimiter(header: &[u8]) -> u8 {
    let mut best = (CANDIDATES[0], 0usize);
    for &delim in &CANDIDATES {
        let fields = count_fields(header, delim);
        if fields > best.1 {
            best = (delim, fields);
        }
    }
    best.0
}

fn count_fields(line: &[u8], delim: u8) -> usize {
    let mut in_quotes = false;
    let mut fields = 1;
    for &b in line {
        if b == b'"' {
            in_quotes = !in_quotes;
        } else if b == delim && !in_quotes {
            fields += 1;
        }
    }
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prefix(data: &[u8]) -> (Vec<u8>, Vec<u8>) {
        let mut r = data;
        match read_prefix(&mut r) {
            Ok(p) => (p.bytes.clone(), p.bytes[p.header].to_vec()),
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn strips_bom_and_stops_at_header_end() {
        let (bytes, header) = prefix(b"\xEF\xBB\xBFa;b\r\n1;2\r\n");
        assert_eq!(header, b"a;b");
        assert_eq!(bytes, b"a;b\r");
    }

    #[test]
    fn skips_blank_lines_and_quoted_newlines() {
        let (bytes, header) = prefix(b"\r\n\n\"a\nx\",b\n1,2\n");
        assert_eq!(header, b"\"a\nx\",b");
        assert_eq!(bytes, b"\r\n\n\"a\nx\",b\n");
    }

    #[test]
    fn chunk_boundaries_do_not_matter() {
        let data: &[u8] = b"\xEF\xBB\xBF\n\"a\r\nb\";c\r\n1;2\r\n";
        for capacity in 1..8 {
            let mut r = std::io::BufReader::with_capacity(capacity, data);
            let p = read_prefix(&mut r).map_err(|e| e.to_string());
            let got = p.map(|p| (p.bytes[p.header.clone()].to_vec(), p.bytes));
            let want = (b"\"a\r\nb\";c".to_vec(), b"\n\"a\r\nb\";c\r".to_vec());
            assert_eq!(got, Ok(want), "capacity {capacity}");
            // The rest of the stream is left for the CSV reader.
            let mut rest = Vec::new();
            assert!(std::io::Read::read_to_end(&mut r, &mut rest).is_ok());
            assert_eq!(rest, b"\n1;2\r\n");
        }
    }

    #[test]
    fn short_and_empty_inputs() {
        assert_eq!(prefix(b""), (vec![], vec![]));
        assert_eq!(prefix(b"\xEF\xBB\xBF"), (vec![], vec![]));
        assert_eq!(prefix(b"ab"), (b"ab".to_vec(), b"ab".to_vec()));
        assert_eq!(prefix(b"\n\n"), (b"\n\n".to_vec(), vec![]));
    }

    #[test]
    fn binary_formats_are_named_and_text_is_not() {
        let kind = |b: &[u8]| binary_kind(b).map(|k| k.0);
        assert_eq!(kind(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), Some("a PNG image"));
        assert!(kind(b"PK\x03\x04\x14\0").is_some_and(|k| k.contains("xlsx")));
        assert_eq!(kind(b"%PDF-1.7"), Some("a PDF document"));
        for text in [
            &b"score,comment\n"[..],
            b"PK,score,comment\n",
            b"\xEF\xBB\xBFscore",
            b"\xFF\xFEs\0",
            b"",
        ] {
            assert_eq!(kind(text), None, "{text:?}");
        }
    }

    #[test]
    fn delimiter_most_fields_outside_quotes() {
        assert_eq!(detect_delimiter(b"a,b,c"), b',');
        assert_eq!(detect_delimiter(b"a;b;c"), b';');
        assert_eq!(detect_delimiter(b"a\tb\tc"), b'\t');
        assert_eq!(detect_delimiter(b"a|b|c"), b'|');
        assert_eq!(detect_delimiter(b"\"x|y\"|b,c"), b',');
        assert_eq!(detect_delimiter(b"\"x,y,z\";b"), b';');
        assert_eq!(detect_delimiter(b"a,b;c"), b',');
        assert_eq!(detect_delimiter(b"single"), b',');
    }
}
