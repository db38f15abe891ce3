#!/usr/bin/env bash
# A nightly rerun where every text is already in the embedding cache:
# builds an export of N rows with distinct comments (the English reviews of
# shared/data/dev/marc_en, each with its row number appended, plus a date, a
# channel and a team), runs `verbatim analyze --cache` once to fill the
# cache, then times the rerun and prints wall seconds, rows/s and peak RSS
# (/usr/bin/time -v). The target is under 60 s for 1,000,000 rows on 2 cores.
#
# Usage: benches/cache.sh [ROWS]          (default 1000000)
#   VERBATIM_BENCH_MODEL=tiny (default)   the tiny test model (tests/common):
#                                         filling 1,000,000 rows with the real
#                                         model takes hours on 2 cores
#   VERBATIM_BENCH_MODEL=default          the installed multilingual-e5-small
#   VERBATIM_BENCH_MODEL=/path/to/folder  any model folder
#   VERBATIM_BENCH_KEEP=DIR               work in DIR and keep it (export,
#                                         cache, outputs) instead of a temp dir
#   VERBATIM_BENCH_PERF=1                 also record the rerun with perf and
#                                         print the top symbols
#   VERBATIM_BENCH_TEXT=short             short NPS-like comments (0-14 words of a
#                                         small vocabulary, the row number appended)
#                                         instead of the reviews
set -euo pipefail
cd "$(dirname "$0")/.."
export VIRTUAL_ENV="$PWD/.venv" PATH="$PWD/.venv/bin:$PATH" LIBTORCH_USE_PYTORCH=1
rows=${1:-1000000}
reviews=../shared/data/dev/marc_en/marc_en_reviews.csv
[ -f "$reviews" ] || { echo "missing $reviews (shared data)" >&2; exit 1; }
cargo build --release --quiet
if [ -n "${VERBATIM_BENCH_KEEP:-}" ]; then
  work=$VERBATIM_BENCH_KEEP
  mkdir -p "$work"
else
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
fi
case "${VERBATIM_BENCH_MODEL:-tiny}" in
  tiny)
    cargo build --release --quiet --example make_tiny_model
    [ -d "$work/model" ] || target/release/examples/make_tiny_model "$work/model" >/dev/null
    model="$work/model" ;;
  default) model=models/cache/multilingual-e5-small ;;
  *) model=$VERBATIM_BENCH_MODEL ;;
esac

text=${VERBATIM_BENCH_TEXT:-reviews}
if [ ! -f "$work/in-$text-$rows.csv" ]; then
  python3 - "$rows" "$reviews" "$work/in-$text-$rows.csv" "$text" <<'PY'
import csv, random, sys
n, src, path, kind = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
rnd = random.Random(11)
if kind == "short":
    words = ("the agent was friendly rude waited on hold an hour invoice wrong price too high "
             "app crashes great service bad ok but and").split()
    reviews = [" ".join(rnd.choice(words) for _ in range(rnd.randint(0, 14))) for _ in range(20000)]
else:
    reviews = [r["review_body"] for r in csv.DictReader(open(src, encoding="utf-8"))]
with open(path, "w", newline="", encoding="utf-8") as f:
    w = csv.writer(f)
    w.writerow(["id", "date", "score", "comment", "channel", "team"])
    for i in range(n):
        review = reviews[i % len(reviews)]
        w.writerow([f"R{i}", f"2026-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}",
                    rnd.randint(0, 10), f"{review} (ticket {i})",
                    rnd.choice(["phone", "chat", "email"]), f"T{rnd.randint(1, 20)}"])
PY
fi
input="$work/in-$text-$rows.csv"
cache="$work/cache-$text-$rows.sqlite"
run() { # OUT_DIR -- runs analyze on the export with the cache
  target/release/verbatim analyze "$input" --out "$1" --model "$model" \
    --cache "$cache" --quiet --threads 2
}

echo "rows: $rows ($text); model: $model; input: $(du -h "$input" | cut -f1)" >&2
if [ ! -f "$cache" ]; then
  start=$(date +%s.%N)
  run "$work/fill" >/dev/null 2>"$work/fill.err"
  fill_s=$(echo "$(date +%s.%N) - $start" | bc)
  echo "fill: ${fill_s} s; $(grep 'from cache' "$work/fill.err")" >&2
fi
cache_mib=$(du -m "$cache" | cut -f1)
[ -f "$cache-wal" ] && cache_mib=$((cache_mib + $(du -m "$cache-wal" | cut -f1)))

/usr/bin/time -v -o "$work/time" bash -c "$(declare -f run); input='$input' model='$model' cache='$cache'; run '$work/rerun'" \
  >"$work/rerun.out" 2>"$work/rerun.err"
wall=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, t, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + t[i]; print s }' "$work/time")
rss=$(awk -F': ' '/Maximum resident set size/ { print $2 / 1024 }' "$work/time")
grep 'from cache' "$work/rerun.err" >&2 || true
printf '%10s %10s %10s %14s %12s\n' rows seconds rows_per_s peak_rss_mib cache_mib
awk -v n="$rows" -v s="$wall" -v r="$rss" -v c="$cache_mib" \
  'BEGIN { printf "%10d %10.1f %10.0f %14.1f %12d\n", n, s, n / s, r, c }'

if [ -n "${VERBATIM_BENCH_PERF:-}" ]; then
  perf record -g -o "$work/perf.data" -- target/release/verbatim analyze "$input" \
    --out "$work/perf-out" --model "$model" --cache "$cache" --quiet \
    --threads 2 >/dev/null 2>&1
  perf report -i "$work/perf.data" --no-children --sort dso,symbol --stdio 2>/dev/null \
    | grep -v '^#' | grep -v '^$' | head -40
fi
