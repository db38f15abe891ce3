//! Splits a comment into clauses: one opinion each.
//!
//! Survey answers put several opinions in one line: "friendly agent but I
//! waited 40 minutes". Splitting on sentence ends and on the contrast words of
//! the five survey languages lets each opinion carry its own topic and
//! sentiment. The splitter is rule-based on purpose: it is fast, predictable,
//! and its mistakes are easy to see in the output.
//!
//! A full stop ends a sentence only where a sentence can end: not inside a
//! number (`3.5`, `1.000`), an e-mail address or a web address, and not
//! after an abbreviation or an initial (`Mr.`, `Dr.`, `z.B.`, `bzw.`,
//! `J. Peter Miller`). A clause so never cuts through personal data that the
//! redactor has to see whole to mask.

use std::ops::Range;

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

/// Words written with a full stop that does not end the sentence, lower
/// case: titles and salutations, and the abbreviations of the five survey
/// languages that stand before more of the sentence ("ca. 20 Minuten",
/// "bzw. die Mahnung"). Abbreviations made of one- or two-letter parts
/// ("z.B.", "d.h.", "u.a.", "e.g.") are recognised by their shape.
#[rustfmt::skip]
const ABBREVIATIONS: &[&str] = &[
    "mr", "mrs", "ms", "dr", "prof", "hr", "hrn", "fr", "sr", "sra", "srta", "mme", "mlle",
    "mevr", "dhr", "mw", "st", "ste", "jr", "sen", "jun", "dipl", "ing", "mag", "med", "bzw",
    "ca", "nr", "tel", "inkl", "zzgl", "ggf", "evtl", "bspw", "vgl", "geb", "str", "bijv", "resp",
    "ong", "env", "cf", "aprox", "núm", "tfno", "approx", "vs", "abt", "fam",
];

/// Abbreviations that only stand before a number ("no. 12", "nº. 5"):
/// elsewhere they are words ("I said no.").
const NUMBER_ABBREVIATIONS: &[&str] = &["no", "nos", "art", "abs", "pág", "pag", "p"];

/// Whether the stop, question or exclamation mark at byte `i` of `text`
/// (character `c`) ends a sentence. It does not inside a number (`3.5`,
/// `1.000`), an address (`a.b@example.com`, `www.example.com/faq?x=1`) or
/// after an abbreviation or an initial (`Mr.`, `z.B.`, `J. Peter Miller`).
fn ends_sentence(text: &str, i: usize, c: char) -> bool {
    if !matches!(c, '.' | '?' | '!' | ';' | '|') {
        return is_break(c);
    }
    let before = &text[..i];
    let after = &text[i + c.len_utf8()..];
    let prev = before.chars().next_back();
    let next = after.chars().next();
    // The token (run of non-space characters) the mark stands in, up to it;
    // bounded, so that a long run without spaces stays linear.
    let token_start = before
        .char_indices()
        .rev()
        .take(200)
        .take_while(|(_, ch)| !ch.is_whitespace())
        .last()
        .map_or(i, |(p, _)| p);
    let token = &before[token_start..];
    let address = token.contains('@') || token.contains("://") || token.starts_with("www.");
    let glued =
        next.is_some_and(|n| !n.is_whitespace()) && prev.is_some_and(|p| !p.is_whitespace());
    if c != '.' {
        // "faq.html?x=1": inside an address, not a question.
        return !(address && glued);
    }
    // Inside a token: 3.5, 1.000, example.com, z.B, a.b@c.de.
    if prev.is_some_and(char::is_alphanumeric) && next.is_some_and(char::is_alphanumeric) {
        return false;
    }
    if address {
        return true;
    }
    // The word before the stop: letters and inner stops ("z.B", "Mr").
    let word_start = before
        .char_indices()
        .rev()
        .take(40)
        .take_while(|(_, ch)| ch.is_alphabetic() || *ch == '.')
        .last()
        .map_or(i, |(p, _)| p);
    let word = before[word_start..].trim_start_matches('.');
    if word.is_empty() {
        return true;
    }
    // An initial: "J. Peter Miller", "M. Dupont".
    let mut chars = word.chars();
    if let (Some(first), None) = (chars.next(), chars.next()) {
        if first.is_uppercase() {
            return false;
        }
    }
    // "z.B", "d.h", "u.a", "e.g", "i.e", "o.ä": parts of one or two letters.
    if word.contains('.')
        && word
            .split('.')
            .all(|p| (1..=2).contains(&p.chars().count()) && p.chars().all(char::is_alphabetic))
    {
        return false;
    }
    let lower = word.to_lowercase();
    if ABBREVIATIONS.contains(&lower.as_str()) {
        return false;
    }
    if NUMBER_ABBREVIATIONS.contains(&lower.as_str()) {
        let rest = after.trim_start();
        return !rest.starts_with(|ch: char| ch.is_ascii_digit() || ch == '#');
    }
    true
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
/// it and without trailing punctuation: [`clause_ranges`] gives where.
pub fn split_clauses(text: &str) -> Vec<String> {
    clause_ranges(text)
        .into_iter()
        .map(|r| text[r].to_string())
        .collect()
}

/// Where the clauses of [`split_clauses`] are in `text` (byte ranges, in
/// order), so that what was found in the whole text (personal data to mask)
/// can be mapped onto each clause.
pub fn clause_ranges(text: &str) -> Vec<Range<usize>> {
    let mut ranges = Vec::new();
    let mut start = 0;
    for (i, c) in text.char_indices() {
        if is_break(c) && ends_sentence(text, i, c) {
            split_sentence(&text[start..i], start, &mut ranges);
            start = i + c.len_utf8();
        }
    }
    split_sentence(&text[start..], start, &mut ranges);
    let mut out: Vec<Range<usize>> = ranges
        .into_iter()
        .filter_map(|(a, b)| clause_range(text, a..b))
        .collect();
    if out.is_empty() && has_content(text) {
        let trimmed = text.trim_start();
        let start = text.len() - trimmed.len();
        out.push(start..start + trimmed.trim_end().len());
    }
    out
}

/// The clause in `text[r]`, trimmed of spaces and trailing punctuation, if it
/// has content.
fn clause_range(text: &str, r: Range<usize>) -> Option<Range<usize>> {
    let clause = &text[r.clone()];
    let t = clause.trim_start();
    let start = r.start + (clause.len() - t.len());
    let c = t
        .trim_end()
        .trim_end_matches([',', ':', '-', '–', ' '])
        .trim_end();
    has_content(c).then(|| start..start + c.len())
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
    fn addresses_numbers_and_abbreviations_are_not_sentence_ends() {
        for text in [
            "Bitte an mustermann@example.com schreiben",
            "MÜLLER@bücher.de antwortet nie",
            "siehe https://www.example.com/faq.html?x=1 für Details",
            "bestellt bei amazon.de und nie bekommen",
            "Preis 3.5 Sterne und 1.000 Euro am 01.03.2024",
            "Mr. Smith was extremely rude",
            "Mrs. Jones and J. Peter Miller",
            "Frau Dr. Anna Schmidt war nett",
            "Prof. Meier und Hr. Weber",
            "z.B. die Rechnung bzw. die Mahnung",
            "d.h. nichts, u.a. die App",
            "ca. 20 Minuten, Nr. 12 in St. Gallen",
            "Sra. García y Sr. Pérez",
        ] {
            assert_eq!(split_clauses(text), vec![text.to_string()], "{text}");
        }
    }

    #[test]
    fn sentence_ends_next_to_addresses_and_numbers_still_split() {
        assert_eq!(
            split_clauses("Mail an a.b@c.de. Danach nichts mehr."),
            vec!["Mail an a.b@c.de", "Danach nichts mehr"]
        );
        assert_eq!(
            split_clauses("Preis 3.5. Service gut"),
            vec!["Preis 3.5", "Service gut"]
        );
        assert_eq!(
            split_clauses("Das war gut. Mr Smith rief an."),
            vec!["Das war gut", "Mr Smith rief an"]
        );
        // "no" is an abbreviation only before a number.
        assert_eq!(
            split_clauses("I said no. Then it broke"),
            vec!["I said no", "Then it broke"]
        );
        assert_eq!(
            split_clauses("order no. 12345 lost"),
            vec!["order no. 12345 lost"]
        );
    }

    #[test]
    fn clause_ranges_are_the_clauses_in_the_text() {
        let text = " Mr. Smith was rude, but the app is ok. Thanks ";
        let ranges = clause_ranges(text);
        let from_ranges: Vec<&str> = ranges.iter().map(|r| &text[r.clone()]).collect();
        assert_eq!(from_ranges, split_clauses(text));
        assert_eq!(
            from_ranges,
            ["Mr. Smith was rude", "the app is ok", "Thanks"]
        );
        // One clause that has no content of its own: the whole text, trimmed.
        assert_eq!(
            clause_ranges(" ok "),
            vec![std::ops::Range { start: 1, end: 3 }]
        );
    }

    #[test]
    fn a_marker_at_the_start_does_not_make_an_empty_clause() {
        assert_eq!(split_clauses("but why"), vec!["why"]);
        assert_eq!(split_clauses("but"), vec!["but"]);
    }
}
