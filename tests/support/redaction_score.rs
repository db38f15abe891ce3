//! Scores a [`Redactor`] against the labelled comments in
//! `tests/data/redaction/comments.jsonl`; shared by `tests/redaction.rs`
//! (floors) and `examples/redaction_eval.rs` (the printed table).
//!
//! A labelled item is found when a predicted span of the same kind overlaps
//! it; a predicted span that overlaps no labelled item of its kind is a false
//! positive. Leaked characters are labelled characters that no predicted
//! span (of any kind) covers: what a reader of the masked text still sees.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use verbatim::text::redact::{PiiKind, Redactor};

/// The labelled set shipped with the project.
pub fn labelled_set() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/redaction/comments.jsonl")
}

#[derive(Deserialize)]
struct RawLabel {
    kind: String,
    text: String,
}

#[derive(Deserialize)]
struct RawRow {
    lang: String,
    text: String,
    pii: Vec<RawLabel>,
}

/// One labelled comment.
pub struct Row {
    pub line: usize,
    pub lang: String,
    pub text: String,
    pub labels: Vec<(PiiKind, Range<usize>)>,
}

/// Reads the set; an error names the line.
pub fn load(path: &Path) -> Result<Vec<Row>, String> {
    let data = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut rows = Vec::new();
    for (i, line) in data.lines().enumerate() {
        let line_no = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        let raw: RawRow =
            serde_json::from_str(line).map_err(|e| format!("{}:{line_no}: {e}", path.display()))?;
        let mut labels = Vec::new();
        for l in raw.pii {
            let kind = PiiKind::parse(&l.kind).ok_or_else(|| {
                format!("{}:{line_no}: unknown kind {:?}", path.display(), l.kind)
            })?;
            let start = raw.text.find(&l.text).ok_or_else(|| {
                format!(
                    "{}:{line_no}: {:?} is not in the text",
                    path.display(),
                    l.text
                )
            })?;
            labels.push((kind, start..start + l.text.len()));
        }
        rows.push(Row {
            line: line_no,
            lang: raw.lang,
            text: raw.text,
            labels,
        });
    }
    Ok(rows)
}

/// Counts for one kind or one language.
#[derive(Debug, Default, Clone, Copy)]
pub struct Tally {
    /// Labelled items found.
    pub tp: usize,
    /// Predicted spans that match no labelled item of their kind.
    pub fp: usize,
    /// Labelled items missed.
    pub fn_: usize,
    /// Predicted spans that match a labelled item of their kind.
    pub pred_ok: usize,
    /// Labelled characters, and those left unmasked.
    pub chars: usize,
    pub leaked: usize,
}

impl Tally {
    pub fn recall(&self) -> f64 {
        ratio(self.tp, self.tp + self.fn_)
    }
    pub fn precision(&self) -> f64 {
        ratio(self.pred_ok, self.pred_ok + self.fp)
    }
    fn add(&mut self, o: &Tally) {
        self.tp += o.tp;
        self.fp += o.fp;
        self.fn_ += o.fn_;
        self.pred_ok += o.pred_ok;
        self.chars += o.chars;
        self.leaked += o.leaked;
    }
}

/// 1.0 when there is nothing to count (no labels: nothing to miss).
fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 {
        1.0
    } else {
        a as f64 / b as f64
    }
}

/// A miss or a false alarm, for reading.
pub struct Error {
    pub line: usize,
    pub kind: PiiKind,
    pub what: &'static str,
    pub span: String,
    pub text: String,
}

/// All figures for one run over the set.
#[derive(Default)]
pub struct Score {
    pub by_kind: BTreeMap<PiiKind, Tally>,
    pub by_lang: BTreeMap<String, Tally>,
    pub total: Tally,
    pub comments: usize,
    /// Comments without labels, and those where something was masked.
    pub clean: usize,
    pub clean_masked: usize,
    pub errors: Vec<Error>,
}

fn overlaps(a: &Range<usize>, b: &Range<usize>) -> bool {
    a.start < b.end && b.start < a.end
}

pub fn score(redactor: &Redactor, rows: &[Row]) -> Score {
    let mut s = Score::default();
    for k in PiiKind::ALL {
        s.by_kind.insert(k, Tally::default());
    }
    for row in rows {
        let pred = redactor.find(&row.text);
        s.comments += 1;
        if row.labels.is_empty() {
            s.clean += 1;
            if !pred.is_empty() {
                s.clean_masked += 1;
            }
        }
        let mut per_kind: BTreeMap<PiiKind, Tally> = BTreeMap::new();
        for (kind, range) in &row.labels {
            let t = per_kind.entry(*kind).or_default();
            if pred
                .iter()
                .any(|p| p.kind == *kind && overlaps(&p.range, range))
            {
                t.tp += 1;
            } else {
                t.fn_ += 1;
                s.errors.push(Error {
                    line: row.line,
                    kind: *kind,
                    what: "missed",
                    span: row.text[range.clone()].to_string(),
                    text: row.text.clone(),
                });
            }
            for (i, _) in row.text[range.clone()].char_indices() {
                let at = range.start + i;
                t.chars += 1;
                if !pred.iter().any(|p| p.range.contains(&at)) {
                    t.leaked += 1;
                }
            }
        }
        for p in &pred {
            let t = per_kind.entry(p.kind).or_default();
            if row
                .labels
                .iter()
                .any(|(k, r)| *k == p.kind && overlaps(&p.range, r))
            {
                t.pred_ok += 1;
            } else {
                t.fp += 1;
                s.errors.push(Error {
                    line: row.line,
                    kind: p.kind,
                    what: "false positive",
                    span: row.text[p.range.clone()].to_string(),
                    text: row.text.clone(),
                });
            }
        }
        for (k, t) in per_kind {
            s.by_kind.entry(k).or_default().add(&t);
            s.by_lang.entry(row.lang.clone()).or_default().add(&t);
            s.total.add(&t);
        }
    }
    s
}

/// The table the example prints.
pub fn render(s: &Score) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let line = |out: &mut String, name: &str, t: &Tally| {
        let _ = writeln!(
            out,
            "{name:<16} {:>4} {:>4} {:>4} {:>7.3} {:>9.3} {:>7} {:>6}",
            t.tp,
            t.fp,
            t.fn_,
            t.recall(),
            t.precision(),
            t.chars,
            t.leaked
        );
    };
    let head = format!(
        "{:<16} {:>4} {:>4} {:>4} {:>7} {:>9} {:>7} {:>6}\n",
        "", "TP", "FP", "FN", "recall", "precision", "chars", "leaked"
    );
    out.push_str(&format!("{}\n", "by kind"));
    out.push_str(&head);
    for (k, t) in &s.by_kind {
        line(&mut out, k.as_str(), t);
    }
    line(&mut out, "all", &s.total);
    out.push_str(&format!("\n{}\n", "by language"));
    out.push_str(&head);
    for (l, t) in &s.by_lang {
        line(&mut out, l, t);
    }
    let _ = writeln!(
        out,
        "\n{} comments, {} without personal data, {} of those with a mask",
        s.comments, s.clean, s.clean_masked
    );
    out
}
