#!/usr/bin/env python3
"""Probe: does fine-tuning the encoder itself pay for topics? (issue 14)

Heads on the frozen multilingual-e5-small vectors have reached their ceiling
(benches/sentiment_ceiling.py, benches/self_training_probe.py). Before the
fine-tuning is written in Rust with tch, this probe measures it in torch:

- the encoder: the project's converted model (models/cache/multilingual-e5-small,
  made by scripts/setup.sh), a plain BERT forward written here, mean pooling,
  `query: ` prefix, as verbatim embeds;
- training text: the project's own labelled comments
  (models/taxonomy/train/contact-center/*.csv, 1,373 rows, 5 languages) plus
  the default taxonomy's example phrases (784), so whatever would ship comes
  from text the project wrote;
- trained: a multi-label sigmoid head over the taxonomy's ids on the pooled
  vector, and either the top K layers (K=0: frozen encoder, head only) or
  LoRA adapters of rank RANK on the top K layers (query, value, attention
  output, both feed-forward matrices); the layers below are run once and
  cached;
- scored: on the blind-labelled dev set benches/dev/ba_headers.labels.csv
  (text from ../shared/data/dev, as benches/dev_topics.py), exact topic ids,
  at probability thresholds 0.3/0.5/0.7, with the per-topic table at 0.5.

Needs the Python packages `tokenizers` and `safetensors` next to torch, e.g.
`.venv/bin/pip install --target /tmp/pyexp tokenizers safetensors` and
PYTHONPATH=/tmp/pyexp. Settings by environment: K (layers trained, default 0),
RANK (0: the layers themselves; >0: LoRA), EPOCHS (4), LR (5e-5), EX (1: add the
taxonomy's examples). Seeded, 2 threads. Prototype, not product code.

Usage: K=8 EPOCHS=6 .venv/bin/python benches/finetune_probe.py
"""
import csv, sys, os, math, random, tomllib, time, glob
from pathlib import Path
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benches"))
import torch, torch.nn as nn, torch.nn.functional as F
import dev_topics as dt
torch.manual_seed(0); random.seed(0)
torch.set_num_threads(2)
import e5_torch

from e5_torch import LORA, LORA_SCALE
model, tok = e5_torch.load()
def encode(texts): return e5_torch.encode(tok, texts)

tax = tomllib.load(open(ROOT / "models/taxonomy/contact-center.toml", "rb"))
topics = [t["id"] for t in tax["topic"]]; ti = {t: i for i, t in enumerate(topics)}
train = []
for f in sorted(glob.glob(str(ROOT / "models/taxonomy/train/contact-center/*.csv"))):
    for r in csv.DictReader(open(f)):
        train.append((r["text"], {t for t in r["topics"].split("|") if t}))
n_lab = len(train)
if os.environ.get("EX", "1") == "1":
    for t in tax["topic"]:
        for lang, exs in t["examples"].items():
            for e in exs: train.append((e, {t["id"]}))
print("train rows", n_lab, "+ examples", len(train) - n_lab)
Y = torch.zeros(len(train), len(topics))
for i, (_, ts) in enumerate(train):
    for t in ts: Y[i, ti[t]] = 1
dev = dt.load_set("ba_headers")

RANK = int(os.environ.get("RANK", "0"))
if RANK: LORA_SCALE[0] = 16.0 / RANK
K = int(os.environ.get("K", "0")); EPOCHS = int(os.environ.get("EPOCHS", "4")); LR = float(os.environ.get("LR", "5e-5"))
for i in range(12 - K, 12):
    if RANK:
        for name in ("attention.self.query", "attention.self.value", "attention.output.dense", "intermediate.dense", "output.dense"):
            pre = f"encoder.layer.{i}.{name}"
            out_d, in_d = model.p(pre + ".weight").shape
            LORA[pre] = (nn.Parameter(torch.randn(RANK, in_d) / math.sqrt(in_d)), nn.Parameter(torch.zeros(out_d, RANK)))
        continue
    for k, p in model.W.items():
        if k.startswith(f"encoder__layer__{i}__"): p.requires_grad = True
head = nn.Linear(384, len(topics))
lora_params = [p for ab in LORA.values() for p in ab]
print("lora params", sum(p.numel() for p in lora_params))
params = [{"params": [p for p in model.W.values() if p.requires_grad] + lora_params, "lr": LR}, {"params": head.parameters(), "lr": 1e-2 if K == 0 else 2e-3}]
opt = torch.optim.AdamW(params, weight_decay=0.01)
scale = 20.0
t0 = time.time()
L0 = 12 - K
cache = e5_torch.cache_lower(model, tok, [t for t, _ in train], K)
print("cached lower layers", time.time() - t0, flush=True)
for ep in range(EPOCHS):
    order = list(range(len(train))); random.shuffle(order)
    tot = 0
    for b in range(0, len(order), 32):
        idx = order[b:b + 32]
        x, mask = e5_torch.batch_from_cache(cache, idx)
        v = model.run(x, mask, L0, 12, L0)
        logits = head(v * scale)
        loss = F.binary_cross_entropy_with_logits(logits, Y[idx])
        opt.zero_grad(); loss.backward(); opt.step(); tot += loss.item() * len(idx)
    print(f"epoch {ep} loss {tot / len(train):.4f} {time.time() - t0:.0f}s", flush=True)

model.eval()
with torch.no_grad():
    P = []
    for b in range(0, len(dev), 64):
        ids, mask = encode([r["text"] for r in dev[b:b + 64]])
        P.append(torch.sigmoid(head(model(ids, mask) * scale)))
    P = torch.cat(P)
for tau in (0.3, 0.5, 0.7):
    pred = {r["id"]: {topics[j]: "x" for j in range(len(topics)) if P[i, j] >= tau} for i, r in enumerate(dev)}
    c = dt.score_topics(dev, pred, lambda t: t)
    tp, fp, fn = (sum(v[k] for v in c.values()) for k in range(3))
    p, r, f = dt.prf(tp, fp, fn)
    none = sum(1 for r in dev if not pred[r["id"]]) / len(dev)
    print(f"K={K} tau {tau}: micro P {p:.2f} R {r:.2f} F1 {f:.2f}  no topic {none:.0%}")
    if tau == 0.5: dt.print_table("per topic tau 0.5", c)
