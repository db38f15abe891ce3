#!/usr/bin/env bash
# Sets up (scripts/setup.sh) and runs the whole test suite: the fast tests
# (tiny models made by the tests) and the named set `real_model` that checks
# the installed multilingual-e5-small against the reference vectors; the HTML
# report is checked in headless Chromium (installed below when missing).
# Tests run in the release profile: the libtorch bindings are built once.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export VIRTUAL_ENV="$PWD/.venv"
export PATH="$VIRTUAL_ENV/bin:$PATH"
export LIBTORCH_USE_PYTORCH=1
# DuckDB is the independent reader the Parquet tests check the outputs with.
if ! .venv/bin/python -c "import duckdb" 2>/dev/null; then
  echo "[test] installing duckdb into .venv (for the BI output tests)" >&2
  .venv/bin/python -m pip install --quiet --disable-pip-version-check "duckdb==1.4.4"
fi
# Headless Chromium and chromedriver (Debian packages) for the browser test of
# the HTML report, tests/report_browser.rs; it fails without them.
if [ ! -x /usr/bin/chromedriver ]; then
  echo "[test] installing chromium and chromium-driver (for tests/report_browser.rs)" >&2
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver
fi
cargo test --release --locked "$@"
# The named slower set `spark` (scripts/test-spark.sh: a split run on local
# Apache Spark equals a single run; pyspark and, without Java, a Java runtime
# from PyPI), after the whole suite: not when arguments pick some tests.
if [ $# -eq 0 ]; then
  scripts/test-spark.sh
fi
