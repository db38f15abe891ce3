#!/usr/bin/env python3
"""Compare verbatim's driver ranking on the BA airline reviews with the
ranking of the sub-ratings by their correlation with the overall rating.

Usage: benches/ba_driver_check.py BA_AirlineReviews.csv OUT_DIR
where OUT_DIR is the output of
  verbatim analyze BA_AirlineReviews.csv --out OUT_DIR --score-column OverallRating \
    --text-column ReviewBody --id-column ReviewID --scale 1-10 \
    --taxonomy tests/data/airline/airline.toml
Prints both rankings and Spearman's rank correlation between them (standard
library only: Pearson on ranks, ties averaged)."""
import csv
import math
import sys

PAIRS = [  # sub-rating column -> topic id of tests/data/airline/airline.toml
    ("SeatComfort", "seat_comfort"),
    ("CabinStaffService", "cabin_staff"),
    ("GroundService", "ground_service"),
    ("ValueForMoney", "value_for_money"),
    ("Food&Beverages", "food"),
    ("InflightEntertainment", "entertainment"),
    ("Wifi&Connectivity", "wifi"),
]


def ranks(xs):
    order = sorted(range(len(xs)), key=lambda i: xs[i])
    r = [0.0] * len(xs)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and xs[order[j + 1]] == xs[order[i]]:
            j += 1
        for k in range(i, j + 1):
            r[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return r


def pearson(a, b):
    n = len(a)
    ma, mb = sum(a) / n, sum(b) / n
    cov = sum((x - ma) * (y - mb) for x, y in zip(a, b))
    va = sum((x - ma) ** 2 for x in a)
    vb = sum((y - mb) ** 2 for y in b)
    return cov / math.sqrt(va * vb)


def spearman(a, b):
    return pearson(ranks(a), ranks(b))


def main(data, out):
    rows = list(csv.DictReader(open(data, encoding="utf-8")))
    corr = {}
    for col, topic in PAIRS:
        xs, ys = [], []
        for r in rows:
            try:
                x, y = float(r[col]), float(r["OverallRating"])
            except (ValueError, KeyError):
                continue
            xs.append(x)
            ys.append(y)
        corr[topic] = (spearman(xs, ys), len(xs))
    kd = {r["topic_id"]: r for r in csv.DictReader(open(f"{out}/key_driver.csv"))}
    td = {
        r["topic_id"]: r
        for r in csv.DictReader(open(f"{out}/topic_driver.csv"))
        if r["scope"] == "any"
    }
    topics = [t for _, t in PAIRS]
    rw = {t: float(kd[t]["relative_weight"] or "nan") for t in topics}
    imp = {t: abs(float(td[t]["impact"] or "nan")) for t in topics}
    print(f"{'topic':<18}{'sub-rating rho':>16}{'n':>7}{'mentions':>10}{'rel. weight':>13}{'|impact|':>10}")
    for t in sorted(topics, key=lambda t: -corr[t][0]):
        print(f"{t:<18}{corr[t][0]:>16.3f}{corr[t][1]:>7}{td[t]['mentions']:>10}{rw[t]:>13.4f}{imp[t]:>10.2f}")
    c = [corr[t][0] for t in topics]
    for name, v in [("relative weight", rw), ("|impact|", imp)]:
        vals = [v[t] for t in topics]
        ok = [i for i, x in enumerate(vals) if not math.isnan(x)]
        rho = spearman([c[i] for i in ok], [vals[i] for i in ok])
        print(f"Spearman rank correlation, sub-rating correlation vs verbatim {name}: {rho:+.3f} over {len(ok)} aspects")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
