#!/usr/bin/env python3
"""Draw the sentences of hotel_de.labels.csv for blind labelling.

Reads ../shared/data/dev/hotel_aspect_de/hotel_aspect_de.csv, keeps the rows of
split `test`, identifies each by `test_index` (its 0-based position among the
test rows, in file order), draws 200 of them with random.Random(20261206) and
prints only `test_index` and the text, numbered in draw order. Only the
`split` and `text` columns are read: the source's aspect labels (`labels`,
`aspects`, `polarities`, `raw_fasttext_line`) are never printed, so the
labeller does not see them. The text is printed for reading only: its licence
is not stated, so it is not copied into the repository.

Usage: python3 benches/dev/draw_hotel_de.py [--ids]   (--ids: indices only, one a line)
"""

import csv
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT.parent / "shared/data/dev/hotel_aspect_de/hotel_aspect_de.csv"
N = 200
SEED = 20261206


def draw():
    with open(SOURCE, newline="", encoding="utf-8") as f:
        texts = [r["text"].strip() for r in csv.DictReader(f) if r["split"] == "test"]
    test = list(enumerate(texts))
    return random.Random(SEED).sample(test, N)


def main():
    ids_only = "--ids" in sys.argv[1:]
    for i, (index, text) in enumerate(draw(), 1):
        if ids_only:
            print(index)
        else:
            print(f"{i:3} {index}: {' '.join(text.split())}")


if __name__ == "__main__":
    main()
