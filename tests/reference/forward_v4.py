#!/usr/bin/python3
"""Naive numpy forward pass of a `deepseek4` (DeepSeek-V4) GGUF model, as llama.cpp lays it out.

Written from ../shared/reference/deepseek-architectures.md §6 (hybrid CSA/HCA attention, mHC
hyper-connections, V4 MoE) and read against llama.cpp's `deepseek4` graph (the producer of the
fixtures it is held to; nothing is copied from either). Reuses this directory's reader,
dequantizer and the generic pieces of forward.py (rms_norm, silu, sigmoid, interleaved-pair
RoPE, YaRN frequencies). Every weight is dequantized once to float32; all arithmetic is float64.
Whole sequence in one go, causal, positions 0..T-1, no BOS added.

    forward_v4.py MODEL.gguf --ids 1,2,3 [-o logits.f32] [--greedy N]

Python API:  model = load_model(path);  logits = forward(model, ids)   # float64 [T, V]
             greedy(model, ids, n) -> the n greedy ids (full recompute per step)
             forward(model, ids, dump={}) fills the dict with intermediates (names in DUMP_NAMES).
Switches on model.cfg for experiments (the checks use them to show each piece matters):
  attend_compressed = (4,)  ratios whose compressed rows are attended ((): window only;
                            default (4, 128): CSA and HCA)
  use_indexer = False       CSA layers attend to every visible compressed row (no top-k)
  clamp_shared = True       clamp the shared expert's SwiGLU too, as llama.cpp does

The model, per token (streams X[hc, d], hc = 4):
  X = embedding copied into the hc streams
  per layer, for each sub-layer f in (attention, MoE), with its own hc_{attn,ffn}_{fn,base,scale}:
      pre, post, comb = hc weights from rms(flatten X)        (hc_weights, sinkhorn)
      y = f(RMSNorm(Σ_h pre_h X_h) * {attn,ffn}_norm)          (hc_pre)
      X'[dst] = post[dst] y + Σ_src comb[src, dst] X[src]      (hc_post)
  x = Σ_h pre_h X_h with the head's own weights (hc_head) -> RMSNorm * output_norm -> output
Attention (one shared K=V head of width D, RoPE on the last n_rot dims, interleaved pairs):
  q = rms(W_q_b · (rms(W_q_a x) * q_a_norm)) per head without weight;  kv = rms(W_kv x) * kv_norm
  query t sees raw tokens p with t - p < sliding_window, plus compressed rows (one per block of
  `ratio` tokens, visible once complete): every visible row (ratio 128, HCA) or the indexer's
  top-k of them (ratio 4, CSA). Softmax with a per-head sink logit in the denominator; the
  output is de-roped (rotated by -θ), then the grouped low-rank output projection.
Layers with ratio 0 use rope.freq_base without YaRN; compressed layers (their q, kv, compressed
rows and indexer) use compress_rope_freq_base with YaRN (magnitude factor 1: llama.cpp cancels
YaRN's 1 + 0.1 ln(factor) and DeepSeek's reference has none).
"""

import argparse
import math
import os
import sys
from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dequant import tensor_to_f32  # noqa: E402
from gguf_reader import read_gguf  # noqa: E402
from forward import apply_rope, linear, rms_norm, rope_frequencies, sigmoid, silu  # noqa: E402

ARCH = "deepseek4"
GGML_TYPE_I32 = 26

DUMP_NAMES = """
blk.L.attn_norm     [T, H]          attention input (hc_pre, RMSNorm * attn_norm)
blk.L.q             [T, heads, D]   query after the per-head norm and RoPE
blk.L.kv            [T, D]          shared K=V row after kv_norm and RoPE
blk.L.comp_kv       [B, D]          compressed rows (ratio > 0; B = T // ratio)
blk.L.idx_k         [B, idx_dim]    indexer keys (ratio 4)
blk.L.idx_score     [T, B]          indexer scores (ratio 4; -inf where not visible)
blk.L.attn_out      [T, H]          attention output (after attn_output_b)
blk.L.ffn_norm      [T, H]          MoE input
blk.L.router_weights [T, E]         final weight per expert, 0 if not selected
blk.L.ffn_out       [T, H]          routed + shared
blk.L.out           [T, hc, H]      streams after the layer
result_norm         [T, H]
logits              [T, V]
"""


# ----------------------------------------------------------------------------- configuration

@dataclass
class ConfigV4:
    n_layers: int
    hidden: int
    vocab: int
    eps: float
    # attention
    n_heads: int
    head_dim: int               # D: attention.key_length (= value_length), one shared K=V head
    n_rot: int                  # rope.dimension_count: RoPE on the last n_rot dims
    q_lora: int
    o_groups: int
    o_lora: int
    window: int                 # attention.sliding_window
    compress_ratios: list       # per main layer: 0, 4 (CSA) or 128 (HCA)
    freq_base: float            # ratio-0 layers, no YaRN
    compress_freq_base: float   # compressed layers, with YaRN
    yarn: bool
    yarn_factor: float
    yarn_orig_ctx: int
    yarn_beta_fast: float
    yarn_beta_slow: float
    # indexer (CSA layers)
    idx_heads: int
    idx_dim: int
    idx_top_k: int
    # MoE (every layer)
    n_experts: int
    n_used: int
    n_shared: int
    weights_scale: float
    weights_norm: bool
    hash_layers: int            # layers below this route by tid2eid[token]
    clamp_exp: list             # per layer SwiGLU limit of the routed experts (0: none)
    clamp_shexp: list           # per layer limit llama.cpp applies to the shared expert
    # hyper-connections
    hc: int
    hc_iters: int
    hc_eps: float
    # switches (not in the file; see the module docstring)
    attend_compressed: tuple = (4, 128)
    use_indexer: bool = True
    clamp_shared: bool = False


def _per_layer(value, n):
    if isinstance(value, list):
        if len(value) < n:
            raise ValueError("per-layer array shorter than block_count")
        return [float(v) for v in value[:n]]
    return [float(value)] * n


def read_config(gf):
    md = gf.metadata
    arch = md.get("general.architecture")
    if arch != ARCH:
        raise ValueError("general.architecture is %r, expected %r" % (arch, ARCH))

    def hp(key, default=None):
        full = arch + "." + key
        if full in md:
            return md[full]
        if default is None:
            raise ValueError("required key %r missing" % full)
        return default

    block_count = hp("block_count")
    n_layers = block_count - hp("nextn_predict_layers", 0)
    ratios = list(hp("attention.compress_ratios"))
    if len(ratios) < block_count:
        raise ValueError("compress_ratios is shorter than block_count")
    for r in ratios[:n_layers]:
        if r not in (0, 4, 128):
            raise ValueError("compress ratio %d (only 0, 4, 128)" % r)
    gating = hp("expert_gating_func")
    if gating != 4:
        raise ValueError("expert_gating_func %d, expected 4 (sqrtsoftplus)" % gating)
    key_len, val_len = hp("attention.key_length"), hp("attention.value_length")
    if key_len != val_len:
        raise ValueError("key_length %d != value_length %d (V4 shares K and V)" % (key_len, val_len))
    if hp("attention.head_count_kv", 1) != 1:
        raise ValueError("V4 has one shared KV head")
    clamp_exp = _per_layer(hp("swiglu_clamp_exp", 0.0), block_count)
    clamp_shexp = _per_layer(md.get(arch + ".swiglu_clamp_shexp", clamp_exp), block_count)
    yarn = md.get(arch + ".rope.scaling.type") == "yarn"
    cfg = ConfigV4(
        n_layers=n_layers,
        hidden=hp("embedding_length"),
        vocab=gf.tensor("token_embd.weight").dims[1],
        eps=float(hp("attention.layer_norm_rms_epsilon")),
        n_heads=hp("attention.head_count"),
        head_dim=key_len,
        n_rot=hp("rope.dimension_count"),
        q_lora=hp("attention.q_lora_rank"),
        o_groups=hp("attention.output_group_count"),
        o_lora=hp("attention.output_lora_rank"),
        window=hp("attention.sliding_window"),
        compress_ratios=[int(r) for r in ratios[:n_layers]],
        freq_base=float(hp("rope.freq_base", 10000.0)),
        compress_freq_base=float(hp("attention.compress_rope_freq_base")),
        yarn=yarn,
        yarn_factor=float(hp("rope.scaling.factor")) if yarn else 1.0,
        yarn_orig_ctx=int(hp("rope.scaling.original_context_length", hp("context_length"))),
        yarn_beta_fast=float(hp("rope.scaling.yarn_beta_fast", 32.0)),
        yarn_beta_slow=float(hp("rope.scaling.yarn_beta_slow", 1.0)),
        idx_heads=hp("attention.indexer.head_count"),
        idx_dim=hp("attention.indexer.key_length"),
        idx_top_k=hp("attention.indexer.top_k"),
        n_experts=hp("expert_count"),
        n_used=hp("expert_used_count"),
        n_shared=hp("expert_shared_count"),
        weights_scale=float(hp("expert_weights_scale", 1.0)),
        weights_norm=bool(hp("expert_weights_norm", False)),
        hash_layers=hp("hash_layer_count", 0),
        clamp_exp=clamp_exp[:n_layers],
        clamp_shexp=clamp_shexp[:n_layers],
        hc=hp("hyper_connection.count"),
        hc_iters=hp("hyper_connection.sinkhorn_iterations"),
        hc_eps=float(hp("hyper_connection.epsilon")),
    )
    if cfg.n_heads % cfg.o_groups:
        raise ValueError("head_count %d not a multiple of output_group_count %d" % (cfg.n_heads, cfg.o_groups))
    return cfg


class ModelV4:
    """Config plus weights: name -> numpy array (float32 dequantized; int32 for tid2eid)."""

    def __init__(self, cfg, tensors, path=None):
        self.cfg = cfg
        self.tensors = tensors
        self.path = path

    def has(self, name):
        return name in self.tensors

    def w(self, name):
        if name not in self.tensors:
            raise KeyError("model has no tensor %r" % name)
        return np.asarray(self.tensors[name], dtype=np.float64)


def load_model(path):
    gf = read_gguf(path)
    cfg = read_config(gf)
    tensors = {}
    for t in gf.tensors:
        if t.name.startswith("blk.") and int(t.name.split(".")[1]) >= cfg.n_layers:
            continue                                   # the MTP block is not run
        if t.type == GGML_TYPE_I32:
            tensors[t.name] = np.frombuffer(gf.raw(t), dtype="<i4").reshape(t.shape).copy()
        else:
            tensors[t.name] = tensor_to_f32(gf, t)
    return ModelV4(cfg, tensors, path)


# ----------------------------------------------------------------------------- small helpers

def rms_norm_plain(X, eps):
    """RMSNorm over the last axis without a weight."""
    return X / np.sqrt(np.mean(X * X, axis=-1, keepdims=True) + eps)


def softmax_axis(S, axis):
    """Softmax along `axis`; -inf entries get weight 0."""
    m = np.max(S, axis=axis, keepdims=True)
    e = np.exp(S - m)
    return e / np.sum(e, axis=axis, keepdims=True)


def rope_params(cfg, compressed):
    """What forward.rope_frequencies needs: ratio-0 layers plain RoPE at rope.freq_base; the
    compressed layers' attention, compressed rows and indexer at compress_rope_freq_base with
    YaRN (factor, original context, β fast/slow)."""
    return SimpleNamespace(
        rope=cfg.n_rot,
        freq_base=cfg.compress_freq_base if compressed else cfg.freq_base,
        yarn=cfg.yarn and compressed,
        yarn_factor=cfg.yarn_factor, yarn_orig_ctx=cfg.yarn_orig_ctx,
        yarn_beta_fast=cfg.yarn_beta_fast, yarn_beta_slow=cfg.yarn_beta_slow)


def rope_tail(X, positions, freqs):
    """Interleaved-pair RoPE (forward.apply_rope) on the last 2·len(freqs) dims of the last axis;
    the leading dims pass through. Pass -freqs to rotate back (by -θ)."""
    n = 2 * len(freqs)
    out = X.copy()
    out[..., -n:] = apply_rope(X[..., -n:], positions, freqs)
    return out


# ----------------------------------------------------------------------------- hyper-connections

def sinkhorn(logits, iters, eps):
    """[T, hc(src), hc(dst)] logits -> the mixing matrices comb[src, dst]: softmax over dst for
    each src, + eps, divide each column (sum over src) by its sum + eps, then iters - 1 rounds of
    row normalisation (over dst) and column normalisation (each divisor sum + eps)."""
    comb = softmax_axis(logits, axis=2) + eps
    comb = comb / (comb.sum(axis=1, keepdims=True) + eps)
    for _ in range(iters - 1):
        comb = comb / (comb.sum(axis=2, keepdims=True) + eps)
        comb = comb / (comb.sum(axis=1, keepdims=True) + eps)
    return comb


def hc_weights(cfg, X, fn, scale, base):
    """Streams X [T, hc, d] and one sub-layer's hc_fn [(2+hc)·hc, hc·d], hc_scale [3],
    hc_base [(2+hc)·hc] -> pre [T, hc], post [T, hc], comb [T, hc(src), hc(dst)].
    mix = hc_fn · rms(flatten X) (stream-major flattening, no weight, the model's rms eps)."""
    T, hc, _ = X.shape
    mix = linear(fn, rms_norm_plain(X.reshape(T, -1), cfg.eps))           # [T, (2+hc)·hc]
    pre = sigmoid(mix[:, :hc] * scale[0] + base[:hc]) + cfg.hc_eps
    post = 2.0 * sigmoid(mix[:, hc:2 * hc] * scale[1] + base[hc:2 * hc])
    comb_logits = (mix[:, 2 * hc:] * scale[2] + base[2 * hc:]).reshape(T, hc, hc)   # [src, dst]
    return pre, post, sinkhorn(comb_logits, cfg.hc_iters, cfg.hc_eps)


def hc_pre(model, X, which, layer):
    """Sub-layer input Σ_h pre_h X_h (before its RMSNorm) and the (post, comb) for hc_post.
    which: "attn" or "ffn"."""
    p = "blk.%d.hc_%s_" % (layer, which)
    pre, post, comb = hc_weights(model.cfg, X, model.w(p + "fn.weight"),
                                 model.w(p + "scale.weight"), model.w(p + "base.weight"))
    return np.einsum("th,thd->td", pre, X), post, comb


def hc_post(f, X, post, comb):
    """X'[dst] = post[dst] · f + Σ_src comb[src, dst] · X[src]."""
    return post[:, :, None] * f[:, None, :] + np.einsum("tsk,tsd->tkd", comb, X)


def hc_head(model, X):
    """The head's stream merge: Σ_h (sigmoid(mix_h · scale + base_h) + hc_eps) X_h."""
    cfg = model.cfg
    T = X.shape[0]
    mix = linear(model.w("output_hc_fn.weight"), rms_norm_plain(X.reshape(T, -1), cfg.eps))
    pre = sigmoid(mix * model.w("output_hc_scale.weight")[0] + model.w("output_hc_base.weight")) + cfg.hc_eps
    return np.einsum("th,thd->td", pre, X)


# ----------------------------------------------------------------------------- compressor, indexer

def compress(model, prefix, X, ratio, dim, freqs):
    """Compressed rows of one compressor (`{prefix}_{kv,gate,ape,norm}.weight`) over the normed
    attention input X [T, H] -> [T // ratio, dim]: one row per complete block b (tokens
    [b·r, (b+1)·r)).

    kvp = W_kv x, sc = W_gate x + ape[pos % r]. ratio 128 (width dim): per channel, softmax of sc
    over the block's r tokens weights their kvp. ratio 4 (width 2·dim, overlapping): the previous
    block's tokens contribute channels [0, dim) and this block's channels [dim, 2·dim), one
    softmax per channel over those 2r entries (block 0: no previous block). Then RMSNorm with
    the norm weight and RoPE at position b·r on the last n_rot dims."""
    cfg = model.cfg
    T = X.shape[0]
    overlap = ratio == 4
    width = (2 if overlap else 1) * dim
    kvp = linear(model.w(prefix + "_kv.weight"), X)                       # [T, width]
    ape = model.w(prefix + "_ape.weight")                                  # [ratio, width]
    assert kvp.shape[1] == width and ape.shape == (ratio, width), (kvp.shape, ape.shape)
    sc = linear(model.w(prefix + "_gate.weight"), X) + ape[np.arange(T) % ratio]
    n_blocks = T // ratio
    rows = np.zeros((n_blocks, dim))
    for b in range(n_blocks):
        cur = slice(b * ratio, (b + 1) * ratio)
        if overlap:
            values, scores = kvp[cur, dim:], sc[cur, dim:]
            if b > 0:
                prev = slice((b - 1) * ratio, b * ratio)
                values = np.concatenate([kvp[prev, :dim], values])
                scores = np.concatenate([sc[prev, :dim], scores])
        else:
            values, scores = kvp[cur], sc[cur]
        rows[b] = np.sum(softmax_axis(scores, axis=0) * values, axis=0)
    rows = rms_norm(rows, model.w(prefix + "_norm.weight"), cfg.eps)
    return rope_tail(rows, np.arange(n_blocks) * ratio, freqs)


def n_visible_blocks(t, ratio):
    """Compressed rows query t may see: blocks complete at t, i.e. (b + 1)·r <= t + 1."""
    return (t + 1) // ratio


def indexer_scores(model, layer, X, qr, freqs, dump=None):
    """The lightning indexer of a CSA layer: [T, B] scores (-inf where block b is not yet
    visible to query t), B = T // 4.

    Keys: its own overlapping ratio-4 compressor (width idx_dim). Queries: W_idx_q · qr (the
    normed query latent) per head, RoPE at the token's position on the last n_rot dims (no
    norm). score[t, b] = Σ_h w_h(t) · relu(q_h(t) · k_b), w = W_proj x / sqrt(idx_dim ·
    idx_heads). llama.cpp and DeepSeek rotate q and k by the same orthonormal Hadamard matrix
    (dot products unchanged; DeepSeek also FP4-rounds them, llama.cpp does not)."""
    cfg = model.cfg
    p = "blk.%d." % layer
    T, NI, DI = X.shape[0], cfg.idx_heads, cfg.idx_dim
    k = compress(model, p + "indexer_compressor", X, 4, DI, freqs)          # [B, DI]
    q = linear(model.w(p + "indexer.attn_q_b.weight"), qr).reshape(T, NI, DI)
    q = rope_tail(q, np.arange(T), freqs)
    w = linear(model.w(p + "indexer.proj.weight"), X) / math.sqrt(DI * NI)  # [T, NI]
    score = np.einsum("th,thb->tb", w, np.maximum(np.einsum("thd,bd->thb", q, k), 0.0))
    for t in range(T):
        score[t, n_visible_blocks(t, 4):] = -np.inf
    if dump is not None:
        dump[p + "idx_k"] = k
        dump[p + "idx_score"] = score
    return score


def top_k_blocks(scores_t, n_visible, k):
    """The k best visible blocks (all when fewer are visible); ties to the lower index."""
    order = sorted(range(n_visible), key=lambda b: (-scores_t[b], b))
    return sorted(order[:k])


# ----------------------------------------------------------------------------- attention

def sink_attention(q_t, keys, sinks, scale):
    """One query, all heads: q_t [heads, D], keys [n, D] (also the values), sinks [heads] ->
    [heads, D]. p_j = exp(s_j) / (Σ_i exp(s_i) + exp(sink)), s = q·k · scale."""
    s = keys @ q_t.T * scale                                  # [n, heads]
    m = np.maximum(s.max(axis=0), sinks)
    e = np.exp(s - m)
    p = e / (e.sum(axis=0) + np.exp(sinks - m))
    return p.T @ keys


def grouped_output(model, layer, o):
    """o [T, heads·D] -> [T, H]: split into o_groups contiguous groups of heads, group g times
    its own slice of attn_output_a (numpy [groups·o_lora, heads·D/groups], rows
    [g·o_lora, (g+1)·o_lora)), concatenated (group-major) -> attn_output_b."""
    cfg = model.cfg
    p = "blk.%d." % layer
    T = o.shape[0]
    G, R = cfg.o_groups, cfg.o_lora
    gdim = cfg.n_heads * cfg.head_dim // G
    wo_a = model.w(p + "attn_output_a.weight")
    assert wo_a.shape == (G * R, gdim), wo_a.shape
    oa = np.einsum("tgd,grd->tgr", o.reshape(T, G, gdim), wo_a.reshape(G, R, gdim))
    return linear(model.w(p + "attn_output_b.weight"), oa.reshape(T, G * R))


def attention(model, layer, X, dump=None):
    """The attention sub-layer on its normed input X [T, H] -> [T, H]."""
    cfg = model.cfg
    p = "blk.%d." % layer
    T, NH, D = X.shape[0], cfg.n_heads, cfg.head_dim
    ratio = cfg.compress_ratios[layer]
    positions = np.arange(T)
    freqs = rope_frequencies(rope_params(cfg, ratio != 0))

    qr = rms_norm(linear(model.w(p + "attn_q_a.weight"), X), model.w(p + "attn_q_a_norm.weight"), cfg.eps)
    q = rms_norm_plain(linear(model.w(p + "attn_q_b.weight"), qr).reshape(T, NH, D), cfg.eps)
    q = rope_tail(q, positions, freqs)
    kv = rms_norm(linear(model.w(p + "attn_kv.weight"), X), model.w(p + "attn_kv_a_norm.weight"), cfg.eps)
    kv = rope_tail(kv, positions, freqs)

    comp = None
    idx = None
    if ratio != 0 and ratio in cfg.attend_compressed:
        comp = compress(model, p + "attn_compressor", X, ratio, D, freqs)
        if ratio == 4 and cfg.use_indexer:
            idx = indexer_scores(model, layer, X, qr, freqs, dump)

    sinks = model.w(p + "attn_sinks.weight")
    scale = 1.0 / math.sqrt(D)
    o = np.zeros((T, NH, D))
    for t in range(T):
        keys = kv[max(0, t - cfg.window + 1):t + 1]            # the window: t - p < window
        if comp is not None:
            nv = n_visible_blocks(t, ratio)
            blocks = list(range(nv)) if idx is None else top_k_blocks(idx[t], nv, cfg.idx_top_k)
            keys = np.concatenate([keys, comp[blocks]])
        o[t] = sink_attention(q[t], keys, sinks, scale)
    o = rope_tail(o, positions, -freqs)                       # K = V carries the rotation: undo it
    out = grouped_output(model, layer, o.reshape(T, NH * D))
    if dump is not None:
        dump[p + "q"] = q
        dump[p + "kv"] = kv
        if comp is not None:
            dump[p + "comp_kv"] = comp
        dump[p + "attn_out"] = out
    return out


# ----------------------------------------------------------------------------- MoE

def swiglu_clamped(g, u, limit):
    """silu(min(g, limit)) · clip(u, -limit, limit); limit 0: plain SwiGLU."""
    if limit > 0:
        g = np.minimum(g, limit)
        u = np.clip(u, -limit, limit)
    return silu(g) * u


def route_v4(cfg, router_logits, bias=None, hashed=None):
    """One token: router logits [E] -> (weights [E], chosen). Scores sqrt(softplus(logits));
    chosen = the hash table's experts when given (hash layers: no bias), else the top-k of
    scores + bias (ties to the lower index); weights = the unbiased scores of the chosen,
    / their sum (at least 2^-14, llama.cpp's clamp) if normalized, × expert_weights_scale."""
    scores = np.sqrt(np.logaddexp(0.0, router_logits))
    if hashed is not None:
        chosen = [int(e) for e in hashed]
    else:
        select = scores + bias if bias is not None else scores
        chosen = sorted(range(len(select)), key=lambda e: (-select[e], e))[:cfg.n_used]
    w = scores[chosen]
    if cfg.weights_norm:
        w = w / max(np.sum(w), 6.103515625e-5)
    weights = np.zeros(cfg.n_experts)
    np.add.at(weights, chosen, w * cfg.weights_scale)
    return weights, chosen


def moe(model, layer, X, ids, dump=None):
    """Routed experts (clamped SwiGLU) plus the shared expert on the normed input X [T, H]."""
    cfg = model.cfg
    p = "blk.%d." % layer
    T = X.shape[0]
    logits = linear(model.w(p + "ffn_gate_inp.weight"), X)            # [T, E]
    hashed = layer < cfg.hash_layers
    table = model.tensors[p + "ffn_gate_tid2eid.weight"] if hashed else None   # [vocab, n_used]
    bias = model.w(p + "exp_probs_b.bias") if (not hashed and model.has(p + "exp_probs_b.bias")) else None
    weights = np.zeros((T, cfg.n_experts))
    for t in range(T):
        weights[t], _ = route_v4(cfg, logits[t], bias, table[ids[t]] if hashed else None)

    limit = cfg.clamp_exp[layer]
    gate, up, down = (model.tensors[p + n] for n in
                      ("ffn_gate_exps.weight", "ffn_up_exps.weight", "ffn_down_exps.weight"))
    out = np.zeros_like(X)
    for e in range(cfg.n_experts):
        rows = np.nonzero(weights[:, e])[0]
        if rows.size == 0:
            continue
        g, u, d = (np.asarray(m[e], dtype=np.float64) for m in (gate, up, down))
        xe = X[rows]
        out[rows] += weights[rows, e][:, None] * linear(d, swiglu_clamped(linear(g, xe), linear(u, xe), limit))

    if cfg.n_shared > 0:
        # DeepSeek's reference: plain SwiGLU; llama.cpp clamps it with swiglu_clamp_shexp.
        lim = cfg.clamp_shexp[layer] if cfg.clamp_shared else 0.0
        h = swiglu_clamped(linear(model.w(p + "ffn_gate_shexp.weight"), X),
                           linear(model.w(p + "ffn_up_shexp.weight"), X), lim)
        out = out + linear(model.w(p + "ffn_down_shexp.weight"), h)
    if dump is not None:
        dump[p + "router_weights"] = weights
    return out


# ----------------------------------------------------------------------------- the model

def forward(model, ids, dump=None):
    """Logits float64 [T, V] for token ids (teacher forcing, one causal pass)."""
    cfg = model.cfg
    ids = [int(i) for i in ids]
    if not ids:
        raise ValueError("no token ids")
    for i in ids:
        if not 0 <= i < cfg.vocab:
            raise ValueError("token id %d outside the vocabulary [0, %d)" % (i, cfg.vocab))
    x0 = np.asarray(model.tensors["token_embd.weight"][ids], dtype=np.float64)      # [T, H]
    X = np.repeat(x0[:, None, :], cfg.hc, axis=1)                                   # [T, hc, H]
    for layer in range(cfg.n_layers):
        p = "blk.%d." % layer
        h, post, comb = hc_pre(model, X, "attn", layer)
        h = rms_norm(h, model.w(p + "attn_norm.weight"), cfg.eps)
        X = hc_post(attention(model, layer, h, dump), X, post, comb)
        h2, post, comb = hc_pre(model, X, "ffn", layer)
        h2 = rms_norm(h2, model.w(p + "ffn_norm.weight"), cfg.eps)
        f = moe(model, layer, h2, ids, dump)
        X = hc_post(f, X, post, comb)
        if dump is not None:
            dump[p + "attn_norm"] = h
            dump[p + "ffn_norm"] = h2
            dump[p + "ffn_out"] = f
            dump[p + "out"] = X
    xn = rms_norm(hc_head(model, X), model.w("output_norm.weight"), cfg.eps)
    logits = linear(model.w("output.weight"), xn)
    if dump is not None:
        dump["result_norm"] = xn
        dump["logits"] = logits
    return logits


def greedy(model, ids, n):
    """The n ids of the greedy continuation (argmax, lower id on ties), full recompute."""
    ids = list(ids)
    out = []
    for _ in range(n):
        nxt = int(np.argmax(forward(model, ids)[-1]))
        out.append(nxt)
        ids.append(nxt)
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model")
    ap.add_argument("--ids", required=True, help="comma-separated token ids")
    ap.add_argument("-o", "--output", help="raw little-endian float32 logits [T, V]")
    ap.add_argument("--greedy", type=int, default=0, metavar="N",
                    help="also print the N-token greedy continuation")
    args = ap.parse_args(argv)
    ids = [int(s) for s in args.ids.replace(" ", "").split(",") if s]
    model = load_model(args.model)
    logits = forward(model, ids)
    if args.output:
        logits.astype("<f4").tofile(args.output)
    print("T=%d V=%d argmax per position: %s" % (
        logits.shape[0], logits.shape[1], " ".join(str(int(a)) for a in logits.argmax(axis=1))))
    if args.greedy > 0:
        print("greedy:", " ".join(str(i) for i in greedy(model, ids, args.greedy)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
