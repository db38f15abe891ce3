//! Measures personal data masking on the labelled comments: true and false
//! positives, misses, recall and precision per kind and per language, and
//! labelled characters left unmasked; then the time to mask one 10 MB
//! comment.
//! `cargo run --release --example redaction_eval -- [-v] [FILE]`
//! (`-v` lists every miss and false positive).
use std::time::Instant;

use verbatim::text::redact::Redactor;

#[path = "../tests/support/redaction_score.rs"]
mod score;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let verbose = args.iter().any(|a| a == "-v");
    let path = args
        .iter()
        .find(|a| *a != "-v")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(score::labelled_set);
    let rows = score::load(&path).map_err(anyhow::Error::msg)?;
    let t = Instant::now();
    let redactor = Redactor::new();
    let built = t.elapsed();
    let s = score::score(&redactor, &rows);
    println!("{}\n", path.display());
    print!("{}", score::render(&s));
    if verbose {
        println!();
        for e in &s.errors {
            println!(
                "line {:>3} {:<15} {:<14} {:?}  in {:?}",
                e.line,
                e.kind.as_str(),
                e.what,
                e.span,
                e.text
            );
        }
    }
    // Throughput on one large comment made of the labelled texts.
    let mut big = String::new();
    while big.len() < 10 << 20 {
        for r in &rows {
            big.push_str(&r.text);
            big.push(' ');
        }
    }
    let t = Instant::now();
    let out = redactor.redact(&big);
    let took = t.elapsed();
    println!(
        "\nRedactor::new {:.1} ms; one comment of {:.1} MB: {:.2} s ({:.1} MB/s), {} spans",
        built.as_secs_f64() * 1e3,
        big.len() as f64 / 1e6,
        took.as_secs_f64(),
        big.len() as f64 / 1e6 / took.as_secs_f64(),
        out.spans.len()
    );
    Ok(())
}
