#!/usr/bin/env python3
"""Speed of the fine-tuned topic branch: `verbatim analyze` by default (the
topic model shipped for the default taxonomy) and with `--topic-model DIR`,
against `--topic-model none` (the calibration alone, no branch).

The fine-tuned topic branch shares the encoder's frozen layers: per text the
bottom 12 - K layers run once, then the encoder's own top K layers (the
vector for sentiment and the rest) and the K tuned ones (the topic
probabilities). This bench measures what that costs: MARC English reviews
cut to --tokens tokens (examples/bench_embed.rs `cut`, as
benches/throughput.py), analysed without a branch, by default and with each
topic model given,
the runs interleaved round by round so that a busy machine slows them alike.
Prints per setting the median (min–max) of the manifest's embedding rate
(distinct texts per second of the embedding stage, which includes the
branch) and of comments per second end to end.

With `--baseline-binary PATH` (a verbatim built from an earlier commit), that
binary's default run is interleaved with the others, so a change can be
compared on the same machine in the same rounds.

Usage: .venv/bin/python benches/finetune_throughput.py [DIR...] [--rows 2000] [--runs 3] [--threads 2]
       [--baseline-binary PATH]
Needs: cargo build --release --locked --example bench_embed; reads
../shared/data/dev/marc_en (evaluation data, not in the repository).
"""
import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MARC = ROOT.parent / "shared/data/dev/marc_en/marc_en_reviews.csv"
VERBATIM = ROOT / "target/release/verbatim"
BENCH_EMBED = ROOT / "target/release/examples/bench_embed"


def fmt(v):
    return f"{statistics.median(v):7.1f} ({min(v):.1f}–{max(v):.1f})"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("models", nargs="*", help="topic-model folders")
    ap.add_argument("--rows", type=int, default=2000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--tokens", type=int, default=64)
    ap.add_argument("--threads", default="2")
    ap.add_argument("--baseline-binary", help="another verbatim binary whose default run is interleaved")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="verbatim-ftspeed-"))
    full = work / "marc_cut.csv"
    subprocess.run([BENCH_EMBED, "cut", MARC, full, str(args.tokens)], check=True)
    lines = full.read_text(encoding="utf-8").splitlines(keepends=True)
    data = work / "input.csv"
    data.write_text("".join(lines[: args.rows + 1]), encoding="utf-8")
    settings = [("--topic-model none", ["--topic-model", "none"]),
                ("default (shipped topic model)", [])] + [
        (f"--topic-model {m}", ["--topic-model", m]) for m in args.models
    ]
    binary = {name: VERBATIM for name, _ in settings}
    if args.baseline_binary:
        name = f"default, {args.baseline_binary}"
        settings.append((name, []))
        binary[name] = args.baseline_binary
    results = {name: ([], []) for name, _ in settings}
    for r in range(args.runs):
        for name, extra in settings:
            out = work / "out"
            cmd = [binary[name], "analyze", data, "--out", out, "--quiet", "--threads", args.threads, *extra]
            proc = subprocess.run(cmd, capture_output=True, text=True)
            if proc.returncode != 0:
                sys.exit(f"{name} failed ({proc.returncode}):\n{proc.stderr}")
            t = json.load(open(out / "manifest.json"))["timings"]
            results[name][0].append(t["texts_per_second"])
            results[name][1].append(t["comments_per_second"])
    print(f"{args.rows} MARC en reviews cut to {args.tokens} tokens, --threads {args.threads}, "
          f"{args.runs} interleaved runs each")
    base = statistics.median(results["--topic-model none"][0])
    print(f"{'setting':48} {'texts/s embedding':>24} {'ratio':>6} {'comments/s end to end':>26}")
    for name, _ in settings:
        emb, e2e = results[name]
        print(f"{name:48} {fmt(emb):>24} {statistics.median(emb) / base:6.2f} {fmt(e2e):>26}")


if __name__ == "__main__":
    main()
