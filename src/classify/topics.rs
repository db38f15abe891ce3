//! Topic scores of a comment's clauses, and the two rules that turn them
//! into topics.
//!
//! Every clause is compared with every topic's example phrases (best
//! cosine), after the topic's keyword rules ([`super::keywords`]) have said
//! whether the topic may be assigned to it at all. Then one of two rules
//! decides:
//! - the calibrated rule (the default where a calibration exists for the
//!   taxonomy and the encoder): for each topic, the clause closest to its
//!   examples gives four features ([`FEATURES`]), a per-topic logistic model
//!   turns them into a probability, and the topic is assigned when that
//!   probability reaches the topic's threshold; both were fitted and chosen
//!   by cross-validation on labelled comments ([`super::calibration`]);
//! - the similarity rule (the fallback): a cosine of at least a fixed
//!   threshold, within a margin of the clause's best topic and a fixed gap
//!   above the clause's mean cosine. Its settings are hand-picked, and the gap
//!   depends on how many topics the taxonomy has, which is why calibration
//!   replaced it.
//!
//! Before either rule, a clause that is closer to a generic verdict ("sehr
//! gut", "very satisfied": [`GENERIC_PHRASES`]) than to any topic's
//! examples, by [`GENERIC_MARGIN`], is barred from every topic whose `must`
//! keyword it does not hold: short praise sits close to the friendliest
//! examples of the agent topics, and "Sehr gut" is no statement about the
//! agent.

use std::collections::{BTreeMap, HashSet};

use anyhow::Result;

use super::keywords::{KeywordFilter, Normalized, Pattern};
use super::taxonomy::Taxonomy;
use crate::model::Encoder;

/// Names of the features of a (clause, topic) pair, in the order of
/// [`Candidate::features`]; a calibration file lists them to say what its
/// weights multiply.
pub const FEATURES: [&str; 4] = [
    "similarity",
    "above_mean",
    "above_best_other",
    "keyword_hit",
];

/// Number of features.
pub const N_FEATURES: usize = FEATURES.len();

/// Generic verdicts that name no topic, one per line (`#` starts a comment
/// line); the file gives their provenance.
pub const GENERIC_PHRASES: &str = include_str!("../../models/generic-phrases.txt");

/// A clause is a generic verdict when its best cosine to the generic
/// phrases is at least its best cosine to a topic plus this. Chosen on the
/// project's training rows (`benches/generic_margin.py`): at 0.02 none of
/// their 1,302 labelled mentions loses every clause (20 at 0.0), while 129
/// of the 241 rows without a topic are barred whole.
pub const GENERIC_MARGIN: f32 = 0.02;

/// The phrases of [`GENERIC_PHRASES`].
pub fn generic_phrases() -> Vec<&'static str> {
    GENERIC_PHRASES
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect()
}

/// What a run's manifest says about the generic phrases.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct GenericInfo {
    /// sha256 of `models/generic-phrases.txt` as built in.
    pub sha256: String,
    pub phrases: usize,
    pub margin: f32,
}

impl GenericInfo {
    /// The built-in phrases and margin, where `taxonomy` uses them.
    pub fn of(taxonomy: &Taxonomy) -> Option<GenericInfo> {
        taxonomy.generic_verdicts.then(GenericInfo::built_in)
    }

    /// The built-in phrases and margin.
    pub fn built_in() -> GenericInfo {
        use sha2::Digest;
        GenericInfo {
            sha256: format!("{:x}", sha2::Sha256::digest(GENERIC_PHRASES.as_bytes())),
            phrases: generic_phrases().len(),
            margin: GENERIC_MARGIN,
        }
    }
}

/// Example words shorter than this do not make a keyword hit.
const MIN_STEM: usize = 4;
/// Example words are matched on their first this many letters, so that
/// "Rechnung" in the examples matches "Rechnungen" in a comment and
/// "crashes" matches "crashing".
const MAX_STEM: usize = 5;
/// An example word that occurs in the examples of more topics than this is
/// not distinctive ("service", "immer") and makes no keyword hit.
const MAX_TOPICS_PER_STEM: usize = 2;

/// The words that make a keyword hit for one topic.
#[derive(Debug, Clone, Default)]
struct Lexicon {
    /// The topic's `must` keywords, every language.
    must: Vec<Pattern>,
    /// Stems of its distinctive example words.
    stems: HashSet<String>,
}

/// The best clause of a comment for one topic, and its features.
#[derive(Clone, Debug, PartialEq)]
pub struct Candidate {
    pub clause: usize,
    /// Best cosine between that clause and the topic's examples.
    pub similarity: f32,
    /// The features named by [`FEATURES`]: the cosine; the cosine minus the
    /// clause's mean cosine over all topics (how much more this clause is
    /// about this topic than about any); the cosine minus the best cosine of
    /// the clause's other allowed topics (competition); 1 when the clause
    /// contains one of the topic's `must` keywords or distinctive example
    /// words, else 0.
    pub features: [f32; N_FEATURES],
}

/// Cosines of each clause of one comment to each topic, with the keyword
/// rules applied.
#[derive(Clone, Debug)]
pub struct ClauseScores {
    /// `sims[clause][topic]`: best cosine to the topic's examples, or
    /// negative infinity where the keyword rules bar the topic or the clause
    /// is a generic verdict for it.
    pub sims: Vec<Vec<f32>>,
    /// Mean cosine of each clause over all topics, barred or not: how generic
    /// the clause is.
    pub means: Vec<f32>,
    /// Best cosine of each clause to the generic phrases (negative infinity
    /// where the cosines came without them).
    pub generic: Vec<f32>,
    /// Normalized text of each clause.
    words: Vec<Normalized>,
}

/// A topic assigned to a comment by one of the rules.
#[derive(Clone, Debug, PartialEq)]
pub struct Decision {
    pub topic: usize,
    pub clause: usize,
    pub similarity: f32,
    /// Calibrated probability, or the cosine under the similarity rule.
    pub confidence: f32,
}

/// Rows of [`TopicModel::similarities_many`] in one matrix product.
const SIMILARITY_BLOCK: usize = 512;

/// Example phrases embedded per encoder call by [`TopicModel::build`] (the
/// encoder packs them into forward passes by its token budget).
const EMBED_CALL: usize = 4096;

/// The taxonomy's topics ready for one encoder's vectors.
#[derive(Debug, Clone)]
pub struct TopicModel {
    /// The vectors of every topic's example phrases, one row each, topic
    /// after topic (row-major, `dim` columns).
    examples: Vec<f32>,
    /// Per topic, its rows of `examples`.
    rows: Vec<std::ops::Range<usize>>,
    /// The rows of `examples` after the topics': the generic phrases.
    generic: std::ops::Range<usize>,
    dim: usize,
    /// Per topic, its `must` / `exclude` keyword rules.
    keywords: Vec<KeywordFilter>,
    lexicons: Vec<Lexicon>,
    /// Whether a topic's `must` keywords gate it (its `exclude` keywords
    /// always do): under the similarity rule and a calibration, whose
    /// features cannot tell a topic's own wording from a neighbour's; not
    /// under a fine-tuned topic model, which learned the topic from labelled
    /// comments, those without the words included.
    must_gates: bool,
}

impl TopicModel {
    /// Embeds the example phrases of every topic with `encoder`, many
    /// topics to a call: one call per topic made a 10,000-topic taxonomy
    /// run 10,000 tiny forward passes (minutes with a real model).
    pub fn build(encoder: &dyn Encoder, taxonomy: &Taxonomy) -> Result<TopicModel> {
        let dim = encoder.dim();
        let mut texts: Vec<&str> = Vec::new();
        let mut rows = Vec::with_capacity(taxonomy.topics.len());
        for topic in &taxonomy.topics {
            let start = texts.len();
            texts.extend(topic.all_examples());
            rows.push(start..texts.len());
        }
        let mut examples = Vec::with_capacity(texts.len() * dim);
        for part in texts.chunks(EMBED_CALL) {
            let vectors = encoder.embed(part)?;
            anyhow::ensure!(
                vectors.len() == part.len(),
                "the encoder gave {} vectors for {} texts",
                vectors.len(),
                part.len()
            );
            for v in vectors {
                anyhow::ensure!(
                    v.len() == dim,
                    "the encoder gave a vector of another length"
                );
                examples.extend(v);
            }
        }
        // In a call of their own, so that the topics' vectors are those of
        // a build without them, bit for bit.
        let start = examples.len() / dim.max(1);
        let phrases = if taxonomy.generic_verdicts {
            generic_phrases()
        } else {
            Vec::new()
        };
        let vectors = encoder.embed(&phrases)?;
        anyhow::ensure!(
            vectors.len() == phrases.len() && vectors.iter().all(|v| v.len() == dim),
            "the encoder gave other vectors than asked for the generic phrases"
        );
        examples.extend(vectors.into_iter().flatten());
        Ok(TopicModel {
            examples,
            rows,
            generic: start..start + phrases.len(),
            dim,
            keywords: taxonomy.topics.iter().map(|t| t.keyword_filter()).collect(),
            lexicons: lexicons(taxonomy),
            must_gates: true,
        })
    }

    /// Sets whether the topics' `must` keywords gate them (see the field).
    pub fn set_must_gates(&mut self, on: bool) {
        self.must_gates = on;
    }

    /// Number of topics.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// True for a taxonomy without topics (never built by the parser).
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Best cosine of `v` to each topic's examples, then to the generic
    /// phrases (as [`TopicModel::similarities_many`]).
    pub fn similarities(&self, v: &[f32]) -> Vec<f32> {
        self.similarities_many(&[v])
            .pop()
            .expect("one row per vector")
    }

    /// Best cosine of each vector to each topic's examples:
    /// `out[vector][topic]`, `-inf` for a topic without examples; then, in
    /// one more column (`out[vector][self.len()]`), its best cosine to the
    /// generic phrases, which [`TopicModel::scores_of`] takes off. One
    /// matrix product through libtorch for all the vectors: a chunk of
    /// comments has thousands of clauses and the default taxonomy hundreds
    /// of examples, which is most of the work of a rerun whose vectors all
    /// come from the cache.
    pub fn similarities_many(&self, vectors: &[&[f32]]) -> Vec<Vec<f32>> {
        let e = self.examples.len() / self.dim.max(1);
        if e == 0 {
            return vec![vec![f32::NEG_INFINITY; self.len() + 1]; vectors.len()];
        }
        let x = tch::Tensor::from_slice(&self.examples).view([e as i64, self.dim as i64]);
        let xt = x.tr();
        let mut out = Vec::with_capacity(vectors.len());
        // A block of rows at a time: the product of a whole chunk would be
        // tens of MB, and freeing blocks that large raises the allocator's
        // threshold for returning memory, so the run's memory would creep.
        // Every block has the same number of rows (the last is padded with
        // zeros): the matrix library picks its kernel by shape, and a row's
        // cosines must not depend on how many other rows came with it, down
        // to the last bit (a comment gets the same topics in any chunk).
        let n = SIMILARITY_BLOCK;
        for block in vectors.chunks(SIMILARITY_BLOCK) {
            let mut flat = vec![0f32; n * self.dim];
            for (row, v) in flat.chunks_mut(self.dim).zip(block) {
                assert_eq!(v.len(), self.dim, "a vector of another length");
                row.copy_from_slice(v);
            }
            let q = tch::Tensor::from_slice(&flat).view([n as i64, self.dim as i64]);
            let product = q.matmul(&xt);
            // Best cosine per topic: the max over the topic's columns.
            let best: Vec<tch::Tensor> = self
                .rows
                .iter()
                .chain(std::iter::once(&self.generic))
                .map(|r| {
                    if r.is_empty() {
                        tch::Tensor::full(
                            [n as i64],
                            f64::NEG_INFINITY,
                            (tch::Kind::Float, tch::Device::Cpu),
                        )
                    } else {
                        product
                            .narrow(1, r.start as i64, r.len() as i64)
                            .amax([1i64].as_slice(), false)
                    }
                })
                .collect();
            let best = tch::Tensor::stack(&best, 1).contiguous().view([-1]);
            let best = Vec::<f32>::try_from(best).expect("a float32 matrix");
            out.extend(
                best.chunks(self.len() + 1)
                    .take(block.len())
                    .map(<[f32]>::to_vec),
            );
        }
        out
    }

    /// Cosines of each clause to each topic, barred where the keyword rules
    /// say so or the clause is a generic verdict. `language` only selects which `must` rules apply.
    pub fn scores(
        &self,
        clauses: &[String],
        clause_vecs: &[Vec<f32>],
        language: Option<&str>,
    ) -> ClauseScores {
        let refs: Vec<&[f32]> = clause_vecs.iter().map(Vec::as_slice).collect();
        self.scores_of(clauses, self.similarities_many(&refs), language)
    }

    /// [`TopicModel::scores`] from the clauses' cosines to each topic
    /// ([`TopicModel::similarities_many`]).
    pub fn scores_of(
        &self,
        clauses: &[String],
        clause_sims: Vec<Vec<f32>>,
        language: Option<&str>,
    ) -> ClauseScores {
        let comment_words = Normalized::new(&clauses.join(" "));
        let mut out = ClauseScores {
            sims: Vec::with_capacity(clause_sims.len()),
            means: Vec::with_capacity(clause_sims.len()),
            generic: Vec::with_capacity(clause_sims.len()),
            words: Vec::with_capacity(clause_sims.len()),
        };
        for (ci, mut sims) in clause_sims.into_iter().enumerate() {
            // The generic phrases' column, where the cosines have it (those
            // of `similarities_many` do; hand-made ones may not).
            let generic = if sims.len() == self.len() + 1 {
                sims.pop().expect("one column more than topics")
            } else {
                f32::NEG_INFINITY
            };
            debug_assert_eq!(sims.len(), self.len());
            let mean = sims.iter().sum::<f32>() / sims.len().max(1) as f32;
            // Keyword rules bar a topic before any comparison between topics,
            // so that a barred topic does not crowd the clause's other
            // topics out. The mean stays that of all topics: it measures how
            // generic the clause is, whatever the keywords say.
            let clause_words = Normalized::new(clauses.get(ci).map_or("", String::as_str));
            // A generic verdict: closer to a generic phrase than to its
            // closest topic. It loses every topic whose `must` keyword it
            // does not hold, all at once, so that no topic gains on the
            // others by their going ("Sehr gut" must not become the agent's
            // because billing was barred).
            let top = sims.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let verdict = generic >= top + GENERIC_MARGIN;
            for (ti, (sim, rules)) in sims.iter_mut().zip(&self.keywords).enumerate() {
                let generic_verdict = verdict && !self.lexicons[ti].must_hit(&clause_words);
                let allowed = if self.must_gates {
                    rules.allows(&comment_words, &clause_words, language)
                } else {
                    rules.exclude_allows(&clause_words)
                };
                if generic_verdict || !allowed {
                    *sim = f32::NEG_INFINITY;
                }
            }
            out.sims.push(sims);
            out.means.push(mean);
            out.generic.push(generic);
            out.words.push(clause_words);
        }
        out
    }

    /// Per topic, the allowed clause closest to its examples and its
    /// features; `None` where every clause is barred.
    pub fn candidates(&self, scores: &ClauseScores) -> Vec<Option<Candidate>> {
        (0..self.len())
            .map(|ti| {
                let (ci, sim) = scores
                    .sims
                    .iter()
                    .enumerate()
                    .map(|(ci, s)| (ci, s[ti]))
                    .filter(|(_, s)| s.is_finite())
                    .fold(None, |best: Option<(usize, f32)>, (ci, s)| match best {
                        Some((_, b)) if b >= s => best,
                        _ => Some((ci, s)),
                    })?;
                let others = scores.sims[ci]
                    .iter()
                    .enumerate()
                    .filter(|&(tj, s)| tj != ti && s.is_finite())
                    .map(|(_, &s)| s)
                    .fold(f32::NEG_INFINITY, f32::max);
                let mean = scores.means[ci];
                // Alone among the allowed topics: compare with the mean.
                let best_other = if others.is_finite() { others } else { mean };
                let hit = self.lexicons[ti].hits(&scores.words[ci]);
                Some(Candidate {
                    clause: ci,
                    similarity: sim,
                    features: [sim, sim - mean, sim - best_other, f32::from(u8::from(hit))],
                })
            })
            .collect()
    }

    /// The similarity rule: a clause mentions a topic when its cosine is at
    /// least `threshold`, within `margin` of the clause's best allowed topic
    /// and at least `min_gap` above the clause's mean cosine; or when it
    /// contains one of the topic's `must` keywords and its cosine is at least
    /// `keyword_gap` above the clause's mean (a keyword the author wrote is
    /// evidence, not only a gate: a clause that names the topic's word and is
    /// no further from the topic than from the average topic gets it). Per
    /// topic, the clause with the highest cosine is kept.
    pub fn similarity_rule(
        &self,
        scores: &ClauseScores,
        threshold: f32,
        margin: f32,
        min_gap: f32,
        keyword_gap: f32,
    ) -> Vec<Decision> {
        let mut best: BTreeMap<usize, Decision> = BTreeMap::new();
        for (ci, (sims, &mean)) in scores.sims.iter().zip(&scores.means).enumerate() {
            let top = sims.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
            for (ti, &sim) in sims.iter().enumerate() {
                let by_similarity =
                    sim >= threshold && sim >= top - margin && sim - mean >= min_gap;
                let by_keyword = || {
                    sim.is_finite()
                        && sim - mean >= keyword_gap
                        && self.lexicons[ti].must_hit(&scores.words[ci])
                };
                if !by_similarity && !by_keyword() {
                    continue;
                }
                match best.get(&ti) {
                    Some(d) if d.similarity >= sim => {}
                    _ => {
                        best.insert(
                            ti,
                            Decision {
                                topic: ti,
                                clause: ci,
                                similarity: sim,
                                confidence: sim,
                            },
                        );
                    }
                }
            }
        }
        best.into_values().collect()
    }

    /// The calibrated rule: a topic is assigned when the probability from
    /// its best clause's features reaches `threshold(topic)`.
    pub fn calibrated_rule(
        &self,
        scores: &ClauseScores,
        probability: impl Fn(usize, &[f32; N_FEATURES]) -> f32,
        threshold: impl Fn(usize) -> f32,
    ) -> Vec<Decision> {
        self.candidates(scores)
            .into_iter()
            .enumerate()
            .filter_map(|(ti, c)| {
                let c = c?;
                let p = probability(ti, &c.features);
                (p >= threshold(ti)).then_some(Decision {
                    topic: ti,
                    clause: c.clause,
                    similarity: c.similarity,
                    confidence: p,
                })
            })
            .collect()
    }
}

impl Lexicon {
    /// Whether the clause contains one of the topic's `must` keywords.
    fn must_hit(&self, clause: &Normalized) -> bool {
        self.must.iter().any(|p| clause.contains(p))
    }

    /// Whether the clause contains a `must` keyword or a distinctive example
    /// word of the topic.
    fn hits(&self, clause: &Normalized) -> bool {
        if self.must_hit(clause) {
            return true;
        }
        clause
            .as_str()
            .split(' ')
            .any(|w| prefixes(w).any(|p| self.stems.contains(p)))
    }
}

/// The stems a word can match: its prefixes of MIN_STEM..=MAX_STEM letters,
/// longest first.
fn prefixes(word: &str) -> impl Iterator<Item = &str> {
    let ends: Vec<usize> = word
        .char_indices()
        .map(|(i, c)| i + c.len_utf8())
        .take(MAX_STEM)
        .collect();
    (MIN_STEM..=ends.len())
        .rev()
        .map(move |n| &word[..ends[n - 1]])
}

/// The stem of an example word: its first MAX_STEM letters (all of a
/// shorter word), or `None` for a word under MIN_STEM letters.
fn stem(word: &str) -> Option<String> {
    let n = word.chars().count();
    (n >= MIN_STEM).then(|| word.chars().take(MAX_STEM).collect())
}

/// The keyword-hit vocabulary of every topic: its `must` keywords and the
/// stems of example words that at most [`MAX_TOPICS_PER_STEM`] topics use.
fn lexicons(taxonomy: &Taxonomy) -> Vec<Lexicon> {
    let stems: Vec<HashSet<String>> = taxonomy
        .topics
        .iter()
        .map(|t| {
            t.all_examples()
                .flat_map(|e| {
                    Normalized::new(e)
                        .as_str()
                        .split(' ')
                        .filter_map(stem)
                        .collect::<Vec<_>>()
                })
                .collect()
        })
        .collect();
    let mut topics_per_stem: BTreeMap<&str, usize> = BTreeMap::new();
    for s in stems.iter().flatten() {
        *topics_per_stem.entry(s).or_default() += 1;
    }
    taxonomy
        .topics
        .iter()
        .zip(&stems)
        .map(|(t, own)| Lexicon {
            must: t
                .keywords
                .values()
                .flat_map(|k| &k.must)
                .filter_map(|k| Pattern::parse(k).ok())
                .collect(),
            stems: own
                .iter()
                .filter(|s| topics_per_stem[s.as_str()] <= MAX_TOPICS_PER_STEM)
                .cloned()
                .collect(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_are_four_to_five_letters_longest_first() {
        assert_eq!(
            prefixes("rechnungen").collect::<Vec<_>>(),
            ["rechn", "rech"]
        );
        assert_eq!(prefixes("bill").collect::<Vec<_>>(), ["bill"]);
        assert_eq!(prefixes("app").count(), 0);
        assert_eq!(prefixes("").count(), 0);
        // Letters, not bytes.
        assert_eq!(prefixes("счётчик").next(), Some("счётч"));
        assert_eq!(stem("rechnung").as_deref(), Some("rechn"));
        assert_eq!(stem("app"), None);
    }

    fn taxonomy() -> Taxonomy {
        Taxonomy::parse(
            r#"
name = "t"
version = "1"
[[topic]]
id = "billing"
label = { en = "Billing" }
examples.en = ["the invoice was wrong", "service"]
[[topic]]
id = "app"
label = { en = "App" }
examples.en = ["the app crashes", "service"]
keywords.en.must = ["app"]
[[topic]]
id = "agent"
label = { en = "Agent" }
examples.en = ["friendly agent", "service"]
"#,
            "t.toml",
        )
        .unwrap()
    }

    #[test]
    fn keyword_hits_come_from_must_words_and_distinctive_example_words() {
        let l = lexicons(&taxonomy());
        let n = Normalized::new;
        assert!(l[0].hits(&n("two INVOICES this month")));
        assert!(!l[0].hits(&n("the app")));
        assert!(l[1].hits(&n("the app")), "must keyword");
        assert!(
            l[1].hits(&n("it keeps crashing")),
            "crash* from the examples"
        );
        // "service" is in every topic's examples: not distinctive.
        assert!(!l[2].hits(&n("service")));
        assert!(l[2].hits(&n("the agents")));
    }

    /// Unit vectors from a seeded generator.
    struct Seeded(u64);

    impl Seeded {
        fn vector(&mut self, dim: usize) -> Vec<f32> {
            let mut v: Vec<f32> = (0..dim)
                .map(|_| {
                    self.0 = self
                        .0
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    ((self.0 >> 40) as f32 / (1u64 << 24) as f32) - 0.5
                })
                .collect();
            crate::model::normalize(&mut v);
            v
        }
    }

    impl Encoder for std::cell::RefCell<Seeded> {
        fn name(&self) -> String {
            "seeded".into()
        }
        fn dim(&self) -> usize {
            24
        }
        fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
            Ok(texts.iter().map(|_| self.borrow_mut().vector(24)).collect())
        }
    }

    #[test]
    fn one_matrix_product_gives_each_vector_its_best_cosine_per_topic() {
        let encoder = std::cell::RefCell::new(Seeded(7));
        let model = TopicModel::build(&encoder, &taxonomy()).unwrap();
        // More vectors than one block, so blocks are joined in order.
        let vectors: Vec<Vec<f32>> = (0..SIMILARITY_BLOCK * 2 + 17)
            .map(|_| encoder.borrow_mut().vector(24))
            .collect();
        let refs: Vec<&[f32]> = vectors.iter().map(Vec::as_slice).collect();
        let sims = model.similarities_many(&refs);
        assert_eq!(sims.len(), vectors.len());
        for (v, got) in vectors.iter().zip(&sims) {
            let expected: Vec<f32> = model
                .rows
                .iter()
                .map(|r| {
                    r.clone()
                        .map(|i| crate::model::dot(v, &model.examples[i * 24..(i + 1) * 24]))
                        .fold(f32::NEG_INFINITY, f32::max)
                })
                .collect();
            assert_eq!(got.len(), 4);
            let generic = model
                .generic
                .clone()
                .map(|i| crate::model::dot(v, &model.examples[i * 24..(i + 1) * 24]))
                .fold(f32::NEG_INFINITY, f32::max);
            assert!((got[3] - generic).abs() < 1e-5);
            for (g, e) in got.iter().zip(&expected) {
                assert!((g - e).abs() < 1e-5, "{got:?} vs {expected:?}");
            }
        }
        // Bit for bit the same, whatever other vectors come with it.
        assert_eq!(model.similarities(refs[5]), sims[5]);
        assert_eq!(model.similarities_many(&refs[600..700]), sims[600..700]);
        assert!(model.similarities_many(&[]).is_empty());
    }

    #[test]
    fn a_must_keyword_is_evidence_when_the_clause_is_not_below_its_mean() {
        let encoder = std::cell::RefCell::new(Seeded(3));
        let model = TopicModel::build(&encoder, &taxonomy()).unwrap();
        // Topics: billing, app (must "app"), agent.
        let clauses = vec![
            "the app keeps freezing".to_string(),
            "app".to_string(),
            "so so".to_string(),
        ];
        let sims = vec![
            vec![0.80, 0.79, 0.78],
            vec![0.90, 0.70, 0.80],
            vec![0.80, 0.80, 0.84],
        ];
        let scores = model.scores_of(&clauses, sims, Some("en"));
        let assigned = |keyword_gap: f32| -> Vec<(usize, usize)> {
            model
                .similarity_rule(&scores, 0.85, 0.02, 0.035, keyword_gap)
                .iter()
                .map(|d| (d.topic, d.clause))
                .collect()
        };
        // Clause 0 names the app and is at its mean for it: app, though its
        // cosine is under the threshold. Clause 1 names it too but is far
        // below its mean: billing (by the threshold), not app. Clause 2 has
        // no keyword: agent is close but under the threshold, so nothing.
        assert_eq!(assigned(0.0), [(0, 1), (1, 0)]);
        // Without keyword evidence only billing remains.
        assert_eq!(assigned(f32::INFINITY), [(0, 1)]);
        // A stricter gap drops the app.
        assert_eq!(assigned(0.02), [(0, 1)]);
    }

    #[test]
    fn a_generic_verdict_is_barred_from_every_topic_it_names_no_keyword_of() {
        let encoder = std::cell::RefCell::new(Seeded(5));
        let model = TopicModel::build(&encoder, &taxonomy()).unwrap();
        assert_eq!(model.generic.len(), generic_phrases().len());
        // Topics: billing, app (must "app"), agent; then the generic column.
        let clauses = vec![
            "very good".to_string(),
            "friendly agent".to_string(),
            "very good app".to_string(),
        ];
        let sims = vec![
            // Closer to a generic phrase than to its best topic by the margin.
            vec![0.70, 0.60, 0.80, 0.80 + GENERIC_MARGIN],
            // Not by the margin: nothing barred as generic.
            vec![0.70, 0.60, 0.90, 0.90 + GENERIC_MARGIN / 2.0],
            // Generic, but it holds the app's `must` keyword.
            vec![0.70, 0.60, 0.80, 0.95],
        ];
        let scores = model.scores_of(&clauses, sims, Some("en"));
        assert_eq!(
            scores.generic,
            [0.80 + GENERIC_MARGIN, 0.90 + GENERIC_MARGIN / 2.0, 0.95]
        );
        let barred = f32::NEG_INFINITY;
        // Clause 0: every topic barred as generic (the app's keyword is in
        // the comment, which its `must` rule asks for, but not in the clause).
        assert_eq!(scores.sims[0], [barred; 3]);
        assert_eq!(scores.sims[1], [0.70, 0.60, 0.90]);
        assert_eq!(scores.sims[2], [barred, 0.60, barred]);
        // The mean is over the topics only, barred or not.
        assert!((scores.means[0] - 0.70).abs() < 1e-6);
        // Cosines without the generic column bar nothing as generic.
        let plain = model.scores_of(&clauses[..1], vec![vec![0.70, 0.60, 0.80]], Some("en"));
        assert_eq!(plain.sims[0], [0.70, barred, 0.80]);
        assert_eq!(plain.generic, [barred]);
        // A taxonomy may turn generic verdicts off: no phrases, and the
        // generic column is negative infinity.
        let mut off = taxonomy();
        off.generic_verdicts = false;
        let model = TopicModel::build(&encoder, &off).unwrap();
        assert!(model.generic.is_empty());
        let v = encoder.borrow_mut().vector(24);
        assert_eq!(model.similarities(&v)[3], barred);
        assert_eq!(GenericInfo::of(&off), None);
        assert_eq!(GenericInfo::of(&taxonomy()), Some(GenericInfo::built_in()));
    }
}
