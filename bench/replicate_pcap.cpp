// replicate_pcap: makes a large benchmark capture from a real one by repeating it
// with every copy's client moved to its own loopback address (127.1.x.y), its
// timestamps shifted past the previous copy, and its SPICE session id changed
// (in main.init and in every channel's link message), so each copy is a distinct
// session of distinct connections to the same server port, as a capture of many
// real sessions would be.
//
//   replicate_pcap IN.pcap OUT.pcap SERVER_PORT MIN_MEGABYTES
//
// Session ids are found in the streams' first bytes (link stage, then the main
// channel's first message); connections whose handshake the capture lacks keep
// theirs. IP and TCP checksums are not recomputed (tshark and spice-capture do
// not check them by default).
#include <pcap/pcap.h>
#include <spice/enums.h>
#include <spice/protocol.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <string>
#include <tuple>
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

uint16_t be16(const u_char* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
uint32_t be32(const u_char* p) { return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3]; }
uint32_t le32(const u_char* p) { return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24; }
uint16_t le16(const u_char* p) { return static_cast<uint16_t>(p[0] | p[1] << 8); }

// An Ethernet + IPv4 + TCP frame, as far as replication needs it.
struct Tcp {
  size_t ip = 14;         // IPv4 header offset
  size_t payload = 0;     // payload offset in the frame
  size_t length = 0;      // payload bytes
  uint16_t sport = 0, dport = 0;
  uint32_t seq = 0;
  bool syn = false;
};

bool parse(const std::vector<u_char>& f, Tcp& t) {
  if (f.size() < 14 + 20 || f[12] != 0x08 || f[13] != 0x00) return false;
  const size_t ihl = (f[14] & 15) * 4u;
  if (f[14 + 9] != 6 || f.size() < 14 + ihl + 20) return false;
  const size_t tcp = 14 + ihl;
  const size_t doff = (f[tcp + 12] >> 4) * 4u;
  // A total length of 0 (segmentation offload) means "the rest of the frame".
  const size_t ip_length = be16(&f[16]);
  const size_t ip_end = ip_length ? std::min<size_t>(f.size(), 14 + ip_length) : f.size();
  if (tcp + doff > ip_end) return false;
  t.sport = be16(&f[tcp]);
  t.dport = be16(&f[tcp + 2]);
  t.seq = be32(&f[tcp + 4]);
  t.syn = f[tcp + 13] & 0x02;
  t.payload = tcp + doff;
  t.length = ip_end - t.payload;
  return true;
}

// Rewrites the client's IPv4 address of an Ethernet frame.
void move_client(std::vector<u_char>& f, const Tcp& t, uint16_t server_port, uint32_t copy) {
  const size_t addr = t.ip + (t.sport == server_port ? 16 : 12);  // destination or source
  f[addr] = 127;
  f[addr + 1] = 1;
  f[addr + 2] = static_cast<u_char>(copy >> 8);
  f[addr + 3] = static_cast<u_char>(copy & 0xff);
}

// The first bytes of one direction of one connection, and the packets that
// carried them.
struct Stream {
  static constexpr size_t kKept = 512;  // enough for the link stage and the first message
  bool started = false;                 // the SYN was seen: offsets are known
  uint32_t isn = 0;                     // sequence number of stream offset 0
  std::vector<u_char> bytes = std::vector<u_char>(kKept);
  std::vector<bool> have = std::vector<bool>(kKept);
  struct Segment {
    size_t packet, payload;  // packet index, payload offset in its frame
    uint32_t from, length;   // stream offset and bytes (within kKept)
  };
  std::vector<Segment> segments;

  bool known(size_t at, size_t n) const {
    if (at + n > kKept) return false;
    for (size_t i = at; i < at + n; ++i) {
      if (!have[i]) return false;
    }
    return true;
  }
};

// A 4-byte session id at a stream offset, and its value in the original.
struct IdField {
  const Stream* stream;
  uint32_t at;
  uint32_t value;
};

uint32_t session_for_copy(uint32_t id, uint32_t copy) {
  const uint32_t v = id ^ (copy * 0x9e3779b9u);  // distinct per copy, never 0 for a nonzero id
  return v != 0 ? v : 1;
}

// Finds every session id in the streams: each non-main channel's link message
// names its session; the main channel's first message (main.init) announces it.
std::vector<IdField> find_session_ids(const std::map<std::tuple<uint32_t, uint16_t, bool>, Stream>& streams) {
  std::vector<IdField> out;
  for (const auto& [key, c2s] : streams) {
    const auto& [ip, port, to_server] = key;
    if (!to_server || !c2s.known(0, 22) || le32(&c2s.bytes[0]) != SPICE_MAGIC) continue;
    const uint32_t connection_id = le32(&c2s.bytes[16]);
    const uint8_t channel_type = c2s.bytes[20];
    if (connection_id != 0) out.push_back({&c2s, 16, connection_id});
    if (channel_type != SPICE_CHANNEL_MAIN) continue;
    const auto it = streams.find({ip, port, false});
    if (it == streams.end()) continue;
    const Stream& s2c = it->second;
    if (!s2c.known(0, 16) || le32(&s2c.bytes[0]) != SPICE_MAGIC) continue;
    const size_t data = 16 + le32(&s2c.bytes[12]) + 4;  // link header, reply, link result
    // Mini header: type u16, size u32; full header: serial u64, type u16, size u32, sub_list u32.
    if (s2c.known(data, 10) && le16(&s2c.bytes[data]) == SPICE_MSG_MAIN_INIT) {
      out.push_back({&s2c, static_cast<uint32_t>(data + 6), le32(&s2c.bytes[data + 6])});
    } else if (s2c.known(data, 22) && le16(&s2c.bytes[data + 8]) == SPICE_MSG_MAIN_INIT) {
      out.push_back({&s2c, static_cast<uint32_t>(data + 18), le32(&s2c.bytes[data + 18])});
    }
  }
  return out;
}

// One byte to rewrite in every copy: byte `k` of session id `field`.
struct BytePatch {
  size_t offset;  // in the frame
  size_t field;
  unsigned k;
};

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

  // The streams' first bytes, keyed by (client address, client port, toward the server).
  std::vector<Tcp> tcp(packets.size());
  std::vector<bool> is_tcp(packets.size());
  std::map<std::tuple<uint32_t, uint16_t, bool>, Stream> streams;
  for (size_t i = 0; i < packets.size(); ++i) {
    Tcp& t = tcp[i];
    if (!(is_tcp[i] = parse(packets[i].data, t))) continue;
    const bool to_server = t.dport == server_port;
    if (!to_server && t.sport != server_port) continue;
    const uint32_t client_ip = be32(&packets[i].data[t.ip + (to_server ? 12 : 16)]);
    Stream& s = streams[{client_ip, to_server ? t.sport : t.dport, to_server}];
    if (t.syn) {
      s.started = true;
      s.isn = t.seq + 1;
      continue;
    }
    if (!s.started || t.length == 0) continue;
    const uint32_t from = t.seq - s.isn;
    if (from >= Stream::kKept) continue;
    const auto n = static_cast<uint32_t>(std::min<size_t>(t.length, Stream::kKept - from));
    std::memcpy(&s.bytes[from], &packets[i].data[t.payload], n);
    for (uint32_t k = 0; k < n; ++k) s.have[from + k] = true;
    s.segments.push_back({i, t.payload, from, n});
  }
  const std::vector<IdField> ids = find_session_ids(streams);
  std::vector<std::vector<BytePatch>> patches(packets.size());
  for (size_t f = 0; f < ids.size(); ++f) {
    for (const auto& seg : ids[f].stream->segments) {
      for (unsigned k = 0; k < 4; ++k) {
        const uint32_t at = ids[f].at + k;
        if (at >= seg.from && at < seg.from + seg.length) patches[seg.packet].push_back({seg.payload + at - seg.from, f, k});
      }
    }
  }

  pcap_t* dead = pcap_open_dead(DLT_EN10MB, 262144);
  pcap_dumper_t* out = pcap_dump_open(dead, argv[2]);
  if (!out) {
    std::fprintf(stderr, "replicate_pcap: %s\n", pcap_geterr(dead));
    return 1;
  }
  for (uint32_t c = 0; c < copies; ++c) {
    for (size_t i = 0; i < packets.size(); ++i) {
      const Packet& p = packets[i];
      std::vector<u_char> frame = p.data;
      if (is_tcp[i]) move_client(frame, tcp[i], server_port, c + 1);
      for (const auto& b : patches[i]) {
        frame[b.offset] = static_cast<u_char>(session_for_copy(ids[b.field].value, c + 1) >> (8 * b.k));
      }
      pcap_pkthdr h = p.header;
      const int64_t us = h.ts.tv_usec + c * span_us;
      h.ts.tv_sec += us / 1000000;
      h.ts.tv_usec = us % 1000000;
      pcap_dump(reinterpret_cast<u_char*>(out), &h, frame.data());
    }
  }
  pcap_dump_close(out);
  pcap_close(dead);
  std::printf("%u copies, %llu bytes, %zu session id fields renumbered per copy\n", copies,
              static_cast<unsigned long long>(std::filesystem::file_size(argv[2])), ids.size());
  return 0;
}
