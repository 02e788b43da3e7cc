#pragma once
// Plain geometry for the simulated guest: rectangles in surface pixels.
// Rect is (x, y, w, h) because workloads think in sizes; QXL wants
// (top, left, bottom, right), which to_qxl() produces at the device edge.
#include <algorithm>
#include <cstdint>

#include <spice/qxl_dev.h>

namespace sc::qxl {

struct Point {
  int32_t x = 0;
  int32_t y = 0;
  friend bool operator==(const Point&, const Point&) = default;
};

struct Size {
  uint32_t width = 0;
  uint32_t height = 0;
  friend bool operator==(const Size&, const Size&) = default;
};

struct Rect {
  int32_t x = 0;
  int32_t y = 0;
  int32_t w = 0;
  int32_t h = 0;

  int32_t right() const { return x + w; }
  int32_t bottom() const { return y + h; }
  bool empty() const { return w <= 0 || h <= 0; }
  friend bool operator==(const Rect&, const Rect&) = default;

  Rect intersect(const Rect& o) const {
    const int32_t l = std::max(x, o.x), t = std::max(y, o.y);
    const int32_t r = std::min(right(), o.right()), b = std::min(bottom(), o.bottom());
    if (r <= l || b <= t) return Rect{l, t, 0, 0};
    return Rect{l, t, r - l, b - t};
  }
  bool contains(const Rect& o) const {
    return o.x >= x && o.y >= y && o.right() <= right() && o.bottom() <= bottom();
  }
  static Rect of(Size s) { return Rect{0, 0, int32_t(s.width), int32_t(s.height)}; }
};

inline QXLRect to_qxl(const Rect& r) {
  QXLRect q;
  q.top = r.y;
  q.left = r.x;
  q.bottom = r.bottom();
  q.right = r.right();
  return q;
}

}  // namespace sc::qxl
