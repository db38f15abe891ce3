//! End-to-end tests of the encodings, the pipe delimiter, JSON Lines and the
//! answer scales, through the public readers. Every read checks that each
//! record is accounted for (`read == responses + rejects`).

use super::*;

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
    match read_responses_from(data, "survey.jsonl", opts) {
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

fn lines_and_scores(ing: &Ingested) -> Vec<(u64, u8)> {
    ing.responses
        .iter()
        .map(|r| (r.line, r.score.unwrap_or(99)))
        .collect()
}

fn with_encoding(encoding: InputEncoding) -> InputOptions {
    InputOptions {
        encoding: Some(encoding),
        ..InputOptions::default()
    }
}

fn with_scale(scale: Scale) -> InputOptions {
    InputOptions {
        scale: Some(scale),
        ..InputOptions::default()
    }
}

pub(super) fn utf16le_bom(text: &str) -> Vec<u8> {
    let mut bytes = vec![0xFF, 0xFE];
    bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    bytes
}

pub(super) fn utf16be_bom(text: &str) -> Vec<u8> {
    let mut bytes = vec![0xFE, 0xFF];
    bytes.extend(text.encode_utf16().flat_map(u16::to_be_bytes));
    bytes
}

/// Writes `data` to a fresh temporary file named `name` and reads it by path.
fn read_path(name: &str, data: &[u8], opts: &InputOptions) -> Result<Ingested, String> {
    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => panic!("{e}"),
    };
    let path = dir.path().join(name);
    if let Err(e) = std::fs::write(&path, data) {
        panic!("{e}");
    }
    let ing = read_responses(&path, opts).map_err(|e| e.to_string());
    if let Ok(ing) = &ing {
        assert_eq!(ing.read, (ing.responses.len() + ing.rejects.len()) as u64);
        assert_eq!(ing.source, path.display().to_string());
    }
    ing
}

/// Excel's "Unicode text": UTF-16 LE with a BOM, tab-separated, CRLF.
pub(super) const EXCEL_UNICODE: &str = "Response ID\tNPS\tKommentar\tKanal\r\n\
                             1\t9\t\"Grüße, schnell\r\nund gut 😀\"\tTelefon\r\n\
                             2\t11\tzu teuer\tChat\r\n\
                             3\t0\tnie wieder\tFiliale München\r\n";

#[test]
fn utf16le_tab_file_with_bom() {
    let ing = read(&utf16le_bom(EXCEL_UNICODE));
    assert_eq!(ing.encoding, InputEncoding::Utf16Le);
    assert_eq!(ing.format, InputFormat::Csv);
    assert_eq!(ing.delimiter, b'\t');
    assert_eq!(ing.columns.score.as_deref(), Some("NPS"));
    assert_eq!(ing.columns.text, "Kommentar");
    assert_eq!(ing.columns.id.as_deref(), Some("Response ID"));
    assert_eq!(ing.read, 3);
    assert_eq!(lines_and_scores(&ing), [(2, 9), (5, 0)]);
    assert_eq!(ing.responses[0].comment, "Grüße, schnell\r\nund gut 😀");
    assert_eq!(ing.responses[1].segments, ["Filiale München"]);
    assert_eq!(
        reasons(&ing),
        [(4, Some("NPS"), "score 11 is out of range 0-10")]
    );
    assert_eq!(ing.rejects[0].record, "2\t11\tzu teuer\tChat");
}

#[test]
fn utf16be_with_bom_reads_the_same() {
    let le = read(&utf16le_bom(EXCEL_UNICODE));
    let be = read(&utf16be_bom(EXCEL_UNICODE));
    assert_eq!(be.encoding, InputEncoding::Utf16Be);
    assert_eq!(be.responses, le.responses);
    assert_eq!(be.rejects, le.rejects);
}

#[test]
fn malformed_utf16_rejects_only_its_row() {
    let mut bytes = utf16le_bom("score\tcomment\r\n9\tok\r\n8\tbad ");
    bytes.extend_from_slice(&[0x00, 0xD8]); // unpaired high surrogate
    bytes.extend("x\r\n7\tfine\r\n".encode_utf16().flat_map(u16::to_le_bytes));
    let ing = read(&bytes);
    assert_eq!(lines_and_scores(&ing), [(2, 9), (4, 7)]);
    let r = &ing.rejects[0];
    assert_eq!((r.line, r.column.as_deref()), (3, Some("comment")));
    assert!(r.reason.starts_with("malformed UTF-16LE"), "{}", r.reason);
    assert_eq!(r.record, "8\tbad \u{FFFD}x");
}

/// Windows-1252 as Excel writes "CSV" on Western Windows: ä = E4, ß = DF,
/// é = E9, ü = FC, € = 80.
pub(super) const WINDOWS_1252: &[u8] = b"Kanal;NPS;Begr\xFCndung\r\n\
    Filiale M\xFCnchen;9;Gr\xFC\xDFe: \xE4 \xDF \xE9t\xE9, 5 \x80 billiger\r\n\
    Caf\xE9;11;trop cher\r\n";

#[test]
fn windows_1252_file_gives_correct_text() {
    let ing = read(WINDOWS_1252);
    assert_eq!(ing.encoding, InputEncoding::Windows1252);
    assert_eq!(ing.delimiter, b';');
    assert_eq!(ing.columns.text, "Begründung");
    assert_eq!(ing.responses.len(), 1);
    assert_eq!(ing.responses[0].comment, "Grüße: ä ß été, 5 € billiger");
    assert_eq!(ing.responses[0].segments, ["Filiale München"]);
    assert_eq!(
        reasons(&ing),
        [(3, Some("NPS"), "score 11 is out of range 0-10")]
    );
    assert_eq!(ing.rejects[0].record, "Café;11;trop cher");

    // The header that is an error when UTF-8 is forced reads here.
    let ing = read(b"score,comm\xe9ntaire\n9,caf\xe9 au lait\n");
    assert_eq!(ing.encoding, InputEncoding::Windows1252);
    assert_eq!(ing.columns.text, "comméntaire");
    assert_eq!(ing.responses[0].comment, "café au lait");
}

#[test]
fn utf8_stays_utf8_with_or_without_bom() {
    let ing = read("score,comment\n9,schön\n".as_bytes());
    assert_eq!(ing.encoding, InputEncoding::Utf8);
    assert_eq!(ing.responses[0].comment, "schön");
    let ing = read("\u{FEFF}score,comment\n9,schön\n".as_bytes());
    assert_eq!(ing.encoding, InputEncoding::Utf8);
    assert_eq!(ing.columns.score.as_deref(), Some("score"));
}

#[test]
fn a_damaged_row_in_a_utf8_file_is_still_a_reject() {
    // Early in the file, but the file shows real UTF-8 ("ü", "é").
    let ing = read(b"score,comment\n9,gr\xC3\xBCn\n8,caf\xE9\n7,d\xC3\xA9j\xC3\xA0\n");
    assert_eq!(ing.encoding, InputEncoding::Utf8);
    assert_eq!(lines_and_scores(&ing), [(2, 9), (4, 7)]);
    assert_eq!(ing.responses[0].comment, "grün");
    assert!(ing.rejects[0].reason.starts_with("invalid UTF-8 at byte 3"));

    // Past the first 64 KiB of plain ASCII: detection is already done.
    let mut data = b"score,comment\n".to_vec();
    let mut rows = 0u64;
    while data.len() <= encoding::SAMPLE {
        data.extend_from_slice(b"9,all fine here\n");
        rows += 1;
    }
    data.extend_from_slice(b"3,caf\xE9\n5,ok\n");
    let ing = read(&data);
    assert_eq!(ing.encoding, InputEncoding::Utf8);
    assert_eq!(ing.read, rows + 2);
    assert_eq!(ing.rejects.len(), 1);
    assert_eq!(ing.rejects[0].line, rows + 2);
    assert_eq!(ing.rejects[0].column.as_deref(), Some("comment"));
    assert_eq!(ing.responses.last().and_then(|r| r.score), Some(5));
}

#[test]
fn forced_encoding_wins() {
    // Windows-1252 bytes read as UTF-8: the accented row is a reject.
    let data = b"score,comment\n9,gr\xFCn\n8,plain\n";
    let ing = read_with(data, &with_encoding(InputEncoding::Utf8));
    assert_eq!(ing.encoding, InputEncoding::Utf8);
    assert_eq!(lines_and_scores(&ing), [(3, 8)]);
    assert_eq!(ing.rejects[0].column.as_deref(), Some("comment"));

    // UTF-8 bytes read as Windows-1252: what the user asked for.
    let ing = read_with(
        "score,comment\n9,grün\n".as_bytes(),
        &with_encoding(InputEncoding::Windows1252),
    );
    assert_eq!(ing.encoding, InputEncoding::Windows1252);
    assert_eq!(ing.responses[0].comment, "grÃ¼n");

    // UTF-16 without a BOM can only be read when forced.
    let bytes: Vec<u8> = "score\tcomment\r\n10\tsuper\r\n"
        .encode_utf16()
        .flat_map(u16::to_be_bytes)
        .collect();
    let ing = read_with(&bytes, &with_encoding(InputEncoding::Utf16Be));
    assert_eq!(ing.responses[0].comment, "super");
    // Its own BOM is still dropped.
    let ing = read_with(
        &utf16le_bom("score,comment\n9,x\n"),
        &with_encoding(InputEncoding::Utf16Le),
    );
    assert_eq!(ing.columns.score.as_deref(), Some("score"));
}

#[test]
fn pipe_delimited_file() {
    let ing = read(
        b"id|score|comment|channel\n1|9|fast, friendly|web\n2|x|slow|app\n3|6|\"a | b\"|app\n",
    );
    assert_eq!(ing.delimiter, b'|');
    assert_eq!(ing.segment_columns, ["channel"]);
    assert_eq!(lines_and_scores(&ing), [(2, 9), (4, 6)]);
    assert_eq!(ing.responses[0].comment, "fast, friendly");
    assert_eq!(ing.responses[1].comment, "a | b");
    assert_eq!(
        reasons(&ing),
        [(3, Some("score"), "score \"x\" is not a number")]
    );
    assert_eq!(ing.rejects[0].record, "2|x|slow|app");
}

/// Mixed score types, a blank line, a broken line, a non-object, a nested
/// segment value, keys that come and go.
pub(super) const JSONL: &str = r#"{"id": 1, "score": 9, "comment": "great", "channel": "web"}
{"id": "2", "score": "7", "comment": " ok ", "meta": {"tags": ["a", "b"], "agent": 42}}

{"id": 3, "score": 10.0, "comment": null, "channel": "app"}
{"id": 4, "score": 9,
[1, 2]
{"id": 5, "score": 11, "comment": "too high"}
{"id": 6, "score": "8,0", "comment": "fine", "channel": ["web", "app"]}
{"id": 7, "score": true, "comment": "?"}
  
{"id": 8, "score": 9.5, "comment": "half"}
"#;

#[test]
fn jsonl_mixed_scores_bad_lines_and_nested_values() {
    let ing = read(JSONL.as_bytes());
    assert_eq!(ing.format, InputFormat::Jsonl);
    assert_eq!(ing.encoding, InputEncoding::Utf8);
    assert_eq!(
        ing.columns,
        ResolvedColumns {
            score: Some("score".into()),
            text: "comment".into(),
            more_text: vec![],
            id: Some("id".into()),
        }
    );
    // Union of keys, first-seen order.
    assert_eq!(ing.segment_columns, ["channel", "meta"]);
    // Blank lines (3, and 10 with only spaces) are neither responses nor
    // rejects.
    assert_eq!(ing.read, 9);
    assert_eq!(lines_and_scores(&ing), [(1, 9), (2, 7), (4, 10), (8, 8)]);
    let ids: Vec<&str> = ing.responses.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["1", "2", "3", "6"]);
    let r = &ing.responses;
    assert_eq!(r[0].segments, ["web", ""]);
    assert_eq!(r[1].comment, "ok");
    // A nested value becomes compact JSON (nested keys come out sorted).
    assert_eq!(r[1].segments, ["", r#"{"agent":42,"tags":["a","b"]}"#]);
    assert_eq!(
        (r[2].comment.as_str(), r[2].segments[0].as_str()),
        ("", "app")
    );
    assert_eq!(r[3].segments, [r#"["web","app"]"#, ""]);

    let got = reasons(&ing);
    assert_eq!(got.len(), 5);
    assert_eq!((got[0].0, got[0].1), (5, None));
    assert_eq!(
        got[0].2,
        "not a JSON object: EOF while parsing a value at byte 21"
    );
    assert_eq!(ing.rejects[0].record, r#"{"id": 4, "score": 9,"#);
    assert_eq!(
        got[1],
        (
            6,
            None,
            "not a JSON object: invalid type: sequence, expected a JSON object"
        )
    );
    assert_eq!(got[2], (7, Some("score"), "score 11 is out of range 0-10"));
    assert_eq!(got[3], (9, Some("score"), "score \"true\" is not a number"));
    assert_eq!(
        got[4],
        (11, Some("score"), "score 9.5 is not a whole number")
    );
}

#[test]
fn jsonl_by_extension_content_or_option_and_by_path() {
    let data = JSONL.as_bytes();
    let from_reader = read(data);
    // By extension or by content, read twice from the file: the same result.
    for name in ["survey.jsonl", "survey.NDJSON", "survey.txt"] {
        let ing = read_path(name, data, &InputOptions::default());
        let ing = ing.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(ing.format, InputFormat::Jsonl);
        assert_eq!(ing.responses, from_reader.responses);
        assert_eq!(ing.rejects, from_reader.rejects);
        assert_eq!(ing.segment_columns, from_reader.segment_columns);
    }
    // Blank lines and a BOM before the first `{` keep line numbers right.
    let mut shifted = "\u{FEFF}\n \r\n".as_bytes().to_vec();
    shifted.extend_from_slice(data);
    let ing = read(&shifted);
    assert_eq!(ing.format, InputFormat::Jsonl);
    assert_eq!(ing.responses[0].line, 3);
    // A `.jsonl` name wins over content; an option wins over the name.
    let msg = read_path(
        "x.jsonl",
        b"score,comment\n9,ok\n",
        &InputOptions::default(),
    )
    .err()
    .unwrap_or_default();
    assert!(msg.contains("line 1: not a JSON object"), "{msg}");
    assert!(msg.contains("--format csv"), "{msg}");
    let csv = InputOptions {
        format: Some(InputFormat::Csv),
        ..InputOptions::default()
    };
    let ing = read_path("x.jsonl", b"score,comment\n9,ok\n", &csv);
    assert_eq!(ing.map(|i| i.responses.len()), Ok(1));
    let jsonl = InputOptions {
        format: Some(InputFormat::Jsonl),
        ..InputOptions::default()
    };
    let ing = read_with(b"\n\n {\"nps\": 3, \"text\": \"x\"}\n", &jsonl);
    assert_eq!(lines_and_scores(&ing), [(3, 3)]);
}

#[test]
fn jsonl_in_other_encodings() {
    let text =
        "{\"score\": 9, \"comment\": \"Grüße\"}\r\n{\"score\": \"2\", \"comment\": \"été\"}\r\n";
    let ing = read(&utf16le_bom(text));
    assert_eq!(
        (ing.encoding, ing.format),
        (InputEncoding::Utf16Le, InputFormat::Jsonl)
    );
    let comments: Vec<&str> = ing.responses.iter().map(|r| r.comment.as_str()).collect();
    assert_eq!(comments, ["Grüße", "été"]);
    let ing = read(b"{\"score\": 9, \"comment\": \"Gr\xFC\xDFe\"}\n");
    assert_eq!(ing.encoding, InputEncoding::Windows1252);
    assert_eq!(ing.responses[0].comment, "Grüße");
    // Forced UTF-8: the broken line is a reject, not an error.
    let data = b"{\"score\": 9, \"comment\": \"ok\"}\n{\"score\": 9, \"comment\": \"Gr\xFC\"}\n";
    let ing = read_with(data, &with_encoding(InputEncoding::Utf8));
    assert_eq!(ing.responses.len(), 1);
    assert_eq!(ing.rejects[0].line, 2);
    assert!(
        ing.rejects[0]
            .reason
            .starts_with("invalid UTF-8 at byte 27 of the line"),
        "{}",
        ing.rejects[0].reason
    );
}

#[test]
fn jsonl_duplicates_ids_and_column_errors() {
    let ing = read(
        b"{\"score\": 9, \"comment\": \"a\", \"score\": 1}\n\
          {\"id\": \"A\", \"score\": 9, \"comment\": \"b\"}\n\
          {\"id\": \"A\", \"score\": 8, \"comment\": \"c\"}\n",
    );
    assert_eq!(
        reasons(&ing),
        [
            (1, Some("score"), "duplicate key \"score\" in the object"),
            (3, Some("id"), "duplicate id \"A\" (first on line 2)"),
        ]
    );
    // Same column detection and messages as CSV.
    let msg = error(b"{\"q1\": 9, \"q2\": \"x\"}\n", &InputOptions::default());
    assert!(
        msg.contains("survey.jsonl") && msg.contains("no score column"),
        "{msg}"
    );
    assert!(
        msg.contains("`q1`, `q2`") && msg.contains("--score-column"),
        "{msg}"
    );
    let o = InputOptions {
        score_column: Some("q1".into()),
        text_column: Some("q2".into()),
        ..InputOptions::default()
    };
    let ing = read_with(b"{\"q1\": 9, \"q2\": \"x\"}\n", &o);
    assert_eq!(ing.responses[0].comment, "x");
    // Nothing but blank lines, or no object at all.
    let jsonl = InputOptions {
        format: Some(InputFormat::Jsonl),
        ..InputOptions::default()
    };
    let msg = error(b"\n  \n", &jsonl);
    assert!(
        msg.contains("survey.jsonl") && msg.contains("empty"),
        "{msg}"
    );
    let msg = error(b"{not json\n[]\n", &InputOptions::default());
    assert!(
        msg.starts_with("`survey.jsonl` line 1: not a JSON object: key must be a string"),
        "{msg}"
    );
}

#[test]
fn scales_map_their_full_tables() {
    let cases: [(Scale, &[&str], &[u8]); 3] = [
        (
            Scale::ZeroToTen,
            &["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10"],
            &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
        ),
        (
            Scale::OneToFive,
            &["1", "2", "3", "4", "5"],
            &[0, 3, 5, 8, 10],
        ),
        (
            Scale::OneToTen,
            &["1", "2", "3", "4", "5", "6", "7", "8", "9", "10"],
            &[0, 1, 2, 3, 4, 6, 7, 8, 9, 10],
        ),
    ];
    for (scale, answers, want) in cases {
        let mut data = String::from("score,comment\n");
        for a in answers {
            data.push_str(&format!("{a},x\n"));
        }
        let ing = read_with(data.as_bytes(), &with_scale(scale));
        assert_eq!(ing.scale, scale);
        let got: Vec<u8> = ing.responses.iter().filter_map(|r| r.score).collect();
        assert_eq!(got, want, "{scale}");
        assert!(ing.rejects.is_empty());
    }
    assert_eq!(read(b"score,comment\n9,x\n").scale, Scale::ZeroToTen);
}

#[test]
fn out_of_scale_is_a_reject_naming_the_scale() {
    let data = b"nps,comment\n0,a\n1,b\n5,c\n6,d\n10,e\n11,f\n";
    let ing = read_with(data, &with_scale(Scale::OneToFive));
    assert_eq!(lines_and_scores(&ing), [(3, 0), (4, 10)]);
    assert_eq!(
        reasons(&ing),
        [
            (2, Some("nps"), "score 0 is out of range for the 1-5 scale"),
            (5, Some("nps"), "score 6 is out of range for the 1-5 scale"),
            (6, Some("nps"), "score 10 is out of range for the 1-5 scale"),
            (7, Some("nps"), "score 11 is out of range for the 1-5 scale"),
        ]
    );
    let ing = read_with(data, &with_scale(Scale::OneToTen));
    assert_eq!(lines_and_scores(&ing), [(3, 0), (4, 4), (5, 6), (6, 10)]);
    assert_eq!(
        reasons(&ing),
        [
            (2, Some("nps"), "score 0 is out of range for the 1-10 scale"),
            (
                7,
                Some("nps"),
                "score 11 is out of range for the 1-10 scale"
            ),
        ]
    );
    // The default scale never guesses: 11 is out of range, 0 is fine.
    let ing = read(data);
    assert_eq!(
        reasons(&ing),
        [(7, Some("nps"), "score 11 is out of range 0-10")]
    );
    // JSON numbers go through the same scale.
    let ing = read_with(
        b"{\"score\": 4, \"comment\": \"x\"}\n{\"score\": 0, \"comment\": \"y\"}\n",
        &with_scale(Scale::OneToFive),
    );
    assert_eq!(lines_and_scores(&ing), [(1, 8)]);
    assert_eq!(
        ing.rejects[0].reason,
        "score 0 is out of range for the 1-5 scale"
    );
}

#[test]
fn reject_rate_is_rejected_over_read() {
    let ing = read(b"score,comment\n");
    assert_eq!(reject_rate(&ing), 0.0);
    let ing = read(b"score,comment\n9,a\n11,b\n8,c\n7,d\n");
    assert_eq!(reject_rate(&ing), 0.25);
    let ing = read(b"score,comment\nx,a\n");
    assert_eq!(reject_rate(&ing), 1.0);
}

#[test]
fn format_names_round_trip() {
    for f in [InputFormat::Csv, InputFormat::Jsonl] {
        assert_eq!(f.name().parse(), Ok(f));
    }
    assert_eq!("NDJSON".parse(), Ok(InputFormat::Jsonl));
    assert!("xlsx".parse::<InputFormat>().is_err());
    assert_eq!(
        InputFormat::from_path(Path::new("a/b.JsonL")),
        Some(InputFormat::Jsonl)
    );
    assert_eq!(InputFormat::from_path(Path::new("a/b.csv")), None);
    assert_eq!(InputFormat::from_path(Path::new("jsonl")), None);
}

/// Tiny deterministic generator, so the property test needs no crate.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) as usize
    }
}

#[test]
fn random_inputs_in_every_encoding_and_format_add_up() {
    const CSV: &[u8] = b",;|\t\"\n\r 0123456789.-abc\xff\xfe\xc3\xa4\x00\xd8";
    const JSON: &[u8] = b"{}[]:,\"\\\n\r 0123456789.-scorecommentidtruenull\xc3\xa4\xff";
    let encodings = [
        None,
        Some(InputEncoding::Utf8),
        Some(InputEncoding::Utf16Le),
        Some(InputEncoding::Utf16Be),
        Some(InputEncoding::Windows1252),
    ];
    let scales = [None, Some(Scale::OneToFive), Some(Scale::OneToTen)];
    let mut rng = Lcg(7);
    for round in 0..3000 {
        let (mut data, alphabet) = if round % 2 == 0 {
            (b"id|score|comment|seg\n".to_vec(), CSV)
        } else {
            (
                b"{\"score\": 1, \"comment\": \"a\", \"seg\": [1]}\n".to_vec(),
                JSON,
            )
        };
        for _ in 0..rng.next() % 120 {
            data.push(alphabet[rng.next() % alphabet.len()]);
        }
        let opts = InputOptions {
            encoding: encodings[rng.next() % encodings.len()],
            scale: scales[rng.next() % scales.len()],
            ..InputOptions::default()
        };
        match read_responses_from(&data[..], "fuzz", &opts) {
            Ok(ing) => {
                assert_eq!(ing.read, (ing.responses.len() + ing.rejects.len()) as u64);
                assert!(ing
                    .responses
                    .iter()
                    .all(|r| r.score.is_some_and(|s| s <= 10)));
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
            }
            // A forced UTF-16 turns the header into other characters: a
            // whole-file error, not a panic. Detected, the header holds.
            Err(e) => assert!(
                matches!(
                    opts.encoding,
                    Some(InputEncoding::Utf16Le | InputEncoding::Utf16Be)
                ),
                "{e} on {data:?}"
            ),
        }
    }
}
