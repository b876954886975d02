// Chat templates of the DeepSeek families, implemented natively (no Jinja engine) and chosen by
// recognizing the GGUF's `tokenizer.chat_template`:
//  - V2 (DeepSeek-V2/V2-Lite Chat): "User: …\n\n", "Assistant: …<eos>", system text first;
//  - V3 (DeepSeek-V3, V3.1 non-thinking): "<｜User｜>…", "<｜Assistant｜>…<eos>", tool calls;
//  - R1 (DeepSeek-R1): as V3, but earlier assistant turns keep only the text after "</think>"
//    (their reasoning is dropped, as the official template does) and the generation prompt opens
//    "<think>\n" when the template does.
// Pure; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "util/status.h"

namespace frugal::tokenizer {

enum class ChatTemplateKind { kDeepSeekV2, kDeepSeekV3, kDeepSeekR1 };

struct ChatMessage {
  std::string role;               // system | user | assistant | tool
  std::string content;
  std::string reasoning_content;  // R1: never rendered into the prompt (dropped like the official template)
};

struct ChatTemplate {
  ChatTemplateKind kind = ChatTemplateKind::kDeepSeekV3;
  bool think_prefix = false;  // R1: generation prompt ends with "<think>\n"
};

// Recognizes a Jinja chat template; InvalidArgument naming the supported families otherwise.
StatusOr<ChatTemplate> DetectChatTemplate(const std::string& jinja);
// Renders the conversation (BOS included as text, so encode with add_bos = false and special
// tokens parsed).
std::string RenderChat(const ChatTemplate& t, const std::vector<ChatMessage>& messages, bool add_generation_prompt,
                       const std::string& bos_text, const std::string& eos_text);

}  // namespace frugal::tokenizer
