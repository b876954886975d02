#!/bin/bash
# Time to the first token of a fresh server's first requests: starts `frugal serve`, waits for
# /health 200 (printing how long that took), then sends three ~120-token completions one after
# the other (max_tokens 1, greedy, each prompt its own) and prints each one's wall time (curl's
# time_total). Repeats ROUNDS times; extra arguments go to `frugal serve` (e.g. --no-warmup).
#   scripts/bench-first-request.sh [-b BINARY] [-m MODEL] [-r ROUNDS] [-- SERVE_ARGS...]
set -euo pipefail
BIN=build/app/frugal MODEL=models/mini-q8_0-qlora.gguf ROUNDS=3 PORT=18097
while [[ $# -gt 0 ]]; do
  case "$1" in
    -b) BIN=$2; shift 2 ;;
    -m) MODEL=$2; shift 2 ;;
    -r) ROUNDS=$2; shift 2 ;;
    --) shift; break ;;
    *) echo "usage: $0 [-b BINARY] [-m MODEL] [-r ROUNDS] [-- SERVE_ARGS...]" >&2; exit 2 ;;
  esac
done
words=(alpha beta gamma delta river stone cloud paper)
for round in $(seq "$ROUNDS"); do
  "$BIN" serve -m "$MODEL" --port "$PORT" -c 4096 --parallel 4 "$@" 2>/dev/null &
  pid=$!
  t0=$(date +%s%N)
  until [[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/health" || true)" == 200 ]]; do
    kill -0 "$pid" 2>/dev/null || { echo "the server exited" >&2; exit 1; }
    sleep 0.05
  done
  line="ready after $(( ($(date +%s%N) - t0) / 1000000 )) ms;"
  for i in 1 2 3; do
    prompt=""
    for _ in $(seq 60); do prompt+="${words[RANDOM % 8]}$((RANDOM % 1000)) "; done
    t=$(curl -s -o /dev/null -w '%{time_total}' "http://127.0.0.1:$PORT/v1/completions" -H 'Content-Type: application/json' \
        -d "{\"prompt\":\"$prompt\",\"max_tokens\":1,\"temperature\":0}")
    line+=" request $i ${t} s"
  done
  echo "$line"
  kill -TERM "$pid"
  wait "$pid" || true
done
