// replicate_pcap: makes a large benchmark capture from a real one by repeating it
// with every copy's client moved to its own loopback address (127.1.x.y) and its
// timestamps shifted past the previous copy, so each copy is a distinct set of
// connections to the same server port.
//
//   replicate_pcap IN.pcap OUT.pcap SERVER_PORT MIN_MEGABYTES
#include <pcap/pcap.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

namespace {

struct Packet {
  pcap_pkthdr header;
  std::vector<u_char> data;
};

bool load(const char* path, std::vector<Packet>& out, int& linktype) {
  char err[PCAP_ERRBUF_SIZE];
  pcap_t* p = pcap_open_offline(path, err);
  if (!p) {
    std::fprintf(stderr, "replicate_pcap: %s\n", err);
    return false;
  }
  linktype = pcap_datalink(p);
  pcap_pkthdr* h;
  const u_char* d;
  while (pcap_next_ex(p, &h, &d) == 1) out.push_back({*h, std::vector<u_char>(d, d + h->caplen)});
  pcap_close(p);
  return true;
}

// Rewrites the client's IPv4 address of an Ethernet frame; false if it is not one.
bool move_client(std::vector<u_char>& f, uint16_t server_port, uint32_t copy) {
  if (f.size() < 14 + 20 + 4 || f[12] != 0x08 || f[13] != 0x00) return false;
  const size_t ihl = (f[14] & 15) * 4u;
  if (f[14 + 9] != 6 || f.size() < 14 + ihl + 4) return false;
  const uint16_t sport = static_cast<uint16_t>(f[14 + ihl] << 8 | f[15 + ihl]);
  const size_t addr = sport == server_port ? 14 + 16 : 14 + 12;  // destination or source
  f[addr] = 127;
  f[addr + 1] = 1;
  f[addr + 2] = static_cast<u_char>(copy >> 8);
  f[addr + 3] = static_cast<u_char>(copy & 0xff);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: %s IN.pcap OUT.pcap SERVER_PORT MIN_MEGABYTES\n", argv[0]);
    return 2;
  }
  std::vector<Packet> packets;
  int linktype = 0;
  if (!load(argv[1], packets, linktype) || packets.empty()) return 1;
  if (linktype != DLT_EN10MB) {
    std::fprintf(stderr, "replicate_pcap: only Ethernet captures (tcpdump -i lo) are supported\n");
    return 1;
  }
  const auto server_port = static_cast<uint16_t>(std::atoi(argv[3]));
  const uint64_t target = std::strtoull(argv[4], nullptr, 10) << 20;
  const uint64_t in_size = std::filesystem::file_size(argv[1]);
  const uint32_t copies = static_cast<uint32_t>((target + in_size - 1) / in_size);
  const timeval first = packets.front().header.ts, last = packets.back().header.ts;
  const int64_t span_us = (last.tv_sec - first.tv_sec) * 1000000LL + (last.tv_usec - first.tv_usec) + 1000;

  pcap_t* dead = pcap_open_dead(DLT_EN10MB, 262144);
  pcap_dumper_t* out = pcap_dump_open(dead, argv[2]);
  if (!out) {
    std::fprintf(stderr, "replicate_pcap: %s\n", pcap_geterr(dead));
    return 1;
  }
  for (uint32_t c = 0; c < copies; ++c) {
    for (auto& p : packets) {
      std::vector<u_char> frame = p.data;
      move_client(frame, server_port, c + 1);
      pcap_pkthdr h = p.header;
      const int64_t us = h.ts.tv_usec + c * span_us;
      h.ts.tv_sec += us / 1000000;
      h.ts.tv_usec = us % 1000000;
      pcap_dump(reinterpret_cast<u_char*>(out), &h, frame.data());
    }
  }
  pcap_dump_close(out);
  pcap_close(dead);
  std::printf("%u copies, %llu bytes\n", copies, static_cast<unsigned long long>(std::filesystem::file_size(argv[2])));
  return 0;
}
