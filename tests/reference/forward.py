#!/usr/bin/python3
"""Naive numpy forward pass of a `deepseek2` GGUF model (MLA attention + DeepSeekMoE), and of
a `deepseek32` one (DeepSeek-V3.2: the same plus the lightning indexer's sparse attention).

The reference the C++ engine is tested against: written from the equations in
../shared/reference/deepseek-architectures.md (§1.1-1.4 MLA, tensor layout, RoPE/YaRN; §2.1-2.2
MoE and gate) and the GGUF conventions in ../shared/DESIGN.md ("Model files"). It reads the
same files as the engine with this directory's reader (gguf_reader.py) and dequantizer
(dequant.py). Clear, not fast: every weight is dequantized once to float32 (exactly what
ggml's dequantizer gives) and everything is computed in float64 from there; attention is the
materialised per-head form with an explicit loop over query positions, the MoE a loop over
experts.

    forward.py MODEL.gguf --ids 1,2,3 [-o logits.f32] [--dump DIR] [--greedy N]

-o writes raw little-endian float32 logits, T rows of V values (teacher forcing: row t are
the logits after ids[0..t]; no BOS is added). --dump DIR writes intermediate tensors as
float32 .npy files (names in DUMP_NAMES below). --greedy N also prints the N ids of the greedy
continuation (argmax each step, recomputing the whole sequence each step).

Python API:  model = load_model(path);  logits = forward(model, ids)   # float64 [T, V]
             forward(model, ids, dump={}) fills the dict with the intermediates (float64).

Conventions
- A GGUF tensor with ggml dims {ne0, ne1, ...} is the numpy array of shape dims[::-1];
  a 2-D weight {in, out} is numpy [out, in] and a linear layer is y = W @ x. Activations are
  kept as rows (one row per token), so for a whole sequence Y = X @ W.T (`linear`).
- Positions are token indices 0..T-1.

Semantic choices where the sources leave room (each is also noted at its code):
- Top-k ties (experts and expert groups) go to the LOWER index.
- Group score: max of the group's selection scores under softmax gating (DeepSeek-V2),
  sum of the top-2 selection scores under sigmoid gating (DeepSeek-V3). llama.cpp always uses
  the top-2 sum; that only matters for softmax models with expert_group_count > 1 (V2-236B).
- expert_gating_func absent or 0 means softmax (llama.cpp's default for deepseek2).
- YaRN ramp denominator max(high - low, 0.001) (ggml). HF's "if low == high: high += 0.001"
  is the same whenever low <= high, which holds for every real config.
- YaRN is applied whenever rope.scaling.type == "yarn" (as llama.cpp and HF do; the official
  DeepSeek demo applies it only when its max_seq_len exceeds the original context).
- Trailing nextn (multi-token prediction) layers, `nextn_predict_layers`, are not run.
"""

import argparse
import math
import os
import sys
from dataclasses import dataclass

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dequant import tensor_to_f32  # noqa: E402
from gguf_reader import read_gguf  # noqa: E402
import llama_act_round  # noqa: E402

ARCH = "deepseek2"
# DeepSeek-V3.2 as llama.cpp writes it: deepseek2's MLA and MoE plus a lightning indexer per layer
# (DeepSeek Sparse Attention), reference §4 / DeepSeek's inference/model.py `Indexer`.
ARCHES = ("deepseek2", "deepseek32")

# Per layer L (prefix "blk.L."), then the final ones. Shapes for T tokens.
DUMP_NAMES = """
blk.L.attn_norm       [T, H]                 input of attention, after RMSNorm * attn_norm
blk.L.q               [T, n_heads, nope+rope] query per head, [q_nope | q_rope] after RoPE
blk.L.kv_latent       [T, kv_lora]           normalized latent c (RMSNorm * attn_kv_a_norm)
blk.L.k_rope          [T, rope]              shared rope key after RoPE
blk.L.attn_out        [T, H]                 attention output after attn_output
blk.L.ffn_norm        [T, H]                 input of the FFN, after RMSNorm * ffn_norm
blk.L.router_weights  [T, E]                 final weight per expert, 0 if not selected (MoE)
blk.L.ffn_out         [T, H]                 FFN output (routed + shared for MoE layers)
blk.L.out             [T, H]                 residual stream after the layer
result_norm           [T, H]                 final RMSNorm * output_norm
logits                [T, V]
"""


# ----------------------------------------------------------------------------- configuration

@dataclass
class Config:
    n_layers: int            # block_count - nextn_predict_layers
    hidden: int              # H
    vocab: int               # V (rows of token_embd)
    eps: float               # attention.layer_norm_rms_epsilon
    # MLA
    n_heads: int
    q_lora: int              # 0: no query compression (attn_q)
    kv_lora: int
    nope: int                # qk_nope_head_dim
    rope: int                # qk_rope_head_dim
    v_dim: int               # v_head_dim
    freq_base: float = 10000.0
    yarn: bool = False
    yarn_factor: float = 1.0
    yarn_orig_ctx: int = 4096
    yarn_beta_fast: float = 32.0
    yarn_beta_slow: float = 1.0
    yarn_log_mul: float = 0.0    # rope.scaling.yarn_log_multiplier = 0.1 * mscale_all_dim
    # MoE
    n_dense: int = 0         # leading_dense_block_count
    n_experts: int = 0
    n_used: int = 0
    n_shared: int = 0
    n_groups: int = 1
    n_groups_used: int = 1
    gating: str = "softmax"  # or "sigmoid"
    weights_scale: float = 1.0
    weights_norm: bool = False
    # DSA indexer (deepseek32; 0: none): heads, key width, cached tokens each query attends to.
    idx_heads: int = 0
    idx_dim: int = 0
    idx_top_k: int = 0


def read_config(gf):
    """Config from a parsed GGUF (keys `deepseek2.*`; defaults as in check_inspect.py)."""
    md = gf.metadata
    arch = md.get("general.architecture")
    if arch not in ARCHES:
        raise ValueError("general.architecture is %r, expected one of %r" % (arch, ARCHES))

    def hp(key, default=None):
        full = arch + "." + key
        if full in md:
            return md[full]
        if default is None:
            raise ValueError("required key %r missing" % full)
        return default

    rope = hp("rope.dimension_count")
    if (arch + ".attention.key_length_mla") in md:     # split-MLA files
        nope = hp("attention.key_length_mla") - rope
        v_dim = hp("attention.value_length_mla")
    else:                                              # older files: per-head sizes here
        nope = hp("attention.key_length") - rope
        v_dim = hp("attention.value_length")
    gating_id = hp("expert_gating_func", 0)
    if gating_id not in (0, 1, 2):
        raise ValueError("expert_gating_func %d is not supported (1 softmax, 2 sigmoid)"
                         % gating_id)
    n_groups = hp("expert_group_count", 0) or 1
    cfg = Config(
        n_layers=hp("block_count") - hp("nextn_predict_layers", 0),
        hidden=hp("embedding_length"),
        vocab=gf.tensor("token_embd.weight").dims[1],
        eps=float(hp("attention.layer_norm_rms_epsilon")),
        n_heads=hp("attention.head_count"),
        q_lora=hp("attention.q_lora_rank", 0),
        kv_lora=hp("attention.kv_lora_rank"),
        nope=nope, rope=rope, v_dim=v_dim,
        freq_base=float(hp("rope.freq_base", 10000.0)),
        n_dense=hp("leading_dense_block_count", 0),
        n_experts=hp("expert_count", 0),
        n_used=hp("expert_used_count", 0),
        n_shared=hp("expert_shared_count", 0),
        n_groups=n_groups,
        n_groups_used=hp("expert_group_used_count", 0) or n_groups,
        gating="sigmoid" if gating_id == 2 else "softmax",
        weights_scale=float(hp("expert_weights_scale", 1.0)),
        weights_norm=bool(hp("expert_weights_norm", False)),
    )
    if arch == "deepseek32":
        cfg.idx_heads = hp("attention.indexer.head_count")
        cfg.idx_dim = hp("attention.indexer.key_length")
        cfg.idx_top_k = hp("attention.indexer.top_k")
    if md.get(arch + ".rope.scaling.type") == "yarn":
        cfg.yarn = True
        cfg.yarn_factor = float(hp("rope.scaling.factor"))
        cfg.yarn_orig_ctx = int(hp("rope.scaling.original_context_length",
                                   hp("context_length")))
        cfg.yarn_beta_fast = float(hp("rope.scaling.yarn_beta_fast", 32.0))
        cfg.yarn_beta_slow = float(hp("rope.scaling.yarn_beta_slow", 1.0))
        cfg.yarn_log_mul = float(hp("rope.scaling.yarn_log_multiplier", 0.0))
    return cfg


class Model:
    """Config plus weights: name -> float32 numpy array (dequantized, numpy order)."""

    def __init__(self, cfg, tensors, path=None, types=None):
        self.cfg = cfg
        self.tensors = tensors
        self.path = path
        self.types = types or {}     # name -> ggml type id
        # False: exact products; True: activations rounded as llama.cpp rounds them before each
        # product with a stored matrix (llama_act_round.py), for quality comparisons.
        self.llama_rounding = False

    def act(self, name, X):
        """The activations X as the product with tensor `name` sees them."""
        if not self.llama_rounding:
            return X
        return llama_act_round.round_for(self.types.get(name), X)

    def lin(self, name, X):
        """linear(w(name), X) with the activations rounded as act() says."""
        return linear(self.w(name), self.act(name, X))

    def has(self, name):
        return name in self.tensors

    def w(self, name):
        """A weight as float64 (exact conversion of the dequantized float32 values)."""
        if name not in self.tensors:
            raise KeyError("model has no tensor %r" % name)
        return np.asarray(self.tensors[name], dtype=np.float64)


def _layer_of(name):
    if not name.startswith("blk."):
        return None
    return int(name.split(".")[1])


def load_model(path):
    gf = read_gguf(path)
    cfg = read_config(gf)
    tensors, types = {}, {}
    for t in gf.tensors:
        layer = _layer_of(t.name)
        if layer is not None and layer >= cfg.n_layers:
            continue                                   # nextn (MTP) layers are not run
        tensors[t.name] = tensor_to_f32(gf, t)
        types[t.name] = t.type
    return Model(cfg, tensors, path, types)


# ----------------------------------------------------------------------------- building blocks

def linear(W, X):
    """y = W @ x for every row x of X (W numpy [out, in], X [T, in]) -> [T, out]."""
    return X @ W.T


def rms_norm(X, weight, eps):
    """Each row: x / sqrt(mean(x^2) + eps) * weight."""
    return X / np.sqrt(np.mean(X * X, axis=-1, keepdims=True) + eps) * weight


def layer_norm(X, weight, bias, eps):
    """Each row: (x - mean) / sqrt(var + eps) * weight + bias."""
    mu = np.mean(X, axis=-1, keepdims=True)
    var = np.mean((X - mu) ** 2, axis=-1, keepdims=True)
    return (X - mu) / np.sqrt(var + eps) * weight + bias


def silu(x):
    return x / (1.0 + np.exp(-x))


def sigmoid(x):
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-x))


def softmax(x):
    e = np.exp(x - np.max(x))
    return e / np.sum(e)


def rope_frequencies(cfg):
    """Angle per position for each rotated pair i = 0..rope/2-1 (YaRN-corrected if enabled)."""
    d = cfg.rope
    i = np.arange(d // 2, dtype=np.float64)
    f = cfg.freq_base ** (-2.0 * i / d)
    if not cfg.yarn:
        return f

    def corr_dim(n_rot):
        return (d * math.log(cfg.yarn_orig_ctx / (n_rot * 2.0 * math.pi))
                / (2.0 * math.log(cfg.freq_base)))

    low = max(math.floor(corr_dim(cfg.yarn_beta_fast)), 0)
    high = min(math.ceil(corr_dim(cfg.yarn_beta_slow)), d - 1)
    # ggml's denominator; equals HF's "if low == high: high += 0.001" whenever low <= high.
    ramp = np.clip((i - low) / max(high - low, 0.001), 0.0, 1.0)
    # ramp 0 (i <= low): unchanged (extrapolate); ramp 1 (i >= high): f / factor (interpolate).
    return f / cfg.yarn_factor * ramp + f * (1.0 - ramp)


def softmax_scale(cfg):
    scale = 1.0 / math.sqrt(cfg.nope + cfg.rope)
    if cfg.yarn:
        m = 1.0 + cfg.yarn_log_mul * math.log(cfg.yarn_factor)
        scale *= m * m
    return scale


def apply_rope(X, positions, freqs):
    """Rotate adjacent pairs (x[2i], x[2i+1]) of the last axis by angle p * freqs[i].

    X: [T, ..., rope] with axis 0 the token (position p = positions[t]).
    (x0, x1) -> (x0 cos - x1 sin, x0 sin + x1 cos). cos/sin are not scaled (YaRN's mscale is
    folded into the softmax scale instead)."""
    angles = np.asarray(positions, dtype=np.float64)[:, None] * freqs[None, :]   # [T, rope/2]
    angles = angles.reshape((X.shape[0],) + (1,) * (X.ndim - 2) + (len(freqs),))
    cos, sin = np.cos(angles), np.sin(angles)
    x0, x1 = X[..., 0::2], X[..., 1::2]
    out = np.empty_like(X)
    out[..., 0::2] = x0 * cos - x1 * sin
    out[..., 1::2] = x0 * sin + x1 * cos
    return out


def apply_rope_halves(X, positions, freqs):
    """RoPE on pairs (x[i], x[i + n/2]) of the last axis (n = 2 · len(freqs)): the "NEOX" order
    that V3.2's indexer uses, where the MLA heads rotate adjacent pairs (apply_rope)."""
    angles = np.asarray(positions, dtype=np.float64)[:, None] * freqs[None, :]   # [T, n/2]
    angles = angles.reshape((X.shape[0],) + (1,) * (X.ndim - 2) + (len(freqs),))
    cos, sin = np.cos(angles), np.sin(angles)
    half = len(freqs)
    x0, x1 = X[..., :half], X[..., half:]
    return np.concatenate([x0 * cos - x1 * sin, x0 * sin + x1 * cos], axis=-1)


def dense_ffn(model, prefix, suffix, X):
    """down @ (silu(gate @ x) * (up @ x)) with {prefix}ffn_{gate,up,down}{suffix}.weight."""
    name = prefix + "ffn_{}" + suffix + ".weight"
    return model.lin(name.format("down"), silu(model.lin(name.format("gate"), X)) * model.lin(name.format("up"), X))


# ----------------------------------------------------------------------------- attention (MLA)

def kv_up_projections(model, prefix):
    """Per-head up-projection matrices (Wk [n_heads, nope, kv_lora], Wv [n_heads, v, kv_lora])
    so that k_nope[h] = Wk[h] @ c and v[h] = Wv[h] @ c, from either layout."""
    cfg = model.cfg
    if model.has(prefix + "attn_k_b.weight"):
        # Split layout: attn_k_b ggml {nope, kv_lora, NH} -> numpy [NH, kv_lora, nope];
        # k_nope[h] = Kb[h].T @ c.   attn_v_b ggml {kv_lora, v, NH} -> numpy [NH, v, kv_lora].
        kb = model.w(prefix + "attn_k_b.weight")
        vb = model.w(prefix + "attn_v_b.weight")
        assert kb.shape == (cfg.n_heads, cfg.kv_lora, cfg.nope), kb.shape
        assert vb.shape == (cfg.n_heads, cfg.v_dim, cfg.kv_lora), vb.shape
        return kb.transpose(0, 2, 1), vb
    # Legacy layout: attn_kv_b ggml {kv_lora, NH*(nope+v)} -> numpy [NH*(nope+v), kv_lora];
    # rows of head h: [nope rows of W^UK_h | v rows of W^UV_h].
    kvb = model.w(prefix + "attn_kv_b.weight")
    assert kvb.shape == (cfg.n_heads * (cfg.nope + cfg.v_dim), cfg.kv_lora), kvb.shape
    kvb = kvb.reshape(cfg.n_heads, cfg.nope + cfg.v_dim, cfg.kv_lora)
    return kvb[:, :cfg.nope, :], kvb[:, cfg.nope:, :]


def kv_up_names(model, prefix):
    """The tensors whose types the per-head K and V products have (split or legacy layout)."""
    if model.has(prefix + "attn_k_b.weight"):
        return prefix + "attn_k_b.weight", prefix + "attn_v_b.weight"
    return prefix + "attn_kv_b.weight", prefix + "attn_kv_b.weight"


def indexer_selection(model, layer, X, cq, positions, freqs):
    """V3.2's lightning indexer: which cached tokens each query attends to. Boolean [T, T].

    Per query t and visible token j <= t: score = sum_h relu(q_h(t) . k(j)) * w_h(t), with
    q = W_q_b @ cq (the normed query latent) per head and k = LayerNorm(W_k @ x) shared, both
    [rope | nope] with RoPE on the first `rope` dims in the half-split order; w = W_proj @ x
    scaled by 1/sqrt(heads * dim). The top_k tokens by score are kept (all when fewer are
    visible). DeepSeek's code rotates q and k by a normalized Hadamard matrix and rounds them to
    FP8 before the products; the rotation leaves q . k unchanged and llama.cpp (whose logits the
    fixtures hold) does not round, so neither appears here."""
    cfg = model.cfg
    p = "blk.%d." % layer
    T, NI, D = X.shape[0], cfg.idx_heads, cfg.idx_dim
    q = model.lin(p + "indexer.attn_q_b.weight", cq).reshape(T, NI, D)
    q = np.concatenate([apply_rope_halves(q[:, :, :cfg.rope], positions, freqs), q[:, :, cfg.rope:]], axis=2)
    k = layer_norm(model.lin(p + "indexer.attn_k.weight", X), model.w(p + "indexer.k_norm.weight"),
                   model.w(p + "indexer.k_norm.bias"), 1e-6)
    k = np.concatenate([apply_rope_halves(k[:, :cfg.rope], positions, freqs), k[:, cfg.rope:]], axis=1)
    w = model.lin(p + "indexer.proj.weight", X) / math.sqrt(NI * D)      # [T, NI]
    keep = np.zeros((T, T), dtype=bool)
    for t in range(T):
        scores = (np.maximum(q[t] @ k[:t + 1].T, 0.0) * w[t][:, None]).sum(axis=0)  # [t + 1]
        n = min(cfg.idx_top_k, t + 1)
        order = sorted(range(t + 1), key=lambda j: (-scores[j], j))   # ties: the lower index
        keep[t, order[:n]] = True
    return keep


def attention(model, layer, X, dump):
    """MLA on the normed input X [T, H] -> [T, H] (naive per-head form, causal; with the V3.2
    indexer, each query over the tokens it selects)."""
    cfg = model.cfg
    p = "blk.%d." % layer
    T = X.shape[0]
    NH, nope, rope, vd = cfg.n_heads, cfg.nope, cfg.rope, cfg.v_dim
    positions = np.arange(T)
    freqs = rope_frequencies(cfg)

    # Query: [T, NH, nope + rope], each head [q_nope | q_rope].
    if cfg.q_lora > 0:
        cq = rms_norm(model.lin(p + "attn_q_a.weight", X),
                      model.w(p + "attn_q_a_norm.weight"), cfg.eps)
        q = model.lin(p + "attn_q_b.weight", cq)
    else:
        q = model.lin(p + "attn_q.weight", X)
    keep = indexer_selection(model, layer, X, cq, positions, freqs) if cfg.idx_top_k > 0 else None
    q = q.reshape(T, NH, nope + rope)
    q = np.concatenate([q[:, :, :nope], apply_rope(q[:, :, nope:], positions, freqs)], axis=2)

    # Compressed KV: first kv_lora outputs = latent c (normalized), last rope = k_rope
    # (not normalized; one rope key shared by all heads).
    kv = model.lin(p + "attn_kv_a_mqa.weight", X)
    assert kv.shape[1] == cfg.kv_lora + rope, kv.shape
    latent = rms_norm(kv[:, :cfg.kv_lora], model.w(p + "attn_kv_a_norm.weight"), cfg.eps)
    k_rope = apply_rope(kv[:, cfg.kv_lora:], positions, freqs)

    wk, wv = kv_up_projections(model, p)
    k_name, v_name = kv_up_names(model, p)
    latent_k, latent_v = model.act(k_name, latent), model.act(v_name, latent)
    scale = softmax_scale(cfg)
    o = np.zeros((T, NH, vd))
    for h in range(NH):
        k_nope = latent_k @ wk[h].T                   # [T, nope]: row j = Wk[h] @ c_j
        v = latent_v @ wv[h].T                        # [T, v]
        k = np.concatenate([k_nope, k_rope], axis=1)  # [T, nope + rope]
        for t in range(T):
            if keep is None:
                scores = k[:t + 1] @ q[t, h] * scale      # keys j = 0..t (causal)
                o[t, h] = softmax(scores) @ v[:t + 1]
            else:
                sel = np.nonzero(keep[t])[0]              # the indexer's choice (all causal)
                o[t, h] = softmax(k[sel] @ q[t, h] * scale) @ v[sel]
    out = model.lin(p + "attn_output.weight", o.reshape(T, NH * vd))

    if dump is not None:
        dump[p + "q"] = q
        dump[p + "kv_latent"] = latent
        dump[p + "k_rope"] = k_rope
        dump[p + "attn_out"] = out
    return out


# ----------------------------------------------------------------------------- MoE

def _top(values, k):
    """Indices of the k largest values, ties broken by the lower index."""
    return sorted(range(len(values)), key=lambda i: (-values[i], i))[:k]


def route(cfg, router_logits, bias=None):
    """Gate for one token: router logits [E] (and the optional exp_probs_b bias [E]) ->
    weights [E], zero for the experts not selected."""
    E, K = cfg.n_experts, cfg.n_used
    if cfg.gating == "softmax":
        scores = softmax(router_logits)
    else:
        scores = sigmoid(router_logits)
    # Selection uses the biased scores; the weights use the unbiased ones.
    select = scores + bias if bias is not None else scores.copy()
    if cfg.n_groups > 1:
        G = cfg.n_groups
        assert E % G == 0, "expert_count %d not a multiple of expert_group_count %d" % (E, G)
        groups = select.reshape(G, E // G)              # contiguous groups of experts
        if cfg.gating == "softmax":                     # DeepSeek-V2: best expert of the group
            group_scores = groups.max(axis=1)
        else:                                           # DeepSeek-V3: sum of the top-2
            group_scores = np.sort(groups, axis=1)[:, -2:].sum(axis=1)
        keep = _top(list(group_scores), cfg.n_groups_used)
        allowed = np.zeros((G, E // G), dtype=bool)
        allowed[keep, :] = True
        select = np.where(allowed.reshape(E), select, -np.inf)
        assert K <= len(keep) * (E // G), "fewer allowed experts than expert_used_count"
    chosen = _top(list(select), K)
    w = scores[chosen]
    if cfg.weights_norm:
        w = w / np.sum(w)
    w = w * cfg.weights_scale
    weights = np.zeros(E)
    weights[chosen] = w
    # How far the choice is from flipping: the last chosen expert's selection score over the best
    # one left out (and likewise for the groups). Rounding fast paths may flip choices closer
    # than their rounding; check_forward.py uses this to tell such flips from errors.
    rest = [select[i] for i in range(E) if i not in chosen and np.isfinite(select[i])]
    margin = float(select[chosen[-1]] - max(rest)) if rest else np.inf
    if cfg.n_groups > 1 and cfg.n_groups_used < cfg.n_groups:
        order = sorted(group_scores, reverse=True)
        margin = min(margin, float(order[cfg.n_groups_used - 1] - order[cfg.n_groups_used]))
    route.last_margin = margin
    return weights, chosen


def moe(model, layer, X, dump):
    cfg = model.cfg
    p = "blk.%d." % layer
    T = X.shape[0]
    router_logits = model.lin(p + "ffn_gate_inp.weight", X)             # [T, E]
    bias = model.w(p + "exp_probs_b.bias") if model.has(p + "exp_probs_b.bias") else None
    weights = np.zeros((T, cfg.n_experts))
    selected = np.zeros((T, cfg.n_experts), dtype=bool)
    margins = np.zeros(T)
    for t in range(T):
        weights[t], chosen = route(cfg, router_logits[t], bias)
        selected[t, chosen] = True
        margins[t] = route.last_margin

    # Routed experts, one expert at a time over the tokens that selected it.
    # ffn_{gate,up}_exps ggml {H, F, E} -> numpy [E, F, H]; ffn_down_exps {F, H, E} -> [E, H, F].
    gate = model.tensors[p + "ffn_gate_exps.weight"]
    up = model.tensors[p + "ffn_up_exps.weight"]
    down = model.tensors[p + "ffn_down_exps.weight"]
    routed = np.zeros_like(X)
    for e in range(cfg.n_experts):
        rows = np.nonzero(selected[:, e])[0]
        if rows.size == 0:
            continue
        g, u, d = (np.asarray(m[e], dtype=np.float64) for m in (gate, up, down))
        xe = X[rows]
        hidden = silu(linear(g, model.act(p + "ffn_gate_exps.weight", xe))) * linear(u, model.act(p + "ffn_up_exps.weight", xe))
        ye = linear(d, model.act(p + "ffn_down_exps.weight", hidden))
        routed[rows] += weights[rows, e][:, None] * ye

    out = routed
    if cfg.n_shared > 0:        # all shared experts are one dense FFN of width F * n_shared
        out = out + dense_ffn(model, p, "_shexp", X)
    if dump is not None:
        dump[p + "router_weights"] = weights
        dump["ref." + p + "routing_margin"] = margins   # reference-only (not an engine dump)
    return out


# ----------------------------------------------------------------------------- the model

def forward(model, ids, dump=None):
    """Logits float64 [T, V] for token ids (teacher forcing); dump: optional dict to fill."""
    cfg = model.cfg
    ids = [int(i) for i in ids]
    if not ids:
        raise ValueError("no token ids")
    for i in ids:
        if not 0 <= i < cfg.vocab:
            raise ValueError("token id %d outside the vocabulary [0, %d)" % (i, cfg.vocab))
    x = np.asarray(model.tensors["token_embd.weight"][ids], dtype=np.float64)   # [T, H]
    for layer in range(cfg.n_layers):
        p = "blk.%d." % layer
        h = rms_norm(x, model.w(p + "attn_norm.weight"), cfg.eps)
        a = attention(model, layer, h, dump)
        x = x + a
        h2 = rms_norm(x, model.w(p + "ffn_norm.weight"), cfg.eps)
        if layer < cfg.n_dense:
            f = dense_ffn(model, p, "", h2)
        else:
            f = moe(model, layer, h2, dump)
        x = x + f
        if dump is not None:
            dump[p + "attn_norm"] = h
            dump[p + "ffn_norm"] = h2
            dump[p + "ffn_out"] = f
            dump[p + "out"] = x
    xn = rms_norm(x, model.w("output_norm.weight"), cfg.eps)
    logits = model.lin("output.weight", xn)
    if dump is not None:
        dump["result_norm"] = xn
        dump["logits"] = logits
    return logits


def greedy(model, ids, n):
    """The n ids of the greedy continuation (argmax, lower id on ties), full recompute."""
    ids = list(ids)
    out = []
    for _ in range(n):
        logits = forward(model, ids)[-1]
        nxt = int(np.argmax(logits))        # np.argmax returns the first maximum
        out.append(nxt)
        ids.append(nxt)
    return out


def write_dump(dump, directory):
    os.makedirs(directory, exist_ok=True)
    for name, value in dump.items():
        if name.startswith("ref."):  # diagnostics of the reference only, not engine tensors
            continue
        np.save(os.path.join(directory, name + ".npy"), np.asarray(value, dtype=np.float32))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model")
    ap.add_argument("--ids", required=True, help="comma-separated token ids")
    ap.add_argument("-o", "--output", help="raw little-endian float32 logits [T, V]")
    ap.add_argument("--dump", metavar="DIR", help="write intermediates as float32 .npy")
    ap.add_argument("--greedy", type=int, default=0, metavar="N",
                    help="also print the N-token greedy continuation")
    args = ap.parse_args(argv)
    ids = [int(s) for s in args.ids.replace(" ", "").split(",") if s]
    model = load_model(args.model)
    dump = {} if args.dump else None
    logits = forward(model, ids, dump)
    if args.output:
        logits.astype("<f4").tofile(args.output)
    if dump is not None:
        write_dump(dump, args.dump)
    print("T=%d V=%d argmax per position: %s" % (
        logits.shape[0], logits.shape[1], " ".join(str(int(a)) for a in logits.argmax(axis=1))))
    if args.greedy > 0:
        print("greedy:", " ".join(str(i) for i in greedy(model, ids, args.greedy)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
