// DeepSeek-R1's answers begin with their reasoning (the prompt opens "<think>\n"), which ends at
// "</think>". DeepSeek's API returns it apart, as `reasoning_content`; this splits streamed text
// the same way, holding back a possible partial "</think>" until the next piece shows whether it
// is one. Thread-compatible.
#pragma once

#include <string>
#include <string_view>

namespace frugal::server {

struct SplitText {
  std::string reasoning;
  std::string content;
};

class ReasoningSplitter {
 public:
  // in_reasoning: the answer starts inside the reasoning (R1's prompt ended with "<think>").
  explicit ReasoningSplitter(bool in_reasoning) : in_reasoning_(in_reasoning) {}
  SplitText Push(std::string_view text);
  SplitText Flush();  // whatever is held back

 private:
  bool in_reasoning_;
  bool strip_newlines_ = false;  // after "</think>": the blank lines R1 writes before its answer
  std::string held_;
};

}  // namespace frugal::server
