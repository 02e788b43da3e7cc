#pragma once
// From packets to SPICE connections: the capture half of `spice-capture import`.
//
// Every TCP connection whose client stream starts with the link magic "REDQ" is
// SPICE, on any port. Connections without a link stage are decoded mid-session
// (channel type and header kind inferred) when they go to a --port, or to a server
// address:port that carried a REDQ connection somewhere in the capture (found in a
// second pass over the file when that connection came later). Connections that
// open with TLS to a --port, or to an address that carries plain SPICE on any
// port (SPICE's tls-port), are SPICE TLS channels: not decodable, but listed with
// their bytes and what their hellos say.
//
// Memory is bounded: flows are freed when they end (FIN, RST, idle), out-of-order
// bytes are capped (a `reassembly_cap` problem when a cap is hit), and the flows
// remembered for the second pass are capped in number.
#include <atomic>
#include <functional>
#include <memory>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "capture/packet_source.hpp"
#include "capture/tcp_reassembler.hpp"
#include "dissect/framing/connection_framer.hpp"
#include "util/result.hpp"

namespace sc::capture {

struct ConnectionInfo {
  uint32_t id = 0;          // unique within one import
  Endpoint client, server;
  uint64_t first_ts_ns = 0;
  bool midstream = false;
  bool tls = false;
  // Mid-session because it goes to the address:port of a SPICE server seen in the
  // capture (no --port named it).
  bool inferred = false;
};

// What a passive capture shows of a TLS channel.
struct TlsInfo {
  std::string version;  // "TLS 1.2", "TLS 1.3"...: as negotiated, or as offered when no ServerHello; "" unknown
  std::string sni;      // the server name the client asked for; "" when none
  uint64_t bytes[2] = {0, 0};  // c2s, s2c payload bytes
  bool negotiated = false;     // `version` comes from the ServerHello
  uint64_t last_ts_ns = 0;     // last packet with payload
};

// Where SPICE connections go (the store writer, the decode-only benchmark, ...).
class ConnectionSink {
 public:
  virtual ~ConnectionSink() = default;
  virtual void on_open(const ConnectionInfo& c) = 0;
  virtual void on_frame(const ConnectionInfo& c, const framing::Frame& f, const framing::ChannelState& s) = 0;
  virtual void on_problem(const ConnectionInfo& c, const framing::Problem& p, const framing::ChannelState& s) = 0;
  virtual void on_channel_known(const ConnectionInfo&, const framing::ChannelState&) {}
  // TLS channels only, once, just before on_close.
  virtual void on_tls(const ConnectionInfo&, const TlsInfo&) {}
  virtual void on_close(const ConnectionInfo& c, const framing::ChannelState& s, uint64_t ts_ns) = 0;
};

struct ImportOptions {
  std::vector<uint16_t> ports;  // server ports to decode even without a link stage
  schema::SecretMask redact = schema::kSecretNone;  // secret classes (keys, clipboard, files, ...) stored blanked
  bool images = false;  // the store decodes display images into its images table (import --images)
  framing::FramerOptions framer;
  // A flow with no packet for this long (capture time) is closed and freed; 0: never.
  uint64_t idle_timeout_ns = 600'000'000'000ull;
  // Out-of-order bytes held before the holes in front of them are given up.
  size_t max_held_per_direction = 4u << 20;
  size_t max_held_total = 64u << 20;
  // Connections without a link stage remembered, in case a SPICE server found
  // later in the capture makes them decodable (about 60 bytes each); TLS
  // connections waiting for the same (about 400 bytes each).
  size_t max_remembered_skipped = 1u << 16;
  size_t max_pending_tls = 1u << 13;
  // TCP flows tracked at once (about 400 bytes each, more with held bytes); beyond
  // it the least recently active one is closed, so a flood of connections that
  // never end cannot take memory without bound.
  size_t max_live_flows = 1u << 18;
  // Set to stop reading early (import_file looks at it every MiB of capture).
  const std::atomic<bool>* cancel = nullptr;
};

struct PortCount {
  uint16_t port = 0;
  uint64_t connections = 0;
  bool operator==(const PortCount&) const = default;
};

struct ImportStats {
  uint64_t packets = 0;
  uint64_t tcp_segments = 0;
  uint64_t ip_fragments = 0;
  uint64_t file_bytes = 0;
  uint64_t spice_connections = 0;   // every connection given to the sink, TLS channels included
  uint64_t tcp_connections = 0;
  uint64_t first_ts_ns = 0;
  uint64_t last_ts_ns = 0;
  int linktype = 0;
  bool truncated = false;
  std::string read_error;
  // TCP connections with payload that were not SPICE and not inferred (TLS ones included).
  uint64_t skipped_tcp_connections = 0;
  // Their server ports, most connections first, at most 8: the SYN's destination, else
  // the end that other skipped connections share (a server's address:port is common to
  // its connections, a client's is not), else the lower port.
  std::vector<PortCount> skipped_ports;
  uint64_t inferred_midstream = 0;  // decoded mid-session because their server carried REDQ
  uint64_t tls_connections = 0;     // TLS channels given to the sink
  // TLS connections that were not taken as SPICE, by server port, most first, at most 8.
  std::vector<PortCount> tls_ports;
  uint64_t reassembly_caps = 0;     // times a cap on held out-of-order bytes was hit
  uint64_t peak_live_flows = 0;     // most TCP flows tracked at once
  bool second_pass = false;         // the file was read again for connections found late
};

// A connection the first pass could not place but that goes to a SPICE server
// found later: the second pass feeds exactly these (by 4-tuple and first packet).
struct DeferredFlow {
  Endpoint initiator, responder;  // as the reassembler opened it
  uint64_t first_ts_ns = 0;
  int server_side = 1;  // 0: the initiator is the server
};

class Importer : private StreamConsumer {
 public:
  Importer(ConnectionSink& sink, ImportOptions options);
  // A second pass: only `flows` are looked at, decoded mid-session; connection
  // ids start at `first_connection_id`.
  Importer(ConnectionSink& sink, ImportOptions options, std::vector<DeferredFlow> flows, uint32_t first_connection_id);
  ~Importer() override;

  void add_packet(int linktype, const Packet& p);
  // Closes every flow and settles what waited for the end (TLS connections whose
  // server was not known yet, skipped connections).
  void finish();
  ImportStats& stats() { return stats_; }

  // After finish(): the skipped connections that go to a SPICE server after all,
  // taken out of the skipped counts (the caller is to decode them in a second pass).
  std::vector<DeferredFlow> take_deferred();
  uint32_t next_connection_id() const { return next_connection_; }
  size_t live_flows() const { return flows_.size(); }
  const TcpReassembler& reassembler() const { return reassembler_; }

 private:
  struct Conn;
  struct TlsTrack;
  struct FlowSlot;
  struct Skipped {
    Endpoint ends[2];
    uint64_t first_ts = 0;
    bool saw_syn = false;
  };
  struct PendingTls;
  struct EndpointHash {
    size_t operator()(const Endpoint& e) const;
  };
  using Tuple = std::pair<Endpoint, Endpoint>;
  struct TupleHash {
    size_t operator()(const Tuple& t) const;
  };

  void on_open(uint32_t flow, const Endpoint& a, const Endpoint& b, bool saw_syn, uint64_t ts) override;
  void on_data(uint32_t flow, int side, std::span<const uint8_t> bytes, uint64_t ts) override;
  void on_gap(uint32_t flow, int side, uint64_t bytes, uint64_t ts) override;
  void on_close(uint32_t flow, uint64_t ts) override;
  void on_overflow(uint32_t flow, int side, const Overflow& o, uint64_t ts) override;
  void classify(uint32_t flow, FlowSlot& slot, int side, std::span<const uint8_t> first_bytes, uint64_t ts);
  Conn& open_conn(FlowSlot& slot, int client, bool midstream, bool tls, bool inferred);
  void open_tls_channel(FlowSlot& slot, uint64_t problem_ts);
  void end_tls(FlowSlot& slot, uint64_t ts);
  bool is_port(uint16_t p) const;
  bool spice_address(const Endpoint& e) const;
  void skip(uint32_t flow, FlowSlot& slot);
  void tally();

  ConnectionSink& sink_;
  ImportOptions options_;
  TcpReassembler reassembler_;
  std::unordered_map<uint32_t, std::unique_ptr<FlowSlot>> flows_;  // by reassembler flow id, live flows only
  ImportStats stats_;
  uint32_t next_connection_ = 1;

  // What the capture has shown so far to be SPICE.
  std::unordered_set<Endpoint, EndpointHash> spice_servers_;    // address:port of REDQ connections
  std::unordered_set<Endpoint, EndpointHash> spice_addresses_;  // the same, port 0

  // Settled at the end of the pass.
  std::vector<Skipped> skipped_;
  uint64_t skipped_unremembered_ = 0;
  std::unordered_map<uint16_t, uint64_t> unremembered_ports_;
  std::vector<std::unique_ptr<PendingTls>> pending_tls_;
  std::unordered_map<uint16_t, uint64_t> tls_port_counts_;
  uint64_t unknown_tls_ = 0;

  // Second pass only.
  bool second_pass_ = false;
  std::unordered_map<Tuple, std::vector<DeferredFlow>, TupleHash> deferred_;  // by (initiator, responder)
};

using ProgressFn = std::function<void(uint64_t bytes_done, uint64_t bytes_total)>;

// Reads a whole capture file through an Importer, and a second time (feeding only
// them) when connections skipped early turned out to go to a SPICE server.
Result<ImportStats> import_file(const std::string& path, ConnectionSink& sink, const ImportOptions& options,
                                const ProgressFn& progress = {});

}  // namespace sc::capture
