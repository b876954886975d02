#!/usr/bin/env bash
# The whole test suite: unit tests (release build), the same under ASan+UBSan, the numpy
# reference checks and the broken-file corpus — all through CTest.
#   scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh release
scripts/build.sh asan
(cd build-asan && ctest --output-on-failure -j2 -L unit)
(cd build && ctest --output-on-failure -j2)
