#!/usr/bin/env bash
# Batched decode side by side: `scripts/bench-vs-llama.sh --tests batched` on one file (frugal bench
# batched and llama-batched-bench alternated, -npp 128 -ntg 128 -npl 1,4,8,16; S_TG and the ratio).
#   scripts/bench-batched-vs-llama.sh MODEL [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
exec scripts/bench-vs-llama.sh -k "${2:-2}" --tests batched "$1"
