#!/usr/bin/env python3
"""Throughput of verbatim against the Python reference, side by side.

Texts: the MARC English reviews of ../shared/data/dev/marc_en cut to their
first 64 tokens (examples/bench_embed.rs `cut`). For each of --runs runs it
measures, one after the other on the same machine:

- verbatim end to end: `verbatim analyze` (CSV in; tables, report and
  manifest out), wall time with the model load, and peak RSS;
- verbatim's encoder alone (examples/bench_embed.rs `embed`: load apart);
- when `transformers` is installed in .venv: Hugging Face transformers on the
  same model folder and texts ("query: " prefix, sorted by length, batches of
  64, mean pooling), float32 and with bfloat16 autocast, model load apart.

It prints medians (with min and max) of texts per second, the ratios, and the
cosine of verbatim's vectors to the float32 reference vectors (transformers
float32 when installed, else verbatim's own float32 pass).

Usage: .venv/bin/python benches/throughput.py [--rows N] [--runs R] [--tokens 64]
Install the reference: .venv/bin/python -m pip install transformers==4.44.2
"""

import argparse
import warnings
import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MARC = ROOT.parent / "shared/data/dev/marc_en/marc_en_reviews.csv"
MODEL = ROOT / "models/cache/multilingual-e5-small"
VERBATIM = ROOT / "target/release/verbatim"
BENCH_EMBED = ROOT / "target/release/examples/bench_embed"


def run_measured(cmd):
    """Runs cmd; returns (wall seconds, its peak RSS in MiB from wait4, stdout)."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stdout = proc.stdout.read()
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        sys.exit(f"{' '.join(map(str, cmd))} failed ({code}):\n{err}")
    return wall, usage.ru_maxrss / 1024, stdout


def summary(values):
    return f"{statistics.median(values):8.1f}  ({min(values):.1f}–{max(values):.1f})"


def read_texts(path):
    with open(path, newline="", encoding="utf-8") as f:
        return [row["comment"] for row in csv.DictReader(f)]


def read_vectors(path, dim):
    import array

    a = array.array("f")
    with open(path, "rb") as f:
        a.frombytes(f.read())
    return [a[i : i + dim] for i in range(0, len(a), dim)]


def cosines(a, b):
    out = []
    for x, y in zip(a, b):
        dot = sum(p * q for p, q in zip(x, y))
        nx = sum(p * p for p in x) ** 0.5
        ny = sum(q * q for q in y) ** 0.5
        out.append(dot / (nx * ny))
    return out


def transformers_reference(texts, runs, bf16):
    """Texts/s of each run and the vectors of the last, or None without transformers."""
    try:
        import torch
        from transformers import AutoModel, AutoTokenizer
    except ImportError:
        return None
    tok = AutoTokenizer.from_pretrained(MODEL, clean_up_tokenization_spaces=False)
    model = AutoModel.from_pretrained(MODEL, add_pooling_layer=False).eval()
    inputs = ["query: " + t for t in texts]
    rates, vectors = [], None
    for _ in range(runs):
        started = time.perf_counter()
        lengths = [len(ids) for ids in tok(inputs, truncation=True, max_length=512)["input_ids"]]
        order = sorted(range(len(inputs)), key=lambda i: lengths[i])
        out = [None] * len(inputs)
        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            for s in range(0, len(order), 64):
                idx = order[s : s + 64]
                batch = tok([inputs[i] for i in idx], padding=True, truncation=True,
                            max_length=512, return_tensors="pt")
                hidden = model(**batch).last_hidden_state.float()
                mask = batch["attention_mask"].unsqueeze(-1).float()
                pooled = (hidden * mask).sum(1) / mask.sum(1)
                pooled = torch.nn.functional.normalize(pooled, dim=-1)
                for k, i in enumerate(idx):
                    out[i] = pooled[k].tolist()
        rates.append(len(inputs) / (time.perf_counter() - started))
        vectors = out
    return rates, vectors


def main():
    warnings.filterwarnings("ignore")
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=5000, help="reviews to use (default 5000)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--tokens", type=int, default=64)
    ap.add_argument("--skip-reference", action="store_true")
    args = ap.parse_args()

    env = dict(os.environ, LIBTORCH_USE_PYTORCH="1", VIRTUAL_ENV=str(ROOT / ".venv"))
    env["PATH"] = f"{ROOT / '.venv/bin'}:{env['PATH']}"
    subprocess.run(["cargo", "build", "--release", "--quiet", "--example", "bench_embed"],
                   cwd=ROOT, env=env, check=True)
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, env=env, check=True)

    work = Path(tempfile.mkdtemp(prefix="verbatim-bench-"))
    full = work / "marc_cut.csv"
    subprocess.run([BENCH_EMBED, "cut", MARC, full, str(args.tokens)], check=True)
    with open(full, newline="", encoding="utf-8") as f:
        lines = f.readlines()
    data = work / "marc.csv"
    data.write_text("".join(lines[: args.rows + 1]), encoding="utf-8")
    texts = read_texts(data)
    n = len(texts)
    print(f"{n} MARC en reviews cut to {args.tokens} tokens; {args.runs} runs each; "
          f"{os.cpu_count()} CPUs", flush=True)

    e2e, rss = [], []
    for r in range(args.runs):
        wall, peak, _ = run_measured([VERBATIM, "analyze", data, "--out", work / f"out{r}", "--quiet"])
        e2e.append(n / wall)
        rss.append(peak)
    manifest = json.loads((work / "out0/manifest.json").read_text())
    embedded = manifest["timings"]["texts_embedded"]

    enc, load = [], []
    for r in range(args.runs):
        _, _, out = run_measured([BENCH_EMBED, "embed", data, work / "auto.f32"])
        facts = json.loads(out)
        enc.append(facts["texts_per_s"])
        load.append(facts["load_s"])
    dim, kind = facts["dim"], facts["kind"]
    ours = read_vectors(work / "auto.f32", dim)

    ref = None if args.skip_reference else transformers_reference(texts, 1, bf16=False)
    if ref is None:
        run_measured([BENCH_EMBED, "embed", data, work / "f32.f32", "--precision", "f32"])
        reference, ref_name = read_vectors(work / "f32.f32", dim), "verbatim float32"
        hf32 = hf16 = None
    else:
        hf32, reference = ref
        ref_name = "transformers float32"
        hf16, _ = transformers_reference(texts, args.runs, bf16=True)

    cos = cosines(ours, reference)
    print()
    print(f"{'':42} texts/s median (min–max)")
    print(f"{'verbatim analyze, end to end':42} {summary(e2e)}   peak RSS {max(rss):.0f} MiB; "
          f"{embedded} texts embedded (comments + clauses)")
    print(f"{'verbatim encoder alone (' + kind + ')':42} {summary(enc)}   model load {statistics.median(load):.2f} s")
    if hf32 is not None:
        print(f"{'transformers float32 (1 run)':42} {summary(hf32)}")
        print(f"{'transformers bfloat16 autocast':42} {summary(hf16)}")
        print(f"ratio end to end / transformers bf16:    {statistics.median(e2e) / statistics.median(hf16):.2f}")
        print(f"ratio encoder alone / transformers bf16: {statistics.median(enc) / statistics.median(hf16):.2f}")
    else:
        print("transformers is not installed in .venv: no reference "
              "(.venv/bin/python -m pip install transformers==4.44.2)")
    print(f"cosine of verbatim's vectors to {ref_name}: min {min(cos):.5f}, "
          f"mean {statistics.mean(cos):.6f}")


if __name__ == "__main__":
    main()
