//! Tests of [`ResponseStream`]: it yields what the collecting readers
//! return, counts as it goes, reads no further than it must, moves to
//! another thread, and ends after a fatal I/O error.

use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use super::format_tests::{utf16be_bom, utf16le_bom, EXCEL_UNICODE, JSONL, WINDOWS_1252};
use super::tests::{BA, SEMICOLON_BOM_CRLF};
use super::*;

fn opened(data: &[u8], opts: &InputOptions) -> ResponseStream {
    match ResponseStream::from_reader(io::Cursor::new(data.to_vec()), "t.csv", opts) {
        Ok(stream) => stream,
        Err(e) => panic!("unexpected error: {e}"),
    }
}

fn collected(data: &[u8], opts: &InputOptions) -> Ingested {
    match read_responses_from(data, "t.csv", opts) {
        Ok(ing) => ing,
        Err(e) => panic!("unexpected error: {e}"),
    }
}

/// Drains `stream`, checking `read()` after every record and that records
/// come in file order, and checks the result against `want`.
fn assert_same(mut stream: ResponseStream, want: &Ingested, what: &str) {
    assert_eq!(stream.source(), want.source, "{what}");
    assert_eq!(stream.delimiter(), want.delimiter, "{what}");
    assert_eq!(stream.encoding(), want.encoding, "{what}");
    assert_eq!(stream.format(), want.format, "{what}");
    assert_eq!(stream.scale(), want.scale, "{what}");
    assert_eq!(stream.columns(), &want.columns, "{what}");
    assert_eq!(stream.segment_columns(), want.segment_columns, "{what}");
    assert_eq!(stream.read(), 0, "{what}");
    let mut responses = Vec::new();
    let mut rejects = Vec::new();
    let mut last_line = 0;
    while let Some(record) = stream.next() {
        let line = match record {
            Ok(Record::Response(r)) => {
                let line = r.line;
                responses.push(r);
                line
            }
            Ok(Record::Reject(r)) => {
                let line = r.line;
                rejects.push(r);
                line
            }
            Err(e) => panic!("{what}: {e}"),
        };
        assert!(line > last_line, "{what}: line {line} after {last_line}");
        last_line = line;
        assert_eq!(
            stream.read(),
            (responses.len() + rejects.len()) as u64,
            "{what}"
        );
    }
    assert_eq!(responses, want.responses, "{what}");
    assert_eq!(rejects, want.rejects, "{what}");
    assert_eq!(stream.read(), want.read, "{what}");
    // Ended for good.
    assert!(stream.next().is_none(), "{what}");
    assert_eq!(stream.read(), want.read, "{what}");
}

#[test]
fn stream_and_collect_agree_on_the_fixtures() {
    let by_id = InputOptions {
        id_column: Some("ReviewID".into()),
        ..InputOptions::default()
    };
    let utf8 = InputOptions {
        encoding: Some(InputEncoding::Utf8),
        ..InputOptions::default()
    };
    let one_to_five = InputOptions {
        scale: Some(Scale::OneToFive),
        ..InputOptions::default()
    };
    let jsonl_utf16 = utf16le_bom(
        "{\"score\": 9, \"comment\": \"Grüße\"}\r\n{\"score\": \"2\", \"comment\": \"été\"}\r\n",
    );
    let no_ids = b"score,comment\n9,good\n9,good\n5,bad\n9,good\n";
    let default = InputOptions::default();
    let cases: [(&str, &[u8], &InputOptions); 12] = [
        ("csv semicolon", SEMICOLON_BOM_CRLF, &default),
        ("csv BA", BA.as_bytes(), &default),
        ("csv BA by id", BA.as_bytes(), &by_id),
        ("csv hashed ids", no_ids, &default),
        (
            "csv 1-5",
            b"nps,comment\n0,a\n1,b\n5,c\n6,d\n",
            &one_to_five,
        ),
        ("jsonl", JSONL.as_bytes(), &default),
        ("jsonl 1-5", JSONL.as_bytes(), &one_to_five),
        ("jsonl utf-16", &jsonl_utf16, &default),
        ("utf-16le", &utf16le_bom(EXCEL_UNICODE), &default),
        ("utf-16be", &utf16be_bom(EXCEL_UNICODE), &default),
        ("windows-1252", WINDOWS_1252, &default),
        (
            "broken utf-8",
            b"score,comment\n9,caf\xe9 au lait\n8,fine\n",
            &utf8,
        ),
    ];
    for (what, data, opts) in cases {
        let want = collected(data, opts);
        assert!(want.read > 0, "{what}");
        assert_same(opened(data, opts), &want, what);
    }
}

#[test]
fn stream_and_collect_agree_by_path() {
    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => panic!("{e}"),
    };
    let cases: [(&str, &[u8]); 3] = [
        ("survey.jsonl", JSONL.as_bytes()),
        ("survey.csv", SEMICOLON_BOM_CRLF),
        ("excel.txt", &utf16le_bom(EXCEL_UNICODE)),
    ];
    for (name, data) in cases {
        let path = dir.path().join(name);
        if let Err(e) = std::fs::write(&path, data) {
            panic!("{e}");
        }
        let opts = InputOptions::default();
        let want = match read_responses(&path, &opts) {
            Ok(ing) => ing,
            Err(e) => panic!("{name}: {e}"),
        };
        let stream = match ResponseStream::open(&path, &opts) {
            Ok(s) => s,
            Err(e) => panic!("{name}: {e}"),
        };
        assert_same(stream, &want, name);
    }
    let missing = Path::new("/nonexistent/verbatim/survey.jsonl");
    let msg = ResponseStream::open(missing, &InputOptions::default())
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(msg.contains("/nonexistent/verbatim/survey.jsonl"), "{msg}");
}

#[test]
fn whole_file_problems_come_before_the_first_record() {
    let open = |data: &'static [u8]| {
        ResponseStream::from_reader(data, "survey.csv", &InputOptions::default())
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
    };
    assert!(open(b"").contains("empty"));
    assert!(open(b"Q1,Q2\n9,x\n").contains("no score column"));
    assert!(open(b"{not json\n").contains("not a JSON object"));
    // Header only: open, but no records.
    let mut stream = opened(b"score,comment\n", &InputOptions::default());
    assert!(stream.next().is_none());
    assert_eq!(stream.read(), 0);
}

/// Hands out `data` and counts the bytes it was asked for.
struct Counting {
    data: io::Cursor<Vec<u8>>,
    pulled: Arc<AtomicUsize>,
}

impl Read for Counting {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.data.read(buf)?;
        self.pulled.fetch_add(n, Ordering::Relaxed);
        Ok(n)
    }
}

fn many_rows(rows: u64) -> Vec<u8> {
    let mut data = b"id,score,comment,channel\n".to_vec();
    for i in 0..rows {
        let row = format!("{i},{},comment number {i} is fine,web\n", i % 11);
        data.extend_from_slice(row.as_bytes());
    }
    data
}

#[test]
fn the_first_record_does_not_read_the_rest() {
    const ROWS: u64 = 200_000;
    let data = many_rows(ROWS);
    let total = data.len();
    let pulled = Arc::new(AtomicUsize::new(0));
    let reader = Counting {
        data: io::Cursor::new(data),
        pulled: Arc::clone(&pulled),
    };
    let mut stream = match ResponseStream::from_reader(reader, "big.csv", &InputOptions::default())
    {
        Ok(s) => s,
        Err(e) => panic!("{e}"),
    };
    match stream.next() {
        Some(Ok(Record::Response(r))) => assert_eq!((r.line, r.id.as_str()), (2, "0")),
        other => panic!("{other:?}"),
    }
    assert_eq!(stream.read(), 1);
    // The 64 KiB encoding sample and a few parser buffers, not the file.
    let so_far = pulled.load(Ordering::Relaxed);
    assert!(total > 5_000_000, "{total}");
    assert!(so_far < 128 * 1024, "read {so_far} of {total} bytes");
    // The rest is still there.
    let rest = stream.by_ref().filter(|r| r.is_ok()).count() as u64;
    assert_eq!((rest, stream.read()), (ROWS - 1, ROWS));
    assert_eq!(pulled.load(Ordering::Relaxed), total);
}

#[test]
fn the_stream_is_read_on_another_thread() {
    fn is_send<T: Send>() {}
    is_send::<ResponseStream>();
    let data = many_rows(1_000);
    let want = collected(&data, &InputOptions::default());
    let stream = opened(&data, &InputOptions::default());
    let counted = std::thread::spawn(move || stream.count()).join();
    match counted {
        Ok(n) => assert_eq!(n as u64, want.read),
        Err(_) => panic!("the reading thread panicked"),
    }
    // Also a JSON Lines stream, which holds its buffered text.
    let want = collected(JSONL.as_bytes(), &InputOptions::default());
    let stream = opened(JSONL.as_bytes(), &InputOptions::default());
    let rejects = std::thread::spawn(move || {
        stream
            .filter(|r| matches!(r, Ok(Record::Reject(_))))
            .count()
    })
    .join();
    assert_eq!(rejects.ok(), Some(want.rejects.len()));
}

/// Hands out `data`, then fails.
struct Failing(io::Cursor<Vec<u8>>);

impl Read for Failing {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.0.read(buf)? {
            0 => Err(io::Error::other("device gone")),
            n => Ok(n),
        }
    }
}

#[test]
fn a_fatal_read_error_ends_the_stream() {
    // Longer than the 64 KiB sample, so the error comes after the header,
    // while records are being read.
    let data = many_rows(5_000);
    let failing = || Failing(io::Cursor::new(data.clone()));
    let mut stream =
        match ResponseStream::from_reader(failing(), "dying.csv", &InputOptions::default()) {
            Ok(s) => s,
            Err(e) => panic!("{e}"),
        };
    let mut ok = 0u64;
    let msg = loop {
        match stream.next() {
            Some(Ok(_)) => ok += 1,
            Some(Err(e)) => break e.to_string(),
            None => panic!("ended without the error"),
        }
    };
    // Every record before the failure is delivered, then the error.
    assert_eq!(ok, 5_000);
    assert_eq!(stream.read(), ok);
    assert!(
        msg.contains("dying.csv") && msg.contains("device gone"),
        "{msg}"
    );
    assert!(stream.next().is_none());
    // The collecting reader gives the same error and nothing else.
    let msg = read_responses_from(failing(), "dying.csv", &InputOptions::default())
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(msg.contains("device gone"), "{msg}");
}
