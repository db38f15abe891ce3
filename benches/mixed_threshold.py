#!/usr/bin/env python3
"""At which confidence should a positive and a negative clause make a comment
mixed (`classify::MIXED_CONFIDENCE`, what `analyze` writes as `sentiment_mixed`)?

Tuning rows: the project's own sentiment files (`models/sentiment/train/*.csv`),
whose rows labelled `mixed` the head never trains on. The head does train on the
other rows, so they are cross-fitted: the rows of each file are split in two by
position, a head is fitted on each half (`verbatim train sentiment`), and each
half's clauses are scored by the head of the other half. For every confidence c
of the grid the script prints precision, recall and F1 of the rule "one clause
positive and one negative, each with probability >= c" against the `mixed`
labels, on the tuning rows and on each `--eval NAME=FILE` set (text,label; scored
by the shipped head, for reading only, not for choosing).

Usage: .venv/bin/python benches/mixed_threshold.py [--eval NAME=FILE ...] [--work DIR]
Needs: cargo build --release --locked --example clause_sentiment
"""
import argparse
import csv
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VERBATIM = ROOT / "target/release/verbatim"
CLAUSES = ROOT / "target/release/examples/clause_sentiment"
LANGS = ["de", "en", "es", "fr", "nl"]
GRID = [0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.8]


def clause_probs(path, head=None):
    cmd = [str(CLAUSES), str(path)] + ([str(head)] if head else [])
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{out.stderr}")
    return [json.loads(line) for line in out.stdout.splitlines() if line.strip()]


def flagged(clauses, c):
    """analyze's rule: two or more clauses, one whose class is positive and
    one whose class is negative, each with probability >= c."""
    if len(clauses) < 2:
        return False
    pos = any(max(p) == p[2] and p[2] >= c for p in clauses)
    neg = any(max(p) == p[0] and p[0] >= c for p in clauses)
    return pos and neg


def score(rows, c):
    tp = fp = fn = 0
    for r in rows:
        gold = r["label"].strip().lower() == "mixed"
        f = flagged(r["clauses"], c)
        tp += gold and f
        fp += f and not gold
        fn += gold and not f
    p = tp / (tp + fp) if tp + fp else float("nan")
    rc = tp / (tp + fn) if tp + fn else float("nan")
    f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
    return p, rc, f1, tp + fp, tp + fn


def cross_fitted(work):
    halves = {0: [], 1: []}
    for lang in LANGS:
        rows = list(csv.DictReader(open(ROOT / f"models/sentiment/train/{lang}.csv", newline="")))
        for h in (0, 1):
            path = work / f"half{h}_{lang}.csv"
            with open(path, "w", newline="") as f:
                w = csv.writer(f, lineterminator="\n")
                w.writerow(["text", "label"])
                w.writerows((r["text"], r["label"]) for i, r in enumerate(rows) if i % 2 == h)
            halves[h].append(path)
    scored = []
    for h in (0, 1):
        head = work / f"head{h}.json"
        data = [a for p in halves[h] for a in ("--data", str(p))]
        t = subprocess.run([str(VERBATIM), "train", "sentiment", *data, "--out", str(head)],
                           capture_output=True, text=True)
        if t.returncode != 0:
            sys.exit(f"train sentiment failed:\n{t.stderr}")
        for p in halves[1 - h]:
            scored += clause_probs(p, head)
    return scored


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--eval", action="append", default=[], help="NAME=FILE (text,label), shipped head")
    ap.add_argument("--work", default="/tmp/verbatim-mixed-threshold")
    a = ap.parse_args()
    work = Path(a.work)
    work.mkdir(parents=True, exist_ok=True)
    sets = [("own rows, cross-fitted", cross_fitted(work))]
    for spec in a.eval:
        name, path = spec.split("=", 1)
        sets.append((name, clause_probs(path)))
    for name, rows in sets:
        gold = sum(r["label"].strip().lower() == "mixed" for r in rows)
        print(f"{name}: {len(rows)} rows, {gold} labelled mixed")
        print(f"  {'c':>5} {'flagged':>8} {'P':>6} {'R':>6} {'F1':>6}")
        for c in GRID:
            p, r, f, flags, _ = score(rows, c)
            print(f"  {c:5.2f} {flags:8d} {p:6.3f} {r:6.3f} {f:6.3f}")
    best = max(GRID, key=lambda c: (score(sets[0][1], c)[2], c))
    print(f"best c on the own rows (max F1, ties to the higher c): {best}")


if __name__ == "__main__":
    main()
