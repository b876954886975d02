#!/usr/bin/env bash
# Soak test of `frugal serve`: 32 concurrent clients (streaming and whole requests, disconnects,
# bad requests) for $DURATION seconds; the server's memory is sampled every 10 s.
# Passes when: no 5xx answers, no broken streams or client-side errors, no hung clients, the server
# is alive at the end (and exits 0 on SIGTERM), and its memory at the end is within 10% of the
# memory after warm-up (at 60 s). Memory = RssAnon (heap, KV pool, buffers) from /proc/PID/status:
# VmRSS also counts the mmap'd weights, which grow as more experts are touched (not a leak; a
# 300 s run on mini-q8_0 went 680 -> 940 MiB VmRSS that way); VmRSS is printed as well.
#
# usage: scripts/soak.sh [MODEL]           (default models/mini-q8_0-qlora.gguf)
# env:   DURATION=300 CLIENTS=32 FRUGAL=build/app/frugal SERVE_ARGS="--parallel 8" MAX_TOKENS=48
set -euo pipefail
cd "$(dirname "$0")/.."

MODEL=${1:-models/mini-q8_0-qlora.gguf}
FRUGAL=${FRUGAL:-build/app/frugal}
DURATION=${DURATION:-300}
CLIENTS=${CLIENTS:-32}
MAX_TOKENS=${MAX_TOKENS:-48}
SERVE_ARGS=${SERVE_ARGS:-}
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
WARMUP=60
((DURATION > WARMUP + 10)) || WARMUP=$((DURATION / 2))

[ -x "$FRUGAL" ] || { echo "soak: $FRUGAL is not built" >&2; exit 2; }
[ -f "$MODEL" ] || { echo "soak: $MODEL is absent (make-model --preset mini --skew --q-lora 512 --dtype q8_0)" >&2; exit 2; }

WORK=$(mktemp -d -t frugal-soak.XXXXXX)
PORT=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
URL="http://127.0.0.1:$PORT"
echo "soak: $FRUGAL serve -m $MODEL --port $PORT $SERVE_ARGS; $CLIENTS clients for $DURATION s; logs in $WORK"

# shellcheck disable=SC2086
"$FRUGAL" serve -m "$MODEL" --host 127.0.0.1 --port "$PORT" $SERVE_ARGS >"$WORK/server.out" 2>"$WORK/server.err" &
SPID=$!
CPID=""
cleanup() {
  if [ -n "$CPID" ]; then kill "$CPID" 2>/dev/null || true; fi
  if kill -0 "$SPID" 2>/dev/null; then kill -KILL "$SPID" 2>/dev/null || true; fi
}
trap cleanup EXIT

for _ in $(seq 1 600); do
  kill -0 "$SPID" 2>/dev/null || { echo "soak: the server exited while starting" >&2; tail -20 "$WORK/server.err" >&2; exit 1; }
  code=$(curl -s -o /dev/null -w '%{http_code}' "$URL/health" || true)
  [ "$code" = 200 ] && break
  sleep 0.2
done
[ "$code" = 200 ] || { echo "soak: /health never answered 200" >&2; tail -20 "$WORK/server.err" >&2; exit 1; }

# KiB of one /proc/PID/status field (0 once the process is gone)
mem() { local v; v=$(awk -v f="$1:" '$1 == f {print $2}' "/proc/$SPID/status" 2>/dev/null); echo "${v:-0}"; }
rss() { mem RssAnon; }

"$PY" tests/server/soak_client.py --url "$URL" --clients "$CLIENTS" --duration "$DURATION" \
  --max-tokens "$MAX_TOKENS" --out "$WORK/stats.json" >"$WORK/client.out" 2>&1 &
CPID=$!

START=$(date +%s)
RSS_WARM=""
RSS_WARM_T=0
echo "   t(s) RssAnon(MiB) VmRSS(MiB)"
while kill -0 "$CPID" 2>/dev/null; do
  sleep 10
  now=$(($(date +%s) - START))
  r=$(rss)
  v=$(mem VmRSS)
  awk -v t="$now" -v r="$r" -v v="$v" 'BEGIN { printf "%7d %12.1f %10.1f\n", t, r / 1024, v / 1024 }'
  echo "$now $r $v" >>"$WORK/rss.txt"
  if [ -z "$RSS_WARM" ] && ((now >= WARMUP)); then RSS_WARM=$r; RSS_WARM_T=$now; fi
  kill -0 "$SPID" 2>/dev/null || break
done
kill -0 "$SPID" 2>/dev/null || kill "$CPID" 2>/dev/null || true  # the server died: stop the load
wait "$CPID" || true
CPID=""
RSS_END=$(rss)
VMRSS_END=$(mem VmRSS)
[ -n "$RSS_WARM" ] || { RSS_WARM=$RSS_END; RSS_WARM_T=$(($(date +%s) - START)); }

FAIL=0
ALIVE=no
kill -0 "$SPID" 2>/dev/null && ALIVE=yes
if [ ! -s "$WORK/stats.json" ]; then
  echo "soak: the client wrote no summary:" >&2
  tail -30 "$WORK/client.out" >&2
  FAIL=1
  REQS=0 N5XX=unknown HUNG=unknown BROKEN=unknown CERR=unknown
else
  read -r REQS N5XX HUNG BROKEN CERR <<<"$("$PY" -c 'import json,sys; s=json.load(open(sys.argv[1])); print(s["requests"], s["count_5xx"], s["hung_clients"], s["count_broken"], s["count_client_errors"])' "$WORK/stats.json")"
fi

echo
echo "requests done:     $REQS"
echo "5xx answers:       $N5XX"
echo "hung clients:      $HUNG"
echo "broken answers:    $BROKEN (streams without [DONE], no answer)"
echo "client errors:     $CERR (connection refused/reset, bad JSON)"
echo "server alive:      $ALIVE"
echo "RssAnon after warm-up: $((RSS_WARM / 1024)) MiB (at ${RSS_WARM_T} s)"
echo "RssAnon at the end:    $((RSS_END / 1024)) MiB (VmRSS $((VMRSS_END / 1024)) MiB)"
if [ -s "$WORK/stats.json" ]; then cat "$WORK/stats.json"; echo; fi

[ "$N5XX" = 0 ] || { echo "FAIL: 5xx answers" >&2; FAIL=1; }
[ "$HUNG" = 0 ] || { echo "FAIL: clients hung" >&2; FAIL=1; }
[ "$BROKEN" = 0 ] || { echo "FAIL: broken answers" >&2; FAIL=1; }
[ "$CERR" = 0 ] || { echo "FAIL: client-side errors (see client_errors)" >&2; FAIL=1; }
[ "$ALIVE" = yes ] || { echo "FAIL: the server died" >&2; tail -30 "$WORK/server.err" >&2; FAIL=1; }
((REQS > 0)) || { echo "FAIL: no request completed" >&2; FAIL=1; }
# Memory is a promise: the KV pool (--kv-budget) is committed as blocks are first written and
# kept as prefix cache, so RssAnon may grow by the budget and no more, and must be flat at the end.
KV_KIB=$(grep -o 'blocks of [0-9]* tokens ([0-9.]* MiB)' "$WORK/server.err" | head -1 | sed 's/.*(\([0-9.]*\) MiB)/\1/' | awk '{printf "%d", $1 * 1024}')
RSS_FIRST=$(awk 'NR == 1 {print $2}' "$WORK/rss.txt")
LAST_T=$(awk 'END {print $1}' "$WORK/rss.txt")
RSS_TWO_THIRDS=$(awk -v t="$LAST_T" '$1 >= t * 2 / 3 {print $2; exit}' "$WORK/rss.txt")
echo "KV budget:             $((${KV_KIB:-0} / 1024)) MiB; RssAnon first $((${RSS_FIRST:-0} / 1024)) MiB, at 2/3 $((${RSS_TWO_THIRDS:-0} / 1024)) MiB"
if [ -n "$RSS_FIRST" ] && ((RSS_END * 100 > (RSS_FIRST + ${KV_KIB:-0}) * 110)); then
  echo "FAIL: RssAnon grew beyond the KV budget + 10% ($((RSS_FIRST / 1024)) + $((${KV_KIB:-0} / 1024)) -> $((RSS_END / 1024)) MiB)" >&2
  FAIL=1
fi
if [ -n "$RSS_TWO_THIRDS" ] && ((RSS_END * 100 > RSS_TWO_THIRDS * 103)); then
  echo "FAIL: RssAnon still grows in the last third ($((RSS_TWO_THIRDS / 1024)) -> $((RSS_END / 1024)) MiB)" >&2
  FAIL=1
fi
if [ "$ALIVE" = yes ]; then
  kill -TERM "$SPID"
  for _ in $(seq 1 300); do kill -0 "$SPID" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$SPID" 2>/dev/null; then
    echo "FAIL: the server did not exit within 30 s of SIGTERM" >&2
    FAIL=1
  else
    set +e; wait "$SPID"; RC=$?; set -e
    [ "$RC" = 0 ] || { echo "FAIL: the server exited with $RC after SIGTERM" >&2; FAIL=1; }
  fi
fi
((FAIL == 0)) && echo "soak: PASS" || echo "soak: FAIL (logs in $WORK)"
exit "$FAIL"
