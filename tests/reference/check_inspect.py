#!/usr/bin/python3
"""Check `frugal inspect FILE --json` against values recomputed here from the GGUF itself.

Usage:
    check_inspect.py --frugal BIN FILE.gguf [FILE2.gguf ...]

For every file: run `BIN inspect FILE --json`, parse the JSON, recompute every field from the
GGUF with the independent reader gguf_reader.py and the definitions below, and compare
(integers, strings and booleans exactly; floats to 1e-6 relative). One line per file (OK, or
the list of mismatches); last line `N passed, M failed`. Exit status: 1 if any file failed,
77 (skip) if none failed but some file does not exist, 0 otherwise.

Definitions (architecture `deepseek2`, hyperparameter keys prefixed `deepseek2.`):

top level   file_bytes = file size; gguf_version; alignment = general.alignment or 32;
            n_tensors; n_metadata = number of key/value pairs.
tokenizer   model = tokenizer.ggml.model; pre = tokenizer.ggml.pre; n_tokens = len(tokens);
            n_merges = len(merges); bos/eos/padding_token_id; has_chat_template = key
            tokenizer.chat_template present.
config      n_layers = block_count - nextn_predict_layers (absent: 0); hidden = embedding_length;
            vocab_size = ne1 of token_embd.weight; context_length.
  mla       n_heads = attention.head_count; q_lora_rank (absent: 0); kv_lora_rank;
            qk_rope_head_dim = rope.dimension_count; with attention.key_length_mla:
            nope = key_length_mla - rope, v = value_length_mla; else nope = attention.key_length
            - rope, v = attention.value_length; kv_b_layout = "split" if blk.0.attn_k_b.weight
            exists else "legacy".
  moe       n_leading_dense = leading_dense_block_count (absent 0); dense_ff =
            feed_forward_length; n_experts = expert_count; n_experts_used = expert_used_count;
            n_shared = expert_shared_count (absent 0); expert_ff = expert_feed_forward_length;
            n_groups = expert_group_count (absent/0: 1); n_groups_used = expert_group_used_count
            (absent/0: n_groups); gating = "sigmoid" if expert_gating_func == 2 else "softmax";
            weights_scale = expert_weights_scale (absent 1.0); weights_norm =
            expert_weights_norm (absent false); has_bias = tensor
            blk.{n_leading_dense}.exp_probs_b.bias exists.
  rope      scaling = "yarn" if rope.scaling.type == "yarn" else "none"; with yarn also factor =
            rope.scaling.factor and original_context_length =
            rope.scaling.original_context_length.
footprint   see expected_footprint() below; roles from tensor_role().

Fields frugal prints that the definitions above do not cover are also checked when the GGUF
has the obvious source key, and marked "(extra)" in messages: file, config.architecture
(general.architecture), config.name (general.name), config.n_nextn_layers
(nextn_predict_layers, absent 0), config.rms_eps (attention.layer_norm_rms_epsilon),
config.rope.freq_base (rope.freq_base), and with yarn config.rope.beta_fast / beta_slow /
yarn_log_multiplier (rope.scaling.yarn_beta_fast / yarn_beta_slow / yarn_log_multiplier). Keys frugal prints that this script does not know are
listed as a note, not a failure.
"""

import json
import math
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import ggml_types  # noqa: E402
from gguf_reader import read_gguf  # noqa: E402

ARCH = "deepseek2"
REL_TOL = 1e-6
SKIP = 77
# Objects whose key set is fully determined by the file: an extra key there is a mismatch.
CLOSED_OBJECTS = ("footprint.bytes_by_type", "footprint.bytes_by_role")

# Expected value for a field whose GGUF key is absent and whose definition gives no default:
# frugal may print null or leave the field out.
ABSENT = object()


class Extra:
    """Wraps an expected value for a field the definitions above do not cover."""

    def __init__(self, value):
        self.value = value


def ggml_type_name(type_id):
    """ggml's own spelling: lower case except the K of k-quants (q4_K, q6_K)."""
    name = ggml_types.type_name(type_id).lower()
    if name.endswith("_k"):
        name = name[:-2] + "_K"
    return name


def tensor_role(name):
    if name == "token_embd.weight":
        return "embedding"
    if name == "output.weight":
        return "output"
    if name.endswith("norm.weight"):
        return "norm"
    if ".nextn." in name:
        return "other"
    if name.endswith("_exps.weight"):
        return "routed_expert"
    if name.endswith("_shexp.weight"):
        return "shared_expert"
    if name.endswith("ffn_gate_inp.weight") or name.endswith("exp_probs_b.bias"):
        return "router"
    if ".attn_" in name:
        return "attention"
    if (name.endswith("ffn_gate.weight") or name.endswith("ffn_up.weight")
            or name.endswith("ffn_down.weight")):
        return "dense_ffn"
    return "other"


_LAYER_RE = re.compile(r"^blk\.(\d+)\.")


def tensor_layer(name):
    m = _LAYER_RE.match(name)
    return int(m.group(1)) if m else None


def expected_values(path, gf):
    md = gf.metadata
    names = {t.name: t for t in gf.tensors}

    def hp(key, default=None, required=True):
        full = ARCH + "." + key
        if full in md:
            return md[full]
        if default is None and required:
            raise KeyError("required key %r missing" % full)
        return default

    def md_or_absent(key):
        return md[key] if key in md else ABSENT

    exp = {}
    exp["file"] = Extra(path)
    exp["file_bytes"] = os.path.getsize(path)
    exp["gguf_version"] = gf.version
    exp["alignment"] = md.get("general.alignment", 32)
    exp["n_tensors"] = len(gf.tensors)
    exp["n_metadata"] = len(md)

    tok = {}
    tok["model"] = md_or_absent("tokenizer.ggml.model")
    tok["pre"] = md_or_absent("tokenizer.ggml.pre")
    tok["n_tokens"] = len(md.get("tokenizer.ggml.tokens", []))
    tok["n_merges"] = len(md.get("tokenizer.ggml.merges", []))
    for k in ("bos_token_id", "eos_token_id", "padding_token_id"):
        tok[k] = md_or_absent("tokenizer.ggml." + k)
    tok["has_chat_template"] = "tokenizer.chat_template" in md
    exp["tokenizer"] = tok

    # ---- config
    n_nextn = hp("nextn_predict_layers", 0)
    n_layers = hp("block_count") - n_nextn
    hidden = hp("embedding_length")
    embd = names["token_embd.weight"]
    vocab = embd.dims[1]
    cfg = {}
    if "general.architecture" in md:
        cfg["architecture"] = Extra(md["general.architecture"])
    if "general.name" in md:
        cfg["name"] = Extra(md["general.name"])
    cfg["n_nextn_layers"] = Extra(n_nextn)
    eps_key = ARCH + ".attention.layer_norm_rms_epsilon"
    if eps_key in md:
        cfg["rms_eps"] = Extra(float(md[eps_key]))
    cfg["n_layers"] = n_layers
    cfg["hidden"] = hidden
    cfg["vocab_size"] = vocab
    cfg["context_length"] = hp("context_length")

    rope = hp("rope.dimension_count")
    if (ARCH + ".attention.key_length_mla") in md:
        nope = hp("attention.key_length_mla") - rope
        vdim = hp("attention.value_length_mla")
    else:
        nope = hp("attention.key_length") - rope
        vdim = hp("attention.value_length")
    n_heads = hp("attention.head_count")
    kv_lora = hp("attention.kv_lora_rank")
    cfg["mla"] = {
        "n_heads": n_heads,
        "q_lora_rank": hp("attention.q_lora_rank", 0),
        "kv_lora_rank": kv_lora,
        "qk_rope_head_dim": rope,
        "qk_nope_head_dim": nope,
        "v_head_dim": vdim,
        "kv_b_layout": "split" if "blk.0.attn_k_b.weight" in names else "legacy",
    }

    n_lead = hp("leading_dense_block_count", 0)
    n_experts = hp("expert_count")
    n_used = hp("expert_used_count")
    expert_ff = hp("expert_feed_forward_length")
    n_groups = hp("expert_group_count", 0) or 1
    n_groups_used = hp("expert_group_used_count", 0) or n_groups
    cfg["moe"] = {
        "n_leading_dense": n_lead,
        "dense_ff": hp("feed_forward_length"),
        "n_experts": n_experts,
        "n_experts_used": n_used,
        "n_shared": hp("expert_shared_count", 0),
        "expert_ff": expert_ff,
        "n_groups": n_groups,
        "n_groups_used": n_groups_used,
        "gating": "sigmoid" if hp("expert_gating_func", 0, required=False) == 2 else "softmax",
        "weights_scale": float(hp("expert_weights_scale", 1.0)),
        "weights_norm": bool(hp("expert_weights_norm", False)),
        "has_bias": ("blk.%d.exp_probs_b.bias" % n_lead) in names,
    }

    rope_cfg = {}
    fb_key = ARCH + ".rope.freq_base"
    if fb_key in md:
        rope_cfg["freq_base"] = Extra(float(md[fb_key]))
    if md.get(ARCH + ".rope.scaling.type") == "yarn":
        rope_cfg["scaling"] = "yarn"
        rope_cfg["factor"] = float(hp("rope.scaling.factor"))
        rope_cfg["original_context_length"] = hp("rope.scaling.original_context_length")
        for field, key in (("beta_fast", "yarn_beta_fast"), ("beta_slow", "yarn_beta_slow"),
                           ("yarn_log_multiplier", "yarn_log_multiplier")):
            if (ARCH + ".rope.scaling." + key) in md:
                rope_cfg[field] = Extra(float(md[ARCH + ".rope.scaling." + key]))
    else:
        rope_cfg["scaling"] = "none"
    cfg["rope"] = rope_cfg
    exp["config"] = cfg

    exp["footprint"] = expected_footprint(gf, n_layers, hidden, vocab, kv_lora, rope, nope, vdim,
                                          n_heads, n_lead, n_experts, n_used, expert_ff)
    # The paged latent cache at inspect's defaults (-c 4096, f16, blocks of 64 positions): only
    # [latent | roped key] per layer, whole blocks for the context.
    per_token = n_layers * (kv_lora + rope) * 2
    blocks = (4096 + 63) // 64
    exp["kv_pool"] = {"context": 4096, "kv_type": "f16", "bytes_per_token": per_token, "layers": n_layers,
                      "values_per_token_per_layer": kv_lora + rope, "block_tokens": 64,
                      "block_bytes": 64 * per_token, "blocks": blocks, "storage_bytes": blocks * 64 * per_token,
                      "budget_bytes": blocks * 64 * per_token}
    return exp


def expected_footprint(gf, n_layers, hidden, vocab, kv_lora, rope, nope, vdim, n_heads,
                       n_lead, n_experts, n_used, expert_ff):
    fp = {}
    total_bytes = 0
    total_params = 0
    by_type = {}
    by_role = {}
    every_token_bytes = 0
    every_token_params = 0
    routed_bytes = 0
    routed_params = 0
    routed_by_layer = {}  # in-model layer -> routed expert bytes
    embd_bytes = None
    for t in gf.tensors:
        role = tensor_role(t.name)
        layer = tensor_layer(t.name)
        in_model = layer is None or layer < n_layers
        total_bytes += t.n_bytes
        total_params += t.n_elements
        e = by_type.setdefault(ggml_type_name(t.type), {"tensors": 0, "elements": 0, "bytes": 0})
        e["tensors"] += 1
        e["elements"] += t.n_elements
        e["bytes"] += t.n_bytes
        by_role[role] = by_role.get(role, 0) + t.n_bytes
        if t.name == "token_embd.weight":
            embd_bytes = t.n_bytes
        if in_model and role not in ("embedding", "routed_expert", "other"):
            every_token_bytes += t.n_bytes
            every_token_params += t.n_elements
        if role == "routed_expert":
            routed_bytes += t.n_bytes
            routed_params += t.n_elements
            if in_model and layer is not None:
                routed_by_layer[layer] = routed_by_layer.get(layer, 0) + t.n_bytes
    per_expert = {}
    if n_experts:
        per_expert = {layer: b // n_experts for layer, b in routed_by_layer.items()}
    embedding_row_bytes = embd_bytes // vocab

    fp["total_bytes"] = total_bytes
    fp["total_params"] = total_params
    fp["bytes_by_type"] = by_type
    fp["bytes_by_role"] = by_role
    fp["every_token_bytes"] = every_token_bytes
    fp["embedding_row_bytes"] = embedding_row_bytes
    fp["routed_expert_bytes"] = routed_bytes
    fp["routed_expert_params"] = routed_params
    fp["bytes_per_expert"] = max(per_expert.values()) if per_expert else 0
    fp["expert_lockers"] = (n_layers - n_lead) * n_experts if n_experts else 0
    fp["active_bytes_per_token"] = (every_token_bytes + embedding_row_bytes
                                    + sum(per_expert.values()) * n_used)
    fp["active_params_per_token"] = (every_token_params + hidden
                                     + 3 * hidden * expert_ff * n_used * (n_layers - n_lead))
    fp["kv_latent_bytes_per_token_f16"] = n_layers * (kv_lora + rope) * 2
    fp["kv_mha_bytes_per_token_f16"] = n_layers * n_heads * (nope + rope + vdim) * 2
    return fp


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _values_equal(exp, got):
    if isinstance(exp, bool) or isinstance(got, bool):
        return isinstance(exp, bool) and isinstance(got, bool) and exp == got
    if isinstance(exp, float):
        if not (isinstance(got, float) or _is_int(got)):
            return False
        if math.isnan(exp) or math.isnan(got):
            return math.isnan(exp) and math.isnan(got)
        return abs(got - exp) <= REL_TOL * max(abs(exp), abs(got)) or got == exp
    if _is_int(exp):
        return _is_int(got) and got == exp
    return type(exp) is type(got) and exp == got


def compare(exp, got, path, problems, notes, extra=False):
    """Walk the expected tree; append mismatch strings to problems, unknown keys to notes."""
    if isinstance(exp, Extra):
        compare(exp.value, got, path, problems, notes, extra=True)
        return
    tag = " (extra)" if extra else ""
    if isinstance(exp, dict):
        if not isinstance(got, dict):
            problems.append("%s: expected an object, got %r%s" % (path, got, tag))
            return
        for k, v in exp.items():
            sub = path + "." + k if path else k
            if k not in got:
                if v is ABSENT:
                    continue
                problems.append("%s: missing%s" % (sub, " (extra)" if isinstance(v, Extra)
                                                   else tag))
                continue
            compare(v, got[k], sub, problems, notes, extra)
        for k in got:
            if k not in exp:
                sub = (path + "." + k) if path else k
                if path in CLOSED_OBJECTS:
                    problems.append("%s: not expected (no such tensors), got %r" % (sub, got[k]))
                else:
                    notes.append(sub)
        return
    if exp is ABSENT:
        if got is not None:
            problems.append("%s: key absent from the GGUF, expected null or no field, got %r%s"
                            % (path, got, tag))
        return
    if not _values_equal(exp, got):
        problems.append("%s: expected %r, got %r%s" % (path, exp, got, tag))


def check_file(frugal, path):
    """Returns (ok, message)."""
    try:
        gf = read_gguf(path)
    except ValueError as e:
        return False, "reference reader rejects the file: %s" % e
    try:
        exp = expected_values(path, gf)
    except KeyError as e:
        return False, "cannot compute expected values: %s" % e
    proc = subprocess.run([frugal, "inspect", path, "--json"], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE)
    if proc.returncode != 0:
        return False, "frugal inspect exited %d: %s" % (
            proc.returncode, proc.stderr.decode(errors="replace").strip()[-500:])
    try:
        got = json.loads(proc.stdout.decode())
    except ValueError as e:
        return False, "frugal inspect --json printed invalid JSON: %s" % e
    problems, notes = [], []
    compare(exp, got, "", problems, notes)
    # Bookkeeping: token ids (4 B a position) and a few words a block — within 2% of the storage
    # for any real model (>= 1 KiB of latent a token; toy shapes of 192 B a token are ~2.3%).
    pool = got.get("kv_pool")
    if "kv_pool" in exp:
        if pool is None:
            problems.append("kv_pool missing")
        else:
            meta_bound = pool["blocks"] * (pool["block_tokens"] * 4 + 64) + 4096
            if not 0 < pool["metadata_bytes"] <= meta_bound:
                problems.append("kv_pool: %d bytes of bookkeeping, more than %d" % (pool["metadata_bytes"], meta_bound))
            if pool["bytes_per_token"] >= 1024 and not pool["overhead_fraction"] <= 0.02:
                problems.append("kv_pool: bookkeeping %.4f of the storage, more than 2%%" % pool["overhead_fraction"])
    note = ""
    if notes:
        note = " (not checked: %s)" % ", ".join(notes)
    if problems:
        return False, "%d mismatch(es):\n    %s%s" % (len(problems), "\n    ".join(problems),
                                                      note)
    return True, "OK" + note


def main(argv):
    args = argv[1:]
    if len(args) < 3 or args[0] != "--frugal":
        sys.stderr.write("usage: check_inspect.py --frugal BIN FILE.gguf [FILE2.gguf ...]\n")
        return 2
    frugal = args[1]
    files = args[2:]
    if not (os.path.isfile(frugal) and os.access(frugal, os.X_OK)):
        sys.stderr.write("frugal binary %s not found or not executable\n" % frugal)
        return 2
    passed = failed = skipped = 0
    for path in files:
        if not os.path.exists(path):
            print("%s: SKIP (file does not exist)" % path)
            skipped += 1
            continue
        ok, msg = check_file(frugal, path)
        print("%s: %s" % (path, msg))
        if ok:
            passed += 1
        else:
            failed += 1
    if skipped:
        print("%d file(s) skipped: not found" % skipped)
    print("%d passed, %d failed" % (passed, failed))
    if failed:
        return 1
    if skipped:
        return SKIP
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
