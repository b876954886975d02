#include "server/reasoning_split.h"

#include <algorithm>

namespace frugal::server {
namespace {
constexpr std::string_view kEnd = "</think>";
}  // namespace

SplitText ReasoningSplitter::Push(std::string_view text) {
  SplitText out;
  if (!in_reasoning_) {
    if (strip_newlines_) {
      while (!text.empty() && text.front() == '\n') text.remove_prefix(1);
      strip_newlines_ = text.empty();
    }
    out.content = text;
    return out;
  }
  held_ += text;
  if (const size_t end = held_.find(kEnd); end != std::string::npos) {
    out.reasoning = held_.substr(0, end);
    size_t rest = end + kEnd.size();
    while (rest < held_.size() && held_[rest] == '\n') ++rest;  // R1 writes "</think>\n\n"
    out.content = held_.substr(rest);
    held_.clear();
    in_reasoning_ = false;
    strip_newlines_ = out.content.empty();
    return out;
  }
  // Release all but the longest tail that could start "</think>".
  size_t keep = 0;
  for (size_t k = std::min(held_.size(), kEnd.size() - 1); k > 0; --k) {
    if (std::string_view(held_).substr(held_.size() - k) == kEnd.substr(0, k)) {
      keep = k;
      break;
    }
  }
  out.reasoning = held_.substr(0, held_.size() - keep);
  held_.erase(0, held_.size() - keep);
  return out;
}

SplitText ReasoningSplitter::Flush() {
  SplitText out;
  if (in_reasoning_) out.reasoning = std::move(held_);
  held_.clear();
  return out;
}

}  // namespace frugal::server
