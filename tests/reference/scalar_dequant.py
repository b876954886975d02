"""Second, deliberately literal dequantizer: one block at a time, one value at a time.

A line-by-line transcription of the per-block loops in
../shared/reference/ggml-quant-formats.md, using Python ints for the integer parts and
numpy float32 scalars for every float operation (so each product/sum rounds to float32 exactly
as ggml's C does). Slow; used only by test_reference_selfcheck.py to cross-check the
vectorized dequant.py on random blocks.
"""

import struct

import numpy as np

F = np.float32


def f16(b, off):
    return F(np.frombuffer(bytes(b[off:off + 2]), dtype="<f2")[0])


def q8_0(b):
    d = f16(b, 0)
    return [d * F(struct.unpack_from("<b", b, 2 + k)[0]) for k in range(32)]


def q4_0(b):
    d = f16(b, 0)
    y = [F(0)] * 32
    for j in range(16):
        y[j] = F((b[2 + j] & 15) - 8) * d
        y[j + 16] = F((b[2 + j] >> 4) - 8) * d
    return y


def q4_1(b):
    d, m = f16(b, 0), f16(b, 2)
    y = [F(0)] * 32
    for j in range(16):
        y[j] = F(b[4 + j] & 15) * d + m
        y[j + 16] = F(b[4 + j] >> 4) * d + m
    return y


def q5(b, with_min):
    d = f16(b, 0)
    m = f16(b, 2) if with_min else None
    qh_off = 4 if with_min else 2
    hbits = struct.unpack_from("<I", b, qh_off)[0]
    qs = b[qh_off + 4:qh_off + 20]
    y = [F(0)] * 32
    for j in range(16):
        x0 = (qs[j] & 15) | (((hbits >> j) & 1) << 4)
        x1 = (qs[j] >> 4) | (((hbits >> (j + 16)) & 1) << 4)
        if with_min:
            y[j], y[j + 16] = F(x0) * d + m, F(x1) * d + m
        else:
            y[j], y[j + 16] = F(x0 - 16) * d, F(x1 - 16) * d
    return y


def scale_min_k4(j, s):
    if j < 4:
        return s[j] & 63, s[j + 4] & 63
    return (s[j + 4] & 15) | ((s[j - 4] >> 6) << 4), (s[j + 4] >> 4) | ((s[j] >> 6) << 4)


def qk45(b, five_bit):
    d, dmin = f16(b, 0), f16(b, 2)
    scales = b[4:16]
    qh = b[16:48] if five_bit else None
    qs = b[48:176] if five_bit else b[16:144]
    y = []
    for c in range(4):
        for half in range(2):
            sc, mn = scale_min_k4(2 * c + half, scales)
            d1, m1 = d * F(sc), dmin * F(mn)
            for l in range(32):
                q = (qs[32 * c + l] >> (4 * half)) & 15
                if five_bit and (qh[l] >> (2 * c + half)) & 1:
                    q += 16
                y.append(d1 * F(q) - m1)
    return y


def q6_k(b):
    d = f16(b, 208)
    y = [F(0)] * 256
    for hf in range(2):
        ql, qh, o = b[64 * hf:], b[128 + 32 * hf:], 128 * hf
        sc = [struct.unpack_from("<b", b, 192 + 8 * hf + i)[0] for i in range(8)]
        for l in range(32):
            i = l // 16
            q1 = ((ql[l] & 15) | ((qh[l] & 3) << 4)) - 32
            q2 = ((ql[l + 32] & 15) | (((qh[l] >> 2) & 3) << 4)) - 32
            q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32
            q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32
            y[o + l] = d * F(sc[i]) * F(q1)
            y[o + l + 32] = d * F(sc[i + 2]) * F(q2)
            y[o + l + 64] = d * F(sc[i + 4]) * F(q3)
            y[o + l + 96] = d * F(sc[i + 6]) * F(q4)
    return y


def q2_k(b):
    d, dmin = f16(b, 80), f16(b, 82)
    y, i = [], 0
    for hf in range(2):
        qs = b[16 + 32 * hf:]
        for j in range(4):
            for g in range(2):
                sc = b[i]
                i += 1
                dl, ml = d * F(sc & 15), dmin * F(sc >> 4)
                for l in range(16):
                    y.append(dl * F((qs[16 * g + l] >> (2 * j)) & 3) - ml)
    return y


def q3_k_scale(s, raw):
    low = raw[s] & 15 if s < 8 else raw[s - 8] >> 4
    high = (raw[8 + s % 4] >> (2 * (s // 4))) & 3
    return low | (high << 4)


def q3_k(b):
    d = f16(b, 108)
    y, s = [], 0
    for hf in range(2):
        qs = b[32 + 32 * hf:]
        for j in range(4):
            for g in range(2):
                dl = d * F(q3_k_scale(s, b[96:108]) - 32)
                s += 1
                for l in range(16):
                    q = (qs[16 * g + l] >> (2 * j)) & 3
                    if not (b[16 * g + l] >> (4 * hf + j)) & 1:
                        q -= 4
                    y.append(dl * F(q))
    return y


BLOCK_FUNCS = {  # type id -> (bytes per block, function of one block's bytes)
    2: (18, q4_0), 3: (20, q4_1), 6: (22, lambda b: q5(b, False)),
    7: (24, lambda b: q5(b, True)), 8: (34, q8_0), 10: (84, q2_k), 11: (110, q3_k),
    12: (144, lambda b: qk45(b, False)), 13: (176, lambda b: qk45(b, True)), 14: (210, q6_k),
}


def dequantize_scalar(raw, type_id):
    nbytes, fn = BLOCK_FUNCS[type_id]
    raw = bytes(raw)
    out = []
    for start in range(0, len(raw), nbytes):
        out.extend(fn(raw[start:start + nbytes]))
    return np.array(out, dtype=np.float32)
