//! Named set that runs the real default model (multilingual-e5-small, as
//! installed by `verbatim models install`) against the reference vectors in
//! tests/data/reference (computed by PyTorch/transformers on the same
//! dequantized weights). Run with `cargo test --release --test real_model`.
//!
//! Without the installed model these tests fail with the command to run: a
//! skipped parity check would hide a broken install.

use std::path::PathBuf;

use serde::Deserialize;
use verbatim::model::manifest::default_model_dir;
use verbatim::model::transformer::{EncoderOptions, TransformerEncoder};
use verbatim::model::{dot, Encoder, Precision};

#[derive(Deserialize)]
struct Reference {
    text: String,
    input_ids: Vec<u32>,
    embedding_f32: Vec<f32>,
}

fn reference() -> Vec<Reference> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/reference/e5-small-reference.jsonl");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("reference line is JSON"))
        .collect()
}

fn load(precision: Precision) -> TransformerEncoder {
    let dir = default_model_dir();
    assert!(
        dir.join("model.safetensors").is_file(),
        "{} is not installed: run `target/release/verbatim models install --python .venv/bin/python`",
        dir.display()
    );
    let opts = EncoderOptions {
        precision,
        ..Default::default()
    };
    TransformerEncoder::load(&dir, &opts).expect("the installed model loads")
}

#[test]
fn tokenizer_reproduces_every_reference_input_ids() {
    let enc = load(Precision::F32);
    let refs = reference();
    assert_eq!(refs.len(), 20);
    for r in &refs {
        assert_eq!(
            enc.token_ids(&r.text).unwrap(),
            r.input_ids,
            "text {:?}",
            r.text
        );
    }
}

fn parity(precision: Precision, floor: f32) -> f32 {
    let enc = load(precision);
    let refs = reference();
    let texts: Vec<&str> = refs.iter().map(|r| r.text.as_str()).collect();
    let got = enc.embed(&texts).unwrap();
    let mut worst = f32::INFINITY;
    for (r, v) in refs.iter().zip(&got) {
        let norm = r.embedding_f32.iter().map(|x| x * x).sum::<f32>().sqrt();
        let cos = dot(v, &r.embedding_f32) / norm;
        assert!(
            cos >= floor,
            "{precision:?} cosine {cos} < {floor} for {:?}",
            r.text
        );
        worst = worst.min(cos);
    }
    eprintln!("{precision:?}: worst cosine to the reference {worst:.6}");
    worst
}

#[test]
fn float32_encoder_matches_reference_vectors() {
    parity(Precision::F32, 0.9999);
}

#[test]
fn bfloat16_encoder_matches_reference_vectors() {
    parity(Precision::Bf16, 0.999);
}

#[test]
fn batching_does_not_change_vectors() {
    // One text alone and the same text in a padded batch give the same vector.
    let enc = load(Precision::F32);
    let refs = reference();
    let texts: Vec<&str> = refs.iter().map(|r| r.text.as_str()).collect();
    let batch = enc.embed(&texts).unwrap();
    for (i, t) in texts.iter().enumerate() {
        let alone = enc.embed(&[t]).unwrap();
        assert!(dot(&alone[0], &batch[i]) > 0.99999, "{t:?}");
    }
}

/// Sixty texts of 1 to ~300 tokens, several languages, some duplicates.
fn varied_texts() -> Vec<String> {
    let pieces = [
        "Great service",
        "The delivery was late and nobody answered the phone.",
        "Prix trop élevé pour la qualité, je ne recommande pas.",
        "Sehr freundliches Personal, aber die Wartezeit war lang.",
        "ok",
        "El producto llegó roto y el reembolso tardó tres semanas.",
        "I love the app, but it crashes every time I open the settings page!",
        "Nothing to add.",
        "価格が高すぎます。",
        "Support fixed my problem in five minutes, thank you Anna.",
    ];
    let mut out = Vec::new();
    for i in 0..60usize {
        let reps = 1 + (i * 7) % 23;
        let text: Vec<&str> = (0..reps)
            .map(|k| pieces[(i + k * 3) % pieces.len()])
            .collect();
        out.push(text.join(" "));
    }
    out[59] = out[3].clone();
    out
}

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

/// A text's vector does not depend on the texts embedded with it: all at
/// once, each alone, in two halves in reverse order, or after other texts,
/// every vector is the same to the bit. (The cache embeds only its misses,
/// so a cached run batches other companions than an uncached one.)
fn companions_do_not_change_vectors(precision: Precision) {
    let enc = load(precision);
    let owned = varied_texts();
    let texts: Vec<&str> = owned.iter().map(String::as_str).collect();
    let all = enc.embed(&texts).unwrap();
    let mut alone = Vec::new();
    for t in &texts {
        alone.push(enc.embed(&[t]).unwrap().remove(0));
    }
    let (front, back) = texts.split_at(27);
    let back_rev: Vec<&str> = back.iter().rev().copied().collect();
    let mut halves: Vec<Vec<f32>> = enc.embed(&back_rev).unwrap().into_iter().rev().collect();
    halves.splice(0..0, enc.embed(front).unwrap());
    let refs = reference();
    let mut mixed: Vec<&str> = refs.iter().map(|r| r.text.as_str()).collect();
    mixed.extend(texts.iter().step_by(2));
    let after_others = enc.embed(&mixed).unwrap().split_off(refs.len());
    let mut differ = Vec::new();
    for (i, t) in texts.iter().enumerate() {
        let want = bits(&all[i]);
        let mut bad = bits(&alone[i]) != want || bits(&halves[i]) != want;
        if i % 2 == 0 {
            bad |= bits(&after_others[i / 2]) != want;
        }
        if bad {
            let cos = dot(&alone[i], &all[i]);
            differ.push(format!(
                "#{i} ({} tokens, alone cos {cos})",
                enc.token_ids(t).unwrap().len()
            ));
        }
    }
    assert!(
        differ.is_empty(),
        "{precision:?}: {} of {} vectors change with their companions: {}",
        differ.len(),
        texts.len(),
        differ.join(", ")
    );
}

#[test]
fn float32_vectors_do_not_depend_on_companions() {
    companions_do_not_change_vectors(Precision::F32);
}

#[test]
fn bfloat16_vectors_do_not_depend_on_companions() {
    companions_do_not_change_vectors(Precision::Bf16);
}

/// The rows of a CSV table without its first column (the run id).
fn without_run_id(path: &std::path::Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .map(|l| l.split_once(',').map_or(l, |(_, rest)| rest).to_string())
        .collect()
}

/// `analyze` with the real model writes the same per-comment tables
/// without the cache and with a cache that a run over part of the export
/// filled (so the rerun embeds the rest in other batches than a plain run).
#[test]
fn a_run_with_a_partly_filled_cache_writes_the_same_rows() {
    load(Precision::Auto);
    let dir = tempfile::tempdir().expect("temp folder");
    let example = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/data/responses.csv");
    let full = std::fs::read_to_string(&example).expect("example data");
    let head: Vec<&str> = full.lines().take(121).collect();
    let part = dir.path().join("part.csv");
    std::fs::write(&part, head.join("\n") + "\n").expect("write part.csv");
    let cache = dir.path().join("cache.sqlite");
    let run = |input: &std::path::Path, out: &str, cached: bool| {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_verbatim"));
        c.arg("analyze")
            .arg(input)
            .arg("--out")
            .arg(dir.path().join(out))
            .args(["--quiet", "--min-n", "15"]);
        if cached {
            c.arg("--cache").arg(&cache);
        }
        let o = c.output().expect("run verbatim");
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    };
    run(&example, "plain", false);
    run(&part, "part", true);
    run(&example, "cached", true);
    for table in [
        "fact_response.csv",
        "fact_answer.csv",
        "bridge_response_topic.csv",
    ] {
        let plain = without_run_id(&dir.path().join("plain").join(table));
        let cached = without_run_id(&dir.path().join("cached").join(table));
        assert_eq!(plain.len(), cached.len(), "{table}");
        for (a, b) in plain.iter().zip(&cached) {
            assert_eq!(a, b, "{table}: a row differs with the cache");
        }
    }
}

#[test]
fn a_comment_with_a_positive_and_a_negative_clause_is_mixed() {
    load(Precision::Auto);
    let dir = tempfile::tempdir().expect("temp folder");
    let input = dir.path().join("mixed.csv");
    // (comment, mixed?) in English, German and Dutch.
    let cases = [
        (
            "The agent was very friendly, but I waited 40 minutes on hold",
            true,
        ),
        ("Great service, thank you", false),
        ("Terrible, nobody called me back", false),
        (
            "Der Mitarbeiter war sehr nett, aber die Rechnung ist immer noch falsch",
            true,
        ),
        ("Snelle levering maar de app werkt slecht", true),
        ("Waited an hour and then they hung up on me", false),
    ];
    let mut w = csv::Writer::from_path(&input).expect("write mixed.csv");
    w.write_record(["id", "score", "comment"]).unwrap();
    for (i, (text, _)) in cases.iter().enumerate() {
        w.write_record([&i.to_string(), "7", text]).unwrap();
    }
    w.flush().unwrap();
    let out = dir.path().join("out");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_verbatim"))
        .arg("analyze")
        .arg(&input)
        .arg("--out")
        .arg(&out)
        .args(["--quiet", "--min-n", "1"])
        .output()
        .expect("run verbatim");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let got: Vec<(String, String)> = columns(
        &out.join("fact_response.csv"),
        &["response_id", "sentiment_mixed"],
    )
    .into_iter()
    .map(|x| (x[0].clone(), x[1].clone()))
    .collect();
    let want: Vec<(String, String)> = cases
        .iter()
        .enumerate()
        .map(|(i, (_, m))| (i.to_string(), m.to_string()))
        .collect();
    assert_eq!(got, want);
}

/// The named columns of every row of an output CSV, in file order.
fn columns(path: &std::path::Path, names: &[&str]) -> Vec<Vec<String>> {
    let mut r = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let h = r.headers().unwrap().clone();
    let at: Vec<usize> = names
        .iter()
        .map(|n| h.iter().position(|x| x == *n).expect(n))
        .collect();
    r.records()
        .map(|x| {
            let x = x.unwrap();
            at.iter().map(|&i| x[i].to_string()).collect()
        })
        .collect()
}

/// `verbatim analyze INPUT --out OUT --quiet --min-n 1 EXTRA` on the
/// installed model; its manifest.
fn analyze(input: &std::path::Path, out: &std::path::Path, extra: &[&str]) -> serde_json::Value {
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_verbatim"))
        .arg("analyze")
        .arg(input)
        .arg("--out")
        .arg(out)
        .args(["--quiet", "--min-n", "1"])
        .args(extra)
        .output()
        .expect("run verbatim");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = std::fs::read_to_string(out.join("manifest.json")).expect("manifest.json");
    serde_json::from_str(&text).expect("manifest is JSON")
}

/// `--survey employee` with the installed model decides topics with the
/// shipped employee calibration, a customer run of the same export with the
/// contact-center one, and each manifest says which.
#[test]
fn an_employee_survey_uses_the_shipped_employee_calibration() {
    load(Precision::Auto);
    let dir = tempfile::tempdir().expect("temp folder");
    let input = dir.path().join("enps.csv");
    std::fs::write(
        &input,
        "id,score,comment\n\
         e1,3,the pay is far too low for what we do\n\
         e2,9,my manager always makes time for me\n\
         e3,5,Überstunden ohne Ende\n\
         e4,10,great colleagues\n\
         e5,8,ok\n",
    )
    .expect("write enps.csv");
    let run = |out: &str, extra: &[&str]| analyze(&input, &dir.path().join(out), extra);
    let emp = run("emp", &["--survey", "employee"]);
    let topics = &emp["topics"];
    assert_eq!(topics["rule"], "calibrated", "{topics}");
    assert_eq!(topics["calibration"]["kind"], "shipped");
    assert_eq!(
        topics["calibration"]["file"],
        "models/taxonomy/calibration-employee-multilingual-e5-small.json"
    );
    assert_eq!(topics["provenance"]["taxonomy"]["name"], "employee");
    assert_eq!(
        topics["provenance"]["taxonomy"]["sha256"],
        verbatim::classify::Taxonomy::default_employee().sha256
    );
    assert_eq!(topics["provenance"]["model_sha256"], emp["model"]["sha256"]);
    assert!(topics["thresholds"]["pay_benefits"].is_number(), "{topics}");
    // A customer run of the same export takes topics from the topic model
    // shipped for the contact-center taxonomy; `--topic-model none` from
    // its calibration.
    let cust = run("cust", &[]);
    assert_eq!(cust["topics"]["topic_model"]["kind"], "shipped", "{cust}");
    let cust = run("cust-cal", &["--topic-model", "none"]);
    assert_eq!(
        cust["topics"]["calibration"]["file"],
        "models/taxonomy/calibration-contact-center-multilingual-e5-small.json"
    );
    assert!(cust["topics"]["topic_model"].is_null(), "{cust}");
    // The pay complaint is about pay.
    let pairs: Vec<(String, String)> = columns(
        &dir.path().join("emp/bridge_response_topic.csv"),
        &["response_id", "topic_id"],
    )
    .into_iter()
    .map(|x| (x[0].clone(), x[1].clone()))
    .collect();
    assert!(
        pairs.contains(&("e1".to_string(), "pay_benefits".to_string())),
        "{pairs:?}"
    );
}

/// A customer export on the installed model: topics come from the topic
/// model shipped for the default taxonomy (the manifest names it, its
/// checksum and its training files), and plain complaints and praise in
/// three languages get their topic and polarity.
#[test]
fn a_customer_run_takes_topics_from_the_shipped_topic_model() {
    load(Precision::Auto);
    let dir = tempfile::tempdir().expect("temp folder");
    let input = dir.path().join("nps.csv");
    std::fs::write(
        &input,
        "id,score,comment\n\
         c1,2,Mein Paket ist nach drei Wochen immer noch nicht angekommen\n\
         c2,10,Die Mitarbeiterin am Telefon war super freundlich\n\
         c3,3,\"I was on hold for 45 minutes, ridiculous\"\n\
         c4,4,De factuur klopt al maanden niet\n\
         c5,8,keine Angabe\n",
    )
    .expect("write nps.csv");
    let out = dir.path().join("out");
    let m = analyze(&input, &out, &[]);
    let t = &m["topics"];
    assert!(
        t["rule"]
            .as_str()
            .unwrap()
            .starts_with("fine-tuned top 2 layers"),
        "{t}"
    );
    let tm = &t["topic_model"];
    assert_eq!(tm["kind"], "shipped", "{t}");
    // The shipped calibration stays as the branch's backup where it is sure.
    assert_eq!(t["calibration"]["kind"], "shipped", "{t}");
    assert_eq!(tm["calibration_backup_at"], 0.9, "{t}");
    let note = m["settings"]["topic_threshold_note"].as_str().unwrap();
    assert!(note.starts_with("the topic model's threshold"), "{note}");
    assert_eq!(
        tm["folder"],
        "models/topic-model/contact-center-multilingual-e5-small"
    );
    let meta = verbatim::classify::finetune::shipped_meta().expect("shipped topic model");
    assert_eq!(tm["weights_sha256"], meta.weights_sha256.as_str());
    assert_eq!(meta.model_sha256, m["model"]["sha256"].as_str().unwrap());
    assert_eq!(tm["training"].as_array().map(Vec::len), Some(5), "{tm}");
    let mut got: Vec<(String, String, String)> = columns(
        &out.join("bridge_response_topic.csv"),
        &["response_id", "topic_id", "polarity"],
    )
    .into_iter()
    .map(|x| (x[0].clone(), x[1].clone(), x[2].clone()))
    .collect();
    got.sort();
    let want: Vec<(String, String, String)> = [
        ("c1", "delivery", "negative"),
        ("c2", "agent_friendliness", "positive"),
        ("c3", "wait_time", "negative"),
        ("c4", "billing", "negative"),
    ]
    .iter()
    .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
    .collect();
    assert_eq!(got, want);
}

/// The telecom export had waits tagged `billing`; since taxonomy
/// 2.3.0 billing needs a word for a bill, a payment or a refund, so on the
/// installed model a wait blamed on the company is not billing in any of
/// the five languages, while a double charge still is.
#[test]
fn a_wait_blamed_on_the_company_is_not_billing() {
    load(Precision::Auto);
    let dir = tempfile::tempdir().expect("temp folder");
    let input = dir.path().join("nps.csv");
    std::fs::write(
        &input,
        "id,score,comment\n\
         w1,2,I am having to wait another month because there was an error on your behalf\n\
         w2,1,5 months wait\n\
         w3,2,wegen eines Fehlers Ihrerseits muss ich noch einen Monat warten\n\
         w6,2,door een fout van jullie kant moet ik nog een maand wachten\n\
         w4,3,à cause d'une erreur de votre part je dois encore attendre un mois\n\
         w5,2,por un error suyo tengo que esperar otro mes más\n\
         b1,2,you charged me for March twice\n\
         b2,3,die Rechnung für Mai war doppelt so hoch wie sonst\n",
    )
    .expect("write nps.csv");
    let out = dir.path().join("out");
    analyze(&input, &out, &[]);
    let mut billing: Vec<String> = columns(
        &out.join("bridge_response_topic.csv"),
        &["response_id", "topic_id"],
    )
    .into_iter()
    .filter(|x| x[1] == "billing")
    .map(|x| x[0].clone())
    .collect();
    billing.sort();
    assert_eq!(billing, ["b1", "b2"]);
}

/// `verbatim models info` names the installed model and what ships for it:
/// the topic model, with its checksum, applying to the installed weights.
#[test]
fn models_info_names_the_shipped_topic_model() {
    load(Precision::Auto);
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_verbatim"))
        .args(["models", "info"])
        .output()
        .expect("run verbatim");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8_lossy(&o.stdout);
    let meta = verbatim::classify::finetune::shipped_meta().unwrap();
    assert!(out.contains("# installed at "), "{out}");
    assert!(
        out.contains(&format!("weights sha256 {}", meta.weights_sha256)),
        "{out}"
    );
    assert!(!out.contains("it will not apply"), "{out}");
}
