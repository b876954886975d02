#!/usr/bin/env python3
"""Drives tests/server/openai_client.mjs (the official `openai` npm package, pinned under
deps/node) against a `frugal serve` started with --api-key. Exits 77 when node or the package
is missing (scripts/install-deps.sh installs it).

usage: openai_client.py --frugal build/app/frugal
"""

import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402

KEY = "sk-frugal-node-test"


def main():
    args = H.parse_args(__doc__)
    node = shutil.which("node")
    if not node:
        H.skip("node is not installed")
    if not (H.REPO / "deps" / "node" / "node_modules" / "openai" / "package.json").is_file():
        H.skip("deps/node/node_modules/openai is absent; run scripts/install-deps.sh")
    model = H.test_model(args.frugal)
    srv = H.Server(args.frugal, model, ["--api-key", KEY], name="openai-server")
    try:
        srv.start()
    except RuntimeError as e:
        H.fail_now(str(e))
    rc = None
    try:
        script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "openai_client.mjs")
        r = subprocess.run([node, script, str(srv.port), KEY, srv.model_id], timeout=600)
        rc = r.returncode
    except subprocess.TimeoutExpired:
        print("FAIL: openai_client.mjs did not finish within 600 s")
        rc = 1
    finally:
        alive = srv.alive()
        err = srv.stop()
    if not alive:
        print(f"FAIL: the server died during the run\n{srv.stderr_tail()}")
        sys.exit(1)
    if err:
        print(f"FAIL: {err}")
        sys.exit(1)
    if rc == 77:
        sys.exit(77)
    sys.exit(0 if rc == 0 else 1)


if __name__ == "__main__":
    main()
