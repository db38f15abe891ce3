#!/usr/bin/env python3
"""A fine-tuned topic model (`verbatim train topics --fine-tune K`) on the
blind-labelled dev set, decision rule by decision rule (issue 14).

Runs examples/topic_probs.rs (build it with `cargo build --release --locked
--example topic_probs`) on the dev comments and scores, at several
thresholds, three ways of turning the branch's probabilities into topics:
`whole` (the comment as one text, as the torch probe did), `clauses` (best
clause per topic) and `clauses_ruled` (best clause among those the
taxonomy's keyword rules allow: what `analyze --topic-model` does). The
per-topic table is printed for the model's own threshold. The dev set is
evaluation only; nothing here trains.

Usage: .venv/bin/python benches/finetune_dev.py TOPIC_MODEL_DIR [--set ba_headers] [--first N]
(--first 200: the rows the torch probe was measured on; PRECISION=f32 in the
environment runs the encoder in float32 instead of analyze's default.)
"""
import argparse
import json
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benches"))
import dev_topics as dt  # noqa: E402

HELPER = ROOT / "target/release/examples/topic_probs"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--set", default="ba_headers")
    ap.add_argument("--first", type=int, default=0, help="only the first N rows")
    args = ap.parse_args()
    meta = json.load(open(Path(args.model) / "topic-model.json"))
    topics = meta["topics"]
    rows = dt.load_set(args.set)
    if args.first:
        rows = rows[:args.first]
    work = Path(tempfile.mkdtemp(prefix="verbatim-ftdev-"))
    (work / "texts.txt").write_text("".join(" ".join(r["text"].split()) + "\n" for r in rows))
    subprocess.run([str(HELPER), args.model, str(work / "texts.txt"), str(work / "probs.jsonl")], check=True)
    probs = [json.loads(l) for l in open(work / "probs.jsonl")]
    print(f"{args.set}: {len(rows)} comments; model {args.model}: top {meta['settings']['layers']} layers, "
          f"{meta['settings']['epochs']} epochs, threshold {meta['threshold']:.2f}")
    for way in ("whole", "clauses", "clauses_ruled"):
        for tau in sorted({0.3, 0.4, 0.5, 0.6, 0.7, round(meta["threshold"], 2)}):
            pred = {r["id"]: {topics[j]: "x" for j, p in enumerate(pr[way]) if p >= tau}
                    for r, pr in zip(rows, probs)}
            c = dt.score_topics(rows, pred, lambda t: t)
            tp, fp, fn = (sum(v[k] for v in c.values()) for k in range(3))
            p, r, f = dt.prf(tp, fp, fn)
            none = sum(1 for r in rows if not pred[r["id"]]) / len(rows)
            print(f"{way:14} tau {tau:.2f}: micro P {p:.2f} R {r:.2f} F1 {f:.2f}  no topic {none:.0%}")
    tau = meta["threshold"]
    pred = {r["id"]: {topics[j]: "x" for j, p in enumerate(pr["clauses_ruled"]) if p >= tau}
            for r, pr in zip(rows, probs)}
    dt.print_table(f"per topic, clauses_ruled, tau {tau:.2f}", dt.score_topics(rows, pred, lambda t: t))


if __name__ == "__main__":
    main()
