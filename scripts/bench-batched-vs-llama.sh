#!/usr/bin/env bash
# Batched decode side by side: frugal bench batched and llama-batched-bench (scripts/build-llama.sh)
# alternated on the same file, same definitions. Usage: scripts/bench-batched-vs-llama.sh MODEL [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
model="$1"; rounds="${2:-2}"
llama=deps/llama.cpp/build/bin/llama-batched-bench
lscpu | grep -E '^Model name' || true
for r in $(seq 1 "$rounds"); do
  echo "== round $r: frugal"
  ./build/app/frugal bench batched -m "$model" -npp 128 -ntg 128 -npl 1,4,8,16 -t 2 --json
  echo "== round $r: llama.cpp"
  "$llama" -m "$model" -npp 128 -ntg 128 -npl 1,4,8,16 -t 2 -c 4608 --output-format jsonl 2>/dev/null | grep '^{' || true
done
