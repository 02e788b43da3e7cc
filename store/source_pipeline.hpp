#pragma once
// What every source of packets shares on its way into the store (a capture file
// for `import`, an interface for `capture`, later the recorder): its captures row,
// from 'importing' to how it ended, and the decode stage behind it (DecodeFanout
// -> StoreWriter, with a frame counter for progress lines).
#include <atomic>
#include <optional>
#include <string>
#include <string_view>

#include "capture/decode_fanout.hpp"
#include "capture/packet_source.hpp"
#include "store/database.hpp"
#include "store/store_writer.hpp"

namespace sc::store {

// The captures row's `options` as JSON: ports and redaction; for a live capture also
// its filter and snap length.
std::string options_json(const capture::ImportOptions& options);
std::string options_json(const capture::ImportOptions& options, std::string_view filter, int snaplen);

struct CaptureStart {
  std::string_view source;  // 'file', 'proxy', 'live'
  std::string path;         // the file, the proxy's listen address, the interface
  std::string options;      // options_json()
  std::optional<int> linktype;          // when known before the first packet (live)
  std::optional<uint64_t> first_ts_ns;  // when known before the first packet (live: when it started)
};
// Inserts the row, status 'importing'; returns its id.
Result<int64_t> insert_capture(Database& db, const CaptureStart& start);

struct CaptureEnd {
  std::string_view status;  // 'complete' or 'interrupted'
  int linktype = 0;
  std::optional<uint64_t> file_bytes;
  uint64_t packets = 0;
  uint64_t first_ts_ns = 0, last_ts_ns = 0;
  bool truncated = false;
  uint64_t skipped_tcp = 0;
  std::optional<capture::CaptureStats> counters;  // live captures: libpcap's counters
};
// Writes how the capture ended into its row (no transaction: the caller's).
Result<void> update_capture(Database& db, int64_t capture_id, const CaptureEnd& end);

// The decode stage of one capture: hand sink() to a capture::Importer, then finish().
class DecodePipeline {
 public:
  DecodePipeline(Database& db, int64_t capture_id, const capture::ImportOptions& options);
  // With the writer's options given, and more consumers after the writer (the
  // recorder's migration watch and session counter).
  DecodePipeline(Database& db, int64_t capture_id, const WriterOptions& writer,
                 const std::vector<capture::FrameConsumer*>& more);
  DecodePipeline(const DecodePipeline&) = delete;
  DecodePipeline& operator=(const DecodePipeline&) = delete;

  capture::ConnectionSink& sink() { return fanout_; }
  // Hands what was framed so far to the store writer (live sources, a few times a second).
  void flush() { writer_.flush(); }
  // A problem found by a consumer, stored like the framer's (decoding thread only).
  void report(const capture::ConnectionInfo& c, const framing::Problem& p, const framing::ChannelState& s) {
    writer_.on_problem(c, p, s);
  }
  // Ends the open sessions and writes everything out; the database is the caller's again.
  Result<void> finish();
  // Frames decoded so far (any thread).
  uint64_t frames() const { return counter_.frames.load(std::memory_order_relaxed); }
  uint64_t messages() const { return writer_.messages(); }
  uint64_t problems() const { return writer_.problems(); }

 private:
  // Counts frames on the decoding thread, for progress lines.
  struct FrameCounter : capture::FrameConsumer {
    void on_frame(const capture::ConnectionInfo&, const framing::Frame&, const framing::ChannelState&,
                  const decode::DecodedFrame&) override {
      frames.fetch_add(1, std::memory_order_relaxed);
    }
    std::atomic<uint64_t> frames{0};
  };
  FrameCounter counter_;
  StoreWriter writer_;
  capture::DecodeFanout fanout_;
};

}  // namespace sc::store
