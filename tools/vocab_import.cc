// Conversion of a Hugging Face tokenizer to GGUF keys, following llama.cpp's
// convert_hf_to_gguf.py (get_vocab_base + SpecialVocab): tokens by id, ids without a token
// become "[PAD<i>]" (UNUSED); added tokens are CONTROL when marked special or when they look
// special (<｜...｜>, <|...|>), otherwise USER_DEFINED; merges as "a b" strings.
#include <fmt/format.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tools/vocab.h"

namespace frugal::tools {
namespace {

using nlohmann::json;

StatusOr<json> ReadJson(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot open '{}'; run scripts/install-deps.sh to fetch the tokenizer", path);
  std::stringstream ss;
  ss << in.rdbuf();
  json j = json::parse(ss.str(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return DataLoss("'{}' is not valid JSON", path);
  return j;
}

bool LooksSpecial(const std::string& t) {
  auto wrapped = [&](const std::string& open, const std::string& close) {
    return t.size() >= open.size() + close.size() && t.rfind(open, 0) == 0 &&
           t.compare(t.size() - close.size(), close.size(), close) == 0;
  };
  return wrapped("<|", "|>") || wrapped("<｜", "｜>") || t == "<pad>" || t == "<mask>";
}

// The content string of a token entry in tokenizer_config.json (string or AddedToken object).
std::string TokenContent(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object() && v.contains("content") && v["content"].is_string()) return v["content"].get<std::string>();
  return {};
}

Status ReadMerges(const json& model, Vocab* v) {
  if (!model.contains("merges") || !model["merges"].is_array()) return DataLoss("tokenizer.json has no model.merges");
  for (const json& m : model["merges"]) {
    if (m.is_string()) {
      v->merges.push_back(m.get<std::string>());
    } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
      v->merges.push_back(m[0].get<std::string>() + " " + m[1].get<std::string>());
    } else {
      return DataLoss("tokenizer.json: malformed merge entry");
    }
  }
  return OkStatus();
}

}  // namespace

StatusOr<Vocab> ImportHfTokenizer(const std::string& dir, int vocab_size, const std::string& pre) {
  FRUGAL_ASSIGN_OR_RETURN(json tok, ReadJson(dir + "/tokenizer.json"));
  FRUGAL_ASSIGN_OR_RETURN(json cfg, ReadJson(dir + "/tokenizer_config.json"));
  if (!tok.contains("model") || !tok["model"].is_object() || tok["model"].value("type", "") != "BPE") {
    return DataLoss("'{}/tokenizer.json' is not a BPE tokenizer", dir);
  }
  std::map<int64_t, std::string> by_id;
  for (const auto& [text, id] : tok["model"]["vocab"].items()) {
    if (!id.is_number_integer()) return DataLoss("tokenizer.json: non-integer id for '{}'", text);
    by_id[id.get<int64_t>()] = text;
  }
  std::map<int64_t, bool> added_special;  // id -> marked special
  for (const json& a : tok.value("added_tokens", json::array())) {
    const int64_t id = a.value("id", int64_t{-1});
    by_id[id] = a.value("content", std::string());
    added_special[id] = a.value("special", false);
  }
  if (!by_id.empty() && by_id.rbegin()->first >= vocab_size) {
    return DataLoss("tokenizer has id {} but the model's vocabulary is {}", by_id.rbegin()->first, vocab_size);
  }
  Vocab v;
  v.pre = pre;
  for (int i = 0; i < vocab_size; ++i) {
    auto it = by_id.find(i);
    if (it == by_id.end()) {
      v.tokens.push_back(fmt::format("[PAD{}]", i));
      v.token_types.push_back(kTokenUnused);
      continue;
    }
    v.tokens.push_back(it->second);
    auto added = added_special.find(i);
    if (added == added_special.end()) {
      v.token_types.push_back(kTokenNormal);
    } else if (added->second || LooksSpecial(it->second)) {
      v.token_types.push_back(kTokenControl);
    } else {
      v.token_types.push_back(kTokenUserDefined);
    }
  }
  FRUGAL_RETURN_IF_ERROR(ReadMerges(tok["model"], &v));
  auto id_of = [&](const char* field, int32_t fallback) {
    if (!cfg.contains(field)) return fallback;
    const std::string content = TokenContent(cfg[field]);
    for (const auto& [id, text] : by_id) {
      if (text == content) return static_cast<int32_t>(id);
    }
    return fallback;
  };
  v.bos_id = id_of("bos_token", 0);
  v.eos_id = id_of("eos_token", 1);
  v.pad_id = id_of("pad_token", v.eos_id);
  v.add_bos = cfg.value("add_bos_token", true);
  v.add_eos = cfg.value("add_eos_token", false);
  v.chat_template = cfg.value("chat_template", std::string());
  return v;
}

void WriteVocab(const Vocab& v, io::GgufWriter* w) {
  w->SetValue("tokenizer.ggml.model", io::GgufValue::String(v.model));
  w->SetValue("tokenizer.ggml.pre", io::GgufValue::String(v.pre));
  w->SetValue("tokenizer.ggml.tokens", io::GgufValue::StringArray(v.tokens));
  w->SetValue("tokenizer.ggml.token_type", io::GgufValue::Int32Array(v.token_types));
  w->SetValue("tokenizer.ggml.merges", io::GgufValue::StringArray(v.merges));
  w->SetValue("tokenizer.ggml.bos_token_id", io::GgufValue::Uint32(static_cast<uint32_t>(v.bos_id)));
  w->SetValue("tokenizer.ggml.eos_token_id", io::GgufValue::Uint32(static_cast<uint32_t>(v.eos_id)));
  w->SetValue("tokenizer.ggml.padding_token_id", io::GgufValue::Uint32(static_cast<uint32_t>(v.pad_id)));
  w->SetValue("tokenizer.ggml.add_bos_token", io::GgufValue::Bool(v.add_bos));
  w->SetValue("tokenizer.ggml.add_eos_token", io::GgufValue::Bool(v.add_eos));
  if (!v.chat_template.empty()) w->SetValue("tokenizer.chat_template", io::GgufValue::String(v.chat_template));
}

}  // namespace frugal::tools
