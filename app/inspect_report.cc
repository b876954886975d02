#include "app/inspect_report.h"

#include <fmt/format.h>

#include "ledger/kv_sizes.h"
#include "ledger/model_spec_gguf.h"
#include "model/footprint.h"

namespace frugal::app {
namespace {

using nlohmann::json;

json RopeJson(const model::RopeConfig& r) {
  json rope = {{"freq_base", r.freq_base}, {"scaling", r.scaling == model::RopeScalingType::kYarn ? "yarn" : "none"}};
  if (r.scaling == model::RopeScalingType::kYarn) {
    rope["factor"] = r.factor;
    rope["original_context_length"] = r.original_context_length;
    rope["beta_fast"] = r.beta_fast;
    rope["beta_slow"] = r.beta_slow;
    rope["yarn_log_multiplier"] = r.yarn_log_multiplier;
  }
  return rope;
}

const char* GatingName(model::GatingFunction g) {
  switch (g) {
    case model::GatingFunction::kSoftmax: return "softmax";
    case model::GatingFunction::kSigmoid: return "sigmoid";
    case model::GatingFunction::kSqrtSoftplus: return "sqrtsoftplus";
  }
  return "?";
}

json ConfigJson(const model::ModelConfig& c) {
  const model::MlaConfig& m = c.mla;
  const model::MoeConfig& e = c.moe;
  const json rope = RopeJson(c.rope);
  json out = {
      {"architecture", c.architecture},
      {"name", c.name},
      {"n_layers", c.n_layers},
      {"n_nextn_layers", c.n_nextn_layers},
      {"hidden", c.hidden},
      {"vocab_size", c.vocab_size},
      {"context_length", c.context_length},
      {"rms_eps", c.rms_eps},
      {"mla", {{"n_heads", m.n_heads}, {"q_lora_rank", m.q_lora_rank}, {"kv_lora_rank", m.kv_lora_rank},
               {"qk_nope_head_dim", m.qk_nope_head_dim}, {"qk_rope_head_dim", m.qk_rope_head_dim},
               {"v_head_dim", m.v_head_dim},
               {"kv_b_layout", m.kv_b_layout == model::KvBLayout::kSplit ? "split" : "legacy"}}},
      {"rope", rope},
      {"moe", {{"n_leading_dense", e.n_leading_dense}, {"dense_ff", e.dense_ff}, {"n_experts", e.n_experts},
               {"n_experts_used", e.n_experts_used}, {"n_shared", e.n_shared}, {"expert_ff", e.expert_ff},
               {"n_groups", e.n_groups}, {"n_groups_used", e.n_groups_used},
               {"gating", GatingName(e.gating)},
               {"weights_scale", e.weights_scale}, {"weights_norm", e.weights_norm}, {"has_bias", e.has_bias},
               {"n_hash_layers", e.n_hash_layers}, {"swiglu_limit", e.swiglu_limit}}},
  };
  if (c.is_v4()) {
    const model::CompressedAttentionConfig& v = c.v4;
    out["v4"] = {{"head_dim", v.head_dim}, {"sliding_window", v.window}, {"output_groups", v.output_groups},
                 {"output_lora_rank", v.output_lora_rank}, {"compress_ratios", v.compress_ratios},
                 {"compressed_rope", RopeJson(v.compressed_rope)},
                 {"hyper_connections", {{"streams", c.hc.n_streams}, {"sinkhorn_iterations", c.hc.sinkhorn_iterations}, {"eps", c.hc.eps}}},
                 {"indexer", {{"n_heads", c.indexer.n_heads}, {"head_dim", c.indexer.head_dim}, {"top_k", c.indexer.top_k}}}};
  } else if (c.indexer.top_k > 0) {
    out["indexer"] = {{"n_heads", c.indexer.n_heads}, {"head_dim", c.indexer.head_dim}, {"top_k", c.indexer.top_k}};
  }
  return out;
}

json FootprintJson(const model::Footprint& f) {
  json by_type = json::object();
  for (const auto& [name, t] : f.by_type) {
    by_type[name] = {{"tensors", t.tensors}, {"elements", t.elements}, {"bytes", t.bytes}};
  }
  return {
      {"total_bytes", f.total_bytes},
      {"total_params", f.total_params},
      {"bytes_by_type", by_type},
      {"bytes_by_role", f.by_role},
      {"every_token_bytes", f.every_token_bytes},
      {"embedding_row_bytes", f.embedding_row_bytes},
      {"routed_expert_bytes", f.routed_expert_bytes},
      {"routed_expert_params", f.routed_expert_params},
      {"bytes_per_expert", f.bytes_per_expert},
      {"expert_lockers", f.n_expert_lockers},
      {"active_bytes_per_token", f.active_bytes_per_token},
      {"active_params_per_token", f.active_params_per_token},
      {"kv_latent_bytes_per_token_f16", f.kv_latent_bytes_per_token},
      {"kv_mha_bytes_per_token_f16", f.kv_mha_bytes_per_token},
  };
}

json TokenizerJson(const io::GgufFile& file) {
  json t = json::object();
  if (auto m = file.GetString("tokenizer.ggml.model"); m.ok()) t["model"] = *m;
  if (auto p = file.GetString("tokenizer.ggml.pre"); p.ok()) t["pre"] = *p;
  if (const io::GgufValue* v = file.Find("tokenizer.ggml.tokens")) t["n_tokens"] = v->array_size();
  if (const io::GgufValue* v = file.Find("tokenizer.ggml.merges")) t["n_merges"] = v->array_size();
  for (const char* k : {"bos_token_id", "eos_token_id", "padding_token_id"}) {
    if (auto id = file.GetInt(std::string("tokenizer.ggml.") + k); id.ok()) t[k] = *id;
  }
  t["has_chat_template"] = file.Has("tokenizer.chat_template");
  return t;
}

std::string Bytes(uint64_t b) {
  const double x = static_cast<double>(b);
  if (b >= (1ull << 30)) return fmt::format("{:.2f} GiB", x / (1ull << 30));
  if (b >= (1ull << 20)) return fmt::format("{:.2f} MiB", x / (1ull << 20));
  if (b >= (1ull << 10)) return fmt::format("{:.2f} KiB", x / (1ull << 10));
  return fmt::format("{} B", b);
}

// The KV cache of a deepseek32/deepseek4 spec by layer kind (16-bit values, as the planner counts).
json KvLayersJson(const ledger::ModelSpec& spec) {
  const ledger::KvPerToken kv = ledger::KvBytesPerToken(spec);
  json kinds = json::array();
  for (const ledger::LayerKindKv& k : ledger::KvByLayerKind(spec)) {
    kinds.push_back({{"kind", k.kind}, {"layers", k.layers}, {"bytes_per_token_f16", k.bytes_per_token},
                     {"bytes_per_sequence_f16", k.bytes_per_sequence}});
  }
  return {{"kv_by_layer_kind", kinds}, {"kv_bytes_per_token_f16", kv.native}, {"kv_bytes_per_sequence_f16", kv.native_per_sequence},
          {"kv_mha_bytes_per_token_f16", kv.mha}};
}

std::string KvLayersText(const json& so) {
  std::string s;
  for (const json& k : so["kv_by_layer_kind"]) {
    s += fmt::format("KV cache    {:<26} {} layers: {:.1f} B per token, {} per sequence (16-bit)\n", k["kind"].get<std::string>(),
                     k["layers"].get<int>(), k["bytes_per_token_f16"].get<double>(),
                     Bytes(static_cast<uint64_t>(k["bytes_per_sequence_f16"].get<double>())));
  }
  s += fmt::format("KV cache    all layers: {:.1f} B per token + {} per sequence vs {:.0f} B per token as a full multi-head cache\n",
                   so["kv_bytes_per_token_f16"].get<double>(), Bytes(static_cast<uint64_t>(so["kv_bytes_per_sequence_f16"].get<double>())),
                   so["kv_mha_bytes_per_token_f16"].get<double>());
  return s;
}

// A deepseek32 / deepseek4 file frugal cannot load (sized from its keys): its own keys, the planner's spec, and the KV
// cache by layer kind.
json SizedOnlyJson(const io::GgufFile& file, const std::string& arch) {
  json keys = json::object();
  for (const auto& [key, value] : file.metadata()) {
    if (key.rfind(arch + ".", 0) != 0) continue;
    const std::string k = key.substr(arch.size() + 1);
    if (auto i = file.GetInt(key); i.ok()) keys[k] = *i;
    else if (auto d = file.GetFloat(key); d.ok()) keys[k] = *d;
    else if (auto b = file.GetBool(key); b.ok()) keys[k] = *b;
    else if (auto ia = file.GetIntArray(key); ia.ok()) keys[k] = *ia;
    else if (auto fa = file.GetFloatArray(key); fa.ok()) keys[k] = *fa;
    else if (auto str = file.GetString(key); str.ok()) keys[k] = *str;
  }
  json r = {{"architecture", arch}, {"keys", keys}};
  const StatusOr<ledger::ModelSpec> spec = ledger::SpecFromKeys(file.name(), file);
  if (!spec.ok()) {
    r["error"] = spec.status().ToString();
    return r;
  }
  r.update(KvLayersJson(*spec));
  r["n_layers"] = spec->n_layers;
  r["params"] = spec->total_params;
  r["active_params_per_token"] = spec->active_params;
  r["total_bytes"] = spec->file_bytes;
  r["routed_expert_bytes"] = spec->file_expert_bytes;
  r["active_bytes_per_token"] = spec->file_active_bytes;
  r["runs"] = false;
  return r;
}

}  // namespace

json BuildInspectReport(const io::GgufFile& file, const StatusOr<model::ModelConfig>& config) {
  json r = {{"file", file.name()}, {"file_bytes", file.file_size()}, {"gguf_version", file.version()},
            {"alignment", file.alignment()}, {"n_tensors", file.tensors().size()},
            {"n_metadata", file.metadata().size()}, {"tokenizer", TokenizerJson(file)}};
  if (!config.ok()) {
    const StatusOr<std::string> arch = file.GetString("general.architecture");
    if (arch.ok() && ledger::PlannedFromKeys(*arch)) {
      r["sized_only"] = SizedOnlyJson(file, *arch);
      return r;
    }
    r["error"] = config.status().ToString();
    return r;
  }
  r["config"] = ConfigJson(*config);
  r["footprint"] = FootprintJson(model::ComputeFootprint(*config, model::TensorEntriesOf(file)));
  if (ledger::PlannedFromKeys(config->architecture)) {
    if (const StatusOr<ledger::ModelSpec> spec = ledger::SpecFromKeys(file.name(), file); spec.ok()) r["kv_layers"] = KvLayersJson(*spec);
  }
  return r;
}

std::string RenderInspectText(const json& r) {
  std::string s = fmt::format("file        {} ({}), GGUF v{}, alignment {}\n", r["file"].get<std::string>(),
                              Bytes(r["file_bytes"]), r["gguf_version"].get<int>(), r["alignment"].get<int>());
  const json& t = r["tokenizer"];
  s += fmt::format("tokenizer   {}\n", t.dump());
  if (r.contains("error")) return s + fmt::format("error       {}\n", r["error"].get<std::string>());
  if (r.contains("sized_only")) {
    const json& so = r["sized_only"];
    s += fmt::format("model       {} (sized from its keys, not loadable)\n", so["architecture"].get<std::string>());
    std::string keys;
    for (const auto& [k, v] : so["keys"].items()) keys += (keys.empty() ? "" : ", ") + k + " " + v.dump();
    s += fmt::format("keys        {}\n", keys);
    if (so.contains("error")) return s + fmt::format("error       {}\n", so["error"].get<std::string>());
    s += fmt::format("weights     {} ({:.0f} parameters; routed experts {}); a token reads {}\n", Bytes(so["total_bytes"]),
                     so["params"].get<double>(), Bytes(so["routed_expert_bytes"]), Bytes(so["active_bytes_per_token"]));
    return s + KvLayersText(so);
  }
  const json& c = r["config"];
  const json& m = c["mla"];
  const json& e = c["moe"];
  s += fmt::format("model       {} '{}': {} layers, hidden {}, vocab {}, context {}\n",
                   c["architecture"].get<std::string>(), c["name"].get<std::string>(), c["n_layers"].get<int>(),
                   c["hidden"].get<int>(), c["vocab_size"].get<int>(), c["context_length"].get<int>());
  if (c.contains("v4")) {
    const json& v = c["v4"];
    s += fmt::format("attention   V4: {} heads, one K=V head of {} (rope {}), q_lora {}, window {}, output {} groups x rank {}, "
                     "attention sinks\n",
                     m["n_heads"].get<int>(), v["head_dim"].get<int>(), m["qk_rope_head_dim"].get<int>(), m["q_lora_rank"].get<int>(),
                     v["sliding_window"].get<int>(), v["output_groups"].get<int>(), v["output_lora_rank"].get<int>());
    s += fmt::format("compress    ratios {} (0 window only, 4 CSA, 128 HCA); indexer {}\n", v["compress_ratios"].dump(), v["indexer"].dump());
    s += fmt::format("hyper-conn  {}\n", v["hyper_connections"].dump());
    s += fmt::format("rope        window layers {}; compressed layers {}\n", c["rope"].dump(), v["compressed_rope"].dump());
  } else {
    s += fmt::format("attention   MLA: {} heads, q_lora {}, kv_lora {}, nope {}, rope {}, v {}, kv_b {}\n",
                     m["n_heads"].get<int>(), m["q_lora_rank"].get<int>(), m["kv_lora_rank"].get<int>(),
                     m["qk_nope_head_dim"].get<int>(), m["qk_rope_head_dim"].get<int>(), m["v_head_dim"].get<int>(),
                     m["kv_b_layout"].get<std::string>());
    if (c.contains("indexer")) s += fmt::format("indexer     {} (DeepSeek Sparse Attention)\n", c["indexer"].dump());
    s += fmt::format("rope        {}\n", c["rope"].dump());
  }
  s += fmt::format("moe         {} dense layer(s) (ff {}), {} experts top-{}, {} shared, expert ff {}, "
                   "groups {} top-{}, {} gating, scale {}, norm {}, bias {}\n",
                   e["n_leading_dense"].get<int>(), e["dense_ff"].get<int>(), e["n_experts"].get<int>(),
                   e["n_experts_used"].get<int>(), e["n_shared"].get<int>(), e["expert_ff"].get<int>(),
                   e["n_groups"].get<int>(), e["n_groups_used"].get<int>(), e["gating"].get<std::string>(),
                   e["weights_scale"].get<double>(), e["weights_norm"].get<bool>(), e["has_bias"].get<bool>());
  if (e["n_hash_layers"].get<int>() > 0 || e["swiglu_limit"].get<double>() > 0) {
    s += fmt::format("            hash-routed layers {}, routed SwiGLU clamp {}\n", e["n_hash_layers"].get<int>(), e["swiglu_limit"].get<double>());
  }
  const json& f = r["footprint"];
  s += fmt::format("tensors     {} tensors, {} parameters, {}\n", r["n_tensors"].get<int>(),
                   f["total_params"].get<uint64_t>(), Bytes(f["total_bytes"]));
  for (const auto& [name, tt] : f["bytes_by_type"].items()) {
    s += fmt::format("  {:<8}  {:>5} tensors  {:>12}\n", name, tt["tensors"].get<int>(), Bytes(tt["bytes"]));
  }
  s += "bytes by role\n";
  for (const auto& [name, b] : f["bytes_by_role"].items()) s += fmt::format("  {:<14} {:>12}\n", name, Bytes(b));
  s += fmt::format("every token reads    {} (attention, norms, dense FFN, router, shared experts, head)"
                   " + {} embedding row\n", Bytes(f["every_token_bytes"]), Bytes(f["embedding_row_bytes"]));
  s += fmt::format("routed experts       {} in {} lockers of {} (can live in a slower tier)\n",
                   Bytes(f["routed_expert_bytes"]), f["expert_lockers"].get<uint64_t>(), Bytes(f["bytes_per_expert"]));
  s += fmt::format("active per token     {} ({} parameters)\n", Bytes(f["active_bytes_per_token"]),
                   f["active_params_per_token"].get<uint64_t>());
  if (r.contains("kv_layers")) {
    s += KvLayersText(r["kv_layers"]);
  } else {
    const uint64_t latent = f["kv_latent_bytes_per_token_f16"], mha = f["kv_mha_bytes_per_token_f16"];
    s += fmt::format("KV cache per token   {} as MLA latent vs {} as standard MHA (f16): {:.1f}x smaller\n",
                     Bytes(latent), Bytes(mha), latent ? static_cast<double>(mha) / static_cast<double>(latent) : 0.0);
  }
  if (r.contains("kv_pool")) {
    const auto& p = r["kv_pool"];
    s += fmt::format("KV pool              -c {} ({}): {} blocks of {} positions = {} ({} B per token = {} layers x {} values x {} B), "
                     "bookkeeping {} ({:.2f}%)\n",
                     p["context"].get<int>(), p["kv_type"].get<std::string>(), p["blocks"].get<int>(), p["block_tokens"].get<int>(),
                     Bytes(p["storage_bytes"]), p["bytes_per_token"].get<uint64_t>(), p["layers"].get<int>(),
                     p["values_per_token_per_layer"].get<int>(),
                     p["bytes_per_token"].get<uint64_t>() / (p["layers"].get<uint64_t>() * p["values_per_token_per_layer"].get<uint64_t>()),
                     Bytes(p["metadata_bytes"]), 100.0 * p["overhead_fraction"].get<double>());
  }
  return s;
}

}  // namespace frugal::app
