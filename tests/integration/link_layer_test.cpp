// The same real session seen through every link layer the importer reads
// (Ethernet, Linux cooked v1 and v2, BSD null/loopback, raw IP), as pcapng, and
// carried over IPv6 instead of IPv4, decodes to exactly the same messages.
#include <gtest/gtest.h>

#include <functional>
#include <map>

#include "peer_session.hpp"
#include "store/database.hpp"

namespace {

using namespace sc::test;
using Frame = std::vector<u_char>;

// Rewrites an Ethernet/IPv4 capture frame by frame into another link type.
bool convert(const std::string& in, const std::string& out, int linktype, const std::function<Frame(const Frame&)>& f) {
  char err[PCAP_ERRBUF_SIZE];
  pcap_t* src = pcap_open_offline(in.c_str(), err);
  if (!src) return false;
  pcap_t* dead = pcap_open_dead(linktype, 262144);
  pcap_dumper_t* dst = pcap_dump_open(dead, out.c_str());
  pcap_pkthdr* h;
  const u_char* d;
  while (pcap_next_ex(src, &h, &d) == 1) {
    Frame frame = f(Frame(d, d + h->caplen));
    pcap_pkthdr nh = *h;
    nh.caplen = static_cast<bpf_u_int32>(frame.size());
    nh.len = static_cast<bpf_u_int32>(h->len - h->caplen + frame.size());
    pcap_dump(reinterpret_cast<u_char*>(dst), &nh, frame.data());
  }
  pcap_dump_close(dst);
  pcap_close(dead);
  pcap_close(src);
  return true;
}

Frame ip_of(const Frame& eth) { return Frame(eth.begin() + 14, eth.end()); }

Frame with_prefix(std::initializer_list<u_char> prefix, const Frame& ip) {
  Frame out(prefix);
  out.insert(out.end(), ip.begin(), ip.end());
  return out;
}

// The same TCP segment in an IPv6 packet between ::1-style addresses derived
// from the IPv4 ones (checksums are not checked by the importer).
Frame to_ipv6(const Frame& ip4) {
  const size_t ihl = (ip4[0] & 15) * 4u;
  const size_t total = static_cast<size_t>(ip4[2] << 8 | ip4[3]);
  Frame v6(40, 0);
  v6[0] = 0x60;
  const size_t payload = total - ihl;
  v6[4] = static_cast<u_char>(payload >> 8);
  v6[5] = static_cast<u_char>(payload);
  v6[6] = ip4[9];
  v6[7] = 64;
  v6[8 + 15] = ip4[15];   // src ::x where x is the last IPv4 byte
  v6[24 + 15] = ip4[19];  // dst
  v6.insert(v6.end(), ip4.begin() + static_cast<std::ptrdiff_t>(ihl), ip4.begin() + static_cast<std::ptrdiff_t>(total));
  return v6;
}

class LinkLayers : public ::testing::Test {
 protected:
  void SetUp() override {
    session_ = &shared_qemu_session();
    ASSERT_TRUE(session_->error.empty()) << session_->error;
    dir_ = temp_dir("linklayers");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // name -> count of every message name, from an import of `file`.
  std::map<std::string, int64_t> census(const std::string& file) {
    const std::string db = file + ".db";
    auto r = run(spice_capture() + " import " + file + " --db " + db);
    EXPECT_EQ(r.exit_code, 0) << r.output;
    auto d = sc::store::Database::open(db, sc::store::Database::Mode::ReadOnly);
    EXPECT_TRUE(d.ok());
    std::map<std::string, int64_t> out;
    if (!d.ok()) return out;
    auto t = d->query("SELECT name || ' ' || direction, count(*) FROM messages GROUP BY 1");
    for (const auto& row : t->rows) out[std::get<std::string>(row[0])] = std::get<int64_t>(row[1]);
    auto problems = d->query("SELECT count(*) FROM problems WHERE severity = 'error'");
    EXPECT_EQ(std::get<int64_t>(problems->rows[0][0]), 0) << file;
    return out;
  }
  std::string path(const std::string& n) const { return (dir_ / n).string(); }

  const RecordedSession* session_ = nullptr;
  std::filesystem::path dir_;
};

TEST_F(LinkLayers, EveryLinkLayerAndIpv6DecodeTheSame) {
  const std::string src = session_->pcap.string();
  const auto reference = census(src);
  ASSERT_GT(reference.size(), 20u);
  struct Variant {
    std::string name;
    int linktype;
    std::function<Frame(const Frame&)> f;
  };
  const std::vector<Variant> variants = {
      {"null.pcap", DLT_NULL, [](const Frame& e) { return with_prefix({2, 0, 0, 0}, ip_of(e)); }},
      {"loop.pcap", DLT_LOOP, [](const Frame& e) { return with_prefix({0, 0, 0, 2}, ip_of(e)); }},
      {"raw.pcap", DLT_RAW, ip_of},
      {"sll.pcap", DLT_LINUX_SLL,
       [](const Frame& e) { return with_prefix({0, 0, 3, 4, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0x08, 0x00}, ip_of(e)); }},
      {"sll2.pcap", DLT_LINUX_SLL2,
       [](const Frame& e) {
         return with_prefix({0x08, 0x00, 0, 0, 0, 0, 0, 1, 3, 4, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0}, ip_of(e));
       }},
      {"ipv6.pcap", DLT_RAW, [](const Frame& e) { return to_ipv6(ip_of(e)); }},
  };
  for (const auto& v : variants) {
    SCOPED_TRACE(v.name);
    ASSERT_TRUE(convert(src, path(v.name), v.linktype, v.f));
    EXPECT_EQ(census(path(v.name)), reference);
  }
  // pcapng, written by Wireshark's own editcap.
  auto r = run("editcap -F pcapng " + src + " " + path("ng.pcapng"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(census(path("ng.pcapng")), reference);
}

}  // namespace
