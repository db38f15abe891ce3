//! Candidate new topics from the comments that no topic matched.
//!
//! `verbatim discover` embeds the unassigned remainder (clauses that matched
//! no topic), clusters it with k-means (`linfa-clustering`, seeded, so a rerun
//! gives the same clusters), picks the number of clusters by the silhouette
//! score when it is not given, and describes each cluster by its key terms
//! (class-based TF-IDF: terms frequent in the cluster and rare in the others)
//! and the comments nearest its centre. Candidates get new ids that do not
//! collide with the taxonomy's ids; existing ids are never touched, so a
//! dashboard built on `topic_id` survives adopting a candidate.

use std::collections::{HashMap, HashSet};

use anyhow::{ensure, Result};
use linfa::prelude::*;
use linfa_clustering::KMeans;
use ndarray::{Array1, Array2, ArrayView1};
use rand_xoshiro::rand_core::SeedableRng;
use rand_xoshiro::Xoshiro256Plus;
use serde::Serialize;

/// Words that say nothing about a topic, in the five survey languages.
const STOPWORDS: &str = include_str!("../../models/discover/stopwords.txt");

/// One proposed topic.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Candidate {
    /// A new id, unique in the taxonomy (`candidate_<terms>`).
    pub id: String,
    /// Texts in the cluster.
    pub size: usize,
    /// Share of the unassigned texts.
    pub share: f64,
    /// Terms that set the cluster apart, best first.
    pub key_terms: Vec<String>,
    /// Texts nearest the cluster centre.
    pub representatives: Vec<String>,
    /// Mean cosine of the cluster's texts to their centre (tightness).
    pub cohesion: f64,
}

/// The result of [`discover`].
#[derive(Clone, Debug, Serialize)]
pub struct Discovery {
    pub texts: usize,
    pub clusters: usize,
    /// Silhouette score of the chosen clustering (−1..1).
    pub silhouette: f64,
    /// Candidates, largest first.
    pub candidates: Vec<Candidate>,
}

/// Settings of [`discover`].
#[derive(Clone, Debug)]
pub struct DiscoverSettings {
    /// Number of clusters; chosen by silhouette over 2..=`max_clusters` when `None`.
    pub clusters: Option<usize>,
    pub max_clusters: usize,
    pub seed: u64,
    pub key_terms: usize,
    pub representatives: usize,
    /// Clusters smaller than this are not proposed.
    pub min_size: usize,
}

impl Default for DiscoverSettings {
    fn default() -> Self {
        DiscoverSettings {
            clusters: None,
            max_clusters: 12,
            seed: 42,
            key_terms: 6,
            representatives: 5,
            min_size: 5,
        }
    }
}

fn tokens(text: &str, stop: &HashSet<&str>) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric() && c != '\'')
        .map(|w| w.trim_matches('\'').to_lowercase())
        .filter(|w| w.chars().count() >= 3 && !w.chars().all(|c| c.is_numeric()))
        .filter(|w| !stop.contains(w.as_str()))
        .collect()
}

fn kmeans(x: &Array2<f64>, k: usize, seed: u64) -> Result<(Vec<usize>, Array2<f64>)> {
    let ds = DatasetBase::from(x.clone());
    let model = KMeans::params_with_rng(k, Xoshiro256Plus::seed_from_u64(seed))
        .n_runs(5)
        .max_n_iterations(200)
        .tolerance(1e-5)
        .fit(&ds)
        .map_err(|e| anyhow::anyhow!("k-means with {k} clusters: {e}"))?;
    let labels = model.predict(x);
    Ok((labels.to_vec(), model.centroids().clone()))
}

fn silhouette(x: &Array2<f64>, labels: &[usize], seed: u64) -> Result<f64> {
    // The score is quadratic in the rows: score a fixed sample of at most 2,000.
    let n = x.nrows();
    let idx: Vec<usize> = if n <= 2000 {
        (0..n).collect()
    } else {
        let step = n as f64 / 2000.0;
        (0..2000)
            .map(|i| ((i as f64 * step) as usize + seed as usize % 7) % n)
            .collect()
    };
    let xs = x.select(ndarray::Axis(0), &idx);
    let ls: Array1<usize> = idx.iter().map(|&i| labels[i]).collect();
    let ds = DatasetBase::new(xs, ls);
    ds.silhouette_score()
        .map_err(|e| anyhow::anyhow!("silhouette score: {e}"))
}

fn slug(terms: &[String]) -> String {
    let mut s: String = terms
        .iter()
        .take(2)
        .map(|t| {
            t.chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() {
                        c.to_ascii_lowercase()
                    } else {
                        '_'
                    }
                })
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("_");
    s = s.trim_matches('_').to_string();
    if s.is_empty() {
        s = "cluster".into();
    }
    format!("candidate_{s}")
}

/// Clusters `texts` (with their unit vectors) into candidate topics whose
/// ids avoid `existing_ids`.
pub fn discover(
    texts: &[String],
    vectors: &[Vec<f32>],
    existing_ids: &HashSet<String>,
    settings: &DiscoverSettings,
) -> Result<Discovery> {
    ensure!(texts.len() == vectors.len(), "one vector per text");
    let n = texts.len();
    ensure!(
        n >= 2 * settings.min_size.max(2),
        "only {n} unassigned texts: too few to cluster"
    );
    let x = matrix(vectors);
    let clustering = cluster(&x, settings)?;
    let (labels, k) = (&clustering.labels, clustering.k);
    let terms = TermCounts::new(texts, labels, k);
    let mut used: HashSet<String> = existing_ids.clone();
    let mut candidates = Vec::new();
    for c in 0..k {
        let members: Vec<usize> = (0..n).filter(|&i| labels[i] == c).collect();
        if members.len() < settings.min_size {
            continue;
        }
        let key_terms = terms.key_terms(c, settings.key_terms);
        let (representatives, cohesion) = nearest_centre(
            &x,
            clustering.centroids.row(c),
            &members,
            texts,
            settings.representatives,
        );
        let id = fresh_id(slug(&key_terms), &mut used);
        candidates.push(Candidate {
            id,
            size: members.len(),
            share: members.len() as f64 / n as f64,
            key_terms,
            representatives,
            cohesion,
        });
    }
    candidates.sort_by(|a, b| b.size.cmp(&a.size).then(a.id.cmp(&b.id)));
    Ok(Discovery {
        texts: n,
        clusters: k,
        silhouette: clustering.silhouette,
        candidates,
    })
}

/// The vectors as the rows of a matrix.
fn matrix(vectors: &[Vec<f32>]) -> Array2<f64> {
    let dim = vectors[0].len();
    let mut x = Array2::<f64>::zeros((vectors.len(), dim));
    for (i, v) in vectors.iter().enumerate() {
        for (j, &f) in v.iter().enumerate() {
            x[(i, j)] = f as f64;
        }
    }
    x
}

/// A k-means clustering of the texts.
struct Clustering {
    /// Cluster of each text.
    labels: Vec<usize>,
    /// One centre per cluster (rows).
    centroids: Array2<f64>,
    /// Silhouette score (0 for a single cluster).
    silhouette: f64,
    /// Number of clusters.
    k: usize,
}

/// Clusters the rows of `x` into the number of clusters asked for, or
/// else into the number from 2 up with the best silhouette score.
fn cluster(x: &Array2<f64>, settings: &DiscoverSettings) -> Result<Clustering> {
    let n = x.nrows();
    let (labels, centroids, score, k) = match settings.clusters {
        Some(k) => {
            let k = k.clamp(1, n);
            let (l, c) = kmeans(x, k, settings.seed)?;
            let s = if k > 1 {
                silhouette(x, &l, settings.seed)?
            } else {
                0.0
            };
            (l, c, s, k)
        }
        None => {
            let top = settings
                .max_clusters
                .min(n / settings.min_size.max(1))
                .max(2);
            let mut best: Option<(f64, usize, Vec<usize>, Array2<f64>)> = None;
            for k in 2..=top {
                let (l, c) = kmeans(x, k, settings.seed)?;
                let s = silhouette(x, &l, settings.seed)?;
                if best.as_ref().is_none_or(|b| s > b.0) {
                    best = Some((s, k, l, c));
                }
            }
            let (s, k, l, c) = best.expect("at least k = 2 was tried");
            (l, c, s, k)
        }
    };
    Ok(Clustering {
        labels,
        centroids,
        silhouette: score,
        k,
    })
}

/// Term counts per cluster, for class-based TF-IDF.
struct TermCounts {
    /// Texts of each cluster that contain each term.
    tf: Vec<HashMap<String, f64>>,
    /// Sum over each cluster's texts of their distinct terms.
    words_in: Vec<f64>,
    /// Count of each term over all clusters.
    total: HashMap<String, f64>,
    /// Mean of `words_in`.
    avg_words: f64,
}

impl TermCounts {
    /// Counts the terms of `texts` in their clusters `labels` (each text
    /// counts a term once), leaving out stopwords.
    fn new(texts: &[String], labels: &[usize], k: usize) -> TermCounts {
        let stop: HashSet<&str> = STOPWORDS
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect();
        let mut tf: Vec<HashMap<String, f64>> = vec![HashMap::new(); k];
        let mut words_in: Vec<f64> = vec![0.0; k];
        for (t, &c) in texts.iter().zip(labels) {
            let set: HashSet<String> = tokens(t, &stop).into_iter().collect();
            words_in[c] += set.len() as f64;
            for w in set {
                *tf[c].entry(w).or_default() += 1.0;
            }
        }
        let mut total: HashMap<String, f64> = HashMap::new();
        for m in &tf {
            for (w, f) in m {
                *total.entry(w.clone()).or_default() += f;
            }
        }
        let avg_words = words_in.iter().sum::<f64>() / k as f64;
        TermCounts {
            tf,
            words_in,
            total,
            avg_words,
        }
    }

    /// The `how_many` terms (in at least two texts) that best set cluster
    /// `c` apart, best first.
    fn key_terms(&self, c: usize, how_many: usize) -> Vec<String> {
        // c-TF-IDF (Grootendorst 2022): tf in the class × log(1 + A / f_t),
        // A the average words per class, f_t the term's count over all classes.
        let mut scored: Vec<(f64, &String)> = self.tf[c]
            .iter()
            .filter(|(_, &f)| f >= 2.0)
            .map(|(w, &f)| {
                let idf = (1.0 + self.avg_words / self.total[w.as_str()]).ln();
                (f / self.words_in[c].max(1.0) * idf, w)
            })
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
        scored
            .iter()
            .take(how_many)
            .map(|(_, w)| (*w).clone())
            .collect()
    }
}

/// Up to `how_many` distinct texts of a cluster (its `members`) nearest
/// its `centre`, and the cluster's cohesion (mean cosine to the centre).
fn nearest_centre(
    x: &Array2<f64>,
    centre: ArrayView1<f64>,
    members: &[usize],
    texts: &[String],
    how_many: usize,
) -> (Vec<String>, f64) {
    let norm = centre.dot(&centre).sqrt().max(1e-12);
    let mut near: Vec<(f64, usize)> = members
        .iter()
        .map(|&i| (x.row(i).dot(&centre) / norm, i))
        .collect();
    let cohesion = near.iter().map(|p| p.0).sum::<f64>() / near.len() as f64;
    near.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut reps = Vec::new();
    let mut seen = HashSet::new();
    for (_, i) in &near {
        if reps.len() == how_many {
            break;
        }
        if seen.insert(texts[*i].to_lowercase()) {
            reps.push(texts[*i].clone());
        }
    }
    (reps, cohesion)
}

/// `base`, or `base_2`, `base_3`, … if taken: the first id not in `used`,
/// which it joins.
fn fresh_id(base: String, used: &mut HashSet<String>) -> String {
    let mut id = base.clone();
    let mut k2 = 2;
    while used.contains(&id) {
        id = format!("{base}_{k2}");
        k2 += 1;
    }
    used.insert(id.clone());
    id
}

/// The candidates as taxonomy TOML to review and append: one `[[topic]]`
/// each, with the representatives as examples under `lang`.
pub fn to_taxonomy_toml(d: &Discovery, lang: &str) -> String {
    let mut s = String::from(
        "# Candidate topics proposed by `verbatim discover` from unassigned comments.\n\
         # Review, rename the labels, keep or drop, then append to your taxonomy;\n\
         # the ids are new and never reuse an existing one.\n\n",
    );
    let mut topics = Vec::new();
    for c in &d.candidates {
        let label = c
            .key_terms
            .iter()
            .take(3)
            .cloned()
            .collect::<Vec<_>>()
            .join(", ");
        let mut t = toml::map::Map::new();
        t.insert("id".into(), toml::Value::String(c.id.clone()));
        let mut l = toml::map::Map::new();
        l.insert(lang.to_string(), toml::Value::String(label));
        t.insert("label".into(), toml::Value::Table(l));
        t.insert(
            "description".into(),
            toml::Value::String(format!(
                "{} unassigned texts ({:.1}%); key terms: {}",
                c.size,
                100.0 * c.share,
                c.key_terms.join(", ")
            )),
        );
        let mut ex = toml::map::Map::new();
        ex.insert(
            lang.to_string(),
            toml::Value::Array(
                c.representatives
                    .iter()
                    .cloned()
                    .map(toml::Value::String)
                    .collect(),
            ),
        );
        t.insert("examples".into(), toml::Value::Table(ex));
        topics.push(toml::Value::Table(t));
    }
    let mut doc = toml::map::Map::new();
    doc.insert("topic".into(), toml::Value::Array(topics));
    s.push_str(&toml::to_string(&toml::Value::Table(doc)).unwrap_or_default());
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(v: Vec<f32>) -> Vec<f32> {
        let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        v.into_iter().map(|x| x / n).collect()
    }

    /// Two planted groups on two axes with their own vocabulary.
    fn planted() -> (Vec<String>, Vec<Vec<f32>>) {
        let mut t = Vec::new();
        let mut v = Vec::new();
        for i in 0..20 {
            let e = (i % 5) as f32 * 0.02;
            t.push(format!("parking garage was full again {i}"));
            v.push(unit(vec![1.0, e, 0.0]));
            t.push(format!("loyalty points never credited {i}"));
            v.push(unit(vec![e, 0.0, 1.0]));
        }
        (t, v)
    }

    #[test]
    fn planted_groups_become_two_candidates_with_their_terms() {
        let (t, v) = planted();
        let existing: HashSet<String> = ["candidate_parking_garage".to_string()].into();
        let d = discover(&t, &v, &existing, &DiscoverSettings::default()).unwrap();
        assert_eq!(d.clusters, 2);
        assert_eq!(d.candidates.len(), 2);
        let parking = d
            .candidates
            .iter()
            .find(|c| c.key_terms.contains(&"parking".into()))
            .unwrap();
        assert_eq!(parking.size, 20);
        assert!(parking
            .representatives
            .iter()
            .all(|r| r.starts_with("parking")));
        // The id never collides with an existing one.
        assert_ne!(parking.id, "candidate_parking_garage");
        assert!(parking.id.starts_with("candidate_"));
        let points = d
            .candidates
            .iter()
            .find(|c| c.key_terms.contains(&"points".into()))
            .unwrap();
        assert!(!points.key_terms.contains(&"parking".into()));
        // Deterministic.
        let again = discover(&t, &v, &existing, &DiscoverSettings::default()).unwrap();
        assert_eq!(again.candidates, d.candidates);
        // The proposal is a valid taxonomy fragment.
        let toml_text = to_taxonomy_toml(&d, "en");
        let parsed: toml::Value = toml::from_str(&toml_text).unwrap();
        assert_eq!(parsed["topic"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn too_few_texts_is_a_clear_error() {
        let e = discover(
            &["a".into()],
            &[vec![1.0]],
            &HashSet::new(),
            &DiscoverSettings::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("too few"), "{e}");
    }
}
