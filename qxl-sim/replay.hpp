#pragma once
// QXL-level replay of libspice-server record files (SPICE_WORKER_RECORD_FILENAME,
// format "SPICE_REPLAY 1"): the commands a guest driver gave the worker, with
// their memory, plus device messages such as primary surface creation.
//
// RecordFile indexes the file once with our own scanner: the monotonic
// timestamp of every recorded QXL command ("event <n> 0 <type> <ns>"), skipping
// binary blobs by their declared size. Replayer then feeds the commands through
// libspice-server's own spice_replay_* reader (which also re-creates surfaces on
// our device) and pushes them at the recorded pace scaled by `speed`
// (1 = as recorded, 2 = twice as fast, 0 = as fast as the rings drain).
// spice_replay_next_cmd blocks on the worker, so it runs on the main thread only.
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "qxl-sim/device.hpp"
#include "qxl-sim/events.hpp"

namespace sc::qxl {

struct RecordIndex {
  uint64_t events = 0;
  std::vector<uint64_t> command_times_ns;  // one per QXL command, in file order
  std::vector<uint32_t> command_types;     // QXL_CMD_*
  uint64_t device_messages = 0;
  std::string error;                       // set if the file ends mid-record
};

// Scans a record file; `error` is set for a bad header or truncated blob.
RecordIndex index_record(std::FILE* f);

class RecordFile {
 public:
  struct Opened {
    std::unique_ptr<RecordFile> file;
    std::string error;
  };
  static Opened open(const std::string& path);
  RecordFile() = default;
  ~RecordFile();
  RecordFile(const RecordFile&) = delete;
  RecordFile& operator=(const RecordFile&) = delete;

  std::FILE* stream() { return file_; }
  // spice_replay_free() closes the stream it was given: hand ownership over.
  void release_stream() { file_ = nullptr; }
  const RecordIndex& index() const { return index_; }
  const std::string& path() const { return path_; }

 private:
  std::FILE* file_ = nullptr;
  std::string path_;
  RecordIndex index_;
};

class Replayer {
 public:
  struct Stats {
    uint64_t commands = 0;
    bool finished = false;
  };

  Replayer(Device& device, std::unique_ptr<RecordFile> file, double speed, EventSink events);
  ~Replayer();
  Replayer(const Replayer&) = delete;
  Replayer& operator=(const Replayer&) = delete;

  void start();
  void stop();
  Stats stats() const { return stats_; }

 private:
  static int on_timer(void* self);
  void pump();
  void schedule(unsigned ms);

  Device& device_;
  std::unique_ptr<RecordFile> file_;
  double speed_;
  EventSink events_;
  SpiceReplay* replay_ = nullptr;
  CommandPtr pending_;
  int64_t start_us_ = 0;
  unsigned timer_ = 0;
  Stats stats_;
};

}  // namespace sc::qxl
