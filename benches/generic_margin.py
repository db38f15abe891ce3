#!/usr/bin/env python3
"""How the generic-verdict margin (GENERIC_MARGIN in src/classify/topics.rs)
trades labelled mentions against comments without a topic.

Runs examples/generic_probe.rs (default model and taxonomy) on the project's
own labelled rows, models/taxonomy/train/contact-center/*.csv, and prints
for several margins: how many labelled mentions would lose every clause
they could be found in (a clause is a generic verdict when its best cosine
to models/generic-phrases.txt is at least its best topic cosine plus the
margin; `must` keywords, which exempt a clause, are not counted here, so
this is an upper bound), and how many rows without a topic would be barred
whole. Needs nothing outside the repository.

Usage: .venv/bin/python benches/generic_margin.py
"""

import csv
import glob
import json
import os
import subprocess
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main():
    env = dict(os.environ, LIBTORCH_USE_PYTORCH="1")
    subprocess.run(["cargo", "build", "--release", "--quiet", "--example", "generic_probe"],
                   cwd=ROOT, check=True, env=env)
    tax = tomllib.load(open(ROOT / "models/taxonomy/contact-center.toml", "rb"))
    ids = [t["id"] for t in tax["topic"]]
    rows = []
    for f in sorted(glob.glob(str(ROOT / "models/taxonomy/train/contact-center/*.csv"))):
        rows += list(csv.DictReader(open(f, newline="", encoding="utf-8")))
    work = Path(tempfile.mkdtemp(prefix="verbatim-generic-"))
    (work / "texts.txt").write_text("".join(r["text"].replace("\n", " ") + "\n" for r in rows))
    subprocess.run([str(ROOT / "target/release/examples/generic_probe"),
                    str(work / "texts.txt"), str(work / "probe.jsonl")], check=True, env=env)
    probe = [json.loads(line) for line in open(work / "probe.jsonl")]
    print(f"{len(rows)} labelled rows of models/taxonomy/train/contact-center")
    print(f"{'margin':>7} {'mentions losing every clause':>30} {'rows without topic barred':>27}")
    for m in [0.0, 0.01, 0.02, 0.03, 0.04]:
        def verdict(c):
            top = max((s for s in c["sims"] if s is not None), default=float("-inf"))
            return c["gsim"] >= top + m
        lost = total = none = none_barred = 0
        for r, p in zip(rows, probe):
            gold = [t for t in r["topics"].split("|") if t]
            if not gold:
                none += 1
                none_barred += all(verdict(c) for c in p["clauses"])
                continue
            for t in gold:
                ti = ids.index(t)
                allowed = [c for c in p["clauses"] if c["sims"][ti] is not None]
                if allowed:
                    total += 1
                    lost += all(verdict(c) for c in allowed)
        print(f"{m:7.2f} {f'{lost}/{total}':>30} {f'{none_barred}/{none}':>27}")


if __name__ == "__main__":
    main()
