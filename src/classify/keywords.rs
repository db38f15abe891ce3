//! Keyword rules of a topic: `must` and `exclude` words per language.
//!
//! The encoder decides which topics a clause is close to; keywords let a
//! taxonomy author sharpen that where the nearest example is not enough:
//! - `must`: the topic is assigned only when the comment contains at least
//!   one of these words or phrases ("chatbot", "bot" for a chatbot topic, so
//!   that any complaint about a conversation does not land there);
//! - `exclude`: the topic is never assigned to a clause that contains one
//!   ("kein Empfang" is network coverage, not reachability of the hotline).
//!
//! Matching is on whole words and phrases, ignoring case and accents
//! ("Rückruf" matches "RUCKRUF", "télé" matches "tele"; "ß" matches "ss"),
//! after turning every non-letter, non-digit into a word break, so "e-mail"
//! and "e mail" are the same. A keyword ending in `*` matches any word that
//! starts with it ("rechnung*" matches "Rechnungen" and "Rechnungsbetrag"),
//! which German and Dutch compounds need.
//!
//! Languages: keyword lists are written per language, and matching uses the
//! union of a topic's lists (a German comment that the detector took for
//! Dutch still matches its German keyword). The detected language decides
//! one thing: when a comment's language is known and the topic has no `must`
//! list for it (an Italian comment and a topic whose `must` words are given
//! for de, en, fr, es and nl), `must` does not apply, since demanding words of
//! another language would drop every such comment. Exclusions always apply.

use std::collections::BTreeSet;

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// A text prepared for whole-word matching: lower case, no accents, words
/// separated by single spaces, with a space at each end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Normalized(String);

impl Normalized {
    /// Normalizes `text`.
    pub fn new(text: &str) -> Normalized {
        let mut out = String::with_capacity(text.len() + 2);
        out.push(' ');
        for c in text.to_lowercase().nfd() {
            if is_combining_mark(c) {
                continue;
            }
            if c.is_alphanumeric() {
                match c {
                    'ß' => out.push_str("ss"),
                    // Letters without a decomposition that survey writers
                    // replace by their base letter.
                    'ø' => out.push('o'),
                    'æ' => out.push_str("ae"),
                    'œ' => out.push_str("oe"),
                    'ł' => out.push('l'),
                    'ı' => out.push('i'),
                    c => out.push(c),
                }
            } else if !out.ends_with(' ') {
                out.push(' ');
            }
        }
        if !out.ends_with(' ') {
            out.push(' ');
        }
        Normalized(out)
    }

    /// The normalized text, with its leading and trailing space.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `pattern` occurs as a whole word or phrase (or word start).
    pub fn contains(&self, pattern: &Pattern) -> bool {
        pattern.finder.find(self.0.as_bytes()).is_some()
    }
}

/// One keyword, ready to match a [`Normalized`] text.
#[derive(Debug, Clone)]
pub struct Pattern {
    /// `" word "`, or `" word"` for a prefix keyword.
    needle: String,
    /// The needle's searcher, made once: every clause of a run is checked
    /// against every keyword of every topic.
    finder: memchr::memmem::Finder<'static>,
    /// The keyword as written.
    pub source: String,
}

impl PartialEq for Pattern {
    fn eq(&self, other: &Pattern) -> bool {
        self.needle == other.needle && self.source == other.source
    }
}

impl Eq for Pattern {}

impl Pattern {
    /// The normalized form: two keywords with the same key match the same texts.
    pub fn key(&self) -> &str {
        &self.needle
    }

    /// Parses a keyword; the error says why it can never match.
    pub fn parse(keyword: &str) -> Result<Pattern, String> {
        let trimmed = keyword.trim();
        let (body, prefix) = match trimmed.strip_suffix('*') {
            Some(b) => (b, true),
            None => (trimmed, false),
        };
        let (body, suffix) = match body.strip_prefix('*') {
            Some(b) => (b, true),
            None => (body, false),
        };
        if body.contains('*') {
            return Err(format!(
                "keyword `{keyword}`: `*` is only allowed at the start (word end match, \
                 for compounds: `*störung`) or the end (word start match)"
            ));
        }
        let n = Normalized::new(body);
        let words = n.as_str().trim();
        if words.is_empty() {
            return Err(format!(
                "keyword `{keyword}` has no letters or digits, so it can never match"
            ));
        }
        if prefix && body.ends_with(|c: char| !c.is_alphanumeric()) {
            return Err(format!(
                "keyword `{keyword}`: `*` must follow a letter or digit"
            ));
        }
        if suffix && body.starts_with(|c: char| !c.is_alphanumeric()) {
            return Err(format!(
                "keyword `{keyword}`: a leading `*` must be followed by a letter or digit"
            ));
        }
        let needle = format!(
            "{}{words}{}",
            if suffix { "" } else { " " },
            if prefix { "" } else { " " }
        );
        Ok(Pattern {
            finder: memchr::memmem::Finder::new(needle.as_bytes()).into_owned(),
            needle,
            source: keyword.to_string(),
        })
    }
}

/// The keyword rules of one topic, compiled.
#[derive(Debug, Clone, Default)]
pub struct KeywordFilter {
    /// Languages with a non-empty `must` list.
    must_languages: BTreeSet<String>,
    /// `must` keywords of every language.
    must: Vec<Pattern>,
    /// `exclude` keywords of every language.
    exclude: Vec<Pattern>,
}

impl KeywordFilter {
    /// Compiles a topic's keywords: per language, its `must` and `exclude`
    /// lists ([`super::taxonomy::Topic::keyword_filter`] passes them).
    /// Keywords that cannot match are skipped here;
    /// [`super::Taxonomy::parse`] has already refused them.
    pub fn new<'a>(
        rules: impl IntoIterator<Item = (&'a str, &'a [String], &'a [String])>,
    ) -> KeywordFilter {
        let mut f = KeywordFilter::default();
        for (lang, must, exclude) in rules {
            let must: Vec<Pattern> = must.iter().filter_map(|k| Pattern::parse(k).ok()).collect();
            if !must.is_empty() {
                f.must_languages.insert(lang.to_string());
            }
            f.must.extend(must);
            f.exclude
                .extend(exclude.iter().filter_map(|k| Pattern::parse(k).ok()));
        }
        f
    }

    /// True when the topic has no keyword rules.
    pub fn is_empty(&self) -> bool {
        self.must.is_empty() && self.exclude.is_empty()
    }

    /// Whether the `must` rule lets the topic be assigned to a comment
    /// (`comment`, normalized) written in `language` (`None`: unknown).
    pub fn must_allows(&self, comment: &Normalized, language: Option<&str>) -> bool {
        if self.must.is_empty() {
            return true;
        }
        if let Some(l) = language {
            if !self.must_languages.contains(l) {
                return true;
            }
        }
        self.must.iter().any(|p| comment.contains(p))
    }

    /// Whether no `exclude` keyword occurs in `clause` (normalized).
    pub fn exclude_allows(&self, clause: &Normalized) -> bool {
        !self.exclude.iter().any(|p| clause.contains(p))
    }

    /// Both rules: the topic may be assigned to `clause` of `comment`.
    pub fn allows(
        &self,
        comment: &Normalized,
        clause: &Normalized,
        language: Option<&str>,
    ) -> bool {
        self.must_allows(comment, language) && self.exclude_allows(clause)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::taxonomy::{Keywords, Topic};

    fn pat(k: &str) -> Pattern {
        Pattern::parse(k).unwrap()
    }

    #[test]
    fn normalization_folds_case_accents_and_punctuation() {
        assert_eq!(Normalized::new("Rückruf!").as_str(), " ruckruf ");
        assert_eq!(
            Normalized::new("  L'APPLI  plante…").as_str(),
            " l appli plante "
        );
        assert_eq!(
            Normalized::new("Straße, e-mail").as_str(),
            " strasse e mail "
        );
        assert_eq!(
            Normalized::new("Télé-Conseiller").as_str(),
            " tele conseiller "
        );
        assert_eq!(Normalized::new("").as_str(), " ");
    }

    #[test]
    fn whole_words_only_unless_star() {
        let t = Normalized::new("Die Rechnungen kamen per App-Nachricht");
        assert!(!t.contains(&pat("rechnung")));
        assert!(t.contains(&pat("rechnung*")));
        assert!(t.contains(&pat("App")));
        assert!(t.contains(&pat("app nachricht")));
        assert!(!Normalized::new("happy customer").contains(&pat("app")));
        assert!(Normalized::new("ÉNERGIE").contains(&pat("energie")));
        assert!(Normalized::new("energie").contains(&pat("Énergie")));
    }

    #[test]
    fn a_leading_star_matches_word_ends_for_compounds() {
        let t = Normalized::new("Signalstörung seit Tagen, Zimmerservice super");
        assert!(t.contains(&pat("*störung")));
        assert!(!t.contains(&pat("störung")));
        assert!(t.contains(&pat("*Störung")));
        assert!(t.contains(&pat("*service")));
        // Both ends: any word that contains it.
        assert!(t.contains(&pat("*mmerserv*")));
        assert!(!t.contains(&pat("*mmerserv")));
        // The whole word still matches.
        assert!(Normalized::new("eine Störung").contains(&pat("*störung")));
        // A word end, not any substring across words.
        assert!(!Normalized::new("störung en").contains(&pat("*störungen")));
        assert!(t.contains(&pat("*störung seit")));
    }

    #[test]
    fn bad_keywords_are_refused() {
        assert!(Pattern::parse("").is_err());
        assert!(Pattern::parse(" - ").is_err());
        assert!(Pattern::parse("a*b").is_err());
        assert!(Pattern::parse("**app").is_err());
        assert!(Pattern::parse("* app").is_err());
        assert!(Pattern::parse("app *").is_err());
    }

    fn topic(keywords: &[(&str, &[&str], &[&str])]) -> KeywordFilter {
        Topic {
            id: "t".into(),
            parent: None,
            label: Default::default(),
            description: String::new(),
            examples: Default::default(),
            keywords: keywords
                .iter()
                .map(|(l, m, e)| {
                    (
                        l.to_string(),
                        Keywords {
                            must: m.iter().map(|s| s.to_string()).collect(),
                            exclude: e.iter().map(|s| s.to_string()).collect(),
                        },
                    )
                })
                .collect(),
        }
        .keyword_filter()
    }

    #[test]
    fn must_uses_every_language_and_skips_uncovered_ones() {
        let f = topic(&[("de", &["chatbot", "bot"], &[]), ("fr", &["robot"], &[])]);
        let n = Normalized::new;
        // Known language with a list: any language's keyword counts.
        assert!(f.must_allows(&n("der Robot war nutzlos"), Some("de")));
        assert!(f.must_allows(&n("le chatbot"), Some("fr")));
        assert!(!f.must_allows(&n("niemand hat geantwortet"), Some("de")));
        // Unknown language: the union applies.
        assert!(!f.must_allows(&n("niemand hat geantwortet"), None));
        assert!(f.must_allows(&n("bot kaputt"), None));
        // A language the topic has no `must` words for is not restricted.
        assert!(f.must_allows(&n("nessuno ha risposto"), Some("it")));
        assert!(topic(&[]).is_empty());
    }

    #[test]
    fn exclude_applies_to_the_clause_in_every_language() {
        let f = topic(&[("de", &[], &["empfang"]), ("en", &[], &["signal"])]);
        let n = Normalized::new;
        assert!(!f.exclude_allows(&n("kein Empfang im Keller")));
        assert!(!f.exclude_allows(&n("no signal")));
        assert!(f.exclude_allows(&n("niemand erreichbar")));
        // The clause decides, not the rest of the comment.
        let comment = n("niemand erreichbar, und kein Empfang");
        assert!(f.allows(&comment, &n("niemand erreichbar"), Some("de")));
        assert!(!f.allows(&comment, &n("kein Empfang"), Some("de")));
    }
}
