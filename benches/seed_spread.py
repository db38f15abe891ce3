#!/usr/bin/env python3
"""Compare topic-model recipes over several seeds, not one run.

Retraining the shipped command with another seed moves a blind dev set's micro-F1
by up to 0.06 (benches/FINETUNE.md, stop 22), so one run per recipe says little.
This bench scores topic-model folders on the four blind dev sets
(benches/dev_topics.py) and on BANKING77's test split (benches/banking77_topics.py),
and prints per folder micro P / R / F1 and, per recipe, the mean and range over its
seeds. With --train it first trains one folder per seed:
`verbatim train topics --fine-tune ... --seed S --out WORK/RECIPE-sS`.

Usage:
  .venv/bin/python benches/seed_spread.py --models k2=DIR,DIR,DIR --models k1=DIR,DIR
  .venv/bin/python benches/seed_spread.py --train k1="--fine-tune 1 --epochs 6 --folds 3 --must-gates on" \\
      --seeds 20261201,7,11 [--work DIR] [--analyze-args "--topic-threshold 0.55"]
Needs ../shared/data/dev for the dev sets; training takes about 3 minutes per seed
on two cores.
"""
import argparse
import json
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VERBATIM = ROOT / "target/release/verbatim"
SETS = ["ba_headers", "ba_headers_b", "hotel_de", "marc_de"]
MICRO = re.compile(r"^micro\s+\d+\s+\d+\s+([\d.]+|nan)\s+([\d.]+|nan)\s+([\d.]+)", re.M)


def micro(script, args):
    out = subprocess.run([sys.executable, str(ROOT / "benches" / script), *args],
                         capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"{script} {' '.join(args)} failed:\n{out.stderr}")
    return tuple(float(x) for x in MICRO.search(out.stdout).groups())


def score(model, extra=""):
    flags = ["--analyze-args", f"--topic-model {model} {extra}".strip()]
    row = {s: micro("dev_topics.py", ["--set", s, *flags]) for s in SETS}
    row["banking77"] = micro("banking77_topics.py", flags)
    return row


def threshold(model):
    meta = Path(model) / "topic-model.json"
    return json.loads(meta.read_text())["threshold"] if meta.is_file() else "?"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", action="append", default=[], help="RECIPE=DIR,DIR,...")
    ap.add_argument("--train", action="append", default=[], help='RECIPE="train topics flags"')
    ap.add_argument("--seeds", default="20261201,7,11")
    ap.add_argument("--work", help="folder for trained models (default: a new temporary one)")
    ap.add_argument("--analyze-args", default="",
                    help='extra flags for every analyze run, e.g. "--topic-threshold 0.55" (one '
                         'threshold for all models, to tell rows from their chosen threshold)')
    args = ap.parse_args()
    recipes = {}
    for m in args.models:
        name, dirs = m.split("=", 1)
        recipes[name] = dirs.split(",")
    work = Path(args.work or tempfile.mkdtemp(prefix="verbatim-seeds-"))
    for t in args.train:
        name, flags = t.split("=", 1)
        recipes[name] = []
        for seed in args.seeds.split(","):
            out = work / f"{name}-s{seed}"
            cmd = [str(VERBATIM), "train", "topics", *flags.split(), "--seed", seed, "--out", str(out)]
            proc = subprocess.run(cmd, capture_output=True, text=True)
            if proc.returncode != 0:
                sys.exit(f"{' '.join(cmd)} failed:\n{proc.stderr}")
            recipes[name].append(str(out))
    columns = SETS + ["banking77"]
    summaries = []
    print("micro P / R / F1 per model; per recipe the mean F1 (min-max) and mean precision")
    print("| model | " + " | ".join(columns) + " |")
    print("|---" * (len(columns) + 1) + "|")
    for name, dirs in recipes.items():
        rows = [score(d, args.analyze_args) for d in dirs]
        for d, row in zip(dirs, rows):
            print(f"| {name}: {d} | " + " | ".join("%.2f / %.2f / %.2f" % row[c] for c in columns) + " |")
        cells = []
        for c in columns:
            f1 = [r[c][2] for r in rows]
            p = [r[c][0] for r in rows]
            cells.append(f"F1 {statistics.mean(f1):.3f} ({min(f1):.2f}–{max(f1):.2f}), P {statistics.mean(p):.3f}")
        print(f"| **{name}, mean of {len(rows)}** | " + " | ".join(cells) + " |")
        summaries.append((name, rows, dirs))
    # The figures a shipping rule compares (benches/trials/stop26-rules.txt): the
    # mean over seeds of the four dev sets' mean micro precision and F1, and of
    # BANKING77's F1; and the threshold each file chose out of fold (what
    # --analyze-args "--topic-threshold X" overrides).
    print()
    for name, rows, dirs in summaries:
        dev_p = statistics.mean(statistics.mean(r[s][0] for s in SETS) for r in rows)
        dev_f = statistics.mean(statistics.mean(r[s][2] for s in SETS) for r in rows)
        b77 = statistics.mean(r["banking77"][2] for r in rows)
        chosen = ", ".join(f"{threshold(d)}" for d in dirs)
        print(f"{name}: four-set dev P {dev_p:.3f}, F1 {dev_f:.3f}; BANKING77 F1 {b77:.3f}; "
              f"thresholds chosen {chosen}")


if __name__ == "__main__":
    main()
