#pragma once
// `spice-capture capture`: packets from a live interface into the store as they
// arrive, through the same decode stage and writer as `import`.
//
// The capture's row is there from the start (source 'live', path the interface),
// and everything framed is handed to the writer a few times a second, so another
// process querying the database sees a session's messages within about a second.
// Message indexes stay in place (unlike a bulk import) so those queries stay fast
// while the database grows. A killed capture leaves its row 'importing' with what
// was committed, at most about a second before the kill.
#include <atomic>
#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "capture/importer.hpp"
#include "capture/pcapng_writer.hpp"
#include "store/database.hpp"

namespace sc::store {

struct LiveProgress {
  uint64_t packets = 0, bytes = 0;  // captured (bytes as captured, after the snap length)
  uint64_t messages = 0;            // SPICE messages framed
  uint64_t spice_connections = 0;
  std::chrono::steady_clock::duration elapsed{};
  capture::CaptureStats counters;  // libpcap's, as of this call
};

struct LiveControl {
  const std::atomic<bool>* cancel = nullptr;   // set (e.g. by SIGINT) to stop: a normal end
  std::chrono::milliseconds duration{0};       // stop after this long; 0: no limit
  uint64_t max_packets = 0;                    // stop after this many packets; 0: no limit
  capture::PcapngWriter* save = nullptr;       // every captured packet is written here too
  std::function<void(const LiveProgress&)> progress;  // called at every flush
  // How often framed traffic goes to the writer (which commits at least once a
  // second); quiet sessions reach the database within about this plus a second.
  std::chrono::milliseconds flush_interval{250};
};

struct LiveSummary {
  int64_t capture_id = 0;
  capture::ImportStats stats;
  uint64_t messages = 0, problems = 0;
  uint64_t bytes = 0;  // captured bytes
  std::optional<capture::CaptureStats> counters;
  std::chrono::steady_clock::duration elapsed{};
  // The capture stopped on its own: the interface failed, or the pcapng output could
  // not be written (what came before is stored; the capture is 'interrupted').
  std::string read_error, save_error;
  bool interrupted() const { return !read_error.empty() || !save_error.empty(); }
};

// Captures from `source` (opened with capture::PacketSource::open_live) until
// cancelled, the duration or packet count is reached, or the interface fails.
// `filter` and the options go into the capture row's `options`. An error is about
// the database; problems of the capture itself are in the summary.
Result<LiveSummary> capture_live(Database& db, capture::PacketSource& source, const std::string& filter,
                                 const capture::ImportOptions& options, const LiveControl& control = {});

}  // namespace sc::store
