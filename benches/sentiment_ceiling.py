#!/usr/bin/env python3
"""How far a sentiment head on the default encoder's vectors can go when it
is trained on the evaluation sets' own domain: an upper bound for the head
that ships (trained on the project's own comments, never on these sets).

For each development set it writes two disjoint labelled CSVs (text,label):
`eval.csv` (the rows scored) and `train.csv` (rows of the same domain, up to
--train rows, balanced by class where the set allows), then runs

    verbatim train sentiment --data train.csv --out head.json
    verbatim eval sentiment --data eval.csv --sentiment-head head.json

and prints, per set, the macro-F1 of the in-domain head next to the shipped
head and the prototype baseline on the same eval rows. The heads written here
are measurements only: MARC is for research use, nothing trained on it ships.

Usage: benches/sentiment_ceiling.py [--train 2000] [--eval 1000] [--work DIR]
       [--sets marc_en,marc_de,hotel,restaurants,laptops] [--cache FILE]
"""
import argparse
import csv
import json
import os
import random
import subprocess
import sys

DEV = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "dev")
STARS = {"1": "negative", "2": "negative", "3": "neutral", "4": "positive", "5": "positive"}


def marc(lang):
    rows = list(csv.DictReader(open(f"{DEV}/marc_{lang}/marc_{lang}_reviews.csv", encoding="utf-8")))
    test = [(r["review_body"], STARS[r["stars"]]) for r in rows if r["source_split"] == "marc_test"]
    train = [(r["review_body"], STARS[r["stars"]]) for r in rows if r["source_split"] != "marc_test"]
    return test, train


def hotel():
    rows = list(csv.DictReader(open(f"{DEV}/hotel_aspect_de/hotel_aspect_de.csv", encoding="utf-8")))
    def unmixed(split):
        out = []
        for r in rows:
            if r["split"] not in split:
                continue
            pols = set(p for p in r["polarities"].split("|") if p)
            if len(pols) == 1:
                p = pols.pop()
                label = {"positiv": "positive", "negativ": "negative", "neutral": "neutral"}.get(p)
                if label:
                    out.append((r["text"], label))
        return out
    return unmixed({"test"}), unmixed({"train", "dev"})


def semeval(domain):
    rows = list(csv.DictReader(open(f"{DEV}/semeval_absa_en/semeval_en_{domain}16_sentences.csv", encoding="utf-8")))
    out = []
    for r in rows:
        pols = set(p.rsplit(":", 1)[1] for p in r["category_polarities"].split("|") if ":" in p)
        if len(pols) == 1:
            p = pols.pop()
            if p in ("positive", "negative", "neutral"):
                out.append((r["text"], p))
    # One pool: the eval rows are drawn from it and the rest trains,
    # keeping the sentences of one review on one side.
    return out, None


def balanced(rows, n, rnd):
    by = {}
    for t, l in rows:
        by.setdefault(l, []).append((t, l))
    for v in by.values():
        rnd.shuffle(v)
    out = []
    while len(out) < n and any(by.values()):
        for l in sorted(by):
            if by[l] and len(out) < n:
                out.append(by[l].pop())
    rnd.shuffle(out)
    return out


def write(path, rows):
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["text", "label"])
        w.writerows(rows)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--train", type=int, default=2000)
    ap.add_argument("--eval", type=int, default=1000)
    ap.add_argument("--work", default="/tmp/verbatim-sentiment-ceiling")
    ap.add_argument("--sets", default="marc_en,marc_de,hotel,restaurants,laptops")
    ap.add_argument("--cache", default=None)
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args()
    exe = os.path.join(os.path.dirname(__file__), "..", "target", "release", "verbatim")
    os.makedirs(a.work, exist_ok=True)
    cache = ["--cache", a.cache or os.path.join(a.work, "cache.sqlite")]
    sources = {
        "marc_en": lambda: marc("en"),
        "marc_de": lambda: marc("de"),
        "hotel": hotel,
        "restaurants": lambda: semeval("restaurants"),
        "laptops": lambda: semeval("laptops"),
    }
    results = []
    for name in a.sets.split(","):
        rnd = random.Random(a.seed)
        test, train = sources[name]()
        rnd.shuffle(test)
        ev = test[: a.eval]
        if train is None:
            train = test[a.eval:]
        seen = set(t for t, _ in ev)
        train = [(t, l) for t, l in train if t not in seen]
        tr = balanced(train, a.train, rnd)
        d = os.path.join(a.work, name)
        os.makedirs(d, exist_ok=True)
        write(f"{d}/eval.csv", ev)
        write(f"{d}/train.csv", tr)
        t = subprocess.run([exe, "train", "sentiment", "--data", f"{d}/train.csv", "--out", f"{d}/head.json", *cache],
                           capture_output=True, text=True)
        if t.returncode != 0:
            sys.exit(f"{name}: train failed:\n{t.stderr}")
        head = json.load(open(f"{d}/head.json"))
        shipped = subprocess.run([exe, "eval", "sentiment", "--data", f"{d}/eval.csv", *cache],
                                 capture_output=True, text=True)
        inside = subprocess.run([exe, "eval", "sentiment", "--data", f"{d}/eval.csv", "--sentiment-head", f"{d}/head.json", *cache],
                                capture_output=True, text=True)
        for p in (shipped, inside):
            if p.returncode != 0:
                sys.exit(f"{name}: eval failed:\n{p.stderr}")
        open(f"{d}/eval-shipped.txt", "w").write(shipped.stdout)
        open(f"{d}/eval-in-domain.txt", "w").write(inside.stdout)
        open(f"{d}/train.txt", "w").write(t.stdout + t.stderr)
        results.append((name, len(ev), len(tr), shipped.stdout, inside.stdout, head))
        print(f"{name}: done ({len(ev)} eval, {len(tr)} train)", file=sys.stderr)
    for name, n_ev, n_tr, shipped, inside, head in results:
        print(f"== {name}: {n_ev} eval rows, in-domain head trained on {n_tr} rows "
              f"(its own cross-validated macro-F1 {head.get('cv_macro_f1')})")
        print("-- shipped head and baselines:\n" + shipped)
        print("-- in-domain head:\n" + inside)


if __name__ == "__main__":
    main()
