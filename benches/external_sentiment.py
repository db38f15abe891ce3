#!/usr/bin/env python3
"""Comment sentiment on two public sets labelled by others (evaluation only).

- GermEval 2017 (German posts, tweets and news about Deutsche Bahn, sentiment
  towards the railway; CC BY-NC, evaluation only): its `dev.tsv` (URL, text,
  relevance, sentiment, aspects; tab-separated), as published for instance in
  the public repository davidsbatista/GermEval-2017-Aspect-Based-Sentiment-Analysis
  (`data_tsv/dev.tsv`). Rows whose relevance is `true`.
- Twitter US Airline Sentiment (customer tweets to six US airlines; CC BY-NC-SA,
  evaluation only): its `Tweets.csv` (`text`, `airline_sentiment`).

Neither ships with the project: pass the files you have. For each, a sample of
--n rows drawn with --seed is written as `text,label` and scored by
`verbatim eval sentiment` (the head next to the prototypes and the majority rule).

Usage: .venv/bin/python benches/external_sentiment.py [--germeval dev.tsv]
           [--tweets Tweets.csv] [--n 600] [--seed 7] [-- extra eval flags]
"""
import argparse
import csv
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VERBATIM = Path(os.environ.get("VERBATIM", ROOT / "target/release/verbatim"))


def germeval_documents(path):
    """GermEval 2017's relevant documents: text, sentiment and the set of aspect
    categories (also read by benches/user_taxonomy.py, set rail)."""
    docs = []
    with open(path, newline="", encoding="utf-8") as f:
        for line in f:
            p = line.rstrip("\n").split("\t")
            if len(p) >= 4 and p[2] == "true":
                cats = {a.split("#")[0] for a in (p[4].split() if len(p) > 4 else [])}
                docs.append({"text": p[1], "sentiment": p[3], "categories": cats})
    return docs


def airline_tweets(path):
    """Twitter US Airline Sentiment's rows as read from its CSV (also read by
    benches/user_taxonomy.py, set airline)."""
    with open(path, newline="", encoding="utf-8", errors="replace") as f:
        return list(csv.DictReader(f))


def germeval(path):
    return [(d["text"], d["sentiment"]) for d in germeval_documents(path)]


def tweets(path):
    return [(r["text"], r["airline_sentiment"]) for r in airline_tweets(path)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--germeval", help="GermEval 2017 dev.tsv")
    ap.add_argument("--tweets", help="Twitter US Airline Sentiment Tweets.csv")
    ap.add_argument("--n", type=int, default=600)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("extra", nargs="*", help="flags passed on to verbatim eval sentiment")
    args = ap.parse_args()
    sets = [(name, load, path) for name, load, path in
            [("germeval2017", germeval, args.germeval), ("airline_tweets", tweets, args.tweets)] if path]
    if not sets:
        sys.exit("give --germeval and/or --tweets")
    work = Path(tempfile.mkdtemp(prefix="verbatim-external-"))
    for name, load, path in sets:
        rows = load(path)
        sample = random.Random(args.seed).sample(rows, min(args.n, len(rows)))
        data = work / f"{name}.csv"
        with open(data, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(["text", "label"])
            w.writerows(sample)
        print(f"== {name}: {len(sample)} of {len(rows)} rows (seed {args.seed})", flush=True)
        out = subprocess.run([str(VERBATIM), "eval", "sentiment", "--data", str(data), *args.extra],
                             capture_output=True, text=True)
        if out.returncode != 0:
            sys.exit(f"verbatim eval sentiment failed ({out.returncode}):\n{out.stderr}")
        print(out.stdout, end="", flush=True)


if __name__ == "__main__":
    main()
