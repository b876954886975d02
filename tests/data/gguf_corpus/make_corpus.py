#!/usr/bin/env python3
"""Writes the hand-made GGUF corpus (valid and broken files) into this directory.

Usage:  python3 tests/data/gguf_corpus/make_corpus.py

Output, next to this script:
  *.gguf        small files (each well under 4 KB), one or a few per error class
  expected.tsv  filename<TAB>verdict<TAB>substring
                verdict is "ok" (must load) or "error" (must be rejected); for errors the
                reader's message must contain substring (case-insensitive); "-" for ok.

The output is deterministic (no randomness, no timestamps). Stale *.gguf files in this
directory that the script no longer makes are removed.

After writing, every file is re-parsed by `reference_parse`, a small Python model of the
C++ reader's contract (first problem in parse order wins), under every combination of the
implementation choices the contract leaves open (how tight the count-vs-remaining-bytes
bounds are, whether the ggml type is checked while reading the tensor info or later, ...).
A case whose expected substring depends on such a choice makes the script fail, so each
file has exactly one unambiguous first problem.

Stdlib only.
"""

import itertools
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

# --------------------------------------------------------------------------------------
# Format constants
# --------------------------------------------------------------------------------------

UINT8, INT8, UINT16, INT16, UINT32, INT32, FLOAT32, BOOL, STRING, ARRAY, UINT64, INT64, FLOAT64 = range(13)

SCALAR_FMT = {
    UINT8: "<B", INT8: "<b", UINT16: "<H", INT16: "<h", UINT32: "<I", INT32: "<i",
    FLOAT32: "<f", BOOL: "<B", UINT64: "<Q", INT64: "<q", FLOAT64: "<d",
}
SCALAR_SIZE = {t: struct.calcsize(f) for t, f in SCALAR_FMT.items()}

F32, F16, Q4_0, Q8_0, Q4_K, BF16 = 0, 1, 2, 8, 12, 30
# (block elements, block bytes) for every ggml type id 0..39; None = removed id.
GGML_TYPES = {
    0: (1, 4), 1: (1, 2), 2: (32, 18), 3: (32, 20), 4: None, 5: None, 6: (32, 22), 7: (32, 24),
    8: (32, 34), 9: (32, 36), 10: (256, 84), 11: (256, 110), 12: (256, 144), 13: (256, 176),
    14: (256, 210), 15: (256, 292), 16: (256, 66), 17: (256, 74), 18: (256, 98), 19: (256, 50),
    20: (32, 18), 21: (256, 110), 22: (256, 82), 23: (256, 136), 24: (1, 1), 25: (1, 2),
    26: (1, 4), 27: (1, 8), 28: (1, 8), 29: (256, 56), 30: (1, 2), 31: None, 32: None,
    33: None, 34: (256, 54), 35: (256, 66), 36: None, 37: None, 38: None, 39: (32, 17),
}
GGML_TYPE_COUNT = 40

MAX_NAME = 64
MAX_DIMS = 4
MAX_NESTING = 4          # arrays nested deeper than this are rejected (outermost array = depth 1)
DEFAULT_ALIGNMENT = 32
INT64_MAX = 2**63 - 1

# --------------------------------------------------------------------------------------
# Byte builder
# --------------------------------------------------------------------------------------


def u32(x): return struct.pack("<I", x & 0xFFFFFFFF)
def u64(x): return struct.pack("<Q", x & 0xFFFFFFFFFFFFFFFF)


def gstr(s, length=None):
    """gguf string: uint64 length + bytes. `length` overrides the stored length."""
    b = s.encode() if isinstance(s, str) else bytes(s)
    return u64(len(b) if length is None else length) + b


def value(vtype, v):
    """Encodes a value of type vtype (without the type tag).

    ARRAY values are (elem_type, [elements]); an element of an ARRAY-of-ARRAY is again
    (elem_type, [elements]). bytes passed as v are written raw (escape hatch)."""
    if isinstance(v, (bytes, bytearray)):
        return bytes(v)
    if vtype in SCALAR_FMT:
        return struct.pack(SCALAR_FMT[vtype], v)
    if vtype == STRING:
        return gstr(v)
    if vtype == ARRAY:
        et, elems = v
        return u32(et) + u64(len(elems)) + b"".join(value(et, e) for e in elems)
    raise ValueError(vtype)


def arr_hdr(elem_type, count):
    """Just the array header (elem type + count), for hand-made arrays."""
    return u32(elem_type) + u64(count)


def kv(key, vtype, v, key_len=None):
    return gstr(key, key_len) + u32(vtype) + value(vtype, v)


def header(n_tensors, n_kv, version=3, magic=b"GGUF"):
    return magic + u32(version) + u64(n_tensors) + u64(n_kv)


def align_up(x, a):
    return (x + a - 1) // a * a


def nelements(dims):
    n = 1
    for d in dims:
        n *= d
    return n


def nbytes(ggml_type, dims):
    blk, size = GGML_TYPES[ggml_type]
    return nelements(dims) // blk * size


def f16(x): return struct.pack("<e", x)


def tensor_payload(ggml_type, dims, seed):
    """Deterministic, numerically sane content for a tensor (finite scales, small values)."""
    n = nelements(dims)
    k = seed * 7 + 1
    if ggml_type == F32:
        return b"".join(struct.pack("<f", ((i * k) % 17 - 8) / 8.0) for i in range(n))
    if ggml_type == F16:
        return b"".join(f16(((i * k) % 17 - 8) / 8.0) for i in range(n))
    if ggml_type == BF16:
        return b"".join(struct.pack("<f", ((i * k) % 17 - 8) / 8.0)[2:] for i in range(n))
    blk, bsize = GGML_TYPES[ggml_type]
    out = bytearray()
    for b in range(n // blk):
        if ggml_type == Q8_0:
            out += f16(0.01) + bytes(((i * k + b) % 255) for i in range(32))
        elif ggml_type == Q4_0:
            out += f16(0.02) + bytes(((i * k + b) % 256) for i in range(16))
        elif ggml_type == Q4_K:
            out += f16(0.01) + f16(0.001) + bytes(((i * k + b) % 64) for i in range(12)) \
                + bytes(((i * k + b) % 256) for i in range(128))
        else:
            out += bytes(((i * k + b) % 256) for i in range(bsize))
    return bytes(out)


class T:
    """A tensor info, with overrides for breaking it.

    name: str/bytes; dims: list (ne0 first); gtype: ggml type id; offset: None = automatic
    (running sum, each tensor padded to the alignment); n_dims/name_len override the stored
    counts; payload: False = compute none (for tensors whose size is not computable)."""

    def __init__(self, name, dims, gtype=F32, offset=None, n_dims=None, name_len=None, payload=True):
        self.name, self.dims, self.gtype, self.offset = name, list(dims), gtype, offset
        self.n_dims, self.name_len, self.payload = n_dims, name_len, payload

    def info(self):
        nd = len(self.dims) if self.n_dims is None else self.n_dims
        return (gstr(self.name, self.name_len) + u32(nd) + b"".join(u64(d) for d in self.dims)
                + u32(self.gtype) + u64(self.offset))


def gguf(kvs=(), tensors=(), version=3, magic=b"GGUF", n_tensors=None, n_kv=None,
         align=DEFAULT_ALIGNMENT, data_size=None, pad_data_start=True, cut=None):
    """A whole file. kvs: list of already-encoded kv byte strings. Tensors get automatic
    offsets and payloads unless overridden; the data region ends padded to `align` unless
    data_size fixes its length (shorter = truncated data, longer = zero tail)."""
    tensors = list(tensors)
    off = 0
    for t in tensors:
        if t.offset is None:
            t.offset = off
            off = align_up(off + nbytes(t.gtype, t.dims), align)
    out = bytearray(header(len(tensors) if n_tensors is None else n_tensors,
                           len(kvs) if n_kv is None else n_kv, version, magic))
    for k in kvs:
        out += k
    for t in tensors:
        out += t.info()
    if tensors and pad_data_start:
        out += bytes(align_up(len(out), align) - len(out))
    data = bytearray()
    for i, t in enumerate(tensors):
        if not t.payload:
            continue
        p = tensor_payload(t.gtype, t.dims, i)
        end = t.offset + len(p)
        if end > 1 << 20:
            continue   # deliberately out-of-range offsets: no payload
        if len(data) < end:
            data += bytes(end - len(data))
        data[t.offset:end] = p
    data += bytes(align_up(len(data), align) - len(data))
    if data_size is not None:
        data = data[:data_size] + bytes(max(0, data_size - len(data)))
    out += data
    if cut is not None:
        out = out[:cut]
    return bytes(out)


def name_kv(s="corpus"):
    return kv("general.name", STRING, s)


def align_kv(a):
    return kv("general.alignment", UINT32, a)


def filler_kv(i, n=64):
    """A long, valid string kv: gives later truncations enough preceding bytes that no
    count-vs-remaining-bytes bound can fire first."""
    return kv("test.filler.%d" % i, STRING, "x" * n)


# --------------------------------------------------------------------------------------
# The cases
# --------------------------------------------------------------------------------------

CASES = []   # (filename, verdict, substring, bytes)


def ok(name, data):
    CASES.append((name, "ok", "-", data))


def err(name, substring, data):
    CASES.append((name, "error", substring, data))


def one_f32(name="t.weight", dims=(4, 2)):
    return T(name, dims, F32)


def make_cases():
    # ---------------- valid files ----------------
    ok("ok_v3_one_tensor.gguf", gguf([name_kv()], [one_f32()]))
    ok("ok_v2_one_tensor.gguf", gguf([name_kv()], [one_f32()], version=2))
    # Zero tensors, zero kvs: the bare 24-byte header (metadata-only writers emit no padding
    # after the tensor infos), and the same padded to the default alignment.
    ok("ok_empty.gguf", gguf())
    ok("ok_empty_padded.gguf", gguf() + bytes(8))
    scalars = [
        kv("test.u8", UINT8, 200), kv("test.i8", INT8, -100), kv("test.u16", UINT16, 60000),
        kv("test.i16", INT16, -30000), kv("test.u32", UINT32, 4000000000),
        kv("test.i32", INT32, -2000000000), kv("test.f32", FLOAT32, 1.5),
        kv("test.bool_false", BOOL, 0), kv("test.bool_true", BOOL, 1),
        kv("test.string", STRING, "hello, gguf"), kv("test.u64", UINT64, 2**64 - 1),
        kv("test.i64", INT64, -2**63), kv("test.f64", FLOAT64, -0.25),
    ]
    ok("ok_scalar_types.gguf", gguf(scalars))
    str_arr = kv("tokenizer.ggml.tokens", ARRAY, (STRING, ["<s>", "</s>", "a", "bc", ""]))
    ok("ok_string_array.gguf", gguf([str_arr]))
    nested = kv("test.nested", ARRAY, (ARRAY, [(INT32, [1, 2, 3]), (INT32, []), (INT32, [-7])]))
    ok("ok_nested_array.gguf", gguf([nested]))
    a64 = [align_kv(64)]
    two = lambda: [T("a.f16", (8, 2), F16), T("b.q8_0", (64,), Q8_0)]
    ok("ok_align64_f16_q8_0.gguf", gguf(a64, two(), align=64))
    ok("ok_kitchen_sink.gguf", gguf([name_kv("kitchen sink")] + scalars + [str_arr, nested] + a64,
                                    two(), align=64))
    # Infos in a different order than the data: a at 32, b at 0 (both 32 bytes).
    ok("ok_tensors_out_of_order.gguf",
       gguf([name_kv()], [T("a", (8,), F32, offset=32), T("b", (8,), F32, offset=0)]))
    ok("ok_tensor_name_64.gguf", gguf([], [T("n" * 64, (4,), F32)]))
    depth4 = (ARRAY, [(ARRAY, [(ARRAY, [(INT32, [1, 2])])])])
    ok("ok_array_depth_4.gguf", gguf([kv("test.depth4", ARRAY, depth4)]))
    ok("ok_quant_types.gguf", gguf([name_kv()], [
        T("q4_0", (32, 2), Q4_0), T("q4_k", (256,), Q4_K), T("bf16", (4, 4), BF16),
        T("f32.4d", (2, 1, 3, 1), F32)]))
    ok("ok_empty_values.gguf", gguf([kv("test.empty_string", STRING, ""),
                                     kv("test.empty_array", ARRAY, (UINT32, []))]))

    # ---------------- header ----------------
    err("err_bad_magic.gguf", "magic", gguf([name_kv()], [one_f32()], magic=b"GGML"))
    err("err_bad_magic_lowercase.gguf", "magic", gguf([name_kv()], [one_f32()], magic=b"gguf"))
    err("err_truncated_magic.gguf", "truncated", b"GG")
    for v in (0, 1, 4):
        err("err_version_%d.gguf" % v, "version", gguf([name_kv()], [one_f32()], version=v))
    # A big-endian version 3 read as little-endian: 0x03000000.
    err("err_version_big_endian.gguf", "version", gguf([name_kv()], [one_f32()], version=0x03000000))
    err("err_truncated_header.gguf", "truncated", gguf(cut=20))
    err("err_tensor_count_huge.gguf", "tensor_count", gguf([], [one_f32()], n_tensors=2**63))
    err("err_tensor_count_too_many.gguf", "tensor_count", gguf([], [one_f32()], n_tensors=1000))
    err("err_kv_count_huge.gguf", "kv_count", gguf([name_kv()], n_kv=2**64 - 1))
    # count * min_kv_size overflows uint64 for any min_kv_size >= 16 (x16 wraps to exactly 0):
    # the bound check itself must not wrap.
    err("err_kv_count_wraps.gguf", "kv_count", gguf([name_kv()], n_kv=2**60))
    err("err_kv_count_too_many.gguf", "kv_count", gguf([name_kv()], n_kv=500))

    # ---------------- kv pairs ----------------
    f0, f1 = filler_kv(0), filler_kv(1)
    # Ends inside the second key's uint64 length.
    err("err_truncated_key_len.gguf", "truncated", header(0, 3) + f0 + f1 + u64(12)[:4])
    err("err_truncated_value_type.gguf", "truncated",
        header(0, 2) + f0 + gstr("test.truncated.value_type") + u32(UINT32)[:2])
    err("err_truncated_scalar_value.gguf", "truncated",
        header(0, 2) + f0 + gstr("test.truncated.value") + u32(UINT64) + u64(12345)[:3])
    err("err_truncated_array_header.gguf", "truncated",
        header(0, 2) + f0 + gstr("test.truncated.array") + u32(ARRAY) + u32(UINT32) + u64(3)[:5])
    err("err_key_len_past_eof.gguf", "string length",
        header(0, 1) + gstr(b"k" * 50, length=100) + bytes(8))
    err("err_key_len_huge.gguf", "string length",
        header(0, 1) + gstr(b"general.name", length=2**63) + u32(STRING) + gstr("abcdefghijklmnop"))
    # Length 2^64-1: pos + len wraps around to pos - 1.
    err("err_string_len_wraps.gguf", "string length",
        header(0, 2) + f0 + gstr("general.name") + u32(STRING) + gstr(b"x" * 40, length=2**64 - 1))
    err("err_string_len_past_eof.gguf", "string length",
        header(0, 2) + f0 + gstr("general.name") + u32(STRING) + gstr(b"x" * 40, length=41))
    err("err_string_array_elem_len_past_eof.gguf", "string length",
        gguf([kv("tokenizer.ggml.tokens", ARRAY,
                 arr_hdr(STRING, 3) + gstr("<s>") + gstr("</s>") + gstr(b"abc", length=1000))]))
    for vt, tag in ((13, "13"), (255, "255"), (0xFFFFFFFF, "ffffffff")):
        err("err_value_type_%s.gguf" % tag, "value type",
            gguf([name_kv(), kv("test.bad_type", vt, u32(7) + bytes(12))]))
    err("err_array_elem_type_bad.gguf", "value type",
        gguf([kv("test.bad_elem_type", ARRAY, arr_hdr(13, 2) + bytes(16))]))
    err("err_bool_2.gguf", "bool", gguf([name_kv(), kv("test.flag", BOOL, 2)]))
    err("err_bool_array_bad.gguf", "bool", gguf([kv("test.flags", ARRAY, arr_hdr(BOOL, 3) + b"\x01\x00\xff")]))
    err("err_array_count_huge.gguf", "array",
        gguf([kv("test.big", ARRAY, arr_hdr(UINT64, 2**62) + u64(1) + u64(2))]))
    # 2^61 elements * 8 bytes = 2^64: the byte size wraps to exactly 0.
    err("err_array_count_wraps_zero.gguf", "array",
        gguf([kv("test.big", ARRAY, arr_hdr(UINT64, 2**61) + u64(1) + u64(2))]))
    err("err_array_count_past_eof.gguf", "array",
        gguf([kv("test.short", ARRAY, arr_hdr(UINT32, 100) + bytes(16))]))
    err("err_string_array_count_huge.gguf", "array",
        gguf([kv("tokenizer.ggml.tokens", ARRAY, arr_hdr(STRING, 2**60) + gstr("a") + gstr("b"))]))
    err("err_array_of_arrays_count_huge.gguf", "array",
        gguf([kv("test.nested", ARRAY, arr_hdr(ARRAY, 2**40) + value(ARRAY, (INT32, [1])))]))

    def nest(depth):
        v = (INT32, [1, 2])
        for _ in range(depth - 1):
            v = (ARRAY, [v])
        return v
    err("err_array_nesting_5.gguf", "nesting", gguf([kv("test.depth5", ARRAY, nest(5))]))
    err("err_array_nesting_64.gguf", "nesting", gguf([kv("test.depth64", ARRAY, nest(64))]))
    err("err_duplicate_key.gguf", "duplicate key",
        gguf([name_kv("first"), kv("test.x", UINT32, 1), name_kv("second")], [one_f32()]))
    err("err_empty_key.gguf", "empty key", gguf([name_kv(), kv("", UINT32, 1)], [one_f32()]))
    err("err_alignment_uint64.gguf", "general.alignment", gguf([name_kv(), kv("general.alignment", UINT64, 32)]))
    err("err_alignment_string.gguf", "general.alignment", gguf([name_kv(), kv("general.alignment", STRING, "32")]))
    for a in (0, 3, 48):
        err("err_alignment_%d.gguf" % a, "general.alignment", gguf([name_kv(), align_kv(a)]))

    # ---------------- tensor infos ----------------
    info = header(1, 0) + T("t" * 64, (2, 2, 2, 2), F32, offset=0).info()
    # info: 24 header + 8+64 name + 4 n_dims + 32 dims + 4 type + 8 offset
    err("err_truncated_tensor_dims.gguf", "truncated", info[:24 + 72 + 4 + 20])
    err("err_truncated_tensor_offset.gguf", "truncated", info[:len(info) - 3])
    err("err_tensor_name_len_past_eof.gguf", "string length",
        header(1, 0) + gstr(b"w" * 40, length=60))
    err("err_tensor_name_empty.gguf", "tensor name", gguf([name_kv()], [T("", (4,), F32)]))
    err("err_tensor_name_65.gguf", "tensor name", gguf([name_kv()], [T("n" * 65, (4,), F32)]))
    err("err_duplicate_tensor_name.gguf", "duplicate tensor",
        gguf([name_kv()], [T("same", (8,), F32), T("same", (8,), F32)]))
    err("err_n_dims_0.gguf", "n_dims", gguf([name_kv()], [T("t", (), F32)]))
    err("err_n_dims_5.gguf", "n_dims", gguf([name_kv()], [T("t", (1, 1, 1, 1, 8), F32)]))
    err("err_n_dims_huge.gguf", "n_dims", gguf([name_kv()], [T("t", (8,), F32, n_dims=0xFFFFFFFF)]))
    err("err_dimension_zero.gguf", "dimension", gguf([name_kv()], [T("t", (4, 0), F32, offset=0)], data_size=32))
    big = lambda dims: T("t", dims, F32, offset=0, payload=False)
    err("err_element_count_overflow.gguf", "element count", gguf([name_kv()], [big((2**32, 2**32, 2**32))], data_size=32))
    # 2^31 * 2^31 * 4 = 2^64: the element count wraps to exactly 0 in uint64.
    err("err_element_count_wraps_zero.gguf", "element count", gguf([name_kv()], [big((2**31, 2**31, 4))], data_size=32))
    # 2^63 elements: fits uint64, exceeds INT64_MAX.
    err("err_element_count_int64.gguf", "element count", gguf([name_kv()], [big((2**62, 2))], data_size=32))

    # ---------------- per-tensor checks ----------------
    bad_type = lambda gt, ne0=32: T("t", (ne0,), gt, offset=0, payload=False)
    for gt, tag in ((40, "40"), (1000, "1000"), (0xFFFFFFFF, "ffffffff")):
        err("err_ggml_type_%s.gguf" % tag, "ggml type", gguf([name_kv()], [bad_type(gt)], data_size=128))
    for gt in (4, 31):
        err("err_ggml_type_removed_%d.gguf" % gt, "removed", gguf([name_kv()], [bad_type(gt)], data_size=128))
    err("err_block_size_q8_0.gguf", "block size", gguf([name_kv()], [bad_type(Q8_0, 33)], data_size=128))
    err("err_block_size_q4_k.gguf", "block size", gguf([name_kv()], [bad_type(Q4_K, 128)], data_size=512))
    err("err_offset_misaligned.gguf", "alignment",
        gguf([name_kv()], [T("a", (8,), F32, offset=0), T("b", (8,), F32, offset=36)]))
    err("err_offset_misaligned_align64.gguf", "alignment",
        gguf(a64, [T("a", (8,), F32, offset=32)], align=64))
    err("err_data_past_eof.gguf", "outside the file", gguf([name_kv()], [T("t", (16,), F32)], data_size=60))
    err("err_offset_past_eof.gguf", "outside the file",
        gguf([name_kv()], [T("t", (8,), F32, offset=4096)], data_size=64))
    # offset = 2^64 - 32 (aligned), size 64: offset + size wraps to 32, inside the data.
    err("err_offset_wraparound.gguf", "outside the file",
        gguf([name_kv()], [T("t", (16,), F32, offset=2**64 - 32)], data_size=128))
    # 2^62 F32 elements (element count fits int64) = 2^64 bytes: the byte size wraps to 0.
    err("err_tensor_bytes_wrap.gguf", "outside the file",
        gguf([name_kv()], [T("t", (2**62,), F32, offset=0, payload=False)], data_size=64))
    err("err_tensors_overlap.gguf", "overlap",
        gguf([name_kv()], [T("a", (16,), F32, offset=0), T("b", (16,), F32, offset=32)]))
    err("err_tensors_same_offset.gguf", "overlap",
        gguf([name_kv()], [T("a", (8,), F32, offset=0), T("b", (8,), F32, offset=0)]))


# --------------------------------------------------------------------------------------
# Reference model of the reader contract (used only to check the corpus)
# --------------------------------------------------------------------------------------


class GGUFError(Exception):
    pass


def reference_parse(data, v):
    """Returns None for a valid file, else the error message of the FIRST problem met.

    v: dict of implementation choices the contract leaves open; every combination must agree
    on the class of every corpus file."""
    n = len(data)
    pos = 0

    def fail(msg):
        raise GGUFError(msg)

    def take(k):
        nonlocal pos
        if k > n - pos:
            fail("truncated")
        b = data[pos:pos + k]
        pos += k
        return b

    def rd(fmt):
        return struct.unpack(fmt, take(struct.calcsize(fmt)))[0]

    def rstring(max_len=None, what="string"):
        ln = rd("<Q")
        if max_len is not None and v["name_len_first"] and (ln == 0 or ln > max_len):
            fail("bad tensor name length")
        if ln > n - pos:
            fail("string length %d past end of file" % ln)
        return take(ln)

    def min_size(t):
        if t in SCALAR_SIZE:
            return SCALAR_SIZE[t]
        return {STRING: 8, ARRAY: 12}[t] if v["tight_array_min"] else 1

    def rvalue(t, depth):
        if t in SCALAR_FMT:
            x = rd(SCALAR_FMT[t])
            if t == BOOL and x not in (0, 1):
                fail("bad bool value %d" % x)
            return x
        if t == STRING:
            return rstring()
        if t == ARRAY:
            depth += 1
            if v["nest_check_first"] and depth > MAX_NESTING:
                fail("arrays nested too deep (nesting)")
            et = rd("<I")
            if et > FLOAT64:
                fail("unknown array element value type %d" % et)
            cnt = rd("<Q")
            if cnt * min_size(et) > n - pos:
                fail("array count %d past end of file" % cnt)
            if not v["nest_check_first"] and depth > MAX_NESTING:
                fail("arrays nested too deep (nesting)")
            return (et, [rvalue(et, depth) for _ in range(cnt)])
        fail("unknown value type %d" % t)

    if take(4) != b"GGUF":
        fail("bad magic")
    version = rd("<I")
    if version not in (2, 3):
        fail("unsupported version %d" % version)
    n_tensors = rd("<Q")
    n_kv = rd("<Q")
    if v["tensor_count_at_header"] and n_tensors * v["ti_min"] > n - pos:
        fail("tensor_count too large")
    if n_kv * v["kv_min"] > n - pos:
        fail("kv_count too large")

    keys = {}
    alignment = DEFAULT_ALIGNMENT
    for _ in range(n_kv):
        key = rstring()
        if not key:
            fail("empty key")
        if v["dup_key_before_value"] and key in keys:
            fail("duplicate key")
        t = rd("<I")
        if t > FLOAT64:
            fail("unknown value type %d" % t)
        val = rvalue(t, 0)
        if not v["dup_key_before_value"] and key in keys:
            fail("duplicate key")
        keys[key] = (t, val)
        if key == b"general.alignment":
            if t != UINT32 or val == 0 or val & (val - 1):
                fail("bad general.alignment")
            alignment = val

    if not v["tensor_count_at_header"] and n_tensors * v["ti_min"] > n - pos:
        fail("tensor_count too large")

    def type_checks(ti):
        gt, dims = ti["type"], ti["dims"]
        if gt >= GGML_TYPE_COUNT:
            fail("bad ggml type %d" % gt)
        if GGML_TYPES[gt] is None:
            fail("removed ggml type %d" % gt)
        if dims[0] % GGML_TYPES[gt][0]:
            fail("ne0 not a multiple of block size")

    infos = []
    names = set()
    for _ in range(n_tensors):
        name = rstring(MAX_NAME)
        if not name or len(name) > MAX_NAME:
            fail("bad tensor name length")
        if name in names:
            fail("duplicate tensor name")
        names.add(name)
        nd = rd("<I")
        if nd == 0 or nd > MAX_DIMS:
            fail("bad n_dims %d" % nd)
        dims = []
        ne = 1
        for _ in range(nd):
            d = rd("<Q")
            if d == 0:
                fail("dimension is 0")
            ne *= d
            if ne > INT64_MAX:
                fail("element count overflows int64")
            dims.append(d)
        ti = {"dims": dims, "type": rd("<I")}
        if v["type_check_early"]:
            type_checks(ti)
        ti["offset"] = rd("<Q")
        infos.append(ti)

    data_start = align_up(pos, alignment)
    if v["data_start_check"] and infos and data_start > n:
        fail("data start past end of file (unspecified message)")
    ranges = []
    for ti in infos:
        type_checks(ti)
        if ti["offset"] % alignment:
            fail("offset not a multiple of alignment")
        size = nbytes(ti["type"], ti["dims"])
        if data_start + ti["offset"] + size > n:
            fail("tensor data outside the file")
        ranges.append((ti["offset"], ti["offset"] + size))
    ranges.sort()
    for (a0, a1), (b0, b1) in zip(ranges, ranges[1:]):
        if b0 < a1:
            fail("tensor data overlap")
    return None


VARIANTS = [dict(zip(keys, vals)) for keys in [(
    "kv_min", "ti_min", "tensor_count_at_header", "tight_array_min", "nest_check_first",
    "name_len_first", "dup_key_before_value", "type_check_early", "data_start_check")]
    for vals in itertools.product((1, 13, 14), (1, 24, 33), *[(False, True)] * 7)]


def check(name, verdict, substring, data):
    problems = []
    seen = set()
    for v in VARIANTS:
        try:
            r = reference_parse(data, v)
        except GGUFError as e:
            r = str(e)
        good = (r is None) if verdict == "ok" else (r is not None and substring in r.lower())
        if not good and r not in seen:
            seen.add(r)
            problems.append("%s: expected %s %r, reference gives %r under %s"
                            % (name, verdict, substring, r, v))
    return problems


# --------------------------------------------------------------------------------------


def main():
    make_cases()
    names = [c[0] for c in CASES]
    assert len(names) == len(set(names)), "duplicate file names"
    problems = []
    for name, verdict, substring, data in CASES:
        assert name.endswith(".gguf") and name.startswith(verdict if verdict == "ok" else "err_"), name
        assert substring == substring.lower() and "\t" not in substring
        assert len(data) < 4096, "%s is %d bytes" % (name, len(data))
        problems += check(name, verdict, substring, data)
    if problems:
        print("\n".join(problems), file=sys.stderr)
        sys.exit(1)

    for f in sorted(os.listdir(HERE)):
        if f.endswith(".gguf") and f not in names:
            os.remove(os.path.join(HERE, f))
    for name, _, _, data in CASES:
        with open(os.path.join(HERE, name), "wb") as fh:
            fh.write(data)
    with open(os.path.join(HERE, "expected.tsv"), "w", newline="\n") as fh:
        for name, verdict, substring, _ in CASES:
            fh.write("%s\t%s\t%s\n" % (name, verdict, substring))
    print("wrote %d files (%d ok, %d error) + expected.tsv to %s" % (
        len(CASES), sum(c[1] == "ok" for c in CASES), sum(c[1] == "error" for c in CASES), HERE))


if __name__ == "__main__":
    main()
