#!/usr/bin/env bash
# frugal and llama.cpp side by side on the same GGUF files, the same machine and the same
# threads, alternated in one run: pp512, tg128 and tg32 at depth 4096 (llama-bench's
# definitions on both sides; each side warms up once per test and reports the median of -r
# runs), and `batched`: aggregate decode S_TG at 1, 4, 8 and 16 sequences (`frugal bench
# batched` and llama-batched-bench, -npp 128 -ntg 128, one run each per round). The rounds
# alternate frugal, llama.cpp, frugal, … and the table gives the median of the rounds' figures
# and their range. Prints the CPU, the kernel path frugal took, the llama.cpp release and, for
# single-sequence decode, frugal's share of the read-bandwidth roofline probed right after each
# of its decode runs. A benchmark, not a test.
#
#   scripts/bench-vs-llama.sh [-r RUNS] [-k ROUNDS] [-t THREADS] [--tests "pp512 tg128 tg32@d4096 batched"] [MODEL.gguf …]
#
# Without models: models/mini-{q8_0,q4_K}.gguf (make-model --preset mini --skew --q-lora 512;
# llama.cpp refuses an 8-layer file without q_lora_rank). FRUGAL_ISA=avx512 before the command
# forces frugal's non-AMX path on an AMX CPU.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=3 rounds=3 threads=2 tests="pp512 tg128 tg32@d4096 batched"
models=()
while (($#)); do
  case "$1" in
    -r) runs="$2"; shift 2 ;;
    -k) rounds="$2"; shift 2 ;;
    -t) threads="$2"; shift 2 ;;
    --tests) tests="$2"; shift 2 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) models+=("$1"); shift ;;
  esac
done
scripts/install-deps.sh
scripts/build.sh release
scripts/build-llama.sh
FRUGAL=build/app/frugal
LLAMA_BENCH=deps/llama.cpp/build/bin/llama-bench
LLAMA_BATCHED=deps/llama.cpp/build/bin/llama-batched-bench
PY=/usr/bin/python3
if ((${#models[@]} == 0)); then
  mkdir -p models
  for t in q8_0 q4_K; do
    m="models/mini-$t-qlora.gguf"
    [ -f "$m" ] || "$FRUGAL" make-model --preset mini --skew --q-lora 512 --dtype "$t" -o "$m" >&2
    models+=("$m")
  done
fi

flags="$(grep -m1 '^flags' /proc/cpuinfo)"
has() { [[ " $flags " == *" $1 "* ]] && echo "$1" || echo "no $1"; }
echo "CPU: $(lscpu | sed -n 's/^Model name: *//p'), family $(lscpu | sed -n 's/^CPU family: *//p') model $(lscpu | sed -n 's/^Model: *//p') ($(has avx512_vnni), $(has avx512_bf16), $(has amx_tile)); $(nproc) CPUs online, $threads threads used"
echo "frugal: $(git rev-parse --short HEAD 2>/dev/null || echo '?'); multi-token path: $("$FRUGAL" bench matmul --type q8_0 --rows 16 --cols 64 --tokens 64 -r 1 | tail -n 1 | cut -d'|' -f6-8 | tr -s ' ')"
echo "llama.cpp: release $(cat deps/llama.cpp/FRUGAL_RELEASE) ($(git -C deps/llama.cpp rev-parse --short HEAD)), GGML_NATIVE, OpenMP"
echo

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
for m in "${models[@]}"; do
  for test in $tests; do
    if [ "$test" = batched ]; then
      for ((k = 0; k < rounds; ++k)); do
        "$FRUGAL" bench batched -m "$m" -npp 128 -ntg 128 -npl 1,4,8,16 -t "$threads" --json > "$work/fb-$k.jsonl"
        "$LLAMA_BATCHED" -m "$m" -npp 128 -ntg 128 -npl 1,4,8,16 -t "$threads" -c 4608 --output-format jsonl 2>/dev/null |
          grep '^{' > "$work/lb-$k.jsonl"
      done
      "$PY" - "$work" "$rounds" "$m" <<'EOF' >> "$work/rows.txt"
import json, statistics, sys
work, rounds, model = sys.argv[1], int(sys.argv[2]), sys.argv[3]
def s_tg(prefix):
    by_pl = {}
    for k in range(rounds):
        for line in open(f"{work}/{prefix}-{k}.jsonl"):
            r = json.loads(line)
            by_pl.setdefault(r["pl"], []).append(r["speed_tg"])
    return by_pl
f, l = s_tg("fb"), s_tg("lb")
for pl in sorted(f):
    a, b = f[pl], l.get(pl, [float("nan")])
    print(f"| {model} | S_TG, {pl} seq | {statistics.median(a):.1f} ({min(a):.1f}..{max(a):.1f}) | "
          f"{statistics.median(b):.1f} ({min(b):.1f}..{max(b):.1f}) | **{statistics.median(a) / statistics.median(b):.2f}×** | – |")
EOF
      continue
    fi
    n="${test%%@*}"; kind="${n:0:2}"; count="${n:2}"; depth=0
    [[ "$test" == *@d* ]] && depth="${test##*@d}"
    # decode runs also probe the read bandwidth right after (frugal bench --roofline), each round
    if [ "$kind" = pp ]; then fp=(-p "$count" -n 0); roof=(); else fp=(-p 0 -n "$count"); roof=(--roofline); fi
    for ((k = 0; k < rounds; ++k)); do
      "$FRUGAL" bench -m "$m" "${fp[@]}" -d "$depth" -r "$runs" -t "$threads" "${roof[@]}" --json > "$work/frugal-$k.json"
      "$LLAMA_BENCH" -m "$m" "${fp[@]}" -d "$depth" -r "$runs" -t "$threads" -o json 2>/dev/null > "$work/llama-$k.json"
    done
    "$PY" - "$work" "$rounds" "$m" "$test" <<'EOF' >> "$work/rows.txt"
import json, statistics, sys
work, rounds, model, test = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
runs = [json.load(open(f"{work}/frugal-{k}.json")) for k in range(rounds)]
f = [r["tests"][0]["median"] for r in runs]
l = [statistics.median(json.load(open(f"{work}/llama-{k}.json"))[0]["samples_ts"]) for k in range(rounds)]
share = "–"
if "roofline" in runs[0]:
    # each round's decode rate over the roofline probed right after it (bandwidth ÷ the bytes a
    # token reads at this test's mean context: weights + latent cache)
    shares = [r["tests"][0]["median"] / r["roofline"]["decode_roofline_tokens_per_s"] for r in runs]
    bw = [r["roofline"]["read_bandwidth_bytes_per_s"] / 1e9 for r in runs]
    share = f"{100 * statistics.median(shares):.0f}% ({100 * min(shares):.0f}..{100 * max(shares):.0f}; probe {min(bw):.0f}..{max(bw):.0f} GB/s)"
print(f"| {model} | {test} | {statistics.median(f):.1f} ({min(f):.1f}..{max(f):.1f}) | "
      f"{statistics.median(l):.1f} ({min(l):.1f}..{max(l):.1f}) | **{statistics.median(f) / statistics.median(l):.2f}×** | {share} |")
EOF
  done
done
echo "| model | test | frugal t/s (median of rounds, range) | llama.cpp t/s | frugal ÷ llama.cpp | frugal's share of the bandwidth roofline |"
echo "|---|---|---|---|---|---|"
cat "$work/rows.txt"
