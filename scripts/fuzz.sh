#!/usr/bin/env bash
# Fuzzes the parsers with cargo-fuzz (libFuzzer): each target in fuzz/ runs
# for a bounded time, then the statistics are printed (runs, execs/s, peak
# memory, crashes). Usage: scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
#   SECONDS_PER_TARGET  default 120
#   TARGET              default all: ingest_csv ingest_jsonl taxonomy
#
# Needs cargo-fuzz (`cargo install cargo-fuzz`) and the project's .venv (for
# libtorch, which the library links). cargo-fuzz uses nightly flags; on the
# stable toolchain RUSTC_BOOTSTRAP=1 allows them. No sanitizer: the code
# under test is safe Rust, and libtorch is not built for one. The fuzz crate
# is a workspace of its own, outside the normal build, tests and CI.
#
# A crash, a hang (an input over 10 s) or an out-of-memory (over 4 GiB) is
# saved under fuzz/artifacts/TARGET/; keep it as a regression input in
# tests/data/fuzz/TARGET/ (tests/fuzz_regressions.rs replays that folder).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-120}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(ingest_csv ingest_jsonl taxonomy)

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "[fuzz] cargo-fuzz is missing: cargo install cargo-fuzz" >&2
  exit 2
fi
if [ -d .venv ]; then
  export VIRTUAL_ENV="$PWD/.venv"
  export PATH="$VIRTUAL_ENV/bin:$PATH"
fi
export LIBTORCH_USE_PYTORCH=1
export RUSTC_BOOTSTRAP=1
torch_lib="$(python -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "lib"))')"
export LD_LIBRARY_PATH="$torch_lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

# Seed corpora from files of the project (the first byte of an ingest input
# picks the options, 0 = all detected; see fuzz/fuzz_targets/check.rs), plus
# the regression inputs.
seed() {
  local target="$1" dir="fuzz/corpus/$1"
  mkdir -p "$dir"
  case "$target" in
    ingest_csv)
      { printf '\0'; head -c 4000 examples/data/responses.csv; } > "$dir/seed-example.csv"
      printf '\0\xef\xbb\xbfID;NPS;Kommentar\r\n1;9;"gut;\r\nschnell"\r\n2;x;y\r\n' > "$dir/seed-semicolon.csv"
      ;;
    ingest_jsonl)
      printf '\0{"id":"a","score":9,"comment":"ok"}\n{"id":"a","score":"x"}\nnope\n' > "$dir/seed.jsonl"
      ;;
    taxonomy)
      cp models/taxonomy/contact-center.toml "$dir/seed-contact-center.toml"
      ;;
  esac
  if [ -d "tests/data/fuzz/$target" ]; then
    cp tests/data/fuzz/"$target"/* "$dir"/ 2>/dev/null || true
  fi
}

echo "[fuzz] building the targets (release, no sanitizer)" >&2
cargo fuzz build -s none >&2

summary=()
status=0
for t in "${targets[@]}"; do
  seed "$t"
  log="fuzz/$t.log"
  mkdir -p "fuzz/artifacts/$t"
  before=$(find "fuzz/artifacts/$t" -type f | wc -l)
  echo "[fuzz] $t for ${seconds}s (log: $log)" >&2
  set +e
  cargo fuzz run -s none "$t" -- \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 -max_len=65536 \
    -print_final_stats=1 >"$log" 2>&1
  rc=$?
  set -e
  after=$(find "fuzz/artifacts/$t" -type f | wc -l)
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  speed=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  rss=$(grep -o 'stat::peak_rss_mb: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*')
  crashes=$((after - before))
  summary+=("$(printf '%-14s %10s runs %8s execs/s %6s MB peak %6s edges %3d new crashes (exit %d)' \
    "$t" "${runs:-?}" "${speed:-?}" "${rss:-?}" "${cov:-?}" "$crashes" "$rc")")
  if [ "$rc" -ne 0 ] || [ "$crashes" -gt 0 ]; then
    status=1
    grep -E '^(==|thread|panicked|SUMMARY|artifact_prefix|Test unit written)' "$log" | head -20 >&2 || true
  fi
done
echo "[fuzz] ${seconds}s per target:"
printf '  %s\n' "${summary[@]}"
exit "$status"
