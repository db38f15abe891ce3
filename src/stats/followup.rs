//! Who to call back: detractors (and passives whose comment is strongly
//! negative) ranked by a churn-risk score read from their comment.
//!
//! The signals are word lists in five languages, kept in
//! `models/followup/signals.toml` and compiled in, so a reviewer can read and
//! extend them without touching code: cancellation (words, or a mention of
//! the cancellation topic), complaint or escalation, legal threats (lawyer,
//! Anwalt, advocaat, Verbraucherzentrale, ombudsman…) and repeated contact
//! ("third time", "schon wieder", "alweer", "encore une fois", "otra vez"…).
//!
//! The risk score is a plain sum, so a row can be explained from its own
//! columns:
//!
//! risk = (10 − score)/10 + max(0, −sentiment score) + Σ weights of the
//! signals found (each kind once),
//!
//! with the weights in the signals file (legal threat 3, cancellation 2,
//! complaint 1.5, repeated contact 1.5). The first two terms order plain
//! detractors among themselves (a 0 before a 6, an angry comment before a
//! mild one); any signal outweighs them.
//!
//! Memory stays flat in the number of rows: [`FollowupQueue`] keeps only the
//! `limit` highest-risk candidates seen so far (a bounded heap), ordered by
//! risk and then by input line, so the list does not depend on chunking.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use chrono::NaiveDate;
use serde::Deserialize;

use crate::classify::{CommentAnalysis, Polarity};
use crate::stats::nps::Bucket;

/// The signal lists shipped with verbatim.
pub const DEFAULT_SIGNALS: &str = include_str!("../../models/followup/signals.toml");

/// A passive qualifies for follow-up when its comment sentiment score is at
/// most this (−1..1 scale of [`crate::classify::Sentiment::score`]).
pub const PASSIVE_SENTIMENT_MAX: f32 = -0.6;

/// Follow-ups kept by default.
pub const DEFAULT_LIMIT: usize = 1000;

/// One kind of churn signal.
#[derive(Clone, Debug, Deserialize)]
pub struct Signal {
    /// Name as written in the `signals` column.
    pub name: String,
    /// Added to the risk score when found.
    pub weight: f64,
    /// Taxonomy topic ids whose mention counts as this signal.
    #[serde(default)]
    pub topics: Vec<String>,
    #[serde(default)]
    en: Vec<String>,
    #[serde(default)]
    de: Vec<String>,
    #[serde(default)]
    nl: Vec<String>,
    #[serde(default)]
    fr: Vec<String>,
    #[serde(default)]
    es: Vec<String>,
}

impl Signal {
    /// Every phrase, all languages.
    pub fn phrases(&self) -> impl Iterator<Item = &String> {
        self.en
            .iter()
            .chain(&self.de)
            .chain(&self.nl)
            .chain(&self.fr)
            .chain(&self.es)
    }
}

/// The signal lists.
#[derive(Clone, Debug, Deserialize)]
pub struct Signals {
    #[serde(rename = "signal")]
    pub signals: Vec<Signal>,
}

impl Signals {
    /// The lists compiled in from `models/followup/signals.toml`.
    pub fn shipped() -> Signals {
        // The file is part of the source tree and checked by a unit test.
        toml::from_str(DEFAULT_SIGNALS).unwrap_or(Signals {
            signals: Vec::new(),
        })
    }
}

/// A phrase (lower case, optionally ending in `$`) without its `$`, and
/// whether it must end where a word ends.
fn phrase_parts(phrase: &str) -> (&str, bool) {
    match phrase.strip_suffix('$') {
        Some(p) => (p, true),
        None => (phrase, false),
    }
}

/// Whether `text[start..end]` starts where a word starts and, when
/// `whole`, ends where a word ends.
fn at_word(text: &str, start: usize, end: usize, whole: bool) -> bool {
    let starts = text[..start]
        .chars()
        .next_back()
        .is_none_or(|c| !c.is_alphanumeric());
    let ends = !whole
        || text[end..]
            .chars()
            .next()
            .is_none_or(|c| !c.is_alphanumeric());
    starts && ends
}

/// True when `phrase` (lower case, optionally ending in `$`) occurs in
/// `text` (lower case) where a word starts, and, with `$`, where it ends.
/// One phrase at a time: [`SignalMatcher`] looks for all of them at once.
#[cfg(test)]
fn phrase_found(text: &str, phrase: &str) -> bool {
    let (p, whole) = phrase_parts(phrase);
    if p.is_empty() {
        return false;
    }
    let mut from = 0;
    while let Some(i) = text[from..].find(p) {
        let at = from + i;
        if at_word(text, at, at + p.len(), whole) {
            return true;
        }
        from = at + p.chars().next().map_or(1, char::len_utf8);
    }
    false
}

/// Compiled matcher: phrases lower-cased, topic names resolved to indices,
/// and every phrase of every signal in one Aho-Corasick automaton, so a
/// comment is read once however many phrases the signals file has.
#[derive(Clone, Debug)]
pub struct SignalMatcher {
    names: Vec<String>,
    weights: Vec<f64>,
    phrases: Vec<Vec<String>>,
    topics: Vec<Vec<usize>>,
    automaton: aho_corasick::AhoCorasick,
    /// Per pattern of the automaton: (signal, phrase index).
    owner: Vec<(usize, usize)>,
}

impl SignalMatcher {
    /// Resolves `signals` against the run's topic ids (unknown ids are
    /// ignored: a custom taxonomy may have no cancellation topic).
    pub fn new(signals: &Signals, topic_ids: &[String]) -> SignalMatcher {
        let s = &signals.signals;
        let phrases: Vec<Vec<String>> = s
            .iter()
            .map(|x| x.phrases().map(|p| p.to_lowercase()).collect())
            .collect();
        let mut patterns = Vec::new();
        let mut owner = Vec::new();
        for (si, list) in phrases.iter().enumerate() {
            for (pi, p) in list.iter().enumerate() {
                let (p, _) = phrase_parts(p);
                // An empty phrase would match everywhere; it matches nothing.
                if !p.is_empty() {
                    patterns.push(p.to_string());
                    owner.push((si, pi));
                }
            }
        }
        SignalMatcher {
            names: s.iter().map(|x| x.name.clone()).collect(),
            weights: s.iter().map(|x| x.weight).collect(),
            automaton: aho_corasick::AhoCorasick::new(&patterns)
                .expect("signal phrases fit an automaton"),
            owner,
            phrases,
            topics: s
                .iter()
                .map(|x| {
                    x.topics
                        .iter()
                        .filter_map(|t| topic_ids.iter().position(|id| id == t))
                        .collect()
                })
                .collect(),
        }
    }

    /// Signals found in a comment that mentions `topics`: `(name, first
    /// evidence)` in the order of the signals file, evidence being the
    /// phrase or `topic:<id>`.
    pub fn find(
        &self,
        comment: &str,
        topics: &[usize],
        topic_ids: &[String],
    ) -> Vec<(usize, String)> {
        let text = comment.to_lowercase();
        // Per signal, the first of its phrases (in file order) found.
        let mut first: Vec<Option<usize>> = vec![None; self.names.len()];
        for m in self.automaton.find_overlapping_iter(&text) {
            let (si, pi) = self.owner[m.pattern().as_usize()];
            let (_, whole) = phrase_parts(&self.phrases[si][pi]);
            if first[si].is_none_or(|f| pi < f) && at_word(&text, m.start(), m.end(), whole) {
                first[si] = Some(pi);
            }
        }
        let mut out = Vec::new();
        for (i, first) in first.into_iter().enumerate() {
            if let Some(&t) = self.topics[i].iter().find(|t| topics.contains(t)) {
                let id = topic_ids.get(t).map_or("?", String::as_str);
                out.push((i, format!("topic:{id}")));
            } else if let Some(pi) = first {
                out.push((i, self.phrases[i][pi].trim_end_matches('$').to_string()));
            }
        }
        out
    }

    /// Name of signal `i`.
    pub fn name(&self, i: usize) -> &str {
        &self.names[i]
    }

    /// Weight of signal `i`.
    pub fn weight(&self, i: usize) -> f64 {
        self.weights[i]
    }
}

/// The risk score of the module docs.
pub fn risk_score(score: u8, sentiment: Option<f32>, signal_weights: f64) -> f64 {
    let s = (10.0 - f64::from(score.min(10))) / 10.0;
    let neg = sentiment.map_or(0.0, |x| f64::from(-x).clamp(0.0, 1.0));
    s + neg + signal_weights
}

/// Whether a response qualifies for follow-up at all.
pub fn eligible(bucket: Bucket, analysis: Option<&CommentAnalysis>) -> bool {
    match bucket {
        Bucket::Detractor => true,
        Bucket::Passive => analysis.is_some_and(|a| a.sentiment.score <= PASSIVE_SENTIMENT_MAX),
        Bucket::Promoter => false,
    }
}

/// A detractor with a positive comment, or a promoter with a negative one;
/// `None` without a comment.
pub fn sentiment_mismatch(bucket: Bucket, analysis: Option<&CommentAnalysis>) -> Option<bool> {
    let a = analysis?;
    Some(matches!(
        (bucket, a.sentiment.label),
        (Bucket::Detractor, Polarity::Positive) | (Bucket::Promoter, Polarity::Negative)
    ))
}

/// The comment as written into the `followup` table: the one place where
/// comment text enters a table. With a redactor, names, phone numbers,
/// e-mail addresses, IBANs, card and customer numbers are masked (the
/// default of `analyze`; `--no-redact` turns it off).
pub fn followup_comment_text(
    comment: &str,
    redactor: Option<&crate::text::redact::Redactor>,
) -> String {
    crate::text::redact::shown_text(redactor, comment, 0..comment.len())
}

/// One response to follow up.
#[derive(Clone, Debug, PartialEq)]
pub struct Followup {
    pub response_id: String,
    /// 1-based input line (also the tie-break: earlier first).
    pub line: u64,
    pub score: u8,
    pub bucket: Bucket,
    pub date: Option<NaiveDate>,
    /// Segment values, parallel to the run's segment columns.
    pub segments: Vec<String>,
    /// Topic ids with the polarity of their clause, `billing:negative`.
    pub topics: Vec<String>,
    /// `name=evidence` of each signal found.
    pub signals: Vec<String>,
    pub sentiment_score: Option<f64>,
    pub risk: f64,
    /// Through [`followup_comment_text`].
    pub comment: String,
}

/// Higher risk first, then the earlier line.
fn rank_order(a: &Followup, b: &Followup) -> Ordering {
    b.risk.total_cmp(&a.risk).then(a.line.cmp(&b.line))
}

/// Heap entry: the *worst* kept candidate on top, so it is the one evicted.
struct Entry(Followup);

impl PartialEq for Entry {
    fn eq(&self, o: &Self) -> bool {
        rank_order(&self.0, &o.0) == Ordering::Equal
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Entry {
    fn cmp(&self, o: &Self) -> Ordering {
        rank_order(&self.0, &o.0)
    }
}

/// The `limit` highest-risk candidates seen so far.
pub struct FollowupQueue {
    limit: usize,
    heap: BinaryHeap<Entry>,
    matcher: SignalMatcher,
    topic_ids: Vec<String>,
    candidates: u64,
    redactor: Option<crate::text::redact::Redactor>,
    /// Names of the open questions (see [`FollowupQueue::with_questions`]).
    questions: Vec<String>,
}

impl FollowupQueue {
    /// An empty queue keeping at most `limit` rows, with the shipped signals.
    pub fn new(limit: usize, topic_ids: &[String]) -> FollowupQueue {
        FollowupQueue {
            limit,
            heap: BinaryHeap::new(),
            matcher: SignalMatcher::new(&Signals::shipped(), topic_ids),
            topic_ids: topic_ids.to_vec(),
            candidates: 0,
            redactor: None,
            questions: Vec::new(),
        }
    }

    /// The names of the open questions, when there are several: a kept
    /// comment then shows every answer after its question's name.
    pub fn with_questions(mut self, questions: &[String]) -> FollowupQueue {
        self.questions = questions.to_vec();
        self
    }

    /// Masks personal data in the comments kept (see [`followup_comment_text`]).
    pub fn with_redaction(mut self, on: bool) -> FollowupQueue {
        self.redactor = on.then(crate::text::redact::Redactor::new);
        self
    }

    /// Considers one analysed response.
    pub fn add(&mut self, r: &crate::stats::response::AnalyzedResponse) {
        let an = r.analysis.as_ref();
        // Without a score there is no one to call back by it.
        let (Some(bucket), Some(score)) = (r.bucket, r.response.score) else {
            return;
        };
        if !eligible(bucket, an) {
            return;
        }
        self.candidates += 1;
        if self.limit == 0 {
            return;
        }
        // A topic is in a joined analysis once per polarity; once here.
        let mut topic_idx: Vec<usize> = Vec::new();
        for h in an.map_or(&[][..], |a| a.topics.as_slice()) {
            if !topic_idx.contains(&h.topic) {
                topic_idx.push(h.topic);
            }
        }
        let text = r.full_text(&self.questions);
        let found = self.matcher.find(&text, &topic_idx, &self.topic_ids);
        let weights: f64 = found.iter().map(|(i, _)| self.matcher.weight(*i)).sum();
        let sentiment = an.map(|a| a.sentiment.score);
        let risk = risk_score(score, sentiment, weights);
        // Cheap rejection before building the row.
        if self.heap.len() >= self.limit {
            if let Some(worst) = self.heap.peek() {
                let w = &worst.0;
                if risk < w.risk || (risk == w.risk && r.response.line > w.line) {
                    return;
                }
            }
        }
        let row = Followup {
            response_id: r.response.id.clone(),
            line: r.response.line,
            score,
            bucket,
            date: r.when.date,
            segments: r.response.segments.clone(),
            topics: an.map_or_else(Vec::new, |a| {
                a.topics
                    .iter()
                    .map(|h| {
                        let id = self.topic_ids.get(h.topic).map_or("?", String::as_str);
                        format!("{id}:{}", h.polarity.as_str())
                    })
                    .collect()
            }),
            signals: found
                .iter()
                .map(|(i, ev)| format!("{}={ev}", self.matcher.name(*i)))
                .collect(),
            sentiment_score: sentiment.map(f64::from),
            risk,
            comment: followup_comment_text(&text, self.redactor.as_ref()),
        };
        self.heap.push(Entry(row));
        if self.heap.len() > self.limit {
            self.heap.pop();
        }
    }

    /// Responses that qualified (kept or not).
    pub fn candidates(&self) -> u64 {
        self.candidates
    }

    /// The kept rows, highest risk first.
    pub fn finish(self) -> Vec<Followup> {
        let mut v: Vec<Followup> = self.heap.into_iter().map(|e| e.0).collect();
        v.sort_by(rank_order);
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_signals_parse_with_five_languages() {
        let s: Signals = toml::from_str(DEFAULT_SIGNALS).unwrap();
        let names: Vec<&str> = s.signals.iter().map(|x| x.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "cancellation",
                "complaint",
                "legal_threat",
                "repeated_contact"
            ]
        );
        for x in &s.signals {
            for (lang, list) in [
                ("en", &x.en),
                ("de", &x.de),
                ("nl", &x.nl),
                ("fr", &x.fr),
                ("es", &x.es),
            ] {
                assert!(!list.is_empty(), "{} has no {lang} phrases", x.name);
            }
        }
    }

    #[test]
    fn phrases_match_at_word_starts() {
        assert!(phrase_found("i will cancel my contract", "cancel"));
        assert!(phrase_found("i cancelled.", "cancel"));
        assert!(!phrase_found("the agent was courteous", "court$"));
        assert!(phrase_found("see you in court!", "court$"));
        assert!(!phrase_found("recancel", "cancel"));
        assert!(phrase_found("ich gehe zum anwalt", "anwalt"));
        assert!(phrase_found(
            "ich habe schon wieder angerufen",
            "schon wieder"
        ));
        assert!(phrase_found("déjà la troisième fois", "troisième fois"));
    }

    #[test]
    fn the_automaton_finds_what_each_phrase_alone_finds() {
        let ids: Vec<String> = Vec::new();
        let signals = Signals::shipped();
        let m = SignalMatcher::new(&signals, &ids);
        // Every shipped phrase inside, at the start and glued to a word,
        // plus a few comments with several phrases.
        let mut texts: Vec<String> = vec![
            "ich kündige, anwalt ist informiert und schon wieder angerufen".into(),
            "see you in court! courteous agents, recancel, cancel".into(),
            "déjà la troisième fois, encore une fois".into(),
            String::new(),
        ];
        for p in signals.signals.iter().flat_map(|s| s.phrases()) {
            let p = p.to_lowercase();
            let bare = p.trim_end_matches('$');
            texts.push(format!("well, {bare}. thanks"));
            texts.push(format!("x{bare}"));
            texts.push(format!("{bare}s and more"));
        }
        for t in &texts {
            let expected: Vec<(usize, String)> = signals
                .signals
                .iter()
                .enumerate()
                .filter_map(|(i, s)| {
                    s.phrases()
                        .map(|p| p.to_lowercase())
                        .find(|p| phrase_found(&t.to_lowercase(), p))
                        .map(|p| (i, p.trim_end_matches('$').to_string()))
                })
                .collect();
            assert_eq!(m.find(t, &[], &ids), expected, "{t:?}");
        }
        assert!(texts.len() > 30);
    }

    #[test]
    fn signals_found_in_each_language() {
        let ids = vec!["contract_cancellation".to_string(), "billing".to_string()];
        let m = SignalMatcher::new(&Signals::shipped(), &ids);
        let names = |text: &str, topics: &[usize]| -> Vec<String> {
            m.find(text, topics, &ids)
                .into_iter()
                .map(|(i, _)| m.name(i).to_string())
                .collect()
        };
        assert_eq!(
            names("My lawyer will hear about this", &[]),
            ["legal_threat"]
        );
        assert_eq!(
            names("Ich kündige, Anwalt ist informiert", &[]),
            ["cancellation", "legal_threat"]
        );
        assert_eq!(
            names("alweer een klacht", &[]),
            ["complaint", "repeated_contact"]
        );
        assert_eq!(
            names("encore une fois, j'appelle mon avocat", &[]),
            ["legal_threat", "repeated_contact"]
        );
        assert_eq!(
            names("otra vez, voy a poner una queja", &[]),
            ["complaint", "repeated_contact"]
        );
        assert_eq!(names("nothing special", &[0]), ["cancellation"]);
        assert!(names("nothing special", &[1]).is_empty());
    }

    #[test]
    fn risk_is_the_documented_sum() {
        // Score 2: 0.8; sentiment −0.5: 0.5; legal 3 + cancellation 2.
        assert!((risk_score(2, Some(-0.5), 5.0) - 6.3).abs() < 1e-9);
        assert!((risk_score(6, Some(0.4), 0.0) - 0.4).abs() < 1e-9);
        assert!((risk_score(0, None, 0.0) - 1.0).abs() < 1e-9);
    }
}
