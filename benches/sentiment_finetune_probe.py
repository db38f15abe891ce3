#!/usr/bin/env python3
"""Probe: does fine-tuning the encoder's top layers pay for comment sentiment? (issue 14)

benches/sentiment_ceiling.py showed that a head on the frozen multilingual-e5-small
vectors cannot go much further. Before sentiment fine-tuning is written in Rust with
tch, this measures it in torch (benches/e5_torch.py: the project's converted model,
as verbatim embeds it):

- training text: the project's own sentiment comments, models/sentiment/train/*.csv
  (3,600 rows, five languages, ten domains, negative/neutral/positive), so whatever
  would ship comes from text the project wrote;
- trained: a three-class softmax head on the pooled vector (x20), with the top K
  layers (K=0: frozen encoder, head only: the in-probe baseline);
- scored: on the blind-labelled dev sets (benches/dev/*.labels.csv; comments from
  ../shared/data/dev, evaluation only), whole-comment sentiment against the rows whose
  gold is negative/neutral/positive: accuracy, macro-F1, neutral F1, as
  benches/dev_topics.py scores `analyze`'s sentiment. With MIXED=1 a comment whose
  negative and positive probabilities both reach 0.25 counts as mixed (scored apart).

Settings by environment: K (0), EPOCHS (4), LR (5e-5), SEED (0), SETS (all four).
Seeded, 2 threads. Prototype, not product code.

Usage: K=4 .venv/bin/python benches/sentiment_finetune_probe.py
       (PYTHONPATH with `tokenizers` and `safetensors`, see benches/e5_torch.py)
"""
import csv
import glob
import os
import random
import sys
import time
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benches"))
import dev_topics as dt  # noqa: E402
import e5_torch  # noqa: E402

CLASSES = ["negative", "neutral", "positive"]
K = int(os.environ.get("K", "0"))
EPOCHS = int(os.environ.get("EPOCHS", "4"))
LR = float(os.environ.get("LR", "5e-5"))
SEED = int(os.environ.get("SEED", "0"))
SETS = os.environ.get("SETS", "ba_headers,ba_headers_b,hotel_de,marc_de").split(",")
torch.manual_seed(SEED)
random.seed(SEED)
torch.set_num_threads(2)


def macro(pairs):
    out = {}
    for c in CLASSES:
        tp = sum(1 for g, p in pairs if g == c and p == c)
        fp = sum(1 for g, p in pairs if g != c and p == c)
        fn = sum(1 for g, p in pairs if g == c and p != c)
        out[c] = dt.prf(tp, fp, fn)[2]
    acc = sum(1 for g, p in pairs if g == p) / len(pairs)
    f1s = [0.0 if f != f else f for f in out.values()]
    return acc, sum(f1s) / 3, out


def training_rows():
    """(text, class index) of the project's sentiment rows, and the classes as a tensor."""
    train = []
    for f in sorted(glob.glob(str(ROOT / "models/sentiment/train/*.csv"))):
        train += [(r["text"], CLASSES.index(r["label"])) for r in csv.DictReader(open(f, encoding="utf-8"))]
    return train, torch.tensor([c for _, c in train])


def main():
    model, tok = e5_torch.load()
    train, y = training_rows()
    e5_torch.unfreeze_top(model, K)
    head = nn.Linear(384, 3)
    params = [{"params": [p for p in model.W.values() if p.requires_grad], "lr": LR},
              {"params": head.parameters(), "lr": 1e-2 if K == 0 else 2e-3}]
    opt = torch.optim.AdamW(params, weight_decay=0.01)
    t0 = time.time()
    cache = e5_torch.cache_lower(model, tok, [t for t, _ in train], K)
    L0 = 12 - K
    for ep in range(EPOCHS):
        order = list(range(len(train)))
        random.shuffle(order)
        tot = 0.0
        for b in range(0, len(order), 32):
            idx = order[b:b + 32]
            x, mask = e5_torch.batch_from_cache(cache, idx)
            v = model.run(x, mask, L0, 12, L0)
            loss = F.cross_entropy(head(v * 20.0), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            tot += loss.item() * len(idx)
        print(f"epoch {ep} loss {tot / len(train):.4f} {time.time() - t0:.0f}s", flush=True)
    for name in SETS:
        rows = dt.load_set(name)
        with torch.no_grad():
            P = []
            for b in range(0, len(rows), 64):
                ids, mask = e5_torch.encode(tok, [r["text"] for r in rows[b:b + 64]])
                P.append(torch.softmax(head(model(ids, mask) * 20.0), -1))
            P = torch.cat(P)
        pred = [CLASSES[int(i)] for i in P.argmax(-1)]
        pairs = [(r["sentiment"], p) for r, p in zip(rows, pred) if r["sentiment"] in CLASSES]
        acc, mf1, per = macro(pairs)
        mixed_gold = [i for i, r in enumerate(rows) if r["sentiment"] == "mixed"]
        both = [i for i in range(len(rows)) if P[i, 0] >= 0.25 and P[i, 2] >= 0.25]
        hit = len(set(mixed_gold) & set(both))
        print(f"K={K} seed {SEED} {name}: n {len(pairs)} accuracy {acc:.2f} macro-F1 {mf1:.2f} "
              + " ".join(f"{c[:3]} {per[c]:.2f}" for c in CLASSES)
              + f" | mixed gold {len(mixed_gold)}, both>=0.25 {len(both)}, hit {hit}", flush=True)


if __name__ == "__main__":
    main()
