#!/usr/bin/env bash
# Peak memory of `verbatim analyze` against the number of rows: generates
# exports of 10,000 and 1,000,000 responses (with a date, two segments and
# short comments), runs them with the tiny test model (so the figure is the
# pipeline's, not the transformer's), and prints rows, seconds and peak RSS.
# Usage: benches/memory.sh [ROWS...]   (default: 10000 1000000)
set -euo pipefail
cd "$(dirname "$0")/.."
export VIRTUAL_ENV="$PWD/.venv" PATH="$PWD/.venv/bin:$PATH" LIBTORCH_USE_PYTORCH=1
cargo build --release --quiet --example make_tiny_model
cargo build --release --quiet
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
target/release/examples/make_tiny_model "$work/model" >/dev/null
rows=("$@")
[ ${#rows[@]} -gt 0 ] || rows=(10000 1000000)
printf '%10s %10s %14s\n' rows seconds peak_rss_mib
for n in "${rows[@]}"; do
  python3 - "$n" "$work/in.csv" <<'PY'
import sys, random
n, path = int(sys.argv[1]), sys.argv[2]
rnd = random.Random(7)
words = "the agent was friendly rude waited on hold an hour invoice wrong price too high app crashes great service bad ok but and".split()
with open(path, "w") as f:
    f.write("id,date,score,comment,channel,team\n")
    for i in range(n):
        comment = " ".join(rnd.choice(words) for _ in range(rnd.randint(0, 14)))
        f.write(f"R{i},2026-{rnd.randint(1,12):02d}-{rnd.randint(1,28):02d},{rnd.randint(0,10)},{comment},"
                f"{rnd.choice(['phone','chat','email'])},T{rnd.randint(1,20)}\n")
PY
  /usr/bin/time -f '%e %M' -o "$work/time" \
    target/release/verbatim analyze "$work/in.csv" --out "$work/out" --model "$work/model" --quiet --threads 2 >/dev/null
  read -r secs kib < "$work/time"
  awk -v n="$n" -v s="$secs" -v k="$kib" 'BEGIN { printf "%10s %10s %14.1f\n", n, s, k / 1024 }'
done
