#!/usr/bin/python3
"""Check frugal's dequantization of every tensor in a GGUF file against this reference.

    compare_dequant.py --frugal PATH/TO/frugal FILE.gguf [--tensor NAME ...]

For each tensor runs `frugal dequant -m FILE --tensor NAME -o TMP` (raw little-endian float32,
ne0 fastest) and requires the result to be bit-identical to dequant.py's (same length, same
float32 bit patterns, NaNs included). Prints one line per mismatching tensor, then a summary
line per tensor type; exits 0 only if every tensor matched.
"""

import argparse
import collections
import os
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dequant  # noqa: E402
import gguf_reader  # noqa: E402


def run_frugal(frugal, gguf_path, name, out_path):
    """Returns an error string, or None if frugal wrote out_path."""
    cmd = [frugal, "dequant", "-m", gguf_path, "--tensor", name, "-o", out_path]
    try:
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as e:
        return "could not run %s: %s" % (" ".join(cmd), e)
    if proc.returncode != 0:
        err = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        return "exit status %d: %s" % (proc.returncode, err[-1] if err else "(no stderr)")
    return None


def compare(ours, theirs):
    """Returns None if bit-identical, else a description of the first difference."""
    if theirs.size != ours.size:
        return "length %d, expected %d" % (theirs.size, ours.size)
    diff_bits = ours.view(np.uint32) != theirs.view(np.uint32)
    if not diff_bits.any():
        return None
    first = int(np.argmax(diff_bits))
    with np.errstate(invalid="ignore", over="ignore"):
        absdiff = np.abs(ours.astype(np.float64) - theirs.astype(np.float64))
    max_diff = np.nanmax(absdiff) if not np.isnan(absdiff).all() else float("nan")
    return ("%d of %d values differ; first at index %d: got %r (0x%08x), expected %r "
            "(0x%08x); max |diff| %g" % (
                int(diff_bits.sum()), ours.size, first, float(theirs[first]),
                int(theirs.view(np.uint32)[first]), float(ours[first]),
                int(ours.view(np.uint32)[first]), max_diff))


def check_tensor(frugal, gf, t, tmpdir):
    out_path = os.path.join(tmpdir, "tensor.f32")
    if os.path.exists(out_path):
        os.unlink(out_path)
    error = run_frugal(frugal, gf.path, t.name, out_path)
    if error is not None:
        return "frugal failed: " + error
    if not os.path.exists(out_path):
        return "frugal exited 0 but did not write %s" % out_path
    size = os.path.getsize(out_path)
    if size % 4 != 0:
        return "output is %d bytes, not a whole number of float32 values" % size
    theirs = np.fromfile(out_path, dtype="<f4")
    ours = dequant.dequantize(gf.raw(t), t.type, t.n_elements)
    return compare(ours, theirs)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--frugal", required=True, help="path to the frugal binary")
    ap.add_argument("--tensor", action="append", help="only these tensors (repeatable)")
    ap.add_argument("file", help="GGUF file")
    args = ap.parse_args(argv)
    if not os.access(args.frugal, os.X_OK):
        print("error: %s is not an executable file" % args.frugal, file=sys.stderr)
        return 2
    gf = gguf_reader.read_gguf(args.file)
    tensors = [t for t in gf.tensors if not args.tensor or t.name in args.tensor]
    per_type = collections.OrderedDict()  # type name -> [matched, total]
    with tempfile.TemporaryDirectory(prefix="compare_dequant.") as tmpdir:
        for t in tensors:
            problem = check_tensor(args.frugal, gf, t, tmpdir)
            counts = per_type.setdefault(t.type_name, [0, 0])
            counts[1] += 1
            if problem is None:
                counts[0] += 1
            else:
                print("MISMATCH %s (%s, dims %s): %s" % (t.name, t.type_name, t.dims, problem))
    for type_name, (matched, total) in per_type.items():
        print("%-6s %d/%d tensors bit-identical%s" % (
            type_name, matched, total, "" if matched == total else "  <-- FAIL"))
    n_bad = sum(total - matched for matched, total in per_type.values())
    print("%s: %d tensors checked, %d mismatched" % (
        "OK" if n_bad == 0 and tensors else "FAILED", len(tensors), n_bad))
    return 0 if n_bad == 0 and tensors else 1


if __name__ == "__main__":
    sys.exit(main())
