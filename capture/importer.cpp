#include "capture/importer.hpp"

#include <algorithm>
#include <cstring>
#include <filesystem>

namespace sc::capture {

using schema::Direction;

struct Importer::Conn : framing::FrameSink {
  Conn(Importer& imp, ConnectionInfo i, int client)
      : importer(imp), info(std::move(i)), client_side(client),
        framer(std::make_unique<framing::ConnectionFramer>(*this, info.midstream, imp.options_.framer)) {}

  void on_frame(const framing::Frame& f, const framing::ChannelState& s) override { importer.sink_.on_frame(info, f, s); }
  void on_problem(const framing::Problem& p, const framing::ChannelState& s) override {
    importer.sink_.on_problem(info, p, s);
  }
  void on_channel_known(const framing::ChannelState& s) override { importer.sink_.on_channel_known(info, s); }

  Direction dir(int side) const { return side == client_side ? Direction::C2S : Direction::S2C; }

  Importer& importer;
  ConnectionInfo info;
  int client_side;
  std::unique_ptr<framing::ConnectionFramer> framer;  // null for TLS channels
  bool closed = false;
};

Importer::Importer(ConnectionSink& sink, ImportOptions options)
    : sink_(sink), options_(std::move(options)), reassembler_(*this) {}
Importer::~Importer() = default;

void Importer::add_packet(int linktype, const Packet& p) {
  ++stats_.packets;
  if (stats_.first_ts_ns == 0 || p.ts_ns < stats_.first_ts_ns) stats_.first_ts_ns = p.ts_ns;
  stats_.last_ts_ns = std::max(stats_.last_ts_ns, p.ts_ns);
  auto seg = parse_tcp(linktype, p.data);
  if (!seg) return;
  if (seg->fragment) {
    ++stats_.ip_fragments;
    return;
  }
  ++stats_.tcp_segments;
  reassembler_.add(*seg, p.ts_ns);
}

void Importer::finish() { reassembler_.finish(stats_.last_ts_ns); }

void Importer::on_open(uint32_t flow, const Endpoint& a, const Endpoint& b, bool saw_syn, uint64_t ts) {
  ++stats_.tcp_connections;
  if (flows_.size() <= flow) flows_.resize(flow + 1);
  flows_[flow].ends[0] = a;
  flows_[flow].ends[1] = b;
  flows_[flow].saw_syn = saw_syn;
  flows_[flow].first_ts = ts;
}

void Importer::on_data(uint32_t flow, int side, std::span<const uint8_t> bytes, uint64_t ts) {
  FlowSlot& slot = flows_[flow];
  if (!slot.decided) classify(flow, side, bytes, ts);
  Conn* c = slot.conn.get();
  if (!c || c->closed || !c->framer) return;
  c->framer->feed(c->dir(side), bytes, ts);
}

// Decides, on a flow's first payload, whether it is SPICE and which side is the client.
void Importer::classify(uint32_t flow, int side, std::span<const uint8_t> first, uint64_t ts) {
  static constexpr uint8_t kMagic[4] = {'R', 'E', 'D', 'Q'};
  FlowSlot& slot = flows_[flow];
  slot.decided = true;
  const bool redq = first.size() >= 4 && std::memcmp(first.data(), kMagic, 4) == 0;
  auto is_port = [&](uint16_t p) { return std::find(options_.ports.begin(), options_.ports.end(), p) != options_.ports.end(); };
  int client = -1;
  if (redq) {
    // The client speaks first; with the handshake seen, the initiator is the client.
    client = slot.saw_syn ? 0 : side;
  } else if (is_port(slot.ends[1 - side].port)) {
    client = side;
  } else if (is_port(slot.ends[side].port)) {
    client = 1 - side;
  }
  if (client < 0) return;

  ConnectionInfo info;
  info.id = next_connection_++;
  info.client = slot.ends[client];
  info.server = slot.ends[1 - client];
  info.first_ts_ns = slot.first_ts;
  info.midstream = !redq;
  info.tls = !redq && side == client && first.size() >= 3 && first[0] == 0x16 && first[1] == 0x03;
  slot.conn = std::make_unique<Conn>(*this, info, client);
  ++stats_.spice_connections;
  if (info.tls) {
    slot.conn->framer.reset();
    sink_.on_open(info);
    framing::Problem p{decode::Severity::Warning, "tls",
                       schema::Direction::C2S, 0, ts,
                       "connection is TLS-encrypted: record it through the recorder proxy to decode it"};
    static const framing::ChannelState kNone;
    sink_.on_problem(info, p, kNone);
    return;
  }
  sink_.on_open(info);
}

void Importer::on_gap(uint32_t flow, int side, uint64_t bytes, uint64_t ts) {
  Conn* c = flows_[flow].conn.get();
  if (!c || !c->framer) return;
  c->framer->gap(c->dir(side), bytes, ts);
}

void Importer::on_close(uint32_t flow, uint64_t ts) {
  Conn* c = flow < flows_.size() ? flows_[flow].conn.get() : nullptr;
  if (!c || c->closed) return;
  if (c->framer) c->framer->finish(ts);
  c->closed = true;
  static const framing::ChannelState kNone;
  sink_.on_close(c->info, c->framer ? c->framer->state() : kNone, ts);
}

Result<ImportStats> import_file(const std::string& path, ConnectionSink& sink, const ImportOptions& options,
                                const ProgressFn& progress) {
  auto src = PacketSource::open_file(path);
  if (!src) return src.error();
  std::error_code ec;
  const uint64_t total = std::filesystem::file_size(path, ec);
  Importer importer(sink, options);
  Packet p;
  uint64_t next_report = 0;
  while ((*src)->next(p)) {
    importer.add_packet((*src)->linktype(), p);
    if (progress && (*src)->bytes_read() >= next_report) {
      progress((*src)->bytes_read(), total);
      next_report = (*src)->bytes_read() + (16u << 20);
    }
  }
  importer.finish();
  ImportStats& st = importer.stats();
  st.linktype = (*src)->linktype();
  st.file_bytes = total;
  st.truncated = (*src)->truncated();
  st.read_error = (*src)->read_error();
  if (progress) progress(total, total);
  return st;
}

}  // namespace sc::capture
