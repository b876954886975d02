#!/usr/bin/env python3
"""The expert store's benchmark (docs/BENCHMARKS.md, "Expert store").

  scripts/bench-experts.py [-r ROUNDS] [-t THREADS] [--models q8_0,q4_K,uniform]

For `mini` q8_0 and q4_K made with --skew (and q8_0 without it: uniform routing), decode
speed (`frugal bench -p 0 -n 128`, llama-bench's tg128) with every routed expert in RAM and with
expert budgets of 100/50/25/10 %, rounds alternating all budgets, the page cache dropped
before every run when this runs as root; the store's hit rate, I/O stall, prefetch accuracy
and peak RSS against the budget's promise. Then the policies on a routing trace of the same
decode (`trace replay`: LRU, LFU and Belady at each budget) and the disk tier's read speed
(`frugal bench experts`). Medians over the rounds; the CPU from lscpu.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FRUGAL = os.path.join(ROOT, "build", "app", "frugal")
MODELS = {
    "q8_0": ("models/mini-q8_0-qlora.gguf", ["--dtype", "q8_0", "--skew"]),
    "q4_K": ("models/mini-q4_K-qlora.gguf", ["--dtype", "q4_K", "--skew"]),
    "uniform": ("models/mini-q8_0-uniform.gguf", ["--dtype", "q8_0"]),
}
BUDGETS = ["all", "100%", "50%", "25%", "10%"]


def run(args):
    return subprocess.run(args, check=True, capture_output=True, text=True, cwd=ROOT).stdout


def drop_caches():
    try:
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("1\n")
        return True
    except OSError:
        return False


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-r", "--rounds", type=int, default=3)
    ap.add_argument("-t", "--threads", type=int, default=2)
    ap.add_argument("--models", default="q8_0,q4_K,uniform")
    a = ap.parse_args()
    cpu = [l.split(":", 1)[1].strip() for l in run(["lscpu"]).splitlines() if l.startswith("Model name")]
    print(f"CPU: {cpu[0] if cpu else '?'}; {a.threads} threads; {a.rounds} rounds")
    names = a.models.split(",")
    for n in names:
        path, flags = MODELS[n]
        if not os.path.exists(os.path.join(ROOT, path)):
            run([FRUGAL, "make-model", "--preset", "mini", "--q-lora", "512", "-o", path] + flags)
    results = {}  # (model, budget) -> list of dicts
    dropped = False
    for r in range(a.rounds):
        for n in names:
            for b in BUDGETS:
                dropped = drop_caches()
                args = [FRUGAL, "bench", "-m", MODELS[n][0], "-p", "0", "-n", "128", "-r", "3", "-t", str(a.threads), "--json"]
                if b != "all":
                    args += ["--expert-budget", b]
                j = json.loads(run(args))
                results.setdefault((n, b), []).append(j)
                print(f"round {r + 1} {n} {b}: {j['tests'][0]['median']:.1f} t/s", file=sys.stderr)
    print(f"page cache dropped before each run: {dropped}")
    print("\n| model | expert budget | tg128 t/s (median) | vs all in RAM | hit rate | prefetch accuracy | I/O stall s | read MiB | peak RSS MiB | RSS bound MiB |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for n in names:
        base = statistics.median(j["tests"][0]["median"] for j in results[(n, "all")])
        file_bytes = results[(n, "all")][0]["file_bytes"]
        for b in BUDGETS:
            js = results[(n, b)]
            tg = statistics.median(j["tests"][0]["median"] for j in js)
            rss = statistics.median(j["peak_rss_bytes"] for j in js) / 2**20
            if b == "all":
                print(f"| {n} | all (mapping) | {tg:.1f} | 1.00 | - | - | - | - | {rss:.0f} | - |")
                continue
            hit = statistics.median(j["expert_hit_rate"] for j in js)
            acc = statistics.median(j["prefetch_accuracy"] for j in js)
            stall = statistics.median(j["io_stall_s"] for j in js)
            read = statistics.median(j["expert_bytes_read"] for j in js) / 2**20
            budget = js[0]["expert_budget_bytes"]
            routed = js[0]["expert_budget_bytes"] / (float(b[:-1]) / 100)
            # non-expert bytes + budget, + 10%; KV (128 positions: ~1 MiB) and scratch inside the 10%
            bound = ((file_bytes - routed) + budget) * 1.10 / 2**20
            print(f"| {n} | {b} | {tg:.1f} | {tg / base:.2f} | {100 * hit:.1f}% | {100 * acc:.1f}% | {stall:.2f} | {read:.0f} | {rss:.0f} | {bound:.0f} |")
    print("\nPolicies on a routing trace of the same decode (tg256 of random ids, all experts in RAM):")
    with tempfile.TemporaryDirectory() as d:
        for n in names:
            trace = os.path.join(d, f"{n}.trace")
            run([FRUGAL, "bench", "-m", MODELS[n][0], "-p", "0", "-n", "256", "-r", "1", "--no-warmup", "-t", str(a.threads),
                 "--routing-trace", trace])
            print(f"\n{n}:\n| budget | LRU | LFU | Belady | LRU / Belady |\n|---|---|---|---|---|")
            for b in ["50%", "25%", "10%"]:
                rows = [json.loads(l) for l in run([FRUGAL, "trace", "replay", trace, "--budget", b, "--json"]).splitlines()]
                hr = {x["policy"]: x["hit_rate"] for x in rows}
                print(f"| {b} | {100 * hr['lru']:.1f}% | {100 * hr['lfu']:.1f}% | {100 * hr['belady']:.1f}% | {hr['lru'] / hr['belady']:.3f} |")
    print("\nDisk tier read speed:")
    drop_caches()
    print(run([FRUGAL, "bench", "experts", "-m", MODELS[names[0]][0], "-r", str(a.rounds)]))


if __name__ == "__main__":
    main()
