#!/usr/bin/env python3
"""Probe: can sentiment read the fine-tuned topic branch's vector? (issue 14)

`analyze --topic-model DIR` runs the tuned top K layers beside the encoder's own
top layers, so each text costs 12 + K layers: the issue asks for one pass. If the
sentiment head did as well on the tuned layers' pooled vector, the encoder's own
top layers could be dropped and the branch would cost nothing.

For the encoder as converted (`own`) and with its top layers replaced by those of
DIR/topics.safetensors (`tuned`, written by `verbatim train topics --fine-tune`),
this fits the same multinomial logistic regression (L2, LBFGS in torch; the
penalty is picked on a 5-fold split of the training rows) on the project's
sentiment rows (models/sentiment/train/*.csv), and scores whole comments of the
blind dev sets (benches/dev/*.labels.csv, text from ../shared/data/dev, evaluation
only; gold mixed left out): accuracy and macro-F1, as benches/dev_topics.py.
With --more, also the 1,000-row samples of benches/sentiment_ceiling.py (MARC en
and de, German hotel sentences, SemEval restaurants and laptops; seed 7).

Usage: PYTHONPATH=<tokenizers+safetensors> .venv/bin/python benches/tuned_sentiment_probe.py DIR
Prototype, not product code.
"""
import sys
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import load_file

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benches"))
import dev_topics as dt  # noqa: E402
import e5_torch  # noqa: E402
from sentiment_finetune_probe import CLASSES, macro, training_rows  # noqa: E402

torch.manual_seed(0)
torch.set_num_threads(2)
SETS = ["ba_headers", "ba_headers_b", "hotel_de", "marc_de"]


def more_sets():
    """The 1,000-row sentiment samples of benches/sentiment_ceiling.py (seed 7),
    as rows with `text`, `sentiment` and no `topics`."""
    import random
    import sentiment_ceiling as sc
    draws = {"marc_en": lambda: sc.marc("en"), "marc_de_1000": lambda: sc.marc("de"),
             "hotel_1000": sc.hotel, "restaurants": lambda: sc.semeval("restaurants"),
             "laptops": lambda: sc.semeval("laptops")}
    sets = {}
    for name, draw in draws.items():
        test, _ = draw()
        random.Random(7).shuffle(test)
        sets[name] = [{"text": t, "sentiment": label, "topics": None} for t, label in test[:1000]]
    return sets


def vectors(model, tok, texts):
    out = []
    with torch.no_grad():
        for b in range(0, len(texts), 64):
            ids, mask = e5_torch.encode(tok, texts[b:b + 64])
            out.append(model(ids, mask))
    return torch.cat(out)


def fit(X, y, lam):
    W = torch.zeros(X.shape[1], 3, requires_grad=True)
    b = torch.zeros(3, requires_grad=True)
    opt = torch.optim.LBFGS([W, b], max_iter=300, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = F.cross_entropy(X @ W + b, y) + lam * (W * W).sum()
        loss.backward()
        return loss

    opt.step(closure)
    return W.detach(), b.detach()


def choose(X, y):
    idx = torch.randperm(len(y))
    folds = idx.chunk(5)
    best = None
    for lam in (1e-4, 1e-3, 1e-2):
        loss = 0.0
        for k in range(5):
            test = folds[k]
            train = torch.cat([folds[j] for j in range(5) if j != k])
            W, b = fit(X[train], y[train], lam)
            loss += F.cross_entropy(X[test] @ W + b, y[test]).item()
        if best is None or loss < best[0]:
            best = (loss, lam)
    return best[1]


def main():
    model, tok = e5_torch.load()
    train, y = training_rows()
    sets = {name: dt.load_set(name) for name in SETS}
    if "--more" in sys.argv:
        sets.update(more_sets())
    tuned = load_file(f"{sys.argv[1]}/topics.safetensors")
    for label in ("own", "tuned"):
        if label == "tuned":
            for k, v in tuned.items():
                if k.startswith("encoder."):
                    model.W[k.replace(".", "__")] = torch.nn.Parameter(v.float(), requires_grad=False)
        X = vectors(model, tok, [t for t, _ in train]) * 20.0
        lam = choose(X, y)
        W, b = fit(X, y, lam)
        line = []
        for name, rows in sets.items():
            P = (vectors(model, tok, [r["text"] for r in rows]) * 20.0) @ W + b
            pred = [CLASSES[int(i)] for i in P.argmax(-1)]
            pairs = [(r["sentiment"], p) for r, p in zip(rows, pred) if r["sentiment"] in CLASSES]
            acc, mf1, per = macro(pairs)
            line.append(f"{name} {acc:.2f}/{mf1:.2f} (neu {per['neutral']:.2f})")
        print(f"{label:5} lambda {lam:g}: " + "  ".join(line), flush=True)


if __name__ == "__main__":
    main()
