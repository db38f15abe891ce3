//! Splits a comment into clauses: one opinion each.
//!
//! Survey answers put several opinions in one line: "friendly agent but I
//! waited 40 minutes". Splitting on sentence ends and on the contrast words of
//! the five survey languages lets each opinion carry its own topic and
//! sentiment. The splitter is rule-based on purpose: it is fast, predictable,
//! and its mistakes are easy to see in the output.

/// How a contrast marker splits a sentence.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    /// Coordinating ("but", "aber", "maar", "mais", "pero", "however"…):
    /// starts a new opinion wherever it stands.
    Coordinating,
    /// Subordinating or ambiguous ("although", "obwohl", "hoewel", "bien
    /// que", "aunque"; Dutch "toch", "alleen"): starts a new opinion only
    /// after a comma; at the start of a sentence, the opinion it opens ends
    /// at the first comma ("Although the wait was long, she fixed it").
    AfterComma,
}

/// Contrast markers, lower case, one or two words.
const MARKERS: &[(&str, Kind)] = &[
    // English
    ("but", Kind::Coordinating),
    ("however", Kind::Coordinating),
    ("yet", Kind::Coordinating),
    ("whereas", Kind::Coordinating),
    ("although", Kind::AfterComma),
    ("though", Kind::AfterComma),
    ("even though", Kind::AfterComma),
    // German ("sondern" corrects rather than contrasts: "nicht 5, sondern 50")
    ("aber", Kind::Coordinating),
    ("jedoch", Kind::Coordinating),
    ("allerdings", Kind::Coordinating),
    ("trotzdem", Kind::Coordinating),
    ("dennoch", Kind::Coordinating),
    ("obwohl", Kind::AfterComma),
    ("auch wenn", Kind::AfterComma),
    // Dutch
    ("maar", Kind::Coordinating),
    ("echter", Kind::Coordinating),
    ("toch", Kind::AfterComma),
    ("alleen", Kind::AfterComma),
    ("hoewel", Kind::AfterComma),
    // French
    ("mais", Kind::Coordinating),
    ("cependant", Kind::Coordinating),
    ("pourtant", Kind::Coordinating),
    ("toutefois", Kind::Coordinating),
    ("néanmoins", Kind::Coordinating),
    ("par contre", Kind::Coordinating),
    ("en revanche", Kind::Coordinating),
    ("bien que", Kind::AfterComma),
    // Spanish ("sino" corrects, like "sondern")
    ("pero", Kind::Coordinating),
    ("sin embargo", Kind::Coordinating),
    ("no obstante", Kind::Coordinating),
    ("en cambio", Kind::Coordinating),
    ("aunque", Kind::AfterComma),
];

/// Phrases before a "but" that make it part of one opinion: "not only fast
/// but also friendly".
const NOT_ONLY: &[&str] = &[
    "not only",
    "nicht nur",
    "niet alleen",
    "non seulement",
    "no solo",
    "no sólo",
];

/// Words right after a marker that make it additive, not contrastive.
const ALSO: &[&str] = &["also", "auch", "ook", "aussi", "también", "oui", "non"];

/// Characters that end a sentence or a list item.
fn is_break(c: char) -> bool {
    matches!(c, '.' | '!' | '?' | ';' | '\n' | '\r' | '•' | '|')
}

/// A clause worth classifying has at least two letters.
fn has_content(s: &str) -> bool {
    s.chars().filter(|c| c.is_alphabetic()).count() >= 2
}

/// One word of a sentence: its byte range in the text and its normal form.
struct Word<'a> {
    start: usize,
    end: usize,
    raw: &'a str,
    norm: String,
}

impl Word<'_> {
    /// The word is followed by a comma (or colon, dash) in the text.
    fn comma_after(&self) -> bool {
        self.raw
            .trim_end_matches(['"', '\'', ')', '»'])
            .ends_with([',', ':', '–'])
    }
}

fn words_of(text: &str, offset: usize) -> Vec<Word<'_>> {
    let mut out = Vec::new();
    let mut pos = 0;
    for raw in text.split_whitespace() {
        let start = pos + text[pos..].find(raw).unwrap_or(0);
        pos = start + raw.len();
        let norm = raw
            .trim_matches(|c: char| !c.is_alphanumeric())
            .to_lowercase();
        if raw == "," || raw == "–" {
            // A detached comma belongs to the word before it.
            if let Some(prev) = out.last_mut() {
                let prev: &mut Word = prev;
                prev.raw = &text[prev.start - offset..pos];
            }
            continue;
        }
        out.push(Word {
            start: offset + start,
            end: offset + pos,
            raw,
            norm,
        });
    }
    out
}

/// The marker starting at word `i`: its kind and length in words.
fn marker_at(words: &[Word], i: usize) -> Option<(Kind, usize)> {
    let one = words[i].norm.as_str();
    let two = words.get(i + 1).map(|n| format!("{one} {}", n.norm));
    if let Some(t) = &two {
        // A two-word marker needs its first word without a comma after it.
        if !words[i].comma_after() {
            if let Some((_, k)) = MARKERS.iter().find(|(m, _)| m == t) {
                return Some((*k, 2));
            }
        }
    }
    MARKERS
        .iter()
        .find(|(m, _)| *m == one)
        .map(|(_, k)| (*k, 1))
}

/// Whether the marker at `i` (length `m`) joins rather than contrasts.
fn is_exception(words: &[Word], from: usize, i: usize, m: usize) -> bool {
    let marker = words[i].norm.as_str();
    let next = words.get(i + m).map(|w| w.norm.as_str());
    let prev = i.checked_sub(1).map(|p| words[p].norm.as_str());
    if next.is_some_and(|n| ALSO.contains(&n)) && !words[i].comma_after() {
        return true;
    }
    let before: Vec<&str> = words[from..i].iter().map(|w| w.norm.as_str()).collect();
    let joined = before.join(" ");
    if NOT_ONLY.iter().any(|n| joined.contains(n)) {
        return true;
    }
    match marker {
        // "nothing but praise", "all but"
        "but" => prev.is_some_and(|p| matches!(p, "nothing" | "anything" | "all")),
        // "alleen maar positief", "toch wel tevreden"
        "maar" => {
            prev == Some("alleen") || (before.contains(&"niet") && !words[i - 1].comma_after())
        }
        "toch" | "alleen" => next.is_some_and(|n| matches!(n, "wel" | "maar" | "nog")),
        _ => false,
    }
}

/// Splits one sentence (at byte `offset` of the comment) into clause ranges.
fn split_sentence(sentence: &str, offset: usize, out: &mut Vec<(usize, usize)>) {
    let words = words_of(sentence, offset);
    let n = words.len();
    if n == 0 {
        return;
    }
    let push = |from: usize, to: usize, out: &mut Vec<(usize, usize)>| {
        if from < to {
            out.push((words[from].start, words[to - 1].end));
        }
    };
    let mut from = 0;
    // A marker opening the sentence: drop it; a subordinating one also
    // closes its opinion at the first comma.
    if let Some((kind, m)) = marker_at(&words, 0) {
        if m < n && !is_exception(&words, 0, 0, m) {
            from = m;
            if kind == Kind::AfterComma {
                if let Some(j) = (m..n.saturating_sub(1)).find(|&j| words[j].comma_after()) {
                    push(m, j + 1, out);
                    from = j + 1;
                }
            }
        }
    }
    let mut i = from + 1;
    while i < n {
        let Some((kind, m)) = marker_at(&words, i) else {
            i += 1;
            continue;
        };
        let after_comma = words[i - 1].comma_after();
        if i + m >= n {
            // A marker ending the sentence ("nobody called back though") is
            // a particle: drop it.
            if kind == Kind::AfterComma {
                push(from, i, out);
                return;
            }
            break;
        }
        let splits = match kind {
            Kind::Coordinating => true,
            Kind::AfterComma => after_comma,
        } && !is_exception(&words, from, i, m);
        if splits {
            push(from, i, out);
            from = i + m;
            i = from + 1;
        } else {
            i += 1;
        }
    }
    push(from, n, out);
}

/// The clauses of `text`, trimmed, in order; the whole text when it has one.
///
/// Each clause is a slice of `text` without the contrast marker that opened
/// it and without trailing punctuation.
pub fn split_clauses(text: &str) -> Vec<String> {
    let mut ranges = Vec::new();
    let mut start = 0;
    for (i, c) in text.char_indices() {
        if is_break(c) {
            split_sentence(&text[start..i], start, &mut ranges);
            start = i + c.len_utf8();
        }
    }
    split_sentence(&text[start..], start, &mut ranges);
    let mut out = Vec::new();
    for (a, b) in ranges {
        push_clause(&mut out, &text[a..b]);
    }
    if out.is_empty() && has_content(text) {
        out.push(text.trim().to_string());
    }
    out
}

fn push_clause(out: &mut Vec<String>, clause: &str) {
    let c = clause
        .trim()
        .trim_end_matches([',', ':', '-', '–', ' '])
        .trim();
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
            vec!["friendly agent", "I waited 40 minutes"]
        );
        assert_eq!(
            split_clauses("Mitarbeiter nett, aber die Rechnung ist falsch."),
            vec!["Mitarbeiter nett", "die Rechnung ist falsch"]
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
        assert_eq!(split_clauses("but why"), vec!["why"]);
        assert_eq!(split_clauses("but"), vec!["but"]);
    }
}
