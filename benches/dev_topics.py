#!/usr/bin/env python3
"""Topics and sentiment of `verbatim analyze` against a blind-labelled dev set.

The labels in benches/dev/*.labels.csv were written by reading each comment
before any model ran on it (benches/dev/README.md says how and by whom); the
comments themselves are not in the repository (their licence does not allow
it) and are read from ../shared/data/dev. This bench needs that folder.

It runs the built binary (`target/release/verbatim analyze`, default model
and taxonomy, default settings) on the labelled comments and prints, per
topic: gold mentions, predicted mentions, precision, recall, F1; micro and
macro averages; the same rolled up to the taxonomy's group topics; the share
of comments without a topic (gold and predicted); the polarity of correctly
found topics; and comment sentiment against the labels (accuracy, per-class
F1, macro-F1 over negative/neutral/positive; `mixed` shown apart).

Usage: .venv/bin/python benches/dev_topics.py [--set ba_headers|all] [--keep DIR]
       [--analyze-args "--topic-model DIR --topic-threshold 0.5"]
(--analyze-args: extra flags for `verbatim analyze`, split on spaces; --set all: every
set's tables, then one summary line per set and their mean.)
"""

import argparse
import collections
import csv
import json
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared/data/dev"
VERBATIM = ROOT / "target/release/verbatim"
TAXONOMY = ROOT / "models/taxonomy/contact-center.toml"

# Where each labelled set's comments come from: file, id columns (joined by
# "/" into the row id), text column, score column and how a score maps onto
# 0-10 (the score is only passed to analyze, never to the labellers).
SOURCES = {
    "ba_headers": (
        SHARED / "ba_airline_reviews/BA_AirlineReviews.csv",
        ("ReviewID",),
        "ReviewHeader",
        "OverallRating",
        lambda s: s,
    ),
    # A second draw of 200 headlines, none of the first 400
    # (benches/dev/draw_ba_headers_b.py), labelled after the first.
    "ba_headers_b": (
        SHARED / "ba_airline_reviews/BA_AirlineReviews.csv",
        ("ReviewID",),
        "ReviewHeader",
        "OverallRating",
        lambda s: s,
    ),
    # German hotel-review sentences without a score: analysed with
    # --no-score. `test_index` is a row's place among the `test` rows
    # (benches/dev/draw_hotel_de.py).
    "hotel_de": (
        SHARED / "hotel_aspect_de/hotel_aspect_de.csv",
        ("test_index",),
        "text",
        None,
        None,
    ),
    "marc_de": (
        SHARED / "marc_de/marc_de_reviews.csv",
        ("source_split", "source_index"),
        "review_body",
        "stars",
        # 1-5 stars onto 0-10 as --scale 1-5 would: (s - 1) * 2.5, rounded.
        lambda s: str(round((int(s) - 1) * 2.5)),
    ),
}


def load_set(name):
    labels = list(csv.DictReader(open(ROOT / f"benches/dev/{name}.labels.csv", newline="")))
    path, id_cols, text_col, score_col, to_0_10 = SOURCES[name]
    if not path.is_file():
        sys.exit(f"{path} is missing: this bench reads the comments from ../shared/data/dev")
    key = lambda r: "/".join(r[c] for c in id_cols)
    reader = csv.DictReader(open(path, newline="", encoding="utf-8"))
    if id_cols == ("test_index",):
        reader = ({**r, "test_index": str(i)}
                  for i, r in enumerate(r for r in reader if r["split"] == "test"))
    source = {key(r): r for r in reader}
    # The labels name the id columns as the source does, except ba_headers' review_id.
    label_cols = ("review_id",) if "review_id" in labels[0] else id_cols
    rows = []
    for lab in labels:
        rid = "/".join(lab[c] for c in label_cols)
        src = source.get(rid)
        if src is None:
            sys.exit(f"{name}: id {rid} is not in {path}")
        text = src[text_col].strip().strip('"').strip()
        score = to_0_10(src[score_col]) if score_col else ""
        topics = {}
        for part in filter(None, lab["topics"].split("|")):
            tid, pol = part.split(":")
            topics[tid] = pol
        rows.append({"id": rid, "text": text, "score": score,
                     "topics": topics, "sentiment": lab["sentiment"]})
    return rows


def prf(tp, fp, fn):
    p = tp / (tp + fp) if tp + fp else float("nan")
    r = tp / (tp + fn) if tp + fn else float("nan")
    f = 2 * p * r / (p + r) if tp and p + r else 0.0
    return p, r, f


def score_topics(rows, predicted, roll):
    """Per-topic counts of (tp, fp, fn) after mapping ids through roll."""
    counts = collections.defaultdict(lambda: [0, 0, 0])
    for r in rows:
        gold = {roll(t) for t in r["topics"]}
        pred = {roll(t) for t in predicted.get(r["id"], {})}
        for t in gold & pred:
            counts[t][0] += 1
        for t in pred - gold:
            counts[t][1] += 1
        for t in gold - pred:
            counts[t][2] += 1
    return counts


def print_table(title, counts):
    print(f"\n{title}")
    print(f"{'topic':24} {'gold':>5} {'pred':>5} {'prec':>6} {'rec':>6} {'F1':>6}")
    f1s = []
    for t in sorted(counts, key=lambda t: -(counts[t][0] + counts[t][2])):
        tp, fp, fn = counts[t]
        p, r, f = prf(tp, fp, fn)
        if tp + fn:
            f1s.append(f)
        print(f"{t:24} {tp + fn:5} {tp + fp:5} {p:6.2f} {r:6.2f} {f:6.2f}")
    tp, fp, fn = (sum(c[i] for c in counts.values()) for i in range(3))
    p, r, f = prf(tp, fp, fn)
    macro = sum(f1s) / len(f1s) if f1s else float("nan")
    print(f"{'micro':24} {tp + fn:5} {tp + fp:5} {p:6.2f} {r:6.2f} {f:6.2f}   macro-F1 {macro:.2f}")
    return p, r, f


def sentiment_table(pairs, per_class):
    """Per-class and macro scores of (gold, predicted) sentiment pairs; gold mixed left out."""
    classes = ["negative", "neutral", "positive"]
    f1s = []
    for c in classes:
        tp = sum(1 for g, p in pairs if g == c and p == c)
        fp = sum(1 for g, p in pairs if g != c and g in classes and p == c)
        fn = sum(1 for g, p in pairs if g == c and p != c)
        p, r, f = prf(tp, fp, fn)
        f1s.append(0.0 if f != f else f)
        if per_class or c == "neutral":
            print(f"{c:10} gold {tp + fn:4}  prec {p:.2f}  rec {r:.2f}  F1 {f:.2f}")
    scored = [(g, p) for g, p in pairs if g in classes]
    acc = sum(g == p for g, p in scored) / len(scored)
    print(f"accuracy {acc:.2f}, macro-F1 {sum(f1s) / 3:.2f} on {len(scored)} rows")
    return sum(f1s) / 3


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--set", default="ba_headers", choices=sorted(SOURCES) + ["all"],
                    help="one set, or all: each set's tables, then one line per set")
    ap.add_argument("--keep", help="folder to keep the input and analyze's output in "
                                   "(with --set all, one subfolder per set)")
    ap.add_argument("--analyze-args", default="",
                    help="extra flags for verbatim analyze, split on spaces (e.g. --topic-model DIR)")
    args = ap.parse_args()
    if args.set != "all":
        run_set(args.set, args.keep, args.analyze_args)
        return
    results = []
    for name in SOURCES:
        keep = str(Path(args.keep) / name) if args.keep else None
        results.append(run_set(name, keep, args.analyze_args))
        print()
    print("| set | topics micro P / R / F1 | polarity of found topics | topic:polarity F1 | "
          "comment sentiment macro-F1 |")
    print("|---|---|---|---|---|")
    for r in results:
        print(f"| {r['set']} | {r['micro'][0]:.2f} / {r['micro'][1]:.2f} / {r['micro'][2]:.2f} | "
              f"{r['polarity']:.2f} | {r['pairs_f1']:.2f} | {r['sentiment_macro_f1']:.2f} |")
    mean = lambda k, i=None: sum((r[k][i] if i is not None else r[k]) for r in results) / len(results)
    print(f"| mean of {len(results)} | {mean('micro', 0):.3f} / {mean('micro', 1):.3f} / "
          f"{mean('micro', 2):.3f} | {mean('polarity'):.3f} | {mean('pairs_f1'):.3f} | "
          f"{mean('sentiment_macro_f1'):.3f} |")


def run_set(name, keep, analyze_args):
    """Prints one set's tables; returns its headline figures."""
    rows = load_set(name)
    work = Path(keep) if keep else Path(tempfile.mkdtemp(prefix="verbatim-dev-"))
    work.mkdir(parents=True, exist_ok=True)
    data = work / "input.csv"
    with open(data, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["response_id", "score", "comment"])
        for r in rows:
            w.writerow([r["id"], r["score"], r["text"]])
    out = work / "out"
    extra = analyze_args.split()
    if not any(r["score"] for r in rows):
        extra.append("--no-score")
    proc = subprocess.run([str(VERBATIM), "analyze", str(data), "--out", str(out), "--quiet", *extra],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"verbatim analyze failed ({proc.returncode}):\n{proc.stderr}")
    predicted = collections.defaultdict(dict)
    for b in csv.DictReader(open(out / "bridge_response_topic.csv", newline="")):
        predicted[b["response_id"]][b["topic_id"]] = b["polarity"]
    facts = list(csv.DictReader(open(out / "fact_response.csv", newline="")))
    sentiment = {f["response_id"]: f["sentiment"] for f in facts}
    mixed_pred = {f["response_id"] for f in facts if f.get("sentiment_mixed") == "true"}

    tax = tomllib.load(open(TAXONOMY, "rb"))
    parent = {t["id"]: t.get("parent") for t in tax["topic"]}

    def root(t):
        while parent.get(t):
            t = parent[t]
        return t

    n = len(rows)
    print(f"{name}: {n} comments labelled blind; verbatim analyze with the default model and taxonomy, "
          + (f"flags {' '.join(extra)}" if extra else "default settings"))
    gold_none = sum(1 for r in rows if not r["topics"])
    pred_none = sum(1 for r in rows if not predicted.get(r["id"]))
    print(f"no topic: gold {gold_none / n:.0%}, predicted {pred_none / n:.0%}")
    micro = print_table("Topics (exact ids)", score_topics(rows, predicted, lambda t: t))
    from user_taxonomy import keyword_baseline
    keywords = keyword_baseline(rows, tax, whole_words=True)
    print_table("Keyword baseline: the taxonomy's `must` keywords as whole words "
                "(topics without keywords are never found)",
                score_topics(rows, keywords, lambda t: t))
    print_table("Topics rolled up to their group", score_topics(rows, predicted, root))

    right = total = 0
    for r in rows:
        for t, pol in r["topics"].items():
            if t in predicted.get(r["id"], {}):
                total += 1
                right += predicted[r["id"]][t] == pol
    print(f"\npolarity of correctly found topics: {right}/{total} = {right / total:.2f}" if total else "\nno topic found correctly")
    # Topic and polarity together: a mention counts only when both are right,
    # which is what a driver table rests on.
    gold_pairs = sum(len(r["topics"]) for r in rows)
    pred_pairs = sum(len(predicted.get(r["id"], {})) for r in rows)
    p, rc, pairs_f1 = prf(right, pred_pairs - right, gold_pairs - right)
    print(f"topic:polarity pairs (both right): precision {p:.2f}, recall {rc:.2f}, F1 {pairs_f1:.2f}")

    pairs = [(r["sentiment"], sentiment.get(r["id"], "")) for r in rows]
    print("\nComment sentiment (gold rows negative/neutral/positive)")
    sentiment_f1 = sentiment_table(pairs, True)
    # A text repeated 5 times or more is a placeholder of the source (BA's headline
    # "British Airways customer review"): scored apart as well, so that it cannot
    # carry the figure alone.
    repeats = collections.Counter(r["text"] for r in rows)
    placeholders = {t for t, k in repeats.items() if k >= 5}
    if placeholders:
        kept = [(r["sentiment"], sentiment.get(r["id"], "")) for r in rows if r["text"] not in placeholders]
        print(f"without the {len(rows) - len(kept)} rows of repeated texts ({', '.join(map(repr, sorted(placeholders)))}):")
        sentiment_table(kept, False)
    mixed = [p for g, p in pairs if g == "mixed"]
    print(f"mixed (gold): {len(mixed)}, predicted as {dict(collections.Counter(mixed))}")
    gold_mixed = {r["id"] for r in rows if r["sentiment"] == "mixed"}
    p, rc, f = prf(len(gold_mixed & mixed_pred), len(mixed_pred - gold_mixed), len(gold_mixed - mixed_pred))
    print(f"sentiment_mixed: gold {len(gold_mixed)}, flagged {len(mixed_pred)}, precision {p:.2f}, recall {rc:.2f}, F1 {f:.2f}")
    summary = {"set": name, "rows": n, "work": str(work)}
    print(json.dumps(summary))
    return {"set": name, "micro": micro, "polarity": right / total if total else float("nan"),
            "pairs_f1": pairs_f1, "sentiment_macro_f1": sentiment_f1}


if __name__ == "__main__":
    main()
