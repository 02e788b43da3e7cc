#pragma once
// A ConnectionSink that writes down what the importer tells it, for the capture
// tests (unit and integration): they look at the importer through its interface
// only, not through the store.
#include <map>
#include <string>
#include <vector>

#include "capture/importer.hpp"

namespace sc::test {

struct RecordedProblem {
  uint32_t conn = 0;
  std::string code;
  schema::Direction dir = schema::Direction::C2S;
  uint64_t stream_offset = 0;
  uint64_t ts_ns = 0;
  std::string text;
};

struct RecordedConnection {
  capture::ConnectionInfo info;
  bool open = false, closed = false;
  uint64_t close_ts = 0;
  uint64_t frames[2] = {0, 0};  // c2s, s2c
  uint64_t frame_bytes[2] = {0, 0};
  std::map<std::string, uint64_t> names;  // message name -> count
  uint8_t channel_type = 0;
  bool channel_midstream = false;
  int tls_calls = 0;
  capture::TlsInfo tls;
  std::vector<std::string> order;  // "open", "tls", "close": the calls as they came
};

class RecordingSink : public capture::ConnectionSink {
 public:
  void on_open(const capture::ConnectionInfo& c) override {
    auto& r = conns[c.id];
    r.info = c;
    r.open = true;
    r.order.push_back("open");
    opened.push_back(c.id);
  }
  void on_frame(const capture::ConnectionInfo& c, const framing::Frame& f, const framing::ChannelState&) override {
    auto& r = conns[c.id];
    const int d = f.dir == schema::Direction::C2S ? 0 : 1;
    ++r.frames[d];
    r.frame_bytes[d] += f.wire.size();
    if (f.def) ++r.names[f.def->full_name];
  }
  void on_problem(const capture::ConnectionInfo& c, const framing::Problem& p, const framing::ChannelState&) override {
    problems.push_back({c.id, p.code, p.dir, p.stream_offset, p.ts_ns, p.text});
  }
  void on_channel_known(const capture::ConnectionInfo& c, const framing::ChannelState& s) override {
    auto& r = conns[c.id];
    r.channel_type = s.channel_type;
    r.channel_midstream = s.midstream;
  }
  void on_tls(const capture::ConnectionInfo& c, const capture::TlsInfo& t) override {
    auto& r = conns[c.id];
    ++r.tls_calls;
    r.tls = t;
    r.order.push_back("tls");
  }
  void on_close(const capture::ConnectionInfo& c, const framing::ChannelState& s, uint64_t ts) override {
    auto& r = conns[c.id];
    r.closed = true;
    r.close_ts = ts;
    if (s.channel_type) r.channel_type = s.channel_type;
    r.order.push_back("close");
    closed.push_back(c.id);
  }

  size_t count(const std::string& code) const {
    size_t n = 0;
    for (const auto& p : problems) n += p.code == code;
    return n;
  }

  std::map<uint32_t, RecordedConnection> conns;
  std::vector<uint32_t> opened, closed;
  std::vector<RecordedProblem> problems;
};

}  // namespace sc::test
