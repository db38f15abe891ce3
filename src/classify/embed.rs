//! Splitting, embedding and classifying comments, each distinct text once.
//!
//! Survey exports repeat themselves ("ok", "alles gut"), and a clause can be
//! another comment's whole text. [`embed_comments`] builds one table of the
//! distinct texts of a batch (every comment and, when it has more than one,
//! each of its clauses), embeds that table once, and keeps it: the
//! sentiment and topic stage ([`classify_embedded`]) reads the same table,
//! so a text's sentiment is also taken once, and a pass counts the distinct
//! texts from it rather than building the table again.

use std::collections::HashMap;

use anyhow::Result;
use rayon::prelude::*;

use super::{Classifier, CommentAnalysis, Scored};
use crate::model::Encoder;
use crate::text::clauses::split_clauses;

/// The distinct texts of a batch: each text once, with its index.
#[derive(Default)]
struct Texts {
    index: HashMap<String, usize>,
    list: Vec<String>,
}

impl Texts {
    fn id(&mut self, t: &str) -> usize {
        if let Some(&i) = self.index.get(t) {
            return i;
        }
        self.list.push(t.to_string());
        self.index.insert(t.to_string(), self.list.len() - 1);
        self.list.len() - 1
    }
}

/// One non-empty comment of an [`EmbeddedTexts`]: its clauses and where its
/// texts sit in the table.
#[derive(Clone, Debug)]
pub struct EmbeddedComment {
    pub clauses: Vec<String>,
    /// Index of the whole comment in the table.
    pub whole: usize,
    /// Index of each clause (the whole comment's when it is one clause).
    pub clause_ids: Vec<usize>,
    /// ISO 639-1 code of the comment's language, when it was detected.
    pub language: Option<&'static str>,
}

/// A batch of comments split and embedded: the table of distinct texts with
/// their vectors, and per comment its place in the table (`None` for an
/// empty comment).
#[derive(Clone, Default)]
pub struct EmbeddedTexts {
    texts: Vec<String>,
    vectors: Vec<Vec<f32>>,
    /// Per text, a fine-tuned branch's topic probabilities, when the
    /// encoder has one.
    topic_probs: Option<Vec<Vec<f32>>>,
    comments: Vec<Option<EmbeddedComment>>,
}

impl EmbeddedTexts {
    /// The comments, in input order.
    pub fn comments(&self) -> &[Option<EmbeddedComment>] {
        &self.comments
    }

    /// The vector of text `id` of the table.
    pub fn vector(&self, id: usize) -> &[f32] {
        &self.vectors[id]
    }

    /// The topic probabilities of text `id`, when the encoder gave them.
    pub fn topic_probabilities(&self, id: usize) -> Option<&[f32]> {
        self.topic_probs.as_ref().map(|p| p[id].as_slice())
    }

    /// Number of distinct texts (comments and clauses) embedded.
    pub fn distinct_texts(&self) -> usize {
        self.texts.len()
    }
}

/// Splits and embeds comments: one entry per text, `None` for an empty one
/// or one that says nothing ([`crate::text::non_answer`]).
/// Each distinct text (comment or clause) is embedded once.
pub fn embed_comments(comments: &[&str], encoder: &dyn Encoder) -> Result<EmbeddedTexts> {
    let mut texts = Texts::default();
    // Per comment: its clauses, the text index of the whole comment and of
    // each clause (the comment itself when it is one clause).
    type Plan = Option<(Vec<String>, usize, Vec<usize>)>;
    let plans: Vec<Plan> = comments
        .iter()
        .map(|&c| {
            if crate::text::non_answer::is_non_answer(c) {
                return None;
            }
            let mut clauses = split_clauses(c);
            if clauses.is_empty() {
                clauses.push(c.to_string());
            }
            let whole = texts.id(c);
            let ids = if clauses.len() == 1 {
                vec![whole]
            } else {
                clauses.iter().map(|c| texts.id(c)).collect()
            };
            Some((clauses, whole, ids))
        })
        .collect();
    // Language per comment, before the encoder takes the cores: lingua
    // needs a fraction of a millisecond per comment
    // (examples/language_eval.rs prints it), which adds up over an export.
    let languages = encoder.languages(comments)?;
    anyhow::ensure!(
        languages.len() == comments.len(),
        "{} languages for {} comments",
        languages.len(),
        comments.len()
    );
    let refs: Vec<&str> = texts.list.iter().map(String::as_str).collect();
    let (vectors, topic_probs) = encoder.embed_with_topics(&refs)?;
    anyhow::ensure!(
        vectors.len() == refs.len(),
        "the encoder gave {} vectors for {} texts",
        vectors.len(),
        refs.len()
    );
    let comments = plans
        .into_iter()
        .zip(languages)
        .map(|(plan, language)| {
            plan.map(|(clauses, whole, clause_ids)| EmbeddedComment {
                clauses,
                whole,
                clause_ids,
                language,
            })
        })
        .collect();
    Ok(EmbeddedTexts {
        texts: texts.list,
        vectors,
        topic_probs,
        comments,
    })
}

/// Splits, embeds and classifies comments: one analysis per text, `None`
/// for an empty one. Each distinct text (comment or clause) is embedded
/// once, and its sentiment taken once: the comment's own from the whole
/// comment, each clause's from the clause. This is what `verbatim analyze`
/// does to every comment, so `verbatim eval` and `discover` call it too.
pub fn analyse_texts(
    comments: &[&str],
    encoder: &dyn Encoder,
    classifier: &Classifier,
) -> Result<Vec<Option<CommentAnalysis>>> {
    classify_embedded(embed_comments(comments, encoder)?, classifier)
}

/// The second half of [`analyse_texts`]: classifies comments that
/// [`embed_comments`] split and embedded. It needs no encoder, so it can
/// run on another thread while the encoder embeds the next chunk.
pub fn classify_embedded(
    embedded: EmbeddedTexts,
    classifier: &Classifier,
) -> Result<Vec<Option<CommentAnalysis>>> {
    let EmbeddedTexts {
        texts,
        vectors,
        topic_probs,
        comments,
    } = embedded;
    anyhow::ensure!(
        topic_probs.is_some() || !classifier.needs_topic_probabilities(),
        "topics come from a fine-tuned topic model, but the encoder gave no topic probabilities"
    );
    // The distinct texts in one batch, so that a sentiment model reading
    // the text gets them together.
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let sentiments = classifier.sentiments(&refs, &vectors)?;
    anyhow::ensure!(
        sentiments.len() == refs.len(),
        "the sentiment model gave {} results for {} texts",
        sentiments.len(),
        refs.len()
    );
    // Cosines to the topics' examples, once per distinct clause, in one
    // matrix product.
    let mut sims_at: Vec<Option<usize>> = vec![None; refs.len()];
    let mut clause_vecs: Vec<&[f32]> = Vec::new();
    for e in comments.iter().flatten() {
        for &i in &e.clause_ids {
            if sims_at[i].is_none() {
                sims_at[i] = Some(clause_vecs.len());
                clause_vecs.push(&vectors[i]);
            }
        }
    }
    let sims = classifier.topic_model().similarities_many(&clause_vecs);
    // Keyword rules and topic decisions per comment, on all cores: on a
    // rerun where every vector comes from the cache, this is most of what is
    // left.
    Ok(comments
        .into_par_iter()
        .map(|e| {
            let e = e?;
            let clause_sentiment = e.clause_ids.iter().map(|&i| sentiments[i]).collect();
            let clause_sims = e
                .clause_ids
                .iter()
                .map(|&i| sims[sims_at[i].expect("every clause has cosines")].clone())
                .collect();
            let probs = topic_probs
                .as_ref()
                .map(|p| e.clause_ids.iter().map(|&i| p[i].clone()).collect());
            let scored = Scored {
                sims: clause_sims,
                probs,
            };
            Some(classifier.analyse_with(
                sentiments[e.whole],
                e.clauses,
                scored,
                clause_sentiment,
                e.language,
            ))
        })
        .collect())
}
