#include <unistd.h>

#include <cstdio>
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
