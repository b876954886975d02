#!/usr/bin/env python3
"""Fails (exit 1) when a per-ISA object in a static library defines a weak or vague-linkage symbol.

Per-ISA translation units (*_avx2.cc, *_avx512.cc, amx_tiles.cc) are compiled for instructions an
older CPU lacks. A weak definition they emit (an out-of-line inline function, a template
instantiation such as std::vector's) may be the copy the linker keeps for the whole program, which
then crashes on such a CPU — unoptimized builds emit many. So those units must define none.

    check_isa_objects.py NM LIBRARY.a
"""
import re
import subprocess
import sys

ISA_MEMBER = re.compile(r"(_avx2|_avx512|amx_tiles)\.cc\.o$")


def main():
    nm, library = sys.argv[1], sys.argv[2]
    out = subprocess.run([nm, "-C", "--defined-only", library], capture_output=True, text=True, check=True).stdout
    member, bad = None, []
    for line in out.splitlines():
        if line.endswith(":") and line.count(" ") == 0:
            member = line[:-1]
            continue
        parts = line.split(" ", 2)
        if member and ISA_MEMBER.search(member) and len(parts) == 3 and parts[1] in ("W", "V", "w", "v", "u"):
            if not parts[2].startswith("DW.ref."):  # exception-handling personality reference: data
                bad.append(f"{member}: {parts[1]} {parts[2]}")
    if bad:
        print("per-ISA objects define weak symbols (move the code out, or give it internal linkage):")
        print("\n".join(bad[:40]))
        return 1
    print(f"per-ISA objects of {library}: no weak symbols")
    return 0


if __name__ == "__main__":
    sys.exit(main())
