#pragma once
// Measuring a tone in PCM for the audio tests: the power at one frequency by
// the Goertzel recurrence, the dominant frequency of a band by scanning it, and
// the power-weighted centre of a band (a warbling tone's mean frequency).
#include <cmath>
#include <cstdint>
#include <numbers>
#include <span>
#include <utility>
#include <vector>

namespace sc::test {

// Power of `channel` of interleaved `pcm` at `hz` (any rate, any frequency: not binned).
inline double goertzel_power(std::span<const int16_t> pcm, unsigned channels, unsigned channel, double rate,
                             double hz) {
  const double k = 2 * std::cos(2 * std::numbers::pi * hz / rate);
  double s1 = 0, s2 = 0;
  for (size_t i = channel; i < pcm.size(); i += channels) {
    const double s0 = pcm[i] + k * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  return s1 * s1 + s2 * s2 - k * s1 * s2;
}

struct Spectrum {
  double peak_hz = 0;      // the scanned frequency of most power
  double centroid_hz = 0;  // power-weighted mean over the scan
  double band_share = 0;   // power within +-band_hz of the peak over all power scanned
};

// Scans [lo, hi] in `step` Hz over channel `channel`.
inline Spectrum scan(std::span<const int16_t> pcm, unsigned channels, unsigned channel, double rate, double lo,
                     double hi, double step, double band_hz) {
  Spectrum out;
  std::vector<std::pair<double, double>> powers;  // (hz, power)
  double best = -1, total = 0, weighted = 0;
  for (double f = lo; f <= hi; f += step) {
    const double p = goertzel_power(pcm, channels, channel, rate, f);
    powers.emplace_back(f, p);
    total += p;
    weighted += p * f;
    if (p > best) {
      best = p;
      out.peak_hz = f;
    }
  }
  double band = 0;
  for (const auto& [f, p] : powers) {
    if (std::abs(f - out.peak_hz) <= band_hz) band += p;
  }
  out.centroid_hz = total > 0 ? weighted / total : 0;
  out.band_share = total > 0 ? band / total : 0;
  return out;
}

}  // namespace sc::test
