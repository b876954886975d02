"""Shared by the command-line test scripts: named checks that keep going after a failure, a
command runner that stops the script when a command that must succeed fails, and the exit."""
import subprocess
import sys

FAILURES = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        FAILURES.append(what)


def run(frugal, args, expect_ok=True, timeout=300, prefix=()):
    """Runs `frugal args` (behind `prefix`, e.g. a limit or a namespace); exits the script if it
    must succeed and does not."""
    r = subprocess.run([*prefix, frugal] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=timeout)
    if expect_ok and r.returncode != 0:
        print(f"command failed ({r.returncode}): {' '.join(args)}\n{r.stderr[-3000:]}")
        sys.exit(1)
    return r


def finish():
    if FAILURES:
        print(f"{len(FAILURES)} failed")
        sys.exit(1)
    print("all passed")
