#!/usr/bin/env python3
"""The prefix cache's disk tier end to end with `frugal run` on a generated tiny model: a restart
hits what the previous process wrote (same text, hits reported by tier), corrupted entries are
misses (detected, deleted, same text), kill -9 while entries are written never leaves one that is
served wrong, a full disk (file-size limit) and a read-only directory leave generation working,
and two processes sharing a directory both work.

usage: disk_cache_cli_test.py --frugal build/app/frugal
"""
import argparse
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from cli_check import check, finish, run  # noqa: E402


PROMPT = " ".join(f"word{i % 37} memory cache {i}" for i in range(60))
LONGER = PROMPT + " " + " ".join(f"more{i} text" for i in range(80))  # new blocks after PROMPT's


def run_args(model, cache, extra=(), prompt=PROMPT):
    return ["run", "-m", model, "-p", prompt, "-n", "6", "--temp", "0", "-t", "2", "--kv-type", "f32", "--no-display-prompt",
            "--stats", "--cache-dir", cache, *extra]


def hits(stderr):
    m = re.search(r"cache hit (\d+): (\d+) RAM, (\d+) disk; miss (\d+)", stderr)
    return tuple(int(x) for x in m.groups()) if m else None


def entries(cache):
    out = []
    for root, _, files in os.walk(cache):
        out += [os.path.join(root, f) for f in files if f.endswith(".kvb")]
    return out


def temps(cache):
    return [f for _, _, files in os.walk(cache) for f in files if f.endswith(".tmp")]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--frugal", required=True)
    f = ap.parse_args().frugal
    with tempfile.TemporaryDirectory(dir=os.environ.get("TMPDIR", "/var/tmp")) as d:
        model = os.path.join(d, "tiny.gguf")
        run(f, ["make-model", "--preset", "tiny", "-o", model])
        cache = os.path.join(d, "cache")

        first = run(f, run_args(model, cache))
        h = hits(first.stderr)
        check(h is not None and h[0] == 0, f"first run: no hit ({h})")
        n_entries = len(entries(cache))
        check(n_entries > 0, f"first run: its blocks are on disk at exit ({n_entries} entries)")
        check(not temps(cache), "no temporary file left")

        again = run(f, run_args(model, cache))
        h = hits(again.stderr)
        check(again.stdout == first.stdout, "after a restart: the same text")
        check(h is not None and h[0] > 0 and h[2] == h[0] and h[1] == 0, f"after a restart: every hit from disk ({h})")
        check("disk cache:" in again.stderr and "rejected" in again.stderr, "--stats reports the disk tier")

        # Another model (another fingerprint) shares nothing.
        other = os.path.join(d, "other.gguf")
        run(f, ["make-model", "--preset", "tiny", "--seed", "9", "-o", other])
        h = hits(run(f, run_args(other, cache)).stderr)
        check(h is not None and h[0] == 0, f"another model: no hit from the same directory ({h})")

        # Corrupt every entry of the first model: all misses, deleted, same text.
        shutil.rmtree(cache)
        run(f, run_args(model, cache))
        files = entries(cache)
        for i, path in enumerate(files):
            with open(path, "r+b") as fh:
                if i % 3 == 0:
                    fh.seek(5000)
                    b = fh.read(1)
                    fh.seek(5000)
                    fh.write(bytes([b[0] ^ 0x40]))
                elif i % 3 == 1:
                    fh.truncate(4096 + 1000)
                else:
                    fh.seek(16)
                    fh.write(b"\xff" * 8)  # the model fingerprint
        bad = run(f, run_args(model, cache))
        h = hits(bad.stderr)
        check(bad.stdout == first.stdout, "corrupted entries: the same text")
        check(h is not None and h[2] == 0, f"corrupted entries: no disk hit ({h})")
        check("rejected and deleted" in bad.stderr, "corrupted entries: reported")
        m = re.search(r"(\d+) rejected", bad.stderr)
        check(m is not None and int(m.group(1)) == len(files), f"corrupted entries: each one rejected and deleted ({m and m.group(1)} of {len(files)})")
        check(all(os.path.getsize(p) == os.path.getsize(files[0]) for p in entries(cache)), "corrupted entries: rewritten whole at exit")

        # kill -9 while entries are written (write-through), many times; then every run that
        # follows gives the same text and rejects nothing.
        shutil.rmtree(cache)
        rng = random.Random(5)
        for _ in range(12):
            p = subprocess.Popen([f] + run_args(model, cache, ["--cache-write-through"]), stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(0.05, 0.6))
            p.send_signal(signal.SIGKILL)
            p.wait()
        after = run(f, run_args(model, cache))
        check(after.stdout == first.stdout, "after 12 kill -9 runs: the same text")
        check("0 rejected" in after.stderr, "after kill -9: no entry was bad")
        check(not temps(cache), "after kill -9: temporary files removed at the next start")

        # A full disk: a file-size limit below one entry.
        shutil.rmtree(cache)
        if shutil.which("prlimit"):
            full = run(f, run_args(model, cache), prefix=["prlimit", "--fsize=4096"])
            check(full.stdout == first.stdout, "file-size limit: generation succeeds with the same text")
            check(full.stderr.count("generation goes on without it") == 1, "file-size limit: the error is reported once")
            check(not entries(cache) and not temps(cache), "file-size limit: nothing half-written left")
        else:
            print("skip: no prlimit (util-linux) for the file-size limit")

        # A read-only directory holding entries: reads hit, writes fail (reported once).
        shutil.rmtree(cache)
        run(f, run_args(model, cache))
        if os.geteuid() != 0:
            for root, dirs, _ in os.walk(cache):
                for x in dirs:
                    os.chmod(os.path.join(root, x), 0o555)
            os.chmod(cache, 0o555)
            ro = run(f, run_args(model, cache, ["--cache-write-through"], LONGER))
            for root, dirs, _ in os.walk(cache):
                for x in dirs:
                    os.chmod(os.path.join(root, x), 0o755)
            os.chmod(cache, 0o755)
        else:
            # Root ignores permissions: a read-only bind mount in a private mount namespace.
            script = f'mount --bind "{cache}" "{cache}" && mount -o remount,bind,ro "{cache}" && exec "$@"'
            ro = run(f, run_args(model, cache, ["--cache-write-through"], LONGER), prefix=["unshare", "-m", "sh", "-c", script, "sh"],
                     expect_ok=False)
        if ro.returncode == 0 or "Read-only" in ro.stderr:
            h = hits(ro.stderr)
            check(ro.returncode == 0 and ro.stdout.strip() != "", "read-only directory: generation succeeds")
            check(h is not None and h[2] > 0, f"read-only directory: entries still hit ({h})")
            check(ro.stderr.count("generation goes on without it") == 1, "read-only directory: the write error is reported once")
        else:
            print(f"skip: cannot make a read-only directory here ({ro.stderr.strip()[-200:]})")

        # Two processes on one directory at once (write-through, different prompts sharing a prefix).
        shutil.rmtree(cache)
        procs = [subprocess.Popen([f] + run_args(model, cache, ["--cache-write-through"]), stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for _ in range(2)]
        outs = [p.communicate(timeout=300) for p in procs]
        check(all(p.returncode == 0 for p in procs), "two processes: both succeed")
        check(all(o[0] == first.stdout for o in outs), "two processes: both give the same text")
        last = run(f, run_args(model, cache))
        check(last.stdout == first.stdout and "0 rejected" in last.stderr, "after two writers: entries good")

        r = run(f, ["run", "-m", model, "-p", "x", "--cache-dir", cache, "--cache-disk-budget", "100"], expect_ok=False)
        check(r.returncode == 1 and "holds no entry" in r.stderr, "a budget below one entry: a clear error")
    finish()


if __name__ == "__main__":
    main()
