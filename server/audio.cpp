#include "server/audio.hpp"

#include "server/interface_base.hpp"

#include <glib.h>

namespace sc::server {

const SpicePlaybackInterface Audio::kPlayback = [] {
  auto i = interface_with_base<SpicePlaybackInterface>(SPICE_INTERFACE_PLAYBACK, "spice-capture playback", SPICE_INTERFACE_PLAYBACK_MAJOR, SPICE_INTERFACE_PLAYBACK_MINOR);
  return i;
}();

const SpiceRecordInterface Audio::kRecord = [] {
  auto i = interface_with_base<SpiceRecordInterface>(SPICE_INTERFACE_RECORD, "spice-capture record", SPICE_INTERFACE_RECORD_MAJOR, SPICE_INTERFACE_RECORD_MINOR);
  return i;
}();

Audio::Audio(qxl::EventSink events) : events_(std::move(events)), record_buffer_(4800) {
  playback_.base.sif = &kPlayback.base;
  record_.base.sif = &kRecord.base;
}

Audio::~Audio() {
  if (timer_) g_source_remove(timer_);
  if (playback_.st) spice_server_playback_stop(&playback_);
  if (record_.st) spice_server_record_stop(&record_);
}

void Audio::start() {
  const uint32_t rate = spice_server_get_best_playback_rate(&playback_);
  spice_server_set_playback_rate(&playback_, rate);
  tone_.set_rate(rate);
  spice_server_set_record_rate(&record_, spice_server_get_best_record_rate(&record_));
  spice_server_playback_start(&playback_);
  spice_server_record_start(&record_);
  started_ = std::chrono::steady_clock::now();
  timer_ = g_timeout_add(10, &Audio::on_tick, this);
  qxl::emit(events_, "audio.started", {{"playback_rate", rate}});
}

int Audio::on_tick(void* self) {
  static_cast<Audio*>(self)->tick();
  return G_SOURCE_CONTINUE;
}

void Audio::tick() {
  // Playback: send what wall-clock time owes, one server buffer at a time.
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  const auto due = uint64_t(elapsed * tone_.rate());
  while (frames_due_done_ < due) {
    uint32_t* samples = nullptr;
    uint32_t n = 0;
    spice_server_playback_get_buffer(&playback_, &samples, &n);
    if (!samples || n == 0) {
      frames_due_done_ = due;  // nobody listens: let time pass
      break;
    }
    tone_.fill(std::span<uint32_t>(samples, n));
    spice_server_playback_put_samples(&playback_, samples);
    frames_due_done_ += n;
    counters_.playback_frames += n;
    ++counters_.playback_buffers;
  }
  // Record: drain whatever a client's microphone sent.
  for (;;) {
    const uint32_t got = spice_server_record_get_samples(&record_, record_buffer_.data(),
                                                        uint32_t(record_buffer_.size()));
    if (got == 0) break;
    counters_.record_frames += got;
    if (!record_active_reported_) {
      record_active_reported_ = true;
      qxl::emit(events_, "audio.record_data");
    }
  }
}

}  // namespace sc::server
