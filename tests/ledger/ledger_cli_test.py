#!/usr/bin/env python3
"""The ledger end to end with `frugal run` on a generated tiny model: every generation appends a
record whose tokens equal the run's own report and whose cost equals the tokens priced by hand;
a restart's disk hits and an expert budget's disk reads show in the records; `frugal ledger
report` sums the records (text, --json, --by, --svg); bad input is a clear error.

usage: ledger_cli_test.py --frugal build/app/frugal
"""
import argparse
import json
import os
import re
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from cli_check import check, finish, run  # noqa: E402

PROMPT = " ".join(f"ledger{i % 29} costs tokens {i}" for i in range(50))


def records(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--frugal", required=True)
    f = ap.parse_args().frugal
    with tempfile.TemporaryDirectory() as d:
        model = os.path.join(d, "tiny.gguf")
        run(f, ["make-model", "--preset", "tiny", "-o", model])
        sheet = os.path.join(d, "sheet.json")
        with open(sheet, "w") as s:
            json.dump({"name": "hand", "hit": 1.0, "miss": 10.0, "output": 100.0}, s)
        ledger = os.path.join(d, "ledger.jsonl")
        cache = os.path.join(d, "cache")
        base = ["run", "-m", model, "-p", PROMPT, "-n", "7", "--temp", "0", "-t", "2", "--no-display-prompt",
                "--cache-dir", cache, "--ledger", ledger, "--prices", sheet]
        printed = []
        for _ in range(2):  # the second process hits what the first wrote to disk
            r = run(f, base)
            m = re.search(r"prompt: (\d+) tokens \(cache hit (\d+): (\d+) RAM, (\d+) disk; miss (\d+)\).*generation: (\d+) tokens",
                          r.stderr)
            printed.append(tuple(int(x) for x in m.groups()))
        recs = records(ledger)
        check(len(recs) == 2, f"one record per generation ({len(recs)})")
        for rec, (prompt, hit, ram, disk, miss, out) in zip(recs, printed):
            check((rec["prompt_tokens"], rec["hit_tokens"], rec["hit_disk_tokens"], rec["miss_tokens"], rec["output_tokens"])
                  == (prompt, hit, disk, miss, out), f"record tokens equal the run's report {printed}")
            # hand sheet: $1 / $10 / $100 per 1M hit / miss / output tokens
            want = (hit * 1.0 + miss * 10.0 + out * 100.0) / 1e6
            check(abs(rec["total_usd"] - want) < 1e-12, f"cost {rec['total_usd']} = {want} by hand")
            check(abs(rec["uncached_usd"] - prompt * 10.0 / 1e6) < 1e-12, "uncached prompt cost by hand")
            check(rec["prices"] == "hand" and rec["source"] == "run" and rec["model"] == "tiny.gguf", "names")
            check(rec["mha_bytes_per_token"] > rec["kv_bytes_per_token"] > 0, "latent smaller than multi-head")
            check(rec["kv_peak_bytes"] == (prompt + out - 1) * rec["kv_bytes_per_token"], "peak KV = tokens held × bytes")
            check(rec["prefill_s"] > 0 and rec["decode_s"] > 0 and rec["wall_s"] >= rec["prefill_s"] + rec["decode_s"],
                  "compute seconds within the wall time")
            check(rec["weight_bytes_read"] > 0 and rec["expert_bytes_ram"] > 0, "bytes read")
        check(recs[0]["hit_tokens"] == 0 and recs[1]["hit_disk_tokens"] > 0, "the restart's hits came from disk")
        check(recs[1]["kv_disk_bytes_read"] == recs[1]["hit_disk_tokens"] * recs[1]["kv_bytes_per_token"], "disk KV bytes")

        # An expert budget: experts read from disk, less resident than all.
        run(f, ["run", "-m", model, "-p", PROMPT, "-n", "4", "--temp", "0", "-t", "2", "--no-display-prompt",
                "--expert-budget", "30%", "--ledger", ledger, "--prices", sheet])
        rec = records(ledger)[-1]
        check(rec["expert_bytes_disk"] > 0 and rec["expert_fetches"] > 0, "expert disk reads in the record")
        check(0 < rec["expert_resident_bytes"] < rec["expert_all_bytes"], "resident experts within the budget")

        # frugal bench: a record per timed run, from the session's counters: pp32 reads 32 rows of
        # KV in one step; tg8 reads 1 + 2 + … + 8 = 36 rows in 8 steps and holds 8 tokens.
        bench_ledger = os.path.join(d, "bench.jsonl")
        run(f, ["bench", "-m", model, "-p", "32", "-n", "8", "-r", "2", "-t", "2", "--ledger", bench_ledger])
        brecs = records(bench_ledger)
        check(len(brecs) == 4 and all(b["source"] == "bench" for b in brecs), f"bench: a record per timed run ({len(brecs)})")
        pp, tg = brecs[0], brecs[-1]
        bpt = pp["kv_bytes_per_token"]
        check((pp["prompt_tokens"], pp["miss_tokens"], pp["output_tokens"]) == (32, 32, 0) and pp["prefill_s"] > 0, "bench pp record")
        check(pp["kv_bytes_read"] == 32 * bpt and pp["kv_peak_bytes"] == 32 * bpt, "bench pp KV by hand")
        check((tg["output_tokens"], tg["prompt_tokens"]) == (8, 0) and tg["decode_s"] > 0, "bench tg record")
        check(tg["kv_bytes_read"] == 36 * bpt and tg["kv_peak_bytes"] == 8 * bpt, "bench tg KV by hand")
        check(tg["expert_bytes_ram"] > 0 and tg["weight_bytes_read"] > pp["weight_bytes_read"] > 0, "bench bytes read")

        # The report sums the records.
        recs = records(ledger)
        r = run(f, ["ledger", "report", ledger, "--json", "--by", "source"])
        rep = json.loads(r.stdout)
        check(rep["generations"] == 3, "report counts the generations")
        check(rep["tokens"]["prompt"] == sum(x["prompt_tokens"] for x in recs), "report prompt tokens = Σ records")
        check(rep["tokens"]["hit_disk"] == sum(x["hit_disk_tokens"] for x in recs), "report disk hits = Σ records")
        check(abs(rep["cost"]["total_usd"] - sum(x["total_usd"] for x in recs)) < 1e-12, "report cost = Σ records")
        saved = sum(x["uncached_usd"] - x["hit_usd"] - x["miss_usd"] for x in recs)
        check(abs(rep["saved"]["reuse_price_usd"] - saved) < 1e-12 and saved > 0, "reuse saved at the sheet's prices")
        kv_saved = sum(x["kv_byte_seconds"] * (x["mha_bytes_per_token"] / x["kv_bytes_per_token"] - 1) for x in recs)
        check(abs(rep["saved"]["kv"]["byte_seconds"] - kv_saved) <= 1e-9 * kv_saved, "KV byte-seconds saved = Σ by hand")
        check(rep["saved"]["experts"]["seconds"] <= 0, "the expert budget's waits are a cost, not a saving")
        check([g["key"] for g in rep["groups"]] == ["run"], "grouped by source")
        hw = os.path.join(d, "hw.json")
        with open(hw, "w") as s:
            json.dump({"name": "box", "usd_per_hour": 3.6, "tiers": [{"name": "ram", "gb": 64, "gbps": 50, "usd_per_gb": 5}]}, s)
        svg = os.path.join(d, "ledger.svg")
        r = run(f, ["ledger", "report", ledger, "--by", "day", "--hardware", hw, "--svg", svg])
        check("what each lever saved" in r.stdout and "hardware sheet box" in r.stdout, "text report with the sheet")
        with open(svg) as s:
            check(s.read().startswith("<svg"), "SVG written")

        # Errors, not crashes.
        r = run(f, ["ledger", "report", os.path.join(d, "absent.jsonl")], expect_ok=False)
        check(r.returncode == 1 and "no such file" in r.stderr, "a missing ledger is a clear error")
        r = run(f, ["ledger", "report", ledger, "--by", "week"], expect_ok=False)
        check(r.returncode == 1 and "--by week" in r.stderr, "a bad --by is a clear error")
        r = run(f, ["run", "-m", model, "-p", "x", "-n", "1", "--prices", os.path.join(d, "nosheet.json")], expect_ok=False)
        check(r.returncode == 1 and "price sheet" in r.stderr, "a missing price sheet is a clear error")
        r = run(f, ["run", "-m", model, "-p", "x", "-n", "1", "--ledger", d], expect_ok=False)
        check(r.returncode == 1 and "ledger" in r.stderr, "a directory as the ledger is a clear error")
        with open(ledger, "a") as s:
            s.write('{"v": 1, "prompt_tok')  # torn by a crash
        r = run(f, ["ledger", "report", ledger])
        check("skipped 1 line" in r.stdout, "a torn line is skipped and reported")
    finish()


if __name__ == "__main__":
    main()
