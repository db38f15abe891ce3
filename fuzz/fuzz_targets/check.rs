//! What must hold for any input, checked by the fuzz targets and, on the
//! inputs the fuzzer once crashed on, by `tests/fuzz_regressions.rs`, which
//! includes this file (so both run exactly the same checks).
//!
//! The first byte of an ingest input picks the options (encoding, forced
//! delimiter, scale, id column, format detection), the rest is the file.
//! A violated property panics, which is what the fuzzer reports.

#![allow(dead_code)]

use std::collections::{HashMap, HashSet};

use verbatim::classify::Taxonomy;
use verbatim::input::{
    InputEncoding, InputFormat, InputOptions, Record, ResponseStream, Scale, MAX_COMMENT_CHARS,
};

/// The options a leading byte stands for; `format` is the target's format,
/// left to detection when bit 6 is set.
pub fn options(byte: u8, format: InputFormat) -> InputOptions {
    InputOptions {
        encoding: match byte & 3 {
            0 => None,
            1 => Some(InputEncoding::Utf8),
            2 => Some(InputEncoding::Utf16Le),
            _ => Some(InputEncoding::Windows1252),
        },
        delimiter: match (byte >> 2) & 3 {
            0 => None,
            1 => Some(b';'),
            2 => Some(b'\t'),
            _ => Some(b'|'),
        },
        scale: (byte & 16 != 0).then_some(Scale::OneToFive),
        id_column: (byte & 32 != 0).then(|| "id".to_string()),
        format: (byte & 64 == 0).then_some(format),
        ..InputOptions::default()
    }
}

/// Reads `data` (option byte first) as an export and checks the
/// accounting: every record is a response or a reject, in file order, each
/// reject with a line and a reason, each response well-formed.
pub fn ingest(data: &[u8], format: InputFormat) {
    let Some((&byte, file)) = data.split_first() else {
        return;
    };
    let opts = options(byte, format);
    let stream =
        match ResponseStream::from_reader(std::io::Cursor::new(file.to_vec()), "fuzz-input", &opts)
        {
            Ok(s) => s,
            Err(e) => {
                let msg = e.to_string();
                assert!(
                    msg.contains("fuzz-input"),
                    "error without the file name: {msg}"
                );
                return;
            }
        };
    check_stream(stream);
}

/// Drains a stream and checks every record and the counts.
pub fn check_stream(mut stream: ResponseStream) {
    let segments = stream.segment_columns().to_vec();
    let columns = stream.columns().clone();
    let mut known: HashSet<&str> = segments.iter().map(String::as_str).collect();
    if let Some(score) = &columns.score {
        known.insert(score);
    }
    known.insert(&columns.text);
    if let Some(id) = &columns.id {
        known.insert(id);
    }
    let (mut responses, mut rejects) = (0u64, 0u64);
    let mut last_line = 0u64;
    let mut ids: HashMap<String, u64> = HashMap::new();
    for record in stream.by_ref() {
        let record = match record {
            Ok(r) => r,
            // An in-memory reader cannot fail, and records over 64 MiB do
            // not fit in a fuzz input: any error here is a bug.
            Err(e) => panic!("error in the middle of an in-memory input: {e}"),
        };
        let line = match &record {
            Record::Response(r) => {
                responses += 1;
                assert!(
                    r.score.is_some_and(|s| s <= 10),
                    "score {:?} out of 0-10",
                    r.score
                );
                assert_eq!(r.segments.len(), segments.len(), "segments not parallel");
                assert!(!r.id.is_empty(), "empty id on line {}", r.line);
                if let Some(first) = ids.insert(r.id.clone(), r.line) {
                    panic!("id {:?} on lines {first} and {}", r.id, r.line);
                }
                assert!(r.comment.chars().count() <= MAX_COMMENT_CHARS);
                assert_eq!(r.comment.trim(), r.comment, "comment not trimmed");
                let texts = std::iter::once(&r.comment).chain(&r.segments);
                assert!(texts.clone().all(|t| !t.contains('\0')), "NUL accepted");
                r.line
            }
            Record::Reject(r) => {
                rejects += 1;
                assert!(!r.reason.trim().is_empty(), "reject without a reason");
                if let Some(c) = &r.column {
                    assert!(
                        known.contains(c.as_str()),
                        "reject names unknown column {c:?}"
                    );
                }
                r.line
            }
        };
        assert!(
            line > last_line,
            "record on line {line} after line {last_line}"
        );
        last_line = line;
    }
    assert_eq!(
        stream.read(),
        responses + rejects,
        "read != responses + rejects"
    );
}

/// Parses `data` as a taxonomy and, when it is accepted, checks that it is
/// valid: topics, unique snake_case ids, parents that exist, no cycle.
pub fn taxonomy(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let tax = match Taxonomy::parse(text, "fuzz.toml") {
        Ok(t) => t,
        Err(e) => {
            let msg = e.to_string();
            // `fuzz.toml: …`, or `fuzz.toml:LINE:COLUMN: …` for one
            // problem with its place.
            assert!(
                msg.starts_with("fuzz.toml:"),
                "error without the file: {msg}"
            );
            return;
        }
    };
    assert!(!tax.topics.is_empty(), "accepted without topics");
    let parents: HashMap<&str, Option<&str>> = tax
        .topics
        .iter()
        .map(|t| (t.id.as_str(), t.parent.as_deref()))
        .collect();
    assert_eq!(parents.len(), tax.topics.len(), "duplicate id accepted");
    for t in &tax.topics {
        assert!(
            !t.id.is_empty()
                && t.id
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
            "id {:?} accepted",
            t.id
        );
        assert!(t.all_examples().next().is_some(), "topic without examples");
    }
    // Every topic reaches a root: walk up until a topic already known to,
    // so that a long chain is checked in linear time; a walk longer than
    // the number of topics has gone round a cycle.
    let mut rooted: HashSet<&str> = HashSet::new();
    for t in &tax.topics {
        let mut walk = Vec::new();
        let mut at = Some(t.id.as_str());
        while let Some(id) = at {
            if rooted.contains(id) {
                break;
            }
            assert!(
                walk.len() <= tax.topics.len(),
                "cycle through {id:?} accepted"
            );
            walk.push(id);
            at = match parents.get(id) {
                Some(p) => *p,
                None => panic!("parent {id:?} is not a topic"),
            };
        }
        rooted.extend(walk);
    }
}
