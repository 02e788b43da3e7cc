#pragma once
// Writes decoded SPICE traffic into the store, for every source (capture files
// today, the recorder and live capture next): one channel row per connection, one
// compact message row per frame, each channel direction's bytes once, in LZ4
// chunks, one problem row per diagnostic, sessions as the session tracker finds them,
// the agent tables from each main channel and the images table from each
// session's display channels.
//
// The SQLite work runs on a worker thread; the caller's thread only copies what a
// frame needs into a batch. The worker commits at least every `commit_interval`,
// so other processes can read the database while it grows (WAL), and every
// committed message has its bytes committed with it.
#include <chrono>
#include <memory>

#include "capture/decode_fanout.hpp"
#include "store/agent_rows.hpp"
#include "store/database.hpp"
#include "store/image_rows.hpp"

namespace sc::store {

struct WriterOptions {
  schema::SecretMask redact = schema::kSecretNone;  // secret classes stored as zeros
  std::chrono::milliseconds commit_interval{1000};
  size_t chunk_bytes = 128 * 1024;  // a stream chunk is cut once it holds this much
  // Decode display images into the images table (store/image_rows.hpp). Off by
  // default: it doubles the import time of a text console's capture.
  bool images = false;
};

class StoreWriter : public capture::FrameConsumer {
 public:
  StoreWriter(Database& db, int64_t capture_id, WriterOptions options = {});
  ~StoreWriter() override;
  StoreWriter(const StoreWriter&) = delete;
  StoreWriter& operator=(const StoreWriter&) = delete;

  void on_open(const capture::ConnectionInfo& c) override;
  void on_frame(const capture::ConnectionInfo& c, const framing::Frame& f, const framing::ChannelState& s,
                const decode::DecodedFrame& d) override;
  void on_problem(const capture::ConnectionInfo& c, const framing::Problem& p, const framing::ChannelState& s) override;
  void on_channel_known(const capture::ConnectionInfo& c, const framing::ChannelState& s) override;
  void on_tls(const capture::ConnectionInfo& c, const capture::TlsInfo& t) override;
  void on_close(const capture::ConnectionInfo& c, const framing::ChannelState& s, uint64_t ts) override;
  void on_channel_joined(uint32_t connection, session::Session& s) override;
  void on_session_end(session::Session& s) override;

  // Hands everything framed so far to the worker, open stream chunks included. A
  // live source (the recorder, live capture) calls it a few times a second so
  // that quiet traffic still reaches the database within a commit interval; a
  // file import never needs it (batches fill up).
  void flush();
  // Writes everything queued, commits, and stops the worker. Counters and status are
  // final after it; the database is the caller's again.
  void finish();
  // The first database error seen (callbacks cannot return one), or success.
  const Result<void>& status() const;
  uint64_t messages() const;
  uint64_t problems() const;

 private:
  struct Op;
  struct Batch;
  struct Rows;
  struct Queue;
  struct Building;  // a stream chunk being filled
  Op& push(uint8_t kind, const capture::ConnectionInfo& c);
  void seal(Building& b);
  void push_session(uint8_t kind, uint32_t connection, const session::Session& s);
  void hand_over();
  void push_agent(uint32_t conn, AgentRow row);
  ImageFeed* image_feed(uint32_t conn);

  std::unique_ptr<Rows> rows_;
  std::unique_ptr<Queue> queue_;
  WriterOptions options_;
};

}  // namespace sc::store
