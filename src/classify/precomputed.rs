//! Analyses made by the per-comment stage, read back by the statistics
//! stage.
//!
//! `verbatim analyze --part K/N` analyses one partition of an export and
//! writes, for each distinct answer text, what [`CommentAnalysis`] says of
//! it, keyed by the sha256 of the text: the comment's and each clause's
//! sentiment, the topics and the language. The text itself, and so the
//! clauses' text, is not stored: the statistics stage
//! (`verbatim analyze --from-parts DIR`) reads the whole export again,
//! splits each answer into clauses as the per-comment stage did
//! ([`split_clauses`]) and takes its analysis from an [`AnalysisStore`]
//! instead of the encoder. Everything that is decided over the whole export
//! (columns, date format, columns of personal data, segments, duplicate
//! ids, line numbers) is then decided exactly as a single run decides it,
//! and the tables are those of a single run, value for value.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::{CommentAnalysis, Sentiment, TopicHit};
use crate::text::clauses::split_clauses;

/// What the per-comment stage keeps of one answer's analysis.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoredAnalysis {
    /// sha256 of the answer text (lower-case hex), as [`text_key`] makes it.
    pub key: String,
    pub sentiment: Sentiment,
    /// One per clause, in the order [`split_clauses`] gives them.
    pub clause_sentiment: Vec<Sentiment>,
    pub topics: Vec<TopicHit>,
    /// ISO 639-1 code, when the language was detected.
    pub language: Option<String>,
}

/// The key of an answer text: its sha256 in lower-case hex.
pub fn text_key(text: &str) -> String {
    crate::model::manifest::sha256_bytes(text.as_bytes())
}

/// The clauses the pipeline analyses for a non-empty text (see
/// [`super::embed::embed_comments`]): the splitter's, or the whole text
/// when it finds none.
pub fn clauses_of(text: &str) -> Vec<String> {
    let mut clauses = split_clauses(text);
    if clauses.is_empty() {
        clauses.push(text.to_string());
    }
    clauses
}

impl StoredAnalysis {
    /// What is kept of `analysis`, the analysis of `text`.
    pub fn of(text: &str, analysis: &CommentAnalysis) -> StoredAnalysis {
        StoredAnalysis {
            key: text_key(text),
            sentiment: analysis.sentiment,
            clause_sentiment: analysis.clause_sentiment.clone(),
            topics: analysis.topics.clone(),
            language: analysis.language.map(str::to_string),
        }
    }

    /// The analysis of `text` again, its clauses split anew; an error when
    /// the clauses or the language do not fit what was stored (another
    /// version of the splitter or of the language list).
    pub fn restore(&self, text: &str) -> Result<CommentAnalysis, String> {
        let clauses = clauses_of(text);
        if clauses.len() != self.clause_sentiment.len() {
            return Err(format!(
                "{} clauses now, {} when the part was made",
                clauses.len(),
                self.clause_sentiment.len()
            ));
        }
        if let Some(h) = self.topics.iter().find(|h| h.clause >= clauses.len()) {
            return Err(format!(
                "a topic on clause {} of {}",
                h.clause,
                clauses.len()
            ));
        }
        let language = match &self.language {
            None => None,
            Some(code) => Some(
                crate::text::language::known(code)
                    .ok_or_else(|| format!("unknown language code `{code}`"))?,
            ),
        };
        Ok(CommentAnalysis {
            sentiment: self.sentiment,
            clauses,
            clause_sentiment: self.clause_sentiment.clone(),
            topics: self.topics.clone(),
            language,
        })
    }
}

/// The analyses of every part, by text key.
#[derive(Debug, Default)]
pub struct AnalysisStore {
    by_key: HashMap<String, StoredAnalysis>,
}

impl AnalysisStore {
    /// Adds one analysis; a text analysed by two parts keeps the first
    /// (the same text gets the same analysis from the same models).
    pub fn insert(&mut self, a: StoredAnalysis) {
        self.by_key.entry(a.key.clone()).or_insert(a);
    }

    /// Number of distinct texts held.
    pub fn len(&self) -> usize {
        self.by_key.len()
    }

    /// True when no part held an analysis.
    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }

    /// The analysis of `text`: `None` for an empty text or a non-answer, as
    /// [`super::embed::analyse_texts`] gives it; an error when no part
    /// analysed it, or when what was stored does not fit it.
    pub fn analysis_of(&self, text: &str) -> Result<Option<CommentAnalysis>, String> {
        if crate::text::non_answer::is_non_answer(text) {
            return Ok(None);
        }
        let stored = self.by_key.get(&text_key(text)).ok_or_else(|| {
            "no part analysed this answer: is a part missing, or were the parts made \
             from another export?"
                .to_string()
        })?;
        stored
            .restore(text)
            .map(Some)
            .map_err(|e| format!("the stored analysis does not fit the answer: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::Polarity;

    fn analysis(text: &str) -> CommentAnalysis {
        let clauses = clauses_of(text);
        let s = Sentiment {
            label: Polarity::Negative,
            score: -0.5,
            confidence: 0.7,
        };
        CommentAnalysis {
            sentiment: s,
            clause_sentiment: vec![s; clauses.len()],
            topics: vec![TopicHit {
                topic: 2,
                similarity: 0.9,
                confidence: 0.8,
                clause: clauses.len() - 1,
                polarity: Polarity::Negative,
            }],
            clauses,
            language: Some("en"),
        }
    }

    #[test]
    fn a_stored_analysis_comes_back_whole_through_json() {
        let text = "friendly agent but I waited 40 minutes";
        let a = analysis(text);
        assert!(a.clauses.len() >= 2, "{:?}", a.clauses);
        let line = serde_json::to_string(&StoredAnalysis::of(text, &a)).unwrap();
        let back: StoredAnalysis = serde_json::from_str(&line).unwrap();
        let mut store = AnalysisStore::default();
        store.insert(back);
        assert_eq!(store.analysis_of(text), Ok(Some(a)));
        assert_eq!(store.analysis_of(""), Ok(None));
        assert_eq!(store.analysis_of("  "), Ok(None));
        // A text no part analysed is an error that says so.
        let err = store.analysis_of("something else").unwrap_err();
        assert!(err.contains("no part analysed"), "{err}");
    }

    #[test]
    fn a_stored_analysis_that_does_not_fit_its_text_is_refused() {
        let text = "friendly agent but I waited 40 minutes";
        let mut s = StoredAnalysis::of(text, &analysis(text));
        s.clause_sentiment.pop();
        assert!(s.restore(text).unwrap_err().contains("clauses"));
        let mut s = StoredAnalysis::of(text, &analysis(text));
        s.language = Some("xx".into());
        assert!(s.restore(text).unwrap_err().contains("xx"));
    }
}
