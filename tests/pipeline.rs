//! The pipeline's statistics on planted data, with the deterministic
//! bag-of-words encoder of tests/common: topics whose comments come with low
//! scores must rank as drivers of low scores, and the NPS must be the one
//! computed by hand.

mod common;

use common::{hash_classifier, HashEncoder, PLANTED_TAXONOMY};
use verbatim::classify::Classifier;
use verbatim::input::{InputOptions, Reject, ResponseStream};
use verbatim::pipeline::{run_pass, PassModels, PassSettings, PassSink};
use verbatim::stats::response::{AnalyzedResponse, DriverScope};

fn planted_csv() -> String {
    let mut s = String::from("id,score,comment\n");
    let mut id = 0;
    let mut row = |s: &mut String, score: u8, comment: &str| {
        id += 1;
        s.push_str(&format!("r{id},{score},{comment}\n"));
    };
    for i in 0..60 {
        row(&mut s, (i % 5) as u8, "terrible waited on hold");
    }
    for i in 0..60 {
        row(&mut s, 9 + (i % 2) as u8, "great friendly agent");
    }
    for i in 0..80 {
        row(&mut s, 7 + (i % 2) as u8, "okay fine");
    }
    for _ in 0..10 {
        row(&mut s, 5, "invoice wrong");
    }
    s
}

/// Keeps what the pass hands to its sink.
#[derive(Default)]
struct Collect {
    responses: Vec<AnalyzedResponse>,
    rejects: Vec<Reject>,
    chunks: usize,
}

impl PassSink for Collect {
    fn responses(&mut self, chunk: &[AnalyzedResponse]) -> anyhow::Result<()> {
        self.chunks += 1;
        self.responses.extend_from_slice(chunk);
        Ok(())
    }
    fn reject(&mut self, reject: &Reject) -> anyhow::Result<()> {
        self.rejects.push(reject.clone());
        Ok(())
    }
}

#[test]
fn planted_drivers_are_recovered() {
    let (stream, segment_columns, classifier, topic_ids) = planted();
    let encoder = HashEncoder { dim: 512 };
    let mut sink = Collect::default();
    let a = run_pass(
        stream,
        &segment_columns,
        PassModels {
            encoder: &encoder,
            classifier: &classifier,
            precomputed: None,
        },
        &topic_ids,
        &PassSettings {
            min_n: 30,
            chunk: 50,
            ..Default::default()
        },
        &mut sink,
        &mut |_| {},
    )
    .unwrap();
    assert_eq!((a.read, a.analysed, a.rejected), (210, 210, 0));
    // 210 responses in chunks of 50: the sink saw 5 chunks, in input order.
    assert_eq!(sink.chunks, 5);
    assert_eq!(sink.responses[0].response.id, "r1");
    assert_eq!(sink.responses[209].response.id, "r210");

    // 60 promoters, 80 passives, 70 detractors of 210: NPS = 100 (60 − 70) / 210.
    assert_eq!(
        (a.nps.promoters, a.nps.passives, a.nps.detractors),
        (60, 80, 70)
    );
    assert!((a.nps.score().unwrap() - 100.0 * -10.0 / 210.0).abs() < 1e-9);

    let any = a
        .drivers
        .iter()
        .find(|t| t.scope == DriverScope::Any)
        .unwrap();
    let low: Vec<&str> = any.ranking.low.iter().map(|d| d.topic.as_str()).collect();
    let high: Vec<&str> = any.ranking.high.iter().map(|d| d.topic.as_str()).collect();
    assert_eq!(low, ["wait_time"]);
    assert_eq!(high, ["agent_friendliness"]);
    // Billing has 10 mentions < min_n 30: computed, suppressed, not ranked.
    let billing = any.drivers.iter().find(|d| d.topic == "billing").unwrap();
    assert_eq!(billing.mentions, 10);
    assert!(billing.suppressed);

    // Impact = NPS(all) − NPS(without): all wait-time mentions are detractors.
    let wait = any.drivers.iter().find(|d| d.topic == "wait_time").unwrap();
    let without = 100.0 * (60.0 - 10.0) / 150.0;
    assert!((wait.impact.unwrap() - (a.nps.score().unwrap() - without)).abs() < 1e-9);

    // Sentiment of the clauses follows the prototypes.
    let first = sink.responses[0].analysis.as_ref().unwrap();
    assert_eq!(first.clauses.len(), 1);
    assert_eq!(
        first.sentiment.label,
        verbatim::classify::Polarity::Negative
    );
    let neg = a
        .drivers
        .iter()
        .find(|t| t.scope == DriverScope::Negative)
        .unwrap();
    assert_eq!(
        neg.drivers
            .iter()
            .find(|d| d.topic == "wait_time")
            .unwrap()
            .mentions,
        60
    );
}

/// The planted export's stream, the classifier and the topic ids.
fn planted() -> (ResponseStream, Vec<String>, Classifier, Vec<String>) {
    let stream = ResponseStream::from_reader(
        std::io::Cursor::new(planted_csv().into_bytes()),
        "planted.csv",
        &InputOptions::default(),
    )
    .unwrap();
    let segment_columns = stream.segment_columns().to_vec();
    let (classifier, taxonomy) = hash_classifier(PLANTED_TAXONOMY, 512);
    let topic_ids = taxonomy.topics.iter().map(|t| t.id.clone()).collect();
    (stream, segment_columns, classifier, topic_ids)
}

/// What a pass gave each response: id, sentiment, topics with polarity.
fn per_response(sink: &Collect) -> Vec<(String, String, Vec<String>)> {
    sink.responses
        .iter()
        .map(|r| {
            let a = r
                .analysis
                .as_ref()
                .expect("every planted row has a comment");
            (
                r.response.id.clone(),
                format!("{:?} {:.6}", a.sentiment.label, a.sentiment.score),
                a.topics
                    .iter()
                    .map(|h| format!("{}:{:?}:{}", h.topic, h.polarity, h.clause))
                    .collect(),
            )
        })
        .collect()
}

#[test]
fn chunk_size_changes_nothing_but_the_chunks() {
    let mut seen = Vec::new();
    for chunk in [1, 7, 4096] {
        let (stream, segment_columns, classifier, topic_ids) = planted();
        let mut sink = Collect::default();
        let mut progress = Vec::new();
        let a = run_pass(
            stream,
            &segment_columns,
            PassModels {
                encoder: &HashEncoder { dim: 512 },
                classifier: &classifier,
                precomputed: None,
            },
            &topic_ids,
            &PassSettings {
                min_n: 30,
                chunk,
                ..Default::default()
            },
            &mut sink,
            &mut |done| progress.push(done),
        )
        .unwrap();
        assert_eq!(sink.chunks, 210usize.div_ceil(chunk), "chunk {chunk}");
        // Progress after every chunk, rising to every response.
        assert_eq!(progress.len(), sink.chunks);
        assert!(progress.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(progress.last(), Some(&210));
        let any = a
            .drivers
            .iter()
            .find(|t| t.scope == DriverScope::Any)
            .unwrap();
        let impacts: Vec<String> = any
            .drivers
            .iter()
            .map(|d| format!("{} {} {:?}", d.topic, d.mentions, d.impact))
            .collect();
        seen.push((per_response(&sink), impacts, a.nps.score(), a.read));
    }
    assert_eq!(seen[0], seen[1]);
    assert_eq!(seen[0], seen[2]);
}

/// A sink that fails on its `fail_at`-th chunk.
struct FailingSink {
    inner: Collect,
    fail_at: usize,
}

impl PassSink for FailingSink {
    fn responses(&mut self, chunk: &[AnalyzedResponse]) -> anyhow::Result<()> {
        if self.inner.chunks + 1 == self.fail_at {
            anyhow::bail!("disk full while writing chunk {}", self.fail_at);
        }
        self.inner.responses(chunk)
    }
    fn reject(&mut self, reject: &Reject) -> anyhow::Result<()> {
        self.inner.reject(reject)
    }
}

/// An encoder that fails on its `fail_at`-th call.
struct FailingEncoder {
    inner: HashEncoder,
    calls: std::sync::atomic::AtomicUsize,
    fail_at: usize,
}

impl verbatim::model::Encoder for FailingEncoder {
    fn name(&self) -> String {
        "failing".into()
    }
    fn dim(&self) -> usize {
        self.inner.dim
    }
    fn embed(&self, texts: &[&str]) -> anyhow::Result<Vec<Vec<f32>>> {
        let n = self.calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
        anyhow::ensure!(n != self.fail_at, "the encoder failed on call {n}");
        self.inner.embed(texts)
    }
}

#[test]
fn a_failing_stage_stops_the_pass_with_its_own_error() {
    let settings = PassSettings {
        min_n: 30,
        chunk: 10,
        ..Default::default()
    };
    // The writing stage fails on its third chunk: the pass returns that
    // error (and does not wait for the other stages forever).
    let (stream, segment_columns, classifier, topic_ids) = planted();
    let mut sink = FailingSink {
        inner: Collect::default(),
        fail_at: 3,
    };
    let e = run_pass(
        stream,
        &segment_columns,
        PassModels {
            encoder: &HashEncoder { dim: 512 },
            classifier: &classifier,
            precomputed: None,
        },
        &topic_ids,
        &settings,
        &mut sink,
        &mut |_| {},
    )
    .unwrap_err();
    assert!(
        e.to_string().contains("disk full while writing chunk 3"),
        "{e:#}"
    );
    assert_eq!(sink.inner.chunks, 2);

    // The embedding stage fails on its fourth chunk: the chunks before it
    // were handed on, none after.
    let (stream, segment_columns, classifier, topic_ids) = planted();
    let encoder = FailingEncoder {
        inner: HashEncoder { dim: 512 },
        calls: Default::default(),
        fail_at: 4,
    };
    let mut sink = Collect::default();
    let e = run_pass(
        stream,
        &segment_columns,
        PassModels {
            encoder: &encoder,
            classifier: &classifier,
            precomputed: None,
        },
        &topic_ids,
        &settings,
        &mut sink,
        &mut |_| {},
    )
    .unwrap_err();
    assert!(
        e.to_string().contains("the encoder failed on call 4"),
        "{e:#}"
    );
    assert_eq!(sink.chunks, 3);
    assert_eq!(encoder.calls.load(std::sync::atomic::Ordering::SeqCst), 4);
}
