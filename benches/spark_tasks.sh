#!/usr/bin/env bash
# Comments per second of a split run's per-comment stage on local Spark with
# 1, 2 and 4 tasks (scripts/spark_split_run.py), on the same export, the
# model loaded once per task (--load per-task: one `analyze --part` per
# partition) and once per Python worker (--load per-worker: one `analyze
# --part-worker` kept by each worker), with more partitions than tasks; plus
# a plain `verbatim analyze` for comparison.
#
#   benches/spark_tasks.sh [EXPORT.csv] [PYTHON] [PARTITIONS]
#
# EXPORT defaults to the example (339 rows); a larger one shows more (e.g. a
# CSV of 2,000 comments with a score column). PYTHON must have pyspark
# (`python3 -m venv /tmp/sparkenv && /tmp/sparkenv/bin/pip install
# pyspark==3.5.3`) and Java 17 must be installed. PARTITIONS defaults to 8.
# Each configuration runs without an embedding cache, so every comment is
# embedded; each verbatim runs with --threads 1 (one core per task), the
# plain run with the default threads. Stage 1's seconds include Spark's start
# and every model load; each line says how many loads there were.
set -euo pipefail
cd "$(dirname "$0")/.."
export_csv="${1:-examples/data/responses.csv}"
python="${2:-/tmp/sparkenv/bin/python}"
partitions="${3:-8}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
rows=$(.venv/bin/python -c "import csv,sys; print(sum(1 for _ in csv.DictReader(open(sys.argv[1], newline=''))))" "$export_csv")
start=$(date +%s.%N)
target/release/verbatim analyze "$export_csv" --out "$work/plain" --quiet --min-n 15 >/dev/null
end=$(date +%s.%N)
echo "plain analyze: $rows rows in $(echo "$end - $start" | bc) s"
for tasks in 1 2 4; do
  for load in per-task per-worker; do
    "$python" scripts/spark_split_run.py "$export_csv" "$work/spark$tasks-$load" \
      --parts "$partitions" --master "local[$tasks]" --load "$load" \
      -- --min-n 15 --threads 1 2>/dev/null | grep '^stage 1'
  done
done
