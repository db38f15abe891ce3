#!/usr/bin/env python3
"""Draw the comments of marc_de.labels.csv for blind labelling.

Reads ../shared/data/dev/marc_de/marc_de_reviews.csv, keeps the reviews of at
most 220 characters (short, like NPS comments), draws 200 of them with
random.Random(20261205) and prints only `source_split,source_index` and the
text, numbered in draw order; the star rating is never printed, so the
labeller does not see it. The text is printed for reading only: its licence
does not allow copying it into the repository.

Usage: python3 benches/dev/draw_marc_de.py [--ids]   (--ids: ids only, one a line)
"""

import csv
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT.parent / "shared/data/dev/marc_de/marc_de_reviews.csv"
MAX_CHARS = 220
N = 200
SEED = 20261205


def draw():
    with open(SOURCE, newline="", encoding="utf-8") as f:
        rows = [(r["source_split"], r["source_index"], r["review_body"].strip())
                for r in csv.DictReader(f)]
    short = [r for r in rows if len(r[2]) <= MAX_CHARS]
    return random.Random(SEED).sample(short, N)


def main():
    ids_only = "--ids" in sys.argv[1:]
    for i, (split, index, text) in enumerate(draw(), 1):
        if ids_only:
            print(f"{split},{index}")
        else:
            print(f"{i:3} {split},{index}: {' '.join(text.split())}")


if __name__ == "__main__":
    main()
