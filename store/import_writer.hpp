#pragma once
// Writes what the importer finds into the store: one channel row per SPICE
// connection, one message row per frame (raw bytes + decoded fields as JSON), one
// problem row per framing or decoding diagnostic, sessions grouped by session id.
#include <unordered_map>

#include "capture/importer.hpp"
#include "dissect/decode/decoded.hpp"
#include "store/database.hpp"

namespace sc::store {

class ImportWriter : public capture::ConnectionSink {
 public:
  ImportWriter(Database& db, int64_t capture_id);

  void on_open(const capture::ConnectionInfo& c) override;
  void on_frame(const capture::ConnectionInfo& c, const framing::Frame& f, const framing::ChannelState& s) override;
  void on_problem(const capture::ConnectionInfo& c, const framing::Problem& p, const framing::ChannelState& s) override;
  void on_channel_known(const capture::ConnectionInfo& c, const framing::ChannelState& s) override;
  void on_close(const capture::ConnectionInfo& c, const framing::ChannelState& s, uint64_t ts) override;

  // The first database error seen (callbacks cannot return one), or success.
  const Result<void>& status() const { return status_; }
  uint64_t messages() const { return messages_; }
  uint64_t problems() const { return problems_; }

 private:
  struct Channel {
    int64_t row = 0;
    int64_t session = 0;
    uint64_t bytes[2] = {0, 0};
    uint64_t count[2] = {0, 0};
    uint64_t first_ts = 0, last_ts = 0;
  };
  int64_t session_for(uint32_t session_id, const capture::ConnectionInfo& c, uint64_t ts);
  void attach(Channel& ch, int64_t session);
  void add_problem(const Channel& ch, std::optional<int64_t> message, schema::Direction dir, uint64_t stream_offset,
                   std::optional<uint32_t> offset, decode::Severity sev, std::string_view code, std::string_view path,
                   std::string_view text);
  void check(const Result<bool>& r);

  Database& db_;
  int64_t capture_id_;
  Statement insert_channel_, update_channel_, insert_message_, insert_problem_, insert_session_, find_session_,
      touch_session_, set_channel_session_;
  std::unordered_map<uint32_t, Channel> channels_;
  std::unordered_map<uint32_t, int64_t> sessions_;
  decode::DecodedMessage decoded_;
  std::string json_;
  Result<void> status_;
  uint64_t messages_ = 0, problems_ = 0;
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
