"""llama.cpp's rounding of activations before a product with a stored weight matrix, written
from its CPU backend's rules (not its code): a weight of type T multiplies activations converted
to T's "vec_dot_type" —

- Q4_0, Q5_0, Q8_0 (and Q4_1, Q5_1 through Q8_1, the same integers): blocks of 32, scale
  d = max|x| / 127 stored as f16, q = round-half-away-from-zero(x / d) (computed with 1/d);
- Q2_K … Q6_K: Q8_K blocks of 256, the value of largest magnitude m, iscale = −127 / m,
  q = min(127, round-half-even(iscale · x)), scale 1 / iscale (f32);
- F16 / BF16: the activations rounded to f16 / bf16; F32: unchanged.

`round_for(type_id, X)` returns the dequantized rounded activations (float64, rows = tokens), so
the reference forward pass can run "as llama.cpp rounds" and the fast paths' quality be compared
with llama.cpp's (check_forward.py). Attention's own products and the f16 KV cache are not
simulated (they stay exact here).
"""
import numpy as np

from ggml_types import F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K

_Q8_0_FAMILY = {Q4_0, Q4_1, Q5_0, Q5_1, Q8_0}
_Q8_K_FAMILY = {Q2_K, Q3_K, Q4_K, Q5_K, Q6_K}


def _blocks(X, size):
    X = np.asarray(X, dtype=np.float32)
    T, n = X.shape
    assert n % size == 0, (n, size)
    return X.reshape(T, n // size, size)


def q8_0(X):
    B = _blocks(X, 32)
    amax = np.max(np.abs(B), axis=2, keepdims=True)
    d = (amax / np.float32(127)).astype(np.float32)
    inv = np.where(d > 0, np.float32(1) / np.where(d > 0, d, 1), 0).astype(np.float32)
    v = B * inv
    q = np.trunc(v + np.copysign(np.float32(0.5), v))          # roundf: half away from zero
    d16 = d.astype(np.float16).astype(np.float64)
    return (q.astype(np.float64) * d16).reshape(np.shape(X))


def q8_k(X):
    B = _blocks(X, 256)
    idx = np.argmax(np.abs(B), axis=2)[..., None]               # first value of largest magnitude
    m = np.take_along_axis(B, idx, axis=2)
    safe = np.where(m != 0, m, 1).astype(np.float32)
    iscale = (np.float32(-127) / safe).astype(np.float32)
    q = np.minimum(127, np.rint(iscale * B))                     # nearest, ties to even
    out = q.astype(np.float64) * (np.float32(1) / iscale).astype(np.float64)
    return np.where(m != 0, out, 0.0).reshape(np.shape(X))


def round_for(type_id, X):
    if type_id in _Q8_0_FAMILY:
        return q8_0(X)
    if type_id in _Q8_K_FAMILY:
        return q8_k(X)
    if type_id == F16:
        return np.asarray(X, dtype=np.float16).astype(np.float64)
    if type_id == BF16:
        x = np.asarray(X, dtype=np.float32).view(np.uint32)
        rounded = ((x + 0x7FFF + ((x >> 16) & 1)) & 0xFFFF0000).astype(np.uint32)
        return rounded.view(np.float32).astype(np.float64)
    return np.asarray(X, dtype=np.float64)
