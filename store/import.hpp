#pragma once
// `spice-capture import`: one capture file into the store, through the decode stage
// (capture::DecodeFanout) and the StoreWriter.
//
// The import commits as it goes (WAL, at least once a second), so other processes
// can query the database while a long import runs. The capture's row says how it
// ended: 'complete', or 'interrupted' when cancelled (everything decoded up to then
// is kept), or, for a killed process, still 'importing' with what was committed.
// A file that is not a capture, or holds no SPICE, leaves no trace.
#include <atomic>
#include <functional>

#include "capture/importer.hpp"
#include "store/database.hpp"

namespace sc::store {

struct ImportProgress {
  uint64_t bytes_done = 0, bytes_total = 0;
  uint64_t messages = 0;
};

struct ImportControl {
  std::function<void(const ImportProgress&)> progress;  // called every few MB of capture
  const std::atomic<bool>* cancel = nullptr;           // set (e.g. by SIGINT) to stop early
};

struct ImportSummary {
  int64_t capture_id = 0;
  capture::ImportStats stats;
  uint64_t messages = 0;
  uint64_t problems = 0;
  bool no_spice = false;     // nothing SPICE in the file: nothing was written
  bool interrupted = false;  // cancelled: what was read so far is stored
};

Result<ImportSummary> import_capture(Database& db, const std::string& path, const capture::ImportOptions& options,
                                     const ImportControl& control = {});

}  // namespace sc::store
