#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan+UBSan) and fuzzes the GGUF reader + model-config
# loader from the broken-file corpus and the micro deepseek2 seeds.
#   scripts/fuzz.sh [RUNS]        (default 1000000)
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-1000000}"
scripts/build.sh fuzz
work=fuzz-corpus/gguf
mkdir -p "$work"
cp -n tests/data/gguf_corpus/*.gguf fuzz/seeds/*.gguf "$work"/ 2>/dev/null || true
build-fuzz/fuzz/gguf_reader_fuzz -runs="$runs" -max_len=16384 -seed=1 -print_final_stats=1 "$work"
