#pragma once
// Deterministic random numbers for workloads. The standard distributions are
// implementation-defined, so "same seed => same command sequence" would not hold
// across standard libraries; this is splitmix64 with our own range helpers.
#include <cstdint>

namespace sc::qxl {

class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}

  uint64_t next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  // Uniform in [lo, hi] (inclusive). Modulo bias is irrelevant for workloads.
  int32_t range(int32_t lo, int32_t hi) {
    if (hi <= lo) return lo;
    return lo + int32_t(next() % uint64_t(int64_t(hi) - lo + 1));
  }
  bool chance(uint32_t percent) { return next() % 100 < percent; }
  uint32_t color() { return uint32_t(next() & 0xffffff); }

 private:
  uint64_t state_;
};

// Stateless hash of coordinates, for procedural images that must not depend on
// the order in which pixels are generated.
inline uint32_t hash32(uint32_t a, uint32_t b = 0, uint32_t c = 0) {
  uint64_t h = a * 0x9e3779b1ULL ^ (uint64_t(b) * 0x85ebca77ULL) ^ (uint64_t(c) * 0xc2b2ae3dULL);
  h ^= h >> 29;
  h *= 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 32;
  return uint32_t(h);
}

}  // namespace sc::qxl
