// The ledger: records survive the round trip through JSON and the log (rotation, torn lines,
// several processes appending), costs and counterfactual savings equal hand-computed answers,
// and reports group and sum as the arithmetic in the comments says.
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "ledger/counterfactual.h"
#include "ledger/ledger_log.h"
#include "ledger/ledger_record.h"
#include "ledger/ledger_report.h"
#include "ledger/ledger_writer.h"
#include "ledger/prices.h"

namespace frugal::ledger {
namespace {

namespace fs = std::filesystem;

std::string TempPath(const std::string& tag) {
  const std::string dir = ::testing::TempDir() + "/frugal_ledger_" + std::to_string(::getpid()) + "_" + tag;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir + "/ledger.jsonl";
}

PriceSheet Sheet(const std::string& name) {
  auto s = LoadPriceSheet(name);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? *s : PriceSheet{};
}

LedgerRecord Record(int64_t hit, int64_t miss, int64_t output) {
  LedgerRecord r;
  r.time = 1796601600;  // 2026-12-07 00:00:00 UTC
  r.source = "run";
  r.model = "m.gguf";
  r.finish = "stop";
  r.hit_tokens = hit;
  r.miss_tokens = miss;
  r.prompt_tokens = hit + miss;
  r.output_tokens = output;
  PriceRecord(Sheet("deepseek-v3-2025-02"), &r);
  return r;
}

// 100 reads of a 100,000-token prompt, all hits, at V4-Pro's $0.003625 per 1M hit tokens:
// 10^7 × 0.003625 / 10^6 = $0.03625; priced as misses ($0.435): $4.35, so $4.31375 saved.
TEST(LedgerRecordTest, CostOfAHundredCachedReads) {
  LedgerRecord r;
  r.hit_tokens = r.prompt_tokens = 100 * 100000;
  PriceRecord(Sheet("deepseek-v4-pro-promo"), &r);
  EXPECT_NEAR(r.hit_usd, 0.03625, 1e-12);
  EXPECT_DOUBLE_EQ(r.miss_usd, 0);
  EXPECT_NEAR(r.uncached_usd, 4.35, 1e-12);
  EXPECT_NEAR(r.total_usd, 0.03625, 1e-12);
  // V3's list price: 3,000 hits × 0.07 + 1,000 misses × 0.27 + 500 output × 1.10, per 10^6:
  // 0.00021 + 0.00027 + 0.00055 = $0.00103.
  const LedgerRecord v3 = Record(3000, 1000, 500);
  EXPECT_NEAR(v3.total_usd, 0.00103, 1e-15);
  EXPECT_NEAR(v3.uncached_usd, 4000 * 0.27e-6, 1e-15);
}

TEST(LedgerRecordTest, JsonRoundTripAndRejections) {
  LedgerRecord r = Record(3000, 1000, 500);
  r.tenant = "acme \"corp\"\n";
  r.hit_disk_tokens = 1200;
  r.kv_byte_seconds = 123.5;
  r.expert_stall_s = 0.25;
  auto back = ParseRecord(nlohmann::json::parse(RecordJson(r).dump()));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(RecordJson(*back), RecordJson(r));
  EXPECT_EQ(back->tenant, r.tenant);
  EXPECT_EQ(back->hit_disk_tokens, 1200);
  const auto with = [&](const char* key, nlohmann::json value) {
    nlohmann::json j = RecordJson(r);
    j[key] = std::move(value);
    return ParseRecord(j).ok();
  };
  EXPECT_FALSE(with("v", 2));                   // another format version
  EXPECT_FALSE(with("hit_tokens", -1));         // negative count
  EXPECT_FALSE(with("hit_tokens", 2999));       // hits + misses ≠ prompt
  EXPECT_FALSE(with("hit_disk_tokens", 3001));  // more from disk than hits
  EXPECT_FALSE(with("wall_s", "fast"));         // a string for a number
  EXPECT_FALSE(with("tenant", 7));              // a number for a string
  EXPECT_FALSE(with("total_usd", -0.5));
  EXPECT_FALSE(with("output_tokens", int64_t{1} << 41));               // past 2^40: sums could overflow
  EXPECT_FALSE(with("output_tokens", uint64_t{1} << 63));              // read as a negative int64
  EXPECT_FALSE(with("time", 1e300));                                  // no calendar day (and no UB casting it)
  EXPECT_FALSE(ParseRecord(nlohmann::json::array()).ok());
  EXPECT_TRUE(with("unknown_field", 1));        // later fields are ignored
}

TEST(LedgerLogTest, AppendsRotatesAndReadsInOrder) {
  const std::string path = TempPath("rotate");
  auto log = LedgerLog::Open({.path = path, .rotate_bytes = 4096});
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  const int n = 60;  // ~900 bytes a line: several rotations
  for (int i = 0; i < n; ++i) ASSERT_TRUE((*log)->Append(Record(0, i + 1, 1)).ok());
  for (int k = 1; k <= 3; ++k) EXPECT_TRUE(fs::exists(path + "." + std::to_string(k))) << k;
  for (const auto& e : fs::directory_iterator(fs::path(path).parent_path())) EXPECT_LE(e.file_size(), 4096u) << e.path();
  auto c = ReadLedger(path);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_EQ(c->records.size(), static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) EXPECT_EQ(c->records[static_cast<size_t>(i)].miss_tokens, i + 1);  // oldest first
  EXPECT_EQ(c->bad_lines, 0);
  EXPECT_FALSE(ReadLedger(path + ".absent").ok());
}

TEST(LedgerLogTest, ATornLineIsSkippedAndTheNextRecordStaysWhole) {
  const std::string path = TempPath("torn");
  {
    auto log = LedgerLog::Open({.path = path});
    ASSERT_TRUE(log.ok());
    ASSERT_TRUE((*log)->Append(Record(0, 1, 1)).ok());
  }
  {  // a crash mid-write left half a line
    std::ofstream f(path, std::ios::app);
    f << R"({"v":1,"prompt_tokens":5,"miss)";
  }
  auto log = LedgerLog::Open({.path = path});
  ASSERT_TRUE(log.ok());
  ASSERT_TRUE((*log)->Append(Record(0, 2, 1)).ok());
  {
    std::ofstream f(path, std::ios::app);
    f << "not json\n" << R"({"v":1,"prompt_tokens":5,"hit_tokens":1,"miss_tokens":1})" << "\n";
  }
  auto c = ReadLedger(path);
  ASSERT_TRUE(c.ok());
  ASSERT_EQ(c->records.size(), 2u);
  EXPECT_EQ(c->records[1].miss_tokens, 2);
  EXPECT_EQ(c->bad_lines, 3);  // the torn line, "not json", the record whose tokens do not add up
  EXPECT_NE(c->first_bad.find(":2:"), std::string::npos) << c->first_bad;
}

TEST(LedgerLogTest, ProcessesAppendingToOnePathLoseNothing) {
  const std::string path = TempPath("procs");
  const int per_child = 150, children = 3;
  std::vector<pid_t> pids;
  for (int c = 0; c < children; ++c) {
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      auto log = LedgerLog::Open({.path = path, .rotate_bytes = 16384});
      int bad = log.ok() ? 0 : 1;
      for (int i = 0; i < per_child && bad == 0; ++i) bad += (*log)->Append(Record(c, 1000 * c + i, 1)).ok() ? 0 : 1;
      _exit(bad);
    }
    pids.push_back(pid);
  }
  for (pid_t pid : pids) {
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  auto c = ReadLedger(path);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->bad_lines, 0);
  ASSERT_EQ(c->records.size(), static_cast<size_t>(per_child * children));
  // Each process's records in its own order, none twice.
  std::vector<int64_t> next(children, 0);
  for (const LedgerRecord& r : c->records) {
    const auto child = static_cast<size_t>(r.hit_tokens);
    EXPECT_EQ(r.miss_tokens, 1000 * r.hit_tokens + next[child]++);
  }
}

TEST(LedgerLogTest, TheWriterWritesEverythingBeforeItGoes) {
  const std::string path = TempPath("writer");
  {
    auto log = LedgerLog::Open({.path = path});
    ASSERT_TRUE(log.ok());
    LedgerWriter w(std::move(*log));
    for (int i = 0; i < 40; ++i) w.Push(Record(0, i + 1, 1));
    w.Flush();
    EXPECT_EQ(w.written(), 40u);
    for (int i = 0; i < 10; ++i) w.Push(Record(0, 41 + i, 1));
  }  // the destructor drains
  auto c = ReadLedger(path);
  ASSERT_TRUE(c.ok());
  ASSERT_EQ(c->records.size(), 50u);
  EXPECT_EQ(c->records.back().miss_tokens, 50);
  // Not a regular file: an error, not a hang or a crash.
  EXPECT_FALSE(LedgerLog::Open({.path = fs::path(path).parent_path().string()}).ok());
}

// V3 at 100,000 tokens held for 10 s: latent 70,272 B a token, multi-head 4,997,120 B.
TEST(CounterfactualTest, EachLeverByHand) {
  LedgerRecord r = Record(3000, 1000, 500);
  r.kv_bytes_per_token = 70272;
  r.mha_bytes_per_token = 4997120;
  r.kv_peak_bytes = 100000 * 70272.0;          // 7.0272 GB
  r.kv_byte_seconds = 10 * r.kv_peak_bytes;     // 70.272 GB·s
  r.kv_bytes_read = 3 * r.kv_peak_bytes;        // 21.0816 GB
  r.prefill_s = 2;                              // for its 1,000 missed tokens
  r.decode_s = 2;
  r.expert_all_bytes = 10e9;
  r.expert_resident_bytes = 2.5e9;
  r.expert_stall_s = 0.5;
  LedgerTotals t;
  AddRecord(r, &t);
  Hardware hw;
  hw.name = "hand";
  hw.usd_per_hour = 3.6;  // $0.001 a second
  hw.amortize_years = 1;
  hw.tiers = {{.name = "ram", .gb = 768, .gbps = 100, .usd_per_gb = 31.536}};  // 31.536 / (365·86400 s) = $1e-6 per GB·s
  const Savings v = SavingsOf(t, hw);
  // Memory: multi-head peak 100,000 × 4,997,120 = 499.712 GB; saved 499.712 − 7.0272 = 492.6848 GB.
  EXPECT_NEAR(v.kv.peak_bytes, 492.6848e9, 1e3);
  EXPECT_NEAR(v.kv.byte_seconds, 4926.848e9, 1e4);
  EXPECT_NEAR(v.kv.bytes_read, 3 * 492.6848e9, 1e4);
  // Reading 1,478.0544 GB more at 100 GB/s: 14.780544 s.
  EXPECT_NEAR(v.kv.seconds, 14.780544, 1e-9);
  // 4,926.848 GB·s × $1e-6 + 14.780544 s × $0.001 = 0.004926848 + 0.014780544.
  EXPECT_NEAR(v.kv.usd, 0.019707392, 1e-12);
  // Body: 7.5 GB not resident for 4 compute seconds = 30 GB·s ($3e-5), but 0.5 s waited ($5e-4).
  EXPECT_NEAR(v.experts.peak_bytes, 7.5e9, 1);
  EXPECT_NEAR(v.experts.byte_seconds, 30e9, 1);
  EXPECT_NEAR(v.experts.seconds, -0.5, 1e-12);
  EXPECT_NEAR(v.experts.usd, 30e-6 - 0.5e-3, 1e-12);
  // Reuse: 3,000 hits at 2 s per 1,000 computed tokens = 6 s ($0.006); at the price sheet
  // 4,000 × 0.27 − (3,000 × 0.07 + 1,000 × 0.27), per 10^6 = 0.00108 − 0.00048 = $0.0006.
  EXPECT_NEAR(v.reuse.seconds, 6, 1e-12);
  EXPECT_NEAR(v.reuse.usd, 0.006, 1e-12);
  EXPECT_NEAR(v.reuse_price_usd, 0.0006, 1e-15);
  EXPECT_DOUBLE_EQ(v.reuse_tokens, 3000);
  // Without a hardware sheet: bytes, no money, no KV seconds.
  const Savings bare = SavingsOf(t, std::nullopt);
  EXPECT_FALSE(bare.priced_hardware);
  EXPECT_DOUBLE_EQ(bare.kv.usd, 0);
  EXPECT_DOUBLE_EQ(bare.kv.seconds, 0);
  EXPECT_NEAR(bare.kv.peak_bytes, 492.6848e9, 1e3);
}

TEST(LedgerReportTest, GroupsByTenantAndDay) {
  LedgerContents c;
  LedgerRecord a = Record(100, 900, 10), b = Record(500, 500, 20), d = Record(0, 1000, 30);
  a.tenant = "alice";
  b.tenant = "bob";
  d.tenant = "alice";
  d.time = a.time + 86400 + 5;  // the next day
  c.records = {a, b, d};
  c.files = {"x"};
  const LedgerReport by_tenant = BuildReport(c, GroupBy::kTenant, std::nullopt);
  EXPECT_EQ(by_tenant.all.generations, 3);
  EXPECT_EQ(by_tenant.all.sum.prompt_tokens, 3000);
  EXPECT_EQ(by_tenant.all.sum.hit_tokens, 600);
  ASSERT_EQ(by_tenant.groups.size(), 2u);
  EXPECT_EQ(by_tenant.groups[0].key, "alice");
  EXPECT_EQ(by_tenant.groups[0].totals.sum.output_tokens, 40);
  EXPECT_EQ(by_tenant.groups[0].totals.sum.hit_tokens, 100);
  // alice: 2,000 prompt tokens priced as misses − (100 × 0.07 + 1,900 × 0.27), per 10^6 =
  // 0.00054 − 0.00052 = $0.00002 saved.
  EXPECT_NEAR(by_tenant.groups[0].savings.reuse_price_usd, 0.00002, 1e-15);
  EXPECT_EQ(by_tenant.groups[1].key, "bob");
  const LedgerReport by_day = BuildReport(c, GroupBy::kDay, std::nullopt);
  ASSERT_EQ(by_day.groups.size(), 2u);
  EXPECT_EQ(by_day.groups[0].key, "2026-12-07");
  EXPECT_EQ(by_day.groups[1].key, "2026-12-08");
  EXPECT_EQ(by_day.groups[0].totals.generations, 2);
  const std::string text = ReportText(by_tenant, GroupBy::kTenant);
  EXPECT_NE(text.find("alice"), std::string::npos);
  EXPECT_NE(text.find("prompt 3000 (hit 600 = 20.0%"), std::string::npos) << text;
  const nlohmann::json j = ReportJson(by_day);
  EXPECT_EQ(j["tokens"]["prompt"], 3000);
  EXPECT_EQ(j["groups"].size(), 2u);
  const std::string svg = ReportSvg(by_tenant, GroupBy::kTenant);
  EXPECT_EQ(svg.rfind("<svg", 0), 0u);
  EXPECT_NE(svg.find(">alice<"), std::string::npos);
  EXPECT_FALSE(ParseGroupBy("week").ok());
}

}  // namespace
}  // namespace frugal::ledger
