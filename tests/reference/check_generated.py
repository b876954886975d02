#!/usr/bin/env python3
"""Generates small models with `frugal make-model` (every writable dtype, every preset variant but
`mini`) and checks each against this directory's independent numpy reader: every tensor's
dequantized values bit-identical (compare_dequant.py) and `frugal inspect --json` equal to the
values recomputed from the file (check_inspect.py).

    check_generated.py --frugal build/app/frugal [--workdir DIR]

Last line: `N passed, M failed`. Exit 0 only if all pass.
"""
import argparse
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
TOKENIZER = os.path.join(HERE, "..", "..", "deps", "tokenizer-deepseek_v3", "models", "tokenizer.json")

DTYPES = ["f32", "f16", "bf16", "q8_0", "q4_0", "q4_1", "q5_0", "q5_1", "q4_K", "q5_K", "q6_K"]
VARIANTS = [("tiny-" + d, ["--preset", "tiny", "--dtype", d]) for d in DTYPES] + [
    ("tiny-noq-legacy-yarn", ["--preset", "tiny", "--q-lora", "0", "--kv-b", "legacy", "--yarn-factor", "8"]),
    ("tiny-v2", ["--preset", "tiny", "--gguf-version", "2", "--dtype", "q8_0"]),
    ("v3-shaped", ["--preset", "v3-shaped"]),
    ("v3-shaped-skew-q4_K", ["--preset", "v3-shaped", "--skew", "--dtype", "q4_K"]),
]


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    return p.returncode, p.stdout + p.stderr


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--frugal", required=True)
    ap.add_argument("--workdir")
    args = ap.parse_args()
    workdir = args.workdir or tempfile.mkdtemp(prefix="frugal_generated_")
    variants = list(VARIANTS)
    if os.path.exists(TOKENIZER):
        variants.append(("tiny-v3tok-q6_K", ["--preset", "tiny-v3tok", "--dtype", "q6_K"]))
    else:
        print("SKIP tiny-v3tok: tokenizer absent (scripts/install-deps.sh fetches it)")
    passed = failed = 0
    files = []
    for name, flags in variants:
        path = os.path.join(workdir, name + ".gguf")
        rc, out = run([args.frugal, "make-model", *flags, "-o", path])
        if rc != 0:
            print(f"FAIL make-model {name}: {out.strip()}")
            failed += 1
            continue
        files.append(path)
        rc, out = run([sys.executable, os.path.join(HERE, "compare_dequant.py"), "--frugal", args.frugal, path])
        ok = rc == 0
        print(f"{'PASS' if ok else 'FAIL'} dequant {name}" + ("" if ok else "\n" + out))
        passed, failed = passed + ok, failed + (not ok)
    rc, out = run([sys.executable, os.path.join(HERE, "check_inspect.py"), "--frugal", args.frugal, *files])
    ok = rc == 0
    print(("PASS" if ok else "FAIL") + f" inspect on {len(files)} files" + ("" if ok else "\n" + out))
    passed, failed = passed + ok, failed + (not ok)
    for f in files:
        os.remove(f)
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
