//! The pipeline's statistics on planted data, with the deterministic
//! bag-of-words encoder of tests/common: topics whose comments come with low
//! scores must rank as drivers of low scores, and the NPS must be the one
//! computed by hand.

mod common;

use common::HashEncoder;
use verbatim::classify::{Classifier, ClassifierSettings, Prototypes, SentimentModel, Taxonomy};
use verbatim::input::{InputOptions, Reject, ResponseStream};
use verbatim::pipeline::{run_pass, AnalyzedResponse, DriverScope, PassSettings, PassSink};

const TAXONOMY: &str = r#"
name = "test"
version = "0.1.0"
[[topic]]
id = "wait_time"
label = { en = "Wait time" }
examples.en = ["waited on hold", "hold queue waited"]
[[topic]]
id = "agent_friendliness"
label = { en = "Agent friendliness" }
examples.en = ["friendly agent", "agent friendly"]
[[topic]]
id = "billing"
label = { en = "Billing" }
examples.en = ["invoice wrong", "wrong invoice"]
"#;

const PROTOTYPES: &str = r#"
name = "test"
version = "0.1.0"
[[class]]
name = "negative"
examples.en = ["bad terrible awful"]
[[class]]
name = "neutral"
examples.en = ["okay fine average"]
[[class]]
name = "positive"
examples.en = ["great excellent lovely"]
"#;

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
    let stream = ResponseStream::from_reader(
        std::io::Cursor::new(planted_csv().into_bytes()),
        "planted.csv",
        &InputOptions::default(),
    )
    .unwrap();
    let segment_columns = stream.segment_columns().to_vec();
    let encoder = HashEncoder { dim: 512 };
    let taxonomy = Taxonomy::parse(TAXONOMY, "test.toml").unwrap();
    let prototypes: Prototypes = toml::from_str(PROTOTYPES).unwrap();
    let settings = ClassifierSettings {
        sentiment_temperature: 0.05,
        topic_threshold: 0.5,
        topic_margin: 0.1,
        topic_min_gap: 0.1,
    };
    let classifier = Classifier::build(
        &encoder,
        SentimentModel::Prototypes(prototypes),
        &taxonomy,
        settings,
    )
    .unwrap();
    let topic_ids: Vec<String> = taxonomy.topics.iter().map(|t| t.id.clone()).collect();
    let mut sink = Collect::default();
    let a = run_pass(
        stream,
        &segment_columns,
        &encoder,
        &classifier,
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
