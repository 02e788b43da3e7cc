#include "capture/importer.hpp"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <optional>

#include "capture/framed_connection.hpp"
#include "capture/tls_hello.hpp"

namespace sc::capture {

using schema::Direction;

namespace {

const framing::ChannelState kNoState;
constexpr size_t kMaxSpiceServers = 1u << 16;

ReassemblyOptions reassembly_options(const ImportOptions& o) {
  ReassemblyOptions r;
  r.max_held_per_direction = o.max_held_per_direction;
  r.max_held_total = o.max_held_total;
  r.idle_timeout_ns = o.idle_timeout_ns;
  r.max_live_flows = o.max_live_flows;
  return r;
}

std::vector<PortCount> top_ports(const std::unordered_map<uint16_t, uint64_t>& counts) {
  std::vector<PortCount> out;
  out.reserve(counts.size());
  for (const auto& [port, n] : counts) out.push_back({port, n});
  std::sort(out.begin(), out.end(), [](const PortCount& a, const PortCount& b) {
    return a.connections != b.connections ? a.connections > b.connections : a.port < b.port;
  });
  if (out.size() > 8) out.resize(8);
  return out;
}

Endpoint address_only(Endpoint e) {
  e.port = 0;
  return e;
}

std::string mib(uint64_t bytes) {
  const uint64_t tenths = bytes * 10 / (1u << 20);
  return std::to_string(tenths / 10) + "." + std::to_string(tenths % 10) + " MiB";
}

}  // namespace

size_t Importer::EndpointHash::operator()(const Endpoint& e) const {
  size_t h = 1469598103934665603ull;
  for (uint8_t b : e.addr) h = (h ^ b) * 1099511628211ull;
  h = (h ^ e.port) * 1099511628211ull;
  return h ^ e.v6;
}

size_t Importer::TupleHash::operator()(const Tuple& t) const {
  EndpointHash h;
  return h(t.first) * 31 + h(t.second);
}

struct Importer::Conn : FramedConnection {
  Conn(Importer& imp, ConnectionInfo i, int client)
      : FramedConnection(imp.sink_, std::move(i), imp.options_.framer), client_side(client) {}

  Direction dir(int side) const { return side == client_side ? Direction::C2S : Direction::S2C; }

  int client_side;
};

// A TLS connection, SPICE or not yet known: its byte counts and the hellos read
// from the first bytes of each direction.
struct Importer::TlsTrack {
  explicit TlsTrack(int client) : client_side(client) {}

  struct Side {
    std::vector<uint8_t> start;  // stream bytes kept until the hello parses or is given up
    bool settled = false;
    std::optional<tls::Hello> hello;
  };

  void feed(int side, std::span<const uint8_t> bytes, uint64_t ts) {
    info.bytes[side == client_side ? 0 : 1] += bytes.size();
    info.last_ts_ns = std::max(info.last_ts_ns, ts);
    Side& s = sides[side];
    if (s.settled) return;
    const size_t room = tls::kMaxHelloBytes - s.start.size();
    s.start.insert(s.start.end(), bytes.begin(), bytes.begin() + static_cast<ptrdiff_t>(std::min(room, bytes.size())));
    const auto parsed = tls::parse_hello(s.start);
    if (parsed.status == tls::HelloStatus::NeedMore) return;
    if (parsed.status == tls::HelloStatus::Done) s.hello = parsed.hello;
    settle(s);
  }
  // Bytes after a hole are not the start of anything.
  void gap(int side) { settle(sides[side]); }
  static void settle(Side& s) {
    s.settled = true;
    std::vector<uint8_t>().swap(s.start);
  }

  TlsInfo result() const {
    TlsInfo out = info;
    const auto& client = sides[client_side].hello;
    const auto& server = sides[1 - client_side].hello;
    if (client && client->kind == tls::HelloKind::Client) out.sni = client->sni;
    if (server && server->kind == tls::HelloKind::Server) {
      out.version = tls::version_name(server->version);
      out.negotiated = true;
    } else if (client && client->kind == tls::HelloKind::Client) {
      out.version = tls::version_name(client->version);
    }
    return out;
  }

  int client_side;
  Side sides[2];
  TlsInfo info;
};

struct Importer::FlowSlot {
  Endpoint ends[2];
  bool saw_syn = false;
  bool decided = false;
  uint64_t first_ts = 0;
  int client_side = 0;         // once decided (SPICE or TLS)
  std::unique_ptr<Conn> conn;  // given to the sink
  std::unique_ptr<TlsTrack> tls;
};

// A TLS connection that ended before its server was known to carry SPICE.
struct Importer::PendingTls {
  Endpoint client, server;
  uint64_t first_ts = 0, close_ts = 0;
  TlsInfo info;
};

Importer::Importer(ConnectionSink& sink, ImportOptions options)
    : sink_(sink), options_(std::move(options)), reassembler_(*this, reassembly_options(options_)) {}

Importer::Importer(ConnectionSink& sink, ImportOptions options, std::vector<DeferredFlow> flows,
                   uint32_t first_connection_id)
    : Importer(sink, std::move(options)) {
  second_pass_ = true;
  next_connection_ = first_connection_id;
  for (const auto& f : flows) deferred_[Tuple{f.initiator, f.responder}].push_back(f);
}

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
  if (second_pass_ && !deferred_.count(Tuple{seg->src, seg->dst}) && !deferred_.count(Tuple{seg->dst, seg->src})) {
    return;
  }
  reassembler_.add(*seg, p.ts_ns);
}

void Importer::finish() {
  reassembler_.finish(stats_.last_ts_ns);
  // TLS connections that ended before a plain SPICE connection showed their
  // server: now everything the capture holds is known.
  for (auto& p : pending_tls_) {
    if (is_port(p->server.port) || spice_address(p->server)) {
      FlowSlot slot;
      slot.ends[0] = p->client;
      slot.ends[1] = p->server;
      slot.first_ts = p->first_ts;
      slot.client_side = 0;
      open_tls_channel(slot, p->first_ts);
      sink_.on_tls(slot.conn->info(), p->info);
      sink_.on_close(slot.conn->info(), kNoState, p->close_ts);
    } else {
      ++unknown_tls_;
      ++tls_port_counts_[p->server.port];
    }
  }
  pending_tls_.clear();
  tally();
}

void Importer::tally() {
  stats_.skipped_tcp_connections = skipped_.size() + skipped_unremembered_ + unknown_tls_;
  auto ports = unremembered_ports_;
  std::unordered_map<Endpoint, uint32_t, EndpointHash> shared;
  for (const auto& s : skipped_) {
    if (!s.saw_syn) {
      ++shared[s.ends[0]];
      ++shared[s.ends[1]];
    }
  }
  for (const auto& s : skipped_) {
    int server = 1;
    if (!s.saw_syn) {
      const uint32_t n0 = shared[s.ends[0]], n1 = shared[s.ends[1]];
      server = n0 != n1 ? (n0 > n1 ? 0 : 1) : (s.ends[0].port < s.ends[1].port ? 0 : 1);
    }
    ++ports[s.ends[server].port];
  }
  for (const auto& [port, n] : tls_port_counts_) ports[port] += n;
  stats_.skipped_ports = top_ports(ports);
  stats_.tls_ports = top_ports(tls_port_counts_);
}

std::vector<DeferredFlow> Importer::take_deferred() {
  std::vector<DeferredFlow> out;
  std::vector<Skipped> keep;
  for (const auto& s : skipped_) {
    const int server_side = spice_servers_.count(s.ends[1]) ? 1 : spice_servers_.count(s.ends[0]) ? 0 : -1;
    if (server_side < 0) {
      keep.push_back(s);
    } else {
      out.push_back({s.ends[0], s.ends[1], s.first_ts, server_side});
    }
  }
  skipped_ = std::move(keep);
  tally();
  return out;
}

bool Importer::is_port(uint16_t p) const {
  return std::find(options_.ports.begin(), options_.ports.end(), p) != options_.ports.end();
}

bool Importer::spice_address(const Endpoint& e) const { return spice_addresses_.count(address_only(e)) != 0; }

void Importer::on_open(uint32_t flow, const Endpoint& a, const Endpoint& b, bool saw_syn, uint64_t ts) {
  auto slot = std::make_unique<FlowSlot>();
  slot->ends[0] = a;
  slot->ends[1] = b;
  slot->saw_syn = saw_syn;
  slot->first_ts = ts;
  flows_[flow] = std::move(slot);
  if (second_pass_) return;
  ++stats_.tcp_connections;
  stats_.peak_live_flows = std::max<uint64_t>(stats_.peak_live_flows, flows_.size());
}

void Importer::on_data(uint32_t flow, int side, std::span<const uint8_t> bytes, uint64_t ts) {
  auto it = flows_.find(flow);
  if (it == flows_.end()) return;
  FlowSlot& slot = *it->second;
  if (!slot.decided) classify(flow, slot, side, bytes, ts);
  if (slot.tls) slot.tls->feed(side, bytes, ts);
  Conn* c = slot.conn.get();
  if (c) c->feed(c->dir(side), bytes, ts);
}

Importer::Conn& Importer::open_conn(FlowSlot& slot, int client, bool midstream, bool tls, bool inferred) {
  ConnectionInfo info;
  info.id = next_connection_++;
  info.client = slot.ends[client];
  info.server = slot.ends[1 - client];
  info.first_ts_ns = slot.first_ts;
  info.midstream = midstream;
  info.tls = tls;
  info.inferred = inferred;
  slot.client_side = client;
  slot.conn = std::make_unique<Conn>(*this, info, client);
  ++stats_.spice_connections;
  if (inferred) ++stats_.inferred_midstream;
  return *slot.conn;
}

void Importer::open_tls_channel(FlowSlot& slot, uint64_t problem_ts) {
  Conn& c = open_conn(slot, slot.client_side, true, true, false);
  ++stats_.tls_connections;
  sink_.on_open(c.info());
  framing::Problem p{decode::Severity::Warning, "tls", schema::Direction::C2S, 0, problem_ts,
                     "connection is TLS-encrypted: a passive capture cannot decode it; record it through the "
                     "recorder proxy to decode it"};
  sink_.on_problem(c.info(), p, kNoState);
}

// Decides, on a flow's first payload, whether it is SPICE and which side is the client.
void Importer::classify(uint32_t flow, FlowSlot& slot, int side, std::span<const uint8_t> first, uint64_t) {
  static constexpr uint8_t kMagic[4] = {'R', 'E', 'D', 'Q'};
  slot.decided = true;

  if (second_pass_) {
    auto d = deferred_.find(Tuple{slot.ends[0], slot.ends[1]});
    if (d != deferred_.end()) {
      for (const auto& f : d->second) {
        if (f.first_ts_ns != slot.first_ts) continue;
        sink_.on_open(open_conn(slot, 1 - f.server_side, true, false, true).info());
        return;
      }
    }
    reassembler_.ignore(flow);
    return;
  }

  if (first.size() >= 4 && std::memcmp(first.data(), kMagic, 4) == 0) {
    // The client speaks first; with the handshake seen, the initiator is the client.
    const int client = slot.saw_syn ? 0 : side;
    // Bounded like everything kept for the whole capture; real captures hold a few servers.
    if (spice_servers_.size() < kMaxSpiceServers) {
      spice_servers_.insert(slot.ends[1 - client]);
      spice_addresses_.insert(address_only(slot.ends[1 - client]));
    }
    sink_.on_open(open_conn(slot, client, false, false, false).info());
    return;
  }

  // Which side is the server, from what names or shows it: a --port, then a
  // SPICE server already seen.
  int server = -1;
  if (is_port(slot.ends[1 - side].port)) server = 1 - side;
  else if (is_port(slot.ends[side].port)) server = side;
  bool inferred = false;
  if (server < 0) {
    if (spice_servers_.count(slot.ends[1])) server = 1;
    else if (spice_servers_.count(slot.ends[0])) server = 0;
    inferred = server >= 0;
  }

  if (tls::looks_like_tls_record(first)) {
    int client;
    const bool hello = first[0] == 22 && first.size() > 5;
    if (hello && first[5] == 1) client = side;  // ClientHello
    else if (hello && first[5] == 2) client = 1 - side;  // ServerHello: the client's start was not captured
    else if (server >= 0) client = 1 - server;
    else if (slot.saw_syn) client = 0;
    else client = slot.ends[0].port < slot.ends[1].port ? 1 : 0;  // servers listen on the lower port, usually
    slot.client_side = client;
    slot.tls = std::make_unique<TlsTrack>(client);
    const Endpoint& srv = slot.ends[1 - client];
    if (is_port(srv.port) || spice_address(srv)) open_tls_channel(slot, slot.first_ts);
    return;  // else decided when it ends: its server may yet show plain SPICE
  }

  if (server < 0) {
    skip(flow, slot);
    return;
  }
  sink_.on_open(open_conn(slot, 1 - server, true, false, inferred).info());
}

void Importer::skip(uint32_t flow, FlowSlot& slot) {
  reassembler_.ignore(flow);
  if (skipped_.size() < options_.max_remembered_skipped) {
    skipped_.push_back({{slot.ends[0], slot.ends[1]}, slot.first_ts, slot.saw_syn});
  } else {
    ++skipped_unremembered_;
    ++unremembered_ports_[slot.saw_syn ? slot.ends[1].port : std::min(slot.ends[0].port, slot.ends[1].port)];
  }
}

void Importer::on_gap(uint32_t flow, int side, uint64_t bytes, uint64_t ts) {
  auto it = flows_.find(flow);
  if (it == flows_.end()) return;
  FlowSlot& slot = *it->second;
  if (slot.tls) slot.tls->gap(side);
  Conn* c = slot.conn.get();
  if (c) c->gap(c->dir(side), bytes, ts);
}

void Importer::on_overflow(uint32_t flow, int side, const Overflow& o, uint64_t ts) {
  ++stats_.reassembly_caps;
  auto it = flows_.find(flow);
  if (it == flows_.end() || !it->second->conn) return;
  Conn& c = *it->second->conn;
  const std::string cap = o.total_cap ? "the cap over all connections (" + mib(options_.max_held_total) + ")"
                                      : "the per-direction cap (" + mib(options_.max_held_per_direction) + ")";
  framing::Problem p{decode::Severity::Warning, "reassembly_cap", c.dir(side), o.hole_offset, ts,
                     "out-of-order bytes held waiting for missing ones (" + std::to_string(o.held_bytes) +
                         " bytes) reached " + cap + ": gave up " + std::to_string(o.lost_bytes) +
                         " missing bytes from stream offset " + std::to_string(o.hole_offset) + " as gaps"};
  sink_.on_problem(c.info(), p, c.state());
}

void Importer::on_close(uint32_t flow, uint64_t ts) {
  auto it = flows_.find(flow);
  if (it == flows_.end()) return;
  FlowSlot& slot = *it->second;
  if (slot.tls) {
    end_tls(slot, ts);
  } else if (Conn* c = slot.conn.get()) {
    c->close(ts);
  }
  flows_.erase(it);
}

void Importer::end_tls(FlowSlot& slot, uint64_t ts) {
  const TlsInfo info = slot.tls->result();
  const Endpoint& client = slot.ends[slot.client_side];
  const Endpoint& server = slot.ends[1 - slot.client_side];
  if (!slot.conn && (is_port(server.port) || spice_address(server))) open_tls_channel(slot, slot.first_ts);
  if (slot.conn) {
    sink_.on_tls(slot.conn->info(), info);
    sink_.on_close(slot.conn->info(), kNoState, ts);
    return;
  }
  if (pending_tls_.size() < options_.max_pending_tls) {
    pending_tls_.push_back(std::make_unique<PendingTls>(PendingTls{client, server, slot.first_ts, ts, info}));
  } else {
    ++unknown_tls_;
    ++tls_port_counts_[server.port];
  }
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
  // Stopping early still ends through finish(): every connection opened is closed.
  uint64_t next_check = 0;
  auto cancelled = [&](uint64_t done) {
    if (!options.cancel || done < next_check) return false;
    next_check = done + (1u << 20);
    return options.cancel->load(std::memory_order_relaxed);
  };
  while ((*src)->next(p)) {
    importer.add_packet((*src)->linktype(), p);
    if (cancelled((*src)->bytes_read())) break;
    if (progress && (*src)->bytes_read() >= next_report) {
      progress((*src)->bytes_read(), total);
      next_report = (*src)->bytes_read() + (16u << 20);
    }
  }
  importer.finish();
  ImportStats st = importer.stats();
  st.linktype = (*src)->linktype();
  st.file_bytes = total;
  st.truncated = (*src)->truncated();
  st.read_error = (*src)->read_error();

  // Connections skipped before a REDQ connection showed their server: their
  // bytes were not kept (that would cost memory for every non-SPICE connection
  // of the capture), so read the file again for them alone.
  auto deferred = importer.take_deferred();
  const bool stop = options.cancel && options.cancel->load();
  if (!stop) {
    st.skipped_tcp_connections = importer.stats().skipped_tcp_connections;
    st.skipped_ports = importer.stats().skipped_ports;
  }
  if (!deferred.empty() && !stop) {
    auto again = PacketSource::open_file(path);
    if (!again) return again.error();
    const size_t wanted = deferred.size();
    Importer second(sink, options, std::move(deferred), importer.next_connection_id());
    next_report = 0;
    next_check = 0;
    while ((*again)->next(p)) {
      second.add_packet((*again)->linktype(), p);
      if (cancelled((*again)->bytes_read())) break;
      if (progress && (*again)->bytes_read() >= next_report) {
        // The work doubled: the second pass is the second half of it.
        progress(total + (*again)->bytes_read(), 2 * total);
        next_report = (*again)->bytes_read() + (16u << 20);
      }
    }
    second.finish();
    const ImportStats& st2 = second.stats();
    st.second_pass = true;
    st.spice_connections += st2.spice_connections;
    st.inferred_midstream += st2.inferred_midstream;
    st.reassembly_caps += st2.reassembly_caps;
    // Should the file have changed under us, what was not found stays skipped.
    if (st2.inferred_midstream < wanted) st.skipped_tcp_connections += wanted - st2.inferred_midstream;
    if (progress) progress(2 * total, 2 * total);
    return st;
  }
  if (progress) progress(total, total);
  return st;
}

}  // namespace sc::capture
