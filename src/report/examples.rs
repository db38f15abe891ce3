//! Example comments per topic for the report, collected as the pass streams.
//!
//! Keeps at most `per_topic` clauses per topic and polarity (negative
//! first, then positive), the first met in input order, so memory is bounded
//! by the taxonomy and the choice is identical on rerun. Every text goes
//! through the `mask` function given by the caller before it is kept.

use anyhow::Result;

use super::{ExampleComment, TopicExamples};
use crate::classify::{Polarity, Taxonomy};
use crate::input::Reject;
use crate::stats::response::AnalyzedResponse;
use crate::pipeline::PassSink;

/// A [`PassSink`] that forwards to `inner` and keeps example comments.
pub struct ExampleCollector<'a, S: PassSink, M: Fn(&str) -> String> {
    pub inner: S,
    mask: M,
    per_topic: usize,
    /// `kept[topic][0]`: negative examples, `[1]`: positive.
    kept: Vec<[Vec<ExampleComment>; 2]>,
    taxonomy: &'a Taxonomy,
}

impl<'a, S: PassSink, M: Fn(&str) -> String> ExampleCollector<'a, S, M> {
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

impl<S: PassSink, M: Fn(&str) -> String> PassSink for ExampleCollector<'_, S, M> {
    fn responses(&mut self, chunk: &[AnalyzedResponse]) -> Result<()> {
        for r in chunk {
            let Some(a) = &r.analysis else { continue };
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
                    let text = a
                        .clauses
                        .get(hit.clause)
                        .map_or(r.response.comment.as_str(), String::as_str);
                    slot[side].push(ExampleComment {
                        text: (self.mask)(text),
                        score: Some(r.response.score),
                    });
                }
            }
        }
        self.inner.responses(chunk)
    }

    fn reject(&mut self, reject: &Reject) -> Result<()> {
        self.inner.reject(reject)
    }
}
