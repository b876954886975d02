#!/usr/bin/env python3
"""The expert-store commands end to end on a generated model: logits with --expert-budget (and
with --experts-in-place) equal the all-resident logits bit for bit (direct I/O and pread; tiny's
rows are too narrow for the panel order, so the products are the same), bench --json reports the
experts' copy at load (none with a store or --experts-in-place), bench --json and run --stats report
the store, --routing-trace + trace replay (Belady >= LRU; the trace's shape), profile-experts +
the pinned policy, bench experts, and bad flags and files as clear errors (exit 1, no crash).

usage: cli_test.py --frugal build/app/frugal
"""
import argparse
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from cli_check import check, finish, run  # noqa: E402



def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--frugal", required=True)
    f = ap.parse_args().frugal
    with tempfile.TemporaryDirectory(dir=os.environ.get("TMPDIR", "/var/tmp")) as d:
        model = os.path.join(d, "tiny.gguf")
        run(f, ["make-model", "--preset", "tiny", "--dtype", "q8_0", "--skew", "-o", model])
        ids = ",".join(str((i * 37 + 11) % 500) for i in range(40))
        base = os.path.join(d, "all.f32")
        run(f, ["logits", "-m", model, "--ids", ids, "--chunk", "7", "-o", base, "-t", "2"])
        for engine in ["auto", "pread"]:
            out = os.path.join(d, f"store-{engine}.f32")
            run(f, ["logits", "-m", model, "--ids", ids, "--chunk", "7", "-o", out, "-t", "2", "--expert-budget", "30%",
                    "--expert-io", engine])
            with open(base, "rb") as a, open(out, "rb") as b:
                check(a.read() == b.read(), f"logits with a 30% expert budget ({engine}) equal the all-resident logits bit for bit")

        j = json.loads(run(f, ["bench", "-m", model, "-p", "16", "-n", "16", "-r", "1", "--json", "--expert-budget", "30%"]).stdout)
        for key in ["expert_hit_rate", "expert_bytes_read", "io_stall_s", "prefetch_accuracy", "direct_io", "io_engine", "per_layer"]:
            check(key in j, f"bench --json has {key}")
        check(0 < j["expert_hit_rate"] < 1 and j["expert_bytes_read"] > 0, "bench: a 30% budget has hits and reads")
        check(j["routed_expert_copy_bytes"] == 0, "bench: experts the store reads are not copied at load")
        j = json.loads(run(f, ["bench", "-m", model, "-p", "0", "-n", "8", "-r", "1", "--json"]).stdout)
        check("expert_hit_rate" not in j, "bench without --expert-budget reports no store")
        check(j["routed_expert_copy_bytes"] > 0, "bench: without a store the routed experts are copied at load")
        j = json.loads(run(f, ["bench", "-m", model, "-p", "0", "-n", "8", "-r", "1", "--json", "--experts-in-place"]).stdout)
        check(j["routed_expert_copy_bytes"] == 0, "bench --experts-in-place: no copy at load")
        in_place = os.path.join(d, "in-place.f32")
        run(f, ["logits", "-m", model, "--ids", ids, "--chunk", "7", "-o", in_place, "-t", "2", "--experts-in-place"])
        with open(base, "rb") as a, open(in_place, "rb") as b:
            check(a.read() == b.read(), "logits with --experts-in-place equal the copied experts' bit for bit (tiny: no panel order)")

        trace = os.path.join(d, "routing.trace")
        r = run(f, ["logits", "-m", model, "--ids", ids, "--chunk", "1", "--gen", "8", "--routing-trace", trace])
        with open(trace) as t:
            lines = t.read().splitlines()
        check(lines[0] == "# frugal routing trace v1" and lines[1].startswith("layers 3 experts 8 top_k 2"), "trace header")
        check(len(lines) == 3 + (40 + 7) * 2, f"one trace line per token and MoE layer ({len(lines) - 3})")
        rows = [json.loads(x) for x in run(f, ["trace", "replay", trace, "--budget", "30%", "--json"]).stdout.splitlines()]
        rates = {x["policy"]: x for x in rows}
        check(set(rates) == {"lru", "lfu", "belady"}, "replay --json: one object per policy")
        check(all("hit_rate" in x and "bytes_read" in x for x in rows), "replay --json has hit_rate and bytes_read")
        check(rates["belady"]["hit_rate"] >= rates["lru"]["hit_rate"] and rates["belady"]["hit_rate"] >= rates["lfu"]["hit_rate"],
              "Belady is the upper bound")
        check(rates["lru"]["accesses"] == rates["belady"]["accesses"] > 0, "same accesses for every policy")

        prompts = os.path.join(d, "prompts.txt")
        with open(prompts, "w") as p:
            p.write("hello world\nthe quick brown fox\n\nanother prompt here\n")
        profile = os.path.join(d, "profile.txt")
        r = run(f, ["profile-experts", "-m", model, "-f", prompts, "-o", profile, "-n", "4"])
        with open(profile) as p:
            prof = p.read().splitlines()
        check(prof[0] == "# frugal expert profile v1" and prof[1] == "layers 3 experts 8", "profile header")
        check(sum(int(x.split()[2]) for x in prof[2:]) > 0, "profile counts")
        r = run(f, ["run", "-m", model, "-p", "hello", "-n", "8", "--stats", "--expert-budget", "50%", "--expert-policy", "pinned",
                    "--expert-profile", profile])
        check("policy pinned" in r.stderr and "pinned" in r.stderr and "hit rate" in r.stderr, "run --stats with the pinned policy")
        r = run(f, ["trace", "replay", trace, "--budget", "50%", "--policy", "pinned", "--profile", profile])
        check("| pinned |" in r.stdout, "replay with the pinned policy")
        r = run(f, ["bench", "experts", "-m", model, "-r", "1", "--json"])
        j = json.loads(r.stdout)
        check(j["store_read_bytes_per_s"] > 0 and j["raw_read_bytes_per_s"] > 0, "bench experts reports both speeds")

        bad = [
            (["logits", "-m", model, "--ids", "1,2", "--expert-budget", "0%"], "percentage"),
            (["logits", "-m", model, "--ids", "1,2", "--expert-budget", "12Q"], "expert budget"),
            (["logits", "-m", model, "--ids", "1,2", "--expert-budget", "1K"], "a token needs"),
            (["logits", "-m", model, "--ids", "1,2", "--expert-budget", "50%", "--expert-policy", "mru"], "unknown expert policy"),
            (["logits", "-m", model, "--ids", "1,2", "--expert-budget", "50%", "--expert-policy", "pinned"], "needs --expert-profile"),
            (["logits", "-m", model, "--ids", "1,2", "--expert-policy", "lfu"], "need --expert-budget"),
            (["logits", "-m", model, "--ids", "1,2", "--expert-budget", "50%", "--expert-io", "aio"], "I/O engine"),
            (["logits", "-m", model, "--ids", "1,2", "--expert-budget", "50%", "--expert-prefetch", "sometimes"], "auto, on or off"),
            (["logits", "-m", model, "--ids", "1,2", "--expert-budget", "50%", "--expert-policy", "pinned",
              "--expert-profile", trace], "not a frugal expert profile"),
            (["logits", "-m", model, "--ids", "1,2", "--routing-trace", os.path.join(d, "no", "such", "dir", "t")], "cannot create"),
            (["trace", "replay", profile], "not a frugal routing trace"),
            (["trace", "replay", trace, "--budget", "1K"], "cannot hold"),
            (["trace", "replay", trace, "--policy", "pinned"], "needs --profile"),
            (["profile-experts", "-m", model, "-f", os.path.join(d, "missing.txt"), "-o", profile], "cannot open"),
        ]
        for args, msg in bad:
            r = run(f, args, expect_ok=False)
            check(r.returncode == 1 and msg in r.stderr, f"{' '.join(args[:1] + args[3:])[:90]} -> exit 1 with '{msg}'"
                  + ("" if r.returncode == 1 and msg in r.stderr else f" (got {r.returncode}: {r.stderr.strip()[:200]})"))
    finish()


if __name__ == "__main__":
    main()
