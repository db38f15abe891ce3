#!/usr/bin/env python3
"""Writes the project's sentiment training files without the neutral rows that
weigh a good side against a bad one ("friendly but slow, so it evens out"), for the
trial in benches/FINETUNE.md ("Sentiment: neutral rows that are mixed"): a row is
dropped when it is labelled neutral and has a contrast word of the list below.
The trial ran on the files as they were before commit 38d475e, which labelled 215
of those rows `mixed` (benches/trials/contrast_neutrals_relabelled.csv); on today's
files it drops only the 40 rows that stayed neutral.

Usage: .venv/bin/python benches/trials/sentiment_without_mixed_neutrals.py OUT_DIR
then:  verbatim train sentiment --data OUT_DIR/de.csv … --data OUT_DIR/nl.csv --out head.json
"""
import csv
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONTRAST = re.compile(r"\b(but|however|aber|jedoch|allerdings|maar|mais|pero|sin embargo|dafür|"
                      r"on the other hand|evens out|balances out)\b", re.I)


def main():
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    for lang in ("de", "en", "es", "fr", "nl"):
        rows = list(csv.DictReader(open(ROOT / f"models/sentiment/train/{lang}.csv", newline="", encoding="utf-8")))
        kept = [r for r in rows if not (r["label"] == "neutral" and CONTRAST.search(r["text"]))]
        with open(out / f"{lang}.csv", "w", newline="", encoding="utf-8") as f:
            w = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
            w.writeheader()
            w.writerows(kept)
        print(f"{lang}: {len(rows)} rows, {len(rows) - len(kept)} neutral rows with a contrast word left out")


if __name__ == "__main__":
    main()
