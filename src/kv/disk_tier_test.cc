// The disk tier: the entry format's checks, store and load across a "restart", bad entries
// (flipped, truncated, mismatched) detected and deleted, the LRU budget, the pool and sequence
// integration, and failures: kill -9 while writing, two writers at once, a full disk (file-size
// limit), a read-only directory.
#include <dirent.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "kv/block_key.h"
#include "kv/disk_entry.h"
#include "kv/disk_tier.h"
#include "kv/sequence_kv.h"

namespace frugal::kv {
namespace {

namespace fs = std::filesystem;

BlockShape Shape() { return {.n_layers = 2, .width = 8, .block_tokens = 4, .dtype = model::KvDtype::kF32}; }
constexpr uint64_t kModel = 0x1234;

struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/frugal-disk-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() {
    std::error_code ec;
    fs::permissions(path, fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(path, ec);
  }
};

// Block i of a test chain: ids {i·4 .. i·4+3}, payload bytes from i.
std::vector<int32_t> IdsOf(int i) { return {4 * i, 4 * i + 1, 4 * i + 2, 4 * i + 3}; }
std::vector<std::byte> PayloadOf(int i, const BlockShape& s = Shape()) {
  std::vector<std::byte> p(s.block_bytes());
  for (size_t j = 0; j < p.size(); ++j) p[j] = static_cast<std::byte>((static_cast<size_t>(i) * 131 + j * 7) & 0xff);
  return p;
}
struct Chain {
  std::vector<std::vector<int32_t>> ids;
  std::vector<ChainLink> links;
  explicit Chain(int n) : ids(static_cast<size_t>(n)) {
    uint64_t parent = 77;
    for (int i = 0; i < n; ++i) {
      ids[static_cast<size_t>(i)] = IdsOf(i);
      const uint64_t key = BlockKey(parent, ids[static_cast<size_t>(i)]);
      links.push_back({parent, key, ids[static_cast<size_t>(i)]});
      parent = key;
    }
  }
};

std::unique_ptr<BlockPool> MakePool(int blocks) {
  auto p = BlockPool::Create(Shape(), static_cast<uint64_t>(blocks) * Shape().block_bytes());
  EXPECT_TRUE(p.ok());
  std::unique_ptr<BlockPool> pool;
  if (p.ok()) pool.swap(*p);
  return pool;
}

std::unique_ptr<DiskTier> OpenTier(const std::string& dir, uint64_t budget = 1 << 30, bool write_through = false) {
  auto t = DiskTier::Open({.dir = dir, .budget_bytes = budget, .write_through = write_through, .read_buffer_bytes = 0}, Shape(),
                          kModel);
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  std::unique_ptr<DiskTier> tier;
  if (t.ok()) tier.swap(*t);
  return tier;
}

void StoreChain(DiskTier& t, const Chain& c, int from, int to) {
  for (int i = from; i < to; ++i) {
    const auto& l = c.links[static_cast<size_t>(i)];
    t.Store(l.parent, l.key, l.tokens, PayloadOf(i).data());
  }
}

// Loads links [0, n) one at a time (each independently); returns how many loaded, and checks
// every loaded payload is the one stored.
int LoadEach(DiskTier& t, const Chain& c, int n) {
  int loaded = 0;
  std::vector<std::byte> got(Shape().block_bytes());
  for (int i = 0; i < n; ++i) {
    std::byte* dest = got.data();
    if (t.Load(std::span(&c.links[static_cast<size_t>(i)], 1), std::span(&dest, 1)) == 1) {
      EXPECT_EQ(got, PayloadOf(i)) << "block " << i;
      ++loaded;
    }
  }
  return loaded;
}

std::vector<std::string> FilesUnder(const std::string& dir, const std::string& suffix) {
  std::vector<std::string> out;
  std::error_code ec;  // a writer may be renaming files meanwhile: vanished entries are skipped
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    const std::string p = it->path().string();
    std::error_code type_ec;
    if (it->is_regular_file(type_ec) && p.size() >= suffix.size() && p.compare(p.size() - suffix.size(), suffix.size(), suffix) == 0) {
      out.push_back(p);
    }
  }
  return out;
}

TEST(DiskEntryTest, RoundTripAndEveryMismatchRejected) {
  const BlockShape s = Shape();
  EXPECT_EQ(EntryHeaderBytes(s), 4096u);
  EXPECT_EQ(EntryFileBytes(s), 8192u);
  const EntryIdentity id{kModel, s, 5, 6};
  const std::vector<int32_t> ids = IdsOf(3);
  const std::vector<std::byte> payload = PayloadOf(3);
  std::vector<std::byte> file(EntryFileBytes(s));
  EncodeEntry(id, ids, payload.data(), file);
  ASSERT_TRUE(CheckEntry(file, id, ids).ok());
  EXPECT_EQ(0, std::memcmp(file.data() + 4096, payload.data(), payload.size()));
  // A flipped bit anywhere that carries meaning: magic, fields, ids, payload.
  for (size_t at : {size_t{0}, size_t{9}, size_t{20}, size_t{60}, size_t{128}, size_t{140}, size_t{4096}, size_t{4096 + 200}}) {
    std::vector<std::byte> bad = file;
    bad[at] ^= std::byte{0x10};
    EXPECT_FALSE(CheckEntry(bad, id, ids).ok()) << "flip at " << at;
  }
  EXPECT_FALSE(CheckEntry(std::span(file).first(file.size() - 4096), id, ids).ok());  // truncated
  EXPECT_FALSE(CheckEntry(std::span(file).first(100), id, ids).ok());
  EXPECT_FALSE(CheckEntry(file, {kModel + 1, s, 5, 6}, ids).ok());  // another model
  EXPECT_FALSE(CheckEntry(file, {kModel, s, 4, 6}, ids).ok());      // another parent
  EXPECT_FALSE(CheckEntry(file, {kModel, s, 5, 7}, ids).ok());      // another key
  EXPECT_FALSE(CheckEntry(file, id, IdsOf(4)).ok());                // other ids
  BlockShape f16 = s;
  f16.dtype = model::KvDtype::kF16;
  f16.width = 16;  // same bytes, another type and width
  EXPECT_FALSE(CheckEntry(file, {kModel, f16, 5, 6}, ids).ok());
  std::vector<std::byte> v2 = file;
  v2[8] = std::byte{2};  // format version 2
  EXPECT_FALSE(CheckEntry(v2, id, ids).ok());
}

TEST(DiskTierTest, StoredEntriesSurviveARestartAndAreServedWhileQueued) {
  TempDir d;
  const Chain c(6);
  {
    auto t = OpenTier(d.path);
    StoreChain(*t, c, 0, 6);
    EXPECT_EQ(t->Probe(c.links), 6);  // queued or written: found either way
    EXPECT_EQ(LoadEach(*t, c, 6), 6);
  }  // the destructor writes what is queued
  EXPECT_EQ(FilesUnder(d.path, ".kvb").size(), 6u);
  EXPECT_TRUE(FilesUnder(d.path, ".tmp").empty());
  auto t = OpenTier(d.path);
  EXPECT_EQ(t->Stats().entries, 6);
  EXPECT_EQ(t->Stats().bytes_on_disk, 6 * EntryFileBytes(Shape()));
  std::vector<std::vector<std::byte>> blocks(6, std::vector<std::byte>(Shape().block_bytes()));
  std::vector<std::byte*> dest;
  for (auto& b : blocks) dest.push_back(b.data());
  ASSERT_EQ(t->Load(c.links, dest), 6);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(blocks[static_cast<size_t>(i)], PayloadOf(i));
  const DiskTierStats st = t->Stats();
  EXPECT_EQ(st.hits, 6);
  EXPECT_EQ(st.read_bytes, static_cast<int64_t>(6 * EntryFileBytes(Shape())));
  // A chain is used up to its first missing entry.
  fs::remove(t->PathOf(c.links[3].key));
  EXPECT_EQ(t->Probe(c.links), 3);
  EXPECT_EQ(t->Load(c.links, dest), 3);
}

TEST(DiskTierTest, OpenCreatesMissingParentDirectories) {
  TempDir d;
  const std::string nested = d.path + "/a/b/cache";
  const Chain c(2);
  {
    auto t = OpenTier(nested);
    StoreChain(*t, c, 0, 2);
  }
  EXPECT_EQ(FilesUnder(nested, ".kvb").size(), 2u);
  // A path under a regular file cannot be a directory: an error, not a crash.
  std::ofstream(d.path + "/file") << "x";
  EXPECT_FALSE(DiskTier::Open({.dir = d.path + "/file/cache"}, Shape(), kModel).ok());
}

// A chain longer than the read buffer goes in batches; it stops at the first missing entry.
TEST(DiskTierTest, LongChainsAreReadInBatches) {
  TempDir d;
  const Chain c(20);
  {
    auto t = OpenTier(d.path);
    StoreChain(*t, c, 0, 20);
  }
  auto t = DiskTier::Open({.dir = d.path, .budget_bytes = 1 << 30, .read_threads = 2, .read_buffer_bytes = 0}, Shape(), kModel);
  ASSERT_TRUE(t.ok());
  std::vector<std::vector<std::byte>> blocks(20, std::vector<std::byte>(Shape().block_bytes()));
  std::vector<std::byte*> dest;
  for (auto& b : blocks) dest.push_back(b.data());
  ASSERT_EQ((*t)->Load(c.links, dest), 20);  // ten batches of two
  for (int i = 0; i < 20; ++i) EXPECT_EQ(blocks[static_cast<size_t>(i)], PayloadOf(i)) << i;
  fs::remove((*t)->PathOf(c.links[13].key));
  EXPECT_EQ((*t)->Load(c.links, dest), 13);
  EXPECT_EQ((*t)->Stats().hits, 33);
}

TEST(DiskTierTest, BadEntriesAreMissesAndDeleted) {
  TempDir d;
  const Chain c(4);
  {
    auto t = OpenTier(d.path);
    StoreChain(*t, c, 0, 4);
  }
  auto t = OpenTier(d.path);
  // Block 0: a flipped payload byte; 1: truncated; 2: a wrong header (another model's entry
  // under this key); 3: intact.
  {
    std::fstream f(t->PathOf(c.links[0].key), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(4096 + 100);
    f.put('\x5a');
  }
  fs::resize_file(t->PathOf(c.links[1].key), 4096 + 128);
  {
    std::vector<std::byte> file(EntryFileBytes(Shape()));
    EncodeEntry({kModel + 1, Shape(), c.links[2].parent, c.links[2].key}, c.links[2].tokens, PayloadOf(2).data(), file);
    std::ofstream(t->PathOf(c.links[2].key), std::ios::binary | std::ios::trunc).write(reinterpret_cast<const char*>(file.data()),
                                                                                        static_cast<std::streamsize>(file.size()));
  }
  EXPECT_EQ(LoadEach(*t, c, 4), 1);
  EXPECT_EQ(t->Stats().rejected, 3);
  // A FIFO under an entry's name neither blocks the reader nor is used.
  ASSERT_EQ(mkfifo(t->PathOf(c.links[0].key).c_str(), 0644), 0);
  EXPECT_EQ(LoadEach(*t, c, 1), 0);
  EXPECT_EQ(t->Stats().rejected, 4);
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(fs::exists(t->PathOf(c.links[static_cast<size_t>(i)].key))) << i;
  EXPECT_TRUE(fs::exists(t->PathOf(c.links[3].key)));
}

TEST(DiskTierTest, BudgetEvictsLeastRecentlyUsedFirst) {
  TempDir d;
  const Chain c(12);
  const uint64_t entry = EntryFileBytes(Shape());
  auto t = OpenTier(d.path, 10 * entry);
  // One at a time, apart: file times are coarse (a few ms), recency is told by them.
  const auto store = [&](int i) {
    StoreChain(*t, c, i, i + 1);
    t->Drain();
    std::this_thread::sleep_for(std::chrono::milliseconds(15));
  };
  for (int i = 0; i < 8; ++i) store(i);
  EXPECT_EQ(LoadEach(*t, c, 1), 1);  // entry 0 read again: the most recently used of the eight
  std::this_thread::sleep_for(std::chrono::milliseconds(15));
  for (int i = 8; i < 12; ++i) store(i);  // the 11th entry passes the budget: down to 9 (90%)
  const DiskTierStats st = t->Stats();
  EXPECT_EQ(st.entries, 10);
  EXPECT_EQ(st.evicted, 2);
  EXPECT_LE(st.bytes_on_disk, 10 * entry);
  EXPECT_TRUE(fs::exists(t->PathOf(c.links[0].key)));  // used recently: kept
  for (int i = 1; i <= 2; ++i) EXPECT_FALSE(fs::exists(t->PathOf(c.links[static_cast<size_t>(i)].key))) << i;
  for (int i = 3; i < 12; ++i) EXPECT_TRUE(fs::exists(t->PathOf(c.links[static_cast<size_t>(i)].key))) << i;
  EXPECT_FALSE(DiskTier::Open({.dir = d.path, .budget_bytes = entry - 1}, Shape(), kModel).ok());
}

TEST(DiskTierTest, TemporaryFilesOfDeadWritersAreRemovedAtOpen) {
  TempDir d;
  { auto t = OpenTier(d.path); }
  fs::create_directories(d.path + "/kv/ab");
  const std::string dead = d.path + "/kv/ab/.abababababababab.999999999.0.tmp";  // no such process
  const std::string live = d.path + "/kv/ab/.abababababababab." + std::to_string(getpid()) + ".0.tmp";
  std::ofstream(dead) << "half";
  std::ofstream(live) << "being written";
  auto t = OpenTier(d.path);
  EXPECT_FALSE(fs::exists(dead));
  EXPECT_TRUE(fs::exists(live));
}

// The pool stores evicted blocks; a new pool on the same directory (a restart) reads them back
// through SequenceKv::Reuse, and reports them as disk hits.
TEST(DiskTierTest, EvictedBlocksComeBackFromDiskAfterARestart) {
  TempDir d;
  const BlockShape s = Shape();
  std::vector<int32_t> prompt(21);
  std::iota(prompt.begin(), prompt.end(), 500);
  const uint64_t root = RootKey({kModel, s.dtype, s.block_tokens, ""});
  std::vector<std::vector<std::byte>> written;
  {
    auto tier = OpenTier(d.path);
    auto pool = MakePool(6);
    pool->AttachDisk(tier.get());
    {
      SequenceKv seq(*pool, root);
      ASSERT_TRUE(seq.Reserve(20).ok());
      const model::LatentBlocks view = seq.View();
      for (int pos = 0; pos < 20; ++pos) {
        for (int layer = 0; layer < 2; ++layer) {
          std::vector<float> row(8);
          for (int j = 0; j < 8; ++j) row[static_cast<size_t>(j)] = static_cast<float>(pos * 100 + layer * 10 + j);
          view.Write(layer, pos, row.data());
        }
      }
      seq.Commit(std::span(prompt).first(20));
    }
    // Another sequence takes every block: the five published ones are evicted to disk.
    SequenceKv other(*pool, root + 1);
    ASSERT_TRUE(other.Reserve(6 * 4).ok());
    EXPECT_EQ(pool->Stats().evictions, 5);
    tier->Drain();
    EXPECT_EQ(tier->Stats().written, 5);
  }
  auto tier = OpenTier(d.path);
  auto pool = MakePool(8);
  pool->AttachDisk(tier.get());
  SequenceKv seq(*pool, root);
  const PrefixHit hit = seq.Reuse(prompt);
  EXPECT_EQ(hit.tokens, 20);
  EXPECT_EQ(hit.disk_tokens, 20);
  std::vector<float> rows(20 * 8);
  for (int layer = 0; layer < 2; ++layer) {
    seq.View().Read(layer, 20, rows.data());
    for (int pos = 0; pos < 20; ++pos) {
      for (int j = 0; j < 8; ++j) ASSERT_EQ(rows[static_cast<size_t>(pos * 8 + j)], static_cast<float>(pos * 100 + layer * 10 + j));
    }
  }
  // Read back, they are published in RAM again: another sequence hits them there.
  SequenceKv again(*pool, root);
  const PrefixHit ram = again.Reuse(prompt);
  EXPECT_EQ(ram.tokens, 20);
  EXPECT_EQ(ram.disk_tokens, 0);
  // Another tenant's root shares nothing.
  SequenceKv stranger(*pool, root + 1);
  EXPECT_EQ(stranger.Reuse(prompt).tokens, 0);
}

TEST(DiskTierTest, WriteThroughAndStoreAllWriteEveryPublishedBlock) {
  for (const bool through : {true, false}) {
    TempDir d;
    auto tier = OpenTier(d.path, 1 << 30, through);
    auto pool = MakePool(8);
    pool->AttachDisk(tier.get());
    SequenceKv seq(*pool, 9);
    ASSERT_TRUE(seq.Reserve(14).ok());
    seq.Commit(IdsOf(0));
    seq.Commit(IdsOf(1));
    seq.Commit(std::vector<int32_t>{1, 2, 3, 4, 5, 6});  // one more full block, half of another
    tier->Drain();
    EXPECT_EQ(tier->Stats().written, through ? 3 : 0);
    pool->StoreAllToDisk();
    tier->Drain();
    EXPECT_EQ(tier->Stats().written, 3);  // each once; the partial block never
  }
}

// At shutdown nothing is dropped: with a queue of four entries, all twelve blocks are written.
TEST(DiskTierTest, StoreAllWaitsForRoomInsteadOfDropping) {
  TempDir d;
  auto t = DiskTier::Open({.dir = d.path, .budget_bytes = 1 << 30, .write_queue_bytes = 1, .read_buffer_bytes = 0}, Shape(), kModel);
  ASSERT_TRUE(t.ok());
  auto pool = MakePool(12);
  pool->AttachDisk(t->get());
  SequenceKv seq(*pool, 9);
  ASSERT_TRUE(seq.Reserve(48).ok());
  for (int i = 0; i < 12; ++i) seq.Commit(IdsOf(i));
  pool->StoreAllToDisk();
  (*t)->Drain();
  EXPECT_EQ((*t)->Stats().written, 12);
  EXPECT_EQ((*t)->Stats().writes_dropped, 0);
}

// kill -9 in the middle of writing, many times: afterwards no entry on disk is bad, every one
// that exists loads with the exact bytes stored, and no temporary file survives a reopen.
TEST(DiskTierTest, KillNineWhileWritingNeverLeavesABadEntry) {
  TempDir d;
  const Chain c(64);
  std::srand(12345);
  for (int round = 0; round < 30; ++round) {
    const pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      auto t = DiskTier::Open({.dir = d.path, .budget_bytes = 1 << 30, .read_buffer_bytes = 0}, Shape(), kModel);
      if (!t.ok()) _exit(3);
      for (;;) {  // rewrite the chain forever (known entries are skipped: delete to rewrite)
        for (int i = 0; i < 64; ++i) {
          const auto& l = c.links[static_cast<size_t>(i)];
          (*t)->Store(l.parent, l.key, l.tokens, PayloadOf(i).data());
          if (i % 8 == 7) {
            (*t)->Drain();
            for (int j = i - 7; j <= i; j += 2) unlink((*t)->PathOf(c.links[static_cast<size_t>(j)].key).c_str());
            std::unique_ptr<DiskTier> fresh = std::move(*t);
            fresh.reset();
            t = DiskTier::Open({.dir = d.path, .budget_bytes = 1 << 30, .read_buffer_bytes = 0}, Shape(), kModel);
            if (!t.ok()) _exit(3);
          }
        }
      }
    }
    if (round == 0) {
      // The first writer lives until an entry is on disk (slow builds, busy machines), so there
      // is something to check; the others die at random moments.
      for (int wait = 0; wait < 2000 && FilesUnder(d.path, ".kvb").empty(); ++wait) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
    }
    std::this_thread::sleep_for(std::chrono::microseconds(500 + std::rand() % 20000));
    kill(child, SIGKILL);
    int status = 0;
    waitpid(child, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status)) << "the writer ended by itself (status " << status << ")";
  }
  auto t = OpenTier(d.path);
  EXPECT_TRUE(FilesUnder(d.path, ".tmp").empty());
  const size_t on_disk = FilesUnder(d.path, ".kvb").size();
  EXPECT_GT(on_disk, 0u);
  EXPECT_EQ(LoadEach(*t, c, 64), static_cast<int>(on_disk));
  EXPECT_EQ(t->Stats().rejected, 0);
}

// Two processes write and read the same directory at once: both finish, nothing bad is served.
TEST(DiskTierTest, TwoWritersShareADirectory) {
  TempDir d;
  const Chain c(40);
  pid_t kids[2];
  for (int k = 0; k < 2; ++k) {
    kids[k] = fork();
    ASSERT_GE(kids[k], 0);
    if (kids[k] == 0) {
      auto t = DiskTier::Open({.dir = d.path, .budget_bytes = 30 * EntryFileBytes(Shape()), .read_buffer_bytes = 0}, Shape(), kModel);
      if (!t.ok()) _exit(3);
      int bad = 0;
      for (int round = 0; round < 20; ++round) {
        // Overlapping halves, in opposite orders; the budget keeps evicting under both.
        for (int j = 0; j < 30; ++j) {
          const int i = k == 0 ? j : 39 - j;
          const auto& l = c.links[static_cast<size_t>(i)];
          (*t)->Store(l.parent, l.key, l.tokens, PayloadOf(i).data());
        }
        (*t)->Drain();
        std::vector<std::byte> got(Shape().block_bytes());
        for (int i = 0; i < 40; ++i) {
          std::byte* dest = got.data();
          if ((*t)->Load(std::span(&c.links[static_cast<size_t>(i)], 1), std::span(&dest, 1)) == 1 && got != PayloadOf(i)) ++bad;
        }
        for (int i = round % 3; i < 40; i += 3) unlink((*t)->PathOf(c.links[static_cast<size_t>(i)].key).c_str());
        t = DiskTier::Open({.dir = d.path, .budget_bytes = 30 * EntryFileBytes(Shape()), .read_buffer_bytes = 0}, Shape(), kModel);
        if (!t.ok()) _exit(3);
      }
      _exit(bad == 0 && (*t)->Stats().rejected == 0 ? 0 : 4);
    }
  }
  for (pid_t kid : kids) {
    int status = 0;
    waitpid(kid, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
  }
  auto t = OpenTier(d.path);
  EXPECT_EQ(LoadEach(*t, c, 40), static_cast<int>(FilesUnder(d.path, ".kvb").size()));
  EXPECT_EQ(t->Stats().rejected, 0);
}

// A full disk (here: a file-size limit below an entry): stores fail, are counted and reported,
// leave no temporary file, and reads of what is there go on.
TEST(DiskTierTest, FullDiskFailsWritesNotTheCaller) {
  TempDir d;
  const Chain c(4);
  { auto t = OpenTier(d.path); StoreChain(*t, c, 0, 2); }
  auto t = OpenTier(d.path);
  const auto old_handler = signal(SIGXFSZ, SIG_IGN);
  rlimit old{};
  getrlimit(RLIMIT_FSIZE, &old);
  rlimit small = old;
  small.rlim_cur = 4096;
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &small), 0);
  StoreChain(*t, c, 2, 4);
  t->Drain();
  setrlimit(RLIMIT_FSIZE, &old);
  signal(SIGXFSZ, old_handler);
  const DiskTierStats st = t->Stats();
  EXPECT_EQ(st.write_errors, 2);
  EXPECT_EQ(st.written, 0);
  EXPECT_NE(st.first_error.find("cannot write"), std::string::npos) << st.first_error;
  EXPECT_TRUE(FilesUnder(d.path, ".tmp").empty());
  EXPECT_EQ(LoadEach(*t, c, 4), 2);
}

// A read-only directory: opening works, stores fail (reported once), entries already there are
// read. As root, permissions do not stop writes: a read-only tmpfs is mounted instead.
TEST(DiskTierTest, ReadOnlyDirectoryStillServesReads) {
  TempDir d;
  const Chain c(4);
  std::string dir = d.path + "/cache";
  bool mounted = false;
  if (geteuid() == 0) {
    fs::create_directories(dir);
    if (mount("tmpfs", dir.c_str(), "tmpfs", 0, "size=1m") != 0) GTEST_SKIP() << "root without mount(2): cannot make a read-only directory";
    mounted = true;
  }
  { auto t = OpenTier(dir); StoreChain(*t, c, 0, 2); }
  if (mounted) {
    ASSERT_EQ(mount(nullptr, dir.c_str(), nullptr, MS_REMOUNT | MS_RDONLY, nullptr), 0) << std::strerror(errno);
  } else {
    for (const auto& e : fs::recursive_directory_iterator(dir)) {
      if (e.is_directory()) fs::permissions(e.path(), fs::perms::owner_write, fs::perm_options::remove);
    }
    fs::permissions(dir, fs::perms::owner_write, fs::perm_options::remove);
  }
  {
    auto t = OpenTier(dir);
    ASSERT_NE(t, nullptr);
    StoreChain(*t, c, 2, 4);
    t->Drain();
    EXPECT_EQ(t->Stats().write_errors, 2);
    EXPECT_FALSE(t->Stats().first_error.empty());
    EXPECT_EQ(LoadEach(*t, c, 4), 2);
  }
  if (mounted) umount(dir.c_str());
}

}  // namespace
}  // namespace frugal::kv
