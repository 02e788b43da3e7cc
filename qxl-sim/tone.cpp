#include "qxl-sim/tone.hpp"

#include <cmath>
#include <numbers>

namespace sc::qxl {

void ToneGenerator::fill(std::span<uint32_t> frames) {
  for (uint32_t& f : frames) {
    const double t = double(position_++) / rate_;
    const double hz = hz_ * (1.0 + 0.02 * std::sin(2 * std::numbers::pi * 0.5 * t));
    phase_ += 2 * std::numbers::pi * hz / rate_;
    if (phase_ > 2 * std::numbers::pi) phase_ -= 2 * std::numbers::pi;
    const auto s = int16_t(std::lround(32767 * volume_ * std::sin(phase_)));
    const uint16_t u = uint16_t(s);
    f = uint32_t(u) | (uint32_t(u) << 16);  // left | right
  }
}

}  // namespace sc::qxl
