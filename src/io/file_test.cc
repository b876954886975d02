#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include <gtest/gtest.h>

#include "io/file.h"

namespace frugal::io {
namespace {

std::vector<std::byte> Bytes(const std::string& s) {
  std::vector<std::byte> out(s.size());
  std::memcpy(out.data(), s.data(), s.size());
  return out;
}

std::string TempPath(const std::string& name) {
  return ::testing::TempDir() + "/frugal_file_test_" + std::to_string(::getpid()) + "_" + name;
}

void ExpectReads(const RandomAccessFile& f) {
  std::vector<std::byte> buf(5);
  ASSERT_TRUE(f.ReadAt(6, buf).ok());
  EXPECT_EQ(std::memcmp(buf.data(), "world", 5), 0);
  EXPECT_EQ(f.ReadAt(7, buf).code(), StatusCode::kOutOfRange);
  EXPECT_EQ(f.ReadAt(UINT64_MAX - 1, buf).code(), StatusCode::kOutOfRange);  // no wraparound
  std::vector<std::byte> empty;
  EXPECT_TRUE(f.ReadAt(11, empty).ok());
}

TEST(FileTest, AtomicWriteThenPosixAndMmapRead) {
  const std::string path = TempPath("a");
  {
    auto w = OpenAtomicWritableFile(path);
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->Append(Bytes("hello world")).ok());
    // Not visible before Close.
    EXPECT_FALSE(OpenPosixFile(path).ok());
    ASSERT_TRUE((*w)->Close().ok());
  }
  auto p = OpenPosixFile(path);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ((*p)->Size(), 11u);
  ExpectReads(**p);
  auto m = OpenMmapFile(path);
  ASSERT_TRUE(m.ok());
  ExpectReads(**m);
  EXPECT_EQ((*m)->Mapped().size(), 11u);
  std::remove(path.c_str());
}

TEST(FileTest, AbandonedWriteLeavesNothing) {
  const std::string path = TempPath("b");
  {
    auto w = OpenAtomicWritableFile(path);
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->Append(Bytes("partial")).ok());
  }  // destroyed without Close
  EXPECT_FALSE(OpenPosixFile(path).ok());
  EXPECT_FALSE(OpenPosixFile(path + ".tmp").ok());
}

TEST(FileTest, MissingFileIsAnError) {
  auto f = OpenMmapFile("/nonexistent/frugal/file");
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().code(), StatusCode::kIoError);
  EXPECT_NE(f.status().message().find("/nonexistent/frugal/file"), std::string::npos);
  EXPECT_FALSE(OpenMmapFile("/").ok());  // a directory
}

TEST(FileTest, DirectReadsAlignedUnalignedAndAtTheEnd) {
  const std::string path = TempPath("direct");
  std::vector<std::byte> data(3 * kDirectIoAlignment + 123);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::byte>((i * 131 + i / 4096) & 0xff);
  {
    auto w = OpenAtomicWritableFile(path);
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->Append(data).ok());
    ASSERT_TRUE((*w)->Close().ok());
  }
  auto f = OpenDirectFile(path);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ((*f)->Size(), data.size());
  auto* aligned = static_cast<std::byte*>(std::aligned_alloc(kDirectIoAlignment, 2 * kDirectIoAlignment));
  ASSERT_NE(aligned, nullptr);
  // Aligned: straight into the buffer.
  ASSERT_TRUE((*f)->ReadAt(kDirectIoAlignment, {aligned, 2 * kDirectIoAlignment}).ok());
  EXPECT_EQ(std::memcmp(aligned, data.data() + kDirectIoAlignment, 2 * kDirectIoAlignment), 0);
  // Unaligned offset, size and buffer; and a range ending at the file's unaligned end.
  for (auto [offset, n] : {std::pair<uint64_t, size_t>{5, 7000}, {4095, 2}, {data.size() - 200, 200}, {0, data.size()}}) {
    std::vector<std::byte> buf(n + 1);
    ASSERT_TRUE((*f)->ReadAt(offset, {buf.data() + 1, n}).ok()) << offset;
    EXPECT_EQ(std::memcmp(buf.data() + 1, data.data() + offset, n), 0) << offset;
  }
  std::vector<std::byte> one(2);
  EXPECT_EQ((*f)->ReadAt(data.size() - 1, one).code(), StatusCode::kOutOfRange);
  std::free(aligned);
  std::remove(path.c_str());
}

TEST(FileTest, FaultWindowThenReadsSucceedAgain) {
  auto f = NewFaultInjectingFile(NewMemoryFile("mem", Bytes("hello world")), {.fail_reads_after = 1, .fail_reads_count = 2});
  std::vector<std::byte> buf(2);
  EXPECT_TRUE(f->ReadAt(0, buf).ok());
  EXPECT_EQ(f->ReadAt(0, buf).code(), StatusCode::kIoError);
  EXPECT_EQ(f->ReadAt(0, buf).code(), StatusCode::kIoError);
  EXPECT_TRUE(f->ReadAt(0, buf).ok());
}

TEST(FileTest, MemoryFile) {
  auto f = NewMemoryFile("mem", Bytes("hello world"));
  ExpectReads(*f);
}

TEST(FileTest, FaultInjection) {
  auto f = NewFaultInjectingFile(NewMemoryFile("mem", Bytes("hello world")),
                                 {.fail_reads_after = 2, .fail_offset_begin = 3, .fail_offset_end = 4});
  std::vector<std::byte> buf(2);
  EXPECT_TRUE(f->ReadAt(0, buf).ok());
  EXPECT_EQ(f->ReadAt(2, buf).code(), StatusCode::kIoError);  // touches offset 3
  EXPECT_EQ(f->ReadAt(6, buf).code(), StatusCode::kIoError);  // third read
  auto t = NewFaultInjectingFile(NewMemoryFile("mem", Bytes("hello world")), {.visible_size = 4});
  EXPECT_EQ(t->Size(), 4u);
  EXPECT_EQ(t->ReadAt(3, buf).code(), StatusCode::kOutOfRange);
}

}  // namespace
}  // namespace frugal::io
