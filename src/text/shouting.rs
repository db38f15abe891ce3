//! Shouted words, lowered before the encoder reads them.
//!
//! The default encoder's tokenizer is cased, and words in capitals are rare
//! in what it learned from: "NICHT ZU EMPFEHLEN!" came out positive where
//! "Nicht zu empfehlen!" is clearly negative, "TOTAL ENTTÄUSCHT" neutral
//! (benches/FINETUNE.md, stop 24). Angry customers write in capitals, so
//! every text goes to the encoder with its shouted words in lower case:
//! a run of consecutive words in capitals (separated by nothing but spaces,
//! digits or punctuation) that holds a word of at least five letters or is
//! at least three words long. Acronyms alone or in pairs stay as written
//! ("DB", "ICE", "WLAN", "SEPA", "DSL TV"), so do words with a lower-case
//! letter ("iPhone", "McDonald") and placeholders in brackets ("[NAME]", as
//! a masking tool writes them).

use std::borrow::Cow;

/// Letters a word needs for its run to count as shouting ("AGAIN", not
/// "WLAN").
const SHOUTED_LETTERS: usize = 5;

/// Words a run needs to count as shouting without such a word ("I AM SO
/// MAD").
const SHOUTED_WORDS: usize = 3;

/// `text` with its shouted words in lower case ([`Cow::Borrowed`] when it has
/// none). Idempotent: the result has no run left to lower.
pub fn calm(text: &str) -> Cow<'_, str> {
    // A text without a capital letter has nothing to lower: no word list
    // for it (this runs for every text the encoder or the cache sees).
    if !text.chars().any(char::is_uppercase) {
        return Cow::Borrowed(text);
    }
    let words = words(text);
    // A word in capitals, not a bracketed placeholder.
    let capitals = |&(s, e): &(usize, usize)| {
        let w = &text[s..e];
        !text[..s].ends_with(['[', '<', '{'])
            && w.chars().any(char::is_uppercase)
            && !w.chars().any(char::is_lowercase)
    };
    // Runs of words in capitals that follow one another.
    let mut lower = vec![false; words.len()];
    let mut i = 0;
    while i < words.len() {
        if !capitals(&words[i]) {
            i += 1;
            continue;
        }
        let mut j = i;
        while j + 1 < words.len() && capitals(&words[j + 1]) {
            j += 1;
        }
        let long = |&(s, e): &(usize, usize)| text[s..e].chars().count() >= SHOUTED_LETTERS;
        if j + 1 - i >= SHOUTED_WORDS || words[i..=j].iter().any(long) {
            lower[i..=j].iter_mut().for_each(|l| *l = true);
        }
        i = j + 1;
    }
    if !lower.contains(&true) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (&(s, e), _) in words.iter().zip(&lower).filter(|(_, &l)| l) {
        out.push_str(&text[at..s]);
        out.push_str(&text[s..e].to_lowercase());
        at = e;
    }
    out.push_str(&text[at..]);
    Cow::Owned(out)
}

/// Byte ranges of the maximal runs of letters in `text`.
fn words(text: &str) -> Vec<(usize, usize)> {
    let mut words = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        match (c.is_alphabetic(), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                words.push((s, i));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        words.push((s, text.len()));
    }
    words
}

#[cfg(test)]
mod tests {
    use super::calm;

    #[test]
    fn shouted_runs_are_lowered_short_capitals_alone_are_not() {
        assert_eq!(calm("NICHT ZU EMPFEHLEN!"), "nicht zu empfehlen!");
        assert_eq!(
            calm("Nicht stoßfest. NICHT ZU EMPFEHLEN!!"),
            "Nicht stoßfest. nicht zu empfehlen!!"
        );
        assert_eq!(
            calm("I AM SO ANGRY, 3 HOURS on hold"),
            "i am so angry, 3 hours on hold"
        );
        assert_eq!(calm("TOTAL ENTTÄUSCHT"), "total enttäuscht");
        assert_eq!(calm("internet down AGAIN"), "internet down again");
        assert_eq!(calm("I AM SO MAD"), "i am so mad");
        // Acronyms alone or in pairs stay, so do placeholders in brackets.
        for t in [
            "Mit dem ICE nach Köln, DB App ok",
            "SMS and TV fine",
            "WLAN fällt aus, SEPA Mandat ignoriert",
            "DSL TV Paket",
            "Danke an [NAME], Rückruf unter [PHONE]",
        ] {
            assert_eq!(calm(t), t);
        }
        // A lower-case letter makes it no shouting.
        assert_eq!(calm("my iPhone and McDONALD"), "my iPhone and McDONALD");
    }

    #[test]
    fn nothing_to_lower_borrows_and_lowering_twice_changes_nothing() {
        for t in ["", "ok", "Sehr gut!", "…", "1234", "DB"] {
            assert!(matches!(calm(t), std::borrow::Cow::Borrowed(_)), "{t}");
        }
        for t in [
            "NUNCA MÁS",
            "ÇA NE MARCHE PAS",
            "WLAN GEHT NICHT",
            "GROẞE Enttäuschung",
        ] {
            let once = calm(t).into_owned();
            assert_ne!(once, t);
            assert_eq!(calm(&once), once.as_str());
        }
    }
}
