"""Naive, vectorized numpy dequantization of ggml tensor types, bit-exact with ggml.

Layouts: ../shared/reference/ggml-quant-formats.md. Each function takes the blocks as a
uint8 array of shape [n_blocks, block_bytes] and returns float32 [n_blocks, block_elems].

Arithmetic is float32 throughout, in ggml's order (every intermediate is cast to float32 so
numpy never promotes to float64). Integer parts (nibbles, "- 8", "- 32", scale unpacking) are
computed exactly as integers, then converted to float32 once.
"""

import numpy as np

import ggml_types
from ggml_types import (F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0,
                        Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, MXFP4)

f32 = np.float32


def _f16(blocks, offset):
    """f16 field at byte `offset` of every block -> float32 [n_blocks, 1] (exact)."""
    return blocks[:, offset:offset + 2].copy().view("<f2").astype(f32)


def _i(a):
    """Widen a uint8/int8 array to int32 so integer arithmetic cannot wrap."""
    return a.astype(np.int32)


def _split_nibbles(qs):
    """[n, 16] bytes -> (low nibbles, high nibbles), each int32 [n, 16]."""
    return _i(qs) & 15, _i(qs) >> 4


def _fifth_bits(qh_bytes):
    """[n, 4] bytes read as one little-endian uint32 h -> bits 0..31 of h, int32 [n, 32]."""
    h = qh_bytes.copy().view("<u4").astype(np.int64)        # [n, 1]
    return ((h >> np.arange(32)) & 1).astype(np.int32)      # [n, 32]


def dq_q8_0(b):
    d = _f16(b, 0)                                          # [n, 1]
    q = b[:, 2:34].copy().view(np.int8).astype(f32)         # [n, 32]
    return d * q


def dq_q4_0(b):
    d = _f16(b, 0)
    lo, hi = _split_nibbles(b[:, 2:18])
    q = np.concatenate([lo - 8, hi - 8], axis=1).astype(f32)
    return d * q


def dq_q4_1(b):
    d, m = _f16(b, 0), _f16(b, 2)
    lo, hi = _split_nibbles(b[:, 4:20])
    q = np.concatenate([lo, hi], axis=1).astype(f32)
    return (d * q).astype(f32) + m


def dq_q5_0(b):
    d = _f16(b, 0)
    bits = _fifth_bits(b[:, 2:6])
    lo, hi = _split_nibbles(b[:, 6:22])
    q = np.concatenate([lo | (bits[:, :16] << 4), hi | (bits[:, 16:] << 4)], axis=1)
    return d * (q - 16).astype(f32)


def dq_q5_1(b):
    d, m = _f16(b, 0), _f16(b, 2)
    bits = _fifth_bits(b[:, 4:8])
    lo, hi = _split_nibbles(b[:, 8:24])
    q = np.concatenate([lo | (bits[:, :16] << 4), hi | (bits[:, 16:] << 4)], axis=1)
    return (d * q.astype(f32)).astype(f32) + m


def _k4_scales_mins(scales):
    """Q4_K/Q5_K packed 6-bit scales: [n, 12] bytes -> (sc, mn), each int32 [n, 8]."""
    s = _i(scales)
    sc_lo, mn_lo = s[:, 0:4] & 63, s[:, 4:8] & 63                     # sub-blocks 0..3
    sc_hi = (s[:, 8:12] & 15) | ((s[:, 0:4] >> 6) << 4)               # sub-blocks 4..7
    mn_hi = (s[:, 8:12] >> 4) | ((s[:, 4:8] >> 6) << 4)
    return (np.concatenate([sc_lo, sc_hi], axis=1),
            np.concatenate([mn_lo, mn_hi], axis=1))


def _k4_apply(d, dmin, scales, q):
    """x = (d*sc)*q - dmin*mn per sub-block; q int32 [n, 8, 32] -> float32 [n, 256]."""
    sc, mn = _k4_scales_mins(scales)
    d1 = (d * sc.astype(f32)).astype(f32)[:, :, None]       # [n, 8, 1]
    m1 = (dmin * mn.astype(f32)).astype(f32)[:, :, None]    # [n, 8, 1]
    y = (d1 * q.astype(f32)).astype(f32) - m1
    return y.reshape(len(q), 256)


def _k4_nibbles(qs):
    """[n, 128] bytes -> q int32 [n, 8, 32]: sub-block 2c = low nibbles of qs[32c..],
    sub-block 2c+1 = high nibbles of the same 32 bytes."""
    chunks = _i(qs).reshape(len(qs), 4, 1, 32)
    return np.concatenate([chunks & 15, chunks >> 4], axis=2).reshape(len(qs), 8, 32)


def dq_q4_k(b):
    d, dmin = _f16(b, 0), _f16(b, 2)
    return _k4_apply(d, dmin, b[:, 4:16], _k4_nibbles(b[:, 16:144]))


def dq_q5_k(b):
    d, dmin = _f16(b, 0), _f16(b, 2)
    qh = _i(b[:, 16:48])                                            # [n, 32]
    # Sub-block s (= 2c or 2c+1) takes bit s of qh[l] as its fifth bit.
    bits = (qh[:, None, :] >> np.arange(8)[None, :, None]) & 1     # [n, 8, 32]
    q = _k4_nibbles(b[:, 48:176]) + 16 * bits
    return _k4_apply(d, dmin, b[:, 4:16], q)


def _two_bit_groups(qs):
    """Q2_K/Q3_K quant order: [n, 64] bytes -> int32 [n, 2, 4, 2, 16] indexed
    [half h, shift step j, group g, l] = (qs[32h + 16g + l] >> 2j) & 3."""
    q = _i(qs).reshape(len(qs), 2, 1, 2, 16)
    shifts = (2 * np.arange(4)).reshape(1, 1, 4, 1, 1)
    return (q >> shifts) & 3


def dq_q2_k(b):
    n = len(b)
    d, dmin = _f16(b, 80), _f16(b, 82)                     # [n, 1]
    # Scale byte index is = 8h + 2j + g, which is the row-major order of [2, 4, 2].
    sc = _i(b[:, 0:16]).reshape(n, 2, 4, 2)
    dl = (d[:, :, None, None] * (sc & 15).astype(f32)).astype(f32)[..., None]
    ml = (dmin[:, :, None, None] * (sc >> 4).astype(f32)).astype(f32)[..., None]
    q = _two_bit_groups(b[:, 16:80]).astype(f32)           # [n, 2, 4, 2, 16]
    return ((dl * q).astype(f32) - ml).reshape(n, 256)


def _q3_k_scales(scales):
    """[n, 12] bytes -> 6-bit scales S int32 [n, 16] (not yet minus 32)."""
    s = _i(scales)
    low4 = np.concatenate([s[:, 0:8] & 15, s[:, 0:8] >> 4], axis=1)       # [n, 16]
    idx = np.arange(16)
    high2 = (s[:, 8 + idx % 4] >> (2 * (idx // 4))) & 3                   # [n, 16]
    return low4 | (high2 << 4)


def dq_q3_k(b):
    n = len(b)
    d = _f16(b, 108)                                        # [n, 1]
    S = _q3_k_scales(b[:, 96:108]).reshape(n, 2, 4, 2)      # order is = 8h + 2j + g
    dl = (d[:, :, None, None] * (S - 32).astype(f32)).astype(f32)[..., None]
    hm = _i(b[:, 0:32]).reshape(n, 1, 1, 2, 16)             # hmask[16g + l]
    bit = (4 * np.arange(2)[:, None] + np.arange(4)[None, :]).reshape(1, 2, 4, 1, 1)
    high_clear = ((hm >> bit) & 1) == 0                     # [n, 2, 4, 2, 16]
    q = _two_bit_groups(b[:, 32:96]) - 4 * high_clear.astype(np.int32)
    return (dl * q.astype(f32)).astype(f32).reshape(n, 256)


def dq_q6_k(b):
    n = len(b)
    ql = _i(b[:, 0:128]).reshape(n, 2, 64)                  # half h uses ql[64h ..]
    qh = _i(b[:, 128:192]).reshape(n, 2, 32)                # and qh[32h ..]
    sc = b[:, 192:208].copy().view(np.int8).astype(np.int32).reshape(n, 2, 4, 2)
    d = _f16(b, 208)                                        # [n, 1]
    a, c = ql[:, :, 0:32], ql[:, :, 32:64]
    q = np.stack([(a & 15) | (((qh >> 0) & 3) << 4),        # outputs l      of the half
                  (c & 15) | (((qh >> 2) & 3) << 4),        # outputs l + 32
                  (a >> 4) | (((qh >> 4) & 3) << 4),        # outputs l + 64
                  (c >> 4) | (((qh >> 6) & 3) << 4)],       # outputs l + 96
                 axis=2)                                    # [n, 2, 4, 32]
    q = q.reshape(n, 2, 4, 2, 16) - 32                      # [.., g, is = l / 16, l % 16]
    # Output group g uses scales[8h + 2g + is]: row-major order of sc's [2, 4, 2].
    dsc = (d[:, :, None, None] * sc.astype(f32)).astype(f32)[..., None]
    return (dsc * q.astype(f32)).astype(f32).reshape(n, 256)


def dq_f32(b):
    return b.copy().view("<f4")


def dq_f16(b):
    return b.copy().view("<f2").astype(f32)


def dq_bf16(b):
    return (b.copy().view("<u2").astype(np.uint32) << 16).view("<f4")


# MXFP4 (OCP microscaling): E2M1 codes (sign in bit 3), magnitudes doubled to integers so that
# each value is (2·E2M1) · 2^(e − 128), as ggml computes it (E8M0 255 read as 2^127, not NaN).
_MXFP4_DOUBLED = np.array([0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12], dtype=np.int32)


def dq_mxfp4(b):
    e = _i(b[:, 0:1])                                       # [n, 1]
    lo, hi = _split_nibbles(b[:, 1:17])
    q = _MXFP4_DOUBLED[np.concatenate([lo, hi], axis=1)]    # [n, 32]
    with np.errstate(over="ignore"):                        # 12 · 2^125 and up: ±inf, as in float32
        return (q.astype(np.float64) * np.ldexp(1.0, e - 128)).astype(f32)


DEQUANTIZERS = {
    F32: dq_f32, F16: dq_f16, BF16: dq_bf16,
    Q4_0: dq_q4_0, Q4_1: dq_q4_1, Q5_0: dq_q5_0, Q5_1: dq_q5_1, Q8_0: dq_q8_0,
    Q2_K: dq_q2_k, Q3_K: dq_q3_k, Q4_K: dq_q4_k, Q5_K: dq_q5_k, Q6_K: dq_q6_k,
    MXFP4: dq_mxfp4,
}


def dequantize(raw_bytes, ggml_type, n_elements):
    """Dequantize n_elements values of ggml_type from raw_bytes (uint8) -> float32 [n]."""
    elems, nbytes = ggml_types.block_geometry(ggml_type)
    if ggml_type not in DEQUANTIZERS:
        raise ValueError("dequantizing ggml type %s (%d) is not supported"
                         % (ggml_types.type_name(ggml_type), ggml_type))
    if n_elements % elems != 0:
        raise ValueError("%d elements is not a multiple of the %s block size %d"
                         % (n_elements, ggml_types.type_name(ggml_type), elems))
    n_blocks = n_elements // elems
    raw = np.asarray(raw_bytes, dtype=np.uint8).reshape(-1)
    if raw.size != n_blocks * nbytes:
        raise ValueError("%d elements of %s need %d bytes, got %d"
                         % (n_elements, ggml_types.type_name(ggml_type),
                            n_blocks * nbytes, raw.size))
    out = DEQUANTIZERS[ggml_type](raw.reshape(n_blocks, nbytes))
    assert out.dtype == f32, out.dtype
    return out.reshape(n_elements)


def tensor_to_f32(gguf_file, tensor):
    """A tensor of a parsed GgufFile as float32, numpy order: shape = dims[::-1]."""
    values = dequantize(gguf_file.raw(tensor), tensor.type, tensor.n_elements)
    return values.reshape(tensor.shape)
