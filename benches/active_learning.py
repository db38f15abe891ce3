#!/usr/bin/env python3
"""A user's own taxonomy with a few labels: which comments to label?

Issue 14's way 5 (active learning): `verbatim train suggest --near-boundary
0.75` picks the comments of an export whose labels should teach a topic
calibration most (three quarters near each topic's decision boundary, topics
taking turns, a quarter at random; without the flag it draws at random).
This bench measures whether a calibration fitted on its picks beats one
fitted on as many comments drawn at random, the way a user without the
command would label, at budgets of 50, 100 and 200 labelled comments.

It uses the aspect-labelled sets and taxonomies of benches/user_taxonomy.py
(SemEval-2016 restaurants and laptops, German hotel aspects; sentences read
from ../shared/data/dev, which this bench needs) and the fixed test part and
pool of benches/learning_curve.py. The sets' own labels stand in for the
person who labels the picked comments (evaluation only).

Per set and budget B it prints micro P/R/F1, macro-F1 and the share without a
topic on the test part, the mean over --seeds draws (range of F1), for:
  random      B pool sentences drawn at random, labelled, `train topics`;
  suggest     `train suggest --near-boundary 0.75 --n B` on the pool (similarity rule), labelled,
              `train topics`;
  suggest x2  B/2 suggested, fitted; then B/2 more suggested with that
              calibration (`--topic-calibration`, `--exclude` the first file),
              fitted on all B;
next to the untrained rule and the keyword baseline.

With --fine-tune K each fit is a topic model instead (`train topics
--fine-tune K` plus --train-args), scored with `analyze --topic-model`.

Usage: .venv/bin/python benches/active_learning.py [--set S] [--seeds K] [--keep DIR]
           [--budgets 50,100,200] [--systems random,suggest,"suggest x2"]
           [--fine-tune K [--train-args "--epochs E --folds F"]]
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
from learning_curve import SPLIT_SEED, print_row, score, split  # noqa: E402
from user_taxonomy import SETS, TAXONOMIES, VERBATIM, keyword_baseline, run_verbatim  # noqa: E402

BUDGETS = (50, 100, 200)


def run(cmd):
    proc = subprocess.run([str(VERBATIM), *cmd], capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"verbatim {' '.join(cmd[:2])} failed ({proc.returncode}):\n{proc.stderr}")
    return proc.stdout


def write_labelled(path, rows):
    """`rows` with their gold topics as a labelled CSV (text, topics), as a
    person would have labelled them; returns `path`."""
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["text", "topics"])
        for r in rows:
            w.writerow([r["text"], "|".join(sorted(r["gold"])) or "none"])
    return path


def fit(sample, tax_path, work, cache, tune=None):
    """A calibration fitted on `sample` (rows with their gold topics), or
    with `tune` (K, extra flags) a topic model: the encoder's top K layers
    tuned (`train topics --fine-tune K`)."""
    data = write_labelled(work / "train.csv", sample)
    if tune:
        k, extra = tune
        model = work / "topic-model"
        run(["train", "topics", "--taxonomy", str(tax_path), "--data", str(data), "--out", str(model),
             "--fine-tune", str(k), *extra])
        return model
    cal = work / "calibration.json"
    folds = "3" if len(sample) < 100 else "5"
    run(["train", "topics", "--taxonomy", str(tax_path), "--data", str(data), "--out", str(cal),
         "--folds", folds, "--cache", str(cache)])
    return cal


def suggest(pool_csv, by_id, tax_path, work, cache, n, seed, calibration=None, exclude=()):
    """The pool rows `train suggest` picks, labelled from the gold."""
    out = work / "to-label.csv"
    cmd = ["train", "suggest", str(pool_csv), "--id-column", "id", "--text-column", "comment",
           "--near-boundary", "0.75",
           "--taxonomy", str(tax_path), "--n", str(n), "--seed", str(seed), "--out", str(out),
           "--cache", str(cache)]
    if calibration:
        cmd += ["--topic-calibration", str(calibration)]
    for e in exclude:
        cmd += ["--exclude", str(e)]
    (work / "suggest.log").write_text(run(cmd), encoding="utf-8")
    picked = [by_id[r["id"]] for r in csv.DictReader(open(out, newline="", encoding="utf-8"))]
    # The file a person would have labelled, for --exclude of the next round.
    return picked, write_labelled(work / "labelled.csv", picked)


def bench(name, seeds, base, taxonomies, budgets=BUDGETS, tune=None, systems=("random", "suggest", "suggest x2")):
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
    pool_csv = work / "pool.csv"
    with open(pool_csv, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["id", "comment"])
        for r in pool:
            w.writerow([r["id"], r["text"]])
    by_id = {r["id"]: r for r in pool}

    def evaluate(cal, run_dir):
        flag = "--topic-model" if tune else "--topic-calibration"
        return score(test, run_verbatim(test, tax_path, run_dir, analyze + [flag, str(cal)]), topics)

    untrained = score(test, run_verbatim(test, tax_path, work, analyze), topics)
    keywords = score(test, keyword_baseline(test, taxonomy), topics)
    results = {}
    for b in budgets:
        for k in range(seeds):
            seed = SPLIT_SEED + k + 1
            d = work / (f"b{b}-seed{k}" + (f"-tuned{tune[0]}" if tune else ""))
            for sub in ("random", "suggest", "round1", "round2"):
                (d / sub).mkdir(parents=True, exist_ok=True)
            if "random" in systems:
                order = pool[:]
                random.Random(seed).shuffle(order)
                sample = order[:b]
                results.setdefault((b, "random"), []).append(
                    evaluate(fit(sample, tax_path, d / "random", cache, tune), d / "random"))
            if "suggest" in systems:
                picked, _ = suggest(pool_csv, by_id, tax_path, d / "suggest", cache, b, seed)
                results.setdefault((b, "suggest"), []).append(
                    evaluate(fit(picked, tax_path, d / "suggest", cache, tune), d / "suggest"))
            if "suggest x2" in systems:
                # The second round is suggested by a calibration of the first.
                first, labelled = suggest(pool_csv, by_id, tax_path, d / "round1", cache, b // 2, seed)
                cal1 = fit(first, tax_path, d / "round1", cache)
                second, _ = suggest(pool_csv, by_id, tax_path, d / "round2", cache, b - b // 2, seed,
                                    calibration=cal1, exclude=[labelled])
                results.setdefault((b, "suggest x2"), []).append(
                    evaluate(fit(first + second, tax_path, d / "round2", cache, tune), d / "round2"))

    gold_none = sum(1 for r in test if not r["gold"]) / len(test)
    print(f"\n{name}: test {len(test)} sentences (gold without a topic {gold_none:.0%}), "
          f"pool {len(pool)}, {seeds} seed(s), taxonomy {tax_path.name}")
    print(f"{'system':10} {'labels':>9} {'':>5}  {'P':>5}  {'R':>5}  {'F1':19}  "
          f"{'macro-F1':19}  {'none':>5}  never predicted")
    print_row("untrained", [untrained])
    print_row("keywords", [keywords])
    for (b, system), runs in results.items():
        print_row(system, runs, (str(b), "-"))
    print(f"{name}: {time.time() - start:.0f} s")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--set", action="append", choices=sorted(SETS))
    ap.add_argument("--seeds", type=int, default=2, help="draws per budget and system")
    ap.add_argument("--keep", help="folder to keep inputs, calibrations and outputs in")
    ap.add_argument("--taxonomies", default=str(TAXONOMIES),
                    help="folder with the sets' taxonomy files (default: benches/user_taxonomies)")
    ap.add_argument("--budgets", default=",".join(map(str, BUDGETS)),
                    help="labelled comments per fit, comma-separated")
    ap.add_argument("--systems", default="random,suggest,suggest x2",
                    help="which of random, suggest, suggest x2 to run, comma-separated")
    ap.add_argument("--fine-tune", type=int, metavar="K",
                    help="fit topic models (`train topics --fine-tune K`) instead of calibrations")
    ap.add_argument("--train-args", default="",
                    help="more flags for `train topics --fine-tune`, e.g. \"--epochs 15 --folds 2\"")
    args = ap.parse_args()
    base = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="verbatim-active-"))
    tune = (args.fine_tune, args.train_args.split()) if args.fine_tune else None
    for name in args.set or sorted(SETS):
        bench(name, args.seeds, base, Path(args.taxonomies).resolve(),
              [int(b) for b in args.budgets.split(",")], tune, args.systems.split(","))
    print(f"\n(work folder: {base})")


if __name__ == "__main__":
    main()
