// Fuzzes reading a capture file: the input is the bytes of a pcap or pcapng file,
// read through capture::PacketSource (libpcap), every packet through
// capture::parse_tcp and a capture::Importer whose sink throws everything away.
//
// Why: this is `spice-capture import` minus SQLite. Link layers, IPv4/IPv6 and TCP
// headers, reassembly, SPICE detection (by REDQ, or by port for captures that
// start mid-session) and framing all run on bytes an attacker or a damaged file
// chose. The sink reads every frame's bytes, so a frame pointing at freed or
// foreign memory is an ASan report.
//
// The bytes reach libpcap as a file: an in-memory file (memfd) opened by its
// /proc/self/fd path, so PacketSource needs no extra entry point. The server port
// for mid-session decoding is the destination port of the first TCP segment. The
// mid-session sniff window is 8 KiB instead of 64: inferring a channel scans the
// window once per hypothesis, which would take most of the time here
// (fuzz_framing runs the default window too).
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "capture/importer.hpp"

namespace {

using namespace sc::capture;  // NOLINT

class DiscardingSink : public ConnectionSink {
 public:
  void on_open(const ConnectionInfo&) override {}
  void on_frame(const ConnectionInfo&, const sc::framing::Frame& f, const sc::framing::ChannelState&) override {
    for (uint8_t b : f.wire) sum_ += b;
    if (!f.body.empty()) sum_ += f.body.front() + f.body.back();
  }
  void on_problem(const ConnectionInfo&, const sc::framing::Problem&, const sc::framing::ChannelState&) override {}
  void on_close(const ConnectionInfo&, const sc::framing::ChannelState&, uint64_t) override {}
  uint64_t sum() const { return sum_; }

 private:
  uint64_t sum_ = 0;
};

// Keeps the reads of every frame byte from being optimised away.
volatile uint64_t frame_bytes_sum = 0;

// One in-memory file for the whole run, rewritten for every input.
const std::string& memory_file(const uint8_t* data, size_t size) {
  static const int fd = memfd_create("fuzz_pcap", 0);
  static const std::string path = "/proc/self/fd/" + std::to_string(fd);
  if (fd < 0 || ftruncate(fd, 0) != 0) {
    std::perror("fuzz_pcap: memfd");
    std::abort();
  }
  for (size_t done = 0; done < size;) {
    const ssize_t n = pwrite(fd, data + done, size - done, static_cast<off_t>(done));
    if (n <= 0) {
      std::perror("fuzz_pcap: pwrite");
      std::abort();
    }
    done += static_cast<size_t>(n);
  }
  return path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string& path = memory_file(data, size);

  // Pass 1: packets through parse_tcp alone; the first segment names the server port.
  ImportOptions options;
  options.framer.sniff_bytes = 8u << 10;
  {
    auto src = PacketSource::open_file(path);
    if (!src) return 0;
    Packet p;
    while ((*src)->next(p)) {
      const auto seg = parse_tcp((*src)->linktype(), p.data);
      if (!seg || seg->fragment) continue;
      if (seg->payload.data() < p.data.data() || seg->payload.data() + seg->payload.size() > p.data.data() + p.data.size()) {
        std::fprintf(stderr, "fuzz_pcap: parse_tcp gave a payload outside the frame\n");
        std::abort();
      }
      if (options.ports.empty()) options.ports.push_back(seg->dst.port);
    }
  }

  // Pass 2: the import pipeline.
  auto src = PacketSource::open_file(path);
  if (!src) return 0;
  DiscardingSink sink;
  Importer importer(sink, options);
  Packet p;
  while ((*src)->next(p)) importer.add_packet((*src)->linktype(), p);
  importer.finish();
  frame_bytes_sum = sink.sum();
  return 0;
}
