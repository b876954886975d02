#!/usr/bin/env bash
# Builds llama.cpp's CPU tools (llama-bench, llama-batched-bench, llama-perplexity, llama-server)
# outside the source tree, under deps/llama.cpp, once — for side-by-side measurements only
# (scripts/bench-vs-llama.sh); nothing of it is linked into frugal.
# The source is the git bundle that the npm package node-llama-cpp ships (llama/gitRelease.bundle);
# the package version is pinned here, and llama/binariesGithubRelease.json names the llama.cpp
# release it carries (printed below).
#   scripts/build-llama.sh      → deps/llama.cpp/build/bin/llama-*
set -euo pipefail
cd "$(dirname "$0")/.."
PKG="node-llama-cpp@3.22.1"
dir="deps/llama.cpp"
if [ -x "$dir/build/bin/llama-bench" ] && [ -x "$dir/build/bin/llama-batched-bench" ]; then exit 0; fi
command -v cmake >/dev/null && command -v git >/dev/null && command -v npm >/dev/null || scripts/install-deps.sh
mkdir -p deps/npm
tgz="deps/npm/node-llama-cpp-${PKG##*@}.tgz"
[ -f "$tgz" ] || (cd deps/npm && npm pack --silent "$PKG" >/dev/null)
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
tar -xzf "$tgz" -C "$tmp" package/llama/gitRelease.bundle package/llama/binariesGithubRelease.json
release="$(sed -n 's/.*"release": *"\([^"]*\)".*/\1/p' "$tmp/package/llama/binariesGithubRelease.json")"
echo "llama.cpp release $release (from $PKG)" >&2
if [ ! -d "$dir/.git" ]; then
  rm -rf "$dir"
  git clone -q "$tmp/package/llama/gitRelease.bundle" "$dir"
fi
echo "$release" > "$dir/FRUGAL_RELEASE"
# The CPU backend tuned for this CPU (GGML_NATIVE), OpenMP threads: llama.cpp's default CPU build.
cmake -S "$dir" -B "$dir/build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON -DGGML_OPENMP=ON \
  -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=ON -DLLAMA_BUILD_SERVER=ON >/dev/null
ninja -C "$dir/build" -j2 llama-bench llama-batched-bench llama-perplexity llama-server >&2
