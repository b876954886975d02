// The every-token weights are copied into the huge-page region byte for byte (or, Q8_0 rows where
// the panel kernels run, reordered with every value kept), their views point there, and routed
// experts and the embedding stay in the file's mapping.
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "io/gguf_file.h"
#include "kernels/dequantize.h"
#include "kernels/panel_rows.h"
#include "model/loaded_model.h"
#include "tools/model_generator.h"

namespace frugal {
namespace {

bool Inside(const std::byte* p, const std::byte* begin, size_t size) { return p >= begin && p < begin + size; }

void CheckResident(GgmlType dtype) {
  const std::string path = ::testing::TempDir() + "/frugal_resident_" + std::to_string(::getpid());
  ThreadPool pool(2);
  ASSERT_TRUE(tools::GenerateModel({.preset = "tiny", .dtype = dtype}, path, pool).ok());
  auto m = model::LoadModel(path);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  auto again = io::OpenGguf(path);  // an independent mapping to compare bytes with
  ASSERT_TRUE(again.ok());
  std::remove(path.c_str());
  const model::LoadedModel& lm = **m;
  ASSERT_GT(lm.resident.size(), 0u);
  const std::span<const std::byte> mapped = lm.file.file().Mapped();
  int reordered = 0;
  auto check_copied = [&](const ConstTensorView& v, const std::string& name) {
    ASSERT_TRUE(Inside(v.data, lm.resident.data(), lm.resident.size())) << name;
    EXPECT_EQ(reinterpret_cast<uintptr_t>(v.data) % 64, 0u) << name;
    const io::GgufTensorInfo* t = again->FindTensor(name);
    ASSERT_NE(t, nullptr) << name;
    auto bytes = again->MappedTensorData(*t);
    ASSERT_TRUE(bytes.ok());
    const auto cols = static_cast<int64_t>(v.shape.ne[0]);
    if (v.order == RowOrder::kAsStored) {
      EXPECT_FALSE(kernels::HasPanelOrder(v.type) && kernels::PanelRowsUsable() && kernels::PanelRowsFit(cols) &&
                   name.find("gate_inp") == std::string::npos)
          << name << " could have been reordered";
      EXPECT_EQ(0, std::memcmp(v.data, bytes->data(), bytes->size())) << name;
      return;
    }
    ++reordered;
    ASSERT_TRUE(kernels::HasPanelOrder(v.type)) << name;
    ASSERT_TRUE(kernels::PanelRowsUsable() && kernels::PanelRowsFit(cols)) << name;
    std::vector<float> want(static_cast<size_t>(cols)), got(want.size());
    for (uint64_t r = 0; r < v.shape.rows(); ++r) {
      kernels::DequantizeRow(v.type, bytes->data() + r * v.row_bytes(), want.data(), cols);
      kernels::DequantizePanelRow(v.type, v.row(r), cols, got.data());
      ASSERT_EQ(want, got) << name << " row " << r;
    }
    EXPECT_NE(0, std::memcmp(v.data, bytes->data(), bytes->size())) << name << " reordered in place of a copy";
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
  // tiny's 512-wide rows (the output head's, the attention output's) take the panel order
  // wherever the panel kernels run.
  if (kernels::PanelRowsUsable()) {
    EXPECT_GT(reordered, 0);
  }
}

TEST(ResidentWeightsTest, EveryTokenTensorsAreCopiedExactlyAndExpertsStayMapped) { CheckResident(GgmlType::kQ8_0); }
TEST(ResidentWeightsTest, Q4KTensorsToo) { CheckResident(GgmlType::kQ4_K); }

}  // namespace
}  // namespace frugal
