#!/usr/bin/env bash
# One command from a fresh Debian 12 machine to frugal's main job:
#   scripts/demo.sh [MODEL.gguf]
# installs what is missing, builds, and (when no model is given) generates the demo model
# (`mini`: DeepSeek-V2-Lite shape, ~1.0 B parameters, q8_0, the real DeepSeek-V3 tokenizer)
# then shows what frugal knows about it and generates from a prompt (the main job).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh release
model="${1:-}"
if [ -z "$model" ]; then
  model=models/demo-mini-q8_0.gguf
  if [ ! -f "$model" ]; then
    mkdir -p models
    echo "generating the demo model $model (once)" >&2
    build/app/frugal make-model --preset mini --skew -o "$model"
  fi
fi
build/app/frugal inspect "$model"
echo
build/app/frugal run -m "$model" -p "The three levers of frugal inference are" -n 48 --seed 1
