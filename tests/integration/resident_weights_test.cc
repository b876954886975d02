// The every-token weights are copied into the huge-page region byte for byte (or, Q8_0/Q4_K rows
// where the panel kernels run, reordered with every value kept), their views point there; the
// routed experts go into a second region the same way unless the load says an expert store will
// read them (then they stay in the file's mapping); the embedding stays mapped.
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

void CheckResident(GgmlType dtype, bool experts_resident) {
  const std::string path = ::testing::TempDir() + "/frugal_resident_" + std::to_string(::getpid());
  ThreadPool pool(2);
  ASSERT_TRUE(tools::GenerateModel({.preset = "tiny", .dtype = dtype}, path, pool).ok());
  auto m = model::LoadModel(path, {.routed_experts_resident = experts_resident});
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  auto again = io::OpenGguf(path);  // an independent mapping to compare bytes with
  ASSERT_TRUE(again.ok());
  std::remove(path.c_str());
  const model::LoadedModel& lm = **m;
  ASSERT_GT(lm.resident.size(), 0u);
  const std::span<const std::byte> mapped = lm.file.file().Mapped();
  int reordered = 0;
  auto check_copied = [&](const ConstTensorView& v, const std::string& name, const HugePageRegion& region) {
    ASSERT_TRUE(Inside(v.data, region.data(), region.size())) << name;
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
  check_copied(lm.weights.output, "output.weight", lm.resident);
  int expert_tensors = 0;
  for (size_t l = 0; l < lm.weights.layers.size(); ++l) {
    const model::LayerWeights& w = lm.weights.layers[l];
    const std::string p = "blk." + std::to_string(l) + ".";
    check_copied(w.kv_a_mqa, p + "attn_kv_a_mqa.weight", lm.resident);
    check_copied(w.attn_output, p + "attn_output.weight", lm.resident);
    if (w.gate_exps.data != nullptr) {
      check_copied(w.gate_inp, p + "ffn_gate_inp.weight", lm.resident);
      if (experts_resident) {
        check_copied(w.gate_exps, p + "ffn_gate_exps.weight", lm.resident_experts);
        check_copied(w.up_exps, p + "ffn_up_exps.weight", lm.resident_experts);
        check_copied(w.down_exps, p + "ffn_down_exps.weight", lm.resident_experts);
        expert_tensors += 3;
      } else {
        EXPECT_TRUE(Inside(w.gate_exps.data, mapped.data(), mapped.size())) << "routed experts stay mapped";
        EXPECT_TRUE(Inside(w.down_exps.data, mapped.data(), mapped.size()));
        EXPECT_EQ(w.gate_exps.order, RowOrder::kAsStored);
      }
    } else {
      check_copied(w.ffn_down, p + "ffn_down.weight", lm.resident);
    }
  }
  EXPECT_EQ(expert_tensors > 0, experts_resident);
  EXPECT_EQ(lm.resident_experts.size() > 0, experts_resident);
  EXPECT_TRUE(Inside(lm.weights.token_embd.data, mapped.data(), mapped.size()));
  // tiny's 512-wide rows (the output head's, the attention output's) take the panel order
  // wherever the panel kernels run.
  if (kernels::PanelRowsUsable()) {
    EXPECT_GT(reordered, 0);
  }
}

TEST(ResidentWeightsTest, EveryTokenTensorsAndExpertsAreCopiedExactly) { CheckResident(GgmlType::kQ8_0, true); }
TEST(ResidentWeightsTest, Q4KTensorsToo) { CheckResident(GgmlType::kQ4_K, true); }
TEST(ResidentWeightsTest, ExpertsStayMappedWhereAStoreReadsThem) { CheckResident(GgmlType::kQ8_0, false); }

}  // namespace
}  // namespace frugal
