//! Splits a comment into clauses: one opinion each.
//!
//! Survey answers put several opinions in one line: "friendly agent but I
//! waited 40 minutes". Splitting on sentence ends and on the contrast words of
//! the five survey languages lets each opinion carry its own topic and
//! sentiment. The splitter is rule-based on purpose: it is fast, predictable,
//! and its mistakes are easy to see in the output.

/// Contrast markers that start a new opinion, lower case, as whole words.
const CONTRAST: &[&str] = &[
    // English
    "but",
    "however",
    "although",
    "though",
    "yet",
    "whereas",
    // German
    "aber",
    "jedoch",
    "allerdings",
    "trotzdem",
    "dennoch",
    "obwohl",
    "sondern",
    // Dutch
    "maar",
    "echter",
    "hoewel",
    "toch",
    "alleen",
    // French
    "mais",
    "cependant",
    "pourtant",
    "toutefois",
    "néanmoins",
    // Spanish
    "pero",
    "aunque",
    "sin embargo",
    "sino",
];

/// Characters that end a sentence or a list item.
fn is_break(c: char) -> bool {
    matches!(c, '.' | '!' | '?' | ';' | '\n' | '\r' | '•' | '|')
}

/// A clause worth classifying has at least two letters.
fn has_content(s: &str) -> bool {
    s.chars().filter(|c| c.is_alphabetic()).count() >= 2
}

/// The clauses of `text`, trimmed, in order; the whole text when it has one.
pub fn split_clauses(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for sentence in text.split(is_break) {
        let mut current: Vec<&str> = Vec::new();
        let words: Vec<&str> = sentence.split_whitespace().collect();
        let mut i = 0;
        while i < words.len() {
            let w = words[i]
                .trim_matches(|c: char| !c.is_alphanumeric())
                .to_lowercase();
            let two = words.get(i + 1).map(|n| {
                format!(
                    "{w} {}",
                    n.trim_matches(|c: char| !c.is_alphanumeric())
                        .to_lowercase()
                )
            });
            let starts_new = CONTRAST.contains(&w.as_str())
                || two.as_deref().is_some_and(|t| CONTRAST.contains(&t));
            if starts_new && !current.is_empty() {
                push_clause(&mut out, &current.join(" "));
                current.clear();
            }
            current.push(words[i]);
            i += 1;
        }
        push_clause(&mut out, &current.join(" "));
    }
    if out.is_empty() && has_content(text) {
        out.push(text.trim().to_string());
    }
    out
}

fn push_clause(out: &mut Vec<String>, clause: &str) {
    let c = clause.trim().trim_end_matches([',', ':', '-', '–']).trim();
    if has_content(c) {
        out.push(c.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_on_contrast_words_in_five_languages() {
        assert_eq!(
            split_clauses("friendly agent but I waited 40 minutes"),
            vec!["friendly agent", "but I waited 40 minutes"]
        );
        assert_eq!(
            split_clauses("Mitarbeiter nett, aber die Rechnung ist falsch."),
            vec!["Mitarbeiter nett", "aber die Rechnung ist falsch"]
        );
        assert_eq!(split_clauses("vriendelijk maar traag").len(), 2);
        assert_eq!(split_clauses("aimable mais lent").len(), 2);
        assert_eq!(split_clauses("amable, sin embargo muy lento").len(), 2);
    }

    #[test]
    fn splits_sentences_and_drops_empty_bits() {
        assert_eq!(
            split_clauses("Preis zu hoch. Service gut!! ?"),
            vec!["Preis zu hoch", "Service gut"]
        );
        assert!(split_clauses("").is_empty());
        assert!(split_clauses("?!").is_empty());
        assert_eq!(split_clauses("ok"), vec!["ok"]);
    }

    #[test]
    fn a_marker_at_the_start_does_not_make_an_empty_clause() {
        assert_eq!(split_clauses("but why"), vec!["but why"]);
    }
}
