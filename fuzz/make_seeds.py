#!/usr/bin/env python3
"""Writes fuzz/seeds/ds2-micro*.gguf: the smallest valid deepseek2 models (a dense and a MoE
layer, both MLA layouts), so the fuzzer starts from files that reach the model-config loader.
Uses the byte builder of tests/data/gguf_corpus/make_corpus.py. Deterministic."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "data", "gguf_corpus"))
from make_corpus import ARRAY, BOOL, F32, FLOAT32, STRING, T, UINT32, gguf, kv  # noqa: E402

H, V, HEADS, KV, NOPE, ROPE, VD, E, F, FF = 8, 16, 1, 4, 2, 2, 2, 2, 4, 4


def model(layout):
    a = "deepseek2."
    kvs = [kv("general.architecture", STRING, "deepseek2"),
           kv("tokenizer.ggml.tokens", ARRAY, (STRING, [chr(97 + i) for i in range(V)]))]
    for key, val in [("block_count", 2), ("embedding_length", H), ("feed_forward_length", FF),
                     ("attention.head_count", HEADS), ("attention.kv_lora_rank", KV),
                     ("rope.dimension_count", ROPE), ("leading_dense_block_count", 1),
                     ("expert_count", E), ("expert_used_count", 1), ("expert_shared_count", 1),
                     ("expert_feed_forward_length", F)]:
        kvs.append(kv(a + key, UINT32, val))
    if layout == "split":
        kvs += [kv(a + "attention.key_length", UINT32, KV + ROPE), kv(a + "attention.value_length", UINT32, KV),
                kv(a + "attention.key_length_mla", UINT32, NOPE + ROPE),
                kv(a + "attention.value_length_mla", UINT32, VD)]
    else:
        kvs += [kv(a + "attention.key_length", UINT32, NOPE + ROPE), kv(a + "attention.value_length", UINT32, VD)]
    kvs += [kv(a + "expert_weights_scale", FLOAT32, 1.0), kv(a + "expert_weights_norm", BOOL, False)]
    ts = [T("token_embd.weight", [H, V]), T("output_norm.weight", [H]), T("output.weight", [H, V])]
    for layer in range(2):
        p = f"blk.{layer}."
        ts += [T(p + "attn_norm.weight", [H]), T(p + "attn_q.weight", [H, HEADS * (NOPE + ROPE)]),
               T(p + "attn_kv_a_norm.weight", [KV]), T(p + "attn_kv_a_mqa.weight", [H, KV + ROPE])]
        if layout == "split":
            ts += [T(p + "attn_k_b.weight", [NOPE, KV, HEADS]), T(p + "attn_v_b.weight", [KV, VD, HEADS])]
        else:
            ts += [T(p + "attn_kv_b.weight", [KV, HEADS * (NOPE + VD)])]
        ts += [T(p + "attn_output.weight", [HEADS * VD, H]), T(p + "ffn_norm.weight", [H])]
        if layer == 0:
            ts += [T(p + "ffn_gate.weight", [H, FF]), T(p + "ffn_up.weight", [H, FF]), T(p + "ffn_down.weight", [FF, H])]
        else:
            ts += [T(p + "ffn_gate_inp.weight", [H, E]), T(p + "ffn_gate_exps.weight", [H, F, E]),
                   T(p + "ffn_up_exps.weight", [H, F, E]), T(p + "ffn_down_exps.weight", [F, H, E]),
                   T(p + "ffn_gate_shexp.weight", [H, F]), T(p + "ffn_up_shexp.weight", [H, F]),
                   T(p + "ffn_down_shexp.weight", [F, H])]
    return gguf(kvs, ts)


if __name__ == "__main__":
    os.makedirs(os.path.join(HERE, "seeds"), exist_ok=True)
    for layout in ("split", "legacy"):
        with open(os.path.join(HERE, "seeds", f"ds2-micro-{layout}.gguf"), "wb") as f:
            f.write(model(layout))
