#include "tokenizer/chat_template.h"

namespace frugal::tokenizer {
namespace {

bool Contains(const std::string& s, const char* part) { return s.find(part) != std::string::npos; }

std::string RenderV2(const std::vector<ChatMessage>& messages, bool gen, const std::string& bos, const std::string& eos) {
  std::string out = bos;
  for (const ChatMessage& m : messages) {
    if (m.role == "user") {
      out += "User: " + m.content + "\n\n";
    } else if (m.role == "assistant") {
      out += "Assistant: " + m.content + eos;
    } else if (m.role == "system") {
      out += m.content + "\n\n";
    }
  }
  if (gen) out += "Assistant:";
  return out;
}

// Text after the last "</think>" (R1 drops earlier turns' reasoning).
std::string AfterThinking(const std::string& content) {
  const size_t p = content.rfind("</think>");
  return p == std::string::npos ? content : content.substr(p + 8);
}

std::string RenderV3(const ChatTemplate& t, const std::vector<ChatMessage>& messages, bool gen, const std::string& bos,
                     const std::string& eos) {
  std::string system;
  bool first_system = true;
  for (const ChatMessage& m : messages) {
    if (m.role != "system") continue;
    system += (first_system ? "" : "\n\n") + m.content;
    first_system = false;
  }
  std::string out = bos + system;
  bool in_tool = false, first_output = true;
  for (const ChatMessage& m : messages) {
    if (m.role == "user") {
      in_tool = false;
      out += "<｜User｜>" + m.content;
    } else if (m.role == "assistant") {
      const std::string content = t.kind == ChatTemplateKind::kDeepSeekR1 ? AfterThinking(m.content) : m.content;
      out += (in_tool ? "<｜tool▁outputs▁end｜>" : "<｜Assistant｜>") + content + eos;
      in_tool = false;
    } else if (m.role == "tool") {
      out += (first_output ? "<｜tool▁outputs▁begin｜><｜tool▁output▁begin｜>" : "\n<｜tool▁output▁begin｜>") +
             m.content + "<｜tool▁output▁end｜>";
      first_output = false;
      in_tool = true;
    }
  }
  if (in_tool) out += "<｜tool▁outputs▁end｜>";
  if (gen && !in_tool) out += t.think_prefix ? "<｜Assistant｜><think>\n" : "<｜Assistant｜>";
  return out;
}

}  // namespace

StatusOr<ChatTemplate> DetectChatTemplate(const std::string& jinja) {
  if (Contains(jinja, "<｜Assistant｜>") && Contains(jinja, "<｜User｜>")) {
    ChatTemplate t;
    if (Contains(jinja, "</think>")) {
      t.kind = ChatTemplateKind::kDeepSeekR1;
      t.think_prefix = Contains(jinja, "<｜Assistant｜><think>\\n");
    }
    return t;
  }
  if (Contains(jinja, "'Assistant: ' + message['content'] + eos_token") ||
      (Contains(jinja, "'User: '") && Contains(jinja, "'Assistant:'"))) {
    return ChatTemplate{ChatTemplateKind::kDeepSeekV2, false};
  }
  if (jinja.empty()) {
    return InvalidArgument("the model has no chat template (tokenizer.chat_template); use a plain prompt (-p)");
  }
  return InvalidArgument("unknown chat template (frugal recognizes DeepSeek V2, V3 and R1 templates); "
                         "use a plain prompt (-p)");
}

std::string RenderChat(const ChatTemplate& t, const std::vector<ChatMessage>& messages, bool gen,
                       const std::string& bos, const std::string& eos) {
  if (t.kind == ChatTemplateKind::kDeepSeekV2) return RenderV2(messages, gen, bos, eos);
  return RenderV3(t, messages, gen, bos, eos);
}

}  // namespace frugal::tokenizer
