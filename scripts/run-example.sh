#!/usr/bin/env bash
# Sets up (scripts/setup.sh) and runs `verbatim analyze` on the example
# export that ships in examples/data, writing to out/example.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# The example has 339 responses: a minimum of 15 mentions per driver instead
# of the default 30 ("small base") lets its main drivers show.
target/release/verbatim analyze examples/data/responses.csv --out out/example --min-n 15 "$@"
