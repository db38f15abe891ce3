//! Answers that say nothing: "n/a", "-", "keine Angabe", "geen opmerkingen".
//!
//! Survey tools force an answer into an open question, so exports carry
//! placeholders where a customer wrote no comment. Analysed as comments they
//! got a sentiment and sometimes a topic, and counted as comments. Here they
//! count as no comment (`has_comment` false), as an empty cell does.
//!
//! The list holds only answers that cannot carry an opinion. Short verdicts
//! ("ok", "nothing to complain about", "rien à redire", "sin quejas") are
//! opinions and stay comments; so does "nothing" or "nichts", which answers
//! "what could we do better?" with praise.

/// Placeholders in English, German, Dutch, French and Spanish, compared after
/// [`normalise`]: lower case, outer punctuation and spaces dropped, inner
/// runs of spaces made one.
const PLACEHOLDERS: &[&str] = &[
    // English
    "n/a",
    "na",
    "n.a",
    "n. a",
    "none",
    "nil",
    "no comment",
    "no comments",
    "no answer",
    "not applicable",
    "nothing to add",
    "nothing to say",
    // German
    "keine angabe",
    "keine angaben",
    "k.a",
    "k. a",
    "kein kommentar",
    "keine kommentare",
    "nichts hinzuzufügen",
    "entfällt",
    // Dutch
    "n.v.t",
    "nvt",
    "geen opmerking",
    "geen opmerkingen",
    "geen commentaar",
    "geen reactie",
    "niets toe te voegen",
    // French
    "sans commentaire",
    "sans commentaires",
    "aucun commentaire",
    "pas de commentaire",
    "néant",
    "rien à ajouter",
    // Spanish
    "sin comentarios",
    "sin comentario",
    "ningún comentario",
    "nada que añadir",
    "nada que agregar",
    "no aplica",
];

/// True for an answer that says nothing: empty, only ASCII punctuation and
/// spaces ("-", "...", "?"), or one of the placeholders above. An emoji is an
/// answer: "👍" says something.
pub fn is_non_answer(text: &str) -> bool {
    let trimmed = text.trim();
    if trimmed
        .chars()
        .all(|c| c.is_ascii_punctuation() || c.is_whitespace())
    {
        return true;
    }
    // Placeholders are short; a long text is never one.
    if trimmed.len() > 40 {
        return false;
    }
    let n = normalise(trimmed);
    PLACEHOLDERS.iter().any(|p| *p == n)
}

/// Lower case, outer punctuation and spaces dropped, inner whitespace runs
/// made one space.
fn normalise(text: &str) -> String {
    let lower = text.to_lowercase();
    let inner =
        lower.trim_matches(|c: char| c.is_ascii_punctuation() && c != '/' || c.is_whitespace());
    inner.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_and_punctuation_are_no_answer() {
        for t in [
            "",
            "  ",
            "-",
            "--",
            "...",
            "?",
            "n/a",
            "N/A",
            " n/a. ",
            "NA",
            "n.a.",
            "None",
            "no comment",
            "No comments!",
            "keine Angabe",
            "k.A.",
            "K. A.",
            "Kein Kommentar",
            "n.v.t.",
            "NVT",
            "geen opmerkingen",
            "Sans commentaire",
            "néant",
            "Sin comentarios",
            "nada que añadir",
        ] {
            assert!(is_non_answer(t), "{t:?} should be no answer");
        }
    }

    #[test]
    fn short_verdicts_emoji_and_real_comments_are_answers() {
        for t in [
            "ok",
            "top",
            "nothing",
            "nichts",
            "rien à redire",
            "sin quejas",
            "no complaints",
            "👍",
            "n/a service was slow",
            "keine Angabe zur Wartezeit möglich, ewig gewartet",
            "Na ja",
            "na ja, geht so",
            "none of my calls were answered",
        ] {
            assert!(!is_non_answer(t), "{t:?} should be an answer");
        }
    }
}
