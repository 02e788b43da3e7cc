#pragma once
// A FrameSink for tests: remembers every frame (direction, name, offset, size)
// and every problem the framer reports.
#include <string>
#include <vector>

#include "dissect/framing/frame.hpp"

namespace sc::test {

struct Recorder : sc::framing::FrameSink {
  struct Seen {
    schema::Direction dir;
    std::string name;
    uint64_t offset;
    size_t size;
  };
  std::vector<Seen> frames;
  std::vector<sc::framing::Problem> problems;
  int known = 0;
  void on_frame(const sc::framing::Frame& f, const sc::framing::ChannelState&) override {
    frames.push_back({f.dir, f.def ? f.def->full_name : (f.undecodable ? "undecodable" : "unknown"), f.stream_offset,
                      f.wire.size()});
  }
  void on_problem(const sc::framing::Problem& p, const sc::framing::ChannelState&) override { problems.push_back(p); }
  void on_channel_known(const sc::framing::ChannelState&) override { ++known; }
  std::vector<std::string> names(schema::Direction d) const {
    std::vector<std::string> out;
    for (const auto& f : frames) if (f.dir == d) out.push_back(f.name);
    return out;
  }
};

}  // namespace sc::test
