#!/usr/bin/env bash
# Sets up (scripts/setup.sh) and runs `verbatim analyze` on the example
# export that ships in examples/data, writing to out/example.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
target/release/verbatim analyze examples/data/responses.csv --out out/example "$@"
