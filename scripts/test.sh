#!/usr/bin/env bash
# The whole test suite: unit tests (release build), the same under ASan+UBSan, the numpy
# reference checks and the broken-file corpus, the server against real clients (release and
# ASan) — all through CTest — and a short smoke run of
# each fuzz target (clang, so that the fuzz build cannot rot unnoticed; docs/FUZZING.md).
#   scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh release
scripts/build.sh asan
(cd build-asan && ctest --output-on-failure -j2 -L unit && ctest --output-on-failure -L server)
(cd build && ctest --output-on-failure -j2)
scripts/build.sh fuzz gguf_reader_fuzz tokenizer_fuzz
work="$(mktemp -d)"  # new inputs go to the first corpus directory: not to the tracked seeds
trap 'rm -rf "$work"' EXIT
for target in build-fuzz/fuzz/*_fuzz; do
  "$target" -max_total_time=5 -seed=1 "$work" tests/data/gguf_corpus fuzz/seeds 2>&1 | tail -n 1
done
