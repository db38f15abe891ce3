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
    pub bucket: Bucket,
    /// Time of the response, from the date column (empty without one).
    pub when: When,
    /// `None` when the comment is empty (the score still counts in NPS).
    pub analysis: Option<CommentAnalysis>,
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
