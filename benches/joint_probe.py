#!/usr/bin/env python3
"""Probe: one branch for topics and sentiment together (issue 14, way 1).

benches/tuned_sentiment_probe.py showed that a sentiment head refitted on a
topic-only branch loses 0.03-0.04 macro-F1. Here the top K layers are trained
on both tasks at once: a sigmoid topic head (binary cross-entropy) on the
project's labelled topic comments and the taxonomy's examples, and a
three-class sentiment head (cross-entropy) on the project's sentiment rows,
one batch of each per step. JOINT=0 trains the topic head alone and fits the
sentiment head afterwards on the frozen branch (the baseline of the same run).

Scored on the blind dev sets (text from ../shared/data/dev, evaluation only):
topics of the whole comment at probability 0.5 and 0.6 (micro P / R / F1, exact
ids; `analyze` decides per clause, so this is an approximation), and comment
sentiment (accuracy / macro-F1, gold mixed left out), plus with --more the
1,000-row sentiment samples of benches/sentiment_ceiling.py.

Settings by environment: K (4), EPOCHS (6), LR (5e-5), JOINT (1), SEED (0),
SW (1.0: the weight of the sentiment loss in the sum).
Usage: PYTHONPATH=<tokenizers+safetensors> .venv/bin/python benches/joint_probe.py [--more]
Prototype, not product code.
"""
import csv
import glob
import os
import random
import sys
import time
import tomllib
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benches"))
import dev_topics as dt  # noqa: E402
import e5_torch  # noqa: E402
from sentiment_finetune_probe import CLASSES, macro, training_rows  # noqa: E402
from tuned_sentiment_probe import choose, fit, more_sets  # noqa: E402

K = int(os.environ.get("K", "4"))
EPOCHS = int(os.environ.get("EPOCHS", "6"))
LR = float(os.environ.get("LR", "5e-5"))
JOINT = os.environ.get("JOINT", "1") == "1"
SEED = int(os.environ.get("SEED", "0"))
SW = float(os.environ.get("SW", "1.0"))
torch.manual_seed(SEED)
random.seed(SEED)
torch.set_num_threads(2)
SETS = ["ba_headers", "ba_headers_b", "hotel_de", "marc_de"]


def topic_rows():
    tax = tomllib.load(open(ROOT / "models/taxonomy/contact-center.toml", "rb"))
    topics = [t["id"] for t in tax["topic"]]
    rows = []
    for f in sorted(glob.glob(str(ROOT / "models/taxonomy/train/contact-center/*.csv"))):
        for r in csv.DictReader(open(f, encoding="utf-8")):
            rows.append((r["text"], {t for t in r["topics"].split("|") if t}))
    for t in tax["topic"]:
        for exs in t["examples"].values():
            rows += [(e, {t["id"]}) for e in exs]
    Y = torch.zeros(len(rows), len(topics))
    for i, (_, ts) in enumerate(rows):
        for t in ts:
            Y[i, topics.index(t)] = 1
    return topics, rows, Y


def main():
    model, tok = e5_torch.load()
    topics, trows, Y = topic_rows()
    srows, y = training_rows()
    e5_torch.unfreeze_top(model, K)
    thead, shead = nn.Linear(384, len(topics)), nn.Linear(384, 3)
    heads = list(thead.parameters()) + (list(shead.parameters()) if JOINT else [])
    opt = torch.optim.AdamW([{"params": [p for p in model.W.values() if p.requires_grad], "lr": LR},
                             {"params": heads, "lr": 2e-3}], weight_decay=0.01)
    t0 = time.time()
    tcache = e5_torch.cache_lower(model, tok, [t for t, _ in trows], K)
    scache = e5_torch.cache_lower(model, tok, [t for t, _ in srows], K) if JOINT else None
    L0 = 12 - K
    for ep in range(EPOCHS):
        order = list(range(len(trows)))
        random.shuffle(order)
        sorder = list(range(len(srows)))
        random.shuffle(sorder)
        tl = sl = 0.0
        for step, b in enumerate(range(0, len(order), 32)):
            idx = order[b:b + 32]
            x, mask = e5_torch.batch_from_cache(tcache, idx)
            loss = F.binary_cross_entropy_with_logits(thead(model.run(x, mask, L0, 12, L0) * 20.0), Y[idx])
            tl += loss.item()
            if JOINT:
                sidx = [sorder[(step * 32 + j) % len(sorder)] for j in range(32)]
                x, mask = e5_torch.batch_from_cache(scache, sidx)
                sloss = F.cross_entropy(shead(model.run(x, mask, L0, 12, L0) * 20.0), y[sidx])
                sl += sloss.item()
                loss = loss + SW * sloss
            opt.zero_grad()
            loss.backward()
            opt.step()
        print(f"epoch {ep} topic loss {tl / (step + 1):.4f} sentiment loss {sl / (step + 1):.4f} "
              f"{time.time() - t0:.0f}s", flush=True)
    model.eval()

    def vectors(texts):
        with torch.no_grad():
            out = []
            for b in range(0, len(texts), 64):
                ids, mask = e5_torch.encode(tok, texts[b:b + 64])
                out.append(model(ids, mask) * 20.0)
            return torch.cat(out)

    if not JOINT:
        X = vectors([t for t, _ in srows])
        W, bias = fit(X, y, choose(X, y))
        shead.weight.data, shead.bias.data = W.t().contiguous(), bias
    sets = {name: dt.load_set(name) for name in SETS}
    if "--more" in sys.argv:
        sets.update(more_sets())
    for name, rows in sets.items():
        V = vectors([r["text"] for r in rows])
        with torch.no_grad():
            pred = [CLASSES[int(i)] for i in shead(V).argmax(-1)]
            P = torch.sigmoid(thead(V))
        pairs = [(r["sentiment"], p) for r, p in zip(rows, pred) if r["sentiment"] in CLASSES]
        acc, mf1, _ = macro(pairs)
        line = f"{'joint' if JOINT else 'topic-only'} K={K} {name}: sentiment {acc:.2f}/{mf1:.2f}"
        if rows[0]["topics"] is not None:
            for tau in (0.5, 0.6):
                got = {r["id"]: {topics[j]: "x" for j in range(len(topics)) if P[i, j] >= tau}
                       for i, r in enumerate(rows)}
                c = dt.score_topics(rows, got, lambda t: t)
                tp, fp, fn = (sum(v[k] for v in c.values()) for k in range(3))
                p, r, f = dt.prf(tp, fp, fn)
                line += f" | topics@{tau} {p:.2f}/{r:.2f}/{f:.2f}"
        print(line, flush=True)


if __name__ == "__main__":
    main()
