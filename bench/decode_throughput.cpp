// decode_throughput: the decode-only path of `spice-capture import`, timed:
// packets -> TCP reassembly -> framing -> every message decoded (and rendered as
// JSON with --json; with --frames-only, only framed and named, the work
// `tshark -T fields -e spice.message_type` asks for), with no database. Prints
// one JSON line with bytes, messages and seconds.
//
//   decode_throughput FILE.pcap [--json | --frames-only] [--port P]
#include <chrono>
#include <cstdio>
#include <cstring>

#include "capture/importer.hpp"
#include "dissect/decode/decoder.hpp"
#include "dissect/decode/json.hpp"

namespace {

class DecodeSink : public sc::capture::ConnectionSink {
 public:
  enum class Depth { Frames, Fields, Json };
  explicit DecodeSink(Depth depth) : depth_(depth) {}
  void on_open(const sc::capture::ConnectionInfo&) override {}
  void on_frame(const sc::capture::ConnectionInfo&, const sc::framing::Frame& f,
                const sc::framing::ChannelState& s) override {
    ++messages;
    if (!f.def || depth_ == Depth::Frames) return;
    sc::decode::decode_message(*f.def, f.body, f.def->is_link() ? sc::decode::NegotiatedCaps{} : s.negotiated, decoded_);
    problems += decoded_.diagnostics.size();
    if (depth_ != Depth::Json) return;
    json_.clear();
    sc::decode::append_json(decoded_, f.body, json_);
    json_bytes += json_.size();
  }
  void on_problem(const sc::capture::ConnectionInfo&, const sc::framing::Problem&,
                  const sc::framing::ChannelState&) override {
    ++problems;
  }
  void on_close(const sc::capture::ConnectionInfo&, const sc::framing::ChannelState&, uint64_t) override {}

  uint64_t messages = 0, problems = 0, json_bytes = 0;

 private:
  Depth depth_;
  sc::decode::DecodedMessage decoded_;
  std::string json_;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s FILE.pcap [--port P]\n", argv[0]);
    return 2;
  }
  sc::capture::ImportOptions options;
  auto depth = DecodeSink::Depth::Fields;
  for (int i = 2; i < argc; ++i) {
    if (std::strcmp(argv[i], "--json") == 0) depth = DecodeSink::Depth::Json;
    else if (std::strcmp(argv[i], "--frames-only") == 0) depth = DecodeSink::Depth::Frames;
    else if (std::strcmp(argv[i], "--port") == 0 && i + 1 < argc) options.ports.push_back(static_cast<uint16_t>(std::atoi(argv[++i])));
  }
  DecodeSink sink(depth);
  const auto start = std::chrono::steady_clock::now();
  auto stats = sc::capture::import_file(argv[1], sink, options);
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
