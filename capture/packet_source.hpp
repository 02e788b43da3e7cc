#pragma once
// Reading capture files (pcap and pcapng, through libpcap) packet by packet.
#include <pcap/pcap.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "util/result.hpp"

namespace sc::capture {

struct Packet {
  uint64_t ts_ns = 0;
  std::span<const uint8_t> data;  // valid until the next call to next()
  uint32_t original_length = 0;   // length on the wire (> data.size() when snapped)
};

class PacketSource {
 public:
  // Opens a pcap or pcapng file. Errors name the file and what is wrong with it.
  static Result<std::unique_ptr<PacketSource>> open_file(const std::string& path);
  ~PacketSource();

  // The next packet, or false at the end (or on a read error: see truncated()).
  bool next(Packet& out);
  int linktype() const { return linktype_; }
  bool truncated() const { return truncated_; }  // the file ends inside a packet
  const std::string& read_error() const { return read_error_; }
  uint64_t bytes_read() const { return bytes_read_; }

 private:
  explicit PacketSource(pcap_t* p);
  pcap_t* pcap_;
  int linktype_;
  bool nanosecond_;
  bool truncated_ = false;
  std::string read_error_;
  uint64_t bytes_read_ = 0;
};

}  // namespace sc::capture
