// cursor: the cursor ring. Cycles arrow (mono), I-beam (mono, inverting) and
// round alpha shapes of changing tint, moving them along a Lissajous path and
// hiding the cursor for a while in each cycle. Pixels change only in a label.
#include <cmath>
#include <cstdio>

#include "qxl-sim/font.hpp"
#include "qxl-sim/imagery.hpp"
#include "qxl-sim/scenario.hpp"

namespace sc::qxl {
namespace {

constexpr uint32_t kBackground = 0x406040;
constexpr uint64_t kCycle = 60;  // frames per shape

class Cursor final : public Scenario {
 public:
  using Scenario::Scenario;

  void frame(uint64_t n, std::vector<Op>& out) override {
    const int32_t w = int32_t(size_.width), h = int32_t(size_.height);
    if (n == 0) {
      out.push_back(FillOp{0, Rect{0, 0, w, h}, kBackground});
      out.push_back(text(0, 10, 10, "cursor scenario", 0xffffff, kBackground));
    }
    const double t = double(n) * 0.05;
    const Point at{int32_t(w / 2 + (w / 3) * std::sin(t * 1.3)),
                   int32_t(h / 2 + (h / 3) * std::sin(t * 0.9 + 0.5))};
    const uint64_t phase = n % kCycle;
    const uint64_t shape = (n / kCycle) % 3;
    if (phase == 0) {
      CursorShapePtr s;
      if (shape == 0) s = arrow_cursor_mono(++unique_);
      else if (shape == 1) s = ibeam_cursor_mono(++unique_);
      else s = alpha_cursor(uint16_t(rng_.range(16, 48)), rng_.color() | 0x404040, ++unique_);
      out.push_back(CursorSetOp{s, at, true});
      char buf[40];
      std::snprintf(buf, sizeof buf, "shape %-5s #%03u", shape == 2 ? "alpha" : "mono",
                    unsigned(n / kCycle));
      out.push_back(text(0, 10, 26, buf, 0xffffff, kBackground));
    } else if (phase == kCycle - 10) {
      out.push_back(CursorHideOp{});
    } else if (phase < kCycle - 10) {
      out.push_back(CursorMoveOp{at});
    }
  }

 private:
  uint64_t unique_ = 0;
};

}  // namespace

std::unique_ptr<Scenario> make_cursor(uint64_t seed, Size size) {
  return std::make_unique<Cursor>(seed, size);
}

}  // namespace sc::qxl
