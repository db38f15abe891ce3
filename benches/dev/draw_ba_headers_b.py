#!/usr/bin/env python3
"""Draw the headlines of ba_headers_b.labels.csv for blind labelling.

Reads ../shared/data/dev/ba_airline_reviews/BA_AirlineReviews.csv, keeps the
rows with a non-empty ReviewHeader and an OverallRating, drops every ReviewID
already labelled in ba_headers.labels.csv (the first set of 400), sorts the
rest by ReviewID and draws 200 of them with random.Random(20261206). Prints
only `ReviewID: headline`, numbered in draw order; the rating, the review body
and the other columns are never printed, so the labeller does not see them.
The text is printed for reading only: its licence is not stated, so it is not
copied into the repository.

Usage: python3 benches/dev/draw_ba_headers_b.py [--ids]   (--ids: ids only, one a line)
"""

import csv
import random
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT.parent / "shared/data/dev/ba_airline_reviews/BA_AirlineReviews.csv"
FIRST_SET = HERE / "ba_headers.labels.csv"
N = 200
SEED = 20261206


def clean(header):
    text = " ".join(header.split())
    return " ".join(text.strip().strip('"').strip().split())


def draw():
    with open(FIRST_SET, newline="", encoding="utf-8") as f:
        taken = {int(r["review_id"]) for r in csv.DictReader(f)}
    with open(SOURCE, newline="", encoding="utf-8") as f:
        rows = [(int(r["ReviewID"]), clean(r["ReviewHeader"] or ""))
                for r in csv.DictReader(f)
                if (r["ReviewHeader"] or "").strip()
                and (r["OverallRating"] or "").strip()]
    candidates = sorted((r for r in rows if r[0] not in taken and r[1]),
                        key=lambda r: r[0])
    return random.Random(SEED).sample(candidates, N)


def main():
    ids_only = "--ids" in sys.argv[1:]
    for i, (review_id, header) in enumerate(draw(), 1):
        if ids_only:
            print(review_id)
        else:
            print(f"{i:3} {review_id}: {header}")


if __name__ == "__main__":
    main()
