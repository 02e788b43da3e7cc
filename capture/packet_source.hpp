#pragma once
// Packets through libpcap, one at a time: from capture files (pcap and pcapng)
// and from live network interfaces.
#include <pcap/pcap.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "util/result.hpp"

namespace sc::capture {

struct Packet {
  uint64_t ts_ns = 0;
  std::span<const uint8_t> data;  // valid until the next call to next() or read()
  uint32_t original_length = 0;   // length on the wire (> data.size() when snapped)
};

struct LiveOptions {
  std::string filter;          // a BPF expression (tcpdump's syntax); empty: every packet
  int snaplen = 262144;        // bytes kept of each packet
  int buffer_bytes = 0;        // the kernel's capture buffer; 0: libpcap's default (2 MiB on Linux)
  // How long a read waits for a packet before it returns `timeout`, so the caller
  // wakes regularly on a quiet interface (to commit, report, notice Ctrl-C).
  int timeout_ms = 100;
  bool promiscuous = false;
};

// Why a live capture could not start, for exit codes and advice; the message says it in words.
enum class LiveFailure { none, no_such_interface, permission, bad_filter, interface_down, other };

// libpcap's counters for a live capture (pcap_stats).
struct CaptureStats {
  uint64_t received = 0;         // packets that passed the filter (the dropped ones included)
  uint64_t kernel_drops = 0;     // dropped because the capture buffer was full (we read too slowly)
  uint64_t interface_drops = 0;  // dropped by the network interface or its driver
};

struct InterfaceInfo {
  std::string name, description;
  std::vector<std::string> addresses;  // IPv4 and IPv6, as text
  bool loopback = false, up = false, running = false;
};

// The interfaces libpcap can capture on (pcap_findalldevs).
Result<std::vector<InterfaceInfo>> list_interfaces();

class PacketSource {
  struct Close {
    void operator()(pcap_t* p) const { pcap_close(p); }
  };
  using Handle = std::unique_ptr<pcap_t, Close>;
  struct Token {};  // lets the factories use make_unique while the constructor stays theirs

 public:
  // Opens a pcap or pcapng file. Errors name the file and what is wrong with it.
  static Result<std::unique_ptr<PacketSource>> open_file(const std::string& path);
  // Starts capturing on a network interface (immediate mode: each packet is
  // delivered as it arrives). Errors name the interface, or the filter that
  // does not compile; `why`, when given, says which kind of failure it was.
  static Result<std::unique_ptr<PacketSource>> open_live(const std::string& interface, const LiveOptions& options,
                                                         LiveFailure* why = nullptr);
  ~PacketSource();
  PacketSource(const PacketSource&) = delete;
  PacketSource& operator=(const PacketSource&) = delete;

  enum class ReadStatus { packet, timeout, end, error };
  // One packet, or `timeout` (live only: none arrived within the read timeout),
  // `end` (end of file) or `error` (see read_error(); for a file, it was cut).
  ReadStatus read(Packet& out);
  // The next packet, or false at the end (or on a read error: see truncated()).
  // For a live source it waits as long as it takes.
  bool next(Packet& out);

  int linktype() const { return linktype_; }
  bool live() const { return live_; }
  const std::string& interface() const { return interface_; }  // live only
  int snaplen() const;
  bool truncated() const { return truncated_; }  // the file ends inside a packet
  const std::string& read_error() const { return read_error_; }
  uint64_t bytes_read() const { return bytes_read_; }
  // Live only: libpcap's counters since the capture started.
  Result<CaptureStats> stats();

  PacketSource(Token, Handle p, bool live, std::string interface);

 private:
  Handle pcap_;
  int linktype_;
  bool nanosecond_;
  bool live_;
  std::string interface_;
  int fd_ = -1;  // live: what read() waits on
  int timeout_ms_ = 100;
  bool truncated_ = false;
  std::string read_error_;
  uint64_t bytes_read_ = 0;
};

}  // namespace sc::capture
