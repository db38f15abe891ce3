#!/usr/bin/env python3
"""Topics of `verbatim analyze` on BANKING77's test split, its intents mapped onto the
default taxonomy's topics.

BANKING77 (PolyAI; CC BY 4.0; benches/dev/banking77/README.md) holds online-banking
customer requests, each labelled with one of 77 intents by the set's authors, not by
this project and not by looking at verbatim's output. `MAP` below turns an intent
into a topic of `models/taxonomy/contact-center.toml` where the taxonomy's own
description covers it (a card that has not arrived is `delivery`; a double charge,
an unknown payment or a refund is `billing`; a fee on a payment or a transfer is
`fees`; closing the account is `contract_cancellation`; a card that does not work is
`outages`), and into no topic for product questions and how-tos. Intents that fall
between topics (a wrong exchange rate: billing or fees) are left out. Every row of
a mapped intent carries that topic alone, so a second topic on a row counts as
wrong even where a reader might accept it.

It runs the built binary on the mapped rows (`--no-score`) and prints per topic
gold and predicted mentions, precision, recall, F1 and the intents behind the false
positives; micro and macro averages; the share of rows without a topic; and the same
table for the taxonomy's `must` keywords matched as whole words.

English only, requests rather than opinions: a check of the topics on real customer
wording that no one here wrote, next to the blind dev sets (benches/dev_topics.py).
Needs nothing outside the repository.

Usage: .venv/bin/python benches/banking77_topics.py [--keep DIR] [--analyze-args "--topic-model DIR"]
"""
import argparse
import collections
import csv
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

from dev_topics import print_table, score_topics
from user_taxonomy import keyword_baseline

ROOT = Path(__file__).resolve().parent.parent
TEST = ROOT / "benches/dev/banking77/test.csv"
VERBATIM = ROOT / "target/release/verbatim"
TAXONOMY = ROOT / "models/taxonomy/contact-center.toml"

# Intent -> topic id; "" = no topic of the taxonomy; intents not named are left out.
MAP = {
    "card_arrival": "delivery", "card_delivery_estimate": "delivery",
    "card_payment_fee_charged": "fees", "cash_withdrawal_charge": "fees", "exchange_charge": "fees",
    "top_up_by_bank_transfer_charge": "fees", "top_up_by_card_charge": "fees",
    "transfer_fee_charged": "fees",
    "transaction_charged_twice": "billing", "card_payment_not_recognised": "billing",
    "direct_debit_payment_not_recognised": "billing", "Refund_not_showing_up": "billing",
    "request_refund": "billing",
    "terminate_account": "contract_cancellation",
    "card_not_working": "outages", "contactless_not_working": "outages",
    "virtual_card_not_working": "outages",
    **{i: "" for i in (
        "age_limit", "atm_support", "country_support", "fiat_currency_support",
        "supported_cards_and_currencies", "visa_or_mastercard", "change_pin",
        "get_disposable_virtual_card", "getting_virtual_card", "disposable_card_limits",
        "top_up_limits", "receiving_money", "transfer_into_account", "verify_my_identity",
        "why_verify_identity", "lost_or_stolen_phone", "lost_or_stolen_card", "compromised_card",
        "edit_personal_details", "automatic_top_up", "apple_pay_or_google_pay",
        "top_up_by_cash_or_cheque", "card_acceptance", "verify_source_of_funds", "exchange_rate",
        "exchange_via_app", "getting_spare_card", "order_physical_card", "card_about_to_expire",
        "card_swallowed", "verify_top_up")},
}


def load_rows():
    rows = []
    for i, r in enumerate(csv.DictReader(open(TEST, newline="", encoding="utf-8"))):
        topic = MAP.get(r["category"])
        if topic is not None:
            rows.append({"id": f"b77-{i}", "text": " ".join(r["text"].split()),
                         "topics": {topic: ""} if topic else {}, "intent": r["category"]})
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--keep", help="folder to keep the input and analyze's output in")
    ap.add_argument("--analyze-args", default="", help="extra flags for verbatim analyze, split on spaces")
    args = ap.parse_args()
    rows = load_rows()
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="verbatim-b77-"))
    work.mkdir(parents=True, exist_ok=True)
    data = work / "input.csv"
    with open(data, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["response_id", "comment"])
        w.writerows([r["id"], r["text"]] for r in rows)
    out = work / "out"
    proc = subprocess.run([str(VERBATIM), "analyze", str(data), "--out", str(out), "--quiet", "--no-score",
                           *args.analyze_args.split()], capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"verbatim analyze failed ({proc.returncode}):\n{proc.stderr}")
    predicted = collections.defaultdict(dict)
    for b in csv.DictReader(open(out / "bridge_response_topic.csv", newline="")):
        predicted[b["response_id"]][b["topic_id"]] = b["polarity"]
    n = len(rows)
    gold_none = sum(1 for r in rows if not r["topics"])
    pred_none = sum(1 for r in rows if not predicted.get(r["id"]))
    print(f"BANKING77 test: {n} requests of {len({r['intent'] for r in rows})} mapped intents, "
          f"{n - gold_none} with a topic; flags: {args.analyze_args or 'default'}")
    print(f"no topic: gold {gold_none / n:.0%}, predicted {pred_none / n:.0%}")
    print_table("Topics", score_topics(rows, predicted, lambda t: t))
    print("\nFalse positives by intent (the three most frequent per topic)")
    wrong = collections.defaultdict(collections.Counter)
    for r in rows:
        for t in predicted.get(r["id"], {}):
            if t not in r["topics"]:
                wrong[t][r["intent"]] += 1
    for t, c in sorted(wrong.items(), key=lambda x: -sum(x[1].values())):
        print(f"  {t:22} {sum(c.values()):4}  " + ", ".join(f"{i} {k}" for i, k in c.most_common(3)))
    tax = tomllib.load(open(TAXONOMY, "rb"))
    keywords = keyword_baseline(rows, tax, whole_words=True)
    print_table("Keyword baseline: the taxonomy's `must` keywords as whole words", score_topics(rows, keywords, lambda t: t))
    print(f"\nwork folder: {work}")


if __name__ == "__main__":
    main()
