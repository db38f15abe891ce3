"""The project's converted multilingual-e5-small as a plain torch BERT, for probes.

Shared by benches/finetune_probe.py (topics) and benches/sentiment_finetune_probe.py:
weights from models/cache/multilingual-e5-small (made by scripts/setup.sh), mean
pooling over the last layer, the `query: ` prefix and 64 tokens at most, as
verbatim embeds. Optional LoRA adapters per linear map (`LORA[prefix] = (A, B)`).
Needs the Python packages `tokenizers` and `safetensors` next to torch.
Prototype code, not product code.
"""
import math
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import load_file
from tokenizers import Tokenizer

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "models/cache/multilingual-e5-small"
LORA = {}
LORA_SCALE = [16.0]


class Bert(nn.Module):
    def __init__(s, W, L=12, H=12):
        super().__init__()
        s.W = nn.ParameterDict({k.replace(".", "__"): nn.Parameter(v.float(), requires_grad=False) for k, v in W.items()})
        s.L, s.H = L, H

    def p(s, k):
        return s.W[k.replace(".", "__")]

    def ln(s, x, pre):
        return F.layer_norm(x, (x.shape[-1],), s.p(pre + ".weight"), s.p(pre + ".bias"), 1e-12)

    def lin(s, x, pre):
        y = F.linear(x, s.p(pre + ".weight"), s.p(pre + ".bias"))
        if pre in LORA:
            A, Bm = LORA[pre]
            y = y + (x @ A.t() @ Bm.t()) * LORA_SCALE[0]
        return y

    def embed(s, ids):
        T = ids.shape[1]
        x = s.p("embeddings.word_embeddings.weight")[ids] + s.p("embeddings.position_embeddings.weight")[:T] + s.p("embeddings.token_type_embeddings.weight")[0]
        return s.ln(x, "embeddings.LayerNorm")

    def forward(s, ids, mask, frozen_below=12, start=0, x=None):
        if x is not None:
            return s.run(x, mask, start, 12, frozen_below)
        return s.run(s.embed(ids), mask, 0, 12, frozen_below)

    def run(s, x, mask, a0, a1, frozen_below, pool=True):
        B, T, _ = x.shape
        am = (1.0 - mask[:, None, None, :].float()) * -1e4
        for i in range(a0, a1):
            ctx = torch.no_grad() if i < frozen_below else torch.enable_grad()
            with ctx:
                pre = f"encoder.layer.{i}."
                q = s.lin(x, pre + "attention.self.query").view(B, T, s.H, -1).transpose(1, 2)
                k = s.lin(x, pre + "attention.self.key").view(B, T, s.H, -1).transpose(1, 2)
                v = s.lin(x, pre + "attention.self.value").view(B, T, s.H, -1).transpose(1, 2)
                a = (q @ k.transpose(-1, -2)) / math.sqrt(q.shape[-1]) + am
                h = (a.softmax(-1) @ v).transpose(1, 2).reshape(B, T, -1)
                x = s.ln(s.lin(h, pre + "attention.output.dense") + x, pre + "attention.output.LayerNorm")
                h = F.gelu(s.lin(x, pre + "intermediate.dense"))
                x = s.ln(s.lin(h, pre + "output.dense") + x, pre + "output.LayerNorm")
        if not pool:
            return x
        m = mask[..., None].float()
        return F.normalize((x * m).sum(1) / m.sum(1), dim=-1)


def load():
    """The model and its tokenizer."""
    return Bert(load_file(f"{MODEL}/model.safetensors")), Tokenizer.from_file(f"{MODEL}/tokenizer.json")


def encode(tok, texts, max_tokens=64):
    enc = tok.encode_batch(["query: " + t for t in texts])
    T = min(max_tokens, max(len(e.ids) for e in enc))
    ids = torch.zeros(len(texts), T, dtype=torch.long)
    mask = torch.zeros(len(texts), T, dtype=torch.long)
    for i, e in enumerate(enc):
        n = min(T, len(e.ids))
        ids[i, :n] = torch.tensor(e.ids[:n])
        mask[i, :n] = 1
    return ids, mask


def unfreeze_top(model, K):
    """Lets the top K layers train."""
    for i in range(12 - K, 12):
        for k, p in model.W.items():
            if k.startswith(f"encoder__layer__{i}__"):
                p.requires_grad = True


def tunable_top(model, K):
    """Lets the top K layers train; returns their parameters by name and a
    copy of their starting values (to reset them between folds or runs)."""
    unfreeze_top(model, K)
    tuned = {k: p for k, p in model.W.items() if p.requires_grad}
    return tuned, {k: p.detach().clone() for k, p in tuned.items()}


def cache_lower(model, tok, texts, K, batch=64):
    """Runs the 12 - K frozen layers once per text; returns per-text token states."""
    cache = []
    with torch.no_grad():
        for b in range(0, len(texts), batch):
            ids, mask = encode(tok, texts[b:b + batch])
            x = model.run(model.embed(ids), mask, 0, 12 - K, 12, pool=False)
            for i in range(ids.shape[0]):
                n = int(mask[i].sum())
                cache.append(x[i, :n].clone())
    return cache


def batch_from_cache(cache, idx):
    T = max(cache[i].shape[0] for i in idx)
    x = torch.zeros(len(idx), T, cache[idx[0]].shape[1])
    m = torch.zeros(len(idx), T, dtype=torch.long)
    for j, i in enumerate(idx):
        n = cache[i].shape[0]
        x[j, :n] = cache[i]
        m[j, :n] = 1
    return x, m
