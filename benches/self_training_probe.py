#!/usr/bin/env python3
"""Probe: can a head on the frozen encoder, trained on the export itself with
the taxonomy's keywords as seed labels, beat the keyword search?

Issue 14 names self-training ("seed, pseudo-label, train, repeat",
cross-fitted) as a way to beat keyword lists. This probe measures it before
any Rust is written for it, on the same sets and taxonomies as
benches/user_taxonomy.py:

1. embed each labelled sentence with the default model
   (`target/release/examples/bench_embed embed`, the encoder verbatim runs);
2. seed labels: a sentence has a topic when it contains one of the topic's
   `must` keywords (whole words, `*` as in verbatim);
3. per topic, a logistic regression on the standardised vectors (L-BFGS,
   L2), cross-fitted over 5 folds: each sentence is scored by a model that
   never saw its seed label;
4. prints micro/macro-F1 and the no-topic share of the keywords alone, the
   head alone, and "keyword or head", at a few probability thresholds, and
   one more round trained on the first round's labels.

Needs ../shared/data/dev and torch (in .venv). Prototype, not product code.
Usage: .venv/bin/python benches/self_training_probe.py
"""

import csv
import random
import re
import subprocess
import sys
import tempfile
import tomllib
import unicodedata
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import user_taxonomy as u  # noqa: E402

EMBED = u.ROOT / "target/release/examples/bench_embed"


def norm(s):
    s = unicodedata.normalize("NFKD", s.lower().replace("ß", "ss"))
    return " " + re.sub(r"[^a-z0-9]+", " ", "".join(c for c in s if not unicodedata.combining(c))).strip() + " "


def keyword_regex(words):
    parts = []
    for w in words:
        pre, suf = w.endswith("*"), w.startswith("*")
        body = norm(w.strip("*")).strip()
        parts.append(("" if suf else " ") + re.escape(body) + ("" if pre else " "))
    return re.compile("|".join(parts)) if parts else None


def fit(X, y, l2=1e-3):
    W = torch.zeros(X.shape[1], requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    opt = torch.optim.LBFGS([W, b], max_iter=200, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(X @ W + b, y) + l2 * (W @ W)
        loss.backward()
        return loss

    opt.step(closure)
    return W.detach(), b.detach()


def crossfit(X, Y, folds):
    P = torch.zeros_like(Y)
    for k, test in enumerate(folds):
        train = torch.tensor([i for j, f in enumerate(folds) if j != k for i in f])
        test = torch.tensor(test)
        for t in range(Y.shape[1]):
            W, b = fit(X[train], Y[train, t])
            P[test, t] = torch.sigmoid(X[test] @ W + b)
    return P


def score(rows, pred, topics):
    tp = fp = fn = 0
    f1s = []
    for t in topics:
        a = sum(1 for r, p in zip(rows, pred) if t in r["gold"] and t in p)
        b = sum(1 for r, p in zip(rows, pred) if t not in r["gold"] and t in p)
        c = sum(1 for r, p in zip(rows, pred) if t in r["gold"] and t not in p)
        tp, fp, fn = tp + a, fp + b, fn + c
        P = a / (a + b) if a + b else 0.0
        R = a / (a + c) if a + c else 0.0
        f1s.append(2 * P * R / (P + R) if P + R else 0.0)
    P = tp / (tp + fp) if tp + fp else 0.0
    R = tp / (tp + fn) if tp + fn else 0.0
    F = 2 * P * R / (P + R) if P + R else 0.0
    none = sum(1 for p in pred if not p) / len(pred)
    return f"P {P:.2f} R {R:.2f} micro-F1 {F:.2f} macro-F1 {sum(f1s) / len(f1s):.2f} no topic {none:.0%}"


def main():
    torch.manual_seed(0)
    work = Path(tempfile.mkdtemp(prefix="verbatim-selftrain-"))
    for name, (load, tax_file) in sorted(u.SETS.items()):
        rows = load()
        data, vecs = work / f"{name}.csv", work / f"{name}.f32"
        with open(data, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(["id", "score", "comment"])
            for r in rows:
                w.writerow([r["id"], 8, r["text"]])
        subprocess.run([str(EMBED), "embed", str(data), str(vecs)], check=True, capture_output=True)
        X = torch.frombuffer(bytearray(vecs.read_bytes()), dtype=torch.float32).view(len(rows), -1)
        X = torch.nn.functional.normalize(X, dim=1)
        X = (X - X.mean(0)) / X.std(0)
        tax = tomllib.load(open(u.TAXONOMIES / tax_file, "rb"))
        topics = [t["id"] for t in tax["topic"]]
        regs = [keyword_regex([k for kw in t.get("keywords", {}).values() for k in kw.get("must", [])])
                for t in tax["topic"]]
        texts = [norm(r["text"]) for r in rows]
        H = torch.tensor([[1.0 if g and g.search(x) else 0.0 for g in regs] for x in texts])
        idx = list(range(len(rows)))
        random.Random(1).shuffle(idx)
        folds = [idx[k::5] for k in range(5)]
        P = crossfit(X, H, folds)

        def labels(M):
            return [{t for j, t in enumerate(topics) if M[i, j]} for i in range(len(rows))]

        gold_none = sum(1 for r in rows if not r["gold"]) / len(rows)
        print(f"\n{name}: {len(rows)} sentences, gold no topic {gold_none:.0%}")
        print(f"  keywords (whole words)       {score(rows, labels(H > 0), topics)}")
        for tau in (0.5, 0.7):
            print(f"  head >= {tau}                  {score(rows, labels(P >= tau), topics)}")
            print(f"  keyword or head >= {tau}       {score(rows, labels((H > 0) | (P >= tau)), topics)}")
        Y2 = (((H > 0) & (P >= 0.3)) | (P >= 0.8)).float()
        P2 = crossfit(X, Y2, folds)
        print(f"  round 2, keyword&p>=.3 or p>=.7 {score(rows, labels(((H > 0) & (P2 >= 0.3)) | (P2 >= 0.7)), topics)}")


if __name__ == "__main__":
    main()
