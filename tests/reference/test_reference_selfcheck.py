#!/usr/bin/python3
"""Self-check of the reference GGUF reader and dequantizer.

Run: /usr/bin/python3 tests/reference/test_reference_selfcheck.py
Last line printed: "N passed, M failed"; exit status is non-zero if anything failed.

Dequantizer tests use KNOWN ANSWERS: each block is built byte by byte from chosen values, and
the expected outputs were worked out by hand from the layout formulas in
../shared/reference/ggml-quant-formats.md (derivations in the comments). Nothing here
derives an expected value by calling the code under test.
"""

import math
import os
import struct
import sys
import tempfile
import traceback

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dequant  # noqa: E402
import gguf_reader  # noqa: E402

# ../shared sits beside the repository (absent in users' clones: the fixture check is skipped).
FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared",
                       "fixtures", "ds2-tiny-mixq.gguf")
TESTS = []

# f16 bit patterns used below (IEEE half): value = pattern.
H_0, H_1, H_M1, H_2, H_05, H_025, H_0125 = 0x0000, 0x3C00, 0xBC00, 0x4000, 0x3800, 0x3400, 0x3000
H_1024, H_2M16 = 0x6400, 0x0100  # 1024.0 and 2^-16 (a subnormal half: 256 * 2^-24)


def test(fn):
    TESTS.append(fn)
    return fn


def h(bits):
    """An f16 field from its bit pattern."""
    return struct.pack("<H", bits)


def u8(values):
    return bytes(v & 0xFF for v in values)


def run_dq(block_bytes, type_id, n):
    return dequant.dequantize(np.frombuffer(block_bytes, dtype=np.uint8), type_id, n)


def expect_equal(actual, expected, what=""):
    expected = np.asarray(expected, dtype=np.float32)
    assert actual.dtype == np.float32, "dtype %s" % actual.dtype
    assert actual.shape == expected.shape, "shape %s != %s" % (actual.shape, expected.shape)
    bad = np.nonzero(~((actual == expected) | (np.isnan(actual) & np.isnan(expected))))[0]
    assert bad.size == 0, "%s: first mismatch at %d: got %r expected %r (%d mismatches)" % (
        what, bad[0], float(actual[bad[0]]), float(expected[bad[0]]), bad.size)


def expect_at(actual, expected_by_index):
    for i, v in expected_by_index.items():
        assert actual[i] == np.float32(v), "index %d: got %r expected %r" % (i, actual[i], v)


# ---------------------------------------------------------------- plain float types

@test
def test_f32():
    raw = struct.pack("<II", 0x3FC00000, 0xC0000000)  # 1.5, -2.0
    expect_equal(run_dq(raw, 0, 2), [1.5, -2.0])


@test
def test_f16():
    raw = b"".join(h(x) for x in (0x3C00, 0xC000, 0x0001, 0x7BFF, 0x7C00, 0x8000))
    # 1, -2, smallest subnormal 2^-24, largest finite 65504, +inf, -0
    out = run_dq(raw, 1, 6)
    expect_equal(out, [1.0, -2.0, 5.9604644775390625e-08, 65504.0, np.inf, -0.0])
    assert np.signbit(out[5]), "-0 lost its sign"


@test
def test_bf16():
    raw = struct.pack("<4H", 0x3F80, 0xC040, 0x3E80, 0x4049)  # upper halves of f32 bits
    expect_equal(run_dq(raw, 30, 4), [1.0, -3.0, 0.25, 3.140625])


# ---------------------------------------------------------------- 32-element formats

@test
def test_q8_0():
    # d = 0.5; q[0] = -128, q[k] = k - 16 for 1 <= k <= 30, q[31] = 127.
    q = [-128] + [k - 16 for k in range(1, 31)] + [127]
    raw = h(H_05) + u8(q)
    expect_equal(run_dq(raw, 8, 32), [
        -64.0, -7.5, -7.0, -6.5, -6.0, -5.5, -5.0, -4.5, -4.0, -3.5, -3.0, -2.5, -2.0, -1.5,
        -1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5.0, 5.5, 6.0, 6.5,
        7.0, 63.5])


@test
def test_mxfp4_every_code_and_scale():
    # OCP MX: value = (-1)^s * E2M1 * 2^(e - 127), E2M1 = 0, .5, 1, 1.5, 2, 3, 4, 6; one block per
    # E8M0 value, low nibbles = codes 0..15, high nibbles = 15..0.
    e2m1 = [0, 0.5, 1, 1.5, 2, 3, 4, 6]
    qs = bytes(j | ((15 - j) << 4) for j in range(16))
    raw = b"".join(bytes([e]) + qs for e in range(256))
    out = run_dq(raw, 39, 256 * 32).reshape(256, 32)
    for e in range(256):
        for j in range(32):
            code = j if j < 16 else 31 - j
            want = (-1.0 if code & 8 else 1.0) * math.ldexp(e2m1[code & 7], e - 127)
            got = out[e, j]
            if abs(want) <= float(np.finfo(np.float32).max):
                assert float(got) == want, "e %d code %d: %r != %r" % (e, code, got, want)
            else:
                assert np.isinf(got) and (got < 0) == (want < 0), "e %d code %d: %r" % (e, code, got)


# qs[j] = low nibble j, high nibble 15 - j (j < 16) for all 32-element 4/5-bit tests.
QS_16 = u8([j | ((15 - j) << 4) for j in range(16)])


@test
def test_q4_0():
    # d = 2: x[j] = 2 * (j - 8); x[j + 16] = 2 * ((15 - j) - 8).
    expect_equal(run_dq(h(H_2) + QS_16, 2, 32), [
        -16, -14, -12, -10, -8, -6, -4, -2, 0, 2, 4, 6, 8, 10, 12, 14,
        14, 12, 10, 8, 6, 4, 2, 0, -2, -4, -6, -8, -10, -12, -14, -16])


@test
def test_q4_1():
    # d = 0.5, m = -1: x[j] = 0.5 * j - 1; x[j + 16] = 0.5 * (15 - j) - 1.
    expect_equal(run_dq(h(H_05) + h(H_M1) + QS_16, 3, 32), [
        -1, -0.5, 0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5, 5.5, 6, 6.5,
        6.5, 6, 5.5, 5, 4.5, 4, 3.5, 3, 2.5, 2, 1.5, 1, 0.5, 0, -0.5, -1])


# qh bytes AA AA 0F F0 -> h = 0xF00FAAAA: bit j (j < 16) set for odd j;
# bit j + 16 set for j in 0..3 and 12..15.
QH_5 = u8([0xAA, 0xAA, 0x0F, 0xF0])


@test
def test_q5_0():
    # d = 1: x[j] = (j | odd(j) << 4) - 16; x[j + 16] = ((15 - j) | bit << 4) - 16.
    expect_equal(run_dq(h(H_1) + QH_5 + QS_16, 6, 32), [
        -16, 1, -14, 3, -12, 5, -10, 7, -8, 9, -6, 11, -4, 13, -2, 15,
        15, 14, 13, 12, -5, -6, -7, -8, -9, -10, -11, -12, 3, 2, 1, 0])


@test
def test_q5_1():
    # d = 0.5, m = 0.25; low q = 0,17,2,19,...; high q = 31,30,29,28,11,...,4,19,18,17,16.
    expect_equal(run_dq(h(H_05) + h(H_025) + QH_5 + QS_16, 7, 32), [
        0.25, 8.75, 1.25, 9.75, 2.25, 10.75, 3.25, 11.75,
        4.25, 12.75, 5.25, 13.75, 6.25, 14.75, 7.25, 15.75,
        15.75, 15.25, 14.75, 14.25, 5.75, 5.25, 4.75, 4.25,
        3.75, 3.25, 2.75, 2.25, 9.75, 9.25, 8.75, 8.25])


@test
def test_q4_1_rounds_in_float32():
    # d = 1024, m = 2^-16, all q = 1 except x[0] (q = 0): 1024 + 2^-16 rounds to 1024 in
    # float32 (half an ulp at 1024 is 2^-14); 0 + 2^-16 is exact.
    qs = u8([0x10] + [0x11] * 15)
    out = run_dq(h(H_1024) + h(H_2M16) + qs, 3, 32)
    expect_equal(out, [2.0 ** -16] + [1024.0] * 31)


# ---------------------------------------------------------------- Q4_K / Q5_K

# Sub-block scales sc = [1, 2, 3, 63, 17, 33, 48, 5], mins mn = [0, 4, 62, 1, 20, 36, 7, 63].
# s < 4: scales[s] = sc | (sc[s+4] >> 4) << 6, scales[s+4] = mn | (mn[s+4] >> 4) << 6;
# scales[8 + i] = (sc[4+i] & 15) | (mn[4+i] & 15) << 4.
#   scales[0] = 1 | 1<<6 = 65   scales[1] = 2 | 2<<6 = 130   scales[2] = 3 | 3<<6 = 195
#   scales[3] = 63 | 0 = 63     scales[4] = 0 | 1<<6 = 64    scales[5] = 4 | 2<<6 = 132
#   scales[6] = 62 | 0 = 62     scales[7] = 1 | 3<<6 = 193   scales[8] = 1 | 4<<4 = 65
#   scales[9] = 1 | 4<<4 = 65   scales[10] = 0 | 7<<4 = 112  scales[11] = 5 | 15<<4 = 245
K4_SCALES = u8([65, 130, 195, 63, 64, 132, 62, 193, 65, 65, 112, 245])
K4_UNIT = u8([1, 1, 1, 1, 1, 1, 1, 1, 17, 17, 17, 17])    # sc = 1, mn = 1 everywhere
K4_SC1_MN2 = u8([1, 1, 1, 1, 2, 2, 2, 2, 33, 33, 33, 33])  # sc = 1, mn = 2 everywhere


@test
def test_q4_k_scales():
    # d = 1, dmin = 0.5, every qs byte 0x73: even sub-blocks q = 3, odd q = 7.
    # x_s = sc*q - 0.5*mn: 3-0, 14-2, 9-31, 441-0.5, 51-10, 231-18, 144-3.5, 35-31.5.
    out = run_dq(h(H_1) + h(H_05) + K4_SCALES + u8([0x73] * 128), 12, 256)
    expect_equal(out, np.repeat([3.0, 12.0, -22.0, 440.5, 41.0, 213.0, 140.5, 3.5], 32))


@test
def test_q4_k_nibble_order():
    # d = 0.25, dmin = 1, sc = 1, mn = 2; qs[i] = (i & 15) | ((i >> 3) & 15) << 4.
    # Output 64c + l = low nibble of qs[32c + l]; 64c + 32 + l = its high nibble. x = q/4 - 2.
    qs = u8([(i & 15) | (((i >> 3) & 15) << 4) for i in range(128)])
    out = run_dq(h(H_025) + h(H_1) + K4_SC1_MN2 + qs, 12, 256)
    expect_at(out, {0: -2.0, 5: -0.75, 31: 1.75, 32: -2.0, 40: -1.75, 63: -1.25, 64: -2.0,
                    100: -1.0, 130: -1.5, 170: 0.25, 200: 0.0, 255: 1.75})


@test
def test_q4_k_rounds_in_float32():
    # d = 1024, dmin = 2^-16, sc = mn = 1, q = 1: 1024 - 2^-16 rounds to 1024 in float32
    # (below 1024 the ulp is 2^-14, and 2^-16 is less than half of it).
    out = run_dq(h(H_1024) + h(H_2M16) + K4_UNIT + u8([0x11] * 128), 12, 256)
    expect_equal(out, [1024.0] * 256)


@test
def test_q5_k_scales():
    # As test_q4_k_scales, plus every qh byte 0xA5 (bits 0, 2, 5, 7): sub-block s adds 16 when
    # bit s is set, so q = 19, 7, 19, 7, 3, 23, 3, 23.
    # x_s = 19-0, 14-2, 57-31, 441-0.5, 51-10, 759-18, 144-3.5, 115-31.5.
    raw = h(H_1) + h(H_05) + K4_SCALES + u8([0xA5] * 32) + u8([0x73] * 128)
    out = run_dq(raw, 13, 256)
    expect_equal(out, np.repeat([19.0, 12.0, 26.0, 440.5, 41.0, 741.0, 140.5, 83.5], 32))


@test
def test_q5_k_high_bits():
    # d = 1, dmin = 0, sc = 1, mn = 0, qs = 0, qh[l] = l | (l & 7) << 5, so output 32s + l is
    # 16 * bit s of qh[l]: bits 0..4 are bits of l, bits 5, 6, 7 are bits 0, 1, 2 of l.
    scales = u8([1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1])
    qh = u8([l | ((l & 7) << 5) for l in range(32)])
    out = run_dq(h(H_1) + h(H_0) + scales + qh + bytes(128), 13, 256)
    # e.g. 175 = 32*5 + 15: qh[15] = 15 | 7 << 5, bit 5 set -> 16.
    expect_at(out, {0: 0, 1: 16, 33: 0, 34: 16, 68: 16, 72: 0, 104: 16, 144: 16, 175: 16,
                    160: 0, 161: 16, 174: 0, 193: 0, 194: 16, 227: 0, 228: 16, 255: 16})


# ---------------------------------------------------------------- Q6_K

@test
def test_q6_k_scales():
    # Output group k (16 values) uses scales[k]. d = 1/8; every ql byte 0x5A, qh byte 0xE4
    # (2-bit fields 0, 1, 2, 3): q1 = 10 | 0 = 10, q2 = 10 | 16 = 26, q3 = 5 | 32 = 37,
    # q4 = 5 | 48 = 53, minus 32: -22, -6, 5, 21 for output quarters 0..3 of each half.
    sc = [1, -1, 2, -2, 3, -3, 4, -4, 5, -5, 6, -6, 7, -7, 127, -128]
    raw = u8([0x5A] * 128) + u8([0xE4] * 64) + u8(sc) + h(H_0125)
    out = run_dq(raw, 14, 256)
    expect_equal(out, np.repeat([-2.75, 2.75, -1.5, 1.5, 1.875, -1.875, 10.5, -10.5,
                                 -13.75, 13.75, -4.5, 4.5, 4.375, -4.375, 333.375, -336.0], 16))


@test
def test_q6_k_bit_layout():
    # d = 1, scales = 1, ql[i] = i, qh[j] = j. For half h and l < 32:
    #   q1 = (l & 15) | (l & 3) << 4            -> output 128h + l
    #   q2 = (l & 15) | ((l >> 2) & 3) << 4     -> output 128h + 32 + l
    #   q3 = ql[64h + l] >> 4 | ((qh[32h + l] >> 4) & 3) << 4      -> output 128h + 64 + l
    #   q4 = ql[64h + l + 32] >> 4 | (qh[32h + l] >> 6) << 4 (= 0) -> output 128h + 96 + l
    # e.g. 223: ql[95] >> 4 = 5, qh[63] = 63 -> 3 -> q = 53 -> 21.
    raw = u8(range(128)) + u8(range(64)) + u8([1] * 16) + h(H_1)
    out = run_dq(raw, 14, 256)
    expect_at(out, {0: -32, 5: -11, 19: 19, 38: -10, 45: 29, 81: -15, 116: -29,
                    128: -32, 170: 10, 192: 4, 223: 21, 255: -25})


# ---------------------------------------------------------------- Q2_K

@test
def test_q2_k_scales():
    # Output group k (16 values) uses scales[k] and shift step j = (k % 8) // 2. Every qs byte
    # is 0xE4, so the 2-bit value is j. d = 0.5, dmin = 0.25, scales[k] = k | (15 - k) << 4:
    # x_k = 0.5*k*j - 0.25*(15 - k).
    raw = u8([k | ((15 - k) << 4) for k in range(16)]) + u8([0xE4] * 64) + h(H_05) + h(H_025)
    out = run_dq(raw, 10, 256)
    expect_equal(out, np.repeat([-3.75, -3.5, -2.25, -1.5, 1.25, 2.5, 6.75, 8.5,
                                 -1.75, -1.5, 3.75, 4.5, 11.25, 12.5, 20.75, 22.5], 16))


@test
def test_q2_k_bit_layout():
    # d = 1, dmin = 0, all scales 1 (dl = 1, ml = 0), qs[i] = 255 - i. Output
    # 128h + 32j + 16g + l = (qs[32h + 16g + l] >> 2j) & 3; e.g. 62: qs[30] = 0b11100001,
    # >> 2 -> 0; 200: qs[40] = 0b11010111 >> 4 -> 1.
    raw = u8([1] * 16) + u8([255 - i for i in range(64)]) + h(H_1) + h(H_0)
    out = run_dq(raw, 10, 256)
    expect_at(out, {0: 3, 3: 0, 6: 1, 17: 2, 37: 2, 62: 0, 80: 2, 127: 3, 128: 3,
                    170: 1, 200: 1, 224: 3, 255: 3})


# ---------------------------------------------------------------- Q3_K

@test
def test_q3_k_scales():
    # S = [33, 31, 34, 30, 0, 63, 32, 33, 16, 48, 40, 24, 31, 47, 8, 60] (S - 32 =
    # 1, -1, 2, -2, -32, 31, 0, 1, -16, 16, 8, -8, -1, 15, -24, 28).
    # scales[s] (s < 8) = low4(S[s]) | low4(S[s+8]) << 4 = 1, 15, 130, 142, 240, 255, 128, 193;
    # scales[8 + i] holds high2(S[i + 4m]) at bits 2m: 82, 189, 42, 217.
    # qs bytes 0xE4 -> 2-bit value j; hmask all 0 -> q = j - 4. Group k uses S[k],
    # j = (k % 8) // 2, d = 0.5: x_k = 0.5 * (S_k - 32) * (j - 4).
    scales = u8([1, 15, 130, 142, 240, 255, 128, 193, 82, 189, 42, 217])
    raw = bytes(32) + u8([0xE4] * 64) + scales + h(H_05)
    out = run_dq(raw, 11, 256)
    expect_equal(out, np.repeat([-2, 2, -3, 3, 32, -31, 0, -0.5,
                                 32, -32, -12, 12, 1, -15, 12, -14], 16))


@test
def test_q3_k_hmask():
    # d = 1, all S = 33 (scales[0..7] = 1 | 1 << 4 = 17, scales[8..11] = 2 * 0b01010101 = 170),
    # qs = 0, hmask[i] = 255 - (1 << (i % 8)). Output 128h + 32j + 16g + l is -4 when bit
    # 4h + j of hmask[16g + l] is clear, i.e. when 4h + j == l % 8, else 0.
    hmask = u8([255 - (1 << (i % 8)) for i in range(32)])
    raw = hmask + bytes(64) + u8([17] * 8 + [170] * 4) + h(H_1)
    out = run_dq(raw, 11, 256)
    expect_at(out, {0: -4, 1: 0, 24: -4, 33: -4, 34: 0, 99: -4, 128: 0, 132: -4,
                    197: 0, 198: -4, 254: 0, 255: -4})


# ---------------------------------------------------------------- dequantize() contract

@test
def test_multiple_blocks_and_errors():
    raw = h(H_1) + u8([1] * 32) + h(H_2) + u8([3] * 32)  # two Q8_0 blocks
    expect_equal(run_dq(raw, 8, 64), [1.0] * 32 + [6.0] * 32)
    for args in ((raw, 8, 63), (raw, 8, 32), (raw, 4, 64), (raw, 99, 64), (raw, 16, 256)):
        try:
            run_dq(*args)
        except ValueError:
            continue
        raise AssertionError("no ValueError for type %d, n %d" % (args[1], args[2]))


@test
def test_vectorized_matches_literal_scalar_port():
    # Not a known-answer test: random blocks through scalar_dequant.py (a value-by-value
    # transcription of the layout loops) must give bit-identical float32 results.
    import scalar_dequant
    rng = np.random.default_rng(1234)
    for type_id, (nbytes, _) in sorted(scalar_dequant.BLOCK_FUNCS.items()):
        blocks = rng.integers(0, 256, size=(3, nbytes), dtype=np.uint8)
        halves = (rng.standard_normal(size=(3, nbytes // 2)) * 0.01).astype("<f2")
        f16_offsets = {10: (80, 82), 11: (108,), 14: (208,), 3: (0, 2), 7: (0, 2),
                       12: (0, 2), 13: (0, 2)}.get(type_id, (0,))
        for i, off in enumerate(f16_offsets):  # finite scales: no NaN payloads involved
            blocks[:, off:off + 2] = halves[:, i:i + 1].view(np.uint8)
        elems = 32 if nbytes <= 34 else 256
        fast = dequant.dequantize(blocks.reshape(-1), type_id, 3 * elems)
        slow = scalar_dequant.dequantize_scalar(blocks.reshape(-1), type_id)
        same = fast.view(np.uint32) == slow.view(np.uint32)
        assert same.all(), "type %d: first difference at %d: %r vs %r" % (
            type_id, np.argmin(same), fast[np.argmin(same)], slow[np.argmin(same)])


# ---------------------------------------------------------------- GGUF reader

def gstr(s):
    b = s.encode("utf-8")
    return struct.pack("<Q", len(b)) + b


def kv(key, vtype, payload):
    return gstr(key) + struct.pack("<I", vtype) + payload


def tinfo(name, dims, type_id, offset):
    return (gstr(name) + struct.pack("<I", len(dims)) + struct.pack("<%dQ" % len(dims), *dims)
            + struct.pack("<IQ", type_id, offset))


def build_gguf(kvs, infos, data_parts, alignment=32, version=3):
    """Header + padding + data; data_parts are (bytes, padded_size)."""
    head = b"GGUF" + struct.pack("<IQQ", version, len(infos), len(kvs)) + b"".join(kvs)
    head += b"".join(infos)
    head += bytes(-len(head) % alignment)
    return head + b"".join(p + bytes(size - len(p)) for p, size in data_parts)


def sample_kvs(alignment=64):
    return [
        kv("general.architecture", 8, gstr("deepseek2")),
        kv("general.alignment", 4, struct.pack("<I", alignment)),
        kv("x.ints", 9, struct.pack("<IQ3i", 5, 3, 1, -2, 3)),
        kv("x.strs", 9, struct.pack("<IQ", 8, 2) + gstr("a b") + gstr("\u00e9")),
        kv("x.flag", 7, b"\x01"),
        kv("x.f32", 6, struct.pack("<f", 0.5)),
        kv("x.u64", 10, struct.pack("<Q", 2**40 + 3)),
        kv("x.i8", 1, struct.pack("<b", -1)),
        kv("x.f64", 12, struct.pack("<d", -0.25)),
    ]


A_VALUES = struct.pack("<6f", 1, 2, 3, 4, 5, 6)   # F32 tensor "a", dims [2, 3]
B_BLOCK = h(H_2) + u8([1] * 16 + [-1] * 16)       # Q8_0 tensor "b", dims [32]


def write_tmp(data):
    fd, path = tempfile.mkstemp(suffix=".gguf")
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    return path


def read_bytes(data):
    path = write_tmp(data)
    try:
        gf = gguf_reader.read_gguf(path)
        return gf, [dequant.tensor_to_f32(gf, t) for t in gf.tensors]
    finally:
        os.unlink(path)


@test
def test_reader_hand_built_file():
    infos = [tinfo("a", [2, 3], 0, 0), tinfo("b", [32], 8, 64)]
    gf, arrays = read_bytes(build_gguf(sample_kvs(), infos, [(A_VALUES, 64), (B_BLOCK, 34)],
                                       alignment=64))
    assert gf.version == 3 and gf.alignment == 64
    m = gf.metadata
    assert m["general.architecture"] == "deepseek2" and m["x.ints"] == [1, -2, 3]
    assert m["x.strs"] == ["a b", "\u00e9"] and m["x.flag"] is True and m["x.f32"] == 0.5
    assert m["x.u64"] == 2**40 + 3 and m["x.i8"] == -1 and m["x.f64"] == -0.25
    assert gf.metadata_types["x.ints"] == (9, 5) and gf.metadata_types["x.f32"] == 6
    assert gf.data_offset % 64 == 0 and gf.tensors[1].file_offset == gf.data_offset + 64
    a, b = gf.tensors
    assert (a.name, a.dims, a.type, a.n_bytes) == ("a", [2, 3], 0, 24)
    assert (b.name, b.dims, b.type, b.n_bytes, b.offset) == ("b", [32], 8, 34, 64)
    expect_equal(arrays[0].reshape(-1), [1, 2, 3, 4, 5, 6])
    assert arrays[0].shape == (3, 2) and arrays[0][1, 0] == 3.0  # ne0 fastest
    expect_equal(arrays[1], [2.0] * 16 + [-2.0] * 16)


@test
def test_reader_default_alignment_and_v2():
    kvs = [kv("general.architecture", 8, gstr("x"))]
    infos = [tinfo("a", [2, 3], 0, 0)]
    gf, arrays = read_bytes(build_gguf(kvs, infos, [(A_VALUES, 24)], version=2))
    assert gf.version == 2 and gf.alignment == 32 and gf.data_offset % 32 == 0
    expect_equal(arrays[0].reshape(-1), [1, 2, 3, 4, 5, 6])


def malformed_files():
    good_infos = [tinfo("a", [2, 3], 0, 0), tinfo("b", [32], 8, 64)]
    data = [(A_VALUES, 64), (B_BLOCK, 34)]
    good = build_gguf(sample_kvs(), good_infos, data, alignment=64)
    yield "bad magic", b"GGUX" + good[4:]
    yield "version 1", build_gguf(sample_kvs(), good_infos, data, alignment=64, version=1)
    yield "truncated header", good[:60]
    yield "truncated data", good[:-1]
    yield "removed type 4", build_gguf(sample_kvs(), [tinfo("a", [32], 4, 0)], data, 64)
    yield "unknown type 99", build_gguf(sample_kvs(), [tinfo("a", [32], 99, 0)], data, 64)
    yield "ne0 not a block multiple", build_gguf(sample_kvs(), [tinfo("b", [31], 8, 0)],
                                                 data, 64)
    yield "misaligned offset", build_gguf(sample_kvs(), [tinfo("a", [2, 3], 0, 8)], data, 64)
    yield "5 dims", build_gguf(sample_kvs(), [tinfo("a", [1, 1, 1, 1, 1], 0, 0)], data, 64)
    yield "bool byte 2", build_gguf([kv("x.flag", 7, b"\x02")], [], [])
    yield "unknown value type", build_gguf([kv("x", 13, b"\x00" * 8)], [], [])
    yield "alignment 48", build_gguf(sample_kvs(48), good_infos, data, alignment=48)
    yield "alignment as int32", build_gguf([kv("general.alignment", 5, struct.pack("<i", 32))],
                                           [], [])
    yield "duplicate key", build_gguf([kv("x.f32", 6, b"\0" * 4)] * 2, [], [])
    yield "duplicate tensor", build_gguf(sample_kvs(), [good_infos[0]] * 2, data, 64)
    yield "huge array count", build_gguf([kv("x", 9, struct.pack("<IQ", 8, 2**62))], [], [])


@test
def test_reader_rejects_malformed_files():
    for what, data in malformed_files():
        path = write_tmp(data)
        try:
            gguf_reader.read_gguf(path)
        except ValueError:
            continue
        finally:
            os.unlink(path)
        raise AssertionError("no ValueError for: " + what)


# ---------------------------------------------------------------- the llama.cpp fixture

@test
def test_fixture_parses_and_dequantizes():
    if not os.path.exists(FIXTURE):
        print("  (skipped: %s not found)" % FIXTURE)
        return
    gf = gguf_reader.read_gguf(FIXTURE)
    assert gf.metadata["general.architecture"] == "deepseek2"
    assert gf.metadata["deepseek2.embedding_length"] == 256
    types = {t.type_name for t in gf.tensors}
    assert types == {"F32", "Q4_K", "Q5_0", "Q5_1", "Q6_K", "Q8_0"}, types
    end = 0
    for t in gf.tensors:
        x = dequant.tensor_to_f32(gf, t)
        assert x.shape == t.shape and np.isfinite(x).all(), t.name
        mean, std = float(x.mean(dtype=np.float64)), float(x.std(dtype=np.float64))
        if t.name.endswith("norm.weight"):   # 1 + N(0, 0.02^2)
            ok = abs(mean - 1) < 0.01 and std < 0.04
        else:                                 # N(0, 0.02^2)
            ok = abs(mean) < 0.01 and 0.01 < std < 0.04
        assert ok, "%s (%s): mean %.5f std %.5f" % (t.name, t.type_name, mean, std)
        end = max(end, t.file_offset + t.n_bytes)
    assert end <= os.path.getsize(FIXTURE)


def main():
    passed = failed = 0
    for fn in TESTS:
        try:
            fn()
            passed += 1
            print("PASS", fn.__name__)
        except Exception:  # report every failure, keep going
            failed += 1
            print("FAIL", fn.__name__)
            traceback.print_exc(file=sys.stdout)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
