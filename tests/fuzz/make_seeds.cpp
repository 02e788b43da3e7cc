// Makes the seed corpora of the four fuzz targets from one real capture, in each
// target's input format (see the comment at the top of each fuzz_*.cpp):
//   fuzz_pcap        small pcap files cut from the capture: its start, one per TCP
//                    connection, one from the middle (no link stage), and the start
//                    again over IPv6 with an extension header
//   fuzz_reassembly  the capture's segment pattern (flags, order, retransmissions)
//   fuzz_framing     each SPICE connection's reassembled streams: from the link
//                    stage, from mid-session, and with a gap
//   fuzz_messages    message bodies as framed by the importer, up to 3 per message,
//                    behind their selector (channel, direction, type, caps, sub-list);
//                    agent messages too, reassembled, under the agent caps in force
//   fuzz_agent       each main channel's agent traffic as records: from its start,
//                    and from the middle behind a mid-session marker
//   fuzz_display     each display channel's messages as records, from its start, in
//                    files of at most 256 KiB (real surfaces, draws, images, streams)
//   fuzz_audio       the capture's playback, record and multimedia-clock messages
//                    as records in capture order, with its losses (real modes,
//                    starts, Opus packets both ways)
//
// Why: random bytes rarely get past REDQ, a link reply or a plausible header;
// real traffic takes the fuzzers straight to the message decoders.
//
// Usage: make_seeds CAPTURE OUTDIR   (writes OUTDIR/<target>/...)
#include <pcap/pcap.h>
#include <spice/enums.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "capture/importer.hpp"
#include "dissect/agent/conversation.hpp"
#include "dissect/decode/decoder.hpp"
#include "dissect/proto/spice.hpp"

namespace {

namespace fs = std::filesystem;
using namespace sc::capture;  // NOLINT
using Bytes = std::vector<uint8_t>;

constexpr size_t kPcapSeedBytes = 48u << 10;
constexpr size_t kStreamSeedBytes = 32u << 10;
constexpr size_t kBodySeedBytes = 8u << 10;

struct StoredPacket {
  uint64_t ts_ns;
  Bytes data;
  uint32_t original_length;
};

void put16(Bytes& b, uint32_t v) {
  b.push_back(static_cast<uint8_t>(v));
  b.push_back(static_cast<uint8_t>(v >> 8));
}
void put32(Bytes& b, uint32_t v) {
  put16(b, v & 0xffff);
  put16(b, v >> 16);
}

void write_file(const fs::path& path, const Bytes& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

// ---- fuzz_pcap: packets of the capture, written back as small pcap files ----------

void write_pcap(const fs::path& path, int linktype, const std::vector<const StoredPacket*>& packets) {
  pcap_t* dead = pcap_open_dead_with_tstamp_precision(linktype, 262144, PCAP_TSTAMP_PRECISION_NANO);
  pcap_dumper_t* d = pcap_dump_open(dead, path.c_str());
  if (!d) {
    std::fprintf(stderr, "make_seeds: %s: %s\n", path.c_str(), pcap_geterr(dead));
    std::exit(1);
  }
  for (const auto* p : packets) {
    pcap_pkthdr h{};
    h.ts.tv_sec = static_cast<time_t>(p->ts_ns / 1'000'000'000);
    h.ts.tv_usec = static_cast<suseconds_t>(p->ts_ns % 1'000'000'000);  // nanoseconds: see the precision above
    h.caplen = static_cast<uint32_t>(p->data.size());
    h.len = p->original_length;
    pcap_dump(reinterpret_cast<u_char*>(d), &h, p->data.data());
  }
  pcap_dump_close(d);
  pcap_close(dead);
}

std::vector<const StoredPacket*> first_bytes(const std::vector<const StoredPacket*>& from, size_t limit) {
  std::vector<const StoredPacket*> out;
  size_t bytes = 24;
  for (const auto* p : from) {
    if (bytes + 16 + p->data.size() > limit && !out.empty()) break;
    bytes += 16 + p->data.size();
    out.push_back(p);
  }
  return out;
}

// A TCP connection, the same key for either direction.
using FourTuple = std::pair<Endpoint, Endpoint>;
struct TupleLess {
  bool operator()(const FourTuple& a, const FourTuple& b) const {
    return std::tie(a.first.addr, a.first.port, a.second.addr, a.second.port) <
           std::tie(b.first.addr, b.first.port, b.second.addr, b.second.port);
  }
};
FourTuple key_of(const TcpSegment& s) {
  const bool swap = std::tie(s.dst.addr, s.dst.port) < std::tie(s.src.addr, s.src.port);
  return swap ? FourTuple{s.dst, s.src} : FourTuple{s.src, s.dst};
}

// The same TCP segment over IPv6 with a hop-by-hop options header (loopback
// captures are IPv4 only), or an empty packet when it is not Ethernet + IPv4.
StoredPacket as_ipv6(const StoredPacket& p) {
  StoredPacket out{p.ts_ns, {}, 0};
  const Bytes& f = p.data;
  if (f.size() < 34 || f[12] != 0x08 || f[13] != 0x00 || (f[14] >> 4) != 4) return out;
  const size_t ihl = (f[14] & 15) * 4u;
  const size_t total = static_cast<size_t>(f[16]) << 8 | f[17];
  if (ihl < 20 || total < ihl || 14 + total > f.size()) return out;
  const size_t l4 = total - ihl;
  out.data.assign(f.begin(), f.begin() + 12);
  out.data.insert(out.data.end(), {0x86, 0xdd});
  const size_t payload = 8 + l4;
  out.data.insert(out.data.end(), {0x60, 0, 0, 0, static_cast<uint8_t>(payload >> 8), static_cast<uint8_t>(payload), 0, 64});
  for (int end = 0; end < 2; ++end) {  // ::ffff:a.b.c.d, the IPv4-mapped form of the original address
    out.data.insert(out.data.end(), {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff});
    out.data.insert(out.data.end(), f.begin() + 26 + 4 * end, f.begin() + 30 + 4 * end);
  }
  out.data.insert(out.data.end(), {6, 0, 1, 4, 0, 0, 0, 0});  // next: TCP; PadN option
  out.data.insert(out.data.end(), f.begin() + static_cast<std::ptrdiff_t>(14 + ihl), f.begin() + static_cast<std::ptrdiff_t>(14 + total));
  out.original_length = static_cast<uint32_t>(out.data.size());
  return out;
}

void pcap_seeds(const fs::path& dir, int linktype, const std::vector<StoredPacket>& packets) {
  std::vector<const StoredPacket*> all;
  for (const auto& p : packets) all.push_back(&p);
  write_pcap(dir / "start", linktype, first_bytes(all, kPcapSeedBytes));
  if (linktype == DLT_EN10MB) {
    std::vector<StoredPacket> v6;
    for (const auto* p : first_bytes(all, kPcapSeedBytes / 2)) {
      if (auto q = as_ipv6(*p); !q.data.empty()) v6.push_back(std::move(q));
    }
    std::vector<const StoredPacket*> list;
    for (const auto& p : v6) list.push_back(&p);
    if (!list.empty()) write_pcap(dir / "start-ipv6", linktype, list);
  }
  write_pcap(dir / "middle", linktype,
             first_bytes({all.begin() + static_cast<std::ptrdiff_t>(all.size() / 2), all.end()}, kPcapSeedBytes));
  std::map<FourTuple, std::vector<const StoredPacket*>, TupleLess> by_connection;
  for (const auto* p : all) {
    if (auto seg = parse_tcp(linktype, p->data)) by_connection[key_of(*seg)].push_back(p);
  }
  int n = 0;
  for (const auto& [key, list] : by_connection) {
    if (n == 16) break;
    write_pcap(dir / ("connection-" + std::to_string(n++)), linktype, first_bytes(list, kPcapSeedBytes / 2));
  }
}

// ---- fuzz_reassembly: the segment pattern of the first connections ----------------

void reassembly_seeds(const fs::path& dir, int linktype, const std::vector<StoredPacket>& packets) {
  std::map<FourTuple, int, TupleLess> conn_of;
  std::map<FourTuple, Endpoint, TupleLess> initiator;
  std::map<std::pair<int, int>, uint32_t> high;  // (connection, direction) -> highest sequence sent
  Bytes records;
  uint64_t last_ts = packets.empty() ? 0 : packets.front().ts_ns;
  for (const auto& p : packets) {
    auto seg = parse_tcp(linktype, p.data);
    if (!seg || seg->fragment) continue;
    const FourTuple key = key_of(*seg);
    if (!conn_of.count(key)) {
      if (conn_of.size() == 4) continue;
      conn_of[key] = static_cast<int>(conn_of.size());
      initiator[key] = seg->src;
    }
    const int conn = conn_of[key];
    const int way = seg->src == initiator[key] ? 0 : 1;
    auto mine = high.find({conn, way});
    if (mine == high.end()) mine = high.emplace(std::make_pair(conn, way), seg->seq + ((seg->flags & kSyn) ? 1 : 0)).first;
    const auto peer = high.find({conn, 1 - way});
    const int32_t delta = static_cast<int32_t>(seg->seq - mine->second);
    const int32_t ack = peer == high.end() ? 0 : static_cast<int32_t>(seg->ack - peer->second) / 16;
    records.push_back(static_cast<uint8_t>(conn | way << 2 | (seg->flags & kSyn ? 0x10 : 0) | (seg->flags & kFin ? 0x20 : 0) |
                                           (seg->flags & kRst ? 0x40 : 0) | (seg->flags & kAck ? 0x80 : 0)));
    put16(records, static_cast<uint16_t>(static_cast<int16_t>(std::clamp(delta, -32768, 32767))));
    records.push_back(static_cast<uint8_t>(std::min<size_t>(seg->payload.size(), 255)));
    records.push_back(static_cast<uint8_t>(static_cast<int8_t>(std::clamp(ack, -128, 127))));
    // Capture time: steps of 4 ms after the 1 ms every record takes.
    const uint64_t dt = p.ts_ns > last_ts ? p.ts_ns - last_ts : 0;
    records.push_back(static_cast<uint8_t>(std::min<uint64_t>(dt / 4'000'000, 63)));
    last_ts = p.ts_ns;
    const uint32_t end = seg->seq + static_cast<uint32_t>(seg->payload.size()) + ((seg->flags & kSyn) ? 1 : 0);
    if (static_cast<int32_t>(end - mine->second) > 0) mine->second = end;
    if (records.size() >= 6 * 600) break;
  }
  // Default options and initial sequence numbers; then small caps and short timers
  // with sequence numbers about to wrap.
  Bytes a = {0, 0, 0, 0, 0};
  a.insert(a.end(), records.begin(), records.end());
  write_file(dir / "capture", a);
  Bytes b = {0x2b, 0x00, 0xf0, 0xff, 0xff};
  b.insert(b.end(), records.begin(), records.end());
  write_file(dir / "capture-wrap", b);
}

// ---- fuzz_framing: reassembled streams of each SPICE connection --------------------

struct StreamEvent {
  int side;
  bool gap;
  uint64_t gap_bytes;
  Bytes bytes;
};

class StreamRecorder : public StreamConsumer {
 public:
  std::map<uint32_t, std::vector<StreamEvent>> flows;
  void on_open(uint32_t, const Endpoint&, const Endpoint&, bool, uint64_t) override {}
  void on_data(uint32_t flow, int side, std::span<const uint8_t> b, uint64_t) override {
    flows[flow].push_back({side, false, 0, Bytes(b.begin(), b.end())});
  }
  void on_gap(uint32_t flow, int side, uint64_t bytes, uint64_t) override { flows[flow].push_back({side, true, bytes, {}}); }
  void on_close(uint32_t, uint64_t) override {}
};

void put_record(Bytes& out, bool s2c, bool gap, size_t n) {
  const uint8_t c = static_cast<uint8_t>((s2c ? 0x80 : 0) | (gap ? 0x40 : 0));
  if (n < 63) {
    out.push_back(static_cast<uint8_t>(c | n));
  } else {
    out.push_back(static_cast<uint8_t>(c | 63));
    put16(out, static_cast<uint32_t>(n));
  }
}

// The events from `first` on, as a fuzz_framing input of at most kStreamSeedBytes.
Bytes framing_input(uint8_t options, const std::vector<StreamEvent>& events, size_t first, int client_side,
                    size_t gap_at = SIZE_MAX) {
  Bytes out = {options};
  for (size_t i = first; i < events.size() && out.size() < kStreamSeedBytes; ++i) {
    const auto& e = events[i];
    const bool s2c = e.side != client_side;
    if (e.gap || i == gap_at) {
      put_record(out, s2c, true, std::min<uint64_t>(e.gap ? e.gap_bytes : e.bytes.size(), 65535));
      continue;
    }
    for (size_t at = 0; at < e.bytes.size() && out.size() < kStreamSeedBytes; at += 65535) {
      const size_t n = std::min<size_t>(e.bytes.size() - at, std::min<size_t>(65535, kStreamSeedBytes - out.size()));
      put_record(out, s2c, false, n);
      out.insert(out.end(), e.bytes.begin() + static_cast<std::ptrdiff_t>(at),
                 e.bytes.begin() + static_cast<std::ptrdiff_t>(at + n));
    }
  }
  return out;
}

void framing_seeds(const fs::path& dir, int linktype, const std::vector<StoredPacket>& packets) {
  StreamRecorder rec;
  TcpReassembler reassembler(rec);
  for (const auto& p : packets) {
    auto seg = parse_tcp(linktype, p.data);
    if (seg && !seg->fragment) reassembler.add(*seg, p.ts_ns);
  }
  reassembler.finish(packets.empty() ? 0 : packets.back().ts_ns);
  int n = 0;
  for (const auto& [flow, events] : rec.flows) {
    // The client is the side that sends REDQ first.
    int client_side = -1;
    for (const auto& e : events) {
      if (e.gap) continue;
      if (e.bytes.size() >= 4 && std::memcmp(e.bytes.data(), "REDQ", 4) == 0) client_side = e.side;
      break;
    }
    if (client_side < 0) continue;
    const std::string name = "connection-" + std::to_string(n++);
    write_file(dir / name, framing_input(0, events, 0, client_side));
    if (events.size() > 6) {
      // Mid-session: everything after the link stage's four steps, 2 KiB sniff window.
      write_file(dir / (name + "-midstream"), framing_input(1 | 2 << 1, events, 4, client_side));
      write_file(dir / (name + "-gap"), framing_input(0, events, 0, client_side, 5));
    }
  }
}

// ---- fuzz_messages: framed message bodies behind their selector --------------------

class MessageCollector : public ConnectionSink {
 public:
  explicit MessageCollector(fs::path dir) : dir_(std::move(dir)) {}
  void on_open(const ConnectionInfo&) override {}
  void on_problem(const ConnectionInfo&, const sc::framing::Problem&, const sc::framing::ChannelState&) override {}
  void on_close(const ConnectionInfo&, const sc::framing::ChannelState&, uint64_t) override {}
  void on_frame(const ConnectionInfo&, const sc::framing::Frame& f, const sc::framing::ChannelState& s) override {
    if (!f.def || f.undecodable) return;
    int& have = seen_[f.def->full_name];
    if (have >= 3 || (f.body.size() > kBodySeedBytes && have > 0)) return;
    const auto& caps = s.negotiated;
    Bytes in;
    in.push_back(f.def->channel_type);
    in.push_back(static_cast<uint8_t>((f.def->direction == sc::schema::Direction::S2C ? 1 : 0) |
                                      (caps.common.words.empty() ? 0 : 2) | (caps.channel.words.empty() ? 0 : 4)));
    put16(in, f.def->type);
    put32(in, caps.common.words.empty() ? 0 : caps.common.words[0]);
    put32(in, caps.channel.words.empty() ? 0 : caps.channel.words[0]);
    put32(in, f.sub_list);
    const auto body = f.body.first(std::min(f.body.size(), kBodySeedBytes));
    in.insert(in.end(), body.begin(), body.end());
    write_file(dir_ / (f.def->full_name + "-" + std::string(sc::schema::direction_name(f.def->direction)) + "-" +
                       std::to_string(have)),
               in);
    ++have;
  }

 private:
  fs::path dir_;
  std::map<std::string, int> seen_;
};

// ---- fuzz_agent: main-channel agent traffic as records ------------------------------

constexpr size_t kAgentSeedBytes = 64u << 10;

class AgentCollector : public ConnectionSink, private sc::agent::Listener {
 public:
  AgentCollector(fs::path agent_dir, fs::path messages_dir)
      : agent_dir_(std::move(agent_dir)), messages_dir_(std::move(messages_dir)) {}
  void on_open(const ConnectionInfo&) override {}
  void on_problem(const ConnectionInfo&, const sc::framing::Problem&, const sc::framing::ChannelState&) override {}
  void on_frame(const ConnectionInfo& c, const sc::framing::Frame& f, const sc::framing::ChannelState& s) override {
    if (!f.def || f.def->is_link() || s.channel_type != 1) return;
    const bool data = f.def->name == "agent_data";
    const bool control = f.def->name.starts_with("agent_") || f.def->name == "init";
    if (!data && !control) return;
    Bytes& rec = records_[c.id];
    Bytes payload;
    if (!data) put16(payload, f.type);
    payload.insert(payload.end(), f.body.begin(), f.body.begin() + ptrdiff_t(std::min<size_t>(f.body.size(), 0xfff0)));
    rec.push_back(static_cast<uint8_t>((f.dir == sc::schema::Direction::S2C ? 1 : 0) | (data ? 0 : 2)));
    put16(rec, static_cast<uint32_t>(payload.size()));
    rec.insert(rec.end(), payload.begin(), payload.end());
    // Agent messages themselves, for fuzz_messages, under the agent caps in force.
    auto& conv = conversations_[c.id];
    if (!conv) conv = std::make_unique<sc::agent::Conversation>(static_cast<sc::agent::Listener&>(*this));
    sc::decode::DecodedMessage m;
    sc::decode::decode_message(*f.def, f.body, s.negotiated, m);
    current_ = conv.get();
    conv->on_main_message(f.dir, m, f.body, 0, f.ts_ns);
  }
  void on_close(const ConnectionInfo& c, const sc::framing::ChannelState&, uint64_t) override {
    auto it = records_.find(c.id);
    if (it == records_.end() || it->second.empty()) return;
    const Bytes& r = it->second;
    const std::string base = "main-" + std::to_string(c.id);
    write_file(agent_dir_ / (base + "-start"), Bytes(r.begin(), r.begin() + ptrdiff_t(std::min(r.size(), kAgentSeedBytes))));
    // From the middle: walk to a record boundary there, behind a mid-session marker.
    size_t at = 0;
    while (at + 3 <= r.size() && at < r.size() / 2) at += 3 + (r[at + 1] | size_t{r[at + 2]} << 8);
    if (at < r.size()) {
      Bytes mid = {6, 0, 0};
      mid.insert(mid.end(), r.begin() + ptrdiff_t(at), r.begin() + ptrdiff_t(std::min(r.size(), at + kAgentSeedBytes)));
      write_file(agent_dir_ / (base + "-middle"), mid);
    }
  }

 private:
  void on_agent_message(const sc::agent::AgentMessageEvent& e) override {
    if (!e.def) return;
    int& have = seen_[e.def->full_name + std::string(sc::schema::direction_name(e.dir))];
    if (have >= 3 || (e.message.body.size() > kBodySeedBytes && have > 0)) return;
    const auto& caps = current_->negotiated().channel;
    Bytes in;
    in.push_back(sc::proto::kAgentLayer);
    in.push_back(static_cast<uint8_t>((e.dir == sc::schema::Direction::S2C ? 1 : 0) | (caps.words.empty() ? 0 : 4)));
    put16(in, e.def->type);
    put32(in, 0);
    put32(in, caps.words.empty() ? 0 : caps.words[0]);
    put32(in, 0);
    in.insert(in.end(), e.message.body.begin(),
              e.message.body.begin() + ptrdiff_t(std::min(e.message.body.size(), kBodySeedBytes)));
    write_file(messages_dir_ / (e.def->full_name + "-" + std::string(sc::schema::direction_name(e.dir)) + "-" +
                                std::to_string(have)),
               in);
    ++have;
  }

  fs::path agent_dir_, messages_dir_;
  std::map<uint32_t, Bytes> records_;
  std::map<uint32_t, std::unique_ptr<sc::agent::Conversation>> conversations_;
  sc::agent::Conversation* current_ = nullptr;
  std::map<std::string, int> seen_;
};

// ---- fuzz_display: a display channel's messages as records -------------------------

class DisplayCollector : public ConnectionSink {
 public:
  explicit DisplayCollector(fs::path dir) : dir_(std::move(dir)) {}
  ~DisplayCollector() override {
    for (auto& [id, bytes] : open_) flush(id);
  }
  void on_open(const ConnectionInfo&) override {}
  void on_problem(const ConnectionInfo&, const sc::framing::Problem&, const sc::framing::ChannelState&) override {}
  void on_close(const ConnectionInfo& c, const sc::framing::ChannelState&, uint64_t) override { flush(c.id); }
  void on_frame(const ConnectionInfo& c, const sc::framing::Frame& f, const sc::framing::ChannelState&) override {
    if (!f.def || f.undecodable || f.def->channel_type != SPICE_CHANNEL_DISPLAY) return;
    if (f.body.size() > 0xffff) return;  // a record's length is 16 bits
    Bytes& b = open_[c.id];
    if (b.size() + 5 + f.body.size() > kDisplaySeedBytes) flush(c.id);
    b.push_back(f.def->direction == sc::schema::Direction::S2C ? 1 : 0);
    put16(b, f.def->type);
    put16(b, static_cast<uint16_t>(f.body.size()));
    b.insert(b.end(), f.body.begin(), f.body.end());
  }

 private:
  static constexpr size_t kDisplaySeedBytes = 256 * 1024;
  void flush(uint32_t id) {
    Bytes& b = open_[id];
    if (!b.empty()) write_file(dir_ / ("display-" + std::to_string(id) + "-" + std::to_string(files_++)), b);
    b.clear();
  }
  fs::path dir_;
  std::map<uint32_t, Bytes> open_;
  size_t files_ = 0;
};

// ---- fuzz_audio: playback, record and main clock messages as records -----------------

class AudioCollector : public ConnectionSink {
 public:
  explicit AudioCollector(fs::path dir) : dir_(std::move(dir)) {}
  ~AudioCollector() override { flush(); }
  void on_open(const ConnectionInfo&) override {}
  void on_problem(const ConnectionInfo& c, const sc::framing::Problem& p, const sc::framing::ChannelState& s) override {
    const int kind = kind_of(s.channel_type);
    if (!p.is_gap() || kind < 1) return;
    bytes_.push_back(static_cast<uint8_t>(3 | (kind == 2 ? 4 : 0) | second(c.id, kind) << 3));
  }
  void on_close(const ConnectionInfo&, const sc::framing::ChannelState&, uint64_t) override {}
  void on_frame(const ConnectionInfo& c, const sc::framing::Frame& f, const sc::framing::ChannelState&) override {
    if (!f.def || f.undecodable || f.def->is_link() || f.body.size() > 0xffff) return;
    const int kind = kind_of(f.def->channel_type);
    if (kind < 0) return;
    // Of main, only the multimedia clock: agent traffic would crowd the seeds out.
    if (kind == 0 && f.def->full_name != "main.init" && f.def->full_name != "main.multi_media_time") return;
    if (bytes_.size() + 5 + f.body.size() > kAudioSeedBytes) flush();
    bytes_.push_back(static_cast<uint8_t>(kind | (f.def->direction == sc::schema::Direction::S2C ? 4 : 0) |
                                          second(c.id, kind) << 3));
    put16(bytes_, f.def->type);
    put16(bytes_, static_cast<uint16_t>(f.body.size()));
    bytes_.insert(bytes_.end(), f.body.begin(), f.body.end());
  }

 private:
  static constexpr size_t kAudioSeedBytes = 256 * 1024;
  // fuzz_audio's channel bits: 0 main, 1 playback, 2 record; -1 for other channels.
  static int kind_of(uint8_t type) {
    switch (type) {
      case SPICE_CHANNEL_MAIN: return 0;
      case SPICE_CHANNEL_PLAYBACK: return 1;
      case SPICE_CHANNEL_RECORD: return 2;
      default: return -1;
    }
  }
  // The first connection of a kind is 0, every later one 1.
  uint8_t second(uint32_t conn, int kind) {
    auto& first = first_[kind];
    if (!first) first = conn;
    return *first == conn ? 0 : 1;
  }
  void flush() {
    if (!bytes_.empty()) write_file(dir_ / ("audio-" + std::to_string(files_++)), bytes_);
    bytes_.clear();
  }
  fs::path dir_;
  Bytes bytes_;
  std::map<int, std::optional<uint32_t>> first_;
  size_t files_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s CAPTURE OUTDIR\n", argv[0]);
    return 2;
  }
  const fs::path out = argv[2];
  for (const char* t :
       {"fuzz_pcap", "fuzz_reassembly", "fuzz_framing", "fuzz_messages", "fuzz_agent", "fuzz_display", "fuzz_audio"})
    fs::create_directories(out / t);

  auto src = PacketSource::open_file(argv[1]);
  if (!src) {
    std::fprintf(stderr, "make_seeds: %s\n", src.error().message.c_str());
    return 1;
  }
  std::vector<StoredPacket> packets;
  Packet p;
  while ((*src)->next(p)) packets.push_back({p.ts_ns, Bytes(p.data.begin(), p.data.end()), p.original_length});
  const int linktype = (*src)->linktype();

  pcap_seeds(out / "fuzz_pcap", linktype, packets);
  reassembly_seeds(out / "fuzz_reassembly", linktype, packets);
  framing_seeds(out / "fuzz_framing", linktype, packets);
  MessageCollector messages(out / "fuzz_messages");
  auto st = import_file(argv[1], messages, {});
  if (!st) {
    std::fprintf(stderr, "make_seeds: %s\n", st.error().message.c_str());
    return 1;
  }
  AgentCollector agent(out / "fuzz_agent", out / "fuzz_messages");
  (void)import_file(argv[1], agent, {});
  {
    DisplayCollector display(out / "fuzz_display");
    (void)import_file(argv[1], display, {});
  }
  {
    AudioCollector audio(out / "fuzz_audio");
    (void)import_file(argv[1], audio, {});
  }
  size_t files = 0;
  for (const auto& e : fs::recursive_directory_iterator(out)) files += e.is_regular_file();
  std::printf("make_seeds: %zu packets, %llu SPICE connections -> %zu seed files in %s\n", packets.size(),
              static_cast<unsigned long long>(st->spice_connections), files, out.c_str());
  return 0;
}
