//! Compares language detectors on short survey comments and prints accuracy.
//!
//! Survey comments are short ("Die App stürzt ständig ab"), which is where
//! detectors differ most. This reads a labelled set (one JSON object per line:
//! `{"lang": "de", "text": "..."}`; by default
//! `tests/data/language/short_comments.jsonl`, written for the project) and
//! runs each candidate restricted to the same eleven languages: the five
//! survey languages plus six common others, so that an Italian comment is
//! recognised as Italian rather than forced into Spanish.
//!
//! For each detector it prints: accuracy when it must always answer, and,
//! with its "unsure" rule (text too short or answer not reliable → no
//! language), the share of texts it answered and the accuracy of those
//! answers; then per-language accuracy and the time per text. The last row
//! is `verbatim::text::language::detect`, the function the pipeline uses.
//!
//! Run: cargo run --release --example language_eval [-- FILE.jsonl]

use std::collections::BTreeMap;
use std::time::Instant;

use lingua::{Language, LanguageDetector, LanguageDetectorBuilder};

const LINGUA_LANGS: [Language; 11] = [
    Language::German,
    Language::Dutch,
    Language::English,
    Language::French,
    Language::Spanish,
    Language::Italian,
    Language::Portuguese,
    Language::Polish,
    Language::Turkish,
    Language::Danish,
    Language::Swedish,
];

const WHATLANG_LANGS: [(whatlang::Lang, &str); 11] = [
    (whatlang::Lang::Deu, "de"),
    (whatlang::Lang::Nld, "nl"),
    (whatlang::Lang::Eng, "en"),
    (whatlang::Lang::Fra, "fr"),
    (whatlang::Lang::Spa, "es"),
    (whatlang::Lang::Ita, "it"),
    (whatlang::Lang::Por, "pt"),
    (whatlang::Lang::Pol, "pl"),
    (whatlang::Lang::Tur, "tr"),
    (whatlang::Lang::Dan, "da"),
    (whatlang::Lang::Swe, "sv"),
];

/// A detector: text in, ISO 639-1 code (or nothing) out.
type Detect = Box<dyn Fn(&str) -> Option<String>>;

/// One candidate: answers forced, and answers under its unsure rule.
struct Candidate {
    name: &'static str,
    forced: Detect,
    careful: Detect,
}

fn lingua_code(l: Language) -> String {
    l.iso_code_639_1().to_string()
}

fn lingua_candidate(name: &'static str, detector: LanguageDetector, min_conf: f64) -> Candidate {
    let d = std::sync::Arc::new(detector);
    let d2 = d.clone();
    Candidate {
        name,
        forced: Box::new(move |t| d.detect_language_of(t).map(lingua_code)),
        careful: Box::new(move |t| {
            let values = d2.compute_language_confidence_values(t);
            let (lang, conf) = values.first()?;
            (*conf >= min_conf).then(|| lingua_code(*lang))
        }),
    }
}

fn main() -> anyhow::Result<()> {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "tests/data/language/short_comments.jsonl".into());
    let text = std::fs::read_to_string(&path)?;
    let mut set: Vec<(String, String)> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let v: serde_json::Value =
            serde_json::from_str(line).map_err(|e| anyhow::anyhow!("{path}:{}: {e}", i + 1))?;
        let field = |k: &str| {
            v.get(k)
                .and_then(|x| x.as_str())
                .map(str::to_string)
                .ok_or_else(|| anyhow::anyhow!("{path}:{}: no string `{k}`", i + 1))
        };
        set.push((field("lang")?, field("text")?));
    }
    let mut per_lang_n: BTreeMap<&str, usize> = BTreeMap::new();
    for (l, _) in &set {
        *per_lang_n.entry(l.as_str()).or_default() += 1;
    }

    let wl_allow: Vec<whatlang::Lang> = WHATLANG_LANGS.iter().map(|(l, _)| *l).collect();
    let wl_code = |l: whatlang::Lang| {
        WHATLANG_LANGS
            .iter()
            .find(|(x, _)| *x == l)
            .map_or_else(|| l.code().to_string(), |(_, c)| c.to_string())
    };
    let wl = whatlang::Detector::with_allowlist(wl_allow.clone());
    let wl2 = whatlang::Detector::with_allowlist(wl_allow);
    let candidates = vec![
        Candidate {
            name: "whatlang 0.18 (11 langs; unsure: !is_reliable)",
            forced: Box::new(move |t| wl.detect_lang(t).map(wl_code)),
            careful: Box::new(move |t| {
                wl2.detect(t)
                    .filter(|i| i.is_reliable())
                    .map(|i| wl_code(i.lang()))
            }),
        },
        lingua_candidate(
            "lingua 1.8 low accuracy (unsure: conf < 0.5)",
            LanguageDetectorBuilder::from_languages(&LINGUA_LANGS)
                .with_low_accuracy_mode()
                .with_preloaded_language_models()
                .build(),
            0.5,
        ),
        lingua_candidate(
            "lingua 1.8 high accuracy (unsure: conf < 0.5)",
            LanguageDetectorBuilder::from_languages(&LINGUA_LANGS)
                .with_preloaded_language_models()
                .build(),
            0.5,
        ),
        Candidate {
            name: "verbatim::text::language::detect",
            forced: Box::new(|t| verbatim::text::language::detect_forced(t).map(String::from)),
            careful: Box::new(|t| verbatim::text::language::detect(t).map(String::from)),
        },
    ];

    println!("{} texts from {path}: {per_lang_n:?}\n", set.len());
    println!("| detector | forced accuracy | answered | accuracy when answered | µs/text |");
    println!("|---|---|---|---|---|");
    let mut per_lang_rows = Vec::new();
    for c in &candidates {
        // Warm up (lazy model loading is not what we time).
        let _ = (c.forced)("warm up the models please");
        let _ = (c.careful)("warm up the models please");
        let started = Instant::now();
        let forced: Vec<Option<String>> = set.iter().map(|(_, t)| (c.forced)(t)).collect();
        let us = started.elapsed().as_secs_f64() * 1e6 / set.len().max(1) as f64;
        let careful: Vec<Option<String>> = set.iter().map(|(_, t)| (c.careful)(t)).collect();
        let right = |i: usize, v: &Option<String>| v.as_deref() == Some(set[i].0.as_str());
        let forced_ok = forced
            .iter()
            .enumerate()
            .filter(|(i, v)| right(*i, v))
            .count();
        let answered = careful.iter().filter(|v| v.is_some()).count();
        let careful_ok = careful
            .iter()
            .enumerate()
            .filter(|(i, v)| right(*i, v))
            .count();
        println!(
            "| {} | {:.1}% ({forced_ok}/{}) | {:.1}% | {:.1}% ({careful_ok}/{answered}) | {us:.0} |",
            c.name,
            100.0 * forced_ok as f64 / set.len() as f64,
            set.len(),
            100.0 * answered as f64 / set.len() as f64,
            100.0 * careful_ok as f64 / answered.max(1) as f64,
        );
        eprintln!("after {}: peak resident memory {}", c.name, peak_rss());
        let mut row = Vec::new();
        for (&lang, &n) in &per_lang_n {
            let ok = forced
                .iter()
                .enumerate()
                .filter(|(i, v)| set[*i].0 == lang && right(*i, v))
                .count();
            row.push(format!("{:.0}%", 100.0 * ok as f64 / n as f64));
        }
        per_lang_rows.push((c.name, row, forced));
    }
    println!("\nForced accuracy per language:\n");
    let langs: Vec<&str> = per_lang_n.keys().copied().collect();
    println!("| detector | {} |", langs.join(" | "));
    println!("|---|{}", "---|".repeat(langs.len()));
    for (name, row, _) in &per_lang_rows {
        println!("| {name} | {} |", row.join(" | "));
    }
    // The confidence threshold of `detect`: coverage against precision.
    println!("\nlingua high accuracy, answered only when the best confidence is at least t:\n");
    println!("| t | answered | accuracy when answered |");
    println!("|---|---|---|");
    let high = LanguageDetectorBuilder::from_languages(&LINGUA_LANGS).build();
    let best: Vec<Option<(String, f64)>> = set
        .iter()
        .map(|(_, t)| {
            high.compute_language_confidence_values(t)
                .first()
                .map(|(l, c)| (lingua_code(*l), *c))
        })
        .collect();
    for t in [0.0, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9] {
        let answered: Vec<usize> = (0..set.len())
            .filter(|&i| best[i].as_ref().is_some_and(|(_, c)| *c >= t))
            .collect();
        let ok = answered
            .iter()
            .filter(|&&i| best[i].as_ref().is_some_and(|(l, _)| *l == set[i].0))
            .count();
        println!(
            "| {t:.1} | {:.1}% | {:.1}% ({ok}/{}) |",
            100.0 * answered.len() as f64 / set.len() as f64,
            100.0 * ok as f64 / answered.len().max(1) as f64,
            answered.len()
        );
    }
    println!("\npeak resident memory of this process: {}", peak_rss());
    if std::env::var_os("SHOW_ERRORS").is_some() {
        for (name, _, forced) in &per_lang_rows {
            println!("\nErrors of {name}:");
            for (i, v) in forced.iter().enumerate() {
                if v.as_deref() != Some(set[i].0.as_str()) {
                    println!("  {} → {:?}: {}", set[i].0, v, set[i].1);
                }
            }
        }
    }
    Ok(())
}

/// VmHWM of /proc/self/status (Linux), for the models' memory.
fn peak_rss() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(|l| l["VmHWM:".len()..].trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}
