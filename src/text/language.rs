//! The language of a comment, as an ISO 639-1 code.
//!
//! Detection uses lingua (n-gram models, written for short texts), restricted
//! to the five survey languages (de, nl, en, fr, es) and six common others
//! (it, pt, pl, tr, da, sv): restricting makes short texts far more reliable,
//! and the others are there so that an Italian or Portuguese comment is
//! recognised as such instead of being forced into Spanish or French.
//! `examples/language_eval.rs` measures this choice against whatlang on
//! `tests/data/language/short_comments.jsonl`.
//!
//! A comment gets no language (`None`) when it has too few letters ("ok",
//! "10/10", "👍") or when the best language is not clearly ahead: a missing
//! language is honest, a wrong one sends keyword rules and reports astray.
//! Topic matching does not depend on the language; it only selects which
//! keyword lists apply (see [`crate::classify::keywords`]).

use std::borrow::Cow;
use std::sync::OnceLock;

use lingua::{Language, LanguageDetector, LanguageDetectorBuilder};
use unicode_normalization::{is_nfc_quick, IsNormalized, UnicodeNormalization};

/// The languages a comment can be detected as, in ISO 639-1.
pub const LANGUAGES: [&str; 11] = [
    "de", "nl", "en", "fr", "es", "it", "pt", "pl", "tr", "da", "sv",
];

/// Below this many letters a text gets no language.
pub const MIN_LETTERS: usize = 8;

/// The best language needs at least this confidence (lingua's confidences of
/// the eleven languages add up to 1).
pub const MIN_CONFIDENCE: f64 = 0.5;

const LINGUA: [(Language, &str); 11] = [
    (Language::German, "de"),
    (Language::Dutch, "nl"),
    (Language::English, "en"),
    (Language::French, "fr"),
    (Language::Spanish, "es"),
    (Language::Italian, "it"),
    (Language::Portuguese, "pt"),
    (Language::Polish, "pl"),
    (Language::Turkish, "tr"),
    (Language::Danish, "da"),
    (Language::Swedish, "sv"),
];

fn detector() -> &'static LanguageDetector {
    static DETECTOR: OnceLock<LanguageDetector> = OnceLock::new();
    DETECTOR.get_or_init(|| {
        let langs: Vec<Language> = LINGUA.iter().map(|(l, _)| *l).collect();
        LanguageDetectorBuilder::from_languages(&langs).build()
    })
}

fn code(l: Language) -> Option<&'static str> {
    LINGUA.iter().find(|(x, _)| *x == l).map(|(_, c)| *c)
}

fn letters(text: &str) -> usize {
    text.chars().filter(|c| c.is_alphabetic()).count()
}

/// What decides [`detect`]'s answer besides the text: the detector and its
/// version, the languages and the two thresholds. A cached language
/// ([`crate::model::cache`]) is only valid for the same identity.
pub fn detector_identity() -> String {
    format!(
        "lingua {}; {}; min letters {MIN_LETTERS}; min confidence {MIN_CONFIDENCE}",
        env!("VERBATIM_LINGUA_VERSION"),
        LANGUAGES.join(",")
    )
}

/// The language of a code in [`LANGUAGES`], as the static string.
pub fn known(code: &str) -> Option<&'static str> {
    LANGUAGES.iter().copied().find(|&c| c == code)
}

/// The text in Unicode NFC: decomposed accents would otherwise count as
/// non-letters and change the n-grams. Most texts are NFC and not copied.
fn nfc(text: &str) -> Cow<'_, str> {
    if is_nfc_quick(text.chars()) == IsNormalized::Yes {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(text.nfc().collect())
    }
}

/// The language of `text` (ISO 639-1, one of [`LANGUAGES`]), or `None` when
/// the text is too short or the detector is unsure. Composed and decomposed
/// forms of the same text get the same answer.
pub fn detect(text: &str) -> Option<&'static str> {
    let text = nfc(text);
    let text = text.as_ref();
    if letters(text) < MIN_LETTERS {
        return None;
    }
    let values = detector().compute_language_confidence_values(text);
    let (lang, confidence) = values.first()?;
    if *confidence < MIN_CONFIDENCE {
        return None;
    }
    code(*lang)
}

/// The most likely language of `text` even when unsure; `None` only for a
/// text without letters. For evaluation: the pipeline uses [`detect`].
pub fn detect_forced(text: &str) -> Option<&'static str> {
    if letters(text) == 0 {
        return None;
    }
    detector().detect_language_of(text).and_then(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn survey_languages_of_clear_comments() {
        let cases = [
            (
                "Die Mitarbeiterin war sehr freundlich und hat mir schnell geholfen",
                "de",
            ),
            (
                "De medewerker was erg vriendelijk en heeft me snel geholpen",
                "nl",
            ),
            ("The agent was very friendly and helped me quickly", "en"),
            (
                "La conseillère était très aimable et m'a aidé rapidement",
                "fr",
            ),
            ("La agente fue muy amable y me ayudó rápidamente", "es"),
            (
                "L'operatore è stato molto gentile e mi ha aiutato subito",
                "it",
            ),
        ];
        for (text, lang) in cases {
            assert_eq!(detect(text), Some(lang), "{text}");
        }
    }

    #[test]
    fn too_short_or_no_letters_is_none() {
        for text in ["ok", "10/10", "👍👍", "", "   ", "top!"] {
            assert_eq!(detect(text), None, "{text:?}");
        }
        assert_eq!(detect_forced("12345 !!"), None);
    }

    #[test]
    fn decomposed_accents_are_detected_as_composed() {
        use unicode_normalization::UnicodeNormalization;
        let text = "La conseillère était très aimable et m'a aidé rapidement";
        let decomposed: String = text.nfd().collect();
        assert_ne!(decomposed, text);
        assert_eq!(detect(&decomposed), detect(text));
        assert_eq!(detect(&decomposed), Some("fr"));
    }

    #[test]
    fn the_identity_names_the_detector_version_and_thresholds() {
        let id = detector_identity();
        assert!(id.starts_with("lingua 1."), "{id}");
        assert!(!id.contains("unknown"), "{id}");
        assert!(id.contains("de,nl,en,fr,es"), "{id}");
    }
}
