#pragma once
// The simulated sound card's source: a sine tone (with a slow warble so
// successive buffers differ) as interleaved stereo S16 frames packed in uint32,
// the layout SpicePlaybackInterface buffers use. Deterministic in frame count.
#include <cstdint>
#include <span>

namespace sc::qxl {

class ToneGenerator {
 public:
  explicit ToneGenerator(uint32_t rate = 48000, double hz = 440.0, double volume = 0.2)
      : rate_(rate), hz_(hz), volume_(volume) {}

  void set_rate(uint32_t rate) { rate_ = rate; }
  uint32_t rate() const { return rate_; }
  void fill(std::span<uint32_t> frames);
  uint64_t frames_generated() const { return position_; }

 private:
  uint32_t rate_;
  double hz_;
  double volume_;
  double phase_ = 0;
  uint64_t position_ = 0;
};

}  // namespace sc::qxl
