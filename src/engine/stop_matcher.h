// Stop strings over streamed text: text is released only once it can no longer be the start of
// a stop string, and a stop string ends the text just before it (the stop string itself is never
// released), as OpenAI's API does. Thread-compatible (one per generation).
#pragma once

#include <string>
#include <vector>

namespace frugal::engine {

class StopMatcher {
 public:
  explicit StopMatcher(std::vector<std::string> stops);
  // Adds generated text; returns what may be released now.
  std::string Push(const std::string& text);
  // The end of the stream: what is held back.
  std::string Flush();
  bool stopped() const { return stopped_; }

 private:
  std::vector<std::string> stops_;
  std::string pending_;
  bool stopped_ = false;
};

}  // namespace frugal::engine
