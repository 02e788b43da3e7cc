#pragma once
// `spice-capture record`: the recording proxy into the store. The relay
// (capture::Relay) forwards every channel connection of every session to the real
// server; what it relays goes through the same decode stage and store writer as
// `import` (capture::RecordingPipe -> DecodeFanout -> StoreWriter), into one
// `captures` row with source 'proxy'.
//
// The database is readable while the recording runs: the writer is flushed four
// times a second and commits at least once a second (WAL), so a recorder killed
// with SIGKILL leaves a consistent database holding all but the last second or
// so. The row's status is 'importing' while recording and 'complete' once the
// recorder has stopped (cancel flag, duration, or the number of sessions asked for).
#include <atomic>
#include <chrono>
#include <functional>
#include <optional>

#include "capture/relay.hpp"
#include "store/database.hpp"

namespace sc::store {

struct RecordOptions {
  capture::RelayOptions relay;
  schema::SecretMask redact = schema::kSecretNone;
  std::optional<std::chrono::milliseconds> duration;  // stop after this long
  uint64_t sessions = 0;                               // stop once this many sessions have ended; 0 = never
  // With the flush every 250 ms, nothing relayed is older than a second when the
  // recorder is killed.
  std::chrono::milliseconds commit_interval{750};
};

struct RecordStatus {
  uint64_t connections = 0, open = 0, refused = 0;
  uint64_t bytes[2] = {0, 0};
  uint64_t messages = 0;
  uint64_t sessions_ended = 0;
  double seconds = 0;
};

struct RecordControl {
  const std::atomic<bool>* cancel = nullptr;
  // Once the ports are bound, before any connection is accepted.
  std::function<void(uint16_t plain_port, uint16_t tls_port)> listening;
  std::function<void(const RecordStatus&)> status;  // about once a second
  // Things the user should know as they happen: refused connections, migration.
  std::function<void(const std::string&)> notice;
};

struct RecordSummary {
  int64_t capture_id = 0;
  RecordStatus totals;
  uint64_t problems = 0;
  uint64_t abrupt_ends = 0;
  size_t peak_queued_bytes = 0;
};

Result<RecordSummary> record(Database& db, const RecordOptions& options, const RecordControl& control = {});

}  // namespace sc::store
