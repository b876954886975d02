#!/usr/bin/env python3
"""Fails (exit 1) when a source file includes a project header from a layer above its own.

Layer order (low to high) follows ../shared/DESIGN.md. A file may include its own layer and
any layer listed before it. Run by the build (target check_layers), so a wrong include fails it.
"""
import pathlib
import re
import sys

ORDER = ["util", "io", "kernels", "tokenizer", "model", "kv", "experts", "sched", "engine",
         "ledger", "server"]
# kernels must stay model-agnostic: it may include util only (not io).
ALLOWED = {layer: set(ORDER[: i + 1]) for i, layer in enumerate(ORDER)}
ALLOWED["kernels"] = {"util", "kernels"}
ALLOWED["tokenizer"] = {"util", "io", "tokenizer"}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([a-z_]+)/')


def main(root: pathlib.Path) -> int:
    errors = []
    for path in sorted((root / "src").rglob("*")):
        if path.suffix not in (".h", ".cc"):
            continue
        layer = path.relative_to(root / "src").parts[0]
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            m = INCLUDE.match(line)
            if m and m.group(1) in ORDER and m.group(1) not in ALLOWED.get(layer, {layer}):
                errors.append(f"{path.relative_to(root)}:{n}: layer '{layer}' may not include "
                              f"'{m.group(1)}/' (includes point only downward)")
    for e in errors:
        print(e, file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(pathlib.Path(sys.argv[1])))
