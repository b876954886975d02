#!/usr/bin/env python3
"""run_if_exists.py PATH CMD...: runs CMD when PATH exists, else exits 77 (CTest's skip code)
with a message — for checks on ../shared fixtures, which users' clones do not have."""
import os
import subprocess
import sys

if not os.path.exists(sys.argv[1]):
    print(f"SKIP: {sys.argv[1]} is absent (../shared fixtures are not part of a user's clone)")
    sys.exit(77)
sys.exit(subprocess.call(sys.argv[2:]))
