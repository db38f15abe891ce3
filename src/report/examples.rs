//! Example comments per topic for the report, collected as the pass streams.
//!
//! Keeps at most `per_topic` clauses per topic and polarity (negative
//! first, then positive), the first met in input order, so memory is bounded
//! by the taxonomy and the choice is identical on rerun. Every text goes
//! through the `mask` function given by the caller before it is kept, which
//! gets the whole comment and where the clause is in it: personal data is
//! found in the whole comment (a clause may hold part of an address or a
//! name whose anchor word is in the clause before), then shown for the
//! clause.

use std::ops::Range;

use anyhow::Result;

use super::{ExampleComment, TopicExamples};
use crate::classify::{Polarity, Taxonomy};
use crate::input::Reject;
use crate::pipeline::PassSink;
use crate::stats::response::AnalyzedResponse;

/// A [`PassSink`] that forwards to `inner` and keeps example comments.
pub struct ExampleCollector<'a, S: PassSink, M: Fn(&str, Range<usize>) -> String> {
    pub inner: S,
    mask: M,
    per_topic: usize,
    /// `kept[topic][0]`: negative examples, `[1]`: positive.
    kept: Vec<[Vec<ExampleComment>; 2]>,
    taxonomy: &'a Taxonomy,
}

impl<'a, S: PassSink, M: Fn(&str, Range<usize>) -> String> ExampleCollector<'a, S, M> {
    /// Collects up to `per_topic` negative and as many positive examples per topic.
    pub fn new(inner: S, taxonomy: &'a Taxonomy, per_topic: usize, mask: M) -> Self {
        ExampleCollector {
            inner,
            mask,
            per_topic,
            kept: vec![[Vec::new(), Vec::new()]; taxonomy.topics.len()],
            taxonomy,
        }
    }

    /// The examples, per topic id (the report replaces ids by labels), and
    /// the inner sink.
    pub fn finish(self) -> (Vec<TopicExamples>, S) {
        let ex = self
            .kept
            .into_iter()
            .zip(&self.taxonomy.topics)
            .filter(|(k, _)| !k[0].is_empty() || !k[1].is_empty())
            .map(|([neg, pos], t)| TopicExamples {
                topic: t.id.clone(),
                comments: neg.into_iter().chain(pos).collect(),
            })
            .collect();
        (ex, self.inner)
    }
}

impl<S: PassSink, M: Fn(&str, Range<usize>) -> String> PassSink for ExampleCollector<'_, S, M> {
    fn responses(&mut self, chunk: &[AnalyzedResponse]) -> Result<()> {
        for r in chunk {
            // Each answer on its own, so that a clause is found in its text.
            for (_, comment, a) in r.each_answer() {
                for hit in &a.topics {
                    let side = match hit.polarity {
                        Polarity::Negative => 0,
                        Polarity::Positive => 1,
                        Polarity::Neutral => continue,
                    };
                    let Some(slot) = self.kept.get_mut(hit.topic) else {
                        continue;
                    };
                    if slot[side].len() < self.per_topic {
                        let part = clause_in(comment, &a.clauses, hit.clause);
                        slot[side].push(ExampleComment {
                            text: (self.mask)(comment, part),
                            score: r.response.score,
                        });
                    }
                }
            }
        }
        self.inner.responses(chunk)
    }

    fn reject(&mut self, reject: &Reject) -> Result<()> {
        self.inner.reject(reject)
    }
}

/// Where clause `i` of `clauses` (as the pipeline split `comment`) is in
/// `comment`: the splitter's range when it gives that clause, else the first
/// place the clause's text is found, else the whole comment.
fn clause_in(comment: &str, clauses: &[String], i: usize) -> Range<usize> {
    let whole = 0..comment.len();
    let Some(clause) = clauses.get(i) else {
        return whole;
    };
    if clauses.len() > 1 {
        let ranges = crate::text::clauses::clause_ranges(comment);
        if ranges.len() == clauses.len() && comment.get(ranges[i].clone()) == Some(clause.as_str())
        {
            return ranges[i].clone();
        }
    }
    match comment.find(clause.as_str()) {
        Some(at) => at..at + clause.len(),
        None => whole,
    }
}

#[cfg(test)]
mod tests {
    use super::clause_in;

    #[test]
    fn a_clause_is_found_in_its_comment() {
        let c = "Mr. Smith was rude, but the app is ok";
        let clauses = vec![
            "Mr. Smith was rude".to_string(),
            "the app is ok".to_string(),
        ];
        assert_eq!(&c[clause_in(c, &clauses, 1)], "the app is ok");
        assert_eq!(&c[clause_in(c, &clauses, 0)], "Mr. Smith was rude");
        assert_eq!(clause_in(c, &[c.to_string()], 0), 0..c.len());
        assert_eq!(clause_in(c, &["elsewhere".to_string()], 0), 0..c.len());
        assert_eq!(clause_in(c, &clauses, 7), 0..c.len());
    }
}
