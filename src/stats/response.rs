//! The types every stage of a run shares: an analysed response and the
//! driver tables of a pass. They sit with the statistics, which read them,
//! so that the pipeline, the outputs and the report import them from here
//! rather than from each other.

use crate::classify::{CommentAnalysis, Polarity};
use crate::input::dates::When;
use crate::input::Response;
use crate::stats::drivers::{Driver, Ranking};
use crate::stats::nps::Bucket;

/// One response after analysis.
#[derive(Debug, Clone)]
pub struct AnalyzedResponse {
    pub response: Response,
    /// The NPS bucket of the score; `None` in a run without scores
    /// ([`crate::input::Mode::TopicsOnly`]), which counts the response in
    /// the topic counts only.
    pub bucket: Option<Bucket>,
    /// Time of the response, from the date column (empty without one).
    pub when: When,
    /// `None` when the comment is empty (the score still counts in NPS).
    /// With several open questions, the answers' analyses joined
    /// ([`CommentAnalysis::join`]): what the statistics count.
    pub analysis: Option<CommentAnalysis>,
    /// With several open questions, each answer's own analysis in question
    /// order (`None`: empty); empty with one question, whose analysis is
    /// `analysis`.
    pub answers: Vec<Option<CommentAnalysis>>,
}

impl AnalyzedResponse {
    /// Each non-empty answer: its question (0: the comment column), its
    /// text and its analysis. With one question, the comment and
    /// `analysis`.
    pub fn each_answer(&self) -> Vec<(usize, &str, &CommentAnalysis)> {
        if self.answers.is_empty() {
            return self
                .analysis
                .iter()
                .map(|a| (0, self.response.comment.as_str(), a))
                .collect();
        }
        self.answers
            .iter()
            .enumerate()
            .filter_map(|(q, a)| a.as_ref().map(|a| (q, self.response.answer(q), a)))
            .collect()
    }

    /// The response's text for a person to read: the comment; with several
    /// open questions, each non-empty answer on its own line after its
    /// question's name (`questions`, as [`crate::input::ResolvedColumns::questions`]).
    pub fn full_text(&self, questions: &[String]) -> String {
        if self.response.more_comments.is_empty() {
            return self.response.comment.clone();
        }
        (0..self.response.questions())
            .filter(|&q| !self.response.answer(q).is_empty())
            .map(|q| {
                let name = questions.get(q).map_or("", String::as_str);
                format!("{name}: {}", self.response.answer(q))
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// Which driver table a row belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DriverScope {
    /// Any mention of the topic.
    Any,
    /// Mentions in a negative clause.
    Negative,
    /// Mentions in a positive clause.
    Positive,
}

impl DriverScope {
    /// All scopes, in output order.
    pub const ALL: [DriverScope; 3] = [
        DriverScope::Any,
        DriverScope::Negative,
        DriverScope::Positive,
    ];

    /// Name as written in the outputs.
    pub fn as_str(self) -> &'static str {
        match self {
            DriverScope::Any => "any",
            DriverScope::Negative => "negative",
            DriverScope::Positive => "positive",
        }
    }

    pub(crate) fn admits(self, p: Polarity) -> bool {
        match self {
            DriverScope::Any => true,
            DriverScope::Negative => p == Polarity::Negative,
            DriverScope::Positive => p == Polarity::Positive,
        }
    }
}

/// Drivers of one scope with their ranking.
#[derive(Debug, Clone)]
pub struct DriverTable {
    pub scope: DriverScope,
    pub drivers: Vec<Driver>,
    pub ranking: Ranking,
}
