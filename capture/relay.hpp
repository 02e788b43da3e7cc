#pragma once
// The recording proxy's network half: accepts SPICE channel connections (plain
// TCP, or TLS with the proxy's own certificate), opens one connection to the real
// server for each (plain, or TLS verified against a CA and a host name), and
// relays both directions byte for byte, telling an observer what it relayed.
//
// Contract:
//  - Bytes are never dropped or reordered. A direction reads its next block only
//    once the previous one is written to the other side, so a slow peer slows the
//    sender down (TCP back-pressure end to end) and memory per connection is two
//    buffers.
//  - The observer hears, on the relay thread and in the order they happened: a
//    connection once both legs are up, each block read (before it is written on),
//    and the connection's end. A slow observer holds the relay up (its on_bytes
//    may block); it never loses bytes.
//  - A connection that cannot reach the server (refused, timeout, TLS failure,
//    wrong certificate) is closed towards the client and reported as refused;
//    the client sees the connection close, as it would with no server.
//  - One side closing (FIN, TLS close_notify) is passed on as a half-close; the
//    connection ends when both directions have ended or after a short linger.
//    A reset or error on one side resets the other.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "capture/tcp_segment.hpp"
#include "dissect/schema/registry.hpp"
#include "util/result.hpp"

namespace sc::capture {

struct HostPort {
  std::string host;
  uint16_t port = 0;
  std::string to_string() const;
};
// "host:port", "[v6]:port" or ":port" / "port" (host empty).
Result<HostPort> parse_host_port(std::string_view text);

struct UpstreamTls {
  std::string ca_file;      // certificates the server's chain must end in; "" = the system's
  std::string server_name;  // name the certificate must carry (and the SNI sent); "" = the upstream host
  bool verify = true;       // false: accept any certificate (said loudly by the CLI)
};

struct RelayOptions {
  std::string listen_addr = "127.0.0.1";
  std::optional<uint16_t> plain_port;  // listen for plain connections here (0 = any free port)
  std::optional<uint16_t> tls_port;    // listen for TLS connections here (needs cert_file, key_file)
  std::string cert_file, key_file;     // the proxy's certificate (chain) and key for its TLS port
  // Where each kind of client connection goes. A plain client connection goes to
  // `plain_upstream`, else to `tls_upstream`; a TLS one to `tls_upstream`, else to
  // `plain_upstream` (TLS is then ended at the proxy).
  std::optional<HostPort> plain_upstream, tls_upstream;
  UpstreamTls upstream_tls;
  size_t buffer_bytes = 64 * 1024;  // per direction of each connection
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds linger{5'000};  // after one direction ends, before the other is cut
};

struct RelayedConnection {
  uint32_t id = 0;         // 1, 2, ... in accept order
  Endpoint client;         // the real client as the proxy saw it
  Endpoint server;         // the real server's address the proxy connected to
  bool client_tls = false, server_tls = false;
  std::string client_tls_version, client_sni, server_tls_version;
  uint64_t accepted_ns = 0;  // wall clock, ns since the epoch
};

class RelayObserver {
 public:
  virtual ~RelayObserver() = default;
  virtual void on_open(const RelayedConnection& c, uint64_t ts_ns) = 0;
  virtual void on_bytes(uint32_t id, schema::Direction dir, std::span<const uint8_t> bytes, uint64_t ts_ns) = 0;
  // `how` says which side ended first and how. `abrupt_from`: set when a side
  // ended by a reset or an error (the other side was reset too): the direction
  // that side sends.
  virtual void on_close(uint32_t id, uint64_t ts_ns, const std::string& how,
                        std::optional<schema::Direction> abrupt_from) = 0;
  // A client connection that never reached the server; `why` names both ends.
  virtual void on_refused(const Endpoint& client, uint64_t ts_ns, const std::string& why) = 0;
};

struct RelayCounters {
  uint64_t accepted = 0, refused = 0, open = 0;
  uint64_t bytes[2] = {0, 0};  // c2s, s2c relayed
};

class Relay {
 public:
  // Binds the listening sockets and loads certificates; errors say which.
  static Result<std::unique_ptr<Relay>> create(RelayOptions options);
  ~Relay();
  Relay(const Relay&) = delete;
  Relay& operator=(const Relay&) = delete;

  uint16_t plain_port() const;  // 0 when not listening
  uint16_t tls_port() const;
  // Accepts and relays, telling `observer`, until stop(); every connection is
  // closed (and reported) before it returns. Once per Relay.
  void run(RelayObserver& observer);
  // Any thread: stop accepting, cut every connection, make run() return.
  void stop();
  RelayCounters counters() const;

  struct Impl;
  explicit Relay(std::unique_ptr<Impl> impl);  // through create()

 private:
  std::unique_ptr<Impl> impl_;
};

// Wall clock in ns since the epoch: the time base of every stored timestamp.
uint64_t wall_clock_ns();

}  // namespace sc::capture
