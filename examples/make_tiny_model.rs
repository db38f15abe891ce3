//! Writes the tiny BERT folder the fast tests use (tests/common) to a path,
//! for benchmarks that must not depend on the real model's speed:
//! `cargo run --release --example make_tiny_model -- DIR`.
#[path = "../tests/common/mod.rs"]
mod common;

fn main() {
    let Some(dir) = std::env::args().nth(1) else {
        eprintln!("usage: make_tiny_model DIR");
        std::process::exit(2);
    };
    common::tiny_bert_folder(std::path::Path::new(&dir));
    println!("tiny model written to {dir}");
}
