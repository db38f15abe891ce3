#!/usr/bin/env python3
"""A user's own taxonomy without labels: verbatim against plain keyword search.

Issue 14's second target: with a taxonomy written from category names alone
(names, a few examples, keywords), verbatim should beat matching the same
keyword lists as plain substrings by at least 0.10 micro-F1, and leave a share
of comments without a topic within 10 points of the gold share.

The taxonomies are in benches/user_taxonomies/ (written from the category
names only, before any labelled sentence was read). The labelled sentences are
read from ../shared/data/dev (SemEval-2016 restaurants and laptops, German
hotel aspects); this bench needs that folder. Two more sets, labelled by others
and used for evaluation only, do not ship: the negative tweets of Twitter US
Airline Sentiment with their complaint reason (`--airline-tweets Tweets.csv`,
set airline) and GermEval 2017's relevant documents with their aspect
categories (`--germeval dev.tsv`, set rail); their taxonomies were written by a
helper from the category names alone. Gold labels are mapped to the
taxonomy's ids by the tables below; a sentence whose categories map to no
topic (e.g. RESTAURANT#GENERAL) has no gold topic.

For each set it prints, per topic and micro/macro: gold mentions, predicted
mentions, precision, recall and F1 of
  keywords  the topic's keywords as lower-case substrings (`*` dropped);
  verbatim  `verbatim analyze --taxonomy FILE` with default settings;
and the share of sentences without a topic.

Usage: .venv/bin/python benches/user_taxonomy.py [--set restaurants|laptops|hotel|airline|rail]
           [--limit N] [--keep DIR] [--taxonomies DIR] [--airline-tweets F] [--germeval F]
           [-- extra analyze flags]
"""

import argparse
import os
import collections
import csv
import random
import re
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from dev_topics import prf  # noqa: E402
from external_sentiment import airline_tweets, germeval_documents  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared/data/dev"
VERBATIM = Path(os.environ.get("VERBATIM", ROOT / "target/release/verbatim"))
TAXONOMIES = ROOT / "benches/user_taxonomies"


def restaurants_gold(cat):
    entity, attr = cat.split("#")
    if attr == "PRICES":
        return "price"
    return {"FOOD": "food", "DRINKS": "drinks", "SERVICE": "service",
            "AMBIENCE": "ambience", "LOCATION": "location"}.get(entity)


def laptops_gold(cat):
    entity, attr = cat.split("#")
    if attr == "PRICE":
        return "price"
    if entity in ("OS", "SOFTWARE"):
        return "software"
    if entity == "LAPTOP":
        return {"OPERATION_PERFORMANCE": "performance", "DESIGN_FEATURES": "design"}.get(attr)
    return {"BATTERY": "battery", "DISPLAY": "display", "KEYBOARD": "keyboard",
            "SUPPORT": "support"}.get(entity)


def hotel_gold(aspect):
    return {"HOTEL": "hotel", "ZIMMER": "zimmer", "LAGE": "lage", "SERVICE": "service",
            "ESSEN&TRINKEN": "essen_trinken"}[aspect]


def semeval(domain, mapper):
    path = SHARED / f"semeval_absa_en/semeval_en_{domain}16_sentences.csv"
    rows = []
    for r in csv.DictReader(open(path, newline="", encoding="utf-8")):
        if r["out_of_scope"]:
            continue
        gold = {mapper(c) for c in filter(None, r["aspect_categories"].split("|"))} - {None}
        rows.append({"id": r["sentence_id"], "text": r["text"], "gold": gold})
    return rows


def hotel():
    path = SHARED / "hotel_aspect_de/hotel_aspect_de.csv"
    rows = []
    for i, r in enumerate(csv.DictReader(open(path, newline="", encoding="utf-8"))):
        gold = {hotel_gold(a) for a in filter(None, r["aspects"].split("|"))}
        rows.append({"id": f"h{i}", "text": r["text"], "gold": gold})
    return rows


AIRLINE_REASONS = {"Bad Flight": "bad_flight", "Late Flight": "late_flight",
                   "Customer Service Issue": "customer_service",
                   "Flight Booking Problems": "booking_problems", "Lost Luggage": "lost_luggage",
                   "Flight Attendant Complaints": "flight_attendants",
                   "Cancelled Flight": "cancelled_flight", "Damaged Luggage": "damaged_luggage",
                   "longlines": "long_lines"}
RAIL_CATEGORIES = {"Zugfahrt": "zugfahrt", "Sonstige_Unregelmässigkeiten": "unregelmaessigkeiten",
                   "Atmosphäre": "atmosphaere", "Ticketkauf": "ticketkauf", "Sicherheit": "sicherheit",
                   "Service_und_Kundenbetreuung": "service", "Informationen": "informationen",
                   "Auslastung_und_Platzangebot": "auslastung", "Connectivity": "connectivity",
                   "DB_App_und_Website": "app_website", "Komfort_und_Ausstattung": "komfort",
                   "Barrierefreiheit": "barrierefreiheit", "Image": "image", "Toiletten": "toiletten",
                   "Gastronomisches_Angebot": "gastronomie", "Design": "design",
                   "Reisen_mit_Kindern": "kinder", "Gepäck": "gepaeck"}
# Files of the two sets that do not ship (evaluation only; --airline-tweets, --germeval).
EXTERNAL = {}


def airline():
    """Twitter US Airline Sentiment (CC BY-NC-SA, evaluation only): the negative
    tweets, gold = their complaint reason ("Can't Tell": none)."""
    rows = []
    for r in airline_tweets(EXTERNAL["airline"]):
        if r["airline_sentiment"] == "negative":
            gold = {AIRLINE_REASONS[r["negativereason"]]} if r["negativereason"] in AIRLINE_REASONS else set()
            rows.append({"id": f"a{r['tweet_id']}-{len(rows)}", "text": r["text"], "gold": gold})
    return rows


def rail():
    """GermEval 2017 (CC BY-NC, evaluation only): its relevant documents, gold =
    their aspect categories ("Allgemein", general, and "QR-Code": none)."""
    return [{"id": f"r{i}", "text": d["text"],
             "gold": {RAIL_CATEGORIES[c] for c in d["categories"] if c in RAIL_CATEGORIES}}
            for i, d in enumerate(germeval_documents(EXTERNAL["rail"]))]


SETS = {
    "restaurants": (lambda: semeval("restaurants", restaurants_gold), "restaurants_en.toml"),
    "laptops": (lambda: semeval("laptops", laptops_gold), "laptops_en.toml"),
    "hotel": (hotel, "hotel_de.toml"),
    "airline": (airline, "airline_en.toml"),
    "rail": (rail, "rail_de.toml"),
}


def keyword_baseline(rows, taxonomy, whole_words=False):
    """Topics whose `must` keywords occur in the text: as lower-case
    substrings (the issue's baseline), or, with `whole_words`, on word
    boundaries with `*` as in verbatim (word start / word end)."""
    def norm(text):
        return " " + re.sub(r"[\W_]+", " ", text.lower()).strip() + " "

    needles = {}
    for t in taxonomy["topic"]:
        words = []
        for kw in t.get("keywords", {}).values():
            for w in kw.get("must", []):
                body = w.strip("*").lower()
                if whole_words:
                    body = ("" if w.startswith("*") else " ") + norm(body).strip() + \
                        ("" if w.endswith("*") else " ")
                words.append(body)
        needles[t["id"]] = [w for w in words if w.strip()]
    prep = norm if whole_words else str.lower
    return {r["id"]: {t for t, ws in needles.items() if any(w in prep(r["text"]) for w in ws)}
            for r in rows}


def run_verbatim(rows, taxonomy_path, work, extra):
    data = work / "input.csv"
    with open(data, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["response_id", "score", "comment"])
        for r in rows:
            # The sets have no score; analyze needs one, and topics do not
            # depend on it.
            w.writerow([r["id"], 8, r["text"]])
    out = work / "out"
    cmd = [str(VERBATIM), "analyze", str(data), "--out", str(out), "--quiet",
           "--taxonomy", str(taxonomy_path), *extra]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"verbatim analyze failed ({proc.returncode}):\n{proc.stderr}")
    predicted = collections.defaultdict(set)
    for b in csv.DictReader(open(out / "bridge_response_topic.csv", newline="")):
        predicted[b["response_id"]].add(b["topic_id"])
    return predicted


def table(rows, systems, topics):
    n = len(rows)
    header = f"{'topic':16} {'gold':>5} |" + "|".join(
        f" {name[:10]:>10} pred  prec   rec    F1 " for name in systems)
    print(header)
    totals = {name: [0, 0, 0] for name in systems}
    f1s = {name: [] for name in systems}
    for t in topics:
        gold = sum(1 for r in rows if t in r["gold"])
        line = f"{t:16} {gold:5} |"
        for name, pred in systems.items():
            tp = sum(1 for r in rows if t in r["gold"] and t in pred.get(r["id"], ()))
            fp = sum(1 for r in rows if t not in r["gold"] and t in pred.get(r["id"], ()))
            fn = gold - tp
            for i, v in enumerate((tp, fp, fn)):
                totals[name][i] += v
            p, rec, f = prf(tp, fp, fn)
            if gold:
                f1s[name].append(f)
            line += f" {'':>10} {tp + fp:4} {p:5.2f} {rec:5.2f} {f:5.2f} |"
        print(line)
    line = f"{'micro':16} {sum(len(r['gold']) for r in rows):5} |"
    for name in systems:
        tp, fp, fn = totals[name]
        p, rec, f = prf(tp, fp, fn)
        line += f" {'':>10} {tp + fp:4} {p:5.2f} {rec:5.2f} {f:5.2f} |"
    print(line)
    line = f"{'macro-F1':16} {'':5} |"
    for name in systems:
        line += f" {'':>10} {'':4} {'':5} {'':5} {sum(f1s[name]) / len(f1s[name]):5.2f} |"
    print(line)
    gold_none = sum(1 for r in rows if not r["gold"]) / n
    line = f"{'no topic':16} {gold_none:5.0%} |"
    for name, pred in systems.items():
        none = sum(1 for r in rows if not pred.get(r["id"])) / n
        line += f" {'':>10} {none:16.0%} {'':11} |"
    print(line)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--set", action="append", choices=sorted(SETS))
    ap.add_argument("--limit", type=int, help="a seeded sample of this many sentences per set")
    ap.add_argument("--keep", help="folder to keep inputs and outputs in")
    ap.add_argument("--taxonomies", default=str(TAXONOMIES),
                    help="folder with variants of the taxonomy files (same names)")
    ap.add_argument("--airline-tweets", help="Tweets.csv of Twitter US Airline Sentiment (set airline)")
    ap.add_argument("--germeval", help="dev.tsv of GermEval 2017 (set rail)")
    ap.add_argument("extra", nargs="*", help="flags passed on to verbatim analyze (after --)")
    args = ap.parse_args()
    if args.airline_tweets:
        EXTERNAL["airline"] = args.airline_tweets
    if args.germeval:
        EXTERNAL["rail"] = args.germeval
    for name in args.set or []:
        if name in ("airline", "rail") and name not in EXTERNAL:
            sys.exit(f"--set {name} needs {'--airline-tweets' if name == 'airline' else '--germeval'} FILE")
    base = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="verbatim-usertax-"))
    for name in args.set or sorted(n for n in SETS if n not in ("airline", "rail") or n in EXTERNAL):
        load, tax_file = SETS[name]
        rows = load()
        if args.limit and args.limit < len(rows):
            rows = random.Random(20261205).sample(rows, args.limit)
        tax_path = Path(args.taxonomies).resolve() / tax_file
        taxonomy = tomllib.load(open(tax_path, "rb"))
        topics = [t["id"] for t in taxonomy["topic"]]
        work = base / name
        work.mkdir(parents=True, exist_ok=True)
        systems = {"keywords": keyword_baseline(rows, taxonomy),
                   "verbatim": run_verbatim(rows, tax_path, work, args.extra)}
        print(f"\n{name}: {len(rows)} sentences, taxonomy {tax_path}"
              + (f", analyze {' '.join(args.extra)}" if args.extra else ""))
        table(rows, systems, topics)
    print(f"\n(work folder: {base})")


if __name__ == "__main__":
    main()
