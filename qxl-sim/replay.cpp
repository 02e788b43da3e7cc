#include "qxl-sim/replay.hpp"

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstring>
#include <memory>

#include <glib.h>

namespace sc::qxl {
namespace {

// Reads one text line (without the newline); false at end of file.
bool read_line(std::FILE* f, std::string& line) {
  line.clear();
  int c;
  while ((c = std::fgetc(f)) != EOF) {
    if (c == '\n') return true;
    line.push_back(char(c));
    // A blob header ends at ':' and raw bytes follow on the same "line".
    if (c == ':' && line.rfind("binary ", 0) == 0) return true;
  }
  return !line.empty();
}

}  // namespace

RecordIndex index_record(std::FILE* f) {
  RecordIndex idx;
  std::string line;
  if (!read_line(f, line) || line.rfind("SPICE_REPLAY ", 0) != 0) {
    idx.error = "not a libspice-server record file (no SPICE_REPLAY header)";
    return idx;
  }
  while (read_line(f, line)) {
    if (line.rfind("binary ", 0) == 0) {
      int zlib = 0;
      char prefix[64];
      long size = 0;
      if (std::sscanf(line.c_str(), "binary %d %63s %ld:", &zlib, prefix, &size) != 3 || size < 0) {
        idx.error = "malformed blob header: " + line.substr(0, 60);
        return idx;
      }
      if (std::fseek(f, size, SEEK_CUR) != 0) {
        idx.error = "record ends inside a blob";
        return idx;
      }
      continue;
    }
    if (line.rfind("event ", 0) == 0) {
      unsigned long long counter = 0, ts = 0;
      unsigned what = 0, type = 0;
      if (std::sscanf(line.c_str(), "event %llu %u %u %llu", &counter, &what, &type, &ts) == 4) {
        ++idx.events;
        if (what == 0) {
          idx.command_times_ns.push_back(ts);
          idx.command_types.push_back(type);
        } else {
          ++idx.device_messages;
        }
      }
    }
  }
  return idx;
}

RecordFile::Opened RecordFile::open(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return {nullptr, "cannot open " + path + ": " + std::strerror(errno)};
  auto rf = std::make_unique<RecordFile>();
  rf->file_ = f;
  rf->path_ = path;
  rf->index_ = index_record(f);
  if (!rf->index_.error.empty() && rf->index_.events == 0) return {nullptr, path + ": " + rf->index_.error};
  std::rewind(f);
  return {std::move(rf), ""};
}

RecordFile::~RecordFile() {
  if (file_) std::fclose(file_);
}

Replayer::Replayer(Device& device, std::unique_ptr<RecordFile> file, double speed, EventSink events)
    : device_(device), file_(std::move(file)), speed_(speed), events_(std::move(events)) {}

Replayer::~Replayer() {
  stop();
  pending_.reset();  // runs spice_replay_free_cmd while replay_ is alive
  if (replay_) spice_replay_free(replay_);
}

void Replayer::start() {
  replay_ = spice_replay_new(file_->stream(), int(Device::kSurfaces));
  if (!replay_) {
    emit(events_, "replay.error", {{"message", "spice_replay_new rejected " + file_->path()}});
    stats_.finished = true;
    return;
  }
  file_->release_stream();
  const RecordIndex& idx = file_->index();
  emit(events_, "replay.started",
       {{"path", file_->path()}, {"commands", idx.command_times_ns.size()},
        {"device_messages", idx.device_messages}, {"speed", speed_},
        {"duration_s", idx.command_times_ns.size() > 1
                           ? double(idx.command_times_ns.back() - idx.command_times_ns.front()) / 1e9
                           : 0.0}});
  start_us_ = g_get_monotonic_time();
  schedule(0);
}

void Replayer::stop() {
  if (timer_) g_source_remove(timer_);
  timer_ = 0;
}

void Replayer::schedule(unsigned ms) {
  if (!timer_) timer_ = g_timeout_add(ms, &Replayer::on_timer, this);
}

int Replayer::on_timer(void* self) {
  auto* r = static_cast<Replayer*>(self);
  r->timer_ = 0;
  r->pump();
  return G_SOURCE_REMOVE;
}

void Replayer::pump() {
  const auto& times = file_->index().command_times_ns;
  for (int budget = 256; budget > 0; --budget) {
    if (device_.backlog() > 256) return schedule(5);
    if (!pending_) {
      QXLCommandExt* ext = spice_replay_next_cmd(replay_, device_.instance());
      if (!ext) {
        stats_.finished = true;
        emit(events_, "replay.finished", {{"commands", stats_.commands}});
        return;
      }
      SpiceReplay* replay = replay_;
      pending_ = Command::adopt(*ext, [replay, ext] { spice_replay_free_cmd(replay, ext); });
    }
    // Pace by the recorded timestamps relative to the first command.
    if (speed_ > 0 && stats_.commands < times.size()) {
      const double offset_us = double(times[stats_.commands] - times.front()) / 1000.0 / speed_;
      const int64_t due = start_us_ + int64_t(offset_us);
      const int64_t now = g_get_monotonic_time();
      if (due > now) return schedule(unsigned(std::max<int64_t>(1, (due - now) / 1000)));
    }
    const bool cursor = pending_->type() == QXL_CMD_CURSOR;
    if (cursor)
      device_.push_cursor(std::move(pending_));
    else
      device_.push(std::move(pending_));
    ++stats_.commands;
  }
  schedule(0);
}

}  // namespace sc::qxl
