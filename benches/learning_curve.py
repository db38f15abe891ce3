#!/usr/bin/env python3
"""A user's own taxonomy with labels: learning curve of a topic calibration.

Issue 14's target "With labels": a user who labels some of their own comments
and fits `verbatim train topics --data` on them should gain over plain keyword
search (at least 0.10 micro-F1 above it with about 500 labelled comments).

It uses the aspect-labelled sets and taxonomies of benches/user_taxonomy.py
(SemEval-2016 restaurants and laptops, German hotel aspects; the sentences are
read from ../shared/data/dev, which this bench needs) with its loading, gold
mapping and keyword baseline. The labels are the sets' own, used here for
evaluation only; they stand in for the labels a user would write.

Per set, the labelled sentences are split once (seeded) into a fixed test part
and a pool. For n = 8, 32, 128 and 512 a training sample is drawn from the
pool in a seeded random order: a sentence with a topic is taken while one of
its topics has fewer than n positives (so each topic gets about n, or all the
pool has), and sentences without a topic are added in their share of the
pool. The sample is fitted with `verbatim train topics` (3 folds below n = 32,
else 5) and the calibration is scored with `verbatim analyze --no-score
--topic-calibration` on the test part. Each n is drawn with --seeds seeds; the
table shows the mean and, for F1 and macro-F1, the range over seeds.

On the same test part it also scores the untrained rule (`analyze --taxonomy`
alone) and the keyword baseline (the topic's keywords as lower-case
substrings). Per set it prints one table (training sentences, fewest
positives of a topic in the sample, micro precision, recall, F1, macro-F1
over the topics with a gold mention in the test part, share of sentences
without a topic, topics never predicted) and F1 at the largest n minus the
keyword baseline's. All runs of a set share one embedding cache (--cache), so
each sentence is embedded once.

Usage: .venv/bin/python benches/learning_curve.py [--set restaurants|laptops|hotel]
           [--seeds K] [--keep DIR] [--taxonomies DIR] [--fine-tune K]
           [--fine-tune-sizes N,N,...]

--fine-tune K adds one row: the encoder's top K layers tuned on the largest
sample of the first draw (`train topics --fine-tune K --folds 2`), scored
with `analyze --topic-model`; with --fine-tune-sizes 8,32,128,512 one such row
per n (the first draw of each n, the calibration's sample): the learning curve
of the fine-tuned path.
"""

import argparse
import csv
import random
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from dev_topics import prf  # noqa: E402
from user_taxonomy import SETS, TAXONOMIES, VERBATIM, keyword_baseline, run_verbatim  # noqa: E402

SIZES = (8, 32, 128, 512)
TEST_SHARE = 0.4
TEST_MAX = 600
SPLIT_SEED = 20261207


def split(rows):
    """A fixed test part (TEST_SHARE of the rows, at most TEST_MAX) and the pool."""
    rows = rows[:]
    random.Random(SPLIT_SEED).shuffle(rows)
    k = min(TEST_MAX, round(len(rows) * TEST_SHARE))
    return rows[:k], rows[k:]


def draw(pool, topics, n, seed):
    """Sentences of the pool, in a seeded order, until every topic has n
    positives (or the pool runs out), plus sentences without a topic in their
    share of the pool."""
    order = pool[:]
    random.Random(seed).shuffle(order)
    counts = dict.fromkeys(topics, 0)
    sample = []
    for r in order:
        if any(counts[t] < n for t in r["gold"]):
            sample.append(r)
            for t in r["gold"]:
                counts[t] += 1
    empty = [r for r in order if not r["gold"]]
    share = len(empty) / len(pool)
    sample += empty[:round(len(sample) * share / (1 - share))]
    return sample, min(counts.values())


def train(sample, tax_path, work, cache, n, fine_tune=None):
    """A calibration fitted on `sample`, or with `fine_tune` K a topic-model
    folder (the encoder's top K layers tuned, 2 folds for its threshold)."""
    data = work / "train.csv"
    with open(data, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["text", "topics"])
        for r in sample:
            w.writerow([r["text"], "|".join(sorted(r["gold"]))])
    cmd = [str(VERBATIM), "train", "topics", "--taxonomy", str(tax_path), "--data", str(data)]
    if fine_tune:
        cal = work / "topic-model"
        cmd += ["--out", str(cal), "--fine-tune", str(fine_tune), "--folds", "2"]
    else:
        cal = work / "calibration.json"
        cmd += ["--out", str(cal), "--folds", "3" if n < 32 else "5", "--cache", str(cache)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"verbatim train topics failed ({proc.returncode}):\n{proc.stderr}")
    (work / "train.log").write_text(proc.stdout + proc.stderr, encoding="utf-8")
    return cal


def score(rows, predicted, topics):
    """Micro precision, recall, F1, macro-F1 (topics with a gold mention),
    the share of rows without a topic, and the topics never predicted."""
    tp = fp = fn = 0
    f1s = []
    for t in topics:
        ttp = sum(1 for r in rows if t in r["gold"] and t in predicted.get(r["id"], ()))
        tfp = sum(1 for r in rows if t not in r["gold"] and t in predicted.get(r["id"], ()))
        tfn = sum(1 for r in rows if t in r["gold"]) - ttp
        tp, fp, fn = tp + ttp, fp + tfp, fn + tfn
        if ttp + tfn:
            f1s.append(prf(ttp, tfp, tfn)[2])
    p, rec, f = prf(tp, fp, fn)
    none = sum(1 for r in rows if not predicted.get(r["id"])) / len(rows)
    never = {t for t in topics if not any(t in predicted.get(r["id"], ()) for r in rows)}
    return {"P": p, "R": rec, "F1": f, "macro": sum(f1s) / len(f1s), "none": none,
            "never": never}


def mean(xs):
    return sum(xs) / len(xs)


def print_row(label, runs, trained=None):
    """One table row: the mean over runs, with the range of F1 and macro-F1
    when there are several."""
    def spread(key):
        vals = [s[key] for s in runs]
        text = f"{mean(vals):5.3f}"
        return text + (f" ({min(vals):.3f}-{max(vals):.3f})" if len(vals) > 1 else " " * 14)

    sizes, least = trained or ("-", "-")
    never = sorted(set().union(*(s["never"] for s in runs)))
    print(f"{label:10} {sizes:>9} {least:>5}  {mean([s['P'] for s in runs]):5.3f}"
          f"  {mean([s['R'] for s in runs]):5.3f}  {spread('F1')}  {spread('macro')}"
          f"  {mean([s['none'] for s in runs]):5.0%}  {' '.join(never) or '-'}")


def learning_curve(name, seeds, base, taxonomies, fine_tune, tune_sizes=None):
    start = time.time()
    load, tax_file = SETS[name]
    tax_path = taxonomies / tax_file
    taxonomy = tomllib.load(open(tax_path, "rb"))
    topics = [t["id"] for t in taxonomy["topic"]]
    test, pool = split(load())
    work = base / name
    work.mkdir(parents=True, exist_ok=True)
    cache = work / "embeddings.sqlite"
    analyze = ["--no-score", "--cache", str(cache)]

    untrained = score(test, run_verbatim(test, tax_path, work, analyze), topics)
    keywords = score(test, keyword_baseline(test, taxonomy), topics)
    curve = {}
    for n in SIZES:
        for k in range(seeds):
            sample, least = draw(pool, topics, n, SPLIT_SEED + k + 1)
            run = work / f"n{n}-seed{k}"
            run.mkdir(exist_ok=True)
            cal = train(sample, tax_path, run, cache, n)
            predicted = run_verbatim(test, tax_path, run, analyze + ["--topic-calibration", str(cal)])
            curve.setdefault(n, []).append((len(sample), least, score(test, predicted, topics)))
    tuned = []
    # Tuned models on the first draw of each n (by default only the
    # largest): minutes per fit on a CPU.
    for n in (tune_sizes or [SIZES[-1]]) if fine_tune else []:
        sample, least = draw(pool, topics, n, SPLIT_SEED + 1)
        run = work / f"n{n}-tuned{fine_tune}"
        run.mkdir(exist_ok=True)
        model = train(sample, tax_path, run, cache, n, fine_tune)
        predicted = run_verbatim(test, tax_path, run, analyze + ["--topic-model", str(model)])
        tuned.append((n, len(sample), least, score(test, predicted, topics)))

    gold_none = sum(1 for r in test if not r["gold"]) / len(test)
    print(f"\n{name}: test {len(test)} sentences (gold without a topic {gold_none:.0%}), "
          f"pool {len(pool)}, {seeds} seed(s), taxonomy {tax_path.name}")
    print(f"{'system':10} {'train':>9} {'min+':>5}  {'P':>5}  {'R':>5}  {'F1':19}  "
          f"{'macro-F1':19}  {'none':>5}  never predicted")
    print_row("untrained", [untrained])
    print_row("keywords", [keywords])
    for n, runs in curve.items():
        sizes = sorted({size for size, _, _ in runs})
        trained = (str(sizes[0]) if len(sizes) == 1 else f"{sizes[0]}-{sizes[-1]}",
                   min(least for _, least, _ in runs))
        print_row(f"n={n}", [s for _, _, s in runs], trained)
    for n, size, least, result in tuned:
        print_row(f"K={fine_tune} n={n}", [result], (str(size), least))
    gain = mean([s["F1"] for _, _, s in curve[SIZES[-1]]]) - keywords["F1"]
    print(f"{name}: F1 at n={SIZES[-1]} minus keywords: {gain:+.3f} (target +0.10); "
          f"{time.time() - start:.0f} s")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--set", action="append", choices=sorted(SETS))
    ap.add_argument("--seeds", type=int, default=2, help="training draws per n")
    ap.add_argument("--keep", help="folder to keep inputs, calibrations and outputs in")
    ap.add_argument("--fine-tune", type=int, metavar="K",
                    help="also tune the encoder's top K layers on the largest sample (one draw)")
    ap.add_argument("--fine-tune-sizes", help="with --fine-tune: the n to tune at, e.g. 8,32,128,512 "
                    "(default: the largest)")
    ap.add_argument("--taxonomies", default=str(TAXONOMIES),
                    help="folder with the sets' taxonomy files (default: benches/user_taxonomies)")
    args = ap.parse_args()
    base = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="verbatim-curve-"))
    for name in args.set or sorted(SETS):
        sizes = [int(x) for x in args.fine_tune_sizes.split(",")] if args.fine_tune_sizes else None
        learning_curve(name, args.seeds, base, Path(args.taxonomies).resolve(), args.fine_tune, sizes)
    print(f"\n(work folder: {base})")


if __name__ == "__main__":
    main()
