#!/usr/bin/python3
"""List the tensors of a GGUF file, or write one dequantized as raw float32.

    dump_tensors.py FILE --list
    dump_tensors.py FILE --tensor NAME -o OUT.f32

--list prints one line per tensor: name, type, dims (ne0 first, comma-separated), n_bytes.
The .f32 output is little-endian float32 with ne0 fastest (the C++ `frugal dequant` format).
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dequant  # noqa: E402
import gguf_reader  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("file", help="GGUF file")
    ap.add_argument("--list", action="store_true", help="list tensors")
    ap.add_argument("--tensor", help="name of the tensor to dequantize")
    ap.add_argument("-o", "--output", help="output file (raw little-endian float32)")
    args = ap.parse_args(argv)
    if not args.list and not (args.tensor and args.output):
        ap.error("give --list, or --tensor NAME -o OUT.f32")
    try:
        gf = gguf_reader.read_gguf(args.file)
        if args.list:
            for t in gf.tensors:
                print(t.name, t.type_name, ",".join(str(d) for d in t.dims), t.n_bytes)
            return 0
        values = dequant.tensor_to_f32(gf, gf.tensor(args.tensor))
    except BrokenPipeError:  # e.g. piped into head
        return 0
    except (ValueError, KeyError, OSError) as e:
        print("error: %s" % e, file=sys.stderr)
        return 1
    values.astype("<f4").tofile(args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
