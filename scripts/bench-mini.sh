#!/usr/bin/env bash
# The issue-#5 benchmark: model `mini` (q8_0 and q4_K) generated here, prefill pp512 and decode
# tg128 (llama-bench definitions), 5 runs each, with the bandwidth roofline.
#   scripts/bench-mini.sh [extra frugal bench flags, e.g. --exact or -t 1]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh release
mkdir -p models
for t in q8_0 q4_K; do
  m="models/mini-$t.gguf"
  [ -f "$m" ] || build/app/frugal make-model --preset mini --skew --dtype "$t" -o "$m"
  build/app/frugal bench -m "$m" -p 512 -n 128 -r 5 --roofline "$@"
done
