//! Compact counts of response patterns, the input of every driver statistic
//! that needs more than one count per topic (bootstrap, regression,
//! shift-share, segment drivers).
//!
//! A *pattern* is a (bucket, set of topic indices) pair: everything those
//! statistics read from one response. Two responses with the same bucket and
//! the same topics are interchangeable, so [`PatternCounts`] keeps one count
//! per distinct pattern and its memory grows with the number of distinct
//! patterns, never with the number of rows. A survey comment mentions a
//! handful of topics, so with k topics the number of patterns stays in the
//! thousands even for millions of responses (three buckets times the topic
//! sets that actually occur; the empty set holds every response without a
//! comment or without a topic).
//!
//! Counts merge by addition ([`PatternCounts::merge`]), so a streaming
//! pipeline can count per chunk or per worker and combine, and a segment's
//! counts plus the rest's are the whole. [`SegmentPatterns`] holds one
//! [`PatternCounts`] per value of one segment column, with the same guard
//! against free-text columns as [`crate::stats::aggregate::AggAccumulator`].
//!
//! Everything that reads the counts sees the patterns in one canonical order
//! (bucket, then the sorted topic list; see [`PatternCounts::patterns`]), so
//! a seeded bootstrap gives the same figures whatever the order in which
//! responses arrived or chunks were merged.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use crate::stats::nps::{Bucket, Nps};

/// The position of a bucket in a pattern key and in the canonical order:
/// detractor, passive, promoter.
fn bucket_index(b: Bucket) -> u32 {
    match b {
        Bucket::Detractor => 0,
        Bucket::Passive => 1,
        Bucket::Promoter => 2,
    }
}

fn bucket_of(i: u32) -> Bucket {
    match i {
        0 => Bucket::Detractor,
        1 => Bucket::Passive,
        _ => Bucket::Promoter,
    }
}

/// One distinct pattern and how many responses showed it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Pattern {
    /// NPS bucket of these responses.
    pub bucket: Bucket,
    /// Topic indices they mention: sorted, each once; empty for responses
    /// without a comment or without a topic.
    pub topics: Vec<usize>,
    /// Number of responses with this bucket and exactly these topics.
    pub count: u64,
}

/// Counts of distinct (bucket, topic set) patterns; see the module docs.
///
/// Topic indices run from 0 to `n_topics − 1`; [`add`](PatternCounts::add)
/// ignores an index past the end and counts a repeated index once, as
/// [`crate::stats::drivers::DriverAccumulator`] does, so the two agree on every
/// count.
#[derive(Clone, Debug, Default)]
pub struct PatternCounts {
    n_topics: usize,
    /// Key: the bucket index followed by the sorted, distinct topic indices.
    /// A boxed slice so a lookup can borrow the scratch buffer as `&[u32]`
    /// and an existing pattern costs no allocation.
    map: HashMap<Box<[u32]>, u64>,
    total: u64,
    /// Reused by `add` to build the key of one response.
    scratch: Vec<u32>,
}

impl PatternCounts {
    /// Empty counts for topics `0..n_topics`.
    pub fn new(n_topics: usize) -> PatternCounts {
        PatternCounts {
            n_topics,
            ..PatternCounts::default()
        }
    }

    /// Number of topics the indices refer to.
    pub fn n_topics(&self) -> usize {
        self.n_topics
    }

    /// Counts one response with a score: its bucket and the topics it
    /// mentions (empty for no comment or no topic; it still counts).
    pub fn add(&mut self, bucket: Bucket, topics: &[usize]) {
        self.add_count(bucket, topics, 1);
    }

    /// Counts `count` identical responses at once (a pattern read back from
    /// a table, or a test). `count == 0` changes nothing.
    pub fn add_count(&mut self, bucket: Bucket, topics: &[usize], count: u64) {
        if count == 0 {
            return;
        }
        let mut key = std::mem::take(&mut self.scratch);
        key.clear();
        key.push(bucket_index(bucket));
        key.extend(
            topics
                .iter()
                .filter(|&&t| t < self.n_topics)
                .filter_map(|&t| u32::try_from(t).ok()),
        );
        key[1..].sort_unstable();
        let mut len = 1;
        for i in 1..key.len() {
            if len == 1 || key[i] != key[len - 1] {
                key[len] = key[i];
                len += 1;
            }
        }
        key.truncate(len);
        if let Some(c) = self.map.get_mut(key.as_slice()) {
            *c += count;
        } else {
            self.map.insert(key.as_slice().into(), count);
        }
        self.total += count;
        self.scratch = key;
    }

    /// Adds another set of counts to these (per-chunk or per-worker counts
    /// combined). The result covers `max(self, other)` topics; indices were
    /// already checked against each side's own topic count when added.
    pub fn merge(&mut self, other: &PatternCounts) {
        self.n_topics = self.n_topics.max(other.n_topics);
        for (key, &c) in &other.map {
            if let Some(mine) = self.map.get_mut(key) {
                *mine += c;
            } else {
                self.map.insert(key.clone(), c);
            }
        }
        self.total += other.total;
    }

    /// Number of responses counted.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// Number of distinct patterns (what the memory grows with).
    pub fn distinct(&self) -> usize {
        self.map.len()
    }

    /// Bucket counts of all responses.
    pub fn nps(&self) -> Nps {
        let mut all = Nps::default();
        for (key, &c) in &self.map {
            add_n(&mut all, bucket_of(key[0]), c);
        }
        all
    }

    /// Bucket counts of the responses that mention each topic, indexed by
    /// topic (`n_topics` entries).
    pub fn topic_nps(&self) -> Vec<Nps> {
        let mut with = vec![Nps::default(); self.n_topics];
        for (key, &c) in &self.map {
            let b = bucket_of(key[0]);
            for &t in &key[1..] {
                add_n(&mut with[t as usize], b, c);
            }
        }
        with
    }

    /// Every pattern with its count, in the canonical order: detractors,
    /// passives, promoters, and within a bucket the topic lists compared
    /// lexicographically (so the empty set comes first).
    pub fn patterns(&self) -> Vec<Pattern> {
        let table = self.table();
        (0..table.len())
            .map(|j| Pattern {
                bucket: table.buckets[j],
                topics: table.topics_of(j).iter().map(|&t| t as usize).collect(),
                count: table.counts[j],
            })
            .collect()
    }

    /// A new set of counts whose topics are `map[t]` for each old topic `t`
    /// (`None` or an index past `map` drops it), over `n_topics` new topics.
    ///
    /// Used to read topic × polarity counts as plain topics: map "agent,
    /// negative" and "agent, positive" both to "agent", and a response that
    /// mentions either counts once as mentioning the agent.
    pub fn project(&self, map: &[Option<usize>], n_topics: usize) -> PatternCounts {
        let mut out = PatternCounts::new(n_topics);
        let mut topics = Vec::new();
        for (key, &c) in &self.map {
            topics.clear();
            topics.extend(
                key[1..]
                    .iter()
                    .filter_map(|&t| map.get(t as usize).copied().flatten()),
            );
            out.add_count(bucket_of(key[0]), &topics, c);
        }
        out
    }

    /// The patterns frozen in canonical order, in flat arrays, for the
    /// statistics modules.
    pub(crate) fn table(&self) -> PatternTable {
        let mut keys: Vec<(&[u32], u64)> = self.map.iter().map(|(k, &c)| (&k[..], c)).collect();
        keys.sort_unstable_by(|a, b| a.0.cmp(b.0));
        let mut table = PatternTable {
            n_topics: self.n_topics,
            buckets: Vec::with_capacity(keys.len()),
            counts: Vec::with_capacity(keys.len()),
            start: Vec::with_capacity(keys.len() + 1),
            topics: Vec::new(),
        };
        table.start.push(0);
        for (key, c) in keys {
            table.buckets.push(bucket_of(key[0]));
            table.counts.push(c);
            table.topics.extend_from_slice(&key[1..]);
            table.start.push(table.topics.len());
        }
        table
    }
}

/// Adds `c` responses of bucket `b` to `nps`.
pub(crate) fn add_n(nps: &mut Nps, b: Bucket, c: u64) {
    nps.n += c;
    match b {
        Bucket::Detractor => nps.detractors += c,
        Bucket::Passive => nps.passives += c,
        Bucket::Promoter => nps.promoters += c,
    }
}

/// [`PatternCounts`] frozen in canonical order: pattern `j` has bucket
/// `buckets[j]`, count `counts[j]` and topics `topics[start[j]..start[j+1]]`.
/// A resampled replicate is just another `counts` vector over the same
/// patterns.
#[derive(Clone, Debug)]
pub(crate) struct PatternTable {
    pub n_topics: usize,
    pub buckets: Vec<Bucket>,
    pub counts: Vec<u64>,
    pub start: Vec<usize>,
    pub topics: Vec<u32>,
}

impl PatternTable {
    /// Number of patterns.
    pub fn len(&self) -> usize {
        self.counts.len()
    }

    /// Topics of pattern `j`.
    pub fn topics_of(&self, j: usize) -> &[u32] {
        &self.topics[self.start[j]..self.start[j + 1]]
    }

    /// All responses and each topic's mentioners under the pattern counts
    /// `counts` (the table's own or a replicate's), written into `with`
    /// (resized to `n_topics`).
    pub fn tally(&self, counts: &[u64], with: &mut Vec<Nps>) -> Nps {
        with.clear();
        with.resize(self.n_topics, Nps::default());
        let mut all = Nps::default();
        for (j, &c) in counts.iter().enumerate() {
            if c == 0 {
                continue;
            }
            let b = self.buckets[j];
            add_n(&mut all, b, c);
            for &t in self.topics_of(j) {
                add_n(&mut with[t as usize], b, c);
            }
        }
        all
    }
}

/// One [`PatternCounts`] per value of one segment column (an agent, a team,
/// a channel), for the segment analyses of [`crate::stats::segment_drivers`].
///
/// Memory grows with the number of values times their distinct patterns. A
/// column that turns out to be free text (one value per response) would
/// grow with the rows, so, as in [`crate::stats::aggregate::AggAccumulator`], a
/// column that shows more than `max_values` distinct values is dropped and
/// its counts freed; [`is_dropped`](SegmentPatterns::is_dropped) tells the
/// caller so it can report it. The empty value (a blank cell) is a value of
/// its own.
#[derive(Clone, Debug)]
pub struct SegmentPatterns {
    column: String,
    n_topics: usize,
    max_values: Option<usize>,
    /// `None` once the column was dropped.
    values: Option<BTreeMap<String, PatternCounts>>,
}

impl SegmentPatterns {
    /// Empty counts for segment column `column` over topics `0..n_topics`;
    /// `max_values`: drop the column past this many distinct values (`None`:
    /// never).
    pub fn new(column: impl Into<String>, n_topics: usize, max_values: Option<usize>) -> Self {
        SegmentPatterns {
            column: column.into(),
            n_topics,
            max_values,
            values: Some(BTreeMap::new()),
        }
    }

    /// Name of the segment column.
    pub fn column(&self) -> &str {
        &self.column
    }

    /// Number of topics the indices refer to.
    pub fn n_topics(&self) -> usize {
        self.n_topics
    }

    /// Counts one response whose value in this column is `value`.
    pub fn add(&mut self, value: &str, bucket: Bucket, topics: &[usize]) {
        let Some(values) = self.values.as_mut() else {
            return;
        };
        if let Some(c) = values.get_mut(value) {
            c.add(bucket, topics);
            return;
        }
        if self.max_values.is_some_and(|max| values.len() >= max) {
            self.values = None;
            return;
        }
        let mut c = PatternCounts::new(self.n_topics);
        c.add(bucket, topics);
        values.insert(value.to_string(), c);
    }

    /// Adds another holder's counts value by value (per-chunk holders of the
    /// same column). Dropped on either side, or past `max_values` after the
    /// merge, means dropped.
    pub fn merge(&mut self, other: &SegmentPatterns) {
        self.n_topics = self.n_topics.max(other.n_topics);
        let (Some(mine), Some(theirs)) = (self.values.as_mut(), other.values.as_ref()) else {
            self.values = None;
            return;
        };
        for (value, c) in theirs {
            mine.entry(value.clone())
                .or_insert_with(|| PatternCounts::new(c.n_topics()))
                .merge(c);
        }
        if self.max_values.is_some_and(|max| mine.len() > max) {
            self.values = None;
        }
    }

    /// True when the column showed more than `max_values` values and its
    /// counts were freed.
    pub fn is_dropped(&self) -> bool {
        self.values.is_none()
    }

    /// The counts of each value, values in byte order; `None` when dropped.
    pub fn values(&self) -> Option<&BTreeMap<String, PatternCounts>> {
        self.values.as_ref()
    }

    /// All values together (every response added while the column was kept).
    pub fn overall(&self) -> PatternCounts {
        let mut all = PatternCounts::new(self.n_topics);
        for c in self.values.iter().flat_map(|v| v.values()) {
            all.merge(c);
        }
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: Bucket = Bucket::Detractor;
    const PA: Bucket = Bucket::Passive;
    const P: Bucket = Bucket::Promoter;

    fn nps(p: u64, pa: u64, d: u64) -> Nps {
        Nps {
            n: p + pa + d,
            promoters: p,
            passives: pa,
            detractors: d,
        }
    }

    #[test]
    fn distinct_patterns_repeats_and_out_of_range() {
        let mut c = PatternCounts::new(3);
        c.add(D, &[2, 0]);
        c.add(D, &[0, 2, 2]); // same set, repeated index
        c.add(D, &[0, 2, 7]); // 7 is past the end: same set again
        c.add(P, &[]);
        c.add(P, &[]);
        c.add(PA, &[1]);
        assert_eq!(c.total(), 6);
        assert_eq!(c.distinct(), 3);
        assert_eq!(
            c.patterns(),
            vec![
                Pattern {
                    bucket: D,
                    topics: vec![0, 2],
                    count: 3
                },
                Pattern {
                    bucket: PA,
                    topics: vec![1],
                    count: 1
                },
                Pattern {
                    bucket: P,
                    topics: vec![],
                    count: 2
                },
            ]
        );
        assert_eq!(c.nps(), nps(2, 1, 3));
        assert_eq!(
            c.topic_nps(),
            vec![nps(0, 0, 3), nps(0, 1, 0), nps(0, 0, 3)]
        );
    }

    #[test]
    fn merge_equals_counting_together_in_any_order() {
        let rows: Vec<(Bucket, Vec<usize>)> = (0..300)
            .map(|i| {
                let b = [D, PA, P][i % 3];
                let t: Vec<usize> = (0..4).filter(|t| (i / (t + 1)) % 3 == 0).collect();
                (b, t)
            })
            .collect();
        let mut whole = PatternCounts::new(4);
        for (b, t) in &rows {
            whole.add(*b, t);
        }
        let mut merged = PatternCounts::new(4);
        for chunk in rows.chunks(37).rev() {
            let mut part = PatternCounts::new(4);
            for (b, t) in chunk.iter().rev() {
                part.add(*b, t);
            }
            merged.merge(&part);
        }
        assert_eq!(merged.total(), 300);
        assert_eq!(merged.patterns(), whole.patterns());
    }

    #[test]
    fn agrees_with_the_driver_accumulator() {
        use crate::stats::drivers::DriverAccumulator;
        let topics: Vec<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
        let mut acc = DriverAccumulator::new(topics);
        let mut c = PatternCounts::new(3);
        for i in 0..200usize {
            let b = [D, PA, P, P][i % 4];
            let t = vec![i % 3, (i * 7) % 5, i % 2];
            acc.add(b, &t);
            c.add(b, &t);
        }
        let drivers = acc.finish(0);
        for (d, with) in drivers.iter().zip(c.topic_nps()) {
            assert_eq!(d.mentions, with.n);
        }
        assert_eq!(c.nps().n, 200);
    }

    #[test]
    fn projection_unions_topics() {
        // Topics 0 = agent-, 1 = agent+, 2 = price-; project to agent (0), price (1).
        let mut c = PatternCounts::new(3);
        c.add(D, &[0, 1]);
        c.add(D, &[0]);
        c.add(P, &[1, 2]);
        c.add(P, &[]);
        let p = c.project(&[Some(0), Some(0), Some(1)], 2);
        assert_eq!(p.total(), 4);
        assert_eq!(
            p.patterns(),
            vec![
                Pattern {
                    bucket: D,
                    topics: vec![0],
                    count: 2
                },
                Pattern {
                    bucket: P,
                    topics: vec![],
                    count: 1
                },
                Pattern {
                    bucket: P,
                    topics: vec![0, 1],
                    count: 1
                },
            ]
        );
    }

    #[test]
    fn segments_count_merge_and_drop_free_text() {
        let mut a = SegmentPatterns::new("agent", 2, Some(3));
        a.add("ann", D, &[0]);
        a.add("bob", P, &[1]);
        let mut b = SegmentPatterns::new("agent", 2, Some(3));
        b.add("ann", P, &[]);
        b.add("", PA, &[0]);
        a.merge(&b);
        let values = a.values().map(|v| v.keys().cloned().collect::<Vec<_>>());
        assert_eq!(values, Some(vec!["".into(), "ann".into(), "bob".into()]));
        assert_eq!(a.overall().nps(), nps(2, 1, 1));
        assert_eq!(a.column(), "agent");
        // A fourth value drops the column.
        a.add("cid", D, &[]);
        assert!(a.is_dropped());
        assert_eq!(a.overall().total(), 0);
        a.add("ann", D, &[]);
        assert!(a.values().is_none());
    }
}
