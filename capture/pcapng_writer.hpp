#pragma once
// Writing pcapng files: one section, interfaces with nanosecond timestamps
// (if_tsresol = 9), enhanced packet blocks. Used by export-pcap (stored sessions
// as synthetic TCP/IP) and live capture output. Blocks are written in host byte
// order, which the section header's byte-order magic announces to readers.
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.hpp"

namespace sc::capture {

class PcapngWriter {
  struct Token {};  // lets create() use make_unique while the constructor stays closed to others

 public:
  // Creates `path` (refuses an existing file unless overwrite); writes the section header.
  static Result<std::unique_ptr<PcapngWriter>> create(const std::string& path, bool overwrite);
  ~PcapngWriter();  // flushes and closes
  PcapngWriter(const PcapngWriter&) = delete;
  PcapngWriter& operator=(const PcapngWriter&) = delete;

  // Adds an interface description; returns its index for write_packet.
  // A write error here is kept and returned by the next write_packet or flush.
  uint32_t add_interface(int linktype, uint32_t snaplen, std::string_view name);
  // `data` is what was captured (at most the interface's snaplen, unless that is 0),
  // `original_length` the packet's length on the wire (>= data.size()).
  Result<void> write_packet(uint32_t interface, uint64_t ts_ns, std::span<const uint8_t> data,
                            uint32_t original_length);
  // Writes out everything buffered; the first write error, if any, sticks.
  Result<void> flush();
  uint64_t packets() const;

  PcapngWriter(Token, int fd, std::string path);

 private:
  void put_block(uint32_t type, std::span<const uint8_t> body);
  Result<void> drain();

  struct Interface {
    uint32_t snaplen;
  };

  int fd_;
  std::string path_;
  std::vector<uint8_t> buffer_;
  std::vector<uint8_t> body_;  // scratch for the block being built
  std::vector<Interface> interfaces_;
  uint64_t packets_ = 0;
  std::string error_;  // the first write error; every later call returns it
};

}  // namespace sc::capture
