//! Encoder benchmarks on the installed default model: loading apart from
//! inference, the fused pass and rust-bert's modules in float32 and bfloat16,
//! on real comments from the example export.
//! `cargo bench --bench encoder` (after scripts/setup.sh).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use verbatim::input::{read_responses, InputOptions};
use verbatim::model::manifest::default_model_dir;
use verbatim::model::transformer::{EncoderOptions, ForwardImpl, TransformerEncoder};
use verbatim::model::{Encoder, Precision};

fn comments() -> Vec<String> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/data/responses.csv");
    let ing = read_responses(&path, &InputOptions::default()).expect("example export reads");
    ing.responses
        .into_iter()
        .map(|r| r.comment)
        .filter(|c| !c.is_empty())
        .take(256)
        .collect()
}

fn bench(c: &mut Criterion) {
    let dir = default_model_dir();
    if !dir.join("model.safetensors").is_file() {
        eprintln!("{} not installed: run scripts/setup.sh", dir.display());
        return;
    }
    let mut g = c.benchmark_group("encoder");
    g.sample_size(10);
    g.bench_function("load", |b| {
        b.iter(|| TransformerEncoder::load(&dir, &EncoderOptions::default()).unwrap())
    });
    let texts = comments();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    g.throughput(Throughput::Elements(refs.len() as u64));
    for forward in [ForwardImpl::Fused, ForwardImpl::RustBert] {
        for precision in [Precision::F32, Precision::Bf16] {
            let opts = EncoderOptions {
                precision,
                forward,
                ..Default::default()
            };
            let enc = TransformerEncoder::load(&dir, &opts).unwrap();
            g.bench_function(
                format!("embed_{}_comments_{forward:?}_{precision:?}", refs.len()),
                |b| b.iter(|| enc.embed(&refs).unwrap()),
            );
        }
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
