//! Personal data masking measured on the labelled comments
//! (`tests/data/redaction/`): recall and precision per kind must stay above
//! floors set just under what the rules reached when they were written
//! (`cargo run --release --example redaction_eval` prints the figures).
//!
//! `comments.jsonl` (320 comments) is the development set: written before the
//! rules, then read while writing them, so its figures flatter the rules. Its
//! last 16 lines were added for issue 16 (eight gaps it found, eight
//! look-alikes of them), before the rules that catch them.
//! `holdout.jsonl` (151) and `blind.jsonl` (100) were written later, each run
//! once before any rule changed for it. First runs: holdout recall/precision
//! 1.0/1.0 for e-mail, phone, IBAN and card, customer numbers 0.889/1.0,
//! names 0.725/0.967; blind 1.0/1.0 for e-mail, phone, IBAN and card,
//! customer numbers 0.750/1.0, names 0.960/0.960 (one look-alike comment
//! masked). The misses were then fixed (missing anchor words, non-ASCII word
//! ends, "Sr. De la Cruz"). Their floors (0.9) sit under today's figures, not
//! under those first runs: expect a fresh set to score lower again.

#[path = "support/redaction_score.rs"]
mod score;

use std::path::Path;

use verbatim::text::redact::{PiiKind, Redactor};

fn floors(set: &str, min_recall: f64, min_precision: f64) -> score::Score {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/redaction")
        .join(set);
    let rows = score::load(&path).unwrap_or_else(|e| panic!("{e}"));
    let s = score::score(&Redactor::new(), &rows);
    let table = score::render(&s);
    for kind in PiiKind::ALL {
        let t = s.by_kind[&kind];
        assert!(t.tp + t.fn_ > 0, "{set}: no labelled {}", kind.as_str());
        assert!(
            t.recall() >= min_recall && t.precision() >= min_precision,
            "{set}: {} recall {:.3} precision {:.3} below {min_recall}/{min_precision}\n{table}",
            kind.as_str(),
            t.recall(),
            t.precision()
        );
    }
    s
}

#[test]
fn development_set_floors() {
    let s = floors("comments.jsonl", 0.95, 0.95);
    // The set is what the task asked for: 250+ comments, five languages,
    // 40%+ without personal data.
    assert!(s.comments >= 250, "{} comments", s.comments);
    assert!(
        s.clean * 10 >= s.comments * 4,
        "{} of {} clean",
        s.clean,
        s.comments
    );
    for lang in ["de", "nl", "en", "fr", "es"] {
        assert!(s.by_lang[lang].tp + s.by_lang[lang].fn_ >= 30, "{lang}");
    }
    assert!(
        s.clean_masked == 0,
        "{} look-alike comments masked",
        s.clean_masked
    );
    assert!(
        s.total.leaked * 100 <= s.total.chars,
        "{} of {} chars leaked",
        s.total.leaked,
        s.total.chars
    );
}

#[test]
fn later_sets_floors() {
    for set in ["holdout.jsonl", "blind.jsonl"] {
        let s = floors(set, 0.9, 0.9);
        assert!(
            s.clean_masked <= 1,
            "{set}: {} look-alike comments masked",
            s.clean_masked
        );
        assert!(
            s.total.leaked * 50 <= s.total.chars,
            "{set}: {} of {} chars leaked",
            s.total.leaked,
            s.total.chars
        );
    }
}

#[test]
fn one_redactor_shared_by_threads_gives_the_same_spans() {
    let rows = score::load(&score::labelled_set()).unwrap_or_else(|e| panic!("{e}"));
    let redactor = Redactor::new();
    let alone: Vec<_> = rows.iter().map(|r| redactor.redact(&r.text)).collect();
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                scope.spawn(|| {
                    rows.iter()
                        .map(|r| redactor.redact(&r.text))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for h in handles {
            assert_eq!(h.join().expect("thread"), alone);
        }
    });
}

#[test]
fn a_broken_line_is_reported_with_its_number() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("bad.jsonl");
    std::fs::write(
        &path,
        "{\"lang\":\"en\",\"text\":\"ok\",\"pii\":[]}\n{\"lang\":\"en\",\"text\":\"call 0171\",\"pii\":[{\"kind\":\"phone\",\"text\":\"0172\"}]}\n",
    )
    .expect("write");
    let err = score::load(&path).err().expect("an error");
    assert!(err.contains(":2:") && err.contains("0172"), "{err}");
}
