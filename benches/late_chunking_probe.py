#!/usr/bin/env python3
"""Probe: clause vectors pooled from the whole comment's pass ("late chunking").

`analyze` embeds a comment with several clauses once whole (its own sentiment) and once
per clause (clause sentiment, the mixed flag, topics), so its clauses' tokens go through
the encoder twice. Pooling each clause's tokens out of the whole comment's last layer
would drop the second pass. This probe measures what that costs in quality and saves
in tokens, for sentiment only (the shipped head), on the blind dev sets' comments with
two or more clauses (the project's splitter: examples/clause_ranges.rs):

- how often a clause's class stays the same, standalone against pooled;
- the mixed flag (a positive and a negative clause at probability >= 0.4, as analyze)
  against the comments labelled mixed, both ways;
- the tokens the encoder reads: whole + clauses against whole alone.

Prototype code (benches/e5_torch.py's plain-torch BERT, float32, without analyze's
lowering of shouted words); needs ../shared/data/dev and `cargo build --release
--example clause_ranges`.
Usage: PYTHONPATH=<tokenizers+safetensors> .venv/bin/python benches/late_chunking_probe.py [--sets marc_de,hotel_de,ba_headers,ba_headers_b]
"""
import argparse
import json
import subprocess
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import dev_topics  # noqa: E402
import e5_torch  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
HEAD = ROOT / "models/sentiment/head-multilingual-e5-small.json"
PREFIX = "query: "
MIXED = 0.4


def head_probs(h, v):
    z = (v @ h["W"].t() + h["b"]) / h["T"]
    return z.softmax(-1)


def states(model, tok, text):
    """Last-layer token states and char offsets of PREFIX + text (up to 512 tokens)."""
    e = tok.encode(PREFIX + text)
    ids = torch.tensor([e.ids[:512]])
    mask = torch.ones_like(ids)
    with torch.no_grad():
        x = model.run(model.embed(ids), mask, 0, 12, 12, pool=False)[0]
    return x, e.offsets[:512]


def pooled(x, rows):
    v = x[rows].mean(0)
    return v / v.norm()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sets", default="marc_de,hotel_de,ba_headers,ba_headers_b")
    args = ap.parse_args()
    raw = json.loads(HEAD.read_text())
    classes = raw["classes"]
    h = {"W": torch.tensor(raw["weights"]), "b": torch.tensor(raw["bias"]), "T": raw["temperature"]}
    pos, neg = classes.index("positive"), classes.index("negative")
    model, tok = e5_torch.load()
    tok.no_truncation()
    splitter = ROOT / "target/release/examples/clause_ranges"
    for name in args.sets.split(","):
        rows = dev_topics.load_set(name)
        texts = [r["text"] for r in rows]
        out = subprocess.run([str(splitter)], input="\n".join(json.dumps(t) for t in texts) + "\n",
                             capture_output=True, text=True, check=True).stdout.splitlines()
        same = total = 0
        tok_both = tok_whole = 0
        flags = {"standalone": [], "pooled": []}
        gold = []
        for r, line in zip(rows, out):
            ranges = json.loads(line)
            t = r["text"]
            if len(ranges) < 2:
                continue
            gold.append(r["sentiment"] == "mixed")
            x, offsets = states(model, tok, t)
            tok_whole += x.shape[0]
            sure = {"standalone": set(), "pooled": set()}
            for b0, b1 in ranges:
                # byte range of the clause -> char range in PREFIX + text
                c0 = len(t.encode()[:b0].decode(errors="ignore")) + len(PREFIX)
                c1 = len(t.encode()[:b1].decode(errors="ignore")) + len(PREFIX)
                clause = t.encode()[b0:b1].decode(errors="ignore")
                idx = [i for i, (a, b) in enumerate(offsets) if b > a and a >= c0 and b <= c1]
                ids, mask = e5_torch.encode(tok, [clause], max_tokens=512)
                tok_both += int(mask.sum())
                with torch.no_grad():
                    alone = model.run(model.embed(ids), mask, 0, 12, 12)[0]
                p_alone = head_probs(h, alone)
                p_late = head_probs(h, pooled(x, idx)) if idx else p_alone
                same += int(p_alone.argmax() == p_late.argmax())
                total += 1
                for way, p in (("standalone", p_alone), ("pooled", p_late)):
                    k = int(p.argmax())
                    if k in (pos, neg) and float(p[k]) >= MIXED:
                        sure[way].add(k)
            for way in flags:
                flags[way].append(sure[way] == {pos, neg})
        tok_both += tok_whole
        print(f"{name}: {len(gold)} comments with 2+ clauses, {total} clauses; same class "
              f"standalone vs pooled {same}/{total} = {same / max(total, 1):.2f}; tokens read "
              f"whole+clauses {tok_both} vs whole {tok_whole} ({tok_whole / max(tok_both, 1):.2f})")
        for way, f in flags.items():
            tp = sum(a and b for a, b in zip(f, gold))
            fp = sum(a and not b for a, b in zip(f, gold))
            fn = sum(b and not a for a, b in zip(f, gold))
            p = tp / (tp + fp) if tp + fp else float("nan")
            rc = tp / (tp + fn) if tp + fn else float("nan")
            f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else float("nan")
            print(f"  mixed flag, {way:<10} gold {sum(gold)} flagged {sum(f)} precision {p:.2f} "
                  f"recall {rc:.2f} F1 {f1:.2f}")


if __name__ == "__main__":
    main()
