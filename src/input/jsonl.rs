//! Reads JSON Lines exports: one JSON object per line.
//!
//! Survey APIs export responses as objects whose keys vary from line to line
//! (an unanswered question is often left out), so the columns are the union
//! of all keys in the order they are first seen. That needs the whole file
//! before the first row can be laid out; rather than keep every object in
//! memory, the reader makes two passes: [`scan`] collects the keys and
//! [`Reader`] turns each line into a record, one at a time. For a file both
//! passes read the file; a stream is buffered once by the caller.
//!
//! Values become the same text a CSV cell would hold, so the score, id and
//! duplicate checks are shared with CSV: strings as they are, numbers as
//! JSON writes them (`9`, `9.0`), `true`/`false`, `null` and a missing key as
//! an empty cell, and a nested object or array as compact JSON text.
//!
//! serde_json's own map would sort keys (the crate is built without
//! `preserve_order`), so objects are read through small visitors that keep
//! the file's order.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::io::{self, BufRead};

use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::Value;

use super::{Record, Rows, MAX_RECORD_BYTES};

/// What the first pass found.
pub(super) struct Scan {
    /// Union of keys, in first-seen order.
    pub keys: Vec<String>,
    /// Lines holding something other than whitespace.
    pub lines: u64,
    /// Lines that parsed as objects.
    pub objects: u64,
    /// Line and reason of the first line that is not an object.
    pub first_bad: Option<(u64, String)>,
}

/// First pass: the columns, and whether the input is JSON Lines at all.
pub(super) fn scan<B: BufRead>(mut reader: B) -> io::Result<Scan> {
    let mut scan = Scan {
        keys: Vec::new(),
        lines: 0,
        objects: 0,
        first_bad: None,
    };
    let mut seen = HashSet::new();
    let mut buf = Vec::new();
    let mut line = 0u64;
    while let Some(whole) = next_line(&mut reader, &mut buf, MAX_RECORD_BYTES)? {
        line += 1;
        if !whole {
            scan.lines += 1;
            if scan.first_bad.is_none() {
                scan.first_bad = Some((line, too_long()));
            }
            continue;
        }
        let bytes = content(&buf);
        if is_blank(bytes) {
            continue;
        }
        scan.lines += 1;
        match std::str::from_utf8(bytes)
            .map_err(|e| not_text(e.valid_up_to()))
            .and_then(|text| serde_json::from_str::<Keys>(text).map_err(|e| not_object(&e)))
        {
            Ok(Keys(keys)) => {
                scan.objects += 1;
                for key in keys {
                    if seen.insert(key.clone()) {
                        scan.keys.push(key);
                    }
                }
            }
            Err(reason) => {
                if scan.first_bad.is_none() {
                    scan.first_bad = Some((line, reason));
                }
            }
        }
    }
    Ok(scan)
}

/// Second pass: every non-blank line becomes a response or a reject, one
/// at a time. Keys the [`Rows`] do not know (the file changed between the
/// passes) are ignored.
pub(super) struct Reader<B> {
    reader: B,
    /// Column of each key of the header.
    index: HashMap<String, usize>,
    /// The current line, reused.
    buf: Vec<u8>,
    line: u64,
}

impl<B: BufRead> Reader<B> {
    /// Reads `reader` against `rows`, built over the keys from [`scan`].
    pub(super) fn new(reader: B, rows: &Rows) -> Self {
        let index = rows
            .raw_header
            .iter()
            .enumerate()
            .map(|(i, k)| (k.clone(), i))
            .collect();
        Reader {
            reader,
            index,
            buf: Vec::new(),
            line: 0,
        }
    }

    /// The next non-blank line as a record; `None` at the end.
    pub(super) fn next_record(&mut self, rows: &mut Rows) -> io::Result<Option<Record>> {
        while let Some(whole) = next_line(&mut self.reader, &mut self.buf, MAX_RECORD_BYTES)? {
            self.line += 1;
            let line = self.line;
            if !whole {
                let start = String::from_utf8_lossy(&self.buf[..self.buf.len().min(200)]);
                let record = format!("{start}…");
                return Ok(Some(rows.reject(line, None, too_long(), record)));
            }
            let bytes = content(&self.buf);
            if is_blank(bytes) {
                continue;
            }
            let text = match std::str::from_utf8(bytes) {
                Ok(text) => text,
                Err(e) => {
                    let reason = rows.bad_text(e.valid_up_to(), "line");
                    let record = String::from_utf8_lossy(bytes).into();
                    return Ok(Some(rows.reject(line, None, reason, record)));
                }
            };
            let object = match serde_json::from_str::<Object>(text) {
                Ok(Object(members)) => members,
                Err(e) => {
                    let reason = not_object(&e);
                    return Ok(Some(rows.reject(line, None, reason, text.to_string())));
                }
            };
            let mut fields = vec![String::new(); rows.header.len()];
            let mut given = vec![false; rows.header.len()];
            let mut duplicate = None;
            for (key, value) in object {
                if let Some(&i) = self.index.get(&key) {
                    if given[i] {
                        duplicate = Some(i);
                        break;
                    }
                    given[i] = true;
                    fields[i] = value_text(&value);
                }
            }
            if let Some(i) = duplicate {
                let reason = format!("duplicate key \"{}\" in the object", rows.header[i]);
                return Ok(Some(rows.reject(line, Some(i), reason, text.to_string())));
            }
            let fields: Vec<&str> = fields.iter().map(String::as_str).collect();
            let record = rows.fields_record(&fields, line, &|| text.to_string());
            return Ok(Some(record));
        }
        Ok(None)
    }
}

/// Reads one line (with its `\n`) into `buf`: `None` at the end,
/// `Some(true)` for a whole line, `Some(false)` for a line longer than
/// `max` bytes, of which `buf` holds the first `max` and the rest is
/// skipped unread into memory.
fn next_line<B: BufRead>(
    reader: &mut B,
    buf: &mut Vec<u8>,
    max: usize,
) -> io::Result<Option<bool>> {
    buf.clear();
    let mut limited = io::Read::take(&mut *reader, max as u64 + 1);
    let n = limited.read_until(b'\n', buf)?;
    if n == 0 {
        return Ok(None);
    }
    if buf.len() <= max || buf.last() == Some(&b'\n') {
        return Ok(Some(true));
    }
    buf.truncate(max);
    loop {
        let chunk = reader.fill_buf()?;
        if chunk.is_empty() {
            break;
        }
        match chunk.iter().position(|&b| b == b'\n') {
            Some(i) => {
                reader.consume(i + 1);
                break;
            }
            None => {
                let n = chunk.len();
                reader.consume(n);
            }
        }
    }
    Ok(Some(false))
}

fn too_long() -> String {
    format!(
        "line longer than {} MiB; not one JSON object per line",
        MAX_RECORD_BYTES >> 20
    )
}

/// The line without its `\n` or `\r\n`.
fn content(buf: &[u8]) -> &[u8] {
    let buf = buf.strip_suffix(b"\n").unwrap_or(buf);
    buf.strip_suffix(b"\r").unwrap_or(buf)
}

/// Only JSON whitespace: such a line is skipped and not counted.
fn is_blank(bytes: &[u8]) -> bool {
    bytes
        .iter()
        .all(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
}

fn not_text(at: usize) -> String {
    format!("invalid UTF-8 at byte {at} of the line")
}

/// `not a JSON object: <serde's message>`, with serde's "at line 1 column
/// N" (which would contradict the file line in the reject) turned into "at
/// byte N" of the line for syntax errors, and dropped for a valid value of
/// the wrong type, where it only points at the value's start.
pub(super) fn not_object(e: &serde_json::Error) -> String {
    let full = e.to_string();
    let position = format!(" at line {} column {}", e.line(), e.column());
    match full.strip_suffix(&position) {
        Some(message) if e.classify() == serde_json::error::Category::Data => {
            format!("not a JSON object: {message}")
        }
        Some(message) => format!("not a JSON object: {message} at byte {}", e.column()),
        None => format!("not a JSON object: {full}"),
    }
}

/// A cell's text for a JSON value (see the module documentation).
fn value_text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        Value::Array(_) | Value::Object(_) => serde_json::to_string(value).unwrap_or_default(),
    }
}

/// The keys of one object in order; values are skipped unread.
struct Keys(Vec<String>);

/// One object's members in order.
struct Object(Vec<(String, Value)>);

struct KeysVisitor;

struct ObjectVisitor;

impl<'de> Visitor<'de> for KeysVisitor {
    type Value = Keys;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Keys, A::Error> {
        let mut keys = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            map.next_value::<IgnoredAny>()?;
            keys.push(key);
        }
        Ok(Keys(keys))
    }
}

impl<'de> Visitor<'de> for ObjectVisitor {
    type Value = Object;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Object, A::Error> {
        let mut members = Vec::new();
        while let Some(member) = map.next_entry::<String, Value>()? {
            members.push(member);
        }
        Ok(Object(members))
    }
}

impl<'de> Deserialize<'de> for Keys {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(KeysVisitor)
    }
}

impl<'de> Deserialize<'de> for Object {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(ObjectVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan_of(data: &[u8]) -> Scan {
        match scan(data) {
            Ok(s) => s,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn keys_are_the_union_in_first_seen_order() {
        let s = scan_of(b"{\"z\":1,\"a\":2}\n\n{\"b\":1,\"a\":3,\"y\":[1]}\r\nnope\n{}\n");
        assert_eq!(s.keys, ["z", "a", "b", "y"]);
        assert_eq!((s.lines, s.objects), (4, 3));
        let bad = s
            .first_bad
            .map(|(l, r)| (l, r.starts_with("not a JSON object: ")));
        assert_eq!(bad, Some((4, true)));
    }

    #[test]
    fn an_overlong_line_is_cut_and_skipped_to_its_end() {
        let data = b"{\"a\":1}\n0123456789abcdef\n{}\nxyz";
        let mut r = &data[..];
        let mut buf = Vec::new();
        let mut got = Vec::new();
        while let Ok(Some(whole)) = next_line(&mut r, &mut buf, 8) {
            got.push((whole, String::from_utf8_lossy(&buf).into_owned()));
        }
        assert_eq!(
            got,
            [
                (true, "{\"a\":1}\n".to_string()),
                (false, "01234567".to_string()),
                (true, "{}\n".to_string()),
                (true, "xyz".to_string()),
            ]
        );
    }

    #[test]
    fn messages_say_what_is_wrong_and_where() {
        let e = serde_json::from_str::<Object>("[1, 2]").err();
        let msg = e.map(|e| not_object(&e)).unwrap_or_default();
        assert_eq!(
            msg,
            "not a JSON object: invalid type: sequence, expected a JSON object"
        );
        let e = serde_json::from_str::<Object>("{\"score\": 9,}").err();
        let msg = e.map(|e| not_object(&e)).unwrap_or_default();
        assert_eq!(msg, "not a JSON object: trailing comma at byte 13");
        let e = serde_json::from_str::<Object>("{\"a\": 1} x").err();
        let msg = e.map(|e| not_object(&e)).unwrap_or_default();
        assert_eq!(msg, "not a JSON object: trailing characters at byte 10");
    }

    #[test]
    fn values_become_cell_text() {
        let cases = [
            ("null", ""),
            ("true", "true"),
            ("9", "9"),
            ("9.0", "9.0"),
            ("-1", "-1"),
            ("\" 9 \"", " 9 "),
            (
                "{\"b\": [1, {\"c\": null}], \"a\": \"x\"}",
                "{\"a\":\"x\",\"b\":[1,{\"c\":null}]}",
            ),
            ("[ \"a\" , 2 ]", "[\"a\",2]"),
        ];
        for (json, want) in cases {
            let value: Value = serde_json::from_str(json).unwrap_or_default();
            assert_eq!(value_text(&value), want, "{json}");
        }
    }
}
