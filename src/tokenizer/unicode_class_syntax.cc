#include <fmt/format.h>

#include "tokenizer/unicode_classes.h"

namespace frugal::tokenizer {

std::string ClassContents(UnicodeClass c) {
  std::string out;
  for (const CodePointRange& r : RangesOf(c)) {
    out += r.first == r.last ? fmt::format("\\x{{{:x}}}", r.first) : fmt::format("\\x{{{:x}}}-\\x{{{:x}}}", r.first, r.last);
  }
  return out;
}

}  // namespace frugal::tokenizer
