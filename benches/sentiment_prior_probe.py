#!/usr/bin/env python3
"""Would a shift of the sentiment head's class prior fix its neutral over-call?

Reads what `benches/dev_topics.py --set NAME --keep DIR` left in DIR (analyze's
`fact_response.csv`), rebuilds each comment's three class probabilities from
`sentiment`, `sentiment_score` (P(pos) - P(neg)) and `sentiment_confidence` (the
winning class's probability), and rescores the comment sentiment against the blind
labels (gold `mixed` left out) with the neutral probability multiplied by w, and with
the class prior re-estimated on the set itself by EM (Saerens, Latinne and
Decaestecker 2002; the head's training prior is 240 / 280 / 240 per language).
Prints macro-F1 / accuracy per setting, on all rows and without the rows whose text
repeats (BA's placeholder headline).

Usage: .venv/bin/python benches/sentiment_prior_probe.py ba_headers=DIR hotel_de=DIR ...
Needs ../shared/data/dev (through dev_topics.load_set).
"""
import collections
import csv
import sys

from dev_topics import load_set

CLASSES = ["negative", "neutral", "positive"]
TRAIN_PRIOR = [240 / 760, 280 / 760, 240 / 760]


def probabilities(label, score, confidence):
    if label == "neutral":
        rest = 1 - confidence
        p = [(rest - score) / 2, confidence, (rest + score) / 2]
    elif label == "positive":
        p = [confidence - score, 0.0, confidence]
        p[1] = 1 - p[0] - p[2]
    else:
        p = [confidence, 0.0, score + confidence]
        p[1] = 1 - p[0] - p[2]
    return [max(x, 1e-6) for x in p]


def macro_f1(pairs):
    f1s = []
    for k in CLASSES:
        tp = sum(1 for g, p in pairs if g == k and p == k)
        fp = sum(1 for g, p in pairs if g != k and p == k)
        fn = sum(1 for g, p in pairs if g == k and p != k)
        pr = tp / (tp + fp) if tp + fp else 0.0
        rc = tp / (tp + fn) if tp + fn else 0.0
        f1s.append(2 * pr * rc / (pr + rc) if pr + rc else 0.0)
    return sum(f1s) / 3, sum(1 for g, p in pairs if g == p) / len(pairs)


def em_prior(probs, rounds=100):
    pi = TRAIN_PRIOR[:]
    for _ in range(rounds):
        adjusted = []
        for p in probs:
            q = [p[k] * pi[k] / TRAIN_PRIOR[k] for k in range(3)]
            adjusted.append([x / sum(q) for x in q])
        pi = [sum(a[k] for a in adjusted) / len(adjusted) for k in range(3)]
    return pi


def argmax(weights):
    return CLASSES[max(range(3), key=lambda k: weights[k])]


def main():
    for arg in sys.argv[1:]:
        name, work = arg.split("=", 1)
        rows = load_set(name)
        gold = {r["id"]: r["sentiment"] for r in rows}
        text = {r["id"]: r["text"] for r in rows}
        repeats = collections.Counter(text.values())
        facts = csv.DictReader(open(f"{work}/out/fact_response.csv", newline=""))
        probs = {f["response_id"]: probabilities(f["sentiment"], float(f["sentiment_score"]),
                                                 float(f["sentiment_confidence"]))
                 for f in facts if f["sentiment"]}
        scored = [i for i in gold if gold[i] in CLASSES and i in probs]
        for subset, ids in (("all rows", scored),
                            ("without repeated texts", [i for i in scored if repeats[text[i]] == 1])):
            cells = []
            for w in (1.0, 0.8, 0.6, 0.5, 0.4, 0.3):
                pairs = [(gold[i], argmax([probs[i][0], probs[i][1] * w, probs[i][2]])) for i in ids]
                cells.append("w %.1f %.2f/%.2f" % ((w,) + macro_f1(pairs)))
            pi = em_prior([probs[i] for i in ids])
            pairs = [(gold[i], argmax([probs[i][k] * pi[k] / TRAIN_PRIOR[k] for k in range(3)])) for i in ids]
            cells.append("EM prior %s %.2f/%.2f" % (([round(x, 2) for x in pi],) + macro_f1(pairs)))
            print(f"{name} ({subset}, {len(ids)} rows), macro-F1/accuracy: " + "; ".join(cells))


if __name__ == "__main__":
    main()
