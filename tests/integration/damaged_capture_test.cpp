// Bad input is the normal case: captures with a lost segment, cut short, started
// mid-session, or not captures at all. Each gives problems rows or a documented
// exit code, correct output for the rest, and never a crash.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <tuple>
#include <random>

#include "peer_session.hpp"
#include "store/database.hpp"

namespace {

using namespace sc::test;
using sc::store::Database;

class DamagedCapture : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto& s = shared_qemu_session();
    ASSERT_TRUE(s.error.empty()) << s.error;
    session_ = &s;
    dir_ = temp_dir(::testing::UnitTest::GetInstance()->current_test_info()->name());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  CommandResult import(const std::string& file, const std::string& db, const std::string& extra = "") {
    return run(spice_capture() + " import " + file + " --db " + db + " " + extra);
  }
  int64_t scalar(const std::string& db, const std::string& sql) {
    auto d = Database::open(db, Database::Mode::ReadOnly);
    EXPECT_TRUE(d.ok());
    if (!d.ok()) return -1;
    auto t = d->query(sql);
    EXPECT_TRUE(t.ok()) << (t.ok() ? "" : t.error().message);
    return t.ok() && !t->rows.empty() ? std::get<int64_t>(t->rows[0][0]) : -1;
  }

  const RecordedSession* session_ = nullptr;
  std::filesystem::path dir_;
};

// The TCP payload length of an Ethernet/IPv4/TCP frame on loopback (tcpdump -i lo).
size_t tcp_payload(const pcap_pkthdr& h, const u_char* d) {
  if (h.caplen < 14 + 20 + 20 || d[12] != 0x08 || d[13] != 0x00) return 0;
  const size_t ihl = (d[14] & 15) * 4u;
  const size_t total = static_cast<size_t>(d[16] << 8 | d[17]);
  const size_t thl = (d[14 + ihl + 12] >> 4) * 4u;
  return total > ihl + thl ? total - ihl - thl : 0;
}

TEST_F(DamagedCapture, LostSegmentGivesAGapAndTheRestDecodes) {
  // Drop one large server segment from the middle of the capture (display or main
  // data). Loopback captures occasionally hold a retransmitted copy of a segment;
  // dropping one of two copies loses nothing, so only segments seen once qualify.
  std::map<std::tuple<int, int, uint32_t>, int> copies;
  std::vector<std::pair<size_t, std::tuple<int, int, uint32_t>>> big;
  rewrite_pcap(session_->pcap.string(), path("scan.pcap"), [&](size_t i, const pcap_pkthdr& h, const u_char* d) {
    if (tcp_payload(h, d) > 1000) {
      const size_t tcp = 14 + (d[14] & 15) * 4u;
      const auto key = std::make_tuple(d[tcp] << 8 | d[tcp + 1], d[tcp + 2] << 8 | d[tcp + 3],
                                       static_cast<uint32_t>(d[tcp + 4]) << 24 | d[tcp + 5] << 16 | d[tcp + 6] << 8 |
                                           d[tcp + 7]);
      ++copies[key];
      big.emplace_back(i, key);
    }
    return false;
  });
  size_t victim = 0, count = 0;
  for (const auto& [i, key] : big) {
    if (copies[key] == 1 && ++count == 3) {
      victim = i;
      break;
    }
  }
  ASSERT_GT(victim, 0u);
  rewrite_pcap(session_->pcap.string(), path("lost.pcap"),
               [&](size_t i, const pcap_pkthdr&, const u_char*) { return i != victim; });
  auto r = import(path("lost.pcap"), path("lost.db"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(scalar(path("lost.db"), "SELECT count(*) FROM problems WHERE code = 'gap'"), 1);
  auto listed = run(spice_capture() + " problems --db " + path("lost.db") + " --severity error --json", 60, true);
  ASSERT_EQ(listed.exit_code, 0) << listed.output;
  auto problems = nlohmann::json::parse(listed.output);
  ASSERT_FALSE(problems.empty());
  EXPECT_EQ(problems[0]["code"], "gap");
  EXPECT_FALSE(problems[0]["channel"].is_null());
  // Inputs were untouched by the loss: all of them are still there.
  EXPECT_EQ(scalar(path("lost.db"), "SELECT count(*) FROM messages WHERE name = 'inputs.key_down'"), 3);
  EXPECT_EQ(scalar(path("lost.db"), "SELECT count(*) FROM sessions"), 2);
}

TEST_F(DamagedCapture, TruncatedFileImportsWhatIsThere) {
  const auto size = std::filesystem::file_size(session_->pcap);
  std::filesystem::copy_file(session_->pcap, path("cut.pcap"));
  std::filesystem::resize_file(path("cut.pcap"), size * 6 / 10 + 7);  // lands inside a packet
  auto r = import(path("cut.pcap"), path("cut.db"));
  EXPECT_EQ(r.exit_code, 6) << r.output;
  EXPECT_NE(r.output.find("truncated"), std::string::npos) << r.output;
  EXPECT_EQ(scalar(path("cut.db"), "SELECT count(*) FROM problems WHERE code = 'truncated_file'"), 1);
  EXPECT_GT(scalar(path("cut.db"), "SELECT count(*) FROM messages"), 20);
  EXPECT_EQ(scalar(path("cut.db"), "SELECT count(*) FROM messages WHERE name = 'main.init'"), 2);
}

TEST_F(DamagedCapture, MidSessionCaptureNeedsThePortAndResynchronises) {
  // Drop the first 12 packets of every TCP connection: handshakes and link stages are gone.
  std::map<std::pair<int, int>, int> seen;
  rewrite_pcap(session_->pcap.string(), path("late.pcap"), [&](size_t, const pcap_pkthdr& h, const u_char* d) {
    if (h.caplen < 14 + 20 + 4) return true;
    const size_t ihl = (d[14] & 15) * 4u;
    const int sport = d[14 + ihl] << 8 | d[15 + ihl], dport = d[16 + ihl] << 8 | d[17 + ihl];
    return ++seen[{std::min(sport, dport), std::max(sport, dport)}] > 12;
  });
  auto without = import(path("late.pcap"), path("late0.db"));
  EXPECT_EQ(without.exit_code, 5) << without.output;
  EXPECT_NE(without.output.find("--port"), std::string::npos);
  auto with = import(path("late.pcap"), path("late.db"), "--port " + std::to_string(session_->port));
  ASSERT_EQ(with.exit_code, 0) << with.output;
  EXPECT_GT(scalar(path("late.db"), "SELECT count(*) FROM channels WHERE midstream = 1 AND type_name IS NOT NULL"), 0);
  EXPECT_GT(scalar(path("late.db"), "SELECT count(*) FROM problems WHERE code = 'midstream'"), 0);
  EXPECT_GT(scalar(path("late.db"), "SELECT count(*) FROM messages WHERE name = 'display.draw_copy'"), 10);
}

TEST_F(DamagedCapture, GarbageIsNotACapture) {
  std::mt19937 rng(42);
  std::ofstream out(path("garbage.pcap"), std::ios::binary);
  for (int i = 0; i < 100000; ++i) out.put(static_cast<char>(rng()));
  out.close();
  auto r = import(path("garbage.pcap"), path("g.db"));
  EXPECT_EQ(r.exit_code, 4) << r.output;
  EXPECT_NE(r.output.find("not a pcap"), std::string::npos) << r.output;
}

TEST_F(DamagedCapture, GarbageInsideTcpStreamsIsFlaggedNotFatal) {
  // Scramble the payload bytes of every tenth data packet after the link stages.
  std::mt19937 rng(7);
  std::vector<u_char> copy;
  char err[PCAP_ERRBUF_SIZE];
  pcap_t* src = pcap_open_offline(session_->pcap.c_str(), err);
  ASSERT_NE(src, nullptr);
  pcap_dumper_t* dst = pcap_dump_open(src, path("scrambled.pcap").c_str());
  pcap_pkthdr* h;
  const u_char* d;
  size_t i = 0;
  while (pcap_next_ex(src, &h, &d) == 1) {
    copy.assign(d, d + h->caplen);
    const size_t payload = tcp_payload(*h, d);
    if (++i > 80 && i % 10 == 0 && payload > 0) {
      for (size_t k = h->caplen - payload; k < h->caplen; ++k) copy[k] = static_cast<u_char>(rng());
    }
    pcap_dump(reinterpret_cast<u_char*>(dst), h, copy.data());
  }
  pcap_dump_close(dst);
  pcap_close(src);
  auto r = import(path("scrambled.pcap"), path("s.db"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_GT(scalar(path("s.db"), "SELECT count(*) FROM problems"), 0);
  EXPECT_EQ(scalar(path("s.db"), "SELECT count(*) FROM sessions"), 2);
}

TEST_F(DamagedCapture, CliErrorsHaveDocumentedExitCodes) {
  EXPECT_EQ(import(path("missing.pcap"), path("m.db")).exit_code, 3);
  auto bad_db = import(session_->pcap.string(), "/proc/no-such-dir/x.db");
  EXPECT_EQ(bad_db.exit_code, 7) << bad_db.output;
  // A file that is SQLite but not ours is refused, not modified.
  run("sqlite3 " + path("other.db") + " 'CREATE TABLE t(x)'");
  EXPECT_EQ(import(session_->pcap.string(), path("other.db")).exit_code, 7);
  EXPECT_EQ(run(spice_capture() + " messages --db " + path("nothing.db")).exit_code, 7);
  EXPECT_EQ(run(spice_capture() + " frobnicate").exit_code, 2);
}

TEST_F(DamagedCapture, ReimportingAddsASecondCaptureAtomically) {
  ASSERT_EQ(import(session_->pcap.string(), path("twice.db")).exit_code, 0);
  const int64_t once = scalar(path("twice.db"), "SELECT count(*) FROM messages");
  ASSERT_EQ(import(session_->pcap.string(), path("twice.db")).exit_code, 0);
  EXPECT_EQ(scalar(path("twice.db"), "SELECT count(*) FROM messages"), 2 * once);
  EXPECT_EQ(scalar(path("twice.db"), "SELECT count(*) FROM captures"), 2);
  EXPECT_EQ(scalar(path("twice.db"), "SELECT count(*) FROM pragma_integrity_check WHERE integrity_check = 'ok'"), 1);
}

}  // namespace
