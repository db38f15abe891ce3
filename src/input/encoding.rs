//! Finds the text encoding of an export and turns the byte stream into UTF-8
//! before anything else looks at it.
//!
//! Excel writes "CSV UTF-8" (UTF-8 with a BOM), "Unicode text" (UTF-16 LE
//! with a BOM, tab-separated) and, on Western Windows, plain "CSV" in
//! Windows-1252. Everything after this layer (delimiter sniffing, line
//! tracking, the CSV and JSON parsers) works on UTF-8 bytes, so decoding
//! happens once, here, in a streaming [`Read`] adapter whose memory stays
//! flat however large the file is.
//!
//! Detection looks at the first 64 KiB only, so it never loads a large file
//! and works on stdin:
//!
//! 1. A byte-order mark decides: `FF FE` UTF-16 LE, `FE FF` UTF-16 BE,
//!    `EF BB BF` UTF-8. The mark is dropped.
//! 2. A sample that is valid UTF-8 (a multi-byte sequence cut by the end of
//!    the sample does not count against it) is UTF-8.
//! 3. Otherwise the sample holds broken UTF-8 sequences. If it also holds at
//!    least as many well-formed multi-byte UTF-8 characters as broken
//!    sequences, it is a UTF-8 export with some damaged rows: it stays UTF-8
//!    and those rows are rejected one by one, as before. Else it is
//!    Windows-1252 (which covers Latin-1 as browsers read it).
//!
//! Rule 3 leans towards UTF-8 on purpose: reading a UTF-8 file as
//! Windows-1252 would turn every "ü" into "Ã¼" without a single reject,
//! while reading a Windows-1252 file as UTF-8 rejects its accented rows
//! loudly, and `--encoding` fixes it. Damage after the first 64 KiB never
//! changes the decision; those rows are rejected.
//!
//! UTF-8 is passed through byte for byte, so invalid bytes reach the row
//! checks and become rejects. Windows-1252 cannot be malformed (every byte
//! maps to a character). A malformed UTF-16 sequence (an unpaired surrogate,
//! an odd byte at the end) is written as the byte `0xFF`, which never occurs
//! in UTF-8, so the row holding it is rejected instead of silently getting a
//! replacement character.

use std::fmt;
use std::io::{self, Read};
use std::str::FromStr;

use encoding_rs::{Decoder, DecoderResult};

/// Bytes looked at to detect the encoding (and read ahead for it).
pub(super) const SAMPLE: usize = 64 * 1024;

/// Stands for a malformed sequence in the decoded stream; not valid UTF-8.
pub(super) const MALFORMED: u8 = 0xFF;

/// Chunk size of the decoder's input and output buffers.
const CHUNK: usize = 8 * 1024;

/// Text encoding of an input file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum InputEncoding {
    /// UTF-8, with or without a byte-order mark.
    Utf8,
    /// UTF-16 little-endian (Excel "Unicode text").
    Utf16Le,
    /// UTF-16 big-endian.
    Utf16Be,
    /// Windows-1252, a superset of the printable Latin-1 (ISO 8859-1).
    Windows1252,
}

impl InputEncoding {
    /// The name used in messages and accepted by [`FromStr`]: `UTF-8`,
    /// `UTF-16LE`, `UTF-16BE`, `windows-1252`.
    pub fn name(self) -> &'static str {
        match self {
            InputEncoding::Utf8 => "UTF-8",
            InputEncoding::Utf16Le => "UTF-16LE",
            InputEncoding::Utf16Be => "UTF-16BE",
            InputEncoding::Windows1252 => "windows-1252",
        }
    }

    /// The byte-order mark of this encoding.
    fn bom(self) -> &'static [u8] {
        match self {
            InputEncoding::Utf8 => &[0xEF, 0xBB, 0xBF],
            InputEncoding::Utf16Le => &[0xFF, 0xFE],
            InputEncoding::Utf16Be => &[0xFE, 0xFF],
            InputEncoding::Windows1252 => &[],
        }
    }

    fn decoder(self) -> Option<Decoder> {
        let encoding = match self {
            InputEncoding::Utf8 => return None,
            InputEncoding::Utf16Le => encoding_rs::UTF_16LE,
            InputEncoding::Utf16Be => encoding_rs::UTF_16BE,
            InputEncoding::Windows1252 => encoding_rs::WINDOWS_1252,
        };
        Some(encoding.new_decoder_without_bom_handling())
    }
}

impl fmt::Display for InputEncoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for InputEncoding {
    type Err = String;

    /// Accepts the usual labels, ignoring case, `-` and `_`: `utf8`,
    /// `utf16le`, `utf16be`, `windows1252`, `cp1252`, `latin1`,
    /// `iso88591`.
    fn from_str(s: &str) -> Result<Self, String> {
        let folded: String = s
            .chars()
            .filter(|c| !matches!(c, '-' | '_' | ' '))
            .flat_map(char::to_lowercase)
            .collect();
        match folded.as_str() {
            "utf8" => Ok(InputEncoding::Utf8),
            "utf16le" => Ok(InputEncoding::Utf16Le),
            "utf16be" => Ok(InputEncoding::Utf16Be),
            "windows1252" | "cp1252" | "latin1" | "iso88591" => Ok(InputEncoding::Windows1252),
            _ => Err(format!(
                "unknown encoding `{s}`; use one of utf-8, utf-16le, utf-16be, windows-1252"
            )),
        }
    }
}

/// Reads up to [`SAMPLE`] bytes; `true` with them if the input ended.
pub(super) fn read_sample<R: Read>(reader: &mut R) -> io::Result<(Vec<u8>, bool)> {
    let mut sample = Vec::with_capacity(SAMPLE);
    let got = reader
        .by_ref()
        .take(SAMPLE as u64)
        .read_to_end(&mut sample)?;
    Ok((sample, got < SAMPLE))
}

/// The encoding to use and how many leading bytes (a byte-order mark) to
/// drop. A forced encoding wins; its own byte-order mark is still dropped.
pub(super) fn choose(
    sample: &[u8],
    at_eof: bool,
    forced: Option<InputEncoding>,
) -> (InputEncoding, usize) {
    const BY_BOM: [InputEncoding; 3] = [
        InputEncoding::Utf8,
        InputEncoding::Utf16Le,
        InputEncoding::Utf16Be,
    ];
    let bom_len = |e: InputEncoding| {
        let bom = e.bom();
        if !bom.is_empty() && sample.starts_with(bom) {
            bom.len()
        } else {
            0
        }
    };
    if let Some(e) = forced {
        return (e, bom_len(e));
    }
    if let Some(e) = BY_BOM.into_iter().find(|&e| bom_len(e) > 0) {
        return (e, bom_len(e));
    }
    if looks_like_windows_1252(sample, at_eof) {
        (InputEncoding::Windows1252, 0)
    } else {
        (InputEncoding::Utf8, 0)
    }
}

/// Rules 2 and 3 of the module documentation.
fn looks_like_windows_1252(sample: &[u8], at_eof: bool) -> bool {
    let mut well_formed = 0usize;
    let mut broken = 0usize;
    let mut chunks = sample.utf8_chunks().peekable();
    while let Some(chunk) = chunks.next() {
        well_formed += chunk.valid().chars().filter(|c| !c.is_ascii()).count();
        let invalid = chunk.invalid();
        if invalid.is_empty() {
            continue;
        }
        // A sequence that is only incomplete, at the very end of a sample
        // that stops before the file does, was cut by the sample.
        let cut = chunks.peek().is_none()
            && !at_eof
            && std::str::from_utf8(invalid).is_err_and(|e| e.error_len().is_none());
        if !cut {
            broken += 1;
        }
    }
    broken > well_formed
}

/// Streaming decoder from `encoding` to UTF-8; UTF-8 passes through as is.
pub(super) struct Decode<R> {
    inner: R,
    decoder: Option<Decoder>,
    input: Box<[u8]>,
    in_start: usize,
    in_end: usize,
    eof: bool,
    /// One byte longer than a decoder write, so a malformed marker fits.
    output: Box<[u8]>,
    out_start: usize,
    out_end: usize,
    finished: bool,
}

impl<R: Read> Decode<R> {
    /// Decodes `inner`, which must start after any byte-order mark.
    pub(super) fn new(inner: R, encoding: InputEncoding) -> Self {
        let decoder = encoding.decoder();
        let sizes = if decoder.is_some() {
            (CHUNK, CHUNK + 1)
        } else {
            (0, 0)
        };
        Decode {
            inner,
            decoder,
            input: vec![0; sizes.0].into_boxed_slice(),
            in_start: 0,
            in_end: 0,
            eof: false,
            output: vec![0; sizes.1].into_boxed_slice(),
            out_start: 0,
            out_end: 0,
            finished: false,
        }
    }
}

impl<R: Read> Read for Decode<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let Some(decoder) = self.decoder.as_mut() else {
            return self.inner.read(buf);
        };
        loop {
            if self.out_start < self.out_end {
                let n = buf.len().min(self.out_end - self.out_start);
                buf[..n].copy_from_slice(&self.output[self.out_start..self.out_start + n]);
                self.out_start += n;
                return Ok(n);
            }
            if self.finished || buf.is_empty() {
                return Ok(0);
            }
            if self.in_start == self.in_end && !self.eof {
                let n = self.inner.read(&mut self.input)?;
                self.eof = n == 0;
                self.in_start = 0;
                self.in_end = n;
            }
            let (result, read, written) = decoder.decode_to_utf8_without_replacement(
                &self.input[self.in_start..self.in_end],
                &mut self.output[..CHUNK],
                self.eof,
            );
            self.in_start += read;
            self.out_start = 0;
            self.out_end = written;
            match result {
                DecoderResult::InputEmpty => self.finished = self.eof,
                // CHUNK bytes always hold a character, and they are handed
                // out before the next call.
                DecoderResult::OutputFull => {}
                DecoderResult::Malformed(_, _) => {
                    self.output[written] = MALFORMED;
                    self.out_end += 1;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detect(sample: &[u8], at_eof: bool) -> (InputEncoding, usize) {
        choose(sample, at_eof, None)
    }

    /// Decodes through `Decode`, reading `step` bytes at a time.
    fn decode(data: &[u8], encoding: InputEncoding, step: usize) -> Vec<u8> {
        let mut d = Decode::new(data, encoding);
        let mut out = Vec::new();
        let mut buf = vec![0; step];
        loop {
            match d.read(&mut buf) {
                Ok(0) => return out,
                Ok(n) => out.extend_from_slice(&buf[..n]),
                Err(e) => panic!("{e}"),
            }
        }
    }

    fn utf16le(s: &str) -> Vec<u8> {
        s.encode_utf16().flat_map(u16::to_le_bytes).collect()
    }

    fn utf16be(s: &str) -> Vec<u8> {
        s.encode_utf16().flat_map(u16::to_be_bytes).collect()
    }

    #[test]
    fn byte_order_marks_decide_and_are_dropped() {
        assert_eq!(detect(b"\xFF\xFEs\0", true), (InputEncoding::Utf16Le, 2));
        assert_eq!(detect(b"\xFE\xFF\0s", true), (InputEncoding::Utf16Be, 2));
        assert_eq!(detect(b"\xEF\xBB\xBFs", true), (InputEncoding::Utf8, 3));
        // A UTF-8 BOM wins over broken bytes after it.
        assert_eq!(
            detect(b"\xEF\xBB\xBFcaf\xE9", true),
            (InputEncoding::Utf8, 3)
        );
    }

    #[test]
    fn valid_utf8_or_windows_1252() {
        assert_eq!(detect(b"", true), (InputEncoding::Utf8, 0));
        assert_eq!(detect(b"score,comment\n", true), (InputEncoding::Utf8, 0));
        assert_eq!(detect("Begründung".as_bytes(), true).0, InputEncoding::Utf8);
        assert_eq!(
            detect(b"Begr\xFCndung;Stra\xDFe", true).0,
            InputEncoding::Windows1252
        );
    }

    #[test]
    fn damaged_utf8_stays_utf8_when_it_shows_utf8() {
        // One broken byte, one real "è": a UTF-8 file with a bad row.
        let mut bytes = "ok,très bien\nbad,caf".as_bytes().to_vec();
        bytes.extend_from_slice(b"\xE9\n");
        assert_eq!(detect(&bytes, true).0, InputEncoding::Utf8);
        // More broken than real: Windows-1252.
        bytes.extend_from_slice(b"\xE4\xDF\n");
        assert_eq!(detect(&bytes, true).0, InputEncoding::Windows1252);
    }

    #[test]
    fn a_sequence_cut_by_the_sample_end_is_not_broken() {
        let mut sample = vec![b'a'; 10];
        sample.extend_from_slice(&"€".as_bytes()[..2]);
        assert_eq!(detect(&sample, false).0, InputEncoding::Utf8);
        // At the true end of the file the same bytes are broken.
        assert_eq!(detect(&sample, true).0, InputEncoding::Windows1252);
        // A byte that cannot start any sequence is broken even at the cut.
        sample.push(0xFF);
        assert_eq!(detect(&sample, false).0, InputEncoding::Windows1252);
    }

    #[test]
    fn forced_encoding_wins_and_drops_only_its_own_bom() {
        let forced = |s: &[u8], e| choose(s, true, Some(e));
        assert_eq!(
            forced(b"\xFF\xFEa\0", InputEncoding::Utf16Le),
            (InputEncoding::Utf16Le, 2)
        );
        assert_eq!(
            forced(b"\xFF\xFEa\0", InputEncoding::Windows1252),
            (InputEncoding::Windows1252, 0)
        );
        assert_eq!(
            forced("Begründung".as_bytes(), InputEncoding::Windows1252),
            (InputEncoding::Windows1252, 0)
        );
        assert_eq!(
            forced(b"caf\xE9", InputEncoding::Utf8),
            (InputEncoding::Utf8, 0)
        );
    }

    #[test]
    fn decodes_across_any_read_size() {
        let text = "id\tNPS\tKommentar\r\n1\t9\t\"Grüße, 😀 ä\"\r\n";
        for step in [1, 2, 3, 7, 4096, 20000] {
            for (bytes, e) in [
                (utf16le(text), InputEncoding::Utf16Le),
                (utf16be(text), InputEncoding::Utf16Be),
                (text.as_bytes().to_vec(), InputEncoding::Utf8),
            ] {
                assert_eq!(decode(&bytes, e, step), text.as_bytes(), "{e} step {step}");
            }
        }
        let latin = b"\xE4\xDF\xE9\x80 \x9C";
        assert_eq!(
            decode(latin, InputEncoding::Windows1252, 1),
            "äßé€ œ".as_bytes()
        );
    }

    #[test]
    fn long_input_crosses_buffer_boundaries() {
        let text = "ä😀x\n".repeat(5000);
        let bytes = utf16le(&text);
        assert!(bytes.len() > 4 * CHUNK);
        assert_eq!(
            decode(&bytes, InputEncoding::Utf16Le, 1000),
            text.as_bytes()
        );
    }

    #[test]
    fn malformed_utf16_becomes_a_marker() {
        // "a", an unpaired high surrogate, "b", then an odd trailing byte.
        let bytes = [b'a', 0, 0x00, 0xD8, b'b', 0, b'c'];
        let got = decode(&bytes, InputEncoding::Utf16Le, 3);
        assert_eq!(got, [b'a', MALFORMED, b'b', MALFORMED]);
        assert!(std::str::from_utf8(&got).is_err());
    }

    #[test]
    fn sample_reads_at_most_64_kib() {
        let data = vec![b'x'; SAMPLE + 10];
        let mut r = &data[..];
        let (sample, eof) = read_sample(&mut r).unwrap_or_default();
        assert_eq!((sample.len(), eof, r.len()), (SAMPLE, false, 10));
        let mut r = &b"short"[..];
        let (sample, eof) = read_sample(&mut r).unwrap_or_default();
        assert_eq!((sample.as_slice(), eof), (&b"short"[..], true));
    }

    #[test]
    fn names_round_trip() {
        for e in [
            InputEncoding::Utf8,
            InputEncoding::Utf16Le,
            InputEncoding::Utf16Be,
            InputEncoding::Windows1252,
        ] {
            assert_eq!(e.name().parse::<InputEncoding>(), Ok(e));
        }
        assert_eq!("Latin-1".parse(), Ok(InputEncoding::Windows1252));
        assert_eq!("cp1252".parse(), Ok(InputEncoding::Windows1252));
        let err = "ebcdic".parse::<InputEncoding>().err().unwrap_or_default();
        assert!(
            err.contains("`ebcdic`") && err.contains("windows-1252"),
            "{err}"
        );
    }
}
