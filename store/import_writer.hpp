#pragma once
// Writes what the importer finds into the store: one channel row per SPICE
// connection, one message row per frame (raw bytes + decoded fields as JSON), one
// problem row per framing or decoding diagnostic, sessions grouped by session id.
#include <memory>

#include "capture/importer.hpp"
#include "dissect/decode/decoded.hpp"
#include "store/database.hpp"

namespace sc::store {

// Decoding and rendering run on the importing thread; the SQLite work runs on a
// worker thread of its own, so the two overlap on a multi-core machine. Call
// finish() before committing: it drains the queue and stops the worker.
class ImportWriter : public capture::ConnectionSink {
 public:
  ImportWriter(Database& db, int64_t capture_id, bool redact = false);
  ~ImportWriter() override;
  ImportWriter(const ImportWriter&) = delete;
  ImportWriter& operator=(const ImportWriter&) = delete;

  void on_open(const capture::ConnectionInfo& c) override;
  void on_frame(const capture::ConnectionInfo& c, const framing::Frame& f, const framing::ChannelState& s) override;
  void on_problem(const capture::ConnectionInfo& c, const framing::Problem& p, const framing::ChannelState& s) override;
  void on_channel_known(const capture::ConnectionInfo& c, const framing::ChannelState& s) override;
  void on_close(const capture::ConnectionInfo& c, const framing::ChannelState& s, uint64_t ts) override;

  // Waits until everything queued is written. The counters and status are final after it.
  void finish();
  // The first database error seen (callbacks cannot return one), or success.
  const Result<void>& status() const;
  uint64_t messages() const;
  uint64_t problems() const;

 private:
  struct Op;     // one sink callback with everything it needs, owned
  struct Rows;   // the SQLite side (worker thread)
  struct Queue;  // batches of operations between the two threads
  void push(Op&& op);

  std::unique_ptr<Rows> rows_;
  std::unique_ptr<Queue> queue_;
  decode::DecodedMessage decoded_;
  bool redact_;
};

struct ImportSummary {
  int64_t capture_id = 0;
  capture::ImportStats stats;
  uint64_t messages = 0;
  uint64_t problems = 0;
  bool no_spice = false;  // nothing SPICE in the file: nothing was written
};

// Imports one capture file in a single transaction: on any failure the database
// is left exactly as it was. A truncated file is imported up to the cut
// (stats.truncated tells). A file without SPICE leaves no trace (no_spice).
Result<ImportSummary> import_capture(Database& db, const std::string& path, const capture::ImportOptions& options,
                                     const capture::ProgressFn& progress = {});

}  // namespace sc::store
