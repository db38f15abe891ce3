//! Which comments a person should label next, so that a topic calibration
//! learns most from few labels (`verbatim train suggest`).
//!
//! A calibration learns each topic's decision boundary, so the comments near
//! that boundary teach it most: uncertainty sampling, the classic rule of
//! active learning. Per topic, the export's comments are ranked by the
//! current rule's score for the topic (the calibrated probability, or the
//! cosine under the similarity rule) and the band of ranks around the last
//! comment the rule assigns is the topic's pool; topics take turns drawing
//! from their pools, so a rare topic gets its share of labels where a random
//! draw would give it none. A share of the picks is drawn at random from the
//! whole export, so that the labelled rows also show what a typical comment
//! looks like (comments without any topic included) and the thresholds are
//! not fitted on boundary cases alone.

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// One comment as the current topic rule sees it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Scored {
    /// Per topic, the rule's score (higher: more of the topic); `None` where
    /// the topic's keyword rules bar it, so a label could not change it.
    pub scores: Vec<Option<f32>>,
    /// Per topic, whether the rule assigns it now.
    pub assigned: Vec<bool>,
}

/// Why a comment was picked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    /// Near the decision boundary of this topic (an index into the taxonomy).
    Boundary(usize),
    /// Drawn at random from the whole export.
    Random,
}

/// One picked comment: its index into the scored comments and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pick {
    pub index: usize,
    pub reason: Reason,
}

/// Picks up to `n` distinct comments of `comments` (all of them if there
/// are fewer): `n − round(n · random_share)` near the topics' boundaries,
/// taking turns over the topics, and the rest at random. A topic's band is
/// the `2 · quota` ranks either side of its last assigned comment (the top
/// ranks when it assigns none), `quota` being its even share of the
/// boundary picks. Seeded; the picks come back in a shuffled order, so a
/// labeller does not read them grouped by topic.
pub fn choose(comments: &[Scored], n: usize, random_share: f64, seed: u64) -> Vec<Pick> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let n = n.min(comments.len());
    let topics = comments.first().map_or(0, |c| c.scores.len());
    let n_random = ((n as f64) * random_share.clamp(0.0, 1.0)).round() as usize;
    let n_boundary = n - n_random;
    let mut taken = vec![false; comments.len()];
    let mut picks = Vec::with_capacity(n);
    if topics > 0 && n_boundary > 0 {
        let quota = n_boundary.div_ceil(topics);
        let mut bands: Vec<Vec<usize>> = (0..topics)
            .map(|t| {
                let mut band = band(comments, t, 2 * quota);
                band.shuffle(&mut rng);
                band
            })
            .collect();
        // Topics take turns; a topic whose band is spent drops out.
        while picks.len() < n_boundary && bands.iter().any(|b| !b.is_empty()) {
            for (t, band) in bands.iter_mut().enumerate() {
                if picks.len() == n_boundary {
                    break;
                }
                while let Some(i) = band.pop() {
                    if !taken[i] {
                        taken[i] = true;
                        picks.push(Pick {
                            index: i,
                            reason: Reason::Boundary(t),
                        });
                        break;
                    }
                }
            }
        }
    }
    // The rest at random; also whatever the bands could not fill.
    let mut rest: Vec<usize> = (0..comments.len()).filter(|&i| !taken[i]).collect();
    rest.shuffle(&mut rng);
    let missing = n - picks.len();
    picks.extend(rest.into_iter().take(missing).map(|index| Pick {
        index,
        reason: Reason::Random,
    }));
    picks.shuffle(&mut rng);
    picks
}

/// The comments ranked within `width` places of topic `t`'s boundary: the
/// comments are ranked by their score for `t` (best first; ties by index)
/// and the boundary is the number the rule assigns.
fn band(comments: &[Scored], t: usize, width: usize) -> Vec<usize> {
    let mut ranked: Vec<(usize, f32)> = comments
        .iter()
        .enumerate()
        .filter_map(|(i, c)| c.scores[t].filter(|s| s.is_finite()).map(|s| (i, s)))
        .collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let assigned = comments.iter().filter(|c| c.assigned[t]).count();
    let lo = assigned.saturating_sub(width);
    let hi = (assigned + width).min(ranked.len());
    ranked[lo.min(hi)..hi].iter().map(|&(i, _)| i).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 100 comments, two topics: topic 0 scored i/100 and assigned from 0.9
    /// up (10 comments), topic 1 barred except on the first 20, none assigned.
    fn export() -> Vec<Scored> {
        (0..100)
            .map(|i| {
                let s0 = i as f32 / 100.0;
                Scored {
                    scores: vec![Some(s0), (i < 20).then_some(i as f32)],
                    assigned: vec![s0 >= 0.9, false],
                }
            })
            .collect()
    }

    #[test]
    fn picks_straddle_each_topics_boundary_and_a_share_is_random() {
        let c = export();
        let picks = choose(&c, 20, 0.25, 7);
        assert_eq!(picks.len(), 20);
        let mut seen: Vec<usize> = picks.iter().map(|p| p.index).collect();
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len(), 20, "no comment twice");
        let random = picks.iter().filter(|p| p.reason == Reason::Random).count();
        assert_eq!(random, 5);
        // Quota 8 per topic, band ±16 ranks around the boundary.
        for p in &picks {
            match p.reason {
                // Topic 0 assigns 90..100, ranked 0..10 from the top; its
                // band is ranks 0..26, the scores 0.74..0.99.
                Reason::Boundary(0) => assert!(p.index >= 74, "{p:?}"),
                // Topic 1 assigns none: its band is its top 16 ranks, all
                // among the 20 it is not barred from.
                Reason::Boundary(1) => assert!((4..20).contains(&p.index), "{p:?}"),
                Reason::Boundary(t) => panic!("no topic {t}"),
                Reason::Random => {}
            }
        }
        let per_topic = |t| {
            picks
                .iter()
                .filter(|p| p.reason == Reason::Boundary(t))
                .count()
        };
        assert_eq!((per_topic(0), per_topic(1)), (8, 7));
    }

    #[test]
    fn the_same_seed_picks_the_same_comments_and_small_exports_give_all() {
        let c = export();
        assert_eq!(choose(&c, 30, 0.25, 1), choose(&c, 30, 0.25, 1));
        assert_ne!(choose(&c, 30, 0.25, 1), choose(&c, 30, 0.25, 2));
        let all = choose(&c[..12], 50, 0.25, 1);
        let mut idx: Vec<usize> = all.iter().map(|p| p.index).collect();
        idx.sort_unstable();
        assert_eq!(idx, (0..12).collect::<Vec<_>>());
        assert!(choose(&[], 10, 0.25, 1).is_empty());
    }

    #[test]
    fn spent_bands_leave_their_places_to_random_picks() {
        // Every topic barred: nothing is near a boundary, all picks random.
        let c: Vec<Scored> = (0..10)
            .map(|_| Scored {
                scores: vec![None, None],
                assigned: vec![false, false],
            })
            .collect();
        let picks = choose(&c, 6, 0.25, 3);
        assert_eq!(picks.len(), 6);
        assert!(picks.iter().all(|p| p.reason == Reason::Random));
    }
}
