// decode_throughput: the decode stage of `spice-capture import` (the same
// capture::DecodeFanout), timed without the store:
// packets -> TCP reassembly -> framing -> every message decoded (and rendered as
// JSON with --json; with --frames-only, only framed and named, the work
// `tshark -T fields -e spice.message_type` asks for), with no database. Prints
// one JSON line with bytes, messages and seconds.
//
//   decode_throughput FILE.pcap [--json | --frames-only] [--port P]
#include <chrono>
#include <cstdio>
#include <cstring>

#include "capture/decode_fanout.hpp"

namespace {

// Counts and, with --json, renders what the shared decode stage hands out.
class CountingConsumer : public sc::capture::FrameConsumer {
 public:
  explicit CountingConsumer(bool json) : json_(json) {}
  void on_frame(const sc::capture::ConnectionInfo&, const sc::framing::Frame&, const sc::framing::ChannelState&,
                const sc::decode::DecodedFrame& d) override {
    ++messages;
    d.for_each_diagnostic([&](const sc::decode::Diagnostic&, uint32_t) { ++problems; });
    if (!json_) return;
    out_.clear();
    sc::decode::append_frame_json(d, out_);
    json_bytes += out_.size();
  }
  void on_problem(const sc::capture::ConnectionInfo&, const sc::framing::Problem&,
                  const sc::framing::ChannelState&) override {
    ++problems;
  }

  uint64_t messages = 0, problems = 0, json_bytes = 0;

 private:
  bool json_;
  std::string out_;
};

enum class Depth { Frames, Fields, Json };

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s FILE.pcap [--port P]\n", argv[0]);
    return 2;
  }
  sc::capture::ImportOptions options;
  auto depth = Depth::Fields;
  for (int i = 2; i < argc; ++i) {
    if (std::strcmp(argv[i], "--json") == 0) depth = Depth::Json;
    else if (std::strcmp(argv[i], "--frames-only") == 0) depth = Depth::Frames;
    else if (std::strcmp(argv[i], "--port") == 0 && i + 1 < argc) options.ports.push_back(static_cast<uint16_t>(std::atoi(argv[++i])));
  }
  CountingConsumer sink(depth == Depth::Json);
  sc::capture::DecodeFanout fanout({&sink}, depth != Depth::Frames);
  const auto start = std::chrono::steady_clock::now();
  auto stats = sc::capture::import_file(argv[1], fanout, options);
  fanout.finish();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!stats) {
    std::fprintf(stderr, "decode_throughput: %s\n", stats.error().message.c_str());
    return 1;
  }
  static constexpr const char* kDepth[] = {"frames", "fields", "json"};
  std::printf("{\"depth\":\"%s\",\"file_bytes\":%llu,\"messages\":%llu,\"problems\":%llu,\"seconds\":%.4f,\"mb_per_s\":%.1f}\n",
              kDepth[static_cast<int>(depth)], static_cast<unsigned long long>(stats->file_bytes),
              static_cast<unsigned long long>(sink.messages),
              static_cast<unsigned long long>(sink.problems), seconds, stats->file_bytes / 1048576.0 / seconds);
  return 0;
}
