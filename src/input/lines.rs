//! Finds the physical line on which each CSV record starts.
//!
//! `csv`'s `Position::line()` is off by one for every record after a CRLF
//! line end (the `\n` of the previous terminator is only counted when the
//! next record is read) and points at the first blank line when blank lines
//! precede a record. A reject file that sends someone to the wrong line is
//! worse than none, so this reader sits between the byte stream and the CSV
//! parser, mirrors `csv-core`'s record splitting (default quoting, `"`
//! doubled inside quotes, CR, LF or CRLF ends a record, blank lines
//! skipped) and queues the line of each record's first byte. The parser
//! pulls records in the same order, so one pop per record stays in step.
//!
//! A line ends at LF, at CRLF, or at a CR not followed by LF, as editors
//! count them; line 1 is the first line after any BOM.
//!
//! Since it sees every byte of every record, it also bounds them: a record
//! longer than [`MAX_RECORD_BYTES`] is an error naming its start line (in
//! practice a quote left open that would swallow the rest of the file into
//! one field, in memory).

use std::collections::VecDeque;
use std::io::{self, Read};

use super::MAX_RECORD_BYTES;

/// Where the splitter is, as in `csv-core`'s state machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Between records: terminators here are blank lines.
    StartRecord,
    /// At the start of a field: a quote opens a quoted field.
    StartField,
    /// Inside an unquoted field.
    InField,
    /// Inside a quoted field: terminators and delimiters are content.
    InQuoted,
    /// Just after a quote inside a quoted field.
    QuoteInQuoted,
}

/// Pass-through reader that records where records start.
pub(super) struct LineTracker<R> {
    inner: R,
    delimiter: u8,
    state: State,
    line: u64,
    after_cr: bool,
    starts: VecDeque<u64>,
    /// Bytes of the current record so far, and the most allowed.
    record_bytes: usize,
    max_record: usize,
    /// Start line of a record that went over `max_record`.
    too_long: Option<u64>,
}

impl<R: Read> LineTracker<R> {
    /// Wraps `inner`, whose first byte is on line 1.
    pub(super) fn new(inner: R, delimiter: u8) -> Self {
        Self::with_limit(inner, delimiter, MAX_RECORD_BYTES)
    }

    /// As [`LineTracker::new`], with records of at most `max_record` bytes.
    pub(super) fn with_limit(inner: R, delimiter: u8, max_record: usize) -> Self {
        LineTracker {
            inner,
            delimiter,
            state: State::StartRecord,
            line: 1,
            after_cr: false,
            starts: VecDeque::new(),
            record_bytes: 0,
            max_record,
            too_long: None,
        }
    }

    /// Start line of the oldest record not yet taken; `None` if the parser
    /// got ahead of the tracker, which the mirrored rules should prevent.
    pub(super) fn next_start(&mut self) -> Option<u64> {
        self.starts.pop_front()
    }

    fn scan(&mut self, bytes: &[u8]) {
        for &b in bytes {
            if self.after_cr && b != b'\n' {
                self.line += 1;
            }
            self.after_cr = false;
            self.step(b);
            match b {
                b'\n' => self.line += 1,
                b'\r' => self.after_cr = true,
                _ => {}
            }
        }
    }

    fn step(&mut self, b: u8) {
        let term = b == b'\r' || b == b'\n';
        let quote = b == b'"';
        let delim = b == self.delimiter;
        if self.state == State::StartRecord {
            if term {
                return;
            }
            self.starts.push_back(self.line);
            self.state = State::StartField;
            self.record_bytes = 0;
        }
        self.record_bytes += 1;
        if self.record_bytes > self.max_record && self.too_long.is_none() {
            self.too_long = self.starts.back().copied();
        }
        self.state = match self.state {
            State::InQuoted if quote => State::QuoteInQuoted,
            State::InQuoted => State::InQuoted,
            State::StartField | State::QuoteInQuoted if quote => State::InQuoted,
            _ if delim => State::StartField,
            _ if term => State::StartRecord,
            // Includes a quote inside an unquoted field, which is content.
            _ => State::InField,
        };
    }
}

impl<R: Read> Read for LineTracker<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(line) = self.too_long {
            return Err(too_long(line, self.max_record));
        }
        // Bytes already read are handed over; the error comes on the next
        // read, so the records before the runaway one are all returned.
        let n = self.inner.read(buf)?;
        self.scan(&buf[..n]);
        Ok(n)
    }
}

fn too_long(line: u64, max: usize) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!(
            "the record that starts on line {line} is longer than {} MiB; \
             is a quote (\") left open there?",
            max >> 20
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Start lines of all records (header included) as the tracker gives
    /// them to `csv`'s records, checking that there is exactly one per record.
    fn starts(data: &[u8], delimiter: u8) -> Vec<u64> {
        let mut csv = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .has_headers(false)
            .flexible(true)
            .from_reader(LineTracker::new(data, delimiter));
        let mut record = csv::ByteRecord::new();
        let mut lines = Vec::new();
        while let Ok(true) = csv.read_byte_record(&mut record) {
            match csv.get_mut().next_start() {
                Some(line) => lines.push(line),
                None => panic!("tracker behind csv on {data:?}"),
            }
        }
        assert_eq!(
            csv.get_mut().next_start(),
            None,
            "tracker ahead on {data:?}"
        );
        lines
    }

    #[test]
    fn lf_crlf_and_cr_line_ends() {
        assert_eq!(starts(b"a,b\n1,2\n3,4\n", b','), [1, 2, 3]);
        assert_eq!(starts(b"a,b\r\n1,2\r\n3,4\r\n", b','), [1, 2, 3]);
        assert_eq!(starts(b"a,b\r1,2\r3,4", b','), [1, 2, 3]);
    }

    #[test]
    fn quoted_newlines_and_blank_lines() {
        let data = b"h\r\n\"x\r\ny\"\r\n\r\n\n\"q\"\"\n\"\nlast";
        // h on 1; "x..y" on 2-3; blank 4, 5; "q""\n" on 6-7; last on 8.
        assert_eq!(starts(data, b','), [1, 2, 6, 8]);
    }

    #[test]
    fn a_runaway_record_stops_the_read_at_its_start_line() {
        let mut data = b"a,b\n1,2\n3,\"open quote\n".to_vec();
        data.extend(std::iter::repeat_n(b'x', 5000));
        data.extend_from_slice(b"\n4,5\n");
        let mut csv = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(LineTracker::with_limit(&data[..], b',', 1 << 20 >> 8));
        let mut record = csv::ByteRecord::new();
        let mut outcome = Vec::new();
        loop {
            match csv.read_byte_record(&mut record) {
                Ok(true) => outcome.push(Ok(record.len())),
                Ok(false) => break,
                Err(e) => {
                    outcome.push(Err(e.to_string()));
                    break;
                }
            }
        }
        // 4 KiB limit: the two short records pass, the open quote on line 3 stops.
        assert_eq!(outcome.len(), 3, "{outcome:?}");
        let err = outcome[2].clone().err().unwrap_or_default();
        assert!(err.contains("starts on line 3"), "{err}");
        assert!(err.contains("quote"), "{err}");
    }

    #[test]
    fn stays_in_step_with_csv_on_random_bytes() {
        const ALPHABET: &[u8] = b",;\"\n\r ab";
        let mut seed = 7u64;
        for _ in 0..5000 {
            let mut data = Vec::new();
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            let len = (seed >> 33) % 40;
            for _ in 0..len {
                seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                data.push(ALPHABET[((seed >> 33) % ALPHABET.len() as u64) as usize]);
            }
            for delimiter in [b',', b';'] {
                let lines = starts(&data, delimiter);
                assert!(lines.windows(2).all(|w| w[0] < w[1]), "{data:?}");
            }
        }
    }
}
