#pragma once
// The simulated sound card: a playback device fed with a generated tone and a
// record (microphone) device whose samples are consumed and counted.
// libspice-server does not pace playback (get_buffer hands out a buffer whenever
// one is free), so a 10 ms timer computes how many frames wall-clock time owes
// and only then fills buffers; with no client, time advances and nothing is sent.
#include <chrono>
#include <cstdint>
#include <vector>

#include <spice.h>

#include "qxl-sim/events.hpp"
#include "qxl-sim/tone.hpp"

namespace sc::server {

class Audio {
 public:
  struct Counters {
    uint64_t playback_frames = 0;  // stereo frames handed to the server
    uint64_t playback_buffers = 0;
    uint64_t record_frames = 0;    // stereo frames read from clients
  };

  explicit Audio(qxl::EventSink events);
  ~Audio();
  Audio(const Audio&) = delete;
  Audio& operator=(const Audio&) = delete;

  SpiceBaseInstance* playback() { return &playback_.base; }
  SpiceBaseInstance* record() { return &record_.base; }
  // After add_interface for both: set rates, start streams and the pacing timer.
  void start();
  Counters counters() const { return counters_; }

 private:
  static int on_tick(void* self);
  void tick();

  static const SpicePlaybackInterface kPlayback;
  static const SpiceRecordInterface kRecord;
  SpicePlaybackInstance playback_{};
  SpiceRecordInstance record_{};
  qxl::EventSink events_;
  qxl::ToneGenerator tone_;
  std::chrono::steady_clock::time_point started_;
  uint64_t frames_due_done_ = 0;
  std::vector<uint32_t> record_buffer_;
  unsigned timer_ = 0;
  bool record_active_reported_ = false;
  Counters counters_;
};

}  // namespace sc::server
