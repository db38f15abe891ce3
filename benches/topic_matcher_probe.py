#!/usr/bin/env python3
"""Probe: top layers tuned to match comments with topic examples, for any taxonomy.

A user's own taxonomy without labels (issue 14) is decided by cosines between a
clause and the topic's example phrases. The encoder's vector mixes what a comment
is about with how it feels about it ("terrible food" is close to "terrible
service"). This probe tunes the encoder's top K layers on the project's own
labelled comments of two taxonomies (contact-center, employee) so that a comment
is close to the examples of its topics and far from the others', then scores the
aspect-labelled sets of benches/user_taxonomy.py with their taxonomies (written
from the category names) without any label of theirs:

  score(sentence, topic) = sigmoid(a * cos(sentence, mean of the topic's example
  vectors) + b), a topic where it reaches 0.5; a and b are learned on the
  project's rows with the layers (tuned) or with the layers frozen (base), so the
  two differ only in the layers.

Training: per step 32 labelled comments of one taxonomy and up to EX examples per
topic of it (both through the tuned layers), binary cross-entropy over that
taxonomy's topics; a topic that is the parent of one of the comment's topics is
left out of the loss. Needs ../shared/data/dev (evaluation only), torch, tokenizers
and safetensors in .venv (benches/e5_torch.py). Settings by environment: K (2),
EPOCHS (3), LR (5e-5), EX (8), SETS (all). Prototype code, not product code.

Result (stop 24, benches/FINETUNE.md): micro-F1 0.51 / 0.41 / 0.46 (hotel, laptops,
restaurants) against the frozen layers' 0.06 / 0.03 / 0.02 and the shipped similarity
rule's 0.71 / 0.62 / 0.71: not kept.

Usage: PYTHONPATH=DIR .venv/bin/python benches/topic_matcher_probe.py
  (DIR holding the packages tokenizers and safetensors, as benches/e5_torch.py says)
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
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
import e5_torch  # noqa: E402
import user_taxonomy as u  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
K = int(os.environ.get("K", "2"))
EPOCHS = int(os.environ.get("EPOCHS", "3"))
LR = float(os.environ.get("LR", "5e-5"))
EX = int(os.environ.get("EX", "8"))


def taxonomy(path):
    t = tomllib.load(open(path, "rb"))
    topics = [x["id"] for x in t["topic"]]
    parent = {x["id"]: x.get("parent") for x in t["topic"]}
    examples = [[e for exs in x.get("examples", {}).values() for e in exs] for x in t["topic"]]
    return topics, parent, examples


def training_set(name):
    topics, parent, examples = taxonomy(ROOT / f"models/taxonomy/{name}.toml")
    rows = []
    for f in sorted(glob.glob(str(ROOT / f"models/taxonomy/train/{name}/*.csv"))):
        for r in csv.DictReader(open(f, newline="", encoding="utf-8")):
            ids = {x for x in r["topics"].split("|") if x and x != "none"}
            rows.append((r["text"], ids))
    return {"topics": topics, "parent": parent, "examples": examples, "rows": rows}


def main():
    torch.set_num_threads(2)
    model, tok = e5_torch.load()
    tuned, base = e5_torch.tunable_top(model, K)
    train_sets = [training_set("contact-center"), training_set("employee")]
    # Every text once through the frozen lower layers.
    texts, at = [], {}

    def add(t):
        if t not in at:
            at[t] = len(texts)
            texts.append(t)
        return at[t]

    for ts in train_sets:
        ts["row_ids"] = [add(t) for t, _ in ts["rows"]]
        ts["ex_ids"] = [[add(e) for e in exs] for exs in ts["examples"]]
    evals = {}
    for name in os.environ.get("SETS", ",".join(sorted(u.SETS))).split(","):
        load, tax_file = u.SETS[name]
        rows = load()
        topics, _, examples = taxonomy(u.TAXONOMIES / tax_file)
        evals[name] = {"rows": rows, "topics": topics, "ids": [add(r["text"]) for r in rows],
                       "ex_ids": [[add(e) for e in exs] for exs in examples]}
    t0 = time.time()
    cache = e5_torch.cache_lower(model, tok, texts, K)
    print(f"{len(texts)} texts through the lower {12 - K} layers in {time.time() - t0:.0f}s", flush=True)

    def vectors(ids, grad):
        out = []
        for b in range(0, len(ids), 128):
            x, m = e5_torch.batch_from_cache(cache, ids[b:b + 128])
            out.append(model.run(x, m, 12 - K, 12, 12 - K if grad else 12))
        return torch.cat(out)

    def train(layers):
        with torch.no_grad():
            for key, p in tuned.items():
                p.copy_(base[key])
        torch.manual_seed(0)
        a = torch.nn.Parameter(torch.tensor(20.0))
        b = torch.nn.Parameter(torch.tensor(-17.0))
        groups = [{"params": [a, b], "lr": 5e-2}]
        if layers:
            groups.append({"params": list(tuned.values()), "lr": LR})
        opt = torch.optim.AdamW(groups, weight_decay=0.0)
        rng = random.Random(0)
        batches = []
        for ti, ts in enumerate(train_sets):
            order = list(range(len(ts["rows"])))
            for ep in range(EPOCHS):
                rng.shuffle(order)
                batches += [(ep, ti, order[s:s + 32]) for s in range(0, len(order), 32)]
        rng.shuffle(batches)
        batches.sort(key=lambda x: x[0])
        for step, (_, ti, bi) in enumerate(batches):
            ts = train_sets[ti]
            ex = [rng.sample(ids, min(EX, len(ids))) for ids in ts["ex_ids"]]
            flat = [i for e in ex for i in e]
            with torch.set_grad_enabled(True):
                ev = vectors(flat, layers)
                protos, s = [], 0
                for e in ex:
                    protos.append(F.normalize(ev[s:s + len(e)].mean(0), dim=-1))
                    s += len(e)
                P = torch.stack(protos)
                cv = vectors([ts["row_ids"][i] for i in bi], layers)
                logits = a * (cv @ P.t()) + b
                y = torch.zeros_like(logits)
                w = torch.ones_like(logits)
                for r, i in enumerate(bi):
                    for t in ts["rows"][i][1]:
                        y[r, ts["topics"].index(t)] = 1.0
                        p = ts["parent"].get(t)
                        if p:
                            w[r, ts["topics"].index(p)] = 0.0
                loss = F.binary_cross_entropy_with_logits(logits, y, weight=w)
                opt.zero_grad()
                loss.backward()
                opt.step()
            if step % 50 == 0:
                print(f"  step {step}/{len(batches)} loss {loss.item():.4f} a {a.item():.1f} b {b.item():.2f} "
                      f"{time.time() - t0:.0f}s", flush=True)
        return refit()

    def refit():
        # a and b by logistic regression over every (comment, topic) pair of
        # the training taxonomies, prototypes from all their examples: the
        # same fit for frozen and tuned layers.
        X, Y, W = [], [], []
        with torch.no_grad():
            for ts in train_sets:
                P = torch.stack([F.normalize(vectors(ids, False).mean(0), dim=-1) for ids in ts["ex_ids"]])
                C = vectors(ts["row_ids"], False) @ P.t()
                for r, (_, ids) in enumerate(ts["rows"]):
                    for j, t in enumerate(ts["topics"]):
                        pos = t in ids
                        if not pos and any(ts["parent"].get(x) == t for x in ids):
                            continue
                        X.append(C[r, j].item())
                        Y.append(1.0 if pos else 0.0)
        X, Y = torch.tensor(X), torch.tensor(Y)
        a = torch.tensor(20.0, requires_grad=True)
        b = torch.tensor(-17.0, requires_grad=True)
        opt = torch.optim.LBFGS([a, b], max_iter=200)

        def closure():
            opt.zero_grad()
            loss = F.binary_cross_entropy_with_logits(a * X + b, Y)
            loss.backward()
            return loss

        opt.step(closure)
        print(f"  refit: a {a.item():.1f} b {b.item():.2f} (cos at p=0.5: {-b.item() / a.item():.3f})", flush=True)
        return a.item(), b.item()

    def evaluate(label, a, b):
        with torch.no_grad():
            for name, e in evals.items():
                protos = torch.stack([F.normalize(vectors(ids, False).mean(0), dim=-1) for ids in e["ex_ids"]])
                sv = vectors(e["ids"], False)
                prob = torch.sigmoid(a * (sv @ protos.t()) + b)
                pred = {r["id"]: {t for j, t in enumerate(e["topics"]) if prob[i, j] >= 0.5}
                        for i, r in enumerate(e["rows"])}
                tp = fp = fn = 0
                for r in e["rows"]:
                    p = pred[r["id"]]
                    tp += len(p & r["gold"])
                    fp += len(p - r["gold"])
                    fn += len(r["gold"] - p)
                pr = tp / (tp + fp) if tp + fp else float("nan")
                rc = tp / (tp + fn) if tp + fn else float("nan")
                f1 = 2 * tp / (2 * tp + fp + fn)
                none = sum(1 for r in e["rows"] if not pred[r["id"]]) / len(e["rows"])
                gold_none = sum(1 for r in e["rows"] if not r["gold"]) / len(e["rows"])
                print(f"{label:6} {name:12} P {pr:.3f} R {rc:.3f} F1 {f1:.3f}  no topic {none:.0%} (gold {gold_none:.0%})",
                      flush=True)

    a, b = refit()
    evaluate("base", a, b)
    a, b = train(True)
    evaluate("tuned", a, b)


if __name__ == "__main__":
    main()
