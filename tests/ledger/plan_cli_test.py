#!/usr/bin/env python3
"""`frugal plan` end to end: on a generated model file it agrees with `frugal inspect` (KV bytes
per token, weights, routed experts, bytes a token reads); built-in models give the hand-computed
V3 numbers in --json; a hardware sheet and a fleet are reported; bad inputs are clear errors.

usage: plan_cli_test.py --frugal build/app/frugal
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
        # The issue's `mini` (q8_0, its q-LoRA variant as llama.cpp needs it) and the V3-shaped preset.
        for preset, extra in [("mini", ["--q-lora", "512"]), ("v3-shaped", [])]:
            model = os.path.join(d, preset + ".gguf")
            run(f, ["make-model", "--preset", preset, "--dtype", "q8_0", *extra, "-o", model])
            fp = json.loads(run(f, ["inspect", model, "--json"]).stdout)["footprint"]
            p = json.loads(run(f, ["plan", "--model", model, "--context", "1000", "--json"]).stdout)
            check(p["kv_bytes_per_token"]["native"] == fp["kv_latent_bytes_per_token_f16"], f"{preset}: plan's native KV = inspect's latent bytes a token")
            check(p["kv_bytes_per_token"]["mha"] == fp["kv_mha_bytes_per_token_f16"], f"{preset}: plan's multi-head KV = inspect's")
            check(p["weight_bytes"] == fp["total_bytes"], f"{preset}: plan's weights = inspect's total bytes")
            check(p["expert_bytes"] == fp["routed_expert_bytes"], f"{preset}: plan's routed experts = inspect's")
            check(p["active_bytes_per_token"] == fp["active_bytes_per_token"], f"{preset}: plan's bytes a token reads = inspect's")
            check(p["kv_bytes_per_sequence"]["native"] == 1000 * fp["kv_latent_bytes_per_token_f16"], f"{preset}: per sequence = 1000 × per token")
            os.remove(model)

        # llama.cpp's deepseek4 / deepseek32 fixtures: sized (inspect, plan), not run.
        fixtures = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared", "fixtures")
        if os.path.exists(os.path.join(fixtures, "v4-tiny.gguf")):
            v4 = json.loads(run(f, ["inspect", os.path.join(fixtures, "v4-tiny.gguf"), "--json"]).stdout)["kv_layers"]
            # 2 CSA layers · (256 + 128) / 4 + 2 HCA layers · 256 / 128 = 196 B a token; 6 · 32 window rows of 256 B.
            check(v4["kv_bytes_per_token_f16"] == 196 and v4["kv_bytes_per_sequence_f16"] == 6 * 32 * 256,
                  "v4-tiny: 196 B a token + 48 KiB of window a sequence")
            check([k["layers"] for k in v4["kv_by_layer_kind"]] == [2, 2, 2], "v4-tiny: 2 window-only, 2 CSA, 2 HCA layers")
            p4 = json.loads(run(f, ["plan", "--model", os.path.join(fixtures, "v4-tiny.gguf"), "--context", "1000000", "--json"]).stdout)
            # 250,000 CSA rows · 2 layers · 384 B + 7,812 HCA rows · 2 · 256 B + 49,152 B of window
            check(p4["kv_bytes_per_sequence"]["native"] == 250000 * 2 * 384 + 7812 * 2 * 256 + 49152, "v4-tiny at 1M tokens by hand")
            v32 = json.loads(run(f, ["inspect", os.path.join(fixtures, "v32-tiny.gguf"), "--json"]).stdout)["footprint"]
            check(v32["kv_latent_bytes_per_token_f16"] == 3 * (64 + 16 + 64) * 2, "v32-tiny: 3 · (latent 80 + index key 64) · 2 B = 864 B")
            p32 = json.loads(run(f, ["plan", "--model", os.path.join(fixtures, "v32-tiny.gguf"), "--context", "1000", "--json"]).stdout)
            check(p32["kv_bytes_per_token"]["native"] == 864, "plan agrees on v32-tiny's 864 B a token")
        else:
            print("skip: ../shared/fixtures absent (deepseek4/deepseek32 sizing checks)")

        v3 = json.loads(run(f, ["plan", "--model", "deepseek-v3", "--context", "100000", "--requests", "100", "--hit-rate", "1",
                                "--prices", "deepseek-v4-pro-promo", "--json"]).stdout)
        check(v3["kv_bytes_per_token"]["native"] == 70272 and v3["kv_bytes_per_token"]["mha"] == 4997120,
              "V3: 70,272 vs 4,997,120 bytes a token")
        check(v3["kv_bytes_per_sequence"]["native"] == 7027200000, "V3: 7.03 GB a 100K sequence")
        check(abs(v3["cost"]["prompt_usd"] - 0.03625) < 1e-12 and v3["cost"]["total_usd"] == v3["cost"]["prompt_usd"],
              "100 reads of a 100K prompt at $0.003625 per 1M hits = $0.03625")

        hw = os.path.join(d, "hw.json")
        with open(hw, "w") as fh:
            json.dump({"name": "box", "usd_per_hour": 2, "tiers": [{"name": "ram", "gb": 100, "gbps": 100, "usd_per_gb": 4},
                                                                   {"name": "disk", "gb": 2000, "gbps": 5, "usd_per_gb": 0.1}]}, fh)
        h = json.loads(run(f, ["plan", "--model", "deepseek-v3", "--context", "1000", "--weight-type", "fp8", "--hardware", hw,
                               "--fleet", "1e12", "--unit-tokens-per-s", str(1e12 / 86400 / 100), "--unit-usd-per-hour", "10",
                               "--json"]).stdout)
        check(h["hardware"]["fits"] and h["hardware"]["decode_tokens_per_s"] > 0, "hardware: fits, a roofline speed")
        check([t["name"] for t in h["hardware"]["tiers"]] == ["ram", "disk"], "hardware: both tiers reported")
        check(h["fleet"]["units"] == 100 and h["fleet"]["units_with_efficiency"] == 25 and h["fleet"]["units_saved_fraction"] == 0.75,
              "fleet: 4x the throughput removes 75% of the units")
        svg = os.path.join(d, "plan.svg")
        run(f, ["plan", "--model", "deepseek-v3", "--context", "8192", "--sequences", "4", "--hardware", hw, "--svg", svg])
        import xml.etree.ElementTree as ET
        root = ET.parse(svg).getroot()
        lines = [e for e in root.iter() if e.tag.endswith("polyline")]
        titles = " ".join((e.find("{http://www.w3.org/2000/svg}title").text or "") for e in lines)
        check(len(lines) >= 7 and "in ram" in titles and "full multi-head" in titles and "prompt tokens" in titles,
              f"--svg: a well-formed picture with the memory-by-tier and cost series ({len(lines)} lines)")
        text = run(f, ["plan", "--model", "deepseek-v4-flash", "--context", "1000000"]).stdout
        check("native (16-bit)" in text and "full multi-head" in text, "text tables")

        for args, want in [(["--model", "deepseek-v9", "--context", "10"], "unknown model"),
                           (["--model", "deepseek-v3", "--context", "10", "--hit-rate", "2"], "hit-rate"),
                           (["--model", "deepseek-v3", "--context", "10", "--prices", "nope"], "price sheet"),
                           (["--model", "deepseek-v3", "--context", "10", "--weight-type", "q9"], "weight type"),
                           (["--model", os.path.join(d, "missing.gguf"), "--context", "10"], "missing.gguf")]:
            r = run(f, ["plan"] + args, expect_ok=False)
            check(r.returncode == 1 and want in r.stderr, f"error names it: {' '.join(args)} -> {r.stderr.strip()[:120]}")
    finish()


if __name__ == "__main__":
    main()
