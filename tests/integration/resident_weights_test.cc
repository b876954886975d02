// The every-token weights are copied into the huge-page region byte for byte, their views point
// there, and routed experts and the embedding stay in the file's mapping.
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include <gtest/gtest.h>

#include "io/gguf_file.h"
#include "model/loaded_model.h"
#include "tools/model_generator.h"

namespace frugal {
namespace {

bool Inside(const std::byte* p, const std::byte* begin, size_t size) { return p >= begin && p < begin + size; }

TEST(ResidentWeightsTest, EveryTokenTensorsAreCopiedExactlyAndExpertsStayMapped) {
  const std::string path = ::testing::TempDir() + "/frugal_resident_" + std::to_string(::getpid());
  ThreadPool pool(2);
  ASSERT_TRUE(tools::GenerateModel({.preset = "tiny", .dtype = GgmlType::kQ8_0}, path, pool).ok());
  auto m = model::LoadModel(path);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  auto again = io::OpenGguf(path);  // an independent mapping to compare bytes with
  ASSERT_TRUE(again.ok());
  std::remove(path.c_str());
  const model::LoadedModel& lm = **m;
  ASSERT_GT(lm.resident.size(), 0u);
  const std::span<const std::byte> mapped = lm.file.file().Mapped();
  auto check_copied = [&](const ConstTensorView& v, const std::string& name) {
    ASSERT_TRUE(Inside(v.data, lm.resident.data(), lm.resident.size())) << name;
    EXPECT_EQ(reinterpret_cast<uintptr_t>(v.data) % 64, 0u) << name;
    const io::GgufTensorInfo* t = again->FindTensor(name);
    ASSERT_NE(t, nullptr) << name;
    auto bytes = again->MappedTensorData(*t);
    ASSERT_TRUE(bytes.ok());
    EXPECT_EQ(0, std::memcmp(v.data, bytes->data(), bytes->size())) << name;
  };
  check_copied(lm.weights.output, "output.weight");
  for (size_t l = 0; l < lm.weights.layers.size(); ++l) {
    const model::LayerWeights& w = lm.weights.layers[l];
    const std::string p = "blk." + std::to_string(l) + ".";
    check_copied(w.kv_a_mqa, p + "attn_kv_a_mqa.weight");
    check_copied(w.attn_output, p + "attn_output.weight");
    if (w.gate_exps.data != nullptr) {
      check_copied(w.gate_inp, p + "ffn_gate_inp.weight");
      EXPECT_TRUE(Inside(w.gate_exps.data, mapped.data(), mapped.size())) << "routed experts stay mapped";
      EXPECT_TRUE(Inside(w.down_exps.data, mapped.data(), mapped.size()));
    } else {
      check_copied(w.ffn_down, p + "ffn_down.weight");
    }
  }
  EXPECT_TRUE(Inside(lm.weights.token_embd.data, mapped.data(), mapped.size()));
}

}  // namespace
}  // namespace frugal
