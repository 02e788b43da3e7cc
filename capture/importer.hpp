#pragma once
// From packets to SPICE connections: the capture half of `spice-capture import`.
//
// Every TCP connection whose client stream starts with the link magic "REDQ" is
// SPICE, on any port. Connections on a --port that start elsewhere are decoded
// mid-session (channel type and header kind inferred). A connection on a --port
// that opens with a TLS record is recorded as an encrypted channel.
#include <functional>
#include <memory>
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
};

// Where SPICE connections go (the store writer, the decode-only benchmark, ...).
class ConnectionSink {
 public:
  virtual ~ConnectionSink() = default;
  virtual void on_open(const ConnectionInfo& c) = 0;
  virtual void on_frame(const ConnectionInfo& c, const framing::Frame& f, const framing::ChannelState& s) = 0;
  virtual void on_problem(const ConnectionInfo& c, const framing::Problem& p, const framing::ChannelState& s) = 0;
  virtual void on_channel_known(const ConnectionInfo&, const framing::ChannelState&) {}
  virtual void on_close(const ConnectionInfo& c, const framing::ChannelState& s, uint64_t ts_ns) = 0;
};

struct ImportOptions {
  std::vector<uint16_t> ports;  // server ports to decode even without a link stage
  bool redact = false;          // store secret fields (keys, clipboard, files, passwords) blanked
  framing::FramerOptions framer;
};

struct ImportStats {
  uint64_t packets = 0;
  uint64_t tcp_segments = 0;
  uint64_t ip_fragments = 0;
  uint64_t file_bytes = 0;
  uint64_t spice_connections = 0;
  uint64_t tcp_connections = 0;
  uint64_t first_ts_ns = 0;
  uint64_t last_ts_ns = 0;
  int linktype = 0;
  bool truncated = false;
  std::string read_error;
};

class Importer : private StreamConsumer {
 public:
  Importer(ConnectionSink& sink, ImportOptions options);
  ~Importer() override;

  void add_packet(int linktype, const Packet& p);
  void finish();
  ImportStats& stats() { return stats_; }

 private:
  struct Conn;
  void on_open(uint32_t flow, const Endpoint& a, const Endpoint& b, bool saw_syn, uint64_t ts) override;
  void on_data(uint32_t flow, int side, std::span<const uint8_t> bytes, uint64_t ts) override;
  void on_gap(uint32_t flow, int side, uint64_t bytes, uint64_t ts) override;
  void on_close(uint32_t flow, uint64_t ts) override;
  void classify(uint32_t flow, int side, std::span<const uint8_t> first_bytes, uint64_t ts);

  struct FlowSlot {
    Endpoint ends[2];
    bool saw_syn = false;
    bool decided = false;
    uint64_t first_ts = 0;
    std::unique_ptr<Conn> conn;  // null: not SPICE
  };

  ConnectionSink& sink_;
  ImportOptions options_;
  TcpReassembler reassembler_;
  std::vector<FlowSlot> flows_;  // by reassembler flow id
  ImportStats stats_;
  uint32_t next_connection_ = 1;
};

using ProgressFn = std::function<void(uint64_t bytes_done, uint64_t bytes_total)>;

// Reads a whole capture file through an Importer.
Result<ImportStats> import_file(const std::string& path, ConnectionSink& sink, const ImportOptions& options,
                                const ProgressFn& progress = {});

}  // namespace sc::capture
