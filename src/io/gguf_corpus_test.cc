// The hand-made corpus of broken GGUF files (tests/data/gguf_corpus, one file per error class,
// including the classes behind llama.cpp's GGUF CVEs): each must load or fail exactly as
// expected.tsv says, with an error that names the problem.
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "io/gguf_file.h"

namespace frugal::io {
namespace {

struct Case {
  std::string file, verdict, substring;
};

std::vector<Case> LoadManifest(const std::string& dir) {
  std::vector<Case> out;
  std::ifstream in(dir + "/expected.tsv");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ss(line);
    Case c;
    if (std::getline(ss, c.file, '\t') && std::getline(ss, c.verdict, '\t') && std::getline(ss, c.substring)) {
      out.push_back(c);
    }
  }
  return out;
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

TEST(GgufCorpusTest, EveryCaseBehavesAsExpected) {
  const std::string dir = std::string(FRUGAL_SOURCE_DIR) + "/tests/data/gguf_corpus";
  const std::vector<Case> cases = LoadManifest(dir);
  ASSERT_GE(cases.size(), 40u);
  int errors = 0;
  for (const Case& c : cases) {
    auto f = OpenGguf(dir + "/" + c.file);
    if (c.verdict == "ok") {
      EXPECT_TRUE(f.ok()) << c.file << ": " << f.status().ToString();
      continue;
    }
    ++errors;
    ASSERT_FALSE(f.ok()) << c.file << " was accepted";
    EXPECT_EQ(f.status().code(), StatusCode::kDataLoss) << c.file;
    EXPECT_NE(Lower(f.status().message()).find(c.substring), std::string::npos)
        << c.file << ": expected '" << c.substring << "' in: " << f.status().message();
    EXPECT_NE(f.status().message().find(c.file), std::string::npos) << "error should name the file";
  }
  EXPECT_GE(errors, 30);
}

}  // namespace
}  // namespace frugal::io
