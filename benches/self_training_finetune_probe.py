#!/usr/bin/env python3
"""Probe: self-training by fine-tuning the encoder on the export's own comments.

benches/self_training_probe.py showed that heads on the frozen vectors, trained
on keyword seed labels, gain only +0.01..0.02 over the keywords. This probe asks
the same of fine-tuning the top K layers (as `verbatim train topics
--fine-tune`), on the sets and taxonomies of benches/user_taxonomy.py:

1. seed labels: a sentence has a topic when it contains one of the topic's
   `must` keywords (whole words, `*` as in verbatim); the taxonomy's example
   phrases are labelled rows too;
2. cross-fitted over FOLDS folds: the top K layers and a sigmoid head are tuned
   on the other folds' seed labels (plus the examples) and score the held-out
   fold, so no sentence is scored by a model that saw its seed label;
   a seed negative (no keyword) weighs NEGW in the loss, since many of them
   are unlabelled positives;
3. prints micro P/R/F1, macro-F1 and the no-topic share of the keywords, the
   tuned model alone and "keyword or model" at a few thresholds, next to gold.

Needs ../shared/data/dev, torch (in .venv) and the Python packages `tokenizers`
and `safetensors` (see benches/e5_torch.py). Settings by environment: K (2),
EPOCHS (3), LR (5e-5), FOLDS (3), NEGW (1.0), SETS (all), GOLD (0; 1: train on
the sets' gold labels instead of the seeds, i.e. fully supervised on the other
folds, which bounds what any labels could give this encoder), LIMIT (0: all;
N: each fold trains on N sentences of the other folds, as a user with N labels). Prototype, not
product code; evaluation only.

Usage: PYTHONPATH=/tmp/pyexp .venv/bin/python benches/self_training_finetune_probe.py
"""
import os
import random
import sys
import time
import tomllib
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
import e5_torch  # noqa: E402
import user_taxonomy as u  # noqa: E402
from self_training_probe import keyword_regex, norm, score  # noqa: E402

K = int(os.environ.get("K", "2"))
EPOCHS = int(os.environ.get("EPOCHS", "3"))
LR = float(os.environ.get("LR", "5e-5"))
FOLDS = int(os.environ.get("FOLDS", "3"))
NEGW = float(os.environ.get("NEGW", "1.0"))
GOLD = os.environ.get("GOLD", "0") == "1"
LIMIT = int(os.environ.get("LIMIT", "0"))
SCALE = 20.0


def main():
    torch.set_num_threads(2)
    model, tok = e5_torch.load()
    tuned, base = e5_torch.tunable_top(model, K)
    names = os.environ.get("SETS", ",".join(sorted(u.SETS))).split(",")
    for name in names:
        load, tax_file = u.SETS[name]
        rows = load()
        tax = tomllib.load(open(u.TAXONOMIES / tax_file, "rb"))
        topics = [t["id"] for t in tax["topic"]]
        regs = [keyword_regex([k for kw in t.get("keywords", {}).values() for k in kw.get("must", [])])
                for t in tax["topic"]]
        H = torch.tensor([[1.0 if g and g.search(norm(r["text"])) else 0.0 for g in regs] for r in rows])
        examples = [(e, j) for j, t in enumerate(tax["topic"]) for exs in t.get("examples", {}).values() for e in exs]
        EY = torch.zeros(len(examples), len(topics))
        for i, (_, j) in enumerate(examples):
            EY[i, j] = 1.0
        t0 = time.time()
        cache = e5_torch.cache_lower(model, tok, [r["text"] for r in rows] + [e for e, _ in examples], K)
        print(f"\n{name}: {len(rows)} sentences, {len(examples)} examples; lower layers in {time.time() - t0:.0f}s", flush=True)
        G = torch.tensor([[1.0 if t in r["gold"] else 0.0 for t in topics] for r in rows])
        Y = torch.cat([G if GOLD else H, EY])
        idx = list(range(len(rows)))
        random.Random(1).shuffle(idx)
        folds = [idx[k::FOLDS] for k in range(FOLDS)]
        P = torch.zeros_like(H)
        for k, test in enumerate(folds):
            torch.manual_seed(k)
            with torch.no_grad():
                for key, p in tuned.items():
                    p.copy_(base[key])
            head = nn.Linear(384, len(topics))
            opt = torch.optim.AdamW([{"params": list(tuned.values()), "lr": LR},
                                     {"params": head.parameters(), "lr": 2e-3}], weight_decay=0.01)
            train = [i for j, f in enumerate(folds) if j != k for i in f]
            if LIMIT:
                train = train[:LIMIT]
            train += list(range(len(rows), len(rows) + len(examples)))
            rng = random.Random(k)
            for ep in range(EPOCHS):
                rng.shuffle(train)
                tot = 0.0
                for b in range(0, len(train), 32):
                    bi = train[b:b + 32]
                    x, mask = e5_torch.batch_from_cache(cache, bi)
                    logits = head(model.run(x, mask, 12 - K, 12, 12 - K) * SCALE)
                    y = Y[bi]
                    w = torch.where(y > 0, torch.ones_like(y), torch.full_like(y, NEGW))
                    loss = F.binary_cross_entropy_with_logits(logits, y, weight=w)
                    opt.zero_grad()
                    loss.backward()
                    opt.step()
                    tot += loss.item() * len(bi)
            with torch.no_grad():
                for b in range(0, len(test), 128):
                    bi = test[b:b + 128]
                    x, mask = e5_torch.batch_from_cache(cache, bi)
                    P[bi] = torch.sigmoid(head(model.run(x, mask, 12 - K, 12, 12) * SCALE))
            print(f"  fold {k}: loss {tot / len(train):.4f}, {time.time() - t0:.0f}s", flush=True)

        def labels(M):
            return [{t for j, t in enumerate(topics) if M[i, j]} for i in range(len(rows))]

        gold_none = sum(1 for r in rows if not r["gold"]) / len(rows)
        print(f"  gold no topic {gold_none:.0%}; K={K} EPOCHS={EPOCHS} LR={LR} FOLDS={FOLDS} NEGW={NEGW} GOLD={int(GOLD)} LIMIT={LIMIT}")
        print(f"  keywords (whole words)   {score(rows, labels(H > 0), topics)}")
        for tau in (0.3, 0.5, 0.7):
            print(f"  model >= {tau}            {score(rows, labels(P >= tau), topics)}")
            print(f"  keyword or model >= {tau} {score(rows, labels((H > 0) | (P >= tau)), topics)}")


if __name__ == "__main__":
    main()
