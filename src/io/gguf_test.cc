// Writer → reader round trips, and reader behaviour on truncated, mutated and faulty files.
#include <gtest/gtest.h>

#include "io/gguf_file.h"
#include "io/gguf_writer.h"
#include "util/rng.h"

namespace frugal::io {
namespace {

TensorShape Shape2(uint64_t a, uint64_t b) {
  TensorShape s;
  s.n_dims = 2;
  s.ne = {a, b, 1, 1};
  return s;
}

// A small file with every value type and two tensors.
std::vector<std::byte> MakeFile(uint32_t version, uint32_t alignment) {
  GgufWriter w(version, alignment);
  w.SetValue("general.architecture", GgufValue::String("deepseek2"));
  w.SetValue("u8", GgufValue::Scalar(GgufValueType::kUint8, uint64_t{200}));
  w.SetValue("i8", GgufValue::Scalar(GgufValueType::kInt8, int64_t{-100}));
  w.SetValue("u16", GgufValue::Scalar(GgufValueType::kUint16, uint64_t{60000}));
  w.SetValue("i16", GgufValue::Scalar(GgufValueType::kInt16, int64_t{-30000}));
  w.SetValue("u32", GgufValue::Uint32(4000000000u));
  w.SetValue("i32", GgufValue::Int32(-2000000000));
  w.SetValue("u64", GgufValue::Uint64(1ull << 40));
  w.SetValue("i64", GgufValue::Scalar(GgufValueType::kInt64, int64_t{-(1ll << 40)}));
  w.SetValue("f32", GgufValue::Float32(0.25f));
  w.SetValue("f64", GgufValue::Scalar(GgufValueType::kFloat64, 1e-300));
  w.SetValue("bool", GgufValue::Bool(true));
  w.SetValue("strings", GgufValue::StringArray({"a", "", "ünï"}));
  w.SetValue("ints", GgufValue::Int32Array({1, -2, 3}));
  GgufValue nested;
  nested.type = GgufValueType::kArray;
  nested.elem_type = GgufValueType::kArray;
  nested.nested = {GgufValue::Int32Array({1}), GgufValue::Int32Array({2, 3})};
  w.SetValue("nested", nested);
  const size_t a = w.AddTensor("a", Shape2(32, 3), GgmlType::kQ8_0);
  const size_t b = w.AddTensor("b", Shape2(5, 1), GgmlType::kF32);
  std::vector<std::byte> out;
  auto file = NewMemoryWritableFile(&out);
  EXPECT_TRUE(w.WriteHeader(*file).ok());
  std::vector<std::byte> da(w.TensorBytes(a), std::byte{7}), db(w.TensorBytes(b), std::byte{9});
  EXPECT_TRUE(w.WriteTensorData(*file, a, da).ok());
  EXPECT_TRUE(w.WriteTensorData(*file, b, db).ok());
  EXPECT_TRUE(w.Finish().ok());
  return out;
}

TEST(GgufTest, RoundTripsEveryValueTypeAndVersion) {
  for (uint32_t version : {2u, 3u}) {
    for (uint32_t alignment : {32u, 64u, 8u}) {
      auto f = ReadGguf(NewMemoryFile("t", MakeFile(version, alignment)));
      ASSERT_TRUE(f.ok()) << f.status().ToString();
      EXPECT_EQ(f->version(), version);
      EXPECT_EQ(f->alignment(), alignment);
      EXPECT_EQ(*f->GetString("general.architecture"), "deepseek2");
      EXPECT_EQ(*f->GetInt("u8"), 200);
      EXPECT_EQ(*f->GetInt("i8"), -100);
      EXPECT_EQ(*f->GetInt("u16"), 60000);
      EXPECT_EQ(*f->GetInt("i16"), -30000);
      EXPECT_EQ(*f->GetInt("u32"), 4000000000ll);
      EXPECT_EQ(*f->GetInt("i32"), -2000000000);
      EXPECT_EQ(*f->GetInt("u64"), 1ll << 40);
      EXPECT_EQ(*f->GetInt("i64"), -(1ll << 40));
      EXPECT_EQ(*f->GetFloat("f32"), 0.25);
      EXPECT_EQ(*f->GetFloat("f64"), 1e-300);
      EXPECT_TRUE(*f->GetBool("bool"));
      EXPECT_EQ(*f->GetStringArray("strings"), (std::vector<std::string>{"a", "", "ünï"}));
      EXPECT_EQ(*f->GetIntArray("ints"), (std::vector<int64_t>{1, -2, 3}));
      ASSERT_EQ(f->Find("nested")->nested.size(), 2u);
      EXPECT_EQ(f->Find("nested")->nested[1].elems.size(), 2u);
      // Typed getters refuse the wrong type.
      EXPECT_EQ(f->GetString("u8").status().code(), StatusCode::kDataLoss);
      EXPECT_EQ(f->GetInt("missing").status().code(), StatusCode::kNotFound);
      const GgufTensorInfo* a = f->FindTensor("a");
      ASSERT_NE(a, nullptr);
      EXPECT_EQ(a->n_bytes, 3u * 34u);
      EXPECT_EQ(a->file_offset % alignment, 0u);
      auto data = f->MappedTensorData(*f->FindTensor("b"));
      ASSERT_TRUE(data.ok());
      EXPECT_EQ((*data)[0], std::byte{9});
    }
  }
}

TEST(GgufTest, EveryTruncationIsAnErrorNotACrash) {
  const std::vector<std::byte> full = MakeFile(3, 32);
  auto whole = ReadGguf(NewMemoryFile("t", full));
  ASSERT_TRUE(whole.ok());
  uint64_t data_end = 0;  // the trailing padding after the last tensor is optional
  for (const GgufTensorInfo& t : whole->tensors()) data_end = std::max(data_end, t.file_offset + t.n_bytes);
  for (size_t n = 0; n < full.size(); ++n) {
    std::vector<std::byte> prefix(full.begin(), full.begin() + static_cast<long>(n));
    auto f = ReadGguf(NewMemoryFile("t", prefix));
    if (n >= data_end) {
      EXPECT_TRUE(f.ok()) << f.status().ToString();
      continue;
    }
    ASSERT_FALSE(f.ok()) << "prefix of " << n << " bytes was accepted";
    EXPECT_EQ(f.status().code(), StatusCode::kDataLoss) << f.status().ToString();
  }
}

TEST(GgufTest, RandomMutationsNeverCrash) {
  const std::vector<std::byte> full = MakeFile(3, 32);
  Rng rng(123);
  int rejected = 0;
  for (int iter = 0; iter < 3000; ++iter) {
    std::vector<std::byte> m = full;
    const int flips = 1 + static_cast<int>(rng.Next() % 4);
    for (int k = 0; k < flips; ++k) {
      m[rng.Next() % m.size()] = static_cast<std::byte>(rng.Next());
    }
    auto f = ReadGguf(NewMemoryFile("t", m));
    if (!f.ok()) {
      ++rejected;
      continue;
    }
    for (const GgufTensorInfo& t : f->tensors()) {  // accepted ⇒ every tensor lies inside the file
      EXPECT_LE(t.file_offset + t.n_bytes, m.size());
    }
  }
  EXPECT_GT(rejected, 100);
}

TEST(GgufTest, ReadFailuresBecomeStatus) {
  auto f = ReadGguf(NewFaultInjectingFile(NewMemoryFile("t", MakeFile(3, 32)), {.fail_reads_after = 0}));
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().code(), StatusCode::kIoError);
  EXPECT_NE(f.status().message().find("injected"), std::string::npos);
}

}  // namespace
}  // namespace frugal::io
